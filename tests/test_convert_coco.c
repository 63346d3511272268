/* test_convert_coco.c -- the COCO converter on sources built in memory:
 * the task bodies it emits (NDJSON) field by field, shapes clipped at the
 * border within a pixel and not beyond, keypoint labels falling back to
 * the category, duplicate image ids, images found in the source's media
 * with their size read from the header, and what is refused whole; into a
 * segmentation project, a polygon filled by pixel centre, an RLE list and
 * a compressed one painted in order over it, checked against hand counts. */
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "rle.h"
#include "test.h"
#include "test_kinds.h"

typedef struct run {
    lp_project p;
    lp_src src;
    lp_convert c;
    json_t *tasks; /* the emitted task bodies */
    int rc;
    lp_verr e;
} run;

/* Converts the COCO document doc (single-quoted JSON) with image_base
 * set; media (may be NULL) is a media file name added to the source with
 * the given size. */
static void convert_into(run *r, const lp_kind *kind, const char *doc, const char *media, int w,
                         int h, int results)
{
    memset(r, 0, sizeof *r);
    lp_verr e;
    kt_params(kind, "{'labels': ['car', 'person', 'nose', 'piéton']}", &r->p.params, &e);
    r->p.kind = kind;
    json_t *d = kt_json(doc);
    char *text = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    lp_src_add_text(&r->src, "instances.json", text, strlen(text));
    free(text);
    if (media)
        lp_src_add_media(&r->src, media, "image",
                         "0000000000000000000000000000000000000000000000000000000000000000", w, h);
    lp_src_done(&r->src);
    r->c = (lp_convert){.project = &r->p,
                        .src = &r->src,
                        .results = results,
                        .image_base = "https://img.example.com/x",
                        .format = "coco"};
    r->rc = lp_convert_coco.run(&r->c, &r->e);
    r->tasks = json_array();
    const char *s = r->c.out.data;
    for (size_t i = 0; s && i < r->c.ntasks; i++) {
        const char *nl = strchr(s, '\n');
        json_array_append_new(r->tasks, json_loadb(s, (size_t)(nl - s), 0, NULL));
        s = nl + 1;
    }
}

static void convert(run *r, const char *doc, const char *media, int w, int h, int results)
{
    convert_into(r, &lp_kind_imageannotation, doc, media, w, h, results);
}

static void done(run *r)
{
    json_decref(r->tasks);
    lp_convert_fini(&r->c);
    lp_src_fini(&r->src);
    json_decref(r->p.params);
}

static char *dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
}

#define IMAGES "'images': [{'id': 1, 'file_name': 'a.jpg', 'width': 100, 'height': 50}]"
#define CATS                                                                                      \
    "'categories': [{'id': 1, 'name': 'car'}, {'id': 2, 'name': 'person', 'keypoints': ['nose', " \
    "'ear']}]"

TEST(coco_box_clipped_within_a_pixel_and_left_beyond)
{
    run r;
    convert(&r,
            "{" IMAGES ", " CATS ", 'annotations': [{'id': 1, 'image_id': 1, 'category_id': 1, "
            "'bbox': [-0.5, 40, 100.75, 10.5]},"
            " {'id': 2, 'image_id': 1, 'category_id': 1, 'bbox': [90, 0, 15, 5]}]}",
            NULL, 0, 0, 0);
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.c.ntasks, 1);
    const json_t *t = json_array_get(r.tasks, 0);
    const json_t *shapes = json_object_get(
        json_object_get(json_array_get(json_object_get(t, "predictions"), 0), "response"),
        "annotations");
    char *s = dump(json_array_get(shapes, 0));
    CHECK_STR(s, "{\"height\":10.0,\"label\":\"car\",\"type\":\"box\",\"width\":100.0,\"x\":"
                 "0.0,\"y\":40.0}");
    free(s);
    /* 5 px past the edge: kept, for the kind to refuse with the field */
    CHECK_NEAR(json_real_value(json_object_get(json_array_get(shapes, 1), "width")), 15, 1e-9);
    CHECK_STR(json_string_value(json_object_get(t, "unique_id")), "a.jpg");
    s = dump(json_object_get(t, "attachments"));
    CHECK_STR(
        s, "[{\"name\":\"a.jpg\",\"type\":\"image\",\"url\":\"https://img.example.com/x/a.jpg\"}]");
    free(s);
    s = dump(json_object_get(t, "data"));
    CHECK_STR(s, "{\"height\":50,\"width\":100}");
    free(s);
    done(&r);
}

