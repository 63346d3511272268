/* fuzz_convert.c -- libFuzzer driver for the label-format converters
 * (convert.h): the first byte picks a converter, the rest is its source as
 * one text file, read as an API body is.  The converter runs against a
 * project of the first kind it fills (labels car, person, PER, LOC...), and
 * its tasks go through the bulk import into an in-memory SQLite database,
 * in a transaction rolled back after each input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "convert.h"
#include "project.h"

static lp_db *db;
static lp_project *projects[16];

/* A project of the converter's first kind, made once. */
static lp_project *project_for(size_t i, const lp_converter *cv)
{
    if (projects[i]) return projects[i];
    char body[512];
    snprintf(body, sizeof body,
             "{\"name\": \"f\", \"kind\": \"%s\", \"params\": {\"labels\": [\"car\", \"person\", "
             "\"PER\", \"LOC\", \"ORG\", \"MISC\", \"a\", \"b\"]}}",
             cv->kinds[0]);
    json_t *b = json_loads(body, 0, NULL);
    lp_verr e;
    int64_t id;
    if (lp_project_save(db, b, 0, &id, &e) < 0 || lp_project_get(db, id, &projects[i]) < 0) {
        fprintf(stderr, "cannot make a %s project: %s: %s\n", cv->kinds[0], e.field, e.message);
        abort();
    }
    json_decref(b);
    return projects[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db) {
        char *err = NULL;
        setenv("LOUPE_SECRET", "0000000000000000000000000000000000000000000000000000000000000000",
               1);
        lp_auth_init("/nonexistent", &err);
        if (lp_db_open("sqlite::memory:", &db, &err) < 0 || lp_db_migrate(db) < 0) abort();
    }
    if (size < 1) return 0;
    const lp_converter *const *all = lp_converters();
    size_t n = 0;
    while (all[n]) n++;
    size_t pick = (size_t)(data[0] & 0x7f) % n; /* converters keep their places */
    const lp_converter *cv = all[pick];
    lp_src src = {0};
    lp_src_add_text(&src, "body", (const char *)data + 1, size - 1);
    lp_src_done(&src);
    lp_convert c = {.project = project_for(pick, cv),
                    .src = &src,
                    .results = data[0] & 0x80,
                    .image_base = "https://img.example.com/"};
    lp_import im = {0};
    lp_verr e;
    lp_db_begin(db, LP_TX_WRITE);
    lp_convert_import(db, cv, &c, &im, &e);
    lp_db_rollback(db);
    lp_convert_fini(&c);
    lp_src_fini(&src);
    return 0;
}
