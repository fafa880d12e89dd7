/*
 * check_monitor.c — mlctl_monitor() from inside: the training data against its own
 * reference does not drift; the same rows with one column shifted do, on that column and no
 * other; a label column gives the performance and --max-drop its alert; a run is recorded
 * with the statistics, and the history gives them back; a sample of the rows scored for the
 * predictions is the same on any number of threads; bad sources fail with their codes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlctl.h"
#include "check_util.h"

static char regdir[600];

static void setup(void)
{
	mlctl_registry *reg = NULL;
	mlctl_kv svm[2] = { { (char *)"C", (char *)"4" }, { (char *)"gamma", (char *)"0.05" } };

	tmpdir_setup();
	snprintf(regdir, sizeof(regdir), "%s/reg", test_tmpdir);
	ck_assert_int_eq(mlctl_registry_init(regdir), 0);
	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	test_train(reg, "churn", data_path("mlc_churn.csv"), "churn", svm, 2);
	mlctl_registry_free(reg);
}

static void teardown(void)
{
	tmpdir_teardown();
}

/* mlc_churn.csv with column col multiplied by factor (0: unchanged) and, with flip, every
 * third label flipped; written under test_tmpdir. */
static const char *churn_variant(const char *name, const char *col, double factor, bool flip)
{
	static char path[700];
	FILE *in = fopen(data_path("mlc_churn.csv"), "r"), *out;
	char line[4096];
	int c = -1, k, row = 0;

	snprintf(path, sizeof(path), "%s/%s", test_tmpdir, name);
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out = fopen(path, "w"));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), in));
	fputs(line, out);
	{
		char *save = NULL, *tok, copy[4096];

		strcpy(copy, line);
		for (k = 0, tok = strtok_r(copy, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save), k++)
			if (strstr(tok, col))
				c = k;
	}
	ck_assert_int_ge(c, 0);
	while (fgets(line, sizeof(line), in)) {
		char *f[32], *save = NULL, *tok;
		int n = 0;

		line[strcspn(line, "\n")] = '\0';
		for (tok = strtok_r(line, ",", &save); tok && n < 32; tok = strtok_r(NULL, ",", &save))
			f[n++] = tok;
		for (k = 0; k < n; k++) {
			if (k)
				fputc(',', out);
			if (k == c && factor != 0)
				fprintf(out, "%.17g", strtod(f[k], NULL) * factor);
			else if (k == n - 1 && flip && row % 3 == 0)
				fputs(!strcmp(f[k], "\"no\"") ? "\"yes\"" : "\"no\"", out);
			else
				fputs(f[k], out);
		}
		fputc('\n', out);
		row++;
	}
	fclose(in);
	fclose(out);
	return path;
}

static mlctl_monitor_result *monitor(mlctl_registry *reg, const char *data, double max_drop)
{
	mlctl_monitor_options o = MLCTL_MONITOR_OPTIONS_INIT;
	mlctl_monitor_result *r = NULL;

	o.model = "churn";
	o.data = data;
	o.max_drop = max_drop;
	ck_assert_msg(mlctl_monitor(&r, reg, &o) == 0, "monitor %s: %s", data, mlctl_error_last()->message);
	return r;
}

static const mlctl_monitor_feature *feature(const mlctl_monitor_result *r, const char *name)
{
	size_t k;

	for (k = 0; k < r->nfeatures; k++)
		if (!strcmp(r->features[k].name, name))
			return &r->features[k];
	ck_abort_msg("no feature %s", name);
	return NULL;
}

START_TEST(own_training_data_does_not_drift)
{
	mlctl_registry *reg = NULL;
	mlctl_monitor_result *r;
	size_t k;

	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	r = monitor(reg, data_path("mlc_churn.csv"), NAN);
	ck_assert_uint_eq(r->cur_rows, 5000);
	ck_assert_uint_eq(r->nfeatures, 19);
	for (k = 0; k < r->nfeatures; k++)
		ck_assert_msg(!r->features[k].drifted, "%s drifted (%s %g)", r->features[k].name, r->features[k].test,
			      r->features[k].statistic);
	ck_assert(!r->dataset_drift);
	ck_assert(r->has_prediction);
	ck_assert(!r->prediction.drifted);
	ck_assert(r->has_performance);
	ck_assert(!r->alert);
	ck_assert(r->run[0]);
	mlctl_monitor_result_free(r);
	mlctl_registry_free(reg);
}
END_TEST

START_TEST(a_shifted_column_drifts_alone)
{
	mlctl_registry *reg = NULL;
	mlctl_monitor_result *r;
	mlctl_monitor_history *h = NULL;
	size_t k;

	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	r = monitor(reg, churn_variant("shift.csv", "total_day_minutes", 1.5, false), NAN);
	ck_assert(feature(r, "total_day_minutes")->drifted);
	ck_assert_str_eq(feature(r, "total_day_minutes")->test, "wasserstein");
	for (k = 0; k < r->nfeatures; k++)
		if (strcmp(r->features[k].name, "total_day_minutes"))
			ck_assert_msg(!r->features[k].drifted, "%s drifted", r->features[k].name);
	ck_assert(!r->dataset_drift); /* one of 19 */
	mlctl_monitor_result_free(r);
	ck_assert_int_eq(mlctl_monitor_history_get(&h, reg, "churn", NULL, 0), 0);
	ck_assert_uint_eq(h->npoints, 1);
	for (k = 0; k < h->nfeatures && strcmp(h->features[k], "total_day_minutes"); k++)
		;
	ck_assert_uint_lt(k, h->nfeatures);
	ck_assert(h->points[0].statistic[k] >= 0.1);
	mlctl_monitor_history_free(h);
	mlctl_registry_free(reg);
}
END_TEST

