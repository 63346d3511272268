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
#include "answers.h"
#include "util.h"

/* lp_answers_load, lp_answers_load_truth or lp_answers_load_matrix with
 * its error printed: 0, or 1 after printing. */
static int report(const char *cmd, int rc, char *err)
{
    if (rc == 0) return 0;
    fprintf(stderr, "loupe %s: %s\n", cmd, err ? err : lp_strerror(rc));
    free(err);
    return 1;
}

static int load_answers(const char *cmd, const char *path, lp_answers *a)
{
    char *err = NULL;
    int rc = lp_answers_load(path, a, &err);
    return report(cmd, rc, err);
}

static int load_truth(const char *cmd, const char *path, lp_answers *a, int32_t *truth,
                      double *value)
{
    char *err = NULL;
    int rc = lp_answers_load_truth(path, a, truth, value, &err);
    return report(cmd, rc, err);
}

/* Writes s as one CSV field (quoted when it needs to be). */
void lp_cli_put_field(FILE *f, const char *s)
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
int lp_cli_parse_args(const char *cmd, const char *usage, int argc, char **argv,
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
    "  --format F     csv (default) or json; with csv the scores go to standard error\n"
    "  --multi-label  each row is one label of the worker's set (an empty label: none);\n"
    "                 each label is aggregated as a yes/no question and the output is\n"
    "                 item,labels (joined by ';'),confidence; a truth file then lists\n"
    "                 one row per label an item has\n";

typedef struct eval_class {
    size_t tp, fp, fn;
} eval_class;

/* Accuracy and per-class F1 of labels against truth (-1: none). */
static json_t *evaluate_categorical(const lp_answers *a, const int32_t *label, const int32_t *truth)
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

static int aggregate_categorical(lp_agg_method m, lp_answers *a, const char *truth_path,
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
        json_dumpf(out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        fputc('\n', stdout);
        json_decref(out);
    } else if (status == 0) {
        printf("item,label,confidence\n");
        for (size_t i = 0; i < a->items.n; i++) {
            lp_cli_put_field(stdout, a->items.v[i]);
            fputc(',', stdout);
            if (r.label[i] >= 0) lp_cli_put_field(stdout, a->labels.v[r.label[i]]);
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

static int aggregate_numeric(lp_num_method m, lp_answers *a, const char *truth_path, int json)
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
        json_dumpf(out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        fputc('\n', stdout);
        json_decref(out);
    } else if (status == 0) {
        printf("item,estimate,stderr\n");
        for (size_t i = 0; i < a->items.n; i++) {
            lp_cli_put_field(stdout, a->items.v[i]);
            printf(",%.6g,%.6g\n", r.estimate[i], r.stderr_ ? r.stderr_[i] : 0.0);
        }
        if (ev) print_evaluation(stderr, ev);
    }
    json_decref(ev);
    lp_num_result_fini(&r);
    free(truth);
    return status;
}

/* Rows in (item, worker) order, for grouping a worker's labels. */
static const lp_answers *sort_by;
static int by_item_worker(const void *x, const void *y)
{
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    const lp_answers *a = sort_by;
    if (a->item[i] != a->item[j]) return a->item[i] < a->item[j] ? -1 : 1;
    if (a->worker[i] != a->worker[j]) return a->worker[i] < a->worker[j] ? -1 : 1;
    return (i > j) - (i < j);
}

/* --multi-label: a worker's rows on an item are the labels they gave it
 * (an empty label: they gave none); each label is fitted as a yes/no
 * question (lp_agg_multilabel).  Prints item,labels (joined by ';'),
 * confidence: the mean over the labels anyone gave the item of max(p, 1 -
 * p).  With a truth: exact-set accuracy and each label's F1. */
static int aggregate_multilabel(lp_agg_method m, lp_answers *a, const char *truth_path, int json)
{
    lp_truth_sets ts = {0};
    if (truth_path) {
        char *err = NULL;
        int rc = lp_answers_load_truth_sets(truth_path, a, &ts, &err);
        if (report("aggregate", rc, err)) {
            lp_truth_sets_fini(&ts);
            return 1;
        }
    }
    size_t n = a->n, nl = a->labels.n, na = 0;
    int64_t empty = lp_dict_find(&a->labels, "");
    size_t *order = lp_malloc((n ? n : 1) * sizeof *order);
    for (size_t i = 0; i < n; i++) order[i] = i;
    sort_by = a;
    qsort(order, n, sizeof *order, by_item_worker);
    uint32_t *item = lp_malloc((n ? n : 1) * sizeof *item),
             *worker = lp_malloc((n ? n : 1) * sizeof *worker);
    uint32_t *label = lp_malloc((n ? n : 1) * sizeof *label);
    size_t *off = lp_malloc((n + 1) * sizeof *off), nlab = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        if (k == 0 || a->item[i] != item[na - 1] || a->worker[i] != worker[na - 1]) {
            item[na] = a->item[i];
            worker[na] = a->worker[i];
            off[na++] = nlab;
        }
        if ((int64_t)a->label[i] != empty) label[nlab++] = a->label[i];
    }
    off[na] = nlab;
    lp_agg_multi_data d = {.n = na,
                           .item = item,
                           .worker = worker,
                           .offset = off,
                           .label = label,
                           .n_items = a->items.n,
                           .n_workers = a->workers.n,
                           .n_labels = nl};
    lp_agg_multi_result r;
    int status = 0;
    if (lp_agg_multilabel(m, &d, &r) < 0) {
        fprintf(stderr, "loupe aggregate: the answers could not be aggregated\n");
        status = 1;
    }
    /* seen[i * nl + l]: someone gave item i label l. */
    uint8_t *seen = lp_calloc(a->items.n * nl + 1, 1), *want = lp_calloc(a->items.n * nl + 1, 1);
    for (size_t x = 0; x < na; x++)
        for (size_t y = off[x]; y < off[x + 1]; y++) seen[item[x] * nl + label[y]] = 1;
    for (size_t k = 0; k < ts.n; k++) want[ts.item[k] * nl + ts.label[k]] = 1;
    json_t *items = json_array();
    size_t exact = 0, scored = 0;
    size_t *tp = lp_calloc(nl + 1, sizeof *tp), *fp = lp_calloc(nl + 1, sizeof *fp),
           *fn = lp_calloc(nl + 1, sizeof *fn);
    if (status == 0 && !json) printf("item,labels,confidence\n");
    for (size_t i = 0; status == 0 && i < a->items.n; i++) {
        double sure = 0;
        size_t picked = 0, same = 1;
        lp_buf labels = {0};
        json_t *names = json_array(), *p = json_object();
        for (size_t l = 0; l < nl; l++) {
            if ((int64_t)l == empty) continue;
            double pl = r.p[i * nl + l];
            int has = r.has[i * nl + l];
            if (seen[i * nl + l]) {
                sure += pl > 0.5 ? pl : 1 - pl;
                picked++;
                json_object_set_new(p, a->labels.v[l], json_real(pl));
            }
            if (has) {
                lp_buf_printf(&labels, "%s%s", labels.len ? ";" : "", a->labels.v[l]);
                json_array_append_new(names, json_string(a->labels.v[l]));
            }
            if (ts.known && ts.known[i]) {
                int w = want[i * nl + l];
                tp[l] += has && w;
                fp[l] += has && !w;
                fn[l] += !has && w;
                same &= has == w;
            }
        }
        if (ts.known && ts.known[i]) {
            scored++;
            exact += same;
        }
        double conf = picked ? sure / (double)picked : 1;
        if (json) {
            json_array_append_new(items, json_pack("{s:s, s:o, s:f, s:o}", "item", a->items.v[i],
                                                   "labels", names, "confidence", conf, "p", p));
        } else {
            json_decref(names);
            json_decref(p);
            lp_cli_put_field(stdout, a->items.v[i]);
            fputc(',', stdout);
            lp_cli_put_field(stdout, labels.data ? labels.data : "");
            printf(",%.6f\n", conf);
        }
        lp_buf_fini(&labels);
    }
    json_t *ev = NULL;
    if (status == 0 && truth_path) {
        json_t *classes = json_array();
        for (size_t l = 0; l < nl; l++) {
            if ((int64_t)l == empty) continue;
            double pr = tp[l] + fp[l] ? (double)tp[l] / (double)(tp[l] + fp[l]) : 0;
            double rc = tp[l] + fn[l] ? (double)tp[l] / (double)(tp[l] + fn[l]) : 0;
            json_array_append_new(classes,
                                  json_pack("{s:s, s:f, s:f, s:f, s:I}", "label", a->labels.v[l],
                                            "precision", pr, "recall", rc, "f1",
                                            pr + rc > 0 ? 2 * pr * rc / (pr + rc) : 0.0, "support",
                                            (json_int_t)(tp[l] + fn[l])));
        }
        ev = json_pack("{s:I, s:f, s:o}", "items", (json_int_t)scored, "accuracy",
                       scored ? (double)exact / (double)scored : 0.0, "classes", classes);
    }
    if (status == 0 && json) {
        json_t *workers = json_array();
        for (size_t w = 0; w < a->workers.n; w++)
            json_array_append_new(
                workers, json_pack("{s:s, s:f}", "worker", a->workers.v[w], "skill", r.skill[w]));
        json_t *out = json_pack("{s:s, s:b, s:O, s:o}", "method", lp_agg_method_name(m),
                                "multi_label", 1, "items", items, "workers", workers);
        if (ev) json_object_set(out, "evaluation", ev);
        json_dumpf(out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        fputc('\n', stdout);
        json_decref(out);
    } else if (ev) {
        fprintf(stderr, "exact label sets: ");
        print_evaluation(stderr, ev);
    }
    json_decref(items);
    json_decref(ev);
    if (status == 0) lp_agg_multi_result_fini(&r);
    free(tp);
    free(fp);
    free(fn);
    free(seen);
    free(want);
    free(order);
    free(item);
    free(worker);
    free(label);
    free(off);
    lp_truth_sets_fini(&ts);
    return status;
}

int lp_cli_aggregate(int argc, char **argv)
{
    static const char *const names[] = {"--method", "--truth", "--gold", "--format", NULL};
    const char *vals[] = {"auto", NULL, NULL, "csv"}, *path = NULL;
    /* --multi-label is the one flag without a value: take it out first. */
    char **args = lp_calloc((size_t)argc + 1, sizeof *args);
    int nargs = 0, multi = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--multi-label"))
            multi = 1;
        else
            args[nargs++] = argv[i];
    }
    int status = lp_cli_parse_args("aggregate", aggregate_usage, nargs, args, names, vals, &path);
    free(args);
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
    if (multi && (!categorical || gold)) {
        fprintf(stderr, "loupe aggregate: --multi-label takes a categorical --method and no "
                        "--gold\n");
        return 2;
    }
    lp_answers a = {.sets = multi};
    status = load_answers("aggregate", path, &a);
    if (status == 0 && multi)
        status = aggregate_multilabel(cm, &a, truth, !strcmp(format, "json"));
    else if (status == 0)
        status = categorical ? aggregate_categorical(cm, &a, truth, gold, !strcmp(format, "json"))
                             : aggregate_numeric(nm, &a, truth, !strcmp(format, "json"));
    lp_answers_fini(&a);
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

static int load_matrix(const char *path, lp_answers *a)
{
    char *err = NULL;
    int rc = lp_answers_load_matrix(path, a, &err);
    return report("agreement", rc, err);
}

static json_t *real_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

int lp_cli_agreement(int argc, char **argv)
{
    static const char *const names[] = {"--level", "--format", NULL};
    const char *vals[] = {NULL, "text"}, *path = NULL;
    int status = lp_cli_parse_args("agreement", agreement_usage, argc, argv, names, vals, &path);
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
    lp_answers a = {0};
    status =
        lp_answers_is_matrix(path) ? load_matrix(path, &a) : load_answers("agreement", path, &a);
    if (status) {
        lp_answers_fini(&a);
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
        lp_answers_fini(&a);
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
        json_dumpf(out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
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
    lp_answers_fini(&a);
    return 0;
}
