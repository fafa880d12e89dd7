/*
 * check_profile.c — the profile module: statistics and decile edges against numpy, binning
 * new data on the reference edges, categorical counts, predictions and YAML round trips.
 */
#include <math.h>

#include "check_util.h"
#include "dataset.h"
#include "profile.h"
#include "schema.h"
#include "mlctl/common.h"

static ds_table *tab;
static mlctl_schema *sch;

static void load_concrete(void)
{
	schema_options o = SCHEMA_OPTIONS_INIT;

	tmpdir_setup();
	ck_assert_int_eq(ds_table_load(&tab, data_path("concrete.csv"), DS_FORMAT_AUTO), 0);
	o.label = "compressive_strength";
	o.task = SCHEMA_TASK_REGRESS;
	ck_assert_int_eq(schema_fit(&sch, tab, &o), 0);
}

static void free_concrete(void)
{
	schema_free(sch);
	ds_table_free(tab);
	tmpdir_teardown();
}

START_TEST(test_profile_numeric_matches_numpy)
{
	mlctl_profile *p = NULL;
	profile_stats st;
	char cmd[1024], line[4096];
	FILE *py;
	size_t i, checked = 0;

	ck_assert_int_eq(profile_from_table(&p, tab, sch, NULL, 0), 0);
	ck_assert_uint_eq(profile_rows(p), 1030);
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c \"import numpy as np, csv, sys\n"
		 "rows = list(csv.reader(open('%s')))\n"
		 "for j, name in enumerate(rows[0][:-1]):\n"
		 "    x = np.array([float(r[j]) for r in rows[1:]])\n"
		 "    e = np.quantile(x, np.arange(1, 10) / 10)\n"
		 "    b = np.bincount(np.searchsorted(e, x, side='right'), minlength=10)\n"
		 "    print(' '.join(['%%.17g' %% v for v in [x.mean(), x.std(), x.min(), x.max()] + list(e)] + [str(c) for c in b]))\n"
		 "\"", data_path("concrete.csv"));
	py = popen(cmd, "r");
	ck_assert_ptr_nonnull(py);
	for (i = 0; fgets(line, sizeof(line), py); i++) {
		double v[13];
		size_t bins[10], k;
		char *s = line;

		for (k = 0; k < 13; k++)
			v[k] = strtod(s, &s);
		for (k = 0; k < 10; k++)
			bins[k] = strtoul(s, &s, 10);
		ck_assert(profile_input(p, i, &st));
		ck_assert(!st.categorical);
		ck_assert_uint_eq(st.count, 1030);
		ck_assert(fabs(st.mean - v[0]) <= 1e-9 * fabs(v[0]));
		ck_assert(fabs(st.std - v[1]) <= 1e-9 * fabs(v[1]));
		ck_assert(st.min == v[2] && st.max == v[3]);
		ck_assert_uint_eq(st.nedges, 9);
		for (k = 0; k < 9; k++)
			ck_assert_msg(fabs(st.edges[k] - v[4 + k]) <= 1e-12 * fabs(v[4 + k]) + 1e-300,
				      "%s edge %zu: %.17g numpy %.17g", st.name, k, st.edges[k], v[4 + k]);
		for (k = 0; k < 10; k++)
			ck_assert_msg(st.bins[k] == bins[k], "%s bin %zu: %zu numpy %zu", st.name, k,
				      st.bins[k], bins[k]);
		checked++;
	}
	ck_assert_int_eq(pclose(py), 0);
	ck_assert_uint_eq(checked, 8);
	profile_free(p);
}
END_TEST

START_TEST(test_profile_stream_same_data_same_bins)
{
	mlctl_profile *ref = NULL, *cur = NULL, *back = NULL;
	ds_reader *r = NULL;
	const ds_record *rec;
	profile_stats a, b;
	profile_pred pp;
	char *yaml = NULL, *yaml2 = NULL;
	size_t len, len2, i, k;
	double pred[3] = { 10, 20, 90 };

	ck_assert_int_eq(profile_from_table(&ref, tab, sch, NULL, 0), 0);
	ck_assert_int_eq(profile_new_like(&cur, ref), 0);
	ck_assert_int_eq(ds_reader_open(&r, data_path("concrete.csv"), DS_FORMAT_AUTO), 0);
	while (ds_reader_next(r, &rec) == 1)
		ck_assert_int_eq(profile_add_record(cur, sch, r, rec), 0);
	ds_reader_free(r);
	ck_assert_uint_eq(profile_rows(cur), 1030);
	for (i = 0; i < profile_ninputs(ref); i++) {
		ck_assert(profile_input(ref, i, &a) && profile_input(cur, i, &b));
		ck_assert(a.min == b.min && a.max == b.max);
		ck_assert(fabs(a.mean - b.mean) < 1e-9 * fabs(a.mean));
		ck_assert(fabs(a.std - b.std) < 1e-9 * fabs(a.std));
		for (k = 0; k < 10; k++)
			ck_assert_uint_eq(a.bins[k], b.bins[k]);
		ck_assert_uint_eq(b.npercentiles, 0);
	}
	/* regression predictions: reference deciles from its first batch */
	ck_assert_int_eq(profile_add_predictions(ref, sch, pred, 3), 0);
	ck_assert(profile_predictions(ref, &pp) && !pp.is_classes && pp.values.count == 3);
	ck_assert_int_eq(profile_save(&yaml, &len, ref), 0);
	ck_assert_msg(profile_load(&back, yaml, len, "profile.yaml") == 0, "%s", mlctl_error_last()->message);
	ck_assert_int_eq(profile_save(&yaml2, &len2, back), 0);
	ck_assert_str_eq(yaml, yaml2);
	ck_assert(profile_input(back, 3, &b) && profile_input(ref, 3, &a));
	ck_assert(memcmp(a.edges, b.edges, sizeof(double) * 9) == 0);
	ck_assert(a.std == b.std);
	free(yaml);
	free(yaml2);
	profile_free(back);
	profile_free(ref);
	profile_free(cur);
}
END_TEST

