/* labelstudio.c -- see labelstudio.h. */
#include "labelstudio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kind.h"
#include "util.h"

/* s with XML's five special characters escaped, appended to b. */
static void xml_text(lp_buf *b, const char *s)
{
    for (; s && *s; s++) switch (*s) {
        case '&': lp_buf_puts(b, "&amp;"); break;
        case '<': lp_buf_puts(b, "&lt;"); break;
        case '>': lp_buf_puts(b, "&gt;"); break;
        case '"': lp_buf_puts(b, "&quot;"); break;
        case '\'': lp_buf_puts(b, "&apos;"); break;
        default: lp_buf_append(b, s, 1);
        }
}

/* <Tag name="..." toName="..." extra>, one <Label value="..."/> (or
 * <Choice>) per entry of params[list], </Tag>. */
static void control(lp_buf *b, const char *tag, const char *name, const char *to,
                    const char *extra, const char *item, const json_t *list)
{
    lp_buf_printf(b, "  <%s name=\"%s\" toName=\"%s\"%s>\n", tag, name, to, extra);
    size_t i;
    const json_t *l;
    json_array_foreach(list, i, l)
    {
        const char *v = json_is_string(l) ? json_string_value(l)
                                          : json_string_value(json_object_get(l, "name"));
        lp_buf_printf(b, "    <%s value=\"", item);
        xml_text(b, v);
        lp_buf_puts(b, "\"/>\n");
    }
    lp_buf_printf(b, "  </%s>\n", tag);
}

static int has_geometry(const json_t *params, const char *g)
{
    const json_t *gs = json_object_get(params, "geometries");
    if (!json_is_array(gs) || !json_array_size(gs)) return 1; /* every one */
    size_t i;
    const json_t *v;
    json_array_foreach(gs, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), g)) return 1;
    return 0;
}

char *lp_ls_label_config(const lp_project *p, int image, char *why, size_t whyn)
{
    const char *kind = p->kind->name;
    const json_t *params = p->params;
    lp_buf b = {0};
    lp_buf_puts(&b, "<View>\n");
    if (!strcmp(kind, "categorization")) {
        const char *obj = image ? "image" : "text";
        lp_buf_printf(&b, "  <%s name=\"%s\" value=\"$%s\"/>\n", image ? "Image" : "Text", obj, obj);
        control(&b, "Choices", "label", obj,
                json_is_true(json_object_get(params, "multiple")) ? " choice=\"multiple\""
                                                                  : " choice=\"single\"",
                "Choice", json_object_get(params, "labels"));
    } else if (!strcmp(kind, "imageannotation")) {
        lp_buf_puts(&b, "  <Image name=\"image\" value=\"$image\"/>\n");
        const json_t *labels = json_object_get(params, "labels");
        if (has_geometry(params, "box"))
            control(&b, "RectangleLabels", "label", "image", "", "Label", labels);
        if (has_geometry(params, "polygon"))
            control(&b, "PolygonLabels", "polygon", "image", "", "Label", labels);
        if (has_geometry(params, "point"))
            control(&b, "KeyPointLabels", "keypoint", "image", "", "Label", labels);
    } else if (!strcmp(kind, "namedentityrecognition")) {
        control(&b, "Labels", "label", "text", "", "Label", json_object_get(params, "labels"));
        lp_buf_puts(&b, "  <Text name=\"text\" value=\"$text\"/>\n");
        const json_t *rels = json_object_get(params, "relations");
        if (json_array_size(rels)) {
            lp_buf_puts(&b, "  <Relations>\n");
            size_t i;
            const json_t *r;
            json_array_foreach(rels, i, r)
            {
                lp_buf_puts(&b, "    <Relation value=\"");
                xml_text(&b, json_is_string(r) ? json_string_value(r)
                                               : json_string_value(json_object_get(r, "name")));
                lp_buf_puts(&b, "\"/>\n");
            }
            lp_buf_puts(&b, "  </Relations>\n");
        }
    } else if (!strcmp(kind, "transcription")) {
        lp_buf_puts(&b, "  <Audio name=\"audio\" value=\"$audio\"/>\n");
        if (json_is_true(json_object_get(params, "segments"))) {
            control(&b, "Labels", "speaker", "audio", "", "Label",
                    json_object_get(params, "speakers"));
            lp_buf_puts(&b, "  <TextArea name=\"transcription\" toName=\"audio\" "
                            "perRegion=\"true\"/>\n");
        } else {
            lp_buf_puts(&b, "  <TextArea name=\"transcription\" toName=\"audio\"/>\n");
        }
    } else if (!strcmp(kind, "textcollection")) {
        lp_buf_puts(&b, "  <Text name=\"text\" value=\"$text\"/>\n");
        const json_t *fields = json_object_get(params, "fields");
        size_t i;
        const json_t *f;
        json_array_foreach(fields, i, f)
        {
            lp_buf_puts(&b, "  <TextArea name=\"");
            xml_text(&b, json_string_value(json_object_get(f, "name")));
            lp_buf_puts(&b, "\" toName=\"text\"/>\n");
        }
        if (!json_array_size(fields))
            lp_buf_puts(&b, "  <TextArea name=\"answer\" toName=\"text\"/>\n");
    } else if (!strcmp(kind, "rating")) {
        lp_buf_puts(&b, "  <Text name=\"text\" value=\"$text\"/>\n");
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(params, "criteria"), i, c)
        {
            double max = 5;
            lp_json_number(json_object_get(c, "max"), &max);
            lp_buf_puts(&b, "  <Rating name=\"");
            xml_text(&b, json_string_value(json_object_get(c, "name")));
            lp_buf_printf(&b, "\" toName=\"text\" maxRating=\"%d\"/>\n", (int)fmax(1, max));
        }
    } else {
        lp_buf_fini(&b);
        snprintf(why, whyn,
                 "a %s project cannot use a Label Studio ML backend: its responses have no "
                 "Label Studio regions (categorization, imageannotation, "
                 "namedentityrecognition, transcription, textcollection and rating can)",
                 kind);
        return NULL;
    }
    lp_buf_puts(&b, "</View>\n");
    return b.data;
}

