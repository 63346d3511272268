/* convert_masks.c -- index masks read into segmentation tasks: a zip or
 * folder of images and, under a folder named masks/, one PNG per image
 * whose pixel values are label numbers (0 background), as Loupe's masks
 * export writes them and as Pascal VOC's SegmentationClass and most
 * segmentation datasets keep them.
 *
 * A mask masks/STEM.png belongs to the image of the same stem (its file
 * name without the extension: street.jpg for masks/street.png), found
 * among the upload's images outside masks/; without one, its image is
 * image_base + STEM.png when image_base is given, else the mask is a bad
 * item.  The values are named by labels.txt (anywhere in the upload), one
 * name a line from value 0 (the first line names background and is not a
 * label); without it value i + 1 is params.labels[i].  The PNG is 8-bit
 * grey or 8-bit (or smaller) palette: its values, not its colours, are
 * read.  Each image becomes a task of the mask's size with one mask per
 * label present, compressed RLE; an image without a mask, a task without
 * labels.  A value labels.txt does not name (without it, a value beyond
 * the project's labels), a name not in the project's
 * labels, a mask of another size than its image's header, or a PNG that
 * is not an index mask (RGB, 16-bit) is a bad item naming the mask.
 *
 * The masks are read from the source's text files: lp_src_is_text keeps
 * a PNG under masks/ as bytes instead of storing it as an image. */
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "rle.h"

/* A PNG in memory being read. */
typedef struct png_src {
    const unsigned char *data;
    size_t len, at;
} png_src;

static void read_mem(png_structp png, png_bytep out, size_t n)
{
    png_src *s = png_get_io_ptr(png);
    if (n > s->len - s->at) png_error(png, "the file ends early");
    memcpy(out, s->data + s->at, n);
    s->at += n;
}

/* Decodes an index-mask PNG: 0 with *map (w x h bytes, the caller frees
 * it), or -1 with why. */
static int decode_png(const char *data, size_t len, unsigned char **map, uint32_t *w, uint32_t *h,
                      char *why, size_t whylen)
{
    *map = NULL;
    if (len < 8 || png_sig_cmp((png_const_bytep)data, 0, 8)) {
        snprintf(why, whylen, "is not a PNG file");
        return -1;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (!png) {
        snprintf(why, whylen, "cannot be read (libpng)");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    png_src src = {(const unsigned char *)data, len, 0};
    /* What a longjmp from libpng (a damaged file) must free. */
    unsigned char *volatile out = NULL;
    png_bytep *volatile rows = NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(out);
        free(rows);
        snprintf(why, whylen, "is a damaged PNG file");
        return -1;
    }
    png_set_read_fn(png, &src, read_mem);
    png_set_user_limits(png, 1 << 20, 1 << 20);
    png_read_info(png, info);
    png_uint_32 pw = png_get_image_width(png, info), ph = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info), type = png_get_color_type(png, info);
    if ((type != PNG_COLOR_TYPE_GRAY && type != PNG_COLOR_TYPE_PALETTE) || depth > 8) {
        png_destroy_read_struct(&png, &info, NULL);
        snprintf(why, whylen,
                 "is not an index mask: it must be 8-bit grey or palette, its pixel values the "
                 "label numbers");
        return -1;
    }
    if ((uint64_t)pw * ph > LP_RLE_MAX_PIXELS) {
        png_destroy_read_struct(&png, &info, NULL);
        snprintf(why, whylen, "is larger than a mask Loupe reads");
        return -1;
    }
    if (depth < 8) png_set_packing(png); /* one byte a pixel, values kept */
    if (png_get_interlace_type(png, info) != PNG_INTERLACE_NONE) png_set_interlace_handling(png);
    png_read_update_info(png, info);
    out = lp_malloc((size_t)pw * ph + 1);
    rows = lp_malloc((ph ? ph : 1) * sizeof *rows);
    for (png_uint_32 y = 0; y < ph; y++) rows[y] = out + (size_t)y * pw;
    png_read_image(png, rows);
    free(rows);
    rows = NULL;
    png_destroy_read_struct(&png, &info, NULL);
    *map = out;
    *w = pw, *h = ph;
    return 0;
}

