/* sqlite_raw.c -- the SQLite-only references for the import and paging
 * benchmarks: what the sqlite3 library alone does on this machine, in the
 * same run, with no HTTP, no JSON parsing and no validation.
 *
 *   sqlite_raw import DB COUNT RUNS
 *       Creates DB, if it does not exist, with Loupe's own schema
 *       (src/schema.c is compiled in, so the tables and indexes are exactly
 *       the server's; the file is kept, so runs interleaved with the
 *       server's see a database growing alike), set up as src/db_sqlite.c
 *       does it (memory statistics off; WAL, synchronous=NORMAL,
 *       foreign_keys, temp_store=MEMORY, cache_size=-65536), and RUNS
 *       times inserts COUNT tasks of taskgen.h into a fresh project:
 *       Loupe's INSERT ... ON CONFLICT DO NOTHING prepared once (the id
 *       from sqlite3_last_insert_rowid(), as the SQLite driver does it),
 *       the task_tags rows 64 to an INSERT as src/tasks.c writes them
 *       (the rest of a transaction one by one), transactions of 5000 rows (BEGIN
 *       IMMEDIATE), the project_counts upsert once per transaction.  Prints
 *       tasks/s and CPU time per task of each run and the median tasks/s.
 *       Optional what-if switches after RUNS (fk-off, returning, tx=N, page=N, tags-single, sql=SQL; see
 *       struct variant) measure a change to that set-up;
 *       bench/run uses none of them.
 *
 *   sqlite_raw pages DB PROJECT ROUNDS NAME=AFTER,AFTER,... [NAME=...]
 *       Opens Loupe's database read-only and, ROUNDS times over each group
 *       of cursors, runs the list query of lp_task_list() (the same columns,
 *       WHERE project_id = ? AND id > ? ORDER BY id LIMIT 101) and reads
 *       every column of every row; prints p50/p99 of one page and the CPU
 *       time per page, per group.
 *
 *   sqlite_raw durable DB SECONDS
 *       The limit of acknowledged writes, with the durability Loupe's
 *       submit promises (on disk before the answer): one thread, one
 *       annotation-sized row (a JSON response of about 150 bytes and integers,
 *       into a table of its own, created in DB if missing) per transaction,
 *       BEGIN IMMEDIATE .. COMMIT, for SECONDS each way: WAL with
 *       synchronous=FULL (SQLite syncs the -wal file at every commit), and
 *       WAL with synchronous=NORMAL plus one explicit fdatasync() of the
 *       -wal file after every commit (the same work, done by the caller, as
 *       a group commit would do it).  Then the bare rate of the disk, in the
 *       directory of DB: 4 KiB appended and fdatasync()ed, and 4 KiB
 *       overwritten in place and fdatasync()ed (as a reused -wal file is).
 *       Prints commits/s, their p50/p99 and CPU time per commit, each way.
 *
 * Output lines start with "RESULT " and hold key=value pairs for bench/run
 * and bench/annotate-run. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "schema.h"
#include "taskgen.h"

#define TX_ROWS   5000
#define TAG_BATCH 64 /* LP_TAG_BATCH of src/tasks.h */

#define TASK_COLS                                                                \
    "id, project_id, batch_id, unique_id, status, priority, attachments, data, " \
    "metadata, tags, expected_response, predictions, created_at, updated_at, result"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process (all threads), seconds. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "sqlite_raw: %s: %s\n", what, db ? sqlite3_errmsg(db) : "error");
    exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sqlite_raw: %s: %s\n", sql, err ? err : "?");
        exit(1);
    }
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        die(db, sql);
    return st;
}

/* Replaces the tokens of a migration the way db.c does for the SQLite
 * driver (its ddl table in src/db_sqlite.c). */
