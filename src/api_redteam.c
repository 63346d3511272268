/* api_redteam.c -- red teaming (kind_redteam.c):
 *
 *   POST /v1/assignments/{id}/chat           the next model turn, streamed
 *   GET  /v1/projects/{id}/redteam-report    attack success rates
 *
 * A chat sends the conversation so far (ending with the annotator's new
 * attack) to the project's model endpoint and streams the answer back as
 * server-sent events while the model writes it: "data: {"delta": ...}"
 * events, then one {"done": true, "content", "model", "latency_ms"} or
 * {"error"} event.  The call runs on a live reply's producer thread
 * (http.h), so no HTTP thread waits for the model; a client that leaves
 * cancels it.  Every turn, answered or failed, is recorded in chat_turns
 * with the messages sent, so a submitted transcript can be checked
 * against what the model really said.  The call is made once: a failure
 * is shown to the annotator, who may send the turn again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "endpoint.h"
#include "redteam.h"

/* A model turn in flight: the producer's, freed by chat_free. */
typedef struct chat {
    lp_db_pool *pool;
    lp_endpoint ep;
    json_t *sent; /* the messages sent, the system prompt first */
    int64_t assignment_id, task_id, project_id, user_id, turn;
    lp_live *live;
} chat;

static void chat_free(void *arg)
{
    chat *c = arg;
    lp_endpoint_fini(&c->ep);
    json_decref(c->sent);
    free(c);
}

/* Writes o (stolen) as one server-sent event. */
static void event(lp_live *live, json_t *o)
{
    char *s = o ? json_dumps(o, LP_JSON_DUMP) : NULL;
    json_decref(o);
    if (!s) return;
    lp_buf b = {0};
    lp_buf_printf(&b, "data: %s\n\n", s);
    lp_live_write(live, b.data, b.len);
    lp_buf_fini(&b);
    free(s);
}

static void on_delta(void *arg, const char *text, size_t n)
{
    chat *c = arg;
    if (n) event(c->live, json_pack("{s:s%}", "delta", text, n));
}

/* The producer: one streamed call, its record, the last event. */
static void chat_run(lp_live *live, void *arg)
{
    chat *c = arg;
    volatile int *cancel = lp_live_cancel(live);
    lp_endpoint_call call;
    c->live = live;
    int rc = lp_endpoint_chat_stream(&c->ep, c->sent, NULL, cancel, on_delta, c, &call);
    char err[700] = "";
    if (rc < 0)
        snprintf(err, sizeof err, "model endpoint \"%s\": %s", c->ep.name,
                 *cancel ? "cancelled (the client left or the server is stopping)"
                 : call.err[0] ? call.err
                               : lp_strerror(rc));
    const char *model = rc == 0 && call.reply.model[0] ? call.reply.model : c->ep.model;
    char *prompt = json_dumps(c->sent, LP_JSON_DUMP);
    lp_db *db = lp_db_pool_get(c->pool);
    int drc = lp_db_run(db,
                        "INSERT INTO chat_turns (assignment_id, task_id, project_id, user_id, turn,"
                        " prompt, content, model, latency_ms, error, created_at) VALUES (?, ?, ?,"
                        " ?, ?, ?, ?, ?, ?, ?, ?)",
                        "iiiiisssisi", c->assignment_id, c->task_id, c->project_id, c->user_id,
                        c->turn, prompt, rc == 0 ? call.reply.content : NULL, model,
                        call.latency_ms, rc < 0 ? err : NULL, lp_now_ms());
    if (drc < 0)
        lp_log(LP_LOG_ERROR, "assignment %lld: a chat turn could not be recorded: %s (%s)",
               (long long)c->assignment_id, lp_strerror(drc), lp_db_errmsg(db));
    lp_db_pool_put(c->pool, db);
    free(prompt);
    if (rc == 0)
        event(live, json_pack("{s:b, s:s, s:s, s:s, s:I, s:I}", "done", 1, "content",
                              call.reply.content ? call.reply.content : "", "model", model,
                              "endpoint", c->ep.name, "latency_ms", (json_int_t)call.latency_ms,
                              "turn", (json_int_t)c->turn));
    else
        event(live, json_pack("{s:s, s:b}", "error", err, "retryable", call.retryable));
    lp_llm_reply_fini(&call.reply);
}

