/* test_leaderboard.c -- the leaderboard (src/leaderboard.c): evalica's
 * golden Bradley-Terry and Elo scores through it, the bootstrap's
 * determinism and intervals, ranks, degenerate data, the win-rate matrix
 * and the position-bias test. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "leaderboard.h"
#include "test.h"
#include "util.h"

enum { MAX_ITEMS = 16, MAX_PAIRS = 64 };

typedef struct {
    char name[MAX_ITEMS][32];
    size_t n_items, n_pairs;
    lp_pair pair[MAX_PAIRS];
    double bt[MAX_ITEMS], elo[MAX_ITEMS];
} pairwise;

static int item_id(pairwise *d, const char *s, int add)
{
    for (size_t i = 0; i < d->n_items; i++)
        if (strcmp(d->name[i], s) == 0) return (int)i;
    if (!add || d->n_items == MAX_ITEMS || strlen(s) >= sizeof d->name[0]) return -1;
    strcpy(d->name[d->n_items], s);
    return (int)d->n_items++;
}

/* pairwise/SET.csv and its golden scores, names mapped in first-seen order. */
static int read_pairwise(const char *set, pairwise *d)
{
    char path[512], line[256], a[32], b[32], c[32];
    *d = (pairwise){0};
    snprintf(path, sizeof path, "%s/pairwise/%s.csv", lp_test_data_dir(), set);
    FILE *f = fopen(path, "r");
    if (!f) return LP_EIO;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%31[^,],%31[^,],%31[^,\r\n]", a, b, c) != 3) continue;
        if (strcmp(a, "left") == 0) continue;
        int l = item_id(d, a, 1), r = item_id(d, b, 1);
        if (l < 0 || r < 0 || d->n_pairs == MAX_PAIRS) break;
        int w = strcmp(c, "left") == 0    ? LP_PAIR_LEFT
                : strcmp(c, "right") == 0 ? LP_PAIR_RIGHT
                                          : LP_PAIR_TIE;
        d->pair[d->n_pairs++] = (lp_pair){(uint32_t)l, (uint32_t)r, w};
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/pairwise/%s-golden.csv", lp_test_data_dir(), set);
    if (!(f = fopen(path, "r"))) return LP_EIO;
    size_t got = 0;
    while (fgets(line, sizeof line, f)) {
        double v;
        if (sscanf(line, "%31[^,],%31[^,],%lf", a, b, &v) != 3) continue;
        int i = item_id(d, b, 0);
        if (i < 0) continue;
        if (strcmp(a, "bradley_terry") == 0) d->bt[i] = v, got++;
        if (strcmp(a, "elo") == 0) d->elo[i] = v, got++;
    }
    fclose(f);
    return got == 2 * d->n_items ? 0 : LP_EINVAL;
}

static lp_leaderboard_opts opts(size_t rounds, uint64_t seed, int threads)
{
    lp_leaderboard_opts o;
    lp_leaderboard_opts_init(&o);
    o.rounds = rounds;
    o.seed = seed;
    o.threads = threads;
    return o;
}

/* Appends `count` games of a against b with winner w to p. */
static size_t games(lp_pair *p, size_t n, uint32_t a, uint32_t b, int w, size_t count)
{
    for (size_t k = 0; k < count; k++) p[n++] = (lp_pair){a, b, w};
    return n;
}

static void check_golden(const char *set)
{
    pairwise d;
    CHECK_INT(read_pairwise(set, &d), 0);
    lp_leaderboard_opts o = opts(200, 42, 2);
    lp_leaderboard *lb = NULL;
    CHECK_INT(lp_leaderboard_compute(d.n_pairs, d.pair, d.n_items, &o, &lb), 0);
    double sum = 0, mean = 0;
    for (size_t i = 0; i < d.n_items; i++) {
        const lp_lb_model *m = &lb->model[i];
        CHECK_NEAR(m->strength, d.bt[i], 1e-6);
        CHECK_NEAR(m->elo, d.elo[i], 1e-6);
        sum += m->strength;
        mean += m->rating / (double)d.n_items;
        /* The rating is the strength on the 400 log10 scale. */
        CHECK_NEAR(m->rating - lb->model[0].rating,
                   400 * log10(m->strength / lb->model[0].strength), 1e-9);
        /* The percentile interval holds the point estimate here. */
        CHECK(m->lower <= m->rating && m->rating <= m->upper);
        CHECK(m->rounds > 190 && m->rounds <= 200); /* few games: absent from some */
        CHECK(m->rank >= 1 && m->rank <= d.n_items);
    }
    CHECK_NEAR(sum, 1, 1e-12);
    CHECK_NEAR(mean, 1000, 1e-9);
    CHECK_INT(lb->prior, 0);
    lp_leaderboard_free(lb);
}

