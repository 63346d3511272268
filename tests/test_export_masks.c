/* test_export_masks.c -- the index-mask export as an encoder: segmentation
 * tasks in, a zip out, read back with libarchive, each PNG decoded with
 * libpng and checked pixel by pixel (0 background, label i + 1), with its
 * palette (a label's colour, else the editor's) and labels.txt; tasks
 * without a result, without a size, too large, or with a mask of another
 * size are left out and counted. */
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "test_kinds.h"

#define PARAMS "{'labels': ['a', {'name': 'b', 'color': '#102030'}, 'c']}"
#define URL(u) "{'type': 'image', 'url': '" u "'}"
#define MASK(label, h, w, counts) \
    "{'label': '" label "', 'rle': {'size': [" #h ", " #w "], 'counts': " counts "}}"
#define TASK(id, url, data, masks)                                                           \
    "{'id': " #id ", 'attachments': [" URL(url) "], 'data': " data                           \
                                                ", 'result': {'response': {'masks': [" masks \
                                                "]}, 'confidence': "                         \
                                                "1, 'method': 'auto'}}"

/* Runs the masks export over tasks; returns the zip's files as {path:
 * bytes (as a JSON string of any bytes)} in *files, 0 on success. */
static int run(const char *const *tasks, size_t n, json_t **files)
{
    return kt_export_zip(&lp_kind_segmentation, PARAMS, "masks", tasks, n, files);
}

typedef struct mem {
    const unsigned char *p;
    size_t len, at;
} mem;

static void read_mem(png_structp png, png_bytep out, size_t n)
{
    mem *m = png_get_io_ptr(png);
    if (n > m->len - m->at) png_error(png, "short");
    memcpy(out, m->p + m->at, n);
    m->at += n;
}

/* A decoded PNG: its header, palette and 8-bit pixel values row-major. */
typedef struct image {
    png_uint_32 w, h;
    int type, depth, npal;
    png_color pal[256];
    unsigned char px[64];
} image;

