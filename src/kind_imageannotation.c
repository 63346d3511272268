/* kind_imageannotation.c -- boxes, polygons, lines and points on an image.
 *
 * A project names its labels, the geometries annotators may draw and the
 * attributes each shape carries (category, number, text or boolean).  A
 * response is a list of shapes in image pixels, origin at the top left.
 * Every coordinate is finite and not negative; when the task's data gives
 * the image's "width" and "height", every shape also lies inside the image,
 * so consumers (IoU matching, COCO export) need not clip.  Against a
 * reference, a response scores the F1 of its shapes matched one to one by
 * IoU (boxes, polygons) or distance (lines, points): see score(). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kind.h"
#include "util.h"

/* Rounding slack when comparing a shape's far edge with the image size. */
#define EDGE_EPS 1e-6

/* The geometries by name, in the order of the table below. */
static const char *const geometry_names[] = {"box", "polygon", "line", "point", NULL};

typedef struct geometry {
    const char *name;
    const char *const *keys; /* the keys an annotation of this type may have */
    size_t min_vertices;     /* 0: the shape has x/y, not vertices */
} geometry;

static const char *const box_keys[] = {"type", "label", "attributes", "id", "x",
                                       "y",    "width", "height",     NULL};
static const char *const vertex_keys[] = {"type", "label", "attributes", "id", "vertices", NULL};
static const char *const point_keys[] = {"type", "label", "attributes", "id", "x", "y", NULL};

static const geometry geometries[] = {
    {"box", box_keys, 0},
    {"polygon", vertex_keys, 3},
    {"line", vertex_keys, 2},
    {"point", point_keys, 0},
};

static const char *const attribute_types[] = {"category", "number", "text", "boolean", NULL};

/* The geometry called name, or NULL. */
static const geometry *find_geometry(const char *name)
{
    for (size_t i = 0; i < LP_ARRAY_LEN(geometries); i++)
        if (strcmp(geometries[i].name, name) == 0) return &geometries[i];
    return NULL;
}

/* Checks params.geometries (default: all four), each a known geometry
 * named once. */
static int check_geometries(json_t *params, lp_verr *e)
{
    const json_t *list, *v;
    size_t i;
    int rc;
    lp_json_default(params, "geometries", json_pack("[ssss]", "box", "polygon", "line", "point"));
    if ((rc = lp_v_array(params, "geometries", "params", 1, 1, 0, &list, e))) return rc;
    json_array_foreach(list, i, v)
    {
        char at[256], q[96];
        lp_path_index(at, sizeof at, "params.geometries", i);
        if ((rc = lp_v_one_of(v, at, geometry_names, "a geometry", NULL, e))) return rc;
        for (size_t j = 0; j < i; j++)
            if (json_equal(json_array_get(list, j), v))
                return lp_verr_set(e, at, "%s is already listed at params.geometries[%zu]",
                                   lp_quote(q, sizeof q, json_string_value(v)), j);
    }
    return 0;
}

/* Checks one attribute definition (already a named object) and fills
 * required (false). */
static int check_attribute(json_t *a, const char *at, lp_verr *e)
{
    char field[256], q[96];
    double min = -HUGE_VAL, max = HUGE_VAL; /* stay so when not given */
    int rc;
    if ((rc = lp_v_one_of(json_object_get(a, "type"), lp_path_key(field, sizeof field, at, "type"),
                          attribute_types, "an attribute type", NULL, e)))
        return rc;
    const char *type = json_string_value(json_object_get(a, "type"));
    int category = strcmp(type, "category") == 0, number = strcmp(type, "number") == 0;
    if (category) {
        if ((rc = lp_v_names(a, "choices", at, 1, 1, NULL, e))) return rc;
    } else if (lp_json_given(a, "choices")) {
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "choices"),
                           "is only for category attributes, and this one is %s",
                           lp_quote(q, sizeof q, type));
    }
    const char *bounds[] = {"min", "max"};
    for (size_t i = 0; i < 2; i++)
        if (!number && lp_json_given(a, bounds[i]))
            return lp_verr_set(e, lp_path_key(field, sizeof field, at, bounds[i]),
                               "is only for number attributes, and this one is %s",
                               lp_quote(q, sizeof q, type));
    if ((rc = lp_v_number(a, "min", at, 0, -HUGE_VAL, HUGE_VAL, &min, e))) return rc;
    if ((rc = lp_v_number(a, "max", at, 0, -HUGE_VAL, HUGE_VAL, &max, e))) return rc;
    if (min > max)
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "max"),
                           "must not be less than min (%g); got %g", min, max);
    lp_json_default(a, "required", json_false());
    return lp_v_bool(a, "required", at, 1, NULL, e);
}

