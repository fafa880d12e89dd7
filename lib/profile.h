/*
 * profile.h — reference statistics of a dataset for drift detection (floor 2): per numeric
 * input its count, missing rate, mean, std, min, max, decile edges with counts; per
 * categorical input its frequency table; optionally the distribution of predictions.
 * Serialised as reference/profile.yaml. A profile of new data is built by streaming rows
 * into the reference's bins, so memory does not grow with the number of rows.
 */
#ifndef MLCTL_PROFILE_H
#define MLCTL_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "dataset.h"
#include "schema.h"

typedef struct mlctl_profile mlctl_profile;

/* The reference profile of rows[0..n) of t (all rows when rows is NULL) for the schema's
 * input columns: decile edges from the data itself. */
int profile_from_table(mlctl_profile **out, const ds_table *t, const mlctl_schema *s,
		       const size_t *rows, size_t n);

/* A profile of new data binned on a reference's edges and categories, fed one record at a
 * time through a schema binding of the same reader. */
int profile_new_like(mlctl_profile **out, const mlctl_profile *reference);
int profile_add_record(mlctl_profile *p, const mlctl_schema *s, const ds_reader *r,
		       const ds_record *rec);

/* Record predictions (class values or regression outputs) into the profile's prediction
 * distribution: classes by name, regression on deciles of the reference's predictions. */
int profile_add_predictions(mlctl_profile *p, const mlctl_schema *s, const double *pred, size_t n);

size_t profile_rows(const mlctl_profile *p);

/* Reading a profile (for monitor): the statistics of input i, borrowed from p. For a
 * numeric input, count is the present values, std the population std, edges the 9 inner
 * decile edges (type-7) and bins[0..nedges] the counts, value v in bin "number of edges
 * <= v"; percentiles (0..100, reference profiles only) for KS/Wasserstein estimates.
 * For a categorical one, counts per training category ("<missing>" is one when training
 * saw missing values), unseen = values not in the vocabulary. */
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
} profile_stats;
size_t profile_ninputs(const mlctl_profile *p);
bool profile_input(const mlctl_profile *p, size_t i, profile_stats *out);

/* Prediction distribution: classes (one-class: "-1" and "1") with counts and the count of
 * values that were no known class, or regression values as a numeric summary on the
 * reference's decile edges (a reference takes its edges from its first batch). False when
 * there were no predictions. */
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
