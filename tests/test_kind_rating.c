/* test_kind_rating.c -- params, responses and errors of the rating kind. */
#include "test_kinds.h"

#define K (&lp_kind_rating)
#define P                                                                               \
    "{'criteria': ['helpfulness', {'name': 'clarity', 'description': 'Easy to read'}, " \
    "{'name': 'safety', 'min': 0, 'max': 1, 'step': 0.1, 'required': false}]}"

TEST(rating_params_are_normalised)
{
    lp_verr e;
    json_t *p;
    int rc = kt_params(K,
                       "{'criteria': ['helpfulness', {'name': 'tone', 'min': 0, 'max': 10, "
                       "'step': 2.5, 'required': false}]}",
                       &p, &e);
    int first = kt_equal_at(p, "criteria.0",
                            "{'name': 'helpfulness', 'min': 1, 'max': 5, "
                            "'step': 1, 'required': true}");
    int second = kt_equal_at(p, "criteria.1",
                             "{'name': 'tone', 'min': 0, 'max': 10, "
                             "'step': 2.5, 'required': false}");
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(first);
    CHECK(second);
    PARAMS_OK(K, "{'criteria': [{'name': 'q', 'labels': ['bad', '', '', '', 'good']}]}");
}

TEST(rating_bad_params_name_the_field)
{
    PARAMS_ERR(K, "{}", "params.criteria", "is required");
    PARAMS_ERR(K, "{'criteria': []}", "params.criteria", "at least 1 item");
    PARAMS_ERR(K, "{'criteria': ['a', 'a']}", "params.criteria[1]", "\"a\" is already the name");
    PARAMS_ERR(K, "{'criteria': [{'name': 'a', 'min': 5, 'max': 5}]}", "params.criteria[0].max",
               "must be greater than min (5); got 5");
    PARAMS_ERR(K, "{'criteria': [{'name': 'a', 'step': 0}]}", "params.criteria[0].step",
               "must be greater than 0 (got 0)");
    PARAMS_ERR(K, "{'criteria': [{'name': 'a', 'step': 1.5}]}", "params.criteria[0].step",
               "must divide max - min (4) into whole steps (got 1.5)");
    PARAMS_ERR(K, "{'criteria': [{'name': 'a', 'labels': ['bad', 'ok', 'good']}]}",
               "params.criteria[0].labels", "one label per point of the scale, 5 (has 3)");
    PARAMS_ERR(K, "{'criteria': [{'name': 'a', 'max': 3, 'labels': ['bad', 2, 'good']}]}",
               "params.criteria[0].labels[1]", "must be a string, not a number");
    PARAMS_ERR(K, "{'criteria': [{'name': 'a', 'min': '1'}]}", "params.criteria[0].min",
               "must be a number, not a string");
    PARAMS_ERR(K, "{'criteria': [{'name': 'a', 'scale': 5}]}", "params.criteria[0].scale",
               "is not a known field");
    PARAMS_ERR(K, "{'criteria': [{'name': 'a', 'min': -1e308, 'max': 1e308}]}",
               "params.criteria[0].step", "whole steps");
}

TEST(rating_valid_responses_are_accepted)
{
    RESPONSE_OK(K, P, NULL, "{'ratings': {'helpfulness': 5, 'clarity': 1}}");
    RESPONSE_OK(K, P, NULL,
                "{'ratings': {'helpfulness': 3.0, 'clarity': 2, 'safety': 0.3}, "
                "'comment': 'fine'}");
    /* 0.1 + 0.2 is 0.30000000000000004 in binary: still on the 0.1 grid. */
    RESPONSE_OK(K, P, NULL,
                "{'ratings': {'helpfulness': 3, 'clarity': 2, "
                "'safety': 0.30000000000000004}}");
    RESPONSE_OK(K, P, NULL, "{'ratings': {'helpfulness': 3, 'clarity': 2, 'safety': null}}");
}

TEST(rating_bad_responses_name_the_criterion)
{
    RESPONSE_ERR(K, P, NULL, "{'ratings': {'helpfulness': 7, 'clarity': 1}}",
                 "response.ratings.helpfulness", "must be between 1 and 5 (got 7)");
    RESPONSE_ERR(K, P, NULL, "{'ratings': {'helpfulness': 4.5, 'clarity': 1}}",
                 "response.ratings.helpfulness",
                 "4.5 is not on the scale: use steps of 1 from 1 to 5");
    RESPONSE_ERR(K, P, NULL, "{'ratings': {'helpfulness': 4, 'clarity': 1, 'safety': 0.25}}",
                 "response.ratings.safety", "0.25 is not on the scale");
    RESPONSE_ERR(K, P, NULL, "{'ratings': {'helpfulness': 4}}", "response.ratings.clarity",
                 "is required");
    RESPONSE_ERR(K, P, NULL, "{'ratings': {'helpfulness': 4, 'clarity': 1, 'speed': 3}}",
                 "response.ratings.speed",
                 "\"speed\" is not in the project's criteria (helpfulness, clarity, safety)");
    RESPONSE_ERR(K, P, NULL, "{'ratings': {'helpfulness': 'good', 'clarity': 1}}",
                 "response.ratings.helpfulness", "must be a number, not a string");
    RESPONSE_ERR(K, P, NULL, "{'ratings': [4, 1]}", "response.ratings",
                 "must be an object, not an array");
    RESPONSE_ERR(K, P, NULL, "{}", "response.ratings", "is required");
    RESPONSE_ERR(K, P, NULL, "{'ratings': {'helpfulness': 4, 'clarity': 1}, 'comment': 3}",
                 "response.comment", "must be a string, not a number");
}

