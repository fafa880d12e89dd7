/*
 * profile.h — reference statistics of a dataset for drift detection (floor 2): per numeric
 * input its count, missing rate, mean, std, min, max, decile edges with counts, a seeded
 * uniform sample of up to PROFILE_SAMPLE values and its distinct values with counts (exact
 * up to PROFILE_DISTINCT of them); per categorical input its frequency table; optionally
 * the distribution of predictions and the validation metrics. Serialised as
 * reference/profile.yaml (profile_version 2; version 1, without samples, distinct values
 * or metrics, still loads). A profile of new data is built by streaming rows into the
 * reference's bins, so memory does not grow with the number of rows; profiles of batches
 * binned alike merge into the profile of their union.
 */
#ifndef MLCTL_PROFILE_H
#define MLCTL_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "dataset.h"
#include "schema.h"

typedef struct mlctl_profile mlctl_profile;

/* Bounds of the per-input sample (reservoir) and of the exact list of distinct values. */
#define PROFILE_SAMPLE 5000
#define PROFILE_DISTINCT 1000

/* The reference profile of rows[0..n) of t (all rows when rows is NULL) for the schema's
 * input columns: decile edges from the data itself. */
int profile_from_table(mlctl_profile **out, const ds_table *t, const mlctl_schema *s,
		       const size_t *rows, size_t n);

/* A profile of new data binned on a reference's edges and categories, fed one record at a
 * time through a schema binding of the same reader. Neither the reference's percentiles
 * nor its metrics are copied. */
int profile_new_like(mlctl_profile **out, const mlctl_profile *reference);
int profile_add_record(mlctl_profile *p, const mlctl_schema *s, const ds_reader *r,
		       const ds_record *rec);

/*
 * One row given value by value, schema_ninputs(s) cells in input order as lib/infer.h's
 * requests hold them (schema_cell: text, a number, or missing when text is NULL or a
 * missing marker and has_num is false), counted as profile_add_record counts a CSV row:
 * a text cell of a numeric input is parsed as a number, a number for a categorical input
 * is looked up by its shortest text. A text that is not a number for a numeric input, or a
 * number that is not finite, is MLCTL_EDATA naming the column; the cells are checked
 * before anything is counted, so a refused row leaves p as it was. MLCTL_EUSAGE when s
 * has another number of inputs than p.
 */
int profile_add_cells(mlctl_profile *p, const mlctl_schema *s, const schema_cell *cells);

/*
 * Add other into into: both must be binned alike (the same inputs in the same order with
 * the same types, decile edges and categories, and the same kind of predictions with the
 * same classes or edges), else MLCTL_EUSAGE naming what differs and into is unchanged.
 * Rows, counts, missing and unseen add; mean and std combine exactly (Chan et al.), min
 * and max too; bins, category and prediction counts add. Distinct values are the union
 * with counts added (capped when either side is, or when the union exceeds
 * PROFILE_DISTINCT). The samples merge into a uniform sample of the union, of
 * min(PROFILE_SAMPLE, count) values: the number drawn from each side follows the sides'
 * counts of values (a hypergeometric draw, as if the union had been sampled at once),
 * seeded from the input and the counts, so the same merge gives the same sample. An input
 * without a sample on either side (a version-1 profile) has none after the merge. into's
 * percentiles are dropped (they described its own data only) and its metrics kept; its
 * version becomes the lower of the two. On MLCTL_ENOMEM into is partly merged: free it.
 */
int profile_merge(mlctl_profile *into, const mlctl_profile *other);

/*
 * Append the rows of batch after into's, as if they had been added to into one by one in
 * their order: batch is a profile_new_like() profile of the same reference (binned alike,
 * else MLCTL_EUSAGE) that was fed at most PROFILE_SAMPLE values of each numeric input, so
 * that its sample holds all of them in order (else MLCTL_EUSAGE). into's reservoirs go on
 * over those values as algorithm R would have, so the sample is the one a single pass
 * gives; counts, bins, missing, unseen, min and max add, distinct values are the union,
 * and mean and std combine by Chan et al. (equal to one pass up to rounding). This is how
 * batches profiled on several threads make, in input order, the profile of one pass.
 * On MLCTL_ENOMEM into is partly appended: free it.
 */
int profile_append(mlctl_profile *into, const mlctl_profile *batch);

/*
 * A batch profile (for profile_append): profile_new_like() that counts the distinct values
 * of its numeric inputs in a hash table rather than a sorted list (no binary search a
 * value), and sorts them into the list when profile_batch_finish() is called, which must
 * come before it is appended, read or saved. Its first PROFILE_SAMPLE values of each input
 * are only stored as they come and counted, column by column, by profile_batch_finish().
 */
