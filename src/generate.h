/* generate.h -- prompt sets, generation jobs and their outputs, and tasks
 * made from the outputs.
 *
 * A prompt set holds conversations to send to models, each with optional
 * reference answers (an evaluation set).  A generation sends every prompt
 * of a set to one or more model endpoints (endpoint.h), `samples` times
 * each: one gen_outputs row per prompt, endpoint and sample, worked by the
 * background runner (lp_gen_start) through a durable queue, so a restart
 * goes on where it stopped.  Each output keeps its text, the model that
 * answered, the parameters sent, latency and token usage, and, when the
 * prompt has references, SQuAD exact match and F1.
 *
 * From a generation's outputs, lp_gen_to_tasks makes tasks for a project:
 * comparison (pairs of outputs of different endpoints, all of them or a
 * seeded sample per prompt, left and right drawn at random), ranking (all
 * outputs of a prompt, shuffled) or rating (one task per output).  Which
 * output and model each response is, and where it was shown, is kept in
 * task_outputs, out of the annotators' sight, for the leaderboard. */
#ifndef LP_GENERATE_H
#define LP_GENERATE_H

#include <jansson.h>
#include <stdint.h>

#include "db.h"
#include "project.h"
#include "valid.h"

#define LP_PROMPT_MESSAGES_MAX 100 /* messages in one prompt */

/* Prompt sets.  body {name, prompts?}; *out the set's view. */
int lp_pset_create(lp_db *db, const json_t *body, int64_t user_id, json_t **out, lp_verr *e);
int lp_pset_get(lp_db *db, int64_t id, json_t **out);
/* Sets made by owner (0: all). */
int lp_pset_list(lp_db *db, int64_t owner, json_t **out);
/* Who made the set (0: nobody known); LP_ENOTFOUND. */
int lp_pset_owner(lp_db *db, int64_t id, int64_t *owner);
/* Adds prompts (an array of {prompt | messages, system?, unique_id?,
 * reference?, metadata?}); errors name items[i].  A prompt whose
 * unique_id the set has is left as it is and counted in *existing. */
int lp_pset_add(lp_db *db, int64_t set_id, const json_t *items, const char *path, int64_t *added,
                int64_t *existing, lp_verr *e);
/* A page of prompts after id `after`; *next 0 at the end. */
int lp_pset_prompts(lp_db *db, int64_t set_id, int limit, int64_t after, json_t **items,
                    int64_t *next);

/* Generations.  body {prompt_set_id, endpoints: [ids], params?,
 * samples? (1), name?}. */
int lp_gen_create(lp_db *db, const json_t *body, int64_t user_id, json_t **out, lp_verr *e);
/* The job and its progress: outputs by state, per endpoint (with latency,
 * tokens and, for an evaluation set, exact match and F1 with standard
 * errors), and the latest errors. */
int lp_gen_get(lp_db *db, int64_t id, json_t **out);
/* The newest 200 jobs with their progress (no scores nor errors: those
 * are lp_gen_get's). */
int lp_gen_list(lp_db *db, int64_t owner, json_t **out);
int lp_gen_owner(lp_db *db, int64_t id, int64_t *owner);
/* A page of outputs (state NULL: all). */
int lp_gen_outputs(lp_db *db, int64_t id, const char *state, int limit, int64_t after,
                   json_t **items, int64_t *next);
/* Stops a job: its waiting outputs stay waiting, not sent. */
int lp_gen_cancel(lp_db *db, int64_t id);
/* Sends the failed outputs again (and resumes a cancelled job). */
int lp_gen_retry(lp_db *db, int64_t id, int64_t *requeued);

/* Tasks for project p from a generation's finished outputs: body
 * {generation_id, design: "all_pairs" | "sampled", pairs_per_prompt (1),
 * seed}.  Outputs already in a task of the project are not used again in
 * the same place (tasks are keyed by unique_id).  *out: {created,
 * existing, seed}. */
int lp_gen_to_tasks(lp_db *db, const lp_project *p, const json_t *body, int64_t reader,
                    json_t **out, lp_verr *e);
/* textcollection projects take drafts: body {generation_id, split:
 * "items" (each item a model listed, lp_gen_split_drafts) | "whole"}, one
 * task per draft with data {prompt, draft}; its annotators accept, fix or
 * reject it (params.allow_reject).  The items of a model's text as a
 * JSON array of strings (new). */
json_t *lp_gen_split_drafts(const char *text);
/* Per template prompt and model of a textcollection project's drafts:
 * drafts, reviewed, accepted unchanged, fixed, rejected, and the
 * acceptance rate (accepted or fixed, of reviewed) with its 95% Wilson
 * interval (generate_report.c). */
int lp_gen_draft_report(lp_db *db, const lp_project *p, json_t **out, lp_verr *e);

/* The leaderboard of a comparison or ranking project's models from its
 * accepted annotations (leaderboard_db.c); LP_EINVAL with e for another
 * kind. */
struct lp_leaderboard_opts;
int lp_leaderboard_project(lp_db *db, const lp_project *p, const struct lp_leaderboard_opts *o,
                           json_t **out, lp_verr *e);

/* The background runner: one per process, calls in threads of their own,
 * at most an endpoint's max_concurrency at once from this process. */
typedef struct lp_gen lp_gen;
int lp_gen_start(lp_db_pool *pool, int64_t poll_ms, int64_t retry_ms, lp_gen **out);
void lp_gen_stop(lp_gen *g);

#endif
