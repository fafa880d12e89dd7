/*
 * check_blas.c — blas.c (floor 1): blas_dgemm() against a naive triple loop for odd sizes
 * (1x1, 7x3, 65x33 and others), both layouts of B, leading dimensions wider than the
 * matrices, alpha and beta, at magnitudes 1e-9, 1 and 1e9 — through OpenBLAS, and through
 * the plain fallback loop in a child process where every dlopen() fails.
 *
 * Tolerance: |C - naive| <= 1e-12 * (|beta C0| + |alpha| sum |a b|) per element; a
 * reordered or fused sum of k <= 129 terms is off by at most about k * 2^-53 of that.
 *
 * The fallback: this file defines dlopen(), which the library's call binds to (a symbol
 * of the executable comes first); it forwards to the real one unless the environment says
 * CHECK_BLAS_NO_DLOPEN, as it does for the child that main() runs again for that test.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <sys/wait.h>

#include "check_util.h"
#include "blas.h"

void *dlopen(const char *file, int mode)
{
	static void *(*real)(const char *, int);

	if (getenv("CHECK_BLAS_NO_DLOPEN"))
		return NULL;
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "dlopen");
	return real ? real(file, mode) : NULL;
}

/* This program, to run again as the fallback child (argv[0]: under valgrind
 * /proc/self/exe is valgrind's own tool). */
static const char *self_path = "/proc/self/exe";

/* One product: fill, run, compare. Returns the number of elements out of tolerance. */
static size_t one_case(bool trans_b, int m, int n, int k, double alpha, double beta, double mag, uint64_t seed)
{
	int lda = k + 3, ldb = (trans_b ? k : n) + 1, ldc = n + 2, i, j, p;
	size_t bad = 0;
	uint64_t st = seed;
	double *a = malloc(sizeof(double) * (size_t)(m * lda));
	double *b = malloc(sizeof(double) * (size_t)((trans_b ? n : k) * ldb));
	double *c = malloc(sizeof(double) * (size_t)(m * ldc)), *c0 = malloc(sizeof(double) * (size_t)(m * ldc));

	for (i = 0; i < m * lda; i++)
		a[i] = mag * unit_rand_sym(&st);
	for (i = 0; i < (trans_b ? n : k) * ldb; i++)
		b[i] = mag * unit_rand_sym(&st);
	for (i = 0; i < m * ldc; i++)
		c[i] = c0[i] = beta == 0 ? NAN : mag * unit_rand_sym(&st); /* beta 0: C is not read */
	blas_dgemm(trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
	for (i = 0; i < m; i++) {
		for (j = 0; j < n; j++) {
			double s = 0, scale = 0, want, got = c[i * ldc + j];

			for (p = 0; p < k; p++) {
				double bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];

				s += a[i * lda + p] * bv;
				scale += fabs(a[i * lda + p] * bv);
			}
			want = alpha * s + (beta == 0 ? 0 : beta * c0[i * ldc + j]);
			scale = fabs(alpha) * scale + (beta == 0 ? 0 : fabs(beta * c0[i * ldc + j]));
			if (!(fabs(got - want) <= 1e-12 * scale) && !(got == want)) {
				if (!bad)
					fprintf(stderr, "dgemm %s %dx%dx%d alpha %g beta %g mag %g: C[%d][%d] = %.17g, "
						"naive %.17g\n", trans_b ? "A B^T" : "A B", m, n, k, alpha, beta, mag, i, j,
						got, want);
				bad++;
			}
		}
		for (j = n; j < ldc; j++)	/* the columns past n are not written */
			if (memcmp(&c[i * ldc + j], &c0[i * ldc + j], sizeof(double)) != 0)
				bad++;
	}
	free(a);
	free(b);
	free(c);
	free(c0);
	return bad;
}

/* Every size, layout, scaling and magnitude. Returns the number of bad elements. */
static size_t all_cases(void)
{
	static const int sizes[][3] = {
		{ 1, 1, 1 }, { 7, 3, 5 }, { 3, 7, 1 }, { 65, 33, 17 }, { 33, 65, 129 }, { 1, 64, 9 }, { 64, 1, 2 },
	};
	static const double ab[][2] = { { 1, 0 }, { -0.5, 2 }, { 3, 1 } };
	static const double mags[] = { 1e-9, 1, 1e9 };
	size_t s, t, g, bad = 0;
	int trans;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (trans = 0; trans <= 1; trans++)
			for (t = 0; t < sizeof(ab) / sizeof(ab[0]); t++)
				for (g = 0; g < sizeof(mags) / sizeof(mags[0]); g++)
					bad += one_case(trans, sizes[s][0], sizes[s][1], sizes[s][2], ab[t][0], ab[t][1],
							mags[g], s * 100 + t * 10 + g);
	return bad;
}

START_TEST(test_blas_dgemm_openblas)
{
	blas_init();
	blas_init();	/* once is enough; twice is harmless */
	ck_assert_msg(blas_is_openblas(), "no BLAS library loadable here (libopenblas-dev is a dependency)");
	ck_assert_uint_eq(all_cases(), 0);
}
END_TEST

/* The same cases in a child where no BLAS library can be loaded: the plain loop. */
START_TEST(test_blas_dgemm_fallback)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setenv("CHECK_BLAS_NO_DLOPEN", "1", 1);
		execl(self_path, self_path, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fallback child: status %d", status);
}
END_TEST

static Suite *blas_suite(void)
{
	Suite *s = suite_create("blas");
	TCase *tc = tcase_create("blas");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_blas_dgemm_openblas);
	tcase_add_test(tc, test_blas_dgemm_fallback);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (argc > 0 && argv[0] && strchr(argv[0], '/'))
		self_path = argv[0];
	/* The child of test_blas_dgemm_fallback: 0 when the plain loop passes every case. */
	if (getenv("CHECK_BLAS_NO_DLOPEN")) {
		if (blas_is_openblas()) {
			fprintf(stderr, "fallback child: a BLAS library was loaded after all\n");
			return 2;
		}
		return all_cases() == 0 ? 0 : 1;
	}
	sr = srunner_create(blas_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
