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

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "util.h"

static const lp_db_driver *drivers[4];

void lp_db_init_drivers(void)
{
    drivers[0] = &lp_db_sqlite_driver;
}

const lp_db_driver *lp_db_driver_for(const char *url)
{
    if (!drivers[0]) lp_db_init_drivers();
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

/* A connection outside a pool makes its own writes durable. */
static int sync_alone(lp_db *db)
{
    if (db->pool || !db->drv->sync || !db->drv->writes) return 0;
    int64_t w = db->drv->writes(db);
    if (w == db->writes_seen) return 0;
    db->writes_seen = w;
    return db->drv->sync(db);
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

int lp_db_begin(lp_db *db, int mode)
{
    if (db->tx_depth++ > 0) return 0;
    db->tx_failed = 0;
    int rc = db->drv->begin(db, mode);
    if (rc < 0) db->tx_depth = 0;
    return rc;
}

int lp_db_commit(lp_db *db)
{
    if (db->tx_depth <= 0) return LP_EINVAL;
    if (--db->tx_depth > 0) return 0;
    if (db->tx_failed) {
        db->drv->rollback(db);
        return LP_ECONFLICT;
    }
    int rc = db->drv->commit(db);
    if (rc < 0)
        db->drv->rollback(db);
    else
        rc = sync_alone(db);
    return rc;
}

int lp_db_rollback(lp_db *db)
{
    if (db->tx_depth <= 0) return LP_EINVAL;
    if (--db->tx_depth > 0) {
        db->tx_failed = 1;
        return 0;
    }
    return db->drv->rollback(db);
}

const char *lp_db_errmsg(lp_db *db)
{
    return db->drv->errmsg(db);
}

int64_t lp_db_changes(lp_db *db)
{
    return db->drv->changes(db);
}

const char *lp_db_scheme(lp_db *db)
{
    return db->drv->scheme;
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

/* The pool and its syncer.  Tickets are issued in order (issued); the
 * syncer reads issued, syncs, and then every ticket up to what it read is
 * durable (synced), since each was issued after its writes committed. */
struct lp_db_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int size, nfree;
    lp_db **all, **free;
    /* group commit (when the driver has a sync slot) */
    lp_db *sync_db;
    pthread_t syncer;
    pthread_cond_t work_cv, done_cv;
    int stop;
    int64_t issued, synced;
    lp_db_waiter *waiters;
    uint64_t syncs; /* flushes done, for tests and metrics */
};

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
            pthread_cond_wait(&p->work_cv, &p->mu);
            continue;
        }
        int64_t target = p->issued;
        pthread_mutex_unlock(&p->mu);
        int rc = p->sync_db->drv->sync(p->sync_db);
        if (rc < 0) {
            lp_log(LP_LOG_ERROR, "database sync failed (%s): retrying", lp_strerror(rc));
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&p->mu);
            continue;
        }
        pthread_mutex_lock(&p->mu);
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
    p->all = lp_calloc((size_t)size, sizeof(lp_db *));
    p->free = lp_calloc((size_t)size, sizeof(lp_db *));
    for (int i = 0; i < size; i++) {
        int rc = lp_db_open(url, &p->all[i], errmsg);
        if (rc < 0) {
            lp_db_pool_free(p);
            *out = NULL;
            return rc;
        }
        p->all[i]->pool = p;
        p->free[p->nfree++] = p->all[i];
        p->size++;
    }
    if (p->size && p->all[0]->drv->sync) {
        int rc = lp_db_open(url, &p->sync_db, errmsg);
        if (rc == 0) p->sync_db->pool = p; /* never syncs on its own */
        if (rc == 0 && pthread_create(&p->syncer, NULL, syncer_main, p) != 0) rc = LP_ENOMEM;
        if (rc < 0) {
            lp_db_close(p->sync_db);
            p->sync_db = NULL;
            lp_db_pool_free(p);
            *out = NULL;
            return rc;
        }
    }
    *out = p;
    return 0;
}

void lp_db_pool_free(lp_db_pool *pool)
{
    if (!pool) return;
    if (pool->sync_db) {
        pthread_mutex_lock(&pool->mu);
        pool->stop = 1;
        pthread_cond_signal(&pool->work_cv);
        pthread_mutex_unlock(&pool->mu);
        pthread_join(pool->syncer, NULL);
        lp_db_close(pool->sync_db);
    }
    for (int i = 0; i < pool->size; i++) lp_db_close(pool->all[i]);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    pthread_cond_destroy(&pool->work_cv);
    pthread_cond_destroy(&pool->done_cv);
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

void lp_db_pool_put(lp_db_pool *pool, lp_db *db)
{
    if (db->tx_depth > 0) { /* a handler forgot to finish its transaction */
        db->tx_depth = 1;
        lp_db_rollback(db);
    }
    int64_t ticket = lp_db_take_ticket(db);
    if (ticket) lp_db_wait_synced(pool, ticket);
    pthread_mutex_lock(&pool->mu);
    pool->free[pool->nfree++] = db;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
}

int64_t lp_db_take_ticket(lp_db *db)
{
    lp_db_pool *p = db->pool;
    if (!p || !p->sync_db || db == p->sync_db) return 0;
    int64_t w = db->drv->writes(db);
    if (w == db->writes_seen) return 0;
    db->writes_seen = w;
    pthread_mutex_lock(&p->mu);
    int64_t t = ++p->issued;
    pthread_cond_signal(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    return t;
}

int lp_db_when_synced(lp_db_pool *pool, lp_db_waiter *w)
{
    pthread_mutex_lock(&pool->mu);
    int done = w->ticket <= pool->synced;
    if (!done) {
        w->next = pool->waiters;
        pool->waiters = w;
    }
    pthread_mutex_unlock(&pool->mu);
    return done;
}

void lp_db_wait_synced(lp_db_pool *pool, int64_t ticket)
{
    pthread_mutex_lock(&pool->mu);
    while (ticket > pool->synced) pthread_cond_wait(&pool->done_cv, &pool->mu);
    pthread_mutex_unlock(&pool->mu);
}

void lp_db_pool_sync_stats(lp_db_pool *pool, uint64_t *syncs, uint64_t *tickets)
{
    pthread_mutex_lock(&pool->mu);
    *syncs = pool->syncs;
    *tickets = (uint64_t)pool->issued;
    pthread_mutex_unlock(&pool->mu);
}
