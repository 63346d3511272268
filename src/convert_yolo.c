/* convert_yolo.c -- YOLO labels (the Ultralytics detection and
 * segmentation dataset, and Darknet's layout) read into imageannotation
 * tasks.
 *
 * What it reads.  The class names come from data.yaml ("names:" as a
 * block list "- car", a flow list "[car, 'road sign']" that may span
 * lines, or a mapping "0: car" / "{0: car}", with nc checked against them
 * when given), else from classes.txt or obj.names (one name a line).  The
 * YAML reader knows those forms only, with plain, 'single' and "double"
 * quoted names (escapes included); anything else under names is refused
 * with its line, and the other keys are skipped.  A data.yaml with
 * kpt_shape (a pose dataset: keypoints after the box) is refused, since
 * its rows would be misread as polygons.  No class list at all refuses
 * the source: a row's class is only a number.
 *
 * Every image of the source is one task.  Its labels are the text file
 * Ultralytics reads for it (the path with its last "/images/" turned into
 * "/labels/" and the extension into ".txt"), else the .txt beside it with
 * its stem (Darknet), else the only label file anywhere with that stem.
 * Each line is "class x_center y_center width height" (a box) or
 * "class x1 y1 x2 y2 x3 y3 ..." (an odd count of 7 or more numbers: a
 * segmentation polygon; also an oriented box's four corners), all but the
 * class fractions of the image's width and height, which are read from
 * the image's header (lp_convert_image): x = (x_center - width / 2) *
 * image width, and so on.  A box or vertex beyond the border by less
 * than 1e-4 (the rounding of six decimals) is put on it, so that a box
 * exported as 0.052083 0.104167 starts at 0, not at -0.0002.  A sixth
 * number (or a last one after the pairs) is the confidence that
 * Ultralytics' predict writes with save_conf: it must be in 0..1, and the
 * task's prediction score is their mean.
 *
 * An image with no label file, or an empty one, is a task with no shapes
 * ({"annotations": []}): Ultralytics trains on such images as
 * backgrounds, known to hold nothing, so they are imported as labelled,
 * not as unlabelled.  An image is all in or all out: the first bad line
 * (too few numbers, not a number, a class outside the names, a
 * confidence outside 0..1) makes the whole image a bad item naming
 * "FILE:LINE" and the column; an image with shapes whose size cannot be
 * read is a bad item too.  A label file that no image takes is a bad
 * item when it lies under a labels/ folder or reads as YOLO rows; other
 * .txt files (train.txt image lists, README.txt) are left alone.  Labels
 * the project does not have, geometries it does not allow and shapes
 * outside the image are left to the kind's validation (row errors).
 *
 * The task: unique_id is the image's path in the source, the attachment
 * its stored file, data.width and data.height its size. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"

/* How far past the border a normalised coordinate is put on it. */
#define BORDER_EPS 1e-4

/* A cursor over a YAML text. */
typedef struct yaml {
    const char *p, *end, *file;
    size_t line;
    lp_verr *e;
} yaml;

static int yaml_fail(yaml *y, const char *fmt, const char *what)
{
    char msg[400];
    snprintf(msg, sizeof msg, fmt, what);
    return lp_verr_set(y->e, y->file, "line %zu: %s", y->line, msg);
}

/* Appends code point u to b as UTF-8. */
static void put_utf8(lp_buf *b, unsigned long u)
{
    char s[4];
    size_t n;
    if (u < 0x80)
        s[0] = (char)u, n = 1;
    else if (u < 0x800)
        s[0] = (char)(0xC0 | u >> 6), s[1] = (char)(0x80 | (u & 0x3F)), n = 2;
    else if (u < 0x10000)
        s[0] = (char)(0xE0 | u >> 12), s[1] = (char)(0x80 | ((u >> 6) & 0x3F)),
        s[2] = (char)(0x80 | (u & 0x3F)), n = 3;
    else
        s[0] = (char)(0xF0 | u >> 18), s[1] = (char)(0x80 | ((u >> 12) & 0x3F)),
        s[2] = (char)(0x80 | ((u >> 6) & 0x3F)), s[3] = (char)(0x80 | (u & 0x3F)), n = 4;
    lp_buf_append(b, s, n);
}

