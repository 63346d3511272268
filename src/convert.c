/* convert.c -- see convert.h: sources (a folder or a zip read into text
 * files and stored media), the emitting of tasks, image lookup, the
 * registry of converters and the import of what they emit. */
#include "convert.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

/* A text file larger than this is refused: converters hold it whole. */
#define TEXT_MAX ((size_t)2 << 30)

static const char *ext_of(const char *name, size_t len, size_t *elen)
{
    const char *dot = NULL;
    for (size_t i = 0; i < len; i++)
        if (name[i] == '.')
            dot = name + i;
        else if (name[i] == '/')
            dot = NULL;
    if (dot) *elen = (size_t)(name + len - dot - 1);
    return dot ? dot + 1 : NULL;
}

const char *lp_media_type(const char *name, size_t len)
{
    static const char *const types[][2] = {
        {"png", "image"},  {"jpg", "image"},    {"jpeg", "image"}, {"gif", "image"},
        {"webp", "image"}, {"bmp", "image"},    {"tif", "image"},  {"tiff", "image"},
        {"svg", "image"},  {"wav", "audio"},    {"mp3", "audio"},  {"ogg", "audio"},
        {"flac", "audio"}, {"m4a", "audio"},    {"opus", "audio"}, {"mp4", "video"},
        {"webm", "video"}, {"mov", "video"},    {"mkv", "video"},  {"txt", "text"},
        {"md", "text"},    {"pdf", "document"},
        {"pcd", "pointcloud"}, {"ply", "pointcloud"},
    };
    size_t elen = 0;
    const char *ext = ext_of(name, len, &elen);
    for (size_t i = 0; ext && i < LP_ARRAY_LEN(types); i++)
        if (strlen(types[i][0]) == elen && !strncasecmp(ext, types[i][0], elen)) return types[i][1];
    return NULL;
}

int lp_src_is_text(const char *name)
{
    static const char *const exts[] = {"json", "jsonl", "ndjson", "txt",   "xml",
                                       "yaml", "yml",   "conll",  "names", "csv",
                                       "tsv",  "iob",   "bio",    "iob2",  "ini",
                                       NULL};
    size_t elen = 0;
    const char *ext = ext_of(name, strlen(name), &elen);
    /* An index mask (convert_masks.c) is read, not stored as an image. */
    if (lp_src_has_suffix(name, ".png") && (!strncmp(name, "masks/", 6) || strstr(name, "/masks/")))
        return 1;
    for (size_t i = 0; ext && exts[i]; i++)
        if (strlen(exts[i]) == elen && !strncasecmp(ext, exts[i], elen)) return 1;
    return 0;
}

int lp_src_has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n >= k && !strcasecmp(name + n - k, suffix);
}

void lp_src_add_text(lp_src *s, const char *name, const char *data, size_t len)
{
    s->texts = lp_realloc(s->texts, (s->ntexts + 1) * sizeof *s->texts);
    lp_src_text *t = &s->texts[s->ntexts++];
    t->name = lp_strdup(name);
    t->data = lp_malloc(len + 1);
    if (len) memcpy(t->data, data, len);
    t->data[len] = '\0';
    t->len = len;
}