/* 1 if name is a mask: a .png under a folder called masks. */
static int is_mask(const char *name)
{
    return lp_src_has_suffix(name, ".png") &&
           (!strncmp(name, "masks/", 6) || strstr(name, "/masks/") != NULL);
}

/* The stem of path (its last segment without the extension) into out. */
static void stem_of(const char *path, char *out, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot > base ? (size_t)(dot - base) : strlen(base);
    snprintf(out, n, "%.*s", (int)(len < n ? len : n - 1), base);
}

/* value -> project label index + 1 (0: background, -1: not named), from
 * labels.txt or params.labels; *from_txt says which. */
static int value_map(const lp_convert *c, int map[256], int *from_txt, char *why, size_t whylen)
{
    const json_t *labels = json_object_get(c->project->params, "labels");
    const lp_src_text *lt = NULL;
    for (size_t i = 0; i < c->src->ntexts && !lt; i++) {
        const char *n = c->src->texts[i].name, *slash = strrchr(n, '/');
        if (!strcmp(slash ? slash + 1 : n, "labels.txt")) lt = &c->src->texts[i];
    }
    for (int v = 0; v < 256; v++) map[v] = -1;
    map[0] = 0;
    *from_txt = lt != NULL;
    if (!lt) {
        for (size_t i = 0; i < json_array_size(labels) && i < 255; i++) map[i + 1] = (int)i + 1;
        return 0;
    }
    const char *s = lt->data, *end = lt->data + lt->len;
    for (int v = 0; s < end && v < 256; v++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
        size_t k = n;
        while (k && (s[k - 1] == '\r' || s[k - 1] == ' ')) k--;
        if (v > 0 && k) {
            long li = lp_names_find(labels, s, k);
            if (li < 0 || li > 253) {
                snprintf(why, whylen, "line %d names \"%.*s\", which is not a label of the project",
                         v + 1, (int)(k > 60 ? 60 : k), s);
                return -1;
            }
            map[v] = (int)li + 1;
        }
        s += n + 1;
    }
    return 0;
}

/* The response of mask png (its values mapped by vmap, from labels.txt
 * when from_txt, else from params.labels): NULL with why. */
static json_t *mask_response(const lp_convert *c, const lp_src_text *png, const int vmap[256],
                             int from_txt, uint32_t *w, uint32_t *h, char *why, size_t whylen)
{
    unsigned char *map;
    if (decode_png(png->data, png->len, &map, w, h, why, whylen)) return NULL;
    size_t n = (size_t)*w * *h;
    for (size_t p = 0; p < n; p++) {
        int v = vmap[map[p]];
        if (v < 0) {
            if (from_txt)
                snprintf(why, whylen,
                         "pixel x=%zu, y=%zu has the value %d, which labels.txt does not name",
                         p % *w, p / *w, map[p]);
            else
                snprintf(why, whylen,
                         "pixel x=%zu, y=%zu has the value %d, beyond the project's %zu labels "
                         "(value i + 1 is labels[i]: the upload has no labels.txt)",
                         p % *w, p / *w, map[p],
                         json_array_size(json_object_get(c->project->params, "labels")));
            free(map);
            return NULL;
        }
        map[p] = (unsigned char)v;
    }
    const json_t *labels = json_object_get(c->project->params, "labels");
    size_t nl = json_array_size(labels);
    lp_rle *out = lp_calloc(nl ? nl : 1, sizeof *out);
    lp_rle_from_labels(map, *w, *h, nl, out);
    free(map);
    json_t *masks = json_array();
    for (size_t l = 0; l < nl; l++) {
        if (out[l].n) {
            char *counts = lp_rle_encode_string(&out[l]);
            json_array_append_new(masks,
                                  json_pack("{s:O, s:{s:[i, i], s:s}}", "label",
                                            json_object_get(json_array_get(labels, l), "name"),
                                            "rle", "size", (int)*h, (int)*w, "counts", counts));
            free(counts);
        }
        lp_rle_fini(&out[l]);
    }
    free(out);
    return json_pack("{s:o}", "masks", masks);
}

