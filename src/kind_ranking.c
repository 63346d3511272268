/* kind_ranking.c -- order several responses (to a prompt) from best to
 * worst.
 *
 * The task's data holds the responses exactly as for comparison (see
 * lp_v_task_responses) and, optionally, the prompt.  A response is
 * {"ranking": [...]}, best first, naming every response id exactly once;
 * when the project allows ties an item may be an array of ids that rank
 * equal: ["b", ["a", "c"]] puts b first and a, c second together. */
#include <math.h>
#include <stdlib.h>

#include "agg_rank.h"
#include "kind.h"
#include "limit.h"
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
    if ((rc = lp_v_array(response, "ranking", path, 1, 1, LP_LIMIT_RESPONSE_ITEMS, &ranking, e)))
        return rc;
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

/* Dense ids for the response ids, in the order the first ranking lists them. */
typedef struct idmap {
    json_t *ids;
    size_t n;
} idmap;

static uint32_t id_of(idmap *m, const json_t *s)
{
    json_t *v = json_object_getn(m->ids, json_string_value(s), json_string_length(s));
    if (v) return (uint32_t)json_integer_value(v);
    json_object_setn_new(m->ids, json_string_value(s), json_string_length(s),
                         json_integer((json_int_t)m->n));
    return (uint32_t)m->n++;
}

typedef struct ranked {
    uint32_t id;
    double score;
    size_t first; /* its place in the first ranking: breaks exact ties */
} ranked;

static int by_score(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    if (fabs(a->score - b->score) > 1e-9) return a->score < b->score ? 1 : -1;
    return (a->first > b->first) - (a->first < b->first);
}

/* A weighted Borda count (lp_rank_borda), tied groups sharing the mean
 * points of their places: the result orders the ids by points.  Ids with
 * equal points form one tied group when the project allows ties, else
 * they keep the order of the first ranking.  The confidence is the
 * weighted mean score (pair concordance) of the rankings against the
 * result. */
static int aggregate(const json_t *params, const json_t *task, const json_t *const *responses,
                     const double *weights, size_t n, json_t **out, double *confidence)
{
    idmap m = {json_object(), 0};
    size_t cap = 16, len = 0, *offsets = lp_malloc((n + 1) * sizeof *offsets);
    uint32_t *items = lp_malloc(cap * sizeof *items), *group = lp_malloc(cap * sizeof *group);
    offsets[0] = 0;
    for (size_t r = 0; r < n; r++) {
        const json_t *v, *id;
        size_t i, j;
        json_array_foreach(json_object_get(responses[r], "ranking"), i, v)
        {
            for (j = 0; j < (json_is_array(v) ? json_array_size(v) : 1); j++) {
                id = json_is_array(v) ? json_array_get(v, j) : v;
                if (!json_is_string(id)) continue;
                if (len == cap) {
                    cap *= 2;
                    items = lp_realloc(items, cap * sizeof *items);
                    group = lp_realloc(group, cap * sizeof *group);
                }
                items[len] = id_of(&m, id);
                group[len++] = (uint32_t)i;
            }
        }
        offsets[r + 1] = len;
    }
    double *points = lp_calloc(m.n ? m.n : 1, sizeof *points);
    int rc = lp_rank_borda(n, offsets, items, group, weights, m.n, points);
    ranked *order = lp_calloc(m.n ? m.n : 1, sizeof *order);
    for (size_t k = 0; k < m.n; k++) order[k] = (ranked){(uint32_t)k, points[k], k};
    qsort(order, m.n, sizeof *order, by_score);
    const char **name = lp_calloc(m.n ? m.n : 1, sizeof *name);
    const char *key;
    json_t *v;
    json_object_foreach(m.ids, key, v) name[json_integer_value(v)] = key;
    int ties = json_is_true(json_object_get(params, "allow_ties"));
    json_t *ranking = json_array();
    for (size_t k = 0; rc == 0 && k < m.n;) {
        size_t g = 1;
        while (ties && k + g < m.n && fabs(order[k + g].score - order[k].score) <= 1e-9) g++;
        if (g == 1) {
            json_array_append_new(ranking, json_string(name[order[k].id]));
        } else {
            json_t *tied = json_array();
            for (size_t x = k; x < k + g; x++)
                json_array_append_new(tied, json_string(name[order[x].id]));
            json_array_append_new(ranking, tied);
        }
        k += g;
    }
    if (rc == 0) {
        *out = json_pack("{s:o}", "ranking", ranking);
        double sum = 0, total = 0;
        for (size_t r = 0; r < n; r++) {
            double w = weights ? weights[r] : 1;
            sum += w * score(params, task, responses[r], *out);
            total += w;
        }
        *confidence = total > 0 ? sum / total : 0;
    } else {
        json_decref(ranking);
    }
    free(name);
    free(order);
    free(points);
    free(offsets);
    free(items);
    free(group);
    json_decref(m.ids);
    return rc;
}

const lp_kind lp_kind_ranking = {
    .version = 1,
    .name = "ranking",
    .summary = "Order several responses to a prompt from best to worst, ties optional.",
    .validate_params = validate_params,
    .validate_task = validate_task,
    .validate_response = validate_response,
    .score = score,
    .aggregate = aggregate,
};
