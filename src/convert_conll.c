/* convert_conll.c -- CoNLL-2003 entity tags read into namedentityrecognition
 * tasks: the inverse of export_conll.c.
 *
 * What it reads.  A word a line with its tags in columns separated by
 * spaces or tabs (CoNLL-2003 has four: word, part of speech, chunk, entity
 * tag; many datasets have two: word and tag): the word is the FIRST column
 * and the entity tag the LAST, the columns between are ignored.  An empty
 * line ends a sentence; a line whose first column is "-DOCSTART-" starts a
 * document.  Windows line ends, a UTF-8 byte-order mark and white space at
 * either end of a line are dropped.
 *
 * Tags.  O, or a prefix and the entity's type: B-, I-, E-, S- (and L-, U-,
 * their BILOU names).  One reading serves IOB1 (the original CoNLL-2003:
 * I- everywhere, B- only to split two adjacent entities of one type), IOB2
 * (B- on every entity's first word: what Loupe exports) and BIOES: B- and
 * S- always start an entity; I- and E- continue the entity of their type
 * open at the word before, else start one (an I- after O or after another
 * type, IOB1's way of starting); E- and S- end theirs; O and a sentence end
 * end any.  BIO cannot say that entities overlap, so the spans never do.
 *
 * What a task is.  In a file with -DOCSTART- lines a task is a DOCUMENT
 * (its sentences, up to the next -DOCSTART-): Loupe's export writes each
 * task as one document, so a document must come back as one task for an
 * exported file to round-trip, and annotators see an article whole.  A
 * file without any -DOCSTART- line (most two-column datasets) has no
 * documents: each SENTENCE is a task, since one task of a whole corpus
 * could not be labelled.
 *
 * The task.  data.text is the words joined by one space, the sentences by
 * a newline.  The export tokenises the text again (lp_span_tokenize: runs
 * of word characters and single punctuation marks) and so gets back the
 * same words when each word is one such token, which every word of a file
 * Loupe exported is: importing it as results and exporting it gives the
 * same bytes.  A foreign word that tokenises into several ("U.S.") comes
 * back as its tokens, all in its entity.  Each entity becomes a span
 * {start, end, label, text} with offsets in code points, as kind_ner.c
 * counts them; its label is the tag's type, or the type with "_" read as
 * a space when only that is one of the project's labels (the export writes
 * a label's white space as "_").  A label in neither form is left to the
 * kind, which reports the row.  A document without entities has spans [].
 *
 * unique_id.  CoNLL documents have no names (their -DOCSTART- lines all
 * read the same), and a position ("document 3") would make the third
 * document of dev.conll a duplicate of train.conll's, both sent as the
 * body.  So a task's unique_id is "conll:" and 16 hex digits of the
 * SHA-256 of its text, with ":2", ":3"... on the second and later copies
 * of one text in the source: importing the same file again gives
 * duplicates, another file gives new tasks.
 *
 * What it refuses.  A word line with a single column (the tag is
 * missing), a tag that is not O nor a prefix and a type, a line that is
 * not UTF-8: its document (or sentence) becomes one bad item at that
 * file:line, since a document with a word left out would be a different
 * text (all in or all out).  A -DOCSTART- document without words and a
 * file without any word are bad items too.  With several text files (a
 * zip, a folder) files named *.json, *.xml, *.yaml, *.csv... are left
 * out: they are not CoNLL; a single file is read whatever its name. */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"

/* The document or sentence being read. */
typedef struct unit {
    const json_t *labels; /* the project's */
    size_t line;          /* its first line */
    int docstart;         /* begun by a -DOCSTART- line */
    lp_buf text;
    size_t ncp, nwords; /* code points in text; words */
    int brk;            /* a sentence ended after the last word */
    json_t *spans;
    /* The entity open at the last word: its type, code points, bytes. */
    const char *type;
    size_t tlen, start, end, bstart, bend;
    /* The first bad line and how many there are. */
    size_t bad_line, nbad;
    char field[16], msg[400];
} unit;

