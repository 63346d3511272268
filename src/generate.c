/* generate.c -- prompt sets, generations and tasks from their outputs
 * (generate.h).  The runner that makes the calls is generate_run.c. */
#include "generate.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm.h"
#include "tasks.h"
#include "util.h"

#define MAX_ENDPOINTS 16
#define MAX_SAMPLES   20
#define MAX_OUTPUTS   1000000 /* prompts x endpoints x samples of one job */

/* ---- prompt sets ---- */

/* Who made row id (0: nobody known) by sql, a select of created_by;
 * LP_ENOTFOUND when there is no such row. */
static int owner_of(lp_db *db, const char *sql, int64_t id, int64_t *owner)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db, sql, &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) *owner = lp_stmt_is_null(st, 0) ? 0 : lp_stmt_int64(st, 0);
    lp_stmt_done(st);
    return rc == LP_DB_ROW ? 0 : rc < 0 ? rc : LP_ENOTFOUND;
}

int lp_pset_owner(lp_db *db, int64_t id, int64_t *owner)
{
    return owner_of(db, "SELECT created_by FROM prompt_sets WHERE id = ?", id, owner);
}

#define PSET_COLS                                                                                 \
    "s.id, s.name, s.created_by, s.created_at, (SELECT COUNT(*) FROM prompts p WHERE p.set_id = " \
    "s.id), (SELECT COUNT(*) FROM prompts p WHERE p.set_id = s.id AND p.reference IS NOT NULL)"

static json_t *pset_view(lp_stmt *st)
{
    json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:o}", "id", (json_int_t)lp_stmt_int64(st, 0),
                          "name", lp_stmt_text(st, 1), "prompts", (json_int_t)lp_stmt_int64(st, 4),
                          "with_reference", (json_int_t)lp_stmt_int64(st, 5), "created_at",
                          lp_json_time(lp_stmt_int64(st, 3)));
    json_object_set_new(o, "created_by",
                        lp_stmt_is_null(st, 2) ? json_null() : json_integer(lp_stmt_int64(st, 2)));
    return o;
}

int lp_pset_get(lp_db *db, int64_t id, json_t **out)
{
    lp_stmt *st;
    *out = NULL;
    int rc = lp_db_prepare(db, "SELECT " PSET_COLS " FROM prompt_sets s WHERE s.id = ?", &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, id);
    if ((rc = lp_stmt_step(st)) == LP_DB_ROW) *out = pset_view(st);
    lp_stmt_done(st);
    return *out ? 0 : rc < 0 ? rc : LP_ENOTFOUND;
}

int lp_pset_list(lp_db *db, int64_t owner, json_t **out)
{
    lp_stmt *st;
    *out = NULL;
    int rc = lp_db_prepare(db,
                           "SELECT " PSET_COLS " FROM prompt_sets s WHERE ? = 0 OR s.created_by = ?"
                           " ORDER BY s.id",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, owner);
    lp_stmt_bind_int64(st, 2, owner);
    json_t *items = json_array();
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) json_array_append_new(items, pset_view(st));
    lp_stmt_done(st);
    if (rc < 0) {
        json_decref(items);
        return rc;
    }
    *out = json_pack("{s:o}", "items", items);
    return 0;
}

/* The conversation of prompt item p (new), or NULL with e filled. */
static json_t *messages_of(const json_t *p, const char *at, lp_verr *e)
{
    const json_t *text = lp_json_given(p, "prompt"), *msgs = lp_json_given(p, "messages");
    const char *sys = NULL;
    char field[256];
    if (lp_v_string(p, "system", at, 0, 1, 0, &sys, e)) return NULL;
    if (!text == !msgs) {
        lp_verr_set(e, lp_path_key(field, sizeof field, at, "prompt"),
                    "give either prompt (a text) or messages (a conversation)");
        return NULL;
    }
    if (text) {
        if (lp_v_string(p, "prompt", at, 1, 1, 0, NULL, e)) return NULL;
        json_t *m = json_array();
        if (sys) json_array_append_new(m, json_pack("{s:s, s:s}", "role", "system", "content", sys));
        json_array_append_new(m, json_pack("{s:s, s:O}", "role", "user", "content", text));
        return m;
    }
    if (sys) {
        lp_verr_set(e, lp_path_key(field, sizeof field, at, "system"),
                    "must be left out with messages: put a system message first instead");
        return NULL;
    }
    if (lp_llm_check_messages(msgs, lp_path_key(field, sizeof field, at, "messages"),
                              LP_PROMPT_MESSAGES_MAX, e))
        return NULL;
    return json_deep_copy(msgs);
}

