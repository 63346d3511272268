/* http.h -- the HTTP edge: requests, replies, routes (libmicrohttpd).
 *
 * A route is a small struct: method, a path pattern whose "{}" segments
 * capture one path segment each, a handler and flags.  For each request the
 * router picks the first matching route; authentication and the body limit
 * are checked before the body is read, so a 1 GiB upload without a key is
 * refused after its headers.  A handler runs once the whole body has
 * arrived (or, for LP_ROUTE_STREAM routes, after body_chunk has seen every
 * chunk) with a database connection from the pool in req->db; it answers
 * with exactly one lp_reply_* call.  Everything a handler allocates from
 * req->arena is freed when the response completes. */
#ifndef LP_HTTP_H
#define LP_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "util.h"
#include "valid.h"

typedef struct lp_req lp_req;
typedef struct lp_server lp_server;
typedef struct lp_http lp_http;
typedef int (*lp_handler)(lp_req *req);

enum {
    LP_ROUTE_PUBLIC = 1 << 0,  /* no authentication */
    LP_ROUTE_STREAM = 1 << 1,  /* body goes to body_chunk, not req->body */
    LP_ROUTE_BULK = 1 << 2,    /* large body limit (bulk imports) */
    LP_ROUTE_ADMIN = 1 << 3,   /* organisation admins only */
    LP_ROUTE_READ = 1 << 4,    /* only reads: authentication and the handler share one read
                                  transaction (one WAL lock instead of one per query) */
    LP_ROUTE_TX = 1 << 5,      /* the handler runs in one write transaction (its own
                                  transactions nest in it): one lock and one snapshot for
                                  all its reads and writes; the reply becomes an error if
                                  the commit fails */
    LP_ROUTE_ACCOUNT = 1 << 6, /* acts on the account or the organisation, not one project:
                                  refused to project-scoped keys */
};

#define LP_MAX_PARAMS 4

typedef struct lp_route {
    const char *method;
    const char *pattern; /* "/v1/tasks/{}" */
    lp_handler handler;
    unsigned flags;
    /* LP_ROUTE_STREAM only: called with each body chunk as it arrives (no
     * database connection held).  To refuse the body it answers (an
     * lp_reply_* call): the rest is dropped and the handler is not called. */
    void (*body_chunk)(lp_req *req, const char *data, size_t n);
} lp_route;

/* The authenticated caller. */
typedef struct lp_principal {
    int64_t user_id; /* 0: anonymous */
    int is_admin;
    int via_session;   /* cookie login rather than API key */
    int read_only;     /* a key with the read scope */
    int64_t project;   /* a project-scoped key's project (0: any) */
    int64_t key_id;    /* the API key used (0: a session, or none) */
    /* A login session to keep alive: its idle deadline moves on to
     * session_until once the request is done (0: nothing to write). */
    int64_t session_id, session_until;
    const char *email; /* arena copy */
} lp_principal;

struct lp_req {
    lp_server *srv;
    lp_http *http; /* the daemon serving it */
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    const lp_route *route;
    int route_index;
    const char *params[LP_MAX_PARAMS]; /* captured path segments (arena) */
    lp_arena arena;
    lp_buf body;
    size_t body_limit;
    size_t dropped; /* body bytes read and dropped after an early answer */
    lp_principal who;
    lp_db *db;        /* valid inside the handler only */
    lp_db_pool *pool; /* the pool req->db comes from */
    void *ctx;        /* handler state for streamed bodies */
    void (*ctx_free)(void *ctx);
    /* for the audit log (audit.h) */
    int64_t project_id; /* the project the handler checked the caller's role in */
    int64_t reply_id;   /* the "id" of a JSON object reply (what a POST made) */
    const char *audit_detail; /* arena JSON text the handler adds, or NULL */
    /* the reply */
    unsigned status;
    struct MHD_Response *resp;
    uint64_t t0;
    lp_db_waiter synced; /* the reply waits until the request's writes are on disk */
    int waiting;         /* it did */
    int expects_writer;  /* counted as about to ask for the pool's writer */
    int on_writer;       /* its handler runs on the writer thread */
    lp_req *wnext;       /* the writer thread's queue */
};

