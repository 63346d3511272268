/* autolabel_db.c -- the database side of auto-labeling (see autolabel.h):
 * the held-out pairs, the round the learner thread runs for a project
 * with auto_label.enabled, and the figures a manager reads.
 *
 * Invariants.  tasks.auto_label is NULL until the round decides a task:
 * 'model' (completed by the model: its result is the prediction, method
 * "auto_label") or 'spot_check' (drawn to stay with humans; never drawn
 * again), or 'returned' (a model's label an audit sent back to humans).
 * A task is decided only while open (pending, or in_progress with every
 * lease given back) with no lease and no annotation, under its row lock
 * (skipped if another transaction holds it), in a write transaction of at
 * most LP_AUTOLABEL_TX tasks: an annotator's lease never waits for more
 * than that.  The task.completed event of an
 * auto-label goes out through the outbox in the same transaction, as a
 * human completion's does. */
#include "autolabel.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "kind.h"
#include "project.h"
#include "queue.h"
#include "tasks.h"
#include "util.h"

#define PAGE 500

/* The model's prediction among preds, if it has a response and a score
 * and was not made after the task had labels: 1 with *response (borrowed)
 * and *score, else 0. */
static int prediction_of(const json_t *preds, const char *model, const json_t **response,
                         double *score)
{
    size_t i;
    const json_t *pr;
    json_array_foreach(preds, i, pr)
    {
        const char *m = json_string_value(json_object_get(pr, "model"));
        if (!m || strcmp(m, model)) continue;
        const json_t *r = json_object_get(pr, "response"), *s = json_object_get(pr, "score");
        if (!r || !json_is_number(s) || json_is_true(json_object_get(pr, "after_labels"))) return 0;
        *response = r;
        *score = json_number_value(s);
        return 1;
    }
    return 0;
}

typedef struct pairs {
    lp_autolabel_pair *v;
    size_t n, cap;
    int64_t spot_labeled, spot_right;
} pairs;

/* The held-out pairs of the project's model: its prediction on each task
 * completed with a human result (not an auto-label, not an imported
 * result), scored against that result as gold is; and how the spot
 * checks among them fared. */
static int holdout(lp_db *db, const lp_project *p, pairs *out)
{
    int64_t after = 0;
    int rc = 0;
    for (;;) {
        lp_stmt *st;
        rc = lp_db_prepare(db,
                           "SELECT id, data, predictions, result, auto_label FROM tasks WHERE "
                           "project_id = ? AND status = 'completed' AND result IS NOT NULL AND "
                           "predictions IS NOT NULL AND id > ? ORDER BY id LIMIT ?",
                           &st);
        if (rc < 0) return rc;
        lp_stmt_bind_int64(st, 1, p->id);
        lp_stmt_bind_int64(st, 2, after);
        lp_stmt_bind_int64(st, 3, PAGE);
        int got = 0;
        while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
            got++;
            after = lp_stmt_int64(st, 0);
            const char *al = lp_stmt_is_null(st, 4) ? "" : lp_stmt_text(st, 4);
            if (!strcmp(al, "model")) continue;
            json_t *preds = json_loads(lp_stmt_text(st, 2), 0, NULL);
            json_t *result = json_loads(lp_stmt_text(st, 3), 0, NULL);
            const char *method = json_string_value(json_object_get(result, "method"));
            const json_t *truth = json_object_get(result, "response"), *pred;
            double score;
            if (truth && method && strcmp(method, LP_AUTOLABEL_METHOD) &&
                strcmp(method, "import") &&
                prediction_of(preds, p->auto_label.model, &pred, &score)) {
                json_t *data = json_loads(lp_stmt_text(st, 1), 0, NULL);
                json_t *task = json_pack("{s:o}", "data", data ? data : json_object());
                int right = lp_kind_score(p->kind, p->params, task, pred, truth) >= 1 - 1e-9;
                json_decref(task);
                if (out->n == out->cap) {
                    out->cap = out->cap ? 2 * out->cap : 256;
                    out->v = lp_realloc(out->v, out->cap * sizeof *out->v);
                }
                out->v[out->n++] = (lp_autolabel_pair){score, right};
                if (!strcmp(al, "spot_check")) {
                    out->spot_labeled++;
                    out->spot_right += right;
                }
            }
            json_decref(preds);
            json_decref(result);
        }
        lp_stmt_done(st);
        if (rc < 0) return rc;
        if (got < PAGE) return 0;
    }
}

