/*
 * check_tune.c — grid parsing, seeded stratified folds, cross-validated predictions and
 * the threaded grid search, on heart_scale, against libsvm's own svm-grid.
 */
#include <math.h>
#include <pthread.h>

#include "check_util.h"
#include "svm_reader.h"

#include "error.h"
#include "model.h"
#include "tune.h"

static struct test_problem heart;

static void heart_setup(void)
{
	tmpdir_setup();
	if (test_problem_read(&heart, data_path("heart_scale")) != 0)
		abort();
}

static void heart_teardown(void)
{
	test_problem_free(&heart);
	tmpdir_teardown();
}

static void expect_grid_error(const char *spec, const char *msg)
{
	tune_grid *g = (tune_grid *)0x1;

	ck_assert_int_eq(tune_grid_parse(&g, spec), MLCTL_EUSAGE);
	ck_assert_ptr_null(g);
	ck_assert_msg(strcmp(mlctl_error_last()->message, msg) == 0, "%s: got \"%s\", want \"%s\"",
		      spec, mlctl_error_last()->message, msg);
}

START_TEST(test_tune_grid_default)
{
	tune_grid *g = NULL;
	int i;

	ck_assert_int_eq(tune_grid_default(&g), 0);
	ck_assert_uint_eq(tune_grid_size(g), 110);
	ck_assert_uint_eq(g->naxes, 2);
	ck_assert_str_eq(g->axes[0].name, "C");
	ck_assert_uint_eq(g->axes[0].nvalues, 11);
	for (i = 0; i < 11; i++)
		ck_assert(g->axes[0].values[i] == ldexp(1, -5 + 2 * i));
	ck_assert_str_eq(g->axes[1].name, "gamma");
	ck_assert_uint_eq(g->axes[1].nvalues, 10);
	for (i = 0; i < 10; i++)
		ck_assert(g->axes[1].values[i] == ldexp(1, 3 - 2 * i));
	tune_grid_free(g);
}
END_TEST

START_TEST(test_tune_grid_parse)
{
	struct svm_parameter p;
	tune_grid *g = NULL;

	ck_assert_int_eq(tune_grid_parse(&g, "C=0.1|1|10,gamma=0.1;0.2;0.3"), 0);
	ck_assert_uint_eq(tune_grid_size(g), 9);
	ck_assert(g->axes[0].values[0] == 0.1 && g->axes[0].values[2] == 10);
	ck_assert(g->axes[1].values[1] == 0.2);
	/* Row-major: the last axis varies fastest. */
	model_param_defaults(&p);
	ck_assert_int_eq(tune_grid_apply(g, 4, &p), 0);
	ck_assert(p.C == 1 && p.gamma == 0.2);
	ck_assert_int_eq(tune_grid_apply(g, 8, &p), 0);
	ck_assert(p.C == 10 && p.gamma == 0.3);
	ck_assert_int_eq(tune_grid_apply(g, 9, &p), MLCTL_EUSAGE);
	tune_grid_free(g);

	ck_assert_int_eq(tune_grid_parse(&g, "degree=1..4:+1,coef0=1..-1:-0.5,nu=0.5,epsilon=2^-2"), 0);
	ck_assert_uint_eq(g->axes[0].nvalues, 4);
	ck_assert(g->axes[0].values[3] == 4);
	ck_assert_uint_eq(g->axes[1].nvalues, 5);
	ck_assert(g->axes[1].values[4] == -1 && g->axes[1].values[2] == 0);
	ck_assert(g->axes[3].values[0] == 0.25);
	model_param_defaults(&p);
	ck_assert_int_eq(tune_grid_apply(g, tune_grid_size(g) - 1, &p), 0);
	ck_assert(p.degree == 4 && p.coef0 == -1 && p.nu == 0.5 && p.p == 0.25);
	tune_grid_free(g);

	/* Geometric ranges that do not land on their end stop before it. */
	ck_assert_int_eq(tune_grid_parse(&g, "C=1..100:x3"), 0);
	ck_assert_uint_eq(g->axes[0].nvalues, 5);   /* 1 3 9 27 81 */
	ck_assert(g->axes[0].values[4] == 81);
	tune_grid_free(g);

	expect_grid_error("C=abc", "C: \"abc\" is not a number");
	expect_grid_error("colour=1|2", "\"colour\" cannot be tuned (one of C, gamma, degree, coef0, "
			  "nu, epsilon, cache, tolerance, shrinking, probability)");
	expect_grid_error("C=1..4", "C: range \"1..4\" needs a step (:xF, :/F, :+S or :-S)");
	expect_grid_error("C=4..1:x2", "C: range \"4..1:x2\" never reaches its end");
	expect_grid_error("C=1..4:x1", "C: step \"x1\" must be greater than 1");
	expect_grid_error("C=1..4:*2", "C: step \"*2\" is not xF, /F, +S or -S with a positive number");
	expect_grid_error("C=0|1", "grid: C: \"0\" must be greater than 0");
	expect_grid_error("degree=1.5", "grid: degree: \"1.5\" is not an integer");
	expect_grid_error("C=1,C=2", "grid: C appears twice");
	expect_grid_error("C", "grid: \"C\" is not NAME=VALUES");
	expect_grid_error("", "grid: empty specification");
	expect_grid_error("C=1..1e9:+1e-3", "C: more than 10000 values");
}
END_TEST

