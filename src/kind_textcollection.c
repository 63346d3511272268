/* kind_textcollection.c -- free text written by the annotator
 * (instruction-tuning demonstrations, rewrites, summaries).
 *
 * A response is one text, or, when the project lists fields, one text per
 * field ({"fields": {"question": ..., "answer": ...}}).  Lengths count
 * Unicode code points.  Field bounds default to the project's, so after
 * validate_params every field carries its own min_length, max_length and
 * required. */
#include "kind.h"
#include "util.h"

/* Upper bound on any length setting, to keep arithmetic far from overflow. */
#define MAX_TEXT 100000000

/* Checks obj's min_length and max_length (at path), filling them from
 * min_default and max_default; max_length must not be below min_length. */
static int check_bounds(json_t *obj, const char *path, long long min_default, long long max_default,
                        lp_verr *e)
{
    long long min, max;
    char field[256];
    int rc;
    lp_json_default(obj, "min_length", json_integer(min_default));
    lp_json_default(obj, "max_length", json_integer(max_default));
    if ((rc = lp_v_int(obj, "min_length", path, 1, 0, MAX_TEXT, &min, e)) ||
        (rc = lp_v_int(obj, "max_length", path, 1, 1, MAX_TEXT, &max, e)))
        return rc;
    /* Stored as integers even when given as 10.0, so readers can use
     * json_integer_value(). */
    json_object_set_new(obj, "min_length", json_integer(min));
    json_object_set_new(obj, "max_length", json_integer(max));
    if (max < min)
        return lp_verr_set(e, lp_path_key(field, sizeof field, path, "max_length"),
                           "must not be less than min_length (%lld); got %lld", min, max);
    return 0;
}

/* Checks params {min_length, max_length, fields, instructions}; fills the
 * bounds (1 and 10000), fields ([]: one text) and each field's bounds (the
 * project's) and required (true). */
static int validate_params(json_t *params, lp_verr *e)
{
    static const char *const keys[] = {"min_length",   "max_length",   "fields",
                                       "instructions", "allow_reject", NULL};
    static const char *const field_keys[] = {"min_length", "max_length", "required", NULL};
    json_t *f;
    size_t i;
    int rc;
    if ((rc = lp_v_object(params, "params", e))) return rc;
    if ((rc = lp_v_only_keys(params, "params", keys, e))) return rc;
    if ((rc = check_bounds(params, "params", 1, 10000, e))) return rc;
    if ((rc = lp_v_names(params, "fields", "params", 0, 0, field_keys, e))) return rc;
    json_int_t min = json_integer_value(json_object_get(params, "min_length"));
    json_int_t max = json_integer_value(json_object_get(params, "max_length"));
    json_array_foreach(json_object_get(params, "fields"), i, f)
    {
        char at[256];
        lp_path_index(at, sizeof at, "params.fields", i);
        lp_json_default(f, "required", json_true());
        if ((rc = check_bounds(f, at, min, max, e)) ||
            (rc = lp_v_bool(f, "required", at, 1, NULL, e)))
            return rc;
    }
    lp_json_default(params, "allow_reject", json_false());
    if ((rc = lp_v_bool(params, "allow_reject", "params", 1, NULL, e))) return rc;
    return lp_v_string(params, "instructions", "params", 0, 0, 0, NULL, e);
}

/* 1 when the response turns the task down ({"rejected": true}). */
static int rejected(const json_t *response)
{
    return json_is_true(json_object_get(response, "rejected"));
}

/* The length bounds stored in obj (normalised params or a field). */
static size_t bound(const json_t *obj, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(obj, key));
    return v > 0 ? (size_t)v : 0;
}

/* Checks a response {text} or, when the project has fields,
 * {fields: {name: text}}, each text within its bounds; or, when the
 * project allows it (allow_reject: drafts to accept, fix or reject),
 * {rejected: true, reason?}. */
