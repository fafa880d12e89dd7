/*
 * check_predict.c — mlctl_predict() through the public API on a fresh registry per test,
 * always to an output file: rows and class counts in the result and in the file, the same
 * bytes run after run and whatever the threads and batch size, a model reference and its
 * .mlpkg scoring alike (the package with no registry at all), bad rows with and without
 * --max-errors and --rejects, and no output, rejects or temp file left after a failure.
 */
#include <sys/stat.h>

#include "mlctl.h"
#include "check_util.h"

static mlctl_registry *reg;

/* 300 churn rows to train on, the first 1000 to score, an empty out/ for the outputs. */
static void setup(void)
{
	static mlctl_kv svm[] = { { "C", "32" }, { "gamma", "0.03125" } };

	tmpdir_setup();
	test_registry_open(&reg, NULL);
	test_train(reg, "churn", write_head("train.csv", data_path("mlc_churn.csv"), 301), "churn", svm, 2);
	write_head("score.csv", data_path("mlc_churn.csv"), 1001);
	if (mkdir(tmp_file("out"), 0755) != 0)
		abort();
}

static void teardown(void)
{
	mlctl_registry_free(reg);
	reg = NULL;
	tmpdir_teardown();
}

static void predict_options(mlctl_predict_options *o, const char *model, const char *input, const char *output)
{
	mlctl_predict_options init = MLCTL_PREDICT_OPTIONS_INIT;

	*o = init;
	o->model = model;
	o->input = input;
	o->output = output;
	o->threads = 1;
}

static size_t class_count(const mlctl_predict_result *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nclasses; i++)
		if (strcmp(r->class_names[i], name) == 0)
			return r->class_counts[i];
	ck_abort_msg("no class %s in the result", name);
	return 0;
}

/* Lines of a file equal to text followed by a newline. */
static size_t lines_equal(const char *path, const char *text)
{
	size_t len, n = 0, tl = strlen(text);
	char *t = read_all(path, &len), *p = t;

	ck_assert_ptr_nonnull(t);
	while (p && *p) {
		char *nl = strchr(p, '\n');

		ck_assert_ptr_nonnull(nl);
		n += (size_t)(nl - p) == tl && memcmp(p, text, tl) == 0;
		p = nl + 1;
	}
	free(t);
	return n;
}

static void expect_out_dir(const char *want)
{
	char *have = dir_list(tmp_file("out"));

	ck_assert_ptr_nonnull(have);
	ck_assert_msg(strcmp(have, want) == 0, "out/ holds \"%s\", expected \"%s\"", have, want);
	free(have);
}

START_TEST(test_predict_model_ref)
{
	mlctl_predict_options o;
	mlctl_predict_result *r = NULL;
	mlctl_run *run = NULL;
	const char *out = tmp_file("out/p.csv");
	double value;
	char *text;

	predict_options(&o, "churn:1", tmp_file("score.csv"), out);
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), 0);
	ck_assert_str_eq(r->model, "churn:1");
	ck_assert_uint_eq(r->rows, 1000);
	ck_assert_uint_eq(r->rejected, 0);
	ck_assert(r->fast);
	ck_assert_uint_eq(r->nclasses, 2);
	ck_assert_uint_eq(class_count(r, "no") + class_count(r, "yes"), 1000);
	ck_assert_uint_gt(class_count(r, "yes"), 0);
	ck_assert_uint_gt(class_count(r, "no"), class_count(r, "yes"));
	/* Rows outside the 300 trained on carry states the model never saw. */
	ck_assert_uint_gt(r->unseen_categories, 0);

	/* The file: a header, then one prediction per input row, in the counts reported. */
	ck_assert_uint_eq(count_lines(out), 1001);
	text = read_all(out, NULL);
	ck_assert(strncmp(text, "prediction\n", 11) == 0);
	free(text);
	ck_assert_uint_eq(lines_equal(out, "yes"), class_count(r, "yes"));
	ck_assert_uint_eq(lines_equal(out, "no"), class_count(r, "no"));
	expect_out_dir("p.csv");

	/* The run: predict, succeeded, linked to churn:1, the same counts. */
	ck_assert_int_eq(mlctl_run_get(&run, reg, r->run), 0);
	ck_assert_str_eq(run->kind, "predict");
	ck_assert_int_eq(run->status, MLCTL_RUN_SUCCEEDED);
	ck_assert_str_eq(run->model_name, "churn");
	ck_assert_int_eq(run->model_version, 1);
	ck_assert(mlctl_run_metric(run, "rows", &value));
	ck_assert_double_eq(value, 1000);
	ck_assert(mlctl_run_metric(run, "predicted[yes]", &value));
	ck_assert_double_eq(value, (double)class_count(r, "yes"));
	mlctl_run_free(run);
	mlctl_predict_result_free(r);
}
END_TEST

