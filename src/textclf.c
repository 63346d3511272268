/* textclf.c -- the built-in text classifier (see textclf.h).
 *
 * Features.  The text is read byte by byte with ASCII letters lower-cased
 * (other bytes, UTF-8 included, are kept as they are).  A token is a
 * maximal run of word bytes -- ASCII letters and digits, the apostrophe,
 * and every byte >= 0x80, so that "lástima" is one word -- or one ASCII
 * punctuation mark, which stands alone ("!", "?", "--" and "..." say
 * something about a sentence: on the polarity data they were worth 0.2
 * points of accuracy over separating only); blanks and control bytes only
 * separate.  The features are each
 * token, each pair of adjacent tokens, and, for words, the character
 * n-grams of 3 to 5 bytes of "<word>" (the markers make prefixes and
 * suffixes features of their own).  Each is hashed (FNV-1a, then a
 * finalizer so that the low bits are good) into 2^bits buckets, a
 * different basis per kind of feature.  Every distinct bucket counts 1 and
 * the vector is scaled to unit L2 norm (so each is 1/sqrt(k) for k
 * distinct buckets), which makes long and short texts take steps of the
 * same size.  A bias weight per label is always present.  Only the first
 * MAX_BYTES of a text are read, and the first MAX_WORD bytes of a word.
 *
 * Model.  Multinomial logistic regression: score_y = b_y + sum_j x_j w_jy,
 * p = softmax(score), computed after subtracting the largest score so that
 * exp never overflows.  The weights are floats laid out [bucket][label],
 * so that one feature's weights are adjacent.  A step on (x, y, weight c)
 * takes the gradient of c * -log p_y plus (l2 / 2) |w|^2 over the weights
 * the example touches (lazy, the usual approximation for sparse data), and
 * moves each weight by AdaGrad (Duchi, Hazan and Singer, JMLR 2011): its
 * own accumulated squared gradients G, w -= rate * g / sqrt(G + eps).
 * Invariant: w and G are both zero for a bucket no example touched, so an
 * untrained classifier predicts the uniform distribution. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "textclf.h"
#include "util.h"

/* The rate and L2 were chosen on the polarity sentences by 10-fold
 * cross-validation and by bench/active.c's labels to 75 % accuracy (see
 * BENCHMARKS.md, section 8); the results moved little between 0.05 and 0.2
 * and between 1e-4 and 3e-3 (more L2: a little more accuracy, less
 * confident and so worse calibrated probabilities). */
#define DEFAULT_BITS 18
/* Weights (buckets x labels) at most: 2^24 with the default bits (64 MiB
 * of weights and as much of AdaGrad sums; the default bits shrink for more
 * than 64 labels), 2^27 with bits given. */
#define DEFAULT_CELLS_LOG2 24
#define MAX_CELLS_LOG2     27
#define DEFAULT_RATE       0.1
#define DEFAULT_L2         1e-3
#define MAX_BYTES          65536
#define MAX_WORD           64 /* bytes of a word kept (a longer one is cut) */
#define ADA_EPS            1e-8f
/* Features held on the stack before a heap buffer is needed. */
#define LOCAL_FEATURES 2048

#define GRAM_MIN 3 /* character n-grams: 3 to 5 bytes */
#define GRAM_MAX 5

struct lp_textclf {
    int nlabels, bits, char_grams;
    uint32_t mask;
    float rate, l2;
    int64_t seen;
    float *w, *g;   /* [2^bits][nlabels]: weights, AdaGrad sums */
    float *bw, *bg; /* [nlabels]: the bias */
};

lp_textclf *lp_textclf_new(int nlabels, const lp_textclf_opts *opts)
{
    lp_textclf_opts o = opts ? *opts : (lp_textclf_opts){0};
    if (nlabels < 2 || nlabels > 1000) return NULL;
    if (o.bits == 0) {
        o.bits = DEFAULT_BITS;
        while (o.bits > 10 && ((size_t)nlabels << o.bits) > (size_t)1 << DEFAULT_CELLS_LOG2)
            o.bits--;
    }
    if (o.bits < 4 || o.bits > 26 || ((size_t)nlabels << o.bits) > (size_t)1 << MAX_CELLS_LOG2)
        return NULL;
    if (!(o.rate >= 0) || !(o.l2 >= 0)) return NULL; /* also NaN */
    lp_textclf *c = lp_calloc(1, sizeof *c);
    c->nlabels = nlabels;
    c->bits = o.bits;
    c->mask = ((uint32_t)1 << o.bits) - 1;
    c->rate = (float)(o.rate > 0 ? o.rate : DEFAULT_RATE);
    c->l2 = (float)(o.l2 > 0 ? o.l2 : DEFAULT_L2);
    c->char_grams = !o.no_char_grams;
    size_t n = ((size_t)1 << o.bits) * (size_t)nlabels;
    c->w = lp_calloc(n, sizeof *c->w);
    c->g = lp_calloc(n, sizeof *c->g);
    c->bw = lp_calloc((size_t)nlabels, sizeof *c->bw);
    c->bg = lp_calloc((size_t)nlabels, sizeof *c->bg);
    return c;
}

