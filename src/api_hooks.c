/* api_hooks.c -- webhook subscriptions, the project's callback secret, and
 * the deliveries of the outbox (outbox.h) with their attempts.
 *
 * An organisation admin may subscribe to every project (no project_id); a
 * project's managers to theirs.  Deliveries are visible to, and can be
 * redelivered by, the managers of their project. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "outbound.h"
#include "outbox.h"

static const char *const known_events[] = {"task.completed", "task.audited", "batch.completed",
                                           NULL};

static json_t *hook_json(lp_stmt *st)
{
    return json_pack(
        "{s:I, s:o, s:s, s:s, s:o, s:o}", "id", (json_int_t)lp_stmt_int64(st, 0), "project_id",
        lp_stmt_is_null(st, 1) ? json_null() : json_integer(lp_stmt_int64(st, 1)), "url",
        lp_stmt_text(st, 2), "secret", lp_stmt_text(st, 3), "events",
        !strcmp(lp_stmt_text(st, 4), "*") ? json_string("*") : json_string(lp_stmt_text(st, 4)),
        "created_at", lp_json_time(lp_stmt_int64(st, 5)));
}

#define HOOK_COLS "id, project_id, url, secret, events, created_at"

int lp_api_webhooks_create(lp_req *req)
{
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    static const char *const keys[] = {"url", "project_id", "events", NULL};
    lp_verr e;
    const char *url = NULL;
    long long pid = 0;
    const json_t *events = NULL;
    int rc = 0;
    char why[400];
    if (lp_v_only_keys(b, "", keys, &e) || lp_v_string(b, "url", "", 1, 1, 2048, &url, &e) ||
        lp_v_int(b, "project_id", "", 0, 1, INT64_MAX, &pid, &e) ||
        lp_v_array(b, "events", "", 0, 1, 10, &events, &e))
        rc = LP_EINVAL;
    else if (strncmp(url, "https://", 8) && strncmp(url, "http://", 7))
        rc = lp_verr_set(&e, "url", "must be an http:// or https:// URL");
    else if (lp_outbound_check_url(url, why, sizeof why) < 0)
        rc = lp_verr_set(&e, "url", "%s", why);
    lp_buf ev = {0};
    size_t i;
    const json_t *x;
    json_array_foreach(events, i, x)
    {
        if (rc < 0) break;
        const char *name = json_string_value(x);
        int ok = 0;
        for (const char *const *k = known_events; name && *k && !ok; k++) ok = !strcmp(*k, name);
        char f[64];
        snprintf(f, sizeof f, "events[%zu]", i);
        if (!ok)
            rc = lp_verr_set(&e, f,
                             "%s is not an event (task.completed, task.audited, batch.completed)",
                             name ? name : "a non-string");
        else
            lp_buf_printf(&ev, "%s%s", ev.len ? "," : "", name);
    }
    if (rc < 0) {
        lp_buf_fini(&ev);
        json_decref(b);
        return lp_reply_verr(req, 422, &e);
    }
    /* (a project-scoped key acts in its project only, even an admin's) */
    if (pid ? lp_api_require(req, pid, LP_ROLE_MANAGER, NULL) != 0
            : !req->who.is_admin || req->who.project) {
        if (!pid)
            lp_reply_error(req, 403, "forbidden", "project_id",
                           "only admins may subscribe to every project (with a key of every "
                           "project); give a project_id");
        lp_buf_fini(&ev);
        json_decref(b);
        return 0;
    }
    char secret[LP_SECRET_TEXT];
    lp_webhook_secret_new(secret);
    int64_t id;
    lp_stmt *st;
    rc = lp_db_prepare(
        req->db,
        "INSERT INTO webhooks (project_id, url, secret, events, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        &st);
    if (rc == 0) {
        if (pid)
            lp_stmt_bind_int64(st, 1, pid);
        else
            lp_stmt_bind_null(st, 1);
        lp_stmt_bind_text(st, 2, url);
        lp_stmt_bind_text(st, 3, secret);
        lp_stmt_bind_text(st, 4, ev.len ? ev.data : "*");
        lp_stmt_bind_int64(st, 5, req->who.user_id);
        lp_stmt_bind_int64(st, 6, lp_now_ms());
        rc = lp_stmt_one_int64(st, &id, LP_EDB);
    }
    lp_buf_fini(&ev);
    json_decref(b);
    if (rc < 0) return lp_reply_rc(req, rc, "webhook");
    rc = lp_db_prepare(req->db, "SELECT " HOOK_COLS " FROM webhooks WHERE id = ?", &st);
    if (rc < 0) return lp_reply_rc(req, rc, "webhook");
    lp_stmt_bind_int64(st, 1, id);
    json_t *o = lp_stmt_step(st) == LP_DB_ROW ? hook_json(st) : json_null();
    lp_stmt_done(st);
    return lp_reply_json(req, 201, o);
}

