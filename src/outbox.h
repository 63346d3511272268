/* outbox.h -- callbacks and webhooks: a durable outbox and its delivery.
 *
 * lp_outbox_event() writes one delivery row per destination (the
 * project's callback_url, and every webhook subscribed to the project and
 * event) in the caller's transaction, so an event exists if and only if
 * the change that made it was committed.  The delivery thread posts due
 * rows, signed as Standard Webhooks do (webhook-id, webhook-timestamp,
 * webhook-signature: "v1," base64 HMAC-SHA256 of "id.timestamp.body"
 * under the secret after "whsec_"), records each attempt, and retries with
 * exponential backoff for 24 hours.  A row is claimed (claimed_until)
 * before it is posted, so several processes never post it twice. */
#ifndef LP_OUTBOX_H
#define LP_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define LP_SECRET_TEXT     64
#define LP_DELIVERY_DAY_MS (24LL * 3600 * 1000)

/* A new signing secret: "whsec_" and 32 random bytes in base64. */
void lp_webhook_secret_new(char out[LP_SECRET_TEXT]);
/* The Standard Webhooks signature of body into out ("v1,..."); LP_EINVAL
 * if secret is not "whsec_" + base64. */
int lp_webhook_sign(const char *secret, const char *id, int64_t timestamp, const char *body,
                    size_t n, char *out, size_t outn);

/* The project's callback signing secret, made on first use. */
int lp_project_callback_secret(lp_db *db, int64_t project_id, char out[LP_SECRET_TEXT]);

/* Queues event (e.g. "task.completed") with data (JSON text) for every
 * destination of the project, in the caller's transaction. */
int lp_outbox_event(lp_db *db, int64_t project_id, const char *event, const char *data);

/* The delivery thread. */
typedef struct lp_deliverer lp_deliverer;
/* retry_ms: the first retry's delay, doubling each time (capped at an
 * hour); poll_ms: how often to look for due deliveries. */
int lp_deliverer_start(lp_db_pool *pool, int64_t retry_ms, int64_t poll_ms, lp_deliverer **out);
void lp_deliverer_stop(lp_deliverer *d);

#endif
