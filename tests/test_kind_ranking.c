/* test_kind_ranking.c -- params, tasks, responses and errors of the
 * ranking kind. */
#include "test_kinds.h"

#define K      (&lp_kind_ranking)
#define STRICT "{}"
#define TIES   "{'allow_ties': true}"
#define TASK                                                                       \
    "{'data': {'responses': [{'id': 'a', 'text': 'x'}, {'id': 'b', 'text': 'y'}, " \
    "{'id': 'c', 'text': 'z'}]}}"
#define PLAIN "{'data': {'prompt': 'p', 'responses': ['x', 'y', 'z']}}"

TEST(ranking_params_and_task)
{
    lp_verr e;
    json_t *p;
    int rc = kt_params(K, "{}", &p, &e);
    int ties = kt_equal_at(p, "allow_ties", "false");
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(ties);
    PARAMS_ERR(K, "{'allow_tie': true}", "params.allow_tie", "is not a known field");
    PARAMS_ERR(K, "{'allow_ties': null, 'instructions': 1}", "params.instructions",
               "must be a string");
    TASK_OK(K, STRICT, TASK);
    TASK_OK(K, STRICT, PLAIN);
    TASK_ERR(K, STRICT, "{'data': {'prompt': 3, 'responses': ['x', 'y']}}", "data.prompt",
             "must be a string");
    TASK_ERR(K, STRICT, "{'data': {'responses': ['x']}}", "data.responses", "at least 2 items");
}

TEST(ranking_valid_responses_are_accepted)
{
    RESPONSE_OK(K, STRICT, TASK, "{'ranking': ['c', 'a', 'b']}");
    RESPONSE_OK(K, STRICT, PLAIN, "{'ranking': ['2', '0', '1']}");
    RESPONSE_OK(K, TIES, TASK, "{'ranking': [['a', 'c'], 'b']}");
    RESPONSE_OK(K, TIES, TASK, "{'ranking': [['a', 'b', 'c']]}");
    RESPONSE_OK(K, TIES, TASK, "{'ranking': ['b', ['c'], 'a']}");
}

TEST(ranking_bad_responses_name_the_item)
{
    RESPONSE_ERR(K, STRICT, TASK, "{'ranking': ['c', 'a']}", "response.ranking",
                 "must rank every response, and \"b\" is missing");
    RESPONSE_ERR(K, STRICT, TASK, "{'ranking': ['c', 'a', 'c']}", "response.ranking[2]",
                 "\"c\" is already ranked at response.ranking[0]");
    RESPONSE_ERR(K, STRICT, TASK, "{'ranking': ['c', 'd', 'a', 'b']}", "response.ranking[1]",
                 "\"d\" is not one of the task's responses (a, b, c)");
    RESPONSE_ERR(K, STRICT, TASK, "{'ranking': [['a', 'c'], 'b']}", "response.ranking[0]",
                 "the project does not allow ties");
    RESPONSE_ERR(K, STRICT, PLAIN, "{'ranking': [2, 0, 1]}", "response.ranking[0]",
                 "must be a response id (a string), not a number");
    RESPONSE_ERR(K, TIES, TASK, "{'ranking': [['a', 'c'], ['b', 'a']]}", "response.ranking[1][1]",
                 "\"a\" is already ranked at response.ranking[0]");
    RESPONSE_ERR(K, TIES, TASK, "{'ranking': [[], 'a', 'b', 'c']}", "response.ranking[0]",
                 "must not be empty");
    RESPONSE_ERR(K, TIES, TASK, "{'ranking': [[['a']], 'b', 'c']}", "response.ranking[0][0]",
                 "must be a response id (a string), not an array");
    RESPONSE_ERR(K, STRICT, TASK, "{'ranking': []}", "response.ranking", "at least 1 item");
    RESPONSE_ERR(K, STRICT, TASK, "{'ranking': 'abc'}", "response.ranking", "must be an array");
    RESPONSE_ERR(K, STRICT, TASK, "{'order': ['a', 'b', 'c']}", "response.order",
                 "is not a known field");
}

#define FOUR                                                                              \
    "{'data': {'responses': [{'id': 'a', 'text': 'w'}, {'id': 'b', 'text': 'x'}, {'id': " \
    "'c', 'text': 'y'}, {'id': 'd', 'text': 'z'}]}}"

