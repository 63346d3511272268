/* outbound.h -- which addresses Loupe's outbound requests (callbacks and
 * webhooks, outbox.c) may reach.
 *
 * Unless the admin starts the server with --allow-private-outbound, a
 * request goes only to public unicast addresses: never to loopback,
 * private (RFC 1918, unique local), link-local, shared (100.64/10),
 * multicast, documentation or other special-purpose ranges, nor to IPv6
 * forms that embed such an IPv4 address (mapped, NAT64, 6to4).  A URL
 * whose host is such a literal address is refused when it is registered;
 * a host name is resolved once at delivery, every address checked, and the
 * connection pinned to the checked address (outbox.c). */
#ifndef LP_OUTBOUND_H
#define LP_OUTBOUND_H

#include <stddef.h>
#include <sys/socket.h>

#include "util.h"

/* Starts the HTTP client library, once (any thread that sends requests
 * calls it before its first). */
void lp_outbound_init(void);

/* Set once at start-up, before any request (server.c). */
void lp_outbound_set_allow_private(int on);
int lp_outbound_private_allowed(void);

/* What is special about sa ("a loopback address"...), or NULL when it is a
 * public unicast address. */
const char *lp_addr_special(const struct sockaddr *sa);

/* The host and port of an http(s) URL: host without IPv6 brackets.
 * Returns 0, or LP_EINVAL with why filled. */
int lp_url_host_port(const char *url, char *host, size_t hostn, int *port, char *why, size_t whyn);

/* For a URL being registered: LP_EINVAL with why filled when its host is a
 * literal address outside the public ones and private outbound is not
 * allowed; 0 otherwise (host names are checked at delivery). */
int lp_outbound_check_url(const char *url, char *why, size_t whyn);

/* Resolves the URL's host once and checks every address.  On success
 * fills addr (numeric, for CURLOPT_RESOLVE) and returns 0; else LP_EPERM
 * (or LP_EINVAL/LP_ENOTFOUND) with why filled. */
int lp_outbound_resolve(const char *url, char *addr, size_t addrn, char *why, size_t whyn);

/* One outbound HTTP request (callbacks, webhooks, ML backends). */
typedef struct lp_http_req {
    const char *method; /* "GET" or "POST" (body sent with POST) */
    const char *url;
    const char *const *headers; /* "Name: value" lines, NULL-terminated, or NULL */
    const char *body;
    size_t body_len;
    long timeout_ms;   /* the whole request (0: 15 s) */
    size_t reply_max;  /* bytes of reply kept (0: the reply is discarded) */
    volatile int *cancel; /* when set and non-zero, the request is abandoned */
    /* When set, a 2xx reply's body goes to on_data as it arrives instead of
     * into *reply (a non-2xx reply is still kept, up to reply_max);
     * returning non-zero abandons the request. */
    int (*on_data)(void *ctx, const char *p, size_t n);
    void *data_ctx;
} lp_http_req;

/* Sends r and returns the HTTP status, or 0 on a transport error (a
 * refused address, a time-out, a reply longer than reply_max...) with err
 * filled.  Unless private outbound is allowed, the host is resolved here
 * once, every address checked, and curl pinned to the checked address, so
 * a name that resolves differently a moment later (DNS rebinding) cannot
 * send it elsewhere; the address actually connected to is checked too.
 * Redirects are not followed and no proxy is used.  The reply (when kept)
 * is appended to *reply, NUL-terminated. */
long lp_outbound_request(const lp_http_req *r, lp_buf *reply, char *err, size_t errn);

#endif