START_TEST(test_tune_folds_stratified)
{
	size_t n = (size_t)heart.prob.l, i;
	int *a = calloc(n, sizeof(int)), *b = calloc(n, sizeof(int));
	int size[5] = { 0 }, pos[5] = { 0 }, f, diff = 0;

	ck_assert_int_eq(tune_folds(a, heart.prob.y, n, 5, true, 1), 0);
	for (i = 0; i < n; i++) {
		ck_assert(a[i] >= 0 && a[i] < 5);
		size[a[i]]++;
		pos[a[i]] += heart.prob.y[i] > 0;
	}
	/* 270 rows, 120 positive: 54 rows and 24 positives in every fold. */
	for (f = 0; f < 5; f++) {
		ck_assert_int_eq(size[f], 54);
		ck_assert_int_eq(pos[f], 24);
	}
	ck_assert_int_eq(tune_folds(b, heart.prob.y, n, 5, true, 1), 0);
	ck_assert(memcmp(a, b, n * sizeof(int)) == 0);
	ck_assert_int_eq(tune_folds(b, heart.prob.y, n, 5, true, 2), 0);
	for (i = 0; i < n; i++)
		diff += a[i] != b[i];
	ck_assert_msg(diff > 100, "another seed moved only %d rows", diff);
	/* Not stratified: still balanced sizes, shuffled. */
	ck_assert_int_eq(tune_folds(b, heart.prob.y, n, 4, false, 1), 0);
	memset(size, 0, sizeof(size));
	for (i = 0; i < n; i++)
		size[b[i]]++;
	ck_assert(size[0] == 68 && size[1] == 68 && size[2] == 67 && size[3] == 67);
	ck_assert_int_eq(tune_folds(b, heart.prob.y, n, 1, true, 1), MLCTL_EUSAGE);
	ck_assert_int_eq(tune_folds(b, heart.prob.y, 3, 4, true, 1), MLCTL_EUSAGE);
	free(a);
	free(b);
}
END_TEST

/* dec > 0 must mean the larger label, whichever label libsvm saw first. */
static void check_dec_rule(const double *y, double larger, double smaller)
{
	struct svm_problem prob = heart.prob;
	struct svm_parameter p;
	size_t n = (size_t)prob.l, i, ok = 0;
	double *pred = calloc(n, sizeof(double)), *dec = calloc(n, sizeof(double));
	int *fold = calloc(n, sizeof(int));

	prob.y = (double *)y;
	model_param_defaults(&p);
	ck_assert_int_eq(tune_folds(fold, y, n, 5, true, 3), 0);
	ck_assert_int_eq(tune_cv_predict(pred, dec, &prob, &p, heart.nfeatures, fold, 5), 0);
	for (i = 0; i < n; i++) {
		ck_assert(dec[i] != 0);
		ck_assert_msg(pred[i] == (dec[i] > 0 ? larger : smaller), "row %zu: pred %g dec %g",
			      i, pred[i], dec[i]);
		ok += pred[i] == y[i];
	}
	ck_assert_msg((double)ok / (double)n > 0.78, "CV accuracy %g", (double)ok / (double)n);
	free(pred);
	free(dec);
	free(fold);
}

