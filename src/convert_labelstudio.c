/* convert_labelstudio.c -- Label Studio's JSON export read into Loupe
 * tasks, so a team moving over keeps its data, its labels and its history.
 *
 * Reads the full JSON export ("JSON" in Label Studio's export dialog): an
 * array of tasks {id, data, meta?, annotations: [{id, result, completed_by,
 * created_at, updated_at, lead_time, was_cancelled, ground_truth}],
 * predictions: [{result, score, model_version}]}; also NDJSON (one task a
 * line) and a single task object, and "completions" for "annotations" (the
 * name before Label Studio 1.0).  Every text file of the source that starts
 * with "[" or "{" is read (a zip may hold the export and its images).
 * JSON-MIN and CSV exports are refused: they drop the regions' geometry
 * and the history.
 *
 * A task becomes one Loupe task:
 *  - data: Label Studio's data as it is (data.text stays data.text), except
 *    that data.image (or the first data value naming an image file; for a
 *    transcription data.audio, data.video, data.image, or the first value
 *    naming such a file) becomes the attachment: a file of the source with
 *    that path or last
 *    segment (an upload "/data/upload/3/1a2b3c4d-cat.jpg" is also looked up
 *    without Label Studio's 8-hex prefix, as "cat.jpg"; a local storage
 *    file "/data/local-files/?d=imgs/cat.jpg" as "imgs/cat.jpg"), else the
 *    URL when
 *    it is http(s), else image_base + the path.  Image projects get
 *    data.width/height from the regions' original_width/original_height
 *    (else the image file's header).  Label Studio's meta goes to metadata.
 *  - unique_id "labelstudio:<task id>", so importing the export twice gives
 *    duplicates, not copies.
 *  - Which annotation becomes the labels: of the annotations not cancelled,
 *    the ground truth first, then the latest (created_at, then id).  With
 *    as=results that one is the task's result (the task is completed) and
 *    the task's Label Studio predictions become Loupe predictions.  With
 *    as=predictions (the default) the Label Studio predictions become
 *    predictions (model: model_version, else the import's model, else
 *    "import:labelstudio"; score as given), or, when the task has none, its
 *    annotations do (not cancelled, in the order above, under the import's
 *    model).
 *  - History: metadata.labelstudio_annotations lists every annotation of
 *    the task, cancelled ones too, with id, completed_by, created_at,
 *    updated_at, lead_time, was_cancelled and ground_truth as Label Studio
 *    wrote them, and either "imported_as" ("result" or "prediction") or,
 *    for one that was not imported, its "result" verbatim.  Drafts and the
 *    task's own timestamps are left out.
 *
 * Regions, by project kind (coordinates are percents of the image, offsets
 * UTF-16 code units as in JavaScript strings):
 *  - imageannotation: rectanglelabels -> box (x, y, width, height times
 *    original_width/original_height / 100; a rotated one is refused:
 *    Loupe's boxes are axis-aligned), polygonlabels -> polygon,
 *    keypointlabels -> point.  One shape per label of the region.
 *  - categorization: choices -> labels (every choices region's, once each).
 *  - namedentityrecognition: labels -> spans on data.text, offsets turned
 *    into code points (an emoji is 2 UTF-16 units and 1 code point; an
 *    offset inside a surrogate pair is refused), one span per label, the
 *    region's text kept so the kind checks the slice; relation (from_id,
 *    to_id, labels; direction "left" swaps, "bi" gives both) -> relations.
 *  - transcription: textarea -> the text (its lines joined by newlines);
 *    with segments, per-region textareas (value.start/end in seconds) ->
 *    segments sorted by start, the speaker from the labels region of the
 *    same id.
 *  - textcollection: textarea -> the text (its lines joined by newlines),
 *    or with fields the field named like the region's from_name (the only
 *    field when there is one).
 *  - rating: rating -> ratings[criterion named like from_name, or the only
 *    criterion].
 * Comparison and ranking are not read: Label Studio's pairwise and ranker
 * regions name no responses of a Loupe comparison task.  Any other region
 * (brushes, ellipses, a choices region in an image project) makes its task
 * a bad item naming tasks[i].annotations[j].result[k]: a row is all in or
 * all out, so it is reported rather than imported without part of its
 * labels.  What the kinds check (labels in the project, shapes inside the
 * image, a span's text matching its slice) is left to them. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "labelstudio.h"

#define MAX_PREDICTIONS 100 /* the task import's limit */