/* Decodes the PNG s (at most 64 pixels) into im: 0, or -1. */
static int decode(const json_t *s, image *im)
{
    memset(im, 0, sizeof *im);
    mem m = {(const unsigned char *)json_string_value(s), json_string_length(s), 0};
    if (!m.p || m.len < 8 || png_sig_cmp(m.p, 0, 8)) return -1;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_set_read_fn(png, &m, read_mem);
    png_read_info(png, info);
    im->w = png_get_image_width(png, info);
    im->h = png_get_image_height(png, info);
    im->type = png_get_color_type(png, info);
    im->depth = png_get_bit_depth(png, info);
    png_colorp pal = NULL;
    if (png_get_PLTE(png, info, &pal, &im->npal)) memcpy(im->pal, pal, im->npal * sizeof *pal);
    if ((size_t)im->w * im->h > sizeof im->px || im->depth != 8) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    for (png_uint_32 y = 0; y < im->h; y++) png_read_row(png, im->px + y * im->w, NULL);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

#define PAL_IS(im, i, r, g, b)           \
    do {                                 \
        CHECK_INT((im).pal[i].red, r);   \
        CHECK_INT((im).pal[i].green, g); \
        CHECK_INT((im).pal[i].blue, b);  \
    } while (0)

TEST(masks_zip_holds_labels_txt_and_an_index_png_per_image_read_back_pixel_by_pixel)
{
    /* 2 rows, 3 columns; RLE runs go down the columns (COCO's order):
     * a is column 0, b the pixels at positions 3 (x 1, y 1) and 4 (x 2, y 0). */
    const char *tasks[] = {
        TASK(7, "https://h.test/m/street.jpg?v=2", "{'width': 3, 'height': 2}",
             MASK("a", 2, 3, "[0, 2, 4]") ", " MASK("b", 2, 3, "'321'") ", " MASK("gone", 2, 3,
                                                                                  "[5, 1]")),
        /* no result: left out */
        "{'id': 8, 'attachments': [" URL("https://h.test/c.jpg") "], 'data': {}}",
        /* no size: the mask's, 1 high and 2 wide */
        TASK(9, "https://h.test/nosize.png", "{}", MASK("c", 1, 2, "[1, 1]")),
        /* a mask of another size than its image: left out of an empty map */
        TASK(11, "https://h.test/other.png", "{'width': 2, 'height': 2}",
             MASK("a", 1, 2, "[1, 1]")),
    };
    json_t *files;
    CHECK_INT(run(tasks, LP_ARRAY_LEN(tasks), &files), 0);
    CHECK_INT(json_object_size(files), 5);
    CHECK_STR(json_string_value(json_object_get(files, "labels.txt")), "_background_\na\nb\nc\n");
    image im;
    CHECK_INT(decode(json_object_get(files, "masks/street.png"), &im), 0);
    CHECK_INT(im.w, 3);
    CHECK_INT(im.h, 2);
    CHECK_INT(im.type, PNG_COLOR_TYPE_PALETTE);
    CHECK_INT(im.depth, 8);
    static const unsigned char street[] = {1, 0, 2, 1, 2, 0};
    CHECK(!memcmp(im.px, street, sizeof street));
    /* background black, a the editor's first colour, b its own, c the third */
    CHECK_INT(im.npal, 4);
    PAL_IS(im, 0, 0, 0, 0);
    PAL_IS(im, 1, 0xe6, 0x19, 0x4b);
    PAL_IS(im, 2, 0x10, 0x20, 0x30);
    PAL_IS(im, 3, 0x2f, 0x6f, 0xe4);
    CHECK_INT(decode(json_object_get(files, "masks/nosize.png"), &im), 0);
    CHECK_INT(im.w, 2);
    CHECK_INT(im.h, 1);
    CHECK_INT(im.px[0], 0);
    CHECK_INT(im.px[1], 3);
    CHECK_INT(decode(json_object_get(files, "masks/other.png"), &im), 0);
    CHECK_INT(im.w * im.h, 4);
    CHECK(!memcmp(im.px, "\0\0\0\0", 4));
    const char *readme = json_string_value(json_object_get(files, "README.txt"));
    CHECK(readme);
    CHECK(strstr(readme, "Loupe segmentation export, format masks: 3 images, 3 objects."));
    CHECK(strstr(readme, "  1 task without a result\n"));
    CHECK(strstr(readme, "  1 shape with a label not in the project\n"));
    CHECK(strstr(readme, "  1 mask of another size than its image\n"));
    json_decref(files);
}

TEST(masks_too_large_an_image_is_left_out_and_counted_never_allocated)
{
    const char *tasks[] = {
        /* wider than the 2^20 a side the kind allows */
        TASK(1, "https://h.test/wide.png", "{'width': 3000000, 'height': 1}",
             MASK("a", 1, 3000000, "[0, 3000000]")),
        /* each side allowed, but more pixels than a mask may have */
        TASK(2, "https://h.test/big.png", "{'width': 1000000, 'height': 1000000}",
             MASK("a", 1000000, 1000000, "[0, 1000000000000]")),
        TASK(3, "https://h.test/ok.png", "{'width': 1, 'height': 1}", MASK("c", 1, 1, "[0, 1]")),
    };
    json_t *files;
    CHECK_INT(run(tasks, LP_ARRAY_LEN(tasks), &files), 0);
    int wide = json_object_get(files, "masks/wide.png") != NULL;
    int big = json_object_get(files, "masks/big.png") != NULL;
    image im;
    int ok = decode(json_object_get(files, "masks/ok.png"), &im);
    const char *readme = json_string_value(json_object_get(files, "README.txt"));
    int counted =
        readme &&
        strstr(readme,
               "  2 images too large for an index mask (2^20 a side, 2^28 pixels at most)\n") !=
            NULL;
    if (!counted) fprintf(stderr, "%s\n", readme ? readme : "(no README)");
    json_decref(files);
    CHECK(!wide);
    CHECK(!big);
    CHECK_INT(ok, 0);
    CHECK_INT(im.px[0], 3);
    CHECK(counted);
}

TEST(masks_exports_only_segmentation)
{
    const lp_export_format *fmt = lp_export_find("masks");
    CHECK(fmt);
    CHECK(lp_export_fits(fmt, "segmentation"));
    CHECK(!lp_export_fits(fmt, "imageannotation"));
    CHECK_STR(fmt->content_type, "application/zip");
}
