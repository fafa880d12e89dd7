/*
 * monitor.c — `mlctl_monitor()` (floor 4): drift and performance of a model in production.
 *
 * The current data becomes a profile "like" the model's reference profile (the same edges
 * and categories): rows of a file go through predict's pipeline on all cores (score.c:
 * score_capture_run()), which profiles every row and scores them, or a seeded sample of
 * o->score_rows of them when there are no labels, for the prediction drift; the lines of a
 * serve prediction log go through
 * profile_add_cells() with the predictions the server logged; the profiles predict recorded
 * since a run are merged. Each input is then compared with the reference by drift_compare()
 * (Evidently's rule), and the verdicts make the alert. Memory does not grow with the rows,
 * but for the labels and predictions kept when the data has a label column (16 bytes a row)
 * to compute the metrics as validate does.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bundle.h"
#include "dataset.h"
#include "drift.h"
#include "error.h"
#include "evaluate.h"
#include "fsutil.h"
#include "metrics.h"
#include "model.h"
#include "monitor_int.h"
#include "profile.h"
#include "schema.h"
#include "score_int.h"
#include "util.h"
#include "mlctl/monitor.h"
#include "mlctl/store.h"
#include "banned.h"

#define HISTORY_RUNS 30

typedef struct mon {
	const mlctl_monitor_options *o;
	mlctl_registry *reg;
	mlctl_bundle *b;
	bool classify;
	mlctl_profile *cur;
	double *y, *pred;          /* labelled rows: truth and prediction */
	size_t ny;
	mlctl_monitor_result *r;
} mon;

/* ---- current data ------------------------------------------------------------------------ */

/* Rows of a file: predict's pipeline on all cores makes the profile, scores the rows (or a
 * seeded sample of o->score_rows of them, when there are no labels) for the prediction
 * drift, and keeps the labelled rows' labels and predictions. */
static int current_from_data(mon *m)
{
	score_capture c;
	int ret = score_capture_run(&c, m->b, m->o->data, m->o->data_format, m->o->threads, m->o->score_rows);

	if (ret)
		return ret;
	m->r->pred_rows = c.scored;
	m->r->pred_sampled = c.scored < c.rows;
	profile_free(m->cur);
	m->cur = c.profile;
	m->y = c.labels;
	m->pred = c.pred;
	m->ny = c.n;
	return 0;
}

/* One line of a serve prediction log into the profile (lines of other model versions are
 * counted in *other and skipped). */
static int log_line(mlctl_profile *cur, const mlctl_schema *s, const char *name, int version, json_t *doc,
		    const char *path, size_t line, size_t *other, size_t *used)
{
	size_t ni = schema_ninputs(s), nrows = 0, r, i;
	json_t *inputs = json_object_get(doc, "inputs"), *outs, *preds;
	const char *model = json_string_value(json_object_get(doc, "model"));
	json_t *jv = json_object_get(doc, "version");
	schema_cell *cells = NULL;
	double *values = NULL;
	int ret = 0;

	if (!json_is_object(doc) || !json_is_object(inputs))
		return mlctl_error_set(MLCTL_EDATA, "%s:%zu: not a prediction log line (no \"inputs\" object)", path, line);
	if (!model || strcmp(model, name) || !json_is_integer(jv) || json_integer_value(jv) != version) {
		(*other)++;
		return 0;
	}
	outs = json_object_get(doc, "outputs");
	preds = json_object_get(outs, "predictions");
	for (i = 0; i < ni; i++) {
		json_t *col = json_object_get(inputs, schema_input_name(s, i));

		if (!json_is_array(col))
			return mlctl_error_set(MLCTL_EDATA, "%s:%zu: inputs: no column \"%s\"", path, line,
					       schema_input_name(s, i));
		if (i == 0)
			nrows = json_array_size(col);
		else if (json_array_size(col) != nrows)
			return mlctl_error_set(MLCTL_EDATA, "%s:%zu: inputs: column \"%s\" has %zu values, not %zu",
					       path, line, schema_input_name(s, i), json_array_size(col), nrows);
	}
	if (!json_is_array(preds) || json_array_size(preds) != nrows)
		return mlctl_error_set(MLCTL_EDATA, "%s:%zu: outputs.predictions: %zu rows expected", path, line, nrows);
	cells = mlctl_calloc(ni ? ni : 1, sizeof(*cells));
	values = mlctl_calloc(nrows ? nrows : 1, sizeof(*values));
	if (!cells || !values) {
		ret = mlctl_error_oom();
		goto out;
	}
	for (r = 0; r < nrows && !ret; r++) {
		json_t *p = json_array_get(preds, r);

		for (i = 0; i < ni; i++) {
			json_t *v = json_array_get(json_object_get(inputs, schema_input_name(s, i)), r);

			cells[i].text = json_is_string(v) ? json_string_value(v) : NULL;
			cells[i].has_num = json_is_number(v);
			cells[i].num = json_is_number(v) ? json_number_value(v) : 0;
		}
		ret = profile_add_cells(cur, s, cells);
		if (json_is_number(p))
			values[r] = json_number_value(p);
		else if (!json_is_string(p) || !schema_value_for_class(s, json_string_value(p), &values[r]))
			values[r] = NAN; /* not a class of this model: counted as other */
	}
	if (!ret)
		ret = profile_add_predictions(cur, s, values, nrows);
	if (!ret)
		(*used)++;
out:
	free(cells);
	free(values);
	return ret;
}

