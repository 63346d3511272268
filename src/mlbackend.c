/* mlbackend.c -- see mlbackend.h.
 *
 * One dispatcher thread a process.  Each round it reads the backends
 * (ml_backends), and for each: claims and starts its set-up when its
 * settings changed, a health check every 30 s, feeds its queue from the
 * task cursor, claims batches of due tasks while fewer than
 * max_concurrency calls of this process are in flight, and the next
 * accepted annotations for /webhook.  Every call runs in a thread of its
 * own, holding no database connection while it waits for the backend;
 * claims (the *_until columns) expire, so work a stopped process had
 * claimed is done again by another. */
#include "mlbackend.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "labelstudio.h"
#include "outbound.h"
#include "predictions.h"
#include "tasks.h"
#include "util.h"

#define MAX_BACKENDS 256
#define MAX_JOBS 32              /* calls in flight in this process */
#define HEALTH_EVERY_MS 30000    /* how often /health is asked */
#define SWEEP_EVERY_MS 60000     /* PostgreSQL: tasks committed behind the cursor */
#define FILL_PAGE 1000           /* tasks queued a round */
#define TX_TASKS 50              /* predictions written a transaction */
#define TRAIN_BATCH 10           /* annotations a training job sends, one call each */
#define REPLY_MAX (16u << 20)    /* the largest reply read */
#define MAX_PAUSE_MS 300000      /* longest pause after failures */
#define CLAIM_SLACK_MS 60000     /* a claim outlives the call's time-out by this */

/* A backend's settings and state, as read from ml_backends. */
typedef struct backend {
    int64_t project_id, generation, setup_generation, task_cursor, annotation_cursor;
    int64_t train_attempts, paused_until, health_at;
    char url[2100];
    char *model_version;
    int64_t batch, timeout, conc, retries;
    int train;
} backend;

/* This process's view of a backend: what it has in flight. */
typedef struct bstate {
    int64_t project_id;
    int inflight, setup_busy, health_busy, train_busy;
    int64_t setup_next, sweep_at;
} bstate;

struct lp_mlb {
    lp_db_pool *pool;
    int64_t poll_ms, retry_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, jobs;
    volatile int cancel;
    bstate st[MAX_BACKENDS];
    int nst;
};

enum job_kind { JOB_SETUP, JOB_HEALTH, JOB_PREDICT, JOB_TRAIN };

typedef struct job {
    lp_mlb *m;
    bstate *s;
    enum job_kind kind;
    backend b;
    int64_t *tasks;
    int ntasks;
    int image; /* the project's tasks are images (its labeling config) */
} job;

/* ---- settings ---- */

static void settings_of(const json_t *cfg, backend *b)
{
    snprintf(b->url, sizeof b->url, "%s", json_string_value(json_object_get(cfg, "url")));
    size_t n = strlen(b->url);
    while (n && b->url[n - 1] == '/') b->url[--n] = 0;
    b->batch = json_integer_value(json_object_get(cfg, "batch_size"));
    b->timeout = json_integer_value(json_object_get(cfg, "timeout_ms"));
    b->conc = json_integer_value(json_object_get(cfg, "max_concurrency"));
    b->retries = json_integer_value(json_object_get(cfg, "retries"));
    b->train = json_is_true(json_object_get(cfg, "train"));
}

/* ---- the calls ---- */

/* The pause after n failures in a row: retry_ms doubling, at most 5
 * minutes, +-20% so that processes and backends do not move in step. */
static int64_t backoff(const lp_mlb *m, int64_t n)
{
    double d = (double)m->retry_ms * pow(2, (double)(n > 1 ? (n < 30 ? n - 1 : 29) : 0));
    if (d > MAX_PAUSE_MS) d = MAX_PAUSE_MS;
    return (int64_t)(d * (0.8 + 0.4 * randombytes_uniform(1001) / 1000.0));
}

/* POSTs (or GETs, body NULL) url + path; returns the status, 0 on a
 * transport error; err says what went wrong when it is not 2xx. */
static long call(lp_mlb *m, const backend *b, const char *path, const char *body, lp_buf *reply,
                 char *err, size_t errn)
{
    char url[2200];
    snprintf(url, sizeof url, "%s%s", b->url, path);
    const char *hs[] = {"Content-Type: application/json", "Accept: application/json",
                        "User-Agent: loupe-ml", NULL};
    lp_http_req r = {.method = body ? "POST" : "GET",
                     .url = url,
                     .headers = hs,
                     .body = body,
                     .body_len = body ? strlen(body) : 0,
                     .timeout_ms = b->timeout,
                     .reply_max = REPLY_MAX,
                     .cancel = &m->cancel};
    long status = lp_outbound_request(&r, reply, err, errn);
    if (status && (status < 200 || status > 299)) {
        lp_buf snippet = {0};
        if (reply->data) lp_utf8_clean(reply->data, 150, &snippet);
        snprintf(err, errn, "%s answered HTTP %ld%s%.*s", path, status, snippet.len ? ": " : "",
                 (int)snippet.len, snippet.data ? snippet.data : "");
        lp_buf_fini(&snippet);
    } else if (!status) {
        char inner[400];
        snprintf(inner, sizeof inner, "%s", err);
        snprintf(err, errn, "%s: %s", path, inner);
    }
    return status;
}

