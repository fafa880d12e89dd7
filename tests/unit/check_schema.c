/*
 * check_schema.c — the schema module: typing, one-hot, imputation, label maps, svm-scale
 * agreement of minmax scaling, YAML round trips and streaming binding.
 */
#include <math.h>

#include "check_util.h"
#include "dataset.h"
#include "schema.h"
#include "mlctl/common.h"

static ds_table *load(const char *path)
{
	ds_table *t = NULL;
	int ret = ds_table_load(&t, path, DS_FORMAT_AUTO);

	ck_assert_msg(ret == 0, "%s: %s", path, mlctl_error_last()->message);
	return t;
}

static mlctl_schema *fit(const ds_table *t, const schema_options *o)
{
	mlctl_schema *s = NULL;
	int ret = schema_fit(&s, t, o);

	ck_assert_msg(ret == 0, "fit: %s", mlctl_error_last()->message);
	return s;
}

/* Write t as a libsvm file (label = row's class value, every feature written, even 0). */
static void write_libsvm(const char *path, const ds_table *t, const mlctl_schema *s)
{
	FILE *f = fopen(path, "w");
	size_t r, c;
	long lcol = ds_table_col(t, schema_label_name(s));

	ck_assert_ptr_nonnull(f);
	for (r = 0; r < t->nrows; r++) {
		double y = 0;
		int k = 1;

		ck_assert(schema_value_for_class(s, ds_cell(t, r, lcol), &y));
		fprintf(f, "%.17g", y);
		for (c = 0; c < t->ncols; c++)
			if ((long)c != lcol)
				fprintf(f, " %d:%s", k++, ds_cell(t, r, c));
		fputc('\n', f);
	}
	fclose(f);
}

/* Run svm-scale on path and compare every value with m, printed the way svm-scale prints. */
static void compare_with_svm_scale(const char *path, const schema_matrix *m)
{
	char cmd[1024], line[65536];
	FILE *p;
	int row = 0;
	size_t compared = 0;

	snprintf(cmd, sizeof(cmd), "svm-scale -l -1 -u 1 '%s'", path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof(line), p)) {
		char *tok, *save = NULL;
		const struct svm_node *x;

		ck_assert_int_lt(row, m->prob.l);
		x = m->prob.x[row];
		tok = strtok_r(line, " \n", &save); /* the label */
		while ((tok = strtok_r(NULL, " \n", &save))) {
			int idx;
			char ours[64], *colon = strchr(tok, ':');

			ck_assert_ptr_nonnull(colon);
			idx = (int)strtol(tok, NULL, 10);
			ck_assert_msg(x->index == idx, "row %d: index %d, svm-scale %d", row, x->index, idx);
			snprintf(ours, sizeof(ours), "%g", x->value);
			ck_assert_msg(!strcmp(ours, colon + 1), "row %d index %d: %s, svm-scale %s",
				      row, idx, ours, colon + 1);
			x++;
			compared++;
		}
		ck_assert_msg(x->index == -1, "row %d: more nodes than svm-scale", row);
		row++;
	}
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_int_eq(row, m->prob.l);
	ck_assert_uint_gt(compared, (size_t)m->prob.l);
}

START_TEST(test_schema_minmax_matches_svm_scale_wine)
{
	ds_table *t = load(data_path("wine.csv"));
	schema_options o = SCHEMA_OPTIONS_INIT;
	mlctl_schema *s;
	schema_matrix *m = NULL;

	o.label = "cultivar";
	s = fit(t, &o);
	ck_assert_int_eq(schema_nfeatures(s), 13);
	ck_assert_int_eq(schema_nclasses(s), 3);
	ck_assert_str_eq(schema_class_name(s, 2), "class_2");
	ck_assert_int_eq(schema_transform_table(&m, s, t, NULL, 0, true), 0);
	ck_assert_int_eq(m->prob.l, 178);
	ck_assert(m->prob.y[0] == 0 && m->prob.y[177] == 2);
	write_libsvm(tmp_path("wine.svm"), t, s);
	compare_with_svm_scale(tmp_path("wine.svm"), m);
	schema_matrix_free(m);
	schema_free(s);
	ds_table_free(t);
}
END_TEST

