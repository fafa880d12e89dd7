/*
 * gate.h — validation gates (floor 3): conditions on a metric such as "accuracy>=0.9",
 * "recall[yes] >= 0.6" or "mse<12.5" that validate checks against a metrics report, and the
 * champion/challenger comparison that refuses a candidate worse than the model it replaces.
 */
#ifndef MLCTL_GATE_H
#define MLCTL_GATE_H

#include <stdbool.h>

#include "metrics.h"

typedef enum gate_op {
	GATE_GE,        /* >= */
	GATE_GT,        /* >  */
	GATE_LE,        /* <= */
	GATE_LT,        /* <  */
	GATE_EQ         /* == (exact) */
} gate_op;

typedef struct gate {
	char *metric;      /* a name metrics_known() accepts: "accuracy", "recall[yes]" */
	gate_op op;
	double threshold;
	char *text;        /* canonical form, "recall[yes] >= 0.6", for messages and reports */
} gate;

/*
 * Parse "METRIC OP NUMBER" (OP one of >= > <= < ==, blanks allowed around each part; a
 * class name in METRIC[CLASS] may hold any character but ']'). MLCTL_EUSAGE with a message
 * saying what was expected when expr is malformed, or naming an unknown metric and the
 * closest known one. *out belongs to the caller (gate_free).
 */
int gate_parse(gate **out, const char *expr);

/*
 * Evaluate g on r: *value is the metric, *pass whether it meets the threshold (false for
 * nan). MLCTL_EUSAGE when the report has no such metric (for a per-class metric, the message
 * names the classes the report has).
 */
int gate_eval(const gate *g, const metrics_report *r, double *value, bool *pass);

/*
 * How much worse candidate is than champion on metric, in the metric's own units: positive
 * when it is worse (lower accuracy, higher mse), negative when it is better.
 */
double gate_drop(double candidate, double champion, const char *metric);

/*
 * Champion/challenger: *pass when the drop (gate_drop) is at most max_drop and the
 * improvement (minus the drop) is at least min_improvement. Pass INFINITY as max_drop or
 * -INFINITY as min_improvement to leave that bound out. nan values never pass.
 * MLCTL_EUSAGE for an unknown metric or a nan bound.
 */
int gate_compare(double candidate, double champion, const char *metric, double max_drop,
		 double min_improvement, bool *pass);

/* ">=", ">", "<=", "<", "==". */
const char *gate_op_str(gate_op op);

void gate_free(gate *g);

#endif
