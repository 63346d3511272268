/* leaderboard_db.c -- a project's leaderboard (leaderboard.h) from its
 * accepted annotations.
 *
 * Every accepted annotation of a comparison or ranking project is a vote.
 * A response of its task names a model through task_outputs (tasks made
 * from a generation, generate.h) or, for imported tasks, the task's
 * metadata.models ({"response id": "model name"}).  A comparison's choice
 * beats each other response; a tie, and "both bad", tie every pair
 * ("both bad" is counted apart too); a ranking gives every pair of its
 * items, the better placed winning, items placed together tying.  Pairs of
 * responses by the same model, or whose model is unknown, are left out
 * (and counted).  Votes enter Elo in the order they were given.
 *
 * Position bias: for two-response comparisons, how often the response
 * shown first (left) won among the decisive votes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "generate.h"
#include "leaderboard.h"
#include "util.h"

/* A response of a task made from a generation. */
typedef struct src {
    int64_t task_id;
    char *response_id, *model;
    int64_t position;
} src;

typedef struct names {
    char **v;
    size_t n, cap;
    json_t *index; /* name -> its id, a hash table (a vote gives several pairs) */
} names;

static uint32_t name_id(names *ns, const char *s)
{
    if (!ns->index) ns->index = json_object();
    json_t *known = json_object_get(ns->index, s);
    if (known) return (uint32_t)json_integer_value(known);
    if (json_object_set_new(ns->index, s, json_integer((json_int_t)ns->n)) < 0)
        for (size_t i = 0; i < ns->n; i++) /* (not UTF-8: cannot be a key) */
            if (!strcmp(ns->v[i], s)) return (uint32_t)i;
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 16;
        ns->v = lp_realloc(ns->v, ns->cap * sizeof *ns->v);
    }
    ns->v[ns->n] = lp_strdup(s);
    return (uint32_t)ns->n++;
}

typedef struct votes {
    lp_pair *p;
    size_t n, cap;
    uint64_t left, right, ties, both_bad, unknown, same, votes;
} votes;

static void push(votes *v, uint32_t a, uint32_t b, int winner)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 256;
        v->p = lp_realloc(v->p, v->cap * sizeof *v->p);
    }
    v->p[v->n++] = (lp_pair){.left = a, .right = b, .winner = winner};
}

/* The model of response rid of task tid, or NULL. */
static const char *model_of(const src *s, size_t ns, int64_t tid, const char *rid,
                            const json_t *meta, int64_t *position)
{
    size_t lo = 0, hi = ns;
    while (lo < hi) { /* first row of the task */
        size_t mid = (lo + hi) / 2;
        if (s[mid].task_id < tid) lo = mid + 1;
        else hi = mid;
    }
    for (size_t i = lo; i < ns && s[i].task_id == tid; i++)
        if (!strcmp(s[i].response_id, rid)) {
            *position = s[i].position;
            return s[i].model;
        }
    *position = -1;
    return json_string_value(json_object_get(json_object_get(meta, "models"), rid));
}

/* The response ids of a task's data, in order. */
static size_t response_ids(const json_t *data, const char **ids, size_t max, char buf[][24])
{
    const json_t *list = json_object_get(data, "responses"), *r;
    size_t i, n = 0;
    json_array_foreach(list, i, r)
    {
        if (n == max) break;
        const char *id = json_string_value(json_object_get(r, "id"));
        if (!id && json_is_string(r)) {
            snprintf(buf[n], 24, "%zu", i);
            id = buf[n];
        }
        if (id) ids[n++] = id;
    }
    return n;
}

#define MAX_RESPONSES 64