START_TEST(flipped_labels_drop_the_accuracy)
{
	mlctl_registry *reg = NULL;
	mlctl_monitor_result *r;

	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	r = monitor(reg, churn_variant("flip.csv", "state", 0, true), 0.05);
	ck_assert(r->has_performance);
	ck_assert_str_eq(r->metric, "accuracy");
	ck_assert_msg(r->drop > 0.2, "drop %g", r->drop);
	ck_assert(r->performance_alert);
	ck_assert(r->alert);
	ck_assert_ptr_nonnull(strstr(r->why, "accuracy"));
	mlctl_monitor_result_free(r);
	r = monitor(reg, data_path("mlc_churn.csv"), 0.05);
	ck_assert(!r->performance_alert);
	mlctl_monitor_result_free(r);
	mlctl_registry_free(reg);
}
END_TEST

/* mlc_churn.csv without its label column, times over, written under test_tmpdir. */
static const char *unlabelled(const char *name, int times)
{
	static char path[700];
	FILE *in, *out;
	char line[4096];
	int t;

	snprintf(path, sizeof(path), "%s/%s", test_tmpdir, name);
	ck_assert_ptr_nonnull(out = fopen(path, "w"));
	for (t = 0; t < times; t++) {
		ck_assert_ptr_nonnull(in = fopen(data_path("mlc_churn.csv"), "r"));
		for (int k = 0; fgets(line, sizeof(line), in); k++) {
			char *comma = strrchr(line, ',');

			if (k == 0 && t > 0)
				continue;
			ck_assert_ptr_nonnull(comma);
			*comma = '\0';
			fprintf(out, "%s\n", line);
		}
		fclose(in);
	}
	fclose(out);
	return path;
}

/* The sample of rows scored for the prediction drift (score_rows) is the same on 1, 2 and
 * 3 threads, and so is every statistic: the workers profile batches that the writer
 * appends in input order. score_rows 0 scores every row. */
START_TEST(the_sample_is_the_same_on_any_threads)
{
	mlctl_registry *reg = NULL;
	mlctl_monitor_result *r[3] = { NULL, NULL, NULL }, *all = NULL;
	const char *data;
	size_t k;
	int t;

	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	data = unlabelled("nolabel.csv", 3);
	for (t = 0; t < 3; t++) {
		mlctl_monitor_options o = MLCTL_MONITOR_OPTIONS_INIT;

		o.model = "churn";
		o.data = data;
		o.no_record = true;
		o.score_rows = 3000;
		o.threads = t + 1;
		ck_assert_msg(mlctl_monitor(&r[t], reg, &o) == 0, "%s", mlctl_error_last()->message);
		ck_assert_uint_eq(r[t]->cur_rows, 15000);
		ck_assert_uint_eq(r[t]->pred_rows, 3000);
		ck_assert(r[t]->pred_sampled && r[t]->has_prediction && !r[t]->has_performance);
		for (k = 0; t && k < r[t]->nfeatures; k++)
			ck_assert_msg(r[t]->features[k].statistic == r[0]->features[k].statistic ||
				      (isnan(r[t]->features[k].statistic) && isnan(r[0]->features[k].statistic)),
				      "%d threads: %s %.17g, 1 thread %.17g", t + 1, r[t]->features[k].name,
				      r[t]->features[k].statistic, r[0]->features[k].statistic);
		ck_assert(!t || r[t]->prediction.statistic == r[0]->prediction.statistic);
	}
	{
		mlctl_monitor_options o = MLCTL_MONITOR_OPTIONS_INIT;

		o.model = "churn";
		o.data = data;
		o.no_record = true;
		o.score_rows = 0;
		ck_assert_int_eq(mlctl_monitor(&all, reg, &o), 0);
		ck_assert_uint_eq(all->pred_rows, 15000);
		ck_assert(!all->pred_sampled);
		/* every row profiled either way: the features' statistics do not change */
		for (k = 0; k < all->nfeatures; k++)
			ck_assert(all->features[k].statistic == r[0]->features[k].statistic);
		ck_assert(all->prediction.drifted == r[0]->prediction.drifted);
	}
	for (t = 0; t < 3; t++)
		mlctl_monitor_result_free(r[t]);
	mlctl_monitor_result_free(all);
	mlctl_registry_free(reg);
}
END_TEST

START_TEST(bad_sources_fail)
{
	mlctl_registry *reg = NULL;
	mlctl_monitor_options o = MLCTL_MONITOR_OPTIONS_INIT;
	mlctl_monitor_result *r = NULL;

	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	o.model = "churn";
	ck_assert_int_eq(mlctl_monitor(&r, reg, &o), MLCTL_EUSAGE);
	o.data = tmp_path("missing.csv");
	ck_assert_int_eq(mlctl_monitor(&r, reg, &o), MLCTL_ENOTFOUND);
	o.data = NULL;
	o.log = write_tmp("bad.jsonl", "{\"inputs\": \n");
	ck_assert_int_eq(mlctl_monitor(&r, reg, &o), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "bad.jsonl:1"));
	ck_assert_ptr_null(r);
	mlctl_registry_free(reg);
}
END_TEST

static Suite *monitor_suite(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc = tcase_create("monitor");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, own_training_data_does_not_drift);
	tcase_add_test(tc, a_shifted_column_drifts_alone);
	tcase_add_test(tc, flipped_labels_drop_the_accuracy);
	tcase_add_test(tc, the_sample_is_the_same_on_any_threads);
	tcase_add_test(tc, bad_sources_fail);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(monitor_suite)
