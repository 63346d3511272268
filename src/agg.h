/* agg.h -- label aggregation (the quality engine's entry point).
 *
 * Pure: arrays in, results out, no I/O.  Two entry points:
 *
 * - lp_agg_majority() votes over a task's canonical response texts; it
 *   works for every kind of task and is what a task without a model uses.
 * - lp_agg_categorical() fits a model of the workers over a whole project's
 *   categorical answers (rows of item, worker, class) and returns, per item,
 *   the chosen class and a posterior over the classes (the "confidence"
 *   stored with a result), and per worker an estimated skill.
 *
 * Conventions shared by every method of lp_agg_categorical():
 * - Rows are a set: the result does not depend on their order (they are
 *   sorted into a canonical order before fitting).
 * - A worker who answered the same item more than once (repeated
 *   (item, worker) pairs) counts as one voice on that item: each of their
 *   c answers there gets weight 1/c, so a worker who changed their mind
 *   splits their vote and one who repeated an answer does not gain weight.
 * - An item with gold (d->gold[i] >= 0) returns the gold class with a
 *   one-hot posterior, even if it has no answers; the model-based methods
 *   also treat it as known truth while estimating the workers (so gold
 *   calibrates them).  Pass gold = NULL for a purely unsupervised fit.
 * - An item with neither answers nor gold gets label -1 and a uniform
 *   posterior.
 * - Ties: the label is the class of highest posterior; classes within 1e-9
 *   of the top are tied and broken, in order, by (1) the agreement-weighted
 *   vote of the majority method (see LP_AGG_MAJORITY), (2) the class's
 *   share of all answers, (3) the lowest class id.  (1) and (2) do not
 *   depend on row order or class ids, so only an exact three-way tie falls
 *   through to (3). */
#ifndef LP_AGG_H
#define LP_AGG_H

#include <stddef.h>
#include <stdint.h>

/* Majority vote over n canonical response texts, in submission order.
 * *winner receives the index of the first response of the most common
 * value (a tie goes to the value submitted first) and *confidence its share
 * of the votes.  n must be at least 1. */
void lp_agg_majority(const char *const *responses, size_t n, size_t *winner, double *confidence);

typedef struct lp_agg_data {
    size_t n;                              /* answers (rows) */
    const uint32_t *item, *worker, *label; /* n each; item < n_items, worker < n_workers,
                                              label < n_classes */
    size_t n_items, n_workers, n_classes;
    const int32_t *gold; /* n_items: known class or -1; NULL = no gold */
} lp_agg_data;

typedef struct lp_agg_result {
    int32_t *label;    /* n_items: chosen class; -1 for an item with no answers (and no gold) */
    double *posterior; /* n_items * n_classes, each row sums to 1 (uniform for unanswered
                          items) */
    double *skill;     /* n_workers: estimated probability the worker answers correctly */
    double *confusion; /* n_workers * n_classes * n_classes, [w][true][given], rows sum to 1;
                          NULL if the method has none */
    int iterations;    /* EM / VB iterations run (0 for the closed-form methods) */
} lp_agg_result;

/* The methods.  See each file's opening comment for the model, its priors
 * and its stopping rule.
 * MAJORITY       vote shares; tie rule in agg.c (agreement of the tied
 *                voters with the majority elsewhere, then class share).
 * GOLD_WEIGHTED  votes weighted by log-odds of each worker's smoothed
 *                accuracy on gold items (agg.c).
 * DAWID_SKENE    full confusion matrix per worker, EM (agg_ds.c).
 * ONE_COIN       one accuracy per worker, EM (agg_ds.c).
 * GLAD           worker ability x item difficulty, EM (agg_glad.c).
 * MACE           competence / spamming model, EM (agg_mace.c).
 * EBCC           enhanced Bayesian classifier combination, VB (agg_ebcc.c).
 * BWA            Bayesian weighted average, closed-form VB (agg_bwa.c).
 * AUTO           the project default, chosen by measurement: MACE, then
 *                Dawid-Skene started from it, posteriors averaged (agg.c). */
typedef enum lp_agg_method {
    LP_AGG_MAJORITY,
    LP_AGG_GOLD_WEIGHTED,
    LP_AGG_DAWID_SKENE,
    LP_AGG_ONE_COIN,
    LP_AGG_GLAD,
    LP_AGG_MACE,
    LP_AGG_EBCC,
    LP_AGG_BWA,
    LP_AGG_AUTO,
    LP_AGG_NMETHODS
} lp_agg_method;

/* Parses "majority", "gold_weighted", "dawid_skene", "one_coin", "glad",
 * "mace", "ebcc", "bwa" or "auto" into *out; LP_EINVAL if unknown. */
int lp_agg_method_parse(const char *name, lp_agg_method *out);
/* The name lp_agg_method_parse() accepts for m; "?" for a bad m. */
const char *lp_agg_method_name(lp_agg_method m);
/* The method whose worker model (skills, confusion) LP_AGG_AUTO reports:
 * AUTO runs MACE, then Dawid-Skene started from MACE's posteriors, and
 * labels by the average of the two posteriors (agg.c). */
lp_agg_method lp_agg_auto_method(void);

/* Fits method m to d and fills *out, whose arrays it allocates (the caller
 * calls lp_agg_result_fini).  Returns 0, or LP_EINVAL when m is unknown or
 * an id (item, worker, label or gold) is out of range; then nothing is
 * allocated and *out is zeroed.  n == 0 and n_items == 0 work. */
int lp_agg_categorical(lp_agg_method m, const lp_agg_data *d, lp_agg_result *out);
/* Frees what lp_agg_categorical() allocated and zeroes r; r may be zeroed. */
void lp_agg_result_fini(lp_agg_result *r);

/* Multi-label answers: each answer (one worker on one item) picks a set
 * of labels, possibly empty.  Answer i's labels are
 * label[offset[i] .. offset[i + 1]). */
typedef struct lp_agg_multi_data {
    size_t n;                      /* answers */
    const uint32_t *item, *worker; /* n each */
    const size_t *offset;          /* n + 1, not decreasing */
    const uint32_t *label;         /* offset[n] labels, each < n_labels */
    size_t n_items, n_workers, n_labels;
} lp_agg_multi_data;

typedef struct lp_agg_multi_result {
    double *p;     /* n_items * n_labels: the probability the item has the label */
    uint8_t *has;  /* n_items * n_labels: p > 0.5 */
    double *skill; /* n_workers: the worker's skill averaged over the labels */
} lp_agg_multi_result;

/* Per-label binary aggregation: each label is a yes/no question ("did the
 * worker pick it?") answered by every answer, and method m is fitted to
 * each question on its own (lp_agg_categorical with two classes; an item
 * with no answers gets p = 0.5 and does not have the label).  Returns 0,
 * or LP_EINVAL for an id out of range or decreasing offsets (nothing
 * allocated); the caller calls lp_agg_multi_result_fini. */
int lp_agg_multilabel(lp_agg_method m, const lp_agg_multi_data *d, lp_agg_multi_result *out);
void lp_agg_multi_result_fini(lp_agg_multi_result *r);

#endif
