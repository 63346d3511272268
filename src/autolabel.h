/* autolabel.h -- auto-labeling (issue 9), as SageMaker Ground Truth does
 * it: once a model's precision on a held-out sample of human labels is
 * known, the open tasks it predicts with a score at or above a threshold
 * chosen for a target precision are completed by the model, and marked
 * so; a share of them (the spot checks, drawn once per task) stay with
 * humans and measure the precision of the auto-labels as it is live.
 *
 * The pure part (settings, the threshold) is in autolabel.c; the part that
 * reads and writes the database (held-out pairs, the round the learner
 * thread runs, the figures of GET /v1/projects/{id}/autolabel) is in
 * autolabel_db.c.
 *
 * Held out: a pair (a task completed by humans, the model's prediction on
 * it) measures the model only if the model had not learned the task's
 * label when it predicted it.  The built-in model predicts only tasks no
 * human has labelled yet (learner.c); an imported prediction put on a task
 * that already had labels is marked "after_labels": true (predictions.c)
 * and never counts. */
#ifndef LP_AUTOLABEL_H
#define LP_AUTOLABEL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "valid.h"

/* Held-out pairs needed above a threshold, whatever min_holdout says. */
#define LP_AUTOLABEL_MIN_ABOVE 20
/* The result's method, and the tasks.auto_label values. */
#define LP_AUTOLABEL_METHOD "auto_label"

/* A project's auto_label setting (projects.auto_label). */
typedef struct lp_autolabel {
    int enabled;
    char model[801]; /* 200 characters of up to 4 bytes */
    double target_precision, spot_check_rate;
    int64_t min_holdout;
} lp_autolabel;

/* The defaults: disabled, "loupe:builtin", 0.95, 0.05, 100. */
void lp_autolabel_defaults(lp_autolabel *s);
/* Reads the object v (a project body's "auto_label") over *s: the keys
 * given replace those of *s, JSON null resets *s to the defaults.  0, or
 * LP_EINVAL with e naming the field ("auto_label.target_precision"); *s
 * is left as it was on failure. */
int lp_autolabel_parse(const json_t *v, lp_autolabel *s, lp_verr *e);
/* The setting as a JSON object (the caller owns it). */
json_t *lp_autolabel_json(const lp_autolabel *s);

/* A held-out pair: the model's score for its prediction, and whether the
 * prediction matched the human result exactly (the kind's score is 1). */
typedef struct lp_autolabel_pair {
    double score;
    int correct;
} lp_autolabel_pair;

typedef struct lp_autolabel_fit {
    int found;          /* a threshold meets the target */
    double threshold;   /* the lowest such score (found) */
    size_t holdout;     /* pairs */
    size_t correct;     /* of them, right */
    size_t above;       /* pairs at or above the threshold (found) */
    size_t above_right; /* of them, right */
    double precision;   /* above_right / above (found) */
    double low, high;   /* its Wilson 95% interval */
} lp_autolabel_fit;

/* Chooses the threshold: the lowest score t such that, among the pairs
 * scored t or more, at least min_above are and a share of at least target
 * are right -- none while there are fewer than min_holdout pairs.  Pairs
 * that tie on a score are taken or left together.  Sorts pairs (by score,
 * highest first) in place; n may be 0. */
void lp_autolabel_choose(lp_autolabel_pair *pairs, size_t n, double target, size_t min_holdout,
                         size_t min_above, lp_autolabel_fit *out);

/* The Wilson score interval of k successes in n trials at z (1.96 for
 * 95%); [0, 1] when n is 0. */
void lp_wilson(size_t k, size_t n, double z, double *low, double *high);

/* The database side (autolabel_db.c).  p is the project (project.h). */
struct lp_project;

/* The figures of GET /v1/projects/{id}/autolabel (see docs/API.md); the
 * caller owns *out. */
int lp_autolabel_report(lp_db *db, const struct lp_project *p, json_t **out);

/* One round for a project with auto_label.enabled: chooses the threshold
 * from the held-out pairs, then completes the eligible open tasks (pending
 * or in_progress, not leased, no annotation, not gold nor in a staging
 * batch, predicted
 * by the model at or above it), LP_AUTOLABEL_TX tasks a transaction,
 * leaving the spot checks to humans.  *labeled and *spot receive the
 * numbers of tasks completed and kept for humans this round. */
#define LP_AUTOLABEL_TX 50
int lp_autolabel_round(lp_db *db, const struct lp_project *p, int64_t *labeled, int64_t *spot);

#endif