int monitor_read_log(mlctl_profile *cur, const mlctl_schema *s, const char *name, int version, FILE *f,
		     const char *path, size_t *lines, size_t *other, size_t *used)
{
	char *buf = NULL;
	size_t cap = 0, line = 0;
	ssize_t len;
	int ret = 0;

	while (!ret && (len = getline(&buf, &cap, f)) >= 0) {
		json_error_t err;
		json_t *doc;

		line++;
		if (len <= 1)
			continue;
		if (!(doc = json_loadb(buf, (size_t)len, 0, &err))) {
			ret = mlctl_error_set(MLCTL_EDATA, "%s:%zu: column %d: %s", path, line, err.column, err.text);
			break;
		}
		ret = log_line(cur, s, name, version, doc, path, line, other, used);
		json_decref(doc);
	}
	if (!ret && ferror(f))
		ret = mlctl_error_errno(MLCTL_EIO, "cannot read %s", path);
	free(buf);
	*lines += line;
	return ret;
}

/* The lines of one log file. */
static int read_log_file(mon *m, const char *path, size_t *lines, size_t *other, size_t *used)
{
	FILE *f = fopen(path, "r");
	int ret;

	if (!f)
		return mlctl_error_errno(errno == ENOENT ? MLCTL_ENOTFOUND : MLCTL_EIO, "%s", path);
	ret = monitor_read_log(m->cur, m->b->schema, m->b->name, m->b->version, f, path, lines, other, used);
	fclose(f);
	return ret;
}

/* The log and the files it was rotated into (FILE.N … FILE.1, oldest first, then FILE). */
static int current_from_log(mon *m)
{
	size_t lines = 0, other = 0, used = 0;
	int k, oldest = 0, ret = 0;

	while (oldest < 10000) {
		char *p = mlctl_asprintf("%s.%d", m->o->log, oldest + 1);
		bool there = p && fs_exists(p);

		free(p);
		if (!there)
			break;
		oldest++;
	}
	for (k = oldest; k >= 1 && !ret; k--) {
		char *p = mlctl_asprintf("%s.%d", m->o->log, k);

		ret = p ? read_log_file(m, p, &lines, &other, &used) : mlctl_error_oom();
		free(p);
	}
	if (!ret)
		ret = read_log_file(m, m->o->log, &lines, &other, &used);
	if (!ret && !used)
		ret = mlctl_error_set(MLCTL_EDATA, "%s: no request answered by %s:%d in %zu lines%s", m->o->log,
				      m->b->name, m->b->version, lines, other ? " (the others were another model version)" : "");
	return ret;
}

/* The profiles of the predict runs of this model version since run o->since (itself too). */
static int current_from_runs(mon *m)
{
	mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;
	mlctl_run_list *list = NULL;
	mlctl_run *since = NULL;
	size_t k, used = 0;
	int ret;

	if (!m->reg)
		return mlctl_error_set(MLCTL_ENOREGISTRY, "--since needs a registry");
	if ((ret = mlctl_run_get(&since, m->reg, m->o->since)))
		return ret;
	f.kind = "predict";
	f.model_name = m->b->name;
	if ((ret = mlctl_run_list_get(&list, m->reg, &f)))
		goto out;
	for (k = list->n; k-- > 0 && !ret;) {
		const mlctl_run *lr = list->runs[k];
		mlctl_run *run = NULL;
		mlctl_profile *p = NULL;
		char *text = NULL;
		size_t len, j;

		if (lr->started_ms < since->started_ms || lr->status != MLCTL_RUN_SUCCEEDED ||
		    lr->model_version != m->b->version)
			continue;
		if ((ret = mlctl_run_get(&run, m->reg, lr->id)))
			break;
		for (j = 0; j < run->nobjects; j++)
			if (!strcmp(run->objects[j].role, "output") && !strcmp(run->objects[j].name, "profile"))
				break;
		if (j < run->nobjects && !(ret = mlctl_store_get(&text, &len, m->reg, run->objects[j].digest)) &&
		    !(ret = profile_load(&p, text, len, run->objects[j].digest)))
			ret = profile_merge(m->cur, p);
		if (!ret && j < run->nobjects)
			used++;
		profile_free(p);
		free(text);
		mlctl_run_free(run);
	}
	if (!ret && !used)
		ret = mlctl_error_set(MLCTL_ENOTFOUND, "no predict run of %s:%d since run %s recorded a profile",
				      m->b->name, m->b->version, since->id);
out:
	mlctl_run_list_free(list);
	mlctl_run_free(since);
	return ret;
}

