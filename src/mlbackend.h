/* mlbackend.h -- a project's ML backend: a model server that speaks Label
 * Studio's ML backend protocol, so that the backends written for Label
 * Studio work with Loupe unchanged.
 *
 *   POST /setup    {project, schema (the labeling config), hostname,
 *                   access_token, model_version} -> {model_version}
 *   POST /predict  {tasks: [{id, data}], project, label_config, params}
 *                  -> {results: [{result: [regions], score,
 *                  model_version}]}, one per task in order (a bare list
 *                  is read too, and a list of predictions for a task
 *                  gives its best-scored one)
 *   POST /webhook  {action: "ANNOTATION_CREATED", annotation: {id,
 *                  result, task, completed_by, created_at}, task, project:
 *                  {id, title, label_config}} for every accepted
 *                  annotation, in order, when "train" is on
 *   GET  /health   -> {status: "UP"}
 *
 * Tasks, configs and regions are mapped by labelstudio.h.  Nothing waits
 * for a backend: a background dispatcher (one per process) queues the
 * project's open tasks (ml_queue, fed from a cursor over task ids, so an
 * import only writes its tasks), claims batches of batch_size and sends
 * each from a thread of its own, at most max_concurrency at once per
 * project, each call bounded by timeout_ms.  Predictions are written as
 * the prediction of the model the backend names (its model_version), in
 * transactions of at most 50 tasks.  A failed call (transport error,
 * time-out, non-2xx, a reply that is not the protocol's) pauses the
 * backend for --ml-retry-ms doubling with each failure in a row (at most
 * 5 minutes, with jitter), and counts an attempt against each task of the
 * batch; a task whose own prediction cannot be read (a region the kind
 * cannot take) counts one against that task only.  After "retries"
 * attempts a task is marked failed, with its last error, until someone
 * asks again (lp_mlb_requeue).  Status, counters and the latest errors are
 * in ml_backends, visible to every process (lp_mlb_status). */
#ifndef LP_MLBACKEND_H
#define LP_MLBACKEND_H

#include <jansson.h>
#include <stdint.h>

#include "db.h"
#include "project.h"
#include "valid.h"

typedef struct lp_mlb lp_mlb;

/* Starts the dispatcher: work looked for every poll_ms, failures pausing
 * a backend for retry_ms at first. */
int lp_mlb_start(lp_db_pool *pool, int64_t poll_ms, int64_t retry_ms, lp_mlb **out);
/* Stops it: calls in flight are abandoned (their tasks are sent again
 * later); NULL is a no-op. */
void lp_mlb_stop(lp_mlb *m);

/* Connects project p to the backend body describes ({url, batch_size,
 * timeout_ms, max_concurrency, retries, train}), or changes its settings
 * (then it is set up again).  0 and *out (the status), LP_EINVAL with e
 * naming the field. */
int lp_mlb_put(lp_db *db, const lp_project *p, const json_t *body, json_t **out, lp_verr *e);
/* The backend's settings and status (new), LP_ENOTFOUND when none. */
int lp_mlb_status(lp_db *db, const lp_project *p, json_t **out);
/* Disconnects it: its queue and status go; predictions stay. */
int lp_mlb_delete(lp_db *db, const lp_project *p);
/* Queues tasks again: body {"tasks": "failed" | "all"} or {"task_ids":
 * [...]}.  *queued: how many. */
int lp_mlb_requeue(lp_db *db, const lp_project *p, const json_t *body, int64_t *queued,
                   lp_verr *e);

#endif
