/* config.c -- the settings table behind config.h. */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limit.h"
#include "util.h"

enum { STR, INT, FLAG };

typedef struct setting {
    const char *flag, *env, *def, *arg, *help;
    int type;
    size_t offset;
    long long min, max;
} setting;

#define OFF(f)     offsetof(lp_config, f)
#define NUMBER_(x) #x
#define NUMBER(x)  NUMBER_(x) /* a macro's value as a string */
static const setting settings[] = {
    {"--listen", "LOUPE_LISTEN", "127.0.0.1:8080", "ADDR:PORT", "address to serve HTTP on", STR,
     OFF(listen), 0, 0},
    {"--db", "LOUPE_DB", NULL, "URL",
     "database: sqlite:PATH (default DATA_DIR/loupe.db) or postgres://...", STR, OFF(db), 0, 0},
    {"--data-dir", "LOUPE_DATA_DIR", "./data", "DIR",
     "directory for the database, uploaded files and the secret key", STR, OFF(data_dir), 0, 0},
    {"--web-dir", "LOUPE_WEB_DIR", NULL, "DIR",
     "the browser UI's files (default: web/ beside the loupe binary, else "
     "../share/loupe/web)",
     STR, OFF(web_dir), 0, 0},
    {"--log-level", "LOUPE_LOG_LEVEL", "info", "LEVEL", "debug, info, warn or error", STR,
     OFF(log_level), 0, 0},
    {"--threads", "LOUPE_THREADS", "0", "N", "HTTP worker threads (0: two per core)", INT,
     OFF(threads), 0, 256},
    {"--body-limit-mb", "LOUPE_BODY_LIMIT_MB", "10", "MB", "largest JSON request body", INT,
     OFF(body_limit_mb), 1, 4096},
    {"--bulk-limit-mb", "LOUPE_BULK_LIMIT_MB", "512", "MB", "largest bulk task import body", INT,
     OFF(bulk_limit_mb), 1, 65536},
    {"--file-limit-mb", "LOUPE_FILE_LIMIT_MB", "1024", "MB", "largest uploaded file", INT,
     OFF(file_limit_mb), 1, 1048576},
    {"--max-tasks", "LOUPE_MAX_TASKS", NUMBER(LP_LIMIT_TASKS_DEFAULT), "N",
     "most tasks one import request may carry", INT, OFF(max_tasks), 1, 1000000000},
    {"--callback-retry-ms", "LOUPE_CALLBACK_RETRY_MS", "5000", "MS",
     "first retry of a failed callback (doubling, up to an hour, for 24 hours)", INT,
     OFF(callback_retry_ms), 1, 3600000},
    {"--callback-poll-ms", "LOUPE_CALLBACK_POLL_MS", "250", "MS",
     "how often callbacks due are looked for", INT, OFF(callback_poll_ms), 10, 60000},
    {"--allow-private-outbound", "LOUPE_ALLOW_PRIVATE_OUTBOUND", "0", NULL,
     "let callbacks and webhooks reach loopback, private and link-local addresses", FLAG,
     OFF(allow_private_outbound), 0, 1},
    {"--session-seconds", "LOUPE_SESSION_SECONDS", "604800", "S",
     "how long a login session lasts from the login (default 7 days)", INT, OFF(session_seconds), 1,
     31536000},
    {"--session-idle-seconds", "LOUPE_SESSION_IDLE_SECONDS", "43200", "S",
     "a login session unused this long ends (default 12 hours; 0: only --session-seconds)", INT,
     OFF(session_idle_seconds), 0, 31536000},
    {"--behind-proxy", "LOUPE_BEHIND_PROXY", "0", NULL,
     "a reverse proxy is in front: the client's address is the last one in X-Forwarded-For", FLAG,
     OFF(behind_proxy), 0, 1},
    {"--learn-ms", "LOUPE_LEARN_MS", "3000", "MS",
     "how often the built-in model (params.builtin_model) learns new annotations and predicts",
     INT, OFF(learn_ms), 10, 3600000},
    {"--ml-poll-ms", "LOUPE_ML_POLL_MS", "500", "MS",
     "how often work for ML backends (predictions, training events) and generation jobs is looked for",
     INT, OFF(ml_poll_ms), 10, 60000},
    {"--ml-retry-ms", "LOUPE_ML_RETRY_MS", "1000", "MS",
     "first pause after a failed call to an ML backend or model endpoint (doubling, up to 5 minutes)", INT,
     OFF(ml_retry_ms), 1, 300000},
    {"--public-metrics", "LOUPE_PUBLIC_METRICS", "0", NULL,
     "serve /metrics to anyone (by default it needs an admin's key, which may be read-only)",
     FLAG, OFF(public_metrics), 0, 1},
    {"--demo", "LOUPE_DEMO", "0", NULL, "create a demo project and admin login on a new database",
     FLAG, OFF(demo), 0, 1},
};