TEST(leaderboard_golden_simple)
{
    check_golden("simple");
}

TEST(leaderboard_golden_food)
{
    check_golden("food");
}

TEST(leaderboard_bootstrap_is_deterministic_for_a_seed_and_any_thread_count)
{
    pairwise d;
    CHECK_INT(read_pairwise("food", &d), 0);
    lp_leaderboard *a = NULL, *b = NULL, *c = NULL, *other = NULL;
    lp_leaderboard_opts o1 = opts(300, 7, 1), o2 = opts(300, 7, 2), o3 = opts(300, 7, 3),
                        o4 = opts(300, 8, 2);
    CHECK_INT(lp_leaderboard_compute(d.n_pairs, d.pair, d.n_items, &o1, &a), 0);
    CHECK_INT(lp_leaderboard_compute(d.n_pairs, d.pair, d.n_items, &o2, &b), 0);
    CHECK_INT(lp_leaderboard_compute(d.n_pairs, d.pair, d.n_items, &o3, &c), 0);
    CHECK_INT(lp_leaderboard_compute(d.n_pairs, d.pair, d.n_items, &o4, &other), 0);
    int differs = 0;
    for (size_t i = 0; i < d.n_items; i++) {
        CHECK(a->model[i].lower == b->model[i].lower && a->model[i].upper == b->model[i].upper);
        CHECK(a->model[i].lower == c->model[i].lower && a->model[i].upper == c->model[i].upper);
        CHECK_INT(a->model[i].rank, c->model[i].rank);
        differs |= a->model[i].lower != other->model[i].lower;
    }
    CHECK(differs); /* another seed, other resamples */
    lp_leaderboard_free(a);
    lp_leaderboard_free(b);
    lp_leaderboard_free(c);
    lp_leaderboard_free(other);
}

TEST(leaderboard_interval_shrinks_with_more_data)
{
    /* Three models; the same 60 games, then the same repeated 10 times:
     * the same point estimate, intervals about sqrt(10) narrower. */
    static lp_pair p[600];
    size_t n = 0;
    for (int rep = 0; rep < 10; rep++) {
        n = games(p, n, 0, 1, LP_PAIR_LEFT, 12);
        n = games(p, n, 0, 1, LP_PAIR_RIGHT, 8);
        n = games(p, n, 1, 2, LP_PAIR_LEFT, 11);
        n = games(p, n, 1, 2, LP_PAIR_TIE, 2);
        n = games(p, n, 1, 2, LP_PAIR_RIGHT, 7);
        n = games(p, n, 2, 0, LP_PAIR_RIGHT, 14);
        n = games(p, n, 2, 0, LP_PAIR_LEFT, 6);
    }
    lp_leaderboard *small = NULL, *big = NULL;
    lp_leaderboard_opts o = opts(1000, 3, 2);
    CHECK_INT(lp_leaderboard_compute(60, p, 3, &o, &small), 0);
    CHECK_INT(lp_leaderboard_compute(600, p, 3, &o, &big), 0);
    for (size_t i = 0; i < 3; i++) {
        CHECK_NEAR(small->model[i].rating, big->model[i].rating, 1e-6);
        double ws = small->model[i].upper - small->model[i].lower;
        double wb = big->model[i].upper - big->model[i].lower;
        CHECK(ws > 0 && wb > 0);
        CHECK(wb / ws > 0.2 && wb / ws < 0.45); /* 1 / sqrt(10) = 0.32 */
        CHECK(big->model[i].lower <= big->model[i].rating);
        CHECK(big->model[i].rating <= big->model[i].upper);
    }
    lp_leaderboard_free(small);
    lp_leaderboard_free(big);
}

