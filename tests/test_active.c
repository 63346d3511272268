/* test_active.c -- the uncertainty measures and the disagreement the
 * active-learning strategies order tasks by (active.h), on distributions
 * and answers worked by hand. */
#include <math.h>

#include "active.h"
#include "test.h"

static json_t *J(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    if (!v) fprintf(stderr, "bad JSON in test: %s\n", text);
    return v;
}

TEST(active_measures_hand_worked)
{
    const double half[] = {0.5, 0.5}, sure[] = {1, 0}, three[] = {0.7, 0.2, 0.1};
    CHECK_NEAR(lp_measure_of(half, 2, LP_MEASURE_LEAST_CONFIDENCE), 0.5, 1e-12);
    CHECK_NEAR(lp_measure_of(half, 2, LP_MEASURE_MARGIN), 1, 1e-12);
    CHECK_NEAR(lp_measure_of(half, 2, LP_MEASURE_ENTROPY), 1, 1e-12);
    for (int m = 0; m < LP_MEASURES; m++) {
        CHECK_NEAR(lp_measure_of(sure, 2, m), 0, 1e-12);
        CHECK_NEAR(lp_measure_of(three, 1, m), 0, 1e-12); /* one outcome: certain */
    }
    /* least confidence 1 - 0.7 (not rescaled by K); margin 1 - (0.7 - 0.2);
     * entropy -(0.7 ln 0.7 + 0.2 ln 0.2 + 0.1 ln 0.1) / ln 3 = 0.729847. */
    CHECK_NEAR(lp_measure_of(three, 3, LP_MEASURE_LEAST_CONFIDENCE), 0.3, 1e-12);
    CHECK_NEAR(lp_measure_of(three, 3, LP_MEASURE_MARGIN), 0.5, 1e-12);
    CHECK_NEAR(lp_measure_of(three, 3, LP_MEASURE_ENTROPY), 0.729847, 1e-6);
    /* Uniform over four: entropy 1, least confidence 3/4, margin 1. */
    const double four[] = {0.25, 0.25, 0.25, 0.25};
    CHECK_NEAR(lp_measure_of(four, 4, LP_MEASURE_ENTROPY), 1, 1e-12);
    CHECK_NEAR(lp_measure_of(four, 4, LP_MEASURE_LEAST_CONFIDENCE), 0.75, 1e-12);
    CHECK_NEAR(lp_measure_of(four, 4, LP_MEASURE_MARGIN), 1, 1e-12);
    /* Where the measures part: a close second place.  A = (0.5, 0.25,
     * 0.25), B = (0.55, 0.45): least confidence says A is less sure
     * (0.5 > 0.45), margin says B (1 - 0.1 = 0.9 > 0.75). */
    const double a[] = {0.5, 0.25, 0.25}, b[] = {0.55, 0.45};
    CHECK(lp_measure_of(a, 3, LP_MEASURE_LEAST_CONFIDENCE) >
          lp_measure_of(b, 2, LP_MEASURE_LEAST_CONFIDENCE));
    CHECK(lp_measure_of(a, 3, LP_MEASURE_MARGIN) < lp_measure_of(b, 2, LP_MEASURE_MARGIN));
    CHECK_NEAR(lp_measure_of(b, 2, LP_MEASURE_MARGIN), 0.9, 1e-12);
}

TEST(active_measure_names)
{
    CHECK_INT(lp_measure_parse("least_confidence"), LP_MEASURE_LEAST_CONFIDENCE);
    CHECK_INT(lp_measure_parse("margin"), LP_MEASURE_MARGIN);
    CHECK_INT(lp_measure_parse("entropy"), LP_MEASURE_ENTROPY);
    CHECK_INT(lp_measure_parse("Entropy"), -1);
    CHECK_INT(lp_measure_parse(NULL), -1);
    CHECK_STR(lp_measure_name(LP_MEASURE_MARGIN), "margin");
}

