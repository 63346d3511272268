/* test_kind_lidarannotation.c -- params, tasks, responses, scoring and
 * consolidation of 3D cuboids in point clouds. */
#include <math.h>

#include "test_kinds.h"

#define K    (&lp_kind_lidarannotation)
#define CARS "{'labels': ['car', 'pedestrian']}"
#define ATTRS                                                                    \
    "{'labels': ['car'], 'attributes': [{'name': 'moving', 'type': 'boolean'}, " \
    "{'name': 'parts', 'type': 'number', 'min': 0, 'max': 9}]}"
#define TWO                                                                         \
    "{'attachments': [{'type': 'pointcloud', 'file': 'a'}, {'type': 'pointcloud', " \
    "'file': 'b'}], 'data': {}}"
#define CUBE(t, f, l, x, y, yaw)                                                 \
    "{'track': " #t ", 'frame': " #f ", 'label': '" l "', 'x': " #x ", 'y': " #y \
    ", 'z': 0, 'length': 4, 'width': 2, 'height': 1.5, 'yaw': " #yaw "}"

TEST(lidarannotation_params_are_normalised_and_checked)
{
    lp_verr e;
    json_t *p;
    int rc = kt_params(K, ATTRS, &p, &e);
    int req = kt_equal_at(p, "attributes.0.required", "false");
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(req);
    PARAMS_ERR(K, "{'attributes': []}", "params.labels", "is required");
    PARAMS_ERR(K, "{'labels': ['car'], 'geometries': ['box']}", "params.geometries", "");
    PARAMS_ERR(K, "{'labels': ['car'], 'attributes': [{'name': 'a', 'type': 'colour'}]}",
               "params.attributes[0].type", "is not an attribute type");
    PARAMS_ERR(K,
               "{'labels': ['car'], 'attributes': [{'name': 'a', 'type': 'number', 'min': 3, "
               "'max': 1}]}",
               "params.attributes[0].max", "must not be less than min");
}

TEST(lidarannotation_tasks_need_a_point_cloud_and_valid_calibration)
{
    TASK_OK(K, CARS, TWO);
    TASK_ERR(K, CARS, "{'attachments': [{'type': 'image', 'file': 'a'}], 'data': {}}",
             "attachments", "\"pointcloud\"");
    const char *cal = "{'attachments': [{'type': 'pointcloud', 'file': 'a'}, {'type': 'image', "
                      "'file': 'c'}], 'data': {'calibration': [{'image': %d, 'K': %s, "
                      "'extrinsic': [[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]}]}}";
    char t[512];
    snprintf(t, sizeof t, cal, 1, "[[1,0,0],[0,1,0],[0,0,1]]");
    TASK_OK(K, CARS, t);
    snprintf(t, sizeof t, cal, 0, "[[1,0,0],[0,1,0],[0,0,1]]");
    TASK_ERR(K, CARS, t, "data.calibration[0].image", "is not an image");
    snprintf(t, sizeof t, cal, 1, "[[1,0,0],[0,1,0]]");
    TASK_ERR(K, CARS, t, "data.calibration[0].K", "at least 3");
    snprintf(t, sizeof t, cal, 1, "[[1,0,0],[0,1,'x'],[0,0,1]]");
    TASK_ERR(K, CARS, t, "data.calibration[0].K[1][2]", "finite number");
    snprintf(t, sizeof t, cal, 5, "[[1,0,0],[0,1,0],[0,0,1]]");
    TASK_ERR(K, CARS, t, "data.calibration[0].image", "between 0 and 1");
}

