/* test_assign.c -- maximum-weight one-to-one matching (src/assign.c). */
#include <stdint.h>
#include <stdlib.h>

#include "assign.h"
#include "test.h"

TEST(assign_beats_greedy_where_the_most_similar_pair_blocks_two)
{
    /* Greedy takes a-x (0.9) and nothing else; a-y + b-x = 1.5. */
    double w[] = {0.9, 0.8, 0.7, 0};
    size_t m[2];
    CHECK_NEAR(lp_assign_dense(w, 2, 2, m), 1.5, 1e-12);
    CHECK(m[0] == 1 && m[1] == 0);
    lp_assign_edge e[] = {{0.9, 0, 0}, {0.8, 0, 1}, {0.7, 1, 0}};
    CHECK_NEAR(lp_assign_sparse(e, 3, 2, 2, m), 1.5, 1e-12);
    CHECK(m[0] == 1 && m[1] == 0);
}

TEST(assign_leaves_zero_weight_and_surplus_items_unpaired)
{
    double w[] = {0, 0.6, 0, 0, 0, 0}; /* 3 x 2: only row 0 - column 1 */
    size_t m[3];
    CHECK_NEAR(lp_assign_dense(w, 3, 2, m), 0.6, 1e-12);
    CHECK(m[0] == 1 && m[1] == SIZE_MAX && m[2] == SIZE_MAX);
    CHECK_NEAR(lp_assign_dense(w, 0, 2, m), 0, 0);
    CHECK_NEAR(lp_assign_sparse(NULL, 0, 3, 2, m), 0, 0);
    CHECK(m[0] == SIZE_MAX);
}

/* The best sum by trying every pairing of rows i.. (used: columns taken). */
static double brute(const double *w, size_t na, size_t nb, size_t i, unsigned used)
{
    if (i == na) return 0;
    double best = brute(w, na, nb, i + 1, used);
    for (size_t j = 0; j < nb; j++)
        if (!(used & 1u << j) && w[i * nb + j] > 0) {
            double s = w[i * nb + j] + brute(w, na, nb, i + 1, used | 1u << j);
            if (s > best) best = s;
        }
    return best;
}

TEST(assign_matches_exhaustive_search_on_random_sparse_weights)
{
    srand(7);
    for (int round = 0; round < 300; round++) {
        size_t na = 1 + (size_t)rand() % 6, nb = 1 + (size_t)rand() % 6, ne = 0, m[6];
        double w[36];
        lp_assign_edge e[36];
        for (size_t i = 0; i < na; i++)
            for (size_t j = 0; j < nb; j++) {
                w[i * nb + j] = rand() % 3 ? 0 : 0.5 + (rand() % 1000) / 2000.0;
                if (w[i * nb + j] > 0) e[ne++] = (lp_assign_edge){w[i * nb + j], i, j};
            }
        double want = brute(w, na, nb, 0, 0);
        double dense = lp_assign_dense(w, na, nb, m), got = 0;
        unsigned used = 0;
        for (size_t i = 0; i < na; i++)
            if (m[i] != SIZE_MAX) {
                CHECK(!(used & 1u << m[i]) && w[i * nb + m[i]] > 0);
                used |= 1u << m[i];
                got += w[i * nb + m[i]];
            }
        CHECK_NEAR(dense, want, 1e-9);
        CHECK_NEAR(got, want, 1e-9);
        CHECK_NEAR(lp_assign_sparse(e, ne, na, nb, NULL), want, 1e-9);
    }
}

/* A component over LP_ASSIGN_EXACT_CELLS is matched greedily: most weight
 * first, each item once; the sum is that of the same walk done here. */
TEST(assign_matches_a_huge_component_greedily_and_validly)
{
    enum { NA = 520, NB = 500 };
    size_t ne = 0, *m = malloc(NA * sizeof *m);
    lp_assign_edge *e = malloc((size_t)NA * NB * sizeof *e);
    double *w = malloc((size_t)NA * NB * sizeof *w), want = 0;
    for (size_t i = 0; i < NA; i++)
        for (size_t j = 0; j < NB; j++) {
            w[i * NB + j] = 0.5 + (double)((i * 7919 + j * 104729) % 10007) / 20014.0;
            e[ne++] = (lp_assign_edge){w[i * NB + j], i, j};
        }
    CHECK(NA * NB > LP_ASSIGN_EXACT_CELLS);
    double got = lp_assign_sparse(e, ne, NA, NB, m);
    /* The greedy walk over e[], which lp_assign_sparse left sorted by weight. */
    char *used = calloc(NA + NB, 1);
    for (size_t k = 0; k < ne; k++) {
        if (k) CHECK(e[k - 1].w >= e[k].w);
        if (used[e[k].a] || used[NA + e[k].b]) continue;
        used[e[k].a] = used[NA + e[k].b] = 1;
        want += e[k].w;
    }
    size_t paired = 0;
    char *col = calloc(NB, 1);
    for (size_t i = 0; i < NA; i++)
        if (m[i] != SIZE_MAX) {
            CHECK(!col[m[i]]);
            col[m[i]] = 1;
            paired++;
        }
    CHECK_NEAR(got, want, 1e-6);
    CHECK_INT(paired, NB);
    free(col);
    free(used);
    free(w);
    free(e);
    free(m);
}
