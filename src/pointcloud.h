/* pointcloud.h -- lidar point clouds from PCD, PLY and Scale-style JSON.
 *
 * Pure: the bytes of a file in, a compact array of points out, no I/O.
 * The format is told from the first bytes: "ply" is PLY (ascii,
 * binary_little_endian, binary_big_endian; the vertex element's x, y, z and
 * an optional intensity, i, scalar_intensity or reflectance; other
 * elements skipped), "# .PCD", "VERSION" or "FIELDS" is PCD v0.7 (DATA
 * ascii, binary or binary_compressed (PCL's LZF of the column-major
 * records, through liblzf), any field order, extra fields, COUNT > 1,
 * types F4 F8 U1..U8 I1..I8), '{' or '[' is
 * Scale-style JSON ({"points": [{"x", "y", "z", "i"}...]}, the points as
 * [x, y, z, i?] arrays, or a bare array of either).
 *
 * Every declared count is checked against the data (a truncated or padded
 * file is an error, never a short read), points with a NaN or infinite
 * coordinate are dropped and counted, and a file may declare at most
 * LP_LIMIT_POINTCLOUD_POINTS.  Decimation: when a file holds more than
 * max points, point j (in file order, of the total declared) is kept when
 * floor((j + 1) * max / total) > floor(j * max / total): exactly max of
 * them, evenly spread through the file, the same ones every time. */
#ifndef LP_POINTCLOUD_H
#define LP_POINTCLOUD_H

#include <stddef.h>

typedef struct lp_points {
    float *xyzi;        /* 4 * n floats: x, y, z, intensity (0 when the file has none) */
    size_t n;           /* points kept */
    size_t total;       /* points the file declares */
    size_t dropped;     /* of those, left out for a non-finite coordinate */
    int has_intensity;  /* 1 when the file gives an intensity */
    const char *format; /* "pcd-ascii", "pcd-binary", "pcd-binary-compressed", "ply-ascii", ... */
    float lo[4], hi[4]; /* bounds of x, y, z, intensity over the kept points (0 when none) */
} lp_points;

/* Parses the len bytes at data (not NUL-terminated) into *out, keeping at
 * most max points (0: all).  0 on success, with out->xyzi the caller's to
 * free through lp_points_fini(); else LP_EINVAL (malformed) or LP_ETOOBIG
 * (over a limit) with a sentence naming the problem in err, and *out
 * empty. */
int lp_pointcloud_parse(const char *data, size_t len, size_t max, lp_points *out, char *err,
                        size_t errlen);
void lp_points_fini(lp_points *p);

#endif
