/* test_kinds.c -- the kind registry, the helpers the kind tests share,
 * and the checks every kind must pass: normalised params validate again
 * unchanged, garbage anywhere in params, task or response is rejected
 * with a field under the right prefix and never crashes, every valid
 * response scores 1 against itself, and the examples in docs/KINDS.md are
 * valid.  Also the generic score of a kind without its own. */
#include "test_kinds.h"
#include "export.h"

#include <archive.h>
#include <archive_entry.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *kt_json(const char *text)
{
    char *s = lp_strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'') *p = '"';
    json_error_t err;
    json_t *v = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!v) {
        fprintf(stderr, "bad JSON in a test: %s: %s\n", err.text, s);
        abort();
    }
    free(s);
    return v;
}

int kt_params(const lp_kind *kind, const char *text, json_t **out, lp_verr *e)
{
    json_t *params = kt_json(text);
    memset(e, 0, sizeof *e);
    int rc = kind->validate_params(params, e);
    if (out)
        *out = params;
    else
        json_decref(params);
    return rc;
}

/* Parses and validates params that a test states are valid. */
static json_t *valid_params(const lp_kind *kind, const char *text)
{
    lp_verr e;
    json_t *params;
    if (kt_params(kind, text, &params, &e)) {
        fprintf(stderr, "test params rejected: %s: %s\n", e.field, e.message);
        abort();
    }
    return params;
}

int kt_task(const lp_kind *kind, const char *params, const char *task, lp_verr *e)
{
    json_t *p = valid_params(kind, params), *t = kt_json(task);
    memset(e, 0, sizeof *e);
    int rc = kind->validate_task ? kind->validate_task(p, t, e) : 0;
    json_decref(t);
    json_decref(p);
    return rc;
}

int kt_response(const lp_kind *kind, const char *params, const char *task, const char *response,
                lp_verr *e)
{
    json_t *p = valid_params(kind, params), *t = kt_json(task ? task : "{}");
    json_t *r = kt_json(response);
    memset(e, 0, sizeof *e);
    int rc = kind->validate_response(p, t, r, "response", e);
    json_decref(r);
    json_decref(t);
    json_decref(p);
    return rc;
}

double kt_score(const lp_kind *kind, const char *params, const char *task, const char *response,
                const char *reference)
{
    json_t *p = valid_params(kind, params), *t = kt_json(task ? task : "{}");
    json_t *r[2] = {kt_json(response), kt_json(reference)};
    double s = -1;
    lp_verr e;
    memset(&e, 0, sizeof e);
    int rc = kind->validate_response(p, t, r[0], "response", &e);
    if (!rc) rc = kind->validate_response(p, t, r[1], "reference", &e);
    if (rc)
        fprintf(stderr, "  %s rejected: %s: %s\n", kind->name, e.field, e.message);
    else if (kind->score)
        s = kind->score(p, t, r[0], r[1]);
    json_decref(r[1]);
    json_decref(r[0]);
    json_decref(t);
    json_decref(p);
    return s;
}

json_t *kt_aggregate(const lp_kind *kind, const char *params, const char *task,
                     const char *const *responses, const double *weights, size_t n,
                     double *confidence)
{
    json_t *p = valid_params(kind, params), *t = kt_json(task ? task : "{}"), *out = NULL;
    json_t **r = lp_calloc(n ? n : 1, sizeof *r);
    lp_verr e;
    memset(&e, 0, sizeof e);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        r[i] = kt_json(responses[i]);
        rc = kind->validate_response(p, t, r[i], "response", &e);
    }
    if (rc) fprintf(stderr, "  %s rejected: %s: %s\n", kind->name, e.field, e.message);
    if (!rc)
        rc = lp_kind_aggregate(kind, p, t, (const json_t *const *)r, weights, n, &out, confidence);
    if (!rc && kind->validate_response(p, t, out, "result", &e)) {
        fprintf(stderr, "  %s made an invalid result: %s: %s\n", kind->name, e.field, e.message);
        json_decref(out);
        out = NULL;
    }
    for (size_t i = 0; i < n; i++) json_decref(r[i]);
    free(r);
    json_decref(t);
    json_decref(p);
    return out;
}

