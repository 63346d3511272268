/* test_rle.c -- COCO's run-length encoding: the compressed string form
 * worked out by hand from its definition (deltas, negative deltas, groups
 * of 5 bits), the round trip mask -> runs -> string -> runs -> mask, and
 * the outlines: a pixel, an L, two regions touching only at a corner, a
 * ring (its hole not outlined), a region at the mask's far edges; a
 * string pycocotools wrote, read and written back byte for byte; a mask's
 * area and bbox. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rle.h"
#include "test.h"
#include "test_kinds.h"

static char *encode(const uint32_t *c, size_t n)
{
    lp_rle r = {.counts = (uint32_t *)c, .n = n};
    return lp_rle_encode_string(&r);
}

TEST(rle_string_small_counts_are_one_character_each)
{
    uint32_t c[] = {3, 2, 1};
    char *s = encode(c, 3);
    CHECK_STR(s, "321");
    free(s);
}

TEST(rle_string_deltas_from_the_count_two_before_and_negative_ones)
{
    /* 5 - 2 = 3 -> '3'; then 1 - 5 = -4: the group 0b11100 (sign bit set)
     * is 28 -> 'L'. */
    uint32_t a[] = {3, 2, 1, 5};
    char *s = encode(a, 4);
    CHECK_STR(s, "3213");
    free(s);
    uint32_t b[] = {10, 5, 2, 1};
    s = encode(b, 4);
    CHECK_STR(s, ":52L");
    free(s);
    lp_rle r;
    CHECK_INT(lp_rle_decode_string(":52L", &r), 0);
    CHECK_INT(r.n, 4);
    CHECK_INT(r.counts[0], 10);
    CHECK_INT(r.counts[3], 1);
    lp_rle_fini(&r);
}

TEST(rle_string_large_counts_take_several_groups)
{
    /* 1000 = 0b1111101000: groups 01000 (8, more: 8|32 = 40 -> 'X') and
     * 11111 (31, more: 63 -> 'o', since its 0x10 bit would read as the
     * sign), then a last group 0 -> '0'. */
    uint32_t c[] = {1000};
    char *s = encode(c, 1);
    CHECK_STR(s, "Xo0");
    lp_rle r;
    CHECK_INT(lp_rle_decode_string(s, &r), 0);
    CHECK_INT(r.n, 1);
    CHECK_INT(r.counts[0], 1000);
    lp_rle_fini(&r);
    free(s);
}

TEST(rle_string_malformed_is_refused)
{
    lp_rle r;
    CHECK_INT(lp_rle_decode_string("X", &r), -1); /* a group promising more, then the end */
    lp_rle_fini(&r);
    CHECK_INT(lp_rle_decode_string("3L", &r), -1); /* a negative first count */
    lp_rle_fini(&r);
    CHECK_INT(lp_rle_decode_string("\x01", &r), -1);
    lp_rle_fini(&r);
    /* Found by fuzz_convert: thirteen groups shifted a value 60 bits (undefined behaviour). */
    CHECK_INT(lp_rle_decode_string("PPPPPPPPPPPP;", &r), -1);
    lp_rle_fini(&r);
    CHECK_INT(lp_rle_decode_string("PPPPPPP0", &r), -1); /* eight groups: more than a count needs */
    lp_rle_fini(&r);
}

TEST(rle_string_largest_count_round_trips)
{
    uint32_t counts[] = {0, 4294967295u, 1, 4294967295u, 0};
    lp_rle r = {.counts = counts, .n = 5};
    char *s = lp_rle_encode_string(&r);
    lp_rle back;
    CHECK_INT(lp_rle_decode_string(s, &back), 0);
    CHECK_INT((long long)back.n, 5);
    for (size_t i = 0; i < 5; i++) CHECK_INT((long long)back.counts[i], (long long)counts[i]);
    lp_rle_fini(&back);
    free(s);
}

TEST(rle_mask_round_trip)
{
    enum { W = 7, H = 5 };
    unsigned char m[W * H];
    for (int i = 0; i < W * H; i++) m[i] = (unsigned char)((i * 7 + i / 3) % 3 == 0);
    lp_rle r, back;
    lp_rle_from_mask(m, W, H, &r);
    char *s = lp_rle_encode_string(&r);
    back.width = W, back.height = H;
    CHECK_INT(lp_rle_decode_string(s, &back), 0);
    unsigned char *m2 = lp_rle_to_mask(&back);
    CHECK(memcmp(m, m2, sizeof m) == 0);
    free(m2);
    free(s);
    lp_rle_fini(&r);
    lp_rle_fini(&back);
}

