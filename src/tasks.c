/* tasks.c -- see tasks.h.
 *
 * Bulk creation is the hot path: one prepared INSERT ... ON CONFLICT DO
 * NOTHING RETURNING id per task (a taken unique_id returns no row, and the
 * existing id is looked up), counters kept in memory and written once per
 * flush, the task_tags rows written LP_TAG_BATCH to a statement, and a
 * batch's status checked once per run of tasks in that batch. */
#include "tasks.h"

#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "util.h"

static const char *const statuses[] = {LP_TASK_STATUSES, NULL};

int lp_task_status_valid(const char *s)
{
    for (const char *const *p = statuses; *p; p++)
        if (strcmp(*p, s) == 0) return 1;
    return 0;
}

static const char *status_static(const char *s)
{
    for (const char *const *p = statuses; *p; p++)
        if (strcmp(*p, s) == 0) return *p;
    return "pending";
}

int lp_counts_add(lp_db *db, int64_t project_id, int64_t batch_id, const char *status,
                  int64_t delta)
{
    if (delta == 0) return 0;
    int rc = lp_db_run(
        db,
        "INSERT INTO project_counts (project_id, status, n) VALUES (?, ?, ?) "
        "ON CONFLICT (project_id, status) DO UPDATE SET n = project_counts.n + excluded.n",
        "isi", project_id, status, delta);
    if (rc == 0 && batch_id)
        rc = lp_db_run(
            db,
            "INSERT INTO batch_counts (batch_id, status, n) VALUES (?, ?, ?) "
            "ON CONFLICT (batch_id, status) DO UPDATE SET n = batch_counts.n + excluded.n",
            "isi", batch_id, status, delta);
    return rc;
}

void lp_task_writer_init(lp_task_writer *w, lp_db *db, const lp_project *p)
{
    memset(w, 0, sizeof *w);
    w->db = db;
    w->project = p;
    w->measure = -1;
}

void lp_task_writer_fini(lp_task_writer *w)
{
    lp_stmt_done(w->ins_task);
    lp_stmt_done(w->ins_tag);
    lp_stmt_done(w->ins_tags);
    w->ins_task = w->ins_tag = w->ins_tags = NULL;
    w->ntags = 0; /* not flushed: their transaction rolls back */
}

/* Writes the waiting task_tags rows: a full batch with one statement of
 * LP_TAG_BATCH rows (a statement's own cost, paid once for many rows, is
 * much of a small row's), fewer one by one. */
static int write_tags(lp_task_writer *w)
{
    int rc = 0, n = w->ntags;
    w->ntags = 0;
    if (n == LP_TAG_BATCH) {
        if (!w->ins_tags) {
            lp_buf sql = {0};
            lp_buf_puts(&sql, "INSERT INTO task_tags (task_id, project_id, tag) VALUES ");
            for (int i = 0; i < LP_TAG_BATCH; i++)
                lp_buf_puts(&sql, i ? ", (?, ?, ?)" : "(?, ?, ?)");
            rc = lp_db_prepare(w->db, sql.data, &w->ins_tags);
            lp_buf_fini(&sql);
            if (rc < 0) return rc;
        }
        for (int i = 0; i < n; i++) {
            lp_stmt_bind_int64(w->ins_tags, 3 * i + 1, w->tag_task[i]);
            lp_stmt_bind_int64(w->ins_tags, 3 * i + 2, w->project->id);
            lp_stmt_bind_text(w->ins_tags, 3 * i + 3, w->tag_text[i]);
        }
        rc = lp_stmt_step(w->ins_tags);
        lp_stmt_reset(w->ins_tags);
        return rc == LP_DB_DONE ? 0 : rc < 0 ? rc : LP_EDB;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        if (!w->ins_tag &&
            (rc = lp_db_prepare(w->db,
                                "INSERT INTO task_tags (task_id, project_id, tag) VALUES (?, ?, ?)",
                                &w->ins_tag)) < 0)
            break;
        lp_stmt_bind_int64(w->ins_tag, 1, w->tag_task[i]);
        lp_stmt_bind_int64(w->ins_tag, 2, w->project->id);
        lp_stmt_bind_text(w->ins_tag, 3, w->tag_text[i]);
        rc = lp_stmt_step(w->ins_tag);
        lp_stmt_reset(w->ins_tag);
        rc = rc == LP_DB_DONE ? 0 : rc < 0 ? rc : LP_EDB;
    }
    return rc;
}

/* The status of a new task: plain, gold (an expected_response) or
 * completed (imported with its result). */
enum { NEW_PENDING, NEW_GOLD, NEW_COMPLETED, NEW_STATUSES };
static const char *const new_status[NEW_STATUSES] = {"pending", "gold", "completed"};

int lp_task_writer_flush(lp_task_writer *w)
{
    w->measure = -1; /* read again in the next transaction */
    int rc = write_tags(w);
    for (int g = 0; g < NEW_STATUSES; g++) {
        if (rc == 0) rc = lp_counts_add(w->db, w->project->id, 0, new_status[g], w->project_new[g]);
        w->project_new[g] = 0;
        for (int i = 0; rc == 0 && i < w->nbatch; i++) {
            if (w->batch_new[i][g])
                rc = lp_db_run(
                    w->db,
                    "INSERT INTO batch_counts (batch_id, status, n) VALUES (?, ?, ?) "
                    "ON CONFLICT (batch_id, status) DO UPDATE SET n = batch_counts.n + excluded.n",
                    "isi", w->batch_ids[i], new_status[g], w->batch_new[i][g]);
            w->batch_new[i][g] = 0;
        }
    }
    return rc;
}