/* Checks body.messages: user and assistant turns alternating from the
 * annotator's, ending with a new attack, at most max_turns of them; *turn
 * receives the number of user turns. */
static int check_messages(const json_t *b, long long max_turns, int64_t *turn, lp_verr *e)
{
    static const char *const keys[] = {"messages", NULL};
    static const char *const roles[] = {"user", "assistant", NULL};
    const json_t *msgs, *m;
    char item[256], at[256];
    size_t i, role;
    int rc;
    if ((rc = lp_v_only_keys(b, "", keys, e))) return rc;
    if ((rc = lp_v_array(b, "messages", "", 1, 1, 0, &msgs, e))) return rc;
    if ((rc = lp_llm_check_messages(msgs, "messages", (size_t)max_turns * 2, e))) return rc;
    *turn = 0;
    json_array_foreach(msgs, i, m)
    {
        lp_path_key(at, sizeof at, lp_path_index(item, sizeof item, "messages", i), "role");
        if ((rc = lp_v_one_of(json_object_get(m, "role"), at, roles, "a role of a red-team chat",
                              &role, e)))
            return rc;
        if (role != i % 2)
            return lp_verr_set(e, at, "must be \"%s\": turns alternate, the annotator first",
                               roles[i % 2]);
        if (role == 0 && ++*turn > max_turns)
            return lp_verr_set(e, "messages",
                               "holds more than the %lld user turns the project allows",
                               max_turns);
    }
    return 0;
}

int lp_api_assignment_chat(lp_req *req)
{
    int64_t id, uid = 0, pid = 0, tid = 0, expires = 0;
    char status[16] = "", kind[16] = "";
    if (lp_req_id(req, 0, &id)) return 0;
    lp_stmt *st;
    int rc = lp_db_prepare(req->db,
                           "SELECT user_id, project_id, task_id, status, expires_at, kind FROM"
                           " assignments WHERE id = ?",
                           &st);
    if (rc < 0) return lp_reply_rc(req, rc, "assignment");
    lp_stmt_bind_int64(st, 1, id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        uid = lp_stmt_int64(st, 0);
        pid = lp_stmt_int64(st, 1);
        tid = lp_stmt_int64(st, 2);
        snprintf(status, sizeof status, "%s", lp_stmt_text(st, 3));
        expires = lp_stmt_int64(st, 4);
        snprintf(kind, sizeof kind, "%s", lp_stmt_text(st, 5));
    }
    lp_stmt_done(st);
    if (rc < 0) return lp_reply_rc(req, rc, "assignment");
    /* Only the holder chats: anyone else, a reviewer's lease included,
     * learns nothing of it. */
    if (rc != LP_DB_ROW || uid != req->who.user_id || !lp_api_in_scope(req, pid) ||
        strcmp(kind, "review") == 0)
        return lp_reply_error(req, 404, "not_found", NULL, "assignment %lld not found",
                              (long long)id);
    req->project_id = pid; /* for the audit log */
    if (strcmp(status, "active") != 0 || expires < lp_now_ms())
        return lp_reply_error(req, 409, "conflict", "status",
                              "assignment %lld is %s: lease the task again to chat",
                              (long long)id,
                              strcmp(status, "active") ? status : "past its lease (expired)");
    lp_project *p;
    if ((rc = lp_project_get(req->db, pid, &p)) < 0) return lp_reply_rc(req, rc, "project");
    if (strcmp(p->kind->name, "redteam") != 0) {
        lp_reply_error(req, 422, "invalid_request", NULL,
                       "assignment %lld is in a %s project: only redteam projects chat with a "
                       "model",
                       (long long)id, p->kind->name);
        lp_project_free(p);
        return 0;
    }
    long long max_turns = json_integer_value(json_object_get(p->params, "max_turns"));
    int64_t endpoint_id = json_integer_value(json_object_get(p->params, "endpoint_id"));
    const char *system = json_string_value(json_object_get(p->params, "system_prompt"));
    json_t *b;
    lp_verr e;
    int64_t turn = 0;
    if (lp_req_json(req, 1, &b)) {
        lp_project_free(p);
        return 0;
    }
    if (check_messages(b, max_turns, &turn, &e)) {
        json_decref(b);
        lp_project_free(p);
        return lp_reply_verr(req, 422, &e);
    }
    chat *c = lp_calloc(1, sizeof *c);
    rc = lp_endpoint_load(req->db, endpoint_id, &c->ep);
    if (rc < 0) {
        free(c);
        json_decref(b);
        lp_project_free(p);
        if (rc == LP_ENOTFOUND)
            return lp_reply_error(req, 422, "invalid_value", "params.endpoint_id",
                                  "params.endpoint_id: model endpoint %lld does not exist (was "
                                  "it deleted?); a manager must set another",
                                  (long long)endpoint_id);
        return lp_reply_error(req, 502, "bad_gateway", "params.endpoint_id",
                              "model endpoint %lld cannot be used: %s (its API key may be sealed "
                              "under another installation secret)",
                              (long long)endpoint_id, lp_strerror(rc));
    }
    c->pool = req->pool;
    c->assignment_id = id;
    c->task_id = tid;
    c->project_id = pid;
    c->user_id = req->who.user_id;
    c->turn = turn;
    c->sent = json_array();
    if (system && *system)
        json_array_append_new(c->sent, json_pack("{s:s, s:s}", "role", "system", "content", system));
    json_array_extend(c->sent, json_object_get(b, "messages"));
    json_decref(b);
    lp_project_free(p);
    rc = lp_reply_live(req, 200, "text/event-stream; charset=utf-8", chat_run, c, chat_free);
    if (rc < 0)
        return lp_reply_error(req, 503, "unavailable", NULL,
                              "the server is stopping or cannot start the call: try again");
    return 0;
}

