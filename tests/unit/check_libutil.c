/*
 * check_libutil.c — util.c (floor 1): string buffers past their first allocation,
 * asprintf, overflow-checked allocation, doubles that round-trip through text at every
 * magnitude, whole-string number parsing with garbage and overflow, time formatting.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>

#include "check_util.h"
#include "error.h"
#include "util.h"

START_TEST(test_util_strbuf_growth)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	size_t i, total = 0, len = 0;
	char piece[300];
	char *s;

	/* Pieces of every size from 0 to 299 bytes, past any first capacity. */
	for (i = 0; i < 300; i++) {
		memset(piece, 'a' + (int)(i % 26), i);
		ck_assert_int_eq(strbuf_add(&sb, piece, i), 0);
		total += i;
		ck_assert_uint_eq(sb.len, total);
		ck_assert_uint_gt(sb.cap, sb.len);
		ck_assert_int_eq(sb.buf[sb.len], '\0');
	}
	for (i = 0, total = 0; i < 300; total += i, i++)
		if (i && (sb.buf[total] != 'a' + (int)(i % 26) || sb.buf[total + i - 1] != 'a' + (int)(i % 26)))
			ck_abort_msg("piece %zu damaged", i);
	ck_assert_int_eq(strbuf_puts(&sb, "end"), 0);
	ck_assert_int_eq(strbuf_printf(&sb, "%s-%d-%0*d", "x", 42, 500, 7), 0);
	ck_assert_uint_eq(sb.len, total + 3 + 2 + 3 + 500);
	ck_assert_str_eq(sb.buf + sb.len - 4, "0007");
	s = strbuf_detach(&sb, &len);
	ck_assert_uint_eq(len, total + 508);
	ck_assert_ptr_null(sb.buf);
	ck_assert_uint_eq(sb.len, 0);
	ck_assert_uint_eq(strlen(s), len);
	free(s);

	strbuf_release(&sb);
	strbuf_release(&sb); /* twice is harmless */
}
END_TEST

/* A buffer never written still detaches as a string: "" (the heap under it is left
 * non-zero first, so that a missing NUL shows). */
START_TEST(test_util_strbuf_detach_empty)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	char *junk = malloc(64), *s;
	size_t len = 99;

	ck_assert_ptr_nonnull(junk);
	memset(junk, 'x', 64);
	free(junk);
	s = strbuf_detach(&sb, &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(s, "");
	free(s);
	/* Grown but not written: the same. */
	ck_assert_int_eq(strbuf_grow(&sb, 100), 0);
	s = strbuf_detach(&sb, &len);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_util_strbuf_overflow)
{
	strbuf sb = MLCTL_STRBUF_INIT;

	ck_assert_int_eq(strbuf_puts(&sb, "keep"), 0);
	mlctl_error_clear();
	expect_err(strbuf_grow(&sb, SIZE_MAX), MLCTL_ENOMEM, "out of memory");
	expect_err(strbuf_grow(&sb, SIZE_MAX - 4), MLCTL_ENOMEM, "out of memory");
	ck_assert_str_eq(sb.buf, "keep");
	ck_assert_uint_eq(sb.len, 4);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_util_asprintf)
{
	char *s = mlctl_asprintf("%s=%d", "k", -3), *big;
	char *d;

	ck_assert_str_eq(s, "k=-3");
	free(s);
	s = mlctl_asprintf("%s", "");
	ck_assert_str_eq(s, "");
	free(s);
	big = mlctl_asprintf("%10000d|", 1);
	ck_assert_uint_eq(strlen(big), 10001);
	ck_assert_str_eq(big + 9998, " 1|");
	free(big);
	d = mlctl_strdup(NULL);
	ck_assert_str_eq(d, "");
	free(d);
	d = mlctl_strdup("copy");
	ck_assert_str_eq(d, "copy");
	free(d);
}
END_TEST

