/* kind_videoannotation.c -- object tracks and events in a video.
 *
 * A task shows a video (one "video" attachment whose frame count the
 * task's data.frames gives) or a sequence of frames (its "image"
 * attachments, one per frame).  A response lists tracks and events.  A
 * track follows one object: a label, a shape type (box, point or polygon),
 * track-level attributes, and keyframes sorted by frame, each with the
 * shape at that frame (in pixels, origin at the top left), an "outside"
 * flag for frames where the object is absent, and per-frame attributes
 * that hold until the next keyframe.  Between keyframes shapes move
 * linearly (track.h says exactly how).  An event is a labelled range of
 * frames, both ends included.
 *
 * Against a reference a response scores an F1 over tracks matched one to
 * one by IoU over time (the pairing of the largest sum), and events by
 * temporal IoU (see score()).  Several workers' responses consolidate into
 * one (see aggregate()): tracks matched across workers by IoU over time,
 * kept when backed by more than half the weight, averaged frame by frame
 * and reduced to keyframes again. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assign.h"
#include "kind.h"
#include "limit.h"
#include "track.h"
#include "util.h"

/* Frames one task may have: 1,000,000 is over 9 hours at 30 fps. */
#define MAX_FRAMES 1000000
/* The largest data.width and data.height, in pixels; a frame whose task
 * gives no size is taken to be this large, so coordinates, their sums and
 * the areas and means made of them stay finite. */
#define MAX_SIDE 1e6
/* Tracks (and events) pair up when their IoU over time is at least this. */
#define MATCH_MIN 0.5
/* A consolidated object is kept when its workers weigh more than QUORUM of
 * all, up to REL_EPS of rounding. */
#define QUORUM  0.5
#define REL_EPS 1e-12
/* Consolidated keyframes: a frame becomes a keyframe when interpolating
 * past it would put a coordinate more than this many pixels off. */
#define KEYFRAME_TOLERANCE 0.5
/* Coordinates a consolidated track may hold frame by frame (128 MB). */
#define SERIES_BUDGET (16.0 * 1024 * 1024)

static const char *const shape_names[] = {"box", "point", "polygon", NULL};

/* ---- Params ------------------------------------------------------------ */

/* Checks params.geometries (default: all three), each a shape named once. */
static int check_geometries(json_t *params, lp_verr *e)
{
    const json_t *list, *v;
    size_t i;
    int rc;
    lp_json_default(params, "geometries", json_pack("[sss]", "box", "point", "polygon"));
    if ((rc = lp_v_array(params, "geometries", "params", 1, 1, 0, &list, e))) return rc;
    json_array_foreach(list, i, v)
    {
        char at[256], q[96];
        lp_path_index(at, sizeof at, "params.geometries", i);
        if ((rc = lp_v_one_of(v, at, shape_names, "a geometry", NULL, e))) return rc;
        for (size_t j = 0; j < i; j++)
            if (json_equal(json_array_get(list, j), v))
                return lp_verr_set(e, at, "%s is already listed at params.geometries[%zu]",
                                   lp_quote(q, sizeof q, json_string_value(v)), j);
    }
    return 0;
}

/* Checks params {labels, geometries, attributes, frame_attributes, events,
 * fps, instructions}; fills geometries, the attribute lists, events ([])
 * and fps (30). */
static int validate_params(json_t *params, lp_verr *e)
{
    static const char *const keys[] = {"labels", "geometries", "attributes",   "frame_attributes",
                                       "events", "fps",        "instructions", NULL};
    int rc;
    if ((rc = lp_v_object(params, "params", e))) return rc;
    if ((rc = lp_v_only_keys(params, "params", keys, e))) return rc;
    if ((rc = lp_v_names(params, "labels", "params", 1, 1, NULL, e))) return rc;
    if ((rc = check_geometries(params, e))) return rc;
    if ((rc = lp_v_attribute_defs(params, "attributes", e))) return rc;
    if ((rc = lp_v_attribute_defs(params, "frame_attributes", e))) return rc;
    if ((rc = lp_v_names(params, "events", "params", 0, 0, NULL, e))) return rc;
    lp_json_default(params, "fps", json_integer(30));
    if ((rc = lp_v_number(params, "fps", "params", 1, 1e-3, 1000, NULL, e))) return rc;
    return lp_v_string(params, "instructions", "params", 0, 0, 0, NULL, e);
}

/* ---- Tasks ------------------------------------------------------------- */

/* What a response is checked against: the frame count (0 when unknown)
 * and the frame size (MAX_SIDE where not given; sized says both were). */
typedef struct video_info {
    int64_t frames;
    double width, height;
    int sized;
} video_info;

static lp_picture picture(video_info v)
{
    return (lp_picture){v.width, v.height, v.sized ? "frame" : "largest frame"};
}

/* The number of image attachments of task. */
static size_t image_count(const json_t *task)
{
    const json_t *a;
    size_t i, n = 0;
    json_array_foreach(json_object_get(task, "attachments"), i, a)
    {
        const char *type = json_string_value(json_object_get(a, "type"));
        if (type && strcmp(type, "image") == 0) n++;
    }
    return n;
}

/* The frame count and size as the task gives them; tolerates any task. */
static video_info task_info(const json_t *task)
{
    static const char *const video[] = {"video", NULL};
    const json_t *data = json_object_get(task, "data");
    video_info v = {0, MAX_SIDE, MAX_SIDE, 0};
    double x;
    int sized = 0;
    if (!lp_json_number(json_object_get(data, "width"), &x) && x > 0 && x <= MAX_SIDE)
        v.width = x, sized++;
    if (!lp_json_number(json_object_get(data, "height"), &x) && x > 0 && x <= MAX_SIDE)
        v.height = x, sized++;
    v.sized = sized == 2;
    if (!lp_json_number(json_object_get(data, "frames"), &x) && x >= 1 && x <= MAX_FRAMES &&
        x == floor(x))
        v.frames = (int64_t)x;
    else if (lp_task_attachment(task, video) < 0)
        v.frames = (int64_t)image_count(task);
    if (v.frames > MAX_FRAMES) v.frames = MAX_FRAMES;
    return v;
}