static int count_batch(lp_task_writer *w, int64_t batch_id, int status)
{
    for (int i = 0; i < w->nbatch; i++)
        if (w->batch_ids[i] == batch_id) {
            w->batch_new[i][status]++;
            return 0;
        }
    int rc = 0;
    if (w->nbatch == (int)LP_ARRAY_LEN(w->batch_ids)) rc = lp_task_writer_flush(w), w->nbatch = 0;
    w->batch_ids[w->nbatch] = batch_id;
    memset(w->batch_new[w->nbatch], 0, sizeof w->batch_new[0]);
    w->batch_new[w->nbatch++][status] = 1;
    return rc;
}

/* Finds the batch a task names (by id or by name; if neither, the writer's
 * batch_default) in the writer's project; it must be staging to take
 * tasks. */
static int check_batch(lp_task_writer *w, const lp_task_row *row, int64_t *batch_id, lp_verr *e)
{
    *batch_id = 0;
    int64_t id = row->batch_id || row->batch_name ? row->batch_id : w->batch_default;
    if (!id && !row->batch_name) return 0;
    if (id && id == w->last_batch) {
        *batch_id = id;
        return 0;
    }
    const char *bname = row->batch_name;
    lp_stmt *st;
    int rc =
        lp_db_prepare(w->db,
                      bname ? "SELECT id, status FROM batches WHERE project_id = ? AND name = ?"
                            : "SELECT id, status FROM batches WHERE project_id = ? AND id = ?",
                      &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, w->project->id);
    if (bname)
        lp_stmt_bind_text(st, 2, bname);
    else
        lp_stmt_bind_int64(st, 2, id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        if (strcmp(lp_stmt_text(st, 1), "staging") != 0) {
            rc = lp_verr_set(e, bname ? "batch" : "batch_id",
                             "the batch is %s: tasks can only be added to a batch in staging",
                             lp_stmt_text(st, 1));
        } else {
            *batch_id = lp_stmt_int64(st, 0);
            rc = 0;
        }
    } else if (rc == LP_DB_DONE) {
        rc = bname ? lp_verr_set(e, "batch", "no batch named \"%s\" in this project", bname)
                   : lp_verr_set(e, "batch_id", "no batch %lld in this project", (long long)id);
    }
    lp_stmt_done(st);
    if (rc == 0 && !bname) w->last_batch = *batch_id;
    return rc;
}

int lp_task_writer_default_batch(lp_task_writer *w, int64_t batch_id, lp_verr *e)
{
    lp_task_row row = {.batch_id = batch_id};
    int64_t id;
    int rc = check_batch(w, &row, &id, e);
    if (rc == 0) w->batch_default = id;
    return rc;
}

static const char *const attachment_types[] = {"image",      "audio",    "video", "text",
                                               "pointcloud", "document", "other", NULL};

static int is_sha256(const char *s)
{
    if (strlen(s) != 64) return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
    return 1;
}

/* Checks the attachments' shape; the uploaded files they name are
 * collected in *files (index, sha256) for check_files() to look up. */
static int check_attachments(const json_t *task, json_t **files, lp_verr *e)
{
    const json_t *arr;
    if (lp_v_array(task, "attachments", "", 0, 0, 100, &arr, e)) return LP_EINVAL;
    size_t i;
    const json_t *a;
    json_array_foreach(arr, i, a)
    {
        static const char *const keys[] = {"type", "url", "file", "content", "name", NULL};
        char path[256], field[256];
        lp_path_index(path, sizeof path, "attachments", i);
        const char *type = NULL, *url = NULL, *file = NULL, *content = NULL;
        if (lp_v_object(a, path, e) || lp_v_only_keys(a, path, keys, e) ||
            lp_v_string(a, "type", path, 1, 1, 32, &type, e) ||
            lp_v_string(a, "url", path, 0, 1, 4096, &url, e) ||
            lp_v_string(a, "file", path, 0, 64, 64, &file, e) ||
            lp_v_string(a, "content", path, 0, 0, 0, &content, e) ||
            lp_v_string(a, "name", path, 0, 0, 256, NULL, e))
            return LP_EINVAL;
        int ok = 0;
        for (const char *const *t = attachment_types; *t && !ok; t++) ok = !strcmp(*t, type);
        if (!ok)
            return lp_verr_set(e, lp_path_key(field, sizeof field, path, "type"),
                               "\"%s\" is not an attachment type (image, audio, video, text, "
                               "pointcloud, document or other)",
                               type);
        if (!!url + !!file + !!content != 1)
            return lp_verr_set(e, path, "needs exactly one of url, file or content");
        if (url && strncmp(url, "https://", 8) && strncmp(url, "http://", 7) &&
            strncmp(url, "/v1/files/", 10))
            return lp_verr_set(e, lp_path_key(field, sizeof field, path, "url"),
                               "must be an http(s) URL or /v1/files/SHA256");
        if (file && !is_sha256(file))
            return lp_verr_set(e, lp_path_key(field, sizeof field, path, "file"),
                               "must be the sha256 of an uploaded file (64 hex digits)");
        if (file) {
            if (!*files) *files = json_array();
            json_array_append_new(*files, json_pack("[I, s]", (json_int_t)i, file));
        }
    }
    return 0;
}

