/* llm.c -- the OpenAI-compatible chat completions protocol (llm.h). */
#include "llm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The longest event line kept from a stream: a chunk is one delta. */
#define LINE_MAX_BYTES (1u << 20)

int lp_llm_check_params(const json_t *params, const char *path, lp_verr *e)
{
    static const char *const keys[] = {"temperature",      "top_p", "max_tokens",
                                       "stop",             "seed",  "presence_penalty",
                                       "frequency_penalty", NULL};
    char field[256];
    int rc;
    if ((rc = lp_v_object(params, path, e))) return rc;
    if ((rc = lp_v_only_keys(params, path, keys, e))) return rc;
    if ((rc = lp_v_number(params, "temperature", path, 0, 0, 2, NULL, e)) ||
        (rc = lp_v_number(params, "top_p", path, 0, 0, 1, NULL, e)) ||
        (rc = lp_v_int(params, "max_tokens", path, 0, 1, 1000000, NULL, e)) ||
        (rc = lp_v_int(params, "seed", path, 0, INT64_MIN, INT64_MAX, NULL, e)) ||
        (rc = lp_v_number(params, "presence_penalty", path, 0, -2, 2, NULL, e)) ||
        (rc = lp_v_number(params, "frequency_penalty", path, 0, -2, 2, NULL, e)))
        return rc;
    const json_t *stop = json_object_get(params, "stop");
    if (!stop || json_is_null(stop) || json_is_string(stop)) return 0;
    lp_path_key(field, sizeof field, path, "stop");
    if (!json_is_array(stop) || json_array_size(stop) > 4)
        return lp_verr_set(e, field, "must be a string or a list of at most 4 strings");
    size_t i;
    const json_t *s;
    json_array_foreach(stop, i, s)
    {
        if (!json_is_string(s)) {
            char at[256];
            return lp_verr_set(e, lp_path_index(at, sizeof at, field, i), "must be a string");
        }
    }
    return 0;
}

int lp_llm_check_messages(const json_t *messages, const char *path, size_t max, lp_verr *e)
{
    static const char *const roles[] = {"system", "user", "assistant", NULL};
    static const char *const keys[] = {"role", "content", NULL};
    char at[256];
    size_t i;
    const json_t *m = NULL;
    int rc;
    if (!json_is_array(messages) || !json_array_size(messages))
        return lp_verr_set(e, path, "must be a non-empty list of {role, content} messages");
    if (json_array_size(messages) > max)
        return lp_verr_set(e, path, "has %zu messages; at most %zu", json_array_size(messages),
                           max);
    json_array_foreach(messages, i, m)
    {
        char role[256];
        lp_path_index(at, sizeof at, path, i);
        if ((rc = lp_v_object(m, at, e)) || (rc = lp_v_only_keys(m, at, keys, e)) ||
            (rc = lp_v_one_of(json_object_get(m, "role"), lp_path_key(role, sizeof role, at, "role"),
                              roles, "a role", NULL, e)) ||
            (rc = lp_v_string(m, "content", at, 1, 0, 0, NULL, e)))
            return rc;
    }
    const char *last = json_string_value(json_object_get(m, "role"));
    if (!last || strcmp(last, "user") != 0)
        return lp_verr_set(e, lp_path_index(at, sizeof at, path, i - 1),
                           "the conversation must end with a user message for the model to "
                           "answer");
    return 0;
}

json_t *lp_llm_request(const char *model, const json_t *messages, const json_t *defaults,
                       const json_t *params, int stream)
{
    json_t *body = json_object();
    const char *k;
    json_t *v;
    if (json_is_object(defaults)) json_object_foreach((json_t *)defaults, k, v)
        {
            if (!json_is_null(v)) json_object_set(body, k, v);
        }
    if (json_is_object(params)) json_object_foreach((json_t *)params, k, v)
        {
            if (json_is_null(v))
                json_object_del(body, k);
            else
                json_object_set(body, k, v);
        }
    json_object_set_new(body, "model", json_string(model));
    json_object_set(body, "messages", (json_t *)messages);
    if (stream) {
        json_object_set_new(body, "stream", json_true());
        json_object_set_new(body, "stream_options", json_pack("{s:b}", "include_usage", 1));
    }
    return body;
}

void lp_llm_reply_fini(lp_llm_reply *r)
{
    free(r->content);
    r->content = NULL;
}