/* Checks that the task has a video with data.frames, or image frames;
 * data.fps, width and height, when given, are positive numbers. */
static int validate_task(const json_t *params, const json_t *task, lp_verr *e)
{
    static const char *const video[] = {"video", NULL};
    const json_t *data = json_object_get(task, "data");
    int rc;
    (void)params;
    int has_video = lp_task_attachment(task, video) >= 0;
    size_t images = image_count(task);
    if (!has_video && !images)
        return lp_verr_set(e, "attachments",
                           "must include a \"video\" attachment or \"image\" attachments (one "
                           "per frame)");
    if (json_is_object(data)) {
        if ((rc = lp_v_int(data, "frames", "data", has_video, 1, MAX_FRAMES, NULL, e))) return rc;
        if ((rc = lp_v_number(data, "fps", "data", 0, 1e-3, 1000, NULL, e)) ||
            (rc = lp_v_number(data, "width", "data", 0, 1, MAX_SIDE, NULL, e)) ||
            (rc = lp_v_number(data, "height", "data", 0, 1, MAX_SIDE, NULL, e)))
            return rc;
    } else if (has_video) {
        return lp_verr_set(e, "data.frames", "is required: the video's number of frames");
    }
    return 0;
}

/* ---- Responses --------------------------------------------------------- */

/* Checks the frame field of obj (a keyframe or an event's start/end): an
 * integer from 0 to the last frame (when the task says how many). */
static int check_frame(const json_t *obj, const char *key, const char *at, video_info v,
                       long long *out, lp_verr *e)
{
    long long max = v.frames > 0 ? (long long)v.frames - 1 : MAX_FRAMES - 1;
    int rc = lp_v_int(obj, key, at, 1, 0, (long long)MAX_FRAMES - 1, out, e);
    if (rc) return rc;
    if (*out > max) {
        char field[256];
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, key),
                           "must be at most %lld, the video's last frame (got %lld)", max, *out);
    }
    return 0;
}

/* Checks one keyframe of a track of shape shape. */
static int check_keyframe(const json_t *params, const json_t *k, const char *at, int shape,
                          video_info v, long long *frame, lp_verr *e)
{
    static const char *const box_keys[] = {"frame", "outside", "attributes", "x",
                                           "y",     "width",   "height",     NULL};
    static const char *const point_keys[] = {"frame", "outside", "attributes", "x", "y", NULL};
    static const char *const polygon_keys[] = {"frame", "outside", "attributes", "vertices", NULL};
    static const char *const *const keys[] = {box_keys, point_keys, polygon_keys};
    int outside = 0, rc;
    if ((rc = lp_v_object(k, at, e))) return rc;
    if ((rc = lp_v_only_keys(k, at, keys[shape], e))) return rc;
    if ((rc = check_frame(k, "frame", at, v, frame, e))) return rc;
    if ((rc = lp_v_bool(k, "outside", at, 0, &outside, e))) return rc;
    /* An outside keyframe need not say where the object is. */
    int has_geometry = shape == 2 ? lp_json_given(k, "vertices") != NULL
                                  : lp_json_given(k, "x") || lp_json_given(k, "y") ||
                                        lp_json_given(k, "width") || lp_json_given(k, "height");
    if (!outside || has_geometry) {
        if (shape == 0)
            rc = lp_v_box(k, at, picture(v), e);
        else if (shape == 1)
            rc = lp_v_point(k, at, picture(v), e);
        else
            rc = lp_v_vertices(k, at, 3, picture(v), e);
        if (rc) return rc;
    }
    return lp_v_attribute_values(json_object_get(params, "frame_attributes"),
                            lp_json_given(k, "attributes"), at, e);
}

/* Checks one track: keys, id, label, shape among the project's geometries,
 * attributes and keyframes (at least one, frames strictly increasing). */
static int check_track(const json_t *params, const json_t *t, const char *at, video_info v,
                       lp_verr *e)
{
    static const char *const keys[] = {"id", "label", "shape", "attributes", "keyframes", NULL};
    const json_t *list, *k;
    char field[256], q[96];
    size_t i, shape;
    int rc;
    if ((rc = lp_v_object(t, at, e))) return rc;
    if ((rc = lp_v_only_keys(t, at, keys, e))) return rc;
    if ((rc = lp_v_int(t, "id", at, 0, 0, (long long)1 << 53, NULL, e))) return rc;
    lp_path_key(field, sizeof field, at, "label");
    if ((rc = lp_v_name_in(json_object_get(params, "labels"), json_object_get(t, "label"), field,
                           "labels", NULL, e)))
        return rc;
    lp_path_key(field, sizeof field, at, "shape");
    const json_t *s = json_object_get(t, "shape");
    if (!s) return lp_verr_set(e, field, "is required");
    if ((rc = lp_v_one_of(s, field, shape_names, "a shape", &shape, e))) return rc;
    int listed = 0;
    const json_t *g;
    json_array_foreach(json_object_get(params, "geometries"), i, g)
    {
        if (json_equal(g, s)) listed = 1;
    }
    if (!listed)
        return lp_verr_set(e, field, "%s is not one of the project's geometries",
                           lp_quote(q, sizeof q, json_string_value(s)));
    if ((rc = lp_v_attribute_values(json_object_get(params, "attributes"),
                               lp_json_given(t, "attributes"), at, e)))
        return rc;
    if ((rc = lp_v_array(t, "keyframes", at, 1, 1, LP_LIMIT_RESPONSE_ITEMS, &list, e))) return rc;
    lp_path_key(field, sizeof field, at, "keyframes");
    long long prev = -1;
    json_array_foreach(list, i, k)
    {
        char kat[256], ff[256];
        long long frame;
        lp_path_index(kat, sizeof kat, field, i);
        if ((rc = check_keyframe(params, k, kat, (int)shape, v, &frame, e))) return rc;
        if (frame <= prev)
            return lp_verr_set(e, lp_path_key(ff, sizeof ff, kat, "frame"),
                               "must be after the previous keyframe's frame (%lld); got %lld", prev,
                               frame);
        prev = frame;
    }
    return 0;
}

