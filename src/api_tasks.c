/* api_tasks.c -- tasks: create one, create in bulk, get, list, cancel,
 * metadata and tags.
 *
 * A bulk import is checked for framing first (a JSON array or NDJSON lines)
 * so a truncated body creates nothing; then each row is parsed, validated
 * and inserted on its own (parsing and inserting overlap, see pipeline),
 * committed every LP_BULK_TX rows, and reported as created, duplicate
 * (with the existing id) or invalid (with the field and reason).  A retried import with unique_ids
 * is therefore safe: rows already created come back as duplicates. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "tasks.h"

#define LP_BULK_TX 5000

static int reply_task(lp_req *req, int64_t id, unsigned status)
{
    json_t *t;
    int64_t pid;
    int rc = lp_task_get(req->db, id, &pid, &t);
    if (rc < 0) return lp_reply_rc(req, rc, "task");
    return lp_reply_json(req, status, t);
}

/* Loads the project and checks the caller may manage it. */
static int managed_project(lp_req *req, int64_t pid, lp_project **p)
{
    if (lp_api_require(req, pid, LP_ROLE_MANAGER, NULL)) return LP_EPERM;
    int rc = lp_project_get(req->db, pid, p);
    if (rc < 0) return lp_reply_rc(req, rc, "project"), rc;
    return 0;
}

int lp_api_task_create(lp_req *req)
{
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    lp_verr e;
    long long pid = 0;
    if (lp_v_int(b, "project_id", "", 1, 1, INT64_MAX, &pid, &e)) {
        json_decref(b);
        return lp_reply_verr(req, 422, &e);
    }
    lp_project *p;
    if (managed_project(req, pid, &p)) {
        json_decref(b);
        return 0;
    }
    lp_task_writer w;
    lp_task_writer_init(&w, req->db, p);
    int64_t id = 0;
    int rc = lp_db_begin(req->db, LP_TX_WRITE);
    if (rc == 0) rc = lp_task_writer_add(&w, b, &id, &e);
    if (rc == 0) rc = lp_task_writer_flush(&w);
    if (rc == 0)
        rc = lp_db_commit(req->db);
    else
        lp_db_rollback(req->db);
    lp_task_writer_fini(&w);
    json_decref(b);
    lp_project_free(p);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc == LP_EEXISTS) {
        json_t *t = NULL;
        int64_t p2;
        lp_task_get(req->db, id, &p2, &t);
        json_t *err = json_pack("{s:s, s:s, s:s, s:I}", "code", "conflict", "field", "unique_id",
                                "message", e.message, "existing_id", (json_int_t)id);
        return lp_reply_json(req, 409,
                             json_pack("{s:o, s:o}", "error", err, "task", t ? t : json_null()));
    }
    if (rc < 0) return lp_reply_rc(req, rc, "task");
    return reply_task(req, id, 201);
}

/* The bulk import is a two-stage pipeline: a producer thread splits the
 * body, parses each row and prepares it (lp_task_prepare: validation and
 * encoding, no database) while the request's thread inserts the prepared
 * rows in order.  On two cores the JSON work and SQLite's work overlap.
 * A fixed set of chunks of rows circulates: the producer fills an empty
 * chunk and queues it as full, the consumer inserts a full chunk and
 * queues it as empty.  The producer releases a chunk's old rows before
 * refilling it, so every row is freed by the thread that allocated it. */
#define CHUNK_ROWS 256
#define NCHUNKS    8

typedef struct chunk {
    size_t n;
    size_t index[CHUNK_ROWS];
    size_t line[CHUNK_ROWS]; /* where each row starts in the body, from 1 */
    lp_task_row rows[CHUNK_ROWS];
} chunk;

typedef struct ring {
    chunk *q[NCHUNKS];
    int head, count;
} ring;

typedef struct pipeline {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    ring full, empty;
    int done; /* the producer has queued its last chunk */
    int stop; /* the consumer gave up: the producer should stop */
    const lp_project *project;
    const char *body;
    size_t len;
    const char *counted; /* newlines are counted up to here (the producer's) */
    size_t line;         /* the line it is on */
    chunk *cur;
    chunk *all[NCHUNKS];
} pipeline;

static void ring_put(ring *r, chunk *c)
{
    r->q[(r->head + r->count++) % NCHUNKS] = c;
}

static chunk *ring_take(ring *r)
{
    chunk *c = r->q[r->head];
    r->head = (r->head + 1) % NCHUNKS;
    r->count--;
    return c;
}

/* Producer: queues the current chunk as full and takes an empty one
 * (waiting while there is none); non-zero when the consumer gave up. */
