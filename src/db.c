/* db.c -- the driver-independent half of the SQL layer: URL dispatch, the
 * per-connection statement cache, nested transactions, bind helpers,
 * migrations and the connection pool.  See db.h for the contract.
 *
 * Invariant of the cache: a statement is either idle in db->cache (reset,
 * bindings cleared), within LP_STMT_PROBE slots of its hash's home slot, or
 * checked out by exactly one caller.  A second caller asking for SQL whose
 * statement is checked out gets a new one; both are kept when they come
 * back if there is room, else the home slot's statement is finalized.
 */
#include "db.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "schema.h"
#include "util.h"

static const lp_db_driver *drivers[4];

void lp_db_init_drivers(void)
{
    drivers[0] = &lp_db_sqlite_driver;
    drivers[1] = &lp_db_pg_driver;
}

/* A URL is the driver's scheme and a colon; "postgresql:" is PostgreSQL's
 * other spelling. */
const lp_db_driver *lp_db_driver_for(const char *url)
{
    if (!drivers[0]) lp_db_init_drivers();
    if (strncmp(url, "postgresql:", 11) == 0) return &lp_db_pg_driver;
    for (size_t i = 0; i < LP_ARRAY_LEN(drivers) && drivers[i]; i++) {
        size_t n = strlen(drivers[i]->scheme);
        if (strncmp(url, drivers[i]->scheme, n) == 0 && url[n] == ':') return drivers[i];
    }
    return NULL;
}

int lp_db_open(const char *url, lp_db **out, char **errmsg)
{
    *out = NULL;
    if (errmsg) *errmsg = NULL;
    const lp_db_driver *drv = lp_db_driver_for(url);
    if (!drv) {
        if (errmsg) {
            if (strncmp(url, "postgres", 8) == 0)
                *errmsg = lp_strdup("the PostgreSQL driver is not built into this "
                                    "version of loupe; use sqlite:PATH");
            else
                *errmsg = lp_sprintf("unknown database URL \"%s\" (expected sqlite:PATH "
                                     "or postgres://...)",
                                     url);
        }
        return LP_ENOTSUP;
    }
    lp_db *db = NULL;
    int rc = drv->open(url, &db);
    if (rc < 0) {
        if (errmsg) *errmsg = lp_strdup(db ? drv->errmsg(db) : lp_strerror(rc));
        if (db) drv->close(db);
        return rc;
    }
    *out = db;
    return 0;
}

static void stmt_free(lp_stmt *st);

/* A connection outside a pool makes its own writes durable, and runs the
 * checkpoint its sync says is due. */
static int sync_alone(lp_db *db)
{
    if (db->pool || !db->drv->sync || !db->drv->writes) return 0;
    int64_t w = db->drv->writes(db);
    if (w == db->writes_seen) return 0;
    db->writes_seen = w;
    int rc = db->drv->sync(db);
    if (rc == 1 && db->drv->checkpoint) db->drv->checkpoint(db);
    return rc < 0 ? rc : 0;
}

void lp_db_close(lp_db *db)
{
    if (!db) return;
    sync_alone(db);
    for (int i = 0; i < LP_STMT_CACHE; i++)
        if (db->cache[i]) stmt_free(db->cache[i]);
    db->drv->close(db);
}

int lp_db_exec(lp_db *db, const char *sql)
{
    return db->drv->exec(db, sql);
}

/* Nested transactions are savepoints named after their depth, run as
 * cached statements (they are as frequent as transactions). */
static int savepoint(lp_db *db, const char *verb, int depth)
{
    char sql[64];
    snprintf(sql, sizeof sql, "%s lp%d", verb, depth);
    lp_stmt *st;
    int rc = lp_db_prepare(db, sql, &st);
    if (rc < 0) return rc;
    rc = lp_stmt_step(st);
    lp_stmt_done(st);
    return rc < 0 ? rc : 0;
}

/* Pool hooks for transactions (defined with the pool below): a write
 * transaction on a pooled connection of a single-writer database passes
 * the pool's gate, and the writer connection's transactions are savepoints
 * of its open batch. */
static int pool_tx_begin(lp_db *db, int mode, int *handled);
static int pool_tx_end(lp_db *db, int commit, int *handled);

int lp_db_in_tx(lp_db *db)
{
    return db->tx_depth > 0;
}