/* The reply as JSON, or NULL with err filled. */
static json_t *reply_json(const lp_buf *reply, const char *path, char *err, size_t errn)
{
    json_error_t je;
    json_t *v = reply->data ? json_loadb(reply->data, reply->len, 0, &je) : NULL;
    if (!v) snprintf(err, errn, "%s answered something that is not JSON", path);
    return v;
}

/* A failure of the backend: counted, and it is paused. */
static void backend_failed(lp_mlb *m, lp_db *db, int64_t project_id, const char *err, int train)
{
    int64_t streak = 0, now = lp_now_ms();
    if (lp_db_begin(db, LP_TX_WRITE) < 0) return;
    int rc = lp_db_run(db,
                       "UPDATE ml_backends SET calls = calls + 1, failures = failures + 1, "
                       "fail_streak = fail_streak + 1, last_error = ?, last_error_at = ?, "
                       "train_attempts = train_attempts + ? WHERE project_id = ?",
                       "siii", err, now, (int64_t)train, project_id);
    if (rc == 0)
        rc = lp_db_int64(db, &streak, "SELECT fail_streak FROM ml_backends WHERE project_id = ?",
                         "i", project_id);
    if (rc == 0)
        rc = lp_db_run(db, "UPDATE ml_backends SET paused_until = ? WHERE project_id = ?", "ii",
                       now + backoff(m, streak), project_id);
    if (rc == 0) rc = lp_db_commit(db);
    else lp_db_rollback(db);
    lp_log(LP_LOG_WARN, "ML backend of project %lld: %s", (long long)project_id, err);
}

static void backend_ok(lp_db *db, int64_t project_id, int64_t predicted)
{
    lp_db_run(db,
              "UPDATE ml_backends SET calls = calls + 1, predicted = predicted + ?, "
              "fail_streak = 0, paused_until = 0, last_ok_at = ? WHERE project_id = ?",
              "iii", predicted, lp_now_ms(), project_id);
}

/* 1 when the project's tasks are images (its first task has an image and
 * no text): categorization then labels an Image, not a Text.  Decided once
 * per call from the project, so /setup, /predict and /webhook agree. */
static int project_images(lp_db *db, int64_t project_id)
{
    lp_stmt *st;
    int image = 0;
    if (lp_db_prepare(db,
                      "SELECT data, attachments FROM tasks WHERE project_id = ? ORDER BY id "
                      "LIMIT 1",
                      &st) < 0)
        return 0;
    lp_stmt_bind_int64(st, 1, project_id);
    if (lp_stmt_step(st) == LP_DB_ROW) {
        json_t *d = lp_stmt_is_null(st, 0) ? NULL : json_loads(lp_stmt_text(st, 0), 0, NULL);
        json_t *a = lp_stmt_is_null(st, 1) ? NULL : json_loads(lp_stmt_text(st, 1), 0, NULL);
        size_t i;
        const json_t *x;
        json_array_foreach(a, i, x)
        {
            const char *type = json_string_value(json_object_get(x, "type"));
            image |= type && !strcmp(type, "image");
        }
        image &= !json_is_string(json_object_get(d, "text"));
        json_decref(d);
        json_decref(a);
    }
    lp_stmt_done(st);
    return image;
}

static char *label_config(const lp_project *p, int image)
{
    char why[400];
    char *cfg = lp_ls_label_config(p, image, why, sizeof why);
    return cfg ? cfg : lp_strdup("<View></View>");
}

static void job_setup(job *j, const lp_project *p)
{
    char *cfg = label_config(p, j->image), err[600] = "";
    char key[64];
    snprintf(key, sizeof key, "%lld.%lld", (long long)p->id, (long long)j->b.generation);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s*}", "project", key, "schema", cfg,
                             "hostname", "", "access_token", "", "model_version",
                             j->b.model_version);
    char *text = json_dumps(body, LP_JSON_DUMP);
    json_decref(body);
    free(cfg);
    lp_buf reply = {0};
    long status = call(j->m, &j->b, "/setup", text, &reply, err, sizeof err);
    free(text);
    int ok = status >= 200 && status <= 299;
    json_t *v = ok ? reply_json(&reply, "/setup", err, sizeof err) : NULL;
    const char *version = json_string_value(json_object_get(v, "model_version"));
    lp_buf_fini(&reply);
    if (j->m->cancel) { /* stopping: the claim is given back for the next process */
        lp_db *db = lp_db_pool_get(j->m->pool);
        lp_db_run(db, "UPDATE ml_backends SET setup_claimed_until = 0 WHERE project_id = ?", "i",
                  p->id);
        lp_db_pool_put(j->m->pool, db);
        json_decref(v);
        return;
    }
    lp_db *db = lp_db_pool_get(j->m->pool);
    if (ok && v) {
        lp_db_run(db,
                  "UPDATE ml_backends SET setup_generation = ?, model_version = COALESCE(?, "
                  "model_version), setup_claimed_until = 0 WHERE project_id = ? AND "
                  "generation = ?",
                  "isii", j->b.generation, version && version[0] ? version : NULL, p->id,
                  j->b.generation);
    } else {
        lp_db_run(db,
                  "UPDATE ml_backends SET failures = failures + 1, last_error = ?, "
                  "last_error_at = ?, setup_claimed_until = 0 WHERE project_id = ?",
                  "sii", err, lp_now_ms(), p->id);
        pthread_mutex_lock(&j->m->mu);
        j->s->setup_next = lp_now_ms() + backoff(j->m, 3);
        pthread_mutex_unlock(&j->m->mu);
    }
    lp_db_pool_put(j->m->pool, db);
    json_decref(v);
}

