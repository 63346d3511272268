/* exporter.c -- the page loop of an export (exporter.h), shared by the
 * HTTP download and the CLI.
 *
 * The export is never built in memory: a page of LP_EXPORT_PAGE task
 * texts is read (lp_task_each), their accepted annotations are merged in
 * from one query over the page's id range, and each task goes through the
 * format's encoder.  The exporter owns copies of everything it reads
 * between pages (the filter's strings, the project's kind and params), so
 * that the caller's request or arguments may be gone by the next page.
 *
 * Worker ids are rewritten on the way out when pseudonyms or none are
 * asked for: an annotation's user_id as it is written here, a review's
 * "by" by finding the task's top-level "review" member in its text and
 * re-encoding that small object alone, so the rest of the task (its data,
 * its numbers) goes out byte for byte as the ids export has it. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter.h"
#include "project.h"

/* A task of the page: its id and its text in the page buffer. */
typedef struct page_task {
    int64_t id;
    size_t off, len;
} page_task;

struct lp_exporter {
    const lp_export_format *fmt;
    lp_export_ctx cx;
    char *kind;                             /* cx.kind's copy */
    json_t *params;                         /* cx.params */
    lp_task_filter f;                       /* after_id moves on page by page */
    char *strings[3];                       /* owned copies of f's status, unique_id, tag */
    int annotations;                        /* include each task's accepted annotations */
    int workers;                            /* LP_WORKERS_* */
    unsigned char key[LP_EXPORT_KEY_BYTES]; /* the project's export key (pseudonyms) */
    int begun;                              /* the format's beginning is written */
    int ending;  /* every task is written; the format's end is going out */
    size_t n;    /* tasks written */
    lp_buf page; /* the current page's task texts */
    page_task tasks[LP_EXPORT_PAGE];
    size_t ntasks;
    lp_buf one;  /* a task with its annotations added */
    lp_buf anon; /* a task with its review's worker rewritten */
};

void lp_exporter_free(lp_exporter *x)
{
    if (!x) return;
    if (x->fmt->free_state) x->fmt->free_state(&x->cx);
    free(x->kind);
    json_decref(x->params);
    for (size_t i = 0; i < LP_ARRAY_LEN(x->strings); i++) free(x->strings[i]);
    lp_buf_fini(&x->page);
    lp_buf_fini(&x->one);
    lp_buf_fini(&x->anon);
    sodium_memzero(x->key, sizeof x->key);
    free(x);
}

/* lp_task_each's callback: keeps the task's text for this page. */
static int collect(void *arg, int64_t id, const char *json, size_t n)
{
    lp_exporter *x = arg;
    x->tasks[x->ntasks++] = (page_task){id, x->page.len, n};
    lp_buf_append(&x->page, json, n);
    return 0;
}

void lp_export_pseudonym(const unsigned char key[LP_EXPORT_KEY_BYTES], int64_t user_id,
                         char out[LP_PSEUDONYM_LEN + 1])
{
    char id[24];
    int n = snprintf(id, sizeof id, "%lld", (long long)user_id);
    unsigned char h[crypto_generichash_BYTES_MIN];
    crypto_generichash(h, sizeof h, (const unsigned char *)id, (size_t)n, key, LP_EXPORT_KEY_BYTES);
    memcpy(out, "w_", 2);
    sodium_bin2hex(out + 2, LP_PSEUDONYM_LEN - 1, h, (LP_PSEUDONYM_LEN - 2) / 2);
}

/* Appends ,"name": and the worker user_id as workers says (nothing at
 * all for none). */
