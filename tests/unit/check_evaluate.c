/*
 * check_evaluate.c — evaluate.c (floor 3): classes in ascending value order, predictions
 * through the batch scorer and their metrics (keys per task), the decision value's sign
 * (positive for the larger class), seeded stratified holdout splits and CV folds
 * (deterministic; each fold's class counts within 1 of n_class / k), parameter names.
 */
#include <math.h>

#include <libsvm/svm.h>

#include "check_util.h"
#include "dataset.h"
#include "error.h"
#include "evaluate.h"
#include "model.h"
#include "schema.h"
#include "tune.h"
#include "util.h"

/* A data file loaded, its schema fitted and its matrix transformed. */
struct fixture {
	ds_table *t;
	mlctl_schema *s;
	schema_matrix *x;
	size_t n;
};

static void fixture_load(struct fixture *f, const char *file, const char *label, schema_task task)
{
	schema_options o = SCHEMA_OPTIONS_INIT;
	int ret;

	memset(f, 0, sizeof(*f));
	o.label = label;
	o.task = task;
	ret = ds_table_load(&f->t, data_path(file), DS_FORMAT_AUTO);
	ck_assert_msg(ret == 0, "%s: %s", file, mlctl_error_last()->message);
	ret = schema_fit(&f->s, f->t, &o);
	ck_assert_msg(ret == 0, "%s: %s", file, mlctl_error_last()->message);
	ret = schema_transform_table(&f->x, f->s, f->t, NULL, 0, true);
	ck_assert_msg(ret == 0, "%s: %s", file, mlctl_error_last()->message);
	f->n = (size_t)f->x->prob.l;
}

static void fixture_free(struct fixture *f)
{
	schema_matrix_free(f->x);
	schema_free(f->s);
	ds_table_free(f->t);
}

static void quiet(const char *s)
{
	(void)s;
}

static struct svm_model *train(const struct fixture *f, int type, bool probability)
{
	struct svm_parameter p;
	struct svm_model *m = NULL;
	int ret;

	svm_set_print_string_function(quiet);
	model_param_defaults(&p);
	p.svm_type = type;
	p.probability = probability;
	ret = model_train(&m, &f->x->prob, &p, f->x->nfeatures, 1);
	ck_assert_msg(ret == 0, "train: %s", mlctl_error_last()->message);
	model_param_release(&p);
	return m;
}

START_TEST(test_evaluate_classes)
{
	struct fixture f;
	evaluate_classes c;
	size_t i, j;
	int found = 0;

	fixture_load(&f, "iris.csv", "species", SCHEMA_TASK_CLASSIFY);
	ck_assert_int_eq(evaluate_classes_init(&c, f.s), 0);
	ck_assert_uint_eq(c.n, 3);
	for (i = 0; i < c.n; i++) {
		if (i)
			ck_assert(c.values[i - 1] < c.values[i]);
		ck_assert_str_eq(c.names[i], schema_class_for_value(f.s, c.values[i]));
		for (j = 0; j < 3; j++)
			found += strcmp(c.names[i], (const char *[]){ "setosa", "versicolor", "virginica" }[j]) == 0;
	}
	ck_assert_int_eq(found, 3);
	evaluate_classes_release(&c);
	ck_assert_ptr_null(c.values);
	evaluate_classes_release(&c);	/* twice is harmless */
	fixture_free(&f);
}
END_TEST

/* Three classes with probabilities: labels as svm_predict gives them, probabilities in
 * ascending class order summing to 1, no decision values; the metric keys of a
 * classification report. */
