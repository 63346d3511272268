/* test_db.c -- the database conformance suite.  Every check runs through
 * the driver-independent interface (db.h) against a URL, so each backend
 * runs the same suite: SQLite always, PostgreSQL when LOUPE_TEST_PG_URL is
 * set (the PostgreSQL issue's test command sets it). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "db.h"
#include "files.h"
#include "schema.h"
#include "test.h"
#include "util.h"

/* Opens a fresh database for a suite: a new SQLite file, or the PostgreSQL
 * URL with the tables dropped. */
static lp_db *fresh(const char *scheme)
{
    lp_db *db = NULL;
    char *err = NULL;
    if (!strcmp(scheme, "sqlite")) {
        char url[512];
        snprintf(url, sizeof url, "sqlite:%s/t.db", lp_test_tmpdir());
        lp_db_open(url, &db, &err);
    } else {
        const char *url = getenv("LOUPE_TEST_PG_URL");
        if (!url) return NULL;
        lp_db_open(url, &db, &err);
        if (db) lp_db_exec(db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
    }
    if (err) fprintf(stderr, "open: %s\n", err);
    free(err);
    return db;
}

static const char *schemes[] = {"sqlite", "postgres"};

#define EACH_BACKEND(...)                                                \
    for (size_t bi = 0; bi < sizeof schemes / sizeof schemes[0]; bi++) { \
        lp_db *db = fresh(schemes[bi]);                                  \
        if (!db && bi > 0) continue;                                     \
        CHECK(db != NULL);                                               \
        __VA_ARGS__;                                                     \
        lp_db_close(db);                                                 \
    }

TEST(db_migrate_is_idempotent){EACH_BACKEND({
    int v = -1;
    CHECK_INT(lp_db_migrate(db), 0);
    CHECK_INT(lp_db_schema_version(db, &v), 0);
    CHECK(v >= 1);
    CHECK_INT(lp_db_migrate(db), 0); /* a second start applies nothing */
    int v2 = -1;
    lp_db_schema_version(db, &v2);
    CHECK_INT(v2, v);
    int64_t n = -1;
    CHECK_INT(lp_db_int64(db, &n, "SELECT COUNT(*) FROM schema_version", NULL), 0);
    CHECK_INT(n, (int64_t)lp_migration_count); /* (versions may skip a number) */
})}

/* Migration 10 gives every project that exists when it runs its own
 * export key ({random_key}: 64 hex digits, new for each row), as a
 * database upgraded from before it needs for pseudonymous exports. */
TEST(db_migration_gives_existing_projects_their_own_export_key){EACH_BACKEND({
    CHECK_INT(lp_db_migrate(db), 0);
    for (int i = 0; i < 3; i++)
        CHECK_INT(lp_db_run(db,
                            "INSERT INTO projects (name, kind, params, created_at, updated_at) "
                            "VALUES ('p', 'categorization', '{}', 0, 0)",
                            NULL),
                  0);
    /* back to before migration 10: undo it and every later one */
    CHECK_INT(lp_db_exec(db, "ALTER TABLE projects DROP COLUMN export_secret;"
                             "ALTER TABLE api_keys DROP COLUMN scope;"
                             "ALTER TABLE api_keys DROP COLUMN project_id;"
                             "DROP TABLE audit_log;"
                             "DROP TABLE file_projects;"
                             "DROP TABLE file_uploaders;"
                             "DROP INDEX tasks_disputed;"
                             "ALTER TABLE tasks DROP COLUMN disagreement;"
                             "ALTER TABLE projects DROP COLUMN uncertainty_measure;"
                             "DROP INDEX tasks_uncertain;"
                             "ALTER TABLE tasks DROP COLUMN uncertainty;"
                             "DROP TABLE ml_queue;"
                             "DROP TABLE ml_backends;"
                             "ALTER TABLE projects DROP COLUMN auto_label;"
                             "ALTER TABLE tasks DROP COLUMN auto_label;"
                             "DROP TABLE worker_leases;"
                             "DROP TABLE task_outputs;"
                             "DROP TABLE gen_outputs;"
                             "DROP TABLE generations;"
                             "DROP TABLE prompts;"
                             "DROP TABLE prompt_sets;"
                             "DROP TABLE model_endpoints;"
                             "DROP TABLE chat_turns;"
                             "DELETE FROM schema_version WHERE version >= 10"),
              0);
    CHECK_INT(lp_db_migrate(db), 0);
    int64_t n = -1;
    CHECK_INT(lp_db_int64(db, &n,
                          "SELECT COUNT(DISTINCT export_secret) FROM projects WHERE "
                          "length(export_secret) = 64 AND export_secret = lower(export_secret) "
                          "AND ltrim(export_secret, '0123456789abcdef') = ''",
                          NULL),
              0);
    CHECK_INT(n, 3);
})}

TEST(db_bind_and_read_every_type){EACH_BACKEND({
    CHECK_INT(lp_db_exec(db, "CREATE TABLE t (i BIGINT, d DOUBLE PRECISION, s TEXT, n TEXT)"), 0);
    CHECK_INT(lp_db_run(db, "INSERT INTO t (i, d, s, n) VALUES (?, ?, ?, ?)", "idsn",
                        (int64_t)9007199254740993LL, 2.5, "zoë \"quoted\"", NULL),
              0);
    lp_stmt *st;
    CHECK_INT(lp_db_prepare(db, "SELECT i, d, s, n FROM t", &st), 0);
    CHECK_INT(lp_stmt_step(st), LP_DB_ROW);
    CHECK_INT(lp_stmt_int64(st, 0), 9007199254740993LL);
    CHECK_NEAR(lp_stmt_double(st, 1), 2.5, 0);
    CHECK_STR(lp_stmt_text(st, 2), "zoë \"quoted\"");
    CHECK(lp_stmt_is_null(st, 3));
    CHECK_STR(lp_stmt_text(st, 3), "");
    CHECK_INT(lp_stmt_step(st), LP_DB_DONE);
    lp_stmt_done(st);
})}

TEST(db_unique_violation_is_exists){EACH_BACKEND({
    lp_db_exec(db, "CREATE TABLE u (k TEXT PRIMARY KEY)");
    CHECK_INT(lp_db_run(db, "INSERT INTO u (k) VALUES (?)", "s", "a"), 0);
    CHECK_INT(lp_db_run(db, "INSERT INTO u (k) VALUES (?)", "s", "a"), LP_EEXISTS);
    /* ON CONFLICT DO NOTHING RETURNING gives no row for the duplicate. */
    lp_stmt *st;
    CHECK_INT(lp_db_prepare(
                  db, "INSERT INTO u (k) VALUES (?) ON CONFLICT (k) DO NOTHING RETURNING k", &st),
              0);
    lp_stmt_bind_text(st, 1, "a");
    CHECK_INT(lp_stmt_step(st), LP_DB_DONE);
    lp_stmt_done(st);
})}

TEST(db_returning_gives_generated_ids){EACH_BACKEND({
    CHECK_INT(lp_db_migrate(db), 0);
    int64_t a = 0, b = 0;
    CHECK_INT(
        lp_db_int64(
            db, &a,
            "INSERT INTO users (email, role, created_at) VALUES (?, 'member', 0) RETURNING id", "s",
            "a@x"),
        0);
    CHECK_INT(
        lp_db_int64(
            db, &b,
            "INSERT INTO users (email, role, created_at) VALUES (?, 'member', 0) RETURNING id", "s",
            "b@x"),
        0);
    CHECK(a > 0);
    CHECK_INT(b, a + 1);
})}

TEST(db_insert_reports_new_id_or_conflict){EACH_BACKEND({
    CHECK_INT(lp_db_migrate(db), 0);
    const char *sql = "INSERT INTO users (email, role, created_at) VALUES (?, 'member', 0) "
                      "ON CONFLICT (email) DO NOTHING";
    int64_t a = 0, b = 0, c = -1;
    lp_stmt *st;
    for (int i = 0; i < 3; i++) {
        CHECK_INT(lp_db_prepare_insert(db, sql, &st), 0);
        lp_stmt_bind_text(st, 1, i == 1 ? "b@x" : "a@x");
        int64_t *out = i == 0 ? &a : i == 1 ? &b : &c;
        int got = lp_stmt_insert_id(st, out, i == 2 ? LP_EEXISTS : LP_EDB);
        lp_stmt_done(st);
        CHECK_INT(got, i == 2 ? LP_EEXISTS : 0);
    }
    CHECK(a > 0);
    CHECK_INT(b, a + 1);
    CHECK_INT(c, -1); /* untouched on conflict */
    /* The table stored as its primary key still enforces it. */
    CHECK_INT(lp_db_run(db,
                        "INSERT INTO projects (name, kind, params, created_at, updated_at) "
                        "VALUES ('p', 'rating', '{}', 0, 0)",
                        NULL),
              0);
    CHECK_INT(lp_db_run(db,
                        "INSERT INTO tasks (project_id, status, created_at, updated_at) "
                        "VALUES (1, 'pending', 0, 0)",
                        NULL),
              0);
    CHECK_INT(
        lp_db_run(db, "INSERT INTO task_tags (task_id, project_id, tag) VALUES (1, 1, 't')", NULL),
        0);
    CHECK_INT(
        lp_db_run(db, "INSERT INTO task_tags (task_id, project_id, tag) VALUES (1, 1, 't')", NULL),
        LP_EEXISTS);
})}

TEST(db_rollback_discards_and_nested_transactions_are_savepoints){EACH_BACKEND({
    lp_db_exec(db, "CREATE TABLE r (x BIGINT)");
    CHECK_INT(lp_db_begin(db, LP_TX_WRITE), 0);
    lp_db_run(db, "INSERT INTO r (x) VALUES (1)", NULL);
    CHECK_INT(lp_db_rollback(db), 0);
    int64_t n = -1;
    lp_db_int64(db, &n, "SELECT COUNT(*) FROM r", NULL);
    CHECK_INT(n, 0);
    /* An inner rollback undoes only the inner part; an inner commit is
     * kept by the outer commit, and undone by an outer rollback. */
    CHECK_INT(lp_db_begin(db, LP_TX_WRITE), 0);
    lp_db_run(db, "INSERT INTO r (x) VALUES (2)", NULL);
    CHECK_INT(lp_db_begin(db, LP_TX_WRITE), 0);
    lp_db_run(db, "INSERT INTO r (x) VALUES (3)", NULL);
    CHECK_INT(lp_db_begin(db, LP_TX_WRITE), 0);
    lp_db_run(db, "INSERT INTO r (x) VALUES (4)", NULL);
    CHECK_INT(lp_db_rollback(db), 0);
    CHECK_INT(lp_db_commit(db), 0);
    CHECK_INT(lp_db_commit(db), 0);
    lp_db_int64(db, &n, "SELECT SUM(x) FROM r", NULL);
    CHECK_INT(n, 5);
    CHECK_INT(lp_db_begin(db, LP_TX_WRITE), 0);
    CHECK_INT(lp_db_begin(db, LP_TX_WRITE), 0);
    lp_db_run(db, "INSERT INTO r (x) VALUES (10)", NULL);
    CHECK_INT(lp_db_commit(db), 0);
    CHECK_INT(lp_db_rollback(db), 0);
    lp_db_int64(db, &n, "SELECT SUM(x) FROM r", NULL);
    CHECK_INT(n, 5);
    CHECK_INT(lp_db_commit(db), LP_EINVAL); /* no transaction open */
})}

TEST(db_statement_cache_reuses_and_survives_reentry){EACH_BACKEND({
    lp_db_exec(db, "CREATE TABLE c (x BIGINT)");
    for (int i = 0; i < 100; i++)
        CHECK_INT(lp_db_run(db, "INSERT INTO c (x) VALUES (?)", "i", (int64_t)i), 0);
    /* The same SQL used while an instance is checked out gets a second one. */
    lp_stmt *a, *b;
    CHECK_INT(lp_db_prepare(db, "SELECT x FROM c ORDER BY x", &a), 0);
    CHECK_INT(lp_stmt_step(a), LP_DB_ROW);
    CHECK_INT(lp_db_prepare(db, "SELECT x FROM c ORDER BY x", &b), 0);
    CHECK(a != b);
    CHECK_INT(lp_stmt_step(b), LP_DB_ROW);
    CHECK_INT(lp_stmt_step(b), LP_DB_ROW);
    CHECK_INT(lp_stmt_int64(b, 0), 1);
    CHECK_INT(lp_stmt_int64(a, 0), 0);
    lp_stmt_done(b);
    lp_stmt_done(a);
    /* The cached one comes back reset, with bindings cleared. */
    CHECK_INT(lp_db_prepare(db, "SELECT x FROM c ORDER BY x", &a), 0);
    CHECK_INT(lp_stmt_step(a), LP_DB_ROW);
    CHECK_INT(lp_stmt_int64(a, 0), 0);
    lp_stmt_done(a);
    int64_t n;
    CHECK_INT(lp_db_int64(db, &n, "SELECT COUNT(*) FROM c WHERE x >= ?", "i", (int64_t)50), 0);
    CHECK_INT(n, 50);
})}

TEST(db_bad_sql_is_an_error_with_message){EACH_BACKEND({
    lp_stmt *st = NULL;
    CHECK(lp_db_prepare(db, "SELEKT nonsense", &st) < 0);
    CHECK(st == NULL);
    CHECK(strlen(lp_db_errmsg(db)) > 0);
    int64_t v;
    CHECK_INT(lp_db_int64(db, &v, "SELECT 1 WHERE 1 = 0", NULL), LP_ENOTFOUND);
})}

/* Placeholders are '?' in every backend's SQL; one inside a string literal,
 * a quoted identifier or a comment is not a placeholder. */
TEST(db_placeholders_skip_literals_identifiers_and_comments){EACH_BACKEND({
    CHECK_INT(lp_db_exec(db, "CREATE TABLE q (\"w?\" TEXT, n BIGINT)"), 0);
    CHECK_INT(
        lp_db_run(db, "INSERT INTO q (\"w?\", n) VALUES (?, ?) /* why? */", "si", "a", (int64_t)7),
        0);
    lp_stmt *st;
    CHECK_INT(lp_db_prepare(db,
                            "SELECT 'it''s?', \"w?\", ? || '?', n -- or not?\n"
                            "FROM q WHERE \"w?\" = ? AND n = ?",
                            &st),
              0);
    CHECK_INT(lp_stmt_bind_text(st, 1, "x"), 0);
    CHECK_INT(lp_stmt_bind_text(st, 2, "a"), 0);
    CHECK_INT(lp_stmt_bind_int64(st, 3, 7), 0);
    CHECK_INT(lp_stmt_step(st), LP_DB_ROW);
    CHECK_STR(lp_stmt_text(st, 0), "it's?");
    CHECK_STR(lp_stmt_text(st, 1), "a");
    CHECK_STR(lp_stmt_text(st, 2), "x?");
    CHECK_INT(lp_stmt_int64(st, 3), 7);
    CHECK_INT(lp_stmt_step(st), LP_DB_DONE);
    lp_stmt_done(st);
    if (!strcmp(schemes[bi], "postgres")) { /* its own quotings: E'\'', $$...$$ */
        CHECK_INT(lp_db_prepare(db, "SELECT E'\\'?', $$?$$, $t$'?$t$, ? ", &st), 0);
        CHECK_INT(lp_stmt_bind_text(st, 1, "p"), 0);
        CHECK_INT(lp_stmt_step(st), LP_DB_ROW);
        CHECK_STR(lp_stmt_text(st, 0), "'?");
        CHECK_STR(lp_stmt_text(st, 1), "?");
        CHECK_STR(lp_stmt_text(st, 2), "'?");
        CHECK_STR(lp_stmt_text(st, 3), "p");
        lp_stmt_done(st);
    }
})}

/* A selected comparison reads as 1 or 0 (PostgreSQL returns a boolean). */
TEST(db_comparisons_read_as_integers){EACH_BACKEND({
    CHECK_INT(lp_db_exec(db, "CREATE TABLE k (kind TEXT)"), 0);
    CHECK_INT(lp_db_run(db, "INSERT INTO k (kind) VALUES (?), (?)", "ss", "review", "annotate"), 0);
    lp_stmt *st;
    CHECK_INT(lp_db_prepare(db, "SELECT kind = 'review', kind <> ? FROM k ORDER BY kind", &st), 0);
    lp_stmt_bind_text(st, 1, "review");
    CHECK_INT(lp_stmt_step(st), LP_DB_ROW); /* annotate */
    CHECK_INT(lp_stmt_int64(st, 0), 0);
    CHECK_INT(lp_stmt_int64(st, 1), 1);
    CHECK_NEAR(lp_stmt_double(st, 1), 1, 0);
    CHECK_INT(lp_stmt_step(st), LP_DB_ROW); /* review */
    CHECK_INT(lp_stmt_int64(st, 0), 1);
    CHECK_INT(lp_stmt_int64(st, 1), 0);
    lp_stmt_done(st);
    int64_t v = -1;
    CHECK_INT(lp_db_int64(db, &v, "SELECT COUNT(*) > 1 FROM k", NULL), 0);
    CHECK_INT(v, 1);
})}

/* Numbers keep every bit, a text slice binds only its bytes, a blob's
 * bytes (NUL and 0xff included) come back through column_text. */
TEST(db_values_round_trip_exactly){EACH_BACKEND({
    const char *blob = strcmp(lp_db_scheme(db), "sqlite") ? "BYTEA" : "BLOB";
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE TABLE v (i BIGINT, d DOUBLE PRECISION, s TEXT, b %s)", blob);
    CHECK_INT(lp_db_exec(db, sql), 0);
    const unsigned char bytes[] = {0, 'a', 0xff, '?', 0, '\\', '\''};
    lp_stmt *st;
    CHECK_INT(lp_db_prepare(db, "INSERT INTO v (i, d, s, b) VALUES (?, ?, ?, ?)", &st), 0);
    lp_stmt_bind_int64(st, 1, INT64_MIN);
    lp_stmt_bind_double(st, 2, 0.1 + 0.2);
    lp_stmt_bind_textn(st, 3, "abcdef", 3);
    lp_stmt_bind_blob(st, 4, bytes, sizeof bytes);
    CHECK_INT(lp_stmt_step(st), LP_DB_DONE);
    lp_stmt_done(st);
    CHECK_INT(lp_db_prepare(db, "SELECT i, d, s, b, length(s) FROM v", &st), 0);
    CHECK_INT(lp_stmt_step(st), LP_DB_ROW);
    CHECK_INT(lp_stmt_int64(st, 0), INT64_MIN);
    CHECK(lp_stmt_double(st, 1) == 0.1 + 0.2);
    CHECK_STR(lp_stmt_text(st, 2), "abc");
    size_t n = 0;
    const char *b = lp_stmt_textn(st, 3, &n);
    CHECK_INT(n, sizeof bytes);
    CHECK(memcmp(b, bytes, sizeof bytes) == 0);
    CHECK_INT(lp_stmt_int64(st, 4), 3);
    lp_stmt_done(st);
})}

/* Constraint violations: a duplicate is LP_EEXISTS, any other (NOT NULL,
 * a foreign key) LP_ECONFLICT; the statement can run again after one. */
TEST(db_constraint_violations_map_to_codes){EACH_BACKEND({
    CHECK_INT(lp_db_migrate(db), 0);
    CHECK_INT(lp_db_run(db, "INSERT INTO users (email, role, created_at) VALUES (?, 'member', 0)",
                        "s", "a@x"),
              0);
    lp_stmt *st;
    const char *sql = "INSERT INTO users (email, role, created_at) VALUES (?, 'member', 0)";
    CHECK_INT(lp_db_prepare(db, sql, &st), 0);
    lp_stmt_bind_text(st, 1, "a@x");
    CHECK_INT(lp_stmt_step(st), LP_EEXISTS);
    lp_stmt_reset(st);
    lp_stmt_bind_text(st, 1, "b@x");
    CHECK_INT(lp_stmt_step(st), LP_DB_DONE);
    lp_stmt_done(st);
    CHECK_INT(lp_db_run(db, "INSERT INTO users (email, role, created_at) VALUES (?, NULL, 0)", "s",
                        "c@x"),
              LP_ECONFLICT);
    CHECK_INT(lp_db_run(db,
                        "INSERT INTO api_keys (user_id, key_hash, prefix, created_at) "
                        "VALUES (999, 'h', 'p', 0)",
                        NULL),
              LP_ECONFLICT);
    CHECK(strlen(lp_db_errmsg(db)) > 0);
})}

/* changes() counts the rows the last INSERT/UPDATE/DELETE touched; a
 * SELECT after it does not change it. */
TEST(db_changes_counts_the_last_write){EACH_BACKEND({
    CHECK_INT(lp_db_exec(db, "CREATE TABLE w (x BIGINT)"), 0);
    CHECK_INT(lp_db_run(db, "INSERT INTO w (x) VALUES (1), (2), (3)", NULL), 0);
    CHECK_INT(lp_db_changes(db), 3);
    CHECK_INT(lp_db_run(db, "UPDATE w SET x = x + 1 WHERE x >= ?", "i", (int64_t)2), 0);
    CHECK_INT(lp_db_changes(db), 2);
    int64_t n;
    CHECK_INT(lp_db_int64(db, &n, "SELECT COUNT(*) FROM w", NULL), 0);
    CHECK_INT(lp_db_changes(db), 2);
    CHECK_INT(lp_db_run(db, "DELETE FROM w WHERE x = 99", NULL), 0);
    CHECK_INT(lp_db_changes(db), 0);
})}

/* A refused statement in a nested transaction is undone by its rollback
 * and the outer transaction commits the rest.  On PostgreSQL a refusal
 * not rolled back aborts the whole transaction: its commit must fail, not
 * report success for writes that were thrown away. */
TEST(db_refusal_in_a_transaction){EACH_BACKEND({
    CHECK_INT(lp_db_exec(db, "CREATE TABLE f (k TEXT PRIMARY KEY)"), 0);
    CHECK_INT(lp_db_begin(db, LP_TX_WRITE), 0);
    CHECK_INT(lp_db_run(db, "INSERT INTO f (k) VALUES ('a')", NULL), 0);
    CHECK_INT(lp_db_begin(db, LP_TX_WRITE), 0);
    CHECK_INT(lp_db_run(db, "INSERT INTO f (k) VALUES ('a')", NULL), LP_EEXISTS);
    CHECK_INT(lp_db_rollback(db), 0);
    CHECK_INT(lp_db_run(db, "INSERT INTO f (k) VALUES ('b')", NULL), 0);
    CHECK_INT(lp_db_commit(db), 0);
    int64_t n = -1;
    CHECK_INT(lp_db_int64(db, &n, "SELECT COUNT(*) FROM f", NULL), 0);
    CHECK_INT(n, 2);
    if (!strcmp(schemes[bi], "postgres")) {
        CHECK_INT(lp_db_begin(db, LP_TX_WRITE), 0);
        CHECK_INT(lp_db_run(db, "INSERT INTO f (k) VALUES ('c')", NULL), 0);
        CHECK_INT(lp_db_run(db, "INSERT INTO f (k) VALUES ('a')", NULL), LP_EEXISTS);
        CHECK_INT(lp_db_commit(db), LP_EEXISTS);
        CHECK_INT(lp_db_int64(db, &n, "SELECT COUNT(*) FROM f", NULL), 0);
        CHECK_INT(n, 2);
    }
})}

/* PostgreSQL: a connection the server dropped fails the statement in
 * flight, then is re-established, its cached statements prepared again. */
TEST(db_pg_reconnects_after_the_server_drops_a_connection)
{
    lp_db *db = fresh("postgres"), *other = fresh("postgres");
    if (!db) return;
    CHECK(other != NULL);
    int64_t pid = 0, n = 0;
    CHECK_INT(lp_db_int64(db, &pid, "SELECT pg_backend_pid()", NULL), 0);
    CHECK_INT(lp_db_int64(db, &n, "SELECT ? + 1", "i", (int64_t)1), 0);
    CHECK_INT(lp_db_int64(other, &n, "SELECT pg_terminate_backend(?)::int", "i", pid), 0);
    usleep(100 * 1000);
    CHECK_INT(lp_db_int64(db, &n, "SELECT ? + 1", "i", (int64_t)1), LP_EUNAVAIL);
    CHECK_INT(lp_db_int64(db, &n, "SELECT ? + 1", "i", (int64_t)2), 0);
    CHECK_INT(n, 3);
    int64_t pid2 = 0;
    CHECK_INT(lp_db_int64(db, &pid2, "SELECT pg_backend_pid()", NULL), 0);
    CHECK(pid2 != pid);
    lp_db_close(other);
    lp_db_close(db);
}

TEST(db_unknown_url_is_refused_clearly)
{
    lp_db *db;
    char *err = NULL;
    CHECK_INT(lp_db_open("mysql://x", &db, &err), LP_ENOTSUP);
    CHECK(db == NULL);
    CHECK(err && strstr(err, "sqlite:PATH"));
    free(err);
    err = NULL;
    CHECK(lp_db_open("sqlite:/nonexistent-dir/x/y.db", &db, &err) < 0);
    CHECK(err != NULL);
    free(err);
}

TEST(db_pool_hands_out_distinct_connections)
{
    char url[512], *err = NULL;
    snprintf(url, sizeof url, "sqlite:%s/p.db", lp_test_tmpdir());
    lp_db_pool *pool;
    CHECK_INT(lp_db_pool_new(url, 3, &pool, &err), 0);
    lp_db *a = lp_db_pool_get(pool), *b = lp_db_pool_get(pool), *c = lp_db_pool_get(pool);
    CHECK(a != b && b != c && a != c);
    CHECK_INT(lp_db_migrate(a), 0);
    /* A connection returned inside a transaction is rolled back. */
    lp_db_begin(b, LP_TX_WRITE);
    lp_db_run(b, "INSERT INTO users (email, role, created_at) VALUES ('z@z', 'member', 0)", NULL);
    lp_db_pool_put(pool, b);
    int64_t n = -1;
    lp_db_int64(c, &n, "SELECT COUNT(*) FROM users", NULL);
    CHECK_INT(n, 0);
    lp_db_pool_put(pool, a);
    lp_db_pool_put(pool, c);
    lp_db_pool_free(pool);
}

/* Group commit: writers on a pool wait until their writes are durable;
 * the writer connection batches transactions, and one flush serves many. */
typedef struct gc_arg {
    lp_db_pool *pool;
    int id, n, ok, writer;
} gc_arg;

typedef struct gc_wait {
    lp_db_waiter w;
    atomic_int fired;
} gc_wait;

static void gc_fired(void *arg)
{
    atomic_fetch_add(&((gc_wait *)arg)->fired, 1);
}

/* Writers on the writer connection release it with a waiter, as the HTTP
 * layer does, so that others take it while their batch is open. */
static void *gc_writer(void *p)
{
    gc_arg *a = p;
    for (int i = 0; i < a->n; i++) {
        lp_db *db = a->writer ? lp_db_pool_writer(a->pool) : lp_db_pool_get(a->pool);
        int rc = lp_db_begin(db, LP_TX_WRITE);
        if (rc == 0)
            rc = lp_db_run(db, "INSERT INTO gc (w, i) VALUES (?, ?)", "ii", (int64_t)a->id,
                           (int64_t)i);
        /* every third transaction of the writers fails and rolls back alone */
        int undo = a->writer && i % 3 == 2;
        if (rc == 0 && undo)
            rc = lp_db_rollback(db);
        else if (rc == 0)
            rc = lp_db_commit(db);
        if (!a->writer) {
            lp_db_pool_put(a->pool, db); /* returns once durable */
        } else {
            gc_wait w = {.w = {.fn = gc_fired}};
            w.w.arg = &w;
            if (lp_db_pool_release(a->pool, db, &w.w) == 0)
                while (!atomic_load(&w.fired)) usleep(50);
            if (w.w.result < 0) rc = w.w.result;
        }
        if (rc == 0 && !undo) a->ok++;
    }
    return NULL;
}

TEST(db_pool_group_commit_batches_writers_and_answers_every_request)
{
    char url[512], *err = NULL;
    snprintf(url, sizeof url, "sqlite:%s/gc.db", lp_test_tmpdir());
    lp_db_pool *pool;
    CHECK_INT(lp_db_pool_new(url, 4, &pool, &err), 0);
    lp_db *db = lp_db_pool_get(pool);
    CHECK_INT(lp_db_exec(db, "CREATE TABLE gc (w INTEGER, i INTEGER)"), 0);
    CHECK(lp_db_wrote(db));
    lp_db_pool_put(pool, db); /* waits for its own sync: the table is durable */
    /* A read-only use of a connection has nothing to wait for. */
    db = lp_db_pool_get(pool);
    int64_t n = -1;
    CHECK_INT(lp_db_int64(db, &n, "SELECT COUNT(*) FROM gc", NULL), 0);
    CHECK(!lp_db_wrote(db));
    gc_wait rw = {.w = {.fn = gc_fired}};
    rw.w.arg = &rw;
    CHECK_INT(lp_db_pool_release(pool, db, &rw.w), 1);
    uint64_t syncs0, tickets0, batches0, batched0;
    lp_db_pool_sync_stats(pool, &syncs0, &tickets0, &batches0, &batched0);
    /* Four threads on the writer: their transactions share batches. */
    pthread_t th[6];
    gc_arg args[6];
    db = lp_db_pool_writer(pool); /* held until all four wait for it */
    for (int i = 0; i < 4; i++) {
        args[i] = (gc_arg){.pool = pool, .id = i, .n = 150, .writer = 1};
        pthread_create(&th[i], NULL, gc_writer, &args[i]);
    }
    usleep(200 * 1000);
    lp_db_pool_put(pool, db);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) CHECK_INT(args[i].ok, 100);
    uint64_t syncs, tickets, batches, batched;
    lp_db_pool_sync_stats(pool, &syncs, &tickets, &batches, &batched);

    CHECK(batched - batched0 >= 400); /* every writer request that wrote was in a batch */

    CHECK(syncs > syncs0);
    CHECK(syncs - syncs0 <= tickets - tickets0);
    /* Then with two threads writing on pooled connections at the same time:
     * the batches give way to them. */
    for (int i = 0; i < 6; i++) {
        args[i] = (gc_arg){.pool = pool, .id = 10 + i, .n = 60, .writer = i < 4};
        pthread_create(&th[i], NULL, gc_writer, &args[i]);
    }
    for (int i = 0; i < 6; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 6; i++) CHECK_INT(args[i].ok, i < 4 ? 40 : 60);
    /* A request that waits for the writer as another gives it back may
     * join its batch; both are answered once durable. */
    lp_db_pool_sync_stats(pool, &syncs0, &tickets0, &batches0, &batched0);
    db = lp_db_pool_writer(pool);
    args[0] = (gc_arg){.pool = pool, .id = 7, .n = 1, .writer = 1};
    pthread_create(&th[0], NULL, gc_writer, &args[0]);
    usleep(100 * 1000); /* it waits for the writer now */
    CHECK_INT(lp_db_begin(db, LP_TX_WRITE), 0);
    CHECK_INT(lp_db_run(db, "INSERT INTO gc (w, i) VALUES (7, 1)", NULL), 0);
    CHECK_INT(lp_db_commit(db), 0);
    gc_wait first = {.w = {.fn = gc_fired}};
    first.w.arg = &first;
    CHECK_INT(lp_db_pool_release(pool, db, &first.w), 0);
    pthread_join(th[0], NULL);
    while (!atomic_load(&first.fired)) usleep(100);
    CHECK_INT(args[0].ok, 1);
    CHECK_INT(first.w.result, 0);
    lp_db_pool_sync_stats(pool, &syncs, &tickets, &batches, &batched);
    /* one batch, or two when the syncer was idle as the first gave the
     * writer back (it then commits at once rather than wait) */
    CHECK(batches - batches0 >= 1 && batches - batches0 <= 2);
    CHECK_INT((int)(batched - batched0), 2);
    CHECK(tickets - tickets0 == batches - batches0);
    /* A waiter is called once its writes are durable. */
    gc_wait w = {.w = {.fn = gc_fired}};
    w.w.arg = &w;
    db = lp_db_pool_writer(pool);
    CHECK_INT(lp_db_begin(db, LP_TX_WRITE), 0);
    CHECK_INT(lp_db_run(db, "INSERT INTO gc (w, i) VALUES (9, 9)", NULL), 0);
    CHECK_INT(lp_db_commit(db), 0);
    CHECK(lp_db_wrote(db));
    if (lp_db_pool_release(pool, db, &w.w) == 0)
        for (int i = 0; i < 5000 && !atomic_load(&w.fired); i++) usleep(1000);
    CHECK_INT(atomic_load(&w.fired), 1);
    CHECK_INT(w.w.result, 0);
    CHECK_INT(atomic_load(&rw.fired), 0);
    db = lp_db_pool_get(pool);
    CHECK_INT(lp_db_int64(db, &n, "SELECT COUNT(*) FROM gc", NULL), 0);
    CHECK_INT(n, 4 * 100 + 4 * 40 + 2 * 60 + 2 + 1);
    lp_db_pool_put(pool, db);
    lp_db_pool_free(pool);
}

