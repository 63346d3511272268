/* db_pg.c -- the PostgreSQL driver of the SQL layer (db.h), on libpq.
 *
 * One lp_pg per connection (a PGconn); a connection is used by one thread
 * at a time (the pool guarantees it).  Queries arrive with '?' placeholders
 * and are rewritten to $1..$n (a '?' inside a string literal, a quoted
 * identifier or a comment is left alone), then prepared on the server once
 * per connection under a generated name: db.c caches statements by their
 * SQL text, so a hot query is parsed and planned once per connection.
 *
 * Every parameter is sent as text with its type left for the server to
 * infer (numbers are formatted here), except blobs, which go as binary
 * bytea.  Results come back as text: column_int64 parses them (and reads
 * the booleans a comparison yields, 't'/'f', as 1/0), column_text decodes a
 * bytea column back into its bytes.  A statement runs on its first step and
 * its whole result is held until the next reset, so several statements of
 * one connection may be stepped in turn, as on SQLite.
 *
 * Durability: PostgreSQL's commit returns once the commit is on disk
 * (synchronous_commit), so the driver has no sync, writes or checkpoint
 * slot and the pool does no group commit or writer batching for it.
 *
 * Unlike SQLite, a failed statement aborts the whole transaction it is in;
 * db.c's nested transactions (savepoints) still roll back just their part.
 * A COMMIT of such a transaction is a rollback: it is reported as the error
 * that aborted it, never as success.  A connection found broken outside a
 * transaction is re-established once before the next statement. */
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "util.h"

typedef struct lp_pg {
    lp_db base;
    PGconn *c;
    int64_t changes;
    unsigned long next_name; /* numbers the next prepared statement */
    unsigned gen;            /* bumped when the connection is re-established */
    int tx_rc;               /* the error that aborted the open transaction */
    char *err;               /* the last error's message */
    lp_buf dealloc;          /* DEALLOCATEs of finalized statements, not sent yet */
} lp_pg;

typedef struct lp_pg_stmt {
    lp_stmt base;
    char name[24];
    char *sql;    /* rewritten with $n, to prepare again after a reconnect */
    unsigned gen; /* the connection's gen it was prepared in */
    int n;        /* parameters */
    const char **values;
    int *lengths, *formats;
    char **bufs; /* owned copies of text and formatted numbers, by parameter */
    size_t *caps;
    PGresult *res; /* after the first step, until the reset */
    int row, nrows;
    int ran;
    unsigned char *bytes; /* a bytea column decoded by column_text */
} lp_pg_stmt;

#define PG(db) ((lp_pg *)(db))
#define ST(st) ((lp_pg_stmt *)(st))

/* Turns a SQLSTATE into an LP_E* code. */
static int map_state(const char *s)
{
    if (!s || strlen(s) != 5) return LP_EDB;
    if (!strcmp(s, "23505")) return LP_EEXISTS; /* unique_violation */
    if (!strncmp(s, "23", 2)) return LP_ECONFLICT;
    /* serialization failure, deadlock, lock or statement timeout: retry */
    if (!strcmp(s, "40001") || !strcmp(s, "40P01") || !strcmp(s, "55P03") || !strcmp(s, "57014"))
        return LP_EBUSY;
    if (!strncmp(s, "08", 2) || !strcmp(s, "57P01") || !strcmp(s, "57P02") || !strcmp(s, "57P03") ||
        !strcmp(s, "53300"))
        return LP_EUNAVAIL;
    if (!strcmp(s, "54000")) return LP_ETOOBIG;
    if (!strcmp(s, "53100")) return LP_ENOSPC; /* disk_full */
    if (!strncmp(s, "53", 2)) return LP_ENOMEM;
    return LP_EDB;
}

/* Keeps msg (libpq's, ending in a newline) as the connection's errmsg. */
static void set_err(lp_pg *db, const char *msg)
{
    free(db->err);
    size_t n = msg ? strlen(msg) : 0;
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) n--;
    db->err = n ? lp_strndup(msg, n) : lp_strdup("database error");
}

/* Records the rows a command changed, as SQLite counts them: only INSERT,
 * UPDATE, DELETE and MERGE set the count. */
static void count_changes(lp_pg *db, PGresult *res)
{
    const char *cmd = PQcmdStatus(res);
    if (strncmp(cmd, "INSERT", 6) && strncmp(cmd, "UPDATE", 6) && strncmp(cmd, "DELETE", 6) &&
        strncmp(cmd, "MERGE", 5))
        return;
    db->changes = strtoll(PQcmdTuples(res), NULL, 10);
}

