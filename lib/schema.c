/*
 * schema.c — preprocessing learned from the training table and applied unchanged at
 * scoring time (floor 2).
 *
 * Inputs are the feature columns in table order. A numeric input gives one feature; a
 * categorical one gives one 0/1 indicator per category of its sorted training vocabulary.
 * Missing numbers are imputed with the training mean; a missing category is the category
 * "<missing>" when training saw one, else all indicators are 0. Each numeric feature is
 * then scaled: minmax exactly as svm-scale -l -1 -u 1 does (a constant feature is dropped,
 * the training minimum maps to -1 and the maximum to 1), standard to mean 0 and population
 * sd 1 (constant features 0), or none. Indicators stay 0/1 under every scaling, as the
 * LIBSVM guide advises: rescaled to -1/+1 they would count four times as much in every RBF
 * distance as the numeric features, which costs accuracy. Zero values are left out of the
 * rows, as svm-scale leaves them out.
 *
 * Every parameter is serialised with mlctl_fmt_double, so a loaded schema transforms to
 * bit-identical nodes. schema_version 1 files (written before indicators stayed 0/1) still
 * load and transform as they did: their indicators are min-max scaled like numbers.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "schema.h"
#include "util.h"
#include "ymlio.h"
#include "banned.h"

#define MISSING_CATEGORY "<missing>"

typedef struct sch_input {
	char *name;
	bool categorical;
	double impute;          /* numeric: training mean of the present values */
	size_t ncat;            /* categorical: sorted vocabulary */
	char **cats;
	int first;              /* feature index of its first output */
} sch_input;

typedef struct sch_feature {
	double min, max, mean, sd; /* of the imputed, unscaled training values */
} sch_feature;

struct mlctl_schema {
	schema_task task;
	schema_scale scale;
	char *label;            /* NULL: no label column */
	bool numeric_labels;    /* classification: class values are the labels themselves */
	size_t nclasses;
	char **class_names;     /* ascending by value */
	double *class_values;
	size_t nid;
	char **ids;
	size_t ninputs;
	sch_input *inputs;
	int nfeatures;
	sch_feature *feat;      /* feat[k - 1] for feature index k */
	bool scaled_indicators; /* a schema_version 1 file: minmax rescales indicators too */
};

/* A text cell seen without copying: trimmed of surrounding blanks. */
typedef struct view {
	const char *p;
	size_t n;
} view;

/* One input's value in a row: text, or a number straight from a libsvm record or a
 * request (schema_cell, the same thing under its public name). */
typedef schema_cell cellval;

/* Where a row comes from, for messages: a file and line, or (path NULL) a row of a request,
 * counted from 0. */
typedef struct rowctx {
	const char *path;
	size_t line;
} rowctx;

bool schema_scale_parse(const char *name, schema_scale *out)
{
	if (!strcmp(name, "minmax"))
		*out = SCHEMA_SCALE_MINMAX;
	else if (!strcmp(name, "standard"))
		*out = SCHEMA_SCALE_STANDARD;
	else if (!strcmp(name, "none"))
		*out = SCHEMA_SCALE_NONE;
	else
		return false;
	return true;
}

const char *schema_scale_name(schema_scale s)
{
	switch (s) {
	case SCHEMA_SCALE_STANDARD: return "standard";
	case SCHEMA_SCALE_NONE: return "none";
	default: return "minmax";
	}
}

static const char *task_name(schema_task t)
{
	switch (t) {
	case SCHEMA_TASK_REGRESS: return "regress";
	case SCHEMA_TASK_ONECLASS: return "one-class";
	default: return "classify";
	}
}

static bool task_parse(const char *s, schema_task *out)
{
	if (!strcmp(s, "classify"))
		*out = SCHEMA_TASK_CLASSIFY;
	else if (!strcmp(s, "regress"))
		*out = SCHEMA_TASK_REGRESS;
	else if (!strcmp(s, "one-class"))
		*out = SCHEMA_TASK_ONECLASS;
	else
		return false;
	return true;
}

/* ---- cells ---------------------------------------------------------------------------- */

static view trimmed(const char *s)
{
	view v;

	while (*s == ' ' || *s == '\t')
		s++;
	v.p = s;
	v.n = strlen(s);
	while (v.n && (s[v.n - 1] == ' ' || s[v.n - 1] == '\t'))
		v.n--;
	return v;
}

/* A finite number, allowing surrounding blanks ("1, 2" is common in hand-made CSV). */
static bool parse_num(const char *s, double *out)
{
	view v;
	char buf[64];

	/* most cells are a plain number: no blanks to trim (a trailing one fails the parse) */
	if (*s != ' ' && *s != '\t' && mlctl_parse_double(s, out))
		return isfinite(*out);
	v = trimmed(s);
	if (v.n == 0)
		return false;
	if (v.p[v.n] != '\0') {
		if (v.n >= sizeof(buf))
			return false;
		memcpy(buf, v.p, v.n);
		buf[v.n] = '\0';
		s = buf;
	} else {
		s = v.p;
	}
	return mlctl_parse_double(s, out) && isfinite(*out);
}

static int view_cmp(view a, view b)
{
	int c = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);

	if (c)
		return c;
	return a.n < b.n ? -1 : a.n > b.n;
}

static int view_qcmp(const void *a, const void *b)
{
	return view_cmp(*(const view *)a, *(const view *)b);
}

