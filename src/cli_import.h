/* cli_import.h -- `loupe import PROJECT_ID FILE|DIR`: tasks from a JSON,
 * NDJSON or CSV file, from a folder of media files, from a list of URLs,
 * or from labels in another tool's format (convert.h: COCO, YOLO, VOC,
 * CoNLL, Label Studio) in a file, a folder or a zip, written straight
 * into the database.
 *
 * Every form becomes one document that goes through lp_import_run, the
 * code behind POST /v1/projects/{id}/tasks: a folder or a URL list is
 * turned into NDJSON, one task per file or URL, after each file has been
 * stored as POST /v1/files stores it. */
#ifndef LP_CLI_IMPORT_H
#define LP_CLI_IMPORT_H

#include <stdint.h>

#include "db.h"

typedef struct lp_cli_import {
    int64_t project_id;
    const char *path;      /* a file, or a folder */
    const char *format;    /* json, ndjson, csv or urls (NULL: from the extension) */
    const char *columns;   /* CSV column mapping (import.h) */
    const char *batch;     /* batch name (created in staging when missing) */
    const char *as;        /* converted labels: "predictions" (NULL too) or "results" */
    const char *model;     /* converted labels: the predictions' model */
    const char *image_base; /* converted labels: URL prefix of images not in the source */
    const char *files_dir; /* DATA_DIR/files */
} lp_cli_import;

/* Runs the import on db, printing each bad row as "FILE:LINE: field:
 * message" to stderr and a summary to stdout.  Returns the exit status:
 * 0 when every row was created or a duplicate, 1 otherwise, 2 on a bad
 * option. */
int lp_cli_import_run(lp_db *db, const lp_cli_import *o);

#endif
