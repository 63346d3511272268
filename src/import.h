/* import.h -- creating many tasks of a project from one document: a JSON
 * array, NDJSON lines or CSV with a header row (and a column mapping).
 *
 * The API's bulk import (POST /v1/projects/{id}/tasks) and `loupe import`
 * both run lp_import_run, so a file gives the same tasks and the same row
 * reports either way.  The document is checked as a whole first (framing:
 * an unclosed array, a cut-short last line, a CSV syntax error, a mapping
 * naming a missing column), so a bad document creates nothing.  Then each
 * row is parsed, validated and inserted on its own, all in or all out, and
 * reported with its index and, when invalid, the line it starts on. */
#ifndef LP_IMPORT_H
#define LP_IMPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "project.h"
#include "valid.h"

enum { LP_IMPORT_JSON, LP_IMPORT_CSV };

typedef struct lp_import lp_import;
/* Called with each row's outcome, in order: rc 0 (created, *id), LP_EEXISTS
 * (a duplicate of task *id) or LP_EINVAL (e says why; line is where the
 * row starts in the document, from 1). */
typedef void (*lp_import_row_fn)(lp_import *im, size_t index, size_t line, int rc, int64_t id,
                                 const lp_verr *e);

struct lp_import {
    int format;           /* LP_IMPORT_JSON (an array or NDJSON) or LP_IMPORT_CSV */
    const char *body;     /* the document (not NUL-terminated) */
    size_t len;           /* its length */
    const char *columns;  /* CSV: the mapping "COLUMN:TARGET,..." (NULL: by header names) */
    int64_t batch_id;     /* the batch of rows that name none (0: none) */
    int64_t reader, reader_project; /* who imports, for the files tasks name (lp_task_writer) */
    lp_import_row_fn row; /* may be NULL */
    /* A converted source (convert.h): each row's place in it, which
     * reports give instead of the line (NULL: rows are lines). */
    const char *const *where;
    void *arg;       /* for row */
    size_t max_rows; /* more rows refuse the document (0: no limit) */
    /* results */
    size_t rows; /* rows in the document, known before the first call of row */
    size_t created, duplicates, invalid;
};

/* Imports im->body into project p on db, committing every few thousand
 * rows.  A document of more than im->max_rows rows is refused whole:
 * LP_ETOOBIG, e naming "body".  0 once every row was tried; LP_EINVAL with e filled when the
 * document is refused before any row (field "body", "columns" or
 * "batch_id"); another LP_E* code when the database fails part way (rows
 * committed so far stay). */
int lp_import_run(lp_db *db, const lp_project *p, lp_import *im, lp_verr *e);

/* One CSV column's place in a task. */
typedef struct lp_import_col {
    int target;    /* LP_COL_* */
    char key[256]; /* data/metadata key, or attachment type */
} lp_import_col;

enum {
    LP_COL_SKIP,
    LP_COL_DATA,
    LP_COL_METADATA,
    LP_COL_UNIQUE_ID,
    LP_COL_PRIORITY,
    LP_COL_BATCH_ID,
    LP_COL_BATCH,
    LP_COL_TAGS,
    LP_COL_ATTACHMENT,
};

/* Maps each of the n header names to a target: the mapping spec's
 * ("review:data.text,img:attachments.image,id:unique_id,notes:-") for the
 * columns it names, the default for the others (text -> data.text,
 * unique_id, priority, batch_id, batch, tags, image/audio/video ->
 * attachments, anything else -> data.NAME).  cols has n entries.  0, or
 * LP_EINVAL with e naming "columns" (an unknown column or target, a target
 * given twice) or "body" (an empty or repeated header name). */
int lp_import_map(const char *const *header, size_t n, const char *spec, lp_import_col *cols,
                  lp_verr *e);
/* Builds the task body of one CSV row under cols (n fields) into *out,
 * which the caller owns.  0, or LP_EINVAL with e filled for a cell that is
 * not UTF-8.  Other bad cells (a priority that is no number) become values
 * the task's validation refuses, naming the field. */
int lp_import_csv_task(const lp_import_col *cols, const char *const *fields, size_t n, json_t **out,
                       lp_verr *e);

#endif
