/*
 * profile.c — reference statistics of a dataset for drift detection (floor 2).
 *
 * A reference profile is computed from a whole table: per numeric input the count of
 * present values, the missing count, mean, population std, min, max, the 9 inner decile
 * edges (type-7 quantiles, numpy's default) with the count of values in each of the 10
 * bins, and 101 percentiles for approximate KS/Wasserstein comparisons; per categorical
 * input the count of each category of the training vocabulary. A profile of new data
 * (profile_new_like) keeps the reference's edges and categories and is fed one record at
 * a time, so its memory does not grow with the rows. A value v falls in bin k where k is
 * the number of edges <= v (numpy.searchsorted side="right"); both sides of a comparison
 * are binned by the same rule, which is what PSI needs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "profile.h"
#include "util.h"
#include "ymlio.h"
#include "banned.h"

#define NEDGES 9
#define NPCT 101

typedef struct prof_input {
	char *name;
	bool categorical;
	size_t count, missing, unseen;
	double mean, m2, min, max;      /* m2: sum of squared deviations (Welford) */
	size_t nedges;                  /* 0 (no values in the reference) or NEDGES */
	double edges[NEDGES];
	size_t bins[NEDGES + 1];
	size_t npct;                    /* reference only */
	double pct[NPCT];
	size_t ncat;
	char **cats;
	size_t *cat_counts;
} prof_input;

typedef enum { PRED_NONE = 0, PRED_CLASSES, PRED_VALUES } pred_kind;

struct mlctl_profile {
	size_t rows;
	size_t ninputs;
	prof_input *in;
	/* predictions */
	pred_kind pkind;
	size_t pcount, pother;
	size_t nclasses;
	char **class_names;
	double *class_values;
	size_t *class_counts;
	prof_input pv;                  /* regression predictions: statistics and deciles */
	/* column map of the reader last seen by profile_add_record */
	const ds_reader *bound;
	long *src;
};

/* ---- statistics --------------------------------------------------------------------- */

/* Type-7 quantile of sorted x[0..n) (numpy's "linear"), n > 0. */
static double quantile7(const double *x, size_t n, double p)
{
	double h = p * (double)(n - 1), t;
	size_t lo = (size_t)floor(h);

	if (lo + 1 >= n)
		return x[n - 1];
	t = h - (double)lo;
	/* numpy's lerp, which is exact at both ends */
	if (t >= 0.5)
		return x[lo + 1] - (x[lo + 1] - x[lo]) * (1 - t);
	return x[lo] + (x[lo + 1] - x[lo]) * t;
}

