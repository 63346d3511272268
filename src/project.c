/* project.c -- see project.h.  The quality-policy fields are validated here
 * once, for create and update alike; the kind module validates params. */
#include "project.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "auth.h"
#include "outbox.h"
#include "outbound.h"
#include "predictions.h"
#include "tasks.h"
#include "util.h"

void lp_project_free(lp_project *p)
{
    if (!p) return;
    free(p->name);
    free(p->aggregation);
    free(p->strategy);
    free(p->callback_url);
    json_decref(p->params);
    json_decref(p->metadata);
    free(p);
}

int lp_project_get(lp_db *db, int64_t id, lp_project **out)
{
    *out = NULL;
    lp_stmt *st;
    int rc =
        lp_db_prepare(db,
                      "SELECT id, name, kind, params, overlap, review_levels, gold_rate, "
                      "min_gold_accuracy, aggregation, lease_seconds, callback_url, "
                      "metadata, created_by, created_at, updated_at, strategy, min_gold_count, "
                      "calibration_count, uncertainty_measure, auto_label "
                      "FROM projects WHERE id = ?",
                      &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        lp_project *p = lp_calloc(1, sizeof *p);
        p->id = lp_stmt_int64(st, 0);
        p->name = lp_strdup(lp_stmt_text(st, 1));
        p->kind = lp_kind_find(lp_stmt_text(st, 2));
        p->params = json_loads(lp_stmt_text(st, 3), 0, NULL);
        p->overlap = lp_stmt_int64(st, 4);
        p->review_levels = lp_stmt_int64(st, 5);
        p->gold_rate = lp_stmt_double(st, 6);
        p->min_gold_accuracy = lp_stmt_double(st, 7);
        p->aggregation = lp_strdup(lp_stmt_text(st, 8));
        p->lease_seconds = lp_stmt_int64(st, 9);
        p->callback_url = lp_stmt_is_null(st, 10) ? NULL : lp_strdup(lp_stmt_text(st, 10));
        p->metadata = json_loads(lp_stmt_text(st, 11), 0, NULL);
        p->created_by = lp_stmt_int64(st, 12);
        p->created_at = lp_stmt_int64(st, 13);
        p->updated_at = lp_stmt_int64(st, 14);
        p->strategy = lp_strdup(lp_stmt_text(st, 15));
        p->min_gold_count = lp_stmt_int64(st, 16);
        p->calibration_count = lp_stmt_int64(st, 17);
        int m = lp_measure_parse(lp_stmt_text(st, 18));
        p->measure = m < 0 ? LP_MEASURE_LEAST_CONFIDENCE : (lp_measure)m;
        lp_autolabel_defaults(&p->auto_label);
        if (!lp_stmt_is_null(st, 19)) { /* (stored valid: parsed again for the defaults) */
            json_t *al = json_loads(lp_stmt_text(st, 19), 0, NULL);
            lp_verr e;
            if (al) lp_autolabel_parse(al, &p->auto_label, &e);
            json_decref(al);
        }
        if (!p->params) p->params = json_object();
        if (!p->metadata) p->metadata = json_object();
        *out = p;
        rc = p->kind ? 0 : LP_EDB; /* a kind unknown to this binary */
        if (rc < 0) {
            lp_project_free(p);
            *out = NULL;
        }
    } else if (rc == LP_DB_DONE) {
        rc = LP_ENOTFOUND;
    }
    lp_stmt_done(st);
    return rc;
}

static int valid_url(const char *u)
{
    return strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0;
}

/* The fields of a project body, with their defaults (a create) or the
 * stored values (an update). */
typedef struct fields {
    const char *name;
    const lp_kind *kind;
    json_t *params; /* owned, normalised */
    long long overlap, review_levels, lease_seconds, min_gold_count, calibration_count;
    double gold_rate, min_gold_accuracy;
    const char *aggregation;
    const char *strategy;
    const char *measure; /* uncertainty_measure */
    const char *callback_url;
    int callback_set;
    json_t *metadata; /* borrowed */
    lp_autolabel auto_label;
} fields;

static const char *const project_keys[] = {"name",
                                           "kind",
                                           "params",
                                           "overlap",
                                           "review_levels",
                                           "gold_rate",
                                           "min_gold_accuracy",
                                           "min_gold_count",
                                           "calibration_count",
                                           "aggregation",
                                           "lease_seconds",
                                           "strategy",
                                           "uncertainty_measure",
                                           "callback_url",
                                           "metadata",
                                           "auto_label",
                                           NULL};

