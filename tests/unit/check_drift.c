/*
 * check_drift.c — lib/drift: each statistic on small hand cases against the numbers scipy
 * 1.10 gives (the scipy call is in the comment above each; values pasted with 17 digits),
 * the edge cases (ties, one value, constant samples, n1 != n2, values near 1e9 and 1e-9,
 * a category expected 0 times), and Evidently's rule at its boundaries: 1,000 against
 * 1,001 reference rows, 5 against 6 distinct values, 2 against 3 categories.
 * tests/cli/t0090-drift-scipy.sh compares the same statistics with scipy on real data.
 */
#include <math.h>

#include "check_util.h"
#include "drift.h"
#include "error.h"

#define TOL 1e-12

/* Equal to within TOL, absolute or relative. */
static void near(double got, double want, const char *what)
{
	double d = fabs(got - want);

	ck_assert_msg(got == want || d <= TOL || d <= TOL * fabs(want), "%s: %.17g, expected %.17g", what, got, want);
}

static void ks(const double *a, size_t na, const double *b, size_t nb, double d, double p, const char *what)
{
	double gd, gp;

	ck_assert_int_eq(drift_ks_2samp(a, na, b, nb, &gd, &gp), 0);
	near(gd, d, what);
	near(gp, p, what);
}

START_TEST(test_drift_ks_small)
{
	static const double a[] = { 0.1, 0.4, 0.7, 1.0, 1.3, 1.6 }, b[] = { 0.5, 0.9, 1.2, 1.8, 2.2, 2.5, 2.6 };
	static const double ta[] = { 1, 1, 2, 2, 3, 3, 3 }, tb[] = { 2, 3, 3, 4, 4, 5, 5, 5, 6 };
	double big_a[6], big_b[7], tiny_a[6], tiny_b[7];

	/* ks_2samp([0.1, 0.4, 0.7, 1.0, 1.3, 1.6], [0.5, 0.9, 1.2, 1.8, 2.2, 2.5]): n1 == n2 */
	ks(a, 6, b, 6, 0.5, 0.47402597402597402, "n1 == n2");
	/* ks_2samp([1,1,2,2,3,3,3], [2,3,3,4,4,5,5,5,6]): ties, n1 != n2 */
	ks(ta, 7, tb, 9, 0.66666666666666663, 0.034090909090909088, "ties");
	/* ks_2samp(1e9 + a, 1e9 + b) and (1e-9 * a, 1e-9 * b), b with 2.6 appended */
	for (size_t i = 0; i < 7; i++) {
		if (i < 6) {
			big_a[i] = 1e9 + a[i];
			tiny_a[i] = 1e-9 * a[i];
		}
		big_b[i] = 1e9 + b[i];
		tiny_b[i] = 1e-9 * b[i];
	}
	ks(big_a, 6, big_b, 7, 0.5714285714285714, 0.14685314685314685, "1e9");
	ks(tiny_a, 6, tiny_b, 7, 0.5714285714285714, 0.14685314685314685, "1e-9");
}
END_TEST

START_TEST(test_drift_ks_one_value_and_constant)
{
	double five = 5, one = 1, two = 2, c2[12], c3[12];

	for (size_t i = 0; i < 12; i++) {
		c2[i] = 2.0;
		c3[i] = 3.0;
	}
	/* ks_2samp([5], [5]) = (0, 1); ks_2samp([1], [2]) = (1, 1) */
	ks(&five, 1, &five, 1, 0, 1, "one value, same");
	ks(&one, 1, &two, 1, 1, 1, "one value, different");
	/* ks_2samp([2.0]*10, [2.0]*12) = (0, 1); ks_2samp([2.0]*10, [3.0]*12) */
	ks(c2, 10, c2, 12, 0, 1, "constant, same");
	ks(c2, 10, c3, 12, 1, 3.0928823498482945e-06, "constant, different");
}
END_TEST

/* The samples of the asymptotic case: scipy's side of it is
 * A = [(i * 0.6180339887) % 1.0 for i in range(3000)],
 * B = [((j * 0.4142135623) % 1.0) * 1.02 for j in range(12000)]. */
static double *golden(size_t n, double step, double scale)
{
	double *v = calloc(n, sizeof(*v));

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < n; i++)
		v[i] = fmod((double)i * step, 1.0) * scale;
	return v;
}

