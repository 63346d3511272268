/* rle.c -- see rle.h. */
#include "rle.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void push(lp_rle *r, size_t *cap, uint32_t v)
{
    if (r->n == *cap) r->counts = lp_realloc(r->counts, (*cap = *cap ? 2 * *cap : 16) * 4);
    r->counts[r->n++] = v;
}

int lp_rle_decode_string(const char *s, lp_rle *out)
{
    size_t cap = 0;
    out->counts = NULL;
    out->n = 0;
    for (size_t p = 0; s[p];) {
        int64_t x = 0;
        int k = 0, more = 1;
        while (more) {
            /* A count or a difference of counts fits 33 signed bits: 7 groups of 5. */
            if (!s[p] || k >= 7) return -1; /* cut short, or longer than any count */
            int c = (unsigned char)s[p] - 48;
            if (c < 0 || c > 63) return -1;
            x |= (int64_t)(c & 0x1f) << (5 * k);
            more = c & 0x20;
            p++, k++;
            if (!more && (c & 0x10)) x -= (int64_t)1 << (5 * k); /* negative */
        }
        if (out->n > 2) x += out->counts[out->n - 2];
        if (x < 0 || x > UINT32_MAX) return -1;
        push(out, &cap, (uint32_t)x);
    }
    return 0;
}

char *lp_rle_encode_string(const lp_rle *r)
{
    lp_buf b = {0};
    lp_buf_reserve(&b, r->n * 2 + 1);
    for (size_t i = 0; i < r->n; i++) {
        int64_t x = r->counts[i];
        if (i > 2) x -= r->counts[i - 2];
        int more = 1;
        while (more) {
            int c = (int)(x & 0x1f);
            x >>= 5; /* arithmetic: a negative x ends at -1 */
            more = (c & 0x10) ? x != -1 : x != 0;
            if (more) c |= 0x20;
            char ch = (char)(c + 48);
            lp_buf_append(&b, &ch, 1);
        }
    }
    lp_buf_append(&b, "", 1);
    return b.data;
}

int lp_rle_from_coco(const json_t *seg, lp_rle *out, char *why, size_t len)
{
    memset(out, 0, sizeof *out);
    const json_t *size = json_object_get(seg, "size"), *counts = json_object_get(seg, "counts");
    json_int_t h = json_integer_value(json_array_get(size, 0));
    json_int_t w = json_integer_value(json_array_get(size, 1));
    if (!json_is_array(size) || json_array_size(size) != 2 ||
        !json_is_integer(json_array_get(size, 0)) || !json_is_integer(json_array_get(size, 1)) ||
        h <= 0 || w <= 0) {
        snprintf(why, len, "an RLE mask's size must be [height, width], two positive integers");
        return -1;
    }
    /* Each side first: their product could wrap around 64 bits. */
    if ((uint64_t)h > LP_RLE_MAX_PIXELS || (uint64_t)w > LP_RLE_MAX_PIXELS ||
        (uint64_t)h * (uint64_t)w > LP_RLE_MAX_PIXELS) {
        snprintf(why, len, "an RLE mask of %lld x %lld pixels is larger than Loupe reads",
                 (long long)w, (long long)h);
        return -1;
    }
    out->height = (uint32_t)h, out->width = (uint32_t)w;
    if (json_is_string(counts)) {
        if (lp_rle_decode_string(json_string_value(counts), out) < 0) {
            lp_rle_fini(out);
            snprintf(why, len, "an RLE mask's counts string is malformed");
            return -1;
        }
    } else if (json_is_array(counts)) {
        size_t i, cap = 0;
        const json_t *v;
        json_array_foreach(counts, i, v)
        {
            json_int_t c = json_integer_value(v);
            if (!json_is_integer(v) || c < 0 || c > UINT32_MAX) {
                lp_rle_fini(out);
                snprintf(why, len, "an RLE mask's counts[%zu] is not a count", i);
                return -1;
            }
            push(out, &cap, (uint32_t)c);
        }
    } else {
        snprintf(why, len, "an RLE mask's counts must be a list of numbers or a string");
        return -1;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < out->n; i++) sum += out->counts[i];
    if (sum != (uint64_t)h * (uint64_t)w) {
        snprintf(why, len, "an RLE mask's counts add up to %llu pixels, not %lld x %lld",
                 (unsigned long long)sum, (long long)h, (long long)w);
        lp_rle_fini(out);
        return -1;
    }
    return 0;
}

