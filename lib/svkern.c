/*
 * svkern.c — dense scorer kernels with a fixed order of operations (floor 1); see svkern.h.
 *
 * One body (svkern_body.h) is compiled per instruction set: the x86-64 baseline (GCC splits
 * each 4-double vector into SSE2 halves; a multiply and an add, two roundings), AVX2 with
 * FMA, and AVX-512F (fused multiply-adds, one rounding). A lane only ever meets its own
 * row's values and every element is the same chain of operations, so within one instruction
 * set the result of a row never depends on its tile, block or lane. The set is chosen once
 * per scorer from what the CPU offers (svk_select()); the results of two sets may differ in
 * the last bits, as any two libm builds may.
 */
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "svkern.h"
#include "banned.h"

typedef double vd2 __attribute__((vector_size(16)));

/* The baseline: every x86-64 (SSE2), and any other architecture GCC vectorises generically. */
#define SK(name) name##_base
#define SK_TARGET
#define V vd2
#define VL 2
#define NS 2
#define VFMA(a, x, y) ((a) + (x) * (y))
#define VSET(x) ((V){ (x), (x) })
#include "svkern_body.h"
#undef SK
#undef SK_TARGET
#undef V
#undef VL
#undef NS
#undef VFMA
#undef VSET

#if defined(__x86_64__) && defined(__GNUC__)
typedef double vd4 __attribute__((vector_size(32)));
typedef double vd8 __attribute__((vector_size(64)));

#define SK(name) name##_avx2
#define SK_TARGET __attribute__((target("avx2,fma")))
#define V vd4
#define VL 4
#define NS 6
#define VFMA(a, x, y) ((V)_mm256_fmadd_pd((__m256d)(x), (__m256d)(y), (__m256d)(a)))
#define VSET(x) ((V)_mm256_set1_pd(x))
#include "svkern_body.h"
#undef SK
#undef SK_TARGET
#undef V
#undef VL
#undef NS
#undef VFMA
#undef VSET

#define SK(name) name##_avx512
#define SK_TARGET __attribute__((target("avx512f")))
#define V vd8
#define VL 8
#define NS 8
#define VFMA(a, x, y) ((V)_mm512_fmadd_pd((__m512d)(x), (__m512d)(y), (__m512d)(a)))
#define VSET(x) ((V)_mm512_set1_pd(x))
#include "svkern_body.h"
#undef SK
#undef SK_TARGET
#undef V
#undef VL
#undef NS
#undef VFMA
#undef VSET

static const svk_ops ops_avx2 = { "avx2", SVK_ISA_AVX2, dist2_avx2, dot_avx2, reduce_avx2 };
static const svk_ops ops_avx512 = { "avx512", SVK_ISA_AVX512, dist2_avx512, dot_avx512, reduce_avx512 };

static bool has_isa(svk_isa isa)
{
	__builtin_cpu_init();
	switch (isa) {
	case SVK_ISA_AVX512:
		return __builtin_cpu_supports("avx512f");
	case SVK_ISA_AVX2:
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	default:
		return true;
	}
}
#endif

static const svk_ops ops_base = { "baseline", SVK_ISA_BASE, dist2_base, dot_base, reduce_base };

const svk_ops *svk_select(svk_isa want)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if ((want == SVK_ISA_BEST || want == SVK_ISA_AVX512) && has_isa(SVK_ISA_AVX512))
		return &ops_avx512;
	if ((want == SVK_ISA_BEST || want == SVK_ISA_AVX512 || want == SVK_ISA_AVX2) && has_isa(SVK_ISA_AVX2))
		return &ops_avx2;
#endif
	(void)want;
	return &ops_base;
}

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
