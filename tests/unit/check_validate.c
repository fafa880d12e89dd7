/*
 * check_validate.c — mlctl_validate() through the public API on a fresh registry per
 * test: metrics equal to what the test works out by hand on a tiny separable case with
 * known mistakes, gates that pass and fail (the verdict, the recorded run, the exit status
 * a verdict maps to), a champion comparison, held-out real data, and the errors.
 */
#include <math.h>

#include "mlctl.h"
#include "check_util.h"

static mlctl_registry *reg;

static void setup(void)
{
	tmpdir_setup();
	test_registry_open(&reg, NULL);
}

static void teardown(void)
{
	mlctl_registry_free(reg);
	reg = NULL;
	tmpdir_teardown();
}

static void validate_options(mlctl_validate_options *o, const char *model, const char *data)
{
	mlctl_validate_options init = MLCTL_VALIDATE_OPTIONS_INIT;

	*o = init;
	o->model = model;
	o->data = data;
}

static double metric(const mlctl_validate_result *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->nmetrics; i++)
		if (strcmp(r->metrics[i].key, key) == 0)
			return r->metrics[i].value;
	ck_abort_msg("validation result has no metric %s", key);
	return NAN;
}

static size_t class_index(const mlctl_validate_result *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nclasses; i++)
		if (strcmp(r->class_names[i], name) == 0)
			return i;
	ck_abort_msg("no class %s", name);
	return 0;
}

/*
 * A linear model on one feature: a below zero, b above, with a wide margin. The training
 * points are x = -2 .. -0.5 (a) and 0.5 .. 2 (b); every validation point lies at |x| >= 0.8,
 * so the model predicts a for x < 0 and b for x > 0, and the labels below carry 3 known
 * mistakes: one a at x = 1.5, two b at x = -1.2 and -0.8.
 */
static void train_tiny(void)
{
	static mlctl_kv svm[] = { { "kernel", "linear" }, { "C", "10" } };
	mlctl_train_options o = MLCTL_TRAIN_OPTIONS_INIT;
	mlctl_train_result *r = NULL;
	char text[1024];
	size_t at;
	int i;

	at = (size_t)snprintf(text, sizeof(text), "x,label\n");
	for (i = 0; i < 7; i++)
		at += (size_t)snprintf(text + at, sizeof(text) - at, "%g,a\n%g,b\n", -2 + 0.25 * i, 0.5 + 0.25 * i);
	o.data = write_tmp("tiny_train.csv", text);
	o.name = "tiny";
	o.svm = svm;
	o.n_svm = 2;
	o.threads = 1;
	o.seed = 1;
	ck_assert_int_eq(mlctl_train(&r, reg, &o), 0);
	ck_assert_int_eq(r->version, 1);
	mlctl_train_result_free(r);
	write_tmp("tiny_val.csv", "x,label\n-2,a\n-1.5,a\n-1,a\n-1.8,a\n1.5,a\n1,b\n1.6,b\n2,b\n-1.2,b\n-0.8,b\n");
}

START_TEST(test_validate_metrics_by_hand)
{
	mlctl_validate_options o;
	mlctl_validate_result *r = NULL;
	size_t a, b;
	const double tol = 1e-12;

	train_tiny();
	validate_options(&o, "tiny:1", tmp_file("tiny_val.csv"));
	ck_assert_int_eq(mlctl_validate(&r, reg, &o), 0);
	ck_assert_str_eq(r->model, "tiny:1");
	ck_assert_uint_eq(r->rows, 10);
	ck_assert_uint_eq(r->nclasses, 2);
	ck_assert(r->pass);
	ck_assert_uint_eq(r->ngates, 0);
	a = class_index(r, "a");
	b = class_index(r, "b");
	/* Rows are the true class: a: 4 right, 1 taken for b; b: 3 right, 2 taken for a. */
	ck_assert_uint_eq(r->confusion[a * 2 + a], 4);
	ck_assert_uint_eq(r->confusion[a * 2 + b], 1);
	ck_assert_uint_eq(r->confusion[b * 2 + b], 3);
	ck_assert_uint_eq(r->confusion[b * 2 + a], 2);
	ck_assert_double_eq_tol(metric(r, "accuracy"), 7.0 / 10, tol);
	ck_assert_double_eq_tol(metric(r, "recall[a]"), 4.0 / 5, tol);
	ck_assert_double_eq_tol(metric(r, "recall[b]"), 3.0 / 5, tol);
	ck_assert_double_eq_tol(metric(r, "precision[a]"), 4.0 / 6, tol);
	ck_assert_double_eq_tol(metric(r, "precision[b]"), 3.0 / 4, tol);
	ck_assert_double_eq_tol(metric(r, "f1[a]"), 8.0 / 11, tol);
	ck_assert_double_eq_tol(metric(r, "f1[b]"), 6.0 / 9, tol);
	ck_assert_double_eq_tol(metric(r, "f1_macro"), (8.0 / 11 + 6.0 / 9) / 2, tol);
	ck_assert_double_eq_tol(metric(r, "balanced_accuracy"), (4.0 / 5 + 3.0 / 5) / 2, tol);
	ck_assert_double_eq(metric(r, "support[a]"), 5);
	ck_assert_double_eq(metric(r, "support[b]"), 5);
	ck_assert_uint_eq(strlen(r->data_digest), 64);
	mlctl_validate_result_free(r);
}
END_TEST