TEST(rle_from_coco_checks_the_sum_and_the_shape)
{
    char why[160];
    lp_rle r;
    json_t *ok = kt_json("{'size': [2, 3], 'counts': [1, 2, 3]}");
    CHECK_INT(lp_rle_from_coco(ok, &r, why, sizeof why), 0);
    CHECK_INT(r.width, 3);
    CHECK_INT(r.height, 2);
    lp_rle_fini(&r);
    json_decref(ok);
    const char *bad[] = {"{'size': [2, 3], 'counts': [1, 2]}",
                         "{'size': [2], 'counts': [6]}",
                         "{'size': [2, 3], 'counts': [1, -1, 6]}",
                         "{'size': [2, 3]}",
                         "{'size': [0, 3], 'counts': []}",
                         "{'size': [2, 3], 'counts': 'X'}",
                         "{'size': [4294967296, 4294967296], 'counts': []}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *b = kt_json(bad[i]);
        CHECK_INT(lp_rle_from_coco(b, &r, why, sizeof why), -1);
        CHECK(why[0]);
        json_decref(b);
    }
}

/* The outlines of a mask drawn as rows of '#' and '.', as compact JSON. */
static char *outlines(const char *const *rows, uint32_t h)
{
    uint32_t w = (uint32_t)strlen(rows[0]);
    unsigned char *m = lp_calloc((size_t)w * h, 1);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) m[y * w + x] = rows[y][x] == '#';
    lp_rle r;
    lp_rle_from_mask(m, w, h, &r);
    json_t *o;
    if (lp_rle_outlines(&r, &o) < 0) o = json_array();
    /* [[x, y], ...] per polygon, to compare briefly */
    json_t *flat = json_array();
    size_t i, j;
    json_t *poly, *v;
    json_array_foreach(o, i, poly)
    {
        json_t *p = json_array();
        json_array_foreach(poly, j, v) json_array_append_new(
            p, json_pack("[O, O]", json_object_get(v, "x"), json_object_get(v, "y")));
        json_array_append_new(flat, p);
    }
    char *s = json_dumps(flat, JSON_COMPACT);
    json_decref(flat);
    json_decref(o);
    lp_rle_fini(&r);
    free(m);
    return s;
}

TEST(rle_outline_of_one_pixel_and_of_an_l)
{
    const char *one[] = {"...", ".#.", "..."};
    char *s = outlines(one, 3);
    CHECK_STR(s, "[[[1,1],[2,1],[2,2],[1,2]]]");
    free(s);
    const char *l[] = {"#..", "#..", "###"};
    s = outlines(l, 3);
    CHECK_STR(s, "[[[0,0],[1,0],[1,2],[3,2],[3,3],[0,3]]]");
    free(s);
}

TEST(rle_outline_expands_only_the_box_of_the_set_pixels_and_refuses_a_huge_one)
{
    /* A 2 x 2 square at (2000, 2500) of a 3000 x 3000 mask: outlined in
     * the mask's coordinates. */
    uint32_t c[] = {2000 * 3000 + 2500, 2, 2998, 2, 3000 * 3000 - 2000 * 3000 - 2504};
    lp_rle r = {.height = 3000, .width = 3000, .counts = c, .n = 5};
    json_t *o;
    CHECK_INT(lp_rle_outlines(&r, &o), 0);
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    CHECK_STR(s, "[[{\"x\":2000,\"y\":2500},{\"x\":2002,\"y\":2500},{\"x\":2002,\"y\":2502},"
                 "{\"x\":2000,\"y\":2502}]]");
    free(s);
    /* 70 bytes of COCO once cost 13 bytes a pixel for 2^28 pixels. */
    uint32_t all[] = {0, (uint32_t)1 << 28};
    lp_rle big = {.height = 16384, .width = 16384, .counts = all, .n = 2};
    o = json_true();
    CHECK_INT(lp_rle_outlines(&big, &o), -1);
    CHECK(o == NULL);
    /* 4096 x 4096, the most outlined, set whole: one square. */
    uint32_t most[] = {0, (uint32_t)1 << 24};
    lp_rle edge = {.height = 4096, .width = 4096, .counts = most, .n = 2};
    CHECK_INT(lp_rle_outlines(&edge, &o), 0);
    CHECK_INT(json_array_size(o), 1);
    CHECK_INT(json_array_size(json_array_get(o, 0)), 4);
    json_decref(o);
}

