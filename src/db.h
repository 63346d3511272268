/* db.h -- the SQL layer: one interface, one driver per database.
 *
 * A driver is a versioned table of functions (lp_db_driver); each backend's
 * connection struct starts with struct lp_db and each statement struct with
 * struct lp_stmt.  Callers use the lp_db_* / lp_stmt_* wrappers, never the
 * table, so tracing and the statement cache live in one place (db.c).
 *
 * Queries are written once, with '?' placeholders, in the subset of SQL that
 * SQLite 3.40 and PostgreSQL 15 share (INSERT ... RETURNING, ON CONFLICT DO
 * NOTHING, no AUTOINCREMENT); a driver rewrites placeholders if it must.
 * Migrations use a few tokens each driver defines: {id} (a generated 64-bit
 * primary key), {blob} (a byte string type), {without_rowid} (a table
 * stored as its primary key, where the database can) and {random_key} (an
 * expression worth 64 hex digits from the database's strong random source,
 * new for each row: secrets for rows that exist when a migration adds them).
 * A migration may also have a step in C (migrate.c), run after its SQL in
 * the same transaction, for what SQL cannot say on both databases.
 *
 * Statements are cached per connection by their SQL text: lp_db_prepare()
 * hands out a cached statement when one is idle and lp_stmt_done() resets it
 * and puts it back.  A connection is used by one thread at a time; the pool
 * hands connections to request threads.
 *
 * Durability and group commit.  A write is acknowledged only once it is on
 * disk.  A driver whose commit already waits for the disk (PostgreSQL) has
 * no sync slot.  One whose commit does not (SQLite in WAL mode with
 * synchronous=NORMAL) has a sync slot that makes every write committed so
 * far durable at once (one fdatasync of the WAL), so many commits share one
 * flush: a pool's syncer thread runs it while requests that wrote wait (see
 * lp_db_pool_release).  Such a database also takes one writer at a time,
 * so the pool batches the transactions of write requests into one database
 * transaction (see lp_db_pool_writer and db.c).  A connection outside a
 * pool syncs at each outermost commit and when closed. */
#ifndef LP_DB_H
#define LP_DB_H

#include <stddef.h>
#include <stdint.h>

typedef struct lp_db lp_db;
typedef struct lp_stmt lp_stmt;

enum { LP_DB_ROW = 1, LP_DB_DONE = 0 };   /* lp_stmt_step() results */
enum { LP_TX_READ = 0, LP_TX_WRITE = 1 }; /* lp_db_begin() modes */

typedef struct lp_db_driver {
    int version;        /* 1 */
    const char *scheme; /* "sqlite", "postgres" */
    /* Migration tokens and what they become: NULL-terminated pairs, e.g.
     * {"{id}", "INTEGER PRIMARY KEY", "{blob}", "BLOB", NULL}. */
    const char *const *ddl;
    int (*open)(const char *url, lp_db **out);
    void (*close)(lp_db *db);
    int (*exec)(lp_db *db, const char *sql); /* one or more statements, no rows */
    int (*begin)(lp_db *db, int mode);
    int (*commit)(lp_db *db);
    int (*rollback)(lp_db *db);
    int (*prepare)(lp_db *db, const char *sql, lp_stmt **out);
    void (*finalize)(lp_stmt *st);
    void (*reset)(lp_stmt *st); /* also clears bindings */
    int (*bind_null)(lp_stmt *st, int i);
    int (*bind_int64)(lp_stmt *st, int i, int64_t v);
    int (*bind_double)(lp_stmt *st, int i, double v);
    /* Text and blobs are not copied: they must outlive the next step/reset. */
    int (*bind_text)(lp_stmt *st, int i, const char *s, size_t n);
    int (*bind_blob)(lp_stmt *st, int i, const void *p, size_t n);
    int (*step)(lp_stmt *st);
    int (*column_is_null)(lp_stmt *st, int col);
    int64_t (*column_int64)(lp_stmt *st, int col);
    double (*column_double)(lp_stmt *st, int col);
    /* Valid until the next step/reset; never NULL ("" for NULL). */
    const char *(*column_text)(lp_stmt *st, int col, size_t *len);
    int64_t (*changes)(lp_db *db); /* rows changed by the last statement */
    /* The id the last INSERT generated; NULL when the database can only
     * report it through INSERT ... RETURNING (see lp_db_prepare_insert). */
    int64_t (*last_insert_id)(lp_db *db);
    const char *(*errmsg)(lp_db *db);
    /* 1 when transactions run side by side and take row locks (SELECT ...
     * FOR UPDATE [SKIP LOCKED]): the queries that decide from a row they
     * then change lock it.  0 when writers take turns (SQLite), where the
     * same queries run without the clause. */
    int row_locks;
    /* Optional (NULL: commits are durable when they return).  writes: a
     * count that grows with every write the connection commits; sync: makes
     * every write committed on the database so far, by any connection,
     * durable. */
    int64_t (*writes)(lp_db *db);
    int (*sync)(lp_db *db); /* 1: done, and a checkpoint is due */
    int (*checkpoint)(lp_db *db);
    /* Optional (NULL: the connection caches nothing in this process):
     * gives back the memory of pages the connection caches and no
     * statement holds (SQLite's page cache). */
    void (*shrink)(lp_db *db);
} lp_db_driver;

