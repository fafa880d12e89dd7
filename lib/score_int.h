/*
 * score_int.h — batch scoring for the other operations of its floor (floor 4): the pipeline
 * of mlctl_predict() on all cores for monitor, writing no predictions, handing back the profile of what
 * it scored and, for the rows that have the model's label column, each label and prediction.
 */
#ifndef MLCTL_SCORE_INT_H
#define MLCTL_SCORE_INT_H

#include <stddef.h>

#include "bundle.h"
#include "profile.h"

typedef struct score_capture {
	mlctl_profile *profile;   /* the caller's: profile_free() */
	double *labels, *pred;    /* n labelled rows: free() */
	size_t n, cap;
	size_t rows;              /* rows profiled */
	size_t scored;            /* rows whose predictions the profile holds */
	size_t score_rows;        /* the size of the sample asked for (0: every row) */
} score_capture;

/*
 * Score input (format NULL: from the extension) with b (borrowed: the model monitor already
 * resolved, so that a deploy in between cannot change it) on threads threads (0: all cores).
 * A bad row fails the job with MLCTL_EDATA naming file and line, as predict does.
 *
 * Every row is profiled. With score_rows > 0 and CSV/TSV input without the model's label
 * column, only a seeded uniform sample of score_rows of the good rows (all of them when
 * there are fewer) is scored for the profile's predictions: algorithm R over the rows in
 * input order from a fixed seed, the same sample whatever the threads; out->scored says
 * how many. Input with labels (and libsvm input, whose first column is one) has every row
 * scored, for the metrics.
 */
int score_capture_run(score_capture *out, mlctl_bundle *b, const char *input, const char *format, int threads,
		      size_t score_rows);

#endif
