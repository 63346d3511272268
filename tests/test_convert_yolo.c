/* test_convert_yolo.c -- the YOLO converter on sources built in memory:
 * class names in each data.yaml form and from classes.txt, label files
 * found by Ultralytics' images/ -> labels/ rule, beside the image and by
 * stem; boxes at the border (six-decimal rounding put back on it),
 * images of different sizes, polygons, empty and missing label files,
 * bad lines naming FILE:LINE and the column, sources refused whole. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_convert_img.h"

#define PARAMS "{'labels': ['car', 'piéton', '行人']}"
#define SHA    "0000000000000000000000000000000000000000000000000000000000000000"

static void text(lp_src *s, const char *name, const char *data)
{
    lp_src_add_text(s, name, data, strlen(data));
}

/* The bad item reported at where, or NULL. */
static const struct lp_convert_bad *bad_at(const ct_out *o, const char *where)
{
    for (size_t i = 0; i < o->c.nbad; i++)
        if (!strcmp(o->c.bad[i].where, where)) return &o->c.bad[i];
    return NULL;
}

TEST(yolo_reads_boxes_polygons_and_empty_images_of_each_size)
{
    lp_src s = {0};
    text(&s, "data.yaml",
         "# exported\npath: .\ntrain: images/train\nval: images/val\nnc: 3\nnames:\n"
         "  0: car\n  1: \"pi\\u00e9ton\"  # escaped\n  2: '行人'\n");
    /* 640x480: boxes touching each border (six decimals, as exported), a polygon */
    lp_src_add_media(&s, "images/train/street.png", "image", SHA, 640, 480);
    text(&s, "labels/train/street.txt",
         "0 0.078125 0.052083 0.156250 0.104167\n"
         "0 0.921875 0.947917 0.156250 0.104167\r\n"
         "\n"
         "0 0.500000 0.500000 1.000000 1.000000\n"
         "1 0 0 0.5 0 0.5 0.5 0.25 1\n");
    /* 1920x1080 in another folder, no trailing newline */
    lp_src_add_media(&s, "images/val/wide.jpg", "image", SHA, 1920, 1080);
    text(&s, "labels/val/wide.txt", "2 0.75 0.75 0.5 0.5");
    /* an empty label file and none at all: both images known to hold nothing */
    lp_src_add_media(&s, "images/train/empty.png", "image", SHA, 800, 600);
    text(&s, "labels/train/empty.txt", "");
    lp_src_add_media(&s, "images/train/background.png", "image", SHA, 10, 20);
    /* an image list (CVAT's train.txt) is not a label file */
    text(&s, "train.txt", "images/train/street.png\nimages/train/empty.png\n");
    lp_src_done(&s);
    ct_out o;
    ct_run(&lp_convert_yolo, PARAMS, &s, 1, &o);
    CHECK_INT(o.rc, 0);
    CHECK_INT(json_array_size(o.tasks), 4);
    CHECK_INT(o.c.nbad, 0);

    const json_t *t = ct_task(&o, "images/train/street.png");
    CHECK(t);
    CHECK(kt_equal_at(t, "data", "{'width': 640, 'height': 480}"));
    CHECK(kt_equal_at(t, "attachments",
                      "[{'type': 'image', 'file': '" SHA "', 'name': 'street.png'}]"));
    const json_t *a = ct_shapes(t);
    CHECK_INT(json_array_size(a), 4);
    const json_t *b = json_array_get(a, 0);
    CHECK_STR(json_string_value(json_object_get(b, "type")), "box");
    CHECK_STR(json_string_value(json_object_get(b, "label")), "car");
    CHECK_NEAR(ct_num(b, "x"), 0, 0); /* 0.078125 - 0.078125 */
    CHECK_NEAR(ct_num(b, "y"), 0, 0); /* 0.052083 - 0.0520835 < 0: put on the border */
    CHECK_NEAR(ct_num(b, "width"), 100, 1e-9);
    CHECK_NEAR(ct_num(b, "height"), 0.1041665 * 480, 1e-9); /* 0.052083 + 0.0520835 */
    b = json_array_get(a, 1); /* the bottom-right corner: exactly the width and height */
    CHECK_NEAR(ct_num(b, "x") + ct_num(b, "width"), 640, 1e-9);
    CHECK_NEAR(ct_num(b, "y") + ct_num(b, "height"), 480, 1e-9);
    CHECK_NEAR(ct_num(b, "x"), 540, 1e-9);
    b = json_array_get(a, 2); /* the whole image */
    CHECK_NEAR(ct_num(b, "x"), 0, 0);
    CHECK_NEAR(ct_num(b, "y"), 0, 0);
    CHECK_NEAR(ct_num(b, "width"), 640, 0);
    CHECK_NEAR(ct_num(b, "height"), 480, 0);
    b = json_array_get(a, 3);
    CHECK_STR(json_string_value(json_object_get(b, "type")), "polygon");
    CHECK_STR(json_string_value(json_object_get(b, "label")), "piéton");
    const double xy[] = {0, 0, 320, 0, 320, 240, 160, 480};
    const json_t *vs = json_object_get(b, "vertices");
    CHECK_INT(json_array_size(vs), 4);
    for (size_t i = 0; i < 4; i++) {
        CHECK_NEAR(ct_num(json_array_get(vs, i), "x"), xy[2 * i], 1e-9);
        CHECK_NEAR(ct_num(json_array_get(vs, i), "y"), xy[2 * i + 1], 1e-9);
    }

    t = ct_task(&o, "images/val/wide.jpg");
    CHECK(t);
    CHECK(kt_equal_at(t, "data", "{'width': 1920, 'height': 1080}"));
    b = json_array_get(ct_shapes(t), 0);
    CHECK_STR(json_string_value(json_object_get(b, "label")), "行人");
    CHECK_NEAR(ct_num(b, "x"), 960, 1e-9);
    CHECK_NEAR(ct_num(b, "y"), 540, 1e-9);
    CHECK_NEAR(ct_num(b, "width"), 960, 1e-9);
    CHECK_NEAR(ct_num(b, "height"), 540, 1e-9);

    CHECK(kt_equal_at(ct_task(&o, "images/train/empty.png"), "result", "{'annotations': []}"));
    CHECK(kt_equal_at(ct_task(&o, "images/train/background.png"), "result", "{'annotations': []}"));
    /* places: the label file, else the image */
    for (size_t i = 0; i < o.c.nwhere; i++) {
        const char *u = json_string_value(json_object_get(json_array_get(o.tasks, i), "unique_id"));
        if (!strcmp(u, "images/train/street.png"))
            CHECK_STR(o.c.where[i], "labels/train/street.txt");
        if (!strcmp(u, "images/train/background.png"))
            CHECK_STR(o.c.where[i], "images/train/background.png");
    }
    ct_free(&o);
    lp_src_fini(&s);
}

