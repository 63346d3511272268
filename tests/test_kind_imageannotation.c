/* test_kind_imageannotation.c -- params, tasks, responses and errors of
 * the imageannotation kind. */
#include "agg_geom.h"
#include "test_kinds.h"

#define K       (&lp_kind_imageannotation)
#define CATBIRD "{'labels': ['cat', 'bird']}"
#define BOXES   "{'labels': ['cat', 'bird'], 'geometries': ['box']}"
#define ATTRS                                                                    \
    "{'labels': ['cat'], 'attributes': [{'name': 'color', 'type': 'category', "  \
    "'choices': ['red', 'blue']}, {'name': 'size', 'type': 'number', 'min': 0, " \
    "'max': 10}, {'name': 'occluded', 'type': 'boolean', 'required': true}, "    \
    "{'name': 'note', 'type': 'text'}]}"
#define IMAGE "{'attachments': [{'type': 'image', 'url': 'https://x/1.jpg'}], 'data': {}}"
#define SIZED                                             \
    "{'attachments': [{'type': 'image', 'file': 'f1'}], " \
    "'data': {'width': 640, 'height': 480}}"
#define BOX(rest) "{'annotations': [{'type': 'box', 'label': 'cat', " rest "}]}"

TEST(imageannotation_params_are_normalised)
{
    lp_verr e;
    json_t *p;
    int rc = kt_params(K,
                       "{'labels': ['cat'], 'attributes': [{'name': 'color', 'type': "
                       "'category', 'choices': ['red']}]}",
                       &p, &e);
    int geometries = kt_equal_at(p, "geometries", "['box', 'polygon', 'line', 'point']");
    int labels = kt_equal_at(p, "labels", "[{'name': 'cat'}]");
    int required = kt_equal_at(p, "attributes.0.required", "false");
    int choices = kt_equal_at(p, "attributes.0.choices", "[{'name': 'red'}]");
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(geometries);
    CHECK(labels);
    CHECK(required);
    CHECK(choices);

    rc = kt_params(K, "{'labels': ['cat']}", &p, &e);
    int attributes = kt_equal_at(p, "attributes", "[]");
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(attributes);
}

TEST(imageannotation_bad_params_name_the_field)
{
    PARAMS_ERR(K, "{'geometries': ['box']}", "params.labels", "is required");
    PARAMS_ERR(K, "{'labels': ['cat'], 'geometries': ['box', 'circle']}", "params.geometries[1]",
               "\"circle\" is not a geometry; use box, polygon, line or point");
    PARAMS_ERR(K, "{'labels': ['cat'], 'geometries': []}", "params.geometries", "at least 1");
    PARAMS_ERR(K, "{'labels': ['cat'], 'geometries': ['box', 'box']}", "params.geometries[1]",
               "\"box\" is already listed");
    PARAMS_ERR(K, "{'labels': ['cat'], 'geometries': [1]}", "params.geometries[0]",
               "must be a string, not a number");
    PARAMS_ERR(K, "{'labels': ['cat'], 'attributes': [{'name': 'c', 'type': 'colour'}]}",
               "params.attributes[0].type", "\"colour\" is not an attribute type");
    PARAMS_ERR(K, "{'labels': ['cat'], 'attributes': ['occluded']}", "params.attributes[0].type",
               "is required");
    PARAMS_ERR(K, "{'labels': ['cat'], 'attributes': [{'name': 'c', 'type': 'category'}]}",
               "params.attributes[0].choices", "is required");
    PARAMS_ERR(K,
               "{'labels': ['cat'], 'attributes': [{'name': 'c', 'type': 'category', "
               "'choices': []}]}",
               "params.attributes[0].choices", "at least 1");
    PARAMS_ERR(K,
               "{'labels': ['cat'], 'attributes': [{'name': 'c', 'type': 'text', "
               "'choices': ['a']}]}",
               "params.attributes[0].choices", "only for category attributes");
    PARAMS_ERR(K,
               "{'labels': ['cat'], 'attributes': [{'name': 'c', 'type': 'boolean', "
               "'min': 0}]}",
               "params.attributes[0].min", "only for number attributes");
    PARAMS_ERR(K,
               "{'labels': ['cat'], 'attributes': [{'name': 'n', 'type': 'number', "
               "'min': 5, 'max': 1}]}",
               "params.attributes[0].max", "less than min (5)");
    PARAMS_ERR(K,
               "{'labels': ['cat'], 'attributes': [{'name': 'n', 'type': 'text', "
               "'min': null, 'max': 1}]}",
               "params.attributes[0].max", "only for number attributes");
    PARAMS_ERR(K,
               "{'labels': ['cat'], 'attributes': [{'name': 'n', 'type': 'number'}, "
               "{'name': 'n', 'type': 'text'}]}",
               "params.attributes[1].name", "\"n\" is already the name of params.attributes[0]");
    PARAMS_ERR(K,
               "{'labels': ['cat'], 'attributes': [{'name': 'n', 'type': 'text', "
               "'required': 1}]}",
               "params.attributes[0].required", "true or false");
}

