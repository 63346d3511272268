/* test_kind_ner.c -- params, tasks, responses and errors of the
 * namedentityrecognition kind, with code-point offsets in non-ASCII text. */
#include "test_kinds.h"

#define K     (&lp_kind_namedentityrecognition)
#define P     "{'labels': ['PER', 'LOC'], 'relations': ['lives_in']}"
#define NOREL "{'labels': ['PER', 'LOC']}"
/* "Zoë lives in Zürich": Zoë is [0, 3), Zürich is [13, 19); 19 code points
 * but 21 bytes. */
#define ZOE                     "{'data': {'text': 'Zoë lives in Zürich'}}"
#define SPAN(start, end, label) "{'start': " #start ", 'end': " #end ", 'label': '" label "'}"

TEST(ner_params_are_normalised)
{
    lp_verr e;
    json_t *p;
    int rc = kt_params(K, "{'labels': ['PER']}", &p, &e);
    int relations = kt_equal_at(p, "relations", "[]");
    int labels = kt_equal_at(p, "labels", "[{'name': 'PER'}]");
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(relations);
    CHECK(labels);
    rc = kt_params(K, P, &p, &e);
    relations = kt_equal_at(p, "relations", "[{'name': 'lives_in'}]");
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(relations);
}

TEST(ner_bad_params_name_the_field)
{
    PARAMS_ERR(K, "{'relations': ['r']}", "params.labels", "is required");
    PARAMS_ERR(K, "{'labels': ['PER'], 'relations': 'r'}", "params.relations", "must be an array");
    PARAMS_ERR(K, "{'labels': ['PER'], 'relations': ['r', 'r']}", "params.relations[1]",
               "\"r\" is already the name of params.relations[0]");
    PARAMS_ERR(K, "{'labels': ['PER'], 'relation': ['r']}", "params.relation",
               "is not a known field");
}

TEST(ner_task_text_comes_from_data_or_a_text_attachment)
{
    TASK_OK(K, P, ZOE);
    TASK_OK(K, P,
            "{'attachments': [{'type': 'image', 'url': 'u'}, {'type': 'text', 'url': 'u'}, "
            "{'type': 'text', 'content': 'Zoë'}], 'data': {}}");
    TASK_ERR(K, P, "{'attachments': [{'type': 'text', 'url': 'https://x/a.txt'}], 'data': {}}",
             "data.text", "is required");
    TASK_ERR(K, P, "{'data': {'text': 5}}", "data.text", "must be a string, not a number");
    TASK_ERR(K, P, "{}", "data.text", "is required");
}

TEST(ner_offsets_count_code_points)
{
    RESPONSE_OK(K, P, ZOE, "{'spans': [" SPAN(0, 3, "PER") ", " SPAN(13, 19, "LOC") "]}");
    RESPONSE_OK(K, P, ZOE,
                "{'spans': [{'start': 13, 'end': 19, 'label': 'LOC', 'text': 'Zürich'}, "
                "{'start': 0, 'end': 3, 'label': 'PER', 'text': 'Zoë'}]}");
    /* Byte offsets (as a UTF-8 client might send) run past the text. */
    RESPONSE_ERR(K, P, ZOE, "{'spans': [" SPAN(14, 21, "LOC") "]}", "response.spans[0].end",
                 "must be at most 19, the length of the text in characters (got 21)");
    RESPONSE_ERR(K, P, ZOE,
                 "{'spans': [{'start': 13, 'end': 19, 'label': 'LOC', 'text': 'Zurich'}]}",
                 "response.spans[0].text",
                 "\"Zurich\" does not match the text from 13 to 19, which is \"Zürich\"");
    RESPONSE_ERR(K, P, ZOE, "{'spans': [{'start': 0, 'end': 2, 'label': 'PER', 'text': 'Zoë'}]}",
                 "response.spans[0].text", "which is \"Zo\"");
    /* The text from an attachment, with a character outside the BMP. */
    RESPONSE_OK(K, P, "{'attachments': [{'type': 'text', 'content': '😀 Zoë'}], 'data': {}}",
                "{'spans': [{'start': 2, 'end': 5, 'label': 'PER', 'text': 'Zoë'}]}");
}

