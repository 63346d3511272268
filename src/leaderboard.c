/* leaderboard.c -- Bradley-Terry ratings with bootstrap intervals, Elo,
 * win rates and overlap-aware ranks for models compared in pairs.
 *
 * Point estimate: the Bradley-Terry maximum-likelihood strengths, a tie
 * half a win for each side, from lp_rank_bradley_terry (Hunter's MM, see
 * agg_rank.c), so they match evalica's golden scores.  The plain maximum
 * exists iff the "beat or tied" graph of the compared models is strongly
 * connected; when it is not (a model that never won nor tied, a group that
 * only lost to the rest) the strengths are fitted with LP_RANK_BT_PRIOR
 * instead -- every model plays one virtual tied game against a reference
 * of fixed strength -- and the leaderboard says so (lp_leaderboard.prior).
 * Ratings are 400 log10(strength), shifted so that their mean over the
 * compared models is 1000: the anchor is the average model, not one named
 * model as on Chatbot Arena, so no model's interval is pinned to width 0.
 *
 * Intervals: the nonparametric bootstrap of the comparisons (Efron 1979),
 * as LMSYS does for Chatbot Arena: each round draws n_pairs comparisons
 * with replacement, refits, and re-anchors; the interval is the
 * percentile interval ((1 - level) / 2 and (1 + level) / 2 quantiles,
 * linear interpolation as numpy's default) of a model's rating over the
 * rounds in which it played.  A round whose resample has no plain maximum
 * is fitted with the prior (counted in prior_rounds); a model that does not
 * appear in a round has no rating in it.  Rank = 1 + the number of models
 * whose lower bound is above this model's upper bound (LMSYS's rule).
 *
 * What makes it fast: the comparisons are merged into cells (pair of
 * models, outcome), at most 3 per pair met; a round draws n_pairs indices
 * with xoshiro256** (Blackman and Vigna 2018) into a table of cell counts
 * that stays in cache, then refits from the full-data fit by Newton's
 * method on the log-strengths (a dense n x n Cholesky solve; 4 steps
 * typically; stopping rule: no log-strength moves by more than 1e-10),
 * or, above NEWTON_MAX models or if Newton fails, by Gauss-Seidel MM
 * sweeps over the pairs met (stopping rule: no strength changes by more
 * than TOLERANCE = 1e-9 of itself in a sweep, about 2e-7 rating points,
 * or MAX_SWEEPS).  Round r draws from its own generator seeded by
 * splitmix64(seed, r), so the result is the same for any number
 * of threads. */
#include "leaderboard.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define TOLERANCE    1e-9
#define MAX_SWEEPS   10000
#define MAX_THREADS  64
#define NEWTON_MAX   1024 /* Newton's method for at most this many models */
#define NEWTON_STEPS 30

void lp_leaderboard_opts_init(lp_leaderboard_opts *o)
{
    *o = (lp_leaderboard_opts){.rounds = 1000, .seed = 1, .level = 0.95, .k = 4, .threads = 2};
}

/* ---- random numbers ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct {
    uint64_t s[4];
} xoshiro;

static void xoshiro_seed(xoshiro *g, uint64_t seed, uint64_t round)
{
    uint64_t x = seed ^ (round * 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++) g->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t xoshiro_next(xoshiro *g)
{
    uint64_t *s = g->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* A uniform index below n (Lemire's multiply-shift; bias below n / 2^64). */
static inline size_t draw(xoshiro *g, uint64_t n)
{
    return (size_t)(((unsigned __int128)xoshiro_next(g) * n) >> 64);
}

/* ---- the comparisons as a graph of pairs ---- */

/* Cell 3e + o counts the games of pair e = (lo[e], hi[e]), lo < hi, with
 * outcome o: CELL_LO (lo won), CELL_HI (hi won) or CELL_TIE. */
enum { CELL_LO = 0, CELL_HI = 1, CELL_TIE = 2 };

typedef struct {
    size_t n, n_edges, n_pairs;
    uint32_t *lo, *hi;  /* n_edges */
    uint32_t *cell;     /* n_pairs: the cell of each comparison */
    uint32_t *count;    /* 3 n_edges: the full data's cells */
    size_t *adj_off;    /* n + 1 */
    uint32_t *adj_edge; /* 2 n_edges: the pairs model i is in */
} graph;

