/* test_copy.c -- copying an installation to another database (copy.c):
 * the table list covers the schema in dependency order, a copy keeps every
 * row and id, verification finds a changed, cleared or missing row, and a
 * target that holds data is refused.  SQLite to SQLite always; SQLite to
 * PostgreSQL and back when LOUPE_TEST_PG_URL is set. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy.h"
#include "db.h"
#include "test.h"
#include "util.h"

#define NTASKS 5200 /* more than a page (1000) and a target transaction (5000) */

static lp_db *open_url(const char *url)
{
    lp_db *db = NULL;
    char *err = NULL;
    if (lp_db_open(url, &db, &err) < 0) fprintf(stderr, "open %s: %s\n", url, err);
    free(err);
    return db;
}

static lp_db *open_sqlite(const char *dir, const char *name)
{
    char url[512];
    snprintf(url, sizeof url, "sqlite:%s/%s", dir, name);
    return open_url(url);
}

/* A small installation with a row in every table: ids with gaps, NULLs
 * next to empty strings, doubles that print long, non-ASCII text, and
 * task_tags (a text key) over several pages. */
static int fill(lp_db *db)
{
    int rc = lp_db_migrate(db);
    if (rc == 0) rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc == 0)
        rc = lp_db_exec(
            db,
            "INSERT INTO users (id, email, name, role, password_hash, disabled, created_at) VALUES"
            " (1, 'a@x.io', 'Ann', 'admin', NULL, 0, 1000),"
            " (7, 'b@x.io', '', 'member', '$argon2id$v=19$x', 0, 1001),"
            " (9, 'z@x.io', 'Zoë \xf0\x9f\x9a\x80 \"q\" ''s''', 'member', '', 1, 1002);"
            "INSERT INTO api_keys (id, user_id, key_hash, prefix, name, created_at, revoked_at)"
            " VALUES (3, 1, 'h1', 'lpk_ab', 'ci', 1000, NULL), (4, 7, 'h2', 'lpk_cd', '', 1000, 5);"
            "INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at)"
            " VALUES (2, 7, 't1', 1000, 99999);"
            "INSERT INTO projects (id, name, kind, params, overlap, gold_rate, min_gold_accuracy,"
            " created_by, created_at, updated_at, callback_url) VALUES"
            " (5, 'P', 'categorization', '{\"labels\":[\"a\",\"b\"]}', 3, 0.1, 0.3333333333333333,"
            "  1, 1000, 1000, 'http://cb.test/x'),"
            " (6, 'Q', 'categorization', '{}', 1, 1e-300, -0.0, NULL, 1000, 1000, NULL);"
            "INSERT INTO project_members (project_id, user_id, role, paused_at, pause_reason)"
            " VALUES (5, 7, 'annotator', NULL, NULL), (5, 9, 'annotator', 2000, 'low accuracy'),"
            " (6, 7, 'reviewer', NULL, '');"
            "INSERT INTO batches (id, project_id, name, status, created_at, updated_at)"
            " VALUES (2, 5, 'b1', 'open', 1000, 1000);"
            "INSERT INTO files (sha256, size, content_type, filename, uploaded_by, created_at)"
            " VALUES ('ab12', 10, 'image/png', 'x.png', 1, 1000),"
            " ('ff00', 0, 'text/plain', '', NULL, 1001);"
            "INSERT INTO file_projects (sha256, project_id) VALUES ('ab12', 5), ('ab12', 6);"
            "INSERT INTO file_uploaders (sha256, user_id) VALUES ('ab12', 1), ('ab12', 7);");
    lp_stmt *st = NULL, *tag = NULL;
    if (rc == 0)
        rc =
            lp_db_prepare(db,
                          "INSERT INTO tasks (id, project_id, batch_id, unique_id, status, data,"
                          " tags, created_at, updated_at) VALUES (?, 5, ?, ?, ?, ?, ?, 1000, 1000)",
                          &st);
    if (rc == 0)
        rc = lp_db_prepare(db, "INSERT INTO task_tags (task_id, project_id, tag) VALUES (?, 5, ?)",
                           &tag);
    static const char *const tags[] = {"night", "Night", "day", "dusk_2", "été", "a b"};
    for (int i = 0; rc == 0 && i < NTASKS; i++) {
        char uid[32], data[64], tj[64];
        snprintf(uid, sizeof uid, "u-%d", i);
        snprintf(data, sizeof data, "{\"i\":%d,\"s\":\"caf\xc3\xa9\"}", i);
        snprintf(tj, sizeof tj, "[\"%s\"]", tags[i % 6]);
        lp_stmt_bind_int64(st, 1, 10 + 2 * i);
        if (i % 3) lp_stmt_bind_int64(st, 2, 2);
        if (i % 5) lp_stmt_bind_text(st, 3, uid);
        lp_stmt_bind_text(st, 4, i < 10 ? "completed" : "pending");
        lp_stmt_bind_text(st, 5, data);
        lp_stmt_bind_text(st, 6, tj);
        rc = lp_stmt_step(st);
        lp_stmt_reset(st);
        if (rc == 0) {
            lp_stmt_bind_int64(tag, 1, 10 + 2 * i);
            lp_stmt_bind_text(tag, 2, tags[i % 6]);
            rc = lp_stmt_step(tag);
            lp_stmt_reset(tag);
        }
    }
    if (st) lp_stmt_done(st);
    if (tag) lp_stmt_done(tag);
    if (rc == 0)
        rc = lp_db_exec(
            db,
            "INSERT INTO project_counts (project_id, status, n)"
            " SELECT project_id, status, COUNT(*) FROM tasks GROUP BY project_id, status;"
            "INSERT INTO batch_counts (batch_id, status, n) SELECT batch_id, status, COUNT(*)"
            " FROM tasks WHERE batch_id IS NOT NULL GROUP BY batch_id, status;"
            "INSERT INTO assignments (id, task_id, project_id, user_id, status, expires_at, draft,"
            " created_at, updated_at, kind, level) VALUES"
            " (1, 10, 5, 7, 'submitted', 0, NULL, 1000, 1000, 'annotate', 0),"
            " (4, 12, 5, 9, 'active', 99999, '{\"labels\":[]}', 1000, 1000, 'review', 1);"
            "INSERT INTO annotations (id, annotation_id, assignment_id, task_id, project_id,"
            " user_id, response, status, created_at, score) VALUES"
            " (1, 'a-1', 1, 10, 5, 7, '{\"labels\":[\"a\"]}', 'accepted', 1000, "
            "0.6666666666666666),"
            " (2, 'a-2', 1, 10, 5, 7, '{}', 'refused', 1001, NULL);"
            "INSERT INTO result_versions (id, task_id, response, source, user_id, created_at)"
            " VALUES (1, 10, '{\"labels\":[\"a\"]}', 'aggregate', NULL, 1000);"
            "INSERT INTO webhooks (id, project_id, url, secret, events, created_by, created_at)"
            " VALUES (1, 5, 'http://hook.test', 'whsec_x', '[\"task.completed\"]', 1, 1000);"
            "INSERT INTO deliveries (id, message_id, event, project_id, webhook_id, url, secret,"
            " payload, status, next_at, created_at) VALUES (1, 'msg_1', 'task.completed', 5, 1,"
            " 'http://hook.test', 'whsec_x', '{\"a\":1}', 'pending', 1000, 1000);"
            "INSERT INTO delivery_attempts (id, delivery_id, at, http_status, error, duration_ms)"
            " VALUES (1, 1, 1000, 500, 'Internal\nError', 12), (2, 1, 2000, NULL, NULL, 0);"
            "INSERT INTO audit_log (id, at, user_id, key_id, address, method, route, path,"
            " project_id, object_id, status, detail) VALUES (1, 1000, 1, 3, '127.0.0.1', 'POST',"
            " '/v1/projects', '/v1/projects', 5, 5, 201, '{\"fields\":[\"name\"]}'),"
            " (2, 1001, NULL, NULL, '::1', 'POST', '/v1/sessions', '/v1/sessions', NULL, NULL,"
            " 401, '{\"email\":\"z\u00eb@x.io\"}');"
            "INSERT INTO ml_backends (project_id, config, model_version, last_error, created_at,"
            " updated_at) VALUES (5, '{\"url\":\"http://ml.test\"}', 'v1', NULL, 1000, 1000);"
            "INSERT INTO ml_queue (project_id, task_id, state, attempts, error) VALUES"
            " (5, 1, 'failed', 3, 'HTTP 500');"
            "INSERT INTO model_endpoints (id, name, base_url, model, api_key, params, created_at,"
            " updated_at) VALUES (2, 'gpt', 'http://llm.test/v1', 'm-1', 'v1.abc',"
            " '{\"temperature\":0.5}', 1000, 1000);"
            "INSERT INTO prompt_sets (id, name, created_by, created_at) VALUES (3, 'ps', 1, 1000);"
            "INSERT INTO prompts (id, set_id, unique_id, messages, reference, created_at) VALUES"
            " (4, 3, 'q1', '[{\"role\":\"user\",\"content\":\"hi\"}]', '[\"yo\"]', 1000);"
            "INSERT INTO generations (id, set_id, endpoints, created_at, updated_at) VALUES"
            " (5, 3, '[2]', 1000, 1000);"
            "INSERT INTO gen_outputs (id, generation_id, prompt_id, endpoint_id, state, content,"
            " latency_ms, f1) VALUES (6, 5, 4, 2, 'done', 'yo', 12, 0.5);"
            "INSERT INTO task_outputs (task_id, response_id, output_id, model, position) VALUES"
            " (10, 'o6', 6, 'm-1', 0);"
            "INSERT INTO chat_turns (id, assignment_id, task_id, project_id, user_id, turn, prompt,"
            " content, model, latency_ms, error, created_at) VALUES (7, 1, 10, 5, 7, 1,"
            " '[{\"role\":\"user\",\"content\":\"hi\"}]', 'no', 'm-1', 9, NULL, 1000);");
    if (rc == 0)
        rc = lp_db_commit(db);
    else
        lp_db_rollback(db);
    if (rc < 0) fprintf(stderr, "fill: %s\n", lp_db_errmsg(db));
    return rc;
}