START_TEST(test_util_alloc_overflow)
{
	void *p;

	mlctl_error_clear();
	ck_assert_ptr_null(mlctl_calloc(SIZE_MAX / 2, 4));
	ck_assert_int_eq(mlctl_error_last()->code, MLCTL_ENOMEM);
	p = mlctl_calloc(0, 8);		/* a zero-size request is a valid pointer */
	ck_assert_ptr_nonnull(p);
	p = mlctl_reallocarray(p, 16, sizeof(double));
	ck_assert_ptr_nonnull(p);
	((double *)p)[15] = 1;
	mlctl_error_clear();
	ck_assert_ptr_null(mlctl_reallocarray(p, SIZE_MAX / 4, 8));
	ck_assert_int_eq(mlctl_error_last()->code, MLCTL_ENOMEM);
	ck_assert(((double *)p)[15] == 1); /* untouched on failure */
	free(p);
}
END_TEST

/* fmt then parse gives the same bits (the sign of zero included). Asserts only on failure:
 * Check's assertions are slow in a loop of thousands. */
static void roundtrip(double v)
{
	char buf[32];
	double back = 1234.5;
	const char *s = mlctl_fmt_double(buf, v);
	bool ok = s == buf && strlen(buf) < 32 && mlctl_parse_double(buf, &back) &&
		  (isnan(v) ? isnan(back) : memcmp(&v, &back, sizeof(v)) == 0);

	if (!ok)
		ck_abort_msg("%.17g -> \"%s\" -> %.17g", v, buf, back);
}

START_TEST(test_util_fmt_double_roundtrip)
{
	static const double fixed[] = {
		0.0, 1.0, -1.0, 0.1, 1.0 / 3.0, 1e9 + 0.5, 1e9 + 1.0 / 3.0, -1e9 - 0.25, 1e-9,
		-1e-9, 123456789.123456789, 1e21, 1e22, 1e-300, 1e300, DBL_MAX, -DBL_MAX, DBL_MIN,
		DBL_EPSILON, 1 + DBL_EPSILON, 4.9406564584124654e-324 /* smallest denormal */,
		2.2250738585072009e-308 /* largest denormal */, 9007199254740993.0, 0.30000000000000004,
	};
	uint64_t state = 7;
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		roundtrip(fixed[i]);
		roundtrip(-fixed[i]);
	}
	/* 20000 random bit patterns: every exponent, denormals and NaNs among them. */
	for (i = 0; i < 20000; i++) {
		uint64_t bits = unit_rand_u64(&state);
		double v;

		memcpy(&v, &bits, sizeof(v));
		roundtrip(v);
	}
	ck_assert_str_eq(mlctl_fmt_double(buf, -0.0), "-0");
	ck_assert_str_eq(mlctl_fmt_double(buf, 0.1), "0.1");
	ck_assert_str_eq(mlctl_fmt_double(buf, 1e9 + 0.5), "1000000000.5");
	ck_assert_str_eq(mlctl_fmt_double(buf, 1e-9), "1e-09");
	ck_assert_str_eq(mlctl_fmt_double(buf, 0.30000000000000004), "0.30000000000000004");
	ck_assert_str_eq(mlctl_fmt_double(buf, NAN), "nan");
	ck_assert_str_eq(mlctl_fmt_double(buf, INFINITY), "inf");
	ck_assert_str_eq(mlctl_fmt_double(buf, -INFINITY), "-inf");
}
END_TEST

START_TEST(test_util_parse_double)
{
	static const char *const bad[] = {
		"", "abc", "1.5x", "1.5 ", "1,5", "--1", "1e", "1e999", "-1e999", "0x", ".",
		"1.0.0", "\n",
	};
	double v = 42;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!mlctl_parse_double(bad[i], &v), "\"%s\" accepted", bad[i]);
		ck_assert(v == 42); /* untouched */
	}
	ck_assert(!mlctl_parse_double(NULL, &v));
	ck_assert(mlctl_parse_double("1e-400", &v) && v == 0); /* underflow to zero is a number */
	ck_assert(mlctl_parse_double("-2.5e3", &v) && v == -2500);
	ck_assert(mlctl_parse_double("1.7976931348623157e308", &v) && v == DBL_MAX);
	ck_assert(mlctl_parse_double("4.9406564584124654e-324", &v) && v > 0 && v < DBL_MIN);
	ck_assert(mlctl_parse_double("inf", &v) && isinf(v) && v > 0);
	ck_assert(mlctl_parse_double("nan", &v) && isnan(v));
}
END_TEST