TEST(rating_gold_tolerance_is_checked_and_normalised)
{
    lp_verr e;
    json_t *p;
    int rc = kt_params(K, "{'criteria': ['a']}", &p, &e);
    int zero = kt_equal_at(p, "gold_tolerance", "0");
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(zero);
    rc = kt_params(K, "{'criteria': ['a'], 'gold_tolerance': 2.0}", &p, &e);
    int two = json_is_integer(json_object_get(p, "gold_tolerance")) &&
              json_integer_value(json_object_get(p, "gold_tolerance")) == 2;
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(two);
    PARAMS_ERR(K, "{'criteria': ['a'], 'gold_tolerance': -1}", "params.gold_tolerance",
               "must be between 0 and");
    PARAMS_ERR(K, "{'criteria': ['a'], 'gold_tolerance': 0.5}", "params.gold_tolerance",
               "must be an integer");
    PARAMS_ERR(K, "{'criteria': ['a'], 'gold_tolerance': '1'}", "params.gold_tolerance",
               "must be an integer, not a string");
}

#define TOL1                                                                \
    "{'criteria': ['helpfulness', 'clarity', {'name': 'safety', 'min': 0, " \
    "'max': 1, 'step': 0.1, 'required': false}], 'gold_tolerance': 1}"

TEST(rating_score_is_the_share_of_criteria_within_tolerance)
{
    const char *ref = "{'ratings': {'helpfulness': 4, 'clarity': 2}}";
    CHECK_NEAR(kt_score(K, P, NULL,
                        "{'ratings': {'helpfulness': 4, 'clarity': 2}, "
                        "'comment': 'x'}",
                        ref),
               1, 0);
    CHECK_NEAR(kt_score(K, P, NULL, "{'ratings': {'helpfulness': 4, 'clarity': 3}}", ref), 0.5,
               1e-12);
    CHECK_NEAR(kt_score(K, P, NULL, "{'ratings': {'helpfulness': 5, 'clarity': 1}}", ref), 0, 0);
    /* A criterion only the response rates is not counted; one only the
     * reference rates counts as wrong. */
    CHECK_NEAR(
        kt_score(K, P, NULL, "{'ratings': {'helpfulness': 4, 'clarity': 2, 'safety': 0.3}}", ref),
        1, 0);
    CHECK_NEAR(kt_score(K, P, NULL, "{'ratings': {'helpfulness': 4, 'clarity': 2}}",
                        "{'ratings': {'helpfulness': 4, 'clarity': 2, 'safety': 0.3}}"),
               2.0 / 3, 1e-12);
    /* Within one step: 0.4 - 0.3 is a little over 0.1 in binary. */
    const char *ref3 = "{'ratings': {'helpfulness': 4, 'clarity': 2, 'safety': 0.3}}";
    CHECK_NEAR(kt_score(K, TOL1, NULL,
                        "{'ratings': {'helpfulness': 5, 'clarity': 1, 'safety': 0.4}}", ref3),
               1, 0);
    CHECK_NEAR(kt_score(K, TOL1, NULL,
                        "{'ratings': {'helpfulness': 2, 'clarity': 3, 'safety': 0.5}}", ref3),
               1.0 / 3, 1e-12);
}

TEST(rating_score_of_an_empty_reference)
{
    const char *p = "{'criteria': [{'name': 'a', 'required': false}]}";
    CHECK_NEAR(kt_score(K, p, NULL, "{'ratings': {}}", "{'ratings': {}}"), 1, 0);
    CHECK_NEAR(kt_score(K, p, NULL, "{'ratings': {'a': 3}}", "{'ratings': {}}"), 0, 0);
}

TEST(rating_consolidates_to_the_weighted_median_of_each_criterion)
{
    const char *r[] = {"{'ratings': {'helpfulness': 4, 'clarity': 2, 'safety': 0.2}}",
                       "{'ratings': {'helpfulness': 5, 'clarity': 2}, 'comment': 'ok'}",
                       "{'ratings': {'helpfulness': 1, 'clarity': 3}}"};
    double conf;
    json_t *out = kt_aggregate(K, P, NULL, r, NULL, 3, &conf);
    CHECK(out != NULL);
    int h = kt_equal_at(out, "ratings.helpfulness", "4.0");
    int c = kt_equal_at(out, "ratings.clarity", "2.0");
    /* safety: one rater of three is not a majority, so it is left out */
    int safety = json_object_get(json_object_get(out, "ratings"), "safety") == NULL;
    int comment = json_object_get(out, "comment") == NULL;
    json_decref(out);
    CHECK(h);
    CHECK(c);
    CHECK(safety);
    CHECK(comment);
    CHECK_NEAR(conf, (1.0 / 3 + 2.0 / 3) / 2, 1e-12);
    /* Weight moves the median: the third rater counting 3 wins. */
    double w[] = {1, 1, 3};
    out = kt_aggregate(K, P, NULL, r, w, 3, &conf);
    CHECK(out != NULL);
    h = kt_equal_at(out, "ratings.helpfulness", "1.0");
    json_decref(out);
    CHECK(h);
}
