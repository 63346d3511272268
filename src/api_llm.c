/* api_llm.c -- model endpoints, prompt sets, generations and the tasks made
 * from them (endpoint.h, generate.h):
 *
 *   POST   /v1/model-endpoints                 register one (admins)
 *   GET    /v1/model-endpoints                 list (any account; keys never shown)
 *   GET    /v1/model-endpoints/{id}
 *   PATCH  /v1/model-endpoints/{id}            (admins)
 *   DELETE /v1/model-endpoints/{id}            (admins)
 *   POST   /v1/prompt-sets                     {name, prompts?}
 *   GET    /v1/prompt-sets
 *   GET    /v1/prompt-sets/{id}
 *   POST   /v1/prompt-sets/{id}/prompts        a list, {prompts: [...]} or NDJSON
 *   GET    /v1/prompt-sets/{id}/prompts
 *   POST   /v1/generations                     {prompt_set_id, endpoints, params?, samples?}
 *   GET    /v1/generations
 *   GET    /v1/generations/{id}                progress, per endpoint, errors
 *   GET    /v1/generations/{id}/outputs        ?state=waiting|done|failed
 *   POST   /v1/generations/{id}/cancel
 *   POST   /v1/generations/{id}/retry
 *   POST   /v1/projects/{id}/generation-tasks  {generation_id, design, ...}
 *   GET    /v1/projects/{id}/leaderboard       ?rounds=&seed=&level=&k=
 *   GET    /v1/projects/{id}/draft-report      drafts accepted, fixed, rejected
 *
 * Any account may make prompt sets and generations (as it may make
 * projects); each belongs to who made it: they and admins see and change
 * it.  Endpoints are the admins' to register: they decide what may be
 * spent. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "leaderboard.h"
#include "endpoint.h"
#include "generate.h"

/* ---- model endpoints ---- */

static int endpoint_rc(lp_req *req, int rc)
{
    if (rc == LP_ENOTFOUND) return lp_reply_error(req, 404, "not_found", NULL, "no such model endpoint");
    if (rc == LP_ECONFLICT)
        return lp_reply_error(req, 409, "conflict", NULL,
                              "a running generation still sends to this endpoint; cancel it "
                              "first");
    return lp_reply_rc(req, rc, "model endpoint");
}

int lp_api_endpoints_create(lp_req *req)
{
    json_t *b, *out;
    lp_verr e;
    if (lp_req_json(req, 1, &b)) return 0;
    int rc = lp_endpoint_create(req->db, b, req->who.user_id, &out, &e);
    json_decref(b);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc == LP_EEXISTS) return lp_reply_verr(req, 409, &e);
    if (rc < 0) return endpoint_rc(req, rc);
    req->reply_id = json_integer_value(json_object_get(out, "id"));
    return lp_reply_json(req, 201, out);
}

int lp_api_endpoints_list(lp_req *req)
{
    json_t *out;
    int rc = lp_endpoint_list(req->db, &out);
    if (rc < 0) return endpoint_rc(req, rc);
    return lp_reply_json(req, 200, out);
}

int lp_api_endpoint_get(lp_req *req)
{
    int64_t id;
    json_t *out;
    if (lp_req_id(req, 0, &id)) return 0;
    int rc = lp_endpoint_get(req->db, id, &out);
    if (rc < 0) return endpoint_rc(req, rc);
    return lp_reply_json(req, 200, out);
}

int lp_api_endpoint_update(lp_req *req)
{
    int64_t id;
    json_t *b, *out;
    lp_verr e;
    if (lp_req_id(req, 0, &id) || lp_req_json(req, 1, &b)) return 0;
    int rc = lp_endpoint_update(req->db, id, b, &out, &e);
    json_decref(b);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc == LP_EEXISTS) return lp_reply_verr(req, 409, &e);
    if (rc < 0) return endpoint_rc(req, rc);
    return lp_reply_json(req, 200, out);
}

int lp_api_endpoint_delete(lp_req *req)
{
    int64_t id;
    if (lp_req_id(req, 0, &id)) return 0;
    int rc = lp_endpoint_delete(req->db, id);
    if (rc < 0) return endpoint_rc(req, rc);
    return lp_reply_json(req, 200, json_pack("{s:b}", "deleted", 1));
}

