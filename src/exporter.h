/* exporter.h -- one export of a project's tasks, page after page, in a
 * format of export.h: the loop that GET /v1/projects/{id}/export
 * (api_export.c) and `loupe export` (main.c) both run.
 *
 * An exporter reads the project's tasks in keyset pages of
 * LP_EXPORT_PAGE (WHERE id > last ORDER BY id, the task list's query and
 * filters), adds each task's accepted annotations when asked, and hands
 * them to the format's encoder.  Each call to lp_exporter_next takes the
 * database it is given for that one page only, so a caller may hand it a
 * different connection every time (the HTTP stream takes one from the
 * pool per page).  Memory is one page whatever the project's size.  Each
 * page is a consistent snapshot when the caller reads it in a
 * transaction; tasks created during an export appear at most once.
 *
 * Worker ids (the annotations' user_id, the review's by) go out as they
 * are, as pseudonyms, or not at all (LP_WORKERS_*).  A pseudonym is a
 * keyed hash of the id under the project's export key (projects.
 * export_secret, made with the project and never shown by the API): the
 * same worker is the same "w_..." in every export of the project, a
 * different one in another project's, and the id cannot be found from it
 * without the key.  Nothing is kept per worker, so memory stays one page. */
#ifndef LP_EXPORTER_H
#define LP_EXPORTER_H

#include "db.h"
#include "export.h"
#include "tasks.h"

#define LP_EXPORT_PAGE 500

/* What an export writes for a worker's id. */
enum { LP_WORKERS_IDS, LP_WORKERS_PSEUDONYMS, LP_WORKERS_NONE };

#define LP_EXPORT_KEY_BYTES 32 /* a project's export key */
#define LP_PSEUDONYM_LEN    14 /* "w_" and 12 hex digits */

typedef struct lp_exporter lp_exporter;

/* Starts an export of f->project_id (its other filters apply; after_id
 * and limit are ignored) in the format called format (NULL: ndjson), with
 * each task's accepted annotations when annotations is set, and worker
 * ids written as workers says (LP_WORKERS_*).  The strings of f are
 * copied.  Returns 0 with *out (free it with lp_exporter_free);
 * LP_EINVAL with *err (malloc'd, the caller frees it) saying why when
 * there is no such format or it does not export this project's kind -- a
 * message to put after the option's name; or the error of reading the
 * project (LP_ENOTFOUND...; LP_EDB when pseudonyms are asked for and the
 * project has no export key). */
int lp_exporter_new(lp_db *db, const char *format, int annotations, int workers,
                    const lp_task_filter *f, lp_exporter **out, char **err);
void lp_exporter_free(lp_exporter *x);

/* The export's format (its content type and file extension). */
const lp_export_format *lp_exporter_format(const lp_exporter *x);

/* Appends the next page of the export to out, with the format's
 * beginning before the first and its end after the last; returns 1 while
 * more follows, 0 after the last, or the database's negative LP_E* code
 * (the export cannot go on). */
int lp_exporter_next(lp_exporter *x, lp_db *db, lp_buf *out);

/* Reads an include list (comma-separated: "annotations") into
 * *annotations; LP_EINVAL with *err (malloc'd) naming the unknown item. */
int lp_exporter_include(const char *s, int *annotations, char **err);

/* Reads a workers option ("ids", "pseudonyms" or "none"; NULL: ids) into
 * *workers; LP_EINVAL with *err (malloc'd) naming the bad value. */
int lp_exporter_workers(const char *s, int *workers, char **err);

/* The pseudonym of worker user_id under a project's export key: "w_" and
 * the first 12 hex digits of BLAKE2b (crypto_generichash) keyed with key
 * over the id in decimal.  Pure. */
void lp_export_pseudonym(const unsigned char key[LP_EXPORT_KEY_BYTES], int64_t user_id,
                         char out[LP_PSEUDONYM_LEN + 1]);

/* Appends to out the task object json (n bytes, as lp_task_each writes
 * it) with its review's worker id ("by") as workers says: unchanged,
 * replaced by its pseudonym under key, or left out.  Everything else is
 * copied byte for byte.  Pure. */
void lp_export_task_workers(const char *json, size_t n, int workers,
                            const unsigned char key[LP_EXPORT_KEY_BYTES], lp_buf *out);

#endif
