/* agg_num.h -- aggregation of numeric answers (ratings, scores): one
 * estimate per item from several workers' numbers.
 *
 * Pure: arrays in, results out, no I/O.  The simple methods (mean, median,
 * trimmed mean) look at one item at a time; the calibrated model learns
 * each worker's offset, scale and noise from all items at once. */
#ifndef LP_AGG_NUM_H
#define LP_AGG_NUM_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    LP_NUM_MEAN,       /* "mean" */
    LP_NUM_MEDIAN,     /* "median": the middle answer, the mean of the two middle ones */
    LP_NUM_TRIMMED,    /* "trimmed": the mean after cutting a fraction at each end */
    LP_NUM_CALIBRATED, /* "calibrated": answer = bias_w + scale_w * truth + noise_w */
    LP_NUM_NMETHODS
} lp_num_method;

/* The trimmed mean's default fraction cut from each end. */
#define LP_NUM_TRIM_DEFAULT 0.2

/* Parses a method's name; LP_EINVAL if s names none. */
int lp_num_method_parse(const char *s, lp_num_method *out);
/* The name lp_num_method_parse accepts for m, or "?" if unknown. */
const char *lp_num_method_name(lp_num_method m);

/* n answers: worker[r] answered value[r] for item[r]. */
typedef struct lp_num_data {
    size_t n;
    const uint32_t *item, *worker;
    const double *value;
    size_t n_items, n_workers;
    /* LP_NUM_TRIMMED: the fraction cut from each end, in [0, 0.5); 0 means
     * LP_NUM_TRIM_DEFAULT (use LP_NUM_MEAN for no trimming).  Of k answers,
     * floor(trim * k) are cut at each end. */
    double trim;
} lp_num_data;

/* The estimates; lp_agg_numeric allocates the arrays (lp_malloc) and
 * lp_num_result_fini frees them. */
typedef struct lp_num_result {
    double *estimate; /* n_items; NAN for an item with no answers */
    /* n_items: the estimate's standard error; NAN with fewer than two
     * answers (one for the calibrated model, whose noise is pooled). */
    double *stderr_;
    /* n_workers, LP_NUM_CALIBRATED only (NULL otherwise): the worker's
     * answer is bias + scale * truth + noise with noise sd `noise`; a
     * worker with no answers keeps the prior bias 0, scale 1 and the pooled
     * noise sd. */
    double *bias, *scale, *noise;
    int iterations; /* sweeps of the calibrated model; 0 for the others */
} lp_num_result;

/* Aggregates d with method m into *out, which the caller releases with
 * lp_num_result_fini (also after a failure, when it holds nothing).
 * Returns LP_EINVAL for an unknown method, an item or worker out of range,
 * a NaN or infinite value, or a trim outside [0, 0.5). */
int lp_agg_numeric(lp_num_method m, const lp_num_data *d, lp_num_result *out);

void lp_num_result_fini(lp_num_result *r);

#endif
