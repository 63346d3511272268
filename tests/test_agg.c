/* test_agg.c -- label aggregation: majority over response texts, and the
 * categorical methods, each held to the properties every method must have
 * (row order and class ids do not matter, perfect workers give perfect
 * labels, spammers are found out, bad ids are refused, empty input works)
 * plus Dawid-Skene's accuracy on real data (bluebird). */
#include "agg.h"
#include "test.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TEST(agg_majority_picks_the_most_common_and_breaks_ties_by_order)
{
    const char *three[] = {"{\"labels\":[\"cat\"]}", "{\"labels\":[\"dog\"]}",
                           "{\"labels\":[\"dog\"]}"};
    size_t w;
    double c;
    lp_agg_majority(three, 3, &w, &c);
    CHECK_INT(w, 1);
    CHECK_NEAR(c, 2.0 / 3.0, 1e-12);
    const char *tie[] = {"b", "a", "a", "b"};
    lp_agg_majority(tie, 4, &w, &c);
    CHECK_INT(w, 0); /* b was submitted first */
    CHECK_NEAR(c, 0.5, 1e-12);
    const char *one[] = {"x"};
    lp_agg_majority(one, 1, &w, &c);
    CHECK_INT(w, 0);
    CHECK_NEAR(c, 1.0, 0);
}

TEST(agg_method_names_round_trip)
{
    for (int m = 0; m < LP_AGG_NMETHODS; m++) {
        lp_agg_method back;
        CHECK_INT(lp_agg_method_parse(lp_agg_method_name((lp_agg_method)m), &back), 0);
        CHECK_INT(back, m);
    }
    lp_agg_method x;
    CHECK_INT(lp_agg_method_parse("dawid-skene", &x), LP_EINVAL);
    CHECK_INT(lp_agg_method_parse("", &x), LP_EINVAL);
    CHECK_INT(lp_agg_method_parse(NULL, &x), LP_EINVAL);
    CHECK_STR(lp_agg_method_name(LP_AGG_NMETHODS), "?");
}

/* ---- a synthetic crowd ---- */

typedef struct crowd {
    size_t n, cap, n_items, n_workers, n_classes;
    uint32_t *item, *worker, *label;
    int32_t *truth;
} crowd;

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

static void add(crowd *c, uint32_t i, uint32_t w, uint32_t l)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 256;
        c->item = lp_realloc(c->item, c->cap * sizeof *c->item);
        c->worker = lp_realloc(c->worker, c->cap * sizeof *c->worker);
        c->label = lp_realloc(c->label, c->cap * sizeof *c->label);
    }
    c->item[c->n] = i;
    c->worker[c->n] = w;
    c->label[c->n] = l;
    c->n++;
}

/* n_items items of k classes; each of the workers answers every item,
 * right with probability acc[w] (else a uniformly random wrong class);
 * acc < 0 means a spammer who always answers class 0. */
static crowd make_crowd(size_t n_items, size_t k, const double *acc, size_t n_workers,
                        uint64_t seed)
{
    crowd c = {0};
    rng_state = seed;
    c.n_items = n_items;
    c.n_workers = n_workers;
    c.n_classes = k;
    c.truth = lp_malloc(n_items * sizeof *c.truth);
    for (size_t i = 0; i < n_items; i++) c.truth[i] = (int32_t)(rnd() % k);
    for (size_t i = 0; i < n_items; i++)
        for (size_t w = 0; w < n_workers; w++) {
            uint32_t l = (uint32_t)c.truth[i];
            if (acc[w] < 0)
                l = 0;
            else if ((rnd() % 10000) / 10000.0 >= acc[w])
                l = (l + 1 + rnd() % (uint32_t)(k - 1)) % (uint32_t)k;
            add(&c, (uint32_t)i, (uint32_t)w, l);
        }
    return c;
}

static void crowd_free(crowd *c)
{
    free(c->item);
    free(c->worker);
    free(c->label);
    free(c->truth);
}

static lp_agg_data data_of(const crowd *c)
{
    return (lp_agg_data){.n = c->n,
                         .item = c->item,
                         .worker = c->worker,
                         .label = c->label,
                         .n_items = c->n_items,
                         .n_workers = c->n_workers,
                         .n_classes = c->n_classes};
}

static double accuracy(const lp_agg_result *r, const crowd *c)
{
    size_t right = 0;
    for (size_t i = 0; i < c->n_items; i++) right += r->label[i] == c->truth[i];
    return (double)right / (double)c->n_items;
}

