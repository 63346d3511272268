/* cli_quality.c -- `loupe aggregate` and `loupe agreement` (see
 * cli_quality.h): read CSV, map names to dense ids, call the pure quality
 * engine (agg.h, agg_num.h, agree.h), print CSV or JSON.
 *
 * Answers are rows of item,worker,label.  A first row that names its
 * columns (item/task/unit, worker/annotator/user/coder/rater,
 * label/answer/value) may list them in any order and carry other columns;
 * without one the first three columns are item, worker, label.  Names are
 * interned in first-seen order into jansson objects (a hash table we do
 * not write ourselves).  Every malformed row is an error naming its file
 * and line, and nothing is printed to stdout until the input is whole. */
#include "cli_quality.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agg.h"
#include "agg_num.h"
#include "agree.h"
#include "csvfile.h"
#include "util.h"

/* Strings to dense ids, in first-seen order. */
typedef struct names {
    json_t *index;
    char **v;
    size_t n, cap;
} names;

static uint32_t intern(names *d, const char *s)
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

static int lookup(const names *d, const char *s)
{
    json_t *id = d->index ? json_object_get(d->index, s) : NULL;
    return id ? (int)json_integer_value(id) : -1;
}

static void names_fini(names *d)
{
    for (size_t i = 0; i < d->n; i++) free(d->v[i]);
    free(d->v);
    json_decref(d->index);
}

typedef struct answers {
    names items, workers, labels;
    size_t n, cap;
    uint32_t *item, *worker, *label;
    double *value; /* the label as a number; NAN when it is not one */
    long *line;    /* where each row came from, for messages */
} answers;

static void answers_fini(answers *a)
{
    names_fini(&a->items);
    names_fini(&a->workers);
    names_fini(&a->labels);
    free(a->item);
    free(a->worker);
    free(a->label);
    free(a->value);
    free(a->line);
}

