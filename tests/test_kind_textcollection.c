/* test_kind_textcollection.c -- params, responses and errors of the
 * textcollection kind, as one text and as named fields. */
#include "test_kinds.h"

#define K   (&lp_kind_textcollection)
#define ONE "{'min_length': 3, 'max_length': 5}"
#define FIELDS                                                      \
    "{'fields': ['question', {'name': 'answer', 'max_length': 8}, " \
    "{'name': 'source', 'required': false}]}"

TEST(textcollection_params_are_normalised)
{
    lp_verr e;
    json_t *p;
    int rc = kt_params(K, "{}", &p, &e);
    int same = kt_equal_at(p, "", "{'min_length': 1, 'max_length': 10000, 'fields': [], 'allow_reject': false}");
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(same);
    rc = kt_params(K,
                   "{'max_length': 50.0, 'fields': ['q', {'name': 'a', 'min_length': 0, "
                   "'required': false}]}",
                   &p, &e);
    int q = kt_equal_at(p, "fields.0",
                        "{'name': 'q', 'min_length': 1, 'max_length': 50, "
                        "'required': true}");
    int a = kt_equal_at(p, "fields.1",
                        "{'name': 'a', 'min_length': 0, 'max_length': 50, "
                        "'required': false}");
    int integer = json_is_integer(json_object_get(p, "max_length"));
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(q);
    CHECK(a);
    CHECK(integer);
}

TEST(textcollection_bad_params_name_the_field)
{
    PARAMS_ERR(K, "{'min_length': 10, 'max_length': 5}", "params.max_length",
               "must not be less than min_length (10); got 5");
    PARAMS_ERR(K, "{'min_length': -1}", "params.min_length", "must be between 0 and");
    PARAMS_ERR(K, "{'max_length': 0}", "params.max_length", "must be between 1 and");
    PARAMS_ERR(K, "{'max_length': '10'}", "params.max_length", "must be an integer");
    PARAMS_ERR(K, "{'max_length': 10, 'fields': [{'name': 'a', 'min_length': 20}]}",
               "params.fields[0].max_length", "must not be less than min_length (20); got 10");
    PARAMS_ERR(K, "{'fields': ['a', 'a']}", "params.fields[1]", "\"a\" is already the name");
    PARAMS_ERR(K, "{'fields': [{'name': 'a', 'requried': true}]}", "params.fields[0].requried",
               "is not a known field");
    PARAMS_ERR(K, "{'maxlength': 5}", "params.maxlength", "is not a known field");
}

TEST(textcollection_single_text)
{
    RESPONSE_OK(K, ONE, NULL, "{'text': 'abc'}");
    RESPONSE_OK(K, ONE, NULL, "{'text': 'ééééé'}"); /* 5 code points, 10 bytes */
    RESPONSE_ERR(K, ONE, NULL, "{'text': 'ab'}", "response.text", "at least 3 characters");
    RESPONSE_ERR(K, ONE, NULL, "{'text': 'abcdef'}", "response.text",
                 "must be at most 5 characters (has 6)");
    RESPONSE_ERR(K, "{}", NULL, "{'text': ''}", "response.text", "must not be empty");
    RESPONSE_OK(K, "{'min_length': 0}", NULL, "{'text': ''}");
    RESPONSE_ERR(K, ONE, NULL, "{}", "response.text", "is required");
    RESPONSE_ERR(K, ONE, NULL, "{'text': ['abc']}", "response.text",
                 "must be a string, not an array");
    RESPONSE_ERR(K, ONE, NULL, "{'fields': {'a': 'abc'}}", "response.fields",
                 "is not a known field");
}

TEST(textcollection_fields)
{
    RESPONSE_OK(K, FIELDS, NULL, "{'fields': {'question': 'Why?', 'answer': 'Because'}}");
    RESPONSE_OK(K, FIELDS, NULL,
                "{'fields': {'question': 'Why?', 'answer': 'Because', "
                "'source': 'me'}}");
    RESPONSE_ERR(K, FIELDS, NULL, "{'fields': {'question': 'Why?'}}", "response.fields.answer",
                 "is required");
    RESPONSE_ERR(K, FIELDS, NULL, "{'fields': {'question': 'Why?', 'answer': 'Because!!'}}",
                 "response.fields.answer", "must be at most 8 characters (has 9)");
    RESPONSE_ERR(K, FIELDS, NULL, "{'fields': {'question': '', 'answer': 'x'}}",
                 "response.fields.question", "must not be empty");
    RESPONSE_ERR(K, FIELDS, NULL, "{'fields': {'question': 'q', 'answer': 'x', 'notes': 'n'}}",
                 "response.fields.notes",
                 "\"notes\" is not in the project's fields (question, answer, source)");
    RESPONSE_ERR(K, FIELDS, NULL, "{'fields': {'question': 1, 'answer': 'x'}}",
                 "response.fields.question", "must be a string, not a number");
    RESPONSE_ERR(K, FIELDS, NULL, "{'text': 'Why?'}", "response.text", "is not a known field");
    RESPONSE_ERR(K, FIELDS, NULL, "{}", "response.fields", "is required");
    RESPONSE_ERR(K, FIELDS, NULL, "{'fields': 'Why?'}", "response.fields",
                 "must be an object, not a string");
}

