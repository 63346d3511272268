/* auth.c -- see auth.h. */
#include "auth.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static unsigned char secret[LP_SECRET_BYTES];

static int load_hex(const char *hex, char **errmsg)
{
    size_t n = 0;
    if (strlen(hex) != 2 * LP_SECRET_BYTES ||
        sodium_hex2bin(secret, sizeof secret, hex, strlen(hex), NULL, &n, NULL) != 0 ||
        n != LP_SECRET_BYTES) {
        *errmsg = lp_strdup("the secret must be 64 hex digits (LOUPE_SECRET or secret.key)");
        return LP_EINVAL;
    }
    return 0;
}

int lp_auth_init(const char *data_dir, char **errmsg)
{
    *errmsg = NULL;
    if (sodium_init() < 0) {
        *errmsg = lp_strdup("libsodium failed to initialise");
        return LP_EIO;
    }
    const char *env = getenv("LOUPE_SECRET");
    if (env && *env) return load_hex(env, errmsg);
    char *path = lp_sprintf("%s/secret.key", data_dir);
    char hex[2 * LP_SECRET_BYTES + 2] = "";
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(hex, 1, sizeof hex - 1, f);
        fclose(f);
        while (n && (hex[n - 1] == '\n' || hex[n - 1] == '\r')) n--;
        hex[n] = '\0';
        free(path);
        return load_hex(hex, errmsg);
    }
    randombytes_buf(secret, sizeof secret);
    sodium_bin2hex(hex, sizeof hex, secret, sizeof secret);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex) || fsync(fd) != 0) {
        *errmsg = lp_sprintf("cannot write %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        free(path);
        return LP_EIO;
    }
    close(fd);
    free(path);
    return 0;
}

void lp_auth_token_hash(const char *token, char out[LP_HASH_HEX])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token), secret,
                       sizeof secret);
    sodium_bin2hex(out, LP_HASH_HEX, h, sizeof h);
}

void lp_auth_csrf(const char *session_token, char out[LP_TOKEN_MAX])
{
    static const char domain[] = "loupe csrf token\n";
    unsigned char h[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, secret, sizeof secret, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)domain, sizeof domain - 1);
    crypto_generichash_update(&st, (const unsigned char *)session_token, strlen(session_token));
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2base64(out, LP_TOKEN_MAX, h, sizeof h, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* The next UTF-8 code point's length at s (a lone continuation byte counts
 * as one character of its own). */
static size_t utf8_len(const unsigned char *s)
{
    size_t n = 1;
    while (s[n] && (s[n] & 0xC0) == 0x80 && n < 4) n++;
    return n;
}

int lp_password_check(const char *password, const char *email, char *why, size_t n)
{
    const unsigned char *p = (const unsigned char *)password;
    size_t chars = 0, distinct = 0;
    for (size_t i = 0; p[i]; i += utf8_len(p + i)) {
        size_t len = utf8_len(p + i), j = 0;
        while (j < i && !(utf8_len(p + j) == len && memcmp(p + j, p + i, len) == 0))
            j += utf8_len(p + j);
        if (j == i) distinct++; /* its first occurrence */
        chars++;
    }
    const char *at = email ? strchr(email, '@') : NULL;
    size_t local = at ? (size_t)(at - email) : 0;
    if (chars < LP_PASSWORD_MIN) {
        snprintf(why, n, "must have at least %d characters (it has %zu)", LP_PASSWORD_MIN, chars);
    } else if (distinct < 5) {
        snprintf(why, n, "must have at least 5 different characters (it has %zu)", distinct);
    } else if (email && *email && strcasestr(password, email)) {
        snprintf(why, n, "must not be or contain the email address");
    } else if (local && strlen(password) == local && strncasecmp(password, email, local) == 0) {
        snprintf(why, n, "must not be the email address's name before the @");
    } else {
        return 0;
    }
    return LP_EINVAL;
}