int lp_db_begin(lp_db *db, int mode)
{
    if (db->tx_depth > 0) {
        int rc = savepoint(db, "SAVEPOINT", db->tx_depth + 1);
        if (rc == 0) db->tx_depth++;
        return rc;
    }
    int handled = 0;
    int rc = db->pool ? pool_tx_begin(db, mode, &handled) : 0;
    if (!handled) rc = db->drv->begin(db, mode);
    if (rc == 0) db->tx_depth = 1;
    return rc;
}

int lp_db_commit(lp_db *db)
{
    if (db->tx_depth <= 0) return LP_EINVAL;
    if (db->tx_depth > 1) return savepoint(db, "RELEASE", db->tx_depth--);
    db->tx_depth = 0;
    int handled = 0;
    int rc = db->pool ? pool_tx_end(db, 1, &handled) : 0;
    if (handled) return rc;
    rc = db->drv->commit(db);
    if (rc < 0)
        db->drv->rollback(db);
    else
        rc = sync_alone(db);
    return rc;
}

int lp_db_rollback(lp_db *db)
{
    if (db->tx_depth <= 0) return LP_EINVAL;
    if (db->tx_depth > 1) {
        int rc = savepoint(db, "ROLLBACK TO", db->tx_depth);
        int rc2 = savepoint(db, "RELEASE", db->tx_depth--);
        return rc < 0 ? rc : rc2;
    }
    db->tx_depth = 0;
    int handled = 0;
    int rc = db->pool ? pool_tx_end(db, 0, &handled) : 0;
    return handled ? rc : db->drv->rollback(db);
}

const char *lp_db_errmsg(lp_db *db)
{
    return db->drv->errmsg(db);
}

void lp_db_shrink(lp_db *db)
{
    if (db->drv->shrink) db->drv->shrink(db);
}

int64_t lp_db_changes(lp_db *db)
{
    return db->drv->changes(db);
}

const char *lp_db_scheme(lp_db *db)
{
    return db->drv->scheme;
}

int lp_db_row_locks(lp_db *db)
{
    return db->drv->row_locks != 0;
}

static uint32_t sql_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* A statement lives in one of LP_STMT_PROBE slots from its hash's home
 * slot, so hot statements whose hashes collide do not evict each other. */
static int slot_of(uint32_t h, int k)
{
    return (int)((h + (uint32_t)k) % LP_STMT_CACHE);
}

int lp_db_prepare(lp_db *db, const char *sql, lp_stmt **out)
{
    uint32_t h = sql_hash(sql);
    for (int k = 0; k < LP_STMT_PROBE; k++) {
        lp_stmt *st = db->cache[slot_of(h, k)];
        if (st && st->hash == h && strcmp(st->sql, sql) == 0) {
            db->cache[slot_of(h, k)] = NULL; /* checked out */
            *out = st;
            return 0;
        }
    }
    lp_stmt *st;
    int rc = db->drv->prepare(db, sql, &st);
    if (rc < 0) {
        *out = NULL;
        return rc;
    }
    st->db = db;
    st->sql = lp_strdup(sql);
    st->hash = h;
    *out = st;
    return 0;
}

static void stmt_free(lp_stmt *st)
{
    free((char *)st->sql);
    st->db->drv->finalize(st);
}

void lp_stmt_done(lp_stmt *st)
{
    if (!st) return;
    lp_db *db = st->db;
    db->drv->reset(st);
    for (int k = 0; k < LP_STMT_PROBE; k++) {
        if (!db->cache[slot_of(st->hash, k)]) {
            db->cache[slot_of(st->hash, k)] = st;
            return;
        }
    }
    /* Every slot is taken: the statement at the home slot makes room. */
    int home = slot_of(st->hash, 0);
    stmt_free(db->cache[home]);
    db->cache[home] = st;
}

int lp_stmt_bind_null(lp_stmt *st, int i)
{
    return st->db->drv->bind_null(st, i);
}

int lp_stmt_bind_int64(lp_stmt *st, int i, int64_t v)
{
    return st->db->drv->bind_int64(st, i, v);
}

int lp_stmt_bind_double(lp_stmt *st, int i, double v)
{
    return st->db->drv->bind_double(st, i, v);
}

