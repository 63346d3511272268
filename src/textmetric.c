/* textmetric.c -- SQuAD exact match and token F1 (Rajpurkar et al., "SQuAD:
 * 100,000+ questions for machine comprehension of text", EMNLP 2016; the
 * v2 empty-answer rule from "Know what you don't know", ACL 2018).
 *
 * The official scripts normalise an answer in Python as
 *     white_space_fix(remove_articles(remove_punc(lower(s))))
 * and every step here reproduces Python's str semantics on code points,
 * not bytes: lower() maps all of Unicode (e.g. "Å" -> "å", "İ" -> "i" +
 * U+0307, and a capital sigma becomes the final form "ς" at the end of a
 * word), re's \b treats every alphanumeric character as a word character,
 * and split() breaks on all of Unicode's white space.  The character
 * classes come from the tables in unicode_tables.h, generated from Python
 * itself (scripts/gen-unicode-tables.py).  Only ASCII punctuation is
 * removed, as string.punctuation is ASCII.
 *
 * Invariant: text is decoded once into code points (an invalid UTF-8
 * sequence becomes U+FFFD, which no step changes), transformed in place,
 * and encoded once; tokens of the normalised form are compared as byte
 * strings, sorted, so F1 is O(t log t) in the number of tokens. */
#include "textmetric.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unicode_tables.h"
#include "util.h"

#define REPLACEMENT 0xFFFD

/* Whether cp lies in one of the n sorted [first, last] ranges of t. */
static int in_ranges(const uint32_t (*t)[2], size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < t[mid][0])
            hi = mid;
        else if (cp > t[mid][1])
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

#define IN(table, cp) in_ranges(table, sizeof table / sizeof table[0], cp)

/* str.lower() of one character other than U+0130 and U+03A3. */
static uint32_t lower1(uint32_t cp)
{
    size_t lo = 0, hi = sizeof LOWER / sizeof LOWER[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < LOWER[mid][0])
            hi = mid;
        else if (cp > LOWER[mid][1])
            lo = mid + 1;
        else
            return (cp - LOWER[mid][0]) % LOWER[mid][2] ? cp : cp + LOWER[mid][3];
    }
    return cp;
}

static int is_word(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
               cp == '_';
    return IN(WORD, cp);
}

static int is_space(uint32_t cp)
{
    return IN(SPACE, cp);
}

/* Python's string.punctuation. */
static int is_punct(uint32_t cp)
{
    return cp < 0x80 && cp && strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", (int)cp);
}

/* Decodes the n bytes at s into out (room for n code points); returns how
 * many.  An invalid sequence (bad lead byte, missing continuation,
 * overlong form, surrogate, above U+10FFFF) becomes one U+FFFD for its
 * longest valid prefix, as Python's bytes.decode("utf-8", "replace"). */
static size_t decode(const unsigned char *s, size_t n, uint32_t *out)
{
    size_t m = 0, i = 0;
    while (i < n) {
        unsigned char b = s[i];
        size_t len;
        uint32_t cp, min_second = 0x80, max_second = 0xBF;
        if (b < 0x80) {
            out[m++] = b;
            i++;
            continue;
        } else if (b >= 0xC2 && b <= 0xDF) {
            len = 2, cp = b & 0x1F;
        } else if (b >= 0xE0 && b <= 0xEF) {
            len = 3, cp = b & 0x0F;
            if (b == 0xE0) min_second = 0xA0;
            if (b == 0xED) max_second = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            len = 4, cp = b & 0x07;
            if (b == 0xF0) min_second = 0x90;
            if (b == 0xF4) max_second = 0x8F;
        } else {
            out[m++] = REPLACEMENT;
            i++;
            continue;
        }
        size_t k = 1;
        for (; k < len && i + k < n; k++) {
            unsigned char c = s[i + k];
            if (k == 1 ? c < min_second || c > max_second : c < 0x80 || c > 0xBF) break;
            cp = cp << 6 | (c & 0x3F);
        }
        out[m++] = k == len ? cp : REPLACEMENT;
        i += k;
    }
    return m;
}

