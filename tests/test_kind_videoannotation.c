/* test_kind_videoannotation.c -- params, tasks, responses, scoring and
 * consolidation of the videoannotation kind. */
#include "test_kinds.h"

#define K    (&lp_kind_videoannotation)
#define CARS "{'labels': ['car', 'person'], 'events': ['crash']}"
#define ATTRS                                                                              \
    "{'labels': ['car'], 'attributes': [{'name': 'color', 'type': 'category', 'choices': " \
    "['red', 'blue']}], 'frame_attributes': [{'name': 'occluded', 'type': 'boolean'}]}"
#define VIDEO                                                          \
    "{'attachments': [{'type': 'video', 'url': 'https://x/1.webm'}], " \
    "'data': {'frames': 100, 'width': 640, 'height': 480}}"
#define FRAMES                                                                         \
    "{'attachments': [{'type': 'image', 'url': 'https://x/1.png'}, {'type': 'image', " \
    "'url': 'https://x/2.png'}, {'type': 'image', 'url': 'https://x/3.png'}], 'data': {}}"
#define TRACK(kf) "{'tracks': [{'label': 'car', 'shape': 'box', 'keyframes': [" kf "]}]}"

TEST(videoannotation_params_are_normalised)
{
    lp_verr e;
    json_t *p;
    int rc = kt_params(K, "{'labels': ['car']}", &p, &e);
    int geometries = kt_equal_at(p, "geometries", "['box', 'point', 'polygon']");
    int fps = kt_equal_at(p, "fps", "30");
    int events = kt_equal_at(p, "events", "[]");
    int fa = kt_equal_at(p, "frame_attributes", "[]");
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(geometries && fps && events && fa);
}

TEST(videoannotation_bad_params_name_the_field)
{
    PARAMS_ERR(K, "{'geometries': ['box']}", "params.labels", "is required");
    PARAMS_ERR(K, "{'labels': ['car'], 'geometries': ['line']}", "params.geometries[0]",
               "\"line\" is not a geometry; use box, point or polygon");
    PARAMS_ERR(K, "{'labels': ['car'], 'fps': 0}", "params.fps", "between");
    PARAMS_ERR(K, "{'labels': ['car'], 'frame_attributes': [{'name': 'o', 'type': 'x'}]}",
               "params.frame_attributes[0].type", "is not an attribute type");
    PARAMS_ERR(K, "{'labels': ['car'], 'events': [1]}", "params.events[0]", "");
    PARAMS_ERR(K, "{'labels': ['car'], 'speed': 2}", "params.speed", "");
}

TEST(videoannotation_tasks_need_a_video_with_frames_or_image_frames)
{
    TASK_OK(K, CARS, VIDEO);
    TASK_OK(K, CARS, FRAMES);
    TASK_ERR(K, CARS, "{'attachments': [{'type': 'video', 'url': 'https://x/1.webm'}]}",
             "data.frames", "is required");
    TASK_ERR(K, CARS, "{'attachments': [{'type': 'video', 'url': 'https://x/1.webm'}], 'data': {}}",
             "data.frames", "is required");
    TASK_ERR(K, CARS, "{'attachments': [{'type': 'audio', 'url': 'https://x/1.mp3'}]}",
             "attachments", "\"video\"");
    TASK_ERR(K, CARS, "{'attachments': [{'type': 'video', 'url': 'u'}], 'data': {'frames': 0}}",
             "data.frames", "between 1 and");
}