static int next_chunk(pipeline *pl, int last)
{
    pthread_mutex_lock(&pl->mu);
    if (pl->cur && !pl->stop) ring_put(&pl->full, pl->cur);
    pl->cur = NULL;
    if (last) pl->done = 1;
    pthread_cond_broadcast(&pl->changed);
    while (!last && !pl->stop && pl->empty.count == 0) pthread_cond_wait(&pl->changed, &pl->mu);
    if (!last && !pl->stop) pl->cur = ring_take(&pl->empty);
    int stop = pl->stop;
    pthread_mutex_unlock(&pl->mu);
    if (pl->cur) {
        for (size_t i = 0; i < pl->cur->n; i++) lp_task_row_fini(&pl->cur->rows[i]);
        pl->cur->n = 0;
    }
    return stop;
}

/* The line of the body at s, counting on from the last row's (rows come
 * in order, so the body is scanned once). */
static size_t line_at(pipeline *pl, const char *s)
{
    for (const char *p = pl->counted; (p = memchr(p, '\n', (size_t)(s - p))); p++) pl->line++;
    pl->counted = s;
    return pl->line;
}

static int produce_row(void *arg, size_t index, const char *s, size_t n)
{
    pipeline *pl = arg;
    if (!pl->cur && next_chunk(pl, 0)) return 1;
    chunk *c = pl->cur;
    lp_task_row *row = &c->rows[c->n];
    c->line[c->n] = line_at(pl, s);
    c->index[c->n++] = index;
    json_t *task;
    lp_verr e;
    if (lp_json_parse(s, n, "", &task, &e) < 0) {
        memset(row, 0, sizeof *row);
        row->rc = LP_EINVAL;
        row->err = lp_malloc(sizeof e);
        *row->err = e;
    } else {
        lp_task_prepare(pl->project, task, row);
        json_decref(task);
    }
    return c->n == CHUNK_ROWS ? next_chunk(pl, 0) : 0;
}

static void *producer(void *arg)
{
    pipeline *pl = arg;
    lp_verr e;
    lp_json_split(pl->body, pl->len, produce_row, pl, &e);
    next_chunk(pl, 1);
    return NULL;
}

/* Consumer: gives back the chunk it finished (if any) and takes the next
 * full one, or NULL when the producer is done. */
static chunk *swap_chunk(pipeline *pl, chunk *finished, int stop)
{
    pthread_mutex_lock(&pl->mu);
    if (finished) ring_put(&pl->empty, finished);
    if (stop) pl->stop = 1;
    pthread_cond_broadcast(&pl->changed);
    while (pl->full.count == 0 && !pl->done) pthread_cond_wait(&pl->changed, &pl->mu);
    chunk *c = pl->full.count ? ring_take(&pl->full) : NULL;
    pthread_mutex_unlock(&pl->mu);
    return c;
}

typedef struct report {
    lp_buf out;
    size_t created, duplicates, invalid;
} report;

static void report_row(report *r, size_t index, size_t line, int rc, int64_t id, const lp_verr *e)
{
    if (r->out.len > 1) lp_buf_puts(&r->out, ",");
    if (rc == 0 || rc == LP_EEXISTS) {
        lp_buf_printf(&r->out, "{\"index\":%zu,\"status\":\"%s\",\"id\":%lld}", index,
                      rc == 0 ? "created" : "duplicate", (long long)id);
        if (rc == 0)
            r->created++;
        else
            r->duplicates++;
        return;
    }
    lp_buf_printf(&r->out,
                  "{\"index\":%zu,\"line\":%zu,\"status\":\"invalid\",\"error\":{\"field\":", index,
                  line);
    lp_buf_json_string(&r->out, e->field);
    lp_buf_puts(&r->out, ",\"message\":");
    lp_buf_json_string(&r->out, e->message);
    lp_buf_puts(&r->out, "}}");
    r->invalid++;
}

/* Inserts every chunk the producer hands over, committing every
 * LP_BULK_TX rows.  A database error stops the import: rows committed so
 * far stay (their unique_ids make a retry safe). */
static int consume(lp_req *req, pipeline *pl, lp_task_writer *w, report *r)
{
    int rc = 0;
    size_t in_tx = 0;
    chunk *c = swap_chunk(pl, NULL, 0);
    while (c) {
        for (size_t i = 0; i < c->n && rc == 0; i++) {
            if (in_tx == 0 && (rc = lp_db_begin(req->db, LP_TX_WRITE)) < 0) break;
            int64_t id;
            lp_verr e;
            int r2 = lp_task_writer_insert(w, &c->rows[i], &id, &e);
            if (r2 == 0 || r2 == LP_EEXISTS || r2 == LP_EINVAL)
                report_row(r, c->index[i], c->line[i], r2, id, &e);
            else
                rc = r2;
            if (rc == 0 && ++in_tx >= LP_BULK_TX) {
                in_tx = 0;
                if ((rc = lp_task_writer_flush(w)) == 0) rc = lp_db_commit(req->db);
            }
        }
        c = swap_chunk(pl, c, rc < 0); /* after an error: drain until the producer stops */
    }
    if (in_tx) {
        if (rc == 0 && (rc = lp_task_writer_flush(w)) == 0)
            rc = lp_db_commit(req->db);
        else
            lp_db_rollback(req->db);
    }
    return rc;
}

