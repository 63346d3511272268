/* agg_geom.c -- consolidation of shapes drawn by several workers on one
 * image (see agg_geom.h).
 *
 * Method.  Shapes are first put in a canonical order (label, type, worker,
 * coordinates), and everything below runs on that order, so the result does
 * not depend on the order the caller passed them in.  Only shapes of the
 * same label and type can match.  Within such a group, the pairwise
 * similarity is the IoU for boxes and polygons and the keypoint similarity
 * exp(-d^2 / (2 s^2)) for points (COCO's OKS for one keypoint: Lin et al.,
 * "Microsoft COCO", ECCV 2014, and the COCO keypoint evaluation).  Shapes
 * are then clustered by greedy agglomerative clustering with average
 * linkage (UPGMA: Sokal and Michener 1958) under the constraint that a
 * cluster holds at most one shape per worker: every shape starts alone, and
 * while two clusters without a worker in common have a mean pairwise
 * similarity of at least opts.iou, the two with the highest mean merge (a
 * tie goes to the pair first in canonical order).  It stops when no such
 * pair is left.  Average linkage does not chain two far objects through a
 * shape between them the way single linkage does, and, unlike complete
 * linkage, one sloppy box does not split a cluster.  Two clusters can only
 * merge when some pair across them has a similarity above 0, so the work is
 * done per connected component of that graph: O(m^3) time and O(m^2)
 * memory for a component of m shapes (the shapes of one object, a few
 * times the number of workers), plus O(k^2) similarities for a group of k.
 *
 * A cluster is kept when the weight of its workers is more than opts.quorum
 * times the weight of all the workers who saw the image (by default more
 * than half: a majority vote per object, in which a worker who drew nothing
 * votes against every object).  A kept cluster becomes one shape:
 * - a box: the weighted median of each coordinate, which one wild corner
 *   cannot move (medians of x_min never exceed medians of x_max, so the box
 *   stays well formed);
 * - a point: the weighted median of x and of y;
 * - a polygon: every member is resampled to M points evenly spaced along
 *   its perimeter (M = 4 times the most vertices of a member, at least 64,
 *   at most 2048), turned to the orientation of a reference member (the
 *   one most similar to the others), cyclically shifted to the shift that
 *   brings its points closest (least squares) to the reference's, and the
 *   points are averaged with the workers' weights (the alignment step of
 *   Procrustes analysis without rotation or scaling: Gower 1975); vertices
 *   that lie on a straight line between their neighbours are then dropped.
 * A cluster of one shape is that shape.  Its confidence is the share of
 * weight of its workers times the weighted mean similarity of its members
 * to the consolidated shape: 1 when every worker drew the same shape.
 *
 * Polygon IoU is exact, by integrating over horizontal rows between the
 * heights of all vertices and edge crossings (the covered width is linear
 * in between); past EXACT_EDGES edges it uses rows of equal height. */
#include "agg_geom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Polygon areas are exact when the two polygons have at most EXACT_EDGES
 * edges together and at most EXACT_ROWS vertices and crossings; otherwise
 * they are integrated over rows of equal height: APPROX_ROWS, or fewer (not
 * under MIN_ROWS) so that rows times edges stays near APPROX_WORK. */
#define EXACT_EDGES 1024
#define EXACT_ROWS  8192
#define APPROX_ROWS 512
#define MIN_ROWS    16
#define APPROX_WORK (1 << 22)
/* Points farther apart than this many scales have similarity 0. */
#define POINT_CUTOFF 4.0
/* Polygon resampling: points per vertex of the largest member, and bounds. */
#define RESAMPLE_PER_VERTEX 4
#define RESAMPLE_MIN        64
#define RESAMPLE_MAX        2048
/* Relative slack in comparisons of sums of weights and similarities. */
#define REL_EPS 1e-12

/* ---- Similarity ---------------------------------------------------------- */

double lp_geom_box_iou(const double *a, const double *b)
{
    double w = fmin(a[2], b[2]) - fmax(a[0], b[0]);
    double h = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    double inter = w > 0 && h > 0 ? w * h : 0;
    double uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return uni > 0 ? inter / uni : 0;
}

