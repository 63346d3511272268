/* rle.c -- speed of COCO run-length encoding (src/rle.c) and of the
 * segmentation kind's consolidation (src/kind_segmentation.c) on a
 * realistic 1920x1080 mask.
 *
 *     build/rle [REPEATS]
 *
 * The mask: three labels painted as a street scene might be -- a road
 * (the lower third, its top edge a gentle wave), two cars (rounded
 * rectangles) and a person (an ellipse), plus a few hundred one-pixel
 * specks of noise, the kind of stray brush marks real masks carry.  Each
 * figure is the median of REPEATS runs (default 21), printed next to
 * references measured in the same run on the same bytes:
 *   - memchr over the mask's 2 MB (a byte it does not hold): the speed of
 *     reading memory at all;
 *   - a sum of the bytes in column-major order (the order COCO runs go),
 *     the floor of any encoder that walks the mask as COCO counts it.
 * MB/s counts the mask's bytes (one a pixel); masks/s is 1 / time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kind.h"
#include "rle.h"

enum { W = 1920, H = 1080 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_double);
    return v[n / 2];
}

/* The street scene as a label map (0 background, 1 road, 2 car, 3 person). */
static unsigned char *scene(int shift)
{
    unsigned char *m = calloc((size_t)W * H, 1);
    uint32_t seed = 12345;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int top = 700 + (int)(20.0 * ((x % 400) < 200 ? (x % 200) : 200 - (x % 200)) / 200);
            unsigned char v = y >= top ? 1 : 0;
            int cx[2] = {500 + shift, 1300 + shift};
            for (int k = 0; k < 2; k++) {
                int dx = x < cx[k] - 180 ? cx[k] - 180 - x : x > cx[k] + 180 ? x - cx[k] - 180 : 0;
                int dy = y < 560 ? 560 - y : y > 760 ? y - 760 : 0;
                if (dx * dx + dy * dy < 40 * 40) v = 2;
            }
            double ex = (x - 950.0 - shift) / 60, ey = (y - 450.0) / 170;
            if (ex * ex + ey * ey < 1) v = 3;
            m[(size_t)y * W + x] = v;
        }
    for (int i = 0; i < 300; i++) {
        seed = seed * 1664525u + 1013904223u;
        m[seed % ((uint32_t)W * H)] = (unsigned char)(1 + (seed >> 24) % 3);
    }
    return m;
}

