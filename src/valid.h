/* valid.h -- validation of JSON input with errors that name the field.
 *
 * Every check takes the path of the value it looks at ("response",
 * "response.annotations[3]") and, on failure, fills an lp_verr with the full
 * path of the offending field and a sentence, then returns LP_EINVAL:
 *   response.annotations[3].label: "dog" is not in the project's labels
 * The API turns an lp_verr into HTTP 400/422 with {"error":{"field":...}}. */
#ifndef LP_VALID_H
#define LP_VALID_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct lp_verr {
    char field[256];
    char message[512];
} lp_verr;

/* Sets field and message (printf-style); always returns LP_EINVAL. */
int lp_verr_set(lp_verr *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Builds "path.key" or "path[i]" into out (at least 256 bytes); returns out. */
char *lp_path_key(char *out, size_t n, const char *path, const char *key);
char *lp_path_index(char *out, size_t n, const char *path, size_t i);

/* Type names as users read them: "object", "array", "string", "number"... */
const char *lp_json_type_name(const json_t *v);

/* Each lp_v_* looks up obj[key] (path is obj's path).  required=1 makes a
 * missing or null value an error; otherwise a missing value leaves *out
 * unchanged and returns 0.  Each returns 0 or LP_EINVAL with e filled. */
int lp_v_object(const json_t *v, const char *path, lp_verr *e);
int lp_v_string(const json_t *obj, const char *key, const char *path, int required, size_t min_len,
                size_t max_len, const char **out, lp_verr *e);
int lp_v_int(const json_t *obj, const char *key, const char *path, int required, long long min,
             long long max, long long *out, lp_verr *e);
int lp_v_number(const json_t *obj, const char *key, const char *path, int required, double min,
                double max, double *out, lp_verr *e);
int lp_v_bool(const json_t *obj, const char *key, const char *path, int required, int *out,
              lp_verr *e);
/* *out is the array (borrowed), or NULL when optional and missing. */
int lp_v_array(const json_t *obj, const char *key, const char *path, int required, size_t min_items,
               size_t max_items, const json_t **out, lp_verr *e);
/* Rejects keys of obj that are not in the NULL-terminated list allowed. */
int lp_v_only_keys(const json_t *obj, const char *path, const char *const *allowed, lp_verr *e);
/* A finite number (jansson integers or reals); 0 if v is one. */
int lp_json_number(const json_t *v, double *out);

/* How Loupe writes JSON: compact, any value, and reals with 15 significant
 * digits so that 0.05 comes back as 0.05, not 0.050000000000000003. */
#define LP_JSON_DUMP (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

/* The members named in keys (nkeys of them) of a JSON object's text s[0..n),
 * one lp_json_parse accepted (valid, no duplicate keys), as the text of
 * their values, where that text is byte for byte what
 * json_dumps(value, LP_JSON_DUMP) writes: compact, numbers that are
 * integers (not -0), strings with no escapes but \" \\ \b \f \n \r \t.
 * spans[k] is NULL (lens[k] 0) for a key that is missing, spelled with an
 * escape, or whose value is not in that form (null is not: a caller treats
 * it as missing).  A bulk import stores such values as they came, without
 * encoding them again. */
void lp_json_canonical_members(const char *s, size_t n, const char *const *keys, size_t nkeys,
                               const char **spans, size_t *lens);

/* Appends s as a JSON string (quoted and escaped by jansson). */
void lp_buf_json_string(lp_buf *b, const char *s);

/* ms since the epoch as an RFC 3339 UTC JSON string (new reference). */
json_t *lp_json_time(int64_t ms);

/* Number of Unicode code points in a UTF-8 string (jansson strings are valid
 * UTF-8). */
size_t lp_utf8_len(const char *s, size_t nbytes);

/* Byte offset of code point cp in a UTF-8 string of nbytes bytes (nbytes
 * when cp is at or past the end), so a span of code points [a, b) is the
 * bytes [lp_utf8_offset(s, n, a), lp_utf8_offset(s, n, b)). */
size_t lp_utf8_offset(const char *s, size_t nbytes, size_t cp);

/* ---- Helpers shared by the annotation kinds (kind_*.c) ---------------- */

/* Writes s into out as a quoted string for a message ("dog"), escaping
 * quotes, backslashes and control characters as JSON does and cutting it
 * with "..." to fit n bytes (n at least 16); returns out. */
char *lp_quote(char *out, size_t n, const char *s);

/* Checks that v (at field) is one of the strings in choices (NULL-
 * terminated); on failure the message reads "\"x\" is not <what>; use a, b
 * or c".  *index (may be NULL) receives its position in choices. */
int lp_v_one_of(const json_t *v, const char *field, const char *const *choices, const char *what,
                size_t *index, lp_verr *e);

/* obj[key] when it is present and not null, else NULL. */
const json_t *lp_json_given(const json_t *obj, const char *key);

/* Sets obj[key] to value when it is missing or null; otherwise drops value.
 * Steals the reference to value.  Used to fill defaults in params. */
void lp_json_default(json_t *obj, const char *key, json_t *value);

/* Checks obj[key] as a list of named things (labels, aspects, criteria,
 * attributes, fields): each item is a non-empty string or an object with a
 * non-empty string "name", an optional string "description" and the keys
 * in extra (NULL-terminated; NULL for none).  Names are unique and hold no
 * NUL character.  Normalises in place: a string item becomes {"name": s};
 * an optional list that is missing becomes [].  Returns 0 or LP_EINVAL with
 * the field of the bad item ("params.labels[2]"). */
int lp_v_names(json_t *obj, const char *key, const char *path, int required, size_t min_items,
               const char *const *extra, lp_verr *e);
/* Index of the item of a list checked by lp_v_names whose name is the
 * len bytes at name, or -1.  Tolerates a list of any shape. */
long lp_names_find(const json_t *list, const char *name, size_t len);
/* Checks that v (at field) is a string naming an item of list; on failure
 * the message reads "\"dog\" is not in the project's <what>".  *index (may be
 * NULL) receives the item's index. */
int lp_v_name_in(const json_t *list, const json_t *v, const char *field, const char *what,
                 size_t *index, lp_verr *e);
/* Checks that obj (at path) is an object keyed by names of list: a key that
 * names no item fails at "path.key" ("\"x\" is not in the project's <what>"),
 * and so does a missing or null value for an item whose "required" is true
 * (items without "required" count as required when required_default). */
int lp_v_keys_in(const json_t *list, const json_t *obj, const char *path, const char *what,
                 int required_default, lp_verr *e);

/* Attributes: the questions a shape, track or cuboid answers, as the
 * geometric kinds share them.  A definition is a named object {"type":
 * "category" (with "choices") | "number" (optional "min", "max") | "text" |
 * "boolean", "required" (default false)}.  lp_v_attribute_defs checks
 * params[key], a list of them (default []), and fills each "required".
 * lp_v_attribute_values checks attrs (the value of at.attributes, NULL when
 * not given) against defs: no unknown name, required ones present, each
 * value of its type and within its bounds. */
int lp_v_attribute_defs(json_t *params, const char *key, lp_verr *e);
int lp_v_attribute_values(const json_t *defs, const json_t *attrs, const char *at, lp_verr *e);

/* Pixel geometry on a picture (an image, a video frame) of width x height
 * (HUGE_VAL where unknown), called what ("image", "frame") in messages.
 * Coordinates are in [0, width] and [0, height], give or take 1e-6.
 * lp_v_point checks at.x and at.y; lp_v_box at.x, y, width and height
 * (positive, inside the picture); lp_v_vertices at.vertices, at least min
 * points {x, y}. */
typedef struct lp_picture {
    double width, height;
    const char *what;
} lp_picture;
int lp_v_point(const json_t *obj, const char *at, lp_picture p, lp_verr *e);
int lp_v_box(const json_t *obj, const char *at, lp_picture p, lp_verr *e);
int lp_v_vertices(const json_t *obj, const char *at, size_t min, lp_picture p, lp_verr *e);

/* Index of the first of task's attachments whose "type" is one of types
 * (NULL-terminated), or -1.  Tolerates a task of any shape. */
long lp_task_attachment(const json_t *task, const char *const *types);

/* The responses a comparison or ranking task offers, in task.data.responses:
 * at least 2, each a string or {"id", "text", "model"?}.  A plain string at
 * index i has the id "i" ("0", "1", ...).  Ids are unique and non-empty.
 * Returns 0 or LP_EINVAL with fields like "data.responses[1].id". */
int lp_v_task_responses(const json_t *task, lp_verr *e);
/* Number of items in task.data.responses (0 if it is not an array). */
size_t lp_task_response_count(const json_t *task);
/* The id of response i: its "id", or for a plain string, i written into
 * buf (n bytes, at least 24).  Returns "" when item i has no string id. */
const char *lp_task_response_id(const json_t *task, size_t i, char *buf, size_t n);
/* Checks that v (at field) is a string naming one of task's responses;
 * *index (may be NULL) receives its position in data.responses. */
int lp_v_response_id(const json_t *task, const json_t *v, const char *field, size_t *index,
                     lp_verr *e);

#endif
