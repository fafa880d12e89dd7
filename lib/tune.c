/*
 * tune.c — grids of parameters, seeded k-fold assignment, cross-validated predictions and
 * a grid search over a pthread pool (floor 3).
 *
 * Determinism: folds come from rng.h's splitmix64 seeded by the caller, never from rand(); CV
 * models are trained with probability off, so libsvm draws nothing from rand() either;
 * every (grid point, fold) job writes only its own held-out rows. Hence the same scores
 * whatever the number of threads or the order in which jobs finish.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "model.h"
#include "rng.h"
#include "tune.h"
#include "util.h"
#include "banned.h"

#define TUNE_MAX_AXIS_VALUES 10000
#define TUNE_MAX_POINTS      1000000

/* ---- grids ---- */

void tune_grid_free(tune_grid *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->naxes; i++) {
		free(g->axes[i].name);
		free(g->axes[i].values);
	}
	free(g->axes);
	free(g);
}

size_t tune_grid_size(const tune_grid *g)
{
	size_t i, n = 1;

	if (!g || g->naxes == 0)
		return 0;
	for (i = 0; i < g->naxes; i++)
		n *= g->axes[i].nvalues;
	return n;
}

int tune_grid_apply(const tune_grid *g, size_t i, struct svm_parameter *p)
{
	size_t a;
	int ret;

	if (i >= tune_grid_size(g))
		return mlctl_error_set(MLCTL_EUSAGE, "grid point %zu out of range", i);
	/* Row-major: the last axis varies fastest. */
	for (a = g->naxes; a-- > 0;) {
		const tune_axis *ax = &g->axes[a];

		ret = model_param_set_number(p, ax->name, ax->values[i % ax->nvalues]);
		if (ret)
			return ret;
		i /= ax->nvalues;
	}
	return 0;
}

/* A number, or base^exponent ("2^-5"). */
static bool parse_value(const char *s, double *out)
{
	const char *caret = strchr(s, '^');
	char base[64];
	double b, e;

	if (!caret)
		return mlctl_parse_double(s, out) && isfinite(*out);
	if ((size_t)(caret - s) >= sizeof(base))
		return false;
	memcpy(base, s, (size_t)(caret - s));
	base[caret - s] = '\0';
	if (!mlctl_parse_double(base, &b) || !mlctl_parse_double(caret + 1, &e))
		return false;
	*out = pow(b, e);
	return isfinite(*out);
}

static int axis_push(tune_axis *ax, double v)
{
	double *nv;

	if (ax->nvalues >= TUNE_MAX_AXIS_VALUES)
		return mlctl_error_set(MLCTL_EUSAGE, "%s: more than %d values", ax->name,
				       TUNE_MAX_AXIS_VALUES);
	nv = mlctl_reallocarray(ax->values, ax->nvalues + 1, sizeof(*nv));
	if (!nv)
		return mlctl_error_oom();
	ax->values = nv;
	nv[ax->nvalues++] = v;
	return 0;
}

/*
 * "start..end:STEP" with STEP xF (multiply), /F (divide), +S or -S. Values are computed
 * from start and the step count, not by accumulation, so 2^-5..2^15:x4 gives exact
 * powers; end is included when reached within a relative 1e-9.
 */
static int parse_range(tune_axis *ax, const char *text, const char *dots)
{
	char buf[128];
	const char *colon = strchr(dots + 2, ':');
	double start, end, step, v, tol;
	size_t k, len = (size_t)(dots - text);
	char op;
	int ret;

	if (!colon)
		return mlctl_error_set(MLCTL_EUSAGE, "%s: range \"%s\" needs a step (:xF, :/F, :+S "
				       "or :-S)", ax->name, text);
	if (len >= sizeof(buf) || (size_t)(colon - dots - 2) >= sizeof(buf))
		return mlctl_error_set(MLCTL_EUSAGE, "%s: \"%s\" is too long", ax->name, text);
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (!parse_value(buf, &start))
		return mlctl_error_set(MLCTL_EUSAGE, "%s: \"%s\" is not a number", ax->name, buf);
	len = (size_t)(colon - dots - 2);
	memcpy(buf, dots + 2, len);
	buf[len] = '\0';
	if (!parse_value(buf, &end))
		return mlctl_error_set(MLCTL_EUSAGE, "%s: \"%s\" is not a number", ax->name, buf);
	op = colon[1];
	if ((op != 'x' && op != '/' && op != '+' && op != '-') || !parse_value(colon + 2, &step) ||
	    !(step > 0))
		return mlctl_error_set(MLCTL_EUSAGE, "%s: step \"%s\" is not xF, /F, +S or -S with "
				       "a positive number", ax->name, colon + 1);
	if ((op == 'x' || op == '/') && !(step > 1))
		return mlctl_error_set(MLCTL_EUSAGE, "%s: step \"%s\" must be greater than 1",
				       ax->name, colon + 1);
	if ((op == 'x' || op == '/') && !(start > 0 && end > 0))
		return mlctl_error_set(MLCTL_EUSAGE, "%s: a geometric range \"%s\" needs positive ends",
				       ax->name, text);
	if (((op == 'x' || op == '+') && start > end) || ((op == '/' || op == '-') && start < end))
		return mlctl_error_set(MLCTL_EUSAGE, "%s: range \"%s\" never reaches its end",
				       ax->name, text);
	tol = 1e-9 * fmax(fabs(start), fabs(end));
	for (k = 0; ; k++) {
		if (op == 'x')
			v = start * pow(step, (double)k);
		else if (op == '/')
			v = start / pow(step, (double)k);
		else if (op == '+')
			v = start + step * (double)k;
		else
			v = start - step * (double)k;
		if ((op == 'x' || op == '+') ? v > end + tol : v < end - tol)
			break;
		ret = axis_push(ax, v);
		if (ret)
			return ret;
	}
	return 0;
}

