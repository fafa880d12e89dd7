/*
 * check_train.c — mlctl_train() through the public API on a fresh registry per test:
 * versions registered one after another with a succeeded run and its metrics, the same
 * seed giving the same model, a tuning grid recorded point by point, and bad input refused
 * with the right code, a message naming the file and the column or line, a failed run and
 * no version registered.
 */
#include <math.h>
#include <pthread.h>

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

/* libsvm parameters fixed, so that no test depends on a default. */
static mlctl_kv iris_svm[] = { { "C", "1" }, { "gamma", "0.5" } };

static void iris_options(mlctl_train_options *o)
{
	mlctl_train_options init = MLCTL_TRAIN_OPTIONS_INIT;

	*o = init;
	o->data = data_path("iris.csv");
	o->name = "iris";
	o->label = "species";
	o->svm = iris_svm;
	o->n_svm = 2;
	o->threads = 1;
	o->seed = 1;
}

/* The metric of a result by key; fails the test when it is missing. */
static double result_metric(const mlctl_train_result *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->nmetrics; i++)
		if (strcmp(r->metrics[i].key, key) == 0)
			return r->metrics[i].value;
	ck_abort_msg("train result has no metric %s", key);
	return NAN;
}

static const char *result_param(const mlctl_train_result *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->nparams; i++)
		if (strcmp(r->params[i].key, key) == 0)
			return r->params[i].value;
	return NULL;
}

START_TEST(test_train_registers_versions)
{
	mlctl_train_options o;
	mlctl_train_result *r1 = NULL, *r2 = NULL;
	mlctl_model_version *v = NULL;
	mlctl_run *run = NULL;
	double value;

	iris_options(&o);
	o.holdout = 0.3;
	ck_assert_int_eq(mlctl_train(&r1, reg, &o), 0);
	ck_assert_str_eq(r1->name, "iris");
	ck_assert_int_eq(r1->version, 1);
	ck_assert_uint_eq(r1->rows, 105);
	ck_assert_uint_eq(r1->test_rows, 45);
	ck_assert_uint_eq(r1->columns, 4);
	ck_assert_int_eq(r1->features, 4);
	ck_assert_uint_eq(r1->nclasses, 3);
	ck_assert_str_eq(r1->svm_type, "c-svc");
	ck_assert_str_eq(r1->kernel, "rbf");
	ck_assert_str_eq(r1->task, "classification");
	ck_assert(r1->task_inferred);
	ck_assert_int_gt(r1->nsv, 0);
	ck_assert_int_le(r1->nsv, 105);
	ck_assert_uint_eq(strlen(r1->model_digest), 64);
	ck_assert_str_eq(result_param(r1, "C"), "1");
	value = result_metric(r1, "holdout_accuracy");
	ck_assert(value > 0.8 && value <= 1);
	ck_assert_double_eq(result_metric(r1, "n_sv"), r1->nsv);

	/* The run is recorded as succeeded, linked to iris:1, with the same metrics. */
	ck_assert_int_eq(mlctl_run_get(&run, reg, r1->run), 0);
	ck_assert_str_eq(run->kind, "train");
	ck_assert_int_eq(run->status, MLCTL_RUN_SUCCEEDED);
	ck_assert_ptr_null(run->error);
	ck_assert_str_eq(run->model_name, "iris");
	ck_assert_int_eq(run->model_version, 1);
	ck_assert(mlctl_run_metric(run, "holdout_accuracy", &value));
	ck_assert_double_eq(value, result_metric(r1, "holdout_accuracy"));
	ck_assert(mlctl_run_metric(run, "n_sv", &value));
	ck_assert_double_eq(value, r1->nsv);
	ck_assert(mlctl_run_metric(run, "train_seconds", &value));
	ck_assert(value >= 0);
	mlctl_run_free(run);

	/* The version points back at the run and at what was stored. */
	ck_assert_int_eq(mlctl_model_resolve(&v, reg, "iris:1"), 0);
	ck_assert_str_eq(v->run, r1->run);
	ck_assert_str_eq(v->model_digest, r1->model_digest);
	ck_assert(mlctl_store_has(reg, v->model_digest));
	ck_assert(mlctl_store_has(reg, v->preprocess_digest));
	mlctl_model_version_free(v);

	/* A second train of the same name is version 2, and "iris" now means it. */
	o.holdout = 0;
	ck_assert_int_eq(mlctl_train(&r2, reg, &o), 0);
	ck_assert_int_eq(r2->version, 2);
	ck_assert_uint_eq(r2->rows, 150);
	ck_assert_uint_eq(r2->test_rows, 0);
	ck_assert_str_ne(r2->run, r1->run);
	ck_assert_int_eq(mlctl_model_resolve(&v, reg, "iris"), 0);
	ck_assert_int_eq(v->version, 2);
	ck_assert_str_eq(v->run, r2->run);
	mlctl_model_version_free(v);
	mlctl_train_result_free(r1);
	mlctl_train_result_free(r2);
}
END_TEST