static int64_t count_of(const json_t *usage, const char *key)
{
    const json_t *v = json_object_get(usage, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
}

/* Reads model, usage and the first choice's finish reason of a reply or a
 * chunk into r (keeping what a chunk does not say). */
static void read_common(const json_t *o, lp_llm_reply *r)
{
    const char *model = json_string_value(json_object_get(o, "model"));
    if (model && *model) snprintf(r->model, sizeof r->model, "%s", model);
    const json_t *usage = json_object_get(o, "usage");
    if (json_is_object(usage)) {
        r->prompt_tokens = count_of(usage, "prompt_tokens");
        r->completion_tokens = count_of(usage, "completion_tokens");
    }
    const json_t *choice = json_array_get(json_object_get(o, "choices"), 0);
    const char *fin = json_string_value(json_object_get(choice, "finish_reason"));
    if (fin) snprintf(r->finish, sizeof r->finish, "%s", fin);
}

/* An {"error": ...} reply's message into err; 1 if o is one. */
static int error_reply(const json_t *o, char *err, size_t errn)
{
    const json_t *e = json_object_get(o, "error");
    if (!e || json_is_null(e)) return 0;
    const char *msg = json_is_string(e) ? json_string_value(e)
                                        : json_string_value(json_object_get(e, "message"));
    lp_buf clean = {0};
    lp_utf8_clean(msg ? msg : "(no message)", 200, &clean);
    snprintf(err, errn, "the model answered with an error: %s", clean.data);
    lp_buf_fini(&clean);
    return 1;
}

int lp_llm_parse(const char *body, size_t len, lp_llm_reply *out, char *err, size_t errn)
{
    memset(out, 0, sizeof *out);
    out->prompt_tokens = out->completion_tokens = -1;
    json_error_t je;
    json_t *o = json_loadb(body ? body : "", body ? len : 0, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        snprintf(err, errn, "the reply is not a JSON object%s%s", o ? "" : ": ",
                 o ? "" : je.text);
        json_decref(o);
        return LP_EINVAL;
    }
    if (error_reply(o, err, errn)) {
        json_decref(o);
        return LP_EINVAL;
    }
    const json_t *choices = json_object_get(o, "choices");
    const json_t *msg = json_object_get(json_array_get(choices, 0), "message");
    const json_t *content = json_object_get(msg, "content");
    if (!json_is_array(choices) || !json_array_size(choices)) {
        snprintf(err, errn, "the reply has no choices");
    } else if (!json_is_object(msg)) {
        snprintf(err, errn, "choices[0].message is missing or not an object");
    } else if (!json_is_string(content) && !json_is_null(content)) {
        snprintf(err, errn, "choices[0].message.content is %s, not a string",
                 lp_json_type_name(content));
    } else {
        read_common(o, out);
        out->content = lp_strdup(json_is_string(content) ? json_string_value(content) : "");
        json_decref(o);
        return 0;
    }
    json_decref(o);
    return LP_EINVAL;
}

void lp_llm_stream_init(lp_llm_stream *s, void (*on_delta)(void *, const char *, size_t),
                        void *ctx)
{
    memset(s, 0, sizeof *s);
    s->reply.prompt_tokens = s->reply.completion_tokens = -1;
    s->on_delta = on_delta;
    s->ctx = ctx;
}

/* One complete line of the event stream (without its end of line). */
static int stream_line(lp_llm_stream *s, const char *line, size_t n)
{
    if (n < 5 || strncmp(line, "data:", 5) != 0) return 0; /* comments, event:, id:, blank */
    line += 5;
    n -= 5;
    while (n && *line == ' ') line++, n--;
    if (n == 6 && !strncmp(line, "[DONE]", 6)) {
        s->done = 1;
        return 0;
    }
    json_error_t je;
    json_t *o = json_loadb(line, n, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        snprintf(s->err, sizeof s->err, "a streamed event is not a JSON object");
        return LP_EINVAL;
    }
    if (error_reply(o, s->err, sizeof s->err)) {
        json_decref(o);
        return LP_EINVAL;
    }
    read_common(o, &s->reply);
    const json_t *delta = json_object_get(json_array_get(json_object_get(o, "choices"), 0), "delta");
    const json_t *c = json_object_get(delta, "content");
    if (json_is_string(c) && json_string_length(c)) {
        lp_buf_append(&s->text, json_string_value(c), json_string_length(c));
        if (s->on_delta) s->on_delta(s->ctx, json_string_value(c), json_string_length(c));
    }
    json_decref(o);
    if (!s->text.data) lp_buf_puts(&s->text, ""); /* a chunk came: the text exists */
    return 0;
}

int lp_llm_stream_feed(lp_llm_stream *s, const char *data, size_t n)
{
    if (s->err[0]) return LP_EINVAL;
    for (size_t i = 0; i < n; i++) {
        char c = data[i];
        if (c == '\n') {
            size_t len = s->line.len;
            if (len && s->line.data[len - 1] == '\r') len--;
            int rc = stream_line(s, s->line.data ? s->line.data : "", len);
            s->line.len = 0;
            if (rc) return rc;
            continue;
        }
        if (s->line.len >= LINE_MAX_BYTES) {
            snprintf(s->err, sizeof s->err, "a streamed event is longer than %u bytes",
                     LINE_MAX_BYTES);
            return LP_EINVAL;
        }
        lp_buf_append(&s->line, &c, 1);
    }
    return 0;
}

int lp_llm_stream_end(lp_llm_stream *s)
{
    if (!s->err[0] && s->line.len) {
        int rc = stream_line(s, s->line.data, s->line.len);
        s->line.len = 0;
        if (rc) return rc;
    }
    if (s->err[0]) return LP_EINVAL;
    if (!s->text.data) {
        snprintf(s->err, sizeof s->err, "the stream ended without a chunk");
        return LP_EINVAL;
    }
    free(s->reply.content);
    s->reply.content = lp_strndup(s->text.data, s->text.len);
    return 0;
}

void lp_llm_stream_fini(lp_llm_stream *s)
{
    lp_buf_fini(&s->line);
    lp_buf_fini(&s->text);
    lp_llm_reply_fini(&s->reply);
}

const char *lp_llm_last_user(const json_t *messages)
{
    for (size_t i = json_array_size(messages); i-- > 0;) {
        const json_t *m = json_array_get(messages, i);
        const char *role = json_string_value(json_object_get(m, "role"));
        if (role && !strcmp(role, "user")) return json_string_value(json_object_get(m, "content"));
    }
    return NULL;
}