TEST(videoannotation_responses_are_checked_with_field_paths)
{
    RESPONSE_OK(K, CARS, VIDEO, "{'tracks': []}");
    RESPONSE_OK(K, CARS, VIDEO,
                TRACK("{'frame': 0, 'x': 0, 'y': 0, 'width': 10, 'height': 10}, "
                      "{'frame': 99, 'outside': true}"));
    RESPONSE_ERR(K, CARS, VIDEO, "{}", "response.tracks", "is required");
    RESPONSE_ERR(K, CARS, VIDEO,
                 TRACK("{'frame': 5, 'x': 0, 'y': 0, 'width': 10, 'height': 10}, "
                       "{'frame': 5, 'x': 0, 'y': 0, 'width': 10, 'height': 10}"),
                 "response.tracks[0].keyframes[1].frame", "must be after the previous");
    RESPONSE_ERR(K, CARS, VIDEO, TRACK("{'frame': 100, 'x': 0, 'y': 0, 'width': 10, 'height': 10}"),
                 "response.tracks[0].keyframes[0].frame", "at most 99");
    RESPONSE_ERR(K, CARS, FRAMES, TRACK("{'frame': 3, 'x': 0, 'y': 0, 'width': 10, 'height': 10}"),
                 "response.tracks[0].keyframes[0].frame", "at most 2");
    RESPONSE_ERR(K, CARS, VIDEO, TRACK("{'frame': 1, 'x': 0, 'y': 0, 'width': 10}"),
                 "response.tracks[0].keyframes[0].height", "is required");
    RESPONSE_ERR(K, CARS, VIDEO, TRACK("{'frame': 1, 'x': 630, 'y': 0, 'width': 20, 'height': 10}"),
                 "response.tracks[0].keyframes[0].width", "right edge");
    RESPONSE_ERR(K, CARS, VIDEO, TRACK(""), "response.tracks[0].keyframes", "at least 1");
    RESPONSE_ERR(K, CARS, VIDEO,
                 "{'tracks': [{'label': 'bus', 'shape': 'box', 'keyframes': [{'frame': 0, "
                 "'outside': true}]}]}",
                 "response.tracks[0].label", "\"bus\" is not in the project's labels");
    RESPONSE_ERR(K, "{'labels': ['car'], 'geometries': ['box']}", VIDEO,
                 "{'tracks': [{'label': 'car', 'shape': 'point', 'keyframes': [{'frame': 0, "
                 "'x': 1, 'y': 1}]}]}",
                 "response.tracks[0].shape", "not one of the project's geometries");
    RESPONSE_ERR(K, CARS, VIDEO,
                 "{'tracks': [{'id': 4, 'label': 'car', 'shape': 'box', 'keyframes': [{'frame': "
                 "0, 'outside': true}]}, {'id': 4, 'label': 'car', 'shape': 'box', 'keyframes': "
                 "[{'frame': 0, 'outside': true}]}]}",
                 "response.tracks[1].id", "already the id of response.tracks[0]");
    RESPONSE_ERR(K, CARS, VIDEO,
                 "{'tracks': [{'label': 'person', 'shape': 'polygon', 'keyframes': [{'frame': "
                 "0, 'vertices': [{'x': 0, 'y': 0}, {'x': 1, 'y': 1}]}]}]}",
                 "response.tracks[0].keyframes[0].vertices", "at least 3");
    RESPONSE_ERR(K, CARS, VIDEO,
                 "{'tracks': [], 'events': [{'label': 'crash', 'start': 10, 'end': 5}]}",
                 "response.events[0].end", "must not be before start");
    RESPONSE_ERR(K, CARS, VIDEO,
                 "{'tracks': [], 'events': [{'label': 'stop', 'start': 1, 'end': 5}]}",
                 "response.events[0].label", "\"stop\" is not in the project's events");
    RESPONSE_ERR(K, ATTRS, VIDEO,
                 TRACK("{'frame': 1, 'x': 0, 'y': 0, 'width': 1, 'height': 1, 'attributes': "
                       "{'occluded': 'yes'}}"),
                 "response.tracks[0].keyframes[0].attributes.occluded", "true or false");
    RESPONSE_ERR(K, ATTRS, VIDEO,
                 "{'tracks': [{'label': 'car', 'shape': 'box', 'attributes': {'color': 'green'}, "
                 "'keyframes': [{'frame': 0, 'outside': true}]}]}",
                 "response.tracks[0].attributes.color", "\"green\"");
}

/* A car's box moving right 1 px a frame over frames 0..99 (one track). */
#define MOVING(dx)                                                                     \
    "{'tracks': [{'label': 'car', 'shape': 'box', 'keyframes': [{'frame': 0, 'x': " dx \
    ", 'y': 0, 'width': 100, 'height': 100}, {'frame': 99, 'x': 99, 'y': 0, "          \
    "'width': 100, 'height': 100}]}]}"

