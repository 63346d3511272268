/* convert_coco.c -- COCO object-detection ("instances") and keypoint
 * files read into imageannotation tasks, as cocodataset.org's "Data
 * format" page defines them: {"images": [{id, file_name, width, height,
 * coco_url?}], "annotations": [{id, image_id, category_id, bbox [x, y, w,
 * h], segmentation, iscrowd, keypoints?, num_keypoints?}], "categories":
 * [{id, name, keypoints?}]}.
 *
 * Every image is a task (an image without annotations too: an image known
 * to hold nothing), its attachment the source's media file of that
 * file_name, else its coco_url, else image_base + file_name; data.width
 * and data.height from the image entry; unique_id its file_name.  Each
 * annotation becomes shapes labelled with its category's name:
 *   - segmentation polygons ([[x1, y1, x2, y2, ...], ...]): one polygon per
 *     list;
 *   - an RLE mask (segmentation {"size", "counts"}, compressed or not, as
 *     crowd annotations carry): decoded and each connected region's outer
 *     outline becomes a polygon along the pixel edges (rle.h; holes are
 *     not kept, which the polygon shape cannot say); a mask whose set
 *     pixels span a box of over 2^24 pixels is a bad item;
 *   - otherwise a bbox with a positive width and height: a box;
 *   - keypoints [x, y, v, ...]: each labelled one (v > 0) a point, labelled
 *     with its name in the category's "keypoints" when the project has that
 *     label, else with the category's name.
 * This inverts Loupe's own COCO export (export_coco.c), so exporting what
 * was imported gives the same images, categories and shapes.
 *
 * Coordinates that overshoot the image by up to one pixel (rounding in the
 * tools that wrote the file) are clipped to it; further out, the kind's
 * validation refuses the image naming the shape.  What makes no task: an
 * annotation naming an image or a category the file does not have, a
 * malformed bbox, polygon, RLE or keypoints list, an image entry without
 * id or with no way to find its picture; each is a bad item naming its
 * place (annotations.json: annotations[12]).  An image with a bad
 * annotation is left out whole (all in or all out).  A file that is not
 * JSON, or has no "images" array, fails the import.
 *
 * Into a segmentation project each image's annotations are painted into
 * one label map of the image's size (its entry's width and height, else
 * its file's, else its first RLE's): an RLE mask as it is, polygons by a
 * scanline fill of the pixels whose centres are inside (even-odd), else
 * the bbox; a later annotation paints over an earlier one, so masks never
 * overlap.  The map becomes one mask per label, compressed RLE.  A
 * category that is not one of the project's labels, an RLE of another
 * size than the image, a polygon or bbox coordinate beyond +-2^31
 * (LP_RLE_MAX_COORD), or an image of no known size leaves the image out
 * as a bad item. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "kind.h"
#include "rle.h"

/* Overshoot past the image's edge clipped silently, in pixels. */
#define CLIP_SLACK 1.0

typedef struct coco_image {
    json_int_t id;
    size_t index;   /* in "images" */
    json_t *shapes; /* the shapes of its annotations so far */
    char *bad;      /* why its annotations cannot all be read (NULL: fine) */
    char *bad_field;
} coco_image;

typedef struct coco_cat {
    json_int_t id;
    const char *name;
    const json_t *keypoints; /* the category's keypoint names, or NULL */
} coco_cat;

static int by_image_id(const void *a, const void *b)
{
    json_int_t x = ((const coco_image *)a)->id, y = ((const coco_image *)b)->id;
    return x < y ? -1 : x > y;
}

/* By id, then by place in the file: the first of images sharing an id
 * comes first. */
static int by_image_id_index(const void *a, const void *b)
{
    const coco_image *x = a, *y = b;
    int c = by_image_id(a, b);
    return c ? c : x->index < y->index ? -1 : x->index > y->index;
}

static int by_cat_id(const void *a, const void *b)
{
    json_int_t x = ((const coco_cat *)a)->id, y = ((const coco_cat *)b)->id;
    return x < y ? -1 : x > y;
}

/* The image of that id (the first in the file if several share it). */
static coco_image *find_image(coco_image *v, size_t n, json_int_t id)
{
    coco_image key = {.id = id};
    coco_image *im = bsearch(&key, v, n, sizeof *v, by_image_id);
    while (im && im > v && im[-1].id == id) im--;
    return im;
}

