/* mlbackend_admin.c -- a project's ML backend as its managers see it
 * (mlbackend.h): connecting it and its settings, disconnecting it, asking
 * for predictions again, and its status.  The calls themselves are
 * mlbackend.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labelstudio.h"
#include "mlbackend.h"
#include "outbound.h"
#include "util.h"

static const char *const config_keys[] = {"url",     "batch_size", "timeout_ms", "max_concurrency",
                                          "retries", "train",      NULL};

/* The settings of body, checked, with defaults (new), or NULL. */
static json_t *check_settings(const lp_project *p, const json_t *body, lp_verr *e)
{
    const char *url;
    long long batch = 10, timeout = 30000, conc = 2, retries = 5;
    int train = 1;
    char why[400];
    if (lp_v_object(body, "", e) || lp_v_only_keys(body, "", config_keys, e) ||
        lp_v_string(body, "url", "", 1, 1, 2048, &url, e) ||
        lp_v_int(body, "batch_size", "", 0, 1, 100, &batch, e) ||
        lp_v_int(body, "timeout_ms", "", 0, 100, 600000, &timeout, e) ||
        lp_v_int(body, "max_concurrency", "", 0, 1, 16, &conc, e) ||
        lp_v_int(body, "retries", "", 0, 0, 20, &retries, e) ||
        lp_v_bool(body, "train", "", 0, &train, e))
        return NULL;
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
        lp_verr_set(e, "url", "must be an http:// or https:// URL");
        return NULL;
    }
    if (strchr(url, '?') || strchr(url, '#')) {
        lp_verr_set(e, "url", "must have no query or fragment: Loupe appends /predict, /setup...");
        return NULL;
    }
    if (strlen(url) > 2048) {
        lp_verr_set(e, "url", "must be at most 2048 bytes");
        return NULL;
    }
    if (lp_outbound_check_url(url, why, sizeof why) < 0) {
        lp_verr_set(e, "url", "%s", why);
        return NULL;
    }
    char *cfg = lp_ls_label_config(p, 0, why, sizeof why);
    if (!cfg) {
        lp_verr_set(e, "project", "%s", why);
        return NULL;
    }
    free(cfg);
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:b}", "url", url, "batch_size",
                     (json_int_t)batch, "timeout_ms", (json_int_t)timeout, "max_concurrency",
                     (json_int_t)conc, "retries", (json_int_t)retries, "train", train);
}

int lp_mlb_put(lp_db *db, const lp_project *p, const json_t *body, json_t **out, lp_verr *e)
{
    *out = NULL;
    json_t *cfg = check_settings(p, body, e);
    if (!cfg) return LP_EINVAL;
    char *text = json_dumps(cfg, LP_JSON_DUMP);
    json_decref(cfg);
    int64_t now = lp_now_ms(), last = 0;
    const char *url = json_string_value(json_object_get(body, "url"));
    lp_stmt *st;
    int rc = lp_db_begin(db, LP_TX_WRITE), had = 0, same_url = 0;
    if (rc == 0) rc = lp_db_prepare(db, "SELECT config FROM ml_backends WHERE project_id = ?", &st);
    if (rc == 0) {
        lp_stmt_bind_int64(st, 1, p->id);
        if ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
            json_t *old = json_loads(lp_stmt_text(st, 0), 0, NULL);
            had = 1;
            same_url = !strcmp(json_string_value(json_object_get(old, "url")) ?: "", url);
            json_decref(old);
        }
        lp_stmt_done(st);
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0 && had) /* new settings: set up again, and a fresh start after failures */
        rc = lp_db_run(db,
                       same_url ? "UPDATE ml_backends SET config = ?, generation = generation + 1, "
                                  "fail_streak = 0, paused_until = 0, health_at = 0, "
                                  "updated_at = ? WHERE project_id = ?"
                                : "UPDATE ml_backends SET config = ?, generation = generation + 1, "
                                  "fail_streak = 0, paused_until = 0, health_at = 0, "
                                  "health = 'unknown', health_error = NULL, last_ok_at = NULL, "
                                  "last_error = NULL, last_error_at = NULL, model_version = NULL, "
                                  "updated_at = ? WHERE project_id = ?",
                       "sii", text, now, p->id);
    /* A new backend is sent the annotations made from now on, as Label
     * Studio sends its webhooks, not the project's whole history. */
    if (rc == 0 && !had)
        rc = lp_db_int64(db, &last,
                         "SELECT COALESCE(MAX(id), 0) FROM annotations WHERE project_id = ?", "i",
                         p->id);
    if (rc == 0 && !had)
        rc = lp_db_run(db,
                       "INSERT INTO ml_backends (project_id, config, annotation_cursor, "
                       "created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                       "isiii", p->id, text, last, now, now);
    free(text);
    if (rc == 0) rc = lp_db_commit(db);
    else lp_db_rollback(db);
    if (rc < 0) return rc;
    return lp_mlb_status(db, p, out);
}

