/* metrics.h -- request counters and latency histograms for /metrics.
 *
 * Lock-free: every cell is an atomic counter indexed by route and status
 * class, so recording a request costs a few atomic adds. */
#ifndef LP_METRICS_H
#define LP_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "util.h"

#define LP_METRIC_ROUTES  128 /* route table entries, plus one for "unmatched" */
#define LP_METRIC_CODES   19
#define LP_METRIC_BUCKETS 12

typedef struct lp_metrics {
    atomic_uint_fast64_t requests[LP_METRIC_ROUTES][LP_METRIC_CODES];
    atomic_uint_fast64_t buckets[LP_METRIC_ROUTES][LP_METRIC_BUCKETS + 1]; /* last: +Inf */
    atomic_uint_fast64_t sum_us[LP_METRIC_ROUTES];
    int64_t started_ms;
} lp_metrics;

/* route: index into the route table, or -1 when no route matched. */
void lp_metrics_record(lp_metrics *m, int route, unsigned status, uint64_t ns);
/* Appends the Prometheus text exposition of the request metrics to out. */
void lp_metrics_write(lp_metrics *m, const char *const *route_names, const char *const *methods,
                      int nroutes, lp_buf *out);

#endif
