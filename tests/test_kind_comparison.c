/* test_kind_comparison.c -- params, tasks, responses and errors of the
 * comparison kind (RLHF preference). */
#include "test_kinds.h"

#define K       (&lp_kind_comparison)
#define DEF     "{}"
#define NOTIE   "{'allow_tie': false}"
#define STRONG  "{'strength': true}"
#define ASPECTS "{'aspects': ['accuracy', {'name': 'style', 'description': 'Tone'}]}"
#define TASK                                                                  \
    "{'data': {'prompt': 'Say hi', 'responses': [{'id': 'a', 'text': 'Hi'}, " \
    "{'id': 'b', 'text': 'Hello', 'model': 'm2'}]}}"
#define PLAIN "{'data': {'prompt': 'Say hi', 'responses': ['Hi', 'Hello', 'Hey']}}"

TEST(comparison_params_are_normalised)
{
    lp_verr e;
    json_t *p;
    int rc = kt_params(K, "{}", &p, &e);
    int same = kt_equal_at(p, "",
                           "{'allow_tie': true, 'allow_both_bad': true, 'strength': false, "
                           "'aspects': [], 'justification': 'optional'}");
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(same);
    rc = kt_params(K, ASPECTS, &p, &e);
    same = kt_equal_at(p, "aspects",
                       "[{'name': 'accuracy'}, {'name': 'style', 'description': "
                       "'Tone'}]");
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(same);
}

TEST(comparison_bad_params_name_the_field)
{
    PARAMS_ERR(K, "{'justification': 'sometimes'}", "params.justification",
               "\"sometimes\" is not a justification mode; use required, optional or none");
    PARAMS_ERR(K, "{'justification': true}", "params.justification", "must be a string");
    PARAMS_ERR(K, "{'allow_tie': 'no'}", "params.allow_tie", "must be true or false");
    PARAMS_ERR(K, "{'strength': 3}", "params.strength", "must be true or false");
    PARAMS_ERR(K, "{'aspects': ['style', 'style']}", "params.aspects[1]", "\"style\"");
    PARAMS_ERR(K, "{'allow_ties': true}", "params.allow_ties", "is not a known field");
}

TEST(comparison_task_needs_a_prompt_and_two_responses)
{
    TASK_OK(K, DEF, TASK);
    TASK_OK(K, DEF, PLAIN);
    TASK_ERR(K, DEF, "{'data': {'responses': ['a', 'b']}}", "data.prompt", "is required");
    TASK_ERR(K, DEF, "{'data': {'prompt': '', 'responses': ['a', 'b']}}", "data.prompt",
             "must not be empty");
    TASK_ERR(K, DEF, "{'data': {'prompt': 'p', 'responses': ['only']}}", "data.responses",
             "at least 2 items");
    TASK_ERR(K, DEF, "{'data': {'prompt': 'p'}}", "data.responses", "is required");
    TASK_ERR(K, DEF, "{'data': {'prompt': 'p', 'responses': {'a': 'x'}}}", "data.responses",
             "must be an array, not an object");
    TASK_ERR(K, DEF, "{'data': 'p'}", "data", "must be an object, not a string");
    TASK_ERR(K, DEF, "{}", "data", "must be an object");
    TASK_ERR(K, DEF,
             "{'data': {'prompt': 'p', 'responses': [{'id': 'a', 'text': 'x'}, "
             "{'id': 'a', 'text': 'y'}]}}",
             "data.responses[1].id", "\"a\" is already the id of data.responses[0]");
    TASK_ERR(K, DEF, "{'data': {'prompt': 'p', 'responses': ['x', {'id': '0', 'text': 'y'}]}}",
             "data.responses[1].id", "\"0\" is already the id of data.responses[0]");
    TASK_ERR(K, DEF, "{'data': {'prompt': 'p', 'responses': ['x', 5]}}", "data.responses[1]",
             "must be a string or an object with \"id\" and \"text\", not a number");
    TASK_ERR(K, DEF, "{'data': {'prompt': 'p', 'responses': [{'id': 'a'}, 'y']}}",
             "data.responses[0].text", "is required");
    TASK_ERR(K, DEF, "{'data': {'prompt': 'p', 'responses': [{'id': '', 'text': 'x'}, 'y']}}",
             "data.responses[0].id", "must not be empty");
    TASK_ERR(K, DEF,
             "{'data': {'prompt': 'p', 'responses': [{'id': 'a', 'text': 'x', "
             "'score': 1}, 'y']}}",
             "data.responses[0].score", "is not a known field");
    TASK_ERR(K, DEF, "{'data': {'prompt': 'p', 'responses': [{'id': 'tie', 'text': 'x'}, 'y']}}",
             "data.responses[0].id", "\"tie\" is reserved");
}

