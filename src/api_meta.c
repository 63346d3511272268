/* api_meta.c -- /healthz, /metrics and /v1/kinds. */
#include <stdio.h>

#include "api.h"
#include "convert.h"
#include "export.h"
#include "kind.h"
#include "project.h"

int lp_api_healthz(lp_req *req)
{
    int64_t one = 0;
    int rc = lp_db_int64(req->db, &one, "SELECT 1", NULL);
    if (rc < 0)
        return lp_reply_error(req, 503, "unavailable", NULL, "database: %s", lp_db_errmsg(req->db));
    return lp_reply_json(
        req, 200, json_pack("{s:s, s:s}", "status", "ok", "database", lp_db_scheme(req->db)));
}

int lp_api_metrics(lp_req *req)
{
    const char *names[LP_METRIC_ROUTES], *methods[LP_METRIC_ROUTES];
    int n = (int)lp_api_nroutes < LP_METRIC_ROUTES - 1 ? (int)lp_api_nroutes : LP_METRIC_ROUTES - 1;
    for (int i = 0; i < n; i++) {
        names[i] = lp_api_routes[i].pattern;
        methods[i] = lp_api_routes[i].method;
    }
    lp_buf out = {0};
    lp_metrics_write(&req->srv->metrics, names, methods, n, &out);
    /* Tasks by status, summed over projects from the maintained counters. */
    lp_buf_puts(&out, "# HELP loupe_tasks Tasks by status.\n# TYPE loupe_tasks gauge\n");
    lp_stmt *st;
    if (lp_db_prepare(req->db, "SELECT status, SUM(n) FROM project_counts GROUP BY status", &st) ==
        0) {
        while (lp_stmt_step(st) == LP_DB_ROW)
            lp_buf_printf(&out, "loupe_tasks{status=\"%s\"} %lld\n", lp_stmt_text(st, 0),
                          (long long)lp_stmt_int64(st, 1));
        lp_stmt_done(st);
    }
    /* Group commit (a database whose pool batches and flushes writes). */
    if (lp_db_pool_single_writer(req->srv->pool)) {
        uint64_t syncs, commits, batches, batched;
        lp_db_pool_sync_stats(req->srv->pool, &syncs, &commits, &batches, &batched);
        lp_buf_printf(&out,
                      "# HELP loupe_db_commits_total Database commits made durable by a flush.\n"
                      "# TYPE loupe_db_commits_total counter\nloupe_db_commits_total %llu\n"
                      "# HELP loupe_db_syncs_total Flushes of the write-ahead log (each makes "
                      "every commit before it durable).\n"
                      "# TYPE loupe_db_syncs_total counter\nloupe_db_syncs_total %llu\n"
                      "# HELP loupe_db_batches_total Writer batches committed.\n"
                      "# TYPE loupe_db_batches_total counter\nloupe_db_batches_total %llu\n"
                      "# HELP loupe_db_batched_writes_total Write requests committed in writer "
                      "batches.\n"
                      "# TYPE loupe_db_batched_writes_total counter\n"
                      "loupe_db_batched_writes_total %llu\n",
                      (unsigned long long)commits, (unsigned long long)syncs,
                      (unsigned long long)batches, (unsigned long long)batched);
    }
    lp_buf_printf(&out,
                  "# HELP loupe_start_time_seconds When this process started.\n"
                  "# TYPE loupe_start_time_seconds gauge\nloupe_start_time_seconds %lld\n",
                  (long long)(req->srv->metrics.started_ms / 1000));
    return lp_reply_buf(req, 200, "text/plain; version=0.0.4", &out);
}

int lp_api_kinds(lp_req *req)
{
    size_t n;
    const lp_kind *const *all = lp_kind_all(&n);
    size_t nf;
    const lp_export_format *const *formats = lp_export_all(&nf);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *exports = json_array();
        for (size_t f = 0; f < nf; f++)
            if (lp_export_fits(formats[f], all[i]->name))
                json_array_append_new(exports, json_pack("{s:s, s:s}", "name", formats[f]->name,
                                                         "summary", formats[f]->summary));
        json_t *imports = json_array();
        for (const lp_converter *const *c = lp_converters(); *c; c++)
            if (lp_converter_fits(*c, all[i]->name))
                json_array_append_new(imports, json_pack("{s:s, s:s}", "name", (*c)->name,
                                                         "summary", (*c)->summary));
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:o}", "name", all[i]->name,
                                             "summary", all[i]->summary ? all[i]->summary : "",
                                             "exports", exports, "imports", imports));
    }
    return lp_reply_json(req, 200, json_pack("{s:o}", "items", arr));
}