static int set(lp_config *cfg, const setting *s, const char *v, const char *from, char **errmsg)
{
    char *field = (char *)cfg + s->offset;
    if (s->type == STR) {
        free(*(char **)field);
        *(char **)field = v ? lp_strdup(v) : NULL;
        return 0;
    }
    int64_t x;
    if (s->type == FLAG && (!strcmp(v, "true") || !strcmp(v, "yes"))) v = "1";
    if (s->type == FLAG && (!strcmp(v, "false") || !strcmp(v, "no"))) v = "0";
    if (lp_parse_int64(v, &x) < 0 || x < s->min || x > s->max) {
        *errmsg =
            lp_sprintf("%s: \"%s\" is not a number between %lld and %lld", from, v, s->min, s->max);
        return LP_EINVAL;
    }
    *(long long *)field = x;
    return 0;
}

int lp_config_load(lp_config *cfg, int *argc, char **argv, int first, char **errmsg)
{
    *errmsg = NULL;
    for (size_t k = 0; k < LP_ARRAY_LEN(settings); k++) {
        const setting *s = &settings[k];
        const char *env = getenv(s->env);
        int rc = set(cfg, s, env && *env ? env : s->def, env && *env ? s->env : "default", errmsg);
        if (rc < 0) return rc;
    }
    int out = first; /* argv[first..out) keeps the arguments that are not settings */
    for (int i = first; i < *argc;) {
        const char *a = argv[i];
        const setting *s = NULL;
        const char *v = NULL;
        for (size_t k = 0; k < LP_ARRAY_LEN(settings) && !s; k++) {
            size_t n = strlen(settings[k].flag);
            if (strncmp(a, settings[k].flag, n) == 0 && (a[n] == '\0' || a[n] == '=')) {
                s = &settings[k];
                if (a[n] == '=') v = a + n + 1;
            }
        }
        if (!s) {
            argv[out++] = argv[i++];
            continue;
        }
        i++;
        if (s->type == FLAG && !v) {
            v = "1";
        } else if (!v) {
            if (i >= *argc) {
                *errmsg = lp_sprintf("%s needs a value (%s)", s->flag, s->arg);
                return LP_EINVAL;
            }
            v = argv[i++];
        }
        int rc = set(cfg, s, v, s->flag, errmsg);
        if (rc < 0) return rc;
    }
    *argc = out;
    if (!cfg->db) cfg->db = lp_sprintf("sqlite:%s/loupe.db", cfg->data_dir);
    if (cfg->threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = n > 0 ? 2 * n : 4;
    }
    return 0;
}

/* Frees every string setting: the table says which they are, so a new
 * one cannot be forgotten here. */
void lp_config_fini(lp_config *cfg)
{
    for (size_t k = 0; k < LP_ARRAY_LEN(settings); k++)
        if (settings[k].type == STR) free(*(char **)((char *)cfg + settings[k].offset));
    memset(cfg, 0, sizeof *cfg);
}

void lp_config_help(FILE *f)
{
    for (size_t k = 0; k < LP_ARRAY_LEN(settings); k++) {
        const setting *s = &settings[k];
        char flag[64];
        snprintf(flag, sizeof flag, "%s%s%s", s->flag, s->arg ? " " : "", s->arg ? s->arg : "");
        fprintf(f, "  %-26s %s\n  %-26s env %s%s%s%s\n", flag, s->help, "", s->env,
                s->def ? ", default " : "", s->def ? s->def : "", "");
    }
}
