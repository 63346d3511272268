/* export_yolo.c -- the YOLO detection export of an imageannotation
 * project (the Ultralytics YOLO dataset format): a zip with data.yaml,
 * one labels/STEM.txt per image and a README.txt.
 *
 * Each line of a label file is "class x_center y_center width height":
 * class is the label's index in params.labels (data.yaml's names), the
 * rest the shape's box divided by the image's size, so 0..1 with six
 * decimals (a box that touches the border is exactly 0.000000 or
 * 1.000000).  A polygon is its bounding box: YOLO detection rows are
 * boxes, and a segmentation row in the same file would make Ultralytics
 * read every row of it as a polygon.  Points and lines have no form and
 * are left out; so are images without data.width and data.height, which
 * cannot be normalised, and tasks without a result.  README.txt counts
 * and names what was left out.  An image with no shapes still has its
 * (empty) label file: an image known to hold nothing. */
#include <stdlib.h>

#include "export_zip.h"
#include "valid.h"

typedef struct yolo {
    lp_imgzip z; /* first: lp_imgzip_task hands it back */
    lp_buf lines, path;
} yolo;

/* data.yaml: train and val are the images/ folder beside labels/ (no
 * path: Ultralytics then takes the folder of data.yaml), nc and names
 * from params.labels.  A name is a JSON string, which YAML reads as a
 * double-quoted scalar. */
static void yolo_begin(lp_export_ctx *cx, lp_buf *out)
{
    yolo *y = lp_calloc(1, sizeof *y);
    cx->state = y;
    lp_imgzip_begin(&y->z, cx, "yolo");
    lp_buf b = {0};
    lp_buf_printf(&b,
                  "# Loupe export (YOLO detection). Put each image in images/ beside labels/;\n"
                  "# labels/NAME.txt holds the boxes of image NAME.jpg (or .png, ...).\n"
                  "train: images\nval: images\nnc: %zu\nnames:\n",
                  json_array_size(y->z.labels));
    size_t i;
    const json_t *l;
    json_array_foreach(y->z.labels, i, l)
    {
        const char *name = json_string_value(json_object_get(l, "name"));
        lp_buf_printf(&b, "  %zu: ", i);
        lp_buf_json_string(&b, name ? name : "");
        lp_buf_puts(&b, "\n");
    }
    lp_imgzip_add(&y->z, out, "data.yaml", b.data, b.len);
    lp_buf_fini(&b);
}

/* A coordinate in 0..1 with six decimals. */
static void put_norm(lp_buf *b, double v)
{
    lp_buf_printf(b, " %.6f", v < 0 ? 0 : v > 1 ? 1 : v);
}

static void yolo_image(lp_imgzip *z, lp_buf *out, const lp_export_image *im)
{
    yolo *y = (yolo *)z;
    y->lines.len = y->path.len = 0;
    const json_t *s;
    size_t i;
    json_array_foreach(im->shapes, i, s)
    {
        lp_extent e;
        int cls = lp_imgzip_shape(z, im, s, &e);
        if (cls < 0) continue;
        lp_buf_printf(&y->lines, "%d", cls);
        put_norm(&y->lines, (e.x1 + e.x2) / 2 / im->width);
        put_norm(&y->lines, (e.y1 + e.y2) / 2 / im->height);
        put_norm(&y->lines, (e.x2 - e.x1) / im->width);
        put_norm(&y->lines, (e.y2 - e.y1) / im->height);
        lp_buf_puts(&y->lines, "\n");
    }
    lp_buf_printf(&y->path, "labels/%s.txt", im->stem);
    lp_imgzip_add(z, out, y->path.data, y->lines.data, y->lines.len);
}

static void yolo_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    (void)index;
    lp_imgzip_task(cx->state, out, json, n, yolo_image);
}

static int yolo_end(lp_export_ctx *cx, lp_buf *out, size_t ntasks)
{
    (void)ntasks;
    yolo *y = cx->state;
    return lp_imgzip_end(&y->z, out);
}

static void yolo_free(lp_export_ctx *cx)
{
    yolo *y = cx->state;
    if (!y) return;
    lp_imgzip_fini(&y->z);
    lp_buf_fini(&y->lines);
    lp_buf_fini(&y->path);
    free(y);
    cx->state = NULL;
}

static const char *const yolo_kinds[] = {"imageannotation", NULL};

const lp_export_format lp_export_yolo = {
    .version = 1,
    .name = "yolo",
    .summary = "YOLO detection: a zip of data.yaml and one labels/NAME.txt per image",
    .content_type = "application/zip",
    .extension = "zip",
    .kinds = yolo_kinds,
    .begin = yolo_begin,
    .task = yolo_task,
    .end = yolo_end,
    .free_state = yolo_free,
};