/* Every method, AUTO included (it combines two of them, agg.c). */
#define EACH_METHOD(m) for (lp_agg_method m = 0; m <= LP_AGG_AUTO; m++)

/* Posterior rows sum to 1 and the label is a top class. */
static int well_formed(const lp_agg_result *r, size_t n_items, size_t k)
{
    for (size_t i = 0; i < n_items; i++) {
        double s = 0, mx = 0;
        for (size_t c = 0; c < k; c++) {
            double p = r->posterior[i * k + c];
            if (!(p >= 0 && p <= 1)) return 0;
            s += p;
            if (p > mx) mx = p;
        }
        if (s < 1 - 1e-9 || s > 1 + 1e-9) return 0;
        if (r->label[i] < 0 || r->posterior[i * k + (size_t)r->label[i]] < mx - 1e-9) return 0;
    }
    return 1;
}

TEST(agg_every_method_gives_perfect_workers_perfect_labels)
{
    const double acc[] = {1, 1, 1};
    crowd c = make_crowd(40, 3, acc, 3, 1);
    lp_agg_data d = data_of(&c);
    EACH_METHOD(m)
    {
        lp_agg_result r;
        CHECK_INT(lp_agg_categorical(m, &d, &r), 0);
        double a = accuracy(&r, &c);
        int ok = well_formed(&r, c.n_items, 3);
        for (size_t i = 0; ok && i < c.n_items; i++)
            ok = r.posterior[i * 3 + (size_t)c.truth[i]] > 0.5;
        lp_agg_result_fini(&r);
        if (a != 1.0 || !ok) fprintf(stderr, "method %s\n", lp_agg_method_name(m));
        CHECK_NEAR(a, 1.0, 0);
        CHECK(ok);
    }
    crowd_free(&c);
}

/* Shuffling the rows changes nothing, bit for bit: the front end sorts
 * them into one canonical order. */
TEST(agg_every_method_ignores_row_order)
{
    const double acc[] = {0.8, 0.7, 0.65, 0.6, 0.55, -1};
    crowd c = make_crowd(50, 3, acc, 6, 2);
    crowd s = c;
    s.item = lp_malloc(c.n * sizeof *s.item);
    s.worker = lp_malloc(c.n * sizeof *s.worker);
    s.label = lp_malloc(c.n * sizeof *s.label);
    uint32_t *perm = lp_malloc(c.n * sizeof *perm);
    for (size_t r = 0; r < c.n; r++) perm[r] = (uint32_t)r;
    for (size_t r = c.n - 1; r > 0; r--) {
        size_t j = rnd() % (r + 1);
        uint32_t t = perm[r];
        perm[r] = perm[j];
        perm[j] = t;
    }
    for (size_t r = 0; r < c.n; r++) {
        s.item[r] = c.item[perm[r]];
        s.worker[r] = c.worker[perm[r]];
        s.label[r] = c.label[perm[r]];
    }
    lp_agg_data d1 = data_of(&c), d2 = data_of(&s);
    int same = 1;
    EACH_METHOD(m)
    {
        lp_agg_result a, b;
        CHECK_INT(lp_agg_categorical(m, &d1, &a), 0);
        CHECK_INT(lp_agg_categorical(m, &d2, &b), 0);
        same = !memcmp(a.label, b.label, c.n_items * sizeof *a.label) &&
               !memcmp(a.posterior, b.posterior, c.n_items * 3 * sizeof *a.posterior) &&
               !memcmp(a.skill, b.skill, c.n_workers * sizeof *a.skill);
        lp_agg_result_fini(&a);
        lp_agg_result_fini(&b);
        if (!same) fprintf(stderr, "method %s\n", lp_agg_method_name(m));
        CHECK(same);
    }
    free(perm);
    free(s.item);
    free(s.worker);
    free(s.label);
    crowd_free(&c);
}

/* Renaming the classes renames the result: posterior columns and labels
 * follow the permutation. */
