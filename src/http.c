/* http.c -- the libmicrohttpd glue behind http.h: routing, body limits,
 * replies, JSON body parsing and graceful shutdown.
 *
 * libmicrohttpd calls on_request several times per request: once when the
 * headers are in (we route, check the body size and authenticate, and may
 * answer at once), once per body chunk, and a last time with no data (we run
 * the handler).  A database connection is taken from the pool only inside
 * one call and always given back before it returns: a slow client never
 * holds a connection while the thread serves others.  A streamed reply
 * (lp_reply_stream) keeps that rule: each of its chunks is made with a
 * connection taken and given back inside one call of libmicrohttpd's
 * content reader.  A live reply (lp_reply_live) is written by a producer
 * thread: its content reader hands out what is buffered, or suspends the
 * connection until the producer writes more (see live_read).  An atomic
 * count of requests in flight lets lp_http_stop() drain them before
 * stopping. */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "limit.h"

/* How much of a refused request's body is read and dropped so that the
 * client sees the answer (see on_request). */
#define LP_DRAIN_MAX ((size_t)16 << 20)

struct lp_http {
    struct MHD_Daemon *d;
    lp_http_config cfg;
    atomic_int inflight;
    int port;
    /* The writer thread runs the handlers of LP_ROUTE_TX requests, one
     * after the other, on the pool's writer connection (db.h): they take
     * turns on the database's write lock anyway, and this way no HTTP
     * thread ever waits for it. */
    int use_writer;
    pthread_t writer;
    pthread_mutex_t wmu;
    pthread_cond_t wcv;
    lp_req *whead, *wtail;
    int wstop;
    /* Live replies' producers (lp_reply_live) still running: stop
     * cancels them and waits for nlive to reach 0. */
    pthread_mutex_t lmu;
    pthread_cond_t lcv;
    struct lp_live *lives;
    int nlive, lstop;
};

