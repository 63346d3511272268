/* quality.h -- a project's quality figures and the refit of its
 * aggregation model: the database edge of the quality engine (agg*.h,
 * agree.h are the pure parts). */
#ifndef LP_QUALITY_H
#define LP_QUALITY_H

#include <jansson.h>

#include "db.h"
#include "project.h"

/* The per-worker table: one object per worker who holds or held an
 * assignment in the project (tasks done, rejected, skipped, time per
 * task, agreement with the consensus, gold accuracy, the model's skill,
 * paused).  *out is a new array. */
int lp_quality_workers(lp_db *db, const lp_project *p, json_t **out);
/* One worker's row of that table (zeros for one who never worked here). */
int lp_quality_worker(lp_db *db, const lp_project *p, int64_t user_id, json_t **out);

/* {"method", "agreement": {...}, "workers": [...], "confidence": {...}}:
 * see GET /v1/projects/{id}/quality in docs/API.md. */
int lp_quality_report(lp_db *db, const lp_project *p, json_t **out);

/* Fits the project's aggregation method to all its accepted annotations
 * (the categorical methods, for kinds that pick one of a set), stores each
 * worker's estimated skill, and recomputes the result of every completed
 * or in-review task that no reviewer has fixed.  In one write transaction;
 * *out describes what changed. */
int lp_quality_refit(lp_db *db, const lp_project *p, json_t **out);

#endif
