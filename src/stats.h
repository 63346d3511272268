/* stats.h -- a project's progress figures for its manager's dashboard
 * (GET /v1/projects/{id}/stats): tasks by status, throughput per hour or
 * day, how often each label is given, and the time a task takes. */
#ifndef LP_STATS_H
#define LP_STATS_H

#include <jansson.h>
#include <stdint.h>

#include "db.h"
#include "project.h"
#include "valid.h"

#define LP_STATS_HOUR_MS     (3600LL * 1000)
#define LP_STATS_DAY_MS      (24 * LP_STATS_HOUR_MS)
#define LP_STATS_MAX_BUCKETS 1000

/* The window of the throughput: events at since <= t < until, counted in
 * the buckets of bucket_ms (UTC hours or days) from first_ms, the start of
 * the bucket that holds since, n of them. */
typedef struct lp_stats_range {
    const char *bucket; /* "hour" or "day" (static) */
    int64_t bucket_ms, since, until, first_ms;
    int64_t n;
} lp_stats_range;

/* Reads the request's words into r: bucket "hour" or "day" (NULL: day),
 * since and until as RFC 3339 times (NULL: until is now, since the start
 * of the 30th day or 48th hour back, so that the last bucket is the one
 * now is in).  LP_EINVAL with e naming the field for a word it does not
 * know, since not before until, or more than LP_STATS_MAX_BUCKETS
 * buckets. */
int lp_stats_range_parse(lp_stats_range *r, const char *bucket, const char *since,
                         const char *until, int64_t now, lp_verr *e);

/* {"counts", "throughput", "labels", "time_per_task"} for project p over
 * r (see docs/API.md); *out is new.  Reads with aggregate queries, and
 * streams the responses it has to parse for labels. */
int lp_stats_project(lp_db *db, const lp_project *p, const lp_stats_range *r, json_t **out);

#endif