/* A whole number or decimal, nothing else (" 12", "1e3", "-0.5"). */
static int parse_number(const char *s, double *out)
{
    char *end;
    if (!*s) return -1;
    double v = strtod(s, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (*end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int is_one_of(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (!strcasecmp(s, *words)) return 1;
    return 0;
}

/* Finds the columns named in header among fields: col[k] for each list of
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

static const char *const item_words[] = {"item", "task", "unit", "id", NULL};
static const char *const worker_words[] = {"worker", "annotator", "user", "coder",
                                           "rater",  "observer",  NULL};
static const char *const label_words[] = {"label", "answer", "response", "value", NULL};
static const char *const truth_words[] = {"truth", "label", "gold", "answer", "value", NULL};

/* Reads the rows of a table whose columns are named by the synonym lists
 * in want (shown as what[k] in messages): the first row may be a header
 * naming them in any order, else the columns come in order.  Every row
 * must have each column, none empty; row() receives the values in want's
 * order and returns 0 or 1 (it printed an error).  0, or 1 after printing
 * an error that names the file and line. */
static int read_table(const char *cmd, const char *path, const char *const *const *want,
                      const char *const *what, size_t nwant,
                      int (*row)(void *ctx, const char *const *v, long line), void *ctx)
{
    char *err = NULL;
    lp_csv *c;
    if (lp_csv_open(path, &c, &err) < 0) {
        fprintf(stderr, "loupe %s: %s\n", cmd, err);
        free(err);
        return 1;
    }
    const char *const *f;
    const char *v[4];
    size_t nf, need = 0;
    int col[4], rc, first = 1, status = 0;
    while (status == 0 && (rc = lp_csv_next(c, &f, &nf)) == 1) {
        long line = lp_csv_line(c);
        if (first) {
            first = 0;
            size_t missing = 0;
            int h = header_columns(f, nf, want, nwant, col, &missing);
            for (size_t k = 0; k < nwant; k++)
                if ((size_t)col[k] + 1 > need) need = (size_t)col[k] + 1;
            if (h < 0) {
                fprintf(stderr, "loupe %s: %s line %ld: the header has no \"%s\" column\n", cmd,
                        path, line, what[missing]);
                status = 1;
            }
            if (h != 0) continue;
        }
        if (nf < need) {
            char names[64] = "";
            for (size_t k = 0; k < nwant; k++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? "," : "",
                         what[k]);
            fprintf(stderr, "loupe %s: %s line %ld: expected %s but the row has %zu field%s\n", cmd,
                    path, line, names, nf, nf == 1 ? "" : "s");
            status = 1;
            break;
        }
        for (size_t k = 0; k < nwant && status == 0; k++) {
            v[k] = f[col[k]];
            if (!v[k][0]) {
                fprintf(stderr, "loupe %s: %s line %ld: the %s is empty\n", cmd, path, line,
                        what[k]);
                status = 1;
            }
        }
        if (status == 0) status = row(ctx, v, line);
    }
    if (status == 0 && rc < 0) {
        fprintf(stderr, "loupe %s: %s %s\n", cmd, path, lp_csv_error(c));
        status = 1;
    }
    lp_csv_close(c);
    return status;
}

static void add_answer(answers *a, uint32_t item, uint32_t worker, const char *label, long line)
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
    a->label[a->n] = intern(&a->labels, label);
    if (parse_number(label, &a->value[a->n]) < 0) a->value[a->n] = NAN;
    a->line[a->n] = line;
    a->n++;
}

static int answer_row(void *ctx, const char *const *v, long line)
{
    answers *a = ctx;
    add_answer(a, intern(&a->items, v[0]), intern(&a->workers, v[1]), v[2], line);
    return 0;
}

/* Reads item,worker,label rows from path into a.  Returns 0, or 1 after
 * printing an error that names the line. */
static int load_answers(const char *cmd, const char *path, answers *a)
{
    const char *const *want[] = {item_words, worker_words, label_words};
    static const char *const what[] = {"item", "worker", "label"};
    int status = read_table(cmd, path, want, what, 3, answer_row, a);
    if (status == 0 && a->n == 0) {
        fprintf(stderr, "loupe %s: %s has no answers (expected rows of item,worker,label)\n", cmd,
                path);
        status = 1;
    }
    return status;
}

typedef struct truth_ctx {
    const char *cmd, *path;
    answers *a;
    int32_t *truth;
    double *value;
} truth_ctx;

static int truth_row(void *ctx, const char *const *v, long line)
{
    truth_ctx *t = ctx;
    int item = lookup(&t->a->items, v[0]);
    if (item < 0) return 0; /* no one answered it: nothing to score */
    if (t->truth) t->truth[item] = (int32_t)intern(&t->a->labels, v[1]);
    if (t->value && parse_number(v[1], &t->value[item]) < 0) {
        fprintf(stderr, "loupe %s: %s line %ld: the truth \"%s\" is not a number\n", t->cmd,
                t->path, line, v[1]);
        return 1;
    }
    return 0;
}

/* Reads item,truth rows: truth[item] receives the truth's label id
 * (interned into labels, so a class no worker chose still counts) or, for
 * numbers, value[item].  Items no one answered are skipped.  0, or 1 after
 * an error naming the line. */
static int load_truth(const char *cmd, const char *path, answers *a, int32_t *truth, double *value)
{
    const char *const *want[] = {item_words, truth_words};
    static const char *const what[] = {"item", "truth"};
    truth_ctx t = {cmd, path, a, truth, value};
    return read_table(cmd, path, want, what, 2, truth_row, &t);
}

/* Writes s as one CSV field (quoted when it needs to be). */
static void put_field(FILE *f, const char *s)
{
    if (!s[strcspn(s, ",\"\r\n")]) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Reads a command's arguments: "--name VALUE" for each of names (the value
 * lands in vals[k]) and one file path.  0 when they are whole, 1 after
 * printing the help (--help), 2 after a usage error. */
static int parse_args(const char *cmd, const char *usage, int argc, char **argv,
                      const char *const *names, const char **vals, const char **path)
{
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 1;
        }
        int k = 0;
        while (names[k] && strcmp(argv[i], names[k])) k++;
        if (names[k] && i + 1 < argc) {
            vals[k] = argv[++i];
        } else if (names[k] || (argv[i][0] == '-' && argv[i][1]) || *path) {
            fprintf(stderr, "loupe %s: %s \"%s\"\n%s", cmd,
                    names[k] ? "a value is missing after" : "unexpected argument", argv[i], usage);
            return 2;
        } else {
            *path = argv[i];
        }
    }
    if (!*path) {
        fprintf(stderr, "loupe %s: which file?\n%s", cmd, usage);
        return 2;
    }
    return 0;
}

