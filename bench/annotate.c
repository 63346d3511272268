/* annotate.c -- the load generator of the annotator-loop benchmark: C
 * simulated annotators working one project's queue as fast as the server
 * answers, each in a loop of
 *
 *     GET  /v1/projects/P/queue/next          -> 200 {"assignment":{"id":N,...}}
 *     POST /v1/assignments/N/submit           -> 201 (acknowledged)
 *          {"annotation_id":"<run>-c<client>-<n>","response":{"labels":["cat"]}}
 *
 * (<run>, 8 hex digits from the time and pid, keeps the ids of two runs
 * against one server apart: a repeated id would be answered with the
 * first result and create nothing.)
 *
 *   annotate HOST PORT PROJECT_ID SECONDS WARMUP_SECONDS KEYFILE
 *
 * KEYFILE holds one API key a line, one per client (blank lines are
 * skipped).  One thread drives every client through epoll (edge-triggered)
 * on non-blocking sockets, one HTTP/1.1 keep-alive connection per client
 * and one request in flight on it, so a client's next request waits for the
 * answer to the last: 64 clients are 64 concurrent requests, no more.  The
 * HTTP client is the least that reads Loupe's replies: a status line,
 * headers and a Content-Length body (every reply of Loupe has one; a
 * chunked reply is refused with a message).  A connection the server
 * closes is reopened and the request in flight sent again (a submit with
 * the same annotation_id, which the server answers with the first result).
 *
 * Latencies (send to last byte of the answer) are kept for the requests
 * that complete in the measured window, from WARMUP_SECONDS after the start
 * to WARMUP_SECONDS + SECONDS; "loop" is a whole iteration, from the lease
 * sent to the submit acknowledged.  A client whose lease answers
 * "assignment": null has no work left and stops, as does one whose lease
 * is refused with 401, 403 or 404 (a bad key or project).  At the end no
 * new request is sent and the ones in flight are awaited (up to 10 s), so
 * that total_submits counts every acknowledged submit of the run, warm-up
 * included: the number of accepted annotations the server must hold.
 *
 * Prints one "RESULT annotate key=value ..." line for bench/annotate-run,
 * then a summary for people.  Exits 1 when it could not run at all. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DRAIN_NS       (10 * 1000000000ull) /* how long the end waits for answers */
#define MAX_ERR_BODIES 5                    /* error answers printed to stderr */

enum { ST_CONNECTING, ST_WRITING, ST_READING, ST_DONE };
enum { REQ_LEASE, REQ_SUBMIT };

typedef struct client {
    int idx, fd, state, req;
    const char *key;
    char out[1024]; /* the request in flight, resent on a new connection */
    size_t out_len, out_off;
    char *in; /* the answer so far; in_cap > in_len, always */
    size_t in_len, in_cap;
    long long assignment;
    unsigned long n;        /* submits sent: the annotation_id's counter */
    int resent;             /* the request in flight went out again */
    uint64_t t_req, t_loop; /* when the request, and the iteration, began */
} client;

/* A growing array of latencies, in nanoseconds. */
typedef struct lat {
    uint64_t *v;
    size_t n, cap;
} lat;

static const char *host, *project;
/* The servers: PORT may list several ("8080,8081,8082"); client i talks
 * to server i modulo their number. */
#define MAX_SERVERS 16
static char *ports[MAX_SERVERS];
static struct addrinfo *addrs[MAX_SERVERS];
static int nservers;
static unsigned run_id; /* makes annotation_ids unique across runs */
static int ep;
static uint64_t t_measure, t_end, t_last_done;
static int draining, live;
static lat lease_lat, submit_lat, loop_lat;
static unsigned long submits, total_submits, repeated, leases, errors, reconnects, err_printed;
static int ran_out; /* clients that found no work left before the end */
static int stopped; /* clients whose lease was refused (401, 403, 404) */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void lat_add(lat *l, uint64_t ns)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 4096;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v) {
            perror("annotate: realloc");
            exit(1);
        }
    }
    l->v[l->n++] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The p-quantile (nearest rank) of a sorted array, in milliseconds. */