TEST(lidarannotation_bad_responses_name_the_field)
{
    RESPONSE_OK(K, CARS, TWO, "{'cuboids': []}");
    RESPONSE_OK(K, CARS, TWO,
                "{'cuboids': [" CUBE(1, 0, "car", 1, 2, 0) ", " CUBE(1, 1, "car", 2, 2, 0) "]}");
    RESPONSE_ERR(K, CARS, TWO, "{'boxes': []}", "response.boxes", "");
    RESPONSE_ERR(K, CARS, TWO, "{'cuboids': [" CUBE(1, 2, "car", 1, 2, 0) "]}",
                 "response.cuboids[0].frame", "between 0 and 1");
    RESPONSE_ERR(K, CARS, TWO, "{'cuboids': [" CUBE(0, 0, "car", 1, 2, 0) "]}",
                 "response.cuboids[0].track", "between 1 and");
    RESPONSE_ERR(K, CARS, TWO, "{'cuboids': [" CUBE(1, 0, "bus", 1, 2, 0) "]}",
                 "response.cuboids[0].label", "\"bus\" is not in the project's labels");
    RESPONSE_ERR(K, CARS, TWO,
                 "{'cuboids': [" CUBE(1, 0, "car", 1, 2, 0) ", " CUBE(1, 0, "car", 9, 2, 0) "]}",
                 "response.cuboids[1].track", "track 1 already has a cuboid in frame 0");
    RESPONSE_ERR(K, CARS, TWO,
                 "{'cuboids': [{'track': 1, 'frame': 0, 'label': 'car', 'x': 0, 'y': 0, 'z': 0, "
                 "'length': 0, 'width': 1, 'height': 1, 'yaw': 0}]}",
                 "response.cuboids[0].length", "greater than 0");
    RESPONSE_ERR(K, CARS, TWO,
                 "{'cuboids': [{'track': 1, 'frame': 0, 'label': 'car', 'x': 0, 'y': 0, 'z': 0, "
                 "'length': 1, 'width': 1, 'height': 1}]}",
                 "response.cuboids[0].yaw", "is required");
    RESPONSE_ERR(K, ATTRS, TWO,
                 "{'cuboids': [{'track': 1, 'frame': 0, 'label': 'car', 'x': 0, 'y': 0, 'z': 0, "
                 "'length': 1, 'width': 1, 'height': 1, 'yaw': 0, 'attributes': {'parts': 12}}]}",
                 "response.cuboids[0].attributes.parts", "at most 9");
    RESPONSE_ERR(K, ATTRS, TWO,
                 "{'cuboids': [{'track': 1, 'frame': 0, 'label': 'car', 'x': 0, 'y': 0, 'z': 0, "
                 "'length': 1, 'width': 1, 'height': 1, 'yaw': 0, 'attributes': {'color': 1}}]}",
                 "response.cuboids[0].attributes.color", "");
}

TEST(lidarannotation_scores_iou_weighted_f1_per_frame_and_label)
{
    const char *ref =
        "{'cuboids': [" CUBE(1, 0, "car", 0, 0, 0) ", " CUBE(2, 1, "car", 10, 0, 0) "]}";
    CHECK_NEAR(kt_score(K, CARS, TWO, ref, ref), 1.0, 1e-12);
    CHECK_NEAR(kt_score(K, CARS, TWO, "{'cuboids': []}", "{'cuboids': []}"), 1.0, 0);
    CHECK_NEAR(kt_score(K, CARS, TWO, "{'cuboids': []}", ref), 0.0, 0);
    /* The same boxes turned half round, other track ids: still a match. */
    CHECK_NEAR(kt_score(K, CARS, TWO,
                        "{'cuboids': [" CUBE(7, 0, "car", 0, 0, 3.14159265358979) ", " CUBE(
                            8, 1, "car", 10, 0, -3.14159265358979) "]}",
                        ref),
               1.0, 1e-9);
    /* One of two found: F1 2 * 1 / 3. */
    CHECK_NEAR(kt_score(K, CARS, TWO, "{'cuboids': [" CUBE(1, 0, "car", 0, 0, 0) "]}", ref),
               2.0 / 3, 1e-12);
    /* Right place, wrong frame or wrong label: no match. */
    CHECK_NEAR(kt_score(K, CARS, TWO, "{'cuboids': [" CUBE(1, 1, "car", 0, 0, 0) "]}", ref), 0.0,
               0);
    CHECK_NEAR(kt_score(K, CARS, TWO, "{'cuboids': [" CUBE(1, 0, "pedestrian", 0, 0, 0) "]}",
                        "{'cuboids': [" CUBE(1, 0, "car", 0, 0, 0) "]}"),
               0.0, 0);
    /* Shifted by 1 m along a 4 m length: IoU 3 / 5 counts 0.6. */
    CHECK_NEAR(kt_score(K, CARS, TWO, "{'cuboids': [" CUBE(1, 0, "car", 1, 0, 0) "]}",
                        "{'cuboids': [" CUBE(1, 0, "car", 0, 0, 0) "]}"),
               0.6, 1e-12);
    /* Pairs for the largest sum, not the best pair first: a (x 0.45) fits
     * r1 (x 0) best, IoU 3.55 / 4.45, but then b (x -1) has nothing; a with
     * r2 (x 1, IoU 3.45 / 4.55) and b with r1 (IoU 3 / 5) score more. */
    CHECK_NEAR(kt_score(K, CARS, TWO,
                        "{'cuboids': [" CUBE(1, 0, "car", 0.45, 0, 0) ", " CUBE(
                            2, 0, "car", -1, 0, 0) "]}",
                        "{'cuboids': [" CUBE(1, 0, "car", 0, 0, 0) ", " CUBE(2, 0, "car", 1, 0,
                                                                              0) "]}"),
               2 * (3.45 / 4.55 + 0.6) / 4, 1e-9);
    /* Shifted by 2 m: IoU 1 / 3, below 0.5, no match. */
    CHECK_NEAR(kt_score(K, CARS, TWO, "{'cuboids': [" CUBE(1, 0, "car", 2, 0, 0) "]}",
                        "{'cuboids': [" CUBE(1, 0, "car", 0, 0, 0) "]}"),
               0.0, 0);
}

