/* kind_redteam.c -- red teaming: the annotator attacks a connected model
 * with adversarial prompts, the model answers live (POST
 * /v1/assignments/{id}/chat, api_redteam.c), and the annotator labels
 * whether the attack succeeded, the harm category and its severity.
 *
 * A response holds the conversation as it happened -- user and assistant
 * turns alternating, starting with the annotator and ending with the
 * model, at most params.max_turns user turns -- and the labels.  The
 * server keeps its own record of every model turn (chat_turns), so a
 * transcript can be checked against what the model really said; this
 * module only checks shape, being pure.  categories() names the one
 * call that annotators can agree on, "succeeded" or "failed", so
 * agreement and majority vote work as for any single-choice kind. */
#include <string.h>

#include "kind.h"
#include "util.h"

/* Upper bound on params.max_turns. */
#define MAX_TURNS 50

/* Checks params {endpoint_id, harm_categories, severity, max_turns,
 * system_prompt, instructions}; fills severity ({min: 1, max: 5}) and
 * max_turns (5). */
static int validate_params(json_t *params, lp_verr *e)
{
    static const char *const keys[] = {"endpoint_id", "harm_categories", "severity",
                                       "max_turns",   "system_prompt",   "instructions",
                                       NULL};
    static const char *const sev_keys[] = {"min", "max", NULL};
    long long min = 1, max = 5;
    json_t *sev;
    int rc;
    if ((rc = lp_v_object(params, "params", e))) return rc;
    if ((rc = lp_v_only_keys(params, "params", keys, e))) return rc;
    if ((rc = lp_v_int(params, "endpoint_id", "params", 1, 1, INT64_MAX, NULL, e))) return rc;
    if ((rc = lp_v_names(params, "harm_categories", "params", 1, 1, NULL, e))) return rc;
    lp_json_default(params, "severity", json_pack("{s:i, s:i}", "min", 1, "max", 5));
    sev = json_object_get(params, "severity");
    if ((rc = lp_v_object(sev, "params.severity", e)) ||
        (rc = lp_v_only_keys(sev, "params.severity", sev_keys, e)))
        return rc;
    lp_json_default(sev, "min", json_integer(1));
    lp_json_default(sev, "max", json_integer(5));
    if ((rc = lp_v_int(sev, "min", "params.severity", 1, -1000000, 1000000, &min, e)) ||
        (rc = lp_v_int(sev, "max", "params.severity", 1, -1000000, 1000000, &max, e)))
        return rc;
    if (max <= min)
        return lp_verr_set(e, "params.severity.max", "must be greater than min (%lld); got %lld",
                           min, max);
    json_object_set_new(sev, "min", json_integer(min)); /* 1.0 becomes 1 */
    json_object_set_new(sev, "max", json_integer(max));
    long long turns = 5;
    lp_json_default(params, "max_turns", json_integer(5));
    if ((rc = lp_v_int(params, "max_turns", "params", 1, 1, MAX_TURNS, &turns, e))) return rc;
    json_object_set_new(params, "max_turns", json_integer(turns));
    if ((rc = lp_v_string(params, "system_prompt", "params", 0, 0, 0, NULL, e))) return rc;
    return lp_v_string(params, "instructions", "params", 0, 0, 0, NULL, e);
}

/* The task's data is free (an attack brief, a suggested category...);
 * data.goal, when given, is the text shown to the annotator. */
static int validate_task(const json_t *params, const json_t *task, lp_verr *e)
{
    (void)params;
    const json_t *data = json_object_get(task, "data");
    if (!json_is_object(data)) return 0;
    return lp_v_string(data, "goal", "data", 0, 0, 0, NULL, e);
}

/* Checks response.conversation: non-empty, user first, roles alternating,
 * the model last, at most max_turns user turns. */
