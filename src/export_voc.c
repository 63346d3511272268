/* export_voc.c -- the Pascal VOC export of an imageannotation project: a
 * zip with one Annotations/STEM.xml per image, as the VOC development kit
 * describes them, and a README.txt.
 *
 * Each file is an <annotation> with folder (JPEGImages: where VOC keeps
 * the images, beside Annotations/), filename, source, size (width,
 * height, depth 3), segmented 0, and one <object> per shape: name (its
 * label), pose Unspecified, truncated 0, difficult 0 and bndbox.  VOC
 * counts pixels from 1 and its box holds its corner pixels, so a shape
 * spanning x1..x2 in Loupe's continuous coordinates (origin at the image's
 * top-left corner) is xmin = floor(x1) + 1, xmax = ceil(x2): the pixels it
 * touches, within 1..width (a box over the whole image is 1..width).  A
 * polygon is its bounding box.  Points and lines have no VOC form and are
 * left out; so are images without data.width and data.height (VOC's size
 * is required) and tasks without a result.  README.txt counts and names
 * what was left out.  An image with no shapes still has its file. */
#include <math.h>
#include <string.h>

#include "export_zip.h"

/* Appends s as XML character data: &, <, >, " and ' as entities, and the
 * control characters XML 1.0 forbids left out. */
static void put_xml(lp_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *ent = c == '&'    ? "&amp;"
                          : c == '<'  ? "&lt;"
                          : c == '>'  ? "&gt;"
                          : c == '"'  ? "&quot;"
                          : c == '\'' ? "&apos;"
                                      : NULL;
        if (ent)
            lp_buf_puts(b, ent);
        else if (c >= 0x20 || c == '\t' || c == '\n')
            lp_buf_append(b, s, 1);
    }
}

/* A pixel number of VOC: 1..max. */
static long long pixel(double v, long long max)
{
    long long p = (long long)v;
    return p < 1 ? 1 : p > max ? max : p;
}

static void voc_image(lp_imgzip *z, lp_buf *out, const lp_export_image *im)
{
    lp_buf *b = &z->entry;
    long long w = llround(im->width), h = llround(im->height);
    if (w < 1) w = 1;
    if (h < 1) h = 1;
    lp_buf_puts(b, "<annotation>\n\t<folder>JPEGImages</folder>\n\t<filename>");
    put_xml(b, im->file_name);
    lp_buf_printf(b,
                  "</filename>\n\t<source>\n\t\t<database>Loupe</database>\n\t</source>\n"
                  "\t<size>\n\t\t<width>%lld</width>\n\t\t<height>%lld</height>\n"
                  "\t\t<depth>3</depth>\n\t</size>\n\t<segmented>0</segmented>\n",
                  w, h);
    const json_t *s;
    size_t i;
    json_array_foreach(im->shapes, i, s)
    {
        lp_extent e;
        int cls = lp_imgzip_shape(z, im, s, &e);
        if (cls < 0) continue;
        const char *name = json_string_value(json_object_get(s, "label"));
        long long x1 = pixel(floor(e.x1) + 1, w), y1 = pixel(floor(e.y1) + 1, h);
        long long x2 = pixel(ceil(e.x2), w), y2 = pixel(ceil(e.y2), h);
        lp_buf_puts(b, "\t<object>\n\t\t<name>");
        put_xml(b, name);
        lp_buf_printf(b,
                      "</name>\n\t\t<pose>Unspecified</pose>\n\t\t<truncated>0</truncated>\n"
                      "\t\t<difficult>0</difficult>\n\t\t<bndbox>\n"
                      "\t\t\t<xmin>%lld</xmin>\n\t\t\t<ymin>%lld</ymin>\n"
                      "\t\t\t<xmax>%lld</xmax>\n\t\t\t<ymax>%lld</ymax>\n"
                      "\t\t</bndbox>\n\t</object>\n",
                      x1, y1, x2 < x1 ? x1 : x2, y2 < y1 ? y1 : y2);
    }
    lp_buf_puts(b, "</annotation>\n");
    lp_buf_printf(&z->path, "Annotations/%s.xml", im->stem);
    lp_imgzip_add(z, out, z->path.data, b->data, b->len);
}

static void voc_begin(lp_export_ctx *cx, lp_buf *out)
{
    (void)out;
    lp_imgzip_start(cx, "voc", voc_image);
}

static const char *const voc_kinds[] = {"imageannotation", NULL};

const lp_export_format lp_export_voc = {
    .version = 1,
    .name = "voc",
    .summary = "Pascal VOC: a zip of one Annotations/NAME.xml per image",
    .content_type = "application/zip",
    .extension = "zip",
    .kinds = voc_kinds,
    .begin = voc_begin,
    .task = lp_imgzip_task,
    .end = lp_imgzip_end,
    .free_state = lp_imgzip_free,
};
