/* taskgen.h -- the synthetic tasks both import benchmarks use.
 *
 * Measures nothing itself: it makes, from a row number alone, the columns
 * of one realistic categorization task -- a unique_id, one image attachment
 * URL, a small metadata object and one or two tags -- as the compact JSON
 * texts Loupe stores.  gen_tasks.c writes them as NDJSON for the HTTP
 * import; sqlite_raw.c binds the very same texts, so both sides store the
 * same bytes.  Tags come out sorted, as Loupe normalises them, and the
 * metadata keys in the order jansson keeps, so Loupe's re-encoding of a row
 * is byte-identical to what the reference inserts. */
#ifndef BENCH_TASKGEN_H
#define BENCH_TASKGEN_H

#include <stdio.h>

typedef struct taskgen_row {
    char unique_id[64];
    char attachments[160];
    char metadata[160];
    char tags[64];
} taskgen_row;

static const char *const taskgen_tags[] = {"blurry", "crowd",   "day",    "indoor",
                                           "night",  "outdoor", "street", "vehicle"};
static const char *const taskgen_splits[] = {"train", "train", "train", "val", "test"};

/* A cheap, fixed mixer so a row's content depends on its number only. */
static inline unsigned taskgen_mix(unsigned long long x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (unsigned)x;
}

static inline void taskgen_make(unsigned long long i, taskgen_row *r)
{
    unsigned h = taskgen_mix(i);
    snprintf(r->unique_id, sizeof r->unique_id, "img-%08llu", i);
    snprintf(r->attachments, sizeof r->attachments,
             "[{\"type\":\"image\",\"url\":\"https://cdn.example.com/datasets/street-scenes/"
             "%03u/%08llu.jpg\"}]",
             (unsigned)(i % 997), i);
    snprintf(r->metadata, sizeof r->metadata,
             "{\"source\":\"camera-%02u\",\"width\":%u,\"height\":%u,\"split\":\"%s\"}", h % 40,
             640u + 64u * (h >> 8 & 15u), 480u + 48u * (h >> 12 & 15u),
             taskgen_splits[(h >> 16) % 5]);
    unsigned a = (h >> 20) & 7u, b = (h >> 24) & 7u;
    if ((h >> 28) & 1u || a == b) {
        snprintf(r->tags, sizeof r->tags, "[\"%s\"]", taskgen_tags[a]);
    } else {
        if (a > b) {
            unsigned t = a;
            a = b;
            b = t;
        }
        snprintf(r->tags, sizeof r->tags, "[\"%s\",\"%s\"]", taskgen_tags[a], taskgen_tags[b]);
    }
}

/* Number of tags in r->tags and, if wanted, the i-th one (without quotes). */
static inline int taskgen_tag(const taskgen_row *r, int i, char *out, size_t n)
{
    int k = 0;
    for (const char *p = r->tags; *p; p++) {
        if (*p != '"') continue;
        const char *e = p + 1;
        while (*e && *e != '"') e++;
        if (k == i && out) snprintf(out, n, "%.*s", (int)(e - p - 1), p + 1);
        k++;
        p = e;
    }
    return k;
}

#endif