/* Prepares, copies and verifies src into dst; 0 when every table is equal. */
static int copy_all(lp_db *src, lp_db *dst, lp_copy_result *res)
{
    char *err = NULL;
    int rc = lp_copy_prepare(src, dst, 1, &err);
    if (rc == 0) rc = lp_copy_run(src, dst, NULL, NULL, &err);
    if (rc == 0) rc = lp_copy_verify(src, dst, res, &err);
    if (rc < 0) fprintf(stderr, "copy: %s\n", err);
    free(err);
    return rc;
}

static int is_listed(const char *name)
{
    for (size_t i = 0; i < lp_copy_table_count; i++)
        if (!strcmp(lp_copy_tables[i].name, name)) return (int)i;
    for (size_t i = 0; lp_copy_skipped[i]; i++)
        if (!strcmp(lp_copy_skipped[i], name)) return -2;
    return -1;
}

/* The list in copy.c is the schema: a migration that adds a table must add
 * it there, after the tables it references, with its primary key. */
TEST(copy_tables_list_every_table_of_the_schema_in_dependency_order)
{
    lp_db *db = open_sqlite(lp_test_tmpdir(), "s.db");
    CHECK(db != NULL);
    CHECK_INT(lp_db_migrate(db), 0);
    lp_stmt *st;
    CHECK_INT(lp_db_prepare(db,
                            "SELECT name FROM sqlite_master WHERE type = 'table'"
                            " AND name NOT LIKE 'sqlite_%' ORDER BY name",
                            &st),
              0);
    int seen = 0;
    while (lp_stmt_step(st) == LP_DB_ROW) {
        const char *name = lp_stmt_text(st, 0);
        if (is_listed(name) == -1) {
            lp_test_fail(__FILE__, __LINE__, "table %s is in the schema but not in lp_copy_tables",
                         name);
            lp_stmt_done(st);
            return;
        }
        if (is_listed(name) >= 0) seen++;
    }
    lp_stmt_done(st);
    CHECK_INT(seen, lp_copy_table_count);
    for (size_t i = 0; i < lp_copy_table_count; i++) {
        const lp_copy_table *t = &lp_copy_tables[i];
        /* the key is the primary key, in its order */
        lp_buf pk = {0};
        CHECK_INT(lp_db_prepare(
                      db, "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", &st),
                  0);
        lp_stmt_bind_text(st, 1, t->name);
        while (lp_stmt_step(st) == LP_DB_ROW) {
            if (pk.len) lp_buf_puts(&pk, ",");
            lp_buf_puts(&pk, lp_stmt_text(st, 0));
        }
        lp_stmt_done(st);
        CHECK_STR(pk.data ? pk.data : "", t->key);
        lp_buf_fini(&pk);
        /* every table it references comes before it */
        CHECK_INT(lp_db_prepare(db, "SELECT \"table\" FROM pragma_foreign_key_list(?)", &st), 0);
        lp_stmt_bind_text(st, 1, t->name);
        while (lp_stmt_step(st) == LP_DB_ROW) {
            int j = is_listed(lp_stmt_text(st, 0));
            if (j < 0 || j >= (int)i) {
                lp_test_fail(__FILE__, __LINE__, "%s references %s, which is not listed before it",
                             t->name, lp_stmt_text(st, 0));
                lp_stmt_done(st);
                return;
            }
        }
        lp_stmt_done(st);
    }
    lp_db_close(db);
}

