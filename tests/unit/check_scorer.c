/*
 * check_scorer.c — the fast scorer against libsvm itself: models trained by svm-train on the
 * example data (every kernel, C-SVC, nu-SVC, one-class, epsilon- and nu-SVR, probability
 * models), scored on every row of the full files by svm_predict / svm_predict_values /
 * svm_predict_probability and by scorer_predict. Labels must be identical; decision values
 * are libsvm's bit for bit for the linear, poly and sigmoid kernels (the scorer adds the
 * same terms in the same order) and within 1e-9 relative for rbf (exp() comes from the
 * vector library); probabilities within 1e-9 relative. Results do not depend on the
 * batch, the blocking or the thread, bit for bit, and hold for data of any magnitude.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>

#include <libsvm/svm.h>

#include "check_util.h"
#include "scorer.h"
#include "mlctl/common.h"

#define TOL 1e-9

/* Check writes a record for every ck_assert that passes; in loops over every row of every
 * file that is millions of writes, so the loops only call it when something is wrong. */
#define expect(cond, ...) do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

enum label_kind { LABEL_LETTER, LABEL_CATEGORY, LABEL_NUMBER };

struct rows {
	struct svm_node **x;
	struct svm_node *pool;
	size_t n;
};

/* Absolute path of an example data file (commands below run in the temp dir). */
static const char *abs_data(const char *name)
{
	static char buf[4096];

	ck_assert_ptr_nonnull(realpath(data_path(name), buf));
	return buf;
}

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
}

/* Strip the quotes of a CSV field in place. */
static char *unquote(char *f)
{
	size_t len = strlen(f);

	while (len && (f[len - 1] == '\n' || f[len - 1] == '\r'))
		f[--len] = 0;
	if (len >= 2 && f[0] == '"' && f[len - 1] == '"') {
		f[len - 1] = 0;
		return f + 1;
	}
	return f;
}

/*
 * Convert an example CSV (header, no embedded commas) to libsvm format: the label from
 * column label_col (-1: the last), every other column a feature numbered from 1, zeros left
 * out as svm-scale's own output does. Category labels are numbered 1.. in order of appearance.
 */
static void csv_to_libsvm(const char *csv, const char *out, int label_col, enum label_kind kind)
{
	char line[4096], cats[64][32];
	int ncat = 0;
	FILE *in = fopen(csv, "r"), *o = fopen(out, "w");

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), in));	/* the header */
	while (fgets(line, sizeof(line), in)) {
		char *field[64], *p = line, *lab;
		int nf = 0, i, feat = 0;

		while (nf < 64) {
			char *c = strchr(p, ',');

			field[nf++] = p;
			if (!c)
				break;
			*c = 0;
			p = c + 1;
		}
		for (i = 0; i < nf; i++)
			field[i] = unquote(field[i]);
		if (label_col < 0)
			label_col = nf - 1;
		lab = field[label_col];
		if (kind == LABEL_LETTER) {
			fprintf(o, "%d", lab[0] - 'A' + 1);
		} else if (kind == LABEL_CATEGORY) {
			for (i = 0; i < ncat && strcmp(cats[i], lab); i++)
				;
			if (i == ncat) {
				ck_assert_int_lt(ncat, 64);
				snprintf(cats[ncat++], sizeof(cats[0]), "%s", lab);
			}
			fprintf(o, "%d", i + 1);
		} else {
			fprintf(o, "%s", lab);
		}
		for (i = 0; i < nf; i++) {
			if (i == label_col)
				continue;
			feat++;
			if (strtod(field[i], NULL) != 0)
				fprintf(o, " %d:%s", feat, field[i]);
		}
		fputc('\n', o);
	}
	fclose(in);
	ck_assert_int_eq(fclose(o), 0);
}

/* $MLCTL_TEST_ROWS caps the rows compared per file (`make valgrind` sets it: under
 * valgrind libsvm's own per-row scoring of every row would take hours). */
static size_t row_cap(void)
{
	const char *v = getenv("MLCTL_TEST_ROWS");
	long n = v ? strtol(v, NULL, 10) : 0;

	return n > 0 ? (size_t)n : (size_t)-1;
}

static size_t rows_expected(size_t n)
{
	return n < row_cap() ? n : row_cap();
}

