/* api_queue.c -- the annotator's loop: lease the next task, heartbeat,
 * skip or release, save a draft, submit; and a task's annotations.
 *
 * Any project role may work the queue.  An assignment is its owner's: other
 * callers get 404 for it, except the project's managers, who may read it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "quality.h"
#include "queue.h"
#include "tasks.h"

/* Leases from the annotation queue (annotator) or the review queue
 * (reviewer) of project {0}. */
static int next(lp_req *req, int review)
{
    int64_t pid;
    if (lp_req_id(req, 0, &pid) ||
        lp_api_require(req, pid, review ? LP_ROLE_REVIEWER : LP_ROLE_ANNOTATOR, NULL))
        return 0;
    lp_project *p;
    int rc = lp_project_get(req->db, pid, &p);
    if (rc < 0) return lp_reply_rc(req, rc, "project");
    int64_t id = 0;
    rc = review ? lp_review_next(req->db, p, req->who.user_id, &id)
                : lp_queue_next(req->db, p, req->who.user_id, &id);
    lp_project_free(p);
    char why[256] = "";
    if (rc == LP_EPERM && lp_worker_paused(req->db, pid, req->who.user_id, why, sizeof why) == 1)
        return lp_reply_error(req, 403, "paused", NULL,
                              "you are paused on this project (%s): a manager can reinstate you",
                              why);
    if (rc == LP_ENOTFOUND)
        return lp_reply_json(req, 200,
                             json_pack("{s:n, s:s}", "assignment", "message",
                                       review ? "no task waits for your review in this project now"
                                              : "no task needs you in this project now"));
    if (rc < 0) return lp_reply_rc(req, rc, "queue");
    lp_buf out = {0};
    int64_t uid;
    lp_buf_puts(&out, "{\"assignment\":");
    rc = lp_assignment_text(req->db, id, &uid, &pid, &out);
    lp_buf_puts(&out, "}");
    if (rc < 0) {
        lp_buf_fini(&out);
        return lp_reply_rc(req, rc, "assignment");
    }
    return lp_reply_buf(req, 200, "application/json", &out);
}

int lp_api_queue_next(lp_req *req)
{
    return next(req, 0);
}

int lp_api_review_next(lp_req *req)
{
    return next(req, 1);
}

/* Answers the assignment {0} as its owner (or a manager of its project)
 * sees it. */
static int reply_assignment(lp_req *req, int64_t id, unsigned status)
{
    lp_buf out = {0};
    int64_t uid, pid;
    int rc = lp_assignment_text(req->db, id, &uid, &pid, &out);
    if (rc == 0 && !lp_api_in_scope(req, pid)) rc = LP_ENOTFOUND;
    if (rc == 0 && uid != req->who.user_id) {
        int role = LP_ROLE_NONE;
        lp_project_role(req->db, pid, req->who.user_id, req->who.is_admin, &role);
        if (role < LP_ROLE_MANAGER) rc = LP_ENOTFOUND;
    }
    if (rc < 0) {
        lp_buf_fini(&out);
        return lp_reply_rc(req, rc,
                           lp_arena_sprintf(&req->arena, "assignment %lld", (long long)id));
    }
    return lp_reply_buf(req, status, "application/json", &out);
}

int lp_api_assignment_get(lp_req *req)
{
    int64_t id;
    if (lp_req_id(req, 0, &id)) return 0;
    return reply_assignment(req, id, 200);
}

/* The answer to a change refused because the lease is not active. */
static int not_active(lp_req *req, int64_t id, const char *status)
{
    return lp_reply_error(req, 409, "conflict", "status",
                          "assignment %lld is %s, no longer active: submit is still accepted while "
                          "the task needs you",
                          (long long)id, status);
}

static int owner_rc(lp_req *req, int rc, int64_t id)
{
    return lp_reply_rc(req, rc, lp_arena_sprintf(&req->arena, "assignment %lld", (long long)id));
}

/* Loads the project of assignment id for its owner; LP_ENOTFOUND for
 * anyone else.  The caller frees *p. */
static int own_project(lp_req *req, int64_t id, lp_project **p)
{
    int64_t uid, pid;
    *p = NULL;
    int rc = lp_assignment_owner(req->db, id, &uid, &pid);
    if (rc == 0 && (uid != req->who.user_id || !lp_api_in_scope(req, pid))) rc = LP_ENOTFOUND;
    if (rc == 0) rc = lp_project_get(req->db, pid, p);
    if (rc == 0) req->project_id = pid; /* for the audit log */
    return rc;
}

