/* test_convert_voc.c -- the Pascal VOC converter on sources built in
 * memory: boxes turned from VOC's 1-based corner pixels into Loupe's
 * coordinates (the inverse of export_voc.c), boxes at the border, images
 * of different sizes found by filename, an annotation without objects,
 * polygons, attributes only where the project defines them, non-ASCII
 * names and entities, and broken files as bad items naming the line. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_convert_img.h"

#define SHA "1111111111111111111111111111111111111111111111111111111111111111"

static void text(lp_src *s, const char *name, const char *data)
{
    lp_src_add_text(s, name, data, strlen(data));
}

#define OBJ(name, x1, y1, x2, y2)                                                        \
    "<object><name>" name "</name><pose>Unspecified</pose><truncated>1</truncated>"      \
    "<difficult>0</difficult><bndbox><xmin>" #x1 "</xmin><ymin>" #y1 "</ymin><xmax>" #x2 \
    "</xmax><ymax>" #y2 "</ymax></bndbox></object>"
#define ANN(file, w, h, objs)                                                           \
    "<?xml version=\"1.0\"?>\n<annotation>\n<folder>JPEGImages</folder><filename>" file \
    "</filename>\n<size><width>" #w "</width><height>" #h                               \
    "</height><depth>3</depth></size>\n" objs "\n</annotation>\n"

TEST(voc_reads_boxes_as_the_inverse_of_the_export)
{
    lp_src s = {0};
    /* 640x480: the top-left corner, the bottom-right corner, the whole image */
    text(&s, "Annotations/street.xml",
         ANN("street.png", 640, 480,
             OBJ("car", 1, 1, 100, 50) OBJ("car", 541, 431, 640, 480) OBJ("car", 1, 1, 640, 480)));
    lp_src_add_media(&s, "JPEGImages/street.png", "image", SHA, 640, 480);
    /* 1920x1080, a non-ASCII label written with a character reference */
    text(&s, "Annotations/wide.xml",
         ANN("wide.jpg", 1920, 1080, OBJ("&#x884c;人", 961, 541, 1920, 1080)));
    lp_src_add_media(&s, "JPEGImages/wide.jpg", "image", SHA, 1920, 1080);
    /* no objects: known to hold nothing; no size in the XML: the header's */
    text(&s, "Annotations/empty.xml",
         "<annotation><filename>empty.png</filename><size><width>0</width><height>0</height>"
         "</size><segmented>0</segmented></annotation>");
    lp_src_add_media(&s, "JPEGImages/empty.png", "image", SHA, 800, 600);
    /* an image no annotation names: a task without labels */
    lp_src_add_media(&s, "JPEGImages/unlabelled.png", "image", SHA, 10, 10);
    lp_src_done(&s);
    ct_out o;
    ct_run(&lp_convert_voc, "{'labels': ['car', '行人']}", &s, 1, &o);
    CHECK_INT(o.rc, 0);
    CHECK_INT(o.c.nbad, 0);
    CHECK_INT(json_array_size(o.tasks), 4);
    const json_t *t = ct_task(&o, "JPEGImages/street.png");
    CHECK(t);
    CHECK(kt_equal_at(t, "data", "{'width': 640, 'height': 480}"));
    CHECK(kt_equal_at(t, "attachments",
                      "[{'type': 'image', 'file': '" SHA "', 'name': 'street.png'}]"));
    const double want[][4] = {{0, 0, 100, 50}, {540, 430, 100, 50}, {0, 0, 640, 480}};
    const json_t *a = ct_shapes(t);
    CHECK_INT(json_array_size(a), 3);
    for (size_t i = 0; i < 3; i++) {
        const json_t *b = json_array_get(a, i);
        CHECK_STR(json_string_value(json_object_get(b, "type")), "box");
        CHECK_STR(json_string_value(json_object_get(b, "label")), "car");
        CHECK_NEAR(ct_num(b, "x"), want[i][0], 0);
        CHECK_NEAR(ct_num(b, "y"), want[i][1], 0);
        CHECK_NEAR(ct_num(b, "width"), want[i][2], 0);
        CHECK_NEAR(ct_num(b, "height"), want[i][3], 0);
        CHECK(!json_object_get(b, "attributes")); /* the project defines none */
    }
    t = ct_task(&o, "JPEGImages/wide.jpg");
    CHECK(t);
    const json_t *b = json_array_get(ct_shapes(t), 0);
    CHECK_STR(json_string_value(json_object_get(b, "label")), "行人");
    CHECK_NEAR(ct_num(b, "x"), 960, 0);
    CHECK_NEAR(ct_num(b, "width"), 960, 0);
    t = ct_task(&o, "JPEGImages/empty.png");
    CHECK(kt_equal_at(t, "result", "{'annotations': []}"));
    CHECK(kt_equal_at(t, "data", "{'width': 800, 'height': 600}"));
    t = ct_task(&o, "JPEGImages/unlabelled.png");
    CHECK(t && !json_object_get(t, "result") && !json_object_get(t, "predictions"));
    CHECK_STR(o.c.where[0], "Annotations/empty.xml");
    ct_free(&o);
    lp_src_fini(&s);
}

