/* agg_ds.c -- Dawid-Skene and one-coin models, fitted by EM.
 *
 * Dawid and Skene, "Maximum likelihood estimation of observer error-rates
 * using the EM algorithm", Applied Statistics 28(1), 1979.  Each worker w
 * has a confusion matrix pi_w[t][l] = P(answers l | true class t); classes
 * have a prior p[t].  E-step: P(t | item) is proportional to
 * p[t] * prod over the item's answers of pi_w[t][l]^weight.  M-step:
 * expected counts plus a Dirichlet pseudo-count DS_SMOOTH in every cell (so
 * a worker seen once gets no zero probabilities); the class prior gets a
 * pseudo-count of 1 per class.
 *
 * One-coin (the "symmetric" Dawid-Skene): a worker has one accuracy a_w,
 * pi_w[t][t] = a_w and pi_w[t][l] = (1 - a_w) / (K - 1) otherwise.  a_w is
 * the expected share of correct answers smoothed by Beta(1 + 1, 1 + 1) odds
 * (one pseudo-answer right and one wrong); the class prior is uniform.
 *
 * Both start from the vote shares (so the first M-step is the majority
 * vote's estimate of the workers) and stop when the log-likelihood of the
 * answers changes by at most 3e-5 of itself in an iteration, or after 100
 * iterations (the product and relevance sets stop after 26 and 33).  Gold
 * items stay one-hot throughout.
 *
 * What makes it fast: the E-step runs in probability space, not log space.
 * An item's row starts at the prior and is multiplied by one row of the
 * table pi_w[given][.] per answer (a weight below 1, from a repeated pair,
 * costs a pow()); whenever the row's largest value falls below 2^-256 it is
 * scaled up by 2^256, exactly, and the scale is kept as an integer.  So the
 * normaliser, whose logs summed over items are the log-likelihood, comes
 * out as a mantissa and a power of two, multiplied over items the same way:
 * one log() per iteration instead of K exp() and one log() per item.  The
 * same pass adds the new posterior into the next M-step's expected counts
 * while the item's answers are in cache, and the M-step only divides.  Per
 * iteration: O(entries * K) multiply-adds and O(workers * K^2) divisions;
 * no allocation inside the loop.  The probabilities never underflow: a
 * table cell is at least DS_SMOOTH over a worker's answer count, far above
 * 2^-768. */
#include "agg_int.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DS_SMOOTH 0.001
#define EM_TOL    3e-5
#define EM_MAX    100

#define BIG    0x1p256 /* the rescaling step, a power of two so it is exact */
#define SMALL  0x1p-256
#define LN2    0.693147180559945309417232121458176568
#define LN_BIG (256 * LN2)

/* A running product kept as mantissa * BIG^ex, so it never under- or
 * overflows; its log is log(m) + ex * LN_BIG. */
typedef struct bigprod {
    double m;
    long ex;
} bigprod;

static void bigprod_mul(bigprod *p, double x)
{
    p->m *= x;
    if (!(p->m > 0 && p->m < INFINITY)) return; /* cannot happen (see e_item); never loop */
    while (p->m < SMALL) {
        p->m *= BIG;
        p->ex--;
    }
    while (p->m > BIG) {
        p->m *= SMALL;
        p->ex++;
    }
}

/* The accumulators an E-step fills for the next M-step: cnt[w][given][true]
 * starts from base (the pseudo-counts plus the gold items' answers, which
 * never change) and pacc[t] from pbase (the prior's pseudo-counts plus the
 * gold items). */
typedef struct counts {
    double *cnt, *pacc;
    const double *base, *pbase;
} counts;

/* Adds to c the counts of the answers of every non-gold answered item
 * under post, after resetting it to its base. */
static void counts_reset(const agg_in *in, counts *c)
{
    size_t k = in->n_classes;
    memcpy(c->cnt, c->base, in->n_workers * k * k * sizeof *c->cnt);
    memcpy(c->pacc, c->pbase, k * sizeof *c->pacc);
}

static void counts_add_item(const agg_in *in, counts *c, size_t i, const double *row)
{
    size_t k = in->n_classes;
    for (size_t e = in->start[i]; e < in->start[i + 1]; e++) {
        double *m = c->cnt + ((size_t)in->worker[e] * k + in->label[e]) * k, wt = in->weight[e];
        for (size_t t = 0; t < k; t++) m[t] += wt * row[t];
    }
    for (size_t t = 0; t < k; t++) c->pacc[t] += row[t];
}