TEST(lidarannotation_consolidates_three_workers)
{
    /* Three workers draw the car in both frames; two of them a pedestrian
     * in frame 0 that the third missed; one a stray box.  Yaws near pi
     * and -pi and one turned half round average to about pi. */
    const char *r[] = {
        "{'cuboids': [" CUBE(1, 0, "car", 0, 0, 3.1) ", " CUBE(1, 1, "car", 1, 0, 3.1) ", " CUBE(
            2, 0, "pedestrian", 20, 5, 0) "]}",
        "{'cuboids': [" CUBE(5, 0, "car", 0.3, 0, -3.1) ", " CUBE(
            5, 1, "car", 1.3, 0, -3.1) ", " CUBE(6, 0, "pedestrian", 20.2, 5,
                                                 0) ", " CUBE(7, 1, "car", 50, 50, 0) "]}",
        "{'cuboids': [" CUBE(3, 0, "car", 0, 0.3, 0) ", " CUBE(3, 1, "pedestrian", 1, 0.3, 0) "]}",
    };
    double conf;
    json_t *out = kt_aggregate(K, CARS, TWO, r, NULL, 3, &conf);
    CHECK(out != NULL);
    const json_t *list = json_object_get(out, "cuboids");
    int n = (int)json_array_size(list);
    const json_t *car0 = json_array_get(list, 0), *ped0 = json_array_get(list, 1),
                 *car1 = json_array_get(list, 2);
    double x = json_real_value(json_object_get(car0, "x"));
    double yaw = json_real_value(json_object_get(car0, "yaw"));
    int car_label = !strcmp(json_string_value(json_object_get(car1, "label"))
                                ? json_string_value(json_object_get(car1, "label"))
                                : "",
                            "car");
    int same_track = json_equal(json_object_get(car0, "track"), json_object_get(car1, "track"));
    int ped = !strcmp(json_string_value(json_object_get(ped0, "label"))
                          ? json_string_value(json_object_get(ped0, "label"))
                          : "",
                      "pedestrian");
    int ped_track = json_integer_value(json_object_get(ped0, "track")) !=
                    json_integer_value(json_object_get(car0, "track"));
    json_decref(out);
    CHECK_INT(n, 3);
    CHECK_NEAR(x, 0.1, 1e-9);
    CHECK(fabs(fabs(yaw) - (3.1 + (M_PI - 3.1) * 2 / 3 - 0)) < 0.2);
    CHECK(car_label); /* two of three said car in frame 1 */
    CHECK(same_track);
    CHECK(ped);
    CHECK(ped_track);
    CHECK(conf > 0.5 && conf <= 1);

    /* Nobody drew anything: an empty result, sure. */
    const char *none[] = {"{'cuboids': []}", "{'cuboids': []}"};
    out = kt_aggregate(K, CARS, TWO, none, NULL, 2, &conf);
    CHECK(out != NULL);
    n = (int)json_array_size(json_object_get(out, "cuboids"));
    json_decref(out);
    CHECK_INT(n, 0);
    CHECK_NEAR(conf, 1, 0);
}

