/*
 * check_predlog.c — predlog.c (floor 2): lines written in order and whole from many
 * threads, drops counted when the queue is full (never a blocked push), rotation by size
 * with `keep` old files, a line longer than max_bytes alone in its file, rotation and write
 * failures counted and reported by close, an unopenable path, and close writing everything
 * still queued.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

#include "check_util.h"
#include "error.h"
#include "predlog.h"
#include "util.h"

/* A malloc'd line "<tag> <seq> <padding>\n" of exactly len bytes (len >= 24). */
/* n, or a twentieth of it (at least 100) when $MLCTL_TEST_ROWS is set: `make valgrind` and
 * `make tsan` set it, and under valgrind's one thread at a time the big runs take minutes. */
static unsigned scaled(unsigned n)
{
	return getenv("MLCTL_TEST_ROWS") ? (n / 20 > 100 ? n / 20 : 100) : n;
}

static char *make_line(int tag, unsigned seq, size_t len)
{
	char *s = malloc(len + 1);
	int n;

	if (!s)
		ck_abort_msg("out of memory");
	n = snprintf(s, len + 1, "%d %u ", tag, seq);
	if (n <= 0 || (size_t)n >= len)
		ck_abort_msg("a line of %zu bytes is too short", len);
	memset(s + n, 'x', len - (size_t)n - 1);
	s[len - 1] = '\n';
	s[len] = '\0';
	return s;
}

static bool push_line(predlog *l, int tag, unsigned seq, size_t len)
{
	return predlog_push(l, make_line(tag, seq, len), len);
}

/* Wait (at most 30 s) until the writer has dealt with every line pushed (written, dropped
 * or lost: with no rotation failing, errors are lines), and return the counters then. With
 * only_written, until that many are written. */
static predlog_stats wait_lines(predlog *l, uint64_t pushed, bool only_written)
{
	predlog_stats st;
	double t0 = mlctl_monotonic();
	struct timespec ms = { 0, 1000000 };

	for (;;) {
		predlog_get_stats(l, &st);
		if ((only_written ? st.written : st.written + st.dropped + st.errors) >= pushed ||
		    mlctl_monotonic() - t0 > 30)
			return st;
		nanosleep(&ms, NULL);
	}
}

static predlog_stats wait_idle(predlog *l, uint64_t pushed)
{
	return wait_lines(l, pushed, false);
}