/* ---- comparing ------------------------------------------------------------------------ */

/* A side of the comparison from a profile's statistics; catbuf has room for ncategories + 1.
 * Its rows are the values present, as Evidently counts them (it drops missing values before
 * it chooses a test). */
static void side_of(drift_side *d, const profile_stats *st, double *catbuf)
{
	size_t k;
	double total = 0;

	memset(d, 0, sizeof(*d));
	d->rows = st->count;
	d->count = st->count;
	d->missing = st->missing;
	d->std = st->std;
	if (st->categorical) {
		for (k = 0; k < st->ncategories; k++)
			total += catbuf[k] = (double)st->category_counts[k];
		total += catbuf[st->ncategories] = (double)st->unseen;
		d->cat_counts = catbuf;
		d->ncat = st->ncategories + 1;
		d->rows = d->count = (size_t)total;
	} else {
		if (st->has_sample) {
			d->sample = st->sample;
			d->nsample = st->nsample;
			d->distinct_values = st->distinct_values;
			d->distinct_counts = st->distinct_counts;
			d->ndistinct = st->ndistinct;
			d->distinct_capped = st->distinct_capped;
		}
		d->bins = st->bins;
		d->nbins = st->nedges ? st->nedges + 1 : 0;
	}
}

static const char *test_for(const mon *m, const char *name, drift_test *t)
{
	size_t k;

	*t = DRIFT_AUTO;
	for (k = 0; k < m->o->ntests; k++)
		if (!strcmp(m->o->tests[k].key, name)) {
			if (!drift_test_parse(m->o->tests[k].value, t))
				return m->o->tests[k].value;
			break;
		}
	return NULL;
}

/* Histogram bins for the report: deciles of a numeric input, or the categories. */
static int histogram(mlctl_monitor_feature *f, const profile_stats *rs, const profile_stats *cs)
{
	size_t k, n;
	char a[32], b[32];

	if (rs->categorical) {
		n = rs->ncategories + (cs->unseen ? 1 : 0);
	} else {
		n = rs->nedges ? rs->nedges + 1 : 0;
	}
	f->nbins = n;
	if (!n)
		return 0;
	f->bin_labels = mlctl_calloc(n, sizeof(char *));
	f->ref_share = mlctl_calloc(n, sizeof(double));
	f->cur_share = mlctl_calloc(n, sizeof(double));
	if (!f->bin_labels || !f->ref_share || !f->cur_share)
		return mlctl_error_oom();
	for (k = 0; k < n; k++) {
		double rt, ct;

		if (rs->categorical) {
			rt = (double)(rs->count + rs->unseen);
			ct = (double)(cs->count + cs->unseen);
			if (k < rs->ncategories) {
				f->bin_labels[k] = mlctl_strdup(rs->categories[k]);
				f->ref_share[k] = rt > 0 ? (double)rs->category_counts[k] / rt : 0;
				f->cur_share[k] = ct > 0 ? (double)cs->category_counts[k] / ct : 0;
			} else {
				f->bin_labels[k] = mlctl_strdup("(unseen)");
				f->cur_share[k] = ct > 0 ? (double)cs->unseen / ct : 0;
			}
		} else {
			rt = (double)rs->count;
			ct = (double)cs->count;
			if (k == 0)
				f->bin_labels[k] = mlctl_asprintf("< %s", mlctl_fmt_double(a, rs->edges[0]));
			else if (k == n - 1)
				f->bin_labels[k] = mlctl_asprintf(">= %s", mlctl_fmt_double(a, rs->edges[k - 1]));
			else
				f->bin_labels[k] = mlctl_asprintf("%s to %s", mlctl_fmt_double(a, rs->edges[k - 1]),
								  mlctl_fmt_double(b, rs->edges[k]));
			f->ref_share[k] = rt > 0 ? (double)rs->bins[k] / rt : 0;
			f->cur_share[k] = ct > 0 ? (double)cs->bins[k] / ct : 0;
		}
		if (!f->bin_labels[k])
			return mlctl_error_oom();
	}
	return 0;
}

