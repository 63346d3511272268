/* kind_ner.c -- named entity recognition: labelled spans of a text, and
 * labelled relations between spans.
 *
 * The text is the task's data.text or, failing that, the content of its
 * first text attachment that has content.  Span offsets count Unicode code
 * points (as Python's str does, not UTF-16 units as JavaScript's), start
 * inclusive and end exclusive, so "Zoë" is [0, 3).  A valid response's
 * spans always lie inside the text and match any "text" they quote, and a
 * relation's "from" and "to" are indexes into the response's own spans. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "kind.h"
#include "util.h"

/* Finds the task's text: data.text, else the content of the first text
 * attachment with content.  Returns 0 and sets *s and *n (bytes), or -1. */
static int task_text(const json_t *task, const char **s, size_t *n)
{
    const json_t *t = json_object_get(json_object_get(task, "data"), "text"), *a;
    size_t i;
    if (!json_is_string(t)) {
        t = NULL;
        json_array_foreach(json_object_get(task, "attachments"), i, a)
        {
            const char *type = json_string_value(json_object_get(a, "type"));
            const json_t *content = json_object_get(a, "content");
            if (type && strcmp(type, "text") == 0 && json_is_string(content)) {
                t = content;
                break;
            }
        }
    }
    if (!t) return -1;
    *s = json_string_value(t);
    *n = json_string_length(t);
    return 0;
}

/* Checks params {labels, relations, instructions}; fills relations ([],
 * meaning responses have no relations) and the label objects. */
static int validate_params(json_t *params, lp_verr *e)
{
    static const char *const keys[] = {"labels", "relations", "instructions", NULL};
    int rc;
    if ((rc = lp_v_object(params, "params", e))) return rc;
    if ((rc = lp_v_only_keys(params, "params", keys, e))) return rc;
    if ((rc = lp_v_names(params, "labels", "params", 1, 1, NULL, e))) return rc;
    if ((rc = lp_v_names(params, "relations", "params", 0, 0, NULL, e))) return rc;
    return lp_v_string(params, "instructions", "params", 0, 0, 0, NULL, e);
}

/* Checks that the task has a text to mark. */
static int validate_task(const json_t *params, const json_t *task, lp_verr *e)
{
    const json_t *t = lp_json_given(json_object_get(task, "data"), "text");
    const char *s;
    size_t n;
    (void)params;
    if (t && !json_is_string(t))
        return lp_verr_set(e, "data.text", "must be a string, not %s", lp_json_type_name(t));
    if (task_text(task, &s, &n))
        return lp_verr_set(e, "data.text",
                           "is required: give the text in data.text or as an attachment of "
                           "type \"text\" with \"content\"");
    return 0;
}

/* Checks obj[key], a whole number that is not negative (an offset or an
 * index); *out receives it. */
static int whole(const json_t *obj, const char *key, const char *at, long long *out, lp_verr *e)
{
    char field[256];
    int rc = lp_v_int(obj, key, at, 1, LLONG_MIN, LLONG_MAX, out, e);
    if (rc) return rc;
    if (*out < 0)
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, key),
                           "must not be negative (got %lld)", *out);
    return 0;
}

/* Checks one span against the text (s, n bytes, len code points). */
static int check_span(const json_t *params, const json_t *span, const char *at, const char *s,
                      size_t n, size_t len, lp_verr *e)
{
    static const char *const keys[] = {"start", "end", "label", "text", NULL};
    long long start, end;
    char field[256];
    int rc;
    if ((rc = lp_v_object(span, at, e)) || (rc = lp_v_only_keys(span, at, keys, e)) ||
        (rc = whole(span, "start", at, &start, e)) || (rc = whole(span, "end", at, &end, e)))
        return rc;
    lp_path_key(field, sizeof field, at, "end");
    if (end <= start)
        return lp_verr_set(e, field, "must be greater than start (%lld); got %lld", start, end);
    if ((unsigned long long)end > len)
        return lp_verr_set(e, field,
                           "must be at most %zu, the length of the text in characters (got %lld)",
                           len, end);
    const json_t *quoted = lp_json_given(span, "text");
    if (quoted) {
        lp_path_key(field, sizeof field, at, "text");
        if (!json_is_string(quoted))
            return lp_verr_set(e, field, "must be a string, not %s", lp_json_type_name(quoted));
        size_t b0 = lp_utf8_offset(s, n, (size_t)start), b1 = lp_utf8_offset(s, n, (size_t)end);
        if (json_string_length(quoted) != b1 - b0 ||
            memcmp(json_string_value(quoted), s + b0, b1 - b0) != 0) {
            char q1[96], q2[96];
            char *actual = lp_strndup(s + b0, b1 - b0);
            rc = lp_verr_set(e, field, "%s does not match the text from %lld to %lld, which is %s",
                             lp_quote(q1, sizeof q1, json_string_value(quoted)), start, end,
                             lp_quote(q2, sizeof q2, actual));
            free(actual);
            return rc;
        }
    }
    lp_path_key(field, sizeof field, at, "label");
    return lp_v_name_in(json_object_get(params, "labels"), json_object_get(span, "label"), field,
                        "labels", NULL, e);
}