/* The unique_ids' hashes seen so far, with how often (open addressing). */
typedef struct seen {
    struct seen_slot {
        uint64_t key;
        size_t n;
    } * slot;
    size_t cap, used;
} seen;

/* Counts key: how many times it has been seen, this time included. */
static size_t seen_add(seen *s, uint64_t key)
{
    if (2 * (s->used + 1) > s->cap) {
        seen old = *s;
        s->cap = s->cap ? 2 * s->cap : 256;
        s->slot = lp_calloc(s->cap, sizeof *s->slot);
        s->used = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.slot[i].n) {
                size_t k = old.slot[i].key & (s->cap - 1);
                while (s->slot[k].n) k = (k + 1) & (s->cap - 1);
                s->slot[k] = old.slot[i];
                s->used++;
            }
        free(old.slot);
    }
    size_t k = key & (s->cap - 1);
    while (s->slot[k].n && s->slot[k].key != key) k = (k + 1) & (s->cap - 1);
    if (!s->slot[k].n) s->used++;
    s->slot[k].key = key;
    return ++s->slot[k].n;
}

/* 1 if the n bytes at s are UTF-8 as JSON strings must be (no overlong
 * forms, surrogates, code points past U+10FFFF, nor NUL). */
static int utf8_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t k = c < 0x80 ? 0 : c >= 0xC2 && c < 0xE0 ? 1 : c >= 0xE0 && c < 0xF0 ? 2 : 3;
        if (c == 0 || (c >= 0x80 && (c < 0xC2 || c > 0xF4)) || (k && i + k >= n)) return 0;
        for (size_t j = 1; j <= k; j++)
            if ((p[i + j] & 0xC0) != 0x80) return 0;
        if ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] >= 0xA0) ||
            (c == 0xF0 && p[i + 1] < 0x90) || (c == 0xF4 && p[i + 1] >= 0x90))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* Records line as bad (only the first one's reason is kept). */
static void bad_line(unit *u, size_t line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void bad_line(unit *u, size_t line, const char *field, const char *fmt, ...)
{
    if (u->nbad++) return;
    u->bad_line = line;
    snprintf(u->field, sizeof u->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->msg, sizeof u->msg, fmt, ap);
    va_end(ap);
}

/* The label of an entity of type t (n bytes): t, or t with '_' as ' ' when
 * only that is one of the project's labels. */
static json_t *label_of(const json_t *labels, const char *t, size_t n)
{
    if (lp_names_find(labels, t, n) < 0 && memchr(t, '_', n)) {
        char *sp = lp_strndup(t, n);
        for (size_t i = 0; i < n; i++)
            if (sp[i] == '_') sp[i] = ' ';
        json_t *l = lp_names_find(labels, sp, n) >= 0 ? json_stringn(sp, n) : NULL;
        free(sp);
        if (l) return l;
    }
    return json_stringn(t, n);
}

/* Ends the open entity, adding its span. */
static void close_entity(unit *u)
{
    if (!u->type) return;
    json_array_append_new(
        u->spans, json_pack("{s:I, s:I, s:o, s:s%}", "start", (json_int_t)u->start, "end",
                            (json_int_t)u->end, "label", label_of(u->labels, u->type, u->tlen),
                            "text", u->text.data + u->bstart, u->bend - u->bstart));
    u->type = NULL;
}

/* Reads tag t (n bytes): *prefix is 'O', 'B', 'I', 'E' or 'S' and *type
 * the entity's type; 0, or -1 when t is no tag. */
static int parse_tag(const char *t, size_t n, char *prefix, const char **type, size_t *tlen)
{
    if (n == 1 && t[0] == 'O') {
        *prefix = 'O';
        return 0;
    }
    if (n < 3 || t[1] != '-' || !strchr("BIESLU", t[0])) return -1;
    *prefix = t[0] == 'L' ? 'E' : t[0] == 'U' ? 'S' : t[0];
    *type = t + 2;
    *tlen = n - 2;
    return 0;
}

/* Adds the word w (wn bytes) tagged t (tn bytes), at line, to u. */
static void add_word(unit *u, size_t line, const char *w, size_t wn, const char *t, size_t tn)
{
    char prefix;
    const char *type = NULL;
    size_t tlen = 0;
    if (parse_tag(t, tn, &prefix, &type, &tlen) < 0) {
        bad_line(u, line, "tag",
                 "line %zu: \"%.*s\" is not a tag (O, or B-, I-, E- or S- and the entity's type)",
                 line, (int)(tn > 64 ? 64 : tn), t);
        return;
    }
    if (u->nbad) return; /* the unit is left out: no need to build it */
    if (u->nwords) {
        lp_buf_puts(&u->text, u->brk ? "\n" : " ");
        u->ncp++;
    }
    u->brk = 0;
    size_t start = u->ncp, bstart = u->text.len;
    lp_buf_append(&u->text, w, wn);
    u->ncp += lp_utf8_len(w, wn);
    u->nwords++;
    int same = u->type && u->tlen == tlen && !memcmp(u->type, type, tlen);
    if (!((prefix == 'I' || prefix == 'E') && same)) {
        close_entity(u);
        if (prefix != 'O') {
            u->type = type, u->tlen = tlen;
            u->start = start, u->bstart = bstart;
        }
    }
    u->end = u->ncp, u->bend = u->text.len;
    if (prefix == 'E' || prefix == 'S') close_entity(u);
}

static void unit_begin(unit *u, const json_t *labels, size_t line, int docstart)
{
    lp_buf_fini(&u->text);
    *u = (unit){.labels = labels, .line = line, .docstart = docstart, .spans = json_array()};
    lp_buf_puts(&u->text, "");
}

/* Emits u as a task or a bad item, and frees what it holds. */
static void unit_end(lp_convert *c, unit *u, seen *ids, const char *file, int docs)
{
    const char *what = docs ? "document" : "sentence";
    close_entity(u);
    if (u->nbad) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s; the %s from line %zu is left out", u->msg, what, u->line);
        if (u->nbad > 1)
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " (%zu bad lines)", u->nbad);
        lp_convert_bad(c, u->field, msg, "%s:%zu", file, u->bad_line);
    } else if (!u->nwords && u->docstart) {
        lp_convert_bad(c, "tokens", "the document holds no words: left out", "%s:%zu", file,
                       u->line);
    } else if (u->nwords) {
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)u->text.data, u->text.len);
        uint64_t key = 0;
        char id[48];
        for (int i = 0; i < 8; i++) key = key << 8 | h[i];
        size_t k = seen_add(ids, key);
        int n = snprintf(id, sizeof id, "conll:%016llx", (unsigned long long)key);
        if (k > 1) snprintf(id + n, sizeof id - (size_t)n, ":%zu", k);
        json_t *task = json_pack("{s:{s:s%}, s:s}", "data", "text", u->text.data, u->text.len,
                                 "unique_id", id);
        json_t *response = json_pack("{s:O}", "spans", u->spans);
        if (task && response) {
            lp_convert_task(c, task, response, -1, "%s:%zu", file, u->line);
        } else { /* cannot happen: every line was checked to be UTF-8 */
            json_decref(task);
            json_decref(response);
            lp_convert_bad(c, "text", "is not UTF-8 text", "%s:%zu", file, u->line);
        }
    }
    json_decref(u->spans);
    u->spans = NULL;
    lp_buf_fini(&u->text);
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* The next line of data (len bytes) from *pos, without its line end and
 * the white space at either end: *s and *n. */