int lp_stmt_bind_text(lp_stmt *st, int i, const char *s)
{
    if (!s) return st->db->drv->bind_null(st, i);
    return st->db->drv->bind_text(st, i, s, strlen(s));
}

int lp_stmt_bind_textn(lp_stmt *st, int i, const char *s, size_t n)
{
    return st->db->drv->bind_text(st, i, s, n);
}

int lp_stmt_bind_blob(lp_stmt *st, int i, const void *p, size_t n)
{
    return st->db->drv->bind_blob(st, i, p, n);
}

int lp_stmt_step(lp_stmt *st)
{
    return st->db->drv->step(st);
}

int lp_stmt_is_null(lp_stmt *st, int col)
{
    return st->db->drv->column_is_null(st, col);
}

int64_t lp_stmt_int64(lp_stmt *st, int col)
{
    return st->db->drv->column_int64(st, col);
}

double lp_stmt_double(lp_stmt *st, int col)
{
    return st->db->drv->column_double(st, col);
}

const char *lp_stmt_text(lp_stmt *st, int col)
{
    size_t n;
    return st->db->drv->column_text(st, col, &n);
}

const char *lp_stmt_textn(lp_stmt *st, int col, size_t *len)
{
    return st->db->drv->column_text(st, col, len);
}

static int bind_va(lp_stmt *st, const char *fmt, va_list ap)
{
    int rc = 0;
    for (int i = 1; fmt && *fmt && rc == 0; fmt++, i++) {
        switch (*fmt) {
        case 'i': rc = lp_stmt_bind_int64(st, i, va_arg(ap, int64_t)); break;
        case 'd': rc = lp_stmt_bind_double(st, i, va_arg(ap, double)); break;
        case 's': rc = lp_stmt_bind_text(st, i, va_arg(ap, const char *)); break;
        case 'n': rc = lp_stmt_bind_null(st, i); break;
        default: rc = LP_EINVAL;
        }
    }
    return rc;
}

int lp_db_run(lp_db *db, const char *sql, const char *fmt, ...)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db, sql, &st);
    if (rc < 0) return rc;
    va_list ap;
    va_start(ap, fmt);
    rc = bind_va(st, fmt, ap);
    va_end(ap);
    while (rc == 0 && (rc = lp_stmt_step(st)) == LP_DB_ROW) rc = 0;
    lp_stmt_done(st);
    return rc < 0 ? rc : 0;
}

int lp_stmt_one_int64(lp_stmt *st, int64_t *out, int none_rc)
{
    int rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        *out = lp_stmt_int64(st, 0);
        rc = 0;
    } else if (rc == LP_DB_DONE) {
        rc = none_rc;
    }
    lp_stmt_done(st);
    return rc;
}

int lp_db_prepare_insert(lp_db *db, const char *sql, lp_stmt **out)
{
    if (db->drv->last_insert_id) return lp_db_prepare(db, sql, out);
    char *with = lp_sprintf("%s RETURNING id", sql);
    int rc = lp_db_prepare(db, with, out);
    free(with);
    return rc;
}

void lp_stmt_reset(lp_stmt *st)
{
    st->db->drv->reset(st);
}

int lp_stmt_insert_id(lp_stmt *st, int64_t *id, int none_rc)
{
    lp_db *db = st->db;
    int rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW && !db->drv->last_insert_id) {
        *id = lp_stmt_int64(st, 0); /* the appended RETURNING id */
        rc = 0;
    } else if (rc == LP_DB_DONE) {
        rc = none_rc;
        if (db->drv->last_insert_id && lp_db_changes(db) > 0) {
            *id = db->drv->last_insert_id(db);
            rc = 0;
        }
    } else if (rc == LP_DB_ROW) {
        rc = LP_EINVAL; /* the SQL had a RETURNING clause of its own */
    }
    lp_stmt_reset(st);
    return rc;
}

int lp_db_int64(lp_db *db, int64_t *out, const char *sql, const char *fmt, ...)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db, sql, &st);
    if (rc < 0) return rc;
    va_list ap;
    va_start(ap, fmt);
    rc = bind_va(st, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        lp_stmt_done(st);
        return rc;
    }
    return lp_stmt_one_int64(st, out, LP_ENOTFOUND);
}

