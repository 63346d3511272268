/* test_http.c -- the HTTP edge: JSON parsing with a depth limit, splitting
 * bulk bodies (JSON arrays and NDJSON) into rows, and streamed replies
 * served over a real socket. */
#include <curl/curl.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "http.h"
#include "limit.h"
#include "test.h"
#include "util.h"

typedef struct rows {
    int n;
    char text[16][64];
} rows;

static int collect(void *arg, size_t index, const char *s, size_t n)
{
    rows *r = arg;
    if ((size_t)r->n != index || r->n >= 16) return 1;
    snprintf(r->text[r->n++], 64, "%.*s", (int)n, s);
    return 0;
}

TEST(http_range_parses_one_byte_range)
{
    uint64_t a = 0, n = 0;
    CHECK_INT(lp_http_range(NULL, 100, &a, &n), 0);
    CHECK_INT(lp_http_range("bytes=0-9", 100, &a, &n), 1);
    CHECK(a == 0 && n == 10);
    CHECK_INT(lp_http_range("bytes=90-", 100, &a, &n), 1);
    CHECK(a == 90 && n == 10);
    CHECK_INT(lp_http_range("bytes=95-200", 100, &a, &n), 1); /* clipped to the end */
    CHECK(a == 95 && n == 5);
    CHECK_INT(lp_http_range("bytes=-30", 100, &a, &n), 1); /* the last 30 */
    CHECK(a == 70 && n == 30);
    CHECK_INT(lp_http_range("bytes=-300", 100, &a, &n), 1);
    CHECK(a == 0 && n == 100);
    CHECK_INT(lp_http_range(" BYTES=5-5", 100, &a, &n), 1);
    CHECK(a == 5 && n == 1);
    /* Nothing of it exists: 416. */
    CHECK_INT(lp_http_range("bytes=100-", 100, &a, &n), -1);
    CHECK_INT(lp_http_range("bytes=-0", 100, &a, &n), -1);
    CHECK_INT(lp_http_range("bytes=0-", 0, &a, &n), -1);
    /* Ignored (the whole file is sent): other units, several ranges, junk. */
    CHECK_INT(lp_http_range("items=0-1", 100, &a, &n), 0);
    CHECK_INT(lp_http_range("bytes=0-1,5-6", 100, &a, &n), 0);
    CHECK_INT(lp_http_range("bytes=9-1", 100, &a, &n), 0);
    CHECK_INT(lp_http_range("bytes=a-1", 100, &a, &n), 0);
    CHECK_INT(lp_http_range("bytes=-", 100, &a, &n), 0);
    CHECK_INT(lp_http_range("bytes=99999999999999999999-", 100, &a, &n), 0);
}

TEST(http_split_json_array)
{
    rows r = {0};
    lp_verr e;
    const char *body = " [ {\"a\": [1, 2]}, \"x,]}\" ,\n{\"b\":{\"c\":\"\\\"]\"}} ] \n";
    CHECK_INT(lp_json_split(body, strlen(body), collect, &r, &e), 0);
    CHECK_INT(r.n, 3);
    CHECK_STR(r.text[0], "{\"a\": [1, 2]}");
    CHECK_STR(r.text[1], "\"x,]}\"");
    CHECK_STR(r.text[2], "{\"b\":{\"c\":\"\\\"]\"}}");
}

TEST(http_split_ndjson_skips_blank_lines)
{
    rows r = {0};
    lp_verr e;
    const char *body = "{\"a\":1}\r\n\n  {\"b\":2}  \n{bad}\n";
    CHECK_INT(lp_json_split(body, strlen(body), collect, &r, &e), 0);
    CHECK_INT(r.n, 3);
    CHECK_STR(r.text[0], "{\"a\":1}");
    CHECK_STR(r.text[1], "{\"b\":2}");
    CHECK_STR(r.text[2], "{bad}"); /* reported per row later, not here */
}

