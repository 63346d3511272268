/* kind.c -- the registry of annotation kinds.
 *
 * Every kind Loupe knows is one lp_kind table defined in its own kind_NAME.c
 * and listed once below; the list's order is the order the docs and the UI
 * show.  Nothing else in Loupe names a kind's table directly: it looks the
 * kind up here by the name a project stores. */
#include "kind.h"

#include <string.h>

static const lp_kind *const kinds[] = {
    &lp_kind_categorization, &lp_kind_imageannotation, &lp_kind_namedentityrecognition,
    &lp_kind_transcription,  &lp_kind_comparison,      &lp_kind_ranking,
    &lp_kind_rating,         &lp_kind_textcollection,
};

/* Returns the kind called name, or NULL when there is none (or name is
 * NULL). */
const lp_kind *lp_kind_find(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i]->name, name) == 0) return kinds[i];
    return NULL;
}

/* Returns the registry, a static array the caller must not change, and its
 * length in *n. */
const lp_kind *const *lp_kind_all(size_t *n)
{
    *n = sizeof kinds / sizeof kinds[0];
    return kinds;
}