START_TEST(test_tune_cv_predict_dec_sign)
{
	size_t n = (size_t)heart.prob.l, i;
	double *neg = calloc(n, sizeof(double)), *shift = calloc(n, sizeof(double));

	/* heart_scale's first row is +1: libsvm's label[0] is the larger label. */
	check_dec_rule(heart.prob.y, 1, -1);
	/* Negated, its first label is the smaller one: libsvm's dec must be flipped. */
	for (i = 0; i < n; i++) {
		neg[i] = -heart.prob.y[i];
		shift[i] = heart.prob.y[i] > 0 ? 7 : 3;
	}
	check_dec_rule(neg, 1, -1);
	check_dec_rule(shift, 7, 3);
	free(neg);
	free(shift);
}
END_TEST

struct progress_log {
	int inside, calls, overlap;
	uint64_t last;
	bool ordered;
	uint64_t stop_at;
};

static bool progress(const char *what, uint64_t done, uint64_t total, void *payload)
{
	struct progress_log *pl = payload;

	if (__atomic_fetch_add(&pl->inside, 1, __ATOMIC_SEQ_CST) != 0)
		pl->overlap++;
	usleep(1000);   /* widen the window an unlocked caller would race in */
	pl->calls++;
	if (done != pl->last + 1 || total == 0 || strcmp(what, "grid") != 0)
		pl->ordered = false;
	pl->last = done;
	__atomic_fetch_sub(&pl->inside, 1, __ATOMIC_SEQ_CST);
	return !(pl->stop_at && done >= pl->stop_at);
}

/* The share of rows whose dec sign agrees with the prediction (dec must be there). */
static double dec_agreement(const double *y, const double *pred, const double *dec, size_t n,
			    void *ctx)
{
	size_t i, ok = 0;

	if (!dec)
		return -1;
	for (i = 0; i < n; i++)
		ok += pred[i] == (dec[i] > 0 ? 1 : -1);
	return (double)ok / (double)n;
}

START_TEST(test_tune_run_threads_deterministic)
{
	tune_options o = { .folds = 5, .seed = 11, .threads = 1, .progress = progress };
	struct progress_log log1 = { .ordered = true }, log2 = { .ordered = true };
	tune_result *r1 = NULL, *r2 = NULL;
	struct svm_parameter base;
	tune_grid *g = NULL;
	size_t i;

	model_param_defaults(&base);
	ck_assert_int_eq(tune_grid_parse(&g, "C=0.5|2|8|32,gamma=0.01|0.1|1"), 0);
	o.progress_payload = &log1;
	ck_assert_int_eq(tune_run(&r1, &heart.prob, &base, heart.nfeatures, g, &o), 0);
	o.threads = 2;
	o.progress_payload = &log2;
	ck_assert_int_eq(tune_run(&r2, &heart.prob, &base, heart.nfeatures, g, &o), 0);
	ck_assert_uint_eq(r1->npoints, 12);
	for (i = 0; i < 12; i++) {
		ck_assert_msg(r1->points[i].score == r2->points[i].score, "point %zu: %.17g vs %.17g",
			      i, r1->points[i].score, r2->points[i].score);
		ck_assert(r1->points[i].score > 0.5 && r1->points[i].score <= 1);
		ck_assert(r1->points[i].param.C == r2->points[i].param.C);
	}
	ck_assert(r1->points[7].param.C == 8 && r1->points[7].param.gamma == 0.1);
	ck_assert_uint_eq(r1->best, r2->best);
	ck_assert(log1.calls == 12 && log2.calls == 12 && log1.ordered && log2.ordered);
	ck_assert_int_eq(log2.overlap, 0);
	tune_result_free(r1);
	tune_result_free(r2);

	/* A custom score sees the decision values of a binary problem. */
	o.score = dec_agreement;
	o.higher_is_better = true;
	o.progress = NULL;
	ck_assert_int_eq(tune_run(&r1, &heart.prob, &base, heart.nfeatures, g, &o), 0);
	for (i = 0; i < 12; i++)
		ck_assert(r1->points[i].score == 1.0);
	tune_result_free(r1);
	tune_grid_free(g);
}
END_TEST