void lp_src_add_media(lp_src *s, const char *name, const char *type, const char *sha, int width,
                      int height)
{
    s->media = lp_realloc(s->media, (s->nmedia + 1) * sizeof *s->media);
    lp_src_media *m = &s->media[s->nmedia++];
    m->name = lp_strdup(name);
    const char *slash = strrchr(m->name, '/');
    m->base = slash ? slash + 1 : m->name;
    m->type = type;
    snprintf(m->sha, sizeof m->sha, "%s", sha);
    m->width = width;
    m->height = height;
}

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static unsigned long be32(const unsigned char *p)
{
    return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

static unsigned long le32(const unsigned char *p)
{
    return (unsigned long)p[3] << 24 | (unsigned long)p[2] << 16 | (unsigned long)p[1] << 8 | p[0];
}

/* Reads the sizes the image formats put in their first bytes: PNG's IHDR
 * chunk, JPEG's start-of-frame marker (after any APPn segments), GIF's
 * logical screen, BMP's info header and WebP's VP8, VP8L or VP8X chunk. */
int lp_image_size(const unsigned char *b, size_t n, int *width, int *height)
{
    unsigned long w = 0, h = 0;
    if (n >= 24 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8) && !memcmp(b + 12, "IHDR", 4)) {
        w = be32(b + 16), h = be32(b + 20);
    } else if (n >= 4 && b[0] == 0xFF && b[1] == 0xD8) {
        size_t i = 2;
        while (i + 9 < n && b[i] == 0xFF) {
            unsigned m = b[i + 1];
            if (m == 0xFF) { /* fill byte */
                i++;
                continue;
            }
            size_t len = be16(b + i + 2);
            /* SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC) */
            if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
                h = be16(b + i + 5), w = be16(b + i + 7);
                break;
            }
            if (m == 0xD9 || m == 0xDA || len < 2) break;
            i += 2 + len;
        }
    } else if (n >= 10 && (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6))) {
        w = (unsigned long)b[6] | (unsigned long)b[7] << 8;
        h = (unsigned long)b[8] | (unsigned long)b[9] << 8;
    } else if (n >= 26 && b[0] == 'B' && b[1] == 'M') {
        w = le32(b + 18);
        long hh = (long)(int32_t)le32(b + 22); /* negative: stored top-down */
        h = (unsigned long)(hh < 0 ? -hh : hh);
    } else if (n >= 30 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4)) {
        const unsigned char *c = b + 12;
        if (!memcmp(c, "VP8 ", 4) && c[11] == 0x9D && c[12] == 0x01 && c[13] == 0x2A) {
            w = (c[14] | (unsigned long)c[15] << 8) & 0x3FFF;
            h = (c[16] | (unsigned long)c[17] << 8) & 0x3FFF;
        } else if (!memcmp(c, "VP8L", 4) && c[8] == 0x2F) {
            unsigned long bits = le32(c + 9);
            w = (bits & 0x3FFF) + 1, h = ((bits >> 14) & 0x3FFF) + 1;
        } else if (!memcmp(c, "VP8X", 4)) {
            w = ((unsigned long)c[12] | (unsigned long)c[13] << 8 | (unsigned long)c[14] << 16) + 1;
            h = ((unsigned long)c[15] | (unsigned long)c[16] << 8 | (unsigned long)c[17] << 16) + 1;
        }
    }
    if (w == 0 || h == 0 || w > 1000000 || h > 1000000) return -1;
    *width = (int)w, *height = (int)h;
    return 0;
}

static int by_base(const void *a, const void *b)
{
    const lp_src_media *x = a, *y = b;
    int c = strcmp(x->base, y->base);
    return c ? c : strcmp(x->name, y->name);
}

static int by_text_name(const void *a, const void *b)
{
    return strcmp(((const lp_src_text *)a)->name, ((const lp_src_text *)b)->name);
}

void lp_src_done(lp_src *s)
{
    if (s->nmedia) qsort(s->media, s->nmedia, sizeof *s->media, by_base);
    if (s->ntexts) qsort(s->texts, s->ntexts, sizeof *s->texts, by_text_name);
}

void lp_src_fini(lp_src *s)
{
    for (size_t i = 0; i < s->ntexts; i++) free(s->texts[i].name), free(s->texts[i].data);
    for (size_t i = 0; i < s->nmedia; i++) free(s->media[i].name);
    free(s->texts);
    free(s->media);
    memset(s, 0, sizeof *s);
}

const lp_src_text *lp_src_find(const lp_src *s, const char *name)
{
    for (size_t i = 0; i < s->ntexts; i++)
        if (!strcmp(s->texts[i].name, name)) return &s->texts[i];
    return NULL;
}

/* A media file being stored: one upload, and its first bytes kept for
 * the image's size (a JPEG's frame header may follow 64 KiB of EXIF). */
