/* quality.c -- see quality.h.  Reads a project's accepted annotations
 * once into flat arrays (dense item ids in task-id order, dense worker
 * ids), then hands numbers to the pure engine: agree.h for agreement,
 * agg.h for the categorical models.
 *
 * Agreement is Krippendorff's alpha: nominal over the chosen category for
 * kinds that pick one of a set (categorization with one label,
 * comparison), and for every other kind with the distance 1 - score, the
 * kind's own symmetric score of two answers (alpha is defined for any
 * distance, Krippendorff 2011 sec. 2).  Its expected disagreement averages
 * the distance over all pairs of pairable answers, exactly up to 400
 * answers and over 20,000 pairs drawn with a fixed seed above that.  Gold
 * tasks are left out: they are answered by design, not by chance. */
#include "quality.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "agree.h"
#include "auth.h"
#include "kind.h"
#include "queue.h"
#include "tasks.h"
#include "util.h"

/* Above this many pairable answers, expected disagreement is sampled. */
#define EXACT_PAIRS_MAX 400
#define SAMPLED_PAIRS   20000
/* The most categories one answer may pick that we look at. */
#define MAX_PICKS 256

/* The project's accepted annotations. */
typedef struct qdata {
    size_t n, cap;
    uint32_t *item, *worker;
    json_t **resp;
    size_t n_items, n_workers, cap_items, cap_workers;
    int64_t *task;      /* per item */
    int *gold;          /* per item: a gold task */
    int *open;          /* per item: completed or in review (has a result to refit) */
    json_t **expected;  /* per item: the gold answer, or NULL */
    int64_t *user;      /* per worker */
    json_t *worker_ids; /* "user id" -> dense id */
} qdata;

static void qdata_fini(qdata *q)
{
    for (size_t i = 0; i < q->n; i++) json_decref(q->resp[i]);
    for (size_t i = 0; i < q->n_items; i++) json_decref(q->expected[i]);
    free(q->item);
    free(q->worker);
    free(q->resp);
    free(q->task);
    free(q->gold);
    free(q->open);
    free(q->expected);
    free(q->user);
    json_decref(q->worker_ids);
}

static uint32_t worker_id(qdata *q, int64_t user)
{
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)user);
    json_t *id = json_object_get(q->worker_ids, key);
    if (id) return (uint32_t)json_integer_value(id);
    if (q->n_workers == q->cap_workers) {
        q->cap_workers = q->cap_workers ? 2 * q->cap_workers : 64;
        q->user = lp_realloc(q->user, q->cap_workers * sizeof *q->user);
    }
    q->user[q->n_workers] = user;
    json_object_set_new(q->worker_ids, key, json_integer((json_int_t)q->n_workers));
    return (uint32_t)q->n_workers++;
}

/* Loads every accepted annotation of p, gold tasks too (with_gold) or not. */
static int load(lp_db *db, const lp_project *p, int with_gold, qdata *q)
{
    memset(q, 0, sizeof *q);
    q->worker_ids = json_object();
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT an.task_id, an.user_id, an.response, t.status, "
                           "t.expected_response FROM annotations an JOIN tasks t ON t.id = "
                           "an.task_id WHERE an.project_id = ? AND an.status = 'accepted' "
                           "ORDER BY an.task_id, an.id",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, p->id);
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        const char *status = lp_stmt_text(st, 3);
        int gold = !strcmp(status, "gold");
        if (gold && !with_gold) continue;
        json_t *resp = json_loads(lp_stmt_text(st, 2), JSON_DECODE_ANY, NULL);
        if (!resp) continue;
        int64_t task = lp_stmt_int64(st, 0);
        if (q->n_items == 0 || q->task[q->n_items - 1] != task) {
            if (q->n_items == q->cap_items) {
                q->cap_items = q->cap_items ? 2 * q->cap_items : 256;
                q->task = lp_realloc(q->task, q->cap_items * sizeof *q->task);
                q->gold = lp_realloc(q->gold, q->cap_items * sizeof *q->gold);
                q->open = lp_realloc(q->open, q->cap_items * sizeof *q->open);
                q->expected = lp_realloc(q->expected, q->cap_items * sizeof *q->expected);
            }
            q->task[q->n_items] = task;
            q->gold[q->n_items] = gold;
            q->open[q->n_items] = !strcmp(status, "completed") || !strcmp(status, "review");
            q->expected[q->n_items] = lp_stmt_is_null(st, 4)
                                          ? NULL
                                          : json_loads(lp_stmt_text(st, 4), JSON_DECODE_ANY, NULL);
            q->n_items++;
        }
        if (q->n == q->cap) {
            q->cap = q->cap ? 2 * q->cap : 1024;
            q->item = lp_realloc(q->item, q->cap * sizeof *q->item);
            q->worker = lp_realloc(q->worker, q->cap * sizeof *q->worker);
            q->resp = lp_realloc(q->resp, q->cap * sizeof *q->resp);
        }
        q->item[q->n] = (uint32_t)(q->n_items - 1);
        q->worker[q->n] = worker_id(q, lp_stmt_int64(st, 1));
        q->resp[q->n] = resp;
        q->n++;
    }
    lp_stmt_done(st);
    return rc < 0 ? rc : 0;
}

