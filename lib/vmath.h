/*
 * vmath.h — vectorised exp over arrays (floor 1), for the scorer's rbf kernel. Results are
 * within a few ulp of libm's (glibc's libmvec claims 1 ulp for exp), not bit-identical;
 * each element's result depends on its own argument only.
 */
#ifndef MLCTL_VMATH_H
#define MLCTL_VMATH_H

#include <stddef.h>

/* v[i] = exp(v[i]) for i < n. */
void vmath_exp(double *v, size_t n);

/* base^times as libsvm's powi() (svm.cpp) forms it: the same multiplications in the same
 * order, so poly kernel values match libsvm's to the bit. */
double vmath_powi(double base, int times);

#endif
