/* test_stats.c -- the dashboard's time window (stats.h): defaults that end
 * with the bucket now is in, UTC-aligned buckets, and the errors that name
 * their field. */
#include <string.h>

#include "stats.h"
#include "test.h"

TEST(stats_range_defaults_end_with_the_current_bucket)
{
    lp_stats_range r;
    lp_verr e;
    int64_t now;
    CHECK_INT(lp_time_parse("2026-03-10T15:20:00Z", &now), 0);
    CHECK_INT(lp_stats_range_parse(&r, NULL, NULL, NULL, now, &e), 0);
    CHECK_STR(r.bucket, "day");
    CHECK_INT(r.n, 30);
    CHECK_INT(r.until, now);
    char buf[40];
    lp_time_format(r.since, buf, sizeof buf);
    CHECK_STR(buf, "2026-02-09T00:00:00.000Z"); /* 29 days before March 10 */
    CHECK_INT(r.first_ms, r.since);
    CHECK_INT(lp_stats_range_parse(&r, "hour", NULL, NULL, now, &e), 0);
    CHECK_INT(r.n, 48);
    lp_time_format(r.first_ms, buf, sizeof buf);
    CHECK_STR(buf, "2026-03-08T16:00:00.000Z");
}

TEST(stats_range_aligns_a_given_window_to_utc_buckets)
{
    lp_stats_range r;
    lp_verr e;
    /* 10:30 on the 1st to 02:00 on the 3rd at +02:00 is 08:30 on the 1st
     * to 00:00 on the 3rd in UTC, until excluded: two UTC days. */
    CHECK_INT(lp_stats_range_parse(&r, "day", "2026-01-01T10:30:00+02:00",
                                   "2026-01-03T02:00:00+02:00", 0, &e),
              0);
    CHECK_INT(r.n, 2);
    char buf[40];
    lp_time_format(r.first_ms, buf, sizeof buf);
    CHECK_STR(buf, "2026-01-01T00:00:00.000Z");
    CHECK_INT(
        lp_stats_range_parse(&r, "hour", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", 0, &e), 0);
    CHECK_INT(r.n, 1);
    /* Before 1970 too: buckets round down, not toward zero. */
    CHECK_INT(
        lp_stats_range_parse(&r, "day", "1969-12-31T12:00:00Z", "1970-01-01T12:00:00Z", 0, &e), 0);
    CHECK_INT(r.n, 2);
    CHECK_INT(r.first_ms, -LP_STATS_DAY_MS);
}

TEST(stats_range_errors_name_their_field)
{
    lp_stats_range r;
    lp_verr e;
    CHECK_INT(lp_stats_range_parse(&r, "week", NULL, NULL, 0, &e), LP_EINVAL);
    CHECK_STR(e.field, "bucket");
    CHECK_INT(lp_stats_range_parse(&r, NULL, "yesterday", NULL, 0, &e), LP_EINVAL);
    CHECK_STR(e.field, "since");
    CHECK_INT(lp_stats_range_parse(&r, NULL, NULL, "2026-13-01", 0, &e), LP_EINVAL);
    CHECK_STR(e.field, "until");
    CHECK_INT(lp_stats_range_parse(&r, NULL, "2026-01-02", "2026-01-01", 0, &e), LP_EINVAL);
    CHECK_STR(e.field, "since");
    /* 1000 hours fit; 1001 do not. */
    int64_t t0;
    lp_time_parse("2026-01-01T00:00:00Z", &t0);
    char until[40];
    lp_time_format(t0 + 1000 * LP_STATS_HOUR_MS, until, sizeof until);
    CHECK_INT(lp_stats_range_parse(&r, "hour", "2026-01-01T00:00:00Z", until, 0, &e), 0);
    CHECK_INT(r.n, 1000);
    lp_time_format(t0 + 1000 * LP_STATS_HOUR_MS + 1, until, sizeof until);
    CHECK_INT(lp_stats_range_parse(&r, "hour", "2026-01-01T00:00:00Z", until, 0, &e), LP_EINVAL);
    CHECK_STR(e.field, "since");
    CHECK(strstr(e.message, "1001 hour buckets") != NULL);
}
