/* test_convert_labelstudio.c -- the Label Studio converter alone: small
 * exports written after Label Studio's documented JSON format, run through
 * the converter, the NDJSON tasks checked field by field (pixels from
 * percents, code points from UTF-16 offsets, which annotation becomes the
 * result, predictions, the history in metadata) and the bad items. */
#include <math.h>
#include <stdlib.h>

#include "convert.h"
#include "test_kinds.h"

/* One conversion: its tasks parsed and its bad items. */
typedef struct run_out {
    lp_src src;
    lp_project p;
    lp_convert c;
    json_t *tasks; /* array */
    int rc;
    lp_verr e;
} run_out;

/* The image_base of the next run_ls (NULL: none). */
static const char *image_base;

/* Converts doc (single-quoted JSON, see kt_json; raw when raw is set) for
 * a project of kind/params, the source also holding the media named in
 * media ("name=WxH", NULL-terminated). */
static int run_ls(run_out *o, const char *kind, const char *params, const char *doc, int raw,
                  int results, const char *const *media)
{
    memset(o, 0, sizeof *o);
    json_t *p = NULL;
    o->p.kind = lp_kind_find(kind);
    if (kt_params(o->p.kind, params, &p, &o->e)) {
        fprintf(stderr, "bad params: %s\n", o->e.message);
        return -1;
    }
    o->p.params = p;
    if (raw) {
        lp_src_add_text(&o->src, "body", doc, strlen(doc));
    } else {
        json_t *d = kt_json(doc);
        char *s = json_dumps(d, JSON_COMPACT);
        lp_src_add_text(&o->src, "body", s, strlen(s));
        free(s);
        json_decref(d);
    }
    for (size_t i = 0; media && media[i]; i++) {
        char name[128];
        int w = 0, h = 0;
        sscanf(media[i], "%127[^=]=%dx%d", name, &w, &h);
        char sha[65];
        snprintf(sha, sizeof sha, "%064zu", i + 1);
        lp_src_add_media(&o->src, name, "image", sha, w, h);
    }
    lp_src_done(&o->src);
    o->c.project = &o->p;
    o->c.src = &o->src;
    o->c.results = results;
    o->c.format = "labelstudio";
    o->c.image_base = image_base;
    o->rc = lp_convert_labelstudio.run(&o->c, &o->e);
    o->tasks = json_array();
    for (const char *s = o->c.out.data, *nl; s && *s; s = nl + 1) {
        nl = strchr(s, '\n');
        json_array_append_new(o->tasks, json_loadb(s, (size_t)(nl - s), 0, NULL));
    }
    return o->rc;
}

static void run_fini(run_out *o)
{
    json_decref(o->tasks);
    json_decref(o->p.params);
    lp_convert_fini(&o->c);
    lp_src_fini(&o->src);
}

static const json_t *at(const json_t *v, const char *path)
{
    char *copy = lp_strdup(path), *save = NULL;
    for (char *part = strtok_r(copy, ".", &save); part && v; part = strtok_r(NULL, ".", &save))
        v = json_is_array(v) ? json_array_get(v, strtoul(part, NULL, 10))
                             : json_object_get(v, part);
    free(copy);
    return v;
}

/* Checks the number at path within 1e-9. */
#define CHECK_NUM(v, path, want)                                                    \
    do {                                                                            \
        double got_;                                                                \
        if (lp_json_number(at(v, path), &got_) || fabs(got_ - (want)) > 1e-9) {     \
            lp_test_fail(__FILE__, __LINE__, "%s is not %g", path, (double)(want)); \
            goto done;                                                              \
        }                                                                           \
    } while (0)
#define CHECK_AT(v, path, want)                                                                 \
    do {                                                                                        \
        if (!kt_equal_at(v, path, want)) {                                                      \
            char *s_ = json_dumps(at(v, path), JSON_ENCODE_ANY);                                \
            lp_test_fail(__FILE__, __LINE__, "%s is %s, expected %s", path, s_ ? s_ : "(none)", \
                         want);                                                                 \
            free(s_);                                                                           \
            goto done;                                                                          \
        }                                                                                       \
    } while (0)
