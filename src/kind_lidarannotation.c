/* kind_lidarannotation.c -- 3D cuboids in lidar point clouds, frame by frame.
 *
 * A task carries one pointcloud attachment per frame, in order, and may
 * carry camera images with data.calibration to project the cuboids onto
 * them.  A response lists cuboids, each in one frame, in the point cloud's
 * coordinates (metres; z up): centre x, y, z, size length (along the
 * heading), width, height, and yaw (radians about z); a track id links one
 * object's cuboids across frames (at most one cuboid per track per frame).
 * Against a reference a response scores the F1 of its cuboids matched one
 * to one, within a frame and a label, by 3D IoU (geom3d.c) weighted by that
 * IoU; several responses consolidate into the cuboids more than half of the
 * workers' weight drew, averaged (see aggregate()). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assign.h"
#include "geom3d.h"
#include "kind.h"
#include "limit.h"
#include "util.h"

/* Two cuboids match for scoring at least this 3D IoU (KITTI's car
 * threshold is 0.7, its pedestrian one 0.5; hand-drawn boxes differ more). */
#define MATCH_MIN 0.5
/* Cuboids cluster across workers at this IoU: looser than scoring, as in
 * imageannotation (LP_GEOM_OPTS_DEFAULT). */
#define CLUSTER_MIN 0.25
/* An object is kept when drawn by more than this share of the weight. */
#define QUORUM 0.5
/* Bounds of a coordinate (metres) and of a size. */
#define COORD_MAX 1e6


/* Checks params {labels, attributes, instructions}; fills attributes ([])
 * and each attribute's required (false). */
static int validate_params(json_t *params, lp_verr *e)
{
    static const char *const keys[] = {"labels", "attributes", "instructions", NULL};
    int rc;
    if ((rc = lp_v_object(params, "params", e))) return rc;
    if ((rc = lp_v_only_keys(params, "params", keys, e))) return rc;
    if ((rc = lp_v_names(params, "labels", "params", 1, 1, NULL, e))) return rc;
    if ((rc = lp_v_attribute_defs(params, "attributes", e))) return rc;
    return lp_v_string(params, "instructions", "params", 0, 0, 0, NULL, e);
}

/* The number of pointcloud attachments (frames) of task. */
static size_t frames_of(const json_t *task)
{
    const json_t *a;
    size_t i, n = 0;
    json_array_foreach(json_object_get(task, "attachments"), i, a)
    {
        const char *type = json_string_value(json_object_get(a, "type"));
        if (type && strcmp(type, "pointcloud") == 0) n++;
    }
    return n;
}

/* Checks obj[key], a rows x cols matrix of finite numbers as nested arrays. */
static int check_matrix(const json_t *obj, const char *key, const char *at, size_t rows,
                        size_t cols, lp_verr *e)
{
    const json_t *m, *row;
    char field[256], rf[256];
    size_t i, j;
    double x;
    int rc;
    if ((rc = lp_v_array(obj, key, at, 1, rows, rows, &m, e))) return rc;
    lp_path_key(field, sizeof field, at, key);
    json_array_foreach(m, i, row)
    {
        lp_path_index(rf, sizeof rf, field, i);
        if (json_array_size(row) != cols || !json_is_array(row))
            return lp_verr_set(e, rf, "must be an array of %zu numbers", cols);
        for (j = 0; j < cols; j++)
            if (lp_json_number(json_array_get(row, j), &x)) {
                char cf[256];
                return lp_verr_set(e, lp_path_index(cf, sizeof cf, rf, j),
                                   "must be a finite number");
            }
    }
    return 0;
}

/* Checks that the task has a point cloud and, when data.calibration is
 * given, that it is a list of cameras {image, K, extrinsic}: image the
 * index of an image attachment, K its 3x3 intrinsics, extrinsic the 4x4
 * transform from lidar to camera coordinates (x right, y down, z ahead). */
