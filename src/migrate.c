/* migrate.c -- the steps in C of some migrations (schema.h): what SQL
 * cannot say the same way on SQLite and PostgreSQL, or not in one pass.
 * Each walks a table by id in pages, so that no statement runs long (the
 * PostgreSQL driver's statement timeout) and memory stays flat. */
#include "schema.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "files.h"
#include "kind.h"
#include "queue.h"
#include "tasks.h"
#include "util.h"

#define PAGE 1000

/* Calls fn(db, id, project_id, a, b) for each task, with the text of the
 * two columns cols names ("attachments, data"). */
static int each_task(lp_db *db, const char *sql,
                     int (*fn)(lp_db *db, int64_t id, int64_t project_id, const char *a,
                               const char *b))
{
    int64_t after = 0;
    for (;;) {
        int64_t ids[PAGE], pids[PAGE];
        char *a[PAGE], *b[PAGE];
        int n = 0;
        lp_stmt *st;
        int rc = lp_db_prepare(db, sql, &st);
        if (rc < 0) return rc;
        lp_stmt_bind_int64(st, 1, after);
        lp_stmt_bind_int64(st, 2, PAGE);
        while (n < PAGE && (rc = lp_stmt_step(st)) == LP_DB_ROW) {
            ids[n] = lp_stmt_int64(st, 0);
            pids[n] = lp_stmt_int64(st, 1);
            a[n] = lp_strdup(lp_stmt_is_null(st, 2) ? "" : lp_stmt_text(st, 2));
            b[n] = lp_strdup(lp_stmt_is_null(st, 3) ? "" : lp_stmt_text(st, 3));
            n++;
        }
        lp_stmt_done(st);
        for (int i = 0; i < n; i++) {
            if (rc >= 0) rc = fn(db, ids[i], pids[i], a[i], b[i]);
            free(a[i]);
            free(b[i]);
        }
        if (rc < 0) return rc;
        if (n < PAGE) return 0;
        after = ids[n - 1];
    }
}

/* 13: links each file a task names to the task's project. */
static int link_task(lp_db *db, int64_t id, int64_t project_id, const char *attachments,
                     const char *data)
{
    (void)id;
    json_t *arr = json_loads(attachments, 0, NULL);
    size_t i;
    json_t *at;
    int rc = 0;
    json_array_foreach(arr, i, at)
    {
        const char *sha = json_string_value(json_object_get(at, "file"));
        if (sha && rc == 0) rc = lp_file_link(db, sha, project_id, 0, 0);
    }
    json_decref(arr);
    if (rc == 0) rc = lp_file_link_urls(db, attachments, strlen(attachments), project_id, 0, 0);
    if (rc == 0) rc = lp_file_link_urls(db, data, strlen(data), project_id, 0, 0);
    return rc;
}

static int link_existing(lp_db *db)
{
    int64_t any = 0;
    int rc = lp_db_int64(db, &any, "SELECT 1 FROM files LIMIT 1", NULL);
    if (rc == LP_ENOTFOUND) return 0; /* no file: nothing to link */
    if (rc < 0) return rc;
    return each_task(db,
                     "SELECT id, project_id, attachments, data FROM tasks WHERE id > ? "
                     "ORDER BY id LIMIT ?",
                     link_task);
}

/* 14: each task's uncertainty from the predictions it has. */
static int task_uncertainty(lp_db *db, int64_t id, int64_t project_id, const char *predictions,
                            const char *unused)
{
    (void)project_id, (void)unused;
    json_t *preds = json_loads(predictions, 0, NULL);
    double u = lp_task_uncertainty(preds, LP_MEASURE_LEAST_CONFIDENCE); /* (every project's) */
    json_decref(preds);
    if (u >= 1) return 0; /* the column's default */
    return lp_db_run(db, "UPDATE tasks SET uncertainty = ? WHERE id = ?", "di", u, id);
}

static int set_uncertainties(lp_db *db)
{
    return each_task(db,
                     "SELECT id, project_id, predictions, NULL FROM tasks WHERE id > ? AND "
                     "predictions IS NOT NULL AND predictions <> '[]' ORDER BY id LIMIT ?",
                     task_uncertainty);
}

/* 15: each task's disagreement from the annotations it has (tasks with
 * two or more; the project's kind and params read as of this version,
 * not through lp_project_get, which reads the columns of later ones). */
static int64_t dis_project;
static const lp_kind *dis_kind;
static json_t *dis_params;

static int task_disagreement(lp_db *db, int64_t id, int64_t project_id, const char *unused1,
                             const char *unused2)
{
    (void)unused1, (void)unused2;
    if (project_id != dis_project) {
        lp_stmt *st;
        int rc = lp_db_prepare(db, "SELECT kind, params FROM projects WHERE id = ?", &st);
        if (rc < 0) return rc;
        lp_stmt_bind_int64(st, 1, project_id);
        json_decref(dis_params);
        dis_params = NULL;
        dis_kind = NULL;
        if (lp_stmt_step(st) == LP_DB_ROW) {
            dis_kind = lp_kind_find(lp_stmt_text(st, 0));
            dis_params = json_loads(lp_stmt_text(st, 1), 0, NULL);
        }
        lp_stmt_done(st);
        dis_project = project_id;
    }
    if (!dis_kind) return 0; /* a kind unknown to this binary: left at 0 */
    return lp_queue_set_disagreement(db, dis_kind, dis_params, id);
}

static int set_disagreements(lp_db *db)
{
    dis_project = 0;
    int rc = each_task(db,
                       "SELECT id, project_id, NULL, NULL FROM tasks WHERE id > ? AND done >= 2 "
                       "AND status <> 'gold' ORDER BY id LIMIT ?",
                       task_disagreement);
    json_decref(dis_params);
    dis_params = NULL;
    dis_kind = NULL;
    dis_project = 0;
    return rc;
}

const lp_migration_step lp_migration_steps[] = {
    {13, link_existing},
    {14, set_uncertainties},
    {16, set_disagreements},
};
const size_t lp_migration_step_count = LP_ARRAY_LEN(lp_migration_steps);