/* Checks that every file an attachment names was uploaded. */
static int check_files(lp_db *db, const json_t *files, lp_verr *e)
{
    size_t i;
    const json_t *f;
    json_array_foreach(files, i, f)
    {
        const char *sha = json_string_value(json_array_get(f, 1));
        int64_t one;
        int rc = lp_db_int64(db, &one, "SELECT 1 FROM files WHERE sha256 = ?", "s", sha);
        if (rc == LP_ENOTFOUND) {
            char field[64];
            snprintf(field, sizeof field, "attachments[%lld].file",
                     (long long)json_integer_value(json_array_get(f, 0)));
            return lp_verr_set(e, field, "no uploaded file has sha256 %s", sha);
        }
        if (rc < 0) return rc;
    }
    return 0;
}

/* Validates tags (array of 1..64-character strings, at most 50) and
 * returns them sorted without duplicates, as a new array. */
static int norm_tags(const json_t *tags, const char *path, json_t **out, lp_verr *e)
{
    *out = NULL;
    if (!json_is_array(tags)) return lp_verr_set(e, path, "must be an array of strings");
    if (json_array_size(tags) > 50) return lp_verr_set(e, path, "must have at most 50 tags");
    const char *v[50];
    size_t n = 0, i;
    const json_t *t;
    json_array_foreach(tags, i, t)
    {
        if (!json_is_string(t) || json_string_length(t) == 0 || json_string_length(t) > 64 ||
            strchr(json_string_value(t), '/')) {
            char f[256];
            lp_path_index(f, sizeof f, path, i);
            if (json_is_string(t) && strchr(json_string_value(t), '/')) /* must fit a URL segment */
                return lp_verr_set(e, f, "\"%s\": a tag cannot contain /", json_string_value(t));
            return lp_verr_set(e, f, "must be a string of 1 to 64 characters");
        }
        const char *s = json_string_value(t);
        size_t k = 0;
        while (k < n && strcmp(v[k], s) < 0) k++;
        if (k < n && strcmp(v[k], s) == 0) continue;
        memmove(v + k + 1, v + k, (n - k) * sizeof v[0]);
        v[k] = s;
        n++;
    }
    json_t *arr = json_array();
    for (i = 0; i < n; i++) json_array_append_new(arr, json_string(v[i]));
    *out = arr;
    return 0;
}

static const char *const task_keys[] = {
    "project_id",  "batch_id", "batch",    "unique_id", "attachments",
    "data",        "metadata", "priority", "tags",      "expected_response",
    "predictions", "result",   NULL};

/* Checks everything about a task body that needs no database but the
 * project: fields, attachments, the kind's input, gold and predictions. */
static int check_task(const lp_project *p, const json_t *task, lp_task_row *row, lp_verr *e)
{
    long long prio = 0, bid = 0;
    const char *bname = NULL;
    if (lp_v_object(task, "", e) || lp_v_only_keys(task, "", task_keys, e) ||
        lp_v_string(task, "unique_id", "", 0, 1, 255, NULL, e) ||
        lp_v_int(task, "priority", "", 0, -1000000000, 1000000000, &prio, e) ||
        lp_v_int(task, "batch_id", "", 0, 1, INT64_MAX, &bid, e) ||
        lp_v_string(task, "batch", "", 0, 1, 200, &bname, e))
        return LP_EINVAL;
    if (bid && bname) return lp_verr_set(e, "batch", "give batch_id or batch, not both");
    row->priority = prio;
    row->batch_id = bid;
    row->batch_name = bname ? lp_strdup(bname) : NULL;
    static const char *const objs[] = {"data", "metadata", "expected_response"};
    for (size_t i = 0; i < LP_ARRAY_LEN(objs); i++) {
        const json_t *v = json_object_get(task, objs[i]);
        if (v && !json_is_null(v) && lp_v_object(v, objs[i], e)) return LP_EINVAL;
    }
    const json_t *t = json_object_get(task, "tags");
    if (t && norm_tags(t, "tags", &row->tags, e)) return LP_EINVAL;
    if (check_attachments(task, &row->files, e)) return LP_EINVAL;
    if (p->kind->validate_task && p->kind->validate_task(p->params, task, e)) return LP_EINVAL;
    const json_t *exp = json_object_get(task, "expected_response");
    if (exp && !json_is_null(exp) && p->kind->validate_response &&
        p->kind->validate_response(p->params, task, exp, "expected_response", e))
        return LP_EINVAL;
    const json_t *res = json_object_get(task, "result");
    if (res && !json_is_null(res)) {
        if (exp && !json_is_null(exp))
            return lp_verr_set(e, "result",
                               "a gold task (one with an expected_response) has no result to "
                               "import");
        if (p->kind->validate_response &&
            p->kind->validate_response(p->params, task, res, "result", e))
            return LP_EINVAL;
    }
    const json_t *preds;
    if (lp_v_array(task, "predictions", "", 0, 0, 100, &preds, e)) return LP_EINVAL;
    size_t i;
    const json_t *pr;
    json_array_foreach(preds, i, pr)
    {
        char path[256];
        lp_path_index(path, sizeof path, "predictions", i);
        if (lp_task_check_prediction(p, task, pr, path, 0, e)) return LP_EINVAL;
    }
    /* under every measure: the one in force is read when it is written */
    for (int m = 0; m < LP_MEASURES; m++) row->uncertainty[m] = lp_task_uncertainty(preds, m);
    return 0;
}

