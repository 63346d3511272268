/* export_zip.c -- the streamed zip and the image walk shared by the
 * one-file-per-image exports (export_yolo.c, export_voc.c); see
 * export_zip.h for how the zip stays streamed. */
#include "export_zip.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* libarchive's writer: what it writes goes to the current call's output
 * (nowhere once the export is being dropped). */
static la_ssize_t zip_write(struct archive *a, void *arg, const void *data, size_t n)
{
    (void)a;
    lp_imgzip *z = arg;
    if (z->out) lp_buf_append(z->out, data, n);
    return (la_ssize_t)n;
}

lp_imgzip *lp_imgzip_start(lp_export_ctx *cx, const char *format, lp_imgzip_image_fn image)
{
    lp_imgzip *z = lp_calloc(1, sizeof *z);
    cx->state = z;
    z->image = image;
    z->format = format;
    z->kind = cx->kind ? cx->kind : "imageannotation";
    z->started = time(NULL);
    z->class_ids = json_object();
    z->labels = json_object_get(cx->params, "labels");
    size_t i;
    const json_t *l;
    json_array_foreach(z->labels, i, l)
    {
        const char *name = json_string_value(json_object_get(l, "name"));
        if (name) json_object_set_new(z->class_ids, name, json_integer((json_int_t)i));
    }
    z->a = archive_write_new();
    /* no block buffering: each write reaches zip_write at once; names in
     * UTF-8 (the zip's language encoding flag), whatever the locale;
     * entries stored (see export_zip.h) */
    if (archive_write_set_format_zip(z->a) != ARCHIVE_OK ||
        archive_write_set_options(z->a, "hdrcharset=UTF-8,compression=store") != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(z->a, 0) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(z->a, 1) != ARCHIVE_OK ||
        archive_write_open(z->a, z, NULL, zip_write, NULL) != ARCHIVE_OK)
        z->failed = 1;
    return z;
}

void lp_imgzip_add(lp_imgzip *z, lp_buf *out, const char *path, const char *data, size_t n)
{
    if (z->failed) return;
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname_utf8(e, path);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, z->started, 0);
    archive_entry_set_size(e, (la_int64_t)n);
    z->out = out;
    if (archive_write_header(z->a, e) != ARCHIVE_OK ||
        (n && archive_write_data(z->a, data, n) != (la_ssize_t)n) ||
        archive_write_finish_entry(z->a) != ARCHIVE_OK)
        z->failed = 1;
    z->out = NULL;
    archive_entry_free(e);
}

/* data.width or data.height, or 0 when absent or not a positive number. */
static double dimension(const json_t *data, const char *key)
{
    const json_t *v = json_object_get(data, key);
    double d = json_is_number(v) ? json_number_value(v) : 0;
    return d > 0 && d < 1e15 ? d : 0;
}

/* Appends to b the stem of file name: without its extension (from the last
 * dot, unless that is the first character), with '/', '\' and control
 * characters as '_', so that it is one path segment; "task-ID" when
 * nothing usable is left. */
static void stem_of(lp_buf *b, const char *name, long long id)
{
    const char *dot = strrchr(name, '.');
    size_t n = dot && dot != name ? (size_t)(dot - name) : strlen(name);
    size_t start = b->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        char ch = c == '/' || c == '\\' || c < 0x20 || c == 0x7f ? '_' : (char)c;
        lp_buf_append(b, &ch, 1);
    }
    const char *s = b->data ? b->data + start : "";
    if (b->len == start || !strcmp(s, ".") || !strcmp(s, "..")) {
        b->len = start;
        lp_buf_printf(b, "task-%lld", id);
    }
}

/* Adds the hash of stem (lower case) to z's set: 1 if it was new, 0 if
 * a stem of the same letters was given before. */