/* A list "a|b|c" or "a;b;c" (or a single value). */
static int parse_list(tune_axis *ax, char *text)
{
	char *s = text, *sep;
	double v;
	int ret;

	for (;;) {
		sep = s + strcspn(s, "|;");
		if (*sep) {
			*sep = '\0';
		} else {
			sep = NULL;
		}
		if (!parse_value(s, &v))
			return mlctl_error_set(MLCTL_EUSAGE, "%s: \"%s\" is not a number", ax->name, s);
		ret = axis_push(ax, v);
		if (ret)
			return ret;
		if (!sep)
			return 0;
		s = sep + 1;
	}
}

/* Check every value of ax against model_param_set's rules for its parameter. */
static int axis_check(const tune_axis *ax)
{
	struct svm_parameter p;
	size_t i;
	int ret;

	if (!model_param_is_numeric(ax->name))
		return mlctl_error_set(MLCTL_EUSAGE, "\"%s\" cannot be tuned (one of C, gamma, degree, "
				       "coef0, nu, epsilon, cache, tolerance, shrinking, probability)",
				       ax->name);
	model_param_defaults(&p);
	for (i = 0; i < ax->nvalues; i++) {
		ret = model_param_set_number(&p, ax->name, ax->values[i]);
		if (ret)
			return mlctl_error_prefix("grid");
	}
	return 0;
}

static int parse_axis(tune_grid *g, char *part)
{
	char *eq = strchr(part, '=');
	const char *dots;
	tune_axis *ax, *axes;
	size_t i;
	int ret;

	if (!eq || eq == part || !eq[1])
		return mlctl_error_set(MLCTL_EUSAGE, "grid: \"%s\" is not NAME=VALUES", part);
	*eq = '\0';
	for (i = 0; i < g->naxes; i++)
		if (strcmp(g->axes[i].name, part) == 0)
			return mlctl_error_set(MLCTL_EUSAGE, "grid: %s appears twice", part);
	axes = mlctl_reallocarray(g->axes, g->naxes + 1, sizeof(*axes));
	if (!axes)
		return mlctl_error_oom();
	g->axes = axes;
	ax = &g->axes[g->naxes++];
	memset(ax, 0, sizeof(*ax));
	ax->name = mlctl_strdup(part);
	if (!ax->name)
		return MLCTL_ENOMEM;
	dots = strstr(eq + 1, "..");
	ret = dots ? parse_range(ax, eq + 1, dots) : parse_list(ax, eq + 1);
	if (!ret)
		ret = axis_check(ax);
	return ret;
}

int tune_grid_parse(tune_grid **out, const char *spec)
{
	tune_grid *g;
	char *copy, *s, *comma;
	size_t a, n;
	int ret = 0;

	*out = NULL;
	if (!spec || !*spec)
		return mlctl_error_set(MLCTL_EUSAGE, "grid: empty specification");
	g = mlctl_calloc(1, sizeof(*g));
	copy = mlctl_strdup(spec);
	if (!g || !copy) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	for (s = copy; s; s = comma) {
		comma = strchr(s, ',');
		if (comma)
			*comma++ = '\0';
		ret = parse_axis(g, s);
		if (ret)
			goto out_free;
	}
	/* The product of the axis sizes, overflow-checked. */
	for (a = 0, n = 1; a < g->naxes; a++) {
		size_t m = g->axes[a].nvalues;

		if (m && n > TUNE_MAX_POINTS / m) {
			ret = mlctl_error_set(MLCTL_EUSAGE, "grid: more than %d points", TUNE_MAX_POINTS);
			goto out_free;
		}
		n *= m;
	}
	*out = g;
	g = NULL;
out_free:
	tune_grid_free(g);
	free(copy);
	return ret;
}

