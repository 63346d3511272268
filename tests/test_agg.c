/* test_agg.c -- majority vote. */
#include "agg.h"
#include "test.h"

TEST(agg_majority_picks_the_most_common_and_breaks_ties_by_order)
{
    const char *three[] = {"{\"labels\":[\"cat\"]}", "{\"labels\":[\"dog\"]}",
                           "{\"labels\":[\"dog\"]}"};
    size_t w;
    double c;
    lp_agg_majority(three, 3, &w, &c);
    CHECK_INT(w, 1);
    CHECK_NEAR(c, 2.0 / 3.0, 1e-12);
    const char *tie[] = {"b", "a", "a", "b"};
    lp_agg_majority(tie, 4, &w, &c);
    CHECK_INT(w, 0); /* b was submitted first */
    CHECK_NEAR(c, 0.5, 1e-12);
    const char *one[] = {"x"};
    lp_agg_majority(one, 1, &w, &c);
    CHECK_INT(w, 0);
    CHECK_NEAR(c, 1.0, 0);
}