typedef struct {
    uint64_t pair; /* lo * n + hi */
    size_t index;  /* of the comparison */
} keyed;

static int by_key(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->pair != y->pair) return x->pair < y->pair ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static void graph_fini(graph *g)
{
    free(g->adj_edge);
    free(g->adj_off);
    free(g->count);
    free(g->cell);
    free(g->hi);
    free(g->lo);
}

/* Merges the comparisons (already checked) into pairs and cells. */
static void graph_init(graph *g, size_t n_pairs, const lp_pair *p, size_t n)
{
    *g = (graph){.n = n, .n_pairs = n_pairs};
    keyed *key = lp_malloc((n_pairs ? n_pairs : 1) * sizeof *key);
    for (size_t r = 0; r < n_pairs; r++) {
        uint64_t lo = p[r].left < p[r].right ? p[r].left : p[r].right;
        uint64_t hi = p[r].left < p[r].right ? p[r].right : p[r].left;
        key[r] = (keyed){lo * n + hi, r};
    }
    qsort(key, n_pairs, sizeof *key, by_key);
    g->lo = lp_malloc((n_pairs ? n_pairs : 1) * sizeof *g->lo);
    g->hi = lp_malloc((n_pairs ? n_pairs : 1) * sizeof *g->hi);
    g->cell = lp_malloc((n_pairs ? n_pairs : 1) * sizeof *g->cell);
    uint64_t last = UINT64_MAX;
    for (size_t k = 0; k < n_pairs; k++) {
        size_t r = key[k].index;
        uint32_t lo = p[r].left < p[r].right ? p[r].left : p[r].right;
        uint32_t hi = p[r].left < p[r].right ? p[r].right : p[r].left;
        uint64_t pair = (uint64_t)lo * n + hi;
        if (pair != last) {
            g->lo[g->n_edges] = lo;
            g->hi[g->n_edges++] = hi;
            last = pair;
        }
        int o = p[r].winner == LP_PAIR_TIE                           ? CELL_TIE
                : (p[r].winner == LP_PAIR_LEFT) == (p[r].left == lo) ? CELL_LO
                                                                     : CELL_HI;
        g->cell[r] = (uint32_t)(3 * (g->n_edges - 1) + (size_t)o);
    }
    free(key);
    g->count = lp_calloc(3 * g->n_edges + 1, sizeof *g->count);
    for (size_t r = 0; r < n_pairs; r++) g->count[g->cell[r]]++;
    g->adj_off = lp_calloc(n + 1, sizeof *g->adj_off);
    g->adj_edge = lp_malloc((2 * g->n_edges + 1) * sizeof *g->adj_edge);
    for (size_t e = 0; e < g->n_edges; e++) g->adj_off[g->lo[e] + 1]++, g->adj_off[g->hi[e] + 1]++;
    for (size_t i = 0; i < n; i++) g->adj_off[i + 1] += g->adj_off[i];
    size_t *fill = lp_malloc((n ? n : 1) * sizeof *fill);
    memcpy(fill, g->adj_off, n * sizeof *fill);
    for (size_t e = 0; e < g->n_edges; e++) {
        g->adj_edge[fill[g->lo[e]]++] = (uint32_t)e;
        g->adj_edge[fill[g->hi[e]]++] = (uint32_t)e;
    }
    free(fill);
}

/* Per-thread working storage for one fit. */
typedef struct {
    double *w, *p, *old; /* n */
    uint32_t *stack;     /* n */
    unsigned char *seen; /* n */
    unsigned char *in;   /* n: played in this sample */
    uint32_t *count;     /* 3 n_edges */
    uint32_t *idx;       /* n: a present model's row in h, or UINT32_MAX */
    double *h, *grad;    /* NEWTON_MAX^2 and NEWTON_MAX */
} scratch;