double lp_geom_point_similarity(const double *a, const double *b, double scale)
{
    double dx = a[0] - b[0], dy = a[1] - b[1], d2 = dx * dx + dy * dy;
    if (!(d2 <= POINT_CUTOFF * POINT_CUTOFF * scale * scale)) return 0;
    return exp(-d2 / (2 * scale * scale));
}

/* A polygon with its bounding box. */
typedef struct poly {
    const double *xy;
    size_t n;
    double lo[2], hi[2];
} poly;

static poly make_poly(const double *xy, size_t n)
{
    poly p = {xy, n, {HUGE_VAL, HUGE_VAL}, {-HUGE_VAL, -HUGE_VAL}};
    for (size_t i = 0; i < 2 * n; i++) {
        p.lo[i % 2] = fmin(p.lo[i % 2], xy[i]);
        p.hi[i % 2] = fmax(p.hi[i % 2], xy[i]);
    }
    return p;
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Writes into xs, sorted, the x of every point where p's edges cross the
 * line at height y, and returns how many: an even number, so that by the
 * even-odd rule p covers [xs[0], xs[1]], [xs[2], xs[3]], ... */
static size_t crossings(const poly *p, double y, double *xs)
{
    size_t k = 0;
    for (size_t i = 0, j = p->n - 1; i < p->n; j = i++) {
        double xi = p->xy[2 * i], yi = p->xy[2 * i + 1], xj = p->xy[2 * j], yj = p->xy[2 * j + 1];
        if ((yi > y) != (yj > y)) xs[k++] = xi + (y - yi) * (xj - xi) / (yj - yi);
    }
    if (k) qsort(xs, k, sizeof *xs, by_value);
    return k;
}

/* The total length of the intervals [xs[0], xs[1]], [xs[2], xs[3]], ... */
static double covered(const double *xs, size_t n)
{
    double len = 0;
    for (size_t i = 0; i + 1 < n; i += 2) len += xs[i + 1] - xs[i];
    return len;
}

/* The length of the overlap of two lists of sorted disjoint intervals. */
static double overlap(const double *a, size_t na, const double *b, size_t nb)
{
    double len = 0;
    size_t i = 0, j = 0;
    while (i + 1 < na && j + 1 < nb) {
        double lo = fmax(a[i], b[j]), hi = fmin(a[i + 1], b[j + 1]);
        if (hi > lo) len += hi - lo;
        if (a[i + 1] < b[j + 1])
            i += 2;
        else
            j += 2;
    }
    return len;
}

/* The ends *a and *b of edge e of p and q taken together (p's first; edge
 * i runs from vertex i to the next, the last one back to the first). */
static void edge(const poly *p, const poly *q, size_t e, const double **a, const double **b)
{
    const poly *s = e < p->n ? p : q;
    size_t i = e < p->n ? e : e - p->n;
    *a = s->xy + 2 * i;
    *b = s->xy + 2 * ((i + 1) % s->n);
}

/* When segments ab and cd cross at a point inside both, sets *y to its
 * height and returns 1; else returns 0. */
static int cross_height(const double *a, const double *b, const double *c, const double *d,
                        double *y)
{
    if (fmax(a[1], b[1]) < fmin(c[1], d[1]) || fmax(c[1], d[1]) < fmin(a[1], b[1]) ||
        fmax(a[0], b[0]) < fmin(c[0], d[0]) || fmax(c[0], d[0]) < fmin(a[0], b[0]))
        return 0;
    double dx1 = b[0] - a[0], dy1 = b[1] - a[1], dx2 = d[0] - c[0], dy2 = d[1] - c[1];
    double den = dx1 * dy2 - dy1 * dx2;
    if (den == 0) return 0; /* parallel: their order does not change */
    double t = ((c[0] - a[0]) * dy2 - (c[1] - a[1]) * dx2) / den;
    double u = ((c[0] - a[0]) * dy1 - (c[1] - a[1]) * dx1) / den;
    if (!(t > 0 && t < 1 && u > 0 && u < 1)) return 0;
    *y = a[1] + t * dy1;
    return 1;
}

/* Sets area[0], area[1], area[2] to the areas of p, of q and of their
 * intersection, by the even-odd rule.  On a horizontal line the width p, q
 * or both cover changes linearly with the line's height as long as the
 * line passes no vertex and no crossing of two edges, so between
 * consecutive such heights the width at the middle times the row's height
 * is exact.  With too many such heights the rows are instead of equal
 * height, with an error below the perimeter times the row height. */
static void polygon_areas(const poly *p, const poly *q, double area[3])
{
    size_t ne = p->n + q->n, ny = 0, cap = ne + APPROX_ROWS + 1, i;
    double *ys = lp_malloc(cap * sizeof *ys), *xs = lp_malloc((ne + 2) * sizeof *xs);
    int exact = ne <= EXACT_EDGES;
    for (i = 0; i < p->n; i++) ys[ny++] = p->xy[2 * i + 1];
    for (i = 0; i < q->n; i++) ys[ny++] = q->xy[2 * i + 1];
    for (size_t e = 0; exact && e < ne; e++)
        for (size_t f = e + 1; exact && f < ne; f++) {
            const double *a, *b, *c, *d;
            double y;
            edge(p, q, e, &a, &b);
            edge(p, q, f, &c, &d);
            if (!cross_height(a, b, c, d, &y)) continue;
            if (ny >= EXACT_ROWS) exact = 0;
            if (ny == cap) ys = lp_realloc(ys, (cap *= 2) * sizeof *ys);
            ys[ny++] = y;
        }
    if (exact) {
        qsort(ys, ny, sizeof *ys, by_value);
    } else {
        double lo = fmin(p->lo[1], q->lo[1]), hi = fmax(p->hi[1], q->hi[1]);
        size_t rows = APPROX_WORK / ne;
        rows = rows > APPROX_ROWS ? APPROX_ROWS : rows < MIN_ROWS ? MIN_ROWS : rows;
        for (ny = 0; ny <= rows; ny++) ys[ny] = lo + (hi - lo) * (double)ny / (double)rows;
    }
    area[0] = area[1] = area[2] = 0;
    for (i = 0; i + 1 < ny; i++) {
        double h = ys[i + 1] - ys[i], y = ys[i] + h / 2, *xq = xs + p->n;
        if (!(h > 0)) continue;
        size_t np = crossings(p, y, xs), nq = crossings(q, y, xq);
        area[0] += h * covered(xs, np);
        area[1] += h * covered(xq, nq);
        area[2] += h * overlap(xs, np, xq, nq);
    }
    free(xs);
    free(ys);
}

double lp_geom_polygon_iou(const double *a, size_t na, const double *b, size_t nb)
{
    double area[3];
    if (na < 3 || nb < 3) return 0;
    poly p = make_poly(a, na), q = make_poly(b, nb);
    if (p.lo[0] >= q.hi[0] || q.lo[0] >= p.hi[0] || p.lo[1] >= q.hi[1] || q.lo[1] >= p.hi[1])
        return 0;
    polygon_areas(&p, &q, area);
    double uni = area[0] + area[1] - area[2];
    return uni > 0 ? area[2] / uni : 0;
}

/* The similarity of two shapes of the same type. */
static double similarity(const lp_shape *a, const lp_shape *b, double scale)
{
    switch (a->type) {
    case LP_SHAPE_BOX: return lp_geom_box_iou(a->xy, b->xy);
    case LP_SHAPE_POLYGON: return lp_geom_polygon_iou(a->xy, a->n_points, b->xy, b->n_points);
    case LP_SHAPE_POINT: return lp_geom_point_similarity(a->xy, b->xy, scale);
    }
    return 0;
}

/* ---- Checking and ordering the input --------------------------------------- */

/* 0 when shape s is well formed for n_workers workers, else LP_EINVAL. */
static int check_shape(const lp_shape *s, size_t n_workers)
{
    size_t need;
    if (s->worker >= n_workers || !s->xy) return LP_EINVAL;
    switch (s->type) {
    case LP_SHAPE_BOX: need = 2; break;
    case LP_SHAPE_POINT: need = 1; break;
    case LP_SHAPE_POLYGON: need = s->n_points >= 3 ? s->n_points : 0; break;
    default: return LP_EINVAL;
    }
    if (s->n_points != need) return LP_EINVAL;
    for (size_t i = 0; i < 2 * s->n_points; i++)
        if (!isfinite(s->xy[i])) return LP_EINVAL;
    if (s->type == LP_SHAPE_BOX && (s->xy[2] < s->xy[0] || s->xy[3] < s->xy[1])) return LP_EINVAL;
    return 0;
}

/* Compares label, type, worker, then coordinates: the canonical order. */
static int cmp_shape(const lp_shape *a, const lp_shape *b)
{
    if (a->label != b->label) return a->label < b->label ? -1 : 1;
    if (a->type != b->type) return a->type < b->type ? -1 : 1;
    if (a->worker != b->worker) return a->worker < b->worker ? -1 : 1;
    if (a->n_points != b->n_points) return a->n_points < b->n_points ? -1 : 1;
    for (size_t i = 0; i < 2 * a->n_points; i++)
        if (a->xy[i] != b->xy[i]) return a->xy[i] < b->xy[i] ? -1 : 1;
    return 0;
}

/* A shape with its index in the caller's array, the tie-break when two
 * shapes are the same (so that members do not depend on qsort). */
typedef struct keyed {
    lp_shape s;
    size_t at;
} keyed;

static int by_keyed(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    int c = cmp_shape(&a->s, &b->s);
    return c ? c : (a->at > b->at) - (a->at < b->at);
}

static int by_index(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    return (a > b) - (a < b);
}

/* Compares consolidated shapes by label, type, then coordinates. */
static int by_out(const void *x, const void *y)
{
    const lp_geom_out *a = x, *b = y;
    if (a->label != b->label) return a->label < b->label ? -1 : 1;
    if (a->type != b->type) return a->type < b->type ? -1 : 1;
    size_t n = a->n_points < b->n_points ? a->n_points : b->n_points;
    for (size_t i = 0; i < 2 * n; i++)
        if (a->xy[i] != b->xy[i]) return a->xy[i] < b->xy[i] ? -1 : 1;
    return (a->n_points > b->n_points) - (a->n_points < b->n_points);
}

/* ---- Consolidation ---------------------------------------------------------- */

/* A value with its weight, for weighted medians. */
typedef struct weighted {
    double v, w;
} weighted;

static int by_weighted(const void *x, const void *y)
{
    const weighted *a = x, *b = y;
    return (a->v > b->v) - (a->v < b->v);
}

/* The weighted median of the k values in p (sorted here; weights > 0):
 * the value where the running weight first reaches half the total, or the
 * mean of it and the next when the running weight is exactly half (so
 * with equal weights, the usual median). */
static double weighted_median(weighted *p, size_t k)
{
    double total = 0, run = 0;
    qsort(p, k, sizeof *p, by_weighted);
    for (size_t i = 0; i < k; i++) total += p[i].w;
    for (size_t i = 0; i < k; i++) {
        run += p[i].w;
        if (run >= total / 2 * (1 - REL_EPS)) {
            if (fabs(run - total / 2) <= REL_EPS * total && i + 1 < k)
                return (p[i].v + p[i + 1].v) / 2;
            return p[i].v;
        }
    }
    return p[k - 1].v;
}

/* Twice the signed area of polygon xy (n vertices): > 0 counterclockwise
 * in a y-up frame. */
static double signed_area2(const double *xy, size_t n)
{
    double a = 0;
    for (size_t i = 0, j = n - 1; i < n; j = i++)
        a += xy[2 * j] * xy[2 * i + 1] - xy[2 * i] * xy[2 * j + 1];
    return a;
}

/* Writes into out m points evenly spaced along the closed outline of
 * polygon xy (n vertices), the first at vertex 0, walking the vertices in
 * reverse order when reverse is set. */
static void resample(const double *xy, size_t n, int reverse, size_t m, double *out)
{
#define V(i) (xy + 2 * (reverse ? (n - (i)) % n : (i) % n))
    double perimeter = 0;
    for (size_t i = 0; i < n; i++) perimeter += hypot(V(i + 1)[0] - V(i)[0], V(i + 1)[1] - V(i)[1]);
    size_t e = 0;
    double before = 0; /* the outline's length before edge e */
    for (size_t k = 0; k < m; k++) {
        double at = perimeter * (double)k / (double)m, len;
        const double *a, *b;
        for (;;) {
            a = V(e);
            b = V(e + 1);
            len = hypot(b[0] - a[0], b[1] - a[1]);
            if (e + 1 >= n || before + len > at) break;
            before += len;
            e++;
        }
        double t = len > 0 ? fmin(1, fmax(0, (at - before) / len)) : 0;
        out[2 * k] = a[0] + t * (b[0] - a[0]);
        out[2 * k + 1] = a[1] + t * (b[1] - a[1]);
    }
#undef V
}

/* The cyclic shift s minimising the sum over i of the squared distance
 * from q[(i + s) mod m] to r[i]; the smallest such s on ties. */
static size_t best_shift(const double *q, const double *r, size_t m)
{
    size_t best = 0;
    double best_d = HUGE_VAL;
    for (size_t s = 0; s < m; s++) {
        double d = 0;
        for (size_t i = 0; i < m && d < best_d; i++) {
            size_t j = (i + s) % m;
            double dx = q[2 * j] - r[2 * i], dy = q[2 * j + 1] - r[2 * i + 1];
            d += dx * dx + dy * dy;
        }
        if (d < best_d) {
            best_d = d;
            best = s;
        }
    }
    return best;
}

/* The distance of c from the line through a and b when c lies between a
 * and b along that line, else HUGE_VAL; tol stands for |ab| when it is
 * shorter. */
static double off_line(const double *a, const double *b, const double *c, double tol)
{
    double abx = b[0] - a[0], aby = b[1] - a[1];
    if ((c[0] - a[0]) * abx + (c[1] - a[1]) * aby < 0) return HUGE_VAL;
    if ((c[0] - b[0]) * -abx + (c[1] - b[1]) * -aby < 0) return HUGE_VAL;
    return fabs(abx * (c[1] - a[1]) - aby * (c[0] - a[0])) / fmax(hypot(abx, aby), tol);
}

/* Removes from xy (*n points, a closed outline) each vertex that lies, up
 * to rounding, on the segment from the vertex kept before it to the one
 * after it, starting from a vertex that does not; keeps at least 3. */
static void drop_straight(double *xy, size_t *n)
{
    size_t m = *n, start = m, k = 0;
    double lo[2] = {HUGE_VAL, HUGE_VAL}, hi[2] = {-HUGE_VAL, -HUGE_VAL};
    for (size_t i = 0; i < 2 * m; i++) {
        lo[i % 2] = fmin(lo[i % 2], xy[i]);
        hi[i % 2] = fmax(hi[i % 2], xy[i]);
    }
    double tol = 1e-9 * (hypot(hi[0] - lo[0], hi[1] - lo[1]) + 1);
    for (size_t i = 0; i < m && start == m; i++)
        if (off_line(xy + 2 * ((i + m - 1) % m), xy + 2 * ((i + 1) % m), xy + 2 * i, tol) > tol)
            start = i;
    if (start == m) return; /* no corner: leave it as it is */
    double *tmp = lp_malloc(2 * m * sizeof *tmp);
    for (size_t j = 0; j < m; j++) {
        size_t i = (start + j) % m;
        if (j > 0 && off_line(tmp + 2 * (k - 1), xy + 2 * ((i + 1) % m), xy + 2 * i, tol) <= tol)
            continue;
        tmp[2 * k] = xy[2 * i];
        tmp[2 * k + 1] = xy[2 * i + 1];
        k++;
    }
    if (k >= 3) {
        memcpy(xy, tmp, 2 * k * sizeof *xy);
        *n = k;
    }
    free(tmp);
}

/* Consolidates the k shapes mem[] (one cluster, all of one type, k >= 2)
 * with worker weights w[] into o->xy and o->n_points.  ref is the index in
 * mem of the reference member (polygons). */
static void consolidate(const lp_shape *const *mem, const double *w, size_t k, size_t ref,
                        lp_geom_out *o)
{
    if (mem[0]->type != LP_SHAPE_POLYGON) {
        size_t nv = 2 * mem[0]->n_points;
        weighted *p = lp_malloc(k * sizeof *p);
        o->n_points = mem[0]->n_points;
        o->xy = lp_malloc(nv * sizeof *o->xy);
        for (size_t c = 0; c < nv; c++) {
            size_t np = 0;
            for (size_t i = 0; i < k; i++)
                if (w[i] > 0) p[np++] = (weighted){mem[i]->xy[c], w[i]};
            o->xy[c] = weighted_median(p, np);
        }
        free(p);
        return;
    }
    size_t most = 0, m;
    for (size_t i = 0; i < k; i++) most = mem[i]->n_points > most ? mem[i]->n_points : most;
    m = most > RESAMPLE_MAX / RESAMPLE_PER_VERTEX ? RESAMPLE_MAX : most * RESAMPLE_PER_VERTEX;
    m = m < RESAMPLE_MIN ? RESAMPLE_MIN : m;
    double *r = lp_malloc(2 * m * sizeof *r), *q = lp_malloc(2 * m * sizeof *q);
    double *sum = lp_calloc(2 * m, sizeof *sum), total = 0;
    double ref_area = signed_area2(mem[ref]->xy, mem[ref]->n_points);
    resample(mem[ref]->xy, mem[ref]->n_points, 0, m, r);
    for (size_t i = 0; i < k; i++) {
        if (!(w[i] > 0)) continue;
        int reverse = (signed_area2(mem[i]->xy, mem[i]->n_points) > 0) != (ref_area > 0);
        resample(mem[i]->xy, mem[i]->n_points, reverse, m, q);
        size_t s = i == ref ? 0 : best_shift(q, r, m);
        for (size_t j = 0; j < m; j++) {
            sum[2 * j] += w[i] * q[2 * ((j + s) % m)];
            sum[2 * j + 1] += w[i] * q[2 * ((j + s) % m) + 1];
        }
        total += w[i];
    }
    for (size_t j = 0; j < 2 * m; j++) sum[j] /= total;
    drop_straight(sum, &m);
    o->n_points = m;
    o->xy = lp_realloc(sum, 2 * m * sizeof *sum);
    free(q);
    free(r);
}

/* ---- Clustering -------------------------------------------------------------- */

/* A similarity between shapes a < b (indexes into the sorted shapes). */
typedef struct link {
    size_t a, b;
    double sim;
} link;

static size_t find_root(size_t *parent, size_t i)
{
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

/* The state of one call, shared by the steps below. */
typedef struct run {
    const lp_shape *s; /* the shapes in canonical order */
    const size_t *at;  /* at[i]: the caller's index of s[i] */
    const double *weights;
    const lp_geom_opts *o;
    double total; /* the weight of all the workers */
    lp_geom_out *out;
    size_t n_out, cap_out;
} run;

/* The weight of worker w. */
static double weight_of(const run *r, uint32_t w)
{
    return r->weights ? r->weights[w] : 1;
}

/* Emits the cluster of the c shapes idx[] (canonical indexes) when it
 * reaches the quorum. */
static void emit(run *r, const size_t *idx, size_t c)
{
    double support = 0;
    for (size_t i = 0; i < c; i++) support += weight_of(r, r->s[idx[i]].worker);
    if (!(support > r->o->quorum * r->total + REL_EPS * r->total)) return;
    const lp_shape **mem = lp_malloc(c * sizeof *mem);
    double *w = lp_malloc(c * sizeof *w);
    size_t ref = 0;
    double ref_score = -1;
    for (size_t i = 0; i < c; i++) {
        mem[i] = &r->s[idx[i]];
        w[i] = weight_of(r, mem[i]->worker);
    }
    if (r->n_out == r->cap_out)
        r->out =
            lp_realloc(r->out, (r->cap_out = r->cap_out ? 2 * r->cap_out : 8) * sizeof *r->out);
    lp_geom_out *o = &r->out[r->n_out++];
    o->label = mem[0]->label;
    o->type = mem[0]->type;
    o->support = (uint32_t)c;
    o->members = lp_malloc(c * sizeof *o->members);
    for (size_t i = 0; i < c; i++) o->members[i] = r->at[idx[i]];
    qsort(o->members, c, sizeof *o->members, by_index);
    if (c == 1) {
        o->n_points = mem[0]->n_points;
        o->xy = lp_malloc(2 * o->n_points * sizeof *o->xy);
        memcpy(o->xy, mem[0]->xy, 2 * o->n_points * sizeof *o->xy);
    } else {
        if (mem[0]->type == LP_SHAPE_POLYGON)
            for (size_t i = 0; i < c; i++) {
                double score = 0;
                for (size_t j = 0; j < c; j++)
                    if (j != i) score += w[j] * similarity(mem[i], mem[j], r->o->point_scale);
                if (score > ref_score) {
                    ref_score = score;
                    ref = i;
                }
            }
        consolidate(mem, w, c, ref, o);
    }
    lp_shape cons = {0, o->label, o->type, o->n_points, o->xy};
    double agree = 0;
    for (size_t i = 0; i < c; i++) agree += w[i] * similarity(mem[i], &cons, r->o->point_scale);
    o->confidence = fmin(1, support / r->total) * fmin(1, agree / support);
    free(w);
    free(mem);
}

/* Clusters the m shapes comp[] (canonical indexes, one connected component
 * of one label and type) by average linkage under the one-shape-per-worker
 * rule, given the links among them (lk, nl), and emits each cluster. */
static void cluster_component(run *r, const size_t *comp, size_t m, const link *lk, size_t nl,
                              const size_t *pos)
{
    double *sum = lp_calloc(m * m, sizeof *sum);
    char *clash = lp_calloc(m * m, 1), *alive = lp_malloc(m);
    size_t *size = lp_malloc(m * sizeof *size), *next = lp_malloc(m * sizeof *next);
    for (size_t i = 0; i < m; i++) {
        alive[i] = 1;
        size[i] = 1;
        next[i] = m; /* end of cluster i's member list */
        for (size_t j = 0; j < m; j++)
            clash[i * m + j] = r->s[comp[i]].worker == r->s[comp[j]].worker;
    }
    for (size_t e = 0; e < nl; e++) {
        size_t a = pos[lk[e].a], b = pos[lk[e].b];
        sum[a * m + b] = sum[b * m + a] = lk[e].sim;
    }
    for (;;) {
        size_t ba = m, bb = m;
        double best = -1;
        for (size_t a = 0; a < m; a++) {
            if (!alive[a]) continue;
            for (size_t b = a + 1; b < m; b++) {
                if (!alive[b] || clash[a * m + b] || !(sum[a * m + b] > 0)) continue;
                double mean = sum[a * m + b] / ((double)size[a] * (double)size[b]);
                if (mean > best) {
                    best = mean;
                    ba = a;
                    bb = b;
                }
            }
        }
        if (ba == m || best < r->o->iou * (1 - REL_EPS)) break;
        /* Merge bb into ba. */
        for (size_t c = 0; c < m; c++) {
            sum[ba * m + c] = sum[c * m + ba] = sum[ba * m + c] + sum[bb * m + c];
            clash[ba * m + c] = clash[c * m + ba] = clash[ba * m + c] | clash[bb * m + c];
        }
        size_t t = ba;
        while (next[t] != m) t = next[t];
        next[t] = bb;
        size[ba] += size[bb];
        alive[bb] = 0;
    }
    size_t *idx = lp_malloc(m * sizeof *idx);
    for (size_t a = 0; a < m; a++) {
        if (!alive[a]) continue;
        size_t c = 0;
        for (size_t t = a; t != m; t = next[t]) idx[c++] = comp[t];
        emit(r, idx, c);
    }
    free(idx);
    free(next);
    free(size);
    free(alive);
    free(clash);
    free(sum);
}

/* Clusters and emits the k shapes [g, g + k) of one label and type. */
static void cluster_group(run *r, size_t g, size_t k)
{
    link *lk = NULL;
    size_t nl = 0, cap = 0;
    size_t *parent = lp_malloc(k * sizeof *parent), *pos = lp_malloc(k * sizeof *pos);
    size_t *order = lp_malloc(k * sizeof *order), *start = lp_calloc(k + 1, sizeof *start);
    for (size_t i = 0; i < k; i++) parent[i] = i;
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++) {
            if (r->s[g + i].worker == r->s[g + j].worker) continue;
            double sim = similarity(&r->s[g + i], &r->s[g + j], r->o->point_scale);
            if (!(sim > 0)) continue;
            if (nl == cap) lk = lp_realloc(lk, (cap = cap ? 2 * cap : 16) * sizeof *lk);
            lk[nl++] = (link){i, j, sim};
            parent[find_root(parent, j)] = find_root(parent, i);
        }
    /* Bucket the shapes by component (counting sort on the root), keeping
     * the canonical order within each; pos[i] is i's place in its own. */
    for (size_t i = 0; i < k; i++) start[find_root(parent, i) + 1]++;
    for (size_t i = 0; i < k; i++) start[i + 1] += start[i];
    size_t *fill = lp_malloc(k * sizeof *fill);
    for (size_t i = 0; i < k; i++) fill[i] = start[i];
    for (size_t i = 0; i < k; i++) {
        size_t root = find_root(parent, i);
        pos[i] = fill[root] - start[root];
        order[fill[root]++] = i;
    }
    /* Links sorted by component: bucket them the same way. */
    link *by_comp = lp_malloc((nl ? nl : 1) * sizeof *by_comp);
    size_t *lstart = lp_calloc(k + 1, sizeof *lstart);
    for (size_t e = 0; e < nl; e++) lstart[find_root(parent, lk[e].a) + 1]++;
    for (size_t i = 0; i < k; i++) lstart[i + 1] += lstart[i];
    for (size_t i = 0; i < k; i++) fill[i] = lstart[i];
    for (size_t e = 0; e < nl; e++) by_comp[fill[find_root(parent, lk[e].a)]++] = lk[e];
    size_t *comp = lp_malloc(k * sizeof *comp);
    for (size_t root = 0; root < k; root++) {
        size_t m = start[root + 1] - start[root];
        if (!m) continue;
        for (size_t i = 0; i < m; i++) comp[i] = g + order[start[root] + i];
        cluster_component(r, comp, m, by_comp + lstart[root], lstart[root + 1] - lstart[root], pos);
    }
    free(comp);
    free(lstart);
    free(by_comp);
    free(fill);
    free(start);
    free(order);
    free(pos);
    free(parent);
    free(lk);
}

int lp_agg_shapes(const lp_shape *s, size_t n, size_t n_workers, const double *weights,
                  const lp_geom_opts *o, lp_geom_out **out, size_t *n_out)
{
    lp_geom_opts def = LP_GEOM_OPTS_DEFAULT;
    if (!out || !n_out) return LP_EINVAL;
    *out = NULL;
    *n_out = 0;
    if (!o) o = &def;
    if (!(o->iou > 0 && o->iou <= 1) || !(o->quorum >= 0 && o->quorum < 1) ||
        !(o->point_scale > 0 && isfinite(o->point_scale)) || (n && !s))
        return LP_EINVAL;
    double total = 0;
    for (size_t w = 0; w < n_workers; w++) {
        double x = weights ? weights[w] : 1;
        if (!(x >= 0 && isfinite(x))) return LP_EINVAL;
        total += x;
    }
    for (size_t i = 0; i < n; i++)
        if (check_shape(&s[i], n_workers)) return LP_EINVAL;
    if (!n || !(total > 0)) return 0;

    keyed *k = lp_malloc(n * sizeof *k);
    for (size_t i = 0; i < n; i++) k[i] = (keyed){s[i], i};
    qsort(k, n, sizeof *k, by_keyed);
    lp_shape *sorted = lp_malloc(n * sizeof *sorted);
    size_t *at = lp_malloc(n * sizeof *at);
    for (size_t i = 0; i < n; i++) {
        sorted[i] = k[i].s;
        at[i] = k[i].at;
    }
    free(k);
    run r = {sorted, at, weights, o, total, NULL, 0, 0};
    for (size_t g = 0, h; g < n; g = h) {
        for (h = g + 1;
             h < n && sorted[h].label == sorted[g].label && sorted[h].type == sorted[g].type; h++)
            ;
        cluster_group(&r, g, h - g);
    }
    free(at);
    free(sorted);
    if (r.n_out) qsort(r.out, r.n_out, sizeof *r.out, by_out);
    *out = r.out;
    *n_out = r.n_out;
    return 0;
}

void lp_geom_out_free(lp_geom_out *o, size_t n)
{
    if (!o) return;
    for (size_t i = 0; i < n; i++) {
        free(o[i].xy);
        free(o[i].members);
    }
    free(o);
}
