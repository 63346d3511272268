/* quality.c -- accuracy and speed of the categorical aggregation methods
 * (src/agg*.c) on the crowd data sets of the shared reference data.
 *
 *     build/quality [DATA_DIR [SET [METHOD]]]
 *
 * SET and METHOD restrict the run to one data set and one method.
 * DATA_DIR defaults to $LOUPE_SHARED_DATA, else ../shared/data (shared/
 * beside the checkout, run from its root), else ../../shared/data (run
 * from bench/).  Reads
 * crowd/<set>/answers.csv (item,worker,label) and truth.csv (item,truth),
 * maps the string ids to dense ones, fits every method unsupervised (no
 * gold), and prints a markdown table: accuracy on the items with truth
 * (plus F1 of class 1 on product), the median fit time of a few runs, and
 * the best published figure.  gold_weighted needs gold, so it is scored by
 * 5-fold cross-validation: the truth of one fold in five is hidden, the
 * rest is given as gold, and only the hidden fold is scored.  Then the
 * numeric set crowd/emotion: MAE and RMSE of each lp_agg_numeric() method
 * (src/agg_num.c) against the truth (SET "emotion" runs it alone).
 *
 * Sources of the published figures: Zheng et al., "Truth inference in
 * crowdsourcing: is the problem solved?", VLDB 2017 (Table 6); Li et al.,
 * EBCC, ICML 2019; Toloka crowd-kit (fit times on a 2-core machine). */
#include "agg.h"
#include "agg_num.h"
#include "answers.h"
#include "util.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- one data set ---- */
typedef struct set {
    const char *name;
    double best_acc, best_f1; /* published; best_f1 < 0: none */
    const char *best_who;
    size_t n, n_items, n_workers, n_classes;
    uint32_t *item, *worker, *label;
    int32_t *truth; /* n_items, -1 = unknown */
    size_t n_truth;
} set;

/* Loads crowd/NAME/answers.csv and truth.csv with the CLI's reader
 * (src/answers.c).  Class ids are the labels' own values (0..K-1 in these
 * files), so "class 1" is the data's class 1. */
static int load(set *s, const char *dir)
{
    char path[4096], *err = NULL;
    lp_answers a = {0};
    snprintf(path, sizeof path, "%s/crowd/%s/answers.csv", dir, s->name);
    int rc = lp_answers_load(path, &a, &err);
    double *tv = NULL;
    if (rc == 0) {
        tv = malloc((a.items.n + 1) * sizeof *tv);
        for (size_t i = 0; i < a.items.n; i++) tv[i] = NAN;
        snprintf(path, sizeof path, "%s/crowd/%s/truth.csv", dir, s->name);
        rc = lp_answers_load_truth(path, &a, NULL, tv, &err);
    }
    for (size_t i = 0; rc == 0 && i < a.n; i++)
        if (!(a.value[i] >= 0) || a.value[i] != floor(a.value[i])) {
            err = lp_sprintf("%s line %ld: a class must be a whole number >= 0", path, a.line[i]);
            rc = -1;
        }
    if (rc < 0) {
        fprintf(stderr, "quality: %s\n", err ? err : "cannot read the data");
        free(err);
        free(tv);
        lp_answers_fini(&a);
        return -1;
    }
    s->n = a.n;
    s->n_items = a.items.n;
    s->n_workers = a.workers.n;
    s->n_classes = 0;
    s->item = malloc((a.n + 1) * sizeof *s->item);
    s->worker = malloc((a.n + 1) * sizeof *s->worker);
    s->label = malloc((a.n + 1) * sizeof *s->label);
    memcpy(s->item, a.item, a.n * sizeof *s->item);
    memcpy(s->worker, a.worker, a.n * sizeof *s->worker);
    for (size_t i = 0; i < a.n; i++) {
        s->label[i] = (uint32_t)a.value[i];
        if (s->label[i] + 1 > s->n_classes) s->n_classes = s->label[i] + 1;
    }
    s->truth = malloc((s->n_items + 1) * sizeof *s->truth);
    s->n_truth = 0;
    for (size_t i = 0; i < s->n_items; i++) {
        s->truth[i] = isnan(tv[i]) ? -1 : (int32_t)tv[i];
        if (s->truth[i] >= 0) {
            s->n_truth++;
            if ((size_t)s->truth[i] + 1 > s->n_classes) s->n_classes = (size_t)s->truth[i] + 1;
        }
    }
    free(tv);
    lp_answers_fini(&a);
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Accuracy and F1 of class 1 of labels against truth, over items with
 * truth where fold(i) selects them (fold < 0: all). */
static void score(const set *s, const int32_t *label, int fold, double *acc, double *f1)
{
    size_t right = 0, all = 0, tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < s->n_items; i++) {
        if (s->truth[i] < 0 || (fold >= 0 && (int)(i % 5) != fold)) continue;
        all++;
        right += label[i] == s->truth[i];
        tp += label[i] == 1 && s->truth[i] == 1;
        fp += label[i] == 1 && s->truth[i] != 1;
        fn += label[i] != 1 && s->truth[i] == 1;
    }
    *acc = all ? (double)right / (double)all : 0;
    *f1 = tp ? 2.0 * (double)tp / (double)(2 * tp + fp + fn) : 0;
}

