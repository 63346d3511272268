/* outbound.c -- see outbound.h. */
#include "outbound.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static atomic_int allow_private;

void lp_outbound_set_allow_private(int on)
{
    atomic_store(&allow_private, on != 0);
}

int lp_outbound_private_allowed(void)
{
    return atomic_load(&allow_private);
}

/* The special-purpose IPv4 ranges (IANA's registry), as address, prefix
 * length and what they are. */
static const struct {
    uint32_t net;
    int bits;
    const char *what;
} v4_ranges[] = {
    {0x00000000, 8, "a \"this network\" address (0.0.0.0/8)"},
    {0x0a000000, 8, "a private address (10.0.0.0/8)"},
    {0x64400000, 10, "a shared address (100.64.0.0/10)"},
    {0x7f000000, 8, "a loopback address (127.0.0.0/8)"},
    {0xa9fe0000, 16, "a link-local address (169.254.0.0/16)"},
    {0xac100000, 12, "a private address (172.16.0.0/12)"},
    {0xc0000000, 24, "an IETF protocol address (192.0.0.0/24)"},
    {0xc0000200, 24, "a documentation address (192.0.2.0/24)"},
    {0xc0a80000, 16, "a private address (192.168.0.0/16)"},
    {0xc6120000, 15, "a benchmarking address (198.18.0.0/15)"},
    {0xc6336400, 24, "a documentation address (198.51.100.0/24)"},
    {0xcb007100, 24, "a documentation address (203.0.113.0/24)"},
    {0xe0000000, 4, "a multicast address (224.0.0.0/4)"},
    {0xf0000000, 4, "a reserved address (240.0.0.0/4)"},
};

static const char *v4_special(uint32_t a)
{
    for (size_t i = 0; i < LP_ARRAY_LEN(v4_ranges); i++)
        if ((a >> (32 - v4_ranges[i].bits)) == (v4_ranges[i].net >> (32 - v4_ranges[i].bits)))
            return v4_ranges[i].what;
    return NULL;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int zeros(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static const char *v6_special(const unsigned char *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (zeros(a, 15) && a[15] == 1) return "a loopback address (::1)";
    if (zeros(a, 16)) return "the unspecified address (::)";
    if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12)) {
        const char *w = v4_special(be32(a + 12)); /* an IPv4 address in IPv6 clothes */
        return w ? w : NULL;
    }
    if (zeros(a, 12)) return "an IPv4-compatible address (::/96, deprecated)";
    if (a[0] == 0 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && a[4] == 0 && a[5] == 1)
        return "a local-use NAT64 address (64:ff9b:1::/48)";
    if (a[0] == 0x01 && zeros(a + 1, 7)) return "a discard address (100::/64)";
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
        return "a documentation address (2001:db8::/32)";
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0)
        return "a Teredo address (2001::/32)";
    if (a[0] == 0x20 && a[1] == 0x02) return v4_special(be32(a + 2)); /* 6to4 */
    if ((a[0] & 0xfe) == 0xfc) return "a private (unique local) address (fc00::/7)";
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return "a link-local address (fe80::/10)";
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return "a site-local address (fec0::/10)";
    if (a[0] == 0xff) return "a multicast address (ff00::/8)";
    return NULL;
}