START_TEST(test_tune_run_stops_on_request)
{
	tune_options o = { .folds = 3, .seed = 1, .threads = 2, .progress = progress };
	struct progress_log log = { .ordered = true, .stop_at = 2 };
	struct svm_parameter base;
	tune_result *r = (tune_result *)0x1;
	tune_grid *g = NULL;

	model_param_defaults(&base);
	o.progress_payload = &log;
	ck_assert_int_eq(tune_grid_default(&g), 0);
	ck_assert_int_eq(tune_run(&r, &heart.prob, &base, heart.nfeatures, g, &o), MLCTL_ERROR);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "stopped early"));
	ck_assert_int_eq(log.calls, 2);
	tune_grid_free(g);

	/* A bad point (nu-SVC with an infeasible nu) fails the whole run with libsvm's reason. */
	ck_assert_int_eq(tune_grid_parse(&g, "nu=0.5|0.95"), 0);
	ck_assert_int_eq(model_param_set(&base, "type", "nu-svc"), 0);
	o.progress = NULL;
	ck_assert_int_eq(tune_run(&r, &heart.prob, &base, heart.nfeatures, g, &o), MLCTL_EUSAGE);
	ck_assert_str_eq(mlctl_error_last()->message, "invalid model parameters: specified nu is infeasible");
	tune_grid_free(g);
}
END_TEST

/*
 * The default grid, 5 folds, accuracy. libsvm's own grid search, run once by hand:
 *   svm-grid -svmtrain /usr/bin/svm-train -log2c -5,15,2 -log2g 3,-15,-2 -v 5 \
 *            -gnuplot null -out heart_scale.out heart_scale
 * ends with "2048.0 0.0001220703125 84.4444": best CV accuracy 84.44% (its folds come from
 * rand(), ours from our own generator, so only the level is comparable).
 */
START_TEST(test_tune_default_grid_like_svm_grid)
{
	tune_options o = { .folds = 5, .seed = 1, .threads = 2 };
	struct svm_parameter base;
	tune_result *r = NULL;
	tune_grid *g = NULL;
	double best;

	model_param_defaults(&base);
	ck_assert_int_eq(tune_grid_default(&g), 0);
	ck_assert_int_eq(tune_run(&r, &heart.prob, &base, heart.nfeatures, g, &o), 0);
	ck_assert_uint_eq(r->npoints, 110);
	best = r->points[r->best].score;
	ck_assert_msg(best >= 0.80, "best CV accuracy %g", best);
	ck_assert_msg(fabs(best - 0.844444) <= 0.02, "best CV accuracy %g, svm-grid 0.8444", best);
	/* The best point is best, and ties went to the earliest. */
	for (size_t i = 0; i < r->npoints; i++) {
		ck_assert(r->points[i].score <= best);
		if (i < r->best)
			ck_assert(r->points[i].score < best);
	}
	tune_result_free(r);
	tune_grid_free(g);
}
END_TEST


/* Run g on heart with kernel_bytes and threads; the result. */
static tune_result *run_heart(const struct svm_parameter *base, const char *grid, size_t kernel_bytes,
			      int threads, tune_search search)
{
	tune_options o = { .folds = 5, .seed = 3, .threads = threads, .kernel_bytes = kernel_bytes,
			   .search = search };
	tune_result *r = NULL;
	tune_grid *g = NULL;

	ck_assert_int_eq(tune_grid_parse(&g, grid), 0);
	ck_assert_msg(tune_run(&r, &heart.prob, base, heart.nfeatures, g, &o) == 0, "%s",
		      mlctl_error_last()->message);
	tune_grid_free(g);
	return r;
}

/*
 * Every kernel: the points fitted from one shared matrix score as the points fitted from
 * the rows, or at most one row's worth apart (1/n of accuracy), and the best is the same.
 */
