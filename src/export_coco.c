/* export_coco.c -- the COCO object-detection ("instances") export of an
 * imageannotation project: one JSON object with "images", "annotations"
 * and "categories" as cocodataset.org's "Data format" page defines them.
 *
 * Each task that has a result is an image (id: the task's id); its
 * result's shapes are annotations: a box is its bbox with an empty
 * segmentation; a polygon is its segmentation, with its extent as bbox
 * and its area by the shoelace formula; a point is a keypoint annotation
 * (keypoints [x, y, 2], num_keypoints 1, bbox [x, y, 0, 0], area 0) of its
 * label's category, which then names that one keypoint ("keypoints":
 * [label], "skeleton": []), and every other annotation of such a
 * category gets "keypoints": [0, 0, 0], "num_keypoints": 0 (not labelled),
 * so that the category's keypoint arrays all have the same length.  Lines
 * have no COCO form and are left out; tasks without a result are left out
 * (listed with no annotations they would be images known to hold
 * nothing).  What is left out is counted in info.description.
 *
 * A segmentation project's result is one mask per label: each is an
 * annotation whose segmentation is the mask as COCO RLE, {"size": [h, w],
 * "counts": "..."} with the compressed counts (as COCO-Stuff writes its
 * per-category masks, iscrowd 0), its area the pixels set and its bbox
 * their extent.  An image without data.width and data.height takes its
 * masks' size.
 *
 * COCO puts every image before every annotation in one object, and the
 * export sees each task once.  So images are written as their tasks come,
 * and the task's annotations go to a spool file (one line each); the
 * export's end copies the spool out in parts of COPY_CHUNK bytes, then
 * writes the categories and info.  Memory holds one task and one
 * annotation line, whatever the project's size; the disk holds the
 * annotations once. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "rle.h"
#include "valid.h"

#define COPY_CHUNK (256 * 1024)

typedef struct coco {
    const json_t *labels;     /* params.labels: category i + 1 is labels[i] */
    json_t *cat_ids;          /* label name -> category id */
    size_t ncats;             /* params.labels' length */
    unsigned char *keypoints; /* [cat id]: a point of that category was written */
    FILE *spool;              /* the annotations, one a line (see spool_shape) */
    char *line;               /* getline's buffer, while the spool is read back */
    size_t linecap;
    int64_t nanns;     /* annotations written: the last annotation id */
    int64_t copied;    /* annotations copied out of the spool */
    size_t nimages;    /* images written */
    size_t no_result;  /* tasks left out: no result */
    size_t unsized;    /* images written with width and height 0 */
    size_t lines;      /* lines left out */
    size_t unknown;    /* shapes left out: a label not in params.labels */
    size_t unreadable; /* masks left out: not RLE that adds up */
    int masks;         /* a segmentation project */
    const char *kind;  /* the project's kind, for info.description */
    int failed;        /* errno of a spool write that failed, or 0 */
    int copying;       /* end() is copying the spool out */
    time_t started;    /* for info's year and date_created */
} coco;

/* A number as JSON: the shortest of %.15g, %.16g and %.17g that reads
 * back as v, so that 900.5 stays 900.5 and 0.1 is not 0.10000000000000001. */
static void put_num(lp_buf *b, double v)
{
    char s[32];
    if (v == 0) v = 0; /* no "-0" */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, v);
        if (strtod(s, NULL) == v) break;
    }
    lp_buf_puts(b, s);
}

/* A spool in $TMPDIR (else /tmp) that disappears when it is closed; NULL
 * with errno set if it cannot be made. */
static FILE *spool_open(void)
{
    const char *dir = getenv("TMPDIR");
    char *path = lp_sprintf("%s/loupe-coco-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd >= 0) unlink(path);
    free(path);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "w+");
    if (!f) close(fd);
    return f;
}

static void coco_free(lp_export_ctx *cx)
{
    coco *c = cx->state;
    if (!c) return;
    json_decref(c->cat_ids);
    free(c->keypoints);
    if (c->spool) fclose(c->spool);
    free(c->line);
    free(c);
    cx->state = NULL;
}