int tune_grid_default(tune_grid **out)
{
	return tune_grid_parse(out, "C=2^-5..2^15:x4,gamma=2^3..2^-15:/4");
}

/* ---- folds ---- */

/*
 * Stratified: rows sorted by class (ascending label, then row), each class shuffled on
 * its own, then all dealt round-robin in that order so every fold gets each class's
 * share (within one) and the folds' sizes differ by at most one.
 */
int tune_folds(int *out_fold, const double *y, size_t n, int k, bool stratify, uint64_t seed)
{
	uint64_t state = seed;
	size_t *order, i;
	int ret;

	if (k < 2 || (size_t)k > n)
		return mlctl_error_set(MLCTL_EUSAGE, "cannot make %d folds of %zu rows", k, n);
	order = mlctl_calloc(n, sizeof(*order));
	if (!order)
		return MLCTL_ENOMEM;
	if ((ret = rng_class_order(order, y, n, stratify, &state)) == 0)
		for (i = 0; i < n; i++)
			out_fold[order[i]] = (int)(i % (size_t)k);
	free(order);
	return ret;
}

/* ---- cross-validated predictions ---- */

/* Train on the rows outside fold f and predict the rows in it. train_x/train_y hold n. */
static int cv_fold(double *pred, double *dec, const struct svm_problem *prob,
		   const struct svm_parameter *p, int nfeatures, const int *fold, int f,
		   struct svm_node **train_x, double *train_y)
{
	struct svm_problem sub;
	struct svm_model *m = NULL;
	double dv[1];
	size_t i, l = 0;
	bool binary;
	int ret;

	for (i = 0; i < (size_t)prob->l; i++) {
		if (fold[i] != f) {
			train_x[l] = prob->x[i];
			train_y[l++] = prob->y[i];
		}
	}
	sub.l = (int)l;
	sub.x = train_x;
	sub.y = train_y;
	ret = model_train(&m, &sub, p, nfeatures, 0);
	if (ret)
		return ret;
	binary = model_is_classifier(m->param.svm_type) && m->nr_class == 2;
	for (i = 0; i < (size_t)prob->l; i++) {
		if (fold[i] != f)
			continue;
		if (binary) {
			pred[i] = svm_predict_values(m, prob->x[i], dv);
			/* libsvm's value is positive for label[0]; ours for the larger label. */
			if (dec)
				dec[i] = m->label[0] > m->label[1] ? dv[0] : -dv[0];
		} else {
			pred[i] = svm_predict(m, prob->x[i]);
			if (dec)
				dec[i] = 0;
		}
	}
	model_free(m);
	return 0;
}

int tune_cv_predict(double *out_pred, double *out_dec, const struct svm_problem *prob,
		    const struct svm_parameter *p, int nfeatures, const int *fold, int k)
{
	struct svm_parameter q = *p;
	struct svm_node **x;
	double *y;
	int f, ret = 0;

	if (!prob || prob->l <= 0 || k < 2)
		return mlctl_error_set(MLCTL_EUSAGE, "cross-validation needs rows and k >= 2");
	q.probability = 0;  /* probability training would draw from rand() */
	x = mlctl_calloc((size_t)prob->l, sizeof(*x));
	y = mlctl_calloc((size_t)prob->l, sizeof(*y));
	if (!x || !y) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	for (f = 0; f < k && !ret; f++)
		ret = cv_fold(out_pred, out_dec, prob, &q, nfeatures, fold, f, x, y);
out_free:
	free(x);
	free(y);
	return ret;
}

/* ---- grid search on a thread pool ---- */

/* One grid point while its folds run: held-out predictions fill in fold by fold. */
struct point_state {
	double *pred, *dec;
	int folds_done;
	double seconds;
};

struct pool {
	const struct svm_problem *prob;
	int nfeatures;
	const tune_grid *grid;
	const tune_options *opts;
	int *fold;
	bool binary;                 /* pass dec to the scorer */
	tune_score_fn score;
	void *score_ctx;
	tune_result *res;
	struct point_state *pts;
	size_t njobs, next_job, points_done;
	pthread_mutex_t lock;
	bool stop, stopped_by_callback;
	int err_code;                /* the error of the earliest failing job */
	size_t err_job;
	char err_msg[sizeof(((mlctl_error *)0)->message)];
};