TEST(videoannotation_a_frame_of_unknown_size_is_bounded_by_the_largest_data_width)
{
    /* FRAMES gives no size: coordinates are bounded by 1e6, the largest
     * data.width and data.height, not by infinity, where x + width of
     * 1e308 + 1e308 passed and later made the exports write inf. */
    RESPONSE_OK(K, CARS, FRAMES,
                TRACK("{'frame': 0, 'x': 999990, 'y': 999000, 'width': 10, 'height': 1000}"));
    RESPONSE_ERR(K, CARS, FRAMES,
                 TRACK("{'frame': 0, 'x': 1e308, 'y': 0, 'width': 1e308, 'height': 10}"),
                 "response.tracks[0].keyframes[0].x", "at most 1e+06, the largest frame's width");
    RESPONSE_ERR(K, CARS, FRAMES,
                 TRACK("{'frame': 0, 'x': 10, 'y': 0, 'width': 1e308, 'height': 10}"),
                 "response.tracks[0].keyframes[0].width", "right edge");
    RESPONSE_ERR(K, CARS, FRAMES,
                 "{'tracks': [{'label': 'car', 'shape': 'point', 'keyframes': [{'frame': 0, "
                 "'x': 1, 'y': 2e6}]}]}",
                 "response.tracks[0].keyframes[0].y", "at most 1e+06");
    RESPONSE_ERR(K, CARS, VIDEO,
                 "{'tracks': [{'label': 'car', 'shape': 'polygon', 'keyframes': [{'frame': 0, "
                 "'vertices': [{'x': 0, 'y': 0}, {'x': 641, 'y': 0}, {'x': 0, 'y': 9}]}]}]}",
                 "response.tracks[0].keyframes[0].vertices[1].x", "at most 640, the frame's width");
}

TEST(videoannotation_score_is_an_f1_over_tracks_matched_by_iou_over_time)
{
    CHECK_NEAR(kt_score(K, CARS, VIDEO, MOVING("0"), MOVING("0")), 1, 1e-12);
    CHECK_NEAR(kt_score(K, CARS, VIDEO, "{'tracks': []}", "{'tracks': []}"), 1, 1e-12);
    CHECK_NEAR(kt_score(K, CARS, VIDEO, "{'tracks': []}", MOVING("0")), 0, 1e-12);
    /* Present over half the frames of the reference: IoU over time 0.5. */
    const char *half = TRACK("{'frame': 0, 'x': 0, 'y': 0, 'width': 100, 'height': 100}, "
                             "{'frame': 50, 'outside': true}");
    const char *still = TRACK("{'frame': 0, 'x': 0, 'y': 0, 'width': 100, 'height': 100}");
    CHECK_NEAR(kt_score(K, CARS, VIDEO, half, still), 0.5, 1e-12);
    /* Two tracks against one: 2 * 1 / 3. */
    const char *two = "{'tracks': [{'label': 'car', 'shape': 'box', 'keyframes': [{'frame': 0, "
                      "'x': 0, 'y': 0, 'width': 100, 'height': 100}]}, {'label': 'car', "
                      "'shape': 'box', 'keyframes': [{'frame': 0, 'x': 300, 'y': 0, 'width': "
                      "100, 'height': 100}]}]}";
    CHECK_NEAR(kt_score(K, CARS, VIDEO, two, still), 2.0 / 3, 1e-12);
    /* Another label never matches. */
    const char *person = "{'tracks': [{'label': 'person', 'shape': 'box', 'keyframes': [{'frame': "
                         "0, 'x': 0, 'y': 0, 'width': 100, 'height': 100}]}]}";
    CHECK_NEAR(kt_score(K, CARS, VIDEO, person, still), 0, 1e-12);
    /* Events fold in: one track right and one event right of two. */
    const char *ev1 = "{'tracks': [{'label': 'car', 'shape': 'box', 'keyframes': [{'frame': 0, "
                      "'x': 0, 'y': 0, 'width': 100, 'height': 100}]}], 'events': [{'label': "
                      "'crash', 'start': 10, 'end': 19}]}";
    const char *ev2 = "{'tracks': [{'label': 'car', 'shape': 'box', 'keyframes': [{'frame': 0, "
                      "'x': 0, 'y': 0, 'width': 100, 'height': 100}]}], 'events': [{'label': "
                      "'crash', 'start': 10, 'end': 19}, {'label': 'crash', 'start': 60, "
                      "'end': 69}]}";
    CHECK_NEAR(kt_score(K, CARS, VIDEO, ev1, ev2), 2.0 * 2 / 5, 1e-12);
}

/* A track shown at frames 0-9 and 995-999 against one shown at 0-9, the
 * same box: IoU over time 10 / 15.  The bound that skips pairs far apart
 * in time once divided by the span (1000 frames), so they never paired. */
