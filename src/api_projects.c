/* api_projects.c -- projects and batches.
 *
 * Anyone signed in may create a project and becomes its manager; admins see
 * every project, others the projects they have a role in.  A project
 * object carries the caller's role in it, so a client knows what to
 * offer. */
#include <string.h>

#include "api.h"
#include "auth.h"
#include "project.h"
#include "stats.h"

/* Writes a project-level validation failure: 422 for a value the API
 * understood but cannot accept, 400 for a malformed request. */
static int reply_invalid(lp_req *req, const lp_verr *e)
{
    return lp_reply_verr(req, 422, e);
}

/* The project object as the caller sees it: with their role in it
 * (admins are managers everywhere); NULL if it cannot be read. */
static json_t *project_for_caller(lp_req *req, int64_t id, int *rc)
{
    lp_project *p = NULL;
    int role = LP_ROLE_NONE;
    *rc = lp_project_get(req->db, id, &p);
    if (*rc == 0) *rc = lp_project_role(req->db, id, req->who.user_id, req->who.is_admin, &role);
    if (*rc < 0) {
        lp_project_free(p);
        return NULL;
    }
    json_t *o = lp_project_json(req->db, p);
    lp_project_free(p);
    json_object_set_new(o, "role", role ? json_string(lp_role_name(role)) : json_null());
    return o;
}

static int reply_project(lp_req *req, int64_t id, unsigned status)
{
    int rc;
    json_t *o = project_for_caller(req, id, &rc);
    if (!o) return lp_reply_rc(req, rc, "project");
    return lp_reply_json(req, status, o);
}

int lp_api_projects_create(lp_req *req)
{
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    lp_verr e;
    int64_t id = 0;
    int rc = lp_project_save(req->db, b, req->who.user_id, &id, &e);
    json_decref(b);
    if (rc == LP_EINVAL) return reply_invalid(req, &e);
    if (rc < 0) return lp_reply_rc(req, rc, "project");
    return reply_project(req, id, 201);
}

static json_t *project_item(lp_req *req, int64_t id)
{
    int rc;
    return project_for_caller(req, id, &rc);
}

static json_t *batch_item(lp_req *req, int64_t id)
{
    json_t *o;
    int64_t pid;
    return lp_batch_json(req->db, id, &pid, &o) == 0 ? o : NULL;
}

int lp_api_projects_list(lp_req *req)
{
    int limit;
    int64_t after;
    if (lp_api_page(req, 100, 1000, &limit, &after)) return 0;
    lp_stmt *st;
    int rc = lp_db_prepare(
        req->db,
        req->who.is_admin
            ? "SELECT id FROM projects WHERE id > ? AND ? > 0 AND (? = 0 OR id = ?) ORDER BY id "
              "LIMIT ?"
            : "SELECT p.id FROM projects p JOIN project_members m ON m.project_id = p.id "
              "WHERE p.id > ? AND m.user_id = ? AND (? = 0 OR p.id = ?) ORDER BY p.id LIMIT ?",
        &st);
    if (rc < 0) return lp_reply_rc(req, rc, "projects");
    lp_stmt_bind_int64(st, 1, after);
    lp_stmt_bind_int64(st, 2, req->who.user_id);
    lp_stmt_bind_int64(st, 3, req->who.project); /* a project-scoped key sees its project */
    lp_stmt_bind_int64(st, 4, req->who.project);
    lp_stmt_bind_int64(st, 5, limit + 1);
    return lp_api_reply_ids(req, st, limit, project_item);
}

int lp_api_project_get(lp_req *req)
{
    int64_t id;
    int role;
    if (lp_req_id(req, 0, &id) || lp_api_require(req, id, LP_ROLE_ANNOTATOR, &role)) return 0;
    return reply_project(req, id, 200);
}

int lp_api_project_update(lp_req *req)
{
    int64_t id;
    if (lp_req_id(req, 0, &id) || lp_api_require(req, id, LP_ROLE_MANAGER, NULL)) return 0;
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    lp_verr e;
    int rc = lp_project_update(req->db, id, b, &e);
    json_decref(b);
    if (rc == LP_EINVAL) return reply_invalid(req, &e);
    if (rc < 0) return lp_reply_rc(req, rc, "project");
    return reply_project(req, id, 200);
}