TEST(ner_span_errors_name_the_field)
{
    RESPONSE_OK(K, P, ZOE, "{'spans': []}");
    RESPONSE_OK(K, P, ZOE, "{'spans': [" SPAN(0, 19, "LOC") ", " SPAN(0, 3, "PER") "]}");
    RESPONSE_ERR(K, P, ZOE, "{'spans': [" SPAN(3, 3, "PER") "]}", "response.spans[0].end",
                 "must be greater than start (3); got 3");
    RESPONSE_ERR(K, P, ZOE, "{'spans': [" SPAN(-1, 3, "PER") "]}", "response.spans[0].start",
                 "must not be negative (got -1)");
    RESPONSE_ERR(K, P, ZOE, "{'spans': [" SPAN(0, 3, "ORG") "]}", "response.spans[0].label",
                 "\"ORG\" is not in the project's labels (PER, LOC)");
    RESPONSE_ERR(K, P, ZOE, "{'spans': [{'start': 0.5, 'end': 3, 'label': 'PER'}]}",
                 "response.spans[0].start", "must be an integer");
    RESPONSE_ERR(K, P, ZOE, "{'spans': [{'start': '0', 'end': 3, 'label': 'PER'}]}",
                 "response.spans[0].start", "must be an integer, not a string");
    RESPONSE_ERR(K, P, ZOE, "{'spans': [{'start': 0, 'end': 3, 'label': 'PER', 'text': 3}]}",
                 "response.spans[0].text", "must be a string, not a number");
    RESPONSE_ERR(K, P, ZOE, "{'spans': [{'start': 0, 'end': 3}]}", "response.spans[0].label",
                 "is required");
    RESPONSE_ERR(K, P, ZOE, "{'spans': [{'begin': 0, 'end': 3, 'label': 'PER'}]}",
                 "response.spans[0].begin", "is not a known field");
    RESPONSE_ERR(K, P, ZOE, "{'spans': [" SPAN(0, 9223372036854775807, "PER") "]}",
                 "response.spans[0].end", "must be at most 19");
    RESPONSE_ERR(K, P, ZOE, "{'spans': {}}", "response.spans", "must be an array");
    RESPONSE_ERR(K, P, "{'data': {}}", "{'spans': []}", "response", "the task has no text");
}

TEST(ner_relation_errors_name_the_field)
{
    const char *two = "{'spans': [" SPAN(0, 3, "PER") ", " SPAN(13, 19, "LOC") "], 'relations': ";
    char r[512];
    snprintf(r, sizeof r, "%s[{'from': 0, 'to': 1, 'label': 'lives_in'}]}", two);
    RESPONSE_OK(K, P, ZOE, r);
    RESPONSE_ERR(K, NOREL, ZOE, r, "response.relations",
                 "must be empty, since the project has no relation labels");
    snprintf(r, sizeof r, "%s[]}", two);
    RESPONSE_OK(K, NOREL, ZOE, r);
    snprintf(r, sizeof r, "%s[{'from': 0, 'to': 2, 'label': 'lives_in'}]}", two);
    RESPONSE_ERR(K, P, ZOE, r, "response.relations[0].to",
                 "must be the index of a span, and the response has 2 (got 2)");
    snprintf(r, sizeof r, "%s[{'from': 1, 'to': 1, 'label': 'lives_in'}]}", two);
    RESPONSE_ERR(K, P, ZOE, r, "response.relations[0].to", "must differ from \"from\" (1)");
    snprintf(r, sizeof r, "%s[{'from': 0, 'to': 1, 'label': 'works_at'}]}", two);
    RESPONSE_ERR(K, P, ZOE, r, "response.relations[0].label",
                 "\"works_at\" is not in the project's relation labels (lives_in)");
    snprintf(r, sizeof r, "%s[{'from': -1, 'to': 1, 'label': 'lives_in'}]}", two);
    RESPONSE_ERR(K, P, ZOE, r, "response.relations[0].from", "must not be negative");
    snprintf(r, sizeof r, "%s[[0, 1]]}", two);
    RESPONSE_ERR(K, P, ZOE, r, "response.relations[0]", "must be an object, not an array");
}