START_TEST(test_drift_ks_exact_and_asymptotic)
{
	double *a = golden(3000, 0.6180339887, 1), *b = golden(12000, 0.4142135623, 1.02);
	double *a2 = golden(50, 0.6180339887, 1), *b2 = golden(70, 0.4142135623, 1.3), w;

	/* ks_2samp(A, B): max(n1, n2) > 10000, kstwo.sf(D, round(2400)) */
	ks(a, 3000, b, 12000, 0.019833333333333258, 0.29774092600229773, "asymptotic");
	/* ks_2samp(A[:50], B'[:70]) with B' scaled by 1.3: exact, n1 != n2 */
	ks(a2, 50, b2, 70, 0.23714285714285716, 0.063388783802446641, "exact 50/70");
	/* wasserstein_distance(A, B) */
	ck_assert_int_eq(drift_wasserstein(a, 3000, b, 12000, &w), 0);
	near(w, 0.0099665151342397396, "wasserstein 3000/12000");
	free(a);
	free(b);
	free(a2);
	free(b2);
}
END_TEST

START_TEST(test_drift_wasserstein)
{
	static const double a[] = { 0, 1, 3 }, b[] = { 5, 6, 8 };
	static const double ta[] = { 1, 1, 2, 2, 3, 3, 3 }, tb[] = { 2, 3, 3, 4, 4, 5, 5, 5, 6 };
	static const double s[] = { 0.1, 0.4, 0.7 }, t[] = { 0.5, 0.9, 1.2, 1.8 };
	double w, big_s[3], big_t[4], tiny_s[3], tiny_t[4];

	/* wasserstein_distance([0,1,3], [5,6,8]) = 5 */
	ck_assert_int_eq(drift_wasserstein(a, 3, b, 3, &w), 0);
	near(w, 5, "shift");
	/* wasserstein_distance([1,1,2,2,3,3,3], [2,3,3,4,4,5,5,5,6]) */
	ck_assert_int_eq(drift_wasserstein(ta, 7, tb, 9, &w), 0);
	near(w, 1.9682539682539684, "ties");
	ck_assert_int_eq(drift_wasserstein(a, 3, a, 3, &w), 0);
	near(w, 0, "same");
	for (size_t i = 0; i < 4; i++) {
		if (i < 3) {
			big_s[i] = 1e9 + s[i];
			tiny_s[i] = 1e-9 * s[i];
		}
		big_t[i] = 1e9 + t[i];
		tiny_t[i] = 1e-9 * t[i];
	}
	/* wasserstein_distance(1e9 + [0.1,0.4,0.7], 1e9 + [0.5,0.9,1.2,1.8]): the sums of 1e9
	 * and a tenth round, both here and in scipy */
	ck_assert_int_eq(drift_wasserstein(big_s, 3, big_t, 4, &w), 0);
	near(w, 0.69999997814496351, "1e9");
	/* the same times 1e-9 */
	ck_assert_int_eq(drift_wasserstein(tiny_s, 3, tiny_t, 4, &w), 0);
	near(w, 7.0000000000000006e-10, "1e-9");
	ck_assert_int_eq(drift_wasserstein(a, 0, b, 3, &w), MLCTL_EUSAGE);
	ck_assert_int_eq(drift_ks_2samp(a, 3, b, 0, &w, &w), MLCTL_EUSAGE);
}
END_TEST

START_TEST(test_drift_chisquare)
{
	static const double o3[] = { 10, 20, 30 }, e3[] = { 20, 20, 20 };
	static const double o0[] = { 5, 5, 1 }, e0[] = { 5.5, 5.5, 0 };
	double o50[50], e50[50], sum = 0, s, p;

	/* chisquare([10,20,30], [20,20,20]) */
	ck_assert_int_eq(drift_chisquare(o3, e3, 3, &s, &p), 0);
	near(s, 10, "chi3 stat");
	near(p, 0.0067379469990854679, "chi3 p");
	/* o = [(i*7) % 13 + 1 for i in range(50)]; chisquare(o, [sum(o)/50]*50) */
	for (size_t i = 0; i < 50; i++)
		sum += o50[i] = (double)((i * 7) % 13 + 1);
	for (size_t i = 0; i < 50; i++)
		e50[i] = sum / 50.0;
	ck_assert_int_eq(drift_chisquare(o50, e50, 50, &s, &p), 0);
	near(s, 100.47674418604652, "chi50 stat");
	near(p, 2.0756723458472965e-05, "chi50 p");
	/* chisquare([5,5,1], [5.5,5.5,0]) = (inf, 0) */
	ck_assert_int_eq(drift_chisquare(o0, e0, 3, &s, &p), 0);
	ck_assert(isinf(s) && p == 0);
	ck_assert_int_eq(drift_chisquare(o3, e3, 1, &s, &p), MLCTL_EUSAGE);
}
END_TEST