static double pct_ms(const lat *l, double p)
{
    if (l->n == 0) return 0;
    size_t k = (size_t)(p * (double)(l->n - 1) + 0.5);
    return (double)l->v[k] / 1e6;
}

static int measuring(uint64_t t)
{
    return t >= t_measure && t < t_end;
}

static void err_body(const client *c, const char *what, int status, const char *body, size_t n)
{
    errors++;
    if (err_printed++ >= MAX_ERR_BODIES) return;
    fprintf(stderr, "annotate: client %d: %s: HTTP %d: %.*s\n", c->idx, what, status,
            (int)(n > 400 ? 400 : n), body);
}

static void make_lease(client *c)
{
    int n = snprintf(c->out, sizeof c->out,
                     "GET /v1/projects/%s/queue/next HTTP/1.1\r\nHost: %s:%s\r\n"
                     "Authorization: Bearer %s\r\n\r\n",
                     project, host, ports[c->idx % nservers], c->key);
    if (n < 0 || (size_t)n >= sizeof c->out) {
        fprintf(stderr, "annotate: the lease request of client %d is too long\n", c->idx);
        exit(1);
    }
    c->req = REQ_LEASE;
    c->resent = 0;
    c->out_len = (size_t)n;
    c->out_off = 0;
    c->state = ST_WRITING;
    c->t_req = c->t_loop = now_ns();
}

static void make_submit(client *c)
{
    char body[128];
    int b = snprintf(body, sizeof body,
                     "{\"annotation_id\":\"%08x-c%d-%lu\",\"response\":{\"labels\":[\"cat\"]}}",
                     run_id, c->idx, ++c->n);
    int n = snprintf(c->out, sizeof c->out,
                     "POST /v1/assignments/%lld/submit HTTP/1.1\r\nHost: %s:%s\r\n"
                     "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     c->assignment, host, ports[c->idx % nservers], c->key, b, body);
    if (n < 0 || (size_t)n >= sizeof c->out) {
        fprintf(stderr, "annotate: the submit request of client %d is too long\n", c->idx);
        exit(1);
    }
    c->req = REQ_SUBMIT;
    c->resent = 0;
    c->out_len = (size_t)n;
    c->out_off = 0;
    c->state = ST_WRITING;
    c->t_req = now_ns();
}

static void finish(client *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->state = ST_DONE;
    live--;
    t_last_done = now_ns();
}

/* Opens a new connection for c; the request in c->out goes out on it once
 * it is up.  Exits when no socket can be made at all. */
static void connect_client(client *c)
{
    const struct addrinfo *addr = addrs[c->idx % nservers];
    int fd = socket(addr->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("annotate: socket");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, addr->ai_addr, addr->ai_addrlen) < 0 && errno != EINPROGRESS) {
        perror("annotate: connect");
        exit(1);
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        perror("annotate: epoll_ctl");
        exit(1);
    }
    c->fd = fd;
    c->state = ST_CONNECTING;
    c->out_off = 0;
    c->in_len = 0;
}

/* The connection broke: counts an error and sends the request again on a
 * new one (a lease returns the same assignment; a submit with the same
 * annotation_id returns the first result). */
static void reconnect(client *c, const char *why)
{
    errors++;
    reconnects++;
    if (err_printed++ < MAX_ERR_BODIES)
        fprintf(stderr, "annotate: client %d: %s; reconnecting\n", c->idx, why);
    close(c->fd);
    c->fd = -1;
    c->resent = 1;
    if (draining) {
        finish(c);
        return;
    }
    connect_client(c);
}

