/* test_csvfile.c -- CSV rows with the lines they start on, quoting,
 * comments, a byte-order mark, and errors that name the line. */
#include <stdio.h>
#include <stdlib.h>

#include "csvfile.h"
#include "test.h"
#include "util.h"

static const char *write_file(const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/in.csv", lp_test_tmpdir());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

TEST(csv_rows_come_with_their_first_line)
{
    const char *path = write_file("\xEF\xBB\xBFitem,worker,label\n"
                                  "# a comment\n"
                                  "\n"
                                  "1,w1,\"a, b\"\r\n"
                                  "2,w2,\"two\nlines\"\n"
                                  "3,\"w\"\"3\",\n"
                                  "4,w4,last");
    char *err = NULL;
    lp_csv *c;
    CHECK_INT(lp_csv_open(path, &c, &err), 0);
    const char *const *f;
    size_t n;
    CHECK_INT(lp_csv_next(c, &f, &n), 1);
    CHECK_INT(n, 3);
    CHECK_STR(f[0], "item"); /* the byte-order mark is gone */
    CHECK_INT(lp_csv_line(c), 1);
    CHECK_INT(lp_csv_next(c, &f, &n), 1);
    CHECK_STR(f[2], "a, b");
    CHECK_INT(lp_csv_line(c), 4);
    CHECK_INT(lp_csv_next(c, &f, &n), 1);
    CHECK_STR(f[2], "two\nlines");
    CHECK_INT(lp_csv_line(c), 5);
    CHECK_INT(lp_csv_next(c, &f, &n), 1);
    CHECK_STR(f[1], "w\"3");
    CHECK_STR(f[2], "");
    CHECK_INT(n, 3);
    CHECK_INT(lp_csv_line(c), 7);
    CHECK_INT(lp_csv_next(c, &f, &n), 1); /* no newline at the end */
    CHECK_STR(f[2], "last");
    CHECK_INT(lp_csv_line(c), 8);
    CHECK_INT(lp_csv_next(c, &f, &n), 0);
    lp_csv_close(c);
}

TEST(csv_errors_name_the_line)
{
    const char *path = write_file("a,b\n1,2\n3,\"open\n4,5\n");
    char *err = NULL;
    lp_csv *c;
    CHECK_INT(lp_csv_open(path, &c, &err), 0);
    const char *const *f;
    size_t n;
    CHECK_INT(lp_csv_next(c, &f, &n), 1);
    CHECK_INT(lp_csv_next(c, &f, &n), 1);
    CHECK_INT(lp_csv_next(c, &f, &n), LP_EINVAL);
    CHECK_STR(lp_csv_error(c), "line 3: a quoted field is not closed by the end of the file");
    lp_csv_close(c);
    path = write_file("a,b\n1,x\"y\n");
    CHECK_INT(lp_csv_open(path, &c, &err), 0);
    CHECK_INT(lp_csv_next(c, &f, &n), 1);
    CHECK_INT(lp_csv_next(c, &f, &n), LP_EINVAL);
    CHECK_STR(lp_csv_error(c), "line 2: a quote inside a field that is not quoted, or text after "
                               "a field's closing quote");
    lp_csv_close(c);
    CHECK_INT(lp_csv_open("/nonexistent/x.csv", &c, &err), LP_EIO);
    CHECK(strstr(err, "/nonexistent/x.csv") != NULL);
    free(err);
    lp_csv_close(NULL);
}
