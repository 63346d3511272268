/* test_track.c -- interpolation and IoU over time of tracks (track.h). */
#include <math.h>
#include <stdint.h>

#include "test.h"
#include "track.h"

/* A box track: keyframes at frames 0 (0,0)-(10,10), 10 (100,0)-(120,20),
 * then outside at 20, back at 30 (0,0)-(10,10). */
static const double b0[] = {0, 0, 10, 10}, b1[] = {100, 0, 120, 20}, b3[] = {0, 0, 10, 10};
static const lp_keyframe boxes[] = {
    {0, 0, 2, b0}, {10, 0, 2, b1}, {20, 1, 0, NULL}, {30, 0, 2, b3}};
static const lp_track box_track = {LP_TRACK_BOX, 4, boxes};

TEST(track_find_is_the_last_keyframe_at_or_before)
{
    CHECK(lp_track_find(&box_track, -1) == SIZE_MAX);
    CHECK_INT(lp_track_find(&box_track, 0), 0);
    CHECK_INT(lp_track_find(&box_track, 9), 0);
    CHECK_INT(lp_track_find(&box_track, 10), 1);
    CHECK_INT(lp_track_find(&box_track, 25), 2);
    CHECK_INT(lp_track_find(&box_track, 1000), 3);
    lp_track empty = {LP_TRACK_BOX, 0, NULL};
    CHECK(lp_track_find(&empty, 5) == SIZE_MAX);
}

TEST(track_boxes_move_linearly_between_keyframes)
{
    double xy[4];
    size_t n;
    CHECK(lp_track_at(&box_track, 0, xy, &n));
    CHECK_INT(n, 2);
    CHECK_NEAR(xy[2], 10, 1e-12);
    CHECK(lp_track_at(&box_track, 5, xy, &n));
    CHECK_NEAR(xy[0], 50, 1e-12);
    CHECK_NEAR(xy[1], 0, 1e-12);
    CHECK_NEAR(xy[2], 65, 1e-12);
    CHECK_NEAR(xy[3], 15, 1e-12);
    CHECK(lp_track_at(&box_track, 10, xy, &n));
    CHECK_NEAR(xy[0], 100, 1e-12);
    /* The next keyframe is outside: the box holds until it. */
    CHECK(lp_track_at(&box_track, 19, xy, &n));
    CHECK_NEAR(xy[0], 100, 1e-12);
    CHECK_NEAR(xy[2], 120, 1e-12);
}

TEST(track_outside_and_before_the_first_keyframe_are_absent)
{
    double xy[4];
    size_t n = 7;
    lp_keyframe late[] = {{5, 0, 2, b0}};
    lp_track t = {LP_TRACK_BOX, 1, late};
    CHECK(!lp_track_at(&t, 4, xy, &n));
    CHECK_INT(n, 0);
    CHECK(lp_track_at(&t, 5, xy, &n));
    /* After the last keyframe the object stays to the end. */
    CHECK(lp_track_at(&t, 100000, xy, &n));
    CHECK_NEAR(xy[2], 10, 1e-12);
    CHECK(!lp_track_at(&box_track, 20, xy, &n));
    CHECK(!lp_track_at(&box_track, 29, xy, &n));
    CHECK(lp_track_at(&box_track, 30, xy, &n));
    CHECK(lp_track_at(&box_track, 99, xy, &n));
}

TEST(track_polygons_interpolate_only_with_equal_vertex_counts)
{
    static const double p0[] = {0, 0, 10, 0, 0, 10}, p1[] = {10, 10, 20, 10, 10, 20};
    static const double q[] = {0, 0, 10, 0, 10, 10, 0, 10};
    lp_keyframe same[] = {{0, 0, 3, p0}, {4, 0, 3, p1}};
    lp_keyframe other[] = {{0, 0, 3, p0}, {4, 0, 4, q}};
    lp_track a = {LP_TRACK_POLYGON, 2, same}, b = {LP_TRACK_POLYGON, 2, other};
    CHECK_INT(lp_track_max_points(&b), 4);
    double xy[8];
    size_t n;
    CHECK(lp_track_at(&a, 1, xy, &n));
    CHECK_INT(n, 3);
    CHECK_NEAR(xy[0], 2.5, 1e-12);
    CHECK_NEAR(xy[5], 12.5, 1e-12);
    CHECK(lp_track_at(&b, 3, xy, &n));
    CHECK_INT(n, 3);
    CHECK_NEAR(xy[0], 0, 1e-12);
    CHECK(lp_track_at(&b, 4, xy, &n));
    CHECK_INT(n, 4);
}

