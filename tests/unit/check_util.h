/*
 * check_util.h — shared helpers for the Check unit tests: a fresh temporary directory per
 * test, paths to the example data, and a main() that runs one suite.
 */
#ifndef MLCTL_CHECK_UTIL_H
#define MLCTL_CHECK_UTIL_H

#include <check.h>
#include <dirent.h>
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

/* Path of a file under test_tmpdir, as tmp_path() but from 32 rotating buffers, so that a
 * test can hold many paths at once: each stays valid for the next 31 calls. */
static inline const char *tmp_file(const char *name)
{
	static char bufs[32][512];
	static unsigned i;
	char *b = bufs[i++ & 31];

	snprintf(b, 512, "%s/%s", test_tmpdir, name);
	return b;
}

/* The first nlines lines of a file (the header counts as one) copied to NAME under
 * test_tmpdir; returns its path. Keeps a test on real data small and fast. */
static inline const char *write_head(const char *name, const char *src, size_t nlines)
{
	const char *p = tmp_file(name);
	FILE *in = fopen(src, "r"), *out = fopen(p, "w");
	int c;

	if (!in || !out)
		abort();
	while (nlines && (c = getc(in)) != EOF) {
		putc(c, out);
		if (c == '\n')
			nlines--;
	}
	fclose(in);
	if (fclose(out) != 0)
		abort();
	return p;
}

/* A whole file in a fresh NUL-terminated buffer (*len without the NUL), or NULL. */
static inline char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (len)
		*len = 0;
	if (!f)
		return NULL;
	do {
		if (cap - n < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb)
				abort();
			buf = nb;
			cap += 65536;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* True when two files exist and hold the same bytes. */
static inline int same_bytes(const char *a, const char *b)
{
	size_t la = 0, lb = 0;
	char *x = read_all(a, &la), *y = read_all(b, &lb);
	int same = x && y && la == lb && memcmp(x, y, la) == 0;

	free(x);
	free(y);
	return same;
}

/* The names in a directory but . and .., sorted and joined by spaces into a fresh string,
 * so that an assertion shows what is there ("" when empty, NULL when unreadable). */
static inline char *dir_list(const char *dir)
{
	struct dirent **names;
	size_t len = 1, at = 0;
	char *s;
	int i, n = scandir(dir, &names, NULL, alphasort);

	if (n < 0)
		return NULL;
	for (i = 0; i < n; i++)
		len += strlen(names[i]->d_name) + 1;
	if (!(s = calloc(1, len)))
		abort();
	for (i = 0; i < n; i++) {
		const char *d = names[i]->d_name;
		size_t dl = strlen(d);

		if (strcmp(d, ".") != 0 && strcmp(d, "..") != 0) {
			if (at)
				s[at++] = ' ';
			memcpy(s + at, d, dl + 1);
			at += dl;
		}
		free(names[i]);
	}
	free(names);
	return s;
}

/* Lines in a file (0 when it cannot be read). */
static inline size_t count_lines(const char *path)
{
	size_t n = 0, len, i;
	char *t = read_all(path, &len);

	for (i = 0; t && i < len; i++)
		n += t[i] == '\n';
	free(t);
	return n;
}

/*
 * With mlctl.h included first: a fresh registry in test_tmpdir/.mlctl for one test. Call
 * from a fixture after tmpdir_setup(); *out is freed with mlctl_registry_free().
 */
#ifdef MLCTL_H
static inline void test_registry_open(mlctl_registry **out, const char *name)
{
	const char *dir = tmp_file(name ? name : ".mlctl");

	if (mlctl_registry_init(dir) != 0 || mlctl_registry_open(out, dir) != 0) {
		fprintf(stderr, "cannot make a registry in %s: %s\n", dir, mlctl_error_last()->message);
		abort();
	}
}

/* The last error's message (borrowed), for assertions. */
static inline const char *last_message(void)
{
	return mlctl_error_last()->message;
}

/* Train the next version of name on data (label column) into reg, with the n libsvm
 * parameters svm, one thread and seed 1, so that no fixture depends on a default or on the
 * machine; a failure ends the test run with the error (for fixtures). */
static inline void test_train(mlctl_registry *reg, const char *name, const char *data, const char *label,
			      const mlctl_kv *svm, size_t n)
{
	mlctl_train_options o = MLCTL_TRAIN_OPTIONS_INIT;
	mlctl_train_result *r = NULL;

	o.data = data;
	o.name = name;
	o.label = label;
	o.svm = svm;
	o.n_svm = n;
	o.threads = 1;
	o.seed = 1;
	if (mlctl_train(&r, reg, &o) != 0) {
		fprintf(stderr, "cannot train %s on %s: %s\n", name, data, last_message());
		abort();
	}
	mlctl_train_result_free(r);
}
#endif

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