TEST(comparison_choice_and_tie)
{
    RESPONSE_OK(K, DEF, TASK, "{'choice': 'b'}");
    RESPONSE_OK(K, DEF, PLAIN, "{'choice': '2'}");
    RESPONSE_OK(K, DEF, TASK, "{'choice': null, 'tie': true}");
    RESPONSE_OK(K, DEF, TASK, "{'tie': true}");
    RESPONSE_OK(K, DEF, TASK, "{'choice': 'a', 'tie': false, 'justification': ''}");
    RESPONSE_ERR(K, DEF, TASK, "{'choice': 'c'}", "response.choice",
                 "\"c\" is not one of the task's responses (a, b)");
    RESPONSE_ERR(K, DEF, PLAIN, "{'choice': 1}", "response.choice",
                 "must be a response id (a string), not a number");
    RESPONSE_ERR(K, DEF, PLAIN, "{'choice': '3'}", "response.choice",
                 "\"3\" is not one of the task's responses (0, 1, 2)");
    RESPONSE_ERR(K, DEF, TASK, "{}", "response.choice", "is required");
    RESPONSE_ERR(K, DEF, TASK, "{'tie': false}", "response.choice", "is required");
    RESPONSE_ERR(K, NOTIE, TASK, "{'tie': true}", "response.tie",
                 "the project does not allow ties");
    RESPONSE_ERR(K, DEF, TASK, "{'choice': 'a', 'tie': true}", "response.choice",
                 "must be null when tie is true (got \"a\")");
    RESPONSE_ERR(K, DEF, TASK, "{'choice': 'a', 'tie': 'yes'}", "response.tie",
                 "must be true or false");
}

TEST(comparison_both_bad)
{
    RESPONSE_OK(K, DEF, TASK, "{'both_bad': true}");
    RESPONSE_OK(K, DEF, TASK, "{'both_bad': true, 'choice': null, 'tie': false}");
    RESPONSE_OK(K, DEF, TASK, "{'both_bad': false, 'choice': 'a'}");
    RESPONSE_OK(K, STRONG, TASK, "{'both_bad': true}");
    RESPONSE_ERR(K, "{'allow_both_bad': false}", TASK, "{'both_bad': true}", "response.both_bad",
                 "the project does not allow \"both bad\"");
    RESPONSE_ERR(K, DEF, TASK, "{'both_bad': true, 'tie': true}", "response.both_bad",
                 "cannot be true with tie");
    RESPONSE_ERR(K, DEF, TASK, "{'both_bad': true, 'choice': 'a'}", "response.choice",
                 "must be null when both_bad is true (got \"a\")");
    RESPONSE_ERR(K, STRONG, TASK, "{'both_bad': true, 'strength': 2}", "response.strength",
                 "must be left out for \"both bad\"");
    RESPONSE_ERR(K, DEF, TASK, "{'both_bad': 1}", "response.both_bad", "must be true or false");
    TASK_ERR(K, DEF,
             "{'data': {'prompt': 'p', 'responses': [{'id': 'both_bad', 'text': 'x'}, 'y']}}",
             "data.responses[0].id", "\"both_bad\" is reserved");
    /* "Both bad" is its own call: it matches only itself. */
    CHECK_NEAR(kt_score(K, DEF, TASK, "{'both_bad': true}", "{'both_bad': true}"), 1, 0);
    CHECK_NEAR(kt_score(K, DEF, TASK, "{'both_bad': true}", "{'tie': true}"), 0, 0);
    CHECK_NEAR(kt_score(K, DEF, TASK, "{'choice': 'a'}", "{'both_bad': true}"), 0, 0);
}