START_TEST(test_tune_shared_kernel_same_scores)
{
	static const struct { const char *kernel, *grid; } cases[] = {
		{ "rbf", "C=2^-3..2^9:x4,gamma=2^1..2^-9:/4" },
		{ "linear", "C=2^-5..2^3:x4" },
		{ "poly", "C=2^-3..2^3:x4,gamma=2^-1..2^-5:/4,degree=2|3,coef0=0|1" },
		{ "sigmoid", "C=2^-1..2^5:x4,gamma=2^-5..2^-9:/4,coef0=0|-1" },
	};
	size_t c, i, n = (size_t)heart.prob.l, differ = 0, total = 0;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct svm_parameter base;
		tune_result *a, *b;

		model_param_defaults(&base);
		ck_assert_int_eq(model_param_set(&base, "kernel", cases[c].kernel), 0);
		a = run_heart(&base, cases[c].grid, 0, 2, TUNE_SEARCH_GRID);
		b = run_heart(&base, cases[c].grid, (size_t)1 << 30, 2, TUNE_SEARCH_GRID);
		ck_assert_uint_eq(a->npoints, b->npoints);
		ck_assert_uint_eq(a->nprecomputed, 0);
		ck_assert_uint_eq(b->nprecomputed, b->npoints);
		for (i = 0; i < a->npoints; i++) {
			ck_assert(!a->points[i].precomputed && b->points[i].precomputed);
			ck_assert_msg(fabs(a->points[i].score - b->points[i].score) <= 1.0 / (double)n + 1e-12,
				      "%s point %zu: %.17g vs %.17g", cases[c].kernel, i,
				      a->points[i].score, b->points[i].score);
			differ += a->points[i].score != b->points[i].score;
			total++;
		}
		ck_assert_msg(a->best == b->best, "%s: best %zu vs %zu", cases[c].kernel, a->best, b->best);
		tune_result_free(a);
		tune_result_free(b);
	}
	fprintf(stderr, "tune: %zu of %zu points differ by one row between the two paths\n", differ,
		total);
}
END_TEST

/*
 * Three classes, interleaved in the rows (heart's rows relabelled by their first feature's
 * terciles): the shared matrix, laid out in class order, scores every point as the rows
 * path does, at 1 and 2 threads, and is used for every point.
 */
START_TEST(test_tune_shared_kernel_three_classes)
{
	const char *grid = "C=2^-1..2^7:x4,gamma=2^1..2^-7:/4";
	tune_options o = { .folds = 5, .seed = 3, .threads = 2 };
	struct svm_problem p3 = heart.prob;
	struct svm_parameter base;
	tune_result *a = NULL, *b = NULL, *b1 = NULL;
	tune_grid *g = NULL;
	size_t i, n = (size_t)heart.prob.l, cls[3] = { 0 };
	double *y = calloc(n, sizeof(*y));

	ck_assert_ptr_nonnull(y);
	for (i = 0; i < n; i++) {
		const struct svm_node *e = heart.prob.x[i];
		double v = e->index == 1 ? e->value : 0;

		y[i] = v < -0.3 ? 1 : v < 0.2 ? 2 : 3;
		cls[(int)y[i] - 1]++;
	}
	ck_assert(cls[0] > 30 && cls[1] > 30 && cls[2] > 30);
	p3.y = y;
	model_param_defaults(&base);
	ck_assert_int_eq(tune_grid_parse(&g, grid), 0);
	o.kernel_bytes = 0;
	ck_assert_int_eq(tune_run(&a, &p3, &base, heart.nfeatures, g, &o), 0);
	o.kernel_bytes = (size_t)1 << 30;
	ck_assert_int_eq(tune_run(&b, &p3, &base, heart.nfeatures, g, &o), 0);
	o.threads = 1;
	ck_assert_int_eq(tune_run(&b1, &p3, &base, heart.nfeatures, g, &o), 0);
	ck_assert_uint_eq(a->nprecomputed, 0);
	ck_assert_uint_eq(b->nprecomputed, b->npoints);
	for (i = 0; i < a->npoints; i++) {
		ck_assert_msg(fabs(a->points[i].score - b->points[i].score) <= 1.0 / (double)n + 1e-12,
			      "point %zu: %.17g vs %.17g", i, a->points[i].score, b->points[i].score);
		ck_assert(b->points[i].score == b1->points[i].score);
	}
	ck_assert(a->best == b->best && b->best == b1->best);
	tune_result_free(a);
	tune_result_free(b);
	tune_result_free(b1);
	tune_grid_free(g);
	free(y);
}
END_TEST

