/* test_export_conll.c -- the conll export: four CoNLL-2003 columns, IOB2
 * tags from the result's spans, the cases converters get wrong (adjacent
 * entities of one label, overlapping spans, spans cutting a token,
 * non-ASCII text, empty results). */
#include <jansson.h>
#include <stdlib.h>

#include "export.h"
#include "test.h"

/* The conll export of one task with text (a JSON string literal) and
 * result response (JSON text, NULL: no result), as a new string. */
static char *export_one(const char *text, const char *response)
{
    const lp_export_format *f = lp_export_find("conll");
    lp_export_ctx cx = {.kind = "namedentityrecognition", .params = NULL};
    char *task = response ? lp_sprintf("{\"id\": 1, \"data\": {\"text\": %s}, \"result\": "
                                       "{\"response\": %s, \"confidence\": 1, \"method\": \"m\"}}",
                                       text, response)
                          : lp_sprintf("{\"id\": 1, \"data\": {\"text\": %s}}", text);
    lp_buf out = {0};
    lp_buf_puts(&out, "");
    if (f->begin) f->begin(&cx, &out);
    f->task(&cx, &out, 0, task, strlen(task));
    if (f->end) f->end(&cx, &out, 1);
    free(task);
    return out.data;
}

#define DOC "-DOCSTART- -X- -X- O\n\n"

TEST(export_conll_columns_and_non_ascii)
{
    char *got = export_one("\"Zoë lives in Zürich, 😀 Ünïcode.\"",
                           "{\"spans\": [{\"start\": 0, \"end\": 3, \"label\": \"PER\"}, "
                           "{\"start\": 13, \"end\": 19, \"label\": \"LOC\"}, "
                           "{\"start\": 23, \"end\": 30, \"label\": \"MISC\"}]}");
    CHECK_STR(got, DOC "Zoë -X- -X- B-PER\n"
                       "lives -X- -X- O\n"
                       "in -X- -X- O\n"
                       "Zürich -X- -X- B-LOC\n"
                       ", -X- -X- O\n"
                       "😀 -X- -X- O\n"
                       "Ünïcode -X- -X- B-MISC\n"
                       ". -X- -X- O\n"
                       "\n");
    free(got);
}

TEST(export_conll_adjacent_entities_of_one_label_start_with_b)
{
    /* "New York Boston": two LOC entities side by side, and a two-token
     * one continuing with I-. */
    char *got = export_one("\"New York Boston\"",
                           "{\"spans\": [{\"start\": 9, \"end\": 15, \"label\": \"LOC\"}, "
                           "{\"start\": 0, \"end\": 8, \"label\": \"LOC\"}]}");
    CHECK_STR(got, DOC "New -X- -X- B-LOC\n"
                       "York -X- -X- I-LOC\n"
                       "Boston -X- -X- B-LOC\n"
                       "\n");
    free(got);
}

TEST(export_conll_overlapping_spans_keep_the_first_longest)
{
    /* ORG covers all three words, PER the last two (overlap), LOC the
     * first one (nested, same start but shorter): ORG alone is kept; the
     * MISC after it is kept. */
    char *got = export_one("\"Bank of Paris opened\"",
                           "{\"spans\": [{\"start\": 5, \"end\": 13, \"label\": \"PER\"}, "
                           "{\"start\": 0, \"end\": 4, \"label\": \"LOC\"}, "
                           "{\"start\": 0, \"end\": 13, \"label\": \"ORG\"}, "
                           "{\"start\": 14, \"end\": 20, \"label\": \"MISC\"}]}");
    CHECK_STR(got, DOC "Bank -X- -X- B-ORG\n"
                       "of -X- -X- I-ORG\n"
                       "Paris -X- -X- I-ORG\n"
                       "opened -X- -X- B-MISC\n"
                       "\n");
    free(got);
    /* Overlap that starts later: the earlier span wins whatever its
     * length. */
    got = export_one("\"a b c d\"", "{\"spans\": [{\"start\": 2, \"end\": 7, \"label\": \"Y\"}, "
                                    "{\"start\": 0, \"end\": 3, \"label\": \"X\"}]}");
    CHECK_STR(got, DOC "a -X- -X- B-X\nb -X- -X- I-X\nc -X- -X- O\nd -X- -X- O\n\n");
    free(got);
}

TEST(export_conll_span_inside_a_token_takes_the_whole_token)
{
    /* "Zürich-based": Zürich, -, based.  A span from inside "Zürich" to
     * inside "based" touches all three; one of white space touches none;
     * one from inside "ab" to its end takes "ab". */
    char *got = export_one("\"x Zürich-based  ab\"",
                           "{\"spans\": [{\"start\": 4, \"end\": 10, \"label\": \"LOC\"}, "
                           "{\"start\": 14, \"end\": 16, \"label\": \"SP\"}, "
                           "{\"start\": 17, \"end\": 18, \"label\": \"E\"}]}");
    CHECK_STR(got, DOC "x -X- -X- O\n"
                       "Zürich -X- -X- B-LOC\n"
                       "- -X- -X- I-LOC\n"
                       "based -X- -X- I-LOC\n"
                       "ab -X- -X- B-E\n"
                       "\n");
    free(got);
}

TEST(export_conll_empty_results_and_labels_with_spaces)
{
    /* No spans: all O.  No result: nothing.  No tokens: the document line
     * alone.  A label's space becomes '_'. */
    char *got = export_one("\"Nothing here\"", "{\"spans\": []}");
    CHECK_STR(got, DOC "Nothing -X- -X- O\nhere -X- -X- O\n\n");
    free(got);
    got = export_one("\"Nothing here\"", NULL);
    CHECK_STR(got, "");
    free(got);
    got = export_one("\"  \"", "{\"spans\": []}");
    CHECK_STR(got, DOC);
    free(got);
    got = export_one("\"Acme Corp\"", "{\"spans\": [{\"start\": 0, \"end\": 9, \"label\": \"BIG "
                                      "ORG\"}]}");
    CHECK_STR(got, DOC "Acme -X- -X- B-BIG_ORG\nCorp -X- -X- I-BIG_ORG\n\n");
    free(got);
}

TEST(export_conll_exports_only_ner)
{
    const lp_export_format *f = lp_export_find("conll");
    CHECK(f != NULL);
    CHECK(lp_export_fits(f, "namedentityrecognition"));
    CHECK(!lp_export_fits(f, "categorization"));
}
