/* agg_ds.c -- Dawid-Skene and one-coin models, fitted by EM.
 *
 * Dawid and Skene, "Maximum likelihood estimation of observer error-rates
 * using the EM algorithm", Applied Statistics 28(1), 1979.  Each worker w
 * has a confusion matrix pi_w[t][l] = P(answers l | true class t); classes
 * have a prior p[t].  E-step: P(t | item) is proportional to
 * p[t] * prod over the item's answers of pi_w[t][l]^weight, in log space.
 * M-step: expected counts plus a Dirichlet pseudo-count DS_SMOOTH in every
 * cell (so a worker seen once gets no zero probabilities); the class prior
 * gets a pseudo-count of 1 per class.
 *
 * One-coin (the "symmetric" Dawid-Skene): a worker has one accuracy a_w,
 * pi_w[t][t] = a_w and pi_w[t][l] = (1 - a_w) / (K - 1) otherwise.  a_w is
 * the expected share of correct answers smoothed by Beta(1 + 1, 1 + 1) odds
 * (one pseudo-answer right and one wrong).
 *
 * Both start from the vote shares (so the first M-step is the majority
 * vote's estimate of the workers) and stop when the log-likelihood of the
 * answers changes by at most 3e-5 of itself in an iteration, or after 100
 * iterations (the product and relevance sets stop after 26 and 33).  Gold items
 * stay one-hot throughout.  Cost per iteration: O(entries * K) plus
 * O(workers * K^2) logarithms; no allocation inside the loop. */
#include "agg_int.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DS_SMOOTH 0.001
#define EM_TOL    3e-5
#define EM_MAX    100

/* E-step shared by both models: post of each answered, non-gold item from
 * the class log prior lp and the per-worker log confusion lc, laid out
 * [w][given][true].  Returns the log-likelihood of the answers on those
 * items. */
static double e_step(const agg_in *in, const double *lp, const double *lc, double *post,
                     double *row)
{
    size_t k = in->n_classes;
    double ll = 0;
    for (size_t i = 0; i < in->n_items; i++) {
        if (in->gold[i] >= 0 || in->start[i] == in->start[i + 1]) continue;
        memcpy(row, lp, k * sizeof *row);
        for (size_t e = in->start[i]; e < in->start[i + 1]; e++) {
            const double *m = lc + ((size_t)in->worker[e] * k + in->label[e]) * k;
            double wt = in->weight[e];
            for (size_t t = 0; t < k; t++) row[t] += wt * m[t];
        }
        ll += agg_softmax(row, k);
        memcpy(post + i * k, row, k * sizeof *row);
    }
    return ll;
}

void agg_fit_ds(const agg_in *in, lp_agg_result *out)
{
    size_t k = in->n_classes, nw = in->n_workers, kk = k * k;
    double *post = out->posterior, *conf = out->confusion;
    /* cnt, lc: [w][given][true], so an answer touches k contiguous cells */
    double *cnt = lp_malloc((2 * nw * kk + 2 * k) * sizeof *cnt), *lc = cnt + nw * kk;
    double *lp = lc + nw * kk, *row = lp + k;
    agg_init_from_votes(in, post);
    int it = 0;
    double last = 0;
    while (it < EM_MAX) {
        it++;
        for (size_t j = 0; j < nw * kk; j++) cnt[j] = DS_SMOOTH;
        for (size_t e = 0; e < in->n; e++) {
            double *m = cnt + ((size_t)in->worker[e] * k + in->label[e]) * k, wt = in->weight[e];
            const double *p = post + (size_t)in->item[e] * k;
            for (size_t t = 0; t < k; t++) m[t] += wt * p[t];
        }
        for (size_t w = 0; w < nw; w++)
            for (size_t t = 0; t < k; t++) {
                double s = 0;
                for (size_t l = 0; l < k; l++) s += cnt[(w * k + l) * k + t];
                for (size_t l = 0; l < k; l++) {
                    double v = cnt[(w * k + l) * k + t] / s;
                    conf[(w * k + t) * k + l] = v;
                    lc[(w * k + l) * k + t] = log(v);
                }
            }
        agg_log_prior(in, post, lp);
        double ll = e_step(in, lp, lc, post, row);
        if (it > 1 && fabs(ll - last) <= EM_TOL * fabs(ll)) break;
        last = ll;
    }
    for (size_t w = 0; w < nw; w++) {
        double s = 0;
        for (size_t t = 0; t < k; t++) s += exp(lp[t]) * conf[w * kk + t * k + t];
        out->skill[w] = s;
    }
    out->iterations = it;
    free(cnt);
}

void agg_fit_one_coin(const agg_in *in, lp_agg_result *out)
{
    size_t k = in->n_classes, nw = in->n_workers, kk = k * k;
    double *post = out->posterior, *conf = out->confusion;
    double *lc = lp_malloc((nw * kk + 2 * k + 2 * nw) * sizeof *lc), *lp = lc + nw * kk;
    double *row = lp + k, *right = row + k, *seen = right + nw;
    agg_init_from_votes(in, post);
    double other = k > 1 ? (double)(k - 1) : 1;
    int it = 0;
    double last = 0;
    while (it < EM_MAX) {
        it++;
        memset(right, 0, 2 * nw * sizeof *right);
        for (size_t e = 0; e < in->n; e++) {
            right[in->worker[e]] += in->weight[e] * post[(size_t)in->item[e] * k + in->label[e]];
            seen[in->worker[e]] += in->weight[e];
        }
        for (size_t w = 0; w < nw; w++) {
            double a = (right[w] + 1) / (seen[w] + 2);
            out->skill[w] = a;
            for (size_t t = 0; t < k; t++)
                for (size_t l = 0; l < k; l++) {
                    double v = k == 1 ? 1 : t == l ? a : (1 - a) / other;
                    conf[w * kk + t * k + l] = v;
                    lc[w * kk + l * k + t] = log(v);
                }
        }
        for (size_t t = 0; t < k; t++) lp[t] = 0; /* uniform class prior */
        double ll = e_step(in, lp, lc, post, row);
        if (it > 1 && fabs(ll - last) <= EM_TOL * fabs(ll)) break;
        last = ll;
    }
    out->iterations = it;
    free(lc);
}
