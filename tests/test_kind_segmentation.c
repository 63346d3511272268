/* test_kind_segmentation.c -- pixel masks: params (colours, opacity), the
 * task's image and size, responses refused with the field that is wrong
 * (an unknown or repeated label, a size that disagrees, counts that do
 * not add up, two layers claiming one pixel), the mean per-label IoU
 * worked out by hand, and the per-pixel vote with weights and ties, on
 * small masks and on a 1920x1080 one. */
#include <stdlib.h>
#include <string.h>

#include "rle.h"
#include "test_kinds.h"

#define K   (&lp_kind_segmentation)
#define AB  "{'labels': ['a', 'b']}"
#define IMG "{'attachments': [{'type': 'image', 'url': 'https://x/1.png'}], 'data': {}}"
/* 2 rows, 3 columns: 6 pixels, column-major positions 0..5. */
#define SIZED                                                                 \
    "{'attachments': [{'type': 'image', 'url': 'https://x/1.png'}], 'data': " \
    "{'width': 3, 'height': 2}}"

TEST(segmentation_params_fill_opacity_and_check_colours)
{
    json_t *p;
    lp_verr e;
    CHECK_INT(kt_params(K, "{'labels': ['road', {'name': 'car', 'color': '#00ff88'}]}", &p, &e), 0);
    int ok = kt_equal_at(p, "opacity", "0.5") && kt_equal_at(p, "labels.0", "{'name': 'road'}") &&
             kt_equal_at(p, "labels.1.color", "'#00ff88'");
    json_decref(p);
    CHECK(ok);
    PARAMS_ERR(K, "{'labels': [{'name': 'car', 'color': 'red'}]}", "params.labels[0].color",
               "#rrggbb");
    PARAMS_ERR(K, "{'labels': [{'name': 'car', 'color': '#12345g'}]}", "params.labels[0].color",
               "#rrggbb");
    PARAMS_ERR(K, "{'labels': ['a'], 'opacity': 1.5}", "params.opacity", "between");
    PARAMS_ERR(K, "{'labels': []}", "params.labels", "");
    PARAMS_ERR(K, "{'labels': ['a'], 'geometries': ['box']}", "params.geometries",
               "is not a known field");
}

TEST(segmentation_params_refuse_more_labels_than_an_index_mask_holds)
{
    lp_buf b = {0};
    lp_buf_puts(&b, "{'labels': [");
    for (int i = 0; i < 255; i++) {
        char item[32];
        snprintf(item, sizeof item, "%s'l%d'", i ? ", " : "", i);
        lp_buf_puts(&b, item);
    }
    lp_buf_puts(&b, "]}");
    PARAMS_ERR(K, b.data, "params.labels", "at most 254");
    lp_buf_fini(&b);
}

TEST(segmentation_task_needs_an_image_and_a_sane_size)
{
    TASK_OK(K, AB, IMG);
    TASK_OK(K, AB, SIZED);
    TASK_ERR(K, AB, "{'attachments': [{'type': 'video', 'url': 'https://x/1.mp4'}], 'data': {}}",
             "attachments", "image");
    TASK_ERR(K, AB,
             "{'attachments': [{'type': 'image', 'url': 'https://x/1.png'}], 'data': "
             "{'width': 0, 'height': 2}}",
             "data.width", "between 1");
    TASK_ERR(K, AB,
             "{'attachments': [{'type': 'image', 'url': 'https://x/1.png'}], 'data': "
             "{'width': 100000, 'height': 100000}}",
             "data.width", "larger than");
}

