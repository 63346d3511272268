/* test_export_zip.c -- the zip exports (yolo, voc) as encoders: tasks in,
 * a zip out, read back with libarchive's reader and every file checked
 * byte for byte; each task's entry leaves with that task. */
#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "test_kinds.h"

#define PARAMS "{'labels': ['car', 'piéton', {'name': '行人', 'description': 'walker'}]}"

#define TASK(id, att, data, result)                                                    \
    "{'id': " #id ", 'unique_id': 'u" #id "', 'attachments': [" att "], 'data': " data \
    ", 'result': " result "}"
#define URL(u)   "{'type': 'image', 'url': '" u "'}"
#define RESP(as) "{'response': {'annotations': [" as "]}, 'confidence': 1, 'method': 'auto'}"

static const char *const tasks[] = {
    TASK(7, URL("https://h.test/a/b.jpg?x=1"), "{'width': 640, 'height': 480}",
         RESP("{'type': 'box', 'label': 'car', 'x': 0, 'y': 0, 'width': 640, 'height': 480},"
              "{'type': 'box', 'label': 'car', 'x': 540, 'y': 430, 'width': 100, 'height': 50},"
              "{'type': 'polygon', 'label': 'piéton', 'vertices': [{'x': 0, 'y': 0}, {'x': 4, "
              "'y': 0}, {'x': 4, 'y': 1}, {'x': 1, 'y': 1}, {'x': 1, 'y': 3}, {'x': 0, 'y': 3}]},"
              "{'type': 'line', 'label': 'car', 'vertices': [{'x': 0, 'y': 0}, {'x': 1, 'y': "
              "1}]},"
              "{'type': 'point', 'label': 'piéton', 'x': 9.5, 'y': 0.1}")),
    /* no result: left out */
    "{'id': 8, 'attachments': [" URL("https://h.test/c.jpg") "], 'data': {}}",
    /* no shape: an empty file */
    TASK(9, "{'type': 'image', 'file': 'ab12'}", "{'width': 1920.0, 'height': 1080}", RESP("")),
    /* no size: left out and named */
    TASK(10, URL("https://h.test/nosize.png"), "{}",
         RESP("{'type': 'box', 'label': '行人', 'x': 1, 'y': 2, 'width': 3, 'height': 4}")),
    /* a name that is not one path segment; a sub-pixel box */
    "{'id': 11, 'unique_id': '../x.y', 'attachments': [{'type': 'image', 'url': 'rel/'}], "
    "'data': {'width': 10, 'height': 10}, 'result': " RESP(
        "{'type': 'box', 'label': 'car', 'x': 0.1, 'y': 0.2, 'width': 0.3, 'height': "
        "0.4}") "}",
    /* another size; a non-ASCII name and label */
    TASK(12, URL("https://h.test/街道.jpg"), "{'width': 1000, 'height': 500}",
         RESP("{'type': 'box', 'label': '行人', 'x': 250, 'y': 100, 'width': 500, 'height': "
              "300}")),
    /* the name of task 7's image but for case, from another folder */
    TASK(13, URL("https://h.test/val/B.JPG"), "{'width': 10, 'height': 10}", RESP("")),
};

/* Runs format name over tasks; returns the zip's files as {path: text}
 * in *files and their paths in order in *order (both owned by the
 * caller), 0 on success.  Checks that each task that makes a file writes
 * its entry in its own call, and that end() takes one call. */
static int run(const char *name, json_t **files, json_t **order)
{
    const lp_export_format *fmt = lp_export_find(name);
    json_t *p = NULL;
    lp_verr e;
    if (!fmt || kt_params(&lp_kind_imageannotation, PARAMS, &p, &e)) return -1;
    lp_export_ctx cx = {.kind = "imageannotation", .params = p};
    lp_buf out = {0};
    if (fmt->begin) fmt->begin(&cx, &out);
    int rc = 0;
    for (size_t i = 0; i < LP_ARRAY_LEN(tasks); i++) {
        json_t *t = kt_json(tasks[i]);
        char *s = json_dumps(t, JSON_COMPACT);
        size_t before = out.len;
        fmt->task(&cx, &out, i, s, strlen(s));
        /* tasks 1 and 3 are left out; every other one is a local header */
        int wrote = out.len > before + 4 && !memcmp(out.data + before, "PK\3\4", 4);
        if (wrote != (i != 1 && i != 3)) {
            fprintf(stderr, "task %zu: %s\n", i, wrote ? "wrote an entry" : "wrote no entry");
            rc = -1;
        }
        free(s);
        json_decref(t);
    }
    if (fmt->end(&cx, &out, LP_ARRAY_LEN(tasks)) != 0) rc = -1;
    fmt->free_state(&cx);
    json_decref(p);
    *files = json_object();
    *order = json_array();
    /* the reader gives a UTF-8 name only when the locale can show it */
    setlocale(LC_CTYPE, "C.UTF-8");
    struct archive *a = archive_read_new();
    archive_read_support_format_zip(a);
    struct archive_entry *ent;
    if (archive_read_open_memory(a, out.data, out.len) != ARCHIVE_OK) rc = -1;
    while (rc == 0 && archive_read_next_header(a, &ent) == ARCHIVE_OK) {
        const char *path = archive_entry_pathname_utf8(ent);
        lp_buf data = {0};
        char chunk[4096];
        la_ssize_t n;
        while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0)
            lp_buf_append(&data, chunk, (size_t)n);
        if (n < 0 || (size_t)archive_entry_size(ent) != data.len) rc = -1;
        json_object_set_new(*files, path, json_stringn(data.data ? data.data : "", data.len));
        json_array_append_new(*order, json_string(path));
        lp_buf_fini(&data);
    }
    archive_read_free(a);
    setlocale(LC_CTYPE, "C");
    lp_buf_fini(&out);
    return rc;
}