/* The references of prompt item p as a JSON array text (heap), NULL when
 * it has none; *bad set with e filled when they are malformed. */
static char *references_of(const json_t *p, const char *at, int *bad, lp_verr *e)
{
    const json_t *r = lp_json_given(p, "reference");
    char field[256];
    *bad = 0;
    if (!r) return NULL;
    lp_path_key(field, sizeof field, at, "reference");
    json_t *list = json_is_string(r) ? json_pack("[O]", r) : json_incref((json_t *)r);
    size_t i;
    json_t *v;
    if (!json_is_array(list) || !json_array_size(list)) {
        *bad = 1;
    } else {
        json_array_foreach(list, i, v)
        {
            if (!json_is_string(v)) *bad = 1;
        }
    }
    if (*bad) {
        lp_verr_set(e, field, "must be a reference answer (a string) or a non-empty list of them");
        json_decref(list);
        return NULL;
    }
    char *text = json_dumps(list, LP_JSON_DUMP);
    json_decref(list);
    return text;
}

int lp_pset_add(lp_db *db, int64_t set_id, const json_t *items, const char *path, int64_t *added,
                int64_t *existing, lp_verr *e)
{
    static const char *const keys[] = {"prompt",    "messages", "system", "unique_id",
                                       "reference", "metadata", NULL};
    char at[256];
    size_t i;
    json_t *p;
    *added = *existing = 0;
    if (!json_is_array(items)) return lp_verr_set(e, path, "must be a list of prompts");
    /* check every item first, so that a bad one adds nothing */
    json_array_foreach(items, i, p)
    {
        int bad;
        lp_path_index(at, sizeof at, path, i);
        if (lp_v_object(p, at, e) || lp_v_only_keys(p, at, keys, e) ||
            lp_v_string(p, "unique_id", at, 0, 1, 200, NULL, e))
            return LP_EINVAL;
        const json_t *md = lp_json_given(p, "metadata");
        if (md && !json_is_object(md))
            return lp_verr_set(e, lp_path_key(at, sizeof at, at, "metadata"), "must be an object");
        json_t *m = messages_of(p, at, e);
        if (!m) return LP_EINVAL;
        json_decref(m);
        free(references_of(p, at, &bad, e));
        if (bad) return LP_EINVAL;
    }
    int64_t now = lp_now_ms();
    lp_stmt *st;
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc < 0) return rc;
    int64_t x;
    rc = lp_db_int64(db, &x, "SELECT id FROM prompt_sets WHERE id = ?", "i", set_id);
    if (rc == 0)
        rc = lp_db_prepare(db,
                           "INSERT INTO prompts (set_id, unique_id, messages, reference, metadata,"
                           " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                           &st);
    if (rc == 0) {
        json_array_foreach(items, i, p)
        {
            int bad;
            lp_verr ignore;
            json_t *m = messages_of(p, "", &ignore);
            char *mt = json_dumps(m, LP_JSON_DUMP), *ref = references_of(p, "", &bad, &ignore);
            const json_t *md = lp_json_given(p, "metadata");
            char *mdt = md ? json_dumps(md, LP_JSON_DUMP) : NULL;
            lp_stmt_bind_int64(st, 1, set_id);
            lp_stmt_bind_text(st, 2, json_string_value(lp_json_given(p, "unique_id")));
            lp_stmt_bind_text(st, 3, mt);
            lp_stmt_bind_text(st, 4, ref);
            lp_stmt_bind_text(st, 5, mdt ? mdt : "{}");
            lp_stmt_bind_int64(st, 6, now);
            rc = lp_stmt_step(st);
            if (rc >= 0) {
                if (lp_db_changes(db) == 1)
                    (*added)++;
                else
                    (*existing)++;
            }
            lp_stmt_reset(st);
            json_decref(m);
            free(mt);
            free(ref);
            free(mdt);
            if (rc < 0) break;
        }
        lp_stmt_done(st);
    }
    if (rc >= 0)
        rc = lp_db_commit(db);
    else
        lp_db_rollback(db);
    return rc < 0 ? rc : 0;
}

