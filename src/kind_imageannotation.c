/* kind_imageannotation.c -- boxes, polygons, lines and points on an image.
 *
 * A project names its labels, the geometries annotators may draw and the
 * attributes each shape carries (category, number, text or boolean).  A
 * response is a list of shapes in image pixels, origin at the top left.
 * Every coordinate is finite and not negative; when the task's data gives
 * the image's "width" and "height", every shape also lies inside the image,
 * so consumers (IoU matching, COCO export) need not clip. */
#include <math.h>
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

const lp_kind lp_kind_imageannotation = {
    .version = 1,
    .name = "imageannotation",
    .summary = "Draw labelled boxes, polygons, lines and points, with attributes, on an image.",
    .validate_params = validate_params,
    .validate_task = validate_task,
    .validate_response = validate_response,
};