/* The pairs of one vote. */
static void vote(votes *v, names *ns, const src *s, size_t nsrc, int64_t tid, const json_t *data,
                 const json_t *meta, const json_t *resp, int ranking)
{
    const char *ids[MAX_RESPONSES];
    char buf[MAX_RESPONSES][24];
    size_t n = response_ids(data, ids, MAX_RESPONSES, buf);
    int64_t pos[MAX_RESPONSES];
    const char *model[MAX_RESPONSES];
    int rank[MAX_RESPONSES]; /* ranking: group index, lower is better; comparison: 0 chosen */
    for (size_t i = 0; i < n; i++) {
        model[i] = model_of(s, nsrc, tid, ids[i], meta, &pos[i]);
        rank[i] = -1;
    }
    v->votes++;
    int tie = 0;
    if (ranking) {
        const json_t *order = json_object_get(resp, "ranking"), *item;
        size_t g;
        json_array_foreach(order, g, item)
        {
            const json_t *members = json_is_array(item) ? item : NULL;
            size_t m = members ? json_array_size(members) : 1;
            for (size_t k = 0; k < m; k++) {
                const char *id = json_string_value(members ? json_array_get(members, k) : item);
                for (size_t i = 0; id && i < n; i++)
                    if (!strcmp(ids[i], id)) rank[i] = (int)g;
            }
        }
    } else {
        int bad = json_is_true(json_object_get(resp, "both_bad"));
        tie = bad || json_is_true(json_object_get(resp, "tie"));
        if (bad) v->both_bad++;
        const char *choice = json_string_value(json_object_get(resp, "choice"));
        for (size_t i = 0; i < n; i++) rank[i] = tie ? 0 : choice && !strcmp(ids[i], choice) ? 0 : 1;
        /* position bias: two responses shown left and right */
        if (n == 2) {
            int64_t p0 = pos[0] >= 0 ? pos[0] : 0;
            if (tie)
                v->ties++;
            else if ((rank[0] == 0) == (p0 == 0))
                v->left++;
            else
                v->right++;
        }
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            if (rank[i] < 0 || rank[j] < 0) continue;
            if (!ranking && !tie && rank[i] == rank[j]) continue; /* two losers: no information */
            if (!model[i] || !model[j]) {
                v->unknown++;
                continue;
            }
            if (!strcmp(model[i], model[j])) {
                v->same++;
                continue;
            }
            uint32_t a = name_id(ns, model[i]), b = name_id(ns, model[j]);
            push(v, a, b, rank[i] == rank[j] ? LP_PAIR_TIE : rank[i] < rank[j] ? LP_PAIR_LEFT : LP_PAIR_RIGHT);
        }
}

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