static int compare_feature(mon *m, mlctl_monitor_feature *f, const profile_stats *rs, const profile_stats *cs,
			   size_t ref_rows, size_t cur_rows)
{
	double *rbuf = mlctl_calloc(rs->ncategories + 1, sizeof(double));
	double *cbuf = mlctl_calloc(cs->ncategories + 1, sizeof(double));
	double thr = m->o->threshold, psi_thr = isnan(m->o->psi_threshold) ? 0.2 : m->o->psi_threshold;
	drift_side r, c;
	drift_verdict v;
	drift_test t;
	const char *bad;
	int ret;

	if (!rbuf || !cbuf) {
		ret = mlctl_error_oom();
		goto out;
	}
	f->name = mlctl_strdup(rs->name);
	f->categorical = rs->categorical;
	f->ref_count = rs->count;
	f->cur_count = cs->count;
	f->ref_mean = rs->categorical ? NAN : rs->mean;
	f->cur_mean = cs->categorical ? NAN : cs->mean;
	f->ref_missing = ref_rows ? (double)rs->missing / (double)ref_rows : NAN;
	f->cur_missing = cur_rows ? (double)cs->missing / (double)cur_rows : NAN;
	f->unseen = cur_rows ? (double)cs->unseen / (double)cur_rows : NAN;
	f->statistic = f->pvalue = f->psi = NAN;
	f->threshold = NAN;
	f->test = "none";
	if (!f->name) {
		ret = mlctl_error_oom();
		goto out;
	}
	if ((bad = test_for(m, rs->name, &t))) {
		ret = mlctl_error_set(MLCTL_EUSAGE, "--test %s=%s: expected ks, chisquare, z, wasserstein, "
				      "jensenshannon or psi", rs->name, bad);
		goto out;
	}
	side_of(&r, rs, rbuf);
	side_of(&c, cs, cbuf);
	if (!rs->categorical && !rs->has_sample)
		f->note = mlctl_strdup("the reference profile is older and keeps no sample of values: "
				       "compared on its decile bins (PSI) only");
	if (!rs->categorical && !rs->has_sample && t == DRIFT_AUTO)
		t = DRIFT_PSI;
	ret = drift_compare(&v, rs->categorical, &r, &c, t, thr);
	if (ret == MLCTL_EUSAGE) {
		/* nothing to test (no values on a side, or a forced test the profile cannot
		 * feed): said in the note, and the feature counts as not drifted */
		free(f->note);
		f->note = !c.count ? mlctl_strdup("no values in the current data")
				   : !r.count ? mlctl_strdup("no values in the reference")
					      : mlctl_strdup(mlctl_error_last()->message);
		mlctl_error_clear();
		m->r->missing_stats++;
		ret = f->note ? histogram(f, rs, cs) : mlctl_error_oom();
		goto out;
	}
	if (ret)
		goto out;
	if (f->note)
		m->r->missing_stats++;
	f->test = drift_test_name(v.test);
	f->statistic = v.statistic;
	f->pvalue = v.pvalue;
	f->threshold = v.threshold;
	f->drifted = v.drifted;
	f->psi = v.psi;
	f->psi_alert = !isnan(v.psi) && v.psi > psi_thr;
	ret = histogram(f, rs, cs);
out:
	free(rbuf);
	free(cbuf);
	return ret;
}

/* The predictions' distribution as a feature: classes as categories, values as numbers. */
static int compare_predictions(mon *m)
{
	profile_pred rp, cp;
	profile_stats rs, cs;
	size_t k;
	int ret;

	if (!profile_predictions(m->b->profile, &rp) || !profile_predictions(m->cur, &cp))
		return 0;
	if (rp.is_classes) {
		memset(&rs, 0, sizeof(rs));
		memset(&cs, 0, sizeof(cs));
		rs.name = cs.name = "prediction";
		rs.categorical = cs.categorical = true;
		rs.ncategories = rp.nclasses;
		rs.categories = rp.class_names;
		rs.category_counts = rp.class_counts;
		rs.unseen = rp.other;
		cs.ncategories = cp.nclasses;
		cs.categories = cp.class_names;
		cs.category_counts = cp.class_counts;
		cs.unseen = cp.other;
		for (k = 0; k < rp.nclasses; k++)
			rs.count += rp.class_counts[k];
		for (k = 0; k < cp.nclasses; k++)
			cs.count += cp.class_counts[k];
		rs.mean = rs.std = cs.mean = cs.std = NAN;
	} else {
		rs = rp.values;
		cs = cp.values;
		rs.name = cs.name = "prediction";
	}
	ret = compare_feature(m, &m->r->prediction, &rs, &cs, rp.count, cp.count);
	m->r->has_prediction = ret == 0;
	return ret;
}

/* The model's metric today against its validation baseline. */
static int performance(mon *m)
{
	mlctl_monitor_result *r = m->r;
	metrics_report *rep = NULL;
	const char *metric = m->classify ? "accuracy" : "rmse";
	double base = NAN, cur;
	size_t k;
	int ret;

	if (!m->ny)
		return 0;
	if ((ret = evaluate_report(&rep, m->b->schema, m->y, m->pred, m->ny, NULL, NULL)))
		return ret;
	if (!metrics_get(rep, metric, &cur))
		cur = NAN;
	metrics_report_free(rep);
	for (k = 0; k < profile_nmetrics(m->b->profile); k++)
		if (!strcmp(profile_metric_name(m->b->profile, k), metric))
			base = profile_metric_value(m->b->profile, k);
	if (isnan(base) && m->reg && m->b->run[0]) {
		mlctl_run *run = NULL;
		char key[64];

		if (mlctl_run_get(&run, m->reg, m->b->run) == 0) {
			snprintf(key, sizeof(key), "test_%s", metric);
			if (!mlctl_run_metric(run, key, &base)) {
				snprintf(key, sizeof(key), "train_%s", metric);
				if (!mlctl_run_metric(run, key, &base))
					base = NAN;
			}
		}
		mlctl_error_clear();
		mlctl_run_free(run);
	}
	r->has_performance = true;
	r->metric = mlctl_strdup(metric);
	r->baseline = base;
	r->current = cur;
	r->drop = metrics_higher_is_better(metric) ? base - cur : cur - base;
	r->max_drop = m->o->max_drop;
	r->performance_alert = !isnan(m->o->max_drop) && !isnan(r->drop) && r->drop > m->o->max_drop;
	return r->metric ? 0 : mlctl_error_oom();
}

