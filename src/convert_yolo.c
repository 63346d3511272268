/* convert_yolo.c -- YOLO labels (the Ultralytics detection and
 * segmentation dataset, and Darknet's layout) read into imageannotation
 * tasks.
 *
 * What it reads.  The class names come from data.yaml, parsed by libyaml,
 * so every form of YAML is read (anchors and aliases, comments, flow and
 * block collections, quoted or block scalars, quoted keys, directives):
 * "names" is a list of names or a mapping of class index (0, 1... in any
 * order, quoted or not) to name, and "nc", when given, must be their
 * count.  A name is a scalar's text as written (unquoted yes stays "yes",
 * where Python's loader would give True); an empty or null one (~, null)
 * is refused.  A file libyaml cannot parse is refused with libyaml's
 * problem, line and column; names not in those forms, a class index named
 * twice or missing, "names" given twice or a second document (refused by
 * Ultralytics' yaml.safe_load too) are refused with their line; the other
 * keys are skipped.  Without data.yaml the names come from classes.txt or
 * obj.names (one name a line).  A data.yaml with kpt_shape (a pose
 * dataset: keypoints after the box) is refused, since its rows would be
 * misread as polygons.  No class list at all refuses the source: a row's
 * class is only a number.
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
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "convert.h"

/* How far past the border a normalised coordinate is put on it. */
#define BORDER_EPS 1e-4

