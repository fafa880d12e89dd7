/*
 * scorer.c — fast batch scoring of libsvm models on dense data (floor 3).
 *
 * svm_predict() evaluates every support vector against one row with a sparse merge, then
 * sums the coefficients pair by pair. Here a tile of rows is held densely (transposed: one
 * vector lane per row) and scored against blocks of support vectors, grouped by class as
 * libsvm stores them:
 *
 *	K = kernel(X, SV_block)		(rows x block: squared distances or dot products,
 *					 then exp / powi / tanh)
 *	S_pair += K · C_block		(the coefficient sums of every class pair that the
 *					 block's class takes part in)
 *
 * The kernels (svkern.c) add their terms one by one in index order, as libsvm's
 * k_function() does (rbf: sum of (x - s)^2, never the cancelling ||x||^2 + ||s||^2 - 2x.s,
 * so any magnitude of data scores right), and each pair's sum runs over class i's support
 * vectors and then class j's in storage order, exactly libsvm's loop. So a row's decision
 * values depend on that row and the model only — not on the batch, the tile, the thread or
 * the BLAS — and equal svm_predict_values()'s bit for bit except through exp(), where the
 * vector exp of libmvec may differ from libm's in the last bit or two. Voting, the Platt
 * sigmoid and the pairwise coupling follow libsvm 3.24 step for step.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "util.h"
#include "svkern.h"
#include "vmath.h"
#include "scorer.h"
#include "banned.h"

/* Rows scored per tile and support vectors per kernel block (blocks never span two
 * classes, so a class smaller than this is one block). Neither changes any result. */
#define SCORER_BATCH_ROWS 64
#define SCORER_BLOCK_SVS 256
/* The pair sums of one tile may not exceed this (many classes: fewer rows per tile). */
#define SCORER_MAX_ACC_BYTES ((size_t)64 << 20)

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
	size_t nsum;		/* pair sums per row: ndec for classification, otherwise 1 */
	size_t *start;		/* ngroup + 1: first SV of each group, and l */
	size_t *pair;		/* ngroup x ncoef: the pair sum coefficient c of group g feeds */
	double *sv;		/* l x d, row-major */
	double *coef;		/* l x ncoef, row-major */
	size_t batch_rows, block_svs;
	const svk_ops *ops;	/* the kernels for this CPU */
};