static void job_health(job *j)
{
    char err[600] = "";
    lp_buf reply = {0};
    long status = call(j->m, &j->b, "/health", NULL, &reply, err, sizeof err);
    int up = status >= 200 && status <= 299;
    json_t *v = up ? reply_json(&reply, "/health", err, sizeof err) : NULL;
    const char *s = json_string_value(json_object_get(v, "status"));
    if (up && !v) up = 0;
    if (up && s && strcmp(s, "UP")) {
        snprintf(err, sizeof err, "/health says status \"%.100s\"", s);
        up = 0;
    }
    if (!j->m->cancel) {
        lp_db *db = lp_db_pool_get(j->m->pool);
        lp_db_run(db, "UPDATE ml_backends SET health = ?, health_error = ? WHERE project_id = ?",
                  "ssi", up ? "up" : "down", up ? NULL : err, j->b.project_id);
        lp_db_pool_put(j->m->pool, db);
    }
    json_decref(v);
    lp_buf_fini(&reply);
}

/* One task's prediction in a /predict reply as {model, response, score}:
 * a prediction {result, score?, model_version?}, a list of them (the best
 * scored), or a bare list of regions.  NULL with *none set when there is
 * none (null, {}, []), NULL with why when it cannot be read. */
static json_t *prediction_of(const lp_project *p, const json_t *task, const json_t *item,
                             const char *dflt_model, int *none, char *why, size_t whyn)
{
    *none = 0;
    const json_t *result = NULL;
    if (json_is_array(item) && json_is_object(json_array_get(item, 0)) &&
        !json_object_get(json_array_get(item, 0), "type")) { /* predictions: the best */
        const json_t *best = NULL, *x;
        double bs = -1;
        size_t i;
        json_array_foreach(item, i, x)
        {
            double sc = -0.5;
            lp_json_number(json_object_get(x, "score"), &sc);
            if (!best || sc > bs) best = x, bs = sc;
        }
        item = best;
    }
    if (json_is_array(item)) {
        result = item; /* regions */
        item = NULL;
    } else if (json_is_object(item)) {
        result = json_object_get(item, "result");
    }
    if (!result && (!item || json_is_null(item) || !json_object_size(item))) {
        *none = 1;
        return NULL;
    }
    if (!json_is_array(result)) {
        snprintf(why, whyn, "its prediction has no \"result\" list of regions");
        return NULL;
    }
    json_t *data = json_object_get(task, "data"), *response = NULL;
    if (lp_ls_response(p, data, result, &response, why, whyn) < 0) return NULL;
    if (!response) {
        *none = 1;
        return NULL;
    }
    const char *model = json_string_value(json_object_get(item, "model_version"));
    json_t *pr = json_pack("{s:s, s:o}", "model", model && model[0] ? model : dflt_model,
                           "response", response);
    const json_t *score = json_object_get(item, "score");
    if (json_is_number(score)) json_object_set(pr, "score", (json_t *)score);
    lp_verr e;
    if (lp_task_check_prediction(p, task, pr, "prediction", 1, &e)) {
        snprintf(why, whyn, "%s: %s", e.field, e.message);
        json_decref(pr);
        return NULL;
    }
    return pr;
}

/* The tasks of the job, loaded: NULL where a task is gone or not open. */
static json_t *load_tasks(lp_db *db, const job *j)
{
    json_t *tasks = json_array();
    for (int i = 0; i < j->ntasks; i++) {
        int64_t pid;
        json_t *t = NULL;
        if (lp_task_get(db, j->tasks[i], &pid, &t) == 0 && pid == j->b.project_id) {
            const char *s = json_string_value(json_object_get(t, "status"));
            if (s && (!strcmp(s, "pending") || !strcmp(s, "in_progress"))) {
                json_array_append_new(tasks, t);
                continue;
            }
        }
        json_decref(t);
        json_array_append_new(tasks, json_null());
    }
    return tasks;
}

/* Marks task i's queue row: done (err NULL) or an attempt failed. */
static int mark(lp_mlb *m, lp_db *db, const backend *b, int64_t task_id, const char *err)
{
    int64_t now = lp_now_ms();
    if (!err)
        return lp_db_run(db,
                         "UPDATE ml_queue SET state = 'done', claimed_until = 0, error = NULL, "
                         "updated_at = ? WHERE project_id = ? AND task_id = ?",
                         "iii", now, b->project_id, task_id);
    int64_t attempts = 0;
    int rc = lp_db_int64(db, &attempts,
                         "SELECT attempts FROM ml_queue WHERE project_id = ? AND task_id = ?",
                         "ii", b->project_id, task_id);
    if (rc < 0) return rc == LP_ENOTFOUND ? 0 : rc;
    attempts++;
    return lp_db_run(db,
                     "UPDATE ml_queue SET state = ?, attempts = ?, next_at = ?, claimed_until = 0, "
                     "error = ?, updated_at = ? WHERE project_id = ? AND task_id = ?",
                     "siisiii", attempts > b->retries ? "failed" : "waiting", attempts,
                     now + backoff(m, attempts), err, now, b->project_id, task_id);
}