TEST(coco_keypoints_take_their_name_when_the_project_has_it)
{
    run r;
    convert(&r,
            "{" IMAGES ", " CATS
            ", 'annotations': [{'id': 1, 'image_id': 1, 'category_id': 2, 'bbox': [0, 0, 0, 0],"
            " 'keypoints': [1, 2, 2, 3, 4, 1, 5, 6, 0]}]}",
            NULL, 0, 0, 1);
    CHECK_INT(r.rc, 0);
    const json_t *t = json_array_get(r.tasks, 0);
    CHECK(!json_object_get(t, "predictions"));
    char *s = dump(json_object_get(t, "result"));
    /* nose is a label; ear is not, so the category's; the third is not labelled */
    CHECK_STR(s, "{\"annotations\":[{\"label\":\"nose\",\"type\":\"point\",\"x\":1.0,\"y\":2.0},"
                 "{\"label\":\"person\",\"type\":\"point\",\"x\":3.0,\"y\":4.0}]}");
    free(s);
    done(&r);
}

TEST(coco_images_from_the_source_carry_their_header_size)
{
    run r;
    convert(
        &r,
        "{'images': [{'id': 5, 'file_name': 'train/b.png'}], 'categories': [], 'annotations': []}",
        "data/train/b.png", 64, 32, 0);
    CHECK_INT(r.rc, 0);
    const json_t *t = json_array_get(r.tasks, 0);
    char *s = dump(json_object_get(t, "data"));
    CHECK_STR(s, "{\"height\":32,\"width\":64}");
    free(s);
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(json_object_get(t, "attachments"), 0), "file")),
              "0000000000000000000000000000000000000000000000000000000000000000");
    CHECK_STR(json_string_value(json_object_get(t, "unique_id")), "train/b.png");
    done(&r);
}

TEST(coco_bad_items_name_their_place_and_duplicate_ids_leave_the_second_out)
{
    run r;
    convert(&r,
            "{'images': [{'id': 1, 'file_name': 'a.jpg', 'width': 9, 'height': 9},"
            " {'id': 1, 'file_name': 'b.jpg', 'width': 9, 'height': 9}, {'file_name': 'c.jpg'}],"
            " 'categories': [{'id': 1, 'name': 'car'}],"
            " 'annotations': [{'id': 1, 'image_id': 3, 'category_id': 1, 'bbox': [0, 0, 1, 1]},"
            " {'id': 2, 'image_id': 1, 'category_id': 1, 'bbox': [0, 0, 1]}]}",
            NULL, 0, 0, 0);
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.c.ntasks, 0);
    CHECK_INT(r.c.nbad, 4);
    CHECK_STR(r.c.bad[0].where, "instances.json: images[2]");
    CHECK_STR(r.c.bad[0].e.field, "id");
    CHECK_STR(r.c.bad[1].where, "instances.json: annotations[0]");
    CHECK_STR(r.c.bad[2].where, "instances.json: images[0] a.jpg");
    CHECK(strstr(r.c.bad[2].e.message, "bbox must be"));
    CHECK_STR(r.c.bad[3].where, "instances.json: images[1] b.jpg");
    CHECK(strstr(r.c.bad[3].e.message, "also images[0]"));
    done(&r);
}

TEST(coco_a_document_without_images_or_not_json_is_refused_whole)
{
    run r;
    convert(&r, "{'annotations': []}", NULL, 0, 0, 0);
    CHECK_INT(r.rc, LP_EINVAL);
    CHECK_STR(r.e.field, "instances.json");
    done(&r);
    convert(&r, "{'images': [], 'categories': [{'name': 'car'}]}", NULL, 0, 0, 0);
    CHECK_INT(r.rc, LP_EINVAL);
    CHECK(strstr(r.e.message, "categories[0]"));
    done(&r);
}

