/* export_llm.c -- export formats for training language models: preference
 * pairs for TRL (standard and conversational form) and for OpenAI's
 * preference fine-tuning, OpenAI chat fine-tuning examples, and per-task
 * scores of rating and comparison projects.
 *
 * Every format here writes JSON Lines (one object a line, each line ending
 * in \n) from each task's result, the consolidated response: a task
 * without one (not completed) writes nothing.  A task is parsed with
 * jansson, its lines are built as jansson values and dumped compact in
 * UTF-8, so text with quotes, newlines or any Unicode character stays one
 * valid JSON line; nothing outlives the task but openai_chat's mapping of
 * the project's fields, worked out once per export.
 *
 * Published definitions checked field by field:
 *   TRL "Dataset formats and types", preference type: standard
 *     {"prompt", "chosen", "rejected"} as strings, conversational the same
 *     keys as lists of {"role", "content"} messages.
 *   OpenAI "Direct preference optimization": {"input": {"messages"},
 *     "preferred_output": [one assistant message], "non_preferred_output":
 *     [one assistant message]}.
 *   OpenAI supervised fine-tuning (chat): {"messages": [system?, user,
 *     assistant]}. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export.h"
#include "valid.h"

/* json_dump_callback's sink: appends to the lp_buf in data. */
static int buf_sink(const char *s, size_t n, void *data)
{
    lp_buf_append(data, s, n);
    return 0;
}

/* Appends line as one compact JSON line to out, and frees it. */
static void line_write(lp_buf *out, json_t *line)
{
    if (!line) return;
    json_dump_callback(line, buf_sink, out, JSON_COMPACT);
    lp_buf_puts(out, "\n");
    json_decref(line);
}

/* The task's result response, or NULL when it has no result. */
static const json_t *result_response(const json_t *task)
{
    const json_t *result = json_object_get(task, "result");
    return json_is_object(result) ? json_object_get(result, "response") : NULL;
}