const char *lp_req_arg(lp_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *lp_req_header(lp_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *lp_req_cookie(lp_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

void lp_req_peer(lp_req *req, int behind_proxy, char *out, size_t n)
{
    out[0] = '\0';
    const char *xff = behind_proxy ? lp_req_header(req, "X-Forwarded-For") : NULL;
    if (xff) {
        const char *last = strrchr(xff, ',');
        last = last ? last + 1 : xff;
        last += strspn(last, " \t");
        snprintf(out, n, "%.*s", (int)strcspn(last, " \t"), last);
        if (out[0]) return;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)n);
}

int lp_req_id(lp_req *req, int i, int64_t *out)
{
    int64_t v;
    if (lp_parse_int64(req->params[i], &v) < 0 || v <= 0) {
        lp_reply_error(req, 404, "not_found", NULL, "no such resource: %s", req->path);
        return LP_ENOTFOUND;
    }
    *out = v;
    return 0;
}

/* Scans s for brackets outside strings: *deepest receives the deepest
 * nesting; returns whether s closes every bracket and string it opens.
 * Used to reject documents nested deeper than LP_LIMIT_JSON_DEPTH before
 * jansson recurses into them, and to spot a cut-short NDJSON line. */
static int scan(const char *s, size_t n, int *deepest)
{
    int depth = 0, in_str = 0, max = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max) max = depth;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    if (deepest) *deepest = max;
    return depth <= 0 && !in_str;
}

/* Finds the first string (value or key) in v longer than
 * LP_LIMIT_STRING_BYTES, depth first; fills e naming where it is (path)
 * and returns LP_ETOOBIG, or returns 0.  Recursion is bounded by
 * LP_LIMIT_JSON_DEPTH, checked before parsing. */
static int long_string(const json_t *v, const char *path, lp_verr *e)
{
    char at[256];
    const char *key;
    const json_t *x;
    size_t i, n = 0;
    if (json_is_string(v)) n = json_string_length(v);
    if (n > LP_LIMIT_STRING_BYTES) goto over;
    if (json_is_array(v)) json_array_foreach((json_t *)v, i, x)
        {
            if (long_string(x, lp_path_index(at, sizeof at, path, i), e)) return LP_ETOOBIG;
        }
    if (json_is_object(v)) json_object_foreach((json_t *)v, key, x)
        {
            if ((n = strlen(key)) > LP_LIMIT_STRING_BYTES) {
                path = lp_path_key(at, sizeof at, path, "(a key)");
                goto over;
            }
            if (long_string(x, lp_path_key(at, sizeof at, path, key), e)) return LP_ETOOBIG;
        }
    return 0;
over:
    lp_verr_set(e, *path ? path : "body",
                "the string is %zu bytes; the limit (max_string_bytes) is %d", n,
                LP_LIMIT_STRING_BYTES);
    return LP_ETOOBIG;
}

int lp_json_parse(const char *s, size_t n, const char *field, json_t **out, lp_verr *e)
{
    *out = NULL;
    int deepest;
    scan(s, n, &deepest);
    if (deepest > LP_LIMIT_JSON_DEPTH) {
        lp_verr_set(e, *field ? field : "body",
                    "JSON is nested %d levels deep; the limit (max_json_depth) is %d", deepest,
                    LP_LIMIT_JSON_DEPTH);
        return LP_ETOOBIG;
    }
    json_error_t err;
    json_t *v = json_loadb(s, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (!v)
        return lp_verr_set(e, field, "invalid JSON at line %d, column %d: %s", err.line, err.column,
                           err.text);
    if (long_string(v, "", e)) {
        json_decref(v);
        return LP_ETOOBIG;
    }
    *out = v;
    return 0;
}

static size_t skip_ws(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++;
    return i;
}

/* Finds the end of the JSON value starting at s[i] (exclusive), scanning
 * strings and brackets only; the element is parsed properly later. */
static size_t value_end(const char *s, size_t i, size_t n)
{
    int depth = 0, in_str = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"')
            in_str = 1;
        else if (c == '[' || c == '{')
            depth++;
        else if (c == ']' || c == '}') {
            if (depth == 0) return i; /* closes the outer array */
            depth--;
        } else if (c == ',' && depth == 0)
            return i;
    }
    return n;
}

int lp_json_split(const char *s, size_t n, lp_json_each_fn fn, void *arg, lp_verr *e)
{
    size_t i = skip_ws(s, 0, n), index = 0;
    if (i == n) return lp_verr_set(e, "body", "is empty: send a JSON array or NDJSON lines");
    if (s[i] != '[') {
        /* NDJSON: one value a line; blank lines are skipped.  A last line
         * that stops inside a string or a bracket means the upload was cut
         * short: refuse the body before any row is used. */
        size_t end = n;
        while (end > i && strchr(" \t\r\n", s[end - 1])) end--;
        const char *nl = end > i ? memrchr(s + i, '\n', end - i) : NULL;
        size_t last = nl ? (size_t)(nl - s) + 1 : i;
        if (!scan(s + last, end - last, NULL))
            return lp_verr_set(e, "body",
                               "the last line ends in the middle of a value (was the "
                               "upload cut short?)");
        while (i < n) {
            const char *nl = memchr(s + i, '\n', n - i);
            size_t end = nl ? (size_t)(nl - s) : n;
            size_t a = skip_ws(s, i, end), b = end;
            while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) b--;
            if (b > a) {
                int rc = fn(arg, index++, s + a, b - a);
                if (rc) return rc;
            }
            i = end + 1;
        }
        return 0;
    }
    i = skip_ws(s, i + 1, n);
    if (i < n && s[i] == ']')
        return skip_ws(s, i + 1, n) == n
                   ? 0
                   : lp_verr_set(e, "body", "unexpected text after the closing ]");
    for (;;) {
        size_t end = value_end(s, i, n);
        if (end >= n)
            return lp_verr_set(e, "body", "the JSON array is not closed (element %zu)", index);
        size_t b = end;
        while (b > i &&
               (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r' || s[b - 1] == '\n'))
            b--;
        if (b == i) return lp_verr_set(e, "body", "element %zu of the array is empty", index);
        int rc = fn(arg, index++, s + i, b - i);
        if (rc) return rc;
        if (s[end] == ']') {
            if (skip_ws(s, end + 1, n) != n)
                return lp_verr_set(e, "body", "unexpected text after the closing ]");
            return 0;
        }
        i = skip_ws(s, end + 1, n);
    }
}

int lp_req_json_type(lp_req *req)
{
    /* curl -d sends application/x-www-form-urlencoded; a JSON body under
     * that label is still JSON.  Forms and other media are refused. */
    static const char *const ok_types[] = {"application/json",
                                           "text/plain",
                                           "application/x-ndjson",
                                           "application/jsonl",
                                           "application/x-www-form-urlencoded",
                                           NULL};
    const char *ct = lp_req_header(req, "Content-Type");
    int ok = !ct || !*ct;
    for (const char *const *t = ok_types; *t && !ok; t++) ok = strncasecmp(ct, *t, strlen(*t)) == 0;
    if (ok) return 0;
    lp_reply_error(req, 415, "unsupported_media_type", "Content-Type",
                   "send the body as application/json, not %s", ct);
    return LP_EINVAL;
}

int lp_req_json(lp_req *req, int want_object, json_t **out)
{
    *out = NULL;
    if (lp_req_json_type(req)) return LP_EINVAL;
    lp_verr e;
    if (req->body.len == 0) {
        lp_reply_error(req, 400, "invalid_json", "body", "a JSON body is required");
        return LP_EINVAL;
    }
    int rc = lp_json_parse(req->body.data, req->body.len, "body", out, &e);
    if (rc == LP_ETOOBIG) {
        lp_reply_error(req, 422, "limit_exceeded", e.field, "%s: %s", e.field, e.message);
        return LP_EINVAL;
    }
    if (rc < 0) {
        lp_reply_error(req, 400, "invalid_json", e.field, "%s: %s", e.field, e.message);
        return LP_EINVAL;
    }
    if (want_object && !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        lp_reply_error(req, 400, "invalid_json", "body", "the body must be a JSON object");
        return LP_EINVAL;
    }
    return 0;
}

static void set_reply(lp_req *req, unsigned status, struct MHD_Response *r, const char *ctype)
{
    if (req->resp) MHD_destroy_response(req->resp);
    req->status = status;
    req->resp = r;
    if (ctype) MHD_add_response_header(r, "Content-Type", ctype);
    if (ctype && strncmp(ctype, "application/json", 16) == 0)
        MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
}

int lp_reply_json(lp_req *req, unsigned status, json_t *body)
{
    json_t *id = json_object_get(body, "id");
    if (json_is_integer(id)) req->reply_id = json_integer_value(id);
    char *s = body ? json_dumps(body, LP_JSON_DUMP) : NULL;
    json_decref(body);
    if (!s) { /* a value jansson could not make (text that is not UTF-8): a bug, not a crash */
        lp_log(LP_LOG_ERROR, "%s %s: a reply could not be encoded", req->method, req->path);
        s = lp_strdup("{\"error\":{\"code\":\"internal\",\"message\":\"the reply could not be "
                      "encoded\"}}");
        status = 500;
    }
    size_t n = strlen(s);
    s[n] = '\0';
    struct MHD_Response *r = MHD_create_response_from_buffer(n, s, MHD_RESPMEM_MUST_FREE);
    set_reply(req, status, r, "application/json");
    return 0;
}

int lp_reply_buf(lp_req *req, unsigned status, const char *content_type, lp_buf *b)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        b->len, b->data ? b->data : lp_strdup(""), MHD_RESPMEM_MUST_FREE);
    b->data = NULL;
    b->len = b->cap = 0;
    set_reply(req, status, r, content_type);
    return 0;
}

