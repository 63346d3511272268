/* fuzz_answers.c -- libFuzzer driver for crowd answers read from CSV (the
 * input of `loupe aggregate` and `loupe agreement`): libcsv through
 * csvfile.c, header detection, the reliability-matrix reader, and then the
 * aggregation and agreement on whatever was read.  Malformed input must
 * give an error with a line number, never a crash. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agg.h"
#include "agree.h"
#include "answers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("answers", 0);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size) abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    lp_answers a = {.sets = size > 0 && data[0] == '#'};
    char *err = NULL;
    int rc = lp_answers_is_matrix(path) ? lp_answers_load_matrix(path, &a, &err)
                                        : lp_answers_load(path, &a, &err);
    if (rc < 0 && !err) abort(); /* every failure says why */
    if (rc == 0) {
        lp_agg_data d = {.n = a.n,
                         .item = a.item,
                         .worker = a.worker,
                         .label = a.label,
                         .n_items = a.items.n,
                         .n_workers = a.workers.n,
                         .n_classes = a.labels.n};
        lp_agg_result r;
        if (lp_agg_categorical(LP_AGG_AUTO, &d, &r) < 0) abort();
        lp_agg_result_fini(&r);
        double *v = malloc((a.n + 1) * sizeof *v), alpha;
        for (size_t i = 0; i < a.n; i++) v[i] = a.label[i];
        lp_agree_alpha(a.n, a.item, v, LP_ALPHA_NOMINAL, &alpha);
        free(v);
    }
    free(err);
    lp_answers_fini(&a);
    close(fd);
    return 0;
}