TEST(lidarannotation_weights_decide_the_quorum)
{
    const char *r[] = {"{'cuboids': [" CUBE(1, 0, "car", 0, 0, 0) "]}", "{'cuboids': []}"};
    double w[] = {3, 1}, conf;
    json_t *out = kt_aggregate(K, CARS, TWO, r, w, 2, &conf);
    CHECK(out != NULL);
    int n = (int)json_array_size(json_object_get(out, "cuboids"));
    json_decref(out);
    CHECK_INT(n, 1);
    double w2[] = {1, 3};
    out = kt_aggregate(K, CARS, TWO, r, w2, 2, &conf);
    CHECK(out != NULL);
    n = (int)json_array_size(json_object_get(out, "cuboids"));
    json_decref(out);
    CHECK_INT(n, 0);
}

/* 3 workers x 200 cars on a 10 m grid, each a little off: 200 objects, each
 * its three boxes' mean. */
TEST(lidarannotation_consolidates_many_boxes_one_to_one)
{
    char *r[3];
    for (int w = 0; w < 3; w++) {
        lp_buf b = {0};
        lp_buf_puts(&b, "{\"cuboids\": [");
        for (int i = 0; i < 200; i++)
            lp_buf_printf(&b,
                          "%s{\"track\": %d, \"frame\": 0, \"label\": \"car\", \"x\": %g, \"y\": "
                          "%g, \"z\": 0, \"length\": 4, \"width\": 2, \"height\": 1.5, \"yaw\": "
                          "%g}",
                          i ? ", " : "", i + 1 + 1000 * w, (i % 20) * 10 + 0.1 * w, (i / 20) * 10.0,
                          0.02 * w);
        lp_buf_puts(&b, "]}");
        r[w] = b.data;
    }
    double conf;
    json_t *out = kt_aggregate(K, CARS, TWO, (const char *const *)r, NULL, 3, &conf);
    for (int w = 0; w < 3; w++) free(r[w]);
    CHECK(out != NULL);
    const json_t *list = json_object_get(out, "cuboids");
    size_t n = json_array_size(list);
    double x0 = 1e9, yaw0 = 0;
    const json_t *c;
    size_t i;
    json_array_foreach(list, i, c)
    {
        double x = json_real_value(json_object_get(c, "x")),
               y = json_real_value(json_object_get(c, "y"));
        if (y < 1 && x < x0) {
            x0 = x;
            yaw0 = json_real_value(json_object_get(c, "yaw"));
        }
    }
    json_decref(out);
    CHECK_INT(n, 200);
    CHECK_NEAR(x0, 0.1, 1e-9);
    CHECK_NEAR(yaw0, 0.02, 1e-9);
    CHECK(conf > 0.9);
}

/* Two workers x 10,000 cars in one frame (the most a response holds): the
 * pairs are found by a sweep along x and the seeds kept in a heap, where a
 * table of every pair's IoU took 3.2 GB and picking each seed anew looked
 * at every pair of cuboids (hours).  Each car is its two boxes' mean. */
TEST(lidarannotation_consolidates_a_frame_of_ten_thousand_boxes_a_worker)
{
    char *r[2];
    for (int w = 0; w < 2; w++) {
        lp_buf b = {0};
        lp_buf_puts(&b, "{\"cuboids\": [");
        for (int i = 0; i < 10000; i++)
            lp_buf_printf(&b,
                          "%s{\"track\": %d, \"frame\": 0, \"label\": \"car\", \"x\": %g, \"y\": "
                          "%g, \"z\": 0, \"length\": 4, \"width\": 2, \"height\": 1.5, \"yaw\": "
                          "0}",
                          i ? ", " : "", i + 1, (i % 100) * 10 + 0.2 * w, (i / 100) * 10.0);
        lp_buf_puts(&b, "]}");
        r[w] = b.data;
    }
    double conf;
    json_t *out = kt_aggregate(K, CARS, TWO, (const char *const *)r, NULL, 2, &conf);
    for (int w = 0; w < 2; w++) free(r[w]);
    CHECK(out != NULL);
    const json_t *list = json_object_get(out, "cuboids");
    size_t n = json_array_size(list), i, off = 0;
    const json_t *c;
    json_array_foreach(list, i, c)
    {
        /* each at 10 * column + 0.1, the mean of x and x + 0.2 */
        double x = json_real_value(json_object_get(c, "x"));
        off += fabs(x - 10 * floor(x / 10) - 0.1) > 1e-6;
    }
    json_decref(out);
    CHECK_INT(n, 10000);
    CHECK_INT(off, 0);
    CHECK(conf > 0.9);
}
