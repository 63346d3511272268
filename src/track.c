/* track.c -- interpolation and IoU over time of object tracks (track.h).
 *
 * Invariant: a track's keyframes are sorted by strictly increasing frame
 * (the kind's validation guarantees it), so the keyframe in force at a
 * frame is found by binary search, and IoU over time walks the video in
 * stretches between keyframes, frame by frame only where both objects are
 * present and near each other (see lp_track_iou). */
#include "track.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg_geom.h"
#include "util.h"

/* Points are alike as COCO keypoints with this scale, in pixels. */
#define POINT_SCALE 10.0

size_t lp_track_find(const lp_track *t, int64_t frame)
{
    size_t lo = 0, hi = t->n; /* the answer is lo - 1 once lo == hi */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->k[mid].frame <= frame)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : SIZE_MAX;
}

size_t lp_track_max_points(const lp_track *t)
{
    size_t m = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->k[i].n > m) m = t->k[i].n;
    return m;
}

int lp_track_at(const lp_track *t, int64_t frame, double *xy, size_t *n)
{
    size_t i = lp_track_find(t, frame);
    *n = 0;
    if (i == SIZE_MAX || t->k[i].outside || t->k[i].n == 0) return 0;
    const lp_keyframe *a = &t->k[i], *b = i + 1 < t->n ? &t->k[i + 1] : NULL;
    *n = a->n;
    if (!b || b->outside || b->n != a->n || frame == a->frame) {
        for (size_t j = 0; j < 2 * a->n; j++) xy[j] = a->xy[j];
        return 1;
    }
    double u = (double)(frame - a->frame) / (double)(b->frame - a->frame);
    for (size_t j = 0; j < 2 * a->n; j++) xy[j] = a->xy[j] + u * (b->xy[j] - a->xy[j]);
    return 1;
}

double lp_track_shape_similarity(lp_track_shape shape, const double *a, size_t na, const double *b,
                                 size_t nb)
{
    size_t same = 0;
    if (na == nb)
        while (same < 2 * na && a[same] == b[same]) same++;
    if (na && na == nb && same == 2 * na) return 1; /* even a shape with no area */
    switch (shape) {
    case LP_TRACK_BOX: return na == 2 && nb == 2 ? lp_geom_box_iou(a, b) : 0;
    case LP_TRACK_POINT: return na && nb ? lp_geom_point_similarity(a, b, POINT_SCALE) : 0;
    case LP_TRACK_POLYGON: return lp_geom_polygon_iou(a, na, b, nb);
    }
    return 0;
}

/* The bounding box {x1, y1, x2, y2} of the n points xy and the m points
 * yz together. */
static void hull(const double *xy, size_t n, const double *yz, size_t m, double *box)
{
    box[0] = box[1] = HUGE_VAL;
    box[2] = box[3] = -HUGE_VAL;
    for (size_t i = 0; i < n + m; i++) {
        const double *p = i < n ? xy + 2 * i : yz + 2 * (i - n);
        box[0] = fmin(box[0], p[0]);
        box[1] = fmin(box[1], p[1]);
        box[2] = fmax(box[2], p[0]);
        box[3] = fmax(box[3], p[1]);
    }
}

/* 1 when shapes that stay inside boxes a and b can only be 0 alike: for
 * boxes and polygons a gap between the boxes (not a shared edge: two
 * equal shapes without area are 1 alike); points are 0 alike beyond 4
 * scales (lp_geom_point_similarity). */
static int apart(lp_track_shape shape, const double *a, const double *b)
{
    double gap = fmax(fmax(b[0] - a[2], a[0] - b[2]), fmax(b[1] - a[3], a[1] - b[3]));
    return gap > (shape == LP_TRACK_POINT ? 4 * POINT_SCALE : 0);
}

/* Walks the frames in stretches between the keyframes of either track.
 * Within a stretch each track is absent throughout, or present and moving
 * linearly (or holding), so its shape stays inside the box of its shapes
 * at the stretch's two ends: when those boxes are apart the stretch adds
 * 0 for every frame without looking at them, and when neither track moves
 * one frame stands for all.  Past both last keyframes nothing moves, so
 * the last stretch runs to the end at the cost of one frame.  Only
 * stretches where both objects are present and near are walked frame by
 * frame. */
