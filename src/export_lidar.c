/* export_lidar.c -- the exports of a lidarannotation project: KITTI object
 * labels (a zip) and Loupe's own JSON of cuboids per frame with tracks.
 *
 * kitti: one label_2/TASK_FRAME.txt per frame of each task with a result
 * (TASK and FRAME zero-padded to 6 digits), one line per cuboid:
 * "type truncated occluded alpha x1 y1 x2 y2 h w l x y z rotation_y" as
 * KITTI's object devkit reads them.  type is the label (spaces as '_');
 * truncated and occluded are not annotated and written 0.  When the task
 * has data.calibration, its first camera places the box as KITTI does: x y
 * z is the bottom centre of the box in that camera's coordinates (the
 * extrinsic applied to the lidar point (x, y, z - height / 2)), rotation_y
 * the heading's angle about the camera's y axis (-atan2 of the turned
 * heading's z and x), alpha = rotation_y - atan2(x, z) (both wrapped into
 * (-pi, pi], as KITTI keeps them in [-pi, pi]), and x1 y1 x2 y2 the
 * box's 8 corners projected with K (0 0 0 0 when a corner is behind the
 * camera).  Without calibration, x y z is the bottom centre in the point
 * cloud's own coordinates, rotation_y the yaw (wrapped), and alpha and the 2D box 0:
 * README.txt says which applies to how many frames.  A calibrated frame
 * also gets calib/TASK_FRAME.txt as KITTI's devkit reads it: P2 is K with a
 * zero translation column (the camera is KITTI's reference camera),
 * R0_rect the identity, Tr_velo_to_cam the extrinsic's top 3x4, and P0, P1,
 * P3 and Tr_imu_to_velo [I | 0] (Loupe knows one camera and no IMU).  The
 * point clouds stay attachments: no velodyne/ folder is written.
 *
 * lidar: a JSON array, one object per task with a result: {"id",
 * "unique_id", "frames": [{"frame", "pointcloud": the attachment,
 * "cuboids": [...]}], "tracks": [{"track", "label", "frames": [...]}]},
 * frames in order, cuboids by track. */
#include <archive.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "export_zip.h"
#include "geom3d.h"
#include "valid.h"

/* ---- kitti ------------------------------------------------------------ */

typedef struct kitti_state {
    lp_imgzip *z;
    size_t frames, calibrated, objects, no_result;
} kitti_state;

/* The task's pointcloud attachments, in order, as a new array. */
static json_t *clouds_of(const json_t *task)
{
    json_t *out = json_array();
    const json_t *a;
    size_t i;
    json_array_foreach(json_object_get(task, "attachments"), i, a)
    {
        const char *type = json_string_value(json_object_get(a, "type"));
        if (type && strcmp(type, "pointcloud") == 0) json_array_append(out, (json_t *)a);
    }
    return out;
}

static double num(const json_t *o, const char *key)
{
    double v;
    return lp_json_number(json_object_get(o, key), &v) ? 0 : v;
}

/* m[r][c] of a nested-array matrix, 0 when missing. */
static double at(const json_t *m, size_t r, size_t c)
{
    double v;
    return lp_json_number(json_array_get(json_array_get(m, r), c), &v) ? 0 : v;
}

/* p (lidar, 3) through the 4x4 extrinsic e into q (camera, 3). */
static void to_camera(const json_t *e, const double p[3], double q[3])
{
    for (size_t r = 0; r < 3; r++)
        q[r] = at(e, r, 0) * p[0] + at(e, r, 1) * p[1] + at(e, r, 2) * p[2] + at(e, r, 3);
}

/* Writes one cuboid's KITTI line to b; cam is the calibration's first
 * camera or NULL. */
