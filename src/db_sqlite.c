/* db_sqlite.c -- the SQLite driver of the SQL layer (db.h).
 *
 * One lp_sqlite per connection; a connection is used by one thread at a time
 * (the pool guarantees it), so the library runs in its no-mutex mode.  Every
 * connection turns on WAL (readers never block the writer), foreign keys and
 * a busy timeout (writers queue instead of failing).  Write transactions
 * start IMMEDIATE so two writers never deadlock on a lock upgrade.
 *
 * Durability: commits run with synchronous=NORMAL, which in WAL mode writes
 * the transaction to the WAL without flushing it; sq_sync then flushes the
 * WAL file (fdatasync), which makes every transaction committed before it
 * durable at once -- SQLite's recovery replays every WAL frame on disk up
 * to the last commit with a valid checksum.  The pool (db.c) calls it once
 * for many commits (group commit): the durability of synchronous=FULL at a
 * fraction of its flushes.  A database not in WAL mode (an in-memory one,
 * or a file system without shared memory) runs synchronous=FULL instead. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "util.h"

typedef struct lp_sqlite {
    lp_db base;
    sqlite3 *h;
    int last_rc;
    int wal;         /* in WAL mode: sq_sync flushes the WAL */
    int64_t commits; /* write transactions committed (DDL included) */
    int wal_fd;      /* the WAL file, opened by the first sync (-1: not yet) */
} lp_sqlite;

typedef struct lp_sqlite_stmt {
    lp_stmt base;
    sqlite3_stmt *s;
} lp_sqlite_stmt;

#define H(db) (((lp_sqlite *)(db))->h)
#define S(st) (((lp_sqlite_stmt *)(st))->s)

/* Turns a SQLite result code into an LP_E* code. */
static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK: return 0;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return LP_EBUSY;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) return LP_EEXISTS;
        return LP_ECONFLICT;
    case SQLITE_TOOBIG: return LP_ETOOBIG;
    case SQLITE_NOMEM: return LP_ENOMEM;
    case SQLITE_FULL: return LP_ENOSPC;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN: return LP_EIO;
    default: return LP_EDB;
    }
}

static void sq_close(lp_db *db)
{
    if (!db) return;
    lp_sqlite *s = (lp_sqlite *)db;
    if (s->wal_fd >= 0) close(s->wal_fd);
    sqlite3_close_v2(H(db));
    free(db);
}

/* An I/O error whose cause was a full disk (a write or a sync that met
 * ENOSPC, which SQLite does not always report as SQLITE_FULL) is one. */
static int map_err(sqlite3 *h, int rc)
{
    int lp = map_rc(rc);
    if (lp == LP_EIO && sqlite3_system_errno(h) == ENOSPC) return LP_ENOSPC;
    return lp;
}

static int sq_exec(lp_db *db, const char *sql)
{
    return map_err(H(db), sqlite3_exec(H(db), sql, NULL, NULL, NULL));
}

/* SQLite keeps memory statistics under a global mutex taken on every
 * allocation; Loupe never reads them, so they are turned off once, before
 * the library initialises. */
static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static void configure(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Counts the connection's commits of write transactions (the hook is not
 * called for read-only ones); returning 0 lets the commit go on. */
static int on_commit(void *arg)
{
    ((lp_sqlite *)arg)->commits++;
    return 0;
}

