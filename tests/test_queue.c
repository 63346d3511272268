/* test_queue.c -- leases, overlap, expiry, drafts and idempotent submits. */
#include <stdlib.h>

#include "auth.h"
#include "project.h"
#include "queue.h"
#include "tasks.h"
#include "test.h"
#include "util.h"

typedef struct qfix {
    lp_db *db;
    lp_project *p;
    int64_t users[4];
} qfix;

static int qsetup_r(qfix *f, int overlap, int ntasks, int review_levels)
{
    const char *dir = lp_test_tmpdir();
    char *err = NULL, url[512];
    unsetenv("LOUPE_SECRET");
    lp_auth_init(dir, &err);
    snprintf(url, sizeof url, "sqlite:%s/q.db", dir);
    if (lp_db_open(url, &f->db, &err) < 0 || lp_db_migrate(f->db) < 0) return -1;
    for (int i = 0; i < 4; i++) {
        char email[32];
        snprintf(email, sizeof email, "w%d@x.io", i);
        lp_user_create(f->db, email, "", 0, NULL, &f->users[i]);
    }
    json_t *b = json_pack("{s:s, s:s, s:{s:[s, s]}, s:i, s:i}", "name", "q", "kind",
                          "categorization", "params", "labels", "cat", "dog", "overlap", overlap,
                          "review_levels", review_levels);
    lp_verr e;
    int64_t id;
    int rc = lp_project_save(f->db, b, 0, &id, &e);
    json_decref(b);
    if (rc == 0) rc = lp_project_get(f->db, id, &f->p);
    lp_task_writer w;
    lp_task_writer_init(&w, f->db, f->p);
    lp_db_begin(f->db, LP_TX_WRITE);
    for (int i = 0; rc == 0 && i < ntasks; i++) {
        json_t *t = json_pack("{s:i}", "priority", 0);
        int64_t tid;
        rc = lp_task_writer_add(&w, t, &tid, &e);
        json_decref(t);
    }
    if (rc == 0) lp_task_writer_flush(&w);
    lp_db_commit(f->db);
    lp_task_writer_fini(&w);
    return rc;
}

static int qsetup(qfix *f, int overlap, int ntasks)
{
    return qsetup_r(f, overlap, ntasks, 0);
}

static void qteardown(qfix *f)
{
    lp_project_free(f->p);
    lp_db_close(f->db);
}

static int64_t task_of(qfix *f, int64_t assignment)
{
    int64_t t = 0;
    lp_db_int64(f->db, &t, "SELECT task_id FROM assignments WHERE id = ?", "i", assignment);
    return t;
}

static int submit(qfix *f, int64_t a, int64_t user, const char *aid, lp_submit *s)
{
    json_t *r = json_pack("{s:[s]}", "labels", "cat");
    lp_verr e;
    int rc = lp_queue_submit(f->db, f->p, a, user, aid, r, s, &e);
    json_decref(r);
    return rc;
}

static int64_t col(qfix *f, const char *sql, int64_t id)
{
    int64_t v = -1;
    lp_db_int64(f->db, &v, sql, "i", id);
    return v;
}

TEST(queue_overlap_distinct_workers_and_completion)
{
    qfix f = {0};
    CHECK_INT(qsetup(&f, 2, 1), 0);
    int64_t a0, a1, a2;
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[0], &a0), 0);
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[0], &a1), 0);
    CHECK_INT(a1, a0); /* asking again resumes the lease */
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[1], &a1), 0);
    CHECK(a1 != a0);
    CHECK_INT(task_of(&f, a1), task_of(&f, a0));
    /* Two leases on a task with overlap 2: no third worker gets it. */
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[2], &a2), LP_ENOTFOUND);
    lp_submit s;
    CHECK_INT(submit(&f, a0, f.users[0], "x0", &s), 0);
    CHECK(s.accepted);
    CHECK_STR(s.task_status, "in_progress");
    /* The worker who submitted never gets the task again. */
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[0], &a2), LP_ENOTFOUND);
    CHECK_INT(submit(&f, a1, f.users[1], "x1", &s), 0);
    CHECK(s.accepted);
    CHECK_STR(s.task_status, "completed");
    int64_t t = task_of(&f, a0);
    CHECK_INT(col(&f, "SELECT done FROM tasks WHERE id = ?", t), 2);
    CHECK_INT(col(&f, "SELECT leased FROM tasks WHERE id = ?", t), 0);
    json_t *c = lp_counts_json(f.db, f.p->id, 0);
    CHECK_INT(json_integer_value(json_object_get(c, "completed")), 1);
    CHECK_INT(json_integer_value(json_object_get(c, "total")), 1);
    json_decref(c);
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[2], &a2), LP_ENOTFOUND);
    /* The completed task carries its result (the default method, auto). */
    lp_buf tb = {0};
    int64_t pid;
    CHECK_INT(lp_task_text(f.db, t, &pid, &tb), 0);
    CHECK(strstr(tb.data, "\"result\":{\"response\":{\"labels\":[\"cat\"]},\"confidence\":1.0,"
                          "\"method\":\"auto\",\"annotations\":2}"));
    lp_buf_fini(&tb);
    qteardown(&f);
}