static const coco_cat *find_cat(const coco_cat *v, size_t n, json_int_t id)
{
    coco_cat key = {.id = id};
    return bsearch(&key, v, n, sizeof *v, by_cat_id);
}

/* v clipped into [0, max] when it overshoots by CLIP_SLACK at most. */
static double clip(double v, double max)
{
    if (v < 0 && v >= -CLIP_SLACK) return 0;
    if (max > 0 && v > max && v <= max + CLIP_SLACK) return max;
    return v;
}

static int number(const json_t *v, double *out)
{
    if (!json_is_number(v)) return -1;
    *out = json_number_value(v);
    return isfinite(*out) ? 0 : -1;
}

/* v as a side of an image in pixels (4 and 4.0 alike, as the kinds read
 * it), or 0 when it is not a positive integer a mask can have. */
static json_int_t side(const json_t *v)
{
    double x;
    return !number(v, &x) && x >= 1 && x <= (double)LP_RLE_MAX_PIXELS && x == floor(x)
               ? (json_int_t)x
               : 0;
}

static json_t *shape(const char *type, const char *label)
{
    return json_pack("{s:s, s:s}", "type", type, "label", label);
}

/* A polygon from a flat list of coordinates; NULL with *why set. */
static json_t *polygon(const json_t *flat, const char *label, double w, double h, const char **why)
{
    size_t n = json_array_size(flat);
    if (!json_is_array(flat) || n < 6 || n % 2) {
        *why = "a polygon is a list of at least 3 x, y pairs (6 numbers, an even count)";
        return NULL;
    }
    json_t *verts = json_array();
    for (size_t i = 0; i < n; i += 2) {
        double x, y;
        if (number(json_array_get(flat, i), &x) || number(json_array_get(flat, i + 1), &y)) {
            json_decref(verts);
            *why = "a polygon's coordinates must be numbers";
            return NULL;
        }
        json_array_append_new(verts, json_pack("{s:f, s:f}", "x", clip(x, w), "y", clip(y, h)));
    }
    json_t *s = shape("polygon", label);
    json_object_set_new(s, "vertices", verts);
    return s;
}

/* The shapes of one annotation, appended to shapes: 0, or -1 with *why. */
static int annotation_shapes(const json_t *a, const coco_cat *cat, const lp_convert *c, double w,
                             double h, json_t *shapes, const char **why, char *whybuf,
                             size_t whylen)
{
    const json_t *seg = json_object_get(a, "segmentation");
    const json_t *bbox = json_object_get(a, "bbox");
    size_t before = json_array_size(shapes);
    if (json_is_array(seg) && json_array_size(seg) > 0) {
        size_t i;
        const json_t *poly;
        json_array_foreach(seg, i, poly)
        {
            json_t *s = polygon(poly, cat->name, w, h, why);
            if (!s) return -1;
            json_array_append_new(shapes, s);
        }
    } else if (json_is_object(seg)) {
        lp_rle rle;
        if (lp_rle_from_coco(seg, &rle, whybuf, whylen) < 0) {
            *why = whybuf;
            return -1;
        }
        json_t *polys;
        int rc = lp_rle_outlines(&rle, &polys);
        lp_rle_fini(&rle);
        if (rc < 0) {
            snprintf(whybuf, whylen,
                     "segmentation: the RLE mask's set pixels span more than %llu pixels, "
                     "more than Loupe outlines as polygons",
                     (unsigned long long)LP_RLE_MAX_OUTLINE_PIXELS);
            *why = whybuf;
            return -1;
        }
        size_t i;
        json_t *verts;
        json_array_foreach(polys, i, verts)
        {
            json_t *s = shape("polygon", cat->name);
            json_object_set(s, "vertices", verts);
            json_array_append_new(shapes, s);
        }
        json_decref(polys);
    } else if (seg && !json_is_array(seg) && !json_is_null(seg)) {
        *why = "segmentation must be a list of polygons or an RLE object {\"size\", \"counts\"}";
        return -1;
    }
    double b[4] = {0, 0, 0, 0};
    if (bbox && (!json_is_array(bbox) || json_array_size(bbox) != 4 ||
                 number(json_array_get(bbox, 0), &b[0]) || number(json_array_get(bbox, 1), &b[1]) ||
                 number(json_array_get(bbox, 2), &b[2]) || number(json_array_get(bbox, 3), &b[3]) ||
                 b[2] < 0 || b[3] < 0)) {
        *why = "bbox must be [x, y, width, height], four numbers, width and height not negative";
        return -1;
    }
    const json_t *kp = json_object_get(a, "keypoints");
    if (kp && (!json_is_array(kp) || json_array_size(kp) % 3)) {
        *why = "keypoints must be a list of x, y, v triples";
        return -1;
    }
    if (json_array_size(shapes) == before && bbox && b[2] > 0 && b[3] > 0) {
        double x = clip(b[0], w), y = clip(b[1], h);
        double x2 = clip(b[0] + b[2], w), y2 = clip(b[1] + b[3], h);
        json_t *s = shape("box", cat->name);
        json_object_set_new(s, "x", json_real(x));
        json_object_set_new(s, "y", json_real(y));
        json_object_set_new(s, "width", json_real(x2 - x));
        json_object_set_new(s, "height", json_real(y2 - y));
        json_array_append_new(shapes, s);
    }
    for (size_t k = 0; k + 2 < json_array_size(kp); k += 3) {
        double x, y, v;
        if (number(json_array_get(kp, k), &x) || number(json_array_get(kp, k + 1), &y) ||
            number(json_array_get(kp, k + 2), &v)) {
            *why = "keypoints must be numbers";
            return -1;
        }
        if (v <= 0) continue; /* not labelled */
        const char *name = json_string_value(json_array_get(cat->keypoints, k / 3));
        const char *label = name && lp_convert_has_label(c, name) ? name : cat->name;
        json_t *s = shape("point", label);
        json_object_set_new(s, "x", json_real(clip(x, w)));
        json_object_set_new(s, "y", json_real(clip(y, h)));
        json_array_append_new(shapes, s);
    }
    return 0;
}

