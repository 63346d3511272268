/* test_convert_img.h -- helpers for the image converters' tests
 * (test_convert_yolo.c, test_convert_voc.c): a converter run over a source
 * built in memory, its NDJSON tasks parsed, its places and bad items kept. */
#ifndef LP_TEST_CONVERT_IMG_H
#define LP_TEST_CONVERT_IMG_H

#include "convert.h"
#include "test_kinds.h"

typedef struct ct_out {
    lp_project project;
    lp_convert c;
    json_t *tasks; /* the emitted task bodies, in order */
    int rc;        /* run()'s */
    lp_verr e;     /* when rc is LP_EINVAL */
} ct_out;

/* Runs cv over src (lp_src_done already called) for an imageannotation
 * project with params (single-quoted JSON), labels as results when
 * results is 1; o->rc is the run's result.  ct_free releases o. */
void ct_run(const lp_converter *cv, const char *params, const lp_src *src, int results, ct_out *o);
void ct_free(ct_out *o);
/* The number at key of JSON object v, or NAN. */
double ct_num(const json_t *v, const char *key);
/* The emitted task whose unique_id is id, or NULL. */
const json_t *ct_task(const ct_out *o, const char *id);
/* An emitted task's shapes as a result (labels imported as results). */
const json_t *ct_shapes(const json_t *task);

#endif
