/* test_agg_span.c -- tokenizing a text and consolidating the entity spans
 * several workers marked in it. */
#include <stdlib.h>

#include "agg_span.h"
#include "test.h"
#include "util.h"

enum { PER = 1, LOC = 2, ORG = 3 };

/* Tokens: Obama [0, 5), met, Merkel [10, 16), in, New [20, 23), York
 * [24, 28), "," [28, 29), then, Paris [35, 40), London [41, 47), "." */
#define TEXT "Obama met Merkel in New York, then Paris London."

/* Tokenizes TEXT into *tok; returns the number of tokens. */
static size_t text_tokens(lp_token **tok)
{
    size_t n;
    if (lp_span_tokenize(TEXT, strlen(TEXT), tok, &n)) return 0;
    return n;
}

/* Consolidates with default options; returns the count or -1. */
static long agg(const lp_span *s, size_t n, size_t n_workers, lp_span_out **out)
{
    lp_token *tok;
    size_t ntok = text_tokens(&tok), nout;
    int rc = lp_agg_spans(tok, ntok, s, n, n_workers, NULL, NULL, out, &nout);
    free(tok);
    return rc ? -1 : (long)nout;
}

TEST(agg_span_tokenize_words_and_punctuation_in_code_points)
{
    lp_token *t;
    size_t n = text_tokens(&t);
    CHECK_INT(n, 11);
    CHECK_INT(t[0].start, 0);
    CHECK_INT(t[0].end, 5); /* Obama */
    CHECK_INT(t[5].start, 24);
    CHECK_INT(t[5].end, 28); /* York */
    CHECK_INT(t[6].start, 28);
    CHECK_INT(t[6].end, 29); /* , */
    CHECK_INT(t[10].start, 47);
    CHECK_INT(t[10].end, 48); /* . */
    free(t);

    /* "Zoë" is 3 code points (kind_ner.c's convention), the em dash and
     * "!" are tokens, each ideograph is one, a no-break space separates. */
    const char *s = "Zo\xc3\xab \xe2\x80\x94 S\xc3\xa3o\xc2\xa0Paulo \xe6\x9d\xb1\xe4\xba\xac!";
    CHECK_INT(lp_span_tokenize(s, strlen(s), &t, &n), 0);
    CHECK_INT(n, 7);
    size_t want[7][2] = {{0, 3}, {4, 5}, {6, 9}, {10, 15}, {16, 17}, {17, 18}, {18, 19}};
    for (size_t i = 0; i < 7; i++) {
        CHECK_INT(t[i].start, want[i][0]);
        CHECK_INT(t[i].end, want[i][1]);
    }
    free(t);

    CHECK_INT(lp_span_tokenize("  \t", 3, &t, &n), 0);
    CHECK_INT(n, 0);
    CHECK(t == NULL);
    /* Invalid UTF-8 still gets offsets: a stray continuation byte is part
     * of the code point before it, a bad lead byte is a word character. */
    CHECK_INT(lp_span_tokenize("a\x80 \xff"
                               "b",
                               5, &t, &n),
              0);
    CHECK_INT(n, 2);
    CHECK_INT(t[0].end, 1);
    CHECK_INT(t[1].start, 2);
    CHECK_INT(t[1].end, 4);
    free(t);
}

TEST(agg_span_unanimous_spans_are_kept_exactly)
{
    lp_span s[9];
    for (uint32_t w = 0; w < 3; w++) {
        s[3 * w] = (lp_span){w, PER, 0, 5};
        s[3 * w + 1] = (lp_span){w, LOC, 20, 28};
        s[3 * w + 2] = (lp_span){w, PER, 10, 16};
    }
    lp_span_out *out;
    CHECK_INT(agg(s, 9, 3, &out), 3);
    CHECK_INT(out[0].label, PER);
    CHECK_INT(out[0].start, 0);
    CHECK_INT(out[0].end, 5);
    CHECK_INT(out[1].label, PER);
    CHECK_INT(out[1].start, 10);
    CHECK_INT(out[1].end, 16);
    CHECK_INT(out[2].label, LOC);
    CHECK_INT(out[2].start, 20);
    CHECK_INT(out[2].end, 28);
    for (int i = 0; i < 3; i++) CHECK_NEAR(out[i].confidence, 1, 1e-12);
    free(out);
}