TEST(comparison_strength)
{
    RESPONSE_OK(K, STRONG, TASK, "{'choice': 'a', 'strength': 3}");
    RESPONSE_OK(K, STRONG, TASK, "{'tie': true}");
    RESPONSE_ERR(K, STRONG, TASK, "{'choice': 'a'}", "response.strength", "is required");
    RESPONSE_ERR(K, STRONG, TASK, "{'choice': 'a', 'strength': 4}", "response.strength",
                 "must be between 1 and 3 (got 4)");
    RESPONSE_ERR(K, STRONG, TASK, "{'choice': 'a', 'strength': 'much'}", "response.strength",
                 "must be an integer, not a string");
    RESPONSE_ERR(K, STRONG, TASK, "{'tie': true, 'strength': 1}", "response.strength",
                 "must be left out for a tie");
    RESPONSE_ERR(K, DEF, TASK, "{'choice': 'a', 'strength': 1}", "response.strength",
                 "the project does not ask for strength");
}

TEST(comparison_aspects)
{
    RESPONSE_OK(K, ASPECTS, TASK, "{'choice': 'a', 'aspects': {'accuracy': 'b', 'style': 'tie'}}");
    RESPONSE_ERR(K, ASPECTS, TASK, "{'choice': 'a'}", "response.aspects", "is required");
    RESPONSE_ERR(K, ASPECTS, TASK, "{'choice': 'a', 'aspects': {'accuracy': 'b'}}",
                 "response.aspects.style", "is required");
    RESPONSE_ERR(K, ASPECTS, TASK,
                 "{'choice': 'a', 'aspects': {'accuracy': 'b', 'style': 'a', "
                 "'speed': 'a'}}",
                 "response.aspects.speed",
                 "\"speed\" is not in the project's aspects (accuracy, style)");
    RESPONSE_ERR(K, ASPECTS, TASK, "{'choice': 'a', 'aspects': {'accuracy': 'z', 'style': 'a'}}",
                 "response.aspects.accuracy", "\"z\" is not one of the task's responses");
    RESPONSE_ERR(K, ASPECTS, TASK, "{'choice': 'a', 'aspects': ['a', 'b']}", "response.aspects",
                 "must be an object, not an array");
    RESPONSE_ERR(K, "{'allow_tie': false, 'aspects': ['style']}", TASK,
                 "{'choice': 'a', 'aspects': {'style': 'tie'}}", "response.aspects.style",
                 "the project does not allow ties");
    RESPONSE_ERR(K, DEF, TASK, "{'choice': 'a', 'aspects': {}}", "response.aspects",
                 "the project does not ask for aspects");
}

TEST(comparison_justification)
{
    RESPONSE_OK(K, "{'justification': 'required'}", TASK, "{'choice': 'a', 'justification': 'x'}");
    RESPONSE_ERR(K, "{'justification': 'required'}", TASK, "{'choice': 'a'}",
                 "response.justification", "is required");
    RESPONSE_ERR(K, "{'justification': 'required'}", TASK, "{'choice': 'a', 'justification': ''}",
                 "response.justification", "must not be empty");
    RESPONSE_OK(K, "{'justification': 'none'}", TASK, "{'choice': 'a'}");
    RESPONSE_ERR(K, "{'justification': 'none'}", TASK, "{'choice': 'a', 'justification': 'x'}",
                 "response.justification", "the project does not ask for justification");
    RESPONSE_ERR(K, DEF, TASK, "{'choice': 'a', 'justification': 5}", "response.justification",
                 "must be a string, not a number");
}

TEST(comparison_score_is_the_choice_alone)
{
    CHECK_NEAR(kt_score(K, DEF, TASK, "{'choice': 'a'}", "{'choice': 'a'}"), 1, 0);
    CHECK_NEAR(kt_score(K, DEF, TASK, "{'choice': 'b'}", "{'choice': 'a'}"), 0, 0);
    CHECK_NEAR(kt_score(K, DEF, TASK, "{'tie': true}", "{'tie': true, 'choice': null}"), 1, 0);
    CHECK_NEAR(kt_score(K, DEF, TASK, "{'tie': true}", "{'choice': 'a', 'tie': false}"), 0, 0);
    CHECK_NEAR(kt_score(K, DEF, TASK, "{'choice': 'a'}", "{'tie': true}"), 0, 0);
    /* Strength, aspects and justification are not scored. */
    CHECK_NEAR(kt_score(K, STRONG, TASK, "{'choice': 'b', 'strength': 1}",
                        "{'choice': 'b', 'strength': 3}"),
               1, 0);
    CHECK_NEAR(kt_score(K, ASPECTS, TASK,
                        "{'choice': 'a', 'aspects': {'accuracy': 'b', 'style': 'tie'}, "
                        "'justification': 'Shorter'}",
                        "{'choice': 'a', 'aspects': {'accuracy': 'a', 'style': 'a'}}"),
               1, 0);
}
