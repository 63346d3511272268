/* queue.h -- the work queue: leases of tasks to workers (assignments),
 * drafts, and submitted responses (annotations).
 *
 * Invariants, kept in the same write transaction as every change:
 *   tasks.leased = the task's assignments in status 'active';
 *   tasks.done   = the task's annotations in status 'accepted';
 *   done + leased <= the project's overlap, for every task;
 *   a worker has at most one assignment per task, ever, and at most one
 *   active assignment per project (asking again resumes it).
 * Leases past their expiry are reaped (status 'expired') by the next call
 * that leases in the project, so an expired lease returns its task to the
 * queue without a timer thread. */
#ifndef LP_QUEUE_H
#define LP_QUEUE_H

#include <jansson.h>
#include <stdint.h>

#include "db.h"
#include "project.h"
#include "util.h"
#include "valid.h"

/* Leases the next task the user should work on in the project, or resumes
 * the lease the user already holds there; *assignment_id receives it.
 * LP_ENOTFOUND when no task needs this user now. */
int lp_queue_next(lp_db *db, const lp_project *p, int64_t user_id, int64_t *assignment_id);

/* Appends the assignment as JSON ({id, status, expires_at, draft, task}) to
 * out.  *user_id and *project_id receive its owner and project (for
 * permission checks).  LP_ENOTFOUND if there is none. */
int lp_assignment_text(lp_db *db, int64_t id, int64_t *user_id, int64_t *project_id, lp_buf *out);

/* An assignment's owner and project; LP_ENOTFOUND if there is none. */
int lp_assignment_owner(lp_db *db, int64_t id, int64_t *user_id, int64_t *project_id);

/* The owner extends an active lease by lease_ms from now.  LP_ECONFLICT
 * when the lease is no longer active (*status says what it is now). */
int lp_queue_heartbeat(lp_db *db, int64_t id, int64_t user_id, int64_t lease_ms,
                       const char **status);
/* The owner gives an active lease back: to = "skipped" (with a reason) or
 * "released".  LP_ECONFLICT when it is not active. */
int lp_queue_give_back(lp_db *db, int64_t id, int64_t user_id, const char *to, const char *reason,
                       const char **status);
/* The owner saves a draft (any JSON text) on an assignment not yet
 * submitted.  LP_ECONFLICT once it is submitted. */
int lp_queue_draft(lp_db *db, int64_t id, int64_t user_id, const char *draft);

typedef struct lp_submit {
    int64_t annotation; /* the annotation's id */
    int accepted;       /* counted for the task; else kept as rejected */
    int repeated;       /* this annotation_id was submitted before */
    char reason[256];   /* why it was rejected */
    char task_status[16];
} lp_submit;

/* Submits the owner's response on an assignment, idempotently by the
 * client's annotation_id.  The response is validated by the project's kind
 * (LP_EINVAL with e).  A submit on a lease that expired is accepted while
 * the task still needs this worker; otherwise the work is kept as a
 * rejected annotation and out->accepted is 0 with out->reason. */
int lp_queue_submit(lp_db *db, const lp_project *p, int64_t id, int64_t user_id,
                    const char *annotation_id, const json_t *response, lp_submit *out, lp_verr *e);

/* Review.  A task whose project has review_levels R > 0 waits in status
 * 'review' at review_level 1..R after its annotations.  lp_review_next
 * leases the next such task to a reviewer (one reviewer per task at a
 * time; never a task the reviewer annotated or already reviewed), or
 * resumes the reviewer's lease; LP_ENOTFOUND if none. */
int lp_review_next(lp_db *db, const lp_project *p, int64_t user_id, int64_t *assignment_id);

enum { LP_REVIEW_ACCEPT, LP_REVIEW_REJECT, LP_REVIEW_FIX };

/* The reviewer's decision on their active review lease: accept (the task
 * moves to the next level, or is completed after the last), fix (fixed
 * becomes the result, a new version, then as accept), or reject with a
 * comment (the task goes back to annotation; its annotations are kept as
 * 'returned' and their annotators may take it again and see the comment).
 * LP_ECONFLICT when the lease is no longer active or the task moved on;
 * LP_EINVAL with e for a bad fix.  task_status receives the task's status. */
int lp_review_decide(lp_db *db, const lp_project *p, int64_t id, int64_t user_id, int action,
                     const char *comment, const json_t *fixed, char task_status[16], lp_verr *e);

/* A customer audit of a completed task: accepted, or rejected (the task goes
 * back to annotation as on a review rejection).  Queues task.audited.
 * LP_ECONFLICT unless the task is completed. */
int lp_task_audit(lp_db *db, const lp_project *p, int64_t task_id, int64_t user_id, int accepted,
                  const char *comment, char task_status[16]);

/* Worker quality.  A gold task's accepted answer is scored against its
 * expected_response by the kind (lp_kind_score); a member whose mean score
 * since joining or their last reinstatement falls below min_gold_accuracy
 * after min_gold_count gold answers is paused on the project, and their
 * open leases there are given back.  A paused member gets LP_EPERM from
 * both queues and has submits refused (kept as rejected).
 *
 * lp_worker_paused: 1 (with the reason) if paused, 0 if not, or an error. */
int lp_worker_paused(lp_db *db, int64_t project_id, int64_t user_id, char *reason, size_t n);
/* A manager pauses (with a reason) or reinstates a member; reinstating
 * counts their gold accuracy afresh.  LP_ENOTFOUND if not a member. */
int lp_worker_set_paused(lp_db *db, int64_t project_id, int64_t user_id, int paused,
                         const char *reason);

/* Computes a task's result from its accepted annotations (the kind's
 * consolidation, each vote weighted under the project's aggregation
 * method) and stores it as a new version by "aggregate".  Inside the
 * caller's transaction; 0 or an LP_E* code.  *versioned (versioned may be
 * NULL) is set as by lp_queue_set_result. */
int lp_queue_store_result(lp_db *db, const lp_project *p, int64_t task_id, int *versioned);

/* Recomputes tasks.disagreement (lp_disagreement of its accepted
 * annotations, the first 200) of a task of a project of kind k, inside the
 * caller's transaction, which should hold the task's row where
 * transactions run side by side.  Reads only the task's data and
 * attachments, so a migration may call it. */
int lp_queue_set_disagreement(lp_db *db, const lp_kind *k, const json_t *params, int64_t task_id);

/* Stores result ({"response", "confidence", ...}) as the task's result
 * and, unless the last version by the same source has the same response,
 * keeps it as a new version by source ("aggregate", "fix") and user_id (0:
 * no one).  Inside the caller's transaction.  *versioned (versioned may
 * be NULL) is 1 when a new version was kept, 0 when only the stored
 * result changed. */
int lp_queue_set_result(lp_db *db, int64_t task_id, const json_t *result, const char *source,
                        int64_t user_id, int *versioned);

/* Queues the events of a task just completed (task.completed, and
 * batch.completed when it was its batch's last open task) in the caller's
 * transaction, as a submit does: for tasks completed elsewhere (an
 * auto-label, autolabel.h). */
int lp_queue_completed_events(lp_db *db, int64_t project_id, int64_t task_id);

#endif
