/* kind_segmentation.c -- pixel masks over an image, one layer per label.
 *
 * A project names its labels (each with an optional "#rrggbb" colour) and
 * the overlay's default opacity.  A response is {"masks": [{"label",
 * "rle": {"size": [height, width], "counts": ...}}]}: at most one layer per
 * label, each a COCO run-length encoded mask (rle.h; counts as the
 * compressed string Loupe writes, or a list of numbers), all of one size,
 * the task's data.width x data.height when given.  Layers do not overlap:
 * a pixel has at most one label (semantic segmentation), so an index mask
 * (a PNG of label numbers) holds any response without loss.  A pixel in no
 * layer is background.
 *
 * Everything here works on runs, never on pixels: a response is read into
 * its labelled runs sorted by position (column-major, as COCO counts), so
 * the cost of scoring and consolidating follows the masks' outlines, not
 * their area, and a 1920x1080 mask costs what its few thousand runs cost.
 *
 * Score: the mean over the labels present in either response of the
 * label's IoU (intersection over union of its pixels); 1 when neither has
 * any pixel.  Consolidation: a per-pixel weighted vote between the labels
 * and background, swept over the union of all responses' run boundaries;
 * the label with the most weight wins a pixel, background wins ties (a
 * pixel needs a plurality to be labelled), and between labels tied the one
 * listed first in params wins.  The confidence is the weighted mean score
 * of the responses against the result. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kind.h"
#include "rle.h"
#include "util.h"

/* The most labels: an index mask is 8-bit and keeps 0 for background. */
#define MAX_LABELS      254
#define DEFAULT_OPACITY 0.5
/* The largest data.width and data.height (and their product at most
 * LP_RLE_MAX_PIXELS). */
#define MAX_SIDE (1 << 20)

/* One run of a label's pixels, [start, end) in column-major order; mask is
 * the index of its layer in the response. */
typedef struct run {
    uint32_t start, end, label, mask;
} run;

/* A response read into its runs, sorted by start and disjoint. */
typedef struct masks {
    run *runs;
    size_t n, cap;
    uint32_t height, width; /* 0 x 0 when it has no layer */
} masks;

static void masks_fini(masks *m)
{
    free(m->runs);
    memset(m, 0, sizeof *m);
}

static void push_run(masks *m, run r)
{
    if (m->n == m->cap)
        m->runs = lp_realloc(m->runs, (m->cap = m->cap ? 2 * m->cap : 16) * sizeof *m->runs);
    m->runs[m->n++] = r;
}

/* Checks a label's optional colour: "#" and six hex digits. */
static int check_color(const json_t *label, const char *at, lp_verr *e)
{
    const char *c = NULL;
    char field[256];
    int rc = lp_v_string(label, "color", at, 0, 0, 0, &c, e);
    if (rc || !c) return rc;
    int ok = strlen(c) == 7 && c[0] == '#';
    for (size_t i = 1; ok && i < 7; i++) ok = strchr("0123456789abcdefABCDEF", c[i]) != NULL;
    if (!ok)
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "color"),
                           "must be a colour written #rrggbb, like \"#ff8800\"");
    return 0;
}

/* Checks params {labels, opacity, instructions}; fills opacity (0.5). */
static int validate_params(json_t *params, lp_verr *e)
{
    static const char *const keys[] = {"labels", "opacity", "instructions", NULL};
    static const char *const label_keys[] = {"color", NULL};
    const json_t *labels, *l;
    size_t i;
    int rc;
    if ((rc = lp_v_object(params, "params", e))) return rc;
    if ((rc = lp_v_only_keys(params, "params", keys, e))) return rc;
    if ((rc = lp_v_names(params, "labels", "params", 1, 1, label_keys, e))) return rc;
    labels = json_object_get(params, "labels");
    if (json_array_size(labels) > MAX_LABELS)
        return lp_verr_set(e, "params.labels",
                           "has %zu labels; a segmentation project has at most %d (an index "
                           "mask keeps one of its 256 values for background)",
                           json_array_size(labels), MAX_LABELS);
    json_array_foreach(labels, i, l)
    {
        char at[256];
        if ((rc = check_color(l, lp_path_index(at, sizeof at, "params.labels", i), e))) return rc;
    }
    lp_json_default(params, "opacity", json_real(DEFAULT_OPACITY));
    if ((rc = lp_v_number(params, "opacity", "params", 1, 0, 1, NULL, e))) return rc;
    return lp_v_string(params, "instructions", "params", 0, 0, 0, NULL, e);
}

