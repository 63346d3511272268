/* files.c -- see files.h. */
#include "files.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static int mkdirs(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) return LP_EIO;
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST) return LP_EIO;
    return 0;
}

int lp_upload_begin(lp_upload *u, const char *files_dir)
{
    memset(u, 0, sizeof *u);
    crypto_hash_sha256_init(&u->sha);
    char dir[400];
    snprintf(dir, sizeof dir, "%s/tmp", files_dir);
    snprintf(u->tmp, sizeof u->tmp, "%s/upload-XXXXXX", dir);
    if (mkdirs(dir) < 0 || (u->fd = mkstemp(u->tmp)) < 0) {
        u->tmp[0] = '\0';
        u->fd = -1;
        return LP_EIO;
    }
    return 0;
}

int lp_upload_write(lp_upload *u, const void *data, size_t n)
{
    crypto_hash_sha256_update(&u->sha, data, n);
    for (size_t off = 0; off < n;) {
        ssize_t w = write(u->fd, (const char *)data + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return errno == ENOSPC ? LP_ENOSPC : LP_EIO;
        off += (size_t)w;
    }
    u->size += n;
    return 0;
}

int lp_upload_finish(lp_upload *u, lp_db *db, const char *files_dir, const char *content_type,
                     const char *filename, int64_t uploaded_by, char *sha, int *created)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&u->sha, h);
    sodium_bin2hex(sha, 2 * crypto_hash_sha256_BYTES + 1, h, sizeof h);
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/%.2s/%.2s", files_dir, sha, sha + 2);
    snprintf(path, sizeof path, "%s/%s", dir, sha);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (fsync(u->fd) != 0 || mkdirs(dir) < 0 || rename(u->tmp, path) != 0)
            return errno == ENOSPC ? LP_ENOSPC : LP_EIO;
        u->tmp[0] = '\0';
    }
    static const char sql[] =
        "INSERT INTO files (sha256, size, content_type, filename, uploaded_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING";
    int64_t now = lp_now_ms(), size = (int64_t)u->size;
    int rc = uploaded_by
                 ? lp_db_run(db, sql, "sissii", sha, size, content_type, filename, uploaded_by, now)
                 : lp_db_run(db, sql, "sissni", sha, size, content_type, filename, now);
    if (rc < 0) return rc;
    *created = lp_db_changes(db) > 0;
    /* Whoever has the bytes may read them back. */
    if (uploaded_by)
        rc = lp_db_run(db,
                       "INSERT INTO file_uploaders (sha256, user_id) VALUES (?, ?) "
                       "ON CONFLICT (sha256, user_id) DO NOTHING",
                       "si", sha, uploaded_by);
    return rc < 0 ? rc : 0;
}

int lp_file_readable(lp_db *db, const char *sha, int64_t user_id, int is_admin, int64_t project)
{
    int64_t one;
    if (project) /* a project-scoped key: that project's files only */
        return lp_db_int64(db, &one,
                           "SELECT 1 FROM file_projects fp JOIN files f ON f.sha256 = fp.sha256 "
                           "WHERE fp.sha256 = ? AND fp.project_id = ? AND (? = 1 OR EXISTS (SELECT 1 "
                           "FROM project_members m WHERE m.project_id = fp.project_id AND "
                           "m.user_id = ?))",
                           "siii", sha, project, (int64_t)(is_admin != 0), user_id);
    return lp_db_int64(db, &one,
                       "SELECT 1 FROM files f WHERE f.sha256 = ? AND (? = 1 OR EXISTS (SELECT 1 "
                       "FROM file_uploaders u WHERE u.sha256 = f.sha256 AND u.user_id = ?) OR "
                       "EXISTS (SELECT 1 FROM file_projects fp JOIN project_members m ON "
                       "m.project_id = fp.project_id WHERE fp.sha256 = f.sha256 AND "
                       "m.user_id = ?))",
                       "siii", sha, (int64_t)(is_admin != 0), user_id, user_id);
}

int lp_file_link(lp_db *db, const char *sha, int64_t project_id, int64_t reader,
                 int64_t reader_project)
{
    if (reader) {
        int64_t one;
        int rc = lp_db_int64(db, &one, "SELECT 1 FROM files WHERE sha256 = ?", "s", sha);
        if (rc == 0 &&
            (rc = lp_file_readable(db, sha, reader, 0, reader_project)) == LP_ENOTFOUND)
            return 0;
        if (rc < 0 && rc != LP_ENOTFOUND) return rc;
    }
    return lp_db_run(db,
                     "INSERT INTO file_projects (sha256, project_id) VALUES (?, ?) "
                     "ON CONFLICT (sha256, project_id) DO NOTHING",
                     "si", sha, project_id);
}

int lp_file_link_urls(lp_db *db, const char *text, size_t len, int64_t project_id,
                      int64_t reader, int64_t reader_project)
{
    static const char pre[] = "/v1/files/";
    const size_t np = sizeof pre - 1;
    const char *p = text, *end = text + len;
    while (p && (size_t)(end - p) >= np + 64 && (p = memmem(p, (size_t)(end - p), pre, np))) {
        p += np;
        if ((size_t)(end - p) < 64) break;
        size_t k = 0;
        while (k < 64 && ((p[k] >= '0' && p[k] <= '9') || (p[k] >= 'a' && p[k] <= 'f'))) k++;
        if (k < 64 || (k < (size_t)(end - p) && isxdigit((unsigned char)p[64]))) continue;
        char sha[65];
        memcpy(sha, p, 64);
        sha[64] = '\0';
        int rc = lp_file_link(db, sha, project_id, reader, reader_project);
        if (rc < 0) return rc;
        p += 64;
    }
    return 0;
}

void lp_upload_fini(lp_upload *u)
{
    if (u->fd >= 0) close(u->fd);
    u->fd = -1;
    if (u->tmp[0]) unlink(u->tmp);
    u->tmp[0] = '\0';
}

const char *lp_file_content_type(const char *name)
{
    static const char *const types[][2] = {
        {"png", "image/png"},        {"jpg", "image/jpeg"},      {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},        {"webp", "image/webp"},     {"bmp", "image/bmp"},
        {"tif", "image/tiff"},       {"tiff", "image/tiff"},     {"svg", "image/svg+xml"},
        {"wav", "audio/wav"},        {"mp3", "audio/mpeg"},      {"ogg", "audio/ogg"},
        {"flac", "audio/flac"},      {"m4a", "audio/mp4"},       {"opus", "audio/opus"},
        {"mp4", "video/mp4"},        {"webm", "video/webm"},     {"mov", "video/quicktime"},
        {"mkv", "video/x-matroska"}, {"txt", "text/plain"},      {"md", "text/markdown"},
        {"html", "text/html"},       {"pdf", "application/pdf"},
    };
    const char *dot = strrchr(name, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < LP_ARRAY_LEN(types); i++)
            if (!strcasecmp(dot + 1, types[i][0])) return types[i][1];
    return "application/octet-stream";
}