#define HEAD_MAX (256 * 1024)
typedef struct store {
    lp_upload u;
    unsigned char *head;
    size_t nhead;
} store;

static int store_begin(store *st, const char *files_dir)
{
    st->head = NULL;
    st->nhead = 0;
    return lp_upload_begin(&st->u, files_dir);
}

static int store_write(store *st, const void *data, size_t n)
{
    if (st->nhead < HEAD_MAX) {
        size_t k = n < HEAD_MAX - st->nhead ? n : HEAD_MAX - st->nhead;
        if (!st->head) st->head = lp_malloc(HEAD_MAX);
        memcpy(st->head + st->nhead, data, k);
        st->nhead += k;
    }
    return lp_upload_write(&st->u, data, n);
}

static int store_end(lp_src *s, store *st, lp_db *db, const char *files_dir, const char *name,
                     const char *type, int rc)
{
    char sha[65];
    int created, w = 0, h = 0;
    const char *slash = strrchr(name, '/');
    if (rc == 0)
        rc = lp_upload_finish(&st->u, db, files_dir, lp_file_content_type(name),
                              slash ? slash + 1 : name, 0, sha, &created);
    lp_upload_fini(&st->u);
    if (rc == 0 && !strcmp(type, "image") && lp_image_size(st->head, st->nhead, &w, &h) < 0)
        w = h = 0;
    if (rc == 0) lp_src_add_media(s, name, type, sha, w, h);
    free(st->head);
    st->head = NULL;
    return rc;
}

/* Skips names a person did not put there: hidden files, macOS's resource
 * forks in zips. */
static int skip_name(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    return base[0] == '.' || !strncmp(name, "__MACOSX/", 9) || strstr(name, "/__MACOSX/");
}

static int fail_file(lp_verr *e, const char *name, int rc, int err, lp_db *db)
{
    if (rc == LP_EIO) {
        lp_verr_set(e, name, "cannot store: %s", strerror(err));
        return LP_EIO;
    }
    if (rc == LP_EINVAL) return rc;
    lp_verr_set(e, name, "cannot store: %s", db ? lp_db_errmsg(db) : lp_strerror(rc));
    return rc;
}

/* Keeps the text file read into b (released) as name, unless reading it
 * failed (failed says why) or it is too large: then LP_EINVAL naming it. */
static int keep_text(lp_src *s, const char *name, lp_buf *b, const char *failed, lp_verr *e)
{
    int rc = 0;
    if (failed)
        rc = lp_verr_set(e, name, "cannot be read (%s)", failed);
    else if (b->len >= TEXT_MAX)
        rc = lp_verr_set(e, name, "is larger than 2 GiB");
    else
        lp_src_add_text(s, name, b->data ? b->data : "", b->len);
    lp_buf_fini(b);
    return rc;
}

/* One file of a folder: kept as text, stored as media or skipped. */
static int load_file(lp_src *s, lp_db *db, const char *files_dir, const char *path, const char *rel,
                     lp_verr *e)
{
    const char *type = lp_media_type(rel, strlen(rel));
    int text = lp_src_is_text(rel);
    if (!text && !type) {
        s->skipped++;
        return 0;
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0) return lp_verr_set(e, rel, "cannot read: %s", strerror(errno));
    int rc = 0, err = 0;
    if (text) {
        lp_buf b = {0};
        char chunk[65536];
        ssize_t n;
        while ((n = read(fd, chunk, sizeof chunk)) > 0 && b.len < TEXT_MAX)
            lp_buf_append(&b, chunk, (size_t)n);
        rc = keep_text(s, rel, &b, n < 0 ? strerror(errno) : NULL, e);
    } else {
        store st;
        char chunk[65536];
        ssize_t n = 0;
        rc = store_begin(&st, files_dir);
        while (rc == 0 && (n = read(fd, chunk, sizeof chunk)) > 0)
            rc = store_write(&st, chunk, (size_t)n);
        if (rc == 0 && n < 0) rc = LP_EIO;
        err = errno;
        rc = store_end(s, &st, db, files_dir, rel, type, rc);
        if (rc < 0) rc = fail_file(e, rel, rc, err, db);
    }
    close(fd);
    return rc;
}

