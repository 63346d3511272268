/* answers.c -- see answers.h.  Every reader goes through read_table(),
 * which opens the CSV (csvfile.c), finds the columns by the header or by
 * position, checks each row has them, none empty, and hands the values to
 * a row callback; the first error ends the read with a message that names
 * the file and line. */
#include "answers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csvfile.h"
#include "util.h"

uint32_t lp_dict_add(lp_dict *d, const char *s)
{
    if (!d->index) d->index = json_object();
    json_t *id = json_object_get(d->index, s);
    if (id) return (uint32_t)json_integer_value(id);
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->v = lp_realloc(d->v, d->cap * sizeof *d->v);
    }
    d->v[d->n] = lp_strdup(s);
    json_object_set_new(d->index, s, json_integer((json_int_t)d->n));
    return (uint32_t)d->n++;
}

int64_t lp_dict_find(const lp_dict *d, const char *s)
{
    json_t *id = d->index ? json_object_get(d->index, s) : NULL;
    return id ? (int64_t)json_integer_value(id) : -1;
}

void lp_dict_fini(lp_dict *d)
{
    for (size_t i = 0; i < d->n; i++) free(d->v[i]);
    free(d->v);
    json_decref(d->index);
    memset(d, 0, sizeof *d);
}

void lp_answers_fini(lp_answers *a)
{
    lp_dict_fini(&a->items);
    lp_dict_fini(&a->workers);
    lp_dict_fini(&a->labels);
    free(a->item);
    free(a->worker);
    free(a->label);
    free(a->value);
    free(a->line);
    memset(a, 0, sizeof *a);
}

