/*
 * tune.c — grids of parameters, seeded k-fold assignment, cross-validated predictions, a
 * grid search or successive halving over a pthread pool, and the shared kernel matrix of
 * the points of one kernel (floor 3).
 *
 * Determinism: folds come from rng.h's splitmix64 seeded by the caller, never from rand(); CV
 * models are trained with probability off, so libsvm draws nothing from rand() either;
 * every (point, fold) job writes only its own held-out rows; the shared kernel matrix is
 * computed in blocks whose layout does not depend on the threads. Hence the same scores
 * whatever the number of threads or the order in which jobs finish.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blas.h"
#include "error.h"
#include "model.h"
#include "rng.h"
#include "tune.h"
#include "util.h"
#include "vmath.h"
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

/* Train on the rows outside fold f and predict the rows in it. train_x/train_y hold n.
 * rows, when not NULL, are the rows of the shared kernel matrix (precomputed mode): the
 * fold's training set is a subset of those row pointers, nothing is copied. */
static int cv_fold(double *pred, double *dec, const struct svm_problem *prob,
		   const struct svm_parameter *p, int nfeatures, const int *fold, int f,
		   struct svm_node **train_x, double *train_y, struct svm_node **rows)
{
	struct svm_node **x = rows ? rows : prob->x;
	struct svm_parameter q = *p;
	struct svm_problem sub;
	struct svm_model *m = NULL;
	double dv[1];
	size_t i, l = 0;
	bool binary;
	int ret;