static char *expand_ddl(const char *sql)
{
    static const char *const ddl[][2] = {{"{id}", "INTEGER PRIMARY KEY"},
                                         {"{blob}", "BLOB"},
                                         {"{without_rowid}", " WITHOUT ROWID"},
                                         {"{random_key}", "lower(hex(randomblob(32)))"}};
    size_t n = strlen(sql), cap = 3 * n + 1, o = 0; /* no token grows more than 3 times */
    char *out = malloc(cap);
    for (size_t i = 0; i < n;) {
        const char *rep = NULL;
        size_t skip = 0;
        for (size_t k = 0; k < sizeof ddl / sizeof ddl[0] && !rep; k++)
            if (!strncmp(sql + i, ddl[k][0], strlen(ddl[k][0])))
                rep = ddl[k][1], skip = strlen(ddl[k][0]);
        if (rep) {
            size_t r = strlen(rep);
            memcpy(out + o, rep, r);
            o += r;
            i += skip;
        } else {
            out[o++] = sql[i++];
        }
    }
    out[o] = '\0';
    return out;
}

/* The set-up of src/db_sqlite.c: configure() and sq_open(). */
static sqlite3 *open_db(const char *path, int flags)
{
    static int configured;
    if (!configured++) sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) die(db, path);
    sqlite3_busy_timeout(db, 10000);
    if (flags & SQLITE_OPEN_READWRITE)
        exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    exec(db, "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;");
    return db;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (n == 0) return 0;
    size_t k = (size_t)(p * (double)(n - 1) + 0.5);
    return v[k];
}

/* What-if switches of the import, for the analysis in bench/analysis.md
 * (bench/run uses none): each names one change to Loupe's set-up. */
typedef struct variant {
    int fk_off;        /* PRAGMA foreign_keys=OFF */
    int returning;     /* INSERT ... RETURNING id instead of sqlite3_last_insert_rowid() */
    long tx_rows;      /* tx=N: rows per transaction (else TX_ROWS) */
    const char *extra; /* sql=...: run after the set-up (pragmas) and the schema */
    long page_size;    /* page=N: PRAGMA page_size of a new database */
    int tags_single;   /* tags-single: one INSERT per task_tags row (before LP_TAG_BATCH) */
} variant;