double lp_track_iou(const lp_track *a, const lp_track *b, int64_t frames)
{
    if (!a->n && !b->n) return 0;
    int64_t f = !a->n ? b->k[0].frame : !b->n ? a->k[0].frame : a->k[0].frame;
    if (b->n && b->k[0].frame < f) f = b->k[0].frame;
    if (f < 0) f = 0;
    size_t ma = lp_track_max_points(a) + 1, mb = lp_track_max_points(b) + 1;
    double *xa = lp_malloc(4 * (ma + mb) * sizeof *xa), *ya = xa + 2 * ma;
    double *xb = ya + 2 * ma, *yb = xb + 2 * mb;
    double sum = 0, either = 0;
    size_t ia = 0, ib = 0;
    while (f < frames) {
        int64_t next = frames;
        while (ia < a->n && a->k[ia].frame <= f) ia++;
        while (ib < b->n && b->k[ib].frame <= f) ib++;
        if (ia < a->n && a->k[ia].frame < next) next = a->k[ia].frame;
        if (ib < b->n && b->k[ib].frame < next) next = b->k[ib].frame;
        double len = (double)(next - f);
        size_t na, nb, na2, nb2;
        int pa = lp_track_at(a, f, xa, &na), pb = lp_track_at(b, f, xb, &nb);
        if (pa || pb) either += len;
        if (pa && pb) {
            lp_track_at(a, next - 1, ya, &na2);
            lp_track_at(b, next - 1, yb, &nb2);
            double ha[4], hb[4];
            hull(xa, na, ya, na2, ha);
            hull(xb, nb, yb, nb2, hb);
            int still = na == na2 && nb == nb2 && !memcmp(xa, ya, 2 * na * sizeof *xa) &&
                        !memcmp(xb, yb, 2 * nb * sizeof *xb);
            if (apart(a->shape, ha, hb)) {
                /* 0 all along */
            } else if (still) {
                sum += len * lp_track_shape_similarity(a->shape, xa, na, xb, nb);
            } else {
                for (int64_t g = f; g < next; g++) {
                    if (g > f) {
                        lp_track_at(a, g, xa, &na);
                        lp_track_at(b, g, xb, &nb);
                    }
                    sum += lp_track_shape_similarity(a->shape, xa, na, xb, nb);
                }
            }
        }
        f = next;
    }
    free(xa);
    return either > 0 ? sum / either : 0;
}

/* obj[key] as a number, or 0. */
static double num(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    double x = json_number_value(v);
    return isfinite(x) ? x : 0;
}

void lp_track_read(lp_track_json *r, const json_t *track)
{
    const json_t *list = json_object_get(track, "keyframes"), *k;
    const char *s = json_string_value(json_object_get(track, "shape"));
    size_t i, points = 0;
    json_array_foreach(list, i, k) points += json_array_size(json_object_get(k, "vertices")) + 2;
    r->k = lp_calloc(json_array_size(list) + 1, sizeof *r->k);
    r->xy = lp_malloc((2 * points + 2) * sizeof *r->xy);
    r->t.shape = s && strcmp(s, "point") == 0     ? LP_TRACK_POINT
                 : s && strcmp(s, "polygon") == 0 ? LP_TRACK_POLYGON
                                                  : LP_TRACK_BOX;
    r->t.n = json_array_size(list);
    r->t.k = r->k;
    double *xy = r->xy;
    json_array_foreach(list, i, k)
    {
        lp_keyframe *f = &r->k[i];
        f->frame = (int64_t)num(k, "frame");
        f->outside = json_is_true(json_object_get(k, "outside"));
        f->xy = xy;
        if (r->t.shape == LP_TRACK_POLYGON) {
            const json_t *p;
            size_t j;
            json_array_foreach(json_object_get(k, "vertices"), j, p)
            {
                xy[2 * j] = num(p, "x");
                xy[2 * j + 1] = num(p, "y");
            }
            f->n = json_array_size(json_object_get(k, "vertices"));
        } else if (json_is_number(json_object_get(k, "x"))) {
            xy[0] = num(k, "x");
            xy[1] = num(k, "y");
            xy[2] = xy[0] + num(k, "width");
            xy[3] = xy[1] + num(k, "height");
            f->n = r->t.shape == LP_TRACK_BOX ? 2 : 1;
        }
        xy += 2 * f->n;
    }
}

void lp_track_json_fini(lp_track_json *r)
{
    free(r->k);
    free(r->xy);
}
