/* main.c -- the loupe command: serve, user, key, import, export, migrate (and copy).
 *
 * Every command reads the same settings (config.c) so `loupe user add`
 * finds the database `loupe serve` uses. */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "backup.h"
#include "cli_import.h"
#include "cli_quality.h"
#include "cli_rate.h"
#include "config.h"
#include "copy.h"
#include "db.h"
#include "exporter.h"
#include "schema.h"
#include "server.h"

#define VERSION "0.1.0"

static void usage(FILE *f)
{
    fprintf(f,
            "loupe %s -- a self-hosted data engine for machine-learning teams\n\n"
            "usage: loupe COMMAND [options]\n\n"
            "commands:\n"
            "  serve                      serve the API on --listen (default 127.0.0.1:8080)\n"
            "  user add EMAIL --role admin|member [--name NAME] [--password-stdin]\n"
            "  user list                  list users\n"
            "  key create EMAIL [--name NAME]   make an API key (printed once)\n"
            "  import PROJECT_ID FILE|DIR [--format FORMAT] [--columns MAP] [--batch NAME]\n"
            "                             tasks from a file, a folder of media files, a list of\n"
            "                             URLs or labels in COCO, YOLO, VOC, CoNLL or Label\n"
            "                             Studio form, straight into the database\n"
            "  migrate                    apply database migrations and exit\n"
            "  migrate --from URL --to URL   copy a whole installation to another database\n"
            "  export PROJECT_ID [--format NAME] [-o FILE]   a project's tasks, as the API's\n"
            "                             export (see loupe export --help)\n"
            "  backup PATH                a consistent copy of the SQLite database while it is\n"
            "                             served, checked (see loupe backup --help)\n"
            "  restore PATH               replace the SQLite database with a backup (no server\n"
            "                             may run on it)\n"
            "  aggregate ANSWERS.csv [--method M] [--truth FILE]   one label per item from\n"
            "                             crowd answers (item,worker,label), no server needed\n"
            "  agreement FILE             inter-annotator agreement of item,worker,label rows\n"
            "  rate FILE [--rounds N]     a leaderboard of models compared in pairs\n"
            "                             (left,right,winner rows): ratings with intervals\n"
            "  version                    print the version\n\n"
            "settings (every command):\n",
            VERSION);
    lp_config_help(f);
    fprintf(f, "\nRun `loupe COMMAND --help` for a command's own help.\n");
}

