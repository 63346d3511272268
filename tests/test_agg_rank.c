/* test_agg_rank.c -- Bradley-Terry and Elo against evalica's golden scores
 * in ../shared/data/pairwise, Borda on a hand example, and invariances. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "agg_rank.h"
#include "test.h"
#include "util.h"

enum { MAX_ITEMS = 16, MAX_PAIRS = 64 };

/* One pairwise data set with its golden scores, item names mapped to ids
 * in order of first appearance. */
typedef struct {
    char name[MAX_ITEMS][32];
    size_t n_items, n_pairs;
    lp_pair pair[MAX_PAIRS];
    double bt[MAX_ITEMS], elo[MAX_ITEMS];
} pairwise;

static int item_id(pairwise *d, const char *s, int add)
{
    for (size_t i = 0; i < d->n_items; i++)
        if (strcmp(d->name[i], s) == 0) return (int)i;
    if (!add || d->n_items == MAX_ITEMS || strlen(s) >= sizeof d->name[0]) return -1;
    strcpy(d->name[d->n_items], s);
    return (int)d->n_items++;
}

static int read_pairwise(const char *set, pairwise *d)
{
    char path[512], line[256], a[32], b[32], c[32];
    *d = (pairwise){0};
    snprintf(path, sizeof path, "%s/pairwise/%s.csv", lp_test_data_dir(), set);
    FILE *f = fopen(path, "r");
    if (!f) return LP_EIO;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%31[^,],%31[^,],%31[^,\r\n]", a, b, c) != 3) continue;
        if (strcmp(a, "left") == 0) continue;
        int l = item_id(d, a, 1), r = item_id(d, b, 1);
        if (l < 0 || r < 0 || d->n_pairs == MAX_PAIRS) break;
        int w = strcmp(c, "left") == 0    ? LP_PAIR_LEFT
                : strcmp(c, "right") == 0 ? LP_PAIR_RIGHT
                                          : LP_PAIR_TIE;
        d->pair[d->n_pairs++] = (lp_pair){(uint32_t)l, (uint32_t)r, w};
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/pairwise/%s-golden.csv", lp_test_data_dir(), set);
    if (!(f = fopen(path, "r"))) return LP_EIO;
    size_t got = 0;
    while (fgets(line, sizeof line, f)) {
        double v;
        if (sscanf(line, "%31[^,],%31[^,],%lf", a, b, &v) != 3) continue;
        int i = item_id(d, b, 0);
        if (i < 0) continue;
        if (strcmp(a, "bradley_terry") == 0) d->bt[i] = v, got++;
        if (strcmp(a, "elo") == 0) d->elo[i] = v, got++;
    }
    fclose(f);
    return got == 2 * d->n_items ? 0 : LP_EINVAL;
}