TEST(ner_utf8_offset_slices_by_code_point)
{
    const char *s = "Zoë lives in Zürich";
    size_t n = strlen(s);
    CHECK_INT(n, 21);
    CHECK_INT(lp_utf8_len(s, n), 19);
    CHECK_INT(lp_utf8_offset(s, n, 0), 0);
    CHECK_INT(lp_utf8_offset(s, n, 3), 4);
    CHECK_INT(lp_utf8_offset(s, n, 13), 14);
    CHECK_INT(lp_utf8_offset(s, n, 19), 21);
    CHECK_INT(lp_utf8_offset(s, n, 500), 21);
}

#define PER SPAN(0, 3, "PER")
#define LOC SPAN(13, 19, "LOC")

TEST(ner_score_is_the_f1_of_exact_spans)
{
    const char *ref = "{'spans': [" PER ", " LOC "]}";
    CHECK_NEAR(kt_score(K, NOREL, ZOE, "{'spans': [" LOC ", " PER "]}", ref), 1, 0);
    /* One of two found: 2 * 1 / (1 + 2). */
    CHECK_NEAR(kt_score(K, NOREL, ZOE, "{'spans': [" PER "]}", ref), 2.0 / 3, 1e-12);
    /* One end off by one, or the wrong label, is a miss and a false hit. */
    CHECK_NEAR(kt_score(K, NOREL, ZOE, "{'spans': [" PER ", " SPAN(13, 18, "LOC") "]}", ref), 0.5,
               1e-12);
    CHECK_NEAR(kt_score(K, NOREL, ZOE, "{'spans': [" PER ", " SPAN(13, 19, "PER") "]}", ref), 0.5,
               1e-12);
    /* An extra span: 2 * 2 / (3 + 2). */
    CHECK_NEAR(kt_score(K, NOREL, ZOE, "{'spans': [" PER ", " LOC ", " SPAN(4, 9, "LOC") "]}", ref),
               0.8, 1e-12);
    /* A repeated span matches once. */
    CHECK_NEAR(kt_score(K, NOREL, ZOE, "{'spans': [" PER ", " PER "]}", "{'spans': [" PER "]}"),
               2.0 / 3, 1e-12);
    CHECK_NEAR(kt_score(K, NOREL, ZOE, "{'spans': []}", "{'spans': []}"), 1, 0);
    CHECK_NEAR(kt_score(K, NOREL, ZOE, "{'spans': []}", ref), 0, 0);
}

TEST(ner_score_counts_relations_by_the_spans_they_join)
{
    const char *ref = "{'spans': [" PER ", " LOC "], 'relations': [{'from': 0, 'to': 1, "
                      "'label': 'lives_in'}]}";
    /* The same relation between the same spans listed in another order. */
    CHECK_NEAR(kt_score(K, P, ZOE,
                        "{'spans': [" LOC ", " PER "], 'relations': [{'from': 1, 'to': 0, "
                        "'label': 'lives_in'}]}",
                        ref),
               1, 0);
    /* Missing, or the wrong way round: 2 * 2 / (2 + 3) and 2 * 2 / (3 + 3). */
    CHECK_NEAR(kt_score(K, P, ZOE, "{'spans': [" PER ", " LOC "]}", ref), 0.8, 1e-12);
    CHECK_NEAR(kt_score(K, P, ZOE,
                        "{'spans': [" PER ", " LOC "], 'relations': [{'from': 1, 'to': 0, "
                        "'label': 'lives_in'}]}",
                        ref),
               4.0 / 6, 1e-12);
    /* A relation between spans that are not the reference's. */
    CHECK_NEAR(kt_score(K, P, ZOE,
                        "{'spans': [" PER
                        ", " SPAN(13, 18, "LOC") "], 'relations': [{'from': 0, "
                                                 "'to': 1, 'label': 'lives_in'}]}",
                        ref),
               2.0 / 6, 1e-12);
}

/* ---- Consolidation (aggregate) ------------------------------------------ */

/* Tokens: Alice [0, 5), met [6, 9), Bob [10, 13), in [14, 16), Paris
 * [17, 22), "." [22, 23). */
#define MET "{'data': {'text': 'Alice met Bob in Paris.'}}"

