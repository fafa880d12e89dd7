/*
 * check_profile.c — the profile module: statistics and decile edges against numpy, binning
 * new data on the reference edges, categorical counts, predictions and YAML round trips;
 * samples and distinct values, merging, rows given as cells, metrics, and loading the
 * version-1 format.
 */
#include <math.h>

#include "check_util.h"
#include "dataset.h"
#include "profile.h"
#include "schema.h"
#include "util.h"
#include "mlctl/common.h"

static ds_table *tab;
static mlctl_schema *sch;

/* What profile_save wrote before version 2 (mlctl train on an 8-row CSV with a numeric,
 * a categorical and a numeric input with missing values), kept verbatim. */
static const char profile_v1_yaml[] =
	"profile_version: 1\n"
	"rows: 8\n"
	"inputs:\n"
	"- name: \"x\"\n"
	"  type: numeric\n"
	"  count: 7\n"
	"  missing: 1\n"
	"  mean: 4.25\n"
	"  std: 1.9039432764659772\n"
	"  min: 1.5\n"
	"  max: 7\n"
	"  m2: 25.375000000000004\n"
	"  edges: [2.1, 2.6, 2.9, 3.5000000000000004, 4.25, 4.699999999999999, 5.299999999999999, 6.200000000000001,\n"
	"    6.7]\n"
	"  bins: [1, 1, 0, 1, 0, 1, 1, 0, 1, 1]\n"
	"  percentiles: [1.5, 1.56, 1.62, 1.68, 1.74, 1.8, 1.8599999999999999, 1.92, 1.98, 2.04, 2.1, 2.16, 2.2199999999999998,\n"
	"    2.2800000000000002, 2.34, 2.4, 2.46, 2.51, 2.54, 2.5700000000000003, 2.6, 2.63, 2.66, 2.69, 2.7199999999999998,\n"
	"    2.75, 2.7800000000000002, 2.81, 2.84, 2.87, 2.9, 2.9299999999999997, 2.96, 2.99, 3.05, 3.1249999999999996,\n"
	"    3.2, 3.2749999999999995, 3.3500000000000005, 3.425, 3.5000000000000004, 3.575, 3.65, 3.725, 3.8000000000000003,\n"
	"    3.875, 3.95, 4.0249999999999995, 4.1, 4.175, 4.25, 4.295, 4.34, 4.385, 4.43, 4.4750000000000005, 4.5200000000000005,\n"
	"    4.5649999999999995, 4.609999999999999, 4.655, 4.699999999999999, 4.745, 4.79, 4.835, 4.88, 4.925000000000001,\n"
	"    4.97, 5.030000000000001, 5.12, 5.209999999999999, 5.299999999999999, 5.39, 5.48, 5.57, 5.659999999999999,\n"
	"    5.75, 5.840000000000001, 5.93, 6.02, 6.11, 6.200000000000001, 6.290000000000001, 6.38, 6.469999999999999,\n"
	"    6.52, 6.55, 6.58, 6.609999999999999, 6.640000000000001, 6.67, 6.7, 6.73, 6.76, 6.79, 6.82, 6.85, 6.88,\n"
	"    6.91, 6.9399999999999995, 6.97, 7]\n"
	"- name: \"c\"\n"
	"  type: categorical\n"
	"  count: 7\n"
	"  missing: 1\n"
	"  unseen: 0\n"
	"  categories:\n"
	"  - value: \"<missing>\"\n"
	"    count: 1\n"
	"  - value: \"blue\"\n"
	"    count: 2\n"
	"  - value: \"green\"\n"
	"    count: 2\n"
	"  - value: \"red\"\n"
	"    count: 3\n"
	"- name: \"y\"\n"
	"  type: numeric\n"
	"  count: 7\n"
	"  missing: 1\n"
	"  mean: 11.285714285714286\n"
	"  std: 1.6659862556700855\n"
	"  min: 9\n"
	"  max: 14\n"
	"  m2: 19.428571428571423\n"
	"  edges: [9.6, 10, 10, 10.4, 11, 11.6, 12.2, 12.8, 13.4]\n"
	"  bins: [1, 0, 0, 2, 0, 1, 1, 0, 1, 1]\n"
	"  percentiles: [9, 9.06, 9.12, 9.18, 9.24, 9.3, 9.36, 9.42, 9.48, 9.54, 9.6, 9.66, 9.72, 9.78, 9.84, 9.9,\n"
	"    9.96, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10.04, 10.1, 10.16, 10.219999999999999,\n"
	"    10.280000000000001, 10.34, 10.4, 10.46, 10.52, 10.58, 10.64, 10.7, 10.76, 10.82, 10.879999999999999,\n"
	"    10.94, 11, 11.06, 11.120000000000001, 11.18, 11.24, 11.3, 11.36, 11.42, 11.48, 11.54, 11.6, 11.66,\n"
	"    11.719999999999999, 11.780000000000001, 11.84, 11.9, 11.96, 12.02, 12.08, 12.14, 12.2, 12.26, 12.32,\n"
	"    12.379999999999999, 12.44, 12.5, 12.56, 12.620000000000001, 12.68, 12.74, 12.8, 12.86, 12.92, 12.98,\n"
	"    13.04, 13.1, 13.16, 13.219999999999999, 13.280000000000001, 13.34, 13.4, 13.46, 13.52, 13.58, 13.64,\n"
	"    13.7, 13.76, 13.82, 13.879999999999999, 13.94, 14]\n"
	"predictions:\n"
	"  kind: classes\n"
	"  count: 8\n"
	"  other: 0\n"
	"  classes:\n"
	"  - name: \"a\"\n"
	"    value: 0\n"
	"    count: 6\n"
	"  - name: \"b\"\n"
	"    value: 1\n"
	"    count: 2\n";

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