/* Expands the migration tokens (db.h) for this driver. */
static char *expand_ddl(const lp_db_driver *drv, const char *sql)
{
    lp_buf b = {0};
    for (const char *p = sql; *p;) {
        const char *const *t = drv->ddl;
        while (*t && strncmp(p, t[0], strlen(t[0])) != 0) t += 2;
        if (*t) {
            lp_buf_puts(&b, t[1]);
            p += strlen(t[0]);
        } else {
            lp_buf_append(&b, p++, 1);
        }
    }
    return b.data;
}

int lp_db_schema_version(lp_db *db, int *out)
{
    int rc = lp_db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version "
                            "(version BIGINT NOT NULL, applied_at BIGINT NOT NULL)");
    if (rc < 0) return rc;
    int64_t v = 0;
    rc = lp_db_int64(db, &v, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL);
    *out = (int)v;
    return rc;
}

int lp_db_migrate(lp_db *db)
{
    int have = 0;
    int rc = lp_db_schema_version(db, &have);
    if (rc < 0) return rc;
    for (size_t i = 0; i < lp_migration_count; i++) {
        const lp_migration *m = &lp_migrations[i];
        if (m->version <= have) continue;
        char *sql = expand_ddl(db->drv, m->sql);
        rc = lp_db_begin(db, LP_TX_WRITE);
        if (rc == 0) rc = lp_db_exec(db, sql);
        for (size_t k = 0; rc == 0 && k < lp_migration_step_count; k++)
            if (lp_migration_steps[k].version == m->version) rc = lp_migration_steps[k].fn(db);
        if (rc == 0)
            rc = lp_db_run(db, "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                           "ii", (int64_t)m->version, lp_now_ms());
        free(sql);
        if (rc < 0) {
            lp_db_rollback(db);
            return rc;
        }
        rc = lp_db_commit(db);
        if (rc < 0) return rc;
    }
    return 0;
}

/* The pool, its writer and its syncer.
 *
 * On a single-writer database (a driver with a sync slot: SQLite), the
 * pool's gate is the database's write lock within the process: a pooled
 * connection passes it to begin a write transaction (writers queue on a
 * semaphore rather than on SQLite's busy timeout, which polls with sleeps
 * of up to 100 ms).  The writer connection holds the gate for a batch: one
 * database transaction in which each request's transaction is a savepoint
 * (a failed request rolls back alone), committed when no request waits for
 * the writer, or another connection waits at the gate, or the batch is
 * LP_BATCH_MAX requests or LP_BATCH_MS old.  Many requests then share one
 * commit and its WAL writes, and one flush.
 *
 * Tickets are issued in commit order (issued); the syncer reads issued,
 * syncs, and then every ticket up to what it read is durable (synced),
 * since each was issued after its commit returned. */
#define LP_BATCH_MAX 256
#define LP_BATCH_MS  5

struct lp_db_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int size, nfree;
    lp_db **all, **free;
    int single_writer;
    sem_t gate;
    atomic_int gate_waiting;
    /* the writer and its batch (the batch fields are the writer holder's) */
    lp_db *writer;
    pthread_mutex_t writer_mu;
    atomic_int writer_waiting; /* threads waiting for the writer, or about to ask */
    int batch_open, batch_n, batch_failed;
    uint64_t batch_start_ns;
    lp_db_waiter *batch_waiters;
    /* group commit */
    lp_db *sync_db, *ckpt_db;
    pthread_t syncer, checkpointer;
    pthread_cond_t ckpt_cv;
    int ckpt_due;
    pthread_cond_t work_cv, done_cv;
    int stop, syncing;
    int sync_failed; /* a flush failed (its error): nothing is flushed, or acknowledged, again */
    atomic_int commit_asap;  /* the syncer is idle: the open batch should commit now */
    atomic_int batch_opened; /* a batch is open: the idle syncer checks on it */
    int64_t issued, synced;
    lp_db_waiter *waiters;
    uint64_t syncs, batches, batched;        /* for tests and metrics */
    uint64_t held_ns, commit_ns, held_since; /* time the writer is held, and committing */
    uint64_t sync_ns;
};

static void gate_enter(lp_db_pool *p)
{
    atomic_fetch_add(&p->gate_waiting, 1);
    while (sem_wait(&p->gate) != 0) continue; /* EINTR */
    atomic_fetch_sub(&p->gate_waiting, 1);
}

