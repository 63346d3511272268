/* export_video.c -- the exports of a videoannotation project: every frame
 * of every track, as Loupe JSON ("video"), as MOT challenge ground truth
 * ("mot") and as COCO instances per frame ("coco_video").
 *
 * Each reads a task's result (tasks without one are left out) and walks
 * its frames: the frame count is the task's data.frames, else its number
 * of image attachments, else one past the last keyframe.  At each frame a
 * track's shape is where track.h puts it (keyframes interpolated, outside
 * frames left out), so the exports hold what the annotator saw, not the
 * keyframes.  Memory stays one task: MOT's zip is streamed (export_zip.h),
 * COCO's annotations go to a spool file copied out at the end. */
#include <archive.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_zip.h"
#include "track.h"
#include "valid.h"

/* What the end of COCO copies out of the spool per call. */
#define COPY_CHUNK (256 * 1024)

/* One task's result, read for export. */
typedef struct vtask {
    json_t *task;
    long long id;
    const json_t *tracks, *events;
    int64_t frames;
    double fps, width, height; /* 0 when not given */
    lp_track_json *t;          /* one per track */
    long long *ids;            /* each track's id: its own, else a new one */
} vtask;

static double positive(const json_t *obj, const char *key)
{
    double v;
    return !lp_json_number(json_object_get(obj, key), &v) && v > 0 ? v : 0;
}

/* Reads the task json (n bytes); 0, or -1 (nothing held) when it has no
 * result. */
static int vtask_read(vtask *v, const json_t *params, const char *json, size_t n)
{
    memset(v, 0, sizeof *v);
    v->task = json_loadb(json, n, 0, NULL);
    const json_t *response = json_object_get(json_object_get(v->task, "result"), "response");
    if (!json_is_object(response)) {
        json_decref(v->task);
        return -1;
    }
    const json_t *data = json_object_get(v->task, "data"), *a, *x;
    size_t i;
    v->id = (long long)json_integer_value(json_object_get(v->task, "id"));
    v->tracks = json_object_get(response, "tracks");
    v->events = json_object_get(response, "events");
    v->fps = positive(data, "fps");
    if (!v->fps) v->fps = positive(params, "fps");
    v->width = positive(data, "width");
    v->height = positive(data, "height");
    v->frames = (int64_t)positive(data, "frames");
    if (!v->frames) json_array_foreach(json_object_get(v->task, "attachments"), i, a)
        {
            const char *type = json_string_value(json_object_get(a, "type"));
            if (type && strcmp(type, "image") == 0) v->frames++;
        }
    size_t nt = json_array_size(v->tracks);
    v->t = lp_calloc(nt + 1, sizeof *v->t);
    v->ids = lp_calloc(nt + 1, sizeof *v->ids);
    long long max_id = 0;
    json_array_foreach(v->tracks, i, x)
    {
        lp_track_read(&v->t[i], x);
        const json_t *id = json_object_get(x, "id");
        v->ids[i] = json_is_number(id) ? (long long)json_number_value(id) : -1;
        if (v->ids[i] > max_id) max_id = v->ids[i];
        if (v->t[i].t.n && v->t[i].t.k[v->t[i].t.n - 1].frame + 1 > v->frames && !v->frames)
            v->frames = v->t[i].t.k[v->t[i].t.n - 1].frame + 1;
    }
    if (v->frames > 1000000) v->frames = 1000000;
    for (i = 0; i < nt; i++)
        if (v->ids[i] < 0) v->ids[i] = ++max_id;
    return 0;
}

static void vtask_fini(vtask *v)
{
    for (size_t i = 0; i < json_array_size(v->tracks); i++) lp_track_json_fini(&v->t[i]);
    free(v->t);
    free(v->ids);
    json_decref(v->task);
}

/* The frame attributes of track json in force at frame f (those of its
 * last keyframe at or before f), or NULL. */
static const json_t *frame_attributes(const json_t *track, const lp_track *t, int64_t f)
{
    size_t i = lp_track_find(t, f);
    if (i == SIZE_MAX) return NULL;
    const json_t *a =
        json_object_get(json_array_get(json_object_get(track, "keyframes"), i), "attributes");
    return json_object_size(a) ? a : NULL;
}