/* Read a libsvm-format file into node arrays (one pool, rows pointing into it). */
static void read_rows(const char *path, struct rows *r)
{
	size_t cap = 0, ncap = 0, npool = 0, i, *first = NULL;
	char line[65536];
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	memset(r, 0, sizeof(*r));
	while (r->n < row_cap() && fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		strtod(p, &end);
		p = end;
		if (r->n == ncap) {
			ncap = ncap ? 2 * ncap : 1024;
			first = realloc(first, ncap * sizeof(*first));
			ck_assert_ptr_nonnull(first);
		}
		first[r->n++] = npool;
		for (;;) {
			long idx = strtol(p, &end, 10);
			int last = end == p || *end != ':';

			if (npool + 1 > cap) {
				cap = cap ? 2 * cap : 4096;
				r->pool = realloc(r->pool, cap * sizeof(*r->pool));
				ck_assert_ptr_nonnull(r->pool);
			}
			r->pool[npool].index = last ? -1 : (int)idx;
			r->pool[npool].value = last ? 0 : strtod(end + 1, &p);
			npool++;
			if (last)
				break;
		}
	}
	fclose(f);
	r->x = calloc(r->n + 1, sizeof(*r->x));
	ck_assert_ptr_nonnull(r->x);
	for (i = 0; i < r->n; i++)
		r->x[i] = r->pool + first[i];
	free(first);
}

static void rows_free(struct rows *r)
{
	free(r->x);
	free(r->pool);
}

static bool close_enough(double a, double b)
{
	return fabs(a - b) <= TOL * fmax(1.0, fmax(fabs(a), fabs(b)));
}

/*
 * Score every row of data with libsvm and with the scorer and compare them all. Returns the
 * number of rows. With want_prob the probability path is compared too (labels then follow
 * svm_predict_probability, as the contract says).
 */
static size_t compare_model(const char *model_path, const char *data, bool want_prob)
{
	struct svm_model *m = svm_load_model(model_path);
	struct rows r;
	fast_scorer *s;
	size_t i, k, ndec, nc, n;
	double *lab, *dec, *prob = NULL, *ref_dec, *ref_prob;

	ck_assert_ptr_nonnull(m);
	read_rows(data, &r);
	n = r.n;
	ck_assert_int_eq(scorer_create(&s, m), 0);
	ndec = scorer_ndec(s);
	nc = (size_t)m->nr_class;
	lab = calloc(n, sizeof(*lab));
	dec = calloc(n * ndec, sizeof(*dec));
	ref_dec = calloc(ndec, sizeof(*ref_dec));
	ref_prob = calloc(nc, sizeof(*ref_prob));
	if (want_prob)
		prob = calloc(n * nc, sizeof(*prob));
	ck_assert(lab && dec && ref_dec && ref_prob && (!want_prob || prob));
	ck_assert_int_eq(scorer_predict(s, (const struct svm_node *const *)r.x, n, lab, dec, prob), 0);
	for (i = 0; i < n; i++) {
		double want = svm_predict_values(m, r.x[i], ref_dec);

		if (i % 16 == 0)
			expect(want == svm_predict(m, r.x[i]), "libsvm disagrees with itself");
		for (k = 0; k < ndec; k++)
			expect(close_enough(dec[i * ndec + k], ref_dec[k]),
			       "%s row %zu dec %zu: %.17g vs libsvm %.17g", data, i, k,
			       dec[i * ndec + k], ref_dec[k]);
		if (want_prob) {
			want = svm_predict_probability(m, r.x[i], ref_prob);
			for (k = 0; k < nc && svm_check_probability_model(m) &&
				    m->param.svm_type <= NU_SVC; k++)
				expect(close_enough(prob[i * nc + k], ref_prob[k]),
					      "%s row %zu prob %zu: %.17g vs libsvm %.17g", data, i, k,
					      prob[i * nc + k], ref_prob[k]);
		}
		/* A regression's "label" is its decision value, summed in another order. */
		expect(m->param.svm_type >= EPSILON_SVR ? close_enough(lab[i], want) : lab[i] == want,
			      "%s row %zu: label %.17g, libsvm %.17g", data, i, lab[i], want);
	}
	/* The baseline kernels add libsvm's terms in libsvm's order with libsvm's roundings:
	 * without exp() in the way, the decision values are libsvm's bit for bit. */
	if (m->param.kernel_type != RBF) {
		ck_assert_str_eq(scorer_set_kernels(s, "baseline"), "baseline");
		ck_assert_int_eq(scorer_predict(s, (const struct svm_node *const *)r.x, n, lab, dec, NULL), 0);
		for (i = 0; i < n; i++) {
			double want = svm_predict_values(m, r.x[i], ref_dec);

			for (k = 0; k < ndec; k++)
				expect(dec[i * ndec + k] == ref_dec[k],
				       "%s row %zu dec %zu: baseline %.17g vs libsvm %.17g", data, i, k,
				       dec[i * ndec + k], ref_dec[k]);
			expect(m->param.svm_type >= EPSILON_SVR || lab[i] == want,
			       "%s row %zu: baseline label %.17g, libsvm %.17g", data, i, lab[i], want);
		}
	}
	free(lab);
	free(dec);
	free(prob);
	free(ref_dec);
	free(ref_prob);
	scorer_free(s);
	svm_free_and_destroy_model(&m);
	rows_free(&r);
	return n;
}

