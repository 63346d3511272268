/* convert_mot.c -- MOT challenge sequences (MOT15/16/17/20 ground truth, or
 * a tracker's results) read into videoannotation tasks, one per sequence.
 *
 * What it reads.  A sequence is a file called gt.txt (its folder, or the
 * folder above gt/, is the sequence's); a source with no gt.txt but one
 * text file (a body posted alone) is that one sequence.  Beside it,
 * seqinfo.ini (optional) gives name, frameRate, seqLength, imWidth,
 * imHeight and imDir.  The frames are the images under the sequence's
 * imDir (img1/ by default), in name order, when there are 1 to 100 (a
 * task's attachments), else a video file in the sequence's folder, else,
 * with image_base, the URLs image_base/SEQ/img1/000001.jpg...; a sequence
 * with none of these is a bad item.
 *
 * Each line of gt.txt is "frame,id,x,y,width,height[,conf[,class[,vis...]]]"
 * (commas or spaces): frame from 1, id a whole number >= 0, the box in
 * pixels.  A row whose conf is 0 (MOT's "ignore this box") is left out.
 * The 8th number is the class: classes.txt in the source ("N,name" or a
 * name a line, from 1) names it; without it, or for -1, a class that is
 * one of the project's label names as a number, else the project's first
 * label.  A malformed line (too few numbers, not a number, a value over
 * 63 characters, a frame below
 * 1, an id below 0, a box without area or beyond 10^7 px) makes its
 * sequence a bad item
 * naming "FILE:LINE".  Boxes are clipped to the frame (MOT boxes may start
 * left of or above it); a box wholly outside is left out.
 *
 * Each id is one track of boxes; its label is that of its first row.
 * Keyframes: the frames given, reduced: a frame is dropped when the
 * straight line between the kept keyframes around it passes within 0.5 px
 * of it and of every frame dropped before (as aggregate does), with a
 * keyframe at least every 256 frames; a gap in the frames, and the end of
 * the rows before the sequence's end, is an outside keyframe.  The task:
 * unique_id the sequence's name, data.frames (seqLength, else the last
 * frame), data.fps, data.width and data.height when known. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"

/* The tolerance of the keyframe reduction, in pixels, and its window. */
#define REDUCE_PX     0.5
#define REDUCE_WINDOW 256
/* Image attachments a task may have (tasks.c). */
#define MAX_IMAGES 100
/* Frames a videoannotation task may have (kind_videoannotation.c). */
#define MAX_FRAMES 1000000

typedef struct row {
    long long frame, id;
    double x, y, w, h;
    int cls;   /* the 8th number, or -1 */
    size_t at; /* line */
} row;

static int by_id_frame(const void *a, const void *b)
{
    const row *p = a, *q = b;
    if (p->id != q->id) return p->id < q->id ? -1 : 1;
    if (p->frame != q->frame) return p->frame < q->frame ? -1 : 1;
    return (p->at > q->at) - (p->at < q->at);
}

/* The next number of s (commas, spaces and tabs separate them); 1 when
 * read, 0 at the end of the line, -1 when what is there is not a number,
 * -2 when it is longer than any number written (63 characters), rather
 * than read as two numbers, which would shift the columns after it. */