TEST(http_split_rejects_broken_framing)
{
    rows r = {0};
    lp_verr e;
    const char *unclosed = "[{\"a\":1}, {\"b\":2}";
    CHECK_INT(lp_json_split(unclosed, strlen(unclosed), collect, &r, &e), LP_EINVAL);
    CHECK_STR(e.field, "body");
    CHECK(strstr(e.message, "not closed"));
    const char *trailing = "[1, 2] 3";
    memset(&r, 0, sizeof r);
    CHECK_INT(lp_json_split(trailing, strlen(trailing), collect, &r, &e), LP_EINVAL);
    const char *hole = "[1, , 2]";
    memset(&r, 0, sizeof r);
    CHECK_INT(lp_json_split(hole, strlen(hole), collect, &r, &e), LP_EINVAL);
    CHECK(strstr(e.message, "element 1"));
    memset(&r, 0, sizeof r);
    CHECK_INT(lp_json_split("  ", 2, collect, &r, &e), LP_EINVAL);
    memset(&r, 0, sizeof r);
    CHECK_INT(lp_json_split("[]", 2, collect, &r, &e), 0);
    CHECK_INT(r.n, 0);
}

TEST(http_split_refuses_a_cut_short_ndjson_body)
{
    rows r = {0};
    lp_verr e;
    const char *cut = "{\"a\":1}\n{\"b\": [1, 2\n";
    CHECK_INT(lp_json_split(cut, strlen(cut), collect, &r, &e), LP_EINVAL);
    CHECK_INT(r.n, 0); /* nothing was handed out before the refusal */
    CHECK(strstr(e.message, "cut short"));
    const char *in_string = "{\"a\":1}\n{\"b\": \"unterminated";
    CHECK_INT(lp_json_split(in_string, strlen(in_string), collect, &r, &e), LP_EINVAL);
    const char *no_newline = "{\"a\":1}\n{\"b\": 2}"; /* a complete last line needs no newline */
    memset(&r, 0, sizeof r);
    CHECK_INT(lp_json_split(no_newline, strlen(no_newline), collect, &r, &e), 0);
    CHECK_INT(r.n, 2);
}

TEST(http_json_parse_limits_depth_and_names_position)
{
    lp_verr e;
    json_t *v;
    char deep[300];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = '\0';
    CHECK_INT(lp_json_parse(deep, 200, "body", &v, &e), LP_ETOOBIG);
    CHECK(v == NULL);
    CHECK_STR(e.field, "body");
    CHECK(strstr(e.message, "nested 100 levels deep; the limit (max_json_depth) is 64"));
    /* Exactly at the limit parses. */
    CHECK_INT(
        lp_json_parse(deep + 100 - LP_LIMIT_JSON_DEPTH, 2 * LP_LIMIT_JSON_DEPTH, "body", &v, &e),
        0);
    json_decref(v);
    /* Brackets inside strings do not count. */
    const char *s =
        "{\"k\": \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}";
    CHECK_INT(lp_json_parse(s, strlen(s), "body", &v, &e), 0);
    json_decref(v);
    CHECK_INT(lp_json_parse("{\"a\":1,\n\"a\":2}", 14, "body", &v, &e),
              LP_EINVAL); /* duplicate key */
    CHECK(strstr(e.message, "line 2"));
    CHECK_INT(lp_json_parse("nul", 3, "x", &v, &e), LP_EINVAL);
}

TEST(http_json_parse_limits_strings_and_names_where)
{
    lp_verr e;
    json_t *v;
    size_t n = LP_LIMIT_STRING_BYTES + 1;
    char *s = lp_malloc(n + 64);
    /* {"a":[1,"xxx..."]}: one byte over, then exactly at the limit. */
    memcpy(s, "{\"a\":[1,\"", 9);
    memset(s + 9, 'x', n);
    memcpy(s + 9 + n, "\"]}", 3);
    CHECK_INT(lp_json_parse(s, n + 12, "body", &v, &e), LP_ETOOBIG);
    CHECK(v == NULL);
    CHECK_STR(e.field, "a[1]");
    CHECK(strstr(e.message, "1048577 bytes; the limit (max_string_bytes) is 1048576"));
    memcpy(s + 9 + n - 1, "\"]}", 3);
    CHECK_INT(lp_json_parse(s, n + 11, "body", &v, &e), 0);
    json_decref(v);
    /* A key counts too. */
    s[0] = '{', s[1] = '"';
    memset(s + 2, 'k', n);
    memcpy(s + 2 + n, "\":1}", 4);
    CHECK_INT(lp_json_parse(s, n + 6, "body", &v, &e), LP_ETOOBIG);
    CHECK_STR(e.field, "(a key)");
    free(s);
}