/* Checks params {labels, geometries, attributes, instructions}; fills
 * geometries (all four), attributes ([]) and each attribute's required. */
static int validate_params(json_t *params, lp_verr *e)
{
    static const char *const keys[] = {"labels", "geometries", "attributes", "instructions", NULL};
    static const char *const attribute_keys[] = {"type", "choices", "min", "max", "required", NULL};
    const json_t *attributes;
    json_t *a;
    size_t i;
    int rc;
    if ((rc = lp_v_object(params, "params", e))) return rc;
    if ((rc = lp_v_only_keys(params, "params", keys, e))) return rc;
    if ((rc = lp_v_names(params, "labels", "params", 1, 1, NULL, e))) return rc;
    if ((rc = check_geometries(params, e))) return rc;
    if ((rc = lp_v_names(params, "attributes", "params", 0, 0, attribute_keys, e))) return rc;
    attributes = json_object_get(params, "attributes");
    json_array_foreach(attributes, i, a)
    {
        char at[256];
        if ((rc = check_attribute(a, lp_path_index(at, sizeof at, "params.attributes", i), e)))
            return rc;
    }
    return lp_v_string(params, "instructions", "params", 0, 0, 0, NULL, e);
}

/* Checks that the task has an image to draw on. */
static int validate_task(const json_t *params, const json_t *task, lp_verr *e)
{
    static const char *const types[] = {"image", NULL};
    (void)params;
    if (lp_task_attachment(task, types) < 0)
        return lp_verr_set(e, "attachments", "must include an attachment of type \"image\"");
    return 0;
}

typedef struct image_size {
    double width, height;
} image_size;

/* The image's size from the task's data, or HUGE_VAL where it is not
 * given as a positive number. */
static image_size task_image_size(const json_t *task)
{
    const json_t *data = json_object_get(task, "data");
    image_size s = {HUGE_VAL, HUGE_VAL};
    double v;
    if (!lp_json_number(json_object_get(data, "width"), &v) && v > 0) s.width = v;
    if (!lp_json_number(json_object_get(data, "height"), &v) && v > 0) s.height = v;
    return s;
}

/* Checks obj[key], a coordinate in [0, limit], where limit is the image's
 * width or height (named by dimension in messages); *out receives it. */
static int coordinate(const json_t *obj, const char *key, const char *path, double limit,
                      const char *dimension, double *out, lp_verr *e)
{
    char field[256];
    int rc = lp_v_number(obj, key, path, 1, -HUGE_VAL, HUGE_VAL, out, e);
    if (rc) return rc;
    lp_path_key(field, sizeof field, path, key);
    if (*out < 0) return lp_verr_set(e, field, "must not be negative (got %g)", *out);
    if (*out > limit + EDGE_EPS)
        return lp_verr_set(e, field, "must be at most %g, the image's %s (got %g)", limit,
                           dimension, *out);
    return 0;
}

