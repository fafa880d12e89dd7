/*
 * check_data.c — versioned data and the file digest cache: a data file stored compressed
 * under the SHA-256 of its bytes (as sha256sum and train name it), written back byte for
 * byte and verified, damage refused, a killed store leaving no object, memory bounded
 * while streaming; data sets listed with their runs, digest prefixes and model references
 * resolved; the digest cache hit while the stat stands, re-hashing once after a touch, never
 * trusting a file changed in its last clock tick, concurrent processes sharing it; and a
 * registry of schema 1 upgraded to 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check_util.h"
#include "hash.h"
#include "mlctl.h"
#include "util.h"

static mlctl_registry *reg;
static char regdir[512];

static void data_setup(void)
{
	tmpdir_setup();
	snprintf(regdir, sizeof(regdir), "%s/.mlctl", test_tmpdir);
	if (mlctl_registry_init(regdir) != 0 || mlctl_registry_open(&reg, regdir) != 0)
		abort();
}

static void data_teardown(void)
{
	mlctl_registry_free(reg);
	reg = NULL;
	tmpdir_teardown();
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static bool same_file(const char *a, const char *b)
{
	size_t la, lb;
	char *x = slurp(a, &la), *y = slurp(b, &lb);
	bool same = la == lb && memcmp(x, y, la) == 0;

	free(x);
	free(y);
	return same;
}

static void sql(const char *stmt)
{
	sqlite3 *db;
	char path[600];

	snprintf(path, sizeof(path), "%s/registry.db", regdir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	ck_assert_msg(sqlite3_exec(db, stmt, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", stmt, sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* Files under objects/xx/ named like objects (64 hex digits with the fan-out). */
static int count_objects(void)
{
	char cmd[700];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "find '%s/objects' -mindepth 2 -type f | grep -Ec '/[0-9a-f]{2}/[0-9a-f]{62}$'", regdir);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

/* The real churn data: stored compressed, named by sha256 of its bytes, back byte for byte. */
START_TEST(test_data_store_round_trip)
{
	const char *src = data_path("mlc_churn.csv");
	char digest[65], want[65], *obj, *back = NULL, head[8];
	size_t size, len = 0;
	struct stat st_src, st_obj;
	uint64_t written = 0;
	FILE *f;

	ck_assert_int_eq(hash_file_hex(want, &size, src), 0);
	ck_assert_msg(mlctl_data_store(digest, reg, src) == 0, "%s", mlctl_error_last()->message);
	ck_assert_str_eq(digest, want);
	mlctl_store_release(reg);
	ck_assert(mlctl_store_has(reg, digest));
	obj = mlctl_store_path(reg, digest);
	ck_assert_int_eq(stat(src, &st_src), 0);
	ck_assert_int_eq(stat(obj, &st_obj), 0);
	/* Compressed: a CSV deflates to well under half. */
	ck_assert_int_lt(st_obj.st_size * 2, st_src.st_size);
	ck_assert_int_eq(st_obj.st_mode & 0777, 0444);
	f = fopen(obj, "rb");
	ck_assert_int_eq(fread(head, 1, 8, f), 8);
	fclose(f);
	ck_assert_int_eq(memcmp(head, "MLCTLZ1\n", 8), 0);
	/* mlctl_store_get() decodes it too. */
	ck_assert_msg(mlctl_store_get(&back, &len, reg, digest) == 0, "%s", mlctl_error_last()->message);
	ck_assert_uint_eq(len, (size_t)st_src.st_size);
	free(back);
	ck_assert_msg(mlctl_data_checkout(reg, digest, tmp_path("back.csv"), false, &written) == 0, "%s",
		      mlctl_error_last()->message);
	ck_assert_uint_eq(written, (uint64_t)st_src.st_size);
	ck_assert(same_file(src, tmp_path("back.csv")));
	/* An existing file is refused, and kept; --force replaces it. */
	write_tmp("back.csv", "something else\n");
	ck_assert_int_eq(mlctl_data_checkout(reg, digest, tmp_path("back.csv"), false, NULL), MLCTL_EEXISTS);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "--force"));
	ck_assert(!same_file(src, tmp_path("back.csv")));
	ck_assert_int_eq(mlctl_data_checkout(reg, digest, tmp_path("back.csv"), true, NULL), 0);
	ck_assert(same_file(src, tmp_path("back.csv")));
	/* Storing it again keeps the one object. */
	ck_assert_int_eq(mlctl_data_store(digest, reg, src), 0);
	ck_assert_str_eq(digest, want);
	ck_assert_int_eq(count_objects(), 1);
	free(obj);
}
END_TEST