static size_t bin_of(const prof_input *pi, double v)
{
	size_t lo = 0, hi = pi->nedges;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pi->edges[mid] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void add_value(prof_input *pi, double v)
{
	double d;

	if (pi->count == 0 || v < pi->min)
		pi->min = v;
	if (pi->count == 0 || v > pi->max)
		pi->max = v;
	pi->count++;
	d = v - pi->mean;
	pi->mean += d / (double)pi->count;
	pi->m2 += d * (v - pi->mean);
	pi->bins[bin_of(pi, v)]++;
}

/* Edges and percentiles from all values (sorted here), then the streaming statistics. */
static void fit_values(prof_input *pi, double *v, size_t n)
{
	size_t i;

	qsort(v, n, sizeof(*v), mlctl_cmp_double);
	pi->nedges = n ? NEDGES : 0;
	for (i = 0; n && i < NEDGES; i++)
		pi->edges[i] = quantile7(v, n, (double)(i + 1) / 10.0);
	pi->npct = n ? NPCT : 0;
	for (i = 0; n && i < NPCT; i++)
		pi->pct[i] = quantile7(v, n, (double)i / 100.0);
	for (i = 0; i < n; i++)
		add_value(pi, v[i]);
}

static double input_std(const prof_input *pi)
{
	return pi->count ? sqrt(pi->m2 / (double)pi->count) : NAN;
}

/* ---- cells -------------------------------------------------------------------------- */

static bool parse_cell(const char *s, double *out)
{
	char buf[64];
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return mlctl_parse_double(buf, out) && isfinite(*out);
}

static long find_cat(const prof_input *pi, const char *s)
{
	size_t lo = 0, hi = pi->ncat, n;
	char buf[256];
	const char *key = s;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (s[n] != '\0') {
		if (n >= sizeof(buf))
			return -1; /* longer than any category worth binning */
		memcpy(buf, s, n);
		buf[n] = '\0';
		key = buf;
	} else {
		key = s;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(key, pi->cats[mid]);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* Count one cell of a categorical input. */
static void add_category(prof_input *pi, const char *text)
{
	long k;

	if (ds_is_missing(text)) {
		pi->missing++;
		k = find_cat(pi, "<missing>");
	} else {
		pi->count++;
		k = find_cat(pi, text);
		if (k < 0)
			pi->unseen++;
	}
	if (k >= 0)
		pi->cat_counts[k]++;
}

/* ---- building ----------------------------------------------------------------------- */

static int init_inputs(mlctl_profile *p, const mlctl_schema *s)
{
	size_t i, k;

	p->ninputs = schema_ninputs(s);
	p->in = mlctl_calloc(p->ninputs + 1, sizeof(*p->in));
	if (!p->in)
		return MLCTL_ENOMEM;
	for (i = 0; i < p->ninputs; i++) {
		prof_input *pi = &p->in[i];

		if (!(pi->name = mlctl_strdup(schema_input_name(s, i))))
			return MLCTL_ENOMEM;
		pi->categorical = schema_input_is_categorical(s, i);
		if (!pi->categorical)
			continue;
		pi->ncat = schema_input_ncategories(s, i);
		pi->cats = mlctl_calloc(pi->ncat + 1, sizeof(*pi->cats));
		pi->cat_counts = mlctl_calloc(pi->ncat + 1, sizeof(*pi->cat_counts));
		if (!pi->cats || !pi->cat_counts)
			return MLCTL_ENOMEM;
		for (k = 0; k < pi->ncat; k++)
			if (!(pi->cats[k] = mlctl_strdup(schema_input_category(s, i, k))))
				return MLCTL_ENOMEM;
	}
	return 0;
}

static int init_classes(mlctl_profile *p, const mlctl_schema *s)
{
	size_t k;

	p->pkind = schema_get_task(s) == SCHEMA_TASK_REGRESS ? PRED_VALUES : PRED_CLASSES;
	if (schema_get_task(s) == SCHEMA_TASK_ONECLASS) {
		/* one-class predictions are +1 (inlier) and -1 (outlier) */
		p->nclasses = 2;
		p->class_names = mlctl_calloc(2, sizeof(*p->class_names));
		p->class_values = mlctl_calloc(2, sizeof(*p->class_values));
		p->class_counts = mlctl_calloc(2, sizeof(*p->class_counts));
		if (!p->class_names || !p->class_values || !p->class_counts ||
		    !(p->class_names[0] = mlctl_strdup("-1")) || !(p->class_names[1] = mlctl_strdup("1")))
			return MLCTL_ENOMEM;
		p->class_values[0] = -1;
		p->class_values[1] = 1;
		return 0;
	}
	p->nclasses = schema_nclasses(s);
	p->class_names = mlctl_calloc(p->nclasses + 1, sizeof(*p->class_names));
	p->class_values = mlctl_calloc(p->nclasses + 1, sizeof(*p->class_values));
	p->class_counts = mlctl_calloc(p->nclasses + 1, sizeof(*p->class_counts));
	if (!p->class_names || !p->class_values || !p->class_counts)
		return MLCTL_ENOMEM;
	for (k = 0; k < p->nclasses; k++) {
		if (!(p->class_names[k] = mlctl_strdup(schema_class_name(s, k))))
			return MLCTL_ENOMEM;
		p->class_values[k] = schema_class_value(s, k);
	}
	return 0;
}

static int profile_numeric_column(prof_input *pi, const ds_table *t, long col,
				  const size_t *rows, size_t n)
{
	double *v = mlctl_calloc(n + 1, sizeof(*v));
	size_t i, nv = 0;

	if (!v)
		return MLCTL_ENOMEM;
	for (i = 0; i < n; i++) {
		size_t r = rows ? rows[i] : i;
		const char *cell = col < 0 ? "0" : ds_cell(t, r, col);

		if (ds_is_missing(cell)) {
			pi->missing++;
			continue;
		}
		if (!parse_cell(cell, &v[nv])) {
			free(v);
			return mlctl_error_set(MLCTL_EDATA, "%s:%zu: column \"%s\": \"%s\" is not a number",
					       t->path, t->lines[r], pi->name, cell);
		}
		nv++;
	}
	fit_values(pi, v, nv);
	free(v);
	return 0;
}

int profile_from_table(mlctl_profile **out, const ds_table *t, const mlctl_schema *s,
		       const size_t *rows, size_t n)
{
	mlctl_profile *p;
	size_t i, j;
	int ret;

	*out = NULL;
	if (!rows)
		n = t->nrows;
	p = mlctl_calloc(1, sizeof(*p));
	if (!p)
		return MLCTL_ENOMEM;
	if ((ret = init_inputs(p, s)) || (ret = init_classes(p, s)))
		goto out_free;
	for (i = 0; i < n; i++) {
		if ((rows ? rows[i] : i) >= t->nrows) {
			ret = mlctl_error_set(MLCTL_ERROR, "row %zu out of range", rows[i]);
			goto out_free;
		}
	}
	for (j = 0; j < p->ninputs; j++) {
		prof_input *pi = &p->in[j];
		long col = ds_table_col(t, pi->name);

		if (col < 0 && t->format != DS_FORMAT_LIBSVM) {
			ret = mlctl_error_set(MLCTL_EDATA, "column \"%s\" is missing from %s", pi->name, t->path);
			goto out_free;
		}
		if (!pi->categorical) {
			if ((ret = profile_numeric_column(pi, t, col, rows, n)))
				goto out_free;
			continue;
		}
		for (i = 0; i < n; i++)
			add_category(pi, col < 0 ? "0" : ds_cell(t, rows ? rows[i] : i, col));
	}
	p->rows = n;
	*out = p;
	return 0;
out_free:
	profile_free(p);
	return ret;
}

static int copy_input(prof_input *d, const prof_input *src)
{
	size_t k;

	memset(d, 0, sizeof(*d));
	d->categorical = src->categorical;
	d->nedges = src->nedges;
	memcpy(d->edges, src->edges, sizeof(d->edges));
	d->ncat = src->ncat;
	if (src->name && !(d->name = mlctl_strdup(src->name)))
		return MLCTL_ENOMEM;
	if (!src->categorical)
		return 0;
	d->cats = mlctl_calloc(d->ncat + 1, sizeof(*d->cats));
	d->cat_counts = mlctl_calloc(d->ncat + 1, sizeof(*d->cat_counts));
	if (!d->cats || !d->cat_counts)
		return MLCTL_ENOMEM;
	for (k = 0; k < d->ncat; k++)
		if (!(d->cats[k] = mlctl_strdup(src->cats[k])))
			return MLCTL_ENOMEM;
	return 0;
}

int profile_new_like(mlctl_profile **out, const mlctl_profile *ref)
{
	mlctl_profile *p;
	size_t i;
	int ret = MLCTL_ENOMEM;

	*out = NULL;
	p = mlctl_calloc(1, sizeof(*p));
	if (!p)
		return MLCTL_ENOMEM;
	p->in = mlctl_calloc(ref->ninputs + 1, sizeof(*p->in));
	if (!p->in)
		goto out_free;
	for (i = 0; i < ref->ninputs; i++) {
		p->ninputs++;
		if ((ret = copy_input(&p->in[i], &ref->in[i])))
			goto out_free;
	}
	p->pkind = ref->pkind;
	p->nclasses = ref->nclasses;
	p->class_names = mlctl_calloc(ref->nclasses + 1, sizeof(*p->class_names));
	p->class_values = mlctl_calloc(ref->nclasses + 1, sizeof(*p->class_values));
	p->class_counts = mlctl_calloc(ref->nclasses + 1, sizeof(*p->class_counts));
	if (!p->class_names || !p->class_values || !p->class_counts) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	for (i = 0; i < ref->nclasses; i++) {
		if (!(p->class_names[i] = mlctl_strdup(ref->class_names[i]))) {
			ret = MLCTL_ENOMEM;
			goto out_free;
		}
		p->class_values[i] = ref->class_values[i];
	}
	if ((ret = copy_input(&p->pv, &ref->pv)))
		goto out_free;
	*out = p;
	return 0;
out_free:
	profile_free(p);
	return ret;
}

/* Map the reader's columns to the inputs once per reader. */
static int bind_reader(mlctl_profile *p, const ds_reader *r)
{
	bool libsvm = ds_reader_format(r) == DS_FORMAT_LIBSVM;
	size_t i, c, nc = ds_reader_ncols(r);

	if (p->bound == r)
		return 0;
	free(p->src);
	p->bound = NULL;
	p->src = mlctl_calloc(p->ninputs + 1, sizeof(*p->src));
	if (!p->src)
		return MLCTL_ENOMEM;
	for (i = 0; i < p->ninputs; i++) {
		int64_t ix;

		p->src[i] = -1;
		if (libsvm && mlctl_parse_int64(p->in[i].name, 1, INT32_MAX, &ix))
			p->src[i] = (long)ix;
		for (c = 0; !libsvm && c < nc && p->src[i] < 0; c++)
			if (!strcmp(ds_reader_colname(r, c), p->in[i].name))
				p->src[i] = (long)c;
		if (p->src[i] < 0)
			return mlctl_error_set(MLCTL_EDATA, "column \"%s\" is missing from %s",
					       p->in[i].name, ds_reader_path(r));
	}
	p->bound = r;
	return 0;
}

static double sparse_value(const ds_record *rec, long ix)
{
	size_t i;

	for (i = 0; i < rec->nsparse && rec->index[i] <= ix; i++)
		if (rec->index[i] == ix)
			return rec->value[i];
	return 0;
}

int profile_add_record(mlctl_profile *p, const mlctl_schema *s, const ds_reader *r,
		       const ds_record *rec)
{
	bool libsvm = ds_reader_format(r) == DS_FORMAT_LIBSVM;
	size_t i;
	int ret;

	(void)s;
	if ((ret = bind_reader(p, r)))
		return ret;
	for (i = 0; i < p->ninputs; i++) {
		prof_input *pi = &p->in[i];
		char buf[32];
		const char *text;
		double v;

		if (libsvm) {
			v = sparse_value(rec, p->src[i]);
			if (!pi->categorical) {
				add_value(pi, v);
				continue;
			}
			text = mlctl_fmt_double(buf, v);
		} else {
			text = rec->fields[p->src[i]];
		}
		if (pi->categorical) {
			add_category(pi, text);
		} else if (ds_is_missing(text)) {
			pi->missing++;
		} else if (parse_cell(text, &v)) {
			add_value(pi, v);
		} else {
			return mlctl_error_set(MLCTL_EDATA, "%s:%zu: column \"%s\": \"%s\" is not a number",
					       ds_reader_path(r), rec->line, pi->name, text);
		}
	}
	p->rows++;
	return 0;
}

int profile_add_predictions(mlctl_profile *p, const mlctl_schema *s, const double *pred, size_t n)
{
	size_t i, k;
	double *v;

	(void)s;
	if (p->pkind == PRED_NONE)
		return mlctl_error_set(MLCTL_ERROR, "this profile has no prediction distribution");
	if (p->pkind == PRED_CLASSES) {
		for (i = 0; i < n; i++) {
			for (k = 0; k < p->nclasses && p->class_values[k] != pred[i]; k++)
				;
			if (k < p->nclasses)
				p->class_counts[k]++;
			else
				p->pother++;
		}
		p->pcount += n;
		return 0;
	}
	if (p->pv.nedges == 0 && p->pv.count == 0) {
		/* the reference: edges from this first batch of predictions */
		v = mlctl_calloc(n + 1, sizeof(*v));
		if (!v)
			return MLCTL_ENOMEM;
		memcpy(v, pred, n * sizeof(*v));
		fit_values(&p->pv, v, n);
		free(v);
	} else {
		for (i = 0; i < n; i++)
			add_value(&p->pv, pred[i]);
	}
	p->pcount += n;
	return 0;
}

size_t profile_rows(const mlctl_profile *p)
{
	return p->rows;
}

/* ---- reading ------------------------------------------------------------------------ */

size_t profile_ninputs(const mlctl_profile *p)
{
	return p->ninputs;
}

static void fill_stats(const prof_input *pi, profile_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->name = pi->name;
	out->categorical = pi->categorical;
	out->count = pi->count;
	out->missing = pi->missing;
	out->unseen = pi->unseen;
	out->mean = pi->count ? pi->mean : NAN;
	out->std = input_std(pi);
	out->min = pi->count ? pi->min : NAN;
	out->max = pi->count ? pi->max : NAN;
	out->nedges = pi->nedges;
	out->edges = pi->edges;
	out->bins = pi->bins;
	out->npercentiles = pi->npct;
	out->percentiles = pi->pct;
	out->ncategories = pi->ncat;
	out->categories = (const char *const *)pi->cats;
	out->category_counts = pi->cat_counts;
}

bool profile_input(const mlctl_profile *p, size_t i, profile_stats *out)
{
	if (i >= p->ninputs)
		return false;
	fill_stats(&p->in[i], out);
	return true;
}

bool profile_predictions(const mlctl_profile *p, profile_pred *out)
{
	memset(out, 0, sizeof(*out));
	if (p->pkind == PRED_NONE || p->pcount == 0)
		return false;
	out->count = p->pcount;
	out->is_classes = p->pkind == PRED_CLASSES;
	out->nclasses = p->nclasses;
	out->class_names = (const char *const *)p->class_names;
	out->class_counts = p->class_counts;
	out->other = p->pother;
	fill_stats(&p->pv, &out->values);
	return true;
}

/* ---- YAML --------------------------------------------------------------------------- */

static void save_doubles(ymlw *w, const char *key, const double *v, size_t n)
{
	size_t i;

	ymlw_plain(w, key);
	ymlw_seq(w, true);
	for (i = 0; i < n; i++)
		ymlw_num(w, v[i]);
	ymlw_seq_end(w);
}

static void save_sizes(ymlw *w, const char *key, const size_t *v, size_t n)
{
	size_t i;

	ymlw_plain(w, key);
	ymlw_seq(w, true);
	for (i = 0; i < n; i++)
		ymlw_size(w, v[i]);
	ymlw_seq_end(w);
}

/* The body of a numeric summary (shared by inputs and regression predictions). */
static void save_numeric(ymlw *w, const prof_input *pi)
{
	ymlw_knum(w, "mean", pi->count ? pi->mean : NAN);
	ymlw_knum(w, "std", input_std(pi));
	ymlw_knum(w, "min", pi->count ? pi->min : NAN);
	ymlw_knum(w, "max", pi->count ? pi->max : NAN);
	ymlw_knum(w, "m2", pi->m2);
	save_doubles(w, "edges", pi->edges, pi->nedges);
	save_sizes(w, "bins", pi->bins, pi->nedges + 1);
	if (pi->npct)
		save_doubles(w, "percentiles", pi->pct, pi->npct);
}

static void save_input(ymlw *w, const prof_input *pi)
{
	size_t k;

	ymlw_map(w);
	ymlw_kstr(w, "name", pi->name);
	ymlw_kplain(w, "type", pi->categorical ? "categorical" : "numeric");
	ymlw_ksize(w, "count", pi->count);
	ymlw_ksize(w, "missing", pi->missing);
	if (!pi->categorical) {
		save_numeric(w, pi);
	} else {
		ymlw_ksize(w, "unseen", pi->unseen);
		ymlw_plain(w, "categories");
		ymlw_seq(w, false);
		for (k = 0; k < pi->ncat; k++) {
			ymlw_map(w);
			ymlw_kstr(w, "value", pi->cats[k]);
			ymlw_ksize(w, "count", pi->cat_counts[k]);
			ymlw_map_end(w);
		}
		ymlw_seq_end(w);
	}
	ymlw_map_end(w);
}

int profile_save(char **out, size_t *len, const mlctl_profile *p)
{
	size_t i;
	ymlw w;

	ymlw_begin(&w);
	ymlw_map(&w);
	ymlw_ksize(&w, "profile_version", 1);
	ymlw_ksize(&w, "rows", p->rows);
	ymlw_plain(&w, "inputs");
	ymlw_seq(&w, false);
	for (i = 0; i < p->ninputs; i++)
		save_input(&w, &p->in[i]);
	ymlw_seq_end(&w);
	ymlw_plain(&w, "predictions");
	ymlw_map(&w);
	ymlw_kplain(&w, "kind", p->pkind == PRED_CLASSES ? "classes" :
		    p->pkind == PRED_VALUES ? "values" : "none");
	ymlw_ksize(&w, "count", p->pcount);
	if (p->pkind == PRED_CLASSES) {
		ymlw_ksize(&w, "other", p->pother);
		ymlw_plain(&w, "classes");
		ymlw_seq(&w, false);
		for (i = 0; i < p->nclasses; i++) {
			ymlw_map(&w);
			ymlw_kstr(&w, "name", p->class_names[i]);
			ymlw_knum(&w, "value", p->class_values[i]);
			ymlw_ksize(&w, "count", p->class_counts[i]);
			ymlw_map_end(&w);
		}
		ymlw_seq_end(&w);
	} else if (p->pkind == PRED_VALUES) {
		ymlw_ksize(&w, "values", p->pv.count);
		save_numeric(&w, &p->pv);
	}
	ymlw_map_end(&w);
	ymlw_map_end(&w);
	return ymlw_finish(&w, out, len);
}

static int load_doubles(ymlr *r, yaml_node_t *map, const char *key, double *v, size_t max,
			size_t *n)
{
	yaml_node_t *seq;
	size_t i;
	int ret;

	if ((ret = ymlr_kseq(r, map, key, &seq)))
		return ret;
	*n = ymlr_len(seq);
	if (*n > max)
		return ymlr_error(r, seq, "%s: %zu values, at most %zu expected", key, *n, max);
	for (i = 0; i < *n; i++)
		if ((ret = ymlr_num(r, ymlr_item(r, seq, i), key, &v[i])))
			return ret;
	return 0;
}

static int load_numeric(ymlr *r, yaml_node_t *n, prof_input *pi)
{
	yaml_node_t *seq;
	double b[NEDGES + 1];
	size_t i, nb;
	int ret;

	if ((ret = ymlr_knum(r, n, "mean", &pi->mean)) || (ret = ymlr_knum(r, n, "m2", &pi->m2)) ||
	    (ret = ymlr_knum(r, n, "min", &pi->min)) || (ret = ymlr_knum(r, n, "max", &pi->max)) ||
	    (ret = load_doubles(r, n, "edges", pi->edges, NEDGES, &pi->nedges)) ||
	    (ret = load_doubles(r, n, "bins", b, NEDGES + 1, &nb)))
		return ret;
	if (nb != pi->nedges + 1)
		return ymlr_error(r, n, "%zu bins for %zu edges", nb, pi->nedges);
	for (i = 0; i < nb; i++) {
		if (!(b[i] >= 0 && b[i] <= 1e18 && b[i] == floor(b[i])))
			return ymlr_error(r, n, "bins: %g is not a count", b[i]);
		pi->bins[i] = (size_t)b[i];
	}
	seq = ymlr_get(r, n, "percentiles");
	if (seq && (ret = load_doubles(r, n, "percentiles", pi->pct, NPCT, &pi->npct)))
		return ret;
	return 0;
}

static int load_input(ymlr *r, yaml_node_t *n, prof_input *pi)
{
	yaml_node_t *cats;
	const char *name, *type;
	size_t k;
	int ret;

	if ((ret = ymlr_map(r, n, "an input")) || (ret = ymlr_kstr(r, n, "name", &name)) ||
	    (ret = ymlr_kstr(r, n, "type", &type)) || (ret = ymlr_ksize(r, n, "count", &pi->count)) ||
	    (ret = ymlr_ksize(r, n, "missing", &pi->missing)))
		return ret;
	if (!(pi->name = mlctl_strdup(name)))
		return MLCTL_ENOMEM;
	pi->categorical = !strcmp(type, "categorical");
	if (!pi->categorical && strcmp(type, "numeric"))
		return ymlr_error(r, n, "input \"%s\": type \"%s\" is not numeric or categorical", name, type);
	if (!pi->categorical)
		return load_numeric(r, n, pi);
	if ((ret = ymlr_ksize(r, n, "unseen", &pi->unseen)) || (ret = ymlr_kseq(r, n, "categories", &cats)))
		return ret;
	pi->cats = mlctl_calloc(ymlr_len(cats) + 1, sizeof(*pi->cats));
	pi->cat_counts = mlctl_calloc(ymlr_len(cats) + 1, sizeof(*pi->cat_counts));
	if (!pi->cats || !pi->cat_counts)
		return MLCTL_ENOMEM;
	for (k = 0; k < ymlr_len(cats); k++) {
		yaml_node_t *c = ymlr_item(r, cats, k);
		const char *v;

		if ((ret = ymlr_map(r, c, "a category")) || (ret = ymlr_kstr(r, c, "value", &v)) ||
		    (ret = ymlr_ksize(r, c, "count", &pi->cat_counts[k])))
			return ret;
		if (!(pi->cats[k] = mlctl_strdup(v)))
			return MLCTL_ENOMEM;
		pi->ncat++;
		if (k && strcmp(pi->cats[k - 1], pi->cats[k]) >= 0)
			return ymlr_error(r, c, "input \"%s\": categories are not in sorted order", name);
	}
	return 0;
}

static int load_predictions(ymlr *r, yaml_node_t *root, mlctl_profile *p)
{
	yaml_node_t *n = ymlr_get(r, root, "predictions"), *seq;
	const char *kind;
	size_t i;
	int ret;

	if ((ret = ymlr_map(r, n, "predictions")) || (ret = ymlr_kstr(r, n, "kind", &kind)) ||
	    (ret = ymlr_ksize(r, n, "count", &p->pcount)))
		return ret;
	if (!strcmp(kind, "values")) {
		p->pkind = PRED_VALUES;
		if ((ret = ymlr_ksize(r, n, "values", &p->pv.count)))
			return ret;
		return load_numeric(r, n, &p->pv);
	}
	if (!strcmp(kind, "none"))
		return 0;
	if (strcmp(kind, "classes"))
		return ymlr_error(r, n, "unknown predictions kind \"%s\"", kind);
	p->pkind = PRED_CLASSES;
	if ((ret = ymlr_ksize(r, n, "other", &p->pother)) || (ret = ymlr_kseq(r, n, "classes", &seq)))
		return ret;
	p->class_names = mlctl_calloc(ymlr_len(seq) + 1, sizeof(*p->class_names));
	p->class_values = mlctl_calloc(ymlr_len(seq) + 1, sizeof(*p->class_values));
	p->class_counts = mlctl_calloc(ymlr_len(seq) + 1, sizeof(*p->class_counts));
	if (!p->class_names || !p->class_values || !p->class_counts)
		return MLCTL_ENOMEM;
	for (i = 0; i < ymlr_len(seq); i++) {
		yaml_node_t *c = ymlr_item(r, seq, i);
		const char *name;

		if ((ret = ymlr_map(r, c, "a class")) || (ret = ymlr_kstr(r, c, "name", &name)) ||
		    (ret = ymlr_knum(r, c, "value", &p->class_values[i])) ||
		    (ret = ymlr_ksize(r, c, "count", &p->class_counts[i])))
			return ret;
		if (!(p->class_names[i] = mlctl_strdup(name)))
			return MLCTL_ENOMEM;
		p->nclasses++;
	}
	return 0;
}

int profile_load(mlctl_profile **out, const char *yaml, size_t len, const char *origin)
{
	mlctl_profile *p;
	yaml_node_t *root, *seq;
	size_t version, i;
	ymlr r;
	int ret;

	*out = NULL;
	p = mlctl_calloc(1, sizeof(*p));
	if (!p)
		return MLCTL_ENOMEM;
	if ((ret = ymlr_load(&r, yaml, len, origin)))
		goto out_free;
	root = ymlr_root(&r);
	if ((ret = ymlr_map(&r, root, "the profile")) ||
	    (ret = ymlr_ksize(&r, root, "profile_version", &version)))
		goto out_free;
	if (version != 1) {
		ret = ymlr_error(&r, root, "profile_version %zu is not supported (expected 1)", version);
		goto out_free;
	}
	if ((ret = ymlr_ksize(&r, root, "rows", &p->rows)) || (ret = ymlr_kseq(&r, root, "inputs", &seq)))
		goto out_free;
	p->in = mlctl_calloc(ymlr_len(seq) + 1, sizeof(*p->in));
	if (!p->in) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	for (i = 0; i < ymlr_len(seq); i++) {
		p->ninputs++;
		if ((ret = load_input(&r, ymlr_item(&r, seq, i), &p->in[i])))
			goto out_free;
	}
	if ((ret = load_predictions(&r, root, p)))
		goto out_free;
	ymlr_free(&r);
	*out = p;
	return 0;
out_free:
	ymlr_free(&r);
	profile_free(p);
	return ret;
}

static void free_input(prof_input *pi)
{
	size_t k;

	free(pi->name);
	for (k = 0; k < pi->ncat; k++)
		free(pi->cats[k]);
	free(pi->cats);
	free(pi->cat_counts);
}

void profile_free(mlctl_profile *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->ninputs; i++)
		free_input(&p->in[i]);
	free(p->in);
	free_input(&p->pv);
	for (i = 0; i < p->nclasses; i++)
		free(p->class_names[i]);
	free(p->class_names);
	free(p->class_values);
	free(p->class_counts);
	free(p->src);
	free(p);
}