static int verdict(mon *m)
{
	mlctl_monitor_result *r = m->r;
	strbuf why = MLCTL_STRBUF_INIT;
	size_t k;
	int ret = 0;

	r->drift_share = isnan(m->o->drift_share) ? 0.5 : m->o->drift_share;
	for (k = 0; k < r->nfeatures; k++)
		r->ndrifted += r->features[k].drifted;
	r->dataset_drift = r->nfeatures && (double)r->ndrifted >= r->drift_share * (double)r->nfeatures;
	if (m->o->fail_on != MLCTL_FAIL_ON_NONE) {
		if (r->dataset_drift)
			ret = strbuf_printf(&why, "dataset drift: %zu of %zu features drifted; ", r->ndrifted, r->nfeatures);
		else if (m->o->fail_on == MLCTL_FAIL_ON_FEATURE && r->ndrifted)
			ret = strbuf_printf(&why, "%zu of %zu features drifted; ", r->ndrifted, r->nfeatures);
		if (!ret && r->has_prediction && r->prediction.drifted)
			ret = strbuf_printf(&why, "prediction drift (%s %.4g); ", r->prediction.test, r->prediction.statistic);
	}
	if (!ret && r->performance_alert)
		ret = strbuf_printf(&why, "%s dropped by %.4g (from %.4g to %.4g; --max-drop %.4g); ", r->metric, r->drop,
				    r->baseline, r->current, r->max_drop);
	if (ret)
		return ret;
	r->alert = why.len > 0;
	if (r->alert) {
		why.buf[why.len - 2] = '\0';
		r->why = strbuf_detach(&why, NULL);
	}
	strbuf_release(&why);
	return 0;
}

/* ---- the run and its history ---------------------------------------------------------- */

static int add_metric(mlctl_metric **mt, size_t *n, size_t *cap, const char *key, double v)
{
	if (isnan(v))
		return 0;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		mlctl_metric *p = mlctl_reallocarray(*mt, c, sizeof(*p));

		if (!p)
			return mlctl_error_oom();
		*mt = p;
		*cap = c;
	}
	if (!((*mt)[*n].key = mlctl_strdup(key)))
		return mlctl_error_oom();
	(*mt)[*n].value = isinf(v) ? (v > 0 ? 1e308 : -1e308) : v;
	(*mt)[*n].step = 0;
	(*n)++;
	return 0;
}

static int feature_metrics(mlctl_metric **mt, size_t *n, size_t *cap, const mlctl_monitor_feature *f)
{
	char key[512];
	int ret;

	snprintf(key, sizeof(key), "drift.%s", f->name);
	if ((ret = add_metric(mt, n, cap, key, f->statistic)))
		return ret;
	snprintf(key, sizeof(key), "pvalue.%s", f->name);
	if ((ret = add_metric(mt, n, cap, key, f->pvalue)))
		return ret;
	snprintf(key, sizeof(key), "psi.%s", f->name);
	if ((ret = add_metric(mt, n, cap, key, f->psi)))
		return ret;
	snprintf(key, sizeof(key), "drifted.%s", f->name);
	return add_metric(mt, n, cap, key, f->drifted ? 1 : 0);
}

