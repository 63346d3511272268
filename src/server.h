/* server.h -- one running Loupe server: settings, database pool, HTTP
 * daemon and metrics.  main.c starts it for `loupe serve`. */
#ifndef LP_SERVER_H
#define LP_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "metrics.h"

struct lp_server {
    lp_config *cfg;
    lp_db_pool *pool;
    lp_http *http;
    struct lp_deliverer *deliverer; /* posts callbacks (outbox.h) */
    struct lp_learner *learner;     /* the built-in model (learner.h) */
    struct lp_mlb *mlb;             /* the projects' ML backends (mlbackend.h) */
    struct lp_gen *gen;             /* generation jobs' model calls (generate.h) */
    lp_metrics metrics;
    char *files_dir;          /* DATA_DIR/files */
    int db_lock;              /* shared flock() on a SQLite database file (backup.h), or -1 */
    char *web_dir;            /* the browser UI's files (api_ui.c), or NULL if none found */
    pthread_mutex_t login_mu; /* guards the login throttle */
    struct login_fail {
        int by_address;  /* counts an address, else an account */
        char email[256]; /* lower-case, as users.email; or the address */
        int64_t first_ms;
        int count;
    } login_fails[1024];
};

/* Opens the database, applies migrations, optionally seeds the demo
 * project, and starts HTTP.  On failure *errmsg (heap) says why. */
int lp_server_start(lp_server *s, lp_config *cfg, char **errmsg);
/* Drains in-flight requests (up to timeout_ms) and closes everything. */
void lp_server_stop(lp_server *s, int timeout_ms);

/* Creates the demo admin, key and projects on an empty database; prints the
 * login and key.  Returns 0 (also when the database was not empty). */
int lp_server_seed_demo(lp_db *db, const char *listen);

#endif
