/* server.c -- starting and stopping one Loupe server (see server.h). */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "audit.h"
#include "backup.h"
#include "generate.h"
#include "learner.h"
#include "mlbackend.h"
#include "outbound.h"
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
    s->db_lock = -1;
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
    /* Locked before it is opened (after, for a new file), so that a restore
     * never renames a file over the database between the two. */
    rc = lp_backup_lock_shared(cfg->db, &s->db_lock, errmsg);
    if (rc < 0) return rc;
    rc = lp_db_pool_new(cfg->db, (int)cfg->threads + 1, &s->pool, errmsg);
    if (rc < 0) return rc;
    if (s->db_lock < 0 && (rc = lp_backup_lock_shared(cfg->db, &s->db_lock, errmsg)) < 0) return rc;
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
        .audit = lp_audit_record,
        .after = lp_api_after,
        .completed = on_completed,
    };
    lp_outbound_set_allow_private(cfg->allow_private_outbound != 0);
    rc = lp_learner_start(s->pool, cfg->learn_ms, &s->learner);
    if (rc < 0) {
        *errmsg = lp_strdup("cannot start the built-in model's thread");
        return rc;
    }
    rc = lp_mlb_start(s->pool, cfg->ml_poll_ms, cfg->ml_retry_ms, &s->mlb);
    if (rc < 0) {
        *errmsg = lp_strdup("cannot start the ML backends' thread");
        return rc;
    }
    rc = lp_gen_start(s->pool, cfg->ml_poll_ms, cfg->ml_retry_ms, &s->gen);
    if (rc < 0) {
        *errmsg = lp_strdup("cannot start the generation thread");
        return rc;
    }
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
    lp_mlb_stop(s->mlb); /* calls in flight are abandoned */
    s->mlb = NULL;
    lp_gen_stop(s->gen); /* likewise */
    s->gen = NULL;
    lp_learner_stop(s->learner);
    s->learner = NULL;
    lp_db_pool_free(s->pool);
    s->pool = NULL;
    if (s->db_lock >= 0) close(s->db_lock);
    s->db_lock = -1;
    free(s->files_dir);
    free(s->web_dir);
    pthread_mutex_destroy(&s->login_mu);
}

/* The demo: one small project per kind of task that needs no media, so a
 * new user sees each editor at once.  Each entry is a project (as POST
 * /v1/projects takes it) and its tasks (a JSON array, as bulk import takes
 * it). */
static const struct {
    const char *project, *tasks;
} demo[] = {
    {"{\"name\": \"Demo: review sentiment\", \"kind\": \"categorization\", \"overlap\": 3,"
     " \"params\": {\"labels\": [\"positive\", \"negative\", \"neutral\"],"
     "  \"instructions\": \"Pick the sentiment the writer expresses about the film.\"}}",
     "["
     "{\"unique_id\": \"demo-1\", \"attachments\": [{\"type\": \"text\", \"content\":"
     "  \"A gorgeous, patient film that earns every minute of its running time.\"}]},"
     "{\"unique_id\": \"demo-2\", \"attachments\": [{\"type\": \"text\", \"content\":"
     "  \"The plot collapses under its own weight long before the end.\"}]},"
     "{\"unique_id\": \"demo-3\", \"attachments\": [{\"type\": \"text\", \"content\":"
     "  \"It is a movie. Things happen in it, in roughly the order you expect.\"}]},"
     "{\"unique_id\": \"demo-4\", \"attachments\": [{\"type\": \"text\", \"content\":"
     "  \"The performances are superb, even when the script lets them down.\"}]},"
     "{\"unique_id\": \"demo-5\", \"attachments\": [{\"type\": \"text\", \"content\":"
     "  \"I checked my watch more often than I watched the screen.\"}]}]"},
    {"{\"name\": \"Demo: people and places\", \"kind\": \"namedentityrecognition\","
     " \"params\": {\"labels\": [\"PER\", \"LOC\", \"ORG\"], \"relations\": [\"lives_in\", "
     "\"works_for\"],"
     "  \"instructions\": \"Mark every person (PER), place (LOC) and organisation (ORG). "
     "Relate a person to where they live and whom they work for.\"}}",
     "["
     "{\"data\": {\"text\": \"Zoë Martin lives in Zürich and works for the Red Cross.\"}},"
     "{\"data\": {\"text\": \"After leaving Lagos, Chidi joined Acme Robotics in Berlin.\"}},"
     "{\"data\": {\"text\": \"Ana and João met in Lisbon while studying at the Universidade de "
     "Lisboa.\"}}]"},
    {"{\"name\": \"Demo: which answer is better\", \"kind\": \"comparison\","
     " \"params\": {\"strength\": true, \"aspects\": [\"accuracy\", \"clarity\"],"
     "  \"instructions\": \"Read the prompt and both answers. Pick the better one, say by how "
     "much, and judge each aspect.\"}}",
     "["
     "{\"data\": {\"prompt\": \"Explain recursion to a child.\", \"responses\": ["
     "  {\"id\": \"a\", \"text\": \"Recursion is when a function calls itself until a base case "
     "stops it.\"},"
     "  {\"id\": \"b\", \"text\": \"Imagine a set of **nesting dolls**: you open each doll to find "
     "a smaller one, until the smallest cannot open.\"}]}},"
     "{\"data\": {\"prompt\": \"How do I reverse a list in Python?\", \"responses\": ["
     "  {\"id\": \"a\", \"text\": \"Use slicing:\\n\\n```python\\nitems[::-1]\\n```\\n\\nor "
     "`items.reverse()` to reverse in place.\"},"
     "  {\"id\": \"b\", \"text\": \"Write a loop that swaps the first and last items, moving "
     "inwards.\"}]}}]"},
    {"{\"name\": \"Demo: rank the answers\", \"kind\": \"ranking\", \"params\": {\"allow_ties\": "
     "true,"
     "  \"instructions\": \"Order the answers from best to worst. Equally good answers may share "
     "a rank.\"}}",
     "["
     "{\"data\": {\"prompt\": \"Name a fruit that is yellow when ripe.\","
     "  \"responses\": [\"Banana\", \"Carrot\", \"Lemon\", \"Blueberry\"]}}]"},
    {"{\"name\": \"Demo: rate the reply\", \"kind\": \"rating\","
     " \"params\": {\"criteria\": [{\"name\": \"helpfulness\", \"labels\": [\"useless\", \"poor\", "
     "\"ok\", \"good\", \"excellent\"]},"
     "  {\"name\": \"harmlessness\", \"min\": 0, \"max\": 1, \"step\": 0.5, \"required\": false}],"
     "  \"instructions\": \"Rate the reply to the prompt.\"}}",
     "["
     "{\"data\": {\"prompt\": \"How do I boil an egg?\", \"response\": \"Put it in boiling water "
     "for 8 minutes, then cool it in cold water.\"}},"
     "{\"data\": {\"prompt\": \"What is the capital of Australia?\", \"response\": "
     "\"Sydney.\"}}]"},
    {"{\"name\": \"Demo: write a demonstration\", \"kind\": \"textcollection\","
     " \"params\": {\"fields\": [{\"name\": \"instruction\", \"min_length\": 10},"
     "  {\"name\": \"answer\", \"min_length\": 20, \"max_length\": 2000}],"
     "  \"instructions\": \"Write an instruction a user might give about the topic, and a "
     "model answer to it.\"}}",
     "["
     "{\"data\": {\"topic\": \"photosynthesis\"}},"
     "{\"data\": {\"topic\": \"how vaccines work\"}}]"},
};

