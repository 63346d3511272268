/* api.c -- the route table and what every handler shares: who is calling,
 * what they may do in a project, and cursor paging.
 *
 * Routes are tried in order; the first whose method and pattern match
 * wins.  Per-project roles are checked by each handler with
 * lp_api_require(), because only the handler knows which project a task or
 * batch id belongs to. */
#include "api.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "auth.h"
#include "config.h"
#include "server.h"

const lp_route lp_api_routes[] = {
    {"GET", "/", lp_api_ui_index, LP_ROUTE_PUBLIC, NULL},
    {"GET", "/ui/{}", lp_api_ui_file, LP_ROUTE_PUBLIC, NULL},
    {"GET", "/healthz", lp_api_healthz, LP_ROUTE_PUBLIC, NULL},
    {"GET", "/metrics", lp_api_metrics, LP_ROUTE_ADMIN | LP_ROUTE_READ | LP_ROUTE_ACCOUNT, NULL},
    {"GET", "/v1/kinds", lp_api_kinds, LP_ROUTE_READ, NULL},
    {"POST", "/v1/sessions", lp_api_session_create, LP_ROUTE_PUBLIC, NULL},
    {"DELETE", "/v1/sessions", lp_api_session_delete, LP_ROUTE_PUBLIC, NULL},
    {"GET", "/v1/me", lp_api_me, LP_ROUTE_READ, NULL},
    {"GET", "/v1/users", lp_api_users_list, LP_ROUTE_ADMIN | LP_ROUTE_READ | LP_ROUTE_ACCOUNT,
     NULL},
    {"POST", "/v1/users", lp_api_users_create, LP_ROUTE_ADMIN | LP_ROUTE_ACCOUNT, NULL},
    {"GET", "/v1/users/{}", lp_api_user_get, LP_ROUTE_READ | LP_ROUTE_ACCOUNT, NULL},
    {"PATCH", "/v1/users/{}", lp_api_user_update, LP_ROUTE_ACCOUNT, NULL},
    {"GET", "/v1/keys", lp_api_keys_list, LP_ROUTE_READ | LP_ROUTE_ACCOUNT, NULL},
    {"POST", "/v1/keys", lp_api_keys_create, LP_ROUTE_ACCOUNT, NULL},
    {"DELETE", "/v1/keys/{}", lp_api_key_revoke, LP_ROUTE_ACCOUNT, NULL},
    {"POST", "/v1/projects", lp_api_projects_create, LP_ROUTE_ACCOUNT, NULL},
    {"GET", "/v1/projects", lp_api_projects_list, LP_ROUTE_READ, NULL},
    {"GET", "/v1/projects/{}", lp_api_project_get, LP_ROUTE_READ, NULL},
    {"PATCH", "/v1/projects/{}", lp_api_project_update, 0, NULL},
    {"GET", "/v1/projects/{}/stats", lp_api_project_stats, LP_ROUTE_READ, NULL},
    {"GET", "/v1/projects/{}/members", lp_api_members_list, LP_ROUTE_READ, NULL},
    {"PUT", "/v1/projects/{}/members/{}", lp_api_member_put, 0, NULL},
    {"DELETE", "/v1/projects/{}/members/{}", lp_api_member_delete, 0, NULL},
    {"POST", "/v1/projects/{}/batches", lp_api_batches_create, 0, NULL},
    {"GET", "/v1/projects/{}/batches", lp_api_batches_list, LP_ROUTE_READ, NULL},
    {"POST", "/v1/projects/{}/tasks", lp_api_tasks_bulk, LP_ROUTE_BULK, NULL},
    {"GET", "/v1/projects/{}/tasks", lp_api_tasks_list, LP_ROUTE_READ, NULL},
    {"GET", "/v1/projects/{}/predictions/stats", lp_api_predictions_stats, LP_ROUTE_READ, NULL},
    {"GET", "/v1/projects/{}/export", lp_api_export, LP_ROUTE_READ, NULL},
    {"GET", "/v1/batches/{}", lp_api_batch_get, LP_ROUTE_READ, NULL},
    {"POST", "/v1/batches/{}/finalize", lp_api_batch_finalize, 0, NULL},
    {"POST", "/v1/tasks", lp_api_task_create, 0, NULL},
    {"GET", "/v1/tasks", lp_api_tasks_list, LP_ROUTE_READ, NULL},
    {"GET", "/v1/tasks/{}", lp_api_task_get, LP_ROUTE_READ, NULL},
    {"POST", "/v1/tasks/{}/cancel", lp_api_task_cancel, 0, NULL},
    {"PUT", "/v1/tasks/{}/metadata", lp_api_task_metadata, 0, NULL},
    {"POST", "/v1/tasks/{}/tags", lp_api_task_tags_add, 0, NULL},
    {"DELETE", "/v1/tasks/{}/tags/{}", lp_api_task_tag_delete, 0, NULL},
    {"GET", "/v1/projects/{}/queue/next", lp_api_queue_next, LP_ROUTE_TX,
     NULL}, /* leases: writes */
    {"GET", "/v1/assignments/{}", lp_api_assignment_get, LP_ROUTE_READ, NULL},
    {"POST", "/v1/assignments/{}/heartbeat", lp_api_assignment_heartbeat, LP_ROUTE_TX, NULL},
    {"POST", "/v1/assignments/{}/skip", lp_api_assignment_skip, LP_ROUTE_TX, NULL},
    {"POST", "/v1/assignments/{}/release", lp_api_assignment_release, LP_ROUTE_TX, NULL},
    {"PUT", "/v1/assignments/{}/draft", lp_api_assignment_draft, LP_ROUTE_TX, NULL},
    {"POST", "/v1/assignments/{}/submit", lp_api_assignment_submit, LP_ROUTE_TX, NULL},
    /* (no transaction: it only reads, then a producer thread calls the model) */
    {"POST", "/v1/assignments/{}/chat", lp_api_assignment_chat, 0, NULL},
    {"GET", "/v1/tasks/{}/annotations", lp_api_task_annotations, LP_ROUTE_READ, NULL},
    {"GET", "/v1/projects/{}/reviews/next", lp_api_review_next, LP_ROUTE_TX,
     NULL}, /* leases: writes */
    {"POST", "/v1/assignments/{}/review", lp_api_assignment_review, LP_ROUTE_TX, NULL},
    {"POST", "/v1/tasks/{}/audit", lp_api_task_audit, LP_ROUTE_TX, NULL},
    {"GET", "/v1/tasks/{}/versions", lp_api_task_versions, LP_ROUTE_READ, NULL},
    {"GET", "/v1/projects/{}/workers", lp_api_workers, LP_ROUTE_READ, NULL},
    {"POST", "/v1/projects/{}/workers/{}/pause", lp_api_worker_pause, 0, NULL},
    {"POST", "/v1/projects/{}/workers/{}/reinstate", lp_api_worker_reinstate, 0, NULL},
    {"GET", "/v1/projects/{}/quality", lp_api_quality, LP_ROUTE_READ, NULL},
    {"POST", "/v1/projects/{}/aggregate", lp_api_aggregate, 0, NULL},
    /* (a project-scoped key: its project's subscriptions only, api_hooks.c) */
    {"POST", "/v1/webhooks", lp_api_webhooks_create, 0, NULL},
    {"GET", "/v1/webhooks", lp_api_webhooks_list, LP_ROUTE_READ, NULL},
    {"DELETE", "/v1/webhooks/{}", lp_api_webhook_delete, 0, NULL},
    {"GET", "/v1/projects/{}/callback_secret", lp_api_callback_secret, 0, NULL},
    {"GET", "/v1/projects/{}/deliveries", lp_api_deliveries_list, LP_ROUTE_READ, NULL},
    {"GET", "/v1/deliveries/{}", lp_api_delivery_get, LP_ROUTE_READ, NULL},
    {"POST", "/v1/deliveries/{}/redeliver", lp_api_delivery_redeliver, 0, NULL},
    {"GET", "/v1/audit", lp_api_audit, LP_ROUTE_ADMIN | LP_ROUTE_READ | LP_ROUTE_ACCOUNT, NULL},
    {"GET", "/v1/projects/{}/audit", lp_api_project_audit, LP_ROUTE_READ, NULL},
    {"POST", "/v1/files", lp_api_file_upload, LP_ROUTE_STREAM, lp_api_file_chunk},
    {"GET", "/v1/files/{}", lp_api_file_get, LP_ROUTE_READ, NULL},
    {"GET", "/v1/files/{}/points", lp_api_file_points, LP_ROUTE_READ, NULL},
    {"POST", "/v1/projects/{}/predictions", lp_api_predictions_add, 0, NULL},
    {"GET", "/v1/projects/{}/ml-backend", lp_api_ml_get, LP_ROUTE_READ, NULL},
    {"PUT", "/v1/projects/{}/ml-backend", lp_api_ml_put, 0, NULL},
    {"DELETE", "/v1/projects/{}/ml-backend", lp_api_ml_delete, 0, NULL},
    {"POST", "/v1/projects/{}/ml-backend/predict", lp_api_ml_predict, 0, NULL},
    {"GET", "/v1/projects/{}/autolabel", lp_api_autolabel, LP_ROUTE_READ, NULL},
    {"GET", "/v1/projects/{}/redteam-report", lp_api_redteam_report, LP_ROUTE_READ, NULL},
    {"POST", "/v1/model-endpoints", lp_api_endpoints_create, LP_ROUTE_ADMIN | LP_ROUTE_ACCOUNT,
     NULL},
    {"GET", "/v1/model-endpoints", lp_api_endpoints_list, LP_ROUTE_READ | LP_ROUTE_ACCOUNT, NULL},
    {"GET", "/v1/model-endpoints/{}", lp_api_endpoint_get, LP_ROUTE_READ | LP_ROUTE_ACCOUNT, NULL},
    {"PATCH", "/v1/model-endpoints/{}", lp_api_endpoint_update, LP_ROUTE_ADMIN | LP_ROUTE_ACCOUNT,
     NULL},
    {"DELETE", "/v1/model-endpoints/{}", lp_api_endpoint_delete,
     LP_ROUTE_ADMIN | LP_ROUTE_ACCOUNT, NULL},
    {"POST", "/v1/prompt-sets", lp_api_psets_create, LP_ROUTE_ACCOUNT, NULL},
    {"GET", "/v1/prompt-sets", lp_api_psets_list, LP_ROUTE_READ | LP_ROUTE_ACCOUNT, NULL},
    {"GET", "/v1/prompt-sets/{}", lp_api_pset_get, LP_ROUTE_READ | LP_ROUTE_ACCOUNT, NULL},
    {"POST", "/v1/prompt-sets/{}/prompts", lp_api_pset_add, LP_ROUTE_BULK | LP_ROUTE_ACCOUNT,
     NULL},
    {"GET", "/v1/prompt-sets/{}/prompts", lp_api_pset_prompts, LP_ROUTE_READ | LP_ROUTE_ACCOUNT,
     NULL},
    {"POST", "/v1/generations", lp_api_gens_create, LP_ROUTE_ACCOUNT, NULL},
    {"GET", "/v1/generations", lp_api_gens_list, LP_ROUTE_READ | LP_ROUTE_ACCOUNT, NULL},
    {"GET", "/v1/generations/{}", lp_api_gen_get, LP_ROUTE_READ | LP_ROUTE_ACCOUNT, NULL},
    {"GET", "/v1/generations/{}/outputs", lp_api_gen_outputs, LP_ROUTE_READ | LP_ROUTE_ACCOUNT,
     NULL},
    {"POST", "/v1/generations/{}/cancel", lp_api_gen_cancel, LP_ROUTE_ACCOUNT, NULL},
    {"POST", "/v1/generations/{}/retry", lp_api_gen_retry, LP_ROUTE_ACCOUNT, NULL},
    {"POST", "/v1/projects/{}/generation-tasks", lp_api_gen_tasks, 0, NULL},
    {"GET", "/v1/projects/{}/leaderboard", lp_api_leaderboard, LP_ROUTE_READ, NULL},
    {"GET", "/v1/projects/{}/draft-report", lp_api_draft_report, LP_ROUTE_READ, NULL},
    {"GET", "/v1/tasks/{}/chat-turns", lp_api_task_chat_turns, LP_ROUTE_READ, NULL},
};
const size_t lp_api_nroutes = LP_ARRAY_LEN(lp_api_routes);

