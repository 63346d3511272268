/* convert_voc.c -- Pascal VOC annotations (one XML file per image, as the
 * VOC development kit, LabelImg and most tools write them) read into
 * imageannotation tasks.
 *
 * Every XML file of the source (any name; a single document sent as the
 * body too) is parsed with expat, a streaming parser: its root must be
 * <annotation>.  From it: filename (the image, looked up by that name in
 * the source's media, its folder ignored, else image_base + filename;
 * path's last segment when filename is missing), size/width and height
 * (else the image's header gives them), and each <object>: its name (the
 * label) and its bndbox.  VOC numbers pixels from 1 and a box holds its
 * corner pixels, so xmin..xmax is Loupe's x = xmin - 1, width = xmax -
 * xmin + 1, exactly the inverse of what export_voc.c writes (a box from
 * a Loupe export comes back the same); an xmin of 0 (tools that count
 * from 0) starts at the image's edge.  An object with a <polygon> (<x1>
 * <y1> <x2> <y2>... as polygon-aware VOC writers put it, or <pt><x><y>
 * points) is that polygon, its points taken as they are, when the
 * project allows polygons; else its bndbox.  truncated, difficult,
 * occluded and pose, and CVAT's <attributes><attribute><name><value>,
 * become the shape's attributes only when the project defines an
 * attribute of that name (typed by the project: boolean 1/0/true/false,
 * number, text or category); otherwise they are left out, since Loupe
 * has no place for them.
 *
 * One XML file is one task (unique_id: the image's path in the source,
 * else its filename; data.width and data.height: its size); an
 * annotation without objects is an image known to hold nothing.  A file
 * that is not well-formed XML, whose root is not <annotation>, or with an
 * object without a name or a numeric box is a bad item naming the file,
 * the line and the element; an image that cannot be found or made a URL
 * is a bad item naming filename.  Only a source with no XML file, or in
 * which no file can be read at all, is refused whole.  Images of the
 * source that no annotation names are imported as tasks without labels
 * (unlabelled, unlike an annotation with no object).  Labels the project
 * does not have and boxes outside the image are left to the kind's
 * validation (row errors). */
#include <expat.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "convert.h"

/* One file being parsed. */
typedef struct voc {
    XML_Parser xp;
    const char *file;
    int depth;
    const char *stack[8]; /* the element names down to depth 8 (their first 8) */
    lp_buf text;          /* the character data of the element being read */
    char *filename, *path;
    double width, height;
    json_t *objects; /* [{name, box: {xmin..}, poly: [x, y, ...], attrs: {}}] */
    json_t *obj;     /* the <object> being read */
    json_t *pt;      /* the <pt> being read */
    json_t *attr;    /* CVAT's <attribute> being read: {name, value} */
    lp_verr e;       /* the first error */
    int failed;
    unsigned long line; /* its line */
} voc;

static void voc_fail(voc *v, const char *field, const char *msg)
{
    if (v->failed) return;
    v->failed = 1;
    v->line = XML_GetCurrentLineNumber(v->xp);
    lp_verr_set(&v->e, field, "%s", msg);
    XML_StopParser(v->xp, XML_FALSE);
}

static int at(const voc *v, int depth, const char *name)
{
    return v->depth > depth && depth < 8 && !strcmp(v->stack[depth], name);
}

static void XMLCALL on_start(void *arg, const XML_Char *name, const XML_Char **atts)
{
    (void)atts;
    voc *v = arg;
    if (v->depth == 0 && strcmp(name, "annotation")) {
        char msg[160];
        snprintf(msg, sizeof msg, "the root element is <%.60s>, not a VOC <annotation>", name);
        voc_fail(v, "annotation", msg);
        return;
    }
    if (v->depth < 8) v->stack[v->depth] = name;
    v->depth++;
    v->text.len = 0;
    if (v->depth == 2 && !strcmp(name, "object")) {
        v->obj = json_object();
        json_array_append_new(v->objects, v->obj);
    } else if (v->obj && v->depth == 4 && at(v, 2, "polygon") && !strcmp(name, "pt")) {
        v->pt = json_object();
    } else if (v->obj && v->depth == 4 && at(v, 2, "attributes") && !strcmp(name, "attribute")) {
        v->attr = json_object();
    }
}

static void XMLCALL on_text(void *arg, const XML_Char *s, int len)
{
    voc *v = arg;
    if (v->text.len < 4096) lp_buf_append(&v->text, s, (size_t)len);
}

/* The element's text, trimmed, as a JSON string. */
static json_t *text_of(voc *v)
{
    const char *s = v->text.data ? v->text.data : "";
    size_t n = v->text.len;
    while (n && strchr(" \t\r\n", *s)) s++, n--;
    while (n && strchr(" \t\r\n", s[n - 1])) n--;
    return json_stringn(s, n);
}