int profile_new_batch(mlctl_profile **out, const mlctl_profile *reference);
int profile_batch_finish(mlctl_profile *p);

/* Empty p again (no rows), binned as before, keeping its buffers: a batch profile for the
 * next batch. With into (the profile it will be appended to, may be NULL), the distinct
 * values of inputs into already has too many of are not counted: the append gives the
 * same result with or without them. */
void profile_reset(mlctl_profile *p, const mlctl_profile *into);

/* The format a profile was read from: 1 for files from before samples and metrics, 2
 * otherwise (and for every profile built or merged from version-2 ones). */
int profile_version(const mlctl_profile *p);

/*
 * Validation metrics carried by a reference (names without train's holdout_/train_
 * prefix: accuracy, f1_macro, rmse ...). profile_set_metrics replaces them with copies of
 * names[0..n) and values[0..n); profile_set_metrics_source says what they were computed
 * on ("holdout" or "train-sample"; NULL clears it). The getters return borrowed pointers;
 * profile_metrics_source is NULL when unknown (and for a version-1 profile).
 */
int profile_set_metrics(mlctl_profile *p, const char *const *names, const double *values, size_t n);
int profile_set_metrics_source(mlctl_profile *p, const char *source);
size_t profile_nmetrics(const mlctl_profile *p);
const char *profile_metric_name(const mlctl_profile *p, size_t i);
double profile_metric_value(const mlctl_profile *p, size_t i);
const char *profile_metrics_source(const mlctl_profile *p);

/* Record predictions (class values or regression outputs) into the profile's prediction
 * distribution: classes by name, regression on deciles of the reference's predictions. */
int profile_add_predictions(mlctl_profile *p, const mlctl_schema *s, const double *pred, size_t n);

size_t profile_rows(const mlctl_profile *p);

/* Reading a profile (for monitor): the statistics of input i, borrowed from p. For a
 * numeric input, count is the present values, std the population std, edges the 9 inner
 * decile edges (type-7) and bins[0..nedges] the counts, value v in bin "number of edges
 * <= v"; percentiles (0..100, reference profiles only) for KS/Wasserstein estimates.
 * For a categorical one, counts per training category ("<missing>" is one when training
 * saw missing values), unseen = values not in the vocabulary.
 *
 * has_sample (numeric inputs of a version-2 profile; false for categorical inputs and for
 * a profile loaded from version 1): sample[0..nsample) is a uniform sample of the present
 * values, all of them (in row order) when count <= PROFILE_SAMPLE, else a reservoir
 * (algorithm R on splitmix64, seeded per input) of PROFILE_SAMPLE, so the same rows in the
 * same order give the same sample; distinct_values[0..ndistinct) are the distinct present
 * values ascending with their exact counts. When there were more than PROFILE_DISTINCT
 * distinct values, distinct_capped is true and the list is dropped (ndistinct 0, the
 * pointers NULL): all that is known is that there are more than PROFILE_DISTINCT. */
typedef struct profile_stats {
	const char *name;
	bool categorical;
	size_t count, missing, unseen;
	double mean, std, min, max;         /* NaN when count is 0 */
	size_t nedges;
	const double *edges;
	const size_t *bins;                 /* nedges + 1 counts */
	size_t npercentiles;
	const double *percentiles;
	size_t ncategories;
	const char *const *categories;
	const size_t *category_counts;
	bool has_sample;
	size_t nsample;
	const double *sample;
	size_t ndistinct;
	const double *distinct_values;      /* ascending */
	const size_t *distinct_counts;
	bool distinct_capped;
} profile_stats;
size_t profile_ninputs(const mlctl_profile *p);
bool profile_input(const mlctl_profile *p, size_t i, profile_stats *out);

/* Prediction distribution: classes (one-class: "-1" and "1") with counts and the count of
 * values that were no known class, or regression values as a numeric summary on the
 * reference's decile edges (a reference takes its edges from its first batch), with a
 * sample and distinct values as an input has. False when there were no predictions. */
typedef struct profile_pred {
	size_t count;
	bool is_classes;
	size_t nclasses;
	const char *const *class_names;
	const size_t *class_counts;
	size_t other;
	profile_stats values;
} profile_pred;
bool profile_predictions(const mlctl_profile *p, profile_pred *out);

int profile_save(char **out, size_t *len, const mlctl_profile *p);
int profile_load(mlctl_profile **out, const char *yaml, size_t len, const char *origin);
void profile_free(mlctl_profile *p);

#endif
