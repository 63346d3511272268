/* generate_report.c -- how the humans judged a model's drafts
 * (lp_gen_draft_report, generate.h).
 *
 * A draft task of a textcollection project (made by lp_gen_to_tasks) came
 * from one output: one template prompt sent to one model.  Each accepted
 * annotation of it is a review: a rejection ({"rejected": true}), the
 * draft accepted unchanged (the text equal to data.draft, byte for byte),
 * or fixed (any other text).  The acceptance rate is the share of reviews
 * that kept the item (unchanged or fixed); only kept items export as
 * data. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "generate.h"
#include "llm.h"
#include "util.h"

typedef struct group {
    int64_t prompt_id; /* 0: a model's total */
    char *model, *prompt;
    int64_t drafts, accepted, fixed, rejected;
} group;

typedef struct groups {
    group *v;
    size_t n, cap;
} groups;

static group *find(groups *gs, int64_t prompt_id, const char *model)
{
    for (size_t i = 0; i < gs->n; i++)
        if (gs->v[i].prompt_id == prompt_id && !strcmp(gs->v[i].model, model)) return &gs->v[i];
    if (gs->n == gs->cap) {
        gs->cap = gs->cap ? gs->cap * 2 : 32;
        gs->v = lp_realloc(gs->v, gs->cap * sizeof *gs->v);
    }
    gs->v[gs->n] = (group){.prompt_id = prompt_id, .model = lp_strdup(model)};
    return &gs->v[gs->n++];
}

/* Wilson score interval of k successes in n at 95%. */
static void wilson(int64_t k, int64_t n, double *lo, double *hi)
{
    const double z = 1.959963984540054;
    if (n <= 0) {
        *lo = *hi = NAN;
        return;
    }
    double p = (double)k / (double)n, d = 1 + z * z / (double)n;
    double c = (p + z * z / (2.0 * (double)n)) / d;
    double h = z * sqrt(p * (1 - p) / (double)n + z * z / (4.0 * (double)n * (double)n)) / d;
    *lo = fmax(0, c - h);
    *hi = fmin(1, c + h);
}

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *view(const group *g, int with_prompt)
{
    int64_t reviewed = g->accepted + g->fixed + g->rejected;
    double lo, hi;
    wilson(g->accepted + g->fixed, reviewed, &lo, &hi);
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "model", g->model,
                          "drafts", (json_int_t)g->drafts, "reviewed", (json_int_t)reviewed,
                          "accepted", (json_int_t)g->accepted, "fixed", (json_int_t)g->fixed,
                          "rejected", (json_int_t)g->rejected, "acceptance_rate",
                          num(reviewed ? (double)(g->accepted + g->fixed) / (double)reviewed : NAN),
                          "unchanged_rate",
                          num(reviewed ? (double)g->accepted / (double)reviewed : NAN), "lower",
                          num(lo), "upper", num(hi));
    if (with_prompt) {
        json_object_set_new(o, "prompt_id", json_integer(g->prompt_id));
        json_object_set_new(o, "prompt", g->prompt ? json_string(g->prompt) : json_null());
    }
    return o;
}

int lp_gen_draft_report(lp_db *db, const lp_project *p, json_t **out, lp_verr *e)
{
    *out = NULL;
    if (strcmp(p->kind->name, "textcollection") != 0)
        return lp_verr_set(e, "project",
                           "draft reports are for textcollection projects that review drafts; "
                           "this one is %s",
                           p->kind->name);
    groups gs = {0};
    lp_stmt *st;
    /* the drafts, per template and model */
    int rc = lp_db_prepare(db,
                           "SELECT g.prompt_id, o.model, p.messages, COUNT(*) FROM task_outputs o"
                           " JOIN tasks t ON t.id = o.task_id JOIN gen_outputs g ON g.id ="
                           " o.output_id JOIN prompts p ON p.id = g.prompt_id WHERE t.project_id"
                           " = ? AND o.response_id = 'draft' GROUP BY g.prompt_id, o.model,"
                           " p.messages ORDER BY g.prompt_id, o.model",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, p->id);
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        group *g = find(&gs, lp_stmt_int64(st, 0), lp_stmt_text(st, 1));
        json_error_t je;
        json_t *m = json_loads(lp_stmt_text(st, 2), 0, &je);
        const char *last = lp_llm_last_user(m);
        g->prompt = last ? lp_strdup(last) : NULL;
        json_decref(m);
        g->drafts += lp_stmt_int64(st, 3);
        find(&gs, 0, lp_stmt_text(st, 1))->drafts += lp_stmt_int64(st, 3);
    }
    lp_stmt_done(st);
    /* the reviews */
    if (rc >= 0)
        rc = lp_db_prepare(db,
                           "SELECT g.prompt_id, o.model, a.response, t.data FROM annotations a JOIN"
                           " tasks t ON t.id = a.task_id JOIN task_outputs o ON o.task_id ="
                           " a.task_id AND o.response_id = 'draft' JOIN gen_outputs g ON g.id ="
                           " o.output_id WHERE a.project_id = ? AND a.status = 'accepted'",
                           &st);
    if (rc >= 0) {
        lp_stmt_bind_int64(st, 1, p->id);
        while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
            json_error_t je;
            json_t *r = json_loads(lp_stmt_text(st, 2), 0, &je);
            json_t *d = json_loads(lp_stmt_text(st, 3), 0, &je);
            group *g = find(&gs, lp_stmt_int64(st, 0), lp_stmt_text(st, 1));
            group *t = find(&gs, 0, lp_stmt_text(st, 1));
            const char *text = json_string_value(json_object_get(r, "text"));
            const char *draft = json_string_value(json_object_get(d, "draft"));
            int64_t *slot = json_is_true(json_object_get(r, "rejected")) ? &g->rejected
                            : text && draft && !strcmp(text, draft) ? &g->accepted
                                                                      : &g->fixed;
            (*slot)++;
            (*(slot == &g->rejected ? &t->rejected : slot == &g->accepted ? &t->accepted
                                                                           : &t->fixed))++;
            json_decref(r);
            json_decref(d);
        }
        lp_stmt_done(st);
    }
    if (rc >= 0) {
        json_t *templates = json_array(), *models = json_array();
        for (size_t i = 0; i < gs.n; i++)
            json_array_append_new(gs.v[i].prompt_id ? templates : models,
                                  view(&gs.v[i], gs.v[i].prompt_id != 0));
        *out = json_pack("{s:o, s:o}", "templates", templates, "models", models);
    }
    for (size_t i = 0; i < gs.n; i++) {
        free(gs.v[i].model);
        free(gs.v[i].prompt);
    }
    free(gs.v);
    return rc < 0 ? rc : 0;
}
