/* queue.c -- see queue.h.
 *
 * Every change runs in one write transaction, so on SQLite (one writer at
 * a time) no two workers can take the last free slot of a task; the
 * PostgreSQL driver will take row locks for the same guarantee.  The next
 * task is found by walking tasks_queue (project, priority DESC, batch
 * order, id) -- open tasks only -- to the first task with a free slot
 * that this worker has never been assigned; tasks_uncertain and
 * tasks_disputed put the strategy's column before id.  A task's
 * disagreement is rewritten by every change of its accepted annotations
 * (a submit, a return to annotation), with its row held. */
#include "queue.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "active.h"
#include "outbox.h"
#include "tasks.h"

/* Marks leases past their expiry in the project as expired and frees
 * their tasks' slots. */
static int reap(lp_db *db, int64_t project_id, int64_t now)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT id, task_id, kind = 'annotate' FROM assignments WHERE "
                           "project_id = ? AND status = 'active' AND expires_at < ? LIMIT 1000",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, project_id);
    lp_stmt_bind_int64(st, 2, now);
    int64_t ids[1000][3];
    int n = 0;
    while (n < 1000 && (rc = lp_stmt_step(st)) == LP_DB_ROW) {
        ids[n][0] = lp_stmt_int64(st, 0);
        ids[n][1] = lp_stmt_int64(st, 1);
        ids[n][2] = lp_stmt_int64(st, 2); /* only annotation leases hold a slot */
        n++;
    }
    lp_stmt_done(st);
    if (rc < 0) return rc;
    /* Where transactions run side by side another one may have ended the
     * lease since it was read (reaped it too, or taken its submit): only
     * the transaction that moves it from active frees its slot. */
    for (int i = 0; i < n && rc >= 0; i++) {
        rc = lp_db_run(db,
                       "UPDATE assignments SET status = 'expired', updated_at = ? WHERE id = ? "
                       "AND status = 'active'",
                       "ii", now, ids[i][0]);
        if (rc == 0 && ids[i][2] && lp_db_changes(db) == 1)
            rc = lp_db_run(db, "UPDATE tasks SET leased = leased - 1 WHERE id = ?", "i", ids[i][1]);
    }
    return rc < 0 ? rc : 0;
}

/* Picks one of the first rows of st (id, priority, queue_order), bound and
 * ready to step: the first, or with random set one drawn among the first
 * 64 that share the first row's priority and batch.  LP_ENOTFOUND if st
 * has no row. */
static int pick(lp_stmt *st, int random, int64_t *task_id)
{
    int64_t ids[64], prio = 0, order = 0;
    uint32_t n = 0;
    int rc;
    while (n < 64 && (rc = lp_stmt_step(st)) == LP_DB_ROW) {
        if (n && (lp_stmt_int64(st, 1) != prio || lp_stmt_int64(st, 2) != order)) break;
        prio = lp_stmt_int64(st, 1);
        order = lp_stmt_int64(st, 2);
        ids[n++] = lp_stmt_int64(st, 0);
        if (!random) break;
    }
    lp_stmt_done(st);
    if (rc < 0) return rc;
    if (n == 0) return LP_ENOTFOUND;
    *task_id = ids[n > 1 ? randombytes_uniform(n) : 0];
    return 0;
}

/* A gold task of the project (see schema 7) the user has never been
 * assigned, drawn at random by priority, so that workers meet the gold
 * set in different orders.  LP_ENOTFOUND if none is left. */
static int find_gold(lp_db *db, const lp_project *p, int64_t user_id, int64_t *task_id)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT t.id, t.priority, 0 FROM tasks t LEFT JOIN batches b "
                           "ON b.id = t.batch_id WHERE t.project_id = ? AND t.status = 'gold' "
                           "AND (b.id IS NULL OR b.status <> 'staging') AND NOT EXISTS "
                           "(SELECT 1 FROM assignments a WHERE a.task_id = t.id AND "
                           "a.user_id = ?) ORDER BY t.priority DESC, t.id LIMIT 64",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, p->id);
    lp_stmt_bind_int64(st, 2, user_id);
    return pick(st, 1, task_id);
}

/* Whether the user's next task should be gold: always during calibration
 * (fewer than calibration_count gold tasks assigned so far), else with
 * probability gold_rate -- a draw per lease, so gold comes at no pattern
 * a worker could learn. */
static int want_gold(lp_db *db, const lp_project *p, int64_t user_id, int *calibrating)
{
    *calibrating = 0;
    if (p->calibration_count > 0) {
        int64_t seen = 0;
        int rc = lp_db_int64(db, &seen,
                             "SELECT COUNT(*) FROM tasks t WHERE t.project_id = ? AND "
                             "t.status = 'gold' AND EXISTS (SELECT 1 FROM assignments a "
                             "WHERE a.task_id = t.id AND a.user_id = ?)",
                             "ii", p->id, user_id);
        if (rc < 0) return rc;
        if (seen < p->calibration_count) return *calibrating = 1;
    }
    if (p->gold_rate <= 0) return 0;
    return (double)randombytes_random() < p->gold_rate * 4294967296.0;
}

/* The next open task of the project with a free slot that the user has
 * never been assigned, in queue order: priority, then batch, then the
 * project's strategy -- the oldest first (fifo), one drawn at random
 * among the first 64 of the same priority and batch (random), the one its
 * models are least sure of (uncertainty), or the one whose annotators
 * disagree most (disagreement; a task with fewer than two annotations has
 * nothing to disagree on and ties with untouched ones at 0, oldest first).
 * LP_ENOTFOUND if none. */