TEST(ner_aggregate_keeps_majority_spans_with_the_majority_label)
{
    /* Alice: all three; Bob: two of three; Paris: all three, LOC for two
     * and PER for one; "met": one worker only.  The first worker's
     * relation does not carry over. */
    const char *r[] = {
        "{'spans': [" SPAN(0, 5, "PER") ", " SPAN(10, 13, "PER") ", " SPAN(
            17, 22, "LOC") "], 'relations': [{'from': 0, 'to': 2, 'label': 'lives_in'}]}",
        "{'spans': [" SPAN(0, 5, "PER") ", " SPAN(17, 22, "LOC") "]}",
        "{'spans': [" SPAN(0, 5, "PER") ", " SPAN(6, 9, "LOC") ", " SPAN(10, 13, "PER") ", " SPAN(
            17, 22, "PER") "]}",
    };
    double conf;
    json_t *out = kt_aggregate(K, P, MET, r, NULL, 3, &conf);
    CHECK(out != NULL);
    int equal = kt_equal_at(out, "",
                            "{'spans': [{'start': 0, 'end': 5, 'label': 'PER', 'text': 'Alice'}, "
                            "{'start': 10, 'end': 13, 'label': 'PER', 'text': 'Bob'}, "
                            "{'start': 17, 'end': 22, 'label': 'LOC', 'text': 'Paris'}]}");
    json_decref(out);
    CHECK(equal);
    CHECK_NEAR(conf, (1 + 2.0 / 3 + 2.0 / 3) / 3, 1e-12);

    /* The third worker weighs 3 of 5: "met" and its label for Paris win. */
    double w[] = {1, 1, 3};
    out = kt_aggregate(K, P, MET, r, w, 3, &conf);
    CHECK(out != NULL);
    equal = kt_equal_at(out, "spans",
                        "[{'start': 0, 'end': 5, 'label': 'PER', 'text': 'Alice'}, "
                        "{'start': 6, 'end': 9, 'label': 'LOC', 'text': 'met'}, "
                        "{'start': 10, 'end': 13, 'label': 'PER', 'text': 'Bob'}, "
                        "{'start': 17, 'end': 22, 'label': 'PER', 'text': 'Paris'}]");
    json_decref(out);
    CHECK(equal);
}

TEST(ner_aggregate_counts_workers_who_marked_nothing)
{
    const char *r[] = {"{'spans': [" SPAN(0, 5, "PER") "]}", "{'spans': [" SPAN(0, 5, "PER") "]}",
                       "{'spans': []}", "{'spans': []}"};
    double conf;
    /* Two of four is not a majority. */
    json_t *out = kt_aggregate(K, NOREL, MET, r, NULL, 4, &conf);
    CHECK(out != NULL);
    int empty = kt_equal_at(out, "", "{'spans': []}");
    json_decref(out);
    CHECK(empty);
    CHECK_NEAR(conf, 0.5, 1e-12);
    /* Nobody marked anything: all agree. */
    out = kt_aggregate(K, NOREL, MET, r + 2, NULL, 2, &conf);
    CHECK(out != NULL);
    empty = kt_equal_at(out, "", "{'spans': []}");
    json_decref(out);
    CHECK(empty);
    CHECK_NEAR(conf, 1, 0);
}

TEST(ner_aggregate_snaps_spans_to_words_in_code_points)
{
    /* "Zoë lives in Zürich": one worker marks only "Zo", which the vote
     * widens to the word; the result quotes the text it covers. */
    const char *r[] = {
        "{'spans': [" SPAN(0, 3, "PER") ", " SPAN(13, 19, "LOC") "]}",
        "{'spans': [{'start': 0, 'end': 2, 'label': 'PER', 'text': 'Zo'}, " SPAN(13, 19,
                                                                                 "LOC") "]}",
        "{'spans': [" SPAN(13, 19, "LOC") "]}",
    };
    double conf;
    json_t *out = kt_aggregate(K, NOREL, ZOE, r, NULL, 3, &conf);
    CHECK(out != NULL);
    int equal = kt_equal_at(out, "spans",
                            "[{'start': 0, 'end': 3, 'label': 'PER', 'text': 'Zoë'}, "
                            "{'start': 13, 'end': 19, 'label': 'LOC', 'text': 'Zürich'}]");
    json_decref(out);
    CHECK(equal);
    CHECK_NEAR(conf, (2.0 / 3 + 1) / 2, 1e-12);
}
