/* kind_ranking.c -- order several responses (to a prompt) from best to
 * worst.
 *
 * The task's data holds the responses exactly as for comparison (see
 * lp_v_task_responses) and, optionally, the prompt.  A response is
 * {"ranking": [...]}, best first, naming every response id exactly once;
 * when the project allows ties an item may be an array of ids that rank
 * equal: ["b", ["a", "c"]] puts b first and a, c second together. */
#include <stdlib.h>

#include "kind.h"
#include "util.h"

/* Checks params {allow_ties, instructions}; fills allow_ties (false). */
static int validate_params(json_t *params, lp_verr *e)
{
    static const char *const keys[] = {"allow_ties", "instructions", NULL};
    int rc;
    if ((rc = lp_v_object(params, "params", e))) return rc;
    if ((rc = lp_v_only_keys(params, "params", keys, e))) return rc;
    lp_json_default(params, "allow_ties", json_false());
    if ((rc = lp_v_bool(params, "allow_ties", "params", 1, NULL, e))) return rc;
    return lp_v_string(params, "instructions", "params", 0, 0, 0, NULL, e);
}

/* Checks the task's responses and its optional prompt. */
static int validate_task(const json_t *params, const json_t *task, lp_verr *e)
{
    int rc;
    (void)params;
    if ((rc = lp_v_task_responses(task, e))) return rc;
    return lp_v_string(json_object_get(task, "data"), "prompt", "data", 0, 0, 0, NULL, e);
}

/* Checks that v (at field) names a response not ranked yet; seen[k] holds
 * 1 + the place where response k was ranked, or 0. */
static int rank_id(const json_t *task, const json_t *v, const char *field, size_t place,
                   size_t *seen, const char *list_field, lp_verr *e)
{
    size_t k;
    char q[96];
    int rc = lp_v_response_id(task, v, field, &k, e);
    if (rc) return rc;
    if (seen[k])
        return lp_verr_set(e, field, "%s is already ranked at %s[%zu]",
                           lp_quote(q, sizeof q, json_string_value(v)), list_field, seen[k] - 1);
    seen[k] = place + 1;
    return 0;
}

/* Checks a response {ranking: [...]}: every response id exactly once, as
 * an item or, with allow_ties, inside a group. */
static int validate_response(const json_t *params, const json_t *task, const json_t *response,
                             const char *path, lp_verr *e)
{
    static const char *const keys[] = {"ranking", NULL};
    int allow_ties = json_is_true(json_object_get(params, "allow_ties"));
    size_t n = lp_task_response_count(task), i, j;
    const json_t *ranking, *v, *id;
    char field[256], buf[24], q[96];
    int rc;
    if ((rc = lp_v_object(response, path, e))) return rc;
    if ((rc = lp_v_only_keys(response, path, keys, e))) return rc;
    if ((rc = lp_v_array(response, "ranking", path, 1, 1, 0, &ranking, e))) return rc;
    lp_path_key(field, sizeof field, path, "ranking");

    size_t *seen = lp_calloc(n + 1, sizeof *seen);
    json_array_foreach(ranking, i, v)
    {
        char at[256], gat[256];
        lp_path_index(at, sizeof at, field, i);
        if (!json_is_array(v)) {
            if ((rc = rank_id(task, v, at, i, seen, field, e))) goto done;
            continue;
        }
        if (!allow_ties) {
            rc = lp_verr_set(e, at,
                             "must be a response id, not an array: the project does not "
                             "allow ties");
            goto done;
        }
        if (!json_array_size(v)) {
            rc = lp_verr_set(e, at,
                             "must not be empty: a group of ties names at least one "
                             "response");
            goto done;
        }
        json_array_foreach(v, j, id)
        {
            lp_path_index(gat, sizeof gat, at, j);
            if ((rc = rank_id(task, id, gat, i, seen, field, e))) goto done;
        }
    }
    for (i = 0; i < n; i++)
        if (!seen[i]) {
            rc = lp_verr_set(e, field, "must rank every response, and %s is missing",
                             lp_quote(q, sizeof q, lp_task_response_id(task, i, buf, sizeof buf)));
            goto done;
        }
    rc = 0;
done:
    free(seen);
    return rc;
}

/* Adds each id of ranking to places as {id: place}, where place is the
 * item's index in ranking (ids in a group of ties share it). */
static void places_of(const json_t *ranking, json_t *places)
{
    const json_t *v, *id;
    size_t i, j;
    json_array_foreach(ranking, i, v)
    {
        if (json_is_string(v))
            json_object_setn_new(places, json_string_value(v), json_string_length(v),
                                 json_integer((json_int_t)i));
        json_array_foreach(v, j, id)
        {
            if (json_is_string(id))
                json_object_setn_new(places, json_string_value(id), json_string_length(id),
                                     json_integer((json_int_t)i));
        }
    }
}

/* The sign of a - b: -1, 0 or 1. */
static int sign(json_int_t a, json_int_t b)
{
    return (a > b) - (a < b);
}

/* Scores the share of pairs of responses that the two rankings order the
 * same way (Kendall's concordance, (tau + 1) / 2 without ties): 1 for the
 * same order, 0 for the reverse.  A pair tied in both counts as agreeing,
 * a pair tied in one ranking and ordered in the other counts half.  A
 * response id the reference ranks and the response does not (impossible
 * once both are valid) makes each of its pairs count 0. */
static double score(const json_t *params, const json_t *task, const json_t *response,
                    const json_t *reference)
{
    json_t *pa = json_object(), *pb = json_object();
    const char *id;
    size_t len;
    const json_t *vb;
    (void)params;
    (void)task;
    places_of(json_object_get(response, "ranking"), pa);
    places_of(json_object_get(reference, "ranking"), pb);
    size_t n = json_object_size(pb), k = 0;
    if (n < 2) {
        double same = json_equal(pa, pb);
        json_decref(pa);
        json_decref(pb);
        return same;
    }
    /* a[k] and b[k]: the places the response and the reference give the
     * k-th id of the reference (a[k] < 0: the response lacks it). */
    json_int_t *a = lp_malloc(2 * n * sizeof *a), *b = a + n;
    json_object_keylen_foreach(pb, id, len, vb)
    {
        const json_t *va = json_object_getn(pa, id, len);
        a[k] = va ? json_integer_value(va) : -1;
        b[k++] = json_integer_value(vb);
    }
    double agree = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            if (a[i] < 0 || a[j] < 0) continue;
            int sa = sign(a[i], a[j]), sb = sign(b[i], b[j]);
            agree += sa == sb ? 1 : sa == 0 || sb == 0 ? 0.5 : 0;
        }
    free(a);
    json_decref(pa);
    json_decref(pb);
    return agree / ((double)n * (double)(n - 1) / 2);
}

const lp_kind lp_kind_ranking = {
    .version = 1,
    .name = "ranking",
    .summary = "Order several responses to a prompt from best to worst, ties optional.",
    .validate_params = validate_params,
    .validate_task = validate_task,
    .validate_response = validate_response,
    .score = score,
};
