/* kind_categorization.c -- pick one or several labels from a fixed set.
 *
 * The task can be anything (a text, an image, any attachment); the project
 * names the labels and whether an answer may hold more than one.  A valid
 * response names each label at most once, and only labels the project
 * has, so aggregation can count votes by label name without checking. */
#include <stdlib.h>
#include <string.h>

#include "kind.h"
#include "limit.h"
#include "util.h"

/* Checks params {labels, multiple, instructions} and fills multiple (false)
 * and the label objects. */
static int validate_params(json_t *params, lp_verr *e)
{
    static const char *const keys[] = {"labels", "multiple", "instructions", "builtin_model", NULL};
    int rc;
    if ((rc = lp_v_object(params, "params", e))) return rc;
    if ((rc = lp_v_only_keys(params, "params", keys, e))) return rc;
    if ((rc = lp_v_names(params, "labels", "params", 1, 1, NULL, e))) return rc;
    lp_json_default(params, "multiple", json_false());
    if ((rc = lp_v_bool(params, "multiple", "params", 1, NULL, e))) return rc;
    /* the built-in text classifier predicts the open tasks (learner.h) */
    if ((rc = lp_v_bool(params, "builtin_model", "params", 0, NULL, e))) return rc;
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
    if ((rc = lp_v_array(response, "labels", path, 1, 1, LP_LIMIT_RESPONSE_ITEMS, &given, e)))
        return rc;
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

/* The labels a response names, in its order. */
static size_t categories(const json_t *params, const json_t *response, const char **names,
                         size_t max)
{
    const json_t *l;
    size_t i, n = 0;
    (void)params;
    json_array_foreach(json_object_get(response, "labels"), i, l)
    {
        if (json_is_string(l) && n < max) names[n++] = json_string_value(l);
    }
    return n;
}

static int single(const json_t *params)
{
    return !json_is_true(json_object_get(params, "multiple"));
}

/* {"labels": names}. */
static json_t *respond(const json_t *params, const char *const *names, size_t n)
{
    json_t *labels = json_array();
    (void)params;
    for (size_t i = 0; i < n; i++) json_array_append_new(labels, json_string(names[i]));
    return json_pack("{s:o}", "labels", labels);
}

/* Weighted votes per label, in the order labels were first voted for. */
typedef struct tally {
    const char *name;
    double w;
} tally;

/* One label: the weighted majority, a tie going to the label voted for
 * first; confidence is its share of the weight.  Several labels: each is a
 * yes/no question, and the result holds the labels more than half the
 * weight chose (the most chosen one if none is), with confidence the mean
 * share of the side that won, over the labels anyone chose. */
static int aggregate(const json_t *params, const json_t *task, const json_t *const *responses,
                     const double *weights, size_t n, json_t **out, double *confidence)
{
    size_t nl = json_array_size(json_object_get(params, "labels")), nt = 0;
    tally *t = lp_calloc(nl + 1, sizeof *t);
    double total = 0;
    const json_t *l;
    size_t k;
    (void)task;
    for (size_t i = 0; i < n; i++) {
        double w = weights ? weights[i] : 1;
        total += w;
        json_array_foreach(json_object_get(responses[i], "labels"), k, l)
        {
            const char *name = json_string_value(l);
            size_t j = 0;
            while (j < nt && strcmp(t[j].name, name)) j++;
            if (j == nt && nt <= nl) t[nt++] = (tally){name, 0};
            if (j < nt) t[j].w += w;
        }
    }
    size_t best = 0;
    for (size_t j = 1; j < nt; j++)
        if (t[j].w > t[best].w) best = j;
    json_t *labels = json_array();
    if (total <= 0 || nt == 0) {
        free(t);
        json_decref(labels);
        return LP_EINVAL;
    }
    if (single(params)) {
        json_array_append_new(labels, json_string(t[best].name));
        *confidence = t[best].w / total;
    } else {
        double sure = 0;
        for (size_t j = 0; j < nt; j++) {
            double share = t[j].w / total;
            if (share > 0.5) json_array_append_new(labels, json_string(t[j].name));
            sure += share > 0.5 ? share : 1 - share;
        }
        if (json_array_size(labels) == 0) json_array_append_new(labels, json_string(t[best].name));
        *confidence = sure / (double)nt;
    }
    *out = json_pack("{s:o}", "labels", labels);
    free(t);
    return 0;
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
    .categories = categories,
    .single = single,
    .respond = respond,
    .aggregate = aggregate,
};