TEST(leaderboard_ranks_only_separate_non_overlapping_intervals)
{
    /* 0 beats everyone 90 to 10; 1 and 2 are even; both beat 3 90 to 10.
     * 0 is alone at the top, 1 and 2 share rank 2, 3 has three models
     * surely above it. */
    static lp_pair p[1200];
    size_t n = 0;
    for (uint32_t j = 1; j < 4; j++) {
        n = games(p, n, 0, j, LP_PAIR_LEFT, 90);
        n = games(p, n, 0, j, LP_PAIR_RIGHT, 10);
    }
    n = games(p, n, 1, 2, LP_PAIR_LEFT, 50);
    n = games(p, n, 1, 2, LP_PAIR_RIGHT, 49);
    n = games(p, n, 1, 2, LP_PAIR_TIE, 2);
    for (uint32_t i = 1; i < 3; i++) {
        n = games(p, n, i, 3, LP_PAIR_LEFT, 90);
        n = games(p, n, 3, i, LP_PAIR_LEFT, 10);
    }
    lp_leaderboard *lb = NULL;
    lp_leaderboard_opts o = opts(1000, 1, 2);
    CHECK_INT(lp_leaderboard_compute(n, p, 4, &o, &lb), 0);
    CHECK_INT(lb->model[0].rank, 1);
    CHECK_INT(lb->model[1].rank, 2);
    CHECK_INT(lb->model[2].rank, 2);
    CHECK_INT(lb->model[3].rank, 4);
    CHECK(lb->model[1].rating > lb->model[2].rating); /* yet the point estimates differ */
    CHECK(lb->model[0].lower > lb->model[1].upper);
    /* With no bootstrap, ranks follow the point estimates. */
    lp_leaderboard_free(lb);
    o.rounds = 0;
    CHECK_INT(lp_leaderboard_compute(n, p, 4, &o, &lb), 0);
    CHECK(isnan(lb->model[1].lower) && isnan(lb->model[1].upper));
    CHECK_INT(lb->model[1].rank, 2);
    CHECK_INT(lb->model[2].rank, 3);
    CHECK_INT(lb->rounds, 0);
    lp_leaderboard_free(lb);
}

TEST(leaderboard_win_rate_matrix_and_counts)
{
    pairwise d;
    CHECK_INT(read_pairwise("simple", &d), 0);
    lp_leaderboard *lb = NULL;
    lp_leaderboard_opts o = opts(0, 1, 1);
    CHECK_INT(lp_leaderboard_compute(d.n_pairs, d.pair, d.n_items, &o, &lb), 0);
    size_t n = d.n_items, total = 0;
    for (size_t i = 0; i < n; i++) {
        double won = 0, met = 0;
        size_t w = 0, t = 0, l = 0;
        for (size_t r = 0; r < d.n_pairs; r++) {
            const lp_pair *q = &d.pair[r];
            if (q->left != i && q->right != i) continue;
            int mine = q->left == i ? LP_PAIR_LEFT : LP_PAIR_RIGHT;
            w += q->winner == mine, t += q->winner == LP_PAIR_TIE;
            l += q->winner != mine && q->winner != LP_PAIR_TIE;
        }
        CHECK_INT(lb->model[i].wins, w);
        CHECK_INT(lb->model[i].ties, t);
        CHECK_INT(lb->model[i].losses, l);
        CHECK_INT(lb->model[i].games, w + t + l);
        CHECK_NEAR(lb->model[i].win_rate, (w + t / 2.0) / (double)(w + t + l), 1e-12);
        total += lb->model[i].games;
        CHECK(isnan(lb->win_rate[i * n + i]));
        for (size_t j = 0; j < n; j++) {
            if (j == i) continue;
            won = met = 0;
            for (size_t r = 0; r < d.n_pairs; r++) {
                const lp_pair *q = &d.pair[r];
                if (!((q->left == i && q->right == j) || (q->left == j && q->right == i))) continue;
                met++;
                int mine = q->left == i ? LP_PAIR_LEFT : LP_PAIR_RIGHT;
                won += q->winner == mine ? 1 : q->winner == LP_PAIR_TIE ? 0.5 : 0;
            }
            if (met == 0) {
                CHECK(isnan(lb->win_rate[i * n + j]));
            } else {
                CHECK_NEAR(lb->win_rate[i * n + j], won / met, 1e-12);
                CHECK_NEAR(lb->win_rate[i * n + j] + lb->win_rate[j * n + i], 1, 1e-12);
            }
        }
    }
    CHECK_INT(total, 2 * d.n_pairs);
    lp_leaderboard_free(lb);
}