static int stem_new(lp_imgzip *z, const char *stem, size_t len)
{
    static const unsigned char key[crypto_shorthash_KEYBYTES]; /* names are not secret */
    unsigned char low[512], h[crypto_shorthash_BYTES];
    size_t n = len < sizeof low ? len : sizeof low;
    for (size_t i = 0; i < n; i++) low[i] = (unsigned char)tolower((unsigned char)stem[i]);
    crypto_shorthash(h, low, n, key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    if (v == 0) v = 1; /* 0 marks an empty slot */
    if (2 * (z->nstems + 1) > z->capstems) {
        size_t cap = z->capstems ? 2 * z->capstems : 1024;
        uint64_t *t = lp_calloc(cap, sizeof *t);
        for (size_t i = 0; i < z->capstems; i++)
            if (z->stems[i]) {
                size_t j = z->stems[i] & (cap - 1);
                while (t[j]) j = (j + 1) & (cap - 1);
                t[j] = z->stems[i];
            }
        free(z->stems);
        z->stems = t, z->capstems = cap;
    }
    size_t j = v & (z->capstems - 1);
    while (z->stems[j]) {
        if (z->stems[j] == v) return 0;
        j = (j + 1) & (z->capstems - 1);
    }
    z->stems[j] = v;
    z->nstems++;
    return 1;
}

void lp_imgzip_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    (void)index;
    lp_imgzip *z = cx->state;
    json_t *task = json_loadb(json, n, 0, NULL);
    const json_t *result = json_object_get(task, "result");
    if (!json_is_object(result)) {
        z->no_result++;
        json_decref(task);
        return;
    }
    lp_buf name = {0}, stem = {0};
    const char *url;
    lp_export_image_name(task, &name, &url);
    const char *file_name = name.len ? name.data : "";
    const json_t *data = json_object_get(task, "data");
    lp_export_image im = {
        .task = task,
        .file_name = file_name,
        .width = dimension(data, "width"),
        .height = dimension(data, "height"),
        .shapes = json_object_get(json_object_get(result, "response"), "annotations"),
    };
    if (!im.width || !im.height) {
        if (z->unsized++ < LP_IMGZIP_LIST)
            lp_buf_printf(&z->unsized_names, "  %s (task %lld)\n", file_name,
                          (long long)json_integer_value(json_object_get(task, "id")));
    } else {
        long long id = (long long)json_integer_value(json_object_get(task, "id"));
        stem_of(&stem, file_name, id);
        if (!stem_new(z, stem.data, stem.len)) {
            /* another image of this name came first */
            lp_buf_printf(&stem, "-task-%lld", id);
            stem_new(z, stem.data, stem.len);
            if (z->renamed++ < LP_IMGZIP_LIST)
                lp_buf_printf(&z->renamed_names, "  %s (task %lld): %s\n", file_name, id,
                              stem.data);
        }
        im.stem = stem.data;
        z->nimages++;
        z->entry.len = z->path.len = 0;
        z->image(z, out, &im);
    }
    lp_buf_fini(&name);
    lp_buf_fini(&stem);
    json_decref(task);
}

static double clip(double v, double max)
{
    return v < 0 ? 0 : v > max ? max : v;
}

int lp_imgzip_shape(lp_imgzip *z, const lp_export_image *im, const json_t *s, lp_extent *e)
{
    const char *type = json_string_value(json_object_get(s, "type"));
    const char *label = json_string_value(json_object_get(s, "label"));
    if (!type) return -1;
    if (!strcmp(type, "point") || !strcmp(type, "line")) {
        if (type[0] == 'p')
            z->points++;
        else
            z->lines++;
        return -1;
    }
    const json_t *id = label ? json_object_get(z->class_ids, label) : NULL;
    if (!id) {
        z->unknown++;
        return -1;
    }
    double x1, y1, x2, y2;
    if (!strcmp(type, "box")) {
        x1 = json_number_value(json_object_get(s, "x"));
        y1 = json_number_value(json_object_get(s, "y"));
        x2 = x1 + json_number_value(json_object_get(s, "width"));
        y2 = y1 + json_number_value(json_object_get(s, "height"));
    } else if (!strcmp(type, "polygon")) {
        const json_t *v;
        size_t i;
        x1 = y1 = x2 = y2 = 0;
        json_array_foreach(json_object_get(s, "vertices"), i, v)
        {
            double x = json_number_value(json_object_get(v, "x"));
            double y = json_number_value(json_object_get(v, "y"));
            if (i == 0 || x < x1) x1 = x;
            if (i == 0 || x > x2) x2 = x;
            if (i == 0 || y < y1) y1 = y;
            if (i == 0 || y > y2) y2 = y;
        }
    } else {
        return -1; /* not a geometry of the kind */
    }
    e->x1 = clip(x1, im->width);
    e->x2 = clip(x2, im->width);
    e->y1 = clip(y1, im->height);
    e->y2 = clip(y2, im->height);
    z->nobjects++;
    return (int)json_integer_value(id);
}

