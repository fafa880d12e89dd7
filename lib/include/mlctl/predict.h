/*
 * mlctl/predict.h — batch scoring: stream a file (or stdin) through a model's
 * preprocessing and the fast scorer on all cores, write predictions in input order to a
 * temp file renamed at the end, and record a scoring run with a profile of what was scored.
 * Named for the command; implemented in lib/score.c (with lib/scorer.c, lib/bundle.c and
 * lib/pkgread.c below it).
 */
#ifndef MLCTL_PREDICT_H
#define MLCTL_PREDICT_H

#include <signal.h>
#include <stdio.h>

#include "common.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { MLCTL_OUTPUT_CSV = 0, MLCTL_OUTPUT_JSONL } mlctl_output_format;

typedef struct mlctl_predict_options {
	const char *model;                /* model reference or .mlpkg path; or NULL with target */
	const char *target;               /* score with what target NAME serves */
	const char *input;                /* data file, "-" for stdin (required) */
	const char *input_format;         /* csv, tsv, libsvm; NULL: from the extension */
	const char *output;               /* output file; "-" or NULL: the stream out */
	FILE *out;                        /* where predictions go without an output file (the
					   * caller's stdout, a pipe, an open_memstream); the
					   * library writes and flushes it, never closes it */
	mlctl_output_format output_format;
	bool proba;                       /* class probabilities as columns */
	bool decision;                    /* decision values as columns */
	const char *const *id_columns;    /* carried through (default: the model's id columns) */
	size_t n_id_columns;
	const char *const *keep;          /* other input columns passed through */
	size_t n_keep;
	int threads;                      /* 0: all cores */
	size_t batch_rows;                /* 0: default (512) */
	const char *lock;                 /* lock file: a second run exits MLCTL_ELOCKED */
	double lock_wait;                 /* seconds to wait for the lock (0: none) */
	size_t max_errors;                /* bad rows tolerated before failing (default 0) */
	const char *rejects;              /* where bad rows are listed (line, reason) */
	bool no_fast;                     /* use libsvm's svm_predict (reference path) */
	bool no_record;                   /* do not record a run (benchmarks) */
	/* Cancellation: when *cancel becomes nonzero (a signal handler of the host, or another
	 * thread, sets it), the job stops at the next batch, while waiting for the lock, or when
	 * a read of the input is interrupted (EINTR), removes its temp files and fails with
	 * MLCTL_ECANCELED. NULL: not cancellable. */
	const volatile sig_atomic_t *cancel;
	int argc;
	char *const *argv;
	mlctl_progress_cb progress;
	void *progress_payload;
} mlctl_predict_options;
#define MLCTL_PREDICT_OPTIONS_INIT { 0 }

typedef struct mlctl_predict_result {
	char run[MLCTL_RUN_ID_SIZE];      /* "" with no_record */
	char *model;                      /* "name:version" */
	size_t rows;                      /* rows scored and written */
	size_t rejected;
	size_t unseen_categories;
	size_t imputed;
	double seconds;
	bool fast;                        /* the dense batch scorer was used */
	size_t nclasses;
	char **class_names;
	size_t *class_counts;             /* predicted rows per class */
	char input_digest[65];
	char profile_digest[65];
} mlctl_predict_result;

/*
 * Score opts->input with opts->model (a registry reference or a .mlpkg file, verified) or
 * with the release opts->target serves, and write one prediction per input row, in input
 * order, to opts->output (a temp file renamed at the end, so a failure leaves none; "-"
 * or NULL: standard output). Records a "predict" run unless opts->no_record; reg may be
 * NULL for a package file, and then nothing is recorded. Bad rows fail the job beyond
 * opts->max_errors. *out is the caller's (mlctl_predict_result_free()); MLCTL_ELOCKED
 * when opts->lock is held by another job.
 */
int mlctl_predict(mlctl_predict_result **out, mlctl_registry *reg, const mlctl_predict_options *opts);
/* Free a result of mlctl_predict(); NULL is fine. */
void mlctl_predict_result_free(mlctl_predict_result *r);

#ifdef __cplusplus
}
#endif

#endif
