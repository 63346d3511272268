/* static_mhd.c -- the HTTP-only reference for the GET benchmarks: how many
 * requests per second, and at what latency, libmicrohttpd itself serves on
 * this machine, in the same run, with Loupe's daemon set-up and no work.
 *
 * `static_mhd THREADS [ITEMS]` listens on a free 127.0.0.1 port (printed as
 * "port N" on stdout) with the flags of src/http.c (internal polling
 * thread, epoll, ITC, turbo; a pool of THREADS threads, the same options,
 * a completion callback) and answers every request with one static JSON
 * body and the headers Loupe sends (Content-Type, X-Content-Type-Options,
 * Cache-Control): one task as GET /v1/tasks/{id} returns it, or with ITEMS
 * a page {"items": [ITEMS tasks], "next_token": ...} as the task list
 * returns it.  Like Loupe it answers on the second call of the request
 * handler.  It stops on SIGTERM or SIGINT. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A task as GET /v1/tasks/{id} returns it (396 bytes). */
static const char task[] =
    "{\"id\":12345,\"project_id\":1,\"batch_id\":null,\"unique_id\":\"img-00012344\",\"status\":"
    "\"pending\",\"priority\":0,\"attachments\":[{\"type\":\"image\",\"url\":\"https://"
    "cdn.example.com/"
    "datasets/street-scenes/380/"
    "00012344.jpg\"}],\"data\":{},\"metadata\":{\"source\":\"camera-07\","
    "\"width\":1024,\"height\":768,\"split\":\"train\"},\"tags\":[\"street\"],\"is_gold\":false,"
    "\"created_at\":\"2026-11-22T05:47:50.121Z\",\"updated_at\":\"2026-11-22T05:47:50.121Z\"}";

static char *body;
static size_t body_len;
static int marker;

/* The body: the task alone, or a page of n copies of it. */
static void make_body(int n)
{
    if (n <= 0) {
        body = (char *)task;
        body_len = sizeof task - 1;
        return;
    }
    static const char head[] = "{\"items\":[", tail[] = "],\"next_token\":\"YTEyMzQ1Njc4OQ\"}";
    size_t cap = sizeof head + (size_t)n * sizeof task + sizeof tail;
    body = malloc(cap);
    size_t o = 0;
    memcpy(body + o, head, sizeof head - 1);
    o += sizeof head - 1;
    for (int i = 0; i < n; i++) {
        if (i) body[o++] = ',';
        memcpy(body + o, task, sizeof task - 1);
        o += sizeof task - 1;
    }
    memcpy(body + o, tail, sizeof tail - 1);
    o += sizeof tail - 1;
    body_len = o;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls, (void)url, (void)method, (void)version, (void)upload_data;
    if (!*con_cls) {
        *con_cls = &marker;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(body_len, body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    *con_cls = NULL;
}

int main(int argc, char **argv)
{
    unsigned threads = argc > 1 ? (unsigned)atoi(argv[1]) : 4;
    make_body(argc > 2 ? atoi(argv[2]) : 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_TURBO;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(32 * 1024), MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "static_mhd: cannot start the daemon\n");
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("port %u\n", info ? (unsigned)info->port : 0u);
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}
