/* test_tasks.c -- projects, batches and tasks in the database: validation,
 * duplicates, the maintained counters and keyset paging. */
#include <stdlib.h>

#include "auth.h"
#include "project.h"
#include "tasks.h"
#include "test.h"
#include "util.h"

typedef struct fixture {
    lp_db *db;
    lp_project *p;
} fixture;

static int setup(fixture *f, const char *project_json)
{
    const char *dir = lp_test_tmpdir();
    char *err = NULL, url[512];
    unsetenv("LOUPE_SECRET");
    lp_auth_init(dir, &err);
    snprintf(url, sizeof url, "sqlite:%s/t.db", dir);
    if (lp_db_open(url, &f->db, &err) < 0 || lp_db_migrate(f->db) < 0) return -1;
    json_t *b = json_loads(project_json, 0, NULL);
    lp_verr e;
    int64_t id;
    int rc = lp_project_save(f->db, b, 0, &id, &e);
    json_decref(b);
    if (rc < 0) {
        fprintf(stderr, "project: %s: %s\n", e.field, e.message);
        return rc;
    }
    return lp_project_get(f->db, id, &f->p);
}

static void teardown(fixture *f)
{
    lp_project_free(f->p);
    lp_db_close(f->db);
}

static const char *cat_project =
    "{\"name\": \"p\", \"kind\": \"categorization\", \"params\": {\"labels\": [\"cat\", \"dog\"]}}";

/* Adds one task from JSON text in its own transaction. */
static int add(fixture *f, const char *json, int64_t *id, lp_verr *e)
{
    lp_task_writer w;
    lp_task_writer_init(&w, f->db, f->p);
    json_t *t = json_loads(json, 0, NULL);
    lp_db_begin(f->db, LP_TX_WRITE);
    int rc = lp_task_writer_add(&w, t, id, e);
    if (rc == 0) lp_task_writer_flush(&w);
    lp_db_commit(f->db);
    lp_task_writer_fini(&w);
    json_decref(t);
    return rc;
}

/* Runs a list query and parses its JSON text (NULL on any failure). */
static json_t *list(fixture *f, const lp_task_filter *q, int64_t *next)
{
    lp_buf b = {0};
    json_t *arr = NULL;
    if (lp_task_list(f->db, q, &b, next) == 0) arr = json_loadb(b.data, b.len, 0, NULL);
    lp_buf_fini(&b);
    return arr;
}

static int64_t count(fixture *f, const char *status)
{
    json_t *c = lp_counts_json(f->db, f->p->id, 0);
    int64_t n = json_integer_value(json_object_get(c, status));
    json_decref(c);
    return n;
}

TEST(tasks_create_counts_and_duplicates)
{
    fixture f = {0};
    CHECK_INT(setup(&f, cat_project), 0);
    lp_verr e;
    int64_t a, b, c;
    CHECK_INT(add(&f, "{\"unique_id\": \"u1\", \"tags\": [\"b\", \"a\", \"b\"]}", &a, &e), 0);
    CHECK_INT(add(&f, "{\"unique_id\": \"u2\"}", &b, &e), 0);
    CHECK_INT(add(&f, "{\"unique_id\": \"u1\"}", &c, &e), LP_EEXISTS);
    CHECK_INT(c, a);
    CHECK_STR(e.field, "unique_id");
    CHECK_INT(count(&f, "pending"), 2);
    CHECK_INT(count(&f, "total"), 2);
    json_t *t;
    int64_t pid;
    CHECK_INT(lp_task_get(f.db, a, &pid, &t), 0);
    CHECK_INT(pid, f.p->id);
    CHECK_STR(json_string_value(json_array_get(json_object_get(t, "tags"), 0)), "a");
    CHECK_INT(json_array_size(json_object_get(t, "tags")), 2);
    CHECK(json_is_false(json_object_get(t, "is_gold")));
    json_decref(t);
    teardown(&f);
}

