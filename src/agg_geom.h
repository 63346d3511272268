/* agg_geom.h -- consolidation of the shapes several workers drew on one image.
 *
 * Pure: arrays in, results out, no I/O.  One call takes every shape drawn on
 * one image (boxes, polygons, points, each with its worker and label) and
 * the number of workers who saw the image, matches the shapes that show the
 * same object across workers, keeps the objects enough workers drew, and
 * returns one consolidated shape per object with its confidence.  See
 * agg_geom.c for the method. */
#ifndef LP_AGG_GEOM_H
#define LP_AGG_GEOM_H

#include <stddef.h>
#include <stdint.h>

typedef enum { LP_SHAPE_BOX, LP_SHAPE_POLYGON, LP_SHAPE_POINT } lp_shape_type;

/* One drawn shape, borrowed.  xy holds 2 * n_points coordinates, x then y:
 * a box has n_points 2, its corners (x_min, y_min, x_max, y_max); a polygon
 * at least 3 vertices, in either orientation; a point 1.  worker is below
 * n_workers; label is the caller's label id. */
typedef struct lp_shape {
    uint32_t worker, label;
    lp_shape_type type;
    size_t n_points;
    const double *xy;
} lp_shape;

/* iou: shapes match when their similarity (IoU; for points exp(-d^2 /
 * (2 point_scale^2)), see lp_geom_point_similarity) is at least this, in
 * (0, 1].  quorum: an object is kept when the weight of the workers who drew
 * it is more than quorum times the weight of all n_workers, in [0, 1).
 * point_scale: in pixels, > 0. */
typedef struct lp_geom_opts {
    double iou;
    double quorum;
    double point_scale;
} lp_geom_opts;

/* The defaults: similarity 0.25, more than half of the workers, points
 * 10 px.  On the Caltech Pedestrians crowd boxes (bench/quality_boxes.c)
 * F1 against expert boxes is flat for a clustering IoU of 0.1 to 0.4 and
 * best at 0.2-0.25; at 0.5 workers' loose boxes of small objects split into
 * clusters too small for the quorum.  A quorum of a half beats 0.2, 0.3
 * and 0.6 there at every IoU. */
#define LP_GEOM_OPTS_DEFAULT ((lp_geom_opts){0.25, 0.5, 10.0})

/* One consolidated shape; xy (2 * n_points values, as in lp_shape) is owned
 * by the array lp_agg_shapes returns.  support counts the workers who drew
 * the object; confidence, in [0, 1], is their weight's share of all the
 * workers' weight times the mean similarity of their shapes to this one.
 * members holds the indexes in the caller's s of the support shapes that
 * make up the object, ascending (so that a caller can consolidate what
 * the shapes carry besides geometry); also owned by the array. */
typedef struct lp_geom_out {
    uint32_t label;
    lp_shape_type type;
    size_t n_points;
    double *xy;
    double confidence;
    uint32_t support;
    size_t *members;
} lp_geom_out;

/* Consolidates the n shapes s drawn on one image by n_workers workers (a
 * worker who saw the image and drew nothing counts too: as a vote for "no
 * object here").  weights, when not NULL, gives each worker's weight
 * (finite, not negative); NULL weighs every worker 1.  o NULL means
 * LP_GEOM_OPTS_DEFAULT.  On success returns 0 and sets *out to a new array
 * of *n_out shapes (NULL when there are none) that the caller frees with
 * lp_geom_out_free, sorted by label, type and coordinates, so the result
 * does not depend on the order of s.  Returns LP_EINVAL, and sets *out to
 * NULL and *n_out to 0, for a worker index not below n_workers, a wrong
 * n_points, a coordinate that is not finite, a box whose max is below its
 * min, a bad weight or option. */
int lp_agg_shapes(const lp_shape *s, size_t n, size_t n_workers, const double *weights,
                  const lp_geom_opts *o, lp_geom_out **out, size_t *n_out);

/* Frees an array lp_agg_shapes returned, with its n shapes; NULL is a no-op. */
void lp_geom_out_free(lp_geom_out *o, size_t n);

/* Intersection over union of two axis-aligned boxes {x_min, y_min, x_max,
 * y_max}; 0 when the union has no area. */
double lp_geom_box_iou(const double *a, const double *b);

/* Intersection over union of polygons a (na vertices, 2 * na values) and b,
 * by the even-odd rule (a self-crossing polygon covers each loop once); 0
 * for fewer than 3 vertices or no area.  Exact up to 1024 edges together,
 * else integrated over at most 512 rows (see agg_geom.c). */
double lp_geom_polygon_iou(const double *a, size_t na, const double *b, size_t nb);

/* exp(-d^2 / (2 scale^2)) for points a and b at distance d: COCO's object
 * keypoint similarity for one keypoint, with scale standing for the object
 * size times the keypoint's constant.  0 when d > 4 scale (similarity
 * below 0.0004), so far points never interact. */
double lp_geom_point_similarity(const double *a, const double *b, double scale);

#endif