static int find_task(lp_db *db, const lp_project *p, int64_t user_id, int64_t *task_id)
{
    int random = !strcmp(p->strategy, "random");
    int order = !strcmp(p->strategy, "uncertainty")    ? 1
                : !strcmp(p->strategy, "disagreement") ? 2
                                                       : 0;
    /* Where transactions run side by side, the rows returned are locked, and
     * rows another lease holds are skipped: two workers never take the
     * same free slot, and neither waits for the other. */
#define FIND_TASK                                                              \
    "SELECT t.id, t.priority, t.queue_order FROM tasks t LEFT JOIN batches b " \
    "ON b.id = t.batch_id WHERE t.project_id = ? AND t.status IN ('pending', " \
    "'in_progress') AND t.done + t.leased < ? AND (b.id IS NULL OR b.status "  \
    "<> 'staging') AND NOT EXISTS (SELECT 1 FROM assignments a WHERE "         \
    "a.task_id = t.id AND a.user_id = ? AND a.status <> 'returned') "          \
    "ORDER BY t.priority DESC, t.queue_order, "
#define MODES(by) \
    {FIND_TASK by "t.id LIMIT ?", FIND_TASK by "t.id LIMIT ? FOR UPDATE OF t SKIP LOCKED", \
     FIND_TASK by "t.id LIMIT ? FOR UPDATE OF t"}
    /* [order: fifo/random on tasks_queue, uncertainty on tasks_uncertain,
     *  disagreement on tasks_disputed]
     * [0: no row locks, 1: skip locked rows, 2: wait for them] */
    static const char *const sql[3][3] = {MODES(""), MODES("t.uncertainty DESC, "),
                                          MODES("t.disagreement DESC, ")};
#undef MODES
#undef FIND_TASK
    /* Skipping finds nothing when every task left is locked for a moment
     * by another transaction (a worker's lease, the built-in model writing
     * predictions): then look again, waiting for those locks, so that a
     * task with a free slot is not missed. */
    int rc = LP_ENOTFOUND;
    for (int mode = lp_db_row_locks(db) ? 1 : 0; rc == LP_ENOTFOUND && mode <= 2; mode++) {
        lp_stmt *st;
        rc = lp_db_prepare(db, sql[order][mode], &st);
        if (rc < 0) return rc;
        lp_stmt_bind_int64(st, 1, p->id);
        lp_stmt_bind_int64(st, 2, p->overlap);
        lp_stmt_bind_int64(st, 3, user_id);
        lp_stmt_bind_int64(st, 4, random ? 64 : 1);
        rc = pick(st, random, task_id);
        if (mode == 0) break; /* writers take turns: nothing is locked */
    }
    return rc;
}

/* LP_EPERM when the user is paused on the project, else 0. */
static int check_paused(lp_db *db, int64_t project_id, int64_t user_id)
{
    int64_t one = 0;
    int rc = lp_db_int64(db, &one,
                         "SELECT 1 FROM project_members WHERE project_id = ? AND user_id = ? AND "
                         "paused_at IS NOT NULL",
                         "ii", project_id, user_id);
    return rc == LP_ENOTFOUND ? 0 : rc == 0 ? LP_EPERM : rc;
}

/* The first step of both queues, in the caller's transaction: reaps the
 * project's expired leases, then finds the user's active lease of this
 * kind ("annotate", "review"), which asking again resumes (0), or
 * LP_ENOTFOUND.  A worker holds one lease of a kind per project. */
static int resume(lp_db *db, const lp_project *p, int64_t user_id, const char *kind, int64_t now,
                  int64_t *assignment_id)
{
    int rc = check_paused(db, p->id, user_id);
    if (rc == 0) rc = reap(db, p->id, now);
    if (rc == 0)
        rc = lp_db_int64(db, assignment_id,
                         "SELECT id FROM assignments WHERE user_id = ? AND project_id = ? AND "
                         "status = 'active' AND kind = ? ORDER BY id LIMIT 1",
                         "iis", user_id, p->id, kind);
    return rc;
}

int lp_queue_next(lp_db *db, const lp_project *p, int64_t user_id, int64_t *assignment_id)
{
    int64_t now = lp_now_ms(), task_id = 0;
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc < 0) return rc;
    rc = resume(db, p, user_id, "annotate", now, assignment_id);
    if (rc == 0) return lp_db_commit(db);
    /* Gold is mixed in only while there is real work, except during
     * calibration; when the user has seen every gold task, real work. */
    if (rc == LP_ENOTFOUND) {
        int calibrating = 0;
        rc = want_gold(db, p, user_id, &calibrating);
        int gold = rc > 0;
        if (rc >= 0) rc = find_task(db, p, user_id, &task_id);
        if (gold && (rc == 0 || (rc == LP_ENOTFOUND && calibrating))) {
            int64_t g;
            int r2 = find_gold(db, p, user_id, &g);
            if (r2 == 0) task_id = g;
            if (r2 != LP_ENOTFOUND) rc = r2;
        }
    }
    lp_stmt *ins = NULL;
    if (rc == 0)
        rc = lp_db_prepare_insert(db,
                                  "INSERT INTO assignments (task_id, project_id, user_id, status, "
                                  "expires_at, created_at, updated_at) "
                                  "VALUES (?, ?, ?, 'active', ?, ?, ?)",
                                  &ins);
    if (rc == 0) {
        lp_stmt_bind_int64(ins, 1, task_id);
        lp_stmt_bind_int64(ins, 2, p->id);
        lp_stmt_bind_int64(ins, 3, user_id);
        lp_stmt_bind_int64(ins, 4, now + p->lease_seconds * 1000);
        lp_stmt_bind_int64(ins, 5, now);
        lp_stmt_bind_int64(ins, 6, now);
        rc = lp_stmt_insert_id(ins, assignment_id, LP_EDB);
        lp_stmt_done(ins);
    }
    /* The slot is taken only if it is still free (it is: the row is locked
     * or writers take turns; the condition keeps the invariant in SQL).  A
     * gold task has no limit. */
    if (rc == 0)
        rc = lp_db_run(db,
                       "UPDATE tasks SET leased = leased + 1 WHERE id = ? AND "
                       "(status = 'gold' OR done + leased < ?)",
                       "ii", task_id, p->overlap);
    if (rc == 0 && lp_db_changes(db) != 1) rc = LP_EBUSY; /* taken meanwhile: ask again */
    /* The first lease starts the task; a gold task stays gold. */
    static const char *const keep_gold[] = {"gold", NULL};
    if (rc == 0 &&
        (rc = lp_task_set_status(db, task_id, "in_progress", keep_gold, NULL)) == LP_ECONFLICT)
        rc = 0;
    if (rc < 0) {
        lp_db_rollback(db);
        return rc;
    }
    return lp_db_commit(db);
}

int lp_assignment_owner(lp_db *db, int64_t id, int64_t *user_id, int64_t *project_id)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db, "SELECT user_id, project_id FROM assignments WHERE id = ?", &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        *user_id = lp_stmt_int64(st, 0);
        *project_id = lp_stmt_int64(st, 1);
        rc = 0;
    } else if (rc == LP_DB_DONE) {
        rc = LP_ENOTFOUND;
    }
    lp_stmt_done(st);
    return rc;
}