/* The profiles of the rows of path, fed to new_like(ref) profiles: all of them into whole,
 * the first `split` into h1 and the rest into h2, with their label as the prediction. */
static void stream_halves(const mlctl_profile *ref, const char *path, size_t split, mlctl_profile **whole,
			  mlctl_profile **h1, mlctl_profile **h2)
{
	ds_reader *r = NULL;
	const ds_record *rec;
	size_t i = 0;

	ck_assert_int_eq(profile_new_like(whole, ref), 0);
	ck_assert_int_eq(profile_new_like(h1, ref), 0);
	ck_assert_int_eq(profile_new_like(h2, ref), 0);
	ck_assert_int_eq(ds_reader_open(&r, path, DS_FORMAT_AUTO), 0);
	while (ds_reader_next(r, &rec) == 1) {
		mlctl_profile *h = i++ < split ? *h1 : *h2;
		double y = strtod(rec->fields[rec->nfields - 1], NULL);

		ck_assert_int_eq(profile_add_record(*whole, sch, r, rec), 0);
		ck_assert_int_eq(profile_add_record(h, sch, r, rec), 0);
		ck_assert_int_eq(profile_add_predictions(*whole, sch, &y, 1), 0);
		ck_assert_int_eq(profile_add_predictions(h, sch, &y, 1), 0);
	}
	ds_reader_free(r);
}

static bool close_rel(double a, double b, double tol)
{
	return a == b || fabs(a - b) <= tol * fabs(b);
}

static void assert_same_numeric(const profile_stats *a, const profile_stats *b)
{
	size_t k;

	ck_assert_uint_eq(a->count, b->count);
	ck_assert_uint_eq(a->missing, b->missing);
	ck_assert(a->min == b->min && a->max == b->max);
	ck_assert_msg(close_rel(a->mean, b->mean, 1e-12), "%s mean %.17g, %.17g", a->name, a->mean, b->mean);
	ck_assert_msg(close_rel(a->std, b->std, 1e-12), "%s std %.17g, %.17g", a->name, a->std, b->std);
	ck_assert_uint_eq(a->nedges, b->nedges);
	for (k = 0; k <= a->nedges; k++)
		ck_assert_uint_eq(a->bins[k], b->bins[k]);
	ck_assert(a->has_sample && b->has_sample);
	ck_assert_uint_eq(a->nsample, b->nsample);
	ck_assert(a->distinct_capped == b->distinct_capped);
	ck_assert_uint_eq(a->ndistinct, b->ndistinct);
	for (k = 0; k < a->ndistinct; k++)
		ck_assert(a->distinct_values[k] == b->distinct_values[k] && a->distinct_counts[k] == b->distinct_counts[k]);
}

