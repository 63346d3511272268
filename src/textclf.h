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
 * Uncertainty scores of a probability vector are here too (least
 * confidence rescaled to [0, 1], margin, entropy), for bench/active; the
 * queue's, per project and over stored predictions, are in active.h. */
#ifndef LP_TEXTCLF_H
#define LP_TEXTCLF_H

#include <stddef.h>
#include <stdint.h>

typedef struct lp_textclf lp_textclf;

/* Options; a zeroed struct (or NULL) gives the defaults. */
typedef struct lp_textclf_opts {
    int bits;          /* 2^bits hashed feature buckets, 4 to 26 (0: 18, fewer
                          for more than 64 labels so that 2^bits x nlabels
                          <= 2^24, 128 MiB in all) */
    double rate;       /* AdaGrad base learning rate (0: the default, tuned on polarity) */
    double l2;         /* L2 regularization per step (0: the default) */
    int no_char_grams; /* 1: word features only */
} lp_textclf_opts;

/* A classifier for nlabels labels (2 to 1,000), which the caller frees with
 * lp_textclf_free.  NULL for a bad count or option, or when 2^bits x
 * nlabels is over 2^27 (it needs 8 bytes for each). */
lp_textclf *lp_textclf_new(int nlabels, const lp_textclf_opts *opts);
void lp_textclf_free(lp_textclf *c);

/* One online step on the n bytes of text (UTF-8) with label 0..nlabels-1
 * (with weight w, 1 for an ordinary example).  A label out of range or a
 * weight that is not a positive finite number is ignored: no step.  Only
 * the first 64 KiB of a text are read, here and by lp_textclf_predict. */
void lp_textclf_learn(lp_textclf *c, const char *text, size_t n, int label, double w);
/* The probability of each label for text into probs[nlabels] (they sum to
 * 1).  Before any example: uniform. */
void lp_textclf_predict(const lp_textclf *c, const char *text, size_t n, double *probs);
/* How many examples it has learned from. */
int64_t lp_textclf_seen(const lp_textclf *c);

/* Uncertainty of a prediction, larger is less sure, in [0, 1]: least
 * confidence (1 - max p) n / (n - 1), margin 1 - (p1 - p2) of the two
 * largest, entropy -sum p log p / log n.  0 for n < 2; NAN for an unknown
 * method. */
enum { LP_UNCERTAIN_LEAST_CONFIDENCE, LP_UNCERTAIN_MARGIN, LP_UNCERTAIN_ENTROPY };
double lp_uncertainty(const double *probs, int n, int method);

#endif
