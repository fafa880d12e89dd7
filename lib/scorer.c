/*
 * scorer.c — fast batch scoring of libsvm models on dense data (floor 3).
 *
 * svm_predict() evaluates every support vector against every row with a sparse merge and
 * then sums the coefficients pair by pair, one row at a time. Here the support vectors are
 * held as a dense row-major matrix, grouped by class as libsvm stores them, and a batch of
 * rows is scored with two matrix products per block of support vectors:
 *
 *	K = X · SV_blockᵀ		(rows x block: dot products)
 *	K = kernel(K)			(linear, poly, rbf via the norm expansion, sigmoid)
 *	P_class += K · C_block		(rows x (nr_class-1): partial decision sums)
 *
 * where C holds, for each support vector of class i, its nr_class-1 coefficients
 * (sv_coef[0..nr_class-2][sv]). The decision value of the pair (i, j) is then
 * P_i[j-1] + P_j[i] - rho, exactly the two sums libsvm adds. Voting, the Platt sigmoid
 * and the pairwise coupling follow libsvm 3.24 step for step; only the order of the
 * floating-point sums differs, so decision values agree to the last few bits.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "error.h"
#include "util.h"
#include "blas.h"
#include "vmath.h"
#include "scorer.h"
#include "banned.h"

/* Rows scored per batch and support vectors per kernel block (blocks never span two
 * classes, so a class smaller than this is one block). Measured on letter (15022 SVs,
 * 26 classes, d = 16): 256 x 256 to 512 x 2048 are within ~10% of each other; 256 x 1024
 * was among the fastest. */
#define SCORER_BATCH_ROWS 256
#define SCORER_BLOCK_SVS 1024

/* The dense support-vector matrix may not exceed this (dimensions beyond it are not
 * "dense data" and svm_predict() is the better path). */
#define SCORER_MAX_DENSE_BYTES ((size_t)1 << 31)
#define SCORER_MAX_DIM 1000000

struct fast_scorer {
	const struct svm_model *m;
	int svm_type, kernel_type, degree;
	double gamma, coef0;
	bool classify;		/* C_SVC or NU_SVC: pairwise voting */
	size_t l;		/* support vectors */
	size_t d;		/* dense width: the largest feature index over the SVs (>= 1) */
	size_t ngroup;		/* classes for classification, otherwise 1 */
	size_t ncoef;		/* coefficients per SV: nr_class-1, otherwise 1 */
	size_t ndec;
	size_t *start;		/* ngroup + 1: first SV of each group, and l */
	double *sv;		/* l x d, row-major */
	double *sv_sq;		/* l: squared norms (rbf only) */
	double *coef;		/* l x ncoef, row-major */
	size_t batch_rows, block_svs;
};

/* Per-call scratch, so that one scorer serves several threads at once. */
struct scratch {
	double *x;		/* batch_rows x d */
	double *x_sq;		/* batch_rows */
	double *k;		/* batch_rows x block_svs */
	double *p;		/* ngroup x batch_rows x ncoef */
	double *pair;		/* nr_class x nr_class: pairwise probabilities */
	double *qmat;		/* nr_class x nr_class: coupling matrix */
	double *qp;		/* nr_class */
	int *vote;		/* nr_class */
};

/* CPU time of the calling thread, for scorer_predict_profile() only: on a shared machine
 * the wall clock would count the waits for a core. */
static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* libsvm's powi(): the same multiplications in the same order as its poly kernel. */
static double powi(double base, int times)
{
	double tmp = base, ret = 1.0;
	int t;

	for (t = times; t > 0; t /= 2) {
		if (t % 2 == 1)
			ret *= tmp;
		tmp = tmp * tmp;
	}
	return ret;
}

/* Largest feature index of a node array, and checks that indices are usable densely. */
static int sv_max_index(const struct svm_node *x, size_t *max)
{
	for (; x->index != -1; x++) {
		if (x->index < 1)
			return mlctl_error_set(MLCTL_EUSAGE,
					       "support vector has feature index %d: cannot score densely",
					       x->index);
		if ((size_t)x->index > *max)
			*max = (size_t)x->index;
	}
	return 0;
}

