/* copy.c -- copies an installation's database to another and verifies it.
 *
 * The tables are copied one after the other in lp_copy_tables' order, each
 * in keyset pages (WHERE key > last ORDER BY key LIMIT n) read from one
 * read transaction of the source, so the copy is one snapshot and a page
 * costs the same at any depth; rows go into the target with every column,
 * ids included, 64 rows to a prepared INSERT, in transactions of a few
 * thousand rows.  Columns are found in each database's catalog and must
 * agree by name and type on both sides.
 *
 * Verification reads both sides again, page by page, and computes each
 * table's count and checksum here in C from a canonical text of each row
 * (see copy.h), so SQLite and PostgreSQL agree whatever their own hash
 * functions and collations.
 *
 * This is the one module that writes SQL for one driver: the catalogs
 * (pragma_table_info, pg_attribute), PostgreSQL's identity sequences after
 * explicit ids, its snapshot isolation and its session timeouts. */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "copy.h"
#include "schema.h"
#include "util.h"

/* Every table of the schema, each after the tables it references (the
 * target checks foreign keys as rows arrive).  A migration that adds a
 * table adds it here: test_copy.c fails while a table of the migrated
 * schema is missing, or is listed before a table it references. */
const lp_copy_table lp_copy_tables[] = {
    {"users", "id"},
    {"sessions", "id"},
    {"projects", "id"},
    {"api_keys", "id"},
    {"project_members", "project_id,user_id"},
    {"batches", "id"},
    {"tasks", "id"},
    {"task_tags", "project_id,tag,task_id"},
    {"project_counts", "project_id,status"},
    {"batch_counts", "batch_id,status"},
    {"files", "sha256"},
    {"file_projects", "sha256,project_id"},
    {"file_uploaders", "sha256,user_id"},
    {"assignments", "id"},
    {"annotations", "id"},
    {"result_versions", "id"},
    {"webhooks", "id"},
    {"deliveries", "id"},
    {"delivery_attempts", "id"},
    {"audit_log", "id"},
    {"ml_backends", "project_id"},
    {"ml_queue", "project_id,task_id"},
    {"model_endpoints", "id"},
    {"prompt_sets", "id"},
    {"prompts", "id"},
    {"generations", "id"},
    {"gen_outputs", "id"},
    {"task_outputs", "task_id,response_id"},
    {"chat_turns", "id"},
};
const size_t lp_copy_table_count = LP_ARRAY_LEN(lp_copy_tables);
const char *const lp_copy_skipped[] = {"schema_version", "worker_leases", NULL};

#define PAGE_ROWS  1000  /* rows per keyset page */
#define TX_ROWS    5000  /* rows per target transaction (at least) */
#define BATCH_ROWS 64    /* rows per INSERT */
#define MAX_PARAMS 30000 /* parameters per INSERT: below SQLite's 32766 and PostgreSQL's 65535 */
#define MAX_COLS   64
#define MAX_KEYS   4

enum { C_INT, C_DOUBLE, C_TEXT, C_BLOB };

/* A table's columns as one database has them. */
typedef struct layout {
    const char *table;
    int n;
    char *names[MAX_COLS];
    int types[MAX_COLS];
    int nkeys;
    int keys[MAX_KEYS]; /* indexes into names */
} layout;

/* A page reader: the two SELECTs of a keyset walk and the last key read. */
typedef struct walker {
    lp_db *db;
    const layout *l;
    lp_stmt *first, *next, *cur;
    int64_t key_int[MAX_KEYS];
    lp_buf key_text[MAX_KEYS];
    lp_buf bound[MAX_KEYS]; /* what the page's statement is bound to: text is not copied */
    int started, in_page, page_rows;
} walker;

static void layout_fini(layout *l)
{
    for (int i = 0; i < l->n; i++) free(l->names[i]);
    l->n = 0;
}