/* The same bytes twice, with 2 threads and tiny batches, and as JSON lines alike. */
START_TEST(test_predict_same_bytes)
{
	mlctl_predict_options o;
	mlctl_predict_result *r = NULL;
	const char *a = tmp_file("out/a.csv"), *b = tmp_file("out/b.csv"), *c = tmp_file("out/c.csv");
	size_t yes;

	predict_options(&o, "churn", tmp_file("score.csv"), a);
	o.decision = true;
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), 0);
	yes = class_count(r, "yes");
	mlctl_predict_result_free(r);
	o.output = b;
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), 0);
	mlctl_predict_result_free(r);
	ck_assert(same_bytes(a, b));

	o.output = c;
	o.threads = 2;
	o.batch_rows = 7;
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), 0);
	ck_assert_uint_eq(r->rows, 1000);
	ck_assert_uint_eq(class_count(r, "yes"), yes);
	mlctl_predict_result_free(r);
	ck_assert_msg(same_bytes(a, c), "threads=2 batch=7 wrote other bytes than threads=1");

	o.output_format = MLCTL_OUTPUT_JSONL;
	o.output = tmp_file("out/a.jsonl");
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), 0);
	mlctl_predict_result_free(r);
	o.threads = 1;
	o.batch_rows = 0;
	o.output = tmp_file("out/b.jsonl");
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), 0);
	mlctl_predict_result_free(r);
	ck_assert(same_bytes(tmp_file("out/a.jsonl"), tmp_file("out/b.jsonl")));
	ck_assert_uint_eq(count_lines(tmp_file("out/a.jsonl")), 1000);
	expect_out_dir("a.csv a.jsonl b.csv b.jsonl c.csv");
}
END_TEST

/* A package scores as the version it holds, through a registry or with none at all. */
START_TEST(test_predict_package)
{
	mlctl_package_options po = { 0 };
	mlctl_package_result *pr = NULL;
	mlctl_predict_options o;
	mlctl_predict_result *r = NULL;
	const char *ref = tmp_file("out/ref.csv"), *pkg = tmp_file("churn-1.mlpkg");

	po.model = "churn:1";
	po.output = pkg;
	ck_assert_int_eq(mlctl_package(&pr, reg, &po), 0);
	mlctl_package_result_free(pr);

	predict_options(&o, "churn:1", tmp_file("score.csv"), ref);
	o.decision = true;
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), 0);
	mlctl_predict_result_free(r);

	o.model = pkg;
	o.output = tmp_file("out/pkg.csv");
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), 0);
	ck_assert_str_eq(r->model, "churn:1");
	ck_assert_uint_eq(r->rows, 1000);
	mlctl_predict_result_free(r);
	ck_assert(same_bytes(ref, tmp_file("out/pkg.csv")));

	o.output = tmp_file("out/noreg.csv");
	o.threads = 2;
	ck_assert_msg(mlctl_predict(&r, NULL, &o) == 0, "%s", last_message());
	ck_assert_str_eq(r->run, "");
	ck_assert_uint_eq(r->rows, 1000);
	mlctl_predict_result_free(r);
	ck_assert(same_bytes(ref, tmp_file("out/noreg.csv")));
}
END_TEST

/* score.csv's first 20 rows with line 11's account_length made "12x8" (and, with two,
 * line 16 cut to two fields). */
