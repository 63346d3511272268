/* stats.c -- see stats.h.
 *
 * The database counts (COUNT ... GROUP BY a bucket number); only the
 * labels need responses parsed, and those are stepped through one row at
 * a time and handed to the kind's categories slot, so any kind that picks
 * from a set is counted without code of its own here.  Times are BIGINT
 * milliseconds (schema.c), so a row's bucket is (t - first) / width in
 * integer arithmetic: the same SQL on SQLite and PostgreSQL, and UTC by
 * construction (t >= first, so the division rounds down on both).
 *
 * When a task was completed.  No column records it: a task's updated_at
 * moves with every later change (a refit, its tags), and its first result
 * version is written when it reaches its overlap, before any review.  But
 * the step that completes a task is always the last event on it: the last
 * accepted annotation (no review) or the last review decision (accept or
 * fix at the last level); a rejection or a failed audit sends it back, and
 * its next completion is later still.  So a completed task's completion
 * time is the latest of its accepted annotations' and decided reviews'
 * times, and since completing a task also sets its updated_at, a task
 * whose updated_at is before the window cannot have been completed in it. */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

#include "kind.h"
#include "util.h"

/* The most names one response may pick that are counted. */
#define MAX_PICKS 1024

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int lp_stats_range_parse(lp_stats_range *r, const char *bucket, const char *since,
                         const char *until, int64_t now, lp_verr *e)
{
    int64_t back;
    memset(r, 0, sizeof *r);
    if (!bucket || !strcmp(bucket, "day")) {
        r->bucket = "day";
        r->bucket_ms = LP_STATS_DAY_MS;
        back = 30;
    } else if (!strcmp(bucket, "hour")) {
        r->bucket = "hour";
        r->bucket_ms = LP_STATS_HOUR_MS;
        back = 48;
    } else {
        return lp_verr_set(e, "bucket", "\"%s\" is not a bucket width (hour or day)", bucket);
    }
    static const char *const example = "an RFC 3339 time (2026-01-31T12:00:00Z)";
    r->until = now;
    if (until && lp_time_parse(until, &r->until) < 0)
        return lp_verr_set(e, "until", "\"%s\" is not %s", until, example);
    if (since) {
        if (lp_time_parse(since, &r->since) < 0)
            return lp_verr_set(e, "since", "\"%s\" is not %s", since, example);
    } else {
        r->since = (floor_div(r->until - 1, r->bucket_ms) - (back - 1)) * r->bucket_ms;
    }
    if (r->since >= r->until) return lp_verr_set(e, "since", "must be before until");
    int64_t first = floor_div(r->since, r->bucket_ms);
    r->first_ms = first * r->bucket_ms;
    r->n = floor_div(r->until - 1, r->bucket_ms) - first + 1;
    if (r->n > LP_STATS_MAX_BUCKETS)
        return lp_verr_set(e, "since",
                           "the range holds %lld %s buckets, more than %d: ask for a later since, "
                           "an earlier until or a wider bucket",
                           (long long)r->n, r->bucket, LP_STATS_MAX_BUCKETS);
    return 0;
}

/* Runs sql, whose rows are (bucket number, count), with the int64 binds
 * and adds each count to out[bucket]. */
static int bucket_counts(lp_db *db, const char *sql, const int64_t *binds, int nbinds, int64_t n,
                         int64_t *out)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db, sql, &st);
    if (rc < 0) return rc;
    for (int i = 0; i < nbinds; i++) lp_stmt_bind_int64(st, i + 1, binds[i]);
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        int64_t b = lp_stmt_int64(st, 0);
        if (b >= 0 && b < n) out[b] += lp_stmt_int64(st, 1);
    }
    lp_stmt_done(st);
    return rc < 0 ? rc : 0;
}

/* Accepted annotations by the bucket they were submitted in. */
static const char annotations_sql[] =
    "SELECT b, COUNT(*) FROM (SELECT (created_at - ?) / ? AS b FROM annotations WHERE "
    "project_id = ? AND status = 'accepted' AND created_at >= ? AND created_at < ?) x GROUP BY b";