/*
 * Plain decimals, the fast path's domain and its edges: 1 to 22 digits (past 2^53 and past
 * 19 digits), leading zeros, a point anywhere, exponents to +-30: the bits strtod gives.
 */
START_TEST(test_util_parse_double_decimals_as_strtod)
{
	uint64_t state = 11;
	size_t i;

	for (i = 0; i < 200000; i++) {
		char buf[64];
		size_t n = 0, nd = 1 + unit_rand_u64(&state) % 22, point = unit_rand_u64(&state) % (nd + 2), k;
		uint64_t r = unit_rand_u64(&state);
		double want, got = 0;

		if (r & 1)
			buf[n++] = '-';
		for (k = 0; k < nd; k++) {
			if (k == point)
				buf[n++] = '.';
			/* a few leading zeros, and runs of 9s (carries near 2^53) */
			buf[n++] = (char)('0' + ((r >> 8 & 3) == 0 && k < 3 ? 0 : (r >> 10 & 3) == 0 ? 9 :
						 unit_rand_u64(&state) % 10));
		}
		if ((r >> 4 & 3) == 0)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "e%d", (int)(unit_rand_u64(&state) % 61) - 30);
		buf[n] = '\0';
		want = strtod(buf, NULL);
		if (!mlctl_parse_double(buf, &got) || memcmp(&want, &got, sizeof(got)))
			ck_abort_msg("\"%s\": %.17g, strtod %.17g", buf, got, want);
	}
}
END_TEST

/* The fast path of decimal parsing gives strtod's double to the bit: plain decimals of every
 * length (past 15 digits and 22 powers of ten, where strtod takes over), signs, exponents,
 * leading zeros and the values a CSV holds. */
START_TEST(test_util_parse_double_fast_path)
{
	static const char *const fixed[] = {
		"0", "-0", "+0", "0.0", "-0.0", "00012.5000", "1.", ".5", "-.5", "5e0", "5E+2", "5e-2",
		"123456789012345", "1234567890123456", "12345678901234567890", "0.1", "0.2", "0.3",
		"9007199254740993", "1e22", "1e23", "1e-22", "1e-23", "4.35", "123.456e-5",
		"0.000000000000000000001", "0.0000000000000000000000001", "999999999999999e22",
		"2.2250738585072014e-308", "178.1", "-12.75", "1e+", "1e-", "+", "-", "e5", ".e1",
	};
	uint64_t st = 12;
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		char *end;
		double a = strtod(fixed[i], &end), b = -1;
		bool want = end != fixed[i] && !*end;

		ck_assert_msg(mlctl_parse_double(fixed[i], &b) == want, "\"%s\"", fixed[i]);
		if (want)
			ck_assert_msg(memcmp(&a, &b, sizeof(a)) == 0, "\"%s\": %.17g, strtod %.17g", fixed[i], b, a);
	}
	for (i = 0; i < 200000; i++) {
		char buf[64];
		uint64_t r = st += 0x9e3779b97f4a7c15ull, z = r;
		int ndig, nfrac, k, at = 0;
		double a, b = -1;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		ndig = 1 + (int)(z % 19);
		nfrac = (int)((z >> 8) % (unsigned)(ndig + 1));
		if ((z >> 16) & 1)
			buf[at++] = '-';
		for (k = 0; k < ndig; k++) {
			if (k == ndig - nfrac)
				buf[at++] = '.';
			buf[at++] = (char)('0' + (int)((z >> (20 + 2 * (k % 20))) % 10 + (uint64_t)k * 7) % 10);
		}
		if ((z >> 60) == 3)
			at += snprintf(buf + at, sizeof(buf) - (size_t)at, "e%d", (int)((z >> 40) % 61) - 30);
		buf[at] = '\0';
		a = strtod(buf, NULL);
		ck_assert_msg(mlctl_parse_double(buf, &b), "\"%s\"", buf);
		ck_assert_msg(memcmp(&a, &b, sizeof(a)) == 0, "\"%s\": %.17g, strtod %.17g", buf, b, a);
	}
}
END_TEST

