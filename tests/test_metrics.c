/* test_metrics.c -- the Prometheus exposition of request metrics. */
#include <stdlib.h>

#include "metrics.h"
#include "test.h"
#include "util.h"

TEST(metrics_count_by_route_status_and_bucket)
{
    lp_metrics *m = calloc(1, sizeof *m);
    lp_metrics_record(m, 0, 200, 300000);  /* 0.3 ms */
    lp_metrics_record(m, 0, 200, 3000000); /* 3 ms */
    lp_metrics_record(m, 1, 404, 100000);
    lp_metrics_record(m, -1, 599, 100000); /* unmatched route, unusual status */
    const char *names[] = {"/v1/tasks/{}", "/v1/projects"}, *methods[] = {"GET", "POST"};
    lp_buf out = {0};
    lp_metrics_write(m, names, methods, 2, &out);
    CHECK(strstr(
        out.data,
        "loupe_http_requests_total{method=\"GET\",route=\"/v1/tasks/{}\",status=\"200\"} 2\n"));
    CHECK(strstr(
        out.data,
        "loupe_http_requests_total{method=\"POST\",route=\"/v1/projects\",status=\"404\"} 1\n"));
    CHECK(strstr(out.data, "route=\"unmatched\",status=\"other\"} 1\n"));
    CHECK(strstr(out.data, "loupe_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/"
                           "tasks/{}\",le=\"0.0005\"} 1\n"));
    CHECK(strstr(out.data, "loupe_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/"
                           "tasks/{}\",le=\"0.005\"} 2\n"));
    CHECK(strstr(
        out.data,
        "loupe_http_request_duration_seconds_count{method=\"GET\",route=\"/v1/tasks/{}\"} 2\n"));
    lp_buf_fini(&out);
    free(m);
}
