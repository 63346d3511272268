/* import.c -- see import.h.
 *
 * The import is a two-stage pipeline: a producer thread reads the
 * document's rows (lp_json_split, or the CSV reader with the column
 * mapping), turns each into a task body and prepares it (lp_task_prepare:
 * validation and encoding, no database) while the caller's thread inserts
 * the prepared rows in order.  On two cores the parsing and the database's
 * work overlap.  A fixed set of chunks of rows circulates: the producer
 * fills an empty chunk and queues it as full, the consumer inserts a full
 * chunk and queues it as empty.  The producer releases a chunk's old rows
 * before refilling it, so every row is freed by the thread that allocated
 * it.  Memory is the document plus NCHUNKS chunks, whatever its size. */
#include "import.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvfile.h"
#include "http.h"
#include "tasks.h"

#define LP_BULK_TX 5000
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
    const lp_import *im;
    const lp_import_col *cols; /* CSV: one per header column */
    size_t ncols;
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

/* Adds one row to the current chunk: task prepared, or (task NULL) the
 * error e.  Non-zero when the consumer gave up. */
static int produce(pipeline *pl, size_t index, size_t line, json_t *task, const char *src,
                   size_t len, const lp_verr *e)
{
    if (!pl->cur && next_chunk(pl, 0)) return 1;
    chunk *c = pl->cur;
    lp_task_row *row = &c->rows[c->n];
    c->line[c->n] = line;
    c->index[c->n++] = index;
    if (!task) {
        memset(row, 0, sizeof *row);
        row->rc = LP_EINVAL;
        row->err = lp_malloc(sizeof *e);
        *row->err = *e;
    } else {
        lp_task_prepare_text(pl->project, task, src, len, row);
    }
    return c->n == CHUNK_ROWS ? next_chunk(pl, 0) : 0;
}

/* The line of the body at s, counting on from the last row's (rows come
 * in order, so the body is scanned once). */
static size_t line_at(pipeline *pl, const char *s)
{
    for (const char *p = pl->counted; (p = memchr(p, '\n', (size_t)(s - p))); p++) pl->line++;
    pl->counted = s;
    return pl->line;
}

static int produce_json(void *arg, size_t index, const char *s, size_t n)
{
    pipeline *pl = arg;
    size_t line = line_at(pl, s);
    json_t *task;
    lp_verr e;
    if (lp_json_parse(s, n, "", &task, &e) < 0) return produce(pl, index, line, NULL, NULL, 0, &e);
    int rc = produce(pl, index, line, task, s, n, NULL); /* the body outlives the rows */
    json_decref(task);
    return rc;
}

/* Reads the CSV rows after the header (the framing pass has checked the
 * syntax, so the reader does not fail here). */
static void produce_csv(pipeline *pl)
{
    lp_csv *c;
    if (lp_csv_open_mem(pl->im->body, pl->im->len, 0, &c) < 0) return;
    const char *const *f;
    size_t n, index = 0;
    if (lp_csv_next(c, &f, &n) == 1) {
        while (lp_csv_next(c, &f, &n) == 1) {
            size_t line = (size_t)lp_csv_line(c);
            int stop;
            if (n != pl->ncols) {
                lp_verr e;
                lp_verr_set(&e, "", "has %zu field%s, the header has %zu", n, n == 1 ? "" : "s",
                            pl->ncols);
                stop = produce(pl, index++, line, NULL, NULL, 0, &e);
            } else {
                json_t *task;
                lp_verr e;
                lp_import_csv_task(pl->cols, f, n, &task, &e);
                stop = produce(pl, index++, line, task, NULL, 0, &e);
                json_decref(task);
            }
            if (stop) break;
        }
    }
    lp_csv_close(c);
}

