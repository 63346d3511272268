/* answers.h -- crowd answers read from CSV into dense ids, for the quality
 * engine's command line (`loupe aggregate`, `loupe agreement`) and its
 * benchmark.
 *
 * A file of answers is rows of item,worker,label.  A first row that names
 * its columns (item/task/unit/id, worker/annotator/user/coder/rater/
 * observer, label/answer/response/value) may list them in any order among
 * other columns; without one the first three columns are item, worker,
 * label.  A reliability matrix (a header naming the coder column and then
 * the units, a row per coder, '*', 'NA' or an empty cell for a missing
 * value) is read into the same rows.  Names become ids 0, 1, ... in the
 * order first seen.  Every error names the file's line. */
#ifndef LP_ANSWERS_H
#define LP_ANSWERS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Strings to dense ids, in first-seen order (a jansson object is the hash
 * table). */
typedef struct lp_dict {
    json_t *index;
    char **v; /* v[id] is the name */
    size_t n, cap;
} lp_dict;

/* The id of s, added if new. */
uint32_t lp_dict_add(lp_dict *d, const char *s);
/* The id of s, or -1. */
int64_t lp_dict_find(const lp_dict *d, const char *s);
void lp_dict_fini(lp_dict *d);

typedef struct lp_answers {
    lp_dict items, workers, labels;
    size_t n, cap;
    uint32_t *item, *worker, *label; /* n rows */
    double *value;                   /* the label as a number; NAN when it is not one */
    long *line;                      /* the line each row came from */
    int sets;                        /* set before loading: each row is one label of a set; an
                                        empty label means the worker answered with none */
} lp_answers;

/* Appends a row. */
void lp_answers_add(lp_answers *a, uint32_t item, uint32_t worker, const char *label, long line);
/* Reads rows of item,worker,label from path ("-": standard input) into a.
 * 0, or LP_EINVAL / LP_EIO with *err (malloc'd) naming the file and line. */
int lp_answers_load(const char *path, lp_answers *a, char **err);
/* Reads a reliability matrix (see above) into a. */
int lp_answers_load_matrix(const char *path, lp_answers *a, char **err);
/* 1 when path's first row is a reliability matrix's header: its first
 * column names the coders and no column names an item or a label. */
int lp_answers_is_matrix(const char *path);
/* Reads rows of item,truth: for each item of a, truth[item] (if truth is
 * not NULL) receives the truth's label id, added to a->labels so a class no
 * worker chose still counts, and value[item] (if value is not NULL) the
 * truth as a number, an error if it is not one.  Items no one answered are
 * skipped.  The caller fills both with "unknown" (-1, NAN) first. */
int lp_answers_load_truth(const char *path, lp_answers *a, int32_t *truth, double *value,
                          char **err);
/* Multi-label truth: rows of item,truth, one per label an item has (an
 * empty truth: it has none).  known[item] is 1 for each item of a the
 * file mentions; (item[k], label[k]) are its labels, ids in a->labels. */
typedef struct lp_truth_sets {
    lp_answers *a;
    size_t n, cap;
    uint32_t *item, *label;
    uint8_t *known;
} lp_truth_sets;
int lp_answers_load_truth_sets(const char *path, lp_answers *a, lp_truth_sets *t, char **err);
void lp_truth_sets_fini(lp_truth_sets *t);
void lp_answers_fini(lp_answers *a);

/* Parses a whole number or decimal (surrounding blanks allowed) into *out;
 * -1 if s is anything else or not finite. */
int lp_parse_number(const char *s, double *out);

#endif
