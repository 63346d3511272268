/* fuzz_routes.c -- libFuzzer driver for the JSON body of every route that
 * takes one: a real server (lp_server_start: libmicrohttpd, the route
 * table, authentication, the handlers, SQLite) runs in this process on a
 * loopback port, and each input is sent to it over HTTP as an admin.  The
 * input's first byte picks the route among the table's POST, PUT and PATCH
 * routes (users, keys, projects, members, batches, tasks, tags, metadata,
 * assignments: submit, draft, skip, release, review, audit, workers,
 * aggregate, webhooks, deliveries, files, sessions), taken from
 * lp_api_routes so a new route is fuzzed too; "{}" in its path is 1 (2 for
 * a user, so the fuzzing admin is never the one changed).  The rest is the
 * body.  The server must answer every input, and never with a 500: a bug
 * aborts with the route and the answer.  DELETE routes are left out: they
 * would remove the seeded rows the other routes work on. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "config.h"
#include "http.h"
#include "server.h"

static lp_server srv;
static lp_config cfg;
static int port;
static char key[LP_TOKEN_MAX];
static char paths[64][128];
static const char *methods[64];
static size_t nroutes;

/* Sends one request; returns the status (0: no answer) and the answer's
 * start in ans. */
static int request(const char *method, const char *path, const uint8_t *body, size_t n, char *ans,
                   size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 20};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) abort();
    char head[512];
    int h = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     method, path, key, n);
    if (write(fd, head, (size_t)h) != h) abort();
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, body + off, n - off);
        if (w <= 0) break; /* answered early (413...) */
        off += (size_t)w;
    }
    size_t got = 0;
    ssize_t r;
    while (got + 1 < size && (r = read(fd, ans + got, size - 1 - got)) > 0) got += (size_t)r;
    ans[got] = 0;
    close(fd);
    int status = 0;
    sscanf(ans, "HTTP/1.1 %d", &status);
    return status;
}

static char dir[256];

/* Removes the data directory when the fuzzer exits normally (it is left
 * on a crash, with the database the crash happened on: under
 * LOUPE_FUZZ_DIR, which scripts/fuzz-run removes, else under /dev/shm). */
static void cleanup(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return;
}

static void setup(void)
{
    const char *base = getenv("LOUPE_FUZZ_DIR");
    snprintf(dir, sizeof dir, "%s/loupe-fuzz-XXXXXX", base ? base : "/dev/shm");
    if (!mkdtemp(dir)) abort();
    atexit(cleanup);
    char *argv[] = {"fuzz", "--data-dir", dir, "--listen", "127.0.0.1:0", "--threads", "2",
                    "--log-level", "error", "--body-limit-mb", "1", "--bulk-limit-mb", "1",
                    "--file-limit-mb", "1", "--callback-poll-ms", "60000",
                    /* the seeded webhook points at this machine */
                    "--allow-private-outbound", NULL};
    int argc = (int)(sizeof argv / sizeof *argv) - 1;
    char *err = NULL;
    signal(SIGPIPE, SIG_IGN);
    if (lp_config_load(&cfg, &argc, argv, 1, &err) < 0 || lp_server_start(&srv, &cfg, &err) < 0) {
        fprintf(stderr, "fuzz_routes: %s\n", err ? err : "cannot start");
        abort();
    }
    port = lp_http_port(srv.http);
    lp_db *db = lp_db_pool_get(srv.pool);
    int64_t admin, other, kid;
    if (lp_user_create(db, "fuzz@x.io", "fuzz", 1, NULL, &admin) < 0 ||
        lp_user_create(db, "other@x.io", "other", 0, "password-123", &other) < 0 ||
        lp_key_create(db, admin, "fuzz", NULL, key, &kid) < 0)
        abort();
    lp_db_pool_put(srv.pool, db);
    /* Rows for the routes' ids: project 1 (with user 2 as a member), batch
     * 1, task 1 and its assignment 1, webhook 1, model endpoint 1, prompt set
     * 1 and generation 1. */
    static const char *const seed[][3] = {
        {"POST", "/v1/projects",
         "{\"name\":\"p\",\"kind\":\"categorization\",\"params\":{\"labels\":[\"a\",\"b\"]}}"},
        {"PUT", "/v1/projects/1/members/2", "{\"role\":\"annotator\"}"},
        {"POST", "/v1/projects/1/batches", "{\"name\":\"b\"}"},
        {"POST", "/v1/projects/1/tasks",
         "[{\"data\":{\"text\":\"t\"}},{\"data\":{\"text\":\"u\"}}]"},
        {"GET", "/v1/projects/1/queue/next", ""},
        {"POST", "/v1/webhooks", "{\"url\":\"http://127.0.0.1:9/\"}"},
        {"POST", "/v1/model-endpoints",
         "{\"name\":\"e\",\"base_url\":\"http://llm.invalid/v1\",\"model\":\"m\","
         "\"timeout_ms\":500}"},
        {"POST", "/v1/prompt-sets", "{\"name\":\"s\",\"prompts\":[{\"prompt\":\"hi\"}]}"},
        {"POST", "/v1/generations", "{\"prompt_set_id\":1,\"endpoints\":[1]}"},
    };
    char ans[4096];
    for (size_t i = 0; i < sizeof seed / sizeof *seed; i++)
        if (request(seed[i][0], seed[i][1], (const uint8_t *)seed[i][2], strlen(seed[i][2]), ans,
                    sizeof ans) >= 300) {
            fprintf(stderr, "fuzz_routes: seeding %s %s: %s\n", seed[i][0], seed[i][1], ans);
            abort();
        }
    for (size_t i = 0; i < lp_api_nroutes && nroutes < 64; i++) {
        const lp_route *r = &lp_api_routes[i];
        if (!strcmp(r->method, "GET") || !strcmp(r->method, "DELETE")) continue;
        const char *id = strncmp(r->pattern, "/v1/users/", 10) ? "1" : "2";
        char *p = paths[nroutes];
        size_t k = 0;
        for (const char *s = r->pattern; *s && k + 2 < sizeof paths[0]; s++)
            if (s[0] == '{' && s[1] == '}')
                p[k++] = id[0], s++;
            else
                p[k++] = *s;
        p[k] = 0;
        methods[nroutes++] = r->method;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!nroutes) setup();
    if (size == 0) return 0;
    size_t i = data[0] % nroutes;
    static char ans[1 << 16];
    int status = request(methods[i], paths[i], data + 1, size - 1, ans, sizeof ans);
    if (status == 0 || status == 500) {
        fprintf(stderr, "fuzz_routes: %s %s answered %d:\n%.2000s\n", methods[i], paths[i], status,
                ans);
        abort();
    }
    return 0;
}
