/* api_users.c -- login sessions, users, API keys and project members. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "auth.h"

#define LOGIN_WINDOW_MS      (15 * 60 * 1000)
#define LOGIN_MAX_FAILS      10 /* per account */
#define LOGIN_MAX_FAILS_ADDR 50 /* per client address */

static json_t *user_json(const lp_user *u)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:b, s:o}", "id", (json_int_t)u->id, "email", u->email,
                     "name", u->name, "role", u->is_admin ? "admin" : "member", "disabled",
                     u->disabled, "created_at", lp_json_time(u->created_at));
}

/* The login throttle: at most LOGIN_MAX_FAILS failures per account (its
 * email, compared in lower case as the user lookup does) and
 * LOGIN_MAX_FAILS_ADDR per client address in LOGIN_WINDOW_MS from the
 * first.  Accounts and addresses share one table, told apart by
 * by_address.  Expired entries are reused first; only when every slot
 * holds a live entry is the oldest one given up. */
static struct login_fail *fail_slot(lp_server *s, int by_address, const char *name, int create)
{
    char key[256];
    size_t k = 0;
    for (; name[k] && k + 1 < sizeof key; k++) key[k] = (char)tolower((unsigned char)name[k]);
    key[k] = '\0';
    struct login_fail *spare = NULL;
    int64_t now = lp_now_ms();
    for (size_t i = 0; i < LP_ARRAY_LEN(s->login_fails); i++) {
        struct login_fail *f = &s->login_fails[i];
        if (f->count && now - f->first_ms > LOGIN_WINDOW_MS) f->count = 0;
        if (f->count && f->by_address == by_address && strcmp(f->email, key) == 0) return f;
        if (!f->count) {
            if (!spare || spare->count) spare = f; /* a free slot beats any live one */
        } else if (!spare || (spare->count && f->first_ms < spare->first_ms)) {
            spare = f; /* else the oldest live one */
        }
    }
    if (!create) return NULL;
    snprintf(spare->email, sizeof spare->email, "%s", key);
    spare->by_address = by_address;
    spare->first_ms = now;
    spare->count = 0;
    return spare;
}

/* Why a login was throttled: by account or address, and for how long. */
typedef struct throttle {
    int by_address;
    int64_t retry_s;
} throttle;

/* Whether f (or NULL) has reached max failures: if so fills t. */
static int over(const struct login_fail *f, int max, int by_address, throttle *t)
{
    if (!f || f->count < max) return 0;
    t->by_address = by_address;
    t->retry_s = (f->first_ms + LOGIN_WINDOW_MS - lp_now_ms() + 999) / 1000;
    if (t->retry_s < 1) t->retry_s = 1;
    return 1;
}

/* Checks a password guess for the account with this email, under the
 * throttle: 0 if right; LP_EBUSY (t filled) when the account or the
 * caller's address has had too many failures lately; LP_EAUTH when wrong
 * (and counted for both).  u is NULL for an unknown email, which counts
 * like a wrong password. */
static int guess_password(lp_req *req, const char *email, const lp_user *u, const char *password,
                          throttle *t)
{
    lp_server *s = req->srv;
    char addr[64];
    lp_req_peer(req, (int)s->cfg->behind_proxy, addr, sizeof addr);
    pthread_mutex_lock(&s->login_mu);
    int throttled = over(fail_slot(s, 0, email, 0), LOGIN_MAX_FAILS, 0, t) ||
                    (addr[0] && over(fail_slot(s, 1, addr, 0), LOGIN_MAX_FAILS_ADDR, 1, t));
    pthread_mutex_unlock(&s->login_mu);
    if (throttled) return LP_EBUSY;
    if (u && !u->disabled && lp_user_check_password(req->db, u->id, password) == 0) return 0;
    pthread_mutex_lock(&s->login_mu);
    fail_slot(s, 0, email, 1)->count++;
    if (addr[0]) fail_slot(s, 1, addr, 1)->count++;
    pthread_mutex_unlock(&s->login_mu);
    return LP_EAUTH;
}

static int too_many(lp_req *req, const throttle *t)
{
    int64_t min = (t->retry_s + 59) / 60;
    lp_reply_error(req, 429, "too_many_requests", NULL,
                   "too many failed logins %s; try again in %lld minute%s",
                   t->by_address ? "from this address" : "for this account", (long long)min,
                   min == 1 ? "" : "s");
    char ra[24];
    snprintf(ra, sizeof ra, "%lld", (long long)t->retry_s);
    lp_reply_header(req, "Retry-After", ra);
    return 0;
}