static int run(lp_convert *c, lp_verr *e)
{
    char why[200];
    int vmap[256], from_txt;
    if (value_map(c, vmap, &from_txt, why, sizeof why))
        return lp_verr_set(e, "labels.txt", "%s", why);
    const lp_src *s = c->src;
    char *used = lp_calloc(s->nmedia + 1, 1); /* images given a mask */
    size_t nmasks = 0;
    for (size_t i = 0; i < s->ntexts; i++) {
        const lp_src_text *t = &s->texts[i];
        if (!is_mask(t->name)) continue;
        nmasks++;
        char stem[256];
        stem_of(t->name, stem, sizeof stem);
        const lp_src_media *img = NULL;
        for (size_t k = 0; k < s->nmedia && !img; k++) {
            char ms[256];
            stem_of(s->media[k].name, ms, sizeof ms);
            if (!strcmp(s->media[k].type, "image") && !strcmp(ms, stem) && !used[k]) {
                img = &s->media[k];
                used[k] = 1;
            }
        }
        uint32_t w, h;
        json_t *resp = mask_response(c, t, vmap, from_txt, &w, &h, why, sizeof why);
        if (!resp) {
            lp_convert_bad(c, "mask", why, "%s", t->name);
            continue;
        }
        int iw = 0, ih = 0;
        char file[300];
        snprintf(file, sizeof file, "%s.png", stem);
        json_t *att = lp_convert_image(c, img ? img->name : file, NULL, &iw, &ih);
        if (!att) {
            json_decref(resp);
            lp_convert_bad(c, "mask",
                           "has no image of its name in the upload, and no image_base was given",
                           "%s", t->name);
            continue;
        }
        if (iw && ih && ((uint32_t)iw != w || (uint32_t)ih != h)) {
            json_decref(resp);
            json_decref(att);
            snprintf(why, sizeof why, "is %u x %u but its image %s is %d x %d", w, h,
                     img ? img->name : file, iw, ih);
            lp_convert_bad(c, "mask", why, "%s", t->name);
            continue;
        }
        json_t *task = json_pack("{s:[o], s:{s:i, s:i}}", "attachments", att, "data", "width",
                                 (int)w, "height", (int)h);
        const char *name = img ? img->base : file;
        if (strlen(name) <= 255) json_object_set_new(task, "unique_id", json_string(name));
        lp_convert_task(c, task, resp, -1, "%s", t->name);
    }
    /* Images with no mask: tasks without labels. */
    for (size_t k = 0; k < s->nmedia; k++) {
        if (used[k] || strcmp(s->media[k].type, "image") || is_mask(s->media[k].name)) continue;
        int iw = 0, ih = 0;
        json_t *att = lp_convert_image(c, s->media[k].name, NULL, &iw, &ih);
        if (!att) continue;
        json_t *task = json_pack("{s:[o], s:{}}", "attachments", att, "data");
        if (iw && ih) {
            json_object_set_new(json_object_get(task, "data"), "width", json_integer(iw));
            json_object_set_new(json_object_get(task, "data"), "height", json_integer(ih));
        }
        if (strlen(s->media[k].base) <= 255)
            json_object_set_new(task, "unique_id", json_string(s->media[k].base));
        lp_convert_task(c, task, NULL, -1, "%s", s->media[k].name);
    }
    free(used);
    if (!nmasks && !s->nmedia)
        return lp_verr_set(e, "body", "holds no masks/NAME.png and no image");
    return 0;
}

static const char *const kinds[] = {"segmentation", NULL};

const lp_converter lp_convert_masks = {
    .name = "masks",
    .summary = "Index masks: images and masks/NAME.png (pixel value = label number, 0 "
               "background), named by labels.txt",
    .kinds = kinds,
    .run = run,
};