/* Index of v in the sorted list, or -1. */
static long find_sorted(char *const *list, size_t n, view v)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		/* view_cmp(v, list[mid]) without the length of list[mid]: strncmp stops at its
		 * end, and when the first v.n bytes agree the longer one sorts after */
		int c = strncmp(v.p, list[mid], v.n);

		if (c == 0)
			c = list[mid][v.n] ? -1 : 0;

		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static bool in_list(const char *const *list, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

/*
 * A categorical input's vocabulary by hash, for a binding (a reader's many rows): open
 * addressing over a power-of-two table at most half full, FNV-1a of the trimmed text,
 * the position in the sorted vocabulary as find_sorted gives it.
 */
typedef struct cat_index {
	size_t mask;
	int32_t *slot;          /* position + 1; 0 is empty */
	size_t *len;            /* of each category */
} cat_index;

static uint64_t view_hash(view v)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < v.n; i++)
		h = (h ^ (unsigned char)v.p[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static int cat_index_build(cat_index *ci, const sch_input *in)
{
	size_t size = 4, k;

	while (size < 2 * in->ncat + 2)
		size *= 2;
	ci->mask = size - 1;
	ci->slot = mlctl_calloc(size, sizeof(*ci->slot));
	ci->len = mlctl_calloc(in->ncat + 1, sizeof(*ci->len));
	if (!ci->slot || !ci->len || in->ncat > INT32_MAX - 1)
		return MLCTL_ENOMEM;
	for (k = 0; k < in->ncat; k++) {
		view v = { in->cats[k], strlen(in->cats[k]) };
		size_t h = (size_t)view_hash(v) & ci->mask;

		while (ci->slot[h])
			h = (h + 1) & ci->mask;
		ci->slot[h] = (int32_t)k + 1;
		ci->len[k] = v.n;
	}
	return 0;
}

static long cat_index_find(const cat_index *ci, const sch_input *in, view v)
{
	size_t h = (size_t)view_hash(v) & ci->mask;

	for (; ci->slot[h]; h = (h + 1) & ci->mask) {
		size_t k = (size_t)ci->slot[h] - 1;

		if (ci->len[k] == v.n && !memcmp(in->cats[k], v.p, v.n))
			return (long)k;
	}
	return -1;
}

/* ---- encoding ------------------------------------------------------------------------- */

/* svm-scale's output() with lower = -1, upper = 1: the same operations in the same order,
 * so that the values agree with its output to the last bit. */
static double scale_minmax(const sch_feature *f, double value)
{
	const double lower = -1.0, upper = 1.0;

	if (f->max == f->min)
		return 0; /* svm-scale skips single-valued attributes */
	if (value == f->min)
		return lower;
	if (value == f->max)
		return upper;
	return lower + (upper - lower) * (value - f->min) / (f->max - f->min);
}

static double scale_value(const mlctl_schema *s, int index, double v, bool indicator)
{
	const sch_feature *f = &s->feat[index - 1];

	if (indicator && !(s->scaled_indicators && s->scale == SCHEMA_SCALE_MINMAX))
		return v;
	switch (s->scale) {
	case SCHEMA_SCALE_MINMAX:
		return scale_minmax(f, v);
	case SCHEMA_SCALE_STANDARD:
		if (!(f->sd > 0))
			return 0;
		return (v - f->mean) / f->sd;
	default:
		return v;
	}
}

typedef struct counters {
	size_t unseen, missing;
} counters;

/* The unscaled numeric value of input in (imputed when missing). */
static int numeric_value(const sch_input *in, const cellval *c, const rowctx *ctx,
			 counters *cnt, double *out)
{
	if (c->has_num) {
		char buf[32];

		*out = c->num;
		if (isfinite(c->num))
			return 0;
		mlctl_fmt_double(buf, c->num);
		if (!ctx->path)
			return mlctl_error_set(MLCTL_EDATA, "row %zu: column \"%s\": %s is not a finite number",
					       ctx->line, in->name, buf);
		return mlctl_error_set(MLCTL_EDATA, "%s:%zu: column \"%s\": %s is not a finite number",
				       ctx->path, ctx->line, in->name, buf);
	}
	if (!c->text || ds_is_missing(c->text)) {
		cnt->missing++;
		*out = in->impute;
		return 0;
	}
	if (parse_num(c->text, out))
		return 0;
	if (!ctx->path)
		return mlctl_error_set(MLCTL_EDATA, "row %zu: column \"%s\": \"%.64s\" is not a number",
				       ctx->line, in->name, c->text);
	return mlctl_error_set(MLCTL_EDATA, "%s:%zu: column \"%s\": \"%s\" is not a number",
			       ctx->path, ctx->line, in->name, c->text);
}

/* The vocabulary position of a categorical cell, -1 for none (counted). */
static long category_of(const sch_input *in, const cellval *c, counters *cnt, const cat_index *ci)
{
	char buf[32];
	view v;
	long k;

	if (c->has_num) {
		mlctl_fmt_double(buf, c->num);
		v.p = buf;
		v.n = strlen(buf);
	} else if (!c->text || ds_is_missing(c->text)) {
		cnt->missing++;
		v.p = MISSING_CATEGORY;
		v.n = strlen(MISSING_CATEGORY);
		return find_sorted(in->cats, in->ncat, v);
	} else {
		v = trimmed(c->text);
	}
	k = ci ? cat_index_find(ci, in, v) : find_sorted(in->cats, in->ncat, v);
	if (k < 0)
		cnt->unseen++;
	return k;
}

static void put_node(struct svm_node *out, size_t *n, int index, double v)
{
	if (v != 0) {
		out[*n].index = index;
		out[*n].value = v;
		(*n)++;
	}
}

/* Encode one row (one cellval per input) into out, which has room for nfeatures + 1
 * nodes; the terminating index -1 is written but not counted in *n. Without out the row
 * is only checked (and parsed), *n is 0. With parsed, each
 * present value of a numeric input given as text is also written there as a number. */
static int encode_row(const mlctl_schema *s, const cellval *cells, const rowctx *ctx,
		      counters *cnt, struct svm_node *out, size_t *n, cellval *parsed,
		      const cat_index *cidx)
{
	size_t i, k;
	int ret;

	*n = 0;
	for (i = 0; i < s->ninputs; i++) {
		const sch_input *in = &s->inputs[i];

		if (!in->categorical) {
			const cellval *c = &cells[i];
			double v;
			size_t before = cnt->missing;

			/* most cells are a plain number (numeric_value() says the same, slower) */
			if (!(!c->has_num && c->text && (unsigned char)*c->text > ' ' &&
			      mlctl_parse_double(c->text, &v) && isfinite(v)) &&
			    (ret = numeric_value(in, c, ctx, cnt, &v)))
				return ret;
			if (parsed && !cells[i].has_num && cnt->missing == before) {
				parsed[i].num = v;
				parsed[i].has_num = true;
			}
			if (out)
				put_node(out, n, in->first, scale_value(s, in->first, v, false));
		} else {
			size_t before = cnt->missing;
			long hit = category_of(in, &cells[i], cnt, cidx ? &cidx[i] : NULL);

			if (parsed) {
				parsed[i].cat = hit;
				parsed[i].cat_state = cnt->missing == before ? SCHEMA_CAT_PRESENT : SCHEMA_CAT_MISSING;
			}

			for (k = 0; out && k < in->ncat; k++)
				put_node(out, n, in->first + (int)k,
					 scale_value(s, in->first + (int)k, (long)k == hit ? 1.0 : 0.0, true));
		}
	}
	if (out) {
		out[*n].index = -1;
		out[*n].value = 0;
	}
	return 0;
}

/* The libsvm label value of a label cell, for training and validation. */
static int label_value(const mlctl_schema *s, const char *text, const rowctx *ctx, double *out)
{
	view v;
	long k;

	if (ds_is_missing(text)) {
		if (s->task == SCHEMA_TASK_ONECLASS) {
			*out = NAN;
			return 0;
		}
		return mlctl_error_set(MLCTL_EDATA, "%s:%zu: the label column \"%s\" is empty: every row needs a label",
				       ctx->path, ctx->line, s->label);
	}
	if (s->task != SCHEMA_TASK_CLASSIFY || s->numeric_labels) {
		if (parse_num(text, out))
			return 0;
		if (s->task == SCHEMA_TASK_ONECLASS) {
			*out = NAN;
			return 0;
		}
		return mlctl_error_set(MLCTL_EDATA, "%s:%zu: label column \"%s\": \"%s\" is not a number%s",
				       ctx->path, ctx->line, s->label, text,
				       s->task == SCHEMA_TASK_REGRESS ? " (regression needs numeric labels)" :
				       " (the training labels were all numbers)");
	}
	v = trimmed(text);
	k = find_sorted(s->class_names, s->nclasses, v);
	if (k < 0)
		return mlctl_error_set(MLCTL_EDATA, "%s:%zu: label \"%s\" is not one of the %zu training classes",
				       ctx->path, ctx->line, text, s->nclasses);
	*out = s->class_values[k];
	return 0;
}

/* ---- fitting -------------------------------------------------------------------------- */

static int check_names(const ds_table *t, const char *const *names, size_t n, const char *what)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ds_table_col(t, names[i]) < 0)
			return mlctl_error_set(MLCTL_EDATA, "%s: no column \"%s\" (named by %s)",
					       t->path, names[i], what);
	return 0;
}