int lp_pset_create(lp_db *db, const json_t *body, int64_t user_id, json_t **out, lp_verr *e)
{
    static const char *const keys[] = {"name", "prompts", NULL};
    int rc;
    *out = NULL;
    if ((rc = lp_v_object(body, "", e)) || (rc = lp_v_only_keys(body, "", keys, e)) ||
        (rc = lp_v_string(body, "name", "", 1, 1, 200, NULL, e)))
        return rc;
    const json_t *prompts = lp_json_given(body, "prompts");
    int64_t id = 0, added, existing;
    lp_stmt *st;
    if ((rc = lp_db_begin(db, LP_TX_WRITE)) < 0) return rc;
    rc = lp_db_prepare_insert(
        db, "INSERT INTO prompt_sets (name, created_by, created_at) VALUES (?, ?, ?)", &st);
    if (rc == 0) {
        lp_stmt_bind_text(st, 1, json_string_value(json_object_get(body, "name")));
        if (user_id)
            lp_stmt_bind_int64(st, 2, user_id);
        else
            lp_stmt_bind_null(st, 2);
        lp_stmt_bind_int64(st, 3, lp_now_ms());
        rc = lp_stmt_insert_id(st, &id, LP_EIO);
        lp_stmt_done(st);
    }
    if (rc == 0 && prompts) rc = lp_pset_add(db, id, prompts, "prompts", &added, &existing, e);
    if (rc == 0)
        rc = lp_db_commit(db);
    else
        lp_db_rollback(db);
    if (rc) return rc;
    return lp_pset_get(db, id, out);
}

static json_t *loads(const char *s)
{
    json_error_t je;
    json_t *v = s ? json_loads(s, 0, &je) : NULL;
    return v ? v : json_null();
}

/* Runs st (bound, LIMIT limit + 1) into a page: row(st) makes each item
 * (with an "id"), the extra row, if any, gives *next; releases st. */
static int page_of(lp_stmt *st, int limit, json_t *(*row)(lp_stmt *), json_t **items,
                   int64_t *next)
{
    json_t *list = json_array();
    int n = 0, rc;
    *items = NULL;
    *next = 0;
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        if (n++ == limit) {
            *next = json_integer_value(json_object_get(json_array_get(list, limit - 1), "id"));
            break;
        }
        json_array_append_new(list, row(st));
    }
    lp_stmt_done(st);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *items = list;
    return 0;
}

/* A row of lp_pset_prompts' select. */
static json_t *prompt_row(lp_stmt *st)
{
    json_t *o = json_pack("{s:I, s:o, s:o, s:o, s:o}", "id", (json_int_t)lp_stmt_int64(st, 0),
                          "messages", loads(lp_stmt_text(st, 2)), "reference",
                          loads(lp_stmt_text(st, 3)), "metadata", loads(lp_stmt_text(st, 4)),
                          "created_at", lp_json_time(lp_stmt_int64(st, 5)));
    json_object_set_new(o, "unique_id",
                        lp_stmt_is_null(st, 1) ? json_null() : json_string(lp_stmt_text(st, 1)));
    return o;
}

int lp_pset_prompts(lp_db *db, int64_t set_id, int limit, int64_t after, json_t **items,
                    int64_t *next)
{
    lp_stmt *st;
    *items = NULL;
    *next = 0;
    int rc = lp_db_prepare(db,
                           "SELECT id, unique_id, messages, reference, metadata, created_at FROM"
                           " prompts WHERE set_id = ? AND id > ? ORDER BY id LIMIT ?",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, set_id);
    lp_stmt_bind_int64(st, 2, after);
    lp_stmt_bind_int64(st, 3, limit + 1);
    return page_of(st, limit, prompt_row, items, next);
}

/* ---- generations ---- */

int lp_gen_owner(lp_db *db, int64_t id, int64_t *owner)
{
    return owner_of(db, "SELECT created_by FROM generations WHERE id = ?", id, owner);
}

