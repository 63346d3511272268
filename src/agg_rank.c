/* agg_rank.c -- Bradley-Terry, Elo and Borda scores for items compared in
 * pairs or ordered in rankings.
 *
 * Bradley-Terry (R. A. Bradley and M. E. Terry, Biometrika 1952) is fitted
 * by the MM algorithm of D. R. Hunter, "MM algorithms for generalized
 * Bradley-Terry models", Annals of Statistics 32(1), 2004, eq. (3) -- the
 * same fixed point as Zermelo's 1929 iteration:
 *     p_i <- W_i / sum_j n_ij / (p_i + p_j)
 * where W_i counts i's wins (a tie half a win for each side) and n_ij the
 * games between i and j, repeated games merged first.  Every sweep raises
 * the likelihood; the maximum exists and is unique (up to scale) iff the
 * "beat or tied" graph on the compared items is strongly connected
 * (Hunter's Assumption 1; Ford 1957), which is checked before iterating.
 * With a prior, each item also plays `prior` tied games against a virtual
 * item of strength 1 (W_i += prior / 2, and prior / (p_i + 1) joins the
 * sum), which makes the graph connected and fixes the scale.  Stopping
 * rule: when no score changes by more than 1e-12 of itself in a sweep, or
 * after MAX_SWEEPS sweeps.  Scores are normalised to sum to 1 (every sweep
 * without a prior, at the end with one).
 *
 * Elo (A. Elo, "The Rating of Chessplayers", 1978) is the online update in
 * input order; Borda (J.-C. de Borda, 1781) counts places, see agg_rank.h
 * for how partial rankings score.  Both are single passes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg_rank.h"
#include "util.h"

#define MAX_SWEEPS 10000
#define TOLERANCE  1e-12

/* LP_EINVAL unless every pair names two different items below n_items
 * and a known winner. */
static int check_pairs(size_t n_pairs, const lp_pair *p, size_t n_items)
{
    for (size_t r = 0; r < n_pairs; r++) {
        if (p[r].left >= n_items || p[r].right >= n_items || p[r].left == p[r].right)
            return LP_EINVAL;
        if (p[r].winner != LP_PAIR_LEFT && p[r].winner != LP_PAIR_RIGHT &&
            p[r].winner != LP_PAIR_TIE)
            return LP_EINVAL;
    }
    return 0;
}

/* Games between one pair of items, lo < hi. */
typedef struct {
    uint32_t lo, hi;
    double n;
} games;

static int by_items(const void *a, const void *b)
{
    const games *x = a, *y = b;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    return (x->hi > y->hi) - (x->hi < y->hi);
}

/* How many items can be reached from start (itself included) along the
 * edges, item i's neighbours being adj[off[i] .. off[i + 1]).  stack and
 * seen have room for n_items. */
static size_t reach(size_t start, const size_t *off, const uint32_t *adj, uint32_t *stack,
                    unsigned char *seen, size_t n_items)
{
    size_t top = 0, reached = 1;
    memset(seen, 0, n_items);
    seen[start] = 1;
    stack[top++] = (uint32_t)start;
    while (top) {
        uint32_t i = stack[--top];
        for (size_t e = off[i]; e < off[i + 1]; e++) {
            if (seen[adj[e]]) continue;
            seen[adj[e]] = 1;
            reached++;
            stack[top++] = adj[e];
        }
    }
    return reached;
}

/* Whether the compared items form one strongly connected component of the
 * graph with an edge i -> j whenever i beat or tied j. */
