/* endpoint.c -- model endpoints (endpoint.h). */
#include "endpoint.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "outbound.h"
#include "util.h"

#define PURPOSE   "model_endpoint"
#define REPLY_MAX (8u << 20)

static const char *const keys[] = {"name",    "base_url",   "model",  "api_key", "params",
                                   "max_concurrency", "timeout_ms", "retries", NULL};

#define COLS                                                                                     \
    "id, name, base_url, model, api_key IS NOT NULL, params, max_concurrency, timeout_ms, "     \
    "retries, created_at, updated_at"

/* The view of the current row of a COLS select. */
static json_t *view(lp_stmt *st)
{
    json_error_t je;
    json_t *params = json_loads(lp_stmt_text(st, 5), 0, &je);
    return json_pack("{s:I, s:s, s:s, s:s, s:b, s:o, s:I, s:I, s:I, s:o, s:o}", "id",
                     (json_int_t)lp_stmt_int64(st, 0), "name", lp_stmt_text(st, 1), "base_url",
                     lp_stmt_text(st, 2), "model", lp_stmt_text(st, 3), "has_api_key",
                     (int)lp_stmt_int64(st, 4), "params", params ? params : json_object(),
                     "max_concurrency", (json_int_t)lp_stmt_int64(st, 6), "timeout_ms",
                     (json_int_t)lp_stmt_int64(st, 7), "retries", (json_int_t)lp_stmt_int64(st, 8),
                     "created_at", lp_json_time(lp_stmt_int64(st, 9)), "updated_at",
                     lp_json_time(lp_stmt_int64(st, 10)));
}

int lp_endpoint_get(lp_db *db, int64_t id, json_t **out)
{
    lp_stmt *st;
    *out = NULL;
    int rc = lp_db_prepare(db, "SELECT " COLS " FROM model_endpoints WHERE id = ?", &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) *out = view(st);
    lp_stmt_done(st);
    return rc < 0 ? rc : *out ? 0 : LP_ENOTFOUND;
}

int lp_endpoint_list(lp_db *db, json_t **out)
{
    lp_stmt *st;
    *out = NULL;
    int rc = lp_db_prepare(db, "SELECT " COLS " FROM model_endpoints ORDER BY id", &st);
    if (rc < 0) return rc;
    json_t *items = json_array();
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) json_array_append_new(items, view(st));
    lp_stmt_done(st);
    if (rc < 0) {
        json_decref(items);
        return rc;
    }
    *out = json_pack("{s:o}", "items", items);
    return 0;
}

/* Checks the fields body gives (all required ones when creating). */
static int check(const json_t *body, int creating, lp_verr *e)
{
    const char *url = NULL;
    char why[400];
    int rc;
    if ((rc = lp_v_object(body, "", e)) || (rc = lp_v_only_keys(body, "", keys, e)) ||
        (rc = lp_v_string(body, "name", "", creating, 1, 100, NULL, e)) ||
        (rc = lp_v_string(body, "base_url", "", creating, 1, 2048, &url, e)) ||
        (rc = lp_v_string(body, "model", "", creating, 1, 200, NULL, e)) ||
        (rc = lp_v_int(body, "max_concurrency", "", 0, 1, 64, NULL, e)) ||
        (rc = lp_v_int(body, "timeout_ms", "", 0, 100, 600000, NULL, e)) ||
        (rc = lp_v_int(body, "retries", "", 0, 0, 10, NULL, e)))
        return rc;
    const json_t *key = json_object_get(body, "api_key");
    if (key && !json_is_null(key) && (rc = lp_v_string(body, "api_key", "", 0, 1, 4096, NULL, e)))
        return rc;
    const json_t *params = lp_json_given(body, "params");
    if (params && (rc = lp_llm_check_params(params, "params", e))) return rc;
    if (url) {
        if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
            return lp_verr_set(e, "base_url",
                               "must be an http:// or https:// URL (such as "
                               "https://api.openai.com/v1)");
        if (strchr(url, '?') || strchr(url, '#'))
            return lp_verr_set(e, "base_url",
                               "must have no query or fragment: Loupe appends /chat/completions");
        if (lp_outbound_check_url(url, why, sizeof why) < 0)
            return lp_verr_set(e, "base_url", "%s", why);
    }
    return 0;
}