/* Checks a box's x, y, width and height against the image size. */
static int check_box(const json_t *a, const char *at, image_size img, lp_verr *e)
{
    double x, y, w, h;
    char field[256];
    int rc;
    if ((rc = coordinate(a, "x", at, img.width, "width", &x, e)) ||
        (rc = coordinate(a, "y", at, img.height, "height", &y, e)) ||
        (rc = lp_v_number(a, "width", at, 1, -HUGE_VAL, HUGE_VAL, &w, e)) ||
        (rc = lp_v_number(a, "height", at, 1, -HUGE_VAL, HUGE_VAL, &h, e)))
        return rc;
    if (w <= 0)
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "width"),
                           "must be greater than 0 (got %g)", w);
    if (h <= 0)
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "height"),
                           "must be greater than 0 (got %g)", h);
    if (x + w > img.width + EDGE_EPS)
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "width"),
                           "takes the box past the image's right edge: x + width is %g, the "
                           "image is %g wide",
                           x + w, img.width);
    if (y + h > img.height + EDGE_EPS)
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "height"),
                           "takes the box past the image's bottom edge: y + height is %g, "
                           "the image is %g high",
                           y + h, img.height);
    return 0;
}

/* Checks a point's x and y against the image size. */
static int check_point(const json_t *a, const char *at, image_size img, lp_verr *e)
{
    double x, y;
    int rc = coordinate(a, "x", at, img.width, "width", &x, e);
    return rc ? rc : coordinate(a, "y", at, img.height, "height", &y, e);
}

/* Checks a polygon's or a line's vertices: at least min points {x, y}. */
static int check_vertices(const json_t *a, const char *at, size_t min, image_size img, lp_verr *e)
{
    static const char *const keys[] = {"x", "y", NULL};
    const json_t *list, *v;
    char field[256];
    size_t i;
    double x, y;
    int rc;
    if ((rc = lp_v_array(a, "vertices", at, 1, min, 0, &list, e))) return rc;
    lp_path_key(field, sizeof field, at, "vertices");
    json_array_foreach(list, i, v)
    {
        char vat[256];
        lp_path_index(vat, sizeof vat, field, i);
        if ((rc = lp_v_object(v, vat, e)) || (rc = lp_v_only_keys(v, vat, keys, e)) ||
            (rc = coordinate(v, "x", vat, img.width, "width", &x, e)) ||
            (rc = coordinate(v, "y", vat, img.height, "height", &y, e)))
            return rc;
    }
    return 0;
}

/* Checks an annotation's attributes (NULL when not given) against the
 * project's definitions: no unknown names, required ones present, each
 * value of its type. */
static int check_attributes(const json_t *defs, const json_t *attrs, const char *at, lp_verr *e)
{
    char field[256], what[160], q[96], vf[256];
    const json_t *def;
    size_t i;
    int rc;
    lp_path_key(field, sizeof field, at, "attributes");
    json_t *none = attrs ? NULL : json_object();
    rc = lp_v_keys_in(defs, none ? none : attrs, field, "attributes", 0, e);
    json_decref(none);
    if (rc || !json_is_object(attrs)) return rc;
    json_array_foreach(defs, i, def)
    {
        const char *name = json_string_value(json_object_get(def, "name"));
        const char *type = json_string_value(json_object_get(def, "type"));
        const json_t *v = name ? lp_json_given(attrs, name) : NULL;
        double x, bound;
        if (!v || !type) continue;
        lp_path_key(vf, sizeof vf, field, name);
        if (strcmp(type, "category") == 0) {
            snprintf(what, sizeof what, "choices for %s", lp_quote(q, sizeof q, name));
            rc = lp_v_name_in(json_object_get(def, "choices"), v, vf, what, NULL, e);
        } else if (strcmp(type, "number") == 0) {
            if (lp_json_number(v, &x))
                return lp_verr_set(e, vf, "must be a number, not %s", lp_json_type_name(v));
            if (!lp_json_number(json_object_get(def, "min"), &bound) && x < bound)
                return lp_verr_set(e, vf, "must be at least %g (got %g)", bound, x);
            if (!lp_json_number(json_object_get(def, "max"), &bound) && x > bound)
                return lp_verr_set(e, vf, "must be at most %g (got %g)", bound, x);
        } else if (strcmp(type, "text") == 0) {
            rc = lp_v_string(attrs, name, field, 0, 0, 0, NULL, e);
        } else {
            rc = lp_v_bool(attrs, name, field, 0, NULL, e);
        }
        if (rc) return rc;
    }
    return 0;
}

/* Checks one annotation: its type among the project's geometries, its
 * keys, label, geometry, attributes and optional id. */