static void kitti_line(lp_buf *b, const json_t *c, const json_t *cam)
{
    const char *label = json_string_value(json_object_get(c, "label"));
    double x = num(c, "x"), y = num(c, "y"), z = num(c, "z"), l = num(c, "length"),
           w = num(c, "width"), h = num(c, "height"), yaw = num(c, "yaw");
    double loc[3] = {x, y, z - h / 2}, ry = yaw, alpha = 0, box[4] = {0, 0, 0, 0};
    for (const char *s = label ? label : "DontCare"; *s; s++)
        lp_buf_printf(b, "%c", *s == ' ' || *s == '\t' || *s == '\n' ? '_' : *s);
    if (cam) {
        const json_t *e = json_object_get(cam, "extrinsic"), *k = json_object_get(cam, "K");
        double p[3] = {x, y, z - h / 2}, d[3] = {cos(yaw), sin(yaw), 0}, o[3] = {0, 0, 0}, dc[3],
               oc[3];
        to_camera(e, p, loc);
        to_camera(e, d, dc);
        to_camera(e, o, oc);
        ry = -atan2(dc[2] - oc[2], dc[0] - oc[0]);
        alpha = ry - atan2(loc[0], loc[2]);
        double lo[2] = {HUGE_VAL, HUGE_VAL}, hi[2] = {-HUGE_VAL, -HUGE_VAL};
        int behind = 0;
        for (int i = 0; i < 8; i++) {
            double u = (i & 1 ? 0.5 : -0.5) * l, v = (i & 2 ? 0.5 : -0.5) * w,
                   t = (i & 4 ? 0.5 : -0.5) * h;
            double cp[3] = {x + u * cos(yaw) - v * sin(yaw), y + u * sin(yaw) + v * cos(yaw),
                            z + t},
                   q[3];
            to_camera(e, cp, q);
            if (!(q[2] > 1e-6)) {
                behind = 1;
                break;
            }
            for (int r = 0; r < 2; r++) {
                double pix = (at(k, r, 0) * q[0] + at(k, r, 1) * q[1] + at(k, r, 2) * q[2]) / q[2];
                lo[r] = fmin(lo[r], pix);
                hi[r] = fmax(hi[r], pix);
            }
        }
        if (!behind) box[0] = lo[0], box[1] = lo[1], box[2] = hi[0], box[3] = hi[1];
    }
    /* KITTI's angles lie in [-pi, pi]; a yaw may be up to +-100 and
     * alpha is the difference of two such angles. */
    ry = lp_yaw_wrap(ry), alpha = lp_yaw_wrap(alpha);
    lp_buf_printf(b, " 0.00 0 %.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f\n", alpha,
                  box[0], box[1], box[2], box[3], h, w, l, loc[0], loc[1], loc[2], ry);
}

/* Writes a KITTI calibration line: name, then the rows x cols of m (a
 * nested-array matrix, 0 where missing) or of the identity when m is NULL,
 * with cols - 3 zero columns on the right when zero_right. */
static void calib_line(lp_buf *b, const char *name, const json_t *m, size_t rows, size_t cols,
                       int zero_right)
{
    lp_buf_printf(b, "%s:", name);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            double v = zero_right && c >= 3 ? 0 : m ? at(m, r, c) : r == c;
            lp_buf_printf(b, " %.12e", v);
        }
    lp_buf_puts(b, "\n");
}

/* KITTI's calib file for the camera cam (see the top of this file). */
static void kitti_calib(lp_buf *b, const json_t *cam)
{
    const json_t *k = json_object_get(cam, "K");
    calib_line(b, "P0", NULL, 3, 4, 1);
    calib_line(b, "P1", NULL, 3, 4, 1);
    calib_line(b, "P2", k, 3, 4, 1);
    calib_line(b, "P3", NULL, 3, 4, 1);
    calib_line(b, "R0_rect", NULL, 3, 3, 0);
    calib_line(b, "Tr_velo_to_cam", json_object_get(cam, "extrinsic"), 3, 4, 0);
    calib_line(b, "Tr_imu_to_velo", NULL, 3, 4, 1);
}

static void kitti_begin(lp_export_ctx *cx, lp_buf *out)
{
    (void)out;
    kitti_state *s = lp_calloc(1, sizeof *s);
    lp_export_ctx inner = *cx;
    s->z = lp_imgzip_start(&inner, "kitti", NULL);
    cx->state = s;
}