START_TEST(test_schema_minmax_matches_svm_scale_heart)
{
	ds_table *t = load(data_path("heart_scale"));
	mlctl_schema *s = fit(t, NULL);
	schema_matrix *m = NULL;

	ck_assert_str_eq(schema_label_name(s), "label");
	ck_assert_int_eq(schema_nclasses(s), 2);
	ck_assert_str_eq(schema_class_name(s, 0), "-1");
	ck_assert_str_eq(schema_class_name(s, 1), "1");
	ck_assert_int_eq(schema_transform_table(&m, s, t, NULL, 0, true), 0);
	ck_assert(m->prob.y[0] == 1.0);
	compare_with_svm_scale(data_path("heart_scale"), m);
	schema_matrix_free(m);
	schema_free(s);
	ds_table_free(t);
}
END_TEST

/* The nodes of m whose feature index is numeric in s (indicators left out), as a matrix
 * sharing nothing with m. */
static schema_matrix *numeric_part(const schema_matrix *m, const mlctl_schema *s, bool *numeric)
{
	schema_matrix *n = calloc(1, sizeof(*n));
	size_t i, used = 0, total = 0;
	const struct svm_node *x;

	ck_assert_ptr_nonnull(n);
	for (i = 0; i < (size_t)m->prob.l; i++)
		for (x = m->prob.x[i]; ; x++) {
			total++;
			if (x->index == -1)
				break;
		}
	n->nodes = calloc(total, sizeof(*n->nodes));
	n->prob.x = calloc((size_t)m->prob.l, sizeof(*n->prob.x));
	ck_assert(n->nodes && n->prob.x);
	n->prob.l = m->prob.l;
	for (i = 0; i < (size_t)m->prob.l; i++) {
		n->prob.x[i] = n->nodes + used;
		for (x = m->prob.x[i]; x->index != -1; x++)
			if (numeric[x->index])
				n->nodes[used++] = *x;
		n->nodes[used++].index = -1;
	}
	(void)s;
	return n;
}

START_TEST(test_schema_minmax_matches_svm_scale_churn_onehot)
{
	/* numeric columns are scaled exactly as svm-scale scales them; one-hot indicators
	 * stay 0/1 (the LIBSVM guide's encoding), whatever the scaling */
	static const schema_scale scales[] = { SCHEMA_SCALE_MINMAX, SCHEMA_SCALE_STANDARD, SCHEMA_SCALE_NONE };
	ds_table *t = load(data_path("mlc_churn.csv"));
	schema_options o = SCHEMA_OPTIONS_INIT;
	mlctl_schema *s;
	schema_matrix *m = NULL, *num;
	bool numeric[128] = { false };
	size_t r, i, sc;
	FILE *f;
	int k;

	o.label = "churn";
	s = fit(t, &o);
	ck_assert(schema_input_is_categorical(s, 0)); /* state */
	ck_assert_uint_eq(schema_input_ncategories(s, 0), 51);
	ck_assert(!schema_input_is_categorical(s, 1));
	k = schema_nfeatures(s);
	ck_assert_int_eq(k, 51 + 1 + 3 + 2 + 2 + 14);
	for (i = 0; i < schema_ninputs(s); i++)
		if (!schema_input_is_categorical(s, i))
			numeric[schema_input_first_index(s, i)] = true;
	ck_assert_int_eq(schema_transform_table(&m, s, t, NULL, 0, true), 0);
	/* the numeric columns before scaling, at their feature indices, for svm-scale */
	f = fopen(tmp_path("churn.svm"), "w");
	for (r = 0; r < t->nrows; r++) {
		fprintf(f, "%g", m->prob.y[r]);
		for (i = 0; i < schema_ninputs(s); i++)
			if (!schema_input_is_categorical(s, i))
				fprintf(f, " %d:%s", schema_input_first_index(s, i),
					ds_cell(t, r, ds_table_col(t, schema_input_name(s, i))));
		fputc('\n', f);
	}
	fclose(f);
	num = numeric_part(m, s, numeric);
	compare_with_svm_scale(tmp_path("churn.svm"), num);
	schema_matrix_free(num);
	schema_matrix_free(m);
	schema_free(s);

	for (sc = 0; sc < sizeof(scales) / sizeof(scales[0]); sc++) {
		o.scale = scales[sc];
		s = fit(t, &o);
		ck_assert_int_eq(schema_transform_table(&m, s, t, NULL, 0, true), 0);
		for (r = 0; r < t->nrows; r++) {
			const struct svm_node *x;
			int ones = 0;

			/* zeros are left out, so every indicator node present is a 1 */
			for (x = m->prob.x[r]; x->index != -1; x++) {
				if (numeric[x->index])
					continue;
				ck_assert_msg(x->value == 1, "%s: row %zu, indicator %d is %.17g, not 0 or 1",
					      schema_scale_name(scales[sc]), r, x->index, x->value);
				ones++;
			}
			/* state, area_code, international_plan, voice_mail_plan: one category each */
			ck_assert_int_eq(ones, 4);
		}
		schema_matrix_free(m);
		schema_free(s);
	}
	ds_table_free(t);
}
END_TEST