static void *producer(void *arg)
{
    pipeline *pl = arg;
    if (pl->im->format == LP_IMPORT_CSV) {
        produce_csv(pl);
    } else {
        lp_verr e;
        lp_json_split(pl->im->body, pl->im->len, produce_json, pl, &e);
    }
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

/* Inserts every chunk the producer hands over, committing every
 * LP_BULK_TX rows.  A database error stops the import: rows committed so
 * far stay (their unique_ids make a retry safe). */
static int consume(lp_db *db, pipeline *pl, lp_task_writer *w, lp_import *im)
{
    int rc = 0;
    size_t in_tx = 0;
    chunk *c = swap_chunk(pl, NULL, 0);
    while (c) {
        for (size_t i = 0; i < c->n && rc == 0; i++) {
            if (in_tx == 0 && (rc = lp_db_begin(db, LP_TX_WRITE)) < 0) break;
            int64_t id;
            lp_verr e;
            int r2 = lp_task_writer_insert(w, &c->rows[i], &id, &e);
            if (r2 == 0 || r2 == LP_EEXISTS || r2 == LP_EINVAL) {
                *(r2 == 0 ? &im->created : r2 == LP_EEXISTS ? &im->duplicates : &im->invalid) += 1;
                if (im->row) im->row(im, c->index[i], c->line[i], r2, id, &e);
            } else {
                rc = r2;
            }
            if (rc == 0 && ++in_tx >= LP_BULK_TX) {
                in_tx = 0;
                if ((rc = lp_task_writer_flush(w)) == 0) rc = lp_db_commit(db);
            }
        }
        c = swap_chunk(pl, c, rc < 0); /* after an error: drain until the producer stops */
    }
    if (in_tx) {
        if (rc == 0 && (rc = lp_task_writer_flush(w)) == 0)
            rc = lp_db_commit(db);
        else
            lp_db_rollback(db);
    }
    return rc;
}

/* The framing pass of a JSON document: counts the rows. */
static int count_row(void *arg, size_t index, const char *s, size_t n)
{
    (void)index, (void)s, (void)n;
    (*(size_t *)arg)++;
    return 0;
}

/* The framing pass of a CSV document: reads every row (a syntax error
 * refuses the document, naming its line), maps the header and counts the
 * rows after it.  *cols (malloc'd) and *ncols receive the mapping. */
static int frame_csv(lp_import *im, lp_import_col **cols, size_t *ncols, lp_verr *e)
{
    lp_csv *c;
    if (lp_csv_open_mem(im->body, im->len, 0, &c) < 0) return LP_ENOMEM;
    const char *const *f;
    size_t n;
    int rc = lp_csv_next(c, &f, &n);
    if (rc == 0) {
        rc = lp_verr_set(e, "body", "is empty: send a header row, then one row a task");
    } else if (rc == 1) {
        *cols = lp_calloc(n, sizeof **cols);
        *ncols = n;
        rc = lp_import_map(f, n, im->columns, *cols, e);
    } else {
        rc = lp_verr_set(e, "body", "%s", lp_csv_error(c));
    }
    while (rc == 0) {
        int r = lp_csv_next(c, &f, &n);
        if (r == 0) break;
        if (r < 0) rc = lp_verr_set(e, "body", "%s", lp_csv_error(c));
        if (r == 1) im->rows++;
    }
    lp_csv_close(c);
    return rc < 0 ? LP_EINVAL : 0;
}

int lp_import_run(lp_db *db, const lp_project *p, lp_import *im, lp_verr *e)
{
    im->rows = im->created = im->duplicates = im->invalid = 0;
    lp_import_col *cols = NULL;
    size_t ncols = 0;
    memset(e, 0, sizeof *e);
    int rc = im->format == LP_IMPORT_CSV
                 ? frame_csv(im, &cols, &ncols, e)
                 : lp_json_split(im->body, im->len, count_row, &im->rows, e);
    if (rc == 0 && im->max_rows && im->rows > im->max_rows) {
        lp_verr_set(e, "body", "carries %zu tasks; the limit (max_tasks) is %zu", im->rows,
                    im->max_rows);
        rc = LP_ETOOBIG;
    }
    if (rc < 0) {
        free(cols);
        return rc;
    }
    lp_task_writer w;
    lp_task_writer_init(&w, db, p);
    w.reader = im->reader;
    w.reader_project = im->reader_project;
    if (im->batch_id && (rc = lp_task_writer_default_batch(&w, im->batch_id, e)) < 0) {
        lp_task_writer_fini(&w);
        free(cols);
        return rc;
    }
    pipeline pl = {
        .project = p, .im = im, .cols = cols, .ncols = ncols, .counted = im->body, .line = 1};
    pthread_mutex_init(&pl.mu, NULL);
    pthread_cond_init(&pl.changed, NULL);
    for (int k = 0; k < NCHUNKS; k++) ring_put(&pl.empty, pl.all[k] = lp_calloc(1, sizeof(chunk)));
    pthread_t t;
    rc = pthread_create(&t, NULL, producer, &pl) == 0 ? 0 : LP_EUNAVAIL;
    if (rc == 0) {
        rc = consume(db, &pl, &w, im);
        pthread_join(t, NULL);
    }
    lp_task_writer_fini(&w);
    for (int k = 0; k < NCHUNKS; k++) {
        for (size_t i = 0; i < pl.all[k]->n; i++) lp_task_row_fini(&pl.all[k]->rows[i]);
        free(pl.all[k]);
    }
    pthread_mutex_destroy(&pl.mu);
    pthread_cond_destroy(&pl.changed);
    free(cols);
    return rc;
}

/* The CSV column mapping. */

static const char *const attachment_types[] = {"image",      "audio",    "video", "text",
                                               "pointcloud", "document", "other", NULL};

static const struct {
    const char *name;
    int target;
} scalar_targets[] = {
    {"unique_id", LP_COL_UNIQUE_ID}, {"priority", LP_COL_PRIORITY}, {"batch_id", LP_COL_BATCH_ID},
    {"batch", LP_COL_BATCH},         {"tags", LP_COL_TAGS},
};

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (!strcmp(*list, s)) return 1;
    return 0;
}