int lp_assignment_text(lp_db *db, int64_t id, int64_t *user_id, int64_t *project_id, lp_buf *out)
{
    lp_stmt *st;
    int rc =
        lp_db_prepare(db,
                      "SELECT user_id, project_id, task_id, status, expires_at, draft, "
                      "reason, created_at, kind = 'review', level FROM assignments WHERE id = ?",
                      &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, id);
    rc = lp_stmt_step(st);
    if (rc != LP_DB_ROW) {
        lp_stmt_done(st);
        return rc == LP_DB_DONE ? LP_ENOTFOUND : rc;
    }
    *user_id = lp_stmt_int64(st, 0);
    *project_id = lp_stmt_int64(st, 1);
    int64_t task_id = lp_stmt_int64(st, 2);
    int review = (int)lp_stmt_int64(st, 8);
    int64_t level = lp_stmt_int64(st, 9);
    char expires[40], created[40];
    lp_time_format(lp_stmt_int64(st, 4), expires, sizeof expires);
    lp_time_format(lp_stmt_int64(st, 7), created, sizeof created);
    lp_buf_printf(out,
                  "{\"id\":%lld,\"project_id\":%lld,\"task_id\":%lld,\"user_id\":%lld,"
                  "\"kind\":\"%s\",\"level\":%lld,"
                  "\"status\":\"%s\",\"expires_at\":\"%s\",\"created_at\":\"%s\",\"reason\":",
                  (long long)id, (long long)*project_id, (long long)task_id, (long long)*user_id,
                  review ? "review" : "annotate", (long long)level, lp_stmt_text(st, 3), expires,
                  created);
    if (lp_stmt_is_null(st, 6))
        lp_buf_puts(out, "null");
    else
        lp_buf_json_string(out, lp_stmt_text(st, 6));
    lp_buf_puts(out, ",\"draft\":");
    lp_buf_puts(out, lp_stmt_is_null(st, 5) ? "null" : lp_stmt_text(st, 5));
    lp_stmt_done(st);
    lp_buf_puts(out, ",\"task\":");
    int64_t pid;
    rc = lp_task_view(db, task_id, &pid, out, review ? LP_VIEW_REVIEWER : LP_VIEW_ANNOTATOR);
    lp_buf_puts(out, "}");
    return rc;
}

/* Reads an assignment's owner, task and status for a change by user_id;
 * LP_ENOTFOUND when it is not the user's. */
static int owned(lp_db *db, int64_t id, int64_t user_id, int64_t *task_id, char status[16],
                 int *review)
{
    /* Locked where transactions run side by side, so that the status read
     * here is the one this transaction changes (a reap or a pause elsewhere
     * waits for it, then finds the lease no longer active). */
#define OWNED "SELECT user_id, task_id, status, kind = 'review', level FROM assignments WHERE id = ?"
    static const char *const sql[2] = {OWNED, OWNED " FOR UPDATE"};
#undef OWNED
    lp_stmt *st;
    int rc = lp_db_prepare(db, sql[lp_db_row_locks(db)], &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW && lp_stmt_int64(st, 0) == user_id) {
        *task_id = lp_stmt_int64(st, 1);
        snprintf(status, 16, "%s", lp_stmt_text(st, 2));
        if (review) *review = lp_stmt_int64(st, 3) ? (int)lp_stmt_int64(st, 4) : 0;
        rc = 0;
    } else {
        rc = rc < 0 ? rc : LP_ENOTFOUND;
    }
    lp_stmt_done(st);
    return rc;
}

static const char *static_status(const char *s)
{
    static const char *const all[] = {"active",   "submitted", "skipped",
                                      "released", "expired",   "returned"};
    for (size_t i = 0; i < LP_ARRAY_LEN(all); i++)
        if (!strcmp(all[i], s)) return all[i];
    return "unknown";
}

int lp_queue_heartbeat(lp_db *db, int64_t id, int64_t user_id, int64_t lease_ms,
                       const char **status)
{
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc < 0) return rc;
    int64_t task_id;
    char st[16];
    rc = owned(db, id, user_id, &task_id, st, NULL);
    if (rc == 0) {
        *status = static_status(st);
        if (strcmp(st, "active"))
            rc = LP_ECONFLICT;
        else
            rc = lp_db_run(db, "UPDATE assignments SET expires_at = ?, updated_at = ? WHERE id = ?",
                           "iii", lp_now_ms() + lease_ms, lp_now_ms(), id);
    }
    if (rc < 0) {
        lp_db_rollback(db);
        return rc;
    }
    return lp_db_commit(db);
}

int lp_queue_give_back(lp_db *db, int64_t id, int64_t user_id, const char *to, const char *reason,
                       const char **status)
{
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc < 0) return rc;
    int64_t task_id;
    char st[16];
    int review = 0;
    rc = owned(db, id, user_id, &task_id, st, &review);
    if (rc == 0) {
        *status = static_status(st);
        if (strcmp(st, "active")) rc = LP_ECONFLICT;
    }
    if (rc == 0)
        rc = lp_db_run(db,
                       "UPDATE assignments SET status = ?, reason = ?, updated_at = ? WHERE id = ?",
                       "ssii", to, reason, lp_now_ms(), id);
    if (rc == 0 && !review) /* only annotation leases hold a slot */
        rc = lp_db_run(db, "UPDATE tasks SET leased = leased - 1 WHERE id = ?", "i", task_id);
    if (rc < 0) {
        lp_db_rollback(db);
        return rc;
    }
    return lp_db_commit(db);
}

int lp_queue_draft(lp_db *db, int64_t id, int64_t user_id, const char *draft)
{
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc < 0) return rc;
    int64_t task_id;
    char st[16];
    rc = owned(db, id, user_id, &task_id, st, NULL);
    if (rc == 0 && !strcmp(st, "submitted")) rc = LP_ECONFLICT;
    if (rc == 0)
        rc = lp_db_run(db, "UPDATE assignments SET draft = ?, updated_at = ? WHERE id = ?", "sii",
                       draft, lp_now_ms(), id);
    if (rc < 0) {
        lp_db_rollback(db);
        return rc;
    }
    return lp_db_commit(db);
}