/* A preprocess.yaml of schema_version 1 (before indicators stayed 0/1) still transforms as
 * it did when it was written: min-max indicators at -1/1. */
START_TEST(test_schema_version1_scales_indicators)
{
	const char *p = write_tmp("v1.csv", "x,color,label\n1,red,a\n2,blue,b\n3,red,a\n");
	ds_table *t = load(p);
	schema_options o = SCHEMA_OPTIONS_INIT;
	mlctl_schema *s, *old = NULL;
	schema_matrix *m = NULL;
	char *yaml = NULL, *v;
	size_t len;

	s = fit(t, &o);
	ck_assert_int_eq(schema_save(&yaml, &len, s), 0);
	ck_assert_ptr_nonnull((v = strstr(yaml, "schema_version: 2\n")));
	ck_assert_int_eq(schema_transform_table(&m, s, t, NULL, 0, true), 0);
	/* row 1: x -1 (left in), blue 0 (left out), red 1 */
	ck_assert(m->prob.x[0][0].index == 1 && m->prob.x[0][0].value == -1);
	ck_assert(m->prob.x[0][1].index == 3 && m->prob.x[0][1].value == 1);
	ck_assert_int_eq(m->prob.x[0][2].index, -1);
	schema_matrix_free(m);
	v[strlen("schema_version: ")] = '1';
	ck_assert_int_eq(schema_load(&old, yaml, len, "v1.yaml"), 0);
	ck_assert_int_eq(schema_transform_table(&m, old, t, NULL, 0, true), 0);
	ck_assert(m->prob.x[0][1].index == 2 && m->prob.x[0][1].value == -1);
	ck_assert(m->prob.x[0][2].index == 3 && m->prob.x[0][2].value == 1);
	schema_matrix_free(m);
	schema_free(old);
	schema_free(s);
	free(yaml);
	ds_table_free(t);
}
END_TEST

/* Every node of two matrices identical to the bit. */
static void assert_same_matrix(const schema_matrix *a, const schema_matrix *b)
{
	int i;

	ck_assert_int_eq(a->prob.l, b->prob.l);
	for (i = 0; i < a->prob.l; i++) {
		const struct svm_node *x = a->prob.x[i], *y = b->prob.x[i];

		for (;; x++, y++) {
			ck_assert_int_eq(x->index, y->index);
			ck_assert(memcmp(&x->value, &y->value, sizeof(double)) == 0);
			if (x->index == -1)
				break;
		}
		if (a->prob.y)
			ck_assert(memcmp(&a->prob.y[i], &b->prob.y[i], sizeof(double)) == 0);
	}
}

static void roundtrip(const char *file, const char *label, schema_scale scale)
{
	ds_table *t = load(data_path(file));
	schema_options o = SCHEMA_OPTIONS_INIT;
	mlctl_schema *s, *s2 = NULL;
	schema_matrix *m1 = NULL, *m2 = NULL;
	char *yaml = NULL, *yaml2 = NULL;
	size_t len, len2;

	schema_inference inf;

	o.label = label;
	o.scale = scale;
	ck_assert_int_eq(schema_infer_task(&inf, t, &o), 0); /* concrete: a regression */
	o.task = inf.task;
	s = fit(t, &o);
	ck_assert_int_eq(schema_save(&yaml, &len, s), 0);
	ck_assert_msg(schema_load(&s2, yaml, len, "preprocess.yaml") == 0, "%s",
		      mlctl_error_last()->message);
	ck_assert_int_eq(schema_save(&yaml2, &len2, s2), 0);
	ck_assert_str_eq(yaml, yaml2);
	ck_assert_int_eq(schema_transform_table(&m1, s, t, NULL, 0, true), 0);
	ck_assert_int_eq(schema_transform_table(&m2, s2, t, NULL, 0, true), 0);
	assert_same_matrix(m1, m2);
	schema_matrix_free(m1);
	schema_matrix_free(m2);
	free(yaml);
	free(yaml2);
	schema_free(s);
	schema_free(s2);
	ds_table_free(t);
}