#define LP_STMT_CACHE 256
#define LP_STMT_PROBE 8

typedef struct lp_db_pool lp_db_pool;

struct lp_db {
    const lp_db_driver *drv;
    lp_stmt *cache[LP_STMT_CACHE]; /* idle cached statements, by SQL hash */
    int tx_depth;                  /* lp_db_begin nesting */
    lp_db_pool *pool;              /* the pool it belongs to, or NULL */
    int64_t writes_seen;           /* drv->writes when last synced or ticketed */
    int gated;                     /* holds its pool's write gate */
};

struct lp_stmt {
    lp_db *db;
    const char *sql; /* owned copy, the cache key */
    uint32_t hash;
};

/* Finds the driver for a URL ("sqlite:PATH", "postgres://..."). */
const lp_db_driver *lp_db_driver_for(const char *url);
/* Registers a driver (done once at start by lp_db_init_drivers()). */
void lp_db_init_drivers(void);

/* Opens a connection; on failure *out is NULL and errmsg (if not NULL)
 * receives a heap string the caller frees. */
int lp_db_open(const char *url, lp_db **out, char **errmsg);
void lp_db_close(lp_db *db);

int lp_db_exec(lp_db *db, const char *sql);
/* Transactions nest: the outermost begin/commit/rollback are the
 * database's; inner ones are savepoints, so an inner rollback undoes only
 * what was done since its begin, and the outer transaction goes on. */
int lp_db_begin(lp_db *db, int mode);
/* Whether a transaction is open on db. */
int lp_db_in_tx(lp_db *db);
int lp_db_commit(lp_db *db);
int lp_db_rollback(lp_db *db);
const char *lp_db_errmsg(lp_db *db);
/* Gives back the memory the connection caches in this process (SQLite's
 * page cache; nothing on PostgreSQL), to be refilled from the operating
 * system's cache by the next reads.  For a scan that reads more than the
 * cache holds (an export), which would otherwise fill it and keep it full
 * on every pooled connection it passes through. */
void lp_db_shrink(lp_db *db);
int64_t lp_db_changes(lp_db *db);
const char *lp_db_scheme(lp_db *db);
/* The driver's row_locks: index a pair of SQL texts {without, with} the
 * locking clause by it, so that both stay constant strings. */
int lp_db_row_locks(lp_db *db);

/* Prepares sql (or takes it from the cache).  Release with lp_stmt_done(). */
int lp_db_prepare(lp_db *db, const char *sql, lp_stmt **out);
void lp_stmt_done(lp_stmt *st);

/* Bind by 1-based index. */
int lp_stmt_bind_null(lp_stmt *st, int i);
int lp_stmt_bind_int64(lp_stmt *st, int i, int64_t v);
int lp_stmt_bind_double(lp_stmt *st, int i, double v);
int lp_stmt_bind_text(lp_stmt *st, int i, const char *s); /* NULL binds NULL */
int lp_stmt_bind_textn(lp_stmt *st, int i, const char *s, size_t n);
int lp_stmt_bind_blob(lp_stmt *st, int i, const void *p, size_t n);

/* Returns LP_DB_ROW, LP_DB_DONE or a negative LP_E* code. */
int lp_stmt_step(lp_stmt *st);
int lp_stmt_is_null(lp_stmt *st, int col);
int64_t lp_stmt_int64(lp_stmt *st, int col);
double lp_stmt_double(lp_stmt *st, int col);
const char *lp_stmt_text(lp_stmt *st, int col);
const char *lp_stmt_textn(lp_stmt *st, int col, size_t *len);

/* Prepares an INSERT whose generated id lp_stmt_insert_id() will return.
 * sql has no RETURNING clause: a driver that cannot report the id otherwise
 * gets " RETURNING id" appended (SQLite's RETURNING costs a quarter of a
 * bulk insert; its last-insert rowid costs nothing). */