static int read_fields(const json_t *b, fields *f, int is_update, lp_verr *e)
{
    if (lp_v_only_keys(b, "", project_keys, e)) return LP_EINVAL;
    if (lp_v_string(b, "name", "", !is_update, 1, 200, &f->name, e)) return LP_EINVAL;
    const char *kind = NULL;
    if (lp_v_string(b, "kind", "", !is_update, 1, 64, &kind, e)) return LP_EINVAL;
    if (kind) {
        if (is_update && strcmp(kind, f->kind->name) != 0)
            return lp_verr_set(e, "kind", "cannot change a project's kind (it is \"%s\")",
                               f->kind->name);
        f->kind = lp_kind_find(kind);
        if (!f->kind) {
            lp_buf names = {0};
            size_t n;
            const lp_kind *const *all = lp_kind_all(&n);
            for (size_t i = 0; i < n; i++)
                lp_buf_printf(&names, "%s%s", i ? ", " : "", all[i]->name);
            lp_verr_set(e, "kind", "\"%s\" is not a kind of task (one of: %s)", kind,
                        names.data ? names.data : "");
            lp_buf_fini(&names);
            return LP_EINVAL;
        }
    }
    json_t *params = json_object_get(b, "params");
    if (params || !is_update) {
        json_t *copy = params ? json_deep_copy(params) : json_object();
        if (!json_is_object(copy)) {
            json_decref(copy);
            return lp_verr_set(e, "params", "must be an object");
        }
        if (f->kind->validate_params && f->kind->validate_params(copy, e)) {
            json_decref(copy);
            return LP_EINVAL;
        }
        json_decref(f->params);
        f->params = copy;
    }
    if (lp_v_int(b, "overlap", "", 0, 1, 100, &f->overlap, e) ||
        lp_v_int(b, "review_levels", "", 0, 0, 5, &f->review_levels, e) ||
        lp_v_int(b, "lease_seconds", "", 0, 30, 86400, &f->lease_seconds, e) ||
        lp_v_string(b, "strategy", "", 0, 1, 16, &f->strategy, e) ||
        lp_v_string(b, "uncertainty_measure", "", 0, 1, 32, &f->measure, e) ||
        lp_v_number(b, "gold_rate", "", 0, 0, 1, &f->gold_rate, e) ||
        lp_v_number(b, "min_gold_accuracy", "", 0, 0, 1, &f->min_gold_accuracy, e) ||
        lp_v_int(b, "min_gold_count", "", 0, 1, 10000, &f->min_gold_count, e) ||
        lp_v_int(b, "calibration_count", "", 0, 0, 1000, &f->calibration_count, e) ||
        lp_v_string(b, "aggregation", "", 0, 1, 64, &f->aggregation, e))
        return LP_EINVAL;
    if (strcmp(f->strategy, "fifo") && strcmp(f->strategy, "random") &&
        strcmp(f->strategy, "uncertainty") && strcmp(f->strategy, "disagreement"))
        return lp_verr_set(e, "strategy",
                           "\"%s\" is not a queue strategy (fifo, random, uncertainty or "
                           "disagreement)",
                           f->strategy);
    if (lp_measure_parse(f->measure) < 0)
        return lp_verr_set(e, "uncertainty_measure",
                           "\"%s\" is not an uncertainty measure (least_confidence, margin or "
                           "entropy)",
                           f->measure);
    lp_agg_method m;
    if (lp_agg_method_parse(f->aggregation, &m) < 0) {
        char names[256] = "";
        for (int i = 0; i < LP_AGG_NMETHODS; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     lp_agg_method_name((lp_agg_method)i));
        return lp_verr_set(e, "aggregation", "\"%s\" is not an aggregation method (%s)",
                           f->aggregation, names);
    }
    json_t *cb = json_object_get(b, "callback_url");
    if (cb) {
        f->callback_set = 1;
        f->callback_url = NULL;
        if (!json_is_null(cb)) {
            if (lp_v_string(b, "callback_url", "", 0, 1, 2048, &f->callback_url, e))
                return LP_EINVAL;
            char why[400];
            if (!valid_url(f->callback_url))
                return lp_verr_set(e, "callback_url", "must be an http:// or https:// URL");
            if (lp_outbound_check_url(f->callback_url, why, sizeof why) < 0)
                return lp_verr_set(e, "callback_url", "%s", why);
        }
    }
    json_t *md = json_object_get(b, "metadata");
    if (md) {
        if (!json_is_object(md)) return lp_verr_set(e, "metadata", "must be an object");
        f->metadata = md;
    }
    json_t *al = json_object_get(b, "auto_label");
    if (al && lp_autolabel_parse(al, &f->auto_label, e)) return LP_EINVAL;
    return 0;
}

