/* active.c -- see active.h. */
#include "active.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const measure_names[LP_MEASURES] = {"least_confidence", "margin", "entropy"};

int lp_measure_parse(const char *name)
{
    for (int i = 0; i < LP_MEASURES; i++)
        if (name && !strcmp(name, measure_names[i])) return i;
    return -1;
}

const char *lp_measure_name(lp_measure m)
{
    return (unsigned)m < LP_MEASURES ? measure_names[m] : "least_confidence";
}

double lp_measure_of(const double *p, size_t n, lp_measure m)
{
    if (n < 2) return 0;
    double p1 = -1, p2 = -1, h = 0, u;
    for (size_t i = 0; i < n; i++) {
        if (p[i] > p1) {
            p2 = p1;
            p1 = p[i];
        } else if (p[i] > p2) {
            p2 = p[i];
        }
        if (p[i] > 0) h -= p[i] * log(p[i]);
    }
    if (m == LP_MEASURE_MARGIN)
        u = 1 - (p1 - p2);
    else if (m == LP_MEASURE_ENTROPY)
        u = h / log((double)n);
    else
        u = 1 - p1;
    return u < 0 ? 0 : u > 1 ? 1 : u;
}

double lp_prediction_uncertainty(const json_t *pr, lp_measure m)
{
    const json_t *probs = json_object_get(pr, "probabilities");
    if (json_is_object(probs) && json_object_size(probs) > 0) {
        size_t n = 0, cap = json_object_size(probs) + 1;
        double buf[64], *p = cap <= 64 ? buf : lp_malloc(cap * sizeof *p), sum = 0;
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)probs, k, v)
        {
            double x = json_number_value(v);
            p[n++] = x;
            sum += x;
        }
        if (1 - sum > 1e-9) p[n++] = 1 - sum; /* the rest: one more answer */
        double u = lp_measure_of(p, n, m);
        if (p != buf) free(p);
        return u;
    }
    const json_t *score = json_object_get(pr, "score");
    if (!json_is_number(score)) return -1;
    double s = json_number_value(score);
    s = s < 0 ? 0 : s > 1 ? 1 : s;
    if (m == LP_MEASURE_LEAST_CONFIDENCE) return 1 - s;
    if (s < 0.5) return 1; /* the answer is not even the first of two */
    double two[2] = {s, 1 - s};
    return lp_measure_of(two, 2, m);
}

double lp_task_uncertainty(const json_t *predictions, lp_measure m)
{
    double best = 2;
    size_t i;
    const json_t *pr;
    json_array_foreach(predictions, i, pr)
    {
        double u = lp_prediction_uncertainty(pr, m);
        if (u >= 0 && u < best) best = u;
    }
    return best > 1 ? 1 : best;
}

int lp_check_probabilities(const json_t *probs, const char *path, lp_verr *e)
{
    char f[300];
    lp_path_key(f, sizeof f, path, "probabilities");
    if (!json_is_object(probs))
        return lp_verr_set(e, f, "must be an object of answer names to probabilities");
    size_t n = json_object_size(probs);
    if (n == 0 || n > 1000) return lp_verr_set(e, f, "must have 1 to 1,000 entries, not %zu", n);
    double sum = 0;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)probs, k, v)
    {
        double x;
        if (lp_json_number(v, &x) || x < 0 || x > 1) {
            char g[300];
            return lp_verr_set(e, lp_path_key(g, sizeof g, f, k), "must be a number from 0 to 1");
        }
        sum += x;
    }
    if (sum > 1 + 1e-6) return lp_verr_set(e, f, "the probabilities sum to %g, more than 1", sum);
    return 0;
}

double lp_disagreement(const lp_kind *k, const json_t *params, const json_t *task,
                       const json_t *const *responses, size_t n)
{
    if (n < 2) return 0;
    double sum = 0;
    size_t pairs = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++, pairs++)
            sum += (lp_kind_score(k, params, task, responses[i], responses[j]) +
                    lp_kind_score(k, params, task, responses[j], responses[i])) /
                   2;
    double d = 1 - sum / (double)pairs;
    return d < 0 ? 0 : d > 1 ? 1 : d;
}