int lp_api_assignment_heartbeat(lp_req *req)
{
    int64_t id;
    if (lp_req_id(req, 0, &id)) return 0;
    /* The lease length is the project's, read through the assignment. */
    lp_project *p;
    int rc = own_project(req, id, &p);
    int64_t lease_s = p ? p->lease_seconds : 600;
    lp_project_free(p);
    const char *status = "";
    if (rc == 0) rc = lp_queue_heartbeat(req->db, id, req->who.user_id, lease_s * 1000, &status);
    if (rc == LP_ECONFLICT) return not_active(req, id, status);
    if (rc < 0) return owner_rc(req, rc, id);
    return reply_assignment(req, id, 200);
}

/* Reads an optional body {"reason": "..."} into *b and *reason (borrowed
 * from *b, which the caller releases); with required, a missing body or
 * reason is a 422 naming it.  Returns nonzero when it has answered. */
static int read_reason(lp_req *req, int required, const char *why, json_t **b, const char **reason)
{
    *b = NULL;
    *reason = NULL;
    if (!req->body.len) {
        if (!required) return 0;
        lp_reply_error(req, 422, "invalid_value", "reason", "reason: is required (%s)", why);
        return 1;
    }
    if (lp_req_json(req, 1, b)) return 1;
    static const char *const keys[] = {"reason", NULL};
    lp_verr e;
    if (lp_v_only_keys(*b, "", keys, &e) ||
        lp_v_string(*b, "reason", "", required, 1, 1000, reason, &e)) {
        json_decref(*b);
        *b = NULL;
        lp_reply_verr(req, 422, &e);
        return 1;
    }
    return 0;
}

static int give_back(lp_req *req, const char *to)
{
    int64_t id;
    if (lp_req_id(req, 0, &id)) return 0;
    json_t *b;
    const char *reason;
    if (read_reason(req, !strcmp(to, "skipped"), "say why the task cannot be done", &b, &reason))
        return 0;
    const char *status = "";
    int rc = lp_queue_give_back(req->db, id, req->who.user_id, to, reason, &status);
    json_decref(b);
    if (rc == LP_ECONFLICT) return not_active(req, id, status);
    if (rc < 0) return owner_rc(req, rc, id);
    return reply_assignment(req, id, 200);
}

int lp_api_assignment_skip(lp_req *req)
{
    return give_back(req, "skipped");
}

int lp_api_assignment_release(lp_req *req)
{
    return give_back(req, "released");
}

int lp_api_assignment_draft(lp_req *req)
{
    int64_t id;
    if (lp_req_id(req, 0, &id)) return 0;
    json_t *b;
    if (lp_req_json(req, 0, &b)) return 0;
    char *text = json_dumps(b, LP_JSON_DUMP);
    json_decref(b);
    int rc = lp_queue_draft(req->db, id, req->who.user_id, text);
    free(text);
    if (rc == LP_ECONFLICT)
        return lp_reply_error(req, 409, "conflict", "status",
                              "assignment %lld was submitted: its draft is closed", (long long)id);
    if (rc < 0) return owner_rc(req, rc, id);
    return reply_assignment(req, id, 200);
}

int lp_api_assignment_submit(lp_req *req)
{
    int64_t id;
    if (lp_req_id(req, 0, &id)) return 0;
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    static const char *const keys[] = {"annotation_id", "response", NULL};
    lp_verr e;
    const char *aid = NULL;
    if (lp_v_only_keys(b, "", keys, &e) ||
        lp_v_string(b, "annotation_id", "", 1, 1, 200, &aid, &e)) {
        json_decref(b);
        return lp_reply_verr(req, 422, &e);
    }
    json_t *resp = json_object_get(b, "response");
    if (!resp || json_is_null(resp)) {
        json_decref(b);
        return lp_reply_error(req, 422, "invalid_value", "response", "response: is required");
    }
    lp_project *p;
    int rc = own_project(req, id, &p);
    lp_submit s;
    if (rc == 0) rc = lp_queue_submit(req->db, p, id, req->who.user_id, aid, resp, &s, &e);
    lp_project_free(p);
    json_decref(b);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc < 0) return owner_rc(req, rc, id);
    json_t *o = json_pack("{s:I, s:s, s:b, s:s}", "annotation", (json_int_t)s.annotation, "status",
                          s.accepted ? "accepted" : "rejected", "repeated", s.repeated,
                          "task_status", s.task_status);
    if (!s.accepted) {
        /* The work is kept, but not counted: say why, as a 409. */
        json_object_set_new(o, "reason", json_string(s.reason));
        json_t *err = json_pack("{s:s, s:s}", "code", "conflict", "message", s.reason);
        return lp_reply_json(req, 409, json_pack("{s:o, s:o}", "error", err, "annotation", o));
    }
    return lp_reply_json(req, s.repeated ? 200 : 201, o);
}

