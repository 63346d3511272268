/* export_csv.c -- CSV export for the kinds whose answer is a few values:
 * categorization, rating and textcollection.  One header record, then one
 * record per task:
 *
 *   task_id, unique_id, status, <the kind's columns>, confidence, method,
 *   input_text
 *
 * The kind's columns come from the task's result and the project's params:
 * categorization has "label" (several labels joined with "|", in the
 * result's order); rating one column per criterion, named after it, in the
 * params' order, then "comment"; textcollection "text", or one column per
 * field, named after it, in the params' order.  confidence and method are
 * the result's.  input_text is the task's data.text, else its data.prompt
 * (not called "text", which textcollection's answer is).  A task without a
 * result has its answer columns, confidence and method empty.
 *
 * Quoting is libcsv's (csvfile.h): every field quoted, records ending in
 * CRLF (RFC 4180), so commas, quotes and line breaks in values survive.
 * Numbers are written in the shortest form that reads back as the same
 * double.  Each task is parsed, written and freed: memory stays flat. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvfile.h"
#include "export.h"

/* The params list whose names are the kind's columns (criteria, fields),
 * or NULL for a kind with a fixed column. */
static const json_t *named_columns(const lp_export_ctx *cx)
{
    if (strcmp(cx->kind, "rating") == 0) return json_object_get(cx->params, "criteria");
    if (strcmp(cx->kind, "textcollection") == 0) {
        const json_t *f = json_object_get(cx->params, "fields");
        return json_array_size(f) ? f : NULL;
    }
    return NULL;
}

/* Appends a field that holds value v: a string as it is, a number in its
 * shortest exact form, nothing for NULL or null, other JSON as compact
 * JSON text. */
static void put_value(lp_buf *out, size_t index, const json_t *v)
{
    char num[32];
    if (json_is_string(v)) {
        lp_csv_write_field(out, index, json_string_value(v), json_string_length(v));
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        lp_csv_write_field(out, index, num, strlen(num));
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(num, sizeof num, "%.*g", prec, d);
            if (strtod(num, NULL) == d) break;
        }
        lp_csv_write_field(out, index, num, strlen(num));
    } else if (!v || json_is_null(v)) {
        lp_csv_write_field(out, index, NULL, 0);
    } else {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        lp_csv_write_field(out, index, s, s ? strlen(s) : 0);
        free(s);
    }
}

static void put_name(lp_buf *out, size_t index, const char *name)
{
    lp_csv_write_field(out, index, name, strlen(name));
}

static void csv_begin(lp_export_ctx *cx, lp_buf *out)
{
    static const char *const head[] = {"task_id", "unique_id", "status"};
    static const char *const tail[] = {"confidence", "method", "input_text"};
    size_t col = 0, i;
    const json_t *item, *named = named_columns(cx);
    for (i = 0; i < LP_ARRAY_LEN(head); i++) put_name(out, col++, head[i]);
    if (named) {
        json_array_foreach(named, i, item)
        {
            put_value(out, col++, json_object_get(item, "name"));
        }
    } else {
        put_name(out, col++, strcmp(cx->kind, "categorization") == 0 ? "label" : "text");
    }
    if (strcmp(cx->kind, "rating") == 0) put_name(out, col++, "comment");
    for (i = 0; i < LP_ARRAY_LEN(tail); i++) put_name(out, col++, tail[i]);
    lp_csv_end_record(out);
}

/* Appends the kind's columns from response (NULL when the task has no
 * result) from column *col on. */
static void put_answer(const lp_export_ctx *cx, lp_buf *out, size_t *col, const json_t *response)
{
    const json_t *named = named_columns(cx), *item;
    size_t i;
    if (strcmp(cx->kind, "categorization") == 0) {
        lp_buf joined = {0};
        json_array_foreach(json_object_get(response, "labels"), i, item)
        {
            if (i) lp_buf_puts(&joined, "|");
            lp_buf_puts(&joined, json_string_value(item) ? json_string_value(item) : "");
        }
        lp_csv_write_field(out, (*col)++, joined.data, joined.len);
        lp_buf_fini(&joined);
        return;
    }
    if (!named) { /* textcollection with one text */
        put_value(out, (*col)++, json_object_get(response, "text"));
        return;
    }
    int rating = strcmp(cx->kind, "rating") == 0;
    const json_t *values = json_object_get(response, rating ? "ratings" : "fields");
    json_array_foreach(named, i, item)
    {
        const char *name = json_string_value(json_object_get(item, "name"));
        put_value(out, (*col)++, name ? json_object_get(values, name) : NULL);
    }
    if (rating) put_value(out, (*col)++, json_object_get(response, "comment"));
}

static void csv_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    (void)index;
    json_t *task = json_loadb(json, n, 0, NULL);
    if (!task) return; /* the API hands over valid JSON */
    const json_t *result = json_object_get(task, "result");
    const json_t *data = json_object_get(task, "data");
    const json_t *text = json_object_get(data, "text");
    if (!json_is_string(text)) text = json_object_get(data, "prompt");
    size_t col = 0;
    put_value(out, col++, json_object_get(task, "id"));
    put_value(out, col++, json_object_get(task, "unique_id"));
    put_value(out, col++, json_object_get(task, "status"));
    put_answer(cx, out, &col, json_object_get(result, "response"));
    put_value(out, col++, json_object_get(result, "confidence"));
    put_value(out, col++, json_object_get(result, "method"));
    put_value(out, col++, json_is_string(text) ? text : NULL);
    lp_csv_end_record(out);
    json_decref(task);
}

static const char *const csv_kinds[] = {"categorization", "rating", "textcollection", NULL};

const lp_export_format lp_export_csv = {
    .version = 1,
    .name = "csv",
    .summary = "CSV (RFC 4180): one row per task with its result",
    .content_type = "text/csv; charset=utf-8",
    .extension = "csv",
    .kinds = csv_kinds,
    .begin = csv_begin,
    .task = csv_task,
};
