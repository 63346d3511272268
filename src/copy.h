/* copy.h -- copying a whole installation's database to another database
 * (any driver to any driver), and verifying the copy by counts and
 * checksums (`loupe migrate --from URL --to URL`).
 *
 * Every table of the schema is in lp_copy_tables, in an order where a
 * table comes after the tables it references, with its primary key (the
 * keyset the rows are paged by).  Rows keep their ids.  Uploaded files
 * (DATA_DIR/files) and the secret that hashes keys (DATA_DIR/secret.key)
 * are not in the database: the caller says so. */
#ifndef LP_COPY_H
#define LP_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

typedef struct lp_copy_table {
    const char *name;
    const char *key; /* its primary key's columns, in order: "id", "project_id,user_id" */
} lp_copy_table;

extern const lp_copy_table lp_copy_tables[];
extern const size_t lp_copy_table_count;
/* Tables of the migrated schema that are not copied (each side keeps its
 * own schema_version); NULL-terminated. */
extern const char *const lp_copy_skipped[];

/* Opens url for a copy: as the source (source 1), a SQLite path that does
 * not exist is refused rather than created.  On PostgreSQL the session's
 * statement and idle-transaction timeouts are turned off (a copy holds
 * one read transaction for its whole length).  On failure *out is NULL and
 * *err a heap message the caller frees. */
int lp_copy_open(const char *url, int source, lp_db **out, char **err);

/* Readies src and dst: the source must hold a Loupe database, neither may
 * be newer than this binary's schema, and both are migrated to it.  With
 * need_empty, dst must hold no row in any table (the error names the
 * first that does).  On failure *err is a heap message. */
int lp_copy_prepare(lp_db *src, lp_db *dst, int need_empty, char **err);

/* Called after each page of rows copied (done 0) and once when a table is
 * complete (done 1), with the rows copied so far. */
typedef void (*lp_copy_progress)(void *arg, const char *table, int64_t rows, int done);

/* Copies every row of every table from src into dst, in keyset pages
 * from one read transaction (one snapshot) of src, committing dst every
 * few thousand rows, ids kept; on PostgreSQL, generated ids continue after
 * the largest copied.  On failure dst's open transaction is rolled back
 * (tables already committed stay) and *err names the table and the row. */
int lp_copy_run(lp_db *src, lp_db *dst, lp_copy_progress progress, void *arg, char **err);

/* A table's row count and checksum on one side.  The checksum is computed
 * here, not by the database: each row's columns are written as canonical
 * text (integers in decimal, doubles as %.17g, text and blobs as their
 * bytes with their length, NULL as a mark), hashed with BLAKE2b-256, and
 * the rows' hashes are added modulo 2^256, so that it does not depend on
 * the order in which a database's collation sorts text keys; sum is then
 * BLAKE2b-256 of that total and the count. */
typedef struct lp_copy_sum {
    int64_t rows;
    unsigned char sum[32];
} lp_copy_sum;

typedef struct lp_copy_result {
    const char *table;
    lp_copy_sum src, dst;
    int ok; /* same count and checksum */
} lp_copy_result;

/* Computes every table's count and checksum on both sides, into out
 * (lp_copy_table_count entries).  Returns 0 when every table is equal,
 * LP_ECONFLICT when one differs (*err names the first), another error
 * when a side could not be read (*err says which). */
int lp_copy_verify(lp_db *src, lp_db *dst, lp_copy_result *out, char **err);

/* The checksum of one table on one database (for tests). */
int lp_copy_checksum(lp_db *db, const char *table, lp_copy_sum *out, char **err);

#endif