/* Choose the label column, the id columns and the inputs. cols[i] is input i's column. */
static int fit_columns(mlctl_schema *s, const ds_table *t, const schema_options *o, long *cols)
{
	const char *label = o->label;
	long lcol = -1;
	size_t c, i;
	int ret;

	if ((ret = check_names(t, o->id_columns, o->n_id_columns, "--id-column")) ||
	    (ret = check_names(t, o->features, o->n_features, "--features")) ||
	    (ret = check_names(t, o->exclude, o->n_exclude, "--exclude")) ||
	    (ret = check_names(t, o->categorical, o->n_categorical, "--categorical")))
		return ret;
	if (label) {
		lcol = ds_table_col(t, label);
		if (lcol < 0)
			return mlctl_error_set(MLCTL_EDATA, "%s: no label column \"%s\" (named by --label)",
					       t->path, label);
	} else {
		lcol = ds_table_col(t, "label");
		if (lcol < 0 && s->task != SCHEMA_TASK_ONECLASS)
			return mlctl_error_set(MLCTL_EDATA, "%s: no label column: use --label to name it",
					       t->path);
	}
	if (lcol >= 0 && !(s->label = mlctl_strdup(t->colnames[lcol])))
		return MLCTL_ENOMEM;
	s->ids = mlctl_calloc(o->n_id_columns + 1, sizeof(*s->ids));
	if (!s->ids)
		return MLCTL_ENOMEM;
	for (i = 0; i < o->n_id_columns; i++)
		if (!(s->ids[s->nid++] = mlctl_strdup(o->id_columns[i])))
			return MLCTL_ENOMEM;
	for (c = 0; c < t->ncols; c++) {
		const char *name = t->colnames[c];
		sch_input *in;

		if ((long)c == lcol || in_list(o->id_columns, o->n_id_columns, name) ||
		    (o->n_features && !in_list(o->features, o->n_features, name)) ||
		    in_list(o->exclude, o->n_exclude, name))
			continue;
		in = &s->inputs[s->ninputs];
		if (!(in->name = mlctl_strdup(name)))
			return MLCTL_ENOMEM;
		in->categorical = in_list(o->categorical, o->n_categorical, name);
		cols[s->ninputs++] = (long)c;
	}
	if (s->ninputs == 0)
		return mlctl_error_set(MLCTL_EDATA, "%s: no feature columns left to learn from", t->path);
	return 0;
}

static size_t row_at(const size_t *rows, size_t i)
{
	return rows ? rows[i] : i;
}

/*
 * Type a numeric input (or find it is categorical) and learn its imputation mean. A column
 * of numbers with a few strays (at most 1 in 20 present values) is a numeric column with
 * bad values, not a category with one level per number: the first stray is reported with
 * its line, as it would be at scoring time, and --categorical says otherwise.
 */
static int fit_numeric(sch_input *in, const ds_table *t, long col)
{
	double sum = 0, v;
	size_t r, n = 0, bad = 0, first_bad = 0;

	for (r = 0; r < t->nrows; r++) {
		const char *cell = ds_cell(t, r, col);

		if (ds_is_missing(cell))
			continue;
		if (!parse_num(cell, &v)) {
			if (!bad++)
				first_bad = r;
			continue;
		}
		sum += v;
		n++;
	}
	if (bad && n >= 19 * bad) {
		const char *cell = ds_cell(t, first_bad, col);

		return mlctl_error_set(MLCTL_EDATA,
				       "%s:%zu: column \"%s\": \"%s\" is not a number (%zu of %zu values; "
				       "use --categorical %s if it is a category)",
				       t->path, t->lines[first_bad], in->name, cell, bad, bad + n, in->name);
	}
	in->categorical = bad > 0;
	in->impute = n ? sum / (double)n : 0;
	return 0;
}

static int fit_vocabulary(sch_input *in, const ds_table *t, long col)
{
	view *all = mlctl_calloc(t->nrows, sizeof(*all));
	size_t r, k, n = 0;
	int ret = 0;

	if (!all)
		return MLCTL_ENOMEM;
	for (r = 0; r < t->nrows; r++) {
		const char *cell = ds_cell(t, r, col);

		if (ds_is_missing(cell)) {
			all[r].p = MISSING_CATEGORY;
			all[r].n = strlen(MISSING_CATEGORY);
		} else {
			all[r] = trimmed(cell);
		}
	}
	qsort(all, t->nrows, sizeof(*all), view_qcmp);
	for (r = 0; r < t->nrows; r++)
		if (r == 0 || view_cmp(all[r - 1], all[r]))
			all[n++] = all[r];
	in->cats = mlctl_calloc(n, sizeof(*in->cats));
	if (!in->cats) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	for (k = 0; k < n; k++) {
		in->cats[k] = malloc(all[k].n + 1);
		if (!in->cats[k]) {
			ret = mlctl_error_oom();
			goto out;
		}
		memcpy(in->cats[k], all[k].p, all[k].n);
		in->cats[k][all[k].n] = '\0';
		in->ncat++;
	}
out:
	free(all);
	return ret;
}

static int fit_indicators(mlctl_schema *s, const sch_input *in, const ds_table *t, long col)
{
	size_t *hits = mlctl_calloc(in->ncat + 1, sizeof(*hits));
	counters cnt = { 0, 0 };
	size_t k, r, n = t->nrows;

	if (!hits)
		return MLCTL_ENOMEM;
	for (r = 0; r < n; r++) {
		cellval c = { ds_cell(t, r, col), 0, false, 0, 0 };
		long hit = category_of(in, &c, &cnt, NULL);

		if (hit >= 0)
			hits[hit]++;
	}
	for (k = 0; k < in->ncat; k++) {
		sch_feature *f = &s->feat[in->first - 1 + (int)k];

		f->min = hits[k] == n ? 1 : 0;
		f->max = hits[k] ? 1 : 0;
		f->mean = (double)hits[k] / (double)n;
		f->sd = sqrt(f->mean * (1 - f->mean));
	}
	free(hits);
	return 0;
}