TEST(imageannotation_number_attribute_with_one_bound)
{
    const char *p = "{'labels': ['cat'], 'attributes': [{'name': 'depth', 'type': 'number', "
                    "'min': null, 'max': -5}]}";
    RESPONSE_OK(K, p, IMAGE,
                BOX("'x': 1, 'y': 1, 'width': 1, 'height': 1, 'attributes': "
                    "{'depth': -100}"));
    RESPONSE_ERR(K, p, IMAGE,
                 BOX("'x': 1, 'y': 1, 'width': 1, 'height': 1, 'attributes': "
                     "{'depth': 0}"),
                 "response.annotations[0].attributes.depth", "must be at most -5 (got 0)");
}

TEST(imageannotation_task_needs_an_image)
{
    TASK_OK(K, CATBIRD, IMAGE);
    TASK_OK(K, CATBIRD,
            "{'attachments': [{'type': 'text', 'content': 'x'}, {'type': 'image', "
            "'url': 'u'}], 'data': {}}");
    TASK_ERR(K, CATBIRD, "{'attachments': [{'type': 'video', 'url': 'u'}], 'data': {}}",
             "attachments", "must include an attachment of type \"image\"");
    TASK_ERR(K, CATBIRD, "{'data': {}}", "attachments", "type \"image\"");
    TASK_ERR(K, CATBIRD, "{'attachments': 'image'}", "attachments", "type \"image\"");
}

TEST(imageannotation_valid_responses_are_accepted)
{
    RESPONSE_OK(K, CATBIRD, IMAGE, "{'annotations': []}");
    RESPONSE_OK(K, CATBIRD, IMAGE, BOX("'x': 0, 'y': 0.5, 'width': 10.25, 'height': 3"));
    RESPONSE_OK(K, CATBIRD, IMAGE,
                "{'annotations': [{'type': 'polygon', 'label': 'bird', 'id': 'p1', 'vertices': "
                "[{'x': 0, 'y': 0}, {'x': 5, 'y': 0}, {'x': 5, 'y': 5}]}, {'type': 'line', "
                "'label': 'cat', 'vertices': [{'x': 1, 'y': 1}, {'x': 2, 'y': 2}]}, {'type': "
                "'point', 'label': 'cat', 'x': 7, 'y': 8, 'id': 'p2'}]}");
    /* On the far edges of a 640x480 image. */
    RESPONSE_OK(K, CATBIRD, SIZED, BOX("'x': 600, 'y': 400, 'width': 40, 'height': 80"));
    RESPONSE_OK(K, ATTRS, IMAGE,
                BOX("'x': 1, 'y': 1, 'width': 1, 'height': 1, 'attributes': {'color': 'blue', "
                    "'size': 10, 'occluded': false, 'note': ''}"));
    RESPONSE_OK(K, ATTRS, IMAGE,
                BOX("'x': 1, 'y': 1, 'width': 1, 'height': 1, 'attributes': {'occluded': true, "
                    "'size': null}"));
}

TEST(imageannotation_label_not_in_project_names_the_annotation)
{
    RESPONSE_ERR(K, CATBIRD, IMAGE,
                 "{'annotations': [{'type': 'point', 'label': 'cat', 'x': 1, 'y': 1}, {'type': "
                 "'point', 'label': 'bird', 'x': 1, 'y': 1}, {'type': 'point', 'label': 'cat', "
                 "'x': 1, 'y': 1}, {'type': 'box', 'label': 'dog', 'x': 1, 'y': 1, 'width': 2, "
                 "'height': 2}]}",
                 "response.annotations[3].label", "\"dog\" is not in the project's labels");
    RESPONSE_ERR(K, CATBIRD, IMAGE, "{'annotations': [{'type': 'point', 'x': 1, 'y': 1}]}",
                 "response.annotations[0].label", "is required");
    RESPONSE_ERR(K, CATBIRD, IMAGE,
                 "{'annotations': [{'type': 'point', 'label': 1, 'x': 1, "
                 "'y': 1}]}",
                 "response.annotations[0].label", "must be a string, not a number");
}