/* The framing pass: counts the rows. */
static int count_row(void *arg, size_t index, const char *s, size_t n)
{
    (void)index, (void)s, (void)n;
    (*(size_t *)arg)++;
    return 0;
}

int lp_api_tasks_bulk(lp_req *req)
{
    int64_t pid;
    lp_project *p;
    if (lp_req_id(req, 0, &pid) || lp_req_json_type(req) || managed_project(req, pid, &p)) return 0;
    lp_verr e;
    int64_t batch = 0;
    const char *b = lp_req_arg(req, "batch_id");
    if (b && (lp_parse_int64(b, &batch) < 0 || batch <= 0)) {
        lp_project_free(p);
        return lp_reply_error(req, 400, "invalid_request", "batch_id",
                              "batch_id: must be a batch id");
    }
    const char *body = req->body.data ? req->body.data : "";
    size_t nrows = 0;
    int rc = lp_json_split(body, req->body.len, count_row, &nrows, &e);
    if (rc < 0) {
        lp_project_free(p);
        return lp_reply_error(req, 400, "invalid_json", e.field, "%s: %s", e.field, e.message);
    }
    lp_task_writer w;
    lp_task_writer_init(&w, req->db, p);
    if (batch && (rc = lp_task_writer_default_batch(&w, batch, &e)) < 0) {
        lp_task_writer_fini(&w);
        lp_project_free(p);
        if (rc != LP_EINVAL) return lp_reply_rc(req, rc, "batch");
        return lp_reply_error(req, 400, "invalid_request", e.field, "%s: %s", e.field, e.message);
    }
    pipeline pl = {.project = p, .body = body, .len = req->body.len, .counted = body, .line = 1};
    pthread_mutex_init(&pl.mu, NULL);
    pthread_cond_init(&pl.changed, NULL);
    for (int k = 0; k < NCHUNKS; k++) ring_put(&pl.empty, pl.all[k] = lp_calloc(1, sizeof(chunk)));
    report r = {0};
    lp_buf_reserve_large(&r.out, nrows * 48); /* a created row's report is about 45 bytes */
    lp_buf_puts(&r.out, "[");
    pthread_t t;
    rc = pthread_create(&t, NULL, producer, &pl) == 0 ? 0 : LP_EUNAVAIL;
    if (rc == 0) {
        rc = consume(req, &pl, &w, &r);
        pthread_join(t, NULL);
    }
    lp_task_writer_fini(&w);
    for (int k = 0; k < NCHUNKS; k++) {
        for (size_t i = 0; i < pl.all[k]->n; i++) lp_task_row_fini(&pl.all[k]->rows[i]);
        free(pl.all[k]);
    }
    pthread_mutex_destroy(&pl.mu);
    pthread_cond_destroy(&pl.changed);
    lp_project_free(p);
    if (rc < 0) {
        lp_buf_fini(&r.out);
        return lp_reply_rc(req, rc, "tasks");
    }
    lp_buf out = {0};
    lp_buf_reserve(&out, r.out.len + 96);
    lp_buf_printf(&out, "{\"created\":%zu,\"duplicates\":%zu,\"invalid\":%zu,\"rows\":", r.created,
                  r.duplicates, r.invalid);
    lp_buf_append(&out, r.out.data, r.out.len);
    lp_buf_puts(&out, "]}");
    lp_buf_fini(&r.out);
    return lp_reply_buf(req, 200, "application/json", &out);
}

/* Reads the RFC 3339 time filters into f; answers 400 on a bad one. */
static int time_args(lp_req *req, lp_task_filter *f)
{
    for (int k = 0; k < LP_TIME_FILTERS; k++) {
        const char *name = lp_time_filter_names[k], *v = lp_req_arg(req, name);
        if (!v) continue;
        if (lp_time_parse(v, &f->time[k]) < 0) {
            lp_reply_error(req, 400, "invalid_request", name,
                           "%s: \"%s\" is not an RFC 3339 time (2026-01-31T12:00:00Z)", name, v);
            return LP_EINVAL;
        }
        f->time_set |= 1u << k;
    }
    return 0;
}