/* Fails with the file and the line (from 1) where node n starts. */
static int node_fail(const lp_src_text *t, lp_verr *e, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int node_fail(const lp_src_text *t, lp_verr *e, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lp_verr_set(e, t->name, "line %zu: %s", (size_t)n->start_mark.line + 1, msg);
}

/* Fails with libyaml's account of why t is not YAML: the line and column
 * of the problem, and what it was reading (a flow list from line 1...). */
static int parse_fail(const lp_src_text *t, const yaml_parser_t *p, lp_verr *e)
{
    const char *problem = p->problem ? p->problem : "is not YAML";
    if (p->error == YAML_MEMORY_ERROR) return lp_verr_set(e, t->name, "%s", "out of memory");
    if (p->error == YAML_READER_ERROR) { /* bad bytes: only an offset is known */
        size_t line = 1;
        for (size_t i = 0; i < p->problem_offset && i < t->len; i++) line += t->data[i] == '\n';
        return lp_verr_set(e, t->name, "line %zu: %s (byte %zu)", line, problem, p->problem_offset);
    }
    if (p->context)
        return lp_verr_set(e, t->name, "line %zu, column %zu: %s (%s from line %zu, column %zu)",
                           p->problem_mark.line + 1, p->problem_mark.column + 1, problem,
                           p->context, p->context_mark.line + 1, p->context_mark.column + 1);
    return lp_verr_set(e, t->name, "line %zu, column %zu: %s", p->problem_mark.line + 1,
                       p->problem_mark.column + 1, problem);
}

/* Scalar n's text, or NULL when n is a list or a mapping. */
static const char *scalar_of(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Reads scalar n as a whole number 0..max (digits only, quoted or not)
 * into *out; -1 when n is not one. */
static int read_count(const yaml_node_t *n, long long max, long long *out)
{
    const char *s = scalar_of(n);
    if (!s || !*s || strlen(s) > 9 || strspn(s, "0123456789") != strlen(s)) return -1;
    *out = strtoll(s, NULL, 10);
    return *out <= max ? 0 : -1;
}

/* Sets class idx of names (a JSON array, null where not yet named) to
 * scalar v; errors name the line of at (the item, or its index key). */
static int set_name(const lp_src_text *t, lp_verr *e, json_t *names, long long idx,
                    const yaml_node_t *at, const yaml_node_t *v)
{
    const char *s = scalar_of(v);
    if (!s)
        return node_fail(t, e, v,
                         "names: class %lld is a %s, not a name (quote a name that holds "
                         "\": \" or starts with '-')",
                         idx, v->type == YAML_MAPPING_NODE ? "mapping" : "list");
    size_t n = v->data.scalar.length;
    if (v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (n == 0 || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
         !strcmp(s, "NULL")))
        return node_fail(t, e, v,
                         "names: class %lld is empty or null (quote a name such as 'null')", idx);
    if (n == 0) return node_fail(t, e, v, "names: class %lld is empty", idx);
    while ((long long)json_array_size(names) <= idx) json_array_append_new(names, json_null());
    if (!json_is_null(json_array_get(names, (size_t)idx)))
        return node_fail(t, e, at, "a class index is named twice (class %lld)", idx);
    json_t *j = json_stringn(s, n);
    if (!j) return node_fail(t, e, v, "names: class %lld is not UTF-8", idx);
    json_array_set_new(names, (size_t)idx, j);
    return 0;
}

/* Fills names (an empty JSON array) from v, data.yaml's names: a list of
 * names, or a mapping of class index to name in any order. */
static int read_names(const lp_src_text *t, yaml_document_t *d, const yaml_node_t *v, json_t *names,
                      lp_verr *e)
{
    if (v->type == YAML_SEQUENCE_NODE) {
        const yaml_node_item_t *first = v->data.sequence.items.start;
        for (const yaml_node_item_t *i = first; i < v->data.sequence.items.top; i++) {
            const yaml_node_t *item = yaml_document_get_node(d, *i);
            if (set_name(t, e, names, i - first, item, item)) return LP_EINVAL;
        }
        return 0;
    }
    if (v->type == YAML_MAPPING_NODE) {
        for (const yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
             p++) {
            const yaml_node_t *k = yaml_document_get_node(d, p->key);
            long long idx;
            if (read_count(k, 100000, &idx))
                return node_fail(t, e, k, "names: %s",
                                 "a mapping's keys must be class indexes 0..100000 (0: car)");
            if (set_name(t, e, names, idx, k, yaml_document_get_node(d, p->value)))
                return LP_EINVAL;
        }
        return 0;
    }
    return node_fail(t, e, v, "names: %s",
                     "expected a list (- car, or [car, bus]) or a mapping (0: car)");
}

/* Reads the class names of d, data.yaml's one document, into names. */
static int doc_names(const lp_src_text *t, yaml_document_t *d, json_t *names, lp_verr *e)
{
    const yaml_node_t *root = yaml_document_get_root_node(d), *nv = NULL, *nc = NULL;
    if (!root)
        return lp_verr_set(e, t->name, "has no class names (names: a list or 0: name lines)");
    if (root->type != YAML_MAPPING_NODE)
        return node_fail(t, e, root, "the top level is not \"key: value\" lines");
    for (const yaml_node_pair_t *p = root->data.mapping.pairs.start;
         p < root->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(d, p->key);
        const char *key = scalar_of(k);
        const yaml_node_t **slot = !key                    ? NULL
                                   : !strcmp(key, "names") ? &nv
                                   : !strcmp(key, "nc")    ? &nc
                                                           : NULL;
        if (key && !strcmp(key, "kpt_shape"))
            return node_fail(t, e, k, "%s: a pose dataset (keypoints after each box) is not read",
                             key);
        if (!slot) continue; /* a key Loupe has no use for */
        if (*slot) return node_fail(t, e, k, "%s is given twice", key);
        *slot = yaml_document_get_node(d, p->value);
    }
    if (nv && read_names(t, d, nv, names, e)) return LP_EINVAL;
    if (json_array_size(names) == 0)
        return lp_verr_set(e, t->name, "has no class names (names: a list or 0: name lines)");
    for (size_t i = 0; i < json_array_size(names); i++)
        if (json_is_null(json_array_get(names, i)))
            return lp_verr_set(
                e, t->name,
                "names: class %zu has no name (the indexes must run from 0 without a gap)", i);
    long long n;
    if (nc && read_count(nc, 999999999, &n))
        return node_fail(t, e, nc, "nc is not a count of classes");
    if (nc && (size_t)n != json_array_size(names))
        return node_fail(t, e, nc, "nc is %lld but names has %zu", n, json_array_size(names));
    return 0;
}

/* Reads data.yaml's class names into *out (a JSON array of strings)
 * with libyaml.  LP_EINVAL, with e naming the file and the line, when it
 * is not YAML, holds more than one document, names is missing or not a
 * list or mapping of names, nc disagrees or it is a pose set. */
static int yaml_names(const lp_src_text *t, json_t **out, lp_verr *e)
{
    yaml_parser_t p;
    yaml_document_t d;
    if (!yaml_parser_initialize(&p)) return lp_verr_set(e, t->name, "%s", "out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)t->data, t->len);
    if (!yaml_parser_load(&p, &d)) {
        int rc = parse_fail(t, &p, e);
        yaml_parser_delete(&p);
        return rc;
    }
    json_t *names = json_array();
    int rc = doc_names(t, &d, names, e);
    yaml_document_delete(&d);
    if (rc == 0 && !yaml_parser_load(&p, &d)) {
        rc = parse_fail(t, &p, e);
    } else if (rc == 0) { /* Ultralytics' yaml.safe_load refuses a second document too */
        const yaml_node_t *root = yaml_document_get_root_node(&d);
        if (root)
            rc = node_fail(t, e, root, "a second YAML document (after ---): %s",
                           "data.yaml holds one");
        yaml_document_delete(&d);
    }
    yaml_parser_delete(&p);
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