/* PostgreSQL commits durably by itself: its pool has no syncer and no
 * writer batches, and a write is answered as soon as its connection is
 * given back. */
TEST(db_pg_pool_answers_writes_without_group_commit)
{
    const char *url = getenv("LOUPE_TEST_PG_URL");
    lp_db *db = fresh("postgres");
    if (!db) return;
    CHECK_INT(lp_db_exec(db, "CREATE TABLE pw (x BIGINT)"), 0);
    lp_db_close(db);
    lp_db_pool *pool;
    char *err = NULL;
    CHECK_INT(lp_db_pool_new(url, 2, &pool, &err), 0);
    CHECK(!lp_db_pool_single_writer(pool));
    db = lp_db_pool_writer(pool);
    CHECK_INT(lp_db_begin(db, LP_TX_WRITE), 0);
    CHECK_INT(lp_db_run(db, "INSERT INTO pw (x) VALUES (1)", NULL), 0);
    CHECK_INT(lp_db_commit(db), 0);
    CHECK(!lp_db_wrote(db));
    gc_wait w = {.w = {.fn = gc_fired}};
    w.w.arg = &w;
    CHECK_INT(lp_db_pool_release(pool, db, &w.w), 1);
    CHECK_INT(atomic_load(&w.fired), 0);
    db = lp_db_pool_get(pool);
    int64_t n = -1;
    CHECK_INT(lp_db_int64(db, &n, "SELECT COUNT(*) FROM pw", NULL), 0);
    CHECK_INT(n, 1);
    lp_db_pool_put(pool, db);
    uint64_t syncs, tickets, batches, batched;
    lp_db_pool_sync_stats(pool, &syncs, &tickets, &batches, &batched);
    CHECK_INT(syncs + tickets + batches + batched, 0);
    lp_db_pool_free(pool);
}