unsigned char *lp_rle_to_mask(const lp_rle *r)
{
    size_t w = r->width, h = r->height;
    unsigned char *m = lp_calloc(w * h + 1, 1);
    size_t pos = 0; /* column-major */
    for (size_t i = 0; i < r->n; i++) {
        size_t end = pos + r->counts[i];
        if (i % 2)
            for (size_t p = pos; p < end && p < w * h; p++) m[(p % h) * w + p / h] = 1;
        pos = end;
    }
    return m;
}

void lp_rle_from_mask(const unsigned char *mask, uint32_t width, uint32_t height, lp_rle *out)
{
    size_t cap = 0;
    out->width = width, out->height = height;
    out->counts = NULL, out->n = 0;
    unsigned char cur = 0;
    uint32_t run = 0;
    /* Down each column (no division a pixel: it cost 3.5x the walk). */
    for (uint32_t x = 0; x < width; x++)
        for (const unsigned char *p = mask + x, *end = p + (size_t)height * width; p < end;
             p += width) {
            unsigned char v = *p != 0;
            if (v != cur) {
                push(out, &cap, run);
                run = 0, cur = v;
            }
            run++;
        }
    push(out, &cap, run);
}

/* Direction d: 0 right, 1 down, 2 left, 3 up (y grows downwards). */
static const int dx[4] = {1, 0, -1, 0}, dy[4] = {0, 1, 0, -1};

typedef struct grid {
    const uint32_t *label;
    long w, h;   /* the box of the set pixels the grid covers */
    long x0, y0; /* its top-left pixel in the mask */
    uint32_t id;
} grid;

static int inside(const grid *g, long x, long y)
{
    return x >= 0 && y >= 0 && x < g->w && y < g->h && g->label[y * g->w + x] == g->id;
}

/* Walks the outer outline of region g->id from the top-left corner of its
 * first pixel (x0, y0), keeping the region on the right, and returns its
 * corners (in the mask's coordinates).  At each corner the pixel ahead on
 * the right decides: outside, turn right; inside with the one ahead on the
 * left inside too, turn left; else go on.  Diagonal neighbours are thus
 * not joined (4-connectivity). */
static json_t *trace(const grid *g, long x0, long y0)
{
    json_t *poly = json_array();
    json_array_append_new(poly, json_pack("{s:I, s:I}", "x", (json_int_t)(x0 + g->x0), "y",
                                          (json_int_t)(y0 + g->y0)));
    long x = x0 + 1, y = y0, steps = 0, most = 2 * (g->w + 1) * (g->h + 1);
    int d = 0;
    while (!(x == x0 && y == y0) && steps++ < most) { /* (a bound it never reaches) */
        long arx, ary, alx, aly; /* the pixels ahead on the right and on the left */
        switch (d) {
        case 0: arx = x, ary = y, alx = x, aly = y - 1; break;
        case 1: arx = x - 1, ary = y, alx = x, aly = y; break;
        case 2: arx = x - 1, ary = y - 1, alx = x - 1, aly = y; break;
        default: arx = x, ary = y - 1, alx = x - 1, aly = y - 1; break;
        }
        int nd = d;
        if (!inside(g, arx, ary))
            nd = (d + 1) % 4;
        else if (inside(g, alx, aly))
            nd = (d + 3) % 4;
        if (nd != d)
            json_array_append_new(poly, json_pack("{s:I, s:I}", "x", (json_int_t)(x + g->x0), "y",
                                                  (json_int_t)(y + g->y0)));
        d = nd;
        x += dx[d], y += dy[d];
    }
    return poly;
}

