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

const lp_kind lp_kind_ranking = {
    .version = 1,
    .name = "ranking",
    .summary = "Order several responses to a prompt from best to worst, ties optional.",
    .validate_params = validate_params,
    .validate_task = validate_task,
    .validate_response = validate_response,
};
