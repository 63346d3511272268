/* agg_bwa.c -- BWA, the Bayesian weighted average, closed-form VB.
 *
 * Li, Rubinstein, Cohn, "Truth inference at scale: a Bayesian model for
 * adjudicating highly redundant crowd annotations", WWW 2019.  Each class
 * c is its own binary problem: the answer of worker j on item i is the
 * indicator y_ij = [answered c], modelled as Gaussian noise around the
 * item's truth z_i with the worker's precision v_j ~ Gamma(a_v, b_v); z_i
 * has a Gaussian prior of mean mu (the mean of all z) and precision
 * lambda.  The variational updates are closed form and alternate
 *     v_j = (a_v + N_j) / (b_v + sum_i (z_i - y_ij)^2)
 *     z_i = (lambda mu + sum_j v_j y_ij) / (lambda + sum_j v_j)
 * i.e. a precision-weighted average of the votes shrunk to the mean.  As in
 * the paper, a_v = 15, lambda = 1 and b_v is set from the data: a_v times
 * the mean item variance z(1 - z) of the vote shares, times the
 * multi-class correction 4 (1 - 1/K).  Starts from the vote shares; stops
 * when every z moves by at most 1e-8 + 1e-3 |z| (the reference code's
 * test), or after 500 iterations.  The K scores of an item are then
 * normalised into its posterior.
 *
 * A worker's answers on one item form one "pair" here: y is the share of
 * their (1/c-weighted) answers there that were c, N_j counts pairs.  Gold
 * items keep z fixed at their one-hot gold.  Skill = the worker's expected
 * share of correct answers under the final posterior. */
#include "agg_int.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BWA_AV     15.0
#define BWA_LAMBDA 1.0
#define BWA_MAX    500

void agg_fit_bwa(const agg_in *in, lp_agg_result *out)
{
    size_t k = in->n_classes, nw = in->n_workers, ni = in->n_items;
    double *post = out->posterior;
    /* Pairs: entries of one (item, worker) are consecutive. */
    size_t np = 0;
    for (size_t e = 0; e < in->n; e++)
        np += e == 0 || in->item[e] != in->item[e - 1] || in->worker[e] != in->worker[e - 1];
    uint32_t *pw = lp_malloc((np + 1) * sizeof *pw);    /* worker of a pair */
    size_t *pstart = lp_calloc(ni + 1, sizeof *pstart); /* pairs of item i */
    double *y = lp_calloc(np * k + 1, sizeof *y);       /* [pair][class] */
    size_t p = 0;
    for (size_t e = 0; e < in->n; e++) {
        if (e == 0 || in->item[e] != in->item[e - 1] || in->worker[e] != in->worker[e - 1]) {
            pw[p] = in->worker[e];
            pstart[in->item[e] + 1]++;
            p++;
        }
        y[(p - 1) * k + in->label[e]] += in->weight[e];
    }
    for (size_t i = 0; i < ni; i++) pstart[i + 1] += pstart[i];
    /* z[ni], v[nw], nj[nw], res[nw] */
    double *z = lp_malloc((ni + 3 * nw + 1) * sizeof *z), *v = z + ni;
    double *nj = v + nw, *res = nj + nw;
    memset(nj, 0, nw * sizeof *nj);
    for (size_t q = 0; q < np; q++) nj[pw[q]] += 1;
    size_t answered = 0;
    for (size_t i = 0; i < ni; i++) answered += pstart[i + 1] > pstart[i];
    double adj = 4 * (1 - 1.0 / (double)k);
    int iters = 0;

    for (size_t c = 0; c < k; c++) {
        double var = 0;
        for (size_t i = 0; i < ni; i++) {
            z[i] = in->vote[i * k + c];
            if (in->gold[i] >= 0) z[i] = in->gold[i] == (int32_t)c;
            var += (double)(pstart[i + 1] - pstart[i]) * z[i] * (1 - z[i]);
        }
        double bv = np ? BWA_AV * var / (double)np * adj : 1;
        if (bv <= 0) bv = 1e-6;
        int it = 0;
        while (it < BWA_MAX && answered) {
            it++;
            double mu = 0;
            for (size_t i = 0; i < ni; i++)
                if (pstart[i + 1] > pstart[i]) mu += z[i];
            mu /= (double)answered;
            memset(res, 0, nw * sizeof *res);
            for (size_t i = 0; i < ni; i++)
                for (size_t q = pstart[i]; q < pstart[i + 1]; q++) {
                    double d = z[i] - y[q * k + c];
                    res[pw[q]] += d * d;
                }
            for (size_t w = 0; w < nw; w++) v[w] = (BWA_AV + nj[w]) / (bv + res[w]);
            int done = 1;
            for (size_t i = 0; i < ni; i++) {
                if (in->gold[i] >= 0 || pstart[i + 1] == pstart[i]) continue;
                double num = BWA_LAMBDA * mu, den = BWA_LAMBDA;
                for (size_t q = pstart[i]; q < pstart[i + 1]; q++) {
                    num += v[pw[q]] * y[q * k + c];
                    den += v[pw[q]];
                }
                double nz = num / den;
                if (fabs(nz - z[i]) > 1e-8 + 1e-3 * fabs(nz)) done = 0;
                z[i] = nz;
            }
            if (done) break;
        }
        if (it > iters) iters = it;
        for (size_t i = 0; i < ni; i++) post[i * k + c] = z[i];
    }
    for (size_t i = 0; i < ni; i++) {
        double *row = post + i * k, s = 0;
        for (size_t c = 0; c < k; c++) s += row[c] > 0 ? row[c] : (row[c] = 0);
        for (size_t c = 0; c < k; c++) row[c] = s > 0 ? row[c] / s : 1.0 / k;
    }
    memset(res, 0, nw * sizeof *res);
    for (size_t i = 0; i < ni; i++)
        for (size_t q = pstart[i]; q < pstart[i + 1]; q++)
            for (size_t c = 0; c < k; c++) res[pw[q]] += post[i * k + c] * y[q * k + c];
    for (size_t w = 0; w < nw; w++) out->skill[w] = nj[w] > 0 ? res[w] / nj[w] : 1.0 / k;
    out->iterations = iters;
    free(pw);
    free(pstart);
    free(y);
    free(z);
}