TEST(tasks_invalid_input_names_the_field)
{
    fixture f = {0};
    CHECK_INT(setup(&f, cat_project), 0);
    lp_verr e;
    int64_t id;
    CHECK_INT(add(&f, "{\"colour\": 1}", &id, &e), LP_EINVAL);
    CHECK_STR(e.field, "colour");
    CHECK_INT(add(&f, "{\"attachments\": [{\"type\": \"smell\", \"url\": \"http://x\"}]}", &id, &e),
              LP_EINVAL);
    CHECK_STR(e.field, "attachments[0].type");
    CHECK_INT(add(&f, "{\"attachments\": [{\"type\": \"image\", \"url\": \"ftp://x\"}]}", &id, &e),
              LP_EINVAL);
    CHECK_STR(e.field, "attachments[0].url");
    CHECK_INT(
        add(&f,
            "{\"attachments\": [{\"type\": \"image\", \"url\": \"http://x\", \"content\": \"y\"}]}",
            &id, &e),
        LP_EINVAL);
    CHECK_STR(e.field, "attachments[0]");
    CHECK_INT(add(&f,
                  "{\"attachments\": [{\"type\": \"image\", \"file\": "
                  "\"0000000000000000000000000000000000000000000000000000000000000000\"}]}",
                  &id, &e),
              LP_EINVAL);
    CHECK(strstr(e.message, "no uploaded file"));
    CHECK_INT(add(&f, "{\"expected_response\": {\"labels\": [\"cow\"]}}", &id, &e), LP_EINVAL);
    CHECK(strncmp(e.field, "expected_response", 17) == 0);
    CHECK(strstr(e.message, "cow"));
    CHECK_INT(add(&f, "{\"predictions\": [{\"response\": {\"labels\": [\"cat\"]}, \"score\": 2}]}",
                  &id, &e),
              LP_EINVAL);
    CHECK_STR(e.field, "predictions[0].score");
    CHECK_INT(add(&f, "{\"priority\": \"high\"}", &id, &e), LP_EINVAL);
    CHECK_STR(e.field, "priority");
    CHECK_INT(add(&f, "{\"tags\": [\"\"]}", &id, &e), LP_EINVAL);
    CHECK_STR(e.field, "tags[0]");
    CHECK_INT(add(&f, "{\"tags\": [\"ok\", \"a/b\"]}", &id, &e), LP_EINVAL);
    CHECK_STR(e.field, "tags[1]");
    CHECK_INT(add(&f, "{\"project_id\": 999}", &id, &e), LP_EINVAL);
    CHECK_STR(e.field, "project_id");
    CHECK_INT(count(&f, "total"), 0); /* nothing invalid was stored */
    CHECK_INT(add(&f,
                  "{\"expected_response\": {\"labels\": [\"dog\"]}, \"predictions\": "
                  "[{\"model\": \"m\", \"response\": {\"labels\": [\"cat\"]}, \"score\": 0.7}]}",
                  &id, &e),
              0);
    json_t *t;
    int64_t pid;
    lp_task_get(f.db, id, &pid, &t);
    CHECK(json_is_true(json_object_get(t, "is_gold")));
    CHECK_NEAR(json_real_value(
                   json_object_get(json_array_get(json_object_get(t, "predictions"), 0), "score")),
               0.7, 1e-12);
    json_decref(t);
    teardown(&f);
}

TEST(tasks_batches_count_and_close)
{
    fixture f = {0};
    CHECK_INT(setup(&f, cat_project), 0);
    lp_verr e;
    json_t *b = json_pack("{s:s}", "name", "week 1");
    int64_t bid, dup, id;
    CHECK_INT(lp_batch_create(f.db, f.p->id, b, &bid, &e), 0);
    CHECK_INT(lp_batch_create(f.db, f.p->id, b, &dup, &e), LP_EEXISTS);
    CHECK_INT(dup, bid);
    json_decref(b);
    char body[128];
    snprintf(body, sizeof body, "{\"batch_id\": %lld}", (long long)bid);
    CHECK_INT(add(&f, body, &id, &e), 0);
    CHECK_INT(add(&f, "{\"batch\": \"week 1\"}", &id, &e), 0);
    CHECK_INT(add(&f, "{\"batch\": \"week 9\"}", &id, &e), LP_EINVAL);
    CHECK_STR(e.field, "batch");
    json_t *bj;
    int64_t pid;
    CHECK_INT(lp_batch_json(f.db, bid, &pid, &bj), 0);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(bj, "counts"), "pending")), 2);
    CHECK_STR(json_string_value(json_object_get(bj, "status")), "staging");
    json_decref(bj);
    CHECK_INT(lp_batch_finalize(f.db, bid), 0);
    CHECK_INT(lp_batch_finalize(f.db, bid), LP_ECONFLICT);
    CHECK_INT(add(&f, body, &id, &e), LP_EINVAL);
    CHECK_STR(e.field, "batch_id");
    CHECK(strstr(e.message, "in_progress"));
    /* A retry of a task that exists is a duplicate even though its batch
     * has been finalized since. */
    char again[160];
    snprintf(again, sizeof again, "{\"batch_id\": %lld, \"unique_id\": \"r1\"}", (long long)bid);
    lp_db_run(f.db, "UPDATE batches SET status = 'staging' WHERE id = ?", "i", bid);
    int64_t first;
    CHECK_INT(add(&f, again, &first, &e), 0);
    lp_batch_finalize(f.db, bid);
    CHECK_INT(add(&f, again, &id, &e), LP_EEXISTS);
    CHECK_INT(id, first);
    CHECK_INT(add(&f, "{\"batch\": \"week 1\", \"batch_id\": 1}", &id, &e), LP_EINVAL);
    CHECK_STR(e.field, "batch");
    teardown(&f);
}