/* The single category an answer picks, or -1. */
static int32_t pick_one(const lp_project *p, lp_catset *c, const json_t *resp)
{
    const char *names[1];
    if (!resp || p->kind->categories(p->params, resp, names, 1) != 1) return -1;
    return (int32_t)lp_catset_id(c, names[0]);
}

static int single_choice(const lp_project *p)
{
    return p->kind->categories && p->kind->single && p->kind->single(p->params);
}

/* 1 - the symmetric kind score of two answers. */
static double distance(const lp_project *p, const json_t *task, const json_t *a, const json_t *b)
{
    return 1 - (lp_kind_score(p->kind, p->params, task, a, b) +
                lp_kind_score(p->kind, p->params, task, b, a)) /
                   2;
}

/* A small deterministic generator for the sampled pairs (xorshift64*). */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* Alpha with the kind's distance, and the mean pairwise score within
 * tasks.  Task-free kinds are scored without their task; the others get
 * each task's attachments and data. */
static void alpha_by_score(lp_db *db, const lp_project *p, const qdata *q, json_t *overall)
{
    /* Pairable answers: those of items with two or more. */
    size_t *start = lp_calloc(q->n_items + 1, sizeof *start);
    for (size_t i = 0; i < q->n; i++) start[q->item[i] + 1]++;
    for (size_t i = 0; i < q->n_items; i++) start[i + 1] += start[i];
    json_t **tasks = lp_calloc(q->n_items ? q->n_items : 1, sizeof *tasks);
    for (size_t i = 0; i < q->n_items; i++) {
        int64_t pid;
        if (start[i + 1] - start[i] < 2) continue;
        if (p->kind->task_free || lp_task_get(db, q->task[i], &pid, &tasks[i]) < 0)
            tasks[i] = json_object();
    }
    double d_o = 0, pair_score = 0;
    size_t pairs = 0, m = 0, units = 0;
    size_t *pairable = lp_malloc((q->n ? q->n : 1) * sizeof *pairable);
    for (size_t u = 0; u < q->n_items; u++) {
        size_t a = start[u], b = start[u + 1], mu = b - a;
        if (mu < 2) continue;
        units++;
        double sum = 0;
        for (size_t i = a; i < b; i++) {
            pairable[m++] = i;
            for (size_t j = i + 1; j < b; j++) {
                double d = distance(p, tasks[u], q->resp[i], q->resp[j]);
                sum += 2 * d;
                pair_score += 1 - d;
                pairs++;
            }
        }
        d_o += sum / (double)(mu - 1);
    }
    json_object_set_new(overall, "tasks", json_integer((json_int_t)units));
    json_object_set_new(overall, "annotations", json_integer((json_int_t)m));
    json_object_set_new(overall, "pairwise_agreement",
                        pairs ? json_real(pair_score / (double)pairs) : json_null());
    double d_e = 0;
    size_t drawn = 0;
    if (m >= 2 && m <= EXACT_PAIRS_MAX) {
        for (size_t i = 0; i < m; i++)
            for (size_t j = i + 1; j < m; j++) {
                size_t x = pairable[i], y = pairable[j];
                /* Answers of different tasks are compared as answers: the
                 * first one's task stands for both (kinds whose score
                 * reads the task compare within one task anyway). */
                d_e += 2 * distance(p, tasks[q->item[x]], q->resp[x], q->resp[y]);
                drawn += 2;
            }
    } else if (m > EXACT_PAIRS_MAX) {
        uint64_t seed = 0x9E3779B97F4A7C15ULL;
        for (; drawn < SAMPLED_PAIRS;) {
            size_t x = pairable[next_rand(&seed) % m], y = pairable[next_rand(&seed) % m];
            if (x == y) continue;
            d_e += distance(p, tasks[q->item[x]], q->resp[x], q->resp[y]);
            drawn++;
        }
    }
    d_o /= m ? (double)m : 1;
    d_e /= drawn ? (double)drawn : 1;
    json_object_set_new(overall, "level", json_string("kind_score"));
    json_object_set_new(overall, "alpha",
                        m >= 2 && d_e > 0 ? json_real(1 - d_o / d_e) : json_null());
    json_object_set_new(overall, "expected_disagreement",
                        json_string(m > EXACT_PAIRS_MAX ? "sampled" : "exact"));
    for (size_t i = 0; i < q->n_items; i++) json_decref(tasks[i]);
    free(tasks);
    free(start);
    free(pairable);
}