static void put_json(lp_buf *b, const json_t *v)
{
    char *s = json_dumps(v, LP_JSON_DUMP | JSON_SORT_KEYS);
    if (s) lp_buf_puts(b, s);
    free(s);
}

/* A coordinate with up to 2 decimals, as the editor rounds them. */
static void put_num(lp_buf *b, double v)
{
    /* Room for any double: DBL_MAX is 309 digits before the point.  A
     * value that is not finite (none passes validation) is null, which
     * JSON can hold, rather than inf, which it cannot. */
    char s[320];
    if (!isfinite(v)) {
        lp_buf_puts(b, "null");
        return;
    }
    snprintf(s, sizeof s, "%.2f", v);
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '0') n--;
    if (s[n - 1] == '.') n--;
    s[n] = 0;
    lp_buf_puts(b, strcmp(s, "-0") == 0 ? "0" : s);
}

/* ---- video: Loupe JSON, every frame of every track ----------------------- */

static void video_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    (void)index;
    vtask v;
    if (vtask_read(&v, cx->params, json, n)) return;
    lp_buf_printf(out, "{\"task_id\":%lld,\"unique_id\":", v.id);
    put_json(out, json_object_get(v.task, "unique_id") ? json_object_get(v.task, "unique_id")
                                                       : json_null());
    lp_buf_printf(out, ",\"frames\":%lld,\"fps\":", (long long)v.frames);
    put_num(out, v.fps ? v.fps : 30);
    if (v.width && v.height) {
        lp_buf_puts(out, ",\"width\":");
        put_num(out, v.width);
        lp_buf_puts(out, ",\"height\":");
        put_num(out, v.height);
    }
    lp_buf_puts(out, ",\"tracks\":[");
    const json_t *x;
    size_t i;
    json_array_foreach(v.tracks, i, x)
    {
        const lp_track *t = &v.t[i].t;
        size_t cap = lp_track_max_points(t) + 1, np;
        double *xy = lp_malloc(2 * cap * sizeof *xy);
        lp_buf_printf(out, "%s{\"id\":%lld,\"label\":", i ? "," : "", v.ids[i]);
        put_json(out, json_object_get(x, "label"));
        lp_buf_puts(out, ",\"shape\":");
        put_json(out, json_object_get(x, "shape"));
        if (json_object_size(json_object_get(x, "attributes"))) {
            lp_buf_puts(out, ",\"attributes\":");
            put_json(out, json_object_get(x, "attributes"));
        }
        lp_buf_puts(out, ",\"frames\":[");
        int first = 1;
        int64_t from = t->n ? t->k[0].frame : v.frames;
        for (int64_t f = from; f < v.frames; f++) {
            if (!lp_track_at(t, f, xy, &np)) continue;
            size_t k = lp_track_find(t, f);
            lp_buf_printf(out, "%s{\"frame\":%lld", first ? "" : ",", (long long)f);
            first = 0;
            if (t->shape == LP_TRACK_POLYGON) {
                lp_buf_puts(out, ",\"vertices\":[");
                for (size_t j = 0; j < np; j++) {
                    lp_buf_puts(out, j ? ",{\"x\":" : "{\"x\":");
                    put_num(out, xy[2 * j]);
                    lp_buf_puts(out, ",\"y\":");
                    put_num(out, xy[2 * j + 1]);
                    lp_buf_puts(out, "}");
                }
                lp_buf_puts(out, "]");
            } else {
                lp_buf_puts(out, ",\"x\":");
                put_num(out, xy[0]);
                lp_buf_puts(out, ",\"y\":");
                put_num(out, xy[1]);
                if (t->shape == LP_TRACK_BOX) {
                    lp_buf_puts(out, ",\"width\":");
                    put_num(out, xy[2] - xy[0]);
                    lp_buf_puts(out, ",\"height\":");
                    put_num(out, xy[3] - xy[1]);
                }
            }
            if (t->k[k].frame == f) lp_buf_puts(out, ",\"keyframe\":true");
            const json_t *fa = frame_attributes(x, t, f);
            if (fa) {
                lp_buf_puts(out, ",\"attributes\":");
                put_json(out, fa);
            }
            lp_buf_puts(out, "}");
        }
        lp_buf_puts(out, "]}");
        free(xy);
    }
    lp_buf_puts(out, "],\"events\":");
    put_json(out, v.events ? v.events : json_array());
    lp_buf_puts(out, "}\n");
    vtask_fini(&v);
}

