/* agg_glad.c -- GLAD: worker ability times item difficulty, fitted by EM.
 *
 * Whitehill, Ruvolo, Wu, Bergsma, Movellan, "Whose vote should count more:
 * optimal integration of labels from labelers of unknown expertise", NIPS
 * 2009, in its multi-class form: worker w answers item i correctly with
 * probability s = sigmoid(alpha_w * exp(beta_i)) and otherwise picks one of
 * the K - 1 wrong classes uniformly.  alpha is ability (0 = chance at K = 2,
 * negative = worse than chance), exp(beta_i) is the item's inverse
 * difficulty.  Priors: alpha ~ N(1, 1), beta ~ N(0, 1); classes get the
 * smoothed empirical prior of agg_log_prior().
 *
 * E-step: P(t | item) in log space as in Dawid-Skene.  M-step: with
 * p = P(answer correct) from the E-step, the expected log-likelihood is
 * sum weight * (p log s + (1 - p) log(1 - s)) + log priors; GLAD_NEWTON
 * rounds of one damped Newton step on every alpha (exact second
 * derivative) then on every beta (Gauss-Newton), steps capped at 1 in
 * size, replace the paper's conjugate-gradient M-step.  Starts from the
 * vote shares with alpha = 1, beta = 0; stops when the log-likelihood of the
 * answers changes by at most 1e-5 of itself, or after 100 iterations.  Skill = the worker's mean s
 * over the items they answered. */
#include "agg_int.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GLAD_TOL    1e-5
#define GLAD_MAX    100
#define GLAD_NEWTON 2

static double sigmoid(double x)
{
    return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
}

static double cap(double d)
{
    return d > 1 ? 1 : d < -1 ? -1 : d;
}

void agg_fit_glad(const agg_in *in, lp_agg_result *out)
{
    size_t k = in->n_classes, nw = in->n_workers, ni = in->n_items;
    double *post = out->posterior;
    /* alpha[nw], gw[nw], hw[nw] (gradient and Hessian), lp[k], row[k] */
    double *alpha = lp_malloc((3 * nw + 2 * k) * sizeof *alpha), *gw = alpha + nw;
    double *hw = gw + nw, *lp = hw + nw, *row = lp + k;
    double *beta = lp_calloc(2 * ni + 1, sizeof *beta), *eb = beta + ni; /* eb = exp(beta) */
    for (size_t w = 0; w < nw; w++) alpha[w] = 1;
    double other = k > 1 ? log((double)(k - 1)) : 0;
    agg_init_from_votes(in, post);
    int it = 0;
    double last = 0;
    while (it < GLAD_MAX) {
        it++;
        /* M-step */
        for (int round = 0; round < GLAD_NEWTON; round++) {
            for (size_t w = 0; w < nw; w++) {
                gw[w] = -(alpha[w] - 1);
                hw[w] = -1;
            }
            for (size_t i = 0; i < ni; i++) eb[i] = exp(beta[i]);
            for (size_t e = 0; e < in->n; e++) {
                uint32_t i = in->item[e], w = in->worker[e];
                double s = sigmoid(alpha[w] * eb[i]);
                double p = post[(size_t)i * k + in->label[e]], wt = in->weight[e];
                gw[w] += wt * (p - s) * eb[i];
                hw[w] -= wt * s * (1 - s) * eb[i] * eb[i];
            }
            for (size_t w = 0; w < nw; w++) alpha[w] -= cap(gw[w] / hw[w]);
            for (size_t i = 0; i < ni; i++) {
                double gi = -beta[i], hi = -1, eb = exp(beta[i]);
                for (size_t e = in->start[i]; e < in->start[i + 1]; e++) {
                    double x = alpha[in->worker[e]] * eb, s = sigmoid(x);
                    double p = post[i * k + in->label[e]], wt = in->weight[e];
                    gi += wt * (p - s) * x;
                    hi -= wt * s * (1 - s) * x * x;
                }
                beta[i] -= cap(gi / hi);
            }
        }
        for (size_t t = 0; t < k; t++) lp[t] = 0; /* uniform class prior */
        /* E-step */
        double ll = 0;
        for (size_t i = 0; i < ni; i++) {
            if (in->gold[i] >= 0 || in->start[i] == in->start[i + 1]) continue;
            memcpy(row, lp, k * sizeof *row);
            double eb = exp(beta[i]);
            for (size_t e = in->start[i]; e < in->start[i + 1]; e++) {
                double x = alpha[in->worker[e]] * eb, wt = in->weight[e];
                /* A wrong answer adds wt * lf to every class but its own, so
                 * only the difference ls - lf on the answered class matters.
                 * log s = -log(1 + e^-x), log(1 - s) = -log(1 + e^x) */
                double ls = -log1p(exp(-x)), lf = -log1p(exp(x)) - other;
                if (x > 30) ls = -exp(-x), lf = -x - other;
                if (x < -30) ls = x, lf = -exp(x) - other;
                ll += wt * lf;
                row[in->label[e]] += wt * (ls - lf);
            }
            ll += agg_softmax(row, k);
            memcpy(post + i * k, row, k * sizeof *row);
        }
        if (it > 1 && fabs(ll - last) <= GLAD_TOL * fabs(ll)) break;
        last = ll;
    }
    memset(gw, 0, 2 * nw * sizeof *gw);
    for (size_t e = 0; e < in->n; e++) {
        uint32_t w = in->worker[e];
        gw[w] += in->weight[e] * sigmoid(alpha[w] * exp(beta[in->item[e]]));
        hw[w] += in->weight[e];
    }
    for (size_t w = 0; w < nw; w++) out->skill[w] = hw[w] > 0 ? gw[w] / hw[w] : sigmoid(alpha[w]);
    out->iterations = it;
    free(alpha);
    free(beta);
}