static void gate_leave(lp_db_pool *p)
{
    sem_post(&p->gate);
}

static int pool_tx_begin(lp_db *db, int mode, int *handled)
{
    lp_db_pool *p = db->pool;
    if (!p->single_writer || db == p->sync_db) return 0;
    if (db == p->writer) {
        *handled = 1;
        if (!p->batch_open) {
            gate_enter(p);
            int rc = db->drv->begin(db, LP_TX_WRITE);
            if (rc < 0) {
                gate_leave(p);
                return rc;
            }
            p->batch_open = 1;
            pthread_mutex_lock(&p->mu); /* wake the idle syncer to watch it */
            atomic_store(&p->batch_opened, 1);
            pthread_cond_signal(&p->work_cv);
            pthread_mutex_unlock(&p->mu);
            p->batch_failed = 0;
            p->batch_start_ns = lp_mono_ns();
        }
        return savepoint(db, "SAVEPOINT", 1);
    }
    if (mode != LP_TX_WRITE) return 0;
    gate_enter(p);
    int rc = db->drv->begin(db, mode);
    if (rc < 0) gate_leave(p);
    db->gated = rc == 0;
    *handled = 1;
    return rc;
}

static int pool_tx_end(lp_db *db, int commit, int *handled)
{
    lp_db_pool *p = db->pool;
    if (db == p->writer && p->batch_open) {
        *handled = 1;
        int rc = commit ? 0 : savepoint(db, "ROLLBACK TO", 1);
        int rc2 = savepoint(db, "RELEASE", 1);
        if (rc == 0) rc = rc2;
        if (rc < 0 && !p->batch_failed) p->batch_failed = rc; /* the batch is in doubt */
        return rc;
    }
    if (!db->gated) return 0;
    *handled = 1;
    int rc;
    if (commit) {
        rc = db->drv->commit(db);
        if (rc < 0) db->drv->rollback(db);
    } else {
        rc = db->drv->rollback(db);
    }
    db->gated = 0;
    gate_leave(p);
    return rc;
}

static void commit_batch(lp_db_pool *p);

/* Commits the open batch if the syncer asked for it and the writer is
 * free. */
static void commit_if_asap(lp_db_pool *p)
{
    if (!atomic_load(&p->commit_asap) || pthread_mutex_trylock(&p->writer_mu) != 0) return;
    if (p->batch_open && atomic_exchange(&p->commit_asap, 0)) commit_batch(p);
    pthread_mutex_unlock(&p->writer_mu);
}

/* Runs the driver's sync whenever tickets wait, then answers the waiters
 * whose tickets it covered.  A failed sync is retried: no waiter is
 * answered until its writes are on disk. */