static const char aggregate_usage[] =
    "usage: loupe aggregate [--method M] ANSWERS.csv [--truth TRUTH.csv] [--gold GOLD.csv]\n"
    "                       [--format csv|json]\n\n"
    "Aggregates crowd answers (rows of item,worker,label) into one label per item with\n"
    "its confidence, written to standard output as CSV (item,label,confidence) or JSON\n"
    "(with per-class posteriors and per-worker estimates).\n\n"
    "  --method M     categorical: majority, gold_weighted, dawid_skene, one_coin, glad,\n"
    "                 mace, ebcc, bwa, auto (default: auto);\n"
    "                 numeric labels: mean, median, trimmed, calibrated\n"
    "  --truth FILE   item,truth rows: prints accuracy and each class's precision, recall\n"
    "                 and F1 (MAE and RMSE for numbers) on the items that have one; the\n"
    "                 truth is only used for scoring\n"
    "  --gold FILE    item,truth rows given to the method as known answers (gold_weighted\n"
    "                 needs it; the others anchor on it)\n"
    "  --format F     csv (default) or json; with csv the scores go to standard error\n";

typedef struct eval_class {
    size_t tp, fp, fn;
} eval_class;

/* Accuracy and per-class F1 of labels against truth (-1: none). */
static json_t *evaluate_categorical(const answers *a, const int32_t *label, const int32_t *truth)
{
    size_t k = a->labels.n, scored = 0, right = 0;
    eval_class *e = lp_calloc(k ? k : 1, sizeof *e);
    for (size_t i = 0; i < a->items.n; i++) {
        if (truth[i] < 0 || label[i] < 0) continue;
        scored++;
        if (label[i] == truth[i]) {
            right++;
            e[truth[i]].tp++;
        } else {
            e[label[i]].fp++;
            e[truth[i]].fn++;
        }
    }
    json_t *classes = json_array();
    for (size_t c = 0; c < k; c++) {
        double p = e[c].tp + e[c].fp ? (double)e[c].tp / (double)(e[c].tp + e[c].fp) : 0;
        double r = e[c].tp + e[c].fn ? (double)e[c].tp / (double)(e[c].tp + e[c].fn) : 0;
        double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
        json_array_append_new(classes, json_pack("{s:s, s:f, s:f, s:f, s:I}", "label",
                                                 a->labels.v[c], "precision", p, "recall", r, "f1",
                                                 f1, "support", (json_int_t)(e[c].tp + e[c].fn)));
    }
    free(e);
    return json_pack("{s:I, s:f, s:o}", "items", (json_int_t)scored, "accuracy",
                     scored ? (double)right / (double)scored : 0.0, "classes", classes);
}

static void print_evaluation(FILE *f, const json_t *ev)
{
    const json_t *classes = json_object_get(ev, "classes");
    if (classes) {
        fprintf(f, "accuracy %.4f on %lld items with truth\n",
                json_real_value(json_object_get(ev, "accuracy")),
                (long long)json_integer_value(json_object_get(ev, "items")));
        fprintf(f, "%-20s %9s %9s %9s %9s\n", "label", "precision", "recall", "f1", "support");
        size_t i;
        json_t *c;
        json_array_foreach(classes, i, c)
        {
            fprintf(f, "%-20s %9.4f %9.4f %9.4f %9lld\n",
                    json_string_value(json_object_get(c, "label")),
                    json_real_value(json_object_get(c, "precision")),
                    json_real_value(json_object_get(c, "recall")),
                    json_real_value(json_object_get(c, "f1")),
                    (long long)json_integer_value(json_object_get(c, "support")));
        }
    } else {
        fprintf(f, "MAE %.4f, RMSE %.4f on %lld items with truth\n",
                json_real_value(json_object_get(ev, "mae")),
                json_real_value(json_object_get(ev, "rmse")),
                (long long)json_integer_value(json_object_get(ev, "items")));
    }
}