/* Nominal alpha of values (one per answer) over the items; NaN when no
 * item has two values or there is no variation at all. */
static json_t *nominal_alpha(const qdata *q, const double *value, size_t n)
{
    double alpha;
    if (lp_agree_alpha(n, q->item, value, LP_ALPHA_NOMINAL, &alpha) < 0 || isnan(alpha))
        return json_null();
    return json_real(alpha);
}

/* The categories each answer picks, as ids in c: answer i's are
 * picks[(*off)[i] .. (*off)[i + 1]).  The caller frees both arrays. */
static uint32_t *collect_picks(const lp_project *p, const qdata *q, lp_catset *c, size_t **off)
{
    const char *names[MAX_PICKS];
    size_t cap = q->n + 16, len = 0;
    uint32_t *picks = lp_malloc(cap * sizeof *picks);
    *off = lp_malloc((q->n + 1) * sizeof **off);
    (*off)[0] = 0;
    for (size_t i = 0; i < q->n; i++) {
        size_t k = p->kind->categories(p->params, q->resp[i], names, MAX_PICKS);
        for (size_t j = 0; j < k; j++) {
            if (len == cap) picks = lp_realloc(picks, (cap *= 2) * sizeof *picks);
            picks[len++] = lp_catset_id(c, names[j]);
        }
        (*off)[i + 1] = len;
    }
    return picks;
}

/* Stores each worker's skill as the model estimated it. */
static int store_skills(lp_db *db, const lp_project *p, const qdata *q, const double *skill)
{
    int rc = 0;
    for (size_t w = 0; rc == 0 && w < q->n_workers; w++)
        rc = lp_db_run(db,
                       "UPDATE project_members SET skill = ? WHERE project_id = ? AND user_id = ?",
                       "dii", skill[w], p->id, q->user[w]);
    return rc;
}

/* Agreement for kinds that pick from a set: overall nominal alpha and
 * Fleiss' kappa (one pick per answer), and a yes/no alpha per category. */
