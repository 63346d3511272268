/* api.h -- the JSON API under /v1: the route table, authentication, role
 * checks and paging helpers shared by the api_*.c handler modules. */
#ifndef LP_API_H
#define LP_API_H

#include <jansson.h>

#include "auth.h"
#include "http.h"
#include "project.h"
#include "server.h"

extern const lp_route lp_api_routes[];
extern const size_t lp_api_nroutes;

/* Resolves the caller from a Bearer or Basic API key or the session
 * cookie; answers 401 (or 403 for a cross-site cookie request) and returns
 * non-zero when there is none. */
int lp_api_authenticate(lp_req *req);

/* 1 if the caller may act in the project: always, but for an API key
 * scoped to another project (0 then). */
int lp_api_in_scope(const lp_req *req, int64_t project_id);

/* Checks that the caller has at least min_role in the project.  Answers 404
 * when the project does not exist or the caller has no role in it, 403 when
 * the role is too low, and returns non-zero; *role (if not NULL) receives
 * the caller's role. */
int lp_api_require(lp_req *req, int64_t project_id, int min_role, int *role);
/* The same for an object of the project (a task, a batch): the 404 names
 * the object, so a caller outside the project cannot tell it exists. */
int lp_api_require_for(lp_req *req, int64_t project_id, int min_role, const char *what,
                       int64_t what_id);

/* lp_api_require with the manager role, then loads the project into *p
 * (the caller frees it); answers and returns non-zero on failure. */
int lp_api_managed_project(lp_req *req, int64_t project_id, lp_project **p);

/* Reads task {0}'s id and project and checks the caller's role there
 * (404 "task N not found" for a missing task or no role, 403 for too low a
 * role); answers and returns non-zero on failure. */
int lp_api_require_task(lp_req *req, int min_role, int64_t *id, int64_t *project_id);

/* Paging: reads ?limit= (1..max, default dflt) and ?next_token=; answers
 * 400 and returns non-zero on a bad value. */
int lp_api_page(lp_req *req, int dflt, int max, int *limit, int64_t *after);
/* The opaque token for continuing after id, into out[32] ("" for 0). */
void lp_api_token(int64_t after, char out[32]);

/* Answers a page from st, a bound statement selecting ids in increasing
 * order with LIMIT limit + 1: item(req, id) makes each item (NULL skips
 * it), and the extra row, if any, yields the next_token.  Releases st. */
typedef json_t *(*lp_api_item_fn)(lp_req *req, int64_t id);
int lp_api_reply_ids(lp_req *req, lp_stmt *st, int limit, lp_api_item_fn item);

/* Reads the task filters of a task list from the query string into f
 * (batch_id, status, unique_id, tag, created_/updated_ after/before), for
 * every route that lists tasks; answers 400 naming the bad one and returns
 * non-zero.  The strings point into the request (valid while it lives). */
struct lp_task_filter;
int lp_api_task_filter(lp_req *req, struct lp_task_filter *f);

/* Answers {"items": items, "next_token": token or null}. */
int lp_api_reply_page(lp_req *req, json_t *items, int64_t next_after);

/* Handlers, one module each. */
int lp_api_endpoints_create(lp_req *req);
int lp_api_endpoints_list(lp_req *req);
int lp_api_endpoint_get(lp_req *req);
int lp_api_endpoint_update(lp_req *req);
int lp_api_endpoint_delete(lp_req *req);
int lp_api_psets_create(lp_req *req);
int lp_api_psets_list(lp_req *req);
int lp_api_pset_get(lp_req *req);
int lp_api_pset_add(lp_req *req);
int lp_api_pset_prompts(lp_req *req);
int lp_api_gens_create(lp_req *req);
int lp_api_gens_list(lp_req *req);
int lp_api_gen_get(lp_req *req);
int lp_api_gen_outputs(lp_req *req);
int lp_api_gen_cancel(lp_req *req);
int lp_api_gen_retry(lp_req *req);
int lp_api_gen_tasks(lp_req *req);
int lp_api_leaderboard(lp_req *req);
int lp_api_draft_report(lp_req *req);
int lp_api_task_chat_turns(lp_req *req);
int lp_api_healthz(lp_req *req);
int lp_api_metrics(lp_req *req);
int lp_api_kinds(lp_req *req);