TEST(leaderboard_model_that_never_won_gets_the_prior)
{
    /* Model 2 lost all its games: no finite maximum likelihood.  The
     * leaderboard says so, fits with the prior, and keeps 2 last with a
     * finite rating and interval; 0 and 1 stay even. */
    static lp_pair p[200];
    size_t n = 0;
    n = games(p, n, 0, 1, LP_PAIR_LEFT, 20);
    n = games(p, n, 1, 0, LP_PAIR_LEFT, 20);
    n = games(p, n, 0, 2, LP_PAIR_LEFT, 10);
    n = games(p, n, 2, 1, LP_PAIR_RIGHT, 10);
    lp_leaderboard *lb = NULL;
    lp_leaderboard_opts o = opts(500, 5, 2);
    CHECK_INT(lp_leaderboard_compute(n, p, 3, &o, &lb), 0);
    CHECK_INT(lb->prior, 1);
    CHECK(isfinite(lb->model[2].rating) && isfinite(lb->model[2].lower));
    CHECK(lb->model[2].strength > 0 && lb->model[2].strength < lb->model[0].strength);
    CHECK_NEAR(lb->model[0].rating, lb->model[1].rating, 1e-6);
    CHECK(lb->model[2].upper < lb->model[0].lower);
    CHECK_INT(lb->model[2].rank, 3);
    CHECK_INT(lb->model[0].rank, 1);
    CHECK_NEAR(lb->model[2].win_rate, 0, 0);
    CHECK_INT(lb->prior_rounds, 0); /* every round already uses the prior */
    lp_leaderboard_free(lb);

    /* With a plain maximum for the whole data, a resample that loses model
     * 3's only win needs the prior: counted, and the rounds stay finite. */
    n = 0;
    n = games(p, n, 0, 1, LP_PAIR_LEFT, 30);
    n = games(p, n, 1, 0, LP_PAIR_LEFT, 30);
    n = games(p, n, 0, 2, LP_PAIR_LEFT, 30);
    n = games(p, n, 2, 0, LP_PAIR_LEFT, 30);
    n = games(p, n, 3, 0, LP_PAIR_LEFT, 1);
    n = games(p, n, 0, 3, LP_PAIR_LEFT, 3);
    CHECK_INT(lp_leaderboard_compute(n, p, 4, &o, &lb), 0);
    CHECK_INT(lb->prior, 0);
    CHECK(lb->prior_rounds > 0 && lb->prior_rounds < 500);
    for (size_t i = 0; i < 4; i++)
        CHECK(isfinite(lb->model[i].lower) && isfinite(lb->model[i].upper));
    lp_leaderboard_free(lb);
}

TEST(leaderboard_model_missing_from_a_resample)
{
    /* Model 3 played once among 121 games: about a third of the resamples
     * leave it out (e^-1); its interval comes from the others. */
    static lp_pair p[200];
    size_t n = 0;
    n = games(p, n, 0, 1, LP_PAIR_LEFT, 20);
    n = games(p, n, 1, 0, LP_PAIR_LEFT, 20);
    n = games(p, n, 1, 2, LP_PAIR_LEFT, 20);
    n = games(p, n, 2, 1, LP_PAIR_LEFT, 20);
    n = games(p, n, 0, 2, LP_PAIR_LEFT, 20);
    n = games(p, n, 2, 0, LP_PAIR_LEFT, 20);
    n = games(p, n, 3, 0, LP_PAIR_TIE, 1);
    lp_leaderboard *lb = NULL;
    lp_leaderboard_opts o = opts(1000, 11, 2);
    CHECK_INT(lp_leaderboard_compute(n, p, 4, &o, &lb), 0);
    CHECK_INT(lb->model[0].rounds, 1000);
    CHECK(lb->model[3].rounds > 550 && lb->model[3].rounds < 720);
    CHECK(isfinite(lb->model[3].lower) && lb->model[3].lower <= lb->model[3].upper);
    CHECK_INT(lb->model[3].games, 1);
    lp_leaderboard_free(lb);
}

