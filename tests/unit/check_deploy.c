/*
 * check_deploy.c — mlctl_deploy(), mlctl_deploy_rollback() and mlctl_deploy_current()
 * through the public API on a fresh registry per test: deploy v1 and v2 to a target, the
 * current link, the alias NAME@TARGET and the deployments recorded; rollback to v1 and its
 * record; no rollback with nothing before; --require-validated refusing a version whose
 * validation failed or that has none; a package deployed into a registry that never saw
 * the model; a refused deploy creating no target (directory or row).
 */
#include <math.h>
#include <sys/stat.h>

#include "mlctl.h"
#include "check_util.h"

static mlctl_registry *reg;
static char regdir[512];

/* iris:1 (C=1) and iris:2 (C=10), both on the whole of iris. */
static void setup(void)
{
	static mlctl_kv svm1[] = { { "C", "1" }, { "gamma", "0.5" } };
	static mlctl_kv svm2[] = { { "C", "10" }, { "gamma", "0.25" } };

	tmpdir_setup();
	test_registry_open(&reg, NULL);
	snprintf(regdir, sizeof(regdir), "%s", mlctl_registry_path(reg));
	test_train(reg, "iris", data_path("iris.csv"), "species", svm1, 2);
	test_train(reg, "iris", data_path("iris.csv"), "species", svm2, 2);
}

static void teardown(void)
{
	mlctl_registry_free(reg);
	reg = NULL;
	tmpdir_teardown();
}

static void deploy_options(mlctl_deploy_options *o, const char *model, const char *target)
{
	memset(o, 0, sizeof(*o));
	o->model = model;
	o->target = target;
}

static mlctl_deploy_result *deploy(const char *model, const char *target)
{
	mlctl_deploy_options o;
	mlctl_deploy_result *r = NULL;

	deploy_options(&o, model, target);
	ck_assert_msg(mlctl_deploy(&r, reg, &o) == 0, "deploy %s to %s: %s", model, target, last_message());
	return r;
}

/* The version name@alias points at (0: none). */
static int alias_version(const char *ref)
{
	mlctl_model_version *v = NULL;
	int version;

	if (mlctl_model_resolve(&v, reg, ref) != 0)
		return 0;
	version = v->version;
	mlctl_model_version_free(v);
	return version;
}

static bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void expect_current(const char *target, const char *release)
{
	char *cur = NULL;

	ck_assert_int_eq(mlctl_deploy_current(&cur, reg, target), 0);
	ck_assert_ptr_nonnull(cur);
	ck_assert_str_eq(cur, release);
	free(cur);
}