/* Checks a result: 0 when it succeeded, else the LP_E* code of its error,
 * whose message is kept (LP_EUNAVAIL once the connection is broken).  An
 * error inside a transaction aborts it: remembered for the commit. */
static int check(lp_pg *db, PGresult *res)
{
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY) {
        count_changes(db, res);
        if (PQtransactionStatus(db->c) != PQTRANS_INERROR)
            db->tx_rc = 0; /* rolled back to a savepoint */
        return 0;
    }
    int rc;
    if (res) {
        set_err(db, PQresultErrorMessage(res));
        rc = map_state(PQresultErrorField(res, PG_DIAG_SQLSTATE));
    } else {
        set_err(db, PQerrorMessage(db->c));
        rc = LP_EDB;
    }
    if (PQstatus(db->c) == CONNECTION_BAD) rc = LP_EUNAVAIL;
    if (!db->tx_rc && PQtransactionStatus(db->c) == PQTRANS_INERROR) db->tx_rc = rc;
    return rc;
}

/* Runs sql (one or more statements) with no parameters; no rows. */
static int run(lp_pg *db, const char *sql)
{
    PGresult *res = PQexec(db->c, sql);
    int rc = check(db, res);
    PQclear(res);
    return rc;
}

/* Unless the URL or the server sets them: a statement may run 30 s and
 * wait 10 s for a lock, and a transaction may sit idle 60 s, so that a
 * stuck query or a lost client frees its locks and answers 503 rather than
 * hold every other writer.  Session settings: set again after a reset. */
static void set_timeouts(lp_pg *db)
{
    PQclear(PQexec(db->c, "SELECT set_config(name, v, false) FROM (VALUES "
                          "('statement_timeout', '30s'), ('lock_timeout', '10s'), "
                          "('idle_in_transaction_session_timeout', '60s')) AS d(name, v) "
                          "WHERE current_setting(name) = '0'"));
}

/* Re-establishes a broken connection, outside a transaction only (one
 * in a transaction has lost it).  Statements prepared on the old one are
 * prepared again when next run (gen). */
static int revive(lp_pg *db)
{
    if (PQstatus(db->c) != CONNECTION_BAD) return 0;
    if (db->base.tx_depth > 0) return LP_EUNAVAIL;
    PQreset(db->c);
    if (PQstatus(db->c) != CONNECTION_OK) {
        set_err(db, PQerrorMessage(db->c));
        return LP_EUNAVAIL;
    }
    db->gen++;
    db->dealloc.len = 0;
    set_timeouts(db);
    return 0;
}

/* Sends the DEALLOCATEs of finalized statements, between transactions
 * (inside an aborted one they would fail, and it needs no round trip). */
static void flush_dealloc(lp_pg *db)
{
    if (!db->dealloc.len || PQtransactionStatus(db->c) != PQTRANS_IDLE) return;
    PQclear(PQexec(db->c, db->dealloc.data));
    db->dealloc.len = 0;
}

/* Library modules never print: notices (a DROP ... CASCADE's list, "already
 * exists, skipping") are dropped. */
static void ignore_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static void pg_close(lp_db *base)
{
    if (!base) return;
    lp_pg *db = PG(base);
    PQfinish(db->c);
    free(db->err);
    lp_buf_fini(&db->dealloc);
    free(db);
}

/* Opens url (postgres://... or postgresql://..., anything libpq takes as a
 * URI) with the client encoding UTF8.  On failure *out is still set, for
 * the message. */
static int pg_open(const char *url, lp_db **out)
{
    lp_pg *db = lp_calloc(1, sizeof *db);
    db->base.drv = &lp_db_pg_driver;
    *out = &db->base;
    /* Later keywords win: the URL's own settings override these. */
    const char *keys[] = {"client_encoding", "fallback_application_name", "dbname", NULL};
    const char *vals[] = {"UTF8", "loupe", url, NULL};
    db->c = PQconnectdbParams(keys, vals, 1);
    if (!db->c) {
        db->err = lp_strdup("out of memory");
        return LP_ENOMEM;
    }
    if (PQstatus(db->c) != CONNECTION_OK) { /* libpq's message does not say what it was */
        char *msg = lp_sprintf("cannot connect to PostgreSQL: %s", PQerrorMessage(db->c));
        set_err(db, msg);
        free(msg);
        return LP_EUNAVAIL;
    }
    PQsetNoticeProcessor(db->c, ignore_notice, NULL);
    set_timeouts(db);
    return 0;
}

