/*
 * check_bundle.c — bundle_resolve(), what every scoring path loads its model through: a
 * registry reference (name, name:version, name@alias), a .mlpkg file with or without a
 * registry, and a deploy target's current release; each bundle carries the digests of the
 * version it came from, and every way of naming nothing or something broken is refused with
 * the reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mlctl.h"
#include "check_util.h"
#include "bundle.h"

static mlctl_registry *reg;
static char regdir[600];

/* iris trained twice (v1: C=1, v2: C=10) into a fresh registry. */
static void setup(void)
{
	static mlctl_kv svm1[] = { { "C", "1" } };
	static mlctl_kv svm2[] = { { "C", "10" } };

	tmpdir_setup();
	test_registry_open(&reg, "reg");
	snprintf(regdir, sizeof(regdir), "%s", mlctl_registry_path(reg));
	test_train(reg, "iris", data_path("iris.csv"), "species", svm1, 1);
	test_train(reg, "iris", data_path("iris.csv"), "species", svm2, 1);
}

static void teardown(void)
{
	mlctl_registry_free(reg);
	reg = NULL;
	tmpdir_teardown();
}

static mlctl_model_version *version(const char *ref)
{
	mlctl_model_version *v = NULL;

	ck_assert_msg(mlctl_model_resolve(&v, reg, ref) == 0, "%s: %s", ref, mlctl_error_last()->message);
	return v;
}

/* b is version ref: name, number, run and the three digests. */
static void assert_is(const mlctl_bundle *b, const char *ref)
{
	mlctl_model_version *v = version(ref);

	ck_assert_str_eq(b->name, v->name);
	ck_assert_int_eq(b->version, v->version);
	ck_assert_str_eq(b->run, v->run);
	ck_assert_str_eq(b->model_digest, v->model_digest);
	ck_assert_str_eq(b->preprocess_digest, v->preprocess_digest);
	ck_assert_str_eq(b->profile_digest, v->profile_digest);
	ck_assert_ptr_nonnull(b->model);
	ck_assert_ptr_nonnull(b->schema);
	mlctl_model_version_free(v);
}

START_TEST(registry_references)
{
	mlctl_bundle *b = NULL;

	ck_assert_int_eq(bundle_resolve(&b, reg, "iris", NULL), 0);
	assert_is(b, "iris:2");
	ck_assert_str_eq(b->source, "registry");
	ck_assert_str_eq(b->package_digest, "");
	bundle_free(b);

	ck_assert_int_eq(bundle_resolve(&b, reg, "iris:1", NULL), 0);
	assert_is(b, "iris:1");
	ck_assert_ptr_nonnull(b->profile);
	bundle_free(b);

	ck_assert_int_eq(mlctl_alias_set(reg, "iris", "champion", 1, "test"), 0);
	ck_assert_int_eq(bundle_resolve(&b, reg, "iris@champion", NULL), 0);
	assert_is(b, "iris:1");
	bundle_free(b);

	/* versions 1 and 2 are different models */
	{
		mlctl_model_version *a = version("iris:1"), *c = version("iris:2");

		ck_assert_str_ne(a->model_digest, c->model_digest);
		mlctl_model_version_free(a);
		mlctl_model_version_free(c);
	}
}
END_TEST

START_TEST(refused_references)
{
	mlctl_bundle *b = NULL;

	ck_assert_int_eq(bundle_resolve(&b, reg, "iris:7", NULL), MLCTL_ENOTFOUND);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(bundle_resolve(&b, reg, "nosuch", NULL), MLCTL_ENOTFOUND);
	ck_assert_int_eq(bundle_resolve(&b, reg, "iris@nosuch", NULL), MLCTL_ENOTFOUND);
	ck_assert_int_eq(bundle_resolve(&b, reg, NULL, NULL), MLCTL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "no model given"));
	ck_assert_int_eq(bundle_resolve(&b, NULL, "iris:1", NULL), MLCTL_ENOREGISTRY);
	ck_assert_int_eq(bundle_resolve(&b, NULL, NULL, "prod"), MLCTL_ENOREGISTRY);
	ck_assert_int_eq(bundle_resolve(&b, reg, tmp_path("missing.mlpkg"), NULL), MLCTL_ENOTFOUND);
	ck_assert_ptr_null(b);
}
END_TEST

START_TEST(package_file)
{
	mlctl_package_options po = { 0 };
	mlctl_package_result *pr = NULL;
	mlctl_bundle *b = NULL, *plain = NULL;
	char path[700];
	FILE *f;

	snprintf(path, sizeof(path), "%s/iris-1.mlpkg", test_tmpdir);
	po.model = "iris:1";
	po.output = path;
	ck_assert_msg(mlctl_package(&pr, reg, &po) == 0, "%s", mlctl_error_last()->message);

	/* with or without a registry: the same model, and the package's digest */
	ck_assert_msg(bundle_resolve(&b, NULL, path, NULL) == 0, "%s", mlctl_error_last()->message);
	assert_is(b, "iris:1");
	ck_assert_str_eq(b->package_digest, pr->digest);
	ck_assert_str_eq(b->source, path);
	ck_assert_ptr_nonnull(b->manifest);
	ck_assert_int_eq(bundle_resolve(&plain, reg, path, NULL), 0);
	ck_assert_str_eq(plain->model_digest, b->model_digest);
	bundle_free(plain);
	bundle_free(b);

	/* not a package: refused, naming the file */
	f = fopen(tmp_path("junk.mlpkg"), "w");
	ck_assert_ptr_nonnull(f);
	fputs("this is not a package\n", f);
	fclose(f);
	ck_assert_int_ne(bundle_resolve(&b, NULL, tmp_path("junk.mlpkg"), NULL), 0);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "junk.mlpkg"));
	mlctl_package_result_free(pr);
}
END_TEST