TEST(yolo_one_bad_line_makes_its_image_a_bad_item_naming_file_line_and_column)
{
    lp_src s = {0};
    text(&s, "classes.txt", "car\npiéton\n行人\n\n");
    lp_src_add_media(&s, "a.png", "image", SHA, 100, 100);
    text(&s, "a.txt", "0 0.5 0.5 0.2 0.2\n3 0.5 0.5 0.2 0.2\n"); /* beside the image (Darknet) */
    lp_src_add_media(&s, "b.png", "image", SHA, 100, 100);
    text(&s, "b.txt", "0 0.5 0.5 0.2\n");
    lp_src_add_media(&s, "c.png", "image", SHA, 100, 100);
    text(&s, "c.txt", "1 0.5 abc 0.2 0.2\n");
    lp_src_add_media(&s, "d.png", "image", SHA, 100, 100);
    text(&s, "d.txt", "0.5 0.5 0.5 0.2 0.2\n");
    lp_src_add_media(&s, "e.svg", "image", SHA, 0, 0); /* no size in its header */
    text(&s, "e.txt", "0 0.5 0.5 0.2 0.2\n");
    lp_src_add_media(&s, "f.png", "image", SHA, 100, 100);
    text(&s, "f.txt", "0 0.5 0.5 0.2 0.2 1.5\n");
    text(&s, "labels/orphan.txt", "0 0.5 0.5 0.2 0.2\n"); /* no image takes it */
    text(&s, "README.txt", "Loupe export\n");             /* not labels: left alone */
    lp_src_done(&s);
    ct_out o;
    ct_run(&lp_convert_yolo, PARAMS, &s, 0, &o);
    CHECK_INT(o.rc, 0);
    CHECK_INT(json_array_size(o.tasks), 0);
    CHECK_INT(o.c.nbad, 7);
    const struct lp_convert_bad *b = bad_at(&o, "a.txt:2");
    CHECK(b);
    CHECK_STR(b->e.field, "class");
    CHECK_STR(b->e.message, "3 is not a class: the names run from 0 to 2");
    CHECK((b = bad_at(&o, "b.txt:1")));
    CHECK_STR(b->e.field, "line");
    CHECK(strstr(b->e.message, "has 4 numbers"));
    CHECK((b = bad_at(&o, "c.txt:1")));
    CHECK_STR(b->e.field, "y_center");
    CHECK_STR(b->e.message, "\"abc\" is not a number");
    CHECK((b = bad_at(&o, "d.txt:1")));
    CHECK_STR(b->e.field, "class");
    CHECK((b = bad_at(&o, "e.txt")));
    CHECK_STR(b->e.field, "image");
    CHECK((b = bad_at(&o, "f.txt:1")));
    CHECK_STR(b->e.field, "confidence");
    CHECK((b = bad_at(&o, "labels/orphan.txt")));
    CHECK_STR(b->e.field, "image");
    ct_free(&o);
    lp_src_fini(&s);
}