START_TEST(test_drift_z_js_psi)
{
	static const double p3[] = { 10, 40, 50 }, q3[] = { 30, 30, 40 }, one[] = { 1, 0, 0 }, other[] = { 0, 1, 0 };
	static const double r4[] = { 10, 40, 50, 0 }, c4[] = { 30, 30, 30, 10 };
	double z, p;

	/* p1 = 30/100, p2 = 45/120, pooled; z = (p1-p2)/sqrt(P(1-P)(1/n1+1/n2)),
	 * 2 * norm.sf(abs(z)) */
	ck_assert_int_eq(drift_proportion_z(30, 100, 45, 120, &z, &p), 0);
	near(z, -1.1685534824642432, "z");
	near(p, 0.24258357934832098, "z p");
	ck_assert_int_eq(drift_proportion_z(100, 100, 120, 120, &z, &p), 0);
	ck_assert(z == 0 && p == 1);
	/* jensenshannon([10,40,50], [30,30,40], base=2); jensenshannon([1,0,0], [0,1,0], base=2) */
	near(drift_jensenshannon(p3, q3, 3), 0.21663402449519675, "js");
	near(drift_jensenshannon(one, other, 3), 1, "js disjoint");
	near(drift_jensenshannon(p3, p3, 3), 0, "js same");
	/* Evidently's psi: shares, 0 -> 0.0001, sum((c - r) * log(c / r)) */
	near(drift_psi(p3, q3, 3), 0.27080502011022101, "psi");
	near(drift_psi(r4, c4, 4), 1.0407405421023137, "psi with a 0 share");
}
END_TEST

START_TEST(test_drift_names)
{
	drift_test t;

	for (int i = DRIFT_AUTO; i <= DRIFT_PSI; i++) {
		ck_assert(drift_test_parse(drift_test_name((drift_test)i), &t));
		ck_assert_int_eq(t, i);
	}
	ck_assert(!drift_test_parse("kolmogorov", &t));
	ck_assert(drift_test_is_pvalue(DRIFT_KS) && drift_test_is_pvalue(DRIFT_Z) && !drift_test_is_pvalue(DRIFT_PSI));
	ck_assert(drift_default_threshold(DRIFT_CHISQUARE) == 0.05);
	ck_assert(drift_default_threshold(DRIFT_JENSENSHANNON) == 0.1);
	ck_assert(drift_default_threshold(DRIFT_PSI) == 0.2);
}
END_TEST

/* A numeric side with exact distinct values and a sample. */
static drift_side num_side(size_t rows, const double *values, const size_t *counts, size_t nd,
			   const double *sample, size_t ns, double std)
{
	drift_side s = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < nd; i++)
		n += counts[i];
	s.rows = rows;
	s.count = n;
	s.std = std;
	s.sample = sample;
	s.nsample = ns;
	s.distinct_values = values;
	s.distinct_counts = counts;
	s.ndistinct = nd;
	return s;
}