int lp_leaderboard_project(lp_db *db, const lp_project *p, const lp_leaderboard_opts *o,
                           json_t **out, lp_verr *e)
{
    *out = NULL;
    int ranking = !strcmp(p->kind->name, "ranking");
    if (!ranking && strcmp(p->kind->name, "comparison") != 0)
        return lp_verr_set(e, "project",
                           "a leaderboard ranks models from comparison or ranking projects; this "
                           "one is %s",
                           p->kind->name);
    /* where each response of the project's generated tasks came from */
    lp_stmt *st;
    src *s = NULL;
    size_t ns = 0, cap = 0;
    int rc = lp_db_prepare(db,
                           "SELECT o.task_id, o.response_id, o.model, o.position FROM task_outputs o"
                           " JOIN tasks t ON t.id = o.task_id WHERE t.project_id = ? ORDER BY"
                           " o.task_id",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, p->id);
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        if (ns == cap) {
            cap = cap ? cap * 2 : 256;
            s = lp_realloc(s, cap * sizeof *s);
        }
        s[ns++] = (src){.task_id = lp_stmt_int64(st, 0),
                        .response_id = lp_strdup(lp_stmt_text(st, 1)),
                        .model = lp_strdup(lp_stmt_text(st, 2)),
                        .position = lp_stmt_int64(st, 3)};
    }
    lp_stmt_done(st);
    votes v = {0};
    names nm = {0};
    if (rc >= 0)
        rc = lp_db_prepare(db,
                           "SELECT a.task_id, a.response, t.data, t.metadata FROM annotations a JOIN"
                           " tasks t ON t.id = a.task_id WHERE a.project_id = ? AND a.status ="
                           " 'accepted' ORDER BY a.id",
                           &st);
    if (rc >= 0) {
        lp_stmt_bind_int64(st, 1, p->id);
        while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
            json_error_t je;
            json_t *resp = json_loads(lp_stmt_text(st, 1), 0, &je);
            json_t *data = json_loads(lp_stmt_text(st, 2), 0, &je);
            json_t *meta = json_loads(lp_stmt_text(st, 3), 0, &je);
            if (resp && data) vote(&v, &nm, s, ns, lp_stmt_int64(st, 0), data, meta, resp, ranking);
            json_decref(resp);
            json_decref(data);
            json_decref(meta);
        }
        lp_stmt_done(st);
    }
    lp_leaderboard *lb = NULL;
    if (rc >= 0) rc = lp_leaderboard_compute(v.n, v.p, nm.n, o, &lb);
    if (rc >= 0) {
        json_t *models = json_array(), *matrix = json_array(), *order = json_array();
        /* best first */
        size_t *idx = lp_malloc((nm.n ? nm.n : 1) * sizeof *idx);
        for (size_t i = 0; i < nm.n; i++) idx[i] = i;
        for (size_t i = 1; i < nm.n; i++)
            for (size_t j = i; j > 0; j--) {
                double a = lb->model[idx[j]].rating, b = lb->model[idx[j - 1]].rating;
                if (!(a > b) && !(isnan(b) && !isnan(a))) break;
                size_t t = idx[j];
                idx[j] = idx[j - 1], idx[j - 1] = t;
            }
        for (size_t r = 0; r < nm.n; r++) {
            const lp_lb_model *m = &lb->model[idx[r]];
            json_array_append_new(
                models, json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:o}", "model",
                                  nm.v[idx[r]], "rank", (json_int_t)m->rank, "rating",
                                  num(m->rating), "lower", num(m->lower), "upper", num(m->upper),
                                  "elo", num(m->elo), "comparisons", (json_int_t)m->games, "wins",
                                  (json_int_t)m->wins, "ties", (json_int_t)m->ties, "losses",
                                  (json_int_t)m->losses, "win_rate", num(m->win_rate)));
            json_array_append_new(order, json_string(nm.v[idx[r]]));
            json_t *row = json_array();
            for (size_t c = 0; c < nm.n; c++)
                json_array_append_new(row, num(lb->win_rate[idx[r] * nm.n + idx[c]]));
            json_array_append_new(matrix, row);
        }
        free(idx);
        lp_position_bias pb;
        lp_leaderboard_position_bias(v.left, v.right, v.ties, lb->level, &pb);
        *out = json_pack("{s:o, s:{s:o, s:o}, s:I, s:I, s:I, s:{s:I, s:I}, s:I, s:f, s:b}",
                         "models", models, "win_rate", "models", order, "rows", matrix, "votes",
                         (json_int_t)v.votes, "comparisons", (json_int_t)v.n, "both_bad",
                         (json_int_t)v.both_bad, "skipped", "unknown_model",
                         (json_int_t)v.unknown, "same_model", (json_int_t)v.same, "rounds",
                         (json_int_t)lb->rounds, "level", lb->level, "prior", lb->prior);
        json_object_set_new(*out, "position_bias",
                            json_pack("{s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "left",
                                      (json_int_t)pb.left, "right", (json_int_t)pb.right, "ties",
                                      (json_int_t)pb.ties, "share", num(pb.share), "lower",
                                      num(pb.lower), "upper", num(pb.upper), "p_value",
                                      num(pb.p_value)));
        lp_leaderboard_free(lb);
    }
    for (size_t i = 0; i < ns; i++) {
        free(s[i].response_id);
        free(s[i].model);
    }
    free(s);
    for (size_t i = 0; i < nm.n; i++) free(nm.v[i]);
    free(nm.v);
    json_decref(nm.index);
    free(v.p);
    return rc < 0 ? rc : 0;
}
