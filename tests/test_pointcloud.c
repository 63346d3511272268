/* test_pointcloud.c -- the point-cloud parsers on good and malformed files
 * of every format, decimation and the dropping of non-finite points. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <lzf.h>

#include "pointcloud.h"
#include "test.h"
#include "util.h"

/* Parses the string s (its bytes up to n, or strlen when n is 0). */
static int parse(const char *s, size_t n, size_t max, lp_points *p, char *err)
{
    return lp_pointcloud_parse(s, n ? n : strlen(s), max, p, err, 256);
}

#define PCD_HEAD(fields, size, type, count, w, data)                                         \
    "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS " fields "\nSIZE " size \
    "\nTYPE " type "\nCOUNT " count "\nWIDTH " w "\nHEIGHT 1\n"                              \
    "VIEWPOINT 0 0 0 1 0 0 0\nPOINTS " w "\nDATA " data "\n"

#define BAD(s, want)                                                                 \
    do {                                                                             \
        lp_points p_;                                                                \
        char e_[256];                                                                \
        int rc_ = parse(s, 0, 0, &p_, e_);                                           \
        CHECK(rc_ != 0);                                                             \
        CHECK(p_.xyzi == NULL);                                                      \
        if (!strstr(e_, want)) {                                                     \
            lp_test_fail(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"", e_, want); \
            return;                                                                  \
        }                                                                            \
    } while (0)

TEST(pointcloud_pcd_ascii_reads_any_field_order_and_extra_fields)
{
    const char *s = PCD_HEAD("rgb z intensity x y", "4 4 4 4 4", "U F F F F", "1 1 1 1 1", "3",
                             "ascii") "7 3.5 10 1 2\n7 -1 20 4 5\n7 nan 0 0 0\n";
    lp_points p;
    char err[256];
    CHECK_INT(parse(s, 0, 0, &p, err), 0);
    CHECK_STR(p.format, "pcd-ascii");
    CHECK_INT(p.total, 3);
    CHECK_INT(p.dropped, 1);
    CHECK_INT(p.n, 2);
    CHECK(p.has_intensity);
    CHECK_NEAR(p.xyzi[0], 1, 0);
    CHECK_NEAR(p.xyzi[1], 2, 0);
    CHECK_NEAR(p.xyzi[2], 3.5, 0);
    CHECK_NEAR(p.xyzi[3], 10, 0);
    CHECK_NEAR(p.xyzi[6], -1, 0);
    CHECK_NEAR(p.lo[2], -1, 0);
    CHECK_NEAR(p.hi[2], 3.5, 0);
    CHECK_NEAR(p.hi[3], 20, 0);
    lp_points_fini(&p);

    /* No intensity, no COUNT, fields named i for intensity elsewhere. */
    s = "VERSION .7\nFIELDS x y z\nSIZE 8 8 8\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nDATA ascii\n1e2 2 3";
    CHECK_INT(parse(s, 0, 0, &p, err), 0);
    CHECK(!p.has_intensity);
    CHECK_INT(p.n, 1);
    CHECK_NEAR(p.xyzi[0], 100, 0);
    CHECK_NEAR(p.xyzi[3], 0, 0);
    lp_points_fini(&p);
}

/* Appends the n bytes at v to buf at *at. */
static void put(char *buf, size_t *at, const void *v, size_t n)
{
    memcpy(buf + *at, v, n);
    *at += n;
}

TEST(pointcloud_pcd_binary_reads_mixed_types_and_counts)
{
    /* x F4, pad U1 x3 (COUNT 3), y F8, z F4, intensity U2. */
    const char *head =
        PCD_HEAD("x _ y z intensity", "4 1 8 4 2", "F U F F U", "1 3 1 1 1", "2", "binary");
    char buf[512];
    size_t at = 0;
    put(buf, &at, head, strlen(head));
    for (int k = 0; k < 2; k++) {
        float x = 1.5f + k, z = -2.0f;
        double y = 1e3 * (k + 1);
        uint16_t in = (uint16_t)(100 + k);
        unsigned char pad[3] = {9, 9, 9};
        put(buf, &at, &x, 4);
        put(buf, &at, pad, 3);
        put(buf, &at, &y, 8);
        put(buf, &at, &z, 4);
        put(buf, &at, &in, 2);
    }
    lp_points p;
    char err[256];
    CHECK_INT(parse(buf, at, 0, &p, err), 0);
    CHECK_STR(p.format, "pcd-binary");
    CHECK_INT(p.n, 2);
    CHECK_NEAR(p.xyzi[4], 2.5, 0);
    CHECK_NEAR(p.xyzi[5], 2000, 0);
    CHECK_NEAR(p.xyzi[6], -2, 0);
    CHECK_NEAR(p.xyzi[7], 101, 0);
    lp_points_fini(&p);
    /* One byte short. */
    CHECK_INT(parse(buf, at - 1, 0, &p, err), LP_EINVAL);
    CHECK(strstr(err, "truncated") != NULL);
    /* One byte over: binary data is read to its declared end; trailing
     * bytes are tolerated as PCL writes padding. */
}

