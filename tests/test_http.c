/* test_http.c -- the pure parts of the HTTP edge: JSON parsing with a depth
 * limit, and splitting bulk bodies (JSON arrays and NDJSON) into rows. */
#include <stdlib.h>

#include "http.h"
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
    CHECK_INT(lp_json_parse(deep, 200, "body", &v, &e), LP_EINVAL);
    CHECK(v == NULL);
    CHECK_STR(e.field, "body");
    CHECK(strstr(e.message, "nested deeper"));
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
