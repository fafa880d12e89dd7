/*
 * tune.h — k-fold cross-validation, grid search and successive halving on a thread pool,
 * from one shared kernel matrix per kernel when it fits a budget (floor 3).
 * Folds are drawn with mlctl's own seeded generator (stratified for classification), so
 * results do not depend on rand() or on the number of threads.
 */
#ifndef MLCTL_TUNE_H
#define MLCTL_TUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libsvm/svm.h>

#include "mlctl/common.h"

/* A grid: axes of parameter names (as model_param_set() knows them) and values. */
typedef struct tune_axis {
	char *name;
	size_t nvalues;
	double *values;
} tune_axis;

typedef struct tune_grid {
	size_t naxes;
	tune_axis *axes;
} tune_grid;

/*
 * Parse "C=2^-5..2^15:x4,gamma=2^3..2^-15:/4" (geometric ranges: start..end:xF multiplies
 * by F, :/F divides) or explicit lists "C=0.1|1|10" and "C=0.1;1;10", and plain ranges
 * "degree=1..4:+1". Errors name the offending part.
 */
int tune_grid_parse(tune_grid **out, const char *spec);
/* libsvm grid.py's default grid: C=2^-5..2^15 step x4, gamma=2^3..2^-15 step /4 (110). */
int tune_grid_default(tune_grid **out);
size_t tune_grid_size(const tune_grid *g);
/* Apply grid point i (row-major over axes) to p. */
int tune_grid_apply(const tune_grid *g, size_t i, struct svm_parameter *p);
void tune_grid_free(tune_grid *g);

/* Assign each of n rows a fold in [0,k): stratified by y when stratify, shuffled with seed. */
int tune_folds(int *out_fold, const double *y, size_t n, int k, bool stratify, uint64_t seed);

/* Cross-validated predictions: for each fold train on the others (probability forced off,
 * so nothing draws from rand()) and predict it. dec, when not NULL, receives the decision
 * value of each row when the fold's model is a binary classifier: positive means the
 * LARGER label value (class_values[1] when the classes are sorted ascending, which is what
 * metrics_classification() expects), whatever order libsvm met the labels in; 0 for rows
 * predicted by any other model. */
int tune_cv_predict(double *out_pred, double *out_dec, const struct svm_problem *prob,
		    const struct svm_parameter *p, int nfeatures, const int *fold, int k);

/* Score of one set of CV predictions; higher is better when the caller says so. dec is the
 * tune_cv_predict() decision value (NULL unless y has exactly two classes). tune_run()
 * calls it from its workers, one call at a time (under the same lock as progress). */
typedef double (*tune_score_fn)(const double *y, const double *pred, const double *dec,
				size_t n, void *ctx);

typedef struct tune_point {
	struct svm_parameter param;   /* the point's parameters (weights shared with base) */
	double score;
	double seconds;               /* training and prediction time summed over folds */
	int round;                    /* 0.. the halving round (0 for --search grid);
	                                 TUNE_ROUND_REFINE for the refinement's points */
	size_t rows;                  /* rows cross-validated */
	bool precomputed;             /* fitted from the shared kernel matrix */
	size_t grid_index;            /* the grid point, or SIZE_MAX for a refinement's */
	double tiebreak;              /* binary classes: the ROC AUC of the CV decision values,
	                                 which breaks ties of score between halving's points;
	                                 else NaN */
} tune_point;

#define TUNE_ROUND_REFINE 1000

typedef struct tune_result {
	size_t npoints;
	tune_point *points;           /* in order of evaluation: grid order within a round */
	size_t best;                  /* index of the best point on all rows; ties go to the
	                                 earliest */
	size_t nprecomputed;          /* points fitted from a shared kernel matrix */
	int rounds;                   /* halving rounds (1 for grid) */
} tune_result;

typedef enum tune_search {
	TUNE_SEARCH_GRID = 0,         /* every point on all rows */
	TUNE_SEARCH_HALVING           /* successive halving: factor 3, min_resources 'exhaust' */
} tune_search;

/* Progress with the best score so far (NaN before the first point); false stops. */
typedef bool (*tune_progress_fn)(size_t done, size_t total, double best, void *payload);

typedef struct tune_options {
	int folds;                    /* k >= 2 */
	uint64_t seed;
	int threads;                  /* 0: all online CPUs */
	bool higher_is_better;
	tune_score_fn score;          /* NULL: accuracy (classifiers, higher is better) or
	                                 mean squared error (others, lower is better) */
	void *score_ctx;
	mlctl_progress_cb progress;   /* ("grid", points done, points); one call at a time;
	                                 the total grows when the refinement starts */
	void *progress_payload;
	/* Memory for a shared kernel matrix per kernel (gamma, degree, coef0), in bytes: when
	 * the n x n matrix and its workspace fit, every C and fold of that kernel is fitted
	 * from it in libsvm's precomputed mode; otherwise from the rows, with libsvm's cache
	 * sized from the budget. 0: never (each fit its own kernel, cache as the parameters
	 * say). */
	size_t kernel_bytes;
	tune_search search;
	bool refine;                  /* a finer grid around the best point, merged */
	tune_progress_fn progress_best; /* when set, called instead of progress */
	/* Halving: the rows of the first round, scikit-learn's min_resources as a number (at
	 * least 2 k per class, at most n); 0: 'exhaust'. */
	size_t min_rows;
} tune_options;

/* Evaluate every grid point by k-fold CV on the same folds, on opts->threads workers (or
 * successive halving, and the refinement, as opts says). The result is the same whatever
 * the number of threads. */
int tune_run(tune_result **out, const struct svm_problem *prob, const struct svm_parameter *base,
	     int nfeatures, const tune_grid *g, const tune_options *opts);
void tune_result_free(tune_result *r);

/* Bytes a shared kernel matrix of n rows and d features needs on nthreads workers whose
 * fits each cache up to cache_mb (libsvm's cache_size), the estimate tune_run() compares
 * with opts->kernel_bytes. */
double tune_kernel_bytes(size_t n, int d, size_t nthreads, double cache_mb);

#endif
