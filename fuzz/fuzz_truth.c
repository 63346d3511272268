/* fuzz_truth.c -- libFuzzer driver for the third CSV reader of `loupe
 * aggregate`: the truth and gold files (--truth, --gold), single-label
 * (lp_answers_load_truth, into label ids and numbers) and multi-label
 * (lp_answers_load_truth_sets).  The input is a file of answers, a line
 * "%%", then the truth file; the answers come first because a truth is read
 * against the items they name.  A first byte '#' reads the answers as sets.
 * Malformed input must give an error naming the line, never a crash. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "answers.h"

/* A memory file holding s[0..n), its /proc path in path. */
static int memfile(const char *s, size_t n, char *path, size_t size)
{
    int fd = memfd_create("csv", 0);
    if (fd < 0 || write(fd, s, n) != (ssize_t)n) abort();
    snprintf(path, size, "/proc/self/fd/%d", fd);
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data, *cut = memmem(s, size, "\n%%\n", 4);
    size_t na = cut ? (size_t)(cut - s) + 1 : size;
    const char *t = cut ? cut + 4 : "";
    size_t nt = cut ? size - (size_t)(t - s) : 0;
    char apath[64], tpath[64];
    int afd = memfile(s, na, apath, sizeof apath), tfd = memfile(t, nt, tpath, sizeof tpath);
    lp_answers a = {.sets = size > 0 && data[0] == '#'};
    char *err = NULL;
    if (lp_answers_load(apath, &a, &err) == 0) {
        int32_t *truth = malloc((a.items.n + 1) * sizeof *truth);
        double *value = malloc((a.items.n + 1) * sizeof *value);
        for (size_t i = 0; i < a.items.n; i++) truth[i] = -1, value[i] = NAN;
        if (lp_answers_load_truth(tpath, &a, truth, value, &err) < 0 && !err) abort();
        for (size_t i = 0; i < a.items.n; i++)
            if (truth[i] >= (int32_t)a.labels.n || (truth[i] < 0 && truth[i] != -1)) abort();
        free(err);
        err = NULL;
        lp_truth_sets ts = {0};
        if (lp_answers_load_truth_sets(tpath, &a, &ts, &err) < 0 && !err) abort();
        for (size_t k = 0; k < ts.n; k++)
            if (ts.item[k] >= a.items.n || ts.label[k] >= a.labels.n) abort();
        lp_truth_sets_fini(&ts);
        free(truth);
        free(value);
    }
    free(err);
    lp_answers_fini(&a);
    close(afd);
    close(tfd);
    return 0;
}
