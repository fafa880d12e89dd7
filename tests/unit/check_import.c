/*
 * check_import.c — mlctl_import_svm() through the public API on a fresh registry per test:
 * a model made by svm-train (libsvm-tools) on heart_scale registered as versions 1 and 2
 * with an import run, then scoring as svm-predict does; malformed model files refused with
 * MLCTL_EDATA and a message naming the file and line, a failed run and no version.
 */
#include "mlctl.h"
#include "check_util.h"

static mlctl_registry *reg;
static char model_file[512];

/* svm-train's model of heart_scale, made fresh for each test. */
static void setup(void)
{
	char cmd[2048];

	tmpdir_setup();
	test_registry_open(&reg, NULL);
	snprintf(model_file, sizeof(model_file), "%s", tmp_file("heart.model"));
	snprintf(cmd, sizeof(cmd), "svm-train -q -c 1 -g 0.1 '%s' '%s' >/dev/null", data_path("heart_scale"), model_file);
	if (system(cmd) != 0) {
		fprintf(stderr, "setup: `%s` failed: is libsvm-tools installed (make deps)?\n", cmd);
		abort();
	}
}

static void teardown(void)
{
	mlctl_registry_free(reg);
	reg = NULL;
	tmpdir_teardown();
}

/* The integer after "key " on a line of the model file's header. */
static long header_value(const char *text, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\n%s ", key);
	p = strstr(text, pat);
	ck_assert_msg(p != NULL, "no %s in the model file", key);
	return strtol(p + strlen(pat), NULL, 10);
}

START_TEST(test_import_registers)
{
	mlctl_train_result *r1 = NULL, *r2 = NULL;
	mlctl_model_version *v = NULL;
	mlctl_run *run = NULL;
	char *text = read_all(model_file, NULL);

	ck_assert_ptr_nonnull(text);
	ck_assert_msg(mlctl_import_svm(&r1, reg, model_file, "heart", 0, NULL) == 0, "%s", last_message());
	ck_assert_str_eq(r1->name, "heart");
	ck_assert_int_eq(r1->version, 1);
	ck_assert_str_eq(r1->svm_type, "c-svc");
	ck_assert_str_eq(r1->kernel, "rbf");
	ck_assert_int_eq(r1->nsv, header_value(text, "total_sv"));
	ck_assert_uint_eq(r1->nclasses, 2);
	ck_assert_int_eq(r1->features, 13);
	ck_assert_uint_eq(strlen(r1->model_digest), 64);

	/* The run: an import that succeeded, produced heart:1 and names the file. */
	ck_assert_int_eq(mlctl_run_get(&run, reg, r1->run), 0);
	ck_assert_str_eq(run->kind, "import");
	ck_assert_int_eq(run->status, MLCTL_RUN_SUCCEEDED);
	ck_assert_str_eq(run->model_name, "heart");
	ck_assert_int_eq(run->model_version, 1);
	ck_assert_str_eq(mlctl_run_param(run, "file"), model_file);
	mlctl_run_free(run);

	/* The version: model and identity preprocessing stored, no reference profile. */
	ck_assert_int_eq(mlctl_model_resolve(&v, reg, "heart:1"), 0);
	ck_assert_str_eq(v->run, r1->run);
	ck_assert_str_eq(v->model_digest, r1->model_digest);
	ck_assert(mlctl_store_has(reg, v->model_digest));
	ck_assert(mlctl_store_has(reg, v->preprocess_digest));
	ck_assert_str_eq(v->profile_digest, "");
	mlctl_model_version_free(v);

	/* The same file again: version 2 of the same stored model. */
	ck_assert_int_eq(mlctl_import_svm(&r2, reg, model_file, "heart", 0, NULL), 0);
	ck_assert_int_eq(r2->version, 2);
	ck_assert_str_eq(r2->model_digest, r1->model_digest);
	free(text);
	mlctl_train_result_free(r1);
	mlctl_train_result_free(r2);
}
END_TEST

/* The imported model labels every heart_scale row as svm-predict does. */
START_TEST(test_import_predicts_as_svm_predict)
{
	mlctl_train_result *r = NULL;
	mlctl_predict_options o = MLCTL_PREDICT_OPTIONS_INIT;
	mlctl_predict_result *pr = NULL;
	char cmd[2048], *ours, *theirs, *p, *q;
	size_t n = 0;

	ck_assert_int_eq(mlctl_import_svm(&r, reg, model_file, "heart", 0, NULL), 0);
	o.model = "heart:1";
	o.input = data_path("heart_scale");
	o.output = tmp_file("ours.csv");
	o.threads = 2;
	ck_assert_msg(mlctl_predict(&pr, reg, &o) == 0, "%s", last_message());
	ck_assert_uint_eq(pr->rows, 270);
	mlctl_predict_result_free(pr);
	snprintf(cmd, sizeof(cmd), "svm-predict -q '%s' '%s' '%s' >/dev/null", data_path("heart_scale"), model_file,
		 tmp_file("theirs.txt"));
	ck_assert_int_eq(system(cmd), 0);

	ours = read_all(tmp_file("ours.csv"), NULL);
	theirs = read_all(tmp_file("theirs.txt"), NULL);
	ck_assert(ours && theirs);
	ck_assert(strncmp(ours, "prediction\n", 11) == 0);
	for (p = ours + 11, q = theirs; *p && *q; n++) {
		char *pe, *qe;

		ck_assert_msg(strtod(p, &pe) == strtod(q, &qe), "row %zu: %.*s, svm-predict %.*s", n + 1,
			      (int)strcspn(p, "\n"), p, (int)strcspn(q, "\n"), q);
		ck_assert(*pe == '\n' && *qe == '\n');
		p = pe + 1;
		q = qe + 1;
	}
	ck_assert(!*p && !*q);
	ck_assert_uint_eq(n, 270);
	free(ours);
	free(theirs);
	mlctl_train_result_free(r);
}
END_TEST