/* The string at key of obj when it is a non-empty string, else NULL. */
static const char *text_of(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

/* {"role": role, "content": content} */
static json_t *message(const char *role, const char *content)
{
    return json_pack("{s:s, s:s}", "role", role, "content", content);
}

/* The conversation before the answer: data.system as a system message when
 * the task has one, then the prompt as the user's. */
static json_t *prompt_messages(const json_t *data, const char *prompt)
{
    json_t *list = json_array();
    const char *system = text_of(data, "system");
    if (system) json_array_append_new(list, message("system", system));
    json_array_append_new(list, message("user", prompt));
    return list;
}

/* [{"role": "assistant", "content": text}] */
static json_t *answer_messages(const char *text)
{
    json_t *list = json_array();
    json_array_append_new(list, message("assistant", text));
    return list;
}

/* ---- Preference pairs: trl, trl_conversational, openai_preference ---- */

typedef enum pair_style { PAIR_TRL, PAIR_TRL_CHAT, PAIR_OPENAI } pair_style;

/* One task's preference pairs, written in one style. */
typedef struct pairs {
    pair_style style;
    lp_buf *out;
    const json_t *task, *data;
    const char *prompt;
} pairs;

/* The text of the task's response with this id, or NULL. */
static const char *response_text(const json_t *task, const char *id)
{
    const json_t *list = json_object_get(json_object_get(task, "data"), "responses");
    char buf[24];
    for (size_t i = 0; i < json_array_size(list); i++) {
        if (strcmp(lp_task_response_id(task, i, buf, sizeof buf), id) != 0) continue;
        const json_t *item = json_array_get(list, i);
        return json_is_string(item) ? json_string_value(item)
                                    : json_string_value(json_object_get(item, "text"));
    }
    return NULL;
}

/* Writes the line that prefers response id better to response id worse. */
static void pair_write(pairs *p, const char *better, const char *worse)
{
    const char *chosen = response_text(p->task, better), *rejected = response_text(p->task, worse);
    if (!chosen || !rejected) return; /* not a response of this task */
    json_t *line;
    switch (p->style) {
    case PAIR_TRL:
        line = json_pack("{s:s, s:s, s:s}", "prompt", p->prompt, "chosen", chosen, "rejected",
                         rejected);
        break;
    case PAIR_TRL_CHAT:
        line = json_pack("{s:o, s:o, s:o}", "prompt", prompt_messages(p->data, p->prompt), "chosen",
                         answer_messages(chosen), "rejected", answer_messages(rejected));
        break;
    default:
        line =
            json_pack("{s:{s:o}, s:o, s:o}", "input", "messages",
                      prompt_messages(p->data, p->prompt), "preferred_output",
                      answer_messages(chosen), "non_preferred_output", answer_messages(rejected));
        break;
    }
    line_write(p->out, line);
}

/* A comparison's pairs: the choice over each other response, in the task's
 * order.  A tie or "both bad" prefers nothing. */
static void comparison_pairs(pairs *p, const json_t *response)
{
    const char *choice = json_string_value(json_object_get(response, "choice"));
    if (!choice || json_is_true(json_object_get(response, "tie")) ||
        json_is_true(json_object_get(response, "both_bad")))
        return;
    char buf[24];
    for (size_t i = 0; i < lp_task_response_count(p->task); i++) {
        const char *id = lp_task_response_id(p->task, i, buf, sizeof buf);
        if (strcmp(id, choice) != 0) pair_write(p, choice, id);
    }
}

/* The size of a ranking's place: 1 for an id, the ids of a tied group. */
static size_t place_size(const json_t *place)
{
    return json_is_array(place) ? json_array_size(place) : 1;
}

/* Id k of a ranking's place. */
static const char *place_id(const json_t *place, size_t k)
{
    return json_string_value(json_is_array(place) ? json_array_get(place, k) : place);
}

/* A ranking's pairs: every response over every one in a worse place, best
 * first; responses in the same place are tied and make no pair. */
static void ranking_pairs(pairs *p, const json_t *response)
{
    const json_t *ranking = json_object_get(response, "ranking");
    size_t n = json_array_size(ranking);
    for (size_t i = 0; i < n; i++) {
        const json_t *better = json_array_get(ranking, i);
        for (size_t a = 0; a < place_size(better); a++)
            for (size_t j = i + 1; j < n; j++) {
                const json_t *worse = json_array_get(ranking, j);
                for (size_t b = 0; b < place_size(worse); b++) {
                    const char *x = place_id(better, a), *y = place_id(worse, b);
                    if (x && y) pair_write(p, x, y);
                }
            }
    }
}

/* Writes a comparison or ranking task's pairs in one style; a task without
 * a result or without a prompt (data.prompt) writes nothing. */
static void pairs_task(pair_style style, lp_export_ctx *cx, lp_buf *out, const char *json, size_t n)
{
    json_t *task = json_loadb(json, n, 0, NULL);
    const json_t *response = result_response(task);
    pairs p = {.style = style, .out = out, .task = task, .data = json_object_get(task, "data")};
    p.prompt = text_of(p.data, "prompt");
    if (response && p.prompt) {
        if (strcmp(cx->kind, "ranking") == 0)
            ranking_pairs(&p, response);
        else
            comparison_pairs(&p, response);
    }
    json_decref(task);
}

static const char *const preference_kinds[] = {"comparison", "ranking", NULL};

/* A preference format: its task function (pairs_task in one style) and its
 * table, lp_export_NAME. */
#define PAIRS_FORMAT(NAME, STYLE, SUMMARY)                                                  \
    static void NAME##_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, \
                            size_t n)                                                       \
    {                                                                                       \
        (void)index;                                                                        \
        pairs_task(STYLE, cx, out, json, n);                                                \
    }                                                                                       \
    const lp_export_format lp_export_##NAME = {                                             \
        .version = 1,                                                                       \
        .name = #NAME,                                                                      \
        .summary = SUMMARY,                                                                 \
        .content_type = "application/x-ndjson",                                             \
        .extension = "jsonl",                                                               \
        .kinds = preference_kinds,                                                          \
        .task = NAME##_task,                                                                \
    };

PAIRS_FORMAT(trl, PAIR_TRL, "TRL preference pairs: prompt, chosen, rejected")
PAIRS_FORMAT(trl_conversational, PAIR_TRL_CHAT,
             "TRL preference pairs in conversational form (role messages)")
PAIRS_FORMAT(openai_preference, PAIR_OPENAI,
             "OpenAI preference fine-tuning JSONL: input, preferred and non-preferred output")

/* ---- openai_chat: textcollection results as chat examples ---- */