TEST(yolo_confidences_make_the_prediction_score)
{
    lp_src s = {0};
    text(&s, "data.yaml", "names: [car, 'pi''éton', \"行人\"]\n");
    lp_src_add_media(&s, "images/a.png", "image", SHA, 200, 100);
    text(&s, "labels/a.txt", "0 0.5 0.5 0.2 0.2 0.9\n1 0.1 0.1 0.2 0.1 0.2 0.2 0.5\n");
    lp_src_done(&s);
    ct_out o;
    ct_run(&lp_convert_yolo, "{'labels': ['car', 'pi\\u0027éton', '行人']}", &s, 0, &o);
    CHECK_INT(o.rc, 0);
    CHECK_INT(o.c.nbad, 0);
    const json_t *p = json_array_get(json_object_get(json_array_get(o.tasks, 0), "predictions"), 0);
    CHECK_STR(json_string_value(json_object_get(p, "model")), "import:yolo");
    CHECK_NEAR(ct_num(p, "score"), 0.7, 1e-12);
    const json_t *a = json_object_get(json_object_get(p, "response"), "annotations");
    CHECK_INT(json_array_size(a), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(a, 1), "label")), "pi'éton");
    CHECK_INT(json_array_size(json_object_get(json_array_get(a, 1), "vertices")), 3);
    ct_free(&o);
    lp_src_fini(&s);
}

/* Runs the converter on a source of data.yaml and one image; the class
 * names (NULL when refused, e then filled). */
static json_t *names_of(const char *yaml, lp_verr *e)
{
    lp_src s = {0};
    text(&s, "data.yaml", yaml);
    lp_src_add_media(&s, "images/a.png", "image", SHA, 10, 10);
    char rows[64];
    snprintf(rows, sizeof rows, "0 0.5 0.5 0.1 0.1\n");
    text(&s, "labels/a.txt", rows);
    lp_src_done(&s);
    ct_out o;
    ct_run(&lp_convert_yolo, "{'labels': ['a', 'b', 'c d', 'e']}", &s, 1, &o);
    json_t *names = NULL;
    if (o.rc == 0) {
        names = json_array();
        json_array_append(
            names,
            json_object_get(json_array_get(ct_shapes(json_array_get(o.tasks, 0)), 0), "label"));
    }
    *e = o.e;
    ct_free(&o);
    lp_src_fini(&s);
    return names;
}

