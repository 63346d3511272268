/* audit.c -- see audit.h. */
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "config.h"
#include "server.h"

/* s as valid UTF-8 of at most max bytes, in the arena (lp_utf8_clean):
 * the database refuses invalid UTF-8 (PostgreSQL), and JSON cannot carry
 * it. */
static const char *utf8_cut(lp_req *req, const char *s, size_t max)
{
    lp_buf b = {0};
    lp_utf8_clean(s, max, &b);
    const char *out = lp_arena_strdup(&req->arena, b.data ? b.data : "");
    lp_buf_fini(&b);
    return out;
}

/* The names of a small JSON object body's top-level fields, as a JSON
 * array text in the arena, or NULL: what a PATCH touched, without a value
 * (a password, a key) that must not reach the log. */
static const char *field_names(lp_req *req)
{
    if (!req->body.len || req->body.len > 65536) return NULL;
    size_t n = 0;
    json_t *b = json_loadb(req->body.data, req->body.len, JSON_DISABLE_EOF_CHECK, NULL);
    if (!json_is_object(b)) {
        json_decref(b);
        return NULL;
    }
    json_t *names = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(b, k, v)
    {
        (void)v;
        if (n++ == 32) { /* a body's names, not a place to store data */
            json_array_append_new(names, json_string("..."));
            break;
        }
        json_array_append_new(names, json_string(utf8_cut(req, k, 64)));
    }
    json_decref(b);
    json_t *d = json_pack("{s:o}", "fields", names);
    char *s = json_dumps(d, LP_JSON_DUMP);
    json_decref(d);
    const char *out = s ? lp_arena_strdup(&req->arena, s) : NULL;
    free(s);
    return out;
}

/* Whether the request is worth a row: anything a known caller did; of an
 * anonymous caller (who reached a public route: sessions) only what its
 * handler wants said (a failed login), and not a refusal of the login
 * throttle -- so that no one can grow the log without an account at more
 * than the throttle's pace. */
static int wanted(const lp_req *req)
{
    if (req->status == 429) return 0;
    return req->who.user_id || req->audit_detail;
}