TEST(segmentation_responses_are_checked_field_by_field)
{
    RESPONSE_OK(K, AB, SIZED, "{'masks': []}");
    RESPONSE_OK(K, AB, SIZED,
                "{'masks': [{'label': 'a', 'rle': {'size': [2, 3], 'counts': [0, 2, 4]}}, "
                "{'label': 'b', 'rle': {'size': [2, 3], 'counts': '231'}}]}");
    RESPONSE_ERR(K, AB, SIZED,
                 "{'masks': [{'label': 'c', 'rle': {'size': [2, 3], 'counts': [6]}}]}",
                 "response.masks[0].label", "\"c\" is not in the project's labels");
    RESPONSE_ERR(K, AB, SIZED,
                 "{'masks': [{'label': 'a', 'rle': {'size': [2, 3], 'counts': [6]}}, "
                 "{'label': 'a', 'rle': {'size': [2, 3], 'counts': [6]}}]}",
                 "response.masks[1].label", "already has a layer, response.masks[0]");
    RESPONSE_ERR(K, AB, SIZED,
                 "{'masks': [{'label': 'a', 'rle': {'size': [3, 2], 'counts': [6]}}]}",
                 "response.masks[0].rle.size", "the task's image is 2 high and 3 wide");
    /* A size written as reals (640.0) passes the task's check as an
     * integer, so it binds the masks as well. */
    RESPONSE_ERR(K, AB,
                 "{'attachments': [{'type': 'image', 'url': 'https://x/1.png'}], 'data': "
                 "{'width': 3.0, 'height': 2.0}}",
                 "{'masks': [{'label': 'a', 'rle': {'size': [3, 2], 'counts': [6]}}]}",
                 "response.masks[0].rle.size", "the task's image is 2 high and 3 wide");
    RESPONSE_ERR(K, AB, IMG,
                 "{'masks': [{'label': 'a', 'rle': {'size': [2, 3], 'counts': [6]}}, "
                 "{'label': 'b', 'rle': {'size': [3, 3], 'counts': [9]}}]}",
                 "response.masks[1].rle.size", "the first layer's is [2, 3]");
    RESPONSE_ERR(K, AB, SIZED,
                 "{'masks': [{'label': 'a', 'rle': {'size': [2, 3], 'counts': [5]}}]}",
                 "response.masks[0].rle.counts", "add up to 5 pixels");
    RESPONSE_ERR(K, AB, SIZED,
                 "{'masks': [{'label': 'a', 'rle': {'size': [2, 3], 'counts': 'X'}}]}",
                 "response.masks[0].rle.counts", "malformed");
    RESPONSE_ERR(K, AB, SIZED, "{'masks': [{'label': 'a', 'rle': {'size': [2, 3]}}]}",
                 "response.masks[0].rle.counts", "is required");
    RESPONSE_ERR(K, AB, SIZED,
                 "{'masks': [{'label': 'a', 'rle': {'size': [2, -3], 'counts': []}}]}",
                 "response.masks[0].rle.size", "two positive integers");
    /* 2^32 x 2^32 wraps to 0 pixels in 64 bits: refused, not read as empty. */
    RESPONSE_ERR(K, AB, IMG,
                 "{'masks': [{'label': 'a', 'rle': {'size': [4294967296, 4294967296], 'counts': "
                 "[]}}]}",
                 "response.masks[0].rle.size", "larger than");
    RESPONSE_ERR(K, AB, SIZED,
                 "{'masks': [{'label': 'a', 'rle': {'size': [2, 3], 'counts': [6], 'x': 1}}]}",
                 "response.masks[0].rle.x", "is not a known field");
    /* a: pixels 0..2, b: pixels 2..3; they share pixel 2 = column 1, row 0. */
    RESPONSE_ERR(K, AB, SIZED,
                 "{'masks': [{'label': 'a', 'rle': {'size': [2, 3], 'counts': [0, 3, 3]}}, "
                 "{'label': 'b', 'rle': {'size': [2, 3], 'counts': [2, 2, 2]}}]}",
                 "response.masks[1].rle.counts",
                 "overlaps response.masks[0] (\"a\") at pixel x=1, y=0");
}

/* Masks of the 2x2 image: "a" over pixels {0, 1}, "b" over {3}, against
 * "a" over {1, 2}: a's IoU is |{1}| / |{0, 1, 2}| = 1/3, b's 0 / 1 = 0,
 * their mean 1/6. */