int lp_queue_set_result(lp_db *db, int64_t task_id, const json_t *result, const char *source,
                        int64_t user_id, int *versioned)
{
    char *text = json_dumps(result, LP_JSON_DUMP);
    char *resp = json_dumps(json_object_get(result, "response"), LP_JSON_DUMP | JSON_SORT_KEYS);
    /* The same response again (a refit that only moved the confidence)
     * makes no new version. */
    int same = 0;
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT response, source FROM result_versions WHERE task_id = ? "
                           "ORDER BY id DESC LIMIT 1",
                           &st);
    if (rc == 0) {
        lp_stmt_bind_int64(st, 1, task_id);
        /* Versions are stored with sorted keys, so the text compares. */
        if (lp_stmt_step(st) == LP_DB_ROW && !strcmp(lp_stmt_text(st, 1), source))
            same = !strcmp(lp_stmt_text(st, 0), resp);
        lp_stmt_done(st);
    }
    if (rc == 0)
        rc = lp_db_run(db, "UPDATE tasks SET result = ?, updated_at = ? WHERE id = ?", "sii", text,
                       lp_now_ms(), task_id);
    if (rc == 0 && !same)
        rc = lp_db_run(
            db,
            "INSERT INTO result_versions (task_id, response, source, user_id, created_at) "
            "VALUES (?, ?, ?, NULLIF(?, 0), ?)",
            "issii", task_id, resp, source, user_id, lp_now_ms());
    if (versioned) *versioned = rc == 0 && !same;
    free(text);
    free(resp);
    return rc;
}

/* The weight of a worker's vote under the project's aggregation method:
 * 1 for majority; otherwise the log-odds of their skill, which is what a
 * vote is worth when workers err independently (the one-coin model).  The
 * skill is the method's last estimate (project_members.skill, written by
 * lp_quality_refit) or, before one or for gold_weighted, their mean gold
 * score smoothed toward 0.7 by four pseudo-answers.  A skill at or below
 * chance (0.5) weighs almost nothing. */
static double vote_weight(const char *method, int has_skill, double skill, int64_t gold_n,
                          double gold_sum)
{
    if (!strcmp(method, "majority")) return 1;
    double s =
        has_skill && strcmp(method, "gold_weighted") ? skill : (gold_sum + 2.8) / (gold_n + 4.0);
    s = s < 0.5005 ? 0.5005 : s > 0.99 ? 0.99 : s;
    return log(s / (1 - s));
}

/* Computes and stores a completed task's result from its accepted
 * annotations: the kind's consolidation (lp_kind_aggregate) with each
 * vote weighted by vote_weight. */
int lp_queue_store_result(lp_db *db, const lp_project *p, int64_t task_id, int *versioned)
{
    lp_stmt *st;
    int rc = lp_db_prepare(
        db,
        "SELECT an.response, m.skill, (SELECT COUNT(*) FROM annotations g WHERE g.project_id = "
        "an.project_id AND g.user_id = an.user_id AND g.score IS NOT NULL), (SELECT "
        "COALESCE(SUM(g.score), 0) FROM annotations g WHERE g.project_id = an.project_id AND "
        "g.user_id = an.user_id AND g.score IS NOT NULL) FROM annotations an LEFT JOIN "
        "project_members m ON m.project_id = an.project_id AND m.user_id = an.user_id WHERE "
        "an.task_id = ? AND an.status = 'accepted' ORDER BY an.id",
        &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, task_id);
    json_t *all = json_array();
    size_t cap = 8, n = 0;
    double *w = lp_malloc(cap * sizeof *w);
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        json_t *v = json_loads(lp_stmt_text(st, 0), JSON_DECODE_ANY, NULL);
        if (!v) continue;
        json_array_append_new(all, v);
        if (n == cap) w = lp_realloc(w, (cap *= 2) * sizeof *w);
        w[n++] = vote_weight(p->aggregation, !lp_stmt_is_null(st, 1), lp_stmt_double(st, 1),
                             lp_stmt_int64(st, 2), lp_stmt_double(st, 3));
    }
    lp_stmt_done(st);
    json_t *task = NULL, *response = NULL;
    if (rc >= 0 && n > 0) {
        int64_t pid;
        rc = p->kind->task_free ? (task = json_object(), 0) : lp_task_get(db, task_id, &pid, &task);
    }
    double conf = 0;
    if (rc >= 0 && n > 0) {
        const json_t **r = lp_malloc(n * sizeof *r);
        for (size_t i = 0; i < n; i++) r[i] = json_array_get(all, i);
        rc = lp_kind_aggregate(p->kind, p->params, task, r, w, n, &response, &conf);
        free(r);
    }
    if (rc >= 0 && response) {
        json_t *result = json_pack("{s:O, s:f, s:s, s:I}", "response", response, "confidence", conf,
                                   "method", p->aggregation, "annotations", (json_int_t)n);
        rc = lp_queue_set_result(db, task_id, result, "aggregate", 0, versioned);
        json_decref(result);
    }
    json_decref(response);
    json_decref(task);
    json_decref(all);
    free(w);
    return rc < 0 ? rc : 0;
}

int lp_queue_set_disagreement(lp_db *db, const lp_kind *k, const json_t *params, int64_t task_id)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT response FROM annotations WHERE task_id = ? AND "
                           "status = 'accepted' ORDER BY id LIMIT 200",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, task_id);
    const json_t *r[200];
    size_t n = 0;
    while (n < 200 && (rc = lp_stmt_step(st)) == LP_DB_ROW) {
        json_t *v = json_loads(lp_stmt_text(st, 0), JSON_DECODE_ANY, NULL);
        if (v) r[n++] = v;
    }
    lp_stmt_done(st);
    json_t *task = json_object();
    if (rc >= 0 && n >= 2 && !k->task_free) {
        /* what a kind reads of a task: its data and attachments */
        rc = lp_db_prepare(db, "SELECT data, attachments FROM tasks WHERE id = ?", &st);
        if (rc == 0) {
            lp_stmt_bind_int64(st, 1, task_id);
            if ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
                static const char *const cols[] = {"data", "attachments"};
                for (int c = 0; c < 2; c++) {
                    json_t *v = lp_stmt_is_null(st, c)
                                    ? NULL
                                    : json_loads(lp_stmt_text(st, c), JSON_DECODE_ANY, NULL);
                    if (v) json_object_set_new(task, cols[c], v);
                }
            }
            lp_stmt_done(st);
        }
    }
    double d = rc >= 0 ? lp_disagreement(k, params, task, r, n) : 0;
    if (rc >= 0)
        rc = lp_db_run(db, "UPDATE tasks SET disagreement = ? WHERE id = ?", "di", d, task_id);
    json_decref(task);
    for (size_t i = 0; i < n; i++) json_decref((json_t *)r[i]);
    return rc < 0 ? rc : 0;
}

