/* quality_boxes.c -- how well lp_agg_shapes consolidates crowd boxes,
 * against expert boxes, next to the average single worker.
 *
 * Data: the boxes/ folder of the shared reference data (Caltech Pedestrians
 * subset of Branson, Van Horn and Perona, "Lean Crowdsourcing", CVPR 2017:
 * 7 workers per image, expert boxes for 938 of 1,448 images).  The data
 * directory is argv[1], else $LOUPE_SHARED_DATA, else ../shared/data.
 *
 * For every image with expert boxes, the workers' boxes are consolidated
 * (n_workers = the workers with a row for the image, including those whose
 * row says they drew nothing) and matched one to one with the expert's:
 * pairs with IoU >= 0.5, taken greedily from the highest IoU.  Precision,
 * recall and F1 are pooled over all images (matches, consolidated boxes and
 * expert boxes summed first), as is the mean IoU of the matched pairs.  The
 * average worker is scored the same way with each worker's own boxes on each
 * image they saw, pooled over all worker-image pairs.  The default options
 * come first, then other quorum and IoU settings.  Prints a markdown table
 * and the time spent in lp_agg_shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg_geom.h"
#include "answers.h"
#include "csvfile.h"
#include "util.h"

#define MATCH_IOU 0.5

/* One row of a boxes CSV: image, worker (interned), and a box unless the
 * worker drew nothing. */
typedef struct row {
    long image;
    uint32_t worker;
    int has_box;
    double xy[4];
} row;

typedef struct table {
    row *rows;
    size_t n, cap;
} table;

/* Worker names to ids, in order of first sight. */
static lp_dict names;

/* Reads dir/boxes/file (image,worker,x_min,y_min,x_max,y_max with a
 * header; empty coordinates: the worker saw the image and drew nothing)
 * into t with the CSV reader of src/csvfile.c.  Returns 0, or -1 after
 * printing why, with the line. */
static int read_boxes(const char *dir, const char *file, table *t)
{
    char path[4096], *err = NULL;
    snprintf(path, sizeof path, "%s/boxes/%s", dir, file);
    lp_csv *c;
    if (lp_csv_open(path, &c, &err) < 0) {
        fprintf(stderr,
                "quality_boxes: %s (give the data directory as the first argument or in "
                "LOUPE_SHARED_DATA)\n",
                err);
        free(err);
        return -1;
    }
    const char *const *f;
    size_t nf;
    int rc, header = 1;
    while ((rc = lp_csv_next(c, &f, &nf)) == 1) {
        if (header) {
            header = 0;
            continue;
        }
        double v[5];
        int has_box = nf == 6 && f[2][0], ok = nf == 6 && lp_parse_number(f[0], &v[4]) == 0;
        for (int i = 0; ok && has_box && i < 4; i++) ok = lp_parse_number(f[2 + i], &v[i]) == 0;
        if (!ok) {
            fprintf(stderr, "quality_boxes: %s line %ld: expected image,worker and 4 numbers\n",
                    path, lp_csv_line(c));
            lp_csv_close(c);
            return -1;
        }
        if (t->n == t->cap)
            t->rows = lp_realloc(t->rows, (t->cap = t->cap ? 2 * t->cap : 1024) * sizeof *t->rows);
        row *r = &t->rows[t->n++];
        r->image = (long)v[4];
        r->worker = lp_dict_add(&names, f[1]);
        r->has_box = has_box;
        for (int i = 0; i < 4; i++) r->xy[i] = has_box ? v[i] : 0;
    }
    if (rc < 0) fprintf(stderr, "quality_boxes: %s %s\n", path, lp_csv_error(c));
    lp_csv_close(c);
    return rc < 0 ? -1 : 0;
}

static int by_image(const void *x, const void *y)
{
    const row *a = x, *b = y;
    if (a->image != b->image) return a->image < b->image ? -1 : 1;
    return (a->worker > b->worker) - (a->worker < b->worker);
}

/* Pooled detection counts. */
typedef struct score {
    size_t tp, pred, gold;
    double iou_sum;
} score;

typedef struct cand {
    double iou;
    size_t a, b;
} cand;