static void job_predict(job *j, lp_db *db, const lp_project *p)
{
    json_t *tasks = load_tasks(db, j), *ls = json_array();
    lp_db_pool_put(j->m->pool, db); /* no connection held while the backend thinks */
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) if (!json_is_null(t)) json_array_append_new(ls, lp_ls_task(t));
    char err[600] = "";
    lp_buf reply = {0};
    json_t *results = NULL, *v = NULL;
    long status = 0;
    if (json_array_size(ls)) {
        char *cfg = label_config(p, j->image), key[64];
        snprintf(key, sizeof key, "%lld.%lld", (long long)p->id, (long long)j->b.generation);
        json_t *body = json_pack("{s:O, s:s, s:s, s:{s:n, s:n, s:n}}", "tasks", ls, "project",
                                 key, "label_config", cfg, "params", "login", "password",
                                 "context");
        free(cfg);
        char *text = json_dumps(body, LP_JSON_DUMP);
        json_decref(body);
        status = call(j->m, &j->b, "/predict", text, &reply, err, sizeof err);
        free(text);
        if (status >= 200 && status <= 299 && (v = reply_json(&reply, "/predict", err, sizeof err))) {
            results = json_is_array(v) ? v : json_object_get(v, "results");
            if (!json_is_array(results)) {
                snprintf(err, sizeof err, "/predict answered no \"results\" list");
                results = NULL;
            } else if (json_array_size(results) != json_array_size(ls)) {
                snprintf(err, sizeof err, "/predict answered %zu results for %zu tasks",
                         json_array_size(results), json_array_size(ls));
                results = NULL;
            }
        }
    }
    db = lp_db_pool_get(j->m->pool);
    if (j->m->cancel) {
        /* stopping: nothing is recorded, and the tasks' claims are given
         * back, so that the next process to run sends them at once */
        if (lp_db_begin(db, LP_TX_WRITE) == 0) {
            int rc = 0;
            for (int k = 0; k < j->ntasks && rc == 0; k++)
                rc = lp_db_run(db,
                               "UPDATE ml_queue SET claimed_until = 0 WHERE project_id = ? AND "
                               "task_id = ?",
                               "ii", p->id, j->tasks[k]);
            if (rc == 0) lp_db_commit(db);
            else lp_db_rollback(db);
        }
    } else if (json_array_size(ls) && !results) {
        backend_failed(j->m, db, p->id, err, 0);
        for (int k = 0; k < j->ntasks; k += TX_TASKS) {
            if (lp_db_begin(db, LP_TX_WRITE) < 0) break;
            int rc = 0;
            for (int x = k; x < j->ntasks && x < k + TX_TASKS && rc == 0; x++)
                rc = json_is_null(json_array_get(tasks, (size_t)x))
                         ? mark(j->m, db, &j->b, j->tasks[x], NULL)
                         : mark(j->m, db, &j->b, j->tasks[x], err);
            if (rc == 0) lp_db_commit(db);
            else lp_db_rollback(db);
        }
    } else {
        const char *dflt = json_string_value(json_object_get(v, "model_version"));
        if (!dflt || !dflt[0]) dflt = j->b.model_version ? j->b.model_version : "ml-backend";
        int64_t predicted = 0;
        size_t r = 0; /* the index in results of the next open task */
        for (int k = 0; k < j->ntasks; k += TX_TASKS) {
            if (lp_db_begin(db, LP_TX_WRITE) < 0) break;
            int rc = 0;
            int64_t got = 0;
            for (int x = k; x < j->ntasks && x < k + TX_TASKS && rc == 0; x++) {
                const json_t *task = json_array_get(tasks, (size_t)x);
                if (json_is_null(task)) {
                    rc = mark(j->m, db, &j->b, j->tasks[x], NULL);
                    continue;
                }
                char why[500] = "";
                int none;
                json_t *pr = prediction_of(p, task, json_array_get(results, r++), dflt, &none,
                                           why, sizeof why);
                int failed = !pr && !none;
                if (pr) {
                    int w = lp_prediction_put(db, j->tasks[x], pr);
                    if (w == 0) {
                        got++;
                    } else if (w == LP_ETOOBIG) {
                        snprintf(why, sizeof why, "the task has 100 other models' predictions");
                        failed = 1;
                    } else if (w != LP_ENOTFOUND) { /* (a task gone meanwhile is done) */
                        rc = w;
                    }
                    json_decref(pr);
                }
                if (rc == 0) {
                    char full[600];
                    snprintf(full, sizeof full, "/predict: %s", why);
                    rc = mark(j->m, db, &j->b, j->tasks[x], failed ? full : NULL);
                }
            }
            if (rc == 0) {
                backend_ok(db, p->id, got);
                rc = lp_db_commit(db);
            } else {
                lp_db_rollback(db);
            }
            if (rc == 0) predicted += got;
        }
        (void)predicted;
    }
    lp_db_pool_put(j->m->pool, db);
    json_decref(v);
    json_decref(ls);
    json_decref(tasks);
    lp_buf_fini(&reply);
}

