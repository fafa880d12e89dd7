/*
 * check_store.c — the content-addressed store and gc: round trips, one file per content,
 * read-only files named by their SHA-256 (checked against sha256sum), damage detected on
 * read, and gc removing exactly what nothing references (run lineage, model versions and
 * so anything aliased, deployments), sparing young objects, doing nothing with dry_run and
 * tolerating files deleted by hand.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
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

static void store_setup(void)
{
	tmpdir_setup();
	snprintf(regdir, sizeof(regdir), "%s/.mlctl", test_tmpdir);
	if (mlctl_registry_init(regdir) != 0 || mlctl_registry_open(&reg, regdir) != 0)
		abort();
}

static void store_teardown(void)
{
	mlctl_registry_free(reg);
	reg = NULL;
	tmpdir_teardown();
}

/* Regular files under objects/ (temp files included, the store's .lock not), counted
 * recursively. */
static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[1200];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || strcmp(e->d_name, ".lock") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			n += count_files(path);
		else
			n++;
	}
	closedir(d);
	return n;
}

static int nobjects_on_disk(void)
{
	char dir[600];

	snprintf(dir, sizeof(dir), "%s/objects", regdir);
	return count_files(dir);
}

/* Rows in the objects table for digest (or all rows with NULL). */
static int objects_rows(const char *digest)
{
	char db[600];
	sqlite3 *h;
	sqlite3_stmt *st;
	int n;

	snprintf(db, sizeof(db), "%s/registry.db", regdir);
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, digest ? "SELECT count(*) FROM objects WHERE digest = ?" :
					    "SELECT count(*) FROM objects", -1, &st, NULL), SQLITE_OK);
	if (digest)
		sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

/* Put a small text object; returns its digest in out. */
static void put_text(char out[65], const char *text)
{
	ck_assert_msg(mlctl_store_put(out, reg, text, strlen(text), "text/plain") == 0, "%s",
		      mlctl_error_last()->message);
}

/* Make an object's file look old (for the grace period). */
static void age_object(const char *digest, long seconds)
{
	char *path = mlctl_store_path(reg, digest);
	struct timeval tv[2];

	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= seconds;
	tv[1] = tv[0];
	ck_assert_int_eq(utimes(path, tv), 0);
	free(path);
}

static bool gc_removed(const mlctl_gc_result *r, const char *digest)
{
	size_t i;

	for (i = 0; i < r->ndigests; i++)
		if (strcmp(r->digests[i], digest) == 0)
			return true;
	return false;
}

START_TEST(test_store_round_trip)
{
	static const char bin[] = { 'a', 0, 'b', '\n', (char)0xff, 0 };
	char d1[65], d2[65], *out = NULL;
	size_t len = 0;

	put_text(d1, "hello store\n");
	ck_assert_uint_eq(strlen(d1), 64);
	ck_assert(mlctl_store_has(reg, d1));
	ck_assert_int_eq(mlctl_store_get(&out, &len, reg, d1), 0);
	ck_assert_uint_eq(len, 12);
	ck_assert_str_eq(out, "hello store\n");
	free(out);
	/* Binary content, with NULs, comes back byte for byte and NUL-terminated. */
	ck_assert_int_eq(mlctl_store_put(d2, reg, bin, sizeof(bin), NULL), 0);
	ck_assert_str_ne(d1, d2);
	ck_assert_int_eq(mlctl_store_get(&out, &len, reg, d2), 0);
	ck_assert_uint_eq(len, sizeof(bin));
	ck_assert_int_eq(memcmp(out, bin, sizeof(bin)), 0);
	ck_assert_int_eq(out[len], '\0');
	free(out);
	/* The empty object too. */
	ck_assert_int_eq(mlctl_store_put(d2, reg, "", 0, NULL), 0);
	ck_assert_str_eq(d2, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ck_assert_int_eq(mlctl_store_get(&out, &len, reg, d2), 0);
	ck_assert_uint_eq(len, 0);
	free(out);
}
END_TEST

START_TEST(test_store_dedup)
{
	char d1[65], d2[65], d3[65];
	const char *src;

	put_text(d1, "same content");
	put_text(d2, "same content");
	ck_assert_str_eq(d1, d2);
	ck_assert_int_eq(nobjects_on_disk(), 1);
	ck_assert_int_eq(objects_rows(NULL), 1);
	/* A file with the same content is the same object. */
	src = write_tmp("src.txt", "same content");
	ck_assert_int_eq(mlctl_store_put_file(d3, reg, src, "text/plain"), 0);
	ck_assert_str_eq(d3, d1);
	ck_assert_int_eq(nobjects_on_disk(), 1);
	ck_assert_int_eq(objects_rows(d1), 1);
}
END_TEST

START_TEST(test_store_file_named_by_sha256)
{
	char digest[65], cmd[1200], line[256], *path, *want;
	const char *src;
	struct stat st;
	FILE *p;

	/* A real file (iris.csv when the data is there) streamed into the store. */
	src = data_path("iris.csv");
	if (access(src, R_OK) != 0)
		src = write_tmp("data.csv", "a,b\n1,2\n3,4\n");
	ck_assert_int_eq(mlctl_store_put_file(digest, reg, src, "text/csv"), 0);
	path = mlctl_store_path(reg, digest);
	want = mlctl_asprintf("%s/objects/%.2s/%s", regdir, digest, digest + 2);
	ck_assert_str_eq(path, want);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0222, 0); /* read-only */
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
	pclose(p);
	ck_assert_int_eq(strncmp(line, digest, 64), 0);
	/* And the source file hashes the same. */
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", src);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
	pclose(p);
	ck_assert_int_eq(strncmp(line, digest, 64), 0);
	/* No temp file is left behind. */
	ck_assert_int_eq(nobjects_on_disk(), 1);
	free(path);
	free(want);
}
END_TEST