static int validate_task(const json_t *params, const json_t *task, lp_verr *e)
{
    static const char *const cam_keys[] = {"image", "K", "extrinsic", "name", NULL};
    const json_t *cams, *cam, *attachments = json_object_get(task, "attachments");
    size_t i;
    long long image;
    int rc;
    (void)params;
    if (!frames_of(task))
        return lp_verr_set(e, "attachments",
                           "must include an attachment of type \"pointcloud\" (one per frame)");
    const json_t *data = json_object_get(task, "data");
    if (!json_is_object(data)) return 0;
    if ((rc = lp_v_array(data, "calibration", "data", 0, 0, 64, &cams, e))) return rc;
    json_array_foreach(cams, i, cam)
    {
        char at[256], field[256];
        lp_path_index(at, sizeof at, "data.calibration", i);
        if ((rc = lp_v_object(cam, at, e)) || (rc = lp_v_only_keys(cam, at, cam_keys, e)) ||
            (rc = lp_v_int(cam, "image", at, 1, 0, (long long)json_array_size(attachments) - 1,
                           &image, e)) ||
            (rc = check_matrix(cam, "K", at, 3, 3, e)) ||
            (rc = check_matrix(cam, "extrinsic", at, 4, 4, e)) ||
            (rc = lp_v_string(cam, "name", at, 0, 0, 0, NULL, e)))
            return rc;
        const char *type =
            json_string_value(json_object_get(json_array_get(attachments, (size_t)image), "type"));
        if (!type || strcmp(type, "image") != 0)
            return lp_verr_set(e, lp_path_key(field, sizeof field, at, "image"),
                               "attachment %lld is not an image", image);
    }
    return 0;
}

/* Checks one cuboid; frames is the task's frame count (0: unknown). */
static int check_cuboid(const json_t *params, const json_t *c, const char *at, size_t frames,
                        lp_verr *e)
{
    static const char *const keys[] = {"track",  "frame", "label",  "x",   "y",          "z",
                                       "length", "width", "height", "yaw", "attributes", NULL};
    static const char *const sizes[] = {"length", "width", "height"};
    char field[256];
    long long v;
    double d;
    int rc;
    if ((rc = lp_v_object(c, at, e)) || (rc = lp_v_only_keys(c, at, keys, e)) ||
        (rc = lp_v_int(c, "track", at, 1, 1, 1LL << 40, &v, e)) ||
        (rc = lp_v_int(c, "frame", at, 1, 0, frames ? (long long)frames - 1 : 1LL << 40, &v, e)))
        return rc;
    lp_path_key(field, sizeof field, at, "label");
    if ((rc = lp_v_name_in(json_object_get(params, "labels"), json_object_get(c, "label"), field,
                           "labels", NULL, e)))
        return rc;
    if ((rc = lp_v_number(c, "x", at, 1, -COORD_MAX, COORD_MAX, &d, e)) ||
        (rc = lp_v_number(c, "y", at, 1, -COORD_MAX, COORD_MAX, &d, e)) ||
        (rc = lp_v_number(c, "z", at, 1, -COORD_MAX, COORD_MAX, &d, e)) ||
        (rc = lp_v_number(c, "yaw", at, 1, -100, 100, &d, e)))
        return rc;
    for (size_t k = 0; k < 3; k++) {
        if ((rc = lp_v_number(c, sizes[k], at, 1, -HUGE_VAL, COORD_MAX, &d, e))) return rc;
        if (!(d > 0))
            return lp_verr_set(e, lp_path_key(field, sizeof field, at, sizes[k]),
                               "must be greater than 0 (got %g)", d);
    }
    return lp_v_attribute_values(json_object_get(params, "attributes"), lp_json_given(c, "attributes"),
                            at, e);
}

/* Checks a response {cuboids: [...]}: each cuboid valid, its frame one of
 * the task's, and one cuboid per track per frame. */