/* base_url without its trailing slashes (heap). */
static char *trimmed(const char *url)
{
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/') n--;
    return lp_strndup(url, n);
}

int lp_endpoint_create(lp_db *db, const json_t *body, int64_t user_id, json_t **out, lp_verr *e)
{
    *out = NULL;
    int rc = check(body, 1, e);
    if (rc) return rc;
    const char *key = json_string_value(json_object_get(body, "api_key"));
    char *sealed = key ? lp_auth_seal(key, PURPOSE) : NULL;
    const json_t *params = lp_json_given(body, "params");
    char *ptext = params ? json_dumps(params, LP_JSON_DUMP) : lp_strdup("{}");
    char *url = trimmed(json_string_value(json_object_get(body, "base_url")));
    const json_t *v;
    int64_t conc = (v = json_object_get(body, "max_concurrency")) ? json_integer_value(v) : 4;
    int64_t timeout = (v = json_object_get(body, "timeout_ms")) ? json_integer_value(v) : 60000;
    int64_t retries = (v = json_object_get(body, "retries")) ? json_integer_value(v) : 3;
    int64_t now = lp_now_ms(), id = 0;
    lp_stmt *st;
    rc = lp_db_prepare_insert(db,
                              "INSERT INTO model_endpoints (name, base_url, model, api_key, params,"
                              " max_concurrency, timeout_ms, retries, created_by, created_at,"
                              " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                              " ON CONFLICT (name) DO NOTHING",
                              &st);
    if (rc == 0) {
        lp_stmt_bind_text(st, 1, json_string_value(json_object_get(body, "name")));
        lp_stmt_bind_text(st, 2, url);
        lp_stmt_bind_text(st, 3, json_string_value(json_object_get(body, "model")));
        lp_stmt_bind_text(st, 4, sealed);
        lp_stmt_bind_text(st, 5, ptext);
        lp_stmt_bind_int64(st, 6, conc);
        lp_stmt_bind_int64(st, 7, timeout);
        lp_stmt_bind_int64(st, 8, retries);
        if (user_id)
            lp_stmt_bind_int64(st, 9, user_id);
        else
            lp_stmt_bind_null(st, 9);
        lp_stmt_bind_int64(st, 10, now);
        lp_stmt_bind_int64(st, 11, now);
        rc = lp_stmt_insert_id(st, &id, LP_EEXISTS);
        lp_stmt_done(st);
    }
    free(sealed);
    free(ptext);
    free(url);
    if (rc == LP_EEXISTS) {
        lp_verr_set(e, "name", "an endpoint is already called that");
        return LP_EEXISTS;
    }
    if (rc < 0) return rc;
    return lp_endpoint_get(db, id, out);
}