#ifndef RUNS
#define RUNS 5
#endif

/* Fits m on s (gold_weighted: 5-fold CV) and prints one table row. */
static void run(const set *s, lp_agg_method m)
{
    lp_agg_data d = {.n = s->n,
                     .item = s->item,
                     .worker = s->worker,
                     .label = s->label,
                     .n_items = s->n_items,
                     .n_workers = s->n_workers,
                     .n_classes = s->n_classes};
    double times[RUNS], acc = 0, f1 = 0;
    int iters = 0;
    int cv = m == LP_AGG_GOLD_WEIGHTED;
    int32_t *gold = cv ? malloc((s->n_items + 1) * sizeof *gold) : NULL;
    int32_t *pred = malloc((s->n_items + 1) * sizeof *pred);
    for (int run = 0; run < RUNS; run++) {
        double spent = 0;
        for (int fold = 0; fold < (cv ? 5 : 1); fold++) {
            if (cv) {
                for (size_t i = 0; i < s->n_items; i++)
                    gold[i] = (int)(i % 5) == fold ? -1 : s->truth[i];
                d.gold = gold;
            }
            lp_agg_result r;
            double t1 = now_ms();
            int rc = lp_agg_categorical(m, &d, &r);
            spent += now_ms() - t1;
            if (rc) {
                fprintf(stderr, "quality: %s on %s failed: %d\n", lp_agg_method_name(m), s->name,
                        rc);
                exit(1);
            }
            for (size_t i = 0; i < s->n_items; i++)
                if (!cv || (int)(i % 5) == fold) pred[i] = r.label[i];
            iters = r.iterations;
            lp_agg_result_fini(&r);
        }
        times[run] = cv ? spent / 5 : spent;
    }
    score(s, pred, -1, &acc, &f1);
    if (getenv("QUALITY_DEBUG")) { /* predicted class counts on items with truth */
        size_t cnt[16] = {0};
        for (size_t i = 0; i < s->n_items; i++)
            if (s->truth[i] >= 0 && pred[i] >= 0 && pred[i] < 16) cnt[pred[i]]++;
        fprintf(stderr, "%s %s:", s->name, lp_agg_method_name(m));
        for (size_t c = 0; c < s->n_classes && c < 16; c++) fprintf(stderr, " %zu", cnt[c]);
        fprintf(stderr, "\n");
    }
    qsort(times, RUNS, sizeof *times, cmp_double);
    char f1s[64] = "", best[96];
    if (s->best_f1 >= 0) snprintf(f1s, sizeof f1s, "%.4f", f1);
    snprintf(best, sizeof best, "%.4g (%s)%s", s->best_acc, s->best_who,
             s->best_f1 >= 0 ? "; F1 0.7159 (D&S)" : "");
    char name[64];
    snprintf(name, sizeof name, m == LP_AGG_AUTO ? "**auto** (mace + ds)" : "%s",
             lp_agg_method_name(m));
    printf("| %s | %s | %.4f | %s | %.1f | %d | %s |\n", s->name, name, acc, f1s, times[RUNS / 2],
           iters, best);
    free(gold);
    free(pred);
}

/* ---- the numeric set (emotion): MAE and RMSE against the truth ---- */

/* Reads crowd/emotion, fits every numeric method (src/agg_num.c) and prints
 * a second table: MAE and RMSE over the items with truth, median fit time,
 * next to the published figure for the mean of the answers (Zheng et al.
 * 2017, Table 6: MAE 12.02, RMSE 17.84).  Returns -1 if the files are
 * missing. */