int lp_gen_create(lp_db *db, const json_t *body, int64_t user_id, json_t **out, lp_verr *e)
{
    static const char *const keys[] = {"prompt_set_id", "endpoints", "params", "samples", "name",
                                       NULL};
    long long set_id, samples = 1;
    const json_t *eps;
    int rc;
    *out = NULL;
    if ((rc = lp_v_object(body, "", e)) || (rc = lp_v_only_keys(body, "", keys, e)) ||
        (rc = lp_v_int(body, "prompt_set_id", "", 1, 1, INT64_MAX, &set_id, e)) ||
        (rc = lp_v_array(body, "endpoints", "", 1, 1, MAX_ENDPOINTS, &eps, e)) ||
        (rc = lp_v_int(body, "samples", "", 0, 1, MAX_SAMPLES, &samples, e)) ||
        (rc = lp_v_string(body, "name", "", 0, 1, 200, NULL, e)))
        return rc;
    const json_t *params = lp_json_given(body, "params");
    if (params && (rc = lp_llm_check_params(params, "params", e))) return rc;
    int64_t ids[MAX_ENDPOINTS];
    size_t n = json_array_size(eps), i;
    const json_t *v;
    char at[64];
    json_array_foreach(eps, i, v)
    {
        lp_path_index(at, sizeof at, "endpoints", i);
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            return lp_verr_set(e, at, "must be a model endpoint's id");
        ids[i] = json_integer_value(v);
        for (size_t j = 0; j < i; j++)
            if (ids[j] == ids[i]) return lp_verr_set(e, at, "names endpoint %lld twice", (long long)ids[i]);
    }
    if ((rc = lp_db_begin(db, LP_TX_WRITE)) < 0) return rc;
    int64_t x = 0, nprompts = 0, gid = 0, now = lp_now_ms();
    rc = lp_db_int64(db, &nprompts, "SELECT COUNT(*) FROM prompts WHERE set_id = ?", "i", set_id);
    if (rc == 0 && lp_db_int64(db, &x, "SELECT id FROM prompt_sets WHERE id = ?", "i", set_id) != 0)
        rc = lp_verr_set(e, "prompt_set_id", "no prompt set has the id %lld", set_id);
    else if (rc == 0 && nprompts == 0)
        rc = lp_verr_set(e, "prompt_set_id", "the prompt set has no prompts yet");
    else if (rc == 0 && nprompts * (int64_t)n * samples > MAX_OUTPUTS)
        rc = lp_verr_set(e, "samples", "the job would make %lld outputs; at most %d",
                         (long long)(nprompts * (int64_t)n * samples), MAX_OUTPUTS);
    for (i = 0; rc == 0 && i < n; i++) {
        if (lp_db_int64(db, &x, "SELECT id FROM model_endpoints WHERE id = ?", "i", ids[i]) != 0) {
            lp_path_index(at, sizeof at, "endpoints", i);
            rc = lp_verr_set(e, at, "no model endpoint has the id %lld", (long long)ids[i]);
        }
    }
    char *eptext = json_dumps(eps, LP_JSON_DUMP);
    char *ptext = params ? json_dumps(params, LP_JSON_DUMP) : lp_strdup("{}");
    lp_stmt *st;
    if (rc == 0)
        rc = lp_db_prepare_insert(db,
                                  "INSERT INTO generations (set_id, name, endpoints, params,"
                                  " samples, created_by, created_at, updated_at) VALUES"
                                  " (?, ?, ?, ?, ?, ?, ?, ?)",
                                  &st);
    if (rc == 0) {
        lp_stmt_bind_int64(st, 1, set_id);
        lp_stmt_bind_text(st, 2, json_string_value(lp_json_given(body, "name")));
        lp_stmt_bind_text(st, 3, eptext);
        lp_stmt_bind_text(st, 4, ptext);
        lp_stmt_bind_int64(st, 5, samples);
        if (user_id)
            lp_stmt_bind_int64(st, 6, user_id);
        else
            lp_stmt_bind_null(st, 6);
        lp_stmt_bind_int64(st, 7, now);
        lp_stmt_bind_int64(st, 8, now);
        rc = lp_stmt_insert_id(st, &gid, LP_EIO);
        lp_stmt_done(st);
    }
    /* one output per prompt, endpoint and sample, in prompt order so the
     * first results come early for every endpoint */
    for (i = 0; rc == 0 && i < n; i++)
        for (long long s = 0; rc == 0 && s < samples; s++)
            rc = lp_db_run(db,
                           "INSERT INTO gen_outputs (generation_id, prompt_id, endpoint_id, sample,"
                           " updated_at) SELECT ?, id, ?, ?, ? FROM prompts WHERE set_id = ?",
                           "iiiii", gid, ids[i], (int64_t)s, now, (int64_t)set_id);
    free(eptext);
    free(ptext);
    if (rc == 0)
        rc = lp_db_commit(db);
    else
        lp_db_rollback(db);
    if (rc) return rc;
    return lp_gen_get(db, gid, out);
}