static void next_line(const char *data, size_t len, size_t *pos, const char **s, size_t *n)
{
    const char *p = data + *pos, *nl = memchr(p, '\n', len - *pos);
    size_t k = nl ? (size_t)(nl - p) : len - *pos;
    *pos += k + (nl != NULL);
    while (k && (is_blank(p[k - 1]) || p[k - 1] == '\r')) k--;
    while (k && is_blank(*p)) p++, k--;
    *s = p;
    *n = k;
}

/* The length of the first column of the line s (n bytes). */
static size_t first_column(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && !is_blank(s[k])) k++;
    return k;
}

static int is_docstart(const char *s, size_t n)
{
    return first_column(s, n) == 10 && !memcmp(s, "-DOCSTART-", 10);
}

/* 1 if a line of data from pos on starts a document. */
static int has_docstart(const char *data, size_t len, size_t pos)
{
    const char *s;
    size_t n;
    while (pos < len) {
        next_line(data, len, &pos, &s, &n);
        if (is_docstart(s, n)) return 1;
    }
    return 0;
}

/* Reads one file: its documents or sentences become tasks or bad items. */
static void read_file(lp_convert *c, const lp_src_text *f, seen *ids)
{
    const json_t *labels = json_object_get(c->project->params, "labels");
    const char *data = f->data, *s;
    size_t len = f->len, pos = 0, line = 0, n, before = c->ntasks + c->nbad;
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) pos = 3;
    int docs = has_docstart(data, len, pos);
    unit u = {0};
    unit_begin(&u, labels, 1, 0);
    while (pos < len) {
        next_line(data, len, &pos, &s, &n);
        line++;
        if (n == 0) { /* a sentence ends */
            close_entity(&u);
            if (!docs && (u.nwords || u.nbad)) {
                unit_end(c, &u, ids, f->name, docs);
                unit_begin(&u, labels, line + 1, 0);
            }
            u.brk = 1;
            continue;
        }
        if (is_docstart(s, n)) {
            unit_end(c, &u, ids, f->name, docs);
            unit_begin(&u, labels, line, 1);
            continue;
        }
        size_t w = first_column(s, n), t = n;
        while (t && !is_blank(s[t - 1])) t--;
        if (!u.nwords && !u.nbad && !u.docstart) u.line = line;
        if (!utf8_ok(s, n))
            bad_line(&u, line, "text", "line %zu is not UTF-8 text", line);
        else if (w == n)
            bad_line(&u, line, "tag",
                     "line %zu has one column, \"%.*s\": a word line is the word then its tag "
                     "(the last column)",
                     line, (int)(n > 64 ? 64 : n), s);
        else
            add_word(&u, line, s, w, s + t, n - t);
    }
    unit_end(c, &u, ids, f->name, docs);
    if (c->ntasks + c->nbad == before)
        lp_convert_bad(c, "body",
                       "holds no word lines (a CoNLL file has a word and its tag a line)", "%s",
                       f->name);
}

/* 1 if a file of a source of several is surely not CoNLL. */
static int other_format(const char *name)
{
    static const char *const exts[] = {".json", ".jsonl", ".ndjson", ".xml", ".yaml",
                                       ".yml",  ".csv",   ".names",  NULL};
    for (size_t i = 0; exts[i]; i++)
        if (lp_src_has_suffix(name, exts[i])) return 1;
    return 0;
}

static int run(lp_convert *c, lp_verr *e)
{
    (void)e;
    seen ids = {0};
    for (size_t i = 0; i < c->src->ntexts; i++)
        if (c->src->ntexts == 1 || !other_format(c->src->texts[i].name))
            read_file(c, &c->src->texts[i], &ids);
    free(ids.slot);
    return 0;
}

static const char *const kinds[] = {"namedentityrecognition", NULL};

const lp_converter lp_convert_conll = {
    .name = "conll",
    .summary = "CoNLL-2003: a word a line with its IOB1, IOB2 or BIOES entity tag last; a "
               "document (or, without -DOCSTART-, a sentence) a task",
    .kinds = kinds,
    .run = run,
};
