/*
 * svkern.h — the dense kernels of the batch scorer (floor 1): squared distances, dot
 * products and coefficient sums between a tile of rows and a block of support vectors.
 *
 * Every output element is computed by the same sequence of IEEE operations whatever its
 * position in the tile: a sum runs over its terms one after the other, in index order,
 * starting from 0, with a separate multiply and add (the library is built with
 * -ffp-contract=off, so no fused multiply-add). Vector lanes hold rows, so the value of a
 * row never depends on which other rows share its tile, how many there are, or which
 * instruction set the CPU offers (the AVX2 and the baseline clones give the same bits).
 * These are also the sums libsvm's k_function() and svm_predict_values() compute, term by
 * term, so the results equal libsvm's bit for bit (before exp()).
 *
 * Layout: a tile of nr rows (nr a multiple of SVK_LANES) is held transposed, xt[p * ldx + r]
 * for feature p of row r; kernel values k[j * ldk + r] for support vector j. Support
 * vectors and coefficients are row-major. Every row pointer handed in must be aligned to
 * SVK_ALIGN bytes (ldx, ldk and acc rows multiples of SVK_LANES, buffers from svk_alloc()).
 */
#ifndef MLCTL_SVKERN_H
#define MLCTL_SVKERN_H

#include <stddef.h>

#define SVK_LANES 8		/* rows per tile step: nr, ldx and ldk are multiples of this */
#define SVK_ALIGN 32

/* A zeroed buffer of n doubles aligned to SVK_ALIGN, or NULL; free() releases it. */
double *svk_alloc(size_t n);

/* k[j][r] = sum over p < d of (xt[p][r] - sv[j][p])^2, for j < ns and r < nr. */
void svk_dist2(double *k, size_t ldk, const double *xt, size_t ldx, size_t nr,
	       const double *sv, size_t ns, size_t d);

/* k[j][r] = sum over p < d of xt[p][r] * sv[j][p]. */
void svk_dot(double *k, size_t ldk, const double *xt, size_t ldx, size_t nr,
	     const double *sv, size_t ns, size_t d);

/* For c < ncoef: acc[c][r] += k[j][r] * coef[j][c], term by term for j = 0 .. ns-1. */
void svk_reduce(double *const *acc, size_t nr, const double *k, size_t ldk, size_t ns,
		const double *coef, size_t ncoef);

#endif