static void XMLCALL on_end(void *arg, const XML_Char *name)
{
    voc *v = arg;
    json_t *t = text_of(v);
    const char *s = json_string_value(t);
    if (v->depth == 2 && !strcmp(name, "filename")) {
        free(v->filename);
        v->filename = lp_strdup(s);
    } else if (v->depth == 2 && !strcmp(name, "path")) {
        free(v->path);
        v->path = lp_strdup(s);
    } else if (v->depth == 3 && at(v, 1, "size") &&
               (!strcmp(name, "width") || !strcmp(name, "height"))) {
        double d = strtod(s, NULL);
        *(name[0] == 'w' ? &v->width : &v->height) = isfinite(d) && d > 0 ? d : 0;
    } else if (v->obj && v->depth == 3) { /* a child of <object> */
        if (!strcmp(name, "name") || !strcmp(name, "pose") || !strcmp(name, "truncated") ||
            !strcmp(name, "difficult") || !strcmp(name, "occluded"))
            json_object_set(v->obj, name, t);
    } else if (v->obj && v->depth == 4 && at(v, 2, "bndbox")) {
        json_t *box = json_object_get(v->obj, "bndbox");
        if (!box) json_object_set_new(v->obj, "bndbox", box = json_object());
        json_object_set(box, name, t);
    } else if (v->obj && v->depth == 4 && at(v, 2, "polygon") && name[0] != 'p') {
        /* <x1>, <y1>, ...: kept by name, ordered when the object ends */
        json_t *poly = json_object_get(v->obj, "polygon");
        if (!poly) json_object_set_new(v->obj, "polygon", poly = json_object());
        json_object_set(poly, name, t);
    } else if (v->pt && v->depth == 5) {
        json_object_set(v->pt, name, t);
    } else if (v->pt && v->depth == 4 && !strcmp(name, "pt")) {
        json_t *pts = json_object_get(v->obj, "points");
        if (!pts) json_object_set_new(v->obj, "points", pts = json_array());
        json_array_append_new(pts, v->pt);
        v->pt = NULL;
    } else if (v->attr && v->depth == 5) {
        json_object_set(v->attr, name, t);
    } else if (v->attr && v->depth == 4) {
        json_t *as = json_object_get(v->obj, "attributes");
        if (!as) json_object_set_new(v->obj, "attributes", as = json_array());
        json_array_append_new(as, v->attr);
        v->attr = NULL;
    } else if (v->obj && v->depth == 2) {
        v->obj = NULL;
    }
    json_decref(t);
    v->text.len = 0;
    v->depth--;
}

/* Parses file t into v; 0, or -1 with v->e and v->line set. */
static int parse(voc *v, const lp_src_text *t)
{
    v->file = t->name;
    v->objects = json_array();
    v->xp = XML_ParserCreate("UTF-8");
    XML_SetUserData(v->xp, v);
    XML_SetElementHandler(v->xp, on_start, on_end);
    XML_SetCharacterDataHandler(v->xp, on_text);
    if (XML_Parse(v->xp, t->data, (int)t->len, XML_TRUE) != XML_STATUS_OK && !v->failed) {
        char msg[200];
        snprintf(msg, sizeof msg, "is not well-formed XML: %s (column %lu)",
                 XML_ErrorString(XML_GetErrorCode(v->xp)),
                 (unsigned long)XML_GetCurrentColumnNumber(v->xp) + 1);
        voc_fail(v, "annotation", msg);
        v->line = XML_GetCurrentLineNumber(v->xp);
    }
    if (!v->failed && v->depth == 0 && !json_array_size(v->objects) && !v->filename)
        voc_fail(v, "annotation", "holds no <annotation>");
    XML_ParserFree(v->xp);
    v->xp = NULL;
    return v->failed ? -1 : 0;
}

static void voc_fini(voc *v)
{
    lp_buf_fini(&v->text);
    free(v->filename);
    free(v->path);
    json_decref(v->objects);
    json_decref(v->pt);
    json_decref(v->attr);
}

/* A number of an object's element, or NAN when missing or not one. */
static double number(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    char *end;
    double d = s && *s ? strtod(s, &end) : NAN;
    return s && *s && !*end && isfinite(d) ? d : NAN;
}

/* The value of attribute def (of the project) from the text s. */
static json_t *attribute_value(const json_t *def, const char *s)
{
    const char *type = json_string_value(json_object_get(def, "type"));
    if (type && !strcmp(type, "boolean")) {
        if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes")) return json_true();
        if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no")) return json_false();
    } else if (type && !strcmp(type, "number")) {
        char *end;
        double d = strtod(s, &end);
        if (*s && !*end && isfinite(d)) return json_real(d);
    }
    return json_string(s); /* the kind's validation says what is wrong with it */
}