static const char *const video_kinds[] = {"videoannotation", NULL};

const lp_export_format lp_export_video = {
    .version = 1,
    .name = "video",
    .summary = "Loupe JSON lines, one a task: every track's shape at every frame it is present",
    .content_type = "application/x-ndjson",
    .extension = "jsonl",
    .kinds = video_kinds,
    .task = video_task,
};

/* ---- mot: MOT challenge ground truth, a zip of sequences ---------------- */

/* The label's class: its index in params.labels plus 1, or 0. */
static int class_of(const json_t *params, const json_t *label)
{
    long i = lp_names_find(json_object_get(params, "labels"), json_string_value(label),
                           json_string_length(label));
    return i < 0 ? 0 : (int)i + 1;
}

static void mot_begin(lp_export_ctx *cx, lp_buf *out)
{
    lp_imgzip *z = lp_imgzip_start(cx, "mot", NULL);
    lp_buf b = {0};
    const json_t *l;
    size_t i;
    json_array_foreach(z->labels, i, l)
    {
        lp_buf_printf(&b, "%zu,", i + 1);
        lp_buf_puts(&b, json_string_value(json_object_get(l, "name")));
        lp_buf_puts(&b, "\n");
    }
    lp_imgzip_add(z, out, "classes.txt", b.data ? b.data : "", b.len);
    lp_buf_fini(&b);
}

static void mot_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    (void)index;
    lp_imgzip *z = cx->state;
    vtask v;
    if (vtask_read(&v, cx->params, json, n)) {
        z->no_result++;
        return;
    }
    size_t nt = json_array_size(v.tracks), cap = 2, np;
    for (size_t i = 0; i < nt; i++) {
        size_t m = lp_track_max_points(&v.t[i].t);
        if (m > cap) cap = m;
        if (v.t[i].t.shape == LP_TRACK_POINT) z->points++;
    }
    int *cls = lp_malloc((nt + 1) * sizeof *cls);
    for (size_t i = 0; i < nt; i++)
        cls[i] = class_of(cx->params, json_object_get(json_array_get(v.tracks, i), "label"));
    double *xy = lp_malloc(2 * cap * sizeof *xy);
    z->entry.len = z->path.len = 0;
    for (int64_t f = 0; f < v.frames; f++)
        for (size_t i = 0; i < nt; i++) {
            const lp_track *t = &v.t[i].t;
            if (t->shape == LP_TRACK_POINT || !lp_track_at(t, f, xy, &np) || !np) continue;
            double x1 = HUGE_VAL, y1 = HUGE_VAL, x2 = -HUGE_VAL, y2 = -HUGE_VAL;
            for (size_t j = 0; j < np; j++) {
                x1 = fmin(x1, xy[2 * j]);
                x2 = fmax(x2, xy[2 * j]);
                y1 = fmin(y1, xy[2 * j + 1]);
                y2 = fmax(y2, xy[2 * j + 1]);
            }
            lp_buf_printf(&z->entry, "%lld,%lld,", (long long)f + 1, v.ids[i]);
            put_num(&z->entry, x1);
            lp_buf_puts(&z->entry, ",");
            put_num(&z->entry, y1);
            lp_buf_puts(&z->entry, ",");
            put_num(&z->entry, x2 - x1);
            lp_buf_puts(&z->entry, ",");
            put_num(&z->entry, y2 - y1);
            lp_buf_printf(&z->entry, ",1,%d,1\n", cls[i]);
            z->nobjects++;
        }
    lp_buf_printf(&z->path, "task_%lld/gt/gt.txt", v.id);
    lp_imgzip_add(z, out, z->path.data, z->entry.data ? z->entry.data : "", z->entry.len);
    z->entry.len = z->path.len = 0;
    lp_buf_printf(&z->entry,
                  "[Sequence]\nname=task_%lld\nimDir=img1\nframeRate=%g\nseqLength=%lld\n", v.id,
                  v.fps ? v.fps : 30, (long long)v.frames);
    if (v.width && v.height)
        lp_buf_printf(&z->entry, "imWidth=%g\nimHeight=%g\n", v.width, v.height);
    lp_buf_puts(&z->entry, "imExt=.jpg\n");
    lp_buf_printf(&z->path, "task_%lld/seqinfo.ini", v.id);
    lp_imgzip_add(z, out, z->path.data, z->entry.data, z->entry.len);
    z->nimages++;
    free(xy);
    free(cls);
    vtask_fini(&v);
}

