/* kind_ner.c -- named entity recognition: labelled spans of a text, and
 * labelled relations between spans.
 *
 * The text is the task's data.text or, failing that, the content of its
 * first text attachment that has content.  Span offsets count Unicode code
 * points (as Python's str does, not UTF-16 units as JavaScript's), start
 * inclusive and end exclusive, so "Zoë" is [0, 3).  A valid response's
 * spans always lie inside the text and match any "text" they quote, and a
 * relation's "from" and "to" are indexes into the response's own spans.
 * Several workers' responses consolidate into one by a token-level vote
 * (agg_span.c): the spans more than half of the workers' weight marked,
 * with the label most of them gave; see aggregate(). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg_span.h"
#include "kind.h"
#include "limit.h"
#include "util.h"

int lp_ner_task_text(const json_t *task, const char **s, size_t *n)
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
    if (lp_ner_task_text(task, &s, &n))
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
    if ((rc = lp_v_array(response, "relations", path, 0, 0, LP_LIMIT_RESPONSE_ITEMS, &list, e)) ||
        !list)
        return rc;
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
    if (lp_ner_task_text(task, &s, &n))
        return lp_verr_set(e, path, "cannot be checked: the task has no text (data.text)");
    if ((rc = lp_v_array(response, "spans", path, 1, 0, LP_LIMIT_RESPONSE_ITEMS, &spans, e)))
        return rc;
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

/* 1 when spans a and b have the same start, end and label. */
static int same_span(const json_t *a, const json_t *b)
{
    double a0, a1, b0, b1;
    if (lp_json_number(json_object_get(a, "start"), &a0) ||
        lp_json_number(json_object_get(a, "end"), &a1) ||
        lp_json_number(json_object_get(b, "start"), &b0) ||
        lp_json_number(json_object_get(b, "end"), &b1))
        return 0;
    const json_t *la = json_object_get(a, "label");
    return a0 == b0 && a1 == b1 && json_is_string(la) &&
           json_equal(la, json_object_get(b, "label"));
}

/* 1 when relations a (between spans sa) and b (between spans sb) have the
 * same label and join the same spans in the same direction. */
static int same_relation(const json_t *a, const json_t *sa, const json_t *b, const json_t *sb)
{
    const json_t *la = json_object_get(a, "label");
    if (!json_is_string(la) || !json_equal(la, json_object_get(b, "label"))) return 0;
    static const char *const ends[] = {"from", "to"};
    for (size_t k = 0; k < 2; k++) {
        double i, j;
        if (lp_json_number(json_object_get(a, ends[k]), &i) ||
            lp_json_number(json_object_get(b, ends[k]), &j) || !(i >= 0) || !(j >= 0) ||
            i >= (double)json_array_size(sa) || j >= (double)json_array_size(sb) ||
            !same_span(json_array_get(sa, (size_t)i), json_array_get(sb, (size_t)j)))
            return 0;
    }
    return 1;
}

/* Counts the items of list a that pair with an item of list b, each item
 * of b used once: spans (relations = 0) or relations between the spans sa
 * and sb. */
static size_t matches(const json_t *a, const json_t *b, int relations, const json_t *sa,
                      const json_t *sb)
{
    size_t nb = json_array_size(b), hits = 0, i, j;
    const json_t *x;
    char *used = lp_calloc(nb + 1, 1);
    json_array_foreach(a, i, x)
    {
        for (j = 0; j < nb; j++) {
            const json_t *y = json_array_get(b, j);
            if (!used[j] && (relations ? same_relation(x, sa, y, sb) : same_span(x, y))) {
                used[j] = 1;
                hits++;
                break;
            }
        }
    }
    free(used);
    return hits;
}

/* Scores the F1 of exact matches: a span counts when the other side has
 * one with the same start, end and label (the "text" it quotes follows
 * from them), a relation when the other side has one with the same label
 * from a matching span to a matching span.  Spans and relations are pooled
 * into one F1 = 2 * matched / (items in the response + items in the
 * reference), each item matching at most once; two empty responses score
 * 1.  No partial credit for overlapping spans, as in CoNLL scoring. */
static double score(const json_t *params, const json_t *task, const json_t *response,
                    const json_t *reference)
{
    const json_t *sa = json_object_get(response, "spans"),
                 *sb = json_object_get(reference, "spans");
    const json_t *ra = json_object_get(response, "relations");
    const json_t *rb = json_object_get(reference, "relations");
    (void)params;
    (void)task;
    size_t total =
        json_array_size(sa) + json_array_size(sb) + json_array_size(ra) + json_array_size(rb);
    if (!total) return 1;
    size_t hits = matches(sa, sb, 0, NULL, NULL) + matches(ra, rb, 1, sa, sb);
    return 2 * (double)hits / (double)total;
}

