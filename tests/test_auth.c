/* test_auth.c -- passwords, keys, sessions and project roles. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth.h"
#include "test.h"
#include "util.h"

static lp_db *auth_db(void)
{
    const char *dir = lp_test_tmpdir();
    char *err = NULL, url[512];
    unsetenv("LOUPE_SECRET");
    if (lp_auth_init(dir, &err) < 0) {
        fprintf(stderr, "%s\n", err);
        free(err);
        return NULL;
    }
    snprintf(url, sizeof url, "sqlite:%s/a.db", dir);
    lp_db *db = NULL;
    lp_db_open(url, &db, &err);
    free(err);
    if (db && lp_db_migrate(db) < 0) {
        lp_db_close(db);
        return NULL;
    }
    return db;
}

TEST(auth_secret_file_is_private_and_stable)
{
    const char *dir = lp_test_tmpdir();
    char *err = NULL, path[512];
    unsetenv("LOUPE_SECRET");
    CHECK_INT(lp_auth_init(dir, &err), 0);
    snprintf(path, sizeof path, "%s/secret.key", dir);
    struct stat sb;
    CHECK_INT(stat(path, &sb), 0);
    CHECK_INT(sb.st_mode & 0777, 0600);
    char h1[LP_HASH_HEX], h2[LP_HASH_HEX];
    lp_auth_token_hash("lpk_abc", h1);
    CHECK_INT(lp_auth_init(dir, &err), 0); /* reloaded from the file */
    lp_auth_token_hash("lpk_abc", h2);
    CHECK_STR(h1, h2);
    setenv("LOUPE_SECRET", "not-hex", 1);
    CHECK_INT(lp_auth_init(dir, &err), LP_EINVAL);
    CHECK(err && strstr(err, "64 hex"));
    free(err);
    unsetenv("LOUPE_SECRET");
}

TEST(auth_password_hash_verifies_only_the_password)
{
    char *h = NULL;
    CHECK_INT(lp_password_hash("correct horse", &h), 0);
    CHECK(strncmp(h, "$argon2id$", 10) == 0);
    CHECK_INT(lp_password_verify(h, "correct horse"), 0);
    CHECK_INT(lp_password_verify(h, "correct hors"), LP_EAUTH);
    CHECK_INT(lp_password_verify(NULL, "x"), LP_EAUTH);
    free(h);
}

TEST(auth_keys_are_stored_hashed_and_revocable)
{
    lp_db *db = auth_db();
    CHECK(db != NULL);
    int64_t uid, kid;
    CHECK_INT(lp_user_create(db, "Ann@Example.com", "Ann", 0, NULL, &uid), 0);
    CHECK_INT(lp_user_create(db, "ann@example.com", "", 0, NULL, &kid), LP_EEXISTS);
    char key[LP_TOKEN_MAX];
    CHECK_INT(lp_key_create(db, uid, "ci", NULL, key, &kid), 0);
    CHECK(strncmp(key, "lpk_", 4) == 0 && strlen(key) == 47);
    /* The plain key appears nowhere in the database. */
    int64_t n = -1;
    lp_db_int64(db, &n, "SELECT COUNT(*) FROM api_keys WHERE key_hash = ? OR prefix = ?", "ss", key,
                key);
    CHECK_INT(n, 0);
    lp_user u;
    CHECK_INT(lp_key_resolve(db, key, &u, NULL), 0);
    CHECK_INT(u.id, uid);
    CHECK_STR(u.email, "ann@example.com");
    CHECK_INT(lp_key_resolve(db, "lpk_wrong", &u, NULL), LP_EAUTH);
    CHECK_INT(lp_key_revoke(db, uid + 1, kid), LP_ENOTFOUND); /* not the owner */
    CHECK_INT(lp_key_revoke(db, uid, kid), 0);
    CHECK_INT(lp_key_resolve(db, key, &u, NULL), LP_EAUTH);
    /* A disabled user's other keys stop working. */
    CHECK_INT(lp_key_create(db, uid, "", NULL, key, &kid), 0);
    lp_db_run(db, "UPDATE users SET disabled = 1 WHERE id = ?", "i", uid);
    CHECK_INT(lp_key_resolve(db, key, &u, NULL), LP_EPERM);
    lp_db_close(db);
}

TEST(auth_check_password_of_a_user)
{
    lp_db *db = auth_db();
    CHECK(db != NULL);
    int64_t a, b;
    CHECK_INT(lp_user_create(db, "p@x.io", "", 0, "hunter22!", &a), 0);
    CHECK_INT(lp_user_create(db, "nopw@x.io", "", 0, NULL, &b), 0);
    CHECK_INT(lp_user_check_password(db, a, "hunter22!"), 0);
    CHECK_INT(lp_user_check_password(db, a, "hunter22"), LP_EAUTH);
    CHECK_INT(lp_user_check_password(db, b, ""), LP_EAUTH); /* key-only users cannot log in */
    CHECK_INT(lp_user_set_password(db, b, "now-i-have-one"), 0);
    CHECK_INT(lp_user_check_password(db, b, "now-i-have-one"), 0);
    lp_db_close(db);
}