TEST(queue_submit_is_idempotent_and_refusals_are_kept)
{
    qfix f = {0};
    CHECK_INT(qsetup(&f, 1, 2), 0);
    int64_t a;
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[0], &a), 0);
    lp_submit s, s2;
    CHECK_INT(submit(&f, a, f.users[0], "same", &s), 0);
    CHECK_INT(submit(&f, a, f.users[0], "same", &s2), 0);
    CHECK(s2.repeated);
    CHECK_INT(s2.annotation, s.annotation);
    CHECK_INT(col(&f, "SELECT COUNT(*) FROM annotations WHERE assignment_id = ?", a), 1);
    /* A second response on the same assignment is kept, but rejected. */
    CHECK_INT(submit(&f, a, f.users[0], "other", &s2), 0);
    CHECK(!s2.accepted);
    CHECK(strstr(s2.reason, "already submitted"));
    CHECK_INT(col(&f, "SELECT COUNT(*) FROM annotations WHERE assignment_id = ?", a), 2);
    CHECK_INT(col(&f, "SELECT done FROM tasks WHERE id = ?", task_of(&f, a)), 1);
    /* Someone else's assignment is not found; a bad response names its field. */
    CHECK_INT(submit(&f, a, f.users[1], "theirs", &s2), LP_ENOTFOUND);
    int64_t b;
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[0], &b), 0);
    json_t *bad = json_pack("{s:[s]}", "labels", "cow");
    lp_verr e;
    CHECK_INT(lp_queue_submit(f.db, f.p, b, f.users[0], "bad", bad, &s2, &e), LP_EINVAL);
    CHECK(strstr(e.message, "cow"));
    json_decref(bad);
    CHECK_INT(col(&f, "SELECT COUNT(*) FROM annotations WHERE annotation_id = 'bad' AND ? > 0", 1),
              0);
    qteardown(&f);
}

TEST(queue_expired_leases_return_and_late_submits_are_judged)
{
    qfix f = {0};
    CHECK_INT(qsetup(&f, 1, 1), 0);
    int64_t a0, a1, t;
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[0], &a0), 0);
    t = task_of(&f, a0);
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[1], &a1), LP_ENOTFOUND);
    /* The lease runs out: the next call reaps it and the task is free. */
    lp_db_run(f.db, "UPDATE assignments SET expires_at = 1 WHERE id = ?", "i", a0);
    const char *st = NULL;
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[1], &a1), 0);
    CHECK_INT(task_of(&f, a1), t);
    CHECK_INT(lp_queue_heartbeat(f.db, a0, f.users[0], 60000, &st), LP_ECONFLICT);
    CHECK_STR(st, "expired");
    /* The late submit: the only slot is someone else's now, so it is kept
     * as rejected, and says why. */
    lp_submit s;
    CHECK_INT(submit(&f, a0, f.users[0], "late", &s), 0);
    CHECK(!s.accepted);
    CHECK(strstr(s.reason, "expired"));
    /* Had the slot been free, it would have counted. */
    CHECK_INT(lp_queue_give_back(f.db, a1, f.users[1], "released", NULL, &st), 0);
    CHECK_INT(submit(&f, a0, f.users[0], "late-2", &s), 0);
    CHECK(s.accepted);
    CHECK_STR(s.task_status, "completed");
    CHECK_INT(col(&f, "SELECT done FROM tasks WHERE id = ?", t), 1);
    CHECK_INT(col(&f, "SELECT leased FROM tasks WHERE id = ?", t), 0);
    qteardown(&f);
}