static int validate_response(const json_t *params, const json_t *task, const json_t *response,
                             const char *path, lp_verr *e)
{
    static const char *const keys[] = {"cuboids", NULL};
    const json_t *list, *c;
    char field[256];
    size_t i, frames = frames_of(task);
    int rc;
    if ((rc = lp_v_object(response, path, e))) return rc;
    if ((rc = lp_v_only_keys(response, path, keys, e))) return rc;
    if ((rc = lp_v_array(response, "cuboids", path, 1, 0, LP_LIMIT_RESPONSE_ITEMS, &list, e)))
        return rc;
    lp_path_key(field, sizeof field, path, "cuboids");
    json_t *seen = json_object(); /* "track/frame" -> index */
    json_array_foreach(list, i, c)
    {
        char at[256], key[64];
        lp_path_index(at, sizeof at, field, i);
        if ((rc = check_cuboid(params, c, at, frames, e))) break;
        snprintf(key, sizeof key, "%lld/%lld", json_integer_value(json_object_get(c, "track")),
                 json_integer_value(json_object_get(c, "frame")));
        const json_t *prev = json_object_get(seen, key);
        if (prev) {
            char tf[256];
            rc = lp_verr_set(e, lp_path_key(tf, sizeof tf, at, "track"),
                             "track %lld already has a cuboid in frame %lld, at %s[%lld]",
                             json_integer_value(json_object_get(c, "track")),
                             json_integer_value(json_object_get(c, "frame")), field,
                             json_integer_value(prev));
            break;
        }
        json_object_set_new(seen, key, json_integer((json_int_t)i));
    }
    json_decref(seen);
    return rc;
}

/* ---- Scoring ---------------------------------------------------------- */

/* One cuboid read for scoring and consolidation. */
typedef struct box {
    lp_cuboid c;
    long long frame, track;
    const json_t *label, *json;
    size_t worker;
} box;

static double num(const json_t *obj, const char *key)
{
    double v;
    return lp_json_number(json_object_get(obj, key), &v) ? 0 : v;
}

/* Reads the cuboids of response into a new array; *n receives the count. */
static box *read_boxes(const json_t *response, size_t worker, size_t *n)
{
    const json_t *list = json_object_get(response, "cuboids"), *c;
    size_t i;
    box *b = lp_malloc((json_array_size(list) + 1) * sizeof *b);
    json_array_foreach(list, i, c)
    {
        b[i] = (box){{num(c, "x"), num(c, "y"), num(c, "z"), num(c, "length"), num(c, "width"),
                      num(c, "height"), num(c, "yaw")},
                     json_integer_value(json_object_get(c, "frame")),
                     json_integer_value(json_object_get(c, "track")),
                     json_object_get(c, "label"),
                     c,
                     worker};
    }
    *n = json_array_size(list);
    return b;
}

/* Scores 2 * (sum of matched IoUs) / (cuboids in response + in reference):
 * cuboids pair up when they are in the same frame with the same label and
 * a 3D IoU of at least MATCH_MIN, one to one for the largest sum of IoUs
 * (assign.h).  It is the F1 of detection at that threshold with each match
 * counted by how well it fits, so a box a little off scores a little less.
 * Tracks and attributes are not scored.  Two empty responses score 1. */
static double score(const json_t *params, const json_t *task, const json_t *response,
                    const json_t *reference)
{
    size_t na, nb, ne = 0, cap = 0;
    (void)params;
    (void)task;
    box *a = read_boxes(response, 0, &na), *b = read_boxes(reference, 1, &nb);
    double s;
    if (!na || !nb) {
        s = na == nb;
        goto done;
    }
    lp_assign_edge *e = NULL;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) {
            if (a[i].frame != b[j].frame || !json_equal(a[i].label, b[j].label)) continue;
            double iou = lp_cuboid_iou(&a[i].c, &b[j].c);
            if (!(iou >= MATCH_MIN)) continue;
            if (ne == cap) e = lp_realloc(e, (cap = cap ? 2 * cap : 16) * sizeof *e);
            e[ne++] = (lp_assign_edge){iou, i, j};
        }
    s = 2 * lp_assign_sparse(e, ne, na, nb, NULL) / (double)(na + nb);
    free(e);
