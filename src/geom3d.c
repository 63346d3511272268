/* geom3d.c -- 3D IoU of cuboids that turn about z.
 *
 * The intersection of two convex polygons is found by Sutherland-Hodgman
 * clipping: the first rectangle is clipped by each edge of the second in
 * turn (each edge a half-plane, kept on its left since both are
 * counter-clockwise).  The result is convex with at most 8 vertices, and
 * its area comes from the shoelace formula.  The 3D intersection is that
 * area times the overlap of the two [z - h/2, z + h/2] ranges; the union is
 * the sum of the volumes less the intersection.  Constant time. */
#include "geom3d.h"

#include <math.h>

/* Vertices a clipped polygon may have: a rectangle cut by four half-planes
 * gains at most one vertex per cut. */
#define MAX_VERTS 16

double lp_yaw_wrap(double yaw)
{
    if (!isfinite(yaw)) return yaw;
    double r = fmod(yaw, 2 * M_PI);
    if (r <= -M_PI) r += 2 * M_PI;
    if (r > M_PI) r -= 2 * M_PI;
    return r;
}

void lp_cuboid_corners_bev(const lp_cuboid *c, double xy[8])
{
    static const double sx[4] = {1, -1, -1, 1}, sy[4] = {1, 1, -1, -1};
    double co = cos(c->yaw), si = sin(c->yaw), hl = c->length / 2, hw = c->width / 2;
    for (int i = 0; i < 4; i++) {
        double u = sx[i] * hl, v = sy[i] * hw;
        xy[2 * i] = c->x + u * co - v * si;
        xy[2 * i + 1] = c->y + u * si + v * co;
    }
}

/* The signed distance-like value of p from the line a->b: > 0 on its left. */
static double side(const double *a, const double *b, const double *p)
{
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
}

/* Clips the n vertices in (in) by the half-plane left of a->b into out;
 * returns how many vertices out has. */
static int clip(const double *in, int n, const double *a, const double *b, double *out)
{
    int m = 0;
    for (int i = 0; i < n; i++) {
        const double *p = in + 2 * i, *q = in + 2 * ((i + 1) % n);
        double sp = side(a, b, p), sq = side(a, b, q);
        if (sp >= 0 && m < MAX_VERTS) {
            out[2 * m] = p[0];
            out[2 * m + 1] = p[1];
            m++;
        }
        if (((sp >= 0) != (sq >= 0)) && m < MAX_VERTS) {
            double t = sp / (sp - sq);
            out[2 * m] = p[0] + t * (q[0] - p[0]);
            out[2 * m + 1] = p[1] + t * (q[1] - p[1]);
            m++;
        }
    }
    return m;
}

double lp_cuboid_bev_intersection(const lp_cuboid *a, const lp_cuboid *b)
{
    double pa[8], pb[8], buf[2][2 * MAX_VERTS];
    lp_cuboid_corners_bev(a, pa);
    lp_cuboid_corners_bev(b, pb);
    int n = 4, cur = 0;
    for (int i = 0; i < 8; i++) buf[0][i] = pa[i];
    for (int e = 0; e < 4 && n > 0; e++) {
        n = clip(buf[cur], n, pb + 2 * e, pb + 2 * ((e + 1) % 4), buf[!cur]);
        cur = !cur;
    }
    double area = 0;
    for (int i = 0; i < n; i++) {
        const double *p = buf[cur] + 2 * i, *q = buf[cur] + 2 * ((i + 1) % n);
        area += p[0] * q[1] - q[0] * p[1];
    }
    return n >= 3 ? fabs(area) / 2 : 0;
}

double lp_cuboid_iou(const lp_cuboid *a, const lp_cuboid *b)
{
    double va = a->length * a->width * a->height, vb = b->length * b->width * b->height;
    if (!(va > 0) || !(vb > 0) || !isfinite(va) || !isfinite(vb) || !isfinite(a->x + a->y + a->z) ||
        !isfinite(b->x + b->y + b->z) || !isfinite(a->yaw) || !isfinite(b->yaw))
        return 0;
    double lo = fmax(a->z - a->height / 2, b->z - b->height / 2);
    double hi = fmin(a->z + a->height / 2, b->z + b->height / 2);
    if (!(hi > lo)) return 0;
    /* The same box: exactly 1, without the rounding of clipping. */
    if (a->x == b->x && a->y == b->y && a->length == b->length && a->width == b->width &&
        a->z == b->z && a->height == b->height && a->yaw == b->yaw)
        return 1;
    /* Far apart from above: no clipping needed. */
    double ra = hypot(a->length, a->width) / 2, rb = hypot(b->length, b->width) / 2;
    if (hypot(a->x - b->x, a->y - b->y) >= ra + rb) return 0;
    double inter = lp_cuboid_bev_intersection(a, b) * (hi - lo);
    double u = va + vb - inter;
    double r = u > 0 ? inter / u : 0;
    return r < 0 ? 0 : r > 1 ? 1 : r;
}