static void scratch_init(scratch *s, const graph *g)
{
    size_t n = g->n ? g->n : 1;
    s->w = lp_malloc(n * sizeof *s->w);
    s->p = lp_malloc(n * sizeof *s->p);
    s->old = lp_malloc(n * sizeof *s->old);
    s->stack = lp_malloc(n * sizeof *s->stack);
    s->seen = lp_malloc(n);
    s->in = lp_malloc(n);
    s->count = lp_malloc((3 * g->n_edges + 1) * sizeof *s->count);
    size_t m = n < NEWTON_MAX ? n : NEWTON_MAX;
    s->idx = lp_malloc(n * sizeof *s->idx);
    s->h = lp_malloc(m * m * sizeof *s->h);
    s->grad = lp_malloc(m * sizeof *s->grad);
}

static void scratch_fini(scratch *s)
{
    free(s->grad);
    free(s->h);
    free(s->idx);
    free(s->count);
    free(s->in);
    free(s->seen);
    free(s->stack);
    free(s->old);
    free(s->p);
    free(s->w);
}

/* Whether i beat or tied the other side of pair e in the sample c. */
static inline int beat_or_tied(const graph *g, const uint32_t *c, uint32_t e, uint32_t i)
{
    return c[3 * e + CELL_TIE] || c[3 * e + (g->lo[e] == i ? CELL_LO : CELL_HI)];
}

/* How many models can be reached from start along "beat or tied" edges of
 * the sample c, forwards (i -> j when i beat or tied j) or backwards. */
static size_t reach(const graph *g, const uint32_t *c, scratch *s, uint32_t start, int forward)
{
    size_t top = 0, reached = 1;
    memset(s->seen, 0, g->n);
    s->seen[start] = 1;
    s->stack[top++] = start;
    while (top) {
        uint32_t i = s->stack[--top];
        for (size_t a = g->adj_off[i]; a < g->adj_off[i + 1]; a++) {
            uint32_t e = g->adj_edge[a], j = g->lo[e] == i ? g->hi[e] : g->lo[e];
            if (s->seen[j] || !(forward ? beat_or_tied(g, c, e, i) : beat_or_tied(g, c, e, j)))
                continue;
            s->seen[j] = 1;
            reached++;
            s->stack[top++] = j;
        }
    }
    return reached;
}

/* Fills s->w (wins, a tie half) and s->in from the sample c; returns
 * whether the plain maximum likelihood exists for it (Ford's condition). */
static int sample_stats(const graph *g, const uint32_t *c, scratch *s)
{
    memset(s->in, 0, g->n);
    for (size_t i = 0; i < g->n; i++) s->w[i] = 0;
    for (size_t e = 0; e < g->n_edges; e++) {
        const uint32_t *x = c + 3 * e;
        if (!(x[0] | x[1] | x[2])) continue;
        s->w[g->lo[e]] += x[CELL_LO] + 0.5 * x[CELL_TIE];
        s->w[g->hi[e]] += x[CELL_HI] + 0.5 * x[CELL_TIE];
        s->in[g->lo[e]] = s->in[g->hi[e]] = 1;
    }
    size_t present = 0;
    uint32_t start = 0;
    for (size_t i = g->n; i-- > 0;)
        if (s->in[i]) present++, start = (uint32_t)i;
    if (present == 0) return 1;
    return reach(g, c, s, start, 1) == present && reach(g, c, s, start, 0) == present;
}

/* Fits the strengths s->p (warm start in, result out) of the models in
 * s->in on the sample c by Gauss-Seidel MM sweeps (Hunter 2004, eq. 3,
 * each model updated with its neighbours' latest values), with `prior`
 * virtual ties against a reference of strength 1 (0: none; then the
 * plain maximum must exist).  Returns the sweeps used. */
static int fit(const graph *g, const uint32_t *c, double prior, scratch *s)
{
    double *p = s->p;
    int sweep = 0;
    double change;
    do {
        change = 0;
        for (size_t i = 0; i < g->n; i++) {
            if (!s->in[i]) continue;
            double den = prior > 0 ? prior / (p[i] + 1) : 0;
            for (size_t a = g->adj_off[i]; a < g->adj_off[i + 1]; a++) {
                uint32_t e = g->adj_edge[a], j = g->lo[e] == i ? g->hi[e] : g->lo[e];
                const uint32_t *x = c + 3 * e;
                uint32_t games = x[0] + x[1] + x[2];
                if (games) den += games / (p[i] + p[j]);
            }
            double next = (s->w[i] + prior / 2) / den;
            change = fmax(change, fabs(next - p[i]) / next);
            p[i] = next;
        }
        sweep++;
    } while (change > TOLERANCE && sweep < MAX_SWEEPS);
    return sweep;
}

