/* test_export_coco.c -- the COCO export as an encoder: tasks in, one COCO
 * "instances" object out, checked field by field; the end in bounded
 * parts; file names; polygon areas. */
#include <stdlib.h>

#include "export.h"
#include "test_kinds.h"

#define PARAMS "{'labels': ['car', 'piéton', {'name': '行人', 'description': 'walker'}]}"

/* Runs the coco export over tasks (single-quoted JSON texts) and returns
 * its bytes parsed (NULL, with a message, if they are not JSON).  *parts
 * (may be NULL) receives how many calls end() took, *largest the largest
 * part end() wrote. */
static json_t *run(const char *params, const char *const *tasks, size_t n, int *parts,
                   size_t *largest)
{
    const lp_export_format *fmt = lp_export_find("coco");
    json_t *p = NULL;
    lp_verr e;
    if (kt_params(&lp_kind_imageannotation, params, &p, &e)) {
        fprintf(stderr, "bad params: %s\n", e.message);
        return NULL;
    }
    lp_export_ctx cx = {.kind = "imageannotation", .params = p};
    lp_buf out = {0}, part = {0};
    kt_export_tasks(fmt, &cx, &out, tasks, n);
    int rc, k = 0;
    size_t big = 0;
    do {
        part.len = 0;
        rc = fmt->end(&cx, &part, n);
        k++;
        if (part.len > big) big = part.len;
        lp_buf_append(&out, part.data ? part.data : "", part.len);
    } while (rc == 1);
    fmt->free_state(&cx);
    if (parts) *parts = k;
    if (largest) *largest = big;
    json_error_t err;
    json_t *doc = rc == 0 ? json_loadb(out.data, out.len, 0, &err) : NULL;
    if (!doc) fprintf(stderr, "end %d; not JSON (%s): %.300s\n", rc, err.text, out.data);
    lp_buf_fini(&out);
    lp_buf_fini(&part);
    json_decref(p);
    return doc;
}

#define TASK(id, att, data, result)                                                    \
    "{'id': " #id ", 'unique_id': 'u" #id "', 'attachments': [" att "], 'data': " data \
    ", 'result': " result "}"
#define URL(u)   "{'type': 'image', 'url': '" u "'}"
#define RESP(as) "{'response': {'annotations': [" as "]}, 'confidence': 1, 'method': 'auto'}"

