/* agg.c -- see agg.h.  Two parts:
 *
 * 1. lp_agg_majority(): a vote over a task's canonical response texts,
 *    O(n^2) string comparisons, which is right for the few annotations (the
 *    overlap) one task gets.
 * 2. lp_agg_categorical(): the front end of the model-based methods.  It
 *    checks every id, sorts the rows by (item, worker, class) with three
 *    stable counting sorts (O(n + items + workers + classes), and the
 *    reason row order never matters), merges repeated answers of one worker
 *    on one item into entries weighted 1/c, computes the vote tables every
 *    method shares, runs the method, and finishes the result: gold items
 *    one-hot, unanswered items uniform with label -1, labels by the tie rule
 *    in agg.h.  The majority and gold-weighted methods live here too.
 *
 * Majority (LP_AGG_MAJORITY): posterior = each class's share of the item's
 * (weighted) votes.  A tie between classes within 1e-9 goes to the class
 * whose voters agree most with the clear majority on other items: each
 * worker's agreement is (a + 1) / (n + 2), where n is the weight of their
 * answers on items with a unique plurality and a the weight of those that
 * match it; a class scores the summed agreement of its voters.  Then the
 * class's share of all answers, then the lowest class id.
 *
 * Gold-weighted (LP_AGG_GOLD_WEIGHTED): a worker's accuracy on the gold
 * items they answered, smoothed by a Beta(2, 1) prior (mean 2/3, so a worker
 * with no gold answers is assumed better than chance), gives the weight
 * w = log((K - 1) p / (1 - p)), the log-odds that makes a weighted vote the
 * Bayes rule under a one-coin model; below-chance workers get w = 0.  An
 * item's posterior is softmax over classes of the summed weights of its
 * votes.  Gold items return their gold class (posterior 1). */
#include "agg.h"
#include "agg_int.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void lp_agg_majority(const char *const *responses, size_t n, size_t *winner, double *confidence)
{
    size_t best = 0, best_votes = 0;
    for (size_t i = 0; i < n; i++) {
        size_t votes = 0;
        for (size_t j = 0; j < n; j++) votes += strcmp(responses[i], responses[j]) == 0;
        if (votes > best_votes) { /* strictly more: ties keep the earlier value */
            best = i;
            best_votes = votes;
        }
    }
    *winner = best;
    *confidence = n ? (double)best_votes / (double)n : 0;
}

/* Ties in a posterior row: classes within this of the top are tied. */
#define TIE_EPS 1e-9

static const char *const method_names[LP_AGG_NMETHODS] = {
    [LP_AGG_MAJORITY] = "majority",
    [LP_AGG_GOLD_WEIGHTED] = "gold_weighted",
    [LP_AGG_DAWID_SKENE] = "dawid_skene",
    [LP_AGG_ONE_COIN] = "one_coin",
    [LP_AGG_GLAD] = "glad",
    [LP_AGG_MACE] = "mace",
    [LP_AGG_EBCC] = "ebcc",
    [LP_AGG_BWA] = "bwa",
    [LP_AGG_AUTO] = "auto",
};

int lp_agg_method_parse(const char *name, lp_agg_method *out)
{
    for (int m = 0; name && m < LP_AGG_NMETHODS; m++)
        if (!strcmp(name, method_names[m])) {
            *out = (lp_agg_method)m;
            return 0;
        }
    return LP_EINVAL;
}

const char *lp_agg_method_name(lp_agg_method m)
{
    return (unsigned)m < LP_AGG_NMETHODS ? method_names[m] : "?";
}

/* AUTO is MACE, then Dawid-Skene started from MACE's posteriors, and the
 * average of the two posteriors (fit_auto below); it reports the
 * Dawid-Skene fit's skills and confusion matrices, so this returns
 * LP_AGG_DAWID_SKENE. */
lp_agg_method lp_agg_auto_method(void)
{
    return LP_AGG_DAWID_SKENE;
}

void lp_agg_result_fini(lp_agg_result *r)
{
    free(r->label);
    free(r->posterior);
    free(r->skill);
    free(r->confusion);
    memset(r, 0, sizeof *r);
}

/* ---- shared helpers (agg_int.h) ---- */