static int cmd_import(const char *path, long count, int runs, const variant *v)
{
    sqlite3 *db = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (v->fk_off) exec(db, "PRAGMA foreign_keys=OFF");
    long tx_rows = v->tx_rows > 0 ? v->tx_rows : TX_ROWS;
    if (v->page_size) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA page_size=%ld; VACUUM", v->page_size);
        exec(db, sql);
    }
    sqlite3_stmt *have = prepare(db, "SELECT count(*) FROM sqlite_master WHERE name = 'tasks'");
    int fresh = sqlite3_step(have) == SQLITE_ROW && sqlite3_column_int(have, 0) == 0;
    sqlite3_finalize(have);
    if (fresh) {
        for (size_t i = 0; i < lp_migration_count; i++) {
            char *sql = expand_ddl(lp_migrations[i].sql);
            exec(db, sql);
            free(sql);
        }
        exec(
            db,
            "INSERT INTO users (email, role, created_at) VALUES ('bench@example.com', 'admin', 0)");
    }
    if (v->extra) exec(db, v->extra);
    sqlite3_stmt *proj =
        prepare(db, "INSERT INTO projects (name, kind, params, created_by, created_at, "
                    "updated_at) VALUES (?, 'categorization', "
                    "'{\"labels\":[{\"name\":\"car\"},{\"name\":\"person\"}],"
                    "\"multiple\":false}', 1, 0, 0) RETURNING id");
    /* Byte for byte the statements of src/tasks.c. */
    sqlite3_stmt *ins = prepare(
        db, !v->returning ? "INSERT INTO tasks (project_id, batch_id, unique_id, status, priority, "
                            "attachments, data, metadata, tags, expected_response, predictions, "
                            "created_at, updated_at, queue_order) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                            "ON CONFLICT (project_id, unique_id) DO NOTHING"
                          : "INSERT INTO tasks (project_id, batch_id, unique_id, status, priority, "
                            "attachments, data, metadata, tags, expected_response, predictions, "
                            "created_at, updated_at, queue_order) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                            "ON CONFLICT (project_id, unique_id) DO NOTHING RETURNING id");
    sqlite3_stmt *tag =
        prepare(db, "INSERT INTO task_tags (task_id, project_id, tag) VALUES (?, ?, ?)");
    /* As src/tasks.c writes them: TAG_BATCH rows to a statement, the rest
     * of a transaction one by one before its COMMIT. */
    char tags_sql[64 + TAG_BATCH * 12] = "INSERT INTO task_tags (task_id, project_id, tag) VALUES ";
    for (int k = 0; k < TAG_BATCH; k++) strcat(tags_sql, k ? ", (?, ?, ?)" : "(?, ?, ?)");
    sqlite3_stmt *tags = prepare(db, tags_sql);
    static long long tag_id[TAG_BATCH];
    static char tag_text[TAG_BATCH][65];
    int ntags_wait = 0;
    sqlite3_stmt *cnt = prepare(
        db, "INSERT INTO project_counts (project_id, status, n) VALUES (?, ?, ?) "
            "ON CONFLICT (project_id, status) DO UPDATE SET n = project_counts.n + excluded.n");
    double *rate = calloc((size_t)runs, sizeof *rate);
    /* The rows are made before the clock starts: only SQLite is timed. */
    taskgen_row *rows = malloc((size_t)count * sizeof *rows);
    for (long i = 0; i < count; i++) taskgen_make((unsigned long long)i, &rows[i]);
    for (int run = 0; run < runs; run++) {
        char name[32];
        snprintf(name, sizeof name, "raw import %d", run + 1);
        sqlite3_bind_text(proj, 1, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(proj) != SQLITE_ROW) die(db, "insert project");
        long long pid = sqlite3_column_int64(proj, 0);
        sqlite3_reset(proj);
        double t0 = now_s(), c0 = cpu_s();
        long in_tx = 0, pending = 0;
        for (long i = 0; i < count; i++) {
            const taskgen_row *r = &rows[i];
            if (in_tx == 0) exec(db, "BEGIN IMMEDIATE");
            long long now = now_ms();
            sqlite3_bind_int64(ins, 1, pid);
            sqlite3_bind_null(ins, 2);
            sqlite3_bind_text(ins, 3, r->unique_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 4, "pending", -1, SQLITE_STATIC);
            sqlite3_bind_int64(ins, 5, 0);
            sqlite3_bind_text(ins, 6, r->attachments, -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 7, "{}", 2, SQLITE_STATIC);
            sqlite3_bind_text(ins, 8, r->metadata, -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 9, r->tags, -1, SQLITE_STATIC);
            sqlite3_bind_null(ins, 10);
            sqlite3_bind_null(ins, 11);
            sqlite3_bind_int64(ins, 12, now);
            sqlite3_bind_int64(ins, 13, now);
            sqlite3_bind_int64(ins, 14, 0);
            long long id;
            if (!v->returning) {
                if (sqlite3_step(ins) != SQLITE_DONE || sqlite3_changes(db) != 1)
                    die(db, "insert task");
                id = sqlite3_last_insert_rowid(db);
            } else {
                if (sqlite3_step(ins) != SQLITE_ROW) die(db, "insert task");
                id = sqlite3_column_int64(ins, 0);
            }
            sqlite3_reset(ins);
            int ntags = taskgen_tag(r, -1, NULL, 0);
            for (int k = 0; k < ntags; k++) {
                char t[32];
                taskgen_tag(r, k, t, sizeof t);
                if (v->tags_single) {
                    sqlite3_bind_int64(tag, 1, id);
                    sqlite3_bind_int64(tag, 2, pid);
                    sqlite3_bind_text(tag, 3, t, -1, SQLITE_TRANSIENT);
                    if (sqlite3_step(tag) != SQLITE_DONE) die(db, "insert tag");
                    sqlite3_reset(tag);
                    continue;
                }
                if (ntags_wait == TAG_BATCH) {
                    for (int j = 0; j < TAG_BATCH; j++) {
                        sqlite3_bind_int64(tags, 3 * j + 1, tag_id[j]);
                        sqlite3_bind_int64(tags, 3 * j + 2, pid);
                        sqlite3_bind_text(tags, 3 * j + 3, tag_text[j], -1, SQLITE_STATIC);
                    }
                    if (sqlite3_step(tags) != SQLITE_DONE) die(db, "insert tags");
                    sqlite3_reset(tags);
                    ntags_wait = 0;
                }
                tag_id[ntags_wait] = id;
                snprintf(tag_text[ntags_wait++], sizeof tag_text[0], "%s", t);
            }
            pending++;
            if (++in_tx == tx_rows || i == count - 1) {
                for (int j = 0; j < ntags_wait; j++) {
                    sqlite3_bind_int64(tag, 1, tag_id[j]);
                    sqlite3_bind_int64(tag, 2, pid);
                    sqlite3_bind_text(tag, 3, tag_text[j], -1, SQLITE_STATIC);
                    if (sqlite3_step(tag) != SQLITE_DONE) die(db, "insert tag");
                    sqlite3_reset(tag);
                }
                ntags_wait = 0;
                sqlite3_bind_int64(cnt, 1, pid);
                sqlite3_bind_text(cnt, 2, "pending", -1, SQLITE_STATIC);
                sqlite3_bind_int64(cnt, 3, pending);
                if (sqlite3_step(cnt) != SQLITE_DONE) die(db, "count");
                sqlite3_reset(cnt);
                exec(db, "COMMIT");
                in_tx = pending = 0;
            }
        }
        double dt = now_s() - t0, cpu = cpu_s() - c0;
        rate[run] = (double)count / dt;
        printf("RESULT raw_import_run=%d tasks=%ld seconds=%.3f tasks_per_s=%.0f "
               "cpu_us_per_task=%.2f\n",
               run + 1, count, dt, rate[run], cpu * 1e6 / (double)count);
    }
    qsort(rate, (size_t)runs, sizeof *rate, cmp_double);
    printf("RESULT raw_import_median_tasks_per_s=%.0f\n", rate[runs / 2]);
    free(rate);
    free(rows);
    sqlite3_finalize(proj);
    sqlite3_finalize(ins);
    sqlite3_finalize(tag);
    sqlite3_finalize(tags);
    sqlite3_finalize(cnt);
    sqlite3_close(db);
    return 0;
}

