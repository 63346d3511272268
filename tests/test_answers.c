/* test_answers.c -- crowd answers from CSV: columns by header or by
 * position, truth, reliability matrices, and errors that name the line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "answers.h"
#include "test.h"
#include "util.h"

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", lp_test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

TEST(answers_columns_by_header_in_any_order_or_by_position)
{
    lp_answers a = {0};
    char *err = NULL;
    const char *p = write_file("a.csv", "label,annotator,note,task\ncat,w1,x,t1\n2.5,w2,,t1\n"
                                        "cat,w1,y,t2\n");
    CHECK_INT(lp_answers_load(p, &a, &err), 0);
    CHECK_INT(a.n, 3);
    CHECK_INT(a.items.n, 2);
    CHECK_INT(a.workers.n, 2);
    CHECK_INT(a.labels.n, 2);
    CHECK_STR(a.items.v[a.item[2]], "t2");
    CHECK_STR(a.workers.v[a.worker[1]], "w2");
    CHECK(isnan(a.value[0]));
    CHECK_NEAR(a.value[1], 2.5, 0);
    CHECK_INT(a.line[2], 4);
    /* truth: a class no worker chose is added; unknown items are skipped */
    int32_t truth[2] = {-1, -1};
    p = write_file("t.csv", "item,truth\nt2,dog\nzzz,cat\n");
    CHECK_INT(lp_answers_load_truth(p, &a, truth, NULL, &err), 0);
    CHECK_INT(truth[0], -1);
    CHECK_STR(a.labels.v[truth[1]], "dog");
    lp_answers_fini(&a);
    /* no header: item, worker, label */
    p = write_file("b.csv", "1,w,a\n2,w,b\n");
    CHECK_INT(lp_answers_load(p, &a, &err), 0);
    CHECK_INT(a.n, 2);
    CHECK_INT(lp_dict_find(&a.items, "2"), 1);
    CHECK_INT(lp_dict_find(&a.items, "3"), -1);
    lp_answers_fini(&a);
}

TEST(answers_errors_name_the_file_and_line)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"item,worker,label\n1,w,a\n2,w\n", "line 3: expected item,worker,label but the row has 2"},
        {"item,worker,label\n1,,a\n", "line 2: the worker is empty"},
        {"item,label\n1,a\n", "line 1: the header has no \"worker\" column"},
        {"item,worker,label\n", "has no answers"},
        {"item,worker,label\n1,w,\"a\n", "line 2"},
    };
    for (size_t i = 0; i < LP_ARRAY_LEN(cases); i++) {
        lp_answers a = {0};
        char *err = NULL;
        const char *p = write_file("e.csv", cases[i].text);
        CHECK_INT(lp_answers_load(p, &a, &err), LP_EINVAL);
        int found = err && strstr(err, cases[i].want) && strstr(err, "e.csv");
        if (!found) fprintf(stderr, "  case %zu: %s\n", i, err ? err : "(no message)");
        free(err);
        lp_answers_fini(&a);
        CHECK(found);
    }
    lp_answers a = {0};
    char *err = NULL;
    const char *p = write_file("n.csv", "1,w,a\n");
    CHECK_INT(lp_answers_load(p, &a, &err), 0);
    double value[1] = {NAN};
    p = write_file("v.csv", "item,truth\n1,lots\n");
    CHECK_INT(lp_answers_load_truth(p, &a, NULL, value, &err), LP_EINVAL);
    CHECK(strstr(err, "line 2: the truth \"lots\" is not a number") != NULL);
    free(err);
    lp_answers_fini(&a);
    CHECK_INT(lp_answers_load("/nonexistent/x.csv", &a, &err), LP_EIO);
    free(err);
    lp_answers_fini(&a);
}

TEST(answers_reads_a_reliability_matrix)
{
    lp_answers a = {0};
    char *err = NULL;
    const char *p = write_file("m.csv", "coder,u1,u2,u3\nA,1,*,3\nB,1,2,NA\n");
    CHECK(lp_answers_is_matrix(p));
    CHECK_INT(lp_answers_load_matrix(p, &a, &err), 0);
    CHECK_INT(a.n, 4);
    CHECK_INT(a.items.n, 3);
    CHECK_INT(a.workers.n, 2);
    CHECK_STR(a.items.v[a.item[3]], "u2");
    lp_answers_fini(&a);
    p = write_file("r.csv", "item,worker,label\n1,w,a\n");
    CHECK(!lp_answers_is_matrix(p));
    p = write_file("twice.csv", "coder,u1,u1\nA,1,2\n");
    CHECK_INT(lp_answers_load_matrix(p, &a, &err), LP_EINVAL);
    CHECK(strstr(err, "line 1: the unit \"u1\" is named twice") != NULL);
    free(err);
    lp_answers_fini(&a);
    p = write_file("bad.csv", "coder,u1,u2\nA,1\n");
    CHECK_INT(lp_answers_load_matrix(p, &a, &err), LP_EINVAL);
    CHECK(strstr(err, "line 2: the header names 2 units but this row has 1 values") != NULL);
    free(err);
    lp_answers_fini(&a);
}