static void *syncer_main(void *arg)
{
    lp_db_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->issued == p->synced) {
            if (p->stop) break;
            if (!atomic_load(&p->batch_opened)) {
                pthread_cond_wait(&p->work_cv, &p->mu);
                continue;
            }
            /* A batch is open and nothing is being flushed: commit it if it
             * is still open in a moment (a request said it would join, but
             * is slow to come -- a client sending its body slowly, say). */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += LP_BATCH_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            if (pthread_cond_timedwait(&p->work_cv, &p->mu, &ts) == ETIMEDOUT) {
                pthread_mutex_unlock(&p->mu);
                atomic_store(&p->commit_asap, 1);
                commit_if_asap(p);
                pthread_mutex_lock(&p->mu);
            }
            continue;
        }
        int64_t target = p->issued;
        p->syncing = 1;
        pthread_mutex_unlock(&p->mu);
        uint64_t ts0 = lp_mono_ns();
        int rc = p->sync_db->drv->sync(p->sync_db);
        p->sync_ns += lp_mono_ns() - ts0;
        if (rc == 1) { /* the checkpoint thread's turn (db.h) */
            pthread_mutex_lock(&p->mu);
            p->ckpt_due = 1;
            pthread_cond_signal(&p->ckpt_cv);
            pthread_mutex_unlock(&p->mu);
            rc = 0;
        }
        if (rc < 0) {
            /* After a failed fsync the kernel may have dropped the pages it
             * could not write and marked them clean, so a second fsync can
             * succeed over lost data ("fsyncgate"; PostgreSQL stops on it
             * since 2018).  Nothing written since the last flush may be
             * acknowledged: every waiting request gets the error, and so
             * does every later one.  Then the process ends at once (status
             * 1) -- not a clean stop, whose last checkpoint would copy the
             * suspect WAL into the database -- and a restart recovers the
             * database from what the disk holds. */
            lp_log(LP_LOG_ERROR,
                   "flushing the database to disk failed (%s): the writes since the last flush "
                   "may not be on disk; they are answered with errors and loupe exits (status "
                   "1), so that a restart recovers the database from what the disk holds",
                   lp_strerror(rc));
            pthread_mutex_lock(&p->mu);
            p->sync_failed = rc;
            p->syncing = 0;
            lp_db_waiter *failed = p->waiters;
            p->waiters = NULL;
            pthread_cond_broadcast(&p->done_cv);
            pthread_mutex_unlock(&p->mu);
            for (lp_db_waiter *w = failed, *next; w; w = next) {
                next = w->next; /* read before fn: fn may free w */
                w->result = rc;
                w->fn(w->arg);
            }
            struct timespec ts = {0, 200 * 1000 * 1000}; /* the error replies go out */
            nanosleep(&ts, NULL);
            _exit(1);
        }
        pthread_mutex_lock(&p->mu);
        p->syncing = 0;
        p->synced = target;
        p->syncs++;
        lp_db_waiter *ready = NULL, **at = &p->waiters;
        while (*at) {
            lp_db_waiter *w = *at;
            if (w->ticket <= target) {
                *at = w->next;
                w->next = ready;
                ready = w;
            } else {
                at = &w->next;
            }
        }
        pthread_cond_broadcast(&p->done_cv);
        pthread_mutex_unlock(&p->mu);
        while (ready) {
            lp_db_waiter *w = ready;
            ready = w->next; /* read before fn: fn may free w */
            w->fn(w->arg);
        }
        /* A batch left open during the sync (it could not have been
         * flushed sooner) commits now: here if the writer is free, else
         * when its holder gives it back (never waiting for it here: the
         * next sync must not wait behind a queue of requests). */
        atomic_store(&p->commit_asap, 1);
        commit_if_asap(p);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Runs the driver's checkpoint when the syncer says one is due. */
