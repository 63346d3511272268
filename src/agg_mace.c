/* agg_mace.c -- MACE: competence and spamming, fitted by EM.
 *
 * Hovy, Berg-Kirkpatrick, Vaswani, Hovy, "Learning whom to trust with
 * MACE", NAACL 2013.  Worker w knows the answer with probability theta_w
 * and then gives the true class; otherwise they "spam": draw a class from
 * their own distribution xi_w.  So P(l | t) = theta_w [l == t] +
 * (1 - theta_w) xi_w[l], a confusion matrix with two parameters per worker
 * plus xi.  A spammer who always answers the same class gets theta ~ 0,
 * xi on that class, and their answers then carry no information.
 *
 * EM with smoothing, as MACE's default (which is EM with added
 * pseudo-counts, not the variational option): the E-step computes P(t |
 * item) in log space; the M-step splits each answer into an expected
 * "knew" part q * theta / P(l | l) (q = P(t = l)) and a "spammed" part, and
 * sets theta = (knew + MACE_S) / (all + 2 MACE_S), xi[l] = (spammed as l +
 * MACE_S) / (spammed + K MACE_S).  Differences from the paper: one start
 * from the vote shares instead of random restarts (so the result is
 * deterministic), and the class prior is the smoothed empirical one of
 * agg_log_prior() instead of uniform.  Stops when the log-likelihood of the
 * answers changes by at most 1e-6 of itself, or after 100 iterations.  Skill = prior-weighted mean
 * of the confusion diagonal. */
#include "agg_int.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MACE_S   0.1
#define MACE_TOL 1e-6
#define MACE_MAX 100

void agg_fit_mace(const agg_in *in, lp_agg_result *out)
{
    size_t k = in->n_classes, nw = in->n_workers, ni = in->n_items, kk = k * k;
    double *post = out->posterior;
    /* theta[nw], knew[nw], all[nw], xi[nw*k], spam[nw*k], lp[k], row[k] */
    double *theta = lp_malloc((3 * nw + 2 * nw * k + 2 * k) * sizeof *theta);
    double *knew = theta + nw, *all = knew + nw, *xi = all + nw, *spam = xi + nw * k;
    double *lp = spam + nw * k, *row = lp + k;
    for (size_t w = 0; w < nw; w++) theta[w] = 0.5;
    for (size_t j = 0; j < nw * k; j++) xi[j] = 1.0 / k;
    agg_init_from_votes(in, post);
    int it = 0;
    double last = 0;
    while (it < MACE_MAX) {
        it++;
        /* M-step */
        memset(knew, 0, 2 * nw * sizeof *knew);
        memset(spam, 0, nw * k * sizeof *spam);
        for (size_t e = 0; e < in->n; e++) {
            uint32_t w = in->worker[e], l = in->label[e];
            double q = post[(size_t)in->item[e] * k + l], wt = in->weight[e];
            double sp = (1 - theta[w]) * xi[w * k + l];
            double kn = q * theta[w] / (theta[w] + sp);
            knew[w] += wt * kn;
            all[w] += wt;
            spam[w * k + l] += wt * (1 - kn);
        }
        for (size_t w = 0; w < nw; w++) {
            theta[w] = (knew[w] + MACE_S) / (all[w] + 2 * MACE_S);
            double s = (all[w] - knew[w]) + k * MACE_S;
            for (size_t l = 0; l < k; l++) xi[w * k + l] = (spam[w * k + l] + MACE_S) / s;
        }
        agg_log_prior(in, post, lp);
        /* E-step */
        double ll = 0;
        for (size_t i = 0; i < ni; i++) {
            if (in->gold[i] >= 0 || in->start[i] == in->start[i + 1]) continue;
            memcpy(row, lp, k * sizeof *row);
            for (size_t e = in->start[i]; e < in->start[i + 1]; e++) {
                uint32_t w = in->worker[e], l = in->label[e];
                double sp = (1 - theta[w]) * xi[w * k + l], wt = in->weight[e];
                /* every class but l gets log sp: add it to the
                 * log-likelihood, and only the difference to row[l] */
                double lsp = log(sp);
                ll += wt * lsp;
                row[l] += wt * (log(theta[w] + sp) - lsp);
            }
            ll += agg_softmax(row, k);
            memcpy(post + i * k, row, k * sizeof *row);
        }
        if (it > 1 && fabs(ll - last) <= MACE_TOL * fabs(ll)) break;
        last = ll;
    }
    for (size_t w = 0; w < nw; w++) {
        double s = 0;
        for (size_t t = 0; t < k; t++) {
            for (size_t l = 0; l < k; l++)
                out->confusion[w * kk + t * k + l] =
                    (1 - theta[w]) * xi[w * k + l] + (t == l ? theta[w] : 0);
            s += exp(lp[t]) * out->confusion[w * kk + t * k + t];
        }
        out->skill[w] = s;
    }
    out->iterations = it;
    free(theta);
}