TEST(voc_polygons_and_attributes_the_project_defines)
{
    lp_src s = {0};
    text(&s, "a.xml",
         "<annotation><filename>a.png</filename><size><width>100</width><height>50</height></size>"
         "<object><name>car</name><difficult>1</difficult><truncated>0</truncated><occluded>1</"
         "occluded>"
         "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>10</xmax><ymax>10</ymax></bndbox>"
         "<polygon><x1>0</x1><y1>0</y1><x2>10.5</x2><y2>0</y2><x3>10.5</x3><y3>9</y3></polygon>"
         "<attributes><attribute><name>color</name><value>red</value></attribute>"
         "<attribute><name>unknown</name><value>x</value></attribute></attributes></object>"
         "<object><name>car</name><polygon><pt><x>1</x><y>1</y></pt><pt><x>5</x><y>1</y></pt>"
         "<pt><x>5</x><y>5</y></pt></polygon></object></annotation>");
    lp_src_add_media(&s, "a.png", "image", SHA, 100, 50);
    lp_src_done(&s);
    ct_out o;
    ct_run(&lp_convert_voc,
           "{'labels': ['car'], 'attributes': [{'name': 'difficult', 'type': 'boolean'}, "
           "{'name': 'truncated', 'type': 'number'}, {'name': 'color', 'type': 'category', "
           "'choices': ['red']}]}",
           &s, 0, &o);
    CHECK_INT(o.rc, 0);
    CHECK_INT(o.c.nbad, 0);
    const json_t *p = json_array_get(json_object_get(json_array_get(o.tasks, 0), "predictions"), 0);
    CHECK_STR(json_string_value(json_object_get(p, "model")), "import:voc");
    const json_t *a = json_object_get(json_object_get(p, "response"), "annotations");
    CHECK_INT(json_array_size(a), 2);
    const json_t *s0 = json_array_get(a, 0);
    CHECK_STR(json_string_value(json_object_get(s0, "type")), "polygon");
    CHECK_INT(json_array_size(json_object_get(s0, "vertices")), 3);
    CHECK_NEAR(ct_num(json_array_get(json_object_get(s0, "vertices"), 1), "x"), 10.5, 0);
    CHECK(kt_equal_at(s0, "attributes", "{'difficult': true, 'truncated': 0.0, 'color': 'red'}"));
    CHECK_INT(json_array_size(json_object_get(json_array_get(a, 1), "vertices")), 3);
    ct_free(&o);
    /* a project without polygons gets the box */
    ct_run(&lp_convert_voc, "{'labels': ['car'], 'geometries': ['box']}", &s, 1, &o);
    CHECK_INT(o.rc, 0);
    const json_t *b = json_array_get(ct_shapes(json_array_get(o.tasks, 0)), 0);
    CHECK_STR(json_string_value(json_object_get(b, "type")), "box");
    CHECK_NEAR(ct_num(b, "width"), 10, 0);
    CHECK(!json_object_get(b, "attributes"));
    ct_free(&o);
    lp_src_fini(&s);
}