/* A 401.  The Basic challenge makes browsers ask for a password in a
 * dialog, even for a script's fetch (Firefox does, and waits for it), so a
 * request that says it comes from a script (X-Requested-With, as the UI's
 * every call does) is offered Bearer only. */
static int unauthorized(lp_req *req, const char *msg)
{
    lp_reply_error(req, 401, "unauthorized", NULL, "%s", msg);
    lp_reply_header(req, "WWW-Authenticate",
                    lp_req_header(req, "X-Requested-With")
                        ? "Bearer realm=\"loupe\""
                        : "Bearer realm=\"loupe\", Basic realm=\"loupe\"");
    return LP_EAUTH;
}

static int disabled(lp_req *req)
{
    lp_reply_error(req, 403, "forbidden", NULL, "this account is disabled; ask an admin");
    return LP_EPERM;
}

/* Extracts the key from "Basic base64(key:)" into out. */
static int basic_key(const char *b64, char *out, size_t n)
{
    unsigned char raw[256];
    size_t len = 0;
    if (sodium_base642bin(raw, sizeof raw - 1, b64, strlen(b64), " ", &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return LP_EAUTH;
    raw[len] = '\0';
    char *colon = strchr((char *)raw, ':');
    if (colon) *colon = '\0';
    if (strlen((char *)raw) >= n) return LP_EAUTH;
    snprintf(out, n, "%s", (char *)raw);
    return 0;
}

/* A cookie-authenticated write must carry the session's CSRF token (given
 * by POST /v1/sessions and GET /v1/me) in X-CSRF-Token: another site can
 * make a browser send the cookie, but cannot read the token. */
static int check_csrf(lp_req *req, const char *session_token)
{
    char want[LP_TOKEN_MAX];
    lp_auth_csrf(session_token, want);
    const char *got = lp_req_header(req, "X-CSRF-Token");
    if (got && strlen(got) == strlen(want) && sodium_memcmp(got, want, strlen(want)) == 0) return 0;
    lp_reply_error(req, 403, "forbidden", "X-CSRF-Token",
                   got ? "X-CSRF-Token: is not this session's token; get it again from GET /v1/me"
                       : "X-CSRF-Token: a request made with the session cookie needs this header "
                         "(the csrf_token of POST /v1/sessions or GET /v1/me)");
    return LP_EPERM;
}

/* Refuses (403) a route the caller's API key is not scoped for: a change
 * with a read-only key, an account or organisation route with a
 * project-scoped one.  Projects other than a key's answer 404, as for a
 * non-member, in require() and the handlers that load their own project. */
static int out_of_scope(lp_req *req)
{
    unsigned f = req->route->flags;
    if (req->who.read_only && !(f & LP_ROUTE_READ)) {
        lp_reply_error(req, 403, "forbidden", "scope",
                       "this API key has the read scope: %s %s changes something (make a key "
                       "with the full scope for it)",
                       req->method, req->route->pattern);
        return LP_EPERM;
    }
    if (req->who.project && (f & (LP_ROUTE_ACCOUNT | LP_ROUTE_ADMIN))) {
        lp_reply_error(req, 403, "forbidden", "project_id",
                       "this API key is scoped to project %lld: %s %s is not a route of a "
                       "project",
                       (long long)req->who.project, req->method, req->route->pattern);
        return LP_EPERM;
    }
    return 0;
}

int lp_api_authenticate(lp_req *req)
{
    lp_user u;
    int rc;
    /* The counters say how busy the server is and how many logins fail:
     * an admin's, unless the admin chose to publish them. */
    if (req->route->handler == lp_api_metrics && req->srv->cfg->public_metrics) return 0;
    const char *h = lp_req_header(req, "Authorization");
    if (h) {
        char key[LP_TOKEN_MAX] = "";
        if (strncasecmp(h, "Bearer ", 7) == 0) {
            snprintf(key, sizeof key, "%s", h + 7);
        } else if (strncasecmp(h, "Token ", 6) == 0) {
            /* Label Studio's scheme: an ML backend written for it fetches
             * a task's media with "Token KEY" (LABEL_STUDIO_API_KEY). */
            snprintf(key, sizeof key, "%s", h + 6);
        } else if (strncasecmp(h, "Basic ", 6) == 0) {
            if (basic_key(h + 6, key, sizeof key) < 0)
                return unauthorized(req, "the Basic credentials are malformed");
        } else {
            return unauthorized(req, "the Authorization header must be \"Bearer KEY\", \"Token KEY\" or Basic");
        }
        lp_key_scope scope;
        rc = lp_key_resolve(req->db, key, &u, &scope);
        if (rc == LP_EAUTH) return unauthorized(req, "the API key is not valid or was revoked");
        if (rc == LP_EPERM) return disabled(req);
        if (rc < 0) return lp_reply_rc(req, rc, "key"), rc;
        req->who.read_only = scope.read_only;
        req->who.project = scope.project_id;
        req->who.key_id = scope.key_id;
    } else {
        const char *tok = lp_req_cookie(req, "loupe_session");
        if (!tok) return unauthorized(req, "send an API key (Authorization: Bearer KEY) or log in");
        lp_session_life life = lp_api_session_life(req);
        rc = lp_session_resolve(req->db, tok, &life, &u, &req->who.session_id,
                                &req->who.session_until);
        if (rc == LP_EAUTH) return unauthorized(req, "the session has expired; log in again");
        if (rc == LP_EPERM) return disabled(req);
        if (rc < 0) return lp_reply_rc(req, rc, "session"), rc;
        /* Cookies ride along on cross-site requests; refuse unsafe ones
         * whose Origin is not this server (SameSite=Strict does the rest). */
        const char *origin = lp_req_header(req, "Origin"), *host = lp_req_header(req, "Host");
        if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD") && origin && host) {
            const char *o = strstr(origin, "://");
            if (!o || strcmp(o + 3, host) != 0) {
                lp_reply_error(req, 403, "forbidden", "Origin", "cross-site request refused");
                return LP_EPERM;
            }
        }
        if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD") && check_csrf(req, tok))
            return LP_EPERM;
        req->who.via_session = 1;
    }
    req->who.user_id = u.id;
    req->who.is_admin = u.is_admin;
    req->who.email = lp_arena_strdup(&req->arena, u.email);
    if ((req->route->flags & LP_ROUTE_ADMIN) && !u.is_admin) {
        lp_reply_error(req, 403, "forbidden", NULL, "only organisation admins may do this");
        return LP_EPERM;
    }
    return out_of_scope(req);
}

void lp_api_after(lp_req *req)
{
    if (!req->who.session_until || !req->db) return;
    /* (a failed write only means the deadline moves on at the next request) */
    int rc = lp_session_touch(req->db, req->who.session_id, req->who.session_until);
    if (rc < 0)
        lp_log(LP_LOG_WARN, "%s %s: the session's idle deadline was not moved on: %s", req->method,
               req->path, lp_strerror(rc));
    req->who.session_until = 0;
}

lp_session_life lp_api_session_life(const lp_req *req)
{
    const lp_config *c = req->srv->cfg;
    return (lp_session_life){c->session_seconds * 1000, c->session_idle_seconds * 1000};
}

int64_t lp_api_file_reader(const lp_req *req)
{
    return req->who.is_admin && !req->who.project ? 0 : req->who.user_id;
}

int lp_api_in_scope(const lp_req *req, int64_t project_id)
{
    return !req->who.project || req->who.project == project_id;
}

static int require(lp_req *req, int64_t project_id, int min_role, int *role, const char *what,
                   int64_t what_id)
{
    int r = LP_ROLE_NONE;
    int rc = lp_project_role(req->db, project_id, req->who.user_id, req->who.is_admin, &r);
    if (rc == 0 && !lp_api_in_scope(req, project_id)) r = LP_ROLE_NONE;
    if (rc == LP_ENOTFOUND || (rc == 0 && r == LP_ROLE_NONE)) {
        lp_reply_error(req, 404, "not_found", NULL, "%s %lld not found", what, (long long)what_id);
        return LP_ENOTFOUND;
    }
    if (rc < 0) return lp_reply_rc(req, rc, "project"), rc;
    req->project_id = project_id; /* for the audit log */
    if (role) *role = r;
    if (r < min_role) {
        lp_reply_error(req, 403, "forbidden", NULL,
                       "this needs the %s role in project %lld (you are %s)",
                       lp_role_name(min_role), (long long)project_id, lp_role_name(r));
        return LP_EPERM;
    }
    return 0;
}

int lp_api_require(lp_req *req, int64_t project_id, int min_role, int *role)
{
    return require(req, project_id, min_role, role, "project", project_id);
}

int lp_api_require_for(lp_req *req, int64_t project_id, int min_role, const char *what,
                       int64_t what_id)
{
    return require(req, project_id, min_role, NULL, what, what_id);
}

int lp_api_managed_project(lp_req *req, int64_t project_id, lp_project **p)
{
    if (lp_api_require(req, project_id, LP_ROLE_MANAGER, NULL)) return LP_EPERM;
    int rc = lp_project_get(req->db, project_id, p);
    if (rc < 0) return lp_reply_rc(req, rc, "project"), rc;
    return 0;
}

int lp_api_require_task(lp_req *req, int min_role, int64_t *id, int64_t *project_id)
{
    if (lp_req_id(req, 0, id)) return LP_ENOTFOUND;
    int rc =
        lp_db_int64(req->db, project_id, "SELECT project_id FROM tasks WHERE id = ?", "i", *id);
    if (rc < 0)
        return lp_reply_rc(req, rc, lp_arena_sprintf(&req->arena, "task %lld", (long long)*id)), rc;
    return lp_api_require_for(req, *project_id, min_role, "task", *id);
}

void lp_api_token(int64_t after, char out[32])
{
    out[0] = '\0';
    if (!after) return;
    char raw[24];
    int n = snprintf(raw, sizeof raw, "a%lld", (long long)after);
    sodium_bin2base64(out, 32, (unsigned char *)raw, (size_t)n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int lp_api_page(lp_req *req, int dflt, int max, int *limit, int64_t *after)
{
    *limit = dflt;
    *after = 0;
    const char *l = lp_req_arg(req, "limit");
    int64_t v;
    if (l) {
        if (lp_parse_int64(l, &v) < 0 || v < 1 || v > max) {
            lp_reply_error(req, 400, "invalid_request", "limit", "limit: must be between 1 and %d",
                           max);
            return LP_EINVAL;
        }
        *limit = (int)v;
    }
    const char *t = lp_req_arg(req, "next_token");
    if (t && *t) {
        char raw[24];
        size_t n = 0;
        if (sodium_base642bin((unsigned char *)raw, sizeof raw - 1, t, strlen(t), NULL, &n, NULL,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
            (raw[n] = '\0', raw[0] != 'a') || lp_parse_int64(raw + 1, &v) < 0 || v < 0) {
            lp_reply_error(req, 400, "invalid_request", "next_token",
                           "next_token: not a token this API gave out");
            return LP_EINVAL;
        }
        *after = v;
    }
    return 0;
}

int lp_api_reply_ids(lp_req *req, lp_stmt *st, int limit, lp_api_item_fn item)
{
    /* Ids first, then items: an item may run its own queries, which must
     * not interleave with this statement's rows. */
    int64_t *ids = lp_arena_alloc(&req->arena, sizeof(int64_t) * (size_t)(limit + 1));
    int n = 0, rc = 0;
    while (n <= limit && (rc = lp_stmt_step(st)) == LP_DB_ROW) ids[n++] = lp_stmt_int64(st, 0);
    lp_stmt_done(st);
    if (rc < 0 && n <= limit) return lp_reply_rc(req, rc, "list");
    json_t *items = json_array();
    for (int i = 0; i < n && i < limit; i++) {
        json_t *o = item(req, ids[i]);
        if (o) json_array_append_new(items, o);
    }
    return lp_api_reply_page(req, items, n > limit ? ids[limit - 1] : 0);
}

int lp_api_reply_page(lp_req *req, json_t *items, int64_t next_after)
{
    char tok[32];
    lp_api_token(next_after, tok);
    return lp_reply_json(
        req, 200, json_pack("{s:o, s:s?}", "items", items, "next_token", next_after ? tok : NULL));
}