static int load_dir(lp_src *s, lp_db *db, const char *files_dir, const char *root, const char *rel,
                    int depth, lp_verr *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", root, rel[0] ? "/" : "", rel);
    if (depth > 32) return lp_verr_set(e, rel, "folders nest deeper than 32");
    struct dirent **ents;
    int n = scandir(path, &ents, NULL, alphasort), rc = 0;
    if (n < 0) return lp_verr_set(e, rel[0] ? rel : root, "cannot read: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        if (rc == 0 && name[0] != '.') {
            char sub[4096], full[4096];
            struct stat sb;
            snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", name);
            snprintf(full, sizeof full, "%s/%s", root, sub);
            if (stat(full, &sb) != 0)
                rc = lp_verr_set(e, sub, "cannot read: %s", strerror(errno));
            else if (S_ISDIR(sb.st_mode))
                rc = load_dir(s, db, files_dir, root, sub, depth + 1, e);
            else if (S_ISREG(sb.st_mode))
                rc = load_file(s, db, files_dir, full, sub, e);
        }
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int lp_src_load_dir(lp_src *s, lp_db *db, const char *files_dir, const char *path, lp_verr *e)
{
    int rc = load_dir(s, db, files_dir, path, "", 0, e);
    lp_src_done(s);
    return rc;
}

int lp_src_is_zip(const void *data, size_t len)
{
    return len >= 4 && (!memcmp(data, "PK\x03\x04", 4) || !memcmp(data, "PK\x05\x06", 4));
}

int lp_src_load_zip(lp_src *s, lp_db *db, const char *files_dir, const void *data, size_t len,
                    lp_verr *e)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_zip(a);
    int rc = 0;
    if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
        rc = lp_verr_set(e, "body", "is not a zip file (%s)", archive_error_string(a));
        archive_read_free(a);
        return rc;
    }
    struct archive_entry *ent;
    int r;
    while (rc == 0 && (r = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(ent);
        if (!name || archive_entry_filetype(ent) != AE_IFREG || skip_name(name)) continue;
        while (name[0] == '/' || (name[0] == '.' && name[1] == '/')) name += name[0] == '/' ? 1 : 2;
        const char *type = lp_media_type(name, strlen(name));
        int text = lp_src_is_text(name);
        if (!text && !type) {
            s->skipped++;
            continue;
        }
        char buf[65536];
        la_ssize_t n;
        if (text) {
            lp_buf b = {0};
            while ((n = archive_read_data(a, buf, sizeof buf)) > 0 && b.len < TEXT_MAX)
                lp_buf_append(&b, buf, (size_t)n);
            rc = keep_text(s, name, &b, n < 0 ? archive_error_string(a) : NULL, e);
        } else {
            store st;
            char *kept = lp_strdup(name); /* the entry's name does not outlive reads */
            rc = store_begin(&st, files_dir);
            int bad = 0;
            while (rc == 0 && (n = archive_read_data(a, buf, sizeof buf)) > 0)
                rc = store_write(&st, buf, (size_t)n);
            if (rc == 0 && n < 0) rc = LP_EINVAL, bad = 1;
            int err = errno;
            if (bad) {
                lp_upload_fini(&st.u);
                free(st.head);
                rc = lp_verr_set(e, kept, "cannot be read from the zip (%s)",
                                 archive_error_string(a));
            } else {
                rc = store_end(s, &st, db, files_dir, kept, type, rc);
                if (rc < 0) rc = fail_file(e, kept, rc, err, db);
            }
            free(kept);
        }
    }
    if (rc == 0 && r != ARCHIVE_EOF)
        rc = lp_verr_set(e, "body", "the zip file is damaged (%s)", archive_error_string(a));
    archive_read_free(a);
    lp_src_done(s);
    return rc;
}

static char *vformat(const char *fmt, va_list ap)
{
    lp_buf b = {0};
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    lp_buf_reserve(&b, (size_t)(n > 0 ? n : 0) + 1);
    vsnprintf(b.data, (size_t)n + 1, fmt, ap);
    return b.data;
}

