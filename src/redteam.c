/* redteam.c -- the attack success rate report and the transcript export of
 * red-team projects (redteam.h).
 *
 * The rate of a group is succeeded / n with the Wilson score interval at
 * 95% (lp_wilson, autolabel.c), which stays inside 0..1 and says something
 * useful for the small groups a red team produces (3 attacks out of 4 is
 * not "75%").  The transcript format writes one JSON line per completed
 * task from its result, or, when the export includes annotations, one per
 * accepted annotation, each with its annotator (an id or a pseudonym, as
 * the export's workers option says). */
#include "redteam.h"

#include <string.h>

#include "autolabel.h"
#include "util.h"

static json_t *rate(size_t k, size_t n)
{
    double low = 0, high = 0;
    if (n) lp_wilson(k, n, 1.959964, &low, &high);
    return json_pack("{s:I, s:I, s:o, s:o, s:o}", "n", (json_int_t)n, "succeeded", (json_int_t)k,
                     "rate", n ? json_real((double)k / (double)n) : json_null(), "low",
                     n ? json_real(low) : json_null(), "high", n ? json_real(high) : json_null());
}

/* Counts rows by the name key() gives into an object name -> [k, n]. */
static json_t *tally(const lp_redteam_row *rows, size_t n, int by_model)
{
    json_t *t = json_object();
    for (size_t i = 0; i < n; i++) {
        const char *name = by_model ? rows[i].model : rows[i].category;
        if (!name || !*name) name = "(none)";
        json_t *c = json_object_get(t, name);
        if (!c) json_object_set_new(t, name, c = json_pack("[i, i]", 0, 0));
        if (rows[i].success)
            json_array_set_new(c, 0, json_integer(json_integer_value(json_array_get(c, 0)) + 1));
        json_array_set_new(c, 1, json_integer(json_integer_value(json_array_get(c, 1)) + 1));
    }
    return t;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The groups of t as a list sorted by name, each {key: name, ...rate}. */
static json_t *groups(json_t *t, const char *key)
{
    size_t n = json_object_size(t), i = 0;
    const char **names = lp_malloc((n ? n : 1) * sizeof *names);
    const char *name;
    json_t *v;
    json_object_foreach(t, name, v) names[i++] = name;
    qsort(names, n, sizeof *names, by_name);
    json_t *out = json_array();
    for (i = 0; i < n; i++) {
        json_t *c = json_object_get(t, names[i]);
        json_t *g = rate((size_t)json_integer_value(json_array_get(c, 0)),
                         (size_t)json_integer_value(json_array_get(c, 1)));
        json_object_set_new(g, key, json_string(names[i]));
        json_array_append_new(out, g);
    }
    free(names);
    return out;
}

json_t *lp_redteam_report(const lp_redteam_row *rows, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += rows[i].success != 0;
    json_t *cats = tally(rows, n, 0), *models = tally(rows, n, 1);
    json_t *out = json_pack("{s:o, s:o, s:o}", "overall", rate(k, n), "by_category",
                            groups(cats, "category"), "by_model", groups(models, "model"));
    json_decref(cats);
    json_decref(models);
    return out;
}

const char *lp_redteam_model(const json_t *response)
{
    const json_t *conv = json_object_get(response, "conversation");
    for (size_t i = json_array_size(conv); i-- > 0;) {
        const json_t *m = json_array_get(conv, i);
        const char *model = json_string_value(json_object_get(m, "model"));
        if (model && *model) return model;
    }
    return NULL;
}

/* ---- the transcript export ---- */

static int buf_sink(const char *s, size_t n, void *data)
{
    lp_buf_append(data, s, n);
    return 0;
}

/* Appends one transcript line for response to out. */
static void transcript_line(lp_export_ctx *cx, lp_buf *out, const json_t *task,
                            const json_t *response, const json_t *annotator)
{
    static const char *const labels[] = {"success", "category", "severity", "notes", NULL};
    const json_t *data = json_object_get(task, "data");
    const char *model = lp_redteam_model(response);
    json_t *line = json_object();
    json_object_set(line, "task_id", json_object_get(task, "id"));
    json_object_set(line, "unique_id", json_object_get(task, "unique_id"));
    json_object_set(line, "goal", json_string_value(json_object_get(data, "goal"))
                                      ? json_object_get(data, "goal")
                                      : json_null());
    json_object_set_new(line, "model", model ? json_string(model) : json_null());
    json_object_set(line, "endpoint_id", json_object_get(cx->params, "endpoint_id"));
    json_object_set(line, "conversation", json_object_get(response, "conversation"));
    for (const char *const *k = labels; *k; k++) {
        json_t *v = json_object_get(response, *k);
        json_object_set(line, *k, v ? v : json_null());
    }
    json_object_set(line, "annotator", annotator ? (json_t *)annotator : json_null());
    json_dump_callback(line, buf_sink, out, JSON_COMPACT | JSON_ENCODE_ANY);
    lp_buf_puts(out, "\n");
    json_decref(line);
}

static void transcript_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json,
                            size_t n)
{
    (void)index;
    json_t *task = json_loadb(json, n, 0, NULL);
    const json_t *annotations = json_object_get(task, "annotations"), *a;
    size_t i;
    if (json_is_array(annotations)) {
        json_array_foreach(annotations, i, a)
        {
            const json_t *r = json_object_get(a, "response");
            if (json_is_object(r)) transcript_line(cx, out, task, r, json_object_get(a, "user_id"));
        }
    } else {
        const json_t *result = json_object_get(task, "result");
        const json_t *r = json_is_object(result) ? json_object_get(result, "response") : NULL;
        if (json_is_object(r)) transcript_line(cx, out, task, r, NULL);
    }
    json_decref(task);
}

static const char *const redteam_kinds[] = {"redteam", NULL};

const lp_export_format lp_export_redteam = {
    .version = 1,
    .name = "redteam",
    .summary = "JSONL red-team transcripts with their labels: one line per completed task, or "
               "per accepted annotation with include=annotations",
    .content_type = "application/x-ndjson",
    .extension = "jsonl",
    .kinds = redteam_kinds,
    .task = transcript_task,
};