/* Sends the next accepted annotations to /webhook, in order, one call
 * each, until one fails. */
static void job_train(job *j, lp_db *db, const lp_project *p)
{
    int64_t ids[TRAIN_BATCH], tids[TRAIN_BATCH], users[TRAIN_BATCH], at[TRAIN_BATCH];
    json_t *resp[TRAIN_BATCH];
    int n = 0;
    lp_stmt *st;
    /* The cursor as it is now, under this job's claim (the round's copy may
     * be older than a train job that ended since). */
    int64_t cursor = 0, attempts = 0;
    lp_db_int64(db, &cursor, "SELECT annotation_cursor FROM ml_backends WHERE project_id = ?", "i",
                p->id);
    lp_db_int64(db, &attempts, "SELECT train_attempts FROM ml_backends WHERE project_id = ?", "i",
                p->id);
    /* Where transactions commit out of id order (PostgreSQL), an
     * annotation is sent once it is 2 s old, so that one committed late
     * behind a later id is not passed by the cursor. */
    if (lp_db_prepare(db,
                      "SELECT id, task_id, user_id, response, created_at FROM annotations WHERE "
                      "project_id = ? AND status = 'accepted' AND id > ? AND created_at <= ? "
                      "ORDER BY id LIMIT 10",
                      &st) == 0) {
        lp_stmt_bind_int64(st, 1, p->id);
        lp_stmt_bind_int64(st, 2, cursor);
        lp_stmt_bind_int64(st, 3, lp_db_row_locks(db) ? lp_now_ms() - 2000 : INT64_MAX);
        while (n < TRAIN_BATCH && lp_stmt_step(st) == LP_DB_ROW) {
            ids[n] = lp_stmt_int64(st, 0), tids[n] = lp_stmt_int64(st, 1);
            users[n] = lp_stmt_int64(st, 2), at[n] = lp_stmt_int64(st, 4);
            resp[n++] = json_loads(lp_stmt_text(st, 3), 0, NULL);
        }
        lp_stmt_done(st);
    }
    json_t *tasks = json_array();
    for (int i = 0; i < n; i++) {
        int64_t pid;
        json_t *t = NULL;
        lp_task_get(db, tids[i], &pid, &t);
        json_array_append_new(tasks, t ? t : json_null());
    }
    lp_db_pool_put(j->m->pool, db);
    char *cfg = label_config(p, j->image);
    for (int i = 0; i < n; i++) {
        const json_t *t = json_array_get(tasks, (size_t)i);
        json_t *lt = json_is_null(t) ? json_pack("{s:I, s:{}}", "id", (json_int_t)tids[i], "data")
                                     : lp_ls_task(t);
        char when[40];
        lp_time_format(at[i], when, sizeof when); /* ISO 8601, as Label Studio sends */
        json_t *body = json_pack(
            "{s:s, s:{s:I, s:o, s:I, s:I, s:s}, s:o, s:{s:I, s:s, s:s}}", "action",
            "ANNOTATION_CREATED", "annotation", "id", (json_int_t)ids[i], "result",
            lp_ls_result(p, json_object_get(lt, "data"), resp[i]), "task", (json_int_t)tids[i],
            "completed_by", (json_int_t)users[i], "created_at", when, "task", lt, "project",
            "id", (json_int_t)p->id, "title", p->name, "label_config", cfg);
        char *text = json_dumps(body, LP_JSON_DUMP), err[600] = "";
        json_decref(body);
        lp_buf reply = {0};
        long status = call(j->m, &j->b, "/webhook", text, &reply, err, sizeof err);
        free(text);
        lp_buf_fini(&reply);
        int ok = status >= 200 && status <= 299;
        /* A backend without /webhook does not train: the event is dropped,
         * not retried. */
        int unheard = status == 404 || status == 405;
        if (j->m->cancel) break; /* stopping: sent again by the next process (the claim is given back below) */
        db = lp_db_pool_get(j->m->pool);
        if (ok || unheard || attempts >= j->b.retries) {
            lp_db_run(db,
                      ok ? "UPDATE ml_backends SET annotation_cursor = ?, trained = trained + 1, "
                           "train_attempts = 0, fail_streak = 0, paused_until = 0 WHERE "
                           "project_id = ?"
                         : "UPDATE ml_backends SET annotation_cursor = ?, train_failures = "
                           "train_failures + 1, train_attempts = 0 WHERE project_id = ?",
                      "ii", ids[i], p->id);
            if (!ok && !unheard) {
                lp_db_run(db,
                          "UPDATE ml_backends SET last_error = ?, last_error_at = ? WHERE "
                          "project_id = ?",
                          "sii", err, lp_now_ms(), p->id);
            }
            attempts = 0;
            lp_db_pool_put(j->m->pool, db);
            if (ok || unheard) continue;
            break;
        }
        backend_failed(j->m, db, p->id, err, 1);
        lp_db_pool_put(j->m->pool, db);
        break;
    }
    free(cfg);
    for (int i = 0; i < n; i++) json_decref(resp[i]);
    json_decref(tasks);
    db = lp_db_pool_get(j->m->pool);
    lp_db_run(db, "UPDATE ml_backends SET train_claimed_until = 0 WHERE project_id = ?", "i",
              p->id);
    lp_db_pool_put(j->m->pool, db);
}

