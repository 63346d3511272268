/* fuzz_convert_img.c -- libFuzzer driver for the YOLO and Pascal VOC
 * converters (convert_yolo.c, convert_voc.c): how data.yaml's names are
 * taken from libyaml's document, the label rows and expat's callbacks.
 * The first byte picks the converter; for YOLO the rest is data.yaml, a
 * NUL, then labels/a.txt; for VOC it is Annotations/a.xml.  Either way
 * the source also holds a 640x480 images/a.png.  Pure: no database. */
#include <stdint.h>
#include <string.h>

#include "convert.h"
#include "kind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *params;
    if (!params) {
        lp_verr e;
        params = json_loads("{\"labels\": [\"car\", \"pi\\u00e9ton\"], \"attributes\": "
                            "[{\"name\": \"difficult\", \"type\": \"boolean\"}]}",
                            0, NULL);
        if (lp_kind_imageannotation.validate_params(params, &e)) return 0;
    }
    if (size < 1) return 0;
    int voc = data[0] & 1;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    lp_src src = {0};
    lp_src_add_media(&src, "images/a.png", "image", "00", 640, 480);
    if (voc) {
        lp_src_add_text(&src, "Annotations/a.xml", s, n);
    } else {
        const char *nul = memchr(s, '\0', n);
        size_t k = nul ? (size_t)(nul - s) : n;
        lp_src_add_text(&src, "data.yaml", s, k);
        if (nul) lp_src_add_text(&src, "labels/a.txt", nul + 1, n - k - 1);
    }
    lp_src_done(&src);
    lp_project p = {.kind = &lp_kind_imageannotation, .params = params};
    lp_convert c = {.project = &p, .src = &src, .results = 1};
    lp_verr e;
    (voc ? &lp_convert_voc : &lp_convert_yolo)->run(&c, &e);
    lp_convert_fini(&c);
    lp_src_fini(&src);
    return 0;
}