static int type_class(const char *decl)
{
    char t[64];
    size_t i = 0;
    for (; decl[i] && i + 1 < sizeof t; i++) t[i] = (char)tolower((unsigned char)decl[i]);
    t[i] = '\0';
    if (strstr(t, "int")) return C_INT;
    if (strstr(t, "double") || strstr(t, "real") || strstr(t, "float")) return C_DOUBLE;
    if (strstr(t, "blob") || strstr(t, "bytea")) return C_BLOB;
    return C_TEXT;
}

static const char *const class_names[] = {"integer", "double", "text", "blob"};

static int is_pg(lp_db *db)
{
    return !strcmp(lp_db_scheme(db), "postgres");
}

/* Reads a table's columns from db's catalog and finds its key columns.
 * LP_ENOTFOUND when the table does not exist. */
static int layout_load(lp_db *db, const char *side, const lp_copy_table *t, layout *l, char **err)
{
    memset(l, 0, sizeof *l);
    l->table = t->name;
    const char *sql = is_pg(db)
                          ? "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
                            " WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped"
                            " ORDER BY attnum"
                          : "SELECT name, type FROM pragma_table_info(?) ORDER BY cid";
    lp_stmt *st = NULL;
    int rc = lp_db_prepare(db, sql, &st);
    if (rc == 0) rc = lp_stmt_bind_text(st, 1, t->name);
    while (rc == 0 && (rc = lp_stmt_step(st)) == LP_DB_ROW) {
        if (l->n == MAX_COLS) {
            rc = LP_ETOOBIG;
            break;
        }
        l->names[l->n] = lp_strdup(lp_stmt_text(st, 0));
        l->types[l->n++] = type_class(lp_stmt_text(st, 1));
        rc = 0;
    }
    if (rc < 0) {
        *err = lp_sprintf("reading the columns of %s in the %s: %s", t->name, side,
                          rc == LP_ETOOBIG ? "too many columns" : lp_db_errmsg(db));
        if (st) lp_stmt_done(st);
        layout_fini(l);
        return rc;
    }
    lp_stmt_done(st);
    if (l->n == 0) {
        *err = lp_sprintf("the %s has no table %s", side, t->name);
        return LP_ENOTFOUND;
    }
    const char *k = t->key;
    while (*k) {
        size_t len = strcspn(k, ",");
        int found = -1;
        for (int i = 0; i < l->n && found < 0; i++)
            if (strlen(l->names[i]) == len && !strncmp(l->names[i], k, len)) found = i;
        if (found < 0 || l->nkeys == MAX_KEYS ||
            (l->types[found] != C_INT && l->types[found] != C_TEXT)) {
            *err = lp_sprintf("table %s in the %s: key column %.*s is missing or not an integer "
                              "or text",
                              t->name, side, (int)len, k);
            layout_fini(l);
            return LP_EINVAL;
        }
        l->keys[l->nkeys++] = found;
        k += len;
        if (*k == ',') k++;
    }
    return 0;
}

/* Checks that dst has the columns of src, by name and type, and no more. */
static int layout_match(const layout *src, const layout *dst, char **err)
{
    for (int i = 0; i < src->n; i++) {
        int j = 0;
        while (j < dst->n && strcmp(dst->names[j], src->names[i])) j++;
        if (j == dst->n) {
            *err = lp_sprintf("table %s: column %s is in the source but not in the target",
                              src->table, src->names[i]);
            return LP_EINVAL;
        }
        if (dst->types[j] != src->types[i]) {
            *err = lp_sprintf("table %s: column %s is %s in the source but %s in the target",
                              src->table, src->names[i], class_names[src->types[i]],
                              class_names[dst->types[j]]);
            return LP_EINVAL;
        }
    }
    if (dst->n != src->n) {
        for (int j = 0; j < dst->n; j++) {
            int i = 0;
            while (i < src->n && strcmp(dst->names[j], src->names[i])) i++;
            if (i == src->n) {
                *err = lp_sprintf("table %s: column %s is in the target but not in the source",
                                  src->table, dst->names[j]);
                return LP_EINVAL;
            }
        }
    }
    return 0;
}