TEST(imageannotation_geometry_errors_name_the_coordinate)
{
    RESPONSE_ERR(K, BOXES, IMAGE,
                 "{'annotations': [{'type': 'polygon', 'label': 'cat', 'vertices': []}]}",
                 "response.annotations[0].type",
                 "\"polygon\" is not one of the project's "
                 "geometries");
    RESPONSE_ERR(K, CATBIRD, IMAGE, "{'annotations': [{'type': 'circle', 'label': 'cat'}]}",
                 "response.annotations[0].type", "\"circle\"");
    RESPONSE_ERR(K, CATBIRD, IMAGE, "{'annotations': [{'label': 'cat'}]}",
                 "response.annotations[0].type", "is required");
    RESPONSE_ERR(K, CATBIRD, IMAGE, BOX("'x': 1, 'y': 1, 'width': 0, 'height': 2"),
                 "response.annotations[0].width", "must be greater than 0 (got 0)");
    RESPONSE_ERR(K, CATBIRD, IMAGE, BOX("'x': 1, 'y': 1, 'width': 3, 'height': -2"),
                 "response.annotations[0].height", "must be greater than 0 (got -2)");
    RESPONSE_ERR(K, CATBIRD, IMAGE, BOX("'x': -1, 'y': 1, 'width': 3, 'height': 2"),
                 "response.annotations[0].x", "must not be negative (got -1)");
    RESPONSE_ERR(K, CATBIRD, IMAGE, BOX("'x': 1, 'y': '1', 'width': 3, 'height': 2"),
                 "response.annotations[0].y", "must be a number, not a string");
    RESPONSE_ERR(K, CATBIRD, IMAGE, BOX("'x': 1, 'y': 1, 'width': 3"),
                 "response.annotations[0].height", "is required");
    RESPONSE_ERR(K, CATBIRD, IMAGE,
                 BOX("'x': 1, 'y': 1, 'width': 3, 'height': 2, "
                     "'vertices': []"),
                 "response.annotations[0].vertices", "is not a known field");
    RESPONSE_ERR(K, CATBIRD, SIZED, BOX("'x': 600, 'y': 1, 'width': 41, 'height': 2"),
                 "response.annotations[0].width", "past the image's right edge");
    /* Of an image of unknown size: a far edge that overflows to inf is
     * past it too (inf > inf + 1e-6 was false). */
    RESPONSE_ERR(K, CATBIRD, IMAGE, BOX("'x': 1e308, 'y': 1, 'width': 1e308, 'height': 2"),
                 "response.annotations[0].width", "past the image's right edge");
    RESPONSE_ERR(K, CATBIRD, IMAGE, BOX("'x': 1, 'y': 1.5e308, 'width': 2, 'height': 1e308"),
                 "response.annotations[0].height", "past the image's bottom edge");
    RESPONSE_ERR(K, CATBIRD, SIZED, BOX("'x': 1, 'y': 400, 'width': 1, 'height': 81"),
                 "response.annotations[0].height", "past the image's bottom edge");
    RESPONSE_ERR(K, CATBIRD, SIZED,
                 "{'annotations': [{'type': 'point', 'label': 'cat', "
                 "'x': 10, 'y': 480.5}]}",
                 "response.annotations[0].y",
                 "must be at most 480, the image's height "
                 "(got 480.5)");
    RESPONSE_ERR(K, CATBIRD, IMAGE,
                 "{'annotations': [{'type': 'polygon', 'label': 'cat', 'vertices': [{'x': 0, "
                 "'y': 0}, {'x': 1, 'y': 1}]}]}",
                 "response.annotations[0].vertices", "at least 3 items");
    RESPONSE_ERR(K, CATBIRD, IMAGE,
                 "{'annotations': [{'type': 'line', 'label': 'cat', 'vertices': [{'x': 0, "
                 "'y': 0}, {'x': 'a', 'y': 1}]}]}",
                 "response.annotations[0].vertices[1].x", "must be a number, not a string");
    RESPONSE_ERR(K, CATBIRD, IMAGE,
                 "{'annotations': [{'type': 'line', 'label': 'cat', 'vertices': [[0, 0], "
                 "[1, 1]]}]}",
                 "response.annotations[0].vertices[0]", "must be an object, not an array");
    RESPONSE_ERR(K, CATBIRD, IMAGE,
                 "{'annotations': [{'type': 'line', 'label': 'cat', 'vertices': [{'x': 0, "
                 "'y': 0, 'z': 1}, {'x': 1, 'y': 1}]}]}",
                 "response.annotations[0].vertices[0].z", "is not a known field");
}

TEST(imageannotation_attribute_errors_name_the_attribute)
{
    RESPONSE_ERR(K, ATTRS, IMAGE, BOX("'x': 1, 'y': 1, 'width': 1, 'height': 1"),
                 "response.annotations[0].attributes.occluded", "is required");
    RESPONSE_ERR(K, ATTRS, IMAGE,
                 BOX("'x': 1, 'y': 1, 'width': 1, 'height': 1, 'attributes': "
                     "{'occluded': true, 'colour': 'red'}"),
                 "response.annotations[0].attributes.colour",
                 "\"colour\" is not in the project's attributes");
    RESPONSE_ERR(K, ATTRS, IMAGE,
                 BOX("'x': 1, 'y': 1, 'width': 1, 'height': 1, 'attributes': "
                     "{'occluded': true, 'color': 'purple'}"),
                 "response.annotations[0].attributes.color",
                 "\"purple\" is not in the project's choices for \"color\" (red, blue)");
    RESPONSE_ERR(K, ATTRS, IMAGE,
                 BOX("'x': 1, 'y': 1, 'width': 1, 'height': 1, 'attributes': "
                     "{'occluded': true, 'size': 11}"),
                 "response.annotations[0].attributes.size", "must be at most 10 (got 11)");
    RESPONSE_ERR(K, ATTRS, IMAGE,
                 BOX("'x': 1, 'y': 1, 'width': 1, 'height': 1, 'attributes': "
                     "{'occluded': true, 'size': -0.5}"),
                 "response.annotations[0].attributes.size", "must be at least 0 (got -0.5)");
    RESPONSE_ERR(K, ATTRS, IMAGE,
                 BOX("'x': 1, 'y': 1, 'width': 1, 'height': 1, 'attributes': "
                     "{'occluded': true, 'size': '3'}"),
                 "response.annotations[0].attributes.size", "must be a number, not a string");
    RESPONSE_ERR(K, ATTRS, IMAGE,
                 BOX("'x': 1, 'y': 1, 'width': 1, 'height': 1, 'attributes': "
                     "{'occluded': 'no'}"),
                 "response.annotations[0].attributes.occluded", "must be true or false");
    RESPONSE_ERR(K, ATTRS, IMAGE,
                 BOX("'x': 1, 'y': 1, 'width': 1, 'height': 1, 'attributes': "
                     "{'occluded': true, 'note': 5}"),
                 "response.annotations[0].attributes.note", "must be a string, not a number");
    RESPONSE_ERR(K, ATTRS, IMAGE,
                 BOX("'x': 1, 'y': 1, 'width': 1, 'height': 1, 'attributes': "
                     "['occluded']"),
                 "response.annotations[0].attributes", "must be an object, not an array");
}

