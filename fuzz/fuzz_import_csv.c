/* fuzz_import_csv.c -- libFuzzer driver for the CSV task import: the
 * framing pass (libcsv through csvfile.c), the header and the column
 * mapping, each row's task body, validation and the INSERT, through
 * lp_import_run against an in-memory SQLite database.  An input whose
 * first line starts "columns=" gives the mapping in the rest of that line.
 * Each input runs in a transaction that is rolled back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "import.h"
#include "project.h"

static lp_db *db;
static lp_project *project;

static void setup(void)
{
    char *err = NULL;
    setenv("LOUPE_SECRET", "0000000000000000000000000000000000000000000000000000000000000000", 1);
    lp_auth_init("/nonexistent", &err);
    if (lp_db_open("sqlite::memory:", &db, &err) < 0 || lp_db_migrate(db) < 0) abort();
    json_t *b = json_loads(
        "{\"name\": \"c\", \"kind\": \"categorization\", \"params\": {\"labels\": [\"a\", \"b\"]}}",
        0, NULL);
    lp_verr e;
    int64_t id;
    if (lp_project_save(db, b, 0, &id, &e) < 0 || lp_project_get(db, id, &project) < 0) abort();
    json_decref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db) setup();
    const char *s = (const char *)data;
    char *columns = NULL;
    if (size > 8 && !memcmp(s, "columns=", 8)) {
        const char *nl = memchr(s, '\n', size);
        size_t len = nl ? (size_t)(nl - s) : size;
        columns = strndup(s + 8, len - 8);
        s += nl ? len + 1 : len;
        size -= nl ? len + 1 : len;
    }
    lp_import im = {.format = LP_IMPORT_CSV, .body = s, .len = size, .columns = columns};
    lp_verr e;
    lp_db_begin(db, LP_TX_WRITE);
    lp_import_run(db, project, &im, &e);
    lp_db_rollback(db);
    free(columns);
    return 0;
}