static void append_list(lp_buf *b, const layout *l, int keys_only)
{
    int n = keys_only ? l->nkeys : l->n;
    for (int i = 0; i < n; i++) {
        if (i) lp_buf_puts(b, ", ");
        lp_buf_puts(b, l->names[keys_only ? l->keys[i] : i]);
    }
}

/* Prepares the keyset walk of l's table on db: every column of l, in its
 * order, by key. */
static int walker_init(walker *w, lp_db *db, const layout *l)
{
    memset(w, 0, sizeof *w);
    w->db = db;
    w->l = l;
    lp_buf sel = {0}, first = {0}, next = {0};
    lp_buf_puts(&sel, "SELECT ");
    append_list(&sel, l, 0);
    lp_buf_printf(&sel, " FROM %s", l->table);
    lp_buf_puts(&first, sel.data);
    lp_buf_puts(&next, sel.data);
    lp_buf_puts(&next, l->nkeys > 1 ? " WHERE (" : " WHERE ");
    append_list(&next, l, 1);
    lp_buf_puts(&next, l->nkeys > 1 ? ") > (" : " > ");
    for (int i = 0; i < l->nkeys; i++) lp_buf_puts(&next, i ? ", ?" : "?");
    if (l->nkeys > 1) lp_buf_puts(&next, ")");
    lp_buf order = {0};
    lp_buf_puts(&order, " ORDER BY ");
    append_list(&order, l, 1);
    lp_buf_printf(&order, " LIMIT %d", PAGE_ROWS);
    lp_buf_puts(&first, order.data);
    lp_buf_puts(&next, order.data);
    int rc = lp_db_prepare(db, first.data, &w->first);
    if (rc == 0) rc = lp_db_prepare(db, next.data, &w->next);
    lp_buf_fini(&sel);
    lp_buf_fini(&first);
    lp_buf_fini(&next);
    lp_buf_fini(&order);
    return rc;
}

static void walker_fini(walker *w)
{
    if (w->first) lp_stmt_done(w->first);
    if (w->next) lp_stmt_done(w->next);
    for (int i = 0; i < MAX_KEYS; i++) {
        lp_buf_fini(&w->key_text[i]);
        lp_buf_fini(&w->bound[i]);
    }
    memset(w, 0, sizeof *w);
}

/* Steps to the next row of the table: LP_DB_ROW (read its columns from
 * w->cur), LP_DB_DONE at the end, or an error.  Pages are fetched as
 * needed; the key of each row returned is kept for the next page. */
static int walker_step(walker *w)
{
    for (;;) {
        if (!w->in_page) {
            if (w->started && w->page_rows < PAGE_ROWS) return LP_DB_DONE;
            w->cur = w->started ? w->next : w->first;
            lp_stmt_reset(w->cur);
            for (int i = 0; w->started && i < w->l->nkeys; i++) {
                int rc;
                if (w->l->types[w->l->keys[i]] == C_INT) {
                    rc = lp_stmt_bind_int64(w->cur, i + 1, w->key_int[i]);
                } else {
                    w->bound[i].len = 0;
                    lp_buf_append(&w->bound[i], w->key_text[i].data ? w->key_text[i].data : "",
                                  w->key_text[i].len);
                    rc = lp_stmt_bind_textn(w->cur, i + 1, w->bound[i].data, w->bound[i].len);
                }
                if (rc < 0) return rc;
            }
            w->started = 1;
            w->in_page = 1;
            w->page_rows = 0;
        }
        int rc = lp_stmt_step(w->cur);
        if (rc == LP_DB_ROW) {
            w->page_rows++;
            for (int i = 0; i < w->l->nkeys; i++) {
                int col = w->l->keys[i];
                if (w->l->types[col] == C_INT) {
                    w->key_int[i] = lp_stmt_int64(w->cur, col);
                } else {
                    size_t n;
                    const char *s = lp_stmt_textn(w->cur, col, &n);
                    w->key_text[i].len = 0;
                    lp_buf_append(&w->key_text[i], s, n);
                }
            }
            return LP_DB_ROW;
        }
        w->in_page = 0;
        if (rc < 0) return rc;
    }
}