done:
    free(a);
    free(b);
    return s;
}

/* ---- Consolidation ---------------------------------------------------- */

static double weight_of(const double *weights, size_t i)
{
    return weights ? weights[i] : 1;
}

/* yaw moved by a multiple of pi to lie closest to ref (a box heading the
 * other way covers the same space). */
static double align_yaw(double yaw, double ref)
{
    return yaw - M_PI * round((yaw - ref) / M_PI);
}

/* The value picked by the most weight among the k values v[] (NULL: not
 * given); ties go to the earlier.  Borrowed from v. */
static const json_t *vote(const json_t *const *v, const double *w, size_t k, double *share)
{
    const json_t *best = NULL;
    double best_w = 0, total = 0;
    for (size_t i = 0; i < k; i++) {
        if (!v[i]) continue;
        double s = 0;
        total += w[i];
        for (size_t j = 0; j < k; j++)
            if (v[j] && json_equal(v[i], v[j])) s += w[j];
        if (s > best_w) {
            best_w = s;
            best = v[i];
        }
    }
    if (share) *share = total;
    return best;
}

/* The attributes voted among the k cuboids m[] (weights w): each attribute
 * given by more than half of their weight (or required) takes its most
 * weighted value.  NULL when none. */
static json_t *vote_attributes(const json_t *defs, const box *const *m, const double *w, size_t k,
                               double total)
{
    const json_t **v = lp_malloc((k + 1) * sizeof *v), *def;
    json_t *out = NULL;
    size_t d;
    json_array_foreach(defs, d, def)
    {
        const char *name = json_string_value(json_object_get(def, "name"));
        double given;
        if (!name) continue;
        for (size_t i = 0; i < k; i++)
            v[i] = lp_json_given(lp_json_given(m[i]->json, "attributes"), name);
        const json_t *pick = vote(v, w, k, &given);
        if (!pick || (!json_is_true(json_object_get(def, "required")) && !(given > total / 2)))
            continue;
        if (!out) out = json_object();
        json_object_set_new(out, name, json_deep_copy(pick));
    }
    free(v);
    return out;
}

/* ---- A frame's candidate pairs ----------------------------------------
 *
 * Consolidation needs, for each cuboid, each other worker's cuboids that
 * overlap it at CLUSTER_MIN or more.  Only cuboids whose centres are
 * closer, seen from above, than the sum of their half diagonals can
 * overlap, so a sweep along x over the cuboids sorted by x finds the
 * candidates without looking at every pair of a busy frame; the pairs
 * kept are held per cuboid (CSR), each cuboid's sorted by worker, then IoU
 * from the highest, then index.  A cursor per cuboid and worker walks
 * past the cuboids used up, so each cuboid's best unused partner of each
 * worker is at hand, and every list is walked once in all. */

typedef struct link {
    uint32_t j, worker;
    double iou;
} link;

typedef struct by_x_item {
    double x;
    uint32_t i;
} by_x_item;

