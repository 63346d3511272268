/* generate_tasks.c -- tasks for a project from a generation's outputs
 * (lp_gen_to_tasks, generate.h). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generate.h"
#include "llm.h"
#include "tasks.h"
#include "util.h"

#define MAX_PAIRS_PER_PROMPT 1000

/* splitmix64: a small seeded generator, so a design repeats for a seed. */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static size_t below(uint64_t *s, size_t n)
{
    return (size_t)(next_rand(s) % n);
}

/* One finished output. */
typedef struct out {
    int64_t id, prompt_id, endpoint_id;
    char *text, *model;
} out;

/* A prompt's outputs are outs[from, to). */
typedef struct ctx {
    lp_db *db;
    const lp_project *p;
    lp_task_writer w;
    int64_t gid, created, existing;
    json_t *messages; /* the current prompt's */
    lp_verr *e;
} ctx;

/* The task data's prompt part: the last user message, and the whole
 * conversation when there is more to it. */
static json_t *data_for(const json_t *messages)
{
    const char *last = lp_llm_last_user(messages);
    json_t *d = json_pack("{s:s}", "prompt", last ? last : "");
    if (json_array_size(messages) > 1) json_object_set(d, "messages", (json_t *)messages);
    return d;
}

/* Adds a task; 1 with *tid when it is new, 0 when the project has its
 * unique_id already (counted), or an error. */
static int insert(ctx *c, json_t *data, const char *uid, int64_t *tid)
{
    json_t *task = json_pack("{s:o, s:s}", "data", data, "unique_id", uid);
    int rc = lp_task_writer_add(&c->w, task, tid, c->e);
    json_decref(task);
    if (rc == LP_EEXISTS) {
        c->existing++;
        return 0;
    }
    if (rc < 0) return rc;
    c->created++;
    return 1;
}

/* Records that response rid of task tid is output o, shown at pos. */
static int source(ctx *c, int64_t tid, const char *rid, const out *o, int64_t pos)
{
    return lp_db_run(c->db,
                     "INSERT INTO task_outputs (task_id, response_id, output_id, model, position)"
                     " VALUES (?, ?, ?, ?, ?)",
                     "isisi", tid, rid, o->id, o->model, pos);
}

/* Adds one task and, when it is new, where its one text came from: the
 * response rid (the draft), from output o, at position pos within it. */
static int add_one(ctx *c, json_t *data, const char *uid, const out *o, const char *rid,
                   int64_t pos)
{
    int64_t tid = 0;
    int rc = insert(c, data, uid, &tid);
    return rc == 1 ? source(c, tid, rid, o, pos) : rc;
}

/* Adds one task and, when it is new, where its responses came from: each
 * response "o<output id>" at its position. */
static int add(ctx *c, json_t *data, const char *uid, out *const *os, size_t n)
{
    int64_t tid = 0;
    int rc = insert(c, data, uid, &tid);
    if (rc != 1) return rc;
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char rid[32];
        snprintf(rid, sizeof rid, "o%lld", (long long)os[i]->id);
        rc = source(c, tid, rid, os[i], (int64_t)i);
    }
    return rc;
}

static json_t *response(const out *o)
{
    char rid[32];
    snprintf(rid, sizeof rid, "o%lld", (long long)o->id);
    return json_pack("{s:s, s:s}", "id", rid, "text", o->text);
}

/* Comparison tasks for one prompt's outputs os[0..n). */
static int pairs(ctx *c, out *os, size_t n, int sampled, size_t per_prompt, uint64_t *rng)
{
    size_t np = 0, cap = n * (n - 1) / 2;
    size_t(*list)[2] = lp_malloc((cap ? cap : 1) * sizeof *list);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (os[i].endpoint_id != os[j].endpoint_id) list[np][0] = i, list[np++][1] = j;
    size_t take = sampled && per_prompt < np ? per_prompt : np;
    int rc = 0;
    for (size_t k = 0; k < take && rc == 0; k++) {
        if (sampled) { /* a partial Fisher-Yates shuffle picks without replacement */
            size_t r = k + below(rng, np - k);
            size_t t0 = list[k][0], t1 = list[k][1];
            list[k][0] = list[r][0], list[k][1] = list[r][1];
            list[r][0] = t0, list[r][1] = t1;
        }
        out *a = &os[list[k][0]], *b = &os[list[k][1]];
        char uid[96];
        snprintf(uid, sizeof uid, "gen%lld:o%lld-o%lld", (long long)c->gid, (long long)a->id,
                 (long long)b->id);
        if (below(rng, 2)) {
            out *t = a;
            a = b, b = t;
        }
        json_t *d = data_for(c->messages);
        json_object_set_new(d, "responses", json_pack("[o, o]", response(a), response(b)));
        out *shown[2] = {a, b};
        rc = add(c, d, uid, shown, 2);
    }
    free(list);
    return rc;
}