/* Checks one event {label, start, end}, start <= end. */
static int check_event(const json_t *params, const json_t *ev, const char *at, video_info v,
                       lp_verr *e)
{
    static const char *const keys[] = {"label", "start", "end", NULL};
    char field[256];
    long long start, end;
    int rc;
    if ((rc = lp_v_object(ev, at, e))) return rc;
    if ((rc = lp_v_only_keys(ev, at, keys, e))) return rc;
    lp_path_key(field, sizeof field, at, "label");
    if ((rc = lp_v_name_in(json_object_get(params, "events"), json_object_get(ev, "label"), field,
                           "events", NULL, e)))
        return rc;
    if ((rc = check_frame(ev, "start", at, v, &start, e))) return rc;
    if ((rc = check_frame(ev, "end", at, v, &end, e))) return rc;
    if (end < start)
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "end"),
                           "must not be before start (%lld); got %lld", start, end);
    return 0;
}

/* Checks a response {tracks: [...], events: [...]} (events optional);
 * track ids, where given, are unique. */
static int validate_response(const json_t *params, const json_t *task, const json_t *response,
                             const char *path, lp_verr *e)
{
    static const char *const keys[] = {"tracks", "events", NULL};
    const json_t *list, *x;
    video_info v = task_info(task);
    char field[256];
    size_t i;
    int rc;
    if ((rc = lp_v_object(response, path, e))) return rc;
    if ((rc = lp_v_only_keys(response, path, keys, e))) return rc;
    if ((rc = lp_v_array(response, "tracks", path, 1, 0, LP_LIMIT_RESPONSE_ITEMS, &list, e)))
        return rc;
    lp_path_key(field, sizeof field, path, "tracks");
    json_t *ids = json_object(); /* id -> index, to find repeats */
    json_array_foreach(list, i, x)
    {
        char at[256], idf[256], key[32];
        lp_path_index(at, sizeof at, field, i);
        if ((rc = check_track(params, x, at, v, e))) break;
        const json_t *id = json_object_get(x, "id");
        if (!json_is_number(id)) continue;
        snprintf(key, sizeof key, "%lld", (long long)json_number_value(id));
        const json_t *prev = json_object_get(ids, key);
        if (prev) {
            rc = lp_verr_set(e, lp_path_key(idf, sizeof idf, at, "id"),
                             "%s is already the id of %s[%lld]", key, field,
                             json_integer_value(prev));
            break;
        }
        json_object_set_new(ids, key, json_integer((json_int_t)i));
    }
    json_decref(ids);
    if (rc) return rc;
    if ((rc = lp_v_array(response, "events", path, 0, 0, LP_LIMIT_RESPONSE_ITEMS, &list, e)))
        return rc;
    lp_path_key(field, sizeof field, path, "events");
    json_array_foreach(list, i, x)
    {
        char at[256];
        if ((rc = check_event(params, x, lp_path_index(at, sizeof at, field, i), v, e))) return rc;
    }
    return 0;
}

/* ---- Tracks read for scoring and consolidation -------------------------- */

/* One response's track as track.h sees it; owns k and xy. */
typedef struct vtrack {
    const json_t *json; /* borrowed */
    size_t worker;
    long label;
    lp_track t;
    lp_keyframe *k;
    double *xy;
} vtrack;

/* obj[key] as a number, or 0. */
static double num(const json_t *obj, const char *key)
{
    double v;
    return lp_json_number(json_object_get(obj, key), &v) ? 0 : v;
}

/* Reads the (valid) track json into t; vtrack_fini frees it. */
static void vtrack_read(vtrack *t, const json_t *json, size_t worker, const json_t *params)
{
    const json_t *label = json_object_get(json, "label");
    lp_track_json r;
    lp_track_read(&r, json);
    t->json = json;
    t->worker = worker;
    t->label = lp_names_find(json_object_get(params, "labels"), json_string_value(label),
                             json_string_length(label));
    t->t = r.t;
    t->k = r.k;
    t->xy = r.xy;
}

static void vtrack_fini(vtrack *t)
{
    free(t->k);
    free(t->xy);
}

/* The frames over which tracks are compared: the task's count, else one
 * past the last keyframe or event end of the responses. */
static int64_t frames_of(video_info v, const json_t *const *responses, size_t n)
{
    if (v.frames > 0) return v.frames;
    int64_t last = 0;
    for (size_t r = 0; r < n; r++) {
        const json_t *t, *ev;
        size_t i;
        json_array_foreach(json_object_get(responses[r], "tracks"), i, t)
        {
            const json_t *list = json_object_get(t, "keyframes");
            double f = num(json_array_get(list, json_array_size(list) - 1), "frame");
            if (f + 1 > (double)last) last = (int64_t)f + 1;
        }
        json_array_foreach(json_object_get(responses[r], "events"), i, ev)
        {
            double f = num(ev, "end");
            if (f + 1 > (double)last) last = (int64_t)f + 1;
        }
    }
    return last;
}