static int by_iou(const void *x, const void *y)
{
    const cand *p = x, *q = y;
    if (p->iou != q->iou) return p->iou < q->iou ? 1 : -1;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

/* Matches boxes pred[np] (4 values each, stride 4) with gold[ng] one to
 * one, greedily by IoU >= MATCH_IOU, and adds the counts to sc. */
static void match(const double *pred, size_t np, const double *gold, size_t ng, score *sc)
{
    cand *c = lp_malloc((np * ng + 1) * sizeof *c);
    char *used = lp_calloc(np + ng + 1, 1);
    size_t nc = 0;
    for (size_t i = 0; i < np; i++)
        for (size_t j = 0; j < ng; j++) {
            double iou = lp_geom_box_iou(pred + 4 * i, gold + 4 * j);
            if (iou >= MATCH_IOU) c[nc++] = (cand){iou, i, j};
        }
    qsort(c, nc, sizeof *c, by_iou);
    for (size_t k = 0; k < nc; k++) {
        if (used[c[k].a] || used[np + c[k].b]) continue;
        used[c[k].a] = used[np + c[k].b] = 1;
        sc->tp++;
        sc->iou_sum += c[k].iou;
    }
    sc->pred += np;
    sc->gold += ng;
    free(used);
    free(c);
}

static void print_row(const char *method, const char *quorum, const char *iou, const score *sc,
                      double ms)
{
    double p = sc->pred ? (double)sc->tp / (double)sc->pred : 0;
    double r = sc->gold ? (double)sc->tp / (double)sc->gold : 0;
    double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
    char time[32] = "";
    if (ms >= 0) snprintf(time, sizeof time, "%.1f", ms);
    printf("| %s | %s | %s | %zu | %zu | %.3f | %.3f | **%.4f** | %.3f | %s |\n", method, quorum,
           iou, sc->pred, sc->tp, p, r, f1, sc->tp ? sc->iou_sum / (double)sc->tp : 0, time);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : getenv("LOUPE_SHARED_DATA");
    table workers = {0}, experts = {0};
    if (!dir) dir = "../shared/data";
    if (read_boxes(dir, "worker_boxes.csv", &workers) ||
        read_boxes(dir, "expert_boxes.csv", &experts))
        return 1;
    qsort(workers.rows, workers.n, sizeof *workers.rows, by_image);
    qsort(experts.rows, experts.n, sizeof *experts.rows, by_image);

    static const struct {
        const char *name;
        lp_geom_opts o;
    } settings[] = {
        {"consolidated (default)", LP_GEOM_OPTS_DEFAULT},
        {"consolidated", {0.25, 0.2, 10}},
        {"consolidated", {0.25, 0.3, 10}},
        {"consolidated", {0.25, 0.6, 10}},
        {"consolidated", {0.1, 0.5, 10}},
        {"consolidated", {0.2, 0.5, 10}},
        {"consolidated", {0.3, 0.5, 10}},
        {"consolidated", {0.4, 0.5, 10}},
        {"consolidated", {0.5, 0.5, 10}},
        {"consolidated", {0.6, 0.5, 10}},
        {"consolidated", {0.5, 0.3, 10}},
    };
    size_t ns = LP_ARRAY_LEN(settings);
    score *sc = lp_calloc(ns, sizeof *sc), single = {0};
    uint64_t *ns_spent = lp_calloc(ns, sizeof *ns_spent);
    size_t images = 0, pairs = 0;
    lp_shape *shapes = lp_malloc(workers.n * sizeof *shapes);
    double *gold = lp_malloc(4 * (experts.n + 1) * sizeof *gold);
    double *mine = lp_malloc(4 * (workers.n + 1) * sizeof *mine);
    double *pred = NULL;
    uint32_t *local = lp_malloc(names.n * sizeof *local);

    size_t wi = 0;
    for (size_t ei = 0, ej; ei < experts.n; ei = ej) {
        long image = experts.rows[ei].image;
        size_t ng = 0;
        for (ej = ei; ej < experts.n && experts.rows[ej].image == image; ej++)
            if (experts.rows[ej].has_box)
                memcpy(gold + 4 * ng++, experts.rows[ej].xy, sizeof(double) * 4);
        while (wi < workers.n && workers.rows[wi].image < image) wi++;
        size_t wj = wi, n = 0, n_workers = 0;
        while (wj < workers.n && workers.rows[wj].image == image) wj++;
        if (wj == wi) continue; /* no worker saw it */
        images++;
        /* Workers of this image, numbered from 0 in the rows' order. */
        for (size_t i = wi; i < wj; i++) {
            const row *r = &workers.rows[i];
            if (i == wi || r->worker != workers.rows[i - 1].worker)
                local[r->worker] = (uint32_t)n_workers++;
            if (r->has_box) shapes[n++] = (lp_shape){local[r->worker], 0, LP_SHAPE_BOX, 2, r->xy};
        }
        for (size_t k = 0; k < ns; k++) {
            lp_geom_out *out;
            size_t n_out;
            uint64_t t0 = lp_mono_ns();
            int rc = lp_agg_shapes(shapes, n, n_workers, NULL, &settings[k].o, &out, &n_out);
            ns_spent[k] += lp_mono_ns() - t0;
            if (rc) {
                fprintf(stderr, "quality_boxes: image %ld: %s\n", image, lp_strerror(rc));
                return 1;
            }
            pred = lp_realloc(pred, (4 * n_out + 1) * sizeof *pred);
            for (size_t i = 0; i < n_out; i++) memcpy(pred + 4 * i, out[i].xy, sizeof(double) * 4);
            match(pred, n_out, gold, ng, &sc[k]);
            lp_geom_out_free(out, n_out);
        }
        /* Each worker alone. */
        for (size_t i = wi, j; i < wj; i = j) {
            size_t nm = 0;
            for (j = i; j < wj && workers.rows[j].worker == workers.rows[i].worker; j++)
                if (workers.rows[j].has_box)
                    memcpy(mine + 4 * nm++, workers.rows[j].xy, sizeof(double) * 4);
            match(mine, nm, gold, ng, &single);
            pairs++;
        }
        wi = wj;
    }

    printf("Boxes: %zu images with expert boxes (%zu expert boxes), %zu worker-image pairs; "
           "matched one to one at IoU >= %.1f, counts pooled over images.\n\n",
           images, sc[0].gold, pairs, MATCH_IOU);
    printf("| method | quorum | cluster IoU | boxes | matched | precision | recall | F1 | mean IoU "
           "| time (ms) |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t k = 0; k < ns; k++) {
        char q[16], iou[16];
        snprintf(q, sizeof q, "%.1f", settings[k].o.quorum);
        snprintf(iou, sizeof iou, "%.2f", settings[k].o.iou);
        print_row(settings[k].name, q, iou, &sc[k], (double)ns_spent[k] / 1e6);
    }
    print_row("average single worker", "-", "-", &single, -1);
    printf("\nTime: lp_agg_shapes over all %zu images, per setting (%.1f us per image for the "
           "default).\n",
           images, images ? (double)ns_spent[0] / 1e3 / (double)images : 0);

    free(local);
    free(pred);
    free(mine);
    free(gold);
    free(shapes);
    free(ns_spent);
    free(sc);
    lp_dict_fini(&names);
    free(experts.rows);
    free(workers.rows);
    return 0;
}