static int run_numeric(const char *dir)
{
    char path[4096], *err = NULL;
    lp_answers a = {0};
    snprintf(path, sizeof path, "%s/crowd/emotion/answers.csv", dir);
    int rc = lp_answers_load(path, &a, &err);
    size_t ni = a.items.n, n = a.n;
    double *truth = malloc((ni + 1) * sizeof *truth);
    for (size_t i = 0; i < ni; i++) truth[i] = NAN;
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/crowd/emotion/truth.csv", dir);
        rc = lp_answers_load_truth(path, &a, NULL, truth, &err);
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (isnan(a.value[i])) {
            err = lp_sprintf("line %ld: the label is not a number", a.line[i]);
            rc = -1;
        }
    if (rc < 0) {
        fprintf(stderr, "quality: %s\n", err ? err : "cannot read emotion");
        free(err);
        free(truth);
        lp_answers_fini(&a);
        return -1;
    }
    const uint32_t *item = a.item, *worker = a.worker;
    const double *value = a.value;
    lp_num_data d = {.n = n,
                     .item = item,
                     .worker = worker,
                     .value = value,
                     .n_items = ni,
                     .n_workers = a.workers.n};
    printf("\nNumeric aggregation on emotion (%zu items, %zu workers, %zu answers): error of the\n"
           "estimate against the truth; published: mean of answers, Zheng et al. 2017.\n\n",
           ni, a.workers.n, n);
    printf("| set | method | MAE | RMSE | time ms | iterations | best published |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (int m = 0; m < LP_NUM_NMETHODS; m++) {
        double times[RUNS], ae = 0, se = 0;
        size_t cnt = 0;
        int iters = 0;
        for (int r = 0; r < RUNS; r++) {
            lp_num_result res;
            double t1 = now_ms();
            int rc = lp_agg_numeric((lp_num_method)m, &d, &res);
            times[r] = now_ms() - t1;
            if (rc) {
                fprintf(stderr, "quality: %s on emotion failed: %d\n",
                        lp_num_method_name((lp_num_method)m), rc);
                exit(1);
            }
            if (r == 0)
                for (size_t i = 0; i < ni; i++) {
                    if (isnan(truth[i]) || isnan(res.estimate[i])) continue;
                    double e = res.estimate[i] - truth[i];
                    ae += fabs(e);
                    se += e * e;
                    cnt++;
                }
            iters = res.iterations;
            lp_num_result_fini(&res);
        }
        qsort(times, RUNS, sizeof *times, cmp_double);
        printf("| emotion | %s | %.2f | %.2f | %.2f | %d | MAE 12.02 / RMSE 17.84 (mean) |\n",
               lp_num_method_name((lp_num_method)m), cnt ? ae / (double)cnt : NAN,
               cnt ? sqrt(se / (double)cnt) : NAN, times[RUNS / 2], iters);
    }
    free(truth);
    lp_answers_fini(&a);
    return 0;
}

int main(int argc, char **argv)
{
    /* Keep freed memory in the process between fits, as a long-running
     * server's heap does: otherwise glibc returns it to the kernel and each
     * fit pays first-touch page faults, which cost ~10 us a page in some
     * sandboxes and would dominate the small fits. */
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    const char *dir = argc > 1 ? argv[1] : getenv("LOUPE_SHARED_DATA");
    if (!dir) { /* shared/ beside the checkout: from its root or from bench/ */
        FILE *probe = fopen("../shared/data/crowd/bluebird/answers.csv", "r");
        dir = probe ? "../shared/data" : "../../shared/data";
        if (probe) fclose(probe);
    }
    set sets[] = {
        {.name = "bluebird", .best_acc = 0.889, .best_f1 = -1, .best_who = "IBCC, D&S"},
        {.name = "rte", .best_acc = 0.931, .best_f1 = -1, .best_who = "EBCC"},
        {.name = "possent", .best_acc = 0.960, .best_f1 = -1, .best_who = "D&S, BCC, LFC"},
        {.name = "product", .best_acc = 0.9378, .best_f1 = 0.7159, .best_who = "BCC"},
        {.name = "relevance", .best_acc = 0.6164, .best_f1 = -1, .best_who = "LFC"},
    };
    printf("Categorical label aggregation on the shared crowd data (accuracy on items with "
           "truth).\n\n");
    printf("Ties: classes within 1e-9 of the top posterior are tied and go to the class whose\n"
           "voters agree most with the clear majority on other items, then to the class with\n"
           "the larger share of all answers, then to the lowest class id.  Repeated answers of\n"
           "one worker on one item count as one vote split evenly.  All methods run without\n"
           "gold except gold_weighted, scored by 5-fold cross-validation (4/5 of the truth\n"
           "given as gold, the hidden fifth scored). Time: median of %d fits, in ms.\n\n",
           RUNS);
    printf("auto = MACE, then Dawid-Skene started from MACE's posteriors, labels from the\n"
           "average of the two posteriors (src/agg.c).\n\n");
    printf("| set | method | accuracy | F1 (class 1) | time ms | iterations | best published |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (size_t j = 0; j < sizeof sets / sizeof *sets; j++) {
        set *s = &sets[j];
        if (argc > 2 && strcmp(argv[2], s->name)) continue;
        if (load(s, dir)) return 1;
        for (int m = 0; m < LP_AGG_NMETHODS; m++)
            if (argc <= 3 || !strcmp(argv[3], lp_agg_method_name((lp_agg_method)m)))
                run(s, (lp_agg_method)m);
        free(s->item);
        free(s->worker);
        free(s->label);
        free(s->truth);
    }
    printf("\nPublished fit times (crowd-kit, 2 cores): Dawid-Skene 3.4 s on product / 3.0 s on "
           "relevance; GLAD 53 s / 39 s; MACE 17 s / 71 s.\n");
    if ((argc <= 2 || !strcmp(argv[2], "emotion")) && run_numeric(dir)) return 1;
    return 0;
}