static void alpha_by_category(const lp_project *p, const qdata *q, json_t *overall,
                              json_t *per_label)
{
    lp_catset c;
    lp_catset_init(&c, p->params);
    size_t *off;
    uint32_t *picks = collect_picks(p, q, &c, &off);
    size_t *count = lp_calloc(q->n_items + 1, sizeof *count);
    for (size_t i = 0; i < q->n; i++) count[q->item[i]]++;
    size_t units = 0, m = 0;
    for (size_t u = 0; u < q->n_items; u++)
        if (count[u] >= 2) {
            units++;
            m += count[u];
        }
    json_object_set_new(overall, "tasks", json_integer((json_int_t)units));
    json_object_set_new(overall, "annotations", json_integer((json_int_t)m));
    double *value = lp_malloc((q->n ? q->n : 1) * sizeof *value);
    if (single_choice(p)) {
        for (size_t i = 0; i < q->n; i++)
            value[i] = off[i + 1] > off[i] ? (double)picks[off[i]] : NAN;
        /* Answers that pick nothing are missing values. */
        size_t k = 0;
        uint32_t *item = lp_malloc((q->n ? q->n : 1) * sizeof *item);
        for (size_t i = 0; i < q->n; i++)
            if (!isnan(value[i])) {
                item[k] = q->item[i];
                value[k++] = value[i];
            }
        double alpha = NAN;
        lp_agree_alpha(k, item, value, LP_ALPHA_NOMINAL, &alpha);
        json_object_set_new(overall, "level", json_string("nominal"));
        json_object_set_new(overall, "alpha", isnan(alpha) ? json_null() : json_real(alpha));
        /* Fleiss' kappa over the tasks with two or more answers. */
        double *counts = lp_calloc((units ? units : 1) * (c.n ? c.n : 1), sizeof *counts);
        size_t row = 0;
        for (size_t i = 0; i < k;) {
            size_t j = i;
            while (j < k && item[j] == item[i]) j++;
            if (j - i >= 2) {
                for (size_t x = i; x < j; x++) counts[row * c.n + (size_t)value[x]] += 1;
                row++;
            }
            i = j;
        }
        double kappa = NAN, pb, pe;
        if (row && c.n) lp_agree_fleiss(counts, row, c.n, &kappa, &pb, &pe);
        json_object_set_new(overall, "fleiss_kappa", isnan(kappa) ? json_null() : json_real(kappa));
        free(counts);
        free(item);
    } else {
        json_object_set_new(overall, "level", json_string("per_label"));
    }
    /* Pairwise agreement on the whole answer, for every kind alike. */
    double agree = 0;
    size_t pairs = 0;
    for (size_t i = 0; i < q->n; i++)
        for (size_t j = i + 1; j < q->n && q->item[j] == q->item[i]; j++) {
            agree += lp_kind_score(p->kind, p->params, NULL, q->resp[i], q->resp[j]);
            pairs++;
        }
    json_object_set_new(overall, "pairwise_agreement",
                        pairs ? json_real(agree / (double)pairs) : json_null());
    /* Each category as a yes/no question. */
    double mean = 0;
    size_t defined = 0;
    for (size_t l = 0; l < c.n; l++) {
        size_t chosen = 0;
        for (size_t i = 0; i < q->n; i++) {
            value[i] = 0;
            for (size_t x = off[i]; x < off[i + 1]; x++)
                if (picks[x] == l) value[i] = 1;
            chosen += value[i] > 0;
        }
        json_t *a = nominal_alpha(q, value, q->n);
        if (json_is_real(a)) {
            mean += json_real_value(a);
            defined++;
        }
        json_array_append_new(per_label, json_pack("{s:s, s:o, s:I}", "label", c.names[l], "alpha",
                                                   a, "annotations", (json_int_t)chosen));
    }
    if (!single_choice(p))
        json_object_set_new(overall, "alpha",
                            defined ? json_real(mean / (double)defined) : json_null());
    free(value);
    free(count);
    free(off);
    free(picks);
    lp_catset_fini(&c);
}

/* Result confidence: how many results, their mean, a 10-bin histogram. */
static int confidence_json(lp_db *db, const lp_project *p, json_t **out)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT result FROM tasks WHERE project_id = ? AND result IS NOT NULL "
                           "AND status IN ('completed', 'review')",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, p->id);
    int64_t bins[10] = {0}, n = 0, low = 0;
    double sum = 0;
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        json_t *r = json_loads(lp_stmt_text(st, 0), 0, NULL);
        json_t *c = json_object_get(r, "confidence");
        if (json_is_number(c)) {
            double v = json_number_value(c);
            int b = (int)(v * 10);
            bins[b < 0 ? 0 : b > 9 ? 9 : b]++;
            sum += v;
            low += v < 0.5;
            n++;
        }
        json_decref(r);
    }
    lp_stmt_done(st);
    if (rc < 0) return rc;
    json_t *hist = json_array();
    for (int b = 0; b < 10; b++)
        json_array_append_new(hist, json_pack("{s:f, s:f, s:I}", "from", b / 10.0, "to",
                                              (b + 1) / 10.0, "results", (json_int_t)bins[b]));
    *out = json_pack("{s:I, s:o, s:I, s:o}", "results", (json_int_t)n, "mean",
                     n ? json_real(sum / (double)n) : json_null(), "below_0_5", (json_int_t)low,
                     "histogram", hist);
    return 0;
}

/* One worker's figures, accumulated from their annotations. */
typedef struct worker {
    int64_t user_id, done, rejected, skipped, compared, gold;
    double agreement, gold_score; /* sums of kind scores */
    int64_t *secs;
    size_t nsecs;
} worker;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static json_t *ratio(double sum, int64_t n)
{
    return n ? json_real(sum / (double)n) : json_null();
}