TEST(videoannotation_a_track_that_comes_back_late_still_matches)
{
    const char *task = "{'attachments': [{'type': 'video', 'url': 'https://x/1.webm'}], "
                       "'data': {'frames': 1000}}";
    const char *back = TRACK("{'frame': 0, 'x': 0, 'y': 0, 'width': 100, 'height': 100}, "
                             "{'frame': 10, 'outside': true}, "
                             "{'frame': 995, 'x': 0, 'y': 0, 'width': 100, 'height': 100}");
    const char *once = TRACK("{'frame': 0, 'x': 0, 'y': 0, 'width': 100, 'height': 100}, "
                             "{'frame': 10, 'outside': true}");
    CHECK_NEAR(kt_score(K, CARS, task, back, once), 10.0 / 15, 1e-12);
    CHECK_NEAR(kt_score(K, CARS, task, once, back), 10.0 / 15, 1e-12);
    /* Consolidation pairs them too: two of three workers agree on one car. */
    const char *r[] = {back, once, "{'tracks': []}"};
    double conf;
    json_t *out = kt_aggregate(K, CARS, task, r, NULL, 3, &conf);
    CHECK(out);
    size_t n = json_array_size(json_object_get(out, "tracks"));
    json_decref(out);
    CHECK_INT(n, 1);
}

/* The pairs of the largest sum, not the most similar first: greedy would
 * take b-y (0.85) alone, which blocks a-y (15/19) + b-x (13/18). */
TEST(videoannotation_score_pairs_events_by_the_largest_sum)
{
    const char *task = "{'attachments': [{'type': 'video', 'url': 'https://x/1.webm'}], "
                       "'data': {'frames': 200}}";
    const char *resp = "{'tracks': [], 'events': [{'label': 'crash', 'start': 50, 'end': 124}, "
                       "{'label': 'crash', 'start': 25, 'end': 114}]}";
    const char *ref = "{'tracks': [], 'events': [{'label': 'crash', 'start': 25, 'end': 89}, "
                      "{'label': 'crash', 'start': 30, 'end': 124}]}";
    CHECK_NEAR(kt_score(K, CARS, task, resp, ref), (15.0 / 19 + 13.0 / 18) / 2, 1e-12);
}

TEST(videoannotation_aggregate_keeps_the_majority_tracks_and_reduces_keyframes)
{
    /* Three workers track one car moving right; one adds a stray car the
     * others did not see.  The mean of x = 0, 2 and 4 at frame 0 is 2; all
     * move linearly to 99 at frame 99, so two keyframes carry it. */
    const char *r[] = {MOVING("0"), MOVING("2"),
                       "{'tracks': [{'label': 'car', 'shape': 'box', 'keyframes': [{'frame': 0, "
                       "'x': 4, 'y': 0, 'width': 100, 'height': 100}, {'frame': 99, 'x': 99, "
                       "'y': 0, 'width': 100, 'height': 100}]}, {'label': 'car', 'shape': "
                       "'box', 'keyframes': [{'frame': 0, 'x': 500, 'y': 300, 'width': 50, "
                       "'height': 50}]}]}"};
    double conf;
    json_t *out = kt_aggregate(K, CARS, VIDEO, r, NULL, 3, &conf);
    CHECK(out);
    const json_t *tracks = json_object_get(out, "tracks");
    size_t n = json_array_size(tracks);
    const json_t *kf = json_object_get(json_array_get(tracks, 0), "keyframes");
    size_t nk = json_array_size(kf);
    double x0 = json_number_value(json_object_get(json_array_get(kf, 0), "x"));
    double x1 = json_number_value(json_object_get(json_array_get(kf, 1), "x"));
    int id = kt_equal_at(out, "tracks.0.id", "1");
    json_decref(out);
    CHECK_INT(n, 1);
    CHECK_INT(nk, 2);
    CHECK_NEAR(x0, 2, 1e-9);
    CHECK_NEAR(x1, 99, 1e-9);
    CHECK(id);
    CHECK(conf > 0.9 && conf <= 1);
}

