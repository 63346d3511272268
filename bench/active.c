/* active.c -- active learning with the built-in text classifier
 * (src/textclf.c) on the sentence polarity data of the shared reference
 * data, against random ordering.
 *
 *     build/active [DATA_DIR [SEED [RUNS]]]
 *
 * DATA_DIR defaults to $LOUPE_SHARED_DATA, else ../shared/data (run from
 * the checkout's root), else ../../shared/data (run from bench/); it reads
 * text/polarity.csv (id,text,label with label pos or neg).  SEED (default
 * 1) fixes the shuffles; RUNS (default 3) is how many runs of each
 * strategy are averaged for the labels-to-target figure.
 *
 * The simulation: the rows are shuffled and the first 20 % held out as the
 * test set, the other 80 % is the pool, whose gold labels play the
 * annotators.  Run r (0, 1, ...) shuffles with SEED + r, so each run has
 * its own split and every strategy within a run the same one.  A run
 * starts from SEED_SET random labels (the same for every strategy), then
 * in rounds (to 100 labels, then 100 more each round) the strategy picks
 * the next labels from the unlabelled pool: random, or the most uncertain
 * under the current model by least confidence, margin or entropy
 * (lp_uncertainty).  The model learns each new label once
 * (lp_textclf_learn), then replays the whole labelled set for EPOCHS
 * epochs in a random order (the same for every strategy), and its accuracy
 * on the test set is a point of the learning curve.  A run goes on until
 * the pool is exhausted, so its last point is the accuracy with all pool
 * labels.
 *
 * Then, on the first run's split, one model trained from scratch on the
 * whole pool (FULL_EPOCHS passes in random orders): accuracy, expected
 * calibration error (10 equal-width bins of the top probability; Guo et
 * al., ICML 2017), and auto-labelling as SageMaker
 * Ground Truth does it: on the first half of the test set (calibration)
 * the lowest threshold on the top probability whose precision is at least
 * 95 %, then on the other half the share of tasks above it and the
 * precision there.  Then 10-fold cross-validation on all rows, the
 * protocol of the published figures (NB-SVM bigrams 79.4 %, Wang and
 * Manning, ACL 2012).  Last, speed: predictions and learning steps per
 * second on the pool's texts.
 *
 * With two labels, least confidence, margin and entropy are all monotone
 * in the top probability, so they pick the same tasks and their rows are
 * the same; they differ from 3 labels on.
 *
 * Knobs for tuning (environment): ACTIVE_EPOCHS, ACTIVE_FULL_EPOCHS,
 * ACTIVE_RETRAIN=1 (a new model each round), ACTIVE_BATCH (labels picked
 * between two updates, a divisor of 100),
 * ACTIVE_RATE, ACTIVE_L2, ACTIVE_BITS, ACTIVE_NO_CHAR_GRAMS=1,
 * ACTIVE_STRATEGIES (a comma list: random,margin,...; committee, density
 * and oracle run only when named), the variants described at their
 * variables below, ACTIVE_TARGET (the accuracy to reach, 0.75) and
 * ACTIVE_ONLY_CURVES=1 (stop after the curves).  How the defaults
 * were chosen is in BENCHMARKS.md (section 8). */
#include "csvfile.h"
#include "textclf.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEST_SHARE 0.2
#define SEED_SET   20
#define ROUND      100
/* The accuracy to reach (ACTIVE_TARGET, default the 75 %). */
static double TARGET = 0.75;
#define PUBLISHED  0.794 /* NB-SVM bigrams, 10-fold CV */
#define MAX_POINTS 256

/* Replay epochs after each round, and passes of the model trained on the
 * whole pool (chosen by 10-fold cross-validation accuracy). */
static int epochs = 1, full_epochs = 4;
/* ACTIVE_RETRAIN=1: each round trains a new model on the labelled set
 * (full_epochs passes) instead of replaying into the running one. */