/* A sample as a sorted copy, to compare samples as multisets. */
static double *sorted_copy(const double *v, size_t n)
{
	double *c = malloc((n + 1) * sizeof(*c));

	ck_assert_ptr_nonnull(c);
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), mlctl_cmp_double);
	return c;
}

START_TEST(test_profile_sample_and_distinct)
{
	mlctl_profile *ref = NULL, *again = NULL, *cur = NULL, *back = NULL;
	ds_reader *r = NULL;
	const ds_record *rec;
	profile_stats a, b, c;
	char *yaml = NULL;
	size_t len, i, k, sum;

	ck_assert_int_eq(profile_from_table(&ref, tab, sch, NULL, 0), 0);
	ck_assert_int_eq(profile_version(ref), 2);
	ck_assert_int_eq(profile_from_table(&again, tab, sch, NULL, 0), 0);
	ck_assert_int_eq(profile_new_like(&cur, ref), 0);
	ck_assert_int_eq(ds_reader_open(&r, data_path("concrete.csv"), DS_FORMAT_AUTO), 0);
	while (ds_reader_next(r, &rec) == 1)
		ck_assert_int_eq(profile_add_record(cur, sch, r, rec), 0);
	ds_reader_free(r);
	for (i = 0; i < profile_ninputs(ref); i++) {
		ck_assert(profile_input(ref, i, &a) && profile_input(again, i, &b) && profile_input(cur, i, &c));
		/* 1030 rows: the sample is every value, in row order */
		ck_assert(a.has_sample && a.nsample == 1030);
		for (k = 0; k < a.nsample; k++)
			ck_assert(a.sample[k] == strtod(ds_cell(tab, k, (long)i), NULL));
		ck_assert(memcmp(a.sample, b.sample, a.nsample * sizeof(double)) == 0);
		ck_assert(memcmp(a.sample, c.sample, a.nsample * sizeof(double)) == 0);
		ck_assert(!a.distinct_capped && a.ndistinct > 5 && a.ndistinct < 1030);
		for (k = 0, sum = 0; k < a.ndistinct; k++) {
			ck_assert(k == 0 || a.distinct_values[k - 1] < a.distinct_values[k]);
			sum += a.distinct_counts[k];
		}
		ck_assert_uint_eq(sum, 1030);
		ck_assert(a.distinct_values[0] == a.min && a.distinct_values[a.ndistinct - 1] == a.max);
		ck_assert_uint_eq(c.ndistinct, a.ndistinct);
	}
	ck_assert_int_eq(profile_save(&yaml, &len, ref), 0);
	ck_assert_ptr_nonnull(strstr(yaml, "profile_version: 2\n"));
	ck_assert_int_eq(profile_load(&back, yaml, len, "p.yaml"), 0);
	ck_assert_int_eq(profile_version(back), 2);
	ck_assert(profile_input(back, 2, &b) && profile_input(ref, 2, &a));
	ck_assert(b.has_sample && b.nsample == a.nsample && memcmp(a.sample, b.sample, a.nsample * sizeof(double)) == 0);
	ck_assert(b.ndistinct == a.ndistinct && memcmp(a.distinct_counts, b.distinct_counts, a.ndistinct * sizeof(size_t)) == 0);
	free(yaml);
	profile_free(back);
	profile_free(cur);
	profile_free(again);
	profile_free(ref);
}
END_TEST

