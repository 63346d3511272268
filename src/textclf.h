/* textclf.h -- the built-in text classifier: no model server needed.
 *
 * A multinomial logistic regression over hashed features of a text --
 * word unigrams and bigrams and character n-grams (3 to 5, within words)
 * of the lower-cased text -- trained online, one labelled example at a
 * time (AdaGrad steps with L2 regularization), so that it learns as
 * annotations and results arrive and predicts at once, with probabilities
 * (a softmax over the labels).  Pure computation: no I/O, no globals; a
 * classifier is used by one thread at a time.
 *
 * The uncertainty scores an active-learning queue orders tasks by are
 * here too: least confidence, margin and entropy of a probability vector,
 * each larger for a task the model is less sure of. */
#ifndef LP_TEXTCLF_H
#define LP_TEXTCLF_H

#include <stddef.h>
#include <stdint.h>

typedef struct lp_textclf lp_textclf;

/* Options; a zeroed struct (or NULL) gives the defaults. */
typedef struct lp_textclf_opts {
    int bits;          /* 2^bits hashed feature buckets (0: 18) */
    double rate;       /* AdaGrad base learning rate (0: the default, tuned on polarity) */
    double l2;         /* L2 regularization per step (0: the default) */
    int no_char_grams; /* 1: word features only */
} lp_textclf_opts;

/* A classifier for nlabels labels (2 to 1,000).  NULL for a bad count. */
lp_textclf *lp_textclf_new(int nlabels, const lp_textclf_opts *opts);
void lp_textclf_free(lp_textclf *c);

/* One online step on the n bytes of text (UTF-8) with label 0..nlabels-1
 * (with weight w, 1 for an ordinary example). */
void lp_textclf_learn(lp_textclf *c, const char *text, size_t n, int label, double w);
/* The probability of each label for text into probs[nlabels] (they sum to
 * 1).  Before any example: uniform. */
void lp_textclf_predict(const lp_textclf *c, const char *text, size_t n, double *probs);
/* How many examples it has learned from. */
int64_t lp_textclf_seen(const lp_textclf *c);

/* Uncertainty of a prediction, larger is less sure, in [0, 1]. */
enum { LP_UNCERTAIN_LEAST_CONFIDENCE, LP_UNCERTAIN_MARGIN, LP_UNCERTAIN_ENTROPY };
double lp_uncertainty(const double *probs, int n, int method);

#endif