static int cmd_pages(const char *path, long long pid, int rounds, int ngroups, char **groups)
{
    sqlite3 *db = open_db(path, SQLITE_OPEN_READONLY);
    sqlite3_stmt *st =
        prepare(db, "SELECT " TASK_COLS " FROM tasks WHERE project_id = ? AND id > ? "
                    "ORDER BY id LIMIT ?");
    for (int g = 0; g < ngroups; g++) {
        char *spec = strdup(groups[g]), *eq = strchr(spec, '=');
        if (!eq) {
            fprintf(stderr, "sqlite_raw: group \"%s\" is not NAME=AFTER,AFTER,...\n", spec);
            return 2;
        }
        *eq = '\0';
        size_t n = 0, cap = 16;
        long long *after = malloc(cap * sizeof *after);
        for (char *tok = strtok(eq + 1, ","); tok; tok = strtok(NULL, ",")) {
            if (n == cap) after = realloc(after, (cap *= 2) * sizeof *after);
            after[n++] = atoll(tok);
        }
        double *lat = malloc((size_t)rounds * n * sizeof *lat);
        size_t m = 0;
        long rows = 0;
        double c0 = cpu_s();
        for (int r = 0; r < rounds; r++)
            for (size_t i = 0; i < n; i++) {
                double t0 = now_s();
                sqlite3_bind_int64(st, 1, pid);
                sqlite3_bind_int64(st, 2, after[i]);
                sqlite3_bind_int64(st, 3, 101);
                int rc;
                size_t bytes = 0;
                while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                    for (int c = 0; c < 15; c++) {
                        sqlite3_column_text(st, c);
                        bytes += (size_t)sqlite3_column_bytes(st, c);
                    }
                    rows++;
                }
                if (rc != SQLITE_DONE) die(db, "page");
                sqlite3_reset(st);
                lat[m++] = (now_s() - t0) * 1e6;
                (void)bytes;
            }
        double cpu = cpu_s() - c0;
        qsort(lat, m, sizeof *lat, cmp_double);
        printf("RESULT raw_pages group=%s pages=%zu rows_per_page=%.1f p50_us=%.1f p99_us=%.1f "
               "max_us=%.1f "
               "cpu_us_per_page=%.1f\n",
               spec, m, m ? (double)rows / (double)m : 0.0, pct(lat, m, 0.50), pct(lat, m, 0.99),
               lat[m ? m - 1 : 0], m ? cpu * 1e6 / (double)m : 0.0);
        free(lat);
        free(after);
        free(spec);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}