/* The temporal IoU of two events (frame ranges, ends included). */
static double event_iou(const json_t *a, const json_t *b)
{
    double s1 = num(a, "start"), e1 = num(a, "end"), s2 = num(b, "start"), e2 = num(b, "end");
    double inter = fmin(e1, e2) - fmax(s1, s2) + 1;
    double uni = fmax(e1, e2) - fmin(s1, s2) + 1;
    return inter > 0 && uni > 0 ? inter / uni : 0;
}

/* 1 when two events carry the same label. */
static int same_label(const json_t *a, const json_t *b)
{
    return json_equal(json_object_get(a, "label"), json_object_get(b, "label"));
}

/* A candidate match of item a with item b, at similarity w. */
typedef lp_assign_edge pair;

/* Most similar first; ties in the order of the items. */
static int by_sim(const void *x, const void *y)
{
    const pair *p = x, *q = y;
    if (p->w != q->w) return p->w < q->w ? 1 : -1;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

/* Appends p to the growing array *pairs of *np items (room for *cap). */
static void push_pair(pair **pairs, size_t *np, size_t *cap, pair p)
{
    if (*np == *cap) *pairs = lp_realloc(*pairs, (*cap = *cap ? 2 * *cap : 16) * sizeof **pairs);
    (*pairs)[(*np)++] = p;
}

/* The next stretch [*lo, *hi) of frames below frames where t shows its
 * object (track.h: from a visible keyframe with a shape to the next
 * keyframe that is not one, else to the end), from keyframe *i on; 0 when
 * none is left. */
static int next_shown(const lp_track *t, size_t *i, int64_t frames, int64_t *lo, int64_t *hi)
{
    while (*i < t->n && (t->k[*i].outside || !t->k[*i].n)) (*i)++;
    if (*i >= t->n || t->k[*i].frame >= frames) return 0;
    *lo = t->k[*i].frame < 0 ? 0 : t->k[*i].frame;
    while (*i < t->n && !t->k[*i].outside && t->k[*i].n) (*i)++;
    *hi = *i < t->n && t->k[*i].frame < frames ? t->k[*i].frame : frames;
    return 1;
}

/* An upper bound of the IoU over time of a and b from when they show
 * their objects alone: the frames where both do over those where either
 * does (each frame's similarity is at most 1 where both show, 0 where one
 * does), so that tracks apart in time are not compared frame by frame.
 * Time O(K) for K keyframes. */
static double iou_bound(const lp_track *a, const lp_track *b, int64_t frames)
{
    int64_t la = 0, ha = 0, lb = 0, hb = 0, na = 0, nb = 0, both = 0;
    size_t ia = 0, ib = 0;
    int more_a = next_shown(a, &ia, frames, &la, &ha);
    int more_b = next_shown(b, &ib, frames, &lb, &hb);
    if (more_a) na += ha - la;
    if (more_b) nb += hb - lb;
    while (more_a && more_b) {
        int64_t lo = la > lb ? la : lb, hi = ha < hb ? ha : hb;
        if (hi > lo) both += hi - lo;
        if (ha <= hb) {
            if ((more_a = next_shown(a, &ia, frames, &la, &ha))) na += ha - la;
        } else if ((more_b = next_shown(b, &ib, frames, &lb, &hb))) {
            nb += hb - lb;
        }
    }
    while (more_a && (more_a = next_shown(a, &ia, frames, &la, &ha))) na += ha - la;
    while (more_b && (more_b = next_shown(b, &ib, frames, &lb, &hb))) nb += hb - lb;
    int64_t either = na + nb - both;
    return either > 0 ? (double)both / (double)either : 0;
}

/* Scores 2 * (sum of matched similarities) / (items in the response + in
 * the reference), items being tracks and events together.  A track
 * matches one of the reference's with the same label and shape whose IoU
 * over time (track.h; over the task's frames) is at least MATCH_MIN, an
 * event one with the same label and a temporal IoU of at least MATCH_MIN;
 * the pairs taken are those of the largest sum (assign.h: the Hungarian
 * method, where taking the most similar pair first can lose).  So a perfect response
 * scores 1, a track half off in time about 0.5 of its share, a missing or
 * extra one 0 of its.  Attributes are not scored.  Two empty responses
 * score 1. */
static double score(const json_t *params, const json_t *task, const json_t *response,
                    const json_t *reference)
{
    const json_t *ta = json_object_get(response, "tracks"),
                 *tb = json_object_get(reference, "tracks");
    const json_t *ea = json_object_get(response, "events"),
                 *eb = json_object_get(reference, "events");
    size_t na = json_array_size(ta), nb = json_array_size(tb);
    size_t ma = json_array_size(ea), mb = json_array_size(eb);
    if (na + nb + ma + mb == 0) return 1;
    const json_t *both[2] = {response, reference};
    int64_t frames = frames_of(task_info(task), both, 2);
    vtrack *va = lp_calloc(na + nb + 1, sizeof *va), *vb = va + na;
    size_t i, j, np = 0;
    for (i = 0; i < na; i++) vtrack_read(&va[i], json_array_get(ta, i), 0, params);
    for (j = 0; j < nb; j++) vtrack_read(&vb[j], json_array_get(tb, j), 1, params);
    pair *pairs = NULL;
    size_t cap = 0;
    for (i = 0; i < na; i++)
        for (j = 0; j < nb; j++) {
            if (va[i].label != vb[j].label || va[i].t.shape != vb[j].t.shape ||
                iou_bound(&va[i].t, &vb[j].t, frames) < MATCH_MIN)
                continue;
            double s = lp_track_iou(&va[i].t, &vb[j].t, frames);
            if (s >= MATCH_MIN) push_pair(&pairs, &np, &cap, (pair){s, i, j});
        }
    double sum = lp_assign_sparse(pairs, np, na, nb, NULL);
    np = 0;
    for (i = 0; i < ma; i++)
        for (j = 0; j < mb; j++) {
            const json_t *a = json_array_get(ea, i), *b = json_array_get(eb, j);
            if (!same_label(a, b)) continue;
            double s = event_iou(a, b);
            if (s >= MATCH_MIN) push_pair(&pairs, &np, &cap, (pair){s, i, j});
        }
    sum += lp_assign_sparse(pairs, np, ma, mb, NULL);
    free(pairs);
    for (i = 0; i < na + nb; i++) vtrack_fini(&va[i]);
    free(va);
    return 2 * sum / (double)(na + nb + ma + mb);
}

/* ---- Consolidation ----------------------------------------------------- */

static double weight_of(const double *weights, size_t i)
{
    return weights ? weights[i] : 1;
}

/* Clusters of items (tracks or events), one item per worker at most, made
 * by merging pairs of clusters, most similar pair first.  Returns each
 * item's cluster root in root[] (n items). */
static void cluster(pair *pairs, size_t np, const size_t *worker, size_t n, size_t *root)
{
    /* members[c] lists cluster c's items through next[]. */
    size_t *next = lp_malloc((n + 1) * sizeof *next);
    for (size_t i = 0; i < n; i++) {
        root[i] = i;
        next[i] = SIZE_MAX;
    }
    if (np) qsort(pairs, np, sizeof *pairs, by_sim);
    for (size_t p = 0; p < np; p++) {
        size_t a = root[pairs[p].a], b = root[pairs[p].b], x, y;
        if (a == b) continue;
        int clash = 0;
        for (x = a; x != SIZE_MAX && !clash; x = next[x])
            for (y = b; y != SIZE_MAX && !clash; y = next[y]) clash = worker[x] == worker[y];
        if (clash) continue;
        for (x = a; next[x] != SIZE_MAX; x = next[x]) {
        }
        next[x] = b;
        for (y = b; y != SIZE_MAX; y = next[y]) root[y] = a;
    }
    free(next);
}

/* The value of the attribute name most weight gives among the n objects
 * attrs[] (NULL where an object has none), and in *given the weight that
 * gives one; ties go to the earlier value.  Borrowed. */
static const json_t *vote_value(const json_t *const *attrs, const double *w, size_t n,
                                const char *name, double *given)
{
    const json_t *best = NULL;
    double best_w = -1;
    *given = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = lp_json_given(attrs[i], name);
        if (!v) continue;
        *given += w[i];
        double sum = 0;
        for (size_t j = 0; j < n; j++) {
            const json_t *u = lp_json_given(attrs[j], name);
            if (u && json_equal(u, v)) sum += w[j];
        }
        if (sum > best_w) {
            best = v;
            best_w = sum;
        }
    }
    return best;
}