static double max_abs_diff(const double *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

/* Measured: the largest error against the golden Bradley-Terry scores is
 * 4.3e-13 on simple (83 sweeps) and 7.6e-13 on food (73 sweeps); the Elo
 * ratings match to the last bit. */
static void check_golden(const char *set, size_t n_items, size_t n_pairs)
{
    pairwise d;
    double score[MAX_ITEMS], sum = 0;
    int iterations = 0;
    CHECK_INT(read_pairwise(set, &d), 0);
    CHECK_INT(d.n_items, n_items);
    CHECK_INT(d.n_pairs, n_pairs);
    CHECK_INT(lp_rank_bradley_terry(d.n_pairs, d.pair, d.n_items, 0, score, &iterations), 0);
    for (size_t i = 0; i < d.n_items; i++) sum += score[i];
    CHECK_NEAR(sum, 1, 1e-12);
    CHECK(iterations > 1 && iterations < 10000);
    CHECK_NEAR(max_abs_diff(score, d.bt, d.n_items), 0, 1e-11);
    CHECK_INT(lp_rank_elo(d.n_pairs, d.pair, d.n_items, 1000, 4, score), 0);
    CHECK_NEAR(max_abs_diff(score, d.elo, d.n_items), 0, 1e-12);
}

TEST(agg_rank_golden_simple)
{
    check_golden("simple", 5, 16);
}

TEST(agg_rank_golden_food)
{
    check_golden("food", 5, 30);
}

TEST(agg_rank_bt_permutation_invariant)
{
    /* Relabelling the items permutes the scores; reordering the pairs and
     * swapping left and right changes nothing. */
    pairwise d;
    CHECK_INT(read_pairwise("food", &d), 0);
    double base[MAX_ITEMS], other[MAX_ITEMS];
    CHECK_INT(lp_rank_bradley_terry(d.n_pairs, d.pair, d.n_items, 0, base, NULL), 0);
    static const uint32_t relabel[5] = {3, 0, 4, 1, 2};
    lp_pair q[MAX_PAIRS];
    for (size_t r = 0; r < d.n_pairs; r++) {
        const lp_pair *p = &d.pair[d.n_pairs - 1 - r];
        int w = p->winner == LP_PAIR_TIE ? LP_PAIR_TIE : 1 - p->winner;
        q[r] = (lp_pair){relabel[p->right], relabel[p->left], w};
    }
    CHECK_INT(lp_rank_bradley_terry(d.n_pairs, q, d.n_items, 0, other, NULL), 0);
    for (size_t i = 0; i < d.n_items; i++) CHECK_NEAR(other[relabel[i]], base[i], 1e-12);
    /* Elo depends on the order, but not on the labels. */
    CHECK_INT(lp_rank_elo(d.n_pairs, d.pair, d.n_items, 1000, 4, base), 0);
    for (size_t r = 0; r < d.n_pairs; r++) {
        q[r] = d.pair[r];
        q[r].left = relabel[q[r].left];
        q[r].right = relabel[q[r].right];
    }
    CHECK_INT(lp_rank_elo(d.n_pairs, q, d.n_items, 1000, 4, other), 0);
    for (size_t i = 0; i < d.n_items; i++) CHECK_NEAR(other[relabel[i]], base[i], 1e-12);
}

TEST(agg_rank_bt_no_ml_needs_prior)
{
    /* Item 2 never wins, so the maximum likelihood puts it at 0: plain ML
     * refuses, a light prior gives it the smallest positive score. */
    lp_pair p[] = {{0, 1, LP_PAIR_LEFT},
                   {1, 0, LP_PAIR_LEFT},
                   {0, 2, LP_PAIR_LEFT},
                   {2, 1, LP_PAIR_RIGHT},
                   {1, 2, LP_PAIR_TIE}};
    double score[4] = {0}, sum = 0;
    CHECK_INT(lp_rank_bradley_terry(4, p, 3, 0, score, NULL), LP_EINVAL);
    CHECK_INT(lp_rank_bradley_terry(5, p, 3, 0, score, NULL), 0); /* the tie connects it */
    CHECK(score[2] > 0 && score[2] < score[1] && score[2] < score[0]);
    int iterations;
    CHECK_INT(lp_rank_bradley_terry(4, p, 4, LP_RANK_BT_PRIOR, score, &iterations), 0);
    for (int i = 0; i < 4; i++) sum += score[i];
    CHECK_NEAR(sum, 1, 1e-12);
    CHECK(score[2] > 0 && score[2] < score[1]);
    CHECK_NEAR(score[0], score[1], 1e-12);             /* 0 and 1 each won 2 of 3 */
    CHECK(score[3] > score[2] && score[3] < score[0]); /* never compared: the reference */
    CHECK(iterations < 10000);
    /* Bad input. */
    lp_pair self[] = {{1, 1, LP_PAIR_TIE}}, odd[] = {{0, 1, 3}}, far[] = {{0, 3, LP_PAIR_LEFT}};
    CHECK_INT(lp_rank_bradley_terry(1, self, 3, 1, score, NULL), LP_EINVAL);
    CHECK_INT(lp_rank_bradley_terry(1, odd, 3, 1, score, NULL), LP_EINVAL);
    CHECK_INT(lp_rank_bradley_terry(1, far, 3, 1, score, NULL), LP_EINVAL);
    CHECK_INT(lp_rank_bradley_terry(1, p, 3, -1, score, NULL), LP_EINVAL);
    CHECK_INT(lp_rank_elo(1, far, 3, 1000, 4, score), LP_EINVAL);
}

TEST(agg_rank_borda_hand_example)
{
    /* Four items; rankings 0 1 2 3, 1 0 2 3 and the partial 2 1, whose
     * unlisted items 0 and 3 share places 3 and 4: (0 + 1) / 2 points.
     * Item 0: 3 + 2 + 0.5, item 1: 2 + 3 + 2, item 2: 1 + 1 + 3,
     * item 3: 0 + 0 + 0.5; 3 rankings x 6 points = 18 in all. */
    size_t offsets[] = {0, 4, 8, 10};
    uint32_t items[] = {0, 1, 2, 3, 1, 0, 2, 3, 2, 1};
    double score[4];
    CHECK_INT(lp_rank_borda(3, offsets, items, NULL, NULL, 4, score), 0);
    CHECK_NEAR(score[0], 5.5, 1e-12);
    CHECK_NEAR(score[1], 7, 1e-12);
    CHECK_NEAR(score[2], 5, 1e-12);
    CHECK_NEAR(score[3], 0.5, 1e-12);
    /* Relabelled items and reordered rankings give the same points. */
    size_t offsets2[] = {0, 2, 6, 10};
    uint32_t items2[] = {1, 2, 2, 3, 1, 0, 3, 2, 1, 0}; /* 0->3, 1->2, 2->1, 3->0 */
    double score2[4];
    CHECK_INT(lp_rank_borda(3, offsets2, items2, NULL, NULL, 4, score2), 0);
    for (int i = 0; i < 4; i++) CHECK_NEAR(score2[3 - i], score[i], 1e-12);
    uint32_t twice[] = {0, 1, 0};
    size_t off3[] = {0, 3}, down[] = {2, 1};
    CHECK_INT(lp_rank_borda(1, off3, twice, NULL, NULL, 4, score), LP_EINVAL);
    CHECK_INT(lp_rank_borda(1, offsets, items, NULL, NULL, 3, score), LP_EINVAL);
    CHECK_INT(lp_rank_borda(1, down, items, NULL, NULL, 4, score), LP_EINVAL);
}

TEST(agg_rank_pairs_from_rankings)
{
    /* The Borda example as pairs: 6 + 6 + 1 comparisons, the better place
     * on the left.  Item 3 is last everywhere, so it never wins and plain
     * ML does not exist.  With the prior, unlike Borda, item 0 comes first:
     * pairs only count what was compared, and 0 won 5 of its 6 games while
     * 1 won 5 of 7 (it lost to 2 in the partial ranking that left 0 out). */
    size_t offsets[] = {0, 4, 8, 10};
    uint32_t items[] = {0, 1, 2, 3, 1, 0, 2, 3, 2, 1};
    CHECK_INT(lp_rank_pair_count(3, offsets), 13);
    lp_pair p[13];
    CHECK_INT(lp_rank_pairs(3, offsets, items, p), 0);
    CHECK_INT(p[0].left, 0);
    CHECK_INT(p[0].right, 1);
    CHECK_INT(p[0].winner, LP_PAIR_LEFT);
    CHECK_INT(p[12].left, 2);
    CHECK_INT(p[12].right, 1);
    double score[4];
    CHECK_INT(lp_rank_bradley_terry(13, p, 4, 0, score, NULL), LP_EINVAL);
    CHECK_INT(lp_rank_bradley_terry(13, p, 4, LP_RANK_BT_PRIOR, score, NULL), 0);
    CHECK(score[0] > score[1] && score[1] > score[2] && score[2] > score[3]);
    uint32_t twice[] = {4, 1, 4};
    size_t off3[] = {0, 3};
    CHECK_INT(lp_rank_pairs(1, off3, twice, p), LP_EINVAL);
}

TEST(agg_rank_borda_shares_points_within_ties_and_weighs_rankings)
{
    /* Four items; ranking 0 puts 2 first and ties 0 and 1 second; ranking 1
     * (weight 3) is 0 > 1 > 2 > 3. */
    size_t offsets[] = {0, 4, 8};
    uint32_t items[] = {2, 0, 1, 3, 0, 1, 2, 3};
    uint32_t group[] = {0, 1, 1, 2, 0, 1, 2, 3};
    double weight[] = {1, 3}, score[4];
    CHECK_INT(lp_rank_borda(2, offsets, items, group, weight, 4, score), 0);
    CHECK_NEAR(score[2], 3 + 3 * 1, 1e-12);
    CHECK_NEAR(score[0], 1.5 + 3 * 3, 1e-12);
    CHECK_NEAR(score[1], 1.5 + 3 * 2, 1e-12);
    CHECK_NEAR(score[3], 0, 1e-12);
    double bad[] = {1, -1};
    CHECK_INT(lp_rank_borda(2, offsets, items, group, bad, 4, score), LP_EINVAL);
}
