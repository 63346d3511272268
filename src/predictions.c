/* predictions.c -- see predictions.h. */
#include "predictions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kind.h"
#include "tasks.h"
#include "util.h"
#include "valid.h"

static void report_error(json_t *errors, size_t index, const lp_verr *e)
{
    json_array_append_new(errors, json_pack("{s:I, s:s, s:s}", "index", (json_int_t)index, "field",
                                            e->field, "message", e->message));
}

/* The task an item names, by task_id or unique_id, in project p. */
static int item_task(lp_db *db, const lp_project *p, const json_t *item, const char *path,
                     int64_t *task_id, lp_verr *e)
{
    long long id = 0;
    const char *uid = NULL;
    if (lp_v_int(item, "task_id", path, 0, 1, INT64_MAX, &id, e) ||
        lp_v_string(item, "unique_id", path, 0, 1, 255, &uid, e))
        return LP_EINVAL;
    char f[300];
    if (!id == !uid)
        return lp_verr_set(e, path, "needs exactly one of task_id or unique_id");
    int rc = id ? lp_db_int64(db, task_id, "SELECT id FROM tasks WHERE id = ? AND project_id = ?",
                              "ii", (int64_t)id, p->id)
                : lp_db_int64(db, task_id,
                              "SELECT id FROM tasks WHERE project_id = ? AND unique_id = ?", "is",
                              p->id, uid);
    if (rc == LP_ENOTFOUND && id)
        return lp_verr_set(e, lp_path_key(f, sizeof f, path, "task_id"),
                           "no task %lld in project %lld", id, (long long)p->id);
    if (rc == LP_ENOTFOUND)
        return lp_verr_set(e, lp_path_key(f, sizeof f, path, "unique_id"),
                           "no task \"%s\" in project %lld", uid, (long long)p->id);
    return rc;
}

int lp_prediction_put(lp_db *db, int64_t task_id, const json_t *item)
{
    /* The row is locked where transactions run side by side: two writers
     * of predictions to one task take turns (neither loses the other's),
     * and so do they and a rescoring (lp_predictions_rescore). */
#define PUT_SQL                                                                   \
    "SELECT predictions, project_id, result IS NOT NULL OR EXISTS (SELECT 1 FROM " \
    "annotations a WHERE a.task_id = tasks.id AND a.status <> 'rejected') FROM "  \
    "tasks WHERE id = ?"
    static const char *const sql[2] = {PUT_SQL, PUT_SQL " FOR UPDATE"};
#undef PUT_SQL
    lp_stmt *st;
    /* And whether humans have labelled the task: a prediction made after
     * that may have learned its label, so it is no held-out measure of its
     * model (autolabel.h) and says so. */
    int rc = lp_db_prepare(db, sql[lp_db_row_locks(db)], &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, task_id);
    json_t *preds = NULL;
    int64_t project_id = 0;
    int labelled = 0;
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        preds = lp_stmt_is_null(st, 0) ? NULL : json_loads(lp_stmt_text(st, 0), 0, NULL);
        project_id = lp_stmt_int64(st, 1);
        labelled = lp_stmt_int64(st, 2) != 0;
        rc = 0;
    } else if (rc == LP_DB_DONE) {
        rc = LP_ENOTFOUND;
    }
    lp_stmt_done(st);
    lp_measure measure = LP_MEASURE_LEAST_CONFIDENCE;
    if (rc == 0) rc = lp_project_measure(db, project_id, &measure);
    if (rc < 0) {
        json_decref(preds);
        return rc;
    }
    if (!json_is_array(preds)) {
        json_decref(preds);
        preds = json_array();
    }
    json_t *pr = json_object();
    static const char *const keep[] = {"model", "response", "score", "probabilities"};
    for (size_t i = 0; i < LP_ARRAY_LEN(keep); i++) {
        json_t *v = json_object_get(item, keep[i]);
        if (v) json_object_set(pr, keep[i], v);
    }
    if (labelled) json_object_set_new(pr, "after_labels", json_true());
    const char *model = json_string_value(json_object_get(item, "model"));
    size_t i, at = json_array_size(preds);
    json_t *old;
    json_array_foreach(preds, i, old)
    {
        const char *m = json_string_value(json_object_get(old, "model"));
        if (m && !strcmp(m, model)) at = i;
    }
    if (at < json_array_size(preds))
        json_array_set_new(preds, at, pr);
    else if (json_array_size(preds) >= 100) {
        json_decref(pr);
        rc = LP_ETOOBIG;
    }
    else
        json_array_append_new(preds, pr);
    char *text = rc == 0 ? json_dumps(preds, LP_JSON_DUMP) : NULL;
    double unsure = lp_task_uncertainty(preds, measure);
    json_decref(preds);
    if (text)
        rc = lp_db_run(db,
                       "UPDATE tasks SET predictions = ?, uncertainty = ?, updated_at = ? "
                       "WHERE id = ?",
                       "sdii", text, unsure, lp_now_ms(), task_id);
    free(text);
    return rc;
}

