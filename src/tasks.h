/* tasks.h -- tasks: validation of task input, creation (one or in bulk),
 * reading, listing with keyset cursors, status changes, metadata and tags.
 *
 * Invariant: project_counts and batch_counts hold, for every project and
 * batch, the number of tasks in each status.  Every function here that
 * creates a task or changes its status updates them in the same
 * transaction, so nothing ever counts rows of the tasks table. */
#ifndef LP_TASKS_H
#define LP_TASKS_H

#include <jansson.h>
#include <stdint.h>

#include "active.h"
#include "db.h"
#include "project.h"
#include "valid.h"

/* Task statuses.  The labeling engine moves tasks between them.  A gold
 * task (one with an expected_response) is created 'gold' and stays so
 * until it is canceled. */
#define LP_TASK_STATUSES "pending", "in_progress", "review", "completed", "canceled", "gold"
int lp_task_status_valid(const char *s);

/* Adds delta to the counters of (project, batch (0: none), status). */
int lp_counts_add(lp_db *db, int64_t project_id, int64_t batch_id, const char *status,
                  int64_t delta);

/* A task writer creates tasks of one project, in the caller's transaction,
 * and keeps counter changes until lp_task_writer_flush(). */
#define LP_TAG_BATCH 64
typedef struct lp_task_writer {
    lp_db *db;
    const lp_project *project;
    /* The user who adds the tasks (and the project of their key, 0: any):
     * a file their tasks name is linked to the project only if they may
     * read it (lp_file_link); 0 (an admin's unscoped key, the CLI) links
     * every one. */
    int64_t reader, reader_project;
    /* New tasks not yet counted, [0] pending, [1] gold and [2]
     * completed, for the project and for a small cache of the batches
     * seen. */
    int64_t project_new[3];
    int64_t batch_ids[8], batch_new[8][3];
    int nbatch;
    int64_t last_batch;          /* last batch checked: it is staging */
    int measure;                 /* the project's lp_measure (-1: to read in this transaction) */
    int64_t batch_default;       /* the batch of a row that names none (0: none) */
    lp_stmt *ins_task, *ins_tag; /* held for the writer's life: no lookup per row */
    /* The task_tags rows of inserted tasks, written LP_TAG_BATCH at a time
     * by one statement (ins_tags), the rest by lp_task_writer_flush(). */
    lp_stmt *ins_tags;
    int ntags;
    int64_t tag_task[LP_TAG_BATCH];
    char tag_text[LP_TAG_BATCH][65]; /* a tag is 1 to 64 bytes */
} lp_task_writer;

void lp_task_writer_init(lp_task_writer *w, lp_db *db, const lp_project *p);
/* Makes batch_id the batch of the rows that name none (by batch_id or
 * batch), after checking that it is a batch of the project in staging:
 * 0, LP_EINVAL with e filled (field "batch_id"), or a database error. */
int lp_task_writer_default_batch(lp_task_writer *w, int64_t batch_id, lp_verr *e);
/* A task checked and encoded without the database, ready to insert.  The
 * bulk import prepares rows on one thread while another inserts them. */
typedef struct lp_task_row {
    int rc;           /* 0, or LP_EINVAL with err (reported when inserted) */
    int foreign;      /* names another project: never taken for a duplicate */
    lp_verr *err;     /* set with rc (heap) */
    char *unique_id;  /* NULL if none */
    int64_t batch_id; /* as given (0: none) */
    char *batch_name; /* as given (NULL: none) */
    int64_t priority;
    double uncertainty[LP_MEASURES]; /* under each measure (active.h) */
    char *cols[6];        /* attachments, data, metadata, tags, expected_response,
                             predictions as JSON text (NULL: SQL NULL) */
    size_t lens[6];       /* their lengths */
    unsigned borrowed;    /* bit c: cols[c] is in the task's source text, not owned */
    json_t *tags;         /* normalised: sorted, no duplicates */
    json_t *files;        /* [[attachment index, sha256], ...] to look up */
    char *result;         /* an imported result as the task's result column, or NULL */
    char *result_version; /* its response with sorted keys (result_versions) */
} lp_task_row;

/* Fills row from a task body; pure (no database), so any thread may call
 * it.  Returns row->rc.  Release the row with lp_task_row_fini(). */
int lp_task_prepare(const lp_project *p, const json_t *task, lp_task_row *row);
/* The same for a task parsed (lp_json_parse) from the text src[0..len):
 * the columns whose text there is already as Loupe writes it are taken
 * from it, not encoded again (cols point into src, not NUL-terminated, so
 * the row must not outlive it). */
