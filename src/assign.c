/* assign.c -- maximum-weight one-to-one matching (the assignment problem).
 *
 * lp_assign_dense is the Hungarian method (H. W. Kuhn, "The Hungarian
 * method for the assignment problem", 1955; J. Munkres, 1957) in its
 * shortest-augmenting-path form: rows are added one at a time, each by a
 * Dijkstra-like search over columns on reduced costs c(i,j) - u(i) - v(j),
 * which the potentials u, v keep non-negative; the search stops at the
 * first free column, and the path to it is flipped.  After the last row
 * the assignment is of least cost (here cost = -weight), O(n^2 m) for
 * n <= m.  lp_assign_sparse splits the candidate pairs into connected
 * components first (union-find), so that the many small groups of a
 * sparse similarity graph each cost their own size cubed. */
#include "assign.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "util.h"

/* Least-cost assignment of the n rows of the n x m cost c (n <= m,
 * row-major), reading c(i, j) as cost(i, j, ctx) so that a transpose needs
 * no copy.  col_row[j] (m + 1 entries, 1-based rows, 0 = free) receives
 * each column's row; column 0 is the search's root. */
static void hungarian(size_t n, size_t m, double (*cost)(size_t, size_t, const void *),
                      const void *ctx, size_t *col_row)
{
    double *u = lp_calloc(n + 1, sizeof *u), *v = lp_calloc(m + 1, sizeof *v);
    double *minv = lp_malloc((m + 1) * sizeof *minv);
    size_t *way = lp_calloc(m + 1, sizeof *way);
    char *used = lp_malloc(m + 1);
    for (size_t j = 0; j <= m; j++) col_row[j] = 0;
    for (size_t i = 1; i <= n; i++) {
        size_t j0 = 0;
        col_row[0] = i;
        for (size_t j = 0; j <= m; j++) {
            minv[j] = INFINITY;
            used[j] = 0;
        }
        do {
            used[j0] = 1;
            size_t i0 = col_row[j0], j1 = 0;
            double delta = INFINITY;
            for (size_t j = 1; j <= m; j++) {
                if (used[j]) continue;
                double cur = cost(i0 - 1, j - 1, ctx) - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for (size_t j = 0; j <= m; j++)
                if (used[j]) {
                    u[col_row[j]] += delta;
                    v[j] -= delta;
                } else
                    minv[j] -= delta;
            j0 = j1;
        } while (col_row[j0] != 0);
        do {
            size_t j1 = way[j0];
            col_row[j0] = col_row[j1];
            j0 = j1;
        } while (j0);
    }
    free(used);
    free(way);
    free(minv);
    free(v);
    free(u);
}

typedef struct dense {
    const double *w;
    size_t nb;
} dense;

static double cost_rows(size_t i, size_t j, const void *ctx)
{
    const dense *d = ctx;
    return -d->w[i * d->nb + j];
}

static double cost_cols(size_t i, size_t j, const void *ctx)
{
    const dense *d = ctx;
    return -d->w[j * d->nb + i];
}

double lp_assign_dense(const double *w, size_t na, size_t nb, size_t *match)
{
    for (size_t i = 0; i < na; i++) match[i] = SIZE_MAX;
    if (!na || !nb) return 0;
    dense d = {w, nb};
    int rows = na <= nb; /* search over the smaller side */
    size_t n = rows ? na : nb, m = rows ? nb : na;
    size_t *col_row = lp_malloc((m + 1) * sizeof *col_row);
    hungarian(n, m, rows ? cost_rows : cost_cols, &d, col_row);
    double sum = 0;
    for (size_t j = 1; j <= m; j++) {
        if (!col_row[j]) continue;
        size_t a = rows ? col_row[j] - 1 : j - 1, b = rows ? j - 1 : col_row[j] - 1;
        if (!(w[a * nb + b] > 0)) continue;
        match[a] = b;
        sum += w[a * nb + b];
    }
    free(col_row);
    return sum;
}

static size_t find(size_t *parent, size_t x)
{
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
}

/* Components first (by root, then a, then b); within one, most weight first. */
static int by_comp(const void *x, const void *y, void *ctx)
{
    const lp_assign_edge *p = x, *q = y;
    const size_t *comp = ctx;
    if (comp[p->a] != comp[q->a]) return comp[p->a] < comp[q->a] ? -1 : 1;
    if (p->w != q->w) return p->w < q->w ? 1 : -1;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

double lp_assign_sparse(lp_assign_edge *e, size_t ne, size_t na, size_t nb, size_t *match)
{
    size_t *parent = lp_malloc((na + nb + 1) * sizeof *parent);
    size_t *comp = lp_malloc((na + 1) * sizeof *comp);
    /* local index of each item in its component, and the taken mark */
    size_t *local = lp_malloc((na + nb + 1) * sizeof *local);
    double sum = 0;
    if (match)
        for (size_t i = 0; i < na; i++) match[i] = SIZE_MAX;
    for (size_t i = 0; i < na + nb; i++) parent[i] = i;
    for (size_t k = 0; k < ne; k++) {
        size_t x = find(parent, e[k].a), y = find(parent, na + e[k].b);
        if (x != y) parent[x < y ? y : x] = x < y ? x : y;
    }
    for (size_t i = 0; i < na; i++) comp[i] = find(parent, i);
    if (ne) qsort_r(e, ne, sizeof *e, by_comp, comp);
    for (size_t s = 0, t; s < ne; s = t) {
        /* e[s, t) is one component: number its items. */
        size_t ra = 0, rb = 0;
        for (t = s; t < ne && comp[e[t].a] == comp[e[s].a]; t++) {
            local[e[t].a] = SIZE_MAX;
            local[na + e[t].b] = SIZE_MAX;
        }
        for (size_t k = s; k < t; k++) {
            if (local[e[k].a] == SIZE_MAX) local[e[k].a] = ra++;
            if (local[na + e[k].b] == SIZE_MAX) local[na + e[k].b] = rb++;
        }
        if (ra * rb > LP_ASSIGN_EXACT_CELLS) {
            char *taken = lp_calloc(na + nb, 1);
            for (size_t k = s; k < t; k++) {
                if (taken[e[k].a] || taken[na + e[k].b]) continue;
                taken[e[k].a] = taken[na + e[k].b] = 1;
                sum += e[k].w;
                if (match) match[e[k].a] = e[k].b;
            }
            free(taken);
            continue;
        }
        double *w = lp_calloc(ra * rb, sizeof *w);
        size_t *ia = lp_malloc(ra * sizeof *ia), *ib = lp_malloc(rb * sizeof *ib);
        size_t *m = lp_malloc(ra * sizeof *m);
        for (size_t k = s; k < t; k++) {
            size_t i = local[e[k].a], j = local[na + e[k].b];
            ia[i] = e[k].a;
            ib[j] = e[k].b;
            if (e[k].w > w[i * rb + j]) w[i * rb + j] = e[k].w;
        }
        sum += lp_assign_dense(w, ra, rb, m);
        if (match)
            for (size_t i = 0; i < ra; i++)
                if (m[i] != SIZE_MAX) match[ia[i]] = ib[m[i]];
        free(m);
        free(ib);
        free(ia);
        free(w);
    }
    free(local);
    free(comp);
    free(parent);
    return sum;
}