START_TEST(test_drift_rule_numeric)
{
	static const double v5[] = { 1, 2, 3, 4, 5 }, v6[] = { 1, 2, 3, 4, 5, 6 };
	static const size_t c5[] = { 200, 200, 200, 200, 200 }, c6[] = { 100, 100, 100, 100, 100, 100 };
	static const double v3[] = { 1, 2, 3 }, a[] = { 0, 1, 3 }, b[] = { 5, 6, 8 };
	static const size_t rc3[] = { 50, 30, 20 }, cc3[] = { 40, 40, 40 };
	drift_side r, c;
	drift_verdict v;

	/* 5 distinct values together, 1,000 reference rows: chi-square */
	r = num_side(1000, v5, c5, 5, a, 3, 1);
	c = num_side(1000, v5, c5, 5, b, 3, 1);
	ck_assert_int_eq(drift_compare(&v, false, &r, &c, DRIFT_AUTO, NAN), 0);
	ck_assert_int_eq(v.test, DRIFT_CHISQUARE);
	ck_assert_int_eq(v.ndistinct, 5);
	ck_assert(v.statistic == 0 && v.pvalue == 1 && !v.drifted);
	/* 1,001 reference rows: Jensen-Shannon */
	r.rows = 1001;
	ck_assert_int_eq(drift_compare(&v, false, &r, &c, DRIFT_AUTO, NAN), 0);
	ck_assert_int_eq(v.test, DRIFT_JENSENSHANNON);
	ck_assert(v.threshold == 0.1 && v.statistic == 0 && !v.drifted);
	/* 6 distinct values together (the current side has the sixth): KS, then Wasserstein */
	r.rows = 1000;
	c = num_side(600, v6, c6, 6, b, 3, 1);
	ck_assert_int_eq(drift_compare(&v, false, &r, &c, DRIFT_AUTO, NAN), 0);
	ck_assert_int_eq(v.test, DRIFT_KS);
	ck_assert_int_eq(v.ndistinct, 6);
	near(v.statistic, 1, "ks D");
	near(v.pvalue, 0.099999999999999992, "ks p");	/* ks_2samp([0,1,3], [5,6,8]) */
	ck_assert(!v.drifted);
	r.rows = 1001;
	r.std = 2;
	ck_assert_int_eq(drift_compare(&v, false, &r, &c, DRIFT_AUTO, NAN), 0);
	ck_assert_int_eq(v.test, DRIFT_WASSERSTEIN);
	near(v.statistic, 2.5, "wasserstein / std");
	ck_assert(isnan(v.pvalue) && v.drifted);
	/* the std is floored at 0.001 (a constant reference) */
	r.std = 0;
	ck_assert_int_eq(drift_compare(&v, false, &r, &c, DRIFT_AUTO, NAN), 0);
	near(v.statistic, 5000, "wasserstein / 0.001");
	/* a capped list means more values than the cap */
	r = num_side(1000, v3, rc3, 3, a, 3, 1);
	c = num_side(120, v3, cc3, 3, b, 3, 1);
	c.distinct_capped = true;
	ck_assert_int_eq(drift_compare(&v, false, &r, &c, DRIFT_AUTO, NAN), 0);
	ck_assert_int_eq(v.test, DRIFT_KS);
	/* 3 values: chisquare([40,40,40], [50,30,20] * 120/100) */
	c.distinct_capped = false;
	ck_assert_int_eq(drift_compare(&v, false, &r, &c, DRIFT_AUTO, NAN), 0);
	ck_assert_int_eq(v.test, DRIFT_CHISQUARE);
	near(v.statistic, 17.777777777777779, "chisquare over values");
	near(v.pvalue, 0.00013791280933656187, "chisquare p over values");
	ck_assert(v.drifted && isnan(v.psi));
	/* a forced test and threshold */
	ck_assert_int_eq(drift_compare(&v, false, &r, &c, DRIFT_Z, 0.5), 0);
	ck_assert(v.test == DRIFT_Z && v.threshold == 0.5);
}
END_TEST