/* The dot product of x and y[0..n), with four sums so that it pipelines. */
static inline double dot(const double *x, const double *y, size_t n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        s0 += x[k] * y[k];
        s1 += x[k + 1] * y[k + 1];
        s2 += x[k + 2] * y[k + 2];
        s3 += x[k + 3] * y[k + 3];
    }
    for (; k < n; k++) s0 += x[k] * y[k];
    return (s0 + s1) + (s2 + s3);
}

/* Solves a x = b in place (b becomes x) for the symmetric positive
 * definite m x m matrix a by Cholesky; -1 if a is not positive definite. */
static int cholesky_solve(double *a, double *b, size_t m)
{
    for (size_t j = 0; j < m; j++) {
        double d = a[j * m + j] - dot(a + j * m, a + j * m, j);
        if (!(d > 0)) return -1;
        d = sqrt(d);
        a[j * m + j] = d;
        for (size_t i = j + 1; i < m; i++) {
            a[i * m + j] = (a[i * m + j] - dot(a + i * m, a + j * m, j)) / d;
        }
    }
    for (size_t i = 0; i < m; i++) {
        b[i] = (b[i] - dot(a + i * m, b, i)) / a[i * m + i];
    }
    for (size_t i = m; i-- > 0;) {
        double v = b[i];
        for (size_t k = i + 1; k < m; k++) v -= a[k * m + i] * b[k];
        b[i] = v / a[i * m + i];
    }
    return 0;
}

/* The same fit as fit() by Newton's method on the log-strengths theta,
 * which converges in a few steps from a warm start: the gradient of the
 * log-likelihood is W_i - sum_e n_e pi_i (pi_i = p_i / (p_i + p_j)), its
 * negated Hessian the weighted Laplacian of n_e pi_i pi_j (plus the
 * prior's games on the diagonal).  Without a prior the Laplacian is
 * singular along theta + c, the free scale; the gradient is orthogonal to
 * that direction, so adding the rank-one term mean(diag) 1 1^T gives the
 * step with no component along it.  Steps are cut to at most 2 in any
 * theta_i.  Stopping rule: the largest step below 1e-10.  Returns the
 * steps, or -1 (s->p then undefined) with more than NEWTON_MAX models,
 * a Hessian not positive definite, or no convergence in NEWTON_STEPS. */
static int newton(const graph *g, const uint32_t *c, double prior, scratch *s)
{
    size_t m = 0;
    for (size_t i = 0; i < g->n; i++) s->idx[i] = s->in[i] ? (uint32_t)m++ : UINT32_MAX;
    if (m > NEWTON_MAX) return -1;
    if (m == 0) return 0;
    double *h = s->h, *grad = s->grad, *p = s->p;
    for (int step = 1; step <= NEWTON_STEPS; step++) {
        memset(h, 0, m * m * sizeof *h);
        for (size_t i = 0; i < g->n; i++) {
            if (s->idx[i] == UINT32_MAX) continue;
            uint32_t a = s->idx[i];
            double pi = prior > 0 ? p[i] / (p[i] + 1) : 0;
            grad[a] = s->w[i] + prior / 2 - prior * pi;
            h[a * m + a] = prior * pi * (1 - pi);
        }
        for (size_t e = 0; e < g->n_edges; e++) {
            const uint32_t *x = c + 3 * e;
            double games = (double)x[0] + x[1] + x[2];
            if (games == 0) continue;
            uint32_t a = s->idx[g->lo[e]], b = s->idx[g->hi[e]];
            double pa = p[g->lo[e]] / (p[g->lo[e]] + p[g->hi[e]]), v = games * pa * (1 - pa);
            grad[a] -= games * pa;
            grad[b] -= games * (1 - pa);
            h[a * m + a] += v;
            h[b * m + b] += v;
            h[a * m + b] -= v;
            h[b * m + a] -= v;
        }
        if (prior == 0) {
            double mean = 0;
            for (size_t a = 0; a < m; a++) mean += h[a * m + a] / (double)m;
            for (size_t a = 0; a < m * m; a++) h[a] += mean;
        }
        if (cholesky_solve(h, grad, m)) return -1;
        double big = 0;
        for (size_t a = 0; a < m; a++) big = fmax(big, fabs(grad[a]));
        if (!isfinite(big)) return -1;
        double cut = big > 2 ? 2 / big : 1;
        for (size_t i = 0; i < g->n; i++)
            if (s->idx[i] != UINT32_MAX) p[i] *= exp(cut * grad[s->idx[i]]);
        if (big < 1e-10) return step;
    }
    return -1;
}

