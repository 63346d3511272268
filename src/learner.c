/* learner.c -- see learner.h.
 *
 * One thread.  Each round it finds the projects whose params say
 * "builtin_model": true, keeps one classifier per project in memory, learns
 * each accepted annotation once (by id: the last one learned is
 * remembered), and after learning something new predicts the project's
 * open tasks page by page, each page one short write transaction.  A
 * restart learns everything again from the database, which holds every
 * annotation: nothing is lost with the process. */
#include "learner.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "autolabel.h"
#include "predictions.h"
#include "project.h"
#include "textclf.h"
#include "util.h"

#define MAX_PROJECTS 64
#define PAGE 500
#define TX_TASKS 50 /* tasks a write transaction: row locks held briefly */
/* Examples kept for replays: at most this many, each its first bytes
 * (memory stays under 100 MiB a project whatever the texts). */
#define MAX_EXAMPLES 50000
#define EXAMPLE_BYTES 2048
/* An auto-labeling round of a project where nothing seems to have changed
 * (no new annotation, no setting, no new prediction of the built-in model)
 * is skipped, but not for longer than this: imported predictions and
 * audits are not watched. */
#define AUTO_STALE_MS 30000

/* A labelled example kept for replays. */
typedef struct example {
    char *text;
    int label;
} example;

typedef struct model {
    int64_t project_id;
    lp_textclf *clf;
    example *ex; /* every example learned, for replays (at most MAX_EXAMPLES) */
    size_t nex, capex;
    json_t *labels;     /* the project's labels when the model was made */
    int64_t last;       /* the last annotation learned */
    int64_t unapplied;  /* examples learned since the open tasks were predicted */
    int predicted_once; /* open tasks predicted at least once */
    int64_t newest;     /* the newest task when the open tasks were last predicted */
} model;

/* When a project's auto-labeling round last ran, and on what. */
typedef struct auto_state {
    int64_t project_id, last_annotation, updated_at, at_ms;
} auto_state;

struct lp_learner {
    char owner[33]; /* this process's name in worker_leases */
    lp_db_pool *pool;
    int64_t every_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    model models[MAX_PROJECTS];
    int n;
    auto_state autos[MAX_PROJECTS];
    int nauto;
};

void lp_learner_text(const json_t *data, lp_buf *out)
{
    const json_t *text = json_object_get(data, "text");
    if (json_is_string(text)) {
        lp_buf_append(out, json_string_value(text), json_string_length(text));
        return;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)data, k, v)
    {
        if (!json_is_string(v)) continue;
        if (out->len) lp_buf_puts(out, " ");
        lp_buf_append(out, json_string_value(v), json_string_length(v));
    }
}

/* The index of name among labels, or -1. */
static int label_index(const json_t *labels, const char *name)
{
    size_t i;
    const json_t *l;
    json_array_foreach(labels, i, l)
    {
        if (json_is_string(l) && !strcmp(json_string_value(l), name)) return (int)i;
    }
    return -1;
}

static void model_fini(model *m)
{
    lp_textclf_free(m->clf);
    json_decref(m->labels);
    for (size_t i = 0; i < m->nex; i++) free(m->ex[i].text);
    free(m->ex);
}

/* The names of the project's labels (params.labels: {name, ...} objects). */
static json_t *label_names(const lp_project *p)
{
    json_t *names = json_array();
    size_t i;
    const json_t *l;
    json_array_foreach(json_object_get(p->params, "labels"), i, l)
    {
        const json_t *name = json_is_object(l) ? json_object_get(l, "name") : l;
        json_array_append_new(names, json_is_string(name) ? json_incref((json_t *)name)
                                                          : json_string(""));
    }
    return names;
}

static model *model_for(lp_learner *L, const lp_project *p)
{
    json_t *labels = label_names(p);
    for (int i = 0; i < L->n; i++) {
        model *m = &L->models[i];
        if (m->project_id != p->id) continue;
        if (json_equal(m->labels, labels)) {
            json_decref(labels);
            return m;
        }
        /* the labels changed: start over */
        model_fini(m);
        *m = L->models[--L->n];
        break;
    }
    int n = (int)json_array_size(labels);
    lp_textclf *clf = L->n < MAX_PROJECTS && n >= 2 ? lp_textclf_new(n, NULL) : NULL;
    if (!clf) {
        json_decref(labels);
        return NULL;
    }
    model *m = &L->models[L->n++];
    *m = (model){.project_id = p->id, .clf = clf, .labels = labels};
    return m;
}

