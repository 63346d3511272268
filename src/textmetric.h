/* textmetric.h -- reference-based text metrics for evaluating model
 * answers: SQuAD's exact match and token F1.
 *
 * Pure: strings in, numbers out, no I/O.  Strings are NUL-terminated UTF-8
 * (NULL reads as ""); invalid UTF-8 is accepted, each invalid sequence
 * reading as U+FFFD.  See textmetric.c for the normalisation. */
#ifndef LP_TEXTMETRIC_H
#define LP_TEXTMETRIC_H

#include <stddef.h>

/* SQuAD v1.1 scores an answer that normalises to no tokens like any other
 * (F1 0 even against an empty gold); SQuAD v2 gives F1 = EM = 1 when both
 * sides are empty and 0 when only one is. */
typedef enum { LP_SQUAD_V1 = 1, LP_SQUAD_V2 = 2 } lp_squad_version;

/* The SQuAD normalisation of s, as the official evaluation script's
 * normalize_answer: Python's str.lower() (full Unicode, final sigma
 * included), ASCII punctuation (Python's string.punctuation) removed, the
 * whole words a, an, the replaced by a space (re's \b, Unicode-aware),
 * white space (str.split()) collapsed to single spaces with none at the
 * ends.  Returns a new string the caller frees; never NULL. */
char *lp_textmetric_normalize(const char *s);

/* Exact match (0 or 1) and token F1 of one prediction against one gold
 * answer, tokens being the normalised form's space-separated words
 * compared as multisets. */
void lp_textmetric_squad(const char *pred, const char *gold, lp_squad_version v, double *em,
                         double *f1);

/* The best exact match and the best F1 (each maximised on its own, as the
 * official scripts do) of pred over n_gold gold answers.  With v2, golds
 * that normalise to nothing are dropped first and no gold left means the
 * question is unanswerable (the gold is ""), as in the v2 script; with v1
 * and no gold both are 0. */
void lp_textmetric_squad_max(const char *pred, const char *const *gold, size_t n_gold,
                             lp_squad_version v, double *em, double *f1);

/* The mean of v[0..n) and its standard error (sample standard deviation,
 * n - 1 in the denominator, over sqrt(n)).  *mean is NaN when n is 0, *se
 * when n < 2.  Returns LP_EINVAL (outputs untouched) if a value is not
 * finite. */
int lp_textmetric_mean(const double *v, size_t n, double *mean, double *se);

#endif
