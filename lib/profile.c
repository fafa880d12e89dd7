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
 *
 * Every numeric input (and regression predictions) also keeps a uniform sample of its
 * present values, for KS and Wasserstein on values rather than bins: algorithm R over a
 * reservoir of PROFILE_SAMPLE, on splitmix64 seeded from the input's index (and, for a
 * loaded profile, its count), so a profile is a function of its rows and their order; and
 * its distinct values with counts in a sorted array, exact up to PROFILE_DISTINCT values,
 * then dropped. Both are bounded, so streaming stays flat in memory. Profiles binned alike
 * merge (profile_merge): moments by Chan et al.'s pairwise update, reservoirs by a
 * hypergeometric draw of how many values each side gives.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "profile.h"
#include "rng.h"
#include "util.h"
#include "ymlio.h"
#include "banned.h"

#define NEDGES 9
_Static_assert(NEDGES < 16, "block_moments searches 16 padded edges");
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
	/* numeric, version 2: the reservoir and the distinct values */
	bool has_sample;
	size_t nseen;                   /* values offered to the reservoir */
	uint64_t rng;
	size_t nsample, sample_cap;
	double *sample;
	bool distinct_capped;
	size_t ndistinct, distinct_cap;
	double *dvals;                  /* ascending */
	size_t *dcounts;
	/* a batch profile counts its distinct values in a hash table (keys, counts; count 0
	 * is an empty slot) and sorts them into dvals by profile_batch_finish() */
	bool hashed, hdirty;
	double *hkeys;
	size_t *hcounts;
	/* a batch input stores its first values in the sample only, and counts them (moments,
	 * bins, distinct values) column by column when the batch is finished, where its hash
	 * table stays in cache: the last npending values of the sample are not counted yet */
	size_t npending;
} prof_input;

typedef enum { PRED_NONE = 0, PRED_CLASSES, PRED_VALUES } pred_kind;

struct mlctl_profile {
	int version;
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
	/* validation metrics of a reference */
	size_t nmetrics;
	char **metric_names;
	double *metric_values;
	char *metrics_source;
	/* column map of the reader last seen by profile_add_record */
	const ds_reader *bound;
	long *src;
	bool batch;                     /* profile_new_batch(): distinct values hashed */
	/* the schema of the cells last added, and per input whether its categories are this
	 * profile's, in the same order: then a cell's category position is the profile's */
	const mlctl_schema *cats_of;
	bool *cats_same;
	/* a batch's table of distinct values, lent to each input in turn at its end */
	double *tkeys;
	size_t *tcounts;
};

/* Slots of a batch's hash of distinct values: a power of two above twice
 * PROFILE_DISTINCT + 1, so that the table is less than half full when it is capped. */
#define HASH_SLOTS 2048
_Static_assert(HASH_SLOTS > 2 * (PROFILE_DISTINCT + 1), "HASH_SLOTS too small");

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

/* The number of edges <= v (the edges ascend): a count without branches, faster on 9
 * edges than a binary search whose every step is a coin toss for the branch predictor. */
static size_t bin_of(const prof_input *pi, double v)
{
	size_t k, n = 0;

	for (k = 0; k < pi->nedges; k++)
		n += pi->edges[k] <= v;
	return n;
}

/* The generator of input index i (the regression predictions are index ninputs) after
 * count values: a fixed constant mixed with both, so that two inputs never share a stream
 * and a loaded profile goes on deterministically. */
static uint64_t input_seed(size_t i, size_t count)
{
	uint64_t st = 0x70726f66696c6532ull ^ ((uint64_t)i * 0xd1b54a32d192ed03ull);

	st ^= rng_next(&st) ^ ((uint64_t)count * 0x9e3779b97f4a7c15ull);
	rng_next(&st);
	return st;
}

static void start_sample(prof_input *pi, size_t index)
{
	pi->has_sample = !pi->categorical;
	pi->rng = input_seed(index, pi->count);
	pi->nseen = pi->count;
}

static void drop_distinct(prof_input *pi)
{
	free(pi->dvals);
	free(pi->dcounts);
	pi->dvals = NULL;
	pi->dcounts = NULL;
	pi->ndistinct = pi->distinct_cap = 0;
}

static void drop_sample(prof_input *pi)
{
	free(pi->sample);
	pi->sample = NULL;
	pi->nsample = pi->sample_cap = 0;
	drop_distinct(pi);
	pi->distinct_capped = false;
	pi->has_sample = false;
}

/* Room for one more sample value: the reservoir grows by doubling up to PROFILE_SAMPLE. */
static int grow_sample(prof_input *pi)
{
	size_t n = pi->sample_cap ? 2 * pi->sample_cap : 64;
	double *nv;

	if (pi->nsample < pi->sample_cap)
		return 0;
	if (n > PROFILE_SAMPLE)
		n = PROFILE_SAMPLE;
	if (!(nv = mlctl_reallocarray(pi->sample, n, sizeof(*nv))))
		return MLCTL_ENOMEM;
	pi->sample = nv;
	pi->sample_cap = n;
	return 0;
}

/* Room for one more distinct value, doubling up to PROFILE_DISTINCT. */
static int grow_distinct(prof_input *pi)
{
	size_t n = pi->distinct_cap ? 2 * pi->distinct_cap : 16;
	double *nv;
	size_t *nc;

	if (pi->ndistinct < pi->distinct_cap)
		return 0;
	if (n > PROFILE_DISTINCT)
		n = PROFILE_DISTINCT;
	if (!(nv = mlctl_reallocarray(pi->dvals, n, sizeof(*nv))))
		return MLCTL_ENOMEM;
	pi->dvals = nv;
	if (!(nc = mlctl_reallocarray(pi->dcounts, n, sizeof(*nc))))
		return MLCTL_ENOMEM;
	pi->dcounts = nc;
	pi->distinct_cap = n;
	return 0;
}