#define REQUIRE(cond)                                             \
    do {                                                          \
        if (!(cond)) {                                            \
            lp_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
            goto done;                                            \
        }                                                         \
    } while (0)

#define IMG_PARAMS "{'labels': ['car', 'person']}"
#define RECT(id, x, y, w, h, label, ow, oh)                                                     \
    "{'id': '" id "', 'from_name': 'label', 'to_name': 'image', 'type': 'rectanglelabels', "    \
    "'original_width': " #ow ", 'original_height': " #oh                                        \
    ", 'image_rotation': 0, 'value': {'x': " #x ", 'y': " #y ", 'width': " #w ", 'height': " #h \
    ", 'rotation': 0, 'rectanglelabels': ['" label "']}}"

TEST(labelstudio_boxes_polygons_points_become_pixels_of_each_image)
{
    /* Two images of different sizes; a box to the right and bottom
     * border (x + width = 100); a polygon and a keypoint. */
    const char *doc =
        "[{'id': 11, 'data': {'image': '/data/upload/3/1a2b3c4d-cat.jpg'}, 'meta': {'site': 'A'},"
        "  'annotations': [{'id': 101, 'completed_by': 7, 'created_at': '2024-05-01T10:00:00Z',"
        "   'was_cancelled': false, 'ground_truth': false, 'result': [" RECT(
            "r1", 50.8, 5.5, 49.2, 94.5, "car", 640,
            480) ","
                 "    {'id': 'p1', 'type': 'polygonlabels', 'original_width': 640, "
                 "'original_height': 480,"
                 "     'value': {'points': [[0, 0], [50, 0], [25, 100]], 'polygonlabels': "
                 "['person']}},"
                 "    {'id': 'k1', 'type': 'keypointlabels', 'original_width': 640, "
                 "'original_height': 480,"
                 "     'value': {'x': 10, 'y': 20, 'width': 1, 'keypointlabels': ['person']}}]}]},"
                 " {'id': 12, 'data': {'image': 'https://h.test/big.jpg'},"
                 "  'annotations': [{'id': 102, 'result': [" RECT("r2", 0, 0, 100, 100, "person",
                                                                  1920, 1080) "]}]}]";
    const char *media[] = {"imgs/cat.jpg=640x480", NULL};
    run_out o;
    CHECK_INT(run_ls(&o, "imageannotation", IMG_PARAMS, doc, 0, 1, media), 0);
    CHECK_INT(o.c.ntasks, 2);
    CHECK_INT(o.c.nbad, 0);
    const json_t *t = json_array_get(o.tasks, 0), *u = json_array_get(o.tasks, 1);
    CHECK_AT(t, "unique_id", "'labelstudio:11'");
    CHECK_AT(t, "attachments.0.type", "'image'");
    CHECK_AT(t, "attachments.0.name", "'cat.jpg'");
    REQUIRE(at(t, "attachments.0.file"));
    REQUIRE(!at(t, "data.image"));
    CHECK_NUM(t, "data.width", 640);
    CHECK_NUM(t, "data.height", 480);
    CHECK_AT(t, "metadata.site", "'A'");
    CHECK_AT(t, "result.annotations.0.type", "'box'");
    CHECK_AT(t, "result.annotations.0.id", "'r1'");
    CHECK_AT(t, "result.annotations.0.label", "'car'");
    CHECK_NUM(t, "result.annotations.0.x", 50.8 * 6.4);
    CHECK_NUM(t, "result.annotations.0.y", 5.5 * 4.8);
    CHECK_NUM(t, "result.annotations.0.width", 640 - 50.8 * 6.4);
    CHECK_NUM(t, "result.annotations.0.height", 480 - 5.5 * 4.8);
    CHECK_AT(t, "result.annotations.1.type", "'polygon'");
    CHECK_NUM(t, "result.annotations.1.vertices.1.x", 320);
    CHECK_NUM(t, "result.annotations.1.vertices.2.y", 480);
    CHECK_AT(t, "result.annotations.2.type", "'point'");
    CHECK_NUM(t, "result.annotations.2.x", 64);
    CHECK_NUM(t, "result.annotations.2.y", 96);
    CHECK_AT(t, "metadata.labelstudio_annotations.0.imported_as", "'result'");
    CHECK_AT(t, "metadata.labelstudio_annotations.0.completed_by", "7");
    CHECK_AT(u, "attachments.0.url", "'https://h.test/big.jpg'");
    CHECK_NUM(u, "data.width", 1920);
    CHECK_NUM(u, "result.annotations.0.width", 1920);
    CHECK_NUM(u, "result.annotations.0.height", 1080);
    CHECK_STR(o.c.where[0], "body: tasks[0] id 11");
done:
    run_fini(&o);
}

