/* agg.h -- label aggregation (the quality engine's entry point).
 *
 * Pure: arrays in, results out, no I/O.  Until the quality engine's
 * methods land, every project's result is a majority vote over the
 * accepted responses, compared as canonical JSON (keys sorted), which
 * works for every kind of task. */
#ifndef LP_AGG_H
#define LP_AGG_H

#include <stddef.h>

/* Majority vote over n canonical response texts, in submission order.
 * *winner receives the index of the first response of the most common
 * value (a tie goes to the value submitted first) and *confidence its share
 * of the votes.  n must be at least 1. */
void lp_agg_majority(const char *const *responses, size_t n, size_t *winner, double *confidence);

#endif