TEST(queue_drafts_skips_and_order)
{
    qfix f = {0};
    CHECK_INT(qsetup(&f, 1, 3), 0);
    /* Priority first: raise the last task. */
    int64_t last = 0;
    lp_db_int64(f.db, &last, "SELECT MAX(id) FROM tasks", NULL);
    lp_db_run(f.db, "UPDATE tasks SET priority = 5 WHERE id = ?", "i", last);
    int64_t a;
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[0], &a), 0);
    CHECK_INT(task_of(&f, a), last);
    CHECK_INT(lp_queue_draft(f.db, a, f.users[0], "{\"labels\":[\"dog\"]}"), 0);
    lp_buf out = {0};
    int64_t uid, pid;
    CHECK_INT(lp_assignment_text(f.db, a, &uid, &pid, &out), 0);
    CHECK(strstr(out.data, "\"draft\":{\"labels\":[\"dog\"]}"));
    lp_buf_fini(&out);
    const char *st;
    CHECK_INT(lp_queue_give_back(f.db, a, f.users[0], "skipped", "blurry", &st), 0);
    CHECK_INT(lp_queue_give_back(f.db, a, f.users[0], "skipped", "again", &st), LP_ECONFLICT);
    /* A skipped task goes to others, never back to this worker. */
    int64_t b;
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[0], &b), 0);
    CHECK(task_of(&f, b) != last);
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[1], &b), 0);
    CHECK_INT(task_of(&f, b), last);
    qteardown(&f);
}

TEST(queue_skips_staging_batches)
{
    qfix f = {0};
    CHECK_INT(qsetup(&f, 1, 0), 0);
    json_t *bj = json_pack("{s:s}", "name", "later");
    lp_verr e;
    int64_t bid, tid, a;
    CHECK_INT(lp_batch_create(f.db, f.p->id, bj, &bid, &e), 0);
    json_decref(bj);
    lp_task_writer w;
    lp_task_writer_init(&w, f.db, f.p);
    json_t *t = json_pack("{s:I}", "batch_id", (json_int_t)bid);
    lp_db_begin(f.db, LP_TX_WRITE);
    CHECK_INT(lp_task_writer_add(&w, t, &tid, &e), 0);
    lp_task_writer_flush(&w);
    lp_db_commit(f.db);
    lp_task_writer_fini(&w);
    json_decref(t);
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[0], &a), LP_ENOTFOUND);
    CHECK_INT(lp_batch_finalize(f.db, bid), 0);
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[0], &a), 0);
    CHECK_INT(task_of(&f, a), tid);
    qteardown(&f);
}

static int decide(qfix *f, int64_t a, int64_t user, int action, const char *comment,
                  const char *fixed_label, char status[16])
{
    json_t *fixed = fixed_label ? json_pack("{s:[s]}", "labels", fixed_label) : NULL;
    lp_verr e;
    int rc = lp_review_decide(f->db, f->p, a, user, action, comment, fixed, status, &e);
    json_decref(fixed);
    return rc;
}

TEST(review_levels_accept_fix_and_keep_versions)
{
    qfix f = {0};
    CHECK_INT(qsetup_r(&f, 1, 1, 2), 0);
    int64_t a, r1, r2, x;
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[0], &a), 0);
    int64_t t = task_of(&f, a);
    lp_submit s;
    CHECK_INT(submit(&f, a, f.users[0], "s", &s), 0);
    CHECK_STR(s.task_status, "review");
    /* The annotator cannot review their own work. */
    CHECK_INT(lp_review_next(f.db, f.p, f.users[0], &x), LP_ENOTFOUND);
    CHECK_INT(lp_review_next(f.db, f.p, f.users[1], &r1), 0);
    CHECK_INT(task_of(&f, r1), t);
    /* One reviewer at a time: nobody else gets it meanwhile. */
    CHECK_INT(lp_review_next(f.db, f.p, f.users[2], &x), LP_ENOTFOUND);
    char st[16];
    CHECK_INT(decide(&f, r1, f.users[1], LP_REVIEW_ACCEPT, NULL, NULL, st), 0);
    CHECK_STR(st, "review");
    CHECK_INT(col(&f, "SELECT review_level FROM tasks WHERE id = ?", t), 2);
    /* Level 2 goes to someone who has not reviewed it yet. */
    CHECK_INT(lp_review_next(f.db, f.p, f.users[1], &x), LP_ENOTFOUND);
    CHECK_INT(lp_review_next(f.db, f.p, f.users[2], &r2), 0);
    CHECK_INT(decide(&f, r2, f.users[2], LP_REVIEW_FIX, NULL, "dog", st), 0);
    CHECK_STR(st, "completed");
    /* A second decision on the same lease is refused. */
    CHECK_INT(decide(&f, r2, f.users[2], LP_REVIEW_ACCEPT, NULL, NULL, st), LP_ECONFLICT);
    CHECK_INT(col(&f, "SELECT COUNT(*) FROM result_versions WHERE task_id = ?", t), 2);
    lp_buf tb = {0};
    int64_t pid;
    CHECK_INT(lp_task_text(f.db, t, &pid, &tb), 0);
    CHECK(strstr(tb.data, "\"result\":{\"response\":{\"labels\":[\"dog\"]}"));
    CHECK(strstr(tb.data, "\"method\":\"review_fix\""));
    CHECK(strstr(tb.data, "\"review\":{\"action\":\"fix\""));
    lp_buf_fini(&tb);
    qteardown(&f);
}