/* ---- Consolidating several workers' responses -------------------------- */

/* Consolidates the workers' spans into one response {spans: [...]} by the
 * token-level vote of agg_span.c with its default quorum: the text is cut
 * into word and punctuation tokens (lp_span_tokenize), each span is
 * widened to the tokens it touches, and a token is in an entity of a label
 * when the workers who put it in one weigh more than half of all the
 * workers (a worker who marked nothing votes against every entity).  So a
 * span most workers marked is kept, one few marked is dropped, and workers
 * who agree on a span but not its label give it the label of the larger
 * weight, when that is more than half.  Each response is one worker; spans
 * that are not valid for the params and the task now are left out, but
 * their worker still counts.  Result spans lie on token boundaries, in text
 * order, each with the "text" it covers.  Relations are dropped: they join
 * a worker's own spans, which the vote does not keep.  Confidence is the
 * mean of the spans' confidences (the mean share of weight behind each of
 * their tokens); with no span kept, the weight share of the workers who
 * marked nothing (1 when nobody marked anything).  Fails with LP_EINVAL
 * when the task has no text or a weight is negative or not finite. */
static int aggregate(const json_t *params, const json_t *task, const json_t *const *responses,
                     const double *weights, size_t n, json_t **out, double *confidence)
{
    const json_t *labels = json_object_get(params, "labels");
    const char *s;
    size_t nb, ntok = 0, ns = 0, cap = 0, nout = 0;
    double total = 0, idle = 0, sum = 0;
    if (lp_ner_task_text(task, &s, &nb)) return LP_EINVAL;
    for (size_t i = 0; i < n; i++) {
        double w = weights ? weights[i] : 1;
        if (!(w >= 0 && isfinite(w))) return LP_EINVAL;
        total += w;
    }
    size_t len = lp_utf8_len(s, nb);
    lp_token *tok = NULL;
    lp_span *spans = NULL;
    lp_span_out *res = NULL;
    json_t *list = json_array();
    int rc = lp_span_tokenize(s, nb, &tok, &ntok);
    if (rc) goto fail;
    for (size_t i = 0; i < n; i++) {
        const json_t *span, *label;
        size_t j, before = ns;
        json_array_foreach(json_object_get(responses[i], "spans"), j, span)
        {
            lp_verr e;
            double start, end;
            if (check_span(params, span, "span", s, nb, len, &e)) continue;
            label = json_object_get(span, "label");
            lp_json_number(json_object_get(span, "start"), &start);
            lp_json_number(json_object_get(span, "end"), &end);
            if (ns == cap) spans = lp_realloc(spans, (cap = cap ? 2 * cap : 16) * sizeof *spans);
            spans[ns++] = (lp_span){(uint32_t)i,
                                    (uint32_t)lp_names_find(labels, json_string_value(label),
                                                            json_string_length(label)),
                                    (size_t)start, (size_t)end};
        }
        if (ns == before) idle += weights ? weights[i] : 1;
    }
    if ((rc = lp_agg_spans(tok, ntok, spans, ns, n, weights, NULL, &res, &nout))) goto fail;
    for (size_t k = 0; k < nout; k++) {
        const char *name =
            json_string_value(json_object_get(json_array_get(labels, res[k].label), "name"));
        size_t b0 = lp_utf8_offset(s, nb, res[k].start), b1 = lp_utf8_offset(s, nb, res[k].end);
        json_t *span = json_pack("{s:I, s:I, s:s}", "start", (json_int_t)res[k].start, "end",
                                 (json_int_t)res[k].end, "label", name ? name : "");
        json_t *text = json_stringn(s + b0, b1 - b0); /* NULL only for bad UTF-8 */
        if (text) json_object_set_new(span, "text", text);
        json_array_append_new(list, span);
        sum += res[k].confidence;
    }
    *confidence = nout ? sum / (double)nout : total > 0 ? idle / total : 0;
    *out = json_pack("{s:O}", "spans", list);
fail:
    json_decref(list);
    free(res);
    free(spans);
    free(tok);
    return rc;
}

const lp_kind lp_kind_namedentityrecognition = {
    .version = 1,
    .name = "namedentityrecognition",
    .summary = "Mark labelled spans of a text, and labelled relations between them.",
    .validate_params = validate_params,
    .validate_task = validate_task,
    .validate_response = validate_response,
    .score = score,
    .aggregate = aggregate,
};