TEST(segmentation_score_is_the_mean_iou_of_the_labels_present)
{
    const char *r1 = "{'masks': [{'label': 'a', 'rle': {'size': [2, 2], 'counts': [0, 2, 2]}}, "
                     "{'label': 'b', 'rle': {'size': [2, 2], 'counts': [3, 1]}}]}";
    const char *r2 = "{'masks': [{'label': 'a', 'rle': {'size': [2, 2], 'counts': [1, 2, 1]}}]}";
    CHECK_NEAR(kt_score(K, AB, IMG, r1, r2), 1.0 / 6, 1e-12);
    CHECK_NEAR(kt_score(K, AB, IMG, r2, r1), 1.0 / 6, 1e-12);
    CHECK_NEAR(kt_score(K, AB, IMG, r1, r1), 1, 0);
    CHECK_NEAR(kt_score(K, AB, IMG, "{'masks': []}", "{'masks': []}"), 1, 0);
    CHECK_NEAR(kt_score(K, AB, IMG, "{'masks': []}", r2), 0, 0);
    /* An empty layer is no layer. */
    CHECK_NEAR(kt_score(K, AB, IMG,
                        "{'masks': [{'label': 'b', 'rle': {'size': [2, 2], 'counts': [4]}}]}",
                        "{'masks': []}"),
               1, 0);
    /* The same runs in a list and as a string are the same mask. */
    CHECK_NEAR(kt_score(K, AB, IMG, r2,
                        "{'masks': [{'label': 'a', 'rle': {'size': [2, 2], 'counts': '121'}}]}"),
               1, 0);
}

/* One row of four pixels (so positions are x): a at {0, 1}; a at {0}, b at
 * {1, 2}; b at {2, 3}. */
static const char *const row[] = {
    "{'masks': [{'label': 'a', 'rle': {'size': [1, 4], 'counts': [0, 2, 2]}}]}",
    "{'masks': [{'label': 'a', 'rle': {'size': [1, 4], 'counts': [0, 1, 3]}}, "
    "{'label': 'b', 'rle': {'size': [1, 4], 'counts': [1, 2, 1]}}]}",
    "{'masks': [{'label': 'b', 'rle': {'size': [1, 4], 'counts': [2, 2]}}]}",
};

TEST(segmentation_vote_is_per_pixel_and_background_wins_ties)
{
    double conf;
    /* Pixel 0: a 2, background 1 -> a.  Pixel 1: a, b, background 1 each
     * -> background.  Pixel 2: b 2 -> b.  Pixel 3: background 2 -> none. */
    json_t *out = kt_aggregate(K, AB, IMG, row, NULL, 3, &conf);
    CHECK(out != NULL);
    int ok = kt_equal_at(out, "masks",
                         "[{'label': 'a', 'rle': {'size': [1, 4], 'counts': '013'}}, "
                         "{'label': 'b', 'rle': {'size': [1, 4], 'counts': '211'}}]");
    json_decref(out);
    CHECK(ok);
    /* Against a {0}, b {2}: the first scores (1/2 + 0) / 2, the second
     * (1 + 1/2) / 2, the third (0 + 1/2) / 2; their mean is 5/12. */
    CHECK_NEAR(conf, 5.0 / 12, 1e-12);
}

TEST(segmentation_vote_weighs_the_workers)
{
    double conf, w[] = {1, 1, 3};
    /* Pixel 0: a 2, background 3; pixel 1: background 3; pixel 2: b 4;
     * pixel 3: b 3, background 2.  Only b, at {2, 3}. */
    json_t *out = kt_aggregate(K, AB, IMG, row, w, 3, &conf);
    CHECK(out != NULL);
    int ok = kt_equal_at(out, "masks", "[{'label': 'b', 'rle': {'size': [1, 4], 'counts': '22'}}]");
    json_decref(out);
    CHECK(ok);
    /* Scores against b {2, 3}: 0 (a and b both wrong), (0 + 1/3) / 2, 1. */
    CHECK_NEAR(conf, (0 + 1.0 / 6 + 3) / 5, 1e-12);
}

