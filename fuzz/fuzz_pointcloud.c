/* fuzz_pointcloud.c -- libFuzzer driver for the point-cloud parsers
 * (pointcloud.c: PCD ascii, binary and binary_compressed (LZF), PLY ascii and both binary orders,
 * Scale-style JSON).  The first byte picks the decimation (0: keep all,
 * else at most that many points); the rest is the file.  A parse either
 * fails with a message and no points, or keeps at most max points of the
 * total, every one finite, inside the bounds it reports. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pointcloud.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t max = data[0];
    /* A copy of exactly the file's size, so that ASan sees any read past
     * its end (the parsers must not expect a NUL). */
    char *buf = malloc(size - 1 ? size - 1 : 1);
    memcpy(buf, data + 1, size - 1);
    lp_points p;
    char err[256];
    int rc = lp_pointcloud_parse(buf, size - 1, max, &p, err, sizeof err);
    if (rc) {
        if (p.xyzi || p.n || !err[0]) abort();
    } else {
        if (max && p.n > max) abort();
        if (p.n + p.dropped > p.total) abort();
        for (size_t i = 0; i < p.n; i++)
            for (int k = 0; k < 4; k++) {
                float v = p.xyzi[4 * i + k];
                if (!isfinite(v) || v < p.lo[k] || v > p.hi[k]) abort();
            }
    }
    lp_points_fini(&p);
    free(buf);
    return 0;
}