json_t *lp_ls_task(const json_t *task)
{
    const json_t *data = json_object_get(task, "data");
    json_t *d = json_is_object(data) ? json_deep_copy(data) : json_object();
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(task, "attachments"), i, a)
    {
        const char *type = json_string_value(json_object_get(a, "type"));
        if (!type || (strcmp(type, "image") && strcmp(type, "audio") && strcmp(type, "video")))
            continue;
        if (json_object_get(d, type)) continue; /* the first of each type */
        const char *url = json_string_value(json_object_get(a, "url"));
        const char *file = json_string_value(json_object_get(a, "file"));
        if (url)
            json_object_set_new(d, type, json_string(url));
        else if (file)
            json_object_set_new(d, type, json_sprintf("/v1/files/%s", file));
    }
    return json_pack("{s:O, s:o}", "id", json_object_get(task, "id"), "data", d);
}

/* A region {id, from_name, to_name, type, value} (value stolen). */
static json_t *region(const char *id, const char *from, const char *to, const char *type,
                      json_t *value)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", id, "from_name", from, "to_name", to,
                     "type", type, "value", value);
}

/* The UTF-16 offset of code point cp in text (Label Studio counts so). */
static long cp_to_utf16(const char *text, size_t len, long cp)
{
    long u = 0, n = 0;
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len && n < cp; n++) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        u += k == 4 ? 2 : 1;
        i += k;
    }
    return u;
}

static double num(const json_t *o, const char *key)
{
    double v = 0;
    lp_json_number(json_object_get(o, key), &v);
    return v;
}

static void image_regions(const json_t *data, const json_t *response, json_t *out)
{
    double w = num(data, "width"), h = num(data, "height");
    if (!(w > 0 && h > 0)) return; /* percents need the image's size */
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(response, "annotations"), i, a)
    {
        const char *type = json_string_value(json_object_get(a, "type"));
        json_t *label = json_pack("[O]", json_object_get(a, "label"));
        char id[80]; /* the shape's own id, else one made up */
        const char *own = json_string_value(json_object_get(a, "id"));
        if (own && strlen(own) < sizeof id)
            snprintf(id, sizeof id, "%s", own);
        else
            snprintf(id, sizeof id, "r%zu", i + 1);
        json_t *v = NULL, *r;
        if (type && !strcmp(type, "box")) {
            v = json_pack("{s:f, s:f, s:f, s:f, s:i, s:o}", "x", num(a, "x") * 100 / w, "y",
                          num(a, "y") * 100 / h, "width", num(a, "width") * 100 / w, "height",
                          num(a, "height") * 100 / h, "rotation", 0, "rectanglelabels", label);
            r = region(id, "label", "image", "rectanglelabels", v);
        } else if (type && !strcmp(type, "polygon")) {
            json_t *pts = json_array();
            size_t k;
            const json_t *p;
            json_array_foreach(json_object_get(a, "vertices"), k, p)
                json_array_append_new(pts, json_pack("[f, f]", num(p, "x") * 100 / w,
                                                     num(p, "y") * 100 / h));
            v = json_pack("{s:o, s:b, s:o}", "points", pts, "closed", 1, "polygonlabels", label);
            r = region(id, "polygon", "image", "polygonlabels", v);
        } else if (type && !strcmp(type, "point")) {
            v = json_pack("{s:f, s:f, s:f, s:o}", "x", num(a, "x") * 100 / w, "y",
                          num(a, "y") * 100 / h, "width", 1.0, "keypointlabels", label);
            r = region(id, "keypoint", "image", "keypointlabels", v);
        } else {
            json_decref(label);
            continue;
        }
        json_object_set_new(r, "original_width", json_real(w));
        json_object_set_new(r, "original_height", json_real(h));
        json_object_set_new(r, "image_rotation", json_integer(0));
        json_array_append_new(out, r);
    }
}

