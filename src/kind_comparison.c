/* kind_comparison.c -- RLHF preference: which of two or more model
 * responses to a prompt is better.
 *
 * The task's data holds the prompt and the responses (see
 * lp_v_task_responses: objects with ids, or plain strings whose ids are
 * "0", "1", ...).  A response picks one of them by id, or declares a tie
 * when the project allows it, optionally says by how much (strength 1..3:
 * slightly, clearly, much better), picks per aspect (accuracy, style, ...)
 * and explains itself as the project asks.  Instead of a choice, a
 * response may say that every response is bad ("both_bad": a pair to
 * leave out of preference training, which a tie is not).  The ids "tie"
 * and "both_bad" are reserved: an aspect's answer may be "tie", and
 * categories() names the overall call with them. */
#include <string.h>

#include "kind.h"
#include "util.h"

static const char *const justification_modes[] = {"required", "optional", "none", NULL};

/* Checks params {allow_tie, allow_both_bad, strength, aspects,
 * justification, instructions} and fills allow_tie (true), allow_both_bad
 * (true), strength (false), aspects ([]) and justification ("optional"). */
static int validate_params(json_t *params, lp_verr *e)
{
    static const char *const keys[] = {"allow_tie",     "allow_both_bad", "strength", "aspects",
                                       "justification", "instructions",   NULL};
    int rc;
    if ((rc = lp_v_object(params, "params", e))) return rc;
    if ((rc = lp_v_only_keys(params, "params", keys, e))) return rc;
    lp_json_default(params, "allow_tie", json_true());
    lp_json_default(params, "allow_both_bad", json_true());
    lp_json_default(params, "strength", json_false());
    lp_json_default(params, "justification", json_string("optional"));
    if ((rc = lp_v_bool(params, "allow_tie", "params", 1, NULL, e)) ||
        (rc = lp_v_bool(params, "allow_both_bad", "params", 1, NULL, e)) ||
        (rc = lp_v_bool(params, "strength", "params", 1, NULL, e)) ||
        (rc = lp_v_names(params, "aspects", "params", 0, 0, NULL, e)) ||
        (rc = lp_v_one_of(json_object_get(params, "justification"), "params.justification",
                          justification_modes, "a justification mode", NULL, e)))
        return rc;
    return lp_v_string(params, "instructions", "params", 0, 0, 0, NULL, e);
}

/* Checks the task's prompt and responses; no response may have the id
 * "tie" or "both_bad". */
static int validate_task(const json_t *params, const json_t *task, lp_verr *e)
{
    char buf[24], item[256], at[256];
    int rc;
    (void)params;
    if ((rc = lp_v_task_responses(task, e))) return rc;
    if ((rc = lp_v_string(json_object_get(task, "data"), "prompt", "data", 1, 1, 0, NULL, e)))
        return rc;
    for (size_t i = 0; i < lp_task_response_count(task); i++) {
        const char *id = lp_task_response_id(task, i, buf, sizeof buf);
        if (strcmp(id, "tie") != 0 && strcmp(id, "both_bad") != 0) continue;
        lp_path_index(item, sizeof item, "data.responses", i);
        return lp_verr_set(e, lp_path_key(at, sizeof at, item, "id"),
                           "\"%s\" is reserved; give this response another id", id);
    }
    return 0;
}

/* Fails when the response has key although the project does not ask for
 * it. */
static int not_asked(const json_t *response, const char *key, const char *path, lp_verr *e)
{
    char field[256];
    if (!lp_json_given(response, key)) return 0;
    return lp_verr_set(e, lp_path_key(field, sizeof field, path, key),
                       "must be left out: the project does not ask for %s", key);
}

/* Checks response.aspects: one answer per project aspect, each a response
 * id or, when ties are allowed, "tie". */
static int check_aspects(const json_t *params, const json_t *task, const json_t *response,
                         const char *path, lp_verr *e)
{
    const json_t *defs = json_object_get(params, "aspects"), *def;
    const json_t *given = lp_json_given(response, "aspects");
    int allow_tie = json_is_true(json_object_get(params, "allow_tie"));
    char field[256], at[256];
    size_t i;
    int rc;
    if (!json_array_size(defs)) return not_asked(response, "aspects", path, e);
    lp_path_key(field, sizeof field, path, "aspects");
    if (!given) return lp_verr_set(e, field, "is required");
    if ((rc = lp_v_keys_in(defs, given, field, "aspects", 1, e))) return rc;
    json_array_foreach(defs, i, def)
    {
        const char *name = json_string_value(json_object_get(def, "name"));
        const json_t *v = name ? json_object_get(given, name) : NULL;
        if (!v) continue;
        lp_path_key(at, sizeof at, field, name);
        if (json_is_string(v) && strcmp(json_string_value(v), "tie") == 0) {
            if (!allow_tie)
                return lp_verr_set(e, at,
                                   "must name a response: the project does not allow "
                                   "ties");
            continue;
        }
        if ((rc = lp_v_response_id(task, v, at, NULL, e))) return rc;
    }
    return 0;
}

