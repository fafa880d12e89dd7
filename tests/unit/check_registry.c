/*
 * check_registry.c — the registry: init, open and discovery; damaged, foreign and newer
 * databases; runs with params, metrics, tags and lineage; id prefixes; models, versions,
 * references, aliases and their history; targets and deployments; and the two promises
 * of the foundation: 16 processes writing at once never fail nor see "database is
 * locked", and a writer killed with SIGKILL mid-write leaves a sound registry with no
 * half-written run.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check_util.h"
#include "mlctl.h"
#include "util.h"

static mlctl_registry *reg;
static char regdir[512];

static void reg_setup(void)
{
	tmpdir_setup();
	snprintf(regdir, sizeof(regdir), "%s/.mlctl", test_tmpdir);
	if (mlctl_registry_init(regdir) != 0 || mlctl_registry_open(&reg, regdir) != 0)
		abort();
}

static void reg_teardown(void)
{
	mlctl_registry_free(reg);
	reg = NULL;
	tmpdir_teardown();
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A valid-looking digest made from a number. */
static void fake_digest(char out[65], unsigned n)
{
	snprintf(out, 65, "%064x", n);
}

static void start_run(char id[MLCTL_RUN_ID_SIZE], mlctl_registry *r, const char *kind, const char *name,
		      const char *parent)
{
	mlctl_run_start_options o = MLCTL_RUN_START_OPTIONS_INIT;

	o.kind = kind;
	o.name = name;
	o.parent = parent;
	ck_assert_int_eq(mlctl_run_start(id, r, &o), 0);
}

/* Register a version of name produced by run; returns the version. */
static int register_version(mlctl_registry *r, const char *name, const char *run, unsigned seed)
{
	mlctl_model_version spec;
	int version = -1;

	memset(&spec, 0, sizeof(spec));
	spec.name = (char *)name;
	snprintf(spec.run, sizeof(spec.run), "%s", run);
	fake_digest(spec.model_digest, seed * 3);
	fake_digest(spec.preprocess_digest, seed * 3 + 1);
	fake_digest(spec.profile_digest, seed * 3 + 2);
	spec.svm_type = "c_svc";
	spec.kernel = "rbf";
	ck_assert_msg(mlctl_model_register(&version, r, &spec) == 0, "%s", mlctl_error_last()->message);
	return version;
}

/* Run one SQL statement on a registry.db directly (to simulate other writers). */
static void raw_sql(const char *dbpath, const char *sql)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* ---- init, open, discovery ---- */

START_TEST(test_registry_init_creates_layout)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/registry.db", regdir);
	ck_assert_int_eq(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/objects", regdir);
	ck_assert(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	snprintf(path, sizeof(path), "%s/targets", regdir);
	ck_assert(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	ck_assert_str_eq(mlctl_registry_path(reg), regdir);
	ck_assert_int_eq(mlctl_registry_check(reg), 0);
	/* A second init leaves the registry alone and says so. */
	ck_assert_int_eq(mlctl_registry_init(regdir), MLCTL_EEXISTS);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "exists"));
}
END_TEST

START_TEST(test_registry_init_wal_and_version)
{
	char path[600];
	sqlite3 *db;
	sqlite3_stmt *st;

	snprintf(path, sizeof(path), "%s/registry.db", regdir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), MLCTL_REGISTRY_SCHEMA);
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

/* Transactions nest: a caller's transaction takes the library's own writes in, and a
 * rollback leaves none of them, the model version included. */
START_TEST(test_registry_nested_transaction)
{
	mlctl_run_start_options o = MLCTL_RUN_START_OPTIONS_INIT;
	mlctl_model_version spec, *mv = NULL;
	mlctl_run *run = NULL;
	char id[MLCTL_RUN_ID_SIZE];
	int version;

	o.kind = "train";
	ck_assert_int_eq(mlctl_run_start(id, reg, &o), 0);
	memset(&spec, 0, sizeof(spec));
	spec.name = "nested";
	snprintf(spec.run, sizeof(spec.run), "%s", id);
	memset(spec.model_digest, 'a', 64);
	memset(spec.preprocess_digest, 'b', 64);
	ck_assert_int_eq(mlctl_registry_begin(reg), 0);
	ck_assert_int_eq(mlctl_run_log_object(reg, id, "output", "model", spec.model_digest), 0);
	ck_assert_int_eq(mlctl_run_log_metric(reg, id, "accuracy", 0.9, 0), 0);
	ck_assert_int_eq(mlctl_model_register(&version, reg, &spec), 0);
	ck_assert_int_eq(mlctl_run_finish(reg, id, NULL), 0);
	mlctl_registry_rollback(reg);
	ck_assert_int_eq(mlctl_model_resolve(&mv, reg, "nested"), MLCTL_ENOTFOUND);
	ck_assert_int_eq(mlctl_run_get(&run, reg, id), 0);
	ck_assert_uint_eq(run->nobjects, 0);
	ck_assert_uint_eq(run->nmetrics, 0);
	ck_assert_int_ne(run->status, MLCTL_RUN_SUCCEEDED);
	mlctl_run_free(run);
	/* The same, committed: all of it. */
	ck_assert_int_eq(mlctl_registry_begin(reg), 0);
	ck_assert_int_eq(mlctl_run_log_object(reg, id, "output", "model", spec.model_digest), 0);
	ck_assert_int_eq(mlctl_model_register(&version, reg, &spec), 0);
	ck_assert_int_eq(mlctl_run_finish(reg, id, NULL), 0);
	ck_assert_int_eq(mlctl_registry_commit(reg), 0);
	ck_assert_int_eq(mlctl_model_resolve(&mv, reg, "nested"), 0);
	ck_assert_int_eq(mv->version, 1);
	mlctl_model_version_free(mv);
	ck_assert_int_eq(mlctl_run_get(&run, reg, id), 0);
	ck_assert_uint_eq(run->nobjects, 1);
	ck_assert_int_eq(run->status, MLCTL_RUN_SUCCEEDED);
	mlctl_run_free(run);
}
END_TEST