START_TEST(test_store_corrupted_object)
{
	char digest[65], *path, *out = NULL;
	size_t len;
	FILE *f;
	int ret;

	put_text(digest, "precious model bytes");
	path = mlctl_store_path(reg, digest);
	ck_assert_int_eq(chmod(path, 0644), 0);
	f = fopen(path, "r+");
	ck_assert_ptr_nonnull(f);
	fputc('P', f); /* one flipped byte */
	fclose(f);
	ret = mlctl_store_get(&out, &len, reg, digest);
	ck_assert_int_eq(ret, MLCTL_ECORRUPT);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(mlctl_exit_status(ret), 74);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "damaged"));
	/* A missing object is damage too, not "not found": the registry promised it. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert(!mlctl_store_has(reg, digest));
	ck_assert_int_eq(mlctl_store_get(&out, &len, reg, digest), MLCTL_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "missing"));
	/* Not a digest at all. */
	ck_assert_int_eq(mlctl_store_get(&out, &len, reg, "../../etc/passwd"), MLCTL_EUSAGE);
	free(path);
}
END_TEST

/* Feed a FIFO: once with first, and, if it is opened again, with second. */
static pid_t fifo_writer(const char *fifo, const char *first, const char *second)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd;

		alarm(10);
		fd = open(fifo, O_WRONLY);
		if (fd < 0 || write(fd, first, strlen(first)) < 0)
			_exit(1);
		close(fd);
		/* Let the first reader see the end of the data (no writer left) first. */
		sleep(1);
		fd = open(fifo, O_WRONLY); /* blocks until a second read opens it */
		if (fd < 0 || write(fd, second, strlen(second)) < 0)
			_exit(1);
		close(fd);
		_exit(0);
	}
	return pid;
}

/*
 * put_file reads its source once, hashing what it copies: the object is named by the
 * bytes stored. A FIFO shows it: a second read (hashing, then copying) would get other
 * bytes, and the object would not match its name.
 */
START_TEST(test_store_put_file_reads_once)
{
	const char *first = "the bytes that were read\n", *second = "other bytes, read a second time\n";
	char digest[65], want[65], *fifo, *out = NULL;
	size_t len = 0;
	pid_t pid;
	int ret;

	fifo = mlctl_strdup(tmp_path("input.fifo"));
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	pid = fifo_writer(fifo, first, second);
	ret = mlctl_store_put_file(digest, reg, fifo, "text/plain");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ck_assert_msg(ret == 0, "%s", mlctl_error_last()->message);
	hash_buf_hex(want, first, strlen(first));
	ck_assert_str_eq(digest, want);
	ck_assert_msg(mlctl_store_get(&out, &len, reg, digest) == 0, "%s", mlctl_error_last()->message);
	ck_assert_str_eq(out, first);
	ck_assert_int_eq(objects_rows(digest), 1);
	ck_assert_int_eq(nobjects_on_disk(), 1); /* no temp file left */
	free(out);
	free(fifo);
}
END_TEST

