/*
 * metrics.h — evaluation metrics (floor 3), computed exactly as scikit-learn's
 * sklearn.metrics does (same definitions, same edge cases: a class with no predicted rows
 * has precision 0, "macro" averages over the classes present in y_true or y_pred).
 * A report is a flat, ordered list of named numbers plus the confusion matrix.
 */
#ifndef MLCTL_METRICS_H
#define MLCTL_METRICS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct metrics_value {
	char *name;     /* "accuracy", "f1_macro", "recall[yes]", "roc_auc", "rmse", ... */
	double value;
} metrics_value;

typedef struct metrics_report {
	size_t nvalues;
	metrics_value *values;
	/* classification only: */
	size_t nclasses;
	char **class_names;
	size_t *confusion;   /* nclasses x nclasses, row = true class, column = predicted */
} metrics_report;

/*
 * Classification metrics over n rows. class_values[0..nclasses) are the label values and
 * class_names their names (for per-class keys). proba (n x nclasses, columns in the order
 * of class_values) gives roc_auc (binary: the second class is positive, as sklearn does
 * with sorted labels; multi-class: one-vs-rest macro) and log_loss; may be NULL. dec (n,
 * binary only, positive for class_values[1]) gives roc_auc when proba is NULL; may be NULL.
 * Names: accuracy, balanced_accuracy, precision_macro, recall_macro, f1_macro,
 * precision_weighted, recall_weighted, f1_weighted, precision[C], recall[C], f1[C],
 * support[C], roc_auc, log_loss.
 * As sklearn with labels=None: averages and per-class values cover only the classes in
 * y_true or y_pred (the confusion matrix has all nclasses); roc_auc is reported only when
 * y_true holds every class (sklearn raises otherwise); log_loss is sklearn's with
 * labels=class_values. A label that is not a class value, or a non-finite proba/dec, is
 * MLCTL_EDATA naming the row.
 */
int metrics_classification(metrics_report **out, const double *y_true, const double *y_pred,
			   size_t n, const double *class_values, const char *const *class_names,
			   size_t nclasses, const double *proba, const double *dec);

/* Regression: mse, rmse, mae, r2, max_error (r2 is nan below two rows, as sklearn's). */
int metrics_regression(metrics_report **out, const double *y_true, const double *y_pred, size_t n);

/* One-class: outlier_rate (share of predictions equal to -1), n. */
int metrics_oneclass(metrics_report **out, const double *y_pred, size_t n);

/* Look up a metric by name; false when the report has no such metric. */
bool metrics_get(const metrics_report *r, const char *name, double *out);
/* True when larger values of the metric are better (accuracy) and false when smaller are
 * (mse, log_loss, max_error). */
bool metrics_higher_is_better(const char *name);
/* True when name is a metric this module can compute (per-class names accepted). */
bool metrics_known(const char *name);
/* Length of the metric part of a per-class name ("recall" in "recall[yes]": 6); 0 when
 * name is not a per-class metric name. */
size_t metrics_per_class_base(const char *name);
/* The i-th known metric name, NULL past the last; *per_class is set for the names that
 * take a class ("recall", used as "recall[C]"). For suggestions and help texts. */
const char *metrics_known_name(size_t i, bool *per_class);
void metrics_report_free(metrics_report *r);

#endif