static void kitti_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    (void)index;
    kitti_state *s = cx->state;
    json_t *task = json_loadb(json, n, 0, NULL);
    const json_t *result = json_object_get(task, "result");
    if (!json_is_object(result)) {
        s->no_result++;
        json_decref(task);
        return;
    }
    const json_t *cuboids = json_object_get(json_object_get(result, "response"), "cuboids"), *c;
    const json_t *cam =
        json_array_get(json_object_get(json_object_get(task, "data"), "calibration"), 0);
    json_t *clouds = clouds_of(task);
    long long id = json_integer_value(json_object_get(task, "id"));
    size_t frames = json_array_size(clouds), i;
    json_array_foreach(cuboids, i, c)
    {
        long long f = json_integer_value(json_object_get(c, "frame"));
        if (f >= 0 && (size_t)f >= frames) frames = (size_t)f + 1;
    }
    for (size_t f = 0; f < frames; f++) {
        lp_imgzip *z = s->z;
        z->entry.len = z->path.len = 0;
        lp_buf_puts(&z->entry, "");
        json_array_foreach(cuboids, i, c)
        {
            if (json_integer_value(json_object_get(c, "frame")) != (long long)f) continue;
            kitti_line(&z->entry, c, cam);
            s->objects++;
        }
        lp_buf_printf(&z->path, "label_2/%06lld_%06zu.txt", id, f);
        lp_imgzip_add(z, out, z->path.data, z->entry.data ? z->entry.data : "", z->entry.len);
        s->frames++;
        if (cam) {
            z->entry.len = z->path.len = 0;
            lp_buf_puts(&z->entry, "");
            kitti_calib(&z->entry, cam);
            lp_buf_printf(&z->path, "calib/%06lld_%06zu.txt", id, f);
            lp_imgzip_add(z, out, z->path.data, z->entry.data, z->entry.len);
            s->calibrated++;
        }
    }
    json_decref(clouds);
    json_decref(task);
}

static int kitti_end(lp_export_ctx *cx, lp_buf *out, size_t ntasks)
{
    (void)ntasks;
    kitti_state *s = cx->state;
    lp_imgzip *z = s->z;
    lp_buf r = {0};
    lp_buf_printf(&r,
                  "Loupe lidarannotation export, format kitti: %zu frame%s, %zu object%s.\n\n"
                  "label_2/TASK_FRAME.txt holds the cuboids of frame FRAME (0: the task's first\n"
                  "point cloud) of task TASK, one KITTI object line each:\n"
                  "type truncated occluded alpha x1 y1 x2 y2 h w l x y z rotation_y\n\n"
                  "%zu frame%s had data.calibration: x y z is the bottom centre of the box in the\n"
                  "first camera's coordinates, rotation_y about its y axis, x1 y1 x2 y2 the box\n"
                  "projected into its image (KITTI's camera convention), and calib/TASK_FRAME.txt\n"
                  "has that camera as KITTI's P2 (K, no translation) with R0_rect the identity\n"
                  "and Tr_velo_to_cam the extrinsic; P0, P1, P3 and Tr_imu_to_velo are [I | 0].\n"
                  "%zu frame%s had none: x y z is the bottom centre in the point cloud's own\n"
                  "coordinates (z up), rotation_y is the yaw about z, alpha and the 2D box are 0.\n"
                  "Angles are in [-pi, pi].\n"
                  "The point clouds are the tasks' attachments; no velodyne/ folder is written.\n",
                  s->frames, s->frames == 1 ? "" : "s", s->objects, s->objects == 1 ? "" : "s",
                  s->calibrated, s->calibrated == 1 ? "" : "s", s->frames - s->calibrated,
                  s->frames - s->calibrated == 1 ? "" : "s");
    if (s->no_result)
        lp_buf_printf(&r, "\nLeft out: %zu task%s without a result.\n", s->no_result,
                      s->no_result == 1 ? "" : "s");
    lp_imgzip_add(z, out, "README.txt", r.data, r.len);
    lp_buf_fini(&r);
    if (!z->failed) {
        z->out = out;
        if (archive_write_close(z->a) != ARCHIVE_OK) z->failed = 1;
        z->out = NULL;
    }
    return z->failed ? LP_EIO : 0;
}

static void kitti_free(lp_export_ctx *cx)
{
    kitti_state *s = cx->state;
    if (!s) return;
    lp_export_ctx inner = *cx;
    inner.state = s->z;
    lp_imgzip_free(&inner);
    free(s);
    cx->state = NULL;
}

static const char *const lidar_kinds[] = {"lidarannotation", NULL};

const lp_export_format lp_export_kitti = {
    .version = 1,
    .name = "kitti",
    .summary = "KITTI object labels: a zip of label_2/TASK_FRAME.txt per point-cloud frame",
    .content_type = "application/zip",
    .extension = "zip",
    .kinds = lidar_kinds,
    .begin = kitti_begin,
    .task = kitti_task,
    .end = kitti_end,
    .free_state = kitti_free,
};

/* ---- lidar (Loupe JSON) ----------------------------------------------- */