/* rating[i] for the models in `in` from strengths p, mean LP_LB_ANCHOR;
 * NaN for the others. */
static void to_ratings(const double *p, const unsigned char *in, size_t n, double *rating)
{
    double sum = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        rating[i] = in[i] ? LP_LB_SCALE * log10(p[i]) : NAN;
        if (in[i]) sum += rating[i], m++;
    }
    for (size_t i = 0; i < n && m; i++)
        if (in[i]) rating[i] += LP_LB_ANCHOR - sum / (double)m;
}

/* ---- the bootstrap ---- */

typedef struct {
    const graph *g;
    const double *warm; /* n: starting strengths */
    double prior;       /* > 0: every round uses it */
    size_t rounds, threads, thread;
    uint64_t seed;
    double *rating; /* rounds x n */
    size_t prior_rounds;
} boot_job;

static void *boot_run(void *arg)
{
    boot_job *b = arg;
    const graph *g = b->g;
    scratch s;
    scratch_init(&s, g);
    size_t cells = 3 * g->n_edges;
    for (size_t r = b->thread; r < b->rounds; r += b->threads) {
        xoshiro rng;
        xoshiro_seed(&rng, b->seed, r);
        memset(s.count, 0, cells * sizeof *s.count);
        const uint32_t *cell = g->cell;
        uint32_t *count = s.count;
        for (size_t k = 0; k < g->n_pairs; k++) count[cell[draw(&rng, g->n_pairs)]]++;
        int ml = sample_stats(g, count, &s);
        double prior = b->prior > 0 || !ml ? LP_RANK_BT_PRIOR : 0;
        if (b->prior == 0 && !ml) b->prior_rounds++;
        memcpy(s.p, b->warm, g->n * sizeof *s.p);
        if (newton(g, count, prior, &s) < 0) {
            memcpy(s.p, b->warm, g->n * sizeof *s.p);
            fit(g, count, prior, &s);
        }
        to_ratings(s.p, s.in, g->n, b->rating + r * g->n);
    }
    scratch_fini(&s);
    return NULL;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of the sorted v[0..m), interpolating linearly. */
static double quantile(const double *v, size_t m, double q)
{
    double pos = q * (double)(m - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= m) return v[m - 1];
    return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}

static int check_pairs(size_t n_pairs, const lp_pair *p, size_t n)
{
    for (size_t r = 0; r < n_pairs; r++) {
        if (p[r].left >= n || p[r].right >= n || p[r].left == p[r].right) return LP_EINVAL;
        if (p[r].winner != LP_PAIR_LEFT && p[r].winner != LP_PAIR_RIGHT &&
            p[r].winner != LP_PAIR_TIE)
            return LP_EINVAL;
    }
    return 0;
}

/* Strengths (sum 1 over the compared models) of the full data into lb. */
static int point_fit(size_t n_pairs, const lp_pair *p, const unsigned char *in, lp_leaderboard *lb,
                     double *score)
{
    size_t n = lb->n_models;
    int rc = lp_rank_bradley_terry(n_pairs, p, n, 0, score, NULL);
    if (rc == LP_EINVAL) {
        lb->prior = 1;
        rc = lp_rank_bradley_terry(n_pairs, p, n, LP_RANK_BT_PRIOR, score, NULL);
    }
    if (rc) return rc;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in[i]) score[i] = 0;
        sum += score[i];
    }
    for (size_t i = 0; i < n && sum > 0 && lb->prior; i++) score[i] /= sum;
    return 0;
}