int lp_api_session_create(lp_req *req)
{
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    lp_verr e;
    const char *email = NULL, *password = NULL;
    if (lp_v_string(b, "email", "", 1, 3, 254, &email, &e) ||
        lp_v_string(b, "password", "", 1, 1, 1024, &password, &e)) {
        json_decref(b);
        return lp_reply_verr(req, 422, &e);
    }
    lp_user u;
    int rc = lp_user_by_email(req->db, email, &u);
    throttle t;
    rc = guess_password(req, email, rc == 0 ? &u : NULL, password, &t);
    if (rc < 0) { /* the audit log says who tried */
        json_t *d = json_pack("{s:s}", "email", email);
        char *s = json_dumps(d, LP_JSON_DUMP);
        req->audit_detail = lp_arena_strdup(&req->arena, s);
        free(s);
        json_decref(d);
    }
    json_decref(b);
    if (rc == LP_EBUSY) return too_many(req, &t);
    if (rc < 0) return lp_reply_error(req, 401, "unauthorized", NULL, "wrong email or password");
    req->who.user_id = u.id;
    char token[LP_TOKEN_MAX];
    int64_t ttl_s = req->srv->cfg->session_seconds;
    lp_session_life life = lp_api_session_life(req);
    rc = lp_session_create(req->db, u.id, &life, token, NULL);
    if (rc < 0) return lp_reply_rc(req, rc, "session");
    char csrf[LP_TOKEN_MAX];
    lp_auth_csrf(token, csrf);
    lp_reply_json(req, 201,
                  json_pack("{s:o, s:s, s:o, s:I}", "user", user_json(&u), "csrf_token", csrf,
                            "expires_at", lp_json_time(lp_now_ms() + ttl_s * 1000), "idle_seconds",
                            (json_int_t)req->srv->cfg->session_idle_seconds));
    /* Behind a TLS-terminating proxy the cookie must not travel in clear. */
    const char *proto = lp_req_header(req, "X-Forwarded-Proto");
    char cookie[256];
    snprintf(cookie, sizeof cookie,
             "loupe_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", token,
             (long long)ttl_s, proto && !strcasecmp(proto, "https") ? "; Secure" : "");
    lp_reply_header(req, "Set-Cookie", cookie);
    return 0;
}