TEST(labelstudio_refuses_rotated_boxes_and_regions_the_kind_cannot_take)
{
    const char *doc =
        "[{'id': 1, 'data': {'image': 'https://h.test/a.jpg'}, 'annotations': [{'result': ["
        "  {'type': 'rectanglelabels', 'original_width': 100, 'original_height': 100,"
        "   'value': {'x': 1, 'y': 1, 'width': 5, 'height': 5, 'rotation': 30,"
        "    'rectanglelabels': ['car']}}]}]},"
        " {'id': 2, 'data': {'image': 'https://h.test/b.jpg'}, 'annotations': [{'result': [" RECT(
            "ok", 1, 1, 5, 5, "car", 100,
            100) ","
                 "  {'type': 'brushlabels', 'value': {'rle': [1, 2], 'brushlabels': ['car']}}]}]},"
                 " {'id': 3, 'data': {'image': 'b.jpg'}},"
                 " {'id': 4, 'data': {'image': 'https://h.test/c.jpg'}},"
                 " {'no': 'data'}]";
    run_out o;
    CHECK_INT(run_ls(&o, "imageannotation", IMG_PARAMS, doc, 0, 1, NULL), 0);
    CHECK_INT(o.c.ntasks, 1); /* task 4: no annotation, imported without labels */
    REQUIRE(!at(json_array_get(o.tasks, 0), "result"));
    CHECK_INT(o.c.nbad, 4);
    CHECK_STR(o.c.bad[0].e.field, "tasks[0].annotations[0].result[0]");
    REQUIRE(strstr(o.c.bad[0].e.message, "rotated by 30 degrees"));
    CHECK_STR(o.c.bad[0].where, "body: tasks[0] id 1");
    CHECK_STR(o.c.bad[1].e.field, "tasks[1].annotations[0].result[1]");
    REQUIRE(strstr(o.c.bad[1].e.message, "\"brushlabels\" region"));
    CHECK_STR(o.c.bad[2].e.field, "tasks[2].data.image");
    REQUIRE(strstr(o.c.bad[2].e.message, "image_base"));
    CHECK_STR(o.c.bad[3].e.field, "tasks[4]");
done:
    run_fini(&o);
}