TEST(imageannotation_shape_list_errors)
{
    RESPONSE_ERR(K, CATBIRD, IMAGE, "{'annotations': 'box'}", "response.annotations",
                 "must be an array, not a string");
    RESPONSE_ERR(K, CATBIRD, IMAGE, "{}", "response.annotations", "is required");
    RESPONSE_ERR(K, CATBIRD, IMAGE, "{'annotations': [7]}", "response.annotations[0]",
                 "must be an object, not a number");
    RESPONSE_ERR(K, CATBIRD, IMAGE,
                 "{'annotations': [{'type': 'point', 'label': 'cat', 'x': 1, 'y': 1, 'id': 'a'}, "
                 "{'type': 'point', 'label': 'cat', 'x': 2, 'y': 2, 'id': 'a'}]}",
                 "response.annotations[1].id",
                 "\"a\" is already the id of "
                 "response.annotations[0]");
    RESPONSE_ERR(K, CATBIRD, IMAGE,
                 "{'annotations': [{'type': 'point', 'label': 'cat', 'x': 1, 'y': 1, 'id': ''}]}",
                 "response.annotations[0].id", "must not be empty");
}

/* Scoring: shapes match when of the same type and label and at least 0.5
 * alike; the score is 2 * matched / (response shapes + reference shapes). */
#define AND       ", "
#define ANN(list) "{'annotations': [" list "]}"
#define CAT(x, y, w, h) \
    "{'type': 'box', 'label': 'cat', 'x': " #x ", 'y': " #y ", 'width': " #w ", 'height': " #h "}"
#define BIRD(x, y, w, h) \
    "{'type': 'box', 'label': 'bird', 'x': " #x ", 'y': " #y ", 'width': " #w ", 'height': " #h "}"
#define POINT(x, y)   "{'type': 'point', 'label': 'cat', 'x': " #x ", 'y': " #y "}"
#define V(x, y)       "{'x': " #x ", 'y': " #y "}"
#define POLYGON(list) "{'type': 'polygon', 'label': 'cat', 'vertices': [" list "]}"
#define LINE(list)    "{'type': 'line', 'label': 'cat', 'vertices': [" list "]}"
#define HUGE_IMAGE                                        \
    "{'attachments': [{'type': 'image', 'file': 'f1'}], " \
    "'data': {'width': 3000, 'height': 4000}}"

TEST(imageannotation_score_matches_boxes_at_iou_one_half)
{
    const char *ref = ANN(CAT(0, 0, 100, 100));
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ref, ref), 1, 0);
    /* IoU 75*100 / 125*100 = 0.6, 0.5 exactly, and 40*100 / 100*100 = 0.4. */
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(CAT(25, 0, 100, 100)), ref), 1, 0);
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(CAT(0, 0, 50, 100)), ref), 1, 0);
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(CAT(0, 0, 40, 100)), ref), 0, 0);
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(CAT(0, 60, 100, 40)), ref), 0, 0);
    /* The same box with another label does not match. */
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(BIRD(0, 0, 100, 100)), ref), 0, 0);

    /* Of two reference boxes one is found (IoU 0.6), one is not (0.4). */
    const char *two = ANN(CAT(0, 0, 100, 100) AND CAT(200, 200, 100, 100));
    CHECK_NEAR(
        kt_score(K, CATBIRD, IMAGE, ANN(CAT(25, 0, 100, 100) AND CAT(200, 200, 40, 100)), two), 0.5,
        1e-12);
    /* Both found, and a third box that matches nothing: 2 * 2 / (3 + 2). */
    CHECK_NEAR(
        kt_score(K, CATBIRD, IMAGE,
                 ANN(CAT(200, 200, 100, 100) AND CAT(0, 0, 100, 100) AND CAT(400, 0, 10, 10)), two),
        0.8, 1e-12);
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(CAT(0, 0, 100, 100)), two), 2.0 / 3, 1e-12);
}

TEST(imageannotation_score_pairs_as_many_shapes_as_it_can)
{
    /* The first response box overlaps both reference boxes, b more (IoU
     * 0.905 against 0.739); the second overlaps only a (0.667): both match. */
    const char *ref = ANN(CAT(20, 0, 100, 100) AND CAT(40, 0, 100, 100));
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(CAT(35, 0, 100, 100) AND CAT(0, 0, 100, 100)), ref),
               1, 0);
    /* One response box matches only one reference box. */
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(CAT(30, 0, 100, 100)), ref), 2.0 / 3, 1e-12);

    /* Where the most alike pair first would leave a box out: response a
     * (x 30) is 0.818 alike reference x (x 20) and 0.667 alike y (x 50);
     * response b (x 0) is 0.667 alike x and 0.333 alike y.  Taking a-x
     * first pairs one box (score 0.5); a-y and b-x pair both. */
    const char *xy = ANN(CAT(20, 0, 100, 100) AND CAT(50, 0, 100, 100));
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(CAT(30, 0, 100, 100) AND CAT(0, 0, 100, 100)), xy),
               1, 0);
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(CAT(0, 0, 100, 100) AND CAT(30, 0, 100, 100)), xy),
               1, 0);
}