static int scorer_layout(fast_scorer *s, const struct svm_model *m)
{
	size_t g, i, max = 0;
	int ret;

	for (i = 0; i < s->l; i++) {
		ret = sv_max_index(m->SV[i], &max);
		if (ret < 0)
			return ret;
	}
	s->d = max ? max : 1;
	if (s->d > SCORER_MAX_DIM || (s->l && s->d > SCORER_MAX_DENSE_BYTES / sizeof(double) / s->l))
		return mlctl_error_set(MLCTL_EUSAGE,
				       "model has %zu support vectors of %zu dimensions: too large to score densely",
				       s->l, s->d);
	s->start[0] = 0;
	for (g = 0; g < s->ngroup; g++) {
		size_t cnt = s->classify ? (size_t)m->nSV[g] : s->l;

		s->start[g + 1] = s->start[g] + cnt;
	}
	if (s->start[s->ngroup] != s->l)
		return mlctl_error_set(MLCTL_EUSAGE, "model's nSV does not add up to its %zu support vectors",
				       s->l);
	return 0;
}

static void scorer_fill(fast_scorer *s, const struct svm_model *m)
{
	size_t i, c;

	for (i = 0; i < s->l; i++) {
		const struct svm_node *x;
		double *row = s->sv + i * s->d;
		double sq = 0;

		for (x = m->SV[i]; x->index != -1; x++) {
			row[x->index - 1] = x->value;
			sq += x->value * x->value;
		}
		if (s->sv_sq)
			s->sv_sq[i] = sq;
		for (c = 0; c < s->ncoef; c++)
			s->coef[i * s->ncoef + c] = m->sv_coef[c][i];
	}
}

int scorer_create(fast_scorer **out, const struct svm_model *m)
{
	fast_scorer *s;
	int ret;

	*out = NULL;
	if (m->param.kernel_type == PRECOMPUTED)
		return mlctl_error_set(MLCTL_EUSAGE, "precomputed kernels cannot be scored densely");
	if (m->param.kernel_type < LINEAR || m->param.kernel_type > SIGMOID ||
	    m->param.svm_type < C_SVC || m->param.svm_type > NU_SVR || m->l < 0 || m->nr_class < 1)
		return mlctl_error_set(MLCTL_EUSAGE, "model has an unknown svm or kernel type");
	s = mlctl_calloc(1, sizeof(*s));
	if (!s)
		return MLCTL_ENOMEM;
	s->m = m;
	s->svm_type = m->param.svm_type;
	s->kernel_type = m->param.kernel_type;
	s->degree = m->param.degree;
	s->gamma = m->param.gamma;
	s->coef0 = m->param.coef0;
	s->classify = s->svm_type == C_SVC || s->svm_type == NU_SVC;
	s->l = (size_t)m->l;
	s->ngroup = s->classify ? (size_t)m->nr_class : 1;
	s->ncoef = s->classify ? (size_t)m->nr_class - 1 : 1;
	s->ndec = s->classify ? (size_t)m->nr_class * ((size_t)m->nr_class - 1) / 2 : 1;
	s->batch_rows = SCORER_BATCH_ROWS;
	s->block_svs = SCORER_BLOCK_SVS;
	if (s->classify && (!m->nSV || !m->label)) {
		ret = mlctl_error_set(MLCTL_EUSAGE, "classification model without nSV or labels");
		goto out_free;
	}
	s->start = mlctl_calloc(s->ngroup + 1, sizeof(*s->start));
	if (!s->start) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	ret = scorer_layout(s, m);
	if (ret < 0)
		goto out_free;
	s->sv = mlctl_calloc(s->l * s->d + 1, sizeof(*s->sv));
	s->coef = mlctl_calloc(s->l * s->ncoef + 1, sizeof(*s->coef));
	if (s->kernel_type == RBF)
		s->sv_sq = mlctl_calloc(s->l + 1, sizeof(*s->sv_sq));
	if (!s->sv || !s->coef || (s->kernel_type == RBF && !s->sv_sq)) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	scorer_fill(s, m);
	/* OpenBLAS is loaded now, pinned to one thread: the caller runs its own workers,
	 * OpenBLAS' threads on top would oversubscribe the cores (see blas.c). */
	blas_init();
	*out = s;
	return 0;
out_free:
	scorer_free(s);
	return ret;
}