/* A registry opened read-only reads, and refuses writes saying why. */
START_TEST(test_registry_open_readonly)
{
	mlctl_run_start_options o = MLCTL_RUN_START_OPTIONS_INIT;
	mlctl_run_list *l = NULL;
	mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;
	mlctl_registry *ro = NULL;
	char id[MLCTL_RUN_ID_SIZE], id2[MLCTL_RUN_ID_SIZE];

	o.kind = "train";
	ck_assert_int_eq(mlctl_run_start(id, reg, &o), 0);
	ck_assert_int_eq(mlctl_registry_open_mode(&ro, regdir, MLCTL_REGISTRY_READONLY), 0);
	ck_assert(mlctl_registry_readonly(ro));
	ck_assert(!mlctl_registry_readonly(reg));
	ck_assert_int_eq(mlctl_run_list_get(&l, ro, &f), 0);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_str_eq(l->runs[0]->id, id);
	mlctl_run_list_free(l);
	ck_assert_int_eq(mlctl_run_start(id2, ro, &o), MLCTL_EIO);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "read-only"));
	mlctl_registry_free(ro);
	/* Where it can be written, the fallback mode writes. */
	ck_assert_int_eq(mlctl_registry_open_mode(&ro, regdir, MLCTL_REGISTRY_READWRITE_OR_READONLY), 0);
	ck_assert(!mlctl_registry_readonly(ro));
	mlctl_registry_free(ro);
}
END_TEST

START_TEST(test_registry_open_without_db)
{
	mlctl_registry *r = NULL;
	int ret;

	ret = mlctl_registry_open(&r, tmp_path("nothing-here"));
	ck_assert_int_eq(ret, MLCTL_ENOREGISTRY);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "mlctl init"));
	ck_assert_int_eq(mlctl_exit_status(ret), 66);
}
END_TEST

START_TEST(test_registry_discover_explicit_and_env)
{
	char *out = NULL;

	setenv("MLCTL_REGISTRY", "/from/env", 1);
	ck_assert_int_eq(mlctl_registry_discover(&out, "/explicit/dir"), 0);
	ck_assert_str_eq(out, "/explicit/dir");
	free(out);
	ck_assert_int_eq(mlctl_registry_discover(&out, NULL), 0);
	ck_assert_str_eq(out, "/from/env");
	free(out);
	unsetenv("MLCTL_REGISTRY");
}
END_TEST

/* Discover from cwd, restoring the working directory afterwards (CK_FORK=no shares it). */
static int discover_from(char **out, const char *dir)
{
	char saved[4096];
	int ret;

	ck_assert_ptr_nonnull(getcwd(saved, sizeof(saved)));
	ck_assert_int_eq(chdir(dir), 0);
	ret = mlctl_registry_discover(out, NULL);
	ck_assert_int_eq(chdir(saved), 0);
	return ret;
}

START_TEST(test_registry_discover_upwards)
{
	char deep[600], mid[600], real[4096], want[4200], cmd[700], *out = NULL;

	unsetenv("MLCTL_REGISTRY");
	snprintf(deep, sizeof(deep), "%s/a/b/c", test_tmpdir);
	snprintf(mid, sizeof(mid), "%s/a", test_tmpdir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", deep);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_ptr_nonnull(realpath(test_tmpdir, real));
	/* The nearest .mlctl upwards: the fixture's, three levels up. */
	ck_assert_int_eq(discover_from(&out, deep), 0);
	snprintf(want, sizeof(want), "%s/.mlctl", real);
	ck_assert_str_eq(out, want);
	free(out);
	/* A nearer one wins. */
	snprintf(cmd, sizeof(cmd), "%s/.mlctl", mid);
	ck_assert_int_eq(mlctl_registry_init(cmd), 0);
	ck_assert_int_eq(discover_from(&out, deep), 0);
	snprintf(want, sizeof(want), "%s/a/.mlctl", real);
	ck_assert_str_eq(out, want);
	free(out);
	/* An empty $MLCTL_REGISTRY counts as unset. */
	setenv("MLCTL_REGISTRY", "", 1);
	ck_assert_int_eq(discover_from(&out, deep), 0);
	ck_assert_str_eq(out, want);
	free(out);
	unsetenv("MLCTL_REGISTRY");
}
END_TEST

START_TEST(test_registry_discover_none)
{
	char *out = (char *)"sentinel", cmd[1600];
	int ret;

	unsetenv("MLCTL_REGISTRY");
	/* The fixture's registry would be found: look from a sibling directory instead. */
	if (access("/tmp/.mlctl", F_OK) == 0 || access("/.mlctl", F_OK) == 0)
		return; /* a registry above /tmp: nothing to test here */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s/x/y'", regdir, test_tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	ret = discover_from(&out, tmp_path("x/y"));
	ck_assert_int_eq(ret, MLCTL_ENOREGISTRY);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "mlctl init"));
	ck_assert_int_eq(mlctl_exit_status(ret), 66);
}
END_TEST

/* ---- damaged, foreign and newer databases ---- */

START_TEST(test_registry_not_sqlite)
{
	mlctl_registry *r = NULL;
	char dir[600], db[700];
	int ret, fd;
	char junk[8192];

	snprintf(dir, sizeof(dir), "%s/junk", test_tmpdir);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(db, sizeof(db), "%s/registry.db", dir);
	memset(junk, 'x', sizeof(junk));
	memcpy(junk, "this is not a database\n", 23);
	fd = open(db, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	ret = mlctl_registry_open(&r, dir);
	ck_assert_int_eq(ret, MLCTL_ECORRUPT);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(mlctl_exit_status(ret), 74);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "registry.db"));
}
END_TEST

START_TEST(test_registry_truncated)
{
	char src[600], dir[600], dst[700], cmd[2000], id[MLCTL_RUN_ID_SIZE];
	mlctl_run_list *l = NULL;
	mlctl_registry *r = NULL;
	struct stat st;
	int i, ret;

	/* Enough rows for many pages, then close so the WAL is checkpointed away. */
	for (i = 0; i < 300; i++) {
		char key[32], val[200];

		start_run(id, reg, "train", "fill", NULL);
		snprintf(key, sizeof(key), "k%d", i);
		memset(val, 'v', sizeof(val) - 1);
		val[sizeof(val) - 1] = '\0';
		ck_assert_int_eq(mlctl_run_log_param(reg, id, key, val), 0);
	}
	mlctl_registry_free(reg);
	reg = NULL;
	snprintf(src, sizeof(src), "%s/registry.db", regdir);
	snprintf(dir, sizeof(dir), "%s/trunc", test_tmpdir);
	snprintf(dst, sizeof(dst), "%s/registry.db", dir);
	ck_assert_int_eq(stat(src, &st), 0);
	ck_assert_int_gt(st.st_size, 65536);
	snprintf(cmd, sizeof(cmd), "mkdir '%s' && cp '%s' '%s' && truncate -s %lld '%s'", dir, src, dst,
		 (long long)st.st_size / 2, dst);
	ck_assert_int_eq(system(cmd), 0);
	/* Open may notice, or the first full read or the integrity check does; whichever
	 * it is gives ECORRUPT with a message, and nothing crashes. */
	ret = mlctl_registry_open(&r, dir);
	if (ret == 0) {
		mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;

		ret = mlctl_registry_check(r);
		if (ret == 0)
			ret = mlctl_run_list_get(&l, r, &f);
		mlctl_run_list_free(l);
		mlctl_registry_free(r);
	}
	ck_assert_int_eq(ret, MLCTL_ECORRUPT);
	ck_assert_int_eq(mlctl_exit_status(ret), 74);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "registry.db"));
}
END_TEST