/* The image size of a segmentation import when the image entry and file
 * give none: the first RLE among its annotations (indexes idx). */
static void rle_size(const json_t *anns, const json_t *idx, json_int_t *w, json_int_t *h)
{
    size_t k;
    const json_t *i;
    json_array_foreach(idx, k, i)
    {
        const json_t *size = json_object_get(
            json_object_get(json_array_get(anns, (size_t)json_integer_value(i)), "segmentation"),
            "size");
        json_int_t sh = json_integer_value(json_array_get(size, 0));
        json_int_t sw = json_integer_value(json_array_get(size, 1));
        if (sh > 0 && sw > 0) {
            *w = sw, *h = sh;
            return;
        }
    }
}

/* Paints annotation a (label value v) into map (w x h): 0, or -1 with why. */
static int paint(const json_t *a, unsigned char *map, uint32_t w, uint32_t h, unsigned char v,
                 char *why, size_t len)
{
    const json_t *seg = json_object_get(a, "segmentation"), *bbox = json_object_get(a, "bbox");
    if (json_is_array(seg) && json_array_size(seg) > 0) {
        size_t i;
        const json_t *poly;
        json_array_foreach(seg, i, poly)
        {
            size_t n = json_array_size(poly);
            if (!json_is_array(poly) || n < 6 || n % 2) {
                snprintf(why, len, "a polygon is a list of at least 3 x, y pairs");
                return -1;
            }
            double *xy = lp_malloc(n * sizeof *xy);
            for (size_t k = 0; k < n; k++)
                if (number(json_array_get(poly, k), &xy[k])) {
                    free(xy);
                    snprintf(why, len, "a polygon's coordinates must be numbers");
                    return -1;
                }
            int rc = lp_rle_fill_polygon(map, w, h, xy, n / 2, v);
            free(xy);
            if (rc < 0) {
                snprintf(why, len, "segmentation[%zu]: a coordinate lies beyond +-%.0f", i,
                         LP_RLE_MAX_COORD);
                return -1;
            }
        }
        return 0;
    }
    if (json_is_object(seg)) {
        lp_rle r;
        if (lp_rle_from_coco(seg, &r, why, len) < 0) return -1;
        if (r.width != w || r.height != h) {
            snprintf(why, len, "an RLE mask of [%u, %u] on an image of %u x %u (height, width)",
                     r.height, r.width, h, w);
            lp_rle_fini(&r);
            return -1;
        }
        uint64_t pos = 0;
        for (size_t k = 0; k < r.n; k++) {
            uint64_t end = pos + r.counts[k];
            if (k % 2)
                for (uint64_t p = pos; p < end; p++) map[(p % h) * w + p / h] = v;
            pos = end;
        }
        lp_rle_fini(&r);
        return 0;
    }
    double b[4];
    if (json_is_array(bbox) && json_array_size(bbox) == 4 &&
        !number(json_array_get(bbox, 0), &b[0]) && !number(json_array_get(bbox, 1), &b[1]) &&
        !number(json_array_get(bbox, 2), &b[2]) && !number(json_array_get(bbox, 3), &b[3]) &&
        b[2] > 0 && b[3] > 0) {
        double xy[] = {b[0], b[1], b[0] + b[2], b[1], b[0] + b[2], b[1] + b[3], b[0], b[1] + b[3]};
        if (lp_rle_fill_polygon(map, w, h, xy, 4, v) < 0) {
            snprintf(why, len, "bbox: a corner lies beyond +-%.0f", LP_RLE_MAX_COORD);
            return -1;
        }
        return 0;
    }
    snprintf(why, len, "has no segmentation (polygons or RLE) nor a bbox to paint");
    return -1;
}