/* Only the box of the set pixels is expanded, 9 bytes a pixel (a byte of
 * mask, a label and a stack slot of 4), so a mask of mostly background
 * costs its regions, not its size. */
int lp_rle_outlines(const lp_rle *r, json_t **out)
{
    uint32_t box[4];
    lp_rle_bbox(r, box);
    *out = NULL;
    if ((uint64_t)box[2] * box[3] > LP_RLE_MAX_OUTLINE_PIXELS) return -1;
    long w = box[2], h = box[3];
    uint64_t mh = r->height, total = (uint64_t)r->width * r->height;
    size_t np = (size_t)(w * h);
    unsigned char *m = lp_calloc(np + 1, 1);
    uint64_t pos = 0; /* column-major in the mask; every set pixel is in the box */
    for (size_t i = 0; i < r->n && pos < total; i++) {
        uint64_t end = pos + r->counts[i];
        if (end > total) end = total;
        if (i % 2)
            for (uint64_t p = pos; p < end; p++)
                m[(size_t)(p % mh - box[1]) * (size_t)w + (size_t)(p / mh - box[0])] = 1;
        pos = end;
    }
    uint32_t *label = lp_calloc(np + 1, sizeof *label);
    uint32_t *stack = lp_malloc((np + 1) * sizeof *stack);
    json_t *polys = json_array();
    uint32_t next = 0;
    for (long y = 0; y < h; y++)
        for (long x = 0; x < w; x++) {
            uint32_t p = (uint32_t)(y * w + x);
            if (!m[p] || label[p]) continue;
            /* Label the region (4-connected), then outline it. */
            uint32_t id = ++next;
            size_t top = 0;
            label[p] = id;
            stack[top++] = p;
            while (top) {
                uint32_t q = stack[--top];
                long qx = (long)q % w, qy = (long)q / w;
                long nb[4] = {qx > 0 ? (long)q - 1 : -1, qx + 1 < w ? (long)q + 1 : -1,
                              qy > 0 ? (long)q - w : -1, qy + 1 < h ? (long)q + w : -1};
                for (int k = 0; k < 4; k++)
                    if (nb[k] >= 0 && m[nb[k]] && !label[nb[k]]) {
                        label[nb[k]] = id;
                        stack[top++] = (uint32_t)nb[k];
                    }
            }
            grid g = {label, w, h, box[0], box[1], id};
            json_array_append_new(polys, trace(&g, x, y));
        }
    free(stack);
    free(label);
    free(m);
    *out = polys;
    return 0;
}

uint64_t lp_rle_area(const lp_rle *r)
{
    uint64_t a = 0;
    for (size_t i = 1; i < r->n; i += 2) a += r->counts[i];
    return a;
}

/* A run of 1s within one column spans its rows; a run across columns holds
 * the bottom of the first and the top of the next, so every row. */