/* One task's conversion: what the regions need, and the first error. */
typedef struct ls_task {
    lp_convert *c;
    const char *kind;
    const char *text; /* NER: data.text */
    size_t text_len;
    double width, height; /* the image's size (0: unknown) */
    int size_known;       /* width and height are the task's own: they win over a region's */
    char field[256];      /* the bad region */
    char msg[512];
} ls_task;

static int bad(ls_task *t, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(ls_task *t, const char *field, const char *fmt, ...)
{
    va_list ap;
    snprintf(t->field, sizeof t->field, "%s", field);
    va_start(ap, fmt);
    vsnprintf(t->msg, sizeof t->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static double num(const json_t *obj, const char *key, double dflt)
{
    double v;
    return lp_json_number(json_object_get(obj, key), &v) ? dflt : v;
}

/* A percent of size in pixels; within a millionth of a pixel of an edge it
 * is the edge, so a box Label Studio drew to the border stays inside. */
static double px(double pct, double size)
{
    double v = pct * size / 100;
    if (fabs(v - size) < 1e-6) return size;
    if (fabs(v) < 1e-6) return 0;
    return v;
}

/* A pixel value: an integer when it is one (320, not 320.0). */
static json_t *pixels(double v)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0) return json_integer((json_int_t)v);
    return json_real(v);
}

/* The labels of a region's value[key] (borrowed), or -1 with the error. */
static int region_labels(ls_task *t, const json_t *value, const char *key, const char *at,
                         const json_t **out)
{
    const json_t *l = json_object_get(value, key);
    if (!json_is_array(l) || json_array_size(l) == 0)
        return bad(t, at, "value.%s: is missing or empty; a region needs a label", key);
    for (size_t i = 0; i < json_array_size(l); i++)
        if (!json_is_string(json_array_get(l, i)))
            return bad(t, at, "value.%s[%zu]: is not a string", key, i);
    *out = l;
    return 0;
}

/* The image size a region's percents are of: its original_width/height,
 * else the task's. */
static int region_size(ls_task *t, const json_t *r, const char *at, double *w, double *h)
{
    /* Percents are of the image whatever its size: a backend that looked at
     * a smaller copy still means the same place on the task's image. */
    *w = t->size_known ? t->width : num(r, "original_width", t->width);
    *h = t->size_known ? t->height : num(r, "original_height", t->height);
    if (*w > 0 && *h > 0) return 0;
    return bad(t, at,
               "has no original_width/original_height and the image's size is not known (not "
               "in the source's files), so its percents cannot become pixels");
}

static json_t *shape(const char *type, const char *label, const json_t *id)
{
    json_t *a = json_pack("{s:s, s:s}", "type", type, "label", label);
    if (json_is_string(id) && json_string_length(id)) json_object_set(a, "id", (json_t *)id);
    return a;
}

/* One image region: its shapes appended to anns. */
static int image_region(ls_task *t, const json_t *r, const char *type, const char *at, json_t *anns)
{
    const json_t *v = json_object_get(r, "value"), *labels;
    const char *key = !strcmp(type, "rectanglelabels") ? "rectanglelabels"
                      : !strcmp(type, "polygonlabels") ? "polygonlabels"
                                                       : "keypointlabels";
    double w, h;
    if (region_labels(t, v, key, at, &labels) || region_size(t, r, at, &w, &h)) return -1;
    const json_t *id = json_object_get(r, "id");
    /* Several labels on one region: the shape once per label, each its
     * own id (Loupe's ids are unique in a response). */
    int many = json_array_size(labels) > 1;
    for (size_t i = 0; i < json_array_size(labels); i++) {
        const char *label = json_string_value(json_array_get(labels, i));
        json_t *sid = NULL;
        if (many && json_is_string(id)) sid = json_sprintf("%s-%zu", json_string_value(id), i + 1);
        json_t *a = shape(key[0] == 'r'   ? "box"
                          : key[0] == 'p' ? "polygon"
                                          : "point",
                          label, sid ? sid : id);
        json_decref(sid);
        if (key[0] == 'r') {
            double x = num(v, "x", NAN), y = num(v, "y", NAN), bw = num(v, "width", NAN),
                   bh = num(v, "height", NAN), rot = num(v, "rotation", 0);
            if (isnan(x) || isnan(y) || isnan(bw) || isnan(bh)) {
                json_decref(a);
                return bad(t, at, "value: needs numbers x, y, width and height");
            }
            if (fmod(fabs(rot), 360) > 1e-9) {
                json_decref(a);
                return bad(t, at,
                           "is rotated by %g degrees; Loupe's boxes are axis-aligned, so a "
                           "rotated rectangle is not imported",
                           rot);
            }
            double x0 = px(x, w), y0 = px(y, h);
            json_object_set_new(a, "x", pixels(x0));
            json_object_set_new(a, "y", pixels(y0));
            json_object_set_new(a, "width", pixels(px(x + bw, w) - x0));
            json_object_set_new(a, "height", pixels(px(y + bh, h) - y0));
        } else if (key[0] == 'p') {
            const json_t *pts = json_object_get(v, "points");
            json_t *vs = json_array();
            json_object_set_new(a, "vertices", vs);
            for (size_t k = 0; json_is_array(pts) && k < json_array_size(pts); k++) {
                const json_t *pt = json_array_get(pts, k);
                double px_, py_;
                if (!json_is_array(pt) || json_array_size(pt) != 2 ||
                    lp_json_number(json_array_get(pt, 0), &px_) ||
                    lp_json_number(json_array_get(pt, 1), &py_)) {
                    json_decref(a);
                    return bad(t, at, "value.points[%zu]: is not an [x, y] pair of numbers", k);
                }
                json_array_append_new(
                    vs, json_pack("{s:o, s:o}", "x", pixels(px(px_, w)), "y", pixels(px(py_, h))));
            }
            if (!json_is_array(pts)) {
                json_decref(a);
                return bad(t, at, "value.points: is missing");
            }
        } else {
            double x = num(v, "x", NAN), y = num(v, "y", NAN);
            if (isnan(x) || isnan(y)) {
                json_decref(a);
                return bad(t, at, "value: needs numbers x and y");
            }
            json_object_set_new(a, "x", pixels(px(x, w)));
            json_object_set_new(a, "y", pixels(px(y, h)));
        }
        json_array_append_new(anns, a);
    }
    return 0;
}

/* The code-point offset of UTF-16 offset u16 in t->text; -1 when it is
 * past the end or splits a surrogate pair. */
static long utf16_to_cp(const ls_task *t, double u16)
{
    /* A text has no more UTF-16 units than UTF-8 bytes. */
    if (!(u16 >= 0) || u16 != floor(u16) || u16 > (double)t->text_len) return -1;
    long want = (long)u16, u = 0, cp = 0;
    const unsigned char *s = (const unsigned char *)t->text;
    for (size_t i = 0; i < t->text_len; cp++) {
        if (u == want) return cp;
        if (u > want) return -1;
        unsigned char b = s[i];
        size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        u += n == 4 ? 2 : 1; /* outside the BMP: a surrogate pair */
        i += n;
    }
    return u == want ? cp : -1;
}

/* One labels region: its spans appended; ids[k] is the region id of span k. */
static int ner_region(ls_task *t, const json_t *r, const char *at, json_t *spans, json_t *ids)
{
    const json_t *v = json_object_get(r, "value"), *labels;
    if (region_labels(t, v, "labels", at, &labels)) return -1;
    if (!t->text) return bad(t, at, "labels a text, but the task has no data.text");
    double s16 = num(v, "start", NAN), e16 = num(v, "end", NAN);
    long s = utf16_to_cp(t, s16), e = utf16_to_cp(t, e16);
    if (s < 0 || e < 0)
        return bad(t, at,
                   "value.start/end (%g, %g): not offsets of data.text (%zu code points), "
                   "counted in UTF-16 units as Label Studio does",
                   s16, e16, lp_utf8_len(t->text, t->text_len));
    const json_t *text = json_object_get(v, "text");
    for (size_t i = 0; i < json_array_size(labels); i++) {
        json_t *sp = json_pack("{s:I, s:I, s:O}", "start", (json_int_t)s, "end", (json_int_t)e,
                               "label", json_array_get(labels, i));
        if (json_is_string(text)) json_object_set(sp, "text", (json_t *)text);
        json_array_append_new(spans, sp);
        json_t *id = json_object_get(r, "id");
        json_array_append(ids, id ? id : json_null());
    }
    return 0;
}

static long span_of(const json_t *ids, const json_t *id)
{
    for (size_t k = 0; json_is_string(id) && k < json_array_size(ids); k++)
        if (json_equal(json_array_get(ids, k), (json_t *)id)) return (long)k;
    return -1;
}

static int ner_relation(ls_task *t, const json_t *r, const char *at, const json_t *ids,
                        json_t *rels)
{
    long from = span_of(ids, json_object_get(r, "from_id")),
         to = span_of(ids, json_object_get(r, "to_id"));
    if (from < 0 || to < 0)
        return bad(t, at, "from_id/to_id: name no labels region of this annotation");
    const json_t *labels = json_object_get(r, "labels");
    if (!json_is_array(labels) || !json_array_size(labels))
        return bad(t, at, "labels: a relation needs a label in Loupe");
    const char *dir = json_string_value(json_object_get(r, "direction"));
    for (size_t i = 0; i < json_array_size(labels); i++) {
        const json_t *l = json_array_get(labels, i);
        if (!json_is_string(l)) return bad(t, at, "labels[%zu]: is not a string", i);
        if (!dir || strcmp(dir, "left"))
            json_array_append_new(rels, json_pack("{s:I, s:I, s:O}", "from", (json_int_t)from, "to",
                                                  (json_int_t)to, "label", l));
        if (dir && (!strcmp(dir, "left") || !strcmp(dir, "bi")))
            json_array_append_new(rels, json_pack("{s:I, s:I, s:O}", "from", (json_int_t)to, "to",
                                                  (json_int_t)from, "label", l));
    }
    return 0;
}

/* The name of params[list] that name is, else the only one, else name. */
static const char *named(const lp_convert *c, const char *list, const char *name)
{
    const json_t *l = json_object_get(c->project->params, list);
    for (size_t i = 0; name && i < json_array_size(l); i++) {
        const char *n = json_string_value(json_object_get(json_array_get(l, i), "name"));
        if (n && !strcmp(n, name)) return n;
    }
    if (json_array_size(l) == 1)
        return json_string_value(json_object_get(json_array_get(l, 0), "name"));
    return name;
}

/* A textarea region's text: its lines joined by newlines (new). */
static json_t *textarea(ls_task *t, const json_t *v, const char *at)
{
    const json_t *x = json_object_get(v, "text");
    if (json_is_string(x)) return json_copy((json_t *)x);
    if (!json_is_array(x)) return bad(t, at, "value.text: is not a list of strings"), NULL;
    lp_buf b = {0};
    for (size_t i = 0; i < json_array_size(x); i++) {
        const char *s = json_string_value(json_array_get(x, i));
        if (!s) {
            lp_buf_fini(&b);
            return bad(t, at, "value.text[%zu]: is not a string", i), NULL;
        }
        lp_buf_printf(&b, "%s%s", i ? "\n" : "", s);
    }
    json_t *out = json_stringn(b.data ? b.data : "", b.len);
    lp_buf_fini(&b);
    return out;
}

/* A per-region textarea of an audio or video (value.start/end in
 * seconds) as a segment, inserted in segs by start; its speaker is the
 * label of the labels region of the same id (in speakers). */
static int segment(ls_task *t, const json_t *r, const char *at, const json_t *speakers,
                   json_t *segs)
{
    const json_t *v = json_object_get(r, "value");
    double start = num(v, "start", NAN), end = num(v, "end", NAN);
    if (isnan(start) || isnan(end))
        return bad(t, at,
                   "value.start/end: missing; a project with segments reads per-region "
                   "textareas (start and end in seconds)");
    json_t *text = textarea(t, v, at);
    if (!text) return -1;
    json_t *sg = json_pack("{s:f, s:f, s:o}", "start", start, "end", end, "text", text);
    const char *id = json_string_value(json_object_get(r, "id"));
    const json_t *who = id ? json_object_get(speakers, id) : NULL;
    if (who) json_object_set(sg, "speaker", (json_t *)who);
    size_t k = json_array_size(segs);
    while (k > 0 && num(json_array_get(segs, k - 1), "start", 0) > start) k--;
    json_array_insert_new(segs, k, sg);
    return 0;
}

/* Turns a Label Studio result (its regions) into the project kind's
 * response: 0 and *out (NULL for an empty result of a kind whose empty
 * response means nothing), or -1 with t->field/msg naming the region. */
static int convert_result(ls_task *t, const json_t *result, const char *path, json_t **out)
{
    *out = NULL;
    if (!json_is_array(result)) return bad(t, path, "result: is not a list of regions");
    const char *kind = t->kind;
    int image = !strcmp(kind, "imageannotation"), ner = !strcmp(kind, "namedentityrecognition"),
        tr = !strcmp(kind, "transcription"),
        segs = tr && json_is_true(json_object_get(t->c->project->params, "segments"));
    if (json_array_size(result) == 0 && !image && !ner) return 0;
    json_t *items = json_array(), *rels = json_array(), *ids = json_array(), *obj = json_object();
    int rc = 0;
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        for (size_t k = 0; k < json_array_size(result) && rc == 0; k++) {
            char at[256];
            snprintf(at, sizeof at, "%s.result[%zu]", path, k);
            const json_t *r = json_array_get(result, k), *v = json_object_get(r, "value");
            const char *type = json_string_value(json_object_get(r, "type"));
            if (!type) {
                if (pass == 0) rc = bad(t, at, "is not a region: it has no \"type\"");
                continue;
            }
            if (ner && !strcmp(type, "relation")) {
                if (pass == 1) rc = ner_relation(t, r, at, ids, rels);
                continue;
            }
            if (segs && !strcmp(type, "textarea")) { /* after the speakers */
                if (pass == 1) rc = segment(t, r, at, obj, items);
                continue;
            }
            if (pass == 1) continue;
            if (!json_is_object(v)) {
                rc = bad(t, at, "value: is not an object");
                continue;
            }
            if (image && (!strcmp(type, "rectanglelabels") || !strcmp(type, "polygonlabels") ||
                          !strcmp(type, "keypointlabels"))) {
                rc = image_region(t, r, type, at, items);
            } else if (ner && !strcmp(type, "labels")) {
                rc = ner_region(t, r, at, items, ids);
            } else if (!strcmp(kind, "categorization") && !strcmp(type, "choices")) {
                const json_t *ch;
                if ((rc = region_labels(t, v, "choices", at, &ch)) == 0)
                    for (size_t i = 0; i < json_array_size(ch); i++) {
                        size_t j;
                        json_t *have;
                        int dup = 0;
                        json_array_foreach(items, j, have) dup |=
                            json_equal(have, json_array_get(ch, i));
                        if (!dup) json_array_append(items, json_array_get(ch, i));
                    }
            } else if (segs && !strcmp(type, "labels")) {
                const json_t *who;
                const char *id = json_string_value(json_object_get(r, "id"));
                if ((rc = region_labels(t, v, "labels", at, &who)) == 0 && id)
                    json_object_set(obj, id, json_array_get(who, 0));
            } else if (tr && !strcmp(type, "textarea")) {
                json_t *s = textarea(t, v, at);
                if (s)
                    json_array_append_new(items, s);
                else
                    rc = -1;
            } else if (!strcmp(kind, "textcollection") && !strcmp(type, "textarea")) {
                json_t *s = textarea(t, v, at);
                if (!s) {
                    rc = -1;
                } else if (json_array_size(json_object_get(t->c->project->params, "fields"))) {
                    const char *f =
                        named(t->c, "fields", json_string_value(json_object_get(r, "from_name")));
                    json_object_set_new(obj, f ? f : "", s);
                } else {
                    json_array_append_new(items, s);
                }
            } else if (!strcmp(kind, "rating") && !strcmp(type, "rating")) {
                double score;
                const char *f =
                    named(t->c, "criteria", json_string_value(json_object_get(r, "from_name")));
                if (lp_json_number(json_object_get(v, "rating"), &score))
                    rc = bad(t, at, "value.rating: is not a number");
                else
                    json_object_set_new(obj, f ? f : "", json_real(score));
            } else {
                rc = bad(t, at, "a \"%s\" region, which a %s project cannot take (%s)", type, kind,
                         image ? "it reads rectanglelabels, polygonlabels and keypointlabels"
                         : ner ? "it reads labels and relation"
                         : !strcmp(kind, "categorization") ? "it reads choices"
                         : !strcmp(kind, "textcollection") ? "it reads textarea"
                         : segs                            ? "it reads textarea and labels"
                         : tr                              ? "it reads textarea"
                                                           : "it reads rating");
            }
        }
    }
    if (rc == 0) {
        if (image) {
            *out = json_pack("{s:O}", "annotations", items);
        } else if (ner) {
            *out = json_pack("{s:O}", "spans", items);
            if (json_array_size(rels)) json_object_set(*out, "relations", rels);
        } else if (!strcmp(kind, "categorization")) {
            *out = json_pack("{s:O}", "labels", items);
        } else if (segs) {
            *out = json_pack("{s:O}", "segments", items);
        } else if (!strcmp(kind, "textcollection") && json_object_size(obj)) {
            *out = json_pack("{s:O}", "fields", obj);
        } else if (!strcmp(kind, "textcollection") || tr) {
            lp_buf b = {0};
            for (size_t i = 0; i < json_array_size(items); i++)
                lp_buf_printf(&b, "%s%s", i ? "\n" : "",
                              json_string_value(json_array_get(items, i)));
            *out = json_pack("{s:s%}", "text", b.data ? b.data : "", b.len);
            lp_buf_fini(&b);
        } else {
            *out = json_pack("{s:O}", "ratings", obj);
        }
    }
    json_decref(items);
    json_decref(rels);
    json_decref(ids);
    json_decref(obj);
    return rc;
}