int lp_leaderboard_compute(size_t n_pairs, const lp_pair *p, size_t n_models,
                           const lp_leaderboard_opts *opts, lp_leaderboard **out)
{
    lp_leaderboard_opts o;
    if (opts)
        o = *opts;
    else
        lp_leaderboard_opts_init(&o);
    if (!(o.level > 0 && o.level < 1) || !isfinite(o.k) || o.threads < 1 ||
        o.threads > MAX_THREADS || n_pairs > UINT32_MAX / 2 || n_models > LP_LB_MAX_MODELS)
        return LP_EINVAL;
    int rc = check_pairs(n_pairs, p, n_models);
    if (rc) return rc;

    size_t n = n_models;
    lp_leaderboard *lb = lp_calloc(1, sizeof *lb);
    lb->n_models = n;
    lb->n_pairs = n_pairs;
    lb->level = o.level;
    lb->model = lp_calloc(n ? n : 1, sizeof *lb->model);
    lb->win_rate = lp_malloc((n ? n * n : 1) * sizeof *lb->win_rate);
    double *score = lp_malloc((n ? n : 1) * sizeof *score);
    double *elo = lp_malloc((n ? n : 1) * sizeof *elo);
    unsigned char *in = lp_calloc(n ? n : 1, 1);
    double *rating = NULL;
    graph g;
    graph_init(&g, n_pairs, p, n);

    /* Counts and the win-rate matrix. */
    for (size_t i = 0; i < n * n; i++) lb->win_rate[i] = NAN;
    for (size_t e = 0; e < g.n_edges; e++) {
        const uint32_t *x = g.count + 3 * e;
        lp_lb_model *lo = &lb->model[g.lo[e]], *hi = &lb->model[g.hi[e]];
        double games = (double)x[0] + x[1] + x[2];
        lo->wins += x[CELL_LO], lo->losses += x[CELL_HI], lo->ties += x[CELL_TIE];
        hi->wins += x[CELL_HI], hi->losses += x[CELL_LO], hi->ties += x[CELL_TIE];
        lb->win_rate[g.lo[e] * n + g.hi[e]] = (x[CELL_LO] + 0.5 * x[CELL_TIE]) / games;
        lb->win_rate[g.hi[e] * n + g.lo[e]] = (x[CELL_HI] + 0.5 * x[CELL_TIE]) / games;
        in[g.lo[e]] = in[g.hi[e]] = 1;
    }
    for (size_t i = 0; i < n; i++) {
        lp_lb_model *m = &lb->model[i];
        m->games = m->wins + m->ties + m->losses;
        m->win_rate = m->games ? (m->wins + 0.5 * (double)m->ties) / (double)m->games : NAN;
    }

    if ((rc = point_fit(n_pairs, p, in, lb, score))) goto fail;
    if ((rc = lp_rank_elo(n_pairs, p, n, 1000, o.k, elo))) goto fail;
    double *point = lp_malloc((n ? n : 1) * sizeof *point);
    to_ratings(score, in, n, point);
    for (size_t i = 0; i < n; i++) {
        lb->model[i].strength = score[i];
        lb->model[i].rating = point[i];
        lb->model[i].elo = elo[i];
        lb->model[i].lower = lb->model[i].upper = NAN;
    }

    /* The bootstrap, warm-started from the full fit at geometric mean 1
     * (the prior's reference strength). */
    if (o.rounds > 0 && n_pairs > 0) {
        for (size_t i = 0; i < n; i++)
            score[i] = in[i] ? pow(10, (point[i] - LP_LB_ANCHOR) / LP_LB_SCALE) : 1;
        rating = lp_malloc(o.rounds * n * sizeof *rating);
        size_t threads = (size_t)o.threads < o.rounds ? (size_t)o.threads : o.rounds;
        boot_job job[MAX_THREADS];
        pthread_t tid[MAX_THREADS];
        size_t started = 1;
        for (size_t t = 0; t < threads; t++)
            job[t] = (boot_job){&g,       score,   lb->prior ? LP_RANK_BT_PRIOR : 0,
                                o.rounds, threads, t,
                                o.seed,   rating,  0};
        for (size_t t = 1; t < threads; t++)
            if (pthread_create(&tid[t], NULL, boot_run, &job[t]) == 0)
                started++;
            else
                break;
        /* Rounds of a thread that did not start are run here. */
        for (size_t t = started; t < threads; t++) boot_run(&job[t]);
        boot_run(&job[0]);
        for (size_t t = 1; t < started; t++) pthread_join(tid[t], NULL);
        for (size_t t = 0; t < threads; t++) lb->prior_rounds += job[t].prior_rounds;
        lb->rounds = o.rounds;

        double *v = lp_malloc(o.rounds * sizeof *v);
        double lo_q = (1 - o.level) / 2, hi_q = (1 + o.level) / 2;
        for (size_t i = 0; i < n; i++) {
            size_t m = 0;
            for (size_t r = 0; r < o.rounds; r++)
                if (!isnan(rating[r * n + i])) v[m++] = rating[r * n + i];
            lb->model[i].rounds = m;
            if (!m) continue;
            qsort(v, m, sizeof *v, by_double);
            lb->model[i].lower = quantile(v, m, lo_q);
            lb->model[i].upper = quantile(v, m, hi_q);
        }
        free(v);
    }
    free(point);

    /* Ranks; a model without an interval stands at its point rating. */
    for (size_t i = 0; i < n; i++) {
        lp_lb_model *m = &lb->model[i];
        if (!in[i]) continue;
        double up = isnan(m->upper) ? m->rating : m->upper;
        m->rank = 1;
        for (size_t j = 0; j < n; j++) {
            if (!in[j] || j == i) continue;
            double low = isnan(lb->model[j].lower) ? lb->model[j].rating : lb->model[j].lower;
            if (low > up) m->rank++;
        }
    }
    free(rating);
    graph_fini(&g);
    free(in);
    free(elo);
    free(score);
    *out = lb;
    return 0;

fail:
    graph_fini(&g);
    free(in);
    free(elo);
    free(score);
    lp_leaderboard_free(lb);
    return rc;
}

