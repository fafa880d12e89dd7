/*
 * metrics.c — evaluation metrics (floor 3), computed as scikit-learn 1.2 (Debian bookworm)
 * computes them, down to the order of summation where it decides an edge case: numpy's
 * pairwise summation is reproduced so that r2 on a constant y_true, whose mean numpy may
 * round, falls on the same side of zero as sklearn's. validate and train report these
 * numbers and the gates read them back by name.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metrics.h"
#include "util.h"
#include "banned.h"

/* Metrics of the whole data set, with the direction in which they improve. */
static const struct {
	const char *name;
	bool higher_is_better;
} known_metrics[] = {
	{ "accuracy", true },
	{ "balanced_accuracy", true },
	{ "precision_macro", true },
	{ "recall_macro", true },
	{ "f1_macro", true },
	{ "precision_weighted", true },
	{ "recall_weighted", true },
	{ "f1_weighted", true },
	{ "roc_auc", true },
	{ "log_loss", false },
	{ "mse", false },
	{ "rmse", false },
	{ "mae", false },
	{ "r2", true },
	{ "max_error", false },
	{ "outlier_rate", false },
	{ "n", true },
};

/* Metrics reported once per class as NAME[CLASS]. */
static const char *const per_class_metrics[] = { "precision", "recall", "f1", "support" };

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * numpy's pairwise summation of a contiguous float64 array as np.add.reduce does it:
 * blocks of at most 128 summed with 8 accumulators, split in halves above that, and the
 * whole walked in buffers of 8192 elements.
 */