/* Query-string argument, or NULL. */
const char *lp_req_arg(lp_req *req, const char *name);
/* Request header, or NULL. */
const char *lp_req_header(lp_req *req, const char *name);
/* Cookie value, or NULL. */
const char *lp_req_cookie(lp_req *req, const char *name);
/* The client's address as text ("127.0.0.1", "::1") into out; with
 * behind_proxy, the last address of X-Forwarded-For (the one the proxy
 * added) when there is one.  "" if unknown. */
void lp_req_peer(lp_req *req, int behind_proxy, char *out, size_t n);
/* Path parameter i as an id; on a malformed id answers 404 and returns
 * LP_ENOTFOUND. */
int lp_req_id(lp_req *req, int i, int64_t *out);

/* Checks that the body is labelled as JSON (or NDJSON, or not labelled);
 * answers 415 and returns LP_EINVAL otherwise. */
int lp_req_json_type(lp_req *req);

/* Parses the request body as a JSON value (object if want_object).  On
 * failure it has already answered 400/415 and returns LP_EINVAL; the caller
 * just returns.  The caller owns *out. */
int lp_req_json(lp_req *req, int want_object, json_t **out);

/* A Range header (RFC 9110 14.2) against a resource of size bytes: 1 and
 * the byte range [*start, *start + *len) for one satisfiable range
 * ("bytes=a-b", "bytes=a-", "bytes=-n"); 0 when the whole resource should be
 * sent (no header, another unit, several ranges, or a malformed header,
 * which a server may ignore); -1 when no byte of it exists (416). */
int lp_http_range(const char *header, uint64_t size, uint64_t *start, uint64_t *len);

/* Replies.  lp_reply_json steals body.  Each returns 0. */
int lp_reply_json(lp_req *req, unsigned status, json_t *body);
int lp_reply_buf(lp_req *req, unsigned status, const char *content_type, lp_buf *b);
int lp_reply_static(lp_req *req, unsigned status, const char *content_type, const char *s);
/* size bytes of fd from offset (the response owns fd and closes it). */
int lp_reply_fd(lp_req *req, unsigned status, const char *content_type, int fd, uint64_t offset,
                uint64_t size);
int lp_reply_empty(lp_req *req, unsigned status);
/* A streamed reply: a body made chunk by chunk while the client reads it,
 * so that memory holds one chunk, not the whole body, whatever its size.
 *
 * next appends the next chunk to out (empty on entry) and returns 1 while
 * more follows, 0 with the last chunk (which may be empty), or a negative
 * LP_E* code.  lp_reply_stream makes the first chunk at once, on req->db
 * in the handler's transaction: if that fails, it frees state, answers
 * nothing and returns the code, for the handler to answer an ordinary
 * error.  Every later chunk is made on an HTTP thread after the handler
 * has returned, with a connection taken from the pool for that one call,
 * inside a read transaction, and given back before the bytes go out: a
 * slow client holds no connection, and each call sees a consistent
 * snapshot (not the whole body: a producer pages by keyset, so rows
 * written meanwhile appear at most once).  A failure there cannot change
 * the status any more: the transfer is cut off before the end of its
 * chunked encoding, so the client sees a truncated transfer, never a
 * complete-looking body.  free_state(state) is called once, when the
 * response is done with (sent, failed, or the client left).  next must
 * not use req, which may be gone by then. */
typedef int (*lp_stream_fn)(void *state, lp_db *db, lp_buf *out);
int lp_reply_stream(lp_req *req, unsigned status, const char *content_type, lp_stream_fn next,
                    void *state, void (*free_state)(void *state));
