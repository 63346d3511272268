/* test_export_lidar.c -- the KITTI export as an encoder: lidarannotation
 * tasks in, a zip out, read back with libarchive; each label line's angles
 * checked against KITTI's range, with and without a camera. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "test_kinds.h"

/* Runs the kitti export over tasks; *files receives the zip's files as
 * {path: text}.  0 on success. */
static int run(const char *const *tasks, size_t n, json_t **files)
{
    return kt_export_zip(&lp_kind_lidarannotation, "{'labels': ['car']}", "kitti", tasks, n, files);
}

#define CUBOID(yaw)                                                                   \
    "{'track': 1, 'frame': 0, 'label': 'car', 'x': 10, 'y': 2, 'z': 0, 'length': 4, " \
    "'width': 2, 'height': 1.5, 'yaw': " yaw "}"
/* A camera looking along the lidar's x axis: camera z = lidar x, camera
 * x = -lidar y, camera y = -lidar z. */
#define CAMERA                                                                            \
    "'calibration': [{'K': [[500, 0, 320], [0, 500, 240], [0, 0, 1]], 'extrinsic': [[0, " \
    "-1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0], [0, 0, 0, 1]]}]"

/* The alpha (field 3) and rotation_y (field 14) of a KITTI label line. */
static int angles(const json_t *files, const char *path, double *alpha, double *ry)
{
    const char *s = json_string_value(json_object_get(files, path));
    if (!s) return -1;
    char type[64];
    double v[14];
    if (sscanf(s, "%63s %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf", type, &v[0],
               &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11],
               &v[12], &v[13]) != 15)
        return -1;
    *alpha = v[2], *ry = v[13];
    return 0;
}

TEST(export_kitti_angles_are_wrapped_into_kittis_range)
{
    /* Without a camera rotation_y is the yaw: 100 is 100 - 32 pi. */
    const char *tasks[] = {
        "{'id': 1, 'attachments': [{'type': 'pointcloud', 'file': 'a'}], 'data': {}, "
        "'result': {'response': {'cuboids': [" CUBOID("100") "]}}}",
        "{'id': 2, 'attachments': [{'type': 'pointcloud', 'file': 'a'}], 'data': {" CAMERA "}, "
        "'result': {'response': {'cuboids': [" CUBOID("1.6124") "]}}}",
    };
    json_t *files;
    CHECK_INT(run(tasks, 2, &files), 0);
    double alpha, ry;
    int rc = angles(files, "label_2/000001_000000.txt", &alpha, &ry);
    CHECK_INT(rc, 0);
    CHECK_NEAR(alpha, 0, 1e-9);
    CHECK_NEAR(ry, 100 - 32 * M_PI, 0.006);
    /* With the camera the heading (cos yaw, sin yaw, 0) turns into camera
     * (-sin yaw, 0, cos yaw): rotation_y = -atan2(cos yaw, -sin yaw), 3.1
     * for this yaw; the centre is at camera x = -2, z = 10, so alpha =
     * 3.1 + atan2(2, 10) = 3.297, past pi: -2.986 once wrapped. */
    rc = angles(files, "label_2/000002_000000.txt", &alpha, &ry);
    json_decref(files);
    CHECK_INT(rc, 0);
    CHECK_NEAR(ry, -atan2(cos(1.6124), -sin(1.6124)), 0.006);
    CHECK_NEAR(alpha, ry + atan2(2, 10) - 2 * M_PI, 0.006);
}