TEST(review_reject_and_audit_send_the_task_back_to_its_annotators)
{
    qfix f = {0};
    CHECK_INT(qsetup_r(&f, 1, 1, 1), 0);
    int64_t a, r, x;
    lp_submit s;
    char st[16];
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[0], &a), 0);
    int64_t t = task_of(&f, a);
    CHECK_INT(submit(&f, a, f.users[0], "first", &s), 0);
    CHECK_INT(lp_review_next(f.db, f.p, f.users[1], &r), 0);
    CHECK_INT(decide(&f, r, f.users[1], LP_REVIEW_REJECT, "the cat is a dog", NULL, st), 0);
    CHECK_STR(st, "pending");
    CHECK_INT(col(&f, "SELECT done FROM tasks WHERE id = ?", t), 0);
    CHECK_INT(
        col(&f, "SELECT COUNT(*) FROM annotations WHERE task_id = ? AND status = 'returned'", t),
        1);
    /* The annotator gets the task back and sees the comment. */
    CHECK_INT(lp_queue_next(f.db, f.p, f.users[0], &x), 0);
    CHECK_INT(task_of(&f, x), t);
    lp_buf out = {0};
    int64_t uid, pid;
    CHECK_INT(lp_assignment_text(f.db, x, &uid, &pid, &out), 0);
    CHECK(strstr(out.data, "the cat is a dog"));
    lp_buf_fini(&out);
    CHECK_INT(submit(&f, x, f.users[0], "second", &s), 0);
    CHECK_STR(s.task_status, "review");
    CHECK_INT(lp_review_next(f.db, f.p, f.users[2], &r), 0);
    CHECK_INT(decide(&f, r, f.users[2], LP_REVIEW_ACCEPT, NULL, NULL, st), 0);
    CHECK_STR(st, "completed");
    /* The customer audit: accept keeps it; reject reopens it. */
    CHECK_INT(lp_task_audit(f.db, f.p, t, f.users[3], 1, NULL, st), 0);
    CHECK_STR(st, "completed");
    CHECK_INT(lp_task_audit(f.db, f.p, t, f.users[3], 0, "wrong", st), 0);
    CHECK_STR(st, "pending");
    CHECK_INT(lp_task_audit(f.db, f.p, t, f.users[3], 1, NULL, st), LP_ECONFLICT);
    CHECK_INT(col(&f, "SELECT COUNT(*) FROM deliveries WHERE event = 'task.audited' AND ? > 0", 1),
              0);
    json_t *c = lp_counts_json(f.db, f.p->id, 0);
    CHECK_INT(json_integer_value(json_object_get(c, "pending")), 1);
    CHECK_INT(json_integer_value(json_object_get(c, "total")), 1);
    json_decref(c);
    qteardown(&f);
}

/* How many distinct tasks 20 fresh workers are first given, under strategy. */
static int spread(const char *strategy, int *ok)
{
    qfix f = {0};
    *ok = 0;
    if (qsetup(&f, 20, 20) < 0) return -1;
    json_t *b = json_pack("{s:s}", "strategy", strategy);
    lp_verr e;
    int rc = lp_project_update(f.db, f.p->id, b, &e);
    json_decref(b);
    lp_project_free(f.p);
    f.p = NULL;
    if (rc == 0) rc = lp_project_get(f.db, 1, &f.p);
    int64_t seen[20];
    int distinct = 0;
    for (int w = 0; rc == 0 && w < 20; w++) {
        char email[32];
        int64_t uid, a;
        snprintf(email, sizeof email, "fresh%d@x.io", w);
        lp_user_create(f.db, email, "", 0, NULL, &uid);
        if ((rc = lp_queue_next(f.db, f.p, uid, &a)) < 0) break;
        int64_t t = task_of(&f, a), k = 0;
        while (k < distinct && seen[k] != t) k++;
        if (k == distinct) seen[distinct++] = t;
    }
    *ok = rc == 0 && !strcmp(f.p->strategy, strategy);
    qteardown(&f);
    return distinct;
}

