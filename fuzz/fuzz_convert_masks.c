/* fuzz_convert_masks.c -- libFuzzer driver for pixel masks: the COCO
 * import into a segmentation project (convert_coco.c painting RLE,
 * polygons and boxes into a label map, rle.c) and the segmentation kind
 * (kind_segmentation.c) and the masks import (convert_masks.c reading
 * PNGs with libpng).  The first byte picks:
 *   0 mod 4: the rest is a COCO file beside a 64x48 images/a.png;
 *   2 mod 4: the rest is masks/a.png (a PNG index mask) beside a 64x48
 *         a.png and a labels.txt naming background, car, person, road;
 *         either way every task the import makes must carry a response
 *         the kind accepts (a converter that writes masks the kind refuses
 *         would fail every row of a real import);
 *   odd:  the rest is a response to a 64x48 task; when the kind accepts
 *         it, it must score 1 against itself, and the vote of two copies
 *         must be accepted too and score 1 against it.
 * Pure: no database. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "kind.h"

static json_t *params, *task;

static void check_response(const json_t *r)
{
    lp_verr e;
    if (lp_kind_segmentation.validate_response(params, task, r, "response", &e)) return;
    if (lp_kind_segmentation.score(params, task, r, r) != 1) abort();
    const json_t *two[2] = {r, r};
    json_t *out = NULL;
    double conf;
    if (lp_kind_segmentation.aggregate(params, task, two, NULL, 2, &out, &conf)) abort();
    if (lp_kind_segmentation.validate_response(params, task, out, "result", &e)) abort();
    if (lp_kind_segmentation.score(params, task, out, r) != 1 || conf != 1) abort();
    json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!params) {
        lp_verr e;
        params = json_loads("{\"labels\": [\"car\", \"person\", \"road\"]}", 0, NULL);
        task =
            json_loads("{\"attachments\": [{\"type\": \"image\", \"url\": \"https://x/a.png\"}], "
                       "\"data\": {\"width\": 64, \"height\": 48}}",
                       0, NULL);
        if (lp_kind_segmentation.validate_params(params, &e)) abort();
    }
    if (size < 1) return 0;
    if (data[0] & 1) {
        json_t *r = json_loadb((const char *)data + 1, size - 1, 0, NULL);
        if (r) check_response(r);
        json_decref(r);
        return 0;
    }
    int masks = data[0] & 2;
    lp_src src = {0};
    lp_src_add_media(&src, masks ? "a.png" : "images/a.png", "image", "00", 64, 48);
    if (masks) {
        static const char names[] = "_background_\ncar\nperson\nroad\n";
        lp_src_add_text(&src, "labels.txt", names, sizeof names - 1);
        lp_src_add_text(&src, "masks/a.png", (const char *)data + 1, size - 1);
    } else {
        lp_src_add_text(&src, "a.json", (const char *)data + 1, size - 1);
    }
    lp_src_done(&src);
    lp_project p = {.kind = &lp_kind_segmentation, .params = params};
    lp_convert c = {.project = &p, .src = &src, .results = 1};
    lp_verr e;
    if ((masks ? &lp_convert_masks : &lp_convert_coco)->run(&c, &e) == 0) {
        /* Each line a task with its result (the response, as the import takes it). */
        const char *s = c.out.data;
        for (size_t i = 0; s && i < c.out.len;) {
            const char *nl = memchr(s + i, '\n', c.out.len - i);
            size_t end = nl ? (size_t)(nl - s) : c.out.len;
            json_t *t = json_loadb(s + i, end - i, 0, NULL);
            const json_t *r = json_object_get(t, "result"); /* the response as it is */
            if (!t || !r) abort();
            if (lp_kind_segmentation.validate_task(params, t, &e) == 0 &&
                lp_kind_segmentation.validate_response(params, t, r, "result", &e))
                abort();
            json_decref(t);
            i = end + 1;
        }
    }
    lp_convert_fini(&c);
    lp_src_fini(&src);
    return 0;
}