static size_t encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Whether the capital sigma at s[i] is word-final for str.lower(): a cased
 * character before it and none after it, skipping case-ignorable ones
 * (CPython's handle_capital_sigma). */
static int final_sigma(const uint32_t *s, size_t n, size_t i)
{
    size_t j = i;
    while (j > 0 && IN(CASE_IGNORABLE, s[j - 1])) j--;
    if (j == 0 || !IN(CASED, s[j - 1])) return 0;
    for (j = i + 1; j < n && IN(CASE_IGNORABLE, s[j]); j++) continue;
    return j == n || !IN(CASED, s[j]);
}

char *lp_textmetric_normalize(const char *s)
{
    if (!s) s = "";
    size_t n = strlen(s);
    /* Lower-casing can double a character (U+0130), never more. */
    uint32_t *in = lp_malloc((n + 1) * sizeof *in), *low = lp_malloc((2 * n + 1) * sizeof *low);
    size_t m = decode((const unsigned char *)s, n, in), k = 0;
    for (size_t i = 0; i < m; i++) {
        if (in[i] == 0x130) {
            low[k++] = 'i';
            low[k++] = 0x307;
        } else if (in[i] == 0x3A3) {
            low[k++] = final_sigma(in, m, i) ? 0x3C2 : 0x3C3;
        } else {
            low[k++] = lower1(in[i]);
        }
    }
    /* remove_punc, in place. */
    size_t np = 0;
    for (size_t i = 0; i < k; i++)
        if (!is_punct(low[i])) low[np++] = low[i];
    /* remove_articles: \b(a|an|the)\b becomes a space, judged on the text
     * before any replacement (re.sub scans the original). */
    uint32_t *t = lp_malloc((np + 1) * sizeof *t);
    size_t nt = 0;
    for (size_t i = 0; i < np;) {
        size_t len = 0;
        if (low[i] == 'a' || low[i] == 't') {
            if (low[i] == 'a')
                len = i + 1 < np && low[i + 1] == 'n' && (i + 2 == np || !is_word(low[i + 2])) ? 2
                                                                                               : 1;
            else
                len = i + 2 < np && low[i + 1] == 'h' && low[i + 2] == 'e' ? 3 : 0;
            if (len && ((i > 0 && is_word(low[i - 1])) || (i + len < np && is_word(low[i + len]))))
                len = 0;
        }
        if (len) {
            t[nt++] = ' ';
            i += len;
        } else {
            t[nt++] = low[i++];
        }
    }
    /* white_space_fix. */
    char *out = lp_malloc(4 * nt + 1);
    size_t o = 0;
    int pending = 0;
    for (size_t i = 0; i < nt; i++) {
        if (is_space(t[i])) {
            pending = o > 0;
            continue;
        }
        if (pending) out[o++] = ' ';
        pending = 0;
        o += encode(t[i], out + o);
    }
    out[o] = '\0';
    free(t);
    free(low);
    free(in);
    return out;
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits the normalised s (modified) into *tok (malloc'd), sorted;
 * returns the count. */
static size_t tokens(char *s, char ***tok)
{
    size_t n = 0, cap = 8;
    *tok = lp_malloc(cap * sizeof **tok);
    for (char *p = s; *p;) {
        char *end = strchr(p, ' ');
        if (n == cap) *tok = lp_realloc(*tok, (cap *= 2) * sizeof **tok);
        (*tok)[n++] = p;
        if (!end) break;
        *end = '\0';
        p = end + 1;
    }
    qsort(*tok, n, sizeof **tok, by_str);
    return n;
}

void lp_textmetric_squad(const char *pred, const char *gold, lp_squad_version v, double *em,
                         double *f1)
{
    char *np = lp_textmetric_normalize(pred), *ng = lp_textmetric_normalize(gold);
    *em = strcmp(np, ng) == 0;
    char **tp, **tg;
    size_t a = tokens(np, &tp), b = tokens(ng, &tg), common = 0;
    for (size_t i = 0, j = 0; i < a && j < b;) {
        int c = strcmp(tp[i], tg[j]);
        if (c == 0)
            common++, i++, j++;
        else if (c < 0)
            i++;
        else
            j++;
    }
    if (v == LP_SQUAD_V2 && (a == 0 || b == 0)) {
        *f1 = a == 0 && b == 0;
    } else if (common == 0) {
        *f1 = 0;
    } else {
        double precision = (double)common / (double)a, recall = (double)common / (double)b;
        *f1 = 2 * precision * recall / (precision + recall);
    }
    free(tg);
    free(tp);
    free(ng);
    free(np);
}

void lp_textmetric_squad_max(const char *pred, const char *const *gold, size_t n_gold,
                             lp_squad_version v, double *em, double *f1)
{
    size_t used = 0;
    *em = *f1 = 0;
    for (size_t g = 0; g < n_gold; g++) {
        if (v == LP_SQUAD_V2) {
            char *norm = lp_textmetric_normalize(gold[g]);
            int empty = norm[0] == '\0';
            free(norm);
            if (empty) continue;
        }
        double e, f;
        lp_textmetric_squad(pred, gold[g], v, &e, &f);
        *em = fmax(*em, e);
        *f1 = fmax(*f1, f);
        used++;
    }
    if (v == LP_SQUAD_V2 && used == 0) lp_textmetric_squad(pred, "", v, em, f1);
}

int lp_textmetric_mean(const double *v, size_t n, double *mean, double *se)
{
    double sum = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) return LP_EINVAL;
        sum += v[i];
    }
    double m = n ? sum / (double)n : NAN;
    for (size_t i = 0; i < n; i++) ss += (v[i] - m) * (v[i] - m);
    *mean = m;
    *se = n >= 2 ? sqrt(ss / (double)(n - 1) / (double)n) : NAN;
    return 0;
}
