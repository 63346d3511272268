/* redteam.h -- the figures and files of red-team projects (kind_redteam.c):
 * the attack success rate report and the transcript export.  Pure: the
 * API (api_redteam.c) reads the rows, this module counts. */
#ifndef LP_REDTEAM_H
#define LP_REDTEAM_H

#include <jansson.h>
#include <stddef.h>

#include "export.h"

/* One accepted annotation as the report counts it. */
typedef struct lp_redteam_row {
    const char *category; /* its harm category, else its task's suggested one, else NULL */
    const char *model;    /* the model that answered it (the transcript's), else NULL */
    int success;
} lp_redteam_row;

/* The attack success rate (the share of rows with success) overall, by
 * category and by model, each {n, succeeded, rate, low, high} with the
 * Wilson 95% interval (rate, low and high null when n is 0).  Groups are
 * sorted by name; rows without a category or model count under "(none)".
 * A new object. */
json_t *lp_redteam_report(const lp_redteam_row *rows, size_t n);

/* The model a redteam response's conversation names: that of its last
 * assistant turn that names one, or NULL (borrowed). */
const char *lp_redteam_model(const json_t *response);

/* JSONL transcripts of a redteam project (export.h). */
extern const lp_export_format lp_export_redteam;

#endif
