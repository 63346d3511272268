/* valid.c -- see valid.h.  Pure: no I/O. */
#include "valid.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "limit.h"
#include "util.h"

int lp_verr_set(lp_verr *e, const char *field, const char *fmt, ...)
{
    if (!e) return LP_EINVAL;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return LP_EINVAL;
}

char *lp_path_key(char *out, size_t n, const char *path, const char *key)
{
    if (path && *path)
        snprintf(out, n, "%s.%s", path, key);
    else
        snprintf(out, n, "%s", key);
    return out;
}

char *lp_path_index(char *out, size_t n, const char *path, size_t i)
{
    snprintf(out, n, "%s[%zu]", path ? path : "", i);
    return out;
}

const char *lp_json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static int buf_append(const char *s, size_t n, void *b)
{
    lp_buf_append(b, s, n);
    return 0;
}

void lp_buf_json_string(lp_buf *b, const char *s)
{
    json_t *v = json_string(s);
    if (!v) v = json_string(""); /* not UTF-8: cannot come from our own storage */
    json_dump_callback(v, buf_append, b, JSON_ENCODE_ANY);
    json_decref(v);
}

json_t *lp_json_time(int64_t ms)
{
    char buf[40];
    lp_time_format(ms, buf, sizeof buf);
    return json_string(buf);
}

int lp_json_number(const json_t *v, double *out)
{
    if (json_is_integer(v)) {
        *out = (double)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v) && isfinite(json_real_value(v))) {
        *out = json_real_value(v);
        return 0;
    }
    return LP_EINVAL;
}

int lp_v_object(const json_t *v, const char *path, lp_verr *e)
{
    if (json_is_object(v)) return 0;
    return lp_verr_set(e, path, "must be an object, not %s", v ? lp_json_type_name(v) : "missing");
}

/* Looks up obj[key]; returns 1 if present and not null, 0 if absent (error
 * set when required).  Field names are formatted only for an error: the
 * checks run on every row of a bulk import. */
static int lookup(const json_t *obj, const char *key, const char *path, int required,
                  const json_t **v, char *field, lp_verr *e, int *rc)
{
    *rc = 0;
    *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (*v && !json_is_null(*v)) return 1;
    if (required) *rc = lp_verr_set(e, lp_path_key(field, 256, path, key), "is required");
    return 0;
}

int lp_v_string(const json_t *obj, const char *key, const char *path, int required, size_t min_len,
                size_t max_len, const char **out, lp_verr *e)
{
    const json_t *v;
    char field[256];
    int rc;
    if (!lookup(obj, key, path, required, &v, field, e, &rc)) return rc;
    if (!json_is_string(v))
        return lp_verr_set(e, lp_path_key(field, sizeof field, path, key),
                           "must be a string, not %s", lp_json_type_name(v));
    size_t n = lp_utf8_len(json_string_value(v), json_string_length(v));
    if (n < min_len)
        return lp_verr_set(e, lp_path_key(field, sizeof field, path, key),
                           min_len == 1 ? "must not be empty" : "must be at least %zu characters",
                           min_len);
    if (max_len && n > max_len)
        return lp_verr_set(e, lp_path_key(field, sizeof field, path, key),
                           "must be at most %zu characters (has %zu)", max_len, n);
    if (out) *out = json_string_value(v);
    return 0;
}

int lp_v_int(const json_t *obj, const char *key, const char *path, int required, long long min,
             long long max, long long *out, lp_verr *e)
{
    const json_t *v;
    char field[256];
    int rc;
    if (!lookup(obj, key, path, required, &v, field, e, &rc)) return rc;
    long long x;
    if (json_is_integer(v))
        x = json_integer_value(v);
    else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
             fabs(json_real_value(v)) < 9e15)
        x = (long long)json_real_value(v);
    else
        return lp_verr_set(e, lp_path_key(field, sizeof field, path, key),
                           "must be an integer, not %s", lp_json_type_name(v));
    if (x < min || x > max)
        return lp_verr_set(e, lp_path_key(field, sizeof field, path, key),
                           "must be between %lld and %lld (got %lld)", min, max, x);
    if (out) *out = x;
    return 0;
}