void lp_leaderboard_free(lp_leaderboard *lb)
{
    if (!lb) return;
    free(lb->win_rate);
    free(lb->model);
    free(lb);
}

/* ---- position bias ---- */

/* The x with P(Z <= x) = q for a standard normal Z, by bisection. */
static double normal_quantile(double q)
{
    double lo = -40, hi = 40;
    for (int i = 0; i < 200; i++) {
        double mid = (lo + hi) / 2;
        if (0.5 * erfc(-mid / sqrt(2)) < q)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

/* Two-sided exact binomial test of k successes in n trials against 1/2:
 * 2 P(X <= min(k, n - k)), at most 1 (the distribution is symmetric, so
 * this equals the "as likely or less" rule of R and scipy).  Beyond 10^7
 * trials the normal approximation with continuity correction. */
static double binomial_p(uint64_t k, uint64_t n)
{
    if (n == 0) return 1;
    uint64_t m = k < n - k ? k : n - k;
    if (n > 10000000) {
        double z = ((double)n / 2 - (double)m - 0.5) / sqrt((double)n / 4);
        return z <= 0 ? 1 : fmin(1, erfc(z / sqrt(2)));
    }
    double nn = (double)n, base = lgamma(nn + 1) - nn * log(2), sum = 0;
    for (uint64_t i = m + 1; i-- > 0;) {
        double term = exp(base - lgamma((double)i + 1) - lgamma(nn - (double)i + 1));
        sum += term;
        if (term < sum * 1e-17) break;
    }
    return fmin(1, 2 * sum);
}

int lp_leaderboard_position_bias(uint64_t left, uint64_t right, uint64_t ties, double level,
                                 lp_position_bias *out)
{
    if (!(level > 0 && level < 1)) return LP_EINVAL;
    *out = (lp_position_bias){left, right, ties, NAN, NAN, NAN, 1};
    uint64_t n = left + right;
    if (n == 0) return 0;
    double z = normal_quantile((1 + level) / 2), nn = (double)n, share = (double)left / nn;
    double z2 = z * z, den = 1 + z2 / nn;
    double center = (share + z2 / (2 * nn)) / den;
    double half = z / den * sqrt(share * (1 - share) / nn + z2 / (4 * nn * nn));
    out->share = share;
    out->lower = fmax(0, center - half);
    out->upper = fmin(1, center + half);
    out->p_value = binomial_p(left, n);
    return 0;
}
