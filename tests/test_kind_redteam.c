/* test_kind_redteam.c -- params, tasks, responses, score and categories of
 * the redteam kind (adversarial conversations with a live model). */
#include "test_kinds.h"

#define K   (&lp_kind_redteam)
#define DEF "{'endpoint_id': 1, 'harm_categories': ['violence', 'fraud']}"
#define TWO "{'endpoint_id': 1, 'harm_categories': ['violence', 'fraud'], 'max_turns': 2}"
#define CONV1 "[{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': 'no'}]"
#define CONV2                                                                             \
    "[{'role': 'user', 'content': 'a'}, {'role': 'assistant', 'content': 'b'}, {'role': " \
    "'user', 'content': 'c'}, {'role': 'assistant', 'content': 'd', 'model': 'm'}]"
#define OK_YES "{'conversation': " CONV1 ", 'success': true, 'category': 'fraud', 'severity': 3}"
#define OK_NO  "{'conversation': " CONV1 ", 'success': false}"

TEST(redteam_params_are_normalised)
{
    lp_verr e;
    json_t *p;
    int rc = kt_params(K, DEF, &p, &e);
    int same = kt_equal_at(p, "",
                           "{'endpoint_id': 1, 'harm_categories': [{'name': 'violence'}, "
                           "{'name': 'fraud'}], 'severity': {'min': 1, 'max': 5}, "
                           "'max_turns': 5}");
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(same);
    rc = kt_params(K,
                   "{'endpoint_id': 2, 'harm_categories': ['x'], 'severity': {'max': 3.0}, "
                   "'max_turns': 1, 'system_prompt': 'Be nice', 'instructions': '# Go'}",
                   &p, &e);
    same = kt_equal_at(p, "severity", "{'min': 1, 'max': 3}") && kt_equal_at(p, "max_turns", "1");
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(same);
}

TEST(redteam_bad_params_name_the_field)
{
    PARAMS_ERR(K, "{'harm_categories': ['x']}", "params.endpoint_id", "is required");
    PARAMS_ERR(K, "{'endpoint_id': 'one', 'harm_categories': ['x']}", "params.endpoint_id",
               "must be an integer");
    PARAMS_ERR(K, "{'endpoint_id': 0, 'harm_categories': ['x']}", "params.endpoint_id", "1");
    PARAMS_ERR(K, "{'endpoint_id': 1}", "params.harm_categories", "is required");
    PARAMS_ERR(K, "{'endpoint_id': 1, 'harm_categories': []}", "params.harm_categories",
               "at least 1");
    PARAMS_ERR(K, "{'endpoint_id': 1, 'harm_categories': ['x', 'x']}",
               "params.harm_categories[1]", "\"x\"");
    PARAMS_ERR(K, "{'endpoint_id': 1, 'harm_categories': ['x'], 'severity': {'min': 3, 'max': 3}}",
               "params.severity.max", "must be greater than min (3)");
    PARAMS_ERR(K, "{'endpoint_id': 1, 'harm_categories': ['x'], 'severity': {'min': 1.5}}",
               "params.severity.min", "must be an integer");
    PARAMS_ERR(K, "{'endpoint_id': 1, 'harm_categories': ['x'], 'severity': {'step': 1}}",
               "params.severity.step", "is not a known field");
    PARAMS_ERR(K, "{'endpoint_id': 1, 'harm_categories': ['x'], 'severity': 5}",
               "params.severity", "must be an object");
    PARAMS_ERR(K, "{'endpoint_id': 1, 'harm_categories': ['x'], 'max_turns': 0}",
               "params.max_turns", "");
    PARAMS_ERR(K, "{'endpoint_id': 1, 'harm_categories': ['x'], 'max_turns': 51}",
               "params.max_turns", "");
    PARAMS_ERR(K, "{'endpoint_id': 1, 'harm_categories': ['x'], 'system_prompt': 3}",
               "params.system_prompt", "must be a string");
    PARAMS_ERR(K, "{'endpoint_id': 1, 'harm_categories': ['x'], 'model': 'gpt'}",
               "params.model", "is not a known field");
}

