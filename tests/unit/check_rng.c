/*
 * check_rng.c — rng.h / rng.c (floor 1): splitmix64 gives the published sequence, seeds
 * reproduce and differ, rng_below() stays in range without bias (a loose chi-square),
 * shuffles are permutations with uniform positions, rng_class_order() groups and shuffles.
 */
#include <math.h>

#include "check_util.h"
#include "error.h"
#include "rng.h"

/* Chi-square statistic of counts against a uniform expectation. */
static double chi2(const size_t *count, size_t k, size_t total)
{
	double e = (double)total / (double)k, s = 0;
	size_t i;

	for (i = 0; i < k; i++)
		s += ((double)count[i] - e) * ((double)count[i] - e) / e;
	return s;
}

/* Splits saved in the registry must redraw the same on every platform: pin the outputs. */
START_TEST(test_rng_known_sequence)
{
	uint64_t s = 0;

	ck_assert_uint_eq(rng_next(&s), 0xe220a8397b1dcdafull);
	ck_assert_uint_eq(rng_next(&s), 0x6e789e6aa1b965f4ull);
	ck_assert_uint_eq(rng_next(&s), 0x06c45d188009454full);
	ck_assert_uint_eq(s, 3 * 0x9e3779b97f4a7c15ull);
}
END_TEST

START_TEST(test_rng_seeds)
{
	uint64_t a = 42, b = 42, c = 43;
	int i, same = 0, differ = 0;

	for (i = 0; i < 1000; i++) {
		uint64_t x = rng_next(&a), y = rng_next(&b), z = rng_next(&c);

		differ += x != y;
		same += x == z;
	}
	ck_assert_int_eq(differ, 0);
	ck_assert_int_eq(same, 0);
}
END_TEST

START_TEST(test_rng_below_uniform)
{
	static const size_t ns[] = { 2, 3, 7, 10, 64, 1000 };
	size_t count[1000], i, j, draws, out = 0;
	uint64_t s = 12345;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		size_t n = ns[i];
		double x, bound;

		draws = n * 200;
		memset(count, 0, sizeof(count));
		for (j = 0; j < draws; j++) {
			size_t r = rng_below(&s, n);

			if (r >= n)
				out++;
			else
				count[r]++;
		}
		ck_assert_uint_eq(out, 0);
		/* Mean n-1, sd sqrt(2(n-1)): ten standard deviations above is a loose bound that
		 * a biased or stuck generator still exceeds by far. */
		x = chi2(count, n, draws);
		bound = (double)(n - 1) + 10 * sqrt(2.0 * (double)(n - 1));
		ck_assert_msg(x < bound, "n %zu: chi-square %g over %g", n, x, bound);
	}
	ck_assert_uint_eq(rng_below(&s, 0), 0);
	ck_assert_uint_eq(rng_below(&s, 1), 0);
	/* Just above 2^63: half of all outputs are rejected; the results stay in range and
	 * fall on both halves. */
	{
		size_t n = ((size_t)1 << 63) + 1, hi = 0;

		for (j = 0; j < 1000; j++) {
			size_t r = rng_below(&s, n);

			out += r >= n;
			hi += r >= n / 2;
		}
		ck_assert_uint_eq(out, 0);
		ck_assert(hi > 400 && hi < 600);
	}
}
END_TEST

START_TEST(test_rng_shuffle)
{
	size_t v[5], pos[5] = { 0 }, seen[5], i, t, rounds = 20000, bad = 0;
	uint64_t s = 5;
	double x;

	for (t = 0; t < rounds; t++) {
		for (i = 0; i < 5; i++)
			v[i] = i;
		rng_shuffle(&s, v, 5);
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < 5; i++) {
			if (v[i] >= 5 || seen[v[i]]++) {
				bad++;
				break;
			}
			if (v[i] == 0)
				pos[i]++;
		}
	}
	ck_assert_uint_eq(bad, 0);	/* every shuffle a permutation */
	x = chi2(pos, 5, rounds);
	ck_assert_msg(x < 4 + 10 * sqrt(8.0), "element 0's position: chi-square %g", x);
	/* n 0 and 1 are no-ops and draw nothing. */
	{
		uint64_t before = s;

		v[0] = 9;
		rng_shuffle(&s, v, 1);
		rng_shuffle(&s, NULL, 0);
		ck_assert_uint_eq(v[0], 9);
		ck_assert_uint_eq(s, before);
	}
}
END_TEST

START_TEST(test_rng_class_order)
{
	static const double y[] = { 2, 1, 2, 3, 1, 1, 2, 3, 1, 2, 1, 2 };
	size_t n = sizeof(y) / sizeof(y[0]), a[12], b[12], c[12], i, seen[12];
	uint64_t s1 = 7, s2 = 7, s3 = 8;
	int differ = 0;

	ck_assert_int_eq(rng_class_order(a, y, n, 1, &s1), 0);
	ck_assert_int_eq(rng_class_order(b, y, n, 1, &s2), 0);
	ck_assert(memcmp(a, b, sizeof(a)) == 0);
	ck_assert_uint_eq(s1, s2);
	/* Classes in ascending label order: five 1s, five 2s, two 3s; a permutation. */
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++) {
		double want = i < 5 ? 1 : i < 10 ? 2 : 3;

		ck_assert_uint_lt(a[i], n);
		ck_assert_uint_eq(seen[a[i]]++, 0);
		ck_assert_msg(y[a[i]] == want, "position %zu: row %zu label %g", i, a[i], y[a[i]]);
	}
	/* Another seed shuffles within the classes differently, but keeps the grouping. */
	for (i = 0; i < 20 && !differ; i++) {
		ck_assert_int_eq(rng_class_order(c, y, n, 1, &s3), 0);
		differ = memcmp(a, c, sizeof(a)) != 0;
	}
	ck_assert(differ);
	for (i = 0; i < n; i++)
		ck_assert(y[c[i]] == y[a[i]]);
	/* Without stratification: a permutation of every row. */
	ck_assert_int_eq(rng_class_order(c, y, n, 0, &s3), 0);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(seen[c[i]]++, 0);
	ck_assert_int_eq(rng_class_order(c, y, 0, 1, &s3), 0);
	ck_assert_int_eq(rng_class_order(c, y, 0, 0, &s3), 0);
}
END_TEST

static Suite *rng_suite(void)
{
	Suite *s = suite_create("rng");
	TCase *tc = tcase_create("rng");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rng_known_sequence);
	tcase_add_test(tc, test_rng_seeds);
	tcase_add_test(tc, test_rng_below_uniform);
	tcase_add_test(tc, test_rng_shuffle);
	tcase_add_test(tc, test_rng_class_order);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(rng_suite)