/* Writes a binary_compressed PCD of n points (fields x F4, pad U1 COUNT 3,
 * y F8, z F4, intensity U2, as in the binary test) into buf as PCL does:
 * header, compressed and uncompressed sizes, then the LZF of the columns.
 * Returns its length; *data_at is where the sizes start. */
static size_t compressed_pcd(char *buf, size_t cap, size_t n, size_t *data_at)
{
    char head[512];
    snprintf(head, sizeof head,
             "# .PCD v0.7\nVERSION 0.7\nFIELDS x _ y z intensity\nSIZE 4 1 8 4 2\n"
             "TYPE F U F F U\nCOUNT 1 3 1 1 1\nWIDTH %zu\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\n"
             "POINTS %zu\nDATA binary_compressed\n",
             n, n);
    size_t usize = n * 21, at = 0;
    unsigned char *cols = malloc(usize ? usize : 1), *c = cols;
    for (size_t k = 0; k < n; k++, c += 4) {
        float x = 1.5f + (float)k;
        memcpy(c, &x, 4);
    }
    memset(c, 9, 3 * n), c += 3 * n;
    for (size_t k = 0; k < n; k++, c += 8) {
        double y = 1e3 * (double)(k + 1);
        memcpy(c, &y, 8);
    }
    for (size_t k = 0; k < n; k++, c += 4) {
        float z = -2.0f;
        memcpy(c, &z, 4);
    }
    for (size_t k = 0; k < n; k++, c += 2) {
        uint16_t in = (uint16_t)(100 + k);
        memcpy(c, &in, 2);
    }
    put(buf, &at, head, strlen(head));
    *data_at = at;
    unsigned int csize =
        lzf_compress(cols, (unsigned)usize, buf + at + 8, (unsigned)(cap - at - 8));
    uint32_t sizes[2] = {csize, (uint32_t)usize};
    memcpy(buf + at, sizes, 8);
    free(cols);
    return at + 8 + csize;
}

TEST(pointcloud_pcd_binary_compressed_reads_columns_through_lzf)
{
    static char buf[1 << 16];
    size_t at, len = compressed_pcd(buf, sizeof buf, 500, &at);
    lp_points p;
    char err[256];
    CHECK_INT(parse(buf, len, 0, &p, err), 0);
    CHECK_STR(p.format, "pcd-binary-compressed");
    CHECK_INT(p.n, 500);
    CHECK(p.has_intensity);
    CHECK_NEAR(p.xyzi[4], 2.5, 0);
    CHECK_NEAR(p.xyzi[5], 2000, 0);
    CHECK_NEAR(p.xyzi[6], -2, 0);
    CHECK_NEAR(p.xyzi[7], 101, 0);
    CHECK_NEAR(p.xyzi[4 * 499 + 0], 500.5, 0);
    CHECK_NEAR(p.xyzi[4 * 499 + 1], 500000, 0);
    CHECK_NEAR(p.xyzi[4 * 499 + 3], 599, 0);
    CHECK_NEAR(p.hi[0], 500.5, 0);
    lp_points_fini(&p);
    /* Decimated like the other formats: every fifth point of 500. */
    CHECK_INT(parse(buf, len, 100, &p, err), 0);
    CHECK_INT(p.n, 100);
    CHECK_NEAR(p.xyzi[0], 5.5, 0);
    lp_points_fini(&p);

    /* Truncated: no sizes, then a stream shorter than its declared size. */
    CHECK_INT(parse(buf, at + 5, 0, &p, err), LP_EINVAL);
    CHECK(strstr(err, "no compressed and uncompressed sizes") != NULL);
    CHECK(p.xyzi == NULL);
    CHECK_INT(parse(buf, len - 1, 0, &p, err), LP_EINVAL);
    CHECK(strstr(err, "truncated") != NULL);

    /* An uncompressed size that is not points x point size (21 bytes). */
    uint32_t sizes[2];
    memcpy(sizes, buf + at, 8);
    uint32_t good = sizes[1];
    sizes[1] = good + 21;
    memcpy(buf + at, sizes, 8);
    CHECK_INT(parse(buf, len, 0, &p, err), LP_EINVAL);
    CHECK(strstr(err, "uncompressed size 10521 is not 500 points x 21 bytes") != NULL);
    /* One the compressed bytes could not hold, refused before allocating. */
    char head[] = "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 100000000\nHEIGHT 1\n"
                  "DATA binary_compressed\n\x10\0\0\0\0\x8c\x86\x47"
                  "0123456789abcdef";
    CHECK_INT(parse(head, sizeof head - 1, 0, &p, err), LP_EINVAL);
    CHECK(strstr(err, "cannot hold") != NULL);
    sizes[1] = good;
    memcpy(buf + at, sizes, 8);

    /* A corrupt stream: a back-reference before the start of the output. */
    char saved = buf[at + 8];
    buf[at + 8] = (char)0xff;
    CHECK_INT(parse(buf, len, 0, &p, err), LP_EINVAL);
    CHECK(strstr(err, "LZF data is corrupt") != NULL);
    CHECK(p.xyzi == NULL);
    buf[at + 8] = saved;
    /* A stream that stops short of the declared size. */
    sizes[0] -= 1;
    memcpy(buf + at, sizes, 8);
    CHECK_INT(parse(buf, len, 0, &p, err), LP_EINVAL);
    CHECK(strstr(err, "LZF data is corrupt") != NULL);
}