int lp_api_webhooks_list(lp_req *req)
{
    lp_stmt *st;
    /* An admin's every subscription, a manager's their projects', a
     * project-scoped key's its project's. */
#define MANAGED "project_id IN (SELECT project_id FROM project_members WHERE user_id = ? AND role = 'manager')"
    static const char *const sql[] = {
        "SELECT " HOOK_COLS " FROM webhooks WHERE " MANAGED " ORDER BY id",
        "SELECT " HOOK_COLS " FROM webhooks WHERE ? > 0 ORDER BY id",
        "SELECT " HOOK_COLS " FROM webhooks WHERE (" MANAGED " OR ? = 1) AND project_id = ? "
        "ORDER BY id"};
#undef MANAGED
    int which = req->who.project ? 2 : req->who.is_admin ? 1 : 0;
    int rc = lp_db_prepare(req->db, sql[which], &st);
    if (rc < 0) return lp_reply_rc(req, rc, "webhooks");
    lp_stmt_bind_int64(st, 1, req->who.user_id);
    if (which == 2) {
        lp_stmt_bind_int64(st, 2, req->who.is_admin);
        lp_stmt_bind_int64(st, 3, req->who.project);
    }
    json_t *items = json_array();
    while (lp_stmt_step(st) == LP_DB_ROW) json_array_append_new(items, hook_json(st));
    lp_stmt_done(st);
    return lp_reply_json(req, 200, json_pack("{s:o}", "items", items));
}

int lp_api_webhook_delete(lp_req *req)
{
    int64_t id, pid = 0;
    if (lp_req_id(req, 0, &id)) return 0;
    int rc = lp_db_int64(req->db, &pid, "SELECT COALESCE(project_id, 0) FROM webhooks WHERE id = ?",
                         "i", id);
    if (rc < 0)
        return lp_reply_rc(req, rc, lp_arena_sprintf(&req->arena, "webhook %lld", (long long)id));
    if (pid ? lp_api_require_for(req, pid, LP_ROLE_MANAGER, "webhook", id) != 0
            : !req->who.is_admin || req->who.project) {
        if (!pid)
            lp_reply_error(req, 404, "not_found", NULL, "webhook %lld not found", (long long)id);
        return 0;
    }
    rc = lp_db_run(req->db, "DELETE FROM webhooks WHERE id = ?", "i", id);
    if (rc < 0) return lp_reply_rc(req, rc, "webhook");
    return lp_reply_empty(req, 204);
}

int lp_api_callback_secret(lp_req *req)
{
    int64_t pid;
    if (lp_req_id(req, 0, &pid) || lp_api_require(req, pid, LP_ROLE_MANAGER, NULL)) return 0;
    char secret[LP_SECRET_TEXT];
    int rc = lp_project_callback_secret(req->db, pid, secret);
    if (rc < 0) return lp_reply_rc(req, rc, "project");
    return lp_reply_json(req, 200, json_pack("{s:s}", "secret", secret));
}

#define DELIVERY_COLS                                                                              \
    "id, message_id, event, project_id, webhook_id, url, status, attempts, next_at, last_status, " \
    "last_error, created_at, delivered_at, payload"

static json_t *delivery_json(lp_stmt *st)
{
    json_t *payload = json_loads(lp_stmt_text(st, 13), 0, NULL);
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:I, s:o, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
        (json_int_t)lp_stmt_int64(st, 0), "message_id", lp_stmt_text(st, 1), "event",
        lp_stmt_text(st, 2), "project_id", (json_int_t)lp_stmt_int64(st, 3), "webhook_id",
        lp_stmt_is_null(st, 4) ? json_null() : json_integer(lp_stmt_int64(st, 4)), "url",
        lp_stmt_text(st, 5), "status", lp_stmt_text(st, 6), "attempts",
        (json_int_t)lp_stmt_int64(st, 7), "next_at", lp_json_time(lp_stmt_int64(st, 8)),
        "last_status", lp_stmt_is_null(st, 9) ? json_null() : json_integer(lp_stmt_int64(st, 9)),
        "last_error", lp_stmt_is_null(st, 10) ? json_null() : json_string(lp_stmt_text(st, 10)),
        "created_at", lp_json_time(lp_stmt_int64(st, 11)), "delivered_at",
        lp_stmt_is_null(st, 12) ? json_null() : lp_json_time(lp_stmt_int64(st, 12)), "payload",
        payload ? payload : json_null());
    return o;
}

