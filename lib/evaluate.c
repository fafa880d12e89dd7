/*
 * evaluate.c — predictions and metrics for a model on a transformed matrix (floor 3).
 * libsvm orders classes by first appearance in the training data and orients binary
 * decision values towards its first class; the metrics module wants classes in ascending
 * value order with the decision positive for the larger one. This file does that mapping.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "evaluate.h"
#include "model.h"
#include "rng.h"
#include "scorer.h"
#include "util.h"
#include "banned.h"

int evaluate_classes_init(evaluate_classes *c, const mlctl_schema *s)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->n = schema_nclasses(s);
	c->values = mlctl_calloc(c->n ? c->n : 1, sizeof(*c->values));
	c->names = mlctl_calloc(c->n ? c->n : 1, sizeof(*c->names));
	if (!c->values || !c->names) {
		evaluate_classes_release(c);
		return MLCTL_ENOMEM;
	}
	for (i = 0; i < c->n; i++)
		c->values[i] = schema_class_value(s, i);
	qsort(c->values, c->n, sizeof(*c->values), mlctl_cmp_double);
	for (i = 0; i < c->n; i++)
		c->names[i] = schema_class_for_value(s, c->values[i]);
	return 0;
}

void evaluate_classes_release(evaluate_classes *c)
{
	free(c->values);
	free((void *)c->names);
	memset(c, 0, sizeof(*c));
}

/* Index of value v in the ascending class list, or -1. */
static long class_index(const evaluate_classes *c, double v)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->values[i] == v)
			return (long)i;
	return -1;
}

/* Rows per piece of work for the scorer threads: fixed, so that every row is scored in the
 * same batch whatever the number of threads, and the results do not depend on it. */
#define EVAL_CHUNK 512

typedef struct eval_job {
	const fast_scorer *scorer;
	const schema_matrix *x;
	double *labels, *dec, *prob;
	double *prob_labels;    /* svm_predict_probability()'s labels, not used */
	size_t ndec, nprob, next;
	int ret;
	pthread_mutex_t mu;
} eval_job;

static void *eval_worker(void *arg)
{
	eval_job *j = arg;
	const struct svm_node *const *rows;
	size_t n = (size_t)j->x->prob.l, at, len;
	int ret;

	for (;;) {
		pthread_mutex_lock(&j->mu);
		at = j->next;
		j->next += EVAL_CHUNK;
		ret = j->ret;
		pthread_mutex_unlock(&j->mu);
		if (ret || at >= n)
			return NULL;
		rows = (const struct svm_node *const *)j->x->prob.x + at;
		len = n - at < EVAL_CHUNK ? n - at : EVAL_CHUNK;
		ret = scorer_predict(j->scorer, rows, len, j->labels + at, j->dec ? j->dec + at * j->ndec : NULL, NULL);
		if (!ret && j->prob)
			ret = scorer_predict(j->scorer, rows, len, j->prob_labels + at, NULL, j->prob + at * j->nprob);
		if (ret) {
			pthread_mutex_lock(&j->mu);
			if (!j->ret)
				j->ret = ret;
			pthread_mutex_unlock(&j->mu);
		}
	}
}

/*
 * What svm_predict, svm_predict_values and svm_predict_probability give for every row, in
 * libsvm's class order: by the dense batch scorer on all cores when the model allows it
 * (scoring the training rows with svm_predict one by one took longer than the fit), else
 * row by row. labels are always svm_predict()'s; dec gets ndec values per row and prob
 * nr_class, either may be NULL.
 */
static int predict_raw(double *labels, double *dec, double *prob, const struct svm_model *m,
		       const schema_matrix *x)
{
	size_t n = (size_t)x->prob.l, i, nthreads, started = 0;
	int nr = svm_get_nr_class(m);
	eval_job j = { 0 };
	fast_scorer *sc;
	pthread_t *tids = NULL;
	double *buf;
	long ncpu;

	if (scorer_create(&sc, m) == 0) {
		if (prob && !(j.prob_labels = mlctl_calloc(n ? n : 1, sizeof(*j.prob_labels)))) {
			scorer_free(sc);
			return MLCTL_ENOMEM;
		}
		j.scorer = sc;
		j.x = x;
		j.labels = labels;
		j.dec = dec;
		j.prob = prob;
		j.ndec = scorer_ndec(j.scorer);
		j.nprob = (size_t)nr;
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = ncpu > 1 ? (size_t)ncpu : 1;
		if (nthreads > (n + EVAL_CHUNK - 1) / EVAL_CHUNK)
			nthreads = (n + EVAL_CHUNK - 1) / EVAL_CHUNK;
		pthread_mutex_init(&j.mu, NULL);
		if (nthreads > 1 && (tids = mlctl_calloc(nthreads - 1, sizeof(*tids))))
			for (; started < nthreads - 1; started++)
				if (mlctl_thread_start(&tids[started], eval_worker, &j))
					break;
		eval_worker(&j);
		for (i = 0; i < started; i++)
			pthread_join(tids[i], NULL);
		pthread_mutex_destroy(&j.mu);
		free(tids);
		scorer_free(sc);
		free(j.prob_labels);
		return j.ret;
	}
	mlctl_error_clear(); /* not dense-able: libsvm's own path */
	buf = mlctl_calloc((size_t)(nr > 1 ? nr * (nr - 1) / 2 : 1), sizeof(*buf));
	if (!buf)
		return MLCTL_ENOMEM;
	for (i = 0; i < n; i++) {
		if (prob)
			(void)svm_predict_probability(m, x->prob.x[i], prob + i * (size_t)nr);
		labels[i] = svm_predict(m, x->prob.x[i]);
		if (dec) {
			svm_predict_values(m, x->prob.x[i], buf);
			dec[i] = buf[0];
		}
	}
	free(buf);
	return 0;
}