static int by_x(const void *a, const void *b)
{
    const by_x_item *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

static int by_worker_iou(const void *a, const void *b)
{
    const link *p = a, *q = b;
    if (p->worker != q->worker) return p->worker < q->worker ? -1 : 1;
    if (p->iou != q->iou) return p->iou > q->iou ? -1 : 1;
    return (p->j > q->j) - (p->j < q->j);
}

/* The links of the k cuboids b[] of one frame, with n workers. */
typedef struct links {
    size_t k, n;
    size_t *start; /* k + 1: cuboid c's links are at[start[c] .. start[c + 1]) */
    link *at;
    size_t *cur, *end; /* k * n: cuboid c's cursor and end for worker w */
} links;

static void links_build(links *L, const box *b, size_t k, size_t n)
{
    by_x_item *order = lp_malloc((k + 1) * sizeof *order);
    double *r = lp_malloc((k + 1) * sizeof *r), rmax = 0;
    for (size_t i = 0; i < k; i++) {
        order[i] = (by_x_item){b[i].c.x, (uint32_t)i};
        r[i] = hypot(b[i].c.length, b[i].c.width) / 2;
        if (r[i] > rmax) rmax = r[i];
    }
    qsort(order, k, sizeof *order, by_x);
    /* The pairs (each once) at CLUSTER_MIN or more. */
    link *pairs = NULL; /* j: the first cuboid, worker: the second */
    size_t np = 0, cap = 0;
    size_t *deg = lp_calloc(k + 1, sizeof *deg);
    for (size_t a = 0; a < k; a++) {
        size_t i = order[a].i;
        for (size_t z = a + 1; z < k && order[z].x - order[a].x < r[i] + rmax; z++) {
            size_t j = order[z].i;
            if (b[i].worker == b[j].worker ||
                !(hypot(b[i].c.x - b[j].c.x, b[i].c.y - b[j].c.y) < r[i] + r[j]))
                continue;
            /* the lower index first: rounding as a table of pairs i < j had it */
            double iou = i < j ? lp_cuboid_iou(&b[i].c, &b[j].c) : lp_cuboid_iou(&b[j].c, &b[i].c);
            if (!(iou >= CLUSTER_MIN)) continue;
            if (np == cap) pairs = lp_realloc(pairs, (cap = cap ? 2 * cap : 64) * sizeof *pairs);
            pairs[np++] = (link){(uint32_t)i, (uint32_t)j, iou};
            deg[i]++, deg[j]++;
        }
    }
    L->k = k, L->n = n;
    L->start = lp_malloc((k + 1) * sizeof *L->start);
    L->start[0] = 0;
    for (size_t c = 0; c < k; c++) L->start[c + 1] = L->start[c] + deg[c];
    L->at = lp_malloc((2 * np + 1) * sizeof *L->at);
    for (size_t c = 0; c < k; c++) deg[c] = L->start[c]; /* fill positions */
    for (size_t e = 0; e < np; e++) {
        uint32_t i = pairs[e].j, j = pairs[e].worker;
        L->at[deg[i]++] = (link){j, (uint32_t)b[j].worker, pairs[e].iou};
        L->at[deg[j]++] = (link){i, (uint32_t)b[i].worker, pairs[e].iou};
    }
    L->cur = lp_malloc((k * n + 1) * sizeof *L->cur);
    L->end = lp_malloc((k * n + 1) * sizeof *L->end);
    for (size_t c = 0; c < k; c++) {
        link *row = L->at + L->start[c];
        size_t len = L->start[c + 1] - L->start[c], e = 0;
        qsort(row, len, sizeof *row, by_worker_iou);
        for (size_t w = 0; w < n; w++) {
            L->cur[c * n + w] = L->start[c] + e;
            while (e < len && row[e].worker == w) e++;
            L->end[c * n + w] = L->start[c] + e;
        }
    }
    free(deg);
    free(pairs);
    free(r);
    free(order);
}

static void links_fini(links *L)
{
    free(L->start);
    free(L->at);
    free(L->cur);
    free(L->end);
}

/* Fills members with cuboid c and, from each other worker in turn, its
 * unused cuboid most overlapping c (at least CLUSTER_MIN; the first of
 * equals); returns how many, with the weight of their workers in *support
 * and that weight times IoU with c in *agree.  Moves c's cursors past
 * used cuboids. */
static size_t gather(links *L, const box *b, size_t c, const char *used, const double *weights,
                     size_t *members, double *support, double *agree)
{
    size_t k = 0, n = L->n;
    members[k++] = c;
    *support = *agree = weight_of(weights, b[c].worker);
    for (size_t w = 0; w < n; w++) {
        size_t *cur = &L->cur[c * n + w], end = L->end[c * n + w];
        while (*cur < end && used[L->at[*cur].j]) (*cur)++;
        if (*cur == end) continue;
        members[k++] = L->at[*cur].j;
        *support += weight_of(weights, w);
        *agree += weight_of(weights, w) * L->at[*cur].iou;
    }
    return k;
}

/* A max-heap of seeds by agreement, then lowest index; an entry is stale
 * once its cuboid is used or its version has moved on. */
typedef struct seed_entry {
    double agree;
    uint32_t c, version;
} seed_entry;

typedef struct seed_heap {
    seed_entry *v;
    size_t n, cap;
} seed_heap;

static int seed_before(const seed_entry *a, const seed_entry *b)
{
    return a->agree > b->agree || (a->agree == b->agree && a->c < b->c);
}

static void heap_push(seed_heap *h, seed_entry e)
{
    if (h->n == h->cap) h->v = lp_realloc(h->v, (h->cap = h->cap ? 2 * h->cap : 64) * sizeof *h->v);
    size_t i = h->n++;
    while (i && seed_before(&e, &h->v[(i - 1) / 2])) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = e;
}

static seed_entry heap_pop(seed_heap *h)
{
    seed_entry top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        const seed_entry *best = &last;
        if (l < h->n && seed_before(&h->v[l], best)) m = l, best = &h->v[l];
        if (l + 1 < h->n && seed_before(&h->v[l + 1], best)) m = l + 1;
        if (m == i) break;
        h->v[i] = h->v[m];
        i = m;
    }
    if (h->n) h->v[i] = last;
    return top;
}