/* Creates one demo project, owned by uid, with its tasks, in one
 * transaction. */
static int seed_demo_project(lp_db *db, int64_t uid, const char *project, const char *tasks)
{
    json_t *body = json_loads(project, 0, NULL);
    json_t *list = json_loads(tasks, 0, NULL);
    lp_verr e = {0};
    int64_t pid, tid;
    lp_project *p = NULL;
    int rc = body && json_is_array(list) ? 0 : LP_EINVAL;
    if (rc == 0) rc = lp_project_save(db, body, uid, &pid, &e);
    if (rc == 0) rc = lp_project_get(db, pid, &p);
    if (rc == 0) {
        lp_task_writer w;
        lp_task_writer_init(&w, db, p);
        rc = lp_db_begin(db, LP_TX_WRITE);
        size_t i;
        json_t *t;
        json_array_foreach(list, i, t)
        {
            if (rc == 0) rc = lp_task_writer_add(&w, t, &tid, &e);
        }
        if (rc == 0) rc = lp_task_writer_flush(&w);
        if (rc == 0)
            rc = lp_db_commit(db);
        else
            lp_db_rollback(db);
        lp_task_writer_fini(&w);
    }
    if (rc < 0)
        lp_log(LP_LOG_ERROR, "demo project %s: %s %s", project, e.field,
               e.message[0] ? e.message : lp_strerror(rc));
    lp_project_free(p);
    json_decref(body);
    json_decref(list);
    return rc;
}

int lp_server_seed_demo(lp_db *db, const char *listen)
{
    int64_t n = 0;
    int rc = lp_db_int64(db, &n, "SELECT COUNT(*) FROM users", NULL);
    if (rc < 0 || n > 0) return rc;
    char password[LP_TOKEN_MAX], key[LP_TOKEN_MAX];
    lp_auth_token_new("", password);
    password[16] = '\0';
    int64_t uid;
    rc = lp_user_create(db, "admin@example.com", "Admin", 1, password, &uid);
    if (rc == 0) rc = lp_key_create(db, uid, "demo", NULL, key, NULL);
    for (size_t d = 0; rc == 0 && d < LP_ARRAY_LEN(demo); d++)
        rc = seed_demo_project(db, uid, demo[d].project, demo[d].tasks);
    if (rc < 0) return rc;
    printf("\n  Loupe demo is ready: open http://%s/ in a browser; the API is at /v1 "
           "(docs/API.md)\n"
           "    admin login:  admin@example.com / %s\n"
           "    API key:      %s\n"
           "    try:          curl -H 'Authorization: Bearer %s' http://%s/v1/projects\n\n",
           listen, password, key, key, listen);
    fflush(stdout);
    return 0;
}