int lp_task_check_prediction(const lp_project *p, const json_t *task, const json_t *pr,
                             const char *path, int model_required, lp_verr *e)
{
    static const char *const keys[] = {"model", "response", "score", "probabilities", NULL};
    char rpath[256];
    if (lp_v_object(pr, path, e) || lp_v_only_keys(pr, path, keys, e) ||
        lp_v_string(pr, "model", path, model_required, 1, 200, NULL, e) ||
        lp_v_number(pr, "score", path, 0, 0, 1, NULL, e))
        return LP_EINVAL;
    const json_t *probs = json_object_get(pr, "probabilities");
    if (probs && lp_check_probabilities(probs, path, e)) return LP_EINVAL;
    lp_path_key(rpath, sizeof rpath, path, "response");
    const json_t *r = json_object_get(pr, "response");
    if (!r) return lp_verr_set(e, rpath, "is required");
    if (p->kind->validate_response && p->kind->validate_response(p->params, task, r, rpath, e))
        return LP_EINVAL;
    return 0;
}

static char *dump_or(const json_t *v, const char *dflt)
{
    if (!v || json_is_null(v)) return dflt ? lp_strdup(dflt) : NULL;
    return json_dumps(v, LP_JSON_DUMP);
}

int lp_task_prepare(const lp_project *p, const json_t *task, lp_task_row *row)
{
    return lp_task_prepare_text(p, task, NULL, 0, row);
}

/* Whether norm_tags() kept the tags as they were: already sorted, no
 * duplicates. */
static int tags_unchanged(const json_t *given, const json_t *norm)
{
    size_t n = json_array_size(given);
    if (json_array_size(norm) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(json_string_value(json_array_get(given, i)),
                   json_string_value(json_array_get(norm, i))) != 0)
            return 0;
    return 1;
}

int lp_task_prepare_text(const lp_project *p, const json_t *task, const char *src, size_t len,
                         lp_task_row *row)
{
    memset(row, 0, sizeof *row);
    const char *uid = json_string_value(json_object_get(task, "unique_id"));
    if (uid) row->unique_id = lp_strdup(uid);
    /* A task for another project is refused before anything else, so it is
     * never taken for a duplicate of this project's task. */
    json_t *pid = json_object_get(task, "project_id");
    if (pid && !(json_is_integer(pid) && json_integer_value(pid) == p->id)) {
        row->foreign = 1;
        row->err = lp_malloc(sizeof *row->err);
        return row->rc = lp_verr_set(row->err, "project_id",
                                     "this task names another project than %lld, the one it is "
                                     "sent to",
                                     (long long)p->id);
    }
    lp_verr e;
    row->rc = check_task(p, task, row, &e);
    if (row->rc < 0) {
        row->err = lp_malloc(sizeof e);
        *row->err = e;
        return row->rc;
    }
    /* The stored columns: the source's text where it is already what
     * json_dumps would write (the common case, and the bulk import's hot
     * path), else encoded. */
    static const char *const keys[6] = {"attachments",       "data",       "metadata", "tags",
                                        "expected_response", "predictions"};
    static const char *const dflt[6] = {"[]", "{}", "{}", "[]", NULL, NULL};
    const char *span[6] = {NULL};
    size_t slen[6];
    if (src) lp_json_canonical_members(src, len, keys, 6, span, slen);
    if (span[3] && !tags_unchanged(json_object_get(task, "tags"), row->tags)) span[3] = NULL;
    for (int c = 0; c < 6; c++) {
        if (span[c]) {
            row->cols[c] = (char *)span[c];
            row->lens[c] = slen[c];
            row->borrowed |= 1u << c;
        } else {
            row->cols[c] = dump_or(c == 3 ? row->tags : json_object_get(task, keys[c]), dflt[c]);
            row->lens[c] = row->cols[c] ? strlen(row->cols[c]) : 0;
        }
    }
    const json_t *res = json_object_get(task, "result");
    if (res && !json_is_null(res)) {
        /* An imported result: the team's final label, taken as it is. */
        json_t *r = json_pack("{s:O, s:n, s:s, s:[]}", "response", res, "confidence", "method",
                              "import", "annotations");
        row->result = json_dumps(r, LP_JSON_DUMP);
        row->result_version = json_dumps(res, LP_JSON_DUMP | JSON_SORT_KEYS);
        json_decref(r);
    }
    return 0;
}

void lp_task_row_fini(lp_task_row *row)
{
    free(row->err);
    free(row->unique_id);
    free(row->batch_name);
    for (size_t i = 0; i < LP_ARRAY_LEN(row->cols); i++)
        if (!(row->borrowed & 1u << i)) free(row->cols[i]);
    free(row->result);
    free(row->result_version);
    json_decref(row->tags);
    json_decref(row->files);
    memset(row, 0, sizeof *row);
}

/* Links the files a new task names to its project (files.h): its
 * attachments' files, and /v1/files/SHA256 URLs in its attachments and
 * data. */
static int link_files(lp_task_writer *w, const lp_task_row *row)
{
    size_t i;
    const json_t *f;
    int rc = 0;
    json_array_foreach(row->files, i, f)
    {
        rc = lp_file_link(w->db, json_string_value(json_array_get(f, 1)), w->project->id,
                          w->reader, w->reader_project);
        if (rc < 0) return rc;
    }
    for (int c = 0; c < 2 && rc == 0; c++) /* attachments, data */
        if (row->cols[c])
            rc = lp_file_link_urls(w->db, row->cols[c], row->lens[c], w->project->id, w->reader,
                                   w->reader_project);
    return rc;
}