/* A segmentation response from an image's annotations (indexes idx into
 * anns), painted in order into a label map of w x h (0: from the first
 * RLE); NULL with why when one cannot be painted. */
static json_t *mask_response(const lp_convert *c, const json_t *anns, const json_t *idx,
                             const coco_cat *cat, size_t ncat, json_int_t w, json_int_t h,
                             char *why, size_t len)
{
    const json_t *labels = json_object_get(c->project->params, "labels");
    size_t nl = json_array_size(labels), k;
    const json_t *i;
    if (w <= 0 || h <= 0) w = h = 0, rle_size(anns, idx, &w, &h);
    if (!json_array_size(idx)) return json_pack("{s:[]}", "masks");
    if (w <= 0 || h <= 0) {
        snprintf(why, len,
                 "the image's width and height are not known (the image entry, its "
                 "file or an RLE mask gives them)");
        return NULL;
    }
    if ((uint64_t)w > LP_RLE_MAX_PIXELS || (uint64_t)h > LP_RLE_MAX_PIXELS ||
        (uint64_t)w * (uint64_t)h > LP_RLE_MAX_PIXELS) {
        snprintf(why, len, "the image (%lld x %lld) is larger than a mask Loupe reads",
                 (long long)w, (long long)h);
        return NULL;
    }
    unsigned char *map = lp_calloc((size_t)w * (size_t)h + 1, 1);
    json_array_foreach(idx, k, i)
    {
        size_t at = (size_t)json_integer_value(i);
        const json_t *a = json_array_get(anns, at);
        const coco_cat *ct =
            find_cat(cat, ncat, json_integer_value(json_object_get(a, "category_id")));
        long li = ct ? lp_names_find(labels, ct->name, strlen(ct->name)) : -1;
        char inner[160];
        if (li < 0 || li >= 255) {
            snprintf(why, len,
                     "annotations[%zu]: the category \"%s\" is not a label of the project", at,
                     ct ? ct->name : "");
            free(map);
            return NULL;
        }
        if (paint(a, map, (uint32_t)w, (uint32_t)h, (unsigned char)(li + 1), inner, sizeof inner)) {
            snprintf(why, len, "annotations[%zu]: %s", at, inner);
            free(map);
            return NULL;
        }
    }
    lp_rle *out = lp_calloc(nl ? nl : 1, sizeof *out);
    lp_rle_from_labels(map, (uint32_t)w, (uint32_t)h, nl, out);
    free(map);
    json_t *masks = json_array();
    for (size_t l = 0; l < nl; l++) {
        if (out[l].n) {
            char *counts = lp_rle_encode_string(&out[l]);
            json_array_append_new(masks,
                                  json_pack("{s:O, s:{s:[I, I], s:s}}", "label",
                                            json_object_get(json_array_get(labels, l), "name"),
                                            "rle", "size", h, w, "counts", counts));
            free(counts);
        }
        lp_rle_fini(&out[l]);
    }
    free(out);
    return json_pack("{s:o}", "masks", masks);
}