/* "id 17" or "(project_id, tag, task_id) (1, 'night', 5)": the row the
 * walker is on, for messages.  The caller frees it. */
static char *walker_where(const walker *w)
{
    lp_buf b = {0};
    if (w->l->nkeys > 1) {
        lp_buf_puts(&b, "(");
        append_list(&b, w->l, 1);
        lp_buf_puts(&b, ") (");
    } else {
        lp_buf_printf(&b, "%s ", w->l->names[w->l->keys[0]]);
    }
    for (int i = 0; i < w->l->nkeys; i++) {
        if (i) lp_buf_puts(&b, ", ");
        if (w->l->types[w->l->keys[i]] == C_INT)
            lp_buf_printf(&b, "%lld", (long long)w->key_int[i]);
        else
            lp_buf_printf(&b, "'%.*s'", (int)(w->key_text[i].len > 80 ? 80 : w->key_text[i].len),
                          w->key_text[i].data ? w->key_text[i].data : "");
    }
    if (w->l->nkeys > 1) lp_buf_puts(&b, ")");
    return b.data;
}

int lp_copy_open(const char *url, int source, lp_db **out, char **err)
{
    *out = NULL;
    *err = NULL;
    if (source && !strncmp(url, "sqlite:", 7)) {
        const char *path = url + 7;
        if (!strncmp(path, "//", 2)) path += 2;
        struct stat sb;
        if (strncmp(path, "file:", 5) && strcmp(path, ":memory:") && stat(path, &sb) != 0) {
            *err = lp_sprintf("the source %s does not exist", path);
            return LP_ENOTFOUND;
        }
    }
    int rc = lp_db_open(url, out, err);
    if (rc < 0) return rc;
    if (is_pg(*out) &&
        (rc = lp_db_exec(*out, "SET statement_timeout = 0;"
                               " SET idle_in_transaction_session_timeout = 0")) < 0) {
        *err = lp_strdup(lp_db_errmsg(*out));
        lp_db_close(*out);
        *out = NULL;
    }
    return rc;
}

/* The schema version of a side (0 when it has no schema_version table). */
static int side_version(lp_db *db, const char *side, int *v, char **err)
{
    int64_t n = 0;
    int rc = lp_db_int64(db, &n, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL);
    *v = rc == 0 ? (int)n : 0;
    int latest = lp_migrations[lp_migration_count - 1].version;
    if (rc == 0 && *v > latest) {
        *err = lp_sprintf("the %s is at schema version %d, newer than this loupe's (%d): use the "
                          "loupe that wrote it",
                          side, *v, latest);
        return LP_ENOTSUP;
    }
    return 0;
}

int lp_copy_prepare(lp_db *src, lp_db *dst, int need_empty, char **err)
{
    *err = NULL;
    int vs, vd;
    int rc = side_version(src, "source", &vs, err);
    if (rc == 0) rc = side_version(dst, "target", &vd, err);
    if (rc < 0) return rc;
    if (vs == 0) {
        *err = lp_strdup("the source holds no Loupe database (it has no schema_version table)");
        return LP_ENOTFOUND;
    }
    if ((rc = lp_db_migrate(src)) < 0) {
        *err = lp_sprintf("migrating the source: %s", lp_db_errmsg(src));
        return rc;
    }
    if ((rc = lp_db_migrate(dst)) < 0) {
        *err = lp_sprintf("migrating the target: %s", lp_db_errmsg(dst));
        return rc;
    }
    for (size_t i = 0; need_empty && i < lp_copy_table_count; i++) {
        char *sql = lp_sprintf("SELECT 1 FROM %s LIMIT 1", lp_copy_tables[i].name);
        int64_t one;
        rc = lp_db_int64(dst, &one, sql, NULL);
        free(sql);
        if (rc == 0) {
            *err = lp_sprintf("the target already holds data (table %s has rows): migrate copies "
                              "into an empty database only",
                              lp_copy_tables[i].name);
            return LP_EEXISTS;
        }
        if (rc != LP_ENOTFOUND) {
            *err = lp_sprintf("reading table %s in the target: %s", lp_copy_tables[i].name,
                              lp_db_errmsg(dst));
            return rc;
        }
    }
    return 0;
}