int lp_api_session_delete(lp_req *req)
{
    const char *tok = lp_req_cookie(req, "loupe_session");
    lp_user u;
    lp_session_life life = lp_api_session_life(req);
    if (tok && lp_session_resolve(req->db, tok, &life, &u, NULL, NULL) == 0)
        req->who.user_id = u.id; /* (audit) */
    if (tok) lp_session_delete(req->db, tok);
    lp_reply_empty(req, 204);
    lp_reply_header(req, "Set-Cookie",
                    "loupe_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return 0;
}

int lp_api_me(lp_req *req)
{
    lp_user u;
    int rc = lp_user_get(req->db, req->who.user_id, &u);
    if (rc < 0) return lp_reply_rc(req, rc, "user");
    json_t *o = user_json(&u);
    json_object_set_new(o, "auth", json_string(req->who.via_session ? "session" : "api_key"));
    if (req->who.via_session) { /* the UI's CSRF token again, after a reload */
        char csrf[LP_TOKEN_MAX];
        lp_auth_csrf(lp_req_cookie(req, "loupe_session"), csrf);
        json_object_set_new(o, "csrf_token", json_string(csrf));
    }
    return lp_reply_json(req, 200, o);
}

static json_t *user_item(lp_req *req, int64_t id)
{
    lp_user u;
    return lp_user_get(req->db, id, &u) == 0 ? user_json(&u) : NULL;
}

int lp_api_users_list(lp_req *req)
{
    int limit;
    int64_t after;
    if (lp_api_page(req, 100, 1000, &limit, &after)) return 0;
    lp_stmt *st;
    int rc = lp_db_prepare(req->db, "SELECT id FROM users WHERE id > ? ORDER BY id LIMIT ?", &st);
    if (rc < 0) return lp_reply_rc(req, rc, "users");
    lp_stmt_bind_int64(st, 1, after);
    lp_stmt_bind_int64(st, 2, limit + 1);
    return lp_api_reply_ids(req, st, limit, user_item);
}

int lp_api_users_create(lp_req *req)
{
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    static const char *const keys[] = {"email", "name", "role", "password", NULL};
    lp_verr e;
    const char *email = NULL, *name = "", *role = "member", *password = NULL;
    char why[128];
    int rc = 0;
    if (lp_v_only_keys(b, "", keys, &e) || lp_v_string(b, "email", "", 1, 3, 254, &email, &e) ||
        lp_v_string(b, "name", "", 0, 0, 200, &name, &e) ||
        lp_v_string(b, "role", "", 0, 1, 16, &role, &e) ||
        lp_v_string(b, "password", "", 0, 1, 1024, &password, &e))
        rc = LP_EINVAL;
    else if (!strchr(email, '@'))
        rc = lp_verr_set(&e, "email", "\"%s\" is not an email address", email);
    else if (strcmp(role, "admin") && strcmp(role, "member"))
        rc = lp_verr_set(&e, "role", "\"%s\" is not a role (admin or member)", role);
    else if (password && lp_password_check(password, email, why, sizeof why) < 0)
        rc = lp_verr_set(&e, "password", "%s", why);
    if (rc < 0) {
        json_decref(b);
        return lp_reply_verr(req, 422, &e);
    }
    int64_t id;
    rc = lp_user_create(req->db, email, name, !strcmp(role, "admin"), password, &id);
    json_decref(b);
    if (rc == LP_EEXISTS)
        return lp_reply_error(req, 409, "conflict", "email",
                              "email: a user with this email exists");
    if (rc < 0) return lp_reply_rc(req, rc, "user");
    lp_user u;
    lp_user_get(req->db, id, &u);
    return lp_reply_json(req, 201, user_json(&u));
}

/* Reads the {} user id; only admins may look at other users. */
static int target_user(lp_req *req, lp_user *u)
{
    int64_t id;
    if (lp_req_id(req, 0, &id)) return LP_ENOTFOUND;
    if (id != req->who.user_id && !req->who.is_admin) {
        lp_reply_error(req, 403, "forbidden", NULL, "only admins may see or change other users");
        return LP_EPERM;
    }
    int rc = lp_user_get(req->db, id, u);
    if (rc < 0) return lp_reply_rc(req, rc, "user"), rc;
    return 0;
}

int lp_api_user_get(lp_req *req)
{
    lp_user u;
    if (target_user(req, &u)) return 0;
    return lp_reply_json(req, 200, user_json(&u));
}

int lp_api_user_update(lp_req *req)
{
    lp_user u;
    if (target_user(req, &u)) return 0;
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    static const char *const keys[] = {"name",     "role", "password", "current_password",
                                       "disabled", NULL};
    lp_verr e;
    const char *name = NULL, *role = NULL, *password = NULL, *current = NULL;
    int disabled = -1, rc = 0;
    unsigned status = 422;
    int self = u.id == req->who.user_id;
    char why[128];
    throttle t;
    if (lp_v_only_keys(b, "", keys, &e) || lp_v_string(b, "name", "", 0, 0, 200, &name, &e) ||
        lp_v_string(b, "role", "", 0, 1, 16, &role, &e) ||
        lp_v_string(b, "password", "", 0, 1, 1024, &password, &e) ||
        lp_v_string(b, "current_password", "", 0, 1, 1024, &current, &e) ||
        lp_v_bool(b, "disabled", "", 0, &disabled, &e)) {
        rc = LP_EINVAL;
    } else if (role && strcmp(role, "admin") && strcmp(role, "member")) {
        rc = lp_verr_set(&e, "role", "\"%s\" is not a role (admin or member)", role);
    } else if ((role || disabled >= 0) && !req->who.is_admin) {
        rc = lp_verr_set(&e, role ? "role" : "disabled", "only admins may change this");
        status = 403;
    } else if (self && ((role && strcmp(role, "admin")) || disabled == 1)) {
        rc = lp_verr_set(&e, role ? "role" : "disabled", "you cannot demote or disable yourself");
    } else if (self && password && !current) {
        /* A stolen session or key must not be enough to take the account over. */
        rc = lp_verr_set(&e, "current_password", "is required to change your password");
    } else if (password && lp_password_check(password, u.email, why, sizeof why) < 0) {
        rc = lp_verr_set(&e, "password", "%s", why);
    } else if (self && password && (rc = guess_password(req, u.email, &u, current, &t)) < 0) {
        if (rc == LP_EBUSY) {
            json_decref(b);
            return too_many(req, &t);
        }
        rc = lp_verr_set(&e, "current_password", "is not your password");
        status = 403;
    }
    if (rc < 0) {
        json_decref(b);
        return lp_reply_verr(req, status, &e);
    }
    rc = lp_db_begin(req->db, LP_TX_WRITE);
    if (rc == 0 && name)
        rc = lp_db_run(req->db, "UPDATE users SET name = ? WHERE id = ?", "si", name, u.id);
    if (rc == 0 && role)
        rc = lp_db_run(req->db, "UPDATE users SET role = ? WHERE id = ?", "si", role, u.id);
    if (rc == 0 && disabled >= 0)
        rc = lp_db_run(req->db, "UPDATE users SET disabled = ? WHERE id = ?", "ii",
                       (int64_t)disabled, u.id);
    if (rc == 0 && disabled == 1) /* a disabled user's sessions end now */
        rc = lp_db_run(req->db, "DELETE FROM sessions WHERE user_id = ?", "i", u.id);
    if (rc == 0 && password) rc = lp_user_set_password(req->db, u.id, password);
    if (rc == 0 && password) { /* a new password ends every other session */
        char hash[LP_HASH_HEX] = "";
        const char *tok = req->who.via_session ? lp_req_cookie(req, "loupe_session") : NULL;
        if (tok) lp_auth_token_hash(tok, hash);
        rc = lp_db_run(req->db, "DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?", "is",
                       u.id, hash);
    }
    json_decref(b);
    if (rc == 0)
        rc = lp_db_commit(req->db);
    else
        lp_db_rollback(req->db);
    if (rc < 0) return lp_reply_rc(req, rc, "user");
    lp_user_get(req->db, u.id, &u);
    return lp_reply_json(req, 200, user_json(&u));
}

/* A key as GET /v1/keys lists it: its scope and project (null: any). */
static json_t *key_json(int64_t id, const char *prefix, const char *name, int64_t created_at,
                        const char *scope, int64_t project_id)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o}", "id", (json_int_t)id, "prefix", prefix,
                     "name", name, "scope", scope, "project_id",
                     project_id ? json_integer(project_id) : json_null(), "created_at",
                     lp_json_time(created_at));
}