/* Mean and standard error of the column col (exact_match or f1) of an
 * endpoint's done outputs, added to o as name and name_se. */
static int add_metric(lp_db *db, int64_t gid, int64_t ep, const char *col, const char *name,
                      json_t *o)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(%s), AVG(%s), AVG(%s * %s) FROM gen_outputs WHERE generation_id = ? AND"
             " endpoint_id = ? AND state = 'done' AND %s IS NOT NULL",
             col, col, col, col, col);
    lp_stmt *st;
    int rc = lp_db_prepare(db, sql, &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, gid);
    lp_stmt_bind_int64(st, 2, ep);
    if ((rc = lp_stmt_step(st)) == LP_DB_ROW && lp_stmt_int64(st, 0) > 0) {
        double n = (double)lp_stmt_int64(st, 0), mean = lp_stmt_double(st, 1),
               sq = lp_stmt_double(st, 2);
        /* sample standard deviation over sqrt(n) */
        double var = n > 1 ? fmax(0, (sq - mean * mean) * n / (n - 1)) : 0;
        char se[64];
        snprintf(se, sizeof se, "%s_se", name);
        json_object_set_new(o, name, json_real(mean));
        json_object_set_new(o, se, n > 1 ? json_real(sqrt(var / n)) : json_null());
    }
    lp_stmt_done(st);
    return rc < 0 ? rc : 0;
}

/* The job with its progress; brief (the list) leaves out the scores and
 * the latest errors, which the list does not show. */
