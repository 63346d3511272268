/* test_kind_redteam.c -- params, tasks, responses, score and categories of
 * the redteam kind (adversarial conversations with a live model). */
#include <string.h>

#include "redteam.h"
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

/* The report's rates and Wilson intervals (redteam.c), grouped and sorted
 * by name, rows without a name under "(none)". */
TEST(redteam_report_counts_rates_with_wilson_intervals)
{
    lp_redteam_row rows[] = {
        {"fraud", "m-1", 1}, {"fraud", "m-1", 0}, {"violence", "m-2", 1}, {NULL, "m-1", 0},
        {"fraud", NULL, 0},
    };
    json_t *r = lp_redteam_report(rows, LP_ARRAY_LEN(rows));
    json_t *all = json_object_get(r, "overall");
    CHECK_INT(json_integer_value(json_object_get(all, "n")), 5);
    CHECK_INT(json_integer_value(json_object_get(all, "succeeded")), 2);
    CHECK_NEAR(json_real_value(json_object_get(all, "rate")), 0.4, 1e-12);
    /* Wilson 95% for 2 of 5: 0.1176 .. 0.7693 */
    CHECK_NEAR(json_real_value(json_object_get(all, "low")), 0.117621, 1e-5);
    CHECK_NEAR(json_real_value(json_object_get(all, "high")), 0.769273, 1e-5);
    json_t *cats = json_object_get(r, "by_category");
    CHECK_INT(json_array_size(cats), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(cats, 0), "category")), "(none)");
    CHECK_STR(json_string_value(json_object_get(json_array_get(cats, 1), "category")), "fraud");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(cats, 1), "n")), 3);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(cats, 1), "succeeded")), 1);
    json_t *models = json_object_get(r, "by_model");
    CHECK_INT(json_array_size(models), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(models, 1), "model")), "m-1");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(models, 1), "n")), 3);
    json_decref(r);
    /* nothing accepted yet: zero counts, no rate */
    r = lp_redteam_report(NULL, 0);
    all = json_object_get(r, "overall");
    CHECK_INT(json_integer_value(json_object_get(all, "n")), 0);
    CHECK(json_is_null(json_object_get(all, "rate")) && json_is_null(json_object_get(all, "low")));
    CHECK_INT(json_array_size(json_object_get(r, "by_category")), 0);
    json_decref(r);
}

TEST(redteam_transcript_lines_carry_the_labels_and_the_annotator)
{
    json_t *params = kt_json("{'endpoint_id': 4, 'harm_categories': ['fraud']}");
    lp_export_ctx cx = {.kind = "redteam", .params = params};
    lp_buf out = {0};
    const char *task =
        "{\"id\":9,\"unique_id\":\"u9\",\"data\":{\"goal\":\"G\"},\"result\":{\"response\":"
        "{\"conversation\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\","
        "\"content\":\"b\",\"model\":\"m-1\"}],\"success\":false}},\"annotations\":[{\"user_id\":"
        "\"w_1\",\"response\":{\"conversation\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":"
        "\"assistant\",\"content\":\"b\",\"model\":\"m-1\"}],\"success\":true,\"category\":"
        "\"fraud\",\"severity\":2}}]}";
    lp_export_redteam.task(&cx, &out, 0, task, strlen(task));
    CHECK(out.len > 0 && out.data[out.len - 1] == '\n');
    json_t *line = json_loadb(out.data, out.len, 0, NULL);
    CHECK(line != NULL);
    CHECK(kt_equal_at(line, "task_id", "9") && kt_equal_at(line, "goal", "'G'") &&
          kt_equal_at(line, "model", "'m-1'") && kt_equal_at(line, "endpoint_id", "4") &&
          kt_equal_at(line, "success", "true") && kt_equal_at(line, "category", "'fraud'") &&
          kt_equal_at(line, "severity", "2") && kt_equal_at(line, "notes", "null") &&
          kt_equal_at(line, "annotator", "'w_1'") &&
          kt_equal_at(line, "conversation.1.content", "'b'"));
    json_decref(line);
    /* without annotations: the result, no annotator */
    out.len = 0;
    const char *plain = "{\"id\":9,\"data\":{},\"result\":{\"response\":{\"conversation\":[],"
                        "\"success\":false}}}";
    lp_export_redteam.task(&cx, &out, 0, plain, strlen(plain));
    line = json_loadb(out.data, out.len, 0, NULL);
    CHECK(line && kt_equal_at(line, "annotator", "null") && kt_equal_at(line, "goal", "null") &&
          kt_equal_at(line, "model", "null"));
    json_decref(line);
    /* a task without a result writes nothing */
    out.len = 0;
    lp_export_redteam.task(&cx, &out, 0, "{\"id\":1}", 8);
    CHECK_INT(out.len, 0);
    lp_buf_fini(&out);
    json_decref(params);
}
