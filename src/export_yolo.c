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

#include "export_zip.h"
#include "valid.h"

/* data.yaml: train and val are the images/ folder beside labels/ (no
 * path: Ultralytics then takes the folder of data.yaml), nc and names
 * from params.labels.  A name is a JSON string, which YAML reads as a
 * double-quoted scalar. */
static void yolo_image(lp_imgzip *z, lp_buf *out, const lp_export_image *im);

static void yolo_begin(lp_export_ctx *cx, lp_buf *out)
{
    lp_imgzip *z = lp_imgzip_start(cx, "yolo", yolo_image);
    lp_buf b = {0};
    lp_buf_printf(&b,
                  "# Loupe export (YOLO detection). Put each image in images/ beside labels/;\n"
                  "# labels/NAME.txt holds the boxes of image NAME.jpg (or .png, ...).\n"
                  "train: images\nval: images\nnc: %zu\nnames:\n",
                  json_array_size(z->labels));
    size_t i;
    const json_t *l;
    json_array_foreach(z->labels, i, l)
    {
        const char *name = json_string_value(json_object_get(l, "name"));
        lp_buf_printf(&b, "  %zu: ", i);
        lp_buf_json_string(&b, name ? name : "");
        lp_buf_puts(&b, "\n");
    }
    lp_imgzip_add(z, out, "data.yaml", b.data, b.len);
    lp_buf_fini(&b);
}

/* A coordinate in 0..1 with six decimals. */
static void put_norm(lp_buf *b, double v)
{
    lp_buf_printf(b, " %.6f", v < 0 ? 0 : v > 1 ? 1 : v);
}

static void yolo_image(lp_imgzip *z, lp_buf *out, const lp_export_image *im)
{
    const json_t *s;
    size_t i;
    json_array_foreach(im->shapes, i, s)
    {
        lp_extent e;
        int cls = lp_imgzip_shape(z, im, s, &e);
        if (cls < 0) continue;
        lp_buf_printf(&z->entry, "%d", cls);
        put_norm(&z->entry, (e.x1 + e.x2) / 2 / im->width);
        put_norm(&z->entry, (e.y1 + e.y2) / 2 / im->height);
        put_norm(&z->entry, (e.x2 - e.x1) / im->width);
        put_norm(&z->entry, (e.y2 - e.y1) / im->height);
        lp_buf_puts(&z->entry, "\n");
    }
    lp_buf_printf(&z->path, "labels/%s.txt", im->stem);
    lp_imgzip_add(z, out, z->path.data, z->entry.data, z->entry.len);
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
    .task = lp_imgzip_task,
    .end = lp_imgzip_end,
    .free_state = lp_imgzip_free,
};