TEST(rle_outline_diagonal_neighbours_are_two_regions)
{
    const char *d[] = {"#.", ".#"};
    char *s = outlines(d, 2);
    CHECK_STR(s, "[[[0,0],[1,0],[1,1],[0,1]],[[1,1],[2,1],[2,2],[1,2]]]");
    free(s);
}

TEST(rle_outline_of_a_ring_is_its_outside_and_edges_reach_the_border)
{
    const char *ring[] = {"###", "#.#", "###"};
    char *s = outlines(ring, 3);
    CHECK_STR(s, "[[[0,0],[3,0],[3,3],[0,3]]]");
    free(s);
    const char *u[] = {"#.#", "#.#", "###"};
    s = outlines(u, 3);
    CHECK_STR(s, "[[[0,0],[1,0],[1,2],[2,2],[2,0],[3,0],[3,3],[0,3]]]");
    free(s);
}

/* A mask pycocotools encoded (50 x 70, a figure of a few hundred pixels),
 * as published in the README of armengot/COCOtoolsFORK (python/): its
 * counts add up to the size and encode back to the very same string. */
static const char published[] =
    "0g05b08J4M2N2NA^O1`0OCO=0E090H080IO68DH;>@C>a0_O_O`0j0OWOF<:CM72I24NL43JM92FN;1ENKO72L0LO91J0"
    "MO92INO0NO122OO0M031O000NO31OO11MO40N011MO41MO21L06OL021L06OL021L06OL021L060J040L060J040L060J0"
    "40L060J040L060J040L060J040L060KO31L060KO31L06OL021L06OL021L06OL021MO41MO21MO40N100NO310O00M031"
    "0O00NO1220NO92IONO91KOMO72M0<1EO:2GN63KM34OLM73JF<;=1G_O_Ob0=AC`07EH=1IO71H090F0:1DO>1_O1b0>2N"
    "2N3L6H]O";

TEST(rle_string_published_by_pycocotools_round_trips)
{
    char why[160];
    json_t *seg = json_pack("{s:[i, i], s:s}", "size", 50, 70, "counts", published);
    lp_rle r;
    CHECK_INT(lp_rle_from_coco(seg, &r, why, sizeof why), 0);
    json_decref(seg);
    char *s = lp_rle_encode_string(&r);
    CHECK_STR(s, published);
    free(s);
    /* Through a mask and back: the same runs. */
    unsigned char *m = lp_rle_to_mask(&r);
    lp_rle back;
    lp_rle_from_mask(m, 70, 50, &back);
    CHECK_INT(back.n, r.n);
    CHECK(memcmp(back.counts, r.counts, r.n * sizeof *r.counts) == 0);
    uint64_t set = 0;
    for (size_t i = 0; i < 70 * 50; i++) set += m[i];
    CHECK_INT(lp_rle_area(&r), set);
    free(m);
    lp_rle_fini(&back);
    lp_rle_fini(&r);
}

TEST(rle_area_and_bbox)
{
    /* 4 rows, 5 columns: column 1 rows 2..3, column 2 rows 0..1 (one run
     * across the column break), column 4 row 1. */
    uint32_t c[] = {6, 4, 7, 1, 2};
    lp_rle r = {.height = 4, .width = 5, .counts = c, .n = 5};
    uint32_t box[4];
    lp_rle_bbox(&r, box);
    CHECK_INT(lp_rle_area(&r), 5);
    CHECK_INT(box[0], 1);
    CHECK_INT(box[1], 0);
    CHECK_INT(box[2], 4);
    CHECK_INT(box[3], 4);
    uint32_t one[] = {9, 2, 9}; /* column 2 rows 1..2 */
    lp_rle s = {.height = 4, .width = 5, .counts = one, .n = 3};
    lp_rle_bbox(&s, box);
    CHECK(box[0] == 2 && box[1] == 1 && box[2] == 1 && box[3] == 2);
    uint32_t none[] = {20};
    lp_rle e = {.height = 4, .width = 5, .counts = none, .n = 1};
    lp_rle_bbox(&e, box);
    CHECK(box[0] == 0 && box[1] == 0 && box[2] == 0 && box[3] == 0);
    CHECK_INT(lp_rle_area(&e), 0);
}