/* The counts of mask i of task t's result, decoded (0 with none). */
static size_t counts_of(const json_t *t, size_t i, uint32_t *out, size_t max, const char **label)
{
    const json_t *m = json_array_get(json_object_get(json_object_get(t, "result"), "masks"), i);
    *label = json_string_value(json_object_get(m, "label"));
    lp_rle r;
    if (!m || lp_rle_decode_string(
                  json_string_value(json_object_get(json_object_get(m, "rle"), "counts")), &r))
        return 0;
    size_t n = r.n < max ? r.n : max;
    memcpy(out, r.counts, n * sizeof *out);
    lp_rle_fini(&r);
    return n;
}

#define COUNTS_ARE(t, i, label, ...)                  \
    do {                                              \
        static const uint32_t want[] = {__VA_ARGS__}; \
        uint32_t got[16];                             \
        const char *l;                                \
        size_t n = counts_of(t, i, got, 16, &l);      \
        CHECK_STR(l, label);                          \
        CHECK_INT(n, LP_ARRAY_LEN(want));             \
        CHECK(!memcmp(got, want, sizeof want));       \
    } while (0)

TEST(coco_into_segmentation_paints_polygons_and_rles_in_order_into_one_map)
{
    run r;
    /* 4 wide, 3 high.  The triangle (0, 0), (4, 0), (0, 3) holds the
     * pixels whose centres satisfy x / 4 + y / 3 < 1: (0..2, 0), (0..1, 1),
     * (0, 2), column-major positions 0, 3, 6, 1, 4, 2.  Then an RLE list
     * paints the last pixel person, and a compressed RLE ("01;": runs 0,
     * 1, 11) paints the first nose, over the car. */
    convert_into(&r, &lp_kind_segmentation,
                 "{'images': [{'id': 1, 'file_name': 'a.jpg', 'width': 4, 'height': 3}], "
                 "'categories': [{'id': 1, 'name': 'car'}, {'id': 2, 'name': 'person'}, "
                 "{'id': 3, 'name': 'nose'}], 'annotations': ["
                 "{'id': 1, 'image_id': 1, 'category_id': 1, 'segmentation': [[0, 0, 4, 0, 0, 3]]},"
                 "{'id': 2, 'image_id': 1, 'category_id': 2, 'iscrowd': 1, 'segmentation': "
                 "{'size': [3, 4], 'counts': [11, 1]}},"
                 "{'id': 3, 'image_id': 1, 'category_id': 3, 'iscrowd': 1, 'segmentation': "
                 "{'size': [3, 4], 'counts': '01;'}}]}",
                 NULL, 0, 0, 1);
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.c.nbad, 0);
    CHECK_INT(r.c.ntasks, 1);
    const json_t *t = json_array_get(r.tasks, 0);
    CHECK(kt_equal_at(t, "result.masks.0.rle.size", "[3, 4]"));
    COUNTS_ARE(t, 0, "car", 1, 4, 1, 1, 5);
    COUNTS_ARE(t, 1, "person", 11, 1);
    COUNTS_ARE(t, 2, "nose", 0, 1, 11);
    CHECK(!json_array_get(json_object_get(json_object_get(t, "result"), "masks"), 3));
    done(&r);
    /* A size written as reals is the same size (it was "not known"). */
    convert_into(
        &r, &lp_kind_segmentation,
        "{'images': [{'id': 1, 'file_name': 'a.jpg', 'width': 4.0, 'height': 3.0}], "
        "'categories': [{'id': 1, 'name': 'car'}], 'annotations': ["
        "{'id': 1, 'image_id': 1, 'category_id': 1, 'segmentation': [[0, 0, 4, 0, 0, 3]]}]}",
        NULL, 0, 0, 1);
    CHECK_INT(r.c.nbad, 0);
    CHECK_INT(r.c.ntasks, 1);
    CHECK(kt_equal_at(json_array_get(r.tasks, 0), "result.masks.0.rle.size", "[3, 4]"));
    done(&r);
}