static void *checkpointer_main(void *arg)
{
    lp_db_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        if (!p->ckpt_due) {
            pthread_cond_wait(&p->ckpt_cv, &p->mu);
            continue;
        }
        p->ckpt_due = 0;
        pthread_mutex_unlock(&p->mu);
        int rc = p->ckpt_db->drv->checkpoint(p->ckpt_db);
        if (rc < 0) lp_log(LP_LOG_WARN, "database checkpoint failed (%s)", lp_strerror(rc));
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int lp_db_pool_new(const char *url, int size, lp_db_pool **out, char **errmsg)
{
    lp_db_pool *p = lp_calloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    pthread_cond_init(&p->ckpt_cv, NULL);
    pthread_mutex_init(&p->writer_mu, NULL);
    sem_init(&p->gate, 0, 1);
    *out = NULL;
    p->all = lp_calloc((size_t)size + 3, sizeof(lp_db *));
    p->free = lp_calloc((size_t)size, sizeof(lp_db *));
    /* size connections for the pool, then the writer, the syncer's and the
     * checkpointer's */
    int rc = 0;
    for (int i = 0; rc == 0 && i < size + 1 + 2 * p->single_writer; i++) {
        rc = lp_db_open(url, &p->all[i], errmsg);
        if (rc < 0) break;
        p->all[i]->pool = p;
        p->size++;
        if (i < size) p->free[p->nfree++] = p->all[i];
        if (i == 0) p->single_writer = p->all[0]->drv->sync && p->all[0]->drv->writes;
    }
    if (rc == 0) {
        p->writer = p->all[size];
        if (p->single_writer) {
            p->sync_db = p->all[size + 1];
            if (pthread_create(&p->syncer, NULL, syncer_main, p) != 0) {
                p->sync_db = NULL;
                rc = LP_ENOMEM;
            }
        }
        if (rc == 0 && p->single_writer && p->all[0]->drv->checkpoint) {
            p->ckpt_db = p->all[size + 2];
            if (pthread_create(&p->checkpointer, NULL, checkpointer_main, p) != 0) {
                p->ckpt_db = NULL;
                rc = LP_ENOMEM;
            }
        }
    }
    if (rc < 0) {
        lp_db_pool_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void lp_db_pool_free(lp_db_pool *pool)
{
    if (!pool) return;
    if (pool->batches)
        lp_log(LP_LOG_DEBUG,
               "group commit: %llu writes in %llu batches, %lld commits in %llu syncs; "
               "the writer was held %.1f s, %.1f s of it committing; syncing took %.1f s",
               (unsigned long long)pool->batched, (unsigned long long)pool->batches,
               (long long)pool->issued, (unsigned long long)pool->syncs, pool->held_ns / 1e9,
               pool->commit_ns / 1e9, pool->sync_ns / 1e9);
    if (pool->sync_db) {
        pthread_mutex_lock(&pool->mu);
        pool->stop = 1;
        pthread_cond_signal(&pool->work_cv);
        pthread_cond_signal(&pool->ckpt_cv);
        pthread_mutex_unlock(&pool->mu);
        pthread_join(pool->syncer, NULL);
        if (pool->ckpt_db) pthread_join(pool->checkpointer, NULL);
    }
    for (int i = 0; i < pool->size; i++) lp_db_close(pool->all[i]);
    sem_destroy(&pool->gate);
    pthread_mutex_destroy(&pool->writer_mu);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    pthread_cond_destroy(&pool->work_cv);
    pthread_cond_destroy(&pool->done_cv);
    pthread_cond_destroy(&pool->ckpt_cv);
    free(pool->all);
    free(pool->free);
    free(pool);
}

lp_db *lp_db_pool_get(lp_db_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    while (pool->nfree == 0) pthread_cond_wait(&pool->cv, &pool->mu);
    lp_db *db = pool->free[--pool->nfree];
    pthread_mutex_unlock(&pool->mu);
    return db;
}

int lp_db_pool_single_writer(lp_db_pool *pool)
{
    return pool->single_writer;
}

void lp_db_pool_expect_writer(lp_db_pool *pool, int delta)
{
    if (pool->single_writer) atomic_fetch_add(&pool->writer_waiting, delta);
}

lp_db *lp_db_pool_writer(lp_db_pool *pool)
{
    return lp_db_pool_writer_expected(pool, 0);
}

lp_db *lp_db_pool_writer_expected(lp_db_pool *pool, int expected)
{
    if (!pool->single_writer) return lp_db_pool_get(pool);
    if (!expected) atomic_fetch_add(&pool->writer_waiting, 1);
    pthread_mutex_lock(&pool->writer_mu);
    pool->held_since = lp_mono_ns();
    atomic_fetch_sub(&pool->writer_waiting, 1);
    return pool->writer;
}

int lp_db_wrote(lp_db *db)
{
    lp_db_pool *p = db->pool;
    if (!p || !p->single_writer) return 0;
    /* On the writer, anything done while a batch is open may rest on the
     * batch's writes: it waits for their commit too. */
    return (db == p->writer && p->batch_open) || db->drv->writes(db) != db->writes_seen;
}

/* Issues the next ticket to each waiter in list (all committed with result
 * rc) and hands them to the syncer; on a failed commit they are answered
 * at once.  Returns the ticket. */
static int64_t issue(lp_db_pool *p, lp_db_waiter *list, int rc)
{
    pthread_mutex_lock(&p->mu);
    int64_t t = ++p->issued;
    if (p->sync_failed && rc == 0) rc = p->sync_failed; /* can never be flushed now */
    lp_db_waiter *failed = NULL;
    while (list) {
        lp_db_waiter *w = list;
        list = w->next;
        w->ticket = t;
        w->result = rc;
        if (rc < 0) {
            w->next = failed;
            failed = w;
        } else {
            w->next = p->waiters;
            p->waiters = w;
        }
    }
    pthread_cond_signal(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    while (failed) {
        lp_db_waiter *w = failed;
        failed = w->next;
        w->fn(w->arg);
    }
    return t;
}

/* Commits the writer's batch (its holder calls this). */
static void commit_batch(lp_db_pool *p)
{
    uint64_t t0 = lp_mono_ns();
    lp_db *db = p->writer;
    int rc = p->batch_failed ? p->batch_failed : db->drv->commit(db);
    if (rc < 0) {
        lp_log(LP_LOG_ERROR,
               "a batch of %d writes could not commit (%s): they are answered with errors",
               p->batch_n, lp_strerror(rc));
        db->drv->rollback(db);
    }
    p->batch_open = 0;
    atomic_store(&p->batch_opened, 0);
    gate_leave(p);
    p->batches++;
    p->batched += (uint64_t)p->batch_n;
    p->batch_n = 0;
    lp_db_waiter *list = p->batch_waiters;
    p->batch_waiters = NULL;
    db->writes_seen = db->drv->writes(db);
    issue(p, list, rc);
    p->commit_ns += lp_mono_ns() - t0;
}

static void mark_done(void *arg)
{
    lp_db_waiter *w = arg;
    lp_db_pool *p = w->pool;
    pthread_mutex_lock(&p->mu);
    w->done = 1;
    pthread_cond_broadcast(&p->done_cv);
    pthread_mutex_unlock(&p->mu);
}

int lp_db_pool_release(lp_db_pool *pool, lp_db *db, lp_db_waiter *w)
{
    if (db->tx_depth > 0) { /* a handler forgot to finish its transaction */
        db->tx_depth = 1;
        lp_db_rollback(db);
    }
    lp_db_waiter own = {.fn = mark_done, .pool = pool};
    own.arg = &own;
    int wrote = lp_db_wrote(db);
    lp_db_waiter *wait = !wrote ? NULL : w ? w : &own;
    int answered = !wait;
    if (db == pool->writer && pool->single_writer) {
        if (wait) {
            wait->next = pool->batch_waiters;
            pool->batch_waiters = wait;
            pool->batch_n++;
        }
        /* The batch stays open while others will join it soon: requests
         * wait for the writer, or the syncer is busy (this batch could not
         * be flushed before it is done; it commits it then). */
        pthread_mutex_lock(&pool->mu);
        int syncing = pool->syncing;
        pthread_mutex_unlock(&pool->mu);
        uint64_t age = lp_mono_ns() - pool->batch_start_ns;
        if (pool->batch_open &&
            (wait == &own || (atomic_load(&pool->writer_waiting) == 0 && !syncing) ||
             atomic_load(&pool->commit_asap) || atomic_load(&pool->gate_waiting) > 0 ||
             pool->batch_n >= LP_BATCH_MAX || age >= LP_BATCH_MS * 1000000ull)) {
            atomic_store(&pool->commit_asap, 0);
            commit_batch(pool);
        } else if (!pool->batch_open && wait) { /* wrote outside a transaction: committed */
            pool->batch_waiters = wait->next;
            pool->batch_n--;
            db->writes_seen = db->drv->writes(db);
            wait->next = NULL;
            issue(pool, wait, 0);
        }
        pool->held_ns += lp_mono_ns() - pool->held_since;
        pthread_mutex_unlock(&pool->writer_mu);
        commit_if_asap(pool); /* the syncer may have asked while we held it */
    } else {
        if (wait) {
            db->writes_seen = db->drv->writes(db);
            wait->next = NULL;
            issue(pool, wait, 0);
        }
        pthread_mutex_lock(&pool->mu);
        pool->free[pool->nfree++] = db;
        pthread_cond_signal(&pool->cv);
        pthread_mutex_unlock(&pool->mu);
    }
    if (wait == &own) { /* no waiter given: block until answered */
        pthread_mutex_lock(&pool->mu);
        while (!own.done) pthread_cond_wait(&pool->done_cv, &pool->mu);
        pthread_mutex_unlock(&pool->mu);
        answered = 1;
    }
    return answered;
}

void lp_db_pool_put(lp_db_pool *pool, lp_db *db)
{
    lp_db_pool_release(pool, db, NULL);
}

void lp_db_pool_sync_stats(lp_db_pool *pool, uint64_t *syncs, uint64_t *tickets, uint64_t *batches,
                           uint64_t *batched)
{
    pthread_mutex_lock(&pool->mu);
    *syncs = pool->syncs;
    *tickets = (uint64_t)pool->issued;
    pthread_mutex_unlock(&pool->mu);
    pthread_mutex_lock(&pool->writer_mu);
    *batches = pool->batches;
    *batched = pool->batched;
    pthread_mutex_unlock(&pool->writer_mu);
}
