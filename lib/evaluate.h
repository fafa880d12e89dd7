/*
 * evaluate.h — scoring a model on a transformed matrix and turning predictions into
 * metrics (floor 3), shared by train (cross-validation, holdout) and validate: one place
 * that knows how classes, probabilities and decision values line up between libsvm, the
 * schema and the metrics module.
 */
#ifndef MLCTL_EVALUATE_H
#define MLCTL_EVALUATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libsvm/svm.h>

#include "metrics.h"
#include "schema.h"
#include "tune.h"

/* The classes of a schema in ascending label-value order, with their names. */
typedef struct evaluate_classes {
	size_t n;
	double *values;
	const char **names;    /* borrowed from the schema */
} evaluate_classes;

int evaluate_classes_init(evaluate_classes *c, const mlctl_schema *s);
void evaluate_classes_release(evaluate_classes *c);

/*
 * Predict every row of x with m: pred[i] the label value as svm_predict() gives it, also for
 * probability models (or the regression output); *proba (n x classes, ascending class
 * order) when m has probability information, else NULL;
 * *dec (n) for binary classifiers: the decision value, positive for the larger class
 * value, else NULL. Both fresh allocations.
 */
int evaluate_predict(double *pred, double **proba, double **dec, const struct svm_model *m,
		     const mlctl_schema *s, const schema_matrix *x);

/* The metrics of predictions against y for the schema's task. */
int evaluate_report(metrics_report **out, const mlctl_schema *s, const double *y, const double *pred,
		    size_t n, const double *proba, const double *dec);

/* A tune_score_fn context: the schema and the metric to score. */
typedef struct evaluate_ctx {
	const mlctl_schema *schema;
	const char *metric;
	char cv_key[160];          /* "cv_<metric>" */
	char grid_keys[8][64];     /* "grid_<param>" per axis */
} evaluate_ctx;

void evaluate_ctx_init(evaluate_ctx *c, const mlctl_schema *s, const char *metric);
/* "grid_<param>" (borrowed from c). */
const char *evaluate_grid_key(evaluate_ctx *c, size_t axis, const char *param);
/* tune_score_fn: the metric named in ctx; NaN when it cannot be computed. */
double evaluate_score(const double *y, const double *pred, const double *dec, size_t n, void *ctx);

/* A grid of exactly one point: the parameters as they are (for --cv without --tune). */
int evaluate_single_grid(tune_grid **out, const struct svm_parameter *p);
/* The value of a named libsvm parameter (C, gamma, degree, coef0, nu, epsilon). */
double evaluate_param_value(const struct svm_parameter *p, const char *name);

/* Mark is_test[i] = 1 for a share frac of the n rows (stratified by y when stratify),
 * drawn with seed; at least one row on each side when n >= 2. frac must lie strictly
 * between 0 and 1 (else MLCTL_EUSAGE). */
int evaluate_split(int *is_test, const double *y, size_t n, bool stratify, double frac, uint64_t seed);

/* Describe parameters as name/value strings through add(ctx, name, value). */
int evaluate_describe_params(const struct svm_parameter *p, int (*add)(void *ctx, const char *k, const char *v),
			     void *ctx);

#endif