/* A growing array of latencies, microseconds. */
typedef struct lats {
    double *v;
    size_t n, cap;
} lats;

static void lats_add(lats *l, double us)
{
    if (l->n == l->cap) l->v = realloc(l->v, (l->cap = l->cap ? 2 * l->cap : 4096) * sizeof *l->v);
    l->v[l->n++] = us;
}

/* Prints the RESULT line of one durable way and returns its rate. */
static double durable_report(const char *mode, const char *unit, lats *l, double dt, double cpu)
{
    qsort(l->v, l->n, sizeof *l->v, cmp_double);
    double rate = dt > 0 ? (double)l->n / dt : 0;
    printf("RESULT raw_durable_run mode=%s %s=%zu seconds=%.3f %s_per_s=%.0f p50_ms=%.3f "
           "p99_ms=%.3f max_ms=%.3f cpu_us_per_op=%.1f\n",
           mode, unit, l->n, dt, unit, rate, pct(l->v, l->n, 0.50) / 1e3,
           pct(l->v, l->n, 0.99) / 1e3, l->n ? l->v[l->n - 1] / 1e3 : 0.0,
           l->n ? cpu * 1e6 / (double)l->n : 0.0);
    fflush(stdout);
    return rate;
}

/* One committed INSERT per transaction for secs seconds; with wal_sync,
 * synchronous=NORMAL and an fdatasync() of the -wal file after each COMMIT,
 * else synchronous=FULL.  Returns commits/s. */