/* Position of v in the sorted distinct values: its index when found, else where it goes. */
static size_t find_distinct(const prof_input *pi, double v, bool *found)
{
	const double *d = pi->dvals;
	size_t n = pi->ndistinct, lo = 0;

	if (!n) {
		*found = false;
		return 0;
	}
	/* a lower bound whose steps are masks, not branches: which way a step goes is a coin
	 * toss for the branch predictor */
	while (n > 1) {
		size_t half = n / 2;

		lo += half & ((size_t)0 - (size_t)(d[lo + half - 1] < v));
		n -= half;
	}
	lo += (size_t)(d[lo] < v);
	*found = lo < pi->ndistinct && pi->dvals[lo] == v;
	return lo;
}

/* hash_distinct() of v[0..n) in order, in one loop over a table: pi's own, or (keys and
 * counts given) one its profile lends it for the while. */
static int hash_values(prof_input *pi, double *keys, size_t *counts, const double *v, size_t n)
{
	size_t k, nd;

	if (!keys && !pi->hkeys) {
		pi->hkeys = mlctl_calloc(HASH_SLOTS, sizeof(*pi->hkeys));
		pi->hcounts = mlctl_calloc(HASH_SLOTS, sizeof(*pi->hcounts));
		if (!pi->hkeys || !pi->hcounts)
			return MLCTL_ENOMEM;
	}
	if (!keys) {
		keys = pi->hkeys;
		counts = pi->hcounts;
	}
	nd = pi->ndistinct;
	for (k = 0; k < n; k++) {
		double key = v[k] == 0 ? 0.0 : v[k];
		uint64_t bits;
		size_t h;

		memcpy(&bits, &key, sizeof(bits));
		h = (size_t)((bits * 0x9e3779b97f4a7c15ull) >> 53) & (HASH_SLOTS - 1);
		while (counts[h] && !(keys[h] == key))
			h = (h + 1) & (HASH_SLOTS - 1);
		if (counts[h]) {
			counts[h]++;
			continue;
		}
		if (nd == PROFILE_DISTINCT) {
			pi->distinct_capped = true;
			memset(counts, 0, HASH_SLOTS * sizeof(*counts));
			pi->hdirty = false;
			pi->ndistinct = 0;
			return 0;
		}
		keys[h] = v[k]; /* as hash_distinct() keeps it: the sign of a first zero too */
		counts[h] = 1;
		pi->hdirty = true;
		nd++;
	}
	pi->ndistinct = nd;
	return 0;
}

/* Count v in the batch's hash (ndistinct counts the keys), capped as count_distinct is. */
static int hash_distinct(prof_input *pi, double v)
{
	uint64_t bits;
	size_t h;
	double key = v == 0 ? 0.0 : v; /* -0 and 0 are one value, as == says */

	if (!pi->hkeys) {
		pi->hkeys = mlctl_calloc(HASH_SLOTS, sizeof(*pi->hkeys));
		pi->hcounts = mlctl_calloc(HASH_SLOTS, sizeof(*pi->hcounts));
		if (!pi->hkeys || !pi->hcounts)
			return MLCTL_ENOMEM;
	}
	memcpy(&bits, &key, sizeof(bits));
	h = (size_t)((bits * 0x9e3779b97f4a7c15ull) >> 53) & (HASH_SLOTS - 1);
	while (pi->hcounts[h] && !(pi->hkeys[h] == v))
		h = (h + 1) & (HASH_SLOTS - 1);
	if (pi->hcounts[h]) {
		pi->hcounts[h]++;
		return 0;
	}
	if (pi->ndistinct == PROFILE_DISTINCT) {
		pi->distinct_capped = true;
		memset(pi->hcounts, 0, HASH_SLOTS * sizeof(*pi->hcounts));
		pi->hdirty = false;
		pi->ndistinct = 0;
		return 0;
	}
	pi->hkeys[h] = v;
	pi->hcounts[h] = 1;
	pi->hdirty = true;
	pi->ndistinct++;
	return 0;
}

static int count_distinct(prof_input *pi, double v)
{
	bool found;
	size_t k;

	if (pi->distinct_capped)
		return 0;
	if (pi->hashed)
		return hash_distinct(pi, v);
	k = find_distinct(pi, v, &found);
	if (found) {
		pi->dcounts[k]++;
		return 0;
	}
	if (pi->ndistinct == PROFILE_DISTINCT) {
		/* one more than the cap: the list says nothing exact any more */
		pi->distinct_capped = true;
		drop_distinct(pi);
		return 0;
	}
	if (grow_distinct(pi))
		return MLCTL_ENOMEM;
	memmove(&pi->dvals[k + 1], &pi->dvals[k], (pi->ndistinct - k) * sizeof(*pi->dvals));
	memmove(&pi->dcounts[k + 1], &pi->dcounts[k], (pi->ndistinct - k) * sizeof(*pi->dcounts));
	pi->dvals[k] = v;
	pi->dcounts[k] = 1;
	pi->ndistinct++;
	return 0;
}

/* Offer a present value to the reservoir (algorithm R) and to the distinct values. */
static int observe(prof_input *pi, double v)
{
	size_t t = pi->nseen++;

	if (!pi->has_sample)
		return 0;
	if (t < PROFILE_SAMPLE) {
		if (grow_sample(pi))
			return MLCTL_ENOMEM;
		pi->sample[pi->nsample++] = v;
	} else {
		size_t j = rng_below(&pi->rng, t + 1);

		if (j < PROFILE_SAMPLE)
			pi->sample[j] = v;
	}
	return count_distinct(pi, v);
}

static void add_moments(prof_input *pi, double v)
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

/*
 * The moments, range and bins of v[0..n) into an input that has counted nothing: the same
 * as add_moments() value by value, up to rounding (mean and m2 from two passes, m2 with
 * its rounding error taken out, rather than Welford's updates), in loops without a
 * division or a branch per value. Each value's bin (the number of edges at or below it, as
 * bin_of() counts) by a branch-free binary search, when the edges ascend (they do: deciles).
 */
