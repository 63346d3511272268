/* test_agree.c -- agreement coefficients against the published worked
 * examples in ../shared/data/agreement (see its README for the sources). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "agree.h"
#include "test.h"
#include "util.h"

/* A table read from a CSV in the agreement folder: '#' lines and the
 * header skipped, the first column (a row name) dropped, '*' read as NAN. */
typedef struct {
    double *cell;
    size_t rows, cols;
} table;

static int read_table(const char *name, table *t)
{
    char path[512], line[4096];
    snprintf(path, sizeof path, "%s/agreement/%s", lp_test_data_dir(), name);
    FILE *f = fopen(path, "r");
    if (!f) return LP_EIO;
    int header = 1;
    *t = (table){0};
    size_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        if (header) {
            header = 0;
            continue;
        }
        size_t cols = 0;
        char *p = strchr(line, ',');
        while (p) {
            p++;
            if (t->rows * t->cols + cols + 1 > cap) {
                cap = cap ? 2 * cap : 64;
                t->cell = lp_realloc(t->cell, cap * sizeof *t->cell);
            }
            t->cell[t->rows * t->cols + cols++] = *p == '*' ? NAN : strtod(p, NULL);
            p = strchr(p, ',');
        }
        if (t->rows && cols != t->cols) {
            fclose(f);
            free(t->cell);
            return LP_EINVAL;
        }
        t->cols = cols;
        t->rows++;
    }
    fclose(f);
    return 0;
}

/* Alpha of a coders x units table (the layout of the data files). */
static double table_alpha(const table *t, lp_alpha_level level)
{
    size_t n = 0;
    uint32_t *unit = lp_malloc(t->rows * t->cols * sizeof *unit);
    double *value = lp_malloc(t->rows * t->cols * sizeof *value), alpha = -99;
    for (size_t r = 0; r < t->rows; r++) {
        for (size_t u = 0; u < t->cols; u++) {
            double v = t->cell[r * t->cols + u];
            if (isnan(v)) continue;
            unit[n] = (uint32_t)u;
            value[n++] = v;
        }
    }
    if (lp_agree_alpha(n, unit, value, level, &alpha)) alpha = -99;
    free(value);
    free(unit);
    return alpha;
}

TEST(agree_alpha_krippendorff2011_example_c)
{
    table t;
    CHECK_INT(read_table("krippendorff2011_exampleC.csv", &t), 0);
    CHECK_INT(t.rows, 4);
    CHECK_INT(t.cols, 12);
    double nominal = table_alpha(&t, LP_ALPHA_NOMINAL), ordinal = table_alpha(&t, LP_ALPHA_ORDINAL);
    double interval = table_alpha(&t, LP_ALPHA_INTERVAL), ratio = table_alpha(&t, LP_ALPHA_RATIO);
    free(t.cell);
    CHECK_NEAR(nominal, 0.743, 0.0005);
    CHECK_NEAR(ordinal, 0.815, 0.0005);
    CHECK_NEAR(interval, 0.849, 0.0005);
    CHECK_NEAR(ratio, 0.797, 0.0005);
}

TEST(agree_alpha_wikipedia_3x15)
{
    table t;
    CHECK_INT(read_table("wikipedia_krippendorff_3x15.csv", &t), 0);
    CHECK_INT(t.rows, 3);
    CHECK_INT(t.cols, 15);
    double nominal = table_alpha(&t, LP_ALPHA_NOMINAL),
           interval = table_alpha(&t, LP_ALPHA_INTERVAL);
    free(t.cell);
    CHECK_NEAR(nominal, 0.691358, 0.0000005);
    CHECK_NEAR(interval, 0.810845, 0.0000005);
}

TEST(agree_alpha_krippendorff2011_example_a)
{
    table t;
    CHECK_INT(read_table("krippendorff2011_exampleA_binary.csv", &t), 0);
    CHECK_INT(t.rows, 2);
    CHECK_INT(t.cols, 10);
    double nominal = table_alpha(&t, LP_ALPHA_NOMINAL);
    free(t.cell);
    CHECK_NEAR(nominal, 0.095, 0.0005);
}

TEST(agree_alpha_matrix_matches_rows)
{
    /* Example C transposed to units x coders, as lp_agree_alpha_matrix
     * takes it. */
    table t;
    CHECK_INT(read_table("krippendorff2011_exampleC.csv", &t), 0);
    double *m = lp_malloc(t.rows * t.cols * sizeof *m), alpha = 0;
    for (size_t r = 0; r < t.rows; r++)
        for (size_t u = 0; u < t.cols; u++) m[u * t.rows + r] = t.cell[r * t.cols + u];
    int rc = lp_agree_alpha_matrix(m, t.cols, t.rows, LP_ALPHA_INTERVAL, &alpha);
    free(m);
    free(t.cell);
    CHECK_INT(rc, 0);
    CHECK_NEAR(alpha, 0.849, 0.0005);
}

