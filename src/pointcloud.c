/* pointcloud.c -- PCD, PLY and Scale-style JSON point clouds into one array.
 *
 * Each format's header is read into a record layout (where x, y, z and the
 * intensity sit, of which type and size), then one loop walks the data:
 * binary records by offset, ascii as a stream of whitespace-separated
 * numbers, JSON through jansson.  Every point goes through one sink that
 * counts it, drops it when a coordinate is not finite, decimates (see
 * pointcloud.h) and stores four floats.  The declared count is checked
 * against the data before anything is allocated, so a file cannot make
 * the parser allocate more than its own size allows. */
#include "pointcloud.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limit.h"
#include "util.h"

#include <lzf.h>

/* Fields (PCD) or properties of one element (PLY) a header may name. */
#define MAX_FIELDS 64
/* Elements a PLY header may name. */
#define MAX_ELEMENTS 16

/* ---- The sink --------------------------------------------------------- */

typedef struct sink {
    lp_points *out;
    size_t max, cap, j; /* j: points seen so far */
} sink;

/* Prepares s for a file of total points, keeping at most max (0: all). */
static void sink_begin(sink *s, lp_points *out, size_t total, size_t max)
{
    s->out = out;
    s->max = max && max < total ? max : total;
    s->cap = s->max;
    s->j = 0;
    out->total = total;
    out->xyzi = lp_malloc((s->cap ? s->cap : 1) * 4 * sizeof *out->xyzi);
}

/* Takes the file's next point. */
static void sink_push(sink *s, double x, double y, double z, double i)
{
    size_t j = s->j++;
    lp_points *o = s->out;
    if (!isfinite(x) || !isfinite(y) || !isfinite(z) || fabs(x) > 3e38 || fabs(y) > 3e38 ||
        fabs(z) > 3e38) {
        o->dropped++;
        return;
    }
    if (s->max < o->total) {
        uint64_t a = (uint64_t)j * s->max / o->total, b = (uint64_t)(j + 1) * s->max / o->total;
        if (a == b) return;
    }
    if (o->n >= s->cap) return;
    if (!isfinite(i) || fabs(i) > 3e38) i = 0;
    float *p = o->xyzi + 4 * o->n++;
    p[0] = (float)x;
    p[1] = (float)y;
    p[2] = (float)z;
    p[3] = (float)i;
}

/* Fills the bounds of the kept points. */
static void sink_end(lp_points *o)
{
    for (int k = 0; k < 4; k++) o->lo[k] = o->hi[k] = o->n ? o->xyzi[k] : 0;
    for (size_t j = 1; j < o->n; j++)
        for (int k = 0; k < 4; k++) {
            float v = o->xyzi[4 * j + k];
            if (v < o->lo[k]) o->lo[k] = v;
            if (v > o->hi[k]) o->hi[k] = v;
        }
}

/* Writes a message into err and returns rc. */
static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- Reading text ----------------------------------------------------- */

typedef struct cursor {
    const char *p, *end;
} cursor;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* The next whitespace-separated token: 1 and *t, *n set, or 0 at the end. */
static int next_token(cursor *c, const char **t, size_t *n)
{
    while (c->p < c->end && is_space(*c->p)) c->p++;
    if (c->p == c->end) return 0;
    *t = c->p;
    while (c->p < c->end && !is_space(*c->p)) c->p++;
    *n = (size_t)(c->p - *t);
    return 1;
}

/* The next line (without its end): 1 with *ls, *le set, or 0 at the end. */
static int next_line(cursor *c, const char **ls, const char **le)
{
    if (c->p >= c->end) return 0;
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    *ls = c->p;
    *le = nl ? nl : c->end;
    c->p = nl ? nl + 1 : c->end;
    if (*le > *ls && (*le)[-1] == '\r') (*le)--;
    return 1;
}

/* Clinger's fast path: a decimal of at most 15 significant digits and at
 * most 22 digits after the point is m / 10^k with m and 10^k both exact
 * doubles, and IEEE division rounds that quotient correctly, so the result
 * is the one strtod gives.  1 with *v set, or 0 for anything else (an
 * exponent, more digits, nan), which strtod then reads. */
