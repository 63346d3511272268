/* endpoint.h -- model endpoints: OpenAI-compatible chat completion servers
 * an admin registers once (base URL, model name, API key, default sampling
 * parameters, and how hard Loupe may call them), which generation jobs
 * (generate.h) and the red-team editor then use by id.
 *
 * The API key is stored sealed (lp_auth_seal, purpose "model_endpoint")
 * and never returned: the JSON view says only whether there is one. */
#ifndef LP_ENDPOINT_H
#define LP_ENDPOINT_H

#include <jansson.h>
#include <stdint.h>

#include "db.h"
#include "llm.h"
#include "valid.h"

typedef struct lp_endpoint {
    int64_t id;
    char name[128];
    char *base_url, *model;
    char *api_key; /* opened, or NULL when there is none */
    json_t *params; /* default sampling parameters */
    int max_concurrency, retries;
    int64_t timeout_ms;
} lp_endpoint;

/* body {name, base_url, model, api_key?, params?, max_concurrency? (4),
 * timeout_ms? (60000), retries? (3)}.  0 and *out (the view), LP_EINVAL
 * with e naming the field, LP_EEXISTS when the name is taken. */
int lp_endpoint_create(lp_db *db, const json_t *body, int64_t user_id, json_t **out, lp_verr *e);
/* Changes the fields body names (api_key null removes the key). */
int lp_endpoint_update(lp_db *db, int64_t id, const json_t *body, json_t **out, lp_verr *e);
int lp_endpoint_get(lp_db *db, int64_t id, json_t **out);
int lp_endpoint_list(lp_db *db, json_t **out);
/* LP_ECONFLICT while a generation that is not finished uses it. */
int lp_endpoint_delete(lp_db *db, int64_t id);

/* Loads an endpoint with its key opened; LP_ENOTFOUND. */
int lp_endpoint_load(lp_db *db, int64_t id, lp_endpoint *out);
void lp_endpoint_fini(lp_endpoint *ep);

/* The outcome of one call. */
typedef struct lp_endpoint_call {
    long status;        /* HTTP status, 0 for a transport error */
    int retryable;      /* a time-out, 408, 429 or 5xx: worth trying again */
    int64_t latency_ms;
    lp_llm_reply reply; /* when ok */
    char err[512];      /* when not ok */
} lp_endpoint_call;

/* Sends messages (checked) with params over the endpoint's defaults and
 * reads the reply.  0 when the model answered; else a negative code with
 * c->err.  Nothing here touches the database. */
int lp_endpoint_chat(const lp_endpoint *ep, const json_t *messages, const json_t *params,
                     volatile int *cancel, lp_endpoint_call *c);

/* The same, streamed: each piece of text goes to on_delta as it comes. */
int lp_endpoint_chat_stream(const lp_endpoint *ep, const json_t *messages, const json_t *params,
                            volatile int *cancel, void (*on_delta)(void *, const char *, size_t),
                            void *ctx, lp_endpoint_call *c);

#endif