static const char *write_bad(const char *name, bool two)
{
	size_t len, line = 1;
	char *t = read_all(tmp_file("score.csv"), &len), *p = t;
	FILE *f = fopen(tmp_file(name), "w");

	ck_assert(t && f);
	while (*p && line <= 21) {
		char *nl = strchr(p, '\n');

		if (line == 11) {
			char *comma = strchr(p, ','), *next = strchr(comma + 1, ',');

			fprintf(f, "%.*s,12x8%.*s", (int)(comma - p), p, (int)(nl + 1 - next), next);
			p = nl + 1;
			line++;
			continue;
		}
		if (two && line == 16)
			fputs("\"KS\",128\n", f);
		else
			fwrite(p, 1, (size_t)(nl - p) + 1, f);
		p = nl + 1;
		line++;
	}
	free(t);
	fclose(f);
	return tmp_file(name);
}

START_TEST(test_predict_bad_rows)
{
	mlctl_predict_options o;
	mlctl_predict_result *r = NULL;
	const char *out = tmp_file("out/b.csv"), *rej = tmp_file("out/rej.txt");
	char *text;

	/* Without --max-errors the first bad row fails the job, naming line and column; no
	 * output, no rejects list, no temp file. */
	predict_options(&o, "churn", write_bad("bad.csv", false), out);
	o.rejects = rej;
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), MLCTL_EDATA);
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(last_message(), "bad.csv:11: column \"account_length\": \"12x8\" is not a number"), "%s",
		      last_message());
	ck_assert_ptr_nonnull(strstr(last_message(), "--max-errors"));
	expect_out_dir("");

	/* With --max-errors 1 the row is skipped and listed with its line. */
	o.max_errors = 1;
	o.threads = 2;
	o.batch_rows = 3;
	ck_assert_msg(mlctl_predict(&r, reg, &o) == 0, "%s", last_message());
	ck_assert_uint_eq(r->rows, 19);
	ck_assert_uint_eq(r->rejected, 1);
	ck_assert_uint_eq(class_count(r, "no") + class_count(r, "yes"), 19);
	mlctl_predict_result_free(r);
	ck_assert_uint_eq(count_lines(out), 20);
	ck_assert_uint_eq(count_lines(rej), 1);
	text = read_all(rej, NULL);
	ck_assert_msg(strstr(text, "bad.csv:11: column \"account_length\""), "rejects: %s", text);
	free(text);
	expect_out_dir("b.csv rej.txt");

	/* Two bad rows over a limit of one: the second is named, and the job leaves nothing
	 * behind (the earlier outputs were removed first, to see that). */
	ck_assert_int_eq(unlink(out), 0);
	ck_assert_int_eq(unlink(rej), 0);
	o.input = write_bad("bad2.csv", true);
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), MLCTL_EDATA);
	ck_assert_msg(strstr(last_message(), "bad2.csv:16: ") && strstr(last_message(), "more than --max-errors 1"),
		      "%s", last_message());
	expect_out_dir("");
}
END_TEST

START_TEST(test_predict_errors)
{
	mlctl_predict_options o;
	mlctl_predict_result *r = NULL;

	predict_options(&o, "churn:7", tmp_file("score.csv"), tmp_file("out/p.csv"));
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), MLCTL_ENOTFOUND);
	predict_options(&o, "nosuch", tmp_file("score.csv"), tmp_file("out/p.csv"));
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), MLCTL_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(last_message(), "nosuch"));
	predict_options(&o, "churn", tmp_file("nosuch.csv"), tmp_file("out/p.csv"));
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), MLCTL_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(last_message(), "nosuch.csv"));
	/* Probabilities from a model trained without them: a usage error, no output. */
	predict_options(&o, "churn", tmp_file("score.csv"), tmp_file("out/p.csv"));
	o.proba = true;
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), MLCTL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(last_message(), "--probability"));
	/* A missing column kept: named. */
	predict_options(&o, "churn", tmp_file("score.csv"), tmp_file("out/p.csv"));
	o.keep = (const char *const[]){ "nosuch" };
	o.n_keep = 1;
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(last_message(), "\"nosuch\" is not in the header"));
	/* An output directory that does not exist. */
	predict_options(&o, "churn", tmp_file("score.csv"), tmp_file("nodir/p.csv"));
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), MLCTL_ECREATE);
	ck_assert_ptr_null(r);
	expect_out_dir("");
}
END_TEST

