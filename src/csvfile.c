/* csvfile.c -- see csvfile.h.  The file is fed to libcsv one physical line
 * at a time, so when a row ends we know the line it began on: at_start is
 * set after each row and cleared once a line starts a new one (a quoted
 * field may run over several lines).  Fields are copied into one buffer
 * per row; the pointers handed out index into it. */
#include "csvfile.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct lp_csv {
    FILE *f;
    int own;
    struct csv_parser p;
    char *line;
    size_t cap;
    long lineno, row_line, done_line;
    int at_start, row_done, eof;
    int comments;           /* lines starting with '#' are skipped */
    lp_buf text;            /* this row's fields, each NUL-terminated */
    size_t *offs, nf, capf; /* where each field starts in text */
    const char **fields;    /* handed out: text.data + offs[i] */
    char err[160];
};

static void on_field(void *s, size_t len, void *data)
{
    lp_csv *c = data;
    if (c->nf == c->capf) {
        c->capf = c->capf ? 2 * c->capf : 16;
        c->offs = lp_realloc(c->offs, c->capf * sizeof *c->offs);
    }
    c->offs[c->nf++] = c->text.len;
    lp_buf_append(&c->text, s ? s : "", s ? len : 0);
    lp_buf_append(&c->text, "", 1);
}

static void on_row(int term, void *data)
{
    (void)term;
    lp_csv *c = data;
    c->row_done = 1;
    c->done_line = c->row_line;
    c->at_start = 1;
}

int lp_csv_open(const char *path, lp_csv **out, char **err)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        *err = lp_sprintf("cannot read %s: %s", path, strerror(errno));
        return LP_EIO;
    }
    lp_csv *c = lp_calloc(1, sizeof *c);
    c->f = f;
    c->own = f != stdin;
    c->at_start = 1;
    c->comments = 1;
    csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI);
    *out = c;
    return 0;
}

int lp_csv_open_mem(const char *s, size_t n, int comments, lp_csv **out)
{
    /* fmemopen refuses an empty buffer: a one-byte newline reads the same. */
    FILE *f = n ? fmemopen((void *)s, n, "r") : fmemopen("\n", 1, "r");
    if (!f) return LP_ENOMEM;
    lp_csv *c = lp_calloc(1, sizeof *c);
    c->f = f;
    c->own = 1;
    c->at_start = 1;
    c->comments = comments;
    csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI);
    *out = c;
    return 0;
}

/* Turns the finished row's offsets into pointers and clears the flag. */
static int hand_out(lp_csv *c, const char *const **fields, size_t *n)
{
    c->fields = lp_realloc(c->fields, (c->nf ? c->nf : 1) * sizeof *c->fields);
    for (size_t i = 0; i < c->nf; i++) c->fields[i] = c->text.data + c->offs[i];
    *fields = c->fields;
    *n = c->nf;
    c->row_done = 0;
    return 1;
}

/* libcsv's own messages say little ("error parsing data while strict
 * checking enabled"): in strict mode a parse error is a quote inside an
 * unquoted field or after a closing quote, and at the end of the file an
 * unclosed quoted field. */
static int parse_error(lp_csv *c, int at_end)
{
    int e = csv_error(&c->p);
    const char *why = e != CSV_EPARSE ? csv_strerror(e)
                      : at_end        ? "a quoted field is not closed by the end of the file"
                                      : "a quote inside a field that is not quoted, or text "
                                        "after a field's closing quote";
    snprintf(c->err, sizeof c->err, "line %ld: %s", c->at_start ? c->lineno : c->row_line, why);
    return LP_EINVAL;
}

int lp_csv_next(lp_csv *c, const char *const **fields, size_t *n)
{
    c->nf = 0;
    c->text.len = 0;
    c->row_done = 0;
    while (!c->eof) {
        ssize_t len = getline(&c->line, &c->cap, c->f);
        if (len < 0) {
            if (ferror(c->f)) {
                snprintf(c->err, sizeof c->err, "line %ld: %s", c->lineno + 1, strerror(errno));
                return LP_EIO;
            }
            c->eof = 1;
            if (csv_fini(&c->p, on_field, on_row, c) != 0) return parse_error(c, 1);
            break;
        }
        c->lineno++;
        char *s = c->line;
        if (c->lineno == 1 && len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
            s += 3; /* a byte-order mark */
            len -= 3;
        }
        if (c->at_start) {
            size_t sp = strspn(s, " \t\r\n");
            if ((ssize_t)sp == len || (c->comments && s[0] == '#')) continue; /* blank, comment */
            c->row_line = c->lineno;
            c->at_start = 0;
        }
        if (csv_parse(&c->p, s, (size_t)len, on_field, on_row, c) != (size_t)len)
            return parse_error(c, 0);
        if (c->row_done) return hand_out(c, fields, n);
    }
    if (c->row_done) return hand_out(c, fields, n);
    return 0;
}

long lp_csv_line(const lp_csv *c)
{
    return c->done_line;
}

const char *lp_csv_error(const lp_csv *c)
{
    return c->err;
}

void lp_csv_close(lp_csv *c)
{
    if (!c) return;
    if (c->own) fclose(c->f);
    csv_free(&c->p);
    free(c->line);
    lp_buf_fini(&c->text);
    free(c->offs);
    free(c->fields);
    free(c);
}

void lp_csv_write_field(lp_buf *out, size_t index, const char *s, size_t n)
{
    if (index) lp_buf_puts(out, ",");
    /* At worst every byte is a quote, doubled, plus the two around. */
    lp_buf_reserve(out, 2 * n + 2);
    out->len += csv_write(out->data + out->len, out->cap - out->len, s ? s : "", s ? n : 0);
    out->data[out->len] = '\0';
}

void lp_csv_end_record(lp_buf *out)
{
    lp_buf_puts(out, "\r\n");
}