TEST(track_points_interpolate)
{
    static const double p0[] = {0, 0}, p1[] = {30, -60};
    lp_keyframe k[] = {{10, 0, 1, p0}, {40, 0, 1, p1}};
    lp_track t = {LP_TRACK_POINT, 2, k};
    double xy[2];
    size_t n;
    CHECK(lp_track_at(&t, 20, xy, &n));
    CHECK_INT(n, 1);
    CHECK_NEAR(xy[0], 10, 1e-12);
    CHECK_NEAR(xy[1], -20, 1e-12);
}

TEST(track_iou_over_time_counts_frames_where_either_is_present)
{
    /* Same box, a from frame 0, b from frame 5, video of 10 frames: 5 of
     * 10 frames have both, at IoU 1. */
    lp_keyframe ka[] = {{0, 0, 2, b0}}, kb[] = {{5, 0, 2, b0}};
    lp_track a = {LP_TRACK_BOX, 1, ka}, b = {LP_TRACK_BOX, 1, kb};
    CHECK_NEAR(lp_track_iou(&a, &b, 10), 0.5, 1e-12);
    CHECK_NEAR(lp_track_iou(&a, &a, 10), 1, 1e-12);
    /* Over 1,000,000 frames the tail is not walked frame by frame but
     * still counts: 5 frames of a alone. */
    CHECK_NEAR(lp_track_iou(&a, &b, 1000000), 999995.0 / 1000000, 1e-12);
    /* b shifted by half a box in x: IoU 5*10 / (15*10) = 1/3 at each frame. */
    static const double half[] = {5, 0, 15, 10};
    lp_keyframe kc[] = {{0, 0, 2, half}};
    lp_track c = {LP_TRACK_BOX, 1, kc};
    CHECK_NEAR(lp_track_iou(&a, &c, 10), 1.0 / 3, 1e-12);
    /* Outside frames of both do not count. */
    lp_track none = {LP_TRACK_BOX, 0, NULL};
    CHECK_NEAR(lp_track_iou(&none, &none, 10), 0, 1e-12);
    CHECK_NEAR(lp_track_iou(&box_track, &box_track, 40), 1, 1e-12);
}

/* IoU over time frame by frame, the definition, for the test below. */
static double brute_iou(const lp_track *a, const lp_track *b, int64_t frames)
{
    double xa[16], xb[16], sum = 0, either = 0;
    for (int64_t f = 0; f < frames; f++) {
        size_t na, nb;
        int pa = lp_track_at(a, f, xa, &na), pb = lp_track_at(b, f, xb, &nb);
        if (pa || pb) either++;
        if (pa && pb) sum += lp_track_shape_similarity(a->shape, xa, na, xb, nb);
    }
    return either ? sum / either : 0;
}

/* Random tracks of each shape: the stretch walk of lp_track_iou (boxes
 * apart skipped, still stretches counted at once) gives the definition's
 * value. */
TEST(track_iou_over_time_equals_the_frame_by_frame_definition)
{
    uint32_t seed = 12345;
#define RND(n) ((seed = seed * 1103515245u + 12345u) >> 16) % (n)
    for (int round = 0; round < 300; round++) {
        lp_track_shape shape = (lp_track_shape)(round % 3);
        double xy[2][8][8];
        lp_keyframe k[2][8];
        lp_track t[2];
        for (int w = 0; w < 2; w++) {
            size_t n = 1 + RND(6);
            int64_t frame = RND(10);
            for (size_t i = 0; i < n; i++) {
                size_t pts = shape == LP_TRACK_BOX ? 2 : shape == LP_TRACK_POINT ? 1 : 3 + RND(2);
                double x = RND(60), y = RND(60);
                double *p = xy[w][i];
                if (shape == LP_TRACK_BOX) {
                    p[0] = x, p[1] = y, p[2] = x + 1 + RND(40), p[3] = y + 1 + RND(40);
                } else {
                    for (size_t j = 0; j < pts; j++)
                        p[2 * j] = x + RND(30), p[2 * j + 1] = y + RND(30);
                }
                int outside = RND(5) == 0;
                k[w][i] = (lp_keyframe){frame, outside, outside && RND(2) ? 0 : pts, p};
                frame += 1 + RND(15);
            }
            t[w] = (lp_track){shape, n, k[w]};
        }
        int64_t frames = 1 + RND(120);
        double fast = lp_track_iou(&t[0], &t[1], frames), slow = brute_iou(&t[0], &t[1], frames);
        if (fabs(fast - slow) > 1e-9)
            lp_test_fail(__FILE__, __LINE__, "round %d: %g vs %g", round, fast, slow);
        CHECK_NEAR(fast, slow, 1e-9);
    }
#undef RND
}