TEST(labelstudio_keeps_the_preferred_annotation_and_the_history)
{
    /* Annotation 1 is cancelled, 2 the ground truth though older than 3. */
    const char *doc =
        "[{'id': 5, 'data': {'text': 'late parcel'}, 'annotations': ["
        "  {'id': 1, 'was_cancelled': true, 'created_at': '2024-05-03T00:00:00Z', 'result': "
        "[{'type': 'choices', 'value': {'choices': ['neg']}}]},"
        "  {'id': 2, 'ground_truth': true, 'created_at': '2024-05-01T00:00:00Z', 'completed_by': "
        "{'id': 3, 'email': 'a@b.c'}, 'result': [{'type': 'choices', 'value': {'choices': "
        "['pos']}}]},"
        "  {'id': 3, 'created_at': '2024-05-02T00:00:00Z', 'result': [{'type': 'choices', "
        "'value': {'choices': ['neu']}}]}]},"
        " {'id': 6, 'data': {'text': 'ok'}, 'annotations': ["
        "  {'id': 8, 'created_at': '2024-05-01T00:00:00Z', 'result': [{'type': 'choices', "
        "'value': {'choices': ['neg']}}]},"
        "  {'id': 9, 'created_at': '2024-05-02T00:00:00Z', 'result': [{'type': 'choices', "
        "'value': {'choices': ['pos']}}]}]},"
        " {'id': 7, 'data': {'text': 'nothing'}}]";
    run_out o;
    CHECK_INT(run_ls(&o, "categorization", "{'labels': ['pos', 'neg', 'neu']}", doc, 0, 1, NULL),
              0);
    CHECK_INT(o.c.ntasks, 3);
    const json_t *t = json_array_get(o.tasks, 0);
    CHECK_AT(t, "result", "{'labels': ['pos']}");
    CHECK_AT(t, "data", "{'text': 'late parcel'}");
    CHECK_AT(t, "metadata.labelstudio_annotations.0.was_cancelled", "true");
    CHECK_AT(t, "metadata.labelstudio_annotations.0.result.0.value.choices", "['neg']");
    CHECK_AT(t, "metadata.labelstudio_annotations.1.imported_as", "'result'");
    CHECK_AT(t, "metadata.labelstudio_annotations.1.completed_by.email", "'a@b.c'");
    CHECK_AT(t, "metadata.labelstudio_annotations.2.result.0.value.choices", "['neu']");
    CHECK_AT(t, "metadata.labelstudio_annotations.2.created_at", "'2024-05-02T00:00:00Z'");
    CHECK_AT(json_array_get(o.tasks, 1), "result", "{'labels': ['pos']}"); /* the latest */
    REQUIRE(!at(json_array_get(o.tasks, 2), "result"));
    REQUIRE(!at(json_array_get(o.tasks, 2), "metadata"));
    run_fini(&o);

    /* As predictions: every annotation not cancelled, the preferred first. */
    CHECK_INT(run_ls(&o, "categorization", "{'labels': ['pos', 'neg', 'neu']}", doc, 0, 0, NULL),
              0);
    t = json_array_get(o.tasks, 0);
    REQUIRE(!at(t, "result"));
    CHECK_AT(t, "predictions",
             "[{'model': 'import:labelstudio', 'response': {'labels': ['pos']}},"
             " {'model': 'import:labelstudio', 'response': {'labels': ['neu']}}]");
    CHECK_AT(t, "metadata.labelstudio_annotations.2.imported_as", "'prediction'");
done:
    run_fini(&o);
}

TEST(labelstudio_predictions_keep_model_version_and_score)
{
    const char *doc =
        "{'id': 9, 'data': {'text': 'x'}, 'predictions': ["
        "  {'model_version': 'bert-v2', 'score': 0.87, 'result': [{'type': 'choices', 'value': "
        "{'choices': ['pos', 'neu']}}]},"
        "  {'result': [{'type': 'choices', 'value': {'choices': ['neg']}}]}],"
        " 'annotations': [{'id': 1, 'result': [{'type': 'choices', 'value': {'choices': "
        "['neg']}}]}]}";
    run_out o;
    CHECK_INT(run_ls(&o, "categorization", "{'labels': ['pos', 'neg', 'neu'], 'multiple': true}",
                     doc, 0, 0, NULL),
              0);
    CHECK_INT(o.c.ntasks, 1);
    const json_t *t = json_array_get(o.tasks, 0);
    CHECK_AT(t, "predictions.0.model", "'bert-v2'");
    CHECK_NUM(t, "predictions.0.score", 0.87);
    CHECK_AT(t, "predictions.0.response", "{'labels': ['pos', 'neu']}");
    CHECK_AT(t, "predictions.1.model", "'import:labelstudio'");
    REQUIRE(!at(t, "predictions.1.score"));
    REQUIRE(!at(t, "predictions.2")); /* annotations only stand in when there are none */
    CHECK_AT(t, "metadata.labelstudio_annotations.0.result.0.value.choices", "['neg']");
    run_fini(&o);

    /* As results: the annotation is the result, the predictions stay. */
    CHECK_INT(run_ls(&o, "categorization", "{'labels': ['pos', 'neg', 'neu'], 'multiple': true}",
                     doc, 0, 1, NULL),
              0);
    t = json_array_get(o.tasks, 0);
    CHECK_AT(t, "result", "{'labels': ['neg']}");
    CHECK_AT(t, "predictions.0.model", "'bert-v2'");
done:
    run_fini(&o);
}