/* Stop after the first 200 rows, counting the calls in *payload (negative once a call
 * was not about rows). It may run on any thread, so it asserts nothing itself. */
static bool stop_after_200(const char *what, uint64_t done, uint64_t total, void *payload)
{
	int *calls = payload;

	*calls = strcmp(what, "rows") == 0 && *calls >= 0 ? *calls + 1 : -1;
	return done < 200;
}

/* A host that stops the job from its progress callback gets an error and no output. */
/* A model of 70 classes (more than any fixed table would hold): the run records every
 * class's predicted count, and they add up to the rows. */
START_TEST(test_predict_many_classes)
{
	static mlctl_kv svm[] = { { "C", "100" }, { "gamma", "1" } };
	mlctl_predict_options o;
	mlctl_predict_result *r = NULL;
	mlctl_run *run = NULL;
	FILE *f = fopen(tmp_file("many.csv"), "w");
	double v, sum = 0;
	char key[64], name[16];
	int c, k;

	ck_assert_ptr_nonnull(f);
	fputs("x,y\n", f);
	for (c = 0; c < 70; c++)
		for (k = 0; k < 3; k++)
			fprintf(f, "%d,k%02d\n", c * 10 + k, c);
	ck_assert_int_eq(fclose(f), 0);
	test_train(reg, "many", tmp_file("many.csv"), "y", svm, 2);
	predict_options(&o, "many", tmp_file("many.csv"), tmp_file("out/many.csv"));
	ck_assert_msg(mlctl_predict(&r, reg, &o) == 0, "%s", last_message());
	ck_assert_uint_eq(r->nclasses, 70);
	ck_assert_int_eq(mlctl_run_get(&run, reg, r->run), 0);
	for (c = 0; c < 70; c++) {
		snprintf(key, sizeof(key), "predicted[k%02d]", c);
		ck_assert_msg(mlctl_run_metric(run, key, &v), "%s not recorded", key);
		snprintf(name, sizeof(name), "k%02d", c);
		ck_assert(v == (double)class_count(r, name));
		sum += v;
	}
	ck_assert(sum == (double)r->rows);
	mlctl_run_free(run);
	mlctl_predict_result_free(r);
}
END_TEST

START_TEST(test_predict_stopped_by_progress)
{
	mlctl_predict_options o;
	mlctl_predict_result *r = NULL;
	mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;
	mlctl_run_list *l = NULL;
	int calls = 0;

	predict_options(&o, "churn", tmp_file("score.csv"), tmp_file("out/p.csv"));
	o.rejects = tmp_file("out/rej.txt");
	o.batch_rows = 100;
	o.threads = 2;
	o.progress = stop_after_200;
	o.progress_payload = &calls;
	ck_assert_int_eq(mlctl_predict(&r, reg, &o), MLCTL_ERROR);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(last_message(), "interrupted"));
	ck_assert_int_ge(calls, 2);
	expect_out_dir("");
	f.kind = "predict";
	ck_assert_int_eq(mlctl_run_list_get(&l, reg, &f), 0);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_int_eq(l->runs[0]->status, MLCTL_RUN_FAILED);
	mlctl_run_list_free(l);
}
END_TEST

static Suite *predict_suite(void)
{
	Suite *s = suite_create("predict");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_predict_model_ref);
	tcase_add_test(tc, test_predict_same_bytes);
	tcase_add_test(tc, test_predict_package);
	tcase_add_test(tc, test_predict_bad_rows);
	tcase_add_test(tc, test_predict_errors);
	tcase_add_test(tc, test_predict_stopped_by_progress);
	tcase_add_test(tc, test_predict_many_classes);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(predict_suite)
