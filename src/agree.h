/* agree.h -- inter-annotator agreement: Krippendorff's alpha, Fleiss' and
 * Cohen's kappa, and each worker's agreement with a consensus.
 *
 * Pure: arrays in, numbers out, no I/O.  Every function returns 0 or a
 * negative LP_E* code and leaves its outputs untouched on failure.  A
 * coefficient that is undefined for the data (no pairable values, or no
 * disagreement possible because every value is the same) is reported as
 * NAN with a 0 return: the data are fine, they just cannot measure
 * agreement. */
#ifndef LP_AGREE_H
#define LP_AGREE_H

#include <stddef.h>
#include <stdint.h>

/* The metric of Krippendorff's alpha: which differences between two values
 * count as disagreement, and how much. */
typedef enum {
    LP_ALPHA_NOMINAL,  /* any two different values disagree fully */
    LP_ALPHA_ORDINAL,  /* by how many values seen lie between them */
    LP_ALPHA_INTERVAL, /* by the squared difference */
    LP_ALPHA_RATIO,    /* by the squared difference over the squared sum; values >= 0 */
    LP_ALPHA_NLEVELS
} lp_alpha_level;

/* Parses "nominal", "ordinal", "interval" or "ratio"; LP_EINVAL otherwise. */
int lp_alpha_level_parse(const char *s, lp_alpha_level *out);
/* The name lp_alpha_level_parse accepts for level, or "?" if unknown. */
const char *lp_alpha_level_name(lp_alpha_level level);

/* Krippendorff's alpha over n rows, each one coder's value[r] for unit[r]
 * (rows in any order; which coder gave a value is not needed).  Units with
 * fewer than two values cannot be paired and are ignored.  *alpha is NAN
 * when the expected disagreement is 0 (fewer than two pairable values, or
 * all of them equal).  Returns LP_EINVAL for a NaN or infinite value, an
 * unknown level, or a negative value at the ratio level. */
int lp_agree_alpha(size_t n, const uint32_t *unit, const double *value, lp_alpha_level level,
                   double *alpha);

/* lp_agree_alpha over a dense units x coders matrix (row-major), NAN
 * marking a missing value. */
int lp_agree_alpha_matrix(const double *m, size_t units, size_t coders, lp_alpha_level level,
                          double *alpha);

/* Fleiss' kappa from counts[s * categories + c], how many raters put
 * subject s in category c.  Subjects may have different numbers of raters
 * n_s: each contributes P_s = (sum_c counts^2 - n_s) / (n_s (n_s - 1)) and
 * P-bar is their unweighted mean; the category shares behind P-bar_e pool
 * every rating.  Subjects with fewer than two raters are skipped.
 * p_bar and p_bar_e may be NULL.  *kappa is NAN when P-bar_e is 1 or no
 * subject has two raters.  Returns LP_EINVAL for a negative, NaN or
 * infinite count or categories == 0. */
int lp_agree_fleiss(const double *counts, size_t subjects, size_t categories, double *kappa,
                    double *p_bar, double *p_bar_e);

/* Cohen's kappa of two raters who labelled the same n items, a[i] and b[i]
 * in 0..n_classes-1.  *kappa is NAN when chance agreement is 1 (both raters
 * always gave one and the same class) or n == 0.  Returns LP_EINVAL for a
 * label out of range. */
int lp_agree_cohen(size_t n, const uint32_t *a, const uint32_t *b, size_t n_classes, double *kappa);

/* Each worker's agreement with a consensus: for the n answers (item[r],
 * worker[r], label[r]), agreement[w] is the share of worker w's answers on
 * items with a consensus (consensus[item] >= 0) that equal it, NAN for a
 * worker with no such answer; compared[w] (compared may be NULL) is how
 * many answers were compared.  Whether the consensus includes the worker's
 * own answer is up to the caller.  Returns LP_EINVAL for an item or worker
 * out of range. */
int lp_agree_workers(size_t n, const uint32_t *item, const uint32_t *worker, const uint32_t *label,
                     const int32_t *consensus, size_t n_items, size_t n_workers, double *agreement,
                     uint32_t *compared);

#endif