/* Acts on a complete answer: the next request, or the end of the client. */
static void on_answer(client *c, int status, const char *body, size_t n, uint64_t t)
{
    uint64_t dt = t - c->t_req;
    if (c->req == REQ_LEASE) {
        if (status != 200) {
            err_body(c, "lease", status, body, n);
            if (status == 401 || status == 403 || status == 404) {
                stopped++; /* a bad key or project: asking again would spin */
                finish(c);
                return;
            }
        } else {
            leases++;
            if (measuring(t)) lat_add(&lease_lat, dt);
            const char *p = memmem(body, n, "\"assignment\":", 13);
            if (p) {
                p += 13;
                while (p < body + n && (*p == ' ' || *p == '\n')) p++;
            }
            if (p && body + n - p >= 4 && !memcmp(p, "null", 4)) {
                ran_out += !draining;
                finish(c); /* no work left for this annotator */
                return;
            }
            const char *id = p ? memmem(p, (size_t)(body + n - p), "\"id\":", 5) : NULL;
            if (!id) {
                err_body(c, "lease answer without an assignment id", status, body, n);
            } else {
                c->assignment = strtoll(id + 5, NULL, 10);
                if (draining) {
                    finish(c);
                    return;
                }
                uint64_t loop = c->t_loop;
                make_submit(c);
                c->t_loop = loop;
                return;
            }
        }
    } else {
        /* A resent submit may find the first one committed: its answer is
         * then the first result, 200 with "repeated": true. */
        int again = status == 200 && c->resent && memmem(body, n, "\"repeated\":true", 15);
        if (status == 201 || again) {
            total_submits++;
            repeated += again;
            if (measuring(t)) {
                submits++;
                lat_add(&submit_lat, dt);
                lat_add(&loop_lat, t - c->t_loop);
            }
        } else {
            err_body(c, "submit", status, body, n);
        }
    }
    if (draining) {
        finish(c);
        return;
    }
    make_lease(c);
}

/* Parses the answer in c->in once it is complete.  Returns 1 when one was
 * handled, 0 when more bytes are needed; exits on a reply it cannot read. */
static int parse(client *c, int *close_after)
{
    const char *h = c->in;
    const char *eoh = memmem(h, c->in_len, "\r\n\r\n", 4);
    if (!eoh) return 0;
    size_t hlen = (size_t)(eoh - h) + 4;
    int status = 0;
    for (size_t i = 9; i < 12 && i < c->in_len && h[i] >= '0' && h[i] <= '9'; i++)
        status = status * 10 + (h[i] - '0');
    if (c->in_len < 12 || strncmp(h, "HTTP/1.", 7) || status < 100) {
        fprintf(stderr, "annotate: client %d: not an HTTP answer: %.*s\n", c->idx,
                (int)(hlen > 200 ? 200 : hlen), h);
        exit(1);
    }
    long long clen = -1;
    *close_after = !strncmp(h, "HTTP/1.0", 8);
    for (const char *line = (const char *)memmem(h, hlen, "\r\n", 2) + 2; line < eoh;) {
        const char *end = memmem(line, (size_t)(eoh + 2 - line), "\r\n", 2);
        size_t len = (size_t)(end - line);
        if (len > 15 && !strncasecmp(line, "content-length:", 15))
            clen = strtoll(line + 15, NULL, 10);
        else if (len > 18 && !strncasecmp(line, "transfer-encoding:", 18) &&
                 memmem(line, len, "chunked", 7)) {
            fprintf(stderr, "annotate: client %d: a chunked answer: not supported\n", c->idx);
            exit(1);
        } else if (len > 11 && !strncasecmp(line, "connection:", 11))
            *close_after = memmem(line, len, "close", 5) != NULL;
        line = end + 2;
    }
    if (clen < 0) {
        if (status != 204 && status != 304) {
            fprintf(stderr, "annotate: client %d: an answer without Content-Length\n", c->idx);
            exit(1);
        }
        clen = 0;
    }
    size_t total = hlen + (size_t)clen;
    if (c->in_len < total) {
        if (c->in_cap < total + 1) {
            c->in_cap = total + 1;
            c->in = realloc(c->in, c->in_cap);
            if (!c->in) {
                perror("annotate: realloc");
                exit(1);
            }
        }
        return 0;
    }
    if (c->in_len > total)
        fprintf(stderr, "annotate: client %d: %zu bytes after an answer, dropped\n", c->idx,
                c->in_len - total);
    c->in_len = 0;
    on_answer(c, status, c->in + hlen, (size_t)clen, now_ns());
    return 1;
}