/* Fills c->base and c->pbase (smooth in every cell, plus the gold items)
 * and c->cnt, c->pacc from post (the starting posteriors). */
static void counts_init(const agg_in *in, counts *c, double *base, double *pbase, double smooth,
                        const double *post)
{
    size_t k = in->n_classes;
    for (size_t j = 0; j < in->n_workers * k * k; j++) base[j] = smooth;
    for (size_t t = 0; t < k; t++) pbase[t] = 1;
    c->base = base;
    c->pbase = pbase;
    counts g = {base, pbase, base, pbase};
    for (size_t i = 0; i < in->n_items; i++)
        if (in->gold[i] >= 0 && in->start[i] < in->start[i + 1])
            counts_add_item(in, &g, i, post + i * k);
    counts_reset(in, c);
    for (size_t i = 0; i < in->n_items; i++)
        if (in->gold[i] < 0 && in->start[i] < in->start[i + 1])
            counts_add_item(in, c, i, post + i * k);
}

/* The E-step of one answered, non-gold item into row (k wide), returning
 * its normaliser as row's sum times BIG^-*scale.  Checking the row's
 * largest value once every RESCALE answers is enough: a table cell is at
 * least 2^-52 (DS_SMOOTH over at most 2^32 answers; one-coin's (1 - a) /
 * (K - 1) with a <= 1 - 2^-32), so RESCALE answers lower the row by at most
 * 2^-416 and it stays above 2^-672, far from the 2^-1022 where doubles lose
 * precision. */
#define RESCALE 8
static inline __attribute__((always_inline)) double
e_item(const agg_in *in, size_t i, const double *restrict prior, const double *restrict tab,
       double *restrict row, long *scale, size_t k)
{
    for (size_t t = 0; t < k; t++) row[t] = prior[t];
    for (size_t e = in->start[i], n = 0; e < in->start[i + 1]; e++, n++) {
        const double *restrict m = tab + ((size_t)in->worker[e] * k + in->label[e]) * k;
        double wt = in->weight[e];
        if (wt == 1)
            for (size_t t = 0; t < k; t++) row[t] *= m[t];
        else
            for (size_t t = 0; t < k; t++) row[t] *= pow(m[t], wt);
        if (n % RESCALE == RESCALE - 1 || e + 1 == in->start[i + 1]) {
            double mx = 0;
            for (size_t t = 0; t < k; t++) mx = row[t] > mx ? row[t] : mx;
            while (mx < SMALL) {
                for (size_t t = 0; t < k; t++) row[t] *= BIG;
                mx *= BIG;
                (*scale)++;
            }
        }
    }
    double s = 0;
    for (size_t t = 0; t < k; t++) s += row[t];
    return s;
}

/* E-step shared by both models: post of each answered, non-gold item from
 * the class prior (unnormalised is fine) and the per-worker table tab laid
 * out [w][given][true]; the new posteriors go into c.  Returns the
 * log-likelihood of the answers on those items.  k is passed in so the
 * common class counts get loops the compiler unrolls (see e_step). */
static inline __attribute__((always_inline)) double e_step_k(const agg_in *in, const double *prior,
                                                             const double *tab, double *post,
                                                             counts *c, size_t k)
{
    bigprod ll = {1, 0};
    double *restrict cnt = c->cnt, *restrict pacc = c->pacc;
    counts_reset(in, c);
    for (size_t i = 0; i < in->n_items; i++) {
        if (in->gold[i] >= 0 || in->start[i] == in->start[i + 1]) continue;
        double *restrict row = post + i * k;
        long scale = 0;
        double s = e_item(in, i, prior, tab, row, &scale, k), inv = 1 / s;
        for (size_t t = 0; t < k; t++) row[t] *= inv;
        bigprod_mul(&ll, s);
        ll.ex -= scale;
        for (size_t e = in->start[i]; e < in->start[i + 1]; e++) {
            double *restrict m = cnt + ((size_t)in->worker[e] * k + in->label[e]) * k;
            double wt = in->weight[e];
            for (size_t t = 0; t < k; t++) m[t] += wt * row[t];
        }
        for (size_t t = 0; t < k; t++) pacc[t] += row[t];
    }
    return log(ll.m) + (double)ll.ex * LN_BIG;
}

