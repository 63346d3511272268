/* fuzz_convert_conll.c -- libFuzzer driver for the CoNLL-2003 import
 * converter (convert_conll.c), with two properties checked on every input:
 *
 *  - each task it emits passes the kind's checks (a text, spans inside it
 *    whose quoted text matches), but for labels the project lacks;
 *  - the round trip holds: the conll export of the tasks (imported as
 *    results), imported and exported again, is the same bytes, unless the
 *    first export has a document without tokens (a word the export's
 *    tokeniser reads as white space alone), which the import refuses.
 *
 * Pure: no database; the project is a namedentityrecognition one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "export.h"
#include "kind.h"

static lp_project project;

static void setup(void)
{
    lp_verr e;
    project.kind = &lp_kind_namedentityrecognition;
    project.params = json_loads("{\"labels\": [\"PER\", \"LOC\", \"ORG\", \"MISC\"]}", 0, NULL);
    if (project.kind->validate_params(project.params, &e)) abort();
}

/* Converts data (n bytes) as one file with results into c (freed by the
 * caller with lp_convert_fini). */
static void convert(lp_convert *c, lp_src *src, const char *data, size_t n)
{
    lp_verr e;
    memset(src, 0, sizeof *src);
    lp_src_add_text(src, "body", data, n);
    lp_src_done(src);
    *c = (lp_convert){.project = &project, .src = src, .results = 1, .format = "conll"};
    if (lp_convert_conll.run(c, &e) != 0) abort(); /* it never refuses a whole file */
}

/* Checks c's tasks and returns their conll export, a new string. */
static char *check_and_export(const lp_convert *c)
{
    const lp_export_format *f = lp_export_find("conll");
    lp_export_ctx cx = {.kind = "namedentityrecognition", .params = project.params};
    lp_buf out = {0};
    lp_buf_puts(&out, "");
    const char *s = c->out.data ? c->out.data : "";
    size_t i = 0;
    for (const char *nl; (nl = strchr(s, '\n')); s = nl + 1, i++) {
        json_t *t = json_loadb(s, (size_t)(nl - s), 0, NULL);
        lp_verr e;
        if (!t || project.kind->validate_task(project.params, t, &e)) abort();
        json_t *r = json_object_get(t, "result");
        if (project.kind->validate_response(project.params, t, r, "result", &e) &&
            !strstr(e.field, ".label")) {
            fprintf(stderr, "task %zu rejected: %s: %s\n", i, e.field, e.message);
            abort();
        }
        json_t *x = json_pack("{s:O, s:{s:O}}", "data", json_object_get(t, "data"), "result",
                              "response", r);
        char *js = json_dumps(x, JSON_COMPACT);
        f->task(&cx, &out, i, js, strlen(js));
        free(js);
        json_decref(x);
        json_decref(t);
    }
    return out.data;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!project.kind) setup();
    lp_src src, src2;
    lp_convert c, c2;
    convert(&c, &src, (const char *)data, size);
    char *first = check_and_export(&c);
    const char *doc = "-DOCSTART- -X- -X- O\n\n";
    size_t dl = strlen(doc), fl = strlen(first);
    int empty_doc = strstr(first, "-DOCSTART- -X- -X- O\n\n-DOCSTART-") ||
                    (fl >= dl && !strcmp(first + fl - dl, doc));
    if (!empty_doc) {
        convert(&c2, &src2, first, fl);
        char *second = check_and_export(&c2);
        if (strcmp(first, second)) {
            fprintf(stderr, "round trip differs:\n%s\n---\n%s\n", first, second);
            abort();
        }
        free(second);
        lp_convert_fini(&c2);
        lp_src_fini(&src2);
    }
    free(first);
    lp_convert_fini(&c);
    lp_src_fini(&src);
    return 0;
}