static json_t *worker_json(lp_db *db, int64_t pid, const worker *w)
{
    lp_user u;
    char email[256] = "", why[256] = "";
    if (lp_user_get(db, w->user_id, &u) == 0) snprintf(email, sizeof email, "%s", u.email);
    int paused = lp_worker_paused(db, pid, w->user_id, why, sizeof why) == 1;
    json_t *skill = json_null();
    lp_stmt *st;
    if (lp_db_prepare(db,
                      "SELECT skill FROM project_members WHERE project_id = ? AND user_id = ? AND "
                      "skill IS NOT NULL",
                      &st) == 0) {
        lp_stmt_bind_int64(st, 1, pid);
        lp_stmt_bind_int64(st, 2, w->user_id);
        if (lp_stmt_step(st) == LP_DB_ROW) skill = json_real(lp_stmt_double(st, 0));
        lp_stmt_done(st);
    }
    if (w->nsecs) qsort(w->secs, w->nsecs, sizeof *w->secs, cmp_i64);
    json_t *median =
        w->nsecs ? json_real(lp_quantile(w->secs, w->nsecs, 0.5) / 1000.0) : json_null();
    return json_pack("{s:I, s:s, s:I, s:I, s:I, s:o, s:I, s:o, s:I, s:o, s:o, s:b, s:s?}",
                     "user_id", (json_int_t)w->user_id, "email", email, "tasks_done",
                     (json_int_t)w->done, "rejected", (json_int_t)w->rejected, "skipped",
                     (json_int_t)w->skipped, "median_seconds_per_task", median,
                     "compared_with_consensus", (json_int_t)w->compared, "agreement_with_consensus",
                     ratio(w->agreement, w->compared), "gold_answered", (json_int_t)w->gold,
                     "gold_accuracy", ratio(w->gold_score, w->gold), "skill", skill, "paused",
                     paused, "pause_reason", paused ? why : NULL);
}

/* The task as a kind's score needs it: its attachments and data. */
static json_t *score_task(lp_stmt *st, int col)
{
    json_t *t = json_object();
    json_t *a = json_loads(lp_stmt_text(st, col), 0, NULL);
    json_t *d = json_loads(lp_stmt_text(st, col + 1), 0, NULL);
    json_object_set_new(t, "attachments", a ? a : json_array());
    json_object_set_new(t, "data", d ? d : json_object());
    return t;
}

int lp_quality_workers(lp_db *db, const lp_project *p, json_t **out)
{
    int64_t pid = p->id;
    *out = NULL;
    /* Every worker with an assignment in the project; their annotations in
     * user order, with the time from lease to submit, the gold score, and
     * the task's result to score them against (the kind's score). */
    lp_stmt *st;
    int rc =
        lp_db_prepare(db,
                      "SELECT a.user_id, a.status, an.status, an.response, "
                      "an.created_at - a.created_at, t.result, an.score, t.attachments, "
                      "t.data FROM assignments a "
                      "LEFT JOIN annotations an ON an.assignment_id = a.id "
                      "JOIN tasks t ON t.id = a.task_id "
                      "WHERE a.project_id = ? AND a.kind = 'annotate' ORDER BY a.user_id, a.id",
                      &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, pid);
    json_t *items = json_array();
    worker w = {0};
    size_t cap = 0;
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        int64_t uid = lp_stmt_int64(st, 0);
        if (w.user_id && uid != w.user_id) {
            json_array_append_new(items, worker_json(db, pid, &w));
            int64_t *secs = w.secs;
            w = (worker){.secs = secs};
        }
        w.user_id = uid;
        if (!strcmp(lp_stmt_text(st, 1), "skipped")) w.skipped++;
        if (lp_stmt_is_null(st, 2)) continue; /* no annotation on this assignment */
        const char *ast = lp_stmt_text(st, 2);
        if (strcmp(ast, "accepted")) {
            w.rejected++; /* refused, or returned by a review */
            continue;
        }
        w.done++;
        if (w.nsecs == cap) {
            cap = cap ? 2 * cap : 64;
            w.secs = lp_realloc(w.secs, cap * sizeof *w.secs);
        }
        w.secs[w.nsecs++] = lp_stmt_int64(st, 4);
        if (!lp_stmt_is_null(st, 6)) { /* a gold answer */
            w.gold++;
            w.gold_score += lp_stmt_double(st, 6);
        } else if (!lp_stmt_is_null(st, 5)) { /* the task has a consensus to compare with */
            json_t *mine = json_loads(lp_stmt_text(st, 3), JSON_DECODE_ANY, NULL);
            json_t *res = json_loads(lp_stmt_text(st, 5), 0, NULL);
            json_t *task = score_task(st, 7);
            w.compared++;
            w.agreement +=
                lp_kind_score(p->kind, p->params, task, mine, json_object_get(res, "response"));
            json_decref(task);
            json_decref(mine);
            json_decref(res);
        }
    }
    lp_stmt_done(st);
    if (w.user_id) json_array_append_new(items, worker_json(db, pid, &w));
    free(w.secs);
    /* Members paused before they ever worked here. */
    if (rc >= 0)
        rc = lp_db_prepare(db,
                           "SELECT m.user_id FROM project_members m WHERE m.project_id = ? AND "
                           "m.paused_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM assignments a "
                           "WHERE a.project_id = m.project_id AND a.user_id = m.user_id AND "
                           "a.kind = 'annotate') ORDER BY m.user_id",
                           &st);
    if (rc >= 0) {
        lp_stmt_bind_int64(st, 1, pid);
        int64_t ids[256];
        size_t n = 0;
        while (n < LP_ARRAY_LEN(ids) && lp_stmt_step(st) == LP_DB_ROW)
            ids[n++] = lp_stmt_int64(st, 0);
        lp_stmt_done(st);
        for (size_t i = 0; i < n; i++)
            json_array_append_new(items, worker_json(db, pid, &(worker){.user_id = ids[i]}));
    }
    if (rc < 0) {
        json_decref(items);
        return rc;
    }
    *out = items;
    return 0;
}