int lp_api_task_annotations(lp_req *req)
{
    int64_t id, pid;
    if (lp_api_require_task(req, LP_ROLE_REVIEWER, &id, &pid)) return 0;
    int rc;
    lp_stmt *st;
    rc =
        lp_db_prepare(req->db,
                      "SELECT id, annotation_id, assignment_id, user_id, response, status, reason, "
                      "created_at FROM annotations WHERE task_id = ? ORDER BY id",
                      &st);
    if (rc < 0) return lp_reply_rc(req, rc, "annotations");
    lp_stmt_bind_int64(st, 1, id);
    json_t *items = json_array();
    while (lp_stmt_step(st) == LP_DB_ROW) {
        json_t *resp = json_loads(lp_stmt_text(st, 4), JSON_DECODE_ANY, NULL);
        json_t *o = json_pack(
            "{s:I, s:s, s:I, s:I, s:o, s:s, s:o}", "id", (json_int_t)lp_stmt_int64(st, 0),
            "annotation_id", lp_stmt_text(st, 1), "assignment_id", (json_int_t)lp_stmt_int64(st, 2),
            "user_id", (json_int_t)lp_stmt_int64(st, 3), "response", resp ? resp : json_null(),
            "status", lp_stmt_text(st, 5), "created_at", lp_json_time(lp_stmt_int64(st, 7)));
        if (!lp_stmt_is_null(st, 6))
            json_object_set_new(o, "reason", json_string(lp_stmt_text(st, 6)));
        json_array_append_new(items, o);
    }
    lp_stmt_done(st);
    return lp_reply_json(req, 200, json_pack("{s:o}", "items", items));
}

int lp_api_assignment_review(lp_req *req)
{
    int64_t id;
    if (lp_req_id(req, 0, &id)) return 0;
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    static const char *const keys[] = {"action", "comment", "response", NULL};
    lp_verr e;
    const char *action = NULL, *comment = NULL;
    int act = -1, rc = 0;
    if (lp_v_only_keys(b, "", keys, &e) || lp_v_string(b, "action", "", 1, 1, 16, &action, &e) ||
        lp_v_string(b, "comment", "", 0, 1, 4000, &comment, &e))
        rc = LP_EINVAL;
    else if (!strcmp(action, "accept"))
        act = LP_REVIEW_ACCEPT;
    else if (!strcmp(action, "reject"))
        act = LP_REVIEW_REJECT;
    else if (!strcmp(action, "fix"))
        act = LP_REVIEW_FIX;
    else
        rc = lp_verr_set(&e, "action", "\"%s\" is not a review action (accept, reject or fix)",
                         action);
    json_t *fixed = json_object_get(b, "response");
    if (rc == 0 && act == LP_REVIEW_REJECT && !comment)
        rc = lp_verr_set(&e, "comment", "is required to reject: say what to change");
    if (rc == 0 && act == LP_REVIEW_FIX && (!fixed || json_is_null(fixed)))
        rc = lp_verr_set(&e, "response", "is required to fix: the corrected response");
    if (rc < 0) {
        json_decref(b);
        return lp_reply_verr(req, 422, &e);
    }
    lp_project *p;
    rc = own_project(req, id, &p);
    char status[16] = "";
    if (rc == 0)
        rc = lp_review_decide(req->db, p, id, req->who.user_id, act, comment, fixed, status, &e);
    lp_project_free(p);
    json_decref(b);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc == LP_ECONFLICT)
        return lp_reply_error(req, 409, "conflict", NULL,
                              "assignment %lld is no longer an active review of this task's level",
                              (long long)id);
    if (rc < 0) return owner_rc(req, rc, id);
    static const char *const names[] = {"accept", "reject", "fix"}; /* b, with action, is freed */
    return lp_reply_json(req, 200,
                         json_pack("{s:I, s:s, s:s}", "assignment", (json_int_t)id, "action",
                                   names[act], "task_status", status));
}

int lp_api_task_audit(lp_req *req)
{
    int64_t id, pid;
    if (lp_api_require_task(req, LP_ROLE_MANAGER, &id, &pid)) return 0;
    int rc;
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    static const char *const keys[] = {"accepted", "comment", NULL};
    lp_verr e;
    int accepted = -1;
    const char *comment = NULL;
    rc = 0;
    if (lp_v_only_keys(b, "", keys, &e) || lp_v_bool(b, "accepted", "", 1, &accepted, &e) ||
        lp_v_string(b, "comment", "", 0, 1, 4000, &comment, &e))
        rc = LP_EINVAL;
    else if (!accepted && !comment)
        rc = lp_verr_set(&e, "comment", "is required to reject: say what is wrong");
    if (rc < 0) {
        json_decref(b);
        return lp_reply_verr(req, 422, &e);
    }
    lp_project *p = NULL;
    char status[16] = "";
    rc = lp_project_get(req->db, pid, &p);
    if (rc == 0) rc = lp_task_audit(req->db, p, id, req->who.user_id, accepted, comment, status);
    lp_project_free(p);
    json_decref(b);
    if (rc == LP_ECONFLICT)
        return lp_reply_error(req, 409, "conflict", "status",
                              "only a completed task can be audited");
    if (rc < 0) return lp_reply_rc(req, rc, "task");
    lp_buf out = {0};
    rc = lp_task_text(req->db, id, &pid, &out);
    if (rc < 0) {
        lp_buf_fini(&out);
        return lp_reply_rc(req, rc, "task");
    }
    return lp_reply_buf(req, 200, "application/json", &out);
}