/* A put of an object that exists refreshes its mtime, so a grace-period gc keeps it. */
START_TEST(test_store_put_refreshes_mtime)
{
	mlctl_gc_options o = MLCTL_GC_OPTIONS_INIT;
	mlctl_gc_result *r = NULL;
	char d[65], d2[65], *path;
	const char *src;
	struct stat st;

	put_text(d, "an old orphan");
	age_object(d, 7200);
	put_text(d, "an old orphan"); /* stored again: young again */
	path = mlctl_store_path(reg, d);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_lt(time(NULL) - st.st_mtime, 60);
	age_object(d, 7200);
	src = write_tmp("orphan.txt", "an old orphan");
	ck_assert_int_eq(mlctl_store_put_file(d2, reg, src, "text/plain"), 0);
	ck_assert_str_eq(d2, d);
	ck_assert_int_eq(mlctl_gc(&r, reg, &o), 0);
	ck_assert_uint_eq(r->young, 1);
	ck_assert_uint_eq(r->removed, 0);
	mlctl_gc_result_free(r);
	ck_assert(mlctl_store_has(reg, d));
	free(path);
}
END_TEST

START_TEST(test_store_put_file_missing)
{
	char digest[65];

	ck_assert_int_ne(mlctl_store_put_file(digest, reg, tmp_path("no-such-file"), NULL), 0);
	ck_assert_int_eq(nobjects_on_disk(), 0);
}
END_TEST

/*
 * A registry where objects are referenced every way gc knows, plus two unreferenced ones.
 * digests: 0 run input, 1 run output, 2 model, 3 preprocess, 4 profile, 5 package
 * (deployed), 6 and 7 unreferenced.
 */
static void gc_world(char d[8][65])
{
	static const char *const texts[8] = {
		"training data", "grid log", "libsvm model", "preprocess.yaml", "profile.yaml",
		"package.mlpkg", "orphan one", "orphan two, a little longer"
	};
	mlctl_run_start_options o = MLCTL_RUN_START_OPTIONS_INIT;
	char run[MLCTL_RUN_ID_SIZE];
	mlctl_model_version spec;
	mlctl_deployment dep;
	int i, version;

	for (i = 0; i < 8; i++)
		put_text(d[i], texts[i]);
	o.kind = "train";
	ck_assert_int_eq(mlctl_run_start(run, reg, &o), 0);
	ck_assert_int_eq(mlctl_run_log_object(reg, run, "input", "data", d[0]), 0);
	ck_assert_int_eq(mlctl_run_log_object(reg, run, "output", "log", d[1]), 0);
	memset(&spec, 0, sizeof(spec));
	spec.name = "churn";
	snprintf(spec.run, sizeof(spec.run), "%s", run);
	memcpy(spec.model_digest, d[2], 65);
	memcpy(spec.preprocess_digest, d[3], 65);
	memcpy(spec.profile_digest, d[4], 65);
	ck_assert_int_eq(mlctl_model_register(&version, reg, &spec), 0);
	ck_assert_int_eq(mlctl_alias_set(reg, "churn", "champion", version, NULL), 0);
	memset(&dep, 0, sizeof(dep));
	dep.target = "prod";
	dep.name = "churn";
	dep.version = version;
	memcpy(dep.package_digest, d[5], 65);
	dep.release = "churn-1";
	dep.action = "deploy";
	ck_assert_int_eq(mlctl_deployment_record(reg, &dep), 0);
	ck_assert_int_eq(nobjects_on_disk(), 8);
}

START_TEST(test_store_gc_removes_only_unreferenced)
{
	mlctl_gc_options o = MLCTL_GC_OPTIONS_INIT;
	mlctl_gc_result *r = NULL;
	char d[8][65];
	int i;

	gc_world(d);
	o.grace_seconds = 0;
	ck_assert_int_eq(mlctl_gc(&r, reg, &o), 0);
	ck_assert_uint_eq(r->objects, 8);
	ck_assert_uint_eq(r->referenced, 6);
	ck_assert_uint_eq(r->young, 0);
	ck_assert_uint_eq(r->removed, 2);
	ck_assert_uint_eq(r->ndigests, 2);
	ck_assert_uint_eq(r->bytes_removed, strlen("orphan one") + strlen("orphan two, a little longer"));
	ck_assert_uint_eq(r->missing, 0);
	ck_assert(gc_removed(r, d[6]) && gc_removed(r, d[7]));
	mlctl_gc_result_free(r);
	for (i = 0; i < 6; i++) {
		char *out = NULL;
		size_t len;

		ck_assert_msg(mlctl_store_get(&out, &len, reg, d[i]) == 0, "object %d lost: %s", i,
			      mlctl_error_last()->message);
		free(out);
	}
	ck_assert(!mlctl_store_has(reg, d[6]) && !mlctl_store_has(reg, d[7]));
	ck_assert_int_eq(objects_rows(d[6]), 0);
	ck_assert_int_eq(objects_rows(NULL), 6);
	ck_assert_int_eq(nobjects_on_disk(), 6);
	/* A second pass finds nothing to do. */
	ck_assert_int_eq(mlctl_gc(&r, reg, &o), 0);
	ck_assert_uint_eq(r->objects, 6);
	ck_assert_uint_eq(r->removed, 0);
	mlctl_gc_result_free(r);
}
END_TEST