/* 1 if annotation a is preferred to b: ground truth, then the latest. */
static int preferred(const json_t *a, const json_t *b)
{
    int ga = json_is_true(json_object_get(a, "ground_truth")),
        gb = json_is_true(json_object_get(b, "ground_truth"));
    if (ga != gb) return ga;
    const char *ca = json_string_value(json_object_get(a, "created_at")),
               *cb = json_string_value(json_object_get(b, "created_at"));
    int c = strcmp(ca ? ca : "", cb ? cb : "");
    if (c) return c > 0;
    return num(a, "id", 0) > num(b, "id", 0);
}

/* The media a task's data names: data.image (for a transcription also
 * data.audio, then data.video), else the first string value naming such a
 * file by its extension; *key and *type receive its key and type. */
static const char *media_of(const json_t *data, int any, const char **key, const char **type)
{
    static const char *const keys[] = {"audio", "video", "image"};
    const char *k;
    const json_t *v;
    for (size_t i = any ? 0 : 2; i < 3; i++)
        if (json_is_string(json_object_get(data, keys[i]))) {
            *key = *type = keys[i];
            return json_string_value(json_object_get(data, keys[i]));
        }
    json_object_foreach((json_t *)data, k, v)
    {
        const char *s = json_string_value(v);
        const char *mt = s ? lp_media_type(s, strcspn(s, "?#")) : NULL;
        if (mt &&
            (!strcmp(mt, "image") || (any && (!strcmp(mt, "audio") || !strcmp(mt, "video"))))) {
            *key = k, *type = mt;
            return s;
        }
    }
    return NULL;
}