static int pg_exec(lp_db *base, const char *sql)
{
    lp_pg *db = PG(base);
    int rc = revive(db);
    return rc ? rc : run(db, sql);
}

/* Starts a transaction, READ ONLY for LP_TX_READ (read routes and
 * authentication, which never write: a write there fails loudly rather
 * than slip into a transaction meant only to read).  Both run at
 * PostgreSQL's default isolation, READ COMMITTED. */
static int pg_begin(lp_db *base, int mode)
{
    lp_pg *db = PG(base);
    int rc = revive(db);
    if (rc) return rc;
    flush_dealloc(db);
    db->tx_rc = 0;
    return run(db, mode == LP_TX_READ ? "BEGIN READ ONLY" : "BEGIN");
}

/* Commits; a transaction an error aborted is rolled back by the COMMIT,
 * and that error is returned. */
static int pg_commit(lp_db *base)
{
    lp_pg *db = PG(base);
    int aborted_by = db->tx_rc;
    PGresult *res = PQexec(db->c, "COMMIT");
    int rc = check(db, res);
    if (rc == 0 && !strcmp(PQcmdStatus(res), "ROLLBACK")) {
        rc = aborted_by ? aborted_by : LP_EDB;
        if (!db->err) set_err(db, "the transaction was aborted by an earlier error");
    }
    PQclear(res);
    db->tx_rc = 0;
    return rc;
}

static int pg_rollback(lp_db *base)
{
    lp_pg *db = PG(base);
    db->tx_rc = 0;
    return run(db, "ROLLBACK");
}

/* Whether c may be part of an identifier or a dollar quote's tag. */
static int ident_char(char c, int digits)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (digits && c >= '0' && c <= '9') || (unsigned char)c >= 0x80;
}

/* Rewrites '?' placeholders as $1..$n, leaving alone those in string
 * literals ('...', E'...', with '' inside), quoted identifiers ("..."),
 * dollar-quoted strings ($tag$...$tag$) and comments.  Returns a new
 * string; *n receives the number of placeholders. */
static char *rewrite(const char *sql, int *n)
{
    lp_buf b = {0};
    lp_buf_reserve(&b, strlen(sql) + 16);
    lp_buf_append(&b, "", 0); /* "" for "" */
    *n = 0;
    const char *p = sql;
    while (*p) {
        const char *end = p + 1;
        if (*p == '?') {
            lp_buf_printf(&b, "$%d", ++*n);
            p++;
            continue;
        }
        if (*p == '\'' || *p == '"') {
            /* a doubled quote ('it''s') ends one literal and starts the
             * next: the same scan covers it */
            int esc = *p == '\'' && p > sql && (p[-1] == 'E' || p[-1] == 'e') &&
                      (p - 1 == sql || !ident_char(p[-2], 1));
            while (*end && *end != *p) end += esc && *end == '\\' && end[1] ? 2 : 1;
            if (*end) end++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*end && *end != '\n') end++;
        } else if (p[0] == '/' && p[1] == '*') {
            end = strstr(p + 2, "*/");
            end = end ? end + 2 : p + strlen(p);
        } else if (*p == '$' && (p == sql || !ident_char(p[-1], 1))) {
            const char *t = p + 1;
            while (ident_char(*t, t > p + 1)) t++;
            if (*t == '$') { /* $tag$ ... $tag$ */
                size_t tag = (size_t)(t - p + 1);
                const char *close = t + 1;
                while ((close = strchr(close, '$')) && strncmp(close, p, tag)) close++;
                end = close ? close + tag : p + strlen(p);
            }
        }
        lp_buf_append(&b, p, (size_t)(end - p));
        p = end;
    }
    return b.data;
}

/* Prepares st->sql on the server under st->name. */
static int prepare_on_server(lp_pg *db, lp_pg_stmt *st)
{
    PGresult *res = PQprepare(db->c, st->name, st->sql, 0, NULL);
    int rc = check(db, res);
    PQclear(res);
    if (rc == 0) st->gen = db->gen;
    return rc;
}

static void free_stmt(lp_pg_stmt *st)
{
    for (int i = 0; i < st->n; i++) free(st->bufs[i]);
    free(st->values);
    free(st->lengths);
    free(st->formats);
    free(st->bufs);
    free(st->caps);
    free(st->sql);
    free(st);
}

