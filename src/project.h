/* project.h -- projects and batches (storage).
 *
 * A project carries its kind, the kind's params (validated and normalised
 * by the kind module), its quality policy and a callback URL.  A batch
 * groups a project's tasks: staging (accepting tasks), in_progress
 * (finalized: no more tasks, work may start), completed. */
#ifndef LP_PROJECT_H
#define LP_PROJECT_H

#include <jansson.h>
#include <stdint.h>

#include "active.h"
#include "db.h"
#include "autolabel.h"
#include "kind.h"
#include "valid.h"

typedef struct lp_project {
    int64_t id;
    char *name;
    const lp_kind *kind;
    json_t *params;
    int64_t overlap, review_levels, lease_seconds;
    double gold_rate, min_gold_accuracy;
    int64_t min_gold_count;    /* gold answers before accuracy can pause a worker */
    int64_t calibration_count; /* a new worker's first tasks that are gold */
    char *aggregation;
    char *strategy;     /* queue order within a priority and batch: fifo, random, uncertainty,
                           disagreement */
    lp_measure measure; /* uncertainty_measure: how strategy uncertainty reads predictions */
    char *callback_url; /* NULL if none */
    json_t *metadata;
    lp_autolabel auto_label; /* auto-labeling (autolabel.h) */
    int64_t created_by, created_at, updated_at;
} lp_project;

/* Loads a project; the caller frees it with lp_project_free(). */
int lp_project_get(lp_db *db, int64_t id, lp_project **out);
void lp_project_free(lp_project *p);

/* Validates a create (is_update=0) or update body and writes it.  On a
 * validation failure returns LP_EINVAL with e filled.  *id receives the id
 * of a new project; the creator becomes its manager. */
int lp_project_save(lp_db *db, const json_t *body, int64_t user_id, int64_t *id, lp_verr *e);
/* A change of uncertainty_measure then rescores the project's tasks
 * (lp_predictions_rescore), in transactions of their own. */
int lp_project_update(lp_db *db, int64_t id, const json_t *body, lp_verr *e);

/* The project's uncertainty measure, read in the caller's transaction.
 * Where transactions run side by side the project's row is held (FOR
 * SHARE) until it ends, so that a change of the measure waits for the
 * uncertainties the caller writes under the old one, and the rescoring
 * that follows the change sees them. */
int lp_project_measure(lp_db *db, int64_t project_id, lp_measure *out);

/* {"id":..., "name":..., "counts": {...}, ...}; the caller owns it. */
json_t *lp_project_json(lp_db *db, const lp_project *p);
/* Counts by status for a project (batch_id 0) or a batch, as
 * {"pending": n, ..., "total": n}, read from the maintained counters. */
json_t *lp_counts_json(lp_db *db, int64_t project_id, int64_t batch_id);

/* Batches. */
int lp_batch_create(lp_db *db, int64_t project_id, const json_t *body, int64_t *id, lp_verr *e);
/* The batch's row as JSON with counts; LP_ENOTFOUND if missing. */
int lp_batch_json(lp_db *db, int64_t batch_id, int64_t *project_id, json_t **out);
/* staging -> in_progress; LP_ECONFLICT if the batch is not staging. */
int lp_batch_finalize(lp_db *db, int64_t batch_id);

#endif