static int check_annotation(const json_t *params, const json_t *a, const char *at, image_size img,
                            lp_verr *e)
{
    const json_t *allowed = json_object_get(params, "geometries"), *g;
    const char *type;
    char field[256], q[96];
    size_t i;
    int rc, listed = 0;
    if ((rc = lp_v_object(a, at, e))) return rc;
    if ((rc = lp_v_string(a, "type", at, 1, 1, 0, &type, e))) return rc;
    const geometry *geo = find_geometry(type);
    json_array_foreach(allowed, i, g)
    {
        if (geo && json_is_string(g) && strcmp(json_string_value(g), type) == 0) listed = 1;
    }
    if (!listed)
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "type"),
                           "%s is not one of the project's geometries",
                           lp_quote(q, sizeof q, type));
    if ((rc = lp_v_only_keys(a, at, geo->keys, e))) return rc;
    lp_path_key(field, sizeof field, at, "label");
    if ((rc = lp_v_name_in(json_object_get(params, "labels"), json_object_get(a, "label"), field,
                           "labels", NULL, e)))
        return rc;
    if (strcmp(geo->name, "box") == 0)
        rc = check_box(a, at, img, e);
    else if (geo->min_vertices)
        rc = check_vertices(a, at, geo->min_vertices, img, e);
    else
        rc = check_point(a, at, img, e);
    if (rc) return rc;
    if ((rc = check_attributes(json_object_get(params, "attributes"),
                               lp_json_given(a, "attributes"), at, e)))
        return rc;
    return lp_v_string(a, "id", at, 0, 1, 0, NULL, e);
}

/* Checks a response {annotations: [...]} (possibly empty); annotation ids,
 * where given, are unique. */
static int validate_response(const json_t *params, const json_t *task, const json_t *response,
                             const char *path, lp_verr *e)
{
    static const char *const keys[] = {"annotations", NULL};
    const json_t *list, *a;
    image_size img = task_image_size(task);
    char field[256];
    size_t i;
    int rc;
    if ((rc = lp_v_object(response, path, e))) return rc;
    if ((rc = lp_v_only_keys(response, path, keys, e))) return rc;
    if ((rc = lp_v_array(response, "annotations", path, 1, 0, 0, &list, e))) return rc;
    lp_path_key(field, sizeof field, path, "annotations");

    json_t *ids = json_object(); /* id -> index, to find repeats */
    json_array_foreach(list, i, a)
    {
        char at[256], idf[256], q[96];
        lp_path_index(at, sizeof at, field, i);
        if ((rc = check_annotation(params, a, at, img, e))) break;
        const json_t *id = json_object_get(a, "id");
        if (!json_is_string(id)) continue;
        const json_t *prev = json_object_getn(ids, json_string_value(id), json_string_length(id));
        if (prev) {
            rc = lp_verr_set(
                e, lp_path_key(idf, sizeof idf, at, "id"), "%s is already the id of %s[%lld]",
                lp_quote(q, sizeof q, json_string_value(id)), field, json_integer_value(prev));
            break;
        }
        json_object_setn_new(ids, json_string_value(id), json_string_length(id),
                             json_integer((json_int_t)i));
    }
    json_decref(ids);
    return rc;
}

/* ---- Scoring against a reference ------------------------------------- */

/* The geometries' indexes in geometries[]. */
enum { BOX, POLYGON, LINE, POINT };

/* Two shapes can pair up when their similarity is at least this. */
#define MATCH_MIN 0.5
/* Points and lines: the distance at which similarity falls to 0 is the
 * image's diagonal over TOL_DIVISOR (5%) or, when the task does not give the
 * image's size, TOL_PIXELS (5% of a 640x480 image's diagonal). */
#define TOL_DIVISOR 20
#define TOL_PIXELS  40.0
/* Polygon areas are exact when the two polygons have at most EXACT_EDGES
 * edges together and at most EXACT_ROWS vertices and crossings; otherwise
 * they are integrated over rows of equal height: APPROX_ROWS, or fewer (not
 * under MIN_ROWS) so that rows times edges stays near APPROX_WORK. */