static int sq_open(const char *url, lp_db **out)
{
    pthread_once(&config_once, configure);
    const char *path = url + strlen("sqlite:");
    if (strncmp(path, "//", 2) == 0) path += 2; /* sqlite:///abs/path */
    lp_sqlite *db = lp_calloc(1, sizeof *db);
    db->base.drv = &lp_db_sqlite_driver;
    db->wal_fd = -1;
    *out = &db->base;
    int rc = sqlite3_open_v2(
        path, &db->h,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL);
    if (rc != SQLITE_OK) return map_rc(rc) ? map_rc(rc) : LP_EIO;
    sqlite3_extended_result_codes(db->h, 1);
    sqlite3_busy_timeout(db->h, 10000);
    sqlite3_commit_hook(db->h, on_commit, db);
    sqlite3_stmt *mode;
    if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode=WAL", -1, &mode, NULL) != SQLITE_OK)
        return map_rc(sqlite3_errcode(db->h));
    if (sqlite3_step(mode) == SQLITE_ROW)
        db->wal = !strcmp((const char *)sqlite3_column_text(mode, 0), "wal");
    sqlite3_finalize(mode);
    rc = sq_exec(&db->base, db->wal ? "PRAGMA synchronous=NORMAL;" : "PRAGMA synchronous=FULL;");
    if (db->wal) sqlite3_wal_autocheckpoint(db->h, 0); /* sq_sync checkpoints */
    if (rc == 0)
        rc = sq_exec(&db->base, "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
                                "PRAGMA cache_size=-65536;");
    return rc;
}

static int sq_begin(lp_db *db, int mode)
{
    return sq_exec(db, mode == LP_TX_WRITE ? "BEGIN IMMEDIATE" : "BEGIN");
}

static int sq_commit(lp_db *db)
{
    return sq_exec(db, "COMMIT");
}

static int sq_rollback(lp_db *db)
{
    return sq_exec(db, "ROLLBACK");
}

static int sq_prepare(lp_db *db, const char *sql, lp_stmt **out)
{
    lp_sqlite_stmt *st = lp_calloc(1, sizeof *st);
    int rc = sqlite3_prepare_v3(H(db), sql, -1, SQLITE_PREPARE_PERSISTENT, &st->s, NULL);
    if (rc != SQLITE_OK) {
        free(st);
        *out = NULL;
        return map_rc(rc) ? map_rc(rc) : LP_EDB;
    }
    *out = &st->base;
    return 0;
}

static void sq_finalize(lp_stmt *st)
{
    if (!st) return;
    sqlite3_finalize(S(st));
    free(st);
}

static void sq_reset(lp_stmt *st)
{
    sqlite3_reset(S(st));
    sqlite3_clear_bindings(S(st));
}

static int sq_bind_null(lp_stmt *st, int i)
{
    return map_rc(sqlite3_bind_null(S(st), i));
}

static int sq_bind_int64(lp_stmt *st, int i, int64_t v)
{
    return map_rc(sqlite3_bind_int64(S(st), i, v));
}

static int sq_bind_double(lp_stmt *st, int i, double v)
{
    return map_rc(sqlite3_bind_double(S(st), i, v));
}

static int sq_bind_text(lp_stmt *st, int i, const char *s, size_t n)
{
    return map_rc(sqlite3_bind_text64(S(st), i, s, n, SQLITE_STATIC, SQLITE_UTF8));
}

static int sq_bind_blob(lp_stmt *st, int i, const void *p, size_t n)
{
    return map_rc(sqlite3_bind_blob64(S(st), i, p, n, SQLITE_STATIC));
}

static int sq_step(lp_stmt *st)
{
    int rc = sqlite3_step(S(st));
    if (rc == SQLITE_ROW) return LP_DB_ROW;
    if (rc == SQLITE_DONE) return LP_DB_DONE;
    rc = sqlite3_extended_errcode(H(st->db));
    int lp = map_err(H(st->db), rc);
    return lp ? lp : LP_EDB;
}

static int sq_column_is_null(lp_stmt *st, int col)
{
    return sqlite3_column_type(S(st), col) == SQLITE_NULL;
}

static int64_t sq_column_int64(lp_stmt *st, int col)
{
    return sqlite3_column_int64(S(st), col);
}

static double sq_column_double(lp_stmt *st, int col)
{
    return sqlite3_column_double(S(st), col);
}