static int retrain = 0;
static size_t batch = ROUND; /* ACTIVE_BATCH: labels picked between two updates of the model */
static lp_textclf_opts opts;
/* experimental knobs */
/* Variants of the uncertainty strategies, all tried (BENCHMARKS.md,
 * section 8): ACTIVE_SUBSAMPLE=n scores a random n of the unlabelled pool
 * each batch instead of all of it; ACTIVE_WARMUP=n picks at random until n
 * labels; ACTIVE_SKIP=f passes over the top share f of the ranking (the
 * likeliest label noise); ACTIVE_MIX=f takes that share of each batch at
 * random.  ACTIVE_PSEUDO=t, for every strategy: after each round the model
 * also learns the unlabelled tasks whose top probability is at least t
 * with its own label (weight ACTIVE_PSEUDO_W), as CEAL does (Wang et al.
 * 2016); the labels counted are still only the annotators'. */
static size_t subsample = 0, warmup = 0;
static double mix = 0, skip = 0, pseudo = 0, pseudo_w = 1;
static int committee_k = 5;     /* ACTIVE_K, 2 to 16 */
static double density_beta = 1; /* ACTIVE_BETA */
static double *density;         /* per row of the dataset */

typedef struct {
    char **text;
    size_t *len;
    int *label;
    size_t n;
} dataset;

/* ---- a small seeded generator (splitmix64) ---- */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static void shuffle(size_t *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(rnd() % i), t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int load(const char *dir, dataset *d)
{
    char path[4096], *err = NULL;
    snprintf(path, sizeof path, "%s/text/polarity.csv", dir);
    lp_csv *csv;
    if (lp_csv_open(path, &csv, &err)) {
        fprintf(stderr, "active: %s\n", err ? err : path);
        free(err);
        return -1;
    }
    const char *const *f;
    size_t nf, cap = 0;
    int rc, header = 1;
    *d = (dataset){0};
    while ((rc = lp_csv_next(csv, &f, &nf)) == 1) {
        if (header) {
            header = 0;
            if (nf < 3 || strcmp(f[1], "text") || strcmp(f[2], "label")) {
                fprintf(stderr, "active: %s: expected the header id,text,label\n", path);
                rc = -1;
                break;
            }
            continue;
        }
        int label = nf >= 3 ? (!strcmp(f[2], "pos") ? 1 : !strcmp(f[2], "neg") ? 0 : -1) : -1;
        if (label < 0) {
            fprintf(stderr, "active: %s line %ld: the label is not pos or neg\n", path,
                    lp_csv_line(csv));
            rc = -1;
            break;
        }
        if (d->n == cap) {
            cap = cap ? 2 * cap : 1024;
            d->text = lp_realloc(d->text, cap * sizeof *d->text);
            d->len = lp_realloc(d->len, cap * sizeof *d->len);
            d->label = lp_realloc(d->label, cap * sizeof *d->label);
        }
        d->text[d->n] = lp_strdup(f[1]);
        d->len[d->n] = strlen(f[1]);
        d->label[d->n++] = label;
    }
    if (rc < 0 && rc != -1) fprintf(stderr, "active: %s: %s\n", path, lp_csv_error(csv));
    lp_csv_close(csv);
    return rc == 0 ? 0 : -1;
}

/* The top probability and whether its label is right, for each of idx. */
static double accuracy(const lp_textclf *c, const dataset *d, const size_t *idx, size_t n,
                       double *conf, int *right)
{
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        double p[2];
        size_t k = idx[i];
        lp_textclf_predict(c, d->text[k], d->len[k], p);
        int y = p[1] > p[0];
        ok += y == d->label[k];
        if (conf) conf[i] = p[y];
        if (right) right[i] = y == d->label[k];
    }
    return n ? (double)ok / (double)n : 0;
}

/* Learns idx[0..n) for e epochs, each in a new random order. */
static void train(lp_textclf *c, const dataset *d, size_t *idx, size_t n, int e)
{
    for (int ep = 0; ep < e; ep++) {
        shuffle(idx, n);
        for (size_t i = 0; i < n; i++)
            lp_textclf_learn(c, d->text[idx[i]], d->len[idx[i]], d->label[idx[i]], 1);
    }
}

