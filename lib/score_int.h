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
	size_t rows;              /* rows scored */
} score_capture;

/*
 * Score input (format NULL: from the extension) with b (borrowed: the model monitor already
 * resolved, so that a deploy in between cannot change it) on threads threads (0: all cores).
 * A bad row fails the job with MLCTL_EDATA naming file and line, as predict does.
 */
int score_capture_run(score_capture *out, mlctl_bundle *b, const char *input, const char *format, int threads);

#endif
