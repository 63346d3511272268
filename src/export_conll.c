/* export_conll.c -- CoNLL-2003 export of namedentityrecognition results.
 *
 * The CoNLL-2003 files have four columns separated by a single space: the
 * word, its part-of-speech tag, its chunk tag and its named-entity tag, a
 * word a line and an empty line after each sentence; a document starts
 * with the line "-DOCSTART- -X- -X- O".  Loupe knows no part of speech nor
 * chunk, so it writes the placeholder those files use on that line, "-X-",
 * in both, and keeps the four columns: readers written for CoNLL-2003 take
 * the tag from the fourth column, and those that take the first and last
 * columns read it too.  Each task with a result is one document of one
 * block:
 *
 *   -DOCSTART- -X- -X- O
 *   <empty line>
 *   Zoë -X- -X- B-PER
 *   lives -X- -X- O
 *   ...
 *   <empty line>
 *
 * Tags are IOB2: B-LABEL on an entity's first token, I-LABEL on the others,
 * O outside, so two adjacent entities of the same label read B- B-.  A
 * label's white space becomes "_" (it would split the columns).
 *
 * Tokens are those of the consolidation (lp_span_tokenize in agg_span.h):
 * runs of word characters and single punctuation marks, split at white
 * space, offsets in code points.  A span takes every token it touches
 * (from the first that ends after its start to the last that starts
 * before its end), as the consolidation snaps spans; one that touches no
 * token is ignored.  BIO cannot say that spans overlap: the spans are taken
 * in the order (first token, longest first, position in the response) and
 * one sharing a token with a span already taken is dropped.
 *
 * A task without a result is left out (it has no tags to learn from); a
 * result without spans is all O.  Each task is parsed, written and freed:
 * memory stays flat. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "agg_span.h"
#include "export.h"
#include "kind.h"

/* A span snapped to tokens [first, last]; at is its place in the response. */
typedef struct snapped {
    size_t first, last, at;
    const char *label;
} snapped;

static int by_first_longest(const void *x, const void *y)
{
    const snapped *a = x, *b = y;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    if (a->last != b->last) return a->last > b->last ? -1 : 1;
    return a->at < b->at ? -1 : a->at > b->at;
}

/* The index of the first of the n tokens whose end (at_start 0) or start
 * (at_start 1) is after offset at; n if none is. */
static size_t first_after(const lp_token *tok, size_t n, size_t at, int at_start)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if ((at_start ? tok[mid].start : tok[mid].end) > at)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The spans of response snapped to the n tokens, into a new array (*out,
 * freed by the caller) of *n_out, sorted by_first_longest. */
static void snap_spans(const json_t *response, const lp_token *tok, size_t n, snapped **out,
                       size_t *n_out)
{
    const json_t *spans = json_object_get(response, "spans"), *sp;
    size_t i, k = 0;
    snapped *s = lp_malloc((json_array_size(spans) + 1) * sizeof *s);
    json_array_foreach(spans, i, sp)
    {
        json_t *js = json_object_get(sp, "start"), *je = json_object_get(sp, "end");
        const char *label = json_string_value(json_object_get(sp, "label"));
        if (!json_is_integer(js) || !json_is_integer(je) || !label) continue;
        json_int_t start = json_integer_value(js), end = json_integer_value(je);
        if (start < 0 || end <= start) continue;
        /* From the first token ending after start to the last starting
         * before end; end after every token touches them all. */
        size_t first = first_after(tok, n, (size_t)start, 0);
        size_t after = first_after(tok, n, (size_t)end - 1, 1);
        if (after <= first) continue; /* touches no token */
        s[k++] = (snapped){first, after - 1, i, label};
    }
    qsort(s, k, sizeof *s, by_first_longest);
    *out = s;
    *n_out = k;
}

/* Appends tag's prefix and label, its white space as '_'. */
static void put_tag(lp_buf *out, const char *prefix, const char *label)
{
    lp_buf_puts(out, prefix);
    for (const char *c = label; *c; c++) lp_buf_append(out, strchr(" \t\r\n\v\f", *c) ? "_" : c, 1);
}

static void conll_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    (void)cx;
    (void)index;
    json_t *task = json_loadb(json, n, 0, NULL);
    const json_t *response = json_object_get(json_object_get(task, "result"), "response");
    const char *s;
    size_t len, ntok = 0, nspan = 0;
    lp_token *tok = NULL;
    snapped *spans = NULL;
    if (!json_is_object(response) || lp_ner_task_text(task, &s, &len) ||
        lp_span_tokenize(s, len, &tok, &ntok))
        goto done;
    snap_spans(response, tok, ntok, &spans, &nspan);
    /* owner[t]: the span tagging token t, or nspan for O. */
    size_t *owner = lp_malloc((ntok + 1) * sizeof *owner), taken = 0;
    for (size_t t = 0; t < ntok; t++) owner[t] = nspan;
    for (size_t k = 0; k < nspan; k++) {
        if (spans[k].first < taken) continue; /* overlaps one taken */
        for (size_t t = spans[k].first; t <= spans[k].last; t++) owner[t] = k;
        taken = spans[k].last + 1;
    }
    lp_buf_puts(out, "-DOCSTART- -X- -X- O\n\n");
    /* Walk the text once, counting code points (a byte that is not a UTF-8
     * continuation byte starts one, as the tokenizer counts). */
    size_t b = 0, cp = 0;
    for (size_t t = 0; t < ntok; t++) {
        for (; b < len && cp < tok[t].start; b++)
            if (((unsigned char)s[b] & 0xC0) != 0x80) cp++;
        while (b < len && ((unsigned char)s[b] & 0xC0) == 0x80) b++;
        size_t from = b;
        for (; b < len && cp < tok[t].end; b++)
            if (((unsigned char)s[b] & 0xC0) != 0x80) cp++;
        while (b < len && ((unsigned char)s[b] & 0xC0) == 0x80) b++;
        lp_buf_append(out, s + from, b - from);
        lp_buf_puts(out, " -X- -X- ");
        size_t k = owner[t];
        if (k == nspan)
            lp_buf_puts(out, "O");
        else
            put_tag(out, t == spans[k].first ? "B-" : "I-", spans[k].label);
        lp_buf_puts(out, "\n");
    }
    if (ntok) lp_buf_puts(out, "\n");
    free(owner);
done:
    free(spans);
    free(tok);
    json_decref(task);
}

static const char *const conll_kinds[] = {"namedentityrecognition", NULL};

const lp_export_format lp_export_conll = {
    .version = 1,
    .name = "conll",
    .summary = "CoNLL-2003: one token per line with its BIO entity tag",
    .content_type = "text/plain; charset=utf-8",
    .extension = "conll",
    .kinds = conll_kinds,
    .task = conll_task,
};