/* Counts a job of kind on its backend's slot in (delta 1) or out (-1),
 * and wakes the dispatcher when one ends: a slot may be free. */
static void busy(lp_mlb *m, bstate *s, enum job_kind kind, int delta)
{
    pthread_mutex_lock(&m->mu);
    m->jobs += delta;
    switch (kind) {
    case JOB_SETUP: s->setup_busy = delta > 0; break;
    case JOB_HEALTH: s->health_busy = delta > 0; break;
    case JOB_PREDICT: s->inflight += delta; break;
    case JOB_TRAIN: s->train_busy = delta > 0; break;
    }
    if (delta < 0) pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

static void *job_main(void *arg)
{
    job *j = arg;
    lp_db *db = lp_db_pool_get(j->m->pool);
    lp_project *p = NULL;
    if (lp_project_get(db, j->b.project_id, &p) == 0) {
        j->image = project_images(db, p->id);
        switch (j->kind) { /* each holds no connection while it waits for the backend */
        case JOB_SETUP:
            lp_db_pool_put(j->m->pool, db);
            job_setup(j, p);
            break;
        case JOB_HEALTH:
            lp_db_pool_put(j->m->pool, db);
            job_health(j);
            break;
        case JOB_PREDICT: job_predict(j, db, p); break;
        case JOB_TRAIN: job_train(j, db, p); break;
        }
    } else {
        lp_db_pool_put(j->m->pool, db);
    }
    lp_project_free(p);
    busy(j->m, j->s, j->kind, -1);
    free(j->b.model_version);
    free(j->tasks);
    free(j);
    return NULL;
}

/* Starts a job; the busy mark is set by the caller (under mu). */
static int spawn(lp_mlb *m, bstate *s, enum job_kind kind, const backend *b, int64_t *tasks,
                 int ntasks)
{
    job *j = lp_calloc(1, sizeof *j);
    *j = (job){.m = m, .s = s, .kind = kind, .b = *b, .tasks = tasks, .ntasks = ntasks};
    j->b.model_version = b->model_version ? lp_strdup(b->model_version) : NULL;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    busy(m, s, kind, 1);
    if (pthread_create(&t, &attr, job_main, j) != 0) {
        busy(m, s, kind, -1);
        free(j->b.model_version);
        free(j);
        free(tasks);
        pthread_attr_destroy(&attr);
        return -1;
    }
    pthread_attr_destroy(&attr);
    return 0;
}

/* ---- the dispatcher ---- */

/* 1 if this process claimed column col of the backend (set it to until),
 * which it may when the column is below free_below. */
static int claim_column(lp_db *db, int64_t project_id, const char *col, int64_t until,
                        int64_t free_below)
{
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE ml_backends SET %s = ? WHERE project_id = ? AND %s < ?",
             col, col);
    return lp_db_run(db, sql, "iii", until, project_id, free_below) == 0 &&
           lp_db_changes(db) == 1;
}

/* Queues the project's tasks after the cursor (and, where transactions
 * commit out of id order, open tasks behind it that no row names). */
static void fill(lp_db *db, backend *b, bstate *s)
{
    int64_t now = lp_now_ms(), last = b->task_cursor, ids[FILL_PAGE], more = 0;
    int n = 0, scanned = 0, sweep = now >= s->sweep_at;
    /* (read first: most rounds find nothing, and take no write lock) */
    if (!sweep && lp_db_int64(db, &more, "SELECT 1 FROM tasks WHERE project_id = ? AND id > ? LIMIT 1",
                              "ii", b->project_id, b->task_cursor) != 0)
        return;
    if (lp_db_begin(db, LP_TX_WRITE) < 0) return;
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT id, status FROM tasks WHERE project_id = ? AND id > ? "
                           "ORDER BY id LIMIT 1000",
                           &st);
    if (rc == 0) {
        lp_stmt_bind_int64(st, 1, b->project_id);
        lp_stmt_bind_int64(st, 2, b->task_cursor);
        while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
            const char *status = lp_stmt_text(st, 1);
            last = lp_stmt_int64(st, 0);
            scanned++;
            if (!strcmp(status, "pending") || !strcmp(status, "in_progress")) ids[n++] = last;
        }
        lp_stmt_done(st);
    }
    /* Once a minute, open tasks behind the cursor that no row names: a
     * task completed when the cursor passed it and reopened since, or
     * (PostgreSQL) one committed after a later id. */
    if (rc >= 0 && sweep) {
        s->sweep_at = now + SWEEP_EVERY_MS;
        rc = lp_db_prepare(db,
                           "SELECT t.id FROM tasks t WHERE t.project_id = ? AND t.id <= ? AND "
                           "t.status IN ('pending', 'in_progress') AND NOT EXISTS (SELECT 1 "
                           "FROM ml_queue q WHERE q.project_id = t.project_id AND q.task_id = "
                           "t.id) ORDER BY t.id LIMIT 1000",
                           &st);
        if (rc == 0) {
            lp_stmt_bind_int64(st, 1, b->project_id);
            lp_stmt_bind_int64(st, 2, b->task_cursor);
            while (n < FILL_PAGE && (rc = lp_stmt_step(st)) == LP_DB_ROW)
                ids[n++] = lp_stmt_int64(st, 0);
            lp_stmt_done(st);
        }
    }
    for (int i = 0; i < n && rc >= 0; i++)
        rc = lp_db_run(db,
                       "INSERT INTO ml_queue (project_id, task_id, updated_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (project_id, task_id) DO NOTHING",
                       "iii", b->project_id, ids[i], now);
    if (rc >= 0 && scanned)
        rc = lp_db_run(db,
                       "UPDATE ml_backends SET task_cursor = ? WHERE project_id = ? AND "
                       "task_cursor = ?",
                       "iii", last, b->project_id, b->task_cursor);
    if (rc >= 0 && (n || scanned)) {
        lp_db_commit(db);
        if (scanned) b->task_cursor = last;
    } else {
        lp_db_rollback(db);
    }
}

