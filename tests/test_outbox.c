/* test_outbox.c -- webhook signatures and the outbox's destinations. */
#include <stdlib.h>

#include "auth.h"
#include "outbox.h"
#include "test.h"
#include "util.h"

TEST(outbox_signature_matches_the_standard_webhooks_vector)
{
    /* The example of the Standard Webhooks specification. */
    const char *body = "{\"test\": 2432232314}";
    char sig[128];
    CHECK_INT(lp_webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                              "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), sig,
                              sizeof sig),
              0);
    CHECK_STR(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    CHECK_INT(lp_webhook_sign("nope", "m", 1, body, strlen(body), sig, sizeof sig), LP_EINVAL);
    CHECK_INT(lp_webhook_sign("whsec_!!!", "m", 1, body, strlen(body), sig, sizeof sig), LP_EINVAL);
    char s1[LP_SECRET_TEXT], s2[LP_SECRET_TEXT];
    lp_webhook_secret_new(s1);
    lp_webhook_secret_new(s2);
    CHECK(strncmp(s1, "whsec_", 6) == 0 && strcmp(s1, s2) != 0);
    CHECK_INT(lp_webhook_sign(s1, "m", 1, body, strlen(body), sig, sizeof sig), 0);
}

TEST(outbox_event_goes_to_each_subscribed_destination_in_the_transaction)
{
    const char *dir = lp_test_tmpdir();
    char *err = NULL, url[512];
    unsetenv("LOUPE_SECRET");
    lp_auth_init(dir, &err);
    snprintf(url, sizeof url, "sqlite:%s/o.db", dir);
    lp_db *db = NULL;
    CHECK_INT(lp_db_open(url, &db, &err), 0);
    CHECK_INT(lp_db_migrate(db), 0);
    int64_t p1, p2;
    lp_db_int64(db, &p1,
                "INSERT INTO projects (name, kind, params, callback_url, created_at, updated_at) "
                "VALUES ('a', 'rating', '{}', 'http://cb/a', 0, 0) RETURNING id",
                NULL);
    lp_db_int64(db, &p2,
                "INSERT INTO projects (name, kind, params, created_at, updated_at) "
                "VALUES ('b', 'rating', '{}', 0, 0) RETURNING id",
                NULL);
    lp_db_run(db,
              "INSERT INTO webhooks (project_id, url, secret, events, created_at) VALUES "
              "(?, 'http://h/1', 'whsec_AAAA', 'task.completed', 0)",
              "i", p1);
    lp_db_run(db,
              "INSERT INTO webhooks (project_id, url, secret, events, created_at) VALUES "
              "(NULL, 'http://h/all', 'whsec_AAAA', '*', 0)",
              NULL);
    lp_db_run(db,
              "INSERT INTO webhooks (project_id, url, secret, events, created_at) VALUES "
              "(?, 'http://h/other', 'whsec_AAAA', '*', 0)",
              "i", p2);
    CHECK_INT(lp_db_begin(db, LP_TX_WRITE), 0);
    CHECK_INT(lp_outbox_event(db, p1, "task.completed", "{\"id\":1}"), 0);
    CHECK_INT(lp_outbox_event(db, p1, "batch.completed", "{\"id\":2}"), 0);
    CHECK_INT(lp_db_commit(db), 0);
    int64_t n = 0;
    /* task.completed: callback, hook 1, the global hook; batch.completed:
     * callback and the global hook only.  Project b's hook gets nothing. */
    lp_db_int64(db, &n, "SELECT COUNT(*) FROM deliveries WHERE event = 'task.completed'", NULL);
    CHECK_INT(n, 3);
    lp_db_int64(db, &n, "SELECT COUNT(*) FROM deliveries WHERE event = 'batch.completed'", NULL);
    CHECK_INT(n, 2);
    lp_db_int64(db, &n, "SELECT COUNT(*) FROM deliveries WHERE url = 'http://h/other'", NULL);
    CHECK_INT(n, 0);
    lp_db_int64(db, &n, "SELECT COUNT(DISTINCT message_id) FROM deliveries", NULL);
    CHECK_INT(n, 5);
    /* The callback is signed with the project's secret, made on first use. */
    char secret[LP_SECRET_TEXT];
    CHECK_INT(lp_project_callback_secret(db, p1, secret), 0);
    lp_db_int64(db, &n, "SELECT COUNT(*) FROM deliveries WHERE url = 'http://cb/a' AND secret = ?",
                "s", secret);
    CHECK_INT(n, 2);
    /* Rolled back, an event leaves nothing behind. */
    CHECK_INT(lp_db_begin(db, LP_TX_WRITE), 0);
    CHECK_INT(lp_outbox_event(db, p1, "task.completed", "{}"), 0);
    CHECK_INT(lp_db_rollback(db), 0);
    lp_db_int64(db, &n, "SELECT COUNT(*) FROM deliveries", NULL);
    CHECK_INT(n, 5);
    lp_db_close(db);
}