TEST(auth_sessions_expire_and_end)
{
    lp_db *db = auth_db();
    CHECK(db != NULL);
    int64_t uid;
    CHECK_INT(lp_user_create(db, "s@x.io", "", 1, NULL, &uid), 0);
    char tok[LP_TOKEN_MAX];
    lp_session_life life = {3600000, 0};
    int64_t ends;
    CHECK_INT(lp_session_create(db, uid, &life, tok, &ends), 0);
    CHECK(ends > lp_now_ms() + 3590000);
    lp_user u;
    CHECK_INT(lp_session_resolve(db, tok, &life, &u, NULL, NULL), 0);
    CHECK(u.is_admin);
    lp_db_run(db, "UPDATE sessions SET expires_at = 1", NULL);
    CHECK_INT(lp_session_resolve(db, tok, &life, &u, NULL, NULL), LP_EAUTH);
    CHECK_INT(lp_session_create(db, uid, &life, tok, NULL), 0); /* sweeps the expired one */
    int64_t n;
    lp_db_int64(db, &n, "SELECT COUNT(*) FROM sessions", NULL);
    CHECK_INT(n, 1);
    CHECK_INT(lp_session_delete(db, tok), 0);
    CHECK_INT(lp_session_resolve(db, tok, &life, &u, NULL, NULL), LP_EAUTH);
    lp_db_close(db);
}

/* A session ends when unused for idle_ms; using it moves that on, but
 * never past ttl_ms from the login. */
TEST(auth_sessions_idle_timeout)
{
    lp_db *db = auth_db();
    CHECK(db != NULL);
    int64_t uid, ends, at;
    CHECK_INT(lp_user_create(db, "i@x.io", "", 0, NULL, &uid), 0);
    char tok[LP_TOKEN_MAX];
    lp_session_life life = {3600000, 600000}; /* an hour, ten idle minutes */
    int64_t now = lp_now_ms();
    CHECK_INT(lp_session_create(db, uid, &life, tok, &ends), 0);
    CHECK(ends >= now + 600000 && ends < now + 610000);
    lp_user u;
    /* Used 9 minutes later (seen as: its deadline is a minute away): the
     * deadline is due to move to ten minutes from now, which the caller
     * writes once its request's transaction is over. */
    int64_t id, until;
    lp_db_run(db, "UPDATE sessions SET expires_at = ?", "i", lp_now_ms() + 60000);
    CHECK_INT(lp_session_resolve(db, tok, &life, &u, &id, &until), 0);
    CHECK(id > 0 && until >= now + 600000);
    CHECK_INT(lp_session_touch(db, id, until), 0);
    lp_db_int64(db, &at, "SELECT expires_at FROM sessions", NULL);
    CHECK(at == until);
    /* Used again at once: nothing due (it would move less than a minute). */
    lp_db_run(db, "UPDATE sessions SET expires_at = ?", "i", at - 30000);
    CHECK_INT(lp_session_resolve(db, tok, &life, &u, &id, &until), 0);
    CHECK(id == 0 && until == 0);
    /* Unused past its deadline: gone. */
    lp_db_run(db, "UPDATE sessions SET expires_at = ?", "i", lp_now_ms() - 1);
    CHECK_INT(lp_session_resolve(db, tok, &life, &u, NULL, NULL), LP_EAUTH);
    /* Never past the login's life, however busy: made 59.5 minutes ago. */
    CHECK_INT(lp_session_create(db, uid, &life, tok, NULL), 0);
    lp_db_run(db, "UPDATE sessions SET created_at = ?", "i", lp_now_ms() - 3570000);
    CHECK_INT(lp_session_resolve(db, tok, &life, &u, &id, &until), 0);
    CHECK(until <= lp_now_ms() + 30000 + 10);
    lp_db_run(db, "UPDATE sessions SET created_at = ?", "i", lp_now_ms() - 3600001);
    CHECK_INT(lp_session_resolve(db, tok, &life, &u, NULL, NULL), LP_EAUTH);
    lp_db_close(db);
}