/* ---- prompt sets and generations: their owners' ---- */

/* The caller may use the object whose owner lookup is fn; answers 404
 * (not 403: another's sets are not even named) otherwise. */
static int owned(lp_req *req, int (*fn)(lp_db *, int64_t, int64_t *), const char *what,
                 int64_t *id)
{
    int64_t owner = 0;
    if (lp_req_id(req, 0, id)) return LP_ENOTFOUND;
    int rc = fn(req->db, *id, &owner);
    if (rc == 0 && !req->who.is_admin && owner != req->who.user_id) rc = LP_ENOTFOUND;
    if (rc == LP_ENOTFOUND) {
        lp_reply_error(req, 404, "not_found", NULL, "no such %s", what);
        return rc;
    }
    if (rc < 0) {
        lp_reply_rc(req, rc, what);
        return rc;
    }
    return 0;
}

static int64_t owner_filter(lp_req *req)
{
    return req->who.is_admin ? 0 : req->who.user_id;
}

int lp_api_psets_create(lp_req *req)
{
    json_t *b, *out;
    lp_verr e;
    if (lp_req_json(req, 1, &b)) return 0;
    int rc = lp_pset_create(req->db, b, req->who.user_id, &out, &e);
    json_decref(b);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc < 0) return lp_reply_rc(req, rc, "prompt set");
    req->reply_id = json_integer_value(json_object_get(out, "id"));
    return lp_reply_json(req, 201, out);
}

int lp_api_psets_list(lp_req *req)
{
    json_t *out;
    int rc = lp_pset_list(req->db, owner_filter(req), &out);
    if (rc < 0) return lp_reply_rc(req, rc, "prompt set");
    return lp_reply_json(req, 200, out);
}

int lp_api_pset_get(lp_req *req)
{
    int64_t id;
    json_t *out;
    if (owned(req, lp_pset_owner, "prompt set", &id)) return 0;
    int rc = lp_pset_get(req->db, id, &out);
    if (rc < 0) return lp_reply_rc(req, rc, "prompt set");
    return lp_reply_json(req, 200, out);
}

/* The prompts of an import body: a JSON list, {"prompts": [...]}, or
 * NDJSON (one prompt a line; errors name the line). */
static json_t *import_items(lp_req *req, int *ndjson)
{
    const char *ct = lp_req_header(req, "Content-Type");
    *ndjson = ct && strstr(ct, "ndjson") != NULL;
    if (!*ndjson) {
        json_t *b;
        if (lp_req_json(req, 0, &b)) return NULL;
        if (json_is_object(b)) {
            json_t *list = json_incref(json_object_get(b, "prompts"));
            json_decref(b);
            if (!list) lp_reply_error(req, 422, "invalid", "prompts", "is required");
            return list;
        }
        return b;
    }
    json_t *list = json_array();
    const char *s = req->body.data ? req->body.data : "";
    size_t n = req->body.len, line = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] != '\n') j++;
        line++;
        size_t k = i;
        while (k < j && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r')) k++;
        if (k < j) {
            json_error_t je;
            json_t *v = json_loadb(s + i, j - i, JSON_REJECT_DUPLICATES, &je);
            if (!v) {
                json_decref(list);
                char field[32];
                snprintf(field, sizeof field, "line %zu", line);
                lp_reply_error(req, 400, "bad_json", field, "line %zu is not JSON: %s", line,
                               je.text);
                return NULL;
            }
            json_array_append_new(list, v);
        }
        i = j + 1;
    }
    return list;
}

int lp_api_pset_add(lp_req *req)
{
    int64_t id, added = 0, existing = 0;
    int ndjson;
    lp_verr e;
    if (owned(req, lp_pset_owner, "prompt set", &id)) return 0;
    json_t *items = import_items(req, &ndjson);
    if (!items) return 0;
    int rc = lp_pset_add(req->db, id, items, ndjson ? "lines" : "prompts", &added, &existing, &e);
    json_decref(items);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc < 0) return lp_reply_rc(req, rc, "prompt set");
    return lp_reply_json(req, 200,
                         json_pack("{s:I, s:I}", "added", (json_int_t)added, "existing",
                                   (json_int_t)existing));
}