static predlog *open_log(const char *path, uint64_t max_bytes, int keep, size_t qlines)
{
	predlog_options o = PREDLOG_OPTIONS_INIT;
	predlog *l = NULL;

	o.path = path;
	o.max_bytes = max_bytes;
	o.keep = keep;
	o.queue_lines = qlines;
	ck_assert_msg(predlog_open(&l, &o) == 0, "open %s: %s", path, mlctl_error_last()->message);
	return l;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Check that every line of path is "<tag> <seq> x…x" of length len; with want_tag >= 0,
 * also that the tags are want_tag and the seqs run from *next on by one (updated). */
static size_t check_lines(const char *path, size_t len, int want_tag, unsigned *next)
{
	size_t n = 0, flen;
	char *t = read_all(path, &flen), *p, *nl;

	ck_assert_msg(t != NULL, "cannot read %s", path);
	for (p = t; p < t + flen; p = nl + 1) {
		int tag;
		unsigned seq;
		size_t i;

		/* Plain tests first: a Check assertion costs a write(2) even when it holds. */
		nl = memchr(p, '\n', (size_t)(t + flen - p));
		if (!nl)
			ck_abort_msg("%s: a cut line at byte %zu", path, (size_t)(p - t));
		if ((size_t)(nl - p) + 1 != len || sscanf(p, "%d %u ", &tag, &seq) != 2 ||
		    (want_tag >= 0 && (tag != want_tag || seq != *next)))
			ck_abort_msg("%s: line %zu is \"%.40s…\" (%zu bytes), want tag %d seq %u, %zu bytes",
				     path, n + 1, p, (size_t)(nl - p) + 1, want_tag, next ? *next : 0, len);
		for (i = (size_t)(strchr(strchr(p, ' ') + 1, ' ') - p) + 1; p + i < nl; i++)
			if (p[i] != 'x')
				ck_abort_msg("%s: line %zu mixed up", path, n + 1);
		if (want_tag >= 0)
			(*next)++;
		n++;
	}
	free(t);
	return n;
}

START_TEST(test_predlog_order)
{
	const char *path = tmp_path("pred.log");
	predlog *l = open_log(path, 0, 0, 0);
	predlog_stats st;
	unsigned i, next = 0;

	for (i = 0; i < 3000; i++)
		ck_assert(push_line(l, 7, i, 40));
	st = wait_idle(l, 3000);
	ck_assert_uint_eq(st.written, 3000);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_uint_eq(st.errors, 0);
	ck_assert_uint_eq(st.bytes, 3000 * 40);
	ck_assert_uint_eq(st.rotations, 0);
	ck_assert_int_eq(predlog_close(l), 0);
	ck_assert_uint_eq(check_lines(path, 40, 7, &next), 3000);
	ck_assert_int_eq(file_size(path), 3000 * 40);

	/* Opened again, the log appends; an empty line is nothing to write. */
	l = open_log(path, 0, 0, 0);
	ck_assert(push_line(l, 7, next, 40));
	ck_assert(predlog_push(l, malloc(1), 0));
	ck_assert_int_eq(predlog_close(l), 0);
	next = 0;
	ck_assert_uint_eq(check_lines(path, 40, 7, &next), 3001);
	ck_assert_int_eq(predlog_close(NULL), 0);
}
END_TEST

#define NTHREADS 8
#define PER_THREAD (scaled(10000))

typedef struct pusher {
	predlog *l;
	int tag;
	unsigned ok;
} pusher;

static void *pusher_main(void *arg)
{
	pusher *p = arg;
	unsigned i;

	/* seq counts the lines accepted, so that each thread's lines in the file must run
	 * 0, 1, 2, … without a gap. */
	for (i = 0; i < PER_THREAD; i++) {
		size_t len = 30 + (i * 7 + (unsigned)p->tag) % 60;
		char *s = make_line(p->tag, p->ok, len);

		p->ok += predlog_push(p->l, s, len);
	}
	return NULL;
}

START_TEST(test_predlog_threads)
{
	const char *path = tmp_path("pred.log");
	predlog *l = open_log(path, 0, 0, 0);
	pthread_t t[NTHREADS];
	pusher p[NTHREADS];
	unsigned next[NTHREADS] = { 0 }, accepted = 0;
	predlog_stats st, mid;
	size_t len, n = 0, bytes = 0;
	char *text, *s, *nl;
	int i;

	for (i = 0; i < NTHREADS; i++) {
		p[i].l = l;
		p[i].tag = i;
		p[i].ok = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, pusher_main, &p[i]), 0);
	}
	predlog_get_stats(l, &mid);     /* readable while they push */
	for (i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		accepted += p[i].ok;
	}
	st = wait_idle(l, NTHREADS * PER_THREAD);
	ck_assert_uint_eq(st.written + st.dropped, NTHREADS * PER_THREAD);
	ck_assert_uint_eq(st.written, accepted);
	ck_assert_uint_eq(st.errors, 0);
	ck_assert_int_eq(predlog_close(l), 0);

	/* Exactly `written` whole lines, each intact, and each thread's in its order. */
	text = read_all(path, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, st.bytes);
	for (s = text; s < text + len; s = nl + 1) {
		int tag;
		unsigned seq, want_len;
		char *c;

		nl = memchr(s, '\n', (size_t)(text + len - s));
		if (!nl)
			ck_abort_msg("a cut line at byte %zu", (size_t)(s - text));
		/* The line's length is that of the push it came from, whose index we do not
		 * know once lines were dropped: check it is in range and all 'x' after. */
		want_len = (unsigned)(nl - s) + 1;
		if (sscanf(s, "%d %u ", &tag, &seq) != 2 || tag < 0 || tag >= NTHREADS || seq != next[tag] ||
		    want_len < 30 || want_len >= 90)
			ck_abort_msg("line %zu is \"%.40s…\" (%u bytes)", n + 1, s, want_len);
		next[tag]++;
		for (c = strchr(strchr(s, ' ') + 1, ' ') + 1; c < nl; c++)
			if (*c != 'x')
				ck_abort_msg("line %zu mixed up", n + 1);
		bytes += want_len;
		n++;
	}
	ck_assert_uint_eq(n, st.written);
	ck_assert_uint_eq(bytes, len);
	for (i = 0; i < NTHREADS; i++)
		ck_assert_uint_eq(next[i], p[i].ok);
	free(text);
}
END_TEST