/* Min, max, mean and population sd of every feature over the (imputed) training rows. */
static int fit_scaling(mlctl_schema *s, const ds_table *t, const long *cols)
{
	size_t i, r, n = t->nrows;
	counters cnt = { 0, 0 };
	rowctx ctx = { t->path, 0 };
	int ret = 0;

	for (i = 0; i < s->ninputs; i++) {
		const sch_input *in = &s->inputs[i];

		if (!in->categorical) {
			sch_feature *f = &s->feat[in->first - 1];
			double sum = 0, ss = 0, v;
			cellval c = { NULL, 0, false, 0, 0 };

			f->min = INFINITY;
			f->max = -INFINITY;
			for (r = 0; r < n; r++) {
				c.text = ds_cell(t, r, cols[i]);
				ctx.line = t->lines[r];
				if ((ret = numeric_value(in, &c, &ctx, &cnt, &v)))
					return ret;
				f->min = v < f->min ? v : f->min;
				f->max = v > f->max ? v : f->max;
				sum += v;
			}
			f->mean = sum / (double)n;
			for (r = 0; r < n; r++) {
				c.text = ds_cell(t, r, cols[i]);
				numeric_value(in, &c, &ctx, &cnt, &v);
				ss += (v - f->mean) * (v - f->mean);
			}
			f->sd = sqrt(ss / (double)n);
			continue;
		}
		/* indicators: statistics follow from the count of each category */
		if ((ret = fit_indicators(s, in, t, cols[i])))
			return ret;
	}
	return 0;
}

/* Classes: numbers when every label is one, else the sorted names numbered 0, 1, 2... */
static int fit_classes(mlctl_schema *s, const ds_table *t, long lcol)
{
	double *vals = mlctl_calloc(t->nrows, sizeof(*vals));
	sch_input tmp = { 0 };
	size_t r, k, n = 0;
	char buf[32];
	int ret = 0;

	if (!vals)
		return MLCTL_ENOMEM;
	s->numeric_labels = true;
	for (r = 0; r < t->nrows; r++) {
		const char *cell = ds_cell(t, r, lcol);

		if (ds_is_missing(cell)) {
			ret = mlctl_error_set(MLCTL_EDATA, "%s:%zu: the label column \"%s\" is empty: every row needs a label",
					      t->path, t->lines[r], s->label);
			goto out;
		}
		if (s->numeric_labels && !parse_num(cell, &vals[r]))
			s->numeric_labels = false;
	}
	if (s->numeric_labels) {
		/* libsvm keeps class labels as int: 1.2 and 1.7 would both become class 1 */
		for (r = 0; r < t->nrows; r++) {
			if (vals[r] != floor(vals[r]) || vals[r] < INT_MIN || vals[r] > INT_MAX) {
				ret = mlctl_error_set(MLCTL_EDATA,
						      "%s:%zu: label column \"%s\": \"%s\" is not a class: a classifier needs "
						      "text labels or integers in int range (for a numeric target use "
						      "--type epsilon-svr or nu-svr)",
						      t->path, t->lines[r], s->label, ds_cell(t, r, lcol));
				goto out;
			}
		}
		qsort(vals, t->nrows, sizeof(*vals), mlctl_cmp_double);
		for (r = 0; r < t->nrows; r++)
			if (r == 0 || vals[r] != vals[n - 1])
				vals[n++] = vals[r];
		s->class_names = mlctl_calloc(n, sizeof(*s->class_names));
		s->class_values = mlctl_calloc(n, sizeof(*s->class_values));
		if (!s->class_names || !s->class_values) {
			ret = MLCTL_ENOMEM;
			goto out;
		}
		for (k = 0; k < n; k++) {
			s->class_values[k] = vals[k] == 0 ? 0 : vals[k]; /* no "-0" class */
			if (!(s->class_names[k] = mlctl_strdup(mlctl_fmt_double(buf, s->class_values[k])))) {
				ret = MLCTL_ENOMEM;
				goto out;
			}
			s->nclasses++;
		}
	} else {
		if ((ret = fit_vocabulary(&tmp, t, lcol)))
			goto out;
		s->class_names = tmp.cats;
		s->nclasses = tmp.ncat;
		tmp.cats = NULL;
		s->class_values = mlctl_calloc(s->nclasses, sizeof(*s->class_values));
		if (!s->class_values) {
			ret = MLCTL_ENOMEM;
			goto out;
		}
		for (k = 0; k < s->nclasses; k++)
			s->class_values[k] = (double)k;
	}
	if (s->nclasses < 2)
		ret = mlctl_error_set(MLCTL_EDATA,
				      "%s: the label column \"%s\" has only one class (\"%s\"): classification needs at least two",
				      t->path, s->label, s->class_names[0]);
out:
	free(vals);
	return ret;
}

static int fit_labels(mlctl_schema *s, const ds_table *t)
{
	long lcol = s->label ? ds_table_col(t, s->label) : -1;
	rowctx ctx = { t->path, 0 };
	size_t r;
	double v;
	int ret;

	if (lcol < 0)
		return 0;
	if (s->task == SCHEMA_TASK_CLASSIFY)
		return fit_classes(s, t, lcol);
	for (r = 0; r < t->nrows; r++) {
		ctx.line = t->lines[r];
		if ((ret = label_value(s, ds_cell(t, r, lcol), &ctx, &v)))
			return ret;
	}
	return 0;
}

/*
 * The task a label asks for when --type does not say: classification when any label is
 * text, or when every label is an integer and there are at most SCHEMA_INFER_MAX_CLASSES
 * distinct values or at most 1 per SCHEMA_INFER_ROWS_PER_CLASS rows (5%); otherwise
 * regression. Missing labels are skipped here; schema_fit reports them.
 */
int schema_infer_task(schema_inference *out, const ds_table *t, const schema_options *o)
{
	long lcol = ds_table_col(t, o->label ? o->label : "label");
	double *vals;
	size_t r, n = 0, k = 0;

	memset(out, 0, sizeof(*out));
	out->task = SCHEMA_TASK_CLASSIFY;
	if (lcol < 0)
		return 0; /* schema_fit names the missing column */
	if (!(vals = mlctl_calloc(t->nrows + 1, sizeof(*vals))))
		return MLCTL_ENOMEM;
	out->integers = true;
	for (r = 0; r < t->nrows; r++) {
		const char *cell = ds_cell(t, r, lcol);

		if (ds_is_missing(cell))
			continue;
		if (!parse_num(cell, &vals[n])) {
			out->text = true;
			break;
		}
		if (vals[n] != floor(vals[n]) || vals[n] < INT_MIN || vals[n] > INT_MAX)
			out->integers = false;
		n++;
	}
	if (!out->text) {
		qsort(vals, n, sizeof(*vals), mlctl_cmp_double);
		for (r = 0; r < n; r++)
			if (r == 0 || vals[r] != vals[r - 1])
				k++;
		out->ndistinct = k;
		if (!out->integers ||
		    (k > SCHEMA_INFER_MAX_CLASSES && k > n / SCHEMA_INFER_ROWS_PER_CLASS))
			out->task = SCHEMA_TASK_REGRESS;
	}
	free(vals);
	return 0;
}