int lp_parse_number(const char *s, double *out)
{
    char *end;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return -1;
    double v = strtod(s, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (*end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

void lp_answers_add(lp_answers *a, uint32_t item, uint32_t worker, const char *label, long line)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 1024;
        a->item = lp_realloc(a->item, a->cap * sizeof *a->item);
        a->worker = lp_realloc(a->worker, a->cap * sizeof *a->worker);
        a->label = lp_realloc(a->label, a->cap * sizeof *a->label);
        a->value = lp_realloc(a->value, a->cap * sizeof *a->value);
        a->line = lp_realloc(a->line, a->cap * sizeof *a->line);
    }
    a->item[a->n] = item;
    a->worker[a->n] = worker;
    a->label[a->n] = lp_dict_add(&a->labels, label);
    if (lp_parse_number(label, &a->value[a->n]) < 0) a->value[a->n] = NAN;
    a->line[a->n] = line;
    a->n++;
}

static int is_one_of(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (!strcasecmp(s, *words)) return 1;
    return 0;
}

static const char *const item_words[] = {"item", "task", "unit", "id", NULL};
static const char *const worker_words[] = {"worker", "annotator", "user", "coder",
                                           "rater",  "observer",  NULL};
static const char *const label_words[] = {"label", "answer", "response", "value", NULL};
static const char *const truth_words[] = {"truth", "label", "gold", "answer", "value", NULL};

/* Finds the columns named in the first row f: col[k] for each list of
 * synonyms in want.  1 when every wanted column is named (a header row),
 * 0 when none is (data from the first row on, columns in order); a header
 * that names some but not all is an error (-1, with *missing set). */
static int header_columns(const char *const *f, size_t n, const char *const *const *want,
                          size_t nwant, int *col, size_t *missing)
{
    size_t found = 0;
    for (size_t k = 0; k < nwant; k++) {
        col[k] = -1;
        for (size_t i = 0; i < n && col[k] < 0; i++)
            if (is_one_of(f[i], want[k])) col[k] = (int)i;
        found += col[k] >= 0;
    }
    if (found == nwant) return 1;
    for (size_t k = 0; k < nwant; k++) {
        if (col[k] < 0) *missing = k;
        col[k] = (int)k;
    }
    return found ? -1 : 0;
}

/* A row callback: 0, or an LP_E* code after setting *err. */
typedef int (*row_fn)(void *ctx, const char *const *v, const char *path, long line, char **err);

/* Reads the rows of a table whose columns are named by the synonym lists
 * in want (shown as what[k] in messages); row() gets the values in want's
 * order.  Column k may be empty when bit k of optional is set. */
static int read_table(const char *path, const char *const *const *want, const char *const *what,
                      size_t nwant, unsigned optional, row_fn row, void *ctx, char **err)
{
    lp_csv *c;
    int rc = lp_csv_open(path, &c, err);
    if (rc < 0) return rc;
    const char *const *f;
    const char *v[4];
    size_t nf, need = 0;
    int col[4], first = 1;
    while ((rc = lp_csv_next(c, &f, &nf)) == 1) {
        long line = lp_csv_line(c);
        rc = 0;
        if (first) {
            first = 0;
            size_t missing = 0;
            int h = header_columns(f, nf, want, nwant, col, &missing);
            for (size_t k = 0; k < nwant; k++)
                if ((size_t)col[k] + 1 > need) need = (size_t)col[k] + 1;
            if (h < 0) {
                *err = lp_sprintf("%s line %ld: the header has no \"%s\" column", path, line,
                                  what[missing]);
                rc = LP_EINVAL;
                break;
            }
            if (h > 0) continue;
        }
        if (nf < need) {
            char names[64] = "";
            for (size_t k = 0; k < nwant; k++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? "," : "",
                         what[k]);
            *err = lp_sprintf("%s line %ld: expected %s but the row has %zu field%s", path, line,
                              names, nf, nf == 1 ? "" : "s");
            rc = LP_EINVAL;
            break;
        }
        for (size_t k = 0; k < nwant && rc == 0; k++) {
            v[k] = f[col[k]];
            if (!v[k][0] && !(optional & (1u << k))) {
                *err = lp_sprintf("%s line %ld: the %s is empty", path, line, what[k]);
                rc = LP_EINVAL;
            }
        }
        if (rc == 0) rc = row(ctx, v, path, line, err);
        if (rc < 0) break;
    }
    if (rc < 0 && !*err) *err = lp_sprintf("%s %s", path, lp_csv_error(c));
    lp_csv_close(c);
    return rc < 0 ? rc : 0;
}

static int answer_row(void *ctx, const char *const *v, const char *path, long line, char **err)
{
    lp_answers *a = ctx;
    (void)path;
    (void)err;
    lp_answers_add(a, lp_dict_add(&a->items, v[0]), lp_dict_add(&a->workers, v[1]), v[2], line);
    return 0;
}

int lp_answers_load(const char *path, lp_answers *a, char **err)
{
    const char *const *want[] = {item_words, worker_words, label_words};
    static const char *const what[] = {"item", "worker", "label"};
    *err = NULL;
    int rc = read_table(path, want, what, 3, a->sets ? 4u : 0u, answer_row, a, err);
    if (rc == 0 && a->n == 0) {
        *err = lp_sprintf("%s has no answers (expected rows of item,worker,label)", path);
        rc = LP_EINVAL;
    }
    return rc;
}

typedef struct truth_ctx {
    lp_answers *a;
    int32_t *truth;
    double *value;
} truth_ctx;

static int truth_row(void *ctx, const char *const *v, const char *path, long line, char **err)
{
    truth_ctx *t = ctx;
    int64_t item = lp_dict_find(&t->a->items, v[0]);
    if (item < 0) return 0; /* no one answered it: nothing to score */
    if (t->truth) t->truth[item] = (int32_t)lp_dict_add(&t->a->labels, v[1]);
    if (t->value && lp_parse_number(v[1], &t->value[item]) < 0) {
        *err = lp_sprintf("%s line %ld: the truth \"%s\" is not a number", path, line, v[1]);
        return LP_EINVAL;
    }
    return 0;
}

int lp_answers_load_truth(const char *path, lp_answers *a, int32_t *truth, double *value,
                          char **err)
{
    const char *const *want[] = {item_words, truth_words};
    static const char *const what[] = {"item", "truth"};
    truth_ctx t = {a, truth, value};
    *err = NULL;
    return read_table(path, want, what, 2, 0, truth_row, &t, err);
}

static int truth_set_row(void *ctx, const char *const *v, const char *path, long line, char **err)
{
    lp_truth_sets *t = ctx;
    int64_t item = lp_dict_find(&t->a->items, v[0]);
    (void)path;
    (void)line;
    (void)err;
    if (item < 0) return 0;
    t->known[item] = 1;
    if (!v[1][0]) return 0; /* known to have no label */
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 256;
        t->item = lp_realloc(t->item, t->cap * sizeof *t->item);
        t->label = lp_realloc(t->label, t->cap * sizeof *t->label);
    }
    t->item[t->n] = (uint32_t)item;
    t->label[t->n++] = lp_dict_add(&t->a->labels, v[1]);
    return 0;
}

