/* outbox.c -- see outbox.h. */
#include "outbox.h"

#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "outbound.h"
#include "util.h"

void lp_webhook_secret_new(char out[LP_SECRET_TEXT])
{
    unsigned char key[32];
    randombytes_buf(key, sizeof key);
    memcpy(out, "whsec_", 6);
    sodium_bin2base64(out + 6, LP_SECRET_TEXT - 6, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
}

int lp_webhook_sign(const char *secret, const char *id, int64_t timestamp, const char *body,
                    size_t n, char *out, size_t outn)
{
    unsigned char key[64];
    size_t klen = 0;
    if (strncmp(secret, "whsec_", 6) ||
        sodium_base642bin(key, sizeof key, secret + 6, strlen(secret + 6), NULL, &klen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return LP_EINVAL;
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, klen);
    char head[160];
    int hn = snprintf(head, sizeof head, "%s.%lld.", id, (long long)timestamp);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)head, (size_t)hn);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, n);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_final(&st, mac);
    if (outn < 4 + sodium_base64_ENCODED_LEN(sizeof mac, sodium_base64_VARIANT_ORIGINAL))
        return LP_EINVAL;
    memcpy(out, "v1,", 3);
    sodium_bin2base64(out + 3, outn - 3, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

int lp_project_callback_secret(lp_db *db, int64_t project_id, char out[LP_SECRET_TEXT])
{
    lp_stmt *st;
    int rc = lp_db_prepare(db, "SELECT callback_secret FROM projects WHERE id = ?", &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, project_id);
    rc = lp_stmt_step(st);
    int have = rc == LP_DB_ROW && !lp_stmt_is_null(st, 0);
    if (have) snprintf(out, LP_SECRET_TEXT, "%s", lp_stmt_text(st, 0));
    lp_stmt_done(st);
    if (rc == LP_DB_DONE) return LP_ENOTFOUND;
    if (rc < 0) return rc;
    if (have) return 0;
    /* (a project of before projects were given theirs when made) */
    lp_webhook_secret_new(out);
    rc = lp_db_run(
        db, "UPDATE projects SET callback_secret = ? WHERE id = ? AND callback_secret IS NULL",
        "si", out, project_id);
    if (rc < 0 || lp_db_changes(db) == 1) return rc;
    /* another transaction set it first: sign with the one stored */
    rc = lp_db_prepare(db, "SELECT callback_secret FROM projects WHERE id = ?", &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, project_id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW && !lp_stmt_is_null(st, 0))
        snprintf(out, LP_SECRET_TEXT, "%s", lp_stmt_text(st, 0));
    lp_stmt_done(st);
    return rc == LP_DB_ROW ? 0 : rc < 0 ? rc : LP_ENOTFOUND;
}

/* Queues one delivery of payload to url. */
static int enqueue(lp_db *db, int64_t project_id, int64_t webhook_id, const char *event,
                   const char *url, const char *secret, const char *payload, int64_t now)
{
    unsigned char r[12];
    randombytes_buf(r, sizeof r);
    char rnd[32], mid[48];
    sodium_bin2hex(rnd, sizeof rnd, r, sizeof r);
    snprintf(mid, sizeof mid, "msg_%s", rnd);
    lp_stmt *st;
    int rc =
        lp_db_prepare(db,
                      "INSERT INTO deliveries (message_id, event, project_id, webhook_id, url, "
                      "secret, payload, status, next_at, created_at) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                      &st);
    if (rc < 0) return rc;
    lp_stmt_bind_text(st, 1, mid);
    lp_stmt_bind_text(st, 2, event);
    lp_stmt_bind_int64(st, 3, project_id);
    if (webhook_id)
        lp_stmt_bind_int64(st, 4, webhook_id);
    else
        lp_stmt_bind_null(st, 4); /* the project's own callback_url */
    lp_stmt_bind_text(st, 5, url);
    lp_stmt_bind_text(st, 6, secret);
    lp_stmt_bind_text(st, 7, payload);
    lp_stmt_bind_int64(st, 8, now);
    lp_stmt_bind_int64(st, 9, now);
    rc = lp_stmt_step(st);
    lp_stmt_done(st);
    return rc < 0 ? rc : 0;
}

/* Whether a webhook's events list ("*" or "a,b,c") includes event. */
static int subscribed(const char *events, const char *event)
{
    if (!strcmp(events, "*")) return 1;
    size_t n = strlen(event);
    for (const char *p = events; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && !strncmp(p, event, n)) return 1;
        p += len + (comma ? 1 : 0);
    }
    return 0;
}

int lp_outbox_event(lp_db *db, int64_t project_id, const char *event, const char *data)
{
    int64_t now = lp_now_ms();
    char ts[40];
    lp_time_format(now, ts, sizeof ts);
    char *payload =
        lp_sprintf("{\"type\":\"%s\",\"timestamp\":\"%s\",\"data\":%s}", event, ts, data);
    lp_stmt *st;
    int rc = lp_db_prepare(db, "SELECT callback_url FROM projects WHERE id = ?", &st);
    char url[2100] = "";
    if (rc == 0) {
        lp_stmt_bind_int64(st, 1, project_id);
        if (lp_stmt_step(st) == LP_DB_ROW && !lp_stmt_is_null(st, 0))
            snprintf(url, sizeof url, "%s", lp_stmt_text(st, 0));
        lp_stmt_done(st);
    }
    if (rc == 0 && url[0]) {
        char secret[LP_SECRET_TEXT];
        rc = lp_project_callback_secret(db, project_id, secret);
        if (rc == 0) rc = enqueue(db, project_id, 0, event, url, secret, payload, now);
    }
    /* Webhooks of this project, and of every project (project_id NULL). */
    if (rc == 0)
        rc = lp_db_prepare(db,
                           "SELECT id, url, secret, events FROM webhooks WHERE project_id = ? "
                           "OR project_id IS NULL ORDER BY id",
                           &st);
    if (rc == 0) {
        lp_stmt_bind_int64(st, 1, project_id);
        /* Collected first: enqueue runs statements of its own. */
        json_t *hooks = json_array();
        while (lp_stmt_step(st) == LP_DB_ROW)
            if (subscribed(lp_stmt_text(st, 3), event))
                json_array_append_new(hooks,
                                      json_pack("[I, s, s]", (json_int_t)lp_stmt_int64(st, 0),
                                                lp_stmt_text(st, 1), lp_stmt_text(st, 2)));
        lp_stmt_done(st);
        size_t i;
        json_t *h;
        json_array_foreach(hooks, i, h)
        {
            if (rc < 0) break;
            rc = enqueue(db, project_id, json_integer_value(json_array_get(h, 0)), event,
                         json_string_value(json_array_get(h, 1)),
                         json_string_value(json_array_get(h, 2)), payload, now);
        }
        json_decref(hooks);
    }
    free(payload);
    return rc;
}

struct lp_deliverer {
    lp_db_pool *pool;
    int64_t retry_ms, poll_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

typedef struct due {
    int64_t id;
    char *url, *secret, *payload, *message_id;
    int64_t created_at, attempts;
} due;

static void due_free(due *d)
{
    free(d->url);
    free(d->secret);
    free(d->payload);
    free(d->message_id);
}

/* Posts one delivery, signed (lp_outbound_request: checked addresses, no
 * redirects -- a 3xx is an answer like any other non-2xx); returns the
 * HTTP status, 0 on a transport error with err filled. */
static long post(const due *d, char *err, size_t errn)
{
    int64_t ts = lp_now_ms() / 1000;
    char sig[128], h1[160], h2[64], h3[160];
    lp_webhook_sign(d->secret, d->message_id, ts, d->payload, strlen(d->payload), sig, sizeof sig);
    snprintf(h1, sizeof h1, "webhook-id: %s", d->message_id);
    snprintf(h2, sizeof h2, "webhook-timestamp: %lld", (long long)ts);
    snprintf(h3, sizeof h3, "webhook-signature: %s", sig);
    const char *hs[] = {"Content-Type: application/json", h1, h2, h3,
                        "User-Agent: loupe-webhooks", NULL};
    lp_http_req r = {.method = "POST", .url = d->url, .headers = hs, .body = d->payload,
                     .body_len = strlen(d->payload), .timeout_ms = 15000};
    return lp_outbound_request(&r, NULL, err, errn);
}

/* Claims up to 16 due deliveries for this process. */
static int claim(lp_db *db, due *out, int max)
{
    int64_t now = lp_now_ms();
    int n = 0;
    if (lp_db_begin(db, LP_TX_WRITE) < 0) return 0;
    lp_stmt *st;
    /* Where transactions run side by side (several processes on one
     * PostgreSQL), rows another deliverer is claiming are skipped, and a
     * claim counts only if the row was still unclaimed when updated. */
#define DUE                                                                              \
    "SELECT id, url, secret, payload, message_id, created_at, attempts FROM deliveries " \
    "WHERE status = 'pending' AND next_at <= ? AND claimed_until < ? ORDER BY next_at "  \
    "LIMIT 16"
    static const char *const sql[2] = {DUE, DUE " FOR UPDATE SKIP LOCKED"};
#undef DUE
    if (lp_db_prepare(db, sql[lp_db_row_locks(db)], &st) == 0) {
        lp_stmt_bind_int64(st, 1, now);
        lp_stmt_bind_int64(st, 2, now);
        while (n < max && lp_stmt_step(st) == LP_DB_ROW) {
            out[n].id = lp_stmt_int64(st, 0);
            out[n].url = lp_strdup(lp_stmt_text(st, 1));
            out[n].secret = lp_strdup(lp_stmt_text(st, 2));
            out[n].payload = lp_strdup(lp_stmt_text(st, 3));
            out[n].message_id = lp_strdup(lp_stmt_text(st, 4));
            out[n].created_at = lp_stmt_int64(st, 5);
            out[n].attempts = lp_stmt_int64(st, 6);
            n++;
        }
        lp_stmt_done(st);
    }
    int kept = 0;
    for (int i = 0; i < n; i++) {
        int rc = lp_db_run(db,
                           "UPDATE deliveries SET claimed_until = ? WHERE id = ? AND "
                           "claimed_until < ?",
                           "iii", now + 60000, out[i].id, now);
        if (rc == 0 && lp_db_changes(db) == 1)
            out[kept++] = out[i];
        else
            due_free(&out[i]);
    }
    if (lp_db_commit(db) < 0) {
        for (int i = 0; i < kept; i++) due_free(&out[i]);
        kept = 0;
    }
    return kept;
}

/* Records an attempt and the delivery's new state. */
static void record(lp_deliverer *dl, lp_db *db, const due *d, long status, const char *err,
                   int64_t ms)
{
    int64_t now = lp_now_ms();
    int ok = status >= 200 && status < 300;
    lp_db_begin(db, LP_TX_WRITE);
    /* A transport error has no HTTP status: 0 is stored as NULL. */
    lp_db_run(db,
              "INSERT INTO delivery_attempts (delivery_id, at, http_status, error, duration_ms) "
              "VALUES (?, ?, NULLIF(?, 0), ?, ?)",
              "iiisi", d->id, now, (int64_t)status, err[0] ? err : NULL, ms);
    if (ok) {
        lp_db_run(
            db,
            "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, "
            "last_status = ?, last_error = NULL, delivered_at = ?, claimed_until = 0 WHERE id = ?",
            "iii", (int64_t)status, now, d->id);
    } else {
        int64_t delay = dl->retry_ms;
        for (int64_t k = 0; k < d->attempts && delay < 3600000; k++) delay *= 2;
        if (delay > 3600000) delay = 3600000;
        int give_up = now + delay > d->created_at + LP_DELIVERY_DAY_MS;
        char why[300];
        if (err[0])
            snprintf(why, sizeof why, "%s", err);
        else
            snprintf(why, sizeof why, "answered %ld", status);
        lp_db_run(db,
                  "UPDATE deliveries SET status = ?, attempts = attempts + 1, "
                  "last_status = NULLIF(?, 0), last_error = ?, next_at = ?, claimed_until = 0 "
                  "WHERE id = ?",
                  "sisii", give_up ? "failed" : "pending", (int64_t)status, why, now + delay,
                  d->id);
    }
    lp_db_commit(db);
}

static void *run(void *arg)
{
    lp_deliverer *dl = arg;
    for (;;) {
        pthread_mutex_lock(&dl->mu);
        if (!dl->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)(dl->poll_ms % 1000) * 1000000;
            ts.tv_sec += dl->poll_ms / 1000 + ts.tv_nsec / 1000000000;
            ts.tv_nsec %= 1000000000;
            pthread_cond_timedwait(&dl->cv, &dl->mu, &ts);
        }
        int stop = dl->stop;
        pthread_mutex_unlock(&dl->mu);
        if (stop) break;
        due batch[16];
        lp_db *db = lp_db_pool_get(dl->pool);
        int n = claim(db, batch, 16);
        lp_db_pool_put(dl->pool, db);
        for (int i = 0; i < n; i++) {
            char err[256 + 8] = "";
            uint64_t t0 = lp_mono_ns();
            long status = post(&batch[i], err, sizeof err);
            int64_t ms = (int64_t)((lp_mono_ns() - t0) / 1000000);
            db = lp_db_pool_get(dl->pool);
            record(dl, db, &batch[i], status, err, ms);
            lp_db_pool_put(dl->pool, db);
            due_free(&batch[i]);
        }
    }
    return NULL;
}

int lp_deliverer_start(lp_db_pool *pool, int64_t retry_ms, int64_t poll_ms, lp_deliverer **out)
{
    lp_outbound_init();
    lp_deliverer *dl = lp_calloc(1, sizeof *dl);
    dl->pool = pool;
    dl->retry_ms = retry_ms > 0 ? retry_ms : 5000;
    dl->poll_ms = poll_ms > 0 ? poll_ms : 250;
    pthread_mutex_init(&dl->mu, NULL);
    pthread_cond_init(&dl->cv, NULL);
    if (pthread_create(&dl->thread, NULL, run, dl) != 0) {
        free(dl);
        *out = NULL;
        return LP_EUNAVAIL;
    }
    *out = dl;
    return 0;
}

void lp_deliverer_stop(lp_deliverer *d)
{
    if (!d) return;
    pthread_mutex_lock(&d->mu);
    d->stop = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    free(d);
}