static void worker_write(lp_buf *b, const char *name, int64_t user_id, int workers,
                         const unsigned char *key)
{
    if (workers == LP_WORKERS_NONE) return;
    if (workers == LP_WORKERS_IDS) {
        lp_buf_printf(b, ",\"%s\":%lld", name, (long long)user_id);
        return;
    }
    char p[LP_PSEUDONYM_LEN + 1];
    lp_export_pseudonym(key, user_id, p);
    lp_buf_printf(b, ",\"%s\":\"%s\"", name, p);
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Finds the top-level member key of the JSON object text s (n bytes,
 * valid JSON) and sets [*start, *end) to its value's bytes.  A key is
 * matched as written, so key must need no escapes.  0, or -1 when the
 * object has no such member. */
static int member_find(const char *s, size_t n, const char *key, size_t *start, size_t *end)
{
    size_t klen = strlen(key), from = 0; /* from: where the value began (0: not found yet) */
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"') {
            size_t j = i + 1; /* the closing quote */
            while (j < n && s[j] != '"') j += s[j] == '\\' ? 2 : 1;
            if (depth == 1 && !from && j - i - 1 == klen && !memcmp(s + i + 1, key, klen)) {
                size_t k = j + 1;
                while (k < n && is_ws(s[k])) k++;
                if (k < n && s[k] == ':') { /* a key, not a value */
                    for (k++; k < n && is_ws(s[k]); k++) {
                    }
                    from = k;
                }
            }
            i = j;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']' || c == ',') && depth == 1 && from) {
            size_t e = i;
            while (e > from && is_ws(s[e - 1])) e--;
            *start = from;
            *end = e;
            return 0;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return -1;
}

void lp_export_task_workers(const char *json, size_t n, int workers,
                            const unsigned char key[LP_EXPORT_KEY_BYTES], lp_buf *out)
{
    size_t start, end;
    json_t *review = NULL, *by;
    /* Most tasks have no review: memmem skips them without a scan. */
    if (workers == LP_WORKERS_IDS || !memmem(json, n, "\"review\":", 9) ||
        member_find(json, n, "review", &start, &end) < 0 ||
        !(review = json_loadb(json + start, end - start, 0, NULL)) ||
        !json_is_integer(by = json_object_get(review, "by"))) {
        json_decref(review);
        lp_buf_append(out, json, n);
        return;
    }
    if (workers == LP_WORKERS_NONE) {
        json_object_del(review, "by");
    } else {
        char p[LP_PSEUDONYM_LEN + 1];
        lp_export_pseudonym(key, json_integer_value(by), p);
        json_object_set_new(review, "by", json_string(p));
    }
    /* The review holds strings and integers only: re-encoded, it is the
     * same text but for its worker. */
    char *text = json_dumps(review, LP_JSON_DUMP);
    lp_buf_append(out, json, start);
    lp_buf_puts(out, text);
    lp_buf_append(out, json + end, n - end);
    free(text);
    json_decref(review);
}

/* Appends the annotation in the current row of st (task_id, id,
 * annotation_id, user_id, response, created_at) as a JSON object, its
 * worker as x->workers says. */
static void annotation_write(const lp_exporter *x, lp_buf *b, lp_stmt *st)
{
    lp_buf_printf(b, "{\"id\":%lld,\"annotation_id\":", (long long)lp_stmt_int64(st, 1));
    lp_buf_json_string(b, lp_stmt_text(st, 2));
    worker_write(b, "user_id", lp_stmt_int64(st, 3), x->workers, x->key);
    lp_buf_puts(b, ",\"response\":");
    size_t n;
    const char *resp = lp_stmt_textn(st, 4, &n);
    lp_buf_append(b, n ? resp : "null", n ? n : 4); /* stored as jansson wrote it */
    char t[40];
    lp_time_format(lp_stmt_int64(st, 5), t, sizeof t);
    lp_buf_printf(b, ",\"created_at\":\"%s\"}", t);
}

/* Writes the page's tasks to out through the format, each with its
 * accepted annotations when asked: one query for the page's id range,
 * merged with the tasks in id order. */