/* Completed tasks by the bucket of their completion time (see the top). */
static const char completed_sql[] =
    "SELECT b, COUNT(*) FROM (SELECT (MAX(e.ts) - ?) / ? AS b FROM ("
    "SELECT an.task_id AS task_id, an.created_at AS ts FROM tasks t JOIN annotations an ON "
    "an.task_id = t.id WHERE t.project_id = ? AND t.status = 'completed' AND t.updated_at >= ? "
    "AND an.status = 'accepted' "
    "UNION ALL SELECT a.task_id, a.updated_at FROM tasks t JOIN assignments a ON a.task_id = t.id "
    "WHERE t.project_id = ? AND t.status = 'completed' AND t.updated_at >= ? AND a.kind = "
    "'review' AND a.status = 'submitted'"
    ") e GROUP BY e.task_id HAVING MAX(e.ts) >= ? AND MAX(e.ts) < ?) x GROUP BY b";

static int throughput(lp_db *db, const lp_project *p, const lp_stats_range *r, json_t **out)
{
    size_t n = (size_t)r->n;
    int64_t *ann = lp_calloc(n, sizeof *ann), *done = lp_calloc(n, sizeof *done);
    const int64_t a_binds[] = {r->first_ms, r->bucket_ms, p->id, r->since, r->until};
    const int64_t c_binds[] = {r->first_ms, r->bucket_ms, p->id,    r->since,
                               p->id,       r->since,     r->since, r->until};
    int rc = bucket_counts(db, annotations_sql, a_binds, LP_ARRAY_LEN(a_binds), r->n, ann);
    if (rc == 0) rc = bucket_counts(db, completed_sql, c_binds, LP_ARRAY_LEN(c_binds), r->n, done);
    if (rc == 0) {
        json_t *buckets = json_array();
        int64_t total_a = 0, total_c = 0;
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(buckets,
                                  json_pack("{s:o, s:I, s:I}", "start",
                                            lp_json_time(r->first_ms + (int64_t)i * r->bucket_ms),
                                            "annotations", (json_int_t)ann[i], "completed",
                                            (json_int_t)done[i]));
            total_a += ann[i];
            total_c += done[i];
        }
        *out = json_pack("{s:s, s:o, s:o, s:I, s:I, s:o}", "bucket", r->bucket, "since",
                         lp_json_time(r->since), "until", lp_json_time(r->until), "annotations",
                         (json_int_t)total_a, "completed", (json_int_t)total_c, "buckets", buckets);
    }
    free(ann);
    free(done);
    return rc;
}

/* Per category: results and accepted annotations that pick it, each
 * counted once however many times it picks it (seen: the last row that
 * counted it). */
typedef struct label_count {
    int64_t results, annotations;
    uint64_t seen;
} label_count;

typedef struct labels {
    const lp_project *p;
    lp_catset set;
    label_count *count;
    size_t cap;
    uint64_t row;
} labels;

static void tally(labels *l, const json_t *resp, int is_result)
{
    const char *names[MAX_PICKS];
    size_t k = resp ? l->p->kind->categories(l->p->params, resp, names, MAX_PICKS) : 0;
    l->row++;
    for (size_t j = 0; j < k; j++) {
        uint32_t id = lp_catset_id(&l->set, names[j]);
        if (l->set.n > l->cap) {
            size_t cap = l->set.cap;
            l->count = lp_realloc(l->count, cap * sizeof *l->count);
            memset(l->count + l->cap, 0, (cap - l->cap) * sizeof *l->count);
            l->cap = cap;
        }
        label_count *c = &l->count[id];
        if (c->seen == l->row) continue;
        c->seen = l->row;
        if (is_result)
            c->results++;
        else
            c->annotations++;
    }
}

/* Steps through sql's rows (a JSON document in column 0; for results, the
 * response is its "response"), bound to the project's id, and tallies
 * each. */
static int tally_rows(lp_db *db, labels *l, const char *sql, int is_result)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db, sql, &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, l->p->id);
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        json_t *doc = json_loads(lp_stmt_text(st, 0), JSON_DECODE_ANY, NULL);
        tally(l, is_result ? json_object_get(doc, "response") : doc, is_result);
        json_decref(doc);
    }
    lp_stmt_done(st);
    return rc < 0 ? rc : 0;
}

