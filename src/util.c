/* util.c -- see util.h.  Nothing here touches the network or the database. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

const char *lp_strerror(int rc)
{
    switch (rc) {
#define LP_ERR_CASE(name, value, text) \
    case value: return text;
        LP_ERRORS(LP_ERR_CASE)
#undef LP_ERR_CASE
    }
    return "unknown error";
}

static void oom(size_t n)
{
    fprintf(stderr, "loupe: out of memory allocating %zu bytes\n", n);
    abort();
}

void *lp_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *lp_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *lp_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *lp_strdup(const char *s)
{
    return lp_strndup(s, strlen(s));
}

char *lp_strndup(const char *s, size_t n)
{
    char *p = lp_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *lp_sprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) oom(0);
    return s;
}

void lp_buf_reserve(lp_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    b->data = lp_realloc(b->data, cap);
    b->cap = cap;
}

void lp_buf_reserve_large(lp_buf *b, size_t n)
{
    const size_t huge = (size_t)2 << 20;
    if (b->data || n < 2 * huge) {
        lp_buf_reserve(b, n);
        return;
    }
    size_t cap = (n + 1 + huge - 1) / huge * huge;
    void *p = NULL;
    if (posix_memalign(&p, huge, cap) != 0) {
        lp_buf_reserve(b, n);
        return;
    }
    madvise(p, cap, MADV_HUGEPAGE); /* advice only: fine if refused */
    b->data = p;
    b->cap = cap;
    b->len = 0;
    b->data[0] = '\0';
}