TEST(agg_span_minority_spans_are_dropped)
{
    /* Paris: 1 of 3 workers; New York: 2 of 3, one of them without "New". */
    lp_span s[] = {{0, LOC, 35, 40}, {1, LOC, 20, 28}, {2, LOC, 24, 28}};
    lp_span_out *out;
    CHECK_INT(agg(s, 3, 3, &out), 1);
    CHECK_INT(out[0].start, 24); /* "New" had 1 vote of 3 */
    CHECK_INT(out[0].end, 28);
    CHECK_NEAR(out[0].confidence, 2.0 / 3.0, 1e-12);
    free(out);
    /* 1 of 2 is not more than half. */
    CHECK_INT(agg(s, 1, 2, &out), 0);
    CHECK(out == NULL);
    /* A lower quorum keeps it. */
    lp_token *tok;
    size_t ntok = text_tokens(&tok), n;
    lp_span_opts o = {0.3};
    CHECK_INT(lp_agg_spans(tok, ntok, s, 1, 2, NULL, &o, &out, &n), 0);
    CHECK_INT(n, 1);
    CHECK_NEAR(out[0].confidence, 0.5, 1e-12);
    free(out);
    free(tok);
}

TEST(agg_span_adjacent_entities_stay_apart_when_most_separate_them)
{
    /* "Paris London": workers 0 and 1 mark two cities, worker 2 one span. */
    lp_span s[] = {
        {0, LOC, 35, 40}, {0, LOC, 41, 47}, {1, LOC, 35, 40}, {1, LOC, 41, 47}, {2, LOC, 35, 47}};
    lp_span_out *out;
    CHECK_INT(agg(s, 5, 3, &out), 2);
    CHECK_INT(out[0].start, 35);
    CHECK_INT(out[0].end, 40);
    CHECK_INT(out[1].start, 41);
    CHECK_INT(out[1].end, 47);
    free(out);
    /* Two of three join them: one entity. */
    lp_span t[] = {{0, LOC, 35, 47}, {1, LOC, 35, 47}, {2, LOC, 35, 40}, {2, LOC, 41, 47}};
    CHECK_INT(agg(t, 4, 3, &out), 1);
    CHECK_INT(out[0].start, 35);
    CHECK_INT(out[0].end, 47);
    CHECK_NEAR(out[0].confidence, 1, 1e-12);
    free(out);
    /* A tie among those who marked London (1 began, 1 continued) keeps
     * one entity. */
    lp_span u[] = {{0, LOC, 35, 47}, {1, LOC, 35, 40}, {1, LOC, 41, 47}};
    CHECK_INT(agg(u, 3, 3, &out), 1);
    CHECK_INT(out[0].end, 47);
    free(out);
}

TEST(agg_span_label_disagreement_goes_to_the_majority)
{
    lp_span s[] = {{0, LOC, 20, 28}, {1, ORG, 20, 28}, {2, LOC, 20, 28}, {3, LOC, 20, 28}};
    lp_span_out *out;
    CHECK_INT(agg(s, 4, 4, &out), 1);
    CHECK_INT(out[0].label, LOC);
    CHECK_NEAR(out[0].confidence, 0.75, 1e-12);
    free(out);
    /* 2 LOC, 2 ORG of 4: no label has a majority. */
    s[2].label = ORG;
    CHECK_INT(agg(s, 4, 4, &out), 0);
    /* With a quorum under a half both pass; the tie goes to the smaller
     * label id. */
    lp_token *tok;
    size_t ntok = text_tokens(&tok), n;
    lp_span_opts o = {0.25};
    CHECK_INT(lp_agg_spans(tok, ntok, s, 4, 4, NULL, &o, &out, &n), 0);
    CHECK_INT(n, 1);
    CHECK_INT(out[0].label, LOC);
    free(out);
    /* Weights decide: worker 1 (ORG) counts 3. */
    double weights[] = {1, 3, 1, 1};
    s[2].label = LOC;
    CHECK_INT(lp_agg_spans(tok, ntok, s, 4, 4, weights, NULL, &out, &n), 0);
    CHECK_INT(n, 0);
    free(tok);
}

TEST(agg_span_spans_snap_outward_and_one_worker_counts_once)
{
    /* Worker 0 marks "ew Yo" (snapped to New York) and, nested in it,
     * "York" again; worker 1 marks "New York" and an overlapping "York,"
     * (cut to ","); worker 2 marks only white space. */
    lp_span s[] = {
        {0, LOC, 21, 26}, {0, LOC, 24, 28}, {1, LOC, 20, 28}, {1, ORG, 26, 29}, {2, LOC, 23, 24}};
    lp_span_out *out;
    CHECK_INT(agg(s, 5, 3, &out), 1);
    CHECK_INT(out[0].label, LOC);
    CHECK_INT(out[0].start, 20);
    CHECK_INT(out[0].end, 28);
    CHECK_NEAR(out[0].confidence, 2.0 / 3.0, 1e-12);
    free(out);
}