double agg_softmax(double *row, size_t k)
{
    double mx = row[0], s = 0;
    for (size_t c = 1; c < k; c++)
        if (row[c] > mx) mx = row[c];
    /* exp(-40) < 1e-17: below what a posterior can resolve next to 1 */
    for (size_t c = 0; c < k; c++) s += row[c] = row[c] - mx < -40 ? 0 : exp(row[c] - mx);
    for (size_t c = 0; c < k; c++) row[c] /= s;
    return mx + log(s);
}

void agg_clamp_gold(const agg_in *in, double *post)
{
    size_t k = in->n_classes;
    for (size_t i = 0; i < in->n_items; i++)
        if (in->gold[i] >= 0) {
            for (size_t c = 0; c < k; c++) post[i * k + c] = 0;
            post[i * k + (size_t)in->gold[i]] = 1;
        }
}

void agg_init_from_votes(const agg_in *in, double *post)
{
    memcpy(post, in->vote, in->n_items * in->n_classes * sizeof *post);
    agg_clamp_gold(in, post);
}

double agg_max_diff(const double *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (d > m) m = d;
    }
    return m;
}

double agg_digamma(double x)
{
    double r = 0;
    while (x < 6) {
        r -= 1 / x;
        x += 1;
    }
    double f = 1 / (x * x);
    return r + log(x) - 0.5 / x -
           f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
}

/* Class prior from the posteriors of answered items, log-transformed. */
void agg_log_prior(const agg_in *in, const double *post, double *lp)
{
    size_t k = in->n_classes;
    double tot = (double)k;
    for (size_t c = 0; c < k; c++) lp[c] = 1;
    for (size_t i = 0; i < in->n_items; i++) {
        if (in->start[i] == in->start[i + 1]) continue;
        for (size_t c = 0; c < k; c++) lp[c] += post[i * k + c];
        tot += 1;
    }
    for (size_t c = 0; c < k; c++) lp[c] = log(lp[c] / tot);
}

/* ---- majority and gold-weighted ---- */

void agg_fit_majority(const agg_in *in, lp_agg_result *out)
{
    memcpy(out->posterior, in->vote, in->n_items * in->n_classes * sizeof *out->posterior);
    memcpy(out->skill, in->agree, in->n_workers * sizeof *out->skill);
}

void agg_fit_gold_weighted(const agg_in *in, lp_agg_result *out)
{
    size_t k = in->n_classes;
    double *right = lp_calloc(in->n_workers * 2, sizeof *right), *seen = right + in->n_workers;
    for (size_t e = 0; e < in->n; e++) {
        int32_t g = in->gold[in->item[e]];
        if (g < 0) continue;
        seen[in->worker[e]] += in->weight[e];
        right[in->worker[e]] += in->weight[e] * (in->label[e] == (uint32_t)g);
    }
    for (size_t w = 0; w < in->n_workers; w++) {
        double p = (right[w] + 2) / (seen[w] + 3);
        out->skill[w] = p;
        double wt = log((double)(k > 1 ? k - 1 : 1) * p / (1 - p));
        right[w] = wt > 0 ? wt : 0; /* reuse as the weight */
    }
    for (size_t i = 0; i < in->n_items; i++) {
        double *row = out->posterior + i * k;
        for (size_t c = 0; c < k; c++) row[c] = 0;
        for (size_t e = in->start[i]; e < in->start[i + 1]; e++)
            row[in->label[e]] += in->weight[e] * right[in->worker[e]];
        agg_softmax(row, k);
    }
    free(right);
}

/* ---- auto ---- */

/* AUTO (LP_AGG_AUTO), one fixed setting chosen on the five crowd sets of
 * bench/quality.c without looking at per-set results for tuning: MACE
 * first (its spam model finds the workers who carry no information, and it
 * had the best mean accuracy alone), then Dawid-Skene started from MACE's
 * posteriors instead of the vote shares (a full confusion matrix per
 * worker refines what MACE's two parameters cannot express, from a start
 * that spammers no longer pull), and the label from the average of the two
 * posteriors, which hedges between the two models where they disagree.
 * Measured: it meets the best published accuracy on bluebird, possent,
 * product and relevance and is two items short on rte (0.9287 vs 0.931),
 * where every method here is; MACE alone missed possent by one item and DS
 * alone relevance.  Skills and confusion are the Dawid-Skene fit's;
 * iterations are the two fits' sum.  Costs MACE plus a few DS iterations. */