TEST(imageannotation_score_of_empty_and_mixed_responses)
{
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(), ANN()), 1, 0);
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(CAT(0, 0, 10, 10)), ANN()), 0, 0);
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(), ANN(CAT(0, 0, 10, 10))), 0, 0);
    /* A box and a polygon covering the same square are different shapes. */
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(CAT(0, 0, 10, 10)),
                        ANN(POLYGON(V(0, 0) AND V(10, 0) AND V(10, 10) AND V(0, 10)))),
               0, 0);
    /* Attributes and ids are not scored. */
    CHECK_NEAR(kt_score(K,
                        "{'labels': ['cat'], 'attributes': [{'name': 'color', 'type': "
                        "'category', 'choices': ['red', 'blue']}]}",
                        IMAGE,
                        "{'annotations': [{'type': 'box', 'label': 'cat', 'x': 0, 'y': 0, 'width': "
                        "10, 'height': 10, 'id': 'a', 'attributes': {'color': 'red'}}]}",
                        "{'annotations': [{'type': 'box', 'label': 'cat', 'x': 0, 'y': 0, 'width': "
                        "10, 'height': 10, 'attributes': {'color': 'blue'}}]}"),
               1, 0);
}

TEST(imageannotation_score_uses_exact_polygon_areas)
{
    const char *square = ANN(POLYGON(V(0, 0) AND V(30, 0) AND V(30, 30) AND V(0, 30)));
    /* A U whose notch (x 5..25, y 7.5..30) takes half the square: IoU 0.5
     * exactly; a notch 0.1 deeper takes it to 448 / 900.  The convex hull
     * of either is the whole square. */
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE,
                        ANN(POLYGON(V(0, 0) AND V(30, 0) AND V(30, 30) AND V(25, 30) AND V(25, 7.5)
                                        AND V(5, 7.5) AND V(5, 30) AND V(0, 30))),
                        square),
               1, 0);
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE,
                        ANN(POLYGON(V(0, 0) AND V(30, 0) AND V(30, 30) AND V(25, 30) AND V(25, 7.4)
                                        AND V(5, 7.4) AND V(5, 30) AND V(0, 30))),
                        square),
               0, 0);
    /* The other way round, and with the vertices in the other direction. */
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, square,
                        ANN(POLYGON(V(0, 30) AND V(5, 30) AND V(5, 7.4) AND V(25, 7.4) AND V(25, 30)
                                        AND V(30, 30) AND V(30, 0) AND V(0, 0)))),
               0, 0);
    /* A triangle on half the square: 0.5; slightly smaller: 0.4995. */
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(POLYGON(V(0, 0) AND V(30, 0) AND V(0, 30))), square),
               1, 0);
    CHECK_NEAR(
        kt_score(K, CATBIRD, IMAGE, ANN(POLYGON(V(0, 0) AND V(30, 0) AND V(0, 29.97))), square), 0,
        0);
    /* Two crossing non-convex shapes: an L (area 75) and a square offset
     * by 2, whose intersection is 8*8 - 5*5 = 39: IoU 39 / 136. */
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE,
                        ANN(POLYGON(V(0, 0) AND V(10, 0) AND V(10, 5) AND V(5, 5) AND V(5, 10)
                                        AND V(0, 10))),
                        ANN(POLYGON(V(2, 2) AND V(12, 2) AND V(12, 12) AND V(2, 12)))),
               0, 0);
    /* A bow tie covers its two triangles (even-odd): IoU with one is 0.5. */
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE,
                        ANN(POLYGON(V(0, 0) AND V(10, 10) AND V(10, 0) AND V(0, 10))),
                        ANN(POLYGON(V(0, 0) AND V(5, 5) AND V(0, 10)))),
               1, 0);
}

/* A polygon drawn as the rectangle (x, 0)-(x + 100, 100) with each side cut
 * into per pieces: 4 * per vertices. */
static char *many_vertices(int x, int per)
{
    lp_buf b = {0};
    lp_buf_puts(&b,
                "{\"annotations\": [{\"type\": \"polygon\", \"label\": \"cat\", \"vertices\": [");
    for (int side = 0; side < 4; side++)
        for (int i = 0; i < per; i++) {
            double t = 100.0 * i / per, px, py;
            if (side == 0)
                px = x + t, py = 0;
            else if (side == 1)
                px = x + 100, py = t;
            else if (side == 2)
                px = x + 100 - t, py = 100;
            else
                px = x, py = 100 - t;
            lp_buf_printf(&b, "%s{\"x\": %.17g, \"y\": %.17g}", side || i ? ", " : "", px, py);
        }
    lp_buf_puts(&b, "]}]}");
    return b.data;
}

