/* schema.c -- every table of Loupe, as an append-only list of migrations.
 *
 * Never edit a migration that has shipped: add a new one.  Times are
 * milliseconds since the Unix epoch (BIGINT); JSON documents are TEXT.
 * Counts of tasks by status are maintained in project_counts and
 * batch_counts by tasks.c in the same transaction as every change, so no
 * request ever counts rows of the tasks table. */
#include "schema.h"

const lp_migration lp_migrations[] = {
    {1, "CREATE TABLE users ("
        " id {id},"
        " email TEXT NOT NULL UNIQUE,"
        " name TEXT NOT NULL DEFAULT '',"
        " role TEXT NOT NULL,"
        " password_hash TEXT,"
        " disabled BIGINT NOT NULL DEFAULT 0,"
        " created_at BIGINT NOT NULL);"
        "CREATE TABLE api_keys ("
        " id {id},"
        " user_id BIGINT NOT NULL REFERENCES users(id),"
        " key_hash TEXT NOT NULL UNIQUE,"
        " prefix TEXT NOT NULL,"
        " name TEXT NOT NULL DEFAULT '',"
        " created_at BIGINT NOT NULL,"
        " revoked_at BIGINT);"
        "CREATE INDEX api_keys_user ON api_keys(user_id);"
        "CREATE TABLE sessions ("
        " id {id},"
        " user_id BIGINT NOT NULL REFERENCES users(id),"
        " token_hash TEXT NOT NULL UNIQUE,"
        " created_at BIGINT NOT NULL,"
        " expires_at BIGINT NOT NULL);"
        "CREATE TABLE projects ("
        " id {id},"
        " name TEXT NOT NULL,"
        " kind TEXT NOT NULL,"
        " params TEXT NOT NULL,"
        " overlap BIGINT NOT NULL DEFAULT 1,"
        " review_levels BIGINT NOT NULL DEFAULT 0,"
        " gold_rate DOUBLE PRECISION NOT NULL DEFAULT 0,"
        " min_gold_accuracy DOUBLE PRECISION NOT NULL DEFAULT 0,"
        " aggregation TEXT NOT NULL DEFAULT 'majority',"
        " lease_seconds BIGINT NOT NULL DEFAULT 600,"
        " callback_url TEXT,"
        " metadata TEXT NOT NULL DEFAULT '{}',"
        " created_by BIGINT REFERENCES users(id),"
        " created_at BIGINT NOT NULL,"
        " updated_at BIGINT NOT NULL);"
        "CREATE TABLE project_members ("
        " project_id BIGINT NOT NULL REFERENCES projects(id),"
        " user_id BIGINT NOT NULL REFERENCES users(id),"
        " role TEXT NOT NULL,"
        " PRIMARY KEY (project_id, user_id));"
        "CREATE INDEX project_members_user ON project_members(user_id);"
        "CREATE TABLE batches ("
        " id {id},"
        " project_id BIGINT NOT NULL REFERENCES projects(id),"
        " name TEXT NOT NULL,"
        " status TEXT NOT NULL,"
        " metadata TEXT NOT NULL DEFAULT '{}',"
        " created_at BIGINT NOT NULL,"
        " updated_at BIGINT NOT NULL,"
        " UNIQUE (project_id, name));"
        "CREATE TABLE tasks ("
        " id {id},"
        " project_id BIGINT NOT NULL REFERENCES projects(id),"
        " batch_id BIGINT REFERENCES batches(id),"
        " unique_id TEXT,"
        " status TEXT NOT NULL,"
        " priority BIGINT NOT NULL DEFAULT 0,"
        " attachments TEXT NOT NULL DEFAULT '[]',"
        " data TEXT NOT NULL DEFAULT '{}',"
        " metadata TEXT NOT NULL DEFAULT '{}',"
        " tags TEXT NOT NULL DEFAULT '[]',"
        " expected_response TEXT,"
        " predictions TEXT,"
        " created_at BIGINT NOT NULL,"
        " updated_at BIGINT NOT NULL,"
        " UNIQUE (project_id, unique_id));"
        "CREATE INDEX tasks_project ON tasks(project_id, id);"
        "CREATE INDEX tasks_project_status ON tasks(project_id, status, id);"
        "CREATE INDEX tasks_batch ON tasks(batch_id, id) WHERE batch_id IS NOT NULL;"
        "CREATE TABLE task_tags ("
        " task_id BIGINT NOT NULL REFERENCES tasks(id),"
        " project_id BIGINT NOT NULL,"
        " tag TEXT NOT NULL,"
        /* Keyed for the tag filter, in one b-tree; a task's own tags are
         * read from its tags column. */
        " PRIMARY KEY (project_id, tag, task_id)){without_rowid};"
        "CREATE TABLE project_counts ("
        " project_id BIGINT NOT NULL REFERENCES projects(id),"
        " status TEXT NOT NULL,"
        " n BIGINT NOT NULL,"
        " PRIMARY KEY (project_id, status));"
        "CREATE TABLE batch_counts ("
        " batch_id BIGINT NOT NULL REFERENCES batches(id),"
        " status TEXT NOT NULL,"
        " n BIGINT NOT NULL,"
        " PRIMARY KEY (batch_id, status));"
        "CREATE TABLE files ("
        " sha256 TEXT PRIMARY KEY,"
        " size BIGINT NOT NULL,"
        " content_type TEXT NOT NULL,"
        " filename TEXT NOT NULL DEFAULT '',"
        " uploaded_by BIGINT REFERENCES users(id),"
        " created_at BIGINT NOT NULL);"},
    {2,
     /* The work queue: a lease of a task to a worker is an assignment; a
      * submitted response is an annotation (kept even when refused).  Each
      * task counts its accepted annotations (done) and its open leases
      * (leased), so "does it need more work" is one comparison, and
      * queue_order (its batch, or 0) orders batches in the queue index. */
     "ALTER TABLE tasks ADD COLUMN done BIGINT NOT NULL DEFAULT 0;"
     "ALTER TABLE tasks ADD COLUMN leased BIGINT NOT NULL DEFAULT 0;"
     "ALTER TABLE tasks ADD COLUMN queue_order BIGINT NOT NULL DEFAULT 0;"
     "CREATE INDEX tasks_queue ON tasks(project_id, priority DESC, queue_order, id)"
     " WHERE status IN ('pending', 'in_progress');"
     "CREATE TABLE assignments ("
     " id {id},"
     " task_id BIGINT NOT NULL REFERENCES tasks(id),"
     " project_id BIGINT NOT NULL REFERENCES projects(id),"
     " user_id BIGINT NOT NULL REFERENCES users(id),"
     " status TEXT NOT NULL,"
     " expires_at BIGINT NOT NULL,"
     " draft TEXT,"
     " reason TEXT,"
     " created_at BIGINT NOT NULL,"
     " updated_at BIGINT NOT NULL);"
     "CREATE INDEX assignments_task_user ON assignments(task_id, user_id);"
     "CREATE INDEX assignments_open ON assignments(project_id, expires_at) WHERE status = 'active';"
     "CREATE INDEX assignments_user ON assignments(user_id, status, id);"
     "CREATE TABLE annotations ("
     " id {id},"
     " annotation_id TEXT NOT NULL,"
     " assignment_id BIGINT NOT NULL REFERENCES assignments(id),"
     " task_id BIGINT NOT NULL REFERENCES tasks(id),"
     " project_id BIGINT NOT NULL,"
     " user_id BIGINT NOT NULL REFERENCES users(id),"
     " response TEXT NOT NULL,"
     " status TEXT NOT NULL,"
     " reason TEXT,"
     " created_at BIGINT NOT NULL,"
     " UNIQUE (user_id, annotation_id));"
     "CREATE INDEX annotations_task ON annotations(task_id, status);"},
    {3,
     /* A completed task's consolidated result:
      * {"response", "confidence", "method", "annotations"} as JSON. */
     "ALTER TABLE tasks ADD COLUMN result TEXT;"},
    {4,
     /* Callbacks: events go to a durable outbox (deliveries, one row per
      * destination) in the same transaction as the change that made them; a
      * delivery thread posts them, signed, and records every attempt.
      * claimed_until lets several processes share the outbox without
      * posting a delivery twice. */
     "ALTER TABLE projects ADD COLUMN callback_secret TEXT;"
     "CREATE TABLE webhooks ("
     " id {id},"
     " project_id BIGINT REFERENCES projects(id),"
     " url TEXT NOT NULL,"
     " secret TEXT NOT NULL,"
     " events TEXT NOT NULL,"
     " created_by BIGINT REFERENCES users(id),"
     " created_at BIGINT NOT NULL);"
     "CREATE TABLE deliveries ("
     " id {id},"
     " message_id TEXT NOT NULL UNIQUE,"
     " event TEXT NOT NULL,"
     " project_id BIGINT,"
     " webhook_id BIGINT,"
     " url TEXT NOT NULL,"
     " secret TEXT NOT NULL,"
     " payload TEXT NOT NULL,"
     " status TEXT NOT NULL,"
     " attempts BIGINT NOT NULL DEFAULT 0,"
     " next_at BIGINT NOT NULL,"
     " claimed_until BIGINT NOT NULL DEFAULT 0,"
     " last_status BIGINT,"
     " last_error TEXT,"
     " created_at BIGINT NOT NULL,"
     " delivered_at BIGINT);"
     "CREATE INDEX deliveries_due ON deliveries(next_at) WHERE status = 'pending';"
     "CREATE INDEX deliveries_project ON deliveries(project_id, id);"
     "CREATE TABLE delivery_attempts ("
     " id {id},"
     " delivery_id BIGINT NOT NULL REFERENCES deliveries(id),"
     " at BIGINT NOT NULL,"
     " http_status BIGINT,"
     " error TEXT,"
     " duration_ms BIGINT NOT NULL);"
     "CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id, id);"},
    {5,
     /* Review levels and audits.  An assignment is of kind 'annotate' or
      * 'review' (at a level); a task in review waits at review_level for a
      * reviewer.  Every version of a task's result is kept with who made it;
      * the last review or audit decision is kept with the task. */
     "ALTER TABLE tasks ADD COLUMN review_level BIGINT NOT NULL DEFAULT 0;"
     "ALTER TABLE tasks ADD COLUMN review TEXT;"
     "ALTER TABLE assignments ADD COLUMN kind TEXT NOT NULL DEFAULT 'annotate';"
     "ALTER TABLE assignments ADD COLUMN level BIGINT NOT NULL DEFAULT 0;"
     "CREATE INDEX tasks_review ON tasks(project_id, review_level, priority DESC, queue_order, id)"
     " WHERE status = 'review';"
     "CREATE TABLE result_versions ("
     " id {id},"
     " task_id BIGINT NOT NULL REFERENCES tasks(id),"
     " response TEXT NOT NULL,"
     " source TEXT NOT NULL,"
     " user_id BIGINT REFERENCES users(id),"
     " created_at BIGINT NOT NULL);"
     "CREATE INDEX result_versions_task ON result_versions(task_id, id);"},
    {6,
     /* The queue's order among tasks of one priority and batch. */
     "ALTER TABLE projects ADD COLUMN strategy TEXT NOT NULL DEFAULT 'fifo';"},
    {7,
     /* Gold tasks and worker quality.  A task with an expected_response is
      * in status 'gold': out of the work queue (the gold queue mixes it in),
      * never completed, out of its batch's open count.  An annotation of a
      * gold task keeps its score against the expected response.  A member
      * paused for low gold accuracy has paused_at set; their accuracy counts
      * annotations after quality_after (the last annotation id when they
      * were reinstated: ids order without clock ties). */
     "ALTER TABLE projects ADD COLUMN min_gold_count BIGINT NOT NULL DEFAULT 5;"
     "ALTER TABLE projects ADD COLUMN calibration_count BIGINT NOT NULL DEFAULT 0;"
     "ALTER TABLE annotations ADD COLUMN score DOUBLE PRECISION;"
     "CREATE INDEX annotations_gold ON annotations(project_id, user_id, id)"
     " WHERE score IS NOT NULL;"
     "ALTER TABLE project_members ADD COLUMN paused_at BIGINT;"
     "ALTER TABLE project_members ADD COLUMN pause_reason TEXT;"
     "ALTER TABLE project_members ADD COLUMN quality_after BIGINT NOT NULL DEFAULT 0;"
     "UPDATE tasks SET status = 'gold' WHERE expected_response IS NOT NULL AND"
     " status IN ('pending', 'in_progress');"
     "DELETE FROM project_counts;"
     "INSERT INTO project_counts (project_id, status, n)"
     " SELECT project_id, status, COUNT(*) FROM tasks GROUP BY project_id, status;"
     "DELETE FROM batch_counts;"
     "INSERT INTO batch_counts (batch_id, status, n)"
     " SELECT batch_id, status, COUNT(*) FROM tasks WHERE batch_id IS NOT NULL"
     " GROUP BY batch_id, status;"},
    {8,
     /* The quality engine.  A member's skill is the probability they answer
      * right, as the project's aggregation method last estimated it (POST
      * /v1/projects/{id}/aggregate); NULL until then.  weighted_majority
      * became gold_weighted. */
     "ALTER TABLE project_members ADD COLUMN skill DOUBLE PRECISION;"
     "UPDATE projects SET aggregation = 'gold_weighted' WHERE aggregation = 'weighted_majority';"},
    {9,
     /* A project's annotations by time, for its dashboard (stats.c): the
      * throughput reads a window of them, the labels and times all of them
      * without a scan of every project's. */
     "CREATE INDEX annotations_project_time ON annotations(project_id, created_at);"},
    {10,
     /* The key of a project's worker pseudonyms in exports (exporter.h):
      * 64 hex digits, made with the project and never shown by the API, so
      * that the same worker has the same pseudonym in every export of the
      * project and no one without the database can tell who it is. */
     "ALTER TABLE projects ADD COLUMN export_secret TEXT;"
     "UPDATE projects SET export_secret = {random_key};"},
    {11,
     /* Scoped API keys: scope 'read' refuses every route that changes
      * something, 'full' (every key made before) does not; a key with a
      * project_id acts in that project only (api.c).  The project is
      * checked when the key is made (projects are never deleted); no
      * REFERENCES, so that SQLite can drop the column again (test_db.c). */
     "ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'full';"
     "ALTER TABLE api_keys ADD COLUMN project_id BIGINT;"},
    {12,
     /* The audit log (audit.c): a row for each request that may change
      * something (every method but GET and HEAD), written in its
      * transaction or right after it.  Who (the user, and the key when one
      * was used), from where (address), what (the route, the path, the
      * project, the id a POST made, the body's top-level field names --
      * never their values), when, and how it ended (the status).  No
      * REFERENCES: rows outlive what they name.  Read newest first, by
      * project or by user. */
     "CREATE TABLE audit_log ("
     " id {id},"
     " at BIGINT NOT NULL,"
     " user_id BIGINT,"
     " key_id BIGINT,"
     " address TEXT NOT NULL,"
     " method TEXT NOT NULL,"
     " route TEXT NOT NULL,"
     " path TEXT NOT NULL,"
     " project_id BIGINT,"
     " object_id BIGINT,"
     " status INTEGER NOT NULL,"
     " detail TEXT);"
     "CREATE INDEX audit_log_project ON audit_log(project_id, id) WHERE project_id IS NOT NULL;"
     "CREATE INDEX audit_log_user ON audit_log(user_id, id) WHERE user_id IS NOT NULL;"},
    {13,
     /* Files belong to projects (files.h): a file is served to admins, to
      * everyone who uploaded its bytes (file_uploaders), and to the members
      * of a project linked to it -- by a task of the project that names it
      * (an attachment's file, or a /v1/files/SHA256 URL in its attachments
      * or data) or by an upload with ?project_id.  The files that tasks of
      * before named are linked by lp_file_link_existing (migrate.c), one
      * pass over the tasks. */
     "CREATE TABLE file_projects ("
     " sha256 TEXT NOT NULL,"
     " project_id BIGINT NOT NULL REFERENCES projects(id),"
     " PRIMARY KEY (sha256, project_id));"
     "CREATE TABLE file_uploaders ("
     " sha256 TEXT NOT NULL,"
     " user_id BIGINT NOT NULL,"
     " PRIMARY KEY (sha256, user_id));"
     "INSERT INTO file_uploaders (sha256, user_id)"
     " SELECT sha256, uploaded_by FROM files WHERE uploaded_by IS NOT NULL;"},
    {14,
     /* Active learning (strategy 'uncertainty', queue.c): how unsure the
      * models are of a task, 1 minus the best score among its predictions
      * (1 with none: a task no model has seen is as uncertain as can be),
      * kept as predictions arrive; the queue of such a project walks its
      * open tasks most uncertain first.  Tasks of before are given theirs
      * by lp_task_set_uncertainties (migrate.c). */
     "ALTER TABLE tasks ADD COLUMN uncertainty DOUBLE PRECISION NOT NULL DEFAULT 1;"
     "CREATE INDEX tasks_uncertain ON tasks(project_id, priority DESC, queue_order,"
     " uncertainty DESC, id) WHERE status IN ('pending', 'in_progress');"},
    {15,
     /* ML backends (mlbackend.c): a project's backend, its settings and
      * how it is doing, shared by every Loupe process on the database;
      * and its queue of tasks to predict, one row a task of the project
      * (kept when done, so a task is sent again only when asked).
      * task_cursor: the tasks up to it are in the queue; annotation_cursor:
      * the annotations up to it were sent to /webhook.  The *_until
      * columns are claims, so that one process does each call. */
     "CREATE TABLE ml_backends ("
     " project_id BIGINT PRIMARY KEY REFERENCES projects(id),"
     " config TEXT NOT NULL,"
     " generation BIGINT NOT NULL DEFAULT 1,"
     " setup_generation BIGINT NOT NULL DEFAULT 0,"
     " setup_claimed_until BIGINT NOT NULL DEFAULT 0,"
     " model_version TEXT,"
     " task_cursor BIGINT NOT NULL DEFAULT 0,"
     " annotation_cursor BIGINT NOT NULL DEFAULT 0,"
     " train_claimed_until BIGINT NOT NULL DEFAULT 0,"
     " train_attempts BIGINT NOT NULL DEFAULT 0,"
     " fail_streak BIGINT NOT NULL DEFAULT 0,"
     " paused_until BIGINT NOT NULL DEFAULT 0,"
     " health TEXT NOT NULL DEFAULT 'unknown',"
     " health_error TEXT,"
     " health_at BIGINT NOT NULL DEFAULT 0,"
     " last_ok_at BIGINT,"
     " last_error TEXT,"
     " last_error_at BIGINT,"
     " calls BIGINT NOT NULL DEFAULT 0,"
     " failures BIGINT NOT NULL DEFAULT 0,"
     " predicted BIGINT NOT NULL DEFAULT 0,"
     " trained BIGINT NOT NULL DEFAULT 0,"
     " train_failures BIGINT NOT NULL DEFAULT 0,"
     " created_at BIGINT NOT NULL,"
     " updated_at BIGINT NOT NULL);"
     "CREATE TABLE ml_queue ("
     " project_id BIGINT NOT NULL,"
     " task_id BIGINT NOT NULL,"
     " state TEXT NOT NULL DEFAULT 'waiting',"
     " attempts BIGINT NOT NULL DEFAULT 0,"
     " next_at BIGINT NOT NULL DEFAULT 0,"
     " claimed_until BIGINT NOT NULL DEFAULT 0,"
     " error TEXT,"
     " updated_at BIGINT NOT NULL DEFAULT 0,"
     " PRIMARY KEY (project_id, task_id));"
     "CREATE INDEX ml_queue_due ON ml_queue(project_id, state, next_at);"},
    {16,
     /* Queue strategies (active.h): how a project's uncertainty reads its
      * models' predictions (least_confidence, margin, entropy), and how
      * much a task's accepted annotations disagree (1 minus their mean
      * pairwise agreement under the kind's score, 0 with fewer than two),
      * kept by every change of them (queue.c); strategy 'disagreement'
      * walks tasks_disputed, most disputed first.  Tasks of before are
      * given theirs by set_disagreements (migrate.c). */
     "ALTER TABLE projects ADD COLUMN uncertainty_measure TEXT NOT NULL"
     " DEFAULT 'least_confidence';"
     "ALTER TABLE tasks ADD COLUMN disagreement DOUBLE PRECISION NOT NULL DEFAULT 0;"
     "CREATE INDEX tasks_disputed ON tasks(project_id, priority DESC, queue_order,"
     " disagreement DESC, id) WHERE status IN ('pending', 'in_progress');"},
    {17,
     /* Auto-labeling (autolabel.h): the project's setting, a JSON object
      * (NULL: the defaults, disabled), and what the model did with a task:
      * NULL (nothing yet), 'model' (completed by it), 'spot_check' (drawn
      * to stay with humans) or 'returned' (its label sent back by an
      * audit). */
     "ALTER TABLE projects ADD COLUMN auto_label TEXT;"
     "ALTER TABLE tasks ADD COLUMN auto_label TEXT;"},
    {18,
     /* Which process does a project's background work (learner.c: the
      * built-in model and auto-labeling) when several share the database:
      * the owner holds it until `until`, renewing it each round; another
      * takes it once it has lapsed.  Not copied by loupe copy (copy.c). */
     "CREATE TABLE worker_leases ("
     " name TEXT NOT NULL,"
     " project_id BIGINT NOT NULL,"
     " owner TEXT NOT NULL,"
     " until BIGINT NOT NULL,"
     " PRIMARY KEY (name, project_id));"},
    {19,
     /* LLM data (endpoint.h, generate.h).  model_endpoints: the
      * OpenAI-compatible servers an admin registered, the API key sealed
      * (lp_auth_seal).  prompt_sets and prompts: conversations to send,
      * with reference answers for an evaluation set.  generations: a job
      * sending a set's prompts to endpoints; gen_outputs: one row per
      * prompt, endpoint and sample, its state, claim, attempts and, once
      * done, the reply with its model, parameters, latency, token usage
      * and (with references) exact match and F1.  task_outputs: which
      * output each response of a task made from a generation is, and at
      * which position it was shown, so the leaderboard can name the
      * models the annotators never see. */
     "CREATE TABLE model_endpoints ("
     " id {id},"
     " name TEXT NOT NULL UNIQUE,"
     " base_url TEXT NOT NULL,"
     " model TEXT NOT NULL,"
     " api_key TEXT,"
     " params TEXT NOT NULL DEFAULT '{}',"
     " max_concurrency BIGINT NOT NULL DEFAULT 4,"
     " timeout_ms BIGINT NOT NULL DEFAULT 60000,"
     " retries BIGINT NOT NULL DEFAULT 3,"
     " created_by BIGINT,"
     " created_at BIGINT NOT NULL,"
     " updated_at BIGINT NOT NULL);"
     "CREATE TABLE prompt_sets ("
     " id {id},"
     " name TEXT NOT NULL,"
     " created_by BIGINT,"
     " created_at BIGINT NOT NULL);"
     "CREATE TABLE prompts ("
     " id {id},"
     " set_id BIGINT NOT NULL REFERENCES prompt_sets(id),"
     " unique_id TEXT,"
     " messages TEXT NOT NULL,"
     " reference TEXT,"
     " metadata TEXT NOT NULL DEFAULT '{}',"
     " created_at BIGINT NOT NULL,"
     " UNIQUE (set_id, unique_id));"
     "CREATE INDEX prompts_set ON prompts(set_id, id);"
     "CREATE TABLE generations ("
     " id {id},"
     " set_id BIGINT NOT NULL REFERENCES prompt_sets(id),"
     " name TEXT,"
     " endpoints TEXT NOT NULL,"
     " params TEXT NOT NULL DEFAULT '{}',"
     " samples BIGINT NOT NULL DEFAULT 1,"
     " state TEXT NOT NULL DEFAULT 'running',"
     " created_by BIGINT,"
     " created_at BIGINT NOT NULL,"
     " updated_at BIGINT NOT NULL);"
     "CREATE TABLE gen_outputs ("
     " id {id},"
     " generation_id BIGINT NOT NULL REFERENCES generations(id),"
     " prompt_id BIGINT NOT NULL,"
     " endpoint_id BIGINT NOT NULL,"
     " sample BIGINT NOT NULL DEFAULT 0,"
     " state TEXT NOT NULL DEFAULT 'waiting',"
     " attempts BIGINT NOT NULL DEFAULT 0,"
     " next_at BIGINT NOT NULL DEFAULT 0,"
     " claimed_until BIGINT NOT NULL DEFAULT 0,"
     " error TEXT,"
     " model TEXT,"
     " params TEXT,"
     " content TEXT,"
     " finish_reason TEXT,"
     " latency_ms BIGINT,"
     " prompt_tokens BIGINT,"
     " completion_tokens BIGINT,"
     " exact_match DOUBLE PRECISION,"
     " f1 DOUBLE PRECISION,"
     " updated_at BIGINT NOT NULL DEFAULT 0,"
     " UNIQUE (generation_id, prompt_id, endpoint_id, sample));"
     "CREATE INDEX gen_outputs_due ON gen_outputs(state, endpoint_id, next_at);"
     "CREATE TABLE task_outputs ("
     " task_id BIGINT NOT NULL,"
     " response_id TEXT NOT NULL,"
     " output_id BIGINT NOT NULL,"
     " model TEXT NOT NULL,"
     " position BIGINT NOT NULL,"
     " PRIMARY KEY (task_id, response_id));"},
    {20,
     /* Red teaming (kind_redteam.c, api_redteam.c): every model turn of
      * a live chat, as sent and as answered (or failed), so that a
      * submitted transcript can be checked against what the model really
      * said.  prompt: the messages sent (JSON, the system prompt first);
      * turn: the user turn it answers (1, 2, ...). */
     "CREATE TABLE chat_turns ("
     " id {id},"
     " assignment_id BIGINT NOT NULL REFERENCES assignments(id),"
     " task_id BIGINT NOT NULL REFERENCES tasks(id),"
     " project_id BIGINT NOT NULL,"
     " user_id BIGINT NOT NULL,"
     " turn BIGINT NOT NULL,"
     " prompt TEXT NOT NULL,"
     " content TEXT,"
     " model TEXT,"
     " latency_ms BIGINT,"
     " error TEXT,"
     " created_at BIGINT NOT NULL);"
     "CREATE INDEX chat_turns_assignment ON chat_turns(assignment_id, id);"
     "CREATE INDEX chat_turns_task ON chat_turns(task_id, id);"},
};

const size_t lp_migration_count = sizeof lp_migrations / sizeof lp_migrations[0];
