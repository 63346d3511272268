/* generate_run.c -- the runner of generation jobs (generate.h).
 *
 * One dispatcher thread per process looks, every poll, for outputs due
 * (waiting, next_at passed, no live claim) of running jobs, endpoint by
 * endpoint, claims as many as the endpoint has free slots in this process
 * (claimed_until = now + its time-out + slack, FOR UPDATE SKIP LOCKED on
 * PostgreSQL, so two processes never send the same output) and sends each
 * from a thread of its own, which holds no database connection while it
 * waits for the model.  A reply is written with its model, parameters,
 * latency, usage and, when the prompt has reference answers, SQuAD exact
 * match and F1.  A failure worth trying again (a time-out, 408, 429, 5xx,
 * a reply that is not the protocol's) waits retry_ms doubling per attempt
 * (at most 5 minutes, with jitter) until the endpoint's retries are spent;
 * another failure (401, 404...) fails the output at once.  A job whose
 * outputs are all done or failed is 'done'. */
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "endpoint.h"
#include "generate.h"
#include "outbound.h"
#include "textmetric.h"
#include "util.h"

#define MAX_EPS        64     /* endpoints followed at once */
#define MAX_CALLS      64     /* calls in flight in this process */
#define MAX_PAUSE_MS   300000
#define CLAIM_SLACK_MS 30000

typedef struct slot {
    int64_t endpoint_id;
    int inflight;
} slot;

struct lp_gen {
    lp_db_pool *pool;
    int64_t poll_ms, retry_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, calls;
    volatile int cancel;
    slot slots[MAX_EPS];
};

typedef struct call {
    lp_gen *g;
    int64_t output_id;
    slot *s;
} call;

static int64_t backoff(const lp_gen *g, int64_t attempts)
{
    double d = (double)g->retry_ms * pow(2, (double)(attempts > 1 ? (attempts < 30 ? attempts - 1 : 29) : 0));
    if (d > MAX_PAUSE_MS) d = MAX_PAUSE_MS;
    return (int64_t)(d * (0.8 + 0.4 * randombytes_uniform(1001) / 1000.0));
}

/* What an output needs for its call, read in one go. */
typedef struct work {
    int64_t generation_id, endpoint_id, sample, attempts;
    json_t *messages, *reference, *params;
} work;

static int load_work(lp_db *db, int64_t id, work *w)
{
    lp_stmt *st;
    memset(w, 0, sizeof *w);
    int rc = lp_db_prepare(db,
                           "SELECT o.generation_id, o.endpoint_id, o.sample, o.attempts, p.messages,"
                           " p.reference, g.params FROM gen_outputs o JOIN prompts p ON p.id ="
                           " o.prompt_id JOIN generations g ON g.id = o.generation_id WHERE o.id = ?",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, id);
    if ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        json_error_t je;
        w->generation_id = lp_stmt_int64(st, 0);
        w->endpoint_id = lp_stmt_int64(st, 1);
        w->sample = lp_stmt_int64(st, 2);
        w->attempts = lp_stmt_int64(st, 3);
        w->messages = json_loads(lp_stmt_text(st, 4), 0, &je);
        w->reference = lp_stmt_is_null(st, 5) ? NULL : json_loads(lp_stmt_text(st, 5), 0, &je);
        w->params = json_loads(lp_stmt_text(st, 6), 0, &je);
        rc = w->messages && w->params ? 0 : LP_EINVAL;
    } else if (rc == LP_DB_DONE) {
        rc = LP_ENOTFOUND;
    }
    lp_stmt_done(st);
    return rc;
}

static void work_fini(work *w)
{
    json_decref(w->messages);
    json_decref(w->reference);
    json_decref(w->params);
}

/* Takes the job's row for the rest of the transaction (PostgreSQL; SQLite's
 * write transaction holds the database already), so that outputs of one
 * job finishing at once record one after the other: under READ COMMITTED
 * the last one's maybe_done then sees every other as done, where two
 * concurrent ones would each see the other still waiting and neither mark
 * the job done. */
static int hold_job(lp_db *db, int64_t gid)
{
    static const char *const sql[2] = {"SELECT id FROM generations WHERE id = ?",
                                       "SELECT id FROM generations WHERE id = ? FOR UPDATE"};
    int64_t x;
    return lp_db_int64(db, &x, sql[lp_db_row_locks(db)], "i", gid);
}

