/* cli_import.c -- see cli_import.h.  A file is mapped into memory and
 * imported as it is; a folder's files are stored first (files.c), then
 * one NDJSON line a file names each by its sha256, so the import's
 * validation checks them as it checks an API caller's.  Row reports come
 * back by index; `labels` turns an index into what the user knows: a
 * line of the file, a file of the folder, a line of the URL list. */
#include "cli_import.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert.h"
#include "files.h"
#include "import.h"
#include "project.h"
#include "util.h"

/* What the rows are called in messages. */
typedef struct labels {
    const char *path; /* the file or folder named on the command line */
    char **names;     /* folder: the file of each row (NULL: "path:line") */
    long *lines;      /* URL list: the line of each row (NULL: the import's line) */
    int bare;         /* converted labels of one file: a row's place names the file */
    size_t n;
} labels;

static void report(lp_import *im, size_t index, size_t line, int rc, int64_t id, const lp_verr *e)
{
    (void)id;
    const labels *l = im->arg;
    if (rc == 0 || rc == LP_EEXISTS) return;
    if (im->where && l->bare)
        fprintf(stderr, "%s: ", im->where[index]); /* names the file already */
    else if (im->where)
        fprintf(stderr, "%s: %s: ", l->path, im->where[index]);
    else if (l->names && index < l->n)
        fprintf(stderr, "%s/%s: ", l->path, l->names[index]);
    else
        fprintf(stderr, "%s:%ld: ", l->path,
                l->lines && index < l->n ? l->lines[index] : (long)line);
    if (e->field[0]) fprintf(stderr, "%s: ", e->field);
    fprintf(stderr, "%s\n", e->message);
}

/* Imports the document and prints the summary; the exit status. */
static int run(lp_db *db, const lp_project *p, const lp_cli_import *o, lp_import *im,
               const labels *l, int64_t batch_id, size_t failed)
{
    im->batch_id = batch_id;
    im->columns = o->columns;
    im->row = report;
    im->arg = (void *)l;
    lp_verr e;
    int rc = lp_import_run(db, p, im, &e);
    if (rc == LP_EINVAL) {
        fprintf(stderr, "%s: %s%s%s\n", o->path, strcmp(e.field, "body") ? e.field : "",
                strcmp(e.field, "body") ? ": " : "", e.message);
        return 1;
    }
    if (rc < 0) {
        fprintf(stderr, "loupe import: %s: %s (rows before the last commit stay)\n", o->path,
                lp_strerror(rc));
        return 1;
    }
    printf("%s: %zu created, %zu duplicate%s, %zu invalid\n", o->path, im->created, im->duplicates,
           im->duplicates == 1 ? "" : "s", im->invalid + failed);
    return im->invalid || failed ? 1 : 0;
}

/* Stores one file of the folder and appends its task to nd: 0, or -1
 * after printing why. */
static int folder_file(lp_db *db, const lp_cli_import *o, const char *name, const char *type,
                       lp_buf *nd)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", o->path, name);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        return -1;
    }
    lp_upload u;
    char sha[65], buf[65536];
    int created, rc = lp_upload_begin(&u, o->files_dir);
    ssize_t n = 0;
    while (rc == 0 && (n = read(fd, buf, sizeof buf)) > 0) rc = lp_upload_write(&u, buf, (size_t)n);
    if (rc == 0 && n < 0) rc = LP_EIO;
    if (rc == 0)
        rc = lp_upload_finish(&u, db, o->files_dir, lp_file_content_type(name), name, 0, sha,
                              &created);
    int err = errno;
    lp_upload_fini(&u);
    close(fd);
    if (rc < 0) {
        fprintf(stderr, "%s: cannot store: %s\n", path,
                rc == LP_EIO ? strerror(err) : lp_db_errmsg(db));
        return -1;
    }
    json_t *t =
        json_pack("{s:s?, s:[{s:s, s:s, s:s?}]}", "unique_id", strlen(name) <= 255 ? name : NULL,
                  "attachments", "type", type, "file", sha, "name", name);
    char *s = t ? json_dumps(t, JSON_COMPACT) : NULL;
    json_decref(t);
    if (!s) {
        fprintf(stderr, "%s: the file name is not UTF-8\n", path);
        return -1;
    }
    lp_buf_puts(nd, s);
    lp_buf_puts(nd, "\n");
    free(s);
    return 0;
}