static int mot_end(lp_export_ctx *cx, lp_buf *out, size_t ntasks)
{
    (void)ntasks;
    lp_imgzip *z = cx->state;
    lp_buf r = {0};
    lp_buf_printf(&r,
                  "Loupe videoannotation export, MOT challenge ground truth: %zu sequence%s, "
                  "%zu boxes.\n\nEach task is a folder task_ID with gt/gt.txt (frame,id,x,y,"
                  "width,height,1,class,1: frames from 1, the box in pixels, class the label's\n"
                  "line in classes.txt) and seqinfo.ini; put the frames in task_ID/img1/.\n"
                  "Polygons are their bounding boxes.\n",
                  z->nimages, z->nimages == 1 ? "" : "s", z->nobjects);
    if (z->no_result) lp_buf_printf(&r, "Left out: %zu task(s) without a result.\n", z->no_result);
    if (z->points) lp_buf_printf(&r, "Left out: %zu point track(s) (no form in MOT).\n", z->points);
    lp_imgzip_add(z, out, "README.txt", r.data, r.len);
    lp_buf_fini(&r);
    if (!z->failed) {
        z->out = out;
        if (archive_write_close(z->a) != ARCHIVE_OK) z->failed = 1;
        z->out = NULL;
    }
    return z->failed ? LP_EIO : 0;
}

const lp_export_format lp_export_mot = {
    .version = 1,
    .name = "mot",
    .summary = "MOT challenge ground truth: a zip of TASK/gt/gt.txt and seqinfo.ini per task",
    .content_type = "application/zip",
    .extension = "zip",
    .kinds = video_kinds,
    .begin = mot_begin,
    .task = mot_task,
    .end = mot_end,
    .free_state = lp_imgzip_free,
};

/* ---- coco_video: COCO instances, one image per frame -------------------- */

typedef struct cocov {
    FILE *spool; /* the annotations, comma-led */
    char *chunk;
    long long image_id, ann_id;
    size_t points;
    int failed;
    int copying;
} cocov;

static void cocov_begin(lp_export_ctx *cx, lp_buf *out)
{
    cocov *c = lp_calloc(1, sizeof *c);
    cx->state = c;
    c->spool = tmpfile();
    if (!c->spool) c->failed = 1;
    c->chunk = lp_malloc(COPY_CHUNK);
    lp_buf_puts(out, "{\"info\":{\"description\":\"Loupe videoannotation export: one image a "
                     "frame, track_id on each annotation\"},\"categories\":[");
    const json_t *l;
    size_t i;
    json_array_foreach(json_object_get(cx->params, "labels"), i, l)
    {
        lp_buf_printf(out, "%s{\"id\":%zu,\"name\":", i ? "," : "", i + 1);
        put_json(out, json_object_get(l, "name"));
        lp_buf_puts(out, "}");
    }
    lp_buf_puts(out, "],\"images\":[");
}

