/*
 * profile.h — reference statistics of a dataset for drift detection (floor 2): per numeric
 * input its count, missing rate, mean, std, min, max, decile edges with counts; per
 * categorical input its frequency table; optionally the distribution of predictions.
 * Serialised as reference/profile.yaml. A profile of new data is built by streaming rows
 * into the reference's bins, so memory does not grow with the number of rows.
 */
#ifndef MLCTL_PROFILE_H
#define MLCTL_PROFILE_H

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

int profile_save(char **out, size_t *len, const mlctl_profile *p);
int profile_load(mlctl_profile **out, const char *yaml, size_t len, const char *origin);
void profile_free(mlctl_profile *p);

#endif