TEST(voc_broken_files_are_bad_items_naming_the_line_and_a_source_with_none_readable_is_refused)
{
    lp_src s = {0};
    text(&s, "Annotations/good.xml", ANN("good.png", 10, 10, OBJ("car", 1, 1, 10, 10)));
    lp_src_add_media(&s, "good.png", "image", SHA, 10, 10);
    text(&s, "Annotations/cut.xml", "<annotation>\n<filename>x.png</filename>\n<object><name>car");
    text(&s, "Annotations/other.xml", "<doc/>");
    text(&s, "Annotations/nobox.xml",
         ANN("good.png", 10, 10,
             "<object><name>car</name><bndbox><xmin>a</xmin></bndbox></object>"));
    text(&s, "Annotations/noname.xml", ANN("good.png", 10, 10, "<object><bndbox/></object>"));
    text(&s, "Annotations/noimage.xml", ANN("missing.png", 10, 10, ""));
    lp_src_done(&s);
    ct_out o;
    ct_run(&lp_convert_voc, "{'labels': ['car']}", &s, 0, &o);
    CHECK_INT(o.rc, 0);
    CHECK_INT(json_array_size(o.tasks), 1);
    CHECK_INT(o.c.nbad, 5);
    const char *want[][3] = {
        {"Annotations/cut.xml:3", "annotation", "is not well-formed XML: no element found"},
        {"Annotations/nobox.xml", "object[0].bndbox.xmin", "\"a\" is not a number"},
        {"Annotations/noimage.xml", "filename", "no image \"missing.png\" in the source"},
        {"Annotations/noname.xml", "object[0].name", "is missing"},
        {"Annotations/other.xml:1", "annotation", "the root element is <doc>"},
    };
    for (size_t i = 0; i < 5; i++) {
        CHECK_STR(o.c.bad[i].where, want[i][0]);
        CHECK_STR(o.c.bad[i].e.field, want[i][1]);
        if (!strstr(o.c.bad[i].e.message, want[i][2]))
            lp_test_fail(__FILE__, __LINE__, "\"%s\" lacks \"%s\"", o.c.bad[i].e.message,
                         want[i][2]);
        CHECK(strstr(o.c.bad[i].e.message, want[i][2]));
    }
    ct_free(&o);
    lp_src_fini(&s);

    /* one document that is not XML, and one cut short: refused whole */
    memset(&s, 0, sizeof s);
    text(&s, "body", "{\"images\": []}");
    lp_src_done(&s);
    ct_run(&lp_convert_voc, "{'labels': ['car']}", &s, 0, &o);
    CHECK_VERR(o.rc, o.e, "body", "holds no XML file");
    ct_free(&o);
    lp_src_fini(&s);
    memset(&s, 0, sizeof s);
    text(&s, "body", "<annotation><filename>a.png</filename>\n<object>");
    lp_src_done(&s);
    ct_run(&lp_convert_voc, "{'labels': ['car']}", &s, 0, &o);
    CHECK_VERR(o.rc, o.e, "body", "line 2: is not well-formed XML");
    ct_free(&o);
    lp_src_fini(&s);
}

TEST(voc_single_document_uses_image_base)
{
    lp_src s = {0};
    text(&s, "body", ANN("cam1/a.jpg", 300, 200, OBJ("car", 1, 1, 300, 200)));
    lp_src_done(&s);
    ct_out o;
    memset(&o, 0, sizeof o);
    ct_run(&lp_convert_voc, "{'labels': ['car']}", &s, 1, &o);
    CHECK_INT(o.c.nbad, 1); /* no image_base: nowhere to find it */
    ct_free(&o);
    lp_convert c = {0};
    lp_project p = {.kind = &lp_kind_imageannotation};
    lp_verr e;
    CHECK(kt_params(&lp_kind_imageannotation, "{'labels': ['car']}", &p.params, &e) == 0);
    c.project = &p;
    c.src = &s;
    c.results = 1;
    c.image_base = "https://img.example.com/voc/";
    CHECK_INT(lp_convert_voc.run(&c, &e), 0);
    CHECK_INT(c.ntasks, 1);
    json_t *t = json_loadb(c.out.data, c.out.len, JSON_DISABLE_EOF_CHECK, NULL);
    CHECK(kt_equal_at(
        t, "attachments",
        "[{'type': 'image', 'url': 'https://img.example.com/voc/cam1/a.jpg', 'name': 'a.jpg'}]"));
    CHECK(kt_equal_at(t, "unique_id", "'cam1/a.jpg'"));
    CHECK(kt_equal_at(t, "data", "{'width': 300, 'height': 200}"));
    json_decref(t);
    json_decref(p.params);
    lp_convert_fini(&c);
    lp_src_fini(&s);
}