size_t scorer_ndec(const fast_scorer *s)
{
	return s->ndec;
}

void scorer_set_blocking(fast_scorer *s, size_t batch_rows, size_t block_svs)
{
	/* Bounded so that every BLAS dimension fits in an int. */
	const size_t max = (size_t)1 << 16;

	if (batch_rows)
		s->batch_rows = batch_rows < max ? batch_rows : max;
	if (block_svs)
		s->block_svs = block_svs < max ? block_svs : max;
}

void scorer_free(fast_scorer *s)
{
	if (!s)
		return;
	free(s->start);
	free(s->sv);
	free(s->sv_sq);
	free(s->coef);
	free(s);
}

static void scratch_release(struct scratch *w)
{
	free(w->x);
	free(w->x_sq);
	free(w->k);
	free(w->p);
	free(w->pair);
	free(w->qmat);
	free(w->qp);
	free(w->vote);
}

static int scratch_init(struct scratch *w, const fast_scorer *s)
{
	size_t nc = (size_t)s->m->nr_class;

	memset(w, 0, sizeof(*w));
	if (s->batch_rows > SIZE_MAX / sizeof(double) / s->d ||
	    s->batch_rows > SIZE_MAX / sizeof(double) / s->block_svs ||
	    s->batch_rows * s->ncoef > SIZE_MAX / sizeof(double) / s->ngroup)
		return mlctl_error_set(MLCTL_EUSAGE, "scorer blocks too large");
	w->x = mlctl_calloc(s->batch_rows * s->d, sizeof(*w->x));
	w->x_sq = mlctl_calloc(s->batch_rows, sizeof(*w->x_sq));
	w->k = mlctl_calloc(s->batch_rows * s->block_svs, sizeof(*w->k));
	w->p = mlctl_calloc(s->ngroup * s->batch_rows * s->ncoef + 1, sizeof(*w->p));
	w->pair = mlctl_calloc(nc * nc, sizeof(*w->pair));
	w->qmat = mlctl_calloc(nc * nc, sizeof(*w->qmat));
	w->qp = mlctl_calloc(nc, sizeof(*w->qp));
	w->vote = mlctl_calloc(nc, sizeof(*w->vote));
	if (!w->x || !w->x_sq || !w->k || !w->p || !w->pair || !w->qmat || !w->qp || !w->vote) {
		scratch_release(w);
		return MLCTL_ENOMEM;
	}
	return 0;
}

/*
 * Densify rows into w->x (nb x d). Features beyond d meet no support vector, so they
 * drop out of the dot products, but they still count in ||x||² as they do in libsvm's
 * rbf. The squared norm is summed in index order, as libsvm's dot(x, x) does.
 */
static void densify(const fast_scorer *s, struct scratch *w, const struct svm_node *const *rows,
		    size_t nb)
{
	size_t i, d = s->d;

	memset(w->x, 0, nb * d * sizeof(*w->x));
	for (i = 0; i < nb; i++) {
		const struct svm_node *x;
		double *row = w->x + i * d;
		double sq = 0;

		for (x = rows[i]; x->index != -1; x++) {
			if (x->index >= 1 && (size_t)x->index <= d)
				row[x->index - 1] = x->value;
			sq += x->value * x->value;
		}
		w->x_sq[i] = sq;
	}
}

/* Turn the dot products of an nb x ns block (support vectors s0..) into kernel values. */
static void kernel_transform(const fast_scorer *s, struct scratch *w, size_t nb, size_t s0,
			     size_t ns)
{
	double g = s->gamma, c0 = s->coef0;
	size_t i;

	switch (s->kernel_type) {
	case LINEAR:
		break;
	case POLY:
		for (i = 0; i < nb * ns; i++)
			w->k[i] = powi(g * w->k[i] + c0, s->degree);
		break;
	case RBF:
		for (i = 0; i < nb; i++)
			vmath_rbf(w->k + i * ns, ns, w->x_sq[i], s->sv_sq + s0, g);
		break;
	case SIGMOID:
		for (i = 0; i < nb * ns; i++)
			w->k[i] = tanh(g * w->k[i] + c0);
		break;
	}
}