int lp_reply_static(lp_req *req, unsigned status, const char *content_type, const char *s)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(s), (void *)s, MHD_RESPMEM_PERSISTENT);
    set_reply(req, status, r, content_type);
    return 0;
}

int lp_reply_fd(lp_req *req, unsigned status, const char *content_type, int fd, uint64_t offset,
                uint64_t size)
{
    struct MHD_Response *r = MHD_create_response_from_fd_at_offset64(size, fd, offset);
    set_reply(req, status, r, content_type);
    return 0;
}

/* Reads a decimal number of at most 19 digits at *p, moving *p past it. */
static int range_number(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    int n = 0;
    for (; *s >= '0' && *s <= '9'; s++, n++) {
        if (n == 19) return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (n == 0) return -1;
    *p = s;
    *out = v;
    return 0;
}

int lp_http_range(const char *header, uint64_t size, uint64_t *start, uint64_t *len)
{
    if (!header) return 0;
    const char *p = header;
    while (*p == ' ' || *p == '\t') p++;
    if (strncasecmp(p, "bytes=", 6) != 0) return 0;
    p += 6;
    while (*p == ' ' || *p == '\t') p++;
    uint64_t a = 0, b = 0;
    int suffix = *p == '-', open_end = 0;
    if (suffix) p++;
    if (range_number(&p, &a) < 0) return 0;
    if (!suffix) {
        if (*p++ != '-') return 0;
        if (*p >= '0' && *p <= '9') {
            if (range_number(&p, &b) < 0 || b < a) return 0;
        } else {
            open_end = 1;
        }
    }
    while (*p == ' ' || *p == '\t') p++;
    if (*p) return 0; /* several ranges or trailing junk: send it all */
    if (suffix) {     /* the last a bytes */
        if (a == 0 || size == 0) return -1;
        *len = a < size ? a : size;
        *start = size - *len;
        return 1;
    }
    if (a >= size) return -1;
    if (open_end || b >= size) b = size - 1;
    *start = a;
    *len = b - a + 1;
    return 1;
}

/* A streamed reply's state, owned by its MHD response. */
typedef struct stream {
    lp_db_pool *pool;
    struct MHD_Connection *conn; /* the one it is sent on */
    lp_stream_fn next;
    void *state;
    void (*free_state)(void *state);
    lp_buf buf; /* the chunk being sent */
    size_t off; /* how much of it is sent */
    int last;   /* next gave its last chunk */
} stream;

/* libmicrohttpd's content reader: copies out the chunk in hand, making
 * the next one (on a pooled connection held for that call only) when it
 * is used up. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    stream *s = cls;
    while (s->off == s->buf.len) {
        if (s->last) return MHD_CONTENT_READER_END_OF_STREAM;
        s->buf.len = s->off = 0;
        lp_db *db = lp_db_pool_get(s->pool);
        int rc = lp_db_begin(db, LP_TX_READ);
        if (rc == 0) {
            rc = s->next(s->state, db, &s->buf);
            int rc2 = lp_db_commit(db);
            if (rc >= 0 && rc2 < 0) rc = rc2;
        }
        if (rc < 0)
            lp_log(LP_LOG_ERROR, "a streamed reply failed part way, cut off: %s (%s)",
                   lp_strerror(rc), lp_db_errmsg(db));
        lp_db_pool_put(s->pool, db);
        if (rc < 0) {
            /* libmicrohttpd (0.9.75, epoll) marks the connection closed
             * but leaves the socket open until the connection times out,
             * and the client waits: shut it now, so that the client sees
             * the cut at once. */
            const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(s->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
            if (ci) shutdown(ci->connect_fd, SHUT_RDWR);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        s->last = rc == 0;
    }
    size_t n = s->buf.len - s->off < max ? s->buf.len - s->off : max;
    memcpy(out, s->buf.data + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    stream *s = cls;
    if (s->free_state) s->free_state(s->state);
    lp_buf_fini(&s->buf);
    free(s);
}

int lp_reply_stream(lp_req *req, unsigned status, const char *content_type, lp_stream_fn next,
                    void *state, void (*free_state)(void *state))
{
    stream *s = lp_calloc(1, sizeof *s);
    *s = (stream){.pool = req->pool,
                  .conn = req->conn,
                  .next = next,
                  .state = state,
                  .free_state = free_state};
    int rc = next(state, req->db, &s->buf);
    if (rc < 0) {
        stream_free(s);
        return rc;
    }
    s->last = rc == 0;
    /* Unknown size: HTTP/1.1 gets chunked encoding, whose missing last
     * chunk tells a client that a cut-off transfer is incomplete. */
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_read, s, stream_free);
    set_reply(req, status, r, content_type);
    if (!MHD_get_response_header(r, "Cache-Control"))
        MHD_add_response_header(r, "Cache-Control", "no-store");
    return 0;
}

