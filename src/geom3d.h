/* geom3d.h -- oriented 3D boxes (cuboids) and their intersection over union.
 *
 * Pure: numbers in, numbers out.  A cuboid is its centre (x, y, z), its
 * size along its own axes (length along the heading, width across it,
 * height up) and its yaw, the heading's angle about the z axis from the x
 * axis in radians, counter-clockwise seen from above.  Boxes only turn
 * about z (as lidar boxes of KITTI, nuScenes and Scale do), so the 3D
 * intersection is the bird's-eye-view intersection of two rotated
 * rectangles times the overlap of their vertical extents. */
#ifndef LP_GEOM3D_H
#define LP_GEOM3D_H

typedef struct lp_cuboid {
    double x, y, z;               /* centre */
    double length, width, height; /* > 0 */
    double yaw;                   /* radians about z */
} lp_cuboid;

/* The four corners of c seen from above, counter-clockwise, in xy[8]. */
void lp_cuboid_corners_bev(const lp_cuboid *c, double xy[8]);
/* The area where the rectangles of a and b seen from above overlap. */
double lp_cuboid_bev_intersection(const lp_cuboid *a, const lp_cuboid *b);
/* The volume of a and b's intersection over the volume of their union,
 * in [0, 1]; 0 when either has no volume or a value is not finite. */
double lp_cuboid_iou(const lp_cuboid *a, const lp_cuboid *b);
/* yaw moved into (-pi, pi]. */
double lp_yaw_wrap(double yaw);

#endif
