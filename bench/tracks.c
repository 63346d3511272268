/* tracks.c -- speed of the videoannotation kind on a long video: 3
 * workers' 50 box tracks each over 9,000 frames (5 minutes at 30 fps), a
 * keyframe every 300 frames, the workers 2 px apart.  Prints the time of
 * scoring one worker against another and of consolidating the three,
 * next to the reference measured in the same run: IoU over time by its
 * definition, frame by frame with a binary search per track and frame,
 * over the same pairs of tracks the score compares.  Each is the median
 * of RUNS runs; the output is the markdown that bench/run puts into
 * BENCHMARKS.md.  Pure C: links the kind's modules alone.  Usage:
 * build/tracks [TRACKS [FRAMES]]. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kind.h"
#include "track.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* IoU over time frame by frame: the definition, the reference. */
static double brute_iou(const lp_track *a, const lp_track *b, int64_t frames)
{
    double xa[8], xb[8], sum = 0, either = 0;
    for (int64_t f = 0; f < frames; f++) {
        size_t na, nb;
        int pa = lp_track_at(a, f, xa, &na), pb = lp_track_at(b, f, xb, &nb);
        if (pa || pb) either++;
        if (pa && pb) sum += lp_track_shape_similarity(a->shape, xa, na, xb, nb);
    }
    return either ? sum / either : 0;
}

#define RUNS 3

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The median of the RUNS times in ms. */
static double median(double *ms)
{
    qsort(ms, RUNS, sizeof *ms, cmp_double);
    return ms[RUNS / 2];
}

int main(int argc, char **argv)
{
    int ntracks = argc > 1 ? atoi(argv[1]) : 50, frames = argc > 2 ? atoi(argv[2]) : 9000;
    const lp_kind *k = &lp_kind_videoannotation;
    lp_verr e;
    json_t *params = json_pack("{s:[ss], s:[s]}", "labels", "car", "person", "geometries", "box");
    json_t *task =
        json_pack("{s:[{s:s, s:s}], s:{s:i, s:i, s:i}}", "attachments", "type", "video", "url",
                  "https://x/v.webm", "data", "frames", frames, "width", 1920, "height", 1080);
    if (k->validate_params(params, &e)) return 1;
    json_t *r[3];
    for (int w = 0; w < 3; w++) {
        json_t *tracks = json_array();
        for (int i = 0; i < ntracks; i++) {
            json_t *kf = json_array();
            for (int f = 0; f < frames; f += 300)
                json_array_append_new(kf, json_pack("{s:i, s:f, s:f, s:f, s:f}", "frame", f, "x",
                                                    fmod(37.0 * i + f / 10.0 + 2 * w, 1800), "y",
                                                    (double)((i * 21) % 1000), "width", 60.0,
                                                    "height", 40.0));
            json_array_append_new(tracks,
                                  json_pack("{s:s, s:s, s:o}", "label", i % 2 ? "car" : "person",
                                            "shape", "box", "keyframes", kf));
        }
        r[w] = json_pack("{s:o}", "tracks", tracks);
        if (k->validate_response(params, task, r[w], "response", &e)) {
            fprintf(stderr, "%s: %s\n", e.field, e.message);
            return 1;
        }
    }
    lp_track_json *t = calloc(2 * (size_t)ntracks, sizeof *t);
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < ntracks; i++)
            lp_track_read(&t[w * ntracks + i], json_array_get(json_object_get(r[w], "tracks"), i));
    double ms_score[RUNS], ms_agg[RUNS], ms_ref[RUNS], score = 0, conf = 0, check = 0;
    size_t kept = 0;
    for (int run = 0; run < RUNS; run++) {
        double t0 = now();
        score = k->score(params, task, r[0], r[1]);
        double t1 = now();
        json_t *out = NULL;
        if (k->aggregate(params, task, (const json_t *const *)r, NULL, 3, &out, &conf)) return 1;
        double t2 = now();
        kept = json_array_size(json_object_get(out, "tracks"));
        json_decref(out);
        /* The reference: the same-label pairs of workers 0 and 1, frame by frame. */
        double t3 = now();
        check = 0;
        for (int i = 0; i < ntracks; i++)
            for (int j = 0; j < ntracks; j++)
                if (i % 2 == j % 2) check += brute_iou(&t[i].t, &t[ntracks + j].t, frames);
        double t4 = now();
        ms_score[run] = (t1 - t0) * 1e3;
        ms_agg[run] = (t2 - t1) * 1e3;
        ms_ref[run] = (t4 - t3) * 1e3;
    }
    double s = median(ms_score), a = median(ms_agg), ref = median(ms_ref);
    printf("videoannotation: %d box tracks x %d frames, 3 workers, median of %d runs\n\n", ntracks,
           frames, RUNS);
    printf("| figure | time | reference / time |\n| --- | --- | --- |\n");
    printf("| score one worker against another (score %.4f) | %.1f ms | %.1f |\n", score, s,
           ref / s);
    printf("| consolidate the three (%zu tracks kept, confidence %.3f) | %.1f ms | %.1f |\n", kept,
           conf, a, ref / a);
    printf("| reference: IoU over time frame by frame, same pairs (sum %.2f) | %.1f ms | 1 |\n",
           check, ref);
    for (int i = 0; i < 2 * ntracks; i++) lp_track_json_fini(&t[i]);
    free(t);
    for (int w = 0; w < 3; w++) json_decref(r[w]);
    json_decref(task);
    json_decref(params);
    return 0;
}
