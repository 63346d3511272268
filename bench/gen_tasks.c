/* gen_tasks.c -- writes the NDJSON body of a bulk task import.
 *
 * Measures nothing: `gen_tasks FIRST COUNT` prints COUNT tasks (rows FIRST
 * .. FIRST+COUNT-1 of taskgen.h), one JSON object a line, ready for
 * POST /v1/projects/{id}/tasks with curl --data-binary @file. */
#include <stdio.h>
#include <stdlib.h>

#include "taskgen.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_tasks FIRST COUNT > tasks.ndjson\n");
        return 2;
    }
    unsigned long long first = strtoull(argv[1], NULL, 10), count = strtoull(argv[2], NULL, 10);
    static char buf[1 << 20];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    taskgen_row r;
    for (unsigned long long i = first; i < first + count; i++) {
        taskgen_make(i, &r);
        printf("{\"unique_id\":\"%s\",\"attachments\":%s,\"metadata\":%s,\"tags\":%s}\n",
               r.unique_id, r.attachments, r.metadata, r.tags);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
