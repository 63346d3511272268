/* test_agg_geom.c -- consolidation of boxes, polygons and points drawn by
 * several workers, and the similarities it matches them by. */
#include <math.h>
#include <stdlib.h>

#include "agg_geom.h"
#include "test.h"
#include "util.h"

/* A box shape of worker w, label 0, over the 4 values at xy. */
static lp_shape box(uint32_t w, const double *xy)
{
    return (lp_shape){w, 0, LP_SHAPE_BOX, 2, xy};
}

TEST(agg_geom_box_and_polygon_iou)
{
    double a[] = {0, 0, 10, 10}, b[] = {5, 0, 15, 10}, c[] = {20, 20, 30, 30}, d[] = {3, 3, 3, 8};
    CHECK_NEAR(lp_geom_box_iou(a, a), 1, 1e-12);
    CHECK_NEAR(lp_geom_box_iou(a, b), 50.0 / 150.0, 1e-12);
    CHECK_NEAR(lp_geom_box_iou(a, c), 0, 0);
    CHECK_NEAR(lp_geom_box_iou(d, d), 0, 0); /* no area */
    /* The same rectangles as polygons, one of them clockwise. */
    double pa[] = {0, 0, 10, 0, 10, 10, 0, 10}, pb[] = {5, 0, 5, 10, 15, 10, 15, 0};
    CHECK_NEAR(lp_geom_polygon_iou(pa, 4, pb, 4), 50.0 / 150.0, 1e-12);
    /* A right triangle, half of the square. */
    double tri[] = {0, 0, 10, 0, 0, 10};
    CHECK_NEAR(lp_geom_polygon_iou(pa, 4, tri, 3), 0.5, 1e-12);
    CHECK_NEAR(lp_geom_polygon_iou(pa, 4, pa, 2), 0, 0);
    double p[] = {0, 0}, q[] = {3, 4};
    CHECK_NEAR(lp_geom_point_similarity(p, q, 5), exp(-0.5), 1e-12);
    CHECK_NEAR(lp_geom_point_similarity(p, q, 1), 0, 0); /* past 4 scales */
}

TEST(agg_geom_identical_boxes_give_that_box_with_confidence_1)
{
    double xy[] = {10, 20, 110, 220};
    lp_shape s[5];
    for (uint32_t w = 0; w < 5; w++) s[w] = box(w, xy);
    lp_geom_out *out;
    size_t n;
    CHECK_INT(lp_agg_shapes(s, 5, 5, NULL, NULL, &out, &n), 0);
    CHECK_INT(n, 1);
    CHECK_INT(out[0].type, LP_SHAPE_BOX);
    CHECK_INT(out[0].n_points, 2);
    CHECK_INT(out[0].support, 5);
    CHECK_NEAR(out[0].confidence, 1, 1e-12);
    for (int i = 0; i < 4; i++) CHECK_NEAR(out[0].xy[i], xy[i], 0);
    lp_geom_out_free(out, n);
}

TEST(agg_geom_quorum_counts_workers_who_drew_nothing)
{
    double xy[] = {10, 20, 110, 220};
    lp_shape s[3] = {box(0, xy), box(1, xy), box(2, xy)};
    lp_geom_out *out;
    size_t n;
    /* 1 of 5 and 2 of 4 (half is not more than half) are dropped. */
    CHECK_INT(lp_agg_shapes(s, 1, 5, NULL, NULL, &out, &n), 0);
    CHECK_INT(n, 0);
    CHECK(out == NULL);
    CHECK_INT(lp_agg_shapes(s, 2, 4, NULL, NULL, &out, &n), 0);
    CHECK_INT(n, 0);
    /* 3 of 5 is kept, with confidence 3/5. */
    CHECK_INT(lp_agg_shapes(s, 3, 5, NULL, NULL, &out, &n), 0);
    CHECK_INT(n, 1);
    CHECK_INT(out[0].support, 3);
    CHECK_NEAR(out[0].confidence, 0.6, 1e-12);
    lp_geom_out_free(out, n);
    /* A lower quorum keeps 1 of 5. */
    lp_geom_opts o = LP_GEOM_OPTS_DEFAULT;
    o.quorum = 0.1;
    CHECK_INT(lp_agg_shapes(s, 1, 5, NULL, &o, &out, &n), 0);
    CHECK_INT(n, 1);
    lp_geom_out_free(out, n);
    /* Weights: worker 0 alone outweighs the other four. */
    double weights[] = {5, 1, 1, 1, 1};
    CHECK_INT(lp_agg_shapes(s, 1, 5, weights, NULL, &out, &n), 0);
    CHECK_INT(n, 1);
    CHECK_NEAR(out[0].confidence, 5.0 / 9.0, 1e-12);
    lp_geom_out_free(out, n);
}