TEST(videoannotation_aggregate_marks_outside_where_most_say_absent)
{
    /* Two of three workers see the car leave at frame 50. */
    const char *gone = TRACK("{'frame': 0, 'x': 0, 'y': 0, 'width': 100, 'height': 100}, "
                             "{'frame': 50, 'outside': true}");
    const char *stays = TRACK("{'frame': 0, 'x': 0, 'y': 0, 'width': 100, 'height': 100}");
    const char *r[] = {gone, gone, stays};
    double conf;
    json_t *out = kt_aggregate(K, CARS, VIDEO, r, NULL, 3, &conf);
    CHECK(out);
    int shape = kt_equal_at(out, "tracks.0.keyframes",
                            "[{'frame': 0, 'x': 0.0, 'y': 0.0, 'width': 100.0, 'height': "
                            "100.0}, {'frame': 50, 'outside': true}]");
    char *text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    if (!shape) fprintf(stderr, "  got %s\n", text);
    free(text);
    CHECK(shape);
}

TEST(videoannotation_aggregate_votes_attributes_and_events)
{
    const char *a = "{'tracks': [{'label': 'car', 'shape': 'box', 'attributes': {'color': "
                    "'red'}, 'keyframes': [{'frame': 0, 'x': 0, 'y': 0, 'width': 10, 'height': "
                    "10}, {'frame': 10, 'x': 0, 'y': 0, 'width': 10, 'height': 10, "
                    "'attributes': {'occluded': true}}]}]}";
    const char *b = "{'tracks': [{'label': 'car', 'shape': 'box', 'attributes': {'color': "
                    "'blue'}, 'keyframes': [{'frame': 0, 'x': 0, 'y': 0, 'width': 10, 'height': "
                    "10}, {'frame': 10, 'x': 0, 'y': 0, 'width': 10, 'height': 10, "
                    "'attributes': {'occluded': true}}]}]}";
    const char *r[] = {a, a, b};
    double conf;
    json_t *out = kt_aggregate(K, ATTRS, VIDEO, r, NULL, 3, &conf);
    CHECK(out);
    int color = kt_equal_at(out, "tracks.0.attributes", "{'color': 'red'}");
    int occl = kt_equal_at(out, "tracks.0.keyframes.1.attributes", "{'occluded': true}");
    int frame = kt_equal_at(out, "tracks.0.keyframes.1.frame", "10");
    if (!(color && occl && frame)) {
        char *t = json_dumps(out, JSON_COMPACT);
        fprintf(stderr, "  got %s\n", t);
        free(t);
    }
    json_decref(out);
    CHECK(color && occl && frame);

    const char *e1 = "{'tracks': [], 'events': [{'label': 'crash', 'start': 10, 'end': 20}]}";
    const char *e2 = "{'tracks': [], 'events': [{'label': 'crash', 'start': 12, 'end': 22}]}";
    const char *e3 = "{'tracks': []}";
    const char *re[] = {e1, e2, e3};
    out = kt_aggregate(K, CARS, VIDEO, re, NULL, 3, &conf);
    CHECK(out);
    int ev = kt_equal_at(out, "events", "[{'label': 'crash', 'start': 11, 'end': 21}]");
    json_decref(out);
    CHECK(ev);
    const char *rn[] = {e1, e3, e3};
    out = kt_aggregate(K, CARS, VIDEO, rn, NULL, 3, &conf);
    CHECK(out);
    int none = kt_equal_at(out, "tracks", "[]") && !json_object_get(out, "events");
    json_decref(out);
    CHECK(none);
    CHECK_NEAR(conf, 2.0 / 3, 1e-12);
}

TEST(videoannotation_aggregate_of_agreeing_workers_gives_their_keyframes_back)
{
    const char *zig = TRACK("{'frame': 0, 'x': 0, 'y': 0, 'width': 100, 'height': 100}, "
                            "{'frame': 50, 'x': 50, 'y': 10, 'width': 100, 'height': 100}, "
                            "{'frame': 80, 'x': 0, 'y': 0, 'width': 100, 'height': 100}");
    const char *r[] = {zig, zig, zig};
    double conf;
    json_t *out = kt_aggregate(K, CARS, VIDEO, r, NULL, 3, &conf);
    CHECK(out);
    int same = kt_equal_at(out, "tracks.0.keyframes",
                           "[{'frame': 0, 'x': 0.0, 'y': 0.0, 'width': 100.0, 'height': 100.0}, "
                           "{'frame': 50, 'x': 50.0, 'y': 10.0, 'width': 100.0, 'height': 100.0}, "
                           "{'frame': 80, 'x': 0.0, 'y': 0.0, 'width': 100.0, 'height': 100.0}]");
    json_decref(out);
    CHECK(same);
    CHECK_NEAR(conf, 1, 1e-9);
}