static int check_conversation(const json_t *params, const json_t *response, const char *path,
                              lp_verr *e)
{
    static const char *const keys[] = {"role", "content", "model", NULL};
    static const char *const roles[] = {"user", "assistant", NULL};
    long long max_turns = json_integer_value(json_object_get(params, "max_turns"));
    const json_t *conv, *m;
    char field[256], at[256], rf[256];
    size_t i, users = 0, role;
    int rc;
    lp_path_key(field, sizeof field, path, "conversation");
    if ((rc = lp_v_array(response, "conversation", path, 1, 0, 0, &conv, e))) return rc;
    if (json_array_size(conv) == 0)
        return lp_verr_set(e, field, "must hold at least one attack and the model's answer");
    json_array_foreach(conv, i, m)
    {
        lp_path_index(at, sizeof at, field, i);
        if ((rc = lp_v_object(m, at, e)) || (rc = lp_v_only_keys(m, at, keys, e))) return rc;
        lp_path_key(rf, sizeof rf, at, "role");
        if (!lp_json_given(m, "role")) return lp_verr_set(e, rf, "is required");
        if ((rc = lp_v_one_of(json_object_get(m, "role"), rf, roles, "a role", &role, e)))
            return rc;
        if (role != i % 2)
            return lp_verr_set(e, rf, "must be \"%s\": turns alternate, the annotator first",
                               roles[i % 2]);
        if ((rc = lp_v_string(m, "content", at, 1, 0, 0, NULL, e)) ||
            (rc = lp_v_string(m, "model", at, 0, 0, 0, NULL, e)))
            return rc;
        if (role == 0 && (long long)++users > max_turns)
            return lp_verr_set(e, rf, "is user turn %zu; the project allows %lld", users,
                               max_turns);
    }
    if (json_array_size(conv) % 2)
        return lp_verr_set(e, field, "must end with the model's answer (an \"assistant\" turn)");
    return 0;
}

/* Checks a response {conversation, success, category?, severity?,
 * notes?}: a successful attack needs a category and a severity; a failed
 * one may name the category it tried and has no severity. */
static int validate_response(const json_t *params, const json_t *task, const json_t *response,
                             const char *path, lp_verr *e)
{
    static const char *const keys[] = {"conversation", "success", "category",
                                       "severity",     "notes",   NULL};
    const json_t *sev = json_object_get(params, "severity"), *cat;
    char field[256];
    int success = 0, rc;
    (void)task;
    if ((rc = lp_v_object(response, path, e))) return rc;
    if ((rc = lp_v_only_keys(response, path, keys, e))) return rc;
    if ((rc = check_conversation(params, response, path, e))) return rc;
    if ((rc = lp_v_bool(response, "success", path, 1, &success, e))) return rc;
    cat = lp_json_given(response, "category");
    lp_path_key(field, sizeof field, path, "category");
    if (!cat && success) return lp_verr_set(e, field, "is required when the attack succeeded");
    if (cat && (rc = lp_v_name_in(json_object_get(params, "harm_categories"), cat, field,
                                  "harm categories", NULL, e)))
        return rc;
    lp_path_key(field, sizeof field, path, "severity");
    if (!success && lp_json_given(response, "severity"))
        return lp_verr_set(e, field, "must be left out when the attack failed");
    if (success &&
        (rc = lp_v_int(response, "severity", path, 1, json_integer_value(json_object_get(sev, "min")),
                       json_integer_value(json_object_get(sev, "max")), NULL, e)))
        return rc;
    return lp_v_string(response, "notes", path, 0, 0, 0, NULL, e);
}

/* Scores 1 when response and reference agree on success and, when both
 * say it succeeded, on the harm category; else 0.  Severity is left out:
 * it is an ordinal judgement on which careful annotators differ by a
 * point, and a gold check, like the comparison kind's, is about the call
 * itself (did the attack work, what harm is it).  The conversations are
 * not compared: each annotator holds a conversation of their own. */
static double score(const json_t *params, const json_t *task, const json_t *response,
                    const json_t *reference)
{
    (void)params;
    (void)task;
    int a = json_is_true(json_object_get(response, "success"));
    int b = json_is_true(json_object_get(reference, "success"));
    if (a != b) return 0;
    if (!a) return 1;
    const char *ca = json_string_value(json_object_get(response, "category"));
    const char *cb = json_string_value(json_object_get(reference, "category"));
    return ca && cb && strcmp(ca, cb) == 0;
}

static size_t categories(const json_t *params, const json_t *response, const char **names,
                         size_t max)
{
    (void)params;
    const json_t *s = json_object_get(response, "success");
    if (!json_is_boolean(s) || max == 0) return 0;
    names[0] = json_is_true(s) ? "succeeded" : "failed";
    return 1;
}

static int single(const json_t *params)
{
    (void)params;
    return 1;
}

const lp_kind lp_kind_redteam = {
    .version = 1,
    .name = "redteam",
    .summary = "Attack a connected model with adversarial prompts, live, and label whether the "
               "attack succeeded, the harm category and its severity.",
    .validate_params = validate_params,
    .validate_task = validate_task,
    .validate_response = validate_response,
    .task_free = 1,
    .score = score,
    .categories = categories,
    .single = single,
};