START_TEST(test_evaluate_predict_multiclass)
{
	static const char *const keys[] = {
		"accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro", "precision_weighted",
		"recall_weighted", "f1_weighted", "roc_auc", "log_loss", "precision[setosa]", "recall[virginica]",
		"f1[versicolor]", "support[setosa]",
	};
	struct fixture f;
	struct svm_model *m;
	double *pred, *proba = NULL, *dec = (double *)0x1, v, acc;
	metrics_report *r = NULL;
	evaluate_classes c;
	size_t i, k, right = 0;

	fixture_load(&f, "iris.csv", "species", SCHEMA_TASK_CLASSIFY);
	m = train(&f, C_SVC, true);
	pred = calloc(f.n, sizeof(*pred));
	ck_assert_int_eq(evaluate_predict(pred, &proba, &dec, m, f.s, f.x), 0);
	ck_assert_ptr_nonnull(proba);
	ck_assert_ptr_null(dec);
	ck_assert_int_eq(evaluate_classes_init(&c, f.s), 0);
	for (i = 0; i < f.n; i++) {
		double sum = 0;

		ck_assert(pred[i] == svm_predict(m, f.x->prob.x[i]));
		right += pred[i] == f.x->prob.y[i];
		for (k = 0; k < 3; k++) {
			ck_assert(proba[i * 3 + k] >= 0 && proba[i * 3 + k] <= 1);
			sum += proba[i * 3 + k];
		}
		ck_assert_msg(fabs(sum - 1) < 1e-9, "row %zu: probabilities sum to %.17g", i, sum);
	}
	/* The probability columns follow the ascending class values: on the training rows the
	 * true class has the largest probability most of the time. */
	{
		size_t agree = 0;

		for (i = 0; i < f.n; i++) {
			size_t best = 0;

			for (k = 1; k < 3; k++)
				if (proba[i * 3 + k] > proba[i * 3 + best])
					best = k;
			agree += c.values[best] == f.x->prob.y[i];
		}
		ck_assert_msg(agree > f.n * 9 / 10, "%zu of %zu", agree, f.n);
	}
	ck_assert_int_eq(evaluate_report(&r, f.s, f.x->prob.y, pred, f.n, proba, dec), 0);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(metrics_get(r, keys[i], &v), "no %s in the report", keys[i]);
	ck_assert(!metrics_get(r, "rmse", &v));
	ck_assert(metrics_get(r, "accuracy", &acc));
	ck_assert(acc == (double)right / (double)f.n);
	ck_assert_msg(acc > 0.9, "training accuracy %g", acc);
	ck_assert(metrics_get(r, "support[setosa]", &v) && v == 50);
	ck_assert_uint_eq(r->nclasses, 3);
	metrics_report_free(r);
	evaluate_classes_release(&c);
	free(pred);
	free(proba);
	svm_free_and_destroy_model(&m);
	fixture_free(&f);
}
END_TEST

/* Binary: the decision value is positive exactly when the label is the larger class,
 * whichever class libsvm met first; roc_auc comes from it. */