TEST(rle_polygon_fill_takes_the_pixel_centres_inside)
{
    enum { W = 8, H = 6 };
    unsigned char m[W * H] = {0};
    /* A square from (1, 1) to (4, 3): the centres of columns 1..3, rows 1..2. */
    double sq[] = {1, 1, 4, 1, 4, 3, 1, 3};
    lp_rle_fill_polygon(m, W, H, sq, 4, 2);
    int n = 0;
    for (int i = 0; i < W * H; i++) n += m[i] == 2;
    CHECK_INT(n, 6);
    CHECK(m[1 * W + 1] == 2 && m[2 * W + 3] == 2 && m[3 * W + 1] == 0 && m[1 * W + 4] == 0);
    /* A triangle past the edges is clipped, not written outside (the
     * sanitizer build would see it): it covers the mask but the pixel
     * (7, 5), whose centre is past x + y = 12.5. */
    double tri[] = {-5, -5, 12.5, 0, 0, 12.5};
    unsigned char big[W * H + 16] = {0};
    lp_rle_fill_polygon(big, W, H, tri, 3, 1);
    n = 0;
    for (int i = 0; i < W * H; i++) n += big[i];
    CHECK_INT(n, W * H - 1);
    CHECK(big[W * H - 1] == 0 && big[W * H] == 0);
}

TEST(rle_polygon_fill_refuses_far_coordinates_and_scans_only_the_mask_rows)
{
    enum { W = 8, H = 6 };
    unsigned char m[W * H + 16] = {0};
    /* Beyond +-2^31 or not finite: refused, the mask untouched (the first
     * once wrote outside the mask, the second scanned 2^63 rows). */
    double huge[] = {-1e308, 0.5, 1e308, 5, 0, 5};
    CHECK_INT(lp_rle_fill_polygon(m, W, H, huge, 3, 1), -1);
    double far[] = {0, 1e19, 10, 1e19, 5, 2e19};
    CHECK_INT(lp_rle_fill_polygon(m, W, H, far, 3, 1), -1);
    double nan[] = {0, 0, 4, 0, 0, NAN};
    CHECK_INT(lp_rle_fill_polygon(m, W, H, nan, 3, 1), -1);
    for (int i = 0; i < W * H + 16; i++) CHECK_INT(m[i], 0);
    /* Within the range, far outside the mask: clipped to its rows and
     * columns.  Rows all below the mask paint nothing. */
    double below[] = {0, 2e9, 8, 2e9, 4, 2.1e9};
    CHECK_INT(lp_rle_fill_polygon(m, W, H, below, 3, 1), 0);
    for (int i = 0; i < W * H + 16; i++) CHECK_INT(m[i], 0);
    double cover[] = {-2e9, -2e9, 2e9, -2e9, 2e9, 2e9, -2e9, 2e9};
    CHECK_INT(lp_rle_fill_polygon(m, W, H, cover, 4, 3), 0);
    for (int i = 0; i < W * H; i++) CHECK_INT(m[i], 3);
    for (int i = W * H; i < W * H + 16; i++) CHECK_INT(m[i], 0);
}

TEST(rle_from_labels_gives_each_label_its_runs)
{
    /* 2 rows, 3 columns: row-major "1 1 2 / 0 2 2". */
    unsigned char map[] = {1, 1, 2, 0, 2, 2};
    lp_rle out[3];
    lp_rle_from_labels(map, 3, 2, 3, out);
    /* Column-major: 1 0 | 1 2 | 2 2: label 1 at 0 and 2, label 2 from 3. */
    CHECK_INT(out[0].n, 5);
    CHECK(out[0].counts[0] == 0 && out[0].counts[1] == 1 && out[0].counts[2] == 1 &&
          out[0].counts[3] == 1 && out[0].counts[4] == 3);
    CHECK_INT(out[1].n, 2);
    CHECK(out[1].counts[0] == 3 && out[1].counts[1] == 3);
    CHECK_INT(out[2].n, 0);
    for (int i = 0; i < 3; i++) lp_rle_fini(&out[i]);
}
