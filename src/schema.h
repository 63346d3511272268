/* schema.h -- the versioned list of schema migrations (applied by db.c). */
#ifndef LP_SCHEMA_H
#define LP_SCHEMA_H

#include <stddef.h>

typedef struct lp_migration {
    int version;
    const char *sql; /* may use the {id} and {blob} tokens, see db.h */
} lp_migration;

extern const lp_migration lp_migrations[];
extern const size_t lp_migration_count;

#endif
