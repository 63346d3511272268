/* track.h -- object tracks in a video: shapes at keyframes, interpolated
 * between them.
 *
 * Pure: arrays in, numbers out, no I/O; lp_track_read reads a track from
 * its JSON form (a videoannotation response's, docs/KINDS.md).  A track follows one
 * object through the frames of a video (or an image sequence).  Its
 * keyframes, sorted by frame with no frame twice, each give the object's
 * shape at that frame or mark it outside (absent).  Between a visible
 * keyframe and the next visible one with as many points the shape moves
 * linearly; otherwise (the next keyframe is outside, or a polygon with
 * another vertex count) it holds until the next keyframe.  Before the first
 * keyframe the object is absent; after the last it stays as that keyframe
 * left it (shown, or outside) to the end of the video.  This is CVAT's
 * track model, so users find what they know.
 *
 * Every lookup is a binary search over the keyframes: O(log K). */
#ifndef LP_TRACK_H
#define LP_TRACK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { LP_TRACK_BOX, LP_TRACK_POINT, LP_TRACK_POLYGON } lp_track_shape;

/* One keyframe.  xy holds 2 * n values, x then y: a box has n 2, its
 * corners (x_min, y_min, x_max, y_max); a point n 1; a polygon its n
 * vertices.  An outside keyframe may have n 0.  Borrowed from the caller. */
typedef struct lp_keyframe {
    int64_t frame;
    int outside;
    size_t n;
    const double *xy;
} lp_keyframe;

/* A track: n keyframes k[], sorted by strictly increasing frame. */
typedef struct lp_track {
    lp_track_shape shape;
    size_t n;
    const lp_keyframe *k;
} lp_track;

/* The index of the last keyframe at or before frame, or SIZE_MAX when
 * frame is before the first keyframe (or the track has none). */
size_t lp_track_find(const lp_track *t, int64_t frame);

/* The most points any keyframe of t has: the size, in points, of the
 * buffer lp_track_at needs. */
size_t lp_track_max_points(const lp_track *t);

/* The object's shape at frame.  Returns 1 when the object is present there
 * and writes its 2 * *n coordinates into xy (room for
 * lp_track_max_points(t) points); returns 0 when it is absent (before the
 * first keyframe, or at or after an outside keyframe until the next). */
int lp_track_at(const lp_track *t, int64_t frame, double *xy, size_t *n);

/* How alike two shapes of the same kind are, 0 to 1: IoU for boxes and
 * polygons; exp(-d^2 / (2 * 10^2)) for points d pixels apart (see
 * lp_geom_point_similarity). */
double lp_track_shape_similarity(lp_track_shape shape, const double *a, size_t na, const double *b,
                                 size_t nb);

/* IoU over time of tracks a and b (the same shape) in a video of frames
 * frames: the mean, over the frames where either object is present, of
 * their shapes' similarity, a frame where only one is present counting 0.
 * 0 when neither is ever present.  Time O(K) for K keyframes, plus
 * O(log K) for each frame where both objects are present and near. */
double lp_track_iou(const lp_track *a, const lp_track *b, int64_t frames);

/* A track read from JSON, with its keyframes and coordinates. */
typedef struct lp_track_json {
    lp_track t;
    lp_keyframe *k; /* t.k; owned */
    double *xy;     /* every keyframe's coordinates; owned */
} lp_track_json;

/* Reads track, a videoannotation track {"shape", "keyframes": [{"frame",
 * "outside"?, x/y/width/height or vertices}]} that passed the kind's
 * validation, into r; anything else gives some track without a crash.
 * lp_track_json_fini frees it. */
void lp_track_read(lp_track_json *r, const json_t *track);
void lp_track_json_fini(lp_track_json *r);

#endif