/* The image attachment of path (see the file comment), or NULL. */
static json_t *attach_image(lp_convert *c, const char *path, int *w, int *h)
{
    /* Label Studio's local storage serves "/data/local-files/?d=DIR/NAME". */
    const char *d = strstr(path, "/data/local-files/?d=");
    if (d) path = d + strlen("/data/local-files/?d=");
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    /* Label Studio stores an upload as "<8 hex>-<its name>". */
    if (!lp_src_find_media(c->src, path) && strlen(base) > 9 && base[8] == '-' &&
        strspn(base, "0123456789abcdef") == 8 && lp_src_find_media(c->src, base + 9))
        return lp_convert_image(c, base + 9, NULL, w, h);
    return lp_convert_image(c, path, path, w, h);
}

/* The first original_width/height of any region of the task's. */
static void region_dims(const json_t *lists[2], double *w, double *h)
{
    for (int l = 0; l < 2; l++) {
        size_t i;
        const json_t *a;
        json_array_foreach(lists[l], i, a)
        {
            size_t k;
            const json_t *r;
            json_array_foreach(json_object_get(a, "result"), k, r)
            {
                double rw = num(r, "original_width", 0), rh = num(r, "original_height", 0);
                if (rw > 0 && rh > 0) {
                    *w = rw, *h = rh;
                    return;
                }
            }
        }
    }
}