TEST(agg_every_method_follows_a_relabelling_of_the_classes)
{
    const double acc[] = {0.85, 0.7, 0.6, 0.6, 0.5};
    crowd c = make_crowd(60, 3, acc, 5, 3);
    const uint32_t perm[3] = {2, 0, 1};
    uint32_t *relabel = lp_malloc(c.n * sizeof *relabel);
    for (size_t r = 0; r < c.n; r++) relabel[r] = perm[c.label[r]];
    lp_agg_data d1 = data_of(&c), d2 = d1;
    d2.label = relabel;
    EACH_METHOD(m)
    {
        lp_agg_result a, b;
        CHECK_INT(lp_agg_categorical(m, &d1, &a), 0);
        CHECK_INT(lp_agg_categorical(m, &d2, &b), 0);
        int ok = 1;
        for (size_t i = 0; i < c.n_items && ok; i++) {
            for (size_t k = 0; k < 3; k++)
                ok = ok && a.posterior[i * 3 + k] - b.posterior[i * 3 + perm[k]] < 1e-6 &&
                     b.posterior[i * 3 + perm[k]] - a.posterior[i * 3 + k] < 1e-6;
            ok = ok && (uint32_t)b.label[i] == perm[a.label[i]];
        }
        for (size_t w = 0; w < c.n_workers && ok; w++)
            ok = a.skill[w] - b.skill[w] < 1e-6 && b.skill[w] - a.skill[w] < 1e-6;
        lp_agg_result_fini(&a);
        lp_agg_result_fini(&b);
        if (!ok) fprintf(stderr, "method %s\n", lp_agg_method_name(m));
        CHECK(ok);
    }
    free(relabel);
    crowd_free(&c);
}

/* Workers 0-4 are decent; 5 always answers class 0 and 6 answers at
 * random.  The models that estimate skill put both spammers near chance
 * (1/K) and the good workers well above, and the spammers' answers do not
 * change the labels. */
TEST(agg_skill_models_find_spammers_and_ignore_them)
{
    const double acc[] = {0.85, 0.8, 0.75, 0.75, 0.7, -1, 0.25};
    crowd c = make_crowd(200, 4, acc, 7, 4);
    lp_agg_data with = data_of(&c), without = with;
    uint32_t *it = lp_malloc(c.n * sizeof *it), *wk = lp_malloc(c.n * sizeof *wk),
             *lb = lp_malloc(c.n * sizeof *lb);
    size_t n = 0;
    for (size_t r = 0; r < c.n; r++)
        if (c.worker[r] < 5) {
            it[n] = c.item[r];
            wk[n] = c.worker[r];
            lb[n] = c.label[r];
            n++;
        }
    without.n = n;
    without.item = it;
    without.worker = wk;
    without.label = lb;
    const lp_agg_method skilled[] = {LP_AGG_DAWID_SKENE, LP_AGG_ONE_COIN, LP_AGG_GLAD,
                                     LP_AGG_MACE,        LP_AGG_EBCC,     LP_AGG_BWA};
    for (size_t j = 0; j < LP_ARRAY_LEN(skilled); j++) {
        lp_agg_result a, b;
        CHECK_INT(lp_agg_categorical(skilled[j], &with, &a), 0);
        CHECK_INT(lp_agg_categorical(skilled[j], &without, &b), 0);
        size_t differ = 0;
        for (size_t i = 0; i < c.n_items; i++) differ += a.label[i] != b.label[i];
        double s5 = a.skill[5], s6 = a.skill[6], s4 = a.skill[4], acc_a = accuracy(&a, &c);
        lp_agg_result_fini(&a);
        lp_agg_result_fini(&b);
        if (!(s5 < 0.35 && s6 < 0.35 && s4 > 0.55 && differ <= 2 && acc_a > 0.9))
            fprintf(stderr,
                    "%s: spammer skills %.3f %.3f, worst honest %.3f, %zu labels differ, "
                    "accuracy %.3f\n",
                    lp_agg_method_name(skilled[j]), s5, s6, s4, differ, acc_a);
        CHECK(s5 < 0.25 + 0.1 && s6 < 0.25 + 0.1);
        CHECK(s4 > 0.55);
        CHECK(differ <= 2); /* of 200 */
        CHECK(acc_a > 0.9);
    }
    free(it);
    free(wk);
    free(lb);
    crowd_free(&c);
}