TEST(copy_sqlite_to_sqlite_keeps_every_row_and_id)
{
    const char *dir = lp_test_tmpdir();
    lp_db *src = open_sqlite(dir, "a.db"), *dst = open_sqlite(dir, "b.db");
    CHECK(src && dst);
    CHECK_INT(fill(src), 0);
    lp_copy_result res[64];
    CHECK(lp_copy_table_count <= 64);
    CHECK_INT(copy_all(src, dst, res), 0);
    for (size_t i = 0; i < lp_copy_table_count; i++) {
        CHECK(res[i].ok);
        CHECK(res[i].src.rows > 0); /* the fixture fills every table */
    }
    int64_t n = 0, sum = 0;
    CHECK_INT(lp_db_int64(dst, &n, "SELECT COUNT(*) FROM tasks", NULL), 0);
    CHECK_INT(n, NTASKS);
    CHECK_INT(lp_db_int64(dst, &sum, "SELECT SUM(id) FROM tasks", NULL), 0);
    CHECK_INT(sum, (int64_t)NTASKS * 10 + (int64_t)NTASKS * (NTASKS - 1));
    CHECK_INT(lp_db_int64(dst, &n, "SELECT COUNT(*) FROM task_tags", NULL), 0);
    CHECK_INT(n, NTASKS);
    CHECK_INT(lp_db_int64(dst, &n, "SELECT user_id FROM api_keys WHERE id = 4", NULL), 0);
    CHECK_INT(n, 7);
    /* NULL stays NULL and '' stays '' */
    CHECK_INT(lp_db_int64(dst, &n, "SELECT COUNT(*) FROM users WHERE password_hash IS NULL", NULL),
              0);
    CHECK_INT(n, 1);
    CHECK_INT(lp_db_int64(dst, &n, "SELECT id FROM users WHERE password_hash = ''", NULL), 0);
    CHECK_INT(n, 9);
    lp_stmt *st;
    CHECK_INT(lp_db_prepare(dst,
                            "SELECT gold_rate, min_gold_accuracy, name FROM projects"
                            " ORDER BY id",
                            &st),
              0);
    CHECK_INT(lp_stmt_step(st), LP_DB_ROW);
    CHECK(lp_stmt_double(st, 0) == 0.1);
    CHECK(lp_stmt_double(st, 1) == 0.3333333333333333);
    CHECK_INT(lp_stmt_step(st), LP_DB_ROW);
    CHECK(lp_stmt_double(st, 0) == 1e-300);
    lp_stmt_done(st);
    CHECK_INT(lp_db_prepare(dst, "SELECT name FROM users WHERE id = 9", &st), 0);
    CHECK_INT(lp_stmt_step(st), LP_DB_ROW);
    CHECK_STR(lp_stmt_text(st, 0), "Zoë \xf0\x9f\x9a\x80 \"q\" 's'");
    lp_stmt_done(st);
    /* a new row takes the next id */
    int64_t id = 0;
    CHECK_INT(lp_db_int64(dst, &id,
                          "INSERT INTO users (email, role, created_at) VALUES ('n@x.io', 'member',"
                          " 1) RETURNING id",
                          NULL),
              0);
    CHECK_INT(id, 10);
    /* the same checksum as computed table by table */
    lp_copy_sum a, b;
    char *err = NULL;
    CHECK_INT(lp_copy_checksum(src, "task_tags", &a, &err), 0);
    CHECK_INT(lp_copy_checksum(dst, "task_tags", &b, &err), 0);
    CHECK_INT(a.rows, NTASKS);
    CHECK(!memcmp(a.sum, b.sum, sizeof a.sum));
    CHECK(!memcmp(a.sum, res[7].src.sum, sizeof a.sum) && !strcmp(res[7].table, "task_tags"));
    lp_db_close(src);
    lp_db_close(dst);
}

