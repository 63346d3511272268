/* test_labelstudio.c -- Loupe in Label Studio's shapes (labelstudio.h):
 * the labeling config of each kind, tasks with their media, and responses
 * turned into regions and read back by the importer's mapping unchanged. */
#include <stdlib.h>
#include <string.h>

#include "labelstudio.h"
#include "test_kinds.h"

typedef struct proj {
    lp_project p;
} proj;

static int make(proj *o, const char *kind, const char *params)
{
    memset(o, 0, sizeof *o);
    lp_verr e;
    o->p.kind = lp_kind_find(kind);
    o->p.name = "t";
    if (!o->p.kind || kt_params(o->p.kind, params, &o->p.params, &e)) {
        fprintf(stderr, "bad params: %s\n", o->p.kind ? e.message : kind);
        return -1;
    }
    return 0;
}

/* response through regions and back: 1 when it comes back equal. */
static int round_trip(const proj *o, const char *data_text, const char *response_text)
{
    json_t *data = kt_json(data_text), *resp = kt_json(response_text);
    json_t *regions = lp_ls_result(&o->p, data, resp), *back = NULL;
    char why[300] = "";
    int rc = lp_ls_response(&o->p, data, regions, &back, why, sizeof why);
    int same = rc == 0 && back && json_equal(back, resp);
    if (!same) {
        char *a = json_dumps(regions, JSON_COMPACT), *b = back ? json_dumps(back, JSON_COMPACT) : NULL;
        fprintf(stderr, "regions %s\nback %s (%s)\n", a, b ? b : "null", why);
        free(a);
        free(b);
    }
    json_decref(data);
    json_decref(resp);
    json_decref(regions);
    json_decref(back);
    return same;
}

TEST(ls_config_of_a_categorization_escapes_its_labels)
{
    proj o;
    CHECK_INT(make(&o, "categorization", "{'labels': ['pos', 'a<b & c>'], 'multiple': true}"), 0);
    char why[300];
    char *cfg = lp_ls_label_config(&o.p, 0, why, sizeof why);
    CHECK(cfg != NULL);
    CHECK(strstr(cfg, "<Text name=\"text\" value=\"$text\"/>") != NULL);
    CHECK(strstr(cfg, "<Choices name=\"label\" toName=\"text\" choice=\"multiple\">") != NULL);
    CHECK(strstr(cfg, "<Choice value=\"a&lt;b &amp; c&gt;\"/>") != NULL);
    free(cfg);
    cfg = lp_ls_label_config(&o.p, 1, why, sizeof why); /* image tasks */
    CHECK(strstr(cfg, "<Image name=\"image\" value=\"$image\"/>") != NULL);
    CHECK(strstr(cfg, "toName=\"image\"") != NULL);
    free(cfg);
    json_decref(o.p.params);
}

TEST(ls_config_of_each_kind_and_none_for_comparison)
{
    static const char *const cases[][3] = {
        {"imageannotation", "{'labels': ['car']}", "<RectangleLabels name=\"label\" toName=\"image\">"},
        {"namedentityrecognition", "{'labels': ['PER'], 'relations': ['knows']}",
         "<Relation value=\"knows\"/>"},
        {"transcription", "{}", "<TextArea name=\"transcription\" toName=\"audio\"/>"},
        {"textcollection", "{'fields': [{'name': 'summary'}]}",
         "<TextArea name=\"summary\" toName=\"text\"/>"},
        {"rating", "{'criteria': [{'name': 'fluency', 'min': 1, 'max': 7}]}",
         "<Rating name=\"fluency\" toName=\"text\" maxRating=\"7\"/>"},
    };
    char why[300];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        proj o;
        CHECK_INT(make(&o, cases[i][0], cases[i][1]), 0);
        char *cfg = lp_ls_label_config(&o.p, 0, why, sizeof why);
        CHECK(cfg != NULL);
        if (!strstr(cfg, cases[i][2])) {
            lp_test_fail(__FILE__, __LINE__, "%s: %s lacks %s", cases[i][0], cfg, cases[i][2]);
            return;
        }
        free(cfg);
        json_decref(o.p.params);
    }
    proj o;
    CHECK_INT(make(&o, "comparison", "{}"), 0);
    CHECK(lp_ls_label_config(&o.p, 0, why, sizeof why) == NULL);
    CHECK(strstr(why, "comparison project cannot") != NULL);
    json_decref(o.p.params);
}