TEST(labelstudio_ner_offsets_count_utf16_units_and_become_code_points)
{
    /* "😀" is 2 UTF-16 units and 1 code point, "東京" 2 and 2. */
    const char *doc = "[{\"id\": 1, \"data\": {\"text\": \"\xF0\x9F\x98\x80 東京 Zoë Ng\"},"
                      " \"annotations\": [{\"result\": ["
                      "  {\"id\": \"a\", \"type\": \"labels\", \"value\": {\"start\": 3, \"end\": "
                      "5, \"text\": \"東京\", \"labels\": [\"LOC\"]}},"
                      "  {\"id\": \"b\", \"type\": \"labels\", \"value\": {\"start\": 6, \"end\": "
                      "12, \"text\": \"Zoë Ng\", \"labels\": [\"PER\"]}},"
                      "  {\"type\": \"relation\", \"from_id\": \"b\", \"to_id\": \"a\", "
                      "\"direction\": \"right\", \"labels\": [\"lives_in\"]}]}]},"
                      " {\"id\": 2, \"data\": {\"text\": \"\xF0\x9F\x98\x80x\"},"
                      " \"annotations\": [{\"result\": [{\"type\": \"labels\", \"value\": "
                      "{\"start\": 1, \"end\": 3, \"labels\": [\"PER\"]}}]}]},"
                      " {\"id\": 3, \"data\": {\"text\": \"x\"},"
                      " \"annotations\": [{\"result\": [{\"type\": \"labels\", \"value\": "
                      "{\"start\": 0, \"end\": 1e300, \"labels\": [\"PER\"]}}]}]}]";
    run_out o;
    CHECK_INT(run_ls(&o, "namedentityrecognition",
                     "{'labels': ['PER', 'LOC'], 'relations': ['lives_in']}", doc, 1, 1, NULL),
              0);
    CHECK_INT(o.c.ntasks, 1);
    const json_t *t = json_array_get(o.tasks, 0);
    CHECK_AT(t, "result.spans.0.start", "2");
    CHECK_AT(t, "result.spans.0.end", "4");
    CHECK_AT(t, "result.spans.0.label", "'LOC'");
    CHECK_AT(t, "result.spans.1.start", "5");
    CHECK_AT(t, "result.spans.1.end", "11");
    CHECK_AT(t, "result.relations", "[{'from': 1, 'to': 0, 'label': 'lives_in'}]");
    lp_verr e;
    int rc = lp_kind_namedentityrecognition.validate_response(o.p.params, t, at(t, "result"),
                                                              "result", &e); /* the slices match */
    REQUIRE(rc == 0);
    /* An offset inside the emoji's surrogate pair. */
    CHECK_INT(o.c.nbad, 2);
    CHECK_STR(o.c.bad[0].e.field, "tasks[1].annotations[0].result[0]");
    REQUIRE(strstr(o.c.bad[0].e.message, "UTF-16"));
    CHECK_STR(o.c.bad[1].e.field, "tasks[2].annotations[0].result[0]"); /* past the end */
done:
    run_fini(&o);
}