START_TEST(test_registry_newer_schema)
{
	mlctl_registry *r = NULL;
	char db[600];
	int ret;

	mlctl_registry_free(reg);
	reg = NULL;
	snprintf(db, sizeof(db), "%s/registry.db", regdir);
	raw_sql(db, "PRAGMA user_version = 99");
	ret = mlctl_registry_open(&r, regdir);
	ck_assert_int_eq(ret, MLCTL_ECONFIG);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(mlctl_exit_status(ret), 78);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "newer"));
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "99"));
}
END_TEST

START_TEST(test_registry_foreign_sqlite)
{
	mlctl_registry *r = NULL;
	char dir[600], db[700];
	int ret;

	snprintf(dir, sizeof(dir), "%s/foreign", test_tmpdir);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(db, sizeof(db), "%s/registry.db", dir);
	raw_sql(db, "PRAGMA application_id = 42; CREATE TABLE t (x)");
	ret = mlctl_registry_open(&r, dir);
	ck_assert_int_eq(ret, MLCTL_ECORRUPT);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "another application"));
}
END_TEST

/* ---- runs ---- */

START_TEST(test_registry_run_details)
{
	char id[MLCTL_RUN_ID_SIZE], digest[65];
	mlctl_kv kv[3] = { { "C", "1" }, { "gamma", "0.5" }, { "kernel", "rbf" } };
	mlctl_metric m[4] = { { "loss", 0.9, 0 }, { "loss", 0.5, 1 }, { "loss", 0.25, 2 }, { "accuracy", 0.875, 0 } };
	char *argv[] = { "mlctl", "train", "iris.csv" };
	mlctl_run_start_options o = MLCTL_RUN_START_OPTIONS_INIT;
	mlctl_run *run = NULL;
	double v;

	o.kind = "train";
	o.name = "iris";
	o.argc = 3;
	o.argv = argv;
	ck_assert_int_eq(mlctl_run_start(id, reg, &o), 0);
	ck_assert_uint_eq(strlen(id), 26);
	ck_assert_int_eq(mlctl_run_log_params(reg, id, kv, 3), 0);
	ck_assert_int_eq(mlctl_run_log_param(reg, id, "C", "8"), 0); /* replaces */
	ck_assert_int_eq(mlctl_run_log_metrics(reg, id, m, 4), 0);
	ck_assert_int_eq(mlctl_run_log_metric(reg, id, "f1", 0.75, 0), 0);
	ck_assert_int_eq(mlctl_run_set_tag(reg, id, "owner", "ada"), 0);
	ck_assert_int_eq(mlctl_store_put(digest, reg, "hello", 5, "text/plain"), 0);
	ck_assert_int_eq(mlctl_run_log_object(reg, id, "input", "data", digest), 0);
	ck_assert_int_eq(mlctl_run_log_object(reg, id, "output", "model",
					      "1111111111111111111111111111111111111111111111111111111111111111"), 0);
	ck_assert_int_eq(mlctl_run_set_verdict(reg, id, "pass"), 0);

	ck_assert_int_eq(mlctl_run_get(&run, reg, id), 0);
	ck_assert_str_eq(run->id, id);
	ck_assert_str_eq(run->kind, "train");
	ck_assert_str_eq(run->name, "iris");
	ck_assert_ptr_null(run->parent);
	ck_assert_int_eq(run->status, MLCTL_RUN_RUNNING);
	ck_assert_int_eq(run->pid, (int)getpid());
	ck_assert_int_eq(run->ended_ms, 0);
	ck_assert_str_eq(run->argv, "mlctl train iris.csv");
	ck_assert_str_eq(run->version, mlctl_version());
	ck_assert_str_eq(run->user, mlctl_username());
	ck_assert_str_eq(run->verdict, "pass");
	ck_assert_uint_eq(run->nparams, 3);
	ck_assert_str_eq(mlctl_run_param(run, "C"), "8");
	ck_assert_str_eq(mlctl_run_param(run, "kernel"), "rbf");
	ck_assert_ptr_null(mlctl_run_param(run, "nu"));
	ck_assert_uint_eq(run->nmetrics, 5);
	ck_assert(mlctl_run_metric(run, "loss", &v));
	ck_assert(v == 0.25); /* the highest step */
	ck_assert(mlctl_run_metric(run, "accuracy", &v) && v == 0.875);
	ck_assert(!mlctl_run_metric(run, "auc", &v));
	ck_assert_str_eq(mlctl_run_tag(run, "owner"), "ada");
	ck_assert_uint_eq(run->nobjects, 2);
	ck_assert_str_eq(run->objects[0].role, "input");
	ck_assert_str_eq(run->objects[0].digest, digest);
	ck_assert_int_eq(run->objects[0].size, 5);
	ck_assert_str_eq(run->objects[0].media_type, "text/plain");
	ck_assert_int_eq(run->objects[1].size, -1); /* not in the store */
	mlctl_run_free(run);

	ck_assert_int_eq(mlctl_run_finish(reg, id, NULL), 0);
	ck_assert_int_eq(mlctl_run_get(&run, reg, id), 0);
	ck_assert_int_eq(run->status, MLCTL_RUN_SUCCEEDED);
	ck_assert_int_ge(run->ended_ms, run->started_ms);
	ck_assert_ptr_null(run->error);
	mlctl_run_free(run);
}
END_TEST