int lp_quality_worker(lp_db *db, const lp_project *p, int64_t user_id, json_t **out)
{
    json_t *all = NULL, *row;
    int rc = lp_quality_workers(db, p, &all);
    if (rc < 0) return rc;
    size_t i;
    *out = NULL;
    json_array_foreach(all, i, row)
    {
        if (json_integer_value(json_object_get(row, "user_id")) == user_id) {
            *out = json_incref(row);
            break;
        }
    }
    json_decref(all);
    if (!*out) *out = worker_json(db, p->id, &(worker){.user_id = user_id});
    return 0;
}

int lp_quality_report(lp_db *db, const lp_project *p, json_t **out)
{
    *out = NULL;
    qdata q;
    int rc = load(db, p, 0, &q);
    json_t *overall = json_object(), *per_label = json_array(), *workers = NULL, *conf = NULL;
    if (rc == 0) {
        if (p->kind->categories)
            alpha_by_category(p, &q, overall, per_label);
        else
            alpha_by_score(db, p, &q, overall);
        rc = lp_quality_workers(db, p, &workers);
    }
    if (rc == 0) rc = confidence_json(db, p, &conf);
    qdata_fini(&q);
    if (rc < 0) {
        json_decref(overall);
        json_decref(per_label);
        json_decref(workers);
        return rc;
    }
    *out =
        json_pack("{s:s, s:{s:o, s:o}, s:o, s:o}", "method", p->aggregation, "agreement", "overall",
                  overall, "per_label", per_label, "workers", workers, "confidence", conf);
    return 0;
}

/* *fixed = 1 when a reviewer fixed the task's result last: a refit leaves
 * it as they left it. */
static int fixed_by_reviewer(lp_db *db, int64_t task, int *fixed)
{
    int64_t one = 0;
    int rc = lp_db_int64(db, &one,
                         "SELECT 1 FROM result_versions WHERE task_id = ? AND id = (SELECT "
                         "MAX(id) FROM result_versions WHERE task_id = ?) AND source = 'fix'",
                         "ii", task, task);
    *fixed = rc == 0 && one;
    return rc == LP_ENOTFOUND ? 0 : rc;
}

/* Stores a refit's result for task, counting it in *changed when its
 * response changed (a new version). */
static int store_refit(lp_db *db, const lp_project *p, int64_t task, const json_t *resp,
                       double conf, size_t votes, size_t *changed)
{
    json_t *result = json_pack("{s:O, s:f, s:s, s:I}", "response", resp, "confidence", conf,
                               "method", p->aggregation, "annotations", (json_int_t)votes);
    int versioned = 0;
    int rc = lp_queue_set_result(db, task, result, "aggregate", 0, &versioned);
    json_decref(result);
    *changed += (size_t)versioned;
    return rc;
}

/* Refit for kinds that pick several of a set (categorization with several
 * labels): each label a yes/no question fitted on its own
 * (lp_agg_multilabel, no gold); a result holds the labels the model gives
 * the task (the most likely one when it gives none), made by the kind's
 * respond; its confidence is the mean certainty, max(p, 1 - p), over the
 * labels anyone picked on the task. */