/* letter.csv in libsvm format, scaled to [-1,1] by the range of its first ntrain rows:
 * train.scale (those rows) and all.scale (all 20000). */
static void letter_data(int ntrain)
{
	csv_to_libsvm(data_path("letter.csv"), tmp_path("all.txt"), 0, LABEL_LETTER);
	run("cd '%s' && head -n %d all.txt > train.txt && svm-scale -l -1 -u 1 -s range train.txt"
	    " > train.scale 2>/dev/null && svm-scale -r range all.txt > all.scale 2>/dev/null",
	    test_tmpdir, ntrain);
}

static void train(const char *opts)
{
	run("cd '%s' && svm-train -q %s train.scale model", test_tmpdir, opts);
}

START_TEST(test_scorer_letter_kernels)
{
	/* _i is the kernel type: linear, poly, rbf, sigmoid. */
	char opts[64];

	letter_data(_i == 1 ? 2000 : 3000);
	snprintf(opts, sizeof(opts), "-t %d%s", _i, _i == 1 ? " -g 0.5 -r 1" : "");
	train(opts);
	ck_assert_uint_eq(compare_model(tmp_path("model"), tmp_path("all.scale"), false), rows_expected(20000));
}
END_TEST

START_TEST(test_scorer_letter_probability)
{
	letter_data(1500);
	train("-b 1");
	ck_assert_uint_eq(compare_model(tmp_path("model"), tmp_path("all.scale"), true), rows_expected(20000));
}
END_TEST

START_TEST(test_scorer_letter_nu_svc)
{
	letter_data(2000);
	train("-s 1 -n 0.05");
	ck_assert_uint_eq(compare_model(tmp_path("model"), tmp_path("all.scale"), false), rows_expected(20000));
}
END_TEST

START_TEST(test_scorer_letter_one_class)
{
	letter_data(3000);
	train("-s 2 -n 0.1");
	ck_assert_uint_eq(compare_model(tmp_path("model"), tmp_path("all.scale"), false), rows_expected(20000));
}
END_TEST

START_TEST(test_scorer_heart_binary_probability)
{
	/* Two classes take libsvm's own two-class shortcut, not the coupling iteration. */
	run("cd '%s' && cp '%s' train.scale", test_tmpdir, abs_data("heart_scale"));
	train("-b 1");
	ck_assert_uint_eq(compare_model(tmp_path("model"), data_path("heart_scale"), true), rows_expected(270));
}
END_TEST

START_TEST(test_scorer_concrete_svr)
{
	/* _i: 0 epsilon-SVR, 1 the same with -b 1 (labels as svm_predict), 2 nu-SVR. */
	static const char *opts[] = { "-s 3 -c 10", "-s 3 -c 10 -b 1", "-s 4 -t 1 -r 1" };

	csv_to_libsvm(data_path("concrete.csv"), tmp_path("all.txt"), -1, LABEL_NUMBER);
	run("cd '%s' && svm-scale -l -1 -u 1 all.txt > train.scale 2>/dev/null", test_tmpdir);
	train(opts[_i]);
	ck_assert_uint_eq(compare_model(tmp_path("model"), tmp_path("train.scale"), _i == 1), rows_expected(1030));
}
END_TEST

START_TEST(test_scorer_shuttle)
{
	/* _i: 0 C-SVC rbf, 1 with probabilities (7 classes, some tiny). */
	csv_to_libsvm(data_path("shuttle.csv"), tmp_path("all.txt"), -1, LABEL_CATEGORY);
	run("cd '%s' && head -n 4000 all.txt > train.txt && svm-scale -l -1 -u 1 -s range train.txt"
	    " > train.scale 2>/dev/null && svm-scale -r range all.txt > all.scale 2>/dev/null",
	    test_tmpdir);
	train(_i ? "-b 1 -c 10" : "-c 10");
	ck_assert_uint_eq(compare_model(tmp_path("model"), tmp_path("all.scale"), _i == 1), rows_expected(58000));
}
END_TEST

