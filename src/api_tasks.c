/* api_tasks.c -- tasks: create one, create in bulk, get, list, cancel,
 * metadata and tags.
 *
 * A bulk import is checked for framing first (a JSON array or NDJSON lines)
 * so a truncated body creates nothing; then each row is parsed, validated
 * and inserted on its own, committed every LP_BULK_TX rows, and reported
 * as created, duplicate (with the existing id) or invalid (with the field
 * and reason).  A retried import with unique_ids is therefore safe: rows
 * already created come back as duplicates. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "tasks.h"

#define LP_BULK_TX 5000

static int reply_task(lp_req *req, int64_t id, unsigned status)
{
    json_t *t;
    int64_t pid;
    int rc = lp_task_get(req->db, id, &pid, &t);
    if (rc < 0) return lp_reply_rc(req, rc, "task");
    return lp_reply_json(req, status, t);
}

/* Loads the project and checks the caller may manage it. */
static int managed_project(lp_req *req, int64_t pid, lp_project **p)
{
    if (lp_api_require(req, pid, LP_ROLE_MANAGER, NULL)) return LP_EPERM;
    int rc = lp_project_get(req->db, pid, p);
    if (rc < 0) return lp_reply_rc(req, rc, "project"), rc;
    return 0;
}

int lp_api_task_create(lp_req *req)
{
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    lp_verr e;
    long long pid = 0;
    if (lp_v_int(b, "project_id", "", 1, 1, INT64_MAX, &pid, &e)) {
        json_decref(b);
        return lp_reply_verr(req, 422, &e);
    }
    lp_project *p;
    if (managed_project(req, pid, &p)) {
        json_decref(b);
        return 0;
    }
    lp_task_writer w;
    lp_task_writer_init(&w, req->db, p);
    int64_t id = 0;
    int rc = lp_db_begin(req->db, LP_TX_WRITE);
    if (rc == 0) rc = lp_task_writer_add(&w, b, &id, &e);
    if (rc == 0) rc = lp_task_writer_flush(&w);
    if (rc == 0)
        rc = lp_db_commit(req->db);
    else
        lp_db_rollback(req->db);
    json_decref(b);
    lp_project_free(p);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc == LP_EEXISTS) {
        json_t *t = NULL;
        int64_t p2;
        lp_task_get(req->db, id, &p2, &t);
        json_t *err = json_pack("{s:s, s:s, s:s, s:I}", "code", "conflict", "field", "unique_id",
                                "message", e.message, "existing_id", (json_int_t)id);
        return lp_reply_json(req, 409,
                             json_pack("{s:o, s:o}", "error", err, "task", t ? t : json_null()));
    }
    if (rc < 0) return lp_reply_rc(req, rc, "task");
    return reply_task(req, id, 201);
}

typedef struct bulk {
    lp_req *req;
    lp_task_writer w;
    lp_buf out;
    size_t created, duplicates, invalid, in_tx;
    int rc; /* a database error stops the import */
} bulk;

static int frame_only(void *arg, size_t index, const char *s, size_t n)
{
    (void)arg, (void)index, (void)s, (void)n;
    return 0;
}

static void row_error(bulk *b, size_t index, const lp_verr *e)
{
    json_t *o = json_pack("{s:I, s:s, s:{s:s, s:s}}", "index", (json_int_t)index, "status",
                          "invalid", "error", "field", e->field, "message", e->message);
    char *s = json_dumps(o, LP_JSON_DUMP);
    lp_buf_printf(&b->out, "%s%s", b->out.len > 1 ? "," : "", s);
    free(s);
    json_decref(o);
    b->invalid++;
}