int lp_api_task_filter(lp_req *req, lp_task_filter *f)
{
    int64_t v;
    const char *b = lp_req_arg(req, "batch_id");
    if (b && (lp_parse_int64(b, &v) < 0 || v <= 0)) {
        lp_reply_error(req, 400, "invalid_request", "batch_id", "batch_id: must be a batch id");
        return LP_EINVAL;
    }
    f->batch_id = b ? v : 0;
    f->status = lp_req_arg(req, "status");
    if (f->status && !lp_task_status_valid(f->status)) {
        lp_reply_error(req, 400, "invalid_request", "status",
                       "status: \"%s\" is not a task status (pending, in_progress, review, "
                       "completed, canceled, gold)",
                       f->status);
        return LP_EINVAL;
    }
    f->unique_id = lp_req_arg(req, "unique_id");
    f->tag = lp_req_arg(req, "tag");
    return time_args(req, f);
}

int lp_api_tasks_list(lp_req *req)
{
    lp_task_filter f = {0};
    if (req->params[0]) {
        if (lp_req_id(req, 0, &f.project_id)) return 0;
    } else {
        const char *p = lp_req_arg(req, "project_id");
        if (!p || lp_parse_int64(p, &f.project_id) < 0 || f.project_id <= 0)
            return lp_reply_error(req, 400, "invalid_request", "project_id",
                                  "project_id: required, the id of the project to list");
    }
    if (lp_api_require(req, f.project_id, LP_ROLE_REVIEWER, NULL) || lp_api_task_filter(req, &f) ||
        lp_api_page(req, 100, 1000, &f.limit, &f.after_id))
        return 0;
    lp_buf out = {0};
    int64_t next = 0;
    lp_buf_puts(&out, "{\"items\":");
    int rc = lp_task_list(req->db, &f, &out, &next);
    if (rc < 0) {
        lp_buf_fini(&out);
        return lp_reply_rc(req, rc, "tasks");
    }
    char tok[32];
    lp_api_token(next, tok);
    if (next)
        lp_buf_printf(&out, ",\"next_token\":\"%s\"}", tok);
    else
        lp_buf_puts(&out, ",\"next_token\":null}");
    return lp_reply_buf(req, 200, "application/json", &out);
}

int lp_api_task_get(lp_req *req)
{
    /* The hot read: the stored JSON goes out as text, never parsed. */
    int64_t id, pid;
    if (lp_req_id(req, 0, &id)) return 0;
    lp_buf out = {0};
    int rc = lp_task_text(req->db, id, &pid, &out);
    if (rc == 0 && lp_api_require_for(req, pid, LP_ROLE_REVIEWER, "task", id))
        rc = LP_EPERM;
    else if (rc < 0)
        lp_reply_rc(req, rc, lp_arena_sprintf(&req->arena, "task %lld", (long long)id));
    if (rc < 0) {
        lp_buf_fini(&out);
        return 0;
    }
    return lp_reply_buf(req, 200, "application/json", &out);
}

int lp_api_task_cancel(lp_req *req)
{
    int64_t id, pid;
    if (lp_api_require_task(req, LP_ROLE_MANAGER, &id, &pid)) return 0;
    static const char *const refuse[] = {"completed", "canceled", NULL};
    const char *from = NULL;
    int rc = lp_task_set_status(req->db, id, "canceled", refuse, &from);
    if (rc == LP_ECONFLICT)
        return lp_reply_error(req, 409, "conflict", "status",
                              "the task is %s and cannot be canceled", from);
    if (rc < 0) return lp_reply_rc(req, rc, "task");
    return reply_task(req, id, 200);
}

int lp_api_task_metadata(lp_req *req)
{
    int64_t id, pid;
    if (lp_api_require_task(req, LP_ROLE_MANAGER, &id, &pid)) return 0;
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    int rc = lp_task_set_metadata(req->db, id, b);
    json_decref(b);
    if (rc < 0) return lp_reply_rc(req, rc, "task");
    return reply_task(req, id, 200);
}

int lp_api_task_tags_add(lp_req *req)
{
    int64_t id, pid;
    if (lp_api_require_task(req, LP_ROLE_MANAGER, &id, &pid)) return 0;
    json_t *b;
    if (lp_req_json(req, 1, &b)) return 0;
    lp_verr e;
    const json_t *tags;
    int rc = lp_v_array(b, "tags", "", 1, 1, 50, &tags, &e);
    if (rc == 0) rc = lp_task_tags(req->db, id, tags, 1, &e);
    json_decref(b);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc < 0) return lp_reply_rc(req, rc, "task");
    return reply_task(req, id, 200);
}

int lp_api_task_tag_delete(lp_req *req)
{
    int64_t id, pid;
    if (lp_api_require_task(req, LP_ROLE_MANAGER, &id, &pid)) return 0;
    json_t *tags = json_pack("[s]", req->params[1]);
    lp_verr e;
    int rc = lp_task_tags(req->db, id, tags, 0, &e);
    json_decref(tags);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc < 0) return lp_reply_rc(req, rc, "task");
    return reply_task(req, id, 200);
}