void lp_auth_token_new(const char *prefix, char out[LP_TOKEN_MAX])
{
    unsigned char r[32];
    randombytes_buf(r, sizeof r);
    size_t pl = strlen(prefix);
    memcpy(out, prefix, pl);
    sodium_bin2base64(out + pl, LP_TOKEN_MAX - pl, r, sizeof r,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int lp_password_hash(const char *password, char **out)
{
    char *h = lp_malloc(crypto_pwhash_STRBYTES);
    if (crypto_pwhash_str(h, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        free(h);
        return LP_ENOMEM;
    }
    *out = h;
    return 0;
}

int lp_password_verify(const char *hash, const char *password)
{
    if (!hash || !*hash) return LP_EAUTH;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 ? 0 : LP_EAUTH;
}

static const char *role_names[] = {"none", "annotator", "reviewer", "manager"};

int lp_role_parse(const char *s)
{
    for (int i = 1; s && i < (int)LP_ARRAY_LEN(role_names); i++)
        if (strcmp(s, role_names[i]) == 0) return i;
    return -1;
}

const char *lp_role_name(int role)
{
    return role >= 0 && role < (int)LP_ARRAY_LEN(role_names) ? role_names[role] : "none";
}

static void lower(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++) dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

#define USER_COLS "id, email, name, role, disabled, password_hash IS NOT NULL, created_at"

static void read_user(lp_stmt *st, lp_user *u)
{
    u->id = lp_stmt_int64(st, 0);
    snprintf(u->email, sizeof u->email, "%s", lp_stmt_text(st, 1));
    snprintf(u->name, sizeof u->name, "%s", lp_stmt_text(st, 2));
    u->is_admin = strcmp(lp_stmt_text(st, 3), "admin") == 0;
    u->disabled = (int)lp_stmt_int64(st, 4);
    u->has_password = (int)lp_stmt_int64(st, 5);
    u->created_at = lp_stmt_int64(st, 6);
}

/* Runs a prepared user query bound with one value and reads one row. */
static int one_user(lp_stmt *st, lp_user *out)
{
    int rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        read_user(st, out);
        rc = 0;
    } else if (rc == LP_DB_DONE) {
        rc = LP_ENOTFOUND;
    }
    lp_stmt_done(st);
    return rc;
}

int lp_user_create(lp_db *db, const char *email, const char *name, int is_admin,
                   const char *password, int64_t *id)
{
    char em[256];
    lower(em, email, sizeof em);
    char *hash = NULL;
    int rc = 0;
    if (password && (rc = lp_password_hash(password, &hash)) < 0) return rc;
    lp_stmt *st;
    rc = lp_db_prepare(db,
                       "INSERT INTO users (email, name, role, password_hash, created_at) "
                       "VALUES (?, ?, ?, ?, ?) RETURNING id",
                       &st);
    if (rc == 0) {
        lp_stmt_bind_text(st, 1, em);
        lp_stmt_bind_text(st, 2, name ? name : "");
        lp_stmt_bind_text(st, 3, is_admin ? "admin" : "member");
        lp_stmt_bind_text(st, 4, hash);
        lp_stmt_bind_int64(st, 5, lp_now_ms());
        rc = lp_stmt_one_int64(st, id, LP_EDB);
    }
    free(hash);
    return rc;
}

int lp_user_get(lp_db *db, int64_t id, lp_user *out)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db, "SELECT " USER_COLS " FROM users WHERE id = ?", &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, id);
    return one_user(st, out);
}

int lp_user_by_email(lp_db *db, const char *email, lp_user *out)
{
    char em[256];
    lower(em, email, sizeof em);
    lp_stmt *st;
    int rc = lp_db_prepare(db, "SELECT " USER_COLS " FROM users WHERE email = ?", &st);
    if (rc < 0) return rc;
    lp_stmt_bind_text(st, 1, em);
    return one_user(st, out);
}

int lp_user_set_password(lp_db *db, int64_t id, const char *password)
{
    char *hash;
    int rc = lp_password_hash(password, &hash);
    if (rc < 0) return rc;
    rc = lp_db_run(db, "UPDATE users SET password_hash = ? WHERE id = ?", "si", hash, id);
    free(hash);
    if (rc == 0 && lp_db_changes(db) == 0) rc = LP_ENOTFOUND;
    return rc;
}

int lp_user_check_password(lp_db *db, int64_t id, const char *password)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db, "SELECT password_hash FROM users WHERE id = ?", &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, id);
    rc = LP_EAUTH;
    if (lp_stmt_step(st) == LP_DB_ROW && !lp_stmt_is_null(st, 0))
        rc = lp_password_verify(lp_stmt_text(st, 0), password);
    lp_stmt_done(st);
    return rc;
}