START_TEST(test_profile_merge_halves_is_whole)
{
	mlctl_profile *ref = NULL, *whole = NULL, *h1 = NULL, *h2 = NULL, *again = NULL;
	profile_stats a, b;
	profile_pred pa, pb;
	char *y1 = NULL, *y2 = NULL;
	size_t len, i;
	double *pred = calloc(1030, sizeof(*pred));

	ck_assert_int_eq(profile_from_table(&ref, tab, sch, NULL, 0), 0);
	for (i = 0; i < 1030; i++)
		pred[i] = strtod(ds_cell(tab, i, 8), NULL);
	ck_assert_int_eq(profile_add_predictions(ref, sch, pred, 1030), 0);
	stream_halves(ref, data_path("concrete.csv"), 400, &whole, &h1, &h2);
	ck_assert_int_eq(profile_merge(h1, h2), 0);
	ck_assert_uint_eq(profile_rows(h1), 1030);
	for (i = 0; i < profile_ninputs(whole); i++) {
		double *s1, *s2;

		ck_assert(profile_input(h1, i, &a) && profile_input(whole, i, &b));
		assert_same_numeric(&a, &b);
		/* fewer values than the reservoir: the merged sample is every value */
		s1 = sorted_copy(a.sample, a.nsample);
		s2 = sorted_copy(b.sample, b.nsample);
		ck_assert(memcmp(s1, s2, a.nsample * sizeof(double)) == 0);
		free(s1);
		free(s2);
	}
	ck_assert(profile_predictions(h1, &pa) && profile_predictions(whole, &pb));
	ck_assert_uint_eq(pa.count, 1030);
	assert_same_numeric(&pa.values, &pb.values);
	/* the same merge again gives the same profile */
	profile_free(h2);
	profile_free(whole);
	stream_halves(ref, data_path("concrete.csv"), 400, &whole, &again, &h2);
	ck_assert_int_eq(profile_merge(again, h2), 0);
	ck_assert_int_eq(profile_save(&y1, &len, h1), 0);
	ck_assert_int_eq(profile_save(&y2, &len, again), 0);
	ck_assert_str_eq(y1, y2);
	/* profiles binned otherwise do not merge, and say why */
	profile_free(again);
	ck_assert_int_eq(profile_from_table(&again, tab, sch, (size_t[]){ 1, 2, 3, 4, 5 }, 5), 0);
	ck_assert_int_eq(profile_merge(h1, again), MLCTL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "profiles differ: input 1 has other decile edges"));
	ck_assert_uint_eq(profile_rows(h1), 1030);
	free(y1);
	free(y2);
	free(pred);
	profile_free(again);
	profile_free(h1);
	profile_free(h2);
	profile_free(whole);
	profile_free(ref);
}
END_TEST

/* A one-input schema and reference for synthetic values: x numeric, classes a and b. */
static void tiny_schema(ds_table **t, mlctl_schema **s, mlctl_profile **ref)
{
	const char *p = write_tmp("x.csv", "x,label\n0,a\n1,b\n2,a\n3,b\n4,a\n5,b\n6,a\n7,b\n8,a\n9,b\n10,a\n");

	ck_assert_int_eq(ds_table_load(t, p, DS_FORMAT_AUTO), 0);
	ck_assert_int_eq(schema_fit(s, *t, NULL), 0);
	ck_assert_int_eq(profile_from_table(ref, *t, *s, NULL, 0), 0);
}

/* n values start, start + step, ... into a new_like(ref) profile, as numbers. */
static mlctl_profile *fed(const mlctl_profile *ref, const mlctl_schema *s, double start, double step, size_t n)
{
	mlctl_profile *p = NULL;
	schema_cell c = { NULL, 0, true, 0, 0 };
	size_t i;

	ck_assert_int_eq(profile_new_like(&p, ref), 0);
	for (i = 0; i < n; i++) {
		c.num = start + step * (double)i;
		ck_assert_int_eq(profile_add_cells(p, s, &c), 0);
	}
	return p;
}