/* The strategies; the last three, tried and not better than margin (see
 * BENCHMARKS.md, section 8), run only when ACTIVE_STRATEGIES names them. */
enum { S_RANDOM = -1, S_COMMITTEE = -2, S_DENSITY = -3, S_ORACLE = -4 };
static const struct {
    const char *name;
    int method, extra;
} strategies[] = {
    {"random", S_RANDOM, 0},
    {"least_confidence", LP_UNCERTAIN_LEAST_CONFIDENCE, 0},
    {"margin", LP_UNCERTAIN_MARGIN, 0},
    {"entropy", LP_UNCERTAIN_ENTROPY, 0},
    /* query by committee: K models bagged online (each learns an example
     * Poisson(1) times, Oza and Russell 2001), the mean KL divergence of
     * the members from their consensus */
    {"committee", S_COMMITTEE, 1},
    /* information density (Settles and Craven 2008): margin times the mean
     * word-set cosine to 2,000 rows, to the power ACTIVE_BETA */
    {"density", S_DENSITY, 1},
    /* not a strategy: the tasks the model gets most wrong, by the gold label */
    {"oracle", S_ORACLE, 1},
};
#define NSTRAT ((int)(sizeof strategies / sizeof *strategies))

typedef struct {
    size_t labels[MAX_POINTS];
    double acc[MAX_POINTS];
    int n;
} curve;

typedef struct {
    size_t i;
    double u;
} scored;
static int by_uncertainty(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->u != y->u) return x->u < y->u ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

/* A Poisson(1) draw (online bagging, Oza and Russell 2001). */
static int poisson1(void)
{
    double l = exp(-1.0), p = 1;
    int k = 0;
    do {
        k++;
        p *= (double)(rnd() >> 11) / 9007199254740992.0;
    } while (p > l);
    return k - 1;
}

