/* test.h -- the unit-test harness.  A test is a function declared with
 * TEST(name); it registers itself at start-up, and tests/unit.c runs every
 * registered test (or those whose name contains argv[1]) and prints
 * "N passed, N failed" as its last line.  CHECK* stop the test at the first
 * failure and print the file, line and the values involved. */
#ifndef LP_TEST_H
#define LP_TEST_H

#include <stdio.h>
#include <string.h>

typedef struct lp_test_case {
    const char *name;
    const char *file;
    void (*fn)(void);
} lp_test_case;

void lp_test_register(const char *name, const char *file, void (*fn)(void));
void lp_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A fresh, empty directory for this test (removed at exit). */
const char *lp_test_tmpdir(void);
/* The shared reference data directory (../shared/data by default). */
const char *lp_test_data_dir(void);

#define TEST(name)                                                 \
    static void name(void);                                        \
    __attribute__((constructor)) static void name##_register(void) \
    {                                                              \
        lp_test_register(#name, __FILE__, name);                   \
    }                                                              \
    static void name(void)

#define CHECK(cond)                                               \
    do {                                                          \
        if (!(cond)) {                                            \
            lp_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
            return;                                               \
        }                                                         \
    } while (0)

#define CHECK_INT(a, b)                                                                          \
    do {                                                                                         \
        long long a_ = (long long)(a), b_ = (long long)(b);                                      \
        if (a_ != b_) {                                                                          \
            lp_test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, a_, #b, b_); \
            return;                                                                              \
        }                                                                                        \
    } while (0)

#define CHECK_STR(a, b)                                                           \
    do {                                                                          \
        const char *a_ = (a), *b_ = (b);                                          \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                  \
            lp_test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, \
                         a_ ? a_ : "(null)", b_ ? b_ : "(null)");                 \
            return;                                                               \
        }                                                                         \
    } while (0)

#define CHECK_NEAR(a, b, eps)                                                               \
    do {                                                                                    \
        double a_ = (a), b_ = (b);                                                          \
        if (!(a_ - b_ <= (eps) && b_ - a_ <= (eps))) {                                      \
            lp_test_fail(__FILE__, __LINE__, "%s == %.9g, expected %.9g +- %g", #a, a_, b_, \
                         (double)(eps));                                                    \
            return;                                                                         \
        }                                                                                   \
    } while (0)

#endif
