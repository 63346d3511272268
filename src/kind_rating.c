/* kind_rating.c -- Likert or numeric scores on named criteria.
 *
 * Each criterion is a scale from min to max in steps of step (by default
 * 1 to 5 in steps of 1), optionally with a label for every point.  A valid
 * score lies on the scale: min + k * step for a whole k, within a relative
 * 1e-9, so agreement and aggregation can treat scores as points of the
 * scale (ordinal or interval data).  Against gold, a score counts as right
 * within params.gold_tolerance steps of the expected one. */
#include <math.h>

#include "kind.h"
#include "util.h"

/* Relative slack for "on the scale" tests, against rounding in x - min. */
#define GRID_EPS 1e-9
/* Upper bound on params.gold_tolerance, in steps (far beyond any scale). */
#define MAX_TOLERANCE 1000000

/* 1 when x is min + k * step for a whole k, within GRID_EPS. */
static int on_grid(double x, double min, double step)
{
    double k = round((x - min) / step);
    return fabs(x - (min + k * step)) <= GRID_EPS * fmax(1, fabs(x));
}

/* Checks one criterion (already a named object) and fills min (1), max
 * (5), step (1) and required (true). */
static int check_criterion(json_t *c, const char *at, lp_verr *e)
{
    double min, max, step;
    const json_t *labels, *v;
    char field[256];
    size_t i;
    int rc;
    lp_json_default(c, "min", json_integer(1));
    lp_json_default(c, "max", json_integer(5));
    lp_json_default(c, "step", json_integer(1));
    lp_json_default(c, "required", json_true());
    if ((rc = lp_v_number(c, "min", at, 1, -HUGE_VAL, HUGE_VAL, &min, e)) ||
        (rc = lp_v_number(c, "max", at, 1, -HUGE_VAL, HUGE_VAL, &max, e)) ||
        (rc = lp_v_number(c, "step", at, 1, -HUGE_VAL, HUGE_VAL, &step, e)) ||
        (rc = lp_v_bool(c, "required", at, 1, NULL, e)))
        return rc;
    if (max <= min)
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "max"),
                           "must be greater than min (%g); got %g", min, max);
    lp_path_key(field, sizeof field, at, "step");
    if (step <= 0) return lp_verr_set(e, field, "must be greater than 0 (got %g)", step);
    if (!isfinite((max - min) / step) || !on_grid(max, min, step))
        return lp_verr_set(e, field, "must divide max - min (%g) into whole steps (got %g)",
                           max - min, step);
    if ((rc = lp_v_array(c, "labels", at, 0, 0, 0, &labels, e)) || !labels) return rc;
    lp_path_key(field, sizeof field, at, "labels");
    double points = round((max - min) / step) + 1;
    if ((double)json_array_size(labels) != points)
        return lp_verr_set(e, field, "must have one label per point of the scale, %.0f (has %zu)",
                           points, json_array_size(labels));
    json_array_foreach(labels, i, v)
    {
        char lat[256];
        if (!json_is_string(v))
            return lp_verr_set(e, lp_path_index(lat, sizeof lat, field, i),
                               "must be a string, not %s", lp_json_type_name(v));
    }
    return 0;
}

/* Checks params {criteria, gold_tolerance, instructions}: at least one
 * criterion; fills gold_tolerance (0), stored as an integer. */
static int validate_params(json_t *params, lp_verr *e)
{
    static const char *const keys[] = {"criteria", "gold_tolerance", "instructions", NULL};
    static const char *const criterion_keys[] = {"min", "max", "step", "labels", "required", NULL};
    json_t *c;
    size_t i;
    int rc;
    if ((rc = lp_v_object(params, "params", e))) return rc;
    if ((rc = lp_v_only_keys(params, "params", keys, e))) return rc;
    if ((rc = lp_v_names(params, "criteria", "params", 1, 1, criterion_keys, e))) return rc;
    json_array_foreach(json_object_get(params, "criteria"), i, c)
    {
        char at[256];
        if ((rc = check_criterion(c, lp_path_index(at, sizeof at, "params.criteria", i), e)))
            return rc;
    }
    long long tolerance = 0;
    lp_json_default(params, "gold_tolerance", json_integer(0));
    if ((rc = lp_v_int(params, "gold_tolerance", "params", 1, 0, MAX_TOLERANCE, &tolerance, e)))
        return rc;
    json_object_set_new(params, "gold_tolerance", json_integer(tolerance)); /* 1.0 becomes 1 */
    return lp_v_string(params, "instructions", "params", 0, 0, 0, NULL, e);
}

/* Checks a response {ratings: {criterion: score}, comment?}: required
 * criteria present, each score on its criterion's scale. */