/* One run of a strategy over the pool; the curve into cv. */
static void run(const dataset *d, const size_t *pool, size_t npool, const size_t *test,
                size_t ntest, int method, uint64_t seed, curve *cv)
{
    lp_textclf *c = lp_textclf_new(2, &opts);
    int K = method == S_COMMITTEE ? committee_k : 0;
    lp_textclf **mem = lp_calloc((size_t)(K ? K : 1), sizeof *mem);
    for (int k = 0; k < K; k++) mem[k] = lp_textclf_new(2, &opts);
    /* unl: the unlabelled pool, in a random order (random picks its head);
     * lab: the labelled set. */
    size_t *unl = lp_malloc(npool * sizeof *unl), *lab = lp_malloc(npool * sizeof *lab);
    scored *sc = lp_malloc(npool * sizeof *sc);
    memcpy(unl, pool, npool * sizeof *unl);
    rng_state = seed;
    shuffle(unl, npool);
    size_t nunl = npool, nlab = 0;
    cv->n = 0;
    while (nunl > 0) {
        /* picks come in batches of `batch` (ACTIVE_BATCH, default a round),
         * the model learning after each; accuracy is measured every round */
        size_t want = nlab == 0 ? SEED_SET : batch - nlab % batch;
        if (want > nunl) want = nunl;
        if (nlab > 0 && method != S_RANDOM && nlab >= warmup) {
            /* Score every unlabelled task (or a random subsample); the most
             * uncertain go first. */
            size_t ns = nunl;
            if (subsample && subsample < nunl) {
                /* a random subsample to the front */
                for (size_t i = 0; i < subsample; i++) {
                    size_t j = i + (size_t)(rnd() % (nunl - i)), t = unl[i];
                    unl[i] = unl[j];
                    unl[j] = t;
                }
                ns = subsample;
            }
            for (size_t i = 0; i < ns; i++) {
                double p[2];
                size_t k = unl[i];
                double u;
                if (method == S_COMMITTEE) {
                    double q[16][2], m0 = 0;
                    for (int j = 0; j < K; j++) {
                        lp_textclf_predict(mem[j], d->text[k], d->len[k], q[j]);
                        m0 += q[j][0] / K;
                    }
                    double m1 = 1 - m0;
                    u = 0;
                    for (int j = 0; j < K; j++) {
                        if (q[j][0] > 0) u += q[j][0] * log(q[j][0] / m0);
                        if (q[j][1] > 0) u += q[j][1] * log(q[j][1] / m1);
                    }
                } else {
                    lp_textclf_predict(c, d->text[k], d->len[k], p);
                    if (method == S_ORACLE)
                        u = 1 - p[d->label[k]];
                    else if (method == S_DENSITY)
                        u = lp_uncertainty(p, 2, LP_UNCERTAIN_MARGIN) *
                            pow(density[k], density_beta);
                    else
                        u = lp_uncertainty(p, 2, method);
                }
                sc[i] = (scored){k, u};
            }
            qsort(sc, ns, sizeof *sc, by_uncertainty);
            for (size_t i = 0; i < ns; i++) unl[i] = sc[i].i;
            /* skip: the top share of the ranking goes after the next want */
            size_t sk = (size_t)(skip * (double)ns);
            if (sk && sk + want <= ns) {
                for (size_t i = 0; i < want; i++) {
                    size_t t = unl[i];
                    unl[i] = unl[sk + i];
                    unl[sk + i] = t;
                }
            }
            /* mix: that share of the picks random among the rest */
            size_t nr = (size_t)(mix * (double)want + 0.5);
            for (size_t i = want - nr; i < want && nunl > want; i++) {
                size_t j = want + (size_t)(rnd() % (nunl - want)), t = unl[i];
                unl[i] = unl[j];
                unl[j] = t;
            }
        }
        for (size_t i = 0; i < want; i++) {
            size_t k = unl[i];
            lp_textclf_learn(c, d->text[k], d->len[k], d->label[k], 1);
            for (int j = 0; j < K; j++) {
                int w = poisson1();
                if (w) lp_textclf_learn(mem[j], d->text[k], d->len[k], d->label[k], w);
            }
            lab[nlab++] = k;
        }
        memmove(unl, unl + want, (nunl - want) * sizeof *unl);
        nunl -= want;
        if (retrain) { /* a fresh model on the labelled set, each round */
            lp_textclf_free(c);
            c = lp_textclf_new(2, &opts);
            train(c, d, lab, nlab, full_epochs);
        } else {
            train(c, d, lab, nlab, epochs);
        }
        if (pseudo > 0 && nunl > 0) {
            /* CEAL-style: the unlabelled tasks the model is sure of are
             * learned with its own label, in random order */
            size_t np = 0;
            for (size_t i = 0; i < nunl; i++) {
                double p[2];
                lp_textclf_predict(c, d->text[unl[i]], d->len[unl[i]], p);
                double top = p[1] > p[0] ? p[1] : p[0];
                if (top >= pseudo) sc[np++] = (scored){unl[i], p[1] > p[0]};
            }
            for (size_t i = np; i > 1; i--) {
                size_t j = (size_t)(rnd() % i);
                scored t = sc[i - 1];
                sc[i - 1] = sc[j];
                sc[j] = t;
            }
            for (size_t i = 0; i < np; i++)
                lp_textclf_learn(c, d->text[sc[i].i], d->len[sc[i].i], (int)sc[i].u, pseudo_w);
        }
        for (int j = 0; j < K; j++) {
            for (int ep = 0; ep < epochs; ep++) {
                shuffle(lab, nlab);
                for (size_t i = 0; i < nlab; i++) {
                    int w = poisson1();
                    if (w)
                        lp_textclf_learn(mem[j], d->text[lab[i]], d->len[lab[i]],
                                         d->label[lab[i]], w);
                }
            }
        }
        if (nlab % ROUND != 0 && nlab != SEED_SET && nunl > 0) continue;
        if (cv->n < MAX_POINTS) {
            cv->labels[cv->n] = nlab;
            cv->acc[cv->n++] = accuracy(c, d, test, ntest, NULL, NULL);
        }
    }
    free(sc);
    free(lab);
    free(unl);
    for (int j = 0; j < K; j++) lp_textclf_free(mem[j]);
    free(mem);
    lp_textclf_free(c);
}

