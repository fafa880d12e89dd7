/*
 * mlctl/train.h — training: fit preprocessing and an SVM on a dataset, tune it by k-fold
 * cross-validation over a grid in parallel, record the run and register a model version.
 * Implemented in lib/train.c; mlctl_import_svm() in lib/import.c.
 */
#ifndef MLCTL_TRAIN_H
#define MLCTL_TRAIN_H

#include "common.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlctl_train_options {
	const char *data;                 /* training data file (required) */
	const char *format;               /* "csv", "tsv", "libsvm"; NULL: from the extension */
	const char *name;                 /* model name (required) */
	const char *label;                /* label column; NULL: "label", or the libsvm label */
	const char *const *id_columns;    /* carried through scoring, never features */
	size_t n_id_columns;
	const char *const *features;      /* NULL: every other column */
	size_t n_features;
	const char *const *exclude;
	size_t n_exclude;
	const char *const *categorical;   /* force these columns to be categorical */
	size_t n_categorical;
	const char *scale;                /* "minmax" (default), "standard", "none" */
	const mlctl_kv *svm;              /* libsvm parameters by name: type, kernel, C, gamma,
					     degree, coef0, nu, epsilon, cache, tolerance, shrinking.
					     Without a type, the label decides: text labels or
					     integers with at most 20 distinct values (or at most
					     one per 20 rows) train c-svc, anything else epsilon-svr */
	size_t n_svm;
	const char *const *class_weights; /* "LABEL=WEIGHT" */
	size_t n_class_weights;
	bool probability;
	int cv;                           /* k-fold CV folds (0: none unless tuning; tuning default 5) */
	const char *tune;                 /* grid spec, "default" for grid.py's, or NULL */
	const char *metric;               /* the tuning metric; default accuracy / mse */
	int threads;                      /* 0: all cores */
	uint64_t seed;                    /* folds, splits, probability fitting (default 1) */
	double holdout;                   /* fraction held out (0: none) */
	const char *test_data;            /* or a separate test file */
	const mlctl_kv *tags;
	size_t ntags;
	int argc;                         /* the command line, recorded with the run */
	char *const *argv;
	mlctl_progress_cb progress;
	void *progress_payload;
	int kernel_memory;                /* MB for the shared kernel matrix of tuning; -1: a
					     quarter of physical memory, at most what is
					     available; 0: never share (each fit its own kernel) */
	const char *search;               /* "grid" (default) or "halving" */
	bool refine;                      /* a finer grid around the best point, merged */
	/* When set, called instead of progress while tuning, with points done of the total
	 * (which grows when --refine starts) and the best CV score so far (NaN before the
	 * first point); progress_payload is its payload; false stops. */
	bool (*tune_progress)(uint64_t done, uint64_t total, double best, void *payload);
	bool store_data;                  /* also store the data (and test_data) files
					     themselves, compressed (mlctl_data_store()) */
	int min_rows;                     /* halving: rows of the first round
					     (min_resources); 0: as 'exhaust' */
} mlctl_train_options;
/* Everything 0 or NULL but the seed, 1 (the 23rd field), and kernel_memory, -1 (the 32nd).
 * Positional, every field named, as the other initialisers, so C++ and
 * -Wmissing-field-initializers take it too. */
#define MLCTL_TRAIN_OPTIONS_INIT { NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, \
	NULL, 0, NULL, 0, false, 0, NULL, NULL, 0, 1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL, -1, NULL, \
	false, NULL, false, 0 }

typedef struct mlctl_train_result {
	char run[MLCTL_RUN_ID_SIZE];
	char *name;
	int version;
	char *svm_type, *kernel;
	size_t rows, columns;             /* training rows used, input columns */
	size_t test_rows;                 /* held-out rows scored */
	int features;                     /* after one-hot encoding */
	int nsv;
	size_t nclasses;
	size_t grid_points;
	double train_seconds;             /* the final fit */
	double total_seconds;
	char *metric;                     /* the tuning/CV metric */
	size_t nparams;
	mlctl_kv *params;                 /* the chosen libsvm parameters */
	size_t nmetrics;
	mlctl_metric *metrics;            /* cv_*, holdout_*, n_sv, train_seconds, ... */
	char model_digest[65];
	char dataset_digest[65];
	char *task;                       /* "classification", "regression" or "one-class" */
	char *task_reason;                /* e.g. "3 classes", "label has 214 distinct values",
					     "given by --type"; may be "" */
	bool task_inferred;               /* no --type: the task was inferred from the label */
	bool data_stored;                 /* store_data: the data files are in the store */
	char test_digest[65];             /* the digest of test_data, "" without one */
} mlctl_train_result;

/*
 * Train and register the next version of opts->name. A failure records a failed run and
 * registers nothing; out is set only on success.
 */
int mlctl_train(mlctl_train_result **out, mlctl_registry *reg, const mlctl_train_options *opts);
/* Free a result of mlctl_train() or mlctl_import_svm(); NULL is fine. */
void mlctl_train_result_free(mlctl_train_result *r);

/*
 * Register a model made by svm-train (its model file) as the next version of name. There is
 * no preprocessing (features are used as they are) and no reference profile.
 */
int mlctl_import_svm(mlctl_train_result **out, mlctl_registry *reg, const char *model_file,
		     const char *name, int argc, char *const *argv);

#ifdef __cplusplus
}
#endif

#endif