START_TEST(test_profile_reservoir_and_merge_weights)
{
	ds_table *t = NULL;
	mlctl_schema *s = NULL;
	mlctl_profile *ref = NULL, *a = NULL, *b = NULL, *a2 = NULL, *small = NULL;
	profile_stats st, st2;
	size_t i, froma = 0;
	double suma = 0, sum = 0;

	tiny_schema(&t, &s, &ref);
	/* 30,000 distinct values: a reservoir of 5,000 distinct ones spread over all of them */
	a = fed(ref, s, 0, 1, 30000);
	ck_assert(profile_input(a, 0, &st) && st.has_sample);
	ck_assert_uint_eq(st.nsample, PROFILE_SAMPLE);
	ck_assert(st.distinct_capped && st.ndistinct == 0 && !st.distinct_values);
	for (i = 0; i < st.nsample; i++)
		sum += st.sample[i];
	/* uniform on 0..29999: mean 14999.5, sd of the sample mean about 122 */
	ck_assert_msg(fabs(sum / PROFILE_SAMPLE - 14999.5) < 600, "sample mean %g", sum / PROFILE_SAMPLE);
	a2 = fed(ref, s, 0, 1, 30000);
	ck_assert(profile_input(a2, 0, &st2) && memcmp(st.sample, st2.sample, PROFILE_SAMPLE * sizeof(double)) == 0);
	/* few distinct values: exact counts */
	small = fed(ref, s, 0, 0.5, 7);
	ck_assert(profile_input(small, 0, &st2) && !st2.distinct_capped && st2.ndistinct == 7 && st2.nsample == 7);
	/* a merge draws from each side in proportion to its count: 30,000 + 10,000 values,
	 * 3/4 of 5,000 from a (hypergeometric sd about 29) */
	b = fed(ref, s, 1e6, 1, 10000);
	ck_assert_int_eq(profile_merge(a, b), 0);
	ck_assert(profile_input(a, 0, &st));
	ck_assert_uint_eq(st.count, 40000);
	ck_assert_uint_eq(st.nsample, PROFILE_SAMPLE);
	for (i = 0; i < st.nsample; i++) {
		if (st.sample[i] < 1e6) {
			froma++;
			suma += st.sample[i];
		}
	}
	ck_assert_msg(froma > 3750 - 150 && froma < 3750 + 150, "%zu of 5000 from the first side", froma);
	ck_assert_msg(fabs(suma / (double)froma - 14999.5) < 700, "mean of the first side's %g", suma / (double)froma);
	/* the same merge, the same sample */
	profile_free(b);
	b = fed(ref, s, 1e6, 1, 10000);
	ck_assert_int_eq(profile_merge(a2, b), 0);
	ck_assert(profile_input(a2, 0, &st2) && memcmp(st.sample, st2.sample, PROFILE_SAMPLE * sizeof(double)) == 0);
	/* distinct lists: union of 7 with 7 shifted by 0.5 gives 8 values, counts added */
	profile_free(b);
	b = fed(ref, s, 0.5, 0.5, 7);
	ck_assert_int_eq(profile_merge(small, b), 0);
	ck_assert(profile_input(small, 0, &st2) && st2.ndistinct == 8 && st2.nsample == 14);
	ck_assert(st2.distinct_values[0] == 0 && st2.distinct_counts[0] == 1 && st2.distinct_counts[1] == 2);
	profile_free(small);
	profile_free(a2);
	profile_free(a);
	profile_free(b);
	profile_free(ref);
	schema_free(s);
	ds_table_free(t);
}
END_TEST

/* Value k of a stream with few distinct values (period 37) or many (all distinct). */
static double stream_value(size_t k, bool few)
{
	return few ? (double)(k * 7 % 37) * 0.25 : (double)((k * 7919) % 100003) / 3.0;
}

/*
 * Batches profiled apart and appended in order (what predict's and monitor's workers do)
 * make the profile of one pass: the same reservoir to the bit (algorithm R goes on over
 * each batch's values), counts, bins, min, max and distinct values equal, mean and std
 * equal up to rounding; whatever the batch sizes, batch profiles (profile_new_batch, whose
 * distinct values are hashed) or plain ones, and with the capped-distinct hint of
 * profile_reset. A batch whose sample does not hold all its values is refused.
 */