START_TEST(test_registry_run_failed_and_children)
{
	char parent[MLCTL_RUN_ID_SIZE], child[MLCTL_RUN_ID_SIZE], other[MLCTL_RUN_ID_SIZE];
	mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;
	mlctl_run_list *l = NULL;
	mlctl_run *run = NULL;
	int i;

	start_run(parent, reg, "train", "grid", NULL);
	for (i = 0; i < 3; i++)
		start_run(child, reg, "tune", "point", parent);
	start_run(other, reg, "validate", "check", NULL);
	ck_assert_int_eq(mlctl_run_finish(reg, other, "gate accuracy>=0.9 failed"), 0);
	ck_assert_int_eq(mlctl_run_get(&run, reg, other), 0);
	ck_assert_int_eq(run->status, MLCTL_RUN_FAILED);
	ck_assert_str_eq(run->error, "gate accuracy>=0.9 failed");
	ck_assert_str_eq(mlctl_run_status_name(run->status), "failed");
	mlctl_run_free(run);
	ck_assert_int_eq(mlctl_run_get(&run, reg, parent), 0);
	ck_assert_uint_eq(run->nchildren, 3);
	mlctl_run_free(run);
	ck_assert_int_eq(mlctl_run_get(&run, reg, child), 0);
	ck_assert_str_eq(run->parent, parent);
	mlctl_run_free(run);

	/* Everything, newest first. */
	ck_assert_int_eq(mlctl_run_list_get(&l, reg, &f), 0);
	ck_assert_uint_eq(l->n, 5);
	for (i = 1; i < 5; i++)
		ck_assert_int_gt(strcmp(l->runs[i - 1]->id, l->runs[i]->id), 0);
	mlctl_run_list_free(l);
	f.top_level = true;
	ck_assert_int_eq(mlctl_run_list_get(&l, reg, &f), 0);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_str_eq(l->runs[0]->id, other);
	ck_assert_str_eq(l->runs[1]->id, parent);
	mlctl_run_list_free(l);
	f.top_level = false;
	f.parent = parent;
	ck_assert_int_eq(mlctl_run_list_get(&l, reg, &f), 0);
	ck_assert_uint_eq(l->n, 3);
	mlctl_run_list_free(l);
	f.parent = NULL;
	f.kind = "validate";
	ck_assert_int_eq(mlctl_run_list_get(&l, reg, &f), 0);
	ck_assert_uint_eq(l->n, 1);
	mlctl_run_list_free(l);
	f.kind = NULL;
	f.limit = 2;
	ck_assert_int_eq(mlctl_run_list_get(&l, reg, &f), 0);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_str_eq(l->runs[0]->id, other);
	mlctl_run_list_free(l);
}
END_TEST

START_TEST(test_registry_run_prefix)
{
	char ids[3][MLCTL_RUN_ID_SIZE], out[MLCTL_RUN_ID_SIZE], prefix[MLCTL_RUN_ID_SIZE], lower[MLCTL_RUN_ID_SIZE];
	size_t i, common = 0;
	int ret;

	for (i = 0; i < 3; i++) {
		start_run(ids[i], reg, "train", NULL, NULL);
		sleep_ms(2);
	}
	/* Time-sortable: later ids sort after earlier ones. */
	ck_assert_int_lt(strcmp(ids[0], ids[1]), 0);
	ck_assert_int_lt(strcmp(ids[1], ids[2]), 0);
	/* The shortest prefix of ids[2] that no other id shares resolves to it. */
	for (i = 0; i < 2; i++) {
		size_t k = 0;

		while (ids[i][k] == ids[2][k])
			k++;
		if (k > common)
			common = k;
	}
	snprintf(prefix, sizeof(prefix), "%.*s", (int)common + 1, ids[2]);
	ck_assert_int_eq(mlctl_run_resolve(out, reg, prefix), 0);
	ck_assert_str_eq(out, ids[2]);
	/* Lowercase is accepted. */
	for (i = 0; ids[2][i]; i++)
		lower[i] = (char)((ids[2][i] >= 'A' && ids[2][i] <= 'Z') ? ids[2][i] - 'A' + 'a' : ids[2][i]);
	lower[i] = '\0';
	ck_assert_int_eq(mlctl_run_resolve(out, reg, lower), 0);
	ck_assert_str_eq(out, ids[2]);
	lower[common + 1] = '\0';
	ck_assert_int_eq(mlctl_run_resolve(out, reg, lower), 0);
	ck_assert_str_eq(out, ids[2]);
	/* A prefix all three share is ambiguous, and the message names the candidates. */
	snprintf(prefix, sizeof(prefix), "%.1s", ids[0]);
	ret = mlctl_run_resolve(out, reg, prefix);
	ck_assert_int_eq(ret, MLCTL_EAMBIGUOUS);
	ck_assert_int_eq(mlctl_exit_status(ret), 64);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, ids[0]));
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, ids[2]));
	/* Unknown, empty, too long and non-base32 prefixes are not found. */
	ck_assert_int_eq(mlctl_run_resolve(out, reg, "ZZZZZZ"), MLCTL_ENOTFOUND);
	ck_assert_int_eq(mlctl_run_resolve(out, reg, ""), MLCTL_ENOTFOUND);
	ck_assert_int_eq(mlctl_run_resolve(out, reg, "0123456789012345678901234567"), MLCTL_ENOTFOUND);
	ck_assert_int_eq(mlctl_run_resolve(out, reg, "01-J"), MLCTL_ENOTFOUND);
	ck_assert_int_eq(mlctl_run_resolve(out, reg, "0%"), MLCTL_ENOTFOUND);
	ck_assert_int_eq(mlctl_run_resolve(out, reg, "0_"), MLCTL_ENOTFOUND);
}
END_TEST