/* One COCO document (file f, parsed as doc). */
static int convert_doc(lp_convert *c, const lp_src_text *f, const json_t *doc, lp_verr *e)
{
    const json_t *images = json_object_get(doc, "images");
    const json_t *anns = json_object_get(doc, "annotations");
    const json_t *cats = json_object_get(doc, "categories");
    if (!json_is_array(images))
        return lp_verr_set(e, f->name, "has no \"images\" list: not a COCO file");
    if (anns && !json_is_array(anns))
        return lp_verr_set(e, f->name, "\"annotations\" must be a list");
    if (cats && !json_is_array(cats))
        return lp_verr_set(e, f->name, "\"categories\" must be a list");
    size_t nimg = json_array_size(images), ncat = 0, i;
    int seg = c->project && c->project->kind == &lp_kind_segmentation;
    coco_image *img = lp_calloc(nimg ? nimg : 1, sizeof *img);
    coco_cat *cat = lp_calloc(json_array_size(cats) + 1, sizeof *cat);
    const json_t *v;
    json_array_foreach(cats, i, v)
    {
        const json_t *id = json_object_get(v, "id");
        const char *name = json_string_value(json_object_get(v, "name"));
        if (!json_is_integer(id) || !name) {
            free(img), free(cat);
            return lp_verr_set(e, f->name, "categories[%zu] needs an integer id and a name", i);
        }
        cat[ncat++] = (coco_cat){json_integer_value(id), name, json_object_get(v, "keypoints")};
    }
    qsort(cat, ncat, sizeof *cat, by_cat_id);
    size_t n = 0;
    json_array_foreach(images, i, v)
    {
        const json_t *id = json_object_get(v, "id");
        if (!json_is_integer(id)) {
            lp_convert_bad(c, "id", "an image needs an integer id", "%s: images[%zu]", f->name, i);
            continue;
        }
        img[n++] = (coco_image){.id = json_integer_value(id), .index = i, .shapes = json_array()};
    }
    qsort(img, n, sizeof *img, by_image_id_index);
    for (size_t k = 1; k < n; k++)
        if (img[k].id == img[k - 1].id && !img[k].bad) {
            img[k].bad = lp_sprintf("image id %lld is also images[%zu]'s", (long long)img[k].id,
                                    img[k - 1].index);
            img[k].bad_field = lp_strdup("id");
        }
    json_array_foreach(anns, i, v)
    {
        const json_t *iid = json_object_get(v, "image_id"),
                     *cid = json_object_get(v, "category_id");
        coco_image *im = json_is_integer(iid) ? find_image(img, n, json_integer_value(iid)) : NULL;
        const coco_cat *ct =
            json_is_integer(cid) ? find_cat(cat, ncat, json_integer_value(cid)) : NULL;
        char msg[160];
        if (!im) {
            if (json_is_integer(iid))
                snprintf(msg, sizeof msg, "%lld names no image of the file",
                         (long long)json_integer_value(iid));
            else
                snprintf(msg, sizeof msg, "is missing or not an integer");
            lp_convert_bad(c, "image_id", msg, "%s: annotations[%zu]", f->name, i);
            continue;
        }
        if (im->bad) continue;
        if (!ct) {
            snprintf(msg, sizeof msg, "annotations[%zu] names no category of the file", i);
            im->bad = lp_strdup(msg);
            im->bad_field = lp_strdup("category_id");
            continue;
        }
        if (seg) { /* painted when the image is emitted */
            json_array_append_new(im->shapes, json_integer((json_int_t)i));
            continue;
        }
        const json_t *ij = json_array_get(images, im->index);
        double w = 0, h = 0;
        number(json_object_get(ij, "width"), &w);
        number(json_object_get(ij, "height"), &h);
        const char *why = NULL;
        char whybuf[160];
        if (annotation_shapes(v, ct, c, w, h, im->shapes, &why, whybuf, sizeof whybuf) < 0) {
            snprintf(msg, sizeof msg, "annotations[%zu]: %s", i, why);
            im->bad = lp_strdup(msg);
            im->bad_field = lp_strdup("annotations");
        }
    }
    /* The images, in the file's order. */
    coco_image **order = lp_calloc(nimg ? nimg : 1, sizeof *order);
    for (size_t k = 0; k < n; k++) order[img[k].index] = &img[k];
    for (size_t k = 0; k < nimg; k++) {
        coco_image *im = order[k];
        if (!im) continue;
        const json_t *ij = json_array_get(images, k);
        const char *file = json_string_value(json_object_get(ij, "file_name"));
        const char *url = json_string_value(json_object_get(ij, "coco_url"));
        if (!url) url = json_string_value(json_object_get(ij, "flickr_url"));
        char where[64];
        snprintf(where, sizeof where, "images[%zu]", k);
        if (im->bad) {
            lp_convert_bad(c, im->bad_field, im->bad, "%s: %s %s", f->name, where,
                           file ? file : "");
            continue;
        }
        int mw = 0, mh = 0;
        json_t *att = lp_convert_image(c, file, url, &mw, &mh);
        if (!att) {
            lp_convert_bad(c, "file_name",
                           file ? "is not in the upload, the image has no coco_url, and no "
                                  "image_base was given"
                                : "the image has no file_name nor coco_url",
                           "%s: %s %s", f->name, where, file ? file : "");
            continue;
        }
        json_t *data = json_object();
        const json_t *w = json_object_get(ij, "width"), *h = json_object_get(ij, "height");
        if (json_is_number(w) && json_is_number(h)) {
            json_object_set(data, "width", (json_t *)w);
            json_object_set(data, "height", (json_t *)h);
        } else if (mw && mh) {
            json_object_set_new(data, "width", json_integer(mw));
            json_object_set_new(data, "height", json_integer(mh));
        }
        json_t *task = json_pack("{s:[o], s:o, s:{s:I}}", "attachments", att, "data", data,
                                 "metadata", "coco_image_id", (json_int_t)im->id);
        if (file && *file && strlen(file) <= 255)
            json_object_set_new(task, "unique_id", json_string(file));
        json_t *resp;
        if (seg) {
            char why[200];
            const json_t *dw = json_object_get(data, "width"),
                         *dh = json_object_get(data, "height");
            json_int_t w = side(dw), h = side(dh);
            resp = mask_response(c, anns, im->shapes, cat, ncat, w, h, why, sizeof why);
            if (!resp) {
                lp_convert_bad(c, "annotations", why, "%s: %s %s", f->name, where,
                               file ? file : "");
                json_decref(task);
                continue;
            }
            if (!w) { /* the size of its RLE */
                const json_t *size = json_object_get(
                    json_object_get(json_array_get(json_object_get(resp, "masks"), 0), "rle"),
                    "size");
                if (size) {
                    json_object_set(data, "width", json_array_get(size, 1));
                    json_object_set(data, "height", json_array_get(size, 0));
                }
            }
        } else {
            resp = json_pack("{s:O}", "annotations", im->shapes);
        }
        lp_convert_task(c, task, resp, -1, "%s: %s %s", f->name, where, file ? file : "");
    }
    for (size_t k = 0; k < n; k++) {
        json_decref(img[k].shapes);
        free(img[k].bad);
        free(img[k].bad_field);
    }
    free(order);
    free(img);
    free(cat);
    return 0;
}