TEST(labelstudio_textarea_and_rating_fill_fields_and_criteria)
{
    run_out o;
    CHECK_INT(run_ls(&o, "textcollection", "{'fields': ['summary', 'title']}",
                     "[{'id': 1, 'data': {'doc': 'd'}, 'annotations': [{'result': ["
                     "  {'from_name': 'summary', 'type': 'textarea', 'value': {'text': ['a', "
                     "'b']}},"
                     "  {'from_name': 'title', 'type': 'textarea', 'value': {'text': ['T']}}]}]}]",
                     0, 1, NULL),
              0);
    CHECK_AT(json_array_get(o.tasks, 0), "result",
             "{'fields': {'summary': 'a\\nb', 'title': 'T'}}");
    run_fini(&o);
    CHECK_INT(run_ls(&o, "rating", "{'criteria': ['quality']}",
                     "[{'id': 1, 'data': {'text': 't'}, 'annotations': [{'result': ["
                     "  {'from_name': 'stars', 'type': 'rating', 'value': {'rating': 4}}]}]}]",
                     0, 1, NULL),
              0);
    CHECK_NUM(json_array_get(o.tasks, 0), "result.ratings.quality", 4);
done:
    run_fini(&o);
}

TEST(labelstudio_reads_ndjson_and_refuses_what_is_not_an_export)
{
    run_out o;
    CHECK_INT(run_ls(&o, "categorization", "{'labels': ['a']}",
                     "{\"id\": 1, \"data\": {\"text\": \"x\"}}\n\n{\"id\": 2, \"data\": {}}\n", 1,
                     0, NULL),
              0);
    CHECK_INT(o.c.ntasks, 2);
    CHECK_AT(json_array_get(o.tasks, 1), "unique_id", "'labelstudio:2'");
    run_fini(&o);
    CHECK_INT(run_ls(&o, "categorization", "{'labels': ['a']}", "text,label\nx,a\n", 1, 0, NULL),
              LP_EINVAL);
    CHECK_STR(o.e.field, "body");
    run_fini(&o);
    CHECK_INT(run_ls(&o, "categorization", "{'labels': ['a']}", "[{\"id\": 1,", 1, 0, NULL),
              LP_EINVAL);
    CHECK_STR(o.e.field, "body");
    REQUIRE(strstr(o.e.message, "is not JSON"));
    run_fini(&o);
    /* JSON-MIN: flat objects without data. */
    CHECK_INT(run_ls(&o, "categorization", "{'labels': ['a']}",
                     "[{'id': 1, 'text': 'x', 'sentiment': 'a'}]", 0, 0, NULL),
              LP_EINVAL);
    CHECK_STR(o.e.field, "body");
    REQUIRE(strstr(o.e.message, "JSON-MIN"));
done:
    run_fini(&o);
}