START_TEST(test_data_store_empty_and_missing)
{
	char digest[65], want[65];

	hash_buf_hex(want, "", 0);
	ck_assert_int_eq(mlctl_data_store(digest, reg, write_tmp("empty.csv", "")), 0);
	ck_assert_str_eq(digest, want);
	ck_assert_int_eq(mlctl_data_checkout(reg, digest, tmp_path("empty.out"), false, NULL), 0);
	ck_assert(same_file(tmp_path("empty.csv"), tmp_path("empty.out")));
	ck_assert_int_eq(mlctl_data_store(digest, reg, tmp_path("no-such.csv")), MLCTL_ENOTFOUND);
	/* A digest not in the store. */
	hash_buf_hex(want, "never stored", 12);
	ck_assert_int_eq(mlctl_data_checkout(reg, want, tmp_path("x.csv"), false, NULL), MLCTL_ENOTFOUND);
	ck_assert_int_eq(access(tmp_path("x.csv"), F_OK), -1);
	ck_assert_int_eq(mlctl_data_checkout(reg, "../../etc/passwd", tmp_path("x.csv"), false, NULL), MLCTL_EUSAGE);
}
END_TEST

/* A damaged object is refused, and the path it was to be written to is left untouched. */
START_TEST(test_data_checkout_damaged)
{
	const char *src = data_path("iris.csv");
	char digest[65], *obj;
	struct stat st;
	int fd;

	ck_assert_int_eq(mlctl_data_store(digest, reg, src), 0);
	obj = mlctl_store_path(reg, digest);
	ck_assert_int_eq(stat(obj, &st), 0);
	ck_assert_int_eq(chmod(obj, 0644), 0);
	/* A byte in the middle of the deflate stream. */
	fd = open(obj, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "\xff\x00\xff", 3, st.st_size / 2), 3);
	close(fd);
	write_tmp("keep.csv", "mine\n");
	ck_assert_int_eq(mlctl_data_checkout(reg, digest, tmp_path("keep.csv"), true, NULL), MLCTL_ECORRUPT);
	ck_assert_msg(strstr(mlctl_error_last()->message, "damaged") != NULL, "%s", mlctl_error_last()->message);
	ck_assert(same_file(tmp_path("keep.csv"), write_tmp("mine.csv", "mine\n")));
	ck_assert_int_eq(mlctl_data_checkout(reg, digest, tmp_path("new.csv"), false, NULL), MLCTL_ECORRUPT);
	ck_assert_int_eq(access(tmp_path("new.csv"), F_OK), -1);
	free(obj);
}
END_TEST

/* A store killed half-way (its input a FIFO that never ends) leaves no object, only a temp
 * file that gc sweeps. */
START_TEST(test_data_store_killed)
{
	char *fifo = mlctl_strdup(tmp_path("in.fifo"));
	mlctl_gc_options go = MLCTL_GC_OPTIONS_INIT;
	mlctl_gc_result *gr = NULL;
	pid_t pid, writer;
	int fd, status;

	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		mlctl_registry *r2;
		char d[65];

		alarm(20);
		if (mlctl_registry_open(&r2, regdir) != 0)
			_exit(2);
		mlctl_data_store(d, r2, fifo);
		mlctl_registry_free(r2);
		free(fifo);
		_exit(3);
	}
	writer = fork();
	ck_assert_int_ge(writer, 0);
	if (writer == 0) {
		char buf[4096];

		memset(buf, 'x', sizeof(buf));
		alarm(20);
		fd = open(fifo, O_WRONLY);
		free(fifo);
		for (;;)
			if (write(fd, buf, sizeof(buf)) < 0)
				_exit(0);
	}
	/* Let it store a few megabytes, then kill it. */
	usleep(300000);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ck_assert(WIFSIGNALED(status));
	kill(writer, SIGKILL);
	waitpid(writer, NULL, 0);
	ck_assert_int_eq(count_objects(), 0);
	go.grace_seconds = 0;
	ck_assert_int_eq(mlctl_gc(&gr, reg, &go), 0);
	mlctl_gc_result_free(gr);
	{
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "test -z \"$(find '%s/objects' -type f -name '.*.tmp.*')\"", regdir);
		ck_assert_int_eq(system(cmd), 0);
	}
	free(fifo);
}
END_TEST