static int ranking(ctx *c, out *os, size_t n, uint64_t *rng)
{
    if (n < 2) return 0;
    out **order = lp_malloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++) order[i] = &os[i];
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = below(rng, i + 1);
        out *t = order[i];
        order[i] = order[j], order[j] = t;
    }
    json_t *d = data_for(c->messages), *rs = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(rs, response(order[i]));
    json_object_set_new(d, "responses", rs);
    char uid[64];
    snprintf(uid, sizeof uid, "gen%lld:p%lld", (long long)c->gid, (long long)os[0].prompt_id);
    int rc = add(c, d, uid, order, n);
    free(order);
    return rc;
}

static int rating(ctx *c, out *os, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *d = data_for(c->messages);
        json_object_set_new(d, "response", json_string(os[i].text));
        char uid[64];
        snprintf(uid, sizeof uid, "gen%lld:o%lld", (long long)c->gid, (long long)os[i].id);
        out *one[1] = {&os[i]};
        rc = add(c, d, uid, one, 1);
    }
    return rc;
}

#define MAX_DRAFTS 1000 /* items taken from one output */

/* s[0..n) without white space at either end. */
static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t' || **s == '\r' || **s == '\n')) (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r' ||
                  (*s)[*n - 1] == '\n'))
        (*n)--;
}

/* The items a model drafted in text, as a JSON array of strings (new): a
 * JSON list of strings (inside a ``` fence or not), else one item per
 * non-empty line with its bullet or number ("-", "*", "1.", "2)")
 * dropped. */
json_t *lp_gen_split_drafts(const char *text)
{
    const char *s = text ? text : "";
    size_t n = strlen(s);
    trim(&s, &n);
    if (n >= 3 && !strncmp(s, "```", 3)) { /* a fenced block: its inside */
        const char *nl = memchr(s, '\n', n);
        if (nl) {
            n -= (size_t)(nl + 1 - s);
            s = nl + 1;
            if (n >= 3 && !strncmp(s + n - 3, "```", 3)) n -= 3;
            trim(&s, &n);
        }
    }
    json_t *out = json_array();
    json_error_t je;
    json_t *list = n && s[0] == '[' ? json_loadb(s, n, 0, &je) : NULL;
    if (json_is_array(list) && json_array_size(list)) {
        size_t i;
        json_t *v;
        int strings = 1;
        json_array_foreach(list, i, v) strings &= json_is_string(v);
        if (strings) {
            json_array_foreach(list, i, v)
            {
                if (json_array_size(out) < MAX_DRAFTS && json_string_length(v))
                    json_array_append(out, v);
            }
            json_decref(list);
            return out;
        }
    }
    json_decref(list);
    while (n && json_array_size(out) < MAX_DRAFTS) {
        const char *nl = memchr(s, '\n', n);
        size_t len = nl ? (size_t)(nl - s) : n;
        const char *line = s;
        size_t ln = len;
        trim(&line, &ln);
        /* a bullet, or a number followed by . or ) */
        if (ln && (line[0] == '-' || line[0] == '*' || line[0] == '+')) {
            line++, ln--;
        } else {
            size_t d = 0;
            while (d < ln && d < 4 && line[d] >= '0' && line[d] <= '9') d++;
            if (d && d < ln && (line[d] == '.' || line[d] == ')')) line += d + 1, ln -= d + 1;
        }
        trim(&line, &ln);
        if (ln) json_array_append_new(out, json_stringn_nocheck(line, ln));
        if (!nl) break;
        n -= len + 1;
        s = nl + 1;
    }
    return out;
}

/* Draft tasks for a textcollection project: one per item of each output
 * (split) or one per output. */
static int drafts(ctx *c, out *os, size_t n, int split)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *items = split ? lp_gen_split_drafts(os[i].text) : json_pack("[s]", os[i].text);
        size_t k;
        json_t *item;
        json_array_foreach(items, k, item)
        {
            if (rc) break;
            json_t *d = data_for(c->messages);
            json_object_set(d, "draft", item);
            char uid[96];
            snprintf(uid, sizeof uid, "gen%lld:o%lld:i%zu", (long long)c->gid, (long long)os[i].id, k);
            rc = add_one(c, d, uid, &os[i], "draft", (int64_t)k);
        }
        json_decref(items);
    }
    return rc;
}