/* Same data, parameters and seed: the same model bytes; another seed splits differently. */
START_TEST(test_train_same_seed_same_model)
{
	mlctl_train_options o;
	mlctl_train_result *a = NULL, *b = NULL, *c = NULL;
	const char *data = write_head("churn.csv", data_path("mlc_churn.csv"), 301);

	iris_options(&o);
	o.data = data;
	o.name = "churn";
	o.label = "churn";
	o.holdout = 0.25;
	o.seed = 42;
	ck_assert_int_eq(mlctl_train(&a, reg, &o), 0);
	ck_assert_int_eq(mlctl_train(&b, reg, &o), 0);
	ck_assert_int_eq(b->version, 2);
	ck_assert_str_eq(a->model_digest, b->model_digest);
	ck_assert_str_eq(a->dataset_digest, b->dataset_digest);
	ck_assert_double_eq(result_metric(a, "holdout_accuracy"), result_metric(b, "holdout_accuracy"));
	/* The churn file has text categories: one-hot columns beyond the 19 inputs. */
	ck_assert_uint_eq(a->columns, 19);
	ck_assert_int_gt(a->features, 19);
	ck_assert_uint_eq(a->rows + a->test_rows, 300);

	o.seed = 43;
	ck_assert_int_eq(mlctl_train(&c, reg, &o), 0);
	ck_assert_str_eq(c->dataset_digest, a->dataset_digest);
	ck_assert_str_ne(c->model_digest, a->model_digest);
	mlctl_train_result_free(a);
	mlctl_train_result_free(b);
	mlctl_train_result_free(c);
}
END_TEST

/* The values of one metric key at steps 0..n (the run lists every step, by key then step). */
static size_t metric_steps(const mlctl_run *run, const char *key, double *values, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < run->nmetrics; i++) {
		if (strcmp(run->metrics[i].key, key) != 0)
			continue;
		ck_assert_int_eq(run->metrics[i].step, (int64_t)n);
		ck_assert_uint_lt(n, max);
		values[n++] = run->metrics[i].value;
	}
	return n;
}

START_TEST(test_train_tune_records_grid)
{
	mlctl_train_options o;
	mlctl_train_result *r = NULL;
	mlctl_run *run = NULL;
	double cv[16], gc[16], gg[16], best = -1;
	size_t i, n, nC[3] = { 0 }, ng[2] = { 0 };

	iris_options(&o);
	o.svm = NULL;
	o.n_svm = 0;
	o.tune = "C=1|4|16,gamma=0.25|1";
	o.cv = 3;
	o.threads = 2;
	ck_assert_int_eq(mlctl_train(&r, reg, &o), 0);
	ck_assert_uint_eq(r->grid_points, 6);
	ck_assert_str_eq(r->metric, "accuracy");
	ck_assert_int_eq(mlctl_run_get(&run, reg, r->run), 0);

	/* Every grid point: its CV score at steps 0..5 and the chosen one again at step 6. */
	n = metric_steps(run, "cv_accuracy", cv, 16);
	ck_assert_uint_eq(n, 7);
	ck_assert_uint_eq(metric_steps(run, "grid_C", gc, 16), 7);
	ck_assert_uint_eq(metric_steps(run, "grid_gamma", gg, 16), 7);
	for (i = 0; i < 6; i++) {
		ck_assert(cv[i] >= 0 && cv[i] <= 1);
		ck_assert_msg(gc[i] == 1 || gc[i] == 4 || gc[i] == 16, "grid_C %g", gc[i]);
		ck_assert_msg(gg[i] == 0.25 || gg[i] == 1, "grid_gamma %g", gg[i]);
		nC[gc[i] == 1 ? 0 : gc[i] == 4 ? 1 : 2]++;
		ng[gg[i] == 0.25 ? 0 : 1]++;
		if (cv[i] > best)
			best = cv[i];
	}
	/* Each of the 3 x 2 points once; the last step is the best point, refitted. */
	ck_assert_uint_eq(nC[0], 2);
	ck_assert_uint_eq(nC[1], 2);
	ck_assert_uint_eq(nC[2], 2);
	ck_assert_uint_eq(ng[0], 3);
	ck_assert_uint_eq(ng[1], 3);
	ck_assert_double_eq(cv[6], best);
	ck_assert_double_eq(result_metric(r, "cv_accuracy"), best);
	for (i = 0; i < 6; i++)
		if (gc[i] == gc[6] && gg[i] == gg[6])
			break;
	ck_assert_uint_lt(i, 6);
	ck_assert_double_eq(cv[i], best);
	ck_assert_double_eq(strtod(result_param(r, "C"), NULL), gc[6]);
	ck_assert_double_eq(strtod(result_param(r, "gamma"), NULL), gg[6]);
	mlctl_run_free(run);
	mlctl_train_result_free(r);
}
END_TEST

