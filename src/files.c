/* files.c -- see files.h. */
#include "files.h"

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