int lp_api_redteam_report(lp_req *req)
{
    int64_t pid;
    lp_stmt *st;
    if (lp_req_id(req, 0, &pid) || lp_api_require(req, pid, LP_ROLE_REVIEWER, NULL)) return 0;
    lp_project *p;
    int rc = lp_project_get(req->db, pid, &p);
    if (rc < 0) return lp_reply_rc(req, rc, "project");
    if (strcmp(p->kind->name, "redteam") != 0) {
        lp_reply_error(req, 422, "invalid_request", NULL,
                       "project %lld is a %s project: the report is for redteam projects",
                       (long long)pid, p->kind->name);
        lp_project_free(p);
        return 0;
    }
    int64_t endpoint_id = json_integer_value(json_object_get(p->params, "endpoint_id"));
    lp_project_free(p);
    char name[128] = "";
    if (lp_db_prepare(req->db, "SELECT name FROM model_endpoints WHERE id = ?", &st) == 0) {
        lp_stmt_bind_int64(st, 1, endpoint_id);
        if (lp_stmt_step(st) == LP_DB_ROW) snprintf(name, sizeof name, "%s", lp_stmt_text(st, 0));
        lp_stmt_done(st);
    }
    /* Red-team projects are small (each row is a person's conversation):
     * the rows are read whole. */
    rc = lp_db_prepare(req->db,
                       "SELECT an.response, t.data FROM annotations an JOIN tasks t ON t.id ="
                       " an.task_id WHERE an.project_id = ? AND an.status = 'accepted' ORDER BY"
                       " an.id",
                       &st);
    if (rc < 0) return lp_reply_rc(req, rc, "annotations");
    lp_stmt_bind_int64(st, 1, pid);
    json_t *keep = json_array(); /* owns what the rows point into */
    size_t n = 0, cap = 16;
    lp_redteam_row *rows = lp_malloc(cap * sizeof *rows);
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        json_t *r = json_loads(lp_stmt_text(st, 0), 0, NULL);
        json_t *d = lp_stmt_is_null(st, 1) ? NULL : json_loads(lp_stmt_text(st, 1), 0, NULL);
        if (!json_is_object(r)) {
            json_decref(r);
            json_decref(d);
            continue;
        }
        json_array_append_new(keep, r);
        if (d) json_array_append_new(keep, d);
        if (n == cap) rows = lp_realloc(rows, (cap *= 2) * sizeof *rows);
        const char *cat = json_string_value(json_object_get(r, "category"));
        if (!cat) cat = json_string_value(json_object_get(d, "category"));
        const char *model = lp_redteam_model(r);
        rows[n++] = (lp_redteam_row){.category = cat,
                                     .model = model ? model : name[0] ? name : NULL,
                                     .success = json_is_true(json_object_get(r, "success"))};
    }
    lp_stmt_done(st);
    json_t *out = NULL;
    if (rc >= 0) {
        out = lp_redteam_report(rows, n);
        json_object_set_new(out, "project_id", json_integer(pid));
        json_object_set_new(out, "annotations", json_integer((json_int_t)n));
        json_object_set_new(out, "endpoint",
                            json_pack("{s:I, s:o}", "id", (json_int_t)endpoint_id, "name",
                                      name[0] ? json_string(name) : json_null()));
    }
    free(rows);
    json_decref(keep);
    if (rc < 0) return lp_reply_rc(req, rc, "annotations");
    return lp_reply_json(req, 200, out);
}