/* A double-quoted scalar's escape after the backslash at y->p. */
static int yaml_escape(yaml *y, lp_buf *b)
{
    static const char from[] = "\\\"/nrt0 abefv", to[] = "\\\"/\n\r\t\0 \a\b\x1b\f\v";
    char c = y->p < y->end ? *y->p : '\0';
    const char *k = c ? strchr(from, c) : NULL;
    y->p++;
    if (k) {
        lp_buf_append(b, &to[k - from], 1);
        return 0;
    }
    int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    unsigned long u = 0;
    for (int i = 0; i < digits; i++, y->p++) {
        if (y->p >= y->end || !isxdigit((unsigned char)*y->p))
            return yaml_fail(y, "\\%s escape without its hex digits", c == 'x' ? "x" : "u");
        u = u * 16 + (unsigned long)(isdigit((unsigned char)*y->p)
                                         ? *y->p - '0'
                                         : tolower((unsigned char)*y->p) - 'a' + 10);
    }
    if (!digits || u > 0x10FFFF || (u >= 0xD800 && u <= 0xDFFF))
        return yaml_fail(y, "%s is not an escape YAML knows", "this backslash");
    put_utf8(b, u);
    return 0;
}

/* Reads a scalar at y->p into b: "double" or 'single' quoted, or plain,
 * ending before a character of stops, a " #" comment or the line's end. */
static int yaml_scalar(yaml *y, const char *stops, lp_buf *b)
{
    b->len = 0;
    char q = *y->p;
    if (q == '"' || q == '\'') {
        for (y->p++;; y->p++) {
            if (y->p >= y->end)
                return yaml_fail(y, "a %s-quoted name is not closed",
                                 q == '"' ? "double" : "single");
            char c = *y->p;
            if (c == '\n') y->line++;
            if (q == '"' && c == '\\') {
                y->p++;
                if (yaml_escape(y, b)) return LP_EINVAL;
                y->p--;
            } else if (c == q && q == '\'' && y->p + 1 < y->end && y->p[1] == '\'') {
                lp_buf_append(b, "'", 1);
                y->p++;
            } else if (c == q) {
                y->p++;
                break;
            } else {
                lp_buf_append(b, &c, 1);
            }
        }
    } else {
        if (strchr("[]{}&*!|>%@`,#", q))
            return yaml_fail(y, "a name starting with '%s' is not one this reader knows (quote it)",
                             (char[]){q, 0});
        const char *s = y->p;
        while (y->p < y->end && *y->p != '\n' && *y->p != '\r' && !strchr(stops, *y->p) &&
               !(*y->p == '#' && y->p > s && (y->p[-1] == ' ' || y->p[-1] == '\t')))
            y->p++;
        const char *t = y->p;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t')) t--;
        for (const char *c = s; c + 1 < t; c++)
            if (c[0] == ':' && (c[1] == ' ' || c[1] == '\t'))
                return yaml_fail(y, "%s holds \": \", which YAML reads as a mapping (quote it)",
                                 "a name");
        lp_buf_append(b, s, (size_t)(t - s));
    }
    if (b->len == 0) return yaml_fail(y, "%s is empty", "a class name");
    lp_buf_append(b, "", 1);
    b->len--;
    return 0;
}

/* Skips spaces, tabs, line breaks (counted) and comments. */
static void yaml_space(yaml *y)
{
    while (y->p < y->end) {
        char c = *y->p;
        if (c == '\n')
            y->line++;
        else if (c == '#')
            while (y->p + 1 < y->end && y->p[1] != '\n') y->p++;
        else if (c != ' ' && c != '\t' && c != '\r')
            break;
        y->p++;
    }
}

/* 1 when the rest of the line is blank or a comment (y->p then at its end). */
static int yaml_line_done(yaml *y)
{
    while (y->p < y->end && (*y->p == ' ' || *y->p == '\t' || *y->p == '\r')) y->p++;
    if (y->p < y->end && *y->p == '#')
        while (y->p < y->end && *y->p != '\n') y->p++;
    return y->p >= y->end || *y->p == '\n';
}

/* Sets class idx of names (a JSON array, null where not yet named) to
 * the name in b. */
static int set_name(yaml *y, json_t *names, long long idx, const lp_buf *b)
{
    if (idx < 0 || idx > 100000) return yaml_fail(y, "class %s is not an index 0..100000", "key");
    while ((long long)json_array_size(names) <= idx) json_array_append_new(names, json_null());
    if (!json_is_null(json_array_get(names, (size_t)idx)))
        return yaml_fail(y, "a class index is named twice%s", "");
    json_t *s = json_stringn(b->data, b->len);
    if (!s) return yaml_fail(y, "a class name is not UTF-8%s", "");
    json_array_set_new(names, (size_t)idx, s);
    return 0;
}