TEST(active_prediction_two_way_and_probabilities)
{
    json_t *p8 = J("{\"score\": 0.8}"), *p3 = J("{\"score\": 0.3}");
    /* (0.8, 0.2): 1 - 0.8; 1 - 0.6; H(0.8) / ln 2 = 0.721928. */
    CHECK_NEAR(lp_prediction_uncertainty(p8, LP_MEASURE_LEAST_CONFIDENCE), 0.2, 1e-12);
    CHECK_NEAR(lp_prediction_uncertainty(p8, LP_MEASURE_MARGIN), 0.4, 1e-12);
    CHECK_NEAR(lp_prediction_uncertainty(p8, LP_MEASURE_ENTROPY), 0.721928, 1e-6);
    /* Under one half: least confidence as before, the others fully unsure. */
    CHECK_NEAR(lp_prediction_uncertainty(p3, LP_MEASURE_LEAST_CONFIDENCE), 0.7, 1e-12);
    CHECK_NEAR(lp_prediction_uncertainty(p3, LP_MEASURE_MARGIN), 1, 1e-12);
    CHECK_NEAR(lp_prediction_uncertainty(p3, LP_MEASURE_ENTROPY), 1, 1e-12);
    /* Probabilities win over the score; what they leave is one more answer. */
    json_t *pp = J("{\"score\": 0.99, \"probabilities\": {\"a\": 0.5, \"b\": 0.25, \"c\": 0.25}}");
    json_t *rest = J("{\"score\": 0.6, \"probabilities\": {\"a\": 0.6}}");
    CHECK_NEAR(lp_prediction_uncertainty(pp, LP_MEASURE_LEAST_CONFIDENCE), 0.5, 1e-12);
    CHECK_NEAR(lp_prediction_uncertainty(pp, LP_MEASURE_MARGIN), 0.75, 1e-12);
    CHECK_NEAR(lp_prediction_uncertainty(pp, LP_MEASURE_ENTROPY), 1.5 * log(2) / log(3), 1e-12);
    CHECK_NEAR(lp_prediction_uncertainty(rest, LP_MEASURE_MARGIN), 0.8, 1e-12);
    json_t *none = J("{\"model\": \"m\"}");
    CHECK_NEAR(lp_prediction_uncertainty(none, LP_MEASURE_MARGIN), -1, 0);
    /* A task: its most confident model; 1 with none that counts. */
    json_t *preds = J("[{\"score\": 0.3}, {\"score\": 0.8}, {\"model\": \"x\"}]");
    json_t *empty = J("[]");
    CHECK_NEAR(lp_task_uncertainty(preds, LP_MEASURE_LEAST_CONFIDENCE), 0.2, 1e-12);
    CHECK_NEAR(lp_task_uncertainty(preds, LP_MEASURE_MARGIN), 0.4, 1e-12);
    CHECK_NEAR(lp_task_uncertainty(empty, LP_MEASURE_ENTROPY), 1, 0);
    CHECK_NEAR(lp_task_uncertainty(NULL, LP_MEASURE_ENTROPY), 1, 0);
    json_decref(p8), json_decref(p3), json_decref(pp), json_decref(rest), json_decref(none);
    json_decref(preds), json_decref(empty);
}

TEST(active_bad_probabilities_name_the_field)
{
    static const struct {
        const char *probs, *field;
    } cases[] = {
        {"[0.5]", "predictions[1].probabilities"},
        {"{}", "predictions[1].probabilities"},
        {"{\"a\": 1.5}", "predictions[1].probabilities.a"},
        {"{\"a\": \"x\"}", "predictions[1].probabilities.a"},
        {"{\"a\": -0.1}", "predictions[1].probabilities.a"},
        {"{\"a\": 0.7, \"b\": 0.4}", "predictions[1].probabilities"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *v = J(cases[i].probs);
        lp_verr e = {0};
        int rc = lp_check_probabilities(v, "predictions[1]", &e);
        json_decref(v);
        CHECK_INT(rc, LP_EINVAL);
        CHECK_STR(e.field, cases[i].field);
    }
    json_t *ok = J("{\"a\": 0.7, \"b\": 0.3000001}");
    lp_verr e;
    CHECK_INT(lp_check_probabilities(ok, "", &e), 0); /* within 1e-6 of 1 */
    json_decref(ok);
    /* 1,001 entries are too many. */
    json_t *big = json_object();
    for (int i = 0; i < 1001; i++) {
        char k[16];
        snprintf(k, sizeof k, "l%d", i);
        json_object_set_new(big, k, json_real(0));
    }
    CHECK_INT(lp_check_probabilities(big, "", &e), LP_EINVAL);
    CHECK_STR(e.field, "probabilities");
    json_decref(big);
}

TEST(active_disagreement_of_annotations)
{
    const lp_kind *k = &lp_kind_categorization;
    json_t *params = J("{\"labels\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}");
    json_t *task = json_object();
    json_t *a = J("{\"labels\": [\"a\"]}"), *a2 = J("{\"labels\": [\"a\"]}"),
           *b = J("{\"labels\": [\"b\"]}");
    const json_t *one[] = {a}, *same[] = {a, a2}, *split[] = {a, b}, *three[] = {a, a2, b};
    CHECK_NEAR(lp_disagreement(k, params, task, one, 1), 0, 0); /* nothing to disagree on */
    CHECK_NEAR(lp_disagreement(k, params, task, one, 0), 0, 0);
    CHECK_NEAR(lp_disagreement(k, params, task, same, 2), 0, 1e-12);
    CHECK_NEAR(lp_disagreement(k, params, task, split, 2), 1, 1e-12);
    /* pairs (a, a) 1, (a, b) 0, (a, b) 0: 1 - 1/3 */
    CHECK_NEAR(lp_disagreement(k, params, task, three, 3), 2.0 / 3, 1e-12);
    json_decref(params), json_decref(task), json_decref(a), json_decref(a2), json_decref(b);
}