START_TEST(test_schema_yaml_roundtrip_bit_identical)
{
	roundtrip("mlc_churn.csv", "churn", SCHEMA_SCALE_MINMAX);
	roundtrip("mlc_churn.csv", "churn", SCHEMA_SCALE_STANDARD);
	roundtrip("concrete.csv", "compressive_strength", SCHEMA_SCALE_NONE);
	roundtrip("heart_scale", NULL, SCHEMA_SCALE_STANDARD);
}
END_TEST

START_TEST(test_schema_roundtrip_regression)
{
	ds_table *t = load(data_path("concrete.csv"));
	schema_options o = SCHEMA_OPTIONS_INIT;
	mlctl_schema *s;
	schema_matrix *m = NULL;

	o.label = "compressive_strength";
	o.task = SCHEMA_TASK_REGRESS;
	o.scale = SCHEMA_SCALE_STANDARD;
	s = fit(t, &o);
	ck_assert_int_eq(schema_nclasses(s), 0);
	ck_assert_int_eq(schema_transform_table(&m, s, t, NULL, 0, true), 0);
	ck_assert(fabs(m->prob.y[0] - 79.99) < 1e-12);
	schema_matrix_free(m);
	schema_free(s);
	ds_table_free(t);
}
END_TEST

START_TEST(test_schema_standard_matches_numpy_population_sd)
{
	/* column values 1,2,3,4: mean 2.5, population sd sqrt(1.25) */
	const char *p = write_tmp("s.csv", "x,c,label\n1,5,a\n2,5,b\n3,5,a\n4,5,b\n");
	ds_table *t = load(p);
	schema_options o = SCHEMA_OPTIONS_INIT;
	mlctl_schema *s;
	schema_matrix *m = NULL;

	o.scale = SCHEMA_SCALE_STANDARD;
	s = fit(t, &o);
	ck_assert_int_eq(schema_transform_table(&m, s, t, NULL, 0, true), 0);
	ck_assert(fabs(m->prob.x[0][0].value - (1 - 2.5) / sqrt(1.25)) < 1e-15);
	ck_assert_int_eq(m->prob.x[0][1].index, -1); /* constant column: 0, left out */
	ck_assert(m->prob.y[1] == 1);
	schema_matrix_free(m);
	schema_free(s);
	ds_table_free(t);
}
END_TEST