/* Binds name, params, overlap, review_levels, gold_rate,
 * min_gold_accuracy, aggregation, lease_seconds, callback_url, metadata,
 * strategy, min_gold_count, calibration_count, uncertainty_measure and
 * auto_label as parameters 1 to 15: the INSERT and the UPDATE list them in
 * this order. */
static void bind_fields(lp_stmt *st, const fields *f, const char *params, const char *md,
                        const char *al)
{
    lp_stmt_bind_text(st, 1, f->name);
    lp_stmt_bind_text(st, 2, params);
    lp_stmt_bind_int64(st, 3, f->overlap);
    lp_stmt_bind_int64(st, 4, f->review_levels);
    lp_stmt_bind_double(st, 5, f->gold_rate);
    lp_stmt_bind_double(st, 6, f->min_gold_accuracy);
    lp_stmt_bind_text(st, 7, f->aggregation);
    lp_stmt_bind_int64(st, 8, f->lease_seconds);
    lp_stmt_bind_text(st, 9, f->callback_url);
    lp_stmt_bind_text(st, 10, md);
    lp_stmt_bind_text(st, 11, f->strategy);
    lp_stmt_bind_int64(st, 12, f->min_gold_count);
    lp_stmt_bind_int64(st, 13, f->calibration_count);
    lp_stmt_bind_text(st, 14, f->measure);
    lp_stmt_bind_text(st, 15, al);
}

static char *dump(const json_t *v)
{
    return json_dumps(v, LP_JSON_DUMP);
}

static char *dump_auto_label(const lp_autolabel *s)
{
    json_t *v = lp_autolabel_json(s);
    char *text = dump(v);
    json_decref(v);
    return text;
}

int lp_project_save(lp_db *db, const json_t *body, int64_t user_id, int64_t *id, lp_verr *e)
{
    fields f = {.overlap = 1,
                .lease_seconds = 600,
                .min_gold_count = 5,
                .aggregation = "auto",
                .strategy = "fifo",
                .measure = "least_confidence"};
    lp_autolabel_defaults(&f.auto_label);
    int rc = read_fields(body, &f, 0, e);
    if (rc < 0) {
        json_decref(f.params);
        return rc;
    }
    char *params = dump(f.params), *md = f.metadata ? dump(f.metadata) : lp_strdup("{}");
    char *al = dump_auto_label(&f.auto_label);
    int64_t now = lp_now_ms();
    rc = lp_db_begin(db, LP_TX_WRITE);
    lp_stmt *st = NULL;
    if (rc == 0)
        rc = lp_db_prepare(db,
                           "INSERT INTO projects (name, params, overlap, review_levels, gold_rate, "
                           "min_gold_accuracy, aggregation, lease_seconds, callback_url, "
                           "metadata, strategy, min_gold_count, calibration_count, "
                           "uncertainty_measure, auto_label, kind, created_by, created_at, "
                           "updated_at, export_secret, callback_secret) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                           "RETURNING id",
                           &st);
    if (rc == 0) {
        bind_fields(st, &f, params, md, al);
        lp_stmt_bind_text(st, 16, f.kind->name);
        if (user_id)
            lp_stmt_bind_int64(st, 17, user_id);
        else
            lp_stmt_bind_null(st, 17);
        lp_stmt_bind_int64(st, 18, now);
        lp_stmt_bind_int64(st, 19, now);
        /* the key of its worker pseudonyms in exports (exporter.h) */
        unsigned char key[32];
        char hex[2 * sizeof key + 1];
        randombytes_buf(key, sizeof key);
        lp_stmt_bind_text(st, 20, sodium_bin2hex(hex, sizeof hex, key, sizeof key));
        /* made now, so that no submit has to write the project's row to
         * make it (two at once would wait on each other's share lock) */
        char cb[LP_SECRET_TEXT];
        lp_webhook_secret_new(cb);
        lp_stmt_bind_text(st, 21, cb);
        rc = lp_stmt_one_int64(st, id, LP_EDB);
    }
    if (rc == 0 && user_id) rc = lp_member_set(db, *id, user_id, LP_ROLE_MANAGER);
    if (rc == 0)
        rc = lp_db_commit(db);
    else
        lp_db_rollback(db);
    free(params);
    free(md);
    free(al);
    json_decref(f.params);
    return rc;
}