/* Marks the job done once nothing of it waits. */
static int maybe_done(lp_db *db, int64_t gid)
{
    return lp_db_run(db,
                     "UPDATE generations SET state = 'done', updated_at = ? WHERE id = ? AND state"
                     " = 'running' AND NOT EXISTS (SELECT 1 FROM gen_outputs WHERE generation_id"
                     " = ? AND state = 'waiting')",
                     "iii", lp_now_ms(), gid, gid);
}

static void record_ok(lp_db *db, int64_t id, const work *w, const json_t *sent,
                      const lp_endpoint_call *c)
{
    char *ptext = json_dumps(sent, LP_JSON_DUMP);
    double em = NAN, f1 = NAN;
    if (json_array_size(w->reference)) {
        size_t n = json_array_size(w->reference);
        const char **golds = lp_malloc(n * sizeof *golds);
        for (size_t i = 0; i < n; i++) golds[i] = json_string_value(json_array_get(w->reference, i));
        /* v2's rule: an empty reference is "no answer", matched by an empty reply */
        lp_textmetric_squad_max(c->reply.content, golds, n, LP_SQUAD_V2, &em, &f1);
        free(golds);
    }
    lp_stmt *st;
    if (lp_db_begin(db, LP_TX_WRITE) < 0) {
        free(ptext);
        return;
    }
    int rc = hold_job(db, w->generation_id);
    if (rc == 0)
        rc = lp_db_prepare(db,
                           "UPDATE gen_outputs SET state = 'done', attempts = attempts + 1,"
                           " claimed_until = 0, error = NULL, model = ?, params = ?, content = ?,"
                           " finish_reason = ?, latency_ms = ?, prompt_tokens = ?,"
                           " completion_tokens = ?, exact_match = ?, f1 = ?, updated_at = ? WHERE"
                           " id = ? AND state = 'waiting'",
                           &st);
    if (rc == 0) {
        lp_stmt_bind_text(st, 1, c->reply.model[0] ? c->reply.model : NULL);
        lp_stmt_bind_text(st, 2, ptext);
        lp_stmt_bind_text(st, 3, c->reply.content);
        lp_stmt_bind_text(st, 4, c->reply.finish[0] ? c->reply.finish : NULL);
        lp_stmt_bind_int64(st, 5, c->latency_ms);
        if (c->reply.prompt_tokens >= 0) lp_stmt_bind_int64(st, 6, c->reply.prompt_tokens);
        else lp_stmt_bind_null(st, 6);
        if (c->reply.completion_tokens >= 0) lp_stmt_bind_int64(st, 7, c->reply.completion_tokens);
        else lp_stmt_bind_null(st, 7);
        if (isnan(em)) lp_stmt_bind_null(st, 8);
        else lp_stmt_bind_double(st, 8, em);
        if (isnan(f1)) lp_stmt_bind_null(st, 9);
        else lp_stmt_bind_double(st, 9, f1);
        lp_stmt_bind_int64(st, 10, lp_now_ms());
        lp_stmt_bind_int64(st, 11, id);
        rc = lp_stmt_step(st);
        lp_stmt_done(st);
    }
    if (rc >= 0) rc = maybe_done(db, w->generation_id);
    if (rc >= 0)
        lp_db_commit(db);
    else
        lp_db_rollback(db);
    free(ptext);
}

/* A failed attempt: again later, or failed for good. */
static void record_failure(lp_gen *g, lp_db *db, int64_t id, const work *w, int retries,
                           int retryable, const char *err)
{
    int64_t attempts = w->attempts + 1, now = lp_now_ms();
    int final = !retryable || attempts > retries;
    if (lp_db_begin(db, LP_TX_WRITE) < 0) return;
    int rc = hold_job(db, w->generation_id);
    if (rc == 0)
        rc = lp_db_run(db,
                       "UPDATE gen_outputs SET state = ?, attempts = ?, next_at = ?, claimed_until"
                       " = 0, error = ?, updated_at = ? WHERE id = ? AND state = 'waiting'",
                       "siisii", final ? "failed" : "waiting", attempts,
                       final ? now : now + backoff(g, attempts), err, now, id);
    if (rc >= 0 && final) rc = maybe_done(db, w->generation_id);
    if (rc >= 0)
        lp_db_commit(db);
    else
        lp_db_rollback(db);
}