TEST(agg_geom_two_objects_give_two_boxes)
{
    double a[3][4] = {{10, 10, 50, 90}, {12, 8, 52, 88}, {9, 11, 49, 91}};
    double b[3][4] = {{200, 10, 240, 90}, {202, 12, 242, 92}, {199, 9, 239, 89}};
    lp_shape s[6];
    for (uint32_t w = 0; w < 3; w++) {
        s[2 * w] = box(w, b[w]);
        s[2 * w + 1] = box(w, a[w]);
    }
    lp_geom_out *out;
    size_t n;
    CHECK_INT(lp_agg_shapes(s, 6, 3, NULL, NULL, &out, &n), 0);
    CHECK_INT(n, 2);
    /* Sorted by coordinates: the left object first; medians per corner. */
    double want[2][4] = {{10, 10, 50, 90}, {200, 10, 240, 90}};
    for (int k = 0; k < 2; k++) {
        CHECK_INT(out[k].support, 3);
        for (int i = 0; i < 4; i++) CHECK_NEAR(out[k].xy[i], want[k][i], 0);
        CHECK(out[k].confidence > 0.85 && out[k].confidence < 1);
    }
    lp_geom_out_free(out, n);
}

TEST(agg_geom_median_resists_an_outlier_coordinate)
{
    /* Worker 4 stretches the right edge by 40%: still the same object
     * (IoU 0.71), but it must not move the consolidated edge. */
    double xy[5][4] = {
        {0, 0, 99, 100}, {0, 0, 100, 100}, {1, 0, 101, 100}, {0, 1, 100, 100}, {0, 0, 140, 100}};
    lp_shape s[5];
    for (uint32_t w = 0; w < 5; w++) s[w] = box(w, xy[w]);
    lp_geom_out *out;
    size_t n;
    CHECK_INT(lp_agg_shapes(s, 5, 5, NULL, NULL, &out, &n), 0);
    CHECK_INT(n, 1);
    CHECK_INT(out[0].support, 5);
    CHECK_NEAR(out[0].xy[0], 0, 0);
    CHECK_NEAR(out[0].xy[1], 0, 0);
    CHECK_NEAR(out[0].xy[2], 100, 0); /* the mean would be 108 */
    CHECK_NEAR(out[0].xy[3], 100, 0);
    lp_geom_out_free(out, n);
}

TEST(agg_geom_one_shape_per_worker_and_label_per_cluster)
{
    /* Worker 0 draws the object twice; workers 1 and 2 once, worker 2
     * with another label.  Only worker 0's first and worker 1's box can
     * form the label-0 object. */
    double a[] = {0, 0, 100, 100}, a2[] = {1, 1, 100, 100};
    lp_shape s[4] = {box(0, a), box(0, a2), box(1, a), box(2, a)};
    s[3].label = 7;
    lp_geom_out *out;
    size_t n;
    lp_geom_opts o = LP_GEOM_OPTS_DEFAULT;
    o.quorum = 0.5;
    CHECK_INT(lp_agg_shapes(s, 4, 3, NULL, &o, &out, &n), 0);
    CHECK_INT(n, 1);
    CHECK_INT(out[0].label, 0);
    CHECK_INT(out[0].support, 2);
    lp_geom_out_free(out, n);
    o.quorum = 0.3; /* now each of the three clusters is kept */
    CHECK_INT(lp_agg_shapes(s, 4, 3, NULL, &o, &out, &n), 0);
    CHECK_INT(n, 3);
    CHECK_INT(out[0].support + out[1].support, 3);
    CHECK_INT(out[2].label, 7);
    CHECK_INT(out[2].support, 1);
    lp_geom_out_free(out, n);
}

/* A number in [0, 1) from a linear congruential generator. */
static double rnd(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) / 9007199254740992.0;
}

/* Sets each of n outputs' fields equal to the other's; 1 when they are. */
static int same_outputs(const lp_geom_out *a, size_t na, const lp_geom_out *b, size_t nb)
{
    if (na != nb) return 0;
    for (size_t i = 0; i < na; i++) {
        if (a[i].label != b[i].label || a[i].type != b[i].type || a[i].support != b[i].support ||
            a[i].n_points != b[i].n_points || fabs(a[i].confidence - b[i].confidence) > 1e-12)
            return 0;
        for (size_t j = 0; j < 2 * a[i].n_points; j++)
            if (a[i].xy[j] != b[i].xy[j]) return 0;
    }
    return 1;
}