int lp_task_writer_insert(lp_task_writer *w, const lp_task_row *row, int64_t *id, lp_verr *e)
{
    *id = 0;
    if (row->foreign) {
        *e = *row->err;
        return row->rc;
    }
    int64_t batch_id = 0;
    int rc = row->rc;
    if (rc < 0) *e = *row->err;
    if (rc == 0) rc = check_batch(w, row, &batch_id, e);
    if (rc == 0) rc = check_files(w->db, row->files, e);
    const char *unique_id = row->unique_id;
    if (rc == LP_EINVAL && unique_id &&
        lp_db_int64(w->db, id, "SELECT id FROM tasks WHERE project_id = ? AND unique_id = ?", "is",
                    w->project->id, unique_id) == 0) {
        /* A retry of a task that exists is a duplicate, even if it would
         * no longer pass (its batch was finalized since, say). */
        lp_verr_set(e, "unique_id", "a task with unique_id \"%s\" already exists (id %lld)",
                    unique_id, (long long)*id);
        return LP_EEXISTS;
    }
    /* The measure in force, read once a transaction (and held: see
     * lp_project_measure), so that a change of it, which rescores the
     * project's tasks, never misses the tasks written here. */
    if (rc == 0 && w->measure < 0) {
        lp_measure m;
        rc = lp_project_measure(w->db, w->project->id, &m);
        if (rc == 0) w->measure = (int)m;
    }
    if (rc < 0) return rc;
    int64_t now = lp_now_ms();
    /* an expected_response makes a gold task, an imported result a completed one */
    int status = row->cols[4] ? NEW_GOLD : row->result ? NEW_COMPLETED : NEW_PENDING;
    if (!w->ins_task)
        rc = lp_db_prepare_insert(
            w->db,
            "INSERT INTO tasks (project_id, batch_id, unique_id, status, priority, "
            "attachments, data, metadata, tags, expected_response, predictions, "
            "created_at, updated_at, queue_order, result, uncertainty) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (project_id, unique_id) DO NOTHING",
            &w->ins_task);
    if (rc == 0) {
        lp_stmt *st = w->ins_task;
        lp_stmt_bind_int64(st, 1, w->project->id);
        if (batch_id)
            lp_stmt_bind_int64(st, 2, batch_id);
        else
            lp_stmt_bind_null(st, 2);
        lp_stmt_bind_text(st, 3, unique_id);
        lp_stmt_bind_text(st, 4, new_status[status]);
        lp_stmt_bind_int64(st, 5, row->priority);
        for (int c = 0; c < 6; c++) {
            if (row->cols[c])
                lp_stmt_bind_textn(st, 6 + c, row->cols[c], row->lens[c]);
            else
                lp_stmt_bind_null(st, 6 + c);
        }
        lp_stmt_bind_int64(st, 12, now);
        lp_stmt_bind_int64(st, 13, now);
        lp_stmt_bind_int64(st, 14, batch_id); /* batches are worked in order */
        if (row->result)
            lp_stmt_bind_text(st, 15, row->result);
        else
            lp_stmt_bind_null(st, 15);
        lp_stmt_bind_double(st, 16, row->uncertainty[w->measure]);
        rc = lp_stmt_insert_id(st, id, LP_EEXISTS); /* nothing inserted: unique_id taken */
    }
    if (rc == LP_EEXISTS) {
        int r2 =
            lp_db_int64(w->db, id, "SELECT id FROM tasks WHERE project_id = ? AND unique_id = ?",
                        "is", w->project->id, unique_id);
        if (r2 < 0)
            rc = r2;
        else
            lp_verr_set(e, "unique_id", "a task with unique_id \"%s\" already exists (id %lld)",
                        unique_id, (long long)*id);
    } else if (rc == 0) {
        size_t i;
        json_t *t;
        json_array_foreach(row->tags, i, t)
        { /* written with the next batch, or by lp_task_writer_flush() */
            if (w->ntags == LP_TAG_BATCH && (rc = write_tags(w)) < 0) break;
            size_t n = json_string_length(t); /* at most 64: norm_tags() checked */
            if (n >= sizeof w->tag_text[0]) n = sizeof w->tag_text[0] - 1;
            memcpy(w->tag_text[w->ntags], json_string_value(t), n);
            w->tag_text[w->ntags][n] = '\0';
            w->tag_task[w->ntags++] = *id;
        }
        if (rc == 0) rc = link_files(w, row);
        if (rc == 0 && row->result)
            rc = lp_db_run(w->db,
                           "INSERT INTO result_versions (task_id, response, source, user_id, "
                           "created_at) VALUES (?, ?, 'import', NULL, ?)",
                           "isi", *id, row->result_version, now);
        if (rc == 0) {
            w->project_new[status]++;
            if (batch_id) rc = count_batch(w, batch_id, status);
        }
    }
    return rc;
}

int lp_task_writer_add(lp_task_writer *w, json_t *task, int64_t *id, lp_verr *e)
{
    lp_task_row row;
    lp_task_prepare(w->project, task, &row);
    int rc = lp_task_writer_insert(w, &row, id, e);
    lp_task_row_fini(&row);
    return rc;
}