/* Queues task.completed, and batch.completed when this was the last open
 * task of its batch, in the submit's transaction (outbox.h). */
static int completed_events(lp_db *db, int64_t project_id, int64_t task_id)
{
    lp_buf t = {0};
    int64_t pid, batch_id = 0, open = 0;
    int rc = lp_task_text(db, task_id, &pid, &t);
    if (rc == 0) rc = lp_outbox_event(db, project_id, "task.completed", t.data);
    lp_buf_fini(&t);
    if (rc == 0 && lp_db_int64(db, &batch_id,
                               "SELECT batch_id FROM tasks WHERE id = ? AND batch_id IS NOT NULL",
                               "i", task_id) == 0) {
        rc = lp_db_int64(db, &open,
                         "SELECT COALESCE(SUM(n), 0) FROM batch_counts WHERE batch_id = ? AND "
                         "status IN ('pending', 'in_progress', 'review')",
                         "i", batch_id);
        if (rc == 0 && open == 0) {
            rc = lp_db_run(db,
                           "UPDATE batches SET status = 'completed', updated_at = ? WHERE id = ?",
                           "ii", lp_now_ms(), batch_id);
            json_t *b = NULL;
            if (rc == 0) rc = lp_batch_json(db, batch_id, &pid, &b);
            char *text = b ? json_dumps(b, LP_JSON_DUMP) : NULL;
            if (rc == 0) rc = lp_outbox_event(db, project_id, "batch.completed", text);
            free(text);
            json_decref(b);
        }
    }
    return rc;
}

/* The annotation a user already submitted under annotation_id, if any. */
static int find_annotation(lp_db *db, int64_t user_id, const char *annotation_id, lp_submit *out)
{
    lp_stmt *st;
    int rc =
        lp_db_prepare(db,
                      "SELECT a.id, a.status, a.reason, t.status FROM annotations a JOIN "
                      "tasks t ON t.id = a.task_id WHERE a.user_id = ? AND a.annotation_id = ?",
                      &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, user_id);
    lp_stmt_bind_text(st, 2, annotation_id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        out->annotation = lp_stmt_int64(st, 0);
        out->accepted = !strcmp(lp_stmt_text(st, 1), "accepted");
        snprintf(out->reason, sizeof out->reason, "%s", lp_stmt_text(st, 2));
        snprintf(out->task_status, sizeof out->task_status, "%s", lp_stmt_text(st, 3));
        out->repeated = 1;
        rc = 0;
    } else {
        rc = rc < 0 ? rc : LP_ENOTFOUND;
    }
    lp_stmt_done(st);
    return rc;
}

/* Why the task cannot take this user's annotation now, or NULL if it can.
 * Reads the task's status and slots inside the caller's transaction. */
static const char *refusal(lp_db *db, const lp_project *p, int64_t task_id, int64_t user_id,
                           int lease_active, char status[16])
{
    lp_stmt *st;
    static const char *const sql[2] = {
        "SELECT status, done, leased FROM tasks WHERE id = ?",
        "SELECT status, done, leased FROM tasks WHERE id = ? FOR UPDATE"};
    if (lp_db_prepare(db, sql[lp_db_row_locks(db)], &st) < 0) return "the task could not be read";
    lp_stmt_bind_int64(st, 1, task_id);
    const char *why = "the task no longer exists";
    if (lp_stmt_step(st) == LP_DB_ROW) {
        snprintf(status, 16, "%s", lp_stmt_text(st, 0));
        int64_t done = lp_stmt_int64(st, 1), leased = lp_stmt_int64(st, 2);
        why = NULL;
        int gold = !strcmp(status, "gold"); /* any number of workers answer gold */
        if (!strcmp(status, "canceled"))
            why = "the task was canceled";
        else if (!gold && strcmp(status, "pending") && strcmp(status, "in_progress"))
            why = "the task already has all its annotations";
        else if (!gold && !lease_active && done + leased >= p->overlap)
            why = "your lease expired and other workers now hold the task's remaining slots";
    }
    lp_stmt_done(st);
    if (check_paused(db, p->id, user_id) == LP_EPERM)
        why = "you are paused on this project: a manager must reinstate you first";
    if (!why) {
        int64_t n = 0;
        lp_db_int64(db, &n,
                    "SELECT COUNT(*) FROM annotations WHERE task_id = ? AND user_id = ? AND "
                    "status = 'accepted'",
                    "ii", task_id, user_id);
        if (n > 0) why = "you already annotated this task";
    }
    return why;
}

/* Pauses a member on the project, in the caller's transaction, and gives
 * back their open leases there (reason "paused"). */
static int pause_worker(lp_db *db, int64_t project_id, int64_t user_id, const char *reason)
{
    int64_t now = lp_now_ms();
    int rc = lp_db_run(db,
                       "UPDATE project_members SET paused_at = ?, pause_reason = ? WHERE "
                       "project_id = ? AND user_id = ? AND paused_at IS NULL",
                       "isii", now, reason, project_id, user_id);
    /* One statement ends the leases and says which it ended, so that a
     * slot is freed exactly for each lease moved from active here (a reap
     * or submit elsewhere ends the others, and frees theirs). */
    lp_stmt *st;
    int64_t tasks[256];
    int n;
    do {
        n = 0;
        if (rc == 0)
            rc = lp_db_prepare(db,
                               "UPDATE assignments SET status = 'released', reason = 'paused', "
                               "updated_at = ? WHERE id IN (SELECT id FROM assignments WHERE "
                               "project_id = ? AND user_id = ? AND status = 'active' LIMIT 256) "
                               "RETURNING task_id, kind = 'annotate'",
                               &st);
        if (rc < 0) break;
        lp_stmt_bind_int64(st, 1, now);
        lp_stmt_bind_int64(st, 2, project_id);
        lp_stmt_bind_int64(st, 3, user_id);
        int more = 0;
        while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
            more = 1;
            if (lp_stmt_int64(st, 1) && n < 256) tasks[n++] = lp_stmt_int64(st, 0);
        }
        lp_stmt_done(st);
        if (rc < 0) break;
        rc = 0;
        for (int i = 0; i < n && rc == 0; i++)
            rc = lp_db_run(db, "UPDATE tasks SET leased = leased - 1 WHERE id = ?", "i", tasks[i]);
        if (!more) break;
    } while (rc == 0);
    return rc;
}