static int record(mon *m)
{
	mlctl_monitor_result *r = m->r;
	mlctl_run_start_options so = MLCTL_RUN_START_OPTIONS_INIT;
	mlctl_metric *mt = NULL;
	size_t n = 0, cap = 0, k;
	char k_source[] = "source", k_rows[] = "rows", rows[32];
	mlctl_kv kv[2];
	int ret;

	if (m->o->no_record || !m->reg || mlctl_registry_readonly(m->reg))
		return 0;
	so.kind = "monitor";
	so.name = r->model;
	so.argc = m->o->argc;
	so.argv = m->o->argv;
	if ((ret = mlctl_run_start(r->run, m->reg, &so)))
		return ret;
	for (k = 0; k < r->nfeatures && !ret; k++)
		ret = feature_metrics(&mt, &n, &cap, &r->features[k]);
	if (!ret && r->has_prediction) {
		ret = add_metric(&mt, &n, &cap, "prediction_drift", r->prediction.statistic) ||
		      add_metric(&mt, &n, &cap, "prediction_drifted", r->prediction.drifted ? 1 : 0) ||
		      add_metric(&mt, &n, &cap, "prediction_psi", r->prediction.psi) ||
		      add_metric(&mt, &n, &cap, "prediction_rows", (double)r->pred_rows);
	}
	if (!ret)
		ret = add_metric(&mt, &n, &cap, "dataset_drift", r->dataset_drift ? 1 : 0) ||
		      add_metric(&mt, &n, &cap, "drifted_features", (double)r->ndrifted) ||
		      add_metric(&mt, &n, &cap, "current_rows", (double)r->cur_rows);
	if (!ret && r->has_performance) {
		char key[96];

		snprintf(key, sizeof(key), "perf.%s", r->metric);
		ret = add_metric(&mt, &n, &cap, key, r->current);
		snprintf(key, sizeof(key), "perf.%s.baseline", r->metric);
		ret = ret || add_metric(&mt, &n, &cap, key, r->baseline);
	}
	snprintf(rows, sizeof(rows), "%zu", r->cur_rows);
	kv[0].key = k_source, kv[0].value = r->source;
	kv[1].key = k_rows, kv[1].value = rows;
	if (!ret)
		ret = mlctl_run_log_metrics(m->reg, r->run, mt, n);
	if (!ret)
		ret = mlctl_run_log_params(m->reg, r->run, kv, 2);
	if (!ret)
		ret = mlctl_run_set_model(m->reg, r->run, m->b->name, m->b->version);
	if (!ret)
		ret = mlctl_run_set_verdict(m->reg, r->run, r->alert ? "fail" : "pass");
	for (k = 0; k < n; k++)
		free(mt[k].key);
	free(mt);
	if (ret)
		return mlctl_run_fail(m->reg, r->run, ret);
	return mlctl_run_finish(m->reg, r->run, NULL);
}

/* The succeeded monitor runs of name, read once each with their metrics: oldest first, at
 * most limit of them, without the run skip (the one being recorded). */
static int monitor_runs(mlctl_run ***out, size_t *nout, mlctl_registry *reg, const char *name, size_t limit,
			const char *skip)
{
	mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;
	mlctl_run_list *list = NULL;
	mlctl_run **runs;
	size_t k, n = 0;
	int ret;

	*out = NULL;
	*nout = 0;
	f.kind = "monitor";
	f.model_name = name;
	f.limit = limit + 1;
	if ((ret = mlctl_run_list_get(&list, reg, &f)))
		return ret;
	if (!(runs = mlctl_calloc(list->n ? list->n : 1, sizeof(*runs)))) {
		mlctl_run_list_free(list);
		return mlctl_error_oom();
	}
	/* newest first in the list: keep the newest limit, then turn them around */
	for (k = 0; k < list->n && n < limit && !ret; k++) {
		if ((skip && !strcmp(list->runs[k]->id, skip)) || list->runs[k]->status != MLCTL_RUN_SUCCEEDED)
			continue;
		if (!(ret = mlctl_run_get(&runs[n], reg, list->runs[k]->id)))
			n++;
	}
	mlctl_run_list_free(list);
	for (k = 0; k < n / 2; k++) {
		mlctl_run *t = runs[k];

		runs[k] = runs[n - 1 - k];
		runs[n - 1 - k] = t;
	}
	if (ret) {
		for (k = 0; k < n; k++)
			mlctl_run_free(runs[k]);
		free(runs);
		return ret;
	}
	*out = runs;
	*nout = n;
	return 0;
}

static void monitor_runs_free(mlctl_run **runs, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		mlctl_run_free(runs[k]);
	free(runs);
}

/* The trend points of runs[0..n): each feature's statistic in the order of names[0..nnames). */
static int history_points(mlctl_monitor_point **out, size_t *nout, mlctl_run *const *runs, size_t n,
			  const char *const *names, size_t nnames)
{
	mlctl_monitor_point *pts;
	size_t k, i;

	*out = NULL;
	*nout = 0;
	if (!(pts = mlctl_calloc(n ? n : 1, sizeof(*pts))))
		return mlctl_error_oom();
	for (k = 0; k < n; k++) {
		const mlctl_run *run = runs[k];
		mlctl_monitor_point *p = &pts[k];
		double v;

		memcpy(p->run, run->id, sizeof(p->run));
		p->time_ms = run->started_ms;
		if (!(p->statistic = mlctl_calloc(nnames ? nnames : 1, sizeof(double)))) {
			for (i = 0; i < k; i++)
				free(pts[i].statistic);
			free(pts);
			return mlctl_error_oom();
		}
		for (i = 0; i < nnames; i++) {
			char key[512];

			snprintf(key, sizeof(key), "drift.%s", names[i]);
			p->statistic[i] = mlctl_run_metric(run, key, &v) ? v : NAN;
		}
		p->prediction = mlctl_run_metric(run, "prediction_drift", &v) ? v : NAN;
		p->dataset_drift = mlctl_run_metric(run, "dataset_drift", &v) && v > 0;
	}
	*out = pts;
	*nout = n;
	return 0;
}