/* GET /v1/tasks/{id}/chat-turns: every model turn of the task's red-team
 * chats as recorded (reviewers and managers), oldest first, to check a
 * submitted transcript against what the model said. */
int lp_api_task_chat_turns(lp_req *req)
{
    int64_t tid, pid;
    lp_stmt *st;
    if (lp_api_require_task(req, LP_ROLE_REVIEWER, &tid, &pid)) return 0;
    int rc = lp_db_prepare(req->db,
                           "SELECT id, assignment_id, user_id, turn, prompt, content, model,"
                           " latency_ms, error, created_at FROM chat_turns WHERE task_id = ?"
                           " ORDER BY id LIMIT 10000",
                           &st);
    if (rc < 0) return lp_reply_rc(req, rc, "chat turns");
    lp_stmt_bind_int64(st, 1, tid);
    json_t *items = json_array();
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        json_t *sent = json_loads(lp_stmt_text(st, 4), 0, NULL);
        json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:o, s:o}", "id",
                              (json_int_t)lp_stmt_int64(st, 0), "assignment_id",
                              (json_int_t)lp_stmt_int64(st, 1), "user_id",
                              (json_int_t)lp_stmt_int64(st, 2), "turn",
                              (json_int_t)lp_stmt_int64(st, 3), "messages",
                              sent ? sent : json_null(), "created_at",
                              lp_json_time(lp_stmt_int64(st, 9)));
        static const char *const texts[] = {"content", "model"};
        for (int c = 0; c < 2; c++)
            json_object_set_new(o, texts[c], lp_stmt_is_null(st, 5 + c)
                                                 ? json_null()
                                                 : json_string(lp_stmt_text(st, 5 + c)));
        json_object_set_new(o, "latency_ms", lp_stmt_is_null(st, 7)
                                                 ? json_null()
                                                 : json_integer(lp_stmt_int64(st, 7)));
        json_object_set_new(o, "error", lp_stmt_is_null(st, 8) || !*lp_stmt_text(st, 8)
                                            ? json_null()
                                            : json_string(lp_stmt_text(st, 8)));
        json_array_append_new(items, o);
    }
    lp_stmt_done(st);
    if (rc < 0) {
        json_decref(items);
        return lp_reply_rc(req, rc, "chat turns");
    }
    return lp_reply_json(req, 200, json_pack("{s:o}", "items", items));
}