/* Object o's attributes that the project defines (defs: name -> def). */
static json_t *attributes(const json_t *o, const json_t *defs)
{
    static const char *const flags[] = {"pose", "truncated", "difficult", "occluded"};
    json_t *out = json_object();
    for (size_t i = 0; i < LP_ARRAY_LEN(flags); i++) {
        const json_t *def = json_object_get(defs, flags[i]);
        const char *s = json_string_value(json_object_get(o, flags[i]));
        if (def && s) json_object_set_new(out, flags[i], attribute_value(def, s));
    }
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(o, "attributes"), i, a)
    {
        const char *name = json_string_value(json_object_get(a, "name"));
        const char *s = json_string_value(json_object_get(a, "value"));
        const json_t *def = name ? json_object_get(defs, name) : NULL;
        if (def && s) json_object_set_new(out, name, attribute_value(def, s));
    }
    if (json_object_size(out)) return out;
    json_decref(out);
    return NULL;
}

/* Object o's polygon vertices ([{x, y}...]), or NULL when it has none. */
static json_t *vertices(const json_t *o)
{
    json_t *vs = json_array();
    const json_t *poly = json_object_get(o, "polygon");
    for (int k = 1; poly; k++) {
        char kx[16], ky[16];
        snprintf(kx, sizeof kx, "x%d", k);
        snprintf(ky, sizeof ky, "y%d", k);
        double x = number(poly, kx), y = number(poly, ky);
        if (isnan(x) || isnan(y)) break;
        json_array_append_new(vs, json_pack("{s:f, s:f}", "x", x, "y", y));
    }
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(o, "points"), i, p)
    {
        double x = number(p, "x"), y = number(p, "y");
        if (!isnan(x) && !isnan(y))
            json_array_append_new(vs, json_pack("{s:f, s:f}", "x", x, "y", y));
    }
    if (json_array_size(vs)) return vs;
    json_decref(vs);
    return NULL;
}

/* The shapes of v's objects into anns; 0, or LP_EINVAL with e naming
 * the object's element. */
static int shapes(const voc *v, const lp_convert *c, json_t *anns, lp_verr *e)
{
    const json_t *params = c->project->params, *g, *a;
    int polygons = 0;
    size_t i;
    json_array_foreach(json_object_get(params, "geometries"), i, g) polygons |=
        !strcmp(json_string_value(g), "polygon");
    json_t *defs = json_object();
    json_array_foreach(json_object_get(params, "attributes"), i, a)
    {
        const char *name = json_string_value(json_object_get(a, "name"));
        if (name) json_object_set(defs, name, (json_t *)a);
    }
    const json_t *o;
    int rc = 0;
    json_array_foreach(v->objects, i, o)
    {
        char field[64];
        const char *name = json_string_value(json_object_get(o, "name"));
        if (!name || !*name) {
            snprintf(field, sizeof field, "object[%zu].name", i);
            rc = lp_verr_set(e, field, "is missing: an object's <name> is its label");
            break;
        }
        json_t *vs = vertices(o), *shape;
        const json_t *box = json_object_get(o, "bndbox");
        if (vs && (polygons || !box)) {
            shape = json_pack("{s:s, s:s, s:o}", "type", "polygon", "label", name, "vertices", vs);
        } else {
            json_decref(vs);
            static const char *const keys[] = {"xmin", "ymin", "xmax", "ymax"};
            double b[4];
            for (int k = 0; k < 4 && rc == 0; k++) {
                b[k] = number(box, keys[k]);
                if (isnan(b[k])) {
                    const char *s = json_string_value(json_object_get(box, keys[k]));
                    snprintf(field, sizeof field, "object[%zu].bndbox.%s", i, keys[k]);
                    rc = s ? lp_verr_set(e, field, "\"%.40s\" is not a number", s)
                           : lp_verr_set(e, field, "is missing");
                }
            }
            if (rc) break;
            double x = b[0] >= 0 && b[0] < 1 ? 0 : b[0] - 1,
                   y = b[1] >= 0 && b[1] < 1 ? 0 : b[1] - 1;
            shape = json_pack("{s:s, s:s, s:f, s:f, s:f, s:f}", "type", "box", "label", name, "x",
                              x, "y", y, "width", b[2] - x, "height", b[3] - y);
        }
        json_t *attrs = attributes(o, defs);
        if (attrs) json_object_set_new(shape, "attributes", attrs);
        json_array_append_new(anns, shape);
    }
    json_decref(defs);
    return rc;
}