/* Storing streams: a 48 MiB file (3 MiB under valgrind) grows the process by far less. */
START_TEST(test_data_store_streams)
{
	size_t mb = getenv("MLCTL_TEST_ROWS") ? 3 : 48, i;
	const char *src = tmp_path("big.csv");
	struct rusage before, after;
	char digest[65], want[65], line[64];
	size_t size;
	FILE *f = fopen(src, "w");

	ck_assert_ptr_nonnull(f);
	for (i = 0; ftell(f) < (long)(mb << 20); i++) {
		snprintf(line, sizeof(line), "%zu,%zu.%03zu,%s\n", i, (i * 7919) % 10007, i % 1000, i % 3 ? "no" : "yes");
		fputs(line, f);
	}
	fclose(f);
	ck_assert_int_eq(hash_file_hex(want, &size, src), 0);
	getrusage(RUSAGE_SELF, &before);
	ck_assert_int_eq(mlctl_data_store(digest, reg, src), 0);
	getrusage(RUSAGE_SELF, &after);
	ck_assert_str_eq(digest, want);
	if (!getenv("MLCTL_TEST_ROWS"))
		ck_assert_int_lt(after.ru_maxrss - before.ru_maxrss, 8 * 1024); /* KiB */
	ck_assert_int_eq(mlctl_data_checkout(reg, digest, tmp_path("big.out"), false, NULL), 0);
	ck_assert(same_file(src, tmp_path("big.out")));
}
END_TEST

/* Runs that read data: listed, shown with their roles and versions, resolved by prefix and
 * by model reference. */