int lp_api_session_create(lp_req *req);
int lp_api_session_delete(lp_req *req);
int lp_api_me(lp_req *req);
int lp_api_users_list(lp_req *req);
int lp_api_users_create(lp_req *req);
int lp_api_user_get(lp_req *req);
int lp_api_user_update(lp_req *req);
int lp_api_keys_list(lp_req *req);
int lp_api_keys_create(lp_req *req);
int lp_api_key_revoke(lp_req *req);
int lp_api_members_list(lp_req *req);
int lp_api_member_put(lp_req *req);
int lp_api_member_delete(lp_req *req);

int lp_api_projects_create(lp_req *req);
int lp_api_projects_list(lp_req *req);
int lp_api_project_get(lp_req *req);
int lp_api_project_update(lp_req *req);
/* GET /v1/projects/{id}/stats: the manager's dashboard figures (stats.h). */
int lp_api_project_stats(lp_req *req);
int lp_api_batches_create(lp_req *req);
int lp_api_batches_list(lp_req *req);
int lp_api_batch_get(lp_req *req);
int lp_api_batch_finalize(lp_req *req);

int lp_api_task_create(lp_req *req);
int lp_api_tasks_bulk(lp_req *req);
int lp_api_tasks_list(lp_req *req);
int lp_api_task_get(lp_req *req);
int lp_api_task_cancel(lp_req *req);
int lp_api_task_metadata(lp_req *req);
int lp_api_task_tags_add(lp_req *req);
int lp_api_task_tag_delete(lp_req *req);

int lp_api_queue_next(lp_req *req);
int lp_api_assignment_get(lp_req *req);
int lp_api_assignment_heartbeat(lp_req *req);
int lp_api_assignment_skip(lp_req *req);
int lp_api_assignment_release(lp_req *req);
int lp_api_assignment_draft(lp_req *req);
int lp_api_assignment_submit(lp_req *req);
int lp_api_task_annotations(lp_req *req);
int lp_api_review_next(lp_req *req);
int lp_api_assignment_review(lp_req *req);
int lp_api_task_audit(lp_req *req);
int lp_api_task_versions(lp_req *req);
int lp_api_workers(lp_req *req);
/* GET /v1/projects/{id}/quality and POST /v1/projects/{id}/aggregate
 * (api_queue.c): the quality report and the refit of the aggregation. */
int lp_api_quality(lp_req *req);
int lp_api_predictions_add(lp_req *req);
/* Whose right to read files the tasks a caller adds are checked against
 * (lp_task_writer.reader): 0 for an admin's key of every project. */
int64_t lp_api_file_reader(const lp_req *req);
/* After a request (lp_http_config.after): moves the caller's session's idle
 * deadline on when lp_session_resolve said it was due. */
void lp_api_after(lp_req *req);
/* Sessions' life as configured (--session-seconds, --session-idle-seconds). */
lp_session_life lp_api_session_life(const lp_req *req);
int lp_api_predictions_stats(lp_req *req);
/* api_ml.c: a project's ML backend */
int lp_api_ml_get(lp_req *req);
int lp_api_ml_put(lp_req *req);
int lp_api_ml_delete(lp_req *req);
int lp_api_ml_predict(lp_req *req);
int lp_api_autolabel(lp_req *req);
int lp_api_aggregate(lp_req *req);
int lp_api_worker_pause(lp_req *req);
int lp_api_worker_reinstate(lp_req *req);
/* api_redteam.c: a red-team chat turn, streamed, and the success report */
int lp_api_assignment_chat(lp_req *req);
int lp_api_redteam_report(lp_req *req);

int lp_api_webhooks_create(lp_req *req);
int lp_api_webhooks_list(lp_req *req);
int lp_api_webhook_delete(lp_req *req);
int lp_api_callback_secret(lp_req *req);
int lp_api_deliveries_list(lp_req *req);
int lp_api_delivery_get(lp_req *req);
int lp_api_delivery_redeliver(lp_req *req);

/* GET /v1/projects/{id}/export (api_export.c): the tasks as a streamed
 * download in any format of export.h. */
int lp_api_export(lp_req *req);

int lp_api_file_upload(lp_req *req);
void lp_api_file_chunk(lp_req *req, const char *data, size_t n);
int lp_api_file_get(lp_req *req);
int lp_api_file_points(lp_req *req);

/* The browser UI (api_ui.c): GET / answers web/index.html, GET /ui/NAME
 * the file web/ui/NAME.  lp_ui_find_dir returns the directory to serve:
 * dir when given, else web/ beside the running binary, else
 * ../share/loupe/web beside it; NULL when none holds index.html. */
int lp_api_ui_index(lp_req *req);
int lp_api_ui_file(lp_req *req);
char *lp_ui_find_dir(const char *dir);

#endif