int lp_v_number(const json_t *obj, const char *key, const char *path, int required, double min,
                double max, double *out, lp_verr *e)
{
    const json_t *v;
    char field[256];
    int rc;
    if (!lookup(obj, key, path, required, &v, field, e, &rc)) return rc;
    double x;
    if (lp_json_number(v, &x))
        return lp_verr_set(e, lp_path_key(field, sizeof field, path, key),
                           "must be a number, not %s", lp_json_type_name(v));
    if (x < min || x > max)
        return lp_verr_set(e, lp_path_key(field, sizeof field, path, key),
                           "must be between %g and %g (got %g)", min, max, x);
    if (out) *out = x;
    return 0;
}

int lp_v_bool(const json_t *obj, const char *key, const char *path, int required, int *out,
              lp_verr *e)
{
    const json_t *v;
    char field[256];
    int rc;
    if (!lookup(obj, key, path, required, &v, field, e, &rc)) return rc;
    if (!json_is_boolean(v))
        return lp_verr_set(e, lp_path_key(field, sizeof field, path, key),
                           "must be true or false, not %s", lp_json_type_name(v));
    if (out) *out = json_is_true(v);
    return 0;
}

int lp_v_array(const json_t *obj, const char *key, const char *path, int required, size_t min_items,
               size_t max_items, const json_t **out, lp_verr *e)
{
    const json_t *v;
    char field[256];
    int rc;
    if (out) *out = NULL;
    if (!lookup(obj, key, path, required, &v, field, e, &rc)) return rc;
    if (!json_is_array(v))
        return lp_verr_set(e, lp_path_key(field, sizeof field, path, key),
                           "must be an array, not %s", lp_json_type_name(v));
    size_t n = json_array_size(v);
    if (n < min_items)
        return lp_verr_set(e, lp_path_key(field, sizeof field, path, key),
                           "must have at least %zu item%s", min_items, min_items == 1 ? "" : "s");
    if (max_items && n > max_items)
        return lp_verr_set(e, lp_path_key(field, sizeof field, path, key),
                           "must have at most %zu items (has %zu)", max_items, n);
    if (out) *out = v;
    return 0;
}

int lp_v_only_keys(const json_t *obj, const char *path, const char *const *allowed, lp_verr *e)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++) ok = strcmp(*a, key) == 0;
        if (!ok) {
            char field[256];
            lp_path_key(field, sizeof field, path, key);
            return lp_verr_set(e, field, "is not a known field");
        }
    }
    return 0;
}

