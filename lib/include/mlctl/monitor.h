/*
 * mlctl/monitor.h — drift and performance of a model in production: compare current data
 * (a file, the serving prediction log, or the profiles recorded by predict since a run)
 * with the reference profile the model was trained with, feature by feature and on the
 * predictions, by Evidently's default rules; with labels, the metrics against the
 * validation baseline; record a monitor run; write a self-contained HTML report.
 * Implemented in lib/monitor.c (with lib/drift.c, lib/profile.c and lib/report.c).
 */
#ifndef MLCTL_MONITOR_H
#define MLCTL_MONITOR_H

#include <math.h>
#include <stdint.h>

#include "common.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { MLCTL_FAIL_ON_DATASET = 0, MLCTL_FAIL_ON_FEATURE, MLCTL_FAIL_ON_NONE } mlctl_fail_on;

typedef struct mlctl_monitor_options {
	const char *model;            /* model reference or .mlpkg; or NULL with target */
	const char *target;           /* the model a deploy target serves */
	const char *data;             /* current data: a CSV/TSV/libsvm file (streamed) */
	const char *data_format;      /* NULL: from the extension */
	const char *log;              /* or: a prediction log of mlctl serve, with the files it was
					 * rotated into (FILE.N … FILE.1 read first, oldest first) */
	const char *since;            /* or: the profiles of predict runs since this run */
	const mlctl_kv *tests;        /* FEATURE=ks|chisquare|z|wasserstein|jensenshannon|psi */
	size_t ntests;
	double threshold;             /* NaN: each test's default */
	double psi_threshold;         /* NaN: 0.2 */
	double drift_share;           /* NaN: 0.5 */
	double max_drop;              /* NaN: no performance alert */
	mlctl_fail_on fail_on;
	const char *report;           /* write the HTML report here */
	bool no_record;
	int argc;
	char *const *argv;
	/* --data without a label column: the predictions for the prediction drift come from a
	 * seeded uniform sample of this many rows (every row is still profiled); 0 scores every
	 * row. Data with the model's label column (and libsvm data) is always scored in full. */
	size_t score_rows;            /* MLCTL_MONITOR_SCORE_ROWS */
	int threads;                  /* reading, profiling and scoring threads; 0: all cores */
} mlctl_monitor_options;
#define MLCTL_MONITOR_SCORE_ROWS 20000
#define MLCTL_MONITOR_OPTIONS_INIT { NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NAN, NAN, NAN, NAN, \
	MLCTL_FAIL_ON_DATASET, NULL, false, 0, NULL, MLCTL_MONITOR_SCORE_ROWS, 0 }

/* One feature (or the predictions): the test, its statistic and the verdict, and the
 * histograms of both sides for the report (shares over the same bins). */
typedef struct mlctl_monitor_feature {
	char *name;
	bool categorical;
	const char *test;             /* "ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi" */
	double statistic;
	double pvalue;                /* NaN for wasserstein, jensenshannon and psi */
	double threshold;
	bool drifted;
	double psi;                   /* NaN when it cannot be computed */
	bool psi_alert;
	double ref_missing, cur_missing;   /* shares of the rows */
	double unseen;                /* share of current values not in the training vocabulary */
	size_t ref_count, cur_count;  /* present values */
	double ref_mean, cur_mean;    /* NaN for categorical */
	size_t nbins;                 /* histogram: labels, and the share of each side's values */
	char **bin_labels;
	double *ref_share;
	double *cur_share;
	char *note;                   /* what an older profile could not give, or NULL */
} mlctl_monitor_feature;

/* A past monitor run of the same model: when, and each feature's statistic (NaN when the
 * run did not have the feature), in the order of the result's features. */
typedef struct mlctl_monitor_point {
	char run[MLCTL_RUN_ID_SIZE];
	int64_t time_ms;
	double *statistic;            /* nfeatures */
	double prediction;            /* the prediction drift statistic */
	bool dataset_drift;
} mlctl_monitor_point;

typedef struct mlctl_monitor_result {
	char run[MLCTL_RUN_ID_SIZE];  /* "" when not recorded */
	char *model;                  /* "churn:3" */
	char *source;                 /* "data.csv", "log serve.jsonl", "predict runs since 01J…" */
	size_t ref_rows, cur_rows;
	size_t nfeatures;
	mlctl_monitor_feature *features;
	size_t ndrifted;
	double drift_share;           /* the share of drifted features that makes dataset drift */
	bool dataset_drift;
	bool has_prediction;
	mlctl_monitor_feature prediction;
	size_t pred_rows;             /* the rows the predictions come from (<= cur_rows) */
	bool pred_sampled;            /* they are a seeded sample of the rows (--score-rows) */
	/* performance, with a label column in the current data */
	bool has_performance;
	char *metric;                 /* the model's metric: accuracy, f1_macro, rmse ... */
	double baseline, current;     /* the validation value and today's */
	double drop;                  /* baseline - current (current - baseline for errors) */
	double max_drop;              /* NaN: none asked */
	bool performance_alert;
	/* the verdict */
	bool alert;
	char *why;                    /* the reasons for the alert, or NULL */
	/* the trend: past monitor runs of this model, oldest first */
	size_t nhistory;
	mlctl_monitor_point *history;
	size_t missing_stats;         /* statistics the reference profile could not give */
} mlctl_monitor_result;

/*
 * Compare the current data with the model's reference profile. Records a "monitor" run with
 * every statistic as a metric (unless no_record or reg is NULL) and writes o->report. 0 with
 * *out set whatever the verdict (out->alert says it; the CLI exits 1 on it); MLCTL_EDATA
 * for bad input naming file, line and column; MLCTL_ENOTFOUND for a missing file, model or
 * run.
 */
int mlctl_monitor(mlctl_monitor_result **out, mlctl_registry *reg, const mlctl_monitor_options *o);
void mlctl_monitor_result_free(mlctl_monitor_result *r);

/* The statistics of the monitor runs of a model (a name, or NAME:VERSION / NAME@ALIAS for
 * its name) or of the model a target serves, oldest first, at most limit (0: 30) runs. */
typedef struct mlctl_monitor_history {
	char *model;                  /* the model name */
	size_t nfeatures;
	char **features;              /* every feature any of the runs compared, by name */
	size_t npoints;
	mlctl_monitor_point *points;  /* statistic[] in the order of features */
} mlctl_monitor_history;
int mlctl_monitor_history_get(mlctl_monitor_history **out, mlctl_registry *reg, const char *model,
			      const char *target, size_t limit);
void mlctl_monitor_history_free(mlctl_monitor_history *h);

/* Write the self-contained HTML report of r (inline CSS and SVG; no script, no font, nothing
 * from the network) to path, atomically. Its size depends on the features and bins, never
 * on the rows. */
int mlctl_monitor_report(const mlctl_monitor_result *r, const char *path);

#ifdef __cplusplus
}
#endif

#endif