/* The parameters sent: the job's over the endpoint's, a sample's seed
 * moved on by its number so that samples differ but repeat. */
static json_t *sent_params(const lp_endpoint *ep, const work *w)
{
    json_t *p = json_deep_copy(ep->params);
    const char *k;
    json_t *v;
    json_object_foreach(w->params, k, v) json_object_set(p, k, v);
    json_t *seed = json_object_get(p, "seed");
    if (json_is_integer(seed) && w->sample)
        json_object_set_new(p, "seed", json_integer(json_integer_value(seed) + w->sample));
    return p;
}

static void *call_main(void *arg)
{
    call *c = arg;
    lp_gen *g = c->g;
    lp_db *db = lp_db_pool_get(g->pool);
    work w;
    lp_endpoint ep;
    int rc = load_work(db, c->output_id, &w);
    int have_ep = 0;
    if (rc == 0) {
        int erc = lp_endpoint_load(db, w.endpoint_id, &ep);
        if (erc == 0) {
            have_ep = 1;
        } else {
            record_failure(g, db, c->output_id, &w, 0, 0,
                           erc == LP_ENOTFOUND ? "the model endpoint was deleted"
                                               : "the endpoint's API key cannot be opened with "
                                                 "this installation's secret");
        }
    }
    lp_db_pool_put(g->pool, db);
    if (have_ep) {
        json_t *params = sent_params(&ep, &w);
        lp_endpoint_call res;
        /* (params already hold the endpoint's defaults) */
        json_t *none = ep.params;
        ep.params = NULL;
        int crc = lp_endpoint_chat(&ep, w.messages, params, &g->cancel, &res);
        ep.params = none;
        db = lp_db_pool_get(g->pool);
        if (g->cancel) {
            /* stopping: give the output back for the next process */
            lp_db_run(db, "UPDATE gen_outputs SET claimed_until = 0 WHERE id = ?", "i",
                      c->output_id);
        } else if (crc == 0) {
            record_ok(db, c->output_id, &w, params, &res);
        } else {
            record_failure(g, db, c->output_id, &w, ep.retries, res.retryable || crc == LP_EINVAL,
                           res.err);
        }
        lp_db_pool_put(g->pool, db);
        lp_llm_reply_fini(&res.reply);
        json_decref(params);
        lp_endpoint_fini(&ep);
    }
    if (rc == 0) work_fini(&w);
    pthread_mutex_lock(&g->mu);
    g->calls--;
    c->s->inflight--;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    free(c);
    return NULL;
}

static slot *slot_for(lp_gen *g, int64_t ep)
{
    slot *free_slot = NULL;
    for (int i = 0; i < MAX_EPS; i++) {
        if (g->slots[i].endpoint_id == ep) return &g->slots[i];
        if (!free_slot && g->slots[i].inflight == 0) free_slot = &g->slots[i];
    }
    if (free_slot) *free_slot = (slot){.endpoint_id = ep};
    return free_slot;
}

/* Claims up to room due outputs of endpoint ep into ids. */
static int claim(lp_db *db, int64_t ep, int64_t timeout, int room, int64_t *ids)
{
    int64_t now = lp_now_ms();
    int n = 0;
#define DUE                                                                                        \
    "SELECT o.id FROM gen_outputs o JOIN generations g ON g.id = o.generation_id WHERE o.state = " \
    "'waiting' AND o.endpoint_id = ? AND o.next_at <= ? AND o.claimed_until < ? AND g.state = "    \
    "'running' ORDER BY o.next_at, o.id LIMIT ?"
    static const char *const sql[2] = {DUE, DUE " FOR UPDATE OF o SKIP LOCKED"};
#undef DUE
    if (lp_db_begin(db, LP_TX_WRITE) < 0) return 0;
    lp_stmt *st;
    int rc = lp_db_prepare(db, sql[lp_db_row_locks(db)], &st);
    if (rc == 0) {
        lp_stmt_bind_int64(st, 1, ep);
        lp_stmt_bind_int64(st, 2, now);
        lp_stmt_bind_int64(st, 3, now);
        lp_stmt_bind_int64(st, 4, room);
        while (n < room && (rc = lp_stmt_step(st)) == LP_DB_ROW) ids[n++] = lp_stmt_int64(st, 0);
        lp_stmt_done(st);
    }
    for (int i = 0; i < n && rc >= 0; i++)
        rc = lp_db_run(db, "UPDATE gen_outputs SET claimed_until = ? WHERE id = ?", "ii",
                       now + timeout + CLAIM_SLACK_MS, ids[i]);
    if (rc >= 0 && n && lp_db_commit(db) == 0) return n;
    if (lp_db_in_tx(db)) lp_db_rollback(db);
    return 0;
}

