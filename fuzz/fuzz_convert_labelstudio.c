/* fuzz_convert_labelstudio.c -- libFuzzer driver for the Label Studio
 * converter (convert_labelstudio.c): the input is one document (an export,
 * NDJSON or a task), run through the converter for each project kind it
 * fills, as results and as predictions, with one image in the source.  The
 * converter is pure, so no database is needed; every task it emits must be
 * one line of JSON. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "kind.h"

static const char *const projects[][2] = {
    {"imageannotation", "{\"labels\": [\"car\", \"person\"]}"},
    {"categorization", "{\"labels\": [\"pos\", \"neg\"], \"multiple\": true}"},
    {"namedentityrecognition", "{\"labels\": [\"PER\"], \"relations\": [\"r\"]}"},
    {"textcollection", "{\"fields\": [\"a\", \"b\"]}"},
    {"rating", "{\"criteria\": [\"q\"]}"},
    {"transcription", "{\"segments\": true}"},
    {"transcription", "{}"},
};
#define NP (sizeof projects / sizeof projects[0])
static lp_project p[NP];

static void setup(void)
{
    for (size_t i = 0; i < NP; i++) {
        lp_verr e;
        json_t *params = json_loads(projects[i][1], 0, NULL);
        p[i].kind = lp_kind_find(projects[i][0]);
        if (!p[i].kind || p[i].kind->validate_params(params, &e)) abort();
        p[i].params = params;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!p[0].kind) setup();
    for (size_t i = 0; i < NP; i++)
        for (int results = 0; results < 2; results++) {
            lp_src src = {0};
            lp_src_add_text(&src, "body", (const char *)data, size);
            lp_src_add_media(&src, "img/cat.jpg", "image",
                             "0000000000000000000000000000000000000000000000000000000000000001",
                             640, 480);
            lp_src_done(&src);
            lp_convert c = {.project = &p[i],
                            .src = &src,
                            .results = results,
                            .format = "labelstudio",
                            .image_base = results ? "https://h.test" : NULL};
            lp_verr e;
            lp_convert_labelstudio.run(&c, &e);
            size_t lines = 0;
            for (size_t k = 0; k < c.out.len; k++) lines += c.out.data[k] == '\n';
            if (lines != c.ntasks) abort();
            for (const char *s = c.out.data, *nl; s && *s; s = nl + 1) {
                nl = strchr(s, '\n');
                json_t *t = json_loadb(s, (size_t)(nl - s), 0, NULL);
                if (!t) abort();
                json_decref(t);
            }
            lp_convert_fini(&c);
            lp_src_fini(&src);
        }
    return 0;
}