TEST(ls_regions_round_trip_for_categories_boxes_and_spans)
{
    proj o;
    CHECK_INT(make(&o, "categorization", "{'labels': ['pos', 'neg']}"), 0);
    CHECK(round_trip(&o, "{'text': 'hi'}", "{'labels': ['neg']}"));
    json_decref(o.p.params);

    CHECK_INT(make(&o, "imageannotation", "{'labels': ['car', 'dog']}"), 0);
    CHECK(round_trip(&o, "{'width': 200, 'height': 100}",
                     "{'annotations': [{'type': 'box', 'label': 'car', 'id': 'b1', 'x': 10, 'y': 20, "
                     "'width': 50, 'height': 30}, {'type': 'polygon', 'label': 'dog', 'id': 'p1', "
                     "'vertices': [{'x': 0, 'y': 0}, {'x': 100, 'y': 0}, {'x': 50, 'y': 50}]}, "
                     "{'type': 'point', 'label': 'dog', 'id': 'k1', 'x': 150, 'y': 75}]}"));
    json_decref(o.p.params);

    /* Offsets are code points in Loupe and UTF-16 units in Label Studio:
     * the emoji before "Paris" counts 2 there. */
    CHECK_INT(make(&o, "namedentityrecognition",
                   "{'labels': ['PER', 'LOC'], 'relations': ['lives_in']}"),
              0);
    CHECK(round_trip(&o, "{'text': 'Ann \xf0\x9f\x98\x80 Paris'}",
                     "{'spans': [{'start': 0, 'end': 3, 'label': 'PER', 'text': 'Ann'}, "
                     "{'start': 6, 'end': 11, 'label': 'LOC', 'text': 'Paris'}], 'relations': "
                     "[{'from': 0, 'to': 1, 'label': 'lives_in'}]}"));
    json_t *data = kt_json("{'text': 'Ann \xf0\x9f\x98\x80 Paris'}");
    json_t *resp = kt_json("{'spans': [{'start': 6, 'end': 11, 'label': 'LOC'}]}");
    json_t *regions = lp_ls_result(&o.p, data, resp);
    CHECK(kt_equal_at(regions, "0.value.start", "7"));
    CHECK(kt_equal_at(regions, "0.value.end", "12"));
    json_decref(regions);
    json_decref(resp);
    json_decref(data);
    json_decref(o.p.params);
}

TEST(ls_regions_round_trip_for_texts_and_ratings)
{
    proj o;
    CHECK_INT(make(&o, "transcription", "{}"), 0);
    CHECK(round_trip(&o, "{}", "{'text': 'hello\\nworld'}"));
    json_decref(o.p.params);
    CHECK_INT(make(&o, "transcription", "{'segments': true}"), 0);
    CHECK(round_trip(&o, "{}",
                     "{'segments': [{'start': 0.5, 'end': 1.5, 'text': 'hi', 'speaker': 'A'}, "
                     "{'start': 2.0, 'end': 3.0, 'text': 'yo'}]}"));
    json_decref(o.p.params);
    CHECK_INT(make(&o, "textcollection", "{}"), 0);
    CHECK(round_trip(&o, "{'text': 'q'}", "{'text': 'an answer'}"));
    json_decref(o.p.params);
    CHECK_INT(make(&o, "textcollection", "{'fields': [{'name': 'title'}, {'name': 'body'}]}"), 0);
    CHECK(round_trip(&o, "{'text': 'q'}", "{'fields': {'title': 'T', 'body': 'B'}}"));
    json_decref(o.p.params);
    CHECK_INT(make(&o, "rating", "{'criteria': [{'name': 'fluency'}, {'name': 'accuracy'}]}"), 0);
    CHECK(round_trip(&o, "{'text': 'q'}", "{'ratings': {'fluency': 4.0, 'accuracy': 2.0}}"));
    json_decref(o.p.params);
}

TEST(ls_bad_regions_are_refused_with_the_region_named)
{
    proj o;
    CHECK_INT(make(&o, "categorization", "{'labels': ['pos', 'neg']}"), 0);
    json_t *data = kt_json("{'text': 'x'}"), *back = NULL;
    json_t *regions = kt_json("[{'type': 'rectanglelabels', 'value': {}}]");
    char why[300] = "";
    CHECK_INT(lp_ls_response(&o.p, data, regions, &back, why, sizeof why), -1);
    CHECK(strstr(why, "prediction.result[0]") != NULL);
    CHECK(back == NULL);
    json_decref(regions);
    regions = kt_json("'not a list'");
    CHECK_INT(lp_ls_response(&o.p, data, regions, &back, why, sizeof why), -1);
    json_decref(regions);
    json_decref(data);
    json_decref(o.p.params);
}

TEST(ls_task_names_its_media_by_url)
{
    json_t *t = kt_json("{'id': 7, 'data': {'text': 'x'}, 'attachments': [{'type': 'image', "
                        "'file': 'abc'}, {'type': 'image', 'url': 'http://e.x/2.png'}, "
                        "{'type': 'audio', 'url': 'http://e.x/a.mp3'}]}");
    json_t *ls = lp_ls_task(t);
    CHECK(kt_equal_at(ls, "id", "7"));
    CHECK(kt_equal_at(ls, "data.text", "\"x\""));
    CHECK(kt_equal_at(ls, "data.image", "\"/v1/files/abc\"")); /* the first image */
    CHECK(kt_equal_at(ls, "data.audio", "\"http://e.x/a.mp3\""));
    json_decref(ls);
    json_decref(t);
}
