/* auth.h -- users, API keys, sessions and roles (storage and crypto).
 *
 * Secrets are never stored: passwords as argon2id strings (libsodium
 * crypto_pwhash_str), API keys and session tokens as a keyed BLAKE2b hash
 * under the installation's secret (DATA_DIR/secret.key, or LOUPE_SECRET so
 * that several processes share one), in hex.  A key is shown once, when it
 * is made: "lpk_" followed by 43 URL-safe base64 characters.
 *
 * Roles: an organisation role per user (admin, member) and a role per
 * project (manager > reviewer > annotator).  Admins act as managers of
 * every project. */
#ifndef LP_AUTH_H
#define LP_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define LP_SECRET_BYTES 32
#define LP_HASH_HEX     65 /* 64 hex digits and a NUL */
#define LP_TOKEN_MAX    64

enum { LP_ROLE_NONE = 0, LP_ROLE_ANNOTATOR = 1, LP_ROLE_REVIEWER = 2, LP_ROLE_MANAGER = 3 };

typedef struct lp_user {
    int64_t id;
    char email[256];
    char name[256];
    int is_admin;
    int disabled;
    int has_password;
    int64_t created_at;
} lp_user;

/* Initialises libsodium and loads the secret: $LOUPE_SECRET (64 hex
 * digits) if set, else DATA_DIR/secret.key, created (mode 0600) if missing. */
int lp_auth_init(const char *data_dir, char **errmsg);

/* Keyed hash of a token, as hex, into out[LP_HASH_HEX]. */
void lp_auth_token_hash(const char *token, char out[LP_HASH_HEX]);
/* The CSRF token of a session: base64url of a keyed BLAKE2b hash of the
 * session token under the secret (a hash of its own, never the stored
 * one), so nothing more is stored and it lives as long as the session. */
void lp_auth_csrf(const char *session_token, char out[LP_TOKEN_MAX]);
/* Secrets Loupe must use again (a model endpoint's API key) are stored
 * sealed: XChaCha20-Poly1305 under a key derived from the installation's
 * secret (crypto_kdf, its own context), bound to `purpose` (for example
 * "model_endpoint"), as "v1." + base64url(nonce || ciphertext).  A sealed
 * value opens only with the same secret and purpose.  lp_auth_seal returns
 * a heap string; lp_auth_unseal 0 and *plain (heap), or LP_EINVAL when the
 * value was not sealed under this secret (another installation's, or
 * altered). */
char *lp_auth_seal(const char *plain, const char *purpose);
int lp_auth_unseal(const char *sealed, const char *purpose, char **plain);
/* A new random token "PREFIX" + base64url(32 bytes) into out[LP_TOKEN_MAX]. */
void lp_auth_token_new(const char *prefix, char out[LP_TOKEN_MAX]);

/* The password rules, for every way a password is set (API and CLI): at
 * least LP_PASSWORD_MIN characters (UTF-8 code points), at least 5
 * different characters, and neither the email address (or containing it)
 * nor its part before the '@', compared case-insensitively.  0 if the
 * password passes; else LP_EINVAL with the rule it breaks in why (a
 * sentence starting in lower case, for "password: ..."). */
#define LP_PASSWORD_MIN 12
int lp_password_check(const char *password, const char *email, char *why, size_t n);

int lp_password_hash(const char *password, char **out);         /* caller frees */
int lp_password_verify(const char *hash, const char *password); /* 0 if it matches */

/* Role names <-> numbers ("manager" -> LP_ROLE_MANAGER); -1 if unknown. */
int lp_role_parse(const char *s);
const char *lp_role_name(int role);

/* Users.  email is compared case-insensitively (stored lower-case).
 * LP_EEXISTS if the email is taken. */
int lp_user_create(lp_db *db, const char *email, const char *name, int is_admin,
                   const char *password, int64_t *id);
int lp_user_get(lp_db *db, int64_t id, lp_user *out);
int lp_user_by_email(lp_db *db, const char *email, lp_user *out);
int lp_user_set_password(lp_db *db, int64_t id, const char *password);
/* 0 if password is the user's; LP_EAUTH if not (or the user has none). */
int lp_user_check_password(lp_db *db, int64_t id, const char *password);

/* What an API key may do: read_only refuses every route that changes
 * something; project_id (0: any) limits it to one project. */
typedef struct lp_key_scope {
    int read_only;
    int64_t project_id;
    int64_t key_id; /* set by lp_key_resolve */
} lp_key_scope;

/* API keys.  key receives the plain key (shown once); scope NULL is a full
 * key.  LP_ENOTFOUND if scope names a project that does not exist. */
int lp_key_create(lp_db *db, int64_t user_id, const char *name, const lp_key_scope *scope,
                  char key[LP_TOKEN_MAX], int64_t *key_id);
/* Resolves a plain key to its user and (if scope is not NULL) its scope;
 * LP_EAUTH if unknown or revoked, LP_EPERM if the user is disabled. */
int lp_key_resolve(lp_db *db, const char *key, lp_user *out, lp_key_scope *scope);
int lp_key_revoke(lp_db *db, int64_t user_id, int64_t key_id);

/* How long sessions last: at most ttl_ms from the login
 * (--session-seconds) and, when idle_ms > 0, idle_ms from their last use
 * (--session-idle-seconds). */
typedef struct lp_session_life {
    int64_t ttl_ms, idle_ms;
} lp_session_life;
/* A new session for user_id; *expires_at (may be NULL) receives when it
 * ends if it is not used again. */
int lp_session_create(lp_db *db, int64_t user_id, const lp_session_life *life,
                      char token[LP_TOKEN_MAX], int64_t *expires_at);
/* The session's user: LP_EAUTH when it is unknown, past its life or idle
 * too long.  Using a session moves its idle deadline on: when that is due
 * (at most once a minute, or a quarter of idle_ms, per session), *touch_id
 * and *touch_until (may be NULL; else 0 when nothing is due) receive the
 * session and its new deadline for lp_session_touch, which the caller runs
 * in a write transaction of its own once the request's is over. */
int lp_session_resolve(lp_db *db, const char *token, const lp_session_life *life, lp_user *out,
                       int64_t *touch_id, int64_t *touch_until);
/* Moves session id's idle deadline to until, in a transaction of its own. */
int lp_session_touch(lp_db *db, int64_t id, int64_t until);
int lp_session_delete(lp_db *db, const char *token);

/* The caller's role in a project: LP_ROLE_MANAGER for admins of an existing
 * project; LP_ENOTFOUND if the project does not exist. */
int lp_project_role(lp_db *db, int64_t project_id, int64_t user_id, int is_admin, int *role);
/* Both refuse with LP_ECONFLICT to leave a project without a manager. */
int lp_member_set(lp_db *db, int64_t project_id, int64_t user_id, int role);
int lp_member_remove(lp_db *db, int64_t project_id, int64_t user_id);

#endif