static void cocov_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    (void)index;
    cocov *c = cx->state;
    vtask v;
    if (vtask_read(&v, cx->params, json, n)) return;
    size_t nt = json_array_size(v.tracks), cap = 2, np;
    for (size_t i = 0; i < nt; i++) {
        size_t m = lp_track_max_points(&v.t[i].t);
        if (m > cap) cap = m;
        if (v.t[i].t.shape == LP_TRACK_POINT) c->points++;
    }
    double *xy = lp_malloc(2 * cap * sizeof *xy);
    lp_buf a = {0};
    for (int64_t f = 0; f < v.frames; f++) {
        long long image = ++c->image_id;
        lp_buf_printf(out,
                      "%s{\"id\":%lld,\"file_name\":\"task_%lld_frame_%lld\",\"video_id\":%lld,"
                      "\"frame_id\":%lld",
                      image > 1 ? "," : "", image, v.id, (long long)f, v.id, (long long)f);
        if (v.width && v.height)
            lp_buf_printf(out, ",\"width\":%g,\"height\":%g", v.width, v.height);
        lp_buf_puts(out, "}");
        a.len = 0;
        for (size_t i = 0; i < nt; i++) {
            const lp_track *t = &v.t[i].t;
            if (t->shape == LP_TRACK_POINT || !lp_track_at(t, f, xy, &np) || !np) continue;
            const json_t *x = json_array_get(v.tracks, i);
            double x1 = HUGE_VAL, y1 = HUGE_VAL, x2 = -HUGE_VAL, y2 = -HUGE_VAL, area;
            for (size_t j = 0; j < np; j++) {
                x1 = fmin(x1, xy[2 * j]);
                x2 = fmax(x2, xy[2 * j]);
                y1 = fmin(y1, xy[2 * j + 1]);
                y2 = fmax(y2, xy[2 * j + 1]);
            }
            area = (x2 - x1) * (y2 - y1);
            lp_buf_printf(&a, ",{\"id\":%lld,\"image_id\":%lld,\"category_id\":%d,\"bbox\":[",
                          ++c->ann_id, image, class_of(cx->params, json_object_get(x, "label")));
            put_num(&a, x1);
            lp_buf_puts(&a, ",");
            put_num(&a, y1);
            lp_buf_puts(&a, ",");
            put_num(&a, x2 - x1);
            lp_buf_puts(&a, ",");
            put_num(&a, y2 - y1);
            lp_buf_puts(&a, "]");
            if (t->shape == LP_TRACK_POLYGON) {
                lp_buf_puts(&a, ",\"segmentation\":[[");
                double s = 0;
                for (size_t j = 0; j < np; j++) {
                    size_t k = (j + 1) % np;
                    s += xy[2 * j] * xy[2 * k + 1] - xy[2 * k] * xy[2 * j + 1];
                    if (j) lp_buf_puts(&a, ",");
                    put_num(&a, xy[2 * j]);
                    lp_buf_puts(&a, ",");
                    put_num(&a, xy[2 * j + 1]);
                }
                lp_buf_puts(&a, "]]");
                area = fabs(s) / 2;
            }
            lp_buf_puts(&a, ",\"area\":");
            put_num(&a, area);
            lp_buf_printf(&a, ",\"iscrowd\":0,\"track_id\":%lld", v.ids[i]);
            json_t *attrs = json_deep_copy(json_object_get(x, "attributes"));
            const json_t *fa = frame_attributes(x, t, f);
            if (fa) {
                if (!attrs) attrs = json_object();
                json_object_update(attrs, (json_t *)fa); /* only read */
            }
            if (json_object_size(attrs)) {
                lp_buf_puts(&a, ",\"attributes\":");
                put_json(&a, attrs);
            }
            json_decref(attrs);
            lp_buf_puts(&a, "}");
        }
        if (a.len && !c->failed && fwrite(a.data, 1, a.len, c->spool) != a.len) c->failed = 1;
    }
    lp_buf_fini(&a);
    free(xy);
    vtask_fini(&v);
}

/* Closes the images, then copies the spooled annotations out in parts of
 * COPY_CHUNK bytes (their leading comma dropped from the first). */
static int cocov_end(lp_export_ctx *cx, lp_buf *out, size_t ntasks)
{
    (void)ntasks;
    cocov *c = cx->state;
    if (!c->copying) {
        if (c->failed || fflush(c->spool) != 0 || fseek(c->spool, 0, SEEK_SET) != 0) return LP_EIO;
        lp_buf_puts(out, "],\"annotations\":[");
        c->copying = 1;
        int first = fgetc(c->spool); /* the first annotation's comma */
        if (first != EOF && first != ',') return LP_EIO;
    }
    size_t got = fread(c->chunk, 1, COPY_CHUNK, c->spool);
    lp_buf_append(out, c->chunk, got);
    if (ferror(c->spool)) return LP_EIO;
    if (got == COPY_CHUNK) return 1;
    lp_buf_puts(out, "]}\n");
    return 0;
}

static void cocov_free(lp_export_ctx *cx)
{
    cocov *c = cx->state;
    if (!c) return;
    if (c->spool) fclose(c->spool);
    free(c->chunk);
    free(c);
    cx->state = NULL;
}

const lp_export_format lp_export_coco_video = {
    .version = 1,
    .name = "coco_video",
    .summary = "COCO instances JSON, one image per frame, track_id on each box or polygon",
    .content_type = "application/json",
    .extension = "json",
    .kinds = video_kinds,
    .begin = cocov_begin,
    .task = cocov_task,
    .end = cocov_end,
    .free_state = cocov_free,
};
