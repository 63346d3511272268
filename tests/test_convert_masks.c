/* test_convert_masks.c -- the index-mask converter on sources built in
 * memory, its PNGs written here with libpng: values mapped through
 * labels.txt (in any order) or, without it, params.labels; the RLE of
 * each label checked against a hand-made count; an image without a mask;
 * and the bad items: a mask of another size than its image, a value no
 * line names, a file that is not a PNG, an RGB PNG, a mask without an
 * image; a labels.txt naming a label the project lacks refuses it all. */
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "test.h"
#include "test_kinds.h"

#define SHA "0000000000000000000000000000000000000000000000000000000000000000"

static void to_buf(png_structp png, png_bytep data, size_t n)
{
    lp_buf_append(png_get_io_ptr(png), data, n);
}

static void no_flush(png_structp png)
{
    (void)png;
}

/* A w x h 8-bit PNG of colour type type (palette or grey; RGB repeats
 * each value thrice) with values px, row-major, into out. */
static void make_png(lp_buf *out, int type, uint32_t w, uint32_t h, const unsigned char *px)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_set_write_fn(png, out, to_buf, no_flush);
    png_set_IHDR(png, info, w, h, 8, type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_color pal[256];
    for (int i = 0; i < 256; i++) pal[i] = (png_color){(png_byte)i, 0, (png_byte)(255 - i)};
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_PLTE(png, info, pal, 256);
    png_write_info(png, info);
    unsigned char row[64 * 3];
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++)
            if (type == PNG_COLOR_TYPE_RGB)
                memset(row + 3 * x, px[y * w + x], 3);
            else
                row[x] = px[y * w + x];
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
}

typedef struct run {
    lp_project p;
    lp_src src;
    lp_convert c;
    json_t *tasks; /* the emitted task bodies */
    int rc;
    lp_verr e;
} run;

static void start(run *r)
{
    memset(r, 0, sizeof *r);
    lp_verr e;
    kt_params(&lp_kind_segmentation, "{'labels': ['a', 'b', 'c']}", &r->p.params, &e);
    r->p.kind = &lp_kind_segmentation;
}

static void add_png(run *r, const char *name, int type, uint32_t w, uint32_t h,
                    const unsigned char *px)
{
    lp_buf b = {0};
    make_png(&b, type, w, h, px);
    lp_src_add_text(&r->src, name, b.data, b.len);
    lp_buf_fini(&b);
}

static void convert(run *r, const char *image_base)
{
    lp_src_done(&r->src);
    r->c = (lp_convert){.project = &r->p,
                        .src = &r->src,
                        .results = 1,
                        .image_base = image_base,
                        .format = "masks"};
    r->rc = lp_convert_masks.run(&r->c, &r->e);
    r->tasks = json_array();
    const char *s = r->c.out.data;
    for (size_t i = 0; s && i < r->c.ntasks; i++) {
        const char *nl = strchr(s, '\n');
        json_array_append_new(r->tasks, json_loadb(s, (size_t)(nl - s), 0, NULL));
        s = nl + 1;
    }
}

static void done(run *r)
{
    json_decref(r->tasks);
    lp_convert_fini(&r->c);
    lp_src_fini(&r->src);
    json_decref(r->p.params);
}

/* The emitted task whose unique_id is id, or NULL. */
static const json_t *task_of(const run *r, const char *id)
{
    size_t i;
    const json_t *t;
    json_array_foreach(r->tasks, i, t)
    {
        const char *u = json_string_value(json_object_get(t, "unique_id"));
        if (u && !strcmp(u, id)) return t;
    }
    return NULL;
}

TEST(masks_import_maps_values_through_labels_txt_into_one_rle_per_label)
{
    run r;
    start(&r);
    /* labels.txt in another order than the project's: 1 is b, 2 is a */
    lp_src_add_text(&r.src, "data/labels.txt", "_background_\r\nb\r\na\r\n", 19);
    lp_src_add_media(&r.src, "data/img/street.jpg", "image", SHA, 3, 2);
    lp_src_add_media(&r.src, "data/img/empty.jpg", "image", SHA, 5, 5);
    static const unsigned char px[] = {1, 0, 2, 1, 2, 0};
    add_png(&r, "data/masks/street.png", PNG_COLOR_TYPE_PALETTE, 3, 2, px);
    convert(&r, NULL);
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.c.nbad, 0);
    CHECK_INT(r.c.ntasks, 2);
    const json_t *t = task_of(&r, "street.jpg");
    CHECK(t);
    CHECK(kt_equal_at(t, "data", "{'width': 3, 'height': 2}"));
    CHECK(kt_equal_at(t, "attachments.0.file", "'" SHA "'"));
    /* column-major: a is (2, 0) and (1, 1), positions 4 and 3: runs 3, 2,
     * 1; b is column 0: runs 0, 2, 4 */
    CHECK(kt_equal_at(t, "result.masks",
                      "[{'label': 'a', 'rle': {'size': [2, 3], 'counts': '321'}},"
                      " {'label': 'b', 'rle': {'size': [2, 3], 'counts': '024'}}]"));
    /* an image without a mask: a task of its size without labels */
    t = task_of(&r, "empty.jpg");
    CHECK(t);
    CHECK(!json_object_get(t, "result"));
    CHECK(kt_equal_at(t, "data", "{'width': 5, 'height': 5}"));
    done(&r);
}