/* An integer key at y->p ("3:" in a mapping of names). */
static int yaml_index(yaml *y, long long *idx)
{
    char *end;
    if (y->p >= y->end || !isdigit((unsigned char)*y->p))
        return yaml_fail(y, "names: %s", "a mapping's keys must be class indexes (0: car)");
    *idx = strtoll(y->p, &end, 10);
    y->p = end;
    while (y->p < y->end && (*y->p == ' ' || *y->p == '\t')) y->p++;
    if (y->p >= y->end || *y->p != ':')
        return yaml_fail(y, "names: %s", "expected ':' after a class index");
    y->p++;
    while (y->p < y->end && (*y->p == ' ' || *y->p == '\t')) y->p++;
    return 0;
}

/* names: [a, b] or {0: a, 1: b}, from the bracket at y->p. */
static int yaml_flow(yaml *y, json_t *names, lp_buf *b)
{
    char close = *y->p == '[' ? ']' : '}';
    long long i = 0;
    y->p++;
    for (;;) {
        yaml_space(y);
        if (y->p >= y->end)
            return yaml_fail(y, "names: the list is not closed by '%s'", close == ']' ? "]" : "}");
        if (*y->p == close) break;
        long long idx = i;
        if (close == '}' && yaml_index(y, &idx)) return LP_EINVAL;
        if (yaml_scalar(y, ",]}", b) || set_name(y, names, idx, b)) return LP_EINVAL;
        i++;
        yaml_space(y);
        if (y->p < y->end && *y->p == ',')
            y->p++;
        else if (y->p < y->end && *y->p != close)
            return yaml_fail(y, "names: expected ',' or '%s'", close == ']' ? "]" : "}");
    }
    y->p++;
    return yaml_line_done(y) ? 0 : yaml_fail(y, "names: %s", "text after the closing bracket");
}

/* The indented lines of a block list ("- a") or mapping ("0: a") after
 * "names:"; y->p at the start of the line after it. */
static int yaml_block(yaml *y, json_t *names, lp_buf *b)
{
    long long i = 0;
    int kind = 0; /* '-' or ':' once known */
    while (y->p < y->end) {
        const char *ls = y->p;
        while (y->p < y->end && (*y->p == ' ' || *y->p == '\t')) y->p++;
        int indent = (int)(y->p - ls);
        if (yaml_line_done(y)) { /* blank or comment */
            if (y->p < y->end) y->p++, y->line++;
            continue;
        }
        int dash = *y->p == '-' && (y->p + 1 >= y->end || y->p[1] == ' ' || y->p[1] == '\t');
        if (indent == 0 && !dash) {
            y->p = ls; /* the next key */
            return 0;
        }
        if (kind && kind != (dash ? '-' : ':'))
            return yaml_fail(y, "names: %s", "mixes list items and class indexes");
        kind = dash ? '-' : ':';
        long long idx = i;
        if (dash) {
            y->p++;
            while (y->p < y->end && (*y->p == ' ' || *y->p == '\t')) y->p++;
        } else if (yaml_index(y, &idx)) {
            return LP_EINVAL;
        }
        if (y->p >= y->end || *y->p == '\n' || *y->p == '\r')
            return yaml_fail(y, "names: %s", "an item without a name");
        if (yaml_scalar(y, "", b) || set_name(y, names, idx, b)) return LP_EINVAL;
        if (!yaml_line_done(y)) return yaml_fail(y, "names: %s", "text after a name");
        if (y->p < y->end) y->p++, y->line++;
        i++;
    }
    return 0;
}

/* Reads data.yaml's class names into *out (a JSON array of strings).
 * LP_EINVAL, with e naming the file and the line, when names is missing
 * or not in a form this reader knows, nc disagrees or it is a pose set. */