int lp_gen_to_tasks(lp_db *db, const lp_project *p, const json_t *body, int64_t reader,
                    json_t **result, lp_verr *e)
{
    static const char *const keys[] = {"generation_id", "design", "pairs_per_prompt", "seed",
                                       "split",         NULL};
    static const char *const splits[] = {"items", "whole", NULL};
    static const char *const designs[] = {"all_pairs", "sampled", NULL};
    long long gid, per = 1, seed = 0;
    size_t design = 0, split = 0;
    int rc;
    *result = NULL;
    const char *kind = p->kind->name;
    int is_cmp = !strcmp(kind, "comparison"), is_rank = !strcmp(kind, "ranking"),
        is_rate = !strcmp(kind, "rating"), is_text = !strcmp(kind, "textcollection");
    if ((rc = lp_v_object(body, "", e)) || (rc = lp_v_only_keys(body, "", keys, e)) ||
        (rc = lp_v_int(body, "generation_id", "", 1, 1, INT64_MAX, &gid, e)) ||
        (rc = lp_v_int(body, "pairs_per_prompt", "", 0, 1, MAX_PAIRS_PER_PROMPT, &per, e)) ||
        (rc = lp_v_int(body, "seed", "", 0, INT64_MIN, INT64_MAX, &seed, e)))
        return rc;
    if (lp_json_given(body, "design") &&
        (rc = lp_v_one_of(json_object_get(body, "design"), "design", designs, "a design", &design, e)))
        return rc;
    if (lp_json_given(body, "split") &&
        (rc = lp_v_one_of(json_object_get(body, "split"), "split", splits, "a split", &split, e)))
        return rc;
    if (!is_cmp && !is_rank && !is_rate && !is_text)
        return lp_verr_set(e, "project",
                           "tasks from a generation go to a comparison, ranking, rating or "
                           "textcollection project; this one is %s",
                           kind);
    if (!is_text && lp_json_given(body, "split"))
        return lp_verr_set(e, "split", "applies to textcollection projects only");
    if (!is_cmp && (lp_json_given(body, "design") || lp_json_given(body, "pairs_per_prompt")))
        return lp_verr_set(e, lp_json_given(body, "design") ? "design" : "pairs_per_prompt",
                           "applies to comparison projects only");
    if (!lp_json_given(body, "seed")) randombytes_buf(&seed, sizeof seed);
    int64_t x;
    if ((rc = lp_db_int64(db, &x, "SELECT id FROM generations WHERE id = ?", "i", (int64_t)gid)) ==
        LP_ENOTFOUND)
        return lp_verr_set(e, "generation_id", "no generation has the id %lld", gid);
    if (rc < 0) return rc;

    /* the finished outputs, prompt by prompt */
    lp_stmt *st;
    out *os = NULL;
    size_t n = 0, cap = 0;
    json_t **msgs = NULL;
    rc = lp_db_prepare(db,
                       "SELECT o.id, o.prompt_id, o.endpoint_id, o.content, COALESCE(e.name,"
                       " o.model, 'endpoint ' || o.endpoint_id), p.messages FROM gen_outputs o"
                       " JOIN prompts p ON p.id = o.prompt_id LEFT JOIN model_endpoints e ON e.id"
                       " = o.endpoint_id WHERE o.generation_id = ? AND o.state = 'done' ORDER BY"
                       " o.prompt_id, o.id",
                       &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, gid);
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            os = lp_realloc(os, cap * sizeof *os);
            msgs = lp_realloc(msgs, cap * sizeof *msgs);
        }
        json_error_t je;
        os[n] = (out){.id = lp_stmt_int64(st, 0),
                      .prompt_id = lp_stmt_int64(st, 1),
                      .endpoint_id = lp_stmt_int64(st, 2),
                      .text = lp_strdup(lp_stmt_text(st, 3) ? lp_stmt_text(st, 3) : ""),
                      .model = lp_strdup(lp_stmt_text(st, 4))};
        msgs[n] = json_loads(lp_stmt_text(st, 5), 0, &je);
        n++;
    }
    lp_stmt_done(st);
    ctx c = {.db = db, .p = p, .gid = gid, .e = e};
    if (rc >= 0) {
        rc = lp_db_begin(db, LP_TX_WRITE);
        lp_task_writer_init(&c.w, db, p);
        c.w.reader = reader;
        for (size_t i = 0; rc >= 0 && i < n;) {
            size_t j = i;
            while (j < n && os[j].prompt_id == os[i].prompt_id) j++;
            uint64_t rng = (uint64_t)seed ^ ((uint64_t)os[i].prompt_id * 0x9E3779B97F4A7C15ull);
            c.messages = msgs[i];
            rc = is_cmp    ? pairs(&c, os + i, j - i, design == 1, (size_t)per, &rng)
                 : is_rank ? ranking(&c, os + i, j - i, &rng)
                 : is_text ? drafts(&c, os + i, j - i, split == 0)
                           : rating(&c, os + i, j - i);
            i = j;
        }
        if (rc >= 0) rc = lp_task_writer_flush(&c.w);
        if (rc >= 0)
            rc = lp_db_commit(db);
        else if (lp_db_in_tx(db))
            lp_db_rollback(db);
        lp_task_writer_fini(&c.w);
    }
    for (size_t i = 0; i < n; i++) {
        free(os[i].text);
        free(os[i].model);
        json_decref(msgs[i]);
    }
    free(os);
    free(msgs);
    if (rc < 0) return rc;
    *result = json_pack("{s:I, s:I, s:I}", "created", (json_int_t)c.created, "existing",
                        (json_int_t)c.existing, "seed", (json_int_t)seed);
    return 0;
}