START_TEST(test_registry_run_stale)
{
	char id[MLCTL_RUN_ID_SIZE], live[MLCTL_RUN_ID_SIZE];
	mlctl_run *run = NULL;
	int status;
	pid_t pid;

	/* A child process starts a run and dies without finishing it. */
	mlctl_registry_free(reg);
	reg = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		mlctl_registry *r = NULL;
		char cid[MLCTL_RUN_ID_SIZE];
		mlctl_run_start_options o = MLCTL_RUN_START_OPTIONS_INIT;
		int bad;

		o.kind = "train";
		o.name = "doomed";
		/* Never finished; the connection is closed only to keep valgrind quiet. */
		bad = mlctl_registry_open(&r, regdir) || mlctl_run_start(cid, r, &o);
		mlctl_registry_free(r);
		_exit(bad ? 1 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	start_run(live, reg, "train", "alive", NULL);
	{
		mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;
		mlctl_run_list *l = NULL;

		f.name = "doomed";
		ck_assert_int_eq(mlctl_run_list_get(&l, reg, &f), 0);
		ck_assert_uint_eq(l->n, 1);
		ck_assert_int_eq(l->runs[0]->status, MLCTL_RUN_STALE);
		snprintf(id, sizeof(id), "%s", l->runs[0]->id);
		mlctl_run_list_free(l);
	}
	ck_assert_int_eq(mlctl_run_get(&run, reg, id), 0);
	ck_assert_int_eq(run->status, MLCTL_RUN_STALE);
	ck_assert_str_eq(mlctl_run_status_name(run->status), "stale");
	mlctl_run_free(run);
	/* Our own running run is alive. */
	ck_assert_int_eq(mlctl_run_get(&run, reg, live), 0);
	ck_assert_int_eq(run->status, MLCTL_RUN_RUNNING);
	mlctl_run_free(run);
}
END_TEST

/* ---- models, references, aliases ---- */

START_TEST(test_registry_model_versions)
{
	char runs[4][MLCTL_RUN_ID_SIZE];
	mlctl_model_versions *vs = NULL;
	mlctl_model_list *ml = NULL;
	mlctl_model_version spec;
	mlctl_run *run = NULL;
	int i, v;

	for (i = 0; i < 4; i++)
		start_run(runs[i], reg, "train", "churn", NULL);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(register_version(reg, "churn", runs[i], (unsigned)i + 1), i + 1);
	ck_assert_int_eq(register_version(reg, "iris", runs[3], 9), 1);
	/* The producing run is linked to its version. */
	ck_assert_int_eq(mlctl_run_get(&run, reg, runs[1]), 0);
	ck_assert_str_eq(run->model_name, "churn");
	ck_assert_int_eq(run->model_version, 2);
	mlctl_run_free(run);
	/* Bad names are refused before anything is written. */
	memset(&spec, 0, sizeof(spec));
	spec.name = "-churn";
	snprintf(spec.run, sizeof(spec.run), "%s", runs[0]);
	ck_assert_int_eq(mlctl_model_register(&v, reg, &spec), MLCTL_EUSAGE);
	spec.name = "churn/2";
	ck_assert_int_eq(mlctl_model_register(&v, reg, &spec), MLCTL_EUSAGE);
	ck_assert(mlctl_name_valid("churn-v2.final_1"));
	ck_assert(!mlctl_name_valid(""));
	ck_assert(!mlctl_name_valid("a b"));
	ck_assert(!mlctl_name_valid("a@b"));
	ck_assert(!mlctl_name_valid("a:b"));

	ck_assert_int_eq(mlctl_alias_set(reg, "churn", "champion", 2, "best auc"), 0);
	ck_assert_int_eq(mlctl_model_list_get(&ml, reg), 0);
	ck_assert_uint_eq(ml->n, 2);
	ck_assert_str_eq(ml->models[0].name, "churn");
	ck_assert_int_eq(ml->models[0].latest, 3);
	ck_assert_int_eq(ml->models[0].nversions, 3);
	ck_assert_str_eq(ml->models[0].aliases, "champion=2");
	ck_assert_str_eq(ml->models[1].name, "iris");
	ck_assert_ptr_null(ml->models[1].aliases);
	mlctl_model_list_free(ml);

	ck_assert_int_eq(mlctl_model_versions_get(&vs, reg, "churn"), 0);
	ck_assert_uint_eq(vs->n, 3);
	ck_assert_int_eq(vs->v[0]->version, 3);
	ck_assert_int_eq(vs->v[2]->version, 1);
	ck_assert_str_eq(vs->v[1]->run, runs[1]);
	ck_assert_uint_eq(vs->v[1]->naliases, 1);
	ck_assert_str_eq(vs->v[1]->aliases[0], "champion");
	ck_assert_uint_eq(vs->v[0]->naliases, 0);
	mlctl_model_versions_free(vs);
	ck_assert_int_eq(mlctl_model_versions_get(&vs, reg, "nope"), MLCTL_ENOTFOUND);
	ck_assert_ptr_null(vs);
}
END_TEST

/* Resolve ref and check the version it names; returns the error code. */
static int resolve_version(const char *ref, int *version)
{
	mlctl_model_version *mv = NULL;
	int ret = mlctl_model_resolve(&mv, reg, ref);

	*version = ret ? -1 : mv->version;
	if (!ret)
		ck_assert_ptr_nonnull(mv->name);
	mlctl_model_version_free(mv);
	return ret;
}

START_TEST(test_registry_model_references)
{
	char runs[3][MLCTL_RUN_ID_SIZE], orphan[MLCTL_RUN_ID_SIZE], ref[64], lower[MLCTL_RUN_ID_SIZE];
	mlctl_model_version *mv = NULL;
	int i, v;

	for (i = 0; i < 3; i++) {
		start_run(runs[i], reg, "train", NULL, NULL);
		register_version(reg, "churn", runs[i], (unsigned)i + 1);
	}
	start_run(orphan, reg, "validate", NULL, NULL);
	ck_assert_int_eq(mlctl_alias_set(reg, "churn", "production", 2, NULL), 0);

	ck_assert_int_eq(resolve_version("churn", &v), 0);
	ck_assert_int_eq(v, 3);
	ck_assert_int_eq(resolve_version("churn:1", &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(resolve_version("churn@production", &v), 0);
	ck_assert_int_eq(v, 2);
	snprintf(ref, sizeof(ref), "run/%s", runs[0]);
	ck_assert_int_eq(mlctl_model_resolve(&mv, reg, ref), 0);
	ck_assert_str_eq(mv->name, "churn");
	ck_assert_int_eq(mv->version, 1);
	ck_assert_str_eq(mv->run, runs[0]);
	ck_assert_str_eq(mv->svm_type, "c_svc");
	ck_assert_uint_eq(strlen(mv->model_digest), 64);
	mlctl_model_version_free(mv);
	/* run/ takes a lowercase id too. */
	for (i = 0; runs[1][i]; i++)
		lower[i] = (char)((runs[1][i] >= 'A' && runs[1][i] <= 'Z') ? runs[1][i] - 'A' + 'a' : runs[1][i]);
	lower[i] = '\0';
	snprintf(ref, sizeof(ref), "run/%s", lower);
	ck_assert_int_eq(resolve_version(ref, &v), 0);
	ck_assert_int_eq(v, 2);

	/* Errors name what is missing. */
	ck_assert_int_eq(resolve_version("nope", &v), MLCTL_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "no model named nope"));
	ck_assert_int_eq(resolve_version("churn:9", &v), MLCTL_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "no version 9"));
	ck_assert_int_eq(resolve_version("churn@staging", &v), MLCTL_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "no alias @staging"));
	snprintf(ref, sizeof(ref), "run/%s", orphan);
	ck_assert_int_eq(resolve_version(ref, &v), MLCTL_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "registered no model"));
	ck_assert_int_eq(resolve_version("run/ZZZZZZZZ", &v), MLCTL_ENOTFOUND);
	ck_assert_int_eq(resolve_version("churn:0", &v), MLCTL_EUSAGE);
	ck_assert_int_eq(resolve_version("churn:x", &v), MLCTL_EUSAGE);
	ck_assert_int_eq(resolve_version("churn@", &v), MLCTL_EUSAGE);
	ck_assert_int_eq(resolve_version("@prod", &v), MLCTL_EUSAGE);
	ck_assert_int_eq(resolve_version("", &v), MLCTL_EUSAGE);

	/* Which strings are registry references and which are files. */
	ck_assert(mlctl_model_ref_is_registry("churn"));
	ck_assert(mlctl_model_ref_is_registry("churn:3"));
	ck_assert(mlctl_model_ref_is_registry("churn@production"));
	ck_assert(mlctl_model_ref_is_registry("run/01J0000000"));
	ck_assert(!mlctl_model_ref_is_registry("./churn-3.mlpkg"));
	ck_assert(!mlctl_model_ref_is_registry("churn-3.mlpkg"));
	ck_assert(!mlctl_model_ref_is_registry("/srv/models/churn"));
}
END_TEST

