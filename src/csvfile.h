/* csvfile.h -- reading CSV files row by row, with line numbers, and
 * writing CSV records into a buffer.
 *
 * A thin layer over libcsv (Debian's libcsv-dev), which does the quoting
 * rules of RFC 4180.  What it adds: rows come out one at a time as arrays
 * of NUL-terminated fields, each with the line it started on (so a caller
 * can say "line 12: ..."), a UTF-8 byte-order mark is dropped, and lines
 * that start with '#' outside a quoted field are comments.  The writer
 * quotes every field with libcsv's csv_write (quotes doubled, commas and
 * line breaks kept inside the quotes) and ends records with CRLF, as
 * RFC 4180 says. */
#ifndef LP_CSVFILE_H
#define LP_CSVFILE_H

#include <stddef.h>

#include "util.h"

typedef struct lp_csv lp_csv;

/* Opens path for reading ("-" is standard input).  0, or LP_EIO with the
 * reason in *err (malloc'd). */
int lp_csv_open(const char *path, lp_csv **out, char **err);
/* Reads the n bytes at s (which must outlive the reader) the same way,
 * except that with comments 0 a line starting with '#' is data (a task's
 * text may start with one).  0, or LP_ENOMEM. */
int lp_csv_open_mem(const char *s, size_t n, int comments, lp_csv **out);
/* Reads the next row: 1 with *fields (owned by the reader, valid until the
 * next call) and *n set, 0 at the end of the file, or LP_EINVAL / LP_EIO
 * with lp_csv_error() saying why and where.  Blank lines are skipped. */
int lp_csv_next(lp_csv *c, const char *const **fields, size_t *n);
/* The line the last row began on (1-based). */
long lp_csv_line(const lp_csv *c);
/* Why the last lp_csv_next failed ("line 7: unterminated quoted field"). */
const char *lp_csv_error(const lp_csv *c);
/* Closes the file and frees the reader; NULL is a no-op. */
void lp_csv_close(lp_csv *c);

/* Appends field number index (0-based) of a record to out: a comma first
 * unless index is 0, then the n bytes of s (NULL: empty) quoted. */
void lp_csv_write_field(lp_buf *out, size_t index, const char *s, size_t n);
/* Ends the record being written to out. */
void lp_csv_end_record(lp_buf *out);

#endif