/* The shared matrix gives the same bits at 1, 2 and 3 threads; a budget too small for it
 * falls back to the rows and scores exactly as without one. */
START_TEST(test_tune_shared_kernel_threads_and_fallback)
{
	const char *grid = "C=2^-3..2^9:x4,gamma=2^1..2^-9:/4";
	struct svm_parameter base;
	tune_result *r1, *r2, *r3, *r0, *rs;
	size_t i;

	model_param_defaults(&base);
	r1 = run_heart(&base, grid, (size_t)1 << 30, 1, TUNE_SEARCH_GRID);
	r2 = run_heart(&base, grid, (size_t)1 << 30, 2, TUNE_SEARCH_GRID);
	r3 = run_heart(&base, grid, (size_t)1 << 30, 3, TUNE_SEARCH_GRID);
	r0 = run_heart(&base, grid, 0, 2, TUNE_SEARCH_GRID);
	rs = run_heart(&base, grid, 1000, 2, TUNE_SEARCH_GRID);
	ck_assert_uint_eq(rs->nprecomputed, 0);
	for (i = 0; i < r1->npoints; i++) {
		ck_assert(r1->points[i].score == r2->points[i].score);
		ck_assert(r1->points[i].score == r3->points[i].score);
		ck_assert(r0->points[i].score == rs->points[i].score);
	}
	ck_assert(r1->best == r2->best && r1->best == r3->best && r0->best == rs->best);
	/* The estimate: heart's 270 x 272 nodes and more. */
	ck_assert(tune_kernel_bytes(270, 13, 2, 100) > 270.0 * 272 * sizeof(struct svm_node));
	tune_result_free(r1);
	tune_result_free(r2);
	tune_result_free(r3);
	tune_result_free(r0);
	tune_result_free(rs);
}
END_TEST

struct best_log {
	size_t calls, last_total;
	double last_best;
	bool monotone;
};

static bool progress_best(size_t done, size_t total, double best, void *payload)
{
	struct best_log *l = payload;

	if (l->calls && !isnan(l->last_best) && !(best >= l->last_best))
		l->monotone = false;
	l->calls++;
	l->last_best = best;
	l->last_total = total;
	return done <= total;
}

/*
 * Successive halving on 42 points and 270 rows (HalvingGridSearchCV's rules, factor 3,
 * min_resources 'exhaust'): 20, 60 then all 270 rows for 42, 14 and 5 points; the best is
 * the best of the last round; the same whatever the threads.
 */
START_TEST(test_tune_halving)
{
	const char *grid = "C=2^-3..2^9:x4,gamma=2^1..2^-9:/4";
	tune_options o = { .folds = 5, .seed = 3, .threads = 2, .kernel_bytes = (size_t)1 << 30,
			   .search = TUNE_SEARCH_HALVING, .progress_best = progress_best };
	struct best_log log = { .monotone = true };
	struct svm_parameter base;
	tune_result *r, *r1;
	tune_grid *g = NULL;
	size_t i, counts[3] = { 0 };
	double best = -1;

	model_param_defaults(&base);
	o.progress_payload = &log;
	ck_assert_int_eq(tune_grid_parse(&g, grid), 0);
	ck_assert_int_eq(tune_run(&r, &heart.prob, &base, heart.nfeatures, g, &o), 0);
	tune_grid_free(g);
	ck_assert_int_eq(r->rounds, 3);
	ck_assert_uint_eq(r->npoints, 61);
	ck_assert_uint_eq(log.calls, 61);
	ck_assert_uint_eq(log.last_total, 61);
	ck_assert(log.monotone);
	for (i = 0; i < r->npoints; i++) {
		static const size_t rows[3] = { 20, 60, 270 };
		int rd = r->points[i].round;

		ck_assert(rd >= 0 && rd < 3);
		ck_assert_uint_eq(r->points[i].rows, rows[rd]);
		counts[rd]++;
		if (rd == 2 && r->points[i].score > best)
			best = r->points[i].score;
	}
	ck_assert(counts[0] == 42 && counts[1] == 14 && counts[2] == 5);
	ck_assert_int_eq(r->points[r->best].round, 2);
	ck_assert(r->points[r->best].score == best);
	r1 = run_heart(&base, grid, (size_t)1 << 30, 1, TUNE_SEARCH_HALVING);
	ck_assert_uint_eq(r1->npoints, r->npoints);
	for (i = 0; i < r->npoints; i++)
		ck_assert(r1->points[i].score == r->points[i].score &&
			  r1->points[i].grid_index == r->points[i].grid_index);
	tune_result_free(r);
	tune_result_free(r1);
}
END_TEST