static int refit_multilabel(lp_db *db, const lp_project *p, qdata *q, json_t *out)
{
    lp_catset c;
    lp_catset_init(&c, p->params);
    const char *names[MAX_PICKS];
    size_t *off;
    uint32_t *picks = collect_picks(p, q, &c, &off);
    lp_agg_method m = LP_AGG_AUTO;
    lp_agg_method_parse(p->aggregation, &m);
    if (m == LP_AGG_GOLD_WEIGHTED) m = LP_AGG_MAJORITY; /* no gold per label here */
    lp_agg_multi_data d = {.n = q->n,
                           .item = q->item,
                           .worker = q->worker,
                           .offset = off,
                           .label = picks,
                           .n_items = q->n_items,
                           .n_workers = q->n_workers,
                           .n_labels = c.n};
    lp_agg_multi_result r;
    int rc = lp_agg_multilabel(m, &d, &r);
    size_t changed = 0, results = 0;
    if (rc == 0) rc = store_skills(db, p, q, r.skill);
    char *seen = lp_calloc(c.n ? c.n : 1, 1);
    for (size_t i = 0, a = 0; rc == 0 && i < q->n_items; i++) {
        while (a < q->n && q->item[a] < i) a++;
        if (!q->open[i]) continue;
        int fixed = 0;
        rc = fixed_by_reviewer(db, q->task[i], &fixed);
        if (rc < 0 || fixed) continue;
        const double *pi = r.p + i * c.n;
        size_t k = 0, best = 0, votes = 0, picked = 0;
        double sure = 0;
        memset(seen, 0, c.n ? c.n : 1);
        for (size_t x = a; x < q->n && q->item[x] == i; x++, votes++)
            for (size_t y = off[x]; y < off[x + 1]; y++) seen[picks[y]] = 1;
        for (size_t l = 0; l < c.n; l++) {
            if (pi[l] > pi[best]) best = l;
            if (r.has[i * c.n + l]) names[k++] = c.names[l];
            if (seen[l]) {
                sure += pi[l] > 0.5 ? pi[l] : 1 - pi[l];
                picked++;
            }
        }
        if (k == 0) names[k++] = c.names[best];
        json_t *resp = p->kind->respond(p->params, names, k);
        rc = store_refit(db, p, q->task[i], resp, picked ? sure / (double)picked : 1, votes,
                         &changed);
        json_decref(resp);
        results++;
    }
    if (rc == 0) {
        json_object_set_new(out, "model", json_string(lp_agg_method_name(m)));
        json_object_set_new(out, "annotations", json_integer((json_int_t)q->n));
        json_object_set_new(out, "workers", json_integer((json_int_t)q->n_workers));
        json_object_set_new(out, "results", json_integer((json_int_t)results));
        json_object_set_new(out, "changed", json_integer((json_int_t)changed));
    }
    if (r.p) lp_agg_multi_result_fini(&r);
    free(seen);
    free(off);
    free(picks);
    lp_catset_fini(&c);
    return rc;
}

/* Refit for kinds that pick one of a set: the categorical model over every
 * answer (gold tasks' expected answers as known labels), each worker's
 * skill stored, each open result rebuilt from the posterior.  The result's
 * response is the first answer on the task that picks the winning
 * category (an answer as a worker gave it, so it is valid for the task),
 * or the kind's respond when no answer there picks it; a kind without
 * respond keeps the result as it was, counted in "kept". */
