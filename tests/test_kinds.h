/* test_kinds.h -- helpers for the annotation-kind tests (test_kind_*.c).
 *
 * JSON in the tests is written with single quotes, {'labels': ['cat']},
 * and kt_json() turns them into double quotes before parsing, so the test
 * tables stay readable.  The CHECK_* macros below, like those in test.h,
 * end the test at the first failure and print what was expected. */
#ifndef LP_TEST_KINDS_H
#define LP_TEST_KINDS_H

#include <jansson.h>

#include "export.h"
#include "kind.h"
#include "test.h"
#include "util.h"

/* Parses text (single quotes for double quotes); aborts on a typo in a
 * test, since every later check would be meaningless. */
json_t *kt_json(const char *text);
/* Runs kind->validate_params on text parsed; *out (may be NULL) receives
 * the normalised params, owned by the caller. */
int kt_params(const lp_kind *kind, const char *text, json_t **out, lp_verr *e);
/* Runs kind->validate_task (0 when the kind has none) with params (which
 * must be valid) on task. */
int kt_task(const lp_kind *kind, const char *params, const char *task, lp_verr *e);
/* Runs kind->validate_response with path "response"; params must be valid
 * and task (NULL for {}) is not checked. */
int kt_response(const lp_kind *kind, const char *params, const char *task, const char *response,
                lp_verr *e);
/* kind->score of response against reference, after checking that params
 * are valid and that both pass validate_response for task (NULL for {});
 * -1 (and a message on stderr) when either is rejected, so a test that
 * expects a score fails. */
double kt_score(const lp_kind *kind, const char *params, const char *task, const char *response,
                const char *reference);
/* lp_kind_aggregate over the responses (each must be valid for task, NULL
 * for {}), weights NULL for all 1; returns the result, owned by the
 * caller, or NULL (with a message) when a response or the result does not
 * pass validate_response. */
json_t *kt_aggregate(const lp_kind *kind, const char *params, const char *task,
                     const char *const *responses, const double *weights, size_t n,
                     double *confidence);
/* Begins fmt's export into out and feeds it tasks (single-quoted JSON), as
 * the exporter does, task i with index i. */
void kt_export_tasks(const lp_export_format *fmt, lp_export_ctx *cx, lp_buf *out,
                     const char *const *tasks, size_t n);
/* Runs the export format (a zip: kitti, masks, ...) of kind with params
 * over tasks (single-quoted JSON) and reads the zip back: *files (the
 * caller's) receives {path: the file's bytes as a JSON string, not checked
 * as UTF-8}.  0 on success, -1 when the params, the export or the zip
 * fail. */
int kt_export_zip(const lp_kind *kind, const char *params, const char *format,
                  const char *const *tasks, size_t n, json_t **files);
/* 1 when the JSON value at dotted path in v ("labels.0.name") equals the
 * JSON text want. */
int kt_equal_at(const json_t *v, const char *path, const char *want);

/* Checks that rc is LP_EINVAL, e.field is exactly want_field and
 * e.message contains want_msg. */
#define CHECK_VERR(rc, e, want_field, want_msg)                                          \
    do {                                                                                 \
        CHECK_INT(rc, LP_EINVAL);                                                        \
        CHECK_STR((e).field, want_field);                                                \
        if (!strstr((e).message, want_msg)) {                                            \
            lp_test_fail(__FILE__, __LINE__, "message \"%s\" lacks \"%s\"", (e).message, \
                         want_msg);                                                      \
            return;                                                                      \
        }                                                                                \
    } while (0)

/* Checks that a validation call returned 0, printing its error if not. */
#define CHECK_VALID(rc, e)                                                                \
    do {                                                                                  \
        if ((rc) != 0) {                                                                  \
            lp_test_fail(__FILE__, __LINE__, "rejected: %s: %s", (e).field, (e).message); \
            return;                                                                       \
        }                                                                                 \
    } while (0)

#define PARAMS_OK(kind, params)                       \
    do {                                              \
        lp_verr e_;                                   \
        int rc_ = kt_params(kind, params, NULL, &e_); \
        CHECK_VALID(rc_, e_);                         \
    } while (0)
#define PARAMS_ERR(kind, params, field, msg)          \
    do {                                              \
        lp_verr e_;                                   \
        int rc_ = kt_params(kind, params, NULL, &e_); \
        CHECK_VERR(rc_, e_, field, msg);              \
    } while (0)
#define TASK_OK(kind, params, task)                 \
    do {                                            \
        lp_verr e_;                                 \
        int rc_ = kt_task(kind, params, task, &e_); \
        CHECK_VALID(rc_, e_);                       \
    } while (0)
#define TASK_ERR(kind, params, task, field, msg)    \
    do {                                            \
        lp_verr e_;                                 \
        int rc_ = kt_task(kind, params, task, &e_); \
        CHECK_VERR(rc_, e_, field, msg);            \
    } while (0)
#define RESPONSE_OK(kind, params, task, response)                 \
    do {                                                          \
        lp_verr e_;                                               \
        int rc_ = kt_response(kind, params, task, response, &e_); \
        CHECK_VALID(rc_, e_);                                     \
    } while (0)
#define RESPONSE_ERR(kind, params, task, response, field, msg)    \
    do {                                                          \
        lp_verr e_;                                               \
        int rc_ = kt_response(kind, params, task, response, &e_); \
        CHECK_VERR(rc_, e_, field, msg);                          \
    } while (0)

#endif