static void block_moments(prof_input *pi, const double *v, size_t n)
{
	double sum = 0, mean, m2 = 0, dsum = 0, lo, hi, e16[16];
	size_t k, e;
	bool sorted = true;

	if (!n)
		return;
	lo = hi = v[0];
	for (k = 0; k < n; k++) {
		sum += v[k];
		lo = v[k] < lo ? v[k] : lo;
		hi = v[k] > hi ? v[k] : hi;
	}
	mean = sum / (double)n;
	for (k = 0; k < n; k++) {
		double d = v[k] - mean;

		m2 += d * d;
		dsum += d;
	}
	pi->count = n;
	pi->mean = mean;
	pi->m2 = m2 - dsum * dsum / (double)n;
	if (pi->m2 < 0)
		pi->m2 = 0;
	pi->min = lo;
	pi->max = hi;
	for (e = 1; e < pi->nedges; e++)
		sorted = sorted && pi->edges[e - 1] <= pi->edges[e];
	if (!sorted) {
		for (k = 0; k < n; k++)
			pi->bins[bin_of(pi, v[k])]++;
		return;
	}
	/* the edges padded to 16 with +inf, then a search without branches: the number of
	 * edges at or below v in four steps */
	for (e = 0; e < 16; e++)
		e16[e] = e < pi->nedges ? pi->edges[e] : INFINITY;
	for (k = 0; k < n; k++) {
		size_t b = 0;
		double x = v[k];

		b += (size_t)(e16[b + 7] <= x) << 3;
		b += (size_t)(e16[b + 3] <= x) << 2;
		b += (size_t)(e16[b + 1] <= x) << 1;
		b += (size_t)(e16[b] <= x);
		pi->bins[b]++;
	}
}

/* Count the batch's values that add_value() only stored, in their order: the same
 * statistics as counting each as it came. */
static int count_stored(prof_input *pi, double *keys, size_t *counts)
{
	size_t k, from = pi->nsample - pi->npending;
	int ret;

	if (from == 0 && pi->count == 0)
		block_moments(pi, pi->sample, pi->nsample);
	else
		for (k = from; k < pi->nsample; k++)
			add_moments(pi, pi->sample[k]);
	pi->npending = 0;
	if (pi->hashed && !pi->distinct_capped)
		return hash_values(pi, keys, counts, pi->sample + from, pi->nsample - from);
	for (k = from; k < pi->nsample; k++)
		if ((ret = count_distinct(pi, pi->sample[k])))
			return ret;
	return 0;
}

static inline int add_value(prof_input *pi, double v)
{
	int ret;

	if (pi->hashed && pi->has_sample && pi->nseen < PROFILE_SAMPLE) {
		/* the sample still holds every value in order: store it, count it later */
		if (grow_sample(pi))
			return MLCTL_ENOMEM;
		pi->sample[pi->nsample++] = v;
		pi->nseen++;
		pi->npending++;
		return 0;
	}
	if (pi->npending && (ret = count_stored(pi, NULL, NULL)))
		return ret;
	add_moments(pi, v);
	return observe(pi, v);
}

/* The sample in the values' order, then edges and percentiles from all values (sorted
 * here), then the streaming statistics. */
static int fit_values(prof_input *pi, double *v, size_t n)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++)
		if ((ret = observe(pi, v[i])))
			return ret;
	qsort(v, n, sizeof(*v), mlctl_cmp_double);
	pi->nedges = n ? NEDGES : 0;
	for (i = 0; n && i < NEDGES; i++)
		pi->edges[i] = quantile7(v, n, (double)(i + 1) / 10.0);
	pi->npct = n ? NPCT : 0;
	for (i = 0; n && i < NPCT; i++)
		pi->pct[i] = quantile7(v, n, (double)i / 100.0);
	for (i = 0; i < n; i++)
		add_moments(pi, v[i]);
	return 0;
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
		start_sample(pi, i);
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
	start_sample(&p->pv, p->ninputs);
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
	int ret;

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
	ret = fit_values(pi, v, nv);
	free(v);
	return ret;
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
	p->version = 2;
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

/* An empty input binned as src (input index i), with a fresh sample. */
static int copy_input(prof_input *d, const prof_input *src, size_t i)
{
	size_t k;

	memset(d, 0, sizeof(*d));
	d->categorical = src->categorical;
	start_sample(d, i);
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
	p->version = 2;
	p->in = mlctl_calloc(ref->ninputs + 1, sizeof(*p->in));
	if (!p->in)
		goto out_free;
	for (i = 0; i < ref->ninputs; i++) {
		p->ninputs++;
		if ((ret = copy_input(&p->in[i], &ref->in[i], i)))
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
	if ((ret = copy_input(&p->pv, &ref->pv, ref->ninputs)))
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
				if ((ret = add_value(pi, v)))
					return ret;
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
			if ((ret = add_value(pi, v)))
				return ret;
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
	int ret = 0;

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
		ret = fit_values(&p->pv, v, n);
		free(v);
	} else {
		for (i = 0; i < n && !ret; i++)
			ret = add_value(&p->pv, pred[i]);
	}
	p->pcount += n;
	return ret;
}

/* Whether a cell is missing: no text and no number, or a missing marker. */
static bool cell_missing(const schema_cell *c)
{
	return !c->has_num && (!c->text || ds_is_missing(c->text));
}

/* Check a cell of input pi before anything is counted; its number in *v (numeric). */
static int check_cell(const prof_input *pi, const schema_cell *c, double *v)
{
	if (c->has_num && !isfinite(c->num))
		return mlctl_error_set(MLCTL_EDATA, "column \"%s\": %g is not a finite number", pi->name, c->num);
	if (pi->categorical || cell_missing(c))
		return 0;
	if (c->has_num)
		*v = c->num;
	else if (!parse_cell(c->text, v))
		return mlctl_error_set(MLCTL_EDATA, "column \"%s\": \"%s\" is not a number", pi->name, c->text);
	return 0;
}

/* Whether check_cell() has nothing to say: a number that is finite (what the transform
 * gives for a numeric cell it parsed), or a category it looked up. */