int kt_equal_at(const json_t *v, const char *path, const char *want)
{
    char *copy = lp_strdup(path), *save = NULL;
    for (char *part = strtok_r(copy, ".", &save); part && v; part = strtok_r(NULL, ".", &save))
        v = json_is_array(v) ? json_array_get(v, strtoul(part, NULL, 10))
                             : json_object_get(v, part);
    free(copy);
    json_t *w = kt_json(want);
    int eq = v && json_equal(v, w);
    json_decref(w);
    return eq;
}

TEST(kind_registry_finds_each_kind_by_name_in_order)
{
    static const char *const names[] = {
        "categorization", "imageannotation", "namedentityrecognition",
        "transcription",  "comparison",      "ranking",
        "rating",         "textcollection",  "redteam",
        "lidarannotation", "segmentation",
        "videoannotation"};
    size_t n;
    const lp_kind *const *all = lp_kind_all(&n);
    CHECK_INT(n, LP_ARRAY_LEN(names));
    for (size_t i = 0; i < n; i++) {
        CHECK_STR(all[i]->name, names[i]);
        CHECK(lp_kind_find(names[i]) == all[i]);
        CHECK_INT(all[i]->version, 1);
        CHECK(all[i]->summary && all[i]->summary[0]);
        CHECK(all[i]->validate_params && all[i]->validate_response);
    }
    CHECK(lp_kind_find("categorization") == &lp_kind_categorization);
    CHECK(lp_kind_find("Categorization") == NULL);
    CHECK(lp_kind_find("Segmentation") == NULL);
    CHECK(lp_kind_find("") == NULL);
    CHECK(lp_kind_find(NULL) == NULL);
}

