/* test_exporter.c -- worker ids in an export (exporter.h): the pseudonym of
 * a worker under a project's key (checked against BLAKE2b computed
 * elsewhere, so that a change of the hash, which would break every join of
 * old exports with new ones, fails here), the workers option, and the
 * rewriting of a task's review, which must touch its worker and nothing
 * else of the task's bytes. */
#include <stdlib.h>
#include <string.h>

#include "exporter.h"
#include "test.h"

/* Key bytes 0, 1, ..., 31. */
static void key_counting(unsigned char key[LP_EXPORT_KEY_BYTES])
{
    for (int i = 0; i < LP_EXPORT_KEY_BYTES; i++) key[i] = (unsigned char)i;
}

TEST(export_pseudonym_is_keyed_blake2b)
{
    unsigned char key[LP_EXPORT_KEY_BYTES], other[LP_EXPORT_KEY_BYTES];
    key_counting(key);
    memset(other, 0xff, sizeof other);
    char p[LP_PSEUDONYM_LEN + 1];
    /* Python: "w_" + hashlib.blake2b(b"42", key=bytes(range(32)),
     * digest_size=16).hexdigest()[:12] */
    lp_export_pseudonym(key, 42, p);
    CHECK_STR(p, "w_27bec4c653ba");
    lp_export_pseudonym(key, 1, p);
    CHECK_STR(p, "w_9537f3329a1d");
    lp_export_pseudonym(key, 7, p);
    CHECK_STR(p, "w_63c47b3459dc");
    /* Another project's key: another pseudonym for the same worker. */
    lp_export_pseudonym(other, 42, p);
    CHECK_STR(p, "w_b79bd584b84d");
    CHECK_INT(strlen(p), LP_PSEUDONYM_LEN);
}

TEST(export_workers_option)
{
    int w = -1;
    char *err = NULL;
    CHECK_INT(lp_exporter_workers(NULL, &w, &err), 0);
    CHECK_INT(w, LP_WORKERS_IDS);
    CHECK_INT(lp_exporter_workers("ids", &w, &err), 0);
    CHECK_INT(w, LP_WORKERS_IDS);
    CHECK_INT(lp_exporter_workers("pseudonyms", &w, &err), 0);
    CHECK_INT(w, LP_WORKERS_PSEUDONYMS);
    CHECK_INT(lp_exporter_workers("none", &w, &err), 0);
    CHECK_INT(w, LP_WORKERS_NONE);
    CHECK_INT(lp_exporter_workers("hashed", &w, &err), LP_EINVAL);
    CHECK_STR(err, "\"hashed\" is not a way to write workers (one of: ids, pseudonyms, none)");
    free(err);
    CHECK_INT(lp_exporter_workers("", &w, &err), LP_EINVAL);
    free(err);
}

/* The task text rewritten for workers, as a new string. */
static char *rewrite(const char *json, int workers)
{
    unsigned char key[LP_EXPORT_KEY_BYTES];
    key_counting(key);
    lp_buf out = {0};
    lp_export_task_workers(json, strlen(json), workers, key, &out);
    lp_buf_puts(&out, "");
    return out.data;
}

/* A task as lp_task_each writes it, whose data and result hold look-alikes
 * of the review: a nested "review" member, the text "review":{"by":7} in
 * strings (with escaped quotes and braces), and "by" elsewhere. */
#define TASK_HEAD                                                                                 \
    "{\"id\":3,\"project_id\":1,\"batch_id\":null,\"unique_id\":\"r}\\\"review\\\":{\","          \
    "\"status\":\"completed\",\"priority\":0,\"attachments\":[],\"data\":{\"review\":{\"by\":7}," \
    "\"text\":\"\\\"review\\\":{\\\"by\\\":7} {[\\\\\",\"by\":7},\"metadata\":{},\"tags\":[],"    \
    "\"is_gold\":false,\"created_at\":\"2026-11-22T13:40:45.787Z\",\"updated_at\":"               \
    "\"2026-11-22T13:40:49.804Z\",\"result\":{\"response\":{\"labels\":[\"a\"]},\"confidence\":"  \
    "0.6666666666666666,\"method\":\"auto\",\"annotations\":3}"

TEST(export_task_workers_rewrites_the_review_only)
{
    const char *task = TASK_HEAD ",\"review\":{\"action\":\"fix\",\"comment\":\"by 7, {ok}\","
                                 "\"by\":42,\"at\":\"2026-11-22T13:40:49.804Z\",\"level\":1},"
                                 "\"review_level\":1}";
    char *s = rewrite(task, LP_WORKERS_IDS);
    CHECK_STR(s, task);
    free(s);
    s = rewrite(task, LP_WORKERS_PSEUDONYMS);
    CHECK_STR(s, TASK_HEAD ",\"review\":{\"action\":\"fix\",\"comment\":\"by 7, {ok}\","
                           "\"by\":\"w_27bec4c653ba\",\"at\":\"2026-11-22T13:40:49.804Z\","
                           "\"level\":1},\"review_level\":1}");
    free(s);
    s = rewrite(task, LP_WORKERS_NONE);
    CHECK_STR(s, TASK_HEAD ",\"review\":{\"action\":\"fix\",\"comment\":\"by 7, {ok}\","
                           "\"at\":\"2026-11-22T13:40:49.804Z\",\"level\":1},\"review_level\":1}");
    free(s);
    /* The review as the last member (no review_level). */
    s = rewrite(TASK_HEAD ",\"review\":{\"action\":\"accept\",\"by\":1}}", LP_WORKERS_PSEUDONYMS);
    CHECK_STR(s, TASK_HEAD ",\"review\":{\"action\":\"accept\",\"by\":\"w_9537f3329a1d\"}}");
    free(s);
}

TEST(export_task_workers_without_a_review_copies_the_task)
{
    /* No review: the look-alikes inside data are not the review. */
    const char *task = TASK_HEAD "}";
    for (int w = LP_WORKERS_IDS; w <= LP_WORKERS_NONE; w++) {
        char *s = rewrite(task, w);
        CHECK_STR(s, task);
        free(s);
    }
    /* A review with no worker, or not an object, is left as it is. */
    const char *odd[] = {TASK_HEAD ",\"review\":{\"action\":\"accept\"}}",
                         TASK_HEAD ",\"review\":null}", TASK_HEAD ",\"review\":{\"by\":\"x\"}}"};
    for (size_t i = 0; i < LP_ARRAY_LEN(odd); i++) {
        char *s = rewrite(odd[i], LP_WORKERS_PSEUDONYMS);
        CHECK_STR(s, odd[i]);
        free(s);
    }
}