START_TEST(test_evaluate_predict_binary_dec_sign)
{
	struct fixture f;
	struct svm_model *m;
	double *pred, *proba = (double *)0x1, *dec = NULL, v, hi;
	metrics_report *r = NULL;
	evaluate_classes c;
	size_t i;
	int flip, first[2];

	/* Not heart_scale: libsvm puts +1 first whatever the order when the labels are -1 and
	 * +1, so only other label values exercise both orientations. */
	fixture_load(&f, "mlc_churn.csv", "churn", SCHEMA_TASK_CLASSIFY);
	f.x->prob.l = 300;	/* 263 no, 37 yes: quick under valgrind */
	f.n = 300;
	ck_assert_int_eq(evaluate_classes_init(&c, f.s), 0);
	ck_assert_uint_eq(c.n, 2);
	hi = c.values[1];
	pred = calloc(f.n, sizeof(*pred));
	/* Once as the file comes, once with the first row of the other class moved to the
	 * front: libsvm then meets the other class first and orients its decision value the
	 * other way. */
	for (flip = 0; flip <= 1; flip++) {
		int labels[2];

		if (flip) {
			for (i = 1; f.x->prob.y[i] == f.x->prob.y[0]; i++)
				;
			{
				struct svm_node *tx = f.x->prob.x[0];
				double ty = f.x->prob.y[0];

				f.x->prob.x[0] = f.x->prob.x[i];
				f.x->prob.y[0] = f.x->prob.y[i];
				f.x->prob.x[i] = tx;
				f.x->prob.y[i] = ty;
			}
		}
		m = train(&f, C_SVC, false);
		svm_get_labels(m, labels);
		ck_assert(labels[0] == f.x->prob.y[0]);	/* the class libsvm met first */
		first[flip] = labels[0];
		ck_assert_int_eq(evaluate_predict(pred, &proba, &dec, m, f.s, f.x), 0);
		ck_assert_ptr_null(proba);
		ck_assert_ptr_nonnull(dec);
		for (i = 0; i < f.n; i++)
			ck_assert_msg((dec[i] > 0) == (pred[i] == hi), "order %d row %zu: pred %g dec %g", flip, i,
				      pred[i], dec[i]);
		ck_assert_int_eq(evaluate_report(&r, f.s, f.x->prob.y, pred, f.n, NULL, dec), 0);
		ck_assert(metrics_get(r, "roc_auc", &v) && v > 0.85 && v <= 1);
		ck_assert(!metrics_get(r, "log_loss", &v));	/* no probabilities */
		metrics_report_free(r);
		free(dec);
		dec = NULL;
		svm_free_and_destroy_model(&m);
	}
	ck_assert_int_ne(first[0], first[1]);
	evaluate_classes_release(&c);
	free(pred);
	fixture_free(&f);
}
END_TEST

START_TEST(test_evaluate_regression_keys)
{
	static const char *const keys[] = { "mse", "rmse", "mae", "r2", "max_error" };
	struct fixture f;
	struct svm_model *m;
	double *pred, *proba = (double *)0x1, *dec = (double *)0x1, v, mse, rmse;
	metrics_report *r = NULL;
	evaluate_ctx ctx;
	size_t i;

	fixture_load(&f, "concrete.csv", "compressive_strength", SCHEMA_TASK_REGRESS);
	f.x->prob.l = 300;	/* enough for a fit, quick under valgrind */
	f.n = 300;
	m = train(&f, EPSILON_SVR, false);
	pred = calloc(f.n, sizeof(*pred));
	ck_assert_int_eq(evaluate_predict(pred, &proba, &dec, m, f.s, f.x), 0);
	ck_assert_ptr_null(proba);
	ck_assert_ptr_null(dec);
	/* The batch scorer's sums may differ from libsvm's in the last bits (svkern.h: FMA
	 * kernels), so a regression output is libsvm's to 1e-9 relative, not bit for bit. */
	for (i = 0; i < f.n; i++) {
		double want = svm_predict(m, f.x->prob.x[i]);

		ck_assert_msg(fabs(pred[i] - want) <= 1e-9 * (1 + fabs(want)), "row %zu: %.17g, libsvm %.17g", i,
			      pred[i], want);
	}
	ck_assert_int_eq(evaluate_report(&r, f.s, f.x->prob.y, pred, f.n, NULL, NULL), 0);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(metrics_get(r, keys[i], &v), "no %s in the report", keys[i]);
	ck_assert(!metrics_get(r, "accuracy", &v));
	ck_assert(metrics_get(r, "mse", &mse) && metrics_get(r, "rmse", &rmse));
	ck_assert(fabs(rmse - sqrt(mse)) <= 1e-12 * rmse);
	/* evaluate_score: the metric named in the context, NaN for one the task lacks. */
	evaluate_ctx_init(&ctx, f.s, "rmse");
	ck_assert_str_eq(ctx.cv_key, "cv_rmse");
	ck_assert(evaluate_score(f.x->prob.y, pred, NULL, f.n, &ctx) == rmse);
	evaluate_ctx_init(&ctx, f.s, "accuracy");
	ck_assert(isnan(evaluate_score(f.x->prob.y, pred, NULL, f.n, &ctx)));
	metrics_report_free(r);
	free(pred);
	svm_free_and_destroy_model(&m);
	fixture_free(&f);
}
END_TEST