/* After a scored gold answer: pauses the user when their gold accuracy
 * since joining, or their last reinstatement (quality_after), is below the
 * project's min_gold_accuracy over at least min_gold_count answers.  A
 * user who is not a member (an admin) is never paused. */
static int check_quality(lp_db *db, const lp_project *p, int64_t user_id)
{
    if (p->min_gold_accuracy <= 0) return 0;
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT COUNT(*), COALESCE(AVG(an.score), 0) FROM annotations an JOIN "
                           "project_members m ON m.project_id = an.project_id AND m.user_id = "
                           "an.user_id WHERE an.project_id = ? AND an.user_id = ? AND "
                           "an.score IS NOT NULL AND an.status = 'accepted' AND "
                           "an.id > m.quality_after",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, p->id);
    lp_stmt_bind_int64(st, 2, user_id);
    int64_t n = 0;
    double acc = 0;
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        n = lp_stmt_int64(st, 0);
        acc = lp_stmt_double(st, 1);
        rc = 0;
    }
    lp_stmt_done(st);
    if (rc < 0 || n < p->min_gold_count || acc >= p->min_gold_accuracy) return rc < 0 ? rc : 0;
    char reason[160];
    snprintf(reason, sizeof reason,
             "gold accuracy %.2f over %lld gold tasks is below the project's minimum %.2f", acc,
             (long long)n, p->min_gold_accuracy);
    return pause_worker(db, p->id, user_id, reason);
}

int lp_worker_paused(lp_db *db, int64_t project_id, int64_t user_id, char *reason, size_t n)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT pause_reason FROM project_members WHERE project_id = ? AND "
                           "user_id = ? AND paused_at IS NOT NULL",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, project_id);
    lp_stmt_bind_int64(st, 2, user_id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW && reason) snprintf(reason, n, "%s", lp_stmt_text(st, 0));
    lp_stmt_done(st);
    return rc == LP_DB_ROW ? 1 : rc == LP_DB_DONE ? 0 : rc;
}

int lp_worker_set_paused(lp_db *db, int64_t project_id, int64_t user_id, int paused,
                         const char *reason)
{
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc < 0) return rc;
    int64_t one = 0;
    rc = lp_db_int64(db, &one, "SELECT 1 FROM project_members WHERE project_id = ? AND user_id = ?",
                     "ii", project_id, user_id);
    if (rc == 0 && paused)
        rc = pause_worker(db, project_id, user_id, reason);
    else if (rc == 0) /* accuracy counts afresh from now */
        rc = lp_db_run(db,
                       "UPDATE project_members SET paused_at = NULL, pause_reason = NULL, "
                       "quality_after = (SELECT COALESCE(MAX(id), 0) FROM annotations) "
                       "WHERE project_id = ? AND user_id = ? AND paused_at IS NOT NULL",
                       "ii", project_id, user_id);
    if (rc < 0) {
        lp_db_rollback(db);
        return rc;
    }
    return lp_db_commit(db);
}

/* The task as the kind checks and scores a response to it: the whole task,
 * or for a task-free kind an object with only its expected_response (if
 * any), which saves reading and parsing the task on every submit. */
static int submit_task(lp_db *db, const lp_project *p, int64_t task_id, json_t **task)
{
    if (!p->kind->task_free) {
        int64_t pid;
        return lp_task_get(db, task_id, &pid, task);
    }
    lp_stmt *st;
    int rc = lp_db_prepare(db, "SELECT expected_response FROM tasks WHERE id = ?", &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, task_id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        *task = json_object();
        if (!lp_stmt_is_null(st, 0)) {
            json_t *exp = json_loads(lp_stmt_text(st, 0), JSON_DECODE_ANY, NULL);
            if (exp) json_object_set_new(*task, "expected_response", exp);
        }
        rc = 0;
    } else if (rc == LP_DB_DONE) {
        rc = LP_ENOTFOUND;
    }
    lp_stmt_done(st);
    return rc;
}

/* lp_queue_submit inside its transaction. */
static int submit(lp_db *db, const lp_project *p, int64_t id, int64_t user_id,
                  const char *annotation_id, const json_t *response, lp_submit *out, lp_verr *e)
{
    /* A retry of a submit that went through returns the first result. */
    int rc = find_annotation(db, user_id, annotation_id, out);
    if (rc != LP_ENOTFOUND) return rc;
    int64_t task_id;
    char ast[16], tst[16] = "";
    int review = 0;
    rc = owned(db, id, user_id, &task_id, ast, &review);
    if (rc < 0) return rc;
    if (review)
        return lp_verr_set(e, "",
                           "this is a review assignment: answer it with "
                           "POST /v1/assignments/%lld/review",
                           (long long)id);
    json_t *task = NULL;
    rc = submit_task(db, p, task_id, &task);
    if (rc < 0) return rc;
    if (p->kind->validate_response &&
        p->kind->validate_response(p->params, task, response, "response", e)) {
        json_decref(task);
        return LP_EINVAL;
    }
    /* A gold task's answer is scored against its expected response. */
    const json_t *expected = json_object_get(task, "expected_response");
    double score = expected ? lp_kind_score(p->kind, p->params, task, response, expected) : 0;
    json_decref(task);
    char *text = json_dumps(response, LP_JSON_DUMP);
    int64_t now = lp_now_ms();
    const char *why = NULL;
    int active = rc == 0 && !strcmp(ast, "active");
    if (rc == 0 && !strcmp(ast, "submitted"))
        why = "this assignment was already submitted with another annotation_id";
    else if (rc == 0)
        why = refusal(db, p, task_id, user_id, active, tst);
    out->accepted = rc == 0 && !why;
    if (why) snprintf(out->reason, sizeof out->reason, "%s", why);
    lp_stmt *ins = NULL;
    if (rc == 0)
        rc = lp_db_prepare_insert(db,
                                  "INSERT INTO annotations (annotation_id, assignment_id, task_id, "
                                  "project_id, user_id, response, status, reason, created_at) "
                                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                  &ins);
    if (rc == 0) {
        lp_stmt_bind_text(ins, 1, annotation_id);
        lp_stmt_bind_int64(ins, 2, id);
        lp_stmt_bind_int64(ins, 3, task_id);
        lp_stmt_bind_int64(ins, 4, p->id);
        lp_stmt_bind_int64(ins, 5, user_id);
        lp_stmt_bind_text(ins, 6, text);
        lp_stmt_bind_text(ins, 7, out->accepted ? "accepted" : "rejected");
        lp_stmt_bind_text(ins, 8, why);
        lp_stmt_bind_int64(ins, 9, now);
        rc = lp_stmt_insert_id(ins, &out->annotation, LP_EDB);
        lp_stmt_done(ins);
    }
    if (rc == 0 && out->accepted) {
        rc = lp_db_run(db,
                       "UPDATE assignments SET status = 'submitted', updated_at = ? WHERE id = ?",
                       "ii", now, id);
        if (rc == 0)
            rc = lp_db_run(db,
                           "UPDATE tasks SET done = done + 1, leased = leased - ?, updated_at = ? "
                           "WHERE id = ?",
                           "iii", (int64_t)active, now, task_id);
        int gold = !strcmp(tst, "gold");
        if (rc == 0 && gold) {
            rc = lp_db_run(db, "UPDATE annotations SET score = ? WHERE id = ?", "di", score,
                           out->annotation);
            if (rc == 0) rc = check_quality(db, p, user_id);
        }
        int64_t done = 0;
        if (rc == 0)
            rc = lp_db_int64(db, &done, "SELECT done FROM tasks WHERE id = ?", "i", task_id);
        /* (the row is held since refusal(): no other submit changes the set) */
        if (rc == 0 && !gold && done >= 2)
            rc = lp_queue_set_disagreement(db, p->kind, p->params, task_id);
        snprintf(tst, sizeof tst, "in_progress"); /* (as a gold task looks to its worker) */
        if (rc == 0 && !gold && done >= p->overlap) {
            /* The result is made now, so reviewers see what they review. */
            const char *to = p->review_levels > 0 ? "review" : "completed";
            rc = lp_queue_store_result(db, p, task_id, NULL);
            if (rc == 0) rc = lp_task_set_status(db, task_id, to, NULL, NULL);
            if (rc == 0 && p->review_levels > 0)
                rc = lp_db_run(db, "UPDATE tasks SET review_level = 1 WHERE id = ?", "i", task_id);
            if (rc == 0 && !strcmp(to, "completed")) rc = completed_events(db, p->id, task_id);
            snprintf(tst, sizeof tst, "%s", to);
        }
    }
    snprintf(out->task_status, sizeof out->task_status, "%s", tst);
    free(text);
    return rc;
}