static void fit_auto(const agg_in *in, lp_agg_result *out)
{
    size_t k = in->n_classes, nk = in->n_items * k;
    lp_agg_result mace = {
        .posterior = lp_calloc(nk + 1, sizeof *mace.posterior),
        .skill = lp_calloc(in->n_workers + 1, sizeof *mace.skill),
        .confusion = lp_calloc(in->n_workers * k * k + 1, sizeof *mace.confusion),
    };
    agg_fit_mace(in, &mace);
    agg_clamp_gold(in, mace.posterior);
    agg_in from_mace = *in;
    from_mace.vote = mace.posterior; /* where DS's EM starts */
    agg_fit_ds(&from_mace, out);
    for (size_t j = 0; j < nk; j++) out->posterior[j] = (out->posterior[j] + mace.posterior[j]) / 2;
    out->iterations += mace.iterations;
    lp_agg_result_fini(&mace);
}

/* ---- the front end ---- */

typedef void (*fit_fn)(const agg_in *in, lp_agg_result *out);
static const struct {
    fit_fn fit;
    int confusion; /* has confusion matrices */
} methods[LP_AGG_NMETHODS] = {
    [LP_AGG_MAJORITY] = {agg_fit_majority, 0},
    [LP_AGG_GOLD_WEIGHTED] = {agg_fit_gold_weighted, 0},
    [LP_AGG_DAWID_SKENE] = {agg_fit_ds, 1},
    [LP_AGG_ONE_COIN] = {agg_fit_one_coin, 1},
    [LP_AGG_GLAD] = {agg_fit_glad, 0},
    [LP_AGG_MACE] = {agg_fit_mace, 1},
    [LP_AGG_EBCC] = {agg_fit_ebcc, 1},
    [LP_AGG_BWA] = {agg_fit_bwa, 0},
    [LP_AGG_AUTO] = {fit_auto, 1},
};

/* One stable counting-sort pass: orders idx[0..n) by key[idx[]] into tmp,
 * then copies back.  cnt has room for range + 1 counters. */
static void sort_pass(uint32_t *idx, uint32_t *tmp, size_t n, const uint32_t *key, size_t range,
                      size_t *cnt)
{
    memset(cnt, 0, (range + 1) * sizeof *cnt);
    for (size_t r = 0; r < n; r++) cnt[key[idx[r]] + 1]++;
    for (size_t v = 0; v < range; v++) cnt[v + 1] += cnt[v];
    for (size_t r = 0; r < n; r++) tmp[cnt[key[idx[r]]]++] = idx[r];
    memcpy(idx, tmp, n * sizeof *idx);
}

/* The buffers behind an agg_in. */
typedef struct prep {
    agg_in in;
    uint32_t *item, *worker, *label;
    double *weight, *vote, *share, *agree, *tiebreak;
    size_t *start;
    int32_t *gold;
} prep;

static void prep_fini(prep *p)
{
    free(p->item);
    free(p->weight);
    free(p->vote);
    free(p->start);
    free(p->gold);
}

/* Sorts and merges d's rows into p (ids already checked) and computes the
 * vote tables. */