/* The default score: accuracy for classifiers, mean squared error otherwise. */
static double score_accuracy(const double *y, const double *pred, const double *dec, size_t n,
			     void *ctx)
{
	size_t i, ok = 0;

	for (i = 0; i < n; i++)
		ok += y[i] == pred[i];
	return n ? (double)ok / (double)n : 0;
}

static double score_mse(const double *y, const double *pred, const double *dec, size_t n,
			void *ctx)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += (y[i] - pred[i]) * (y[i] - pred[i]);
	return n ? s / (double)n : 0;
}

/* Called with the lock held when job j failed: keep the earliest job's error. */
static void pool_fail(struct pool *pl, size_t j, const mlctl_error *e)
{
	if (!pl->err_code || j < pl->err_job) {
		pl->err_code = e->code ? e->code : MLCTL_ERROR;
		pl->err_job = j;
		memcpy(pl->err_msg, e->message, sizeof(pl->err_msg));
	}
	pl->stop = true;
}

/* Called with the lock held when the last fold of point i is in: score and report. */
static void pool_point_done(struct pool *pl, size_t i)
{
	struct point_state *ps = &pl->pts[i];
	size_t n = (size_t)pl->prob->l;

	pl->res->points[i].score = pl->score(pl->prob->y, ps->pred, pl->binary ? ps->dec : NULL, n,
					     pl->score_ctx);
	pl->res->points[i].seconds = ps->seconds;
	free(ps->pred);
	free(ps->dec);
	ps->pred = ps->dec = NULL;
	pl->points_done++;
	if (pl->opts->progress && !pl->stop &&
	    !pl->opts->progress("grid", pl->points_done, pl->res->npoints, pl->opts->progress_payload)) {
		pl->stop = true;
		pl->stopped_by_callback = true;
	}
}

static void *pool_worker(void *arg)
{
	struct pool *pl = arg;
	size_t n = (size_t)pl->prob->l, k = (size_t)pl->opts->folds;
	struct svm_node **x = calloc(n, sizeof(*x));
	double *y = calloc(n, sizeof(*y));

	pthread_mutex_lock(&pl->lock);
	if (!x || !y)
		pool_fail(pl, 0, &(mlctl_error){ MLCTL_ENOMEM, "out of memory" });
	while (!pl->stop && pl->next_job < pl->njobs) {
		size_t j = pl->next_job++, i = j / k;
		struct point_state *ps = &pl->pts[i];
		struct svm_parameter q;
		double t0;
		int ret = 0;

		if (!ps->pred) {
			ps->pred = calloc(n, sizeof(*ps->pred));
			ps->dec = calloc(n, sizeof(*ps->dec));
			if (!ps->pred || !ps->dec) {
				pool_fail(pl, j, &(mlctl_error){ MLCTL_ENOMEM, "out of memory" });
				break;
			}
		}
		pthread_mutex_unlock(&pl->lock);

		q = pl->res->points[i].param;
		q.probability = 0;  /* probability training would draw from rand() */
		t0 = mlctl_monotonic();
		ret = cv_fold(ps->pred, ps->dec, pl->prob, &q, pl->nfeatures, pl->fold, (int)(j % k),
			      x, y);
		t0 = mlctl_monotonic() - t0;

		pthread_mutex_lock(&pl->lock);
		if (ret) {
			pool_fail(pl, j, mlctl_error_last());
			break;
		}
		ps->seconds += t0;
		if (++ps->folds_done == (int)k)
			pool_point_done(pl, i);
	}
	pthread_mutex_unlock(&pl->lock);
	free(x);
	free(y);
	return NULL;
}

/* True when y holds exactly two distinct values. */
static bool two_classes(const double *y, size_t n)
{
	bool have_b = false;
	double b = 0;
	size_t i;

	for (i = 1; i < n; i++) {
		if (y[i] == y[0] || (have_b && y[i] == b))
			continue;
		if (have_b)
			return false;
		b = y[i];
		have_b = true;
	}
	return have_b;
}

