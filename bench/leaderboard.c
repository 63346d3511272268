/* leaderboard.c -- speed and accuracy of the leaderboard (src/leaderboard.c)
 * on synthetic arena data.
 *
 *     build/leaderboard [N_PAIRS [N_MODELS [ROUNDS [THREADS]]]]
 *
 * Defaults: 100,000 comparisons among 100 models, 1,000 bootstrap rounds,
 * 2 threads.  True ratings are drawn N(1000, 150^2) with a fixed seed; each
 * comparison picks two different models uniformly at random; with
 * P = 1 / (1 + 10^((R_j - R_i) / 400)) the Bradley-Terry probability that
 * i beats j, it is a tie with probability t = 0.2 min(P, 1 - P) (10% for
 * an even match) and a win for i with probability P - t / 2, so that i's
 * expected score (a tie half a win) is P, the model the fit assumes.  Printed, all measured in
 * this run:
 *   - the full leaderboard (point fit, Elo, 1,000 bootstrap rounds), median
 *     of 3 runs, against the 2 s target;
 *   - the naive reference: each round resamples the comparison list and
 *     refits with lp_rank_bradley_terry from scratch, timed on a few rounds
 *     and scaled to all of them;
 *   - the raw cost of drawing the rounds x N_PAIRS resample indices alone
 *     (xoshiro256**, one thread), the floor of any exact bootstrap;
 *   - recovery of the true ratings: RMSE of the fitted ratings (both
 *     centred on 1000), Spearman correlation, and the share of models whose
 *     true rating lies in its interval (the nominal level is 0.95). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agg_rank.h"
#include "leaderboard.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* xoshiro256** seeded by splitmix64, as in src/leaderboard.c. */
static uint64_t s[4];
static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}
static uint64_t next(void)
{
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}
static void seed(uint64_t x)
{
    for (int i = 0; i < 4; i++) {
        uint64_t z = (x += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        s[i] = z ^ (z >> 31);
    }
}
static double uniform(void)
{
    return (double)(next() >> 11) * 0x1.0p-53;
}
static size_t below(uint64_t n)
{
    return (size_t)(((unsigned __int128)next() * n) >> 64);
}

static int cmp_idx_by(const double *v, size_t a, size_t b)
{
    return (v[a] > v[b]) - (v[a] < v[b]);
}

/* Ranks 1..n of v (no ties expected in continuous data). */
static void ranks(const double *v, size_t n, double *rank)
{
    for (size_t i = 0; i < n; i++) {
        size_t r = 1;
        for (size_t j = 0; j < n; j++)
            if (cmp_idx_by(v, j, i) < 0) r++;
        rank[i] = (double)r;
    }
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    size_t n_pairs = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
    size_t rounds = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000;
    int threads = argc > 4 ? atoi(argv[4]) : 2;
    if (n < 2 || n > LP_LB_MAX_MODELS || n_pairs == 0) {
        fprintf(stderr, "usage: leaderboard [N_PAIRS [N_MODELS [ROUNDS [THREADS]]]]\n");
        return 2;
    }

    /* The data. */
    seed(20261123);
    double *truth = malloc(n * sizeof *truth), mean = 0;
    for (size_t i = 0; i < n; i++) {
        double u = uniform(), v = uniform();
        truth[i] = 1000 + 150 * sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
        mean += truth[i] / (double)n;
    }
    for (size_t i = 0; i < n; i++) truth[i] += 1000 - mean;
    lp_pair *p = malloc(n_pairs * sizeof *p);
    for (size_t r = 0; r < n_pairs; r++) {
        uint32_t a = (uint32_t)below(n), b = (uint32_t)below(n - 1);
        if (b >= a) b++;
        double pa = 1 / (1 + pow(10, (truth[b] - truth[a]) / 400));
        double tie = 0.2 * fmin(pa, 1 - pa), u = uniform();
        int w = u < tie ? LP_PAIR_TIE : u < tie + pa - tie / 2 ? LP_PAIR_LEFT : LP_PAIR_RIGHT;
        p[r] = (lp_pair){a, b, w};
    }

    /* The leaderboard, median of 3 runs. */
    lp_leaderboard_opts o;
    lp_leaderboard_opts_init(&o);
    o.rounds = rounds;
    o.threads = threads;
    double t[3];
    lp_leaderboard *lb = NULL;
    for (int k = 0; k < 3; k++) {
        lp_leaderboard_free(lb);
        double t0 = now();
        if (lp_leaderboard_compute(n_pairs, p, n, &o, &lb)) {
            fprintf(stderr, "leaderboard failed\n");
            return 1;
        }
        t[k] = now() - t0;
    }
    qsort(t, 3, sizeof *t, by_double);

    /* The naive bootstrap on a few rounds. */
    size_t naive_rounds = rounds < 5 ? rounds : 5;
    lp_pair *q = malloc(n_pairs * sizeof *q);
    double *score = malloc(n * sizeof *score), t0 = now();
    seed(7);
    for (size_t r = 0; r < naive_rounds; r++) {
        for (size_t k = 0; k < n_pairs; k++) q[k] = p[below(n_pairs)];
        if (lp_rank_bradley_terry(n_pairs, q, n, 0, score, NULL) &&
            lp_rank_bradley_terry(n_pairs, q, n, LP_RANK_BT_PRIOR, score, NULL))
            return 1;
    }
    double naive = naive_rounds ? (now() - t0) / (double)naive_rounds * (double)rounds : 0;

    /* The draws alone. */
    t0 = now();
    uint64_t sink = 0;
    for (size_t r = 0; r < rounds; r++)
        for (size_t k = 0; k < n_pairs; k++) sink += below(n_pairs);
    double draws = now() - t0;

    /* Recovery. */
    double se = 0, covered = 0, width = 0;
    double *fit = malloc(n * sizeof *fit), *rt = malloc(n * sizeof *rt),
           *rf = malloc(n * sizeof *rf);
    for (size_t i = 0; i < n; i++) {
        fit[i] = lb->model[i].rating;
        se += (fit[i] - truth[i]) * (fit[i] - truth[i]);
        covered += lb->model[i].lower <= truth[i] && truth[i] <= lb->model[i].upper;
        width += (lb->model[i].upper - lb->model[i].lower) / (double)n;
    }
    ranks(truth, n, rt);
    ranks(fit, n, rf);
    double d2 = 0;
    for (size_t i = 0; i < n; i++) d2 += (rt[i] - rf[i]) * (rt[i] - rf[i]);
    double rho = 1 - 6 * d2 / ((double)n * ((double)n * n - 1));

    printf("leaderboard: %zu comparisons, %zu models, %zu rounds, %d threads\n", n_pairs, n, rounds,
           threads);
    printf("| what | time |\n|---|---|\n");
    printf("| lp_leaderboard_compute (point fit, Elo, %zu bootstrap rounds), median of 3 | %.3f s "
           "(runs %.3f, %.3f, %.3f; target < 2 s) |\n",
           rounds, t[1], t[0], t[1], t[2]);
    printf("| naive: resample the list, lp_rank_bradley_terry each round (%zu rounds timed, "
           "scaled) | %.1f s |\n",
           naive_rounds, naive);
    printf("| drawing the %zu x %zu indices alone, one thread | %.3f s |\n", rounds, n_pairs,
           draws);
    printf("\nrecovery of the true ratings: RMSE %.2f points, Spearman %.4f, %.0f of %zu true "
           "ratings inside their %.0f%% interval (mean width %.1f points), %zu prior rounds\n",
           sqrt(se / (double)n), rho, covered, n, 100 * o.level, width, lb->prior_rounds);
    if (sink == 42) puts("");
    lp_leaderboard_free(lb);
    free(rf);
    free(rt);
    free(fit);
    free(score);
    free(q);
    free(p);
    free(truth);
    return 0;
}