START_TEST(test_profile_append_batches_is_one_pass)
{
	static const size_t sizes[] = { 3, 2048, PROFILE_SAMPLE, 7, 512 };
	ds_table *t = NULL;
	mlctl_schema *s = NULL;
	mlctl_profile *ref = NULL;
	size_t n = 12345, f, z;

	tiny_schema(&t, &s, &ref);
	for (f = 0; f < 2; f++) {
		mlctl_profile *one = NULL;
		profile_stats a;
		size_t k;

		ck_assert_int_eq(profile_new_like(&one, ref), 0);
		for (k = 0; k < n; k++) {
			schema_cell c = { NULL, stream_value(k, f == 0), true, 0, 0 };

			if (k % 11 == 3)
				c = (schema_cell){ "NA", 0, false, 0, 0 }; /* missing */
			ck_assert_int_eq(profile_add_cells(one, s, &c), 0);
		}
		ck_assert(profile_input(one, 0, &a));
		for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
			mlctl_profile *all = NULL, *batch = NULL;
			profile_stats b;
			size_t i;

			ck_assert_int_eq(profile_new_like(&all, ref), 0);
			/* a batch profile (hashed distinct values), or a plain one */
			ck_assert_int_eq(z < 3 ? profile_new_batch(&batch, ref) : profile_new_like(&batch, ref), 0);
			for (k = 0; k < n; k++) {
				schema_cell c = { NULL, stream_value(k, f == 0), true, 0, 0 };

				if (k % 11 == 3)
					c = (schema_cell){ "NA", 0, false, 0, 0 };
				ck_assert_int_eq(profile_add_cells(batch, s, &c), 0);
				if ((k + 1) % sizes[z] == 0 || k + 1 == n) {
					ck_assert_int_eq(profile_batch_finish(batch), 0);
					ck_assert_int_eq(profile_append(all, batch), 0);
					profile_reset(batch, z % 2 ? all : NULL);
				}
			}
			ck_assert(profile_input(all, 0, &b));
			ck_assert_uint_eq(profile_rows(all), n);
			ck_assert_uint_eq(b.count, a.count);
			ck_assert_uint_eq(b.missing, a.missing);
			ck_assert(b.min == a.min && b.max == a.max);
			ck_assert_msg(fabs(b.mean - a.mean) <= 1e-12 * fabs(a.mean), "batches of %zu: mean %.17g, one pass %.17g",
				      sizes[z], b.mean, a.mean);
			ck_assert_msg(fabs(b.std - a.std) <= 1e-10 * a.std, "std %.17g, %.17g", b.std, a.std);
			for (i = 0; i <= a.nedges; i++)
				ck_assert_uint_eq(b.bins[i], a.bins[i]);
			ck_assert_uint_eq(b.nsample, a.nsample);
			ck_assert_msg(memcmp(b.sample, a.sample, a.nsample * sizeof(double)) == 0,
				      "batches of %zu: another sample than one pass", sizes[z]);
			ck_assert(b.distinct_capped == a.distinct_capped && b.ndistinct == a.ndistinct);
			for (i = 0; i < a.ndistinct; i++)
				ck_assert(b.distinct_values[i] == a.distinct_values[i] && b.distinct_counts[i] == a.distinct_counts[i]);
			profile_free(all);
			profile_free(batch);
		}
		ck_assert(f == 1 ? a.distinct_capped : a.ndistinct == 37);
		/* more values than the reservoir in one batch: refused, into unchanged */
		{
			mlctl_profile *big = NULL, *into = NULL;

			ck_assert_int_eq(profile_new_like(&into, ref), 0);
			big = fed(ref, s, 0, 1, PROFILE_SAMPLE + 1);
			ck_assert_int_eq(profile_append(into, big), MLCTL_EUSAGE);
			ck_assert_uint_eq(profile_rows(into), 0);
			profile_free(big);
			profile_free(into);
		}
		profile_free(one);
	}
	profile_free(ref);
	schema_free(s);
	ds_table_free(t);
}
END_TEST