static int ml_exists(size_t n_pairs, const lp_pair *p, size_t n_items)
{
    size_t *fwd_off = lp_calloc(n_items + 1, sizeof *fwd_off);
    size_t *bwd_off = lp_calloc(n_items + 1, sizeof *bwd_off);
    size_t edges = 0;
    for (size_t r = 0; r < n_pairs; r++) {
        if (p[r].winner != LP_PAIR_RIGHT) fwd_off[p[r].left + 1]++, bwd_off[p[r].right + 1]++;
        if (p[r].winner != LP_PAIR_LEFT) fwd_off[p[r].right + 1]++, bwd_off[p[r].left + 1]++;
        edges += p[r].winner == LP_PAIR_TIE ? 2 : 1;
    }
    for (size_t i = 0; i < n_items; i++) {
        fwd_off[i + 1] += fwd_off[i];
        bwd_off[i + 1] += bwd_off[i];
    }
    uint32_t *fwd = lp_malloc((edges ? edges : 1) * sizeof *fwd);
    uint32_t *bwd = lp_malloc((edges ? edges : 1) * sizeof *bwd);
    size_t *fill_f = lp_malloc(n_items * sizeof *fill_f),
           *fill_b = lp_malloc(n_items * sizeof *fill_b);
    memcpy(fill_f, fwd_off, n_items * sizeof *fill_f);
    memcpy(fill_b, bwd_off, n_items * sizeof *fill_b);
    for (size_t r = 0; r < n_pairs; r++) {
        uint32_t l = p[r].left, rt = p[r].right;
        if (p[r].winner != LP_PAIR_RIGHT) fwd[fill_f[l]++] = rt, bwd[fill_b[rt]++] = l;
        if (p[r].winner != LP_PAIR_LEFT) fwd[fill_f[rt]++] = l, bwd[fill_b[l]++] = rt;
    }
    /* Compared items, and one to start from. */
    size_t compared = 0, start = 0;
    unsigned char *in = lp_calloc(n_items, 1), *seen = lp_malloc(n_items);
    for (size_t r = 0; r < n_pairs; r++) in[p[r].left] = in[p[r].right] = 1;
    for (size_t i = n_items; i-- > 0;) {
        if (!in[i]) continue;
        compared++;
        start = i;
    }
    uint32_t *stack = lp_malloc(n_items * sizeof *stack);
    int ok = compared == 0 || (reach(start, fwd_off, fwd, stack, seen, n_items) == compared &&
                               reach(start, bwd_off, bwd, stack, seen, n_items) == compared);
    free(stack);
    free(seen);
    free(in);
    free(fill_b);
    free(fill_f);
    free(bwd);
    free(fwd);
    free(bwd_off);
    free(fwd_off);
    return ok;
}

static void normalise(double *score, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += score[i];
    if (sum > 0)
        for (size_t i = 0; i < n; i++) score[i] /= sum;
}

int lp_rank_bradley_terry(size_t n_pairs, const lp_pair *p, size_t n_items, double prior,
                          double *score, int *iterations)
{
    int rc = check_pairs(n_pairs, p, n_items);
    if (rc) return rc;
    if (!isfinite(prior) || prior < 0) return LP_EINVAL;
    if (iterations) *iterations = 0;
    if (n_items == 0) return 0;
    if (prior == 0 && !ml_exists(n_pairs, p, n_items)) return LP_EINVAL;

    /* Wins, and the games merged by pair of items. */
    double *wins = lp_calloc(n_items, sizeof *wins), *den = lp_malloc(n_items * sizeof *den);
    double *next = lp_malloc(n_items * sizeof *next);
    games *g = lp_malloc((n_pairs ? n_pairs : 1) * sizeof *g);
    unsigned char *in = lp_calloc(n_items, 1);
    for (size_t r = 0; r < n_pairs; r++) {
        uint32_t l = p[r].left, rt = p[r].right;
        if (p[r].winner == LP_PAIR_LEFT) wins[l] += 1;
        if (p[r].winner == LP_PAIR_RIGHT) wins[rt] += 1;
        if (p[r].winner == LP_PAIR_TIE) wins[l] += 0.5, wins[rt] += 0.5;
        g[r] = (games){l < rt ? l : rt, l < rt ? rt : l, 1};
        in[l] = in[rt] = 1;
    }
    qsort(g, n_pairs, sizeof *g, by_items);
    size_t ng = 0;
    for (size_t r = 0; r < n_pairs; r++) {
        if (ng && g[ng - 1].lo == g[r].lo && g[ng - 1].hi == g[r].hi)
            g[ng - 1].n += 1;
        else
            g[ng++] = g[r];
    }

    for (size_t i = 0; i < n_items; i++) score[i] = prior > 0 || in[i] ? 1 : 0;
    if (prior == 0) normalise(score, n_items);
    int sweep = 0;
    double change;
    do {
        for (size_t i = 0; i < n_items; i++) den[i] = prior > 0 ? prior / (score[i] + 1) : 0;
        for (size_t e = 0; e < ng; e++) {
            double d = g[e].n / (score[g[e].lo] + score[g[e].hi]);
            den[g[e].lo] += d;
            den[g[e].hi] += d;
        }
        for (size_t i = 0; i < n_items; i++)
            next[i] = den[i] > 0 ? (wins[i] + prior / 2) / den[i] : 0;
        if (prior == 0) normalise(next, n_items);
        change = 0;
        for (size_t i = 0; i < n_items; i++) {
            if (next[i] > 0) change = fmax(change, fabs(next[i] - score[i]) / next[i]);
            score[i] = next[i];
        }
        sweep++;
    } while (change > TOLERANCE && sweep < MAX_SWEEPS);
    normalise(score, n_items);
    if (iterations) *iterations = sweep;

    free(in);
    free(g);
    free(next);
    free(den);
    free(wins);
    return 0;
}