int lp_key_create(lp_db *db, int64_t user_id, const char *name, const lp_key_scope *scope,
                  char key[LP_TOKEN_MAX], int64_t *key_id)
{
    int64_t pid = scope ? scope->project_id : 0;
    int rc = 0;
    if (pid) rc = lp_db_int64(db, &pid, "SELECT id FROM projects WHERE id = ?", "i", pid);
    if (rc < 0) return rc;
    char hash[LP_HASH_HEX];
    lp_auth_token_new("lpk_", key);
    lp_auth_token_hash(key, hash);
    char prefix[12];
    snprintf(prefix, sizeof prefix, "%.10s", key);
    lp_stmt *st;
    rc = lp_db_prepare(db,
                       "INSERT INTO api_keys (user_id, key_hash, prefix, name, created_at, scope, "
                       "project_id) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                       &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, user_id);
    lp_stmt_bind_text(st, 2, hash);
    lp_stmt_bind_text(st, 3, prefix);
    lp_stmt_bind_text(st, 4, name ? name : "");
    lp_stmt_bind_int64(st, 5, lp_now_ms());
    lp_stmt_bind_text(st, 6, scope && scope->read_only ? "read" : "full");
    if (pid)
        lp_stmt_bind_int64(st, 7, pid);
    else
        lp_stmt_bind_null(st, 7);
    int64_t kid;
    rc = lp_stmt_one_int64(st, &kid, LP_EDB);
    if (rc == 0 && key_id) *key_id = kid;
    return rc;
}

/* Resolves a secret (a key or a session token) by its keyed hash with
 * sql; with_now binds the time now as its second parameter.  With scope,
 * sql's columns 7, 8 and 9 are the key's scope, project and id. */
/* A session's row, read with its user. */
typedef struct {
    int64_t id, created_at, expires_at;
} session_row;

/* Finds the user of secret by sql (its hash as parameter 1, the time now
 * as parameter 2 when with_now), whose columns are RESOLVE_COLS then those
 * of a key's scope (scope) or of a session's row (sess). */
static int resolve(lp_db *db, const char *secret, const char *sql, int with_now, lp_user *out,
                   lp_key_scope *scope, session_row *sess)
{
    if (strlen(secret) >= LP_TOKEN_MAX) return LP_EAUTH;
    char hash[LP_HASH_HEX];
    lp_auth_token_hash(secret, hash);
    lp_stmt *st;
    int rc = lp_db_prepare(db, sql, &st);
    if (rc < 0) return rc;
    lp_stmt_bind_text(st, 1, hash);
    if (with_now) lp_stmt_bind_int64(st, 2, lp_now_ms());
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        read_user(st, out);
        if (scope) {
            scope->read_only = strcmp(lp_stmt_text(st, 7), "read") == 0;
            scope->project_id = lp_stmt_is_null(st, 8) ? 0 : lp_stmt_int64(st, 8);
            scope->key_id = lp_stmt_int64(st, 9);
        }
        if (sess) {
            sess->id = lp_stmt_int64(st, 7);
            sess->created_at = lp_stmt_int64(st, 8);
            sess->expires_at = lp_stmt_int64(st, 9);
        }
        rc = 0;
    } else if (rc == LP_DB_DONE) {
        rc = LP_EAUTH;
    }
    lp_stmt_done(st);
    if (rc == 0 && out->disabled) return LP_EPERM;
    return rc;
}

#define RESOLVE_COLS \
    "SELECT u.id, u.email, u.name, u.role, u.disabled, u.password_hash IS NOT NULL, u.created_at "

int lp_key_resolve(lp_db *db, const char *key, lp_user *out, lp_key_scope *scope)
{
    return resolve(db, key,
                   RESOLVE_COLS ", k.scope, k.project_id, k.id FROM api_keys k "
                                "JOIN users u ON u.id = k.user_id "
                                "WHERE k.key_hash = ? AND k.revoked_at IS NULL",
                   0, out, scope, NULL);
}

int lp_key_revoke(lp_db *db, int64_t user_id, int64_t key_id)
{
    int rc = lp_db_run(db,
                       "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ? "
                       "AND revoked_at IS NULL",
                       "iii", lp_now_ms(), key_id, user_id);
    if (rc == 0 && lp_db_changes(db) == 0) rc = LP_ENOTFOUND;
    return rc;
}

