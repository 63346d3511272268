/* test_kind_categorization.c -- params, responses and errors of the
 * categorization kind. */
#include "test_kinds.h"

#define K    (&lp_kind_categorization)
#define ONE  "{'labels': ['cat', 'dog', {'name': 'bird', 'description': 'Any bird'}]}"
#define MANY "{'labels': ['cat', 'dog', 'bird'], 'multiple': true}"

TEST(categorization_params_are_normalised)
{
    lp_verr e;
    json_t *p;
    int rc = kt_params(K, "{'labels': ['cat', {'name': 'dog', 'description': 'A dog'}]}", &p, &e);
    int labels = kt_equal_at(p, "labels",
                             "[{'name': 'cat'}, {'name': 'dog', 'description': "
                             "'A dog'}]");
    int multiple = kt_equal_at(p, "multiple", "false");
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(labels);
    CHECK(multiple);
}

TEST(categorization_bad_params_name_the_field)
{
    PARAMS_ERR(K, "{}", "params.labels", "is required");
    PARAMS_ERR(K, "{'labels': []}", "params.labels", "at least 1 item");
    PARAMS_ERR(K, "{'labels': 'cat,dog'}", "params.labels", "must be an array, not a string");
    PARAMS_ERR(K, "{'labels': ['cat', 'dog', '']}", "params.labels[2]", "must not be empty");
    PARAMS_ERR(K, "{'labels': ['cat', 7]}", "params.labels[1]", "not a number");
    PARAMS_ERR(K, "{'labels': ['cat', 'dog', 'cat']}", "params.labels[2]",
               "\"cat\" is already the name of params.labels[0]");
    PARAMS_ERR(K, "{'labels': ['cat', {'name': 'cat'}]}", "params.labels[1].name",
               "\"cat\" is already the name");
    PARAMS_ERR(K, "{'labels': [{'description': 'x'}]}", "params.labels[0].name", "is required");
    PARAMS_ERR(K, "{'labels': [{'name': 'cat', 'colour': 'red'}]}", "params.labels[0].colour",
               "is not a known field");
    PARAMS_ERR(K, "{'labels': [{'name': 'cat', 'description': 3}]}", "params.labels[0].description",
               "must be a string");
    PARAMS_ERR(K, "{'labels': ['a\\u0000b']}", "params.labels[0]", "NUL");
    PARAMS_ERR(K, "{'labels': ['cat'], 'multiple': 'yes'}", "params.multiple",
               "must be true or false, not a string");
    PARAMS_ERR(K, "{'labels': ['cat'], 'mutliple': true}", "params.mutliple",
               "is not a known field");
    PARAMS_ERR(K, "{'labels': ['cat'], 'instructions': ['x']}", "params.instructions",
               "must be a string");
}

TEST(categorization_valid_responses_are_accepted)
{
    RESPONSE_OK(K, ONE, NULL, "{'labels': ['bird']}");
    RESPONSE_OK(K, MANY, NULL, "{'labels': ['bird', 'cat']}");
    RESPONSE_OK(K, MANY, NULL, "{'labels': ['dog']}");
}

TEST(categorization_bad_responses_name_the_field_and_value)
{
    RESPONSE_ERR(K, ONE, NULL, "{'labels': ['cow']}", "response.labels[0]",
                 "\"cow\" is not in the project's labels (cat, dog, bird)");
    RESPONSE_ERR(K, ONE, NULL, "{'labels': ['Cat']}", "response.labels[0]",
                 "\"Cat\" is not in the project's labels");
    RESPONSE_ERR(K, ONE, NULL, "{'labels': ['cat', 'dog']}", "response.labels",
                 "exactly one label");
    RESPONSE_ERR(K, MANY, NULL, "{'labels': ['cat', 'dog', 'cat']}", "response.labels[2]",
                 "\"cat\" is already given at response.labels[0]");
    RESPONSE_ERR(K, MANY, NULL, "{'labels': []}", "response.labels", "at least 1 item");
    RESPONSE_ERR(K, ONE, NULL, "{}", "response.labels", "is required");
    RESPONSE_ERR(K, ONE, NULL, "{'labels': 'cat'}", "response.labels",
                 "must be an array, not a string");
    RESPONSE_ERR(K, ONE, NULL, "{'labels': [3]}", "response.labels[0]",
                 "must be a string, not a number");
    RESPONSE_ERR(K, ONE, NULL, "{'labels': [null]}", "response.labels[0]", "is required");
    RESPONSE_ERR(K, ONE, NULL, "{'label': 'cat'}", "response.label", "is not a known field");
    /* A name with a NUL inside is not the label before the NUL. */
    RESPONSE_ERR(K, ONE, NULL, "{'labels': ['cat\\u0000x']}", "response.labels[0]",
                 "is not in the project's labels");
}