/* ---- the operation -------------------------------------------------------------------- */

static int check_options(const mlctl_monitor_options *o)
{
	int inputs = (o->data != NULL) + (o->log != NULL) + (o->since != NULL);

	if ((o->model != NULL) == (o->target != NULL))
		return mlctl_error_set(MLCTL_EUSAGE, "monitor one model, or --target NAME");
	if (inputs != 1)
		return mlctl_error_set(MLCTL_EUSAGE, "give the current data as one of --data FILE, --log FILE or --since RUN");
	if (!isnan(o->drift_share) && !(o->drift_share > 0 && o->drift_share <= 1))
		return mlctl_error_set(MLCTL_EUSAGE, "--drift-share %g: a share above 0 and at most 1", o->drift_share);
	return 0;
}

/* Every --test names an input of the model (or "prediction") and a test, checked before any
 * data is read. */
static int check_tests(const mon *m)
{
	const mlctl_schema *s = m->b->schema;
	size_t k, i;
	drift_test t;

	for (k = 0; k < m->o->ntests; k++) {
		const char *name = m->o->tests[k].key, *test = m->o->tests[k].value;

		for (i = 0; i < schema_ninputs(s) && strcmp(schema_input_name(s, i), name); i++)
			;
		if (i == schema_ninputs(s) && strcmp(name, "prediction"))
			return mlctl_error_set(MLCTL_EUSAGE, "--test %s=%s: %s:%d has no input \"%s\"", name, test,
					       m->b->name, m->b->version, name);
		if (!drift_test_parse(test, &t) || t == DRIFT_AUTO)
			return mlctl_error_set(MLCTL_EUSAGE, "--test %s=%s: expected ks, chisquare, z, wasserstein, "
					       "jensenshannon or psi", name, test);
	}
	return 0;
}

static int load_model(mon *m)
{
	const mlctl_monitor_options *o = m->o;
	int ret = bundle_resolve(&m->b, m->reg, o->model, o->target);

	if (ret || (ret = check_tests(m)))
		return ret;
	if (!m->b->profile)
		return mlctl_error_set(MLCTL_EDATA, "%s:%d has no reference profile to monitor against", m->b->name,
				       m->b->version);
	m->classify = model_is_classifier(svm_get_svm_type(m->b->model));
	if (!(m->r->model = mlctl_asprintf("%s:%d", m->b->name, m->b->version)))
		return mlctl_error_oom();
	return profile_new_like(&m->cur, m->b->profile);
}

static int compare_all(mon *m)
{
	mlctl_monitor_result *r = m->r;
	size_t i, n = profile_ninputs(m->b->profile);
	int ret = 0;

	r->ref_rows = profile_rows(m->b->profile);
	r->cur_rows = profile_rows(m->cur);
	if (!m->o->data)
		r->pred_rows = r->cur_rows;
	if (!r->cur_rows)
		return mlctl_error_set(MLCTL_EDATA, "%s: no rows to monitor", r->source);
	if (!(r->features = mlctl_calloc(n ? n : 1, sizeof(*r->features))))
		return mlctl_error_oom();
	for (i = 0; i < n && !ret; i++) {
		profile_stats rs, cs;

		if (!profile_input(m->b->profile, i, &rs) || !profile_input(m->cur, i, &cs))
			continue;
		ret = compare_feature(m, &r->features[r->nfeatures], &rs, &cs, r->ref_rows, r->cur_rows);
		r->nfeatures++;
	}
	return ret || (ret = compare_predictions(m)) ? ret : performance(m);
}

static int trend(mon *m)
{
	mlctl_monitor_result *r = m->r;
	const char **names;
	size_t k;
	int ret;

	if (!m->reg)
		return 0;
	if (!(names = mlctl_calloc(r->nfeatures ? r->nfeatures : 1, sizeof(*names))))
		return mlctl_error_oom();
	for (k = 0; k < r->nfeatures; k++)
		names[k] = r->features[k].name;
	{
		mlctl_run **runs = NULL;
		size_t n = 0;

		ret = monitor_runs(&runs, &n, m->reg, m->b->name, HISTORY_RUNS, r->run[0] ? r->run : NULL);
		if (!ret)
			ret = history_points(&r->history, &r->nhistory, runs, n, names, r->nfeatures);
		monitor_runs_free(runs, n);
	}
	free(names);
	return ret;
}