static int write_page(lp_exporter *x, lp_db *db, lp_buf *out)
{
    lp_stmt *st = NULL;
    int rc = LP_DB_DONE;
    if (x->annotations && x->ntasks) {
        rc = lp_db_prepare(db,
                           "SELECT task_id, id, annotation_id, user_id, response, created_at "
                           "FROM annotations WHERE task_id >= ? AND task_id <= ? AND "
                           "project_id = ? AND status = 'accepted' ORDER BY task_id, id",
                           &st);
        if (rc < 0) return rc;
        lp_stmt_bind_int64(st, 1, x->tasks[0].id);
        lp_stmt_bind_int64(st, 2, x->tasks[x->ntasks - 1].id);
        lp_stmt_bind_int64(st, 3, x->f.project_id);
        rc = lp_stmt_step(st);
    }
    for (size_t i = 0; i < x->ntasks && rc >= 0; i++) {
        const page_task *t = &x->tasks[i];
        const char *json = x->page.data + t->off;
        size_t len = t->len;
        if (x->workers != LP_WORKERS_IDS) {
            x->anon.len = 0;
            lp_export_task_workers(json, len, x->workers, x->key, &x->anon);
            json = x->anon.data;
            len = x->anon.len;
        }
        if (x->annotations) {
            /* the task object with one more member before its closing } */
            x->one.len = 0;
            lp_buf_append(&x->one, json, len - 1);
            lp_buf_puts(&x->one, ",\"annotations\":[");
            int k = 0;
            for (; rc == LP_DB_ROW && lp_stmt_int64(st, 0) <= t->id; rc = lp_stmt_step(st)) {
                if (lp_stmt_int64(st, 0) < t->id) continue; /* a task the filters left out */
                if (k++) lp_buf_puts(&x->one, ",");
                annotation_write(x, &x->one, st);
            }
            lp_buf_puts(&x->one, "]}");
            json = x->one.data;
            len = x->one.len;
        }
        x->fmt->task(&x->cx, out, x->n++, json, len);
    }
    if (st) lp_stmt_done(st);
    return rc < 0 ? rc : 0;
}

int lp_exporter_next(lp_exporter *x, lp_db *db, lp_buf *out)
{
    /* The format's end may come in several parts, with no query. */
    if (x->ending) return x->fmt->end(&x->cx, out, x->n);
    if (!x->begun) {
        if (x->fmt->begin) x->fmt->begin(&x->cx, out);
        x->begun = 1;
    }
    x->page.len = 0;
    x->ntasks = 0;
    int64_t next = 0;
    int rc = lp_task_each(db, &x->f, collect, x, &next);
    if (rc == 0) rc = write_page(x, db, out);
    /* The pages just read will not be read again by this export: keep
     * them out of the connection's cache, or a big export fills it (64 MiB
     * on SQLite) on every pooled connection it passes through. */
    lp_db_shrink(db);
    if (rc < 0) return rc;
    if (next == 0) {
        if (!x->fmt->end) return 0;
        x->ending = 1;
        return x->fmt->end(&x->cx, out, x->n);
    }
    x->f.after_id = next;
    return 1;
}

const lp_export_format *lp_exporter_format(const lp_exporter *x)
{
    return x->fmt;
}

/* A copy of s owned by the export (NULL stays NULL). */
static const char *keep(lp_exporter *x, int slot, const char *s)
{
    return s ? (x->strings[slot] = lp_strdup(s)) : NULL;
}

/* "a, b, c": the names of a NULL-terminated list, malloc'd. */
static char *joined(const char *const *names)
{
    lp_buf b = {0};
    for (const char *const *k = names; *k; k++)
        lp_buf_printf(&b, "%s%s", k == names ? "" : ", ", *k);
    return b.data;
}

/* Reads the project's export key into key: 0, LP_ENOTFOUND, LP_EDB when
 * it has none (or not 64 hex digits), or the query's error. */
static int export_key(lp_db *db, int64_t project_id, unsigned char key[LP_EXPORT_KEY_BYTES])
{
    lp_stmt *st;
    int rc = lp_db_prepare(db, "SELECT export_secret FROM projects WHERE id = ?", &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, project_id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        size_t n = 0, len;
        const char *hex = lp_stmt_textn(st, 0, &len);
        rc = lp_stmt_is_null(st, 0) ||
                     sodium_hex2bin(key, LP_EXPORT_KEY_BYTES, hex, len, NULL, &n, NULL) != 0 ||
                     n != LP_EXPORT_KEY_BYTES
                 ? LP_EDB
                 : 0;
    } else if (rc == LP_DB_DONE) {
        rc = LP_ENOTFOUND;
    }
    lp_stmt_done(st);
    return rc;
}