static int pg_prepare(lp_db *base, const char *sql, lp_stmt **out)
{
    lp_pg *db = PG(base);
    *out = NULL;
    int rc = revive(db);
    if (rc) return rc;
    flush_dealloc(db);
    lp_pg_stmt *st = lp_calloc(1, sizeof *st);
    st->sql = rewrite(sql, &st->n);
    snprintf(st->name, sizeof st->name, "s%lu", ++db->next_name);
    if (st->n > 0) {
        st->values = lp_calloc((size_t)st->n, sizeof *st->values);
        st->lengths = lp_calloc((size_t)st->n, sizeof *st->lengths);
        st->formats = lp_calloc((size_t)st->n, sizeof *st->formats);
        st->bufs = lp_calloc((size_t)st->n, sizeof *st->bufs);
        st->caps = lp_calloc((size_t)st->n, sizeof *st->caps);
    }
    rc = prepare_on_server(db, st);
    if (rc < 0) {
        free_stmt(st);
        return rc;
    }
    *out = &st->base;
    return 0;
}

/* Drops the result and the decoded bytes of the current row. */
static void clear_result(lp_pg_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    if (st->bytes) PQfreemem(st->bytes);
    st->bytes = NULL;
    st->row = st->nrows = st->ran = 0;
}

static void pg_finalize(lp_stmt *base)
{
    if (!base) return;
    lp_pg_stmt *st = ST(base);
    lp_pg *db = PG(base->db);
    clear_result(st);
    if (st->gen == db->gen && PQstatus(db->c) == CONNECTION_OK)
        lp_buf_printf(&db->dealloc, "DEALLOCATE %s;", st->name);
    free_stmt(st);
}

static void pg_reset(lp_stmt *base)
{
    lp_pg_stmt *st = ST(base);
    clear_result(st);
    for (int i = 0; i < st->n; i++) {
        st->values[i] = NULL;
        st->lengths[i] = 0;
        st->formats[i] = 0;
    }
}

/* Copies n bytes (and a NUL: libpq reads text parameters up to one) into
 * parameter i's own buffer and binds it as text. */
static int bind_copy(lp_pg_stmt *st, int i, const char *s, size_t n)
{
    if (i < 1 || i > st->n) return LP_EINVAL;
    i--;
    if (st->caps[i] < n + 1) {
        st->caps[i] = n + 1 > 32 ? n + 1 : 32;
        free(st->bufs[i]);
        st->bufs[i] = lp_malloc(st->caps[i]);
    }
    memcpy(st->bufs[i], s, n);
    st->bufs[i][n] = '\0';
    st->values[i] = st->bufs[i];
    st->lengths[i] = 0;
    st->formats[i] = 0;
    return 0;
}

static int pg_bind_null(lp_stmt *base, int i)
{
    lp_pg_stmt *st = ST(base);
    if (i < 1 || i > st->n) return LP_EINVAL;
    st->values[i - 1] = NULL;
    return 0;
}

static int pg_bind_int64(lp_stmt *st, int i, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)v);
    return bind_copy(ST(st), i, num, (size_t)n);
}

/* Doubles keep every bit (17 significant digits); infinities and NaN are
 * spelled as PostgreSQL reads them. */
static int pg_bind_double(lp_stmt *st, int i, double v)
{
    char num[32];
    int n;
    if (isnan(v))
        n = snprintf(num, sizeof num, "NaN");
    else if (isinf(v))
        n = snprintf(num, sizeof num, "%sInfinity", v < 0 ? "-" : "");
    else
        n = snprintf(num, sizeof num, "%.17g", v);
    return bind_copy(ST(st), i, num, (size_t)n);
}

static int pg_bind_text(lp_stmt *st, int i, const char *s, size_t n)
{
    return bind_copy(ST(st), i, s, n);
}

/* A blob goes as binary bytea, not copied (db.h: it outlives the step). */
static int pg_bind_blob(lp_stmt *base, int i, const void *p, size_t n)
{
    lp_pg_stmt *st = ST(base);
    if (i < 1 || i > st->n) return LP_EINVAL;
    if (n > 0x7fffffff) return LP_ETOOBIG;
    st->values[i - 1] = n ? p : "";
    st->lengths[i - 1] = (int)n;
    st->formats[i - 1] = 1;
    return 0;
}

/* Runs the statement on its first step (preparing it again if the
 * connection was re-established since), then moves through its rows. */