/* The attributes (defs) voted among n objects attrs[] of weights w: each
 * attribute that more than half the weight gives (or that is required,
 * when any gives it), as the value given by most weight.  NULL when none. */
static json_t *vote_attributes(const json_t *defs, const json_t *const *attrs, const double *w,
                               size_t n)
{
    json_t *out = NULL;
    double total = 0, given;
    const json_t *def;
    size_t d;
    for (size_t i = 0; i < n; i++) total += w[i];
    json_array_foreach(defs, d, def)
    {
        const char *name = json_string_value(json_object_get(def, "name"));
        if (!name) continue;
        const json_t *v = vote_value(attrs, w, n, name, &given);
        if (!v || (!json_is_true(json_object_get(def, "required")) && !(given > total / 2)))
            continue;
        if (!out) out = json_object();
        json_object_set_new(out, name, json_deep_copy(v));
    }
    return out;
}

/* v moved into [0, limit]. */
static double clamp(double v, double limit)
{
    return fmin(fmax(v, 0), limit);
}

/* A new keyframe at frame f with the shape xy (n points; none for an
 * outside keyframe), moved into the frame, and attrs (taken; may be NULL). */
static json_t *new_keyframe(lp_track_shape shape, int64_t f, int outside, const double *xy,
                            size_t n, video_info v, json_t *attrs)
{
    json_t *k = json_pack("{s:I}", "frame", (json_int_t)f);
    if (outside) json_object_set_new(k, "outside", json_true());
    if (n && shape == LP_TRACK_POLYGON) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, json_pack("{s:f, s:f}", "x", clamp(xy[2 * i], v.width), "y",
                                                  clamp(xy[2 * i + 1], v.height)));
        json_object_set_new(k, "vertices", list);
    } else if (n) {
        double x = clamp(xy[0], v.width), y = clamp(xy[1], v.height);
        json_object_set_new(k, "x", json_real(x));
        json_object_set_new(k, "y", json_real(y));
        if (shape == LP_TRACK_BOX) {
            json_object_set_new(k, "width", json_real(fmax(clamp(xy[2], v.width) - x, 1e-3)));
            json_object_set_new(k, "height", json_real(fmax(clamp(xy[3], v.height) - y, 1e-3)));
        }
    }
    if (attrs) json_object_set_new(k, "attributes", attrs);
    return k;
}

/* A consolidated track frame by frame, from frame start on. */
typedef struct series {
    int64_t start, len;
    size_t stride; /* doubles per frame: 2 * points */
    char *present;
    size_t *n;      /* points at each frame */
    double *xy;     /* stride doubles per frame */
    json_t **attrs; /* voted frame attributes, or NULL (all NULL without frame_attributes) */
} series;

/* The largest coordinate error, over frames a+1 .. b-1 of s, of the
 * straight line between frames a and b; *at receives the worst frame. */