int lp_audit_record(lp_req *req, int in_tx)
{
    if (!wanted(req)) return 0;
    if (!in_tx) {
        int rc = lp_db_begin(req->db, LP_TX_WRITE);
        if (rc == 0) rc = lp_audit_record(req, 1);
        if (rc == 0) return lp_db_commit(req->db);
        lp_db_rollback(req->db);
        return rc;
    }
    char addr[64];
    lp_req_peer(req, (int)req->srv->cfg->behind_proxy, addr, sizeof addr);
    const char *detail = req->audit_detail;
    unsigned f = req->route ? req->route->flags : 0;
    /* The annotator's routes' bodies are annotations, which the database
     * keeps anyway: their field names would say nothing and cost a parse
     * on the hottest path. */
    if (!detail && !(f & (LP_ROUTE_TX | LP_ROUTE_STREAM | LP_ROUTE_BULK))) detail = field_names(req);
    lp_stmt *st;
    int rc = lp_db_prepare(req->db,
                           "INSERT INTO audit_log (at, user_id, key_id, address, method, route, "
                           "path, project_id, object_id, status, detail) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           &st);
    if (rc < 0) return rc;
    int64_t ids[4] = {req->who.user_id, req->who.key_id, req->project_id, req->reply_id};
    /* an id only for a POST that made something (201) */
    if (req->status != 201) ids[3] = 0;
    lp_stmt_bind_int64(st, 1, lp_now_ms());
    for (int i = 0; i < 2; i++) {
        if (ids[i])
            lp_stmt_bind_int64(st, 2 + i, ids[i]);
        else
            lp_stmt_bind_null(st, 2 + i);
    }
    lp_stmt_bind_text(st, 4, utf8_cut(req, addr, sizeof addr));
    lp_stmt_bind_text(st, 5, req->method);
    lp_stmt_bind_text(st, 6, req->route ? req->route->pattern : "");
    lp_stmt_bind_text(st, 7, utf8_cut(req, req->path, 2048));
    for (int i = 2; i < 4; i++) {
        if (ids[i])
            lp_stmt_bind_int64(st, 6 + i, ids[i]);
        else
            lp_stmt_bind_null(st, 6 + i);
    }
    lp_stmt_bind_int64(st, 10, req->status);
    if (detail)
        lp_stmt_bind_text(st, 11, detail);
    else
        lp_stmt_bind_null(st, 11);
    rc = lp_stmt_step(st);
    lp_stmt_done(st);
    return rc < 0 ? rc : 0;
}

static json_t *id_or_null(lp_stmt *st, int col)
{
    return lp_stmt_is_null(st, col) ? json_null() : json_integer(lp_stmt_int64(st, col));
}

/* A filter argument that must be a positive id: 0 when absent, -1 after
 * answering 400. */
static int64_t id_arg(lp_req *req, const char *name)
{
    const char *s = lp_req_arg(req, name);
    int64_t v = 0;
    if (!s) return 0;
    if (lp_parse_int64(s, &v) < 0 || v < 1) {
        lp_reply_error(req, 400, "invalid_request", name, "%s: must be a positive id", name);
        return -1;
    }
    return v;
}

static int time_arg(lp_req *req, const char *name, int64_t *out)
{
    const char *s = lp_req_arg(req, name);
    if (!s) return 0;
    if (lp_time_parse(s, out) < 0) {
        lp_reply_error(req, 400, "invalid_request", name,
                       "%s: \"%s\" is not an RFC 3339 time (2026-01-31T12:00:00Z)", name, s);
        return LP_EINVAL;
    }
    return 0;
}

/* Lists the log newest first, for one project (project_id > 0) or, with
 * project_id 0, filtered by the query's project_id. */
static int list(lp_req *req, int64_t project_id)
{
    int limit;
    int64_t after, since = 0, until = 0;
    if (lp_api_page(req, 100, 1000, &limit, &after)) return 0;
    int64_t user = id_arg(req, "user_id");
    if (user < 0) return 0;
    if (!project_id && (project_id = id_arg(req, "project_id")) < 0) return 0;
    if (time_arg(req, "since", &since) || time_arg(req, "until", &until)) return 0;
    const char *method = lp_req_arg(req, "method"), *route = lp_req_arg(req, "route");
    if (method && strcmp(method, "POST") && strcmp(method, "PUT") && strcmp(method, "PATCH") &&
        strcmp(method, "DELETE"))
        return lp_reply_error(req, 400, "invalid_request", "method",
                              "method: \"%s\" is not a method that changes something (POST, PUT, "
                              "PATCH, DELETE)",
                              method);
    const char *status = lp_req_arg(req, "status");
    int64_t lo = 0, hi = 0;
    if (status) {
        if (!strcmp(status, "ok"))
            lo = 100, hi = 399;
        else if (!strcmp(status, "refused"))
            lo = 400, hi = 499;
        else if (!strcmp(status, "failed"))
            lo = 500, hi = 599;
        else if (lp_parse_int64(status, &lo) == 0 && lo >= 100 && lo <= 599)
            hi = lo;
        else
            return lp_reply_error(req, 400, "invalid_request", "status",
                                  "status: \"%s\" is not ok, refused, failed or an HTTP status",
                                  status);
    }
    char sql[1024];
    size_t n = (size_t)snprintf(
        sql, sizeof sql,
        "SELECT a.id, a.at, a.user_id, u.email, a.key_id, a.address, a.method, a.route, a.path, "
        "a.project_id, a.object_id, a.status, a.detail FROM audit_log a LEFT JOIN users u ON "
        "u.id = a.user_id WHERE 1 = 1");
#define COND(on, text) \
    if (on) n += (size_t)snprintf(sql + n, sizeof sql - n, " AND %s", text)
    COND(after, "a.id < ?");
    COND(project_id, "a.project_id = ?");
    COND(user, "a.user_id = ?");
    COND(since, "a.at >= ?");
    COND(until, "a.at < ?");
    COND(method, "a.method = ?");
    COND(route, "a.route = ?");
    COND(status, "a.status BETWEEN ? AND ?");
#undef COND
    snprintf(sql + n, sizeof sql - n, " ORDER BY a.id DESC LIMIT ?");
    lp_stmt *st;
    int rc = lp_db_prepare(req->db, sql, &st);
    if (rc < 0) return lp_reply_rc(req, rc, "audit log");
    int i = 1;
    if (after) lp_stmt_bind_int64(st, i++, after);
    if (project_id) lp_stmt_bind_int64(st, i++, project_id);
    if (user) lp_stmt_bind_int64(st, i++, user);
    if (since) lp_stmt_bind_int64(st, i++, since);
    if (until) lp_stmt_bind_int64(st, i++, until);
    if (method) lp_stmt_bind_text(st, i++, method);
    if (route) lp_stmt_bind_text(st, i++, route);
    if (status) {
        lp_stmt_bind_int64(st, i++, lo);
        lp_stmt_bind_int64(st, i++, hi);
    }
    lp_stmt_bind_int64(st, i++, limit + 1);
    json_t *items = json_array();
    int64_t last = 0;
    int count = 0;
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        if (count++ == limit) break; /* one more row: there is a next page */
        last = lp_stmt_int64(st, 0);
        json_t *detail = lp_stmt_is_null(st, 12)
                             ? json_null()
                             : json_loads(lp_stmt_text(st, 12), JSON_DECODE_ANY, NULL);
        json_t *user_o =
            lp_stmt_is_null(st, 2)
                ? json_null()
                : json_pack("{s:I, s:o}", "id", (json_int_t)lp_stmt_int64(st, 2), "email",
                            lp_stmt_is_null(st, 3) ? json_null() : json_string(lp_stmt_text(st, 3)));
        json_array_append_new(
            items,
            json_pack("{s:I, s:o, s:o, s:o, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:o}", "id",
                      (json_int_t)last, "at", lp_json_time(lp_stmt_int64(st, 1)), "user", user_o,
                      "key_id", id_or_null(st, 4), "address", lp_stmt_text(st, 5), "method",
                      lp_stmt_text(st, 6), "route", lp_stmt_text(st, 7), "path",
                      lp_stmt_text(st, 8), "project_id", id_or_null(st, 9), "object_id",
                      id_or_null(st, 10), "status", (json_int_t)lp_stmt_int64(st, 11), "detail",
                      detail ? detail : json_null()));
    }
    lp_stmt_done(st);
    if (rc < 0) {
        json_decref(items);
        return lp_reply_rc(req, rc, "audit log");
    }
    return lp_api_reply_page(req, items, count > limit ? last : 0);
}

int lp_api_audit(lp_req *req)
{
    return list(req, 0);
}

int lp_api_project_audit(lp_req *req)
{
    int64_t pid;
    if (lp_req_id(req, 0, &pid) || lp_api_require(req, pid, LP_ROLE_MANAGER, NULL)) return 0;
    return list(req, pid);
}