static int pool_setup(struct pool *pl, const struct svm_problem *prob,
		      const struct svm_parameter *base, const tune_grid *g, const tune_options *opts)
{
	size_t i, n = (size_t)prob->l, npoints = tune_grid_size(g), k = (size_t)opts->folds;
	bool cls = model_is_classifier(base->svm_type);
	int ret;

	if (npoints > SIZE_MAX / k)
		return mlctl_error_set(MLCTL_EUSAGE, "grid: too many points");
	pl->njobs = npoints * k;
	pl->res = mlctl_calloc(1, sizeof(*pl->res));
	if (!pl->res)
		return MLCTL_ENOMEM;
	pl->res->npoints = npoints;
	pl->res->points = mlctl_calloc(npoints, sizeof(*pl->res->points));
	pl->pts = mlctl_calloc(npoints, sizeof(*pl->pts));
	pl->fold = mlctl_calloc(n, sizeof(*pl->fold));
	if (!pl->res->points || !pl->pts || !pl->fold)
		return MLCTL_ENOMEM;
	for (i = 0; i < npoints; i++) {
		tune_point *pt = &pl->res->points[i];

		pt->param = *base;
		pt->score = NAN;
		ret = tune_grid_apply(g, i, &pt->param);
		if (ret)
			return ret;
	}
	pl->binary = cls && two_classes(prob->y, n);
	pl->score = opts->score ? opts->score : cls ? score_accuracy : score_mse;
	pl->score_ctx = opts->score ? opts->score_ctx : NULL;
	return tune_folds(pl->fold, prob->y, n, opts->folds, cls, opts->seed);
}

/* Index of the best scored point; ties go to the earliest, NaN never wins. */
static size_t best_point(const tune_result *r, bool higher)
{
	size_t i, best = 0;

	for (i = 1; i < r->npoints; i++) {
		double s = r->points[i].score, b = r->points[best].score;

		if (isnan(s))
			continue;
		if (isnan(b) || (higher ? s > b : s < b))
			best = i;
	}
	return best;
}

int tune_run(tune_result **out, const struct svm_problem *prob, const struct svm_parameter *base,
	     int nfeatures, const tune_grid *g, const tune_options *opts)
{
	struct pool pl;
	pthread_t *tids = NULL;
	long ncpu;
	size_t t, started = 0, nthreads;
	bool higher;
	int ret;

	*out = NULL;
	if (!prob || prob->l <= 0 || !g || tune_grid_size(g) == 0 || !opts)
		return mlctl_error_set(MLCTL_EUSAGE, "tuning needs rows, a grid and options");
	if (opts->folds < 2 || opts->folds > prob->l)
		return mlctl_error_set(MLCTL_EUSAGE, "cannot make %d folds of %d rows", opts->folds,
				       prob->l);
	memset(&pl, 0, sizeof(pl));
	pl.prob = prob;
	pl.nfeatures = nfeatures;
	pl.grid = g;
	pl.opts = opts;
	pthread_mutex_init(&pl.lock, NULL);
	ret = pool_setup(&pl, prob, base, g, opts);
	if (ret)
		goto out_free;

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	nthreads = opts->threads > 0 ? (size_t)opts->threads : ncpu > 0 ? (size_t)ncpu : 1;
	if (nthreads > pl.njobs)
		nthreads = pl.njobs;
	/* The calling thread is one of the workers. */
	if (nthreads > 1) {
		tids = mlctl_calloc(nthreads - 1, sizeof(*tids));
		if (!tids) {
			ret = MLCTL_ENOMEM;
			goto out_free;
		}
		for (t = 0; t + 1 < nthreads; t++)
			if (mlctl_thread_start(&tids[started], pool_worker, &pl) == 0)
				started++;
	}
	pool_worker(&pl);
	for (t = 0; t < started; t++)
		pthread_join(tids[t], NULL);

	if (pl.err_code) {
		ret = mlctl_error_set(pl.err_code, "%s", pl.err_msg);
		goto out_free;
	}
	if (pl.stopped_by_callback) {
		ret = mlctl_error_set(MLCTL_ERROR, "tuning stopped early by request after %zu of %zu "
				      "grid points", pl.points_done, pl.res->npoints);
		goto out_free;
	}
	higher = opts->score ? opts->higher_is_better : model_is_classifier(base->svm_type);
	pl.res->best = best_point(pl.res, higher);
	*out = pl.res;
	pl.res = NULL;
out_free:
	if (pl.pts) {
		for (t = 0; pl.res && t < pl.res->npoints; t++) {
			free(pl.pts[t].pred);
			free(pl.pts[t].dec);
		}
	}
	free(pl.pts);
	free(pl.fold);
	free(tids);
	tune_result_free(pl.res);
	pthread_mutex_destroy(&pl.lock);
	return ret;
}

void tune_result_free(tune_result *r)
{
	if (!r)
		return;
	free(r->points);
	free(r);
}