TEST(agg_every_method_refuses_out_of_range_ids)
{
    uint32_t item[] = {0, 1}, worker[] = {0, 1}, label[] = {0, 1};
    int32_t gold[] = {-1, 2};
    lp_agg_data ok = {.n = 2,
                      .item = item,
                      .worker = worker,
                      .label = label,
                      .n_items = 2,
                      .n_workers = 2,
                      .n_classes = 2};
    lp_agg_data bad[4] = {ok, ok, ok, ok};
    bad[0].n_items = 1;
    bad[1].n_workers = 1;
    bad[2].n_classes = 1;
    bad[3].gold = gold;
    for (lp_agg_method m = 0; m < LP_AGG_NMETHODS; m++)
        for (size_t j = 0; j < 4; j++) {
            lp_agg_result r;
            CHECK_INT(lp_agg_categorical(m, &bad[j], &r), LP_EINVAL);
            CHECK(r.label == NULL && r.posterior == NULL && r.skill == NULL);
        }
    lp_agg_result r;
    CHECK_INT(lp_agg_categorical(LP_AGG_NMETHODS, &ok, &r), LP_EINVAL);
}

TEST(agg_every_method_handles_empty_input_and_unanswered_items)
{
    lp_agg_data none = {.n_classes = 3};
    uint32_t item[] = {1, 1}, worker[] = {0, 1}, label[] = {2, 2};
    lp_agg_data some = {.n = 2,
                        .item = item,
                        .worker = worker,
                        .label = label,
                        .n_items = 3,
                        .n_workers = 2,
                        .n_classes = 3};
    for (lp_agg_method m = 0; m < LP_AGG_NMETHODS; m++) {
        lp_agg_result r;
        CHECK_INT(lp_agg_categorical(m, &none, &r), 0);
        lp_agg_result_fini(&r);
        none.n_items = 4; /* items, but no answers */
        CHECK_INT(lp_agg_categorical(m, &none, &r), 0);
        for (size_t i = 0; i < 4; i++) {
            CHECK_INT(r.label[i], -1);
            CHECK_NEAR(r.posterior[i * 3 + 1], 1.0 / 3, 1e-12);
        }
        lp_agg_result_fini(&r);
        none.n_items = 0;
        CHECK_INT(lp_agg_categorical(m, &some, &r), 0);
        CHECK_INT(r.label[0], -1);
        CHECK_INT(r.label[1], 2);
        CHECK_INT(r.label[2], -1);
        CHECK_NEAR(r.posterior[2 * 3 + 0], 1.0 / 3, 1e-12);
        lp_agg_result_fini(&r);
    }
}

/* Gold items return their gold class with posterior 1, and gold_weighted
 * trusts the worker who was right on gold over two who were wrong. */
TEST(agg_gold_is_returned_and_weights_the_workers)
{
    /* items 0-3 have gold; on them worker 0 is always right, workers 1 and
     * 2 always wrong.  On item 4 worker 0 says 1, workers 1 and 2 say 0. */
    uint32_t item[15], worker[15], label[15];
    int32_t gold[5] = {0, 1, 0, 1, -1};
    size_t n = 0;
    for (uint32_t i = 0; i < 5; i++)
        for (uint32_t w = 0; w < 3; w++) {
            item[n] = i;
            worker[n] = w;
            label[n] = i < 4 ? (uint32_t)(w == 0 ? gold[i] : 1 - gold[i]) : (w == 0);
            n++;
        }
    lp_agg_data d = {.n = n,
                     .item = item,
                     .worker = worker,
                     .label = label,
                     .n_items = 5,
                     .n_workers = 3,
                     .n_classes = 2,
                     .gold = gold};
    EACH_METHOD(m)
    {
        lp_agg_result r;
        CHECK_INT(lp_agg_categorical(m, &d, &r), 0);
        for (size_t i = 0; i < 4; i++) {
            CHECK_INT(r.label[i], gold[i]);
            CHECK_NEAR(r.posterior[i * 2 + (size_t)gold[i]], 1.0, 0);
        }
        lp_agg_result_fini(&r);
    }
    lp_agg_result r;
    CHECK_INT(lp_agg_categorical(LP_AGG_GOLD_WEIGHTED, &d, &r), 0);
    CHECK_INT(r.label[4], 1);
    CHECK(r.skill[0] > 0.8 && r.skill[1] < 0.3);
    lp_agg_result_fini(&r);
    d.gold = NULL; /* without gold, the two outvote the one */
    CHECK_INT(lp_agg_categorical(LP_AGG_GOLD_WEIGHTED, &d, &r), 0);
    CHECK_INT(r.label[4], 0);
    lp_agg_result_fini(&r);
}

/* A worker who answers an item three times is one voice there; a tie goes
 * to the side whose voter agrees with the majority elsewhere, whatever the
 * class ids. */