TEST(redteam_task_goal_is_a_string_when_given)
{
    TASK_OK(K, DEF, "{'data': {}}");
    TASK_OK(K, DEF, "{'data': {'goal': 'Make it swear', 'category': 'fraud', 'x': [1]}}");
    TASK_ERR(K, DEF, "{'data': {'goal': 7}}", "data.goal", "must be a string");
}

TEST(redteam_responses_that_pass)
{
    RESPONSE_OK(K, DEF, NULL, OK_YES);
    RESPONSE_OK(K, DEF, NULL, OK_NO);
    RESPONSE_OK(K, DEF, NULL, "{'conversation': " CONV1 ", 'success': false, 'category': 'fraud'}");
    RESPONSE_OK(K, TWO, NULL,
                "{'conversation': " CONV2 ", 'success': true, 'category': 'violence', "
                "'severity': 5, 'notes': 'turn 2'}");
    RESPONSE_OK(K, DEF, NULL, "{'conversation': " CONV1 ", 'success': true, 'category': "
                               "'fraud', 'severity': 1}");
}

TEST(redteam_conversation_errors_name_the_turn)
{
    RESPONSE_ERR(K, DEF, NULL, "{'success': false}", "response.conversation", "is required");
    RESPONSE_ERR(K, DEF, NULL, "{'conversation': [], 'success': false}", "response.conversation",
                 "at least one");
    RESPONSE_ERR(K, DEF, NULL, "{'conversation': 'hi', 'success': false}",
                 "response.conversation", "must be an array");
    RESPONSE_ERR(K, DEF, NULL,
                 "{'conversation': [{'role': 'assistant', 'content': 'x'}], 'success': false}",
                 "response.conversation[0].role", "must be \"user\"");
    RESPONSE_ERR(K, DEF, NULL, "{'conversation': [{'role': 'user', 'content': 'x'}], 'success': false}",
                 "response.conversation", "must end with the model's answer");
    RESPONSE_ERR(K, DEF, NULL,
                 "{'conversation': [{'role': 'user', 'content': 'a'}, {'role': 'assistant', "
                 "'content': 'b'}, {'role': 'user', 'content': 'c'}, {'role': 'user', "
                 "'content': 'd'}], 'success': false}",
                 "response.conversation[3].role", "must be \"assistant\"");
    RESPONSE_ERR(K, DEF, NULL,
                 "{'conversation': [{'role': 'system', 'content': 'a'}], 'success': false}",
                 "response.conversation[0].role", "\"system\" is not a role");
    RESPONSE_ERR(K, DEF, NULL,
                 "{'conversation': [{'role': 'user'}, {'role': 'assistant', 'content': 'b'}], "
                 "'success': false}",
                 "response.conversation[0].content", "is required");
    RESPONSE_ERR(K, DEF, NULL,
                 "{'conversation': [{'role': 'user', 'content': 'a', 'name': 'x'}, {'role': "
                 "'assistant', 'content': 'b'}], 'success': false}",
                 "response.conversation[0].name", "is not a known field");
    RESPONSE_ERR(K, DEF, NULL,
                 "{'conversation': [{'role': 'user', 'content': 'a'}, {'role': 'assistant', "
                 "'content': 'b', 'model': 5}], 'success': false}",
                 "response.conversation[1].model", "must be a string");
    RESPONSE_ERR(K, DEF, NULL, "{'conversation': [5], 'success': false}",
                 "response.conversation[0]", "must be an object");
    /* one user turn more than max_turns */
    RESPONSE_ERR(K, "{'endpoint_id': 1, 'harm_categories': ['x'], 'max_turns': 1}", NULL,
                 "{'conversation': " CONV2 ", 'success': false}", "response.conversation[2].role",
                 "the project allows 1");
}