START_TEST(deploy_target)
{
	mlctl_deploy_options o = { 0 };
	mlctl_deploy_result *r = NULL;
	mlctl_bundle *b = NULL;
	char *dir = NULL, link[800], evil[800];

	/* a target that does not exist, or has nothing deployed */
	ck_assert_int_eq(bundle_resolve(&b, reg, NULL, "prod"), MLCTL_ENOTFOUND);

	o.model = "iris:1";
	o.target = "prod";
	ck_assert_msg(mlctl_deploy(&r, reg, &o) == 0, "%s", mlctl_error_last()->message);
	ck_assert_int_eq(bundle_resolve(&b, reg, NULL, "prod"), 0);
	assert_is(b, "iris:1");
	ck_assert_str_eq(b->package_digest, r->package_digest);
	ck_assert_ptr_nonnull(strstr(b->source, "releases/"));
	bundle_free(b);
	mlctl_deploy_result_free(r);

	/* a new deploy: the target now gives version 2; a target wins over a model name */
	o.model = "iris:2";
	ck_assert_int_eq(mlctl_deploy(&r, reg, &o), 0);
	ck_assert_int_eq(bundle_resolve(&b, reg, "iris:1", "prod"), 0);
	assert_is(b, "iris:2");
	bundle_free(b);
	mlctl_deploy_result_free(r);

	/* current pointing outside the target's releases is refused, naming the link */
	ck_assert_int_eq(mlctl_target_path(&dir, reg, "prod"), 0);
	snprintf(link, sizeof(link), "%s/current", dir);
	snprintf(evil, sizeof(evil), "%s/current.evil", dir);
	ck_assert_int_eq(symlink("../../../etc", evil), 0);
	ck_assert_int_eq(rename(evil, link), 0);
	ck_assert_int_eq(bundle_resolve(&b, reg, NULL, "prod"), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "not a release of target prod"));
	ck_assert_ptr_null(b);

	/* current naming a release that is gone */
	unlink(link);
	ck_assert_int_eq(symlink("releases/iris-9-000000000000", link), 0);
	ck_assert_int_eq(bundle_resolve(&b, reg, NULL, "prod"), MLCTL_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "is missing"));
	free(dir);
}
END_TEST

START_TEST(damaged_texts)
{
	mlctl_bundle *b = NULL;
	mlctl_model_version *v = version("iris:1");
	char *model = NULL, *pre = NULL;
	size_t mlen, plen;

	ck_assert_int_eq(mlctl_store_get(&model, &mlen, reg, v->model_digest), 0);
	ck_assert_int_eq(mlctl_store_get(&pre, &plen, reg, v->preprocess_digest), 0);
	ck_assert_int_eq(bundle_from_texts(&b, model, mlen, pre, plen, NULL, 0, "here"), 0);
	ck_assert_ptr_null(b->profile);
	bundle_free(b);
	b = NULL;

	/* a model text cut short, a preprocessing that is not YAML: each named */
	ck_assert_int_eq(bundle_from_texts(&b, model, mlen / 2, pre, plen, NULL, 0, "here"), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "here: model/libsvm.model"));
	ck_assert_ptr_null(b);
	ck_assert_int_eq(bundle_from_texts(&b, model, mlen, "[1, 2", 5, NULL, 0, "here"), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "here: model/preprocess.yaml"));
	ck_assert_int_eq(bundle_from_texts(&b, model, mlen, pre, plen, "{", 1, "here"), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "here: reference/profile.yaml"));
	ck_assert_ptr_null(b);
	free(model);
	free(pre);
	mlctl_model_version_free(v);
}
END_TEST

START_TEST(damaged_store_object)
{
	mlctl_bundle *b = NULL;
	mlctl_model_version *v = version("iris:1");
	char path[900];
	FILE *f;

	/* the model object's bytes changed on disk: the store refuses it, nothing is loaded */
	snprintf(path, sizeof(path), "%s/objects/%.2s/%s", regdir, v->model_digest, v->model_digest + 2);
	chmod(path, 0644);
	f = fopen(path, "r+");
	ck_assert_ptr_nonnull(f);
	fputc('#', f);
	fclose(f);
	ck_assert_int_eq(bundle_resolve(&b, reg, "iris:1", NULL), MLCTL_ECORRUPT);
	ck_assert_ptr_null(b);
	ck_assert_msg(strstr(mlctl_error_last()->message, "is damaged"), "%s", mlctl_error_last()->message);
	/* version 2 is untouched */
	ck_assert_int_eq(bundle_resolve(&b, reg, "iris:2", NULL), 0);
	bundle_free(b);
	mlctl_model_version_free(v);
}
END_TEST

static Suite *bundle_suite(void)
{
	Suite *s = suite_create("bundle");
	TCase *tc = tcase_create("bundle");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, registry_references);
	tcase_add_test(tc, refused_references);
	tcase_add_test(tc, package_file);
	tcase_add_test(tc, deploy_target);
	tcase_add_test(tc, damaged_texts);
	tcase_add_test(tc, damaged_store_object);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(bundle_suite)