#define EXACT_EDGES 1024
#define EXACT_ROWS  8192
#define APPROX_ROWS 512
#define MIN_ROWS    16
#define APPROX_WORK (1 << 22)
/* Points spread along a line to measure its distance from another. */
#define LINE_SAMPLES 32

/* One annotation's geometry, read for scoring. */
typedef struct shape {
    int geometry;        /* BOX, ..., or -1 for a type we do not know */
    const json_t *label; /* borrowed from the annotation */
    size_t n;            /* points in xy */
    double *xy;          /* x0, y0, x1, y1, ...: a box's two corners, a point, or vertices */
    double lo[2], hi[2]; /* the bounding box */
} shape;

/* obj[key] as a number, or 0. */
static double num(const json_t *obj, const char *key)
{
    double v;
    return lp_json_number(json_object_get(obj, key), &v) ? 0 : v;
}

/* Reads annotation a into s; s->xy is the caller's to free. */
static void read_shape(const json_t *a, shape *s)
{
    const char *type = json_string_value(json_object_get(a, "type"));
    const geometry *geo = type ? find_geometry(type) : NULL;
    const json_t *vertices = json_object_get(a, "vertices"), *v;
    size_t i;
    s->geometry = geo ? (int)(geo - geometries) : -1;
    s->label = json_object_get(a, "label");
    if (geo && geo->min_vertices) {
        s->n = json_array_size(vertices);
        s->xy = lp_malloc((2 * s->n + 2) * sizeof *s->xy);
        json_array_foreach(vertices, i, v)
        {
            s->xy[2 * i] = num(v, "x");
            s->xy[2 * i + 1] = num(v, "y");
        }
    } else {
        s->n = s->geometry == BOX ? 2 : 1;
        s->xy = lp_malloc(4 * sizeof *s->xy);
        s->xy[0] = num(a, "x");
        s->xy[1] = num(a, "y");
        s->xy[2] = s->xy[0] + num(a, "width");
        s->xy[3] = s->xy[1] + num(a, "height");
    }
    s->lo[0] = s->lo[1] = s->n ? HUGE_VAL : 0;
    s->hi[0] = s->hi[1] = s->n ? -HUGE_VAL : 0;
    for (i = 0; i < 2 * s->n; i++) {
        s->lo[i % 2] = fmin(s->lo[i % 2], s->xy[i]);
        s->hi[i % 2] = fmax(s->hi[i % 2], s->xy[i]);
    }
}

/* 1 when the bounding boxes of a and b are at least gap apart along x or
 * along y, so that no point of a is closer than gap to b. */
static int apart(const shape *a, const shape *b, double gap)
{
    return a->lo[0] - b->hi[0] >= gap || b->lo[0] - a->hi[0] >= gap || a->lo[1] - b->hi[1] >= gap ||
           b->lo[1] - a->hi[1] >= gap;
}

/* Intersection over union of two boxes (axis-aligned: this kind's boxes do
 * not rotate), exact. */