static double worst(const series *s, int64_t a, int64_t b, int64_t *at)
{
    const double *xa = s->xy + (size_t)a * s->stride, *xb = s->xy + (size_t)b * s->stride;
    size_t m = 2 * s->n[a];
    double worst_err = -1;
    for (int64_t f = a + 1; f < b; f++) {
        const double *x = s->xy + (size_t)f * s->stride;
        double u = (double)(f - a) / (double)(b - a), err = 0;
        for (size_t j = 0; j < m; j++) err = fmax(err, fabs(xa[j] + u * (xb[j] - xa[j]) - x[j]));
        if (err > worst_err) {
            worst_err = err;
            *at = f;
        }
    }
    return worst_err;
}

/* Marks in key[] the frames between a and b (both keyframes already) that
 * must be keyframes for the straight lines between keyframes to stay
 * within KEYFRAME_TOLERANCE (Douglas-Peucker, with an explicit stack). */
static void simplify(const series *s, int64_t a, int64_t b, char *key)
{
    int64_t *stack = lp_malloc((size_t)(2 * (b - a) + 4) * sizeof *stack);
    size_t top = 0;
    stack[top++] = a;
    stack[top++] = b;
    while (top) {
        int64_t hi = stack[--top], lo = stack[--top], at = lo;
        if (hi - lo < 2) continue;
        if (worst(s, lo, hi, &at) <= KEYFRAME_TOLERANCE) continue;
        key[at] = 1;
        stack[top++] = lo;
        stack[top++] = at;
        stack[top++] = at;
        stack[top++] = hi;
    }
    free(stack);
}

/* 1 when frames a and b of s have the shape within KEYFRAME_TOLERANCE. */
static int same_shape(const series *s, int64_t a, int64_t b)
{
    const double *xa = s->xy + (size_t)a * s->stride, *xb = s->xy + (size_t)b * s->stride;
    if (s->n[a] != s->n[b]) return 0;
    for (size_t j = 0; j < 2 * s->n[a]; j++)
        if (!(fabs(xa[j] - xb[j]) <= KEYFRAME_TOLERANCE)) return 0;
    return 1;
}

/* 1 when a and b (either may be NULL) are the same attributes. */
static int same_attrs(const json_t *a, const json_t *b)
{
    return a == b || (a && b && json_equal(a, b));
}

/* Builds the keyframes of series s: a keyframe where the object appears,
 * where its point count or frame attributes change and where the straight
 * line from the previous keyframe would be off by more than
 * KEYFRAME_TOLERANCE; an outside keyframe where it disappears. */
static json_t *reduce(const series *s, lp_track_shape shape, video_info v)
{
    char *key = lp_calloc((size_t)s->len + 1, 1);
    for (int64_t f = 0; f < s->len; f++) {
        int was = f > 0 && s->present[f - 1];
        if (s->present[f] != was)
            key[f] = 1;
        else if (s->present[f] &&
                 (s->n[f] != s->n[f - 1] || !same_attrs(s->attrs[f], s->attrs[f - 1])))
            key[f] = 1;
    }
    /* Each stretch of present frames between forced keyframes is
     * simplified: towards the next forced keyframe when the shape moves
     * towards it (it is present with as many points), else up to where the
     * shape stops changing, since after a keyframe it holds. */
    for (int64_t f = 0; f < s->len;) {
        if (!s->present[f]) {
            f++;
            continue;
        }
        int64_t end = f + 1;
        while (end < s->len && s->present[end] && !key[end]) end++;
        int64_t last = end - 1;
        if (end < s->len && s->present[end] && s->n[end] == s->n[f]) {
            last = end;
        } else {
            while (last > f && same_shape(s, last - 1, end - 1)) last--;
            key[last] = 1;
        }
        simplify(s, f, last, key);
        f = end;
    }
    json_t *list = json_array();
    for (int64_t f = 0; f < s->len; f++) {
        if (!key[f]) continue;
        json_t *attrs = s->present[f] && s->attrs[f] ? json_deep_copy(s->attrs[f]) : NULL;
        json_array_append_new(list, new_keyframe(shape, s->start + f, !s->present[f],
                                                 s->xy + (size_t)f * s->stride,
                                                 s->present[f] ? s->n[f] : 0, v, attrs));
    }
    free(key);
    return list;
}

/* The frame attributes of track t in force at frame f (those of its last
 * keyframe at or before f), or NULL. */
static const json_t *frame_attributes(const vtrack *t, int64_t f)
{
    size_t i = lp_track_find(&t->t, f);
    if (i == SIZE_MAX) return NULL;
    return lp_json_given(json_array_get(json_object_get(t->json, "keyframes"), i), "attributes");
}

/* Consolidates the member tracks m[0..k) (weights w) into one track over
 * frames frames: at each frame the object is present when more than half
 * of the members' weight has it present, as the weighted mean of the
 * present members' boxes or points (a polygon: that of the heaviest
 * present member, the earliest on a tie, since vertices need not
 * correspond), with frame attributes voted among them.  *sim receives the
 * weighted mean IoU over time of the members with the result. */