static double pairwise_sum(const double *a, size_t n)
{
	double r[8], res;
	size_t i, j, n2;

	if (n < 8) {
		res = 0.0;
		for (i = 0; i < n; i++)
			res += a[i];
		return res;
	}
	if (n <= 128) {
		for (j = 0; j < 8; j++)
			r[j] = a[j];
		for (i = 8; i < n - (n % 8); i += 8)
			for (j = 0; j < 8; j++)
				r[j] += a[i + j];
		res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += a[i];
		return res;
	}
	n2 = n / 2;
	n2 -= n2 % 8;
	return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

static double np_sum(const double *a, size_t n)
{
	double s = 0.0;
	size_t k;

	for (k = 0; k < n; k += 8192)
		s += pairwise_sum(a + k, n - k < 8192 ? n - k : 8192);
	return s;
}

/* Append a named value; the report owns a copy of name. */
static int report_add(metrics_report *r, size_t *cap, double v, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int report_add(metrics_report *r, size_t *cap, double v, const char *fmt, ...)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	va_list ap;
	int ret;

	if (r->nvalues == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		metrics_value *p = mlctl_reallocarray(r->values, ncap, sizeof(*p));

		if (!p)
			return MLCTL_ENOMEM;
		r->values = p;
		*cap = ncap;
	}
	va_start(ap, fmt);
	ret = strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	if (ret) {
		strbuf_release(&sb);
		return ret;
	}
	r->values[r->nvalues].name = strbuf_detach(&sb, NULL);
	r->values[r->nvalues].value = v;
	r->nvalues++;
	return 0;
}

static int report_new(metrics_report **out)
{
	*out = mlctl_calloc(1, sizeof(**out));
	return *out ? 0 : MLCTL_ENOMEM;
}

/* Index of v among the class values, or -1. */
static long class_index(const double *class_values, size_t nclasses, double v)
{
	size_t c;

	for (c = 0; c < nclasses; c++)
		if (class_values[c] == v)
			return (long)c;
	return -1;
}

struct scored {
	double score;
	bool pos;
};

static int cmp_score_desc(const void *a, const void *b)
{
	double x = ((const struct scored *)a)->score, y = ((const struct scored *)b)->score;

	return (x < y) - (x > y);
}

/*
 * Area under the ROC curve of score against the rows where is_pos[i], as sklearn's
 * roc_curve (drop_intermediate=True) followed by auc() (np.trapz) computes it: one point
 * per distinct score, ties counted together, collinear points dropped. Both kinds of rows
 * must be present. *out is set; returns 0 or MLCTL_ENOMEM.
 */
static int binary_auc(double *out, const bool *is_pos, const double *score, size_t n)
{
	struct scored *s = NULL;
	size_t i, m = 0, k = 0;
	double *fps = NULL, *tps = NULL, *terms = NULL, tp = 0, fp = 0;
	int ret = MLCTL_ENOMEM;

	s = mlctl_calloc(n, sizeof(*s));
	fps = mlctl_calloc(n + 1, sizeof(*fps));
	tps = mlctl_calloc(n + 1, sizeof(*tps));
	terms = mlctl_calloc(n + 1, sizeof(*terms));
	if (!s || !fps || !tps || !terms)
		goto out;
	for (i = 0; i < n; i++) {
		s[i].score = score[i];
		s[i].pos = is_pos[i];
	}
	/* The order within a run of ties does not matter: only run ends make points. */
	qsort(s, n, sizeof(*s), cmp_score_desc);
	/* One point at the end of each run of equal scores. */
	for (i = 0; i < n; i++) {
		if (s[i].pos)
			tp++;
		else
			fp++;
		if (i + 1 == n || s[i + 1].score != s[i].score) {
			fps[m] = fp;
			tps[m] = tp;
			m++;
		}
	}
	/* drop_intermediate: keep the ends and every point where the slope changes. */
	if (m > 2) {
		k = 1;
		for (i = 1; i + 1 < m; i++) {
			if (fps[i + 1] - 2 * fps[i] + fps[i - 1] != 0 ||
			    tps[i + 1] - 2 * tps[i] + tps[i - 1] != 0) {
				fps[k] = fps[i];
				tps[k] = tps[i];
				k++;
			}
		}
		fps[k] = fps[m - 1];
		tps[k] = tps[m - 1];
		m = k + 1;
	}
	/* The curve starts at (0, 0); rates are counts over the last count. */
	memmove(fps + 1, fps, m * sizeof(*fps));
	memmove(tps + 1, tps, m * sizeof(*tps));
	fps[0] = tps[0] = 0;
	m++;
	for (i = 0; i < m; i++) {
		fps[i] /= fp;
		tps[i] /= tp;
	}
	/* np.trapz: sum of dx * (y[i+1] + y[i]) / 2.0, summed the numpy way. */
	for (i = 0; i + 1 < m; i++)
		terms[i] = (fps[i + 1] - fps[i]) * (tps[i + 1] + tps[i]) / 2.0;
	*out = np_sum(terms, m - 1);
	ret = 0;
out:
	free(terms);
	free(tps);
	free(fps);
	free(s);
	return ret;
}

/*
 * ROC AUC: binary from proba[:, 1] or dec, multi-class one-vs-rest macro. Like sklearn
 * without labels=, it is defined only when y_true holds every class (multi-class) or both
 * classes (binary); *have is false otherwise.
 */
static int roc_auc(double *out, bool *have, const size_t *ti, size_t n, size_t nclasses,
		   const size_t *true_sum, const double *proba, const double *dec)
{
	bool *is_pos = NULL;
	double *col = NULL, auc, total = 0;
	size_t c, i, first;
	int ret = 0;

	*have = false;
	if (nclasses < 2 || (!proba && !(dec && nclasses == 2)))
		return 0;
	for (c = 0; c < nclasses; c++)
		if (true_sum[c] == 0)
			return 0;
	is_pos = mlctl_calloc(n, sizeof(*is_pos));
	col = mlctl_calloc(n, sizeof(*col));
	if (!is_pos || !col) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	/* Binary: only the positive (second) class; multi-class: every class in turn. */
	first = nclasses == 2 ? 1 : 0;
	for (c = first; c < nclasses; c++) {
		for (i = 0; i < n; i++) {
			is_pos[i] = ti[i] == c;
			col[i] = proba ? proba[i * nclasses + c] : dec[i];
		}
		ret = binary_auc(&auc, is_pos, col, n);
		if (ret)
			goto out;
		total += auc;
	}
	*out = total / (double)(nclasses - first);
	*have = true;
out:
	free(col);
	free(is_pos);
	return ret;
}

/*
 * log_loss with labels=class_values: probabilities clipped to [eps, 1 - eps] with eps the
 * float64 machine epsilon (sklearn 1.2's eps="auto"), rows renormalised, mean of -log p.
 */
static int log_loss(double *out, const size_t *ti, size_t n, size_t nclasses, const double *proba)
{
	double *loss = mlctl_calloc(n, sizeof(*loss));
	const double eps = DBL_EPSILON;
	size_t i, c;

	if (!loss)
		return MLCTL_ENOMEM;
	for (i = 0; i < n; i++) {
		double sum = 0, p = 0;

		for (c = 0; c < nclasses; c++) {
			double v = proba[i * nclasses + c];

			v = v < eps ? eps : v > 1 - eps ? 1 - eps : v;
			sum += v;
			if (c == ti[i])
				p = v;
		}
		loss[i] = -log(p / sum);
	}
	*out = np_sum(loss, n) / (double)n;
	free(loss);
	return 0;
}

/* Map labels to class indices; fails on a label that is not a class. */
static int map_labels(size_t *idx, const double *y, size_t n, const double *class_values,
		      size_t nclasses, const char *what)
{
	size_t i;

	for (i = 0; i < n; i++) {
		long c = class_index(class_values, nclasses, y[i]);

		if (c < 0) {
			char buf[32];

			return mlctl_error_set(MLCTL_EDATA, "row %zu: %s label %s is not one of the %zu classes",
					       i + 1, what, mlctl_fmt_double(buf, y[i]), nclasses);
		}
		idx[i] = (size_t)c;
	}
	return 0;
}

/* Every value finite; v holds rows of width values. */
static int check_finite(const double *v, size_t n, size_t width, const char *what)
{
	size_t i;

	for (i = 0; i < n * width; i++)
		if (!isfinite(v[i]))
			return mlctl_error_set(MLCTL_EDATA, "row %zu: %s is not a finite number",
					       i / width + 1, what);
	return 0;
}

/* Accuracy, the averages and the per-class values from the confusion matrix. */
static int add_prf(metrics_report *r, size_t *cap, const size_t *true_sum,
		   const size_t *pred_sum, size_t n, const char *const *class_names,
		   const double *proba, const double *dec, const size_t *ti)
{
	size_t k = r->nclasses, c, tp_total = 0, npresent = 0, ntrue = 0;
	double sp = 0, sr = 0, sf = 0, wp = 0, wr = 0, wf = 0, bal = 0, v;
	double *p = mlctl_calloc(k, sizeof(*p)), *rc = mlctl_calloc(k, sizeof(*rc));
	double *f = mlctl_calloc(k, sizeof(*f));
	bool have;
	int ret = MLCTL_ENOMEM;

	if (!p || !rc || !f)
		goto out;
	for (c = 0; c < k; c++) {
		double tp = (double)r->confusion[c * k + c];

		tp_total += r->confusion[c * k + c];
		/* zero_division=0: an empty denominator gives 0, as sklearn's default does. */
		p[c] = pred_sum[c] ? tp / (double)pred_sum[c] : 0.0;
		rc[c] = true_sum[c] ? tp / (double)true_sum[c] : 0.0;
		f[c] = p[c] + rc[c] != 0.0 ? 2 * p[c] * rc[c] / (p[c] + rc[c]) : 0.0;
		if (!true_sum[c] && !pred_sum[c])
			continue;   /* labels=None: only the classes in y_true or y_pred count */
		npresent++;
		sp += p[c];
		sr += rc[c];
		sf += f[c];
		wp += p[c] * (double)true_sum[c];
		wr += rc[c] * (double)true_sum[c];
		wf += f[c] * (double)true_sum[c];
		if (true_sum[c]) {
			ntrue++;
			bal += rc[c];
		}
	}
	if ((ret = report_add(r, cap, (double)tp_total / (double)n, "accuracy")) ||
	    (ret = report_add(r, cap, bal / (double)ntrue, "balanced_accuracy")) ||
	    (ret = report_add(r, cap, sp / (double)npresent, "precision_macro")) ||
	    (ret = report_add(r, cap, sr / (double)npresent, "recall_macro")) ||
	    (ret = report_add(r, cap, sf / (double)npresent, "f1_macro")) ||
	    (ret = report_add(r, cap, wp / (double)n, "precision_weighted")) ||
	    (ret = report_add(r, cap, wr / (double)n, "recall_weighted")) ||
	    (ret = report_add(r, cap, wf / (double)n, "f1_weighted")))
		goto out;
	if ((ret = roc_auc(&v, &have, ti, n, k, true_sum, proba, dec)))
		goto out;
	if (have && (ret = report_add(r, cap, v, "roc_auc")))
		goto out;
	if (proba && k >= 2) {
		if ((ret = log_loss(&v, ti, n, k, proba)) ||
		    (ret = report_add(r, cap, v, "log_loss")))
			goto out;
	}
	for (c = 0; c < k; c++) {
		if (!true_sum[c] && !pred_sum[c])
			continue;
		if ((ret = report_add(r, cap, p[c], "precision[%s]", class_names[c])) ||
		    (ret = report_add(r, cap, rc[c], "recall[%s]", class_names[c])) ||
		    (ret = report_add(r, cap, f[c], "f1[%s]", class_names[c])) ||
		    (ret = report_add(r, cap, (double)true_sum[c], "support[%s]", class_names[c])))
			goto out;
	}
	ret = 0;
out:
	free(f);
	free(rc);
	free(p);
	return ret;
}

int metrics_classification(metrics_report **out, const double *y_true, const double *y_pred,
			   size_t n, const double *class_values, const char *const *class_names,
			   size_t nclasses, const double *proba, const double *dec)
{
	metrics_report *r = NULL;
	size_t *ti = NULL, *pi = NULL, *true_sum = NULL, *pred_sum = NULL, cap = 0, i, c;
	int ret;

	*out = NULL;
	if (n == 0 || nclasses == 0)
		return mlctl_error_set(MLCTL_EUSAGE, "metrics need at least one row and one class");
	if (nclasses > SIZE_MAX / nclasses / sizeof(size_t))
		return mlctl_error_set(MLCTL_EUSAGE, "too many classes (%zu)", nclasses);
	if ((proba && (ret = check_finite(proba, n, nclasses, "a probability"))) ||
	    (dec && (ret = check_finite(dec, n, 1, "a decision value"))))
		return ret;
	if ((ret = report_new(&r)))
		return ret;
	ti = mlctl_calloc(n, sizeof(*ti));
	pi = mlctl_calloc(n, sizeof(*pi));
	true_sum = mlctl_calloc(nclasses, sizeof(*true_sum));
	pred_sum = mlctl_calloc(nclasses, sizeof(*pred_sum));
	r->confusion = mlctl_calloc(nclasses * nclasses, sizeof(*r->confusion));
	r->class_names = mlctl_calloc(nclasses, sizeof(*r->class_names));
	if (!ti || !pi || !true_sum || !pred_sum || !r->confusion || !r->class_names) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	r->nclasses = nclasses;
	for (c = 0; c < nclasses; c++)
		if (!(r->class_names[c] = mlctl_strdup(class_names[c]))) {
			ret = MLCTL_ENOMEM;
			goto out;
		}
	if ((ret = map_labels(ti, y_true, n, class_values, nclasses, "true")) ||
	    (ret = map_labels(pi, y_pred, n, class_values, nclasses, "predicted")))
		goto out;
	for (i = 0; i < n; i++) {
		r->confusion[ti[i] * nclasses + pi[i]]++;
		true_sum[ti[i]]++;
		pred_sum[pi[i]]++;
	}
	ret = add_prf(r, &cap, true_sum, pred_sum, n, class_names, proba, dec, ti);
out:
	free(pred_sum);
	free(true_sum);
	free(pi);
	free(ti);
	if (ret)
		metrics_report_free(r);
	else
		*out = r;
	return ret;
}

int metrics_regression(metrics_report **out, const double *y_true, const double *y_pred, size_t n)
{
	metrics_report *r = NULL;
	double *sq = NULL, *ab = NULL, mean, num, den, mse, r2, maxe = 0;
	size_t i, cap = 0;
	int ret;

	*out = NULL;
	if (n == 0)
		return mlctl_error_set(MLCTL_EUSAGE, "metrics need at least one row");
	if ((ret = check_finite(y_true, n, 1, "a true value")) ||
	    (ret = check_finite(y_pred, n, 1, "a predicted value")) ||
	    (ret = report_new(&r)))
		return ret;
	sq = mlctl_calloc(n, sizeof(*sq));
	ab = mlctl_calloc(n, sizeof(*ab));
	if (!sq || !ab) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		double d = y_true[i] - y_pred[i];

		sq[i] = d * d;
		ab[i] = fabs(d);
		if (ab[i] > maxe)
			maxe = ab[i];
	}
	mse = np_sum(sq, n) / (double)n;
	num = np_sum(sq, n);
	mean = np_sum(y_true, n) / (double)n;
	for (i = 0; i < n; i++)
		sq[i] = (y_true[i] - mean) * (y_true[i] - mean);
	den = np_sum(sq, n);
	/* sklearn: undefined below two rows (nan); force_finite: perfect → 1, constant → 0. */
	if (n < 2)
		r2 = NAN;
	else if (num == 0)
		r2 = 1.0;
	else if (den == 0)
		r2 = 0.0;
	else
		r2 = 1 - num / den;
	if ((ret = report_add(r, &cap, mse, "mse")) ||
	    (ret = report_add(r, &cap, sqrt(mse), "rmse")) ||
	    (ret = report_add(r, &cap, np_sum(ab, n) / (double)n, "mae")) ||
	    (ret = report_add(r, &cap, r2, "r2")) ||
	    (ret = report_add(r, &cap, maxe, "max_error")))
		goto out;
out:
	free(ab);
	free(sq);
	if (ret)
		metrics_report_free(r);
	else
		*out = r;
	return ret;
}