static int run(lp_convert *c, lp_verr *e)
{
    size_t docs = 0;
    for (size_t i = 0; i < c->src->ntexts; i++) {
        const lp_src_text *f = &c->src->texts[i];
        /* A zip or folder: its .json files; a single document: itself. */
        if (c->src->ntexts > 1 && !lp_src_has_suffix(f->name, ".json")) continue;
        json_error_t err;
        json_t *doc = json_loadb(f->data, f->len, 0, &err);
        if (!doc) {
            if (c->src->ntexts > 1) continue; /* another JSON file of the folder */
            return lp_verr_set(e, "body", "%s is not JSON (line %d: %s)", f->name, err.line,
                               err.text);
        }
        if (!json_is_array(json_object_get(doc, "images")) && c->src->ntexts > 1) {
            json_decref(doc);
            continue;
        }
        int rc = convert_doc(c, f, doc, e);
        json_decref(doc);
        if (rc < 0) return rc;
        docs++;
    }
    if (!docs) return lp_verr_set(e, "body", "holds no COCO file (a JSON object with \"images\")");
    return 0;
}

static const char *const kinds[] = {"imageannotation", "segmentation", NULL};

const lp_converter lp_convert_coco = {
    .name = "coco",
    .summary = "COCO instances/keypoints JSON: boxes, polygons, RLE masks (as outlines), "
               "keypoints; for segmentation, RLE and polygons painted as masks",
    .kinds = kinds,
    .run = run,
};