static void ner_regions(const json_t *data, const json_t *response, json_t *out)
{
    const json_t *text = json_object_get(data, "text");
    const char *s = json_string_value(text);
    size_t len = s ? json_string_length(text) : 0;
    size_t i;
    const json_t *sp;
    json_array_foreach(json_object_get(response, "spans"), i, sp)
    {
        char id[32];
        snprintf(id, sizeof id, "s%zu", i);
        long st = (long)num(sp, "start"), en = (long)num(sp, "end");
        json_t *v = json_pack("{s:I, s:I, s:[O]}", "start", (json_int_t)cp_to_utf16(s, len, st),
                              "end", (json_int_t)cp_to_utf16(s, len, en), "labels",
                              json_object_get(sp, "label"));
        const json_t *t = json_object_get(sp, "text");
        if (json_is_string(t)) json_object_set(v, "text", (json_t *)t);
        json_array_append_new(out, region(id, "label", "text", "labels", v));
    }
    const json_t *rel;
    json_array_foreach(json_object_get(response, "relations"), i, rel)
    {
        char from[32], to[32];
        snprintf(from, sizeof from, "s%lld", (long long)num(rel, "from"));
        snprintf(to, sizeof to, "s%lld", (long long)num(rel, "to"));
        json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:[O]}", "type", "relation",
                                             "from_id", from, "to_id", to, "direction", "right",
                                             "labels", json_object_get(rel, "label")));
    }
}

json_t *lp_ls_result(const lp_project *p, const json_t *data, const json_t *response)
{
    const char *kind = p->kind->name;
    json_t *out = json_array();
    if (!json_is_object(response)) return out;
    const json_t *v;
    if (!strcmp(kind, "categorization")) {
        int image = !json_is_string(json_object_get(data, "text")) &&
                    json_is_string(json_object_get(data, "image"));
        json_t *labels = json_object_get(response, "labels");
        if (json_array_size(labels))
            json_array_append_new(out, region("c0", "label", image ? "image" : "text", "choices",
                                              json_pack("{s:O}", "choices", labels)));
    } else if (!strcmp(kind, "imageannotation")) {
        image_regions(data, response, out);
    } else if (!strcmp(kind, "namedentityrecognition")) {
        ner_regions(data, response, out);
    } else if (!strcmp(kind, "transcription")) {
        size_t i;
        const json_t *sg;
        if (json_is_string(v = json_object_get(response, "text")))
            json_array_append_new(out, region("t0", "transcription", "audio", "textarea",
                                              json_pack("{s:[O]}", "text", v)));
        json_array_foreach(json_object_get(response, "segments"), i, sg)
        {
            char id[32];
            snprintf(id, sizeof id, "g%zu", i);
            double st = num(sg, "start"), en = num(sg, "end");
            json_array_append_new(out, region(id, "transcription", "audio", "textarea",
                                              json_pack("{s:f, s:f, s:[O]}", "start", st, "end",
                                                        en, "text", json_object_get(sg, "text"))));
            const json_t *who = json_object_get(sg, "speaker");
            if (json_is_string(who))
                json_array_append_new(out, region(id, "speaker", "audio", "labels",
                                                  json_pack("{s:f, s:f, s:[O]}", "start", st,
                                                            "end", en, "labels", who)));
        }
    } else if (!strcmp(kind, "textcollection")) {
        const char *k;
        int n = 0;
        if (json_is_string(v = json_object_get(response, "text")))
            json_array_append_new(out, region("a0", "answer", "text", "textarea",
                                              json_pack("{s:[O]}", "text", v)));
        json_object_foreach(json_object_get(response, "fields"), k, v)
        {
            char id[32];
            snprintf(id, sizeof id, "f%d", n++);
            json_array_append_new(
                out, region(id, k, "text", "textarea", json_pack("{s:[O]}", "text", v)));
        }
    } else if (!strcmp(kind, "rating")) {
        const char *k;
        int n = 0;
        json_object_foreach(json_object_get(response, "ratings"), k, v)
        {
            char id[32];
            snprintf(id, sizeof id, "g%d", n++);
            json_array_append_new(out,
                                  region(id, k, "text", "rating", json_pack("{s:O}", "rating", v)));
        }
    }
    return out;
}