/* Runs verification and checks that exactly the table named differs. */
static int only_differs(lp_db *src, lp_db *dst, const char *table)
{
    lp_copy_result res[64];
    char *err = NULL;
    int rc = lp_copy_verify(src, dst, res, &err);
    int ok = rc == LP_ECONFLICT && err && strstr(err, table);
    if (!ok) fprintf(stderr, "verify: %d %s\n", rc, err ? err : "");
    for (size_t i = 0; ok && i < lp_copy_table_count; i++)
        if (res[i].ok != (strcmp(res[i].table, table) != 0)) {
            fprintf(stderr, "table %s ok=%d\n", res[i].table, res[i].ok);
            ok = 0;
        }
    free(err);
    return ok;
}

TEST(copy_verify_finds_a_changed_cleared_or_missing_row)
{
    const char *dir = lp_test_tmpdir();
    lp_db *src = open_sqlite(dir, "a.db"), *dst = open_sqlite(dir, "b.db");
    CHECK(src && dst);
    CHECK_INT(fill(src), 0);
    lp_copy_result res[64];
    CHECK_INT(copy_all(src, dst, res), 0);
    /* one byte of one task's data */
    CHECK_INT(lp_db_exec(dst, "UPDATE tasks SET data = '{\"i\":2,\"s\":\"cafe\"}' WHERE id = 14"),
              0);
    CHECK(only_differs(src, dst, "tasks"));
    CHECK_INT(lp_db_exec(dst, "UPDATE tasks SET data = '{\"i\":2,\"s\":\"caf\xc3\xa9\"}'"
                              " WHERE id = 14"),
              0);
    char *err = NULL;
    CHECK_INT(lp_copy_verify(src, dst, res, &err), 0);
    /* NULL against '' */
    CHECK_INT(lp_db_exec(dst, "UPDATE users SET password_hash = '' WHERE id = 1"), 0);
    CHECK(only_differs(src, dst, "users"));
    CHECK_INT(lp_db_exec(dst, "UPDATE users SET password_hash = NULL WHERE id = 1"), 0);
    /* the last digit of a double */
    CHECK_INT(lp_db_exec(dst, "UPDATE annotations SET score = 0.6666666666666667 WHERE id = 1"), 0);
    CHECK(only_differs(src, dst, "annotations"));
    CHECK_INT(lp_db_exec(dst, "UPDATE annotations SET score = 0.6666666666666666 WHERE id = 1"), 0);
    /* a missing row, in a table keyed by text */
    CHECK_INT(lp_db_exec(dst, "DELETE FROM task_tags WHERE task_id = 20"), 0);
    CHECK(only_differs(src, dst, "task_tags"));
    int rc = lp_copy_verify(src, dst, res, &err);
    free(err);
    CHECK_INT(rc, LP_ECONFLICT);
    CHECK_INT(res[7].src.rows, NTASKS);
    CHECK_INT(res[7].dst.rows, NTASKS - 1);
    lp_db_close(src);
    lp_db_close(dst);
}