START_TEST(test_util_parse_int64)
{
	static const char *const bad[] = {
		"", "x", "12x", "1.0", "1e3", "0x10", "9223372036854775808", "-9223372036854775809",
		"99999999999999999999999", "5 ", "--5",
	};
	int64_t v = 42;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!mlctl_parse_int64(bad[i], INT64_MIN, INT64_MAX, &v), "\"%s\" accepted", bad[i]);
		ck_assert(v == 42);
	}
	ck_assert(!mlctl_parse_int64(NULL, 0, 1, &v));
	ck_assert(mlctl_parse_int64("9223372036854775807", INT64_MIN, INT64_MAX, &v) && v == INT64_MAX);
	ck_assert(mlctl_parse_int64("-9223372036854775808", INT64_MIN, INT64_MAX, &v) && v == INT64_MIN);
	ck_assert(mlctl_parse_int64("007", 0, 10, &v) && v == 7);
	ck_assert(mlctl_parse_int64("+3", 0, 10, &v) && v == 3);
	/* The range is inclusive at both ends and enforced. */
	ck_assert(mlctl_parse_int64("10", 0, 10, &v) && v == 10);
	ck_assert(mlctl_parse_int64("0", 0, 10, &v) && v == 0);
	ck_assert(!mlctl_parse_int64("11", 0, 10, &v));
	ck_assert(!mlctl_parse_int64("-1", 0, 10, &v));
}
END_TEST

START_TEST(test_util_compare)
{
	double d[] = { 3, -1, 2.5, -0.5, 1e9, -1e-9 };
	size_t z[] = { 9, 0, SIZE_MAX, 3 };
	size_t i;

	qsort(d, 6, sizeof(d[0]), mlctl_cmp_double);
	for (i = 1; i < 6; i++)
		ck_assert(d[i - 1] <= d[i]);
	qsort(z, 4, sizeof(z[0]), mlctl_cmp_size);
	ck_assert(z[0] == 0 && z[1] == 3 && z[2] == 9 && z[3] == SIZE_MAX);
	/* Large size_t values compare by sign of the difference, not by truncation. */
	ck_assert_int_lt(mlctl_cmp_size(&z[0], &z[3]), 0);
	ck_assert_int_gt(mlctl_cmp_size(&z[3], &z[0]), 0);
}
END_TEST

START_TEST(test_util_time)
{
	char buf[32];
	int64_t now = mlctl_now_ms();
	double t0 = mlctl_monotonic(), t1;

	ck_assert_str_eq(mlctl_fmt_time(buf, 0), "1970-01-01T00:00:00.000Z");
	ck_assert_str_eq(mlctl_fmt_time(buf, 1795143112123), "2026-11-20T02:51:52.123Z");
	ck_assert_str_eq(mlctl_fmt_time(buf, 951782400999), "2000-02-29T00:00:00.999Z");
	ck_assert(now > 1700000000000);		/* after 2023 */
	t1 = mlctl_monotonic();
	ck_assert(t1 >= t0);
	ck_assert(mlctl_username()[0] != '\0');
	ck_assert(mlctl_hostname()[0] != '\0');
	ck_assert_ptr_eq(mlctl_hostname(), mlctl_hostname()); /* cached */
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_util_strbuf_growth);
	tcase_add_test(tc, test_util_strbuf_detach_empty);
	tcase_add_test(tc, test_util_strbuf_overflow);
	tcase_add_test(tc, test_util_asprintf);
	tcase_add_test(tc, test_util_alloc_overflow);
	tcase_add_test(tc, test_util_fmt_double_roundtrip);
	tcase_add_test(tc, test_util_parse_double);
	tcase_add_test(tc, test_util_parse_double_decimals_as_strtod);
	tcase_add_test(tc, test_util_parse_double_fast_path);
	tcase_add_test(tc, test_util_parse_int64);
	tcase_add_test(tc, test_util_compare);
	tcase_add_test(tc, test_util_time);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(util_suite)