/* The model file with its line lineno (1-based) replaced by text (NULL: the lines from
 * lineno on dropped), written to name. */
static const char *edit_model(const char *name, size_t lineno, const char *text)
{
	char *t = read_all(model_file, NULL), *p = t;
	FILE *f = fopen(tmp_file(name), "w");
	size_t line = 1;

	ck_assert(t && f);
	while (*p) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (line == lineno && !text)
			break;
		if (line == lineno)
			fprintf(f, "%s\n", text);
		else
			fwrite(p, 1, len, f);
		p += len;
		line++;
	}
	free(t);
	ck_assert_int_eq(fclose(f), 0);
	return tmp_file(name);
}

/* Import a bad file: MLCTL_EDATA, the message holding frag, a failed run, no version. */
static void expect_malformed(const char *path, const char *frag)
{
	static mlctl_train_result untouched;
	mlctl_train_result *r = &untouched;
	mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;
	mlctl_run_list *l = NULL;
	mlctl_model_version *v = NULL;
	char msg[sizeof(mlctl_error_last()->message)];

	ck_assert_int_eq(mlctl_import_svm(&r, reg, path, "bad", 0, NULL), MLCTL_EDATA);
	ck_assert_ptr_null(r);
	snprintf(msg, sizeof(msg), "%s", last_message());
	ck_assert_msg(strstr(msg, frag), "message \"%s\" lacks \"%s\"", msg, frag);
	f.kind = "import";
	f.name = "bad";
	ck_assert_int_eq(mlctl_run_list_get(&l, reg, &f), 0);
	ck_assert_uint_ge(l->n, 1);
	ck_assert_int_eq(l->runs[0]->status, MLCTL_RUN_FAILED);
	ck_assert_str_eq(l->runs[0]->error, msg);
	mlctl_run_list_free(l);
	ck_assert_int_eq(mlctl_model_resolve(&v, reg, "bad"), MLCTL_ENOTFOUND);
}

START_TEST(test_import_malformed)
{
	char frag[600], *text = read_all(model_file, NULL);
	long total_sv;

	ck_assert_ptr_nonnull(text);
	total_sv = header_value(text, "total_sv");
	free(text);

	/* Line 3 is "gamma 0.1…", line 5 "total_sv 133", the SVs from line 10. */
	expect_malformed(edit_model("gamma.model", 3, "gamma abc"), "gamma.model:3: gamma: \"abc\" is not a number");
	expect_malformed(edit_model("key.model", 3, "colour blue"), "key.model:3: \"colour\" is not a model key");
	expect_malformed(edit_model("sv.model", 12, "0.5 1:0.1 2:zz"), "sv.model:12: feature 2: \"zz\" is not a number");
	expect_malformed(edit_model("order.model", 12, "0.5 3:0.1 2:0.2"), "order.model:12: feature index 2 after 3: indices must ascend");
	/* The SV section cut short of total_sv: the line where the next SV should be, and
	 * the count it promised. */
	snprintf(frag, sizeof(frag), "short.model:30: the SV section ends after 20 of %ld support vectors (total_sv, line 5)",
		 total_sv);
	expect_malformed(edit_model("short.model", 30, NULL), frag);
	expect_malformed(write_tmp("empty.model", ""), "empty.model:1: empty model");
	expect_malformed(write_tmp("text.model", "hello world\n"), "text.model:1: \"hello\" is not a model key");
	/* A classifier of one class, as svm-train makes from one label: useless. */
	expect_malformed(write_tmp("one.model", "svm_type c_svc\nkernel_type rbf\ngamma 0.5\nnr_class 1\ntotal_sv 0\n"
					       "rho\nlabel 1\nnr_sv 0\nSV\n"),
			 "one.model: a classifier with one class cannot be used");
}
END_TEST

START_TEST(test_import_errors)
{
	mlctl_train_result *r = NULL;

	ck_assert_int_eq(mlctl_import_svm(&r, reg, tmp_file("nosuch.model"), "heart", 0, NULL), MLCTL_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(last_message(), "nosuch.model"));
	ck_assert_int_eq(mlctl_import_svm(&r, reg, model_file, "-bad", 0, NULL), MLCTL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(last_message(), "invalid model name \"-bad\""));
	ck_assert_ptr_null(r);
}
END_TEST

static Suite *import_suite(void)
{
	Suite *s = suite_create("import");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_import_registers);
	tcase_add_test(tc, test_import_predicts_as_svm_predict);
	tcase_add_test(tc, test_import_malformed);
	tcase_add_test(tc, test_import_errors);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(import_suite)