TEST(masks_import_without_labels_txt_reads_value_i_plus_1_as_the_ith_label)
{
    run r;
    start(&r);
    /* grey, no image in the upload: image_base names it */
    static const unsigned char px[] = {3, 3, 0, 1};
    add_png(&r, "masks/cam1.png", PNG_COLOR_TYPE_GRAY, 2, 2, px);
    /* 4 is beyond the three labels */
    static const unsigned char four[] = {4};
    add_png(&r, "masks/cam2.png", PNG_COLOR_TYPE_GRAY, 1, 1, four);
    convert(&r, "https://img.test/x/");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.c.ntasks, 1);
    const json_t *t = json_array_get(r.tasks, 0);
    CHECK(kt_equal_at(t, "attachments.0.url", "'https://img.test/x/cam1.png'"));
    /* a: (1, 1), position 3; c: (0, 0) and (1, 0), positions 0 and 2:
     * runs 0, 1, 1, 1, 1, the last written as its difference from the
     * one two before (0) */
    CHECK(kt_equal_at(t, "result.masks",
                      "[{'label': 'a', 'rle': {'size': [2, 2], 'counts': '31'}},"
                      " {'label': 'c', 'rle': {'size': [2, 2], 'counts': '01100'}}]"));
    CHECK_INT(r.c.nbad, 1);
    CHECK_STR(r.c.bad[0].where, "masks/cam2.png");
    CHECK(strstr(r.c.bad[0].e.message, "pixel x=0, y=0 has the value 4, beyond the project's 3 "
                                       "labels (value i + 1 is labels[i]: the upload has no "
                                       "labels.txt)"));
    done(&r);
}

TEST(masks_import_names_each_bad_mask_and_keeps_the_rest)
{
    run r;
    start(&r);
    lp_src_add_text(&r.src, "labels.txt", "_background_\na\n", 15);
    lp_src_add_media(&r.src, "big.jpg", "image", SHA, 3, 2);
    lp_src_add_media(&r.src, "ok.jpg", "image", SHA, 1, 1);
    static const unsigned char px[] = {0, 1, 1, 0};
    add_png(&r, "masks/big.png", PNG_COLOR_TYPE_PALETTE, 2, 2, px); /* not 3 x 2 */
    static const unsigned char five[] = {5};
    add_png(&r, "masks/five.png", PNG_COLOR_TYPE_PALETTE, 1, 1, five); /* no line 5 */
    lp_src_add_text(&r.src, "masks/text.png", "not a png at all", 16);
    add_png(&r, "masks/rgb.png", PNG_COLOR_TYPE_RGB, 1, 1, five);
    add_png(&r, "masks/lost.png", PNG_COLOR_TYPE_PALETTE, 1, 1, px); /* no image, no base */
    static const unsigned char one[] = {1};
    add_png(&r, "masks/ok.png", PNG_COLOR_TYPE_PALETTE, 1, 1, one);
    convert(&r, NULL);
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.c.ntasks, 1);
    CHECK(kt_equal_at(json_array_get(r.tasks, 0), "result.masks",
                      "[{'label': 'a', 'rle': {'size': [1, 1], 'counts': '01'}}]"));
    CHECK_INT(r.c.nbad, 5);
    /* in the order of the source's texts, sorted by name */
    static const char *const want[][2] = {
        {"masks/big.png", "is 2 x 2 but its image big.jpg is 3 x 2"},
        {"masks/five.png", "has the value 5, which labels.txt does not name"},
        {"masks/lost.png", "has no image of its name in the upload"},
        {"masks/rgb.png", "is not an index mask"},
        {"masks/text.png", "is not a PNG file"},
    };
    for (size_t i = 0; i < 5; i++) {
        CHECK_STR(r.c.bad[i].where, want[i][0]);
        CHECK_STR(r.c.bad[i].e.field, "mask");
        if (!strstr(r.c.bad[i].e.message, want[i][1]))
            lp_test_fail(__FILE__, __LINE__, "%s: \"%s\" lacks \"%s\"", want[i][0],
                         r.c.bad[i].e.message, want[i][1]);
    }
    done(&r);
}

TEST(masks_import_refuses_a_labels_txt_naming_what_the_project_lacks)
{
    run r;
    start(&r);
    lp_src_add_text(&r.src, "labels.txt", "_background_\na\nzebra\n", 21);
    static const unsigned char one[] = {1};
    add_png(&r, "masks/x.png", PNG_COLOR_TYPE_GRAY, 1, 1, one);
    convert(&r, "https://img.test/");
    CHECK_INT(r.rc, LP_EINVAL);
    CHECK_STR(r.e.field, "labels.txt");
    CHECK(strstr(r.e.message, "line 3 names \"zebra\""));
    CHECK_INT(r.c.ntasks, 0);
    done(&r);
}