static size_t count_class(const double *y, const int *mark, size_t n, double cls)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += y[i] == cls && (!mark || mark[i]);
	return k;
}

/* Holdout: seeded, the same share of each class, another seed another draw. */
START_TEST(test_evaluate_split)
{
	struct fixture f;
	evaluate_classes c;
	int *a, *b;
	size_t i, k, ntest = 0, differ = 0;

	fixture_load(&f, "wine.csv", "cultivar", SCHEMA_TASK_CLASSIFY);
	ck_assert_int_eq(evaluate_classes_init(&c, f.s), 0);
	a = calloc(f.n, sizeof(int));
	b = calloc(f.n, sizeof(int));
	ck_assert_int_eq(evaluate_split(a, f.x->prob.y, f.n, true, 0.25, 42), 0);
	ck_assert_int_eq(evaluate_split(b, f.x->prob.y, f.n, true, 0.25, 42), 0);
	ck_assert(memcmp(a, b, f.n * sizeof(int)) == 0);
	for (k = 0; k < c.n; k++) {
		size_t all = count_class(f.x->prob.y, NULL, f.n, c.values[k]);
		size_t held = count_class(f.x->prob.y, a, f.n, c.values[k]);

		ck_assert_msg(held == (size_t)llround(0.25 * (double)all), "class %s: %zu of %zu held out",
			      c.names[k], held, all);
	}
	for (i = 0; i < f.n; i++) {
		ck_assert(a[i] == 0 || a[i] == 1);
		ntest += (size_t)a[i];
	}
	ck_assert(ntest > 0 && ntest < f.n);
	ck_assert_int_eq(evaluate_split(b, f.x->prob.y, f.n, true, 0.25, 43), 0);
	for (i = 0; i < f.n; i++)
		differ += a[i] != b[i];
	ck_assert_msg(differ > 10, "another seed moved %zu rows", differ);
	/* Not stratified: one share of all rows. */
	ck_assert_int_eq(evaluate_split(b, f.x->prob.y, f.n, false, 0.3, 42), 0);
	for (i = 0, ntest = 0; i < f.n; i++)
		ntest += (size_t)b[i];
	ck_assert_uint_eq(ntest, (size_t)llround(0.3 * (double)f.n));
	ck_assert_int_eq(evaluate_split(b, f.x->prob.y, 0, true, 0.3, 42), 0);
	/* A share outside (0, 1) is refused before anything is written. */
	expect_err(evaluate_split(b, f.x->prob.y, f.n, true, 1.5, 42), MLCTL_EUSAGE, "holdout fraction 1.5");
	expect_err(evaluate_split(b, f.x->prob.y, f.n, false, 0, 42), MLCTL_EUSAGE, "not between 0 and 1");
	expect_err(evaluate_split(b, f.x->prob.y, f.n, false, NAN, 42), MLCTL_EUSAGE, "not between 0 and 1");
	free(a);
	free(b);
	evaluate_classes_release(&c);
	fixture_free(&f);
}
END_TEST

/* Rounding each class's share never leaves a side empty: evaluate.h promises at least one
 * row on each side when n >= 2, for any share, stratified or not, whatever the seed. */
static size_t split_ntest(const double *y, size_t n, bool stratify, double frac, uint64_t seed)
{
	int t[16];
	size_t i, ntest = 0;

	ck_assert_uint_le(n, 16);
	ck_assert_int_eq(evaluate_split(t, y, n, stratify, frac, seed), 0);
	for (i = 0; i < n; i++) {
		ck_assert(t[i] == 0 || t[i] == 1);
		ntest += (size_t)t[i];
	}
	ck_assert_msg(ntest >= 1 && ntest < n, "%zu rows, holdout %g%s, seed %llu: %zu test rows", n, frac,
		      stratify ? " stratified" : "", (unsigned long long)seed, ntest);
	return ntest;
}