int lp_rank_elo(size_t n_pairs, const lp_pair *p, size_t n_items, double initial, double k,
                double *score)
{
    int rc = check_pairs(n_pairs, p, n_items);
    if (rc) return rc;
    if (!isfinite(initial) || !isfinite(k)) return LP_EINVAL;
    for (size_t i = 0; i < n_items; i++) score[i] = initial;
    for (size_t r = 0; r < n_pairs; r++) {
        double *l = score + p[r].left, *rt = score + p[r].right;
        double expect = 1 / (1 + pow(10, (*rt - *l) / 400));
        double got = p[r].winner == LP_PAIR_LEFT ? 1 : p[r].winner == LP_PAIR_RIGHT ? 0 : 0.5;
        *l += k * (got - expect);
        *rt -= k * (got - expect);
    }
    return 0;
}

/* LP_EINVAL if offsets decrease or a ranking lists an item twice, or if
 * bounded, an item at or above n_items. */
static int check_rankings(size_t n_rankings, const size_t *offsets, const uint32_t *items,
                          int bounded, size_t n_items)
{
    /* If bounded, stamp[i] = 1 + the last ranking that listed i. */
    size_t *stamp = bounded ? lp_calloc(n_items ? n_items : 1, sizeof *stamp) : NULL;
    int rc = 0;
    for (size_t r = 0; r < n_rankings && !rc; r++) {
        if (offsets[r + 1] < offsets[r]) rc = LP_EINVAL;
        for (size_t a = offsets[r]; a < offsets[r + 1] && !rc; a++) {
            if (stamp) {
                if (items[a] >= n_items || stamp[items[a]] == r + 1)
                    rc = LP_EINVAL;
                else
                    stamp[items[a]] = r + 1;
                continue;
            }
            for (size_t b = offsets[r]; b < a; b++)
                if (items[a] == items[b]) rc = LP_EINVAL;
        }
    }
    free(stamp);
    return rc;
}

int lp_rank_borda(size_t n_rankings, const size_t *offsets, const uint32_t *items,
                  const uint32_t *group, const double *weight, size_t n_items, double *score)
{
    int rc = check_rankings(n_rankings, offsets, items, 1, n_items);
    if (rc) return rc;
    for (size_t r = 0; r < n_rankings && weight; r++)
        if (!(weight[r] >= 0) || !isfinite(weight[r])) return LP_EINVAL;
    double unlisted = 0, top = (double)n_items - 1;
    for (size_t i = 0; i < n_items; i++) score[i] = 0;
    for (size_t r = 0; r < n_rankings; r++) {
        size_t m = offsets[r + 1] - offsets[r];
        double w = weight ? weight[r] : 1;
        /* A run of equal group values shares its places' mean points. */
        for (size_t j = 0; j < m;) {
            size_t g = 1;
            while (group && j + g < m && group[offsets[r] + j + g] == group[offsets[r] + j]) g++;
            double points = top - (double)j - (double)(g - 1) / 2;
            for (size_t x = j; x < j + g; x++) score[items[offsets[r] + x]] += w * points;
            j += g;
        }
        /* Each unlisted item gets share: rather than visit them, take it
         * from the listed ones now and give it to every item at the end. */
        double share = (top - (double)m) / 2;
        for (size_t j = 0; j < m; j++) score[items[offsets[r] + j]] -= w * share;
        unlisted += w * share;
    }
    for (size_t i = 0; i < n_items; i++) score[i] += unlisted;
    return 0;
}

size_t lp_rank_pair_count(size_t n_rankings, const size_t *offsets)
{
    size_t n = 0;
    for (size_t r = 0; r < n_rankings; r++) {
        size_t m = offsets[r + 1] > offsets[r] ? offsets[r + 1] - offsets[r] : 0;
        n += m * (m ? m - 1 : 0) / 2;
    }
    return n;
}

int lp_rank_pairs(size_t n_rankings, const size_t *offsets, const uint32_t *items, lp_pair *out)
{
    int rc = check_rankings(n_rankings, offsets, items, 0, 0);
    if (rc) return rc;
    size_t n = 0;
    for (size_t r = 0; r < n_rankings; r++)
        for (size_t a = offsets[r]; a < offsets[r + 1]; a++)
            for (size_t b = a + 1; b < offsets[r + 1]; b++)
                out[n++] = (lp_pair){items[a], items[b], LP_PAIR_LEFT};
    return 0;
}