TEST(agree_alpha_properties)
{
    /* Perfect agreement with variation is 1 at every level; relabelling
     * nominal categories (any one-to-one map) leaves alpha unchanged; the
     * order of the rows does not matter. */
    uint32_t unit[] = {0, 0, 1, 1, 1, 2, 2, 3, 3};
    double same[] = {1, 1, 3, 3, 3, 7, 7, 2, 2}, alpha;
    for (int l = 0; l < LP_ALPHA_NLEVELS; l++) {
        CHECK_INT(lp_agree_alpha(9, unit, same, (lp_alpha_level)l, &alpha), 0);
        CHECK_NEAR(alpha, 1, 1e-12);
    }
    double v[] = {1, 2, 3, 3, 1, 7, 7, 2, 1}, relabel[9], shuffled[9], a0, a1, a2;
    uint32_t shuffled_unit[9];
    static const double map[8] = {0, 40, -5, 9, 0, 0, 0, 2.5};
    size_t perm[9] = {4, 8, 0, 2, 7, 1, 6, 3, 5};
    for (int i = 0; i < 9; i++) {
        relabel[i] = map[(int)v[i]];
        shuffled[i] = v[perm[i]];
        shuffled_unit[i] = unit[perm[i]];
    }
    CHECK_INT(lp_agree_alpha(9, unit, v, LP_ALPHA_NOMINAL, &a0), 0);
    CHECK_INT(lp_agree_alpha(9, unit, relabel, LP_ALPHA_NOMINAL, &a1), 0);
    CHECK_INT(lp_agree_alpha(9, shuffled_unit, shuffled, LP_ALPHA_NOMINAL, &a2), 0);
    CHECK(a0 < 1);
    CHECK_NEAR(a1, a0, 1e-12);
    CHECK_NEAR(a2, a0, 1e-12);
    /* Ordinal alpha depends on the order of values only: a monotone map
     * leaves it unchanged. */
    for (int i = 0; i < 9; i++) relabel[i] = exp(v[i]);
    CHECK_INT(lp_agree_alpha(9, unit, v, LP_ALPHA_ORDINAL, &a0), 0);
    CHECK_INT(lp_agree_alpha(9, unit, relabel, LP_ALPHA_ORDINAL, &a1), 0);
    CHECK_NEAR(a1, a0, 1e-12);
}

TEST(agree_alpha_edge_cases)
{
    uint32_t unit[] = {0, 0, 1, 2};
    double v[] = {4, 4, 4, 5}, alpha = 0;
    /* Every pairable value the same: no disagreement is possible. */
    CHECK_INT(lp_agree_alpha(4, unit, v, LP_ALPHA_NOMINAL, &alpha), 0);
    CHECK(isnan(alpha));
    /* No unit with two values. */
    CHECK_INT(lp_agree_alpha(3, unit + 1, v + 1, LP_ALPHA_INTERVAL, &alpha), 0);
    CHECK(isnan(alpha));
    CHECK_INT(lp_agree_alpha(0, NULL, NULL, LP_ALPHA_INTERVAL, &alpha), 0);
    CHECK(isnan(alpha));
    double bad[] = {1, NAN, 2, 3}, neg[] = {1, -1, 2, 3};
    alpha = 7;
    CHECK_INT(lp_agree_alpha(4, unit, bad, LP_ALPHA_NOMINAL, &alpha), LP_EINVAL);
    CHECK_INT(lp_agree_alpha(4, unit, neg, LP_ALPHA_RATIO, &alpha), LP_EINVAL);
    CHECK_INT(lp_agree_alpha(4, unit, v, LP_ALPHA_NLEVELS, &alpha), LP_EINVAL);
    CHECK_NEAR(alpha, 7, 0);
    lp_alpha_level l;
    CHECK_INT(lp_alpha_level_parse("ordinal", &l), 0);
    CHECK_INT(l, LP_ALPHA_ORDINAL);
    CHECK_INT(lp_alpha_level_parse("cardinal", &l), LP_EINVAL);
    CHECK_STR(lp_alpha_level_name(LP_ALPHA_RATIO), "ratio");
}

TEST(agree_fleiss_wikipedia)
{
    table t;
    CHECK_INT(read_table("fleiss_wikipedia_10x5.csv", &t), 0);
    CHECK_INT(t.rows, 10);
    CHECK_INT(t.cols, 5);
    double kappa, p, pe;
    int rc = lp_agree_fleiss(t.cell, t.rows, t.cols, &kappa, &p, &pe);
    free(t.cell);
    CHECK_INT(rc, 0);
    CHECK_NEAR(p, 0.378022, 0.0000005);
    CHECK_NEAR(pe, 0.212755, 0.0000005);
    CHECK_NEAR(kappa, 0.20993070442195522, 1e-12);
}