TEST(copy_refuses_a_target_with_data_and_a_source_without_a_database)
{
    const char *dir = lp_test_tmpdir();
    lp_db *src = open_sqlite(dir, "a.db"), *dst = open_sqlite(dir, "b.db");
    CHECK(src && dst);
    CHECK_INT(fill(src), 0);
    CHECK_INT(lp_db_migrate(dst), 0);
    CHECK_INT(lp_db_exec(dst, "INSERT INTO users (email, role, created_at) VALUES ('x@x.io',"
                              " 'admin', 1)"),
              0);
    char *err = NULL;
    CHECK_INT(lp_copy_prepare(src, dst, 1, &err), LP_EEXISTS);
    CHECK(err && strstr(err, "users"));
    free(err);
    /* --verify-only compares a target that holds data */
    CHECK_INT(lp_copy_prepare(src, dst, 0, &err), 0);
    lp_db_close(dst);
    /* an empty database is no source */
    lp_db *empty = open_sqlite(dir, "empty.db");
    lp_db *other = open_sqlite(dir, "c.db");
    CHECK(empty && other);
    CHECK_INT(lp_copy_prepare(empty, other, 1, &err), LP_ENOTFOUND);
    CHECK(err && strstr(err, "no Loupe database"));
    free(err);
    lp_db_close(empty);
    lp_db_close(other);
    /* a source path that does not exist is not created */
    char url[512], path[512];
    snprintf(path, sizeof path, "%s/missing.db", dir);
    snprintf(url, sizeof url, "sqlite:%s", path);
    lp_db *db = NULL;
    CHECK(lp_copy_open(url, 1, &db, &err) < 0);
    CHECK(db == NULL && err && strstr(err, "missing.db"));
    free(err);
    struct stat sb;
    CHECK(stat(path, &sb) != 0);
    lp_db_close(src);
}