/* Begins a read transaction that sees one snapshot for its whole length
 * (SQLite's do; PostgreSQL's must ask for it). */
static int begin_snapshot(lp_db *db)
{
    int rc = lp_db_begin(db, LP_TX_READ);
    if (rc == 0 && is_pg(db) &&
        (rc = lp_db_exec(db, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")) < 0)
        lp_db_rollback(db);
    return rc;
}

/* Rows read from the source and not written yet.  Their values are copied
 * (the source's are valid only until its next step, and the target's
 * driver may not copy what it is bound to) and go into the target as one
 * INSERT of many rows: a round trip per row would be most of the time a
 * copy to PostgreSQL takes. */
typedef struct cell {
    int null;
    int64_t i;
    double d;
    size_t off, len; /* text and blobs: bytes in batch.bytes */
} cell;

typedef struct batch {
    const layout *l;
    int max, n;  /* rows in a full INSERT, rows held */
    cell *cells; /* max rows of l->n cells */
    lp_buf bytes;
    char *first; /* the first held row's key, for messages */
} batch;

/* "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)" for n rows. */
static char *insert_sql(const layout *l, int n)
{
    lp_buf b = {0};
    lp_buf_printf(&b, "INSERT INTO %s (", l->table);
    append_list(&b, l, 0);
    lp_buf_puts(&b, ") VALUES ");
    for (int r = 0; r < n; r++) {
        lp_buf_puts(&b, r ? ", (" : "(");
        for (int i = 0; i < l->n; i++) lp_buf_puts(&b, i ? ", ?" : "?");
        lp_buf_puts(&b, ")");
    }
    return b.data;
}

/* Copies the walker's row into the batch. */
static void batch_add(batch *b, const walker *w)
{
    const layout *l = b->l;
    if (b->n == 0) {
        free(b->first);
        b->first = walker_where(w);
        b->bytes.len = 0;
    }
    cell *c = &b->cells[(size_t)b->n * (size_t)l->n];
    for (int i = 0; i < l->n; i++) {
        memset(&c[i], 0, sizeof c[i]);
        if ((c[i].null = lp_stmt_is_null(w->cur, i))) continue;
        if (l->types[i] == C_INT) {
            c[i].i = lp_stmt_int64(w->cur, i);
        } else if (l->types[i] == C_DOUBLE) {
            c[i].d = lp_stmt_double(w->cur, i);
        } else {
            const char *s = lp_stmt_textn(w->cur, i, &c[i].len);
            c[i].off = b->bytes.len;
            lp_buf_append(&b->bytes, s, c[i].len);
        }
    }
    b->n++;
}

/* Writes the rows held with full (a prepared INSERT of b->max rows) or an
 * INSERT of as many rows as are held. */
static int batch_flush(batch *b, lp_db *dst, lp_stmt *full)
{
    const layout *l = b->l;
    lp_stmt *st = full;
    int rc = 0;
    if (b->n == 0) return 0;
    if (b->n != b->max) {
        char *sql = insert_sql(l, b->n);
        rc = lp_db_prepare(dst, sql, &st);
        free(sql);
        if (rc < 0) return rc;
    }
    const char *bytes = b->bytes.data ? b->bytes.data : "";
    for (int r = 0; r < b->n && rc >= 0; r++) {
        const cell *c = &b->cells[(size_t)r * (size_t)l->n];
        for (int i = 0; i < l->n && rc >= 0; i++) {
            int p = r * l->n + i + 1;
            if (c[i].null)
                rc = lp_stmt_bind_null(st, p);
            else if (l->types[i] == C_INT)
                rc = lp_stmt_bind_int64(st, p, c[i].i);
            else if (l->types[i] == C_DOUBLE)
                rc = lp_stmt_bind_double(st, p, c[i].d);
            else if (l->types[i] == C_BLOB)
                rc = lp_stmt_bind_blob(st, p, bytes + c[i].off, c[i].len);
            else
                rc = lp_stmt_bind_textn(st, p, bytes + c[i].off, c[i].len);
        }
    }
    if (rc >= 0) rc = lp_stmt_step(st);
    if (st == full)
        lp_stmt_reset(st);
    else
        lp_stmt_done(st);
    if (rc >= 0) b->n = 0;
    return rc < 0 ? rc : 0;
}

/* Copies one table; dst has no transaction open on return. */
static int copy_table(lp_db *src, lp_db *dst, const lp_copy_table *t, lp_copy_progress progress,
                      void *arg, char **err)
{
    layout ls, ld;
    int rc = layout_load(src, "source", t, &ls, err);
    if (rc < 0) return rc;
    if ((rc = layout_load(dst, "target", t, &ld, err)) < 0) {
        layout_fini(&ls);
        return rc;
    }
    rc = layout_match(&ls, &ld, err);
    layout_fini(&ld);
    walker w = {0};
    batch b = {.l = &ls};
    lp_stmt *full = NULL;
    int writing = 0; /* whether an error came from the target */
    int64_t rows = 0, in_tx = 0;
    if (rc < 0) goto fail;
    if ((rc = walker_init(&w, src, &ls)) < 0) goto fail;
    b.max = MAX_PARAMS / ls.n < BATCH_ROWS ? MAX_PARAMS / ls.n : BATCH_ROWS;
    b.cells = lp_calloc((size_t)b.max * (size_t)ls.n, sizeof *b.cells);
    char *sql = insert_sql(&ls, b.max);
    writing = 1;
    rc = lp_db_prepare(dst, sql, &full);
    free(sql);
    if (rc < 0) goto fail;
    for (;;) {
        writing = 0;
        if ((rc = walker_step(&w)) < 0) goto fail;
        writing = 1;
        if (rc == LP_DB_ROW) batch_add(&b, &w);
        if (b.n == b.max || (rc == LP_DB_DONE && b.n)) {
            if (in_tx == 0 && (rc = lp_db_begin(dst, LP_TX_WRITE)) < 0) goto fail;
            in_tx += b.n;
            rows += b.n;
            if ((rc = batch_flush(&b, dst, full)) < 0) goto fail;
            if (in_tx >= TX_ROWS) {
                if ((rc = lp_db_commit(dst)) < 0) goto fail;
                in_tx = 0;
                if (progress) progress(arg, t->name, rows, 0);
            }
        } else if (rc == LP_DB_DONE) {
            break;
        }
    }
    if (in_tx && (rc = lp_db_commit(dst)) < 0) goto fail;
    if (is_pg(dst) && ls.nkeys == 1 && !strcmp(t->key, "id")) {
        /* Explicit ids leave an identity's sequence where it was. */
        char *q = lp_sprintf("SELECT setval(pg_get_serial_sequence('%s', 'id'),"
                             " COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM %s",
                             t->name, t->name);
        rc = lp_db_run(dst, q, NULL);
        free(q);
        if (rc < 0) {
            *err = lp_sprintf("advancing the id sequence of %s: %s", t->name, lp_db_errmsg(dst));
            goto fail;
        }
    }
    lp_stmt_done(full);
    walker_fini(&w);
    free(b.cells);
    free(b.first);
    lp_buf_fini(&b.bytes);
    layout_fini(&ls);
    if (progress) progress(arg, t->name, rows, 1);
    return 0;

fail:
    if (!*err) {
        const char *msg = rc == LP_ETOOBIG || rc == LP_ENOMEM ? lp_strerror(rc)
                          : writing                           ? lp_db_errmsg(dst)
                                                              : lp_db_errmsg(src);
        char *last = w.started && w.cur ? walker_where(&w) : NULL;
        if (writing && b.first)
            *err = lp_sprintf("writing %s into the target, rows from %s to %s: %s", t->name,
                              b.first, last ? last : "?", msg);
        else if (writing)
            *err = lp_sprintf("writing %s into the target: %s", t->name, msg);
        else
            *err = lp_sprintf("reading %s from the source%s%s: %s", t->name, last ? " after " : "",
                              last ? last : "", msg);
        free(last);
    }
    if (lp_db_in_tx(dst)) lp_db_rollback(dst);
    if (full) lp_stmt_done(full);
    walker_fini(&w);
    free(b.cells);
    free(b.first);
    lp_buf_fini(&b.bytes);
    layout_fini(&ls);
    return rc;
}

int lp_copy_run(lp_db *src, lp_db *dst, lp_copy_progress progress, void *arg, char **err)
{
    *err = NULL;
    int rc = begin_snapshot(src);
    if (rc < 0) {
        *err = lp_sprintf("reading the source: %s", lp_db_errmsg(src));
        return rc;
    }
    for (size_t i = 0; i < lp_copy_table_count && rc == 0; i++)
        rc = copy_table(src, dst, &lp_copy_tables[i], progress, arg, err);
    lp_db_rollback(src); /* it only read */
    return rc;
}

/* Adds a 256-bit little-endian number into acc, modulo 2^256. */
static void add256(unsigned char acc[32], const unsigned char x[32])
{
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        carry += (unsigned)acc[i] + x[i];
        acc[i] = (unsigned char)carry;
        carry >>= 8;
    }
}

/* Appends column col of the walker's row to b as canonical text: the same
 * bytes from any driver for the same value. */
static void canonical_column(lp_buf *b, lp_stmt *row, int type, int col)
{
    if (lp_stmt_is_null(row, col)) {
        lp_buf_puts(b, "N");
        return;
    }
    size_t n;
    const char *s;
    switch (type) {
    case C_INT: lp_buf_printf(b, "i%lld;", (long long)lp_stmt_int64(row, col)); break;
    case C_DOUBLE: {
        double v = lp_stmt_double(row, col);
        if (v == 0) v = 0; /* -0 and 0: SQLite does not keep the sign of a zero */
        lp_buf_printf(b, "d%.17g;", v);
        break;
    }
    default:
        s = lp_stmt_textn(row, col, &n);
        lp_buf_printf(b, "t%zu:", n);
        lp_buf_append(b, s, n);
        break;
    }
}

/* Walks l's table on db and computes its count and checksum, from a
 * snapshot (one read transaction).  A row the keyset walk does not reach
 * (SQLite lets a text primary key be NULL) would be missing from both the
 * copy and the checksum: the walk is held against COUNT(*).  On failure
 * *err names the table and side. */
static int checksum_layout(lp_db *db, const char *side, const layout *l, lp_copy_sum *out,
                           char **err)
{
    if (sodium_init() < 0) return LP_ENOMEM;
    memset(out, 0, sizeof *out);
    unsigned char acc[32] = {0}, h[32];
    walker w;
    lp_buf row = {0};
    int rc = walker_init(&w, db, l);
    while (rc == 0 && (rc = walker_step(&w)) == LP_DB_ROW) {
        row.len = 0;
        for (int i = 0; i < l->n; i++) canonical_column(&row, w.cur, l->types[i], i);
        crypto_generichash(h, sizeof h, (const unsigned char *)row.data, row.len, NULL, 0);
        add256(acc, h);
        out->rows++;
        rc = 0;
    }
    walker_fini(&w);
    lp_buf_fini(&row);
    int64_t n = 0;
    if (rc == LP_DB_DONE) {
        char *sql = lp_sprintf("SELECT COUNT(*) FROM %s", l->table);
        rc = lp_db_int64(db, &n, sql, NULL);
        free(sql);
    }
    if (rc < 0) {
        *err = lp_sprintf("reading %s in the %s: %s", l->table, side, lp_db_errmsg(db));
        return rc;
    }
    if (n != out->rows) {
        *err = lp_sprintf("table %s in the %s has %lld rows, of which its key (%s) orders only "
                          "%lld: a key column is NULL",
                          l->table, side, (long long)n, l->names[l->keys[0]], (long long)out->rows);
        return LP_EINVAL;
    }
    unsigned char count[8];
    for (int i = 0; i < 8; i++) count[i] = (unsigned char)((uint64_t)out->rows >> (8 * i));
    crypto_generichash_state s;
    crypto_generichash_init(&s, NULL, 0, sizeof out->sum);
    crypto_generichash_update(&s, acc, sizeof acc);
    crypto_generichash_update(&s, count, sizeof count);
    crypto_generichash_final(&s, out->sum, sizeof out->sum);
    return 0;
}

int lp_copy_checksum(lp_db *db, const char *table, lp_copy_sum *out, char **err)
{
    *err = NULL;
    const lp_copy_table *t = NULL;
    for (size_t i = 0; i < lp_copy_table_count && !t; i++)
        if (!strcmp(lp_copy_tables[i].name, table)) t = &lp_copy_tables[i];
    if (!t) {
        *err = lp_sprintf("%s is not a table that is copied", table);
        return LP_ENOTFOUND;
    }
    layout l;
    int rc = layout_load(db, "database", t, &l, err);
    if (rc < 0) return rc;
    rc = begin_snapshot(db);
    if (rc < 0) {
        *err = lp_sprintf("reading %s: %s", table, lp_db_errmsg(db));
    } else {
        rc = checksum_layout(db, "database", &l, out, err);
        lp_db_rollback(db);
    }
    layout_fini(&l);
    return rc;
}

int lp_copy_verify(lp_db *src, lp_db *dst, lp_copy_result *out, char **err)
{
    *err = NULL;
    int rc = begin_snapshot(src);
    if (rc < 0) {
        *err = lp_sprintf("reading the source: %s", lp_db_errmsg(src));
        return rc;
    }
    if ((rc = begin_snapshot(dst)) < 0) {
        *err = lp_sprintf("reading the target: %s", lp_db_errmsg(dst));
        lp_db_rollback(src);
        return rc;
    }
    int differ = 0;
    for (size_t i = 0; i < lp_copy_table_count && rc == 0; i++) {
        const lp_copy_table *t = &lp_copy_tables[i];
        lp_copy_result *r = &out[i];
        memset(r, 0, sizeof *r);
        r->table = t->name;
        layout ls, ld;
        if ((rc = layout_load(src, "source", t, &ls, err)) < 0) break;
        if ((rc = layout_load(dst, "target", t, &ld, err)) == 0) {
            rc = layout_match(&ls, &ld, err);
            layout_fini(&ld);
        }
        /* Both sides hashed with the source's columns, in its order. */
        if (rc == 0) rc = checksum_layout(src, "source", &ls, &r->src, err);
        if (rc == 0) rc = checksum_layout(dst, "target", &ls, &r->dst, err);
        layout_fini(&ls);
        if (rc < 0) break;
        r->ok = r->src.rows == r->dst.rows && !memcmp(r->src.sum, r->dst.sum, sizeof r->src.sum);
        if (!r->ok && !differ++)
            *err = lp_sprintf("table %s differs: %lld rows in the source, %lld in the target%s",
                              t->name, (long long)r->src.rows, (long long)r->dst.rows,
                              r->src.rows == r->dst.rows ? ", with different contents" : "");
    }
    lp_db_rollback(src);
    lp_db_rollback(dst);
    if (rc < 0) return rc;
    return differ ? LP_ECONFLICT : 0;
}