static int bulk_row(void *arg, size_t index, const char *s, size_t n)
{
    bulk *b = arg;
    lp_verr e;
    json_t *task;
    if (lp_json_parse(s, n, "", &task, &e) < 0) {
        row_error(b, index, &e);
        return 0;
    }
    if (b->in_tx == 0 && (b->rc = lp_db_begin(b->req->db, LP_TX_WRITE)) < 0) {
        json_decref(task);
        return b->rc;
    }
    int64_t id;
    int rc = lp_task_writer_add(&b->w, task, &id, &e);
    json_decref(task);
    const char *sep = b->out.len > 1 ? "," : "";
    if (rc == 0) {
        lp_buf_printf(&b->out, "%s{\"index\":%zu,\"status\":\"created\",\"id\":%lld}", sep, index,
                      (long long)id);
        b->created++;
    } else if (rc == LP_EEXISTS) {
        lp_buf_printf(&b->out, "%s{\"index\":%zu,\"status\":\"duplicate\",\"id\":%lld}", sep, index,
                      (long long)id);
        b->duplicates++;
    } else if (rc == LP_EINVAL) {
        row_error(b, index, &e);
    } else {
        b->rc = rc;
        return rc;
    }
    if (++b->in_tx >= LP_BULK_TX) {
        b->in_tx = 0;
        if ((b->rc = lp_task_writer_flush(&b->w)) < 0 || (b->rc = lp_db_commit(b->req->db)) < 0)
            return b->rc;
    }
    return 0;
}

int lp_api_tasks_bulk(lp_req *req)
{
    int64_t pid;
    lp_project *p;
    if (lp_req_id(req, 0, &pid) || lp_req_json_type(req) || managed_project(req, pid, &p)) return 0;
    lp_verr e;
    int rc =
        lp_json_split(req->body.data ? req->body.data : "", req->body.len, frame_only, NULL, &e);
    if (rc < 0) {
        lp_project_free(p);
        return lp_reply_error(req, 400, "invalid_json", e.field, "%s: %s", e.field, e.message);
    }
    bulk b = {.req = req};
    lp_task_writer_init(&b.w, req->db, p);
    lp_buf_puts(&b.out, "[");
    rc = lp_json_split(req->body.data, req->body.len, bulk_row, &b, &e);
    if (b.in_tx) {
        if (rc == 0 && (rc = lp_task_writer_flush(&b.w)) == 0)
            rc = lp_db_commit(req->db);
        else
            lp_db_rollback(req->db);
    }
    lp_project_free(p);
    if (rc < 0) {
        lp_buf_fini(&b.out);
        return lp_reply_rc(req, rc, "tasks");
    }
    lp_buf body = {0};
    lp_buf_printf(&body, "{\"created\":%zu,\"duplicates\":%zu,\"invalid\":%zu,\"rows\":%s]}",
                  b.created, b.duplicates, b.invalid, b.out.data);
    lp_buf_fini(&b.out);
    return lp_reply_buf(req, 200, "application/json", &body);
}

/* Reads the RFC 3339 time filters into f; answers 400 on a bad one. */
static int time_args(lp_req *req, lp_task_filter *f)
{
    for (int k = 0; k < LP_TIME_FILTERS; k++) {
        const char *name = lp_time_filter_names[k], *v = lp_req_arg(req, name);
        if (!v) continue;
        if (lp_time_parse(v, &f->time[k]) < 0) {
            lp_reply_error(req, 400, "invalid_request", name,
                           "%s: \"%s\" is not an RFC 3339 time (2026-01-31T12:00:00Z)", name, v);
            return LP_EINVAL;
        }
        f->time_set |= 1u << k;
    }
    return 0;
}

int lp_api_tasks_list(lp_req *req)
{
    lp_task_filter f = {0};
    int64_t v;
    if (req->params[0]) {
        if (lp_req_id(req, 0, &f.project_id)) return 0;
    } else {
        const char *p = lp_req_arg(req, "project_id");
        if (!p || lp_parse_int64(p, &f.project_id) < 0 || f.project_id <= 0)
            return lp_reply_error(req, 400, "invalid_request", "project_id",
                                  "project_id: required, the id of the project to list");
    }
    if (lp_api_require(req, f.project_id, LP_ROLE_REVIEWER, NULL)) return 0;
    const char *b = lp_req_arg(req, "batch_id");
    if (b && (lp_parse_int64(b, &v) < 0 || v <= 0))
        return lp_reply_error(req, 400, "invalid_request", "batch_id",
                              "batch_id: must be a batch id");
    f.batch_id = b ? v : 0;
    f.status = lp_req_arg(req, "status");
    if (f.status && !lp_task_status_valid(f.status))
        return lp_reply_error(req, 400, "invalid_request", "status",
                              "status: \"%s\" is not a task "
                              "status (pending, in_progress, review, completed, canceled)",
                              f.status);
    f.unique_id = lp_req_arg(req, "unique_id");
    f.tag = lp_req_arg(req, "tag");
    if (time_args(req, &f) || lp_api_page(req, 100, 1000, &f.limit, &f.after_id)) return 0;
    lp_buf out = {0};
    int64_t next = 0;
    lp_buf_puts(&out, "{\"items\":");
    int rc = lp_task_list(req->db, &f, &out, &next);
    if (rc < 0) {
        lp_buf_fini(&out);
        return lp_reply_rc(req, rc, "tasks");
    }
    char tok[32];
    lp_api_token(next, tok);
    if (next)
        lp_buf_printf(&out, ",\"next_token\":\"%s\"}", tok);
    else
        lp_buf_puts(&out, ",\"next_token\":null}");
    return lp_reply_buf(req, 200, "application/json", &out);
}