static int pg_step(lp_stmt *base)
{
    lp_pg_stmt *st = ST(base);
    lp_pg *db = PG(base->db);
    if (!st->ran) {
        int rc = revive(db);
        if (rc == 0 && st->gen != db->gen) rc = prepare_on_server(db, st);
        if (rc) return rc;
        st->ran = 1;
        st->res = PQexecPrepared(db->c, st->name, st->n, st->values, st->lengths, st->formats, 0);
        rc = check(db, st->res);
        if (rc) {
            PQclear(st->res);
            st->res = NULL;
            return rc;
        }
        st->nrows = PQresultStatus(st->res) == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
        st->row = -1;
    }
    if (st->bytes) PQfreemem(st->bytes);
    st->bytes = NULL;
    if (st->row < st->nrows) st->row++;
    return st->row < st->nrows ? LP_DB_ROW : LP_DB_DONE;
}

/* The text of a column of the current row, or NULL when it is NULL (or
 * there is no such column or row). */
static const char *value(lp_pg_stmt *st, int col)
{
    if (!st->res || st->row < 0 || st->row >= st->nrows || col < 0 || col >= PQnfields(st->res) ||
        PQgetisnull(st->res, st->row, col))
        return NULL;
    return PQgetvalue(st->res, st->row, col);
}

static int pg_column_is_null(lp_stmt *st, int col)
{
    return value(ST(st), col) == NULL;
}

#define BOOLOID  16 /* catalog/pg_type_d.h, not among libpq's headers */
#define BYTEAOID 17

/* Integers; booleans as 1/0 (a selected comparison, kind = 'review'); a
 * fractional number truncated, as SQLite does (clamped to the range). */
static int64_t pg_column_int64(lp_stmt *base, int col)
{
    lp_pg_stmt *st = ST(base);
    const char *v = value(st, col);
    if (!v) return 0;
    if (PQftype(st->res, col) == BOOLOID) return v[0] == 't';
    if (!strpbrk(v, ".eEnN")) return strtoll(v, NULL, 10);
    double d = strtod(v, NULL); /* numeric (an AVG), a double */
    if (isnan(d)) return 0;
    if (d >= 9223372036854775807.0) return INT64_MAX;
    if (d <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)d;
}

static double pg_column_double(lp_stmt *base, int col)
{
    lp_pg_stmt *st = ST(base);
    const char *v = value(st, col);
    if (!v) return 0;
    if (PQftype(st->res, col) == BOOLOID) return v[0] == 't';
    return strtod(v, NULL);
}

/* Text as the server sent it; a bytea column's value is decoded into its
 * bytes (kept until the next step or reset). */
static const char *pg_column_text(lp_stmt *base, int col, size_t *len)
{
    lp_pg_stmt *st = ST(base);
    const char *v = value(st, col);
    if (!v) {
        *len = 0;
        return "";
    }
    if (PQftype(st->res, col) == BYTEAOID) {
        if (st->bytes) PQfreemem(st->bytes);
        st->bytes = PQunescapeBytea((const unsigned char *)v, len);
        if (st->bytes) return (const char *)st->bytes;
    }
    *len = (size_t)PQgetlength(st->res, st->row, col);
    return v;
}

static int64_t pg_changes(lp_db *db)
{
    return PG(db)->changes;
}

static const char *pg_errmsg(lp_db *base)
{
    lp_pg *db = PG(base);
    if (db->err) return db->err;
    return db->c ? PQerrorMessage(db->c) : "cannot open database";
}

/* {random_key}: gen_random_uuid() draws on pg_strong_random, 122 bits each. */
static const char *const ddl[] = {
    "{id}",
    "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    "{blob}",
    "BYTEA",
    "{without_rowid}",
    "",
    "{random_key}",
    "encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex')",
    NULL};

const lp_db_driver lp_db_pg_driver = {
    .version = 1,
    .scheme = "postgres",
    .ddl = ddl,
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .reset = pg_reset,
    .bind_null = pg_bind_null,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .step = pg_step,
    .column_is_null = pg_column_is_null,
    .column_int64 = pg_column_int64,
    .column_double = pg_column_double,
    .column_text = pg_column_text,
    .changes = pg_changes,
    .last_insert_id = NULL, /* INSERT ... RETURNING id (lp_db_prepare_insert) */
    .errmsg = pg_errmsg,
    .row_locks = 1, /* transactions run side by side: lock what is decided on */
};