int lp_queue_submit(lp_db *db, const lp_project *p, int64_t id, int64_t user_id,
                    const char *annotation_id, const json_t *response, lp_submit *out, lp_verr *e)
{
    memset(out, 0, sizeof *out);
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc == 0) rc = submit(db, p, id, user_id, annotation_id, response, out, e);
    if (rc < 0) {
        lp_db_rollback(db);
        /* The same annotation_id submitted twice at once: the other won. */
        if (rc == LP_EEXISTS) return find_annotation(db, user_id, annotation_id, out);
        return rc;
    }
    return lp_db_commit(db);
}

int lp_review_next(lp_db *db, const lp_project *p, int64_t user_id, int64_t *assignment_id)
{
    int64_t now = lp_now_ms();
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc < 0) return rc;
    rc = resume(db, p, user_id, "review", now, assignment_id);
    if (rc == 0) return lp_db_commit(db);
    lp_stmt *st;
    int64_t task_id = 0, level = 0;
#define FIND_REVIEW                                                             \
    "SELECT t.id, t.review_level FROM tasks t WHERE t.project_id = ? AND "      \
    "t.status = 'review' AND NOT EXISTS (SELECT 1 FROM assignments a WHERE "    \
    "a.task_id = t.id AND a.kind = 'review' AND a.status = 'active') AND NOT "  \
    "EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.user_id " \
    "= ? AND a.status IN ('active', 'submitted')) "                             \
    "ORDER BY t.priority DESC, t.queue_order, t.id LIMIT 1"
    static const char *const sql[2] = {FIND_REVIEW, FIND_REVIEW " FOR UPDATE OF t SKIP LOCKED"};
#undef FIND_REVIEW
    /* Leasing a review changes no column of the task, so where transactions
     * run side by side a row lock taken after another reviewer's commit does
     * not make PostgreSQL look again at NOT EXISTS (its snapshot is older):
     * with the row locked, a new statement checks that no review lease was
     * committed on it meanwhile, and the search starts over if one was. */
    for (int tries = 0; rc == LP_ENOTFOUND && tries < 16; tries++) {
        rc = lp_db_prepare(db, sql[lp_db_row_locks(db)], &st);
        if (rc < 0) break;
        lp_stmt_bind_int64(st, 1, p->id);
        lp_stmt_bind_int64(st, 2, user_id);
        rc = lp_stmt_step(st);
        if (rc == LP_DB_ROW) {
            task_id = lp_stmt_int64(st, 0);
            level = lp_stmt_int64(st, 1);
            rc = 0;
        } else if (rc == LP_DB_DONE) {
            rc = LP_ENOTFOUND;
        }
        lp_stmt_done(st);
        if (rc != 0 || !lp_db_row_locks(db)) break;
        int64_t taken = 0;
        rc = lp_db_int64(db, &taken,
                         "SELECT 1 FROM assignments WHERE task_id = ? AND kind = 'review' AND "
                         "status = 'active'",
                         "i", task_id);
        if (rc == 0)
            rc = LP_ENOTFOUND; /* taken meanwhile: look again */
        else if (rc == LP_ENOTFOUND)
            rc = 0;
        if (rc != LP_ENOTFOUND) break;
    }
    if (rc == 0)
        rc = lp_db_int64(
            db, assignment_id,
            "INSERT INTO assignments (task_id, project_id, user_id, status, kind, level, "
            "expires_at, created_at, updated_at) VALUES (?, ?, ?, 'active', 'review', ?, "
            "?, ?, ?) RETURNING id",
            "iiiiiii", task_id, p->id, user_id, level, now + p->lease_seconds * 1000, now, now);
    if (rc < 0) {
        lp_db_rollback(db);
        return rc;
    }
    return lp_db_commit(db);
}

/* Records the last review or audit decision on the task. */
static int note_decision(lp_db *db, int64_t task_id, const char *action, const char *comment,
                         int64_t user_id, int64_t level)
{
    json_t *r =
        json_pack("{s:s, s:s?, s:I, s:o, s:I}", "action", action, "comment", comment, "by",
                  (json_int_t)user_id, "at", lp_json_time(lp_now_ms()), "level", (json_int_t)level);
    char *text = json_dumps(r, LP_JSON_DUMP);
    int rc = lp_db_run(db, "UPDATE tasks SET review = ? WHERE id = ?", "si", text, task_id);
    free(text);
    json_decref(r);
    return rc;
}

