/* test_textclf.c -- the built-in text classifier and the uncertainty
 * scores (src/textclf.c): it learns, its probabilities are probabilities,
 * and odd input neither crashes it nor is accepted where it should not be.
 * Its accuracy on real data is measured by bench/active.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "textclf.h"

static double predict(const lp_textclf *c, const char *text, double *p)
{
    lp_textclf_predict(c, text, strlen(text), p);
    return p[0];
}

static void learn(lp_textclf *c, const char *text, int label)
{
    lp_textclf_learn(c, text, strlen(text), label, 1);
}

TEST(textclf_bad_label_counts)
{
    CHECK(lp_textclf_new(0, NULL) == NULL);
    CHECK(lp_textclf_new(1, NULL) == NULL);
    CHECK(lp_textclf_new(-3, NULL) == NULL);
    CHECK(lp_textclf_new(1001, NULL) == NULL);
    lp_textclf *c = lp_textclf_new(1000, &(lp_textclf_opts){.bits = 10});
    CHECK(c != NULL);
    lp_textclf_free(c);
    /* 1,000 labels with the default bits fit (fewer buckets); given bits
     * that would need 2^18 x 1,000 x 8 bytes (2 GiB) do not. */
    c = lp_textclf_new(1000, NULL);
    CHECK(c != NULL);
    lp_textclf_free(c);
    CHECK(lp_textclf_new(1000, &(lp_textclf_opts){.bits = 18}) == NULL);
    CHECK(lp_textclf_new(2, &(lp_textclf_opts){.bits = 27}) == NULL);
    CHECK(lp_textclf_new(2, &(lp_textclf_opts){.rate = -1}) == NULL);
    lp_textclf_free(NULL);
}

TEST(textclf_uniform_before_training)
{
    lp_textclf *c = lp_textclf_new(3, NULL);
    double p[3];
    predict(c, "an ordinary sentence", p);
    for (int i = 0; i < 3; i++) CHECK_NEAR(p[i], 1.0 / 3, 1e-12);
    CHECK_INT(lp_textclf_seen(c), 0);
    lp_textclf_free(c);
}

TEST(textclf_learns_separable_words)
{
    static const char *pos[] = {"good great fine", "great film", "a fine good day", "good"};
    static const char *neg[] = {"bad awful poor", "awful film", "a poor bad day", "bad"};
    lp_textclf *c = lp_textclf_new(2, NULL);
    for (int epoch = 0; epoch < 100; epoch++) {
        for (int i = 0; i < 4; i++) {
            learn(c, pos[i], 0);
            learn(c, neg[i], 1);
        }
    }
    CHECK_INT(lp_textclf_seen(c), 800);
    double p[2];
    for (int i = 0; i < 4; i++) {
        CHECK(predict(c, pos[i], p) > 0.95);
        CHECK_NEAR(p[0] + p[1], 1, 1e-12);
        CHECK(predict(c, neg[i], p) < 0.05);
    }
    /* Unseen combinations of the words, and upper case. */
    CHECK(predict(c, "GREAT, FINE!", p) > 0.9);
    CHECK(predict(c, "Poor. Awful.", p) < 0.1);
    lp_textclf_free(c);
}

TEST(textclf_weight_and_bad_labels)
{
    lp_textclf *a = lp_textclf_new(2, NULL), *b = lp_textclf_new(2, NULL);
    double p[2], q[2];
    /* A bad label or weight is no step at all. */
    lp_textclf_learn(a, "good", 4, 2, 1);
    lp_textclf_learn(a, "good", 4, -1, 1);
    lp_textclf_learn(a, "good", 4, 0, 0);
    lp_textclf_learn(a, "good", 4, 0, NAN);
    CHECK_INT(lp_textclf_seen(a), 0);
    CHECK_NEAR(predict(a, "good", p), 0.5, 1e-12);
    /* A larger weight moves the prediction further. */
    lp_textclf_learn(a, "good", 4, 0, 1);
    lp_textclf_learn(b, "good", 4, 0, 5);
    CHECK(predict(a, "good", p) > 0.5);
    CHECK(predict(b, "good", q) > p[0]);
    lp_textclf_free(a);
    lp_textclf_free(b);
}