/* The columns task_write() reads, optionally qualified by a table alias. */
#define TASK_COLS_OF(t)                                                                    \
    t "id, " t "project_id, " t "batch_id, " t "unique_id, " t "status, " t "priority, " t \
      "attachments, " t "data, " t "metadata, " t "tags, " t "expected_response, " t       \
      "predictions, " t "created_at, " t "updated_at, " t "result, " t "review, " t "review_level, " \
      t "auto_label"
#define TASK_COLS TASK_COLS_OF("")

/* Appends a stored JSON column as it is: it was written by jansson, so it
 * is valid JSON and needs no parse and re-dump on the way out. */
static void put_raw(lp_buf *b, lp_stmt *st, int col)
{
    size_t n;
    const char *s = lp_stmt_textn(st, col, &n);
    if (lp_stmt_is_null(st, col) || n == 0)
        lp_buf_puts(b, "null");
    else
        lp_buf_append(b, s, n);
}

/* Appends the review decision in column col without "by": an annotator
 * sees what was decided about their work, never which reviewer did it. */
static void put_review_anonymous(lp_buf *b, lp_stmt *st, int col)
{
    size_t n;
    const char *s = lp_stmt_textn(st, col, &n);
    json_t *r = json_loadb(s, n, 0, NULL);
    if (!json_is_object(r)) {
        json_decref(r);
        lp_buf_puts(b, "null");
        return;
    }
    json_object_del(r, "by");
    char *text = json_dumps(r, LP_JSON_DUMP);
    lp_buf_puts(b, text);
    free(text);
    json_decref(r);
}

static void put_time(lp_buf *b, const char *key, int64_t ms)
{
    char t[40];
    lp_time_format(ms, t, sizeof t);
    lp_buf_printf(b, ",\"%s\":\"%s\"", key, t);
}

/* Appends the task in the current row of st (TASK_COLS) as a JSON object. */
static void task_write(lp_buf *b, lp_stmt *st, int view)
{
    lp_buf_printf(b,
                  "{\"id\":%lld,\"project_id\":%lld,\"batch_id\":", (long long)lp_stmt_int64(st, 0),
                  (long long)lp_stmt_int64(st, 1));
    if (lp_stmt_is_null(st, 2))
        lp_buf_puts(b, "null");
    else
        lp_buf_printf(b, "%lld", (long long)lp_stmt_int64(st, 2));
    lp_buf_puts(b, ",\"unique_id\":");
    if (lp_stmt_is_null(st, 3))
        lp_buf_puts(b, "null");
    else
        lp_buf_json_string(b, lp_stmt_text(st, 3));
    /* A worker must not tell a gold task from another, nor see the answer. */
    const char *status = lp_stmt_text(st, 4);
    if (view != LP_VIEW_FULL && !strcmp(status, "gold")) status = "in_progress";
    lp_buf_printf(b, ",\"status\":\"%s\",\"priority\":%lld,\"attachments\":", status,
                  (long long)lp_stmt_int64(st, 5));
    put_raw(b, st, 6);
    lp_buf_puts(b, ",\"data\":");
    put_raw(b, st, 7);
    lp_buf_puts(b, ",\"metadata\":");
    put_raw(b, st, 8);
    lp_buf_puts(b, ",\"tags\":");
    put_raw(b, st, 9);
    int gold = !lp_stmt_is_null(st, 10) && view == LP_VIEW_FULL;
    if (view == LP_VIEW_FULL) lp_buf_printf(b, ",\"is_gold\":%s", gold ? "true" : "false");
    if (gold) {
        lp_buf_puts(b, ",\"expected_response\":");
        put_raw(b, st, 10);
    }
    if (!lp_stmt_is_null(st, 11)) {
        lp_buf_puts(b, ",\"predictions\":");
        put_raw(b, st, 11);
    }
    put_time(b, "created_at", lp_stmt_int64(st, 12));
    put_time(b, "updated_at", lp_stmt_int64(st, 13));
    if (!lp_stmt_is_null(st, 14) && view != LP_VIEW_ANNOTATOR) { /* not others' consensus */
        lp_buf_puts(b, ",\"result\":");
        put_raw(b, st, 14);
    }
    if (!lp_stmt_is_null(st, 15)) { /* the last review or audit decision */
        lp_buf_puts(b, ",\"review\":");
        if (view == LP_VIEW_ANNOTATOR)
            put_review_anonymous(b, st, 15);
        else
            put_raw(b, st, 15);
    }
    if (lp_stmt_int64(st, 16))
        lp_buf_printf(b, ",\"review_level\":%lld", (long long)lp_stmt_int64(st, 16));
    /* What auto-labeling did with it (autolabel.h); an annotator is not
     * told that the task is a spot check of the model. */
    if (!lp_stmt_is_null(st, 17) && view != LP_VIEW_ANNOTATOR) {
        lp_buf_puts(b, ",\"auto_label\":");
        lp_buf_json_string(b, lp_stmt_text(st, 17));
    }
    lp_buf_puts(b, "}");
}

int lp_task_text(lp_db *db, int64_t id, int64_t *project_id, lp_buf *out)
{
    return lp_task_view(db, id, project_id, out, LP_VIEW_FULL);
}

