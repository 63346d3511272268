/* api_tasks.c -- tasks: create one, create in bulk, get, list, cancel,
 * metadata and tags.
 *
 * A bulk import (a JSON array, NDJSON lines, or CSV with a header row) runs
 * through import.c: checked for framing first so a truncated body creates
 * nothing, then each row parsed, validated and inserted on its own, and
 * reported as created, duplicate (with the existing id) or invalid (with
 * the line, field and reason).  A retried import with unique_ids is
 * therefore safe: rows already created come back as duplicates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "limit.h"
#include "predictions.h"
#include "auth.h"
#include "convert.h"
#include "import.h"
#include "tasks.h"

static int reply_task(lp_req *req, int64_t id, unsigned status)
{
    json_t *t;
    int64_t pid;
    int rc = lp_task_get(req->db, id, &pid, &t);
    if (rc < 0) return lp_reply_rc(req, rc, "task");
    return lp_reply_json(req, status, t);
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
    if (lp_api_managed_project(req, pid, &p)) {
        json_decref(b);
        return 0;
    }
    lp_task_writer w;
    lp_task_writer_init(&w, req->db, p);
    w.reader = lp_api_file_reader(req);
    w.reader_project = req->who.project;
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

static char *put_text(char *o, const char *s)
{
    size_t n = strlen(s);
    memcpy(o, s, n);
    return o + n;
}

static char *put_uint(char *o, uint64_t v)
{
    char d[20];
    int n = 0;
    do d[n++] = (char)('0' + v % 10);
    while (v /= 10);
    while (n) *o++ = d[--n];
    return o;
}

/* Appends a row's outcome to the report (im->arg, an lp_buf). */
static void report_row(lp_import *im, size_t index, size_t line, int rc, int64_t id,
                       const lp_verr *e)
{
    lp_buf *out = im->arg;
    if (out->len == 0) {
        lp_buf_reserve_large(out, im->rows * 48); /* a created row's report is about 45 bytes */
        lp_buf_puts(out, "[");
    } else {
        lp_buf_puts(out, ",");
    }
    if (rc == 0 || rc == LP_EEXISTS) { /* one per row: formatted without printf */
        char r[96], *o = r;
        o = put_text(o, "{\"index\":");
        o = put_uint(o, index);
        o = put_text(o, rc == 0 ? ",\"status\":\"created\",\"id\":"
                                : ",\"status\":\"duplicate\",\"id\":");
        o = put_uint(o, (uint64_t)id);
        *o++ = '}';
        lp_buf_append(out, r, (size_t)(o - r));
        return;
    }
    if (im->where) {
        lp_buf_printf(out, "{\"index\":%zu,\"source\":", index);
        lp_buf_json_string(out, im->where[index]);
        lp_buf_puts(out, ",\"status\":\"invalid\",\"error\":{\"field\":");
    } else {
        lp_buf_printf(
            out, "{\"index\":%zu,\"line\":%zu,\"status\":\"invalid\",\"error\":{\"field\":", index,
            line);
    }
    lp_buf_json_string(out, e->field);
    lp_buf_puts(out, ",\"message\":");
    lp_buf_json_string(out, e->message);
    lp_buf_puts(out, "}}");
}

/* The reply of a bulk import: the counts and the row reports in out. */
static int reply_import(lp_req *req, const lp_import *im, lp_buf *out, const lp_src *src)
{
    lp_buf r = {0};
    lp_buf_reserve(&r, out->len + 160);
    lp_buf_printf(&r, "{\"created\":%zu,\"duplicates\":%zu,\"invalid\":%zu,", im->created,
                  im->duplicates, im->invalid);
    if (src)
        lp_buf_printf(&r, "\"media_stored\":%zu,\"files_left_out\":%zu,", src->nmedia,
                      src->skipped);
    lp_buf_printf(&r, "\"rows\":%s", out->len ? "" : "[");
    if (out->len) lp_buf_append(&r, out->data, out->len);
    lp_buf_puts(&r, "]}");
    lp_buf_fini(out);
    return lp_reply_buf(req, 200, "application/json", &r);
}

/* POST /v1/projects/{id}/tasks?format=coco|yolo|voc|conll|labelstudio:
 * labels in another tool's format, as one document or a zip (which may
 * hold the images), converted (convert.h) and imported. */
