/* assign.h -- maximum-weight one-to-one matching (the assignment problem).
 *
 * Scoring a response against a reference pairs its items with the
 * reference's one to one; taking the most similar pair first (greedy) can
 * lose: with a-x 0.9, a-y 0.8, b-x 0.7 greedy takes a-x alone (0.9) where
 * a-y and b-x sum to 1.5.  These functions find the pairing of largest
 * total weight. */
#ifndef LP_ASSIGN_H
#define LP_ASSIGN_H

#include <stddef.h>

/* A candidate pair: item a (of the first set) with item b (of the second)
 * at weight w > 0. */
typedef struct lp_assign_edge {
    double w;
    size_t a, b;
} lp_assign_edge;

/* Components of the candidate graph larger than this many cells (rows x
 * columns) are matched greedily, most weight first, instead: the exact
 * method costs rows^2 x columns, 30-50 ms for a dense 500 x 500 here. */
#define LP_ASSIGN_EXACT_CELLS 250000

/* Pairs rows with columns of the na x nb row-major weights w (w >= 0, 0
 * where a pair is not allowed) so that the sum of the pairs' weights is
 * largest, by the Hungarian method (Kuhn 1955, Munkres 1957) in the
 * shortest-augmenting-path form with potentials: O(min^2 x max) time,
 * O(na + nb) memory besides w.  match[i] (na entries, caller's) receives
 * row i's column, or SIZE_MAX when it is unpaired (or paired at weight 0).
 * Returns the sum. */
double lp_assign_dense(const double *w, size_t na, size_t nb, size_t *match);

/* The same over the ne candidate pairs e[] (items a < na, b < nb; items
 * never named are unpaired): each connected component of the pairs is
 * matched exactly by lp_assign_dense, or greedily (most weight first;
 * ties in the order of a, then b) when it has more than
 * LP_ASSIGN_EXACT_CELLS cells.  match[] may be NULL.  Reorders e[].
 * Returns the sum of the pairs taken. */
double lp_assign_sparse(lp_assign_edge *e, size_t ne, size_t na, size_t nb, size_t *match);

#endif