int lp_api_keys_list(lp_req *req)
{
    lp_stmt *st;
    int rc = lp_db_prepare(req->db,
                           "SELECT id, prefix, name, created_at, scope, COALESCE(project_id, 0) "
                           "FROM api_keys WHERE user_id = ? AND revoked_at IS NULL ORDER BY id",
                           &st);
    if (rc < 0) return lp_reply_rc(req, rc, "keys");
    lp_stmt_bind_int64(st, 1, req->who.user_id);
    json_t *items = json_array();
    while (lp_stmt_step(st) == LP_DB_ROW)
        json_array_append_new(items, key_json(lp_stmt_int64(st, 0), lp_stmt_text(st, 1),
                                              lp_stmt_text(st, 2), lp_stmt_int64(st, 3),
                                              lp_stmt_text(st, 4), lp_stmt_int64(st, 5)));
    lp_stmt_done(st);
    return lp_reply_json(req, 200, json_pack("{s:o}", "items", items));
}

/* POST /v1/keys {"name", "scope": "read"|"full", "project_id"}: a project
 * key needs a role in the project (404 as for a non-member). */
int lp_api_keys_create(lp_req *req)
{
    const char *name = "", *scope_name = "full";
    lp_key_scope scope = {0};
    long long pid = 0;
    json_t *b = NULL;
    if (req->body.len) {
        if (lp_req_json(req, 1, &b)) return 0;
        static const char *const keys[] = {"name", "scope", "project_id", NULL};
        lp_verr e;
        if (lp_v_only_keys(b, "", keys, &e) || lp_v_string(b, "name", "", 0, 0, 200, &name, &e) ||
            lp_v_string(b, "scope", "", 0, 1, 16, &scope_name, &e) ||
            lp_v_int(b, "project_id", "", 0, 1, INT64_MAX, &pid, &e) ||
            (strcmp(scope_name, "read") && strcmp(scope_name, "full") &&
             lp_verr_set(&e, "scope", "must be \"read\" or \"full\""))) {
            json_decref(b);
            return lp_reply_verr(req, 422, &e);
        }
    }
    scope.read_only = strcmp(scope_name, "read") == 0;
    scope.project_id = pid;
    if (scope.project_id && lp_api_require(req, scope.project_id, LP_ROLE_ANNOTATOR, NULL)) {
        json_decref(b);
        return 0;
    }
    char key[LP_TOKEN_MAX];
    int64_t id;
    int rc = lp_key_create(req->db, req->who.user_id, name, &scope, key, &id);
    json_t *out = NULL;
    if (rc == 0) {
        out = key_json(id, "", name, 0, scope.read_only ? "read" : "full", scope.project_id);
        json_object_del(out, "prefix");
        json_object_del(out, "created_at");
        json_object_set_new(out, "key", json_string(key));
        json_object_set_new(out, "note", json_string("store this key now: it is not shown again"));
    }
    json_decref(b);
    if (rc < 0) return lp_reply_rc(req, rc, "key");
    return lp_reply_json(req, 201, out);
}