int metrics_oneclass(metrics_report **out, const double *y_pred, size_t n)
{
	metrics_report *r = NULL;
	size_t i, outliers = 0, cap = 0;
	int ret;

	*out = NULL;
	if (n == 0)
		return mlctl_error_set(MLCTL_EUSAGE, "metrics need at least one row");
	if ((ret = report_new(&r)))
		return ret;
	for (i = 0; i < n; i++)
		outliers += y_pred[i] == -1;
	if ((ret = report_add(r, &cap, (double)outliers / (double)n, "outlier_rate")) ||
	    (ret = report_add(r, &cap, (double)n, "n"))) {
		metrics_report_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

bool metrics_get(const metrics_report *r, const char *name, double *out)
{
	size_t i;

	for (i = 0; r && i < r->nvalues; i++) {
		if (strcmp(r->values[i].name, name) == 0) {
			*out = r->values[i].value;
			return true;
		}
	}
	return false;
}

/* Length of the base name of a per-class metric ("recall" in "recall[yes]"), 0 if not one. */
size_t metrics_per_class_base(const char *name)
{
	size_t i, len;
	const char *br = strchr(name, '[');

	len = strlen(name);
	if (!br || len < 3 || name[len - 1] != ']' || br == name + len - 2)
		return 0;
	for (i = 0; i < ARRAY_SIZE(per_class_metrics); i++)
		if (strlen(per_class_metrics[i]) == (size_t)(br - name) &&
		    strncmp(name, per_class_metrics[i], (size_t)(br - name)) == 0)
			return (size_t)(br - name);
	return 0;
}

const char *metrics_known_name(size_t i, bool *per_class)
{
	if (i < ARRAY_SIZE(known_metrics)) {
		*per_class = false;
		return known_metrics[i].name;
	}
	i -= ARRAY_SIZE(known_metrics);
	if (i < ARRAY_SIZE(per_class_metrics)) {
		*per_class = true;
		return per_class_metrics[i];
	}
	return NULL;
}

bool metrics_higher_is_better(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known_metrics); i++)
		if (strcmp(name, known_metrics[i].name) == 0)
			return known_metrics[i].higher_is_better;
	/* Every per-class metric (precision, recall, f1, support) grows with quality. */
	return true;
}

bool metrics_known(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known_metrics); i++)
		if (strcmp(name, known_metrics[i].name) == 0)
			return true;
	return metrics_per_class_base(name) > 0;
}

void metrics_report_free(metrics_report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nvalues; i++)
		free(r->values[i].name);
	free(r->values);
	for (i = 0; r->class_names && i < r->nclasses; i++)
		free(r->class_names[i]);
	free(r->class_names);
	free(r->confusion);
	free(r);
}
