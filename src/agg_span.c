/* agg_span.c -- consolidation of entity spans marked by several workers in
 * one text (see agg_span.h), by a token-level vote that keeps boundaries.
 *
 * Method (token-level majority vote over BIO tags, the usual baseline of
 * crowd sequence labelling: Rodrigues, Pereira and Ribeiro, "Sequence
 * labeling with multiple annotators", Machine Learning 2014; Nguyen et al.,
 * "Aggregating and predicting sequence labels from crowd annotations", ACL
 * 2017):
 * 1. Each span is snapped outward to whole tokens: from the first token that
 *    ends after its start to the last token that starts before its end.  A
 *    span that covers no token (only white space) is ignored.
 * 2. Each worker's spans become one BIO tag per token: the spans, in the
 *    order (start, longest first, label), each take the tokens no earlier
 *    span of that worker took, so a span overlapping an earlier one is cut
 *    to the part after it and a nested span is dropped (BIO cannot hold
 *    nested entities).  A token a worker left out is O: a worker who marked
 *    nothing votes O everywhere.
 * 3. For each token and label l, in(l) is the weight of the workers who
 *    tagged it B-l or I-l, and begin(l) that of B-l.  The token belongs to
 *    label l when in(l) is more than quorum times the weight of all
 *    workers; when several labels pass (only with a quorum under a half)
 *    the largest in(l) wins, and on a tie the smaller label id.  Otherwise
 *    it is O.
 * 4. A run of tokens with the same label is one entity, except that it is
 *    cut before a token where more of the workers who put the token in the
 *    entity began one there than continued one: begin(l) > in(l) -
 *    begin(l).  A tie continues the entity.  So two adjacent entities stay
 *    apart when most of their annotators kept them apart.
 * 5. An entity runs from its first token's start to its last token's end;
 *    its confidence is the mean over its tokens of in(l) over the weight of
 *    all workers.
 * Votes are added in a canonical order of the spans, so the result does not
 * depend on the order they are passed in.  Time O(n log n + T * L) and
 * memory O(T * L) for n spans, T tokens and L distinct labels.
 *
 * The tokenizer splits on white space and makes each punctuation character
 * a token of its own; Chinese, Japanese and Korean ideographs and kana are
 * one token each (as BERT's basic tokenizer does: Devlin et al. 2019),
 * since those scripts do not separate words by spaces. */
#include "agg_span.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Relative slack in comparisons of sums of weights. */
#define REL_EPS 1e-12

/* ---- Tokenizer --------------------------------------------------------- */

enum { SPACE, PUNCT, WORD, SINGLE };

/* A range of code points [lo, hi] and their class. */
typedef struct cp_range {
    uint32_t lo, hi;
    int cls;
} cp_range;

/* Non-ASCII code points that are not word characters, or are one token
 * each; sorted.  Everything else beyond ASCII is a word character. */
static const cp_range ranges[] = {
    {0x0085, 0x0085, SPACE},  {0x00A0, 0x00A0, SPACE},  {0x00A1, 0x00A9, PUNCT},
    {0x00AB, 0x00B1, PUNCT},  {0x00B4, 0x00B4, PUNCT},  {0x00B6, 0x00B8, PUNCT},
    {0x00BB, 0x00BF, PUNCT},  {0x00D7, 0x00D7, PUNCT},  {0x00F7, 0x00F7, PUNCT},
    {0x1680, 0x1680, SPACE},  {0x2000, 0x200B, SPACE},  {0x2010, 0x2027, PUNCT},
    {0x2028, 0x2029, SPACE},  {0x202F, 0x202F, SPACE},  {0x2030, 0x205E, PUNCT},
    {0x205F, 0x205F, SPACE},  {0x3000, 0x3000, SPACE},  {0x3001, 0x3003, PUNCT},
    {0x3008, 0x3011, PUNCT},  {0x3014, 0x301F, PUNCT},  {0x3040, 0x30FF, SINGLE},
    {0x3400, 0x4DBF, SINGLE}, {0x4E00, 0x9FFF, SINGLE}, {0xAC00, 0xD7AF, SINGLE},
    {0xF900, 0xFAFF, SINGLE}, {0xFEFF, 0xFEFF, SPACE},  {0xFF01, 0xFF0F, PUNCT},
    {0xFF1A, 0xFF20, PUNCT},  {0xFF3B, 0xFF40, PUNCT},  {0xFF5B, 0xFF65, PUNCT},
};