static int by_frame_track(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    json_int_t fx = json_integer_value(json_object_get(x, "frame")),
               fy = json_integer_value(json_object_get(y, "frame"));
    if (fx != fy) return fx < fy ? -1 : 1;
    json_int_t tx = json_integer_value(json_object_get(x, "track")),
               ty = json_integer_value(json_object_get(y, "track"));
    return (tx > ty) - (tx < ty);
}

/* Consolidates the workers' cuboids: frame by frame, the unused cuboid
 * whose workers' weighted IoU with it (each other worker contributing its
 * most overlapping unused cuboid, whatever its label, at an IoU of at least
 * CLUSTER_MIN) is highest seeds an object with those cuboids; the object is
 * kept when its workers weigh more than QUORUM of all (a worker who drew
 * nothing there votes against it), until every cuboid is used.  A kept
 * object is the weighted mean of its cuboids' centres and sizes and the
 * weighted circular mean of their yaws, each first turned by a multiple of
 * pi to lie closest to the seed's (a box and the same box turned half round
 * are one box); its label and attributes are voted by weight.  Tracks: an
 * object takes the consolidated track that most of its members' (worker,
 * track) pairs were given in earlier frames, when that track is free in
 * this frame, else a new one numbered from 1.  Confidence: the mean over
 * kept objects of their weight share times their members' mean IoU with
 * the seed; with none kept, the share of the workers who drew nothing.
 * The result lists the cuboids by frame, then track.  Cost per frame of k
 * cuboids, n workers and P overlapping pairs: O(k log k) for the sweep,
 * O(P log P + P n) for the seeds (each seed is the top of a heap, and only
 * the cuboids whose best partner was used are gathered again), memory
 * O(k n + P); P is about k n in a scene of separate objects, k^2 only
 * when every cuboid overlaps every other. */