START_TEST(test_evaluate_split_both_sides)
{
	static const double two[] = { 0, 1 }, five[] = { 0, 0, 1, 1, 1 };
	static const double fracs[] = { 0.01, 0.05, 0.3, 0.5, 0.7, 0.95, 0.99 };
	static const double mixed[] = { 0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 3, 4, 5, 6, 7, 8 };
	size_t n, f, st;
	uint64_t seed;

	ck_assert_uint_eq(split_ntest(two, 2, true, 0.5, 1), 1);	/* was 2: one of each class */
	ck_assert_uint_eq(split_ntest(five, 5, false, 0.05, 1), 1);	/* was 0 */
	for (n = 2; n <= 16; n++)
		for (f = 0; f < sizeof(fracs) / sizeof(fracs[0]); f++)
			for (st = 0; st < 2; st++)
				for (seed = 1; seed <= 3; seed++)
					split_ntest(mixed, n, st, fracs[f], seed);
}
END_TEST

/* CV folds (tune_folds, which cross-validation in train and tune uses): deterministic, and
 * each fold holds within 1 of n_class / k rows of every class, for k that divide nothing. */
START_TEST(test_evaluate_folds_stratified)
{
	static const int ks[] = { 2, 4, 7, 10 };
	struct fixture f;
	evaluate_classes c;
	int *a, *b;
	size_t i, t, cls;

	fixture_load(&f, "wine.csv", "cultivar", SCHEMA_TASK_CLASSIFY);	/* 59, 71, 48 rows */
	ck_assert_int_eq(evaluate_classes_init(&c, f.s), 0);
	a = calloc(f.n, sizeof(int));
	b = calloc(f.n, sizeof(int));
	for (t = 0; t < sizeof(ks) / sizeof(ks[0]); t++) {
		int k = ks[t], fold;

		ck_assert_int_eq(tune_folds(a, f.x->prob.y, f.n, k, true, 9), 0);
		ck_assert_int_eq(tune_folds(b, f.x->prob.y, f.n, k, true, 9), 0);
		ck_assert(memcmp(a, b, f.n * sizeof(int)) == 0);
		for (cls = 0; cls < c.n; cls++) {
			double all = (double)count_class(f.x->prob.y, NULL, f.n, c.values[cls]);

			for (fold = 0; fold < k; fold++) {
				size_t in = 0;

				for (i = 0; i < f.n; i++)
					in += a[i] == fold && f.x->prob.y[i] == c.values[cls];
				ck_assert_msg(fabs((double)in - all / k) < 1, "k %d fold %d class %s: %zu rows, n/k %g", k,
					      fold, c.names[cls], in, all / k);
			}
		}
	}
	free(a);
	free(b);
	evaluate_classes_release(&c);
	fixture_free(&f);
}
END_TEST

static int collect(void *ctx, const char *k, const char *v)
{
	strbuf *sb = ctx;

	if (strcmp(k, "stop") == 0)
		return MLCTL_ERROR;
	return strbuf_printf(sb, "%s=%s;", k, v);
}

static int stop_at_gamma(void *ctx, const char *k, const char *v)
{
	(void)v;
	*(int *)ctx += 1;
	return strcmp(k, "gamma") == 0 ? MLCTL_ECONFIG : 0;
}

