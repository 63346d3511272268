/* test_export_csv.c -- the csv export: its columns per kind, and values with
 * commas, quotes, line breaks and non-ASCII text read back unchanged by
 * the project's own CSV reader (csvfile.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "csvfile.h"
#include "export.h"
#include "test.h"

/* The csv export of the n tasks (JSON texts) of a project of kind with
 * params (JSON text), as a new string. */
static char *export_csv(const char *kind, const char *params, const char *const *tasks, size_t n)
{
    const lp_export_format *f = lp_export_find("csv");
    json_t *p = json_loads(params, 0, NULL);
    lp_export_ctx cx = {.kind = kind, .params = p};
    lp_buf out = {0};
    if (f->begin) f->begin(&cx, &out);
    for (size_t i = 0; i < n; i++) f->task(&cx, &out, i, tasks[i], strlen(tasks[i]));
    if (f->end) f->end(&cx, &out, n);
    if (f->free_state) f->free_state(&cx);
    json_decref(p);
    lp_buf_puts(&out, "");
    return out.data;
}

/* Parses text with lp_csv into rows: rows[r][c], at most 8 rows of 16
 * fields, copied; returns the number of rows, or -1 on a parse error.
 * ncols[r] receives each row's field count. */
static int parse_back(const char *text, char *rows[8][16], size_t ncols[8])
{
    char path[300];
    snprintf(path, sizeof path, "%s/out.csv", lp_test_tmpdir());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    lp_csv *c;
    char *err = NULL;
    if (lp_csv_open(path, &c, &err)) {
        free(err);
        return -1;
    }
    const char *const *fields;
    size_t n;
    int r = 0, rc;
    while ((rc = lp_csv_next(c, &fields, &n)) == 1 && r < 8) {
        ncols[r] = n;
        for (size_t i = 0; i < n && i < 16; i++) rows[r][i] = lp_strdup(fields[i]);
        r++;
    }
    lp_csv_close(c);
    return rc < 0 ? -1 : r;
}

static void free_rows(char *rows[8][16], const size_t ncols[8], int nrows)
{
    for (int r = 0; r < nrows; r++)
        for (size_t i = 0; i < ncols[r] && i < 16; i++) free(rows[r][i]);
}

TEST(export_csv_categorization_columns_and_round_trip)
{
    const char *tasks[] = {
        "{\"id\": 7, \"unique_id\": \"a,1\", \"status\": \"completed\", \"data\": {\"text\": "
        "\"Line one\\nsaid \\\"hi\\\", Zoë 😀\"}, \"result\": {\"response\": {\"labels\": "
        "[\"neg, bad\", \"ünï\"]}, \"confidence\": 0.6666666666666666, \"method\": \"majority\"}}",
        "{\"id\": 8, \"unique_id\": null, \"status\": \"pending\", \"data\": {\"prompt\": "
        "\"only a prompt\"}}",
        "{\"id\": 9, \"status\": \"completed\", \"data\": {}, \"result\": {\"response\": "
        "{\"labels\": [\"pos\"]}, \"confidence\": 1, \"method\": \"dawid_skene\"}}",
    };
    char *text = export_csv("categorization", "{\"labels\": [{\"name\": \"pos\"}]}", tasks, 3);
    /* Every field quoted, CRLF record ends, quotes doubled. */
    const char *head = "\"task_id\",\"unique_id\",\"status\",\"label\",\"confidence\","
                       "\"method\",\"input_text\"\r\n\"7\",\"a,1\",";
    CHECK(strncmp(text, head, strlen(head)) == 0);
    CHECK(strstr(text, "\"Line one\nsaid \"\"hi\"\", Zoë 😀\"") != NULL);
    char *rows[8][16];
    size_t ncols[8];
    int n = parse_back(text, rows, ncols);
    free(text);
    CHECK_INT(n, 4);
    for (int r = 0; r < n; r++) CHECK_INT(ncols[r], 7);
    CHECK_STR(rows[0][3], "label");
    CHECK_STR(rows[0][6], "input_text");
    CHECK_STR(rows[1][0], "7");
    CHECK_STR(rows[1][1], "a,1");
    CHECK_STR(rows[1][2], "completed");
    CHECK_STR(rows[1][3], "neg, bad|ünï");
    CHECK_STR(rows[1][4], "0.6666666666666666");
    CHECK_STR(rows[1][5], "majority");
    CHECK_STR(rows[1][6], "Line one\nsaid \"hi\", Zoë 😀");
    /* No result: empty answer, confidence and method; the prompt as text. */
    CHECK_STR(rows[2][1], "");
    CHECK_STR(rows[2][3], "");
    CHECK_STR(rows[2][4], "");
    CHECK_STR(rows[2][5], "");
    CHECK_STR(rows[2][6], "only a prompt");
    CHECK_STR(rows[3][3], "pos");
    CHECK_STR(rows[3][4], "1");
    CHECK_STR(rows[3][6], "");
    free_rows(rows, ncols, n);
}