TEST(ranking_score_is_the_share_of_pairs_in_the_same_order)
{
    const char *ref = "{'ranking': ['a', 'b', 'c', 'd']}";
    CHECK_NEAR(kt_score(K, STRICT, FOUR, "{'ranking': ['a', 'b', 'c', 'd']}", ref), 1, 0);
    /* One swapped pair of 6, then two. */
    CHECK_NEAR(kt_score(K, STRICT, FOUR, "{'ranking': ['a', 'b', 'd', 'c']}", ref), 5.0 / 6, 1e-12);
    CHECK_NEAR(kt_score(K, STRICT, FOUR, "{'ranking': ['b', 'a', 'd', 'c']}", ref), 4.0 / 6, 1e-12);
    /* The first moved to the end breaks its 3 pairs. */
    CHECK_NEAR(kt_score(K, STRICT, FOUR, "{'ranking': ['b', 'c', 'd', 'a']}", ref), 3.0 / 6, 1e-12);
    CHECK_NEAR(kt_score(K, STRICT, FOUR, "{'ranking': ['d', 'c', 'b', 'a']}", ref), 0, 0);
    CHECK_NEAR(
        kt_score(K, STRICT, PLAIN, "{'ranking': ['1', '0', '2']}", "{'ranking': ['0', '1', '2']}"),
        2.0 / 3, 1e-12);
}

TEST(ranking_score_counts_a_pair_tied_on_one_side_half)
{
    CHECK_NEAR(
        kt_score(K, TIES, TASK, "{'ranking': [['a', 'c'], 'b']}", "{'ranking': [['c', 'a'], 'b']}"),
        1, 0);
    /* a-b and a-c agree, b-c is tied in the reference only. */
    CHECK_NEAR(
        kt_score(K, TIES, TASK, "{'ranking': ['a', 'b', 'c']}", "{'ranking': ['a', ['b', 'c']]}"),
        2.5 / 3, 1e-12);
    CHECK_NEAR(
        kt_score(K, TIES, TASK, "{'ranking': ['a', 'b', 'c']}", "{'ranking': [['a', 'b', 'c']]}"),
        0.5, 1e-12);
    /* a-b tied in the reference, a-c and b-c reversed. */
    CHECK_NEAR(
        kt_score(K, TIES, TASK, "{'ranking': ['c', 'b', 'a']}", "{'ranking': [['a', 'b'], 'c']}"),
        0.5 / 3, 1e-12);
}

TEST(ranking_consolidates_by_weighted_borda)
{
    double conf;
    const char *r[] = {"{'ranking': ['a', 'b', 'c']}", "{'ranking': ['a', 'c', 'b']}",
                       "{'ranking': ['b', 'a', 'c']}"};
    json_t *out = kt_aggregate(K, STRICT, TASK, r, NULL, 3, &conf);
    int ok = out && kt_equal_at(out, "ranking", "['a', 'b', 'c']");
    json_decref(out);
    CHECK(ok);
    /* concordance with a > b > c: 1, 2/3, 2/3 */
    CHECK_NEAR(conf, (1 + 2.0 / 3 + 2.0 / 3) / 3, 1e-12);
    /* The third ranking weighing 5 puts b first. */
    double w[] = {1, 1, 5};
    out = kt_aggregate(K, STRICT, TASK, r, w, 3, &conf);
    ok = out && kt_equal_at(out, "ranking", "['b', 'a', 'c']");
    json_decref(out);
    CHECK(ok);
    /* Equal points: a tie where the project allows one, else the first
     * ranking's order; tied groups in the answers share their points. */
    const char *split[] = {"{'ranking': ['a', 'b', 'c']}", "{'ranking': ['b', 'a', 'c']}"};
    out = kt_aggregate(K, TIES, TASK, split, NULL, 2, &conf);
    ok = out && kt_equal_at(out, "ranking", "[['a', 'b'], 'c']");
    json_decref(out);
    CHECK(ok);
    out = kt_aggregate(K, STRICT, TASK, split, NULL, 2, &conf);
    ok = out && kt_equal_at(out, "ranking", "['a', 'b', 'c']");
    json_decref(out);
    CHECK(ok);
    /* a and c tied first share 1.5 points each: c 2.5, b 2, a 1.5 */
    const char *tied[] = {"{'ranking': [['a', 'c'], 'b']}", "{'ranking': ['b', 'c', 'a']}"};
    out = kt_aggregate(K, TIES, TASK, tied, NULL, 2, &conf);
    ok = out && kt_equal_at(out, "ranking", "['c', 'b', 'a']");
    json_decref(out);
    CHECK(ok);
}