TEST(coco_writes_images_annotations_and_categories_field_by_field)
{
    const char *tasks[] = {
        TASK(7, URL("https://h.test/a/b.jpg?x=1"), "{'width': 640, 'height': 480}",
             RESP("{'type': 'box', 'label': 'car', 'x': 540, 'y': 430, 'width': 100, 'height': "
                  "50},"
                  "{'type': 'polygon', 'label': 'piéton', 'vertices': [{'x': 0, 'y': 0}, {'x': "
                  "4, 'y': 0}, {'x': 4, 'y': 1}, {'x': 1, 'y': 1}, {'x': 1, 'y': 3}, {'x': 0, "
                  "'y': 3}]},"
                  "{'type': 'line', 'label': 'car', 'vertices': [{'x': 0, 'y': 0}, {'x': 1, "
                  "'y': 1}]},"
                  "{'type': 'point', 'label': 'piéton', 'x': 900.5, 'y': 0.1}")),
        /* no result: left out */
        "{'id': 8, 'attachments': [" URL("https://h.test/c.jpg") "], 'data': {}}",
        /* no shape: listed */
        TASK(9, "{'type': 'image', 'file': 'ab12'}", "{'width': 1920.0, 'height': 1080}", RESP("")),
        /* no size */
        TASK(10, URL("/v1/files/ab12"), "{}",
             RESP("{'type': 'box', 'label': '行人', 'x': 1, 'y': 2, 'width': 3, 'height': 4},"
                  "{'type': 'box', 'label': 'gone', 'x': 1, 'y': 2, 'width': 3, 'height': 4}")),
    };
    json_t *doc = run(PARAMS, tasks, LP_ARRAY_LEN(tasks), NULL, NULL);
    CHECK(doc);
    int images =
        kt_equal_at(doc, "images",
                    "[{'id': 7, 'file_name': 'b.jpg', 'width': 640, 'height': 480, 'coco_url': "
                    "'https://h.test/a/b.jpg?x=1'},"
                    " {'id': 9, 'file_name': 'ab12', 'width': 1920, 'height': 1080},"
                    " {'id': 10, 'file_name': 'ab12', 'width': 0, 'height': 0}]");
    int anns = kt_equal_at(
        doc, "annotations",
        "[{'id': 1, 'image_id': 7, 'category_id': 1, 'segmentation': [], 'area': 5000, 'bbox': "
        "[540, 430, 100, 50], 'iscrowd': 0},"
        " {'id': 2, 'image_id': 7, 'category_id': 2, 'segmentation': [[0, 0, 4, 0, 4, 1, 1, 1, 1, "
        "3, 0, 3]], 'area': 6, 'bbox': [0, 0, 4, 3], 'iscrowd': 0, 'keypoints': [0, 0, 0], "
        "'num_keypoints': 0},"
        " {'id': 3, 'image_id': 7, 'category_id': 2, 'segmentation': [], 'keypoints': [900.5, "
        "0.1, 2], 'num_keypoints': 1, 'area': 0, 'bbox': [900.5, 0.1, 0, 0], 'iscrowd': 0},"
        " {'id': 4, 'image_id': 10, 'category_id': 3, 'segmentation': [], 'area': 12, 'bbox': "
        "[1, 2, 3, 4], 'iscrowd': 0}]");
    int cats = kt_equal_at(doc, "categories",
                           "[{'id': 1, 'name': 'car', 'supercategory': ''},"
                           " {'id': 2, 'name': 'piéton', 'supercategory': '', 'keypoints': "
                           "['piéton'], 'skeleton': []},"
                           " {'id': 3, 'name': '行人', 'supercategory': ''}]");
    int desc = kt_equal_at(doc, "info.description",
                           "'Loupe imageannotation export: 3 images, 4 annotations. Left out: 1 "
                           "task without a result; 1 line (COCO has no lines); 1 shape with a "
                           "label not in the project. 1 image without data.width and "
                           "data.height: width and height 0'");
    int year = json_is_integer(json_object_get(json_object_get(doc, "info"), "year"));
    int licenses = kt_equal_at(doc, "licenses", "[]");
    json_decref(doc);
    CHECK(images);
    CHECK(anns);
    CHECK(cats);
    CHECK(desc);
    CHECK(year);
    CHECK(licenses);
}

TEST(coco_polygon_area_is_the_shoelace_formula_either_way_round)
{
    /* a clockwise non-convex arrow: a 6x2 bar plus a triangle of 3 */
    const char *tasks[] = {TASK(
        1, URL("https://h.test/x.jpg"), "{}",
        RESP("{'type': 'polygon', 'label': 'car', 'vertices': [{'x': 0, 'y': 1}, {'x': 0, 'y': "
             "3}, {'x': 6, 'y': 3}, {'x': 6, 'y': 4}, {'x': 8, 'y': 2}, {'x': 6, 'y': 0}, {'x': "
             "6, 'y': 1}]},"
             "{'type': 'polygon', 'label': 'car', 'vertices': [{'x': 0.5, 'y': 0.5}, {'x': "
             "10.5, 'y': 0.5}, {'x': 0.5, 'y': 20.5}]}"))};
    json_t *doc = run(PARAMS, tasks, 1, NULL, NULL);
    CHECK(doc);
    double a0 = json_number_value(
        json_object_get(json_array_get(json_object_get(doc, "annotations"), 0), "area"));
    int bbox0 = kt_equal_at(doc, "annotations.0.bbox", "[0, 0, 8, 4]");
    double a1 = json_number_value(
        json_object_get(json_array_get(json_object_get(doc, "annotations"), 1), "area"));
    int bbox1 = kt_equal_at(doc, "annotations.1.bbox", "[0.5, 0.5, 10, 20]");
    json_decref(doc);
    CHECK_NEAR(a0, 6 * 2 + 4, 1e-12);
    CHECK(bbox0);
    CHECK_NEAR(a1, 100, 1e-12);
    CHECK(bbox1);
}