static int yaml_names(const lp_src_text *t, json_t **out, lp_verr *e)
{
    yaml y = {.p = t->data, .end = t->data + t->len, .file = t->name, .line = 1, .e = e};
    if (t->len >= 3 && !memcmp(y.p, "\xEF\xBB\xBF", 3)) y.p += 3;
    json_t *names = NULL;
    long long nc = -1;
    size_t nc_line = 0;
    lp_buf b = {0};
    int rc = 0;
    while (rc == 0 && y.p < y.end) {
        const char *ls = y.p;
        if (yaml_line_done(&y) || *ls == ' ' || *ls == '\t' || *ls == '-' ||
            !strncmp(ls, "---", 3) || !strncmp(ls, "...", 3)) {
            /* blank, comment, or part of a key this reader skips */
            y.p = ls;
            while (y.p < y.end && *y.p != '\n') y.p++;
            if (y.p < y.end) y.p++, y.line++;
            continue;
        }
        y.p = ls;
        const char *colon = y.p;
        while (colon < y.end && *colon != '\n' && *colon != ':') colon++;
        if (colon >= y.end || *colon != ':') {
            rc = yaml_fail(&y, "%s is not \"key: value\"", "the line");
            break;
        }
        size_t klen = (size_t)(colon - y.p);
        while (klen && (y.p[klen - 1] == ' ' || y.p[klen - 1] == '\t')) klen--;
        int is_names = klen == 5 && !memcmp(y.p, "names", 5);
        int is_nc = klen == 2 && !memcmp(y.p, "nc", 2);
        if (klen == 9 && !memcmp(y.p, "kpt_shape", 9)) {
            rc = yaml_fail(&y, "%s: a pose dataset (keypoints after each box) is not read",
                           "kpt_shape");
            break;
        }
        y.p = colon + 1;
        while (y.p < y.end && (*y.p == ' ' || *y.p == '\t')) y.p++;
        if (is_nc) {
            nc = strtoll(y.p, NULL, 10);
            nc_line = y.line;
        }
        if (!is_names) {
            while (y.p < y.end && *y.p != '\n') y.p++;
            if (y.p < y.end) y.p++, y.line++;
            continue;
        }
        if (names) {
            rc = yaml_fail(&y, "%s is given twice", "names");
            break;
        }
        names = json_array();
        if (y.p < y.end && (*y.p == '[' || *y.p == '{')) {
            rc = yaml_flow(&y, names, &b);
        } else if (yaml_line_done(&y)) {
            if (y.p < y.end) y.p++, y.line++;
            rc = yaml_block(&y, names, &b);
        } else {
            rc = yaml_fail(&y, "names: %s",
                           "expected a list (- car, or [car, bus]) or a mapping (0: car)");
        }
    }
    lp_buf_fini(&b);
    if (rc == 0 && (!names || json_array_size(names) == 0))
        rc = lp_verr_set(e, t->name, "has no class names (names: a list or 0: name lines)");
    for (size_t i = 0; rc == 0 && i < json_array_size(names); i++)
        if (json_is_null(json_array_get(names, i)))
            rc = lp_verr_set(
                e, t->name,
                "names: class %zu has no name (the indexes must run from 0 without a gap)", i);
    if (rc == 0 && nc >= 0 && (size_t)nc != json_array_size(names))
        rc = lp_verr_set(e, t->name, "line %zu: nc is %lld but names has %zu", nc_line, nc,
                         json_array_size(names));
    if (rc) {
        json_decref(names);
        return rc;
    }
    *out = names;
    return 0;
}

/* Reads a classes.txt / obj.names list (one name a line, trailing blank
 * lines dropped) into *out. */
static int list_names(const lp_src_text *t, json_t **out, lp_verr *e)
{
    const char *p = t->data, *end = t->data + t->len;
    if (t->len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3;
    json_t *names = json_array();
    size_t blank = 0, line = 0;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        const char *s = p, *q = eol;
        line++;
        while (s < q && isspace((unsigned char)*s)) s++;
        while (q > s && isspace((unsigned char)q[-1])) q--;
        if (s == q) {
            if (!blank) blank = line;
        } else if (blank) {
            json_decref(names);
            return lp_verr_set(e, t->name, "line %zu is blank: class %zu would have no name", blank,
                               json_array_size(names));
        } else {
            json_t *n = json_stringn(s, (size_t)(q - s));
            if (!n) {
                json_decref(names);
                return lp_verr_set(e, t->name, "line %zu is not UTF-8", line);
            }
            json_array_append_new(names, n);
        }
        p = eol + 1;
    }
    if (json_array_size(names) == 0) {
        json_decref(names);
        return lp_verr_set(e, t->name, "names no class");
    }
    *out = names;
    return 0;
}

static const char *base_of(const char *name)
{
    const char *slash = strrchr(name, '/');
    return slash ? slash + 1 : name;
}

