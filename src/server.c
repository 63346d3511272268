/* server.c -- starting and stopping one Loupe server (see server.h). */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "outbox.h"
#include "auth.h"
#include "project.h"
#include "tasks.h"

static void on_completed(lp_req *req, uint64_t ns)
{
    lp_metrics_record(&req->srv->metrics, req->route_index, req->status, ns);
    if (lp_log_level <= LP_LOG_DEBUG)
        lp_log(LP_LOG_DEBUG, "%s %s %u %.3fms", req->method, req->path, req->status,
               (double)ns / 1e6);
}

int lp_server_start(lp_server *s, lp_config *cfg, char **errmsg)
{
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    s->metrics.started_ms = lp_now_ms();
    pthread_mutex_init(&s->login_mu, NULL);
    s->files_dir = lp_sprintf("%s/files", cfg->data_dir);
    if (mkdir(cfg->data_dir, 0755) < 0 && errno != EEXIST) {
        *errmsg =
            lp_sprintf("cannot create the data directory %s: %s", cfg->data_dir, strerror(errno));
        return LP_EIO;
    }
    mkdir(s->files_dir, 0755);
    s->web_dir = lp_ui_find_dir(cfg->web_dir);
    if (!s->web_dir)
        lp_log(LP_LOG_WARN, "no browser UI found (set --web-dir): serving the API only");
    int rc = lp_auth_init(cfg->data_dir, errmsg);
    if (rc < 0) return rc;
    rc = lp_db_pool_new(cfg->db, (int)cfg->threads + 1, &s->pool, errmsg);
    if (rc < 0) return rc;
    lp_db *db = lp_db_pool_get(s->pool);
    rc = lp_db_migrate(db);
    if (rc < 0) *errmsg = lp_sprintf("database migration failed: %s", lp_db_errmsg(db));
    if (rc == 0 && cfg->demo) rc = lp_server_seed_demo(db, cfg->listen);
    lp_db_pool_put(s->pool, db);
    if (rc < 0) {
        if (!*errmsg) *errmsg = lp_sprintf("cannot seed the demo project: %s", lp_strerror(rc));
        return rc;
    }
    lp_http_config hc = {
        .listen = cfg->listen,
        .threads = (int)cfg->threads,
        .body_limit = (size_t)cfg->body_limit_mb << 20,
        .bulk_limit = (size_t)cfg->bulk_limit_mb << 20,
        .stream_limit = (size_t)cfg->file_limit_mb << 20,
        .routes = lp_api_routes,
        .nroutes = lp_api_nroutes,
        .srv = s,
        .pool = s->pool,
        .authenticate = lp_api_authenticate,
        .completed = on_completed,
    };
    rc = lp_deliverer_start(s->pool, cfg->callback_retry_ms, cfg->callback_poll_ms, &s->deliverer);
    if (rc < 0) {
        *errmsg = lp_strdup("cannot start the callback delivery thread");
        return rc;
    }
    return lp_http_start(&hc, &s->http, errmsg);
}

void lp_server_stop(lp_server *s, int timeout_ms)
{
    lp_http_stop(s->http, timeout_ms);
    s->http = NULL;
    lp_deliverer_stop(s->deliverer); /* an attempt in flight finishes first */
    s->deliverer = NULL;
    lp_db_pool_free(s->pool);
    s->pool = NULL;
    free(s->files_dir);
    free(s->web_dir);
    pthread_mutex_destroy(&s->login_mu);
}

static const char *demo_project =
    "{\"name\": \"Demo: review sentiment\", \"kind\": \"categorization\","
    " \"params\": {\"labels\": [\"positive\", \"negative\", \"neutral\"],"
    "  \"instructions\": \"Pick the sentiment the writer expresses about the film.\"},"
    " \"overlap\": 3}";

static const char *demo_texts[] = {
    "A gorgeous, patient film that earns every minute of its running time.",
    "The plot collapses under its own weight long before the end.",
    "It is a movie. Things happen in it, in roughly the order you expect.",
    "The performances are superb, even when the script lets them down.",
    "I checked my watch more often than I watched the screen.",
};

int lp_server_seed_demo(lp_db *db, const char *listen)
{
    int64_t n = 0;
    int rc = lp_db_int64(db, &n, "SELECT COUNT(*) FROM users", NULL);
    if (rc < 0 || n > 0) return rc;
    char password[LP_TOKEN_MAX], key[LP_TOKEN_MAX];
    lp_auth_token_new("", password);
    password[16] = '\0';
    int64_t uid, pid, tid;
    rc = lp_user_create(db, "admin@example.com", "Admin", 1, password, &uid);
    if (rc == 0) rc = lp_key_create(db, uid, "demo", key, NULL);
    json_t *body = json_loads(demo_project, 0, NULL);
    lp_verr e;
    if (rc == 0) rc = lp_project_save(db, body, uid, &pid, &e);
    json_decref(body);
    lp_project *p = NULL;
    if (rc == 0) rc = lp_project_get(db, pid, &p);
    if (rc == 0) {
        lp_task_writer w;
        lp_task_writer_init(&w, db, p);
        rc = lp_db_begin(db, LP_TX_WRITE);
        for (size_t i = 0; rc == 0 && i < LP_ARRAY_LEN(demo_texts); i++) {
            char uid_text[32];
            snprintf(uid_text, sizeof uid_text, "demo-%zu", i + 1);
            json_t *t = json_pack("{s:[{s:s, s:s}], s:s}", "attachments", "type", "text", "content",
                                  demo_texts[i], "unique_id", uid_text);
            rc = lp_task_writer_add(&w, t, &tid, &e);
            json_decref(t);
        }
        if (rc == 0) rc = lp_task_writer_flush(&w);
        if (rc == 0)
            rc = lp_db_commit(db);
        else
            lp_db_rollback(db);
        lp_task_writer_fini(&w);
    }
    lp_project_free(p);
    if (rc < 0) return rc;
    printf("\n  Loupe demo is ready: the API is at http://%s/v1 (see docs/API.md)\n"
           "    admin login:  admin@example.com / %s\n"
           "    API key:      %s\n"
           "    try:          curl -H 'Authorization: Bearer %s' http://%s/v1/projects\n\n",
           listen, password, key, key, listen);
    fflush(stdout);
    return 0;
}