static int next_number(const char **s, const char *end, double *out)
{
    const char *p = *s;
    while (p < end && (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r')) p++;
    if (p >= end) return 0;
    char buf[64];
    size_t n = 0;
    while (p < end && *p != ',' && *p != ' ' && *p != '\t' && *p != '\r') {
        if (n == sizeof buf - 1) return -2;
        buf[n++] = *p++;
    }
    buf[n] = 0;
    *s = p;
    char *stop;
    *out = strtod(buf, &stop);
    return *stop || !n || !isfinite(*out) ? -1 : 1;
}

/* The directory part of name with its trailing "/" ("" for none), into b. */
static void dir_of(lp_buf *b, const char *name)
{
    const char *slash = strrchr(name, '/');
    b->len = 0;
    lp_buf_append(b, name, slash ? (size_t)(slash - name + 1) : 0);
    lp_buf_puts(b, "");
}

/* The value of key in an ini text (key=value lines), copied into out (n
 * bytes); 1 when found. */
static int ini_get(const lp_src_text *ini, const char *key, char *out, size_t n)
{
    if (!ini) return 0;
    const char *s = ini->data, *end = ini->data + ini->len;
    size_t klen = strlen(key);
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        while (s < e && isspace((unsigned char)*s)) s++;
        if ((size_t)(e - s) > klen && strncasecmp(s, key, klen) == 0) {
            const char *v = s + klen;
            while (v < e && (*v == ' ' || *v == '\t')) v++;
            if (v < e && *v == '=') {
                v++;
                while (v < e && isspace((unsigned char)*v)) v++;
                const char *ve = e;
                while (ve > v && isspace((unsigned char)ve[-1])) ve--;
                size_t len = (size_t)(ve - v) < n - 1 ? (size_t)(ve - v) : n - 1;
                memcpy(out, v, len);
                out[len] = 0;
                return 1;
            }
        }
        s = nl ? nl + 1 : end;
    }
    return 0;
}

static double ini_number(const lp_src_text *ini, const char *key)
{
    char v[64];
    if (!ini_get(ini, key, v, sizeof v)) return 0;
    char *stop;
    double x = strtod(v, &stop);
    return *stop || !isfinite(x) || x <= 0 ? 0 : x;
}

/* classes.txt: class N (from 1) -> name, as a JSON object keyed "N". */
static json_t *read_classes(const lp_src *src)
{
    json_t *map = json_object();
    for (size_t i = 0; i < src->ntexts; i++) {
        const char *base = strrchr(src->texts[i].name, '/');
        base = base ? base + 1 : src->texts[i].name;
        if (strcmp(base, "classes.txt") != 0) continue;
        const char *s = src->texts[i].data, *end = s + src->texts[i].len;
        long line = 0;
        while (s < end) {
            const char *nl = memchr(s, '\n', (size_t)(end - s));
            const char *e = nl ? nl : end;
            while (e > s && isspace((unsigned char)e[-1])) e--;
            line++;
            size_t len = e > s ? (size_t)(e - s) : 0;
            const char *comma = memchr(s, ',', len);
            char key[32];
            long n = line;
            if (comma) {
                char *stop;
                n = strtol(s, &stop, 10);
                if (stop != comma) n = line;
                s = comma + 1;
            }
            snprintf(key, sizeof key, "%ld", n);
            if (e > s)
                json_object_set_new(map, key,
                                    json_stringn(s, (size_t)(e - s))); /* NULL: not UTF-8 */
            s = nl ? nl + 1 : end;
        }
        break;
    }
    return map;
}

/* The label of class cls: see the file comment.  Borrowed. */
static const char *label_of(const lp_convert *c, const json_t *classes, int cls)
{
    char key[32];
    snprintf(key, sizeof key, "%d", cls);
    const char *name = json_string_value(json_object_get(classes, key));
    if (cls >= 0 && name && json_is_string(json_object_get(classes, key))) return name;
    if (cls >= 0 && lp_convert_has_label(c, key)) {
        const json_t *l;
        size_t i;
        json_array_foreach(json_object_get(c->project->params, "labels"), i, l)
        {
            const char *n = json_is_string(l) ? json_string_value(l)
                                              : json_string_value(json_object_get(l, "name"));
            if (n && strcmp(n, key) == 0) return n;
        }
    }
    const json_t *first = json_array_get(json_object_get(c->project->params, "labels"), 0);
    name = json_is_string(first) ? json_string_value(first)
                                 : json_string_value(json_object_get(first, "name"));
    return name ? name : "";
}

/* A keyframe of a box. */
static json_t *box_key(long long frame, const row *r)
{
    return json_pack("{s:I, s:f, s:f, s:f, s:f}", "frame", (json_int_t)frame, "x", r->x, "y", r->y,
                     "width", r->w, "height", r->h);
}

/* 1 when every row of r[from+1 .. to-1] lies within REDUCE_PX of the
 * straight line from r[from] to r[to]. */
static int fits(const row *r, size_t from, size_t to)
{
    const row *a = &r[from], *b = &r[to];
    for (size_t k = from + 1; k < to; k++) {
        double u = (double)(r[k].frame - a->frame) / (double)(b->frame - a->frame);
        if (fabs(a->x + u * (b->x - a->x) - r[k].x) > REDUCE_PX ||
            fabs(a->y + u * (b->y - a->y) - r[k].y) > REDUCE_PX ||
            fabs(a->w + u * (b->w - a->w) - r[k].w) > REDUCE_PX ||
            fabs(a->h + u * (b->h - a->h) - r[k].h) > REDUCE_PX)
            return 0;
    }
    return 1;
}

/* A row's x, y, width or height (d 0..3). */
static double part(const row *r, int d)
{
    return d == 0 ? r->x : d == 1 ? r->y : d == 2 ? r->w : r->h;
}

/* The keyframes of one track's rows r[0..n) (frames 0-based, increasing). */
static json_t *track_keyframes(const row *r, size_t n, long long frames)
{
    json_t *list = json_array();
    size_t i = 0;
    while (i < n) {
        /* a run of consecutive frames r[i..j) */
        size_t j = i + 1;
        while (j < n && r[j].frame == r[j - 1].frame + 1) j++;
        /* After its last keyframe a box holds: rows at the end of the run
         * within REDUCE_PX of the one before them need no keyframe.  lo and
         * hi bound x, y, width, height over the rows dropped so far. */
        size_t last = j - 1, k = i;
        double lo[4], hi[4];
        for (int d = 0; d < 4; d++) lo[d] = hi[d] = part(&r[last], d);
        while (last > i) {
            const row *v = &r[last - 1];
            int near = 1;
            for (int d = 0; d < 4; d++)
                near = near && hi[d] - part(v, d) <= REDUCE_PX && part(v, d) - lo[d] <= REDUCE_PX;
            if (!near) break;
            last--;
            for (int d = 0; d < 4; d++)
                lo[d] = fmin(lo[d], part(v, d)), hi[d] = fmax(hi[d], part(v, d));
        }
        json_array_append_new(list, box_key(r[i].frame, &r[i]));
        while (k < last) {
            size_t end = k + 1;
            while (end + 1 <= last && end + 1 - k <= REDUCE_WINDOW && fits(r, k, end + 1)) end++;
            json_array_append_new(list, box_key(r[end].frame, &r[end]));
            k = end;
        }
        if (r[j - 1].frame + 1 < frames)
            json_array_append_new(list, json_pack("{s:I, s:b}", "frame",
                                                  (json_int_t)(r[j - 1].frame + 1), "outside", 1));
        i = j;
    }
    return list;
}

static int by_name(const void *a, const void *b)
{
    const lp_src_media *const *p = a, *const *q = b;
    return strcmp((*p)->name, (*q)->name);
}

/* The frames of a sequence in folder dir (with "/" or ""): attachments
 * into task, or 0 when there is nothing to show. *width, *height get the
 * first image's size. */
static int attach_frames(lp_convert *c, json_t *task, const char *dir, const char *imdir,
                         const char *seq, long long frames, int *width, int *height)
{
    const lp_src *s = c->src;
    const lp_src_media **im = lp_malloc((s->nmedia + 1) * sizeof *im);
    size_t n = 0, dlen = strlen(dir);
    lp_buf prefix = {0};
    lp_buf_printf(&prefix, "%s%s/", dir, imdir);
    const lp_src_media *video = NULL;
    for (size_t i = 0; i < s->nmedia; i++) {
        const lp_src_media *m = &s->media[i];
        if (strcmp(m->type, "image") == 0 && strncmp(m->name, prefix.data, prefix.len) == 0)
            im[n++] = m;
        else if (strcmp(m->type, "video") == 0 && strncmp(m->name, dir, dlen) == 0 &&
                 !strchr(m->name + dlen, '/') && !video)
            video = m;
    }
    lp_buf_fini(&prefix);
    qsort(im, n, sizeof *im, by_name);
    json_t *att = json_array();
    if (n && n <= MAX_IMAGES) {
        for (size_t i = 0; i < n; i++)
            json_array_append_new(att, json_pack("{s:s, s:s, s:s}", "type", "image", "file",
                                                 im[i]->sha, "name", im[i]->base));
        *width = im[0]->width;
        *height = im[0]->height;
    } else if (video) {
        json_array_append_new(att, json_pack("{s:s, s:s, s:s}", "type", "video", "file", video->sha,
                                             "name", video->base));
    } else if (c->image_base && frames > 0 && frames <= MAX_IMAGES) {
        for (long long f = 1; f <= frames; f++) {
            lp_buf u = {0};
            lp_buf_printf(&u, "%s%s/%s/%06lld.jpg", c->image_base, seq, imdir, f);
            json_array_append_new(att, json_pack("{s:s, s:s}", "type", "image", "url", u.data));
            lp_buf_fini(&u);
        }
    }
    free(im);
    size_t got = json_array_size(att);
    json_object_set_new(task, "attachments", att);
    return got > 0;
}

/* Reads gt.txt t into rows; 0, or -1 after reporting the sequence bad. */
static int read_rows(lp_convert *c, const lp_src_text *t, row **out, size_t *nout)
{
    const char *s = t->data, *end = t->data + t->len;
    size_t n = 0, cap = 0, line = 0;
    row *r = NULL;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        line++;
        double v[10];
        int k = 0, got;
        const char *p = s;
        while (k < 10 && (got = next_number(&p, e, &v[k])) == 1) k++;
        s = nl ? nl + 1 : end;
        if (k == 0 && got == 0) continue; /* an empty line */
        const char *why = NULL;
        if (got == -2)
            why = "a value is longer than 63 characters";
        else if (got < 0)
            why = "is not a number";
        else if (k < 6)
            why = "needs at least 6 numbers: frame,id,x,y,width,height";
        else if (v[0] < 1 || v[0] != floor(v[0]) || v[0] > 1e6)
            why = "frame must be a whole number from 1";
        else if (v[1] < 0 || v[1] != floor(v[1]) || v[1] > 1e15)
            why = "id must be a whole number from 0";
        else if (!(v[4] > 0) || !(v[5] > 0))
            why = "width and height must be greater than 0";
        else if (fabs(v[2]) > 1e6 || fabs(v[3]) > 1e6 || v[2] + v[4] > 1e6 || v[3] + v[5] > 1e6)
            why = "a box reaches beyond 1,000,000 pixels, the largest frame";
        if (why) {
            lp_convert_bad(c, "line", why, "%s:%zu", t->name, line);
            free(r);
            return -1;
        }
        if (k >= 7 && v[6] == 0) continue; /* MOT's "ignore" */
        if (n == cap) r = lp_realloc(r, (cap = cap ? 2 * cap : 64) * sizeof *r);
        r[n++] = (row){(long long)v[0] - 1,
                       (long long)v[1],
                       v[2],
                       v[3],
                       v[4],
                       v[5],
                       k >= 8 && fabs(v[7]) < 1e6 ? (int)v[7] : -1,
                       line};
    }
    *out = r;
    *nout = n;
    return 0;
}