TEST(labelstudio_survives_odd_shapes_with_bad_items_not_crashes)
{
    /* Each task is wrong in another way; none may crash or emit garbage. */
    const char *doc =
        "[{'id': 1, 'data': {'image': 'https://h.test/a.jpg'}, 'annotations': {'x': 1}, "
        "'predictions': 'no', 'meta': [1]},"
        " {'id': 'a', 'data': {'image': 'https://h.test/a.jpg'}, 'annotations': [{'result': "
        "'x'}]},"
        " {'id': 2, 'data': {'image': 'https://h.test/a.jpg'}, 'annotations': [7, {'result': [7, "
        "{'type': 'rectanglelabels'}]}]},"
        " {'id': 3, 'data': {'image': 'https://h.test/a.jpg'}, 'annotations': [{'result': "
        "[{'type': "
        "'polygonlabels', 'original_width': 10, 'original_height': 10, 'value': {'points': [[1], "
        "'x'], 'polygonlabels': ['car']}}]}]},"
        " {'id': 4, 'data': {'image': 'https://h.test/a.jpg'}, 'annotations': [{'result': "
        "[{'type': "
        "'rectanglelabels', 'value': {'x': 1, 'y': 1, 'width': 1, 'height': 1, "
        "'rectanglelabels': [3]}}]}]},"
        " {'id': 5, 'data': {'image': 'https://h.test/a.jpg'}, 'annotations': [{'result': "
        "[{'type': "
        "'keypointlabels', 'value': {'keypointlabels': ['car']}}]}]},"
        " {'id': 6, 'data': 'text'}, 7, null]";
    run_out o;
    CHECK_INT(run_ls(&o, "imageannotation", IMG_PARAMS, doc, 0, 1, NULL), 0);
    CHECK_INT(o.c.ntasks, 1); /* task 1: its annotations are not a list, so it has none */
    CHECK_AT(json_array_get(o.tasks, 0), "unique_id", "'labelstudio:1'");
    REQUIRE(!at(json_array_get(o.tasks, 0), "result"));
    CHECK_INT(o.c.nbad, 8);
    CHECK_STR(o.c.bad[0].e.field, "tasks[1].annotations[0]");
    CHECK_STR(o.c.bad[0].where, "body: tasks[1] id a");
    CHECK_STR(o.c.bad[1].e.field, "tasks[2].annotations[1].result[0]");
    CHECK_STR(o.c.bad[2].e.field, "tasks[3].annotations[0].result[0]");
    REQUIRE(strstr(o.c.bad[2].e.message, "value.points[0]"));
    CHECK_STR(o.c.bad[3].e.field, "tasks[4].annotations[0].result[0]");
    REQUIRE(strstr(o.c.bad[3].e.message, "value.rectanglelabels[0]: is not a string"));
    CHECK_STR(o.c.bad[4].e.field, "tasks[5].annotations[0].result[0]");
    REQUIRE(strstr(o.c.bad[4].e.message, "original_width"));
    CHECK_STR(o.c.bad[5].e.field, "tasks[6]");
    CHECK_STR(o.c.bad[6].e.field, "tasks[7]");
    CHECK_STR(o.c.bad[7].e.field, "tasks[8]");
done:
    run_fini(&o);
}

TEST(labelstudio_transcriptions_as_text_or_timed_segments_with_speakers)
{
    run_out o;
    CHECK_INT(run_ls(&o, "transcription", "{}",
                     "[{'id': 1, 'data': {'audio': 'https://h.test/call.mp3'}, 'annotations': "
                     "[{'result': [{'from_name': 'transcription', 'to_name': 'audio', 'type': "
                     "'textarea', 'value': {'text': ['Hello', 'there']}}]}]},"
                     " {'id': 2, 'data': {'audio': 'local/call.wav'}}]",
                     0, 1, NULL),
              0);
    CHECK_INT(o.c.ntasks, 1);
    const json_t *t = json_array_get(o.tasks, 0);
    CHECK_AT(t, "attachments",
             "[{'type': 'audio', 'url': 'https://h.test/call.mp3', 'name': "
             "'call.mp3'}]");
    CHECK_AT(t, "result", "{'text': 'Hello\\nthere'}");
    REQUIRE(!at(t, "data.audio"));
    CHECK_STR(o.c.bad[0].e.field, "tasks[1].data.audio");
    run_fini(&o);

    /* Per-region textareas, out of order, with the speakers' labels. */
    CHECK_INT(run_ls(&o, "transcription", "{'segments': true}",
                     "[{'id': 3, 'data': {'audio': 'https://h.test/c.wav'}, 'annotations': "
                     "[{'result': ["
                     "  {'id': 's2', 'type': 'textarea', 'value': {'start': 3.2, 'end': 7.9, "
                     "'text': ['My parcel is late.']}},"
                     "  {'id': 's1', 'type': 'labels', 'value': {'start': 0, 'end': 3.2, "
                     "'labels': ['agent']}},"
                     "  {'id': 's1', 'type': 'textarea', 'value': {'start': 0, 'end': 3.2, "
                     "'text': ['How can I help?']}},"
                     "  {'id': 's2', 'type': 'labels', 'value': {'start': 3.2, 'end': 7.9, "
                     "'labels': ['caller']}}]}]},"
                     " {'id': 4, 'data': {'audio': 'https://h.test/d.wav'}, 'annotations': "
                     "[{'result': [{'type': 'textarea', 'value': {'text': ['x']}}]}]}]",
                     0, 1, NULL),
              0);
    CHECK_INT(o.c.ntasks, 1);
    t = json_array_get(o.tasks, 0);
    CHECK_AT(t, "result.segments.0.text", "'How can I help?'");
    CHECK_AT(t, "result.segments.0.speaker", "'agent'");
    CHECK_NUM(t, "result.segments.0.end", 3.2);
    CHECK_AT(t, "result.segments.1.speaker", "'caller'");
    CHECK_NUM(t, "result.segments.1.start", 3.2);
    lp_verr e;
    REQUIRE(lp_kind_transcription.validate_response(o.p.params, t, at(t, "result"), "result", &e) ==
            0);
    CHECK_STR(o.c.bad[0].e.field, "tasks[1].annotations[0].result[0]");
    REQUIRE(strstr(o.c.bad[0].e.message, "start and end in seconds"));
done:
    run_fini(&o);
}