/* "N things<why>" on a line of its own, when N is not 0. */
static void left_out(lp_buf *b, size_t n, const char *one, const char *many, const char *why)
{
    if (n) lp_buf_printf(b, "  %zu %s%s\n", n, n == 1 ? one : many, why);
}

int lp_imgzip_end(lp_export_ctx *cx, lp_buf *out, size_t ntasks)
{
    (void)ntasks;
    lp_imgzip *z = cx->state;
    lp_buf r = {0};
    lp_buf_printf(&r, "Loupe %s export, format %s: %zu image%s, %zu object%s.\n", z->kind,
                  z->format, z->nimages, z->nimages == 1 ? "" : "s", z->nobjects,
                  z->nobjects == 1 ? "" : "s");
    lp_buf why = {0};
    left_out(&why, z->no_result, "task", "tasks", " without a result");
    left_out(&why, z->unsized, "image", "images",
             " without data.width and data.height (coordinates cannot be placed)");
    left_out(&why, z->points, "point", "points", " (no form in this format)");
    left_out(&why, z->lines, "line", "lines", " (no form in this format)");
    left_out(&why, z->unknown, "shape", "shapes", " with a label not in the project");
    left_out(&why, z->missized, "mask of another size than its image",
             "masks of another size than their image", "");
    left_out(&why, z->too_large, "image", "images",
             " too large for an index mask (2^20 a side, 2^28 pixels at most)");
    if (why.len) lp_buf_printf(&r, "\nLeft out:\n%s", why.data);
    if (z->unsized) {
        lp_buf_puts(&r, "\nImages left out without a size:\n");
        lp_buf_append(&r, z->unsized_names.data, z->unsized_names.len);
        if (z->unsized > LP_IMGZIP_LIST)
            lp_buf_printf(&r, "  and %zu more\n", z->unsized - LP_IMGZIP_LIST);
    }
    if (z->renamed) {
        lp_buf_printf(&r,
                      "\n%zu image%s had the name of an image before %s: %s files are named\n"
                      "STEM-task-ID instead (save the image under that name too):\n",
                      z->renamed, z->renamed == 1 ? "" : "s", z->renamed == 1 ? "it" : "them",
                      z->renamed == 1 ? "its" : "their");
        lp_buf_append(&r, z->renamed_names.data, z->renamed_names.len);
        if (z->renamed > LP_IMGZIP_LIST)
            lp_buf_printf(&r, "  and %zu more\n", z->renamed - LP_IMGZIP_LIST);
    }
    lp_imgzip_add(z, out, "README.txt", r.data, r.len);
    lp_buf_fini(&r);
    lp_buf_fini(&why);
    if (!z->failed) {
        z->out = out;
        if (archive_write_close(z->a) != ARCHIVE_OK) z->failed = 1;
        z->out = NULL;
    }
    return z->failed ? LP_EIO : 0;
}

void lp_imgzip_free(lp_export_ctx *cx)
{
    lp_imgzip *z = cx->state;
    if (!z) return;
    /* A dropped export is closed too (archive_write_fail would leak the
     * zip writer's state), its central directory written to nowhere: out
     * is NULL outside lp_imgzip_add and lp_imgzip_end. */
    z->out = NULL;
    if (z->a) archive_write_free(z->a);
    json_decref(z->class_ids);
    lp_buf_fini(&z->unsized_names);
    lp_buf_fini(&z->renamed_names);
    free(z->stems);
    lp_buf_fini(&z->entry);
    lp_buf_fini(&z->path);
    free(z);
    cx->state = NULL;
}