/* Files belong to projects (files.h): the URL scan links exact 64-digit
 * lowercase hashes only, a reader who cannot read an existing file links
 * nothing, and migration 13 links the files that tasks named before it. */
TEST(db_files_are_linked_to_the_projects_that_name_them){EACH_BACKEND({
    CHECK_INT(lp_db_migrate(db), 0);
    const char *a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const char *b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    CHECK_INT(lp_db_exec(db,
                         "INSERT INTO users (id, email, name, role, disabled, created_at) VALUES "
                         "(1, 'u@x.io', '', 'member', 0, 0), (2, 'v@x.io', '', 'member', 0, 0);"
                         "INSERT INTO projects (id, name, kind, params, created_at, updated_at) "
                         "VALUES (1, 'p', 'categorization', '{}', 0, 0), "
                         "(2, 'q', 'categorization', '{}', 0, 0);"
                         "INSERT INTO project_members (project_id, user_id, role) VALUES "
                         "(1, 2, 'annotator');"),
              0);
    CHECK_INT(lp_db_run(db,
                        "INSERT INTO files (sha256, size, content_type, uploaded_by, created_at) "
                        "VALUES (?, 1, 'text/plain', 1, 0), (?, 1, 'text/plain', 1, 0)",
                        "ss", a, b),
              0);
    CHECK_INT(lp_db_run(db, "INSERT INTO file_uploaders (sha256, user_id) VALUES (?, 1), (?, 1)",
                        "ss", a, b),
              0);
    CHECK_INT(lp_file_readable(db, a, 1, 0, 0), 0);           /* the uploader */
    CHECK_INT(lp_file_readable(db, a, 2, 0, 0), LP_ENOTFOUND); /* not yet */
    CHECK_INT(lp_file_readable(db, a, 2, 1, 0), 0);           /* an admin */
    char text[400];
    snprintf(text, sizeof text,
             "{\"x\":\"/v1/files/%s\",\"y\":\"/v1/files/%sA\",\"z\":\"/v1/files/%.63s\"}", a, b,
             b);
    CHECK_INT(lp_file_link_urls(db, text, strlen(text), 1, 0, 0), 0);
    int64_t n = -1;
    CHECK_INT(lp_db_int64(db, &n, "SELECT COUNT(*) FROM file_projects", NULL), 0);
    CHECK_INT(n, 1); /* b's URLs are not a hash: a longer run, a shorter one */
    CHECK_INT(lp_file_readable(db, a, 2, 0, 0), 0);  /* a member of project 1 */
    CHECK_INT(lp_file_readable(db, a, 2, 0, 2), LP_ENOTFOUND); /* a key of project 2 */
    CHECK_INT(lp_file_readable(db, a, 2, 0, 1), 0);
    /* user 2 names b (user 1's): not linked; a hash not stored yet is */
    CHECK_INT(lp_file_link(db, b, 2, 2, 0), 0);
    CHECK_INT(lp_file_link(db, "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", 2, 2, 0),
              0);
    CHECK_INT(lp_db_int64(db, &n, "SELECT COUNT(*) FROM file_projects WHERE project_id = 2", NULL),
              0);
    CHECK_INT(n, 1);
    /* the upgrade: back to before migration 13 with a task naming b */
    CHECK_INT(lp_db_exec(db, "DROP TABLE file_projects;"
                             "DROP TABLE file_uploaders;"
                             "DROP INDEX tasks_disputed;"
                             "ALTER TABLE tasks DROP COLUMN disagreement;"
                             "ALTER TABLE projects DROP COLUMN uncertainty_measure;"
                             "DROP INDEX tasks_uncertain;"
                             "ALTER TABLE tasks DROP COLUMN uncertainty;"
                             "DROP TABLE ml_queue;"
                             "DROP TABLE ml_backends;"
                             "ALTER TABLE projects DROP COLUMN auto_label;"
                             "ALTER TABLE tasks DROP COLUMN auto_label;"
                             "DROP TABLE worker_leases;"
                             "DROP TABLE task_outputs;"
                             "DROP TABLE gen_outputs;"
                             "DROP TABLE generations;"
                             "DROP TABLE prompts;"
                             "DROP TABLE prompt_sets;"
                             "DROP TABLE model_endpoints;"
                             "DROP TABLE chat_turns;"
                             "DELETE FROM schema_version WHERE version >= 13"),
              0);
    char ins[300];
    snprintf(ins, sizeof ins,
             "INSERT INTO tasks (project_id, status, attachments, created_at, updated_at) VALUES "
             "(2, 'pending', '[{\"type\":\"image\",\"file\":\"%s\"}]', 0, 0)",
             b);
    CHECK_INT(lp_db_exec(db, ins), 0);
    CHECK_INT(lp_db_migrate(db), 0);
    CHECK_INT(lp_db_int64(db, &n, "SELECT COUNT(*) FROM file_projects WHERE project_id = 2 AND "
                                  "sha256 = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'",
                          NULL),
              0);
    CHECK_INT(n, 1);
})}