/* Per-call scratch, so that one scorer serves several threads at once. */
struct scratch {
	size_t rows;		/* rows per tile: a multiple of SVK_LANES */
	double *xt;		/* d x rows: the tile, transposed */
	const struct svm_node **tail;	/* rows: first feature beyond d, or NULL */
	const struct svm_node **head;	/* rows: the row if it has features below 1, or NULL */
	double *k;		/* block_svs x rows */
	double *sum;		/* nsum x rows: pair sums */
	double **accp;		/* ncoef: the sum rows one group feeds */
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

/* The pair sum index of classes i < j, in libsvm's order of decision values. */
static size_t pair_index(size_t nc, size_t i, size_t j)
{
	return i * nc - i * (i + 1) / 2 + (j - i - 1);
}

static void scorer_fill(fast_scorer *s, const struct svm_model *m)
{
	size_t i, c, g;

	for (i = 0; i < s->l; i++) {
		const struct svm_node *x;
		double *row = s->sv + i * s->d;

		for (x = m->SV[i]; x->index != -1; x++)
			row[x->index - 1] = x->value;
		for (c = 0; c < s->ncoef; c++)
			s->coef[i * s->ncoef + c] = m->sv_coef[c][i];
	}
	/* A support vector of class g holds sv_coef[c] for the pair (c, g) when c < g, and
	 * for the pair (g, c + 1) otherwise (libsvm's coef1/coef2 in svm_predict_values). */
	for (g = 0; g < s->ngroup; g++)
		for (c = 0; c < s->ncoef; c++)
			s->pair[g * s->ncoef + c] = !s->classify ? 0 :
				c < g ? pair_index(s->ngroup, c, g) : pair_index(s->ngroup, g, c + 1);
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
	s->nsum = s->ndec;
	s->batch_rows = SCORER_BATCH_ROWS;
	s->block_svs = SCORER_BLOCK_SVS;
	s->ops = svk_select(SVK_ISA_BEST);
	if (s->classify && (!m->nSV || !m->label)) {
		ret = mlctl_error_set(MLCTL_EUSAGE, "classification model without nSV or labels");
		goto out_free;
	}
	s->start = mlctl_calloc(s->ngroup + 1, sizeof(*s->start));
	s->pair = mlctl_calloc(s->ngroup * s->ncoef + 1, sizeof(*s->pair));
	if (!s->start || !s->pair) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	ret = scorer_layout(s, m);
	if (ret < 0)
		goto out_free;
	s->sv = mlctl_calloc(s->l * s->d + 1, sizeof(*s->sv));
	s->coef = mlctl_calloc(s->l * s->ncoef + 1, sizeof(*s->coef));
	if (!s->sv || !s->coef) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	scorer_fill(s, m);
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
	const size_t max = (size_t)1 << 16;

	if (batch_rows)
		s->batch_rows = batch_rows < max ? batch_rows : max;
	if (block_svs)
		s->block_svs = block_svs < max ? block_svs : max;
}

const char *scorer_set_kernels(fast_scorer *s, const char *isa)
{
	static const struct { const char *name; svk_isa isa; } sets[] = {
		{ "best", SVK_ISA_BEST }, { "baseline", SVK_ISA_BASE },
		{ "avx2", SVK_ISA_AVX2 }, { "avx512", SVK_ISA_AVX512 },
	};
	size_t i;

	for (i = 0; isa && i < sizeof(sets) / sizeof(sets[0]); i++)
		if (strcmp(isa, sets[i].name) == 0)
			s->ops = svk_select(sets[i].isa);
	return s->ops->name;
}

void scorer_free(fast_scorer *s)
{
	if (!s)
		return;
	free(s->start);
	free(s->pair);
	free(s->sv);
	free(s->coef);
	free(s);
}

static void scratch_release(struct scratch *w)
{
	free(w->xt);
	free(w->tail);
	free(w->head);
	free(w->k);
	free(w->sum);
	free(w->accp);
	free(w->pair);
	free(w->qmat);
	free(w->qp);
	free(w->vote);
}

/* Rows per tile for n rows: batch_rows (at most n) rounded up to whole lanes, fewer when there
 * are so many class pairs that their sums would take more than SCORER_MAX_ACC_BYTES. */
static size_t tile_rows(const fast_scorer *s, size_t n)
{
	size_t want = n < s->batch_rows ? n : s->batch_rows;
	size_t rows = (want + SVK_LANES - 1) / SVK_LANES * SVK_LANES;
	size_t cap = SCORER_MAX_ACC_BYTES / sizeof(double) / s->nsum / SVK_LANES * SVK_LANES;

	if (cap < SVK_LANES)
		cap = SVK_LANES;
	rows = rows < cap ? rows : cap;
	return rows ? rows : SVK_LANES;
}

static int scratch_init(struct scratch *w, const fast_scorer *s, size_t n)
{
	size_t nc = (size_t)s->m->nr_class, block;

	memset(w, 0, sizeof(*w));
	w->rows = tile_rows(s, n);
	block = s->block_svs < s->l ? s->block_svs : s->l;
	if (s->d > SIZE_MAX / sizeof(double) / w->rows || block > SIZE_MAX / sizeof(double) / w->rows)
		return mlctl_error_set(MLCTL_EUSAGE, "scorer blocks too large");
	w->xt = svk_alloc(s->d * w->rows);
	w->tail = mlctl_calloc(w->rows, sizeof(*w->tail));
	w->head = mlctl_calloc(w->rows, sizeof(*w->head));
	w->k = svk_alloc((block ? block : 1) * w->rows);
	w->sum = svk_alloc((s->nsum ? s->nsum : 1) * w->rows);
	w->accp = mlctl_calloc(s->ncoef + 1, sizeof(*w->accp));
	w->pair = mlctl_calloc(nc * nc, sizeof(*w->pair));
	w->qmat = mlctl_calloc(nc * nc, sizeof(*w->qmat));
	w->qp = mlctl_calloc(nc, sizeof(*w->qp));
	w->vote = mlctl_calloc(nc, sizeof(*w->vote));
	if (!w->xt || !w->tail || !w->head || !w->k || !w->sum || !w->accp || !w->pair || !w->qmat || !w->qp ||
	    !w->vote) {
		scratch_release(w);
		return MLCTL_ENOMEM;
	}
	return 0;
}

/*
 * Lay nb rows into the transposed tile w->xt (d x w->rows; the rows past nb stay zero).
 * Features beyond d meet no support vector: they drop out of dot products, and for rbf
 * their squares are added after the others (w->tail), as libsvm's merge adds them last.
 * Features below index 1 (which libsvm's merge meets first) mark the row in w->head.
 */
static void densify(const fast_scorer *s, struct scratch *w, const struct svm_node *const *rows,
		    size_t nb)
{
	size_t i, ld = w->rows;

	memset(w->xt, 0, s->d * ld * sizeof(*w->xt));
	for (i = 0; i < nb; i++) {
		const struct svm_node *x;

		w->tail[i] = NULL;
		w->head[i] = rows[i]->index != -1 && rows[i]->index < 1 ? rows[i] : NULL;
		for (x = rows[i]; x->index != -1; x++) {
			if (x->index >= 1 && (size_t)x->index <= s->d) {
				w->xt[(size_t)(x->index - 1) * ld + i] = x->value;
			} else if (x->index > 0) {
				w->tail[i] = x;
				break;
			}
		}
	}
}

/*
 * The rbf distances of row i of the tile to support vectors s0.. (ns of them) for a row
 * with features below index 1: the terms in libsvm's order, those features first.
 */
static void row_dist2_head(const fast_scorer *s, struct scratch *w, size_t i, size_t s0, size_t ns)
{
	size_t j, p, ld = w->rows;
	const struct svm_node *x;

	for (j = 0; j < ns; j++) {
		const double *sv = s->sv + (s0 + j) * s->d;
		double sum = 0;

		for (x = w->head[i]; x->index != -1 && x->index < 1; x++)
			sum += x->value * x->value;
		for (p = 0; p < s->d; p++) {
			double t = w->xt[p * ld + i] - sv[p];

			sum += t * t;
		}
		w->k[j * ld + i] = sum;
	}
}

/* Turn the sums of an nb-row tile against support vectors s0.. (ns of them) into kernel
 * values. */
static void kernel_transform(const fast_scorer *s, struct scratch *w, size_t nb, size_t s0, size_t ns)
{
	double g = s->gamma, c0 = s->coef0, *k = w->k;
	size_t i, j, ld = w->rows, n = ns * ld;

	switch (s->kernel_type) {
	case LINEAR:
		break;
	case POLY:
		for (i = 0; i < n; i++)
			k[i] = vmath_powi(g * k[i] + c0, s->degree);
		break;
	case RBF:
		for (i = 0; i < nb; i++) {
			const struct svm_node *t;

			if (w->head[i])
				row_dist2_head(s, w, i, s0, ns);
			if (!w->tail[i])
				continue;
			for (j = 0; j < ns; j++)
				for (t = w->tail[i]; t->index != -1; t++)
					k[j * ld + i] += t->value * t->value;
		}
		for (i = 0; i < n; i++)
			k[i] = -g * k[i];
		vmath_exp(k, n);
		break;
	case SIGMOID:
		for (i = 0; i < n; i++)
			k[i] = tanh(g * k[i] + c0);
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

/* The pair sums of one tile: w->sum[pair][row]. */
static void tile_sums(const fast_scorer *s, struct scratch *w, size_t nb, scorer_profile *prof)
{
	size_t g, c, s0, ld = w->rows;
	size_t nr = (nb + SVK_LANES - 1) / SVK_LANES * SVK_LANES;
	double t = prof ? now_sec() : 0;

	memset(w->sum, 0, s->nsum * ld * sizeof(*w->sum));
	if (!s->ncoef)
		return;	/* a classifier of one class: nothing to sum */
	for (g = 0; g < s->ngroup; g++) {
		for (c = 0; c < s->ncoef; c++)
			w->accp[c] = w->sum + s->pair[g * s->ncoef + c] * ld;
		for (s0 = s->start[g]; s0 < s->start[g + 1]; s0 += s->block_svs) {
			size_t ns = s->start[g + 1] - s0;

			if (ns > s->block_svs)
				ns = s->block_svs;
			if (s->kernel_type == RBF)
				s->ops->dist2(w->k, ld, w->xt, ld, nr, s->sv + s0 * s->d, ns, s->d);
			else
				s->ops->dot(w->k, ld, w->xt, ld, nr, s->sv + s0 * s->d, ns, s->d);
			prof_add(prof ? &prof->dot : NULL, &t);
			kernel_transform(s, w, nb, s0, ns);
			prof_add(prof ? &prof->kernel : NULL, &t);
			s->ops->reduce(w->accp, nr, w->k, ld, ns, s->coef + s0 * s->ncoef, s->ncoef);
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
static double row_decide(const fast_scorer *s, struct scratch *w, size_t r, double *dec)
{
	const struct svm_model *m = s->m;
	int i, j, nc = m->nr_class, best = 0;
	size_t pk = 0, ld = w->rows;

	if (!s->classify) {
		dec[0] = w->sum[r] - m->rho[0];
		if (s->svm_type == ONE_CLASS)
			return dec[0] > 0 ? 1 : -1;
		return dec[0];
	}
	memset(w->vote, 0, (size_t)nc * sizeof(*w->vote));
	for (i = 0; i < nc; i++)
		for (j = i + 1; j < nc; j++) {
			dec[pk] = w->sum[pk * ld + r] - m->rho[pk];
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
	ret = scratch_init(&w, s, n);
	if (ret < 0)
		return ret;
	dtmp = mlctl_calloc(s->ndec + 1, sizeof(*dtmp));
	if (!dtmp) {
		ret = MLCTL_ENOMEM;
		goto out_scratch;
	}
	for (r0 = 0; r0 < n; r0 += w.rows) {
		size_t nb = n - r0 < w.rows ? n - r0 : w.rows;
		double t = prof ? now_sec() : 0;

		densify(s, &w, rows + r0, nb);
		prof_add(prof ? &prof->densify : NULL, &t);
		tile_sums(s, &w, nb, prof);
		t = prof ? now_sec() : 0;
		for (r = 0; r < nb; r++) {
			double *dv = dec ? dec + (r0 + r) * s->ndec : dtmp;

			labels[r0 + r] = row_decide(s, &w, r, dv);
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