TEST(coco_file_name_falls_back_from_url_to_file_to_unique_id_to_id)
{
    const char *tasks[] = {
        TASK(1, URL("https://h.test/dir/"), "{}", RESP("")),
        "{'id': 2, 'unique_id': 'cam/7', 'attachments': [" URL(
            "https://h.test/") "], 'data': {}, 'result': " RESP("") "}",
        "{'id': 3, 'unique_id': null, 'attachments': [{'type': 'image', 'content': 'x'}], "
        "'data': {}, 'result': " RESP("") "}",
        TASK(4, "{'type': 'text', 'url': 'https://h.test/t.txt'}, " URL("x/y.png#z"), "{}",
             RESP("")),
    };
    json_t *doc = run(PARAMS, tasks, LP_ARRAY_LEN(tasks), NULL, NULL);
    CHECK(doc);
    int names = kt_equal_at(doc, "images",
                            "[{'id': 1, 'file_name': 'u1', 'width': 0, 'height': 0, 'coco_url': "
                            "'https://h.test/dir/'},"
                            " {'id': 2, 'file_name': 'cam/7', 'width': 0, 'height': 0, "
                            "'coco_url': 'https://h.test/'},"
                            " {'id': 3, 'file_name': '3', 'width': 0, 'height': 0},"
                            " {'id': 4, 'file_name': 'y.png', 'width': 0, 'height': 0}]");
    json_decref(doc);
    CHECK(names);
}

TEST(coco_end_comes_in_bounded_parts_and_the_file_stays_whole)
{
    enum { N = 2000, PER = 10 };
    const char **tasks = lp_calloc(N, sizeof *tasks);
    for (size_t i = 0; i < N; i++) {
        lp_buf b = {0};
        lp_buf_printf(&b,
                      "{'id': %zu, 'attachments': [" URL(
                          "https://h.test/%zu.jpg") "], 'data': "
                                                    "{'width': 100, 'height': 100}, 'result': "
                                                    "{'response': {'annotations': [",
                      i + 1, i);
        for (int k = 0; k < PER; k++)
            lp_buf_printf(&b,
                          "%s{'type': 'box', 'label': 'car', 'x': %d, 'y': 1, 'width': 2.5, "
                          "'height': 3}",
                          k ? "," : "", k);
        lp_buf_puts(&b, "]}}}");
        tasks[i] = b.data;
    }
    int parts;
    size_t largest;
    json_t *doc = run(PARAMS, tasks, N, &parts, &largest);
    for (size_t i = 0; i < N; i++) free((char *)tasks[i]);
    free(tasks);
    CHECK(doc);
    const json_t *anns = json_object_get(doc, "annotations");
    size_t n = json_array_size(anns);
    int last = kt_equal_at(doc, "annotations.19999",
                           "{'id': 20000, 'image_id': 2000, 'category_id': 1, 'segmentation': "
                           "[], 'area': 7.5, 'bbox': [9, 1, 2.5, 3], 'iscrowd': 0}");
    size_t images = json_array_size(json_object_get(doc, "images"));
    json_decref(doc);
    CHECK_INT(n, N * PER);
    CHECK(last);
    CHECK_INT(images, N);
    /* ~2 MB of annotations: several parts, none much over 256 KiB */
    CHECK(parts >= 5);
    CHECK(largest < 256 * 1024 + 1024);
}

TEST(coco_exports_only_imageannotation)
{
    const lp_export_format *fmt = lp_export_find("coco");
    CHECK(fmt);
    CHECK(lp_export_fits(fmt, "imageannotation"));
    CHECK(!lp_export_fits(fmt, "categorization"));
    CHECK_STR(fmt->content_type, "application/json");
}

TEST(coco_without_a_spool_fails_at_the_end_and_never_looks_complete)
{
    const char *old = getenv("TMPDIR");
    char *saved = old ? lp_strdup(old) : NULL;
    setenv("TMPDIR", "/nonexistent/loupe", 1);
    const lp_export_format *fmt = lp_export_find("coco");
    json_t *p = kt_json("{'labels': [{'name': 'car'}]}");
    lp_export_ctx cx = {.kind = "imageannotation", .params = p};
    lp_buf out = {0};
    fmt->begin(&cx, &out);
    const char *t = "{\"id\":1,\"attachments\":[],\"data\":{},\"result\":{\"response\":"
                    "{\"annotations\":[{\"type\":\"point\",\"label\":\"car\",\"x\":1,\"y\":2}]}}}";
    fmt->task(&cx, &out, 0, t, strlen(t));
    int rc = fmt->end(&cx, &out, 1);
    fmt->free_state(&cx);
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
    lp_buf_fini(&out);
    json_decref(p);
    CHECK_INT(rc, LP_EIO);
}
