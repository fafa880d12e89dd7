/*
 * check_fsutil.c — fsutil.c (floor 1): mkdir -p, whole-file reads with a limit, atomic
 * writes (the target appears only at commit; abort and a killed writer leave nothing once
 * swept), symlinks and FIFOs as outputs, and flock locks between two processes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check_util.h"
#include "error.h"
#include "fsutil.h"
#include "util.h"

/* How many entries of test_tmpdir start with prefix. */
static int count_prefixed(const char *prefix)
{
	DIR *d = opendir(test_tmpdir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	char *s = NULL;
	size_t len;

	ck_assert_int_eq(fs_read_file(&s, &len, path, 0), 0);
	ck_assert_uint_eq(strlen(s), len);
	return s;
}

START_TEST(test_fsutil_mkdir_p)
{
	ck_assert_int_eq(fs_mkdir_p(tmp_path("a/b/c")), 0);
	ck_assert(fs_is_dir(tmp_path("a/b/c")));
	ck_assert_int_eq(fs_mkdir_p(tmp_path("a/b/c")), 0);	/* again: nothing to do */
	ck_assert_int_eq(fs_mkdir_p(tmp_path("a//b/d/")), 0);	/* doubled and trailing slashes */
	ck_assert(fs_is_dir(tmp_path("a/b/d")));
	ck_assert_int_eq(fs_mkdir_p(test_tmpdir), 0);
	write_tmp("file", "x");
	expect_err(fs_mkdir_p(tmp_path("file")), MLCTL_ECREATE, "a file is in the way");
	ck_assert(!fs_is_dir(tmp_path("file")));
	/* Through a file: "cannot create" (73) naming the file, not "not found" (66). */
	expect_err(fs_mkdir_p(tmp_path("file/sub/deeper")), MLCTL_ECREATE, "cannot create directory");
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "/file is not a directory"));
	/* An empty name is a usage error (it once read past its one-byte copy). */
	expect_err(fs_mkdir_p(""), MLCTL_EUSAGE, "empty name");
	ck_assert_int_eq(fs_mkdir_p("/"), 0);
}
END_TEST

START_TEST(test_fsutil_paths)
{
	char *s;

	ck_assert_str_eq((s = fs_dirname("a/b/c.txt")), "a/b");
	free(s);
	ck_assert_str_eq((s = fs_dirname("c.txt")), ".");
	free(s);
	ck_assert_str_eq((s = fs_dirname("/c.txt")), "/");
	free(s);
	ck_assert_str_eq((s = fs_join("a", "b")), "a/b");
	free(s);
	ck_assert_str_eq((s = fs_join("a/", "b")), "a/b");
	free(s);
	ck_assert_str_eq((s = fs_join("", "b")), "/b");
	free(s);
	ck_assert(fs_exists(test_tmpdir) && fs_is_dir(test_tmpdir));
	ck_assert(!fs_exists(tmp_path("none")) && !fs_is_dir(tmp_path("none")));
	ck_assert_int_eq(symlink("none", tmp_path("dangling")), 0);
	ck_assert(fs_exists(tmp_path("dangling")));	/* the link itself exists */
	ck_assert(!fs_is_dir(write_tmp("f", "")));
}
END_TEST

