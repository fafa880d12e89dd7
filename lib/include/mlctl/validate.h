/*
 * mlctl/validate.h — validation: score a model on labelled data, compute its metrics,
 * check gates and compare it with a champion, record the verdict. Implemented in
 * lib/validate.c.
 */
#ifndef MLCTL_VALIDATE_H
#define MLCTL_VALIDATE_H

#include <math.h>

#include "common.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlctl_validate_options {
	const char *model;                /* model reference or .mlpkg file (required) */
	const char *data;                 /* labelled data (required) */
	const char *format;               /* csv, tsv, libsvm; NULL: from the extension */
	const char *const *gates;         /* "accuracy>=0.9", "recall[yes]>=0.6" */
	size_t ngates;
	const char *against;              /* champion reference ("churn@production") or NULL */
	double max_drop;                  /* NaN: no rule; fail when worse by more than this */
	double min_improvement;           /* NaN: no rule; fail unless better by at least this */
	const char *junit;                /* JUnit XML report path or NULL */
	int argc;
	char *const *argv;
} mlctl_validate_options;
/* No rules against the champion (max_drop and min_improvement NaN), the rest 0 or NULL. */
#define MLCTL_VALIDATE_OPTIONS_INIT { NULL, NULL, NULL, NULL, 0, NULL, NAN, NAN, NULL, 0, NULL }

typedef struct mlctl_gate_result {
	char *text;                       /* "accuracy >= 0.9" */
	char *metric;
	double value, bound;
	bool pass;
} mlctl_gate_result;

typedef struct mlctl_comparison {
	char *metric;
	double candidate, champion;
	char *rule;                       /* "max-drop 0.01" */
	bool pass;
} mlctl_comparison;

typedef struct mlctl_validate_result {
	char run[MLCTL_RUN_ID_SIZE];
	char *model;                      /* "churn:3" */
	char *champion;                   /* "churn:2", or NULL */
	bool champion_missing;            /* --against named an alias that does not exist yet */
	size_t rows;
	size_t unseen_categories;
	size_t imputed;
	size_t nmetrics;
	mlctl_metric *metrics;            /* every metric, in report order */
	size_t nclasses;
	char **class_names;
	size_t *confusion;                /* nclasses x nclasses, rows = true class */
	size_t ngates;
	mlctl_gate_result *gates;
	size_t ncomparisons;
	mlctl_comparison *comparisons;
	bool pass;
	double seconds;
	char data_digest[65];
} mlctl_validate_result;

/*
 * Validate. Returns 0 with *out set whether the verdict is pass or fail (see out->pass);
 * errors (bad data, unknown metric, missing model) return a code and record a failed run.
 */
int mlctl_validate(mlctl_validate_result **out, mlctl_registry *reg, const mlctl_validate_options *opts);
/* Free a result of mlctl_validate(); NULL is fine. */
void mlctl_validate_result_free(mlctl_validate_result *r);

#ifdef __cplusplus
}
#endif

#endif