START_TEST(test_schema_missing_and_unseen)
{
	const char *p = write_tmp("m.csv",
				  "id,age,color,label\n"
				  "a,10,red,yes\n"
				  "b,NA,blue,no\n"
				  "c,30,,yes\n"
				  "d,?,red,no\n");
	const char *q = write_tmp("new.csv", "extra,color,age,id\n1,green,20,z\n2,red,,y\n");
	const char *ids[] = { "id" };
	ds_table *t = load(p);
	schema_options o = SCHEMA_OPTIONS_INIT;
	mlctl_schema *s;
	schema_matrix *m = NULL;
	ds_reader *r = NULL;
	schema_binding *b = NULL;
	const ds_record *rec;
	struct svm_node out[16];
	size_t n;
	double y;

	o.id_columns = ids;
	o.n_id_columns = 1;
	o.scale = SCHEMA_SCALE_NONE;
	s = fit(t, &o);
	ck_assert_uint_eq(schema_ninputs(s), 2);
	/* age: numeric mean of 10 and 30; color: <missing>, blue, red (sorted) */
	ck_assert_int_eq(schema_nfeatures(s), 4);
	ck_assert_str_eq(schema_input_category(s, 1, 0), "<missing>");
	ck_assert_str_eq(schema_class_name(s, 0), "no");
	ck_assert_int_eq(schema_transform_table(&m, s, t, NULL, 0, true), 0);
	ck_assert_uint_eq(m->missing_cells, 3);
	ck_assert(m->prob.x[1][0].index == 1 && m->prob.x[1][0].value == 20);
	ck_assert(m->prob.x[2][1].index == 2 && m->prob.x[2][1].value == 1);
	ck_assert(m->prob.y[0] == 1 && m->prob.y[1] == 0);
	schema_matrix_free(m);

	/* streaming: columns by name, extra ignored, unseen category all zeros, counted */
	ck_assert_int_eq(ds_reader_open(&r, q, DS_FORMAT_AUTO), 0);
	ck_assert_int_eq(schema_bind(&b, s, r), 0);
	ck_assert_int_eq(ds_reader_next(r, &rec), 1);
	ck_assert_int_eq(schema_transform_record(out, &n, &y, b, rec), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(out[0].index == 1 && out[0].value == 20 && out[1].index == -1);
	ck_assert(isnan(y));
	ck_assert_str_eq(schema_binding_id(b, rec, 0), "z");
	ck_assert_uint_eq(schema_binding_unseen(b), 1);
	ck_assert_int_eq(ds_reader_next(r, &rec), 1);
	ck_assert_int_eq(schema_transform_record(out, &n, &y, b, rec), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(out[0].value == 20 && out[1].index == 4);
	ck_assert_uint_eq(schema_binding_missing(b), 1);
	schema_binding_free(b);
	ds_reader_free(r);
	schema_free(s);
	ds_table_free(t);
}
END_TEST

START_TEST(test_schema_stream_errors)
{
	const char *p = write_tmp("t.csv", "age,label\n1,a\n2,b\n");
	const char *q = write_tmp("new.csv", "label,agee\na,1\n");
	const char *q2 = write_tmp("bad.csv", "label,age\na,1\nb,4O\n");
	ds_table *t = load(p);
	mlctl_schema *s = fit(t, NULL);
	ds_reader *r = NULL;
	schema_binding *b = NULL;
	const ds_record *rec;
	struct svm_node out[4];
	size_t n;
	double y;

	ck_assert_int_eq(ds_reader_open(&r, q, DS_FORMAT_AUTO), 0);
	ck_assert_int_eq(schema_bind(&b, s, r), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "column \"age\" is missing from"));
	ds_reader_free(r);
	ck_assert_int_eq(ds_reader_open(&r, q2, DS_FORMAT_AUTO), 0);
	ck_assert_int_eq(schema_bind(&b, s, r), 0);
	ck_assert_int_eq(ds_reader_next(r, &rec), 1);
	ck_assert_int_eq(schema_transform_record(out, &n, &y, b, rec), 0);
	ck_assert(y == 0);
	ck_assert_int_eq(ds_reader_next(r, &rec), 1);
	ck_assert_int_eq(schema_transform_record(out, &n, &y, b, rec), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "bad.csv:3: column \"age\": \"4O\" is not a number"));
	schema_binding_free(b);
	ds_reader_free(r);
	schema_free(s);
	ds_table_free(t);
}
END_TEST

START_TEST(test_schema_stream_libsvm_matches_table)
{
	ds_table *t = load(data_path("heart_scale"));
	mlctl_schema *s = fit(t, NULL);
	schema_matrix *m = NULL;
	ds_reader *r = NULL;
	schema_binding *b = NULL;
	const ds_record *rec;
	struct svm_node out[32];
	size_t n, row = 0;
	double y;

	ck_assert_uint_ge(sizeof(out) / sizeof(out[0]), schema_max_nodes(s));
	ck_assert_int_eq(schema_transform_table(&m, s, t, NULL, 0, true), 0);
	ck_assert_int_eq(ds_reader_open(&r, data_path("heart_scale"), DS_FORMAT_AUTO), 0);
	ck_assert_int_eq(schema_bind(&b, s, r), 0);
	while (ds_reader_next(r, &rec) == 1) {
		ck_assert_int_eq(schema_transform_record(out, &n, &y, b, rec), 0);
		ck_assert(y == m->prob.y[row]);
		for (size_t k = 0; k <= n; k++) {
			ck_assert_int_eq(out[k].index, m->prob.x[row][k].index);
			ck_assert(memcmp(&out[k].value, &m->prob.x[row][k].value, sizeof(double)) == 0);
		}
		row++;
	}
	ck_assert_uint_eq(row, 270);
	schema_binding_free(b);
	ds_reader_free(r);
	schema_matrix_free(m);
	schema_free(s);
	ds_table_free(t);
}
END_TEST