START_TEST(test_predlog_drops)
{
	const char *path = tmp_path("pred.log");
	predlog *l = open_log(path, 0, 0, 2);
	predlog_stats st;
	unsigned i, ok = 0, next = 0, n = scaled(200000);

	/* A queue of two lines against a tight loop: the writer cannot keep up, and the
	 * pushes drop rather than wait. */
	for (i = 0; i < n; i++)
		ok += push_line(l, 1, ok, 32);
	predlog_get_stats(l, &st);
	ck_assert_uint_gt(st.dropped, 0);
	ck_assert_uint_eq(st.dropped, n - ok);
	st = wait_idle(l, n);
	ck_assert_uint_eq(st.written, ok);
	ck_assert_uint_eq(st.written + st.dropped, n);
	ck_assert_int_eq(predlog_close(l), 0);
	ck_assert_uint_eq(check_lines(path, 32, 1, &next), ok);

	/* A line longer than the queue's bytes is dropped even from an empty queue. */
	{
		predlog_options o = PREDLOG_OPTIONS_INIT;

		o.path = path;
		o.queue_bytes = 100;
		ck_assert_int_eq(predlog_open(&l, &o), 0);
		ck_assert(!push_line(l, 1, 0, 101));
		ck_assert(push_line(l, 1, ok, 100));
		predlog_get_stats(l, &st);
		ck_assert_uint_eq(st.dropped, 1);
		ck_assert_int_eq(predlog_close(l), 0);
		ck_assert_int_eq(file_size(path), (off_t)ok * 32 + 100);
	}
}
END_TEST

START_TEST(test_predlog_rotate)
{
	const char *path = tmp_file("pred.log");
	predlog *l = open_log(path, 1000, 3, 0);
	predlog_stats st;
	unsigned i, next;
	static const char *const files[] = { "pred.log.3", "pred.log.2", "pred.log.1", "pred.log" };
	char *list;
	size_t k, total = 0;

	/* 100 lines of 100 bytes: ten to a file of exactly 1000, nine rotations; the files
	 * rotated beyond keep (the first six) are gone. Lines are pushed slowly enough in
	 * places that batches straddle rotations. */
	for (i = 0; i < 100; i++) {
		ck_assert(push_line(l, 2, i, 100));
		if (i % 17 == 0)
			wait_idle(l, i + 1);
	}
	st = wait_idle(l, 100);
	ck_assert_uint_eq(st.written, 100);
	ck_assert_uint_eq(st.rotations, 9);
	ck_assert_uint_eq(st.errors, 0);
	ck_assert_int_eq(predlog_close(l), 0);
	ck_assert_str_eq((list = dir_list(test_tmpdir)), "pred.log pred.log.1 pred.log.2 pred.log.3");
	free(list);
	next = 60;
	for (k = 0; k < 4; k++) {
		const char *f = tmp_file(files[k]);

		ck_assert_int_le(file_size(f), 1000);
		total += check_lines(f, 100, 2, &next);
	}
	ck_assert_uint_eq(total, st.written - 60);
	ck_assert_uint_eq(next, 100);

	/* Reopened: the file is full, so the next line rotates at once. */
	l = open_log(path, 1000, 3, 0);
	ck_assert(push_line(l, 2, 100, 100));
	st = wait_idle(l, 1);
	ck_assert_uint_eq(st.rotations, 1);
	ck_assert_int_eq(predlog_close(l), 0);
	next = 70;
	ck_assert_uint_eq(check_lines(tmp_file("pred.log.3"), 100, 2, &next), 10);
	next = 100;
	ck_assert_uint_eq(check_lines(path, 100, 2, &next), 1);
}
END_TEST

