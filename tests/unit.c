/* unit.c -- runs every TEST() linked into the unit-test binary. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

static lp_test_case cases[1024];
static int ncases, failed_now;
static char tmpdir[256];

void lp_test_register(const char *name, const char *file, void (*fn)(void))
{
    if (ncases < (int)(sizeof cases / sizeof cases[0]))
        cases[ncases++] = (lp_test_case){name, file, fn};
}

void lp_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "  FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    failed_now = 1;
}

static void rm_tmpdir(void)
{
    if (tmpdir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
        tmpdir[0] = '\0';
    }
}

const char *lp_test_tmpdir(void)
{
    rm_tmpdir();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/loupe-unit-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        exit(2);
    }
    return tmpdir;
}

const char *lp_test_data_dir(void)
{
    const char *d = getenv("LOUPE_SHARED_DATA");
    return d ? d : "../shared/data";
}

static int by_name(const void *a, const void *b)
{
    const lp_test_case *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    return c ? c : strcmp(x->name, y->name);
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    qsort(cases, (size_t)ncases, sizeof cases[0], by_name);
    for (int i = 0; i < ncases; i++) {
        if (argc > 1 && !strstr(cases[i].name, argv[1])) continue;
        failed_now = 0;
        cases[i].fn();
        rm_tmpdir();
        if (failed_now) {
            failed++;
            fprintf(stderr, "not ok %s (%s)\n", cases[i].name, cases[i].file);
        } else {
            passed++;
            printf("ok %s\n", cases[i].name);
        }
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
