/* test_geom3d.c -- 3D IoU of cuboids turning about z, against values
 * worked out by hand. */
#include <math.h>

#include "geom3d.h"
#include "test.h"

static lp_cuboid box(double x, double y, double z, double l, double w, double h, double yaw)
{
    return (lp_cuboid){x, y, z, l, w, h, yaw};
}

TEST(geom3d_identical_boxes_are_one_and_disjoint_zero)
{
    lp_cuboid a = box(1, 2, 0.5, 4, 2, 1.5, 0.3);
    CHECK_NEAR(lp_cuboid_iou(&a, &a), 1.0, 1e-12);
    lp_cuboid b = box(20, 2, 0.5, 4, 2, 1.5, 0.3);
    CHECK_NEAR(lp_cuboid_iou(&a, &b), 0.0, 0);
    /* Overlapping from above but one above the other. */
    lp_cuboid c = box(1, 2, 3, 4, 2, 1.5, 0.3);
    CHECK_NEAR(lp_cuboid_iou(&a, &c), 0.0, 0);
    /* Touching faces share no volume. */
    lp_cuboid d = box(1, 2, 2, 4, 2, 1.5, 0.3);
    CHECK_NEAR(lp_cuboid_iou(&a, &d), 0.0, 0);
}

TEST(geom3d_axis_aligned_overlap_matches_hand_computation)
{
    /* 2x2x2 cubes shifted by 1 in x and 1 in z: intersection 1*2*1 = 2,
     * union 8 + 8 - 2 = 14. */
    lp_cuboid a = box(0, 0, 0, 2, 2, 2, 0), b = box(1, 0, 1, 2, 2, 2, 0);
    CHECK_NEAR(lp_cuboid_iou(&a, &b), 2.0 / 14, 1e-12);
    /* A box inside another: 1 / 8. */
    lp_cuboid c = box(0, 0, 0, 1, 1, 1, 0);
    CHECK_NEAR(lp_cuboid_iou(&a, &c), 1.0 / 8, 1e-12);
    CHECK_NEAR(lp_cuboid_iou(&c, &a), 1.0 / 8, 1e-12);
}

TEST(geom3d_rotation_is_measured)
{
    /* A square turned 90 degrees is itself. */
    lp_cuboid a = box(0, 0, 0, 2, 2, 1, 0), b = box(0, 0, 0, 2, 2, 1, M_PI / 2);
    CHECK_NEAR(lp_cuboid_iou(&a, &b), 1.0, 1e-12);
    /* Turned 45 degrees: the overlap is a regular octagon of area
     * 8 (sqrt 2 - 1); the union 4 + 4 - that. */
    lp_cuboid c = box(0, 0, 0, 2, 2, 1, M_PI / 4);
    double oct = 8 * (sqrt(2) - 1);
    CHECK_NEAR(lp_cuboid_bev_intersection(&a, &c), oct, 1e-12);
    CHECK_NEAR(lp_cuboid_iou(&a, &c), oct / (8 - oct), 1e-12);
    /* A 4x2 rectangle turned 90 degrees about its centre: a 2x2 overlap
     * of two 8-area rectangles, 4 / 12. */
    lp_cuboid d = box(0, 0, 0, 4, 2, 1, 0), e = box(0, 0, 0, 4, 2, 1, M_PI / 2);
    CHECK_NEAR(lp_cuboid_iou(&d, &e), 4.0 / 12, 1e-12);
    /* The order of the boxes does not matter. */
    CHECK_NEAR(lp_cuboid_iou(&c, &a), lp_cuboid_iou(&a, &c), 1e-12);
}

TEST(geom3d_yaw_wraps_around)
{
    lp_cuboid a = box(3, -1, 1, 4, 1.8, 1.6, 0.7);
    lp_cuboid b = a, c = a, d = a;
    b.yaw += 2 * M_PI;
    c.yaw -= 4 * M_PI;
    d.yaw += M_PI; /* a box is symmetric: heading the other way covers the same space */
    CHECK_NEAR(lp_cuboid_iou(&a, &b), 1.0, 1e-9);
    CHECK_NEAR(lp_cuboid_iou(&a, &c), 1.0, 1e-9);
    CHECK_NEAR(lp_cuboid_iou(&a, &d), 1.0, 1e-9);
    CHECK_NEAR(lp_yaw_wrap(3 * M_PI), M_PI, 1e-12);
    CHECK_NEAR(lp_yaw_wrap(-M_PI), M_PI, 1e-12);
    CHECK_NEAR(lp_yaw_wrap(-M_PI / 2 - 2 * M_PI), -M_PI / 2, 1e-12);
}

TEST(geom3d_degenerate_boxes_score_zero)
{
    lp_cuboid a = box(0, 0, 0, 2, 2, 2, 0), z = box(0, 0, 0, 0, 2, 2, 0);
    CHECK_NEAR(lp_cuboid_iou(&a, &z), 0.0, 0);
    lp_cuboid n = box(NAN, 0, 0, 2, 2, 2, 0), inf = box(0, 0, 0, 2, 2, 2, INFINITY);
    CHECK_NEAR(lp_cuboid_iou(&a, &n), 0.0, 0);
    CHECK_NEAR(lp_cuboid_iou(&a, &inf), 0.0, 0);
}