int lp_predictions_add(lp_db *db, const lp_project *p, const json_t *items, json_t **report)
{
    *report = NULL;
    json_t *errors = json_array();
    int64_t updated = 0;
    int rc = lp_db_begin(db, LP_TX_WRITE);
    size_t i;
    const json_t *item;
    json_array_foreach(items, i, item)
    {
        if (rc < 0) break;
        char path[64];
        lp_path_index(path, sizeof path, "", i);
        lp_verr e;
        int64_t task_id = 0, pid;
        json_t *task = NULL, *pr = NULL;
        int r = lp_v_object(item, path, &e) ? LP_EINVAL : item_task(db, p, item, path, &task_id, &e);
        if (r == 0) r = lp_task_get(db, task_id, &pid, &task);
        if (r == 0) { /* the prediction's own fields, checked as a task's are */
            pr = json_deep_copy(item);
            json_object_del(pr, "task_id");
            json_object_del(pr, "unique_id");
            r = lp_task_check_prediction(p, task, pr, path, 1, &e);
        }
        if (r == 0) {
            r = lp_prediction_put(db, task_id, pr);
            if (r == LP_ETOOBIG)
                r = lp_verr_set(&e, path, "task %lld has predictions of 100 models already",
                                (long long)task_id);
        }
        json_decref(task);
        json_decref(pr);
        if (r == 0)
            updated++;
        else if (r == LP_EINVAL)
            report_error(errors, i, &e);
        else
            rc = r;
    }
    if (rc == 0) rc = lp_db_commit(db);
    else lp_db_rollback(db);
    if (rc < 0) {
        json_decref(errors);
        return rc;
    }
    *report = json_pack("{s:I, s:o}", "updated", (json_int_t)updated, "errors", errors);
    return 0;
}

#define RESCORE_TX 50 /* tasks a write transaction: row locks held briefly */

int lp_predictions_rescore(lp_db *db, int64_t project_id)
{
    /* Every task with predictions, open or not: a task sent back to
     * annotation is queued by the value it has. */
#define RESCORE                                                              \
    "SELECT id, predictions FROM tasks WHERE project_id = ? AND id > ? AND " \
    "predictions IS NOT NULL AND predictions <> '[]' ORDER BY id LIMIT ?"
    static const char *const sql[2] = {RESCORE, RESCORE " FOR UPDATE"};
#undef RESCORE
    int64_t after = 0;
    for (;;) {
        int64_t ids[RESCORE_TX];
        double u[RESCORE_TX];
        int n = 0;
        int rc = lp_db_begin(db, LP_TX_WRITE);
        if (rc < 0) return rc;
        lp_measure m = LP_MEASURE_LEAST_CONFIDENCE;
        lp_stmt *st;
        rc = lp_project_measure(db, project_id, &m);
        if (rc == 0) rc = lp_db_prepare(db, sql[lp_db_row_locks(db)], &st);
        if (rc == 0) {
            lp_stmt_bind_int64(st, 1, project_id);
            lp_stmt_bind_int64(st, 2, after);
            lp_stmt_bind_int64(st, 3, RESCORE_TX);
            while (n < RESCORE_TX && (rc = lp_stmt_step(st)) == LP_DB_ROW) {
                json_t *preds = json_loads(lp_stmt_text(st, 1), 0, NULL);
                ids[n] = after = lp_stmt_int64(st, 0);
                u[n++] = lp_task_uncertainty(preds, m);
                json_decref(preds);
            }
            lp_stmt_done(st);
            rc = rc < 0 ? rc : 0;
        }
        for (int i = 0; i < n && rc == 0; i++)
            rc = lp_db_run(db, "UPDATE tasks SET uncertainty = ? WHERE id = ?", "di", u[i], ids[i]);
        if (rc == 0)
            rc = lp_db_commit(db);
        else
            lp_db_rollback(db);
        if (rc < 0 || n < RESCORE_TX) return rc;
    }
}

/* A model's running figures. */
typedef struct model_stats {
    char name[801]; /* 200 characters of up to 4 bytes */
    int64_t tasks, annotated, annotations, unchanged, results, scored;
    double agreement, result_agreement, score_sum;
} model_stats;

static model_stats *find_model(model_stats **ms, size_t *n, size_t *cap, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*ms)[i].name, name)) return &(*ms)[i];
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 8;
        *ms = lp_realloc(*ms, *cap * sizeof **ms);
    }
    model_stats *m = &(*ms)[(*n)++];
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    return m;
}