static int skip_entry(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* A folder: one task per file, in name order. */
static int import_folder(lp_db *db, const lp_project *p, const lp_cli_import *o, int64_t batch_id)
{
    struct dirent **ents;
    int n = scandir(o->path, &ents, skip_entry, alphasort);
    if (n < 0) {
        fprintf(stderr, "loupe import: cannot read %s: %s\n", o->path, strerror(errno));
        return 1;
    }
    labels l = {.path = o->path, .names = lp_calloc((size_t)n + 1, sizeof(char *))};
    lp_buf nd = {0};
    size_t failed = 0;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", o->path, name);
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        const char *type = lp_media_type(name, strlen(name));
        if (!type) {
            fprintf(stderr, "%s: not an image, audio, video or text file by its extension\n", path);
            failed++;
        } else if (folder_file(db, o, name, type, &nd) < 0) {
            failed++;
        } else {
            l.names[l.n++] = lp_strdup(name);
        }
    }
    lp_import im = {.format = LP_IMPORT_JSON, .body = nd.data ? nd.data : "", .len = nd.len};
    int status = l.n ? run(db, p, o, &im, &l, batch_id, failed) : 1;
    if (!l.n) printf("%s: 0 created, 0 duplicates, %zu invalid\n", o->path, failed);
    for (size_t i = 0; i < l.n; i++) free(l.names[i]);
    for (int i = 0; i < n; i++) free(ents[i]);
    free(ents);
    free(l.names);
    lp_buf_fini(&nd);
    return status;
}

/* A list of URLs, one a line (blank lines and # comments skipped): one
 * task per URL, its type by the extension (other when unknown). */
static int import_urls(lp_db *db, const lp_project *p, const lp_cli_import *o, const char *s,
                       size_t len, int64_t batch_id)
{
    labels l = {.path = o->path};
    size_t cap = 0, failed = 0;
    lp_buf nd = {0};
    long line = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - s) : len, a = i, b = end;
        line++;
        i = end + 1;
        while (a < b && strchr(" \t\r", s[a])) a++;
        while (b > a && strchr(" \t\r", s[b - 1])) b--;
        if (a == b || s[a] == '#') continue;
        size_t ulen = b - a;
        size_t plen = 0; /* the URL without its query and fragment */
        while (plen < ulen && s[a + plen] != '?' && s[a + plen] != '#') plen++;
        const char *type = lp_media_type(s + a, plen);
        json_t *url = json_stringn(s + a, ulen);
        if (!url) {
            fprintf(stderr, "%s:%ld: the line is not UTF-8\n", o->path, line);
            failed++;
            continue;
        }
        json_t *t =
            json_pack("{s:[{s:s, s:O}]}", "attachments", "type", type ? type : "other", "url", url);
        if (ulen <= 255) json_object_set(t, "unique_id", url);
        json_decref(url);
        char *text = json_dumps(t, JSON_COMPACT);
        json_decref(t);
        lp_buf_puts(&nd, text);
        lp_buf_puts(&nd, "\n");
        free(text);
        if (l.n == cap) l.lines = lp_realloc(l.lines, (cap = cap ? 2 * cap : 64) * sizeof(long));
        l.lines[l.n++] = line;
    }
    lp_import im = {.format = LP_IMPORT_JSON, .body = nd.data ? nd.data : "", .len = nd.len};
    int status;
    if (l.n) {
        status = run(db, p, o, &im, &l, batch_id, failed);
    } else {
        fprintf(stderr, "%s: no URLs\n", o->path);
        status = 1;
    }
    free(l.lines);
    lp_buf_fini(&nd);
    return status;
}