TEST(agree_fleiss_unequal_raters)
{
    /* Subject 0 has 3 raters agreeing fully (P = 1), subject 1 has 2 who
     * disagree (P = 0), subject 2 a single rater (skipped).  Shares pool
     * the five ratings of subjects 0 and 1: 4/5 and 1/5. */
    double counts[] = {3, 0, 1, 1, 0, 1}, kappa, p, pe;
    CHECK_INT(lp_agree_fleiss(counts, 3, 2, &kappa, &p, &pe), 0);
    CHECK_NEAR(p, 0.5, 1e-12);
    CHECK_NEAR(pe, 0.68, 1e-12);
    CHECK_NEAR(kappa, (0.5 - 0.68) / 0.32, 1e-12);
    double bad[] = {1, -1};
    CHECK_INT(lp_agree_fleiss(bad, 1, 2, &kappa, NULL, NULL), LP_EINVAL);
    double one[] = {5, 0, 3, 0};
    CHECK_INT(lp_agree_fleiss(one, 2, 2, &kappa, NULL, NULL), 0);
    CHECK(isnan(kappa));
}

/* Fills a, b with a 2x2 table: yy both 0, yn a=0 b=1, ny a=1 b=0, nn. */
static size_t two_by_two(uint32_t *a, uint32_t *b, int yy, int yn, int ny, int nn)
{
    size_t n = 0;
    for (int i = 0; i < yy; i++, n++) a[n] = 0, b[n] = 0;
    for (int i = 0; i < yn; i++, n++) a[n] = 0, b[n] = 1;
    for (int i = 0; i < ny; i++, n++) a[n] = 1, b[n] = 0;
    for (int i = 0; i < nn; i++, n++) a[n] = 1, b[n] = 1;
    return n;
}

TEST(agree_cohen_textbook)
{
    /* Wikipedia "Cohen's kappa": 50 grant proposals, 20 yes/yes, 5 yes/no,
     * 10 no/yes, 15 no/no: p_o = 0.7, p_e = 0.5, kappa = 0.4; and its two
     * tables with the same 60% agreement: kappa 0.1304 and 0.2593. */
    uint32_t a[100], b[100];
    double kappa;
    size_t n = two_by_two(a, b, 20, 5, 10, 15);
    CHECK_INT(lp_agree_cohen(n, a, b, 2, &kappa), 0);
    CHECK_NEAR(kappa, 0.4, 1e-12);
    n = two_by_two(a, b, 45, 15, 25, 15);
    CHECK_INT(lp_agree_cohen(n, a, b, 2, &kappa), 0);
    CHECK_NEAR(kappa, 0.1304, 0.00005);
    n = two_by_two(a, b, 25, 35, 5, 35);
    CHECK_INT(lp_agree_cohen(n, a, b, 2, &kappa), 0);
    CHECK_NEAR(kappa, 0.2593, 0.00005);
    CHECK_INT(lp_agree_cohen(n, a, b, n, &kappa), 0); /* unused classes change nothing */
    CHECK_NEAR(kappa, 0.2593, 0.00005);
    CHECK_INT(lp_agree_cohen(n, a, a, 2, &kappa), 0);
    CHECK_NEAR(kappa, 1, 1e-12);
    a[3] = 2;
    CHECK_INT(lp_agree_cohen(n, a, b, 2, &kappa), LP_EINVAL);
    uint32_t z[3] = {1, 1, 1};
    CHECK_INT(lp_agree_cohen(3, z, z, 2, &kappa), 0);
    CHECK(isnan(kappa));
}

TEST(agree_workers_consensus)
{
    /* Worker 0 matches both consensuses, worker 1 one of two, worker 2
     * answered only item 2, which has no consensus. */
    uint32_t item[] = {0, 0, 1, 1, 2, 2}, worker[] = {0, 1, 0, 1, 2, 0};
    uint32_t label[] = {3, 3, 1, 2, 0, 0}, compared[4];
    int32_t consensus[] = {3, 1, -1};
    double agreement[4];
    CHECK_INT(lp_agree_workers(6, item, worker, label, consensus, 3, 4, agreement, compared), 0);
    CHECK_NEAR(agreement[0], 1, 0);
    CHECK_NEAR(agreement[1], 0.5, 0);
    CHECK(isnan(agreement[2]) && isnan(agreement[3]));
    CHECK_INT(compared[0], 2);
    CHECK_INT(compared[1], 2);
    CHECK_INT(compared[2], 0);
    CHECK_INT(lp_agree_workers(6, item, worker, label, consensus, 3, 4, agreement, NULL), 0);
    CHECK_INT(lp_agree_workers(6, item, worker, label, consensus, 2, 4, agreement, NULL),
              LP_EINVAL);
    CHECK_INT(lp_agree_workers(6, item, worker, label, consensus, 3, 2, agreement, NULL),
              LP_EINVAL);
}
