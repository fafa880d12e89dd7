/*
 * vmath.h — vectorised elementary functions over arrays (floor 1), for the scorer's kernel
 * transform. Results are within a few ulp of libm's (glibc's libmvec claims 1 ulp for exp),
 * not bit-identical.
 */
#ifndef MLCTL_VMATH_H
#define MLCTL_VMATH_H

#include <stddef.h>

/* v[i] = exp(v[i]) for i < n. */
void vmath_exp(double *v, size_t n);

/* The rbf kernel from dot products: k[i] = exp(-gamma * max(xsq + ssq[i] - 2 k[i], 0)),
 * with the operations in that order whichever path runs. */
void vmath_rbf(double *k, size_t n, double xsq, const double *ssq, double gamma);

#endif