int lp_api_task_versions(lp_req *req)
{
    int64_t id, pid;
    if (lp_api_require_task(req, LP_ROLE_REVIEWER, &id, &pid)) return 0;
    int rc;
    lp_stmt *st;
    rc = lp_db_prepare(req->db,
                       "SELECT id, response, source, user_id, created_at FROM result_versions "
                       "WHERE task_id = ? ORDER BY id",
                       &st);
    if (rc < 0) return lp_reply_rc(req, rc, "versions");
    lp_stmt_bind_int64(st, 1, id);
    json_t *items = json_array();
    while (lp_stmt_step(st) == LP_DB_ROW) {
        json_t *resp = json_loads(lp_stmt_text(st, 1), JSON_DECODE_ANY, NULL);
        json_array_append_new(
            items,
            json_pack("{s:I, s:o, s:s, s:o, s:o}", "id", (json_int_t)lp_stmt_int64(st, 0),
                      "response", resp ? resp : json_null(), "source", lp_stmt_text(st, 2),
                      "user_id",
                      lp_stmt_is_null(st, 3) ? json_null() : json_integer(lp_stmt_int64(st, 3)),
                      "created_at", lp_json_time(lp_stmt_int64(st, 4))));
    }
    lp_stmt_done(st);
    return lp_reply_json(req, 200, json_pack("{s:o}", "items", items));
}

/* Answers fn's figures for project {0} to a manager; with items, wrapped
 * as {"items": [...]}. */
static int project_report(lp_req *req, int (*fn)(lp_db *, const lp_project *, json_t **),
                          const char *what, int items)
{
    int64_t pid;
    if (lp_req_id(req, 0, &pid) || lp_api_require(req, pid, LP_ROLE_MANAGER, NULL)) return 0;
    lp_project *p;
    int rc = lp_project_get(req->db, pid, &p);
    if (rc < 0) return lp_reply_rc(req, rc, "project");
    json_t *out = NULL;
    rc = fn(req->db, p, &out);
    lp_project_free(p);
    if (rc < 0) return lp_reply_rc(req, rc, what);
    return lp_reply_json(req, 200, items ? json_pack("{s:o}", "items", out) : out);
}

int lp_api_workers(lp_req *req)
{
    return project_report(req, lp_quality_workers, "workers", 1);
}

/* The project's quality report (managers). */
int lp_api_quality(lp_req *req)
{
    return project_report(req, lp_quality_report, "quality", 0);
}

/* Refits the project's aggregation and recomputes its results (managers). */
int lp_api_aggregate(lp_req *req)
{
    return project_report(req, lp_quality_refit, "aggregate", 0);
}

/* A manager pauses ({"reason"} required) or reinstates member {1} on
 * project {0}; answers the worker's row. */
static int set_paused(lp_req *req, int paused)
{
    int64_t pid, uid;
    if (lp_req_id(req, 0, &pid) || lp_req_id(req, 1, &uid) ||
        lp_api_require(req, pid, LP_ROLE_MANAGER, NULL))
        return 0;
    json_t *b;
    const char *reason;
    if (read_reason(req, paused, "say why the worker is paused", &b, &reason)) return 0;
    int rc = lp_worker_set_paused(req->db, pid, uid, paused, reason);
    json_decref(b);
    if (rc < 0)
        return lp_reply_rc(
            req, rc, lp_arena_sprintf(&req->arena, "member %lld of this project", (long long)uid));
    lp_project *p;
    json_t *row = NULL;
    if ((rc = lp_project_get(req->db, pid, &p)) == 0) {
        rc = lp_quality_worker(req->db, p, uid, &row);
        lp_project_free(p);
    }
    if (rc < 0) return lp_reply_rc(req, rc, "workers");
    return lp_reply_json(req, 200, row);
}

int lp_api_worker_pause(lp_req *req)
{
    return set_paused(req, 1);
}

int lp_api_worker_reinstate(lp_req *req)
{
    return set_paused(req, 0);
}