static double durable_inserts(const char *path, double secs, int wal_sync)
{
    sqlite3 *db = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    exec(db, wal_sync ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL");
    exec(db, "CREATE TABLE IF NOT EXISTS durable_annotations ("
             " id INTEGER PRIMARY KEY, annotation_id TEXT NOT NULL,"
             " assignment_id INTEGER NOT NULL, task_id INTEGER NOT NULL,"
             " project_id INTEGER NOT NULL, user_id INTEGER NOT NULL,"
             " response TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,"
             " UNIQUE (user_id, annotation_id))");
    int wal = -1;
    if (wal_sync) {
        char wp[4096];
        snprintf(wp, sizeof wp, "%s-wal", path);
        wal = open(wp, O_WRONLY | O_CLOEXEC);
        if (wal < 0) {
            fprintf(stderr, "sqlite_raw: %s: %s\n", wp, strerror(errno));
            exit(1);
        }
    }
    sqlite3_stmt *ins = prepare(
        db, "INSERT INTO durable_annotations (annotation_id, assignment_id, task_id, project_id, "
            "user_id, response, status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'accepted', ?)");
    /* About 150 bytes of JSON, the size of a small categorization response with
     * a comment. */
    static const char response[] =
        "{\"labels\":[\"cat\"],\"confidence\":0.87,\"comment\":\"striped tail, "
        "whiskers visible; partly behind a green chair\",\"tool\":\"loupe-web/1.4\",\"ms\":1834}";
    _Static_assert(sizeof response - 1 >= 140 && sizeof response - 1 <= 160, "response size");
    lats l = {0};
    long long base = now_ms();
    double t0 = now_s(), c0 = cpu_s(), t;
    while ((t = now_s()) - t0 < secs) {
        char aid[48];
        long long i = (long long)l.n;
        snprintf(aid, sizeof aid, "raw-%lld-%lld", base, i);
        exec(db, "BEGIN IMMEDIATE");
        sqlite3_bind_text(ins, 1, aid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(ins, 2, 1000000 + i);
        sqlite3_bind_int64(ins, 3, 1 + i / 3);
        sqlite3_bind_int64(ins, 4, 1);
        sqlite3_bind_int64(ins, 5, 2 + i % 64);
        sqlite3_bind_text(ins, 6, response, (int)sizeof response - 1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 7, now_ms());
        if (sqlite3_step(ins) != SQLITE_DONE) die(db, "insert annotation");
        sqlite3_reset(ins);
        exec(db, "COMMIT");
        if (wal >= 0 && fdatasync(wal) < 0) {
            perror("sqlite_raw: fdatasync");
            exit(1);
        }
        lats_add(&l, (now_s() - t) * 1e6);
    }
    double rate = durable_report(wal_sync ? "normal_fdatasync" : "full", "inserts", &l,
                                 now_s() - t0, cpu_s() - c0);
    if (wal >= 0) close(wal);
    free(l.v);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return rate;
}

/* 4 KiB written and fdatasync()ed for secs seconds in a scratch file next
 * to path (removed after): appended, or overwritten in place in a 1 MiB
 * file written and synced beforehand.  Returns syncs/s. */
static double bare_fdatasync(const char *path, double secs, int overwrite)
{
    char fp[4096];
    snprintf(fp, sizeof fp, "%s.fdatasync-probe", path);
    int fd = open(fp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "sqlite_raw: %s: %s\n", fp, strerror(errno));
        exit(1);
    }
    char block[4096];
    memset(block, 'x', sizeof block);
    enum { SLOTS = 256 };
    if (overwrite) {
        for (int k = 0; k < SLOTS; k++)
            if (write(fd, block, sizeof block) != (ssize_t)sizeof block) goto fail;
        if (fsync(fd) < 0) goto fail;
    }
    lats l = {0};
    double t0 = now_s(), c0 = cpu_s(), t;
    while ((t = now_s()) - t0 < secs) {
        ssize_t w = overwrite ? pwrite(fd, block, sizeof block, (off_t)(l.n % SLOTS) * 4096)
                              : write(fd, block, sizeof block);
        if (w != (ssize_t)sizeof block || fdatasync(fd) < 0) goto fail;
        lats_add(&l, (now_s() - t) * 1e6);
    }
    double rate = durable_report(overwrite ? "fdatasync_overwrite" : "fdatasync_append",
                                 "fdatasyncs", &l, now_s() - t0, cpu_s() - c0);
    free(l.v);
    close(fd);
    unlink(fp);
    return rate;
fail:
    fprintf(stderr, "sqlite_raw: %s: %s\n", fp, strerror(errno));
    exit(1);
}

static int cmd_durable(const char *path, double secs)
{
    double full = durable_inserts(path, secs, 0);
    double normal = durable_inserts(path, secs, 1);
    double append = bare_fdatasync(path, secs, 0);
    double over = bare_fdatasync(path, secs, 1);
    printf("RESULT raw_durable inserts_per_s=%.0f inserts_fdatasync_per_s=%.0f "
           "fdatasync_per_s=%.0f fdatasync_overwrite_per_s=%.0f seconds=%g\n",
           full, normal, append, over, secs);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && !strcmp(argv[1], "import") && atol(argv[3]) > 0) {
        variant v = {0};
        for (int i = 5; i < argc; i++) {
            if (!strcmp(argv[i], "fk-off"))
                v.fk_off = 1;
            else if (!strcmp(argv[i], "returning"))
                v.returning = 1;
            else if (!strncmp(argv[i], "tx=", 3))
                v.tx_rows = atol(argv[i] + 3);
            else if (!strcmp(argv[i], "tags-single"))
                v.tags_single = 1;
            else if (!strncmp(argv[i], "page=", 5))
                v.page_size = atol(argv[i] + 5);
            else if (!strncmp(argv[i], "sql=", 4))
                v.extra = argv[i] + 4;
            else {
                fprintf(stderr, "sqlite_raw: unknown variant \"%s\"\n", argv[i]);
                return 2;
            }
        }
        return cmd_import(argv[2], atol(argv[3]), atoi(argv[4]) > 0 ? atoi(argv[4]) : 1, &v);
    }
    if (argc >= 6 && !strcmp(argv[1], "pages"))
        return cmd_pages(argv[2], atoll(argv[3]), atoi(argv[4]) > 0 ? atoi(argv[4]) : 1, argc - 5,
                         argv + 5);
    if (argc == 4 && !strcmp(argv[1], "durable") && atof(argv[3]) > 0)
        return cmd_durable(argv[2], atof(argv[3]));
    fprintf(stderr, "usage: sqlite_raw import DB COUNT RUNS [fk-off] [returning] [tx=N] [page=N] "
                    "[tags-single] [sql=SQL]\n"
                    "       sqlite_raw pages DB PROJECT ROUNDS NAME=AFTER,AFTER,... [NAME=...]\n"
                    "       sqlite_raw durable DB SECONDS\n");
    return 2;
}