static void coco_begin(lp_export_ctx *cx, lp_buf *out)
{
    coco *c = lp_calloc(1, sizeof *c);
    cx->state = c;
    c->cat_ids = json_object();
    const json_t *labels = c->labels = json_object_get(cx->params, "labels");
    size_t i;
    const json_t *l;
    json_array_foreach(labels, i, l)
    {
        const char *name = json_string_value(json_object_get(l, "name"));
        if (name) json_object_set_new(c->cat_ids, name, json_integer((json_int_t)i + 1));
    }
    c->ncats = json_array_size(labels);
    c->keypoints = lp_calloc(c->ncats + 1, 1);
    c->started = time(NULL);
    c->kind = cx->kind ? cx->kind : "";
    c->masks = !strcmp(c->kind, "segmentation");
    c->spool = spool_open();
    if (!c->spool) c->failed = errno ? errno : EIO;
    lp_buf_puts(out, "{\"images\":[");
}

/* data.width or data.height as COCO's int, or 0 when absent or not a
 * positive number. */
static long long dimension(const json_t *data, const char *key)
{
    const json_t *v = json_object_get(data, key);
    double d = json_is_number(v) ? json_number_value(v) : 0;
    return d > 0 && d < 1e15 ? llround(d) : 0;
}

/* The point (x, y) of a JSON object, 0 for a missing coordinate (the kind
 * validated the response; this only keeps a bad one from crashing). */
static void point_of(const json_t *p, double *x, double *y)
{
    *x = json_number_value(json_object_get(p, "x"));
    *y = json_number_value(json_object_get(p, "y"));
}

/* Writes one shape of image image_id as a spool line: 'P' for a point or
 * 'S' for another shape, its category id, a space, then the annotation
 * object without its closing brace (end() adds the keypoints a category
 * with points needs, and the brace).  A shape COCO cannot hold is counted
 * and left out. */
static void spool_shape(coco *c, lp_buf *b, int64_t image_id, const json_t *s)
{
    const char *type = json_string_value(json_object_get(s, "type"));
    const char *label = json_string_value(json_object_get(s, "label"));
    if (!type) return;
    if (!strcmp(type, "line")) {
        c->lines++;
        return;
    }
    const json_t *id = label ? json_object_get(c->cat_ids, label) : NULL;
    if (!id) {
        c->unknown++;
        return;
    }
    int64_t cat = json_integer_value(id);
    int point = !strcmp(type, "point");
    double bbox[4] = {0, 0, 0, 0}, area = 0;
    b->len = 0;
    lp_buf_printf(b, "%c%lld {\"id\":%lld,\"image_id\":%lld,\"category_id\":%lld,",
                  point ? 'P' : 'S', (long long)cat, (long long)c->nanns + 1, (long long)image_id,
                  (long long)cat);
    if (!strcmp(type, "box")) {
        point_of(s, &bbox[0], &bbox[1]);
        bbox[2] = json_number_value(json_object_get(s, "width"));
        bbox[3] = json_number_value(json_object_get(s, "height"));
        area = bbox[2] * bbox[3];
        lp_buf_puts(b, "\"segmentation\":[],");
    } else if (!strcmp(type, "polygon")) {
        const json_t *vs = json_object_get(s, "vertices"), *v;
        size_t n = json_array_size(vs), i;
        double x0 = 0, y0 = 0, minx = 0, miny = 0, maxx = 0, maxy = 0, twice = 0, px = 0, py = 0;
        lp_buf_puts(b, "\"segmentation\":[[");
        json_array_foreach(vs, i, v)
        {
            double x, y;
            point_of(v, &x, &y);
            if (i) lp_buf_puts(b, ",");
            put_num(b, x);
            lp_buf_puts(b, ",");
            put_num(b, y);
            if (i == 0) {
                x0 = minx = maxx = x;
                y0 = miny = maxy = y;
            } else {
                twice += px * y - x * py;
            }
            minx = x < minx ? x : minx;
            maxx = x > maxx ? x : maxx;
            miny = y < miny ? y : miny;
            maxy = y > maxy ? y : maxy;
            px = x;
            py = y;
        }
        if (n) twice += px * y0 - x0 * py; /* the closing edge */
        lp_buf_puts(b, "]],");
        bbox[0] = minx;
        bbox[1] = miny;
        bbox[2] = maxx - minx;
        bbox[3] = maxy - miny;
        area = fabs(twice) / 2;
    } else if (point) {
        point_of(s, &bbox[0], &bbox[1]);
        lp_buf_puts(b, "\"segmentation\":[],\"keypoints\":[");
        put_num(b, bbox[0]);
        lp_buf_puts(b, ",");
        put_num(b, bbox[1]);
        lp_buf_puts(b, ",2],\"num_keypoints\":1,");
        c->keypoints[cat] = 1;
    } else {
        return; /* not a geometry of the kind */
    }
    lp_buf_puts(b, "\"area\":");
    put_num(b, area);
    lp_buf_puts(b, ",\"bbox\":[");
    for (int k = 0; k < 4; k++) {
        if (k) lp_buf_puts(b, ",");
        put_num(b, bbox[k]);
    }
    lp_buf_puts(b, "],\"iscrowd\":0\n");
    if (!c->failed && fwrite(b->data, 1, b->len, c->spool) != b->len)
        c->failed = errno ? errno : EIO;
    c->nanns++;
}