static json_t *consolidate_track(const json_t *params, vtrack *const *m, const double *w, size_t k,
                                 int64_t frames, video_info v, size_t id, double *sim)
{
    lp_track_shape shape = m[0]->t.shape;
    const json_t *fdefs = json_object_get(params, "frame_attributes");
    size_t maxp = 1;
    double total = 0;
    int64_t start = frames;
    for (size_t i = 0; i < k; i++) {
        size_t p = lp_track_max_points(&m[i]->t);
        if (p > maxp) maxp = p;
        total += w[i];
        if (m[i]->t.n && m[i]->t.k[0].frame < start) start = m[i]->t.k[0].frame;
    }
    if (start < 0) start = 0;
    if ((double)(frames - start) * (double)(2 * maxp) > SERIES_BUDGET) {
        /* Too many coordinates to hold frame by frame (huge polygons over
         * a long video): the heaviest member stands for the group. */
        size_t best = 0;
        for (size_t i = 1; i < k; i++)
            if (w[i] > w[best]) best = i;
        json_t *out = json_deep_copy(m[best]->json);
        json_object_set_new(out, "id", json_integer((json_int_t)id));
        *sim = 0;
        for (size_t i = 0; i < k; i++) *sim += w[i] * lp_track_iou(&m[i]->t, &m[best]->t, frames);
        *sim = total > 0 ? *sim / total : 0;
        return out;
    }
    series s = {start, frames > start ? frames - start : 0, 2 * maxp, NULL, NULL, NULL, NULL};
    s.present = lp_calloc((size_t)s.len + 1, 1);
    s.n = lp_calloc((size_t)s.len + 1, sizeof *s.n);
    s.xy = lp_calloc((size_t)s.len * s.stride + 1, sizeof *s.xy);
    s.attrs = lp_calloc((size_t)s.len + 1, sizeof *s.attrs);
    double *buf = lp_malloc(2 * maxp * sizeof *buf);
    const json_t **fa = lp_malloc(k * sizeof *fa);
    double *fw = lp_malloc(k * sizeof *fw);
    for (int64_t f = 0; f < s.len; f++) {
        double here = 0, heaviest = -1;
        double *out = s.xy + (size_t)f * s.stride;
        size_t nf = 0, pts = 0;
        for (size_t i = 0; i < k; i++) {
            size_t n;
            if (!lp_track_at(&m[i]->t, start + f, buf, &n)) continue;
            here += w[i];
            fa[nf] = frame_attributes(m[i], start + f);
            fw[nf++] = w[i];
            if (shape == LP_TRACK_POLYGON) {
                if (w[i] > heaviest) {
                    heaviest = w[i];
                    pts = n;
                    memcpy(out, buf, 2 * n * sizeof *out);
                }
            } else {
                pts = n;
                for (size_t j = 0; j < 2 * n; j++) out[j] += w[i] * buf[j];
            }
        }
        if (!(here > total / 2 + REL_EPS * total) || !pts) {
            memset(out, 0, s.stride * sizeof *out);
            continue;
        }
        if (shape != LP_TRACK_POLYGON)
            for (size_t j = 0; j < 2 * pts; j++) out[j] /= here;
        s.present[f] = 1;
        s.n[f] = pts;
        if (json_array_size(fdefs)) s.attrs[f] = vote_attributes(fdefs, fa, fw, nf);
    }
    json_t *keyframes = reduce(&s, shape, v);
    for (size_t i = 0; i < k; i++) fa[i] = lp_json_given(m[i]->json, "attributes");
    json_t *attrs = vote_attributes(json_object_get(params, "attributes"), fa, w, k);
    json_t *out = json_pack("{s:I, s:O, s:O, s:o}", "id", (json_int_t)id, "label",
                            json_object_get(m[0]->json, "label"), "shape",
                            json_object_get(m[0]->json, "shape"), "keyframes", keyframes);
    if (attrs) json_object_set_new(out, "attributes", attrs);

    /* The members' agreement with the result. */
    vtrack r;
    vtrack_read(&r, out, 0, params);
    *sim = 0;
    for (size_t i = 0; i < k; i++) *sim += w[i] * lp_track_iou(&m[i]->t, &r.t, frames);
    *sim = total > 0 ? *sim / total : 0;
    vtrack_fini(&r);

    for (int64_t f = 0; f < s.len; f++) json_decref(s.attrs[f]);
    free(fw);
    free(fa);
    free(buf);
    free(s.attrs);
    free(s.xy);
    free(s.n);
    free(s.present);
    return out;
}

/* Consolidates the tracks of all responses into list; adds each kept
 * track's confidence to *sum and returns how many were kept. */
static size_t consolidate_tracks(const json_t *params, const json_t *const *responses,
                                 const double *weights, size_t n, double total, int64_t frames,
                                 video_info v, json_t *list, double *sum)
{
    size_t nt = 0, cap = 0, np = 0, kept = 0;
    vtrack *t = NULL;
    for (size_t r = 0; r < n; r++) {
        const json_t *x;
        size_t i;
        json_array_foreach(json_object_get(responses[r], "tracks"), i, x)
        {
            if (nt == cap) t = lp_realloc(t, (cap = cap ? 2 * cap : 16) * sizeof *t);
            vtrack_read(&t[nt++], x, r, params);
        }
    }
    if (!nt) return 0;
    pair *pairs = NULL;
    size_t pcap = 0;
    for (size_t a = 0; a < nt; a++)
        for (size_t b = a + 1; b < nt; b++) {
            if (t[a].worker == t[b].worker || t[a].label != t[b].label ||
                t[a].t.shape != t[b].t.shape || iou_bound(&t[a].t, &t[b].t, frames) < MATCH_MIN)
                continue;
            double s = lp_track_iou(&t[a].t, &t[b].t, frames);
            if (s >= MATCH_MIN) push_pair(&pairs, &np, &pcap, (pair){s, a, b});
        }
    size_t *worker = lp_malloc(nt * sizeof *worker), *root = lp_malloc(nt * sizeof *root);
    for (size_t i = 0; i < nt; i++) worker[i] = t[i].worker;
    cluster(pairs, np, worker, nt, root);
    vtrack **m = lp_malloc(nt * sizeof *m);
    double *w = lp_malloc(nt * sizeof *w);
    for (size_t c = 0; c < nt; c++) {
        if (root[c] != c) continue;
        size_t k = 0;
        double support = 0;
        for (size_t i = c; i < nt; i++)
            if (root[i] == c) {
                m[k] = &t[i];
                w[k] = weight_of(weights, t[i].worker);
                support += w[k++];
            }
        if (!(support > QUORUM * total + REL_EPS * total)) continue;
        double sim;
        json_t *x = consolidate_track(params, m, w, k, frames, v, kept + 1, &sim);
        if (json_array_size(json_object_get(x, "keyframes")) == 0) {
            json_decref(x);
            continue;
        }
        json_array_append_new(list, x);
        *sum += fmin(1, support / total) * sim;
        kept++;
    }
    free(w);
    free(m);
    free(root);
    free(worker);
    free(pairs);
    for (size_t i = 0; i < nt; i++) vtrack_fini(&t[i]);
    free(t);
    return kept;
}