/* v as a side of the image, as validate_task's lp_v_int reads it (640
 * and 640.0 alike), or 0 when it is not one. */
static long long side(const json_t *v)
{
    double x;
    return !lp_json_number(v, &x) && x >= 1 && x <= MAX_SIDE && x == floor(x) ? (long long)x : 0;
}

/* The image's size from the task's data.width and data.height (0 where
 * not given). */
static void task_size(const json_t *task, long long *width, long long *height)
{
    const json_t *data = json_object_get(task, "data");
    *width = side(json_object_get(data, "width"));
    *height = side(json_object_get(data, "height"));
}

/* Checks that the task has an image, and its data.width and data.height,
 * when given, are positive integers of a mask Loupe reads. */
static int validate_task(const json_t *params, const json_t *task, lp_verr *e)
{
    static const char *const types[] = {"image", NULL};
    const json_t *data = json_object_get(task, "data");
    long long w = 0, h = 0;
    int rc;
    (void)params;
    if (lp_task_attachment(task, types) < 0)
        return lp_verr_set(e, "attachments", "must include an attachment of type \"image\"");
    if (!json_is_object(data)) return 0;
    if ((rc = lp_v_int(data, "width", "data", 0, 1, MAX_SIDE, &w, e)) ||
        (rc = lp_v_int(data, "height", "data", 0, 1, MAX_SIDE, &h, e)))
        return rc;
    if ((uint64_t)w * (uint64_t)h > LP_RLE_MAX_PIXELS)
        return lp_verr_set(e, "data.width", "%lld x %lld pixels is larger than a mask Loupe reads",
                           w, h);
    return 0;
}

static int by_start(const void *x, const void *y)
{
    const run *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start;
}

/* Checks one layer's rle object at `at` ("response.masks[2].rle") and adds
 * its runs, labelled label, to m.  The first layer sets m's size; the
 * others and the task's data.width/height must agree with it. */
static int read_layer(const json_t *rle, const char *at, const json_t *task, uint32_t label,
                      uint32_t mask, masks *m, lp_verr *e)
{
    static const char *const keys[] = {"size", "counts", NULL};
    char field[256], counts_at[256], why[200];
    const json_t *size;
    long long tw, th;
    lp_rle r;
    int rc;
    if ((rc = lp_v_object(rle, at, e)) || (rc = lp_v_only_keys(rle, at, keys, e)) ||
        (rc = lp_v_array(rle, "size", at, 1, 2, 2, &size, e)))
        return rc;
    lp_path_key(field, sizeof field, at, "size");
    json_int_t h = json_integer_value(json_array_get(size, 0));
    json_int_t w = json_integer_value(json_array_get(size, 1));
    if (!json_is_integer(json_array_get(size, 0)) || !json_is_integer(json_array_get(size, 1)) ||
        h <= 0 || w <= 0)
        return lp_verr_set(e, field, "must be [height, width], two positive integers");
    if ((uint64_t)h > LP_RLE_MAX_PIXELS || (uint64_t)w > LP_RLE_MAX_PIXELS ||
        (uint64_t)h * (uint64_t)w > LP_RLE_MAX_PIXELS)
        return lp_verr_set(e, field, "[%lld, %lld] is larger than a mask Loupe reads", (long long)h,
                           (long long)w);
    task_size(task, &tw, &th);
    if ((tw > 0 && tw != w) || (th > 0 && th != h))
        return lp_verr_set(e, field,
                           "is [%lld, %lld] but the task's image is %lld high and %lld wide "
                           "(data.height, data.width)",
                           (long long)h, (long long)w, th > 0 ? th : (long long)h,
                           tw > 0 ? tw : (long long)w);
    if (m->height && (m->height != h || m->width != w))
        return lp_verr_set(e, field, "is [%lld, %lld] but the first layer's is [%u, %u]",
                           (long long)h, (long long)w, m->height, m->width);
    lp_path_key(counts_at, sizeof counts_at, at, "counts");
    if (!lp_json_given(rle, "counts"))
        return lp_verr_set(e, counts_at, "is required: the runs, as a string or a list");
    if (lp_rle_from_coco(rle, &r, why, sizeof why)) return lp_verr_set(e, counts_at, "%s", why);
    m->height = (uint32_t)h, m->width = (uint32_t)w;
    uint64_t pos = 0;
    for (size_t k = 0; k < r.n; k++) {
        if (k % 2 && r.counts[k])
            push_run(m, (run){(uint32_t)pos, (uint32_t)(pos + r.counts[k]), label, mask});
        pos += r.counts[k];
    }
    lp_rle_fini(&r);
    return 0;
}