/* Time spent in each phase, filled by scorer_predict_profile(). */
static void prof_add(double *slot, double *t)
{
	double now;

	if (!slot)
		return;
	now = now_sec();
	*slot += now - *t;
	*t = now;
}

/* Partial decision sums of one batch: w->p[group][row][coef]. */
static void batch_sums(const fast_scorer *s, struct scratch *w, size_t nb, scorer_profile *prof)
{
	int d = (int)s->d, nc = (int)s->ncoef;
	size_t g, s0;
	double t = prof ? now_sec() : 0;

	memset(w->p, 0, s->ngroup * nb * s->ncoef * sizeof(*w->p));
	if (!s->ncoef)
		return;	/* a one-class classifier: nothing to sum */
	for (g = 0; g < s->ngroup; g++) {
		double *p = w->p + g * nb * s->ncoef;

		for (s0 = s->start[g]; s0 < s->start[g + 1]; s0 += s->block_svs) {
			size_t ns = s->start[g + 1] - s0;

			if (ns > s->block_svs)
				ns = s->block_svs;
			blas_dgemm(true, (int)nb, (int)ns, d, 1.0, w->x, d, s->sv + s0 * s->d, d, 0.0, w->k, (int)ns);
			prof_add(prof ? &prof->dot : NULL, &t);
			kernel_transform(s, w, nb, s0, ns);
			prof_add(prof ? &prof->kernel : NULL, &t);
			blas_dgemm(false, (int)nb, nc, (int)ns, 1.0, w->k, (int)ns, s->coef + s0 * s->ncoef, nc, 1.0, p, nc);
			prof_add(prof ? &prof->reduce : NULL, &t);
		}
	}
}

/* libsvm's sigmoid_predict(): Platt's sigmoid, written to avoid cancellation in 1-p. */
static double sigmoid_predict(double dec, double a, double b)
{
	double f = dec * a + b;

	if (f >= 0)
		return exp(-f) / (1.0 + exp(-f));
	return 1.0 / (1 + exp(f));
}

/*
 * libsvm's multiclass_probability(): pairwise coupling (Wu, Lin and Weng, method 2) by
 * the same fixed-point iteration, constants and stopping rule. r and q are k x k.
 */
static void multiclass_probability(int k, const double *r, double *q, double *qp, double *p)
{
	int t, j, iter, max_iter = k > 100 ? k : 100;
	double pqp, eps = 0.005 / k;

	for (t = 0; t < k; t++) {
		p[t] = 1.0 / k;
		q[t * k + t] = 0;
		for (j = 0; j < t; j++) {
			q[t * k + t] += r[j * k + t] * r[j * k + t];
			q[t * k + j] = q[j * k + t];
		}
		for (j = t + 1; j < k; j++) {
			q[t * k + t] += r[j * k + t] * r[j * k + t];
			q[t * k + j] = -r[j * k + t] * r[t * k + j];
		}
	}
	for (iter = 0; iter < max_iter; iter++) {
		double max_error = 0;

		pqp = 0;
		for (t = 0; t < k; t++) {
			qp[t] = 0;
			for (j = 0; j < k; j++)
				qp[t] += q[t * k + j] * p[j];
			pqp += p[t] * qp[t];
		}
		for (t = 0; t < k; t++) {
			double error = fabs(qp[t] - pqp);

			if (error > max_error)
				max_error = error;
		}
		if (max_error < eps)
			break;
		for (t = 0; t < k; t++) {
			double diff = (-qp[t] + pqp) / q[t * k + t];

			p[t] += diff;
			pqp = (pqp + diff * (diff * q[t * k + t] + 2 * qp[t])) / (1 + diff) / (1 + diff);
			for (j = 0; j < k; j++) {
				qp[j] = (qp[j] + diff * q[t * k + j]) / (1 + diff);
				p[j] /= (1 + diff);
			}
		}
	}
}