TEST(leaderboard_no_comparisons_one_model_bad_input)
{
    lp_leaderboard *lb = NULL;
    CHECK_INT(lp_leaderboard_compute(0, NULL, 3, NULL, &lb), 0);
    for (size_t i = 0; i < 3; i++) {
        CHECK_INT(lb->model[i].rank, 0);
        CHECK_INT(lb->model[i].games, 0);
        CHECK(isnan(lb->model[i].rating) && isnan(lb->model[i].lower));
        CHECK(isnan(lb->model[i].win_rate));
        CHECK_NEAR(lb->model[i].strength, 0, 0);
        CHECK_NEAR(lb->model[i].elo, 1000, 0);
    }
    CHECK_INT(lb->rounds, 0);
    lp_leaderboard_free(lb);
    CHECK_INT(lp_leaderboard_compute(0, NULL, 1, NULL, &lb), 0);
    CHECK_INT(lb->model[0].rank, 0);
    CHECK(isnan(lb->win_rate[0]));
    lp_leaderboard_free(lb);
    CHECK_INT(lp_leaderboard_compute(0, NULL, 0, NULL, &lb), 0);
    lp_leaderboard_free(lb);
    lp_leaderboard_free(NULL);

    /* A model never compared beside others that were. */
    lp_pair two[] = {{0, 1, LP_PAIR_LEFT}, {1, 0, LP_PAIR_TIE}};
    CHECK_INT(lp_leaderboard_compute(2, two, 3, NULL, &lb), 0);
    CHECK_INT(lb->model[2].rank, 0);
    CHECK(isnan(lb->model[2].rating));
    CHECK_NEAR(lb->model[0].strength + lb->model[1].strength, 1, 1e-12);
    CHECK_NEAR(lb->model[0].rating + lb->model[1].rating, 2000, 1e-9);
    lp_leaderboard_free(lb);

    lb = NULL;
    lp_pair self[] = {{1, 1, LP_PAIR_TIE}}, odd[] = {{0, 1, 3}}, far[] = {{0, 3, LP_PAIR_LEFT}};
    CHECK_INT(lp_leaderboard_compute(1, self, 3, NULL, &lb), LP_EINVAL);
    CHECK_INT(lp_leaderboard_compute(1, odd, 3, NULL, &lb), LP_EINVAL);
    CHECK_INT(lp_leaderboard_compute(1, far, 3, NULL, &lb), LP_EINVAL);
    lp_leaderboard_opts o = opts(10, 1, 0);
    CHECK_INT(lp_leaderboard_compute(2, two, 3, &o, &lb), LP_EINVAL);
    o = opts(10, 1, 1);
    o.level = 1;
    CHECK_INT(lp_leaderboard_compute(2, two, 3, &o, &lb), LP_EINVAL);
    o.level = 0.9;
    o.k = NAN;
    CHECK_INT(lp_leaderboard_compute(2, two, 3, &o, &lb), LP_EINVAL);
    CHECK(lb == NULL);
    CHECK_INT(lp_leaderboard_compute(2, two, LP_LB_MAX_MODELS + 1, NULL, &lb), LP_EINVAL);
}