START_TEST(test_profile_add_cells_is_add_record)
{
	const char *tp = write_tmp("t.csv", "c,x,label\nred,1,a\nblue,2,b\n,3,a\nred,NA,b\n1,4,a\n");
	const char *np = write_tmp("n.csv", "x,c,label\n5,green,a\n6,red,a\n,,b\n 7 ,1,a\n?,blue,b\n");
	ds_table *t = NULL;
	mlctl_schema *s = NULL;
	mlctl_profile *ref = NULL, *byrec = NULL, *bycell = NULL;
	ds_reader *r = NULL;
	const ds_record *rec;
	char *y1 = NULL, *y2 = NULL;
	size_t len, i, c;
	int rc;

	ck_assert_int_eq(ds_table_load(&t, tp, DS_FORMAT_AUTO), 0);
	ck_assert_int_eq(schema_fit(&s, t, NULL), 0);
	ck_assert_int_eq(profile_from_table(&ref, t, s, NULL, 0), 0);
	ck_assert_int_eq(profile_new_like(&byrec, ref), 0);
	ck_assert_int_eq(profile_new_like(&bycell, ref), 0);
	ck_assert_int_eq(ds_reader_open(&r, np, DS_FORMAT_AUTO), 0);
	while ((rc = ds_reader_next(r, &rec)) == 1) {
		schema_cell cells[2];

		ck_assert_int_eq(profile_add_record(byrec, s, r, rec), 0);
		for (i = 0; i < 2; i++) {
			for (c = 0; strcmp(ds_reader_colname(r, c), schema_input_name(s, i)); c++)
				;
			cells[i] = (schema_cell){ c < rec->nfields ? rec->fields[c] : NULL, 0, false, 0, 0 };
			/* a number as a number: the category "1" and x = 6 */
			if (cells[i].text && (!strcmp(cells[i].text, "1") || !strcmp(cells[i].text, "6")))
				cells[i] = (schema_cell){ NULL, strtod(cells[i].text, NULL), true, 0, 0 };
		}
		ck_assert_int_eq(profile_add_cells(bycell, s, cells), 0);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(profile_rows(bycell), 5);
	ck_assert_int_eq(profile_save(&y1, &len, byrec), 0);
	ck_assert_int_eq(profile_save(&y2, &len, bycell), 0);
	ck_assert_str_eq(y1, y2);
	ck_assert_msg(strstr(y1, "unseen: 1\n") != NULL, "%s", y1);
	/* a bad cell is refused and counts nothing */
	{
		schema_cell bad[2], inf[2] = { { NULL, INFINITY, true, 0, 0 }, { "1", 0, false, 0, 0 } };

		i = schema_input_is_categorical(s, 0) ? 1 : 0; /* the numeric input */
		bad[i] = (schema_cell){ "x7", 0, false, 0, 0 };
		bad[1 - i] = (schema_cell){ "red", 0, false, 0, 0 };
		ck_assert_int_eq(profile_add_cells(bycell, s, bad), MLCTL_EDATA);
		ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "\"x7\" is not a number"));
		ck_assert_int_eq(profile_add_cells(bycell, s, inf), MLCTL_EDATA);
		free(y2);
		ck_assert_int_eq(profile_save(&y2, &len, bycell), 0);
		ck_assert_str_eq(y1, y2);
	}
	free(y1);
	free(y2);
	ds_reader_free(r);
	profile_free(ref);
	profile_free(byrec);
	profile_free(bycell);
	schema_free(s);
	ds_table_free(t);
}
END_TEST

START_TEST(test_profile_metrics_round_trip)
{
	ds_table *t = NULL;
	mlctl_schema *s = NULL;
	mlctl_profile *ref = NULL, *back = NULL;
	const char *names[] = { "accuracy", "f1_macro", "roc_auc" };
	double values[] = { 0.9, 0.875, NAN };
	char *yaml = NULL;
	size_t len;

	tiny_schema(&t, &s, &ref);
	ck_assert_uint_eq(profile_nmetrics(ref), 0);
	ck_assert_ptr_null(profile_metrics_source(ref));
	ck_assert_int_eq(profile_set_metrics(ref, names, values, 2), 0);
	ck_assert_int_eq(profile_set_metrics(ref, names, values, 3), 0);
	ck_assert_int_eq(profile_set_metrics_source(ref, "holdout"), 0);
	ck_assert_int_eq(profile_save(&yaml, &len, ref), 0);
	ck_assert_ptr_nonnull(strstr(yaml, "metrics_on: \"holdout\"\n"));
	ck_assert_int_eq(profile_load(&back, yaml, len, "p.yaml"), 0);
	ck_assert_uint_eq(profile_nmetrics(back), 3);
	ck_assert_str_eq(profile_metric_name(back, 1), "f1_macro");
	ck_assert(profile_metric_value(back, 1) == 0.875 && isnan(profile_metric_value(back, 2)));
	ck_assert_str_eq(profile_metrics_source(back), "holdout");
	ck_assert_ptr_null(profile_metric_name(back, 3));
	free(yaml);
	profile_free(back);
	profile_free(ref);
	schema_free(s);
	ds_table_free(t);
}
END_TEST