/* Checks rel[key], the index of one of the response's nspans spans. */
static int span_index(const json_t *rel, const char *key, const char *at, size_t nspans,
                      long long *out, lp_verr *e)
{
    char field[256];
    int rc = whole(rel, key, at, out, e);
    if (rc) return rc;
    if ((unsigned long long)*out >= nspans)
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, key),
                           "must be the index of a span, and the response has %zu (got %lld)",
                           nspans, *out);
    return 0;
}

/* Checks the response's relations between its nspans spans. */
static int check_relations(const json_t *params, const json_t *response, const char *path,
                           size_t nspans, lp_verr *e)
{
    static const char *const keys[] = {"from", "to", "label", NULL};
    const json_t *labels = json_object_get(params, "relations"), *list, *rel;
    char field[256];
    size_t i;
    int rc;
    if ((rc = lp_v_array(response, "relations", path, 0, 0, 0, &list, e)) || !list) return rc;
    lp_path_key(field, sizeof field, path, "relations");
    if (json_array_size(list) && !json_array_size(labels))
        return lp_verr_set(e, field, "must be empty, since the project has no relation labels");
    json_array_foreach(list, i, rel)
    {
        char at[256], f[256];
        long long from, to;
        lp_path_index(at, sizeof at, field, i);
        if ((rc = lp_v_object(rel, at, e)) || (rc = lp_v_only_keys(rel, at, keys, e)) ||
            (rc = span_index(rel, "from", at, nspans, &from, e)) ||
            (rc = span_index(rel, "to", at, nspans, &to, e)))
            return rc;
        if (from == to)
            return lp_verr_set(e, lp_path_key(f, sizeof f, at, "to"),
                               "must differ from \"from\" (%lld): a relation links two spans",
                               from);
        if ((rc = lp_v_name_in(labels, json_object_get(rel, "label"),
                               lp_path_key(f, sizeof f, at, "label"), "relation labels", NULL, e)))
            return rc;
    }
    return 0;
}

/* Checks a response {spans: [...], relations?: [...]}; spans may overlap. */
static int validate_response(const json_t *params, const json_t *task, const json_t *response,
                             const char *path, lp_verr *e)
{
    static const char *const keys[] = {"spans", "relations", NULL};
    const json_t *spans, *span;
    const char *s;
    size_t n, i;
    char field[256];
    int rc;
    if ((rc = lp_v_object(response, path, e))) return rc;
    if ((rc = lp_v_only_keys(response, path, keys, e))) return rc;
    if (task_text(task, &s, &n))
        return lp_verr_set(e, path, "cannot be checked: the task has no text (data.text)");
    if ((rc = lp_v_array(response, "spans", path, 1, 0, 0, &spans, e))) return rc;
    size_t len = lp_utf8_len(s, n);
    lp_path_key(field, sizeof field, path, "spans");
    json_array_foreach(spans, i, span)
    {
        char at[256];
        lp_path_index(at, sizeof at, field, i);
        if ((rc = check_span(params, span, at, s, n, len, e))) return rc;
    }
    return check_relations(params, response, path, json_array_size(spans), e);
}

const lp_kind lp_kind_namedentityrecognition = {
    .version = 1,
    .name = "namedentityrecognition",
    .summary = "Mark labelled spans of a text, and labelled relations between them.",
    .validate_params = validate_params,
    .validate_task = validate_task,
    .validate_response = validate_response,
};
