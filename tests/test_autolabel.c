/* test_autolabel.c -- the pure part of auto-labeling (autolabel.h): the
 * threshold chosen for a target precision over held-out pairs, with its
 * edge cases (no pairs, too few, all wrong, ties), the Wilson interval,
 * and the project setting's checks. */
#include <string.h>

#include "autolabel.h"
#include "test.h"

/* n pairs scored from hi down by step, right unless wrong(i). */
static void fill(lp_autolabel_pair *v, size_t n, double hi, double step, int (*wrong)(size_t))
{
    for (size_t i = 0; i < n; i++) v[i] = (lp_autolabel_pair){hi - step * (double)i, !wrong(i)};
}

static int none_wrong(size_t i)
{
    (void)i;
    return 0;
}
static int all_wrong(size_t i)
{
    (void)i;
    return 1;
}
/* right down to the 80th pair, then one in two wrong */
static int lower_half_wrong(size_t i)
{
    return i >= 80 && i % 2;
}

TEST(autolabel_no_pairs_or_too_few_give_no_threshold)
{
    lp_autolabel_fit f;
    lp_autolabel_choose(NULL, 0, 0.95, 100, 20, &f);
    CHECK_INT(f.found, 0);
    CHECK_INT(f.holdout, 0);
    lp_autolabel_pair v[99];
    fill(v, 99, 0.99, 0.001, none_wrong);
    lp_autolabel_choose(v, 99, 0.95, 100, 20, &f);
    CHECK_INT(f.found, 0); /* all right, but one short of min_holdout */
    CHECK_INT(f.holdout, 99);
    CHECK_INT(f.correct, 99);
}

TEST(autolabel_all_wrong_gives_no_threshold)
{
    lp_autolabel_pair v[200];
    fill(v, 200, 0.99, 0.002, all_wrong);
    lp_autolabel_fit f;
    lp_autolabel_choose(v, 200, 0.5, 100, 20, &f);
    CHECK_INT(f.found, 0);
    CHECK_INT(f.correct, 0);
}

TEST(autolabel_threshold_is_the_lowest_score_meeting_the_target)
{
    /* 160 pairs, scores 0.99 down by 0.005: pairs 0..80 right, then the
     * odd ones wrong.  Down to pair 100 (score 0.49) 91 of 101 are right,
     * 0.901; pair 101 is wrong and 91/102 = 0.892, and it only falls
     * further: 0.49 is the lowest threshold meeting 0.9. */
    lp_autolabel_pair v[160];
    fill(v, 160, 0.99, 0.005, lower_half_wrong);
    lp_autolabel_fit f;
    lp_autolabel_choose(v, 160, 0.9, 100, 20, &f);
    CHECK_INT(f.found, 1);
    CHECK_NEAR(f.threshold, 0.49, 1e-9);
    CHECK_INT(f.above, 101);
    CHECK_INT(f.above_right, 91);
    CHECK_NEAR(f.precision, 91.0 / 101.0, 1e-12);
    CHECK(f.low < f.precision && f.precision < f.high);
    /* 0.99 allows none of the wrong ones: pair 81, the first wrong one,
     * makes 81/82 = 0.988, so the threshold is pair 80's score. */
    lp_autolabel_choose(v, 160, 0.99, 100, 20, &f);
    CHECK_INT(f.found, 1);
    CHECK_INT(f.above, 81);
    CHECK_INT(f.above_right, 81);
    CHECK_NEAR(f.threshold, 0.99 - 80 * 0.005, 1e-9);
    CHECK_NEAR(f.precision, 1.0, 1e-12);
}

TEST(autolabel_pairs_that_tie_on_a_score_are_taken_together)
{
    /* 30 right pairs at 0.9, then 100 pairs all scored 0.8 of which 50
     * are wrong: at 0.8 the precision is 80/130 = 0.62, so for 0.9 the
     * threshold is 0.9 -- taking only the right ones at 0.8 would be
     * cheating.  For 0.6, 0.8 is fine. */
    lp_autolabel_pair v[130];
    for (int i = 0; i < 30; i++) v[i] = (lp_autolabel_pair){0.9, 1};
    for (int i = 0; i < 100; i++) v[30 + i] = (lp_autolabel_pair){0.8, i % 2};
    lp_autolabel_fit f;
    lp_autolabel_choose(v, 130, 0.9, 100, 20, &f);
    CHECK_INT(f.found, 1);
    CHECK_NEAR(f.threshold, 0.9, 1e-12);
    CHECK_INT(f.above, 30);
    lp_autolabel_choose(v, 130, 0.6, 100, 20, &f);
    CHECK_NEAR(f.threshold, 0.8, 1e-12);
    CHECK_INT(f.above, 130);
    CHECK_INT(f.above_right, 80);
}