/* Field names (case aside) that hold the user's turn and the assistant's. */
static const char *const user_names[] = {"instruction", "prompt", "question", "input", NULL};
static const char *const assistant_names[] = {"answer", "response", "output", "completion", NULL};

/* Which of a project's fields are the two turns (NULL: none is). */
typedef struct chat_map {
    int fields; /* the project has fields */
    const char *user, *assistant;
} chat_map;

/* The first of the project's fields named one of names, or NULL. */
static const char *field_named(const json_t *fields, const char *const *names)
{
    for (size_t i = 0; i < json_array_size(fields); i++) {
        const char *name = json_string_value(json_object_get(json_array_get(fields, i), "name"));
        for (const char *const *w = names; name && *w; w++)
            if (strcasecmp(name, *w) == 0) return name;
    }
    return NULL;
}

/* The project's fields mapped to the turns; the names point into params. */
static chat_map chat_map_of(const json_t *params)
{
    const json_t *fields = json_object_get(params, "fields");
    return (chat_map){.fields = json_array_size(fields) > 0,
                      .user = field_named(fields, user_names),
                      .assistant = field_named(fields, assistant_names)};
}

/* Appends the words of list as "a, b or c". */
static void words_write(lp_buf *b, const char *const *list)
{
    for (const char *const *w = list; *w; w++)
        lp_buf_printf(b, "%s%s", w == list ? "" : w[1] ? ", " : " or ", *w);
}

/* A project with fields must have one for the assistant's turn. */
static int chat_check(const lp_export_ctx *cx, lp_buf *why)
{
    chat_map m = chat_map_of(cx->params);
    if (!m.fields || m.assistant) return 0;
    lp_buf_puts(why, "takes the assistant's turn from a field named ");
    words_write(why, assistant_names);
    lp_buf_puts(why, " (and the user's from one named ");
    words_write(why, user_names);
    lp_buf_puts(why, ", or from data.prompt or data.instruction); this project's fields are ");
    const json_t *fields = json_object_get(cx->params, "fields");
    for (size_t i = 0; i < json_array_size(fields); i++)
        lp_buf_printf(why, "%s%s", i ? ", " : "",
                      json_string_value(json_object_get(json_array_get(fields, i), "name")));
    return LP_EINVAL;
}

static void chat_begin(lp_export_ctx *cx, lp_buf *out)
{
    (void)out;
    chat_map *m = lp_malloc(sizeof *m);
    *m = chat_map_of(cx->params);
    cx->state = m;
}

static void chat_free(lp_export_ctx *cx)
{
    free(cx->state);
    cx->state = NULL;
}

/* One chat example per completed task: [system?, user, assistant].  The
 * assistant's turn is the result's text (or its answer field); the user's
 * its instruction field or else data.prompt or data.instruction.  A task
 * with either turn missing or empty writes nothing. */
static void chat_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    (void)index;
    const chat_map *m = cx->state;
    json_t *task = json_loadb(json, n, 0, NULL);
    const json_t *response = result_response(task), *data = json_object_get(task, "data");
    const char *user = NULL, *assistant = NULL;
    if (response && m->fields) {
        const json_t *fields = json_object_get(response, "fields");
        if (m->user) user = text_of(fields, m->user);
        if (m->assistant) assistant = text_of(fields, m->assistant);
    } else if (response) {
        assistant = text_of(response, "text");
    }
    if (!user) user = text_of(data, "prompt");
    if (!user) user = text_of(data, "instruction");
    if (user && assistant) {
        json_t *messages = prompt_messages(data, user);
        json_array_append_new(messages, message("assistant", assistant));
        line_write(out, json_pack("{s:o}", "messages", messages));
    }
    json_decref(task);
}

static const char *const chat_kinds[] = {"textcollection", NULL};

const lp_export_format lp_export_openai_chat = {
    .version = 1,
    .name = "openai_chat",
    .summary = "OpenAI chat fine-tuning JSONL (messages)",
    .content_type = "application/x-ndjson",
    .extension = "jsonl",
    .kinds = chat_kinds,
    .check = chat_check,
    .begin = chat_begin,
    .task = chat_task,
    .free_state = chat_free,
};

/* ---- texts: the kept texts of a textcollection project ---- */

