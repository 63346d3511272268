/* active.h -- what the active-learning queue strategies order tasks by:
 * how unsure the models are of a task (strategy "uncertainty", under the
 * project's uncertainty_measure) and how much its annotators disagree
 * (strategy "disagreement").  Pure computation: no I/O.
 *
 * A prediction is {model, response, score, probabilities?}.  With
 * probabilities ({answer name: p}, summing to at most 1) its distribution
 * is those values, the probability left over (1 - their sum, when above
 * 1e-9) counting as one more answer.  Without, it is the two-way
 * distribution (score, 1 - score) in which its answer is the first choice:
 * least confidence is 1 - score (as it always was), margin 1 - (score -
 * (1 - score)) and entropy the binary entropy of score; a score under 1/2
 * (the answer not even the likelier of two) is as unsure as can be for
 * margin and entropy (1).  A task's uncertainty is that of its most
 * confident model (the smallest), 1 when no prediction has a score or
 * probabilities. */
#ifndef LP_ACTIVE_H
#define LP_ACTIVE_H

#include <jansson.h>
#include <stddef.h>

#include "kind.h"
#include "valid.h"

/* The measures of a distribution's uncertainty, each in [0, 1], larger
 * for a model less sure: least confidence 1 - p1, margin 1 - (p1 - p2) of
 * the two largest, entropy -sum p ln p / ln K over K >= 2 outcomes. */
typedef enum {
    LP_MEASURE_LEAST_CONFIDENCE,
    LP_MEASURE_MARGIN,
    LP_MEASURE_ENTROPY,
    LP_MEASURES
} lp_measure;

/* The measure called name ("least_confidence", "margin", "entropy"), or -1. */
int lp_measure_parse(const char *name);
const char *lp_measure_name(lp_measure m);

/* The uncertainty of the distribution p[0..n) under m (0 for n < 2: a
 * single outcome is certain). */
double lp_measure_of(const double *p, size_t n, lp_measure m);

/* The uncertainty of one prediction under m, or -1 when it has neither a
 * score nor probabilities. */
double lp_prediction_uncertainty(const json_t *prediction, lp_measure m);
/* A task's uncertainty: the smallest of its predictions' (an array), 1
 * when none counts (tasks.uncertainty). */
double lp_task_uncertainty(const json_t *predictions, lp_measure m);

/* Checks a prediction's probabilities at path ("predictions[2]"): an
 * object of at most 1,000 names, each a number in [0, 1], summing to at
 * most 1 + 1e-6.  0, or LP_EINVAL with e naming the field. */
int lp_check_probabilities(const json_t *probabilities, const char *path, lp_verr *e);

/* How much the n responses to one task disagree: 1 minus their mean
 * pairwise agreement, each pair scored by the kind (lp_kind_score, as gold
 * answers are) both ways and averaged; 0 for n < 2. */
double lp_disagreement(const lp_kind *k, const json_t *params, const json_t *task,
                       const json_t *const *responses, size_t n);

#endif