/* Reads response (at path) into m: checks it as validate_response does.
 * Returns 0, or LP_EINVAL with e filled (m then empty). */
static int read_masks(const json_t *params, const json_t *task, const json_t *response,
                      const char *path, masks *m, lp_verr *e)
{
    static const char *const keys[] = {"masks", NULL};
    static const char *const layer_keys[] = {"label", "rle", NULL};
    const json_t *labels = json_object_get(params, "labels"), *list, *layer;
    char field[256];
    size_t i;
    int rc;
    memset(m, 0, sizeof *m);
    if ((rc = lp_v_object(response, path, e))) return rc;
    if ((rc = lp_v_only_keys(response, path, keys, e))) return rc;
    if ((rc = lp_v_array(response, "masks", path, 1, 0, MAX_LABELS, &list, e))) return rc;
    lp_path_key(field, sizeof field, path, "masks");
    long *first = lp_malloc((json_array_size(labels) + 1) * sizeof *first);
    for (i = 0; i <= json_array_size(labels); i++) first[i] = -1;
    json_array_foreach(list, i, layer)
    {
        char at[256], lf[256], rf[256], q[96];
        size_t label;
        lp_path_index(at, sizeof at, field, i);
        if ((rc = lp_v_object(layer, at, e)) || (rc = lp_v_only_keys(layer, at, layer_keys, e)))
            break;
        lp_path_key(lf, sizeof lf, at, "label");
        if ((rc = lp_v_name_in(labels, json_object_get(layer, "label"), lf, "labels", &label, e)))
            break;
        if (first[label] >= 0) {
            rc = lp_verr_set(
                e, lf, "%s already has a layer, %s[%ld]; give each label one",
                lp_quote(q, sizeof q, json_string_value(json_object_get(layer, "label"))), field,
                first[label]);
            break;
        }
        first[label] = (long)i;
        lp_path_key(rf, sizeof rf, at, "rle");
        if ((rc = read_layer(json_object_get(layer, "rle"), rf, task, (uint32_t)label, (uint32_t)i,
                             m, e)))
            break;
    }
    free(first);
    if (!rc && m->n > 1) {
        qsort(m->runs, m->n, sizeof *m->runs, by_start);
        for (size_t k = 1; k < m->n && !rc; k++) {
            const run *a = &m->runs[k - 1], *b = &m->runs[k];
            if (b->start >= a->end) continue;
            uint32_t later = a->mask > b->mask ? a->mask : b->mask;
            uint32_t other = a->mask > b->mask ? b->mask : a->mask;
            char at[256], cf[256], q[96];
            lp_path_index(at, sizeof at, field, later);
            const char *name =
                json_string_value(json_object_get(json_array_get(list, other), "label"));
            rc = lp_verr_set(e, lp_path_key(cf, sizeof cf, at, "rle.counts"),
                             "overlaps %s[%u] (%s) at pixel x=%u, y=%u; a pixel has at most one "
                             "label",
                             field, other, lp_quote(q, sizeof q, name), b->start / m->height,
                             b->start % m->height);
        }
    }
    if (rc) masks_fini(m);
    return rc;
}