START_TEST(test_data_list_show_resolve)
{
	mlctl_run_start_options ro = MLCTL_RUN_START_OPTIONS_INIT;
	mlctl_model_version spec = { 0 };
	mlctl_data_list *l = NULL;
	mlctl_data_info *d = NULL;
	char run[MLCTL_RUN_ID_SIZE], run2[MLCTL_RUN_ID_SIZE], train_d[65], test_d[65], other[65], out[65], prefix[8];
	int version;
	size_t i;

	ck_assert_int_eq(mlctl_data_store(train_d, reg, data_path("iris.csv")), 0);
	hash_buf_hex(test_d, "test rows", 9);
	hash_buf_hex(other, "scored rows", 11);
	ro.kind = "train";
	ro.name = "iris";
	ck_assert_int_eq(mlctl_run_start(run, reg, &ro), 0);
	ck_assert_int_eq(mlctl_dataset_record(reg, train_d, "iris.csv", "csv", 150, 5), 0);
	ck_assert_int_eq(mlctl_run_log_object(reg, run, "input", "data", train_d), 0);
	ck_assert_int_eq(mlctl_run_log_object(reg, run, "input", "test_data", test_d), 0);
	spec.name = "iris";
	memcpy(spec.run, run, sizeof(run));
	hash_buf_hex(spec.model_digest, "m", 1);
	hash_buf_hex(spec.preprocess_digest, "p", 1);
	ck_assert_int_eq(mlctl_model_register(&version, reg, &spec), 0);
	ck_assert_int_eq(mlctl_run_set_model(reg, run, "iris", version), 0);
	ck_assert_int_eq(mlctl_run_finish(reg, run, NULL), 0);
	ro.kind = "predict";
	ck_assert_int_eq(mlctl_run_start(run2, reg, &ro), 0);
	ck_assert_int_eq(mlctl_run_log_object(reg, run2, "input", "data", other), 0);
	ck_assert_int_eq(mlctl_run_log_object(reg, run2, "input", "data2", train_d), 0); /* not a data role */
	ck_assert_int_eq(mlctl_run_finish(reg, run2, NULL), 0);
	mlctl_store_release(reg);

	ck_assert_int_eq(mlctl_data_list_get(&l, reg), 0);
	ck_assert_uint_eq(l->n, 3);
	for (i = 0; i < l->n; i++) {
		if (strcmp(l->d[i]->digest, train_d) == 0) {
			ck_assert(l->d[i]->stored && l->d[i]->compressed);
			ck_assert_str_eq(l->d[i]->path, "iris.csv");
			ck_assert_int_eq(l->d[i]->rows, 150);
			ck_assert_uint_eq(l->d[i]->nruns, 2);
		} else {
			ck_assert(!l->d[i]->stored);
			ck_assert_ptr_null(l->d[i]->path);
			ck_assert_int_eq(l->d[i]->size, -1);
			ck_assert_uint_eq(l->d[i]->nruns, 1);
		}
	}
	mlctl_data_list_free(l);

	snprintf(prefix, sizeof(prefix), "%.6s", train_d);
	ck_assert_int_eq(mlctl_data_get(&d, reg, prefix), 0);
	ck_assert_str_eq(d->digest, train_d);
	ck_assert_uint_eq(d->nuses, 2);
	ck_assert_str_eq(d->uses[0].run, run);
	ck_assert_str_eq(d->uses[0].role, "data");
	ck_assert_str_eq(d->uses[0].kind, "train");
	ck_assert_str_eq(d->uses[0].model_name, "iris");
	ck_assert_int_eq(d->uses[0].model_version, version);
	ck_assert_str_eq(d->uses[1].role, "data2");
	mlctl_data_info_free(d);
	d = NULL;
	ck_assert_int_eq(mlctl_data_get(&d, reg, test_d), 0);
	ck_assert_str_eq(d->uses[0].role, "test_data");
	ck_assert(!d->stored);
	mlctl_data_info_free(d);
	/* Upper case works; not hex, unknown. */
	for (i = 0; i < 6; i++)
		prefix[i] = (char)(prefix[i] >= 'a' ? prefix[i] - 32 : prefix[i]);
	ck_assert_int_eq(mlctl_data_resolve(out, reg, prefix), 0);
	ck_assert_str_eq(out, train_d);
	ck_assert_int_eq(mlctl_data_get(&d, reg, "xyz"), MLCTL_EUSAGE);
	snprintf(prefix, sizeof(prefix), "%c%.5s", train_d[0] == 'f' ? 'e' : 'f', train_d + 1);
	if (strncmp(prefix, test_d, 6) != 0 && strncmp(prefix, other, 6) != 0)
		ck_assert_int_eq(mlctl_data_get(&d, reg, prefix), MLCTL_ENOTFOUND);
	/* Model references: that version's training data. */
	ck_assert_int_eq(mlctl_alias_set(reg, "iris", "production", version, NULL), 0);
	ck_assert_int_eq(mlctl_data_resolve(out, reg, "iris@production"), 0);
	ck_assert_str_eq(out, train_d);
	ck_assert_int_eq(mlctl_data_resolve(out, reg, "iris:1"), 0);
	ck_assert_str_eq(out, train_d);
	ck_assert_int_eq(mlctl_data_resolve(out, reg, "iris:9"), MLCTL_ENOTFOUND);
	ck_assert_int_eq(mlctl_data_resolve(out, reg, "nosuchmodel"), MLCTL_ENOTFOUND);
	/* Not stored: checkout says so. */
	ck_assert_int_eq(mlctl_data_checkout(reg, test_d, tmp_path("t.csv"), false, NULL), MLCTL_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "--store-data"));
}
END_TEST

/* An ambiguous prefix names the candidates. */
START_TEST(test_data_ambiguous_prefix)
{
	char run[MLCTL_RUN_ID_SIZE], d[65], buf[16], first[65] = "";
	mlctl_run_start_options ro = MLCTL_RUN_START_OPTIONS_INIT;
	mlctl_data_info *info = NULL;
	int i, n = 0;

	ro.kind = "predict";
	ck_assert_int_eq(mlctl_run_start(run, reg, &ro), 0);
	/* 40 digests: two share a first hex digit for sure. */
	for (i = 0; i < 40; i++) {
		snprintf(buf, sizeof(buf), "rows %d", i);
		hash_buf_hex(d, buf, strlen(buf));
		snprintf(buf, sizeof(buf), "in%d", i);
		ck_assert_int_eq(mlctl_dataset_record(reg, d, buf, "csv", 1, 1), 0);
		if (!first[0] || d[0] == first[0]) {
			if (!first[0])
				memcpy(first, d, 65);
			n++;
		}
	}
	buf[0] = first[0];
	buf[1] = '\0';
	ck_assert_int_eq(mlctl_data_get(&info, reg, buf), n > 1 ? MLCTL_EAMBIGUOUS : 0);
	mlctl_data_info_free(info);
	ck_assert_int_eq(mlctl_data_get(&info, reg, first), 0);
	mlctl_data_info_free(info);
}
END_TEST