TEST(imageannotation_score_handles_polygons_with_many_vertices)
{
    /* 2400 edges between the two: the areas come from 512 rows, which are
     * exact for rectangles.  IoU 0.6, 67 / 133 and 66 / 134. */
    char *ref = many_vertices(0, 300), *a = many_vertices(25, 300), *b = many_vertices(33, 300),
         *c = many_vertices(34, 300);
    double self = kt_score(K, CATBIRD, IMAGE, ref, ref), sa = kt_score(K, CATBIRD, IMAGE, a, ref),
           sb = kt_score(K, CATBIRD, IMAGE, b, ref), sc = kt_score(K, CATBIRD, IMAGE, c, ref);
    free(ref);
    free(a);
    free(b);
    free(c);
    CHECK_NEAR(self, 1, 0);
    CHECK_NEAR(sa, 1, 0);
    CHECK_NEAR(sb, 1, 0);
    CHECK_NEAR(sc, 0, 0);
}

TEST(imageannotation_score_matches_points_within_tolerance)
{
    /* 640 x 480: the tolerance is 5% of the 800 px diagonal, 40 px, so
     * points 15 px apart are 0.625 alike and 25 px apart 0.375. */
    const char *ref = ANN(POINT(100, 100));
    CHECK_NEAR(kt_score(K, CATBIRD, SIZED, ANN(POINT(109, 112)), ref), 1, 0);
    CHECK_NEAR(kt_score(K, CATBIRD, SIZED, ANN(POINT(115, 120)), ref), 0, 0);
    /* 3000 x 4000: 250 px; unknown size: 40 px. */
    CHECK_NEAR(kt_score(K, CATBIRD, HUGE_IMAGE, ANN(POINT(160, 180)), ref), 1, 0);
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(POINT(160, 180)), ref), 0, 0);
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(POINT(109, 112)), ref), 1, 0);
    /* Greedy by distance: the nearer response point takes the reference
     * point, the other one is a false hit. */
    CHECK_NEAR(kt_score(K, CATBIRD, SIZED, ANN(POINT(110, 100) AND POINT(101, 100)), ref), 2.0 / 3,
               1e-12);
}

TEST(imageannotation_score_matches_lines_by_mean_distance)
{
    /* A parallel line d px away is d px away at every sample. */
    const char *ref = ANN(LINE(V(100, 100) AND V(300, 100)));
    CHECK_NEAR(kt_score(K, CATBIRD, SIZED, ANN(LINE(V(100, 110) AND V(300, 110))), ref), 1, 0);
    CHECK_NEAR(kt_score(K, CATBIRD, SIZED, ANN(LINE(V(100, 119) AND V(300, 119))), ref), 1, 0);
    CHECK_NEAR(kt_score(K, CATBIRD, SIZED, ANN(LINE(V(100, 121) AND V(300, 121))), ref), 0, 0);
    CHECK_NEAR(kt_score(K, CATBIRD, HUGE_IMAGE, ANN(LINE(V(100, 200) AND V(300, 200))), ref), 1, 0);
    CHECK_NEAR(kt_score(K, CATBIRD, IMAGE, ANN(LINE(V(100, 200) AND V(300, 200))), ref), 0, 0);
    /* Drawn the other way, with a vertex in the middle: the same line. */
    CHECK_NEAR(
        kt_score(K, CATBIRD, SIZED, ANN(LINE(V(300, 100) AND V(200, 100) AND V(100, 100))), ref), 1,
        0);
    /* Half as long: samples on the missing half are up to 100 px off. */
    CHECK_NEAR(kt_score(K, CATBIRD, SIZED, ANN(LINE(V(100, 100) AND V(200, 100))), ref), 0, 0);
}

/* ---- Consolidation (aggregate) ------------------------------------------ */

/* The number of annotations in a result. */
static size_t n_annotations(const json_t *out)
{
    return json_array_size(json_object_get(out, "annotations"));
}

TEST(imageannotation_aggregate_takes_the_median_box_and_drops_an_outlier)
{
    /* Three workers box the same cat; the first also boxes something no
     * one else saw, and its id does not carry over. */
    const char *r[] = {
        "{'annotations': [{'type': 'box', 'label': 'cat', 'x': 100, 'y': 100, 'width': 50, "
        "'height': 50, 'id': 'a1'}, {'type': 'box', 'label': 'cat', 'x': 400, 'y': 300, "
        "'width': 30, 'height': 30}]}",
        ANN(CAT(102, 98, 50, 52)),
        ANN(CAT(98, 104, 54, 48)),
    };
    double conf;
    json_t *out = kt_aggregate(K, BOXES, SIZED, r, NULL, 3, &conf);
    CHECK(out != NULL);
    /* Corners: x_min {100, 102, 98}, y_min {100, 98, 104}, x_max {150,
     * 152, 152}, y_max {150, 150, 152}: medians 100, 100, 152, 150. */
    size_t n = n_annotations(out);
    int box = kt_equal_at(out, "annotations.0",
                          "{'type': 'box', 'label': 'cat', 'x': 100.0, 'y': 100.0, "
                          "'width': 52.0, 'height': 50.0}");
    json_decref(out);
    CHECK_INT(n, 1);
    CHECK(box);
    /* All three workers, times their mean IoU with the median box. */
    CHECK_NEAR(conf, (2500.0 / 2600 + 2500.0 / 2700 + 2392.0 / 2800) / 3, 1e-9);
}