/* A live reply: a body that a producer thread writes while it comes into
 * being (a model's answer streamed as the model writes it), so that no
 * HTTP thread waits for it.  lp_reply_live answers with such a body and
 * starts run(live, arg) on a thread of its own; when run returns, arg is
 * freed with free_arg (may be NULL) and the body ends.  Returns 0, or
 * LP_EUNAVAIL when the server is stopping or no thread could be made:
 * then nothing is answered and arg is freed.
 *
 * run must not use req (it may be gone) nor the connection: it writes with
 * lp_live_write, which returns LP_EIO once the client has left, and polls
 * or hands on *lp_live_cancel(live), which turns 1 when the client leaves
 * or the server stops (lp_http_stop cancels every producer and waits for
 * them before it stops the daemon).  Nothing bounds the body in memory
 * but the producer: a client that reads slowly leaves it buffered. */
typedef struct lp_live lp_live;
typedef void (*lp_live_fn)(lp_live *live, void *arg);
int lp_reply_live(lp_req *req, unsigned status, const char *content_type, lp_live_fn run,
                  void *arg, void (*free_arg)(void *arg));
int lp_live_write(lp_live *live, const char *data, size_t n);
volatile int *lp_live_cancel(lp_live *live);

/* {"error":{"code":code,"message":...,"field":field}}; field may be NULL. */
int lp_reply_error(lp_req *req, unsigned status, const char *code, const char *field,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int lp_reply_verr(lp_req *req, unsigned status, const lp_verr *e);
/* Maps an LP_E* code from a domain call to a reply (404, 409, 503...). */
int lp_reply_rc(lp_req *req, int rc, const char *what);
/* Adds a header to the reply already made. */
void lp_reply_header(lp_req *req, const char *name, const char *value);

/* JSON parsing within the limits of limits.h: on a syntax error fills e
 * (field, the prefix) and returns LP_EINVAL; over a limit (nesting, a
 * string's bytes) fills e naming the limit and where, and returns
 * LP_ETOOBIG.  The caller owns *out. */
int lp_json_parse(const char *s, size_t n, const char *field, json_t **out, lp_verr *e);

/* Splits a JSON array or an NDJSON document into its elements without
 * parsing them: calls fn for each element's text.  Returns 0, fn's
 * non-zero result, or LP_EINVAL with e set (naming the element). */
typedef int (*lp_json_each_fn)(void *arg, size_t index, const char *s, size_t n);
int lp_json_split(const char *s, size_t n, lp_json_each_fn fn, void *arg, lp_verr *e);

/* The HTTP daemon. */
typedef struct lp_http_config {
    const char *listen; /* "127.0.0.1:8080" */
    int threads;
    size_t body_limit;   /* ordinary JSON bodies */
    size_t bulk_limit;   /* LP_ROUTE_BULK bodies */
    size_t stream_limit; /* LP_ROUTE_STREAM bodies (uploads) */
    const lp_route *routes;
    size_t nroutes;
    lp_server *srv;
    lp_db_pool *pool;
    /* Called for each request before the body is read when the route is
     * not public; answers 401/403 itself and returns non-zero to refuse. */
    int (*authenticate)(lp_req *req);
    /* Called after the handler of a request that may change something (any
     * method but GET and HEAD): records it (the audit log), in the
     * handler's transaction (in_tx: LP_ROUTE_TX routes that did not fail
     * with a 5xx) or in one of its own.  A failure in the transaction
     * turns the reply into an error and rolls the request back. */
    int (*audit)(lp_req *req, int in_tx);
    /* Called after the handler, its transaction committed and the audit
     * recorded, on the request's connection: bookkeeping writes of the
     * caller's own (a session's idle deadline moved on), which never change
     * the reply.  NULL: none. */
    void (*after)(lp_req *req);
    /* Called as each reply is queued, with the time it took (metrics). */
    void (*completed)(lp_req *req, uint64_t ns);
} lp_http_config;

int lp_http_start(const lp_http_config *cfg, lp_http **out, char **errmsg);
/* The bound port (useful with port 0). */
int lp_http_port(lp_http *h);
/* Stops accepting, cancels live replies' producers and waits for them to
 * end, waits up to timeout_ms for in-flight requests, stops. */
void lp_http_stop(lp_http *h, int timeout_ms);

#endif