static int fast_decimal(const char *t, size_t n, double *v)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = 0, digits = 0, frac = 0;
    int neg = 0, point = 0;
    uint64_t m = 0;
    if (i < n && (t[i] == '-' || t[i] == '+')) neg = t[i++] == '-';
    if (i == n) return 0;
    for (; i < n; i++) {
        char c = t[i];
        if (c == '.' && !point) {
            point = 1;
            continue;
        }
        if (c < '0' || c > '9') return 0;
        if (m || c != '0') digits++;
        if (digits > 15) return 0;
        m = m * 10 + (uint64_t)(c - '0');
        if (point) frac++;
    }
    if (frac > 22 || (point && n - (t[0] == '-' || t[0] == '+') == 1)) return 0;
    double x = (double)m / pow10[frac];
    *v = neg ? -x : x;
    return 1;
}

/* The token t of n bytes as a number (decimal, exponent, nan, inf): 0, or
 * -1 when it is not one. */
static int token_double(const char *t, size_t n, double *v)
{
    char buf[64], *e;
    if (fast_decimal(t, n, v)) return 0;
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, t, n);
    buf[n] = '\0';
    errno = 0;
    *v = strtod(buf, &e);
    return e == buf + n ? 0 : -1;
}

/* The token as a count (decimal digits only): 0, or -1. */
static int token_size(const char *t, size_t n, size_t *v)
{
    size_t r = 0;
    if (n == 0 || n > 18) return -1;
    for (size_t k = 0; k < n; k++) {
        if (t[k] < '0' || t[k] > '9') return -1;
        r = r * 10 + (size_t)(t[k] - '0');
    }
    *v = r;
    return 0;
}

static int token_is(const char *t, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(t, word, n) == 0;
}

/* ---- Binary values ---------------------------------------------------- */

/* A scalar's type: 'F' float, 'U' unsigned, 'I' signed; size in bytes. */
typedef struct scalar {
    char type;
    int size;
} scalar;

static int scalar_ok(scalar s)
{
    if (s.type == 'F') return s.size == 4 || s.size == 8;
    return (s.type == 'U' || s.type == 'I') &&
           (s.size == 1 || s.size == 2 || s.size == 4 || s.size == 8);
}

/* The scalar s at p, stored little-endian, or big-endian when be. */
static double read_scalar(const unsigned char *p, scalar s, int be)
{
    if (s.type == 'F' && s.size == 4 && !be) { /* the common case, on little-endian hosts */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        float f;
        memcpy(&f, p, 4);
        return f;
#endif
    }
    uint64_t u = 0;
    for (int k = 0; k < s.size; k++) u |= (uint64_t)p[be ? s.size - 1 - k : k] << (8 * k);
    if (s.type == 'F') {
        if (s.size == 4) {
            uint32_t w = (uint32_t)u;
            float f;
            memcpy(&f, &w, 4);
            return f;
        }
        double d;
        memcpy(&d, &u, 8);
        return d;
    }
    if (s.type == 'U') return (double)u;
    int bits = 8 * s.size;
    if (bits < 64 && (u >> (bits - 1)) & 1) u |= ~(uint64_t)0 << bits;
    return (double)(int64_t)u;
}

/* Names a file may give the intensity under. */
static int is_intensity(const char *t, size_t n)
{
    return token_is(t, n, "intensity") || token_is(t, n, "i") ||
           token_is(t, n, "scalar_intensity") || token_is(t, n, "reflectance");
}

/* ---- PCD -------------------------------------------------------------- */

typedef struct pcd_field {
    char name[32];
    scalar s;
    size_t count;
} pcd_field;

/* Which of x, y, z, intensity a field name is: 0..3, or -1. */
static int role_of(const char *t, size_t n)
{
    if (token_is(t, n, "x")) return 0;
    if (token_is(t, n, "y")) return 1;
    if (token_is(t, n, "z")) return 2;
    return is_intensity(t, n) ? 3 : -1;
}

/* LZF's longest back-reference is 3 bytes for 264 bytes of output, so no
 * valid stream expands more than 88-fold: a larger declared size is refused
 * before it is allocated, which keeps the buffer within 89 times the
 * file's size. */
#define LZF_MAX_RATIO 89

/* DATA binary_compressed, as PCL writes it: uint32 compressed size, uint32
 * uncompressed size (both little-endian), then that many bytes of LZF.  The
 * decompressed buffer is column-major: every point's field 0 (SIZE * COUNT
 * bytes each), then every point's field 1, and so on, so field k of point
 * j sits at points * offset[k] + j * (its SIZE * COUNT).  The uncompressed
 * size must be exactly points * stride (so at most
 * LP_LIMIT_POINTCLOUD_POINTS records) and is checked before allocating. */