TEST(labelstudio_an_empty_choice_is_no_result_and_stays_in_the_history)
{
    run_out o;
    CHECK_INT(run_ls(&o, "categorization", "{'labels': ['a']}",
                     "[{'id': 1, 'data': {'text': 'x'}, 'annotations': [{'id': 4, 'result': []}]}]",
                     0, 1, NULL),
              0);
    const json_t *t = json_array_get(o.tasks, 0);
    REQUIRE(!at(t, "result"));
    CHECK_AT(t, "metadata.labelstudio_annotations", "[{'id': 4, 'result': []}]");
done:
    run_fini(&o);
}

TEST(labelstudio_finds_uploads_and_local_storage_files_in_the_source_or_under_image_base)
{
    const char *doc = "[{'id': 1, 'data': {'image': '/data/local-files/?d=imgs/dog.png'}},"
                      " {'id': 2, 'data': {'image': '/data/upload/9/0badcafe-cat.jpg'}},"
                      " {'id': 3, 'data': {'image': '/data/local-files/?d=other/x.png'}}]";
    const char *media[] = {"imgs/dog.png=10x20", "cat.jpg=30x40", NULL};
    run_out o;
    CHECK_INT(run_ls(&o, "imageannotation", IMG_PARAMS, doc, 0, 1, media), 0);
    CHECK_INT(o.c.ntasks, 2);
    CHECK_AT(json_array_get(o.tasks, 0), "attachments.0.name", "'dog.png'");
    CHECK_AT(json_array_get(o.tasks, 0), "data", "{'width': 10, 'height': 20}");
    CHECK_AT(json_array_get(o.tasks, 1), "attachments.0.name", "'cat.jpg'");
    CHECK_AT(json_array_get(o.tasks, 1), "data", "{'width': 30, 'height': 40}");
    CHECK_STR(o.c.bad[0].e.field, "tasks[2].data.image");
    run_fini(&o);
    /* With image_base every image not in the source has a URL. */
    image_base = "https://files.test/ls/";
    CHECK_INT(run_ls(&o, "imageannotation", IMG_PARAMS, doc, 0, 1, NULL), 0);
    image_base = NULL;
    CHECK_INT(o.c.ntasks, 3);
    CHECK_AT(json_array_get(o.tasks, 0), "attachments.0.url",
             "'https://files.test/ls/imgs/dog.png'");
    CHECK_AT(json_array_get(o.tasks, 1), "attachments.0.url",
             "'https://files.test/ls/data/upload/9/0badcafe-cat.jpg'");
done:
    run_fini(&o);
}