START_TEST(test_predlog_long_line)
{
	const char *path = tmp_file("pred.log");
	predlog *l = open_log(path, 100, 5, 0);
	predlog_stats st;
	unsigned next;

	/* 50, 250, 50 and 60: the long line alone in a file, the others where they fit. */
	ck_assert(push_line(l, 3, 0, 50));
	ck_assert(push_line(l, 3, 1, 250));
	ck_assert(push_line(l, 3, 2, 50));
	ck_assert(push_line(l, 3, 3, 60));
	st = wait_idle(l, 4);
	ck_assert_uint_eq(st.rotations, 3);
	ck_assert_int_eq(predlog_close(l), 0);
	next = 0;
	ck_assert_uint_eq(check_lines(tmp_file("pred.log.3"), 50, 3, &next), 1);
	ck_assert_uint_eq(check_lines(tmp_file("pred.log.2"), 250, 3, &next), 1);
	ck_assert_uint_eq(check_lines(tmp_file("pred.log.1"), 50, 3, &next), 1);
	ck_assert_uint_eq(check_lines(path, 60, 3, &next), 1);
}
END_TEST

START_TEST(test_predlog_rotate_fails)
{
	const char *path = tmp_file("pred.log");
	predlog *l;
	predlog_stats st;
	unsigned i, next = 0;

	/* path.1 a directory that is not empty: renaming the log onto it fails (as root
	 * too). The log goes on growing, one retry per max_bytes, and close says so. */
	ck_assert_int_eq(mkdir(tmp_file("pred.log.1"), 0755), 0);
	write_tmp("pred.log.1/x", "x");
	l = open_log(path, 100, 1, 0);
	for (i = 0; i < 5; i++) {
		ck_assert(push_line(l, 4, i, 50));
		wait_lines(l, i + 1, true);
	}
	st = wait_lines(l, 5, true);
	ck_assert_uint_eq(st.written, 5);
	ck_assert_uint_eq(st.rotations, 0);
	ck_assert_uint_eq(st.errors, 2);        /* before lines 3 and 5 */
	expect_err(predlog_close(l), MLCTL_EIO, "cannot rotate prediction log");
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, path));
	ck_assert_uint_eq(check_lines(path, 50, 4, &next), 5);
}
END_TEST

START_TEST(test_predlog_write_fails)
{
	predlog *l;
	predlog_stats st;
	unsigned i;

	/* /dev/full takes the open and refuses every write (ENOSPC). */
	if (access("/dev/full", W_OK) != 0)
		return;
	l = open_log("/dev/full", 0, 0, 0);
	for (i = 0; i < 10; i++)
		ck_assert(push_line(l, 5, i, 40));
	st = wait_idle(l, 10);
	ck_assert_uint_eq(st.written, 0);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_uint_eq(st.errors, 10);
	expect_err(predlog_close(l), MLCTL_EIO, "cannot write prediction log /dev/full");
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, strerror(ENOSPC)));
}
END_TEST

/* The checks of test_predlog_short_write, in a child whose file size is limited: 0 when
 * they hold, else the number of the first that failed. */
