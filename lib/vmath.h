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

#endif
