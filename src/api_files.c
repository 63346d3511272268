/* api_files.c -- uploaded attachments, stored by content.
 *
 * POST /v1/files streams the body into the file store (files.c) while
 * hashing it, so memory stays constant whatever the size: the same bytes
 * uploaded twice are stored once.  GET serves the bytes back to
 * signed-in users, in a sandbox (CSP) so an uploaded HTML file cannot run
 * script on the UI's origin, and as an attachment (downloaded, not shown)
 * unless it is an image, audio or video type a browser only displays
 * (SVG, a document that can hold script, is an attachment too). */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "files.h"

static void upload_free(void *p)
{
    lp_upload_fini(p);
    free(p);
}

void lp_api_file_chunk(lp_req *req, const char *data, size_t n)
{
    lp_upload *u = req->ctx;
    if (!u) {
        const char *ct = lp_req_header(req, "Content-Type");
        if (ct && strncasecmp(ct, "multipart/", 10) == 0) { /* refuse before storing a byte */
            lp_reply_error(
                req, 415, "unsupported_media_type", "Content-Type",
                "send the raw bytes with the file's own Content-Type, not a multipart form");
            return;
        }
        u = lp_malloc(sizeof *u);
        int rc = lp_upload_begin(u, req->srv->files_dir);
        req->ctx = u;
        req->ctx_free = upload_free;
        if (rc < 0) {
            lp_log(LP_LOG_ERROR, "cannot create an upload file in %s/tmp: %s", req->srv->files_dir,
                   strerror(errno));
            lp_reply_error(req, 500, "internal", NULL, "cannot store the upload");
            return;
        }
    }
    if (u->size + n > req->body_limit) {
        lp_reply_error(req, 413, "too_large", "body", "the file is larger than the limit of %zu MB",
                       req->body_limit >> 20);
        return;
    }
    if (lp_upload_write(u, data, n) < 0)
        lp_reply_error(req, 507, "insufficient_storage", NULL, "cannot store the upload: %s",
                       strerror(errno));
}

static json_t *file_json(const char *sha, int64_t size, const char *ctype, const char *name)
{
    char url[128];
    snprintf(url, sizeof url, "/v1/files/%s", sha);
    return json_pack("{s:s, s:I, s:s, s:s, s:s}", "sha256", sha, "size", (json_int_t)size,
                     "content_type", ctype, "filename", name, "url", url);
}

int lp_api_file_upload(lp_req *req)
{
    lp_upload *u = req->ctx;
    if (!u || u->size == 0)
        return lp_reply_error(req, 400, "invalid_request", "body",
                              "send the file's bytes as the body (curl --data-binary @FILE)");
    const char *ctype = lp_req_header(req, "Content-Type");
    if (!ctype || !*ctype) ctype = "application/octet-stream";
    const char *name = lp_req_arg(req, "filename");
    if (!name) name = "";
    if (strlen(name) > 255)
        return lp_reply_error(req, 400, "invalid_request", "filename",
                              "filename: at most 255 characters");
    /* ?project_id (a project-scoped key's own by default) lets the
     * project's members read the file before a task names it. */
    int64_t pid = 0;
    const char *pa = lp_req_arg(req, "project_id");
    if (pa && (lp_parse_int64(pa, &pid) < 0 || pid < 1))
        return lp_reply_error(req, 400, "invalid_request", "project_id",
                              "project_id: must be a project id");
    if (pid && lp_api_require(req, pid, LP_ROLE_MANAGER, NULL)) return 0;
    int role = LP_ROLE_NONE;
    if (!pid && req->who.project && /* a manager's project key: linked to its project */
        lp_project_role(req->db, req->who.project, req->who.user_id, req->who.is_admin, &role) ==
            0 &&
        role >= LP_ROLE_MANAGER)
        pid = req->who.project;
    char sha[2 * crypto_hash_sha256_BYTES + 1];
    int created = 0;
    /* (the file's fsync and rename happen before any write lock is taken) */
    int rc = lp_upload_finish(u, req->db, req->srv->files_dir, ctype, name, req->who.user_id, sha,
                              &created);
    if (rc == 0 && pid) rc = lp_file_link(req->db, sha, pid, 0, 0);
    if (rc == LP_EIO) {
        lp_log(LP_LOG_ERROR, "cannot store %s: %s", sha, strerror(errno));
        return lp_reply_error(req, 500, "internal", NULL, "cannot store the upload");
    }
    if (rc < 0) return lp_reply_rc(req, rc, "file");
    /* The same bytes uploaded before keep their first record: answer with
     * what is stored, and 200 rather than 201. */
    lp_stmt *st;
    rc = lp_db_prepare(req->db, "SELECT content_type, filename FROM files WHERE sha256 = ?", &st);
    if (rc < 0) return lp_reply_rc(req, rc, "file");
    lp_stmt_bind_text(st, 1, sha);
    json_t *out = NULL;
    if (lp_stmt_step(st) == LP_DB_ROW)
        out = file_json(sha, (int64_t)u->size, lp_stmt_text(st, 0), lp_stmt_text(st, 1));
    lp_stmt_done(st);
    if (!out) return lp_reply_rc(req, LP_EDB, "file");
    return lp_reply_json(req, created ? 201 : 200, out);
}