TEST(yolo_data_yaml_forms_and_the_lines_it_refuses)
{
    const char *good[] = {
        "names:\n- c d\n- b\n",                           /* a block list at the key's indent */
        "names:\n  - c d   # a comment\n  - b\n",         /* indented */
        "names: ['c d',\n        b]  # over two lines\n", /* YOLOv5's flow list */
        "names: {0: c d, 1: b}\n",
        "train: x\ndownload: |\n  import os\n  print(1)\nnames:\n  1: b\n  0: \"c d\"\nnc: 2\n",
        "\xEF\xBB\xBFnames:\r\n  0: c d\r\n",
        /* forms a YAML parser reads and the old hand-written reader did not */
        "x: &n [c d, b]\nnames: *n\nnc: 2\n",            /* an anchor and its alias */
        "names: {0: c d, 1: 'traffic light'}  # flow\n", /* a comment after a flow mapping */
        "names:\n  0: >-\n    c\n    d\n  1: b\n",       /* a folded block scalar */
        "names:\n  '1': b\n  \"0\": c d\n",              /* quoted keys */
        "\"names\": [c d]\n'nc': 1\n",                   /* quoted top-level keys */
        "%YAML 1.1\n---\nnames: [!!str c d, b]\n...\n",  /* a directive, markers, a tag */
        "names: [c\n  d, b]\n",                          /* a plain name folded over lines */
        "names:\n  - c d\n  # - x (commented out)\n\n  - b\n",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        lp_verr e;
        json_t *n = names_of(good[i], &e);
        if (!n) lp_test_fail(__FILE__, __LINE__, "form %zu refused: %s: %s", i, e.field, e.message);
        CHECK(n);
        CHECK_STR(json_string_value(json_array_get(n, 0)), "c d");
        json_decref(n);
    }
    struct {
        const char *yaml, *msg;
    } bad[] = {
        {"nc: 2\nnames: [a]\n", "line 1: nc is 2 but names has 1"},
        {"names:\n  0: a\n  2: b\n", "names: class 1 has no name"},
        {"names:\n  0: a\n  0: b\n", "line 3: a class index is named twice"},
        {"names: [a, *b]\n", "line 1, column 12: found undefined alias"},
        {"names: [a, b\n", "line 2, column 1: did not find expected ',' or ']' (while parsing a "
                           "flow sequence from line 1, column 8)"},
        {"names:\n  - a\n  1: b\n", "line 3, column 3: did not find expected '-' indicator"},
        {"names:\n  - a: b\n", "line 2: names: class 0 is a mapping, not a name"},
        {"names: [a, [b]]\n", "line 1: names: class 1 is a list, not a name"},
        {"names: [a, ~]\n", "line 1: names: class 1 is empty or null"},
        {"names:\n  - a\n  -\n", "line 3: names: class 1 is empty or null"},
        {"names: {0: a, x: b}\n", "line 1: names: a mapping's keys must be class indexes"},
        {"names: car\n", "line 1: names: expected a list"},
        {"names: [a]\nnames: [b]\n", "line 2: names is given twice"},
        {"nc: two\nnames: [a]\n", "line 1: nc is not a count"},
        {"names: \"a\\qb\"\n", "line 1, column 10: found unknown escape character"},
        {"names:\n\t- a\n", "line 2, column 1: found character that cannot start any token"},
        {"names:\n    - a\n  - b\n", "line 3, column 3: did not find expected key"},
        {"names: [a]\n---\nnames: [b]\n", "line 3: a second YAML document"},
        {"names: [a, \"b\xff\"]\n", "line 1: invalid"},
        {"just text\n", "line 1: the top level is not \"key: value\" lines"},
        {"names: [a]\nkpt_shape: [17, 3]\n", "line 2: kpt_shape: a pose dataset"},
        {"train: x\n", "has no class names"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lp_verr e;
        json_t *n = names_of(bad[i].yaml, &e);
        if (n) lp_test_fail(__FILE__, __LINE__, "case %zu was read", i);
        CHECK(!n);
        CHECK_STR(e.field, "data.yaml");
        if (!strstr(e.message, bad[i].msg))
            lp_test_fail(__FILE__, __LINE__, "case %zu: \"%s\" lacks \"%s\"", i, e.message,
                         bad[i].msg);
        CHECK(strstr(e.message, bad[i].msg));
    }
}

TEST(yolo_refuses_a_source_without_images_or_without_class_names)
{
    lp_src s = {0};
    text(&s, "body", "0 0.5 0.5 0.1 0.1\n");
    lp_src_done(&s);
    ct_out o;
    ct_run(&lp_convert_yolo, PARAMS, &s, 0, &o);
    CHECK_VERR(o.rc, o.e, "body", "holds no image");
    ct_free(&o);
    lp_src_fini(&s);
    memset(&s, 0, sizeof s);
    lp_src_add_media(&s, "images/a.png", "image", SHA, 10, 10);
    text(&s, "labels/a.txt", "0 0.5 0.5 0.1 0.1\n");
    lp_src_done(&s);
    ct_run(&lp_convert_yolo, PARAMS, &s, 0, &o);
    CHECK_VERR(o.rc, o.e, "body", "has no class names");
    ct_free(&o);
    lp_src_fini(&s);
}