static const char *sq_column_text(lp_stmt *st, int col, size_t *len)
{
    const unsigned char *t = sqlite3_column_text(S(st), col);
    *len = t ? (size_t)sqlite3_column_bytes(S(st), col) : 0;
    return t ? (const char *)t : "";
}

static int64_t sq_changes(lp_db *db)
{
    return sqlite3_changes64(H(db));
}

static int64_t sq_last_insert_id(lp_db *db)
{
    return sqlite3_last_insert_rowid(H(db));
}

static int64_t sq_writes(lp_db *db)
{
    return ((lp_sqlite *)db)->commits;
}

/* Flushes the WAL: every transaction committed so far, by any connection
 * to the database, is then on disk.  The WAL file is opened once and kept;
 * it is reopened if SQLite replaced it (when the last connection to the
 * database closed). */
#define LP_CHECKPOINT_BYTES (16 << 20)

static int sq_sync(lp_db *base)
{
    lp_sqlite *db = (lp_sqlite *)base;
    if (!db->wal) return 0; /* synchronous=FULL: the commit flushed */
    const char *main_path = sqlite3_db_filename(db->h, "main");
    if (!main_path || !*main_path) return 0; /* in memory */
    char path[4096];
    snprintf(path, sizeof path, "%s-wal", main_path);
    struct stat a, b;
    if (db->wal_fd >= 0 && (stat(path, &a) < 0 || fstat(db->wal_fd, &b) < 0 ||
                            a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
        close(db->wal_fd);
        db->wal_fd = -1;
    }
    if (db->wal_fd < 0) {
        db->wal_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (db->wal_fd < 0) return errno == ENOENT ? 0 : LP_EIO; /* nothing written yet */
        lp_sync_parent(path);
    }
    if (fdatasync(db->wal_fd) != 0) return errno == ENOSPC ? LP_ENOSPC : LP_EIO;
    struct stat st;
    return fstat(db->wal_fd, &st) == 0 && st.st_size > LP_CHECKPOINT_BYTES;
}

/* Copies the WAL back into the database once it holds
 * LP_CHECKPOINT_BYTES: on the pool's checkpoint thread, off the writers'
 * and the syncer's path (SQLite's automatic checkpoint, turned off in
 * sq_open, would run it in a committing writer while every other writer
 * waits), and seldom, so that a page written many times is copied once.
 * PASSIVE never blocks a reader or writer; the WAL restarts from its
 * beginning once every reader has moved past it. */
static int sq_checkpoint(lp_db *db)
{
    return map_err(H(db),
                   sqlite3_wal_checkpoint_v2(H(db), NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL));
}

static const char *const ddl[] = {"{id}",
                                  "INTEGER PRIMARY KEY",
                                  "{blob}",
                                  "BLOB",
                                  "{without_rowid}",
                                  " WITHOUT ROWID",
                                  "{random_key}",
                                  "lower(hex(randomblob(32)))",
                                  NULL};

static const char *sq_errmsg(lp_db *db)
{
    return H(db) ? sqlite3_errmsg(H(db)) : "cannot open database";
}

static void sq_shrink(lp_db *db)
{
    sqlite3_db_release_memory(H(db));
}

const lp_db_driver lp_db_sqlite_driver = {
    .version = 1,
    .scheme = "sqlite",
    .ddl = ddl,
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .reset = sq_reset,
    .bind_null = sq_bind_null,
    .bind_int64 = sq_bind_int64,
    .bind_double = sq_bind_double,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .step = sq_step,
    .column_is_null = sq_column_is_null,
    .column_int64 = sq_column_int64,
    .column_double = sq_column_double,
    .column_text = sq_column_text,
    .changes = sq_changes,
    .last_insert_id = sq_last_insert_id,
    .errmsg = sq_errmsg,
    .writes = sq_writes,
    .sync = sq_sync,
    .checkpoint = sq_checkpoint,
    .shrink = sq_shrink,
};
