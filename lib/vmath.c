/*
 * vmath.c — vectorised exp over arrays (floor 1). On x86-64 with glibc it calls libmvec's
 * vector variants, which -lm brings in (libm.so names libmvec AS_NEEDED): the AVX2 one when
 * the CPU has it, else the SSE2 one that every x86-64 has. Elsewhere it is a plain loop of
 * exp(). libmvec is where glibc's own auto-vectorised exp() calls go under -ffast-math; it
 * is called directly here so the rest of the library keeps strict IEEE semantics.
 */
#include <math.h>
#if defined(__x86_64__) && defined(__GLIBC__)
#include <immintrin.h>
#endif

#include "vmath.h"
#include "banned.h"

#if defined(__x86_64__) && defined(__GLIBC__)

__m128d _ZGVbN2v_exp(__m128d x);
__attribute__((target("avx2"))) __m256d _ZGVdN4v_exp(__m256d x);
__attribute__((target("avx512f"))) __m512d _ZGVeN8v_exp(__m512d x);

/*
 * libmvec takes a slow path (about 12x) for a whole vector when one of its lanes would
 * underflow, and far-apart rows and support vectors give many such lanes. So arguments
 * below EXP_FAST_MIN are clamped before the vector call and their lanes redone here: 0
 * below EXP_ZERO (where exp() is 0 in double), libm's exp() between. A lane's result
 * depends on its own argument only. The clamp is max(lo, x), in that order: the x86 max
 * returns its second operand when either is NaN, so a NaN lane stays NaN (max(x, lo)
 * would turn it into -708, and exp_fix_low() does not see it, NaN < lo being false).
 */
#define EXP_FAST_MIN (-708.0)
#define EXP_ZERO (-746.0)

static void exp_fix_low(double *out, const double *arg, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (arg[i] < EXP_FAST_MIN)
			out[i] = arg[i] < EXP_ZERO ? 0.0 : exp(arg[i]);
}

__attribute__((target("avx512f")))
static size_t exp_avx512(double *v, size_t n)
{
	__m512d lo = _mm512_set1_pd(EXP_FAST_MIN);
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		__m512d x = _mm512_loadu_pd(v + i);

		if (_mm512_cmp_pd_mask(x, lo, _CMP_LT_OQ)) {
			double arg[8];

			_mm512_storeu_pd(arg, x);
			_mm512_storeu_pd(v + i, _ZGVeN8v_exp(_mm512_max_pd(lo, x)));
			exp_fix_low(v + i, arg, 8);
		} else {
			_mm512_storeu_pd(v + i, _ZGVeN8v_exp(x));
		}
	}
	return i;
}

__attribute__((target("avx2")))
static size_t exp_avx2(double *v, size_t n)
{
	__m256d lo = _mm256_set1_pd(EXP_FAST_MIN);
	size_t i;

	for (i = 0; i + 4 <= n; i += 4) {
		__m256d x = _mm256_loadu_pd(v + i);

		if (_mm256_movemask_pd(_mm256_cmp_pd(x, lo, _CMP_LT_OQ))) {
			double arg[4];

			_mm256_storeu_pd(arg, x);
			_mm256_storeu_pd(v + i, _ZGVdN4v_exp(_mm256_max_pd(lo, x)));
			exp_fix_low(v + i, arg, 4);
		} else {
			_mm256_storeu_pd(v + i, _ZGVdN4v_exp(x));
		}
	}
	return i;
}

static size_t exp_sse2(double *v, size_t n)
{
	__m128d lo = _mm_set1_pd(EXP_FAST_MIN);
	size_t i;

	for (i = 0; i + 2 <= n; i += 2) {
		__m128d x = _mm_loadu_pd(v + i);

		if (_mm_movemask_pd(_mm_cmplt_pd(x, lo))) {
			double arg[2];

			_mm_storeu_pd(arg, x);
			_mm_storeu_pd(v + i, _ZGVbN2v_exp(_mm_max_pd(lo, x)));
			exp_fix_low(v + i, arg, 2);
		} else {
			_mm_storeu_pd(v + i, _ZGVbN2v_exp(x));
		}
	}
	return i;
}

static size_t exp_vector(double *v, size_t n)
{
	if (__builtin_cpu_supports("avx512f"))
		return exp_avx512(v, n);
	if (__builtin_cpu_supports("avx2"))
		return exp_avx2(v, n);
	return exp_sse2(v, n);
}
#else
static size_t exp_vector(double *v, size_t n)
{
	(void)v;
	(void)n;
	return 0;
}

#endif

void vmath_exp(double *v, size_t n)
{
	size_t i = exp_vector(v, n);

	for (; i < n; i++)
		v[i] = exp(v[i]);
}

double vmath_powi(double base, int times)
{
	double tmp = base, ret = 1.0;
	int t;

	for (t = times; t > 0; t /= 2) {
		if (t % 2 == 1)
			ret *= tmp;
		tmp = tmp * tmp;
	}
	return ret;
}
