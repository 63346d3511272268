/* kind_imageannotation.c -- boxes, polygons, lines and points on an image.
 *
 * A project names its labels, the geometries annotators may draw and the
 * attributes each shape carries (category, number, text or boolean).  A
 * response is a list of shapes in image pixels, origin at the top left.
 * Every coordinate is finite and not negative; when the task's data gives
 * the image's "width" and "height", every shape also lies inside the image,
 * so consumers (IoU matching, COCO export) need not clip.  Against a
 * reference, a response scores the F1 of its shapes matched one to one by
 * IoU (boxes, polygons) or distance (lines, points): see score().  Several
 * workers' responses consolidate into one (see aggregate()): the objects
 * drawn by more than half of the workers' weight, each as the weighted
 * median box or point or the aligned mean polygon of agg_geom.c, or for a
 * line the medoid, with attributes voted among the shapes of the object. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agg_geom.h"
#include "assign.h"
#include "kind.h"
#include "limit.h"
#include "util.h"

/* Rounding slack when comparing a shape's far edge with the image size. */

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

/* Checks params {labels, geometries, attributes, instructions}; fills
 * geometries (all four), attributes ([]) and each attribute's required. */
static int validate_params(json_t *params, lp_verr *e)
{
    static const char *const keys[] = {"labels", "geometries", "attributes", "instructions", NULL};
    int rc;
    if ((rc = lp_v_object(params, "params", e))) return rc;
    if ((rc = lp_v_only_keys(params, "params", keys, e))) return rc;
    if ((rc = lp_v_names(params, "labels", "params", 1, 1, NULL, e))) return rc;
    if ((rc = check_geometries(params, e))) return rc;
    if ((rc = lp_v_attribute_defs(params, "attributes", e))) return rc;
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

static lp_picture picture(image_size img)
{
    return (lp_picture){img.width, img.height, "image"};
}

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
        rc = lp_v_box(a, at, picture(img), e);
    else if (geo->min_vertices)
        rc = lp_v_vertices(a, at, geo->min_vertices, picture(img), e);
    else
        rc = lp_v_point(a, at, picture(img), e);
    if (rc) return rc;
    if ((rc = lp_v_attribute_values(json_object_get(params, "attributes"),
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
    if ((rc = lp_v_array(response, "annotations", path, 1, 0, LP_LIMIT_RESPONSE_ITEMS, &list, e)))
        return rc;
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
/* Points spread along a line to measure its distance from another. */
#define LINE_SAMPLES 32

/* The distance at which points and lines are 0 alike on image img. */
static double tolerance_of(image_size img)
{
    return isfinite(img.width) && isfinite(img.height) ? hypot(img.width, img.height) / TOL_DIVISOR
                                                       : TOL_PIXELS;
}

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
    case BOX: return lp_geom_box_iou(a->xy, b->xy);
    case POLYGON: return lp_geom_polygon_iou(a->xy, a->n, b->xy, b->n);
    case LINE:
        if (apart(a, b, tolerance)) return 0;
        return fmax(0, 1 - fmax(line_distance(a, b), line_distance(b, a)) / tolerance);
    case POINT: return fmax(0, 1 - hypot(a->xy[0] - b->xy[0], a->xy[1] - b->xy[1]) / tolerance);
    }
    return 0;
}

/* Scores the F1 of matched shapes, 2 * matched / (shapes in the response +
 * shapes in the reference), as in COCO-style detection scoring at one
 * threshold.  Two shapes can match when they have the same type and label
 * and a similarity (see similarity(); the tolerance comes from the task's
 * data.width and data.height, else TOL_PIXELS) of at least MATCH_MIN;
 * each shape is in at most one pair, and the pairs are chosen to be as
 * many as possible (lp_assign: taking the most alike pair first can leave
 * a shape unpaired that another choice would have paired), the most alike
 * among as many.  Attributes and ids are not scored.  Two empty responses
 * score 1. */
static double score(const json_t *params, const json_t *task, const json_t *response,
                    const json_t *reference)
{
    const json_t *la = json_object_get(response, "annotations");
    const json_t *lb = json_object_get(reference, "annotations");
    size_t na = json_array_size(la), nb = json_array_size(lb), npairs = 0, cap = 0;
    size_t i, j;
    (void)params;
    if (!na || !nb) return na == nb;
    image_size img = task_image_size(task);
    double tolerance = tolerance_of(img);
    shape *sa = lp_calloc(na + nb, sizeof *sa), *sb = sa + na;
    for (i = 0; i < na; i++) read_shape(json_array_get(la, i), &sa[i]);
    for (j = 0; j < nb; j++) read_shape(json_array_get(lb, j), &sb[j]);

    /* Each pair weighs 1 + similarity / (min(na, nb) + 1): one pair more
     * outweighs any gain in similarity. */
    double tie = 1.0 / (double)((na < nb ? na : nb) + 1);
    lp_assign_edge *pairs = NULL;
    for (i = 0; i < na; i++)
        for (j = 0; j < nb; j++) {
            if (sa[i].geometry < 0 || sa[i].geometry != sb[j].geometry ||
                !json_is_string(sa[i].label) || !json_equal(sa[i].label, sb[j].label))
                continue;
            double s = similarity(&sa[i], &sb[j], tolerance);
            if (!(s >= MATCH_MIN)) continue;
            if (npairs == cap)
                pairs = lp_realloc(pairs, (cap = cap ? 2 * cap : 16) * sizeof *pairs);
            pairs[npairs++] = (lp_assign_edge){1 + s * tie, i, j};
        }
    size_t *match = lp_malloc(na * sizeof *match), matched = 0;
    lp_assign_sparse(pairs, npairs, na, nb, match);
    for (i = 0; i < na; i++) matched += match[i] != SIZE_MAX;
    free(match);
    free(pairs);
    for (i = 0; i < na + nb; i++) free(sa[i].xy);
    free(sa);
    return 2 * (double)matched / (double)(na + nb);
}

/* ---- Consolidating several workers' responses -------------------------- */

/* An object is kept when the workers who drew it weigh more than QUORUM
 * times all the workers' weight, up to REL_EPS of rounding. */
#define QUORUM  0.5
#define REL_EPS 1e-12

/* An annotation taken into the consolidation: its geometry, its worker
 * (the index of its response) and the annotation, borrowed. */
typedef struct drawn {
    shape s;
    size_t worker;
    const json_t *annotation;
} drawn;

/* The weight of worker i. */
static double weight_of(const double *weights, size_t i)
{
    return weights ? weights[i] : 1;
}

/* The lower weighted median of the numbers the k members gave: the least
 * value v such that the members who gave at most v weigh at least half of
 * the given weight, so always a value some worker gave. */
static const json_t *median_value(const json_t *const *v, const double *w, size_t k, double given)
{
    const json_t *best = NULL;
    double best_x = HUGE_VAL;
    for (size_t i = 0; i < k; i++) {
        double x, y, below = 0;
        if (!v[i] || lp_json_number(v[i], &x) || !(x < best_x)) continue;
        for (size_t j = 0; j < k; j++)
            if (v[j] && !lp_json_number(v[j], &y) && y <= x) below += w[j];
        if (below >= given / 2 * (1 - REL_EPS)) {
            best = v[i];
            best_x = x;
        }
    }
    return best;
}

/* The value the k members gave with the most weight; a tie goes to the
 * earlier member. */
static const json_t *voted_value(const json_t *const *v, const double *w, size_t k)
{
    const json_t *best = NULL;
    double best_w = -1;
    for (size_t i = 0; i < k; i++) {
        double sum = 0;
        if (!v[i]) continue;
        for (size_t j = 0; j < k; j++)
            if (v[j] && json_equal(v[j], v[i])) sum += w[j];
        if (sum > best_w) {
            best = v[i];
            best_w = sum;
        }
    }
    return best;
}

/* The attributes of one object drawn as the k annotations members[] (in
 * response order) by workers of weights w[].  Each of the project's
 * attributes is kept when it is required or when the members who gave it
 * weigh more than half of all the members (so an optional attribute most
 * left out stays out); its value is the weighted median for a number (see
 * median_value) and the weighted vote of the values given otherwise (see
 * voted_value).  Returns a new object, or NULL when no attribute is kept. */
static json_t *vote_attributes(const json_t *defs, const json_t *const *members, const double *w,
                               size_t k)
{
    const json_t **v = lp_malloc((k ? k : 1) * sizeof *v), *def;
    json_t *out = NULL;
    double total = 0;
    size_t d;
    for (size_t i = 0; i < k; i++) total += w[i];
    json_array_foreach(defs, d, def)
    {
        const char *name = json_string_value(json_object_get(def, "name"));
        const char *type = json_string_value(json_object_get(def, "type"));
        double given = 0;
        size_t n_given = 0;
        if (!name || !type) continue;
        for (size_t i = 0; i < k; i++) {
            v[i] = lp_json_given(lp_json_given(members[i], "attributes"), name);
            if (v[i]) {
                given += w[i];
                n_given++;
            }
        }
        if (!n_given || (!json_is_true(json_object_get(def, "required")) && !(given > total / 2)))
            continue;
        const json_t *pick =
            strcmp(type, "number") == 0 ? median_value(v, w, k, given) : voted_value(v, w, k);
        if (!pick) continue;
        if (!out) out = json_object();
        json_object_set_new(out, name, json_deep_copy(pick));
    }
    free(v);
    return out;
}

/* v moved into [0, limit]. */
static double clamp(double v, double limit)
{
    return fmin(fmax(v, 0), limit);
}

/* A new annotation of geometry g (BOX, ...) and label with the n points xy
 * (a box's two corners, a point, or vertices), moved into the image img
 * against rounding, and attributes (may be NULL; the reference is taken). */
static json_t *new_annotation(int g, const char *label, const double *xy, size_t n, image_size img,
                              json_t *attributes)
{
    json_t *a = json_pack("{s:s, s:s}", "type", geometries[g].name, "label", label);
    if (g == BOX || g == POINT) {
        double x = clamp(xy[0], img.width), y = clamp(xy[1], img.height);
        json_object_set_new(a, "x", json_real(x));
        json_object_set_new(a, "y", json_real(y));
        if (g == BOX) {
            json_object_set_new(a, "width", json_real(clamp(xy[2], img.width) - x));
            json_object_set_new(a, "height", json_real(clamp(xy[3], img.height) - y));
        }
    } else {
        json_t *vertices = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(vertices,
                                  json_pack("{s:f, s:f}", "x", clamp(xy[2 * i], img.width), "y",
                                            clamp(xy[2 * i + 1], img.height)));
        json_object_set_new(a, "vertices", vertices);
    }
    if (attributes) json_object_set_new(a, "attributes", attributes);
    return a;
}

/* Appends annotation a to list when it is valid for params and the image
 * (the consolidated geometry of valid shapes always is, but rounding is
 * checked rather than trusted); returns 1 when appended. */
static int append_valid(const json_t *params, json_t *list, json_t *a, image_size img)
{
    lp_verr e;
    int ok = !check_annotation(params, a, "annotation", img, &e);
    if (ok) json_array_append(list, a);
    json_decref(a);
    return ok;
}

/* Sorts the k indexes x ascending (k is a cluster's size: a few workers). */
static void sort_indexes(size_t *x, size_t k)
{
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && x[j - 1] > x[j]; j--) {
            size_t t = x[j];
            x[j] = x[j - 1];
            x[j - 1] = t;
        }
}

/* Builds an annotation from the consolidated shape o, whose members index
 * the drawn shapes through at[], and appends it to list when valid. */
static int emit_shape(const json_t *params, const lp_geom_out *o, const drawn *d, const size_t *at,
                      const double *weights, image_size img, json_t *list)
{
    static const int geometry_of[] = {
        [LP_SHAPE_BOX] = BOX, [LP_SHAPE_POLYGON] = POLYGON, [LP_SHAPE_POINT] = POINT};
    const json_t **m = lp_malloc(o->support * sizeof *m);
    double *w = lp_malloc(o->support * sizeof *w);
    for (size_t i = 0; i < o->support; i++) {
        const drawn *x = &d[at[o->members[i]]];
        m[i] = x->annotation;
        w[i] = weight_of(weights, x->worker);
    }
    json_t *attrs = vote_attributes(json_object_get(params, "attributes"), m, w, o->support);
    const char *label = json_string_value(json_object_get(m[0], "label"));
    json_t *a = new_annotation(geometry_of[o->type], label, o->xy, o->n_points, img, attrs);
    free(w);
    free(m);
    return append_valid(params, list, a, img);
}

/* Lines a and b, of different workers and the same label, at least
 * MATCH_MIN alike. */
typedef struct line_pair {
    size_t a, b;
    double sim;
} line_pair;

/* A line's neighbour: another worker's line of the same label at least
 * MATCH_MIN alike. */
typedef struct neighbour {
    size_t at; /* index into the lines */
    double sim;
} neighbour;

/* The lines' graph: line i's neighbours are nb[first[i] .. first[i + 1]). */
typedef struct line_graph {
    const drawn *const *line;
    size_t *first;
    neighbour *nb;
} line_graph;

/* Fills members[] with line c and, for each other worker, its unused
 * neighbour most like c (a tie goes to the earlier line); returns how
 * many, and sets *agree to the sum of their workers' weights times their
 * similarity to c and *support to the sum of those weights.  pick[] (one
 * per worker, all SIZE_MAX) is left as it was found. */
static size_t gather(const line_graph *g, size_t c, const char *used, size_t *pick,
                     const double *weights, size_t *members, double *agree, double *support)
{
    size_t k = 0;
    for (size_t e = g->first[c]; e < g->first[c + 1]; e++) {
        const neighbour *x = &g->nb[e];
        size_t w = g->line[x->at]->worker;
        if (used[x->at]) continue;
        if (pick[w] == SIZE_MAX || x->sim > g->nb[pick[w]].sim) pick[w] = e;
    }
    members[k++] = c;
    *support = *agree = weight_of(weights, g->line[c]->worker);
    for (size_t e = g->first[c]; e < g->first[c + 1]; e++) {
        size_t w = g->line[g->nb[e].at]->worker;
        if (pick[w] != e) continue;
        pick[w] = SIZE_MAX;
        members[k++] = g->nb[e].at;
        *support += weight_of(weights, w);
        *agree += weight_of(weights, w) * g->nb[e].sim;
    }
    return k;
}

/* Consolidates the lines among the nd drawn shapes d[], which agg_geom
 * does not handle, by a greedy weighted medoid: the unused line whose
 * workers' weighted similarity to it, taking from each other worker its
 * most alike unused line (at least MATCH_MIN alike), is highest is picked
 * with those lines; the group is kept as the picked line (the medoid,
 * drawn by one worker) when its workers weigh more than QUORUM of total,
 * and its lines are used either way; until no line is left.  Appends each
 * kept line to list and adds its confidence (the weight share times the
 * mean similarity, as agg_geom's) to *sum.  Returns how many were kept.
 * Time O(L^2) similarities plus O(L * E) for L lines with E neighbours. */
static size_t consolidate_lines(const json_t *params, const drawn *d, size_t nd, size_t n_workers,
                                const double *weights, double total, image_size img, json_t *list,
                                double *sum)
{
    double tol = tolerance_of(img);
    size_t nl = 0, ne = 0, cap = 0, kept = 0;
    const drawn **line = lp_malloc((nd ? nd : 1) * sizeof *line);
    for (size_t i = 0; i < nd; i++)
        if (d[i].s.geometry == LINE) line[nl++] = &d[i];
    if (!nl) {
        free(line);
        return 0;
    }
    line_pair *edges = NULL;
    for (size_t a = 0; a < nl; a++)
        for (size_t b = a + 1; b < nl; b++) {
            if (line[a]->worker == line[b]->worker ||
                !json_equal(line[a]->s.label, line[b]->s.label))
                continue;
            double sim = similarity(&line[a]->s, &line[b]->s, tol);
            if (!(sim >= MATCH_MIN)) continue;
            if (ne + 2 > cap) edges = lp_realloc(edges, (cap = cap ? 2 * cap : 16) * sizeof *edges);
            edges[ne++] = (line_pair){a, b, sim};
            edges[ne++] = (line_pair){b, a, sim};
        }
    /* Bucket the edges by their first line.  They were made with (a, b)
     * in lexicographic order, so each line's neighbours come out in
     * ascending order, which the ties in gather() rely on. */
    line_graph g = {line, lp_calloc(nl + 1, sizeof *g.first),
                    lp_malloc((ne ? ne : 1) * sizeof *g.nb)};
    size_t *fill = lp_malloc(nl * sizeof *fill);
    for (size_t e = 0; e < ne; e++) g.first[edges[e].a + 1]++;
    for (size_t i = 0; i < nl; i++) g.first[i + 1] += g.first[i];
    memcpy(fill, g.first, nl * sizeof *fill);
    for (size_t e = 0; e < ne; e++)
        g.nb[fill[edges[e].a]++] = (neighbour){edges[e].b, edges[e].sim};
    free(fill);
    free(edges);

    char *used = lp_calloc(nl, 1);
    size_t *pick = lp_malloc(n_workers * sizeof *pick), *members = lp_malloc(nl * sizeof *members);
    for (size_t w = 0; w < n_workers; w++) pick[w] = SIZE_MAX;
    for (;;) {
        size_t best = nl, k;
        double best_agree = -1, agree, support;
        for (size_t c = 0; c < nl; c++) {
            if (used[c]) continue;
            gather(&g, c, used, pick, weights, members, &agree, &support);
            if (agree > best_agree) {
                best = c;
                best_agree = agree;
            }
        }
        if (best == nl) break;
        k = gather(&g, best, used, pick, weights, members, &agree, &support);
        for (size_t i = 0; i < k; i++) used[members[i]] = 1;
        if (!(support > QUORUM * total + REL_EPS * total)) continue;
        sort_indexes(members, k);
        const json_t **m = lp_malloc(k * sizeof *m);
        double *w = lp_malloc(k * sizeof *w);
        for (size_t i = 0; i < k; i++) {
            m[i] = line[members[i]]->annotation;
            w[i] = weight_of(weights, line[members[i]]->worker);
        }
        const shape *s = &line[best]->s;
        json_t *a = new_annotation(LINE, json_string_value(s->label), s->xy, s->n, img,
                                   vote_attributes(json_object_get(params, "attributes"), m, w, k));
        free(w);
        free(m);
        if (append_valid(params, list, a, img)) {
            *sum += fmin(1, support / total) * fmin(1, agree / support);
            kept++;
        }
    }
    free(members);
    free(pick);
    free(used);
    free(g.nb);
    free(g.first);
    free(line);
    return kept;
}

/* Consolidates the workers' shapes into one response (see the file
 * comment).  Each response is one worker; annotations that are not valid
 * for the params and the task now (a label since removed, say) are left
 * out, but their worker still counts.  Boxes, polygons and points go to
 * lp_agg_shapes: objects matched across workers at a similarity of at least
 * LP_GEOM_OPTS_DEFAULT's (an IoU of 0.25), kept when drawn by more than
 * half the weight (a worker who drew nothing votes against each object),
 * consolidated as the weighted median box or point or the aligned mean
 * polygon.  Its point_scale comes from the kind's own tolerance (the image's
 * diagonal / TOL_DIVISOR, or TOL_PIXELS when the task does not give the
 * image's size): scale = tolerance * (1 - MATCH_MIN) / sqrt(2 ln(1 / iou)),
 * so that two points close enough for score() to match them (similarity
 * MATCH_MIN, a distance of (1 - MATCH_MIN) * tolerance) are exactly alike
 * enough to be clustered.  Lines go to consolidate_lines().  Attributes are
 * voted among the shapes that make up each object (vote_attributes); ids
 * are dropped, since they name one worker's shapes.  The result lists the
 * shapes by label, then box, polygon, point; then the lines.  Confidence is
 * the mean of the kept shapes' confidences; with none kept, the weight
 * share of the workers who drew nothing (1 when nobody drew anything). */
static int aggregate(const json_t *params, const json_t *task, const json_t *const *responses,
                     const double *weights, size_t n, json_t **out, double *confidence)
{
    const json_t *labels = json_object_get(params, "labels");
    image_size img = task_image_size(task);
    double total = 0, idle = 0, sum = 0;
    size_t nd = 0, cap = 0, ng = 0, n_out = 0, kept = 0;
    for (size_t i = 0; i < n; i++) {
        double w = weight_of(weights, i);
        if (!(w >= 0 && isfinite(w))) return LP_EINVAL;
        total += w;
    }
    drawn *d = NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *a;
        size_t j, before = nd;
        json_array_foreach(json_object_get(responses[i], "annotations"), j, a)
        {
            lp_verr e;
            if (check_annotation(params, a, "annotation", img, &e)) continue;
            if (nd == cap) d = lp_realloc(d, (cap = cap ? 2 * cap : 16) * sizeof *d);
            d[nd].worker = i;
            d[nd].annotation = a;
            read_shape(a, &d[nd++].s);
        }
        if (nd == before) idle += weight_of(weights, i);
    }

    static const lp_shape_type type_of[] = {
        [BOX] = LP_SHAPE_BOX, [POLYGON] = LP_SHAPE_POLYGON, [POINT] = LP_SHAPE_POINT};
    lp_shape *g = lp_malloc((nd ? nd : 1) * sizeof *g);
    size_t *at = lp_malloc((nd ? nd : 1) * sizeof *at);
    for (size_t k = 0; k < nd; k++) {
        const json_t *label = d[k].s.label;
        if (d[k].s.geometry == LINE) continue;
        long id = lp_names_find(labels, json_string_value(label), json_string_length(label));
        g[ng] = (lp_shape){(uint32_t)d[k].worker, (uint32_t)id, type_of[d[k].s.geometry], d[k].s.n,
                           d[k].s.xy};
        at[ng++] = k;
    }
    lp_geom_opts o = LP_GEOM_OPTS_DEFAULT;
    o.quorum = QUORUM;
    o.point_scale = tolerance_of(img) * (1 - MATCH_MIN) / sqrt(2 * log(1 / o.iou));
    if (!isfinite(o.point_scale)) o.point_scale = DBL_MAX; /* an absurd image size */
    lp_geom_out *go = NULL;
    json_t *list = json_array();
    int rc = lp_agg_shapes(g, ng, n, weights, &o, &go, &n_out);
    if (rc) goto fail;
    for (size_t k = 0; k < n_out; k++)
        if (emit_shape(params, &go[k], d, at, weights, img, list)) {
            sum += go[k].confidence;
            kept++;
        }
    kept += consolidate_lines(params, d, nd, n, weights, total, img, list, &sum);
    *confidence = kept ? sum / (double)kept : total > 0 ? idle / total : 0;
    *out = json_pack("{s:O}", "annotations", list);
fail:
    json_decref(list);
    lp_geom_out_free(go, n_out);
    free(at);
    free(g);
    for (size_t k = 0; k < nd; k++) free(d[k].s.xy);
    free(d);
    return rc;
}

const lp_kind lp_kind_imageannotation = {
    .version = 1,
    .name = "imageannotation",
    .summary = "Draw labelled boxes, polygons, lines and points, with attributes, on an image.",
    .validate_params = validate_params,
    .validate_task = validate_task,
    .validate_response = validate_response,
    .score = score,
    .aggregate = aggregate,
};