/* Checks a response {masks: [...]} (possibly empty). */
static int validate_response(const json_t *params, const json_t *task, const json_t *response,
                             const char *path, lp_verr *e)
{
    masks m;
    int rc = read_masks(params, task, response, path, &m, e);
    masks_fini(&m);
    return rc;
}

/* The mean per-label IoU of a and b, each nlabels labels (see the file's
 * comment); 0 when both have layers of different sizes. */
static double mean_iou(const masks *a, const masks *b, size_t nlabels)
{
    if (a->height && b->height && (a->height != b->height || a->width != b->width)) return 0;
    uint64_t *area = lp_calloc(3 * (nlabels + 1), sizeof *area);
    uint64_t *area_b = area + nlabels + 1, *inter = area_b + nlabels + 1;
    for (size_t i = 0; i < a->n; i++) area[a->runs[i].label] += a->runs[i].end - a->runs[i].start;
    for (size_t j = 0; j < b->n; j++) area_b[b->runs[j].label] += b->runs[j].end - b->runs[j].start;
    for (size_t i = 0, j = 0; i < a->n && j < b->n;) {
        const run *x = &a->runs[i], *y = &b->runs[j];
        uint32_t lo = x->start > y->start ? x->start : y->start;
        uint32_t hi = x->end < y->end ? x->end : y->end;
        if (hi > lo && x->label == y->label) inter[x->label] += hi - lo;
        if (x->end < y->end)
            i++;
        else
            j++;
    }
    double sum = 0;
    size_t present = 0;
    for (size_t l = 0; l < nlabels; l++) {
        uint64_t uni = area[l] + area_b[l] - inter[l];
        if (!uni) continue;
        sum += (double)inter[l] / (double)uni;
        present++;
    }
    free(area);
    return present ? sum / (double)present : 1;
}

static double score(const json_t *params, const json_t *task, const json_t *response,
                    const json_t *reference)
{
    masks a, b;
    lp_verr e;
    read_masks(params, task, response, "response", &a, &e); /* empty when invalid */
    read_masks(params, task, reference, "reference", &b, &e);
    double s = mean_iou(&a, &b, json_array_size(json_object_get(params, "labels")));
    masks_fini(&b);
    masks_fini(&a);
    return s;
}

/* One label's runs as COCO counts being built: alternating 0s and 1s. */
typedef struct layer_out {
    uint32_t *counts;
    size_t n, cap;
    uint32_t end; /* where its last run of 1s ends */
} layer_out;

static void push_count(layer_out *o, uint32_t c)
{
    if (o->n == o->cap) o->counts = lp_realloc(o->counts, (o->cap = o->cap ? 2 * o->cap : 16) * 4);
    o->counts[o->n++] = c;
}

/* Gives the pixels [lo, hi) to layer o (after any it holds). */
static void layer_add(layer_out *o, uint32_t lo, uint32_t hi)
{
    if (o->n && o->end == lo) {
        o->counts[o->n - 1] += hi - lo;
    } else {
        push_count(o, lo - o->end);
        push_count(o, hi - lo);
    }
    o->end = hi;
}

static double weight_of(const double *weights, size_t i)
{
    return weights ? weights[i] : 1;
}

