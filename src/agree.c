/* agree.c -- inter-annotator agreement coefficients.
 *
 * Krippendorff's alpha follows K. Krippendorff, "Computing Krippendorff's
 * Alpha-Reliability" (2011): alpha = 1 - D_o / D_e, where D_o averages the
 * disagreement delta(c, k) over the pairs of values within a unit, each
 * unit's pairs weighted 1 / (m_u - 1), and D_e averages it over all pairs
 * of pairable values regardless of unit.  With n pairable values,
 * D_o / D_e = (n - 1) O / E where O = sum_u sum_{i != j in u} delta / (m_u - 1)
 * and E = sum_{i != j} delta over every pairable value; both sums are
 * computed without the coincidence matrix:
 *   nominal   delta = [c != k]: E = n^2 - sum_c n_c^2, and per unit the same
 *             with the unit's counts;
 *   interval  delta = (c - k)^2: sum_{i != j} (x_i - x_j)^2 = 2 m sum (x_i - mean)^2;
 *   ordinal   delta = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2, which is the
 *             squared difference of the mid-ranks r_c = n_{<c} + n_c / 2
 *             computed from the marginals n_c, so it is interval on r;
 *   ratio     delta = ((c - k) / (c + k))^2 (0 when c = k = 0): pairwise,
 *             O(m_u^2) per unit and O(V^2) over the V distinct values.
 * Fleiss' kappa is J. L. Fleiss, "Measuring nominal scale agreement among
 * many raters" (1971); Cohen's kappa is J. Cohen, "A coefficient of
 * agreement for nominal scales" (1960).  None of these iterate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"
#include "util.h"

static const char *const level_names[LP_ALPHA_NLEVELS] = {"nominal", "ordinal", "interval",
                                                          "ratio"};

int lp_alpha_level_parse(const char *s, lp_alpha_level *out)
{
    for (int i = 0; s && i < LP_ALPHA_NLEVELS; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (lp_alpha_level)i;
            return 0;
        }
    }
    return LP_EINVAL;
}

const char *lp_alpha_level_name(lp_alpha_level level)
{
    return (unsigned)level < LP_ALPHA_NLEVELS ? level_names[level] : "?";
}

typedef struct {
    uint32_t unit;
    double v;
} obs;

static int by_unit_value(const void *a, const void *b)
{
    const obs *x = a, *y = b;
    if (x->unit != y->unit) return x->unit < y->unit ? -1 : 1;
    return (x->v > y->v) - (x->v < y->v);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double ratio_delta(double c, double k)
{
    double s = c + k;
    return s == 0 ? 0 : ((c - k) / s) * ((c - k) / s);
}

/* Index of v among the V sorted distinct values vals (v is one of them). */
static size_t value_index(const double *vals, size_t V, double v)
{
    size_t lo = 0, hi = V;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (vals[mid] <= v)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Within-unit disagreement sum_{i != j} delta(x_i, x_j) for the m values x
 * of one unit, sorted; for ordinal data x are already mid-ranks. */
static double unit_disagreement(const double *x, size_t m, lp_alpha_level level)
{
    double sum = 0;
    if (level == LP_ALPHA_NOMINAL) {
        double same = 0;
        for (size_t i = 0, j; i < m; i = j) {
            for (j = i; j < m && x[j] == x[i]; j++) {
            }
            same += (double)(j - i) * (double)(j - i);
        }
        return (double)m * (double)m - same;
    }
    if (level == LP_ALPHA_RATIO) {
        for (size_t i = 0; i < m; i++)
            for (size_t j = i + 1; j < m; j++) sum += 2 * ratio_delta(x[i], x[j]);
        return sum;
    }
    double mean = 0;
    for (size_t i = 0; i < m; i++) mean += x[i];
    mean /= (double)m;
    for (size_t i = 0; i < m; i++) sum += (x[i] - mean) * (x[i] - mean);
    return 2 * (double)m * sum;
}

int lp_agree_alpha(size_t n, const uint32_t *unit, const double *value, lp_alpha_level level,
                   double *alpha)
{
    if ((unsigned)level >= LP_ALPHA_NLEVELS) return LP_EINVAL;
    for (size_t r = 0; r < n; r++) {
        if (!isfinite(value[r])) return LP_EINVAL;
        if (level == LP_ALPHA_RATIO && value[r] < 0) return LP_EINVAL;
    }
    if (n < 2) {
        *alpha = NAN;
        return 0;
    }

    obs *o = lp_malloc(n * sizeof *o);
    for (size_t r = 0; r < n; r++) o[r] = (obs){unit[r], value[r]};
    qsort(o, n, sizeof *o, by_unit_value);

    /* Keep only pairable values (units with two or more), in unit order. */
    size_t np = 0;
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i; j < n && o[j].unit == o[i].unit; j++) {
        }
        if (j - i < 2) continue;
        memmove(o + np, o + i, (j - i) * sizeof *o);
        np += j - i;
    }

    /* The distinct values, their counts n_c and coordinates x_c. */
    double *vals = lp_malloc((np ? np : 1) * sizeof *vals);
    double *cnt = lp_malloc((np ? np : 1) * sizeof *cnt);
    double *x = lp_malloc((np ? np : 1) * sizeof *x);
    for (size_t i = 0; i < np; i++) vals[i] = o[i].v;
    qsort(vals, np, sizeof *vals, by_value);
    size_t V = 0;
    for (size_t i = 0, j; i < np; i = j) {
        for (j = i; j < np && vals[j] == vals[i]; j++) {
        }
        vals[V] = vals[i];
        cnt[V++] = (double)(j - i);
    }
    double below = 0;
    for (size_t c = 0; c < V; c++) {
        x[c] = level == LP_ALPHA_ORDINAL ? below + cnt[c] / 2 : vals[c];
        below += cnt[c];
    }

    /* E = sum over all ordered pairs of pairable values of delta. */
    double N = (double)np, E = 0;
    if (level == LP_ALPHA_NOMINAL) {
        E = N * N;
        for (size_t c = 0; c < V; c++) E -= cnt[c] * cnt[c];
    } else if (level == LP_ALPHA_RATIO) {
        for (size_t c = 0; c < V; c++)
            for (size_t k = c + 1; k < V; k++) E += 2 * cnt[c] * cnt[k] * ratio_delta(x[c], x[k]);
    } else {
        double mean = 0, ss = 0;
        for (size_t c = 0; c < V; c++) mean += cnt[c] * x[c];
        mean = N > 0 ? mean / N : 0;
        for (size_t c = 0; c < V; c++) ss += cnt[c] * (x[c] - mean) * (x[c] - mean);
        E = 2 * N * ss;
    }

    /* O = sum over units of their within-unit disagreement / (m_u - 1);
     * a unit's values become coordinates (x), still sorted. */
    double O = 0;
    double *ux = lp_malloc((np ? np : 1) * sizeof *ux);
    for (size_t i = 0, j; i < np; i = j) {
        for (j = i; j < np && o[j].unit == o[i].unit; j++)
            ux[j - i] = x[value_index(vals, V, o[j].v)];
        O += unit_disagreement(ux, j - i, level) / (double)(j - i - 1);
    }

    *alpha = E > 0 ? 1 - (N - 1) * O / E : NAN;
    free(ux);
    free(x);
    free(cnt);
    free(vals);
    free(o);
    return 0;
}