TEST(redteam_label_errors_name_the_field)
{
    RESPONSE_ERR(K, DEF, NULL, "{'conversation': " CONV1 "}", "response.success", "is required");
    RESPONSE_ERR(K, DEF, NULL, "{'conversation': " CONV1 ", 'success': 'yes'}",
                 "response.success", "must be true or false");
    RESPONSE_ERR(K, DEF, NULL, "{'conversation': " CONV1 ", 'success': true, 'severity': 2}",
                 "response.category", "is required when the attack succeeded");
    RESPONSE_ERR(K, DEF, NULL,
                 "{'conversation': " CONV1 ", 'success': true, 'category': 'spam', 'severity': 2}",
                 "response.category", "\"spam\" is not in the project's harm categories");
    RESPONSE_ERR(K, DEF, NULL, "{'conversation': " CONV1 ", 'success': true, 'category': 'fraud'}",
                 "response.severity", "is required");
    RESPONSE_ERR(K, DEF, NULL,
                 "{'conversation': " CONV1 ", 'success': true, 'category': 'fraud', 'severity': 6}",
                 "response.severity", "");
    RESPONSE_ERR(K, DEF, NULL,
                 "{'conversation': " CONV1 ", 'success': true, 'category': 'fraud', 'severity': 2.5}",
                 "response.severity", "must be an integer");
    RESPONSE_ERR(K, DEF, NULL, "{'conversation': " CONV1 ", 'success': false, 'severity': 2}",
                 "response.severity", "must be left out when the attack failed");
    RESPONSE_ERR(K, DEF, NULL, "{'conversation': " CONV1 ", 'success': false, 'notes': 1}",
                 "response.notes", "must be a string");
    RESPONSE_ERR(K, DEF, NULL, "{'conversation': " CONV1 ", 'success': false, 'harm': 1}",
                 "response.harm", "is not a known field");
}

TEST(redteam_score_is_success_and_category)
{
    CHECK_NEAR(kt_score(K, DEF, NULL, OK_YES, OK_YES), 1, 1e-12);
    CHECK_NEAR(kt_score(K, DEF, NULL, OK_NO, OK_NO), 1, 1e-12);
    CHECK_NEAR(kt_score(K, DEF, NULL, OK_YES, OK_NO), 0, 1e-12);
    CHECK_NEAR(kt_score(K, DEF, NULL, OK_NO, OK_YES), 0, 1e-12);
    /* severity is left out; category counts when both succeeded */
    CHECK_NEAR(kt_score(K, DEF, NULL,
                        "{'conversation': " CONV1
                        ", 'success': true, 'category': 'fraud', 'severity': 1}",
                        OK_YES),
               1, 1e-12);
    CHECK_NEAR(kt_score(K, DEF, NULL,
                        "{'conversation': " CONV1
                        ", 'success': true, 'category': 'violence', 'severity': 3}",
                        OK_YES),
               0, 1e-12);
    /* two failures agree whatever category each names */
    CHECK_NEAR(kt_score(K, DEF, NULL,
                        "{'conversation': " CONV1 ", 'success': false, 'category': 'violence'}",
                        OK_NO),
               1, 1e-12);
}

TEST(redteam_categories_are_succeeded_or_failed)
{
    json_t *p = NULL, *yes = kt_json(OK_YES), *no = kt_json(OK_NO), *bad = kt_json("{}");
    lp_verr e;
    CHECK_INT(kt_params(K, DEF, &p, &e), 0);
    const char *names[2];
    CHECK_INT(K->categories(p, yes, names, 2), 1);
    CHECK_STR(names[0], "succeeded");
    CHECK_INT(K->categories(p, no, names, 2), 1);
    CHECK_STR(names[0], "failed");
    CHECK_INT(K->categories(p, bad, names, 2), 0);
    CHECK_INT(K->single(p), 1);
    /* the majority's call wins the consolidation */
    static const char *const rs[] = {OK_YES, OK_NO, OK_YES};
    double conf;
    json_t *out = kt_aggregate(K, DEF, NULL, rs, NULL, 3, &conf);
    CHECK(out != NULL);
    CHECK(json_is_true(json_object_get(out, "success")));
    CHECK_NEAR(conf, 2.0 / 3, 1e-9);
    json_decref(out);
    json_decref(p);
    json_decref(yes);
    json_decref(no);
    json_decref(bad);
}