int schema_fit(mlctl_schema **out, const ds_table *t, const schema_options *opts)
{
	schema_options defaults = SCHEMA_OPTIONS_INIT;
	mlctl_schema *s;
	long *cols = NULL;
	size_t i;
	int ret, next = 1;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	s = mlctl_calloc(1, sizeof(*s));
	if (!s)
		return MLCTL_ENOMEM;
	s->task = opts->task;
	s->scale = opts->scale;
	s->inputs = mlctl_calloc(t->ncols, sizeof(*s->inputs));
	cols = mlctl_calloc(t->ncols, sizeof(*cols));
	if (!s->inputs || !cols) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	if (t->nrows == 0) {
		ret = mlctl_error_set(MLCTL_EDATA, "%s: no data rows to learn from", t->path);
		goto out_free;
	}
	if ((ret = fit_columns(s, t, opts, cols)) || (ret = fit_labels(s, t)))
		goto out_free;
	for (i = 0; i < s->ninputs; i++) {
		sch_input *in = &s->inputs[i];

		if (!in->categorical && (ret = fit_numeric(in, t, cols[i])))
			goto out_free;
		if (in->categorical && (ret = fit_vocabulary(in, t, cols[i])))
			goto out_free;
		in->first = next;
		if ((size_t)next + (in->categorical ? in->ncat : 1) > (size_t)INT32_MAX) {
			ret = mlctl_error_set(MLCTL_EDATA, "%s: too many features", t->path);
			goto out_free;
		}
		next += in->categorical ? (int)in->ncat : 1;
	}
	s->nfeatures = next - 1;
	s->feat = mlctl_calloc((size_t)s->nfeatures + 1, sizeof(*s->feat));
	if (!s->feat) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	if ((ret = fit_scaling(s, t, cols)))
		goto out_free;
	free(cols);
	*out = s;
	return 0;
out_free:
	free(cols);
	schema_free(s);
	return ret;
}

/* ---- transforming tables -------------------------------------------------------------- */

/*
 * Where each input comes from in a table: a column, or (libsvm tables narrower than the
 * training file) no column at all, which reads as 0 as an absent libsvm index does.
 */
static int map_table(const mlctl_schema *s, const ds_table *t, long *cols)
{
	size_t i;

	for (i = 0; i < s->ninputs; i++) {
		int64_t ix;

		cols[i] = ds_table_col(t, s->inputs[i].name);
		if (cols[i] >= 0)
			continue;
		if (t->format == DS_FORMAT_LIBSVM &&
		    mlctl_parse_int64(s->inputs[i].name, 1, INT32_MAX, &ix))
			continue;
		return mlctl_error_set(MLCTL_EDATA, "column \"%s\" is missing from %s",
				       s->inputs[i].name, t->path);
	}
	return 0;
}

static int matrix_reserve(schema_matrix *m, size_t *cap, size_t need)
{
	struct svm_node *nodes;
	size_t c = *cap ? *cap : 4096;

	if (need <= *cap)
		return 0;
	while (c < need) {
		if (c > SIZE_MAX / 2 / sizeof(*nodes))
			return mlctl_error_oom();
		c *= 2;
	}
	nodes = mlctl_reallocarray(m->nodes, c, sizeof(*nodes));
	if (!nodes)
		return mlctl_error_oom();
	m->nodes = nodes;
	*cap = c;
	return 0;
}

int schema_transform_table(schema_matrix **out, const mlctl_schema *s, const ds_table *t,
			   const size_t *rows, size_t n, bool with_labels)
{
	schema_matrix *m = NULL;
	long *cols = NULL, lcol = -1;
	cellval *cells = NULL;
	size_t *start = NULL, cap = 0, used = 0, i, j, width = (size_t)s->nfeatures + 1;
	counters cnt = { 0, 0 };
	int ret;

	*out = NULL;
	if (!rows)
		n = t->nrows;
	m = mlctl_calloc(1, sizeof(*m));
	cols = mlctl_calloc(s->ninputs + 1, sizeof(*cols));
	cells = mlctl_calloc(s->ninputs + 1, sizeof(*cells));
	start = mlctl_calloc(n + 1, sizeof(*start));
	if (!m || !cols || !cells || !start) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	if ((ret = map_table(s, t, cols)))
		goto out_free;
	if (with_labels) {
		lcol = s->label ? ds_table_col(t, s->label) : -1;
		if (lcol < 0 && s->task != SCHEMA_TASK_ONECLASS) {
			ret = mlctl_error_set(MLCTL_EDATA, "label column \"%s\" is missing from %s",
					      s->label ? s->label : "label", t->path);
			goto out_free;
		}
		m->prob.y = mlctl_calloc(n + 1, sizeof(*m->prob.y));
		if (!m->prob.y) {
			ret = MLCTL_ENOMEM;
			goto out_free;
		}
	}
	for (i = 0; i < n; i++) {
		size_t r = row_at(rows, i), k;
		rowctx ctx;

		if (r >= t->nrows) {
			ret = mlctl_error_set(MLCTL_ERROR, "row %zu out of range (%zu rows)", r, t->nrows);
			goto out_free;
		}
		ctx.path = t->path;
		ctx.line = t->lines[r];
		for (j = 0; j < s->ninputs; j++) {
			cells[j].has_num = cols[j] < 0;
			cells[j].num = 0;
			cells[j].text = cols[j] < 0 ? "0" : ds_cell(t, r, cols[j]);
		}
		if ((ret = matrix_reserve(m, &cap, used + width)) ||
		    (ret = encode_row(s, cells, &ctx, &cnt, m->nodes + used, &k, NULL, NULL)))
			goto out_free;
		start[i] = used;
		used += k + 1;
		if (with_labels) {
			if (lcol < 0)
				m->prob.y[i] = 1; /* one-class without labels: all inliers */
			else if ((ret = label_value(s, ds_cell(t, r, lcol), &ctx, &m->prob.y[i])))
				goto out_free;
		}
	}
	m->prob.l = (int)n;
	m->prob.x = mlctl_calloc(n + 1, sizeof(*m->prob.x));
	if (!m->prob.x) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	for (i = 0; i < n; i++)
		m->prob.x[i] = m->nodes + start[i];
	m->nfeatures = s->nfeatures;
	m->unseen_categories = cnt.unseen;
	m->missing_cells = cnt.missing;
	*out = m;
	m = NULL;
	ret = 0;
out_free:
	schema_matrix_free(m);
	free(cols);
	free(cells);
	free(start);
	return ret;
}