/* Moves c as far as its socket allows: connect, write, read, answer, and
 * again, until a call would block. */
static void drive(client *c, uint32_t events)
{
    if (c->state == ST_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            fprintf(stderr, "annotate: connect to %s:%s: %s\n", host, ports[c->idx % nservers],
                    strerror(err));
            exit(1);
        }
        c->state = ST_WRITING;
    }
    for (;;) {
        if (c->state == ST_WRITING) {
            ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) return;
                if (errno == EINTR) continue;
                reconnect(c, strerror(errno));
                return;
            }
            c->out_off += (size_t)w;
            if (c->out_off == c->out_len) c->state = ST_READING;
        } else if (c->state == ST_READING) {
            if (c->in_cap - c->in_len < 4096) {
                c->in_cap = c->in_cap * 2 + 4096;
                c->in = realloc(c->in, c->in_cap);
                if (!c->in) {
                    perror("annotate: realloc");
                    exit(1);
                }
            }
            ssize_t r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1, 0);
            if (r < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) return;
                if (errno == EINTR) continue;
                reconnect(c, strerror(errno));
                return;
            }
            if (r == 0) {
                reconnect(c, "the server closed the connection");
                return;
            }
            c->in_len += (size_t)r;
            c->in[c->in_len] = '\0';
            int close_after = 0;
            if (parse(c, &close_after) && close_after && c->state != ST_DONE) {
                /* The server will close: the next request goes on a new
                 * connection, not counted as an error. */
                close(c->fd);
                reconnects++;
                connect_client(c);
                return;
            }
        } else {
            return;
        }
    }
}