static int pcd_compressed(const char *body, size_t left, const pcd_field *f, const size_t *offset,
                          size_t stride, size_t points, const int role_field[4], size_t max,
                          lp_points *out, char *err, size_t errlen)
{
    const unsigned char *b = (const unsigned char *)body;
    out->format = "pcd-binary-compressed";
    if (left < 8)
        return fail(LP_EINVAL, err, errlen,
                    "PCD binary_compressed data is truncated: no compressed and uncompressed "
                    "sizes after the header");
    uint32_t csize =
        (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    uint32_t usize =
        (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
    if (csize > left - 8)
        return fail(LP_EINVAL, err, errlen,
                    "PCD binary_compressed data is truncated: %u compressed bytes declared, the "
                    "file has %zu after the sizes",
                    csize, left - 8);
    if (usize != points * stride)
        return fail(LP_EINVAL, err, errlen,
                    "PCD binary_compressed: uncompressed size %u is not %zu points x %zu bytes "
                    "(%zu)",
                    usize, points, stride, points * stride);
    if (!points) {
        sink s;
        sink_begin(&s, out, 0, max);
        return 0;
    }
    if (!csize || usize / LZF_MAX_RATIO > csize)
        return fail(LP_EINVAL, err, errlen,
                    "PCD binary_compressed: %u compressed bytes cannot hold %u (LZF expands at "
                    "most %d-fold)",
                    csize, usize, LZF_MAX_RATIO);
    unsigned char *raw = lp_malloc(usize);
    errno = 0;
    unsigned int got = lzf_decompress(b + 8, csize, raw, usize);
    if (got != usize) {
        free(raw);
        return fail(LP_EINVAL, err, errlen, "PCD binary_compressed: the LZF data is corrupt (%s)",
                    got == 0 && errno == E2BIG ? "it decompresses to more than its declared size"
                    : got == 0                 ? "invalid stream"
                                               : "it decompresses to fewer bytes than declared");
    }
    sink s;
    sink_begin(&s, out, points, max);
    const unsigned char *col[4] = {NULL, NULL, NULL, NULL};
    size_t width[4] = {0, 0, 0, 0};
    for (int r = 0; r < 4; r++)
        if (role_field[r] >= 0) {
            const pcd_field *fr = &f[role_field[r]];
            col[r] = raw + points * offset[role_field[r]];
            width[r] = (size_t)fr->s.size * fr->count;
        }
    for (size_t j = 0; j < points; j++) {
        double v[4] = {0, 0, 0, 0};
        for (int r = 0; r < 4; r++)
            if (col[r]) v[r] = read_scalar(col[r] + j * width[r], f[role_field[r]].s, 0);
        sink_push(&s, v[0], v[1], v[2], v[3]);
    }
    free(raw);
    return 0;
}

static int parse_pcd(const char *data, size_t len, size_t max, lp_points *out, char *err,
                     size_t errlen)
{
    pcd_field f[MAX_FIELDS];
    size_t nf = 0, ns = 0, nt = 0, nc = 0, width = 0, height = 0, points = 0;
    int have_w = 0, have_h = 0, have_points = 0, mode = -1; /* 0 ascii, 1 binary, 2 lzf */
    cursor c = {data, data + len};
    const char *ls, *le, *t;
    size_t n;
    memset(f, 0, sizeof f);
    while (mode < 0) {
        if (!next_line(&c, &ls, &le))
            return fail(LP_EINVAL, err, errlen, "PCD header: no DATA line");
        cursor lc = {ls, le};
        if (!next_token(&lc, &t, &n) || t[0] == '#') continue;
        if (token_is(t, n, "VERSION") || token_is(t, n, "VIEWPOINT")) continue;
        if (token_is(t, n, "FIELDS")) {
            for (nf = 0; next_token(&lc, &t, &n); nf++) {
                if (nf == MAX_FIELDS)
                    return fail(LP_EINVAL, err, errlen, "PCD header: more than %d FIELDS",
                                MAX_FIELDS);
                if (n >= sizeof f[nf].name)
                    return fail(LP_EINVAL, err, errlen, "PCD header: field %zu's name is too long",
                                nf + 1);
                memcpy(f[nf].name, t, n);
            }
        } else if (token_is(t, n, "SIZE") || token_is(t, n, "TYPE") || token_is(t, n, "COUNT")) {
            char kw = t[0];
            size_t k = 0;
            for (; next_token(&lc, &t, &n); k++) {
                if (k == MAX_FIELDS) break;
                size_t v = 0;
                if (kw == 'T') {
                    if (n != 1 || (t[0] != 'F' && t[0] != 'U' && t[0] != 'I'))
                        return fail(LP_EINVAL, err, errlen,
                                    "PCD header: TYPE %zu is \"%.*s\", not F, U or I", k + 1,
                                    (int)(n > 16 ? 16 : n), t);
                    f[k].s.type = t[0];
                } else if (token_size(t, n, &v) || v == 0 || (kw == 'S' && v > 8) ||
                           (kw == 'C' && v > 1024)) {
                    return fail(LP_EINVAL, err, errlen, "PCD header: %s %zu is not a valid number",
                                kw == 'S' ? "SIZE" : "COUNT", k + 1);
                } else if (kw == 'S') {
                    f[k].s.size = (int)v;
                } else {
                    f[k].count = v;
                }
            }
            *(kw == 'S' ? &ns : kw == 'T' ? &nt : &nc) = k;
        } else if (token_is(t, n, "WIDTH") || token_is(t, n, "HEIGHT") ||
                   token_is(t, n, "POINTS")) {
            const char *kw = t[0] == 'W' ? "WIDTH" : t[0] == 'H' ? "HEIGHT" : "POINTS";
            size_t *dst = t[0] == 'W' ? &width : t[0] == 'H' ? &height : &points;
            if (!next_token(&lc, &t, &n) || token_size(t, n, dst))
                return fail(LP_EINVAL, err, errlen, "PCD header: %s is not a count", kw);
            *(kw[0] == 'W' ? &have_w : kw[0] == 'H' ? &have_h : &have_points) = 1;
        } else if (token_is(t, n, "DATA")) {
            if (!next_token(&lc, &t, &n))
                return fail(LP_EINVAL, err, errlen, "PCD header: DATA names no encoding");
            if (token_is(t, n, "ascii"))
                mode = 0;
            else if (token_is(t, n, "binary"))
                mode = 1;
            else if (token_is(t, n, "binary_compressed"))
                mode = 2;
            else
                return fail(LP_EINVAL, err, errlen,
                            "PCD header: DATA \"%.*s\" is not ascii, binary or binary_compressed",
                            (int)(n > 32 ? 32 : n), t);
        } else {
            return fail(LP_EINVAL, err, errlen, "PCD header: unknown line \"%.*s\"",
                        (int)(n > 32 ? 32 : n), t);
        }
    }
    if (!nf) return fail(LP_EINVAL, err, errlen, "PCD header: no FIELDS");
    if (ns != nf || nt != nf)
        return fail(LP_EINVAL, err, errlen,
                    "PCD header: %zu FIELDS but %zu SIZE and %zu TYPE values", nf, ns, nt);
    if (nc && nc != nf)
        return fail(LP_EINVAL, err, errlen, "PCD header: %zu FIELDS but %zu COUNT values", nf, nc);
    if (!have_w || !have_h) return fail(LP_EINVAL, err, errlen, "PCD header: no WIDTH or HEIGHT");
    if (height && width > LP_LIMIT_POINTCLOUD_POINTS / height)
        return fail(LP_ETOOBIG, err, errlen, "PCD header: WIDTH x HEIGHT is over %d points",
                    LP_LIMIT_POINTCLOUD_POINTS);
    if (!have_points) points = width * height;
    if (points != width * height)
        return fail(LP_EINVAL, err, errlen, "PCD header: POINTS %zu is not WIDTH x HEIGHT (%zu)",
                    points, width * height);
    if (points > LP_LIMIT_POINTCLOUD_POINTS)
        return fail(LP_ETOOBIG, err, errlen, "PCD declares %zu points; the limit is %d", points,
                    LP_LIMIT_POINTCLOUD_POINTS);

    /* The layout: where each role's value is (its scalar index among the
     * record's values and its byte offset). */
    int role_field[4] = {-1, -1, -1, -1};
    size_t offset[MAX_FIELDS], index[MAX_FIELDS], stride = 0, values = 0;
    for (size_t k = 0; k < nf; k++) {
        if (!nc) f[k].count = 1;
        if (!scalar_ok(f[k].s))
            return fail(LP_EINVAL, err, errlen, "PCD header: field \"%s\" has TYPE %c SIZE %d",
                        f[k].name, f[k].s.type, f[k].s.size);
        offset[k] = stride;
        index[k] = values;
        stride += (size_t)f[k].s.size * f[k].count;
        values += f[k].count;
        int r = role_of(f[k].name, strlen(f[k].name));
        if (r >= 0 && role_field[r] < 0) role_field[r] = (int)k;
    }
    for (int r = 0; r < 3; r++)
        if (role_field[r] < 0)
            return fail(LP_EINVAL, err, errlen, "PCD header: FIELDS has no %c", "xyz"[r]);
    out->has_intensity = role_field[3] >= 0;
    const char *body = c.p;
    size_t left = (size_t)(data + len - body);
    sink s;
    if (mode == 2)
        return pcd_compressed(body, left, f, offset, stride, points, role_field, max, out, err,
                              errlen);
    if (mode == 1) {
        out->format = "pcd-binary";
        if (left / stride < points)
            return fail(LP_EINVAL, err, errlen,
                        "PCD data is truncated: %zu points of %zu bytes need %zu bytes, the file "
                        "has %zu after the header",
                        points, stride, points * stride, left);
        sink_begin(&s, out, points, max);
        const unsigned char *p = (const unsigned char *)body;
        for (size_t j = 0; j < points; j++, p += stride) {
            double v[4] = {0, 0, 0, 0};
            for (int r = 0; r < 4; r++)
                if (role_field[r] >= 0)
                    v[r] = read_scalar(p + offset[role_field[r]], f[role_field[r]].s, 0);
            sink_push(&s, v[0], v[1], v[2], v[3]);
        }
    } else {
        out->format = "pcd-ascii";
        if (points && (left + 1) / 2 / values < points)
            return fail(LP_EINVAL, err, errlen,
                        "PCD data is truncated: %zu points of %zu values cannot fit in %zu bytes",
                        points, values, left);
        sink_begin(&s, out, points, max);
        cursor d = {body, data + len};
        for (size_t j = 0; j < points; j++) {
            double v[4] = {0, 0, 0, 0};
            for (size_t k = 0, r; k < values; k++) {
                if (!next_token(&d, &t, &n))
                    return fail(LP_EINVAL, err, errlen,
                                "PCD data ends in point %zu of the %zu declared", j + 1, points);
                for (r = 0; r < 4; r++)
                    if (role_field[r] >= 0 && index[role_field[r]] == k) break;
                if (r < 4 && token_double(t, n, &v[r]))
                    return fail(LP_EINVAL, err, errlen,
                                "PCD data: point %zu's %s is \"%.*s\", not a number", j + 1,
                                r == 3   ? "intensity"
                                : r == 0 ? "x"
                                : r == 1 ? "y"
                                         : "z",
                                (int)(n > 24 ? 24 : n), t);
            }
            sink_push(&s, v[0], v[1], v[2], v[3]);
        }
        if (next_token(&d, &t, &n))
            return fail(LP_EINVAL, err, errlen,
                        "PCD data has more values than the %zu points declared", points);
    }
    return 0;
}

/* ---- PLY -------------------------------------------------------------- */

typedef struct ply_prop {
    scalar s;
    scalar count; /* list properties: the count's type; type 0 otherwise */
    int role;     /* 0..3 for x, y, z, intensity, else -1 */
} ply_prop;

typedef struct ply_element {
    size_t n, nprops;
    int vertex;
    ply_prop props[MAX_FIELDS];
} ply_element;

/* A PLY type name as a scalar; type 0 when it is not one. */
static scalar ply_type(const char *t, size_t n)
{
    static const struct {
        const char *name;
        scalar s;
    } types[] = {
        {"char", {'I', 1}},  {"int8", {'I', 1}},    {"uchar", {'U', 1}},  {"uint8", {'U', 1}},
        {"short", {'I', 2}}, {"int16", {'I', 2}},   {"ushort", {'U', 2}}, {"uint16", {'U', 2}},
        {"int", {'I', 4}},   {"int32", {'I', 4}},   {"uint", {'U', 4}},   {"uint32", {'U', 4}},
        {"float", {'F', 4}}, {"float32", {'F', 4}}, {"double", {'F', 8}}, {"float64", {'F', 8}}};
    for (size_t k = 0; k < LP_ARRAY_LEN(types); k++)
        if (token_is(t, n, types[k].name)) return types[k].s;
    return (scalar){0, 0};
}

/* Reads one instance of element e from the binary data at *p (before end)
 * into v[4]; -1 when the data ends first. */
static int ply_read_binary(const ply_element *e, const unsigned char **p, const unsigned char *end,
                           int be, double v[4])
{
    const unsigned char *q = *p;
    for (size_t k = 0; k < e->nprops; k++) {
        const ply_prop *pr = &e->props[k];
        if (pr->count.type) {
            if ((size_t)(end - q) < (size_t)pr->count.size) return -1;
            double cnt = read_scalar(q, pr->count, be);
            q += pr->count.size;
            if (!(cnt >= 0) || cnt > (double)(size_t)(end - q) / pr->s.size) return -1;
            q += (size_t)cnt * (size_t)pr->s.size;
            continue;
        }
        if ((size_t)(end - q) < (size_t)pr->s.size) return -1;
        if (pr->role >= 0) v[pr->role] = read_scalar(q, pr->s, be);
        q += pr->s.size;
    }
    *p = q;
    return 0;
}

/* Reads one instance of element e from the ascii tokens at d into v[4];
 * -1 when they end first or a value is not a number. */
static int ply_read_ascii(const ply_element *e, cursor *d, double v[4])
{
    const char *t;
    size_t n;
    double x;
    for (size_t k = 0; k < e->nprops; k++) {
        const ply_prop *pr = &e->props[k];
        if (!next_token(d, &t, &n) || token_double(t, n, &x)) return -1;
        if (pr->count.type) {
            if (!(x >= 0) || x > (double)(size_t)(d->end - d->p)) return -1;
            for (size_t m = (size_t)x; m > 0; m--)
                if (!next_token(d, &t, &n)) return -1;
            continue;
        }
        if (pr->role >= 0) v[pr->role] = x;
    }
    return 0;
}

static int parse_ply(const char *data, size_t len, size_t max, lp_points *out, char *err,
                     size_t errlen)
{

    ply_element *elements = lp_calloc(MAX_ELEMENTS, sizeof *elements);
    size_t ne = 0, vi = SIZE_MAX;
    int format = -1, rc = LP_EINVAL; /* 0 ascii, 1 little, 2 big */
    cursor c = {data, data + len};
    const char *ls, *le, *t;
    size_t n;

    next_line(&c, &ls, &le); /* "ply" */
    for (;;) {
        if (!next_line(&c, &ls, &le)) {
            rc = fail(LP_EINVAL, err, errlen, "PLY header: no end_header line");
            goto done;
        }
        cursor lc = {ls, le};
        if (!next_token(&lc, &t, &n)) continue;
        if (token_is(t, n, "end_header")) break;
        if (token_is(t, n, "comment") || token_is(t, n, "obj_info")) continue;
        if (token_is(t, n, "format")) {
            if (!next_token(&lc, &t, &n)) t = "", n = 0;
            format = token_is(t, n, "ascii")                  ? 0
                     : token_is(t, n, "binary_little_endian") ? 1
                     : token_is(t, n, "binary_big_endian")    ? 2
                                                              : -2;
            if (format == -2) {
                rc = fail(LP_EINVAL, err, errlen, "PLY header: format \"%.*s\" is not known",
                          (int)(n > 32 ? 32 : n), t);
                goto done;
            }
        } else if (token_is(t, n, "element")) {
            const char *name;
            size_t nn;
            if (ne == MAX_ELEMENTS) {
                rc =
                    fail(LP_EINVAL, err, errlen, "PLY header: more than %d elements", MAX_ELEMENTS);
                goto done;
            }
            ply_element *e = &elements[ne];
            if (!next_token(&lc, &name, &nn) || !next_token(&lc, &t, &n) ||
                token_size(t, n, &e->n)) {
                rc = fail(LP_EINVAL, err, errlen, "PLY header: element %zu has no count", ne + 1);
                goto done;
            }
            if (e->n > LP_LIMIT_POINTCLOUD_POINTS) {
                rc = fail(LP_ETOOBIG, err, errlen,
                          "PLY declares %zu of one element; the limit is %d", e->n,
                          LP_LIMIT_POINTCLOUD_POINTS);
                goto done;
            }
            e->vertex = token_is(name, nn, "vertex");
            if (e->vertex && vi != SIZE_MAX) {
                rc = fail(LP_EINVAL, err, errlen,
                          "PLY header: element %zu is a second vertex element", ne + 1);
                goto done;
            }
            if (e->vertex) vi = ne;
            ne++;
        } else if (token_is(t, n, "property")) {
            ply_element *e = ne ? &elements[ne - 1] : NULL;
            if (!e || e->nprops == MAX_FIELDS) {
                rc = fail(LP_EINVAL, err, errlen,
                          e ? "PLY header: an element has too many properties"
                            : "PLY header: a property before any element");
                goto done;
            }
            ply_prop *p = &e->props[e->nprops];
            if (!next_token(&lc, &t, &n)) n = 0;
            if (token_is(t, n, "list")) {
                if (!next_token(&lc, &t, &n)) n = 0;
                p->count = ply_type(t, n);
                if (!next_token(&lc, &t, &n)) n = 0;
                if (!p->count.type || p->count.type == 'F') {
                    rc = fail(LP_EINVAL, err, errlen, "PLY header: a list's count type is wrong");
                    goto done;
                }
            }
            p->s = n ? ply_type(t, n) : (scalar){0, 0};
            if (!p->s.type) {
                rc = fail(LP_EINVAL, err, errlen, "PLY header: property type \"%.*s\" is not known",
                          (int)(n > 32 ? 32 : n), n ? t : "");
                goto done;
            }
            if (!next_token(&lc, &t, &n)) {
                rc = fail(LP_EINVAL, err, errlen, "PLY header: a property has no name");
                goto done;
            }
            p->role = p->count.type ? -1 : role_of(t, n);
            for (size_t k = 0; k < e->nprops && p->role >= 0; k++)
                if (e->props[k].role == p->role) p->role = -1; /* the first one counts */
            e->nprops++;
        } else {
            rc = fail(LP_EINVAL, err, errlen, "PLY header: unknown line \"%.*s\"",
                      (int)(n > 32 ? 32 : n), t);
            goto done;
        }
    }
    if (format < 0) {
        rc = fail(LP_EINVAL, err, errlen, "PLY header: no format line");
        goto done;
    }
    if (vi == SIZE_MAX) {
        rc = fail(LP_EINVAL, err, errlen, "PLY header: no vertex element");
        goto done;
    }
    ply_element *v = &elements[vi];
    int has[4] = {0, 0, 0, 0};
    for (size_t k = 0; k < v->nprops; k++)
        if (v->props[k].role >= 0) has[v->props[k].role] = 1;
    for (int r = 0; r < 3; r++)
        if (!has[r]) {
            rc = fail(LP_EINVAL, err, errlen, "PLY header: the vertex element has no %c", "xyz"[r]);
            goto done;
        }
    out->has_intensity = has[3];
    out->format = format == 0 ? "ply-ascii" : format == 1 ? "ply-binary-le" : "ply-binary-be";
    /* Each item of every element needs at least 2 bytes per property in
     * ascii (a character and a separator, but the very last), its size in
     * binary: refuse counts the data cannot hold before allocating, and
     * items of no property, which would be counted through reading
     * nothing.  Then every item read takes a byte at least, so reading
     * ends within the data's length. */
    size_t left = (size_t)(c.end - c.p), need = 0;
    for (size_t k = 0; k < ne; k++) {
        const ply_element *el = &elements[k];
        size_t least = 0;
        if (el->n && !el->nprops) {
            rc = fail(LP_EINVAL, err, errlen,
                      "PLY header: element %zu declares %zu items but no property", k + 1, el->n);
            goto done;
        }
        for (size_t j = 0; j < el->nprops; j++)
            least += format ? (size_t)(el->props[j].count.type ? el->props[j].count.size
                                                               : el->props[j].s.size)
                            : 2;
        need += el->n * least; /* at most 16 x 1e8 x 512: no overflow */
        if (need > left + (format == 0)) {
            rc = fail(LP_EINVAL, err, errlen,
                      "PLY data is truncated: the %zu %s of element %zu cannot fit in the %zu "
                      "bytes after the header",
                      el->n, el->vertex ? "vertices" : "items", k + 1, left);
            goto done;
        }
    }
    sink s;
    sink_begin(&s, out, v->n, max);
    const unsigned char *p = (const unsigned char *)c.p, *end = (const unsigned char *)c.end;
    cursor d = c;
    for (size_t k = 0; k < ne; k++) {
        for (size_t j = 0; j < elements[k].n; j++) {
            double x[4] = {0, 0, 0, 0};
            int bad = format ? ply_read_binary(&elements[k], &p, end, format == 2, x)
                             : ply_read_ascii(&elements[k], &d, x);
            if (bad) {
                rc = fail(LP_EINVAL, err, errlen,
                          "PLY data ends or is not a number in %s %zu of the %zu declared",
                          elements[k].vertex ? "vertex" : "element", j + 1, elements[k].n);
                goto done;
            }
            if (k == vi) sink_push(&s, x[0], x[1], x[2], x[3]);
        }
    }
    if (format ? p != end : next_token(&d, &t, &n)) {
        rc = fail(LP_EINVAL, err, errlen, "PLY data has more bytes than its elements declare");
        goto done;
    }
    rc = 0;
done:
    free(elements);
    return rc;
}

/* ---- Scale-style JSON ------------------------------------------------- */

/* v as a number into *x: 0, or -1 when it is not one. */
static int number(const json_t *v, double *x)
{
    if (json_is_integer(v))
        *x = (double)json_integer_value(v);
    else if (json_is_real(v))
        *x = json_real_value(v);
    else
        return -1;
    return 0;
}

static int parse_json(const char *data, size_t len, size_t max, lp_points *out, char *err,
                      size_t errlen)
{
    json_error_t je;
    if (len > LP_LIMIT_POINTCLOUD_JSON_BYTES)
        return fail(LP_ETOOBIG, err, errlen, "JSON point cloud is over %d bytes; use PCD or PLY",
                    LP_LIMIT_POINTCLOUD_JSON_BYTES);
    json_t *root = json_loadb(data, len, JSON_DECODE_ANY, &je);
    if (!root)
        return fail(LP_EINVAL, err, errlen, "JSON point cloud: %s at line %d", je.text, je.line);
    const json_t *list = json_is_array(root) ? root : json_object_get(root, "points");
    const char *path = json_is_array(root) ? "" : "points";
    int rc = 0;
    if (!json_is_array(list)) {
        rc = fail(LP_EINVAL, err, errlen, "JSON point cloud: no \"points\" array");
        goto done;
    }
    out->format = "json";
    size_t total = json_array_size(list), j;
    const json_t *pt;
    if (total > LP_LIMIT_POINTCLOUD_POINTS) {
        rc = fail(LP_ETOOBIG, err, errlen, "JSON point cloud has over %d points",
                  LP_LIMIT_POINTCLOUD_POINTS);
        goto done;
    }
    sink s;
    sink_begin(&s, out, total, max);
    json_array_foreach(list, j, pt)
    {
        double v[4] = {0, 0, 0, 0};
        static const char *const keys[4] = {"x", "y", "z", "i"};
        if (json_is_array(pt)) {
            size_t m = json_array_size(pt);
            if (m < 3 || m > 4) {
                rc = fail(LP_EINVAL, err, errlen,
                          "JSON point cloud: %s[%zu] has %zu values, not 3 or 4", path, j, m);
                goto done;
            }
            for (size_t k = 0; k < m; k++)
                if (number(json_array_get(pt, k), &v[k])) {
                    rc = fail(LP_EINVAL, err, errlen,
                              "JSON point cloud: %s[%zu][%zu] is not a number", path, j, k);
                    goto done;
                }
            if (m == 4) out->has_intensity = 1;
        } else if (json_is_object(pt)) {
            for (int k = 0; k < 4; k++) {
                const json_t *x = json_object_get(pt, keys[k]);
                if (k == 3 && !x) x = json_object_get(pt, "intensity");
                if (!x && k == 3) continue;
                if (number(x, &v[k])) {
                    rc = fail(LP_EINVAL, err, errlen, "JSON point cloud: %s[%zu].%s is %s", path, j,
                              keys[k], x ? "not a number" : "missing");
                    goto done;
                }
                if (k == 3) out->has_intensity = 1;
            }
        } else {
            rc = fail(LP_EINVAL, err, errlen, "JSON point cloud: %s[%zu] is not a point", path, j);
            goto done;
        }
        sink_push(&s, v[0], v[1], v[2], v[3]);
    }
done:
    json_decref(root);
    return rc;
}

/* ---- Entry ------------------------------------------------------------ */

int lp_pointcloud_parse(const char *data, size_t len, size_t max, lp_points *out, char *err,
                        size_t errlen)
{
    size_t k = 0;
    int rc;
    memset(out, 0, sizeof *out);
    if (errlen) err[0] = '\0';
    while (k < len && is_space(data[k])) k++;
    if (len >= 3 && memcmp(data, "ply", 3) == 0 && (len == 3 || is_space(data[3])))
        rc = parse_ply(data, len, max, out, err, errlen);
    else if (k < len && (data[k] == '{' || data[k] == '['))
        rc = parse_json(data, len, max, out, err, errlen);
    else if (k < len && (data[k] == '#' || (len - k >= 7 && !memcmp(data + k, "VERSION", 7)) ||
                         (len - k >= 6 && !memcmp(data + k, "FIELDS", 6))))
        rc = parse_pcd(data, len, max, out, err, errlen);
    else
        rc = fail(LP_EINVAL, err, errlen,
                  "not a point cloud: expected a PCD header, \"ply\" or JSON with points");
    if (rc) {
        lp_points_fini(out);
        return rc;
    }
    sink_end(out);
    return 0;
}

void lp_points_fini(lp_points *p)
{
    if (!p) return;
    free(p->xyzi);
    memset(p, 0, sizeof *p);
}