START_TEST(test_profile_categorical_and_classes)
{
	const char *tp = write_tmp("t.csv", "c,x,label\nred,1,a\nblue,2,b\n,3,a\nred,NA,b\n");
	const char *np = write_tmp("n.csv", "x,c\n5,green\n6,red\n,\n");
	ds_table *t = NULL;
	mlctl_schema *s = NULL;
	mlctl_profile *ref = NULL, *cur = NULL, *back = NULL;
	ds_reader *r = NULL;
	const ds_record *rec;
	profile_stats st;
	profile_pred pp;
	double pred[4] = { 0, 1, 1, 7 };
	char *yaml = NULL;
	size_t len;

	ck_assert_int_eq(ds_table_load(&t, tp, DS_FORMAT_AUTO), 0);
	ck_assert_int_eq(schema_fit(&s, t, NULL), 0);
	ck_assert_int_eq(profile_from_table(&ref, t, s, NULL, 0), 0);
	ck_assert(profile_input(ref, 0, &st) && st.categorical);
	ck_assert_uint_eq(st.ncategories, 3); /* <missing>, blue, red */
	ck_assert_str_eq(st.categories[0], "<missing>");
	ck_assert(st.category_counts[0] == 1 && st.category_counts[1] == 1 && st.category_counts[2] == 2);
	ck_assert(profile_input(ref, 1, &st) && st.missing == 1 && st.count == 3 && st.mean == 2);
	ck_assert_int_eq(profile_new_like(&cur, ref), 0);
	ck_assert_int_eq(ds_reader_open(&r, np, DS_FORMAT_AUTO), 0);
	while (ds_reader_next(r, &rec) == 1)
		ck_assert_int_eq(profile_add_record(cur, s, r, rec), 0);
	ck_assert(profile_input(cur, 0, &st));
	ck_assert(st.unseen == 1 && st.missing == 1 && st.category_counts[2] == 1 && st.category_counts[0] == 1);
	ck_assert(profile_input(cur, 1, &st) && st.count == 2 && st.missing == 1 && st.max == 6);
	ck_assert_uint_eq(st.bins[9], 2); /* above every reference edge */
	ck_assert_int_eq(profile_add_predictions(cur, s, pred, 4), 0);
	ck_assert(profile_predictions(cur, &pp) && pp.is_classes);
	ck_assert(pp.class_counts[0] == 1 && pp.class_counts[1] == 2 && pp.other == 1);
	ck_assert_str_eq(pp.class_names[1], "b");
	ck_assert_int_eq(profile_save(&yaml, &len, cur), 0);
	ck_assert_int_eq(profile_load(&back, yaml, len, "p.yaml"), 0);
	ck_assert(profile_predictions(back, &pp) && pp.class_counts[1] == 2 && pp.other == 1);
	profile_free(back);
	ck_assert_int_eq(profile_load(&back, "rows: [", 7, "bad/profile.yaml"), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "bad/profile.yaml:"));
	free(yaml);
	profile_free(back);
	ds_reader_free(r);
	profile_free(ref);
	profile_free(cur);
	schema_free(s);
	ds_table_free(t);
}
END_TEST

static Suite *profile_suite(void)
{
	Suite *s = suite_create("profile");
	TCase *tc = tcase_create("core");
	TCase *tc2 = tcase_create("small");

	tcase_add_checked_fixture(tc, load_concrete, free_concrete);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_profile_numeric_matches_numpy);
	tcase_add_test(tc, test_profile_stream_same_data_same_bins);
	tcase_add_checked_fixture(tc2, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc2, test_profile_categorical_and_classes);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tc2);
	return s;
}

CHECK_MAIN(profile_suite)