static void add_where(lp_convert *c, char *w)
{
    if (c->nwhere == c->cap)
        c->where = lp_realloc(c->where, (c->cap = c->cap ? 2 * c->cap : 64) * sizeof(char *));
    c->where[c->nwhere++] = w;
}

void lp_convert_predict(lp_convert *c, json_t *task, const char *model, json_t *response,
                        double score)
{
    char dflt[64];
    if (!model) model = c->model;
    if (!model) snprintf(dflt, sizeof dflt, "import:%s", c->format ? c->format : "file");
    json_t *pr = json_pack("{s:s, s:o}", "model", model ? model : dflt, "response", response);
    if (score >= 0) json_object_set_new(pr, "score", json_real(score));
    json_t *all = json_object_get(task, "predictions");
    if (!json_is_array(all)) json_object_set_new(task, "predictions", all = json_array());
    json_array_append_new(all, pr);
}

void lp_convert_task(lp_convert *c, json_t *task, json_t *response, double score, const char *where,
                     ...)
{
    if (response && c->results)
        json_object_set_new(task, "result", response);
    else if (response)
        lp_convert_predict(c, task, NULL, response, score);
    /* UTF-8 as it is, not \u-escaped: text json_dumps would write again is
     * stored by the import without being parsed back and encoded. */
    char *s = json_dumps(task, JSON_COMPACT);
    json_decref(task);
    lp_buf_puts(&c->out, s);
    lp_buf_puts(&c->out, "\n");
    free(s);
    c->ntasks++;
    va_list ap;
    va_start(ap, where);
    add_where(c, vformat(where, ap));
    va_end(ap);
}

void lp_convert_bad(lp_convert *c, const char *field, const char *msg, const char *where, ...)
{
    if (c->nbad == c->badcap)
        c->bad = lp_realloc(c->bad, (c->badcap = c->badcap ? 2 * c->badcap : 16) * sizeof *c->bad);
    struct lp_convert_bad *b = &c->bad[c->nbad++];
    lp_verr_set(&b->e, field, "%s", msg);
    va_list ap;
    va_start(ap, where);
    b->where = vformat(where, ap);
    va_end(ap);
}

/* The media file whose last segment is base: the index of the first of
 * them, or -1. */
static long first_of_base(const lp_src *s, const char *base)
{
    size_t lo = 0, hi = s->nmedia;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(s->media[mid].base, base) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->nmedia && !strcmp(s->media[lo].base, base) ? (long)lo : -1;
}

const lp_src_media *lp_src_find_media(const lp_src *s, const char *file_name)
{
    const char *slash = file_name ? strrchr(file_name, '/') : NULL;
    const char *base = slash ? slash + 1 : file_name;
    if (!s || !base || !*base) return NULL;
    long i = first_of_base(s, base);
    size_t same = 0, fl = strlen(file_name);
    for (long k = i; k >= 0 && (size_t)k < s->nmedia && !strcmp(s->media[k].base, base); k++) {
        const lp_src_media *m = &s->media[k];
        size_t nl = strlen(m->name);
        same++;
        /* The exact path, or a path the source's ends with. */
        if (!strcmp(m->name, file_name) ||
            (nl > fl && !strcmp(m->name + nl - fl, file_name) && m->name[nl - fl - 1] == '/'))
            return m;
    }
    return same == 1 ? &s->media[i] : NULL;
}