static int short_write_child(const char *path)
{
	struct rlimit rl = { 1050, 1050 };
	predlog_options o = PREDLOG_OPTIONS_INIT;
	predlog_stats st;
	predlog *l;
	unsigned i;

	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		return 1;
	o.path = path;
	if (predlog_open(&l, &o) != 0)
		return 2;
	for (i = 0; i < 30; i++)
		if (!predlog_push(l, make_line(8, i, 100), 100))
			return 3;
	st = wait_idle(l, 30);
	if (st.written != 10 || st.errors != 20 || st.bytes != 1000)
		return 4;
	if (predlog_close(l) != MLCTL_EIO || !strstr(mlctl_error_last()->message, strerror(EFBIG)))
		return 5;
	return 0;
}

START_TEST(test_predlog_short_write)
{
	const char *path = tmp_path("pred.log");
	unsigned next = 0;
	int status;
	pid_t pid;

	/* A file-size limit 50 bytes into the 11th line: the kernel writes part of it, then
	 * refuses (EFBIG). Ten lines count as written, the cut one is cut off the file. */
	ck_assert_int_ge((pid = fork()), 0);
	if (pid == 0)
		_exit(short_write_child(path));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed check %d",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	ck_assert_int_eq(file_size(path), 1000);
	ck_assert_uint_eq(check_lines(path, 100, 8, &next), 10);
}
END_TEST

START_TEST(test_predlog_open_fails)
{
	predlog_options o = PREDLOG_OPTIONS_INIT;
	predlog *l = (predlog *)&o;
	const char *bad = tmp_file("no/such/dir/pred.log");

	o.path = bad;
	expect_err(predlog_open(&l, &o), MLCTL_ECREATE, bad);
	ck_assert_ptr_null(l);
	o.path = test_tmpdir;   /* a directory */
	expect_err(predlog_open(&l, &o), MLCTL_ECREATE, test_tmpdir);
	/* A FIFO nobody reads: refused at once, not a hang. */
	ck_assert_int_eq(mkfifo(tmp_file("fifo"), 0644), 0);
	o.path = tmp_file("fifo");
	expect_err(predlog_open(&l, &o), MLCTL_ECREATE, "fifo");
	o.path = NULL;
	expect_err(predlog_open(&l, &o), MLCTL_EUSAGE, "no file");
	o.path = tmp_file("pred.log");
	o.keep = -1;
	expect_err(predlog_open(&l, &o), MLCTL_EUSAGE, "keep");
	ck_assert_int_ne(access(tmp_file("pred.log"), F_OK), 0);
}
END_TEST

START_TEST(test_predlog_close_full_queue)
{
	const char *path = tmp_path("pred.log");
	unsigned i, ok = 0, next = 0, n = scaled(50000);
	predlog *l = open_log(path, 0, 0, n);

	/* Close at once after filling the queue: everything accepted reaches the file. */
	for (i = 0; i < n; i++)
		ok += push_line(l, 6, ok, 64);
	ck_assert_uint_gt(ok, 0);
	ck_assert_int_eq(predlog_close(l), 0);
	ck_assert_uint_eq(check_lines(path, 64, 6, &next), ok);
	ck_assert_uint_eq(ok, n);   /* the queue holds them all */
	ck_assert_uint_eq(count_lines(path), n);
}
END_TEST

static Suite *predlog_suite(void)
{
	Suite *s = suite_create("predlog");
	TCase *tc = tcase_create("predlog");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_predlog_order);
	tcase_add_test(tc, test_predlog_threads);
	tcase_add_test(tc, test_predlog_drops);
	tcase_add_test(tc, test_predlog_rotate);
	tcase_add_test(tc, test_predlog_long_line);
	tcase_add_test(tc, test_predlog_rotate_fails);
	tcase_add_test(tc, test_predlog_write_fails);
	tcase_add_test(tc, test_predlog_short_write);
	tcase_add_test(tc, test_predlog_open_fails);
	tcase_add_test(tc, test_predlog_close_full_queue);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(predlog_suite)
