/* api_points.c -- a stored point cloud, parsed, for the lidar editor.
 *
 * GET /v1/files/{sha256}/points?max=N parses the file (pointcloud.c) and
 * answers its points as little-endian float32 x, y, z, intensity, 16 bytes
 * a point, so that the browser hands the body to WebGL as it is.  What the
 * parse found goes in headers: X-Points-Count (points in the body),
 * X-Points-Total (points in the file), X-Points-Dropped (non-finite
 * points left out), X-Points-Format, X-Points-Intensity (1 when the file
 * has one) and X-Points-Bounds (min x, y, z, intensity then max, comma
 * separated).  More than max points (default
 * LP_LIMIT_POINTCLOUD_DEFAULT_MAX, at most LP_LIMIT_POINTCLOUD_MAX_POINTS)
 * are decimated evenly.  The same readers as GET /v1/files/{sha256}; a
 * file that is not a valid point cloud is 422 naming the problem.  The
 * file is mapped, not read, so memory holds the output array only. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "files.h"
#include "limit.h"
#include "pointcloud.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the points body is the host's floats as they are: little-endian hosts only"
#endif

int lp_api_file_points(lp_req *req)
{
    const char *sha = req->params[0], *arg = lp_req_arg(req, "max");
    long long max = LP_LIMIT_POINTCLOUD_DEFAULT_MAX;
    if (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64)
        return lp_reply_error(req, 404, "not_found", NULL, "no file %s", sha);
    if (arg) {
        char *end;
        errno = 0;
        max = strtoll(arg, &end, 10);
        if (errno || *end || end == arg || max < 1 || max > LP_LIMIT_POINTCLOUD_MAX_POINTS)
            return lp_reply_error(req, 400, "invalid", "max", "max must be 1 to %d points",
                                  LP_LIMIT_POINTCLOUD_MAX_POINTS);
    }
    int rc = lp_file_readable(req->db, sha, req->who.user_id, req->who.is_admin, req->who.project);
    if (rc == LP_ENOTFOUND) return lp_reply_error(req, 404, "not_found", NULL, "no file %s", sha);
    if (rc < 0) return lp_reply_rc(req, rc, "file");
    char path[600];
    snprintf(path, sizeof path, "%s/%.2s/%.2s/%s", req->srv->files_dir, sha, sha + 2, sha);
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0) close(fd);
        return lp_reply_error(req, 404, "not_found", NULL, "file %s is missing from storage", sha);
    }
    const char *data = "";
    size_t len = (size_t)st.st_size;
    void *map = NULL;
    if (len) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            close(fd);
            return lp_reply_rc(req, LP_EIO, "file");
        }
        data = map;
    }
    close(fd);
    lp_points p;
    char err[256];
    rc = lp_pointcloud_parse(data, len, (size_t)max, &p, err, sizeof err);
    if (map) munmap(map, len);
    if (rc)
        return lp_reply_error(req, 422, rc == LP_ETOOBIG ? "too_large" : "invalid_pointcloud",
                              "file", "%s", err);
    char v[40], bounds[200];
    lp_buf b = {(char *)p.xyzi, p.n * 4 * sizeof(float), p.n * 4 * sizeof(float)};
    p.xyzi = NULL;
    lp_reply_buf(req, 200, "application/octet-stream", &b);
    snprintf(v, sizeof v, "%zu", p.n);
    lp_reply_header(req, "X-Points-Count", v);
    snprintf(v, sizeof v, "%zu", p.total);
    lp_reply_header(req, "X-Points-Total", v);
    snprintf(v, sizeof v, "%zu", p.dropped);
    lp_reply_header(req, "X-Points-Dropped", v);
    lp_reply_header(req, "X-Points-Format", p.format);
    lp_reply_header(req, "X-Points-Intensity", p.has_intensity ? "1" : "0");
    snprintf(bounds, sizeof bounds, "%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g", p.lo[0], p.lo[1],
             p.lo[2], p.lo[3], p.hi[0], p.hi[1], p.hi[2], p.hi[3]);
    lp_reply_header(req, "X-Points-Bounds", bounds);
    lp_reply_header(req, "Cache-Control", "private, max-age=31536000, immutable");
    return 0;
}