/* A live reply, shared by its MHD response (freed by live_free) and its
 * producer thread: the last of the two to let go frees it.  mu guards
 * every field but cancel.  The invariant that keeps suspend and resume in
 * order: suspended is set, under mu, by the content reader in the same
 * critical section as its MHD_suspend_connection, and whoever clears it,
 * under mu, calls MHD_resume_connection then, so a resume always follows
 * its suspend and happens once; gone (the response is freed, the
 * connection may be too) forbids any resume after. */
struct lp_live {
    lp_http *h;
    struct MHD_Connection *conn;
    pthread_mutex_t mu;
    lp_buf buf;    /* written and not yet sent */
    size_t off;    /* how much of buf is sent */
    int ended;     /* the producer returned: the body ends once buf is sent */
    int suspended; /* the reader suspended the connection, for want of bytes */
    int gone;      /* the response was freed */
    int refs;
    volatile int cancel; /* the client left or the server stops */
    lp_live_fn run;
    void *arg;
    void (*free_arg)(void *arg);
    struct lp_live *next, **pprev; /* h->lives while the producer runs */
};

static void live_unref(lp_live *l)
{
    pthread_mutex_lock(&l->mu);
    int last = --l->refs == 0;
    pthread_mutex_unlock(&l->mu);
    if (!last) return;
    pthread_mutex_destroy(&l->mu);
    lp_buf_fini(&l->buf);
    free(l);
}

/* Resumes the connection if the reader suspended it.  Called under mu. */
static void live_wake(lp_live *l)
{
    if (l->suspended && !l->gone) {
        l->suspended = 0;
        MHD_resume_connection(l->conn);
    }
}

/* libmicrohttpd's content reader, on the connection's thread: what is
 * buffered, the end, or (nothing yet) a suspended connection and 0, which
 * libmicrohttpd reads as "call again" once the producer resumes it. */
static ssize_t live_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    lp_live *l = cls;
    ssize_t n;
    pthread_mutex_lock(&l->mu);
    if (l->off < l->buf.len) {
        size_t k = l->buf.len - l->off < max ? l->buf.len - l->off : max;
        memcpy(out, l->buf.data + l->off, k);
        l->off += k;
        if (l->off == l->buf.len) l->off = l->buf.len = 0;
        n = (ssize_t)k;
    } else if (l->ended) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        l->suspended = 1;
        MHD_suspend_connection(l->conn);
        n = 0;
    }
    pthread_mutex_unlock(&l->mu);
    return n;
}

/* The response is done with (sent, failed, the client left, or replaced
 * before it was queued): the producer is told to stop and must not touch
 * the connection any more. */
static void live_free(void *cls)
{
    lp_live *l = cls;
    pthread_mutex_lock(&l->mu);
    l->gone = 1;
    l->suspended = 0;
    l->cancel = 1;
    pthread_mutex_unlock(&l->mu);
    live_unref(l);
}

static void *live_main(void *arg)
{
    lp_live *l = arg;
    lp_http *h = l->h;
    l->run(l, l->arg);
    if (l->free_arg) l->free_arg(l->arg);
    pthread_mutex_lock(&l->mu);
    l->ended = 1;
    live_wake(l);
    pthread_mutex_unlock(&l->mu);
    /* (Every resume is done: lp_http_stop may stop the daemon once this
     * producer leaves the list.) */
    pthread_mutex_lock(&h->lmu);
    *l->pprev = l->next;
    if (l->next) l->next->pprev = l->pprev;
    h->nlive--;
    pthread_cond_broadcast(&h->lcv);
    pthread_mutex_unlock(&h->lmu);
    live_unref(l);
    return NULL;
}