/* Labels in another tool's format: the file, folder or zip read into a
 * source (media stored), converted, imported. */
static int import_converted(lp_db *db, const lp_project *p, const lp_cli_import *o,
                            const lp_converter *cv, int dir, const char *s, size_t len,
                            int64_t batch_id)
{
    lp_src src = {0};
    lp_verr e;
    int rc;
    if (dir)
        rc = lp_src_load_dir(&src, db, o->files_dir, o->path, &e);
    else if (lp_src_has_suffix(o->path, ".zip") || lp_src_is_zip(s, len))
        rc = lp_src_load_zip(&src, db, o->files_dir, s, len, &e);
    else {
        lp_src_add_text(&src, o->path, s, len);
        lp_src_done(&src);
        rc = 0;
    }
    if (rc < 0) {
        fprintf(stderr, "%s: %s%s%s\n", o->path, strcmp(e.field, "body") ? e.field : "",
                strcmp(e.field, "body") ? ": " : "", e.message);
        lp_src_fini(&src);
        return 1;
    }
    lp_convert c = {.project = p,
                    .src = &src,
                    .results = o->as && !strcmp(o->as, "results"),
                    .model = o->model,
                    .image_base = o->image_base};
    labels l = {.path = o->path, .bare = src.ntexts == 1 && !src.nmedia && !dir};
    lp_import im = {.batch_id = batch_id, .row = report, .arg = &l};
    rc = lp_convert_import(db, cv, &c, &im, &e);
    int status;
    if (rc == LP_EINVAL) {
        fprintf(stderr, "%s: %s%s%s\n", o->path,
                strcmp(e.field, "body") && strcmp(e.field, "format") ? e.field : "",
                strcmp(e.field, "body") && strcmp(e.field, "format") ? ": " : "", e.message);
        status = 1;
    } else if (rc < 0) {
        fprintf(stderr, "loupe import: %s: %s (rows before the last commit stay)\n", o->path,
                lp_strerror(rc));
        status = 1;
    } else {
        printf("%s: %zu created, %zu duplicate%s, %zu invalid", o->path, im.created, im.duplicates,
               im.duplicates == 1 ? "" : "s", im.invalid);
        if (src.nmedia) printf(", %zu media file%s stored", src.nmedia, src.nmedia == 1 ? "" : "s");
        if (src.skipped)
            printf(", %zu file%s neither text nor media left out", src.skipped,
                   src.skipped == 1 ? "" : "s");
        printf("\n");
        status = im.invalid ? 1 : 0;
    }
    lp_convert_fini(&c);
    lp_src_fini(&src);
    return status;
}

/* The batch named name: found, or created in staging. */
static int find_batch(lp_db *db, int64_t project_id, const char *name, int64_t *id)
{
    int rc = lp_db_int64(db, id, "SELECT id FROM batches WHERE project_id = ? AND name = ?", "is",
                         project_id, name);
    if (rc != LP_ENOTFOUND) return rc;
    json_t *b = json_pack("{s:s}", "name", name);
    lp_verr e;
    rc = lp_batch_create(db, project_id, b, id, &e);
    json_decref(b);
    if (rc == LP_EINVAL)
        fprintf(stderr, "loupe import: --batch: %s\n", e.message);
    else if (rc == 0)
        printf("created batch %lld \"%s\"\n", (long long)*id, name);
    return rc;
}