TEST(imageannotation_aggregate_keeps_each_object_and_the_majority_label)
{
    /* Two cats, each boxed by all three workers; the third worker calls
     * the right one a bird, which two of three do not. */
    const char *r[] = {
        ANN(CAT(300, 10, 100, 100) AND CAT(10, 10, 100, 100)),
        ANN(CAT(12, 10, 100, 100) AND CAT(302, 10, 100, 100)),
        ANN(CAT(10, 12, 100, 100) AND BIRD(300, 12, 100, 100)),
    };
    double conf;
    json_t *out = kt_aggregate(K, BOXES, SIZED, r, NULL, 3, &conf);
    CHECK(out != NULL);
    size_t n = n_annotations(out);
    int left = kt_equal_at(out, "annotations.0",
                           "{'type': 'box', 'label': 'cat', 'x': 10.0, 'y': 10.0, "
                           "'width': 100.0, 'height': 100.0}");
    int right = kt_equal_at(out, "annotations.1",
                            "{'type': 'box', 'label': 'cat', 'x': 301.0, 'y': 10.0, "
                            "'width': 100.0, 'height': 100.0}");
    json_decref(out);
    CHECK_INT(n, 2);
    CHECK(left);
    CHECK(right);
    CHECK(conf > 0.6 && conf < 1);
}

TEST(imageannotation_aggregate_counts_workers_who_drew_nothing)
{
    const char *r[] = {ANN(CAT(10, 10, 100, 100)), ANN(CAT(12, 10, 100, 100)), ANN(), ANN()};
    double conf;
    /* Two of four is not more than half: nothing is kept, and half the
     * workers agree with that. */
    json_t *out = kt_aggregate(K, BOXES, SIZED, r, NULL, 4, &conf);
    CHECK(out != NULL);
    size_t n = n_annotations(out);
    json_decref(out);
    CHECK_INT(n, 0);
    CHECK_NEAR(conf, 0.5, 1e-12);
    /* Weighing the first worker 2 makes the box 3 of 5. */
    double w[] = {2, 1, 1, 1};
    out = kt_aggregate(K, BOXES, SIZED, r, w, 4, &conf);
    CHECK(out != NULL);
    n = n_annotations(out);
    json_decref(out);
    CHECK_INT(n, 1);
    /* Nobody drew anything: an empty result everyone agrees with. */
    const char *none[] = {ANN(), ANN(), ANN()};
    out = kt_aggregate(K, BOXES, SIZED, none, NULL, 3, &conf);
    CHECK(out != NULL);
    int empty = kt_equal_at(out, "annotations", "[]");
    json_decref(out);
    CHECK(empty);
    CHECK_NEAR(conf, 1, 0);
}

TEST(imageannotation_aggregate_weights_move_the_median)
{
    const char *r[] = {ANN(CAT(100, 100, 50, 50)), ANN(CAT(104, 100, 50, 50)),
                       ANN(CAT(110, 100, 50, 50))};
    double conf, w[] = {1, 1, 3};
    json_t *out = kt_aggregate(K, BOXES, SIZED, r, NULL, 3, &conf);
    CHECK(out != NULL);
    int equal = kt_equal_at(out, "annotations.0.x", "104.0");
    json_decref(out);
    CHECK(equal);
    out = kt_aggregate(K, BOXES, SIZED, r, w, 3, &conf);
    CHECK(out != NULL);
    int heavy = kt_equal_at(out, "annotations.0.x", "110.0");
    json_decref(out);
    CHECK(heavy);
}

/* The vertices of a result's annotation i as x, y pairs in xy (at most
 * max points); returns how many. */
static size_t vertices_of(const json_t *out, size_t i, double *xy, size_t max)
{
    const json_t *v = json_object_get(json_array_get(json_object_get(out, "annotations"), i),
                                      "vertices"),
                 *p;
    size_t k, n = 0;
    json_array_foreach(v, k, p)
    {
        if (n == max) break;
        xy[2 * n] = json_number_value(json_object_get(p, "x"));
        xy[2 * n + 1] = json_number_value(json_object_get(p, "y"));
        n++;
    }
    return n;
}

TEST(imageannotation_aggregate_averages_polygons_drawn_any_way_round)
{
    /* The square (100, 100)-(200, 200), drawn from different corners, in
     * both directions and a little off; the first worker also outlines a
     * triangle no one else saw. */
    const char *r[] = {
        ANN(POLYGON(V(100, 100) AND V(200, 100) AND V(200, 200) AND V(100, 200))
                AND POLYGON(V(400, 300) AND V(450, 300) AND V(420, 350))),
        ANN(POLYGON(V(202, 198) AND V(102, 198) AND V(102, 98) AND V(202, 98))),
        ANN(POLYGON(V(98, 102) AND V(98, 202) AND V(198, 202) AND V(198, 102))),
    };
    double conf, xy[2 * 256];
    json_t *out = kt_aggregate(K, CATBIRD, SIZED, r, NULL, 3, &conf);
    CHECK(out != NULL);
    size_t n = n_annotations(out), nv = vertices_of(out, 0, xy, 256);
    int type = kt_equal_at(out, "annotations.0.type", "'polygon'");
    json_decref(out);
    CHECK_INT(n, 1);
    CHECK(type);
    CHECK(nv >= 4);
    const double square[] = {100, 100, 200, 100, 200, 200, 100, 200};
    CHECK(lp_geom_polygon_iou(xy, nv, square, 4) > 0.97);
    CHECK(conf > 0.9 && conf < 1);
}