TEST(textclf_odd_text)
{
    lp_textclf *c = lp_textclf_new(2, NULL);
    static const char *odd[] = {
        "", "   ", "!!!???", "😀😀 🎬", "lástima por schwarzenegger", "\xff\xfe\x80 broken utf-8 \xc3",
        "a"};
    double p[2];
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        learn(c, odd[i], (int)(i % 2));
        predict(c, odd[i], p);
        CHECK(p[0] >= 0 && p[1] >= 0);
        CHECK_NEAR(p[0] + p[1], 1, 1e-12);
    }
    /* Zero bytes of a non-empty string, and embedded NULs. */
    lp_textclf_learn(c, "ignored", 0, 1, 1);
    lp_textclf_predict(c, "a\0b", 3, p);
    CHECK_NEAR(p[0] + p[1], 1, 1e-12);
    /* A long text of one word, longer than the part that is read. */
    size_t n = 200000;
    char *big = malloc(n);
    memset(big, 'x', n);
    learn(c, "", 0);
    lp_textclf_learn(c, big, n, 1, 1);
    lp_textclf_predict(c, big, n, p);
    CHECK_NEAR(p[0] + p[1], 1, 1e-12);
    for (size_t i = 0; i < n; i += 2) big[i] = ' ';
    lp_textclf_learn(c, big, n, 0, 1);
    lp_textclf_predict(c, big, n, p);
    CHECK_NEAR(p[0] + p[1], 1, 1e-12);
    free(big);
    lp_textclf_free(c);
}

TEST(textclf_many_labels)
{
    enum { L = 50 };
    lp_textclf *c = lp_textclf_new(L, &(lp_textclf_opts){.bits = 16});
    char text[L][32];
    for (int y = 0; y < L; y++) snprintf(text[y], sizeof text[y], "topic%d word%d", y, y * 7);
    for (int epoch = 0; epoch < 30; epoch++)
        for (int y = 0; y < L; y++) learn(c, text[y], y);
    double p[L];
    for (int y = 0; y < L; y++) {
        predict(c, text[y], p);
        double sum = 0;
        int best = 0;
        for (int k = 0; k < L; k++) {
            sum += p[k];
            if (p[k] > p[best]) best = k;
        }
        CHECK_NEAR(sum, 1, 1e-9);
        CHECK_INT(best, y);
        CHECK(p[y] > 0.5);
    }
    lp_textclf_free(c);
}

TEST(textclf_large_scores_are_stable)
{
    /* Many heavy steps on one text push its scores far apart: the softmax
     * must still give finite probabilities summing to 1. */
    lp_textclf *c = lp_textclf_new(2, &(lp_textclf_opts){.rate = 50});
    for (int i = 0; i < 2000; i++) learn(c, "again and again", 1);
    double p[2];
    predict(c, "again and again", p);
    CHECK(isfinite(p[0]) && isfinite(p[1]));
    CHECK(p[1] > 0.999);
    CHECK_NEAR(p[0] + p[1], 1, 1e-12);
    lp_textclf_free(c);
}

TEST(textclf_uncertainty_hand_worked)
{
    const double half[] = {0.5, 0.5}, sure[] = {1, 0}, three[] = {0.7, 0.2, 0.1};
    for (int m = LP_UNCERTAIN_LEAST_CONFIDENCE; m <= LP_UNCERTAIN_ENTROPY; m++) {
        CHECK_NEAR(lp_uncertainty(half, 2, m), 1, 1e-12);
        CHECK_NEAR(lp_uncertainty(sure, 2, m), 0, 1e-12);
    }
    /* least confidence: (1 - 0.7) * 3 / 2 = 0.45; margin: 1 - (0.7 - 0.2) = 0.5;
     * entropy: -(0.7 ln 0.7 + 0.2 ln 0.2 + 0.1 ln 0.1) / ln 3
     *        = (0.249672 + 0.321888 + 0.230259) / 1.098612 = 0.729847. */
    CHECK_NEAR(lp_uncertainty(three, 3, LP_UNCERTAIN_LEAST_CONFIDENCE), 0.45, 1e-12);
    CHECK_NEAR(lp_uncertainty(three, 3, LP_UNCERTAIN_MARGIN), 0.5, 1e-12);
    CHECK_NEAR(lp_uncertainty(three, 3, LP_UNCERTAIN_ENTROPY), 0.729847, 1e-6);
    /* The order of the labels does not matter. */
    const double three_r[] = {0.1, 0.2, 0.7};
    CHECK_NEAR(lp_uncertainty(three_r, 3, LP_UNCERTAIN_MARGIN), 0.5, 1e-12);
    /* Uniform over 4 is the most uncertain for every method. */
    const double four[] = {0.25, 0.25, 0.25, 0.25};
    for (int m = LP_UNCERTAIN_LEAST_CONFIDENCE; m <= LP_UNCERTAIN_ENTROPY; m++)
        CHECK_NEAR(lp_uncertainty(four, 4, m), 1, 1e-12);
    CHECK(isnan(lp_uncertainty(half, 2, 99)));
}