const char *lp_addr_special(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return v4_special(ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
    if (sa->sa_family == AF_INET6)
        return v6_special(((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
    return "not an internet address";
}

int lp_url_host_port(const char *url, char *host, size_t hostn, int *port, char *why, size_t whyn)
{
    CURLU *u = curl_url();
    char *h = NULL, *p = NULL, *scheme = NULL;
    int rc = LP_EINVAL;
    if (!u) {
        snprintf(why, whyn, "cannot parse the URL");
        return LP_EINVAL;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") && strcmp(scheme, "https")) ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        snprintf(why, whyn, "is not an http:// or https:// URL with a host");
    } else {
        size_t n = strlen(h);
        if (h[0] == '[' && n >= 2 && h[n - 1] == ']') /* an IPv6 literal */
            snprintf(host, hostn, "%.*s", (int)(n - 2), h + 1);
        else
            snprintf(host, hostn, "%s", h);
        *port = atoi(p);
        rc = n < hostn ? 0 : LP_EINVAL;
        if (rc) snprintf(why, whyn, "its host name is too long");
    }
    curl_free(h);
    curl_free(p);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

static const char *const allow_hint = "(the server's --allow-private-outbound allows it)";

int lp_outbound_check_url(const char *url, char *why, size_t whyn)
{
    char host[512];
    int port;
    if (lp_url_host_port(url, host, sizeof host, &port, why, whyn) < 0) return LP_EINVAL;
    if (lp_outbound_private_allowed()) return 0;
    /* Only a literal address can be judged now: glibc reads the forms
     * inet_aton() knows (127.1, 0x7f000001) as addresses too. */
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, NULL, &hints, &res) != 0) return 0;
    const char *w = lp_addr_special(res->ai_addr);
    if (w) snprintf(why, whyn, "%s is %s: refused %s", host, w, allow_hint);
    freeaddrinfo(res);
    return w ? LP_EINVAL : 0;
}

int lp_outbound_resolve(const char *url, char *addr, size_t addrn, char *why, size_t whyn)
{
    char host[512], svc[16];
    int port;
    if (lp_url_host_port(url, host, sizeof host, &port, why, whyn) < 0) return LP_EINVAL;
    snprintf(svc, sizeof svc, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG}, *res;
    int g = getaddrinfo(host, svc, &hints, &res);
    if (g != 0) {
        snprintf(why, whyn, "cannot resolve %s: %s", host, gai_strerror(g));
        return LP_ENOTFOUND;
    }
    /* Every address must be public: one that is not is refused rather than
     * skipped, so that a name cannot mix an internal target in. */
    int rc = 0;
    addr[0] = '\0';
    for (struct addrinfo *a = res; a && rc == 0; a = a->ai_next) {
        char num[INET6_ADDRSTRLEN] = "?";
        getnameinfo(a->ai_addr, a->ai_addrlen, num, sizeof num, NULL, 0, NI_NUMERICHOST);
        const char *w = lp_outbound_private_allowed() ? NULL : lp_addr_special(a->ai_addr);
        if (w) {
            snprintf(why, whyn, "%s resolves to %s, %s: refused %s", host, num, w, allow_hint);
            rc = LP_EPERM;
        } else if (!addr[0]) {
            snprintf(addr, addrn, a->ai_family == AF_INET6 ? "[%s]" : "%s", num);
        }
    }
    freeaddrinfo(res);
    return rc;
}

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void lp_outbound_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init);
}

/* The last guard against reaching an address that is not public: curl
 * calls this with the very address it is about to connect to, whatever
 * resolved it.  why (the callback's argument) gets the reason. */
static curl_socket_t open_checked(void *why, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)purpose;
    const char *w = lp_addr_special(&a->addr);
    if (w) {
        snprintf(why, 256, "refused to connect to %s", w);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

typedef struct reply_sink {
    lp_buf *buf;
    size_t max;
    int overflow;
    const lp_http_req *req;
    CURL *curl;
} reply_sink;

static size_t keep(char *p, size_t size, size_t n, void *arg)
{
    reply_sink *s = arg;
    if (s->req->on_data) {
        long status = 0;
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status <= 299)
            return s->req->on_data(s->req->data_ctx, p, size * n) ? 0 : size * n;
    }
    if (!s->buf) return size * n; /* discarded */
    if (s->buf->len + size * n > s->max) {
        s->overflow = 1;
        return 0; /* curl stops with a write error */
    }
    lp_buf_append(s->buf, p, size * n);
    return size * n;
}

static int progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    volatile int *cancel = arg;
    return cancel && *cancel; /* non-zero abandons the transfer */
}

long lp_outbound_request(const lp_http_req *r, lp_buf *reply, char *err, size_t errn)
{
    char addr[64], host[512], pin[700], refused[256] = "";
    int port, guard = !lp_outbound_private_allowed();
    struct curl_slist *resolve = NULL, *hs = NULL;
    err[0] = 0;
    if (guard) {
        if (lp_outbound_resolve(r->url, addr, sizeof addr, err, errn) < 0 ||
            lp_url_host_port(r->url, host, sizeof host, &port, err, errn) < 0)
            return 0;
        snprintf(pin, sizeof pin, "%s:%d:%s", host, port, addr);
        if (!strchr(host, ':') && strcmp(host, addr)) /* a name, not a literal address */
            resolve = curl_slist_append(NULL, pin);
    }
    CURL *c = curl_easy_init();
    if (!c) {
        curl_slist_free_all(resolve);
        snprintf(err, errn, "cannot start an HTTP client");
        return 0;
    }
    for (size_t i = 0; r->headers && r->headers[i]; i++) hs = curl_slist_append(hs, r->headers[i]);
    reply_sink sink = {.buf = r->reply_max ? reply : NULL, .max = r->reply_max, .req = r, .curl = c};
    char ebuf[CURL_ERROR_SIZE] = "";
    long timeout = r->timeout_ms > 0 ? r->timeout_ms : 15000;
    curl_easy_setopt(c, CURLOPT_URL, r->url);
    if (hs) curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    if (!strcmp(r->method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(r->body ? r->body_len : 0));
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout < 5000 ? timeout : 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    if (r->cancel) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)r->cancel);
    }
    if (guard) {
        /* A proxy would resolve and connect on our behalf, unchecked. */
        curl_easy_setopt(c, CURLOPT_PROXY, "");
        curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
        curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
        curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, (void *)refused);
    }
    long status = 0;
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else if (refused[0])
        snprintf(err, errn, "%s", refused);
    else if (sink.overflow)
        snprintf(err, errn, "the reply is longer than %zu bytes", r->reply_max);
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        snprintf(err, errn, "no complete reply within %ld ms", timeout);
    else
        snprintf(err, errn, "%s", ebuf[0] ? ebuf : curl_easy_strerror(rc));
    if (reply && sink.buf) lp_buf_append(reply, "", 1), reply->len--;
    curl_slist_free_all(resolve);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    return status;
}