int mlctl_monitor(mlctl_monitor_result **out, mlctl_registry *reg, const mlctl_monitor_options *o)
{
	mon m;
	int ret;

	*out = NULL;
	if ((ret = check_options(o)))
		return ret;
	memset(&m, 0, sizeof(m));
	m.o = o;
	m.reg = reg;
	if (!(m.r = calloc(1, sizeof(*m.r))))
		return mlctl_error_oom();
	m.r->max_drop = NAN;
	if (o->data)
		m.r->source = mlctl_strdup(o->data);
	else if (o->log)
		m.r->source = mlctl_asprintf("log %s", o->log);
	else
		m.r->source = mlctl_asprintf("predict runs since %s", o->since);
	if (!m.r->source) {
		ret = mlctl_error_oom();
		goto out;
	}
	if ((ret = load_model(&m)))
		goto out;
	ret = o->data ? current_from_data(&m) : o->log ? current_from_log(&m) : current_from_runs(&m);
	if (ret || (ret = compare_all(&m)) || (ret = verdict(&m)) || (ret = trend(&m)) || (ret = record(&m)))
		goto out;
	if (o->report && (ret = mlctl_monitor_report(m.r, o->report)))
		goto out;
out:
	free(m.y);
	free(m.pred);
	profile_free(m.cur);
	bundle_free(m.b);
	if (ret) {
		mlctl_monitor_result_free(m.r);
		return ret;
	}
	*out = m.r;
	return 0;
}

static void feature_release(mlctl_monitor_feature *f)
{
	size_t k;

	for (k = 0; f->bin_labels && k < f->nbins; k++)
		free(f->bin_labels[k]);
	free(f->bin_labels);
	free(f->ref_share);
	free(f->cur_share);
	free(f->name);
	free(f->note);
}

void mlctl_monitor_result_free(mlctl_monitor_result *r)
{
	size_t k;

	if (!r)
		return;
	for (k = 0; k < r->nfeatures; k++)
		feature_release(&r->features[k]);
	free(r->features);
	if (r->has_prediction || r->prediction.name)
		feature_release(&r->prediction);
	for (k = 0; k < r->nhistory; k++)
		free(r->history[k].statistic);
	free(r->history);
	free(r->model);
	free(r->source);
	free(r->metric);
	free(r->why);
	free(r);
}

/* ---- history -------------------------------------------------------------------------- */

int mlctl_monitor_history_get(mlctl_monitor_history **out, mlctl_registry *reg, const char *model,
			      const char *target, size_t limit)
{
	mlctl_monitor_history *h;
	mlctl_model_version *v = NULL;
	mlctl_run **runs = NULL;
	char *name = NULL;
	size_t k, j, n = 0;
	int ret;

	*out = NULL;
	if (!reg)
		return mlctl_error_set(MLCTL_ENOREGISTRY, "monitor history needs a registry");
	if (target) {
		mlctl_bundle *b = NULL;

		if ((ret = bundle_resolve(&b, reg, NULL, target)))
			return ret;
		name = mlctl_strdup(b->name);
		bundle_free(b);
	} else if (strchr(model, ':') || strchr(model, '@')) {
		if ((ret = mlctl_model_resolve(&v, reg, model)))
			return ret;
		name = mlctl_strdup(v->name);
		mlctl_model_version_free(v);
	} else {
		name = mlctl_strdup(model);
	}
	if (!name || !(h = calloc(1, sizeof(*h)))) {
		free(name);
		return mlctl_error_oom();
	}
	h->model = name;
	if ((ret = monitor_runs(&runs, &n, reg, name, limit ? limit : HISTORY_RUNS, NULL)))
		goto fail;
	/* the features: every drift.* key of the runs (metrics come ordered by key) */
	for (k = 0; k < n && !ret; k++)
		for (j = 0; j < runs[k]->nmetrics && !ret; j++) {
			const char *key = runs[k]->metrics[j].key;
			char **nf;
			size_t i;

			if (strncmp(key, "drift.", 6))
				continue;
			for (i = 0; i < h->nfeatures && strcmp(h->features[i], key + 6); i++)
				;
			if (i < h->nfeatures)
				continue;
			if (!(nf = mlctl_reallocarray(h->features, h->nfeatures + 1, sizeof(char *)))) {
				ret = mlctl_error_oom();
				break;
			}
			h->features = nf;
			if (!(nf[h->nfeatures] = mlctl_strdup(key + 6)))
				ret = mlctl_error_oom();
			else
				h->nfeatures++;
		}
	if (!ret)
		ret = history_points(&h->points, &h->npoints, runs, n, (const char *const *)h->features, h->nfeatures);
	monitor_runs_free(runs, n);
	if (ret)
		goto fail;
	*out = h;
	return 0;
fail:
	mlctl_monitor_history_free(h);
	return ret;
}

void mlctl_monitor_history_free(mlctl_monitor_history *h)
{
	size_t k;

	if (!h)
		return;
	for (k = 0; k < h->nfeatures; k++)
		free(h->features[k]);
	free(h->features);
	for (k = 0; k < h->npoints; k++)
		free(h->points[k].statistic);
	free(h->points);
	free(h->model);
	free(h);
}