/* ---- streamed replies --------------------------------------------------- */

/* A producer of CHUNKS chunks of about 40 KB each (more than libmicrohttpd
 * takes at once), failing at chunk fail_at (-1: never). */
#define CHUNKS 5
static atomic_int streams_freed;

typedef struct chunker {
    int made, fail_at;
} chunker;

static int make_chunk(void *arg, lp_db *db, lp_buf *out)
{
    chunker *c = arg;
    int64_t v = 0;
    if (lp_db_int64(db, &v, "SELECT 7", NULL) < 0 || v != 7) return LP_EDB; /* a usable db */
    if (c->made == c->fail_at) return LP_EIO;
    for (int i = 0; i < 1000; i++)
        lp_buf_printf(out, "chunk %d line %03d .........................\n", c->made, i);
    return ++c->made < CHUNKS;
}

static void chunker_free(void *arg)
{
    free(arg);
    atomic_fetch_add(&streams_freed, 1);
}

static int stream_handler(lp_req *req)
{
    chunker *c = lp_calloc(1, sizeof *c);
    c->fail_at = atoi(lp_req_arg(req, "fail_at"));
    int rc = lp_reply_stream(req, 200, "text/plain", make_chunk, c, chunker_free);
    if (rc < 0) lp_reply_rc(req, rc, "stream");
    return 0;
}

static size_t collect_body(char *p, size_t size, size_t n, void *arg)
{
    lp_buf_append(arg, p, size * n);
    return size * n;
}

/* GETs url: the curl result, the status in *status and the body in out. */
static CURLcode fetch(const char *url, long *status, lp_buf *out)
{
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    return rc;
}

TEST(http_stream_reply_sends_every_chunk_or_cuts_the_transfer)
{
    char url[512], *err = NULL;
    snprintf(url, sizeof url, "sqlite:%s/stream.db", lp_test_tmpdir());
    lp_db_pool *pool;
    CHECK_INT(lp_db_pool_new(url, 2, &pool, &err), 0);
    static const lp_route routes[] = {
        {"GET", "/stream", stream_handler, LP_ROUTE_PUBLIC | LP_ROUTE_READ, NULL}};
    lp_http_config cfg = {.listen = "127.0.0.1:0",
                          .threads = 2,
                          .body_limit = 1 << 20,
                          .routes = routes,
                          .nroutes = 1,
                          .pool = pool};
    lp_http *h;
    CHECK_INT(lp_http_start(&cfg, &h, &err), 0);
    atomic_store(&streams_freed, 0);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/stream?fail_at=", lp_http_port(h));
    lp_buf want = {0}, got = {0};
    chunker all = {0, -1};
    lp_db *db = lp_db_pool_get(pool);
    while (make_chunk(&all, db, &want) > 0) continue;
    lp_db_pool_put(pool, db);
    long status = 0;
    /* every chunk, in order; the pool's connections all came back */
    snprintf(url, sizeof url, "%s-1", base);
    CURLcode rc = fetch(url, &status, &got);
    int ok = rc == CURLE_OK && status == 200 && got.len == want.len &&
             memcmp(got.data, want.data, want.len) == 0;
    /* a failure at the fourth chunk: the client sees an incomplete transfer */
    got.len = 0;
    snprintf(url, sizeof url, "%s3", base);
    CURLcode cut = fetch(url, &status, &got);
    size_t cut_len = got.len;
    /* a failure at the first chunk: an ordinary JSON error */
    got.len = 0;
    snprintf(url, sizeof url, "%s0", base);
    CURLcode first = fetch(url, &status, &got);
    lp_buf_puts(&got, "");
    lp_http_stop(h, 5000);
    lp_db_pool_free(pool);
    CHECK(ok);
    CHECK_INT(cut, CURLE_PARTIAL_FILE);
    CHECK(cut_len <= want.len * 3 / CHUNKS); /* no more than the three chunks made */
    CHECK_INT(first, CURLE_OK);
    CHECK_INT(status, 500);
    CHECK(strstr(got.data, "\"internal\""));
    CHECK_INT(atomic_load(&streams_freed), 3);
    lp_buf_fini(&want);
    lp_buf_fini(&got);
}