/* A gate met exactly passes; a gate missed fails the verdict, recorded on the run. */
START_TEST(test_validate_gates)
{
	const char *pass_gates[] = { "accuracy>=0.7", " recall[a] >= 0.8 ", "support[b]==5" };
	const char *fail_gates[] = { "accuracy>=0.7", "recall[b]>=0.9" };
	mlctl_validate_options o;
	mlctl_validate_result *r = NULL;
	mlctl_run *run = NULL;
	char *junit;

	train_tiny();
	validate_options(&o, "tiny", tmp_file("tiny_val.csv"));
	o.gates = pass_gates;
	o.ngates = 3;
	ck_assert_int_eq(mlctl_validate(&r, reg, &o), 0);
	ck_assert(r->pass);
	ck_assert_uint_eq(r->ngates, 3);
	ck_assert(r->gates[0].pass && r->gates[1].pass && r->gates[2].pass);
	ck_assert_str_eq(r->gates[0].metric, "accuracy");
	ck_assert_double_eq(r->gates[0].value, metric(r, "accuracy"));
	ck_assert_double_eq(r->gates[0].bound, 0.7);
	ck_assert_str_eq(r->gates[1].text, "recall[a] >= 0.8");
	ck_assert_int_eq(mlctl_run_get(&run, reg, r->run), 0);
	ck_assert_str_eq(run->kind, "validate");
	ck_assert_str_eq(run->verdict, "pass");
	ck_assert_str_eq(run->model_name, "tiny");
	ck_assert_int_eq(run->model_version, 1);
	mlctl_run_free(run);
	mlctl_validate_result_free(r);

	o.gates = fail_gates;
	o.ngates = 2;
	o.junit = tmp_file("fail.xml");
	ck_assert_int_eq(mlctl_validate(&r, reg, &o), 0);
	ck_assert(!r->pass);
	ck_assert(r->gates[0].pass);
	ck_assert(!r->gates[1].pass);
	ck_assert_double_eq_tol(r->gates[1].value, 0.6, 1e-12);
	/* A failed verdict is a run that succeeded with the verdict "fail"; the CLI exits
	 * with the status of MLCTL_EVERDICT. */
	ck_assert_int_eq(mlctl_run_get(&run, reg, r->run), 0);
	ck_assert_int_eq(run->status, MLCTL_RUN_SUCCEEDED);
	ck_assert_str_eq(run->verdict, "fail");
	mlctl_run_free(run);
	ck_assert_int_eq(mlctl_exit_status(MLCTL_EVERDICT), 1);
	junit = read_all(tmp_file("fail.xml"), NULL);
	ck_assert_ptr_nonnull(junit);
	ck_assert_ptr_nonnull(strstr(junit, "failures=\"1\""));
	ck_assert_ptr_nonnull(strstr(junit, "recall[b] &gt;= 0.9"));
	free(junit);
	mlctl_validate_result_free(r);
}
END_TEST

/* Against itself: no drop allowed passes; a required improvement fails. */
START_TEST(test_validate_against_champion)
{
	mlctl_validate_options o;
	mlctl_validate_result *r = NULL;

	train_tiny();
	ck_assert_int_eq(mlctl_alias_set(reg, "tiny", "production", 1, "test"), 0);
	validate_options(&o, "tiny:1", tmp_file("tiny_val.csv"));
	o.against = "tiny@production";
	o.max_drop = 0;
	ck_assert_int_eq(mlctl_validate(&r, reg, &o), 0);
	ck_assert_str_eq(r->champion, "tiny:1");
	ck_assert_uint_eq(r->ncomparisons, 1);
	ck_assert_str_eq(r->comparisons[0].metric, "accuracy");
	ck_assert_double_eq(r->comparisons[0].candidate, r->comparisons[0].champion);
	ck_assert(r->pass);
	mlctl_validate_result_free(r);

	o.max_drop = NAN;
	o.min_improvement = 0.01;
	ck_assert_int_eq(mlctl_validate(&r, reg, &o), 0);
	ck_assert(!r->comparisons[0].pass);
	ck_assert(!r->pass);
	mlctl_validate_result_free(r);

	o.against = "tiny@nonexistent";
	ck_assert_int_eq(mlctl_validate(&r, reg, &o), 0);
	ck_assert(r->champion_missing);
	ck_assert_uint_eq(r->ncomparisons, 0);
	ck_assert(r->pass);
	mlctl_validate_result_free(r);
}
END_TEST