static int by_track(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    long long p = json_integer_value(json_object_get(x, "track")),
              q = json_integer_value(json_object_get(y, "track"));
    return (p > q) - (p < q);
}

static void lidar_begin(lp_export_ctx *cx, lp_buf *out)
{
    cx->state = lp_calloc(1, sizeof(size_t)); /* tasks written */
    lp_buf_puts(out, "[");
}

static void lidar_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    (void)index;
    size_t *written = cx->state;
    json_t *task = json_loadb(json, n, 0, NULL);
    const json_t *result = json_object_get(task, "result");
    if (!json_is_object(result)) {
        json_decref(task);
        return;
    }
    const json_t *cuboids = json_object_get(json_object_get(result, "response"), "cuboids"), *c;
    json_t *clouds = clouds_of(task), *frames = json_array(), *tracks = json_object();
    size_t nf = json_array_size(clouds), i, nc = json_array_size(cuboids);
    json_array_foreach(cuboids, i, c)
    {
        long long f = json_integer_value(json_object_get(c, "frame"));
        if (f >= 0 && (size_t)f >= nf) nf = (size_t)f + 1;
    }
    const json_t **sorted = lp_malloc((nc + 1) * sizeof *sorted);
    for (i = 0; i < nc; i++) sorted[i] = json_array_get(cuboids, i);
    if (nc) qsort(sorted, nc, sizeof *sorted, by_track);
    for (size_t f = 0; f < nf; f++) {
        json_t *list = json_array();
        for (i = 0; i < nc; i++) {
            c = sorted[i];
            if (json_integer_value(json_object_get(c, "frame")) != (long long)f) continue;
            json_t *copy = json_deep_copy(c);
            json_object_del(copy, "frame");
            json_array_append_new(list, copy);
            char key[32];
            snprintf(key, sizeof key, "%lld", json_integer_value(json_object_get(c, "track")));
            json_t *t = json_object_get(tracks, key);
            if (!t) {
                t = json_pack("{s:O, s:O, s:[]}", "track", json_object_get(c, "track"), "label",
                              json_object_get(c, "label"), "frames");
                json_object_set_new(tracks, key, t);
            }
            json_array_append_new(json_object_get(t, "frames"), json_integer((json_int_t)f));
        }
        json_t *cloud = json_array_get(clouds, f);
        json_array_append_new(frames,
                              json_pack("{s:I, s:O, s:o}", "frame", (json_int_t)f, "pointcloud",
                                        cloud ? cloud : json_null(), "cuboids", list));
    }
    json_t *track_list = json_array();
    const char *key;
    json_t *t;
    json_object_foreach(tracks, key, t) json_array_append(track_list, t);
    const json_t **ts = lp_malloc((json_array_size(track_list) + 1) * sizeof *ts);
    for (i = 0; i < json_array_size(track_list); i++) ts[i] = json_array_get(track_list, i);
    if (i) qsort(ts, i, sizeof *ts, by_track);
    json_t *ordered = json_array();
    for (size_t k = 0; k < i; k++) json_array_append(ordered, (json_t *)ts[k]);
    json_t *o = json_pack("{s:O, s:O, s:o, s:o}", "id", json_object_get(task, "id"), "unique_id",
                          json_object_get(task, "unique_id"), "frames", frames, "tracks", ordered);
    char *text = json_dumps(o, LP_JSON_DUMP);
    if (*written) lp_buf_puts(out, ",\n");
    lp_buf_puts(out, text);
    (*written)++;
    free(text);
    json_decref(o);
    free(ts);
    json_decref(track_list);
    free(sorted);
    json_decref(tracks);
    json_decref(clouds);
    json_decref(task);
}

static int lidar_end(lp_export_ctx *cx, lp_buf *out, size_t ntasks)
{
    (void)cx;
    (void)ntasks;
    lp_buf_puts(out, "]\n");
    return 0;
}

static void lidar_free(lp_export_ctx *cx)
{
    free(cx->state);
    cx->state = NULL;
}

const lp_export_format lp_export_lidar = {
    .version = 1,
    .name = "lidar",
    .summary = "Loupe lidar JSON: per task, per frame, its cuboids with their track ids",
    .content_type = "application/json",
    .extension = "json",
    .kinds = lidar_kinds,
    .begin = lidar_begin,
    .task = lidar_task,
    .end = lidar_end,
    .free_state = lidar_free,
};