static int gen_view(lp_db *db, int64_t id, int brief, json_t **out)
{
    lp_stmt *st;
    *out = NULL;
    int rc = lp_db_prepare(db,
                           "SELECT set_id, name, endpoints, params, samples, state, created_by,"
                           " created_at, updated_at FROM generations WHERE id = ?",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, id);
    json_t *g = NULL;
    if ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        g = json_pack("{s:I, s:I, s:o, s:o, s:I, s:s, s:o, s:o}", "id", (json_int_t)id,
                      "prompt_set_id", (json_int_t)lp_stmt_int64(st, 0), "endpoints",
                      loads(lp_stmt_text(st, 2)), "params", loads(lp_stmt_text(st, 3)), "samples",
                      (json_int_t)lp_stmt_int64(st, 4), "state", lp_stmt_text(st, 5), "created_at",
                      lp_json_time(lp_stmt_int64(st, 7)), "updated_at",
                      lp_json_time(lp_stmt_int64(st, 8)));
        json_object_set_new(g, "name", lp_stmt_is_null(st, 1) ? json_null()
                                                              : json_string(lp_stmt_text(st, 1)));
        json_object_set_new(g, "created_by", lp_stmt_is_null(st, 6)
                                                 ? json_null()
                                                 : json_integer(lp_stmt_int64(st, 6)));
    }
    lp_stmt_done(st);
    if (!g) return rc < 0 ? rc : LP_ENOTFOUND;
    /* per endpoint: outputs by state, latency and tokens */
    rc = lp_db_prepare(db,
                       "SELECT o.endpoint_id, e.name, e.model, o.state, COUNT(*), AVG(o.latency_ms),"
                       " SUM(o.prompt_tokens), SUM(o.completion_tokens) FROM gen_outputs o LEFT"
                       " JOIN model_endpoints e ON e.id = o.endpoint_id WHERE o.generation_id = ?"
                       " GROUP BY o.endpoint_id, e.name, e.model, o.state ORDER BY o.endpoint_id",
                       &st);
    json_t *per = json_array(), *cur = NULL, *totals = json_pack("{s:i, s:i, s:i, s:i}", "waiting",
                                                                  0, "done", 0, "failed", 0,
                                                                  "total", 0);
    int64_t cur_id = -1;
    if (rc == 0) {
        lp_stmt_bind_int64(st, 1, id);
        while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
            int64_t ep = lp_stmt_int64(st, 0), n = lp_stmt_int64(st, 4);
            const char *state = lp_stmt_text(st, 3);
            if (ep != cur_id) {
                cur_id = ep;
                cur = json_pack("{s:I, s:o, s:o, s:i, s:i, s:i}", "endpoint_id", (json_int_t)ep,
                                "name",
                                lp_stmt_is_null(st, 1) ? json_null()
                                                       : json_string(lp_stmt_text(st, 1)),
                                "model",
                                lp_stmt_is_null(st, 2) ? json_null()
                                                       : json_string(lp_stmt_text(st, 2)),
                                "waiting", 0, "done", 0, "failed", 0);
                json_array_append_new(per, cur);
            }
            json_object_set_new(cur, state, json_integer(n));
            json_object_set_new(totals, state,
                                json_integer(json_integer_value(json_object_get(totals, state)) + n));
            json_object_set_new(totals, "total",
                                json_integer(json_integer_value(json_object_get(totals, "total")) + n));
            if (!strcmp(state, "done")) {
                json_object_set_new(cur, "mean_latency_ms",
                                    lp_stmt_is_null(st, 5) ? json_null()
                                                           : json_real(lp_stmt_double(st, 5)));
                json_object_set_new(cur, "prompt_tokens", json_integer(lp_stmt_int64(st, 6)));
                json_object_set_new(cur, "completion_tokens", json_integer(lp_stmt_int64(st, 7)));
            }
        }
        lp_stmt_done(st);
    }
    size_t i;
    json_t *v;
    json_array_foreach(per, i, v)
    {
        if (brief) break;
        int64_t ep = json_integer_value(json_object_get(v, "endpoint_id"));
        if (rc >= 0) rc = add_metric(db, id, ep, "exact_match", "exact_match", v);
        if (rc >= 0) rc = add_metric(db, id, ep, "f1", "f1", v);
    }
    /* the latest errors */
    json_t *errors = json_array();
    if (rc >= 0 && !brief)
        rc = lp_db_prepare(db,
                           "SELECT id, prompt_id, endpoint_id, state, attempts, error, updated_at"
                           " FROM gen_outputs WHERE generation_id = ? AND error IS NOT NULL ORDER"
                           " BY updated_at DESC, id DESC LIMIT 10",
                           &st);
    if (rc >= 0 && !brief) {
        lp_stmt_bind_int64(st, 1, id);
        while ((rc = lp_stmt_step(st)) == LP_DB_ROW)
            json_array_append_new(
                errors, json_pack("{s:I, s:I, s:I, s:s, s:I, s:s, s:o}", "output_id",
                                  (json_int_t)lp_stmt_int64(st, 0), "prompt_id",
                                  (json_int_t)lp_stmt_int64(st, 1), "endpoint_id",
                                  (json_int_t)lp_stmt_int64(st, 2), "state", lp_stmt_text(st, 3),
                                  "attempts", (json_int_t)lp_stmt_int64(st, 4), "error",
                                  lp_stmt_text(st, 5), "at", lp_json_time(lp_stmt_int64(st, 6))));
        lp_stmt_done(st);
    }
    json_object_set_new(g, "outputs", totals);
    json_object_set_new(g, "per_endpoint", per);
    if (brief)
        json_decref(errors);
    else
        json_object_set_new(g, "errors", errors);
    if (rc < 0) {
        json_decref(g);
        return rc;
    }
    *out = g;
    return 0;
}

int lp_gen_get(lp_db *db, int64_t id, json_t **out)
{
    return gen_view(db, id, 0, out);
}

int lp_gen_list(lp_db *db, int64_t owner, json_t **out)
{
    lp_stmt *st;
    *out = NULL;
    int rc = lp_db_prepare(db,
                           "SELECT id FROM generations WHERE ? = 0 OR created_by = ? ORDER BY id"
                           " DESC LIMIT 200",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, owner);
    lp_stmt_bind_int64(st, 2, owner);
    int64_t ids[200];
    int n = 0;
    while (n < 200 && (rc = lp_stmt_step(st)) == LP_DB_ROW) ids[n++] = lp_stmt_int64(st, 0);
    lp_stmt_done(st);
    if (rc < 0) return rc;
    json_t *items = json_array();
    for (int i = 0; i < n; i++) {
        json_t *g;
        if ((rc = gen_view(db, ids[i], 1, &g)) < 0) {
            json_decref(items);
            return rc;
        }
        json_array_append_new(items, g);
    }
    *out = json_pack("{s:o}", "items", items);
    return 0;
}