static int import_converted(lp_req *req, lp_project *p, const lp_converter *cv, int64_t batch_id)
{
    const char *ct = lp_req_header(req, "Content-Type");
    const char *as = lp_req_arg(req, "as");
    if (as && strcmp(as, "predictions") && strcmp(as, "results")) {
        lp_project_free(p);
        return lp_reply_error(req, 400, "invalid_request", "as",
                              "as: \"%s\" is not predictions or results", as);
    }
    lp_src src = {0};
    lp_verr e;
    int rc = 0;
    const char *body = req->body.data ? req->body.data : "";
    /* A zip by its type or by its first bytes (curl sends files as a form
     * body unless told otherwise). */
    if ((ct && (!strncasecmp(ct, "application/zip", 15) ||
                !strncasecmp(ct, "application/x-zip-compressed", 28))) ||
        lp_src_is_zip(body, req->body.len)) {
        rc = lp_src_load_zip(&src, req->db, req->srv->files_dir, body, req->body.len, &e);
    } else {
        lp_src_add_text(&src, "body", body, req->body.len);
        lp_src_done(&src);
    }
    lp_convert c = {.project = p,
                    .src = &src,
                    .results = as && !strcmp(as, "results"),
                    .model = lp_req_arg(req, "model"),
                    .image_base = lp_req_arg(req, "image_base")};
    lp_buf out = {0};
    lp_import im = {.batch_id = batch_id,
                    .reader = lp_api_file_reader(req),
                    .reader_project = req->who.project,
                    .row = report_row,
                    .arg = &out,
                    .max_rows = (size_t)req->srv->cfg->max_tasks};
    if (rc == 0) rc = lp_convert_import(req->db, cv, &c, &im, &e);
    lp_project_free(p);
    if (rc == LP_EINVAL || rc == LP_ETOOBIG) {
        lp_buf_fini(&out);
        lp_convert_fini(&c);
        lp_src_fini(&src);
        return lp_reply_error(req, rc == LP_ETOOBIG || !strcmp(e.field, "format") ? 422 : 400,
                              rc == LP_ETOOBIG ? "limit_exceeded" : "invalid_request", e.field,
                              "%s: %s", e.field, e.message);
    }
    if (rc < 0) {
        lp_buf_fini(&out);
        lp_convert_fini(&c);
        lp_src_fini(&src);
        return lp_reply_rc(req, rc, "tasks");
    }
    rc = reply_import(req, &im, &out, &src);
    lp_convert_fini(&c);
    lp_src_fini(&src);
    return rc;
}