int lp_endpoint_update(lp_db *db, int64_t id, const json_t *body, json_t **out, lp_verr *e)
{
    *out = NULL;
    int rc = check(body, 0, e);
    if (rc) return rc;
    int64_t now = lp_now_ms(), found = 0;
    if ((rc = lp_db_begin(db, LP_TX_WRITE)) < 0) return rc;
    rc = lp_db_int64(db, &found, "SELECT id FROM model_endpoints WHERE id = ?", "i", id);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v)
    {
        if (rc < 0) break;
        if (!strcmp(k, "api_key")) {
            char *sealed = json_is_string(v) ? lp_auth_seal(json_string_value(v), PURPOSE) : NULL;
            rc = lp_db_run(db, "UPDATE model_endpoints SET api_key = ? WHERE id = ?", "si",
                           sealed, id);
            free(sealed);
        } else if (!strcmp(k, "params")) {
            char *t = json_is_null(v) ? lp_strdup("{}") : json_dumps(v, LP_JSON_DUMP);
            rc = lp_db_run(db, "UPDATE model_endpoints SET params = ? WHERE id = ?", "si", t, id);
            free(t);
        } else if (json_is_null(v)) {
            continue; /* the other fields cannot be emptied */
        } else if (!strcmp(k, "name")) {
            int64_t other = 0;
            int q = lp_db_int64(db, &other,
                                "SELECT id FROM model_endpoints WHERE name = ? AND id <> ?", "si",
                                json_string_value(v), id);
            if (q == 0) {
                lp_verr_set(e, "name", "an endpoint is already called that");
                rc = LP_EEXISTS;
            } else if (q != LP_ENOTFOUND) {
                rc = q;
            } else {
                rc = lp_db_run(db, "UPDATE model_endpoints SET name = ? WHERE id = ?", "si",
                               json_string_value(v), id);
            }
        } else if (!strcmp(k, "base_url")) {
            char *url = trimmed(json_string_value(v));
            rc = lp_db_run(db, "UPDATE model_endpoints SET base_url = ? WHERE id = ?", "si", url,
                           id);
            free(url);
        } else if (!strcmp(k, "model")) {
            rc = lp_db_run(db, "UPDATE model_endpoints SET model = ? WHERE id = ?", "si",
                           json_string_value(v), id);
        } else {
            /* max_concurrency, timeout_ms, retries: checked names, so safe in the SQL */
            char *sql = lp_sprintf("UPDATE model_endpoints SET %s = ? WHERE id = ?", k);
            rc = lp_db_run(db, sql, "ii", (int64_t)json_integer_value(v), id);
            free(sql);
        }
    }
    if (rc == 0)
        rc = lp_db_run(db, "UPDATE model_endpoints SET updated_at = ? WHERE id = ?", "ii", now, id);
    if (rc == 0)
        rc = lp_db_commit(db);
    else
        lp_db_rollback(db);
    if (rc < 0) return rc;
    return lp_endpoint_get(db, id, out);
}

int lp_endpoint_delete(lp_db *db, int64_t id)
{
    int64_t x = 0;
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc < 0) return rc;
    rc = lp_db_int64(db, &x, "SELECT id FROM model_endpoints WHERE id = ?", "i", id);
    if (rc == 0) {
        int q = lp_db_int64(db, &x,
                            "SELECT o.id FROM gen_outputs o JOIN generations g ON g.id ="
                            " o.generation_id WHERE o.endpoint_id = ? AND o.state = 'waiting'"
                            " AND g.state = 'running' LIMIT 1",
                            "i", id);
        rc = q == 0 ? LP_ECONFLICT : q == LP_ENOTFOUND ? 0 : q;
    }
    if (rc == 0) rc = lp_db_run(db, "DELETE FROM model_endpoints WHERE id = ?", "i", id);
    if (rc == 0)
        rc = lp_db_commit(db);
    else
        lp_db_rollback(db);
    return rc;
}

int lp_endpoint_load(lp_db *db, int64_t id, lp_endpoint *out)
{
    memset(out, 0, sizeof *out);
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT name, base_url, model, api_key, params, max_concurrency,"
                           " timeout_ms, retries FROM model_endpoints WHERE id = ?",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        json_error_t je;
        out->id = id;
        snprintf(out->name, sizeof out->name, "%s", lp_stmt_text(st, 0));
        out->base_url = lp_strdup(lp_stmt_text(st, 1));
        out->model = lp_strdup(lp_stmt_text(st, 2));
        if (!lp_stmt_is_null(st, 3) && lp_auth_unseal(lp_stmt_text(st, 3), PURPOSE,
                                                      &out->api_key) < 0)
            rc = LP_EINVAL; /* sealed under another secret */
        out->params = json_loads(lp_stmt_text(st, 4), 0, &je);
        if (!out->params) out->params = json_object();
        out->max_concurrency = (int)lp_stmt_int64(st, 5);
        out->timeout_ms = lp_stmt_int64(st, 6);
        out->retries = (int)lp_stmt_int64(st, 7);
        if (rc == LP_DB_ROW) rc = 0;
    } else if (rc == LP_DB_DONE) {
        rc = LP_ENOTFOUND;
    }
    lp_stmt_done(st);
    if (rc < 0) lp_endpoint_fini(out);
    return rc;
}

void lp_endpoint_fini(lp_endpoint *ep)
{
    free(ep->base_url);
    free(ep->model);
    if (ep->api_key) sodium_memzero(ep->api_key, strlen(ep->api_key));
    free(ep->api_key);
    json_decref(ep->params);
    memset(ep, 0, sizeof *ep);
}