/* Learns the project's annotations after m->last. */
static int learn(lp_db *db, const lp_project *p, model *m)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT a.id, t.data, a.response FROM annotations a JOIN tasks t ON "
                           "t.id = a.task_id WHERE a.project_id = ? AND a.status = 'accepted' AND "
                           "a.id > ? ORDER BY a.id LIMIT 2000",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, p->id);
    lp_stmt_bind_int64(st, 2, m->last);
    lp_buf text = {0};
    while ((rc = lp_stmt_step(st)) == LP_DB_ROW) {
        m->last = lp_stmt_int64(st, 0);
        json_t *data = json_loads(lp_stmt_text(st, 1), 0, NULL);
        json_t *resp = json_loads(lp_stmt_text(st, 2), 0, NULL);
        const json_t *labels = json_object_get(resp, "labels");
        size_t i;
        const json_t *l;
        text.len = 0;
        if (data) lp_learner_text(data, &text);
        json_array_foreach(labels, i, l)
        { /* (each label of a multi-label answer is an example) */
            int k = json_is_string(l) ? label_index(m->labels, json_string_value(l)) : -1;
            if (k >= 0 && text.len) {
                lp_textclf_learn(m->clf, text.data, text.len, k, 1);
                m->unapplied++;
                if (m->nex < MAX_EXAMPLES) {
                    if (m->nex == m->capex) {
                        m->capex = m->capex ? 2 * m->capex : 256;
                        m->ex = lp_realloc(m->ex, m->capex * sizeof *m->ex);
                    }
                    size_t len = text.len < EXAMPLE_BYTES ? text.len : EXAMPLE_BYTES;
                    char *copy = lp_malloc(len + 1);
                    memcpy(copy, text.data, len);
                    copy[len] = '\0';
                    m->ex[m->nex++] = (example){copy, k};
                }
            }
        }
        json_decref(data);
        json_decref(resp);
    }
    lp_stmt_done(st);
    lp_buf_fini(&text);
    if (rc < 0) return rc;
    /* One online step per example learns slowly from few: after new ones,
     * the examples so far are replayed in a random order (five times
     * while they are few, once when they are many), as bench/active does. */
    if (m->unapplied) {
        int epochs = m->nex < 1000 ? 5 : 1;
        for (int e = 0; e < epochs; e++) {
            for (size_t i = m->nex; i > 1; i--) { /* Fisher-Yates */
                size_t j = randombytes_uniform((uint32_t)i);
                example t = m->ex[i - 1];
                m->ex[i - 1] = m->ex[j];
                m->ex[j] = t;
            }
            for (size_t i = 0; i < m->nex; i++)
                lp_textclf_learn(m->clf, m->ex[i].text, strlen(m->ex[i].text), m->ex[i].label, 1);
        }
    }
    return 0;
}

/* Predicts the project's open tasks that no human has labelled yet (none
 * of their annotations learned: every prediction is a held-out measure of
 * the model, autolabel.h), a page per transaction. */