size_t lp_utf8_len(const char *s, size_t nbytes)
{
    size_t n = 0;
    for (size_t i = 0; i < nbytes; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}

size_t lp_utf8_offset(const char *s, size_t nbytes, size_t cp)
{
    size_t n = 0;
    for (size_t i = 0; i < nbytes; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && n++ == cp) return i;
    return nbytes;
}

/* ---- Helpers shared by the annotation kinds ----------------------------- */

char *lp_quote(char *out, size_t n, const char *s)
{
    size_t o = 0, room = n - 5; /* keeps space for ..." and the NUL */
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    out[o++] = '"';
    for (; *p; p++) {
        char esc[8];
        size_t k;
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p, k = 2;
        } else if (*p < 0x20) {
            k = (size_t)snprintf(esc, sizeof esc, "\\u%04x", *p);
        } else {
            esc[0] = (char)*p, k = 1;
        }
        if (o + k > room) break;
        memcpy(out + o, esc, k);
        o += k;
    }
    if (*p) {
        /* Cut: drop a partly copied UTF-8 sequence, then mark the cut. */
        if ((*p & 0xC0) == 0x80) {
            while (o > 1 && ((unsigned char)out[o - 1] & 0xC0) == 0x80) o--;
            if (o > 1 && (unsigned char)out[o - 1] >= 0xC0) o--;
        }
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

int lp_v_one_of(const json_t *v, const char *field, const char *const *choices, const char *what,
                size_t *index, lp_verr *e)
{
    char q[96], list[200];
    size_t n = 0, o = 0;
    if (!v || json_is_null(v)) return lp_verr_set(e, field, "is required");
    if (!json_is_string(v))
        return lp_verr_set(e, field, "must be a string, not %s", lp_json_type_name(v));
    for (; choices[n]; n++)
        if (strcmp(choices[n], json_string_value(v)) == 0) {
            if (index) *index = n;
            return 0;
        }
    list[0] = '\0';
    for (size_t i = 0; i < n && o < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s",
                              i == 0       ? ""
                              : i + 1 == n ? " or "
                                           : ", ",
                              choices[i]);
    return lp_verr_set(e, field, "%s is not %s; use %s",
                       lp_quote(q, sizeof q, json_string_value(v)), what, list);
}

const json_t *lp_json_given(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

void lp_json_default(json_t *obj, const char *key, json_t *value)
{
    if (json_is_object(obj) && !lp_json_given(obj, key))
        json_object_set_new(obj, key, value);
    else
        json_decref(value);
}

/* A hint naming the first few allowed values, " (cat, bird, ...)", built
 * one name at a time to follow a message such as "... is not in the
 * project's labels".  It stays "" when no name is added. */
typedef struct hint {
    char s[200];
    size_t len, count;
    int full;
} hint;

/* Appends name, or "..." once the hint holds 8 names or is nearly full. */
static void hint_add(hint *h, const char *name)
{
    if (h->full || !name) return;
    size_t room = sizeof h->s - h->len;
    const char *sep = h->count ? ", " : " (";
    /* Keeps 7 bytes for a final ", ...)" and the NUL. */
    if (h->count == 8 || strlen(sep) + strlen(name) + 7 > room) {
        h->len += (size_t)snprintf(h->s + h->len, room, "%s...", sep);
        h->full = 1;
        return;
    }
    h->len += (size_t)snprintf(h->s + h->len, room, "%s%s", sep, name);
    h->count++;
}

/* Closes the parenthesis and returns the hint's text. */
static const char *hint_end(hint *h)
{
    if (h->count || h->full) snprintf(h->s + h->len, sizeof h->s - h->len, ")");
    return h->s;
}

/* The hint for the names of a list checked by lp_v_names. */
static const char *names_hint(const json_t *list, hint *h)
{
    size_t i;
    const json_t *item;
    json_array_foreach(list, i, item)
    {
        hint_add(h, json_string_value(json_object_get(item, "name")));
    }
    return hint_end(h);
}

int lp_v_names(json_t *obj, const char *key, const char *path, int required, size_t min_items,
               const char *const *extra, lp_verr *e)
{
    const json_t *clist;
    char field[256];
    int rc = lp_v_array(obj, key, path, required, min_items, 0, &clist, e);
    if (rc) return rc;
    if (!clist) {
        json_object_set_new(obj, key, json_array());
        return 0;
    }
    json_t *list = (json_t *)clist;
    const char *allowed[16] = {"name", "description"};
    size_t na = 2;
    for (const char *const *x = extra; x && *x && na < LP_ARRAY_LEN(allowed) - 1; x++)
        allowed[na++] = *x;
    lp_path_key(field, sizeof field, path, key);

    json_t *seen = json_object(); /* name -> index, to find repeats */
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        char at[256], name_at[256], q[96];
        lp_path_index(at, sizeof at, field, i);
        if (json_is_string(item)) {
            /* A bare name: errors point at the item itself. */
            snprintf(name_at, sizeof name_at, "%s", at);
            json_t *o = json_object();
            json_object_set(o, "name", item);
            json_array_set_new(list, i, o);
            item = o;
        } else if (json_is_object(item)) {
            lp_path_key(name_at, sizeof name_at, at, "name");
        } else {
            rc = lp_verr_set(e, at, "must be a name or an object with a \"name\", not %s",
                             lp_json_type_name(item));
            goto fail;
        }
        if ((rc = lp_v_only_keys(item, at, allowed, e))) goto fail;
        const json_t *name = json_object_get(item, "name");
        if (!name || json_is_null(name)) {
            rc = lp_verr_set(e, name_at, "is required");
            goto fail;
        }
        if (!json_is_string(name)) {
            rc = lp_verr_set(e, name_at, "must be a string, not %s", lp_json_type_name(name));
            goto fail;
        }
        size_t len = json_string_length(name);
        const char *s = json_string_value(name);
        if (len == 0) {
            rc = lp_verr_set(e, name_at, "must not be empty");
            goto fail;
        }
        if (strlen(s) != len) {
            rc = lp_verr_set(e, name_at, "must not contain a NUL character");
            goto fail;
        }
        const json_t *prev = json_object_get(seen, s);
        if (prev) {
            rc = lp_verr_set(e, name_at, "%s is already the name of %s[%lld]",
                             lp_quote(q, sizeof q, s), field, json_integer_value(prev));
            goto fail;
        }
        json_object_set_new(seen, s, json_integer((json_int_t)i));
        if ((rc = lp_v_string(item, "description", at, 0, 0, 0, NULL, e))) goto fail;
    }
    json_decref(seen);
    return 0;
fail:
    json_decref(seen);
    return rc;
}

long lp_names_find(const json_t *list, const char *name, size_t len)
{
    size_t i;
    const json_t *item;
    json_array_foreach(list, i, item)
    {
        const json_t *v = json_object_get(item, "name");
        if (json_is_string(v) && json_string_length(v) == len &&
            memcmp(json_string_value(v), name, len) == 0)
            return (long)i;
    }
    return -1;
}

int lp_v_name_in(const json_t *list, const json_t *v, const char *field, const char *what,
                 size_t *index, lp_verr *e)
{
    char q[96];
    hint h = {.len = 0};
    if (!v || json_is_null(v)) return lp_verr_set(e, field, "is required");
    if (!json_is_string(v))
        return lp_verr_set(e, field, "must be a string, not %s", lp_json_type_name(v));
    long k = lp_names_find(list, json_string_value(v), json_string_length(v));
    if (k < 0)
        return lp_verr_set(e, field, "%s is not in the project's %s%s",
                           lp_quote(q, sizeof q, json_string_value(v)), what, names_hint(list, &h));
    if (index) *index = (size_t)k;
    return 0;
}

int lp_v_keys_in(const json_t *list, const json_t *obj, const char *path, const char *what,
                 int required_default, lp_verr *e)
{
    char field[256], q[96];
    hint h = {.len = 0};
    const char *key;
    size_t klen, i;
    const json_t *v, *item;
    int rc = lp_v_object(obj, path, e);
    if (rc) return rc;
    json_object_keylen_foreach((json_t *)obj, key, klen, v)
    {
        if (lp_names_find(list, key, klen) < 0)
            return lp_verr_set(e, lp_path_key(field, sizeof field, path, key),
                               "%s is not in the project's %s%s", lp_quote(q, sizeof q, key), what,
                               names_hint(list, &h));
    }
    json_array_foreach(list, i, item)
    {
        const char *name = json_string_value(json_object_get(item, "name"));
        const json_t *req = json_object_get(item, "required");
        int required = req ? json_is_true(req) : required_default;
        if (!name || !required) continue;
        v = json_object_get(obj, name);
        if (!v || json_is_null(v))
            return lp_verr_set(e, lp_path_key(field, sizeof field, path, name), "is required");
    }
    return 0;
}

long lp_task_attachment(const json_t *task, const char *const *types)
{
    size_t i;
    const json_t *item;
    json_array_foreach(json_object_get(task, "attachments"), i, item)
    {
        const char *type = json_string_value(json_object_get(item, "type"));
        for (const char *const *t = types; type && *t; t++)
            if (strcmp(type, *t) == 0) return (long)i;
    }
    return -1;
}

int lp_v_task_responses(const json_t *task, lp_verr *e)
{
    static const char *const keys[] = {"id", "text", "model", NULL};
    const json_t *data = json_object_get(task, "data"), *list;
    int rc = lp_v_object(data, "data", e);
    if (rc) return rc;
    if ((rc = lp_v_array(data, "responses", "data", 1, 2, 0, &list, e))) return rc;

    json_t *seen = json_object(); /* id -> index, to find repeats */
    size_t i;
    const json_t *item;
    json_array_foreach(list, i, item)
    {
        char at[256], id_at[256], buf[24], q[96];
        const char *id;
        lp_path_index(at, sizeof at, "data.responses", i);
        if (json_is_string(item)) {
            snprintf(id_at, sizeof id_at, "%s", at);
            id = lp_task_response_id(task, i, buf, sizeof buf);
        } else if (json_is_object(item)) {
            lp_path_key(id_at, sizeof id_at, at, "id");
            if ((rc = lp_v_only_keys(item, at, keys, e))) goto fail;
            if ((rc = lp_v_string(item, "id", at, 1, 1, 0, &id, e))) goto fail;
            if ((rc = lp_v_string(item, "text", at, 1, 0, 0, NULL, e))) goto fail;
            if ((rc = lp_v_string(item, "model", at, 0, 0, 0, NULL, e))) goto fail;
            if (strlen(id) != json_string_length(json_object_get(item, "id"))) {
                rc = lp_verr_set(e, id_at, "must not contain a NUL character");
                goto fail;
            }
        } else {
            rc =
                lp_verr_set(e, at, "must be a string or an object with \"id\" and \"text\", not %s",
                            lp_json_type_name(item));
            goto fail;
        }
        const json_t *prev = json_object_get(seen, id);
        if (prev) {
            rc = lp_verr_set(e, id_at, "%s is already the id of data.responses[%lld]",
                             lp_quote(q, sizeof q, id), json_integer_value(prev));
            goto fail;
        }
        json_object_set_new(seen, id, json_integer((json_int_t)i));
    }
    json_decref(seen);
    return 0;
fail:
    json_decref(seen);
    return rc;
}

size_t lp_task_response_count(const json_t *task)
{
    return json_array_size(json_object_get(json_object_get(task, "data"), "responses"));
}

const char *lp_task_response_id(const json_t *task, size_t i, char *buf, size_t n)
{
    const json_t *list = json_object_get(json_object_get(task, "data"), "responses");
    const json_t *item = json_array_get(list, i);
    if (json_is_string(item)) {
        snprintf(buf, n, "%zu", i);
        return buf;
    }
    const char *id = json_string_value(json_object_get(item, "id"));
    return id ? id : "";
}

int lp_v_response_id(const json_t *task, const json_t *v, const char *field, size_t *index,
                     lp_verr *e)
{
    char buf[24], q[96];
    hint h = {.len = 0};
    size_t n = lp_task_response_count(task);
    if (!v || json_is_null(v)) return lp_verr_set(e, field, "is required");
    if (!json_is_string(v))
        return lp_verr_set(e, field, "must be a response id (a string), not %s",
                           lp_json_type_name(v));
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    for (size_t i = 0; i < n; i++) {
        const char *id = lp_task_response_id(task, i, buf, sizeof buf);
        if (strlen(id) == len && memcmp(id, s, len) == 0) {
            if (index) *index = i;
            return 0;
        }
    }
    for (size_t i = 0; i < n; i++) hint_add(&h, lp_task_response_id(task, i, buf, sizeof buf));
    return lp_verr_set(e, field, "%s is not one of the task's responses%s",
                       lp_quote(q, sizeof q, s), hint_end(&h));
}

/* The text of JSON values as json_dumps writes them (lp_json_canonical_members). */

static size_t ws_end(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++;
    return i;
}

/* The end (exclusive) of the string whose opening quote is s[i]. */
static size_t string_end(const char *s, size_t i, size_t n)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

/* The end (exclusive) of the valid JSON value starting at s[i]. */
static size_t json_value_end(const char *s, size_t i, size_t n)
{
    if (i >= n) return n;
    if (s[i] == '"') return string_end(s, i, n);
    if (s[i] != '{' && s[i] != '[') {
        while (i < n && !strchr(",}] \t\r\n", s[i])) i++;
        return i;
    }
    int depth = 0;
    while (i < n) {
        char c = s[i];
        if (c == '"') {
            i = string_end(s, i, n);
            continue;
        }
        if (c == '{' || c == '[') depth++;
        if ((c == '}' || c == ']') && --depth == 0) return i + 1;
        i++;
    }
    return n;
}

/* Whether the valid JSON value s[0..n) is written as jansson writes it
 * with LP_JSON_DUMP: no white space, integers only (a fraction or an
 * exponent makes a real, written with 15 digits; -0 is written 0), and no
 * escapes in strings but the ones jansson writes the same (\u and \/ are
 * written otherwise). */
static int canonical(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (c == '"') {
            for (i++; i < n && s[i] != '"'; i++) {
                if (s[i] != '\\') continue;
                if (++i >= n || !s[i] || !strchr("\"\\bfnrt", s[i])) return 0;
            }
            i++;
        } else if (c == 't' || c == 'n') {
            i += 4; /* true, null */
        } else if (c == 'f') {
            i += 5; /* false */
        } else if (c == '-' && i + 1 < n && s[i + 1] == '0') {
            return 0;
        } else if (c && strchr("{}[],:-0123456789", c)) {
            i++;
        } else {
            return 0; /* white space, . e E + */
        }
    }
    return 1;
}

void lp_json_canonical_members(const char *s, size_t n, const char *const *keys, size_t nkeys,
                               const char **spans, size_t *lens)
{
    for (size_t k = 0; k < nkeys; k++) spans[k] = NULL, lens[k] = 0;
    size_t i = ws_end(s, 0, n);
    if (i >= n || s[i] != '{') return;
    i = ws_end(s, i + 1, n);
    while (i < n && s[i] == '"') {
        size_t kend = string_end(s, i, n);
        const char *name = s + i + 1;
        size_t nlen = kend - i - 2;
        i = ws_end(s, kend, n);
        if (i >= n || s[i] != ':') return;
        size_t v = ws_end(s, i + 1, n), vend = json_value_end(s, v, n);
        for (size_t k = 0; k < nkeys; k++) {
            if (strlen(keys[k]) != nlen || memcmp(keys[k], name, nlen) != 0) continue;
            if (!(vend - v == 4 && memcmp(s + v, "null", 4) == 0) && canonical(s + v, vend - v))
                spans[k] = s + v, lens[k] = vend - v;
            break;
        }
        i = ws_end(s, vend, n);
        if (i >= n || s[i] != ',') return;
        i = ws_end(s, i + 1, n);
    }
}

/* Checks one attribute definition (already a named object) and fills
 * required (false). */
static int attribute_def(json_t *a, const char *at, lp_verr *e)
{
    static const char *const types[] = {"category", "number", "text", "boolean", NULL};
    char field[256], q[96];
    double min = -HUGE_VAL, max = HUGE_VAL; /* stay so when not given */
    int rc;
    if ((rc = lp_v_one_of(json_object_get(a, "type"), lp_path_key(field, sizeof field, at, "type"),
                          types, "an attribute type", NULL, e)))
        return rc;
    const char *type = json_string_value(json_object_get(a, "type"));
    int category = strcmp(type, "category") == 0, number = strcmp(type, "number") == 0;
    if (category) {
        if ((rc = lp_v_names(a, "choices", at, 1, 1, NULL, e))) return rc;
    } else if (lp_json_given(a, "choices")) {
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "choices"),
                           "is only for category attributes, and this one is %s",
                           lp_quote(q, sizeof q, type));
    }
    const char *bounds[] = {"min", "max"};
    for (size_t i = 0; i < 2; i++)
        if (!number && lp_json_given(a, bounds[i]))
            return lp_verr_set(e, lp_path_key(field, sizeof field, at, bounds[i]),
                               "is only for number attributes, and this one is %s",
                               lp_quote(q, sizeof q, type));
    if ((rc = lp_v_number(a, "min", at, 0, -HUGE_VAL, HUGE_VAL, &min, e))) return rc;
    if ((rc = lp_v_number(a, "max", at, 0, -HUGE_VAL, HUGE_VAL, &max, e))) return rc;
    if (min > max)
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "max"),
                           "must not be less than min (%g); got %g", min, max);
    lp_json_default(a, "required", json_false());
    return lp_v_bool(a, "required", at, 1, NULL, e);
}