TEST(export_csv_rating_one_column_per_criterion_in_params_order)
{
    const char *params = "{\"criteria\": [{\"name\": \"helpfulness\"}, {\"name\": \"harm, "
                         "less\", \"min\": 0, \"max\": 1, \"step\": 0.1}]}";
    const char *tasks[] = {
        "{\"id\": 1, \"status\": \"completed\", \"data\": {\"prompt\": \"Boil an egg?\"}, "
        "\"result\": {\"response\": {\"ratings\": {\"harm, less\": 0.3, \"helpfulness\": 4}, "
        "\"comment\": \"ok\\r\\nfine\"}, \"confidence\": 0.5, \"method\": \"majority\"}}",
        "{\"id\": 2, \"status\": \"completed\", \"data\": {}, \"result\": {\"response\": "
        "{\"ratings\": {\"helpfulness\": 2}}, \"confidence\": 1, \"method\": \"majority\"}}",
    };
    char *text = export_csv("rating", params, tasks, 2);
    char *rows[8][16];
    size_t ncols[8];
    int n = parse_back(text, rows, ncols);
    free(text);
    CHECK_INT(n, 3);
    CHECK_INT(ncols[0], 9);
    const char *head[] = {"task_id", "unique_id",  "status", "helpfulness", "harm, less",
                          "comment", "confidence", "method", "input_text"};
    for (int i = 0; i < 9; i++) CHECK_STR(rows[0][i], head[i]);
    CHECK_STR(rows[1][3], "4");
    CHECK_STR(rows[1][4], "0.3");
    CHECK_STR(rows[1][5], "ok\r\nfine");
    CHECK_STR(rows[1][8], "Boil an egg?");
    /* A criterion left out and no comment are empty. */
    CHECK_STR(rows[2][3], "2");
    CHECK_STR(rows[2][4], "");
    CHECK_STR(rows[2][5], "");
    free_rows(rows, ncols, n);
}

TEST(export_csv_textcollection_text_or_fields)
{
    const char *one[] = {
        "{\"id\": 3, \"status\": \"completed\", \"data\": {\"text\": \"in\"}, \"result\": "
        "{\"response\": {\"text\": \"out, \\\"quoted\\\"\\n\"}, \"confidence\": 1, "
        "\"method\": \"medoid\"}}",
    };
    char *text = export_csv("textcollection", "{\"fields\": []}", one, 1);
    char *rows[8][16];
    size_t ncols[8];
    int n = parse_back(text, rows, ncols);
    free(text);
    CHECK_INT(n, 2);
    CHECK_INT(ncols[0], 7);
    CHECK_STR(rows[0][3], "text");
    CHECK_STR(rows[1][3], "out, \"quoted\"\n");
    CHECK_STR(rows[1][6], "in");
    free_rows(rows, ncols, n);

    const char *two[] = {
        "{\"id\": 4, \"status\": \"completed\", \"data\": {}, \"result\": {\"response\": "
        "{\"fields\": {\"answer\": \"Ja, größer\", \"instruction\": \"Say\"}}, \"confidence\": "
        "0.25, \"method\": \"medoid\"}}",
    };
    text = export_csv("textcollection",
                      "{\"fields\": [{\"name\": \"instruction\"}, {\"name\": \"answer\"}, "
                      "{\"name\": \"source\"}]}",
                      two, 1);
    n = parse_back(text, rows, ncols);
    free(text);
    CHECK_INT(n, 2);
    CHECK_INT(ncols[0], 9);
    CHECK_STR(rows[0][3], "instruction");
    CHECK_STR(rows[0][4], "answer");
    CHECK_STR(rows[0][5], "source");
    CHECK_STR(rows[1][3], "Say");
    CHECK_STR(rows[1][4], "Ja, größer");
    CHECK_STR(rows[1][5], "");
    CHECK_STR(rows[1][6], "0.25");
    free_rows(rows, ncols, n);
}

TEST(export_csv_exports_only_its_kinds)
{
    const lp_export_format *f = lp_export_find("csv");
    CHECK(f != NULL);
    CHECK(lp_export_fits(f, "categorization"));
    CHECK(lp_export_fits(f, "rating"));
    CHECK(lp_export_fits(f, "textcollection"));
    CHECK(!lp_export_fits(f, "namedentityrecognition"));
    CHECK(!lp_export_fits(f, "imageannotation"));
}