typedef struct stream_ctx {
    lp_llm_stream s;
    int bad;
} stream_ctx;

static int on_data(void *arg, const char *p, size_t n)
{
    stream_ctx *c = arg;
    if (lp_llm_stream_feed(&c->s, p, n) < 0) c->bad = 1;
    return c->bad;
}

/* One call, streamed when sc is set. */
static int chat(const lp_endpoint *ep, const json_t *messages, const json_t *params,
                volatile int *cancel, stream_ctx *sc, lp_endpoint_call *c)
{
    memset(c, 0, sizeof *c);
    c->reply.prompt_tokens = c->reply.completion_tokens = -1;
    json_t *body = lp_llm_request(ep->model, messages, ep->params, params, sc != NULL);
    char *text = json_dumps(body, LP_JSON_DUMP);
    json_decref(body);
    char url[2200], auth[4200];
    snprintf(url, sizeof url, "%s/chat/completions", ep->base_url);
    const char *hs[5] = {"Content-Type: application/json",
                         sc ? "Accept: text/event-stream" : "Accept: application/json",
                         "User-Agent: loupe", NULL, NULL};
    if (ep->api_key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", ep->api_key);
        hs[3] = auth;
    }
    lp_http_req r = {.method = "POST",
                     .url = url,
                     .headers = hs,
                     .body = text,
                     .body_len = strlen(text),
                     .timeout_ms = ep->timeout_ms,
                     .reply_max = REPLY_MAX,
                     .cancel = cancel,
                     .on_data = sc ? on_data : NULL,
                     .data_ctx = sc};
    lp_buf reply = {0};
    int64_t t0 = lp_now_ms();
    c->status = lp_outbound_request(&r, &reply, c->err, sizeof c->err);
    c->latency_ms = lp_now_ms() - t0;
    free(text);
    sodium_memzero(auth, sizeof auth);
    int rc = 0;
    if (sc && sc->bad) {
        snprintf(c->err, sizeof c->err, "%s", sc->s.err);
        rc = LP_EINVAL;
    } else if (!c->status) {
        c->retryable = !(cancel && *cancel);
        rc = LP_EIO;
    } else if (c->status < 200 || c->status > 299) {
        lp_buf snippet = {0};
        char inner[300] = "";
        lp_llm_reply tmp;
        /* an OpenAI error object says why in its message */
        if (reply.data && lp_llm_parse(reply.data, reply.len, &tmp, inner, sizeof inner) == 0)
            lp_llm_reply_fini(&tmp), inner[0] = 0;
        if (!inner[0] && reply.data) lp_utf8_clean(reply.data, 200, &snippet);
        snprintf(c->err, sizeof c->err, "HTTP %ld%s%s", c->status,
                 inner[0] || snippet.len ? ": " : "",
                 inner[0] ? inner : snippet.data ? snippet.data : "");
        lp_buf_fini(&snippet);
        c->retryable = c->status == 408 || c->status == 429 || c->status >= 500;
        rc = LP_EIO;
    } else if (sc) {
        if (lp_llm_stream_end(&sc->s) < 0) {
            snprintf(c->err, sizeof c->err, "%s", sc->s.err);
            rc = LP_EINVAL;
        } else {
            c->reply = sc->s.reply;
            memset(&sc->s.reply, 0, sizeof sc->s.reply);
        }
    } else if (lp_llm_parse(reply.data, reply.len, &c->reply, c->err, sizeof c->err) < 0) {
        rc = LP_EINVAL;
    }
    lp_buf_fini(&reply);
    return rc;
}

int lp_endpoint_chat(const lp_endpoint *ep, const json_t *messages, const json_t *params,
                     volatile int *cancel, lp_endpoint_call *c)
{
    return chat(ep, messages, params, cancel, NULL, c);
}

int lp_endpoint_chat_stream(const lp_endpoint *ep, const json_t *messages, const json_t *params,
                            volatile int *cancel, void (*on_delta)(void *, const char *, size_t),
                            void *ctx, lp_endpoint_call *c)
{
    stream_ctx sc = {0};
    lp_llm_stream_init(&sc.s, on_delta, ctx);
    int rc = chat(ep, messages, params, cancel, &sc, c);
    lp_llm_stream_fini(&sc.s);
    return rc;
}
