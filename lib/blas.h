/*
 * blas.h — the one BLAS routine mlctl uses (dgemm), loaded from OpenBLAS on first use
 * (floor 1).
 *
 * Linking libopenblas into the binary costs every command a few milliseconds at start-up
 * (the library starts its thread pool when it is loaded), and `mlctl --version`, `runs list`
 * and the like never multiply matrices. So the scorer asks for dgemm here: the first call
 * dlopen()s libopenblas.so.0, pins it to one thread (mlctl runs its own workers) and caches
 * the symbol. If OpenBLAS cannot be loaded, a plain blocked loop computes the same product.
 */
#ifndef MLCTL_BLAS_H
#define MLCTL_BLAS_H

#include <stdbool.h>

/* C = alpha * A * op(B) + beta * C, row-major; op(B) = B^T when trans_b. A is m x k (lda),
 * B is n x k (ldb) when trans_b, else k x n; C is m x n (ldc). */
void blas_dgemm(bool trans_b, int m, int n, int k, double alpha, const double *a, int lda,
		const double *b, int ldb, double beta, double *c, int ldc);

/* True when OpenBLAS was loaded (after the first blas_dgemm or blas_init). */
bool blas_is_openblas(void);
void blas_init(void);

#endif