static double box_iou(const shape *a, const shape *b)
{
    double w = fmin(a->hi[0], b->hi[0]) - fmax(a->lo[0], b->lo[0]);
    double h = fmin(a->hi[1], b->hi[1]) - fmax(a->lo[1], b->lo[1]);
    double inter = w > 0 && h > 0 ? w * h : 0;
    double uni = (a->hi[0] - a->lo[0]) * (a->hi[1] - a->lo[1]) +
                 (b->hi[0] - b->lo[0]) * (b->hi[1] - b->lo[1]) - inter;
    return uni > 0 ? inter / uni : 0;
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Writes into xs, sorted, the x of every point where polygon p's edges
 * cross the line at height y, and returns how many: an even number, so that
 * by the even-odd rule p covers [xs[0], xs[1]], [xs[2], xs[3]], ... */
static size_t crossings(const shape *p, double y, double *xs)
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

/* The length of the overlap of two lists of sorted disjoint intervals (as
 * covered() reads them). */
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

/* Sets *a and *b to the ends of edge e of the polygons p and q taken
 * together (p's edges first; edge i of a polygon runs from vertex i to the
 * next, the last one back to the first). */
static void edge(const shape *p, const shape *q, size_t e, const double **a, const double **b)
{
    const shape *s = e < p->n ? p : q;
    size_t i = e < p->n ? e : e - p->n;
    *a = s->xy + 2 * i;
    *b = s->xy + 2 * ((i + 1) % s->n);
}

/* When segments ab and cd cross at a point inside both (not at an end),
 * sets *y to its height and returns 1; else returns 0. */
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

/* Sets area[0], area[1] and area[2] to the areas of polygons p and q and
 * of their intersection, by the even-odd rule (a self-crossing polygon
 * covers each of its loops once).  The areas are integrals over rows: on a
 * horizontal line the width that p, q or both cover changes linearly with
 * the line's height as long as the line passes no vertex and no crossing of
 * two edges, so between consecutive such heights the width at the middle
 * times the row's height is exact.  When there are too many such heights
 * (more than EXACT_EDGES edges or EXACT_ROWS heights) the rows are instead
 * of equal height (at most APPROX_ROWS), with an error below the perimeter
 * times the row height, the same for both polygons.  Time
 * O(E^2 + R * E log E) for E edges and R rows, bounded by the limits. */
static void polygon_areas(const shape *p, const shape *q, double area[3])
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

/* Intersection over union of two polygons (see polygon_areas); 0 for
 * polygons without area (all vertices on one line). */
static double polygon_iou(const shape *a, const shape *b)
{
    double area[3];
    if (a->n < 3 || b->n < 3 || apart(a, b, 0)) return 0;
    polygon_areas(a, b, area);
    double uni = area[0] + area[1] - area[2];
    return uni > 0 ? area[2] / uni : 0;
}

/* The distance from the point (x, y) to the polyline s. */
static double to_line(double x, double y, const shape *s)
{
    double best = HUGE_VAL;
    for (size_t i = 0; i + 1 < s->n; i++) {
        const double *a = s->xy + 2 * i, *b = a + 2;
        double dx = b[0] - a[0], dy = b[1] - a[1], len2 = dx * dx + dy * dy, t = 0;
        if (len2 > 0) t = fmin(1, fmax(0, ((x - a[0]) * dx + (y - a[1]) * dy) / len2));
        best = fmin(best, hypot(x - a[0] - t * dx, y - a[1] - t * dy));
    }
    return best;
}

/* The mean distance to line b from LINE_SAMPLES points spread evenly along
 * line a, both ends included. */
static double line_distance(const shape *a, const shape *b)
{
    double length = 0, before = 0, sum = 0;
    size_t i, seg = 0;
    if (a->n < 2 || b->n < 2) return HUGE_VAL;
    for (i = 0; i + 1 < a->n; i++)
        length += hypot(a->xy[2 * i + 2] - a->xy[2 * i], a->xy[2 * i + 3] - a->xy[2 * i + 1]);
    for (i = 0; i < LINE_SAMPLES; i++) {
        double at = length * (double)i / (LINE_SAMPLES - 1);
        const double *p = a->xy + 2 * seg;
        double len = hypot(p[2] - p[0], p[3] - p[1]);
        while (seg + 2 < a->n && before + len < at) {
            before += len;
            p = a->xy + 2 * ++seg;
            len = hypot(p[2] - p[0], p[3] - p[1]);
        }
        double t = len > 0 ? fmin(1, (at - before) / len) : 0;
        sum += to_line(p[0] + t * (p[2] - p[0]), p[1] + t * (p[3] - p[1]), b);
    }
    return sum / LINE_SAMPLES;
}

/* How alike two shapes of the same geometry are, from 0 to 1: IoU for
 * boxes and polygons; for lines and points 1 - distance / tolerance,
 * floored at 0, where the distance between two lines is the larger of the
 * mean distance from points along the first to the second and the other
 * way round, so a line that covers only part of the other is far from it,
 * and the direction a line was drawn in and where its vertices lie do not
 * matter.  Shapes with the same coordinates are 1 alike. */
static double similarity(const shape *a, const shape *b, double tolerance)
{
    /* The same coordinates: 1, without arithmetic that could overflow for
     * huge coordinates on an image of unknown size. */
    size_t i = 0;
    if (a->n == b->n)
        while (i < 2 * a->n && a->xy[i] == b->xy[i]) i++;
    if (a->n == b->n && i == 2 * a->n) return 1;
    switch (a->geometry) {
    case BOX: return box_iou(a, b);
    case POLYGON: return polygon_iou(a, b);
    case LINE:
        if (apart(a, b, tolerance)) return 0;
        return fmax(0, 1 - fmax(line_distance(a, b), line_distance(b, a)) / tolerance);
    case POINT: return fmax(0, 1 - hypot(a->xy[0] - b->xy[0], a->xy[1] - b->xy[1]) / tolerance);
    }
    return 0;
}

/* A candidate match: response shape a with reference shape b. */
typedef struct pair {
    double similarity;
    size_t a, b;
} pair;

/* Most similar first; ties in the order of the shapes, so scores do not
 * depend on qsort. */
static int by_similarity(const void *x, const void *y)
{
    const pair *p = x, *q = y;
    if (p->similarity != q->similarity) return p->similarity < q->similarity ? 1 : -1;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

/* Scores the F1 of matched shapes, 2 * matched / (shapes in the response +
 * shapes in the reference), as in COCO-style detection scoring at one
 * threshold.  Two shapes can match when they have the same type and label
 * and a similarity (see similarity(); the tolerance comes from the task's
 * data.width and data.height, else TOL_PIXELS) of at least MATCH_MIN;
 * pairs are then taken greedily, most similar first, each shape in at
 * most one.  Attributes and ids are not scored.  Two empty responses
 * score 1. */
static double score(const json_t *params, const json_t *task, const json_t *response,
                    const json_t *reference)
{
    const json_t *la = json_object_get(response, "annotations");
    const json_t *lb = json_object_get(reference, "annotations");
    size_t na = json_array_size(la), nb = json_array_size(lb), npairs = 0, cap = 0, matched = 0;
    size_t i, j;
    (void)params;
    if (!na || !nb) return na == nb;
    image_size img = task_image_size(task);
    double tolerance = isfinite(img.width) && isfinite(img.height)
                           ? hypot(img.width, img.height) / TOL_DIVISOR
                           : TOL_PIXELS;
    shape *sa = lp_calloc(na + nb, sizeof *sa), *sb = sa + na;
    for (i = 0; i < na; i++) read_shape(json_array_get(la, i), &sa[i]);
    for (j = 0; j < nb; j++) read_shape(json_array_get(lb, j), &sb[j]);

    pair *pairs = NULL;
    for (i = 0; i < na; i++)
        for (j = 0; j < nb; j++) {
            if (sa[i].geometry < 0 || sa[i].geometry != sb[j].geometry ||
                !json_is_string(sa[i].label) || !json_equal(sa[i].label, sb[j].label))
                continue;
            double s = similarity(&sa[i], &sb[j], tolerance);
            if (!(s >= MATCH_MIN)) continue;
            if (npairs == cap)
                pairs = lp_realloc(pairs, (cap = cap ? 2 * cap : 16) * sizeof *pairs);
            pairs[npairs++] = (pair){s, i, j};
        }
    if (npairs) qsort(pairs, npairs, sizeof *pairs, by_similarity);
    char *used = lp_calloc(na + nb, 1);
    for (size_t k = 0; k < npairs; k++) {
        if (used[pairs[k].a] || used[na + pairs[k].b]) continue;
        used[pairs[k].a] = used[na + pairs[k].b] = 1;
        matched++;
    }
    free(used);
    free(pairs);
    for (i = 0; i < na + nb; i++) free(sa[i].xy);
    free(sa);
    return 2 * (double)matched / (double)(na + nb);
}

const lp_kind lp_kind_imageannotation = {
    .version = 1,
    .name = "imageannotation",
    .summary = "Draw labelled boxes, polygons, lines and points, with attributes, on an image.",
    .validate_params = validate_params,
    .validate_task = validate_task,
    .validate_response = validate_response,
    .score = score,
};
