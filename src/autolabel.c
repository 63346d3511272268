/* autolabel.c -- the pure part of auto-labeling (see autolabel.h): the
 * project's setting, and the choice of the threshold.
 *
 * The threshold is the lowest score at which the held-out pairs scored at
 * least that are right often enough: walking the pairs from the highest
 * score down, a tie group at a time, the precision of the pairs seen so
 * far is checked after each group, and the last group where it met the
 * target (with enough pairs) gives the threshold.  So the auto-labels,
 * were they drawn from the held-out sample, would be right at the target
 * rate as a whole -- the guarantee is on the set above the threshold, as
 * in Ground Truth, not on each score.  The precision is a point estimate;
 * its Wilson interval says how far it can be trusted. */
#include "autolabel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learner.h"

void lp_autolabel_defaults(lp_autolabel *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->model, sizeof s->model, "%s", LP_LEARNER_MODEL);
    s->target_precision = 0.95;
    s->spot_check_rate = 0.05;
    s->min_holdout = 100;
}

int lp_autolabel_parse(const json_t *v, lp_autolabel *s, lp_verr *e)
{
    static const char *const keys[] = {"enabled",         "model",       "target_precision",
                                       "spot_check_rate", "min_holdout", NULL};
    lp_autolabel t = *s;
    if (json_is_null(v)) {
        lp_autolabel_defaults(s);
        return 0;
    }
    if (!json_is_object(v)) return lp_verr_set(e, "auto_label", "must be an object or null");
    const char *model = NULL;
    long long min_holdout = t.min_holdout;
    if (lp_v_only_keys(v, "auto_label", keys, e) ||
        lp_v_bool(v, "enabled", "auto_label", 0, &t.enabled, e) ||
        lp_v_string(v, "model", "auto_label", 0, 1, 200, &model, e) ||
        lp_v_number(v, "target_precision", "auto_label", 0, 0.5, 1, &t.target_precision, e) ||
        lp_v_number(v, "spot_check_rate", "auto_label", 0, 0, 1, &t.spot_check_rate, e) ||
        lp_v_int(v, "min_holdout", "auto_label", 0, LP_AUTOLABEL_MIN_ABOVE, 1000000, &min_holdout,
                 e))
        return LP_EINVAL;
    if (model) snprintf(t.model, sizeof t.model, "%s", model);
    t.min_holdout = min_holdout;
    *s = t;
    return 0;
}

json_t *lp_autolabel_json(const lp_autolabel *s)
{
    return json_pack("{s:b, s:s, s:f, s:f, s:I}", "enabled", s->enabled, "model", s->model,
                     "target_precision", s->target_precision, "spot_check_rate", s->spot_check_rate,
                     "min_holdout", (json_int_t)s->min_holdout);
}

void lp_wilson(size_t k, size_t n, double z, double *low, double *high)
{
    if (n == 0) {
        *low = 0;
        *high = 1;
        return;
    }
    double nn = (double)n, p = (double)k / nn, z2 = z * z;
    double mid = (p + z2 / (2 * nn)) / (1 + z2 / nn);
    double half = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / (1 + z2 / nn);
    *low = mid - half < 0 ? 0 : mid - half;
    *high = mid + half > 1 ? 1 : mid + half;
}

static int by_score_desc(const void *a, const void *b)
{
    const lp_autolabel_pair *x = a, *y = b;
    return x->score < y->score ? 1 : x->score > y->score ? -1 : 0;
}

void lp_autolabel_choose(lp_autolabel_pair *pairs, size_t n, double target, size_t min_holdout,
                         size_t min_above, lp_autolabel_fit *out)
{
    memset(out, 0, sizeof *out);
    out->holdout = n;
    for (size_t i = 0; i < n; i++) out->correct += pairs[i].correct ? 1 : 0;
    if (n == 0 || n < min_holdout) return;
    qsort(pairs, n, sizeof *pairs, by_score_desc);
    size_t right = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        for (; j < n && pairs[j].score == pairs[i].score; j++) right += pairs[j].correct ? 1 : 0;
        /* the pairs [0, j) score pairs[i].score or more */
        if (j >= min_above && (double)right >= target * (double)j - 1e-9) {
            out->found = 1;
            out->threshold = pairs[i].score;
            out->above = j;
            out->above_right = right;
        }
        i = j;
    }
    if (out->found) {
        out->precision = (double)out->above_right / (double)out->above;
        lp_wilson(out->above_right, out->above, 1.959964, &out->low, &out->high);
    }
}
