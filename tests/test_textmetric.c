/* test_textmetric.c -- SQuAD normalisation, exact match and F1 against
 * every vector of ../shared/data/metrics/squad_f1_vectors.jsonl, Python's
 * Unicode behaviour on hand cases, and invalid UTF-8. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test.h"
#include "textmetric.h"
#include "util.h"

static const char *field(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

TEST(textmetric_squad_reference_vectors)
{
    char path[512], line[4096];
    snprintf(path, sizeof path, "%s/metrics/squad_f1_vectors.jsonl", lp_test_data_dir());
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        if (!o) break;
        n++;
        const char *pred = field(o, "prediction"), *gold = field(o, "gold");
        char *np = lp_textmetric_normalize(pred), *ng = lp_textmetric_normalize(gold);
        int ok_np = strcmp(np, field(o, "normalized_prediction")) == 0;
        int ok_ng = strcmp(ng, field(o, "normalized_gold")) == 0;
        if (!ok_np || !ok_ng)
            fprintf(stderr, "  line %d: \"%s\" -> \"%s\", \"%s\" -> \"%s\"\n", n, pred, np, gold,
                    ng);
        free(np);
        free(ng);
        double em, f1, em2, f12;
        lp_textmetric_squad(pred, gold, LP_SQUAD_V1, &em, &f1);
        lp_textmetric_squad(pred, gold, LP_SQUAD_V2, &em2, &f12);
        double want_em = json_real_value(json_object_get(o, "exact_match"));
        double want_f1 = json_real_value(json_object_get(o, "f1_v1"));
        double want_f12 = json_real_value(json_object_get(o, "f1_v2"));
        json_decref(o);
        CHECK(ok_np && ok_ng);
        CHECK_NEAR(em, want_em, 1e-9);
        CHECK_NEAR(em2, want_em, 1e-9);
        /* The file rounds F1 to 10 decimals. */
        CHECK_NEAR(f1, want_f1, 1e-9);
        CHECK_NEAR(f12, want_f12, 1e-9);
    }
    fclose(f);
    CHECK_INT(n, 16);
}