/* Converts the sequence whose ground truth is t. */
static void sequence(lp_convert *c, const lp_src_text *t, const json_t *classes)
{
    lp_buf dir = {0}, ininame = {0};
    dir_of(&dir, t->name);
    /* gt/gt.txt: the sequence is the folder above gt/ */
    if (dir.len >= 3 && strcmp(dir.data + dir.len - 3, "gt/") == 0 &&
        (dir.len == 3 || dir.data[dir.len - 4] == '/')) {
        dir.len -= 3;
        dir.data[dir.len] = 0;
    }
    lp_buf_printf(&ininame, "%sseqinfo.ini", dir.data);
    const lp_src_text *ini = lp_src_find(c->src, ininame.data);
    char name[256], imdir[128];
    if (!ini_get(ini, "name", name, sizeof name)) {
        if (dir.len > 1) {
            snprintf(name, sizeof name, "%.*s", (int)dir.len - 1, dir.data);
        } else {
            snprintf(name, sizeof name, "%s", t->name);
        }
    }
    if (!ini_get(ini, "imDir", imdir, sizeof imdir) || !imdir[0] || strchr(imdir, '/'))
        snprintf(imdir, sizeof imdir, "img1");
    row *r = NULL;
    size_t n = 0;
    if (read_rows(c, t, &r, &n)) goto done;
    double len = ini_number(ini, "seqLength");
    long long frames = len > MAX_FRAMES ? MAX_FRAMES : (long long)len, last = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].frame + 1 > last) last = r[i].frame + 1;
    if (frames < last) frames = last;
    if (frames < 1) frames = 1;
    double W = ini_number(ini, "imWidth"), H = ini_number(ini, "imHeight");
    if (!(W >= 1 && W <= 1e6 && H >= 1 && H <= 1e6)) W = H = 0; /* a size the kind takes */
    /* a name that is not UTF-8 (or holds a NUL) falls back to the file's */
    json_t *uid = json_stringn(name, strlen(name));
    if (!uid) uid = json_string(t->name);
    if (!uid) uid = json_string("sequence");
    json_t *task = json_object();
    json_object_set_new(task, "unique_id", uid);
    int iw = 0, ih = 0;
    if (!attach_frames(c, task, dir.data, imdir, name, frames, &iw, &ih)) {
        json_decref(task);
        lp_convert_bad(c, "attachments",
                       "has no frames: put the images in IMDIR/ (1 to 100 of them) or a video "
                       "beside gt/, or give image_base",
                       "%s", t->name);
        goto done;
    }
    if (!W && iw > 0 && ih > 0) W = iw, H = ih;
    json_t *data = json_pack("{s:I}", "frames", (json_int_t)frames);
    double fps = ini_number(ini, "frameRate");
    if (fps >= 1e-3 && fps <= 1000) json_object_set_new(data, "fps", json_real(fps));
    if (W > 0 && H > 0) {
        json_object_set_new(data, "width", json_real(W));
        json_object_set_new(data, "height", json_real(H));
    }
    json_object_set_new(task, "data", data);
    /* Clip to the frame; drop boxes wholly outside it. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        row x = r[i];
        double x2 = x.x + x.w, y2 = x.y + x.h;
        x.x = fmax(x.x, 0);
        x.y = fmax(x.y, 0);
        if (W > 0) x2 = fmin(x2, W);
        if (H > 0) y2 = fmin(y2, H);
        x.w = x2 - x.x;
        x.h = y2 - x.y;
        if (x.w > 0 && x.h > 0) r[m++] = x;
    }
    n = m;
    if (n) qsort(r, n, sizeof *r, by_id_frame);
    json_t *tracks = json_array();
    for (size_t i = 0; i < n;) {
        size_t j = i, k = i + 1;
        /* one row per frame: a repeated frame keeps its first row */
        for (size_t q = i + 1; q < n && r[q].id == r[i].id; q++)
            if (r[q].frame != r[k - 1].frame) r[k++] = r[q];
        while (j < n && r[j].id == r[i].id) j++;
        json_array_append_new(tracks,
                              json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)r[i].id, "label",
                                        label_of(c, classes, r[i].cls), "shape", "box", "keyframes",
                                        track_keyframes(r + i, k - i, frames)));
        i = j;
    }
    lp_convert_task(c, task, json_pack("{s:o}", "tracks", tracks), -1, "%s", t->name);
done:
    free(r);
    lp_buf_fini(&dir);
    lp_buf_fini(&ininame);
}

static int mot_run(lp_convert *c, lp_verr *e)
{
    (void)e;
    json_t *classes = read_classes(c->src);
    size_t found = 0;
    for (size_t i = 0; i < c->src->ntexts; i++) {
        const char *base = strrchr(c->src->texts[i].name, '/');
        base = base ? base + 1 : c->src->texts[i].name;
        if (strcmp(base, "gt.txt") != 0) continue;
        sequence(c, &c->src->texts[i], classes);
        found++;
    }
    if (!found && c->src->ntexts == 1) sequence(c, &c->src->texts[0], classes);
    json_decref(classes);
    return 0;
}

static const char *const mot_kinds[] = {"videoannotation", NULL};

const lp_converter lp_convert_mot = {
    .name = "mot",
    .summary = "MOT challenge sequences (SEQ/gt/gt.txt, seqinfo.ini, img1/ frames or a video): a "
               "task per sequence, a track per id",
    .kinds = mot_kinds,
    .run = mot_run,
};