TEST(coco_into_segmentation_leaves_out_an_image_with_an_rle_of_another_size)
{
    run r;
    convert_into(&r, &lp_kind_segmentation,
                 "{'images': [{'id': 1, 'file_name': 'a.jpg', 'width': 4, 'height': 3},"
                 " {'id': 2, 'file_name': 'b.jpg'}], 'categories': [{'id': 1, 'name': 'car'},"
                 " {'id': 9, 'name': 'zebra'}], 'annotations': ["
                 "{'id': 1, 'image_id': 1, 'category_id': 1, 'segmentation': "
                 "{'size': [4, 3], 'counts': [12]}},"
                 "{'id': 2, 'image_id': 2, 'category_id': 9, 'segmentation': "
                 "{'size': [1, 1], 'counts': [0, 1]}}]}",
                 NULL, 0, 0, 1);
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.c.ntasks, 0);
    CHECK_INT(r.c.nbad, 2);
    CHECK(strstr(r.c.bad[0].e.message, "an RLE mask of [4, 3] on an image of 3 x 4"));
    CHECK(strstr(r.c.bad[1].e.message, "the category \"zebra\" is not a label"));
    done(&r);
}

TEST(coco_into_segmentation_refuses_coordinates_far_beyond_the_image)
{
    run r;
    /* Once cast to long unchecked: written outside the map, or a scan of
     * 2^63 rows.  Now the image is a bad item naming the polygon. */
    convert_into(&r, &lp_kind_segmentation,
                 "{'images': [{'id': 1, 'file_name': 'a.jpg', 'width': 4, 'height': 3},"
                 " {'id': 2, 'file_name': 'b.jpg', 'width': 4, 'height': 3},"
                 " {'id': 3, 'file_name': 'c.jpg', 'width': 4, 'height': 3}],"
                 " 'categories': [{'id': 1, 'name': 'car'}], 'annotations': ["
                 "{'id': 1, 'image_id': 1, 'category_id': 1, 'segmentation': "
                 "[[0, 0, 4, 0, 0, 3], [-1e308, 0.5, 1e308, 5, 0, 5]]},"
                 "{'id': 2, 'image_id': 2, 'category_id': 1, 'segmentation': "
                 "[[0, 1e19, 10, 1e19, 5, 2e19]]},"
                 "{'id': 3, 'image_id': 3, 'category_id': 1, 'bbox': [1e308, 0, 1e308, 2]}]}",
                 NULL, 0, 0, 1);
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.c.ntasks, 0);
    CHECK_INT(r.c.nbad, 3);
    CHECK(
        strstr(r.c.bad[0].e.message, "annotations[0]: segmentation[1]: a coordinate lies beyond"));
    CHECK(
        strstr(r.c.bad[1].e.message, "annotations[1]: segmentation[0]: a coordinate lies beyond"));
    CHECK(strstr(r.c.bad[2].e.message, "annotations[2]: bbox: a corner lies beyond"));
    CHECK_STR(r.c.bad[0].e.field, "annotations");
    done(&r);
}

TEST(coco_an_rle_too_large_to_outline_is_a_bad_item_naming_the_annotation)
{
    run r;
    /* Into polygons: a 70-byte RLE of 16384 x 16384 set pixels once took
     * 3.5 GB to outline. */
    convert(&r,
            "{'images': [{'id': 1, 'file_name': 'a.jpg', 'width': 16384, 'height': 16384}], " CATS
            ", 'annotations': [{'id': 1, 'image_id': 1, 'category_id': 1, 'iscrowd': 1, "
            "'segmentation': {'size': [16384, 16384], 'counts': [0, 268435456]}}]}",
            NULL, 0, 0, 0);
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.c.ntasks, 0);
    CHECK_INT(r.c.nbad, 1);
    CHECK_STR(r.c.bad[0].e.field, "annotations");
    CHECK(strstr(r.c.bad[0].e.message, "annotations[0]: segmentation: the RLE mask's set pixels"));
    done(&r);
}