TEST(pointcloud_pcd_malformed_files_say_what_is_wrong)
{
    BAD("FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 1\nHEIGHT 1\n", "no DATA line");
    BAD("FIELDS x y\nSIZE 4 4\nTYPE F F\nWIDTH 1\nHEIGHT 1\nDATA ascii\n1 2", "FIELDS has no z");
    BAD("FIELDS x y z\nSIZE 4 4\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nDATA ascii\n1 2 3",
        "3 FIELDS but 2 SIZE");
    BAD("FIELDS x y z\nSIZE 4 4 4\nTYPE F F Q\nWIDTH 1\nHEIGHT 1\nDATA ascii\n1 2 3",
        "not F, U or I");
    BAD("FIELDS x y z\nSIZE 4 4 3\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nDATA ascii\n1 2 3",
        "has TYPE F SIZE 3");
    BAD("FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 2\nHEIGHT 1\nPOINTS 3\nDATA ascii\n1 2 3",
        "POINTS 3 is not WIDTH x HEIGHT");
    BAD("FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 3\nHEIGHT 1\nDATA ascii\n1.0 2.0 3.0\n4.0 5.0 "
        "6.0\n7.0 8.0",
        "ends in point 3 of the 3");
    BAD("FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nDATA ascii\n1 2 3 4",
        "more values");
    BAD("FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nDATA ascii\n1 two 3",
        "point 1's y is \"two\"");
    BAD("FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nDATA lzma\n",
        "is not ascii, binary or binary_compressed");
    BAD("FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 100000\nHEIGHT 100000\nDATA binary\n",
        "over 100000000 points");
    BAD("FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 1000\nHEIGHT 1\nDATA ascii\n1 2 3",
        "truncated");
    BAD("FIELDS x y z\nWIBBLE 3\n", "unknown line \"WIBBLE\"");
    BAD("hello", "not a point cloud");
    BAD("", "not a point cloud");
}

TEST(pointcloud_ply_ascii_skips_other_elements_and_lists)
{
    const char *s = "ply\nformat ascii 1.0\ncomment made by hand\nelement camera 1\n"
                    "property float f\nelement vertex 3\nproperty double x\nproperty float y\n"
                    "property list uchar int idx\nproperty float z\nproperty uchar "
                    "scalar_intensity\nelement face 1\nproperty list uchar int vertex_indices\n"
                    "end_header\n42\n1 2 2 7 8 3 200\n4 5 0 6 201\n7 8 1 9 inf 202\n3 0 1 2\n";
    lp_points p;
    char err[256];
    CHECK_INT(parse(s, 0, 0, &p, err), 0);
    CHECK_STR(p.format, "ply-ascii");
    CHECK_INT(p.total, 3);
    CHECK_INT(p.dropped, 1);
    CHECK_INT(p.n, 2);
    CHECK(p.has_intensity);
    CHECK_NEAR(p.xyzi[2], 3, 0);
    CHECK_NEAR(p.xyzi[3], 200, 0);
    CHECK_NEAR(p.xyzi[4], 4, 0);
    CHECK_NEAR(p.xyzi[6], 6, 0);
    lp_points_fini(&p);
}