static int aggregate(const json_t *params, const json_t *task, const json_t *const *responses,
                     const double *weights, size_t n, json_t **out, double *confidence)
{
    double total = 0, idle = 0, sum = 0;
    size_t nb = 0, kept = 0;
    long long max_frame = -1, next_track = 1;
    size_t frames = frames_of(task);
    for (size_t i = 0; i < n; i++) {
        double w = weight_of(weights, i);
        if (!(w >= 0 && isfinite(w))) return LP_EINVAL;
        total += w;
    }
    box *all = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t k, before = nb;
        box *b = read_boxes(responses[i], i, &k);
        all = lp_realloc(all, (nb + k + 1) * sizeof *all);
        for (size_t j = 0; j < k; j++) {
            lp_verr e;
            if (check_cuboid(params, b[j].json, "cuboid", frames, &e)) continue;
            all[nb++] = b[j];
            if (b[j].frame > max_frame) max_frame = b[j].frame;
        }
        free(b);
        if (nb == before) idle += weight_of(weights, i);
    }
    json_t *list = json_array();
    json_t *tracks = json_object(); /* "worker/track" -> consolidated track */
    box *fb = lp_malloc((nb + 1) * sizeof *fb);
    char *used = lp_malloc(nb + 1);
    size_t *scratch = lp_malloc((n + 1) * sizeof *scratch), /* members of a re-gather */
        *members = lp_malloc((n + 1) * sizeof *members);
    double *w = lp_malloc((n + 1) * sizeof *w);
    const box **m = lp_malloc((n + 1) * sizeof *m);
    const json_t **labels = lp_malloc((n + 1) * sizeof *labels);
    for (long long f = 0; f <= max_frame; f++) {
        size_t k = 0;
        for (size_t j = 0; j < nb; j++)
            if (all[j].frame == f) fb[k++] = all[j];
        if (!k) continue;
        memset(used, 0, k);
        links L;
        links_build(&L, fb, k, n);
        seed_heap heap = {NULL, 0, 0};
        uint32_t *version = lp_calloc(k + 1, sizeof *version);
        size_t *stamp = lp_calloc(k + 1, sizeof *stamp), round = 0;
        size_t *dirty = lp_malloc((k + 1) * sizeof *dirty);
        double support, agree;
        for (size_t c = 0; c < k; c++) {
            gather(&L, fb, c, used, weights, members, &support, &agree);
            heap_push(&heap, (seed_entry){agree, (uint32_t)c, 0});
        }
        json_t *taken = json_object(); /* consolidated tracks used in this frame */
        for (;;) {
            /* The unused cuboid of the highest agreement seeds an object. */
            size_t seed = k, size = 0;
            while (heap.n && seed == k) {
                seed_entry top = heap_pop(&heap);
                if (!used[top.c] && top.version == version[top.c]) seed = top.c;
            }
            if (seed == k) break;
            size = gather(&L, fb, seed, used, weights, members, &support, &agree);
            for (size_t i = 0; i < size; i++) used[members[i]] = 1;
            /* Only the cuboids whose best partner of a member's worker was
             * that member agree differently now. */
            size_t nd = 0;
            round++;
            for (size_t i = 0; i < size; i++) {
                size_t u = members[i], wu = fb[u].worker;
                for (size_t e = L.start[u]; e < L.start[u + 1]; e++) {
                    size_t c = L.at[e].j;
                    if (used[c] || stamp[c] == round) continue;
                    size_t cur = L.cur[c * n + wu];
                    if (cur < L.end[c * n + wu] && L.at[cur].j == u) {
                        stamp[c] = round;
                        dirty[nd++] = c;
                    }
                }
            }
            for (size_t i = 0; i < nd; i++) {
                size_t c = dirty[i];
                double s2, a2;
                gather(&L, fb, c, used, weights, scratch, &s2, &a2);
                heap_push(&heap, (seed_entry){a2, (uint32_t)c, ++version[c]});
            }
            if (!(support > QUORUM * total * (1 + 1e-12))) continue;
            lp_cuboid mean = {0, 0, 0, 0, 0, 0, 0};
            double sx = 0, sy = 0, ref = fb[seed].c.yaw;
            for (size_t i = 0; i < size; i++) {
                const box *b = &fb[members[i]];
                double wi = weight_of(weights, b->worker) / support;
                m[i] = b;
                w[i] = weight_of(weights, b->worker);
                labels[i] = b->label;
                mean.x += wi * b->c.x;
                mean.y += wi * b->c.y;
                mean.z += wi * b->c.z;
                mean.length += wi * b->c.length;
                mean.width += wi * b->c.width;
                mean.height += wi * b->c.height;
                double yaw = align_yaw(b->c.yaw, ref);
                sx += wi * cos(yaw);
                sy += wi * sin(yaw);
            }
            mean.yaw = lp_yaw_wrap(sx == 0 && sy == 0 ? ref : atan2(sy, sx));
            const json_t *label = vote(labels, w, size, NULL);
            /* The track: the one most of the members' weight had. */
            long long track = 0;
            double track_w = 0;
            for (size_t i = 0; i < size; i++) {
                char key[64];
                snprintf(key, sizeof key, "%zu/%lld", m[i]->worker, m[i]->track);
                const json_t *t = json_object_get(tracks, key);
                if (!t) continue;
                snprintf(key, sizeof key, "%lld", json_integer_value(t));
                if (json_object_get(taken, key)) continue;
                double tw = 0;
                for (size_t j = 0; j < size; j++) {
                    char k2[64];
                    snprintf(k2, sizeof k2, "%zu/%lld", m[j]->worker, m[j]->track);
                    if (json_equal(json_object_get(tracks, k2), t)) tw += w[j];
                }
                if (tw > track_w) {
                    track_w = tw;
                    track = json_integer_value(t);
                }
            }
            if (!track) track = next_track++;
            char key[64];
            snprintf(key, sizeof key, "%lld", track);
            json_object_set_new(taken, key, json_true());
            for (size_t i = 0; i < size; i++) {
                snprintf(key, sizeof key, "%zu/%lld", m[i]->worker, m[i]->track);
                json_object_set_new(tracks, key, json_integer(track));
            }
            json_t *c = json_pack("{s:I, s:I, s:O, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "track",
                                  (json_int_t)track, "frame", (json_int_t)f, "label", label, "x",
                                  mean.x, "y", mean.y, "z", mean.z, "length", mean.length, "width",
                                  mean.width, "height", mean.height, "yaw", mean.yaw);
            json_t *attrs =
                vote_attributes(json_object_get(params, "attributes"), m, w, size, support);
            if (attrs) json_object_set_new(c, "attributes", attrs);
            lp_verr e;
            if (!check_cuboid(params, c, "cuboid", frames, &e)) {
                json_array_append(list, c);
                sum += fmin(1, support / total) * fmin(1, agree / support);
                kept++;
            }
            json_decref(c);
        }
        json_decref(taken);
        free(dirty);
        free(stamp);
        free(version);
        free(heap.v);
        links_fini(&L);
    }
    *confidence = kept ? sum / (double)kept : total > 0 ? idle / total : 0;
    /* By frame, then track. */
    size_t nl = json_array_size(list);
    json_t **sorted = lp_malloc((nl + 1) * sizeof *sorted), *sorted_list = json_array();
    for (size_t i = 0; i < nl; i++) sorted[i] = json_array_get(list, i);
    if (nl) qsort(sorted, nl, sizeof *sorted, by_frame_track);
    for (size_t i = 0; i < nl; i++) json_array_append(sorted_list, sorted[i]);
    free(sorted);
    json_decref(list);
    *out = json_pack("{s:o}", "cuboids", sorted_list);
    free(labels);
    free(m);
    free(w);
    free(members);
    free(scratch);
    free(used);
    free(fb);
    json_decref(tracks);
    free(all);
    return 0;
}

const lp_kind lp_kind_lidarannotation = {
    .version = 1,
    .name = "lidarannotation",
    .summary = "Draw labelled 3D cuboids, tracked across frames, in lidar point clouds.",
    .validate_params = validate_params,
    .validate_task = validate_task,
    .validate_response = validate_response,
    .score = score,
    .aggregate = aggregate,
};
