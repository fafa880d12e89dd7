/*
 * check_registry_models.c — registry_models.c, the one function check_registry.c leaves
 * out: mlctl_model_register_as(), which records a version number learned elsewhere (a
 * package deployed from another registry). The exact version is kept, a taken one is
 * MLCTL_EEXISTS and changes nothing, and mlctl_model_register() numbers on after the
 * highest. Each test has a fresh temporary registry.
 */
#include <limits.h>

#include "check_util.h"
#include "mlctl.h"

static mlctl_registry *reg;
static char run_id[MLCTL_RUN_ID_SIZE];

static void reg_setup(void)
{
	mlctl_run_start_options o = MLCTL_RUN_START_OPTIONS_INIT;
	char dir[512];

	tmpdir_setup();
	snprintf(dir, sizeof(dir), "%s/.mlctl", test_tmpdir);
	if (mlctl_registry_init(dir) != 0 || mlctl_registry_open(&reg, dir) != 0)
		abort();
	o.kind = "train";
	if (mlctl_run_start(run_id, reg, &o) != 0)
		abort();
}

static void reg_teardown(void)
{
	mlctl_registry_free(reg);
	reg = NULL;
	tmpdir_teardown();
}

static void make_spec(mlctl_model_version *spec, const char *name, int version, unsigned seed)
{
	memset(spec, 0, sizeof(*spec));
	spec->name = (char *)name;
	spec->version = version;
	snprintf(spec->run, sizeof(spec->run), "%s", run_id);
	snprintf(spec->model_digest, sizeof(spec->model_digest), "%064x", seed);
	snprintf(spec->preprocess_digest, sizeof(spec->preprocess_digest), "%064x", seed + 1);
	spec->svm_type = "c_svc";
	spec->kernel = "rbf";
}

static mlctl_model_version *resolve(const char *ref)
{
	mlctl_model_version *v = NULL;

	ck_assert_msg(mlctl_model_resolve(&v, reg, ref) == 0, "%s: %s", ref, mlctl_error_last()->message);
	return v;
}

START_TEST(test_registry_models_register_as)
{
	mlctl_model_version spec, *v;
	mlctl_model_versions *l = NULL;
	int next = 0;

	make_spec(&spec, "churn", 5, 100);
	ck_assert_int_eq(mlctl_model_register_as(reg, &spec), 0);
	v = resolve("churn:5");
	ck_assert_int_eq(v->version, 5);
	ck_assert_str_eq(v->run, run_id);
	ck_assert_str_eq(v->model_digest, spec.model_digest);
	ck_assert_str_eq(v->preprocess_digest, spec.preprocess_digest);
	ck_assert_str_eq(v->svm_type, "c_svc");
	mlctl_model_version_free(v);
	v = resolve("churn");	/* the latest */
	ck_assert_int_eq(v->version, 5);
	mlctl_model_version_free(v);

	/* An earlier number fills in below; the next plain register comes after the highest. */
	make_spec(&spec, "churn", 2, 200);
	ck_assert_int_eq(mlctl_model_register_as(reg, &spec), 0);
	make_spec(&spec, "churn", 0, 300);
	ck_assert_int_eq(mlctl_model_register(&next, reg, &spec), 0);
	ck_assert_int_eq(next, 6);
	ck_assert_int_eq(mlctl_model_versions_get(&l, reg, "churn"), 0);
	ck_assert_uint_eq(l->n, 3);
	mlctl_model_versions_free(l);
	v = resolve("churn:2");
	ck_assert_str_eq(v->model_digest, "00000000000000000000000000000000000000000000000000000000000000c8");
	mlctl_model_version_free(v);
}
END_TEST