START_TEST(test_fsutil_read_file)
{
	size_t n = 200000, len = 0, i;
	char *big = malloc(n), *s = (char *)0x1;
	FILE *f;

	for (i = 0; i < n; i++)
		big[i] = (char)('0' + i % 10);
	f = fopen(tmp_path("big"), "wb");
	ck_assert_uint_eq(fwrite(big, 1, n, f), n);
	fclose(f);
	ck_assert_int_eq(fs_read_file(&s, &len, tmp_path("big"), 0), 0);
	ck_assert_uint_eq(len, n);
	ck_assert(memcmp(s, big, n) == 0);
	ck_assert_int_eq(s[n], '\0');
	free(s);
	ck_assert_int_eq(fs_read_file(&s, &len, tmp_path("big"), n), 0);	/* exactly at the limit */
	free(s);
	expect_err(fs_read_file(&s, &len, tmp_path("big"), n - 1), MLCTL_EDATA, "larger than 199999 bytes");
	ck_assert_ptr_null(s);
	expect_err(fs_read_file(&s, &len, tmp_path("missing"), 0), MLCTL_ENOTFOUND, "missing");
	ck_assert_ptr_null(s);
	expect_err(fs_read_file(&s, &len, test_tmpdir, 0), MLCTL_EIO, "cannot read");
	ck_assert_ptr_null(s);
	/* Bytes after a NUL are kept: len, not strlen, is the size. */
	f = fopen(tmp_path("nul"), "wb");
	ck_assert_uint_eq(fwrite("a\0b", 1, 3, f), 3);
	fclose(f);
	ck_assert_int_eq(fs_read_file(&s, &len, tmp_path("nul"), 0), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert(s[2] == 'b' && s[3] == '\0');
	free(s);
	/* An empty file is an empty string, NUL-terminated like any other. */
	write_tmp("empty", "");
	len = 9;
	ck_assert_int_eq(fs_read_file(&s, &len, tmp_path("empty"), 0), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_msg(s[0] == '\0', "fs_read_file of an empty file: s[0] = 0x%02x", (unsigned char)s[0]);
	free(s);
	free(big);
}
END_TEST

START_TEST(test_fsutil_write_atomic)
{
	const char *p = tmp_path("out.txt");
	struct stat st;
	char *s;

	ck_assert_int_eq(fs_write_atomic(p, "first\n", 6, 0600), 0);
	ck_assert_str_eq((s = slurp(p)), "first\n");
	free(s);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(fs_write_atomic(p, "second", 6, 0644), 0);
	ck_assert_str_eq((s = slurp(p)), "second");
	free(s);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	ck_assert_int_eq(fs_write_atomic(p, NULL, 0, 0644), 0);	/* empty */
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_eq(count_prefixed(".out.txt.tmp."), 0);
	expect_err(fs_write_atomic(tmp_path("no/such/dir/x"), "x", 1, 0644), MLCTL_ECREATE, "does not exist");
	expect_err(fs_write_atomic(test_tmpdir, "x", 1, 0644), MLCTL_ECREATE, "it is a directory");
}
END_TEST

/* The target appears only at commit; until then only the temp file exists. */
START_TEST(test_fsutil_atomic_commit_abort)
{
	const char *p = tmp_path("model.txt");
	fs_atomic *af;
	char *s;

	ck_assert_int_eq(fs_atomic_open(&af, p, 0644), 0);
	ck_assert_ptr_nonnull(af->tmp);
	ck_assert_str_eq(af->path, p);
	ck_assert(fs_exists(af->tmp));
	ck_assert(!fs_exists(p));
	ck_assert_int_eq(count_prefixed(".model.txt.tmp."), 1);
	fputs("payload", af->fp);
	fflush(af->fp);
	ck_assert(!fs_exists(p));
	ck_assert_int_eq(fs_atomic_commit(af), 0);
	ck_assert_str_eq((s = slurp(p)), "payload");
	free(s);
	ck_assert_int_eq(count_prefixed(".model.txt.tmp."), 0);

	/* Abort: the old file stays as it was, the temp goes. */
	ck_assert_int_eq(fs_atomic_open(&af, p, 0644), 0);
	fputs("half-written", af->fp);
	fs_atomic_abort(af);
	fs_atomic_abort(NULL);
	ck_assert_str_eq((s = slurp(p)), "payload");
	free(s);
	ck_assert_int_eq(count_prefixed(".model.txt.tmp."), 0);
}
END_TEST

/* A writer killed between open and commit leaves its temp; sweep removes it, but not the
 * temp of a writer still alive. */
START_TEST(test_fsutil_atomic_sweep)
{
	const char *p = tmp_path("out.csv");
	fs_atomic *mine;
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fs_atomic *af;

		if (fs_atomic_open(&af, p, 0644) != 0)
			_exit(1);
		fputs("never committed", af->fp);
		fflush(af->fp);
		_exit(0);	/* dies without commit or abort */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(count_prefixed(".out.csv.tmp."), 1);
	ck_assert_int_eq(fs_atomic_open(&mine, p, 0644), 0);	/* a live writer */
	ck_assert_int_eq(count_prefixed(".out.csv.tmp."), 2);
	write_tmp(".out.csv.tmp.notapid", "x");			/* not a writer's name */
	fs_atomic_sweep(p);
	ck_assert_int_eq(count_prefixed(".out.csv.tmp."), 2);	/* mine and notapid */
	ck_assert(fs_exists(mine->tmp));
	ck_assert(fs_exists(tmp_path(".out.csv.tmp.notapid")));
	ck_assert(!fs_exists(p));
	fs_atomic_abort(mine);
	mlctl_error_clear();
	fs_atomic_sweep(tmp_path("no/such/dir/x"));		/* quietly nothing */
	ck_assert_int_eq(mlctl_error_last()->code, 0);
}
END_TEST

/* Through a symlink the link's target is replaced and the link stays a link. */
START_TEST(test_fsutil_atomic_symlink)
{
	struct stat st;
	char *s;

	ck_assert_int_eq(fs_mkdir_p(tmp_path("real")), 0);
	ck_assert_int_eq(symlink("real/target.txt", tmp_path("link")), 0);
	ck_assert_int_eq(symlink("link", tmp_path("link2")), 0);
	ck_assert_int_eq(fs_write_atomic(tmp_path("link2"), "via link", 8, 0644), 0);
	ck_assert_int_eq(lstat(tmp_path("link2"), &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(lstat(tmp_path("link"), &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_str_eq((s = slurp(tmp_path("real/target.txt"))), "via link");
	free(s);
	/* A loop of links is refused, not followed forever. */
	ck_assert_int_eq(symlink("loop2", tmp_path("loop1")), 0);
	ck_assert_int_eq(symlink("loop1", tmp_path("loop2")), 0);
	expect_err(fs_write_atomic(tmp_path("loop1"), "x", 1, 0644), MLCTL_ECREATE, "too many levels");
}
END_TEST

/* A FIFO is written in place, streaming: no temp, no rename over the node. */
START_TEST(test_fsutil_atomic_fifo)
{
	const char *p = tmp_path("pipe");
	char buf[64] = { 0 };
	struct stat st;
	fs_atomic *af;
	int rfd;

	ck_assert_int_eq(mkfifo(p, 0600), 0);
	rfd = open(p, O_RDONLY | O_NONBLOCK);	/* a reader, so that the writer's open returns */
	ck_assert_int_ge(rfd, 0);
	ck_assert_int_eq(fs_atomic_open(&af, p, 0644), 0);
	ck_assert_ptr_null(af->tmp);
	fputs("streamed", af->fp);
	ck_assert_int_eq(fs_atomic_commit(af), 0);
	ck_assert_int_eq(read(rfd, buf, sizeof(buf) - 1), 8);
	ck_assert_str_eq(buf, "streamed");
	close(rfd);
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	ck_assert_int_eq(count_prefixed(".pipe.tmp."), 0);
}
END_TEST

/* A child process that takes a lock, says so on a pipe, holds it until told, then exits. */
static pid_t lock_holder(const char *path, bool shared, int *to_child, int *from_child)
{
	int down[2], up[2];
	pid_t pid;

	ck_assert_int_eq(pipe(down), 0);
	ck_assert_int_eq(pipe(up), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd, ret;
		char c = 0;

		close(down[1]);
		close(up[0]);
		ret = shared ? fs_lock_shared(&fd, path, 0) : fs_lock(&fd, path, 0);
		c = ret == 0 ? 'L' : 'E';
		if (write(up[1], &c, 1) != 1)
			_exit(2);
		if (read(down[0], &c, 1) != 1)
			_exit(3);
		fs_unlock(fd);
		if (write(up[1], "U", 1) != 1)
			_exit(2);
		_exit(ret == 0 ? 0 : 1);
	}
	close(down[0]);
	close(up[1]);
	*to_child = down[1];
	*from_child = up[0];
	return pid;
}

static void expect_child(int from_child, char want)
{
	char c = 0;

	ck_assert_int_eq(read(from_child, &c, 1), 1);
	ck_assert_int_eq(c, want);
}

static void reap(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

START_TEST(test_fsutil_lock_two_processes)
{
	const char *p = tmp_path("registry.lock");
	int to, from, fd = -1;
	double t0, took;
	pid_t pid;

	pid = lock_holder(p, false, &to, &from);
	expect_child(from, 'L');
	/* Held elsewhere: refused at once, refused after a short wait, refused shared. */
	t0 = mlctl_monotonic();
	expect_err(fs_lock(&fd, p, 0), MLCTL_ELOCKED, "registry.lock is locked by another process");
	ck_assert_int_eq(fd, -1);
	ck_assert(mlctl_monotonic() - t0 < 0.5);
	t0 = mlctl_monotonic();
	expect_err(fs_lock(&fd, p, 0.3), MLCTL_ELOCKED, "locked");
	took = mlctl_monotonic() - t0;
	ck_assert_msg(took >= 0.29 && took < 5, "waited %g s for 0.3", took);
	expect_err(fs_lock_shared(&fd, p, 0), MLCTL_ELOCKED, "locked");
	/* Released while we wait: the wait succeeds. */
	ck_assert_int_eq(write(to, "go", 1), 1);
	ck_assert_int_eq(fs_lock(&fd, p, 10), 0);
	ck_assert_int_ge(fd, 0);
	expect_child(from, 'U');
	reap(pid);
	close(to);
	close(from);
	/* Now we hold it: a second process is refused. */
	pid = lock_holder(p, false, &to, &from);
	expect_child(from, 'E');
	ck_assert_int_eq(write(to, "go", 1), 1);
	expect_child(from, 'U');
	{
		int status;

		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	}
	close(to);
	close(from);
	fs_unlock(fd);
	fs_unlock(-1);	/* harmless */
}
END_TEST

START_TEST(test_fsutil_lock_shared)
{
	const char *p = tmp_path("shared.lock");
	int to, from, fd = -1;
	pid_t pid;

	pid = lock_holder(p, true, &to, &from);
	expect_child(from, 'L');
	ck_assert_int_eq(fs_lock_shared(&fd, p, 0), 0);	/* two readers at once */
	fs_unlock(fd);
	expect_err(fs_lock(&fd, p, 0), MLCTL_ELOCKED, "locked");
	ck_assert_int_eq(write(to, "go", 1), 1);
	expect_child(from, 'U');
	reap(pid);
	close(to);
	close(from);
	ck_assert_int_eq(fs_lock(&fd, p, 0), 0);
	fs_unlock(fd);
	/* A missing directory is "cannot create" (73), not "not found", and the message names
	 * the lock file and the reason. */
	expect_err(fs_lock(&fd, tmp_path("no/such/dir/x.lock"), 0), MLCTL_ECREATE,
		   "cannot create lock file");
	ck_assert_int_eq(fd, -1);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "no/such/dir/x.lock: No such file or directory"));
}
END_TEST

static Suite *fsutil_suite(void)
{
	Suite *s = suite_create("fsutil");
	TCase *tc = tcase_create("fsutil");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fsutil_mkdir_p);
	tcase_add_test(tc, test_fsutil_paths);
	tcase_add_test(tc, test_fsutil_read_file);
	tcase_add_test(tc, test_fsutil_write_atomic);
	tcase_add_test(tc, test_fsutil_atomic_commit_abort);
	tcase_add_test(tc, test_fsutil_atomic_sweep);
	tcase_add_test(tc, test_fsutil_atomic_symlink);
	tcase_add_test(tc, test_fsutil_atomic_fifo);
	tcase_add_test(tc, test_fsutil_lock_two_processes);
	tcase_add_test(tc, test_fsutil_lock_shared);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(fsutil_suite)