int lp_api_pset_prompts(lp_req *req)
{
    int64_t id, after, next;
    int limit;
    json_t *items;
    if (owned(req, lp_pset_owner, "prompt set", &id)) return 0;
    if (lp_api_page(req, 100, 1000, &limit, &after)) return 0;
    int rc = lp_pset_prompts(req->db, id, limit, after, &items, &next);
    if (rc < 0) return lp_reply_rc(req, rc, "prompt set");
    return lp_api_reply_page(req, items, next);
}

int lp_api_gens_create(lp_req *req)
{
    json_t *b, *out;
    lp_verr e;
    if (lp_req_json(req, 1, &b)) return 0;
    /* the prompt set must be the caller's to use */
    const json_t *sid = json_object_get(b, "prompt_set_id");
    int64_t owner = 0, set_id = json_is_integer(sid) ? json_integer_value(sid) : 0;
    if (set_id && !req->who.is_admin && lp_pset_owner(req->db, set_id, &owner) == 0 &&
        owner != req->who.user_id) {
        json_decref(b);
        return lp_reply_error(req, 422, "invalid", "prompt_set_id", "no prompt set has the id %lld",
                              (long long)set_id);
    }
    int rc = lp_gen_create(req->db, b, req->who.user_id, &out, &e);
    json_decref(b);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc < 0) return lp_reply_rc(req, rc, "generation");
    req->reply_id = json_integer_value(json_object_get(out, "id"));
    return lp_reply_json(req, 201, out);
}

int lp_api_gens_list(lp_req *req)
{
    json_t *out;
    int rc = lp_gen_list(req->db, owner_filter(req), &out);
    if (rc < 0) return lp_reply_rc(req, rc, "generation");
    return lp_reply_json(req, 200, out);
}

int lp_api_gen_get(lp_req *req)
{
    int64_t id;
    json_t *out;
    if (owned(req, lp_gen_owner, "generation", &id)) return 0;
    int rc = lp_gen_get(req->db, id, &out);
    if (rc < 0) return lp_reply_rc(req, rc, "generation");
    return lp_reply_json(req, 200, out);
}

int lp_api_gen_outputs(lp_req *req)
{
    static const char *const states[] = {"waiting", "done", "failed", NULL};
    int64_t id, after, next;
    int limit;
    json_t *items;
    if (owned(req, lp_gen_owner, "generation", &id)) return 0;
    if (lp_api_page(req, 100, 1000, &limit, &after)) return 0;
    const char *state = lp_req_arg(req, "state");
    if (state) {
        int ok = 0;
        for (int i = 0; states[i]; i++) ok |= !strcmp(state, states[i]);
        if (!ok)
            return lp_reply_error(req, 400, "bad_request", "state",
                                  "must be waiting, done or failed");
    }
    int rc = lp_gen_outputs(req->db, id, state, limit, after, &items, &next);
    if (rc < 0) return lp_reply_rc(req, rc, "generation");
    return lp_api_reply_page(req, items, next);
}

int lp_api_gen_cancel(lp_req *req)
{
    int64_t id;
    json_t *out;
    if (owned(req, lp_gen_owner, "generation", &id)) return 0;
    int rc = lp_gen_cancel(req->db, id);
    if (rc == 0) rc = lp_gen_get(req->db, id, &out);
    if (rc < 0) return lp_reply_rc(req, rc, "generation");
    return lp_reply_json(req, 200, out);
}

int lp_api_gen_retry(lp_req *req)
{
    int64_t id, n = 0;
    json_t *out;
    if (owned(req, lp_gen_owner, "generation", &id)) return 0;
    int rc = lp_gen_retry(req->db, id, &n);
    if (rc == 0) rc = lp_gen_get(req->db, id, &out);
    if (rc < 0) return lp_reply_rc(req, rc, "generation");
    json_object_set_new(out, "requeued", json_integer(n));
    return lp_reply_json(req, 200, out);
}