int lp_mlb_delete(lp_db *db, const lp_project *p)
{
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc == 0) rc = lp_db_run(db, "DELETE FROM ml_queue WHERE project_id = ?", "i", p->id);
    if (rc == 0) rc = lp_db_run(db, "DELETE FROM ml_backends WHERE project_id = ?", "i", p->id);
    if (rc == 0 && lp_db_changes(db) == 0) rc = LP_ENOTFOUND;
    if (rc == 0) rc = lp_db_commit(db);
    else lp_db_rollback(db);
    return rc;
}

int lp_mlb_requeue(lp_db *db, const lp_project *p, const json_t *body, int64_t *queued,
                   lp_verr *e)
{
    static const char *const keys[] = {"tasks", "task_ids", NULL};
    static const char *const which[] = {"failed", "all", NULL};
    const char *tasks = NULL;
    const json_t *ids = NULL;
    *queued = 0;
    if (lp_v_object(body, "", e) || lp_v_only_keys(body, "", keys, e) ||
        lp_v_string(body, "tasks", "", 0, 1, 16, &tasks, e) ||
        lp_v_array(body, "task_ids", "", 0, 1, 10000, &ids, e))
        return LP_EINVAL;
    if (!tasks == !ids) return lp_verr_set(e, "tasks", "give either tasks or task_ids");
    if (tasks && lp_v_one_of(json_object_get(body, "tasks"), "tasks", which, "a choice of tasks", NULL, e))
        return LP_EINVAL;
    int64_t one, now = lp_now_ms();
    int rc = lp_db_int64(db, &one, "SELECT 1 FROM ml_backends WHERE project_id = ?", "i", p->id);
    if (rc < 0) return rc;
    rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc == 0 && tasks) {
        rc = lp_db_run(db,
                       !strcmp(tasks, "failed")
                           ? "UPDATE ml_queue SET state = 'waiting', attempts = 0, next_at = 0, "
                             "error = NULL, updated_at = ? WHERE project_id = ? AND state = "
                             "'failed'"
                           : "UPDATE ml_queue SET state = 'waiting', attempts = 0, next_at = 0, "
                             "error = NULL, updated_at = ? WHERE project_id = ? AND state <> "
                             "'waiting'",
                       "ii", now, p->id);
        if (rc == 0) *queued = lp_db_changes(db);
        /* (all: the open tasks without a row too, such as a task reopened
         * after the cursor passed it completed) */
        if (rc == 0 && strcmp(tasks, "failed")) {
            rc = lp_db_run(db,
                           "INSERT INTO ml_queue (project_id, task_id, updated_at) SELECT "
                           "t.project_id, t.id, ? FROM tasks t WHERE t.project_id = ? AND "
                           "t.status IN ('pending', 'in_progress') AND NOT EXISTS (SELECT 1 FROM "
                           "ml_queue q WHERE q.project_id = t.project_id AND q.task_id = t.id)",
                           "ii", now, p->id);
            if (rc == 0) *queued += lp_db_changes(db);
        }
    }
    size_t i;
    const json_t *v;
    json_array_foreach(ids, i, v)
    {
        if (rc < 0) break;
        char f[64];
        lp_path_index(f, sizeof f, "task_ids", i);
        int64_t id = json_integer_value(v);
        if (!json_is_integer(v) ||
            lp_db_int64(db, &one, "SELECT 1 FROM tasks WHERE id = ? AND project_id = ?", "ii",
                        (int64_t)id, p->id) != 0) {
            rc = lp_verr_set(e, f, "is not a task of project %lld", (long long)p->id);
            break;
        }
        rc = lp_db_run(db,
                       "INSERT INTO ml_queue (project_id, task_id, updated_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (project_id, task_id) DO UPDATE SET state = 'waiting', "
                       "attempts = 0, next_at = 0, error = NULL, updated_at = ?",
                       "iiii", p->id, (int64_t)id, now, now);
        if (rc == 0) ++*queued;
    }
    if (rc == 0) rc = lp_db_commit(db);
    else lp_db_rollback(db);
    return rc;
}

/* ---- status ---- */

static json_t *ms_or_null(lp_stmt *st, int col)
{
    return lp_stmt_is_null(st, col) ? json_null() : json_integer(lp_stmt_int64(st, col));
}

static json_t *text_or_null(lp_stmt *st, int col)
{
    return lp_stmt_is_null(st, col) ? json_null() : json_string(lp_stmt_text(st, col));
}

