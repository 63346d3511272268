/* test_util.c -- time formats, numbers, buffers, arenas, error texts. */
#include <time.h>

#include "test.h"
#include "util.h"

TEST(util_time_round_trip)
{
    char buf[40];
    lp_time_format(0, buf, sizeof buf);
    CHECK_STR(buf, "1970-01-01T00:00:00.000Z");
    int64_t ms;
    CHECK_INT(lp_time_parse("2026-11-22T05:33:41.123Z", &ms), 0);
    lp_time_format(ms, buf, sizeof buf);
    CHECK_STR(buf, "2026-11-22T05:33:41.123Z");
    CHECK_INT(lp_time_parse("2024-02-29", &ms), 0);
    lp_time_format(ms, buf, sizeof buf);
    CHECK_STR(buf, "2024-02-29T00:00:00.000Z");
    int64_t a, b;
    CHECK_INT(lp_time_parse("2026-01-01T02:00:00+02:00", &a), 0);
    CHECK_INT(lp_time_parse("2026-01-01T00:00:00Z", &b), 0);
    CHECK_INT(a, b);
}

TEST(util_time_format_agrees_with_the_c_library)
{
    /* Every day for 30,000 years' worth of samples, and odd milliseconds. */
    for (int64_t ms = -62135596800000LL; ms < 253402300799000LL; ms += 86399999LL * 37 + 1234) {
        char mine[40], libc[40];
        lp_time_format(ms, mine, sizeof mine);
        time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
        struct tm tm;
        gmtime_r(&s, &tm);
        snprintf(libc, sizeof libc, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(ms - (int64_t)s * 1000));
        CHECK_STR(mine, libc);
        int64_t back;
        CHECK_INT(lp_time_parse(mine, &back), 0);
        CHECK_INT(back, ms);
    }
}

TEST(util_time_rejects_garbage)
{
    int64_t ms;
    const char *bad[] = {"",
                         "yesterday",
                         "2026-13-01",
                         "2026-01-01T25:00:00Z",
                         "2026-01-01T10:00",
                         "2026-01-01T10:00:00",
                         "2026-01-01T10:00:00Zjunk",
                         "2026-1-1"};
    for (size_t i = 0; i < LP_ARRAY_LEN(bad); i++) CHECK_INT(lp_time_parse(bad[i], &ms), LP_EINVAL);
}

TEST(util_parse_int64_is_strict)
{
    int64_t v;
    CHECK_INT(lp_parse_int64("42", &v), 0);
    CHECK_INT(v, 42);
    CHECK_INT(lp_parse_int64("-7", &v), 0);
    CHECK_INT(v, -7);
    CHECK_INT(lp_parse_int64("42abc", &v), LP_EINVAL);
    CHECK_INT(lp_parse_int64("", &v), LP_EINVAL);
    CHECK_INT(lp_parse_int64(" 4", &v), LP_EINVAL);
    CHECK_INT(lp_parse_int64("99999999999999999999", &v), LP_EINVAL);
    CHECK_INT(lp_parse_int64(NULL, &v), LP_EINVAL);
}

TEST(util_buf_and_arena)
{
    lp_buf b = {0};
    for (int i = 0; i < 1000; i++) lp_buf_printf(&b, "%d,", i);
    CHECK(b.len > 3000);
    CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
    CHECK(b.data[b.len] == '\0');
    lp_buf_fini(&b);
    CHECK(b.data == NULL);
    lp_arena a = {0};
    char *s = lp_arena_strdup(&a, "hello");
    void *big = lp_arena_alloc(&a, 100000);
    memset(big, 1, 100000);
    char *t = lp_arena_sprintf(&a, "%s-%d", s, 7);
    CHECK_STR(t, "hello-7");
    lp_arena_fini(&a);
    CHECK(a.head == NULL);
}

TEST(util_every_error_has_text)
{
    CHECK_STR(lp_strerror(LP_ENOTFOUND), "not found");
    CHECK_STR(lp_strerror(0), "success");
    CHECK_STR(lp_strerror(-999), "unknown error");
}

TEST(util_url_redact_hides_passwords)
{
    char b[256];
    lp_url_redact("postgres://ana:s3cret@db.example.com:5432/loupe", b, sizeof b);
    CHECK_STR(b, "postgres://ana:***@db.example.com:5432/loupe");
    lp_url_redact("postgres://ana@db/loupe?password=x&sslmode=require", b, sizeof b);
    CHECK_STR(b, "postgres://ana@db/loupe?password=***&sslmode=require");
    lp_url_redact("postgres:///loupe?host=/tmp/x&port=5432", b, sizeof b);
    CHECK_STR(b, "postgres:///loupe?host=/tmp/x&port=5432");
    lp_url_redact("sqlite:/var/lib/loupe/loupe.db", b, sizeof b);
    CHECK_STR(b, "sqlite:/var/lib/loupe/loupe.db");
    lp_url_redact("host=db password=pw user=u", b, sizeof b);
    CHECK_STR(b, "host=db password=*** user=u");
}

TEST(util_quantile_interpolates_between_ranks)
{
    const int64_t odd[] = {1, 3, 8}, even[] = {2, 4, 10, 20};
    CHECK(lp_quantile(odd, 3, 0.5) == 3);
    CHECK(lp_quantile(even, 4, 0.5) == 7); /* the mean of the middle two */
    CHECK(lp_quantile(even, 4, 0) == 2 && lp_quantile(even, 4, 1) == 20);
    /* 0.9 of 4 values: rank 2.7, so 10 + 0.7 * (20 - 10). */
    CHECK(lp_quantile(even, 4, 0.9) > 16.999 && lp_quantile(even, 4, 0.9) < 17.001);
    const int64_t one[] = {42};
    CHECK(lp_quantile(one, 1, 0.9) == 42);
    /* A caller with only the two values around the rank gets the same. */
    double w;
    size_t r = lp_quantile_rank(4, 0.9, &w);
    CHECK_INT(r, 2);
    CHECK(lp_quantile(even + r, 2, w) == lp_quantile(even, 4, 0.9));
}
