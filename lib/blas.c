/*
 * blas.c — dgemm from OpenBLAS, loaded lazily with dlopen (floor 1); see blas.h for why.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

#include "blas.h"
#include "banned.h"

/* CBLAS constants (cblas.h): row-major 101, no transpose 111, transpose 112. */
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

typedef void (*cblas_dgemm_fn)(int order, int ta, int tb, int m, int n, int k, double alpha,
			       const double *a, int lda, const double *b, int ldb, double beta,
			       double *c, int ldc);
typedef void (*set_threads_fn)(int n);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static cblas_dgemm_fn dgemm;

static void load(void)
{
	static const char *const names[] = { "libopenblas.so.0", "libopenblas.so", "libcblas.so.3", "libblas.so.3" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]) && !dgemm; i++) {
		void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		set_threads_fn set;

		if (!h)
			continue;
		*(void **)&dgemm = dlsym(h, "cblas_dgemm");
		*(void **)&set = dlsym(h, "openblas_set_num_threads");
		if (set)
			set(1);
		if (!dgemm)
			dlclose(h);
	}
}

void blas_init(void)
{
	pthread_once(&once, load);
}

bool blas_is_openblas(void)
{
	blas_init();
	return dgemm != NULL;
}

/* The fallback: C = alpha A op(B) + beta C with a cache-friendly loop order. */
static void plain_dgemm(bool trans_b, int m, int n, int k, double alpha, const double *a, int lda,
			const double *b, int ldb, double beta, double *c, int ldc)
{
	int i, j, p;

	for (i = 0; i < m; i++) {
		double *ci = c + (size_t)i * (size_t)ldc;
		const double *ai = a + (size_t)i * (size_t)lda;

		for (j = 0; j < n; j++)
			ci[j] = beta == 0 ? 0 : beta * ci[j];
		if (trans_b) {
			for (j = 0; j < n; j++) {
				const double *bj = b + (size_t)j * (size_t)ldb;
				double s = 0;

				for (p = 0; p < k; p++)
					s += ai[p] * bj[p];
				ci[j] += alpha * s;
			}
		} else {
			for (p = 0; p < k; p++) {
				const double *bp = b + (size_t)p * (size_t)ldb;
				double f = alpha * ai[p];

				for (j = 0; j < n; j++)
					ci[j] += f * bp[j];
			}
		}
	}
}

void blas_dgemm(bool trans_b, int m, int n, int k, double alpha, const double *a, int lda,
		const double *b, int ldb, double beta, double *c, int ldc)
{
	blas_init();
	if (dgemm)
		dgemm(ROW_MAJOR, NO_TRANS, trans_b ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
	else
		plain_dgemm(trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