void schema_matrix_free(schema_matrix *m)
{
	if (!m)
		return;
	free(m->prob.y);
	free(m->prob.x);
	free(m->nodes);
	free(m);
}

/* ---- streaming ------------------------------------------------------------------------ */

struct schema_binding {
	const mlctl_schema *s;
	char *path;
	bool libsvm;
	long *src;          /* per input: reader column, or libsvm feature index */
	long label_col;     /* -1: absent */
	long *id_col;       /* per id column, -1 when absent */
	cellval *cells;
	counters cnt;
	cat_index *cidx;    /* per input; built for the categorical ones */
};

int schema_bind(schema_binding **out, const mlctl_schema *s, const ds_reader *r)
{
	schema_binding *b;
	size_t i, c, nc = ds_reader_ncols(r);
	int ret = 0;

	*out = NULL;
	b = mlctl_calloc(1, sizeof(*b));
	if (!b)
		return MLCTL_ENOMEM;
	b->s = s;
	b->libsvm = ds_reader_format(r) == DS_FORMAT_LIBSVM;
	b->path = mlctl_strdup(ds_reader_path(r));
	b->src = mlctl_calloc(s->ninputs + 1, sizeof(*b->src));
	b->id_col = mlctl_calloc(s->nid + 1, sizeof(*b->id_col));
	b->cells = mlctl_calloc(s->ninputs + 1, sizeof(*b->cells));
	if (!b->path || !b->src || !b->id_col || !b->cells) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	b->label_col = b->libsvm ? 0 : -1;
	for (i = 0; i < s->nid; i++)
		b->id_col[i] = -1;
	for (c = 0; c < nc; c++) {
		const char *name = ds_reader_colname(r, c);

		if (s->label && !strcmp(name, s->label))
			b->label_col = (long)c;
		for (i = 0; i < s->nid; i++)
			if (!strcmp(name, s->ids[i]))
				b->id_col[i] = (long)c;
	}
	for (i = 0; i < s->ninputs; i++) {
		int64_t ix;

		b->src[i] = -1;
		if (b->libsvm) {
			if (mlctl_parse_int64(s->inputs[i].name, 1, INT32_MAX, &ix))
				b->src[i] = (long)ix;
		} else {
			for (c = 0; c < nc && b->src[i] < 0; c++)
				if (!strcmp(ds_reader_colname(r, c), s->inputs[i].name))
					b->src[i] = (long)c;
		}
		if (b->src[i] < 0) {
			ret = mlctl_error_set(MLCTL_EDATA, "column \"%s\" is missing from %s%s",
					      s->inputs[i].name, b->path,
					      b->libsvm ? " (a libsvm file has only numbered features)" : "");
			goto out_free;
		}
	}
	if (!(b->cidx = mlctl_calloc(s->ninputs + 1, sizeof(*b->cidx)))) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	for (i = 0; i < s->ninputs; i++)
		if (s->inputs[i].categorical && (ret = cat_index_build(&b->cidx[i], &s->inputs[i])))
			goto out_free;
	*out = b;
	return 0;
out_free:
	schema_binding_free(b);
	return ret;
}

size_t schema_max_nodes(const mlctl_schema *s)
{
	return (size_t)s->nfeatures + 1;
}

/* The value of feature index ix in a libsvm record (indices ascending): 0 when absent. */
static double sparse_lookup(const ds_record *rec, long ix)
{
	size_t lo = 0, hi = rec->nsparse;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rec->index[mid] == ix)
			return rec->value[mid];
		if (rec->index[mid] < ix)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* A label for validation while streaming: NaN when absent or not a known class. */
static double record_label(const schema_binding *b, const ds_record *rec)
{
	const mlctl_schema *s = b->s;
	const char *text;
	double v;
	long k;

	if (b->label_col < 0)
		return NAN;
	text = b->libsvm ? rec->label : rec->fields[b->label_col];
	if (!text || ds_is_missing(text))
		return NAN;
	if (s->task == SCHEMA_TASK_CLASSIFY && !s->numeric_labels) {
		k = find_sorted(s->class_names, s->nclasses, trimmed(text));
		return k < 0 ? NAN : s->class_values[k];
	}
	return parse_num(text, &v) ? v : NAN;
}

int schema_transform_record(struct svm_node *out, size_t *n_out, double *label,
			    schema_binding *b, const ds_record *rec)
{
	const mlctl_schema *s = b->s;
	rowctx ctx = { b->path, rec->line };
	size_t i;

	for (i = 0; i < s->ninputs; i++) {
		cellval *c = &b->cells[i];

		c->cat_state = 0;
		if (b->libsvm) {
			c->has_num = true;
			c->num = sparse_lookup(rec, b->src[i]);
			c->text = NULL;
		} else {
			c->has_num = false;
			c->text = rec->fields[b->src[i]];
		}
	}
	if (label)
		*label = record_label(b, rec);
	return encode_row(s, b->cells, &ctx, &b->cnt, out, n_out, b->cells, b->cidx);
}

const schema_cell *schema_binding_cells(const schema_binding *b)
{
	return b->cells;
}

int schema_encode_cells(struct svm_node *out, size_t *n_out, const mlctl_schema *s,
			const schema_cell *cells, size_t row, schema_counts *cnt)
{
	rowctx ctx = { NULL, row };
	counters c = { 0, 0 };
	int ret = encode_row(s, cells, &ctx, &c, out, n_out, NULL, NULL);

	if (cnt) {
		cnt->unseen += c.unseen;
		cnt->missing += c.missing;
	}
	return ret;
}

size_t schema_binding_unseen(const schema_binding *b)
{
	return b->cnt.unseen;
}

size_t schema_binding_missing(const schema_binding *b)
{
	return b->cnt.missing;
}

const char *schema_binding_id(const schema_binding *b, const ds_record *rec, size_t i)
{
	if (i >= b->s->nid || b->id_col[i] < 0 || b->libsvm || (size_t)b->id_col[i] >= rec->nfields)
		return NULL;
	return rec->fields[b->id_col[i]];
}

void schema_binding_free(schema_binding *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; b->cidx && i < b->s->ninputs; i++) {
		free(b->cidx[i].slot);
		free(b->cidx[i].len);
	}
	free(b->cidx);
	free(b->path);
	free(b->src);
	free(b->id_col);
	free(b->cells);
	free(b);
}

/* ---- YAML ----------------------------------------------------------------------------- */

static void save_feature(ymlw *w, const sch_feature *f)
{
	ymlw_knum(w, "min", f->min);
	ymlw_knum(w, "max", f->max);
	ymlw_knum(w, "mean", f->mean);
	ymlw_knum(w, "sd", f->sd);
}