START_TEST(test_drift_rule_categorical)
{
	static const double r2[] = { 30, 70 }, c2[] = { 45, 75 };
	static const double r3[] = { 10, 40, 50, 0 }, c3[] = { 30, 30, 40, 0 }, n3[] = { 10, 10, 0, 0 }, m3[] = { 5, 5, 5, 0 };
	drift_side r = { .rows = 100, .count = 100, .cat_counts = r2, .ncat = 2 };
	drift_side c = { .rows = 120, .count = 120, .cat_counts = c2, .ncat = 2 };
	drift_verdict v;

	/* 2 categories: the z-test on the first (30 of 100 against 45 of 120) */
	ck_assert_int_eq(drift_compare(&v, true, &r, &c, DRIFT_AUTO, NAN), 0);
	ck_assert_int_eq(v.test, DRIFT_Z);
	near(v.statistic, -1.1685534824642432, "z");
	near(v.pvalue, 0.24258357934832098, "z p");
	ck_assert(!v.drifted && !isnan(v.psi));
	/* 3 categories (a fourth that neither side has is not one): chi-square; over 1,000
	 * rows Jensen-Shannon, jensenshannon([10,40,50], [30,30,40], base=2) */
	r = (drift_side){ .rows = 100, .count = 100, .cat_counts = r3, .ncat = 4 };
	c = (drift_side){ .rows = 100, .count = 100, .cat_counts = c3, .ncat = 4 };
	ck_assert_int_eq(drift_compare(&v, true, &r, &c, DRIFT_AUTO, NAN), 0);
	ck_assert_int_eq(v.test, DRIFT_CHISQUARE);
	ck_assert_int_eq(v.ndistinct, 3);
	near(v.psi, 0.27080502011022101, "psi over categories");
	r.rows = 1001;
	ck_assert_int_eq(drift_compare(&v, true, &r, &c, DRIFT_AUTO, NAN), 0);
	ck_assert_int_eq(v.test, DRIFT_JENSENSHANNON);
	near(v.statistic, 0.21663402449519675, "js");
	ck_assert(v.drifted);
	/* PSI as the verdict test: drift at >= threshold */
	ck_assert_int_eq(drift_compare(&v, true, &r, &c, DRIFT_PSI, NAN), 0);
	ck_assert(v.test == DRIFT_PSI && v.threshold == 0.2 && v.statistic == v.psi && v.drifted);
	/* a category the reference lacks: expected 0, statistic inf, p 0 */
	r = (drift_side){ .rows = 20, .count = 20, .cat_counts = n3, .ncat = 4 };
	c = (drift_side){ .rows = 15, .count = 15, .cat_counts = m3, .ncat = 4 };
	ck_assert_int_eq(drift_compare(&v, true, &r, &c, DRIFT_AUTO, NAN), 0);
	ck_assert_int_eq(v.test, DRIFT_CHISQUARE);
	ck_assert(isinf(v.statistic) && v.pvalue == 0 && v.drifted);
}
END_TEST

START_TEST(test_drift_compare_errors)
{
	static const double v3[] = { 1, 2, 3 };
	static const size_t c3[] = { 5, 5, 5 };
	drift_side r = num_side(15, v3, c3, 3, NULL, 0, 1), c = num_side(15, v3, c3, 3, NULL, 0, 1);
	drift_side empty = { .rows = 10, .missing = 10 };
	drift_verdict v;

	ck_assert_int_eq(drift_compare(&v, false, &r, &empty, DRIFT_AUTO, NAN), MLCTL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "current data has no values"));
	ck_assert_int_eq(drift_compare(&v, false, &empty, &c, DRIFT_AUTO, NAN), MLCTL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "reference has no values"));
	/* KS on an older profile without samples */
	ck_assert_int_eq(drift_compare(&v, false, &r, &c, DRIFT_KS, NAN), MLCTL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "ks needs the values"));
	ck_assert_int_eq(drift_compare(&v, false, &r, &c, DRIFT_PSI, NAN), MLCTL_EUSAGE);
	ck_assert_int_eq(drift_compare(&v, false, &r, &c, DRIFT_CHISQUARE, NAN), 0);
	ck_assert(v.statistic == 0 && v.pvalue == 1);
}
END_TEST

static Suite *drift_suite(void)
{
	Suite *s = suite_create("drift");
	TCase *tc = tcase_create("scipy");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_drift_ks_small);
	tcase_add_test(tc, test_drift_ks_one_value_and_constant);
	tcase_add_test(tc, test_drift_ks_exact_and_asymptotic);
	tcase_add_test(tc, test_drift_wasserstein);
	tcase_add_test(tc, test_drift_chisquare);
	tcase_add_test(tc, test_drift_z_js_psi);
	tcase_add_test(tc, test_drift_names);
	tcase_add_test(tc, test_drift_rule_numeric);
	tcase_add_test(tc, test_drift_rule_categorical);
	tcase_add_test(tc, test_drift_compare_errors);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(drift_suite)