/* The class list: data.yaml (the shallowest), any other YAML with a
 * names key, classes.txt, obj.names, any *.names; *used is its index. */
static int find_names(const lp_src *s, json_t **out, size_t *used, lp_verr *e)
{
    long best = -1;
    int rank = 99;
    for (size_t i = 0; i < s->ntexts; i++) {
        const lp_src_text *t = &s->texts[i];
        const char *b = base_of(t->name);
        int r = !strcmp(b, "data.yaml") || !strcmp(b, "data.yml") ? 0
                : (lp_src_has_suffix(b, ".yaml") || lp_src_has_suffix(b, ".yml")) &&
                        (!strncmp(t->data, "names:", 6) || strstr(t->data, "\nnames:"))
                    ? 1
                : !strcmp(b, "classes.txt")      ? 2
                : !strcmp(b, "obj.names")        ? 3
                : lp_src_has_suffix(b, ".names") ? 4
                                                 : 99;
        if (r < rank || (r == rank && r < 99 && strlen(t->name) < strlen(s->texts[best].name)))
            best = (long)i, rank = r;
    }
    if (best < 0)
        return lp_verr_set(e, "body",
                           "has no class names: YOLO rows number their classes, so the source "
                           "needs data.yaml (names), classes.txt or obj.names");
    *used = (size_t)best;
    return rank <= 1 ? yaml_names(&s->texts[best], out, e) : list_names(&s->texts[best], out, e);
}

/* The text file called name (the texts are sorted by name), or -1. */
static long find_text(const lp_src *s, const char *name)
{
    size_t lo = 0, hi = s->ntexts;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->texts[mid].name, name);
        if (c == 0) return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Length of name's stem within its path: up to the last dot of its last
 * segment (all of it when there is none). */
static size_t stem_end(const char *name)
{
    const char *b = base_of(name), *dot = strrchr(b, '.');
    return (size_t)((dot && dot != b ? dot : b + strlen(b)) - name);
}

/* 1 if the text's first non-blank line is made of numbers only: YOLO rows. */
static int looks_like_rows(const lp_src_text *t)
{
    const char *p = t->data;
    while (*p && isspace((unsigned char)*p)) p++;
    if (!*p) return 0;
    while (*p && *p != '\n') {
        char *end;
        strtod(p, &end);
        if (end == p) return 0;
        p = end;
        while (*p == ' ' || *p == '\t' || *p == '\r') p++;
    }
    return 1;
}

/* A label file's state: 0 not a label file, 1 one, 2 taken by an image. */
typedef struct labels {
    unsigned char *state;
    size_t *by_stem; /* the label files' indexes, sorted by their stem */
    size_t n;
} labels;

static int cmp_stem(const char *a, size_t na, const char *b, size_t nb)
{
    int c = strncmp(a, b, na < nb ? na : nb);
    return c ? c : (na > nb) - (na < nb);
}

static int by_stem(const void *x, const void *y, void *src)
{
    const lp_src *s = src;
    const char *a = base_of(s->texts[*(const size_t *)x].name);
    const char *b = base_of(s->texts[*(const size_t *)y].name);
    return cmp_stem(a, stem_end(a), b, stem_end(b));
}