TEST(segmentation_vote_ties_between_labels_go_to_the_first_listed)
{
    const char *r[] = {"{'masks': [{'label': 'a', 'rle': {'size': [1, 2], 'counts': [0, 1, 1]}}]}",
                       "{'masks': [{'label': 'b', 'rle': {'size': [1, 2], 'counts': [0, 1, 1]}}]}"};
    double conf;
    json_t *out = kt_aggregate(K, AB, IMG, r, NULL, 2, &conf);
    CHECK(out != NULL);
    int a = kt_equal_at(out, "masks.0.label", "'a'");
    json_decref(out);
    CHECK(a);
    out = kt_aggregate(K, "{'labels': ['b', 'a']}", IMG, r, NULL, 2, &conf);
    CHECK(out != NULL);
    int b = kt_equal_at(out, "masks.0.label", "'b'");
    json_decref(out);
    CHECK(b);
    /* Empty responses consolidate to no mask, with full confidence. */
    const char *none[] = {"{'masks': []}", "{'masks': []}"};
    out = kt_aggregate(K, AB, IMG, none, NULL, 2, &conf);
    CHECK(out != NULL);
    int empty = kt_equal_at(out, "masks", "[]");
    json_decref(out);
    CHECK(empty);
    CHECK_NEAR(conf, 1, 0);
}

/* A 1920x1080 response: discs of label a and a rectangle of label b,
 * shifted by dx pixels, as JSON text (the caller frees it). */
static char *big_response(int dx, unsigned char **mask_out)
{
    enum { W = 1920, H = 1080 };
    unsigned char *a = lp_calloc(W * H, 1), *b = lp_calloc(W * H, 1);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int cx = x - 400 - dx, cy = y - 500, ex = x - 1300 - dx, ey = y - 300;
            if (cx * cx + cy * cy < 250 * 250 || ex * ex + ey * ey < 120 * 120)
                a[y * W + x] = 1;
            else if (x >= 900 + dx && x < 1700 + dx && y >= 700 && y < 1000)
                b[y * W + x] = 1;
        }
    lp_rle ra, rb;
    lp_rle_from_mask(a, W, H, &ra);
    lp_rle_from_mask(b, W, H, &rb);
    char *sa = lp_rle_encode_string(&ra), *sb = lp_rle_encode_string(&rb);
    json_t *r = json_pack("{s:[{s:s, s:{s:[i, i], s:s}}, {s:s, s:{s:[i, i], s:s}}]}", "masks",
                          "label", "a", "rle", "size", H, W, "counts", sa, "label", "b", "rle",
                          "size", H, W, "counts", sb);
    char *text = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    free(sa), free(sb);
    lp_rle_fini(&ra), lp_rle_fini(&rb);
    free(b);
    if (mask_out)
        *mask_out = a;
    else
        free(a);
    return text;
}

TEST(segmentation_vote_on_a_full_hd_mask_is_the_majority)
{
    /* Two of three agree exactly: the result is their mask. */
    unsigned char *want;
    char *r[3] = {big_response(0, &want), big_response(0, NULL), big_response(40, NULL)};
    double conf;
    json_t *out = kt_aggregate(K, AB,
                               "{'attachments': [{'type': 'image', 'url': 'https://x/1.png'}], "
                               "'data': {'width': 1920, 'height': 1080}}",
                               (const char *const *)r, NULL, 3, &conf);
    CHECK(out != NULL);
    json_t *first = json_loads(r[0], 0, NULL);
    int same = json_equal(json_object_get(out, "masks"), json_object_get(first, "masks"));
    json_decref(first);
    json_decref(out);
    for (int i = 0; i < 3; i++) free(r[i]);
    free(want);
    CHECK(same);
    CHECK(conf > 0.6 && conf < 1);
}