/* A binary PLY of 2 vertices (x, y, z float, intensity ushort) in the given
 * byte order; returns its size. */
static size_t make_ply(char *buf, int big)
{
    const char *head =
        big ? "ply\nformat binary_big_endian 1.0\n" : "ply\nformat binary_little_endian 1.0\n";
    size_t at = 0;
    put(buf, &at, head, strlen(head));
    const char *rest = "element vertex 2\nproperty float x\nproperty float y\nproperty float z\n"
                       "property ushort intensity\nproperty list uchar int n\nend_header\n";
    put(buf, &at, rest, strlen(rest));
    for (int k = 0; k < 2; k++) {
        float v[3] = {1.0f + k, -2.0f, 0.25f};
        uint16_t in = (uint16_t)(300 + k);
        unsigned char b[4];
        for (int m = 0; m < 3; m++) {
            uint32_t w;
            memcpy(&w, &v[m], 4);
            for (int q = 0; q < 4; q++) b[big ? 3 - q : q] = (unsigned char)(w >> (8 * q));
            put(buf, &at, b, 4);
        }
        b[big ? 1 : 0] = (unsigned char)(in & 0xff);
        b[big ? 0 : 1] = (unsigned char)(in >> 8);
        put(buf, &at, b, 2);
        unsigned char one = 1;
        int32_t idx = 5;
        put(buf, &at, &one, 1);
        put(buf, &at, &idx, 4);
    }
    return at;
}

TEST(pointcloud_ply_binary_reads_both_byte_orders)
{
    char buf[512];
    lp_points p;
    char err[256];
    for (int big = 0; big < 2; big++) {
        size_t n = make_ply(buf, big);
        CHECK_INT(parse(buf, n, 0, &p, err), 0);
        CHECK_STR(p.format, big ? "ply-binary-be" : "ply-binary-le");
        CHECK_INT(p.n, 2);
        CHECK_NEAR(p.xyzi[4], 2, 0);
        CHECK_NEAR(p.xyzi[5], -2, 0);
        CHECK_NEAR(p.xyzi[6], 0.25, 0);
        CHECK_NEAR(p.xyzi[7], 301, 0);
        lp_points_fini(&p);
        CHECK_INT(parse(buf, n - 1, 0, &p, err), LP_EINVAL);
        CHECK(strstr(err, "vertex 2 of the 2") != NULL);
        buf[n] = 0;
        CHECK_INT(parse(buf, n + 1, 0, &p, err), LP_EINVAL);
        CHECK(strstr(err, "more bytes") != NULL);
    }
}

TEST(pointcloud_ply_malformed_headers_say_what_is_wrong)
{
    BAD("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n", "no end_header");
    BAD("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
        "end_header\n1 2\n",
        "vertex element has no z");
    BAD("ply\nformat ebcdic 1.0\nend_header\n", "format \"ebcdic\" is not known");
    BAD("ply\nformat ascii 1.0\nelement vertex 1\nproperty quad x\nend_header\n",
        "property type \"quad\"");
    BAD("ply\nformat ascii 1.0\nelement face 1\nproperty float x\nend_header\n1\n",
        "no vertex element");
    BAD("ply\nformat ascii 1.0\nproperty float x\nend_header\n", "before any element");
    BAD("ply\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\n"
        "end_header\n1 2 3\n",
        "no format line");
    BAD("ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\n"
        "property float z\nend_header\n1 2 3\n4 5 six\n",
        "vertex 2 of the 2");
    BAD("ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\n"
        "property float z\nend_header\n1 2 3\n4 5\n",
        "the 2 vertices of element 1 cannot fit in the 10 bytes");
    BAD("ply\nformat binary_little_endian 1.0\nelement vertex 99999999\nproperty float x\n"
        "property float y\nproperty float z\nend_header\n",
        "truncated");
    /* Elements of no property with huge counts were walked through reading
     * nothing (1.6e9 empty steps a request); every element's count is
     * held against the data, and one vertex element is all there is. */
    BAD("ply\nformat binary_little_endian 1.0\nelement vertex 1\nproperty uchar x\n"
        "property uchar y\nproperty uchar z\nelement empty 100000000\nend_header\n\1\2\3",
        "element 2 declares 100000000 items but no property");
    BAD("ply\nformat binary_little_endian 1.0\nelement vertex 1\nproperty uchar x\n"
        "property uchar y\nproperty uchar z\nelement face 100000000\nproperty uchar a\n"
        "end_header\n\1\2\3",
        "the 100000000 items of element 2 cannot fit in the 3 bytes");
    BAD("ply\nformat ascii 1.0\nelement face 4\nproperty uchar a\nelement vertex 1\n"
        "property float x\nproperty float y\nproperty float z\nend_header\n1\n2\n3\n4\n",
        "the 1 vertices of element 2 cannot fit");
    BAD("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
        "property float z\nelement vertex 1\nproperty float x\nend_header\n1 2 3\n4\n",
        "element 2 is a second vertex element");
}