/* Claims up to b->batch due tasks; their ids (new) or NULL. */
static int64_t *claim_batch(lp_db *db, const backend *b, int *n)
{
    int64_t now = lp_now_ms(), due = 0;
    *n = 0;
    if (lp_db_int64(db, &due,
                    "SELECT 1 FROM ml_queue WHERE project_id = ? AND state = 'waiting' AND "
                    "next_at <= ? AND claimed_until < ? LIMIT 1",
                    "iii", b->project_id, now, now) != 0)
        return NULL; /* (nothing due: no write lock taken) */
    if (lp_db_begin(db, LP_TX_WRITE) < 0) return NULL;
#define DUE                                                                          \
    "SELECT task_id FROM ml_queue WHERE project_id = ? AND state = 'waiting' AND " \
    "next_at <= ? AND claimed_until < ? ORDER BY next_at, task_id LIMIT ?"
    static const char *const sql[2] = {DUE, DUE " FOR UPDATE SKIP LOCKED"};
#undef DUE
    lp_stmt *st;
    int64_t *ids = lp_malloc(sizeof *ids * (size_t)b->batch), paused = 0;
    /* A call that failed a moment ago paused the backend after this
     * round read it: look again, in the claim's transaction. */
    int rc = lp_db_int64(db, &paused, "SELECT paused_until FROM ml_backends WHERE project_id = ?",
                         "i", b->project_id);
    if (rc == 0 && paused > now) rc = LP_EBUSY;
    if (rc == 0) rc = lp_db_prepare(db, sql[lp_db_row_locks(db)], &st);
    if (rc == 0) {
        lp_stmt_bind_int64(st, 1, b->project_id);
        lp_stmt_bind_int64(st, 2, now);
        lp_stmt_bind_int64(st, 3, now);
        lp_stmt_bind_int64(st, 4, b->batch);
        while (*n < b->batch && (rc = lp_stmt_step(st)) == LP_DB_ROW)
            ids[(*n)++] = lp_stmt_int64(st, 0);
        lp_stmt_done(st);
    }
    for (int i = 0; i < *n && rc >= 0; i++)
        rc = lp_db_run(db,
                       "UPDATE ml_queue SET claimed_until = ? WHERE project_id = ? AND task_id = ?",
                       "iii", now + b->timeout + CLAIM_SLACK_MS, b->project_id, ids[i]);
    if (rc >= 0 && *n && lp_db_commit(db) == 0) return ids;
    if (lp_db_in_tx(db)) lp_db_rollback(db);
    free(ids);
    *n = 0;
    return NULL;
}

/* The slot of a backend (under mu); a free one (project 0) is reused. */
static bstate *state_for(lp_mlb *m, int64_t project_id)
{
    bstate *free_slot = NULL;
    for (int i = 0; i < m->nst; i++) {
        if (m->st[i].project_id == project_id) return &m->st[i];
        if (!m->st[i].project_id && !free_slot) free_slot = &m->st[i];
    }
    if (!free_slot && m->nst < MAX_BACKENDS) free_slot = &m->st[m->nst++];
    if (free_slot) *free_slot = (bstate){.project_id = project_id};
    return free_slot;
}

/* Frees the slots of backends gone (disconnected) with nothing in flight:
 * a job holds its slot's address, so a busy slot stays. */
static void forget_gone(lp_mlb *m, const backend *bs, int n)
{
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < m->nst; i++) {
        bstate *s = &m->st[i];
        int present = 0;
        for (int k = 0; k < n && !present; k++) present = bs[k].project_id == s->project_id;
        if (!present && !s->inflight && !s->setup_busy && !s->health_busy && !s->train_busy)
            s->project_id = 0;
    }
    pthread_mutex_unlock(&m->mu);
}

