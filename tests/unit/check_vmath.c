/*
 * check_vmath.c — vmath.c (floor 1): vmath_exp() against libm's exp() element by element,
 * for arguments of magnitude 1e-9, 1, 1e2 (up to the overflow and underflow edges) and
 * 1e9, for every length (vector bodies and scalar tails), and lanes that underflow mixed
 * with lanes that do not. Tolerance: 4 ulp of exp() (libmvec documents 4 ulp at most; the
 * header promises "a few"); special values exactly.
 */
#include <float.h>
#include <math.h>

#include "check_util.h"
#include "vmath.h"

/* Distance in units in the last place between two finite doubles of the same sign. */
static uint64_t ulps(double a, double b)
{
	int64_t ia, ib;

	if (a == b)
		return 0;
	memcpy(&ia, &a, sizeof(ia));
	memcpy(&ib, &b, sizeof(ib));
	if (ia < 0)
		ia = INT64_MIN - ia;
	if (ib < 0)
		ib = INT64_MIN - ib;
	return ia > ib ? (uint64_t)ia - (uint64_t)ib : (uint64_t)ib - (uint64_t)ia;
}

/* vmath_exp of n arguments drawn as scale * U(-1, 1) (+ shift), each compared with exp(). */
static void compare_random(double scale, double shift, size_t n, uint64_t seed)
{
	double *v = malloc(n * sizeof(*v)), *arg = malloc(n * sizeof(*arg));
	uint64_t st = seed, worst = 0;
	size_t i, at = 0;

	for (i = 0; i < n; i++)
		arg[i] = v[i] = shift + scale * unit_rand_sym(&st);
	vmath_exp(v, n);
	for (i = 0; i < n; i++) {
		double want = exp(arg[i]);
		uint64_t u;

		if (isinf(want) || want == 0) {
			if (v[i] != want)
				ck_abort_msg("exp(%.17g): %.17g, want %.17g", arg[i], v[i], want);
			continue;
		}
		u = ulps(v[i], want);
		if (u > worst) {
			worst = u;
			at = i;
		}
	}
	ck_assert_msg(worst <= 4, "scale %g shift %g: exp(%.17g) = %.17g is %llu ulp from %.17g", scale, shift,
		      arg[at], v[at], (unsigned long long)worst, exp(arg[at]));
	free(v);
	free(arg);
}

START_TEST(test_vmath_exp_magnitudes)
{
	compare_random(1e-9, 0, 4099, 1);	/* exp(x) ~ 1 + x */
	compare_random(1, 0, 4099, 2);
	compare_random(50, 0, 4099, 3);
	compare_random(700, 0, 4099, 4);	/* the whole finite range */
	compare_random(30, -720, 4099, 5);	/* around the clamp at -708: denormal results */
	compare_random(5, 707, 4099, 6);	/* up to overflow at 709.78 */
	compare_random(1e9, 0, 4099, 7);	/* 0 and inf */
}
END_TEST

/* Every length from 0 to 40: the vector body and the scalar tail both right, nothing past
 * n touched. */
START_TEST(test_vmath_exp_lengths)
{
	double v[48], arg[48];
	size_t n, i;
	uint64_t st = 11;

	for (n = 0; n <= 40; n++) {
		for (i = 0; i < 48; i++)
			arg[i] = v[i] = 3 * unit_rand_sym(&st);
		vmath_exp(v, n);
		for (i = 0; i < n; i++)
			if (ulps(v[i], exp(arg[i])) > 4)
				ck_abort_msg("n %zu, element %zu: %.17g vs %.17g", n, i, v[i], exp(arg[i]));
		for (; i < 48; i++)
			ck_assert_msg(memcmp(&v[i], &arg[i], sizeof(double)) == 0, "n %zu: element %zu written", n, i);
	}
	vmath_exp(NULL, 0);
}
END_TEST