/*
 * Grace 0 means no grace at all, whatever the clocks say: a file system may stamp a file
 * ahead of a coarse time() (fine-grained timestamps; a file server whose clock runs
 * ahead), and "now - mtime < 0" must not make a just-written orphan young.
 */
START_TEST(test_store_gc_grace_zero_mtime_ahead)
{
	mlctl_gc_options o = MLCTL_GC_OPTIONS_INIT;
	mlctl_gc_result *r = NULL;
	char d[65];

	put_text(d, "an orphan stamped ahead of the clock");
	age_object(d, -5); /* five seconds in the future */
	o.grace_seconds = 0;
	ck_assert_int_eq(mlctl_gc(&r, reg, &o), 0);
	ck_assert_uint_eq(r->young, 0);
	ck_assert_uint_eq(r->removed, 1);
	ck_assert(gc_removed(r, d));
	mlctl_gc_result_free(r);
	ck_assert(!mlctl_store_has(reg, d));
	/* With a grace period, the same file is young. */
	put_text(d, "an orphan stamped ahead of the clock");
	age_object(d, -5);
	o.grace_seconds = 60;
	ck_assert_int_eq(mlctl_gc(&r, reg, &o), 0);
	ck_assert_uint_eq(r->young, 1);
	ck_assert_uint_eq(r->removed, 0);
	mlctl_gc_result_free(r);
}
END_TEST

/*
 * The store lock: a writer that stores an old orphan again holds the store from its put
 * until its reference is committed, and gc waits for it rather than removing the object
 * in between (the reference would dangle).
 */
START_TEST(test_store_gc_waits_for_writer)
{
	mlctl_gc_options o = MLCTL_GC_OPTIONS_INIT;
	mlctl_gc_result *r = NULL;
	char d[65], c;
	int sync[2], status;
	pid_t pid;

	put_text(d, "a deterministic model");
	age_object(d, 7200);
	mlctl_store_release(reg);
	ck_assert_int_eq(pipe(sync), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		mlctl_run_start_options ro = MLCTL_RUN_START_OPTIONS_INIT;
		char run[MLCTL_RUN_ID_SIZE], d2[65];
		mlctl_registry *w;

		ro.kind = "train";
		if (mlctl_registry_open(&w, regdir) || mlctl_run_start(run, w, &ro) ||
		    mlctl_store_put(d2, w, "a deterministic model", strlen("a deterministic model"), NULL))
			_exit(1);
		if (write(sync[1], "x", 1) != 1)
			_exit(1);
		sleep(1); /* the writer is slow to commit its reference */
		if (mlctl_run_log_object(w, run, "output", "model", d2))
			_exit(1);
		mlctl_store_release(w);
		mlctl_registry_free(w);
		_exit(0);
	}
	ck_assert_int_eq(read(sync[0], &c, 1), 1);
	o.grace_seconds = 0;
	ck_assert_msg(mlctl_gc(&r, reg, &o) == 0, "%s", mlctl_error_last()->message);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	ck_assert_uint_eq(r->removed, 0);
	ck_assert_uint_eq(r->referenced, 1);
	mlctl_gc_result_free(r);
	ck_assert(mlctl_store_has(reg, d));
	close(sync[0]);
	close(sync[1]);
}
END_TEST