/* Sends a task in review or completed back to annotation: its accepted
 * annotations and their assignments become 'returned' (kept, and their
 * annotators may take the task again), and its result is cleared (the
 * versions keep it); a model's label becomes 'returned' (autolabel.h), so
 * that humans, not the model again, label it. */
static int return_to_annotation(lp_db *db, int64_t task_id)
{
    int64_t now = lp_now_ms();
    int rc = lp_db_run(db,
                       "UPDATE annotations SET status = 'returned' WHERE task_id = ? AND "
                       "status = 'accepted'",
                       "i", task_id);
    if (rc == 0)
        rc = lp_db_run(
            db,
            "UPDATE assignments SET status = 'returned', updated_at = ? WHERE task_id = ? "
            "AND kind = 'annotate' AND status = 'submitted'",
            "ii", now, task_id);
    if (rc == 0)
        rc = lp_db_run(db,
                       "UPDATE tasks SET done = 0, review_level = 0, result = NULL, "
                       "disagreement = 0, auto_label = CASE WHEN auto_label = 'model' THEN "
                       "'returned' ELSE auto_label END WHERE id = ?",
                       "i", task_id);
    if (rc == 0) rc = lp_task_set_status(db, task_id, "pending", NULL, NULL);
    return rc;
}

int lp_review_decide(lp_db *db, const lp_project *p, int64_t id, int64_t user_id, int action,
                     const char *comment, const json_t *fixed, char task_status[16], lp_verr *e)
{
    int64_t task_id;
    char ast[16];
    int level = 0;
    int rc = owned(db, id, user_id, &task_id, ast, &level);
    if (rc < 0) return rc;
    if (!level)
        return lp_verr_set(e, "", "assignment %lld is not a review: submit it instead",
                           (long long)id);
    if (action == LP_REVIEW_FIX) {
        json_t *task = NULL;
        int64_t pid;
        rc = lp_task_get(db, task_id, &pid, &task);
        if (rc < 0) return rc;
        rc = p->kind->validate_response
                 ? p->kind->validate_response(p->params, task, fixed, "response", e)
                 : 0;
        json_decref(task);
        if (rc < 0) return rc;
    }
    rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc < 0) return rc;
    rc = owned(db, id, user_id, &task_id, ast, &level);
    int64_t at_level = -1;
    if (rc == 0 && strcmp(ast, "active")) rc = LP_ECONFLICT;
    if (rc == 0)
        rc = lp_db_int64(db, &at_level,
                         lp_db_row_locks(db) ? "SELECT review_level FROM tasks WHERE id = ? AND "
                                               "status = 'review' FOR UPDATE"
                                             : "SELECT review_level FROM tasks WHERE id = ? AND "
                                               "status = 'review'",
                         "i", task_id);
    if (rc == LP_ENOTFOUND || (rc == 0 && at_level != level)) rc = LP_ECONFLICT; /* moved on */
    static const char *const names[] = {"accept", "reject", "fix"};
    if (rc == 0)
        rc = lp_db_run(db,
                       "UPDATE assignments SET status = 'submitted', reason = ?, updated_at = ? "
                       "WHERE id = ?",
                       "sii", names[action], lp_now_ms(), id);
    if (rc == 0) rc = note_decision(db, task_id, names[action], comment, user_id, level);
    snprintf(task_status, 16, "review");
    if (rc == 0 && action == LP_REVIEW_REJECT) {
        rc = return_to_annotation(db, task_id);
        snprintf(task_status, 16, "pending");
    } else if (rc == 0) {
        if (action == LP_REVIEW_FIX) {
            int64_t n = 0;
            lp_db_int64(
                db, &n,
                "SELECT COUNT(*) FROM annotations WHERE task_id = ? AND status = 'accepted'", "i",
                task_id);
            json_t *result = json_pack("{s:O, s:f, s:s, s:I}", "response", fixed, "confidence", 1.0,
                                       "method", "review_fix", "annotations", (json_int_t)n);
            rc = lp_queue_set_result(db, task_id, result, "fix", user_id, NULL);
            json_decref(result);
        }
        if (rc == 0 && level >= p->review_levels) {
            rc = lp_task_set_status(db, task_id, "completed", NULL, NULL);
            if (rc == 0) rc = completed_events(db, p->id, task_id);
            snprintf(task_status, 16, "completed");
        } else if (rc == 0) {
            rc = lp_db_run(db, "UPDATE tasks SET review_level = review_level + 1 WHERE id = ?", "i",
                           task_id);
        }
    }
    if (rc < 0) {
        lp_db_rollback(db);
        return rc;
    }
    return lp_db_commit(db);
}

int lp_task_audit(lp_db *db, const lp_project *p, int64_t task_id, int64_t user_id, int accepted,
                  const char *comment, char task_status[16])
{
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc < 0) return rc;
    int64_t one = 0;
    rc = lp_db_int64(db, &one,
                     lp_db_row_locks(db)
                         ? "SELECT 1 FROM tasks WHERE id = ? AND status = 'completed' FOR UPDATE"
                         : "SELECT 1 FROM tasks WHERE id = ? AND status = 'completed'",
                     "i", task_id);
    if (rc == LP_ENOTFOUND) rc = LP_ECONFLICT;
    if (rc == 0)
        rc = note_decision(db, task_id, accepted ? "audit_accept" : "audit_reject", comment,
                           user_id, 0);
    snprintf(task_status, 16, "completed");
    if (rc == 0 && !accepted) {
        rc = return_to_annotation(db, task_id);
        snprintf(task_status, 16, "pending");
    }
    if (rc == 0) {
        lp_buf t = {0};
        int64_t pid;
        rc = lp_task_text(db, task_id, &pid, &t);
        char *data = rc == 0 ? lp_sprintf("{\"accepted\":%s,\"task\":%s}",
                                          accepted ? "true" : "false", t.data)
                             : NULL;
        if (rc == 0) rc = lp_outbox_event(db, p->id, "task.audited", data);
        free(data);
        lp_buf_fini(&t);
    }
    if (rc < 0) {
        lp_db_rollback(db);
        return rc;
    }
    return lp_db_commit(db);
}

int lp_queue_completed_events(lp_db *db, int64_t project_id, int64_t task_id)
{
    return completed_events(db, project_id, task_id);
}
