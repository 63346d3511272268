/* api_export.c -- GET /v1/projects/{id}/export: a project's tasks as a
 * streamed download, in any format of export.h.
 *
 * The pages come from an exporter (exporter.c, the loop `loupe export`
 * runs too); this file keeps the HTTP side.  Each page is encoded and
 * handed to the HTTP layer as one chunk of a streamed reply
 * (lp_reply_stream): the first page inside the request's read
 * transaction, so that a bad filter or a database error is an ordinary
 * JSON error; every later page on a pooled connection held only while
 * that page is read, after the previous page has gone out.  Memory is one
 * page whatever the project's size, and a slow client holds no
 * connection. */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "auth.h"
#include "exporter.h"

/* The stream's producer and its state's destructor. */
static int export_next(void *arg, lp_db *db, lp_buf *out)
{
    return lp_exporter_next(arg, db, out);
}

static void export_free(void *arg)
{
    lp_exporter_free(arg);
}

int lp_api_export(lp_req *req)
{
    int64_t pid;
    if (lp_req_id(req, 0, &pid) || lp_api_require(req, pid, LP_ROLE_REVIEWER, NULL)) return 0;
    int annotations;
    char *err = NULL;
    if (lp_exporter_include(lp_req_arg(req, "include"), &annotations, &err) < 0) {
        lp_reply_error(req, 400, "invalid_request", "include", "include: %s", err);
        free(err);
        return 0;
    }
    int workers;
    if (lp_exporter_workers(lp_req_arg(req, "workers"), &workers, &err) < 0) {
        lp_reply_error(req, 400, "invalid_request", "workers", "workers: %s", err);
        free(err);
        return 0;
    }
    lp_task_filter f = {.project_id = pid};
    if (lp_api_task_filter(req, &f)) return 0;
    lp_exporter *x;
    int rc =
        lp_exporter_new(req->db, lp_req_arg(req, "format"), annotations, workers, &f, &x, &err);
    if (rc == LP_EINVAL) {
        lp_reply_error(req, 400, "invalid_request", "format", "format: %s", err);
        free(err);
        return 0;
    }
    if (rc < 0) return lp_reply_rc(req, rc, "project");
    const lp_export_format *fmt = lp_exporter_format(x);
    rc = lp_reply_stream(req, 200, fmt->content_type, export_next, x, export_free);
    if (rc < 0) return lp_reply_rc(req, rc, "tasks");
    char disp[96];
    snprintf(disp, sizeof disp, "attachment; filename=\"project-%lld-tasks.%s\"", (long long)pid,
             fmt->extension);
    lp_reply_header(req, "Content-Disposition", disp);
    return 0;
}
