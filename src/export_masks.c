/* export_masks.c -- the index-mask export of a segmentation project: a
 * zip with labels.txt, one masks/STEM.png per image and a README.txt.
 *
 * Each PNG is the image's size, 8-bit with a palette (colour type 3, as
 * Pascal VOC's SegmentationClass masks are): the value of a pixel is 0 for
 * background and i + 1 for params.labels[i]; the palette paints 0 black
 * and each label its colour (params color, else the editor's palette), so
 * the file reads as a picture and as data (PIL's mode "P" gives the
 * values).  labels.txt names the values, one a line from 0:
 * "_background_", then the labels.  Masks never overlap (the kind refuses
 * it), so an index mask holds a result without loss.  Rows are written
 * unfiltered (what the PNG spec advises for palette images) and deflated
 * by libpng.
 *
 * A task without data.width and data.height takes its masks' size; one
 * with neither, or without a result, is left out and counted in
 * README.txt (export_zip.c), as is an image too large for a mask (more
 * than 2^20 a side or 2^28 pixels) and a mask of another size than its
 * image or with a label not in the project.  Memory: one image's map and PNG. */
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "export_zip.h"
#include "rle.h"
#include "valid.h"

/* The editor's palette (web/ui/editor-segmentation.js), for labels
 * without a colour. */
static const unsigned char palette[][3] = {
    {0xe6, 0x19, 0x4b}, {0x1f, 0x9e, 0x45}, {0x2f, 0x6f, 0xe4}, {0xf5, 0x82, 0x31},
    {0x9b, 0x2f, 0xc4}, {0x0f, 0xa3, 0xb1}, {0xe0, 0x34, 0xc8}, {0xa0, 0x70, 0x1c},
    {0x7f, 0x8f, 0x00}, {0x3b, 0x3f, 0xb6}, {0xd9, 0xa4, 0x00}, {0xc2, 0x18, 0x5b},
};

static void masks_image(lp_imgzip *z, lp_buf *out, const lp_export_image *im);

static void masks_begin(lp_export_ctx *cx, lp_buf *out)
{
    lp_imgzip *z = lp_imgzip_start(cx, "masks", masks_image);
    lp_buf b = {0};
    lp_buf_puts(&b, "_background_\n");
    size_t i;
    const json_t *l;
    json_array_foreach(z->labels, i, l)
    {
        const char *name = json_string_value(json_object_get(l, "name"));
        lp_buf_printf(&b, "%s\n", name ? name : "");
    }
    lp_imgzip_add(z, out, "labels.txt", b.data, b.len);
    lp_buf_fini(&b);
}

/* The size of a task's first mask, set as its data.width and data.height
 * when it gives none, so that lp_imgzip_task keeps the image. */
static void masks_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    json_t *task = json_loadb(json, n, 0, NULL);
    json_t *data = json_object_get(task, "data");
    const json_t *size = json_object_get(
        json_object_get(
            json_array_get(
                json_object_get(json_object_get(json_object_get(task, "result"), "response"),
                                "masks"),
                0),
            "rle"),
        "size");
    if (json_is_object(data) && json_is_array(size) &&
        (!json_is_number(json_object_get(data, "width")) ||
         !json_is_number(json_object_get(data, "height")))) {
        json_object_set(data, "width", json_array_get(size, 1));
        json_object_set(data, "height", json_array_get(size, 0));
        char *s = json_dumps(task, JSON_COMPACT);
        lp_imgzip_task(cx, out, index, s, strlen(s));
        free(s);
    } else {
        lp_imgzip_task(cx, out, index, json, n);
    }
    json_decref(task);
}

static void png_to_buf(png_structp png, png_bytep data, size_t n)
{
    lp_buf_append(png_get_io_ptr(png), data, n);
}

static void png_no_flush(png_structp png)
{
    (void)png;
}

/* The PNG of label map map (w x h) with palette pal of npal colours into
 * out: 0, or -1 when libpng fails. */
