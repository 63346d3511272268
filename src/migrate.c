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
    double u = lp_task_uncertainty(preds);
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

const lp_migration_step lp_migration_steps[] = {
    {13, link_existing},
    {14, set_uncertainties},
};
const size_t lp_migration_step_count = LP_ARRAY_LEN(lp_migration_steps);