START_TEST(test_deploy_and_status)
{
	mlctl_deploy_result *r1 = deploy("iris:1", "prod"), *r2, *again;
	mlctl_deployment_list *l = NULL;
	char path[1024], *text;
	struct stat st;

	snprintf(path, sizeof(path), "%s/targets/prod", regdir);
	ck_assert_str_eq(r1->target, "prod");
	ck_assert_str_eq(r1->path, path);
	ck_assert_str_eq(r1->model, "iris:1");
	ck_assert_ptr_null(r1->previous);
	ck_assert(!r1->unchanged);
	/* The release is named NAME-VERSION-DIGEST12 after its package. */
	ck_assert(strncmp(r1->release, "iris-1-", 7) == 0);
	ck_assert(strncmp(r1->release + 7, r1->package_digest, 12) == 0);
	expect_current("prod", r1->release);
	ck_assert_int_eq(alias_version("iris@prod"), 1);

	/* The release holds the package's files and its digest. */
	snprintf(path, sizeof(path), "%s/targets/prod/current/model/libsvm.model", regdir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	snprintf(path, sizeof(path), "%s/targets/prod/current/.package-sha256", regdir);
	text = read_all(path, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert(strncmp(text, r1->package_digest, 64) == 0);
	free(text);

	/* Status: the latest deployment of every target. */
	ck_assert_int_eq(mlctl_deployment_list_get(&l, reg, NULL), 0);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_str_eq(l->d[0].target, "prod");
	ck_assert_str_eq(l->d[0].name, "iris");
	ck_assert_int_eq(l->d[0].version, 1);
	ck_assert_str_eq(l->d[0].release, r1->release);
	ck_assert_str_eq(l->d[0].action, "deploy");
	ck_assert_str_eq(l->d[0].run, r1->run);
	mlctl_deployment_list_free(l);

	/* v2 replaces it; v2 again changes nothing. */
	r2 = deploy("iris:2", "prod");
	ck_assert_str_eq(r2->model, "iris:2");
	ck_assert_ptr_nonnull(r2->previous);
	ck_assert_str_eq(r2->previous, r1->release);
	ck_assert_str_ne(r2->release, r1->release);
	expect_current("prod", r2->release);
	ck_assert_int_eq(alias_version("iris@prod"), 2);
	again = deploy("iris:2", "prod");
	ck_assert(again->unchanged);
	expect_current("prod", r2->release);
	mlctl_deploy_result_free(r1);
	mlctl_deploy_result_free(r2);
	mlctl_deploy_result_free(again);
}
END_TEST

START_TEST(test_deploy_rollback)
{
	mlctl_deploy_result *r1 = deploy("iris:1", "prod"), *r2 = deploy("iris:2", "prod"), *rb = NULL;
	mlctl_deploy_options o;
	mlctl_deployment_list *l = NULL;
	mlctl_alias_history *h = NULL;

	deploy_options(&o, NULL, "prod");
	ck_assert_msg(mlctl_deploy_rollback(&rb, reg, &o) == 0, "%s", last_message());
	ck_assert_str_eq(rb->model, "iris:1");
	ck_assert_str_eq(rb->release, r1->release);
	ck_assert_str_eq(rb->previous, r2->release);
	expect_current("prod", r1->release);
	ck_assert_int_eq(alias_version("iris@prod"), 1);

	/* History: every switch, newest first. */
	ck_assert_int_eq(mlctl_deployment_list_get(&l, reg, "prod"), 0);
	ck_assert_uint_eq(l->n, 3);
	ck_assert_str_eq(l->d[0].action, "rollback");
	ck_assert_int_eq(l->d[0].version, 1);
	ck_assert_str_eq(l->d[0].release, r1->release);
	ck_assert_str_eq(l->d[1].action, "deploy");
	ck_assert_int_eq(l->d[1].version, 2);
	ck_assert_str_eq(l->d[2].action, "deploy");
	ck_assert_int_eq(l->d[2].version, 1);
	ck_assert(l->d[0].id > l->d[1].id && l->d[1].id > l->d[2].id);
	mlctl_deployment_list_free(l);

	/* The alias history follows: none -> 1 -> 2 -> 1. */
	ck_assert_int_eq(mlctl_alias_history_get(&h, reg, "iris", "prod"), 0);
	ck_assert_uint_eq(h->n, 3);
	ck_assert_int_eq(h->moves[0].from_version, 0);
	ck_assert_int_eq(h->moves[0].to_version, 1);
	ck_assert_int_eq(h->moves[1].from_version, 1);
	ck_assert_int_eq(h->moves[1].to_version, 2);
	ck_assert_int_eq(h->moves[2].from_version, 2);
	ck_assert_int_eq(h->moves[2].to_version, 1);
	ck_assert_str_eq(h->moves[2].reason, "rollback");
	mlctl_alias_history_free(h);
	mlctl_deploy_result_free(r1);
	mlctl_deploy_result_free(r2);
	mlctl_deploy_result_free(rb);
}
END_TEST

START_TEST(test_deploy_rollback_nothing_before)
{
	mlctl_deploy_result *r = deploy("iris:1", "solo"), *rb = NULL;
	mlctl_deploy_options o;
	char *cur = NULL;

	deploy_options(&o, NULL, "solo");
	ck_assert_int_eq(mlctl_deploy_rollback(&rb, reg, &o), MLCTL_EVERDICT);
	ck_assert_ptr_null(rb);
	ck_assert_ptr_nonnull(strstr(last_message(), "target solo has no previous release to roll back to"));
	expect_current("solo", r->release);
	deploy_options(&o, NULL, "nosuch");
	ck_assert_int_eq(mlctl_deploy_current(&cur, reg, "nosuch"), MLCTL_ENOTFOUND);
	ck_assert_ptr_null(cur);
	mlctl_deploy_result_free(r);
}
END_TEST

static void validate(const char *model, const char *gate, bool want_pass)
{
	const char *gates[] = { gate };
	mlctl_validate_options o;
	mlctl_validate_result *r = NULL;

	memset(&o, 0, sizeof(o));
	o.model = model;
	o.data = data_path("iris.csv");
	o.gates = gates;
	o.ngates = 1;
	o.max_drop = NAN;
	o.min_improvement = NAN;
	ck_assert_msg(mlctl_validate(&r, reg, &o) == 0, "%s", last_message());
	ck_assert_int_eq(r->pass, want_pass);
	mlctl_validate_result_free(r);
}

/* --require-validated: the newest validation of the version decides. */
START_TEST(test_deploy_require_validated)
{
	mlctl_deploy_options o;
	mlctl_deploy_result *r = NULL, *r1;
	mlctl_deployment_list *l = NULL;

	r1 = deploy("iris:1", "prod");
	deploy_options(&o, "iris:2", "prod");
	o.require_validated = true;
	ck_assert_int_eq(mlctl_deploy(&r, reg, &o), MLCTL_EVERDICT);
	ck_assert_msg(strstr(last_message(), "iris:2 has no passing validation"), "%s", last_message());

	validate("iris:2", "accuracy>1", false);
	ck_assert_int_eq(mlctl_deploy(&r, reg, &o), MLCTL_EVERDICT);
	ck_assert_msg(strstr(last_message(), "iris:2: its latest validation (run ") &&
			      strstr(last_message(), ") did not pass: not deploying"),
		      "%s", last_message());
	ck_assert_ptr_null(r);
	/* Refused: the target and the registry are as they were. */
	expect_current("prod", r1->release);
	ck_assert_int_eq(alias_version("iris@prod"), 1);
	ck_assert_int_eq(mlctl_deployment_list_get(&l, reg, "prod"), 0);
	ck_assert_uint_eq(l->n, 1);
	mlctl_deployment_list_free(l);

	/* A pass after the fail: deployed. Then a fail after a pass refuses again. */
	validate("iris:2", "accuracy>=0.9", true);
	ck_assert_msg(mlctl_deploy(&r, reg, &o) == 0, "%s", last_message());
	ck_assert_str_eq(r->model, "iris:2");
	mlctl_deploy_result_free(r);
	validate("iris:1", "accuracy>=0.9", true);
	validate("iris:1", "accuracy>1", false);
	deploy_options(&o, "iris:1", "staging");
	o.require_validated = true;
	ck_assert_int_eq(mlctl_deploy(&r, reg, &o), MLCTL_EVERDICT);
	mlctl_deploy_result_free(r1);
}
END_TEST

/* A package deployed into a registry that never saw the model teaches it the version. */
START_TEST(test_deploy_package_elsewhere)
{
	mlctl_package_options po = { 0 };
	mlctl_package_result *pr = NULL;
	mlctl_registry *other = NULL;
	mlctl_deploy_options o;
	mlctl_deploy_result *r = NULL;
	mlctl_model_version *v = NULL;
	char target[1024];

	po.model = "iris:2";
	po.output = tmp_file("iris-2.mlpkg");
	ck_assert_int_eq(mlctl_package(&pr, reg, &po), 0);
	test_registry_open(&other, "other");
	snprintf(target, sizeof(target), "%s", tmp_file("edge"));
	deploy_options(&o, tmp_file("iris-2.mlpkg"), "edge");
	o.path = target;
	ck_assert_msg(mlctl_deploy(&r, other, &o) == 0, "%s", last_message());
	ck_assert_str_eq(r->model, "iris:2");
	ck_assert_str_eq(r->path, target);
	ck_assert_str_eq(r->package_digest, pr->digest);
	ck_assert_int_eq(mlctl_model_resolve(&v, other, "iris@edge"), 0);
	ck_assert_int_eq(v->version, 2);
	mlctl_model_version_free(v);
	/* Only version 2 is known there. */
	ck_assert_int_eq(mlctl_model_resolve(&v, other, "iris:1"), MLCTL_ENOTFOUND);
	mlctl_deploy_result_free(r);

	/* Into the registry it came from: the version it knows, deployed. */
	deploy_options(&o, tmp_file("iris-2.mlpkg"), "prod");
	ck_assert_msg(mlctl_deploy(&r, reg, &o) == 0, "%s", last_message());
	ck_assert_str_eq(r->model, "iris:2");
	mlctl_deploy_result_free(r);
	mlctl_registry_free(other);
	mlctl_package_result_free(pr);
}
END_TEST

/* A registry whose iris:2 is another model refuses a package of "iris:2" from elsewhere:
 * the alias iris@TARGET would name what the target does not serve. */
START_TEST(test_deploy_package_other_model)
{
	static mlctl_kv svm[] = { { "C", "100" }, { "gamma", "0.1" } };
	mlctl_train_options t = MLCTL_TRAIN_OPTIONS_INIT;
	mlctl_train_result *tr = NULL;
	mlctl_package_options po = { 0 };
	mlctl_package_result *pr = NULL;
	mlctl_registry *other = NULL;
	mlctl_deploy_options o;
	mlctl_deploy_result *r = NULL;
	char *cur = NULL;
	int i;

	po.model = "iris:2";
	po.output = tmp_file("iris-2.mlpkg");
	ck_assert_int_eq(mlctl_package(&pr, reg, &po), 0);
	test_registry_open(&other, "other");
	t.data = data_path("iris.csv");
	t.name = "iris";
	t.label = "species";
	t.svm = svm;
	t.n_svm = 2;
	t.threads = 1;
	t.seed = 1;
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(mlctl_train(&tr, other, &t), 0);
		mlctl_train_result_free(tr);
	}
	deploy_options(&o, tmp_file("iris-2.mlpkg"), "edge");
	ck_assert_int_eq(mlctl_deploy(&r, other, &o), MLCTL_EVERDICT);
	ck_assert_msg(strstr(last_message(), "the package holds iris:2, but this registry's iris:2 is a different model"),
		      "%s", last_message());
	ck_assert_ptr_null(r);
	/* Refused before the target was created: no target, no directory. */
	ck_assert_int_eq(mlctl_deploy_current(&cur, other, "edge"), MLCTL_ENOTFOUND);
	ck_assert_ptr_null(cur);
	ck_assert(!path_exists(tmp_file("other/targets/edge")));
	mlctl_registry_free(other);
	mlctl_package_result_free(pr);
}
END_TEST

START_TEST(test_deploy_errors)
{
	mlctl_deploy_options o;
	mlctl_deploy_result *r = NULL;
	mlctl_deployment_list *l = NULL;
	char *cur = NULL;

	char dir[1024];

	deploy_options(&o, "iris:9", "prod");
	ck_assert_int_eq(mlctl_deploy(&r, reg, &o), MLCTL_ENOTFOUND);
	deploy_options(&o, "iris:1", "no/slash");
	ck_assert_int_eq(mlctl_deploy(&r, reg, &o), MLCTL_EUSAGE);
	deploy_options(&o, write_tmp("junk.mlpkg", "junk\n"), "prod");
	ck_assert_int_eq(mlctl_deploy(&r, reg, &o), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(last_message(), "junk.mlpkg"));
	ck_assert_ptr_null(r);
	/* Refused before anything was written (this test once pinned the opposite: the
	 * target's directory and row were made first, and mlctl_deploy_current() then
	 * answered 0 with NULL): no target row, no directory, no deployment. */
	ck_assert_int_eq(mlctl_deploy_current(&cur, reg, "prod"), MLCTL_ENOTFOUND);
	ck_assert_ptr_null(cur);
	snprintf(dir, sizeof(dir), "%s/targets/prod", regdir);
	ck_assert_msg(!path_exists(dir), "%s was created", dir);
	ck_assert_int_eq(mlctl_deployment_list_get(&l, reg, "prod"), 0);
	ck_assert_uint_eq(l->n, 0);
	mlctl_deployment_list_free(l);
	/* The same with a --path of its own, and --require-validated refusing: nothing there. */
	deploy_options(&o, "iris:9", "edge");
	o.path = tmp_file("edge-dir");
	ck_assert_int_eq(mlctl_deploy(&r, reg, &o), MLCTL_ENOTFOUND);
	deploy_options(&o, "iris:1", "edge");
	o.path = tmp_file("edge-dir");
	o.require_validated = true;
	ck_assert_int_eq(mlctl_deploy(&r, reg, &o), MLCTL_EVERDICT);
	ck_assert(!path_exists(tmp_file("edge-dir")));
	ck_assert_int_eq(mlctl_deploy_current(&cur, reg, "edge"), MLCTL_ENOTFOUND);
	ck_assert_int_eq(mlctl_deploy_current(&cur, reg, "never"), MLCTL_ENOTFOUND);
	/* And the target is made by the first deploy that goes through. */
	r = deploy("iris:1", "prod");
	expect_current("prod", r->release);
	mlctl_deploy_result_free(r);
}
END_TEST

static Suite *deploy_suite(void)
{
	Suite *s = suite_create("deploy");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_deploy_and_status);
	tcase_add_test(tc, test_deploy_rollback);
	tcase_add_test(tc, test_deploy_rollback_nothing_before);
	tcase_add_test(tc, test_deploy_require_validated);
	tcase_add_test(tc, test_deploy_package_elsewhere);
	tcase_add_test(tc, test_deploy_package_other_model);
	tcase_add_test(tc, test_deploy_errors);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(deploy_suite)