static void set_mtime(const char *path, time_t sec, long nsec)
{
	struct timespec ts[2] = { { sec, nsec }, { sec, nsec } };

	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* The cache: hit while the stat stands; a touch re-hashes once, same digest; a change of
 * content and size re-hashes; the key is the absolute path. */
START_TEST(test_file_digest_cache)
{
	const char *p = write_tmp("train.csv", "a,b\n1,2\n");
	char d1[65], d2[65], want[65], cwd[4096];
	time_t past = time(NULL) - 1000;
	bool hashed;
	size_t size;
	FILE *f;

	set_mtime(p, past, 123456789);
	ck_assert_int_eq(hash_file_hex(want, &size, p), 0);
	ck_assert_int_eq(mlctl_file_digest_ex(d1, &hashed, reg, p), 0);
	ck_assert(hashed);
	ck_assert_str_eq(d1, want);
	ck_assert_int_eq(mlctl_file_digest_ex(d2, &hashed, reg, p), 0);
	ck_assert(!hashed);
	ck_assert_str_eq(d2, want);
	/* Through another name of the same file (relative, with ..). */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(test_tmpdir), 0);
	ck_assert_int_eq(mlctl_file_digest_ex(d2, &hashed, reg, test_tmpdir), MLCTL_EUSAGE); /* a directory */
	ck_assert_int_eq(mkdir("sub", 0700), 0);
	ck_assert_int_eq(mlctl_file_digest_ex(d2, &hashed, reg, "sub/../train.csv"), 0);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert(!hashed);
	/* touch: only the mtime (by a nanosecond) changes: hashed once, same digest. */
	set_mtime(p, past, 123456790);
	ck_assert_int_eq(mlctl_file_digest_ex(d2, &hashed, reg, p), 0);
	ck_assert(hashed);
	ck_assert_str_eq(d2, want);
	ck_assert_int_eq(mlctl_file_digest_ex(d2, &hashed, reg, p), 0);
	ck_assert(!hashed);
	/* New rows: a new digest. */
	f = fopen(p, "a");
	fputs("3,4\n", f);
	fclose(f);
	set_mtime(p, past, 123456790);
	ck_assert_int_eq(mlctl_file_digest_ex(d2, &hashed, reg, p), 0);
	ck_assert(hashed);
	ck_assert_int_eq(hash_file_hex(want, &size, p), 0);
	ck_assert_str_eq(d2, want);
	ck_assert_str_ne(d1, d2);
	ck_assert_int_eq(mlctl_file_digest(d2, reg, p), 0);
	ck_assert_str_eq(d2, want);
	/* Missing. */
	ck_assert_int_eq(mlctl_file_digest(d2, reg, tmp_path("gone.csv")), MLCTL_ENOTFOUND);
}
END_TEST

/* A file whose mtime is not older than the moment it was hashed (here: ahead of the clock)
 * may change again in the same tick without its stat showing it: never served from the
 * cache. Once it is old, it is hashed one more time and then cached. */
START_TEST(test_file_digest_racy)
{
	const char *p = write_tmp("new.csv", "x\n1\n");
	char d[65];
	bool hashed;
	int i;

	set_mtime(p, time(NULL) + 3600, 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(mlctl_file_digest_ex(d, &hashed, reg, p), 0);
		ck_assert(hashed);
	}
	/* Rewritten in place, same size, same mtime: the cache must not have kept the old digest. */
	write_tmp("new.csv", "x\n2\n");
	set_mtime(p, time(NULL) + 3600, 0);
	ck_assert_int_eq(mlctl_file_digest_ex(d, &hashed, reg, p), 0);
	ck_assert(hashed);
	{
		char want[65];

		hash_buf_hex(want, "x\n2\n", 4);
		ck_assert_str_eq(d, want);
	}
	set_mtime(p, time(NULL) - 100, 0);
	ck_assert_int_eq(mlctl_file_digest_ex(d, &hashed, reg, p), 0);
	ck_assert(hashed);
	ck_assert_int_eq(mlctl_file_digest_ex(d, &hashed, reg, p), 0);
	ck_assert(!hashed);
}
END_TEST

/* A read-only registry hashes and records nothing. */
START_TEST(test_file_digest_readonly)
{
	const char *p = write_tmp("ro.csv", "q\n");
	mlctl_registry *ro = NULL;
	char d[65];
	bool hashed;

	set_mtime(p, time(NULL) - 100, 0);
	ck_assert_int_eq(mlctl_registry_open_mode(&ro, regdir, MLCTL_REGISTRY_READONLY), 0);
	ck_assert_int_eq(mlctl_file_digest_ex(d, &hashed, ro, p), 0);
	ck_assert(hashed);
	ck_assert_int_eq(mlctl_file_digest_ex(d, &hashed, ro, p), 0);
	ck_assert(hashed);
	mlctl_registry_free(ro);
}
END_TEST

