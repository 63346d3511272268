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

/* Steps in C of some migrations (migrate.c): fn runs on the database
 * after the SQL of version, in its transaction. */
struct lp_db;
typedef struct lp_migration_step {
    int version;
    int (*fn)(struct lp_db *db);
} lp_migration_step;
extern const lp_migration_step lp_migration_steps[];
extern const size_t lp_migration_step_count;

#endif