int lp_db_prepare_insert(lp_db *db, const char *sql, lp_stmt **out);
/* Runs an INSERT from lp_db_prepare_insert once and resets it for the next
 * bindings (release it with lp_stmt_done): 0 with the new row's id,
 * none_rc when no row was inserted (ON CONFLICT DO NOTHING), or the step's
 * error. */
int lp_stmt_insert_id(lp_stmt *st, int64_t *id, int none_rc);
/* Resets a statement (clearing its bindings) to run it again. */
void lp_stmt_reset(lp_stmt *st);

/* Steps st once and releases it: 0 with column 0 of the row in *out, or
 * none_rc when there is no row, or the step's error. */
int lp_stmt_one_int64(lp_stmt *st, int64_t *out, int none_rc);

/* Runs a statement to completion with "fmt" binds: i=int64, d=double,
 * s=text (NULL binds NULL), n=NULL.  lp_db_run returns 0 or an error;
 * lp_db_int64 returns the first column of the first row in *out
 * (LP_ENOTFOUND when there is no row). */
int lp_db_run(lp_db *db, const char *sql, const char *fmt, ...);
int lp_db_int64(lp_db *db, int64_t *out, const char *sql, const char *fmt, ...);

/* Applies every migration newer than the database's version (schema.c). */
int lp_db_migrate(lp_db *db);
int lp_db_schema_version(lp_db *db, int *out);

/* A fixed-size pool of connections shared by request threads, with a
 * syncer thread when the driver has a sync slot. */
int lp_db_pool_new(const char *url, int size, lp_db_pool **out, char **errmsg);
/* Stops the syncer (after a last sync that answers every waiter) and
 * closes the connections. */
void lp_db_pool_free(lp_db_pool *pool);
/* Blocks until a connection is free. */
lp_db *lp_db_pool_get(lp_db_pool *pool);
/* The pool's writer connection, once no one else holds it (a pooled one
 * where the database takes concurrent writers): for requests that are one
 * write transaction, which take turns on the database's write lock anyway.
 * Their transactions are savepoints of one batch transaction that the pool
 * commits for many of them at once, and its page cache stays warm, where a
 * pooled connection's is dropped whenever another connection has written.
 * Give it back with lp_db_pool_release (or _put); its writes are committed
 * and durable when the waiter is called. */
lp_db *lp_db_pool_writer(lp_db_pool *pool);
/* A request that will ask for the writer says so early (delta 1, when it
 * starts reading its body, say), so that a batch it could join stays open
 * for it; it then asks with lp_db_pool_writer_expected(pool, 1) (which is
 * lp_db_pool_writer when expected is 0), or takes it back (delta -1) if it
 * will not ask after all. */
void lp_db_pool_expect_writer(lp_db_pool *pool, int delta);
/* Whether the database takes one writer at a time (and the pool batches
 * the writer's transactions). */
int lp_db_pool_single_writer(lp_db_pool *pool);
lp_db *lp_db_pool_writer_expected(lp_db_pool *pool, int expected);
/* lp_db_pool_release without a waiter: blocks until its writes are
 * durable. */
void lp_db_pool_put(lp_db_pool *pool, lp_db *db);

/* Whether the connection wrote since its writes were last made durable
 * (always 0 where commits are durable by themselves). */
int lp_db_wrote(lp_db *db);

/* A wait for a request's writes to be durable, owned by the caller until
 * fn is called. */
typedef struct lp_db_waiter {
    void (*fn)(void *arg); /* called once, from another thread, or from the releasing one */
    void *arg;
    int result; /* then: 0, or the error that made the writes fail (not committed) */
    /* the pool's */
    int64_t ticket;
    int done;
    lp_db_pool *pool;
    struct lp_db_waiter *next;
} lp_db_waiter;

/* Gives a connection (pooled or the writer) back.  Returns 1 when it wrote
 * nothing that is not durable yet; else 0, and w->fn(w->arg) is called once
 * its writes are on disk (w->result 0) or have failed to commit (w->result
 * < 0: the caller must not acknowledge them).  With w NULL, blocks until
 * then and returns 1. */
int lp_db_pool_release(lp_db_pool *pool, lp_db *db, lp_db_waiter *w);

/* How many syncs the pool did, tickets it issued, and writer batches it
 * committed holding how many requests in all (tests and metrics). */
void lp_db_pool_sync_stats(lp_db_pool *pool, uint64_t *syncs, uint64_t *tickets, uint64_t *batches,
                           uint64_t *batched);

/* Drivers. */
extern const lp_db_driver lp_db_sqlite_driver;
extern const lp_db_driver lp_db_pg_driver;

#endif