/* Parses one target ("data.text", "attachments.image", "unique_id", "-")
 * into col: 0, or -1 when it is none of them. */
static int parse_target(const char *t, lp_import_col *col)
{
    memset(col, 0, sizeof *col);
    if (!strcmp(t, "-")) return col->target = LP_COL_SKIP, 0;
    for (size_t i = 0; i < LP_ARRAY_LEN(scalar_targets); i++)
        if (!strcmp(t, scalar_targets[i].name)) return col->target = scalar_targets[i].target, 0;
    static const struct {
        const char *prefix;
        int target;
    } keyed[] = {{"data.", LP_COL_DATA},
                 {"metadata.", LP_COL_METADATA},
                 {"attachments.", LP_COL_ATTACHMENT}};
    for (size_t i = 0; i < LP_ARRAY_LEN(keyed); i++) {
        size_t k = strlen(keyed[i].prefix);
        if (strncmp(t, keyed[i].prefix, k) || !t[k] || strlen(t + k) >= sizeof col->key) continue;
        if (keyed[i].target == LP_COL_ATTACHMENT && !in_list(attachment_types, t + k)) return -1;
        col->target = keyed[i].target;
        snprintf(col->key, sizeof col->key, "%s", t + k);
        return 0;
    }
    return -1;
}

/* The target of a column the mapping does not name: the task fields by
 * their names, media names as attachments, anything else into data (a
 * header "data.x" is data["data.x"]).  A column without a name is skipped. */
static void default_target(const char *name, lp_import_col *col)
{
    static const char *const media[] = {"image", "audio", "video", NULL};
    memset(col, 0, sizeof *col);
    if (!*name) return;
    if (in_list(media, name)) {
        col->target = LP_COL_ATTACHMENT;
    } else {
        for (size_t i = 0; i < LP_ARRAY_LEN(scalar_targets); i++)
            if (!strcmp(name, scalar_targets[i].name)) col->target = scalar_targets[i].target;
        if (col->target) return;
        col->target = LP_COL_DATA;
    }
    snprintf(col->key, sizeof col->key, "%s", name);
}

/* "data.text" and the like, for messages. */
static const char *target_name(const lp_import_col *col, char *buf, size_t n)
{
    static const char *const names[] = {"-",        "data",  "metadata", "unique_id",  "priority",
                                        "batch_id", "batch", "tags",     "attachments"};
    if (col->key[0])
        snprintf(buf, n, "%s.%s", names[col->target], col->key);
    else
        snprintf(buf, n, "%s", names[col->target]);
    return buf;
}

static long find_column(const char *const *header, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(header[i]) == len && !memcmp(header[i], name, len)) return (long)i;
    return -1;
}