TEST(agg_majority_counts_repeats_once_and_breaks_ties_by_agreement)
{
    /* item 0: worker 0 says 1 three times, workers 1 and 2 say 0 */
    uint32_t item[] = {0, 0, 0, 0, 0}, worker[] = {0, 0, 0, 1, 2}, label[] = {1, 1, 1, 0, 0};
    lp_agg_data d = {.n = 5,
                     .item = item,
                     .worker = worker,
                     .label = label,
                     .n_items = 1,
                     .n_workers = 3,
                     .n_classes = 2};
    lp_agg_result r;
    CHECK_INT(lp_agg_categorical(LP_AGG_MAJORITY, &d, &r), 0);
    CHECK_INT(r.label[0], 0);
    CHECK_NEAR(r.posterior[0], 2.0 / 3, 1e-12);
    lp_agg_result_fini(&r);

    /* Items 1-3: workers 0, 1, 2 agree with each other, worker 3 dissents.
     * Item 0: worker 0 says x, worker 3 says y: a tie that x must win. */
    for (uint32_t x = 0; x < 2; x++) {
        uint32_t it[] = {0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3};
        uint32_t wk[] = {0, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3};
        uint32_t lb[14];
        lb[0] = x;
        lb[1] = 1 - x;
        for (size_t j = 2; j < 14; j++) lb[j] = wk[j] == 3 ? 1 : 0;
        lp_agg_data t = {.n = 14,
                         .item = it,
                         .worker = wk,
                         .label = lb,
                         .n_items = 4,
                         .n_workers = 4,
                         .n_classes = 2};
        CHECK_INT(lp_agg_categorical(LP_AGG_MAJORITY, &t, &r), 0);
        CHECK_INT(r.label[0], x);
        CHECK_NEAR(r.posterior[0], 0.5, 1e-12);
        CHECK(r.skill[0] > r.skill[3]);
        lp_agg_result_fini(&r);
    }
}

/* ---- real data: bluebird (Welinder et al. 2010) ---- */

/* Dense id of s among ids[0..*n), adding it if new. */
static uint32_t dense(char (*ids)[32], size_t *n, const char *s)
{
    for (size_t j = 0; j < *n; j++)
        if (!strcmp(ids[j], s)) return (uint32_t)j;
    snprintf(ids[*n], 32, "%s", s);
    return (uint32_t)(*n)++;
}

/* One item answered by thousands of workers: the product of their
 * probabilities is far below the smallest double (0.7^3000 ~ 1e-465), so
 * the models that multiply probabilities must rescale, and repeated answers
 * (fractional weights) must keep working.  Labels follow the 70% majority
 * and no posterior is NaN. */
TEST(agg_every_method_survives_items_with_thousands_of_answers)
{
    crowd c = {0};
    const size_t nw = 3000;
    for (uint32_t i = 0; i < 4; i++)
        for (uint32_t w = 0; w < nw; w++) {
            uint32_t truth = i % 2, l = w % 10 < 7 ? truth : 1 - truth;
            add(&c, i, w, l);
            if (w % 7 == 0) add(&c, i, w, 1 - l); /* changed their mind: weight 1/2 each */
        }
    c.truth = lp_malloc(4 * sizeof *c.truth);
    for (size_t i = 0; i < 4; i++) c.truth[i] = (int32_t)(i % 2);
    c.n_items = 4;
    c.n_workers = nw;
    c.n_classes = 2;
    lp_agg_data d = data_of(&c);
    EACH_METHOD(m)
    {
        lp_agg_result r;
        CHECK_INT(lp_agg_categorical(m, &d, &r), 0);
        int ok = well_formed(&r, 4, 2);
        double a = accuracy(&r, &c);
        lp_agg_result_fini(&r);
        if (!ok || a != 1.0) fprintf(stderr, "method %s\n", lp_agg_method_name(m));
        CHECK(ok);
        CHECK_NEAR(a, 1.0, 0);
    }
    crowd_free(&c);
}