int lp_api_key_revoke(lp_req *req)
{
    int64_t id;
    if (lp_req_id(req, 0, &id)) return 0;
    int rc = lp_key_revoke(req->db, req->who.user_id, id);
    if (rc < 0) return lp_reply_rc(req, rc, "key");
    return lp_reply_empty(req, 204);
}

int lp_api_members_list(lp_req *req)
{
    int64_t pid;
    if (lp_req_id(req, 0, &pid) || lp_api_require(req, pid, LP_ROLE_REVIEWER, NULL)) return 0;
    lp_stmt *st;
    int rc = lp_db_prepare(req->db,
                           "SELECT u.id, u.email, u.name, m.role FROM project_members m "
                           "JOIN users u ON u.id = m.user_id WHERE m.project_id = ? ORDER BY u.id",
                           &st);
    if (rc < 0) return lp_reply_rc(req, rc, "members");
    lp_stmt_bind_int64(st, 1, pid);
    json_t *items = json_array();
    while (lp_stmt_step(st) == LP_DB_ROW)
        json_array_append_new(items, json_pack("{s:I, s:s, s:s, s:s}", "user_id",
                                               (json_int_t)lp_stmt_int64(st, 0), "email",
                                               lp_stmt_text(st, 1), "name", lp_stmt_text(st, 2),
                                               "role", lp_stmt_text(st, 3)));
    lp_stmt_done(st);
    return lp_reply_json(req, 200, json_pack("{s:o}", "items", items));
}

int lp_api_member_put(lp_req *req)
{
    int64_t pid, uid;
    if (lp_req_id(req, 0, &pid) || lp_req_id(req, 1, &uid)) return 0;
    if (lp_api_require(req, pid, LP_ROLE_MANAGER, NULL)) return 0;
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    lp_verr e;
    const char *role = NULL;
    int r = -1;
    if (lp_v_string(b, "role", "", 1, 1, 32, &role, &e) == 0 && (r = lp_role_parse(role)) < 0)
        lp_verr_set(&e, "role", "\"%s\" is not a project role (manager, reviewer or annotator)",
                    role);
    json_decref(b);
    if (r < 0) return lp_reply_verr(req, 422, &e);
    lp_user u;
    int rc = lp_user_get(req->db, uid, &u);
    if (rc == LP_ENOTFOUND)
        return lp_reply_error(req, 404, "not_found", NULL, "user %lld not found", (long long)uid);
    if (rc == 0) rc = lp_member_set(req->db, pid, uid, r);
    if (rc == LP_ECONFLICT)
        return lp_reply_error(
            req, 409, "conflict", "role",
            "this is the project's last manager: make someone else manager first");
    if (rc < 0) return lp_reply_rc(req, rc, "member");
    return lp_reply_json(req, 200,
                         json_pack("{s:I, s:I, s:s, s:s}", "project_id", (json_int_t)pid, "user_id",
                                   (json_int_t)uid, "email", u.email, "role", lp_role_name(r)));
}

int lp_api_member_delete(lp_req *req)
{
    int64_t pid, uid;
    if (lp_req_id(req, 0, &pid) || lp_req_id(req, 1, &uid)) return 0;
    if (lp_api_require(req, pid, LP_ROLE_MANAGER, NULL)) return 0;
    int rc = lp_member_remove(req->db, pid, uid);
    if (rc == LP_ECONFLICT)
        return lp_reply_error(
            req, 409, "conflict", NULL,
            "this is the project's last manager: make someone else manager first");
    if (rc < 0) return lp_reply_rc(req, rc, "member");
    return lp_reply_empty(req, 204);
}