/* One line per completed task whose result keeps a text (not a rejected
 * draft): {"text"} or {"fields"}, with the task's id and unique_id, and,
 * for a draft a model wrote, the draft as it came.  For synthetic data
 * reviewed by people, only the items they accepted or fixed. */
static void texts_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    (void)cx, (void)index;
    json_t *task = json_loadb(json, n, 0, NULL);
    const json_t *response = result_response(task), *data = json_object_get(task, "data");
    if (response && !json_is_true(json_object_get(response, "rejected"))) {
        json_t *line = json_pack("{s:O, s:O}", "task_id", json_object_get(task, "id"), "unique_id",
                                 json_object_get(task, "unique_id"));
        if (json_object_get(response, "fields"))
            json_object_set(line, "fields", json_object_get(response, "fields"));
        else
            json_object_set(line, "text", json_object_get(response, "text"));
        const json_t *draft = json_object_get(data, "draft");
        if (json_is_string(draft)) {
            json_object_set(line, "draft", (json_t *)draft);
            json_object_set_new(line, "changed",
                                json_boolean(!json_equal(draft, json_object_get(response, "text"))));
        }
        line_write(out, line);
    }
    json_decref(task);
}

const lp_export_format lp_export_texts = {
    .version = 1,
    .name = "texts",
    .summary = "JSONL of the texts kept (rejected drafts left out)",
    .content_type = "application/x-ndjson",
    .extension = "jsonl",
    .kinds = chat_kinds,
    .task = texts_task,
};

/* ---- ratings: scores per criterion or aspect ---- */

/* Copies a response's scores to line: a rating's "ratings" and "comment",
 * a comparison's call ("choice": an id, "tie" or "both_bad"), "strength",
 * "aspects" and "justification", each when the response has it. */
static void scores_add(json_t *line, const char *kind, const json_t *response)
{
    static const char *const rating_keys[] = {"ratings", "comment", NULL};
    static const char *const comparison_keys[] = {"strength", "aspects", "justification", NULL};
    const char *const *keys = rating_keys;
    if (strcmp(kind, "comparison") == 0) {
        keys = comparison_keys;
        const json_t *choice = json_object_get(response, "choice");
        if (json_is_true(json_object_get(response, "tie")))
            json_object_set_new(line, "choice", json_string("tie"));
        else if (json_is_true(json_object_get(response, "both_bad")))
            json_object_set_new(line, "choice", json_string("both_bad"));
        else
            json_object_set(line, "choice", choice ? (json_t *)choice : json_null());
    }
    for (const char *const *k = keys; *k; k++) {
        json_t *v = json_object_get(response, *k);
        if (v && !json_is_null(v)) json_object_set(line, *k, v);
    }
}

/* One line per completed task: its id, unique_id, the result's scores and
 * confidence, and with include=annotations each accepted annotation's. */
static void ratings_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    (void)index;
    json_t *task = json_loadb(json, n, 0, NULL);
    const json_t *response = result_response(task);
    if (!response) {
        json_decref(task);
        return;
    }
    json_t *line = json_object();
    json_object_set(line, "task_id", json_object_get(task, "id"));
    json_object_set(line, "unique_id", json_object_get(task, "unique_id"));
    scores_add(line, cx->kind, response);
    json_object_set(line, "confidence",
                    json_object_get(json_object_get(task, "result"), "confidence"));
    const json_t *annotations = json_object_get(task, "annotations");
    if (json_is_array(annotations)) {
        json_t *list = json_array();
        size_t i;
        const json_t *a;
        json_array_foreach(annotations, i, a)
        {
            json_t *item = json_object();
            json_object_set(item, "annotation_id", json_object_get(a, "annotation_id"));
            json_object_set(item, "user_id", json_object_get(a, "user_id"));
            scores_add(item, cx->kind, json_object_get(a, "response"));
            json_array_append_new(list, item);
        }
        json_object_set_new(line, "annotations", list);
    }
    line_write(out, line);
    json_decref(task);
}

static const char *const ratings_kinds[] = {"rating", "comparison", NULL};

const lp_export_format lp_export_ratings = {
    .version = 1,
    .name = "ratings",
    .summary = "JSONL of each task's scores per criterion or aspect",
    .content_type = "application/x-ndjson",
    .extension = "jsonl",
    .kinds = ratings_kinds,
    .task = ratings_task,
};
