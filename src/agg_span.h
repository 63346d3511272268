/* agg_span.h -- consolidation of the entity spans several workers marked
 * in one text.
 *
 * Pure: arrays in, results out, no I/O.  Offsets count Unicode code points,
 * start inclusive and end exclusive, as in kind_ner.c.  Spans are voted on
 * token by token (BIO tags), so the result's spans start and end on token
 * boundaries; lp_span_tokenize gives word and punctuation tokens of a UTF-8
 * text in that convention.  See agg_span.c for the method. */
#ifndef LP_AGG_SPAN_H
#define LP_AGG_SPAN_H

#include <stddef.h>
#include <stdint.h>

/* A token [start, end) of the text, in code points. */
typedef struct lp_token {
    size_t start, end;
} lp_token;

/* One worker's entity [start, end) with the caller's label id; worker is
 * below n_workers. */
typedef struct lp_span {
    uint32_t worker, label;
    size_t start, end;
} lp_span;

/* quorum: a token is in an entity of a label when the weight of the workers
 * who put it in one is more than quorum times the weight of all n_workers,
 * in [0, 1). */
typedef struct lp_span_opts {
    double quorum;
} lp_span_opts;

/* The default: more than half of the workers. */
#define LP_SPAN_OPTS_DEFAULT ((lp_span_opts){0.5})

/* A consolidated entity, from the start of its first token to the end of
 * its last; confidence is the mean over its tokens of the share of weight
 * of the workers who put the token in an entity of this label. */
typedef struct lp_span_out {
    uint32_t label;
    size_t start, end;
    double confidence;
} lp_span_out;

/* Splits the UTF-8 text s (n bytes) into tokens: runs of word characters
 * (letters, digits, marks, '_', and any non-ASCII character that is not
 * space or punctuation) and single punctuation characters, skipping white
 * space.  Offsets count code points as kind_ner.c does (every byte that is
 * not a UTF-8 continuation byte starts one), so invalid UTF-8 still gets
 * offsets.  Sets *out to a new array of *n_out tokens, in order, that the
 * caller frees with free() (NULL when there are none) and returns 0. */
int lp_span_tokenize(const char *s, size_t n, lp_token **out, size_t *n_out);

/* Consolidates the n spans s that n_workers workers marked in a text cut
 * into n_tok tokens tok (sorted, not overlapping, each not empty).  weights,
 * when not NULL, gives each worker's weight (finite, not negative); NULL
 * weighs every worker 1.  o NULL means LP_SPAN_OPTS_DEFAULT.  On success
 * returns 0 and sets *out to a new array of *n_out spans, in text order,
 * that the caller frees with free() (NULL when there are none).  Returns
 * LP_EINVAL, with *out NULL and *n_out 0, for a worker not below n_workers,
 * a span whose end is not after its start, unsorted or empty tokens, a bad
 * weight or option. */
int lp_agg_spans(const lp_token *tok, size_t n_tok, const lp_span *s, size_t n, size_t n_workers,
                 const double *weights, const lp_span_opts *o, lp_span_out **out, size_t *n_out);

#endif
