/* test_kind_imageannotation.c -- params, tasks, responses and errors of
 * the imageannotation kind. */
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