/* A row of lp_gen_outputs' select. */
static json_t *output_row(lp_stmt *st)
{
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:s, s:I, s:o}", "id",
                          (json_int_t)lp_stmt_int64(st, 0), "prompt_id",
                          (json_int_t)lp_stmt_int64(st, 1), "endpoint_id",
                          (json_int_t)lp_stmt_int64(st, 2), "sample",
                          (json_int_t)lp_stmt_int64(st, 3), "state", lp_stmt_text(st, 4),
                          "attempts", (json_int_t)lp_stmt_int64(st, 5), "updated_at",
                          lp_json_time(lp_stmt_int64(st, 16)));
    static const char *const texts[] = {"error", "model", NULL, "content", "finish_reason"};
    for (int c = 0; c < 5; c++) {
        if (c == 2) {
            json_object_set_new(o, "params", loads(lp_stmt_text(st, 8)));
            continue;
        }
        json_object_set_new(o, texts[c], lp_stmt_is_null(st, 6 + c)
                                             ? json_null()
                                             : json_string(lp_stmt_text(st, 6 + c)));
    }
    static const char *const ints[] = {"latency_ms", "prompt_tokens", "completion_tokens"};
    for (int c = 0; c < 3; c++)
        json_object_set_new(o, ints[c], lp_stmt_is_null(st, 11 + c)
                                            ? json_null()
                                            : json_integer(lp_stmt_int64(st, 11 + c)));
    json_object_set_new(o, "exact_match",
                        lp_stmt_is_null(st, 14) ? json_null() : json_real(lp_stmt_double(st, 14)));
    json_object_set_new(o, "f1",
                        lp_stmt_is_null(st, 15) ? json_null() : json_real(lp_stmt_double(st, 15)));
    return o;
}

int lp_gen_outputs(lp_db *db, int64_t id, const char *state, int limit, int64_t after,
                   json_t **items, int64_t *next)
{
    lp_stmt *st;
    *items = NULL;
    *next = 0;
    int rc = lp_db_prepare(
        db,
        "SELECT o.id, o.prompt_id, o.endpoint_id, o.sample, o.state, o.attempts, o.error,"
        " o.model, o.params, o.content, o.finish_reason, o.latency_ms, o.prompt_tokens,"
        " o.completion_tokens, o.exact_match, o.f1, o.updated_at FROM gen_outputs o WHERE"
        " o.generation_id = ? AND o.id > ? AND (CAST(? AS TEXT) IS NULL OR o.state = ?) ORDER BY"
        " o.id LIMIT ?",
        &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, id);
    lp_stmt_bind_int64(st, 2, after);
    lp_stmt_bind_text(st, 3, state);
    lp_stmt_bind_text(st, 4, state);
    lp_stmt_bind_int64(st, 5, limit + 1);
    return page_of(st, limit, output_row, items, next);
}

int lp_gen_cancel(lp_db *db, int64_t id)
{
    int64_t x;
    int rc = lp_db_int64(db, &x, "SELECT id FROM generations WHERE id = ?", "i", id);
    if (rc) return rc;
    return lp_db_run(db,
                     "UPDATE generations SET state = 'cancelled', updated_at = ? WHERE id = ? AND"
                     " state = 'running'",
                     "ii", lp_now_ms(), id);
}

int lp_gen_retry(lp_db *db, int64_t id, int64_t *requeued)
{
    int64_t x, now = lp_now_ms();
    *requeued = 0;
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc < 0) return rc;
    rc = lp_db_int64(db, &x, "SELECT id FROM generations WHERE id = ?", "i", id);
    if (rc == 0)
        rc = lp_db_run(db,
                       "UPDATE gen_outputs SET state = 'waiting', attempts = 0, next_at = 0,"
                       " claimed_until = 0, updated_at = ? WHERE generation_id = ? AND state ="
                       " 'failed'",
                       "ii", now, id);
    if (rc == 0) *requeued = lp_db_changes(db);
    if (rc == 0)
        rc = lp_db_run(db,
                       "UPDATE generations SET state = 'running', updated_at = ? WHERE id = ? AND"
                       " EXISTS (SELECT 1 FROM gen_outputs WHERE generation_id = ? AND state ="
                       " 'waiting')",
                       "iii", now, id, id);
    if (rc == 0)
        rc = lp_db_commit(db);
    else
        lp_db_rollback(db);
    return rc;
}