/* A size as JSON: an integer when it is one (640, not 640.0). */
static json_t *size_json(double d)
{
    return d == floor(d) && d < 1e15 ? json_integer((json_int_t)d) : json_real(d);
}

/* 1 if t reads as XML: a .xml name, or its first non-blank byte is '<'. */
static int is_xml(const lp_src_text *t)
{
    if (lp_src_has_suffix(t->name, ".xml")) return 1;
    const char *p = t->data;
    if (t->len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    return *p == '<';
}

/* Converts parsed file t into a task, or reports it. */
static void convert_file(lp_convert *c, const lp_src_text *t, const voc *v, unsigned char *named)
{
    const char *file = v->filename && *v->filename ? v->filename : NULL;
    if (!file && v->path && *v->path) {
        const char *slash = strrchr(v->path, '/'), *bs = strrchr(v->path, '\\');
        file = bs && (!slash || bs > slash) ? bs + 1 : slash ? slash + 1 : v->path;
    }
    if (!file) {
        lp_convert_bad(c, "filename", "is missing: it names the annotation's image", "%s", t->name);
        return;
    }
    const lp_src_media *m = lp_src_find_media(c->src, file);
    int w = 0, h = 0;
    json_t *img = lp_convert_image(c, m ? m->name : file, NULL, &w, &h);
    if (!img) {
        char msg[400];
        snprintf(msg, sizeof msg,
                 "no image \"%.200s\" in the source, and no image_base to make its URL", file);
        lp_convert_bad(c, "filename", msg, "%s", t->name);
        return;
    }
    if (m) named[m - c->src->media] = 1;
    json_t *anns = json_array();
    lp_verr e;
    if (shapes(v, c, anns, &e)) {
        json_decref(img);
        json_decref(anns);
        lp_convert_bad(c, e.field, e.message, "%s", t->name);
        return;
    }
    double width = v->width > 0 && v->height > 0 ? v->width : w;
    double height = v->width > 0 && v->height > 0 ? v->height : h;
    json_t *task = json_pack("{s:s, s:[o]}", "unique_id", m ? m->name : file, "attachments", img);
    if (!task) {
        json_decref(anns);
        lp_convert_bad(c, "filename", "is not UTF-8", "%s", t->name);
        return;
    }
    if (width > 0 && height > 0)
        json_object_set_new(
            task, "data",
            json_pack("{s:o, s:o}", "width", size_json(width), "height", size_json(height)));
    lp_convert_task(c, task, json_pack("{s:o}", "annotations", anns), -1, "%s", t->name);
}

static int run(lp_convert *c, lp_verr *e)
{
    const lp_src *s = c->src;
    size_t nxml = 0, ngood = 0;
    unsigned char *named = lp_calloc(s->nmedia + 1, 1);
    lp_verr first = {{0}, {0}};
    for (size_t i = 0; i < s->ntexts; i++) {
        const lp_src_text *t = &s->texts[i];
        if (!is_xml(t)) continue;
        nxml++;
        voc v = {0};
        if (parse(&v, t) == 0) {
            ngood++;
            convert_file(c, t, &v, named);
        } else {
            if (!first.message[0])
                lp_verr_set(&first, t->name, "line %lu: %s", v.line, v.e.message);
            lp_convert_bad(c, v.e.field, v.e.message, "%s:%lu", t->name, v.line);
        }
        voc_fini(&v);
    }
    int rc = 0;
    if (nxml == 0)
        rc = lp_verr_set(e, "body",
                         "holds no XML file: Pascal VOC labels are one <annotation> file per "
                         "image (Annotations/NAME.xml)");
    else if (ngood == 0)
        rc = lp_verr_set(e, first.field, "%s", first.message);
    for (size_t i = 0; rc == 0 && i < s->nmedia; i++) {
        const lp_src_media *m = &s->media[i];
        if (named[i] || strcmp(m->type, "image")) continue;
        json_t *img = lp_convert_image(c, m->name, NULL, NULL, NULL);
        json_t *task = json_pack("{s:s, s:[o]}", "unique_id", m->name, "attachments", img);
        if (task && m->width > 0 && m->height > 0)
            json_object_set_new(task, "data",
                                json_pack("{s:i, s:i}", "width", m->width, "height", m->height));
        if (task)
            lp_convert_task(c, task, NULL, -1, "%s", m->name);
        else
            lp_convert_bad(c, "image", "the file's name is not UTF-8", "%s", m->name);
    }
    free(named);
    return rc;
}

static const char *const kinds[] = {"imageannotation", NULL};

const lp_converter lp_convert_voc = {
    .name = "voc",
    .summary = "Pascal VOC: one <annotation> XML file per image (Annotations/NAME.xml), with the "
               "images or an image_base",
    .kinds = kinds,
    .run = run,
};
