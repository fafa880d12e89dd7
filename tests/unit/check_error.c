/*
 * check_error.c — error.c (floor 1): the last error is per thread, prefixes keep the code,
 * messages longer than the record are cut safely, every code has a name and one exit
 * status, errno maps onto codes.
 */
#include <errno.h>
#include <pthread.h>

#include "check_util.h"
#include "error.h"

START_TEST(test_error_set_clear)
{
	mlctl_error_clear();
	ck_assert_int_eq(mlctl_error_last()->code, 0);
	ck_assert_str_eq(mlctl_error_last()->message, "");
	ck_assert_int_eq(mlctl_error_set(MLCTL_EDATA, "%s:%d: bad %s", "f.csv", 7, "field"), MLCTL_EDATA);
	ck_assert_int_eq(mlctl_error_last()->code, MLCTL_EDATA);
	ck_assert_str_eq(mlctl_error_last()->message, "f.csv:7: bad field");
	ck_assert_ptr_eq(mlctl_error_last(), mlctl_error_last());
	ck_assert_int_eq(mlctl_error_oom(), MLCTL_ENOMEM);
	ck_assert_str_eq(mlctl_error_last()->message, "out of memory");
	mlctl_error_clear();
	ck_assert_int_eq(mlctl_error_last()->code, 0);
	ck_assert_str_eq(mlctl_error_last()->message, "");
}
END_TEST

START_TEST(test_error_prefix)
{
	mlctl_error_set(MLCTL_ENOTFOUND, "no such run");
	ck_assert_int_eq(mlctl_error_prefix("registry %s", "/r"), MLCTL_ENOTFOUND);
	ck_assert_int_eq(mlctl_error_prefix("validate"), MLCTL_ENOTFOUND);
	ck_assert_str_eq(mlctl_error_last()->message, "validate: registry /r: no such run");
	ck_assert_int_eq(mlctl_error_last()->code, MLCTL_ENOTFOUND);
}
END_TEST

/* A message longer than the record is cut, NUL-terminated, never overrun; prefixing a
 * full record keeps it full and terminated. */
START_TEST(test_error_long_message)
{
	size_t cap = sizeof(mlctl_error_last()->message), i;
	char *big = malloc(5000);

	memset(big, 'm', 4999);
	big[4999] = '\0';
	mlctl_error_set(MLCTL_EIO, "%s", big);
	ck_assert_uint_eq(strlen(mlctl_error_last()->message), cap - 1);
	mlctl_error_prefix("%s", big);	/* a prefix longer than the record too */
	ck_assert_uint_eq(strlen(mlctl_error_last()->message), cap - 1);
	ck_assert_int_eq(mlctl_error_last()->code, MLCTL_EIO);
	for (i = 0; i < cap - 1; i++)
		ck_assert(mlctl_error_last()->message[i] == 'm' || mlctl_error_last()->message[i] == ':' ||
			  mlctl_error_last()->message[i] == ' ');
	errno = EACCES;
	mlctl_error_errno(MLCTL_EIO, "%s", big);
	ck_assert_uint_lt(strlen(mlctl_error_last()->message), cap);
	free(big);
}
END_TEST

START_TEST(test_error_errno)
{
	errno = ENOENT;
	expect_err(mlctl_error_errno(MLCTL_EIO, "cannot open %s", "a.csv"), MLCTL_ENOTFOUND, "cannot open a.csv: ");
	ck_assert(strstr(mlctl_error_last()->message, strerror(ENOENT)) != NULL);
	errno = ENOTDIR;
	ck_assert_int_eq(mlctl_error_errno(MLCTL_EIO, "x"), MLCTL_ENOTFOUND);
	errno = ENOMEM;
	ck_assert_int_eq(mlctl_error_errno(MLCTL_EIO, "x"), MLCTL_ENOMEM);
	errno = EACCES;
	expect_err(mlctl_error_errno(MLCTL_ECREATE, "cannot create %s", "out"), MLCTL_ECREATE, strerror(EACCES));
	errno = ENOSPC;
	ck_assert_int_eq(mlctl_error_errno(MLCTL_EIO, "x"), MLCTL_EIO);
}
END_TEST