START_TEST(test_store_gc_grace_and_dry_run)
{
	mlctl_gc_options o = MLCTL_GC_OPTIONS_INIT;
	mlctl_gc_result *r = NULL;
	char d[8][65];

	gc_world(d);
	/* With the default grace, fresh orphans stay: a writer may be about to reference them. */
	ck_assert_int_eq(o.grace_seconds, 3600);
	ck_assert_int_eq(mlctl_gc(&r, reg, NULL), 0);
	ck_assert_uint_eq(r->young, 2);
	ck_assert_uint_eq(r->removed, 0);
	mlctl_gc_result_free(r);
	ck_assert_int_eq(nobjects_on_disk(), 8);
	/* An orphan two hours old goes; the fresh one stays. */
	age_object(d[6], 7200);
	age_object(d[0], 7200); /* old but referenced */
	o.dry_run = true;
	ck_assert_int_eq(mlctl_gc(&r, reg, &o), 0);
	ck_assert_uint_eq(r->removed, 1);
	ck_assert_uint_eq(r->young, 1);
	ck_assert(gc_removed(r, d[6]));
	mlctl_gc_result_free(r);
	/* dry_run removed nothing, neither file nor row. */
	ck_assert_int_eq(nobjects_on_disk(), 8);
	ck_assert_int_eq(objects_rows(NULL), 8);
	o.dry_run = false;
	ck_assert_int_eq(mlctl_gc(&r, reg, &o), 0);
	ck_assert_uint_eq(r->removed, 1);
	ck_assert(gc_removed(r, d[6]));
	mlctl_gc_result_free(r);
	ck_assert(!mlctl_store_has(reg, d[6]));
	ck_assert(mlctl_store_has(reg, d[7]));
	ck_assert(mlctl_store_has(reg, d[0]));
}
END_TEST

START_TEST(test_store_gc_temp_files)
{
	mlctl_gc_options o = MLCTL_GC_OPTIONS_INIT;
	mlctl_gc_result *r = NULL;
	char d[65], old[1200], young[1200], *path;
	struct timeval tv[2];
	FILE *f;

	put_text(d, "anchor");
	path = mlctl_store_path(reg, d);
	/* Leftovers of interrupted puts in the same fan-out directory. */
	snprintf(old, sizeof(old), "%.*s/.%s.tmp.AAAAAA", (int)(strrchr(path, '/') - path), path, "deadbeef");
	snprintf(young, sizeof(young), "%.*s/.%s.tmp.BBBBBB", (int)(strrchr(path, '/') - path), path, "deadbeef");
	ck_assert_ptr_nonnull(f = fopen(old, "w"));
	fclose(f);
	ck_assert_ptr_nonnull(f = fopen(young, "w"));
	fclose(f);
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= 7200;
	tv[1] = tv[0];
	ck_assert_int_eq(utimes(old, tv), 0);
	ck_assert_int_eq(mlctl_gc(&r, reg, &o), 0);
	ck_assert_uint_eq(r->objects, 1); /* temp files are not objects */
	mlctl_gc_result_free(r);
	ck_assert_int_ne(access(old, F_OK), 0);
	ck_assert_int_eq(access(young, F_OK), 0);
	free(path);
}
END_TEST

START_TEST(test_store_gc_missing_files)
{
	mlctl_gc_options o = MLCTL_GC_OPTIONS_INIT;
	mlctl_gc_result *r = NULL;
	char d[8][65], *path;

	gc_world(d);
	/* Someone deletes a referenced object and an orphan by hand. */
	path = mlctl_store_path(reg, d[2]);
	ck_assert_int_eq(unlink(path), 0);
	free(path);
	path = mlctl_store_path(reg, d[7]);
	ck_assert_int_eq(unlink(path), 0);
	free(path);
	o.grace_seconds = 0;
	ck_assert_msg(mlctl_gc(&r, reg, &o) == 0, "%s", mlctl_error_last()->message);
	ck_assert_uint_eq(r->objects, 6);
	ck_assert_uint_eq(r->missing, 2);
	ck_assert_uint_eq(r->removed, 1);
	ck_assert(gc_removed(r, d[6]));
	mlctl_gc_result_free(r);
	/* The orphan's row is forgotten; the referenced one's stays, as evidence. */
	ck_assert_int_eq(objects_rows(d[7]), 0);
	ck_assert_int_eq(objects_rows(d[2]), 1);
	ck_assert(mlctl_store_has(reg, d[3]));
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, test_store_round_trip);
	tcase_add_test(tc, test_store_dedup);
	tcase_add_test(tc, test_store_file_named_by_sha256);
	tcase_add_test(tc, test_store_corrupted_object);
	tcase_add_test(tc, test_store_put_file_missing);
	tcase_add_test(tc, test_store_put_file_reads_once);
	tcase_add_test(tc, test_store_put_refreshes_mtime);
	tcase_add_test(tc, test_store_gc_removes_only_unreferenced);
	tcase_add_test(tc, test_store_gc_grace_zero_mtime_ahead);
	tcase_add_test(tc, test_store_gc_waits_for_writer);
	tcase_add_test(tc, test_store_gc_grace_and_dry_run);
	tcase_add_test(tc, test_store_gc_temp_files);
	tcase_add_test(tc, test_store_gc_missing_files);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(store_suite)
