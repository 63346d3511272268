/* kind_categorization.c -- pick one or several labels from a fixed set.
 *
 * The task can be anything (a text, an image, any attachment); the project
 * names the labels and whether an answer may hold more than one.  A valid
 * response names each label at most once, and only labels the project
 * has, so aggregation can count votes by label name without checking. */
#include <stdlib.h>

#include "kind.h"
#include "util.h"

/* Checks params {labels, multiple, instructions} and fills multiple (false)
 * and the label objects. */
static int validate_params(json_t *params, lp_verr *e)
{
    static const char *const keys[] = {"labels", "multiple", "instructions", NULL};
    int rc;
    if ((rc = lp_v_object(params, "params", e))) return rc;
    if ((rc = lp_v_only_keys(params, "params", keys, e))) return rc;
    if ((rc = lp_v_names(params, "labels", "params", 1, 1, NULL, e))) return rc;
    lp_json_default(params, "multiple", json_false());
    if ((rc = lp_v_bool(params, "multiple", "params", 1, NULL, e))) return rc;
    return lp_v_string(params, "instructions", "params", 0, 0, 0, NULL, e);
}

/* Checks a response {labels: [names]}: at least one, each a project label
 * given once, exactly one unless the project allows several. */
static int validate_response(const json_t *params, const json_t *task, const json_t *response,
                             const char *path, lp_verr *e)
{
    static const char *const keys[] = {"labels", NULL};
    const json_t *labels = json_object_get(params, "labels"), *given, *v;
    int multiple = json_is_true(json_object_get(params, "multiple"));
    char field[256], q[96];
    size_t i;
    int rc;
    (void)task;
    if ((rc = lp_v_object(response, path, e))) return rc;
    if ((rc = lp_v_only_keys(response, path, keys, e))) return rc;
    if ((rc = lp_v_array(response, "labels", path, 1, 1, 0, &given, e))) return rc;
    lp_path_key(field, sizeof field, path, "labels");
    if (!multiple && json_array_size(given) > 1)
        return lp_verr_set(e, field,
                           "must hold exactly one label, since the project does not allow "
                           "several (has %zu)",
                           json_array_size(given));

    /* seen[k] is 1 + the position where label k was first given. */
    size_t *seen = lp_calloc(json_array_size(labels) + 1, sizeof *seen);
    json_array_foreach(given, i, v)
    {
        char at[256];
        size_t k;
        lp_path_index(at, sizeof at, field, i);
        if ((rc = lp_v_name_in(labels, v, at, "labels", &k, e))) break;
        if (seen[k]) {
            rc = lp_verr_set(e, at, "%s is already given at %s[%zu]",
                             lp_quote(q, sizeof q, json_string_value(v)), field, seen[k] - 1);
            break;
        }
        seen[k] = i + 1;
    }
    free(seen);
    return rc;
}

/* Scores 1 when response and reference give the same set of labels, in any
 * order, else 0: a multi-label answer with one label missing or one too
 * many is wrong, as in Toloka's and Scale's gold checks.  Valid responses
 * name each label once, so equal sizes and inclusion mean equal sets. */
static double score(const json_t *params, const json_t *task, const json_t *response,
                    const json_t *reference)
{
    const json_t *a = json_object_get(response, "labels"),
                 *b = json_object_get(reference, "labels");
    const json_t *v, *w;
    size_t i, j;
    (void)params;
    (void)task;
    if (json_array_size(a) != json_array_size(b)) return 0;
    json_array_foreach(a, i, v)
    {
        int found = 0;
        json_array_foreach(b, j, w)
        {
            if (json_equal(v, w)) {
                found = 1;
                break;
            }
        }
        if (!found) return 0;
    }
    return 1;
}

const lp_kind lp_kind_categorization = {
    .version = 1,
    .name = "categorization",
    .summary = "Pick one or several labels from a set for a text, an image or any attachment.",
    .validate_params = validate_params,
    .validate_task = NULL,
    .validate_response = validate_response,
    .task_free = 1,
    .score = score,
};