/* Expected forms from the official normalize_answer under Python 3.11. */
TEST(textmetric_normalize_follows_python_on_unicode)
{
    static const char *const cases[][2] = {
        {"ΟΔΟΣ ΣΑΣ", "οδος σας"}, /* final sigma at a word's end */
        {"ΌΣ.Σ", "όσς"},          /* '.' is case-ignorable: the first is not final */
        {"ΣΑ'Σ", "σας"},
        {"İstanbul", "i\xcc\x87stanbul"},     /* U+0130 lowers to two characters */
        {"café a—b", "café —b"},              /* the dash is no word character: "a" goes */
        {"éa a", "éa"},                       /* "é" is one: "a" stays */
        {"x\xc2\xa0the\xe3\x80\x80y", "x y"}, /* no-break and ideographic spaces */
        {"A\xe2\x80\xa8"
         "AN\xc2\x85THE",
         ""},
        {"naïve an_apple", "naïve anapple"},
        {"Straße", "straße"},
        {"ǅ", "ǆ"},
        {"a\xcc\x81 the\xcc\x81", "\xcc\x81 \xcc\x81"}, /* a combining mark ends a word */
        {"ⅫA", "ⅻa"},
        {"¹a", "¹a"},
        {"", ""},
        {" \t\n ", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *n = lp_textmetric_normalize(cases[i][0]);
        int same = strcmp(n, cases[i][1]) == 0;
        if (!same)
            fprintf(stderr, "  \"%s\" -> \"%s\", expected \"%s\"\n", cases[i][0], n, cases[i][1]);
        free(n);
        CHECK(same);
    }
    char *n = lp_textmetric_normalize(NULL);
    CHECK_STR(n, "");
    free(n);
}

TEST(textmetric_invalid_utf8_never_crashes)
{
    /* Each invalid sequence reads as U+FFFD (EF BF BD), kept as a word. */
    static const char *const cases[][2] = {
        {"\xff", "\xef\xbf\xbd"},
        {"B\xc3", "b\xef\xbf\xbd"},         /* cut short at the end */
        {"A\xc3", "\xef\xbf\xbd"},          /* U+FFFD is no word character: "a" goes */
        {"\xc3(Them", "\xef\xbf\xbd(them"}, /* missing continuation */
        {"\xe0\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},   /* overlong */
        {"\xed\xa0\x80x", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx"}, /* a surrogate */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"the \x80 an", "\xef\xbf\xbd"},
        {"\xf0\x9f\x98 x", "\xef\xbf\xbd x"},                 /* one U+FFFD for a cut 4-byte form */
        {"\xf0\x9f\x98\x80 Smile", "\xf0\x9f\x98\x80 smile"}, /* valid 4 bytes */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *n = lp_textmetric_normalize(cases[i][0]);
        /* "(" is punctuation and goes; adjust the expectation. */
        char want[64];
        size_t w = 0;
        for (const char *p = cases[i][1]; *p; p++)
            if (*p != '(') want[w++] = *p;
        want[w] = '\0';
        int same = strcmp(n, want) == 0;
        if (!same) fprintf(stderr, "  case %zu -> \"%s\"\n", i, n);
        free(n);
        CHECK(same);
    }
    double em, f1;
    lp_textmetric_squad("\xff\xfe", "\xff\xfe", LP_SQUAD_V2, &em, &f1);
    CHECK_NEAR(em, 1, 0);
    CHECK_NEAR(f1, 1, 0);
    lp_textmetric_squad(NULL, NULL, LP_SQUAD_V2, &em, &f1);
    CHECK_NEAR(em, 1, 0);
    CHECK_NEAR(f1, 1, 0);
    lp_textmetric_squad(NULL, "", LP_SQUAD_V1, &em, &f1);
    CHECK_NEAR(em, 1, 0);
    CHECK_NEAR(f1, 0, 0);
}

TEST(textmetric_max_over_golds_and_mean)
{
    double em, f1;
    const char *gold[] = {"Denver Broncos", "the Broncos", "Broncos!"};
    lp_textmetric_squad_max("broncos", gold, 3, LP_SQUAD_V1, &em, &f1);
    CHECK_NEAR(em, 1, 0);
    CHECK_NEAR(f1, 1, 0);
    const char *two[] = {"Denver Broncos", "Denver Broncos football team"};
    lp_textmetric_squad_max("Broncos team", two, 2, LP_SQUAD_V1, &em, &f1);
    CHECK_NEAR(em, 0, 0);
    CHECK_NEAR(f1, 2.0 / 3, 1e-12); /* the second: precision 2/2, recall 2/4 */
    /* v2: empty golds are dropped; none left means unanswerable. */
    const char *empty[] = {"", "The"};
    lp_textmetric_squad_max("", empty, 2, LP_SQUAD_V2, &em, &f1);
    CHECK_NEAR(em, 1, 0);
    CHECK_NEAR(f1, 1, 0);
    lp_textmetric_squad_max("Paris", empty, 2, LP_SQUAD_V2, &em, &f1);
    CHECK_NEAR(em, 0, 0);
    CHECK_NEAR(f1, 0, 0);
    const char *mixed[] = {"", "Paris"};
    lp_textmetric_squad_max("paris.", mixed, 2, LP_SQUAD_V2, &em, &f1);
    CHECK_NEAR(em, 1, 0);
    lp_textmetric_squad_max("x", NULL, 0, LP_SQUAD_V1, &em, &f1);
    CHECK_NEAR(em + f1, 0, 0);

    double v[] = {1, 0, 1, 1}, mean, se;
    CHECK_INT(lp_textmetric_mean(v, 4, &mean, &se), 0);
    CHECK_NEAR(mean, 0.75, 1e-15);
    CHECK_NEAR(se, 0.25, 1e-15); /* sd 0.5, / sqrt 4 */
    CHECK_INT(lp_textmetric_mean(v, 1, &mean, &se), 0);
    CHECK(isnan(se));
    CHECK_INT(lp_textmetric_mean(v, 0, &mean, &se), 0);
    CHECK(isnan(mean));
    double bad[] = {1, NAN};
    CHECK_INT(lp_textmetric_mean(bad, 2, &mean, &se), LP_EINVAL);
}