int lp_project_update(lp_db *db, int64_t id, const json_t *body, lp_verr *e)
{
    lp_project *p;
    int rc = lp_project_get(db, id, &p);
    if (rc < 0) return rc;
    fields f = {.name = p->name,
                .kind = p->kind,
                .params = json_incref(p->params),
                .overlap = p->overlap,
                .review_levels = p->review_levels,
                .lease_seconds = p->lease_seconds,
                .strategy = p->strategy,
                .measure = lp_measure_name(p->measure),
                .gold_rate = p->gold_rate,
                .min_gold_accuracy = p->min_gold_accuracy,
                .min_gold_count = p->min_gold_count,
                .calibration_count = p->calibration_count,
                .aggregation = p->aggregation,
                .callback_url = p->callback_url,
                .metadata = p->metadata,
                .auto_label = p->auto_label};
    rc = read_fields(body, &f, 1, e);
    if (rc == 0) {
        char *params = dump(f.params), *md = dump(f.metadata),
             *al = dump_auto_label(&f.auto_label);
        lp_stmt *st;
        rc = lp_db_prepare(db,
                           "UPDATE projects SET name = ?, params = ?, overlap = ?, "
                           "review_levels = ?, gold_rate = ?, min_gold_accuracy = ?, "
                           "aggregation = ?, lease_seconds = ?, callback_url = ?, "
                           "metadata = ?, strategy = ?, min_gold_count = ?, "
                           "calibration_count = ?, uncertainty_measure = ?, auto_label = ?, "
                           "updated_at = ? WHERE id = ?",
                           &st);
        if (rc == 0) {
            bind_fields(st, &f, params, md, al);
            lp_stmt_bind_int64(st, 16, lp_now_ms());
            lp_stmt_bind_int64(st, 17, id);
            rc = lp_stmt_step(st);
            rc = rc == LP_DB_DONE ? 0 : rc;
            lp_stmt_done(st);
        }
        free(params);
        free(md);
        free(al);
    }
    /* The tasks' uncertainties under the new measure, once it is committed
     * (every writer of one after that reads the new measure). */
    if (rc == 0 && lp_measure_parse(f.measure) != (int)p->measure)
        rc = lp_predictions_rescore(db, id);
    json_decref(f.params);
    lp_project_free(p);
    return rc;
}

int lp_project_measure(lp_db *db, int64_t project_id, lp_measure *out)
{
    static const char *const sql[2] = {
        "SELECT uncertainty_measure FROM projects WHERE id = ?",
        "SELECT uncertainty_measure FROM projects WHERE id = ? FOR SHARE"};
    lp_stmt *st;
    int rc = lp_db_prepare(db, sql[lp_db_row_locks(db)], &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, project_id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        int m = lp_measure_parse(lp_stmt_text(st, 0));
        *out = m < 0 ? LP_MEASURE_LEAST_CONFIDENCE : (lp_measure)m;
        rc = 0;
    } else if (rc == LP_DB_DONE) {
        rc = LP_ENOTFOUND;
    }
    lp_stmt_done(st);
    return rc;
}

json_t *lp_counts_json(lp_db *db, int64_t project_id, int64_t batch_id)
{
    static const char *const statuses[] = {LP_TASK_STATUSES};
    json_t *o = json_object();
    for (size_t i = 0; i < LP_ARRAY_LEN(statuses); i++)
        json_object_set_new(o, statuses[i], json_integer(0));
    lp_stmt *st;
    const char *sql = batch_id ? "SELECT status, n FROM batch_counts WHERE batch_id = ?"
                               : "SELECT status, n FROM project_counts WHERE project_id = ?";
    if (lp_db_prepare(db, sql, &st) < 0) return o;
    lp_stmt_bind_int64(st, 1, batch_id ? batch_id : project_id);
    int64_t total = 0;
    while (lp_stmt_step(st) == LP_DB_ROW) {
        int64_t n = lp_stmt_int64(st, 1);
        json_object_set_new(o, lp_stmt_text(st, 0), json_integer(n));
        total += n;
    }
    lp_stmt_done(st);
    json_object_set_new(o, "total", json_integer(total));
    return o;
}