/* A version that exists: MLCTL_EEXISTS naming it, and the stored version unchanged. */
START_TEST(test_registry_models_register_as_exists)
{
	mlctl_model_version spec, *v;
	mlctl_model_versions *l = NULL;

	make_spec(&spec, "churn", 3, 100);
	ck_assert_int_eq(mlctl_model_register_as(reg, &spec), 0);
	make_spec(&spec, "churn", 3, 999);
	expect_err(mlctl_model_register_as(reg, &spec), MLCTL_EEXISTS, "model churn has a version 3 already");
	v = resolve("churn:3");
	ck_assert_str_eq(v->model_digest, "0000000000000000000000000000000000000000000000000000000000000064");
	mlctl_model_version_free(v);
	ck_assert_int_eq(mlctl_model_versions_get(&l, reg, "churn"), 0);
	ck_assert_uint_eq(l->n, 1);
	mlctl_model_versions_free(l);
	/* The same number under another name is another model. */
	make_spec(&spec, "fraud", 3, 5);
	ck_assert_int_eq(mlctl_model_register_as(reg, &spec), 0);
	/* The registry is still writable: the failed transaction was rolled back. */
	make_spec(&spec, "churn", 4, 7);
	ck_assert_int_eq(mlctl_model_register_as(reg, &spec), 0);
}
END_TEST

START_TEST(test_registry_models_register_as_bad_name)
{
	static const char *const bad[] = { "", "-lead", ".dot", "has space", "a/b", "x:1", "x@prod" };
	mlctl_model_version spec;
	mlctl_model_list *l = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_spec(&spec, bad[i], 1, 1);
		expect_err(mlctl_model_register_as(reg, &spec), MLCTL_EUSAGE, "invalid model name");
	}
	ck_assert_int_eq(mlctl_model_list_get(&l, reg), 0);
	ck_assert_uint_eq(l->n, 0);
	mlctl_model_list_free(l);
}
END_TEST

/* Versions start at 1: 0 and negative ones are refused (no reference could name them),
 * and nothing is stored. */
START_TEST(test_registry_models_register_as_version_range)
{
	static const int bad[] = { 0, -1, -3, INT_MIN };
	mlctl_model_version spec, *v = NULL;
	mlctl_model_versions *vs = NULL;
	mlctl_model_list *l = NULL;
	int next = 0;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_spec(&spec, "churn", bad[i], 1);
		expect_err(mlctl_model_register_as(reg, &spec), MLCTL_EUSAGE, "model churn: invalid version");
	}
	ck_assert_int_eq(mlctl_model_list_get(&l, reg), 0);
	ck_assert_uint_eq(l->n, 0);
	mlctl_model_list_free(l);
	make_spec(&spec, "churn", 1, 1);
	ck_assert_int_eq(mlctl_model_register_as(reg, &spec), 0);
	v = resolve("churn:1");
	mlctl_model_version_free(v);
	make_spec(&spec, "churn", INT_MAX, 2);
	ck_assert_int_eq(mlctl_model_register_as(reg, &spec), 0);
	v = resolve("churn");
	ck_assert_int_eq(v->version, INT_MAX);
	mlctl_model_version_free(v);
	/* No number after INT_MAX: refused, not wrapped round to a negative one. */
	make_spec(&spec, "churn", 0, 3);
	expect_err(mlctl_model_register(&next, reg, &spec), MLCTL_EDATA, "no version number left");
	ck_assert_int_eq(mlctl_model_versions_get(&vs, reg, "churn"), 0);
	ck_assert_uint_eq(vs->n, 2);
	mlctl_model_versions_free(vs);
}
END_TEST

static Suite *registry_models_suite(void)
{
	Suite *s = suite_create("registry_models");
	TCase *tc = tcase_create("registry_models");

	tcase_add_checked_fixture(tc, reg_setup, reg_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_registry_models_register_as);
	tcase_add_test(tc, test_registry_models_register_as_exists);
	tcase_add_test(tc, test_registry_models_register_as_bad_name);
	tcase_add_test(tc, test_registry_models_register_as_version_range);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(registry_models_suite)