TEST(queue_strategy_fifo_or_random_within_a_priority)
{
    int ok;
    CHECK_INT(spread("fifo", &ok), 1); /* all 20 start on the oldest task */
    CHECK(ok);
    CHECK(spread("random", &ok) > 1); /* P(all on one task) = 20^-19 */
    CHECK(ok);
    qfix f = {0};
    CHECK_INT(qsetup(&f, 1, 1), 0);
    json_t *bad = json_pack("{s:s}", "strategy", "lifo");
    lp_verr e;
    CHECK_INT(lp_project_update(f.db, f.p->id, bad, &e), LP_EINVAL);
    CHECK_STR(e.field, "strategy");
    json_decref(bad);
    qteardown(&f);
}

/* Adds n gold tasks answering "dog" to the fixture's project. */
static int add_gold(qfix *f, int n)
{
    lp_task_writer w;
    lp_task_writer_init(&w, f->db, f->p);
    lp_verr e;
    int rc = lp_db_begin(f->db, LP_TX_WRITE);
    for (int i = 0; rc == 0 && i < n; i++) {
        json_t *t = json_pack("{s:{s:[s]}}", "expected_response", "labels", "dog");
        int64_t tid;
        rc = lp_task_writer_add(&w, t, &tid, &e);
        json_decref(t);
    }
    if (rc == 0) rc = lp_task_writer_flush(&w);
    lp_task_writer_fini(&w);
    if (rc == 0) return lp_db_commit(f->db);
    lp_db_rollback(f->db);
    return rc;
}

TEST(gold_is_mixed_in_scored_never_completed_and_pauses_a_poor_worker)
{
    qfix f;
    CHECK(qsetup(&f, 1, 2) == 0);
    CHECK(add_gold(&f, 3) == 0);
    CHECK(col(&f, "SELECT n FROM project_counts WHERE project_id = ? AND status = 'gold'",
              f.p->id) == 3);
    CHECK(col(&f, "SELECT n FROM project_counts WHERE project_id = ? AND status = 'pending'",
              f.p->id) == 2);
    f.p->gold_rate = 1;
    f.p->min_gold_accuracy = 0.5;
    f.p->min_gold_count = 2;
    CHECK(lp_member_set(f.db, f.p->id, f.users[0], LP_ROLE_ANNOTATOR) == 0);
    lp_submit s;
    int64_t a;
    /* Two wrong gold answers ("cat" for "dog"): scored 0, then paused. */
    for (int i = 0; i < 2; i++) {
        CHECK(lp_queue_next(f.db, f.p, f.users[0], &a) == 0);
        int64_t t = task_of(&f, a);
        CHECK(col(&f, "SELECT status = 'gold' FROM tasks WHERE id = ?", t) == 1);
        char aid[8];
        snprintf(aid, sizeof aid, "g%d", i);
        CHECK(submit(&f, a, f.users[0], aid, &s) == 0);
        CHECK(s.accepted);
        CHECK_STR(s.task_status, "in_progress");
        CHECK(col(&f, "SELECT status = 'gold' FROM tasks WHERE id = ?", t) == 1);
        CHECK(col(&f, "SELECT score = 0 FROM annotations WHERE id = ?", s.annotation) == 1);
        CHECK(lp_worker_paused(f.db, f.p->id, f.users[0], NULL, 0) == (i == 1));
    }
    CHECK(lp_queue_next(f.db, f.p, f.users[0], &a) == LP_EPERM);
    /* Reinstated: works again, and accuracy counts afresh. */
    CHECK(lp_worker_set_paused(f.db, f.p->id, f.users[0], 0, NULL) == 0);
    CHECK(lp_worker_paused(f.db, f.p->id, f.users[0], NULL, 0) == 0);
    CHECK(lp_queue_next(f.db, f.p, f.users[0], &a) == 0);
    CHECK(submit(&f, a, f.users[0], "g3", &s) == 0);
    CHECK(lp_worker_paused(f.db, f.p->id, f.users[0], NULL, 0) == 0);
    /* A right answer scores 1; gold is exempt from overlap. */
    CHECK(lp_member_set(f.db, f.p->id, f.users[1], LP_ROLE_ANNOTATOR) == 0);
    CHECK(lp_queue_next(f.db, f.p, f.users[1], &a) == 0);
    json_t *r = json_pack("{s:[s]}", "labels", "dog");
    lp_verr e;
    CHECK(lp_queue_submit(f.db, f.p, a, f.users[1], "d1", r, &s, &e) == 0);
    json_decref(r);
    CHECK(col(&f, "SELECT score = 1 FROM annotations WHERE id = ?", s.annotation) == 1);
    /* A non-member (say an admin) is never paused, and a manager's pause
     * of a non-member is LP_ENOTFOUND. */
    CHECK(lp_worker_set_paused(f.db, f.p->id, f.users[3], 1, "x") == LP_ENOTFOUND);
    qteardown(&f);
}