int lp_v_attribute_defs(json_t *params, const char *key, lp_verr *e)
{
    static const char *const def_keys[] = {"type", "choices", "min", "max", "required", NULL};
    char path[64], at[256];
    json_t *a;
    size_t i;
    int rc;
    if ((rc = lp_v_names(params, key, "params", 0, 0, def_keys, e))) return rc;
    lp_path_key(path, sizeof path, "params", key);
    json_array_foreach(json_object_get(params, key), i, a)
    {
        if ((rc = attribute_def(a, lp_path_index(at, sizeof at, path, i), e))) return rc;
    }
    return 0;
}

int lp_v_attribute_values(const json_t *defs, const json_t *attrs, const char *at, lp_verr *e)
{
    char field[256], what[160], q[96], vf[256];
    const json_t *def;
    size_t i;
    int rc;
    lp_path_key(field, sizeof field, at, "attributes");
    json_t *none = attrs ? NULL : json_object();
    rc = lp_v_keys_in(defs, none ? none : attrs, field, "attributes", 0, e);
    json_decref(none);
    if (rc || !json_is_object(attrs)) return rc;
    json_array_foreach(defs, i, def)
    {
        const char *name = json_string_value(json_object_get(def, "name"));
        const char *type = json_string_value(json_object_get(def, "type"));
        const json_t *v = name ? lp_json_given(attrs, name) : NULL;
        double x, bound;
        if (!v || !type) continue;
        lp_path_key(vf, sizeof vf, field, name);
        if (strcmp(type, "category") == 0) {
            snprintf(what, sizeof what, "choices for %s", lp_quote(q, sizeof q, name));
            rc = lp_v_name_in(json_object_get(def, "choices"), v, vf, what, NULL, e);
        } else if (strcmp(type, "number") == 0) {
            if (lp_json_number(v, &x))
                return lp_verr_set(e, vf, "must be a number, not %s", lp_json_type_name(v));
            if (!lp_json_number(json_object_get(def, "min"), &bound) && x < bound)
                return lp_verr_set(e, vf, "must be at least %g (got %g)", bound, x);
            if (!lp_json_number(json_object_get(def, "max"), &bound) && x > bound)
                return lp_verr_set(e, vf, "must be at most %g (got %g)", bound, x);
        } else if (strcmp(type, "text") == 0) {
            rc = lp_v_string(attrs, name, field, 0, 0, 0, NULL, e);
        } else {
            rc = lp_v_bool(attrs, name, field, 0, NULL, e);
        }
        if (rc) return rc;
    }
    return 0;
}