TEST(agg_dawid_skene_on_bluebird_matches_the_published_accuracy)
{
    char path[1024], line[256];
    snprintf(path, sizeof path, "%s/crowd/bluebird/answers.csv", lp_test_data_dir());
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    static char items[256][32], workers[256][32];
    size_t ni = 0, nw = 0;
    crowd c = {0};
    int header = 1;
    while (fgets(line, sizeof line, f)) {
        char a[32], b[32];
        unsigned l;
        if (header || sscanf(line, "%31[^,],%31[^,],%u", a, b, &l) != 3) {
            header = 0;
            continue;
        }
        if (ni >= 255 || nw >= 255) break;
        uint32_t i = dense(items, &ni, a), w = dense(workers, &nw, b);
        add(&c, i, w, l);
    }
    fclose(f);
    CHECK_INT(c.n, 4212);
    snprintf(path, sizeof path, "%s/crowd/bluebird/truth.csv", lp_test_data_dir());
    f = fopen(path, "r");
    CHECK(f != NULL);
    c.truth = lp_malloc(ni * sizeof *c.truth);
    for (size_t i = 0; i < ni; i++) c.truth[i] = -1;
    header = 1;
    while (fgets(line, sizeof line, f)) {
        char a[32];
        int t;
        if (header || sscanf(line, "%31[^,],%d", a, &t) != 2) {
            header = 0;
            continue;
        }
        size_t before = ni;
        uint32_t i = dense(items, &ni, a);
        if (ni != before)
            ni = before; /* truth for an unanswered item */
        else
            c.truth[i] = t;
    }
    fclose(f);
    c.n_items = ni;
    c.n_workers = nw;
    c.n_classes = 2;
    lp_agg_data d = data_of(&c);
    /* Dawid-Skene and AUTO both reach the published 0.889 (96 of 108). */
    const lp_agg_method ms[] = {LP_AGG_DAWID_SKENE, LP_AGG_AUTO};
    for (size_t j = 0; j < 2; j++) {
        lp_agg_result r;
        CHECK_INT(lp_agg_categorical(ms[j], &d, &r), 0);
        size_t right = 0, all = 0;
        for (size_t i = 0; i < ni; i++)
            if (c.truth[i] >= 0) {
                all++;
                right += r.label[i] == c.truth[i];
            }
        lp_agg_result_fini(&r);
        CHECK_INT(all, 108);
        CHECK(right >= 96);
    }
    crowd_free(&c);
}

TEST(agg_multilabel_answers_each_label_as_a_yes_no_question)
{
    /* 30 items, 3 labels; item i has label l when (i >> l) & 1.  Workers 0-2
     * answer exactly; worker 3 picks every label on every item; worker 4
     * answers an empty set everywhere. */
    enum { N_ITEMS = 30, N_WORKERS = 5, N_LABELS = 3 };
    uint32_t item[N_ITEMS * N_WORKERS], worker[N_ITEMS * N_WORKERS], label[N_ITEMS * N_WORKERS * 3];
    size_t offset[N_ITEMS * N_WORKERS + 1], n = 0, nl = 0;
    for (uint32_t i = 0; i < N_ITEMS; i++)
        for (uint32_t w = 0; w < N_WORKERS; w++) {
            item[n] = i;
            worker[n] = w;
            offset[n] = nl;
            for (uint32_t l = 0; l < N_LABELS; l++)
                if ((w < 3 && ((i >> l) & 1)) || w == 3) label[nl++] = l;
            n++;
        }
    offset[n] = nl;
    lp_agg_multi_data d = {.n = n,
                           .item = item,
                           .worker = worker,
                           .offset = offset,
                           .label = label,
                           .n_items = N_ITEMS,
                           .n_workers = N_WORKERS,
                           .n_labels = N_LABELS};
    static const lp_agg_method methods[] = {LP_AGG_MAJORITY, LP_AGG_DAWID_SKENE, LP_AGG_AUTO};
    for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++) {
        lp_agg_multi_result r;
        CHECK_INT(lp_agg_multilabel(methods[k], &d, &r), 0);
        int right = 1;
        for (uint32_t i = 0; i < N_ITEMS; i++)
            for (uint32_t l = 0; l < N_LABELS; l++)
                right &= r.has[i * N_LABELS + l] == ((i >> l) & 1);
        double good = r.skill[0], spam = r.skill[3];
        lp_agg_multi_result_fini(&r);
        CHECK(right);
        if (methods[k] != LP_AGG_MAJORITY) CHECK(good > spam);
    }
    label[0] = N_LABELS; /* out of range */
    lp_agg_multi_result r;
    CHECK_INT(lp_agg_multilabel(LP_AGG_MAJORITY, &d, &r), LP_EINVAL);
}
