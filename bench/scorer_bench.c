/*
 * scorer_bench.c — rows per second of libsvm's svm_predict() against scorer_predict() on the
 * same model and rows, single-threaded, with where the scorer's time goes and a check that
 * both agree. Built by bench/scorer.mk; bench/scorer.sh prepares the letter model.
 *
 *	scorer_bench MODEL DATA [-b] [-r ROWS_PER_BATCH] [-s SVS_PER_BLOCK] [-n MAX_ROWS] [-k KERNELS]
 *
 * DATA is in libsvm format. -b scores probabilities (the model must have them).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libsvm/svm.h>

#include "scorer.h"

struct rows {
	struct svm_node **x;
	struct svm_node *pool;
	size_t n, cap, npool, cappool;
};

/* CPU time of the process: the machine is shared, and waiting for a core is not scoring.
 * Any thread OpenBLAS ran would be counted here too. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return p;
}

/* Read a libsvm-format file (label index:value ...); rows point into one node pool. */
static void read_rows(const char *path, struct rows *r, size_t max)
{
	FILE *f = fopen(path, "r");
	char line[65536];
	size_t i;

	if (!f) {
		perror(path);
		exit(1);
	}
	memset(r, 0, sizeof(*r));
	while (r->n < max && fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		size_t first = r->npool;

		strtod(p, &end);	/* the label */
		p = end;
		for (;;) {
			long idx = strtol(p, &end, 10);

			if (end == p || *end != ':')
				break;
			if (r->npool + 2 > r->cappool) {
				r->cappool = r->cappool ? 2 * r->cappool : 4096;
				r->pool = xrealloc(r->pool, r->cappool * sizeof(*r->pool));
			}
			r->pool[r->npool].index = (int)idx;
			r->pool[r->npool].value = strtod(end + 1, &p);
			r->npool++;
		}
		if (r->npool + 1 > r->cappool) {
			r->cappool = r->cappool ? 2 * r->cappool : 4096;
			r->pool = xrealloc(r->pool, r->cappool * sizeof(*r->pool));
		}
		r->pool[r->npool++].index = -1;
		if (r->n == r->cap) {
			r->cap = r->cap ? 2 * r->cap : 1024;
			r->x = xrealloc(r->x, r->cap * sizeof(*r->x));
		}
		r->x[r->n++] = (struct svm_node *)(uintptr_t)first;	/* offset until the pool settles */
	}
	fclose(f);
	for (i = 0; i < r->n; i++)
		r->x[i] = r->pool + (uintptr_t)r->x[i];
}

int main(int argc, char **argv)
{
	size_t batch = 0, block = 0, max = (size_t)-1, i, n, ndec, nc;
	const char *kernels = NULL;
	struct svm_model *m;
	fast_scorer *s;
	struct rows r;
	scorer_profile prof = { 0 };
	double *l1, *l2, *d1, *d2, *p1 = NULL, *p2 = NULL, t0, t_svm, t_sc, maxrel = 0;
	size_t mismatch = 0;
	int c, want_prob = 0;

	while ((c = getopt(argc, argv, "br:s:n:k:")) != -1) {
		switch (c) {
		case 'b': want_prob = 1; break;
		case 'r': batch = strtoul(optarg, NULL, 10); break;
		case 's': block = strtoul(optarg, NULL, 10); break;
		case 'k': kernels = optarg; break;
		case 'n': max = strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: scorer_bench MODEL DATA [-b] [-r ROWS] [-s SVS] [-n MAX] [-k KERNELS]\n");
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: scorer_bench MODEL DATA [-b] [-r ROWS] [-s SVS] [-n MAX] [-k KERNELS]\n");
		return 2;
	}
	m = svm_load_model(argv[optind]);
	if (!m) {
		fprintf(stderr, "cannot load %s\n", argv[optind]);
		return 1;
	}
	read_rows(argv[optind + 1], &r, max);
	n = r.n;
	if (scorer_create(&s, m) < 0) {
		fprintf(stderr, "scorer_create failed\n");
		return 1;
	}
	scorer_set_blocking(s, batch, block);
	printf("kernels: %s\n", scorer_set_kernels(s, kernels));
	ndec = scorer_ndec(s);
	nc = (size_t)m->nr_class;
	l1 = calloc(n, sizeof(*l1));
	l2 = calloc(n, sizeof(*l2));
	d1 = calloc(n * ndec + 1, sizeof(*d1));
	d2 = calloc(n * ndec + 1, sizeof(*d2));
	if (want_prob) {
		p1 = calloc(n * nc, sizeof(*p1));
		p2 = calloc(n * nc, sizeof(*p2));
	}

	/* svm-predict's own loop: svm_predict (or _probability) once per row. */
	t0 = now();
	for (i = 0; i < n; i++)
		l1[i] = want_prob ? svm_predict_probability(m, r.x[i], p1 + i * nc)
				  : svm_predict(m, r.x[i]);
	t_svm = now() - t0;

	t0 = now();
	if (scorer_predict_profile(s, (const struct svm_node *const *)r.x, n, l2, d2, p2, &prof) < 0) {
		fprintf(stderr, "scorer_predict failed\n");
		return 1;
	}
	t_sc = now() - t0;

	/* Agreement: labels, and decision values against svm_predict_values (untimed). */
	for (i = 0; i < n; i++) {
		size_t k;

		if (l1[i] != l2[i])
			mismatch++;
		svm_predict_values(m, r.x[i], d1 + i * ndec);
		for (k = 0; k < ndec; k++) {
			double a = d1[i * ndec + k], b = d2[i * ndec + k];
			double rel = fabs(a - b) / fmax(1.0, fmax(fabs(a), fabs(b)));

			maxrel = fmax(maxrel, rel);
		}
		for (k = 0; want_prob && k < nc; k++)
			maxrel = fmax(maxrel, fabs(p1[i * nc + k] - p2[i * nc + k]));
	}

	printf("model: %s: %d SVs, %zu classes, %zu rows\n", argv[optind], m->l, nc, n);
	printf("svm_predict%s:    %10.0f rows/s (%.3f s CPU)\n", want_prob ? "_probability" : "",
	       n / t_svm, t_svm);
	printf("scorer_predict:   %10.0f rows/s (%.3f s CPU)  ratio %.2fx\n", n / t_sc, t_sc,
	       t_svm / t_sc);
	printf("scorer phases: densify %.3f s, dot dgemm %.3f s, kernel %.3f s, "
	       "coef dgemm %.3f s, decide %.3f s\n",
	       prof.densify, prof.dot, prof.kernel, prof.reduce, prof.decide);
	printf("agreement: %zu label mismatches, max relative difference %.3g\n", mismatch, maxrel);
	scorer_free(s);
	svm_free_and_destroy_model(&m);
	free(r.x);
	free(r.pool);
	free(l1);
	free(l2);
	free(d1);
	free(d2);
	free(p1);
	free(p2);
	return mismatch ? 1 : 0;
}