/* A number in [0, 1) from a linear congruential generator. */
static double rnd(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) / 9007199254740992.0;
}

TEST(agg_span_result_does_not_depend_on_span_order)
{
    enum { W = 5, MAX = 64 };
    lp_token tok[40];
    for (size_t i = 0; i < 40; i++) tok[i] = (lp_token){3 * i, 3 * i + 2};
    lp_span s[MAX], t[MAX];
    size_t n = 0;
    uint64_t st = 11;
    double weights[W] = {1, 0.7, 1.3, 0.9, 1.1};
    /* Entities at tokens 2-3, 8, 15-18, 30-31 with noisy copies. */
    size_t ent[4][2] = {{2, 3}, {8, 8}, {15, 18}, {30, 31}};
    for (uint32_t w = 0; w < W; w++)
        for (size_t k = 0; k < 4 && n < MAX - 1; k++) {
            if (rnd(&st) < 0.25) continue;
            size_t a = ent[k][0] + (rnd(&st) < 0.2), b = ent[k][1] + (rnd(&st) < 0.2);
            if (b < a) b = a;
            uint32_t label = rnd(&st) < 0.2 ? ORG : (uint32_t)(k % 2 ? PER : LOC);
            s[n++] = (lp_span){w, label, tok[a].start + (rnd(&st) < 0.3), tok[b].end};
            if (rnd(&st) < 0.2) s[n++] = (lp_span){w, PER, tok[b].start, tok[b + 2].end};
        }
    lp_span_out *ref, *out;
    size_t nref, nout;
    CHECK_INT(lp_agg_spans(tok, 40, s, n, W, weights, NULL, &ref, &nref), 0);
    CHECK(nref >= 3);
    for (int round = 0; round < 20; round++) {
        memcpy(t, s, n * sizeof *s);
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)(rnd(&st) * (double)(i + 1));
            lp_span x = t[i];
            t[i] = t[j];
            t[j] = x;
        }
        CHECK_INT(lp_agg_spans(tok, 40, t, n, W, weights, NULL, &out, &nout), 0);
        int same = nout == nref;
        for (size_t i = 0; same && i < nout; i++)
            same = out[i].label == ref[i].label && out[i].start == ref[i].start &&
                   out[i].end == ref[i].end && out[i].confidence == ref[i].confidence;
        free(out);
        CHECK(same);
    }
    free(ref);
}

TEST(agg_span_empty_and_bad_input)
{
    lp_token tok[] = {{0, 3}, {4, 7}};
    lp_span ok = {0, 1, 0, 3};
    lp_span_out *out = (lp_span_out *)1;
    size_t n = 5;
    CHECK_INT(lp_agg_spans(tok, 2, NULL, 0, 3, NULL, NULL, &out, &n), 0);
    CHECK(out == NULL);
    CHECK_INT(n, 0);
    CHECK_INT(lp_agg_spans(NULL, 0, &ok, 1, 1, NULL, NULL, &out, &n), 0);
    CHECK_INT(n, 0);
    CHECK_INT(lp_agg_spans(tok, 2, &ok, 1, 0, NULL, NULL, &out, &n), LP_EINVAL);
    lp_span empty = {0, 1, 3, 3};
    CHECK_INT(lp_agg_spans(tok, 2, &empty, 1, 1, NULL, NULL, &out, &n), LP_EINVAL);
    lp_token unsorted[] = {{4, 7}, {0, 3}};
    CHECK_INT(lp_agg_spans(unsorted, 2, &ok, 1, 1, NULL, NULL, &out, &n), LP_EINVAL);
    double bad[] = {-1};
    CHECK_INT(lp_agg_spans(tok, 2, &ok, 1, 1, bad, NULL, &out, &n), LP_EINVAL);
    lp_span_opts o = {1};
    CHECK_INT(lp_agg_spans(tok, 2, &ok, 1, 1, NULL, &o, &out, &n), LP_EINVAL);
    CHECK(out == NULL);
    CHECK_INT(n, 0);
    /* A span past the last token covers none. */
    lp_span past = {0, 1, 8, 12};
    CHECK_INT(lp_agg_spans(tok, 2, &past, 1, 1, NULL, NULL, &out, &n), 0);
    CHECK_INT(n, 0);
}