static int encode_png(const unsigned char *map, uint32_t w, uint32_t h, const png_color *pal,
                      int npal, lp_buf *out)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (!png) return -1;
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_set_write_fn(png, out, png_to_buf, png_no_flush);
    png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_PLTE(png, info, pal, npal);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
    png_write_info(png, info);
    for (uint32_t y = 0; y < h; y++) png_write_row(png, map + (size_t)y * w);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

/* Reads "#rrggbb" into c; 0, or -1 when s is not that. */
static int hex_color(const char *s, png_color *c)
{
    unsigned r, g, b;
    if (!s || strlen(s) != 7 || sscanf(s, "#%2x%2x%2x", &r, &g, &b) != 3) return -1;
    c->red = (png_byte)r, c->green = (png_byte)g, c->blue = (png_byte)b;
    return 0;
}

static void masks_image(lp_imgzip *z, lp_buf *out, const lp_export_image *im)
{
    size_t nl = json_array_size(z->labels);
    /* (the kind keeps sizes to 2^20 a side; a task stored otherwise is
     * counted out, never cast out of range) */
    if (im->width > (1 << 20) || im->height > (1 << 20) || nl > 254 ||
        (uint64_t)im->width * (uint64_t)im->height > LP_RLE_MAX_PIXELS) {
        z->too_large++;
        z->nimages--; /* counted by lp_imgzip_task, but no file */
        return;
    }
    uint32_t w = (uint32_t)im->width, h = (uint32_t)im->height;
    unsigned char *map = lp_calloc((size_t)w * h + 1, 1);
    const json_t *masks = json_object_get(
                     json_object_get(json_object_get(im->task, "result"), "response"), "masks"),
                 *m;
    size_t i;
    json_array_foreach(masks, i, m)
    {
        const char *label = json_string_value(json_object_get(m, "label"));
        const json_t *id = label ? json_object_get(z->class_ids, label) : NULL;
        char why[160];
        lp_rle r;
        if (!id || lp_rle_from_coco(json_object_get(m, "rle"), &r, why, sizeof why)) {
            z->unknown++;
            continue;
        }
        if (r.width != w || r.height != h) {
            z->missized++;
            lp_rle_fini(&r);
            continue;
        }
        unsigned char v = (unsigned char)(json_integer_value(id) + 1);
        uint64_t pos = 0;
        for (size_t k = 0; k < r.n; k++) {
            uint64_t end = pos + r.counts[k];
            if (k % 2)
                for (uint64_t p = pos; p < end; p++) map[(p % h) * w + p / h] = v;
            pos = end;
        }
        lp_rle_fini(&r);
        z->nobjects++;
    }
    png_color pal[256];
    pal[0] = (png_color){0, 0, 0};
    for (size_t l = 0; l < nl; l++) {
        const char *c = json_string_value(json_object_get(json_array_get(z->labels, l), "color"));
        if (hex_color(c, &pal[l + 1]))
            pal[l + 1] = (png_color){palette[l % 12][0], palette[l % 12][1], palette[l % 12][2]};
    }
    lp_buf_printf(&z->path, "masks/%s.png", im->stem);
    if (encode_png(map, w, h, pal, (int)nl + 1, &z->entry) == 0)
        lp_imgzip_add(z, out, z->path.data, z->entry.data, z->entry.len);
    else
        z->failed = 1;
    free(map);
}

static const char *const masks_kinds[] = {"segmentation", NULL};

const lp_export_format lp_export_masks = {
    .version = 1,
    .name = "masks",
    .summary = "Index masks: a zip of one 8-bit palette PNG per image (0 background, label i + 1) "
               "and labels.txt",
    .content_type = "application/zip",
    .extension = "zip",
    .kinds = masks_kinds,
    .begin = masks_begin,
    .task = masks_task,
    .end = lp_imgzip_end,
    .free_state = lp_imgzip_free,
};