/* libsvm's svm_predict_probability() for C_SVC/NU_SVC, from the decision values. */
static double row_probability(const fast_scorer *s, struct scratch *w, const double *dec,
			      double *prob)
{
	const struct svm_model *m = s->m;
	int i, j, k = 0, nc = m->nr_class, best = 0;
	const double min_prob = 1e-7;

	for (i = 0; i < nc; i++)
		for (j = i + 1; j < nc; j++) {
			double pr = sigmoid_predict(dec[k], m->probA[k], m->probB[k]);

			pr = pr > min_prob ? pr : min_prob;
			pr = pr < 1 - min_prob ? pr : 1 - min_prob;
			w->pair[i * nc + j] = pr;
			w->pair[j * nc + i] = 1 - pr;
			k++;
		}
	if (nc == 2) {
		prob[0] = w->pair[1];
		prob[1] = w->pair[nc];
	} else {
		multiclass_probability(nc, w->pair, w->qmat, w->qp, prob);
	}
	for (i = 1; i < nc; i++)
		if (prob[i] > prob[best])
			best = i;
	return m->label[best];
}

/* Decision values, vote and label of row r of the batch (libsvm's svm_predict_values). */
static double row_decide(const fast_scorer *s, struct scratch *w, size_t nb, size_t r, double *dec)
{
	const struct svm_model *m = s->m;
	int i, j, nc = m->nr_class, best = 0;
	size_t pk = 0, stride = nb * s->ncoef;

	if (!s->classify) {
		dec[0] = w->p[r] - m->rho[0];
		if (s->svm_type == ONE_CLASS)
			return dec[0] > 0 ? 1 : -1;
		return dec[0];
	}
	memset(w->vote, 0, (size_t)nc * sizeof(*w->vote));
	for (i = 0; i < nc; i++)
		for (j = i + 1; j < nc; j++) {
			const double *pi = w->p + (size_t)i * stride + r * s->ncoef;
			const double *pj = w->p + (size_t)j * stride + r * s->ncoef;

			dec[pk] = pi[j - 1] + pj[i] - m->rho[pk];
			if (dec[pk] > 0)
				++w->vote[i];
			else
				++w->vote[j];
			pk++;
		}
	for (i = 1; i < nc; i++)
		if (w->vote[i] > w->vote[best])
			best = i;
	return m->label[best];
}

int scorer_predict_profile(const fast_scorer *s, const struct svm_node *const *rows, size_t n,
			   double *labels, double *dec, double *prob, scorer_profile *prof)
{
	struct scratch w;
	double *dtmp = NULL;
	size_t r0, r, nc = (size_t)s->m->nr_class;
	bool want_prob = prob && s->classify;
	int ret;

	if (prob && !svm_check_probability_model(s->m))
		return mlctl_error_set(MLCTL_EUSAGE, "probabilities asked of a model trained without them");
	ret = scratch_init(&w, s);
	if (ret < 0)
		return ret;
	dtmp = mlctl_calloc(s->ndec + 1, sizeof(*dtmp));
	if (!dtmp) {
		ret = MLCTL_ENOMEM;
		goto out_scratch;
	}
	for (r0 = 0; r0 < n; r0 += s->batch_rows) {
		size_t nb = n - r0 < s->batch_rows ? n - r0 : s->batch_rows;
		double t = prof ? now_sec() : 0;

		densify(s, &w, rows + r0, nb);
		prof_add(prof ? &prof->densify : NULL, &t);
		batch_sums(s, &w, nb, prof);
		t = prof ? now_sec() : 0;
		for (r = 0; r < nb; r++) {
			double *dv = dec ? dec + (r0 + r) * s->ndec : dtmp;

			labels[r0 + r] = row_decide(s, &w, nb, r, dv);
			/* Probability regression models answer as svm_predict() does. */
			if (want_prob)
				labels[r0 + r] = row_probability(s, &w, dv, prob + (r0 + r) * nc);
		}
		prof_add(prof ? &prof->decide : NULL, &t);
	}
	free(dtmp);
out_scratch:
	scratch_release(&w);
	return ret;
}

int scorer_predict(const fast_scorer *s, const struct svm_node *const *rows, size_t n,
		   double *labels, double *dec, double *prob)
{
	return scorer_predict_profile(s, rows, n, labels, dec, prob, NULL);
}
