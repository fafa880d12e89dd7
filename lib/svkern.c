/*
 * svkern.c — dense scorer kernels with a fixed order of operations (floor 1); see svkern.h.
 *
 * The code is written with GCC's generic vectors (four doubles, one per row) and compiled
 * twice through target_clones: once for AVX2, once for the x86-64 baseline (where GCC splits
 * each vector into two SSE2 halves). A lane only ever meets its own row's values, and both
 * clones perform the same multiplies and adds in the same order, so they give the same bits.
 * The tiles are 8 rows by 4 support vectors (or 4 coefficients): enough independent sums to
 * hide the add latency, few enough to stay in the 16 vector registers.
 */
#include <stdlib.h>
#include <string.h>

#include "svkern.h"
#include "banned.h"

#if defined(__x86_64__) && defined(__GLIBC__)
#define SVK_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SVK_CLONES
#endif

typedef double vd __attribute__((vector_size(32)));

/* Aligned loads and stores of one vector (macros: a function returning a vector would
 * change its ABI between the clones). */
#define vload(p) (*(const vd *)(const void *)(p))
#define vstore(p, v) (*(vd *)(void *)(p) = (v))

double *svk_alloc(size_t n)
{
	void *p = NULL;

	if (n > (size_t)-1 / sizeof(double) - SVK_LANES)
		return NULL;
	if (posix_memalign(&p, SVK_ALIGN, (n ? n : 1) * sizeof(double)) != 0)
		return NULL;
	memset(p, 0, (n ? n : 1) * sizeof(double));
	return p;
}

/* One step of a squared distance: acc += (x - s)^2, as libsvm's "d = x - y; sum += d*d". */
#define DIST_STEP(acc, x, s) do { vd t_ = (x) - (s); (acc) += t_ * t_; } while (0)
#define DOT_STEP(acc, x, s) ((acc) += (x) * (s))

/* The two kernels differ only in their step; one body, stamped twice. */
#define PAIR_TILES(name, STEP)								\
SVK_CLONES void name(double *k, size_t ldk, const double *xt, size_t ldx, size_t nr,	\
		     const double *sv, size_t ns, size_t d)				\
{											\
	size_t r, j, p;									\
											\
	for (r = 0; r < nr; r += SVK_LANES) {						\
		for (j = 0; j + 4 <= ns; j += 4) {					\
			const double *s0 = sv + j * d, *s1 = s0 + d, *s2 = s1 + d, *s3 = s2 + d; \
			vd a0 = { 0 }, b0 = { 0 }, a1 = { 0 }, b1 = { 0 };		\
			vd a2 = { 0 }, b2 = { 0 }, a3 = { 0 }, b3 = { 0 };		\
											\
			for (p = 0; p < d; p++) {					\
				vd x0 = vload(xt + p * ldx + r), x1 = vload(xt + p * ldx + r + 4); \
											\
				STEP(a0, x0, s0[p]); STEP(b0, x1, s0[p]);		\
				STEP(a1, x0, s1[p]); STEP(b1, x1, s1[p]);		\
				STEP(a2, x0, s2[p]); STEP(b2, x1, s2[p]);		\
				STEP(a3, x0, s3[p]); STEP(b3, x1, s3[p]);		\
			}								\
			vstore(k + j * ldk + r, a0); vstore(k + j * ldk + r + 4, b0);	\
			vstore(k + (j + 1) * ldk + r, a1); vstore(k + (j + 1) * ldk + r + 4, b1); \
			vstore(k + (j + 2) * ldk + r, a2); vstore(k + (j + 2) * ldk + r + 4, b2); \
			vstore(k + (j + 3) * ldk + r, a3); vstore(k + (j + 3) * ldk + r + 4, b3); \
		}									\
		for (; j < ns; j++) {							\
			const double *s0 = sv + j * d;					\
			vd a0 = { 0 }, b0 = { 0 };					\
											\
			for (p = 0; p < d; p++) {					\
				STEP(a0, vload(xt + p * ldx + r), s0[p]);		\
				STEP(b0, vload(xt + p * ldx + r + 4), s0[p]);		\
			}								\
			vstore(k + j * ldk + r, a0); vstore(k + j * ldk + r + 4, b0);	\
		}									\
	}										\
}

PAIR_TILES(svk_dist2, DIST_STEP)
PAIR_TILES(svk_dot, DOT_STEP)

SVK_CLONES
void svk_reduce(double *const *acc, size_t nr, const double *k, size_t ldk, size_t ns,
		const double *coef, size_t ncoef)
{
	size_t r, c, j;

	for (r = 0; r < nr; r += SVK_LANES) {
		for (c = 0; c + 4 <= ncoef; c += 4) {
			double *p0 = acc[c] + r, *p1 = acc[c + 1] + r, *p2 = acc[c + 2] + r, *p3 = acc[c + 3] + r;
			vd a0 = vload(p0), b0 = vload(p0 + 4), a1 = vload(p1), b1 = vload(p1 + 4);
			vd a2 = vload(p2), b2 = vload(p2 + 4), a3 = vload(p3), b3 = vload(p3 + 4);

			for (j = 0; j < ns; j++) {
				vd k0 = vload(k + j * ldk + r), k1 = vload(k + j * ldk + r + 4);
				const double *cf = coef + j * ncoef + c;

				a0 += k0 * cf[0]; b0 += k1 * cf[0];
				a1 += k0 * cf[1]; b1 += k1 * cf[1];
				a2 += k0 * cf[2]; b2 += k1 * cf[2];
				a3 += k0 * cf[3]; b3 += k1 * cf[3];
			}
			vstore(p0, a0); vstore(p0 + 4, b0); vstore(p1, a1); vstore(p1 + 4, b1);
			vstore(p2, a2); vstore(p2 + 4, b2); vstore(p3, a3); vstore(p3 + 4, b3);
		}
		for (; c < ncoef; c++) {
			double *p0 = acc[c] + r;
			vd a0 = vload(p0), b0 = vload(p0 + 4);

			for (j = 0; j < ns; j++) {
				a0 += vload(k + j * ldk + r) * coef[j * ncoef + c];
				b0 += vload(k + j * ldk + r + 4) * coef[j * ncoef + c];
			}
			vstore(p0, a0); vstore(p0 + 4, b0);
		}
	}
}
