/* test_convert_img.c -- see test_convert_img.h. */
#include "test_convert_img.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ct_run(const lp_converter *cv, const char *params, const lp_src *src, int results, ct_out *o)
{
    memset(o, 0, sizeof *o);
    lp_verr e;
    o->project.kind = &lp_kind_imageannotation;
    if (kt_params(&lp_kind_imageannotation, params, &o->project.params, &e)) {
        fprintf(stderr, "bad params: %s: %s\n", e.field, e.message);
        abort();
    }
    o->c.project = &o->project;
    o->c.src = src;
    o->c.results = results;
    o->c.format = cv->name;
    o->rc = cv->run(&o->c, &o->e);
    o->tasks = json_array();
    const char *p = o->c.out.data, *end = p ? p + o->c.out.len : p;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        json_error_t err;
        json_t *t = json_loadb(p, (size_t)(eol - p), 0, &err);
        if (!t) {
            fprintf(stderr, "not JSON: %.*s\n", (int)(eol - p), p);
            abort();
        }
        json_array_append_new(o->tasks, t);
        p = eol + 1;
    }
}

void ct_free(ct_out *o)
{
    json_decref(o->tasks);
    json_decref(o->project.params);
    lp_convert_fini(&o->c);
}

double ct_num(const json_t *v, const char *key)
{
    const json_t *n = json_object_get(v, key);
    return json_is_number(n) ? json_number_value(n) : NAN;
}

const json_t *ct_task(const ct_out *o, const char *id)
{
    size_t i;
    const json_t *t;
    json_array_foreach(o->tasks, i, t)
    {
        const char *u = json_string_value(json_object_get(t, "unique_id"));
        if (u && !strcmp(u, id)) return t;
    }
    return NULL;
}

const json_t *ct_shapes(const json_t *task)
{
    return json_object_get(json_object_get(task, "result"), "annotations");
}