START_TEST(test_registry_alias_history)
{
	char runs[3][MLCTL_RUN_ID_SIZE];
	mlctl_alias_history *h = NULL;
	int i, v;
	int64_t before = mlctl_now_ms();

	for (i = 0; i < 3; i++) {
		start_run(runs[i], reg, "train", NULL, NULL);
		register_version(reg, "churn", runs[i], (unsigned)i + 1);
	}
	ck_assert_int_eq(mlctl_alias_set(reg, "churn", "champion", 1, "first model"), 0);
	ck_assert_int_eq(mlctl_alias_set(reg, "churn", "champion", 2, "better recall"), 0);
	ck_assert_int_eq(mlctl_alias_set(reg, "churn", "staging", 3, NULL), 0);
	ck_assert_int_eq(mlctl_alias_delete(reg, "churn", "champion"), 0);
	/* Refused moves change nothing. */
	ck_assert_int_eq(mlctl_alias_set(reg, "churn", "champion", 7, "typo"), MLCTL_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "no version 7"));
	ck_assert_int_eq(mlctl_alias_set(reg, "churn", "bad alias", 1, NULL), MLCTL_EUSAGE);
	ck_assert_int_eq(mlctl_alias_delete(reg, "churn", "champion"), MLCTL_ENOTFOUND);
	ck_assert_int_eq(resolve_version("churn@champion", &v), MLCTL_ENOTFOUND);
	ck_assert_int_eq(resolve_version("churn@staging", &v), 0);
	ck_assert_int_eq(v, 3);

	ck_assert_int_eq(mlctl_alias_history_get(&h, reg, "churn", NULL), 0);
	ck_assert_uint_eq(h->n, 4);
	ck_assert_str_eq(h->moves[0].alias, "champion");
	ck_assert_int_eq(h->moves[0].from_version, 0);
	ck_assert_int_eq(h->moves[0].to_version, 1);
	ck_assert_str_eq(h->moves[0].reason, "first model");
	ck_assert_str_eq(h->moves[0].user, mlctl_username());
	ck_assert_str_eq(h->moves[0].host, mlctl_hostname());
	ck_assert_int_ge(h->moves[0].time_ms, before);
	ck_assert_int_eq(h->moves[1].from_version, 1);
	ck_assert_int_eq(h->moves[1].to_version, 2);
	ck_assert_str_eq(h->moves[1].reason, "better recall");
	ck_assert_str_eq(h->moves[2].alias, "staging");
	ck_assert_ptr_null(h->moves[2].reason);
	ck_assert_int_eq(h->moves[3].from_version, 2);
	ck_assert_int_eq(h->moves[3].to_version, 0);
	ck_assert_str_eq(h->moves[3].reason, "deleted");
	for (i = 1; i < 4; i++)
		ck_assert_int_ge(h->moves[i].time_ms, h->moves[i - 1].time_ms);
	mlctl_alias_history_free(h);
	ck_assert_int_eq(mlctl_alias_history_get(&h, reg, "churn", "staging"), 0);
	ck_assert_uint_eq(h->n, 1);
	mlctl_alias_history_free(h);
	ck_assert_int_eq(mlctl_alias_history_get(&h, reg, "other", NULL), 0);
	ck_assert_uint_eq(h->n, 0);
	mlctl_alias_history_free(h);
}
END_TEST

START_TEST(test_registry_deployments)
{
	char runs[2][MLCTL_RUN_ID_SIZE], *path = NULL;
	mlctl_deployment_list *l = NULL;
	mlctl_alias_history *h = NULL;
	mlctl_deployment d;
	int i, v;

	for (i = 0; i < 2; i++) {
		start_run(runs[i], reg, "train", NULL, NULL);
		register_version(reg, "churn", runs[i], (unsigned)i + 1);
	}
	ck_assert_int_eq(mlctl_target_path(&path, reg, "prod"), MLCTL_ENOTFOUND);
	ck_assert_int_eq(mlctl_target_set(reg, "prod", "/srv/prod"), 0);
	ck_assert_int_eq(mlctl_target_set(reg, "prod", "/srv/prod2"), 0);
	ck_assert_int_eq(mlctl_target_set(reg, "bad/name", "/x"), MLCTL_EUSAGE);
	ck_assert_int_eq(mlctl_target_path(&path, reg, "prod"), 0);
	ck_assert_str_eq(path, "/srv/prod2");
	free(path);

	memset(&d, 0, sizeof(d));
	d.target = "prod";
	d.name = "churn";
	d.version = 2;
	fake_digest(d.package_digest, 77);
	d.release = "churn-2-000000";
	d.action = "deploy";
	ck_assert_int_eq(mlctl_deployment_record(reg, &d), 0);
	ck_assert_int_gt(d.id, 0);
	ck_assert_int_eq(resolve_version("churn@prod", &v), 0);
	ck_assert_int_eq(v, 2);
	d.version = 1;
	d.release = "churn-1-000000";
	d.action = "rollback";
	ck_assert_int_eq(mlctl_deployment_record(reg, &d), 0);
	ck_assert_int_eq(resolve_version("churn@prod", &v), 0);
	ck_assert_int_eq(v, 1);
	/* A package from elsewhere (a version this registry never saw) moves no alias. */
	d.target = "edge";
	d.name = "foreign";
	d.version = 4;
	d.action = "deploy";
	ck_assert_int_eq(mlctl_deployment_record(reg, &d), 0);
	ck_assert_int_eq(resolve_version("foreign@edge", &v), MLCTL_ENOTFOUND);

	ck_assert_int_eq(mlctl_alias_history_get(&h, reg, "churn", "prod"), 0);
	ck_assert_uint_eq(h->n, 2);
	ck_assert_int_eq(h->moves[0].from_version, 0);
	ck_assert_int_eq(h->moves[0].to_version, 2);
	ck_assert_str_eq(h->moves[0].reason, "deploy");
	ck_assert_int_eq(h->moves[1].from_version, 2);
	ck_assert_int_eq(h->moves[1].to_version, 1);
	ck_assert_str_eq(h->moves[1].reason, "rollback");
	mlctl_alias_history_free(h);

	ck_assert_int_eq(mlctl_deployment_list_get(&l, reg, "prod"), 0);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_str_eq(l->d[0].action, "rollback");
	ck_assert_int_eq(l->d[0].version, 1);
	ck_assert_str_eq(l->d[1].action, "deploy");
	ck_assert_str_eq(l->d[1].user, mlctl_username());
	mlctl_deployment_list_free(l);
	ck_assert_int_eq(mlctl_deployment_list_get(&l, reg, NULL), 0);
	ck_assert_uint_eq(l->n, 2); /* the latest of edge and of prod */
	ck_assert_str_eq(l->d[0].target, "edge");
	ck_assert_str_eq(l->d[1].target, "prod");
	ck_assert_str_eq(l->d[1].action, "rollback");
	mlctl_deployment_list_free(l);
}
END_TEST