#define FILE_IS(files, path, want) CHECK_STR(json_string_value(json_object_get(files, path)), want)

TEST(yolo_zip_holds_data_yaml_a_label_file_per_image_and_a_readme)
{
    json_t *files, *order;
    CHECK_INT(run("yolo", &files, &order), 0);
    char *o = json_dumps(order, JSON_COMPACT);
    CHECK_STR(o, "[\"data.yaml\",\"labels/b.txt\",\"labels/ab12.txt\",\"labels/.._x.txt\","
                 "\"labels/街道.txt\",\"labels/B-task-13.txt\",\"README.txt\"]");
    free(o);
    FILE_IS(files, "data.yaml",
            "# Loupe export (YOLO detection). Put each image in images/ beside labels/;\n"
            "# labels/NAME.txt holds the boxes of image NAME.jpg (or .png, ...).\n"
            "train: images\nval: images\nnc: 3\nnames:\n"
            "  0: \"car\"\n  1: \"piéton\"\n  2: \"行人\"\n");
    /* the whole image; the bottom-right corner; the polygon's extent */
    FILE_IS(files, "labels/b.txt",
            "0 0.500000 0.500000 1.000000 1.000000\n"
            "0 0.921875 0.947917 0.156250 0.104167\n"
            "1 0.003125 0.003125 0.006250 0.006250\n");
    FILE_IS(files, "labels/ab12.txt", "");
    FILE_IS(files, "labels/.._x.txt", "0 0.025000 0.040000 0.030000 0.040000\n");
    FILE_IS(files, "labels/街道.txt", "2 0.500000 0.500000 0.500000 0.600000\n");
    FILE_IS(files, "README.txt",
            "Loupe imageannotation export, format yolo: 5 images, 5 objects.\n\n"
            "Left out:\n"
            "  1 task without a result\n"
            "  1 image without data.width and data.height (coordinates cannot be placed)\n"
            "  1 point (no form in this format)\n"
            "  1 line (no form in this format)\n\n"
            "Images left out without a size:\n"
            "  nosize.png (task 10)\n\n"
            "1 image had the name of an image before it: its files are named\n"
            "STEM-task-ID instead (save the image under that name too):\n"
            "  B.JPG (task 13): B-task-13\n");
    FILE_IS(files, "labels/B-task-13.txt", "");
    json_decref(files);
    json_decref(order);
}

#define OBJ(name, x1, y1, x2, y2)                                                          \
    "\t<object>\n\t\t<name>" name "</name>\n\t\t<pose>Unspecified</pose>\n"                \
    "\t\t<truncated>0</truncated>\n\t\t<difficult>0</difficult>\n\t\t<bndbox>\n"           \
    "\t\t\t<xmin>" #x1 "</xmin>\n\t\t\t<ymin>" #y1 "</ymin>\n\t\t\t<xmax>" #x2 "</xmax>\n" \
    "\t\t\t<ymax>" #y2 "</ymax>\n\t\t</bndbox>\n\t</object>\n"
#define XML(file, w, h, objects)                                                     \
    "<annotation>\n\t<folder>JPEGImages</folder>\n\t<filename>" file "</filename>\n" \
    "\t<source>\n\t\t<database>Loupe</database>\n\t</source>\n"                      \
    "\t<size>\n\t\t<width>" #w "</width>\n\t\t<height>" #h "</height>\n"             \
    "\t\t<depth>3</depth>\n\t</size>\n\t<segmented>0</segmented>\n" objects "</annotation>\n"