void lp_rle_bbox(const lp_rle *r, uint32_t box[4])
{
    uint64_t pos = 0, h = r->height;
    uint32_t x0 = UINT32_MAX, y0 = UINT32_MAX, x1 = 0, y1 = 0;
    for (size_t i = 0; i < r->n; i++) {
        uint64_t end = pos + r->counts[i];
        if (i % 2 && r->counts[i] && h) {
            uint32_t cs = (uint32_t)(pos / h), ce = (uint32_t)((end - 1) / h);
            uint32_t ys = cs == ce ? (uint32_t)(pos % h) : 0;
            uint32_t ye = cs == ce ? (uint32_t)((end - 1) % h) : (uint32_t)(h - 1);
            if (cs < x0) x0 = cs;
            if (ce > x1) x1 = ce;
            if (ys < y0) y0 = ys;
            if (ye > y1) y1 = ye;
        }
        pos = end;
    }
    if (x0 == UINT32_MAX) {
        box[0] = box[1] = box[2] = box[3] = 0;
        return;
    }
    box[0] = x0, box[1] = y0, box[2] = x1 - x0 + 1, box[3] = y1 - y0 + 1;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int lp_rle_fill_polygon(unsigned char *mask, uint32_t width, uint32_t height, const double *xy,
                        size_t n, unsigned char value)
{
    for (size_t k = 0; k < 2 * n; k++)
        if (!(fabs(xy[k]) <= LP_RLE_MAX_COORD)) return -1; /* NaN too */
    if (n < 3) return 0;
    double lo = xy[1], hi = xy[1];
    for (size_t k = 1; k < n; k++) {
        if (xy[2 * k + 1] < lo) lo = xy[2 * k + 1];
        if (xy[2 * k + 1] > hi) hi = xy[2 * k + 1];
    }
    /* The rows scanned, within [0, height] before any cast. */
    lo = lo < 0 ? 0 : lo > height ? height : floor(lo);
    hi = hi < 0 ? 0 : hi > height ? height : ceil(hi);
    double *xs = lp_malloc(n * sizeof *xs);
    for (long y = (long)lo, y1 = (long)hi; y < y1; y++) {
        double yc = y + 0.5;
        size_t m = 0;
        for (size_t k = 0; k < n; k++) {
            double ax = xy[2 * k], ay = xy[2 * k + 1];
            double bx = xy[2 * ((k + 1) % n)], by = xy[2 * ((k + 1) % n) + 1];
            if ((ay <= yc && yc < by) || (by <= yc && yc < ay))
                xs[m++] = ax + (yc - ay) * (bx - ax) / (by - ay); /* finite: |v| <= 2^31 */
        }
        qsort(xs, m, sizeof *xs, by_value);
        for (size_t k = 0; k + 1 < m; k += 2) {
            double a = ceil(xs[k] - 0.5), b = ceil(xs[k + 1] - 0.5);
            long from = a < 0 ? 0 : a > width ? (long)width : (long)a;
            long to = b < 0 ? 0 : b > width ? (long)width : (long)b;
            for (long x = from; x < to; x++) mask[(size_t)y * width + (size_t)x] = value;
        }
    }
    free(xs);
    return 0;
}

/* Gives the pixels [start, end) to label v (> 0) of lp_rle_from_labels. */
static void label_run(lp_rle *out, size_t *cap, uint32_t *last, unsigned v, uint32_t start,
                      uint32_t end)
{
    if (!v) return;
    lp_rle *r = &out[v - 1];
    if (r->n && last[v] == start) {
        r->counts[r->n - 1] += end - start;
    } else {
        push(r, &cap[v], start - last[v]);
        push(r, &cap[v], end - start);
    }
    last[v] = end;
}

void lp_rle_from_labels(const unsigned char *map, uint32_t width, uint32_t height, size_t nlabels,
                        lp_rle *out)
{
    size_t *cap = lp_calloc(nlabels + 1, sizeof *cap);
    uint32_t *last = lp_calloc(nlabels + 1, sizeof *last); /* where v's last run of 1s ends */
    for (size_t v = 0; v < nlabels; v++)
        out[v] = (lp_rle){.height = height, .width = width, .counts = NULL, .n = 0};
    uint32_t pos = 0, start = 0;
    unsigned cur = 0;
    for (uint32_t x = 0; x < width; x++)
        for (uint32_t y = 0; y < height; y++, pos++) {
            unsigned v = map[(size_t)y * width + x];
            if (v > nlabels) v = 0;
            if (v == cur) continue;
            label_run(out, cap, last, cur, start, pos);
            cur = v, start = pos;
        }
    label_run(out, cap, last, cur, start, pos);
    for (size_t v = 1; v <= nlabels; v++)
        if (out[v - 1].n && last[v] < pos) push(&out[v - 1], &cap[v], pos - last[v]);
    free(last);
    free(cap);
}

void lp_rle_fini(lp_rle *r)
{
    free(r->counts);
    r->counts = NULL;
    r->n = 0;
}