int lp_exporter_new(lp_db *db, const char *format, int annotations, int workers,
                    const lp_task_filter *f, lp_exporter **out, char **err)
{
    *out = NULL;
    *err = NULL;
    const lp_export_format *fmt = lp_export_find(format ? format : "ndjson");
    if (!fmt) {
        size_t n;
        const lp_export_format *const *all = lp_export_all(&n);
        lp_buf names = {0};
        for (size_t i = 0; i < n; i++) lp_buf_printf(&names, "%s%s", i ? ", " : "", all[i]->name);
        *err = lp_sprintf("\"%s\" is not an export format (one of: %s)", format, names.data);
        lp_buf_fini(&names);
        return LP_EINVAL;
    }
    lp_project *p = NULL;
    int rc = lp_project_get(db, f->project_id, &p);
    if (rc < 0) return rc;
    if (!lp_export_fits(fmt, p->kind->name)) {
        char *kinds = joined(fmt->kinds);
        *err = lp_sprintf("\"%s\" exports %s projects; this one is %s", fmt->name, kinds,
                          p->kind->name);
        free(kinds);
        lp_project_free(p);
        return LP_EINVAL;
    }
    lp_buf why = {0};
    const lp_export_ctx probe = {.kind = p->kind->name, .params = p->params};
    if (fmt->check && fmt->check(&probe, &why) < 0) {
        *err = lp_sprintf("\"%s\" %s", fmt->name, why.data ? why.data : "cannot export it");
        lp_buf_fini(&why);
        lp_project_free(p);
        return LP_EINVAL;
    }
    lp_buf_fini(&why);
    unsigned char key[LP_EXPORT_KEY_BYTES] = {0};
    if (workers == LP_WORKERS_PSEUDONYMS && (rc = export_key(db, f->project_id, key)) < 0) {
        lp_project_free(p);
        return rc;
    }
    lp_exporter *x = lp_calloc(1, sizeof *x);
    memcpy(x->key, key, sizeof key);
    sodium_memzero(key, sizeof key);
    x->fmt = fmt;
    x->kind = lp_strdup(p->kind->name);
    x->params = json_incref(p->params);
    x->cx = (lp_export_ctx){.kind = x->kind, .params = x->params};
    lp_project_free(p);
    x->annotations = annotations;
    x->workers = workers;
    x->f = *f;
    x->f.limit = LP_EXPORT_PAGE;
    x->f.after_id = 0;
    x->f.status = keep(x, 0, f->status);
    x->f.unique_id = keep(x, 1, f->unique_id);
    x->f.tag = keep(x, 2, f->tag);
    *out = x;
    return 0;
}

int lp_exporter_include(const char *s, int *annotations, char **err)
{
    *annotations = 0;
    *err = NULL;
    while (s && *s) {
        size_t n = strcspn(s, ",");
        if (n == 11 && !strncmp(s, "annotations", 11))
            *annotations = 1;
        else if (n) { /* an empty item (a trailing comma) is no harm */
            *err = lp_sprintf("\"%.*s\" cannot be included (one of: annotations)", (int)n, s);
            return LP_EINVAL;
        }
        s += n + (s[n] == ',');
    }
    return 0;
}

int lp_exporter_workers(const char *s, int *workers, char **err)
{
    static const char *const names[] = {"ids", "pseudonyms", "none"};
    *workers = LP_WORKERS_IDS;
    *err = NULL;
    if (!s) return 0;
    for (int i = 0; i < (int)LP_ARRAY_LEN(names); i++)
        if (!strcmp(s, names[i])) {
            *workers = i;
            return 0;
        }
    *err = lp_sprintf("\"%s\" is not a way to write workers (one of: ids, pseudonyms, none)", s);
    return LP_EINVAL;
}