TEST(imageannotation_aggregate_clusters_points_the_score_would_match)
{
    /* 640 x 480: score() matches points up to 20 px apart, and so they
     * are clustered; two workers' points 19 px apart become their middle,
     * 21 px apart two points that each lack a majority. */
    const char *near[] = {ANN(POINT(100, 100)), ANN(POINT(119, 100))};
    const char *far[] = {ANN(POINT(100, 100)), ANN(POINT(121, 100))};
    double conf;
    json_t *out = kt_aggregate(K, CATBIRD, SIZED, near, NULL, 2, &conf);
    CHECK(out != NULL);
    int point = kt_equal_at(out, "annotations",
                            "[{'type': 'point', 'label': 'cat', 'x': 109.5, 'y': 100.0}]");
    json_decref(out);
    CHECK(point);
    out = kt_aggregate(K, CATBIRD, SIZED, far, NULL, 2, &conf);
    CHECK(out != NULL);
    size_t n = n_annotations(out);
    json_decref(out);
    CHECK_INT(n, 0);
    CHECK_NEAR(conf, 0, 0);
    /* On a 3000 x 4000 image the tolerance is 250 px: 100 px is near. */
    const char *big[] = {ANN(POINT(100, 100)), ANN(POINT(200, 100)), ANN(POINT(140, 100))};
    out = kt_aggregate(K, CATBIRD, HUGE_IMAGE, big, NULL, 3, &conf);
    CHECK(out != NULL);
    point = kt_equal_at(out, "annotations",
                        "[{'type': 'point', 'label': 'cat', 'x': 140.0, 'y': 100.0}]");
    json_decref(out);
    CHECK(point);
}

TEST(imageannotation_aggregate_keeps_the_medoid_line)
{
    /* Three parallel lines 4 px apart: the middle one is the most like the
     * others (0.9 and 0.9 against 0.9 and 0.8).  The third worker's second
     * line is drawn by no one else. */
    const char *r[] = {
        ANN(LINE(V(100, 100) AND V(300, 100))),
        ANN(LINE(V(300, 104) AND V(100, 104))),
        ANN(LINE(V(100, 108) AND V(300, 108)) AND LINE(V(10, 400) AND V(200, 400))),
    };
    double conf;
    json_t *out = kt_aggregate(K, CATBIRD, SIZED, r, NULL, 3, &conf);
    CHECK(out != NULL);
    int line = kt_equal_at(out, "annotations",
                           "[{'type': 'line', 'label': 'cat', 'vertices': [{'x': 300.0, 'y': "
                           "104.0}, {'x': 100.0, 'y': 104.0}]}]");
    json_decref(out);
    CHECK(line);
    CHECK_NEAR(conf, 2.8 / 3, 1e-9);
    /* Two of three is a majority; one of three is not. */
    const char *two[] = {ANN(LINE(V(100, 100) AND V(300, 100))),
                         ANN(LINE(V(100, 104) AND V(300, 104))), ANN()};
    out = kt_aggregate(K, CATBIRD, SIZED, two, NULL, 3, &conf);
    CHECK(out != NULL);
    size_t n = n_annotations(out);
    json_decref(out);
    CHECK_INT(n, 1);
    const char *one[] = {ANN(LINE(V(100, 100) AND V(300, 100))), ANN(), ANN()};
    out = kt_aggregate(K, CATBIRD, SIZED, one, NULL, 3, &conf);
    CHECK(out != NULL);
    n = n_annotations(out);
    json_decref(out);
    CHECK_INT(n, 0);
}

/* A cat box at (10, 10) 100 px wide with attributes attrs. */
#define ATTR_BOX(dx, attrs)                                                                  \
    "{'annotations': [{'type': 'box', 'label': 'cat', 'x': " #dx ", 'y': 10, 'width': 100, " \
    "'height': 100, 'attributes': " attrs "}]}"

TEST(imageannotation_aggregate_votes_on_attributes)
{
    const char *r[] = {
        ATTR_BOX(10, "{'color': 'red', 'size': 2, 'occluded': true, 'note': 'a'}"),
        ATTR_BOX(12, "{'color': 'red', 'size': 5, 'occluded': false, 'note': 'b'}"),
        ATTR_BOX(11, "{'color': 'blue', 'size': 9, 'occluded': false}"),
    };
    double conf;
    /* Equal weights: the majority color and occluded, the median size,
     * and the note two of three gave (a tie between its values goes to the
     * earlier response). */
    json_t *out = kt_aggregate(K, ATTRS, SIZED, r, NULL, 3, &conf);
    CHECK(out != NULL);
    int equal = kt_equal_at(out, "annotations.0.attributes",
                            "{'color': 'red', 'size': 5, 'occluded': false, 'note': 'a'}");
    json_decref(out);
    CHECK(equal);
    /* The third worker weighs 3 of 5: its color and size win, and the note
     * (given by 2 of 5) is left out. */
    double w[] = {1, 1, 3};
    out = kt_aggregate(K, ATTRS, SIZED, r, w, 3, &conf);
    CHECK(out != NULL);
    equal = kt_equal_at(out, "annotations.0.attributes",
                        "{'color': 'blue', 'size': 9, 'occluded': false}");
    json_decref(out);
    CHECK(equal);
}