/*
 * Train on a bad file: the code, a message holding each of the fragments, a failed run
 * that keeps the message, and no version of the model.
 */
static void expect_refused(const char *data, const char *label, int code, const char *frag1, const char *frag2)
{
	mlctl_train_options o;
	static mlctl_train_result untouched;
	mlctl_train_result *r = &untouched;
	mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;
	mlctl_run_list *l = NULL;
	mlctl_model_version *v = NULL;
	char msg[sizeof(mlctl_error_last()->message)];

	iris_options(&o);
	o.data = data;
	o.name = "bad";
	o.label = label;
	ck_assert_int_eq(mlctl_train(&r, reg, &o), code);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(mlctl_error_last()->code, code);
	snprintf(msg, sizeof(msg), "%s", last_message());
	ck_assert_msg(strstr(msg, frag1), "message \"%s\" lacks \"%s\"", msg, frag1);
	ck_assert_msg(!frag2 || strstr(msg, frag2), "message \"%s\" lacks \"%s\"", msg, frag2);

	f.kind = "train";
	f.name = "bad";
	ck_assert_int_eq(mlctl_run_list_get(&l, reg, &f), 0);
	ck_assert_uint_ge(l->n, 1);
	ck_assert_int_eq(l->runs[0]->status, MLCTL_RUN_FAILED);
	ck_assert_ptr_nonnull(l->runs[0]->error);
	ck_assert_str_eq(l->runs[0]->error, msg);
	ck_assert_ptr_null(l->runs[0]->model_name);
	mlctl_run_list_free(l);
	ck_assert_int_eq(mlctl_model_resolve(&v, reg, "bad"), MLCTL_ENOTFOUND);
	ck_assert_ptr_null(v);
}

START_TEST(test_train_unknown_label_column)
{
	const char *p = write_tmp("nolabel.csv", "a,b,c\n1,2,3\n4,5,6\n7,8,9\n");

	expect_refused(p, "target", MLCTL_EDATA, "nolabel.csv", "no label column \"target\"");
	/* Without --label the default "label" is looked for, and the message says how to
	 * name another. */
	expect_refused(p, NULL, MLCTL_EDATA, "nolabel.csv: no label column", "--label");
}
END_TEST

START_TEST(test_train_malformed_csv)
{
	const char *ragged = write_tmp("ragged.csv", "a,b,label\n1,2,x\n3,4\n5,6,y\n");
	/* One text value among twenty numbers is a typo, not a categorical column. */
	const char *typo = write_tmp("typo.csv", "a,b,label\n1,2,x\n3,4O,y\n5,6,y\n7,8,x\n9,10,y\n11,12,x\n13,14,y\n"
				     "15,16,x\n17,18,y\n19,20,x\n21,22,y\n23,24,x\n25,26,y\n27,28,x\n29,30,y\n31,32,x\n"
				     "33,34,y\n35,36,x\n37,38,y\n39,40,x\n41,42,y\n");
	const char *empty = write_tmp("empty.csv", "");
	const char *header = write_tmp("header.csv", "a,b,label\n");

	expect_refused(ragged, NULL, MLCTL_EDATA, "ragged.csv:3: ", "2 fields");
	expect_refused(typo, NULL, MLCTL_EDATA, "typo.csv:3: column \"b\": \"4O\" is not a number", NULL);
	expect_refused(empty, NULL, MLCTL_EDATA, "empty.csv: ", "empty");
	expect_refused(header, NULL, MLCTL_EDATA, "header.csv: no data rows", NULL);
	expect_refused(tmp_file("nosuch.csv"), NULL, MLCTL_ENOTFOUND, "nosuch.csv", NULL);
}
END_TEST