/* (labelstudio.h) The task's size wins for an image: it is the one the
 * kind checks shapes against; the regions' original size otherwise. */
int lp_ls_response(const lp_project *p, const json_t *data, const json_t *result,
                   json_t **response, char *why, size_t whyn)
{
    lp_convert c = {.project = p};
    ls_task t = {.c = &c, .kind = p->kind->name};
    t.width = num(data, "width", 0), t.height = num(data, "height", 0);
    t.size_known = t.width > 0 && t.height > 0;
    if (!t.size_known) {
        json_t *ann = json_pack("[{s:O}]", "result", result);
        const json_t *lists[2] = {ann, NULL};
        region_dims(lists, &t.width, &t.height);
        json_decref(ann);
    }
    t.text = json_string_value(json_object_get(data, "text"));
    t.text_len = t.text ? json_string_length(json_object_get(data, "text")) : 0;
    if (convert_result(&t, result, "prediction", response) < 0) {
        snprintf(why, whyn, "%s: %s", t.field, t.msg);
        return -1;
    }
    return 0;
}

static const char *const history_keys[] = {
    "id",        "completed_by",  "created_at",   "updated_at",
    "lead_time", "was_cancelled", "ground_truth", NULL};

/* One task of file (index i): emitted, or reported as a bad item. */
static void one_task(lp_convert *c, const char *file, size_t i, const json_t *lt)
{
    char where[320], path[64], idtxt[64] = "";
    const json_t *id = json_object_get(lt, "id");
    if (json_is_integer(id))
        snprintf(idtxt, sizeof idtxt, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
    else if (json_is_string(id))
        snprintf(idtxt, sizeof idtxt, "%s", json_string_value(id));
    snprintf(where, sizeof where, "%s: tasks[%zu]%s%s", file, i, idtxt[0] ? " id " : "", idtxt);
    snprintf(path, sizeof path, "tasks[%zu]", i);
    const json_t *ldata = json_object_get(lt, "data");
    if (!json_is_object(ldata)) {
        lp_convert_bad(c, path,
                       "is not a Label Studio task: it has no \"data\" object (export with "
                       "\"JSON\", not \"JSON-MIN\")",
                       "%s", where);
        return;
    }
    ls_task t = {.c = c, .kind = c->project->kind->name};
    json_t *task = json_object(), *data = json_deep_copy(ldata), *meta = json_object();
    json_object_set_new(task, "data", data);
    if (idtxt[0]) json_object_set_new(task, "unique_id", json_sprintf("labelstudio:%s", idtxt));
    const json_t *lmeta = json_object_get(lt, "meta");
    if (json_is_object(lmeta)) json_object_update(meta, (json_t *)lmeta);

    const json_t *anns = json_object_get(lt, "annotations");
    if (!anns) anns = json_object_get(lt, "completions");
    const json_t *preds = json_object_get(lt, "predictions");
    if (!json_is_array(anns)) anns = NULL;
    if (!json_is_array(preds)) preds = NULL;
    const json_t *lists[2] = {anns, preds};

    /* The image (the audio, the video). */
    int iw = 0, ih = 0, image = !strcmp(t.kind, "imageannotation"),
        tr = !strcmp(t.kind, "transcription");
    const char *key = NULL, *mtype = NULL, *img = media_of(ldata, tr, &key, &mtype);
    if (img) {
        json_t *att = attach_image(c, img, &iw, &ih);
        if (att && json_object_get(att, "url")) /* a URL's type is by its key or extension */
            json_object_set_new(att, "type", json_string(mtype));
        if (!att && (image || tr)) {
            char f[96], m[400];
            snprintf(f, sizeof f, "%s.data.%.40s", path, key);
            snprintf(m, sizeof m,
                     "\"%.200s\" is neither a file of the source nor an http(s) URL; send the "
                     "files in a zip with the export, or give image_base",
                     img);
            lp_convert_bad(c, f, m, "%s", where);
            json_decref(task);
            json_decref(meta);
            return;
        }
        if (att) {
            json_object_set_new(task, "attachments", json_pack("[o]", att));
            json_object_del(data, key);
        }
    }
    t.width = num(data, "width", 0), t.height = num(data, "height", 0);
    region_dims(lists, &t.width, &t.height);
    if (!(t.width > 0 && t.height > 0)) t.width = iw, t.height = ih;
    if (image && t.width > 0 && t.height > 0) {
        json_object_set_new(data, "width", pixels(t.width));
        json_object_set_new(data, "height", pixels(t.height));
    }
    t.text = json_string_value(json_object_get(data, "text"));
    t.text_len = t.text ? json_string_length(json_object_get(data, "text")) : 0;

    /* The annotations, best first; the cancelled ones are not labels. */
    size_t n = anns ? json_array_size(anns) : 0, nok = 0;
    size_t *order = lp_malloc((n ? n : 1) * sizeof *order);
    for (size_t j = 0; j < n; j++) {
        const json_t *a = json_array_get(anns, j);
        if (!json_is_object(a) || json_is_true(json_object_get(a, "was_cancelled"))) continue;
        size_t k = nok++;
        while (k > 0 && preferred(a, json_array_get(anns, order[k - 1]))) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = j;
    }
    char *used = lp_malloc(n ? n : 1); /* 1: result, 2: prediction */
    memset(used, 0, n ? n : 1);
    json_t *response = NULL;
    int rc = 0;
    char apath[96];
    if (c->results && nok) {
        snprintf(apath, sizeof apath, "%s.annotations[%zu]", path, order[0]);
        rc = convert_result(&t, json_object_get(json_array_get(anns, order[0]), "result"), apath,
                            &response);
        if (rc == 0 && response) used[order[0]] = 1;
    }
    size_t npred = 0;
    for (size_t j = 0; rc == 0 && preds && j < json_array_size(preds); j++) {
        const json_t *p = json_array_get(preds, j);
        json_t *r;
        snprintf(apath, sizeof apath, "%s.predictions[%zu]", path, j);
        if ((rc = convert_result(&t, json_object_get(p, "result"), apath, &r)) < 0 || !r) continue;
        if (npred++ < MAX_PREDICTIONS)
            lp_convert_predict(c, task, json_string_value(json_object_get(p, "model_version")), r,
                               num(p, "score", -1));
        else
            json_decref(r);
    }
    for (size_t k = 0; rc == 0 && !c->results && !npred && k < nok && k < MAX_PREDICTIONS; k++) {
        json_t *r;
        snprintf(apath, sizeof apath, "%s.annotations[%zu]", path, order[k]);
        rc = convert_result(&t, json_object_get(json_array_get(anns, order[k]), "result"), apath,
                            &r);
        if (rc == 0 && r) {
            lp_convert_predict(c, task, NULL, r, -1);
            used[order[k]] = 2;
        }
    }
    if (rc < 0) {
        lp_convert_bad(c, t.field, t.msg, "%s", where);
        json_decref(response);
        json_decref(task);
        json_decref(meta);
        free(used);
        free(order);
        return;
    }
    /* The history. */
    if (n) {
        json_t *hist = json_array();
        for (size_t j = 0; j < n; j++) {
            const json_t *a = json_array_get(anns, j);
            json_t *h = json_object();
            for (size_t k = 0; history_keys[k]; k++) {
                const json_t *v = json_object_get(a, history_keys[k]);
                if (v) json_object_set(h, history_keys[k], (json_t *)v);
            }
            if (used[j])
                json_object_set_new(h, "imported_as",
                                    json_string(used[j] == 1 ? "result" : "prediction"));
            else if (json_object_get(a, "result"))
                json_object_set(h, "result", json_object_get(a, "result"));
            json_array_append_new(hist, h);
        }
        json_object_set_new(meta, "labelstudio_annotations", hist);
    }
    free(used);
    free(order);
    if (json_object_size(meta))
        json_object_set_new(task, "metadata", meta);
    else
        json_decref(meta);
    lp_convert_task(c, task, response, -1, "%s", where);
}

/* Reads one text file: an array of tasks, NDJSON or one task.  0 (also
 * when the file is not JSON-looking: *read stays 0), or LP_EINVAL. */
static int read_file(lp_convert *c, const lp_src_text *f, int *read, lp_verr *e)
{
    const char *s = f->data;
    size_t skip = strspn(s, " \t\r\n\xEF\xBB\xBF");
    if (s[skip] != '[' && s[skip] != '{') return 0;
    *read = 1;
    json_error_t err;
    json_t *doc = json_loadb(s, f->len, JSON_ALLOW_NUL, &err);
    if (doc && json_is_array(doc)) {
        size_t i, withdata = 0;
        json_t *t;
        json_array_foreach(doc, i, t) withdata += json_is_object(json_object_get(t, "data"));
        if (json_array_size(doc) && !withdata) {
            json_decref(doc);
            return lp_verr_set(e, f->name,
                               "is not a Label Studio JSON export: its items have no \"data\" "
                               "(export with \"JSON\", not \"JSON-MIN\" or CSV)");
        }
        json_array_foreach(doc, i, t) one_task(c, f->name, i, t);
        json_decref(doc);
        return 0;
    }
    if (doc && json_is_object(json_object_get(doc, "data"))) {
        one_task(c, f->name, 0, doc);
        json_decref(doc);
        return 0;
    }
    if (doc) {
        json_decref(doc);
        return lp_verr_set(e, f->name,
                           "is not a Label Studio JSON export: neither an array of tasks nor a "
                           "task (an object with \"data\")");
    }
    if (s[skip] == '[')
        return lp_verr_set(e, f->name, "is not JSON: line %d, column %d: %s", err.line, err.column,
                           err.text);
    /* NDJSON: one task a line. */
    size_t i = 0, line = 1;
    for (const char *p = s, *end = s + f->len; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (strspn(p, " \t\r") < len) {
            json_t *t = json_loadb(p, len, 0, &err);
            if (!t)
                return lp_verr_set(e, f->name, "is not JSON: line %zu, column %d: %s", line,
                                   err.column, err.text);
            one_task(c, f->name, i++, t);
            json_decref(t);
        }
        p += len + 1;
    }
    return 0;
}

static int run(lp_convert *c, lp_verr *e)
{
    int read = 0;
    for (size_t i = 0; i < c->src->ntexts; i++) {
        int rc = read_file(c, &c->src->texts[i], &read, e);
        if (rc < 0) return rc;
    }
    if (!read)
        return lp_verr_set(e, c->src->ntexts == 1 ? c->src->texts[0].name : "body",
                           "is not a Label Studio JSON export (a JSON array of tasks)");
    return 0;
}

static const char *const kinds[] = {"imageannotation",
                                    "categorization",
                                    "namedentityrecognition",
                                    "transcription",
                                    "textcollection",
                                    "rating",
                                    NULL};

const lp_converter lp_convert_labelstudio = {
    .name = "labelstudio",
    .summary = "Label Studio's JSON export: tasks, annotations (history kept) and predictions",
    .kinds = kinds,
    .run = run,
};