/* Types a browser shows as media, never as a page that could run script
 * on our origin (SVG is a document: not among them). */
static int inline_safe(const char *ctype)
{
    static const char *const safe[] = {"image/png",  "image/jpeg", "image/gif", "image/webp",
                                       "image/avif", "image/bmp",  "audio/",    "video/"};
    for (size_t i = 0; i < LP_ARRAY_LEN(safe); i++) {
        size_t n = strlen(safe[i]);
        if (strncasecmp(ctype, safe[i], n) == 0 &&
            (safe[i][n - 1] == '/' || ctype[n] == '\0' || ctype[n] == ';'))
            return 1;
    }
    return 0;
}

/* "attachment" (or "inline" for media) with the stored file name,
 * percent-encoded (RFC 6266, RFC 8187). */
static const char *disposition(lp_req *req, const char *ctype, const char *name)
{
    lp_buf b = {0};
    lp_buf_printf(&b, "%s", inline_safe(ctype) ? "inline" : "attachment");
    if (*name) {
        lp_buf_printf(&b, "; filename*=UTF-8''");
        for (const unsigned char *p = (const unsigned char *)name; *p; p++)
            if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", *p))
                lp_buf_printf(&b, "%c", *p);
            else
                lp_buf_printf(&b, "%%%02X", *p);
    }
    const char *out = lp_arena_sprintf(&req->arena, "%s", b.data);
    lp_buf_fini(&b);
    return out;
}

int lp_api_file_get(lp_req *req)
{
    const char *sha = req->params[0];
    if (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64)
        return lp_reply_error(req, 404, "not_found", NULL, "no file %s", sha);
    /* Someone else's file answers as a file that does not exist. */
    int rc = lp_file_readable(req->db, sha, req->who.user_id, req->who.is_admin, req->who.project);
    if (rc == LP_ENOTFOUND) return lp_reply_error(req, 404, "not_found", NULL, "no file %s", sha);
    if (rc < 0) return lp_reply_rc(req, rc, "file");
    lp_stmt *st;
    rc = lp_db_prepare(req->db,
                           "SELECT size, content_type, filename FROM files WHERE sha256 = ?", &st);
    if (rc < 0) return lp_reply_rc(req, rc, "file");
    lp_stmt_bind_text(st, 1, sha);
    char ctype[256] = "", name[256] = "";
    int64_t size = -1;
    if (lp_stmt_step(st) == LP_DB_ROW) {
        size = lp_stmt_int64(st, 0);
        snprintf(ctype, sizeof ctype, "%s", lp_stmt_text(st, 1));
        snprintf(name, sizeof name, "%s", lp_stmt_is_null(st, 2) ? "" : lp_stmt_text(st, 2));
    }
    lp_stmt_done(st);
    if (size < 0) return lp_reply_error(req, 404, "not_found", NULL, "no file %s", sha);
    char etag[70];
    snprintf(etag, sizeof etag, "\"%s\"", sha);
    const char *inm = lp_req_header(req, "If-None-Match");
    if (inm && (strstr(inm, sha) || !strcmp(inm, "*"))) { /* content-addressed: never changes */
        lp_reply_empty(req, 304);
        lp_reply_header(req, "ETag", etag);
        lp_reply_header(req, "Cache-Control", "private, max-age=31536000, immutable");
        return 0;
    }
    char path[600];
    snprintf(path, sizeof path, "%s/%.2s/%.2s/%s", req->srv->files_dir, sha, sha + 2, sha);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        lp_log(LP_LOG_ERROR, "file %s is in the database but not on disk: %s", path,
               strerror(errno));
        return lp_reply_error(req, 404, "not_found", NULL, "file %s is missing from storage", sha);
    }
    /* One byte range, so that audio and video players can seek in a file
     * they stream.  If-Range needs no check: a file never changes. */
    uint64_t start = 0, len = (uint64_t)size;
    int ranged = lp_http_range(lp_req_header(req, "Range"), (uint64_t)size, &start, &len);
    if (ranged < 0) {
        close(fd);
        char cr[48];
        snprintf(cr, sizeof cr, "bytes */%lld", (long long)size);
        lp_reply_error(req, 416, "range_not_satisfiable", "Range",
                       "the file has %lld bytes: no byte of the range asked for exists",
                       (long long)size);
        lp_reply_header(req, "Content-Range", cr);
        return 0;
    }
    lp_reply_fd(req, ranged ? 206 : 200, ctype, fd, start, len);
    if (ranged) {
        char cr[80];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%lld", (unsigned long long)start,
                 (unsigned long long)(start + len - 1), (long long)size);
        lp_reply_header(req, "Content-Range", cr);
    }
    lp_reply_header(req, "Accept-Ranges", "bytes");
    lp_reply_header(req, "Content-Disposition", disposition(req, ctype, name));
    lp_reply_header(req, "Content-Security-Policy",
                    "sandbox; default-src 'none'; frame-ancestors 'none'");
    lp_reply_header(req, "Cache-Control", "private, max-age=31536000, immutable");
    lp_reply_header(req, "ETag", etag);
    return 0;
}