int lp_mlb_status(lp_db *db, const lp_project *p, json_t **out)
{
    *out = NULL;
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT config, model_version, generation, setup_generation, "
                           "fail_streak, paused_until, health, health_error, health_at, "
                           "last_ok_at, last_error, last_error_at, calls, failures, predicted, "
                           "trained, train_failures, created_at, updated_at "
                           "FROM ml_backends WHERE project_id = ?",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, p->id);
    rc = lp_stmt_step(st);
    if (rc != LP_DB_ROW) {
        lp_stmt_done(st);
        return rc == LP_DB_DONE ? LP_ENOTFOUND : rc;
    }
    json_t *o = json_loads(lp_stmt_text(st, 0), 0, NULL);
    if (!o) o = json_object();
    int64_t now = lp_now_ms(), paused = lp_stmt_int64(st, 5);
    int set_up = lp_stmt_int64(st, 3) == lp_stmt_int64(st, 2);
    const char *state = paused > now                ? "paused"
                        : lp_stmt_int64(st, 4) > 0  ? "failing"
                        : !set_up && !lp_stmt_is_null(st, 10) ? "failing" /* its /setup */
                        : lp_stmt_is_null(st, 9)    ? (set_up ? "ready" : "connecting")
                                                    : "ok";
    json_object_set_new(o, "project_id", json_integer(p->id));
    json_object_set_new(o, "state", json_string(state));
    json_object_set_new(o, "set_up", json_boolean(set_up));
    json_object_set_new(o, "model_version", text_or_null(st, 1));
    json_object_set_new(o, "failures_in_a_row", json_integer(lp_stmt_int64(st, 4)));
    json_object_set_new(o, "paused_until", paused > now ? json_integer(paused) : json_null());
    json_object_set_new(o, "health",
                        json_pack("{s:s, s:o, s:o}", "status", lp_stmt_text(st, 6), "error",
                                  text_or_null(st, 7), "checked_at",
                                  lp_stmt_int64(st, 8) ? json_integer(lp_stmt_int64(st, 8))
                                                       : json_null()));
    json_object_set_new(o, "last_ok_at", ms_or_null(st, 9));
    json_object_set_new(o, "last_error", text_or_null(st, 10));
    json_object_set_new(o, "last_error_at", ms_or_null(st, 11));
    static const char *const counters[] = {"calls", "failures", "predicted", "trained",
                                           "train_failures"};
    for (int i = 0; i < 5; i++)
        json_object_set_new(o, counters[i], json_integer(lp_stmt_int64(st, 12 + i)));
    json_object_set_new(o, "created_at", json_integer(lp_stmt_int64(st, 17)));
    json_object_set_new(o, "updated_at", json_integer(lp_stmt_int64(st, 18)));
    lp_stmt_done(st);

    json_t *queue = json_pack("{s:i, s:i, s:i, s:i}", "waiting", 0, "in_flight", 0, "done", 0,
                              "failed", 0);
    rc = lp_db_prepare(db,
                       "SELECT state, CASE WHEN claimed_until > ? THEN 1 ELSE 0 END, COUNT(*) "
                       "FROM ml_queue WHERE project_id = ? GROUP BY 1, 2",
                       &st);
    if (rc == 0) {
        lp_stmt_bind_int64(st, 1, now);
        lp_stmt_bind_int64(st, 2, p->id);
        while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
            const char *s = lp_stmt_text(st, 0);
            const char *k = !strcmp(s, "waiting") && lp_stmt_int64(st, 1) ? "in_flight" : s;
            json_t *have = json_object_get(queue, k);
            if (have)
                json_object_set_new(queue, k,
                                    json_integer(json_integer_value(have) + lp_stmt_int64(st, 2)));
        }
        lp_stmt_done(st);
    }
    json_object_set_new(o, "queue", queue);
    json_t *errors = json_array();
    if (rc >= 0)
        rc = lp_db_prepare(db,
                           "SELECT task_id, state, attempts, error, updated_at FROM ml_queue "
                           "WHERE project_id = ? AND error IS NOT NULL ORDER BY updated_at "
                           "DESC, task_id LIMIT 20",
                           &st);
    if (rc >= 0) {
        lp_stmt_bind_int64(st, 1, p->id);
        while ((rc = lp_stmt_step(st)) == LP_DB_ROW)
            json_array_append_new(
                errors, json_pack("{s:I, s:s, s:I, s:s, s:I}", "task_id",
                                  (json_int_t)lp_stmt_int64(st, 0), "state", lp_stmt_text(st, 1),
                                  "attempts", (json_int_t)lp_stmt_int64(st, 2), "error",
                                  lp_stmt_text(st, 3), "at", (json_int_t)lp_stmt_int64(st, 4)));
        lp_stmt_done(st);
    }
    json_object_set_new(o, "task_errors", errors);
    if (rc < 0) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

