/*
 * svkern.h — the dense kernels of the batch scorer (floor 1): squared distances, dot
 * products and coefficient sums between a tile of rows and a block of support vectors.
 *
 * Every output element is computed by the same sequence of IEEE operations whatever its
 * position in the tile: a sum runs over its terms one after the other, in index order,
 * starting from 0, with the same operations for every element (the library is built with
 * -ffp-contract=off, so the compiler fuses nothing on its own). Vector lanes hold rows, so
 * the value of a row never depends on which other rows share its tile or how many there
 * are. These are the sums libsvm's k_function() and svm_predict_values() compute, term by
 * term; with the baseline kernels (a multiply, then an add) the results equal libsvm's bit
 * for bit, with the FMA kernels they differ by the rounding of the products only.
 *
 * Layout: a tile of nr rows (nr a multiple of SVK_LANES) is held transposed, xt[p * ldx + r]
 * for feature p of row r; kernel values k[j * ldk + r] for support vector j. Support
 * vectors and coefficients are row-major. Every row pointer handed in must be aligned to
 * SVK_ALIGN bytes (ldx, ldk and acc rows multiples of SVK_LANES, buffers from svk_alloc()).
 */
#ifndef MLCTL_SVKERN_H
#define MLCTL_SVKERN_H

#include <stdbool.h>
#include <stddef.h>

#define SVK_LANES 8		/* rows per tile step: nr, ldx and ldk are multiples of this */
#define SVK_ALIGN 64

/* A zeroed buffer of n doubles aligned to SVK_ALIGN, or NULL; free() releases it. */
double *svk_alloc(size_t n);

typedef enum svk_isa {
	SVK_ISA_BEST,		/* the widest the CPU has */
	SVK_ISA_BASE,		/* the x86-64 baseline (or generic code elsewhere): no FMA */
	SVK_ISA_AVX2,		/* AVX2 with FMA */
	SVK_ISA_AVX512		/* AVX-512F */
} svk_isa;

/* One instruction set's kernels. Each fills or updates the tile as documented below. */
typedef struct svk_ops {
	const char *name;
	svk_isa isa;
	/* k[j][r] = sum over p < d of (xt[p][r] - sv[j][p])^2, for j < ns and r < nr. */
	void (*dist2)(double *k, size_t ldk, const double *xt, size_t ldx, size_t nr,
		      const double *sv, size_t ns, size_t d);
	/* k[j][r] = sum over p < d of xt[p][r] * sv[j][p]. */
	void (*dot)(double *k, size_t ldk, const double *xt, size_t ldx, size_t nr,
		    const double *sv, size_t ns, size_t d);
	/* For c < ncoef: acc[c][r] += k[j][r] * coef[j][c], term by term for j = 0 .. ns-1. */
	void (*reduce)(double *const *acc, size_t nr, const double *k, size_t ldk, size_t ns,
		       const double *coef, size_t ncoef);
} svk_ops;

/* The kernels for want if the CPU has it, else the best it has below want (SVK_ISA_BEST:
 * the best it has). Never NULL; the table is static and read-only. */
const svk_ops *svk_select(svk_isa want);

#endif