/* Migration 14 sets each task's uncertainty from the best score of the
 * predictions it already has ({best_prediction_score} on each backend). */
TEST(db_migration_sets_uncertainty_from_existing_predictions){EACH_BACKEND({
    CHECK_INT(lp_db_migrate(db), 0);
    CHECK_INT(lp_db_exec(db,
                         "INSERT INTO projects (id, name, kind, params, created_at, updated_at) "
                         "VALUES (1, 'p', 'categorization', '{}', 0, 0);"
                         "DROP INDEX tasks_disputed;"
                         "ALTER TABLE tasks DROP COLUMN disagreement;"
                         "ALTER TABLE projects DROP COLUMN uncertainty_measure;"
                         "DROP INDEX tasks_uncertain;"
                         "ALTER TABLE tasks DROP COLUMN uncertainty;"
                             "DROP TABLE ml_queue;"
                             "DROP TABLE ml_backends;"
                         "ALTER TABLE projects DROP COLUMN auto_label;"
                         "ALTER TABLE tasks DROP COLUMN auto_label;"
                             "DROP TABLE worker_leases;"
                             "DROP TABLE task_outputs;"
                             "DROP TABLE gen_outputs;"
                             "DROP TABLE generations;"
                             "DROP TABLE prompts;"
                             "DROP TABLE prompt_sets;"
                             "DROP TABLE model_endpoints;"
                             "DROP TABLE chat_turns;"
                         "DELETE FROM schema_version WHERE version >= 14;"
                         "INSERT INTO tasks (id, project_id, status, predictions, created_at, "
                         "updated_at) VALUES "
                         "(1, 1, 'pending', '[{\"model\":\"a\",\"response\":{},\"score\":0.25},"
                         "{\"model\":\"b\",\"response\":{},\"score\":0.75}]', 0, 0),"
                         "(2, 1, 'pending', '[{\"model\":\"a\",\"response\":{}}]', 0, 0),"
                         "(3, 1, 'pending', '[]', 0, 0), (4, 1, 'pending', NULL, 0, 0);"),
              0);
    CHECK_INT(lp_db_migrate(db), 0);
    double u[4];
    for (int i = 0; i < 4; i++) {
        lp_stmt *st;
        CHECK_INT(lp_db_prepare(db, "SELECT uncertainty FROM tasks WHERE id = ?", &st), 0);
        lp_stmt_bind_int64(st, 1, i + 1);
        CHECK_INT(lp_stmt_step(st), LP_DB_ROW);
        u[i] = lp_stmt_double(st, 0);
        lp_stmt_done(st);
    }
    CHECK(u[0] > 0.2499 && u[0] < 0.2501);
    CHECK(u[1] == 1 && u[2] == 1 && u[3] == 1);
})}