TEST(auth_password_rules)
{
    char why[128];
    CHECK_INT(lp_password_check("a-long-password-1", "ann@x.io", why, sizeof why), 0);
    CHECK_INT(lp_password_check("short-pass1", "ann@x.io", why, sizeof why), LP_EINVAL);
    CHECK(strstr(why, "at least 12 characters") != NULL);
    /* characters, not bytes: 11 two-byte letters are too short */
    CHECK_INT(lp_password_check("\xc3\xa9\xc3\xa0\xc3\xa8\xc3\xb9\xc3\xa2\xc3\xaa"
                                "\xc3\xae\xc3\xb4\xc3\xbb\xc3\xa7\xc3\xab",
                                "ann@x.io", why, sizeof why),
              LP_EINVAL);
    CHECK_INT(lp_password_check("\xc3\xa9\xc3\xa0\xc3\xa8\xc3\xb9\xc3\xa2\xc3\xaa"
                                "\xc3\xae\xc3\xb4\xc3\xbb\xc3\xa7\xc3\xab\xc3\xaf",
                                "ann@x.io", why, sizeof why),
              0);
    CHECK_INT(lp_password_check("aaaaaaaaaaaaaaaa", "ann@x.io", why, sizeof why), LP_EINVAL);
    CHECK(strstr(why, "5 different characters") != NULL);
    CHECK_INT(lp_password_check("abcdabcdabcdabcd", "ann@x.io", why, sizeof why), LP_EINVAL);
    CHECK_INT(lp_password_check("abcdeabcdeab", "ann@x.io", why, sizeof why), 0);
    CHECK_INT(lp_password_check("my ANN@X.IO pass", "ann@x.io", why, sizeof why), LP_EINVAL);
    CHECK(strstr(why, "email") != NULL);
    CHECK_INT(lp_password_check("Anne.Marie.Smith", "anne.marie.smith@x.io", why, sizeof why),
              LP_EINVAL);
    CHECK_INT(lp_password_check("anne.marie.smith!", "anne.marie.smith@x.io", why, sizeof why), 0);
}

TEST(auth_csrf_token_is_per_session_and_stable)
{
    lp_db *db = auth_db();
    CHECK(db != NULL);
    char a[LP_TOKEN_MAX], a2[LP_TOKEN_MAX], b[LP_TOKEN_MAX];
    lp_auth_csrf("lps_one", a);
    lp_auth_csrf("lps_one", a2);
    lp_auth_csrf("lps_two", b);
    CHECK_INT((int)strlen(a), 43);
    CHECK(strcmp(a, a2) == 0);
    CHECK(strcmp(a, b) != 0);
    char h[LP_HASH_HEX];
    lp_auth_token_hash("lps_one", h); /* not the stored hash, in any form */
    CHECK(strstr(h, a) == NULL);
    lp_db_close(db);
}

TEST(auth_project_roles)
{
    lp_db *db = auth_db();
    CHECK(db != NULL);
    int64_t uid, pid;
    lp_user_create(db, "m@x.io", "", 0, NULL, &uid);
    CHECK_INT(lp_db_int64(db, &pid,
                          "INSERT INTO projects (name, kind, params, created_at, updated_at) "
                          "VALUES ('p', 'categorization', '{}', 0, 0) RETURNING id",
                          NULL),
              0);
    int role = -1;
    CHECK_INT(lp_project_role(db, pid, uid, 0, &role), 0);
    CHECK_INT(role, LP_ROLE_NONE);
    CHECK_INT(lp_project_role(db, pid, uid, 1, &role), 0);
    CHECK_INT(role, LP_ROLE_MANAGER); /* admins manage every project */
    CHECK_INT(lp_member_set(db, pid, uid, LP_ROLE_ANNOTATOR), 0);
    lp_project_role(db, pid, uid, 0, &role);
    CHECK_INT(role, LP_ROLE_ANNOTATOR);
    CHECK_INT(lp_member_set(db, pid, uid, LP_ROLE_REVIEWER), 0); /* update, not a second row */
    lp_project_role(db, pid, uid, 0, &role);
    CHECK_INT(role, LP_ROLE_REVIEWER);
    CHECK_INT(lp_project_role(db, pid + 99, uid, 1, &role), LP_ENOTFOUND);
    CHECK_INT(lp_member_remove(db, pid, uid), 0);
    CHECK_INT(lp_member_remove(db, pid, uid), LP_ENOTFOUND);
    /* A project always keeps a manager. */
    int64_t other;
    lp_user_create(db, "o@x.io", "", 0, NULL, &other);
    CHECK_INT(lp_member_set(db, pid, uid, LP_ROLE_MANAGER), 0);
    CHECK_INT(lp_member_set(db, pid, uid, LP_ROLE_ANNOTATOR), LP_ECONFLICT);
    CHECK_INT(lp_member_remove(db, pid, uid), LP_ECONFLICT);
    CHECK_INT(lp_member_set(db, pid, other, LP_ROLE_MANAGER), 0);
    CHECK_INT(lp_member_set(db, pid, uid, LP_ROLE_ANNOTATOR), 0); /* now someone else is */
    CHECK_INT(lp_member_remove(db, pid, other), LP_ECONFLICT);
    lp_project_role(db, pid, uid, 0, &role);
    CHECK_INT(role, LP_ROLE_ANNOTATOR);
    CHECK_INT(lp_role_parse("manager"), LP_ROLE_MANAGER);
    CHECK_INT(lp_role_parse("owner"), -1);
    CHECK_INT(lp_role_parse(NULL), -1);
    lp_db_close(db);
}