static int aggregate_categorical(lp_agg_method m, answers *a, const char *truth_path,
                                 const char *gold_path, int json)
{
    int status = 0;
    int32_t *gold = NULL, *truth = NULL;
    if (gold_path) {
        gold = lp_malloc(a->items.n * sizeof *gold);
        for (size_t i = 0; i < a->items.n; i++) gold[i] = -1;
        status = load_truth("aggregate", gold_path, a, gold, NULL);
    }
    if (status == 0 && truth_path) {
        truth = lp_malloc(a->items.n * sizeof *truth);
        for (size_t i = 0; i < a->items.n; i++) truth[i] = -1;
        status = load_truth("aggregate", truth_path, a, truth, NULL);
    }
    if (status == 0 && m == LP_AGG_GOLD_WEIGHTED && !gold) {
        fprintf(stderr, "loupe aggregate: gold_weighted needs --gold FILE (known answers)\n");
        status = 1;
    }
    lp_agg_result r = {0};
    if (status == 0) {
        lp_agg_data d = {.n = a->n,
                         .item = a->item,
                         .worker = a->worker,
                         .label = a->label,
                         .n_items = a->items.n,
                         .n_workers = a->workers.n,
                         .n_classes = a->labels.n,
                         .gold = gold};
        int rc = lp_agg_categorical(m, &d, &r);
        if (rc < 0) {
            fprintf(stderr, "loupe aggregate: %s\n", lp_strerror(rc));
            status = 1;
        }
    }
    json_t *ev = status == 0 && truth ? evaluate_categorical(a, r.label, truth) : NULL;
    size_t k = a->labels.n;
    if (status == 0 && json) {
        json_t *items = json_array(), *workers = json_array();
        size_t *count = lp_calloc(a->workers.n ? a->workers.n : 1, sizeof *count);
        for (size_t i = 0; i < a->n; i++) count[a->worker[i]]++;
        for (size_t i = 0; i < a->items.n; i++) {
            json_t *post = json_object();
            for (size_t c = 0; c < k; c++)
                if (r.posterior[i * k + c] > 0)
                    json_object_set_new(post, a->labels.v[c], json_real(r.posterior[i * k + c]));
            json_array_append_new(
                items, json_pack("{s:s, s:s?, s:f, s:o}", "item", a->items.v[i], "label",
                                 r.label[i] >= 0 ? a->labels.v[r.label[i]] : NULL, "confidence",
                                 r.label[i] >= 0 ? r.posterior[i * k + (size_t)r.label[i]] : 0.0,
                                 "posterior", post));
        }
        for (size_t w = 0; w < a->workers.n; w++)
            json_array_append_new(workers, json_pack("{s:s, s:I, s:f}", "worker", a->workers.v[w],
                                                     "answers", (json_int_t)count[w], "skill",
                                                     r.skill ? r.skill[w] : 0.0));
        free(count);
        json_t *out =
            json_pack("{s:s, s:I, s:o, s:o}", "method", lp_agg_method_name(m), "iterations",
                      (json_int_t)r.iterations, "items", items, "workers", workers);
        if (ev) json_object_set(out, "evaluation", ev);
        json_dumpf(out, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(out);
    } else if (status == 0) {
        printf("item,label,confidence\n");
        for (size_t i = 0; i < a->items.n; i++) {
            put_field(stdout, a->items.v[i]);
            fputc(',', stdout);
            if (r.label[i] >= 0) put_field(stdout, a->labels.v[r.label[i]]);
            printf(",%.6f\n", r.label[i] >= 0 ? r.posterior[i * k + (size_t)r.label[i]] : 0.0);
        }
        if (ev) print_evaluation(stderr, ev);
    }
    json_decref(ev);
    lp_agg_result_fini(&r);
    free(gold);
    free(truth);
    return status;
}

static int aggregate_numeric(lp_num_method m, answers *a, const char *truth_path, int json)
{
    for (size_t i = 0; i < a->n; i++)
        if (isnan(a->value[i])) {
            fprintf(stderr,
                    "loupe aggregate: line %ld: the label \"%s\" is not a number (%s needs "
                    "numbers)\n",
                    a->line[i], a->labels.v[a->label[i]], lp_num_method_name(m));
            return 1;
        }
    int status = 0;
    double *truth = NULL;
    if (truth_path) {
        truth = lp_malloc(a->items.n * sizeof *truth);
        for (size_t i = 0; i < a->items.n; i++) truth[i] = NAN;
        status = load_truth("aggregate", truth_path, a, NULL, truth);
    }
    lp_num_result r = {0};
    if (status == 0) {
        lp_num_data d = {.n = a->n,
                         .item = a->item,
                         .worker = a->worker,
                         .value = a->value,
                         .n_items = a->items.n,
                         .n_workers = a->workers.n,
                         .trim = 0.2};
        int rc = lp_agg_numeric(m, &d, &r);
        if (rc < 0) {
            fprintf(stderr, "loupe aggregate: %s\n", lp_strerror(rc));
            status = 1;
        }
    }
    json_t *ev = NULL;
    if (status == 0 && truth) {
        double abs = 0, sq = 0;
        size_t scored = 0;
        for (size_t i = 0; i < a->items.n; i++) {
            if (isnan(truth[i]) || isnan(r.estimate[i])) continue;
            double e = r.estimate[i] - truth[i];
            abs += fabs(e);
            sq += e * e;
            scored++;
        }
        ev = json_pack("{s:I, s:f, s:f}", "items", (json_int_t)scored, "mae",
                       scored ? abs / (double)scored : 0.0, "rmse",
                       scored ? sqrt(sq / (double)scored) : 0.0);
    }
    if (status == 0 && json) {
        json_t *items = json_array(), *workers = json_array();
        for (size_t i = 0; i < a->items.n; i++)
            json_array_append_new(items, json_pack("{s:s, s:f, s:f}", "item", a->items.v[i],
                                                   "estimate", r.estimate[i], "stderr",
                                                   r.stderr_ ? r.stderr_[i] : 0.0));
        for (size_t w = 0; r.bias && w < a->workers.n; w++)
            json_array_append_new(workers, json_pack("{s:s, s:f, s:f, s:f}", "worker",
                                                     a->workers.v[w], "bias", r.bias[w], "scale",
                                                     r.scale[w], "noise", r.noise[w]));
        json_t *out = json_pack("{s:s, s:o, s:o}", "method", lp_num_method_name(m), "items", items,
                                "workers", workers);
        if (ev) json_object_set(out, "evaluation", ev);
        json_dumpf(out, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(out);
    } else if (status == 0) {
        printf("item,estimate,stderr\n");
        for (size_t i = 0; i < a->items.n; i++) {
            put_field(stdout, a->items.v[i]);
            printf(",%.6g,%.6g\n", r.estimate[i], r.stderr_ ? r.stderr_[i] : 0.0);
        }
        if (ev) print_evaluation(stderr, ev);
    }
    json_decref(ev);
    lp_num_result_fini(&r);
    free(truth);
    return status;
}

int lp_cli_aggregate(int argc, char **argv)
{
    static const char *const names[] = {"--method", "--truth", "--gold", "--format", NULL};
    const char *vals[] = {"auto", NULL, NULL, "csv"}, *path = NULL;
    int status = parse_args("aggregate", aggregate_usage, argc, argv, names, vals, &path);
    if (status) return status == 1 ? 0 : status;
    const char *method = vals[0], *truth = vals[1], *gold = vals[2], *format = vals[3];
    if (strcmp(format, "csv") && strcmp(format, "json")) {
        fprintf(stderr, "loupe aggregate: --format is csv or json, not \"%s\"\n", format);
        return 2;
    }
    lp_agg_method cm;
    lp_num_method nm;
    int categorical = lp_agg_method_parse(method, &cm) == 0;
    if (!categorical && lp_num_method_parse(method, &nm) < 0) {
        fprintf(stderr,
                "loupe aggregate: unknown --method \"%s\" (majority, gold_weighted, dawid_skene, "
                "one_coin, glad, mace, ebcc, bwa, auto; mean, median, trimmed, calibrated)\n",
                method);
        return 2;
    }
    answers a = {0};
    status = load_answers("aggregate", path, &a);
    if (status == 0)
        status = categorical ? aggregate_categorical(cm, &a, truth, gold, !strcmp(format, "json"))
                             : aggregate_numeric(nm, &a, truth, !strcmp(format, "json"));
    answers_fini(&a);
    return status;
}

static const char agreement_usage[] =
    "usage: loupe agreement FILE [--level nominal|ordinal|interval|ratio] [--format text|json]\n\n"
    "Inter-annotator agreement of FILE, either rows of item,worker,label or a reliability\n"
    "matrix: a header row naming the coder column and the units (coder,u1,u2,...), then a\n"
    "row per coder; '*', 'NA' or an empty cell is a missing value.  Prints Krippendorff's\n"
    "alpha (nominal, and when every value is a number ordinal, interval and ratio too;\n"
    "--level picks one), Fleiss' kappa, Cohen's kappa when there are exactly two coders,\n"
    "and each coder's agreement with the majority vote of all coders (see docs/QUALITY.md).\n";

static int is_missing(const char *s)
{
    return !*s || !strcmp(s, "*") || !strcasecmp(s, "NA") || !strcasecmp(s, "nan");
}

/* Reads a reliability matrix: the header names the coder column then the
 * units; each row is one coder's values. */
static int load_matrix(const char *path, answers *a)
{
    char *err = NULL;
    lp_csv *c;
    if (lp_csv_open(path, &c, &err) < 0) {
        fprintf(stderr, "loupe agreement: %s\n", err);
        free(err);
        return 1;
    }
    const char *const *f;
    size_t nf, units = 0;
    int rc, status = 0;
    while (status == 0 && (rc = lp_csv_next(c, &f, &nf)) == 1) {
        long line = lp_csv_line(c);
        if (!units) {
            units = nf - 1;
            for (size_t u = 1; u < nf; u++) intern(&a->items, f[u]);
            continue;
        }
        if (nf != units + 1) {
            fprintf(stderr,
                    "loupe agreement: %s line %ld: the header names %zu units but this row has "
                    "%zu values\n",
                    path, line, units, nf ? nf - 1 : 0);
            status = 1;
            break;
        }
        if (!f[0][0]) {
            fprintf(stderr, "loupe agreement: %s line %ld: the coder is empty\n", path, line);
            status = 1;
            break;
        }
        uint32_t w = intern(&a->workers, f[0]);
        for (size_t u = 1; u < nf; u++)
            if (!is_missing(f[u])) add_answer(a, (uint32_t)(u - 1), w, f[u], line);
    }
    if (status == 0 && rc < 0) {
        fprintf(stderr, "loupe agreement: %s %s\n", path, lp_csv_error(c));
        status = 1;
    }
    if (status == 0 && a->n == 0) {
        fprintf(stderr, "loupe agreement: %s has no values\n", path);
        status = 1;
    }
    lp_csv_close(c);
    return status;
}

/* 1 when path's first row is a matrix header: its first column names the
 * coders and no column names an item or a label. */
static int looks_like_matrix(const char *path)
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

static json_t *real_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

int lp_cli_agreement(int argc, char **argv)
{
    static const char *const names[] = {"--level", "--format", NULL};
    const char *vals[] = {NULL, "text"}, *path = NULL;
    int status = parse_args("agreement", agreement_usage, argc, argv, names, vals, &path);
    if (status) return status == 1 ? 0 : status;
    const char *level = vals[0], *format = vals[1];
    lp_alpha_level only = LP_ALPHA_NLEVELS;
    if (level && lp_alpha_level_parse(level, &only) < 0) {
        fprintf(stderr,
                "loupe agreement: --level is nominal, ordinal, interval or ratio, not "
                "\"%s\"\n",
                level);
        return 2;
    }
    if (strcmp(format, "text") && strcmp(format, "json")) {
        fprintf(stderr, "loupe agreement: --format is text or json, not \"%s\"\n", format);
        return 2;
    }
    answers a = {0};
    status = looks_like_matrix(path) ? load_matrix(path, &a) : load_answers("agreement", path, &a);
    if (status) {
        answers_fini(&a);
        return status;
    }
    int numeric = 1, nonneg = 1;
    for (size_t i = 0; i < a.n; i++) {
        if (isnan(a.value[i]))
            numeric = 0;
        else if (a.value[i] < 0)
            nonneg = 0;
    }
    if (only != LP_ALPHA_NLEVELS && only != LP_ALPHA_NOMINAL && !numeric) {
        for (size_t i = 0; i < a.n; i++)
            if (isnan(a.value[i])) {
                fprintf(stderr,
                        "loupe agreement: line %ld: \"%s\" is not a number (%s alpha "
                        "needs numbers)\n",
                        a.line[i], a.labels.v[a.label[i]], level);
                break;
            }
        answers_fini(&a);
        return 1;
    }
    /* Nominal alpha works on category ids, the others on the numbers. */
    double *ids = lp_malloc(a.n * sizeof *ids);
    for (size_t i = 0; i < a.n; i++) ids[i] = a.label[i];
    json_t *alpha = json_object();
    for (int l = 0; l < LP_ALPHA_NLEVELS; l++) {
        if (only != LP_ALPHA_NLEVELS && (int)only != l) continue;
        if (l != LP_ALPHA_NOMINAL && (!numeric || (l == LP_ALPHA_RATIO && !nonneg))) continue;
        double v = NAN;
        lp_agree_alpha(a.n, a.item, l == LP_ALPHA_NOMINAL ? ids : a.value, (lp_alpha_level)l, &v);
        json_object_set_new(alpha, lp_alpha_level_name((lp_alpha_level)l), real_or_null(v));
    }
    /* Fleiss over the units with two or more values. */
    size_t k = a.labels.n;
    double *counts = lp_calloc(a.items.n * (k ? k : 1), sizeof *counts);
    for (size_t i = 0; i < a.n; i++) counts[a.item[i] * k + a.label[i]] += 1;
    double kappa = NAN, pb = NAN, pe = NAN;
    lp_agree_fleiss(counts, a.items.n, k, &kappa, &pb, &pe);
    /* Cohen when there are two coders, over the units both coded once. */
    double cohen = NAN;
    size_t both = 0;
    if (a.workers.n == 2) {
        int64_t *first = lp_malloc(2 * a.items.n * sizeof *first);
        for (size_t i = 0; i < 2 * a.items.n; i++) first[i] = -1;
        for (size_t i = 0; i < a.n; i++) first[a.item[i] * 2 + a.worker[i]] = a.label[i];
        uint32_t *x = lp_malloc((a.items.n + 1) * sizeof *x),
                 *y = lp_malloc((a.items.n + 1) * sizeof *y);
        for (size_t u = 0; u < a.items.n; u++)
            if (first[2 * u] >= 0 && first[2 * u + 1] >= 0) {
                x[both] = (uint32_t)first[2 * u];
                y[both++] = (uint32_t)first[2 * u + 1];
            }
        lp_agree_cohen(both, x, y, k, &cohen);
        free(first);
        free(x);
        free(y);
    }
    /* Each coder against the majority of the values (majority vote). */
    lp_agg_data d = {.n = a.n,
                     .item = a.item,
                     .worker = a.worker,
                     .label = a.label,
                     .n_items = a.items.n,
                     .n_workers = a.workers.n,
                     .n_classes = k};
    lp_agg_result r = {0};
    lp_agg_categorical(LP_AGG_MAJORITY, &d, &r);
    double *agree = lp_malloc((a.workers.n + 1) * sizeof *agree);
    uint32_t *compared = lp_malloc((a.workers.n + 1) * sizeof *compared);
    lp_agree_workers(a.n, a.item, a.worker, a.label, r.label, a.items.n, a.workers.n, agree,
                     compared);
    size_t pairable = 0, *per = lp_calloc(a.items.n + 1, sizeof *per);
    for (size_t i = 0; i < a.n; i++) per[a.item[i]]++;
    for (size_t u = 0; u < a.items.n; u++) pairable += per[u] >= 2;
    json_t *coders = json_array();
    for (size_t w = 0; w < a.workers.n; w++)
        json_array_append_new(coders, json_pack("{s:s, s:I, s:o}", "coder", a.workers.v[w],
                                                "compared", (json_int_t)compared[w],
                                                "agreement_with_majority", real_or_null(agree[w])));
    json_t *out =
        json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "units", (json_int_t)a.items.n,
                  "pairable_units", (json_int_t)pairable, "coders", (json_int_t)a.workers.n,
                  "values", (json_int_t)a.n, "alpha", alpha, "fleiss_kappa", real_or_null(kappa),
                  "cohen_kappa", real_or_null(cohen), "coders_vs_majority", coders);
    if (!strcmp(format, "json")) {
        json_dumpf(out, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    } else {
        printf("%s: %zu units (%zu pairable), %zu coders, %zu values\n", path, a.items.n, pairable,
               a.workers.n, a.n);
        printf("Krippendorff's alpha\n");
        const char *name;
        json_t *v;
        json_object_foreach(alpha, name, v)
        {
            if (json_is_real(v))
                printf("  %-9s %.6f\n", name, json_real_value(v));
            else
                printf("  %-9s undefined (no variation)\n", name);
        }
        if (!isnan(kappa)) printf("Fleiss' kappa   %.6f\n", kappa);
        if (!isnan(cohen)) printf("Cohen's kappa   %.6f  (%zu units both coded)\n", cohen, both);
        printf("agreement with the majority\n  %-20s %8s %9s\n", "coder", "compared", "agreement");
        for (size_t w = 0; w < a.workers.n; w++) {
            printf("  %-20s %8u ", a.workers.v[w], compared[w]);
            if (isnan(agree[w]))
                printf("%9s\n", "-");
            else
                printf("%9.4f\n", agree[w]);
        }
    }
    json_decref(out);
    lp_agg_result_fini(&r);
    free(agree);
    free(compared);
    free(per);
    free(counts);
    free(ids);
    answers_fini(&a);
    return 0;
}
