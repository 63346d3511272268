/* llm.h -- the OpenAI-compatible chat completions protocol, as Loupe
 * speaks it to a model endpoint (endpoint.h): the request it sends, the
 * reply it reads, and the server-sent events of a streamed reply.
 *
 *   POST {base_url}/chat/completions
 *     {model, messages: [{role, content}], temperature?, top_p?,
 *      max_tokens?, stop?, seed?, presence_penalty?, frequency_penalty?,
 *      stream?}
 *   -> {model, choices: [{message: {role, content}, finish_reason}],
 *       usage: {prompt_tokens, completion_tokens}}
 *   streamed: "data: {choices: [{delta: {content}}]}" events, the last
 *   "data: [DONE]"; usage may come in a chunk of its own.
 *
 * Pure: no I/O. */
#ifndef LP_LLM_H
#define LP_LLM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "valid.h"

/* Checks sampling parameters (an object; path names it in errors):
 * temperature 0..2, top_p 0..1, max_tokens 1..1000000, stop (a string or
 * up to 4 strings), seed (an integer), presence_penalty and
 * frequency_penalty -2..2.  Nothing else. */
int lp_llm_check_params(const json_t *params, const char *path, lp_verr *e);

/* Checks a conversation: a non-empty array of {role, content} with role
 * system, user or assistant and content a string, ending with a user
 * message; at most max messages. */
int lp_llm_check_messages(const json_t *messages, const char *path, size_t max, lp_verr *e);

/* The request body (new reference): model, messages, and the parameters of
 * defaults overridden by those of params (either may be NULL). */
json_t *lp_llm_request(const char *model, const json_t *messages, const json_t *defaults,
                       const json_t *params, int stream);

typedef struct lp_llm_reply {
    char *content;       /* heap; "" when the model said nothing */
    char model[128];     /* the model that answered, as it names itself */
    char finish[32];     /* finish_reason ("stop", "length"...), "" if none */
    int64_t prompt_tokens, completion_tokens; /* -1 when not reported */
} lp_llm_reply;

void lp_llm_reply_fini(lp_llm_reply *r);

/* Reads a reply body.  0, or LP_EINVAL with err saying what is wrong (not
 * JSON, no choices, content not a string...).  An error object
 * ({"error": {"message"}}) is reported with its message. */
int lp_llm_parse(const char *body, size_t len, lp_llm_reply *out, char *err, size_t errn);

/* A streamed reply, fed as its bytes arrive.  Each content delta goes to
 * on_delta (when set); the whole text, model, finish reason and usage
 * gather in reply. */
typedef struct lp_llm_stream {
    lp_buf line;  /* the event line being read */
    lp_buf text;  /* the content so far */
    lp_llm_reply reply;
    int done;     /* [DONE] seen */
    char err[256]; /* first malformed event, "" if none */
    void (*on_delta)(void *ctx, const char *delta, size_t n);
    void *ctx;
} lp_llm_stream;

void lp_llm_stream_init(lp_llm_stream *s, void (*on_delta)(void *, const char *, size_t),
                        void *ctx);
/* Feeds n bytes; returns LP_EINVAL once an event is not a chunk (err
 * filled, the stream should be abandoned). */
int lp_llm_stream_feed(lp_llm_stream *s, const char *data, size_t n);
/* Ends the stream: moves the text into s->reply.content.  LP_EINVAL when
 * nothing valid came (err filled). */
int lp_llm_stream_end(lp_llm_stream *s);
void lp_llm_stream_fini(lp_llm_stream *s);

/* The text of a conversation's last user message (borrowed), or NULL. */
const char *lp_llm_last_user(const json_t *messages);

#endif