/*
 * min_rows (scikit-learn's min_resources=N): 60 rows first on heart's 270 rows, so
 * 1 + floor(log3(270 / 60)) = 2 rounds are possible of the 4 that 42 points need: 42
 * points on 60 rows, then 14 on all 270. Below 2 x 5 folds x 2 classes, or above the rows,
 * is a usage error naming the bound.
 */
START_TEST(test_tune_halving_min_rows)
{
	tune_options o = { .folds = 5, .seed = 3, .threads = 2, .kernel_bytes = (size_t)1 << 30,
			   .search = TUNE_SEARCH_HALVING, .min_rows = 60 };
	struct svm_parameter base;
	tune_result *r = NULL;
	tune_grid *g = NULL;
	size_t i, counts[2] = { 0 };

	model_param_defaults(&base);
	ck_assert_int_eq(tune_grid_parse(&g, "C=2^-3..2^9:x4,gamma=2^1..2^-9:/4"), 0);
	ck_assert_int_eq(tune_run(&r, &heart.prob, &base, heart.nfeatures, g, &o), 0);
	ck_assert_int_eq(r->rounds, 2);
	for (i = 0; i < r->npoints; i++) {
		int rd = r->points[i].round;

		ck_assert(rd == 0 || rd == 1);
		ck_assert_uint_eq(r->points[i].rows, rd == 0 ? 60 : 270);
		counts[rd]++;
	}
	ck_assert(counts[0] == 42 && counts[1] == 14);
	ck_assert_int_eq(r->points[r->best].round, 1);
	tune_result_free(r);
	r = NULL;
	o.min_rows = 19;
	ck_assert_int_eq(tune_run(&r, &heart.prob, &base, heart.nfeatures, g, &o), MLCTL_EUSAGE);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(mlctl_error_last()->message,
			 "--min-rows 19: the first round needs at least 20 rows (2 x 5 folds x 2 classes)");
	o.min_rows = 271;
	ck_assert_int_eq(tune_run(&r, &heart.prob, &base, heart.nfeatures, g, &o), MLCTL_EUSAGE);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(mlctl_error_last()->message, "--min-rows 271: there are only 270 training rows");
	tune_grid_free(g);
}
END_TEST

static Suite *tune_suite(void)
{
	Suite *s = suite_create("tune");
	TCase *tc = tcase_create("tune");

	tcase_add_checked_fixture(tc, heart_setup, heart_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_tune_grid_default);
	tcase_add_test(tc, test_tune_grid_parse);
	tcase_add_test(tc, test_tune_folds_stratified);
	tcase_add_test(tc, test_tune_cv_predict_dec_sign);
	tcase_add_test(tc, test_tune_run_threads_deterministic);
	tcase_add_test(tc, test_tune_run_stops_on_request);
	tcase_add_test(tc, test_tune_default_grid_like_svm_grid);
	tcase_add_test(tc, test_tune_shared_kernel_same_scores);
	tcase_add_test(tc, test_tune_shared_kernel_three_classes);
	tcase_add_test(tc, test_tune_shared_kernel_threads_and_fallback);
	tcase_add_test(tc, test_tune_halving);
	tcase_add_test(tc, test_tune_halving_min_rows);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(tune_suite)