/* Every code: a distinct name and the exit status DESIGN.md and mlctl(1) document. */
START_TEST(test_error_codes)
{
	static const struct { int code; int status; const char *name; } t[] = {
		{ MLCTL_OK, 0, "success" },
		{ MLCTL_ERROR, 70, "internal error" },
		{ MLCTL_ENOMEM, 70, "out of memory" },
		{ MLCTL_EUSAGE, 64, "invalid usage" },
		{ MLCTL_EDATA, 65, "bad input data" },
		{ MLCTL_ENOTFOUND, 66, "not found" },
		{ MLCTL_EIO, 74, "input/output error" },
		{ MLCTL_ECREATE, 73, "cannot create output" },
		{ MLCTL_ELOCKED, 75, "locked by another process" },
		{ MLCTL_ECONFIG, 78, "bad configuration" },
		{ MLCTL_EVERDICT, 1, "check failed" },
		{ MLCTL_EUNAVAIL, 69, "service unavailable" },
		{ MLCTL_ECORRUPT, 74, "registry or store damaged" },
		{ MLCTL_EAMBIGUOUS, 64, "ambiguous reference" },
		{ MLCTL_EEXISTS, 73, "already exists" },
		{ MLCTL_ENOREGISTRY, 66, "no registry" },
	};
	size_t n = sizeof(t) / sizeof(t[0]), i, j;

	/* The table covers every code from 0 down to the last one, none skipped. */
	ck_assert_int_eq(MLCTL_ENOREGISTRY, -(int)(n - 1));
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(t[i].code, -(int)i);
		ck_assert_str_eq(mlctl_strerror(t[i].code), t[i].name);
		ck_assert_msg(mlctl_exit_status(t[i].code) == t[i].status, "code %d: exit %d, want %d",
			      t[i].code, mlctl_exit_status(t[i].code), t[i].status);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(mlctl_strerror(t[i].code), mlctl_strerror(t[j].code));
	}
	ck_assert_str_eq(mlctl_strerror(-999), "unknown error");
	ck_assert_str_eq(mlctl_strerror(5), "unknown error");
	ck_assert_int_eq(mlctl_exit_status(-999), 70);
	ck_assert_str_eq(mlctl_version(), MLCTL_VERSION);
	ck_assert_int_ge(mlctl_libsvm_version(), 300);
}
END_TEST

/* Two threads set different errors at the same time; each reads back its own. */
struct err_thread {
	int code;
	const char *word;
	pthread_barrier_t *bar;
	int bad;
};

static void *err_worker(void *arg)
{
	struct err_thread *t = arg;
	int i;

	if (mlctl_error_last()->code != 0)	/* a fresh thread has no error */
		t->bad += 10000;
	for (i = 0; i < 2000; i++) {
		mlctl_error_set(t->code, "%s %d", t->word, i);
		if (i == 0)
			pthread_barrier_wait(t->bar);
		if (mlctl_error_last()->code != t->code || strncmp(mlctl_error_last()->message, t->word,
								  strlen(t->word)) != 0)
			t->bad++;
	}
	return NULL;
}

START_TEST(test_error_thread_local)
{
	pthread_barrier_t bar;
	struct err_thread a = { MLCTL_EDATA, "alpha", &bar, 0 }, b = { MLCTL_EIO, "beta", &bar, 0 };
	pthread_t ta, tb;

	mlctl_error_set(MLCTL_ECONFIG, "main's own");
	pthread_barrier_init(&bar, NULL, 2);
	ck_assert_int_eq(pthread_create(&ta, NULL, err_worker, &a), 0);
	ck_assert_int_eq(pthread_create(&tb, NULL, err_worker, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&bar);
	/* No ck_assert in the threads: a failure there would unwind the wrong stack. */
	ck_assert_int_eq(a.bad, 0);
	ck_assert_int_eq(b.bad, 0);
	ck_assert_int_eq(mlctl_error_last()->code, MLCTL_ECONFIG);
	ck_assert_str_eq(mlctl_error_last()->message, "main's own");
}
END_TEST

static Suite *error_suite(void)
{
	Suite *s = suite_create("error");
	TCase *tc = tcase_create("error");

	tcase_add_test(tc, test_error_set_clear);
	tcase_add_test(tc, test_error_prefix);
	tcase_add_test(tc, test_error_long_message);
	tcase_add_test(tc, test_error_errno);
	tcase_add_test(tc, test_error_codes);
	tcase_add_test(tc, test_error_thread_local);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(error_suite)