START_TEST(test_schema_label_errors)
{
	/* write_tmp() paths rotate among 4 buffers: write each file just before use */
	const char *one = write_tmp("one.csv", "x,label\n1,a\n2,a\n");
	const char *nolab = write_tmp("nolab.csv", "x,y\n1,a\n2,b\n");
	const char *miss = write_tmp("miss.csv", "x,label\n1,a\n2,\n");
	const char *reg = write_tmp("reg.csv", "x,label\n1,1.5\n2,big\n");
	const char *num;
	schema_options o = SCHEMA_OPTIONS_INIT;
	mlctl_schema *s = NULL;
	ds_table *t;
	double v;

	t = load(one);
	ck_assert_int_eq(schema_fit(&s, t, &o), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "only one class"));
	ds_table_free(t);
	t = load(nolab);
	ck_assert_int_eq(schema_fit(&s, t, &o), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "no label column: use --label"));
	o.task = SCHEMA_TASK_ONECLASS;
	ck_assert_int_eq(schema_fit(&s, t, &o), 0);
	ck_assert_ptr_null(schema_label_name(s));
	ck_assert_uint_eq(schema_ninputs(s), 2);
	schema_free(s);
	o.task = SCHEMA_TASK_CLASSIFY;
	ds_table_free(t);
	t = load(miss);
	ck_assert_int_eq(schema_fit(&s, t, &o), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "miss.csv:3:"));
	ds_table_free(t);
	t = load(reg);
	o.task = SCHEMA_TASK_REGRESS;
	ck_assert_int_eq(schema_fit(&s, t, &o), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "reg.csv:3: label column \"label\": \"big\" is not a number"));
	ds_table_free(t);
	num = write_tmp("num.csv", "x,label\n1,+1\n2,-1\n3,1.0\n");
	t = load(num);
	o.task = SCHEMA_TASK_CLASSIFY;
	s = fit(t, &o);
	ck_assert_uint_eq(schema_nclasses(s), 2);
	ck_assert_str_eq(schema_class_name(s, 1), "1");
	ck_assert(schema_value_for_class(s, "+1", &v) && v == 1);
	ck_assert_str_eq(schema_class_for_value(s, -1), "-1");
	ck_assert_ptr_null(schema_class_for_value(s, 7));
	schema_free(s);
	ds_table_free(t);
}
END_TEST

/* The task a label asks for: text, or few distinct integers (at most 20, or at most one
 * per 20 rows), is classification; anything else regression. A classifier refuses a
 * numeric label that is not an integer, naming file, line, column and value. */
START_TEST(test_schema_infer_task)
{
	static const struct { const char *labels; size_t repeat; schema_task want; size_t k; } cases[] = {
		{ "a b c", 1, SCHEMA_TASK_CLASSIFY, 0 },
		{ "1 2 x", 1, SCHEMA_TASK_CLASSIFY, 0 },
		{ "-1 1", 1, SCHEMA_TASK_CLASSIFY, 2 },
		{ "1.5 2.5", 1, SCHEMA_TASK_REGRESS, 2 },
		/* 21 distinct integers: regression in 21 rows, classes in 21 * 20 rows */
		{ "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20", 1, SCHEMA_TASK_REGRESS, 21 },
		{ "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20", 20, SCHEMA_TASK_CLASSIFY, 21 },
		{ "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20", 19, SCHEMA_TASK_REGRESS, 21 },
		{ "1e10 2", 1, SCHEMA_TASK_REGRESS, 2 },   /* not in int range */
	};
	schema_options o = SCHEMA_OPTIONS_INIT;
	schema_inference inf;
	mlctl_schema *s = NULL;
	size_t i, r;
	ds_table *t;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *csv = strdup("x,label\n"), *labels = strdup(cases[i].labels), *tok, *save = NULL;
		size_t len = strlen(csv);

		for (r = 0; r < cases[i].repeat; r++) {
			free(labels);
			labels = strdup(cases[i].labels);
			for (tok = strtok_r(labels, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
				csv = realloc(csv, len + strlen(tok) + 8);
				len += (size_t)snprintf(csv + len, strlen(tok) + 8, "1,%s\n", tok);
			}
		}
		t = load(write_tmp("infer.csv", csv));
		ck_assert_int_eq(schema_infer_task(&inf, t, &o), 0);
		ck_assert_msg(inf.task == cases[i].want, "%s x%zu: task %d", cases[i].labels, cases[i].repeat, inf.task);
		if (cases[i].k)
			ck_assert_uint_eq(inf.ndistinct, cases[i].k);
		ds_table_free(t);
		free(csv);
		free(labels);
	}
	t = load(write_tmp("frac.csv", "x,label\n1,1\n2,1.2\n3,1.7\n"));
	ck_assert_int_eq(schema_fit(&s, t, &o), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message,
			 "frac.csv:3: label column \"label\": \"1.2\" is not a class: a classifier needs text labels "
			 "or integers in int range (for a numeric target use --type epsilon-svr or nu-svr)"));
	ck_assert_ptr_null(s);
	ds_table_free(t);
}
END_TEST