int lp_api_project_stats(lp_req *req)
{
    int64_t id;
    if (lp_req_id(req, 0, &id) || lp_api_require(req, id, LP_ROLE_MANAGER, NULL)) return 0;
    lp_stats_range r;
    lp_verr e;
    if (lp_stats_range_parse(&r, lp_req_arg(req, "bucket"), lp_req_arg(req, "since"),
                             lp_req_arg(req, "until"), lp_now_ms(), &e) < 0)
        return lp_reply_verr(req, 400, &e);
    lp_project *p;
    int rc = lp_project_get(req->db, id, &p);
    if (rc < 0) return lp_reply_rc(req, rc, "project");
    json_t *o = NULL;
    rc = lp_stats_project(req->db, p, &r, &o);
    lp_project_free(p);
    if (rc < 0) return lp_reply_rc(req, rc, "stats");
    return lp_reply_json(req, 200, o);
}

int lp_api_batches_create(lp_req *req)
{
    int64_t pid;
    if (lp_req_id(req, 0, &pid) || lp_api_require(req, pid, LP_ROLE_MANAGER, NULL)) return 0;
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    lp_verr e;
    int64_t id = 0;
    int rc = lp_batch_create(req->db, pid, b, &id, &e);
    json_decref(b);
    if (rc == LP_EINVAL) return reply_invalid(req, &e);
    if (rc == LP_EEXISTS) {
        lp_reply_error(req, 409, "conflict", "name", "name: %s (id %lld)", e.message,
                       (long long)id);
        return 0;
    }
    if (rc < 0) return lp_reply_rc(req, rc, "batch");
    json_t *o;
    int64_t p2;
    rc = lp_batch_json(req->db, id, &p2, &o);
    if (rc < 0) return lp_reply_rc(req, rc, "batch");
    return lp_reply_json(req, 201, o);
}

int lp_api_batches_list(lp_req *req)
{
    int64_t pid;
    if (lp_req_id(req, 0, &pid) || lp_api_require(req, pid, LP_ROLE_REVIEWER, NULL)) return 0;
    int limit;
    int64_t after;
    if (lp_api_page(req, 100, 1000, &limit, &after)) return 0;
    const char *status = lp_req_arg(req, "status");
    if (status && strcmp(status, "staging") && strcmp(status, "in_progress") &&
        strcmp(status, "completed"))
        return lp_reply_error(
            req, 400, "invalid_request", "status",
            "status: \"%s\" is not a batch status (staging, in_progress, completed)", status);
    lp_stmt *st;
    int rc = lp_db_prepare(
        req->db,
        status ? "SELECT id FROM batches WHERE project_id = ? AND id > ? AND status = ? ORDER BY "
                 "id LIMIT ?"
               : "SELECT id FROM batches WHERE project_id = ? AND id > ? ORDER BY id LIMIT ?",
        &st);
    if (rc < 0) return lp_reply_rc(req, rc, "batches");
    int i = 1;
    lp_stmt_bind_int64(st, i++, pid);
    lp_stmt_bind_int64(st, i++, after);
    if (status) lp_stmt_bind_text(st, i++, status);
    lp_stmt_bind_int64(st, i++, limit + 1);
    return lp_api_reply_ids(req, st, limit, batch_item);
}

/* Loads the batch {0} and checks the caller's role in its project. */
static int batch_for(lp_req *req, int min_role, int64_t *id, json_t **out)
{
    int64_t pid;
    if (lp_req_id(req, 0, id)) return LP_ENOTFOUND;
    int rc = lp_batch_json(req->db, *id, &pid, out);
    if (rc < 0)
        return lp_reply_rc(req, rc, lp_arena_sprintf(&req->arena, "batch %lld", (long long)*id)),
               rc;
    if (lp_api_require_for(req, pid, min_role, "batch", *id)) {
        json_decref(*out);
        return LP_EPERM;
    }
    return 0;
}

int lp_api_batch_get(lp_req *req)
{
    int64_t id;
    json_t *o;
    if (batch_for(req, LP_ROLE_REVIEWER, &id, &o)) return 0;
    return lp_reply_json(req, 200, o);
}

int lp_api_batch_finalize(lp_req *req)
{
    int64_t id, pid;
    json_t *o;
    if (batch_for(req, LP_ROLE_MANAGER, &id, &o)) return 0;
    json_decref(o);
    int rc = lp_batch_finalize(req->db, id);
    if (rc == LP_ECONFLICT)
        return lp_reply_error(req, 409, "conflict", "status",
                              "the batch is not in staging: it was finalized already");
    if (rc < 0) return lp_reply_rc(req, rc, "batch");
    rc = lp_batch_json(req->db, id, &pid, &o);
    if (rc < 0) return lp_reply_rc(req, rc, "batch");
    return lp_reply_json(req, 200, o);
}