int lp_agree_alpha_matrix(const double *m, size_t units, size_t coders, lp_alpha_level level,
                          double *alpha)
{
    size_t n = 0, cells = units * coders;
    if (units && cells / units != coders) return LP_EINVAL;
    if (units > UINT32_MAX) return LP_ETOOBIG;
    uint32_t *unit = lp_malloc((cells ? cells : 1) * sizeof *unit);
    double *value = lp_malloc((cells ? cells : 1) * sizeof *value);
    for (size_t u = 0; u < units; u++) {
        for (size_t c = 0; c < coders; c++) {
            double v = m[u * coders + c];
            if (isnan(v)) continue;
            unit[n] = (uint32_t)u;
            value[n++] = v;
        }
    }
    int rc = lp_agree_alpha(n, unit, value, level, alpha);
    free(value);
    free(unit);
    return rc;
}

int lp_agree_fleiss(const double *counts, size_t subjects, size_t categories, double *kappa,
                    double *p_bar, double *p_bar_e)
{
    if (categories == 0) return LP_EINVAL;
    for (size_t i = 0; i < subjects * categories; i++)
        if (!isfinite(counts[i]) || counts[i] < 0) return LP_EINVAL;

    double *share = lp_calloc(categories, sizeof *share);
    double P = 0, total = 0, Pe = 0;
    size_t used = 0;
    for (size_t s = 0; s < subjects; s++) {
        const double *row = counts + s * categories;
        double ns = 0, sq = 0;
        for (size_t c = 0; c < categories; c++) {
            ns += row[c];
            sq += row[c] * row[c];
        }
        if (ns < 2) continue;
        P += (sq - ns) / (ns * (ns - 1));
        used++;
        for (size_t c = 0; c < categories; c++) share[c] += row[c];
        total += ns;
    }
    if (used) {
        P /= (double)used;
        for (size_t c = 0; c < categories; c++) Pe += (share[c] / total) * (share[c] / total);
    } else {
        P = Pe = NAN;
    }
    free(share);
    *kappa = used && Pe < 1 ? (P - Pe) / (1 - Pe) : NAN;
    if (p_bar) *p_bar = P;
    if (p_bar_e) *p_bar_e = Pe;
    return 0;
}

int lp_agree_cohen(size_t n, const uint32_t *a, const uint32_t *b, size_t n_classes, double *kappa)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] >= n_classes || b[i] >= n_classes) return LP_EINVAL;
    if (n == 0) {
        *kappa = NAN;
        return 0;
    }
    double *ma = lp_calloc(n_classes, sizeof *ma), *mb = lp_calloc(n_classes, sizeof *mb);
    double agree = 0, pe = 0, N = (double)n;
    for (size_t i = 0; i < n; i++) {
        ma[a[i]]++;
        mb[b[i]]++;
        agree += a[i] == b[i];
    }
    for (size_t c = 0; c < n_classes; c++) pe += (ma[c] / N) * (mb[c] / N);
    double po = agree / N;
    *kappa = pe < 1 ? (po - pe) / (1 - pe) : NAN;
    free(mb);
    free(ma);
    return 0;
}

int lp_agree_workers(size_t n, const uint32_t *item, const uint32_t *worker, const uint32_t *label,
                     const int32_t *consensus, size_t n_items, size_t n_workers, double *agreement,
                     uint32_t *compared)
{
    for (size_t r = 0; r < n; r++)
        if (item[r] >= n_items || worker[r] >= n_workers) return LP_EINVAL;
    uint32_t *cmp = lp_calloc(n_workers ? n_workers : 1, sizeof *cmp);
    double *hit = lp_calloc(n_workers ? n_workers : 1, sizeof *hit);
    for (size_t r = 0; r < n; r++) {
        int32_t c = consensus[item[r]];
        if (c < 0) continue;
        cmp[worker[r]]++;
        hit[worker[r]] += label[r] == (uint32_t)c;
    }
    for (size_t w = 0; w < n_workers; w++) {
        agreement[w] = cmp[w] ? hit[w] / cmp[w] : NAN;
        if (compared) compared[w] = cmp[w];
    }
    free(hit);
    free(cmp);
    return 0;
}