int lp_api_gen_tasks(lp_req *req)
{
    int64_t pid, owner = 0;
    lp_project *p;
    json_t *b, *out;
    lp_verr e;
    if (lp_req_id(req, 0, &pid)) return 0;
    if (lp_api_managed_project(req, pid, &p)) return 0;
    if (lp_req_json(req, 1, &b)) {
        lp_project_free(p);
        return 0;
    }
    const json_t *gid = json_object_get(b, "generation_id");
    int64_t gen_id = json_is_integer(gid) ? json_integer_value(gid) : 0;
    if (gen_id && !req->who.is_admin && lp_gen_owner(req->db, gen_id, &owner) == 0 &&
        owner != req->who.user_id) {
        json_decref(b);
        lp_project_free(p);
        return lp_reply_error(req, 422, "invalid", "generation_id", "no generation has the id %lld",
                              (long long)gen_id);
    }
    int rc = lp_gen_to_tasks(req->db, p, b, lp_api_file_reader(req), &out, &e);
    json_decref(b);
    lp_project_free(p);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc < 0) return lp_reply_rc(req, rc, "generation");
    return lp_reply_json(req, 200, out);
}

/* A query parameter as a number within [min, max] into *out (left as it
 * is when absent); answers 400 naming it and returns non-zero when bad. */
static int arg_number(lp_req *req, const char *name, double min, double max, double *out)
{
    const char *s = lp_req_arg(req, name);
    if (!s) return 0;
    char *end;
    double x = strtod(s, &end);
    if (!*s || *end || !(x >= min && x <= max)) {
        lp_reply_error(req, 400, "bad_request", name, "must be a number from %g to %g", min, max);
        return LP_EINVAL;
    }
    *out = x;
    return 0;
}

/* GET /v1/projects/{id}/leaderboard?rounds=&seed=&level=&k= (managers and
 * reviewers). */
int lp_api_leaderboard(lp_req *req)
{
    int64_t pid;
    if (lp_req_id(req, 0, &pid) || lp_api_require(req, pid, LP_ROLE_REVIEWER, NULL)) return 0;
    lp_leaderboard_opts o;
    lp_leaderboard_opts_init(&o);
    double rounds = (double)o.rounds, seed = (double)o.seed, level = o.level, k = o.k;
    if (arg_number(req, "rounds", 0, 10000, &rounds) || arg_number(req, "seed", 0, 9e15, &seed) ||
        arg_number(req, "level", 0.5, 0.999, &level) || arg_number(req, "k", 0.01, 1000, &k))
        return 0;
    if (rounds != floor(rounds) || seed != floor(seed))
        return lp_reply_error(req, 400, "bad_request", rounds != floor(rounds) ? "rounds" : "seed",
                              "must be a whole number");
    o.rounds = (size_t)rounds;
    o.seed = (uint64_t)seed;
    o.level = level;
    o.k = k;
    lp_project *p;
    int rc = lp_project_get(req->db, pid, &p);
    if (rc < 0) return lp_reply_rc(req, rc, "project");
    json_t *out;
    lp_verr e;
    rc = lp_leaderboard_project(req->db, p, &o, &out, &e);
    lp_project_free(p);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc < 0) return lp_reply_rc(req, rc, "leaderboard");
    json_object_set_new(out, "seed", json_integer((json_int_t)o.seed));
    json_object_set_new(out, "k", json_real(o.k));
    return lp_reply_json(req, 200, out);
}

/* GET /v1/projects/{id}/draft-report: how a textcollection project's
 * reviewers judged the drafts made from a generation (managers). */
int lp_api_draft_report(lp_req *req)
{
    int64_t pid;
    if (lp_req_id(req, 0, &pid) || lp_api_require(req, pid, LP_ROLE_MANAGER, NULL)) return 0;
    lp_project *p;
    int rc = lp_project_get(req->db, pid, &p);
    if (rc < 0) return lp_reply_rc(req, rc, "project");
    json_t *out;
    lp_verr e;
    rc = lp_gen_draft_report(req->db, p, &out, &e);
    lp_project_free(p);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc < 0) return lp_reply_rc(req, rc, "draft report");
    return lp_reply_json(req, 200, out);
}