static int validate_response(const json_t *params, const json_t *task, const json_t *response,
                             const char *path, lp_verr *e)
{
    static const char *const text_keys[] = {"text", NULL};
    static const char *const fields_keys[] = {"fields", NULL};
    const json_t *fields = json_object_get(params, "fields"), *given, *f;
    char field[256];
    size_t i;
    int rc;
    (void)task;
    if ((rc = lp_v_object(response, path, e))) return rc;
    if (lp_json_given(response, "rejected")) {
        static const char *const reject_keys[] = {"rejected", "reason", NULL};
        lp_path_key(field, sizeof field, path, "rejected");
        if (!json_is_true(json_object_get(params, "allow_reject")))
            return lp_verr_set(e, field, "must be left out: the project does not allow rejecting");
        if (!json_is_true(json_object_get(response, "rejected")))
            return lp_verr_set(e, field, "must be true, or left out with the text given");
        if ((rc = lp_v_only_keys(response, path, reject_keys, e))) return rc;
        return lp_v_string(response, "reason", path, 0, 0, 2000, NULL, e);
    }
    if (!json_array_size(fields)) {
        if ((rc = lp_v_only_keys(response, path, text_keys, e))) return rc;
        return lp_v_string(response, "text", path, 1, bound(params, "min_length"),
                           bound(params, "max_length"), NULL, e);
    }
    if ((rc = lp_v_only_keys(response, path, fields_keys, e))) return rc;
    lp_path_key(field, sizeof field, path, "fields");
    given = lp_json_given(response, "fields");
    if (!given) return lp_verr_set(e, field, "is required");
    if ((rc = lp_v_keys_in(fields, given, field, "fields", 1, e))) return rc;
    json_array_foreach(fields, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        if (name && (rc = lp_v_string(given, name, field, 0, bound(f, "min_length"),
                                      bound(f, "max_length"), NULL, e)))
            return rc;
    }
    return 0;
}

/* A reader of a text as it compares for scoring: ASCII letters folded to
 * lower case, leading and trailing whitespace dropped, and every run of
 * ASCII whitespace inside read as one space. */
typedef struct reader {
    const unsigned char *s;
    size_t n, i;
    int started; /* a character other than a space was read */
} reader;

static int is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The next byte of the normalised text, or -1 at its end. */
static int next_byte(reader *r)
{
    int space = 0;
    while (r->i < r->n && is_space(r->s[r->i])) r->i++, space = 1;
    if (r->i >= r->n) return -1;
    if (space && r->started) return ' '; /* the byte after it is read next time */
    r->started = 1;
    unsigned char c = r->s[r->i++];
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* 1 when the strings a and b are equal once normalised, else 0 (also when
 * either is not a string). */
static int same_text(const json_t *a, const json_t *b)
{
    if (!json_is_string(a) || !json_is_string(b)) return 0;
    reader ra = {(const unsigned char *)json_string_value(a), json_string_length(a), 0, 0};
    reader rb = {(const unsigned char *)json_string_value(b), json_string_length(b), 0, 0};
    for (;;) {
        int x = next_byte(&ra), y = next_byte(&rb);
        if (x != y) return 0;
        if (x < 0) return 1;
    }
}

/* Scores one text 1 when it equals the reference's once both are
 * normalised (trimmed, runs of whitespace as one space, ASCII letters in
 * lower case), else 0.  With fields, scores the share of the fields the
 * reference fills that the response fills with the same normalised text;
 * fields only the response fills are not counted, and a reference that
 * fills none (every field optional) scores 1 when the response fills none
 * either, else 0.  Free text rarely matches exactly, so this suits gold
 * questions with one short right answer (a name, a number, a label).  A
 * rejection (allow_reject) matches a rejection only. */
static double score(const json_t *params, const json_t *task, const json_t *response,
                    const json_t *reference)
{
    const json_t *fields = json_object_get(params, "fields"), *f;
    size_t i, n = 0, given = 0, hits = 0;
    (void)task;
    if (rejected(response) || rejected(reference)) return rejected(response) && rejected(reference);
    if (!json_array_size(fields))
        return same_text(json_object_get(response, "text"), json_object_get(reference, "text"));
    const json_t *a = json_object_get(response, "fields"),
                 *b = json_object_get(reference, "fields");
    json_array_foreach(fields, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        if (!name) continue;
        if (lp_json_given(a, name)) given++;
        if (!lp_json_given(b, name)) continue;
        n++;
        hits += same_text(lp_json_given(a, name), lp_json_given(b, name));
    }
    if (!n) return given == 0;
    return (double)hits / (double)n;
}

const lp_kind lp_kind_textcollection = {
    .version = 1,
    .name = "textcollection",
    .summary = "Write free text (demonstrations, rewrites, answers), as one text or named "
               "fields.",
    .validate_params = validate_params,
    .validate_task = NULL,
    .validate_response = validate_response,
    .task_free = 1,
    .score = score,
};