int lp_reply_live(lp_req *req, unsigned status, const char *content_type, lp_live_fn run,
                  void *arg, void (*free_arg)(void *arg))
{
    lp_http *h = req->http;
    if (!h) { /* a request made outside a daemon (a fuzzer's) */
        if (free_arg) free_arg(arg);
        return LP_EUNAVAIL;
    }
    lp_live *l = lp_calloc(1, sizeof *l);
    *l = (lp_live){.h = h,
                   .conn = req->conn,
                   .refs = 2,
                   .run = run,
                   .arg = arg,
                   .free_arg = free_arg};
    pthread_mutex_init(&l->mu, NULL);
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&h->lmu);
    int ok = !h->lstop;
    if (ok) { /* listed before it runs, so that stop waits for it */
        l->next = h->lives;
        if (h->lives) h->lives->pprev = &l->next;
        l->pprev = &h->lives;
        h->lives = l;
        h->nlive++;
    }
    pthread_mutex_unlock(&h->lmu);
    /* The response exists before the thread: the producer may write at once. */
    struct MHD_Response *r = NULL;
    if (ok) r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, live_read, l, live_free);
    if (ok && r && pthread_create(&t, &attr, live_main, l) == 0) {
        pthread_attr_destroy(&attr);
        set_reply(req, status, r, content_type);
        MHD_add_response_header(r, "Cache-Control", "no-store");
        MHD_add_response_header(r, "X-Accel-Buffering", "no"); /* a proxy must not hold it */
        return 0;
    }
    pthread_attr_destroy(&attr);
    if (ok) {
        pthread_mutex_lock(&h->lmu);
        *l->pprev = l->next;
        if (l->next) l->next->pprev = l->pprev;
        h->nlive--;
        pthread_cond_broadcast(&h->lcv);
        pthread_mutex_unlock(&h->lmu);
    }
    if (r) {
        MHD_destroy_response(r); /* live_free drops the response's reference */
    } else {
        l->refs--;
    }
    if (free_arg) free_arg(arg);
    live_unref(l);
    return LP_EUNAVAIL;
}

int lp_live_write(lp_live *l, const char *data, size_t n)
{
    pthread_mutex_lock(&l->mu);
    int gone = l->gone;
    if (!gone) {
        lp_buf_append(&l->buf, data, n);
        live_wake(l);
    }
    pthread_mutex_unlock(&l->mu);
    return gone ? LP_EIO : 0;
}

volatile int *lp_live_cancel(lp_live *l)
{
    return &l->cancel;
}

int lp_reply_empty(lp_req *req, unsigned status)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    set_reply(req, status, r, NULL);
    return 0;
}

int lp_reply_error(lp_req *req, unsigned status, const char *code, const char *field,
                   const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* A message may quote the request (a path segment): JSON needs UTF-8. */
    lp_buf m = {0}, f = {0};
    lp_utf8_clean(msg, sizeof msg, &m);
    json_t *err = json_pack("{s:s, s:s}", "code", code, "message", m.data);
    if (field && *field) {
        lp_utf8_clean(field, 1024, &f);
        json_object_set_new(err, "field", json_string(f.data));
    }
    lp_buf_fini(&m);
    lp_buf_fini(&f);
    return lp_reply_json(req, status, json_pack("{s:o}", "error", err));
}

int lp_reply_verr(lp_req *req, unsigned status, const lp_verr *e)
{
    const char *code = status == 422   ? "invalid_value"
                       : status == 403 ? "forbidden"
                                       : "invalid_request";
    return lp_reply_error(req, status, code, e->field, "%s%s%s", e->field, e->field[0] ? ": " : "",
                          e->message);
}

int lp_reply_rc(lp_req *req, int rc, const char *what)
{
    switch (rc) {
    case LP_ENOTFOUND: return lp_reply_error(req, 404, "not_found", NULL, "%s not found", what);
    case LP_EEXISTS: return lp_reply_error(req, 409, "conflict", NULL, "%s already exists", what);
    case LP_ECONFLICT: return lp_reply_error(req, 409, "conflict", NULL, "%s: conflict", what);
    case LP_EPERM: return lp_reply_error(req, 403, "forbidden", NULL, "not allowed");
    case LP_ETOOBIG: return lp_reply_error(req, 413, "too_large", NULL, "%s is too large", what);
    case LP_ENOSPC:
        return lp_reply_error(req, 507, "insufficient_storage", NULL,
                              "the server's disk is full: the change was not saved; send it "
                              "again once space is freed");
    case LP_EBUSY:
    case LP_EUNAVAIL:
        lp_reply_error(req, 503, "unavailable", NULL, "the database is busy, retry");
        lp_reply_header(req, "Retry-After", "1");
        return 0;
    default:
        lp_log(LP_LOG_ERROR, "%s %s: %s (%s)", req->method, req->path, lp_strerror(rc),
               req->db ? lp_db_errmsg(req->db) : "");
        return lp_reply_error(req, 500, "internal", NULL, "internal error: %s", lp_strerror(rc));
    }
}

void lp_reply_header(lp_req *req, const char *name, const char *value)
{
    if (req->resp) MHD_add_response_header(req->resp, name, value);
}

/* Matches path against pattern, capturing "{}" segments into req->params. */
static int match(lp_req *req, const char *pattern, const char *path)
{
    int np = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (p[0] == '{' && p[1] == '}') {
            const char *end = strchr(s, '/');
            size_t n = end ? (size_t)(end - s) : strlen(s);
            if (n == 0 || np >= LP_MAX_PARAMS) return 0;
            char *v = lp_arena_alloc(&req->arena, n + 1);
            memcpy(v, s, n);
            v[n] = '\0';
            req->params[np++] = v;
            s += n;
            p += 2;
        } else if (*p++ != *s++) {
            return 0;
        }
    }
    return *p == '\0' && *s == '\0';
}