START_TEST(test_schema_selection_and_forced_categorical)
{
	ds_table *t = load(data_path("iris.csv"));
	schema_options o = SCHEMA_OPTIONS_INIT;
	const char *feats[] = { "petal_width", "sepal_length" };
	const char *excl[] = { "sepal_length" };
	const char *cat[] = { "petal_width" };
	const char *bad[] = { "petal_widht" };
	mlctl_schema *s;

	o.label = "species";
	o.features = feats;
	o.n_features = 2;
	o.exclude = excl;
	o.n_exclude = 1;
	o.categorical = cat;
	o.n_categorical = 1;
	s = fit(t, &o);
	ck_assert_uint_eq(schema_ninputs(s), 1);
	ck_assert_str_eq(schema_input_name(s, 0), "petal_width");
	ck_assert(schema_input_is_categorical(s, 0));
	ck_assert_int_eq(schema_nfeatures(s), 22); /* distinct petal widths in iris */
	ck_assert_str_eq(schema_class_name(s, 0), "setosa");
	schema_free(s);
	o.features = bad;
	o.n_features = 1;
	ck_assert_int_eq(schema_fit(&s, t, &o), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "petal_widht"));
	ds_table_free(t);
}
END_TEST

START_TEST(test_schema_load_malformed)
{
	mlctl_schema *s = NULL;
	const char *bad1 = "schema_version: 1\ntask: [unclosed\n";
	const char *bad2 = "schema_version: 1\ntask: classify\nscale: minmax\nlabel: \"y\"\nlabels: text\n"
			   "classes:\n  - name: \"a\"\n    value: zero\n";

	ck_assert_int_eq(schema_load(&s, bad1, strlen(bad1), "m/preprocess.yaml"), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "m/preprocess.yaml:"));
	ck_assert_int_eq(schema_load(&s, bad2, strlen(bad2), "p.yaml"), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "p.yaml:8: value: \"zero\" is not a number"));
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_schema_subset_rows)
{
	ds_table *t = load(data_path("iris.csv"));
	schema_options o = SCHEMA_OPTIONS_INIT;
	size_t rows[] = { 149, 0 };
	mlctl_schema *s;
	schema_matrix *m = NULL;

	o.label = "species";
	s = fit(t, &o);
	ck_assert_int_eq(schema_transform_table(&m, s, t, rows, 2, true), 0);
	ck_assert_int_eq(m->prob.l, 2);
	ck_assert(m->prob.y[0] == 2 && m->prob.y[1] == 0);
	schema_matrix_free(m);
	schema_free(s);
	ds_table_free(t);
}
END_TEST

static Suite *schema_suite(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_schema_minmax_matches_svm_scale_wine);
	tcase_add_test(tc, test_schema_minmax_matches_svm_scale_heart);
	tcase_add_test(tc, test_schema_minmax_matches_svm_scale_churn_onehot);
	tcase_add_test(tc, test_schema_version1_scales_indicators);
	tcase_add_test(tc, test_schema_yaml_roundtrip_bit_identical);
	tcase_add_test(tc, test_schema_roundtrip_regression);
	tcase_add_test(tc, test_schema_standard_matches_numpy_population_sd);
	tcase_add_test(tc, test_schema_missing_and_unseen);
	tcase_add_test(tc, test_schema_stream_errors);
	tcase_add_test(tc, test_schema_stream_libsvm_matches_table);
	tcase_add_test(tc, test_schema_label_errors);
	tcase_add_test(tc, test_schema_infer_task);
	tcase_add_test(tc, test_schema_selection_and_forced_categorical);
	tcase_add_test(tc, test_schema_load_malformed);
	tcase_add_test(tc, test_schema_subset_rows);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(schema_suite)