static inline bool cell_plain(const prof_input *pi, const schema_cell *c)
{
	return c->has_num ? isfinite(c->num) : pi->categorical && c->cat_state;
}

/* Whether each categorical input of s has the categories of p's, in p's order. */
static int bind_categories(mlctl_profile *p, const mlctl_schema *s)
{
	size_t i, k;

	if (!p->cats_same && !(p->cats_same = mlctl_calloc(p->ninputs + 1, sizeof(*p->cats_same))))
		return MLCTL_ENOMEM;
	for (i = 0; i < p->ninputs; i++) {
		const prof_input *pi = &p->in[i];
		bool same = pi->categorical && schema_input_ncategories(s, i) == pi->ncat;

		for (k = 0; same && k < pi->ncat; k++)
			same = !strcmp(schema_input_category(s, i, k), pi->cats[k]);
		p->cats_same[i] = same;
	}
	p->cats_of = s;
	return 0;
}

/* Count a categorical cell whose category the transform looked up already. */
static void add_looked_up(prof_input *pi, const schema_cell *c)
{
	if (c->cat_state == SCHEMA_CAT_MISSING) {
		pi->missing++;
	} else {
		pi->count++;
		if (c->cat < 0)
			pi->unseen++;
	}
	if (c->cat >= 0 && (size_t)c->cat < pi->ncat)
		pi->cat_counts[c->cat]++;
}

int profile_add_cells(mlctl_profile *p, const mlctl_schema *s, const schema_cell *cells)
{
	size_t i;
	double v;
	int ret;

	if (schema_ninputs(s) != p->ninputs)
		return mlctl_error_set(MLCTL_EUSAGE, "a row of %zu cells for a profile of %zu inputs",
				       schema_ninputs(s), p->ninputs);
	if (p->cats_of != s && (ret = bind_categories(p, s)))
		return ret;
	for (i = 0; i < p->ninputs; i++)
		if (!cell_plain(&p->in[i], &cells[i]) && (ret = check_cell(&p->in[i], &cells[i], &v)))
			return ret;
	for (i = 0; i < p->ninputs; i++) {
		prof_input *pi = &p->in[i];
		const schema_cell *c = &cells[i];
		char buf[32];

		if (!pi->categorical && c->has_num) {
			if ((ret = add_value(pi, c->num)))
				return ret;
		} else if (pi->categorical && c->cat_state && p->cats_same[i]) {
			add_looked_up(pi, c);
		} else if (pi->categorical) {
			add_category(pi, c->has_num ? mlctl_fmt_double(buf, c->num) : c->text ? c->text : "");
		} else if (cell_missing(c)) {
			pi->missing++;
		} else {
			check_cell(pi, c, &v);
			if ((ret = add_value(pi, v)))
				return ret;
		}
	}
	p->rows++;
	return 0;
}

size_t profile_rows(const mlctl_profile *p)
{
	return p->rows;
}

int profile_version(const mlctl_profile *p)
{
	return p->version;
}

/* ---- merging ------------------------------------------------------------------------ */

/* Whether two inputs are binned alike; else MLCTL_EUSAGE saying how they differ. */
static int check_like(const prof_input *a, const prof_input *b, const char *what)
{
	size_t k;

	if (strcmp(a->name ? a->name : "", b->name ? b->name : ""))
		return mlctl_error_set(MLCTL_EUSAGE, "profiles differ: %s is \"%s\" in one and \"%s\" in the other",
				       what, a->name ? a->name : "", b->name ? b->name : "");
	if (a->categorical != b->categorical)
		return mlctl_error_set(MLCTL_EUSAGE, "profiles differ: %s is %s in one and %s in the other", what,
				       a->categorical ? "categorical" : "numeric", b->categorical ? "categorical" : "numeric");
	if (a->nedges != b->nedges || memcmp(a->edges, b->edges, a->nedges * sizeof(*a->edges)))
		return mlctl_error_set(MLCTL_EUSAGE, "profiles differ: %s has other decile edges", what);
	if (a->ncat != b->ncat)
		return mlctl_error_set(MLCTL_EUSAGE, "profiles differ: %s has %zu categories in one and %zu in the other",
				       what, a->ncat, b->ncat);
	for (k = 0; k < a->ncat; k++)
		if (strcmp(a->cats[k], b->cats[k]))
			return mlctl_error_set(MLCTL_EUSAGE, "profiles differ: %s: category \"%s\" in one, \"%s\" in the other",
					       what, a->cats[k], b->cats[k]);
	return 0;
}

static int check_profiles_like(const mlctl_profile *a, const mlctl_profile *b)
{
	char what[64];
	size_t i;
	int ret;

	if (a->ninputs != b->ninputs)
		return mlctl_error_set(MLCTL_EUSAGE, "profiles differ: %zu inputs in one and %zu in the other",
				       a->ninputs, b->ninputs);
	for (i = 0; i < a->ninputs; i++) {
		snprintf(what, sizeof(what), "input %zu", i + 1);
		if ((ret = check_like(&a->in[i], &b->in[i], what)))
			return ret;
	}
	if (a->pkind != b->pkind)
		return mlctl_error_set(MLCTL_EUSAGE, "profiles differ: the kind of predictions");
	if (a->pkind == PRED_VALUES)
		return check_like(&a->pv, &b->pv, "the predictions");
	if (a->nclasses != b->nclasses)
		return mlctl_error_set(MLCTL_EUSAGE, "profiles differ: %zu classes in one and %zu in the other",
				       a->nclasses, b->nclasses);
	for (i = 0; i < a->nclasses; i++)
		if (strcmp(a->class_names[i], b->class_names[i]) || a->class_values[i] != b->class_values[i])
			return mlctl_error_set(MLCTL_EUSAGE, "profiles differ: class %zu is \"%s\" in one and \"%s\" in the other",
					       i + 1, a->class_names[i], b->class_names[i]);
	return 0;
}