static void prep_init(prep *p, const lp_agg_data *d)
{
    size_t n = d->n, ni = d->n_items, nw = d->n_workers, k = d->n_classes;
    size_t range = ni > nw ? ni : nw;
    if (k > range) range = k;
    uint32_t *idx = lp_malloc((2 * n + 1) * sizeof *idx), *tmp = idx + n;
    size_t *cnt = lp_malloc((range + 1) * sizeof *cnt);
    for (size_t r = 0; r < n; r++) idx[r] = (uint32_t)r;
    sort_pass(idx, tmp, n, d->label, k, cnt);
    sort_pass(idx, tmp, n, d->worker, nw, cnt);
    sort_pass(idx, tmp, n, d->item, ni, cnt);
    free(cnt);

    p->item = lp_malloc((3 * n + 1) * sizeof *p->item);
    p->worker = p->item + n;
    p->label = p->worker + n;
    p->weight = lp_malloc((n + 1) * sizeof *p->weight);
    p->start = lp_calloc(ni + 1, sizeof *p->start);
    size_t m = 0;
    for (size_t r = 0; r < n;) {
        uint32_t i = d->item[idx[r]], w = d->worker[idx[r]];
        size_t end = r;
        while (end < n && d->item[idx[end]] == i && d->worker[idx[end]] == w) end++;
        double each = 1.0 / (double)(end - r);
        for (size_t s = r; s < end; s++) {
            uint32_t l = d->label[idx[s]];
            if (s > r && p->label[m - 1] == l) {
                p->weight[m - 1] += each;
                continue;
            }
            p->item[m] = i;
            p->worker[m] = w;
            p->label[m] = l;
            p->weight[m] = each;
            p->start[i + 1]++;
            m++;
        }
        r = end;
    }
    free(idx);
    for (size_t i = 0; i < ni; i++) p->start[i + 1] += p->start[i];

    /* vote, tiebreak: ni * k each; share: k; agree: nw */
    p->vote = lp_calloc(2 * ni * k + k + nw + 1, sizeof *p->vote);
    p->tiebreak = p->vote + ni * k;
    p->share = p->tiebreak + ni * k;
    p->agree = p->share + k;
    double total = 0;
    for (size_t e = 0; e < m; e++) {
        p->vote[p->item[e] * k + p->label[e]] += p->weight[e];
        p->share[p->label[e]] += p->weight[e];
        total += p->weight[e];
    }
    for (size_t c = 0; c < k; c++) p->share[c] = total > 0 ? p->share[c] / total : 1.0 / k;
    /* Workers' agreement with the clear (unique) plurality. */
    double *hit = lp_calloc(2 * nw + 1, sizeof *hit), *seen = hit + nw;
    for (size_t i = 0; i < ni; i++) {
        double *row = p->vote + i * k, mx = -1;
        size_t arg = 0, ties = 0;
        for (size_t c = 0; c < k; c++) {
            if (row[c] > mx + TIE_EPS) {
                mx = row[c];
                arg = c;
                ties = 1;
            } else if (row[c] > mx - TIE_EPS) {
                ties++;
            }
        }
        if (ties != 1 || p->start[i] == p->start[i + 1]) continue;
        for (size_t e = p->start[i]; e < p->start[i + 1]; e++) {
            seen[p->worker[e]] += p->weight[e];
            hit[p->worker[e]] += p->weight[e] * (p->label[e] == arg);
        }
    }
    for (size_t w = 0; w < nw; w++) p->agree[w] = (hit[w] + 1) / (seen[w] + 2);
    free(hit);
    for (size_t e = 0; e < m; e++)
        p->tiebreak[p->item[e] * k + p->label[e]] += p->weight[e] * p->agree[p->worker[e]];
    for (size_t i = 0; i < ni; i++) {
        double *row = p->vote + i * k, s = 0;
        for (size_t c = 0; c < k; c++) s += row[c];
        for (size_t c = 0; c < k; c++) row[c] = s > 0 ? row[c] / s : 1.0 / k;
    }

    p->gold = lp_malloc((ni + 1) * sizeof *p->gold);
    for (size_t i = 0; i < ni; i++) p->gold[i] = d->gold ? d->gold[i] : -1;

    p->in = (agg_in){.n = m,
                     .item = p->item,
                     .worker = p->worker,
                     .label = p->label,
                     .weight = p->weight,
                     .start = p->start,
                     .n_items = ni,
                     .n_workers = nw,
                     .n_classes = k,
                     .gold = p->gold,
                     .vote = p->vote,
                     .share = p->share,
                     .agree = p->agree,
                     .tiebreak = p->tiebreak};
}

/* The label of a posterior row by the tie rule of agg.h. */
static int32_t pick(const double *row, const double *tiebreak, const double *share, size_t k)
{
    double mx = row[0];
    for (size_t c = 1; c < k; c++)
        if (row[c] > mx) mx = row[c];
    size_t best = k;
    for (size_t c = 0; c < k; c++) {
        if (row[c] < mx - TIE_EPS) continue;
        if (best == k || tiebreak[c] > tiebreak[best] + TIE_EPS ||
            (tiebreak[c] > tiebreak[best] - TIE_EPS && share[c] > share[best] + TIE_EPS))
            best = c;
    }
    return (int32_t)best;
}