START_TEST(test_vmath_exp_special)
{
	double v[] = { 0.0, -0.0, 1.0, INFINITY, -INFINITY, -745.1, -746.5, -1e300, 709.8, 709.7, DBL_MIN, -DBL_MIN,
		       1e-320, 0, 0, 0 };
	size_t n = sizeof(v) / sizeof(v[0]), i;
	double arg[sizeof(v) / sizeof(v[0])];

	memcpy(arg, v, sizeof(v));
	vmath_exp(v, n);
	ck_assert(v[0] == 1 && v[1] == 1);
	ck_assert(ulps(v[2], exp(1.0)) <= 4);
	ck_assert(isinf(v[3]) && v[3] > 0);
	ck_assert(v[4] == 0);
	ck_assert(v[5] == exp(-745.1) && v[5] > 0);	/* the smallest denormal, from libm */
	ck_assert(v[6] == 0 && !signbit(v[6]));
	ck_assert(v[7] == 0);
	ck_assert(isinf(v[8]));
	ck_assert(isfinite(v[9]) && ulps(v[9], exp(709.7)) <= 4);
	for (i = 10; i < n; i++)
		ck_assert_msg(ulps(v[i], exp(arg[i])) <= 4, "exp(%g) = %.17g", arg[i], v[i]);
	/* NaN stays NaN (in a vector without arguments below the clamp at -708). */
	{
		double w[9] = { NAN, 1, 2, 3, 4, 5, 6, 7, NAN };

		vmath_exp(w, 9);
		ck_assert(isnan(w[0]) && isnan(w[8]));
	}
}
END_TEST

/* A lane below the clamp is redone on its own; the other lanes of its vector come out bit
 * for bit as they do in a vector without it. */
START_TEST(test_vmath_exp_lane_independent)
{
	double a[64], b[64], arg[64];
	uint64_t st = 21;
	size_t i, k;

	for (i = 0; i < 64; i++)
		arg[i] = 2 * unit_rand_sym(&st);
	memcpy(a, arg, sizeof(a));
	vmath_exp(a, 64);
	for (k = 0; k < 64; k += 5) {
		memcpy(b, arg, sizeof(b));
		b[k] = -720.25;
		if (k + 1 < 64)
			b[k + 1] = -800;
		vmath_exp(b, 64);
		for (i = 0; i < 64; i++) {
			if (i == k) {
				ck_assert(b[i] == exp(-720.25));
			} else if (i == k + 1) {
				ck_assert(b[i] == 0);
			} else {
				ck_assert_msg(memcmp(&a[i], &b[i], sizeof(double)) == 0,
					      "lane %zu changed by a low argument in lane %zu", i, k);
			}
		}
	}
}
END_TEST

/* NaN in, NaN out, whatever the other lanes of its vector hold: a NaN at every lane j of
 * a vector (8 wide covers SSE2, AVX2 and AVX-512) next to a lane k below the clamp, one
 * that underflows to 0 (-800) or one redone by libm (-720.25). */
START_TEST(test_vmath_exp_nan_with_low_lane)
{
	static const double low[] = { -800, -720.25 };
	double v[8];
	size_t j, k, l, i;

	for (l = 0; l < 2; l++)
		for (j = 0; j < 8; j++)
			for (k = 0; k < 8; k++) {
				if (k == j)
					continue;
				for (i = 0; i < 8; i++)
					v[i] = 0.5;
				v[j] = j % 2 ? -NAN : NAN;
				v[k] = low[l];
				vmath_exp(v, 8);
				ck_assert_msg(isnan(v[j]), "exp(NaN) in lane %zu next to exp(%g) in lane %zu: %.17g",
					      j, low[l], k, v[j]);
				ck_assert(v[k] == exp(low[l]));
				for (i = 0; i < 8; i++)
					if (i != j && i != k)
						ck_assert(ulps(v[i], exp(0.5)) <= 4);
			}
}
END_TEST

static Suite *vmath_suite(void)
{
	Suite *s = suite_create("vmath");
	TCase *tc = tcase_create("vmath");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_vmath_exp_magnitudes);
	tcase_add_test(tc, test_vmath_exp_lengths);
	tcase_add_test(tc, test_vmath_exp_special);
	tcase_add_test(tc, test_vmath_exp_lane_independent);
	tcase_add_test(tc, test_vmath_exp_nan_with_low_lane);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(vmath_suite)