/* k values drawn without replacement from v[0..n) into out (Fisher-Yates on a copy). */
static int draw(double *out, const double *v, size_t n, size_t k, uint64_t *st)
{
	double *tmp = mlctl_calloc(n + 1, sizeof(*tmp));
	size_t i;

	if (!tmp)
		return MLCTL_ENOMEM;
	if (n)
		memcpy(tmp, v, n * sizeof(*tmp));
	for (i = 0; i < k; i++) {
		size_t j = i + rng_below(st, n - i);
		double t = tmp[i];

		tmp[i] = tmp[j];
		tmp[j] = t;
		out[i] = tmp[i];
	}
	free(tmp);
	return 0;
}

/*
 * a's sample becomes a uniform sample of both sides' values. Drawing k of the union's
 * na + nb values without replacement takes ka from a's values with the hypergeometric
 * law; simulating the k draws one at a time gives it exactly. Each reservoir is a uniform
 * sample of its side, and ka <= min(na, PROFILE_SAMPLE) = a's sample size, so ka uniform
 * picks from a's sample (and k - ka from b's) are a uniform sample of the union.
 */
static int merge_samples(prof_input *a, const prof_input *b, size_t index)
{
	size_t na = a->nseen, nb = b->nseen, k = na + nb, ka = 0, i, ra = na, rb = nb;
	uint64_t st = input_seed(index, na) ^ input_seed(index + 1, nb);
	double *out;
	int ret;

	if (k > PROFILE_SAMPLE)
		k = PROFILE_SAMPLE;
	for (i = 0; i < k; i++) {
		if (rng_below(&st, ra + rb) < ra) {
			ka++;
			ra--;
		} else {
			rb--;
		}
	}
	if (!(out = mlctl_calloc(k + 1, sizeof(*out))))
		return MLCTL_ENOMEM;
	if ((ret = draw(out, a->sample, a->nsample, ka, &st)) ||
	    (ret = draw(out + ka, b->sample, b->nsample, k - ka, &st))) {
		free(out);
		return ret;
	}
	free(a->sample);
	a->sample = out;
	a->nsample = a->sample_cap = k;
	return 0;
}

/* The union of two sorted distinct lists into a's, counts added; capped beyond the cap. */
static int merge_distinct(prof_input *a, const prof_input *b)
{
	size_t i = 0, j = 0, n = 0, cap = a->ndistinct + b->ndistinct;
	double *v;
	size_t *c;

	if (a->distinct_capped || b->distinct_capped) {
		a->distinct_capped = true;
		drop_distinct(a);
		return 0;
	}
	v = mlctl_calloc(cap + 1, sizeof(*v));
	c = mlctl_calloc(cap + 1, sizeof(*c));
	if (!v || !c) {
		free(v);
		free(c);
		return MLCTL_ENOMEM;
	}
	while (i < a->ndistinct || j < b->ndistinct) {
		if (j == b->ndistinct || (i < a->ndistinct && a->dvals[i] < b->dvals[j])) {
			v[n] = a->dvals[i];
			c[n++] = a->dcounts[i++];
		} else if (i == a->ndistinct || b->dvals[j] < a->dvals[i]) {
			v[n] = b->dvals[j];
			c[n++] = b->dcounts[j++];
		} else {
			v[n] = a->dvals[i];
			c[n++] = a->dcounts[i++] + b->dcounts[j++];
		}
	}
	drop_distinct(a);
	if (n > PROFILE_DISTINCT) {
		free(v);
		free(c);
		a->distinct_capped = true;
		return 0;
	}
	a->dvals = v;
	a->dcounts = c;
	a->ndistinct = n;
	a->distinct_cap = cap + 1;
	return 0;
}

/* The moments, range and bin counts of a numeric input after b's n - a->count values join
 * a's (Chan, Golub and LeVeque's pairwise update for the variance). */
static void merge_moments(prof_input *a, const prof_input *b, size_t n)
{
	size_t k;

	if (b->count) {
		double d = b->mean - a->mean;

		a->m2 += b->m2 + d * d * ((double)a->count * (double)b->count / (double)n);
		a->mean += d * ((double)b->count / (double)n);
		if (!a->count || b->min < a->min)
			a->min = b->min;
		if (!a->count || b->max > a->max)
			a->max = b->max;
		a->npct = 0;
	}
	a->count = n;
	for (k = 0; k <= a->nedges; k++)
		a->bins[k] += b->bins[k];
}

static int merge_input(prof_input *a, const prof_input *b, size_t index)
{
	size_t k, n = a->count + b->count;
	int ret;

	a->missing += b->missing;
	a->unseen += b->unseen;
	if (a->categorical) {
		a->count = n;
		for (k = 0; k < a->ncat; k++)
			a->cat_counts[k] += b->cat_counts[k];
		return 0;
	}
	if (!a->has_sample || !b->has_sample) {
		drop_sample(a);
	} else if ((ret = merge_samples(a, b, index)) || (ret = merge_distinct(a, b))) {
		return ret;
	}
	a->nseen += b->nseen;
	merge_moments(a, b, n);
	return 0;
}

int profile_merge(mlctl_profile *into, const mlctl_profile *other)
{
	size_t i;
	int ret;

	if ((ret = check_profiles_like(into, other)))
		return ret;
	for (i = 0; i < into->ninputs; i++)
		if ((ret = merge_input(&into->in[i], &other->in[i], i)))
			return ret;
	if (into->pkind == PRED_VALUES && (ret = merge_input(&into->pv, &other->pv, into->ninputs)))
		return ret;
	for (i = 0; i < into->nclasses; i++)
		into->class_counts[i] += other->class_counts[i];
	into->pcount += other->pcount;
	into->pother += other->pother;
	into->rows += other->rows;
	if (other->version < into->version)
		into->version = other->version;
	return 0;
}

/* ---- appending a batch -------------------------------------------------------------- */