/* [{"label", "results", "annotations"}] in the catset's order: the
 * project's labels first.  Empty for a kind that does not pick from a set. */
static int label_counts(lp_db *db, const lp_project *p, json_t **out)
{
    *out = json_array();
    if (!p->kind->categories) return 0;
    labels l = {.p = p};
    lp_catset_init(&l.set, p->params);
    l.cap = l.set.cap;
    l.count = lp_calloc(l.cap ? l.cap : 1, sizeof *l.count);
    int rc = tally_rows(db, &l,
                        "SELECT result FROM tasks WHERE project_id = ? AND status IN "
                        "('completed', 'review') AND result IS NOT NULL",
                        1);
    if (rc == 0)
        rc = tally_rows(
            db, &l, "SELECT response FROM annotations WHERE project_id = ? AND status = 'accepted'",
            0);
    for (size_t i = 0; rc == 0 && i < l.set.n; i++)
        json_array_append_new(*out, json_pack("{s:s, s:I, s:I}", "label", l.set.names[i], "results",
                                              (json_int_t)l.count[i].results, "annotations",
                                              (json_int_t)l.count[i].annotations));
    free(l.count);
    lp_catset_fini(&l.set);
    return rc;
}

#define ACCEPTED_TIMES                                                                       \
    "FROM annotations an JOIN assignments a ON a.id = an.assignment_id WHERE an.project_id " \
    "= ? AND an.status = 'accepted' AND a.kind = 'annotate'"

/* The q-quantile of the n lease-to-submit times, in seconds: the database
 * sorts them and hands over the two around the quantile's rank. */
static int time_quantile(lp_db *db, int64_t pid, int64_t n, double q, json_t **out)
{
    double w;
    size_t rank = lp_quantile_rank((size_t)n, q, &w);
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT an.created_at - a.created_at AS d " ACCEPTED_TIMES
                           " ORDER BY d LIMIT 2 OFFSET ?",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, pid);
    lp_stmt_bind_int64(st, 2, (int64_t)rank);
    int64_t v[2];
    size_t got = 0;
    while (got < 2 && (rc = lp_stmt_step(st)) == LP_DB_ROW) v[got++] = lp_stmt_int64(st, 0);
    lp_stmt_done(st);
    if (rc < 0) return rc;
    *out = got ? json_real(lp_quantile(v, got, w) / 1000.0) : json_null();
    return 0;
}

/* {"annotations", "median_seconds", "p90_seconds"}: from lease to submit,
 * over the accepted annotations (nulls when there is none). */
static int time_per_task(lp_db *db, const lp_project *p, json_t **out)
{
    int64_t n = 0;
    json_t *median = NULL, *p90 = NULL;
    int rc = lp_db_int64(db, &n, "SELECT COUNT(*) " ACCEPTED_TIMES, "i", p->id);
    if (rc == 0 && n > 0) rc = time_quantile(db, p->id, n, 0.5, &median);
    if (rc == 0 && n > 0) rc = time_quantile(db, p->id, n, 0.9, &p90);
    if (rc < 0) {
        json_decref(median);
        return rc;
    }
    *out = json_pack("{s:I, s:o, s:o}", "annotations", (json_int_t)n, "median_seconds",
                     median ? median : json_null(), "p90_seconds", p90 ? p90 : json_null());
    return 0;
}

int lp_stats_project(lp_db *db, const lp_project *p, const lp_stats_range *r, json_t **out)
{
    json_t *tp = NULL, *lab = NULL, *times = NULL;
    *out = NULL;
    int rc = throughput(db, p, r, &tp);
    if (rc == 0) rc = label_counts(db, p, &lab);
    if (rc == 0) rc = time_per_task(db, p, &times);
    if (rc < 0) {
        json_decref(tp);
        json_decref(lab);
        return rc;
    }
    *out = json_pack("{s:o, s:o, s:o, s:o}", "counts", lp_counts_json(db, p->id, 0), "throughput",
                     tp, "labels", lab, "time_per_task", times);
    return 0;
}