TEST(kind_messages_quote_values_readably)
{
    char q[32];
    CHECK_STR(lp_quote(q, sizeof q, "dog"), "\"dog\"");
    CHECK_STR(lp_quote(q, sizeof q, "a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    /* Cut to fit, never inside a character: 26 bytes of room hold 13 'é',
     * or 'a' and 12 'é' (the 13th would be split). */
    CHECK_STR(lp_quote(q, sizeof q, "ééééééééééééééééééééé"), "\"ééééééééééééé...\"");
    CHECK_INT(strlen(q), sizeof q - 1);
    CHECK_STR(lp_quote(q, sizeof q, "aééééééééééééééééééééé"), "\"aéééééééééééé...\"");
}

/* For every kind, a valid (params, task, response) that uses most of what
 * the kind offers; the garbage tests start from these. */
typedef struct sample {
    const lp_kind *kind;
    const char *params, *task, *response;
} sample;

static const sample samples[] = {
    {&lp_kind_categorization,
     "{'labels': ['cat', {'name': 'dog', 'description': 'A dog'}], 'multiple': true, "
     "'instructions': '# Pick'}",
     "{'attachments': [{'type': 'image', 'url': 'https://x/1.jpg'}], 'data': {}}",
     "{'labels': ['dog', 'cat']}"},
    {&lp_kind_imageannotation,
     "{'labels': ['cat', 'bird'], 'attributes': [{'name': 'color', 'type': 'category', "
     "'choices': ['red', 'blue'], 'required': true}, {'name': 'size', 'type': 'number', "
     "'min': 0, 'max': 10}, {'name': 'note', 'type': 'text'}, {'name': 'occluded', "
     "'type': 'boolean'}]}",
     "{'attachments': [{'type': 'image', 'url': 'https://x/1.jpg'}], "
     "'data': {'width': 640, 'height': 480}}",
     "{'annotations': [{'type': 'box', 'label': 'cat', 'x': 1, 'y': 2, 'width': 30, "
     "'height': 40, 'id': 'a', 'attributes': {'color': 'red', 'size': 3.5, 'note': 'n', "
     "'occluded': false}}, {'type': 'polygon', 'label': 'bird', 'vertices': [{'x': 0, "
     "'y': 0}, {'x': 10, 'y': 0}, {'x': 5, 'y': 8}], 'attributes': {'color': 'blue'}}, "
     "{'type': 'line', 'label': 'cat', 'vertices': [{'x': 0, 'y': 0}, {'x': 640, 'y': 480}], "
     "'attributes': {'color': 'red'}}, {'type': 'point', 'label': 'bird', 'x': 3, 'y': 4, "
     "'attributes': {'color': 'red'}}]}"},
    {&lp_kind_namedentityrecognition, "{'labels': ['PER', 'LOC'], 'relations': ['lives_in']}",
     "{'attachments': [], 'data': {'text': 'Zoë lives in Zürich'}}",
     "{'spans': [{'start': 0, 'end': 3, 'label': 'PER', 'text': 'Zoë'}, {'start': 13, "
     "'end': 19, 'label': 'LOC'}], 'relations': [{'from': 0, 'to': 1, 'label': 'lives_in'}]}"},
    {&lp_kind_transcription, "{'segments': true, 'max_length': 100}",
     "{'attachments': [{'type': 'audio', 'url': 'https://x/1.mp3'}], 'data': {'duration': 10}}",
     "{'segments': [{'start': 0, 'end': 2.5, 'text': 'hello', 'speaker': 'A'}, {'start': 2.5, "
     "'end': 4, 'text': 'hi'}]}"},
    {&lp_kind_comparison,
     "{'strength': true, 'aspects': ['accuracy', {'name': 'style'}], "
     "'justification': 'required'}",
     "{'attachments': [], 'data': {'prompt': 'Say hi', 'responses': [{'id': 'a', 'text': 'Hi', "
     "'model': 'm1'}, {'id': 'b', 'text': 'Hello'}]}}",
     "{'choice': 'a', 'strength': 2, 'aspects': {'accuracy': 'a', 'style': 'tie'}, "
     "'justification': 'Shorter.'}"},
    {&lp_kind_ranking, "{'allow_ties': true}",
     "{'attachments': [], 'data': {'prompt': 'Say hi', 'responses': ['Hi', 'Hello', 'Hey']}}",
     "{'ranking': ['1', ['0', '2']]}"},
    {&lp_kind_rating,
     "{'criteria': ['helpfulness', {'name': 'safety', 'min': 0, 'max': 1, 'step': 0.5, "
     "'labels': ['unsafe', 'unsure', 'safe'], 'required': false}]}",
     "{'attachments': [], 'data': {}}",
     "{'ratings': {'helpfulness': 4, 'safety': 0.5}, "
     "'comment': 'ok'}"},
    {&lp_kind_textcollection,
     "{'fields': ['question', {'name': 'answer', 'min_length': 2, 'max_length': 50, "
     "'required': false}]}",
     "{'attachments': [], 'data': {}}", "{'fields': {'question': 'Why?', 'answer': 'Because'}}"},
    {&lp_kind_redteam,
     "{'endpoint_id': 3, 'harm_categories': ['violence', {'name': 'self_harm'}], "
     "'severity': {'min': 0, 'max': 3}, 'max_turns': 2, 'system_prompt': 'Be safe.'}",
     "{'attachments': [], 'data': {'goal': 'Get a recipe for harm', 'category': 'violence'}}",
     "{'conversation': [{'role': 'user', 'content': 'Tell me'}, {'role': 'assistant', "
     "'content': 'No', 'model': 'm-1'}, {'role': 'user', 'content': 'Please'}, {'role': "
     "'assistant', 'content': 'Fine: ...'}], 'success': true, 'category': 'violence', "
     "'severity': 2, 'notes': 'gave in on turn 2'}"},
    {&lp_kind_lidarannotation,
     "{'labels': ['car', 'pedestrian'], 'attributes': [{'name': 'moving', 'type': 'boolean'}, "
     "{'name': 'occlusion', 'type': 'category', 'choices': ['none', 'partial']}]}",
     "{'attachments': [{'type': 'pointcloud', 'file': 'f0'}, {'type': 'pointcloud', 'file': "
     "'f1'}, {'type': 'image', 'file': 'c0'}], 'data': {'calibration': [{'image': 2, 'K': "
     "[[700, 0, 320], [0, 700, 240], [0, 0, 1]], 'extrinsic': [[0, -1, 0, 0], [0, 0, -1, 0], "
     "[1, 0, 0, 0], [0, 0, 0, 1]]}]}}",
     "{'cuboids': [{'track': 1, 'frame': 0, 'label': 'car', 'x': 10, 'y': 2, 'z': -0.5, "
     "'length': 4.2, 'width': 1.8, 'height': 1.5, 'yaw': 0.1, 'attributes': {'moving': true, "
     "'occlusion': 'none'}}, {'track': 1, 'frame': 1, 'label': 'car', 'x': 11, 'y': 2, 'z': "
     "-0.5, 'length': 4.2, 'width': 1.8, 'height': 1.5, 'yaw': 0.1}]}"},
    {&lp_kind_segmentation,
     "{'labels': ['road', {'name': 'car', 'color': '#ff0000'}], 'opacity': 0.4}",
     "{'attachments': [{'type': 'image', 'url': 'https://x/1.png'}], "
     "'data': {'width': 4, 'height': 3}}",
     "{'masks': [{'label': 'road', 'rle': {'size': [3, 4], 'counts': [3, 3, 6]}}, "
     "{'label': 'car', 'rle': {'size': [3, 4], 'counts': '66'}}]}"},
    {&lp_kind_videoannotation,
     "{'labels': ['car', 'person'], 'attributes': [{'name': 'color', 'type': 'category', "
     "'choices': ['red', 'blue']}], 'frame_attributes': [{'name': 'occluded', 'type': "
     "'boolean'}], 'events': ['crash'], 'fps': 25}",
     "{'attachments': [{'type': 'video', 'url': 'https://x/1.webm'}], "
     "'data': {'frames': 100, 'fps': 25, 'width': 640, 'height': 480}}",
     "{'tracks': [{'id': 1, 'label': 'car', 'shape': 'box', 'attributes': {'color': 'red'}, "
     "'keyframes': [{'frame': 0, 'x': 1, 'y': 2, 'width': 30, 'height': 40}, {'frame': 10, "
     "'x': 11, 'y': 2, 'width': 30, 'height': 40, 'attributes': {'occluded': true}}, "
     "{'frame': 20, 'outside': true}]}, {'id': 2, 'label': 'person', 'shape': 'polygon', "
     "'keyframes': [{'frame': 5, 'vertices': [{'x': 0, 'y': 0}, {'x': 10, 'y': 0}, {'x': 5, "
     "'y': 8}]}]}, {'label': 'person', 'shape': 'point', 'keyframes': [{'frame': 3, 'x': 3, "
     "'y': 4}]}], 'events': [{'label': 'crash', 'start': 10, 'end': 40}]}"},
};

TEST(kind_samples_are_valid)
{
    for (size_t i = 0; i < LP_ARRAY_LEN(samples); i++) {
        const sample *s = &samples[i];
        TASK_OK(s->kind, s->params, s->task);
        RESPONSE_OK(s->kind, s->params, s->task, s->response);
    }
}

/* A kind that says it is task-free validates and scores a response the
 * same with the task as with an empty object: the submit path gives it the
 * latter.  The kinds that read the task are not task-free. */
TEST(kind_task_free_kinds_do_not_read_the_task)
{
    for (size_t i = 0; i < LP_ARRAY_LEN(samples); i++) {
        const sample *s = &samples[i];
        if (!s->kind->task_free) continue;
        lp_verr e;
        CHECK_VALID(kt_response(s->kind, s->params, NULL, s->response, &e), e);
        CHECK_NEAR(kt_score(s->kind, s->params, NULL, s->response, s->response), 1.0, 1e-12);
    }
    static const char *const readers[] = {"imageannotation", "namedentityrecognition",
                                          "transcription", "comparison", "ranking"};
    for (size_t i = 0; i < LP_ARRAY_LEN(readers); i++) CHECK(!lp_kind_find(readers[i])->task_free);
}

/* Normalised params must validate again to the same JSON: a project whose
 * settings are edited and saved again keeps them. */
TEST(kind_params_normalise_idempotently)
{
    for (size_t i = 0; i < LP_ARRAY_LEN(samples); i++) {
        lp_verr e;
        json_t *once = valid_params(samples[i].kind, samples[i].params);
        json_t *twice = json_deep_copy(once);
        int rc = samples[i].kind->validate_params(twice, &e);
        int same = json_equal(once, twice);
        json_decref(once);
        json_decref(twice);
        CHECK_VALID(rc, e);
        CHECK(same);
    }
}

static const char *const garbage[] = {
    "null",
    "true",
    "0",
    "-1",
    "1.5",
    "1e300",
    "-1e300",
    "9223372036854775807",
    "-9223372036854775808",
    "''",
    "'x'",
    "'\\u00e9'",
    "'\\u0000'",
    "[]",
    "[1]",
    "[null]",
    "{}",
    "{'x': 1}",
    "{'name': 'x'}",
    "[[]]",
};

/* Checks a validation result: 0, or LP_EINVAL with a message and a field
 * starting with prefix.  Returns 0 when it is fine. */
static int bad_result(int rc, const lp_verr *e, const char *prefix)
{
    if (rc == 0) return 0;
    if (rc != LP_EINVAL) return 1;
    return strncmp(e->field, prefix, strlen(prefix)) != 0 || !e->message[0];
}

/* Replaces the k-th value below v (pre-order, v itself not counted) with a
 * copy of g; returns 1 once done, and counts down *k. */
static int replace_nth(json_t *v, size_t *k, const json_t *g)
{
    const char *key;
    json_t *child;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach(v, key, child)
        {
            if ((*k)-- == 0) return json_object_set_new(v, key, json_deep_copy(g)) == 0;
            if (replace_nth(child, k, g)) return 1;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, child)
        {
            if ((*k)-- == 0) return json_array_set_new(v, i, json_deep_copy(g)) == 0;
            if (replace_nth(child, k, g)) return 1;
        }
    }
    return 0;
}

/* Runs every function of kind on (params, task, response) and reports
 * whether any result is out of contract.  When the params are rejected the
 * other functions still must not crash (their results are not judged).
 * When all three are valid, the response must score exactly 1 against
 * itself, and between 0 and 1 against reference (the untouched sample
 * response) and back, when that is valid too. */
static int run_all(const lp_kind *kind, json_t *params, const json_t *task, const json_t *response,
                   const json_t *reference)
{
    lp_verr e;
    memset(&e, 0, sizeof e);
    int prc = kind->validate_params(params, &e);
    if (bad_result(prc, &e, "params")) return 1;
    int trc = kind->validate_task ? kind->validate_task(params, task, &e) : 0;
    if (prc == 0 && (trc != 0 && trc != LP_EINVAL)) return 1;
    memset(&e, 0, sizeof e);
    int rc = kind->validate_response(params, task, response, "response", &e);
    if (prc == 0 && bad_result(rc, &e, "response")) return 1;
    if (prc || trc || rc) return 0;
    if (kind->score(params, task, response, response) != 1) return 1;
    if (kind->validate_response(params, task, reference, "response", &e)) return 0;
    double there = kind->score(params, task, response, reference);
    double back = kind->score(params, task, reference, response);
    return !(there >= 0 && there <= 1 && back >= 0 && back <= 1);
}

TEST(kind_garbage_anywhere_is_rejected_without_crashing)
{
    for (size_t s = 0; s < LP_ARRAY_LEN(samples); s++) {
        const sample *sm = &samples[s];
        json_t *base[3] = {kt_json(sm->params), kt_json(sm->task), kt_json(sm->response)};
        int bad = 0;
        for (size_t gi = 0; gi < LP_ARRAY_LEN(garbage) && !bad; gi++) {
            json_t *g = kt_json(garbage[gi]);
            /* which: 0 params, 1 task, 2 response; k = (size_t)-1 is the
             * whole value, then every value inside it in turn. */
            for (int which = 0; which < 3 && !bad; which++) {
                for (size_t k = (size_t)-1;; k++) {
                    json_t *v[3];
                    for (int j = 0; j < 3; j++) v[j] = json_deep_copy(base[j]);
                    size_t left = k;
                    int replaced = 1;
                    if (k == (size_t)-1) {
                        json_decref(v[which]);
                        v[which] = json_deep_copy(g);
                    } else {
                        replaced = replace_nth(v[which], &left, g);
                    }
                    if (replaced && run_all(sm->kind, v[0], v[1], v[2], base[2])) {
                        char *text = json_dumps(v[which], JSON_COMPACT);
                        lp_test_fail(__FILE__, __LINE__, "%s: out of contract on %s",
                                     sm->kind->name, text);
                        free(text);
                        bad = 1;
                    }
                    for (int j = 0; j < 3; j++) json_decref(v[j]);
                    if (!replaced || bad) break;
                }
            }
            json_decref(g);
        }
        for (int j = 0; j < 3; j++) json_decref(base[j]);
        if (bad) return;
    }
}

TEST(kind_response_that_is_not_an_object_is_rejected_at_its_path)
{
    static const char *const not_objects[] = {"null", "'labels'", "[]", "42", "false"};
    for (size_t s = 0; s < LP_ARRAY_LEN(samples); s++) {
        json_t *params = valid_params(samples[s].kind, samples[s].params);
        json_t *task = kt_json(samples[s].task);
        for (size_t i = 0; i < LP_ARRAY_LEN(not_objects); i++) {
            lp_verr e;
            json_t *r = kt_json(not_objects[i]);
            int rc =
                samples[s].kind->validate_response(params, task, r, "predictions[2].response", &e);
            json_decref(r);
            CHECK_VERR(rc, e, "predictions[2].response", "must be an object");
        }
        lp_verr e;
        int rc = samples[s].kind->validate_response(params, task, NULL, "response", &e);
        json_decref(task);
        json_decref(params);
        CHECK_VERR(rc, e, "response", "must be an object");
    }
}

TEST(kind_params_that_are_not_an_object_are_rejected)
{
    static const char *const not_objects[] = {"null", "'x'", "[]", "1"};
    for (size_t s = 0; s < LP_ARRAY_LEN(samples); s++)
        for (size_t i = 0; i < LP_ARRAY_LEN(not_objects); i++)
            PARAMS_ERR(samples[s].kind, not_objects[i], "params", "must be an object");
}

TEST(kind_unknown_response_keys_are_rejected)
{
    for (size_t s = 0; s < LP_ARRAY_LEN(samples); s++) {
        json_t *params = valid_params(samples[s].kind, samples[s].params);
        json_t *task = kt_json(samples[s].task), *r = kt_json(samples[s].response);
        lp_verr e;
        json_object_set_new(r, "confidance", json_real(0.5));
        int rc = samples[s].kind->validate_response(params, task, r, "response", &e);
        json_decref(r);
        json_decref(task);
        json_decref(params);
        CHECK_VERR(rc, e, "response.confidance", "is not a known field");
    }
}

TEST(kind_sample_responses_score_1_against_themselves)
{
    for (size_t i = 0; i < LP_ARRAY_LEN(samples); i++) {
        const sample *s = &samples[i];
        json_t *params = valid_params(s->kind, s->params), *task = kt_json(s->task);
        json_t *a = kt_json(s->response), *b = kt_json(s->response);
        double own = lp_kind_score(s->kind, params, task, a, b);
        double raw = s->kind->score ? s->kind->score(params, task, b, a) : -1;
        json_decref(b);
        json_decref(a);
        json_decref(task);
        json_decref(params);
        if (own != 1 || raw != 1) {
            lp_test_fail(__FILE__, __LINE__, "%s: scores %g (raw %g) against itself", s->kind->name,
                         own, raw);
            return;
        }
    }
}

static double fixed_value;

static double fixed_score(const json_t *params, const json_t *task, const json_t *response,
                          const json_t *reference)
{
    (void)params, (void)task, (void)response, (void)reference;
    return fixed_value;
}

/* Scores a and b (JSON texts) with kind k and no params or task. */
static double score_texts(const lp_kind *k, const char *a, const char *b)
{
    json_t *x = kt_json(a), *y = kt_json(b);
    double s = lp_kind_score(k, NULL, NULL, x, y);
    json_decref(y);
    json_decref(x);
    return s;
}

TEST(kind_score_without_a_slot_is_canonical_json_equality)
{
    const lp_kind bare = {.version = 1, .name = "bare", .summary = "No score slot."};
    const char *ref = "{'a': 1, 'b': [1, {'c': 'x', 'd': null}], 'e': {'f': true, 'g': 2.5}}";
    /* Key order does not matter, at any depth; array order and values do. */
    CHECK_NEAR(score_texts(&bare, ref, ref), 1, 0);
    CHECK_NEAR(score_texts(&bare,
                           "{'e': {'g': 2.5, 'f': true}, 'b': [1, {'d': null, 'c': 'x'}], 'a': 1}",
                           ref),
               1, 0);
    CHECK_NEAR(score_texts(&bare,
                           "{'a': 1, 'b': [{'c': 'x', 'd': null}, 1], 'e': {'f': true, "
                           "'g': 2.5}}",
                           ref),
               0, 0);
    CHECK_NEAR(
        score_texts(&bare, "{'a': 1, 'b': [1, {'c': 'x'}], 'e': {'f': true, 'g': 2.5}}", ref), 0,
        0);
    CHECK_NEAR(score_texts(&bare,
                           "{'a': 1, 'b': [1, {'c': 'X', 'd': null}], 'e': {'f': true, "
                           "'g': 2.5}}",
                           ref),
               0, 0);
    CHECK_NEAR(score_texts(NULL, "[1, 2]", "[1, 2]"), 1, 0);
    json_t *x = kt_json("{}");
    CHECK_NEAR(lp_kind_score(&bare, NULL, NULL, x, NULL), 0, 0);
    CHECK_NEAR(lp_kind_score(&bare, NULL, NULL, NULL, x), 0, 0);
    json_decref(x);
}

TEST(kind_score_is_clamped_to_0_1)
{
    const lp_kind k = {.version = 1, .name = "fixed", .summary = "x", .score = fixed_score};
    static const double in[] = {0.25, 1.5, -0.5, NAN, HUGE_VAL, -HUGE_VAL},
                        out[] = {0.25, 1, 0, 0, 1, 0};
    for (size_t i = 0; i < LP_ARRAY_LEN(in); i++) {
        fixed_value = in[i];
        CHECK_NEAR(score_texts(&k, "{}", "{'x': 1}"), out[i], 0);
    }
}

/* Reads the ```json blocks of docs/KINDS.md: in each "## <kind>" section
 * the first three are that kind's params, task and response. */
TEST(kind_docs_examples_are_valid)
{
    FILE *f = fopen("docs/KINDS.md", "r");
    if (!f) {
        lp_test_fail(__FILE__, __LINE__, "cannot open docs/KINDS.md (run from the repo root)");
        return;
    }
    char line[1024];
    const lp_kind *kind = NULL;
    lp_buf block = {0};
    json_t *parts[3] = {NULL, NULL, NULL};
    int nparts = 0, in_block = 0, nkinds = 0, bad = 0;
    while (!bad && fgets(line, sizeof line, f)) {
        if (!in_block && strncmp(line, "## ", 3) == 0) {
            char name[64];
            if (sscanf(line + 3, "%63s", name) != 1) continue;
            kind = lp_kind_find(name);
            for (int j = 0; j < nparts; j++) json_decref(parts[j]), parts[j] = NULL;
            nparts = 0;
        } else if (!in_block && strncmp(line, "```json", 7) == 0) {
            in_block = 1;
            block.len = 0;
            lp_buf_puts(&block, "");
        } else if (in_block && strncmp(line, "```", 3) == 0) {
            in_block = 0;
            if (!kind || nparts >= 3) continue;
            json_error_t err;
            parts[nparts] = json_loads(block.data, 0, &err);
            if (!parts[nparts]) {
                lp_test_fail(__FILE__, __LINE__, "%s example: %s", kind->name, err.text);
                bad = 1;
                break;
            }
            if (++nparts < 3) continue;
            lp_verr e;
            int rc = kind->validate_params(parts[0], &e);
            if (!rc && kind->validate_task) rc = kind->validate_task(parts[0], parts[1], &e);
            if (!rc) rc = kind->validate_response(parts[0], parts[1], parts[2], "response", &e);
            if (rc) {
                lp_test_fail(__FILE__, __LINE__, "%s example rejected: %s: %s", kind->name, e.field,
                             e.message);
                bad = 1;
            }
            for (int j = 0; j < 3; j++) json_decref(parts[j]), parts[j] = NULL;
            nkinds++;
        } else if (in_block) {
            lp_buf_puts(&block, line);
        }
    }
    for (int j = 0; j < nparts && j < 3; j++) json_decref(parts[j]);
    lp_buf_fini(&block);
    fclose(f);
    if (bad) return;
    size_t n;
    lp_kind_all(&n);
    CHECK_INT(nkinds, n);
}

void kt_export_tasks(const lp_export_format *fmt, lp_export_ctx *cx, lp_buf *out,
                     const char *const *tasks, size_t n)
{
    fmt->begin(cx, out);
    for (size_t i = 0; i < n; i++) {
        json_t *t = kt_json(tasks[i]);
        char *s = json_dumps(t, JSON_COMPACT);
        fmt->task(cx, out, i, s, strlen(s));
        free(s);
        json_decref(t);
    }
}

int kt_export_zip(const lp_kind *kind, const char *params, const char *format,
                  const char *const *tasks, size_t n, json_t **files)
{
    const lp_export_format *fmt = lp_export_find(format);
    json_t *p = NULL;
    lp_verr e;
    *files = json_object();
    if (!fmt || kt_params(kind, params, &p, &e)) return -1;
    lp_export_ctx cx = {.kind = kind->name, .params = p};
    lp_buf out = {0};
    kt_export_tasks(fmt, &cx, &out, tasks, n);
    int rc; /* end() may write the rest in several parts (1: more to come) */
    while ((rc = fmt->end(&cx, &out, n)) == 1) {
    }
    rc = rc ? -1 : 0;
    fmt->free_state(&cx);
    json_decref(p);
    struct archive *a = archive_read_new();
    archive_read_support_format_zip(a);
    struct archive_entry *ent;
    if (archive_read_open_memory(a, out.data, out.len) != ARCHIVE_OK) rc = -1;
    while (rc == 0 && archive_read_next_header(a, &ent) == ARCHIVE_OK) {
        lp_buf data = {0};
        char chunk[4096];
        la_ssize_t k;
        while ((k = archive_read_data(a, chunk, sizeof chunk)) > 0)
            lp_buf_append(&data, chunk, (size_t)k);
        if (k < 0) rc = -1;
        json_object_set_new(*files, archive_entry_pathname(ent),
                            json_stringn_nocheck(data.data ? data.data : "", data.len));
        lp_buf_fini(&data);
    }
    archive_read_free(a);
    lp_buf_fini(&out);
    return rc;
}