/* Empty input i again, binned as before, keeping its buffers. */
static void reset_input(prof_input *pi, size_t i)
{
	if (pi->hdirty && pi->hcounts)
		memset(pi->hcounts, 0, HASH_SLOTS * sizeof(*pi->hcounts));
	pi->hdirty = false;
	pi->count = pi->missing = pi->unseen = 0;
	pi->mean = pi->m2 = pi->min = pi->max = 0;
	memset(pi->bins, 0, sizeof(pi->bins));
	pi->npct = 0;
	if (pi->cat_counts)
		memset(pi->cat_counts, 0, pi->ncat * sizeof(*pi->cat_counts));
	pi->nsample = 0;
	pi->npending = 0;
	pi->ndistinct = 0;
	pi->distinct_capped = false;
	start_sample(pi, i);
}

int profile_new_batch(mlctl_profile **out, const mlctl_profile *reference)
{
	size_t i;
	int ret = profile_new_like(out, reference);

	if (ret)
		return ret;
	(*out)->batch = true;
	for (i = 0; i < (*out)->ninputs; i++)
		(*out)->in[i].hashed = !(*out)->in[i].categorical;
	return 0;
}

typedef struct dpair {
	double v;
	size_t c;
} dpair;

static int dpair_cmp(const void *a, const void *b)
{
	double x = ((const dpair *)a)->v, y = ((const dpair *)b)->v;

	return (x > y) - (x < y);
}

/* The distinct values hashed in keys and counts into pi's sorted list; the table emptied. */
static int table_to_list(prof_input *pi, const double *keys, size_t *counts)
{
	dpair *pairs;
	size_t h, n = 0, k, cap = pi->ndistinct;

	if (!(pairs = mlctl_calloc(cap + 1, sizeof(*pairs))))
		return MLCTL_ENOMEM;
	for (h = 0; h < HASH_SLOTS; h++)
		if (counts[h]) {
			pairs[n].v = keys[h];
			pairs[n++].c = counts[h];
			counts[h] = 0;
		}
	pi->hdirty = false;
	qsort(pairs, n, sizeof(*pairs), dpair_cmp);
	/* room for n (grow_distinct doubles when the list is full) */
	for (pi->ndistinct = pi->distinct_cap; pi->distinct_cap < n; pi->ndistinct = pi->distinct_cap)
		if (grow_distinct(pi)) {
			free(pairs);
			return MLCTL_ENOMEM;
		}
	for (k = 0; k < n; k++) {
		pi->dvals[k] = pairs[k].v;
		pi->dcounts[k] = pairs[k].c;
	}
	pi->ndistinct = n;
	free(pairs);
	return 0;
}

/* The hashed distinct values of pi into its sorted list; the hash emptied. */
static int finish_distinct(prof_input *pi)
{
	if (!pi->hashed || !pi->hdirty || pi->distinct_capped)
		return 0;
	return table_to_list(pi, pi->hkeys, pi->hcounts);
}

/*
 * Count what each input only stored. An input whose values all wait here (no value came
 * past the sample, so nothing was hashed as it came) is hashed in the profile's one table,
 * then listed and the table emptied before the next input: one table that stays in cache
 * rather than one per input.
 */
int profile_batch_finish(mlctl_profile *p)
{
	size_t i;
	int ret;

	for (i = 0; i < p->ninputs; i++) {
		prof_input *pi = &p->in[i];

		if (pi->npending && pi->hashed && !pi->hdirty && !pi->distinct_capped) {
			if (!p->tkeys && (!(p->tkeys = mlctl_calloc(HASH_SLOTS, sizeof(*p->tkeys))) ||
					  !(p->tcounts = mlctl_calloc(HASH_SLOTS, sizeof(*p->tcounts)))))
				return MLCTL_ENOMEM;
			if ((ret = count_stored(pi, p->tkeys, p->tcounts)))
				return ret;
			if (!pi->distinct_capped && (ret = table_to_list(pi, p->tkeys, p->tcounts)))
				return ret;
			continue;
		}
		if ((pi->npending && (ret = count_stored(pi, NULL, NULL))) || (ret = finish_distinct(pi)))
			return ret;
	}
	return 0;
}

void profile_reset(mlctl_profile *p, const mlctl_profile *into)
{
	size_t i;

	for (i = 0; i < p->ninputs; i++) {
		reset_input(&p->in[i], i);
		/* into has more distinct values than it keeps: so will it after this batch,
		 * whatever the batch's are, so they need not be counted */
		if (into && i < into->ninputs && into->in[i].distinct_capped) {
			drop_distinct(&p->in[i]);
			p->in[i].distinct_capped = true;
		}
	}
	reset_input(&p->pv, p->ninputs);
	if (p->class_counts)
		memset(p->class_counts, 0, p->nclasses * sizeof(*p->class_counts));
	p->rows = p->pcount = p->pother = 0;
}

/* b's values after a's, as if observed one by one: algorithm R goes on over b's sample,
 * which holds all of b's values in their order (b->nseen <= PROFILE_SAMPLE). */
static int append_sample(prof_input *a, const prof_input *b)
{
	size_t k;

	for (k = 0; k < b->nsample; k++) {
		size_t t = a->nseen++;

		if (t < PROFILE_SAMPLE) {
			if (grow_sample(a))
				return MLCTL_ENOMEM;
			a->sample[a->nsample++] = b->sample[k];
		} else {
			size_t j = rng_below(&a->rng, t + 1);

			if (j < PROFILE_SAMPLE)
				a->sample[j] = b->sample[k];
		}
	}
	return merge_distinct(a, b);
}

static int append_input(prof_input *a, const prof_input *b)
{
	size_t n = a->count + b->count;
	int ret;

	if (a->categorical || !a->has_sample || !b->has_sample)
		return MLCTL_ERROR; /* profile_append checked */
	a->missing += b->missing;
	a->unseen += b->unseen;
	if ((ret = append_sample(a, b)))
		return ret;
	merge_moments(a, b, n);
	return 0;
}