/* The threshold of the project's model now. */
static int fit(lp_db *db, const lp_project *p, lp_autolabel_fit *f, pairs *ps)
{
    int rc = holdout(db, p, ps);
    if (rc == 0)
        lp_autolabel_choose(ps->v, ps->n, p->auto_label.target_precision,
                            (size_t)p->auto_label.min_holdout, LP_AUTOLABEL_MIN_ABOVE, f);
    return rc;
}

/* A page of the open tasks a round may decide, in id order after *after:
 * the ids of those whose prediction by the model scores threshold or more
 * go to ids[] (*n of them, at most PAGE).  *after moves on; *more says
 * whether a next page may hold more. */
static int eligible_page(lp_db *db, const lp_project *p, double threshold, int64_t *after,
                         int64_t *ids, int *n, int *more)
{
    lp_stmt *st;
    *n = 0;
    *more = 0;
    int rc = lp_db_prepare(db,
                           "SELECT t.id, t.predictions FROM tasks t LEFT JOIN batches b ON "
                           "b.id = t.batch_id WHERE t.project_id = ? AND t.status IN ('pending', "
                           "'in_progress') AND "
                           "t.done = 0 AND t.leased = 0 AND t.auto_label IS NULL AND "
                           "t.predictions IS NOT NULL AND (b.id IS NULL OR b.status <> "
                           "'staging') AND NOT EXISTS (SELECT 1 FROM annotations a WHERE "
                           "a.task_id = t.id AND a.status <> 'rejected') AND t.id > ? "
                           "ORDER BY t.id LIMIT ?",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, p->id);
    lp_stmt_bind_int64(st, 2, *after);
    lp_stmt_bind_int64(st, 3, PAGE);
    int got = 0;
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        got++;
        *after = lp_stmt_int64(st, 0);
        json_t *preds = json_loads(lp_stmt_text(st, 1), 0, NULL);
        const json_t *pred;
        double score;
        if (prediction_of(preds, p->auto_label.model, &pred, &score) && score >= threshold)
            ids[(*n)++] = *after;
        json_decref(preds);
    }
    lp_stmt_done(st);
    if (rc < 0) return rc;
    *more = got == PAGE;
    return 0;
}

/* Decides one task in the caller's transaction, if it is still eligible
 * and not locked by another transaction: a spot check, or completed by the
 * model.  *decided: 0 (left alone), 1 (labeled), 2 (spot check). */
static int decide(lp_db *db, const lp_project *p, double threshold, int64_t id, int *decided)
{
#define STILL_OPEN                                                                         \
    "SELECT predictions FROM tasks WHERE id = ? AND status IN ('pending', 'in_progress') " \
    "AND done = 0 AND leased = 0 AND auto_label IS NULL"
    static const char *const sql[2] = {STILL_OPEN, STILL_OPEN " FOR UPDATE SKIP LOCKED"};
#undef STILL_OPEN
    *decided = 0;
    lp_stmt *st;
    int rc = lp_db_prepare(db, sql[lp_db_row_locks(db)], &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, id);
    json_t *preds = NULL;
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) preds = json_loads(lp_stmt_text(st, 0), 0, NULL);
    lp_stmt_done(st);
    if (rc < 0) return rc;
    const json_t *pred;
    double score;
    if (!preds || !prediction_of(preds, p->auto_label.model, &pred, &score) || score < threshold) {
        json_decref(preds);
        return 0; /* taken, labelled or predicted again meanwhile */
    }
    /* The draw is made once: a spot check is remembered as one. */
    if ((double)randombytes_random() < p->auto_label.spot_check_rate * 4294967296.0) {
        json_decref(preds);
        *decided = 2;
        return lp_db_run(db, "UPDATE tasks SET auto_label = 'spot_check' WHERE id = ?", "i", id);
    }
    json_t *result =
        json_pack("{s:O, s:f, s:s, s:s, s:I}", "response", pred, "confidence", score, "method",
                  LP_AUTOLABEL_METHOD, "model", p->auto_label.model, "annotations", (json_int_t)0);
    json_decref(preds);
    rc = lp_queue_set_result(db, id, result, "model", 0, NULL);
    json_decref(result);
    if (rc == 0) rc = lp_db_run(db, "UPDATE tasks SET auto_label = 'model' WHERE id = ?", "i", id);
    if (rc == 0) rc = lp_task_set_status(db, id, "completed", NULL, NULL);
    if (rc == 0) rc = lp_queue_completed_events(db, p->id, id);
    if (rc == 0) *decided = 1;
    return rc;
}

