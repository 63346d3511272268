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
 * uploaded_by: 0 for none, else also one of its uploaders) on db.  0 with sha (65 bytes) filled and
 * *created 1 when the record is new; LP_EIO (errno) or a database error. */
int lp_upload_finish(lp_upload *u, lp_db *db, const char *files_dir, const char *content_type,
                     const char *filename, int64_t uploaded_by, char *sha, int *created);
/* Who may read a stored file: everyone who uploaded its bytes, an admin
 * (is_admin), and the members of a project linked to it; with a
 * project-scoped key (project not 0) only a file linked to that project.  0 if user_id may read sha,
 * LP_ENOTFOUND if not or if there is no such file. */
int lp_file_readable(lp_db *db, const char *sha, int64_t user_id, int is_admin, int64_t project);
/* Links sha to a project, so that its members may read it.  With reader
 * not 0, an existing file that reader (acting with a key of
 * reader_project, 0: any) may not read is left unlinked: a task cannot
 * open a file to its project by naming its hash. */
int lp_file_link(lp_db *db, const char *sha, int64_t project_id, int64_t reader,
                 int64_t reader_project);
/* Links every file text names by a /v1/files/SHA256 URL (see
 * lp_file_link). */
int lp_file_link_urls(lp_db *db, const char *text, size_t len, int64_t project_id,
                      int64_t reader, int64_t reader_project);

/* Closes and removes what is left of the upload (not the stored file). */
void lp_upload_fini(lp_upload *u);

/* A content type from a file name's extension ("image/png"), or
 * "application/octet-stream". */
const char *lp_file_content_type(const char *name);

#endif