/* Loads task {0} and checks the caller's role in its project. */
static int task_for(lp_req *req, int min_role, int64_t *id, json_t **out)
{
    int64_t pid;
    if (lp_req_id(req, 0, id)) return LP_ENOTFOUND;
    json_t *t;
    int rc = lp_task_get(req->db, *id, &pid, &t);
    if (rc < 0)
        return lp_reply_rc(req, rc, lp_arena_sprintf(&req->arena, "task %lld", (long long)*id)), rc;
    if (lp_api_require_for(req, pid, min_role, "task", *id)) {
        json_decref(t);
        return LP_EPERM;
    }
    if (out)
        *out = t;
    else
        json_decref(t);
    return 0;
}

int lp_api_task_get(lp_req *req)
{
    /* The hot read: the stored JSON goes out as text, never parsed. */
    int64_t id, pid;
    if (lp_req_id(req, 0, &id)) return 0;
    lp_buf out = {0};
    int rc = lp_task_text(req->db, id, &pid, &out);
    if (rc == 0 && lp_api_require_for(req, pid, LP_ROLE_REVIEWER, "task", id))
        rc = LP_EPERM;
    else if (rc < 0)
        lp_reply_rc(req, rc, lp_arena_sprintf(&req->arena, "task %lld", (long long)id));
    if (rc < 0) {
        lp_buf_fini(&out);
        return 0;
    }
    return lp_reply_buf(req, 200, "application/json", &out);
}

int lp_api_task_cancel(lp_req *req)
{
    int64_t id;
    if (task_for(req, LP_ROLE_MANAGER, &id, NULL)) return 0;
    static const char *const refuse[] = {"completed", "canceled", NULL};
    const char *from = NULL;
    int rc = lp_task_set_status(req->db, id, "canceled", refuse, &from);
    if (rc == LP_ECONFLICT)
        return lp_reply_error(req, 409, "conflict", "status",
                              "the task is %s and cannot be canceled", from);
    if (rc < 0) return lp_reply_rc(req, rc, "task");
    return reply_task(req, id, 200);
}

int lp_api_task_metadata(lp_req *req)
{
    int64_t id;
    if (task_for(req, LP_ROLE_MANAGER, &id, NULL)) return 0;
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    int rc = lp_task_set_metadata(req->db, id, b);
    json_decref(b);
    if (rc < 0) return lp_reply_rc(req, rc, "task");
    return reply_task(req, id, 200);
}

int lp_api_task_tags_add(lp_req *req)
{
    int64_t id;
    if (task_for(req, LP_ROLE_MANAGER, &id, NULL)) return 0;
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    lp_verr e;
    const json_t *tags;
    int rc = lp_v_array(b, "tags", "", 1, 1, 50, &tags, &e);
    if (rc == 0) rc = lp_task_tags(req->db, id, tags, 1, &e);
    json_decref(b);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc < 0) return lp_reply_rc(req, rc, "task");
    return reply_task(req, id, 200);
}

int lp_api_task_tag_delete(lp_req *req)
{
    int64_t id;
    if (task_for(req, LP_ROLE_MANAGER, &id, NULL)) return 0;
    json_t *tags = json_pack("[s]", req->params[1]);
    lp_verr e;
    int rc = lp_task_tags(req->db, id, tags, 0, &e);
    json_decref(tags);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc < 0) return lp_reply_rc(req, rc, "task");
    return reply_task(req, id, 200);
}
