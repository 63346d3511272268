/* util.h -- errors, memory, logging, time and small string helpers.
 *
 * Every module returns 0 or a negative LP_E* code; the list below is the one
 * place those codes are defined (an X-macro makes both the enum and
 * lp_strerror()).  lp_malloc() and friends abort on out-of-memory, so callers
 * never check them for NULL.  Only the server and CLI edges call lp_log(). */
#ifndef LP_UTIL_H
#define LP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define LP_ERRORS(X)                           \
    X(OK, 0, "success")                        \
    X(INVAL, -1, "invalid argument")           \
    X(NOTFOUND, -2, "not found")               \
    X(EXISTS, -3, "already exists")            \
    X(CONFLICT, -4, "conflict")                \
    X(PERM, -5, "permission denied")           \
    X(AUTH, -6, "authentication required")     \
    X(DB, -7, "database error")                \
    X(BUSY, -8, "database busy")               \
    X(IO, -9, "input/output error")            \
    X(TOOBIG, -10, "too large")                \
    X(NOTSUP, -11, "not supported")            \
    X(UNAVAIL, -12, "temporarily unavailable") \
    X(NOMEM, -13, "out of memory")             \
    X(NOSPC, -14, "no space left on the device")

enum {
#define LP_ERR_ENUM(name, value, text) LP_E##name = (value),
    LP_ERRORS(LP_ERR_ENUM)
#undef LP_ERR_ENUM
};

/* Text for an LP_E* code; never NULL. */
const char *lp_strerror(int rc);

/* Allocation that aborts on out-of-memory. */
void *lp_malloc(size_t n);
void *lp_calloc(size_t n, size_t size);
void *lp_realloc(void *p, size_t n);
char *lp_strdup(const char *s);
char *lp_strndup(const char *s, size_t n);
/* printf into a new heap string the caller frees. */
char *lp_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer; always NUL-terminated after the first append. */
typedef struct lp_buf {
    char *data;
    size_t len, cap;
} lp_buf;
/* Makes room for n more bytes without moving the data again. */
void lp_buf_reserve(lp_buf *b, size_t n);
/* lp_buf_reserve for a large buffer about to be filled once (a request
 * body, a bulk report): an empty buffer of 4 MiB or more is aligned and
 * asks for transparent huge pages, which saves a page fault per 4 KiB. */
void lp_buf_reserve_large(lp_buf *b, size_t n);
void lp_buf_append(lp_buf *b, const void *data, size_t n);
void lp_buf_puts(lp_buf *b, const char *s);
void lp_buf_printf(lp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lp_buf_fini(lp_buf *b);

/* An arena: many small allocations freed together (one per request). */
typedef struct lp_arena_block lp_arena_block;
typedef struct lp_arena {
    lp_arena_block *head;
} lp_arena;
void *lp_arena_alloc(lp_arena *a, size_t n);
char *lp_arena_strdup(lp_arena *a, const char *s);
char *lp_arena_sprintf(lp_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lp_arena_fini(lp_arena *a);

/* Logging, used only by the server and CLI edges. */
enum { LP_LOG_DEBUG, LP_LOG_INFO, LP_LOG_WARN, LP_LOG_ERROR };
extern int lp_log_level;
void lp_log_(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define lp_log(level, ...)                                        \
    do {                                                          \
        if ((level) >= lp_log_level) lp_log_(level, __VA_ARGS__); \
    } while (0)

/* Copies a database URL into out with its password (scheme://user:PASSWORD@
 * host, or a password=... parameter) replaced by "***", for logs. */
void lp_url_redact(const char *url, char *out, size_t n);

/* Wall-clock milliseconds since the Unix epoch, and a monotonic clock in ns. */
int64_t lp_now_ms(void);
/* Makes the directory entry of a new or renamed file durable (fsync of
 * its parent directory; errors ignored: the file itself was synced). */
void lp_sync_parent(const char *file);
uint64_t lp_mono_ns(void);
/* Formats ms-since-epoch as RFC 3339 UTC ("2026-11-22T05:33:41.123Z") into
 * out (at least 32 bytes). */
void lp_time_format(int64_t ms, char *out, size_t n);
/* Parses RFC 3339 (with 'Z' or an offset; date-only allowed) into ms.
 * Returns LP_EINVAL if s is not such a time. */
int lp_time_parse(const char *s, int64_t *out);

/* Appends s to out as valid UTF-8 (RFC 3629) of at most max bytes: a byte
 * that does not begin a well-formed character (a percent-decoded path may
 * hold any) becomes "%XX", and the text stops at a character's boundary. */
void lp_utf8_clean(const char *s, size_t max, lp_buf *out);

/* Parses a whole decimal int64; LP_EINVAL unless all of s is a number. */
int lp_parse_int64(const char *s, int64_t *out);

/* The q-quantile (0 <= q <= 1) of n >= 1 values sorted ascending,
 * interpolated between the two nearest ranks (Hyndman and Fan's type 7, so
 * that q = 0.5 is the middle value or the mean of the middle two).
 * lp_quantile_rank gives the lower rank (0-based) and the weight of the
 * next value, for a caller that fetches just those two values (an SQL
 * ORDER BY ... OFFSET): lp_quantile of them with q = that weight is the
 * quantile. */
size_t lp_quantile_rank(size_t n, double q, double *weight);
double lp_quantile(const int64_t *sorted, size_t n, double q);

#define LP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