#define EDGE_EPS 1e-6

/* Checks obj[key], a coordinate in [0, limit], where limit is the
 * picture's width or height (named by dimension); *out receives it. */
static int coordinate(const json_t *obj, const char *key, const char *path, double limit,
                      const char *what, const char *dimension, double *out, lp_verr *e)
{
    char field[256];
    int rc = lp_v_number(obj, key, path, 1, -HUGE_VAL, HUGE_VAL, out, e);
    if (rc) return rc;
    lp_path_key(field, sizeof field, path, key);
    if (*out < 0) return lp_verr_set(e, field, "must not be negative (got %g)", *out);
    if (*out > limit + EDGE_EPS)
        return lp_verr_set(e, field, "must be at most %g, the %s's %s (got %g)", limit, what,
                           dimension, *out);
    return 0;
}

int lp_v_point(const json_t *obj, const char *at, lp_picture p, lp_verr *e)
{
    double x, y;
    int rc = coordinate(obj, "x", at, p.width, p.what, "width", &x, e);
    return rc ? rc : coordinate(obj, "y", at, p.height, p.what, "height", &y, e);
}

int lp_v_box(const json_t *obj, const char *at, lp_picture p, lp_verr *e)
{
    double x, y, w, h;
    char field[256];
    int rc;
    if ((rc = coordinate(obj, "x", at, p.width, p.what, "width", &x, e)) ||
        (rc = coordinate(obj, "y", at, p.height, p.what, "height", &y, e)) ||
        (rc = lp_v_number(obj, "width", at, 1, -HUGE_VAL, HUGE_VAL, &w, e)) ||
        (rc = lp_v_number(obj, "height", at, 1, -HUGE_VAL, HUGE_VAL, &h, e)))
        return rc;
    if (w <= 0)
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "width"),
                           "must be greater than 0 (got %g)", w);
    if (h <= 0)
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "height"),
                           "must be greater than 0 (got %g)", h);
    /* Not "x + w > width": a sum that overflows to inf passes that when
     * the width is HUGE_VAL (an image of unknown size). */
    if (!(x + w <= p.width + EDGE_EPS && isfinite(x + w)))
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "width"),
                           "takes the box past the %s's right edge: x + width is %g, the %s "
                           "is %g wide",
                           p.what, x + w, p.what, p.width);
    if (!(y + h <= p.height + EDGE_EPS && isfinite(y + h)))
        return lp_verr_set(e, lp_path_key(field, sizeof field, at, "height"),
                           "takes the box past the %s's bottom edge: y + height is %g, the %s "
                           "is %g high",
                           p.what, y + h, p.what, p.height);
    return 0;
}

int lp_v_vertices(const json_t *obj, const char *at, size_t min, lp_picture p, lp_verr *e)
{
    static const char *const keys[] = {"x", "y", NULL};
    const json_t *list, *v;
    char field[256];
    size_t i;
    int rc;
    if ((rc = lp_v_array(obj, "vertices", at, 1, min, LP_LIMIT_RESPONSE_ITEMS, &list, e)))
        return rc;
    lp_path_key(field, sizeof field, at, "vertices");
    json_array_foreach(list, i, v)
    {
        char vat[256];
        lp_path_index(vat, sizeof vat, field, i);
        if ((rc = lp_v_object(v, vat, e)) || (rc = lp_v_only_keys(v, vat, keys, e)) ||
            (rc = lp_v_point(v, vat, p, e)))
            return rc;
    }
    return 0;
}