/* A segmentation response of label map m (labels a, b, c). */
static json_t *response_of(const unsigned char *m)
{
    static const char *const names[] = {"road", "car", "person"};
    lp_rle out[3];
    lp_rle_from_labels(m, W, H, 3, out);
    json_t *masks = json_array();
    for (int l = 0; l < 3; l++) {
        char *s = lp_rle_encode_string(&out[l]);
        json_array_append_new(masks, json_pack("{s:s, s:{s:[i, i], s:s}}", "label", names[l], "rle",
                                               "size", H, W, "counts", s));
        free(s);
        lp_rle_fini(&out[l]);
    }
    return json_pack("{s:o}", "masks", masks);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 21;
    if (reps < 1) reps = 1;
    double *t = calloc((size_t)reps, sizeof *t);
    unsigned char *map = scene(0);
    unsigned char *road = malloc((size_t)W * H);
    for (size_t i = 0; i < (size_t)W * H; i++) road[i] = map[i] == 1;
    double mb = (double)W * H / 1e6;
    volatile size_t sink = 0;

    /* References. */
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        sink += memchr(road, 7, (size_t)W * H) != NULL;
        t[r] = now() - t0;
    }
    double memchr_t = median(t, reps);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        size_t s = 0;
        for (size_t x = 0; x < W; x++)
            for (size_t y = 0; y < H; y++) s += road[y * W + x];
        sink += s;
        t[r] = now() - t0;
    }
    double colsum_t = median(t, reps);

    /* The road's mask to runs, runs to the string, and back. */
    lp_rle runs = {0};
    for (int r = 0; r < reps; r++) {
        lp_rle_fini(&runs);
        double t0 = now();
        lp_rle_from_mask(road, W, H, &runs);
        t[r] = now() - t0;
    }
    double from_mask_t = median(t, reps);
    char *s = NULL;
    for (int r = 0; r < reps; r++) {
        free(s);
        double t0 = now();
        s = lp_rle_encode_string(&runs);
        t[r] = now() - t0;
    }
    double encode_t = median(t, reps);
    for (int r = 0; r < reps; r++) {
        lp_rle back = {.height = H, .width = W};
        double t0 = now();
        lp_rle_decode_string(s, &back);
        unsigned char *m = lp_rle_to_mask(&back);
        t[r] = now() - t0;
        if (memcmp(m, road, (size_t)W * H) != 0) {
            fprintf(stderr, "rle: the mask does not round-trip\n");
            return 1;
        }
        free(m);
        lp_rle_fini(&back);
    }
    double decode_t = median(t, reps);
    lp_rle three[3];
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        lp_rle_from_labels(map, W, H, 3, three);
        t[r] = now() - t0;
        for (int l = 0; l < 3; l++) lp_rle_fini(&three[l]);
    }
    double labels_t = median(t, reps);

    /* Three workers' responses (the scene shifted 0, 8 and 30 pixels)
     * consolidated by the per-pixel vote. */
    unsigned char *m1 = scene(8), *m2 = scene(30);
    json_t *resp[3] = {response_of(map), response_of(m1), response_of(m2)};
    json_t *params = json_pack("{s:[s, s, s]}", "labels", "road", "car", "person");
    lp_verr e;
    lp_kind_segmentation.validate_params(params, &e);
    json_t *task = json_pack("{s:[{s:s, s:s}], s:{s:i, s:i}}", "attachments", "type", "image",
                             "url", "https://x/1.png", "data", "width", W, "height", H);
    double conf = 0;
    for (int r = 0; r < reps; r++) {
        json_t *out = NULL;
        double t0 = now();
        lp_kind_segmentation.aggregate(params, task, (const json_t *const *)resp, NULL, 3, &out,
                                       &conf);
        t[r] = now() - t0;
        json_decref(out);
    }
    double vote_t = median(t, reps);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        double sc = lp_kind_segmentation.score(params, task, resp[0], resp[1]);
        t[r] = now() - t0;
        sink += sc > 0.5;
    }
    double score_t = median(t, reps);

    printf("rle: a %dx%d street mask (road, 2 cars, a person, 300 specks), median of %d runs\n", W,
           H, reps);
    printf("road mask: %zu runs, compressed string %zu bytes\n", runs.n, strlen(s));
    printf("| what | time | MB/s | masks/s |\n|---|---|---|---|\n");
#define ROW(what, tt) \
    printf("| %s | %.3f ms | %.0f | %.0f |\n", what, (tt)*1e3, mb / (tt), 1 / (tt))
    ROW("reference: memchr over the mask (memory read speed)", memchr_t);
    ROW("reference: sum of the bytes in column-major order", colsum_t);
    ROW("lp_rle_from_mask (mask to runs)", from_mask_t);
    ROW("lp_rle_encode_string (runs to the compressed string)", encode_t);
    ROW("mask to runs to string, together", from_mask_t + encode_t);
    ROW("lp_rle_decode_string + lp_rle_to_mask (string to mask)", decode_t);
    ROW("lp_rle_from_labels (3-label map to 3 masks' runs)", labels_t);
    printf("| segmentation vote of 3 responses (read, sweep, encode) | %.3f ms | | %.0f |\n",
           vote_t * 1e3, 1 / vote_t);
    printf("| segmentation score (mean IoU) of 2 responses | %.3f ms | | %.0f |\n", score_t * 1e3,
           1 / score_t);
    printf("vote confidence %.3f\n", conf);
    for (int i = 0; i < 3; i++) json_decref(resp[i]);
    json_decref(params);
    json_decref(task);
    free(s);
    lp_rle_fini(&runs);
    free(m1), free(m2), free(map), free(road), free(t);
    return (int)(sink & 0);
}
