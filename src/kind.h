/* kind.h -- annotation kinds: one module per kind behind one interface.
 *
 * A kind (categorization, imageannotation, comparison, ...) knows what its
 * project params, its tasks' input and its responses look like.  Everything
 * else in Loupe is kind-agnostic and calls through this table.  Adding a kind
 * is one new kind_NAME.c file and one line in kind.c's registry.
 *
 * Later issues add slots (export); a NULL slot means "this kind
 * does not do that" (or, for score, "use the generic rule").  Every
 * function here is pure: no I/O. */
#ifndef LP_KIND_H
#define LP_KIND_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "valid.h"

typedef struct lp_kind {
    int version;         /* 1 */
    const char *name;    /* "categorization" */
    const char *summary; /* one line for docs and the UI */
    /* Checks a project's params and normalises them in place (fills
     * defaults, e.g. labels given as strings become {"name": ...}).
     * Field paths start with "params". */
    int (*validate_params)(json_t *params, lp_verr *err);
    /* Checks a task's input for this kind: the task object as sent
     * ({"attachments": [...], "data": {...}, ...}).  NULL: anything goes.
     * Field paths start at the task ("data.responses"). */
    int (*validate_task)(const json_t *params, const json_t *task, lp_verr *err);
    /* Checks a response (an annotation, a gold expected_response or a
     * model prediction) against params and the task it answers.  path is
     * the response's own field path ("response", "expected_response",
     * "predictions[2].response") and prefixes every error field. */
    int (*validate_response)(const json_t *params, const json_t *task, const json_t *response,
                             const char *path, lp_verr *err);
    /* Scores a response against a reference (a gold task's
     * expected_response, or a task's consensus) from 0 (nothing right) to
     * 1 (a full match); both passed validate_response for this task.
     * NULL: 1 if the two are equal as canonical JSON, else 0. */
    double (*score)(const json_t *params, const json_t *task, const json_t *response,
                    const json_t *reference);
    /* Consolidates the accepted responses of one task into its result:
     * *out receives a new response that passes validate_response and
     * *confidence (0..1) how sure the consolidation is.  weights[i] > 0 is
     * the weight of the author of responses[i] (1 when nothing is known of
     * them; see the project's aggregation method).  0, or a negative LP_E*
     * code with *out NULL.  NULL: the weighted medoid under score (see
     * lp_kind_aggregate). */
    int (*aggregate)(const json_t *params, const json_t *task, const json_t *const *responses,
                     const double *weights, size_t n, json_t **out, double *confidence);
    /* For kinds whose answer picks from a fixed set (labels, a preferred
     * response): stores up to max names the response picks in names[]
     * (borrowed from response) and returns how many it picks.  single is 1
     * when every response picks exactly one, so that the categorical
     * methods (agg.h), nominal alpha and Fleiss' kappa apply; otherwise each
     * name is a yes/no question of its own.  NULL: not a choice kind. */
    size_t (*categories)(const json_t *params, const json_t *response, const char **names,
                         size_t max);
    int (*single)(const json_t *params);
    /* The inverse of categories: a new response that picks names[0..n),
     * for a model's answer that no worker gave in those words.  NULL when
     * the kind cannot make one (a comparison may need a justification). */
    json_t *(*respond)(const json_t *params, const char *const *names, size_t n);
    /* 1 when validate_response, score and aggregate never read the task,
     * so that the hot path (a submit) need not load it: they get an empty
     * object. */
    int task_free;
} lp_kind;

/* The kind called name, or NULL. */
const lp_kind *lp_kind_find(const char *name);
/* The kind's score of response against reference (see the score slot),
 * clamped to 0..1; canonical JSON equality for a kind without one. */
double lp_kind_score(const lp_kind *k, const json_t *params, const json_t *task,
                     const json_t *response, const json_t *reference);
/* Consolidates n >= 1 responses into a result with k's aggregate slot.
 * Without one, the result is the weighted medoid: the response that the
 * others, weighted, score highest against (for kinds scored by equality,
 * the weighted majority), ties going to the earlier response; its
 * confidence is that weighted mean score.  weights may be NULL (all 1). */
int lp_kind_aggregate(const lp_kind *k, const json_t *params, const json_t *task,
                      const json_t *const *responses, const double *weights, size_t n, json_t **out,
                      double *confidence);
/* Category names as dense ids 0, 1, ...: the names of the project's
 * params.labels first, in their order (so that ids are stable and a label
 * no one picked yet still has one), then any other name a response picks
 * (a comparison's response ids, say), as met.  names[id] points into the
 * set's own copy of the name. */
typedef struct lp_catset {
    json_t *ids; /* name -> id */
    const char **names;
    size_t n, cap;
} lp_catset;
void lp_catset_init(lp_catset *c, const json_t *params);
/* The id of name, given a new one when the set has not met it. */
uint32_t lp_catset_id(lp_catset *c, const char *name);
void lp_catset_fini(lp_catset *c);

/* The text a namedentityrecognition task marks: its data.text, else the
 * content of its first text attachment with content.  Returns 0 and sets
 * *s and *n (bytes; *s belongs to task), or -1 when it has none. */
int lp_ner_task_text(const json_t *task, const char **s, size_t *n);

/* All registered kinds, in registry order; *n receives the count. */
const lp_kind *const *lp_kind_all(size_t *n);

/* The kinds registered in kind.c. */
extern const lp_kind lp_kind_categorization;
extern const lp_kind lp_kind_imageannotation;
extern const lp_kind lp_kind_namedentityrecognition;
extern const lp_kind lp_kind_transcription;
extern const lp_kind lp_kind_comparison;
extern const lp_kind lp_kind_ranking;
extern const lp_kind lp_kind_rating;
extern const lp_kind lp_kind_textcollection;
extern const lp_kind lp_kind_redteam;
extern const lp_kind lp_kind_lidarannotation;
extern const lp_kind lp_kind_segmentation;
extern const lp_kind lp_kind_videoannotation;

#endif