json_t *lp_convert_image(lp_convert *c, const char *file_name, const char *url, int *width,
                         int *height)
{
    const char *slash = file_name ? strrchr(file_name, '/') : NULL;
    const char *base = slash ? slash + 1 : file_name;
    const lp_src_media *m = lp_src_find_media(c->src, file_name);
    if (width) *width = m ? m->width : 0;
    if (height) *height = m ? m->height : 0;
    if (m) return json_pack("{s:s, s:s, s:s}", "type", m->type, "file", m->sha, "name", base);
    if (url && (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)))
        return json_pack("{s:s, s:s, s:s?}", "type", "image", "url", url, "name", base);
    if (c->image_base && file_name && *file_name) {
        size_t bl = strlen(c->image_base);
        char *u = lp_sprintf("%s%s%s", c->image_base, bl && c->image_base[bl - 1] == '/' ? "" : "/",
                             file_name[0] == '/' ? file_name + 1 : file_name);
        json_t *a = json_pack("{s:s, s:s, s:s}", "type", "image", "url", u, "name", base);
        free(u);
        return a;
    }
    return NULL;
}

void lp_convert_fini(lp_convert *c)
{
    for (size_t i = 0; i < c->nwhere; i++) free(c->where[i]);
    for (size_t i = 0; i < c->nbad; i++) free(c->bad[i].where);
    free(c->where);
    free(c->bad);
    lp_buf_fini(&c->out);
    c->where = NULL;
    c->bad = NULL;
    c->ntasks = c->nwhere = c->nbad = c->cap = c->badcap = 0;
}

int lp_convert_has_label(const lp_convert *c, const char *name)
{
    size_t i;
    const json_t *l;
    json_array_foreach(json_object_get(c->project->params, "labels"), i, l)
    {
        const char *n = json_is_string(l) ? json_string_value(l)
                                          : json_string_value(json_object_get(l, "name"));
        if (n && !strcmp(n, name)) return 1;
    }
    return 0;
}

static const lp_converter *const converters[] = {
    &lp_convert_coco,
    &lp_convert_conll,
    &lp_convert_yolo,
    &lp_convert_voc,
    &lp_convert_labelstudio,
    &lp_convert_masks,
    &lp_convert_mot,
    NULL,
};

const lp_converter *const *lp_converters(void)
{
    return converters;
}

const lp_converter *lp_converter_find(const char *name)
{
    for (size_t i = 0; name && converters[i]; i++)
        if (!strcmp(converters[i]->name, name)) return converters[i];
    return NULL;
}

int lp_converter_fits(const lp_converter *cv, const char *kind)
{
    for (const char *const *k = cv->kinds; *k; k++)
        if (!strcmp(*k, kind)) return 1;
    return 0;
}

int lp_convert_import(lp_db *db, const lp_converter *cv, lp_convert *c, lp_import *im, lp_verr *e)
{
    if (!lp_converter_fits(cv, c->project->kind->name)) {
        /* Every kind it fills: a converter may fill several (labelstudio). */
        lp_buf kinds = {0};
        for (size_t k = 0; cv->kinds[k]; k++)
            lp_buf_printf(&kinds, "%s%s", k ? ", " : "", cv->kinds[k]);
        int rc = lp_verr_set(e, "format", "%s reads labels for %s projects, not %s", cv->name,
                             kinds.data, c->project->kind->name);
        lp_buf_fini(&kinds);
        return rc;
    }
    c->format = cv->name;
    int rc = cv->run(c, e);
    if (rc < 0) return rc;
    if (c->ntasks == 0 && c->nbad == 0)
        return lp_verr_set(e, "body", "holds nothing to import as %s%s", cv->name,
                           c->src && c->src->skipped ? " (its files are neither text nor media)"
                                                     : "");
    /* The bad items' places follow the tasks'. */
    size_t ntasks = c->ntasks;
    for (size_t k = 0; k < c->nbad; k++) {
        add_where(c, c->bad[k].where);
        c->bad[k].where = NULL;
    }
    size_t all = c->nwhere;
    im->format = LP_IMPORT_JSON;
    im->body = c->out.data ? c->out.data : "";
    im->len = c->out.len;
    im->where = (const char *const *)c->where;
    if (ntasks) {
        rc = lp_import_run(db, c->project, im, e);
        if (rc < 0) return rc;
    }
    im->rows = all;
    for (size_t k = 0; k < c->nbad; k++)
        if (im->row) im->row(im, ntasks + k, 0, LP_EINVAL, 0, &c->bad[k].e);
    im->invalid += c->nbad;
    return 0;
}