/* SQLite to a PostgreSQL schema of its own and back to SQLite: the same
 * checksums all the way, and PostgreSQL's generated ids go on after the
 * copied ones. */
TEST(copy_sqlite_to_postgres_and_back)
{
    const char *pg = getenv("LOUPE_TEST_PG_URL");
    if (!pg) return;
    const char *dir = lp_test_tmpdir();
    char schema[64], url[1024];
    snprintf(schema, sizeof schema, "copy_test_%d", (int)getpid());
    lp_db *admin = open_url(pg);
    CHECK(admin != NULL);
    char *sql = lp_sprintf("DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema, schema);
    CHECK_INT(lp_db_exec(admin, sql), 0);
    free(sql);
    snprintf(url, sizeof url, "%s%coptions=-csearch_path%%3D%s", pg, strchr(pg, '?') ? '&' : '?',
             schema);
    lp_db *a = open_sqlite(dir, "a.db"), *p = open_url(url), *b = open_sqlite(dir, "b.db");
    CHECK(a && p && b);
    CHECK_INT(fill(a), 0);
    lp_copy_result r1[64], r2[64];
    CHECK_INT(copy_all(a, p, r1), 0);
    CHECK_INT(copy_all(p, b, r2), 0);
    for (size_t i = 0; i < lp_copy_table_count; i++) {
        CHECK(r1[i].ok && r2[i].ok);
        CHECK(!memcmp(r1[i].src.sum, r2[i].dst.sum, sizeof r1[i].src.sum));
    }
    int64_t id = 0;
    CHECK_INT(lp_db_int64(p, &id,
                          "INSERT INTO tasks (project_id, status, created_at, updated_at)"
                          " VALUES (5, 'pending', 1, 1) RETURNING id",
                          NULL),
              0);
    CHECK_INT(id, 10 + 2 * (NTASKS - 1) + 1);
    CHECK_INT(lp_db_int64(p, &id,
                          "INSERT INTO users (email, role, created_at) VALUES ('n@x.io', 'member',"
                          " 1) RETURNING id",
                          NULL),
              0);
    CHECK_INT(id, 10);
    lp_db_close(a);
    lp_db_close(p);
    lp_db_close(b);
    sql = lp_sprintf("DROP SCHEMA %s CASCADE", schema);
    lp_db_exec(admin, sql);
    free(sql);
    lp_db_close(admin);
}

/* A row the target refuses stops the copy with the table and the row
 * named, the target's open transaction rolled back. */
TEST(copy_names_the_table_and_row_the_target_refuses)
{
    const char *dir = lp_test_tmpdir();
    lp_db *src = open_sqlite(dir, "a.db"), *dst = open_sqlite(dir, "b.db");
    CHECK(src && dst);
    CHECK_INT(fill(src), 0);
    CHECK_INT(lp_db_migrate(dst), 0);
    CHECK_INT(lp_db_exec(dst, "CREATE TRIGGER no_task BEFORE INSERT ON tasks WHEN NEW.id = 2020"
                              " BEGIN SELECT RAISE(ABORT, 'task 2020 refused'); END"),
              0);
    char *err = NULL;
    CHECK_INT(lp_copy_prepare(src, dst, 1, &err), 0);
    CHECK(lp_copy_run(src, dst, NULL, NULL, &err) < 0);
    CHECK(err && strstr(err, "writing tasks") && strstr(err, "task 2020 refused"));
    free(err);
    CHECK(!lp_db_in_tx(dst) && !lp_db_in_tx(src));
    int64_t n = -1;
    CHECK_INT(lp_db_int64(dst, &n, "SELECT COUNT(*) FROM tasks", NULL), 0);
    CHECK_INT(n, 0); /* the first transaction of tasks was rolled back */
    CHECK_INT(lp_db_int64(dst, &n, "SELECT COUNT(*) FROM users", NULL), 0);
    CHECK_INT(n, 3); /* the tables before it were committed */
    lp_db_close(src);
    lp_db_close(dst);
}

/* SQLite lets a text primary key be NULL.  NULLs sort first, so a page
 * of them ends with a key the next page cannot start after: the rows the
 * walk misses would be missing from the copy and from both checksums, so
 * verification holds the walk against COUNT(*) and says so. */
TEST(copy_verify_refuses_rows_its_key_cannot_reach)
{
    const char *dir = lp_test_tmpdir();
    lp_db *src = open_sqlite(dir, "a.db"), *dst = open_sqlite(dir, "b.db");
    CHECK(src && dst);
    CHECK_INT(fill(src), 0);
    CHECK_INT(lp_db_exec(src, "INSERT INTO files (sha256, size, content_type, created_at)"
                              " SELECT NULL, id, 'x/y', 1 FROM tasks LIMIT 1001"),
              0);
    lp_copy_result res[64];
    char *err = NULL;
    CHECK_INT(lp_copy_prepare(src, dst, 1, &err), 0);
    CHECK_INT(lp_copy_run(src, dst, NULL, NULL, &err), 0);
    CHECK_INT(lp_copy_verify(src, dst, res, &err), LP_EINVAL);
    CHECK(err && strstr(err, "files in the source has 1003 rows") && strstr(err, "NULL"));
    free(err);
    lp_db_close(src);
    lp_db_close(dst);
}