TEST(agg_geom_result_does_not_depend_on_shape_or_worker_order)
{
    /* 7 workers, 4 objects (two overlapping), each worker missing some and
     * jittering the rest, plus stray boxes. */
    enum { W = 7, OBJ = 4, MAX = W * (OBJ + 1) };
    double truth[OBJ][4] = {
        {10, 10, 60, 120}, {40, 20, 90, 130}, {300, 50, 340, 150}, {500, 300, 520, 340}};
    double xy[MAX][4];
    lp_shape s[MAX], t[MAX];
    size_t n = 0;
    uint64_t st = 42;
    for (uint32_t w = 0; w < W; w++) {
        for (int k = 0; k < OBJ; k++) {
            if (rnd(&st) < 0.2) continue;
            for (int i = 0; i < 4; i++) xy[n][i] = truth[k][i] + 6 * (rnd(&st) - 0.5);
            s[n] = box(w, xy[n]);
            n++;
        }
        if (rnd(&st) < 0.4) {
            double x = 600 * rnd(&st), y = 400 * rnd(&st);
            double stray[4] = {x, y, x + 30, y + 30};
            for (int i = 0; i < 4; i++) xy[n][i] = stray[i];
            s[n] = box(w, xy[n]);
            n++;
        }
    }
    lp_geom_out *ref, *out;
    size_t nref, nout;
    CHECK_INT(lp_agg_shapes(s, n, W, NULL, NULL, &ref, &nref), 0);
    CHECK_INT(nref, OBJ);
    for (int k = 0; k < OBJ; k++) CHECK(lp_geom_box_iou(ref[k].xy, truth[k]) > 0.85);
    uint32_t perm[W] = {3, 6, 0, 5, 1, 4, 2};
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < n; i++) t[i] = s[i];
        for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
            size_t j = (size_t)(rnd(&st) * (double)(i + 1));
            lp_shape x = t[i];
            t[i] = t[j];
            t[j] = x;
        }
        if (round % 2)
            for (size_t i = 0; i < n; i++) t[i].worker = perm[t[i].worker];
        CHECK_INT(lp_agg_shapes(t, n, W, NULL, NULL, &out, &nout), 0);
        int same = same_outputs(ref, nref, out, nout);
        lp_geom_out_free(out, nout);
        CHECK(same);
    }
    lp_geom_out_free(ref, nref);
}

TEST(agg_geom_squares_drawn_from_any_corner_average_to_the_square)
{
    /* The square (10, 10)-(50, 50) from four corners, both ways round. */
    double p[5][8] = {
        {10, 10, 50, 10, 50, 50, 10, 50}, {50, 50, 10, 50, 10, 10, 50, 10},
        {10, 50, 50, 50, 50, 10, 10, 10}, {50, 10, 10, 10, 10, 50, 50, 50},
        {50, 10, 50, 50, 10, 50, 10, 10},
    };
    lp_shape s[5];
    for (uint32_t w = 0; w < 5; w++) s[w] = (lp_shape){w, 3, LP_SHAPE_POLYGON, 4, p[w]};
    lp_geom_out *out;
    size_t n;
    CHECK_INT(lp_agg_shapes(s, 5, 5, NULL, NULL, &out, &n), 0);
    CHECK_INT(n, 1);
    CHECK_INT(out[0].label, 3);
    CHECK_INT(out[0].type, LP_SHAPE_POLYGON);
    CHECK_INT(out[0].support, 5);
    CHECK_INT(out[0].n_points, 4);
    CHECK_NEAR(out[0].confidence, 1, 1e-9);
    for (size_t i = 0; i < 8; i++)
        CHECK(fabs(out[0].xy[i] - 10) < 1e-9 || fabs(out[0].xy[i] - 50) < 1e-9);
    CHECK_NEAR(lp_geom_polygon_iou(out[0].xy, 4, p[0], 4), 1, 1e-9);
    lp_geom_out_free(out, n);
}