/* Predicts the project's open tasks after task id after (0: all). */
static int predict(lp_db *db, model *m, int64_t after)
{
    int n = (int)json_array_size(m->labels);
    double *probs = lp_malloc(sizeof *probs * (size_t)n);
    int rc = 0;
    lp_buf text = {0};
    for (;;) {
        int64_t ids[PAGE];
        json_t *items[PAGE];
        int got = 0;
        lp_stmt *st;
        rc = lp_db_prepare(db,
                           "SELECT id, data FROM tasks t WHERE project_id = ? AND status IN "
                           "('pending', 'in_progress') AND done = 0 AND id > ? AND NOT EXISTS "
                           "(SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.status "
                           "<> 'rejected') ORDER BY id LIMIT ?",
                           &st);
        if (rc < 0) break;
        lp_stmt_bind_int64(st, 1, m->project_id);
        lp_stmt_bind_int64(st, 2, after);
        lp_stmt_bind_int64(st, 3, PAGE);
        while (got < PAGE && (rc = lp_stmt_step(st)) == LP_DB_ROW) {
            ids[got] = after = lp_stmt_int64(st, 0);
            json_t *data = json_loads(lp_stmt_text(st, 1), 0, NULL);
            text.len = 0;
            if (data) lp_learner_text(data, &text);
            json_decref(data);
            lp_textclf_predict(m->clf, text.data ? text.data : "", text.len, probs);
            int best = 0;
            for (int k = 1; k < n; k++)
                if (probs[k] > probs[best]) best = k;
            /* with every label's probability, for the margin and entropy
             * measures (a label named twice keeps its first) */
            json_t *dist = json_object();
            for (int k = 0; k < n; k++) {
                const char *name = json_string_value(json_array_get(m->labels, (size_t)k));
                if (name && !json_object_get(dist, name))
                    json_object_set_new(dist, name, json_real(probs[k]));
            }
            items[got++] = json_pack("{s:s, s:{s:[O]}, s:f, s:o}", "model", LP_LEARNER_MODEL,
                                     "response", "labels", json_array_get(m->labels, (size_t)best),
                                     "score", probs[best], "probabilities", dist);
        }
        lp_stmt_done(st);
        for (int i = 0; i < got; i += TX_TASKS) {
            int began = rc >= 0 && (rc = lp_db_begin(db, LP_TX_WRITE)) == 0;
            for (int j = i; j < got && j < i + TX_TASKS; j++) {
                if (began && rc >= 0) {
                    int r = lp_prediction_put(db, ids[j], items[j]);
                    if (r < 0 && r != LP_ETOOBIG && r != LP_ENOTFOUND) rc = r;
                }
                json_decref(items[j]);
            }
            if (began && rc >= 0)
                rc = lp_db_commit(db);
            else if (began)
                lp_db_rollback(db);
        }
        if (rc < 0 || got < PAGE) break;
    }
    lp_buf_fini(&text);
    free(probs);
    return rc < 0 ? rc : 0;
}

/* Runs the project's auto-labeling round (autolabel.h) unless nothing it
 * reads seems to have changed since the last one, less than
 * AUTO_STALE_MS ago; predicted says the built-in model just predicted. */
static void auto_label(lp_learner *L, lp_db *db, const lp_project *p, int predicted)
{
    int64_t last = 0, now = lp_now_ms();
    lp_db_int64(db, &last,
                "SELECT COALESCE(MAX(created_at), 0) FROM annotations WHERE project_id = ?", "i",
                p->id);
    auto_state *a = NULL;
    for (int i = 0; i < L->nauto && !a; i++)
        if (L->autos[i].project_id == p->id) a = &L->autos[i];
    if (a && !predicted && a->last_annotation == last && a->updated_at == p->updated_at &&
        now - a->at_ms < AUTO_STALE_MS)
        return;
    if (!a && L->nauto == MAX_PROJECTS) L->nauto = 0; /* (forget them all: rare) */
    if (!a) a = &L->autos[L->nauto++];
    int64_t labeled = 0, spot = 0;
    int rc = lp_autolabel_round(db, p, &labeled, &spot);
    *a = (auto_state){p->id, last, p->updated_at, now};
    if (rc < 0) {
        a->at_ms = 0; /* again next round */
        lp_log(LP_LOG_WARN, "auto-labeling of project %lld failed (%s)", (long long)p->id,
               lp_db_errmsg(db));
    } else if (labeled || spot) {
        lp_log(LP_LOG_INFO, "auto-labeling of project %lld: %lld tasks labeled, %lld spot checks",
               (long long)p->id, (long long)labeled, (long long)spot);
    }
}

/* 1 when this process holds (or now takes, or renews) the lease on the
 * project's background work: where several processes share a database,
 * one of them learns, predicts and auto-labels a project, not each (their
 * writes would contend with the annotators' for nothing).  The lease lasts
 * ten rounds (at least 30 s): when its holder stops or dies, another
 * process takes the project over and learns it again from the database. */
static int leased(lp_learner *L, lp_db *db, int64_t project_id)
{
    int64_t now = lp_now_ms(), ttl = L->every_ms * 10 > 30000 ? L->every_ms * 10 : 30000;
    int rc = lp_db_run(db,
                       "INSERT INTO worker_leases (name, project_id, owner, until) VALUES "
                       "('learner', ?, ?, ?) ON CONFLICT (name, project_id) DO UPDATE SET "
                       "owner = excluded.owner, until = excluded.until WHERE "
                       "worker_leases.owner = excluded.owner OR worker_leases.until < ?",
                       "isii", project_id, L->owner, now + ttl, now);
    return rc == 0 && lp_db_changes(db) == 1;
}