void lp_textclf_free(lp_textclf *c)
{
    if (!c) return;
    free(c->w);
    free(c->g);
    free(c->bw);
    free(c->bg);
    free(c);
}

int64_t lp_textclf_seen(const lp_textclf *c)
{
    return c->seen;
}

/* ---- features ---- */

#define FNV_PRIME 0x100000001b3ULL
/* Bases of the kinds of feature: the FNV-1a offset basis, perturbed. */
#define BASIS_WORD   0xcbf29ce484222325ULL
#define BASIS_BIGRAM 0x84222325cbf29ce4ULL
#define BASIS_GRAM   0x9ce484222325cbf2ULL

/* The murmur3 / splitmix64 finalizer: FNV-1a's low bits are weak. */
static inline uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static inline uint64_t fnv(uint64_t h, const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * FNV_PRIME;
    return h;
}

static inline int is_word_byte(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '\'' || ch >= 0x80;
}

/* ASCII punctuation other than the apostrophe (a word byte). */
static inline int is_punct(unsigned char ch)
{
    return (ch >= '!' && ch <= '/') || (ch >= ':' && ch <= '@') || (ch >= '[' && ch <= '`') ||
           (ch >= '{' && ch <= '~');
}

/* A growable array of bucket numbers, on the stack while it is small. */
typedef struct {
    uint32_t *v;
    size_t n, cap;
    uint32_t local[LOCAL_FEATURES];
} feats;

static void feats_push(feats *f, uint32_t x)
{
    if (f->n == f->cap) {
        size_t cap = f->cap * 2;
        if (f->v == f->local) {
            f->v = lp_malloc(cap * sizeof *f->v);
            memcpy(f->v, f->local, f->n * sizeof *f->v);
        } else {
            f->v = lp_realloc(f->v, cap * sizeof *f->v);
        }
        f->cap = cap;
    }
    f->v[f->n++] = x;
}

/* Drops the repeated buckets of f (keeping the first of each) with an
 * open-addressing set of at least twice as many slots.  EMPTY is no bucket:
 * there are at most 2^26. */
#define EMPTY 0xffffffffu
static void feats_unique(feats *f)
{
    size_t size = 64;
    while (size < 2 * f->n) size *= 2;
    uint32_t local[2 * LOCAL_FEATURES],
        *set = size <= 2 * LOCAL_FEATURES ? local : lp_malloc(size * sizeof *set);
    memset(set, 0xff, size * sizeof *set);
    size_t k = 0;
    for (size_t j = 0; j < f->n; j++) {
        uint32_t x = f->v[j];
        size_t h = (x * 0x9e3779b1u) & (size - 1);
        while (set[h] != EMPTY && set[h] != x) h = (h + 1) & (size - 1);
        if (set[h] == EMPTY) {
            set[h] = x;
            f->v[k++] = x;
        }
    }
    f->n = k;
    if (set != local) free(set);
}

/* Fills f with the distinct buckets of the text's features. */
static void featurize(const lp_textclf *c, const char *text, size_t n, feats *f)
{
    f->v = f->local;
    f->n = 0;
    f->cap = LOCAL_FEATURES;
    if (n > MAX_BYTES) n = MAX_BYTES;
    /* The word being read, between the markers: buf = "<word>". */
    unsigned char buf[MAX_WORD + 2];
    uint64_t prev = 0; /* hash of the previous token; 0: none yet */
    size_t i = 0;
    while (i < n) {
        unsigned char ch = (unsigned char)text[i];
        if (ch >= 'A' && ch <= 'Z') ch = (unsigned char)(ch - 'A' + 'a');
        size_t len;
        if (is_word_byte(ch)) {
            len = 0;
            buf[0] = '<';
            while (i < n) {
                ch = (unsigned char)text[i];
                if (ch >= 'A' && ch <= 'Z') ch = (unsigned char)(ch - 'A' + 'a');
                if (!is_word_byte(ch)) break;
                if (len < MAX_WORD) buf[1 + len++] = ch;
                i++;
            }
            buf[1 + len] = '>';
            if (c->char_grams) {
                size_t m = len + 2;
                for (size_t s = 0; s + GRAM_MIN <= m; s++) {
                    uint64_t h = fnv(BASIS_GRAM, buf + s, GRAM_MIN - 1);
                    for (size_t k = GRAM_MIN; k <= GRAM_MAX && s + k <= m; k++) {
                        h = (h ^ buf[s + k - 1]) * FNV_PRIME;
                        feats_push(f, (uint32_t)mix(h) & c->mask);
                    }
                }
            }
        } else if (is_punct(ch)) {
            buf[1] = ch;
            len = 1;
            i++;
        } else {
            i++;
            continue;
        }
        uint64_t h = fnv(BASIS_WORD, buf + 1, len);
        feats_push(f, (uint32_t)mix(h) & c->mask);
        if (prev) feats_push(f, (uint32_t)mix(fnv(BASIS_BIGRAM ^ prev, buf + 1, len)) & c->mask);
        prev = h | 1;
    }
    feats_unique(f);
}