static void save_input(ymlw *w, const mlctl_schema *s, const sch_input *in)
{
	size_t k;

	ymlw_map(w);
	ymlw_kstr(w, "name", in->name);
	ymlw_kplain(w, "type", in->categorical ? "categorical" : "numeric");
	ymlw_ksize(w, "index", (size_t)in->first);
	if (!in->categorical) {
		ymlw_knum(w, "impute", in->impute);
		save_feature(w, &s->feat[in->first - 1]);
	} else {
		ymlw_plain(w, "categories");
		ymlw_seq(w, false);
		for (k = 0; k < in->ncat; k++) {
			ymlw_map(w);
			ymlw_kstr(w, "value", in->cats[k]);
			save_feature(w, &s->feat[in->first - 1 + (int)k]);
			ymlw_map_end(w);
		}
		ymlw_seq_end(w);
	}
	ymlw_map_end(w);
}

int schema_save(char **out, size_t *len, const mlctl_schema *s)
{
	ymlw w;
	size_t i;

	ymlw_begin(&w);
	ymlw_map(&w);
	ymlw_ksize(&w, "schema_version", 2);
	ymlw_kplain(&w, "task", task_name(s->task));
	ymlw_kplain(&w, "scale", schema_scale_name(s->scale));
	ymlw_plain(&w, "label");
	if (s->label)
		ymlw_str(&w, s->label);
	else
		ymlw_plain(&w, "~");
	ymlw_kplain(&w, "labels", s->numeric_labels ? "numeric" : "text");
	ymlw_plain(&w, "classes");
	ymlw_seq(&w, false);
	for (i = 0; i < s->nclasses; i++) {
		ymlw_map(&w);
		ymlw_kstr(&w, "name", s->class_names[i]);
		ymlw_knum(&w, "value", s->class_values[i]);
		ymlw_map_end(&w);
	}
	ymlw_seq_end(&w);
	ymlw_plain(&w, "id_columns");
	ymlw_seq(&w, true);
	for (i = 0; i < s->nid; i++)
		ymlw_str(&w, s->ids[i]);
	ymlw_seq_end(&w);
	ymlw_ksize(&w, "nfeatures", (size_t)s->nfeatures);
	ymlw_plain(&w, "inputs");
	ymlw_seq(&w, false);
	for (i = 0; i < s->ninputs; i++)
		save_input(&w, s, &s->inputs[i]);
	ymlw_seq_end(&w);
	ymlw_map_end(&w);
	return ymlw_finish(&w, out, len);
}

static int load_feature(ymlr *r, yaml_node_t *n, sch_feature *f)
{
	int ret;

	if ((ret = ymlr_knum(r, n, "min", &f->min)) || (ret = ymlr_knum(r, n, "max", &f->max)) ||
	    (ret = ymlr_knum(r, n, "mean", &f->mean)) || (ret = ymlr_knum(r, n, "sd", &f->sd)))
		return ret;
	return 0;
}

static int load_strdup(ymlr *r, yaml_node_t *map, const char *key, char **out)
{
	const char *v;
	int ret = ymlr_kstr(r, map, key, &v);

	if (ret)
		return ret;
	*out = mlctl_strdup(v);
	return *out ? 0 : MLCTL_ENOMEM;
}

static int load_input(ymlr *r, yaml_node_t *n, mlctl_schema *s, sch_input *in, int *next,
		      sch_feature **feat, size_t *nfeat)
{
	yaml_node_t *cats;
	const char *type;
	size_t idx, k, width;
	sch_feature *f;
	int ret;

	if ((ret = ymlr_map(r, n, "an input")) || (ret = load_strdup(r, n, "name", &in->name)) ||
	    (ret = ymlr_kstr(r, n, "type", &type)) || (ret = ymlr_ksize(r, n, "index", &idx)))
		return ret;
	if (idx != (size_t)*next)
		return ymlr_error(r, n, "input \"%s\": index %zu, expected %d", in->name, idx, *next);
	in->categorical = !strcmp(type, "categorical");
	if (!in->categorical && strcmp(type, "numeric"))
		return ymlr_error(r, n, "input \"%s\": type \"%s\" is not numeric or categorical", in->name, type);
	if (in->categorical) {
		if ((ret = ymlr_kseq(r, n, "categories", &cats)))
			return ret;
		width = ymlr_len(cats);
	} else {
		if ((ret = ymlr_knum(r, n, "impute", &in->impute)))
			return ret;
		width = 1;
	}
	if (width > (size_t)INT32_MAX - (size_t)*next)
		return ymlr_error(r, n, "too many features");
	f = mlctl_reallocarray(*feat, *nfeat + width + 1, sizeof(*f));
	if (!f)
		return mlctl_error_oom();
	*feat = f;
	in->first = *next;
	if (!in->categorical) {
		*next += 1;
		return load_feature(r, n, &f[(*nfeat)++]);
	}
	in->cats = mlctl_calloc(width + 1, sizeof(*in->cats));
	if (!in->cats)
		return MLCTL_ENOMEM;
	for (k = 0; k < width; k++) {
		yaml_node_t *c = ymlr_item(r, cats, k);

		if ((ret = ymlr_map(r, c, "a category")) ||
		    (ret = load_strdup(r, c, "value", &in->cats[k])))
			return ret;
		in->ncat++;
		if (k && strcmp(in->cats[k - 1], in->cats[k]) >= 0)
			return ymlr_error(r, c, "input \"%s\": categories are not in sorted order", in->name);
		if ((ret = load_feature(r, c, &f[(*nfeat)++])))
			return ret;
	}
	*next += (int)width;
	(void)s;
	return 0;
}

static int load_classes(ymlr *r, yaml_node_t *root, mlctl_schema *s)
{
	yaml_node_t *seq;
	size_t i, n;
	int ret;

	if ((ret = ymlr_kseq(r, root, "classes", &seq)))
		return ret;
	n = ymlr_len(seq);
	s->class_names = mlctl_calloc(n + 1, sizeof(*s->class_names));
	s->class_values = mlctl_calloc(n + 1, sizeof(*s->class_values));
	if (!s->class_names || !s->class_values)
		return MLCTL_ENOMEM;
	for (i = 0; i < n; i++) {
		yaml_node_t *c = ymlr_item(r, seq, i);

		if ((ret = ymlr_map(r, c, "a class")) ||
		    (ret = load_strdup(r, c, "name", &s->class_names[i])))
			return ret;
		s->nclasses++;
		if ((ret = ymlr_knum(r, c, "value", &s->class_values[i])))
			return ret;
		if (i && !s->numeric_labels && strcmp(s->class_names[i - 1], s->class_names[i]) >= 0)
			return ymlr_error(r, c, "classes are not in sorted order");
	}
	if (s->task == SCHEMA_TASK_CLASSIFY && s->nclasses < 2)
		return ymlr_error(r, seq, "a classification schema needs at least two classes");
	return 0;
}