/* Whether input b can be appended: a numeric input with a sample holding all its values. */
static bool appendable(const prof_input *a, const prof_input *b)
{
	return a->categorical || (a->has_sample && b->has_sample && b->nsample == b->nseen);
}

int profile_append(mlctl_profile *into, const mlctl_profile *batch)
{
	size_t i, k;
	int ret;

	if ((ret = check_profiles_like(into, batch)))
		return ret;
	for (i = 0; i < into->ninputs; i++)
		if (!appendable(&into->in[i], &batch->in[i]))
			return mlctl_error_set(MLCTL_EUSAGE, "profile_append: input %zu keeps no sample of every value",
					       i + 1);
	if (into->pkind == PRED_VALUES && batch->pv.nseen && !appendable(&into->pv, &batch->pv))
		return mlctl_error_set(MLCTL_EUSAGE, "profile_append: the predictions keep no sample of every value");
	for (i = 0; i < into->ninputs; i++) {
		prof_input *a = &into->in[i];
		const prof_input *b = &batch->in[i];

		if (!a->categorical) {
			if ((ret = append_input(a, b)))
				return ret;
			continue;
		}
		a->count += b->count;
		a->missing += b->missing;
		a->unseen += b->unseen;
		for (k = 0; k < a->ncat; k++)
			a->cat_counts[k] += b->cat_counts[k];
	}
	if (into->pkind == PRED_VALUES && batch->pv.nseen && (ret = append_input(&into->pv, &batch->pv)))
		return ret;
	for (i = 0; i < into->nclasses; i++)
		into->class_counts[i] += batch->class_counts[i];
	into->pcount += batch->pcount;
	into->pother += batch->pother;
	into->rows += batch->rows;
	return 0;
}

/* ---- metrics ------------------------------------------------------------------------ */

int profile_set_metrics(mlctl_profile *p, const char *const *names, const double *values, size_t n)
{
	char **nn = mlctl_calloc(n + 1, sizeof(*nn));
	double *nv = mlctl_calloc(n + 1, sizeof(*nv));
	size_t i;

	if (!nn || !nv)
		goto out_nomem;
	for (i = 0; i < n; i++) {
		if (!(nn[i] = mlctl_strdup(names[i])))
			goto out_nomem;
		nv[i] = values[i];
	}
	for (i = 0; i < p->nmetrics; i++)
		free(p->metric_names[i]);
	free(p->metric_names);
	free(p->metric_values);
	p->metric_names = nn;
	p->metric_values = nv;
	p->nmetrics = n;
	return 0;
out_nomem:
	for (i = 0; nn && i < n; i++)
		free(nn[i]);
	free(nn);
	free(nv);
	return MLCTL_ENOMEM;
}

int profile_set_metrics_source(mlctl_profile *p, const char *source)
{
	char *s = NULL;

	if (source && !(s = mlctl_strdup(source)))
		return MLCTL_ENOMEM;
	free(p->metrics_source);
	p->metrics_source = s;
	return 0;
}

size_t profile_nmetrics(const mlctl_profile *p)
{
	return p->nmetrics;
}

const char *profile_metric_name(const mlctl_profile *p, size_t i)
{
	return i < p->nmetrics ? p->metric_names[i] : NULL;
}

double profile_metric_value(const mlctl_profile *p, size_t i)
{
	return i < p->nmetrics ? p->metric_values[i] : NAN;
}

const char *profile_metrics_source(const mlctl_profile *p)
{
	return p->metrics_source;
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
	out->has_sample = pi->has_sample;
	if (!pi->has_sample)
		return;
	out->nsample = pi->nsample;
	out->sample = pi->sample;
	out->ndistinct = pi->ndistinct;
	out->distinct_values = pi->dvals;
	out->distinct_counts = pi->dcounts;
	out->distinct_capped = pi->distinct_capped;
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
	if (!pi->has_sample)
		return;
	save_doubles(w, "sample", pi->sample, pi->nsample);
	ymlw_kplain(w, "distinct_capped", pi->distinct_capped ? "true" : "false");
	if (pi->distinct_capped)
		return;
	save_doubles(w, "distinct_values", pi->dvals, pi->ndistinct);
	save_sizes(w, "distinct_counts", pi->dcounts, pi->ndistinct);
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
	ymlw_ksize(&w, "profile_version", 2);
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
	if (p->metrics_source)
		ymlw_kstr(&w, "metrics_on", p->metrics_source);
	if (p->nmetrics) {
		ymlw_plain(&w, "metrics");
		ymlw_seq(&w, false);
		for (i = 0; i < p->nmetrics; i++) {
			ymlw_map(&w);
			ymlw_kstr(&w, "name", p->metric_names[i]);
			ymlw_knum(&w, "value", p->metric_values[i]);
			ymlw_map_end(&w);
		}
		ymlw_seq_end(&w);
	}
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

/* A sequence of at most max finite numbers (max counts when counts is set) under key,
 * into a fresh array. */
static int load_array(ymlr *r, yaml_node_t *map, const char *key, size_t max, bool counts,
		      void **out, size_t *n)
{
	yaml_node_t *seq;
	double *d = NULL;
	size_t i, *c = NULL;
	int ret;

	*out = NULL;
	if ((ret = ymlr_kseq(r, map, key, &seq)))
		return ret;
	*n = ymlr_len(seq);
	if (*n > max)
		return ymlr_error(r, seq, "%s: %zu values, at most %zu expected", key, *n, max);
	if (counts ? !(c = mlctl_calloc(*n + 1, sizeof(*c))) : !(d = mlctl_calloc(*n + 1, sizeof(*d))))
		return MLCTL_ENOMEM;
	for (i = 0; i < *n; i++) {
		double v;

		if ((ret = ymlr_num(r, ymlr_item(r, seq, i), key, &v)))
			break;
		if (!isfinite(v) || (counts && !(v >= 1 && v <= 1e18 && v == floor(v)))) {
			ret = ymlr_error(r, ymlr_item(r, seq, i), "%s: %g is not %s", key, v,
					 counts ? "a count" : "a finite number");
			break;
		}
		if (counts)
			c[i] = (size_t)v;
		else
			d[i] = v;
	}
	if (ret) {
		free(c);
		free(d);
		return ret;
	}
	*out = counts ? (void *)c : (void *)d;
	return 0;
}

/* The sample and distinct values of a version-2 numeric summary, checked against its count
 * (they come from a file that may be hostile): all the sample there should be, distinct
 * values ascending whose counts add up to the count. Absent: a profile without them. */
static int load_sample(ymlr *r, yaml_node_t *n, prof_input *pi, size_t index)
{
	const char *capped;
	size_t i, nc, sum = 0;
	void *a;
	int ret;

	if (!ymlr_get(r, n, "sample"))
		return 0;
	start_sample(pi, index);
	pi->has_sample = true;
	if ((ret = load_array(r, n, "sample", PROFILE_SAMPLE, false, &a, &pi->nsample)))
		return ret;
	pi->sample = a;
	pi->sample_cap = pi->nsample;
	if (pi->nsample != (pi->count < PROFILE_SAMPLE ? pi->count : PROFILE_SAMPLE))
		return ymlr_error(r, n, "input \"%s\": a sample of %zu for %zu values", pi->name ? pi->name : "predictions",
				  pi->nsample, pi->count);
	if ((ret = ymlr_kstr(r, n, "distinct_capped", &capped)))
		return ret;
	pi->distinct_capped = !strcmp(capped, "true");
	if (pi->distinct_capped)
		return 0;
	if (strcmp(capped, "false"))
		return ymlr_error(r, n, "distinct_capped: \"%s\" is not true or false", capped);
	if ((ret = load_array(r, n, "distinct_values", PROFILE_DISTINCT, false, &a, &pi->ndistinct)))
		return ret;
	pi->dvals = a;
	pi->distinct_cap = pi->ndistinct;
	if ((ret = load_array(r, n, "distinct_counts", PROFILE_DISTINCT, true, &a, &nc)))
		return ret;
	pi->dcounts = a;
	if (nc != pi->ndistinct)
		return ymlr_error(r, n, "%zu distinct counts for %zu distinct values", nc, pi->ndistinct);
	for (i = 0; i < nc; i++) {
		if (i && !(pi->dvals[i - 1] < pi->dvals[i]))
			return ymlr_error(r, n, "distinct_values are not in ascending order");
		sum += pi->dcounts[i];
	}
	if (sum != pi->count)
		return ymlr_error(r, n, "distinct counts add up to %zu, not to the count %zu", sum, pi->count);
	return 0;
}

static int load_numeric(ymlr *r, yaml_node_t *n, prof_input *pi, size_t index)
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
	return load_sample(r, n, pi, index);
}