int lp_import_map(const char *const *header, size_t n, const char *spec, lp_import_col *cols,
                  lp_verr *e)
{
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_string(header[i]);
        if (!s) return lp_verr_set(e, "body", "column %zu of the header is not UTF-8", i + 1);
        json_decref(s);
        if (strlen(header[i]) >= sizeof cols[i].key)
            return lp_verr_set(e, "body", "column %zu of the header is longer than %zu bytes",
                               i + 1, sizeof cols[i].key - 1);
        if (*header[i] && find_column(header, i, header[i], strlen(header[i])) >= 0)
            return lp_verr_set(e, "body", "column \"%s\" appears twice in the header", header[i]);
        default_target(header[i], &cols[i]);
    }
    /* The mapping: COLUMN:TARGET items split at commas; a column name may
     * hold a colon (the last one separates). */
    for (const char *s = spec; s && *s;) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        while (len && *s == ' ') s++, len--;
        while (len && s[len - 1] == ' ') len--;
        const char *colon = len ? memrchr(s, ':', len) : NULL;
        if (len && !colon)
            return lp_verr_set(e, "columns", "\"%.*s\" is not COLUMN:TARGET", (int)len, s);
        if (len) {
            size_t nlen = (size_t)(colon - s);
            while (nlen && s[nlen - 1] == ' ') nlen--;
            long i = find_column(header, n, s, nlen);
            if (i < 0)
                return lp_verr_set(e, "columns", "the header has no column \"%.*s\"", (int)nlen, s);
            const char *t = colon + 1;
            while (*t == ' ') t++;
            char target[300];
            snprintf(target, sizeof target, "%.*s", (int)(s + len - t), t);
            if (parse_target(target, &cols[i]) < 0)
                return lp_verr_set(e, "columns",
                                   "\"%s\" is not a target (data.KEY, metadata.KEY, unique_id, "
                                   "priority, batch_id, batch, tags, attachments.TYPE or -)",
                                   target);
        }
        s = end ? end + 1 : s + len;
        if (!end) break;
    }
    /* tags and attachments may come from several columns; the rest once. */
    for (size_t i = 0; i < n; i++) {
        int t = cols[i].target;
        if (t == LP_COL_SKIP || t == LP_COL_TAGS || t == LP_COL_ATTACHMENT) continue;
        for (size_t j = 0; j < i; j++) {
            if (cols[j].target != t || strcmp(cols[j].key, cols[i].key)) continue;
            char name[300];
            return lp_verr_set(e, "columns", "columns \"%s\" and \"%s\" both go to %s", header[j],
                               header[i], target_name(&cols[i], name, sizeof name));
        }
    }
    return 0;
}

/* An integer cell as a number, anything else as the string (which the
 * task's validation then refuses, naming the field). */
static json_t *int_or_string(const char *v)
{
    int64_t x;
    return lp_parse_int64(v, &x) == 0 ? json_integer(x) : json_string(v);
}

static json_t *tag_list(const char *v)
{
    json_t *arr = json_array();
    for (const char *s = v; *s;) {
        size_t len = strcspn(s, "|");
        size_t a = 0, b = len;
        while (a < b && s[a] == ' ') a++;
        while (b > a && s[b - 1] == ' ') b--;
        if (b > a) json_array_append_new(arr, json_stringn(s + a, b - a));
        s += len;
        if (*s) s++;
    }
    return arr;
}

static json_t *attachment(const char *type, const char *v)
{
    int is_url =
        !strncmp(v, "https://", 8) || !strncmp(v, "http://", 7) || !strncmp(v, "/v1/files/", 10);
    /* A text cell that is no URL is the text itself. */
    return json_pack("{s:s, s:s}", "type", type, is_url || strcmp(type, "text") ? "url" : "content",
                     v);
}

int lp_import_csv_task(const lp_import_col *cols, const char *const *fields, size_t n, json_t **out,
                       lp_verr *e)
{
    *out = NULL;
    json_t *task = json_object(), *data = json_object(), *meta = NULL, *tags = NULL, *att = NULL;
    json_object_set_new(task, "data", data);
    for (size_t i = 0; i < n; i++) {
        const lp_import_col *c = &cols[i];
        const char *v = fields[i];
        json_t *s = json_string(v);
        if (!s) {
            char name[300];
            json_decref(task);
            return lp_verr_set(e, target_name(c, name, sizeof name), "is not valid UTF-8");
        }
        json_decref(s);
        switch (c->target) {
        case LP_COL_DATA: json_object_set_new(data, c->key, json_string(v)); break;
        case LP_COL_METADATA:
            if (!meta) json_object_set_new(task, "metadata", meta = json_object());
            json_object_set_new(meta, c->key, json_string(v));
            break;
        case LP_COL_UNIQUE_ID:
            if (*v) json_object_set_new(task, "unique_id", json_string(v));
            break;
        case LP_COL_PRIORITY:
            if (*v) json_object_set_new(task, "priority", int_or_string(v));
            break;
        case LP_COL_BATCH_ID:
            if (*v) json_object_set_new(task, "batch_id", int_or_string(v));
            break;
        case LP_COL_BATCH:
            if (*v) json_object_set_new(task, "batch", json_string(v));
            break;
        case LP_COL_TAGS: {
            if (!tags) json_object_set_new(task, "tags", tags = json_array());
            json_t *more = tag_list(v);
            json_array_extend(tags, more);
            json_decref(more);
            break;
        }
        case LP_COL_ATTACHMENT:
            if (!*v) break;
            if (!att) json_object_set_new(task, "attachments", att = json_array());
            json_array_append_new(att, attachment(c->key, v));
            break;
        default: break;
        }
    }
    *out = task;
    return 0;
}