TEST(pointcloud_scale_json_reads_objects_and_arrays)
{
    lp_points p;
    char err[256];
    CHECK_INT(parse("{\"points\": [{\"x\": 1, \"y\": 2, \"z\": 3, \"i\": 0.5}, "
                    "{\"x\": 4, \"y\": 5.5, \"z\": -6, \"i\": 1}], \"device_position\": {}}",
                    0, 0, &p, err),
              0);
    CHECK_STR(p.format, "json");
    CHECK_INT(p.n, 2);
    CHECK(p.has_intensity);
    CHECK_NEAR(p.xyzi[5], 5.5, 0);
    CHECK_NEAR(p.lo[2], -6, 0);
    lp_points_fini(&p);
    CHECK_INT(parse("[[1, 2, 3], [4, 5, 6]]", 0, 0, &p, err), 0);
    CHECK_INT(p.n, 2);
    CHECK(!p.has_intensity);
    lp_points_fini(&p);
    CHECK_INT(parse("{\"points\": [[1, 2, 3, 9]]}", 0, 0, &p, err), 0);
    CHECK_NEAR(p.xyzi[3], 9, 0);
    lp_points_fini(&p);

    BAD("{\"points\": [{\"x\": 1, \"y\": 2}]}", "points[0].z is missing");
    BAD("{\"points\": [{\"x\": 1, \"y\": \"2\", \"z\": 3}]}", "points[0].y is not a number");
    BAD("{\"points\": [[1, 2]]}", "points[0] has 2 values");
    BAD("{\"points\": [7]}", "points[0] is not a point");
    BAD("{\"pts\": []}", "no \"points\" array");
    BAD("{\"points\": [", "JSON point cloud:");
}

TEST(pointcloud_decimation_keeps_an_even_deterministic_subset)
{
    /* 10 points x = 0..9 decimated to 4 keep x = 2, 4, 7, 9: floor((j+1)*4/10)
     * steps at j = 2, 4, 7, 9. */
    char s[512] = "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 10\nHEIGHT 1\nDATA ascii\n";
    for (int j = 0; j < 10; j++) snprintf(s + strlen(s), sizeof s - strlen(s), "%d 0 0\n", j);
    lp_points p;
    char err[256];
    CHECK_INT(parse(s, 0, 4, &p, err), 0);
    CHECK_INT(p.n, 4);
    CHECK_INT(p.total, 10);
    CHECK_NEAR(p.xyzi[0], 2, 0);
    CHECK_NEAR(p.xyzi[4], 4, 0);
    CHECK_NEAR(p.xyzi[8], 7, 0);
    CHECK_NEAR(p.xyzi[12], 9, 0);
    lp_points_fini(&p);
    /* A max at or over the count keeps all. */
    CHECK_INT(parse(s, 0, 10, &p, err), 0);
    CHECK_INT(p.n, 10);
    lp_points_fini(&p);
}

/* The fast path for plain decimals gives exactly what strtod gives. */
TEST(pointcloud_ascii_numbers_read_exactly_as_strtod)
{
    static const char *const nums[] = {"0",
                                       "-0",
                                       "1.5",
                                       "-12.345",
                                       "0.1",
                                       "3.14159265358979",
                                       "123456789012345",
                                       "1.000000000000000001",
                                       ".5",
                                       "5.",
                                       "-.25",
                                       "1e3",
                                       "2.5E-3",
                                       "0.30000000000000004"};
    char s[512];
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
        snprintf(s, sizeof s,
                 "FIELDS x y z\nSIZE 8 8 8\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nDATA ascii\n%s 0 0\n",
                 nums[k]);
        lp_points p;
        char err[256];
        CHECK_INT(parse(s, 0, 0, &p, err), 0);
        float want = (float)strtod(nums[k], NULL);
        CHECK(p.xyzi[0] == want);
        lp_points_fini(&p);
    }
    BAD("FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nDATA ascii\n. 0 0",
        "not a number");
    BAD("FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nDATA ascii\n- 0 0",
        "not a number");
    BAD("FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nDATA ascii\n1.2.3 0 0",
        "not a number");
}