/* When a session used at now ends if not used again. */
static int64_t session_end(const lp_session_life *life, int64_t created_at, int64_t now)
{
    int64_t end = created_at + life->ttl_ms;
    if (life->idle_ms > 0 && now + life->idle_ms < end) end = now + life->idle_ms;
    return end;
}

int lp_session_create(lp_db *db, int64_t user_id, const lp_session_life *life,
                      char token[LP_TOKEN_MAX], int64_t *expires_at)
{
    char hash[LP_HASH_HEX];
    lp_auth_token_new("lps_", token);
    lp_auth_token_hash(token, hash);
    int64_t now = lp_now_ms(), end = session_end(life, now, now);
    /* Expired sessions are swept here, so the table stays small. */
    int rc = lp_db_run(db, "DELETE FROM sessions WHERE expires_at < ?", "i", now);
    if (rc == 0)
        rc = lp_db_run(db,
                       "INSERT INTO sessions (user_id, token_hash, created_at, expires_at) "
                       "VALUES (?, ?, ?, ?)",
                       "isii", user_id, hash, now, end);
    if (rc == 0 && expires_at) *expires_at = end;
    return rc;
}

int lp_session_resolve(lp_db *db, const char *token, const lp_session_life *life, lp_user *out,
                       int64_t *touch_id, int64_t *touch_until)
{
    if (touch_id) *touch_id = 0;
    if (touch_until) *touch_until = 0;
    session_row row;
    int rc = resolve(db, token,
                     RESOLVE_COLS ", s.id, s.created_at, s.expires_at FROM sessions s "
                                  "JOIN users u ON u.id = s.user_id "
                                  "WHERE s.token_hash = ? AND s.expires_at > ?",
                     1, out, NULL, &row);
    if (rc < 0) return rc;
    /* The session's times, for its life as configured now (a shorter
     * --session-seconds applies to sessions made before it). */
    int64_t id = row.id, created = row.created_at, expires = row.expires_at;
    int64_t now = lp_now_ms();
    if (created + life->ttl_ms <= now) return LP_EAUTH;
    int64_t end = session_end(life, created, now);
    /* Move the idle deadline on at most once a minute per session (a
     * quarter of the idle time, when that is shorter). */
    int64_t step = life->idle_ms > 0 && life->idle_ms / 4 < 60000 ? life->idle_ms / 4 : 60000;
    if ((end > expires + step || end < expires) && touch_id && touch_until) {
        *touch_id = id;
        *touch_until = end;
    }
    return 0;
}

int lp_session_touch(lp_db *db, int64_t id, int64_t until)
{
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc == 0)
        rc = lp_db_run(db, "UPDATE sessions SET expires_at = ? WHERE id = ?", "ii", until, id);
    if (rc == 0) return lp_db_commit(db);
    lp_db_rollback(db);
    return rc;
}

int lp_session_delete(lp_db *db, const char *token)
{
    char hash[LP_HASH_HEX];
    lp_auth_token_hash(token, hash);
    return lp_db_run(db, "DELETE FROM sessions WHERE token_hash = ?", "s", hash);
}

int lp_project_role(lp_db *db, int64_t project_id, int64_t user_id, int is_admin, int *role)
{
    lp_stmt *st;
    int rc = lp_db_prepare(db,
                           "SELECT p.id, m.role FROM projects p LEFT JOIN project_members m "
                           "ON m.project_id = p.id AND m.user_id = ? WHERE p.id = ?",
                           &st);
    if (rc < 0) return rc;
    lp_stmt_bind_int64(st, 1, user_id);
    lp_stmt_bind_int64(st, 2, project_id);
    rc = lp_stmt_step(st);
    if (rc == LP_DB_ROW) {
        int r = lp_stmt_is_null(st, 1) ? LP_ROLE_NONE : lp_role_parse(lp_stmt_text(st, 1));
        *role = is_admin ? LP_ROLE_MANAGER : (r < 0 ? LP_ROLE_NONE : r);
        rc = 0;
    } else if (rc == LP_DB_DONE) {
        rc = LP_ENOTFOUND;
    }
    lp_stmt_done(st);
    return rc;
}

/* Whether the change leaves the project without a manager: user_id is a
 * manager now and no other member is. */