int evaluate_predict(double *pred, double **proba, double **dec, const struct svm_model *m,
		     const mlctl_schema *s, const schema_matrix *x)
{
	int nr = svm_get_nr_class(m), type = svm_get_svm_type(m), labels[256];
	size_t n = (size_t)x->prob.l, i, k;
	bool classify = model_is_classifier(type), prob = classify && svm_check_probability_model(m);
	bool binary = classify && nr == 2;
	evaluate_classes cls = { 0 };
	double *raw_prob = NULL, flip = 1;
	long map[256];
	int ret = 0;

	*proba = NULL;
	*dec = NULL;
	if (classify) {
		if (nr > 256)
			return mlctl_error_set(MLCTL_EDATA, "models with more than 256 classes are not supported");
		if ((ret = evaluate_classes_init(&cls, s)))
			return ret;
		svm_get_labels(m, labels);
		for (k = 0; k < (size_t)nr; k++)
			map[k] = class_index(&cls, labels[k]);
	}
	if (prob && (!(*proba = mlctl_calloc(n * cls.n, sizeof(**proba))) ||
		     !(raw_prob = mlctl_calloc(n * (size_t)nr, sizeof(*raw_prob))))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if (binary && !(*dec = mlctl_calloc(n ? n : 1, sizeof(**dec)))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if ((ret = predict_raw(pred, *dec, raw_prob, m, x)))
		goto out;
	/* libsvm's decision value is positive for labels[0]; metrics want the larger class. */
	if (binary && cls.n == 2 && labels[0] == cls.values[0])
		flip = -1;
	/*
	 * The label is always svm_predict()'s, as `mlctl predict` without --proba and the
	 * cross-validation in tune.c give it (and sklearn's SVC.predict): the metrics must
	 * describe the labels the model hands out. svm_predict_probability() may pick another
	 * class; its probabilities only feed roc_auc and log_loss.
	 */
	for (i = 0; i < n; i++) {
		if (prob)
			for (k = 0; k < (size_t)nr; k++)
				if (map[k] >= 0)
					(*proba)[i * cls.n + (size_t)map[k]] = raw_prob[i * (size_t)nr + k];
		if (binary)
			(*dec)[i] *= flip;
	}
out:
	free(raw_prob);
	evaluate_classes_release(&cls);
	if (ret) {
		free(*proba);
		free(*dec);
		*proba = *dec = NULL;
	}
	return ret;
}

int evaluate_report(metrics_report **out, const mlctl_schema *s, const double *y, const double *pred,
		    size_t n, const double *proba, const double *dec)
{
	evaluate_classes cls;
	int ret;

	switch (schema_get_task(s)) {
	case SCHEMA_TASK_REGRESS:
		return metrics_regression(out, y, pred, n);
	case SCHEMA_TASK_ONECLASS:
		return metrics_oneclass(out, pred, n);
	case SCHEMA_TASK_CLASSIFY:
		break;
	}
	if ((ret = evaluate_classes_init(&cls, s)))
		return ret;
	ret = metrics_classification(out, y, pred, n, cls.values, cls.names, cls.n, proba,
				     cls.n == 2 ? dec : NULL);
	evaluate_classes_release(&cls);
	return ret;
}

void evaluate_ctx_init(evaluate_ctx *c, const mlctl_schema *s, const char *metric)
{
	memset(c, 0, sizeof(*c));
	c->schema = s;
	c->metric = metric;
	snprintf(c->cv_key, sizeof(c->cv_key), "cv_%s", metric);
}

const char *evaluate_grid_key(evaluate_ctx *c, size_t axis, const char *param)
{
	if (axis >= 8)
		axis = 7;
	snprintf(c->grid_keys[axis], sizeof(c->grid_keys[axis]), "grid_%s", param);
	return c->grid_keys[axis];
}

double evaluate_score(const double *y, const double *pred, const double *dec, size_t n, void *ctx)
{
	const evaluate_ctx *c = ctx;
	metrics_report *r = NULL;
	double v = NAN;

	if (evaluate_report(&r, c->schema, y, pred, n, NULL, dec) == 0 && !metrics_get(r, c->metric, &v))
		v = NAN;
	metrics_report_free(r);
	return v;
}

double evaluate_param_value(const struct svm_parameter *p, const char *name)
{
	if (strcmp(name, "C") == 0 || strcmp(name, "c") == 0)
		return p->C;
	if (strcmp(name, "gamma") == 0)
		return p->gamma;
	if (strcmp(name, "degree") == 0)
		return p->degree;
	if (strcmp(name, "coef0") == 0)
		return p->coef0;
	if (strcmp(name, "nu") == 0)
		return p->nu;
	if (strcmp(name, "epsilon") == 0 || strcmp(name, "p") == 0)
		return p->p;
	return NAN;
}

int evaluate_single_grid(tune_grid **out, const struct svm_parameter *p)
{
	char spec[64], num[32];

	snprintf(spec, sizeof(spec), "C=%s", mlctl_fmt_double(num, p->C));
	return tune_grid_parse(out, spec);
}

/* The group of rows idx[*start, *end) that split_adjust() moves a row of: the largest
 * class when stratified (the first of equal ones), else all rows. */
static void largest_group(size_t *start, size_t *end, const size_t *idx, const double *y, size_t n, bool stratify)
{
	size_t a, b;

	*start = 0;
	*end = n;
	if (!stratify)
		return;
	*end = 0;
	for (a = 0; a < n; a = b) {
		for (b = a + 1; b < n && y[idx[b]] == y[idx[a]]; b++)
			;
		if (b - a > *end - *start) {
			*start = a;
			*end = b;
		}
	}
}

int evaluate_split(int *is_test, const double *y, size_t n, bool stratify, double frac, uint64_t seed)
{
	uint64_t state = seed ^ 0x5eed5eedull;
	size_t *idx, i, start, end, ntest = 0;
	int ret = 0;

	/* A share of 1 or more would also write past the end of a class's rows. */
	if (!(frac > 0 && frac < 1))
		return mlctl_error_set(MLCTL_EUSAGE, "holdout fraction %g is not between 0 and 1", frac);
	if (!(idx = mlctl_calloc(n ? n : 1, sizeof(*idx))))
		return MLCTL_ENOMEM;
	for (i = 0; i < n; i++)
		is_test[i] = 0;
	/* Rows grouped by class, each class shuffled; the same share of each class is held
	 * out. Regression draws from all rows at once. */
	if ((ret = rng_class_order(idx, y, n, stratify, &state))) {
		free(idx);
		return ret;
	}
	for (start = 0; start < n; start = end) {
		size_t take, k;

		end = start + 1;
		if (stratify)
			while (end < n && y[idx[end]] == y[idx[start]])
				end++;
		else
			end = n;
		take = (size_t)llround(frac * (double)(end - start));
		for (k = 0; k < take; k++)
			is_test[idx[start + k]] = 1;
		ntest += take;
	}
	/* Rounding each class's share can hold out every row (2 rows, 0.5: one of each
	 * class) or none (5 rows, 0.05). Then one row of the largest class changes side: its
	 * first shuffled row joins the test side, or its last test row returns to training. */
	if (n >= 2 && (ntest == 0 || ntest == n)) {
		largest_group(&start, &end, idx, y, n, stratify);
		if (ntest == 0)
			is_test[idx[start]] = 1;
		else
			is_test[idx[end - 1]] = 0;
	}
	free(idx);
	return ret;
}

int evaluate_describe_params(const struct svm_parameter *p, int (*add)(void *ctx, const char *k, const char *v),
			     void *ctx)
{
	char num[32];
	int ret;

	if ((ret = add(ctx, "type", model_type_name(p->svm_type))) ||
	    (ret = add(ctx, "kernel", model_kernel_name(p->kernel_type))))
		return ret;
	if (p->svm_type == C_SVC || p->svm_type == EPSILON_SVR || p->svm_type == NU_SVR)
		if ((ret = add(ctx, "C", mlctl_fmt_double(num, p->C))))
			return ret;
	if (p->svm_type == NU_SVC || p->svm_type == ONE_CLASS || p->svm_type == NU_SVR)
		if ((ret = add(ctx, "nu", mlctl_fmt_double(num, p->nu))))
			return ret;
	if (p->svm_type == EPSILON_SVR && (ret = add(ctx, "epsilon", mlctl_fmt_double(num, p->p))))
		return ret;
	if (p->kernel_type != LINEAR && (ret = add(ctx, "gamma", mlctl_fmt_double(num, p->gamma))))
		return ret;
	if (p->kernel_type == POLY && (ret = add(ctx, "degree", mlctl_fmt_double(num, p->degree))))
		return ret;
	if ((p->kernel_type == POLY || p->kernel_type == SIGMOID) && (ret = add(ctx, "coef0", mlctl_fmt_double(num, p->coef0))))
		return ret;
	return add(ctx, "probability", p->probability ? "1" : "0");
}