int lp_task_view(lp_db *db, int64_t id, int64_t *project_id, lp_buf *out, int view)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db, "SELECT " TASK_COLS " FROM tasks WHERE id = ?", &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        *project_id = lp_stmt_int64(st, 1);
        task_write(out, st, view);
        rc = 0;
    } else if (rc == LP_DB_DONE) {
        rc = LP_ENOTFOUND;
    }
    lp_stmt_done(st);
    return rc;
}

int lp_task_get(lp_db *db, int64_t id, int64_t *project_id, json_t **out)
{
    lp_buf b = {0};
    int rc = lp_task_text(db, id, project_id, &b);
    if (rc == 0) {
        *out = json_loadb(b.data, b.len, 0, NULL);
        if (!*out) rc = LP_EDB;
    }
    lp_buf_fini(&b);
    return rc;
}

const char *const lp_time_filter_names[LP_TIME_FILTERS] = {"created_after", "created_before",
                                                           "updated_after", "updated_before"};
static const char *const time_sql[LP_TIME_FILTERS] = {
    " AND created_at >= ?", " AND created_at < ?", " AND updated_at >= ?", " AND updated_at < ?"};

int lp_task_each(lp_db *db, const lp_task_filter *f, lp_task_fn fn, void *arg, int64_t *next_after)
{
    /* The SQL is assembled from a fixed set of clauses, so there are few
     * distinct texts and each is prepared once per connection.  With a tag
     * the scan walks task_tags(project_id, tag, task_id); otherwise the
     * leading index is (project_id, [status,] id) or (batch_id, id), and the
     * cursor is an id bound, so a page costs the same at any depth. */
    lp_buf sql = {0};
    if (f->tag) /* walk the tag's index in task order: no sort, however many match */
        lp_buf_puts(&sql,
                    "SELECT " TASK_COLS_OF(
                        "t.") " FROM task_tags g JOIN tasks t ON t.id = "
                              "g.task_id WHERE g.project_id = ? AND g.tag = ? AND g.task_id > ? "
                              "AND t.project_id = ?");
    else
        lp_buf_puts(&sql, "SELECT " TASK_COLS " FROM tasks WHERE project_id = ? AND id > ?");
    if (f->batch_id) lp_buf_puts(&sql, " AND batch_id = ?");
    if (f->status) lp_buf_puts(&sql, " AND status = ?");
    if (f->unique_id) lp_buf_puts(&sql, " AND unique_id = ?");
    if (f->no_gold) lp_buf_puts(&sql, " AND status <> 'gold'");
    if (f->reviewed) lp_buf_puts(&sql, " AND status = 'completed' AND review IS NOT NULL");
    if (f->auto_label) lp_buf_puts(&sql, " AND auto_label = ?");
    for (int k = 0; k < LP_TIME_FILTERS; k++)
        if (f->time_set & (1u << k)) lp_buf_puts(&sql, time_sql[k]);
    lp_buf_puts(&sql, f->tag ? " ORDER BY g.task_id LIMIT ?" : " ORDER BY id LIMIT ?");
    lp_stmt *st;
    int rc = lp_db_prepare(db, sql.data, &st);
    lp_buf_fini(&sql);
    if (rc < 0) return rc;
    int i = 1;
    if (f->tag) {
        lp_stmt_bind_int64(st, i++, f->project_id);
        lp_stmt_bind_text(st, i++, f->tag);
        lp_stmt_bind_int64(st, i++, f->after_id);
        lp_stmt_bind_int64(st, i++, f->project_id);
    } else {
        lp_stmt_bind_int64(st, i++, f->project_id);
        lp_stmt_bind_int64(st, i++, f->after_id);
    }
    if (f->batch_id) lp_stmt_bind_int64(st, i++, f->batch_id);
    if (f->status) lp_stmt_bind_text(st, i++, f->status);
    if (f->unique_id) lp_stmt_bind_text(st, i++, f->unique_id);
    if (f->auto_label) lp_stmt_bind_text(st, i++, f->auto_label);
    for (int k = 0; k < LP_TIME_FILTERS; k++)
        if (f->time_set & (1u << k)) lp_stmt_bind_int64(st, i++, f->time[k]);
    lp_stmt_bind_int64(st, i++, f->limit + 1);
    int n = 0;
    int64_t last = 0;
    *next_after = 0;
    lp_buf task = {0};
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        if (n++ == f->limit) {
            *next_after = last;
            break;
        }
        last = lp_stmt_int64(st, 0);
        task.len = 0;
        task_write(&task, st, LP_VIEW_FULL);
        if ((rc = fn(arg, last, task.data, task.len)) != 0) {
            *next_after = last;
            break;
        }
    }
    lp_buf_fini(&task);
    lp_stmt_done(st);
    return rc < 0 ? rc : 0;
}

typedef struct list_out {
    lp_buf *out;
    int n;
} list_out;

/* lp_task_list's lp_task_fn: appends the task to the array being made. */
static int list_append(void *arg, int64_t id, const char *json, size_t n)
{
    (void)id;
    list_out *l = arg;
    if (l->n++) lp_buf_puts(l->out, ",");
    lp_buf_append(l->out, json, n);
    return 0;
}

int lp_task_list(lp_db *db, const lp_task_filter *f, lp_buf *out, int64_t *next_after)
{
    list_out l = {out, 0};
    lp_buf_puts(out, "[");
    int rc = lp_task_each(db, f, list_append, &l, next_after);
    lp_buf_puts(out, "]");
    return rc;
}

