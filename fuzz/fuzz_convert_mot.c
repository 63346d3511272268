/* fuzz_convert_mot.c -- libFuzzer driver for the MOT import
 * (convert_mot.c): the input is a sequence's gt/gt.txt, up to a NUL, then
 * its seqinfo.ini; the source also holds a video beside gt/.  Checked on
 * every input: each task it emits passes the videoannotation kind's task
 * and response checks (the rows are clipped to the frame and their
 * keyframes rebuilt, so nothing it makes may be refused), and its MOT
 * export (export_video.c) runs over it.  Pure: no database. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "export.h"
#include "kind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *params;
    const lp_kind *k = &lp_kind_videoannotation;
    if (!params) {
        lp_verr e;
        params = json_loads("{\"labels\": [\"pedestrian\", \"car\"]}", 0, NULL);
        if (k->validate_params(params, &e)) abort();
    }
    const char *s = (const char *)data;
    const char *nul = memchr(s, '\0', size);
    size_t n = nul ? (size_t)(nul - s) : size;
    lp_src src = {0};
    lp_src_add_media(&src, "seq/clip.webm", "video", "00", 0, 0);
    lp_src_add_text(&src, "seq/gt/gt.txt", s, n);
    if (nul) lp_src_add_text(&src, "seq/seqinfo.ini", nul + 1, size - n - 1);
    lp_src_done(&src);
    lp_project p = {.kind = k, .params = params};
    lp_convert c = {.project = &p, .src = &src, .results = 1, .format = "mot"};
    lp_verr e;
    if (lp_convert_mot.run(&c, &e) != 0) abort(); /* it never refuses a whole source */
    const lp_export_format *f = lp_export_find("mot");
    lp_export_ctx cx = {.kind = "videoannotation", .params = params};
    lp_buf out = {0};
    f->begin(&cx, &out);
    const char *line = c.out.data ? c.out.data : "";
    size_t i = 0;
    for (const char *nl; (nl = strchr(line, '\n')); line = nl + 1, i++) {
        json_t *t = json_loadb(line, (size_t)(nl - line), 0, NULL);
        if (!t || k->validate_task(params, t, &e)) {
            fprintf(stderr, "task %zu rejected: %s: %s\n", i, e.field, e.message);
            abort();
        }
        json_t *r = json_object_get(t, "result");
        if (k->validate_response(params, t, r, "result", &e)) {
            fprintf(stderr, "task %zu's result rejected: %s: %s\n", i, e.field, e.message);
            abort();
        }
        json_t *x = json_pack("{s:i, s:O, s:{s:O}}", "id", (int)i + 1, "data",
                              json_object_get(t, "data"), "result", "response", r);
        char *js = json_dumps(x, JSON_COMPACT);
        f->task(&cx, &out, i, js, strlen(js));
        free(js);
        json_decref(x);
        json_decref(t);
    }
    while (f->end(&cx, &out, i) == 1) out.len = 0;
    f->free_state(&cx);
    lp_buf_fini(&out);
    lp_convert_fini(&c);
    lp_src_fini(&src);
    return 0;
}