TEST(tasks_status_changes_move_counts)
{
    fixture f = {0};
    CHECK_INT(setup(&f, cat_project), 0);
    lp_verr e;
    int64_t id;
    json_t *b = json_pack("{s:s}", "name", "b");
    int64_t bid;
    lp_batch_create(f.db, f.p->id, b, &bid, &e);
    json_decref(b);
    char body[64];
    snprintf(body, sizeof body, "{\"batch_id\": %lld}", (long long)bid);
    CHECK_INT(add(&f, body, &id, &e), 0);
    static const char *const refuse[] = {"completed", "canceled", NULL};
    const char *from;
    CHECK_INT(lp_task_set_status(f.db, id, "canceled", refuse, &from), 0);
    CHECK_STR(from, "pending");
    CHECK_INT(count(&f, "pending"), 0);
    CHECK_INT(count(&f, "canceled"), 1);
    CHECK_INT(count(&f, "total"), 1);
    json_t *c = lp_counts_json(f.db, 0, bid);
    CHECK_INT(json_integer_value(json_object_get(c, "canceled")), 1);
    CHECK_INT(json_integer_value(json_object_get(c, "pending")), 0);
    json_decref(c);
    CHECK_INT(lp_task_set_status(f.db, id, "canceled", refuse, &from), LP_ECONFLICT);
    CHECK_INT(lp_task_set_status(f.db, id + 1000, "canceled", refuse, &from), LP_ENOTFOUND);
    CHECK_INT(count(&f, "canceled"), 1);
    teardown(&f);
}

TEST(tasks_list_pages_cover_everything_once)
{
    fixture f = {0};
    CHECK_INT(setup(&f, cat_project), 0);
    lp_verr e;
    lp_task_writer w;
    lp_task_writer_init(&w, f.db, f.p);
    lp_db_begin(f.db, LP_TX_WRITE);
    for (int i = 0; i < 250; i++) {
        json_t *t = i % 5 == 0 ? json_pack("{s:[s]}", "tags", "fifth") : json_object();
        int64_t id;
        CHECK_INT(lp_task_writer_add(&w, t, &id, &e), 0);
        json_decref(t);
    }
    lp_task_writer_flush(&w);
    lp_db_commit(f.db);
    lp_task_writer_fini(&w);
    CHECK_INT(count(&f, "pending"), 250);
    lp_task_filter q = {.project_id = f.p->id, .limit = 100};
    int pages = 0, seen = 0;
    int64_t last = 0;
    do {
        json_t *arr = list(&f, &q, &q.after_id);
        CHECK(arr != NULL);
        size_t i;
        json_t *t;
        json_array_foreach(arr, i, t)
        {
            int64_t id = json_integer_value(json_object_get(t, "id"));
            CHECK(id > last);
            last = id;
            seen++;
        }
        json_decref(arr);
        pages++;
    } while (q.after_id && pages < 10);
    CHECK_INT(pages, 3);
    CHECK_INT(seen, 250);
    lp_task_filter tq = {.project_id = f.p->id, .tag = "fifth", .limit = 1000};
    int64_t next;
    json_t *arr = list(&f, &tq, &next);
    CHECK(arr != NULL);
    CHECK_INT(json_array_size(arr), 50);
    CHECK_INT(next, 0);
    json_decref(arr);
    lp_task_filter sq = {.project_id = f.p->id, .status = "completed", .limit = 10};
    arr = list(&f, &sq, &next);
    CHECK(arr != NULL);
    CHECK_INT(json_array_size(arr), 0);
    json_decref(arr);
    teardown(&f);
}

