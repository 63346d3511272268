/* fuzz_bulk.c -- libFuzzer driver for the bulk task import path: framing
 * (JSON array or NDJSON), per-row parsing, task validation through the
 * kind, and the INSERT, against an in-memory SQLite database.  Each input
 * runs in a transaction that is rolled back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "auth.h"
#include "http.h"
#include "project.h"
#include "tasks.h"

static lp_db *db;
static lp_project *projects[2];

static void setup(void)
{
    char *err = NULL;
    setenv("LOUPE_SECRET", "0000000000000000000000000000000000000000000000000000000000000000", 1);
    lp_auth_init("/nonexistent", &err);
    if (lp_db_open("sqlite::memory:", &db, &err) < 0 || lp_db_migrate(db) < 0) abort();
    const char *defs[] = {
        "{\"name\": \"c\", \"kind\": \"categorization\", \"params\": {\"labels\": [\"a\", \"b\"]}}",
        "{\"name\": \"i\", \"kind\": \"imageannotation\", \"params\": {\"labels\": [\"car\"]}}",
    };
    for (int i = 0; i < 2; i++) {
        json_t *b = json_loads(defs[i], 0, NULL);
        lp_verr e;
        int64_t id;
        if (lp_project_save(db, b, 0, &id, &e) < 0 || lp_project_get(db, id, &projects[i]) < 0)
            abort();
        json_decref(b);
    }
    json_t *b = json_pack("{s:s}", "name", "b1");
    lp_verr e;
    int64_t bid;
    lp_batch_create(db, projects[0]->id, b, &bid, &e);
    json_decref(b);
}

static int row(void *arg, size_t index, const char *s, size_t n)
{
    (void)index;
    lp_task_writer *w = arg;
    json_t *t;
    lp_verr e;
    if (lp_json_parse(s, n, "", &t, &e) < 0) return 0;
    int64_t id;
    lp_task_writer_add(w, t, &id, &e);
    json_decref(t);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db) setup();
    lp_verr e;
    lp_task_writer w;
    lp_task_writer_init(&w, db, projects[size % 2]);
    lp_db_begin(db, LP_TX_WRITE);
    lp_json_split((const char *)data, size, row, &w, &e);
    lp_task_writer_flush(&w);
    lp_db_rollback(db);
    lp_task_writer_fini(&w);
    return 0;
}