/* The label file of image m not yet taken, or -1. */
static long label_of(const lp_src *s, labels *l, const lp_src_media *m, lp_buf *path)
{
    size_t stem = stem_end(m->name);
    /* Ultralytics: the last /images/ becomes /labels/ */
    path->len = 0;
    lp_buf_printf(path, "/%.*s.txt", (int)stem, m->name);
    char *at = NULL;
    for (char *q = strstr(path->data, "/images/"); q; q = strstr(q + 1, "/images/")) at = q;
    long i = -1;
    if (at) {
        memcpy(at, "/labels/", 8);
        i = find_text(s, path->data + 1);
    }
    if (i < 0 || l->state[i] != 1) { /* Darknet: beside the image */
        path->len = 0;
        lp_buf_printf(path, "%.*s.txt", (int)stem, m->name);
        i = find_text(s, path->data);
    }
    if (i >= 0 && l->state[i] == 1) return i;
    /* the only label file of that stem */
    const char *b = m->base;
    size_t nb = stem_end(b), lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *t = base_of(s->texts[l->by_stem[mid]].name);
        if (cmp_stem(t, stem_end(t), b, nb) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    long found = -1;
    for (size_t k = lo; k < l->n; k++) {
        const char *t = base_of(s->texts[l->by_stem[k]].name);
        if (cmp_stem(t, stem_end(t), b, nb)) break;
        if (l->state[l->by_stem[k]] != 1) continue;
        if (found >= 0) return -1; /* two: which is it? */
        found = (long)l->by_stem[k];
    }
    return found;
}

/* Snaps a normalised coordinate within BORDER_EPS outside 0..1 onto it. */
static double snap(double v)
{
    return v < 0 && v >= -BORDER_EPS ? 0 : v > 1 && v <= 1 + BORDER_EPS ? 1 : v;
}

/* One image's rows. */
typedef struct rows {
    double *v;
    size_t cap;
    double conf_sum;
    size_t nconf;
} rows;

/* Parses one line (n bytes at s) into a shape appended to anns; 0, 1 for
 * a blank line, or LP_EINVAL with e's field naming the column. */
static int parse_row(rows *r, const char *s, size_t n, const json_t *names, double w, double h,
                     json_t *anns, lp_verr *e)
{
    static const char *const box_cols[] = {"class", "x_center", "y_center",
                                           "width", "height",   "confidence"};
    size_t k = 0;
    const char *p = s, *end = s + n;
    char tok[64];
    while (p < end) {
        while (p < end && isspace((unsigned char)*p)) p++;
        if (p >= end) break;
        const char *q = p;
        while (q < end && !isspace((unsigned char)*q)) q++;
        if (k == r->cap)
            r->v = lp_realloc(r->v, (r->cap = r->cap ? 2 * r->cap : 64) * sizeof(double));
        snprintf(tok, sizeof tok, "%.*s", (int)(q - p), p);
        char *te;
        r->v[k] = strtod(tok, &te);
        if ((size_t)(q - p) >= sizeof tok || *te || te == tok || !isfinite(r->v[k])) {
            char col[32];
            if (k < 6)
                snprintf(col, sizeof col, "%s", box_cols[k]);
            else
                snprintf(col, sizeof col, "%c%zu", k % 2 ? 'x' : 'y', (k + 1) / 2);
            return lp_verr_set(e, col, "\"%.*s\" is not a number", (int)(q - p > 40 ? 40 : q - p),
                               p);
        }
        k++;
        p = q;
    }
    if (k == 0) return 1;
    if (k < 5)
        return lp_verr_set(e, "line",
                           "has %zu number%s: a box is class x_center y_center width height, a "
                           "polygon class x1 y1 x2 y2 x3 y3 ...",
                           k, k == 1 ? "" : "s");
    double cls = r->v[0];
    size_t nnames = json_array_size(names);
    if (cls != floor(cls) || cls < 0 || cls >= (double)nnames)
        return lp_verr_set(e, "class", "%g is not a class: the names run from 0 to %zu", cls,
                           nnames - 1);
    const char *label = json_string_value(json_array_get(names, (size_t)cls));
    int polygon = k >= 7, with_conf = k == 6 || (k >= 8 && k % 2 == 0);
    if (with_conf) {
        double cf = r->v[k - 1];
        if (cf < 0 || cf > 1)
            return lp_verr_set(e, k == 6 ? "confidence" : "confidence",
                               "the last number, %g, is a confidence and must be in 0..1", cf);
        r->conf_sum += cf;
        r->nconf++;
        k--;
    }
    if (!polygon) {
        double x1 = snap(r->v[1] - r->v[3] / 2), x2 = snap(r->v[1] + r->v[3] / 2);
        double y1 = snap(r->v[2] - r->v[4] / 2), y2 = snap(r->v[2] + r->v[4] / 2);
        json_array_append_new(anns, json_pack("{s:s, s:s, s:f, s:f, s:f, s:f}", "type", "box",
                                              "label", label, "x", x1 * w, "y", y1 * h, "width",
                                              (x2 - x1) * w, "height", (y2 - y1) * h));
        return 0;
    }
    json_t *vs = json_array();
    for (size_t i = 1; i + 1 < k; i += 2)
        json_array_append_new(
            vs, json_pack("{s:f, s:f}", "x", snap(r->v[i]) * w, "y", snap(r->v[i + 1]) * h));
    json_array_append_new(
        anns, json_pack("{s:s, s:s, s:o}", "type", "polygon", "label", label, "vertices", vs));
    return 0;
}

/* Emits image m's task, with the rows of label file t (NULL: none), or
 * reports it. */
static void convert_image(lp_convert *c, const lp_src_media *m, const lp_src_text *t,
                          const json_t *names, rows *r)
{
    json_t *anns = json_array();
    lp_verr e;
    r->conf_sum = 0;
    r->nconf = 0;
    const char *p = t ? t->data : "", *end = t ? t->data + t->len : p;
    for (size_t line = 1; p < end; line++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        int rc = parse_row(r, p, (size_t)(eol - p), names, m->width, m->height, anns, &e);
        if (rc < 0) {
            lp_convert_bad(c, e.field, e.message, "%s:%zu", t->name, line);
            json_decref(anns);
            return;
        }
        p = eol + 1;
    }
    if (json_array_size(anns) && (m->width <= 0 || m->height <= 0)) {
        lp_convert_bad(c, "image",
                       "the image's width and height cannot be read from its file (PNG, JPEG, "
                       "GIF, BMP or WebP), and YOLO coordinates are fractions of them",
                       "%s", t->name);
        json_decref(anns);
        return;
    }
    json_t *img = lp_convert_image(c, m->name, NULL, NULL, NULL);
    json_t *task = json_pack("{s:s?, s:[o?]}", "unique_id", m->name, "attachments", img);
    if (!task) { /* a name that is not UTF-8 */
        lp_convert_bad(c, "image", "the file's name is not UTF-8", "%s", t ? t->name : m->name);
        json_decref(anns);
        return;
    }
    if (m->width > 0 && m->height > 0)
        json_object_set_new(task, "data",
                            json_pack("{s:i, s:i}", "width", m->width, "height", m->height));
    lp_convert_task(c, task, json_pack("{s:o}", "annotations", anns),
                    r->nconf ? r->conf_sum / (double)r->nconf : -1, "%s", t ? t->name : m->name);
}

static int run(lp_convert *c, lp_verr *e)
{
    const lp_src *s = c->src;
    size_t nimages = 0;
    for (size_t i = 0; i < s->nmedia; i++) nimages += !strcmp(s->media[i].type, "image");
    if (nimages == 0)
        return lp_verr_set(e, "body",
                           "holds no image: YOLO coordinates are fractions of each image's "
                           "size, so send the images with the labels (a zip or a folder with "
                           "images/ and labels/)");
    json_t *names = NULL;
    size_t names_at = 0;
    int rc = find_names(s, &names, &names_at, e);
    if (rc) return rc;
    labels l = {.state = lp_calloc(s->ntexts + 1, 1),
                .by_stem = lp_calloc(s->ntexts + 1, sizeof(size_t))};
    for (size_t i = 0; i < s->ntexts; i++) {
        const char *b = base_of(s->texts[i].name);
        if (i == names_at || !lp_src_has_suffix(b, ".txt") || !strcmp(b, "classes.txt")) continue;
        l.state[i] = 1;
        l.by_stem[l.n++] = i;
    }
    if (l.n) qsort_r(l.by_stem, l.n, sizeof *l.by_stem, by_stem, (void *)s);
    lp_buf path = {0};
    rows r = {0};
    for (size_t i = 0; i < s->nmedia; i++) {
        const lp_src_media *m = &s->media[i];
        if (strcmp(m->type, "image")) continue;
        long t = label_of(s, &l, m, &path);
        if (t >= 0) l.state[t] = 2;
        convert_image(c, m, t >= 0 ? &s->texts[t] : NULL, names, &r);
    }
    for (size_t i = 0; i < s->ntexts; i++) {
        const lp_src_text *t = &s->texts[i];
        if (l.state[i] != 1) continue;
        if (!strncmp(t->name, "labels/", 7) || strstr(t->name, "/labels/") || looks_like_rows(t))
            lp_convert_bad(c, "image",
                           "no image of this name in the source takes these labels (its size "
                           "is needed to place them)",
                           "%s", t->name);
    }
    free(r.v);
    lp_buf_fini(&path);
    free(l.state);
    free(l.by_stem);
    json_decref(names);
    return 0;
}

static const char *const kinds[] = {"imageannotation", NULL};

const lp_converter lp_convert_yolo = {
    .name = "yolo",
    .summary = "YOLO (Ultralytics, Darknet): images with labels/NAME.txt rows and data.yaml or "
               "classes.txt names",
    .kinds = kinds,
    .run = run,
};