/* Writes one mask {label, rle} of a segmentation result as a spool line
 * (see spool_shape): its RLE with compressed counts, area and bbox. */
static void spool_mask(coco *c, lp_buf *b, int64_t image_id, const json_t *m)
{
    const char *label = json_string_value(json_object_get(m, "label"));
    const json_t *id = label ? json_object_get(c->cat_ids, label) : NULL;
    char why[160];
    lp_rle r;
    if (!id) {
        c->unknown++;
        return;
    }
    if (lp_rle_from_coco(json_object_get(m, "rle"), &r, why, sizeof why)) {
        c->unreadable++;
        return;
    }
    int64_t cat = json_integer_value(id);
    uint32_t box[4];
    lp_rle_bbox(&r, box);
    char *counts = lp_rle_encode_string(&r);
    b->len = 0;
    lp_buf_printf(b,
                  "S%lld {\"id\":%lld,\"image_id\":%lld,\"category_id\":%lld,\"segmentation\":"
                  "{\"size\":[%u,%u],\"counts\":",
                  (long long)cat, (long long)c->nanns + 1, (long long)image_id, (long long)cat,
                  r.height, r.width);
    lp_buf_json_string(b, counts);
    lp_buf_printf(b, "},\"area\":%llu,\"bbox\":[%u,%u,%u,%u],\"iscrowd\":0\n",
                  (unsigned long long)lp_rle_area(&r), box[0], box[1], box[2], box[3]);
    free(counts);
    lp_rle_fini(&r);
    if (!c->failed && fwrite(b->data, 1, b->len, c->spool) != b->len)
        c->failed = errno ? errno : EIO;
    c->nanns++;
}

/* The size of the first mask of a segmentation response, or 0 x 0. */
static void masks_size(const json_t *response, long long *w, long long *h)
{
    const json_t *size = json_object_get(
        json_object_get(json_array_get(json_object_get(response, "masks"), 0), "rle"), "size");
    *h = json_integer_value(json_array_get(size, 0));
    *w = json_integer_value(json_array_get(size, 1));
    if (*h <= 0 || *w <= 0) *w = *h = 0;
}

static void coco_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    (void)index;
    coco *c = cx->state;
    json_t *task = json_loadb(json, n, 0, NULL);
    const json_t *result = json_object_get(task, "result");
    if (!json_is_object(result)) {
        c->no_result++;
        json_decref(task);
        return;
    }
    int64_t id = json_integer_value(json_object_get(task, "id"));
    const json_t *data = json_object_get(task, "data");
    long long w = dimension(data, "width"), h = dimension(data, "height");
    if ((!w || !h) && c->masks) masks_size(json_object_get(result, "response"), &w, &h);
    if (!w || !h) {
        w = h = 0;
        c->unsized++;
    }
    lp_buf name = {0};
    const char *url;
    lp_export_image_name(task, &name, &url);
    lp_buf_printf(out, "%s{\"id\":%lld,\"file_name\":", c->nimages++ ? ",\n" : "\n", (long long)id);
    lp_buf_json_string(out, name.len ? name.data : "");
    lp_buf_printf(out, ",\"width\":%lld,\"height\":%lld", w, h);
    if (url) {
        lp_buf_puts(out, ",\"coco_url\":");
        lp_buf_json_string(out, url);
    }
    lp_buf_puts(out, "}");
    const json_t *shapes = json_object_get(json_object_get(result, "response"), "annotations"), *s;
    size_t i;
    name.len = 0; /* the line buffer from here */
    if (c->masks)
        json_array_foreach(json_object_get(json_object_get(result, "response"), "masks"), i, s)
            spool_mask(c, &name, id, s);
    else
        json_array_foreach(shapes, i, s) spool_shape(c, &name, id, s);
    lp_buf_fini(&name);
    json_decref(task);
}

/* "N things" with an s when N is not 1, after a separator when not first. */
static void note(lp_buf *b, int *first, size_t n, const char *one, const char *many,
                 const char *why)
{
    if (!n) return;
    lp_buf_printf(b, "%s%zu %s%s", *first ? "" : "; ", n, n == 1 ? one : many, why);
    *first = 0;
}