int lp_answers_load_truth_sets(const char *path, lp_answers *a, lp_truth_sets *t, char **err)
{
    const char *const *want[] = {item_words, truth_words};
    static const char *const what[] = {"item", "truth"};
    memset(t, 0, sizeof *t);
    t->a = a;
    t->known = lp_calloc(a->items.n ? a->items.n : 1, 1);
    *err = NULL;
    return read_table(path, want, what, 2, 2u, truth_set_row, t, err);
}

void lp_truth_sets_fini(lp_truth_sets *t)
{
    free(t->item);
    free(t->label);
    free(t->known);
    memset(t, 0, sizeof *t);
}

static int is_missing(const char *s)
{
    return !*s || !strcmp(s, "*") || !strcasecmp(s, "NA") || !strcasecmp(s, "nan");
}

int lp_answers_is_matrix(const char *path)
{
    char *err = NULL;
    lp_csv *c;
    if (lp_csv_open(path, &c, &err) < 0) {
        free(err);
        return 0;
    }
    const char *const *f;
    size_t nf;
    int matrix = 0;
    if (lp_csv_next(c, &f, &nf) == 1 && nf >= 2 && is_one_of(f[0], worker_words)) {
        matrix = 1;
        for (size_t i = 1; i < nf; i++)
            if (is_one_of(f[i], item_words) || is_one_of(f[i], label_words)) matrix = 0;
    }
    lp_csv_close(c);
    return matrix;
}

int lp_answers_load_matrix(const char *path, lp_answers *a, char **err)
{
    lp_csv *c;
    *err = NULL;
    int rc = lp_csv_open(path, &c, err);
    if (rc < 0) return rc;
    const char *const *f;
    size_t nf, units = 0;
    while ((rc = lp_csv_next(c, &f, &nf)) == 1) {
        long line = lp_csv_line(c);
        rc = 0;
        if (!units) {
            units = nf - 1;
            for (size_t u = 1; u < nf && rc == 0; u++)
                if (lp_dict_add(&a->items, f[u]) != u - 1) {
                    *err =
                        lp_sprintf("%s line %ld: the unit \"%s\" is named twice", path, line, f[u]);
                    rc = LP_EINVAL;
                }
            if (rc < 0) break;
            continue;
        }
        if (nf != units + 1) {
            *err = lp_sprintf("%s line %ld: the header names %zu units but this row has %zu values",
                              path, line, units, nf ? nf - 1 : 0);
            rc = LP_EINVAL;
            break;
        }
        if (!f[0][0]) {
            *err = lp_sprintf("%s line %ld: the coder is empty", path, line);
            rc = LP_EINVAL;
            break;
        }
        uint32_t w = lp_dict_add(&a->workers, f[0]);
        for (size_t u = 1; u < nf; u++)
            if (!is_missing(f[u])) lp_answers_add(a, (uint32_t)(u - 1), w, f[u], line);
    }
    if (rc < 0 && !*err) *err = lp_sprintf("%s %s", path, lp_csv_error(c));
    if (rc == 0 && a->n == 0) {
        *err = lp_sprintf("%s has no values", path);
        rc = LP_EINVAL;
    }
    lp_csv_close(c);
    return rc < 0 ? rc : 0;
}