/* Eight processes hash the same and their own files at once, many times: no "database is
 * locked", every digest right. */
START_TEST(test_file_digest_concurrent)
{
	enum { NPROC = 8, ROUNDS = 40 };
	char want[65], name[32];
	pid_t pids[NPROC];
	size_t size;
	int i, status;

	write_tmp("shared.csv", "shared,data\n1,2\n");
	ck_assert_int_eq(hash_file_hex(want, &size, tmp_path("shared.csv")), 0);
	for (i = 0; i < NPROC; i++) {
		snprintf(name, sizeof(name), "own%d.csv", i);
		write_tmp(name, name);
	}
	for (i = 0; i < NPROC; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			mlctl_registry *r;
			char d[65], own[65], path[600];
			int k;

			alarm(60);
			if (mlctl_registry_open(&r, regdir) != 0)
				_exit(2);
			snprintf(path, sizeof(path), "%s/own%d.csv", test_tmpdir, i);
			for (k = 0; k < ROUNDS; k++) {
				struct timespec ts[2] = { { time(NULL) - 100 - k, 0 }, { time(NULL) - 100 - k, 0 } };

				/* Each round a new mtime of its own file: a write to the cache. */
				utimensat(AT_FDCWD, path, ts, 0);
				if (mlctl_file_digest(d, r, tmp_path("shared.csv")) != 0 || strcmp(d, want) != 0)
					_exit(3);
				if (mlctl_file_digest(own, r, path) != 0)
					_exit(4);
			}
			mlctl_registry_free(r);
			_exit(0);
		}
	}
	for (i = 0; i < NPROC; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status %d", i, status);
	}
}
END_TEST

/* A registry of schema 1 (before the digest cache) opens, migrates to 2 and caches. */
START_TEST(test_data_schema1_upgrade)
{
	const char *p = write_tmp("old.csv", "a\n1\n");
	char d[65];
	bool hashed;
	sqlite3 *db;
	sqlite3_stmt *st;
	char path[600];

	mlctl_registry_free(reg);
	reg = NULL;
	sql("DROP TABLE file_digests; PRAGMA user_version = 1");
	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	snprintf(path, sizeof(path), "%s/registry.db", regdir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 2);
	sqlite3_finalize(st);
	sqlite3_close(db);
	set_mtime(p, time(NULL) - 100, 0);
	ck_assert_int_eq(mlctl_file_digest_ex(d, &hashed, reg, p), 0);
	ck_assert(hashed);
	ck_assert_int_eq(mlctl_file_digest_ex(d, &hashed, reg, p), 0);
	ck_assert(!hashed);
	/* Opened read-only, a schema-1 registry that can be written is migrated first. */
	mlctl_registry_free(reg);
	reg = NULL;
	sql("DROP TABLE file_digests; PRAGMA user_version = 1");
	ck_assert_int_eq(mlctl_registry_open_mode(&reg, regdir, MLCTL_REGISTRY_READONLY), 0);
	ck_assert(mlctl_registry_readonly(reg));
	ck_assert_int_eq(mlctl_file_digest_ex(d, &hashed, reg, p), 0);
	mlctl_registry_free(reg);
	reg = NULL;
	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
}
END_TEST

static Suite *data_suite(void)
{
	Suite *s = suite_create("data");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, data_setup, data_teardown);
	tcase_add_test(tc, test_data_store_round_trip);
	tcase_add_test(tc, test_data_store_empty_and_missing);
	tcase_add_test(tc, test_data_checkout_damaged);
	tcase_add_test(tc, test_data_store_killed);
	tcase_add_test(tc, test_data_store_streams);
	tcase_add_test(tc, test_data_list_show_resolve);
	tcase_add_test(tc, test_data_ambiguous_prefix);
	tcase_add_test(tc, test_file_digest_cache);
	tcase_add_test(tc, test_file_digest_racy);
	tcase_add_test(tc, test_file_digest_readonly);
	tcase_add_test(tc, test_file_digest_concurrent);
	tcase_add_test(tc, test_data_schema1_upgrade);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(data_suite)
