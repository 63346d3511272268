/* learner.h -- the built-in model in the loop: for each categorization
 * project whose params say "builtin_model": true, a text classifier
 * (textclf.h) learns every accepted annotation as it arrives and predicts
 * the project's open tasks, as the prediction of model "loupe:builtin"
 * with the probability of its label as the score -- which the editors
 * start from, and which orders the queue of a project with strategy
 * "uncertainty" (tasks.uncertainty).  A background thread does it every
 * --learn-ms, so no request waits for it. */
#ifndef LP_LEARNER_H
#define LP_LEARNER_H

#include <jansson.h>
#include <stdint.h>

#include "db.h"
#include "util.h"

#define LP_LEARNER_MODEL "loupe:builtin"

typedef struct lp_learner lp_learner;

int lp_learner_start(lp_db_pool *pool, int64_t every_ms, lp_learner **out);
/* Stops the thread (after its round in progress) and frees it; NULL is a
 * no-op. */
void lp_learner_stop(lp_learner *l);

/* The text a task's data gives the model: data.text when it is a string,
 * else its string values joined by spaces. */
void lp_learner_text(const json_t *data, lp_buf *out);

#endif
