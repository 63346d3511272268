/* files.h -- the store of uploaded files, addressed by content.
 *
 * A file is written to DATA_DIR/files/tmp while it is hashed (SHA-256),
 * then fsynced and renamed to DATA_DIR/files/ab/cd/SHA256 and recorded in
 * the files table.  The same bytes stored twice are kept once, with their
 * first record.  POST /v1/files and `loupe import` both store through
 * here, so a file gets the same name and record either way. */
#ifndef LP_FILES_H
#define LP_FILES_H

#include <sodium.h>
#include <stdint.h>

#include "db.h"

typedef struct lp_upload {
    char tmp[512]; /* the temporary file ("" once renamed or removed) */
    int fd;
    uint64_t size;
    crypto_hash_sha256_state sha;
} lp_upload;

/* Starts a file under files_dir: 0, or LP_EIO (errno says why). */
int lp_upload_begin(lp_upload *u, const char *files_dir);
/* Appends n bytes: 0, or LP_EIO (errno says why). */
int lp_upload_write(lp_upload *u, const void *data, size_t n);
/* Stores the file under its hash and records it (content_type, filename,
 * uploaded_by: 0 for none) on db.  0 with sha (65 bytes) filled and
 * *created 1 when the record is new; LP_EIO (errno) or a database error. */
int lp_upload_finish(lp_upload *u, lp_db *db, const char *files_dir, const char *content_type,
                     const char *filename, int64_t uploaded_by, char *sha, int *created);
/* Closes and removes what is left of the upload (not the stored file). */
void lp_upload_fini(lp_upload *u);

/* A content type from a file name's extension ("image/png"), or
 * "application/octet-stream". */
const char *lp_file_content_type(const char *name);

#endif