/* Drafts to accept, fix or reject (a model's synthetic data): a rejection
 * only where the project allows it, and it matches only a rejection. */
TEST(textcollection_rejecting_a_draft)
{
#define REJ "{'allow_reject': true}"
    RESPONSE_OK(K, REJ, NULL, "{'rejected': true}");
    RESPONSE_OK(K, REJ, NULL, "{'rejected': true, 'reason': 'off topic'}");
    RESPONSE_OK(K, REJ, NULL, "{'text': 'fixed draft'}");
    RESPONSE_ERR(K, "{}", NULL, "{'rejected': true}", "response.rejected",
                 "the project does not allow rejecting");
    RESPONSE_ERR(K, REJ, NULL, "{'rejected': false, 'text': 'x'}", "response.rejected",
                 "must be true, or left out");
    RESPONSE_ERR(K, REJ, NULL, "{'rejected': true, 'text': 'x'}", "response.text",
                 "is not a known field");
    RESPONSE_ERR(K, REJ, NULL, "{'rejected': true, 'reason': 5}", "response.reason",
                 "must be a string");
    PARAMS_ERR(K, "{'allow_reject': 'yes'}", "params.allow_reject", "must be");
    CHECK_NEAR(kt_score(K, REJ, NULL, "{'rejected': true}", "{'rejected': true, 'reason': 'x'}"),
               1, 0);
    CHECK_NEAR(kt_score(K, REJ, NULL, "{'rejected': true}", "{'text': 'a'}"), 0, 0);
    CHECK_NEAR(kt_score(K, REJ, NULL, "{'text': 'a'}", "{'rejected': true}"), 0, 0);
#undef REJ
}

TEST(textcollection_score_compares_normalised_text)
{
    CHECK_NEAR(
        kt_score(K, "{}", NULL, "{'text': '  Hello \\t\\n World '}", "{'text': 'hello world'}"), 1,
        0);
    CHECK_NEAR(kt_score(K, "{}", NULL, "{'text': 'hello world!'}", "{'text': 'hello world'}"), 0,
               0);
    CHECK_NEAR(kt_score(K, "{}", NULL, "{'text': 'helloworld'}", "{'text': 'hello world'}"), 0, 0);
    CHECK_NEAR(kt_score(K, "{}", NULL, "{'text': 'hello'}", "{'text': 'hello world'}"), 0, 0);
    /* Only ASCII letters are folded. */
    CHECK_NEAR(kt_score(K, "{}", NULL, "{'text': '\\u00c9mile'}", "{'text': '\\u00e9mile'}"), 0, 0);
}

TEST(textcollection_score_averages_the_reference_fields)
{
    const char *ref = "{'fields': {'question': 'Why?', 'answer': 'Because'}}";
    CHECK_NEAR(
        kt_score(K, FIELDS, NULL, "{'fields': {'question': 'WHY? ', 'answer': 'because'}}", ref), 1,
        0);
    CHECK_NEAR(
        kt_score(K, FIELDS, NULL, "{'fields': {'question': 'why?', 'answer': 'Since'}}", ref), 0.5,
        1e-12);
    /* A field only the response fills is not counted; one only the
     * reference fills counts as wrong. */
    CHECK_NEAR(kt_score(K, FIELDS, NULL,
                        "{'fields': {'question': 'Why?', 'answer': 'Because', 'source': 'me'}}",
                        ref),
               1, 0);
    CHECK_NEAR(kt_score(K, FIELDS, NULL, "{'fields': {'question': 'Why?', 'answer': 'Because'}}",
                        "{'fields': {'question': 'Why?', 'answer': 'Because', 'source': 'Wiki'}}"),
               2.0 / 3, 1e-12);
    const char *optional = "{'fields': [{'name': 'a', 'required': false}]}";
    CHECK_NEAR(kt_score(K, optional, NULL, "{'fields': {}}", "{'fields': {}}"), 1, 0);
    CHECK_NEAR(kt_score(K, optional, NULL, "{'fields': {'a': 'x'}}", "{'fields': {}}"), 0, 0);
}