/* Checks a response {choice, tie?, both_bad?, strength?, aspects?,
 * justification?} against what the project asks for. */
static int validate_response(const json_t *params, const json_t *task, const json_t *response,
                             const char *path, lp_verr *e)
{
    static const char *const keys[] = {"choice",  "tie",           "both_bad", "strength",
                                       "aspects", "justification", NULL};
    const json_t *choice;
    const char *mode = json_string_value(json_object_get(params, "justification"));
    char field[256], q[96];
    int tie = 0, bad = 0, rc;
    if ((rc = lp_v_object(response, path, e))) return rc;
    if ((rc = lp_v_only_keys(response, path, keys, e))) return rc;
    if ((rc = lp_v_bool(response, "tie", path, 0, &tie, e))) return rc;
    if ((rc = lp_v_bool(response, "both_bad", path, 0, &bad, e))) return rc;
    if (tie && !json_is_true(json_object_get(params, "allow_tie")))
        return lp_verr_set(e, lp_path_key(field, sizeof field, path, "tie"),
                           "must be false: the project does not allow ties");
    if (bad && !json_is_true(json_object_get(params, "allow_both_bad")))
        return lp_verr_set(e, lp_path_key(field, sizeof field, path, "both_bad"),
                           "must be false: the project does not allow \"both bad\"");
    if (bad && tie)
        return lp_verr_set(e, lp_path_key(field, sizeof field, path, "both_bad"),
                           "cannot be true with tie: say one of the two");
    const char *call = tie ? "tie" : "both_bad";
    choice = lp_json_given(response, "choice");
    lp_path_key(field, sizeof field, path, "choice");
    if ((tie || bad) && choice)
        return lp_verr_set(e, field, "must be null when %s is true (got %s)", call,
                           json_is_string(choice) ? lp_quote(q, sizeof q, json_string_value(choice))
                                                  : lp_json_type_name(choice));
    if (!tie && !bad && (rc = lp_v_response_id(task, choice, field, NULL, e))) return rc;

    if (!json_is_true(json_object_get(params, "strength"))) {
        if ((rc = not_asked(response, "strength", path, e))) return rc;
    } else if (tie || bad) {
        if (lp_json_given(response, "strength"))
            return lp_verr_set(e, lp_path_key(field, sizeof field, path, "strength"),
                               "must be left out for %s", tie ? "a tie" : "\"both bad\"");
    } else if ((rc = lp_v_int(response, "strength", path, 1, 1, 3, NULL, e))) {
        return rc;
    }

    if ((rc = check_aspects(params, task, response, path, e))) return rc;
    if (mode && strcmp(mode, "none") == 0) return not_asked(response, "justification", path, e);
    int required = mode && strcmp(mode, "required") == 0;
    return lp_v_string(response, "justification", path, required, required ? 1 : 0, 0, NULL, e);
}

/* The overall call: the chosen response's id, or "tie" or "both_bad"
 * (reserved ids); NULL if the response has none. */
static const char *overall(const json_t *response)
{
    if (json_is_true(json_object_get(response, "tie"))) return "tie";
    if (json_is_true(json_object_get(response, "both_bad"))) return "both_bad";
    return json_string_value(json_object_get(response, "choice"));
}

/* Scores 1 when response and reference make the same overall call (both a
 * tie, both "both bad", or the same response id as choice), else 0.
 * Strength, aspects and justification are left out: they are finer
 * judgements on which careful annotators differ, and a gold check, as in
 * Scale's RLHF queues, is about the preference itself. */
static double score(const json_t *params, const json_t *task, const json_t *response,
                    const json_t *reference)
{
    (void)params;
    (void)task;
    const char *a = overall(response), *b = overall(reference);
    return a && b && strcmp(a, b) == 0;
}

static size_t categories(const json_t *params, const json_t *response, const char **names,
                         size_t max)
{
    (void)params;
    const char *c = overall(response);
    if (!c || max == 0) return 0;
    names[0] = c;
    return 1;
}

static int single(const json_t *params)
{
    (void)params;
    return 1;
}

const lp_kind lp_kind_comparison = {
    .version = 1,
    .name = "comparison",
    .summary = "Say which of two or more model responses to a prompt is better (RLHF "
               "preference).",
    .validate_params = validate_params,
    .validate_task = validate_task,
    .validate_response = validate_response,
    .score = score,
    .categories = categories,
    .single = single,
};