/* Rows with features the support vectors never have (index 0, beyond the last, far beyond),
 * and an empty row: they count in the rbf distance only. */
START_TEST(test_scorer_unseen_features)
{
	static const char *extra =
		"1 1:0.5 3:-0.25 17:0.75 40:-2\n"
		"1 2:0.1 16:0.2 1000:3\n"
		"1\n"
		"1 0:1.5 5:0.5\n"
		"1 99:1\n";
	FILE *f;

	char cmd[1200];

	letter_data(2000);
	train("-t 2");
	/* The odd rows first, so that they are compared under a MLCTL_TEST_ROWS cap too. */
	f = fopen(tmp_path("unseen.scale"), "w");
	ck_assert_ptr_nonnull(f);
	fputs(extra, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cat '%s' >> '%s'", tmp_path("all.scale"), tmp_path("unseen.scale"));
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_uint_eq(compare_model(tmp_path("model"), tmp_path("unseen.scale"), false), rows_expected(20005));
}
END_TEST

struct thread_job {
	const fast_scorer *s;
	struct rows *r;
	double *lab, *dec;
	int ret;
};

static void *score_thread(void *arg)
{
	struct thread_job *j = arg;

	j->ret = scorer_predict(j->s, (const struct svm_node *const *)j->r->x, j->r->n, j->lab,
				j->dec, NULL);
	return NULL;
}

/* One scorer, four threads at once: each gets exactly what a lone call gets. */
START_TEST(test_scorer_threads)
{
	struct svm_model *m;
	struct thread_job job[4];
	pthread_t th[4];
	fast_scorer *s;
	struct rows r;
	double *lab, *dec;
	size_t ndec, t;

	letter_data(2000);
	train("-t 2 -b 1");
	m = svm_load_model(tmp_path("model"));
	ck_assert_ptr_nonnull(m);
	read_rows(tmp_path("all.scale"), &r);
	if (r.n > 5000)
		r.n = 5000;
	ck_assert_int_eq(scorer_create(&s, m), 0);
	ndec = scorer_ndec(s);
	ck_assert_uint_eq(ndec, 325);
	lab = calloc(r.n, sizeof(*lab));
	dec = calloc(r.n * ndec, sizeof(*dec));
	ck_assert_int_eq(scorer_predict(s, (const struct svm_node *const *)r.x, r.n, lab, dec, NULL), 0);
	for (t = 0; t < 4; t++) {
		job[t] = (struct thread_job){ s, &r, calloc(r.n, sizeof(double)),
					      calloc(r.n * ndec, sizeof(double)), -1 };
		ck_assert_int_eq(pthread_create(&th[t], NULL, score_thread, &job[t]), 0);
	}
	for (t = 0; t < 4; t++) {
		ck_assert_int_eq(pthread_join(th[t], NULL), 0);
		ck_assert_int_eq(job[t].ret, 0);
		ck_assert_int_eq(memcmp(job[t].lab, lab, r.n * sizeof(*lab)), 0);
		ck_assert_int_eq(memcmp(job[t].dec, dec, r.n * ndec * sizeof(*dec)), 0);
		free(job[t].lab);
		free(job[t].dec);
	}
	free(lab);
	free(dec);
	scorer_free(s);
	svm_free_and_destroy_model(&m);
	rows_free(&r);
}
END_TEST

/*
 * A row's result is a function of the model and the row only: any tile size, block size or
 * place of the row in its batch gives the same bits (the first batches of rows, then the
 * same rows scored one call per odd-sized slice).
 */
START_TEST(test_scorer_blocking)
{
	static const size_t shapes[][2] = { { 0, 0 }, { 1, 1 }, { 7, 13 }, { 97, 1000 }, { 300, 5 }, { 4096, 100000 } };
	static const size_t slices[] = { 1, 3, 97, 250, 1000 };
	static const char *const sets[] = { "baseline", "avx2", "avx512" };
	struct svm_model *m;
	fast_scorer *s;
	struct rows r;
	double *lab1, *lab2, *dec1, *dec2;
	size_t i, k, n, ndec, set;

	letter_data(2000);
	train(_i ? "-t 2 -b 1" : "-t 1 -g 0.5 -r 1");
	m = svm_load_model(tmp_path("model"));
	ck_assert_ptr_nonnull(m);
	read_rows(tmp_path("all.scale"), &r);
	n = r.n < 3000 ? r.n : 3000;
	ck_assert_int_eq(scorer_create(&s, m), 0);
	ndec = scorer_ndec(s);
	lab1 = calloc(n, sizeof(*lab1));
	lab2 = calloc(n, sizeof(*lab2));
	dec1 = calloc(n * ndec, sizeof(*dec1));
	dec2 = calloc(n * ndec, sizeof(*dec2));
	ck_assert(lab1 && lab2 && dec1 && dec2);
	/* Every instruction set this CPU has (one it lacks falls back to one below). */
	for (set = 0; set < sizeof(sets) / sizeof(sets[0]); set++) {
		scorer_set_kernels(s, sets[set]);
		scorer_set_blocking(s, 64, 256);
		ck_assert_int_eq(scorer_predict(s, (const struct svm_node *const *)r.x, n, lab1, dec1, NULL), 0);
		for (k = 1; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
			size_t at = 0, step = slices[k % (sizeof(slices) / sizeof(slices[0]))];

			scorer_set_blocking(s, shapes[k][0], shapes[k][1]);
			memset(dec2, 0, n * ndec * sizeof(*dec2));
			for (at = 0; at < n; at += step) {
				size_t len = n - at < step ? n - at : step;

				ck_assert_int_eq(scorer_predict(s, (const struct svm_node *const *)r.x + at, len,
								lab2 + at, dec2 + at * ndec, NULL), 0);
			}
			for (i = 0; i < n; i++)
				expect(lab1[i] == lab2[i], "row %zu: label %g, blocked %zu x %zu %g", i, lab1[i],
				       shapes[k][0], shapes[k][1], lab2[i]);
			for (i = 0; i < n * ndec; i++)
				expect(dec1[i] == dec2[i], "%s: dec %zu of row %zu: %.17g, blocked %zu x %zu in slices of %zu: %.17g",
				       scorer_set_kernels(s, NULL), i % ndec, i / ndec, dec1[i], shapes[k][0], shapes[k][1],
				       step, dec2[i]);
		}
	}
	/* Zero rows is a valid call. */
	ck_assert_int_eq(scorer_predict(s, (const struct svm_node *const *)r.x, 0, lab2, NULL, NULL), 0);
	free(lab1);
	free(lab2);
	free(dec1);
	free(dec2);
	scorer_free(s);
	svm_free_and_destroy_model(&m);
	rows_free(&r);
}
END_TEST

/*
 * Replace every support vector and row by its dense copy shifted by offset on every feature.
 * The rbf kernel is translation-invariant, so the model stays a sensible one, and libsvm's
 * own svm_predict (which sums (x - s)^2) scores it as well as the original: what the fast
 * scorer must do too, however large the offset. (The offsets are not integers: sums of
 * products of integers below 2^53 would be exact and hide the cancellation.)
 */
/* row (d + 1 nodes) = the dense copy of x moved by offset; returns row. */
static struct svm_node *shift_row(struct svm_node *row, const struct svm_node *x, int d, double offset)
{
	int p;

	for (p = 0; p < d; p++) {
		row[p].index = p + 1;
		row[p].value = offset;
	}
	for (; x->index != -1; x++)
		row[x->index - 1].value = offset + x->value;
	row[d].index = -1;
	return row;
}

static void shift_model(struct svm_model *m, int d, double offset, struct svm_node **old_pool)
{
	struct svm_node *pool = calloc((size_t)m->l * (size_t)(d + 1), sizeof(*pool));
	int i;

	ck_assert_ptr_nonnull(pool);
	*old_pool = m->SV[0];
	for (i = 0; i < m->l; i++)
		m->SV[i] = shift_row(pool + (size_t)i * (size_t)(d + 1), m->SV[i], d, offset);
}

static void shift_rows(struct rows *r, int d, double offset)
{
	struct svm_node *pool = calloc(r->n * (size_t)(d + 1), sizeof(*pool));
	size_t i;

	ck_assert_ptr_nonnull(pool);
	for (i = 0; i < r->n; i++)
		r->x[i] = shift_row(pool + i * (size_t)(d + 1), r->x[i], d, offset);
	free(r->pool);
	r->pool = pool;
}

/* Unscaled data far from zero (timestamps, ids, money in cents): 2e6 and 1e9. */
START_TEST(test_scorer_large_magnitude)
{
	static const double offsets[] = { 2e6 + 1.0 / 3, 1e9 + 1.0 / 3 };
	struct svm_model *m;
	struct svm_node *old_pool;
	fast_scorer *s;
	struct rows r;
	double *lab, *dec, *ref_dec;
	size_t i, k, n, ndec, cap = row_cap();

	csv_to_libsvm(data_path("letter.csv"), tmp_path("all.txt"), 0, LABEL_LETTER);
	run("cd '%s' && head -n 2000 all.txt > train.scale", test_tmpdir);
	train("-t 2 -g 0.02");
	m = svm_load_model(tmp_path("model"));
	ck_assert_ptr_nonnull(m);
	shift_model(m, 16, offsets[_i], &old_pool);
	read_rows(tmp_path("all.txt"), &r);
	n = r.n < 5000 ? r.n : 5000;
	if (cap && n > cap)
		n = cap;
	shift_rows(&r, 16, offsets[_i]);
	ck_assert_int_eq(scorer_create(&s, m), 0);
	ndec = scorer_ndec(s);
	lab = calloc(n, sizeof(*lab));
	dec = calloc(n * ndec, sizeof(*dec));
	ref_dec = calloc(ndec, sizeof(*ref_dec));
	ck_assert(lab && dec && ref_dec);
	ck_assert_int_eq(scorer_predict(s, (const struct svm_node *const *)r.x, n, lab, dec, NULL), 0);
	for (i = 0; i < n; i++) {
		double want = svm_predict_values(m, r.x[i], ref_dec);

		expect(lab[i] == want, "offset %g row %zu: label %g, libsvm %g", offsets[_i], i, lab[i], want);
		for (k = 0; k < ndec; k++)
			expect(close_enough(dec[i * ndec + k], ref_dec[k]),
			       "offset %g row %zu dec %zu: %.17g vs libsvm %.17g", offsets[_i], i, k,
			       dec[i * ndec + k], ref_dec[k]);
	}
	free(lab);
	free(dec);
	free(ref_dec);
	scorer_free(s);
	free(m->SV[0]);
	m->SV[0] = old_pool;
	svm_free_and_destroy_model(&m);
	rows_free(&r);
}
END_TEST

START_TEST(test_scorer_refuses)
{
	struct svm_model *m;
	struct rows r;
	fast_scorer *s = (fast_scorer *)&s;
	double lab[4], prob[8];

	/* Probabilities from a model trained without them. */
	run("cd '%s' && cp '%s' train.scale", test_tmpdir, abs_data("heart_scale"));
	train("");
	m = svm_load_model(tmp_path("model"));
	ck_assert_ptr_nonnull(m);
	read_rows(data_path("heart_scale"), &r);
	ck_assert_int_eq(scorer_create(&s, m), 0);
	ck_assert_int_eq(scorer_predict(s, (const struct svm_node *const *)r.x, 4, lab, NULL, prob),
			 MLCTL_EUSAGE);
	ck_assert_int_eq(mlctl_error_last()->code, MLCTL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "probabilit"));
	scorer_free(s);

	/* A precomputed kernel has no vectors to hold densely. */
	m->param.kernel_type = PRECOMPUTED;
	ck_assert_int_eq(scorer_create(&s, m), MLCTL_EUSAGE);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "precomputed"));
	m->param.kernel_type = RBF;

	/* Support vectors indexed from 0 cannot be laid out densely from column 1. */
	m->SV[0][0].index = 0;
	ck_assert_int_eq(scorer_create(&s, m), MLCTL_EUSAGE);
	ck_assert_ptr_null(s);
	scorer_free(NULL);
	svm_free_and_destroy_model(&m);
	rows_free(&r);
}
END_TEST

static Suite *scorer_suite(void)
{
	Suite *su = suite_create("scorer");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_scorer_letter_kernels, 0, 4);
	tcase_add_test(tc, test_scorer_letter_probability);
	tcase_add_test(tc, test_scorer_letter_nu_svc);
	tcase_add_test(tc, test_scorer_letter_one_class);
	tcase_add_test(tc, test_scorer_heart_binary_probability);
	tcase_add_loop_test(tc, test_scorer_concrete_svr, 0, 3);
	tcase_add_loop_test(tc, test_scorer_shuttle, 0, 2);
	tcase_add_test(tc, test_scorer_unseen_features);
	tcase_add_test(tc, test_scorer_threads);
	tcase_add_loop_test(tc, test_scorer_blocking, 0, 2);
	tcase_add_loop_test(tc, test_scorer_large_magnitude, 0, 2);
	tcase_add_test(tc, test_scorer_refuses);
	suite_add_tcase(su, tc);
	return su;
}

CHECK_MAIN(scorer_suite)