json_t *lp_project_json(lp_db *db, const lp_project *p)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:O, s:I, s:I, s:f, s:f, s:I, s:I, s:s, s:s, s:s, s:I, "
                          "s:s?, s:O, s:o, s:o, s:o}",
                     "id", (json_int_t)p->id, "name", p->name, "kind", p->kind->name, "params",
                     p->params, "overlap", (json_int_t)p->overlap, "review_levels",
                     (json_int_t)p->review_levels, "gold_rate", p->gold_rate, "min_gold_accuracy",
                     p->min_gold_accuracy, "min_gold_count", (json_int_t)p->min_gold_count,
                     "calibration_count", (json_int_t)p->calibration_count, "aggregation",
                     p->aggregation, "strategy", p->strategy, "uncertainty_measure",
                     lp_measure_name(p->measure), "lease_seconds",
                     (json_int_t)p->lease_seconds, "callback_url", p->callback_url, "metadata",
                     p->metadata, "counts", lp_counts_json(db, p->id, 0), "created_at",
                     lp_json_time(p->created_at), "updated_at", lp_json_time(p->updated_at));
    json_object_set_new(o, "auto_label", lp_autolabel_json(&p->auto_label));
    return o;
}

int lp_batch_create(lp_db *db, int64_t project_id, const json_t *body, int64_t *id, lp_verr *e)
{
    static const char *const keys[] = {"name", "metadata", NULL};
    const char *name = NULL;
    if (lp_v_only_keys(body, "", keys, e) || lp_v_string(body, "name", "", 1, 1, 200, &name, e))
        return LP_EINVAL;
    json_t *md = json_object_get(body, "metadata");
    if (md && !json_is_object(md)) return lp_verr_set(e, "metadata", "must be an object");
    char *mds = md ? dump(md) : lp_strdup("{}");
    int64_t now = lp_now_ms();
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "INSERT INTO batches (project_id, name, status, metadata, created_at, "
                           "updated_at) VALUES (?, ?, 'staging', ?, ?, ?) "
                           "ON CONFLICT (project_id, name) DO NOTHING RETURNING id",
                           &st);
    if (rc == 0) {
        lp_stmt_bind_int64(st, 1, project_id);
        lp_stmt_bind_text(st, 2, name);
        lp_stmt_bind_text(st, 3, mds);
        lp_stmt_bind_int64(st, 4, now);
        lp_stmt_bind_int64(st, 5, now);
        rc = lp_stmt_one_int64(st, id, LP_EEXISTS); /* no row: the name is taken */
    }
    if (rc == LP_EEXISTS) {
        lp_db_int64(db, id, "SELECT id FROM batches WHERE project_id = ? AND name = ?", "is",
                    project_id, name);
        lp_verr_set(e, "name", "a batch named \"%s\" already exists in this project", name);
    }
    free(mds);
    return rc;
}

int lp_batch_json(lp_db *db, int64_t batch_id, int64_t *project_id, json_t **out)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT id, project_id, name, status, metadata, created_at, updated_at "
                           "FROM batches WHERE id = ?",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, batch_id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        json_t *md = json_loads(lp_stmt_text(st, 4), 0, NULL);
        *project_id = lp_stmt_int64(st, 1);
        *out = json_pack("{s:I, s:I, s:s, s:s, s:o, s:o, s:o}", "id", (json_int_t)batch_id,
                         "project_id", (json_int_t)*project_id, "name", lp_stmt_text(st, 2),
                         "status", lp_stmt_text(st, 3), "metadata", md ? md : json_object(),
                         "created_at", lp_json_time(lp_stmt_int64(st, 5)), "updated_at",
                         lp_json_time(lp_stmt_int64(st, 6)));
        rc = 0;
    } else if (rc == LP_DB_DONE) {
        rc = LP_ENOTFOUND;
    }
    lp_stmt_done(st);
    if (rc == 0) json_object_set_new(*out, "counts", lp_counts_json(db, 0, batch_id));
    return rc;
}

int lp_batch_finalize(lp_db *db, int64_t batch_id)
{
    int rc = lp_db_run(db,
                       "UPDATE batches SET status = 'in_progress', updated_at = ? "
                       "WHERE id = ? AND status = 'staging'",
                       "ii", lp_now_ms(), batch_id);
    if (rc == 0 && lp_db_changes(db) == 0) rc = LP_ECONFLICT;
    return rc;
}
