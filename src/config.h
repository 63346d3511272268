/* config.h -- server settings.  One table (config.c) drives the command-line
 * flags, the environment variables and the --help text, so the three never
 * disagree.  Precedence: flag, then environment, then default. */
#ifndef LP_CONFIG_H
#define LP_CONFIG_H

#include <stdio.h>

typedef struct lp_config {
    char *listen;      /* --listen, LOUPE_LISTEN */
    char *db;          /* --db, LOUPE_DB (default sqlite:DATA_DIR/loupe.db) */
    char *data_dir;    /* --data-dir, LOUPE_DATA_DIR */
    char *web_dir;     /* --web-dir, LOUPE_WEB_DIR (default: web/ beside the binary) */
    char *log_level;   /* --log-level, LOUPE_LOG_LEVEL */
    long long threads; /* --threads, LOUPE_THREADS */
    long long body_limit_mb;
    long long bulk_limit_mb;
    long long file_limit_mb;
    long long max_tasks;              /* --max-tasks: most tasks one bulk import may carry */
    long long demo;                   /* --demo: create a demo project if the database is new */
    long long callback_retry_ms;      /* first retry of a failed callback, doubling */
    long long callback_poll_ms;       /* how often the outbox is looked at */
    long long allow_private_outbound; /* callbacks may reach private addresses */
    long long session_seconds;        /* how long a login session lasts */
    long long session_idle_seconds;   /* how long an unused one lasts (0: no limit) */
    long long behind_proxy;           /* trust X-Forwarded-For for the client's address */
    long long public_metrics;         /* /metrics without an admin's key */
    long long learn_ms;               /* how often the built-in model learns and predicts */
    long long ml_poll_ms;             /* how often ML backends' work is looked for */
    long long ml_retry_ms;            /* first pause after an ML backend's failure */
} lp_config;

/* Reads the environment, then the settings among argv[first..*argc),
 * wherever they stand, into cfg.  The settings are removed from argv and
 * *argc shrinks, leaving a command only its own arguments.  On a bad value
 * returns LP_EINVAL with *errmsg (heap) naming it. */
int lp_config_load(lp_config *cfg, int *argc, char **argv, int first, char **errmsg);
void lp_config_fini(lp_config *cfg);
void lp_config_help(FILE *f);

#endif