static int aggregate(const json_t *params, const json_t *task, const json_t *const *responses,
                     const double *weights, size_t n, json_t **out, double *confidence)
{
    const json_t *labels = json_object_get(params, "labels");
    size_t nl = json_array_size(labels), bg = nl;
    masks *in = lp_calloc(n ? n : 1, sizeof *in);
    size_t *cur = lp_calloc(n ? n : 1, sizeof *cur);
    double *vote = lp_calloc(nl + 1, sizeof *vote);
    size_t *touched = lp_malloc((n + 1) * sizeof *touched);
    layer_out *lo = lp_calloc(nl ? nl : 1, sizeof *lo);
    masks result = {0};
    uint32_t h = 0, w = 0;
    lp_verr e;
    for (size_t i = 0; i < n; i++) {
        read_masks(params, task, responses[i], "response", &in[i], &e);
        if (!h && in[i].height) h = in[i].height, w = in[i].width;
    }
    /* Responses of another size than the first with layers cover another
     * image (possible only when the task gives no size): left out. */
    uint64_t total = (uint64_t)h * w;
    for (uint64_t pos = 0; pos < total;) {
        uint64_t next = total;
        size_t nt = 0;
        vote[bg] = 0;
        touched[nt++] = bg;
        for (size_t i = 0; i < n; i++) {
            masks *m = &in[i];
            if (m->height && (m->height != h || m->width != w)) continue;
            while (cur[i] < m->n && m->runs[cur[i]].end <= pos) cur[i]++;
            size_t label = bg;
            if (cur[i] < m->n && m->runs[cur[i]].start <= pos) {
                label = m->runs[cur[i]].label;
                if (m->runs[cur[i]].end < next) next = m->runs[cur[i]].end;
            } else if (cur[i] < m->n && m->runs[cur[i]].start < next) {
                next = m->runs[cur[i]].start;
            }
            if (label != bg && vote[label] == 0) touched[nt++] = label;
            vote[label] += weight_of(weights, i);
        }
        size_t win = bg;
        for (size_t k = 1; k < nt; k++) {
            size_t l = touched[k];
            if (vote[l] > vote[win] || (vote[l] == vote[win] && win != bg && l < win)) win = l;
        }
        if (win != bg) {
            layer_add(&lo[win], (uint32_t)pos, (uint32_t)next);
            if (result.n && result.runs[result.n - 1].end == pos &&
                result.runs[result.n - 1].label == win)
                result.runs[result.n - 1].end = (uint32_t)next;
            else
                push_run(&result, (run){(uint32_t)pos, (uint32_t)next, (uint32_t)win, 0});
        }
        for (size_t k = 0; k < nt; k++) vote[touched[k]] = 0;
        pos = next;
    }
    json_t *list = json_array();
    for (size_t l = 0; l < nl; l++) {
        if (!lo[l].n) continue;
        if (total > lo[l].end) push_count(&lo[l], (uint32_t)(total - lo[l].end));
        lp_rle r = {.height = h, .width = w, .counts = lo[l].counts, .n = lo[l].n};
        char *counts = lp_rle_encode_string(&r);
        json_array_append_new(list,
                              json_pack("{s:O, s:{s:[I, I], s:s}}", "label",
                                        json_object_get(json_array_get(labels, l), "name"), "rle",
                                        "size", (json_int_t)h, (json_int_t)w, "counts", counts));
        free(counts);
    }
    result.height = h, result.width = w;
    double sum = 0, wsum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += weight_of(weights, i) * mean_iou(&in[i], &result, nl);
        wsum += weight_of(weights, i);
    }
    *confidence = wsum > 0 ? sum / wsum : 0;
    *out = json_pack("{s:o}", "masks", list);
    masks_fini(&result);
    for (size_t l = 0; l < nl; l++) free(lo[l].counts);
    free(lo);
    free(touched);
    free(vote);
    free(cur);
    for (size_t i = 0; i < n; i++) masks_fini(&in[i]);
    free(in);
    return 0;
}

const lp_kind lp_kind_segmentation = {
    .version = 1,
    .name = "segmentation",
    .summary = "Paint pixel masks, one layer per label, over an image.",
    .validate_params = validate_params,
    .validate_task = validate_task,
    .validate_response = validate_response,
    .score = score,
    .aggregate = aggregate,
};