/* Picks the route; answers 404/405 when none fits. */
static void route(lp_http *h, lp_req *req)
{
    char allow[64] = "";
    for (size_t i = 0; i < h->cfg.nroutes; i++) {
        const lp_route *r = &h->cfg.routes[i];
        if (!match(req, r->pattern, req->path)) continue;
        if (strcmp(r->method, req->method) == 0 ||
            (strcmp(req->method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
            req->route = r;
            req->route_index = (int)i;
            return;
        }
        size_t n = strlen(allow);
        snprintf(allow + n, sizeof allow - n, "%s%s%s", n ? ", " : "", r->method,
                 strcmp(r->method, "GET") ? "" : ", HEAD");
    }
    req->route_index = -1;
    if (allow[0]) {
        lp_reply_error(req, 405, "method_not_allowed", NULL, "%s is not allowed on %s (use %s)",
                       req->method, req->path, allow);
        lp_reply_header(req, "Allow", allow);
    } else {
        lp_reply_error(req, 404, "not_found", NULL, "no such resource: %s", req->path);
    }
}

static void req_free(lp_req *req)
{
    if (req->ctx_free && req->ctx) req->ctx_free(req->ctx);
    if (req->resp) MHD_destroy_response(req->resp);
    lp_buf_fini(&req->body);
    lp_arena_fini(&req->arena);
    free(req);
}

/* Queues the reply.  The request is recorded (metrics) here, before the
 * client can read the answer, so that a client's next request sees it
 * counted; the time is the time to answer, not to finish sending. */
static enum MHD_Result queue(lp_http *h, lp_req *req)
{
    if (!req->resp) lp_reply_error(req, 500, "internal", NULL, "the handler gave no answer");
    /* Security headers on every reply.  A reply that sets its own policy
     * (the UI's pages, uploaded files) keeps it; any other is no page to
     * render: nothing loads from it and no site may frame it.  Loupe
     * itself speaks plain HTTP, so Strict-Transport-Security is left to
     * the TLS proxy in front of it (docs/ARCHITECTURE.md). */
    static const char *const secure[][2] = {
        {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
        {"X-Content-Type-Options", "nosniff"},
        {"X-Frame-Options", "DENY"},
        {"Referrer-Policy", "same-origin"},
    };
    for (size_t i = 0; i < LP_ARRAY_LEN(secure); i++)
        if (!MHD_get_response_header(req->resp, secure[i][0]))
            MHD_add_response_header(req->resp, secure[i][0], secure[i][1]);
    if (h->cfg.completed) h->cfg.completed(req, lp_mono_ns() - req->t0);
    return MHD_queue_response(req->conn, req->status, req->resp);
}

/* First call for a request: route, size check, authentication. */
static void begin(lp_http *h, lp_req *req)
{
    route(h, req);
    if (req->resp) return;
    unsigned flags = req->route->flags;
    req->body_limit = flags & LP_ROUTE_STREAM ? h->cfg.stream_limit
                      : flags & LP_ROUTE_BULK ? h->cfg.bulk_limit
                                              : h->cfg.body_limit;
    /* A declared length over the limit is refused before a byte is read. */
    const char *cl = lp_req_header(req, "Content-Length");
    int64_t len = -1;
    if (cl && lp_parse_int64(cl, &len) == 0 && (uint64_t)len > req->body_limit) {
        lp_reply_error(req, 413, "too_large", "body", "the body is %lld bytes; the limit is %zu",
                       (long long)len, req->body_limit);
        return;
    }
    /* Read-only routes authenticate inside their read transaction, with
     * the handler; the others before the body is read. */
    if (!(req->route->flags & (LP_ROUTE_PUBLIC | LP_ROUTE_READ)) && h->cfg.authenticate) {
        req->db = lp_db_pool_get(h->cfg.pool);
        lp_db_begin(req->db, LP_TX_READ); /* one snapshot for its lookups */
        h->cfg.authenticate(req);
        lp_db_commit(req->db);
        lp_db_pool_put(h->cfg.pool, req->db);
        req->db = NULL;
    }
    /* A write-transaction request asks for the writer once its body is in:
     * say so now, so that a batch it could join waits for it. */
    if (!req->resp && (req->route->flags & LP_ROUTE_TX)) {
        lp_db_pool_expect_writer(h->cfg.pool, 1);
        req->expects_writer = 1;
    }
    /* A body of known length is received into one allocation, once the
     * caller is known: an anonymous header must not reserve memory. */
    if (!req->resp && !(req->route->flags & LP_ROUTE_STREAM) && len > 0)
        lp_buf_reserve_large(&req->body, (size_t)len);
}

/* The syncer's call when a suspended request's writes are on disk. */
static void resume(void *arg)
{
    lp_req *req = arg;
    MHD_resume_connection(req->conn);
}

/* Runs the request's handler on req->db (read routes and LP_ROUTE_TX ones
 * in one transaction), then gives the connection back.  A reply to a
 * write goes out once the write is committed and on disk: the connection
 * is suspended (its thread serves others) until the pool has committed and
 * flushed it, together with the writes of every other request of the
 * moment (group commit).  Returns 1 when the connection waits suspended
 * (called from an HTTP thread, which suspends it here), 0 when the reply
 * can go now. */
static int run_handler(lp_http *h, lp_req *req)
{
    int read = req->route->flags & LP_ROUTE_READ, tx = req->route->flags & LP_ROUTE_TX;
    int rc = 0;
    if (read || tx) rc = lp_db_begin(req->db, read ? LP_TX_READ : LP_TX_WRITE);
    if (rc < 0)
        lp_reply_rc(req, rc, "database");
    else if (!read || !h->cfg.authenticate || h->cfg.authenticate(req) == 0)
        req->route->handler(req);
    if (!req->resp) lp_reply_error(req, 500, "internal", NULL, "the handler gave no answer");
    /* A change is recorded with it, in its transaction (LP_ROUTE_TX) or
     * right after it: either way before the reply, and durable with it. */
    int audit = h->cfg.audit && strcmp(req->method, "GET") && strcmp(req->method, "HEAD") && !read;
    /* A server error may have left the transaction unusable (PostgreSQL
     * refuses every statement after a failed one): recorded after it. */
    int in_tx = audit && rc == 0 && tx && req->status < 500;
    int arc;
    if (in_tx && (arc = h->cfg.audit(req, 1)) < 0) {
        lp_db_rollback(req->db); /* no change goes unrecorded */
        lp_reply_rc(req, arc, "audit log");
        rc = arc;
    }
    if (rc == 0 && (read || tx) && (rc = lp_db_commit(req->db)) < 0 && tx)
        lp_reply_rc(req, rc, "database");
    /* (The change is committed: a failure here cannot undo it, and the
     * reply stays true; it is logged.) */
    if (audit && !in_tx && (arc = h->cfg.audit(req, 0)) < 0)
        lp_log(LP_LOG_ERROR, "%s %s: the audit log could not record it: %s", req->method,
               req->path, lp_strerror(arc));
    if (h->cfg.after) h->cfg.after(req);
    lp_db *db = req->db;
    req->db = NULL;
    if (!lp_db_wrote(db)) {
        lp_db_pool_put(h->cfg.pool, db);
        return 0;
    }
    req->synced = (lp_db_waiter){.fn = resume, .arg = req};
    req->waiting = 1;
    if (!req->on_writer) MHD_suspend_connection(req->conn);
    if (lp_db_pool_release(h->cfg.pool, db, &req->synced)) { /* nothing to wait for after all */
        if (req->on_writer) return 0;                        /* its caller resumes it */
        resume(req);
    }
    return 1;
}

/* The writer thread: takes LP_ROUTE_TX requests in arrival order. */
static void *writer_main(void *arg)
{
    lp_http *h = arg;
    pthread_mutex_lock(&h->wmu);
    for (;;) {
        lp_req *req = h->whead;
        if (!req) {
            if (h->wstop) break;
            pthread_cond_wait(&h->wcv, &h->wmu);
            continue;
        }
        h->whead = req->wnext;
        if (!h->whead) h->wtail = NULL;
        pthread_mutex_unlock(&h->wmu);
        req->on_writer = 1;
        req->db = lp_db_pool_writer_expected(h->cfg.pool, req->expects_writer);
        req->expects_writer = 0;
        if (!run_handler(h, req)) resume(req);
        pthread_mutex_lock(&h->wmu);
    }
    pthread_mutex_unlock(&h->wmu);
    return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    lp_http *h = cls;
    lp_req *req = *con_cls;
    if (!req) {
        req = lp_calloc(1, sizeof *req);
        req->t0 = lp_mono_ns();
        req->srv = h->cfg.srv;
        req->http = h;
        req->conn = conn;
        req->method = method;
        req->path = url;
        req->route_index = -1;
        req->pool = h->cfg.pool;
        *con_cls = req;
        atomic_fetch_add(&h->inflight, 1);
        begin(h, req);
        /* Answered already (401, 413...).  A client that asked first
         * (Expect: 100-continue) gets the answer now instead of "100
         * Continue", and sends nothing.  Any other is already sending: its
         * body is read and dropped before the answer goes out, as nginx's
         * lingering close does, or it would see a reset instead of the
         * answer -- unless the body is announced as too large to read. */
        if (req->resp) {
            const char *expect = lp_req_header(req, "Expect");
            const char *cl = lp_req_header(req, "Content-Length");
            int64_t len = 0;
            if ((expect && !strcasecmp(expect, "100-continue")) ||
                (cl && lp_parse_int64(cl, &len) == 0 && len > (int64_t)LP_DRAIN_MAX))
                return queue(h, req);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->resp) {
            req->dropped += n;
            return req->dropped > LP_DRAIN_MAX ? queue(h, req) : MHD_YES;
        }
        if (req->route->flags & LP_ROUTE_STREAM)
            req->route->body_chunk(req, upload_data, n); /* answers when it refuses */
        else if (req->body.len + n > req->body_limit)
            lp_reply_error(req, 413, "too_large", "body",
                           "the body is larger than the limit of %zu bytes", req->body_limit);
        else
            lp_buf_append(&req->body, upload_data, n);
        return MHD_YES;
    }
    if (!req->resp) {
        if ((req->route->flags & LP_ROUTE_TX) && h->use_writer) {
            MHD_suspend_connection(conn); /* resumed by the writer thread */
            pthread_mutex_lock(&h->wmu);
            if (h->wtail)
                h->wtail->wnext = req;
            else
                h->whead = req;
            h->wtail = req;
            pthread_cond_signal(&h->wcv);
            pthread_mutex_unlock(&h->wmu);
            return MHD_YES;
        }
        req->db = lp_db_pool_get(h->cfg.pool);
        if (run_handler(h, req)) return MHD_YES; /* suspended until its writes are durable */
    }
    if (req->waiting && req->synced.result == LP_ENOSPC)
        lp_reply_rc(req, LP_ENOSPC, "database");
    else if (req->waiting && req->synced.result < 0)
        lp_reply_error(req, 503, "unavailable", NULL,
                       "the database could not commit this change (%s): nothing was saved; "
                       "send it again",
                       lp_strerror(req->synced.result));
    return queue(h, req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    lp_http *h = cls;
    lp_req *req = *con_cls;
    if (!req) return;
    if (req->expects_writer) lp_db_pool_expect_writer(h->cfg.pool, -1); /* never asked */
    req_free(req);
    *con_cls = NULL;
    atomic_fetch_sub(&h->inflight, 1);
}

/* Parses "ADDR:PORT", "[V6]:PORT" or ":PORT" into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, int *v6, char **errmsg)
{
    char host[256] = "";
    const char *colon = strrchr(listen, ':');
    if (!colon || !colon[1]) {
        *errmsg = lp_sprintf("--listen \"%s\" must be ADDR:PORT", listen);
        return LP_EINVAL;
    }
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host) hl = sizeof host - 1;
    memcpy(host, listen, hl);
    host[hl] = '\0';
    if (host[0] == '[') {
        memmove(host, host + 1, strlen(host));
        char *rb = strchr(host, ']');
        if (rb) *rb = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *res;
    int rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
    if (rc) {
        *errmsg = lp_sprintf("--listen \"%s\": %s", listen, gai_strerror(rc));
        return LP_EINVAL;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

/* Stops the writer thread once its queue is empty. */
/* Decodes %XX in a path or query value as MHD would, except that an
 * encoded NUL does not end the string there (a C string would silently
 * drop the rest, "/ui/app.js%00.html" naming app.js): it becomes a DEL,
 * which no route, name or number accepts. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls, (void)conn;
    size_t n = MHD_http_unescape(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0') s[i] = '\x7f';
    return n;
}

static void stop_writer(lp_http *h)
{
    if (h->use_writer) {
        pthread_mutex_lock(&h->wmu);
        h->wstop = 1;
        pthread_cond_signal(&h->wcv);
        pthread_mutex_unlock(&h->wmu);
        pthread_join(h->writer, NULL);
        h->use_writer = 0;
    }
    pthread_mutex_destroy(&h->wmu);
    pthread_cond_destroy(&h->wcv);
}

int lp_http_start(const lp_http_config *cfg, lp_http **out, char **errmsg)
{
    *out = NULL;
    struct sockaddr_storage ss;
    int v6 = 0;
    int rc = parse_listen(cfg->listen, &ss, &v6, errmsg);
    if (rc < 0) return rc;
    lp_http *h = lp_calloc(1, sizeof *h);
    h->cfg = *cfg;
    pthread_mutex_init(&h->wmu, NULL);
    pthread_cond_init(&h->wcv, NULL);
    pthread_mutex_init(&h->lmu, NULL);
    pthread_cond_init(&h->lcv, NULL);
    h->use_writer = cfg->pool && lp_db_pool_single_writer(cfg->pool) &&
                    pthread_create(&h->writer, NULL, writer_main, h) == 0;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_TURBO |
                     MHD_ALLOW_SUSPEND_RESUME | (v6 ? MHD_USE_IPv6 : 0);
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->threads > 0 ? cfg->threads : 2),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024), MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
    if (!h->d) {
        *errmsg = lp_sprintf("cannot listen on %s (address in use or not allowed)", cfg->listen);
        stop_writer(h);
        pthread_mutex_destroy(&h->lmu);
        pthread_cond_destroy(&h->lcv);
        free(h);
        return LP_EIO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : 0;
    *out = h;
    return 0;
}

int lp_http_port(lp_http *h)
{
    return h->port;
}

void lp_http_stop(lp_http *h, int timeout_ms)
{
    if (!h) return;
    MHD_socket fd = MHD_quiesce_daemon(h->d);
    if (fd != MHD_INVALID_SOCKET) close(fd);
    /* Live replies: their producers are cancelled (a model call is cut
     * off at once) and end their bodies, resuming any suspended
     * connection; libmicrohttpd refuses to stop with one suspended. */
    pthread_mutex_lock(&h->lmu);
    h->lstop = 1;
    for (lp_live *l = h->lives; l; l = l->next) l->cancel = 1;
    while (h->nlive > 0) pthread_cond_wait(&h->lcv, &h->lmu);
    pthread_mutex_unlock(&h->lmu);
    for (int waited = 0; atomic_load(&h->inflight) > 0 && waited < timeout_ms; waited += 10) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(h->d);
    stop_writer(h);
    pthread_mutex_destroy(&h->lmu);
    pthread_cond_destroy(&h->lcv);
    free(h);
}