	for (i = 0; i < (size_t)prob->l; i++) {
		if (fold[i] != f) {
			train_x[l] = x[i];
			train_y[l++] = prob->y[i];
		}
	}
	sub.l = (int)l;
	sub.x = train_x;
	sub.y = train_y;
	if (rows)
		q.kernel_type = PRECOMPUTED;
	ret = model_train(&m, &sub, &q, nfeatures, 0);
	if (ret)
		return ret;
	binary = model_is_classifier(m->param.svm_type) && m->nr_class == 2;
	for (i = 0; i < (size_t)prob->l; i++) {
		if (fold[i] != f)
			continue;
		if (binary) {
			pred[i] = svm_predict_values(m, x[i], dv);
			/* libsvm's value is positive for label[0]; ours for the larger label. */
			if (dec)
				dec[i] = m->label[0] > m->label[1] ? dv[0] : -dv[0];
		} else {
			pred[i] = svm_predict(m, x[i]);
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
		ret = cv_fold(out_pred, out_dec, prob, &q, nfeatures, fold, f, x, y, NULL);
out_free:
	free(x);
	free(y);
	return ret;
}

/* ---- the shared kernel matrix ---- */

/*
 * One n x n kernel matrix in libsvm's PRECOMPUTED layout: row i is n + 2 nodes, node 0 =
 * {0, i + 1} (the serial number libsvm's kernel_precomputed and k_function look up: the
 * value of K(i, j) is x_i[serial_j].value), node k = {k, K(i, k - 1)}, then {-1, 0}. The
 * value is computed in fixed blocks of KERN_BLOCK rows, each block's upper triangle by one
 * dgemm, the lower triangle mirrored: the same bits whatever the number of threads.
 */
#define KERN_BLOCK 64

typedef struct kernel_key {
	int type;
	double gamma;
	int degree;
	double coef0;
} kernel_key;

/* The parameters that change K; gamma 0 means 1/features, as model_train() does. */
static kernel_key point_key(const struct svm_parameter *p, int nfeatures)
{
	kernel_key k = { p->kernel_type, 0, 0, 0 };
	double g = p->gamma == 0 && nfeatures > 0 ? 1.0 / nfeatures : p->gamma;

	if (k.type == POLY || k.type == RBF || k.type == SIGMOID)
		k.gamma = g;
	if (k.type == POLY)
		k.degree = p->degree;
	if (k.type == POLY || k.type == SIGMOID)
		k.coef0 = p->coef0;
	return k;
}

static bool key_eq(const kernel_key *a, const kernel_key *b)
{
	return a->type == b->type && a->gamma == b->gamma && a->degree == b->degree &&
	       a->coef0 == b->coef0;
}


typedef struct kmatrix {
	size_t n;
	int d;
	const double *x;             /* n x d: centred (rbf) or as they are */
	const double *sq;            /* rbf: squared norms of the centred rows */
	kernel_key key;
	struct svm_node *nodes;      /* n x (n + 2) */
	struct svm_node **rows;
	size_t nblocks, next_block;
	int phase;                   /* 1: upper triangles, 2: mirror */
	bool failed;
	pthread_mutex_t lock;
} kmatrix;

static void kernel_block(kmatrix *km, size_t b, double *buf)
{
	size_t n = km->n, r0 = b * KERN_BLOCK, r1 = r0 + KERN_BLOCK < n ? r0 + KERN_BLOCK : n;
	size_t i, j, w = n - r0;
	int d = km->d;

	if (km->phase == 2) {
		for (i = r0; i < r1; i++)
			for (j = 0; j < i; j++)
				km->rows[i][j + 1].value = km->rows[j][i + 1].value;
		return;
	}
	if (d > 0)
		blas_dgemm(true, (int)(r1 - r0), (int)w, d, 1.0, km->x + r0 * (size_t)d, d,
			   km->x + r0 * (size_t)d, d, 0.0, buf, (int)w);
	else
		memset(buf, 0, (r1 - r0) * w * sizeof(*buf));
	for (i = r0; i < r1; i++) {
		double *g = buf + (i - r0) * w + (i - r0);   /* columns i..n-1 */
		size_t m = n - i;
		struct svm_node *row = km->rows[i];

		switch (km->key.type) {
		case RBF:
			for (j = 0; j < m; j++) {
				double t = km->sq[i] + km->sq[i + j] - 2 * g[j];

				g[j] = j == 0 || t < 0 ? 0 : -km->key.gamma * t;
			}
			vmath_exp(g, m);
			break;
		case POLY:
			for (j = 0; j < m; j++)
				g[j] = vmath_powi(km->key.gamma * g[j] + km->key.coef0, km->key.degree);
			break;
		case SIGMOID:
			for (j = 0; j < m; j++)
				g[j] = tanh(km->key.gamma * g[j] + km->key.coef0);
			break;
		default:
			break;
		}
		for (j = 0; j < m; j++)
			row[i + j + 1].value = g[j];
	}
}

static void *kernel_worker(void *arg)
{
	kmatrix *km = arg;
	double *buf = km->phase == 1 ? malloc((size_t)KERN_BLOCK * km->n * sizeof(*buf)) : NULL;

	pthread_mutex_lock(&km->lock);
	if (km->phase == 1 && !buf)
		km->failed = true;
	while (!km->failed && km->next_block < km->nblocks) {
		size_t b = km->next_block++;

		pthread_mutex_unlock(&km->lock);
		kernel_block(km, b, buf);
		pthread_mutex_lock(&km->lock);
	}
	pthread_mutex_unlock(&km->lock);
	free(buf);
	return NULL;
}

/* Run fn(arg) on nthreads workers, the calling thread one of them. */
static void run_workers(void *(*fn)(void *), void *arg, size_t nthreads)
{
	pthread_t *tids = nthreads > 1 ? mlctl_calloc(nthreads - 1, sizeof(*tids)) : NULL;
	size_t t, started = 0;

	for (t = 0; tids && t + 1 < nthreads; t++)
		if (mlctl_thread_start(&tids[started], fn, arg) == 0)
			started++;
	fn(arg);
	for (t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
	free(tids);
}

double tune_kernel_bytes(size_t n, int d, size_t nthreads, double cache_mb)
{
	double dn = (double)n, fit = dn * dn * sizeof(float), cache = cache_mb * 1048576.0;

	return dn * (dn + 2) * (double)sizeof(struct svm_node) + dn * sizeof(void *) +
	       2 * dn * (d > 0 ? d : 1) * sizeof(double) + dn * sizeof(double) +
	       (double)nthreads * KERN_BLOCK * dn * sizeof(double) +
	       (double)nthreads * (fit < cache ? fit : cache);
}

/*
 * The dense rows of prob (n x d), and their centred copy with squared norms, stored in the
 * order pos gives: row i of prob is row pos[i] here. A classifier's rows are put in class
 * order (stable), so that the shared kernel's columns of one class lie together: libsvm
 * fits one problem per pair of classes, and its kernel lookups into a row then read two
 * runs of it rather than values scattered over all n. The values do not depend on the
 * order: each row is written as it is, and the means are summed in prob's order.
 */
typedef struct dense_rows {
	size_t n;
	int d;
	double *x, *xc, *sq;
	size_t *pos;
} dense_rows;

static void dense_free(dense_rows *dr)
{
	free(dr->x);
	free(dr->xc);
	free(dr->sq);
	free(dr->pos);
	memset(dr, 0, sizeof(*dr));
}

struct class_key {
	double y;
	size_t i;
};

static int cmp_class_key(const void *a, const void *b)
{
	const struct class_key *p = a, *q = b;

	if (p->y != q->y)
		return p->y < q->y ? -1 : 1;
	return p->i < q->i ? -1 : p->i > q->i;
}

/* pos[i]: where row i goes, in class order for a classifier (stable), else i itself. */
static int class_positions(size_t *pos, const double *y, size_t n, bool classifier)
{
	struct class_key *k;
	size_t i;

	if (!classifier) {
		for (i = 0; i < n; i++)
			pos[i] = i;
		return 0;
	}
	if (!(k = mlctl_calloc(n, sizeof(*k))))
		return MLCTL_ENOMEM;
	for (i = 0; i < n; i++)
		k[i] = (struct class_key){ y[i], i };
	qsort(k, n, sizeof(*k), cmp_class_key);
	for (i = 0; i < n; i++)
		pos[k[i].i] = i;
	free(k);
	return 0;
}

static int dense_build(dense_rows *dr, const struct svm_problem *prob, bool classifier)
{
	size_t i, r, n = (size_t)prob->l;
	int j, d = 0;
	const struct svm_node *e;
	double *mean;

	for (i = 0; i < n; i++)
		for (e = prob->x[i]; e->index != -1; e++)
			if (e->index > d)
				d = e->index;
	dr->n = n;
	dr->d = d;
	dr->x = mlctl_calloc(n * (size_t)(d > 0 ? d : 1), sizeof(double));
	dr->xc = mlctl_calloc(n * (size_t)(d > 0 ? d : 1), sizeof(double));
	dr->sq = mlctl_calloc(n, sizeof(double));
	dr->pos = mlctl_calloc(n, sizeof(*dr->pos));
	mean = mlctl_calloc((size_t)(d > 0 ? d : 1), sizeof(double));
	if (!dr->x || !dr->xc || !dr->sq || !dr->pos || !mean ||
	    class_positions(dr->pos, prob->y, n, classifier)) {
		free(mean);
		dense_free(dr);
		return MLCTL_ENOMEM;
	}
	for (i = 0; i < n; i++)
		for (e = prob->x[i], r = dr->pos[i]; e->index != -1; e++)
			if (e->index >= 1)
				dr->x[r * (size_t)d + (size_t)(e->index - 1)] = e->value;
	/* Distances do not change under translation: centring by the column means keeps
	 * ||x||^2 + ||y||^2 - 2 x.y from cancelling away the digits of large values. */
	for (i = 0; i < n; i++)
		for (j = 0, r = dr->pos[i]; j < d; j++)
			mean[j] += dr->x[r * (size_t)d + (size_t)j];
	for (j = 0; j < d; j++)
		mean[j] /= (double)n;
	for (r = 0; r < n; r++) {
		double s = 0;

		for (j = 0; j < d; j++) {
			double v = dr->x[r * (size_t)d + (size_t)j] - mean[j];

			dr->xc[r * (size_t)d + (size_t)j] = v;
			s += v * v;
		}
		dr->sq[r] = s;
	}
	free(mean);
	return 0;
}

/* The kernel matrix of key over dr's rows, on nthreads workers. */
static int kernel_build(kmatrix *km, const dense_rows *dr, kernel_key key, size_t nthreads)
{
	size_t i, j, n = dr->n;

	memset(km, 0, sizeof(*km));
	km->n = n;
	km->d = dr->d;
	km->key = key;
	km->x = key.type == RBF ? dr->xc : dr->x;
	km->sq = dr->sq;
	km->nodes = mlctl_calloc(n * (n + 2), sizeof(*km->nodes));
	km->rows = mlctl_calloc(n, sizeof(*km->rows));
	if (!km->nodes || !km->rows) {
		free(km->nodes);
		free(km->rows);
		return MLCTL_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct svm_node *row = km->nodes + i * (n + 2);

		km->rows[i] = row;
		row[0] = (struct svm_node){ 0, (double)(i + 1) };
		for (j = 1; j <= n; j++)
			row[j].index = (int)j;
		row[n + 1] = (struct svm_node){ -1, 0 };
	}
	km->nblocks = (n + KERN_BLOCK - 1) / KERN_BLOCK;
	pthread_mutex_init(&km->lock, NULL);
	for (km->phase = 1; km->phase <= 2 && !km->failed; km->phase++) {
		km->next_block = 0;
		run_workers(kernel_worker, km, nthreads < km->nblocks ? nthreads : km->nblocks);
	}
	pthread_mutex_destroy(&km->lock);
	if (km->failed) {
		free(km->nodes);
		free(km->rows);
		km->nodes = NULL;
		km->rows = NULL;
		return mlctl_error_oom();
	}
	return 0;
}

static void kernel_free(kmatrix *km)
{
	free(km->nodes);
	free(km->rows);
	km->nodes = NULL;
	km->rows = NULL;
}

static size_t count_classes(const double *y, size_t n);

/* ---- (point, fold) jobs on a thread pool ---- */

/* One point while its folds run: held-out predictions fill in fold by fold. */
struct point_state {
	double *pred, *dec;
	int folds_done;
	double seconds;
};

/* Everything one search holds: the points so far, the progress, the first error. */
struct search {
	const tune_options *opts;
	int nfeatures;
	bool classifier, higher;
	tune_score_fn score;
	void *score_ctx;
	size_t nthreads;
	tune_result *res;            /* points grow as rounds add them */
	size_t cap;
	size_t done, total;          /* progress over all rounds */
	double best_so_far;
	pthread_mutex_t lock;
	bool stop, stopped_by_callback;
	int err_code;                /* the error of the earliest failing job */
	size_t err_job;
	char err_msg[sizeof(((mlctl_error *)0)->message)];
};

/* The jobs of one group of points over one problem. */
struct pool {
	struct search *s;
	const struct svm_problem *prob;
	const int *fold;
	bool binary;                 /* pass dec to the scorer */
	const size_t *idx;           /* the points (indices into s->res->points) */
	size_t nidx;
	struct point_state *pts;     /* one per idx */
	size_t *order;               /* the order in which idx's points are started */
	struct svm_node **kern;      /* the shared kernel's rows, or NULL */
	double cache_mb;             /* > 0: libsvm's cache for fits from the rows */
	size_t njobs, next_job;
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
static void search_fail(struct search *s, size_t j, const mlctl_error *e)
{
	if (!s->err_code || j < s->err_job) {
		s->err_code = e->code ? e->code : MLCTL_ERROR;
		s->err_job = j;
		memcpy(s->err_msg, e->message, sizeof(s->err_msg));
	}
	s->stop = true;
}

static bool better(double a, double b, bool higher)
{
	if (isnan(a))
		return false;
	return isnan(b) || (higher ? a > b : a < b);
}

struct dec_label {
	double dec;
	bool pos;
};

static int cmp_dec(const void *a, const void *b)
{
	double x = ((const struct dec_label *)a)->dec, y = ((const struct dec_label *)b)->dec;

	return x < y ? -1 : x > y;
}

/* ROC AUC of decision values dec (positive: the larger label) by average ranks; NaN when a
 * class is missing or memory is short. */
static double roc_auc(const double *y, const double *dec, size_t n)
{
	struct dec_label *v = mlctl_calloc(n ? n : 1, sizeof(*v));
	double big = -INFINITY, ranks = 0, npos = 0, auc = NAN;
	size_t i, j;

	if (!v)
		return NAN;
	for (i = 0; i < n; i++)
		big = y[i] > big ? y[i] : big;
	for (i = 0; i < n; i++)
		v[i] = (struct dec_label){ dec[i], y[i] == big };
	qsort(v, n, sizeof(*v), cmp_dec);
	for (i = 0; i < n; i = j) {
		size_t pos = 0;

		for (j = i; j < n && v[j].dec == v[i].dec; j++)
			pos += v[j].pos;
		ranks += (double)pos * ((double)(i + 1 + j) / 2);
		npos += (double)pos;
	}
	if (npos > 0 && npos < (double)n)
		auc = (ranks - npos * (npos + 1) / 2) / (npos * ((double)n - npos));
	free(v);
	return auc;
}

/* Called with the lock held when the last fold of pool point q is in: score and report. */
static void pool_point_done(struct pool *pl, size_t q)
{
	struct search *s = pl->s;
	struct point_state *ps = &pl->pts[q];
	tune_point *pt = &s->res->points[pl->idx[q]];

	pt->score = s->score(pl->prob->y, ps->pred, pl->binary ? ps->dec : NULL,
			     (size_t)pl->prob->l, s->score_ctx);
	pt->seconds = ps->seconds;
	pt->tiebreak = pl->binary ? roc_auc(pl->prob->y, ps->dec, (size_t)pl->prob->l) : NAN;
	free(ps->pred);
	free(ps->dec);
	ps->pred = ps->dec = NULL;
	s->done++;
	if (better(pt->score, s->best_so_far, s->higher))
		s->best_so_far = pt->score;
	if (s->stop)
		return;
	if (s->opts->progress_best
	    ? !s->opts->progress_best(s->done, s->total, s->best_so_far, s->opts->progress_payload)
	    : s->opts->progress &&
	      !s->opts->progress("grid", s->done, s->total, s->opts->progress_payload)) {
		s->stop = true;
		s->stopped_by_callback = true;
	}
}

static void *pool_worker(void *arg)
{
	struct pool *pl = arg;
	struct search *s = pl->s;
	size_t n = (size_t)pl->prob->l, k = (size_t)s->opts->folds;
	struct svm_node **x = calloc(n, sizeof(*x));
	double *y = calloc(n, sizeof(*y));

	pthread_mutex_lock(&s->lock);
	if (!x || !y)
		search_fail(s, 0, &(mlctl_error){ MLCTL_ENOMEM, "out of memory" });
	while (!s->stop && pl->next_job < pl->njobs) {
		size_t j = pl->next_job++, q = pl->order[j / k];
		struct point_state *ps = &pl->pts[q];
		struct svm_parameter p;
		double t0;
		int ret = 0;

		if (!ps->pred) {
			ps->pred = calloc(n, sizeof(*ps->pred));
			ps->dec = calloc(n, sizeof(*ps->dec));
			if (!ps->pred || !ps->dec) {
				search_fail(s, j, &(mlctl_error){ MLCTL_ENOMEM, "out of memory" });
				break;
			}
		}
		p = s->res->points[pl->idx[q]].param;
		pthread_mutex_unlock(&s->lock);

		p.probability = 0;  /* probability training would draw from rand() */
		if (pl->cache_mb > 0)
			p.cache_size = pl->cache_mb;
		t0 = mlctl_monotonic();
		ret = cv_fold(ps->pred, ps->dec, pl->prob, &p, s->nfeatures, pl->fold, (int)(j % k),
			      x, y, pl->kern);
		j = pl->idx[q] * k + j % k;  /* the error of the earliest point and fold wins */
		t0 = mlctl_monotonic() - t0;

		pthread_mutex_lock(&s->lock);
		if (ret) {
			search_fail(s, j, mlctl_error_last());
			break;
		}
		ps->seconds += t0;
		if (++ps->folds_done == (int)k)
			pool_point_done(pl, q);
	}
	pthread_mutex_unlock(&s->lock);
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

/* Run the jobs of points idx[0..nidx) on prob with the given folds. */
static int pool_run(struct search *s, const struct svm_problem *prob, const int *fold,
		    const size_t *idx, size_t nidx, struct svm_node **kern, double cache_mb)
{
	struct pool pl;
	size_t q, k = (size_t)s->opts->folds, nthreads = s->nthreads;

	memset(&pl, 0, sizeof(pl));
	pl.s = s;
	pl.prob = prob;
	pl.fold = fold;
	pl.binary = s->classifier && two_classes(prob->y, (size_t)prob->l);
	pl.idx = idx;
	pl.nidx = nidx;
	pl.kern = kern;
	pl.cache_mb = cache_mb;
	pl.njobs = nidx * k;
	pl.pts = mlctl_calloc(nidx ? nidx : 1, sizeof(*pl.pts));
	pl.order = mlctl_calloc(nidx ? nidx : 1, sizeof(*pl.order));
	if (!pl.pts || !pl.order) {
		free(pl.pts);
		free(pl.order);
		return MLCTL_ENOMEM;
	}
	/* Larger C fits take longer: start them first so that no worker is left alone with a
	 * long fit at the end of the group (the results do not depend on the order). */
	for (q = 0; q < nidx; q++) {
		size_t r = q;

		for (; r > 0 && s->res->points[idx[pl.order[r - 1]]].param.C < s->res->points[idx[q]].param.C; r--)
			pl.order[r] = pl.order[r - 1];
		pl.order[r] = q;
	}
	for (q = 0; q < nidx; q++) {
		s->res->points[idx[q]].rows = (size_t)prob->l;
		s->res->points[idx[q]].precomputed = kern != NULL;
	}
	if (nthreads > pl.njobs)
		nthreads = pl.njobs;
	run_workers(pool_worker, &pl, nthreads);
	for (q = 0; q < nidx; q++) {
		free(pl.pts[q].pred);
		free(pl.pts[q].dec);
	}
	free(pl.pts);
	free(pl.order);
	return s->stop ? -1 : 0;
}

/*
 * Evaluate points idx[0..nidx) on prob: grouped by kernel (first appearance order), each
 * group from one shared kernel matrix when it fits the budget (one matrix alive at a
 * time), else from the rows.
 */
static int evaluate_points(struct search *s, const struct svm_problem *prob, const size_t *idx,
			   size_t nidx)
{
	const tune_options *o = s->opts;
	size_t *group = NULL, ng, q, r, n = (size_t)prob->l;
	bool *taken = NULL;
	dense_rows dr = { 0 };
	struct svm_node **kx = NULL;     /* the kernel's rows in prob's order */
	int *fold = NULL, ret;

	fold = mlctl_calloc(n, sizeof(*fold));
	group = mlctl_calloc(nidx ? nidx : 1, sizeof(*group));
	taken = mlctl_calloc(nidx ? nidx : 1, sizeof(*taken));
	if (!fold || !group || !taken) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if ((ret = tune_folds(fold, prob->y, n, o->folds, s->classifier, o->seed)))
		goto out;
	for (q = 0; q < nidx && !ret; q++) {
		kernel_key key;
		kmatrix km;
		double cache = 0, need;
		const struct svm_parameter *p0 = &s->res->points[idx[q]].param;

		if (taken[q])
			continue;
		key = point_key(p0, s->nfeatures);
		for (ng = 0, r = q; r < nidx; r++) {
			kernel_key kr = point_key(&s->res->points[idx[r]].param, s->nfeatures);

			if (!taken[r] && key_eq(&key, &kr)) {
				taken[r] = true;
				group[ng++] = idx[r];
			}
		}
		memset(&km, 0, sizeof(km));
		if (o->kernel_bytes > 0 && key.type != PRECOMPUTED) {
			if (!dr.x && (ret = dense_build(&dr, prob, s->classifier)))
				break;
			need = tune_kernel_bytes(n, dr.d, s->nthreads, p0->cache_size);
			if (need <= (double)o->kernel_bytes) {
				if ((ret = kernel_build(&km, &dr, key, s->nthreads)))
					break;
			} else {
				cache = (double)o->kernel_bytes / 1048576.0 / (double)s->nthreads;
				if (cache < 1)
					cache = 1;
			}
		}
		if (km.rows) {
			if (!kx && !(kx = mlctl_calloc(n, sizeof(*kx)))) {
				kernel_free(&km);
				ret = MLCTL_ENOMEM;
				break;
			}
			for (r = 0; r < n; r++)
				kx[r] = km.rows[dr.pos[r]];
		}
		ret = pool_run(s, prob, fold, group, ng, km.rows ? kx : NULL, cache);
		if (km.rows)
			s->res->nprecomputed += ng;
		kernel_free(&km);
	}
out:
	dense_free(&dr);
	free(kx);
	free(fold);
	free(group);
	free(taken);
	return ret;
}

/* ---- searches: grid, successive halving, refinement ---- */

/* Append a point (a copy of p) to the result; *out its index. */
static int search_add(struct search *s, const struct svm_parameter *p, int round, size_t grid_index,
		      size_t *out)
{
	tune_point *pts;

	if (s->res->npoints == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;

		if (!(pts = mlctl_reallocarray(s->res->points, cap, sizeof(*pts))))
			return MLCTL_ENOMEM;
		s->res->points = pts;
		s->cap = cap;
	}
	pts = &s->res->points[s->res->npoints];
	memset(pts, 0, sizeof(*pts));
	pts->param = *p;
	pts->score = NAN;
	pts->tiebreak = NAN;
	pts->round = round;
	pts->grid_index = grid_index;
	*out = s->res->npoints++;
	return 0;
}

/* Index of the best scored point on n rows; ties go to the earliest, NaN never wins. */
static size_t best_point(const tune_result *r, bool higher, size_t n)
{
	size_t i, best = SIZE_MAX;

	for (i = 0; i < r->npoints; i++) {
		if (r->points[i].rows != n)
			continue;
		if (best == SIZE_MAX || better(r->points[i].score, r->points[best].score, higher))
			best = i;
	}
	return best == SIZE_MAX ? 0 : best;
}

static int grid_search(struct search *s, const struct svm_problem *prob,
		       const struct svm_parameter *base, const tune_grid *g)
{
	size_t i, np = tune_grid_size(g), *idx = mlctl_calloc(np, sizeof(*idx));
	struct svm_parameter p;
	int ret = 0;

	if (!idx)
		return MLCTL_ENOMEM;
	s->total = np;
	for (i = 0; i < np && !ret; i++) {
		p = *base;
		if (!(ret = tune_grid_apply(g, i, &p)))
			ret = search_add(s, &p, 0, i, &idx[i]);
	}
	if (!ret)
		ret = evaluate_points(s, prob, idx, np);
	s->res->rounds = 1;
	free(idx);
	return ret;
}

/* True when point a ranks before point b in a halving round: a better score; on the same
 * score (binary classes) the better ROC AUC of the CV decision values; then the later grid
 * point, as scikit-learn's _top_k (the last k of an argsort). On the small row samples of
 * the first rounds many points of an unbalanced set tie at the majority rate; the AUC tells
 * the ones whose decision values order the rows from those that only predict the majority. */
static bool ranks_before(const tune_point *a, const tune_point *b, bool higher)
{
	if (better(a->score, b->score, higher))
		return true;
	if (a->score != b->score)
		return false;
	if (better(a->tiebreak, b->tiebreak, true))
		return true;
	if (!(a->tiebreak == b->tiebreak || (isnan(a->tiebreak) && isnan(b->tiebreak))))
		return false;
	return a->grid_index > b->grid_index;
}

/* Sort idx[0..n) best first (NaN last): an insertion sort. */
static void rank_points(const tune_result *r, size_t *idx, size_t n, bool higher)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		size_t v = idx[i];

		for (j = i; j > 0 && ranks_before(&r->points[v], &r->points[idx[j - 1]], higher); j--)
			idx[j] = idx[j - 1];
		idx[j] = v;
	}
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static size_t count_classes(const double *y, size_t n)
{
	size_t i, j, c = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i && y[j] != y[i]; j++)
			;
		if (j == i)
			c++;
		if (c > 1000)
			break;
	}
	return c;
}

/*
 * Successive halving as scikit-learn's HalvingGridSearchCV(factor=3,
 * min_resources='exhaust', resource='n_samples'): with N candidates, 1 + floor(log3 N)
 * rounds are needed; the first uses max(2 k (classes), n // 3^(rounds - 1)) rows, each next
 * one three times as many, the last all n rows (scikit-learn stops at min_rows 3^r, which
 * with 'exhaust' is within a factor of 3 below n); after each round the best ceil(c / 3)
 * points go on (ties broken as ranks_before says). opts->min_rows, when set, is the first
 * round's rows instead (min_resources=N): then 1 + floor(log3(n / N)) rounds are possible,
 * and the search has the fewer of the needed and the possible. Rows of a round are a seeded
 * stratified sample: the class order of rng.h (classes in label order, each shuffled) taken
 * at even strides.
 */
static int halving_search(struct search *s, const struct svm_problem *prob,
			  const struct svm_parameter *base, const tune_grid *g)
{
	size_t np = tune_grid_size(g), n = (size_t)prob->l, k = (size_t)s->opts->folds;
	size_t i, r, nreq, nposs, nrounds, min_rows, pw, c, *cand = NULL, *order = NULL, *rows = NULL;
	size_t *idx = NULL;
	uint64_t state = s->opts->seed ^ 0x9e3779b97f4a7c15ULL;
	struct svm_problem sub = { 0 };
	int ret = 0;

	cand = mlctl_calloc(np, sizeof(*cand));
	idx = mlctl_calloc(np, sizeof(*idx));
	order = mlctl_calloc(n, sizeof(*order));
	rows = mlctl_calloc(n, sizeof(*rows));
	sub.x = mlctl_calloc(n, sizeof(*sub.x));
	sub.y = mlctl_calloc(n, sizeof(*sub.y));
	if (!cand || !idx || !order || !rows || !sub.x || !sub.y) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if ((ret = rng_class_order(order, prob->y, n, s->classifier, &state)))
		goto out;
	for (nreq = 1, pw = 3; pw <= np; pw *= 3)
		nreq++;
	min_rows = 2 * k * (s->classifier ? count_classes(prob->y, n) : 1);
	if (s->opts->min_rows) {
		if (s->opts->min_rows > n) {
			ret = mlctl_error_set(MLCTL_EUSAGE, "--min-rows %zu: there are only %zu training rows",
					      s->opts->min_rows, n);
			goto out;
		}
		if (s->opts->min_rows < min_rows) {
			ret = s->classifier ?
			      mlctl_error_set(MLCTL_EUSAGE, "--min-rows %zu: the first round needs at least %zu rows "
					      "(2 x %zu folds x %zu classes)", s->opts->min_rows, min_rows, k,
					      min_rows / (2 * k)) :
			      mlctl_error_set(MLCTL_EUSAGE, "--min-rows %zu: the first round needs at least %zu rows "
					      "(2 x %zu folds)", s->opts->min_rows, min_rows, k);
			goto out;
		}
		min_rows = s->opts->min_rows;
	} else {
		for (pw = 1, i = 1; i < nreq; i++)
			pw *= 3;
		if (n / pw > min_rows)
			min_rows = n / pw;
	}
	if (min_rows > n)
		min_rows = n;
	for (nposs = 1, pw = 3; min_rows * pw <= n; pw *= 3)
		nposs++;
	nrounds = nposs < nreq ? nposs : nreq;
	/* The progress total: every round's candidates. */
	for (c = np, r = 0, s->total = 0; r < nrounds; r++, c = (c + 2) / 3)
		s->total += c;
	for (i = 0; i < np; i++)
		cand[i] = i;
	for (c = np, r = 0, pw = 1; r < nrounds && !ret; r++, pw *= 3) {
		size_t m = r + 1 == nrounds ? n : min_rows * pw;
		const struct svm_problem *p = prob;

		if (m > n)
			m = n;
		if (m < n) {
			for (i = 0; i < m; i++)
				rows[i] = order[(size_t)((double)i * (double)n / (double)m)];
			qsort(rows, m, sizeof(*rows), cmp_size);
			for (i = 0; i < m; i++) {
				sub.x[i] = prob->x[rows[i]];
				sub.y[i] = prob->y[rows[i]];
			}
			sub.l = (int)m;
			p = &sub;
		}
		for (i = 0; i < c && !ret; i++) {
			struct svm_parameter q = *base;

			if (!(ret = tune_grid_apply(g, cand[i], &q)))
				ret = search_add(s, &q, (int)r, cand[i], &idx[i]);
		}
		if (!ret)
			ret = evaluate_points(s, p, idx, c);
		if (ret || r + 1 == nrounds)
			break;
		rank_points(s->res, idx, c, s->higher);
		c = (c + 2) / 3;
		for (i = 0; i < c; i++)
			cand[i] = s->res->points[idx[i]].grid_index;
		qsort(cand, c, sizeof(*cand), cmp_size);
	}
	s->res->rounds = (int)nrounds;
out:
	free(cand);
	free(idx);
	free(order);
	free(rows);
	free(sub.x);
	free(sub.y);
	return ret;
}

/*
 * The refinement: around the best point on all rows, each axis of two or more values gets
 * 5 values at half its step, spanning one step either side (geometric axes: best * s^(j/2),
 * arithmetic: best + s j / 2, j = -2..2; degree, shrinking and probability keep the best's
 * value); every combination but the best itself that the parameter rules accept is
 * evaluated on all rows and merged.
 */
static int refine_search(struct search *s, const struct svm_problem *prob, const tune_grid *g)
{
	size_t a, i, n = (size_t)prob->l, best = best_point(s->res, s->higher, n), combos = 1;
	size_t coord, gi, *idx = NULL, nidx = 0;
	double *vals = NULL;
	size_t *nv = NULL;
	tune_point bp = s->res->points[best];
	int ret = 0;

	if (bp.grid_index == SIZE_MAX)
		return 0;
	vals = mlctl_calloc(g->naxes * 5, sizeof(*vals));
	nv = mlctl_calloc(g->naxes, sizeof(*nv));
	if (!vals || !nv) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	for (gi = bp.grid_index, a = g->naxes; a-- > 0;) {
		const tune_axis *ax = &g->axes[a];
		double v = ax->values[gi % ax->nvalues];
		bool integer = strcmp(ax->name, "degree") == 0 || strcmp(ax->name, "shrinking") == 0 ||
			       strcmp(ax->name, "probability") == 0;
		double v0 = ax->values[0], v1 = ax->nvalues > 1 ? ax->values[1] : v0;
		int j;

		gi /= ax->nvalues;
		if (ax->nvalues < 2 || integer || v0 == v1) {
			vals[a * 5] = v;
			nv[a] = 1;
		} else if (v0 > 0 && v1 > 0 && v > 0) {
			double st = v1 > v0 ? v1 / v0 : v0 / v1;

			for (j = -2; j <= 2; j++)
				vals[a * 5 + nv[a]++] = v * pow(st, j / 2.0);
		} else {
			double st = fabs(v1 - v0);

			for (j = -2; j <= 2; j++)
				vals[a * 5 + nv[a]++] = v + st * j / 2.0;
		}
		combos *= nv[a];
	}
	idx = mlctl_calloc(combos, sizeof(*idx));
	if (!idx) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	for (i = 0; i < combos && !ret; i++) {
		struct svm_parameter q = bp.param;
		bool centre = true, ok = true;

		for (coord = i, a = g->naxes; a-- > 0;) {
			size_t c = coord % nv[a];

			coord /= nv[a];
			if (nv[a] > 1 && c != 2)
				centre = false;
			if (model_param_set_number(&q, g->axes[a].name, vals[a * 5 + c]))
				ok = false;
		}
		if (!centre && ok)
			ret = search_add(s, &q, TUNE_ROUND_REFINE, SIZE_MAX, &idx[nidx++]);
	}
	if (!ret && nidx) {
		s->total += nidx;
		ret = evaluate_points(s, prob, idx, nidx);
	}
out:
	free(vals);
	free(nv);
	free(idx);
	return ret;
}

int tune_run(tune_result **out, const struct svm_problem *prob, const struct svm_parameter *base,
	     int nfeatures, const tune_grid *g, const tune_options *opts)
{
	struct search s;
	long ncpu;
	int ret;

	*out = NULL;
	if (!prob || prob->l <= 0 || !g || tune_grid_size(g) == 0 || !opts)
		return mlctl_error_set(MLCTL_EUSAGE, "tuning needs rows, a grid and options");
	if (opts->folds < 2 || opts->folds > prob->l)
		return mlctl_error_set(MLCTL_EUSAGE, "cannot make %d folds of %d rows", opts->folds,
				       prob->l);
	if (tune_grid_size(g) > SIZE_MAX / (size_t)opts->folds)
		return mlctl_error_set(MLCTL_EUSAGE, "grid: too many points");
	memset(&s, 0, sizeof(s));
	s.opts = opts;
	s.nfeatures = nfeatures;
	s.classifier = model_is_classifier(base->svm_type);
	s.higher = opts->score ? opts->higher_is_better : s.classifier;
	s.score = opts->score ? opts->score : s.classifier ? score_accuracy : score_mse;
	s.score_ctx = opts->score ? opts->score_ctx : NULL;
	s.best_so_far = NAN;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	s.nthreads = opts->threads > 0 ? (size_t)opts->threads : ncpu > 0 ? (size_t)ncpu : 1;
	pthread_mutex_init(&s.lock, NULL);
	s.res = mlctl_calloc(1, sizeof(*s.res));
	if (!s.res) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	ret = opts->search == TUNE_SEARCH_HALVING ? halving_search(&s, prob, base, g)
						  : grid_search(&s, prob, base, g);
	if (!ret && !s.stop && opts->refine)
		ret = refine_search(&s, prob, g);
	if (s.err_code) {
		ret = mlctl_error_set(s.err_code, "%s", s.err_msg);
		goto out_free;
	}
	if (s.stopped_by_callback) {
		ret = mlctl_error_set(MLCTL_ERROR, "tuning stopped early by request after %zu of %zu "
				      "grid points", s.done, s.total);
		goto out_free;
	}
	if (ret)
		goto out_free;
	s.res->best = best_point(s.res, s.higher, (size_t)prob->l);
	*out = s.res;
	s.res = NULL;
out_free:
	tune_result_free(s.res);
	pthread_mutex_destroy(&s.lock);
	return ret;
}

void tune_result_free(tune_result *r)
{
	if (!r)
		return;
	free(r->points);
	free(r);
}