/* The class of code point c. */
static int classify(uint32_t c)
{
    if (c < 0x80) {
        if (c == ' ' || (c >= '\t' && c <= '\r')) return SPACE;
        if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_')
            return WORD;
        return c < 0x20 || c == 0x7F ? SPACE : PUNCT;
    }
    size_t lo = 0, hi = LP_ARRAY_LEN(ranges);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < ranges[mid].lo)
            hi = mid;
        else if (c > ranges[mid].hi)
            lo = mid + 1;
        else
            return ranges[mid].cls;
    }
    return WORD;
}

int lp_span_tokenize(const char *s, size_t n, lp_token **out, size_t *n_out)
{
    const unsigned char *p = (const unsigned char *)s;
    lp_token *tok = NULL;
    size_t ntok = 0, cap = 0, cp = 0, i = 0;
    int in_word = 0;
    if (!out || !n_out || (n && !s)) return LP_EINVAL;
    while (i < n && (p[i] & 0xC0) == 0x80) i++; /* stray continuation bytes */
    while (i < n) {
        /* Decode one code point: a lead byte and the continuation bytes
         * after it (a malformed sequence decodes to U+FFFD, a word char). */
        uint32_t c = p[i];
        size_t len = 1, want = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
        int bad = c >= 0x80 && (c < 0xC2 || c >= 0xF5);
        c &= want == 3 ? 0x07 : want == 2 ? 0x0F : want == 1 ? 0x1F : 0x7F;
        while (i + len < n && (p[i + len] & 0xC0) == 0x80) c = (c << 6) | (p[i + len++] & 0x3F);
        if (bad || len - 1 != want) c = 0xFFFD;
        i += len;
        int cls = classify(c);
        if (cls == WORD && in_word) {
            tok[ntok - 1].end = cp + 1;
        } else if (cls != SPACE) {
            if (ntok == cap) tok = lp_realloc(tok, (cap = cap ? 2 * cap : 32) * sizeof *tok);
            tok[ntok++] = (lp_token){cp, cp + 1};
        }
        in_word = cls == WORD;
        cp++;
    }
    *out = tok;
    *n_out = ntok;
    return 0;
}

/* ---- Voting ---------------------------------------------------------- */

/* A span snapped to tokens [first, last], its label as an index. */
typedef struct snapped {
    uint32_t worker, label;
    size_t first, last;
} snapped;

static int by_snapped(const void *x, const void *y)
{
    const snapped *a = x, *b = y;
    if (a->worker != b->worker) return a->worker < b->worker ? -1 : 1;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    if (a->last != b->last) return a->last > b->last ? -1 : 1; /* longest first */
    return (a->label > b->label) - (a->label < b->label);
}