TEST(leaderboard_coverage_on_synthetic_data)
{
    /* 20 models of known ratings, 20,000 games drawn from the model the
     * fit assumes: the 95% intervals hold the truth for most models, and
     * the ratings are close. */
    enum { N = 20, GAMES = 20000 };
    static lp_pair p[GAMES];
    double truth[N];
    uint64_t x = 12345;
    for (int i = 0; i < N; i++) truth[i] = 1000 + 40.0 * (i - (N - 1) / 2.0); /* mean 1000 */
    for (size_t r = 0; r < GAMES; r++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t a = (uint32_t)((x >> 33) % N), b = (uint32_t)((x >> 13) % (N - 1));
        if (b >= a) b++;
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(x >> 11) * 0x1.0p-53;
        double pa = 1 / (1 + pow(10, (truth[b] - truth[a]) / 400));
        p[r] = (lp_pair){a, b, u < pa ? LP_PAIR_LEFT : LP_PAIR_RIGHT};
    }
    lp_leaderboard *lb = NULL;
    lp_leaderboard_opts o = opts(500, 2, 2);
    CHECK_INT(lp_leaderboard_compute(GAMES, p, N, &o, &lb), 0);
    int covered = 0;
    double se = 0;
    for (int i = 0; i < N; i++) {
        covered += lb->model[i].lower <= truth[i] && truth[i] <= lb->model[i].upper;
        se += (lb->model[i].rating - truth[i]) * (lb->model[i].rating - truth[i]);
    }
    CHECK(covered >= 16);
    CHECK(sqrt(se / N) < 15);
    lp_leaderboard_free(lb);
}

TEST(leaderboard_many_models_use_mm_sweeps)
{
    /* Above 1,024 models the rounds are fitted by MM sweeps instead of
     * Newton's method: 1,100 models of rising strength in a ring where
     * each plays its next four neighbours 3 times. */
    enum { N = 1100 };
    static lp_pair p[N * 12];
    size_t n = 0;
    for (uint32_t i = 0; i < N; i++)
        for (uint32_t d = 1; d <= 4; d++) {
            uint32_t j = (i + d) % N;
            n = games(p, n, i, j, i > j ? LP_PAIR_LEFT : LP_PAIR_RIGHT, 2);
            n = games(p, n, i, j, i > j ? LP_PAIR_RIGHT : LP_PAIR_LEFT, 1);
        }
    lp_leaderboard *lb = NULL;
    lp_leaderboard_opts o = opts(4, 9, 2);
    CHECK_INT(lp_leaderboard_compute(n, p, N, &o, &lb), 0);
    CHECK_INT(lb->prior, 0);
    for (size_t i = 0; i < N; i++) {
        CHECK(isfinite(lb->model[i].lower) && lb->model[i].lower <= lb->model[i].upper);
        CHECK_INT(lb->model[i].rounds, 4);
    }
    CHECK(lb->model[N - 1].rating > lb->model[N / 2].rating);
    CHECK(lb->model[N / 2].rating > lb->model[0].rating);
    lp_leaderboard_free(lb);
}

TEST(leaderboard_position_bias)
{
    lp_position_bias b;
    CHECK_INT(lp_leaderboard_position_bias(60, 40, 5, 0.95, &b), 0);
    CHECK_NEAR(b.share, 0.6, 1e-12);
    /* Wilson interval and exact binomial p-value, from Python (math.comb). */
    CHECK_NEAR(b.lower, 0.5020025867910618, 1e-9);
    CHECK_NEAR(b.upper, 0.6905987135675411, 1e-9);
    CHECK_NEAR(b.p_value, 0.05688793364098079, 1e-12);
    CHECK_INT(b.ties, 5);
    CHECK_INT(lp_leaderboard_position_bias(0, 10, 0, 0.95, &b), 0);
    CHECK_NEAR(b.p_value, 0.001953125, 1e-15);
    CHECK_NEAR(b.lower, 0, 1e-15);
    CHECK(b.upper > 0.2 && b.upper < 0.35);
    CHECK_INT(lp_leaderboard_position_bias(50, 50, 0, 0.95, &b), 0);
    CHECK_NEAR(b.p_value, 1, 1e-12);
    CHECK_INT(lp_leaderboard_position_bias(0, 0, 7, 0.95, &b), 0);
    CHECK(isnan(b.share) && isnan(b.lower));
    CHECK_NEAR(b.p_value, 1, 0);
    /* Large counts: a 0.1% bias over 2 * 10^7 votes is significant. */
    CHECK_INT(lp_leaderboard_position_bias(10010000, 9990000, 0, 0.95, &b), 0);
    CHECK(b.p_value < 1e-4 && b.p_value > 0);
    CHECK_INT(lp_leaderboard_position_bias(1, 1, 0, 1, &b), LP_EINVAL);
}
