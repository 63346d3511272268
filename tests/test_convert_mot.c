/* test_convert_mot.c -- the MOT converter on a gt.txt built in memory: a
 * value too long to be a number makes its sequence a bad item naming
 * FILE:LINE instead of being read as two numbers. */
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "test.h"
#include "test_kinds.h"

/* Converts the gt.txt text into a videoannotation project of one label. */
static void convert(lp_project *p, lp_src *src, lp_convert *c, const char *gt)
{
    lp_verr e;
    memset(p, 0, sizeof *p);
    memset(src, 0, sizeof *src);
    kt_params(&lp_kind_videoannotation, "{'labels': ['person']}", &p->params, &e);
    p->kind = &lp_kind_videoannotation;
    lp_src_add_text(src, "seq/gt/gt.txt", gt, strlen(gt));
    lp_src_done(src);
    *c = (lp_convert){.project = p,
                      .src = src,
                      .results = 1,
                      .image_base = "https://img.example.com",
                      .format = "mot"};
    lp_convert_mot.run(c, &e);
}

static void done(lp_project *p, lp_src *src, lp_convert *c)
{
    lp_convert_fini(c);
    lp_src_fini(src);
    json_decref(p->params);
}

TEST(mot_a_value_longer_than_a_number_is_a_bad_line_not_two_numbers)
{
    lp_project p;
    lp_src src;
    lp_convert c;
    convert(&p, &src, &c, "1,1,10,20,30,40\n2,1,12,20,30,40\n");
    CHECK_INT(c.ntasks, 1);
    CHECK_INT(c.nbad, 0);
    done(&p, &src, &c);
    /* 40.000... (70 zeros) was read as 40 then 0, a conf of 0: the row
     * silently left out as MOT's "ignore". */
    char gt[256];
    snprintf(gt, sizeof gt, "1,1,10,20,30,40\n2,1,12,20,30,40.%070d\n", 0);
    convert(&p, &src, &c, gt);
    int ntasks = (int)c.ntasks, nbad = (int)c.nbad;
    char where[64] = "", msg[128] = "";
    if (nbad) {
        snprintf(where, sizeof where, "%s", c.bad[0].where);
        snprintf(msg, sizeof msg, "%s", c.bad[0].e.message);
    }
    done(&p, &src, &c);
    CHECK_INT(ntasks, 0);
    CHECK_INT(nbad, 1);
    CHECK_STR(where, "seq/gt/gt.txt:2");
    CHECK(strstr(msg, "longer than 63 characters") != NULL);
}