static void feats_fini(feats *f)
{
    if (f->v != f->local) free(f->v);
}

/* The softmax of the scores of the features f (each 1/sqrt(n)) into p. */
static void scores(const lp_textclf *c, const feats *f, double *p)
{
    int L = c->nlabels;
    double x = f->n ? 1.0 / sqrt((double)f->n) : 0;
    for (int y = 0; y < L; y++) p[y] = 0;
    for (size_t j = 0; j < f->n; j++) {
        const float *w = c->w + (size_t)f->v[j] * (size_t)L;
        for (int y = 0; y < L; y++) p[y] += w[y];
    }
    double max = -HUGE_VAL;
    for (int y = 0; y < L; y++) {
        p[y] = p[y] * x + c->bw[y];
        if (p[y] > max) max = p[y];
    }
    double sum = 0;
    for (int y = 0; y < L; y++) sum += p[y] = exp(p[y] - max);
    for (int y = 0; y < L; y++) p[y] /= sum;
}

void lp_textclf_predict(const lp_textclf *c, const char *text, size_t n, double *probs)
{
    feats f;
    featurize(c, text, n, &f);
    scores(c, &f, probs);
    feats_fini(&f);
}

void lp_textclf_learn(lp_textclf *c, const char *text, size_t n, int label, double weight)
{
    if (label < 0 || label >= c->nlabels || !(weight > 0) || !isfinite(weight)) return;
    int L = c->nlabels;
    feats f;
    featurize(c, text, n, &f);
    double pbuf[64], *p = L <= 64 ? pbuf : lp_malloc((size_t)L * sizeof *p);
    scores(c, &f, p);
    /* d_y = weight * (p_y - [y == label]): the gradient of the loss in score_y. */
    for (int y = 0; y < L; y++) p[y] = weight * (p[y] - (y == label));
    float x = f.n ? (float)(1.0 / sqrt((double)f.n)) : 0, rate = c->rate, l2 = c->l2;
    for (size_t j = 0; j < f.n; j++) {
        float *w = c->w + (size_t)f.v[j] * (size_t)L, *g = c->g + (size_t)f.v[j] * (size_t)L;
        for (int y = 0; y < L; y++) {
            float gr = (float)p[y] * x + l2 * w[y];
            g[y] += gr * gr;
            w[y] -= rate * gr / sqrtf(g[y] + ADA_EPS);
        }
    }
    for (int y = 0; y < L; y++) {
        float gr = (float)p[y];
        c->bg[y] += gr * gr;
        c->bw[y] -= rate * gr / sqrtf(c->bg[y] + ADA_EPS);
    }
    if (p != pbuf) free(p);
    feats_fini(&f);
    c->seen++;
}

/* ---- uncertainty ---- */

double lp_uncertainty(const double *probs, int n, int method)
{
    if (n < 2) return 0;
    double u;
    if (method == LP_UNCERTAIN_LEAST_CONFIDENCE || method == LP_UNCERTAIN_MARGIN) {
        double p1 = -1, p2 = -1;
        for (int i = 0; i < n; i++) {
            if (probs[i] > p1) {
                p2 = p1;
                p1 = probs[i];
            } else if (probs[i] > p2) {
                p2 = probs[i];
            }
        }
        u = method == LP_UNCERTAIN_MARGIN ? 1 - (p1 - p2) : (1 - p1) * n / (n - 1);
    } else if (method == LP_UNCERTAIN_ENTROPY) {
        double h = 0;
        for (int i = 0; i < n; i++)
            if (probs[i] > 0) h -= probs[i] * log(probs[i]);
        u = h / log(n);
    } else {
        return NAN;
    }
    return u < 0 ? 0 : u > 1 ? 1 : u;
}
