/* agg_rank.h -- consolidating rankings and pairwise comparisons into one
 * score per item: Bradley-Terry, Elo and Borda.
 *
 * Pure: arrays in, scores out, no I/O.  Items are ids 0..n_items-1; the
 * caller maps its own ids to them.  Every function returns 0 or a negative
 * LP_E* code; on failure the outputs hold nothing useful. */
#ifndef LP_AGG_RANK_H
#define LP_AGG_RANK_H

#include <stddef.h>
#include <stdint.h>

/* One comparison of two different items. */
typedef struct lp_pair {
    uint32_t left, right;
    int winner; /* LP_PAIR_LEFT, LP_PAIR_RIGHT or LP_PAIR_TIE */
} lp_pair;

enum { LP_PAIR_LEFT = 0, LP_PAIR_RIGHT = 1, LP_PAIR_TIE = 2 };

/* A light prior for lp_rank_bradley_terry: one virtual tied game between
 * each item and a reference item. */
#define LP_RANK_BT_PRIOR 1.0

/* Bradley-Terry strengths from n_pairs comparisons, a tie counting half a
 * win for each side: score[0..n_items) sums to 1 and P(i beats j) =
 * score[i] / (score[i] + score[j]).  With prior == 0 this is the plain
 * maximum-likelihood estimate, which exists only when the items that were
 * compared cannot be split into two groups one of which never beat (nor
 * tied) the other -- in particular every compared item must have won or
 * tied at least once; otherwise LP_EINVAL.  Items never compared score 0.
 * With prior > 0 each item also plays `prior` virtual tied games against a
 * reference of fixed strength, which keeps every score positive and finite
 * (never-compared items land at the reference level).  *iterations (may be
 * NULL) receives the MM sweeps used.  Returns LP_EINVAL for an item out of
 * range, an item compared with itself, an unknown winner, or a negative or
 * non-finite prior. */
int lp_rank_bradley_terry(size_t n_pairs, const lp_pair *p, size_t n_items, double prior,
                          double *score, int *iterations);

/* Online Elo over the comparisons in order: every item starts at initial;
 * after each game both sides move by k (S - E), E = 1 / (1 + 10^((R_other -
 * R) / 400)) and S = 1, 0.5 or 0 for a win, tie or loss.  Returns LP_EINVAL
 * for bad pairs (as lp_rank_bradley_terry) or a non-finite initial or k. */
int lp_rank_elo(size_t n_pairs, const lp_pair *p, size_t n_items, double initial, double k,
                double *score);

/* Borda count over n_rankings orderings, ranking r being items[offsets[r]
 * .. offsets[r + 1]), best first.  A ranking may list only some items: it
 * gives its j-th item (from 0) n_items - 1 - j points, as many as the items
 * placed or left below it, and each item it leaves out the average of the
 * places left, (n_items - 1 - m) / 2 for a ranking of m items, so unlisted
 * items rank tied below the listed ones and every ranking hands out the
 * same n_items (n_items - 1) / 2 points.  group (NULL: no ties) gives each
 * listed position a group id; consecutive positions with the same id are
 * tied and share the mean points of their places.  weight (NULL: all 1)
 * multiplies ranking r's points by weight[r].  score[i] is the sum of
 * points.  (When a missing item means "not shown" rather than "not
 * chosen", use lp_rank_pairs and Bradley-Terry, which use only the pairs
 * compared.)  Returns LP_EINVAL for an item out of range, an item listed
 * twice in one ranking, decreasing offsets, or a negative or non-finite
 * weight. */
int lp_rank_borda(size_t n_rankings, const size_t *offsets, const uint32_t *items,
                  const uint32_t *group, const double *weight, size_t n_items, double *score);

size_t lp_rank_pair_count(size_t n_rankings, const size_t *offsets);

/* Writes to out (room for lp_rank_pair_count pairs) every pair of items
 * within each ranking, the better-placed one on the left as the winner, in
 * ranking order.  Returns LP_EINVAL for an item listed twice in one ranking
 * or decreasing offsets (out is then untouched). */
int lp_rank_pairs(size_t n_rankings, const size_t *offsets, const uint32_t *items, lp_pair *out);

#endif
