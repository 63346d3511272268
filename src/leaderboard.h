/* leaderboard.h -- a leaderboard of models from pairwise comparisons (LLM
 * arenas, A/B preference votes): Bradley-Terry ratings with bootstrap
 * confidence intervals, online Elo, win rates, ranks that only separate
 * models whose intervals do not overlap, and a test for position bias.
 *
 * Pure: arrays in, a result out, no I/O.  Models are ids 0..n_models-1 and
 * comparisons are lp_pair (agg_rank.h).  See leaderboard.c for the method. */
#ifndef LP_LEADERBOARD_H
#define LP_LEADERBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "agg_rank.h"

/* The rating scale: rating = LP_LB_SCALE * log10(strength) + offset, the
 * offset chosen so that the mean rating of the models compared is
 * LP_LB_ANCHOR (so a model of average strength reads 1000, and 400 points
 * apart means 10:1 odds, as on Chatbot Arena). */
#define LP_LB_SCALE  400.0
#define LP_LB_ANCHOR 1000.0

/* At most this many models (the win-rate matrix is n x n doubles). */
#define LP_LB_MAX_MODELS 4096

typedef struct lp_leaderboard_opts {
    size_t rounds; /* bootstrap rounds (default 1000); 0: no intervals */
    uint64_t seed; /* the same seed gives the same intervals (default 1) */
    double level;  /* confidence level of the intervals, in (0, 1) (default 0.95) */
    double k;      /* Elo K factor (default 4); initial 1000, base 10, scale 400 */
    int threads;   /* threads for the bootstrap, 1..64 (default 2); the result
                    * does not depend on it */
} lp_leaderboard_opts;

/* Fills o with the defaults above. */
void lp_leaderboard_opts_init(lp_leaderboard_opts *o);

typedef struct lp_lb_model {
    double strength;     /* Bradley-Terry strength; they sum to 1 over the models
                          * compared; 0 for a model never compared */
    double rating;       /* the strength on the rating scale; NaN if never compared */
    double lower, upper; /* bootstrap percentile interval of the rating; NaN when
                          * there were no rounds or the model played in none */
    double elo;          /* online Elo over the comparisons in their order */
    size_t games, wins, ties, losses;
    double win_rate; /* (wins + ties / 2) / games; NaN with no games */
    size_t rank;     /* 1 + the models whose lower bound is above this one's
                      * upper bound; 0 for a model never compared */
    size_t rounds;   /* bootstrap rounds in which the model played */
} lp_lb_model;

typedef struct lp_leaderboard {
    size_t n_models, n_pairs;
    lp_lb_model *model;  /* n_models */
    double *win_rate;    /* n_models x n_models, row-major: [i * n + j] is the
                          * share of the games between i and j that i won, a tie
                          * counting half; NaN if they never met (and on the
                          * diagonal) */
    int prior;           /* 1 if the plain maximum-likelihood strengths do not
                          * exist (some group of models never beat nor tied the
                          * rest, e.g. a model that never won) and the strengths
                          * are fitted with the prior LP_RANK_BT_PRIOR instead */
    size_t rounds;       /* bootstrap rounds run */
    size_t prior_rounds; /* rounds whose resample needed the prior */
    double level;
} lp_leaderboard;

/* Computes the leaderboard of n_models models from n_pairs comparisons.
 * opts may be NULL (the defaults).  On success *out is a new leaderboard
 * the caller frees with lp_leaderboard_free.  Returns LP_EINVAL (and sets
 * nothing) for more than LP_LB_MAX_MODELS models, a model out of range, a model compared with
 * itself, an unknown winner, or options out of range. */
int lp_leaderboard_compute(size_t n_pairs, const lp_pair *p, size_t n_models,
                           const lp_leaderboard_opts *opts, lp_leaderboard **out);
/* NULL is a no-op. */
void lp_leaderboard_free(lp_leaderboard *lb);

/* Position bias of a judge: of the decisive votes, did the left (first
 * shown) answer win more often than half?  share = left / (left + right),
 * [lower, upper] its Wilson score interval at the level given, p_value the
 * exact two-sided binomial test of share = 1/2 (ties are reported but do
 * not enter).  With no decisive vote share, lower, upper are NaN and
 * p_value is 1. */
typedef struct lp_position_bias {
    uint64_t left, right, ties;
    double share, lower, upper, p_value;
} lp_position_bias;

/* LP_EINVAL if level is not in (0, 1). */
int lp_leaderboard_position_bias(uint64_t left, uint64_t right, uint64_t ties, double level,
                                 lp_position_bias *out);

#endif
