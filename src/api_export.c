/* api_export.c -- GET /v1/projects/{id}/export: a project's tasks as a
 * streamed download, in any format of export.h.
 *
 * The export is never built in memory.  It is read in keyset pages of
 * EXPORT_PAGE tasks (WHERE id > last ORDER BY id, the task list's query
 * and filters) and each page is encoded and handed to the HTTP layer as
 * one chunk of a streamed reply (lp_reply_stream): the first page inside
 * the request's read transaction, so that a bad filter or a database
 * error is an ordinary JSON error; every later page on a pooled connection
 * held only while that page is read, after the previous page has gone out.
 * Memory is one page whatever the project's size, and a slow client holds
 * no connection.  Each page is a consistent snapshot; tasks created during
 * an export appear at most once, and those with a higher id than the last
 * page read are included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "export.h"
#include "project.h"
#include "tasks.h"

#define EXPORT_PAGE 500

/* A task of the page: its id and its text in the page buffer. */
typedef struct page_task {
    int64_t id;
    size_t off, len;
} page_task;

typedef struct export_state {
    const lp_export_format *fmt;
    lp_export_ctx cx;
    char *kind;       /* cx.kind's copy */
    json_t *params;   /* cx.params */
    lp_task_filter f; /* after_id moves on page by page */
    char *strings[3]; /* owned copies of f's status, unique_id, tag */
    int annotations;  /* include each task's accepted annotations */
    int begun;        /* the format's beginning is written */
    int ending;       /* every task is written; the format's end is going out */
    size_t n;         /* tasks written */
    lp_buf page;      /* the current page's task texts */
    page_task tasks[EXPORT_PAGE];
    size_t ntasks;
    lp_buf one; /* a task with its annotations added */
} export_state;

static void export_free(void *arg)
{
    export_state *x = arg;
    if (x->fmt->free_state) x->fmt->free_state(&x->cx);
    free(x->kind);
    json_decref(x->params);
    for (size_t i = 0; i < LP_ARRAY_LEN(x->strings); i++) free(x->strings[i]);
    lp_buf_fini(&x->page);
    lp_buf_fini(&x->one);
    free(x);
}

/* lp_task_each's callback: keeps the task's text for this page. */
static int collect(void *arg, int64_t id, const char *json, size_t n)
{
    export_state *x = arg;
    x->tasks[x->ntasks++] = (page_task){id, x->page.len, n};
    lp_buf_append(&x->page, json, n);
    return 0;
}

/* Appends the annotation in the current row of st (task_id, id,
 * annotation_id, user_id, response, created_at) as a JSON object. */