/* Adds one task's figures: its predictions against its accepted
 * annotations (responses) and its result (NULL if none). */
static void add_task(const lp_project *p, model_stats **ms, size_t *n, size_t *cap,
                     const json_t *task, const json_t *preds, const json_t *responses,
                     const json_t *result)
{
    size_t i, j;
    const json_t *pr, *r;
    json_array_foreach(preds, i, pr)
    {
        const char *name = json_string_value(json_object_get(pr, "model"));
        const json_t *pred = json_object_get(pr, "response");
        if (!pred) continue;
        model_stats *m = find_model(ms, n, cap, name ? name : "");
        m->tasks++;
        const json_t *score = json_object_get(pr, "score");
        if (json_is_number(score)) {
            m->score_sum += json_number_value(score);
            m->scored++;
        }
        if (json_array_size(responses)) m->annotated++;
        json_array_foreach(responses, j, r)
        {
            m->annotations++;
            m->unchanged += json_equal(r, pred) ? 1 : 0;
            m->agreement += lp_kind_score(p->kind, p->params, task, r, pred);
        }
        if (result) {
            m->results++;
            m->result_agreement += lp_kind_score(p->kind, p->params, task, result, pred);
        }
    }
}

static int by_tasks(const void *a, const void *b)
{
    const model_stats *x = a, *y = b;
    return x->tasks != y->tasks ? (x->tasks < y->tasks ? 1 : -1) : strcmp(x->name, y->name);
}

int lp_predictions_stats(lp_db *db, const lp_project *p, json_t **out)
{
    *out = NULL;
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT t.id, t.data, t.predictions, t.result, a.response FROM tasks t "
                           "LEFT JOIN annotations a ON a.task_id = t.id AND a.status = 'accepted' "
                           "WHERE t.project_id = ? AND t.predictions IS NOT NULL AND "
                           "t.predictions <> '[]' ORDER BY t.id",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, p->id);
    model_stats *ms = NULL;
    size_t n = 0, cap = 0;
    int64_t cur = 0;
    json_t *task = NULL, *preds = NULL, *responses = NULL, *result = NULL;
    for (;;) {
        rc = lp_stmt_step(st);
        int64_t id = rc == LP_DB_ROW ? lp_stmt_int64(st, 0) : 0;
        if (cur && id != cur) { /* the previous task is complete */
            add_task(p, &ms, &n, &cap, task, preds, responses, result);
            json_decref(task), json_decref(preds), json_decref(responses), json_decref(result);
            task = preds = responses = result = NULL;
        }
        if (rc != LP_DB_ROW) break;
        if (id != cur) {
            cur = id;
            json_t *data = json_loads(lp_stmt_text(st, 1), 0, NULL);
            task = json_pack("{s:o}", "data", data ? data : json_object());
            preds = json_loads(lp_stmt_text(st, 2), 0, NULL);
            if (!json_is_array(preds)) json_decref(preds), preds = json_array();
            json_t *res = lp_stmt_is_null(st, 3) ? NULL : json_loads(lp_stmt_text(st, 3), 0, NULL);
            result = json_incref(json_object_get(res, "response"));
            json_decref(res);
            responses = json_array();
        }
        if (!lp_stmt_is_null(st, 4)) {
            json_t *r = json_loads(lp_stmt_text(st, 4), JSON_DECODE_ANY, NULL);
            if (r) json_array_append_new(responses, r);
        }
    }
    lp_stmt_done(st);
    if (rc < 0) {
        free(ms);
        return rc;
    }
    qsort(ms, n, sizeof *ms, by_tasks);
    json_t *models = json_array();
    for (size_t i = 0; i < n; i++) {
        model_stats *m = &ms[i];
        json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "model", m->name, "tasks",
                              (json_int_t)m->tasks, "annotated", (json_int_t)m->annotated,
                              "annotations", (json_int_t)m->annotations, "unchanged",
                              (json_int_t)m->unchanged);
        double an = (double)m->annotations;
        json_object_set_new(o, "unchanged_share",
                            an ? json_real((double)m->unchanged / an) : json_null());
        json_object_set_new(o, "agreement", an ? json_real(m->agreement / an) : json_null());
        json_object_set_new(o, "result_agreement",
                            m->results ? json_real(m->result_agreement / (double)m->results)
                                       : json_null());
        json_object_set_new(o, "mean_score",
                            m->scored ? json_real(m->score_sum / (double)m->scored) : json_null());
        json_array_append_new(models, o);
    }
    free(ms);
    *out = json_pack("{s:o}", "models", models);
    return 0;
}