int lp_api_tasks_bulk(lp_req *req)
{
    int64_t pid;
    lp_project *p;
    const char *format = lp_req_arg(req, "format");
    const lp_converter *cv = lp_converter_find(format);
    if (format && !cv) {
        lp_buf names = {0};
        for (const lp_converter *const *k = lp_converters(); *k; k++)
            lp_buf_printf(&names, "%s%s", names.len ? ", " : "", (*k)->name);
        int r = lp_reply_error(req, 400, "invalid_request", "format",
                               "format: \"%s\" is not a label format Loupe reads (%s); leave it "
                               "out for JSON, NDJSON or CSV tasks",
                               format, names.data);
        lp_buf_fini(&names);
        return r;
    }
    if (cv) {
        int64_t batch_id = 0;
        const char *b = lp_req_arg(req, "batch_id");
        if (lp_req_id(req, 0, &pid)) return 0;
        if (b && (lp_parse_int64(b, &batch_id) < 0 || batch_id <= 0))
            return lp_reply_error(req, 400, "invalid_request", "batch_id",
                                  "batch_id: must be a batch id");
        if (lp_api_managed_project(req, pid, &p)) return 0;
        return import_converted(req, p, cv, batch_id);
    }
    const char *ct = lp_req_header(req, "Content-Type");
    int csv = ct && strncasecmp(ct, "text/csv", 8) == 0;
    if (lp_req_id(req, 0, &pid) || (!csv && lp_req_json_type(req)) || lp_api_managed_project(req, pid, &p))
        return 0;
    lp_buf out = {0};
    lp_import im = {.format = csv ? LP_IMPORT_CSV : LP_IMPORT_JSON,
                    .body = req->body.data ? req->body.data : "",
                    .len = req->body.len,
                    .columns = lp_req_arg(req, "columns"),
                    .reader = lp_api_file_reader(req),
                    .reader_project = req->who.project,
                    .row = report_row,
                    .arg = &out,
                    .max_rows = (size_t)req->srv->cfg->max_tasks};
    const char *b = lp_req_arg(req, "batch_id"), *bad = NULL;
    if (b && (lp_parse_int64(b, &im.batch_id) < 0 || im.batch_id <= 0))
        bad = "batch_id: must be a batch id";
    else if (im.columns && !csv)
        bad = "columns: maps the columns of a CSV body; send it as text/csv";
    if (bad) {
        lp_project_free(p);
        return lp_reply_error(req, 400, "invalid_request", bad[0] == 'b' ? "batch_id" : "columns",
                              "%s", bad);
    }
    lp_verr e;
    int rc = lp_import_run(req->db, p, &im, &e);
    lp_project_free(p);
    if (rc == LP_ETOOBIG) {
        lp_buf_fini(&out);
        return lp_reply_error(req, 422, "limit_exceeded", e.field, "%s: %s", e.field, e.message);
    }
    if (rc == LP_EINVAL) {
        lp_buf_fini(&out);
        const char *code = strcmp(e.field, "body") ? "invalid_request"
                           : csv                   ? "invalid_csv"
                                                   : "invalid_json";
        return lp_reply_error(req, 400, code, e.field, "%s: %s", e.field, e.message);
    }
    if (rc < 0) {
        lp_buf_fini(&out);
        return lp_reply_rc(req, rc, "tasks");
    }
    return reply_import(req, &im, &out, NULL);
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

/* Reads ?name=true|false into *out (absent: false); answers 400 naming
 * it otherwise. */
static int bool_arg(lp_req *req, const char *name, int *out)
{
    const char *v = lp_req_arg(req, name);
    *out = v && !strcmp(v, "true");
    if (!v || !strcmp(v, "true") || !strcmp(v, "false")) return 0;
    lp_reply_error(req, 400, "invalid_request", name, "%s: \"%s\" is not true or false", name, v);
    return LP_EINVAL;
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
    if (bool_arg(req, "exclude_gold", &f->no_gold) || bool_arg(req, "reviewed", &f->reviewed))
        return LP_EINVAL;
    f->auto_label = lp_req_arg(req, "auto_label");
    if (f->auto_label && strcmp(f->auto_label, "model") && strcmp(f->auto_label, "spot_check") &&
        strcmp(f->auto_label, "returned")) {
        lp_reply_error(req, 400, "invalid_request", "auto_label",
                       "auto_label: \"%s\" is not model, spot_check or returned", f->auto_label);
        return LP_EINVAL;
    }
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

/* POST /v1/projects/{id}/predictions: pre-labels for tasks that exist
 * (predictions.h), as a JSON array of {task_id | unique_id, model,
 * response, score}. */
int lp_api_predictions_add(lp_req *req)
{
    int64_t pid;
    lp_project *p;
    if (lp_req_id(req, 0, &pid) || lp_api_managed_project(req, pid, &p)) return 0;
    json_t *b;
    if (lp_req_json(req, 0, &b)) {
        lp_project_free(p);
        return 0;
    }
    if (!json_is_array(b) || json_array_size(b) == 0 ||
        json_array_size(b) > LP_LIMIT_RESPONSE_ITEMS) {
        json_decref(b);
        lp_project_free(p);
        return lp_reply_error(req, 422, "invalid_value", "body",
                              "body: must be an array of 1 to %d predictions "
                              "({task_id or unique_id, model, response, score})",
                              LP_LIMIT_RESPONSE_ITEMS);
    }
    json_t *report;
    int rc = lp_predictions_add(req->db, p, b, &report);
    json_decref(b);
    lp_project_free(p);
    if (rc < 0) return lp_reply_rc(req, rc, "predictions");
    return lp_reply_json(req, 200, report);
}

/* GET /v1/projects/{id}/predictions/stats: how each model's pre-labels
 * fared with the annotators. */
int lp_api_predictions_stats(lp_req *req)
{
    int64_t pid;
    lp_project *p;
    if (lp_req_id(req, 0, &pid) || lp_api_managed_project(req, pid, &p)) return 0;
    json_t *out;
    int rc = lp_predictions_stats(req->db, p, &out);
    lp_project_free(p);
    if (rc < 0) return lp_reply_rc(req, rc, "predictions");
    return lp_reply_json(req, 200, out);
}

/* GET /v1/projects/{id}/autolabel: how auto-labeling stands (autolabel.h):
 * the threshold, the held-out precision behind it, what is eligible, done
 * and spot-checked.  Managers only, like the predictions' stats. */
int lp_api_autolabel(lp_req *req)
{
    int64_t pid;
    lp_project *p;
    if (lp_req_id(req, 0, &pid) || lp_api_managed_project(req, pid, &p)) return 0;
    json_t *out;
    int rc = lp_autolabel_report(req->db, p, &out);
    lp_project_free(p);
    if (rc < 0) return lp_reply_rc(req, rc, "autolabel");
    return lp_reply_json(req, 200, out);
}