static int load_input(ymlr *r, yaml_node_t *n, prof_input *pi, size_t index)
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
		return load_numeric(r, n, pi, index);
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
		return load_numeric(r, n, &p->pv, p->ninputs);
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

/* metrics_on and metrics, both optional (a version-1 profile has neither). */
static int load_metrics(ymlr *r, yaml_node_t *root, mlctl_profile *p)
{
	yaml_node_t *seq;
	const char *src;
	size_t i;
	int ret;

	if (ymlr_get(r, root, "metrics_on")) {
		if ((ret = ymlr_kstr(r, root, "metrics_on", &src)))
			return ret;
		if (!(p->metrics_source = mlctl_strdup(src)))
			return MLCTL_ENOMEM;
	}
	if (!ymlr_get(r, root, "metrics"))
		return 0;
	if ((ret = ymlr_kseq(r, root, "metrics", &seq)))
		return ret;
	p->metric_names = mlctl_calloc(ymlr_len(seq) + 1, sizeof(*p->metric_names));
	p->metric_values = mlctl_calloc(ymlr_len(seq) + 1, sizeof(*p->metric_values));
	if (!p->metric_names || !p->metric_values)
		return MLCTL_ENOMEM;
	for (i = 0; i < ymlr_len(seq); i++) {
		yaml_node_t *m = ymlr_item(r, seq, i);
		const char *name;

		if ((ret = ymlr_map(r, m, "a metric")) || (ret = ymlr_kstr(r, m, "name", &name)) ||
		    (ret = ymlr_knum(r, m, "value", &p->metric_values[i])))
			return ret;
		if (!(p->metric_names[i] = mlctl_strdup(name)))
			return MLCTL_ENOMEM;
		p->nmetrics++;
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
	if (version != 1 && version != 2) {
		ret = ymlr_error(&r, root, "profile_version %zu is not supported (expected 1 or 2)", version);
		goto out_free;
	}
	p->version = (int)version;
	if ((ret = ymlr_ksize(&r, root, "rows", &p->rows)) || (ret = ymlr_kseq(&r, root, "inputs", &seq)))
		goto out_free;
	p->in = mlctl_calloc(ymlr_len(seq) + 1, sizeof(*p->in));
	if (!p->in) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	for (i = 0; i < ymlr_len(seq); i++) {
		p->ninputs++;
		if ((ret = load_input(&r, ymlr_item(&r, seq, i), &p->in[i], i)))
			goto out_free;
	}
	if ((ret = load_predictions(&r, root, p)) || (ret = load_metrics(&r, root, p)))
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
	free(pi->sample);
	free(pi->dvals);
	free(pi->dcounts);
	free(pi->hkeys);
	free(pi->hcounts);
}

void profile_free(mlctl_profile *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->ninputs; i++)
		free_input(&p->in[i]);
	free(p->in);
	free(p->cats_same);
	free(p->tkeys);
	free(p->tcounts);
	free_input(&p->pv);
	for (i = 0; i < p->nclasses; i++)
		free(p->class_names[i]);
	free(p->class_names);
	free(p->class_values);
	free(p->class_counts);
	for (i = 0; i < p->nmetrics; i++)
		free(p->metric_names[i]);
	free(p->metric_names);
	free(p->metric_values);
	free(p->metrics_source);
	free(p->src);
	free(p);
}