/* One key a line; returns how many, in *keys (owned by the caller). */
static int read_keys(const char *path, char ***keys)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    char line[512];
    int n = 0, cap = 0;
    *keys = NULL;
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, " \t\r\n");
        if (len == 0) continue;
        line[len] = '\0';
        if (n == cap) *keys = realloc(*keys, (size_t)(cap = cap ? 2 * cap : 64) * sizeof **keys);
        (*keys)[n++] = strdup(line);
    }
    fclose(f);
    return n;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 7 || atof(argv[4]) <= 0 || atof(argv[5]) < 0) {
        fprintf(stderr, "usage: annotate HOST PORT[,PORT...] PROJECT_ID SECONDS WARMUP_SECONDS "
                        "KEYFILE\n");
        return 2;
    }
    host = argv[1];
    for (char *save = NULL, *p = strtok_r(argv[2], ",", &save); p && nservers < MAX_SERVERS;
         p = strtok_r(NULL, ",", &save))
        ports[nservers++] = p;
    if (nservers == 0) {
        fprintf(stderr, "annotate: no port in %s\n", argv[2]);
        return 2;
    }
    project = argv[3];
    double secs = atof(argv[4]), warm = atof(argv[5]);
    char **keys;
    int nclients = read_keys(argv[6], &keys);
    if (nclients == 0) {
        fprintf(stderr, "annotate: no keys in %s\n", argv[6]);
        return 1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    for (int i = 0; i < nservers; i++) {
        int rc = getaddrinfo(host, ports[i], &hints, &addrs[i]);
        if (rc) {
            fprintf(stderr, "annotate: %s:%s: %s\n", host, ports[i], gai_strerror(rc));
            return 1;
        }
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        perror("annotate: epoll_create1");
        return 1;
    }

    client *cl = calloc((size_t)nclients, sizeof *cl);
    uint64_t t0 = now_ns();
    run_id = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
    t_measure = t0 + (uint64_t)(warm * 1e9);
    t_end = t_measure + (uint64_t)(secs * 1e9);
    double c0 = cpu_s();
    for (int i = 0; i < nclients; i++) {
        cl[i].idx = i;
        cl[i].key = keys[i];
        make_lease(&cl[i]);
        connect_client(&cl[i]);
    }
    live = nclients;

    struct epoll_event evs[256];
    uint64_t t_stop = 0;
    while (live > 0) {
        uint64_t t = now_ns();
        if (!draining && t >= t_end) {
            draining = 1;
            t_stop = t;
        }
        if (draining && t - t_stop > DRAIN_NS) break;
        uint64_t next = draining ? t_stop + DRAIN_NS : t < t_measure ? t_measure : t_end;
        int timeout = next > t ? (int)((next - t + 999999) / 1000000) : 0;
        int n = epoll_wait(ep, evs, 256, timeout);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("annotate: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            client *c = evs[i].data.ptr;
            if (c->state != ST_DONE) drive(c, evs[i].events);
        }
    }
    double cpu = cpu_s() - c0;
    double wall = (double)(now_ns() - t0) / 1e9;
    /* The window ends early when every client ran out of work. */
    uint64_t w_end = t_end;
    if (!draining && live == 0 && t_last_done < t_end) w_end = t_last_done;
    double window = w_end > t_measure ? (double)(w_end - t_measure) / 1e9 : 0;
    int unfinished = live;

    qsort(lease_lat.v, lease_lat.n, sizeof *lease_lat.v, cmp_u64);
    qsort(submit_lat.v, submit_lat.n, sizeof *submit_lat.v, cmp_u64);
    qsort(loop_lat.v, loop_lat.n, sizeof *loop_lat.v, cmp_u64);
    double rate = window > 0 ? (double)submits / window : 0;
    printf("RESULT annotate submits=%lu seconds=%.3f submits_per_s=%.0f submit_p50_ms=%.2f "
           "submit_p99_ms=%.2f submit_max_ms=%.2f lease_p50_ms=%.2f lease_p99_ms=%.2f "
           "loop_p50_ms=%.2f loop_p99_ms=%.2f errors=%lu clients=%d total_submits=%lu "
           "repeated=%lu leases=%lu reconnects=%lu unfinished=%d ran_out=%d stopped=%d "
           "client_cpu_pct=%.0f\n",
           submits, window, rate, pct_ms(&submit_lat, 0.50), pct_ms(&submit_lat, 0.99),
           submit_lat.n ? (double)submit_lat.v[submit_lat.n - 1] / 1e6 : 0.0,
           pct_ms(&lease_lat, 0.50), pct_ms(&lease_lat, 0.99), pct_ms(&loop_lat, 0.50),
           pct_ms(&loop_lat, 0.99), errors, nclients, total_submits, repeated, leases, reconnects,
           unfinished, ran_out, stopped, wall > 0 ? 100 * cpu / wall : 0.0);
    printf("%d annotators, %.1f s measured after %.1f s of warm-up:\n"
           "  %lu acknowledged submits, %.0f/s\n"
           "  submit p50 %.2f ms, p99 %.2f ms; lease p50 %.2f ms, p99 %.2f ms; "
           "whole loop p99 %.2f ms\n"
           "  %lu errors; %lu submits acknowledged in the whole run\n",
           nclients, window, warm, submits, rate, pct_ms(&submit_lat, 0.50),
           pct_ms(&submit_lat, 0.99), pct_ms(&lease_lat, 0.50), pct_ms(&lease_lat, 0.99),
           pct_ms(&loop_lat, 0.99), errors, total_submits);
    if (ran_out)
        printf("  %d annotators ran out of work before the end: import more tasks\n", ran_out);
    if (stopped) printf("  %d annotators stopped: their lease was refused (see above)\n", stopped);
    if (unfinished)
        printf("  %d requests were still unanswered %llu s after the end\n", unfinished,
               DRAIN_NS / 1000000000ull);

    for (int i = 0; i < nclients; i++) {
        if (cl[i].fd >= 0) close(cl[i].fd);
        free(cl[i].in);
        free(keys[i]);
    }
    free(cl);
    free(keys);
    free(lease_lat.v);
    free(submit_lat.v);
    free(loop_lat.v);
    for (int i = 0; i < nservers; i++) freeaddrinfo(addrs[i]);
    close(ep);
    return 0;
}