static int wants_help(int argc, char **argv, int from)
{
    for (int i = from; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

static const char *cmd_help[][2] = {
    {"serve",
     "usage: loupe serve [--listen ADDR:PORT] [--db URL] [--data-dir DIR] [--demo]\n\n"
     "Serves the JSON API under /v1, /healthz and /metrics.  SIGTERM or SIGINT stop\n"
     "accepting connections, finish the requests in flight (up to 30 s) and close the\n"
     "database.  --demo creates an admin, an API key and a demo project on a new database.\n"},
    {"user", "usage: loupe user add EMAIL --role admin|member [--name NAME] [--password-stdin]\n"
             "       loupe user list\n\n"
             "Adds a user.  Without --password-stdin a random password is made and printed.\n"},
    {"key", "usage: loupe key create EMAIL [--name NAME] [--read-only] [--project ID]\n\n"
            "Makes an API key for the user and prints it.  It is stored only as a keyed hash\n"
            "and cannot be shown again.  --read-only: the key may only read (every route that\n"
            "changes something answers 403); --project ID: it acts in that project only.\n"},
    {"import",
     "usage: loupe import PROJECT_ID FILE|DIR|ZIP [--format FORMAT] [--columns MAP]\n"
     "                    [--batch NAME] [--as predictions|results] [--model NAME]\n"
     "                    [--image-base URL]\n\n"
     "Creates tasks in the project, as POST /v1/projects/ID/tasks does, from:\n"
     "  a JSON array, NDJSON or CSV file (the format from .json, .ndjson, .jsonl or .csv,\n"
     "    or --format); --columns maps CSV columns (\"review:data.text,img:attachments.image\")\n"
     "  a folder: one task per image, audio, video or text file (by extension), each file\n"
     "    stored as POST /v1/files stores it and attached; its name is the unique_id\n"
     "  --format urls: a text file of URLs, one task per URL, its type by the extension\n"
     "  --format coco|yolo|voc|conll|labelstudio: labels in that form, in a file, a folder\n"
     "    or a zip (with the images, which are stored and attached); one task per image,\n"
     "    sentence or Label Studio task, its labels as predictions (pre-labels, model\n"
     "    --model, default import:FORMAT) or, with --as results, as the task's result\n"
     "    (the task is imported completed).  --image-base URL makes an image that is not\n"
     "    in the source URL/FILE_NAME.\n"
     "--batch puts the tasks that name no batch into the batch NAME (created if missing).\n"
     "Bad rows are printed as FILE:LINE: field: reason and the good rows still import;\n"
     "the last line sums up.  Exits 1 if any row failed, 2 on bad arguments.\n"},
    {"migrate",
     "usage: loupe migrate [--db URL]\n"
     "       loupe migrate --from URL --to URL [--verify-only]\n\n"
     "Applies pending schema migrations.\n\n"
     "With --from and --to, copies every table of an installation from one database to\n"
     "another (sqlite:PATH or postgres://..., either way), ids kept, then verifies every\n"
     "table by its row count and a checksum computed on both sides; exits 1 naming the\n"
     "first table that differs.  Both databases are migrated first; the target must hold\n"
     "no data.  Stop the servers on the source first.  --verify-only compares without\n"
     "copying.  Uploaded files (DATA_DIR/files) are not in the database: copy them\n"
     "yourself, with DATA_DIR/secret.key (or the same LOUPE_SECRET), which API keys and\n"
     "sessions are hashed under.\n"},
    {"export",
     "usage: loupe export PROJECT_ID [--format NAME] [--include annotations]\n"
     "                    [--workers ids|pseudonyms|none] [--status S] [--batch ID]\n"
     "                    [--tag T] [--unique-id U] [--exclude-gold] [--reviewed]\n"
     "                    [--created-after T] [--created-before T] [--updated-after T]\n"
     "                    [--updated-before T] [-o FILE]\n\n"
     "Writes a project's tasks in an export format (default ndjson; the formats of\n"
     "GET /v1/projects/{id}/export, byte for byte the same download) to standard output,\n"
     "or to FILE: written to FILE.tmp and renamed when complete, so a failed export\n"
     "never leaves a file that looks whole.  --include annotations adds each task's\n"
     "accepted annotations.  --workers pseudonyms writes each worker id (an annotation's\n"
     "user_id, a review's by) as the worker's pseudonym in this project (\"w_\" and 12 hex\n"
     "digits, the same in every export of the project), none leaves them out; ids (the\n"
     "default) writes them as they are.  The filters keep only the tasks with that\n"
     "status, in that batch, with that tag or unique_id, not gold, completed through a\n"
     "review, or created or updated at or after (before) an RFC 3339 time T, as the\n"
     "API's query parameters of the same names do.  Memory stays at one page of tasks\n"
     "whatever the project's size.\n"
     "Exit 0 when complete, 1 on an error (nothing usable written), 2 on bad arguments.\n"},
    {"backup", "usage: loupe backup PATH [--db URL] [--data-dir DIR]\n\n"
               "Copies the SQLite database to the new file PATH while servers keep serving it:\n"
               "SQLite's online backup API copies the pages of one snapshot (every write\n"
               "acknowledged before the command started is in it; writes go on meanwhile), in\n"
               "steps of 1024 pages, to PATH.tmp; the copy is checked with PRAGMA\n"
               "integrity_check, flushed, and only then named PATH, so a file called PATH is\n"
               "always a whole, checked backup.  PATH must not exist.  The copy is one file (no\n"
               "-wal beside it).\n\n"
               "Not in it: uploaded files (DATA_DIR/files) and DATA_DIR/secret.key (or\n"
               "LOUPE_SECRET), under which API keys and sessions are hashed.  The files store is\n"
               "append-only (each file named by its SHA-256, written whole and renamed, never\n"
               "changed), so copying it after the backup, with rsync -a DATA_DIR/files/ DEST/,\n"
               "copies every file the backup refers to.\n\n"
               "PostgreSQL: use pg_dump -Fc URL -f FILE (and pg_restore to restore); this\n"
               "command says so and exits 2.  Exit 0 when PATH is written and checked, 1 on an\n"
               "error (nothing named PATH is left), 2 on bad arguments.\n"},
    {"restore", "usage: loupe restore PATH [--db URL] [--data-dir DIR]\n\n"
                "Replaces the SQLite database with the backup PATH (made by loupe backup, or\n"
                "any SQLite copy of a Loupe database).  PATH is checked with PRAGMA\n"
                "integrity_check and copied next to the database, which is then replaced in one\n"
                "rename (with its -wal and -shm files, which belong to the old one).  Refused,\n"
                "with nothing changed, while a loupe serve has the database open (every server\n"
                "holds a shared lock on the file; restore takes it exclusively, so no server can\n"
                "start on the database until it is replaced).  Restore DATA_DIR/files and\n"
                "secret.key alongside (see loupe backup --help).  A backup of an older schema is\n"
                "migrated by the next loupe serve.\n\n"
                "PostgreSQL: use pg_restore -d URL FILE; this command says so and exits 2.\n"
                "Exit 0 when restored, 1 on an error (the database is left as it was), 2 on bad\n"
                "arguments.\n"},
};

/* The help text of a command, by name. */
static const char *help_of(const char *cmd)
{
    for (size_t i = 0; i < LP_ARRAY_LEN(cmd_help); i++)
        if (!strcmp(cmd_help[i][0], cmd)) return cmd_help[i][1];
    return "";
}

static void print_cmd_help(const char *cmd)
{
    for (size_t i = 0; i < LP_ARRAY_LEN(cmd_help); i++)
        if (!strcmp(cmd_help[i][0], cmd)) {
            fputs(cmd_help[i][1], stdout);
            printf("\nsettings:\n");
            lp_config_help(stdout);
            return;
        }
    usage(stdout);
}

/* Opens the database for a one-shot command, migrated. */
static int open_db(lp_config *cfg, lp_db **db)
{
    char *err = NULL;
    mkdir(cfg->data_dir, 0755);
    int rc = lp_auth_init(cfg->data_dir, &err);
    if (rc == 0) rc = lp_db_open(cfg->db, db, &err);
    if (rc == 0 && (rc = lp_db_migrate(*db)) < 0)
        err = lp_sprintf("migration failed: %s", lp_db_errmsg(*db));
    if (rc < 0) {
        fprintf(stderr, "loupe: %s\n", err ? err : lp_strerror(rc));
        free(err);
        lp_db_close(*db);
        *db = NULL;
        return 1;
    }
    return 0;
}

/* A command's options: "--name VALUE" for the names in with_value, bare
 * "--flag" for those in flags; anything else is an error naming it.  The
 * values land in vals[] (by index in with_value), flags set bits in *set. */
static int parse_opts(const char *cmd, int argc, char **argv, int from,
                      const char *const *with_value, const char **vals, const char *const *flags,
                      unsigned *set)
{
    for (int i = from; i < argc; i++) {
        int found = 0;
        for (int k = 0; with_value && with_value[k] && !found; k++) {
            if (strcmp(argv[i], with_value[k])) continue;
            if (i + 1 >= argc) {
                fprintf(stderr, "loupe %s: %s needs a value\n", cmd, argv[i]);
                return 2;
            }
            vals[k] = argv[++i];
            found = 1;
        }
        for (int k = 0; flags && flags[k] && !found; k++) {
            if (strcmp(argv[i], flags[k])) continue;
            *set |= 1u << k;
            found = 1;
        }
        if (!found) {
            fprintf(stderr, "loupe %s: unknown argument \"%s\" (see loupe %s --help)\n", cmd,
                    argv[i], cmd);
            return 2;
        }
    }
    return 0;
}

static int cmd_serve(lp_config *cfg, int argc, char **argv, int i)
{
    if (i < argc) {
        fprintf(stderr, "loupe serve: unknown option \"%s\" (see loupe serve --help)\n", argv[i]);
        return 2;
    }
    /* Block the stop signals in every thread; the main thread waits for them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    lp_server s;
    char *err = NULL;
    int rc = lp_server_start(&s, cfg, &err);
    if (rc < 0) {
        fprintf(stderr, "loupe serve: %s\n", err ? err : lp_strerror(rc));
        free(err);
        lp_server_stop(&s, 0);
        return 1;
    }
    char db[512];
    lp_url_redact(cfg->db, db, sizeof db);
    lp_log(LP_LOG_INFO, "loupe %s serving http://%s/ (database %s, port %d)", VERSION, cfg->listen,
           db, lp_http_port(s.http));
    int sig = 0;
    sigwait(&set, &sig);
    lp_log(LP_LOG_INFO, "%s: finishing requests in flight", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    lp_server_stop(&s, 30000);
    lp_log(LP_LOG_INFO, "stopped cleanly");
    return 0;
}

static int cmd_user(lp_config *cfg, int argc, char **argv, int i)
{
    if (i < argc && !strcmp(argv[i], "list")) {
        unsigned set = 0;
        if (parse_opts("user list", argc, argv, i + 1, NULL, NULL, NULL, &set)) return 2;
        lp_db *db;
        if (open_db(cfg, &db)) return 1;
        lp_stmt *st;
        if (lp_db_prepare(db, "SELECT id, email, role, name FROM users ORDER BY id", &st) == 0) {
            while (lp_stmt_step(st) == LP_DB_ROW)
                printf("%lld\t%s\t%s\t%s\n", (long long)lp_stmt_int64(st, 0), lp_stmt_text(st, 1),
                       lp_stmt_text(st, 2), lp_stmt_text(st, 3));
            lp_stmt_done(st);
        }
        lp_db_close(db);
        return 0;
    }
    if (i + 1 >= argc || strcmp(argv[i], "add")) {
        fputs(help_of("user"), stderr);
        return 2;
    }
    const char *email = argv[i + 1];
    static const char *const opts[] = {"--role", "--name", NULL}, *const flags[] = {
                                                                      "--password-stdin", NULL};
    const char *vals[2] = {NULL, NULL};
    unsigned set = 0;
    if (parse_opts("user add", argc, argv, i + 2, opts, vals, flags, &set)) return 2;
    const char *role = vals[0], *name = vals[1];
    if (!role || (strcmp(role, "admin") && strcmp(role, "member"))) {
        fprintf(stderr, "loupe user add: --role must be admin or member\n");
        return 2;
    }
    if (!strchr(email, '@')) {
        fprintf(stderr, "loupe user add: \"%s\" is not an email address\n", email);
        return 2;
    }
    char password[1024] = "";
    int generated = 0;
    if (set & 1u) {
        if (!fgets(password, sizeof password, stdin)) password[0] = '\0';
        password[strcspn(password, "\r\n")] = '\0';
        char why[128];
        if (lp_password_check(password, email, why, sizeof why) < 0) {
            fprintf(stderr, "loupe user add: password: %s\n", why);
            return 2;
        }
    }
    lp_db *db;
    if (open_db(cfg, &db)) return 1;
    if (!password[0]) {
        char tok[LP_TOKEN_MAX];
        lp_auth_token_new("", tok);
        tok[16] = '\0';
        snprintf(password, sizeof password, "%s", tok);
        generated = 1;
    }
    int64_t id;
    int rc = lp_user_create(db, email, name, !strcmp(role, "admin"), password, &id);
    lp_db_close(db);
    if (rc == LP_EEXISTS) {
        fprintf(stderr, "loupe user add: a user with email %s exists already\n", email);
        return 1;
    }
    if (rc < 0) {
        fprintf(stderr, "loupe user add: %s\n", lp_strerror(rc));
        return 1;
    }
    printf("user %lld: %s (%s)\n", (long long)id, email, role);
    if (generated) printf("password: %s\n", password);
    return 0;
}

static int cmd_key(lp_config *cfg, int argc, char **argv, int i)
{
    if (i + 1 >= argc || strcmp(argv[i], "create")) {
        fputs(help_of("key"), stderr);
        return 2;
    }
    static const char *const opts[] = {"--name", "--project", NULL};
    static const char *const flags[] = {"--read-only", NULL};
    const char *vals[2] = {NULL, NULL};
    unsigned set = 0;
    if (parse_opts("key create", argc, argv, i + 2, opts, vals, flags, &set)) return 2;
    const char *name = vals[0];
    lp_key_scope scope = {.read_only = (set & 1) != 0};
    if (vals[1] && (lp_parse_int64(vals[1], &scope.project_id) < 0 || scope.project_id <= 0)) {
        fprintf(stderr, "loupe key create: --project needs a project id, not \"%s\"\n", vals[1]);
        return 2;
    }
    lp_db *db;
    if (open_db(cfg, &db)) return 1;
    lp_user u;
    int rc = lp_user_by_email(db, argv[i + 1], &u);
    if (rc == LP_ENOTFOUND) {
        fprintf(stderr, "loupe key create: no user has email %s (add one with loupe user add)\n",
                argv[i + 1]);
        lp_db_close(db);
        return 1;
    }
    char key[LP_TOKEN_MAX];
    if (rc == 0) rc = lp_key_create(db, u.id, name, &scope, key, NULL);
    lp_db_close(db);
    if (rc == LP_ENOTFOUND) {
        fprintf(stderr, "loupe key create: no project has id %lld\n", (long long)scope.project_id);
        return 1;
    }
    if (rc < 0) {
        fprintf(stderr, "loupe key create: %s\n", lp_strerror(rc));
        return 1;
    }
    printf("%s\n", key);
    fprintf(stderr, "(store this key now: it is not shown again)\n");
    return 0;
}

/* Prints a copy's progress: a line per table, and one per 100,000 rows of a
 * large table. */
static void copy_progress(void *arg, const char *table, int64_t rows, int done)
{
    int64_t *last = arg;
    if (done) {
        printf("  copied %-20s %10lld rows\n", table, (long long)rows);
        *last = 0;
    } else if (rows - *last >= 100000) {
        printf("  copying %-19s %10lld rows so far\n", table, (long long)rows);
        *last = rows;
    }
}

/* loupe migrate --from URL --to URL [--verify-only]: copies and verifies
 * (copy.c).  Exit 0 when every table verified, 1 on any error or
 * difference, 2 on bad arguments. */
static int cmd_copy(const char *from, const char *to, int verify_only)
{
    if (!from || !to) {
        fprintf(stderr, "loupe migrate: --from and --to go together (see loupe migrate --help)\n");
        return 2;
    }
    char rfrom[512], rto[512];
    lp_url_redact(from, rfrom, sizeof rfrom);
    lp_url_redact(to, rto, sizeof rto);
    if (!strcmp(from, to)) {
        fprintf(stderr, "loupe migrate: --from and --to are the same database (%s)\n", rfrom);
        return 2;
    }
    lp_db *src = NULL, *dst = NULL;
    char *err = NULL;
    int status = 1;
    int rc = lp_copy_open(from, 1, &src, &err);
    if (rc < 0) {
        fprintf(stderr, "loupe migrate: cannot open the source %s: %s\n", rfrom, err);
        goto done;
    }
    if ((rc = lp_copy_open(to, 0, &dst, &err)) < 0) {
        fprintf(stderr, "loupe migrate: cannot open the target %s: %s\n", rto, err);
        goto done;
    }
    if ((rc = lp_copy_prepare(src, dst, !verify_only, &err)) < 0) {
        fprintf(stderr, "loupe migrate: %s\n", err);
        goto done;
    }
    int v = 0;
    lp_db_schema_version(src, &v);
    printf("%s %s (%s)\nto   %s (%s), schema version %d\n", verify_only ? "comparing" : "copying",
           rfrom, lp_db_scheme(src), rto, lp_db_scheme(dst), v);
    if (!verify_only) {
        int64_t last = 0;
        uint64_t t0 = lp_mono_ns();
        if ((rc = lp_copy_run(src, dst, copy_progress, &last, &err)) < 0) {
            fprintf(stderr, "loupe migrate: the copy failed: %s\n", err);
            fprintf(stderr, "loupe migrate: the target holds a partial copy: empty it (or start "
                            "from a new database) before trying again\n");
            goto done;
        }
        printf("copied in %.1f s; verifying\n", (double)(lp_mono_ns() - t0) / 1e9);
    }
    lp_copy_result *res = lp_calloc(lp_copy_table_count, sizeof *res);
    rc = lp_copy_verify(src, dst, res, &err);
    if (rc == 0 || rc == LP_ECONFLICT) {
        printf("\n%-20s %10s  %-16s  %s\n", "table", "rows", "checksum", "ok");
        int64_t files = 0;
        for (size_t k = 0; k < lp_copy_table_count; k++) {
            const lp_copy_result *r = &res[k];
            char hex[17];
            sodium_bin2hex(hex, sizeof hex, r->src.sum, 8);
            printf("%-20s %10lld  %-16s  %s", r->table, (long long)r->src.rows, hex,
                   r->ok ? "ok" : "DIFFERS");
            if (!r->ok) {
                sodium_bin2hex(hex, sizeof hex, r->dst.sum, 8);
                printf(" (target: %lld rows, %s)", (long long)r->dst.rows, hex);
            }
            printf("\n");
            if (!strcmp(r->table, "files")) files = r->src.rows;
        }
        if (rc == 0) {
            printf("\nevery table verified: the same rows and checksums on both sides\n");
            printf("not in the database, so not copied:\n"
                   "  DATA_DIR/files       %lld uploaded file%s: copy the directory to the new "
                   "data dir\n"
                   "  DATA_DIR/secret.key  API keys and sessions are hashed under it: copy it "
                   "too (or use the same LOUPE_SECRET)\n",
                   (long long)files, files == 1 ? "" : "s");
            status = 0;
        }
    }
    free(res);
    if (rc < 0) fprintf(stderr, "loupe migrate: verification failed: %s\n", err);

done:
    free(err);
    lp_db_close(src);
    lp_db_close(dst);
    return status;
}

static int cmd_import(lp_config *cfg, int argc, char **argv, int i)
{
    if (i + 2 > argc || argv[i][0] == '-' || argv[i + 1][0] == '-') {
        fputs(help_of("import"), stderr);
        return 2;
    }
    static const char *const opts[] = {"--format", "--columns",    "--batch", "--as",
                                       "--model",  "--image-base", NULL};
    const char *vals[6] = {NULL};
    unsigned set = 0;
    if (parse_opts("import", argc, argv, i + 2, opts, vals, NULL, &set)) return 2;
    int64_t pid;
    if (lp_parse_int64(argv[i], &pid) < 0 || pid <= 0) {
        fprintf(stderr, "loupe import: \"%s\" is not a project id\n", argv[i]);
        return 2;
    }
    lp_db *db;
    if (open_db(cfg, &db)) return 1;
    char *files_dir = lp_sprintf("%s/files", cfg->data_dir);
    lp_cli_import o = {.project_id = pid,
                       .path = argv[i + 1],
                       .format = vals[0],
                       .columns = vals[1],
                       .batch = vals[2],
                       .as = vals[3],
                       .model = vals[4],
                       .image_base = vals[5],
                       .files_dir = files_dir};
    int status = lp_cli_import_run(db, &o);
    free(files_dir);
    lp_db_close(db);
    return status;
}

static int cmd_migrate(lp_config *cfg, int argc, char **argv, int i)
{
    static const char *const opts[] = {"--from", "--to", NULL};
    static const char *const flags[] = {"--verify-only", NULL};
    const char *vals[2] = {NULL, NULL};
    unsigned set = 0;
    int status = parse_opts("migrate", argc, argv, i, opts, vals, flags, &set);
    if (status) return status;
    if (vals[0] || vals[1] || set) return cmd_copy(vals[0], vals[1], set & 1u);
    lp_db *db;
    if (open_db(cfg, &db)) return 1;
    int v = 0;
    lp_db_schema_version(db, &v);
    printf("database %s is at schema version %d\n", cfg->db, v);
    lp_db_close(db);
    return 0;
}

/* Writes n bytes to f; 0 or -1 (errno set). */
static int write_all(FILE *f, const char *data, size_t n)
{
    return n && fwrite(data, 1, n, f) != n ? -1 : 0;
}

/* Runs the export x to f, each page in a read transaction of its own
 * (as the HTTP stream reads them).  0, or 1 after printing the error. */
static int export_to(lp_exporter *x, lp_db *db, FILE *f, const char *name)
{
    lp_buf out = {0};
    int rc = 1, werr = 0;
    while (rc == 1 && !werr) {
        out.len = 0;
        rc = lp_db_begin(db, LP_TX_READ);
        if (rc == 0) {
            rc = lp_exporter_next(x, db, &out);
            if (rc < 0)
                lp_db_rollback(db);
            else
                lp_db_commit(db);
        }
        if (rc >= 0) werr = write_all(f, out.data, out.len);
    }
    lp_buf_fini(&out);
    if (rc < 0) {
        fprintf(stderr, "loupe export: reading the tasks failed: %s (%s)\n", lp_strerror(rc),
                lp_db_errmsg(db));
        return 1;
    }
    if (werr || fflush(f)) {
        fprintf(stderr, "loupe export: writing %s failed: %s\n", name, strerror(errno));
        return 1;
    }
    return 0;
}

/* loupe export PROJECT_ID [options]: the same bytes as GET
 * /v1/projects/{id}/export with the same options. */
static int cmd_export(lp_config *cfg, int argc, char **argv, int i)
{
    lp_task_filter f = {0};
    if (i >= argc || lp_parse_int64(argv[i], &f.project_id) < 0 || f.project_id <= 0) {
        if (i < argc) fprintf(stderr, "loupe export: \"%s\" is not a project id\n", argv[i]);
        fputs(help_of("export"), stderr);
        return 2;
    }
    static const char *const opts[] = {"--format",
                                       "--include",
                                       "--status",
                                       "--batch",
                                       "-o",
                                       "--workers",
                                       "--tag",
                                       "--unique-id",
                                       "--created-after",
                                       "--created-before",
                                       "--updated-after",
                                       "--updated-before",
                                       NULL};
    static const char *const flags[] = {"--exclude-gold", "--reviewed", NULL};
    const char *vals[12] = {NULL};
    unsigned set = 0;
    if (parse_opts("export", argc, argv, i + 1, opts, vals, flags, &set)) return 2;
    const char *format = vals[0], *status = vals[2], *batch = vals[3], *path = vals[4];
    int annotations, workers;
    char *err = NULL;
    if (lp_exporter_include(vals[1], &annotations, &err) < 0) {
        fprintf(stderr, "loupe export: --include: %s\n", err);
        free(err);
        return 2;
    }
    if (lp_exporter_workers(vals[5], &workers, &err) < 0) {
        fprintf(stderr, "loupe export: --workers: %s\n", err);
        free(err);
        return 2;
    }
    if (status && !lp_task_status_valid(status)) {
        fprintf(stderr,
                "loupe export: --status: \"%s\" is not a task status (pending, in_progress, "
                "review, completed, canceled, gold)\n",
                status);
        return 2;
    }
    f.status = status;
    if (batch && (lp_parse_int64(batch, &f.batch_id) < 0 || f.batch_id <= 0)) {
        fprintf(stderr, "loupe export: --batch: \"%s\" is not a batch id\n", batch);
        return 2;
    }
    f.tag = vals[6];
    f.unique_id = vals[7];
    f.no_gold = (set & 1u) != 0;
    f.reviewed = (set & 2u) != 0;
    for (int k = 0; k < LP_TIME_FILTERS;
         k++) { /* --created-after... in lp_time_filter_names' order */
        const char *v = vals[8 + k];
        if (!v) continue;
        if (lp_time_parse(v, &f.time[k]) < 0) {
            fprintf(stderr,
                    "loupe export: %s: \"%s\" is not an RFC 3339 time (2026-01-31T12:00:00Z)\n",
                    opts[8 + k], v);
            return 2;
        }
        f.time_set |= 1u << k;
    }
    if (path && !*path) {
        fprintf(stderr, "loupe export: -o: needs a file name\n");
        return 2;
    }
    lp_db *db;
    if (open_db(cfg, &db)) return 1;
    lp_exporter *x = NULL;
    int rc = lp_exporter_new(db, format, annotations, workers, &f, &x, &err);
    if (rc < 0) {
        if (rc == LP_EINVAL)
            fprintf(stderr, "loupe export: --format: %s\n", err);
        else if (rc == LP_ENOTFOUND)
            fprintf(stderr, "loupe export: no project has id %lld\n", (long long)f.project_id);
        else
            fprintf(stderr, "loupe export: %s\n", lp_strerror(rc));
        free(err);
        lp_db_close(db);
        return rc == LP_EINVAL ? 2 : 1;
    }
    int status_out;
    if (!path) {
        status_out = export_to(x, db, stdout, "standard output");
    } else {
        char *tmp = lp_sprintf("%s.tmp", path);
        FILE *fp = fopen(tmp, "wb");
        if (!fp) {
            fprintf(stderr, "loupe export: -o: cannot create %s: %s\n", tmp, strerror(errno));
            status_out = 1;
        } else {
            status_out = export_to(x, db, fp, tmp);
            if (fsync(fileno(fp)) && !status_out) {
                fprintf(stderr, "loupe export: writing %s failed: %s\n", tmp, strerror(errno));
                status_out = 1;
            }
            if (fclose(fp) && !status_out) {
                fprintf(stderr, "loupe export: writing %s failed: %s\n", tmp, strerror(errno));
                status_out = 1;
            }
            if (!status_out && rename(tmp, path)) {
                fprintf(stderr, "loupe export: -o: cannot rename %s to %s: %s\n", tmp, path,
                        strerror(errno));
                status_out = 1;
            }
            if (status_out) unlink(tmp);
        }
        free(tmp);
    }
    lp_exporter_free(x);
    lp_db_close(db);
    return status_out;
}

/* loupe backup PATH and loupe restore PATH: a SQLite database only. */
static int cmd_backup(lp_config *cfg, int argc, char **argv, int i, int restore)
{
    const char *cmd = restore ? "restore" : "backup";
    if (i + 1 != argc || argv[i][0] == '-') {
        if (i < argc && argv[i][0] == '-')
            fprintf(stderr, "loupe %s: unknown argument \"%s\"\n", cmd, argv[i]);
        fputs(help_of(cmd), stderr);
        return 2;
    }
    if (!lp_backup_sqlite_path(cfg->db)) {
        char db[512];
        lp_url_redact(cfg->db, db, sizeof db);
        fprintf(stderr,
                "loupe %s: the database %s is PostgreSQL: %s with its own tools:\n"
                "    pg_dump -Fc 'URL' -f FILE           (a consistent copy while Loupe runs)\n"
                "    pg_restore --clean -d 'URL' FILE    (with the servers stopped)\n"
                "and copy DATA_DIR/files and DATA_DIR/secret.key alongside\n",
                cmd, db, restore ? "restore it" : "back it up");
        return 2;
    }
    const char *path = argv[i];
    char *err = NULL;
    int64_t t0 = lp_now_ms();
    if (restore) mkdir(cfg->data_dir, 0755); /* a new installation's */
    int rc =
        restore ? lp_restore(path, cfg->db, stderr, &err) : lp_backup(cfg->db, path, stderr, &err);
    if (rc < 0) {
        fprintf(stderr, "loupe %s: %s\n", cmd, err ? err : lp_strerror(rc));
        free(err);
        return 1;
    }
    struct stat sb;
    const char *out = restore ? lp_backup_sqlite_path(cfg->db) : path;
    long long size = stat(out, &sb) == 0 ? (long long)sb.st_size : -1;
    if (restore)
        printf("restored %s from %s (%lld bytes, integrity ok) in %lld ms\n", out, path, size,
               (long long)(lp_now_ms() - t0));
    else
        printf("backed up to %s (%lld bytes, integrity ok) in %lld ms; copy %s/files and "
               "%s/secret.key with it\n",
               path, size, (long long)(lp_now_ms() - t0), cfg->data_dir, cfg->data_dir);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("loupe %s (schema %d)\n", VERSION, lp_migrations[lp_migration_count - 1].version);
        return 0;
    }
    /* The quality commands work on files alone: no settings, no database. */
    if (!strcmp(cmd, "aggregate")) return lp_cli_aggregate(argc - 2, argv + 2);
    if (!strcmp(cmd, "agreement")) return lp_cli_agreement(argc - 2, argv + 2);
    if (!strcmp(cmd, "rate")) return lp_cli_rate(argc - 2, argv + 2);
    if (wants_help(argc, argv, 2)) {
        print_cmd_help(cmd);
        return 0;
    }
    lp_config cfg = {0};
    char *err = NULL;
    int i = 2;
    /* Settings may stand anywhere; the command gets the other arguments. */
    int rc = lp_config_load(&cfg, &argc, argv, 2, &err);
    if (rc < 0) {
        fprintf(stderr, "loupe %s: %s\n", cmd, err);
        free(err);
        return 2;
    }
    if (!strcmp(cfg.log_level, "debug"))
        lp_log_level = LP_LOG_DEBUG;
    else if (!strcmp(cfg.log_level, "warn"))
        lp_log_level = LP_LOG_WARN;
    else if (!strcmp(cfg.log_level, "error"))
        lp_log_level = LP_LOG_ERROR;
    int status;
    if (!strcmp(cmd, "serve")) {
        status = cmd_serve(&cfg, argc, argv, i);
    } else if (!strcmp(cmd, "user")) {
        status = cmd_user(&cfg, argc, argv, i);
    } else if (!strcmp(cmd, "key")) {
        status = cmd_key(&cfg, argc, argv, i);
    } else if (!strcmp(cmd, "import")) {
        status = cmd_import(&cfg, argc, argv, i);
    } else if (!strcmp(cmd, "migrate")) {
        status = cmd_migrate(&cfg, argc, argv, i);
    } else if (!strcmp(cmd, "export")) {
        status = cmd_export(&cfg, argc, argv, i);
    } else if (!strcmp(cmd, "backup") || !strcmp(cmd, "restore")) {
        status = cmd_backup(&cfg, argc, argv, i, !strcmp(cmd, "restore"));
    } else {
        fprintf(stderr, "loupe: unknown command \"%s\" (see loupe --help)\n", cmd);
        status = 2;
    }
    lp_config_fini(&cfg);
    return status;
}