TEST(tasks_tags_add_remove_keep_copy_in_sync)
{
    fixture f = {0};
    CHECK_INT(setup(&f, cat_project), 0);
    lp_verr e;
    int64_t id, pid;
    CHECK_INT(add(&f, "{\"tags\": [\"x\"]}", &id, &e), 0);
    json_t *tags = json_pack("[s, s]", "y", "x");
    CHECK_INT(lp_task_tags(f.db, id, tags, 1, &e), 0);
    json_decref(tags);
    json_t *t;
    lp_task_get(f.db, id, &pid, &t);
    CHECK_INT(json_array_size(json_object_get(t, "tags")), 2);
    json_decref(t);
    tags = json_pack("[s]", "x");
    CHECK_INT(lp_task_tags(f.db, id, tags, 0, &e), 0);
    json_decref(tags);
    lp_task_get(f.db, id, &pid, &t);
    CHECK_INT(json_array_size(json_object_get(t, "tags")), 1);
    CHECK_STR(json_string_value(json_array_get(json_object_get(t, "tags"), 0)), "y");
    json_decref(t);
    lp_task_filter q = {.project_id = f.p->id, .tag = "x", .limit = 10};
    int64_t next;
    json_t *arr = list(&f, &q, &next);
    CHECK_INT(json_array_size(arr), 0);
    json_decref(arr);
    teardown(&f);
}

TEST(projects_validate_policy_and_kind)
{
    fixture f = {0};
    CHECK_INT(setup(&f, cat_project), 0);
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(json_object_get(f.p->params, "labels"), 0), "name")),
              "cat");
    const char *bad[][2] = {
        {"{\"name\": \"x\", \"kind\": \"telepathy\"}", "kind"},
        {"{\"kind\": \"categorization\", \"params\": {\"labels\": [\"a\"]}}", "name"},
        {"{\"name\": \"x\", \"kind\": \"categorization\", \"params\": {\"labels\": [\"a\"]}, "
         "\"overlap\": 0}",
         "overlap"},
        {"{\"name\": \"x\", \"kind\": \"categorization\", \"params\": {\"labels\": [\"a\"]}, "
         "\"aggregation\": \"vibes\"}",
         "aggregation"},
        {"{\"name\": \"x\", \"kind\": \"categorization\", \"params\": {\"labels\": [\"a\"]}, "
         "\"callback_url\": \"file:///etc\"}",
         "callback_url"},
        {"{\"name\": \"x\", \"kind\": \"categorization\", \"params\": {\"labels\": [\"a\"]}, "
         "\"owner\": 1}",
         "owner"},
    };
    for (size_t i = 0; i < LP_ARRAY_LEN(bad); i++) {
        json_t *b = json_loads(bad[i][0], 0, NULL);
        lp_verr e;
        int64_t id;
        CHECK_INT(lp_project_save(f.db, b, 0, &id, &e), LP_EINVAL);
        CHECK_STR(e.field, bad[i][1]);
        json_decref(b);
    }
    json_t *b = json_loads("{\"params\": {\"labels\": []}}", 0, NULL);
    lp_verr e;
    CHECK_INT(lp_project_update(f.db, f.p->id, b, &e), LP_EINVAL);
    CHECK(strncmp(e.field, "params", 6) == 0);
    json_decref(b);
    b = json_loads("{\"kind\": \"ranking\"}", 0, NULL);
    CHECK_INT(lp_project_update(f.db, f.p->id, b, &e), LP_EINVAL);
    CHECK_STR(e.field, "kind");
    json_decref(b);
    b = json_loads("{\"overlap\": 5, \"callback_url\": \"https://example.com/hook\"}", 0, NULL);
    CHECK_INT(lp_project_update(f.db, f.p->id, b, &e), 0);
    json_decref(b);
    lp_project *p2;
    CHECK_INT(lp_project_get(f.db, f.p->id, &p2), 0);
    CHECK_INT(p2->overlap, 5);
    CHECK_STR(p2->callback_url, "https://example.com/hook");
    CHECK_STR(p2->name, "p");
    lp_project_free(p2);
    teardown(&f);
}
