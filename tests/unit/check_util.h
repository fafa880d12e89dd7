/*
 * check_util.h — shared helpers for the Check unit tests: a fresh temporary directory per
 * test, paths to the example data, and a main() that runs one suite.
 */
#ifndef MLCTL_CHECK_UTIL_H
#define MLCTL_CHECK_UTIL_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh empty directory for one test (created by tmpdir_setup, removed by tmpdir_teardown). */
static char test_tmpdir[256];

static inline void tmpdir_setup(void)
{
	snprintf(test_tmpdir, sizeof(test_tmpdir), "/tmp/mlctl-unit-XXXXXX");
	if (!mkdtemp(test_tmpdir))
		abort();
}

static inline void tmpdir_teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", test_tmpdir);
}

/* Path of a file under test_tmpdir (static buffer, rotating among 4). */
static inline const char *tmp_path(const char *name)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ & 3];

	snprintf(b, 512, "%s/%s", test_tmpdir, name);
	return b;
}

/* Path of an example data file (examples/data/NAME), from the repository root. */
static inline const char *data_path(const char *name)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ & 3];
	const char *root = getenv("MLCTL_SRCDIR");

	snprintf(b, 512, "%s/examples/data/%s", root ? root : ".", name);
	return b;
}

/* Write text to a file under test_tmpdir; returns its path. */
static inline const char *write_tmp(const char *name, const char *text)
{
	const char *p = tmp_path(name);
	FILE *f = fopen(p, "w");

	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	return p;
}

/* Assert that a lib call failed with code want and that the last error's message contains
 * needle (a file name, a line number, a field). */
#define expect_err(got, want, needle)                                                   \
	do {                                                                            \
		int got_ = (got);                                                       \
		const char *msg_ = mlctl_error_last()->message;                         \
		ck_assert_msg(got_ == (want), "returned %d, want %d (message \"%s\")",  \
			      got_, (int)(want), msg_);                                 \
		ck_assert_msg(mlctl_error_last()->code == (want), "last error code %d", \
			      mlctl_error_last()->code);                                \
		ck_assert_msg(strstr(msg_, (needle)) != NULL,                          \
			      "message \"%s\" lacks \"%s\"", msg_, (needle));            \
	} while (0)

/* A seeded generator for test data (splitmix64): the same numbers on every machine. */
static inline uint64_t unit_rand_u64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A uniform double in [-1, 1). */
static inline double unit_rand_sym(uint64_t *state)
{
	return (double)(unit_rand_u64(state) >> 11) * 0x1p-52 - 1.0;
}

#define CHECK_MAIN(suite_fn)                                            \
	int main(void)                                                  \
	{                                                               \
		SRunner *sr = srunner_create(suite_fn());               \
		int failed;                                             \
		srunner_run_all(sr, CK_NORMAL);                         \
		failed = srunner_ntests_failed(sr);                     \
		srunner_free(sr);                                       \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;            \
	}

#endif