int lp_task_prepare_text(const lp_project *p, const json_t *task, const char *src, size_t len,
                         lp_task_row *row);
void lp_task_row_fini(lp_task_row *row);
/* Inserts a prepared row (or reports its error), in the caller's
 * transaction.  Results as lp_task_writer_add. */
int lp_task_writer_insert(lp_task_writer *w, const lp_task_row *row, int64_t *id, lp_verr *e);

/* Validates one task body (the fields of POST /v1/tasks minus project_id)
 * and inserts it.  Returns 0 with *id set; LP_EEXISTS with *id set to the
 * task that already has this unique_id; LP_EINVAL with e filled; another
 * LP_E* code on a database error. */
int lp_task_writer_add(lp_task_writer *w, json_t *task, int64_t *id, lp_verr *e);
/* Writes the pending counter changes (call before commit). */
int lp_task_writer_flush(lp_task_writer *w);
/* Releases the writer's statements (after its commit or rollback). */
void lp_task_writer_fini(lp_task_writer *w);

/* Checks one prediction {model, response, score, probabilities} of task (its input, for
 * the kind's checks) at path; with model_required, "model" must be given.
 * 0 or LP_EINVAL with e filled. */
int lp_task_check_prediction(const lp_project *p, const json_t *task, const json_t *pr,
                             const char *path, int model_required, lp_verr *e);

/* Appends the task as JSON text to out; LP_ENOTFOUND if missing.
 * *project_id receives its project (for permission checks). */
int lp_task_text(lp_db *db, int64_t id, int64_t *project_id, lp_buf *out);
/* What of a task a caller may see: everything (managers, reviewers
 * listing), a reviewer's work view (no gold), an annotator's (no gold, no
 * consolidated result). */
enum { LP_VIEW_FULL, LP_VIEW_REVIEWER, LP_VIEW_ANNOTATOR };
int lp_task_view(lp_db *db, int64_t id, int64_t *project_id, lp_buf *out, int view);
/* The same as a jansson value the caller owns. */
int lp_task_get(lp_db *db, int64_t id, int64_t *project_id, json_t **out);

/* Time bounds of a task list; their query names are lp_time_filter_names. */
enum { LP_CREATED_AFTER, LP_CREATED_BEFORE, LP_UPDATED_AFTER, LP_UPDATED_BEFORE, LP_TIME_FILTERS };
extern const char *const lp_time_filter_names[LP_TIME_FILTERS];

typedef struct lp_task_filter {
    int64_t project_id; /* required */
    int64_t batch_id;   /* 0: any */
    const char *status; /* NULL: any */
    const char *unique_id;
    const char *tag;
    int no_gold;  /* leave out gold tasks */
    int reviewed; /* only tasks completed through a review (or an accepted audit) */
    const char *auto_label; /* NULL: any; else only tasks.auto_label = this (autolabel.h) */
    int64_t time[LP_TIME_FILTERS]; /* bounds in ms, indexed by LP_CREATED_AFTER... */
    unsigned time_set;             /* bit i set: time[i] applies */
    int64_t after_id;              /* the cursor: ids greater than this */
    int limit;
} lp_task_filter;

/* Calls fn with each of up to f->limit tasks in id order, as JSON text
 * (valid only during the call); fn returns non-zero to stop there (that
 * value is returned if negative, else 0).  *next_after is the id to
 * continue after (the last one handed to fn when it stopped), or 0 when
 * there are no more.  Returns 0 or the query's error. */
typedef int (*lp_task_fn)(void *arg, int64_t id, const char *json, size_t n);
int lp_task_each(lp_db *db, const lp_task_filter *f, lp_task_fn fn, void *arg, int64_t *next_after);
/* Appends a JSON array of up to f->limit tasks in id order to out;
 * *next_after is the id to continue after, or 0 when there are no more. */
int lp_task_list(lp_db *db, const lp_task_filter *f, lp_buf *out, int64_t *next_after);

/* Moves a task to status to.  LP_ECONFLICT when its status is one of the
 * NULL-terminated list refuse (e.g. cancelling a completed task); *from
 * receives the old status (static string) if not NULL. */
int lp_task_set_status(lp_db *db, int64_t id, const char *to, const char *const *refuse,
                       const char **from);
int lp_task_set_metadata(lp_db *db, int64_t id, const json_t *metadata);
/* Adds (add=1) or removes tags; tags is an array of strings, validated. */
int lp_task_tags(lp_db *db, int64_t id, const json_t *tags, int add, lp_verr *e);

#endif