/* The categories, info and licenses that close the file. */
static void coco_tail(coco *c, lp_buf *out)
{
    lp_buf_puts(out, c->nanns ? "\n],\n\"categories\":[" : "],\n\"categories\":[");
    size_t k;
    const json_t *l;
    json_array_foreach(c->labels, k, l)
    {
        const char *name = json_string_value(json_object_get(l, "name"));
        size_t cat = k + 1;
        lp_buf_printf(out, "%s{\"id\":%zu,\"name\":", k ? ",\n" : "\n", cat);
        lp_buf_json_string(out, name ? name : "");
        lp_buf_puts(out, ",\"supercategory\":\"\"");
        if (c->keypoints[cat]) {
            lp_buf_puts(out, ",\"keypoints\":[");
            lp_buf_json_string(out, name);
            lp_buf_puts(out, "],\"skeleton\":[]");
        }
        lp_buf_puts(out, "}");
    }
    lp_buf_puts(out, c->ncats ? "\n],\n" : "],\n");
    lp_buf desc = {0};
    lp_buf_printf(&desc, "Loupe %s export: %zu images, %lld annotations", c->kind, c->nimages,
                  (long long)c->nanns);
    int first = 1;
    lp_buf left = {0};
    note(&left, &first, c->no_result, "task", "tasks", " without a result");
    note(&left, &first, c->lines, "line", "lines", " (COCO has no lines)");
    note(&left, &first, c->unknown, c->masks ? "mask" : "shape", c->masks ? "masks" : "shapes",
         " with a label not in the project");
    note(&left, &first, c->unreadable, "mask", "masks", " that are not RLE adding up to its size");
    if (left.len) lp_buf_printf(&desc, ". Left out: %s", left.data);
    if (c->unsized)
        lp_buf_printf(&desc, ". %zu image%s without data.width and data.height: width and height 0",
                      c->unsized, c->unsized == 1 ? "" : "s");
    struct tm tm;
    gmtime_r(&c->started, &tm);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    lp_buf_printf(out,
                  "\"info\":{\"year\":%d,\"version\":\"\",\"description\":", tm.tm_year + 1900);
    lp_buf_json_string(out, desc.data);
    lp_buf_printf(out, ",\"contributor\":\"\",\"url\":\"\",\"date_created\":\"%s\"},\n", date);
    lp_buf_puts(out, "\"licenses\":[]}\n");
    lp_buf_fini(&desc);
    lp_buf_fini(&left);
}

/* Closes the images, then copies the spooled annotations out COPY_CHUNK
 * bytes at a time (adding the keypoints of categories with points), then
 * the tail. */
static int coco_end(lp_export_ctx *cx, lp_buf *out, size_t ntasks)
{
    (void)ntasks;
    coco *c = cx->state;
    if (!c->copying) {
        if (c->failed || fflush(c->spool) != 0 || fseek(c->spool, 0, SEEK_SET) != 0) return LP_EIO;
        lp_buf_puts(out, c->nimages ? "\n],\n\"annotations\":[" : "],\n\"annotations\":[");
        c->copying = 1;
    }
    ssize_t n;
    while (out->len < COPY_CHUNK && (n = getline(&c->line, &c->linecap, c->spool)) > 0) {
        char *sp = strchr(c->line, ' ');
        if (!sp || c->line[n - 1] != '\n') return LP_EIO;
        long long cat = strtoll(c->line + 1, NULL, 10);
        lp_buf_puts(out, c->copied++ ? ",\n" : "\n");
        lp_buf_append(out, sp + 1, (size_t)(c->line + n - 1 - (sp + 1)));
        if (c->line[0] == 'S' && cat > 0 && (size_t)cat <= c->ncats && c->keypoints[cat])
            lp_buf_puts(out, ",\"keypoints\":[0,0,0],\"num_keypoints\":0");
        lp_buf_puts(out, "}");
    }
    if (ferror(c->spool)) return LP_EIO;
    if (!feof(c->spool)) return 1;
    coco_tail(c, out);
    return 0;
}

static const char *const coco_kinds[] = {"imageannotation", "segmentation", NULL};

const lp_export_format lp_export_coco = {
    .version = 1,
    .name = "coco",
    .summary = "COCO instances: images, boxes, polygons and points (segmentation: RLE masks) with "
               "categories",
    .content_type = "application/json",
    .extension = "json",
    .kinds = coco_kinds,
    .begin = coco_begin,
    .task = coco_task,
    .end = coco_end,
    .free_state = coco_free,
};