static json_t *delivery_item(lp_req *req, int64_t id)
{
    lp_stmt *st;
    if (lp_db_prepare(req->db, "SELECT " DELIVERY_COLS " FROM deliveries WHERE id = ?", &st) < 0)
        return NULL;
    lp_stmt_bind_int64(st, 1, id);
    json_t *o = lp_stmt_step(st) == LP_DB_ROW ? delivery_json(st) : NULL;
    lp_stmt_done(st);
    return o;
}

int lp_api_deliveries_list(lp_req *req)
{
    int64_t pid;
    if (lp_req_id(req, 0, &pid) || lp_api_require(req, pid, LP_ROLE_MANAGER, NULL)) return 0;
    int limit;
    int64_t after;
    if (lp_api_page(req, 100, 1000, &limit, &after)) return 0;
    const char *status = lp_req_arg(req, "status");
    if (status && strcmp(status, "pending") && strcmp(status, "delivered") &&
        strcmp(status, "failed"))
        return lp_reply_error(
            req, 400, "invalid_request", "status",
            "status: \"%s\" is not a delivery status (pending, delivered, failed)", status);
    lp_stmt *st;
    int rc = lp_db_prepare(req->db,
                           status ? "SELECT id FROM deliveries WHERE project_id = ? AND id > ? AND "
                                    "status = ? ORDER BY id LIMIT ?"
                                  : "SELECT id FROM deliveries WHERE project_id = ? AND id > ? "
                                    "ORDER BY id LIMIT ?",
                           &st);
    if (rc < 0) return lp_reply_rc(req, rc, "deliveries");
    int i = 1;
    lp_stmt_bind_int64(st, i++, pid);
    lp_stmt_bind_int64(st, i++, after);
    if (status) lp_stmt_bind_text(st, i++, status);
    lp_stmt_bind_int64(st, i++, limit + 1);
    return lp_api_reply_ids(req, st, limit, delivery_item);
}

/* Loads delivery {0} for a manager of its project. */
static int delivery_for(lp_req *req, int64_t *id)
{
    int64_t pid;
    if (lp_req_id(req, 0, id)) return LP_ENOTFOUND;
    int rc = lp_db_int64(req->db, &pid, "SELECT project_id FROM deliveries WHERE id = ?", "i", *id);
    if (rc < 0)
        return lp_reply_rc(req, rc, lp_arena_sprintf(&req->arena, "delivery %lld", (long long)*id)),
               rc;
    return lp_api_require_for(req, pid, LP_ROLE_MANAGER, "delivery", *id);
}

int lp_api_delivery_get(lp_req *req)
{
    int64_t id;
    if (delivery_for(req, &id)) return 0;
    json_t *o = delivery_item(req, id);
    lp_stmt *st;
    json_t *attempts = json_array();
    if (lp_db_prepare(req->db,
                      "SELECT at, http_status, error, duration_ms FROM delivery_attempts WHERE "
                      "delivery_id = ? ORDER BY id",
                      &st) == 0) {
        lp_stmt_bind_int64(st, 1, id);
        while (lp_stmt_step(st) == LP_DB_ROW)
            json_array_append_new(
                attempts,
                json_pack("{s:o, s:o, s:o, s:I}", "at", lp_json_time(lp_stmt_int64(st, 0)),
                          "http_status",
                          lp_stmt_is_null(st, 1) ? json_null() : json_integer(lp_stmt_int64(st, 1)),
                          "error",
                          lp_stmt_is_null(st, 2) ? json_null() : json_string(lp_stmt_text(st, 2)),
                          "duration_ms", (json_int_t)lp_stmt_int64(st, 3)));
        lp_stmt_done(st);
    }
    if (!o) {
        json_decref(attempts);
        return lp_reply_rc(req, LP_ENOTFOUND, "delivery");
    }
    json_object_set_new(o, "attempt_log", attempts);
    return lp_reply_json(req, 200, o);
}

int lp_api_delivery_redeliver(lp_req *req)
{
    int64_t id;
    if (delivery_for(req, &id)) return 0;
    /* Sent again with the same webhook-id, so receivers can tell it apart. */
    int rc = lp_db_run(req->db,
                       "UPDATE deliveries SET status = 'pending', next_at = ?, claimed_until = 0, "
                       "created_at = ? WHERE id = ?",
                       "iii", lp_now_ms(), lp_now_ms(), id);
    if (rc < 0) return lp_reply_rc(req, rc, "delivery");
    return lp_reply_json(req, 202, delivery_item(req, id));
}