TEST(autolabel_needs_min_above_pairs_above_the_threshold)
{
    /* 10 right pairs on top, then 90 wrong: precision is met only above
     * the 10th, which is fewer than 20 pairs. */
    lp_autolabel_pair v[100];
    for (int i = 0; i < 100; i++) v[i] = (lp_autolabel_pair){1.0 - 0.001 * i, i < 10};
    lp_autolabel_fit f;
    lp_autolabel_choose(v, 100, 0.95, 100, 20, &f);
    CHECK_INT(f.found, 0);
    lp_autolabel_choose(v, 100, 0.95, 100, 10, &f);
    CHECK_INT(f.found, 1);
    CHECK_INT(f.above, 10);
}

TEST(autolabel_wilson_interval_matches_the_formula)
{
    double lo, hi;
    lp_wilson(0, 0, 1.96, &lo, &hi);
    CHECK_NEAR(lo, 0, 1e-12);
    CHECK_NEAR(hi, 1, 1e-12);
    /* 95 of 100 at z = 1.96: [0.8882, 0.9785] (the textbook value) */
    lp_wilson(95, 100, 1.96, &lo, &hi);
    CHECK_NEAR(lo, 0.8883, 5e-4);
    CHECK_NEAR(hi, 0.9785, 5e-4);
    lp_wilson(20, 20, 1.96, &lo, &hi);
    CHECK_NEAR(hi, 1, 1e-12);
    CHECK(lo > 0.83 && lo < 0.84); /* 20/(20 + 3.84) = 0.839 */
}

TEST(autolabel_setting_defaults_merge_and_checks_name_the_field)
{
    lp_autolabel s;
    lp_autolabel_defaults(&s);
    CHECK_INT(s.enabled, 0);
    CHECK_STR(s.model, "loupe:builtin");
    CHECK_NEAR(s.target_precision, 0.95, 1e-12);
    CHECK_NEAR(s.spot_check_rate, 0.05, 1e-12);
    CHECK_INT(s.min_holdout, 100);
    lp_verr e;
    json_t *v = json_pack("{s:b, s:f}", "enabled", 1, "target_precision", 0.99);
    CHECK_INT(lp_autolabel_parse(v, &s, &e), 0);
    json_decref(v);
    CHECK_INT(s.enabled, 1);
    CHECK_NEAR(s.target_precision, 0.99, 1e-12);
    CHECK_NEAR(s.spot_check_rate, 0.05, 1e-12); /* kept */
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"{\"target_precision\": 1.5}", "auto_label.target_precision"},
        {"{\"target_precision\": 0.2}", "auto_label.target_precision"},
        {"{\"spot_check_rate\": -0.1}", "auto_label.spot_check_rate"},
        {"{\"min_holdout\": 5}", "auto_label.min_holdout"},
        {"{\"enabled\": \"yes\"}", "auto_label.enabled"},
        {"{\"model\": \"\"}", "auto_label.model"},
        {"{\"threshold\": 0.9}", "auto_label.threshold"},
        {"[]", "auto_label"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = json_loads(bad[i].json, JSON_DECODE_ANY, NULL);
        lp_autolabel before = s;
        CHECK_INT(lp_autolabel_parse(v, &s, &e), LP_EINVAL);
        CHECK_STR(e.field, bad[i].field);
        CHECK(!memcmp(&before, &s, sizeof s)); /* unchanged */
        json_decref(v);
    }
    CHECK_INT(lp_autolabel_parse(json_null(), &s, &e), 0);
    CHECK_INT(s.enabled, 0);
    CHECK_NEAR(s.target_precision, 0.95, 1e-12);
}