static void round_once(lp_gen *g)
{
    lp_db *db = lp_db_pool_get(g->pool);
    int64_t now = lp_now_ms(), eps[MAX_EPS][3];
    int n = 0;
    lp_stmt *st;
    /* the endpoints with something due (read first: most rounds find
     * nothing and take no write lock) */
    if (lp_db_prepare(db,
                      "SELECT e.id, e.max_concurrency, e.timeout_ms FROM model_endpoints e WHERE"
                      " EXISTS (SELECT 1 FROM gen_outputs o JOIN generations g ON g.id ="
                      " o.generation_id WHERE o.endpoint_id = e.id AND o.state = 'waiting' AND"
                      " o.next_at <= ? AND o.claimed_until < ? AND g.state = 'running') ORDER BY"
                      " e.id",
                      &st) == 0) {
        lp_stmt_bind_int64(st, 1, now);
        lp_stmt_bind_int64(st, 2, now);
        while (n < MAX_EPS && lp_stmt_step(st) == LP_DB_ROW) {
            eps[n][0] = lp_stmt_int64(st, 0);
            eps[n][1] = lp_stmt_int64(st, 1);
            eps[n][2] = lp_stmt_int64(st, 2);
            n++;
        }
        lp_stmt_done(st);
    }
    for (int i = 0; i < n && !g->stop; i++) {
        pthread_mutex_lock(&g->mu);
        slot *s = slot_for(g, eps[i][0]);
        int room = s ? (int)eps[i][1] - s->inflight : 0;
        if (room > MAX_CALLS - g->calls) room = MAX_CALLS - g->calls;
        pthread_mutex_unlock(&g->mu);
        if (room <= 0) continue;
        int64_t ids[MAX_CALLS];
        int got = claim(db, eps[i][0], eps[i][2], room, ids);
        for (int k = 0; k < got; k++) {
            call *c = lp_calloc(1, sizeof *c);
            *c = (call){.g = g, .output_id = ids[k], .s = s};
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            pthread_t t;
            pthread_mutex_lock(&g->mu);
            g->calls++;
            s->inflight++;
            pthread_mutex_unlock(&g->mu);
            if (pthread_create(&t, &attr, call_main, c) != 0) {
                pthread_mutex_lock(&g->mu);
                g->calls--;
                s->inflight--;
                pthread_mutex_unlock(&g->mu);
                lp_db_run(db, "UPDATE gen_outputs SET claimed_until = 0 WHERE id = ?", "i", ids[k]);
                free(c);
            }
            pthread_attr_destroy(&attr);
        }
    }
    lp_db_pool_put(g->pool, db);
}

static void *dispatcher(void *arg)
{
    lp_gen *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        pthread_mutex_unlock(&g->mu);
        round_once(g);
        pthread_mutex_lock(&g->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (g->poll_ms % 1000) * 1000000;
        ts.tv_sec += g->poll_ms / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        if (!g->stop) pthread_cond_timedwait(&g->cv, &g->mu, &ts);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int lp_gen_start(lp_db_pool *pool, int64_t poll_ms, int64_t retry_ms, lp_gen **out)
{
    lp_outbound_init();
    lp_gen *g = lp_calloc(1, sizeof *g);
    g->pool = pool;
    g->poll_ms = poll_ms > 0 ? poll_ms : 500;
    g->retry_ms = retry_ms > 0 ? retry_ms : 1000;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    if (pthread_create(&g->thread, NULL, dispatcher, g) != 0) {
        free(g);
        *out = NULL;
        return LP_EIO;
    }
    *out = g;
    return 0;
}

void lp_gen_stop(lp_gen *g)
{
    if (!g) return;
    pthread_mutex_lock(&g->mu);
    g->stop = 1;
    g->cancel = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    pthread_mutex_lock(&g->mu);
    while (g->calls > 0) pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
}
