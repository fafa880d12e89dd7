/*
 * junit.h — JUnit XML reports (floor 3), so that CI systems show each validation gate as a
 * test case: one <testsuite> of <testcase> elements, failures with their message.
 */
#ifndef MLCTL_JUNIT_H
#define MLCTL_JUNIT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct junit_case {
	const char *name;       /* "accuracy >= 0.9" */
	const char *classname;  /* "mlctl.validate.churn" */
	bool failed;
	const char *message;    /* short, the failure element's message attribute; may be NULL */
	const char *detail;     /* longer text inside the failure element; may be NULL */
	double seconds;         /* time of the case; 0 when not measured */
	const char *type;       /* the failure's type attribute; NULL gives "failure" */
} junit_case;

/*
 * Write the report to path atomically (a temp file renamed over it). Every string is
 * escaped; characters XML 1.0 cannot carry (control characters, invalid UTF-8) are dropped
 * or replaced by U+FFFD. seconds is the suite's total time; the timestamp is now (UTC).
 */
int junit_write(const char *path, const char *suite_name, const junit_case *cases, size_t n,
		double seconds);

/* The report as a string, as junit_write writes it, for a given timestamp in ms. */
int junit_render(char **out, const char *suite_name, const junit_case *cases, size_t n,
		 double seconds, long long timestamp_ms);

#endif