static void annotation_write(lp_buf *b, lp_stmt *st)
{
    lp_buf_printf(b, "{\"id\":%lld,\"annotation_id\":", (long long)lp_stmt_int64(st, 1));
    lp_buf_json_string(b, lp_stmt_text(st, 2));
    lp_buf_printf(b, ",\"user_id\":%lld,\"response\":", (long long)lp_stmt_int64(st, 3));
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
static int write_page(export_state *x, lp_db *db, lp_buf *out)
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
        if (x->annotations) {
            /* the task object with one more member before its closing } */
            x->one.len = 0;
            lp_buf_append(&x->one, json, len - 1);
            lp_buf_puts(&x->one, ",\"annotations\":[");
            int k = 0;
            for (; rc == LP_DB_ROW && lp_stmt_int64(st, 0) <= t->id; rc = lp_stmt_step(st)) {
                if (lp_stmt_int64(st, 0) < t->id) continue; /* a task the filters left out */
                if (k++) lp_buf_puts(&x->one, ",");
                annotation_write(&x->one, st);
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

/* The stream's producer: the next page of the export, and the format's
 * beginning before the first and its end after the last (in as many
 * chunks as the format makes of it, with no query). */
static int export_next(void *arg, lp_db *db, lp_buf *out)
{
    export_state *x = arg;
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
    if (rc < 0) return rc;
    if (next == 0) {
        if (!x->fmt->end) return 0;
        x->ending = 1;
        return x->fmt->end(&x->cx, out, x->n);
    }
    x->f.after_id = next;
    return 1;
}

/* Reads ?format= into *fmt (default ndjson); answers 400 naming it. */
static int format_arg(lp_req *req, const lp_export_format **fmt)
{
    const char *name = lp_req_arg(req, "format");
    *fmt = lp_export_find(name ? name : "ndjson");
    if (*fmt) return 0;
    size_t n;
    const lp_export_format *const *all = lp_export_all(&n);
    lp_buf names = {0};
    for (size_t i = 0; i < n; i++) lp_buf_printf(&names, "%s%s", i ? ", " : "", all[i]->name);
    lp_reply_error(req, 400, "invalid_request", "format",
                   "format: \"%s\" is not an export format (one of: %s)", name, names.data);
    lp_buf_fini(&names);
    return LP_EINVAL;
}

/* Reads ?include=, a comma-separated list of what to add to each task
 * ("annotations"); answers 400 naming it. */
static int include_arg(lp_req *req, int *annotations)
{
    const char *s = lp_req_arg(req, "include");
    *annotations = 0;
    while (s && *s) {
        size_t n = strcspn(s, ",");
        if (n == 11 && !strncmp(s, "annotations", 11))
            *annotations = 1;
        else if (n) /* an empty item (a trailing comma) is no harm */
            return lp_reply_error(req, 400, "invalid_request", "include",
                                  "include: \"%.*s\" cannot be included (one of: annotations)",
                                  (int)n, s),
                   LP_EINVAL;
        s += n + (s[n] == ',');
    }
    return 0;
}

/* A copy of s owned by the export (NULL stays NULL). */
static const char *keep(export_state *x, int slot, const char *s)
{
    return s ? (x->strings[slot] = lp_strdup(s)) : NULL;
}

int lp_api_export(lp_req *req)
{
    int64_t pid;
    if (lp_req_id(req, 0, &pid) || lp_api_require(req, pid, LP_ROLE_REVIEWER, NULL)) return 0;
    const lp_export_format *fmt;
    int annotations;
    lp_task_filter f = {.project_id = pid};
    if (format_arg(req, &fmt) || include_arg(req, &annotations) || lp_api_task_filter(req, &f))
        return 0;
    lp_project *p = NULL;
    int rc = lp_project_get(req->db, pid, &p);
    if (rc < 0) return lp_reply_rc(req, rc, "project");
    if (!lp_export_fits(fmt, p->kind->name)) {
        lp_buf kinds = {0};
        for (const char *const *k = fmt->kinds; *k; k++)
            lp_buf_printf(&kinds, "%s%s", k == fmt->kinds ? "" : ", ", *k);
        lp_reply_error(req, 400, "invalid_request", "format",
                       "format: \"%s\" exports %s projects; this one is %s", fmt->name, kinds.data,
                       p->kind->name);
        lp_buf_fini(&kinds);
        lp_project_free(p);
        return 0;
    }
    lp_buf why = {0};
    const lp_export_ctx probe = {.kind = p->kind->name, .params = p->params};
    if (fmt->check && fmt->check(&probe, &why) < 0) {
        lp_reply_error(req, 400, "invalid_request", "format", "format: \"%s\" %s", fmt->name,
                       why.data);
        lp_buf_fini(&why);
        lp_project_free(p);
        return 0;
    }
    lp_buf_fini(&why);
    export_state *x = lp_calloc(1, sizeof *x);
    x->fmt = fmt;
    x->kind = lp_strdup(p->kind->name);
    x->params = json_incref(p->params);
    x->cx = (lp_export_ctx){.kind = x->kind, .params = x->params};
    lp_project_free(p);
    x->annotations = annotations;
    x->f = f;
    x->f.limit = EXPORT_PAGE;
    x->f.after_id = 0;
    x->f.status = keep(x, 0, f.status);
    x->f.unique_id = keep(x, 1, f.unique_id);
    x->f.tag = keep(x, 2, f.tag);
    rc = lp_reply_stream(req, 200, fmt->content_type, export_next, x, export_free);
    if (rc < 0) return lp_reply_rc(req, rc, "tasks");
    char disp[96];
    snprintf(disp, sizeof disp, "attachment; filename=\"project-%lld-tasks.%s\"", (long long)pid,
             fmt->extension);
    lp_reply_header(req, "Content-Disposition", disp);
    return 0;
}