/* Consolidates the events of all responses into list, as the tracks: the
 * events of one label matched across workers by temporal IoU, kept when
 * their workers weigh more than half, with the weighted mean start and end
 * rounded.  Adds each kept event's confidence to *sum; returns how many. */
static size_t consolidate_events(const json_t *const *responses, const double *weights, size_t n,
                                 double total, json_t *list, double *sum)
{
    size_t ne = 0, np = 0, kept = 0;
    for (size_t r = 0; r < n; r++) ne += json_array_size(json_object_get(responses[r], "events"));
    if (!ne) return 0;
    const json_t **ev = lp_malloc(ne * sizeof *ev);
    size_t *worker = lp_malloc(ne * sizeof *worker), *root = lp_malloc(ne * sizeof *root);
    ne = 0;
    for (size_t r = 0; r < n; r++) {
        const json_t *x;
        size_t i;
        json_array_foreach(json_object_get(responses[r], "events"), i, x)
        {
            worker[ne] = r;
            ev[ne++] = x;
        }
    }
    pair *pairs = NULL;
    size_t cap = 0;
    for (size_t a = 0; a < ne; a++)
        for (size_t b = a + 1; b < ne; b++) {
            if (worker[a] == worker[b] || !same_label(ev[a], ev[b])) continue;
            double s = event_iou(ev[a], ev[b]);
            if (s >= MATCH_MIN) push_pair(&pairs, &np, &cap, (pair){s, a, b});
        }
    cluster(pairs, np, worker, ne, root);
    for (size_t c = 0; c < ne; c++) {
        if (root[c] != c) continue;
        double support = 0, start = 0, end = 0;
        for (size_t i = c; i < ne; i++)
            if (root[i] == c) {
                double wi = weight_of(weights, worker[i]);
                support += wi;
                start += wi * num(ev[i], "start");
                end += wi * num(ev[i], "end");
            }
        if (!(support > QUORUM * total + REL_EPS * total)) continue;
        json_t *x = json_pack("{s:O, s:I, s:I}", "label", json_object_get(ev[c], "label"), "start",
                              (json_int_t)llround(start / support), "end",
                              (json_int_t)llround(end / support));
        double agree = 0;
        for (size_t i = c; i < ne; i++)
            if (root[i] == c) agree += weight_of(weights, worker[i]) * event_iou(ev[i], x);
        json_array_append_new(list, x);
        *sum += fmin(1, support / total) * agree / support;
        kept++;
    }
    free(pairs);
    free(root);
    free(worker);
    free(ev);
    return kept;
}

/* Consolidates the workers' tracks and events into one response (see the
 * file comment).  Each response is one worker (all are valid for params
 * and task: the caller checks).  Tracks of the same label and shape whose
 * IoU over time is at least MATCH_MIN pair up; pairs join, most similar
 * first, into clusters with at most one track per worker; a cluster is
 * kept when its workers weigh more than half of all the weight (a worker
 * who drew nothing votes against it).  Each kept cluster becomes one track
 * (consolidate_track), with track attributes voted among its members and
 * the ids 1, 2, ...; events likewise (consolidate_events).  Confidence is
 * the mean over the kept tracks and events of their workers' weight share
 * times their mean IoU with the result; with none kept, the weight share
 * of the workers who gave neither tracks nor events.  A single response is
 * the result as it is, with confidence 1. */
static int aggregate(const json_t *params, const json_t *task, const json_t *const *responses,
                     const double *weights, size_t n, json_t **out, double *confidence)
{
    video_info v = task_info(task);
    double total = 0, idle = 0, sum = 0;
    for (size_t i = 0; i < n; i++) {
        double w = weight_of(weights, i);
        if (!(w >= 0 && isfinite(w))) return LP_EINVAL;
        total += w;
        if (!json_array_size(json_object_get(responses[i], "tracks")) &&
            !json_array_size(json_object_get(responses[i], "events")))
            idle += w;
    }
    if (n == 1 && total > 0) {
        /* One worker: their answer as given (ids, keyframes). */
        *out = json_deep_copy(responses[0]);
        *confidence = 1;
        return 0;
    }
    int64_t frames = frames_of(v, responses, n);
    json_t *tracks = json_array(), *events = json_array();
    size_t kept = 0;
    if (total > 0) {
        kept += consolidate_tracks(params, responses, weights, n, total, frames, v, tracks, &sum);
        kept += consolidate_events(responses, weights, n, total, events, &sum);
    }
    *confidence = kept ? sum / (double)kept : total > 0 ? idle / total : 0;
    *out = json_pack("{s:o}", "tracks", tracks);
    if (json_array_size(events))
        json_object_set_new(*out, "events", events);
    else
        json_decref(events);
    return 0;
}

const lp_kind lp_kind_videoannotation = {
    .version = 1,
    .name = "videoannotation",
    .summary = "Track labelled boxes, points and polygons through a video, with events.",
    .validate_params = validate_params,
    .validate_task = validate_task,
    .validate_response = validate_response,
    .score = score,
    .aggregate = aggregate,
};