/* One round over the projects with the built-in model or auto-labeling
 * enabled (autolabel.h: after the model has predicted, its labels above
 * the threshold complete their tasks). */
static void round_once(lp_learner *L)
{
    lp_db *db = lp_db_pool_get(L->pool);
    int64_t ids[MAX_PROJECTS];
    int n = 0;
    lp_stmt *st;
    if (lp_db_prepare(db,
                      "SELECT id FROM projects WHERE (kind = 'categorization' AND params LIKE "
                      "'%\"builtin_model\":true%') OR auto_label LIKE '%\"enabled\":true%' "
                      "ORDER BY id LIMIT 64",
                      &st) == 0) {
        while (n < MAX_PROJECTS && lp_stmt_step(st) == LP_DB_ROW) ids[n++] = lp_stmt_int64(st, 0);
        lp_stmt_done(st);
    }
    for (int i = 0; i < n; i++) {
        lp_project *p = NULL;
        if (!leased(L, db, ids[i]) || lp_project_get(db, ids[i], &p) < 0) continue;
        model *m = json_is_true(json_object_get(p->params, "builtin_model")) ? model_for(L, p) : NULL;
        int predicted = 0;
        int64_t newest = 0;
        if (m) lp_db_int64(db, &newest, "SELECT COALESCE(MAX(id), 0) FROM tasks WHERE project_id = ?",
                           "i", p->id);
        /* After learning something, every open task again; else only the
         * tasks imported since the last time. */
        int all = m && (m->unapplied || !m->predicted_once);
        if (m && learn(db, p, m) == 0 && lp_textclf_seen(m->clf) > 0 &&
            (all || m->unapplied || newest > m->newest)) {
            all |= m->unapplied > 0;
            predicted = 1;
            if (predict(db, m, all ? 0 : m->newest) == 0) {
                m->unapplied = 0;
                m->predicted_once = 1;
                m->newest = newest;
            } else {
                lp_log(LP_LOG_WARN, "built-in model of project %lld: predicting failed (%s)",
                       (long long)p->id, lp_db_errmsg(db));
            }
        }
        if (p->auto_label.enabled) auto_label(L, db, p, predicted);
        lp_project_free(p);
    }
    lp_db_pool_release(L->pool, db, NULL); /* (waits until its writes are durable) */
}

static void *learner_main(void *arg)
{
    lp_learner *L = arg;
    pthread_mutex_lock(&L->mu);
    while (!L->stop) {
        pthread_mutex_unlock(&L->mu);
        round_once(L);
        pthread_mutex_lock(&L->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (L->every_ms % 1000) * 1000000;
        ts.tv_sec += L->every_ms / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        if (!L->stop) pthread_cond_timedwait(&L->cv, &L->mu, &ts);
    }
    pthread_mutex_unlock(&L->mu);
    return NULL;
}

int lp_learner_start(lp_db_pool *pool, int64_t every_ms, lp_learner **out)
{
    lp_learner *L = lp_calloc(1, sizeof *L);
    L->pool = pool;
    L->every_ms = every_ms > 0 ? every_ms : 3000;
    unsigned char id[16];
    randombytes_buf(id, sizeof id);
    sodium_bin2hex(L->owner, sizeof L->owner, id, sizeof id);
    pthread_mutex_init(&L->mu, NULL);
    pthread_cond_init(&L->cv, NULL);
    if (pthread_create(&L->thread, NULL, learner_main, L) != 0) {
        free(L);
        return LP_EIO;
    }
    *out = L;
    return 0;
}

void lp_learner_stop(lp_learner *L)
{
    if (!L) return;
    pthread_mutex_lock(&L->mu);
    L->stop = 1;
    pthread_cond_signal(&L->cv);
    pthread_mutex_unlock(&L->mu);
    pthread_join(L->thread, NULL);
    /* Its projects are free at once for another process. */
    lp_db *db = lp_db_pool_get(L->pool);
    lp_db_run(db, "DELETE FROM worker_leases WHERE name = 'learner' AND owner = ?", "s", L->owner);
    lp_db_pool_put(L->pool, db);
    for (int i = 0; i < L->n; i++) model_fini(&L->models[i]);
    pthread_mutex_destroy(&L->mu);
    pthread_cond_destroy(&L->cv);
    free(L);
}
