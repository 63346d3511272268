/* agg.c -- see agg.h.  Majority vote is O(n^2) string comparisons, which
 * is right for the few annotations (the overlap) a task gets. */
#include "agg.h"

#include <string.h>

void lp_agg_majority(const char *const *responses, size_t n, size_t *winner, double *confidence)
{
    size_t best = 0, best_votes = 0;
    for (size_t i = 0; i < n; i++) {
        size_t votes = 0;
        for (size_t j = 0; j < n; j++) votes += strcmp(responses[i], responses[j]) == 0;
        if (votes > best_votes) { /* strictly more: ties keep the earlier value */
            best = i;
            best_votes = votes;
        }
    }
    *winner = best;
    *confidence = n ? (double)best_votes / (double)n : 0;
}