START_TEST(test_evaluate_params)
{
	struct svm_parameter p;
	strbuf sb = MLCTL_STRBUF_INIT;
	evaluate_ctx ctx;
	tune_grid *g = NULL;
	int calls = 0;

	model_param_defaults(&p);
	p.C = 2.5;
	p.gamma = 0.125;
	ck_assert(evaluate_param_value(&p, "C") == 2.5);
	ck_assert(evaluate_param_value(&p, "c") == 2.5);
	ck_assert(evaluate_param_value(&p, "gamma") == 0.125);
	p.nu = 0.3;
	p.p = 0.01;
	p.degree = 4;
	p.coef0 = -1;
	ck_assert(evaluate_param_value(&p, "nu") == 0.3);
	ck_assert(evaluate_param_value(&p, "epsilon") == 0.01 && evaluate_param_value(&p, "p") == 0.01);
	ck_assert(evaluate_param_value(&p, "degree") == 4);
	ck_assert(evaluate_param_value(&p, "coef0") == -1);
	ck_assert(isnan(evaluate_param_value(&p, "shrinking")));
	ck_assert(isnan(evaluate_param_value(&p, "")));

	p.svm_type = C_SVC;
	p.kernel_type = RBF;
	ck_assert_int_eq(evaluate_describe_params(&p, collect, &sb), 0);
	ck_assert_str_eq(sb.buf, "type=c-svc;kernel=rbf;C=2.5;gamma=0.125;probability=0;");
	strbuf_release(&sb);
	p.svm_type = NU_SVR;
	p.kernel_type = POLY;
	p.probability = 1;
	ck_assert_int_eq(evaluate_describe_params(&p, collect, &sb), 0);
	ck_assert_str_eq(sb.buf, "type=nu-svr;kernel=poly;C=2.5;nu=0.3;gamma=0.125;degree=4;"
				 "coef0=-1;probability=1;");
	strbuf_release(&sb);
	p.svm_type = EPSILON_SVR;
	p.kernel_type = LINEAR;
	ck_assert_int_eq(evaluate_describe_params(&p, collect, &sb), 0);
	ck_assert_str_eq(sb.buf, "type=epsilon-svr;kernel=linear;C=2.5;epsilon=0.01;probability=1;");
	strbuf_release(&sb);
	/* The callback's error stops the walk and comes back. */
	p.kernel_type = SIGMOID;
	ck_assert_int_eq(evaluate_describe_params(&p, stop_at_gamma, &calls), MLCTL_ECONFIG);
	ck_assert_int_eq(calls, 5);	/* type, kernel, C, epsilon, gamma */

	ck_assert_int_eq(evaluate_single_grid(&g, &p), 0);
	ck_assert_uint_eq(tune_grid_size(g), 1);
	ck_assert_uint_eq(g->naxes, 1);
	ck_assert_str_eq(g->axes[0].name, "C");
	ck_assert(g->axes[0].values[0] == 2.5);
	tune_grid_free(g);

	evaluate_ctx_init(&ctx, NULL, "f1_macro");
	ck_assert_str_eq(ctx.cv_key, "cv_f1_macro");
	ck_assert_str_eq(evaluate_grid_key(&ctx, 0, "C"), "grid_C");
	ck_assert_str_eq(evaluate_grid_key(&ctx, 1, "gamma"), "grid_gamma");
	ck_assert_str_eq(ctx.grid_keys[0], "grid_C");
	ck_assert_str_eq(evaluate_grid_key(&ctx, 99, "nu"), "grid_nu");	/* clamped to the last slot */
	model_param_release(&p);
}
END_TEST

static Suite *evaluate_suite(void)
{
	Suite *s = suite_create("evaluate");
	TCase *tc = tcase_create("evaluate");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_evaluate_classes);
	tcase_add_test(tc, test_evaluate_predict_multiclass);
	tcase_add_test(tc, test_evaluate_predict_binary_dec_sign);
	tcase_add_test(tc, test_evaluate_regression_keys);
	tcase_add_test(tc, test_evaluate_split);
	tcase_add_test(tc, test_evaluate_split_both_sides);
	tcase_add_test(tc, test_evaluate_folds_stratified);
	tcase_add_test(tc, test_evaluate_params);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(evaluate_suite)