/* Word-set cosine density: the mean cosine of each row to a sample of rows. */
static void word_set(const char *t, size_t n, uint32_t *out, size_t *m)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < 256;) {
        while (i < n && !((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z'))) i++;
        uint32_t h = 2166136261u;
        size_t st = i;
        while (i < n && ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z'))) {
            h = (h ^ (unsigned char)(t[i] | 0x20)) * 16777619u;
            i++;
        }
        if (i > st + 2) out[k++] = h; /* words of 3+ letters */
    }
    /* sort and dedupe */
    for (size_t a = 1; a < k; a++) {
        uint32_t x = out[a];
        size_t b = a;
        while (b > 0 && out[b - 1] > x) {
            out[b] = out[b - 1];
            b--;
        }
        out[b] = x;
    }
    size_t u = 0;
    for (size_t a = 0; a < k; a++)
        if (!u || out[u - 1] != out[a]) out[u++] = out[a];
    *m = u;
}

static void compute_density(const dataset *d)
{
    uint32_t(*ws)[256] = lp_malloc(d->n * sizeof *ws);
    size_t *wn = lp_malloc(d->n * sizeof *wn);
    for (size_t i = 0; i < d->n; i++) word_set(d->text[i], d->len[i], ws[i], &wn[i]);
    density = lp_malloc(d->n * sizeof *density);
    size_t S = 2000;
    for (size_t i = 0; i < d->n; i++) {
        double sum = 0;
        for (size_t s = 0; s < S; s++) {
            size_t j = (s * 7919) % d->n;
            size_t a = 0, b = 0, both = 0;
            while (a < wn[i] && b < wn[j]) {
                if (ws[i][a] == ws[j][b]) both++, a++, b++;
                else if (ws[i][a] < ws[j][b]) a++;
                else b++;
            }
            if (wn[i] && wn[j]) sum += both / sqrt((double)wn[i] * (double)wn[j]);
        }
        density[i] = sum / S;
    }
    free(ws);
    free(wn);
}

/* The labels at the first point reaching TARGET; 0: never. */
static size_t to_target(const curve *cv)
{
    for (int i = 0; i < cv->n; i++)
        if (cv->acc[i] >= TARGET) return cv->labels[i];
    return 0;
}

static int cmp_conf_desc(const void *a, const void *b)
{
    double x = ((const double *)a)[0], y = ((const double *)b)[0];
    return (x < y) - (x > y);
}

/* Calibration and auto-labelling of model c on the test set. */
static void calibration(const lp_textclf *c, const dataset *d, const size_t *test, size_t ntest)
{
    double *conf = lp_malloc(ntest * sizeof *conf);
    int *right = lp_malloc(ntest * sizeof *right);
    double acc = accuracy(c, d, test, ntest, conf, right);
    /* ECE over 10 equal-width bins of the top probability. */
    double bconf[10] = {0}, bright[10] = {0}, bn[10] = {0}, ece = 0;
    for (size_t i = 0; i < ntest; i++) {
        int b = (int)(conf[i] * 10);
        if (b > 9) b = 9;
        bconf[b] += conf[i];
        bright[b] += right[i];
        bn[b]++;
    }
    printf("Calibration of the model trained on the whole pool (test set, %zu tasks, accuracy "
           "%.4f):\n\n| top probability | tasks | mean top probability | accuracy |\n"
           "|---|---|---|---|\n",
           ntest, acc);
    for (int b = 0; b < 10; b++) {
        if (!bn[b]) continue;
        ece += bn[b] / (double)ntest * fabs(bright[b] / bn[b] - bconf[b] / bn[b]);
        printf("| %.1f-%.1f | %.0f | %.3f | %.3f |\n", b / 10.0, (b + 1) / 10.0, bn[b],
               bconf[b] / bn[b], bright[b] / bn[b]);
    }
    printf("\nExpected calibration error (10 bins): **%.4f**\n\n", ece);

    /* Auto-labelling: the threshold from the first half, judged on the second. */
    size_t half = ntest / 2;
    double(*cr)[2] = lp_malloc(half * sizeof *cr);
    for (size_t i = 0; i < half; i++) {
        cr[i][0] = conf[i];
        cr[i][1] = right[i];
    }
    qsort(cr, half, sizeof *cr, cmp_conf_desc);
    /* Going down the sorted confidences, the set above a threshold grows;
     * keep the lowest threshold (the largest set) with precision >= 95 %,
     * cutting only between distinct confidences. */
    double thr = 2, ok = 0;
    for (size_t i = 0; i < half; i++) {
        ok += cr[i][1];
        if (i + 1 < half && cr[i + 1][0] == cr[i][0]) continue;
        if (ok / (double)(i + 1) >= 0.95) thr = cr[i][0];
    }
    size_t above = 0, above_ok = 0, cal_above = 0;
    for (size_t i = 0; i < half; i++) cal_above += conf[i] >= thr;
    for (size_t i = half; i < ntest; i++) {
        if (conf[i] >= thr) {
            above++;
            above_ok += (size_t)right[i];
        }
    }
    size_t nev = ntest - half;
    printf("Auto-labelling at 95 %% precision: threshold %.4f on the top probability, chosen on "
           "a calibration half of the test set (%zu tasks, %zu above it); on the other half "
           "(%zu tasks): **%.1f %%** of the tasks above it (%zu), precision there **%.1f %%**.\n\n",
           thr, half, cal_above, nev, 100.0 * (double)above / (double)nev, above,
           above ? 100.0 * (double)above_ok / (double)above : 0.0);
    free(cr);
    free(right);
    free(conf);
}

static int enabled(const char *name)
{
    const char *list = getenv("ACTIVE_STRATEGIES");
    if (!list) {
        for (int s = 0; s < NSTRAT; s++)
            if (!strcmp(strategies[s].name, name)) return !strategies[s].extra;
        return 0;
    }
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 && argv[1][0] ? argv[1] : getenv("LOUPE_SHARED_DATA");
    if (!dir) {
        FILE *probe = fopen("../shared/data/text/polarity.csv", "r");
        dir = probe ? "../shared/data" : "../../shared/data";
        if (probe) fclose(probe);
    }
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    if (runs < 1) runs = 1;
    if (getenv("ACTIVE_EPOCHS")) epochs = atoi(getenv("ACTIVE_EPOCHS"));
    if (getenv("ACTIVE_FULL_EPOCHS")) full_epochs = atoi(getenv("ACTIVE_FULL_EPOCHS"));
    if (getenv("ACTIVE_RATE")) opts.rate = atof(getenv("ACTIVE_RATE"));
    if (getenv("ACTIVE_L2")) opts.l2 = atof(getenv("ACTIVE_L2"));
    if (getenv("ACTIVE_BITS")) opts.bits = atoi(getenv("ACTIVE_BITS"));
    if (getenv("ACTIVE_NO_CHAR_GRAMS")) opts.no_char_grams = 1;
    if (getenv("ACTIVE_RETRAIN")) retrain = atoi(getenv("ACTIVE_RETRAIN"));
    if (getenv("ACTIVE_BATCH") && atoi(getenv("ACTIVE_BATCH")) > 0 &&
        ROUND % atoi(getenv("ACTIVE_BATCH")) == 0)
        batch = (size_t)atoi(getenv("ACTIVE_BATCH"));

    if (getenv("ACTIVE_SUBSAMPLE")) subsample = (size_t)atoi(getenv("ACTIVE_SUBSAMPLE"));
    if (getenv("ACTIVE_WARMUP")) warmup = (size_t)atoi(getenv("ACTIVE_WARMUP"));
    if (getenv("ACTIVE_TARGET")) TARGET = atof(getenv("ACTIVE_TARGET"));
    if (getenv("ACTIVE_PSEUDO")) pseudo = atof(getenv("ACTIVE_PSEUDO"));
    if (getenv("ACTIVE_PSEUDO_W")) pseudo_w = atof(getenv("ACTIVE_PSEUDO_W"));
    if (getenv("ACTIVE_MIX")) mix = atof(getenv("ACTIVE_MIX"));
    if (getenv("ACTIVE_SKIP")) skip = atof(getenv("ACTIVE_SKIP"));
    if (getenv("ACTIVE_K")) committee_k = atoi(getenv("ACTIVE_K"));
    if (committee_k < 2 || committee_k > 16) committee_k = 5;
    if (getenv("ACTIVE_BETA")) density_beta = atof(getenv("ACTIVE_BETA"));

    dataset d;
    if (load(dir, &d)) return 1;
    if (enabled("density")) compute_density(&d);
    size_t *perm = lp_malloc(d.n * sizeof *perm);
    for (size_t i = 0; i < d.n; i++) perm[i] = i;
    rng_state = seed;
    shuffle(perm, d.n);
    size_t ntest = (size_t)(d.n * TEST_SHARE), npool = d.n - ntest;
    size_t *test = perm, *pool = perm + ntest;

    char clf[160] = "the defaults of src/textclf.c";
    if (opts.bits || opts.rate > 0 || opts.l2 > 0 || opts.no_char_grams)
        snprintf(clf, sizeof clf, "bits %d, rate %g, l2 %g%s (0: the default)", opts.bits,
                 opts.rate, opts.l2, opts.no_char_grams ? ", no character n-grams" : "");
    printf("Active learning on %s/text/polarity.csv (%zu sentences): seed %llu, test set %zu "
           "(held out), pool %zu; %d seed labels, rounds to %d labels then of %d, each new label "
           "learned once then the labelled set replayed for %d epoch%s in random order; %d runs "
           "per strategy (run r: seed %llu + r).  Classifier: %s.\n\n",
           dir, d.n, (unsigned long long)seed, ntest, npool, SEED_SET, ROUND, ROUND, epochs,
           epochs == 1 ? "" : "s", runs, (unsigned long long)seed, clf);

    curve *cv = lp_calloc((size_t)NSTRAT * (size_t)runs, sizeof *cv);
    size_t *rperm = lp_malloc(d.n * sizeof *rperm);
    double t0 = now_s();
    for (int r = 0; r < runs; r++) {
        /* Run r splits with seed + r (run 0: the split above), the same
         * split for every strategy. */
        for (size_t i = 0; i < d.n; i++) rperm[i] = i;
        rng_state = seed + (uint64_t)r;
        shuffle(rperm, d.n);
        for (int s = 0; s < NSTRAT; s++)
            if (enabled(strategies[s].name))
                run(&d, rperm + ntest, npool, rperm, ntest, strategies[s].method,
                    seed + (uint64_t)r, &cv[s * runs + r]);
    }
    free(rperm);
    double t_runs = now_s() - t0;

    /* Labels to the target, per run and the mean, against random. */
    double mean_random = 0;
    printf("| strategy | labels to reach %.0f %% accuracy (runs) | mean | vs random | accuracy "
           "at 500 / 1000 / 2000 / 4000 labels (mean) | all %zu pool labels (mean) |\n"
           "|---|---|---|---|---|---|\n",
           100 * TARGET, npool);
    for (int s = 0; s < NSTRAT; s++) {
        if (!enabled(strategies[s].name)) continue;
        char per[256] = "";
        double sum = 0, last = 0;
        int reached = 0;
        for (int r = 0; r < runs; r++) {
            size_t k = to_target(&cv[s * runs + r]);
            size_t o = strlen(per);
            snprintf(per + o, sizeof per - o, "%s%s", r ? ", " : "", k ? "" : "never");
            if (k) {
                o = strlen(per);
                snprintf(per + o, sizeof per - o, "%zu", k);
                sum += (double)k;
                reached++;
            }
            last += cv[s * runs + r].acc[cv[s * runs + r].n - 1];
        }
        double mean = reached == runs ? sum / runs : NAN;
        if (strategies[s].method == S_RANDOM) mean_random = mean;
        double at[4] = {0};
        const size_t marks[4] = {500, 1000, 2000, 4000};
        for (int r = 0; r < runs; r++) {
            const curve *cr = &cv[s * runs + r];
            for (int i = 0; i < cr->n; i++)
                for (int m = 0; m < 4; m++)
                    if (cr->labels[i] == marks[m]) at[m] += cr->acc[i] / runs;
        }
        char vs[32] = "-";
        if (mean_random > 0 && mean == mean && strategies[s].method != S_RANDOM)
            snprintf(vs, sizeof vs, "%.2f x", mean / mean_random);
        else if (strategies[s].method == S_RANDOM)
            snprintf(vs, sizeof vs, "reference");
        printf("| %s | %s | %s%.0f%s | %s | %.4f / %.4f / %.4f / %.4f | %.4f |\n",
               strategies[s].name, per, mean == mean ? "**" : "", mean == mean ? mean : 0,
               mean == mean ? "**" : " (not all reached)", vs, at[0], at[1], at[2], at[3],
               last / runs);
    }
    printf("\nLearning curves of run 1 (accuracy on the test set after 20, 100, 200, ... labels):"
           "\n\n");
    for (int s = 0; s < NSTRAT; s++) {
        if (!enabled(strategies[s].name)) continue;
        const curve *c0 = &cv[s * runs];
        printf("- %s:", strategies[s].name);
        for (int i = 0; i < c0->n; i++) printf(" %.3f", c0->acc[i]);
        printf("\n");
    }
    printf("\n(%.1f s for the runs.)\n\n", t_runs);
    if (getenv("ACTIVE_ONLY_CURVES")) return 0;

    /* The plain supervised model on the whole pool. */
    rng_state = seed;
    lp_textclf *c = lp_textclf_new(2, &opts);
    size_t *idx = lp_malloc(d.n * sizeof *idx);
    memcpy(idx, pool, npool * sizeof *idx);
    train(c, &d, idx, npool, full_epochs);
    printf("All %zu pool labels, a model trained from scratch (%d epochs): test accuracy "
           "**%.4f** (published, 10-fold CV: NB-SVM bigrams %.3f; a linear model on word "
           "n-grams: high 70s).\n\n",
           npool, full_epochs, accuracy(c, &d, test, ntest, NULL, NULL), PUBLISHED);
    calibration(c, &d, test, ntest);
    lp_textclf_free(c);

    /* 10-fold cross-validation over every row, the published protocol. */
    double cvsum = 0;
    for (int fold = 0; fold < 10; fold++) {
        size_t ntr = 0, nte = 0;
        size_t *te = lp_malloc(d.n * sizeof *te);
        for (size_t i = 0; i < d.n; i++) {
            if ((int)(i % 10) == fold)
                te[nte++] = perm[i];
            else
                idx[ntr++] = perm[i];
        }
        c = lp_textclf_new(2, &opts);
        train(c, &d, idx, ntr, full_epochs);
        cvsum += accuracy(c, &d, te, nte, NULL, NULL);
        lp_textclf_free(c);
        free(te);
    }
    printf("10-fold cross-validation over all %zu sentences: mean accuracy **%.4f** (published: "
           "NB-SVM bigrams %.3f).\n\n",
           d.n, cvsum / 10, PUBLISHED);

    /* Speed: one epoch of learning on the pool, then predicting it. */
    c = lp_textclf_new(2, &opts);
    memcpy(idx, pool, npool * sizeof *idx);
    double t = now_s();
    train(c, &d, idx, npool, 1);
    double t_learn = now_s() - t;
    t = now_s();
    int reps = 3;
    for (int k = 0; k < reps; k++) accuracy(c, &d, pool, npool, NULL, NULL);
    double t_pred = now_s() - t;
    size_t bytes = 0;
    for (size_t i = 0; i < npool; i++) bytes += d.len[pool[i]];
    printf("Speed (one thread, sentences of %.0f bytes on average): **%.0f** predictions/s, "
           "**%.0f** learning steps/s.\n",
           (double)bytes / (double)npool, (double)(reps * npool) / t_pred, (double)npool / t_learn);
    lp_textclf_free(c);

    free(idx);
    free(cv);
    free(perm);
    for (size_t i = 0; i < d.n; i++) free(d.text[i]);
    free(d.text);
    free(d.len);
    free(d.label);
    return 0;
}