static double e_step(const agg_in *in, const double *prior, const double *tab, double *post,
                     counts *c)
{
    switch (in->n_classes) {
    case 2: return e_step_k(in, prior, tab, post, c, 2);
    case 3: return e_step_k(in, prior, tab, post, c, 3);
    case 4: return e_step_k(in, prior, tab, post, c, 4);
    default: return e_step_k(in, prior, tab, post, c, in->n_classes);
    }
}

void agg_fit_ds(const agg_in *in, lp_agg_result *out)
{
    size_t k = in->n_classes, nw = in->n_workers, kk = k * k, nk = nw * kk;
    double *post = out->posterior, *conf = out->confusion;
    /* cnt, base, tab: [w][given][true], so an answer touches k contiguous
     * cells; pacc, pbase, prior: k */
    double *cnt = lp_malloc((3 * nk + 3 * k) * sizeof *cnt), *base = cnt + nk, *tab = base + nk;
    double *pacc = tab + nk, *pbase = pacc + k, *prior = pbase + k;
    counts c = {.cnt = cnt, .pacc = pacc};
    agg_init_from_votes(in, post);
    counts_init(in, &c, base, pbase, DS_SMOOTH, post);
    double answered = 0;
    for (size_t i = 0; i < in->n_items; i++) answered += in->start[i] < in->start[i + 1];
    int it = 0;
    double last = 0;
    while (it < EM_MAX) {
        it++;
        for (size_t w = 0; w < nw; w++)
            for (size_t t = 0; t < k; t++) {
                double s = 0;
                for (size_t l = 0; l < k; l++) s += cnt[(w * k + l) * k + t];
                double inv = 1 / s;
                for (size_t l = 0; l < k; l++) {
                    double v = cnt[(w * k + l) * k + t] * inv;
                    conf[(w * k + t) * k + l] = v;
                    tab[(w * k + l) * k + t] = v;
                }
            }
        for (size_t t = 0; t < k; t++) prior[t] = pacc[t] / (answered + (double)k);
        double ll = e_step(in, prior, tab, post, &c);
        if (it > 1 && fabs(ll - last) <= EM_TOL * fabs(ll)) break;
        last = ll;
    }
    for (size_t w = 0; w < nw; w++) {
        double s = 0;
        for (size_t t = 0; t < k; t++) s += prior[t] * conf[w * kk + t * k + t];
        out->skill[w] = s;
    }
    out->iterations = it;
    free(cnt);
}

void agg_fit_one_coin(const agg_in *in, lp_agg_result *out)
{
    size_t k = in->n_classes, nw = in->n_workers, kk = k * k, nk = nw * kk;
    double *post = out->posterior, *conf = out->confusion;
    double *cnt = lp_malloc((3 * nk + 3 * k) * sizeof *cnt), *base = cnt + nk, *tab = base + nk;
    double *pacc = tab + nk, *pbase = pacc + k, *prior = pbase + k;
    counts c = {.cnt = cnt, .pacc = pacc};
    agg_init_from_votes(in, post);
    counts_init(in, &c, base, pbase, 0, post);
    for (size_t t = 0; t < k; t++) prior[t] = 1; /* uniform class prior */
    double other = k > 1 ? (double)(k - 1) : 1;
    int it = 0;
    double last = 0;
    while (it < EM_MAX) {
        it++;
        for (size_t w = 0; w < nw; w++) {
            double right = 0, seen = 0;
            for (size_t j = 0; j < kk; j++) seen += cnt[w * kk + j];
            for (size_t l = 0; l < k; l++) right += cnt[w * kk + l * k + l];
            double a = (right + 1) / (seen + 2);
            out->skill[w] = a;
            for (size_t t = 0; t < k; t++)
                for (size_t l = 0; l < k; l++) {
                    double v = k == 1 ? 1 : t == l ? a : (1 - a) / other;
                    conf[w * kk + t * k + l] = v;
                    tab[w * kk + l * k + t] = v;
                }
        }
        double ll = e_step(in, prior, tab, post, &c);
        if (it > 1 && fabs(ll - last) <= EM_TOL * fabs(ll)) break;
        last = ll;
    }
    out->iterations = it;
    free(cnt);
}
