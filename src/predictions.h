/* predictions.h -- a project's pre-labels: adding model predictions to
 * tasks that exist, and how each model's predictions fared.
 *
 * A task keeps at most one prediction per model name (a new one replaces
 * the model's old one) in its predictions column, which the editors start
 * from.  How a model fared is read from the accepted annotations of the
 * tasks it predicted: the share its annotators submitted exactly as
 * predicted (accepted unchanged), and its mean agreement (the kind's score,
 * as for gold) with the annotations and with the tasks' results. */
#ifndef LP_PREDICTIONS_H
#define LP_PREDICTIONS_H

#include <jansson.h>

#include "db.h"
#include "project.h"

/* Adds the predictions of items (an array of {task_id | unique_id, model,
 * response, score, probabilities?}) to tasks of project p, in one transaction.  Items that
 * fail a check are left out and reported in *report: {"updated": n,
 * "errors": [{"index", "field", "message"}]} (the caller owns it). */
int lp_predictions_add(lp_db *db, const lp_project *p, const json_t *items, json_t **report);

/* Puts item's {model, response, score, probabilities} in place of the
 * task's prediction by the same model, or after the others, and updates
 * its uncertainty under the project's measure (active.h), in the
 * caller's transaction; LP_ETOOBIG when the task has 100 other models'
 * predictions. */
int lp_prediction_put(lp_db *db, int64_t task_id, const json_t *item);

/* Recomputes the uncertainty of every task of the project that has
 * predictions under its measure (after a change of it), 50 tasks a
 * write transaction, so no lock is held long. */
int lp_predictions_rescore(lp_db *db, int64_t project_id);

/* {"models": [{"model", "tasks", "annotated", "annotations", "unchanged",
 * "unchanged_share", "agreement", "result_agreement", "mean_score"}]},
 * most predicted tasks first (the caller owns it). */
int lp_predictions_stats(lp_db *db, const lp_project *p, json_t **out);

#endif