static int load_backends(lp_db *db, backend *bs, int max)
{
    lp_stmt *st;
    int n = 0;
    if (lp_db_prepare(db,
                      "SELECT project_id, config, generation, setup_generation, task_cursor, "
                      "annotation_cursor, train_attempts, paused_until, health_at, model_version "
                      "FROM ml_backends ORDER BY project_id LIMIT 256",
                      &st) < 0)
        return 0;
    while (n < max && lp_stmt_step(st) == LP_DB_ROW) {
        backend *b = &bs[n];
        memset(b, 0, sizeof *b);
        json_t *cfg = json_loads(lp_stmt_text(st, 1), 0, NULL);
        if (!cfg) continue;
        settings_of(cfg, b);
        json_decref(cfg);
        b->project_id = lp_stmt_int64(st, 0);
        b->generation = lp_stmt_int64(st, 2), b->setup_generation = lp_stmt_int64(st, 3);
        b->task_cursor = lp_stmt_int64(st, 4), b->annotation_cursor = lp_stmt_int64(st, 5);
        b->train_attempts = lp_stmt_int64(st, 6), b->paused_until = lp_stmt_int64(st, 7);
        b->health_at = lp_stmt_int64(st, 8);
        b->model_version = lp_stmt_is_null(st, 9) ? NULL : lp_strdup(lp_stmt_text(st, 9));
        if (b->batch > 0 && b->timeout > 0 && b->conc > 0) n++;
        else free(b->model_version);
    }
    lp_stmt_done(st);
    return n;
}

static void round_once(lp_mlb *m)
{
    static backend bs[MAX_BACKENDS]; /* (the dispatcher's alone) */
    lp_db *db = lp_db_pool_get(m->pool);
    int n = load_backends(db, bs, MAX_BACKENDS);
    for (int i = 0; i < n && !m->stop; i++) {
        backend *b = &bs[i];
        int64_t now = lp_now_ms();
        pthread_mutex_lock(&m->mu);
        bstate *s = state_for(m, b->project_id);
        int setup_free = s && !s->setup_busy && now >= s->setup_next,
            health_free = s && !s->health_busy, train_free = s && !s->train_busy;
        pthread_mutex_unlock(&m->mu);
        if (!s) continue;
        if (b->setup_generation != b->generation && setup_free &&
            claim_column(db, b->project_id, "setup_claimed_until", now + b->timeout + CLAIM_SLACK_MS,
                         now))
            spawn(m, s, JOB_SETUP, b, NULL, 0);
        if (b->health_at + HEALTH_EVERY_MS <= now && health_free &&
            claim_column(db, b->project_id, "health_at", now, now - HEALTH_EVERY_MS))
            spawn(m, s, JOB_HEALTH, b, NULL, 0);
        fill(db, b, s);
        if (now < b->paused_until) continue;
        for (;;) {
            pthread_mutex_lock(&m->mu);
            int room = s->inflight < b->conc && m->jobs < MAX_JOBS && !m->stop;
            pthread_mutex_unlock(&m->mu);
            int got = 0;
            int64_t *ids = room ? claim_batch(db, b, &got) : NULL;
            if (!ids) break;
            if (spawn(m, s, JOB_PREDICT, b, ids, got) < 0) break;
        }
        int64_t more = 0;
        if (b->train && train_free &&
            lp_db_int64(db, &more,
                        "SELECT 1 FROM annotations WHERE project_id = ? AND status = 'accepted' "
                        "AND id > ? LIMIT 1",
                        "ii", b->project_id, b->annotation_cursor) == 0 &&
            claim_column(db, b->project_id, "train_claimed_until",
                         now + (b->timeout + 1000) * TRAIN_BATCH + CLAIM_SLACK_MS, now))
            spawn(m, s, JOB_TRAIN, b, NULL, 0);
    }
    if (n < MAX_BACKENDS) forget_gone(m, bs, n);
    for (int i = 0; i < n; i++) free(bs[i].model_version);
    lp_db_pool_put(m->pool, db);
}

static void *dispatcher(void *arg)
{
    lp_mlb *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        pthread_mutex_unlock(&m->mu);
        round_once(m);
        pthread_mutex_lock(&m->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (m->poll_ms % 1000) * 1000000;
        ts.tv_sec += m->poll_ms / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        /* (a job's end wakes it early: a free slot may take the next batch) */
        if (!m->stop) pthread_cond_timedwait(&m->cv, &m->mu, &ts);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

int lp_mlb_start(lp_db_pool *pool, int64_t poll_ms, int64_t retry_ms, lp_mlb **out)
{
    lp_outbound_init();
    lp_mlb *m = lp_calloc(1, sizeof *m);
    m->pool = pool;
    m->poll_ms = poll_ms > 0 ? poll_ms : 500;
    m->retry_ms = retry_ms > 0 ? retry_ms : 1000;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    if (pthread_create(&m->thread, NULL, dispatcher, m) != 0) {
        free(m);
        *out = NULL;
        return LP_EIO;
    }
    *out = m;
    return 0;
}

void lp_mlb_stop(lp_mlb *m)
{
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    m->stop = 1;
    m->cancel = 1;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    pthread_mutex_lock(&m->mu);
    while (m->jobs > 0) pthread_cond_wait(&m->cv, &m->mu);
    pthread_mutex_unlock(&m->mu);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    free(m);
}