static int validate_response(const json_t *params, const json_t *task, const json_t *response,
                             const char *path, lp_verr *e)
{
    static const char *const keys[] = {"ratings", "comment", NULL};
    const json_t *criteria = json_object_get(params, "criteria"), *ratings, *c;
    char field[256], at[256];
    size_t i;
    int rc;
    (void)task;
    if ((rc = lp_v_object(response, path, e))) return rc;
    if ((rc = lp_v_only_keys(response, path, keys, e))) return rc;
    lp_path_key(field, sizeof field, path, "ratings");
    ratings = lp_json_given(response, "ratings");
    if (!ratings) return lp_verr_set(e, field, "is required");
    if ((rc = lp_v_keys_in(criteria, ratings, field, "criteria", 1, e))) return rc;
    json_array_foreach(criteria, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        double min, max, step, x;
        if (!name || !lp_json_given(ratings, name) ||
            lp_json_number(json_object_get(c, "min"), &min) ||
            lp_json_number(json_object_get(c, "max"), &max) ||
            lp_json_number(json_object_get(c, "step"), &step))
            continue;
        if ((rc = lp_v_number(ratings, name, field, 1, min, max, &x, e))) return rc;
        if (!on_grid(x, min, step))
            return lp_verr_set(e, lp_path_key(at, sizeof at, field, name),
                               "%g is not on the scale: use steps of %g from %g to %g", x, step,
                               min, max);
    }
    return lp_v_string(response, "comment", path, 0, 0, 0, NULL, e);
}

/* Scores the share of the criteria the reference rates on which the
 * response's score is within params.gold_tolerance steps of the
 * reference's (0 steps, the default, means the same point of the scale);
 * a criterion the response leaves out counts as wrong, and one only the
 * response rates is not counted.  The comment is left out.  A reference
 * that rates nothing (every criterion optional) scores 1 when the response
 * rates nothing either, else 0. */
static double score(const json_t *params, const json_t *task, const json_t *response,
                    const json_t *reference)
{
    const json_t *criteria = json_object_get(params, "criteria"), *c;
    const json_t *ra = json_object_get(response, "ratings"),
                 *rb = json_object_get(reference, "ratings");
    double tolerance = (double)json_integer_value(json_object_get(params, "gold_tolerance"));
    size_t i, n = 0, given = 0, hits = 0;
    (void)task;
    json_array_foreach(criteria, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        double a, b, step = 1;
        if (!name) continue;
        if (lp_json_given(ra, name)) given++;
        if (lp_json_number(lp_json_given(rb, name), &b)) continue;
        n++;
        if (lp_json_number(lp_json_given(ra, name), &a)) continue;
        lp_json_number(json_object_get(c, "step"), &step);
        /* GRID_EPS absorbs rounding, as 0.4 - 0.3 > 0.1 in binary. */
        if (fabs(a - b) <= tolerance * step + GRID_EPS * fmax(step, fmax(fabs(a), fabs(b)))) hits++;
    }
    if (!n) return given == 0;
    return (double)hits / (double)n;
}

typedef struct wvalue {
    double x, w;
} wvalue;

static int by_x(const void *a, const void *b)
{
    double x = ((const wvalue *)a)->x, y = ((const wvalue *)b)->x;
    return (x > y) - (x < y);
}

/* Each criterion gets the weighted median of its scores (the lower one
 * when the weight splits evenly), which is a point of the scale, fits
 * ordinal data and resists one careless rater; a criterion is in the
 * result when raters holding more than half the weight scored it.  The
 * confidence is the mean, over the criteria in the result, of the weight
 * of scores within gold_tolerance steps of the median.  Comments are left
 * out: they do not combine. */
static int aggregate(const json_t *params, const json_t *task, const json_t *const *responses,
                     const double *weights, size_t n, json_t **out, double *confidence)
{
    const json_t *criteria = json_object_get(params, "criteria"), *c;
    double tolerance = (double)json_integer_value(json_object_get(params, "gold_tolerance"));
    double total = 0, sure = 0;
    size_t i, rated = 0;
    (void)task;
    for (size_t r = 0; r < n; r++) total += weights ? weights[r] : 1;
    wvalue *v = lp_malloc((n ? n : 1) * sizeof *v);
    json_t *ratings = json_object();
    json_array_foreach(criteria, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        double step = 1, x, got = 0;
        size_t k = 0;
        if (!name) continue;
        lp_json_number(json_object_get(c, "step"), &step);
        for (size_t r = 0; r < n; r++)
            if (!lp_json_number(lp_json_given(json_object_get(responses[r], "ratings"), name),
                                &x)) {
                v[k++] = (wvalue){x, weights ? weights[r] : 1};
                got += v[k - 1].w;
            }
        if (k == 0 || got * 2 <= total) continue;
        qsort(v, k, sizeof *v, by_x);
        double acc = 0, median = v[k - 1].x;
        for (size_t j = 0; j < k; j++) {
            acc += v[j].w;
            if (acc * 2 >= got) {
                median = v[j].x;
                break;
            }
        }
        double near = 0;
        for (size_t j = 0; j < k; j++)
            if (fabs(v[j].x - median) <= tolerance * step + GRID_EPS * fmax(step, fabs(median)))
                near += v[j].w;
        sure += near / got;
        rated++;
        json_object_set_new(ratings, name, json_real(median));
    }
    free(v);
    *confidence = rated ? sure / (double)rated : 1;
    *out = json_pack("{s:o}", "ratings", ratings);
    return 0;
}

const lp_kind lp_kind_rating = {
    .version = 1,
    .name = "rating",
    .summary = "Score the task on named criteria, each a Likert or numeric scale.",
    .validate_params = validate_params,
    .validate_task = NULL,
    .validate_response = validate_response,
    .task_free = 1,
    .score = score,
    .aggregate = aggregate,
};
