/* metrics.c -- see metrics.h.  Status codes outside the fixed list are
 * counted under their class ("2xx" ... "5xx"). */
#include "metrics.h"

#include <stdio.h>

static const unsigned codes[LP_METRIC_CODES] = {200, 201, 204, 206, 304, 400, 401, 403, 404, 405,
                                                409, 413, 415, 422, 429, 500, 503, 507, 0};
static const double bounds_ms[LP_METRIC_BUCKETS] = {0.25, 0.5, 1,   2.5, 5,    10,
                                                    25,   50,  100, 250, 1000, 5000};

static int code_index(unsigned status)
{
    for (int i = 0; i < LP_METRIC_CODES - 1; i++)
        if (codes[i] == status) return i;
    return LP_METRIC_CODES - 1;
}

void lp_metrics_record(lp_metrics *m, int route, unsigned status, uint64_t ns)
{
    int r = route < 0 || route >= LP_METRIC_ROUTES - 1 ? LP_METRIC_ROUTES - 1 : route;
    atomic_fetch_add_explicit(&m->requests[r][code_index(status)], 1, memory_order_relaxed);
    double ms = (double)ns / 1e6;
    int b = 0;
    while (b < LP_METRIC_BUCKETS && ms > bounds_ms[b]) b++;
    atomic_fetch_add_explicit(&m->buckets[r][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us[r], ns / 1000, memory_order_relaxed);
}

void lp_metrics_write(lp_metrics *m, const char *const *route_names, const char *const *methods,
                      int nroutes, lp_buf *out)
{
    lp_buf_puts(out, "# HELP loupe_http_requests_total HTTP requests by route and status.\n"
                     "# TYPE loupe_http_requests_total counter\n");
    for (int r = 0; r < LP_METRIC_ROUTES; r++) {
        if (r >= nroutes && r != LP_METRIC_ROUTES - 1) continue;
        const char *name = r < nroutes ? route_names[r] : "unmatched";
        const char *method = r < nroutes ? methods[r] : "";
        for (int c = 0; c < LP_METRIC_CODES; c++) {
            uint64_t n = atomic_load(&m->requests[r][c]);
            if (!n) continue;
            char code[16];
            if (codes[c])
                snprintf(code, sizeof code, "%u", codes[c]);
            else
                snprintf(code, sizeof code, "other");
            lp_buf_printf(
                out, "loupe_http_requests_total{method=\"%s\",route=\"%s\",status=\"%s\"} %llu\n",
                method, name, code, (unsigned long long)n);
        }
    }
    lp_buf_puts(out, "# HELP loupe_http_request_duration_seconds Time to answer a request.\n"
                     "# TYPE loupe_http_request_duration_seconds histogram\n");
    for (int r = 0; r < LP_METRIC_ROUTES; r++) {
        if (r >= nroutes && r != LP_METRIC_ROUTES - 1) continue;
        uint64_t total = 0;
        for (int b = 0; b <= LP_METRIC_BUCKETS; b++) total += atomic_load(&m->buckets[r][b]);
        if (!total) continue;
        const char *name = r < nroutes ? route_names[r] : "unmatched";
        const char *method = r < nroutes ? methods[r] : "";
        uint64_t cum = 0;
        for (int b = 0; b <= LP_METRIC_BUCKETS; b++) {
            cum += atomic_load(&m->buckets[r][b]);
            if (b < LP_METRIC_BUCKETS)
                lp_buf_printf(out,
                              "loupe_http_request_duration_seconds_bucket{method=\"%s\",route=\"%"
                              "s\",le=\"%g\"} %llu\n",
                              method, name, bounds_ms[b] / 1000, (unsigned long long)cum);
            else
                lp_buf_printf(out,
                              "loupe_http_request_duration_seconds_bucket{method=\"%s\",route=\"%"
                              "s\",le=\"+Inf\"} %llu\n",
                              method, name, (unsigned long long)cum);
        }
        lp_buf_printf(out,
                      "loupe_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n",
                      method, name, (double)atomic_load(&m->sum_us[r]) / 1e6);
        lp_buf_printf(
            out, "loupe_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n",
            method, name, (unsigned long long)total);
    }
}