TEST(categorization_errors_start_with_the_given_path)
{
    json_t *p = kt_json(ONE), *r = kt_json("{'labels': ['cow']}");
    lp_verr e;
    int rc = K->validate_params(p, &e);
    CHECK_VALID(rc, e);
    rc = K->validate_response(p, NULL, r, "expected_response", &e);
    json_decref(r);
    json_decref(p);
    CHECK_VERR(rc, e, "expected_response.labels[0]", "\"cow\"");
}

TEST(categorization_score_needs_the_same_set_of_labels)
{
    CHECK_NEAR(kt_score(K, ONE, NULL, "{'labels': ['dog']}", "{'labels': ['dog']}"), 1, 0);
    CHECK_NEAR(kt_score(K, ONE, NULL, "{'labels': ['cat']}", "{'labels': ['dog']}"), 0, 0);
    /* Order does not matter; a missing or an extra label is wrong. */
    CHECK_NEAR(
        kt_score(K, MANY, NULL, "{'labels': ['cat', 'bird']}", "{'labels': ['bird', 'cat']}"), 1,
        0);
    CHECK_NEAR(kt_score(K, MANY, NULL, "{'labels': ['cat']}", "{'labels': ['bird', 'cat']}"), 0, 0);
    CHECK_NEAR(kt_score(K, MANY, NULL, "{'labels': ['cat', 'bird', 'dog']}",
                        "{'labels': ['bird', 'cat']}"),
               0, 0);
    CHECK_NEAR(kt_score(K, MANY, NULL, "{'labels': ['cat', 'dog']}", "{'labels': ['bird', 'cat']}"),
               0, 0);
}

TEST(categorization_consolidates_votes_and_labels)
{
    double conf;
    const char *one[] = {"{'labels': ['dog']}", "{'labels': ['cat']}", "{'labels': ['cat']}"};
    json_t *out = kt_aggregate(&lp_kind_categorization, "{'labels': ['cat', 'dog']}", NULL, one,
                               NULL, 3, &conf);
    int ok = out && kt_equal_at(out, "labels", "['cat']");
    json_decref(out);
    CHECK(ok);
    CHECK_NEAR(conf, 2.0 / 3, 1e-12);
    /* A tie goes to the label voted first; weights break it otherwise. */
    const char *tie[] = {"{'labels': ['dog']}", "{'labels': ['cat']}"};
    out = kt_aggregate(&lp_kind_categorization, "{'labels': ['cat', 'dog']}", NULL, tie, NULL, 2,
                       &conf);
    ok = out && kt_equal_at(out, "labels", "['dog']");
    json_decref(out);
    CHECK(ok);
    double w[] = {1, 2};
    out =
        kt_aggregate(&lp_kind_categorization, "{'labels': ['cat', 'dog']}", NULL, tie, w, 2, &conf);
    ok = out && kt_equal_at(out, "labels", "['cat']");
    json_decref(out);
    CHECK(ok);
    CHECK_NEAR(conf, 2.0 / 3, 1e-12);
    /* Several labels: each one that more than half chose. */
    const char *multi[] = {"{'labels': ['a', 'b']}", "{'labels': ['a']}", "{'labels': ['a', 'c']}",
                           "{'labels': ['b', 'a']}"};
    out = kt_aggregate(&lp_kind_categorization, "{'labels': ['a', 'b', 'c'], 'multiple': true}",
                       NULL, multi, NULL, 4, &conf);
    ok = out && kt_equal_at(out, "labels", "['a']");
    json_decref(out);
    CHECK(ok);
    /* a: 4/4, b: 2/4 (not more than half), c: 1/4 -> (1 + 0.5 + 0.75) / 3 */
    CHECK_NEAR(conf, 2.25 / 3, 1e-12);
}

TEST(kinds_without_an_aggregate_take_the_weighted_medoid)
{
    double conf;
    const char *r[] = {"{'text': 'hello world'}", "{'text': 'hello  world'}",
                       "{'text': 'goodbye'}"};
    json_t *out = kt_aggregate(&lp_kind_textcollection, "{}", NULL, r, NULL, 3, &conf);
    int ok = out && kt_equal_at(out, "text", "'hello world'");
    json_decref(out);
    CHECK(ok);
    CHECK_NEAR(conf, 2.0 / 3, 1e-12);
}