int lp_autolabel_round(lp_db *db, const lp_project *p, int64_t *labeled, int64_t *spot)
{
    *labeled = *spot = 0;
    lp_autolabel_fit f;
    pairs ps = {0};
    int rc = fit(db, p, &f, &ps);
    free(ps.v);
    if (rc < 0 || !f.found) return rc;
    int64_t after = 0, ids[PAGE];
    int n, more = 1;
    while (rc == 0 && more) {
        rc = eligible_page(db, p, f.threshold, &after, ids, &n, &more);
        for (int i = 0; rc == 0 && i < n; i += LP_AUTOLABEL_TX) {
            rc = lp_db_begin(db, LP_TX_WRITE);
            int64_t l = 0, s = 0;
            for (int j = i; rc == 0 && j < n && j < i + LP_AUTOLABEL_TX; j++) {
                int d;
                rc = decide(db, p, f.threshold, ids[j], &d);
                l += d == 1;
                s += d == 2;
            }
            if (rc == 0)
                rc = lp_db_commit(db);
            else
                lp_db_rollback(db);
            if (rc == 0) {
                *labeled += l;
                *spot += s;
            }
        }
    }
    return rc;
}

static json_t *real_or_null(int have, double v)
{
    return have ? json_real(v) : json_null();
}

int lp_autolabel_report(lp_db *db, const lp_project *p, json_t **out)
{
    *out = NULL;
    lp_autolabel_fit f;
    pairs ps = {0};
    int rc = fit(db, p, &f, &ps);
    free(ps.v);
    int64_t eligible = 0, labeled = 0, spots = 0;
    if (rc == 0 && f.found) {
        int64_t after = 0, ids[PAGE];
        int n, more = 1;
        while (rc == 0 && more) {
            rc = eligible_page(db, p, f.threshold, &after, ids, &n, &more);
            eligible += n;
        }
    }
    if (rc == 0)
        rc = lp_db_int64(db, &labeled,
                         "SELECT COUNT(*) FROM tasks WHERE project_id = ? AND auto_label = "
                         "'model' AND status = 'completed'",
                         "i", p->id);
    if (rc == 0)
        rc = lp_db_int64(db, &spots,
                         "SELECT COUNT(*) FROM tasks WHERE project_id = ? AND auto_label = "
                         "'spot_check'",
                         "i", p->id);
    if (rc < 0) return rc;
    double slow = 0, shigh = 1;
    lp_wilson((size_t)ps.spot_right, (size_t)ps.spot_labeled, 1.959964, &slow, &shigh);
    json_t *o = lp_autolabel_json(&p->auto_label);
    json_object_set_new(o, "threshold", real_or_null(f.found, f.threshold));
    json_object_set_new(o, "holdout", json_integer((json_int_t)f.holdout));
    json_object_set_new(o, "holdout_accuracy",
                        real_or_null(f.holdout > 0, (double)f.correct / (double)f.holdout));
    json_object_set_new(o, "holdout_above", json_integer((json_int_t)f.above));
    json_object_set_new(o, "holdout_precision", real_or_null(f.found, f.precision));
    json_object_set_new(o, "holdout_precision_low", real_or_null(f.found, f.low));
    json_object_set_new(o, "holdout_precision_high", real_or_null(f.found, f.high));
    json_object_set_new(o, "eligible", json_integer(eligible));
    json_object_set_new(o, "auto_labeled", json_integer(labeled));
    json_object_set_new(o, "spot_checks", json_integer(spots));
    json_object_set_new(o, "spot_checks_labeled", json_integer(ps.spot_labeled));
    json_object_set_new(
        o, "spot_check_precision",
        real_or_null(ps.spot_labeled > 0,
                     (double)ps.spot_right / (double)(ps.spot_labeled ? ps.spot_labeled : 1)));
    json_object_set_new(o, "spot_check_precision_low", real_or_null(ps.spot_labeled > 0, slow));
    json_object_set_new(o, "spot_check_precision_high", real_or_null(ps.spot_labeled > 0, shigh));
    *out = o;
    return 0;
}