/* Migration 16 gives each task with two or more accepted annotations its
 * disagreement (active.h): 1 - 1/3 for answers a, a, b. */
TEST(db_migration_sets_disagreement_from_existing_annotations){EACH_BACKEND({
    CHECK_INT(lp_db_migrate(db), 0);
    CHECK_INT(lp_db_exec(db,
                         "INSERT INTO projects (id, name, kind, params, created_at, updated_at) "
                         "VALUES (1, 'p', 'categorization', '{\"labels\":[{\"name\":\"a\"},"
                         "{\"name\":\"b\"}]}', 0, 0);"
                         "DROP INDEX tasks_disputed;"
                         "ALTER TABLE tasks DROP COLUMN disagreement;"
                         "ALTER TABLE projects DROP COLUMN uncertainty_measure;"
                         "ALTER TABLE projects DROP COLUMN auto_label;"
                         "ALTER TABLE tasks DROP COLUMN auto_label;"
                             "DROP TABLE worker_leases;"
                             "DROP TABLE task_outputs;"
                             "DROP TABLE gen_outputs;"
                             "DROP TABLE generations;"
                             "DROP TABLE prompts;"
                             "DROP TABLE prompt_sets;"
                             "DROP TABLE model_endpoints;"
                             "DROP TABLE chat_turns;"
                         "DELETE FROM schema_version WHERE version >= 16;"
                         "INSERT INTO tasks (id, project_id, status, done, created_at, "
                         "updated_at) VALUES (1, 1, 'in_progress', 3, 0, 0), "
                         "(2, 1, 'in_progress', 1, 0, 0);"
                         "INSERT INTO users (id, email, role, created_at) VALUES "
                         "(1, 'u1@x', 'user', 0), (2, 'u2@x', 'user', 0), (3, 'u3@x', 'user', 0);"),
              0);
    /* task 1: users 1, 2, 3 answer a, a, b; task 2: user 1 answers a */
    static const struct {
        int task, user;
        const char *label;
    } an[] = {{1, 1, "a"}, {1, 2, "a"}, {1, 3, "b"}, {2, 1, "a"}};
    for (int i = 0; i < 4; i++) {
        char sql[600];
        snprintf(sql, sizeof sql,
                 "INSERT INTO assignments (id, task_id, project_id, user_id, status, "
                 "expires_at, created_at, updated_at) VALUES (%d, %d, 1, %d, 'submitted', 0, 0, "
                 "0); INSERT INTO annotations (annotation_id, assignment_id, task_id, project_id, "
                 "user_id, response, status, created_at) VALUES ('x%d', %d, %d, 1, %d, "
                 "'{\"labels\":[\"%s\"]}', 'accepted', 0)",
                 i + 1, an[i].task, an[i].user, i + 1, i + 1, an[i].task, an[i].user, an[i].label);
        CHECK_INT(lp_db_exec(db, sql), 0);
    }
    CHECK_INT(lp_db_migrate(db), 0);
    double d[2];
    for (int i = 0; i < 2; i++) {
        lp_stmt *st;
        CHECK_INT(lp_db_prepare(db, "SELECT disagreement FROM tasks WHERE id = ?", &st), 0);
        lp_stmt_bind_int64(st, 1, i + 1);
        CHECK_INT(lp_stmt_step(st), LP_DB_ROW);
        d[i] = lp_stmt_double(st, 0);
        lp_stmt_done(st);
    }
    CHECK_NEAR(d[0], 2.0 / 3, 1e-9);
    CHECK_NEAR(d[1], 0, 0); /* one annotation: nothing to disagree on */
    int64_t n = 0;
    CHECK_INT(lp_db_int64(db, &n,
                          "SELECT COUNT(*) FROM projects WHERE uncertainty_measure = "
                          "'least_confidence'",
                          NULL),
              0);
    CHECK_INT(n, 1);
})}