TEST(agg_geom_noisy_polygons_average_close_to_the_truth)
{
    /* A pentagon with its vertices jittered by each of 5 workers, each
     * starting from another vertex; one worker adds a vertex mid-edge. */
    double truth[] = {100, 0, 195, 69, 159, 181, 41, 181, 5, 69};
    double p[5][12];
    size_t nv[5];
    uint64_t st = 7;
    for (size_t w = 0; w < 5; w++) {
        nv[w] = 5;
        for (size_t i = 0; i < 5; i++) {
            size_t k = (i + w) % 5;
            p[w][2 * i] = truth[2 * k] + 4 * (rnd(&st) - 0.5);
            p[w][2 * i + 1] = truth[2 * k + 1] + 4 * (rnd(&st) - 0.5);
        }
    }
    p[4][10] = (p[4][8] + p[4][0]) / 2;
    p[4][11] = (p[4][9] + p[4][1]) / 2;
    nv[4] = 6;
    lp_shape s[5];
    for (uint32_t w = 0; w < 5; w++) s[w] = (lp_shape){w, 0, LP_SHAPE_POLYGON, nv[w], p[w]};
    lp_geom_out *out;
    size_t n;
    CHECK_INT(lp_agg_shapes(s, 5, 5, NULL, NULL, &out, &n), 0);
    CHECK_INT(n, 1);
    CHECK(lp_geom_polygon_iou(out[0].xy, out[0].n_points, truth, 5) > 0.97);
    CHECK(out[0].confidence > 0.9);
    lp_geom_out_free(out, n);
}

TEST(agg_geom_points_take_the_median_and_drop_far_clicks)
{
    double xy[6][2] = {{100, 100}, {102, 99}, {98, 101}, {101, 100}, {300, 300}, {99, 103}};
    lp_shape s[6];
    for (uint32_t w = 0; w < 6; w++) s[w] = (lp_shape){w, 1, LP_SHAPE_POINT, 1, xy[w]};
    lp_geom_out *out;
    size_t n;
    CHECK_INT(lp_agg_shapes(s, 6, 6, NULL, NULL, &out, &n), 0);
    CHECK_INT(n, 1);
    CHECK_INT(out[0].type, LP_SHAPE_POINT);
    CHECK_INT(out[0].n_points, 1);
    CHECK_INT(out[0].support, 5);
    CHECK_NEAR(out[0].xy[0], 100, 0);
    CHECK_NEAR(out[0].xy[1], 100, 0);
    CHECK(out[0].confidence > 0.75 && out[0].confidence < 5.0 / 6.0);
    lp_geom_out_free(out, n);
    /* With a scale of 1 pixel the clicks are too far apart to match. */
    lp_geom_opts o = LP_GEOM_OPTS_DEFAULT;
    o.point_scale = 1;
    CHECK_INT(lp_agg_shapes(s, 6, 6, NULL, &o, &out, &n), 0);
    CHECK_INT(n, 0);
}

TEST(agg_geom_empty_and_bad_input)
{
    lp_geom_out *out = (lp_geom_out *)1;
    size_t n = 9;
    CHECK_INT(lp_agg_shapes(NULL, 0, 5, NULL, NULL, &out, &n), 0);
    CHECK(out == NULL);
    CHECK_INT(n, 0);
    CHECK_INT(lp_agg_shapes(NULL, 0, 0, NULL, NULL, &out, &n), 0);
    CHECK_INT(n, 0);
    lp_geom_out_free(NULL, 0);

    double ok[] = {0, 0, 10, 10}, flipped[] = {10, 0, 0, 10}, nan_box[] = {0, NAN, 10, 10};
    lp_shape s = box(0, ok);
    CHECK_INT(lp_agg_shapes(&s, 1, 0, NULL, NULL, &out, &n), LP_EINVAL); /* worker 0 of 0 */
    s = box(0, flipped);
    CHECK_INT(lp_agg_shapes(&s, 1, 1, NULL, NULL, &out, &n), LP_EINVAL);
    s = box(0, nan_box);
    CHECK_INT(lp_agg_shapes(&s, 1, 1, NULL, NULL, &out, &n), LP_EINVAL);
    s = (lp_shape){0, 0, LP_SHAPE_POLYGON, 2, ok};
    CHECK_INT(lp_agg_shapes(&s, 1, 1, NULL, NULL, &out, &n), LP_EINVAL);
    s = box(0, ok);
    s.n_points = 4;
    CHECK_INT(lp_agg_shapes(&s, 1, 1, NULL, NULL, &out, &n), LP_EINVAL);
    s = box(0, ok);
    double negative[] = {-1};
    CHECK_INT(lp_agg_shapes(&s, 1, 1, negative, NULL, &out, &n), LP_EINVAL);
    lp_geom_opts o = LP_GEOM_OPTS_DEFAULT;
    o.quorum = 1;
    CHECK_INT(lp_agg_shapes(&s, 1, 1, NULL, &o, &out, &n), LP_EINVAL);
    CHECK(out == NULL);
    CHECK_INT(n, 0);
    /* All weights 0: nothing can reach a quorum. */
    double zero[] = {0};
    CHECK_INT(lp_agg_shapes(&s, 1, 1, zero, NULL, &out, &n), 0);
    CHECK_INT(n, 0);
}