/* Iris split in thirds: train on two, validate on the held-out third. */
START_TEST(test_validate_held_out)
{
	static mlctl_kv svm[] = { { "C", "4" }, { "gamma", "0.5" } };
	const char *gates[] = { "accuracy>=0.9" };
	mlctl_train_options t = MLCTL_TRAIN_OPTIONS_INIT;
	mlctl_train_result *tr = NULL;
	mlctl_validate_options o;
	mlctl_validate_result *r = NULL;
	FILE *in, *ftrain, *fval;
	char line[256];
	size_t n = 0, i, trace = 0, total = 0, setosa = 0;

	in = fopen(data_path("iris.csv"), "r");
	ftrain = fopen(tmp_file("train.csv"), "w");
	fval = fopen(tmp_file("val.csv"), "w");
	ck_assert(in && ftrain && fval);
	while (fgets(line, sizeof(line), in)) {
		if (n == 0 || n % 3 != 0)
			fputs(line, ftrain);
		if (n == 0 || n % 3 == 0)
			fputs(line, fval);
		if (n && n % 3 == 0 && strstr(line, ",setosa"))
			setosa++;
		n++;
	}
	fclose(in);
	fclose(ftrain);
	fclose(fval);

	t.data = tmp_file("train.csv");
	t.name = "iris";
	t.label = "species";
	t.svm = svm;
	t.n_svm = 2;
	t.threads = 1;
	t.seed = 1;
	ck_assert_int_eq(mlctl_train(&tr, reg, &t), 0);
	ck_assert_uint_eq(tr->rows, 100);
	mlctl_train_result_free(tr);

	validate_options(&o, "iris", tmp_file("val.csv"));
	o.gates = gates;
	o.ngates = 1;
	ck_assert_int_eq(mlctl_validate(&r, reg, &o), 0);
	ck_assert_uint_eq(r->rows, 50);
	ck_assert_uint_eq(r->nclasses, 3);
	for (i = 0; i < 9; i++)
		total += r->confusion[i];
	for (i = 0; i < 3; i++)
		trace += r->confusion[i * 3 + i];
	ck_assert_uint_eq(total, 50);
	ck_assert_double_eq(metric(r, "accuracy"), (double)trace / 50);
	ck_assert_double_eq(metric(r, "support[setosa]"), (double)setosa);
	ck_assert(r->pass);
	mlctl_validate_result_free(r);
}
END_TEST

START_TEST(test_validate_errors)
{
	const char *bad_metric[] = { "acuracy>=0.9" };
	const char *bad_class[] = { "recall[c]>=0.9" };
	mlctl_validate_options o;
	mlctl_validate_result *r = NULL;

	train_tiny();
	validate_options(&o, "tiny", write_tmp("nolabel.csv", "x\n1\n-1\n"));
	ck_assert_int_eq(mlctl_validate(&r, reg, &o), MLCTL_EDATA);
	ck_assert_msg(strstr(last_message(), "label column \"label\" is missing"), "%s", last_message());
	ck_assert_ptr_nonnull(strstr(last_message(), "nolabel.csv"));

	validate_options(&o, "tiny", write_tmp("nox.csv", "y,label\n1,a\n-1,b\n"));
	ck_assert_int_eq(mlctl_validate(&r, reg, &o), MLCTL_EDATA);
	ck_assert_msg(strstr(last_message(), "column \"x\" is missing from ") && strstr(last_message(), "/nox.csv"), "%s",
		      last_message());

	validate_options(&o, "tiny", tmp_file("tiny_val.csv"));
	o.gates = bad_metric;
	o.ngates = 1;
	ck_assert_int_eq(mlctl_validate(&r, reg, &o), MLCTL_EUSAGE);
	ck_assert_msg(strstr(last_message(), "unknown metric \"acuracy\""), "%s", last_message());
	o.gates = bad_class;
	ck_assert_int_eq(mlctl_validate(&r, reg, &o), MLCTL_EUSAGE);
	ck_assert_msg(strstr(last_message(), "class \"c\" is not in the report"), "%s", last_message());

	validate_options(&o, "tiny:2", tmp_file("tiny_val.csv"));
	ck_assert_int_eq(mlctl_validate(&r, reg, &o), MLCTL_ENOTFOUND);
	validate_options(&o, "tiny", tmp_file("nosuch.csv"));
	ck_assert_int_eq(mlctl_validate(&r, reg, &o), MLCTL_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(last_message(), "nosuch.csv"));
	ck_assert_ptr_null(r);
}
END_TEST

static Suite *validate_suite(void)
{
	Suite *s = suite_create("validate");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_validate_metrics_by_hand);
	tcase_add_test(tc, test_validate_gates);
	tcase_add_test(tc, test_validate_against_champion);
	tcase_add_test(tc, test_validate_held_out);
	tcase_add_test(tc, test_validate_errors);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(validate_suite)