static int by_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* The index of the first of the n tokens that ends after offset at. */
static size_t first_ending_after(const lp_token *tok, size_t n, size_t at)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tok[mid].end > at)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The number of the n tokens that start before offset at. */
static size_t count_starting_before(const lp_token *tok, size_t n, size_t at)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tok[mid].start < at)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int lp_agg_spans(const lp_token *tok, size_t n_tok, const lp_span *s, size_t n, size_t n_workers,
                 const double *weights, const lp_span_opts *o, lp_span_out **out, size_t *n_out)
{
    lp_span_opts def = LP_SPAN_OPTS_DEFAULT;
    if (!out || !n_out) return LP_EINVAL;
    *out = NULL;
    *n_out = 0;
    if (!o) o = &def;
    if (!(o->quorum >= 0 && o->quorum < 1) || (n && !s) || (n_tok && !tok)) return LP_EINVAL;
    for (size_t t = 0; t < n_tok; t++)
        if (tok[t].end <= tok[t].start || (t && tok[t].start < tok[t - 1].end)) return LP_EINVAL;
    double total = 0;
    for (size_t w = 0; w < n_workers; w++) {
        double x = weights ? weights[w] : 1;
        if (!(x >= 0 && isfinite(x))) return LP_EINVAL;
        total += x;
    }
    for (size_t i = 0; i < n; i++)
        if (s[i].worker >= n_workers || s[i].end <= s[i].start) return LP_EINVAL;
    if (!n || !n_tok || !(total > 0)) return 0;

    /* The distinct labels, sorted: label index -> label id. */
    uint32_t *labels = lp_malloc(n * sizeof *labels);
    size_t nl = 0;
    for (size_t i = 0; i < n; i++) labels[i] = s[i].label;
    qsort(labels, n, sizeof *labels, by_u32);
    for (size_t i = 0; i < n; i++)
        if (!nl || labels[nl - 1] != labels[i]) labels[nl++] = labels[i];

    /* 1. Snap to tokens. */
    snapped *sn = lp_malloc(n * sizeof *sn);
    size_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        size_t first = first_ending_after(tok, n_tok, s[i].start);
        size_t end = count_starting_before(tok, n_tok, s[i].end);
        if (first >= end) continue; /* covers no token */
        uint32_t *l = bsearch(&s[i].label, labels, nl, sizeof *labels, by_u32);
        sn[ns++] = (snapped){s[i].worker, (uint32_t)(l - labels), first, end - 1};
    }
    qsort(sn, ns, sizeof *sn, by_snapped);

    /* 2 and 3. Each worker's BIO tags, added up per token and label. */
    double *in = lp_calloc(n_tok * nl, sizeof *in), *begin = lp_calloc(n_tok * nl, sizeof *begin);
    size_t taken = 0; /* tokens before this are taken by the worker's earlier spans */
    for (size_t i = 0; i < ns; i++) {
        if (i == 0 || sn[i].worker != sn[i - 1].worker) taken = 0;
        size_t first = sn[i].first > taken ? sn[i].first : taken;
        if (first > sn[i].last) continue; /* nested in an earlier span */
        double w = weights ? weights[sn[i].worker] : 1;
        begin[first * nl + sn[i].label] += w;
        for (size_t t = first; t <= sn[i].last; t++) in[t * nl + sn[i].label] += w;
        taken = sn[i].last + 1;
    }

    /* 4. Each token's label (nl for O), then the runs. */
    size_t *tag = lp_malloc(n_tok * sizeof *tag);
    double need = o->quorum * total + REL_EPS * total;
    for (size_t t = 0; t < n_tok; t++) {
        tag[t] = nl;
        for (size_t l = 0; l < nl; l++)
            if (in[t * nl + l] > need && (tag[t] == nl || in[t * nl + l] > in[t * nl + tag[t]]))
                tag[t] = l;
    }
    lp_span_out *res = NULL;
    size_t nres = 0, cap = 0;
    for (size_t t = 0; t < n_tok;) {
        size_t l = tag[t], u = t + 1;
        if (l == nl) {
            t++;
            continue;
        }
        double share = in[t * nl + l];
        while (u < n_tok && tag[u] == l) {
            double b = begin[u * nl + l];
            if (b > in[u * nl + l] - b) break; /* most began a new entity here */
            share += in[u * nl + l];
            u++;
        }
        if (nres == cap) res = lp_realloc(res, (cap = cap ? 2 * cap : 8) * sizeof *res);
        res[nres++] = (lp_span_out){labels[l], tok[t].start, tok[u - 1].end,
                                    fmin(1, share / (double)(u - t) / total)};
        t = u;
    }
    free(tag);
    free(begin);
    free(in);
    free(sn);
    free(labels);
    *out = res;
    *n_out = nres;
    return 0;
}