START_TEST(test_registry_dataset_record)
{
	char digest[65];

	fake_digest(digest, 5);
	ck_assert_int_eq(mlctl_dataset_record(reg, digest, "iris.csv", "csv", 150, 5), 0);
	/* Seeing the same content again under another path is not an error. */
	ck_assert_int_eq(mlctl_dataset_record(reg, digest, "copy/iris.csv", "csv", 150, 5), 0);
}
END_TEST

/* ---- many writers at once ---- */

#define NWRITERS 16
#define RUNS_PER_WRITER 50
#define REGISTER_EVERY 10

/* One writer: RUNS_PER_WRITER runs, each with params, metrics over steps and a tag;
 * every REGISTER_EVERY-th registers a version of "shared" and moves its alias. Exits 0, 2
 * on "locked" (what must never happen), 1 on any other failure. */
static void stress_writer(int w)
{
	mlctl_registry *r = NULL;
	int i, ret = 0;

	if ((ret = mlctl_registry_open(&r, regdir)))
		goto out;
	for (i = 0; i < RUNS_PER_WRITER && !ret; i++) {
		char id[MLCTL_RUN_ID_SIZE], name[32], wbuf[16], ibuf[16];
		mlctl_run_start_options o = MLCTL_RUN_START_OPTIONS_INIT;
		mlctl_kv kv[5] = { { "writer", wbuf }, { "index", ibuf }, { "C", "1" }, { "gamma", "0.5" }, { "kernel", "rbf" } };
		mlctl_metric m[4] = { { "loss", 1.0 / (i + 1), 0 }, { "loss", 0.5 / (i + 1), 1 },
				      { "loss", 0.25 / (i + 1), 2 }, { "accuracy", (double)w, 0 } };

		snprintf(name, sizeof(name), "w%02d-r%03d", w, i);
		snprintf(wbuf, sizeof(wbuf), "%d", w);
		snprintf(ibuf, sizeof(ibuf), "%d", i);
		o.kind = "train";
		o.name = name;
		if ((ret = mlctl_run_start(id, r, &o)) || (ret = mlctl_run_log_params(r, id, kv, 5)) ||
		    (ret = mlctl_run_log_metrics(r, id, m, 4)) || (ret = mlctl_run_set_tag(r, id, "writer", wbuf)))
			break;
		if (i % REGISTER_EVERY == 0) {
			mlctl_model_version spec;
			int version;

			memset(&spec, 0, sizeof(spec));
			spec.name = "shared";
			snprintf(spec.run, sizeof(spec.run), "%s", id);
			fake_digest(spec.model_digest, (unsigned)(w * 1000 + i));
			fake_digest(spec.preprocess_digest, 1);
			fake_digest(spec.profile_digest, 2);
			if ((ret = mlctl_model_register(&version, r, &spec)) ||
			    (ret = mlctl_alias_set(r, "shared", "champion", version, name)))
				break;
		}
		ret = mlctl_run_finish(r, id, NULL);
	}
out:
	if (ret)
		fprintf(stderr, "writer %d: %s (%s)\n", w, mlctl_strerror(ret), mlctl_error_last()->message);
	mlctl_registry_free(r);
	if (ret == MLCTL_ELOCKED || strstr(mlctl_error_last()->message, "locked"))
		_exit(2);
	_exit(ret ? 1 : 0);
}

START_TEST(test_registry_concurrent_writers)
{
	mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;
	mlctl_alias_history *h = NULL;
	mlctl_model_versions *vs = NULL;
	mlctl_run_list *l = NULL;
	int counts[NWRITERS][RUNS_PER_WRITER];
	pid_t pids[NWRITERS];
	size_t i, nver = NWRITERS * RUNS_PER_WRITER / REGISTER_EVERY;
	int w, status, v;

	/* No connection may cross a fork. */
	mlctl_registry_free(reg);
	reg = NULL;
	for (w = 0; w < NWRITERS; w++) {
		pids[w] = fork();
		ck_assert_int_ge(pids[w], 0);
		if (pids[w] == 0)
			stress_writer(w);
	}
	for (w = 0; w < NWRITERS; w++) {
		ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
		ck_assert_msg(WIFEXITED(status), "writer %d was killed by signal %d", w, WTERMSIG(status));
		ck_assert_msg(WEXITSTATUS(status) != 2, "writer %d saw 'database is locked'", w);
		ck_assert_msg(WEXITSTATUS(status) == 0, "writer %d failed (exit %d)", w, WEXITSTATUS(status));
	}

	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	ck_assert_int_eq(mlctl_registry_check(reg), 0);
	/* Every run, with every param, metric step and tag. */
	memset(counts, 0, sizeof(counts));
	ck_assert_int_eq(mlctl_run_list_get(&l, reg, &f), 0);
	ck_assert_uint_eq(l->n, NWRITERS * RUNS_PER_WRITER);
	for (i = 0; i < l->n; i++) {
		mlctl_run *run = NULL;
		int wr, idx;
		double loss;

		ck_assert_int_eq(mlctl_run_get(&run, reg, l->runs[i]->id), 0);
		ck_assert_int_eq(run->status, MLCTL_RUN_SUCCEEDED);
		ck_assert_int_eq(sscanf(run->name, "w%d-r%d", &wr, &idx), 2);
		ck_assert(wr >= 0 && wr < NWRITERS && idx >= 0 && idx < RUNS_PER_WRITER);
		counts[wr][idx]++;
		ck_assert_uint_eq(run->nparams, 5);
		ck_assert_int_eq((int)strtol(mlctl_run_param(run, "writer"), NULL, 10), wr);
		ck_assert_int_eq((int)strtol(mlctl_run_param(run, "index"), NULL, 10), idx);
		ck_assert_uint_eq(run->nmetrics, 4);
		ck_assert(mlctl_run_metric(run, "loss", &loss));
		ck_assert(loss == 0.25 / (idx + 1));
		ck_assert_str_eq(mlctl_run_tag(run, "writer"), mlctl_run_param(run, "writer"));
		if (idx % REGISTER_EVERY == 0) {
			ck_assert_str_eq(run->model_name, "shared");
			ck_assert_int_ge(run->model_version, 1);
		} else {
			ck_assert_ptr_null(run->model_name);
		}
		mlctl_run_free(run);
	}
	mlctl_run_list_free(l);
	for (w = 0; w < NWRITERS; w++)
		for (v = 0; v < RUNS_PER_WRITER; v++)
			ck_assert_msg(counts[w][v] == 1, "run w%02d-r%03d recorded %d times", w, v, counts[w][v]);

	/* Versions 1..N, no gap, no duplicate, each from a distinct run. */
	ck_assert_int_eq(mlctl_model_versions_get(&vs, reg, "shared"), 0);
	ck_assert_uint_eq(vs->n, nver);
	for (i = 0; i < vs->n; i++) {
		ck_assert_int_eq(vs->v[i]->version, (int)(nver - i));
		if (i)
			ck_assert_str_ne(vs->v[i]->run, vs->v[i - 1]->run);
	}
	mlctl_model_versions_free(vs);
	/* The alias history is one unbroken chain: each move starts where the last ended. */
	ck_assert_int_eq(mlctl_alias_history_get(&h, reg, "shared", "champion"), 0);
	ck_assert_uint_eq(h->n, nver);
	ck_assert_int_eq(h->moves[0].from_version, 0);
	for (i = 1; i < h->n; i++)
		ck_assert_int_eq(h->moves[i].from_version, h->moves[i - 1].to_version);
	ck_assert_int_eq(resolve_version("shared@champion", &v), 0);
	ck_assert_int_eq(v, h->moves[h->n - 1].to_version);
	mlctl_alias_history_free(h);
}
END_TEST