static int refit_categorical(lp_db *db, const lp_project *p, qdata *q, json_t *out)
{
    lp_catset c;
    lp_catset_init(&c, p->params);
    uint32_t *label = lp_malloc((q->n ? q->n : 1) * sizeof *label);
    uint32_t *item = lp_malloc((q->n ? q->n : 1) * sizeof *item);
    uint32_t *worker = lp_malloc((q->n ? q->n : 1) * sizeof *worker);
    size_t *row = lp_malloc((q->n ? q->n : 1) * sizeof *row);
    size_t n = 0;
    for (size_t i = 0; i < q->n; i++) {
        int32_t k = pick_one(p, &c, q->resp[i]);
        if (k < 0) continue;
        label[n] = (uint32_t)k;
        item[n] = q->item[i];
        worker[n] = q->worker[i];
        row[n++] = i;
    }
    int32_t *gold = lp_malloc((q->n_items ? q->n_items : 1) * sizeof *gold);
    size_t n_gold = 0;
    for (size_t i = 0; i < q->n_items; i++) {
        gold[i] = q->gold[i] ? pick_one(p, &c, q->expected[i]) : -1;
        n_gold += gold[i] >= 0;
    }
    lp_agg_method m = LP_AGG_AUTO;
    lp_agg_method_parse(p->aggregation, &m);
    lp_agg_data d = {.n = n,
                     .item = item,
                     .worker = worker,
                     .label = label,
                     .n_items = q->n_items,
                     .n_workers = q->n_workers,
                     .n_classes = c.n,
                     .gold = n_gold ? gold : NULL};
    lp_agg_result r = {0};
    int rc = lp_agg_categorical(m, &d, &r);
    size_t changed = 0, results = 0, skipped = 0;
    if (rc == 0) rc = store_skills(db, p, q, r.skill);
    for (size_t i = 0, a = 0; rc == 0 && i < q->n_items; i++) {
        while (a < n && item[a] < i) a++;
        if (!q->open[i] || r.label[i] < 0) continue;
        int fixed = 0;
        rc = fixed_by_reviewer(db, q->task[i], &fixed);
        if (rc < 0 || fixed) continue;
        const json_t *resp = NULL;
        json_t *made = NULL;
        for (size_t x = a; x < n && item[x] == i && !resp; x++)
            if ((int32_t)label[x] == r.label[i]) resp = q->resp[row[x]];
        if (!resp && p->kind->respond)
            resp = made = p->kind->respond(p->params, &c.names[r.label[i]], 1);
        if (!resp) { /* the model prefers a category no one here picked */
            skipped++;
            continue;
        }
        size_t votes = 0;
        for (size_t x = a; x < n && item[x] == i; x++) votes++;
        rc = store_refit(db, p, q->task[i], resp, r.posterior[i * c.n + (size_t)r.label[i]], votes,
                         &changed);
        json_decref(made);
        results++;
    }
    if (rc == 0) {
        json_object_set_new(out, "model", json_string(lp_agg_method_name(m)));
        json_object_set_new(out, "iterations", json_integer(r.iterations));
        json_object_set_new(out, "annotations", json_integer((json_int_t)n));
        json_object_set_new(out, "gold_tasks", json_integer((json_int_t)n_gold));
        json_object_set_new(out, "workers", json_integer((json_int_t)q->n_workers));
        json_object_set_new(out, "results", json_integer((json_int_t)results));
        json_object_set_new(out, "changed", json_integer((json_int_t)changed));
        json_object_set_new(out, "kept", json_integer((json_int_t)skipped));
    }
    lp_agg_result_fini(&r);
    free(gold);
    free(label);
    free(item);
    free(worker);
    free(row);
    lp_catset_fini(&c);
    return rc;
}

/* Refit for every other kind: each open result consolidated again with the
 * current vote weights (gold accuracy). */
static int refit_consolidate(lp_db *db, const lp_project *p, const qdata *q, json_t *out)
{
    size_t results = 0, changed = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < q->n_items; i++) {
        if (!q->open[i]) continue;
        int fixed = 0;
        rc = fixed_by_reviewer(db, q->task[i], &fixed);
        if (rc < 0 || fixed) continue;
        int versioned = 0;
        rc = lp_queue_store_result(db, p, q->task[i], &versioned);
        changed += (size_t)versioned;
        results++;
    }
    if (rc == 0) {
        json_object_set_new(out, "model", json_string("consolidation"));
        json_object_set_new(out, "annotations", json_integer((json_int_t)q->n));
        json_object_set_new(out, "workers", json_integer((json_int_t)q->n_workers));
        json_object_set_new(out, "results", json_integer((json_int_t)results));
        json_object_set_new(out, "changed", json_integer((json_int_t)changed));
    }
    return rc;
}

int lp_quality_refit(lp_db *db, const lp_project *p, json_t **out)
{
    *out = NULL;
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc < 0) return rc;
    qdata q;
    json_t *o = json_pack("{s:s}", "method", p->aggregation);
    rc = load(db, p, 1, &q);
    if (rc == 0)
        rc = single_choice(p)                          ? refit_categorical(db, p, &q, o)
             : p->kind->categories && p->kind->respond ? refit_multilabel(db, p, &q, o)
                                                       : refit_consolidate(db, p, &q, o);
    qdata_fini(&q);
    if (rc == 0) rc = lp_db_commit(db);
    if (rc < 0) {
        lp_db_rollback(db);
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}