TEST(voc_zip_holds_an_xml_per_image_with_1_based_pixel_boxes)
{
    json_t *files, *order;
    CHECK_INT(run("voc", &files, &order), 0);
    char *o = json_dumps(order, JSON_COMPACT);
    CHECK_STR(o, "[\"Annotations/b.xml\",\"Annotations/ab12.xml\",\"Annotations/.._x.xml\","
                 "\"Annotations/街道.xml\",\"Annotations/B-task-13.xml\",\"README.txt\"]");
    free(o);
    FILE_IS(files, "Annotations/b.xml",
            XML("b.jpg", 640, 480,
                OBJ("car", 1, 1, 640, 480) OBJ("car", 541, 431, 640, 480)
                    OBJ("piéton", 1, 1, 4, 3)));
    FILE_IS(files, "Annotations/ab12.xml", XML("ab12", 1920, 1080, ""));
    /* its own image's name inside, under a path of its own */
    FILE_IS(files, "Annotations/B-task-13.xml", XML("B.JPG", 10, 10, ""));
    FILE_IS(files, "Annotations/.._x.xml", XML("../x.y", 10, 10, OBJ("car", 1, 1, 1, 1)));
    FILE_IS(files, "Annotations/街道.xml",
            XML("街道.jpg", 1000, 500, OBJ("行人", 251, 101, 750, 400)));
    FILE_IS(files, "README.txt",
            "Loupe imageannotation export, format voc: 5 images, 5 objects.\n\n"
            "Left out:\n"
            "  1 task without a result\n"
            "  1 image without data.width and data.height (coordinates cannot be placed)\n"
            "  1 point (no form in this format)\n"
            "  1 line (no form in this format)\n\n"
            "Images left out without a size:\n"
            "  nosize.png (task 10)\n\n"
            "1 image had the name of an image before it: its files are named\n"
            "STEM-task-ID instead (save the image under that name too):\n"
            "  B.JPG (task 13): B-task-13\n");
    json_decref(files);
    json_decref(order);
}

TEST(voc_escapes_xml_in_names)
{
    const lp_export_format *fmt = lp_export_find("voc");
    json_t *p = NULL;
    lp_verr e;
    CHECK_INT(kt_params(&lp_kind_imageannotation, "{'labels': ['a<b & c>']}", &p, &e), 0);
    lp_export_ctx cx = {.kind = "imageannotation", .params = p};
    lp_buf out = {0};
    fmt->begin(&cx, &out);
    json_t *t = kt_json("{'id': 1, 'attachments': [{'type': 'image', 'url': 'https://h/x&y.png'}], "
                        "'data': {'width': 2, 'height': 2}, 'result': {'response': "
                        "{'annotations': [{'type': 'box', 'label': 'a<b & c>', 'x': 0, "
                        "'y': 0, 'width': 1, 'height': 1}]}}}");
    char *s = json_dumps(t, JSON_COMPACT);
    fmt->task(&cx, &out, 0, s, strlen(s));
    CHECK_INT(fmt->end(&cx, &out, 1), 0);
    fmt->free_state(&cx);
    struct archive *a = archive_read_new();
    archive_read_support_format_zip(a);
    struct archive_entry *ent;
    CHECK_INT(archive_read_open_memory(a, out.data, out.len), ARCHIVE_OK);
    CHECK_INT(archive_read_next_header(a, &ent), ARCHIVE_OK);
    CHECK_STR(archive_entry_pathname_utf8(ent), "Annotations/x&y.xml");
    char xml[2048] = {0};
    CHECK(archive_read_data(a, xml, sizeof xml - 1) > 0);
    CHECK(strstr(xml, "<filename>x&amp;y.png</filename>"));
    CHECK(strstr(xml, "<name>a&lt;b &amp; c&gt;</name>"));
    archive_read_free(a);
    free(s);
    json_decref(t);
    json_decref(p);
    lp_buf_fini(&out);
}

TEST(zip_export_dropped_part_way_frees_without_writing_more)
{
    const lp_export_format *fmt = lp_export_find("yolo");
    json_t *p = kt_json(PARAMS);
    lp_export_ctx cx = {.kind = "imageannotation", .params = p};
    lp_buf out = {0};
    fmt->begin(&cx, &out);
    json_t *t = kt_json(tasks[0]);
    char *s = json_dumps(t, JSON_COMPACT);
    fmt->task(&cx, &out, 0, s, strlen(s));
    size_t len = out.len;
    fmt->free_state(&cx); /* the client went away: no central directory */
    CHECK_INT(out.len, len);
    CHECK(cx.state == NULL);
    free(s);
    json_decref(t);
    json_decref(p);
    lp_buf_fini(&out);
}