static int last_manager(lp_db *db, int64_t project_id, int64_t user_id)
{
    int64_t others = 0, is_manager = 0;
    lp_db_int64(db, &is_manager,
                "SELECT COUNT(*) FROM project_members WHERE project_id = ? AND user_id = ? "
                "AND role = 'manager'",
                "ii", project_id, user_id);
    lp_db_int64(db, &others,
                "SELECT COUNT(*) FROM project_members WHERE project_id = ? AND user_id <> ? "
                "AND role = 'manager'",
                "ii", project_id, user_id);
    return is_manager && !others;
}

int lp_member_set(lp_db *db, int64_t project_id, int64_t user_id, int role)
{
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc < 0) return rc;
    if (role != LP_ROLE_MANAGER && last_manager(db, project_id, user_id)) rc = LP_ECONFLICT;
    if (rc == 0)
        rc = lp_db_run(db,
                       "UPDATE project_members SET role = ? WHERE project_id = ? AND user_id = ?",
                       "sii", lp_role_name(role), project_id, user_id);
    if (rc == 0 && lp_db_changes(db) == 0)
        rc = lp_db_run(db,
                       "INSERT INTO project_members (project_id, user_id, role) VALUES (?, ?, ?)",
                       "iis", project_id, user_id, lp_role_name(role));
    if (rc < 0) {
        lp_db_rollback(db);
        return rc;
    }
    return lp_db_commit(db);
}

int lp_member_remove(lp_db *db, int64_t project_id, int64_t user_id)
{
    int rc = lp_db_begin(db, LP_TX_WRITE);
    if (rc < 0) return rc;
    if (last_manager(db, project_id, user_id)) rc = LP_ECONFLICT;
    if (rc == 0)
        rc = lp_db_run(db, "DELETE FROM project_members WHERE project_id = ? AND user_id = ?", "ii",
                       project_id, user_id);
    if (rc == 0 && lp_db_changes(db) == 0) rc = LP_ENOTFOUND;
    if (rc < 0) {
        lp_db_rollback(db);
        return rc;
    }
    return lp_db_commit(db);
}

/* The sealing key: a subkey of the secret, so that hashes and ciphertexts
 * never share a key. */
static void seal_key(unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES])
{
    crypto_kdf_derive_from_key(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, 1, "lpsealv1",
                               secret);
}

char *lp_auth_seal(const char *plain, const char *purpose)
{
    unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    size_t n = strlen(plain);
    size_t raw_len = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + n +
                     crypto_aead_xchacha20poly1305_ietf_ABYTES;
    unsigned char *raw = lp_malloc(raw_len);
    unsigned long long clen;
    seal_key(key);
    randombytes_buf(raw, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        raw + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &clen, (const unsigned char *)plain, n,
        (const unsigned char *)purpose, strlen(purpose), NULL, raw, key);
    size_t b64n = sodium_base64_ENCODED_LEN(raw_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = lp_malloc(3 + b64n);
    memcpy(out, "v1.", 3);
    sodium_bin2base64(out + 3, b64n, raw, raw_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(key, sizeof key);
    free(raw);
    return out;
}

int lp_auth_unseal(const char *sealed, const char *purpose, char **plain)
{
    *plain = NULL;
    if (!sealed || strncmp(sealed, "v1.", 3) != 0) return LP_EINVAL;
    size_t b64 = strlen(sealed + 3), raw_len = 0;
    unsigned char *raw = lp_malloc(b64 + 1);
    if (sodium_base642bin(raw, b64 + 1, sealed + 3, b64, NULL, &raw_len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        raw_len < crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                      crypto_aead_xchacha20poly1305_ietf_ABYTES) {
        free(raw);
        return LP_EINVAL;
    }
    unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    size_t clen = raw_len - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    unsigned char *out = lp_malloc(clen + 1);
    unsigned long long mlen = 0;
    seal_key(key);
    int bad = crypto_aead_xchacha20poly1305_ietf_decrypt(
        out, &mlen, NULL, raw + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, clen,
        (const unsigned char *)purpose, strlen(purpose), raw, key);
    sodium_memzero(key, sizeof key);
    free(raw);
    if (bad) {
        free(out);
        return LP_EINVAL;
    }
    out[mlen] = '\0';
    *plain = (char *)out;
    return 0;
}