int lp_task_set_status(lp_db *db, int64_t id, const char *to, const char *const *refuse,
                       const char **from)
{
    /* Its own transaction only when the caller has none: it writes nothing
     * before its checks pass, so a refusal needs no savepoint. */
    int own = !lp_db_in_tx(db);
    int rc = own ? lp_db_begin(db, LP_TX_WRITE) : 0;
    if (rc < 0) return rc;
    lp_stmt *st;
    int64_t project_id = 0, batch_id = 0;
    const char *old = NULL;
    static const char *const sql[2] = {
        "SELECT project_id, batch_id, status FROM tasks WHERE id = ?",
        "SELECT project_id, batch_id, status FROM tasks WHERE id = ? FOR UPDATE"};
    rc = lp_db_prepare(db, sql[lp_db_row_locks(db)], &st);
    if (rc == 0) {
        lp_stmt_bind_int64(st, 1, id);
        rc = lp_stmt_step(st);
        if (rc == LP_DB_ROW) {
            project_id = lp_stmt_int64(st, 0);
            batch_id = lp_stmt_is_null(st, 1) ? 0 : lp_stmt_int64(st, 1);
            old = status_static(lp_stmt_text(st, 2));
            rc = 0;
        } else if (rc == LP_DB_DONE) {
            rc = LP_ENOTFOUND;
        }
        lp_stmt_done(st);
    }
    if (from) *from = old;
    for (const char *const *r = refuse; rc == 0 && r && *r; r++)
        if (strcmp(*r, old) == 0) rc = LP_ECONFLICT;
    if (rc == 0 && strcmp(old, to) != 0) {
        rc = lp_db_run(db, "UPDATE tasks SET status = ?, updated_at = ? WHERE id = ?", "sii", to,
                       lp_now_ms(), id);
        if (rc == 0) rc = lp_counts_add(db, project_id, batch_id, old, -1);
        if (rc == 0) rc = lp_counts_add(db, project_id, batch_id, to, 1);
    }
    if (!own) return rc;
    if (rc == 0) return lp_db_commit(db);
    lp_db_rollback(db);
    return rc;
}

int lp_task_set_metadata(lp_db *db, int64_t id, const json_t *metadata)
{
    char *md = json_dumps(metadata, LP_JSON_DUMP);
    int rc = lp_db_run(db, "UPDATE tasks SET metadata = ?, updated_at = ? WHERE id = ?", "sii", md,
                       lp_now_ms(), id);
    free(md);
    if (rc == 0 && lp_db_changes(db) == 0) rc = LP_ENOTFOUND;
    return rc;
}

int lp_task_tags(lp_db *db, int64_t id, const json_t *tags, int add, lp_verr *e)
{
    json_t *norm;
    if (norm_tags(tags, "tags", &norm, e)) return LP_EINVAL;
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc < 0) {
        json_decref(norm);
        return rc;
    }
    /* The task's own copy of its tags is the starting set: task_tags is
     * keyed for the tag filter (project, tag, task), not by task. */
    int64_t project_id = 0;
    json_t *have = NULL, *next = json_array();
    lp_stmt *st;
    rc = lp_db_prepare(db, "SELECT project_id, tags FROM tasks WHERE id = ?", &st);
    if (rc == 0) {
        lp_stmt_bind_int64(st, 1, id);
        rc = lp_stmt_step(st);
        if (rc == LP_DB_ROW) {
            project_id = lp_stmt_int64(st, 0);
            have = json_loads(lp_stmt_text(st, 1), 0, NULL);
            rc = 0;
        } else if (rc == LP_DB_DONE) {
            rc = LP_ENOTFOUND;
        }
        lp_stmt_done(st);
    }
    size_t i, k;
    json_t *t, *u;
    json_array_foreach(have, i, t)
    {
        int drop = 0;
        json_array_foreach(norm, k, u) drop |= !add && json_equal(t, u);
        if (!drop) json_array_append(next, t);
    }
    json_array_foreach(norm, i, t)
    {
        if (rc < 0) break;
        const char *tag = json_string_value(t);
        if (add) {
            json_array_append(next, t);
            rc = lp_db_run(db,
                           "INSERT INTO task_tags (task_id, project_id, tag) VALUES (?, ?, ?) "
                           "ON CONFLICT (project_id, tag, task_id) DO NOTHING",
                           "iis", id, project_id, tag);
        } else {
            rc = lp_db_run(db,
                           "DELETE FROM task_tags WHERE project_id = ? AND tag = ? AND task_id = ?",
                           "isi", project_id, tag, id);
        }
    }
    json_t *sorted = NULL;
    if (rc == 0 && json_array_size(next) > 100) /* more than any two valid sets */
        rc = lp_verr_set(e, "tags", "a task has at most 50 tags");
    if (rc == 0 && norm_tags(next, "tags", &sorted, e) < 0) /* sorts, drops repeats */
        rc = lp_verr_set(e, "tags", "a task has at most 50 tags");
    if (rc == 0) {
        char *s2 = json_dumps(sorted, LP_JSON_DUMP);
        rc = lp_db_run(db, "UPDATE tasks SET tags = ?, updated_at = ? WHERE id = ?", "sii", s2,
                       lp_now_ms(), id);
        free(s2);
    }
    json_decref(sorted);
    json_decref(next);
    json_decref(have);
    json_decref(norm);
    if (rc == 0) return lp_db_commit(db);
    lp_db_rollback(db);
    return rc;
}