int lp_cli_import_run(lp_db *db, const lp_cli_import *o)
{
    static const char *const formats[] = {"json", "ndjson", "csv", "urls", NULL};
    int fmt = -1;
    for (int k = 0; o->format && formats[k]; k++)
        if (!strcmp(o->format, formats[k])) fmt = k;
    const lp_converter *cv = lp_converter_find(o->format);
    if (o->format && fmt < 0 && !cv) {
        fprintf(stderr, "loupe import: --format must be json, ndjson, csv, urls");
        for (const lp_converter *const *k = lp_converters(); *k; k++)
            fprintf(stderr, "%s %s", k[1] ? "," : " or", (*k)->name);
        fprintf(stderr, "\n");
        return 2;
    }
    if (o->as && strcmp(o->as, "predictions") && strcmp(o->as, "results")) {
        fprintf(stderr, "loupe import: --as must be predictions or results\n");
        return 2;
    }
    if (!cv && (o->as || o->model || o->image_base)) {
        fprintf(stderr, "loupe import: --as, --model and --image-base are for labels in another "
                        "tool's format (--format coco, yolo, voc, conll or labelstudio)\n");
        return 2;
    }
    struct stat sb;
    if (stat(o->path, &sb) != 0) {
        fprintf(stderr, "loupe import: cannot read %s: %s\n", o->path, strerror(errno));
        return 1;
    }
    int dir = S_ISDIR(sb.st_mode);
    if (dir && o->format && !cv) {
        fprintf(stderr, "loupe import: --format is for a file; a folder gives one task per file\n");
        return 2;
    }
    if (!dir && fmt < 0 && !cv) {
        const char *dot = strrchr(o->path, '.');
        static const char *const exts[][2] = {
            {".json", "json"}, {".ndjson", "ndjson"}, {".jsonl", "ndjson"}, {".csv", "csv"}};
        for (size_t k = 0; dot && k < LP_ARRAY_LEN(exts); k++)
            if (!strcasecmp(dot, exts[k][0]))
                for (int f = 0; formats[f]; f++)
                    if (!strcmp(formats[f], exts[k][1])) fmt = f;
        if (fmt < 0) {
            fprintf(stderr,
                    "loupe import: say what %s holds with --format json, ndjson, csv or "
                    "urls\n",
                    o->path);
            return 2;
        }
    }
    if (o->columns && (dir || fmt != 2)) {
        fprintf(stderr, "loupe import: --columns maps the columns of a CSV file\n");
        return 2;
    }
    lp_project *p;
    int rc = lp_project_get(db, o->project_id, &p);
    if (rc < 0) {
        fprintf(stderr, "loupe import: %s\n",
                rc == LP_ENOTFOUND ? "no such project" : lp_strerror(rc));
        return 1;
    }
    int64_t batch_id = 0;
    if (o->batch && (rc = find_batch(db, p->id, o->batch, &batch_id)) < 0) {
        if (rc != LP_EINVAL) fprintf(stderr, "loupe import: --batch: %s\n", lp_strerror(rc));
        lp_project_free(p);
        return 1;
    }
    int status;
    if (dir && cv) {
        status = import_converted(db, p, o, cv, 1, NULL, 0, batch_id);
    } else if (dir) {
        status = import_folder(db, p, o, batch_id);
    } else {
        int fd = open(o->path, O_RDONLY);
        void *map = fd >= 0 && sb.st_size > 0
                        ? mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0)
                        : NULL;
        if (fd < 0 || map == MAP_FAILED) {
            fprintf(stderr, "loupe import: cannot read %s: %s\n", o->path, strerror(errno));
            status = 1;
        } else {
            const char *s = map ? map : "";
            size_t len = map ? (size_t)sb.st_size : 0;
            labels l = {.path = o->path};
            lp_import im = {
                .format = fmt == 2 ? LP_IMPORT_CSV : LP_IMPORT_JSON, .body = s, .len = len};
            status = cv         ? import_converted(db, p, o, cv, 0, s, len, batch_id)
                     : fmt == 3 ? import_urls(db, p, o, s, len, batch_id)
                                : run(db, p, o, &im, &l, batch_id, 0);
            if (map) munmap(map, (size_t)sb.st_size);
        }
        if (fd >= 0) close(fd);
    }
    lp_project_free(p);
    return status;
}