/* ---- SIGKILL in the middle of writing ---- */

#define KILL_ROUNDS 30
#define KILL_PARAMS 10

/* Write runs with KILL_PARAMS params each (one transaction) until killed. Writes one
 * byte to fd once the registry is open. */
static void doomed_writer(int fd)
{
	mlctl_registry *r = NULL;
	mlctl_kv kv[KILL_PARAMS];
	char keys[KILL_PARAMS][8];
	int i;

	if (mlctl_registry_open(&r, regdir))
		_exit(1);
	for (i = 0; i < KILL_PARAMS; i++) {
		snprintf(keys[i], sizeof(keys[i]), "p%d", i);
		kv[i].key = keys[i];
		kv[i].value = "some value that takes a little room in the page";
	}
	if (write(fd, "x", 1) != 1)
		_exit(1);
	for (;;) {
		char id[MLCTL_RUN_ID_SIZE];
		mlctl_run_start_options o = MLCTL_RUN_START_OPTIONS_INIT;

		o.kind = "train";
		o.name = "doomed";
		if (mlctl_run_start(id, r, &o) || mlctl_run_log_params(r, id, kv, KILL_PARAMS) ||
		    mlctl_run_log_metric(r, id, "loss", 0.5, 0) || mlctl_run_finish(r, id, NULL))
			_exit(1);
	}
}

START_TEST(test_registry_kill9_no_half_run)
{
	mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;
	mlctl_run_list *l = NULL;
	size_t i, stale = 0, done = 0;
	char id[MLCTL_RUN_ID_SIZE];
	int round, status;

	mlctl_registry_free(reg);
	reg = NULL;
	srand((unsigned)getpid());
	for (round = 0; round < KILL_ROUNDS; round++) {
		int fds[2];
		char c;
		pid_t pid;

		ck_assert_int_eq(pipe(fds), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(fds[0]);
			doomed_writer(fds[1]);
		}
		close(fds[1]);
		ck_assert_int_eq(read(fds[0], &c, 1), 1);
		close(fds[0]);
		sleep_ms(1 + rand() % 30);
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		/* Killed, not failed on its own. */
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "round %d: writer exited by itself", round);
	}

	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	ck_assert_msg(mlctl_registry_check(reg) == 0, "%s", mlctl_error_last()->message);
	ck_assert_int_eq(mlctl_run_list_get(&l, reg, &f), 0);
	ck_assert_uint_gt(l->n, 0);
	for (i = 0; i < l->n; i++) {
		mlctl_run *run = NULL;

		ck_assert_int_eq(mlctl_run_get(&run, reg, l->runs[i]->id), 0);
		ck_assert_msg(run->nparams == 0 || run->nparams == KILL_PARAMS, "run %s has %zu params", run->id,
			      run->nparams);
		if (run->status == MLCTL_RUN_SUCCEEDED) {
			ck_assert_uint_eq(run->nparams, KILL_PARAMS);
			ck_assert_uint_eq(run->nmetrics, 1);
			done++;
		} else {
			/* Every writer is dead: an unfinished run is stale, never "running". */
			ck_assert_int_eq(run->status, MLCTL_RUN_STALE);
			ck_assert_int_eq(l->runs[i]->status, MLCTL_RUN_STALE);
			stale++;
		}
		mlctl_run_free(run);
	}
	mlctl_run_list_free(l);
	ck_assert_uint_gt(stale, 0);
	ck_assert_uint_gt(done, 0);
	/* And the registry takes writes again at once. */
	start_run(id, reg, "train", "after", NULL);
	ck_assert_int_eq(mlctl_run_finish(reg, id, NULL), 0);
}
END_TEST

static Suite *registry_suite(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("core");
	TCase *stress = tcase_create("stress");

	tcase_add_checked_fixture(tc, reg_setup, reg_teardown);
	tcase_add_test(tc, test_registry_init_creates_layout);
	tcase_add_test(tc, test_registry_init_wal_and_version);
	tcase_add_test(tc, test_registry_open_without_db);
	tcase_add_test(tc, test_registry_nested_transaction);
	tcase_add_test(tc, test_registry_open_readonly);
	tcase_add_test(tc, test_registry_discover_explicit_and_env);
	tcase_add_test(tc, test_registry_discover_upwards);
	tcase_add_test(tc, test_registry_discover_none);
	tcase_add_test(tc, test_registry_not_sqlite);
	tcase_add_test(tc, test_registry_truncated);
	tcase_add_test(tc, test_registry_newer_schema);
	tcase_add_test(tc, test_registry_foreign_sqlite);
	tcase_add_test(tc, test_registry_run_details);
	tcase_add_test(tc, test_registry_run_failed_and_children);
	tcase_add_test(tc, test_registry_run_prefix);
	tcase_add_test(tc, test_registry_run_stale);
	tcase_add_test(tc, test_registry_model_versions);
	tcase_add_test(tc, test_registry_model_references);
	tcase_add_test(tc, test_registry_alias_history);
	tcase_add_test(tc, test_registry_deployments);
	tcase_add_test(tc, test_registry_dataset_record);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(stress, reg_setup, reg_teardown);
	tcase_add_test(stress, test_registry_concurrent_writers);
	tcase_add_test(stress, test_registry_kill9_no_half_run);
	tcase_set_timeout(stress, 600);
	suite_add_tcase(s, stress);
	return s;
}

CHECK_MAIN(registry_suite)