int lp_agg_categorical(lp_agg_method m, const lp_agg_data *d, lp_agg_result *out)
{
    memset(out, 0, sizeof *out);
    if ((unsigned)m >= LP_AGG_NMETHODS || d->n_classes == 0 || d->n_items > UINT32_MAX ||
        d->n_workers > UINT32_MAX || d->n > UINT32_MAX ||
        (d->n && (!d->item || !d->worker || !d->label)))
        return LP_EINVAL;
    for (size_t r = 0; r < d->n; r++)
        if (d->item[r] >= d->n_items || d->worker[r] >= d->n_workers || d->label[r] >= d->n_classes)
            return LP_EINVAL;
    for (size_t i = 0; d->gold && i < d->n_items; i++)
        if (d->gold[i] < -1 || (d->gold[i] >= 0 && (size_t)d->gold[i] >= d->n_classes))
            return LP_EINVAL;

    size_t ni = d->n_items, nw = d->n_workers, k = d->n_classes;
    prep p;
    prep_init(&p, d);
    out->label = lp_malloc((ni + 1) * sizeof *out->label);
    out->posterior = lp_calloc(ni * k + 1, sizeof *out->posterior);
    out->skill = lp_calloc(nw + 1, sizeof *out->skill);
    if (methods[m].confusion) out->confusion = lp_calloc(nw * k * k + 1, sizeof *out->confusion);
    methods[m].fit(&p.in, out);

    for (size_t i = 0; i < ni; i++) {
        double *row = out->posterior + i * k;
        if (p.gold[i] >= 0) {
            for (size_t c = 0; c < k; c++) row[c] = 0;
            row[p.gold[i]] = 1;
            out->label[i] = p.gold[i];
        } else if (p.start[i] == p.start[i + 1]) {
            for (size_t c = 0; c < k; c++) row[c] = 1.0 / k;
            out->label[i] = -1;
        } else {
            out->label[i] = pick(row, p.tiebreak + i * k, p.share, k);
        }
    }
    prep_fini(&p);
    return 0;
}

int lp_agg_multilabel(lp_agg_method m, const lp_agg_multi_data *d, lp_agg_multi_result *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < d->n; i++)
        if (d->item[i] >= d->n_items || d->worker[i] >= d->n_workers ||
            d->offset[i + 1] < d->offset[i])
            return LP_EINVAL;
    for (size_t x = 0; d->n && x < d->offset[d->n]; x++)
        if (d->label[x] >= d->n_labels) return LP_EINVAL;
    size_t cells = d->n_items * d->n_labels;
    out->p = lp_malloc((cells ? cells : 1) * sizeof *out->p);
    out->has = lp_calloc(cells ? cells : 1, 1);
    out->skill = lp_calloc(d->n_workers ? d->n_workers : 1, sizeof *out->skill);
    uint32_t *yes = lp_malloc((d->n ? d->n : 1) * sizeof *yes);
    lp_agg_data b = {.n = d->n,
                     .item = d->item,
                     .worker = d->worker,
                     .label = yes,
                     .n_items = d->n_items,
                     .n_workers = d->n_workers,
                     .n_classes = 2};
    int rc = 0;
    for (size_t l = 0; l < d->n_labels && rc == 0; l++) {
        for (size_t i = 0; i < d->n; i++) {
            yes[i] = 0;
            for (size_t x = d->offset[i]; x < d->offset[i + 1]; x++)
                if (d->label[x] == l) yes[i] = 1;
        }
        lp_agg_result r;
        rc = lp_agg_categorical(m, &b, &r);
        if (rc < 0) break;
        for (size_t it = 0; it < d->n_items; it++) {
            double p = r.label[it] < 0 ? 0.5 : r.posterior[2 * it + 1];
            out->p[it * d->n_labels + l] = p;
            out->has[it * d->n_labels + l] = p > 0.5;
        }
        for (size_t w = 0; w < d->n_workers; w++) out->skill[w] += r.skill[w] / (double)d->n_labels;
        lp_agg_result_fini(&r);
    }
    free(yes);
    if (rc < 0) lp_agg_multi_result_fini(out);
    return rc;
}

void lp_agg_multi_result_fini(lp_agg_multi_result *r)
{
    free(r->p);
    free(r->has);
    free(r->skill);
    memset(r, 0, sizeof *r);
}
