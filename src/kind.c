/* kind.c -- the registry of annotation kinds.
 *
 * Every kind Loupe knows is one lp_kind table defined in its own kind_NAME.c
 * and listed once below; the list's order is the order the docs and the UI
 * show.  Nothing else in Loupe names a kind's table directly: it looks the
 * kind up here by the name a project stores. */
#include "kind.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const lp_kind *const kinds[] = {
    &lp_kind_categorization, &lp_kind_imageannotation, &lp_kind_namedentityrecognition,
    &lp_kind_transcription,  &lp_kind_comparison,      &lp_kind_ranking,
    &lp_kind_rating,         &lp_kind_textcollection, &lp_kind_redteam,
    &lp_kind_lidarannotation,
    &lp_kind_segmentation,
    &lp_kind_videoannotation,
};

/* Returns the kind called name, or NULL when there is none (or name is
 * NULL). */
const lp_kind *lp_kind_find(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i]->name, name) == 0) return kinds[i];
    return NULL;
}

/* Returns the registry, a static array the caller must not change, and its
 * length in *n. */
const lp_kind *const *lp_kind_all(size_t *n)
{
    *n = sizeof kinds / sizeof kinds[0];
    return kinds;
}

/* Returns k's score of response against reference, clamped to 0..1 (NaN
 * counts as 0); without a score slot, 1 when the two are equal once keys
 * are sorted, else 0. */
double lp_kind_score(const lp_kind *k, const json_t *params, const json_t *task,
                     const json_t *response, const json_t *reference)
{
    if (!response || !reference) return 0;
    if (k && k->score) {
        double s = k->score(params, task, response, reference);
        return isnan(s) || s < 0 ? 0 : s > 1 ? 1 : s;
    }
    char *a = json_dumps(response, LP_JSON_DUMP | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    char *b = json_dumps(reference, LP_JSON_DUMP | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    double s = a && b && !strcmp(a, b);
    free(a);
    free(b);
    return s;
}

int lp_kind_aggregate(const lp_kind *k, const json_t *params, const json_t *task,
                      const json_t *const *responses, const double *weights, size_t n, json_t **out,
                      double *confidence)
{
    *out = NULL;
    *confidence = 0;
    if (n == 0) return LP_EINVAL;
    if (k && k->aggregate) {
        int rc = k->aggregate(params, task, responses, weights, n, out, confidence);
        if (rc == 0 && !*out) rc = LP_EINVAL;
        if (rc == 0)
            *confidence = isnan(*confidence) || *confidence < 0 ? 0
                          : *confidence > 1                     ? 1
                                                                : *confidence;
        return rc;
    }
    size_t best = 0;
    double best_sum = -1, total = 0;
    for (size_t j = 0; j < n; j++) total += weights ? weights[j] : 1;
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        for (size_t j = 0; j < n; j++)
            sum += (weights ? weights[j] : 1) *
                   (i == j ? 1 : lp_kind_score(k, params, task, responses[j], responses[i]));
        if (sum > best_sum + 1e-12) { /* strictly better: ties keep the earlier */
            best = i;
            best_sum = sum;
        }
    }
    *out = json_deep_copy(responses[best]);
    *confidence = total > 0 ? best_sum / total : 0;
    return 0;
}

void lp_catset_init(lp_catset *c, const json_t *params)
{
    memset(c, 0, sizeof *c);
    c->ids = json_object();
    const json_t *l;
    size_t i;
    json_array_foreach(json_object_get(params, "labels"), i, l)
    {
        const char *name = json_string_value(json_object_get(l, "name"));
        if (name) lp_catset_id(c, name);
    }
}

uint32_t lp_catset_id(lp_catset *c, const char *name)
{
    json_t *id = json_object_get(c->ids, name);
    if (id) return (uint32_t)json_integer_value(id);
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->names = lp_realloc(c->names, c->cap * sizeof *c->names);
    }
    json_object_set_new(c->ids, name, json_integer((json_int_t)c->n));
    /* jansson keeps its own copy of the key: point at that one. */
    c->names[c->n] = json_object_iter_key(json_object_iter_at(c->ids, name));
    return (uint32_t)c->n++;
}

void lp_catset_fini(lp_catset *c)
{
    free(c->names);
    json_decref(c->ids);
}