static int load_header(ymlr *r, yaml_node_t *root, mlctl_schema *s)
{
	const char *task, *scale, *labels;
	yaml_node_t *label;
	size_t version;
	int ret;

	if ((ret = ymlr_map(r, root, "the schema")) ||
	    (ret = ymlr_ksize(r, root, "schema_version", &version)))
		return ret;
	if (version != 1 && version != 2)
		return ymlr_error(r, root, "schema_version %zu is not supported (expected 1 or 2)", version);
	s->scaled_indicators = version == 1;
	if ((ret = ymlr_kstr(r, root, "task", &task)) || (ret = ymlr_kstr(r, root, "scale", &scale)) ||
	    (ret = ymlr_kstr(r, root, "labels", &labels)))
		return ret;
	if (!task_parse(task, &s->task))
		return ymlr_error(r, ymlr_get(r, root, "task"), "unknown task \"%s\"", task);
	if (!schema_scale_parse(scale, &s->scale))
		return ymlr_error(r, ymlr_get(r, root, "scale"), "unknown scale \"%s\"", scale);
	s->numeric_labels = !strcmp(labels, "numeric");
	label = ymlr_get(r, root, "label");
	if (label && label->type == YAML_SCALAR_NODE && label->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return load_strdup(r, root, "label", &s->label);
	return 0;
}

int schema_load(mlctl_schema **out, const char *yaml, size_t len, const char *origin)
{
	mlctl_schema *s;
	yaml_node_t *root, *seq, *ids;
	size_t i, n, nfeat = 0, nf;
	int ret, next = 1;
	ymlr r;

	*out = NULL;
	s = mlctl_calloc(1, sizeof(*s));
	if (!s)
		return MLCTL_ENOMEM;
	if ((ret = ymlr_load(&r, yaml, len, origin)))
		goto out_free;
	root = ymlr_root(&r);
	if ((ret = load_header(&r, root, s)) || (ret = load_classes(&r, root, s)) ||
	    (ret = ymlr_kseq(&r, root, "id_columns", &ids)) ||
	    (ret = ymlr_ksize(&r, root, "nfeatures", &nf)) ||
	    (ret = ymlr_kseq(&r, root, "inputs", &seq)))
		goto out_free;
	n = ymlr_len(ids);
	s->ids = mlctl_calloc(n + 1, sizeof(*s->ids));
	n = ymlr_len(seq);
	s->inputs = mlctl_calloc(n + 1, sizeof(*s->inputs));
	if (!s->ids || !s->inputs) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	for (i = 0; i < ymlr_len(ids); i++) {
		const char *v;

		if ((ret = ymlr_scalar(&r, ymlr_item(&r, ids, i), "an id column", &v)))
			goto out_free;
		if (!(s->ids[s->nid++] = mlctl_strdup(v))) {
			ret = MLCTL_ENOMEM;
			goto out_free;
		}
	}
	for (i = 0; i < n; i++) {
		ret = load_input(&r, ymlr_item(&r, seq, i), s, &s->inputs[s->ninputs++], &next,
				 &s->feat, &nfeat);
		if (ret)
			goto out_free;
	}
	if (n == 0 || nf != nfeat) {
		ret = ymlr_error(&r, seq, "nfeatures is %zu but the inputs give %zu features", nf, nfeat);
		goto out_free;
	}
	s->nfeatures = (int)nfeat;
	ymlr_free(&r);
	*out = s;
	return 0;
out_free:
	ymlr_free(&r);
	schema_free(s);
	return ret;
}

/* ---- accessors ------------------------------------------------------------------------ */

schema_task schema_get_task(const mlctl_schema *s)
{
	return s->task;
}

const char *schema_label_name(const mlctl_schema *s)
{
	return s->label;
}

int schema_nfeatures(const mlctl_schema *s)
{
	return s->nfeatures;
}

size_t schema_ninputs(const mlctl_schema *s)
{
	return s->ninputs;
}

const char *schema_input_name(const mlctl_schema *s, size_t i)
{
	return i < s->ninputs ? s->inputs[i].name : NULL;
}

bool schema_input_is_categorical(const mlctl_schema *s, size_t i)
{
	return i < s->ninputs && s->inputs[i].categorical;
}

size_t schema_nid_columns(const mlctl_schema *s)
{
	return s->nid;
}

const char *schema_id_column(const mlctl_schema *s, size_t i)
{
	return i < s->nid ? s->ids[i] : NULL;
}

size_t schema_nclasses(const mlctl_schema *s)
{
	return s->nclasses;
}

const char *schema_class_name(const mlctl_schema *s, size_t i)
{
	return i < s->nclasses ? s->class_names[i] : NULL;
}

double schema_class_value(const mlctl_schema *s, size_t i)
{
	return i < s->nclasses ? s->class_values[i] : NAN;
}

const char *schema_class_for_value(const mlctl_schema *s, double v)
{
	size_t i;

	for (i = 0; i < s->nclasses; i++)
		if (s->class_values[i] == v)
			return s->class_names[i];
	return NULL;
}

bool schema_value_for_class(const mlctl_schema *s, const char *name, double *v)
{
	size_t i;
	double num;

	for (i = 0; i < s->nclasses; i++) {
		if (!strcmp(s->class_names[i], name)) {
			*v = s->class_values[i];
			return true;
		}
	}
	/* numeric classes also answer to other spellings of their number ("+1" for "1") */
	if (s->numeric_labels && parse_num(name, &num) && schema_class_for_value(s, num)) {
		*v = num;
		return true;
	}
	return false;
}

/* Per input feature range [first, first + width): for the profile module. */
int schema_input_first_index(const mlctl_schema *s, size_t i)
{
	return i < s->ninputs ? s->inputs[i].first : -1;
}

size_t schema_input_ncategories(const mlctl_schema *s, size_t i)
{
	return i < s->ninputs ? s->inputs[i].ncat : 0;
}

const char *schema_input_category(const mlctl_schema *s, size_t i, size_t k)
{
	return i < s->ninputs && k < s->inputs[i].ncat ? s->inputs[i].cats[k] : NULL;
}

void schema_free(mlctl_schema *s)
{
	size_t i, k;

	if (!s)
		return;
	for (i = 0; i < s->ninputs; i++) {
		free(s->inputs[i].name);
		for (k = 0; k < s->inputs[i].ncat; k++)
			free(s->inputs[i].cats[k]);
		free(s->inputs[i].cats);
	}
	/* an input being loaded may hold a name with ninputs already counting it */
	free(s->inputs);
	for (i = 0; i < s->nclasses; i++)
		free(s->class_names[i]);
	free(s->class_names);
	free(s->class_values);
	for (i = 0; i < s->nid; i++)
		free(s->ids[i]);
	free(s->ids);
	free(s->label);
	free(s->feat);
	free(s);
}