START_TEST(test_profile_version1_loads)
{
	mlctl_profile *p = NULL, *cur = NULL, *back = NULL;
	profile_stats st;
	char *yaml = NULL;
	size_t len, i;

	ck_assert_msg(profile_load(&p, profile_v1_yaml, strlen(profile_v1_yaml), "v1.yaml") == 0, "%s",
		      mlctl_error_last()->message);
	ck_assert_int_eq(profile_version(p), 1);
	ck_assert_uint_eq(profile_rows(p), 8);
	ck_assert_uint_eq(profile_nmetrics(p), 0);
	ck_assert_ptr_null(profile_metrics_source(p));
	for (i = 0; i < profile_ninputs(p); i++) {
		ck_assert(profile_input(p, i, &st));
		ck_assert(!st.has_sample && st.nsample == 0 && !st.sample && st.ndistinct == 0);
	}
	ck_assert(profile_input(p, 0, &st) && st.count == 7 && st.mean == 4.25 && st.bins[0] == 1);
	/* new data against an old reference has samples; merging with the old one drops them */
	ck_assert_int_eq(profile_new_like(&cur, p), 0);
	ck_assert(profile_input(cur, 0, &st) && st.has_sample);
	ck_assert_int_eq(profile_merge(cur, p), 0);
	ck_assert(profile_input(cur, 0, &st) && !st.has_sample && st.count == 7);
	ck_assert_int_eq(profile_version(cur), 1);
	/* saved again, still no sample, and it loads */
	ck_assert_int_eq(profile_save(&yaml, &len, p), 0);
	ck_assert_ptr_null(strstr(yaml, "sample"));
	ck_assert_int_eq(profile_load(&back, yaml, len, "v2.yaml"), 0);
	ck_assert(profile_input(back, 2, &st) && !st.has_sample && st.count == 7);
	free(yaml);
	profile_free(back);
	profile_free(cur);
	profile_free(p);
}
END_TEST

START_TEST(test_profile_hostile_sample)
{
	mlctl_profile *p = NULL;
	char *yaml = NULL, *bad;
	size_t len;
	ds_table *t = NULL;
	mlctl_schema *s = NULL;
	mlctl_profile *ref = NULL;
	const char *cases[][2] = {
		{ "distinct_counts: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]", "distinct_counts: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]" },
		{ "distinct_values: [0, 1,", "distinct_values: [1, 0," },
		{ "sample: [0, 1,", "sample: [0," },
		{ "distinct_capped: false", "distinct_capped: maybe" },
	};
	size_t i;

	tiny_schema(&t, &s, &ref);
	ck_assert_int_eq(profile_save(&yaml, &len, ref), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *at = strstr(yaml, cases[i][0]);
		size_t off;

		ck_assert_msg(at != NULL, "%s not in\n%s", cases[i][0], yaml);
		off = (size_t)(at - yaml);
		bad = calloc(len + 64, 1);
		memcpy(bad, yaml, off);
		strcat(bad, cases[i][1]);
		strcat(bad, at + strlen(cases[i][0]));
		ck_assert_int_eq(profile_load(&p, bad, strlen(bad), "bad.yaml"), MLCTL_EDATA);
		ck_assert_ptr_null(p);
		free(bad);
	}
	free(yaml);
	profile_free(ref);
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
	tcase_add_test(tc, test_profile_sample_and_distinct);
	tcase_add_test(tc, test_profile_merge_halves_is_whole);
	tcase_add_checked_fixture(tc2, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(tc2, 60); /* the batches test, under ASan or valgrind on a busy host */
	tcase_add_test(tc2, test_profile_categorical_and_classes);
	tcase_add_test(tc2, test_profile_reservoir_and_merge_weights);
	tcase_add_test(tc2, test_profile_add_cells_is_add_record);
	tcase_add_test(tc2, test_profile_append_batches_is_one_pass);
	tcase_add_test(tc2, test_profile_metrics_round_trip);
	tcase_add_test(tc2, test_profile_version1_loads);
	tcase_add_test(tc2, test_profile_hostile_sample);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tc2);
	return s;
}

CHECK_MAIN(profile_suite)
