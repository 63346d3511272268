/* api_ui.c -- the browser UI's files, served by the loupe binary itself.
 *
 * The UI is plain HTML, CSS and JavaScript modules in one directory
 * (web/index.html and the flat web/ui/), found at start-up beside the
 * binary or where --web-dir says; nothing is fetched from elsewhere at run
 * time.  Names under /ui/ are single path segments of letters, digits,
 * '.', '-' and '_' that do not start with '.', so no request can leave the
 * directory.  Files carry an ETag from their size and modification time
 * and Cache-Control: no-cache, so a browser revalidates (a 304) and an
 * upgrade is seen at once; pages get a Content-Security-Policy that allows
 * scripts and styles from this server only. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "server.h"
#include "util.h"

/* Images, audio and video of tasks may live anywhere (their URLs); every
 * script, style and API call stays on this server. */
#define UI_CSP                                                                               \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data: blob:; "       \
    "media-src * data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; " \
    "form-action 'self'"

static int has_index(const char *dir)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/index.html", dir);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *lp_ui_find_dir(const char *dir)
{
    if (dir) return has_index(dir) ? lp_strdup(dir) : NULL;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return NULL;
    exe[n] = '\0';
    const char *bin = dirname(exe);
    static const char *const places[] = {"%s/web", "%s/../share/loupe/web"};
    for (size_t i = 0; i < LP_ARRAY_LEN(places); i++) {
        char path[4200];
        snprintf(path, sizeof path, places[i], bin);
        if (has_index(path)) return realpath(path, NULL);
    }
    return NULL;
}

static const char *content_type(const char *name)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < LP_ARRAY_LEN(types); i++)
        if (!strcmp(dot, types[i][0])) return types[i][1];
    return "application/octet-stream";
}

/* Whether path, all symbolic links followed, is still inside dir: a link
 * in web/ that leads out of it is not served. */
static int inside(const char *dir, const char *path)
{
    char *d = realpath(dir, NULL), *p = realpath(path, NULL);
    size_t n = d ? strlen(d) : 0;
    int ok = d && p && strncmp(p, d, n) == 0 && p[n] == '/';
    free(d);
    free(p);
    return ok;
}

/* Answers the file at path (name for its type), or 404. */
static int serve(lp_req *req, const char *path, const char *name)
{
    int fd = inside(req->srv->web_dir, path) ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        return lp_reply_error(req, 404, "not_found", NULL, "no such resource: %s", req->path);
    }
    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                 (unsigned long long)st.st_mtim.tv_nsec);
    const char *inm = lp_req_header(req, "If-None-Match");
    if (inm && strstr(inm, etag)) {
        close(fd);
        lp_reply_empty(req, 304);
    } else {
        lp_reply_fd(req, 200, content_type(name), fd, 0, (uint64_t)st.st_size);
    }
    lp_reply_header(req, "ETag", etag);
    lp_reply_header(req, "Cache-Control", "no-cache");
    /* Other files get the default policy of every reply (http.c). */
    if (strstr(content_type(name), "text/html"))
        lp_reply_header(req, "Content-Security-Policy", UI_CSP);
    return 0;
}

static int no_ui(lp_req *req)
{
    return lp_reply_error(req, 404, "not_found", NULL,
                          "the browser UI is not installed with this server (see --web-dir); "
                          "the API is under /v1");
}

int lp_api_ui_index(lp_req *req)
{
    if (!req->srv->web_dir) return no_ui(req);
    char path[4200];
    snprintf(path, sizeof path, "%s/index.html", req->srv->web_dir);
    return serve(req, path, "index.html");
}

int lp_api_ui_file(lp_req *req)
{
    const char *name = req->params[0];
    size_t n = strlen(name);
    if (!req->srv->web_dir) return no_ui(req);
    if (n == 0 || n > 128 || name[0] == '.' ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
        return lp_reply_error(req, 404, "not_found", NULL, "no such resource: %s", req->path);
    char path[4400];
    snprintf(path, sizeof path, "%s/ui/%s", req->srv->web_dir, name);
    return serve(req, path, name);
}
