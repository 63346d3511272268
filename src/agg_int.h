/* agg_int.h -- what the categorical aggregation methods share (internal).
 *
 * lp_agg_categorical() validates the rows, sorts them into a canonical
 * order (by item, then worker, then class) and merges repeated answers into
 * weighted entries: agg_in.  Each method then fills the posterior rows of
 * answered items, the skills, the confusion matrices if it has them and the
 * iteration count; agg.c does the rest (gold, unanswered items, labels).
 *
 * Invariants a method may rely on: entries of item i are
 * [start[i], start[i + 1]); within an item they are sorted by worker, then
 * class, with no two entries for the same (item, worker, class); the
 * weights of one (item, worker) pair sum to 1. */
#ifndef LP_AGG_INT_H
#define LP_AGG_INT_H

#include "agg.h"

#include <stddef.h>
#include <stdint.h>

typedef struct agg_in {
    size_t n;                              /* entries */
    const uint32_t *item, *worker, *label; /* n each */
    const double *weight;                  /* n: 1/c for a pair answered c times */
    const size_t *start;                   /* n_items + 1 */
    size_t n_items, n_workers, n_classes;
    const int32_t *gold;    /* n_items, -1 = none (never NULL here) */
    const double *vote;     /* n_items * n_classes: vote shares, uniform if unanswered */
    const double *share;    /* n_classes: share of all answer weight per class */
    const double *agree;    /* n_workers: smoothed agreement with the clear majority */
    const double *tiebreak; /* n_items * n_classes: agreement-weighted votes */
} agg_in;

/* The methods: each fills out->posterior rows of answered items (gold rows
 * may be left anything), out->skill, out->confusion when it was allocated
 * (agg_has_confusion) and out->iterations. */
void agg_fit_majority(const agg_in *in, lp_agg_result *out);
void agg_fit_gold_weighted(const agg_in *in, lp_agg_result *out);
void agg_fit_ds(const agg_in *in, lp_agg_result *out);
void agg_fit_one_coin(const agg_in *in, lp_agg_result *out);
void agg_fit_glad(const agg_in *in, lp_agg_result *out);
void agg_fit_mace(const agg_in *in, lp_agg_result *out);
void agg_fit_ebcc(const agg_in *in, lp_agg_result *out);
void agg_fit_bwa(const agg_in *in, lp_agg_result *out);

/* Sets row i of post (n_classes wide) one-hot on the gold class of every
 * item with gold. */
void agg_clamp_gold(const agg_in *in, double *post);
/* Turns a row of k log-probabilities into probabilities summing to 1 and
 * returns the log of the normaliser. */
double agg_softmax(double *row, size_t k);
/* Fills post from the vote shares (the usual EM starting point). */
void agg_init_from_votes(const agg_in *in, double *post);
/* Largest absolute difference between two arrays of n doubles. */
double agg_max_diff(const double *a, const double *b, size_t n);
/* Log of the class prior estimated from the posteriors of answered items,
 * with one pseudo-count per class, into lp (n_classes). */
void agg_log_prior(const agg_in *in, const double *post, double *lp);
/* The digamma function for x > 0. */
double agg_digamma(double x);

#endif