void lp_buf_append(lp_buf *b, const void *data, size_t n)
{
    lp_buf_reserve(b, n);
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void lp_buf_puts(lp_buf *b, const char *s)
{
    lp_buf_append(b, s, strlen(s));
}

void lp_buf_printf(lp_buf *b, const char *fmt, ...)
{
    /* Format into the free space; only if it does not fit, grow and again. */
    lp_buf_reserve(b, 64);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if ((size_t)n >= b->cap - b->len) {
        lp_buf_reserve(b, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void lp_buf_fini(lp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Arena blocks are a singly linked list; a request rarely needs more than
 * the first 4 KiB block, so the common case is one malloc per request. */
struct lp_arena_block {
    lp_arena_block *next;
    size_t used, cap;
    max_align_t data[];
};

void *lp_arena_alloc(lp_arena *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    lp_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 4096 ? n : 4096;
        b = lp_malloc(sizeof(*b) + cap);
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

char *lp_arena_strdup(lp_arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = lp_arena_alloc(a, n);
    memcpy(p, s, n);
    return p;
}

char *lp_arena_sprintf(lp_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = lp_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void lp_arena_fini(lp_arena *a)
{
    lp_arena_block *b = a->head;
    while (b) {
        lp_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

int lp_log_level = LP_LOG_INFO;

void lp_log_(int level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char ts[40];
    lp_time_format(lp_now_ms(), ts, sizeof ts);
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %s %s\n", ts, names[level & 3], line);
}

int64_t lp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t lp_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Writes v as exactly w decimal digits. */
static char *put_digits(char *p, int v, int w)
{
    for (int i = w - 1; i >= 0; i--, v /= 10) p[i] = (char)('0' + v % 10);
    return p + w;
}

void lp_time_format(int64_t ms, char *out, size_t n)
{
    /* Hand-made rather than gmtime_r + snprintf: a page of 100 tasks formats
     * 200 times, and this was a quarter of its cost.  Civil date from days
     * (Howard Hinnant's algorithm), years 0..9999. */
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int frac = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int sod = (int)(secs - days * 86400);
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = (int)(z - era * 146097);
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    int d = doy - (153 * mp + 2) / 5 + 1;
    int m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    if (n < 25 || y < 0 || y > 9999) {
        snprintf(out, n, "%s", n >= 25 ? "0000-01-01T00:00:00.000Z" : "");
        return;
    }
    char *p = put_digits(out, (int)y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, sod / 3600, 2);
    *p++ = ':';
    p = put_digits(p, sod / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, sod % 60, 2);
    *p++ = '.';
    p = put_digits(p, frac, 3);
    *p++ = 'Z';
    *p = '\0';
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int lp_time_parse(const char *s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off = 0;
    const char *p = s;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return LP_EINVAL;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi)) return LP_EINVAL;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &sec)) return LP_EINVAL;
            if (*p == '.') {
                p++;
                int scale = 100;
                if (!isdigit((unsigned char)*p)) return LP_EINVAL;
                while (isdigit((unsigned char)*p)) {
                    ms += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                }
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om)) return LP_EINVAL;
            off = sign * (oh * 60 + om);
        } else {
            return LP_EINVAL;
        }
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return LP_EINVAL;
    /* Days from civil (Howard Hinnant's algorithm). */
    int yy = y - (mo <= 2);
    int era = (yy >= 0 ? yy : yy - 399) / 400;
    int yoe = yy - era * 400;
    int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off * 60;
    *out = secs * 1000 + ms;
    return 0;
}

int lp_parse_int64(const char *s, int64_t *out)
{
    if (!s || !*s) return LP_EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || isspace((unsigned char)*s)) return LP_EINVAL;
    *out = v;
    return 0;
}

void lp_url_redact(const char *url, char *out, size_t n)
{
    if (!n) return;
    size_t o = 0;
    const char *auth = strstr(url, "://");
    const char *at = auth ? strchr(auth + 3, '@') : NULL;
    const char *slash = auth ? strchr(auth + 3, '/') : NULL;
    const char *colon = auth ? strchr(auth + 3, ':') : NULL;
    for (const char *p = url; *p && o + 1 < n;) {
        if (at && colon && colon < at && (!slash || at < slash) && p == colon + 1) {
            for (const char *r = "***"; *r && o + 1 < n; r++) out[o++] = *r;
            p = at;
            continue;
        }
        if (!strncmp(p, "password=", 9) &&
            (p == url || p[-1] == '?' || p[-1] == '&' || p[-1] == ' ')) {
            for (const char *r = "password=***"; *r && o + 1 < n; r++) out[o++] = *r;
            p += 9;
            while (*p && *p != '&' && *p != ' ') p++;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

size_t lp_quantile_rank(size_t n, double q, double *weight)
{
    double at = (double)(n ? n - 1 : 0) * (q < 0 ? 0 : q > 1 ? 1 : q);
    size_t i = (size_t)at;
    *weight = at - (double)i;
    return i;
}

double lp_quantile(const int64_t *sorted, size_t n, double q)
{
    double w;
    size_t i = lp_quantile_rank(n, q, &w);
    if (i + 1 >= n || w == 0) return (double)sorted[i];
    return (double)sorted[i] + w * (double)(sorted[i + 1] - sorted[i]);
}

void lp_sync_parent(const char *file)
{
    char *copy = lp_strdup(file);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

/* The length of the well-formed UTF-8 character at p (no overlong form, no
 * surrogate, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80) return 1;
    size_t n = (p[0] >> 5) == 6 ? 2 : (p[0] >> 4) == 14 ? 3 : (p[0] >> 3) == 30 ? 4 : 0;
    if (!n) return 0;
    uint32_t c = p[0] & (0x7f >> n);
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xc0) != 0x80) return 0;
        c = c << 6 | (p[k] & 0x3f);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < least[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    return n;
}

void lp_utf8_clean(const char *s, size_t max, lp_buf *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t used = 0;
    while (*p) {
        size_t n = utf8_len(p);
        if (used + (n ? n : 3) > max) break;
        if (n) {
            lp_buf_append(out, (const char *)p, n);
            p += n;
            used += n;
        } else {
            lp_buf_printf(out, "%%%02X", *p++);
            used += 3;
        }
    }
    if (!out->data) lp_buf_append(out, "", 0);
}