START_TEST(test_train_constant_label)
{
	const char *p = write_tmp("oneclass.csv", "a,b,label\n1,2,x\n3,4,x\n5,6,x\n7,1,x\n");

	expect_refused(p, NULL, MLCTL_EDATA, "oneclass.csv: ", "only one class (\"x\")");
}
END_TEST

/* Option errors are usage errors, found before any data is read. */
START_TEST(test_train_bad_options)
{
	mlctl_train_options o;
	mlctl_train_result *r = NULL;

	iris_options(&o);
	o.name = "no spaces";
	ck_assert_int_eq(mlctl_train(&r, reg, &o), MLCTL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(last_message(), "invalid model name \"no spaces\""));
	iris_options(&o);
	o.scale = "log";
	ck_assert_int_eq(mlctl_train(&r, reg, &o), MLCTL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(last_message(), "--scale \"log\""));
	iris_options(&o);
	o.metric = "happiness";
	ck_assert_int_eq(mlctl_train(&r, reg, &o), MLCTL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(last_message(), "--metric \"happiness\": unknown metric"));
	ck_assert_ptr_null(r);
}
END_TEST

/* Stop after 2 grid points, counting the calls in *payload (negative once one was not
 * about the 6 points of the grid). Tuning workers call it, so it asserts nothing itself;
 * a lock keeps the count whole. */
static pthread_mutex_t calls_mu = PTHREAD_MUTEX_INITIALIZER;

static bool stop_after_2(const char *what, uint64_t done, uint64_t total, void *payload)
{
	int *calls = payload;

	pthread_mutex_lock(&calls_mu);
	*calls = strcmp(what, "grid") == 0 && total == 6 && *calls >= 0 ? *calls + 1 : -1;
	pthread_mutex_unlock(&calls_mu);
	return done < 2;
}

/* A host that stops a tuning from its progress callback: an error, a failed run, no
 * version. */
START_TEST(test_train_stopped_by_progress)
{
	mlctl_train_options o;
	mlctl_train_result *r = NULL;
	mlctl_model_version *v = NULL;
	mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;
	mlctl_run_list *l = NULL;
	int calls = 0;

	iris_options(&o);
	o.svm = NULL;
	o.n_svm = 0;
	o.tune = "C=1|4|16,gamma=0.25|1";
	o.cv = 3;
	o.progress = stop_after_2;
	o.progress_payload = &calls;
	ck_assert_int_eq(mlctl_train(&r, reg, &o), MLCTL_ERROR);
	ck_assert_ptr_null(r);
	ck_assert_int_ge(calls, 2);
	f.kind = "train";
	ck_assert_int_eq(mlctl_run_list_get(&l, reg, &f), 0);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_int_eq(l->runs[0]->status, MLCTL_RUN_FAILED);
	ck_assert_ptr_nonnull(l->runs[0]->error);
	mlctl_run_list_free(l);
	ck_assert_int_eq(mlctl_model_resolve(&v, reg, "iris"), MLCTL_ENOTFOUND);
}
END_TEST

static Suite *train_suite(void)
{
	Suite *s = suite_create("train");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_train_registers_versions);
	tcase_add_test(tc, test_train_same_seed_same_model);
	tcase_add_test(tc, test_train_tune_records_grid);
	tcase_add_test(tc, test_train_unknown_label_column);
	tcase_add_test(tc, test_train_malformed_csv);
	tcase_add_test(tc, test_train_constant_label);
	tcase_add_test(tc, test_train_bad_options);
	tcase_add_test(tc, test_train_stopped_by_progress);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(train_suite)
