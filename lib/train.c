/*
 * train.c — `mlctl train` as a library operation (floor 4): load the data, split off a
 * holdout, fit the preprocessing, tune by cross-validation, fit the final model, score the
 * holdout, profile the training data, store everything and register a version. Every step
 * is recorded in one run; a failure marks the run failed and registers nothing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "error.h"
#include "evaluate.h"
#include "metrics.h"
#include "model.h"
#include "profile.h"
#include "rng.h"
#include "schema.h"
#include "tune.h"
#include "util.h"
#include "mlctl/data.h"
#include "mlctl/store.h"
#include "mlctl/train.h"
#include "banned.h"

/* Rows of the training data scored for train_* metrics when nothing is held out. */
#define TRAIN_SAMPLE_ROWS 2000

/* Everything a training holds while it runs; released in one place. */
typedef struct train_state {
	const mlctl_train_options *o;
	mlctl_registry *reg;
	mlctl_train_result *res;
	ds_table *table, *test_table;
	mlctl_schema *schema;
	schema_matrix *train_m, *test_m;
	size_t *train_rows, *test_rows;
	size_t ntrain, ntest;
	struct svm_parameter param;
	bool param_init;
	tune_grid *grid;
	tune_result *tuned;
	struct svm_model *model;
	mlctl_profile *profile;
	metrics_report *test_report;
} train_state;

static int result_add_metric(mlctl_train_result *r, const char *key, double value)
{
	mlctl_metric *m = mlctl_reallocarray(r->metrics, r->nmetrics + 1, sizeof(*m));

	if (!m)
		return MLCTL_ENOMEM;
	r->metrics = m;
	m += r->nmetrics;
	if (!(m->key = mlctl_strdup(key)))
		return MLCTL_ENOMEM;
	m->value = value;
	m->step = 0;
	r->nmetrics++;
	return 0;
}

static int result_add_param(mlctl_train_result *r, const char *key, const char *value);

static int add_param_cb(void *ctx, const char *key, const char *value)
{
	return result_add_param(ctx, key, value);
}

static int result_add_param(mlctl_train_result *r, const char *key, const char *value)
{
	mlctl_kv *kv = mlctl_reallocarray(r->params, r->nparams + 1, sizeof(*kv));

	if (!kv)
		return MLCTL_ENOMEM;
	r->params = kv;
	kv += r->nparams;
	kv->key = mlctl_strdup(key);
	kv->value = mlctl_strdup(value);
	if (!kv->key || !kv->value)
		return MLCTL_ENOMEM;
	r->nparams++;
	return 0;
}

void mlctl_train_result_free(mlctl_train_result *r)
{
	size_t i;

	if (!r)
		return;
	free(r->name);
	free(r->svm_type);
	free(r->kernel);
	free(r->metric);
	free(r->task);
	free(r->task_reason);
	for (i = 0; i < r->nparams; i++) {
		free(r->params[i].key);
		free(r->params[i].value);
	}
	for (i = 0; i < r->nmetrics; i++)
		free(r->metrics[i].key);
	free(r->params);
	free(r->metrics);
	free(r);
}

/* Record the options as run params (what was asked, before tuning): the fixed ones, then
 * every libsvm parameter in the order given (a key given twice records its last value, the
 * one the fit used). */
static int log_options(train_state *s, const char *run)
{
	const mlctl_train_options *o = s->o;
	mlctl_kv kv[16];
	char seed[32], cv[16], hold[32], threads[16], libsvm[16];
	size_t n = 0;
	int ret;

	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)o->seed);
	snprintf(cv, sizeof(cv), "%d", o->cv);
	snprintf(hold, sizeof(hold), "%g", o->holdout);
	snprintf(threads, sizeof(threads), "%d", o->threads);
	snprintf(libsvm, sizeof(libsvm), "%d", mlctl_libsvm_version());
	kv[n++] = (mlctl_kv){ "data", (char *)o->data };
	kv[n++] = (mlctl_kv){ "seed", seed };
	kv[n++] = (mlctl_kv){ "scale", (char *)(o->scale ? o->scale : "minmax") };
	kv[n++] = (mlctl_kv){ "probability", (char *)(o->probability ? "1" : "0") };
	kv[n++] = (mlctl_kv){ "threads", threads };
	if (o->label)
		kv[n++] = (mlctl_kv){ "label", (char *)o->label };
	if (o->cv)
		kv[n++] = (mlctl_kv){ "cv", cv };
	if (o->tune)
		kv[n++] = (mlctl_kv){ "tune", (char *)o->tune };
	if (o->metric)
		kv[n++] = (mlctl_kv){ "metric", (char *)o->metric };
	if (o->holdout > 0)
		kv[n++] = (mlctl_kv){ "holdout", hold };
	if (o->test_data)
		kv[n++] = (mlctl_kv){ "test_data", (char *)o->test_data };
	kv[n++] = (mlctl_kv){ "libsvm_version", libsvm };
	if ((ret = mlctl_run_log_params(s->reg, run, kv, n)))
		return ret;
	return o->n_svm ? mlctl_run_log_params(s->reg, run, o->svm, o->n_svm) : 0;
}

/* Build libsvm parameters from the options. */
static int setup_params(train_state *s)
{
	const mlctl_train_options *o = s->o;
	size_t i;
	int ret;

	model_param_defaults(&s->param);
	s->param_init = true;
	for (i = 0; i < o->n_svm; i++)
		if ((ret = model_param_set(&s->param, o->svm[i].key, o->svm[i].value)))
			return ret;
	s->param.probability = o->probability ? 1 : 0;
	for (i = 0; i < o->n_class_weights; i++) {
		const char *spec = o->class_weights[i], *eq = strrchr(spec, '=');
		char cls[256];
		double w, v;

		if (!eq || !mlctl_parse_double(eq + 1, &w) || w < 0)
			return mlctl_error_set(MLCTL_EUSAGE, "--class-weight \"%s\": expected LABEL=WEIGHT", spec);
		snprintf(cls, sizeof(cls), "%.*s", (int)(eq - spec), spec);
		if (!schema_value_for_class(s->schema, cls, &v))
			return mlctl_error_set(MLCTL_EUSAGE, "--class-weight: no class \"%s\" in %s", cls, o->data);
		if ((ret = model_param_add_weight(&s->param, (int)v, w)))
			return ret;
	}
	return 0;
}

/* Fit the schema on rows[0..n) of t only: a view of the table holding those rows (the
 * cells are shared, not copied). */
static int schema_fit_rows(mlctl_schema **out, const ds_table *t, const size_t *rows, size_t n,
			   const schema_options *so)
{
	ds_table view = *t;
	size_t i;
	int ret;

	view.nrows = n;
	view.cells = mlctl_calloc(n * (t->ncols ? t->ncols : 1), sizeof(*view.cells));
	view.lines = mlctl_calloc(n ? n : 1, sizeof(*view.lines));
	if (!view.cells || !view.lines) {
		free(view.cells);
		free(view.lines);
		return MLCTL_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		memcpy(view.cells + i * t->ncols, t->cells + rows[i] * t->ncols, t->ncols * sizeof(*view.cells));
		view.lines[i] = t->lines[rows[i]];
	}
	ret = schema_fit(out, &view, so);
	free(view.cells);
	free(view.lines);
	return ret;
}

/* Split rows into training and holdout (stratified by label for classification); the
 * labels come from a first fit of the schema on all rows. */
static int split_rows(train_state *s)
{
	size_t n = s->table->nrows, i;
	schema_matrix *all = NULL;
	int *is_test = NULL, ret;

	s->train_rows = mlctl_calloc(n, sizeof(*s->train_rows));
	s->test_rows = mlctl_calloc(n, sizeof(*s->test_rows));
	if (!s->train_rows || !s->test_rows)
		return MLCTL_ENOMEM;
	if (s->o->holdout <= 0) {
		for (i = 0; i < n; i++)
			s->train_rows[i] = i;
		s->ntrain = n;
		return 0;
	}
	if (!(is_test = mlctl_calloc(n, sizeof(*is_test))))
		return MLCTL_ENOMEM;
	ret = schema_transform_table(&all, s->schema, s->table, NULL, 0, true);
	if (!ret)
		ret = evaluate_split(is_test, all->prob.y, n, schema_get_task(s->schema) == SCHEMA_TASK_CLASSIFY,
				     s->o->holdout, s->o->seed);
	if (ret)
		goto out;
	for (i = 0; i < n; i++) {
		if (is_test[i])
			s->test_rows[s->ntest++] = i;
		else
			s->train_rows[s->ntrain++] = i;
	}
	if (s->ntrain < 2 || s->ntest < 1)
		ret = mlctl_error_set(MLCTL_EDATA, "%s: %zu rows are too few for a holdout of %g", s->o->data, n,
				      s->o->holdout);
out:
	schema_matrix_free(all);
	free(is_test);
	return ret;
}

static const char *default_metric(schema_task t)
{
	return t == SCHEMA_TASK_REGRESS ? "mse" : t == SCHEMA_TASK_ONECLASS ? "outlier_rate" : "accuracy";
}

/* Bytes of physical memory and of MemAvailable (/proc/meminfo); 0 when unknown. */
static void memory_sizes(double *phys, double *avail)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	char line[256];
	FILE *f;

	*phys = pages > 0 && psize > 0 ? (double)pages * (double)psize : 0;
	*avail = 0;
	if (!(f = fopen("/proc/meminfo", "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kb;

		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
			*avail = (double)kb * 1024.0;
			break;
		}
	}
	fclose(f);
}

/* The shared kernel's budget in bytes: --kernel-memory MB (0: none), by default a quarter
 * of physical memory; never above MemAvailable. */
static size_t kernel_budget(int mb)
{
	double phys, avail, b;

	if (mb == 0)
		return 0;
	memory_sizes(&phys, &avail);
	b = mb > 0 ? (double)mb * 1048576.0 : phys / 4;
	if (avail > 0 && b > avail)
		b = avail;
	return b > (double)SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)b;
}

/* The record of one tuned point per step: its score, each tuned parameter, its round and
 * rows. */
#define STEP_KEYS(naxes) (4 + (naxes))

/* Tune over the grid (or just cross-validate the given parameters). */
static int cross_validate(train_state *s, const char *run)
{
	const mlctl_train_options *o = s->o;
	tune_options to = { 0 };
	evaluate_ctx ectx;
	mlctl_metric *steps = NULL;
	mlctl_kv kv[2];
	size_t i, a, nsteps = 0, np;
	int ret;

	if (o->tune && strcmp(o->tune, "default") == 0)
		ret = tune_grid_default(&s->grid);
	else if (o->tune)
		ret = tune_grid_parse(&s->grid, o->tune);
	else
		ret = evaluate_single_grid(&s->grid, &s->param);
	if (ret)
		return ret;
	evaluate_ctx_init(&ectx, s->schema, s->res->metric);
	to.folds = o->cv ? o->cv : 5;
	to.seed = o->seed;
	to.threads = o->threads;
	to.higher_is_better = metrics_higher_is_better(s->res->metric);
	to.score = evaluate_score;
	to.score_ctx = &ectx;
	to.progress = o->progress;
	to.progress_payload = o->progress_payload;
	to.progress_best = o->tune_progress;
	to.kernel_bytes = kernel_budget(o->kernel_memory);
	if (!o->search || strcmp(o->search, "grid") == 0)
		to.search = TUNE_SEARCH_GRID;
	else if (strcmp(o->search, "halving") == 0)
		to.search = TUNE_SEARCH_HALVING;
	else
		return mlctl_error_set(MLCTL_EUSAGE, "--search \"%s\": expected grid or halving", o->search);
	to.refine = o->refine;
	to.min_rows = (size_t)o->min_rows;
	if ((size_t)to.folds > s->ntrain)
		return mlctl_error_set(MLCTL_EUSAGE, "--cv %d: only %zu training rows", to.folds, s->ntrain);
	ret = tune_run(&s->tuned, &s->train_m->prob, &s->param, s->train_m->nfeatures, s->grid, &to);
	if (ret)
		return ret;
	np = s->tuned->npoints;
	s->res->grid_points = np;
	/* Every fitted point as a stepped metric: cv_<metric>, each tuned parameter, the
	 * halving round (1000 for the refinement) and the rows, at steps 0..n-1; then the best
	 * point's parameters again at step n (its score follows with the results), so that the
	 * latest value of each key, which `runs show` lists, is the point chosen and refitted. */
	steps = mlctl_calloc((np + 1) * STEP_KEYS(s->grid->naxes), sizeof(*steps));
	if (!steps)
		return MLCTL_ENOMEM;
	for (i = 0; i <= np; i++) {
		size_t p = i < np ? i : s->tuned->best;
		const tune_point *pt = &s->tuned->points[p];

		if (i < np) {
			steps[nsteps++] = (mlctl_metric){ ectx.cv_key, pt->score, (int64_t)i };
			steps[nsteps++] = (mlctl_metric){ "tune_round", pt->round, (int64_t)i };
			steps[nsteps++] = (mlctl_metric){ "tune_rows", (double)pt->rows, (int64_t)i };
			steps[nsteps++] = (mlctl_metric){ "tune_seconds", pt->seconds, (int64_t)i };
		}
		for (a = 0; a < s->grid->naxes; a++) {
			const char *pname = s->grid->axes[a].name;

			steps[nsteps++] = (mlctl_metric){ (char *)evaluate_grid_key(&ectx, a, pname),
							  evaluate_param_value(&pt->param, pname), (int64_t)i };
		}
	}
	ret = mlctl_run_log_metrics(s->reg, run, steps, nsteps);
	free(steps);
	if (ret)
		return ret;
	/* How the points were fitted: all from shared kernel matrices, all from the rows
	 * with libsvm's cache, or some of each. */
	kv[0] = (mlctl_kv){ "search", (char *)(to.search == TUNE_SEARCH_HALVING ? "halving" : "grid") };
	kv[1] = (mlctl_kv){ "tune_kernel", (char *)(s->tuned->nprecomputed == np ? "precomputed" :
						      s->tuned->nprecomputed ? "mixed" : "cache") };
	if ((ret = mlctl_run_log_params(s->reg, run, kv, 2)))
		return ret;
	if ((ret = result_add_metric(s->res, "tune_points_precomputed", (double)s->tuned->nprecomputed)) ||
	    (ret = result_add_metric(s->res, "tune_rounds", s->tuned->rounds)))
		return ret;
	/* Adopt the best point's parameters for the final fit (its weights are the base's);
	 * its CV score is logged with the other results, at step n (step 0 is the first
	 * point's). */
	s->param = s->tuned->points[s->tuned->best].param;
	ret = result_add_metric(s->res, ectx.cv_key, s->tuned->points[s->tuned->best].score);
	if (!ret)
		s->res->metrics[s->res->nmetrics - 1].step = (int64_t)np;
	return ret;
}

/* Score rows of the final model on a matrix; fills a metrics report. */
static int score_matrix(metrics_report **out, train_state *s, const schema_matrix *m, double **pred_out)
{
	double *pred = mlctl_calloc((size_t)m->prob.l, sizeof(*pred));
	double *proba = NULL, *dec = NULL;
	int ret;

	if (!pred)
		return MLCTL_ENOMEM;
	ret = evaluate_predict(pred, &proba, &dec, s->model, s->schema, m);
	if (!ret)
		ret = evaluate_report(out, s->schema, m->prob.y, pred, (size_t)m->prob.l, proba, dec);
	free(proba);
	free(dec);
	if (ret || !pred_out)
		free(pred);
	else
		*pred_out = pred;
	return ret;
}

/* At most n rows of m, drawn with seed and kept in their order; m itself when it is small
 * enough. The rows share m's nodes; free the view's x and y arrays when they differ. */
static int sample_matrix(schema_matrix *view, const schema_matrix *m, size_t n, uint64_t seed)
{
	size_t l = (size_t)m->prob.l, i, k = 0;
	uint64_t state = seed ^ 0x7a11ull;
	size_t *idx;

	*view = *m;
	if (l <= n)
		return 0;
	if (!(idx = mlctl_calloc(l, sizeof(*idx))))
		return MLCTL_ENOMEM;
	for (i = 0; i < l; i++)
		idx[i] = i;
	rng_shuffle(&state, idx, l);
	qsort(idx, n, sizeof(*idx), mlctl_cmp_size);
	view->prob.l = (int)n;
	view->prob.x = mlctl_calloc(n, sizeof(*view->prob.x));
	view->prob.y = mlctl_calloc(n, sizeof(*view->prob.y));
	if (!view->prob.x || !view->prob.y) {
		free(view->prob.x);
		free(view->prob.y);
		free(idx);
		return MLCTL_ENOMEM;
	}
	for (k = 0; k < n; k++) {
		view->prob.x[k] = m->prob.x[idx[k]];
		view->prob.y[k] = m->prob.y[idx[k]];
	}
	free(idx);
	return 0;
}

static int add_report(train_state *s, const metrics_report *r, const char *prefix)
{
	char key[256];
	size_t i;
	int ret = 0;

	for (i = 0; i < r->nvalues && !ret; i++) {
		snprintf(key, sizeof(key), "%s%s", prefix, r->values[i].name);
		ret = result_add_metric(s->res, key, r->values[i].value);
	}
	return ret;
}

/* The validation metrics the reference profile carries, for monitor's baseline: the
 * report's names without train's prefix, and what they were computed on. */
static int profile_metrics(train_state *s, const metrics_report *r, const char *on)
{
	const char **names = mlctl_calloc(r->nvalues + 1, sizeof(*names));
	double *values = mlctl_calloc(r->nvalues + 1, sizeof(*values));
	size_t i;
	int ret = MLCTL_ENOMEM;

	if (names && values) {
		for (i = 0; i < r->nvalues; i++) {
			names[i] = r->values[i].name;
			values[i] = r->values[i].value;
		}
		ret = profile_set_metrics(s->profile, names, values, r->nvalues);
		if (!ret)
			ret = profile_set_metrics_source(s->profile, on);
	}
	free(names);
	free(values);
	return ret;
}

/* Inside fit_and_store's transaction: the run's outputs, metrics and model params, and
 * the new model version. */
static int record_outputs(train_state *s, const char *run, mlctl_model_version *spec)
{
	mlctl_kv *kv;
	size_t i;
	int ret;

	if ((ret = mlctl_run_log_object(s->reg, run, "output", "model", spec->model_digest)) ||
	    (ret = mlctl_run_log_object(s->reg, run, "output", "preprocess", spec->preprocess_digest)) ||
	    (ret = mlctl_run_log_object(s->reg, run, "output", "profile", spec->profile_digest)) ||
	    (ret = mlctl_run_log_metrics(s->reg, run, s->res->metrics, s->res->nmetrics)))
		return ret;
	if (!(kv = mlctl_calloc(s->res->nparams, sizeof(*kv))))
		return MLCTL_ENOMEM;
	for (i = 0; i < s->res->nparams; i++) {
		kv[i].key = mlctl_asprintf("model.%s", s->res->params[i].key);
		kv[i].value = s->res->params[i].value;
	}
	ret = mlctl_run_log_params(s->reg, run, kv, s->res->nparams);
	for (i = 0; i < s->res->nparams; i++)
		free(kv[i].key);
	free(kv);
	if (ret)
		return ret;
	spec->name = (char *)s->o->name;
	snprintf(spec->run, sizeof(spec->run), "%s", run);
	spec->svm_type = (char *)model_type_name(s->param.svm_type);
	spec->kernel = (char *)model_kernel_name(s->param.kernel_type);
	return mlctl_model_register(&s->res->version, s->reg, spec);
}

static int fit_and_store(train_state *s, const char *run)
{
	mlctl_model_version spec = { 0 };
	char *text = NULL, *pre = NULL, *prof = NULL, ver[32];
	size_t len, plen, flen;
	double t0, *pred = NULL;
	int ret;

	t0 = mlctl_monotonic();
	ret = model_train(&s->model, &s->train_m->prob, &s->param, s->train_m->nfeatures, s->o->seed);
	if (ret)
		return ret;
	s->res->train_seconds = mlctl_monotonic() - t0;
	s->res->nsv = model_nsv(s->model);
	/* Chosen parameters, as the model will be described everywhere. */
	if ((ret = evaluate_describe_params(&s->model->param, add_param_cb, s->res)))
		return ret;
	/* Held-out data, else the training data, gives the reference prediction profile. */
	if (s->test_m) {
		if ((ret = score_matrix(&s->test_report, s, s->test_m, &pred)) || (ret = add_report(s, s->test_report, "holdout_")) ||
		    (ret = profile_metrics(s, s->test_report, "holdout")))
			goto out;
		s->res->test_rows = (size_t)s->test_m->prob.l;
		ret = profile_add_predictions(s->profile, s->schema, pred, (size_t)s->test_m->prob.l);
	} else {
		metrics_report *train_report = NULL;
		schema_matrix sample;

		/* Without held-out data, a seeded sample of the training rows gives the train_*
		 * metrics and the reference predictions: scoring every row of a large set would
		 * cost as much as the fit itself, for numbers that only say it fits. */
		if ((ret = sample_matrix(&sample, s->train_m, TRAIN_SAMPLE_ROWS, s->o->seed)))
			goto out;
		if (!(ret = score_matrix(&train_report, s, &sample, &pred)) &&
		    !(ret = add_report(s, train_report, "train_")))
			ret = profile_metrics(s, train_report, "train-sample");
		metrics_report_free(train_report);
		if (!ret)
			ret = profile_add_predictions(s->profile, s->schema, pred, (size_t)sample.prob.l);
		if (sample.prob.x != s->train_m->prob.x) {
			free(sample.prob.x);
			free(sample.prob.y);
		}
	}
	if (ret)
		goto out;
	if ((ret = result_add_metric(s->res, "n_sv", s->res->nsv)) ||
	    (ret = result_add_metric(s->res, "train_seconds", s->res->train_seconds)) ||
	    (ret = result_add_metric(s->res, "rows", (double)s->ntrain)))
		goto out;
	if ((ret = model_save(&text, &len, s->model)) || (ret = schema_save(&pre, &plen, s->schema)) ||
	    (ret = profile_save(&prof, &flen, s->profile)))
		goto out;
	/*
	 * The store → register path. The objects go into the store first (their files and
	 * rows); that takes the store lock, which keeps gc off them until the references are
	 * committed. Then one transaction records the lineage, metrics, params, the model
	 * version and the run's success: a reader (and a kill) sees all of it or none.
	 */
	if ((ret = mlctl_store_put(spec.model_digest, s->reg, text, len, "application/x-libsvm-model")) ||
	    (ret = mlctl_store_put(spec.preprocess_digest, s->reg, pre, plen, "application/yaml")) ||
	    (ret = mlctl_store_put(spec.profile_digest, s->reg, prof, flen, "application/yaml")))
		goto out;
	snprintf(s->res->model_digest, sizeof(s->res->model_digest), "%s", spec.model_digest);
	if ((ret = mlctl_registry_begin(s->reg)))
		goto out;
	ret = record_outputs(s, run, &spec);
	if (!ret) {
		snprintf(ver, sizeof(ver), "%d", s->res->version);
		if (!(ret = mlctl_run_set_tag(s->reg, run, "model_version", ver)))
			ret = mlctl_run_finish(s->reg, run, NULL);
	}
	if (ret)
		mlctl_registry_rollback(s->reg);
	else
		ret = mlctl_registry_commit(s->reg);
out:
	free(pred);
	free(text);
	free(pre);
	free(prof);
	return ret;
}

static void state_release(train_state *s)
{
	ds_table_free(s->table);
	ds_table_free(s->test_table);
	schema_matrix_free(s->train_m);
	schema_matrix_free(s->test_m);
	free(s->train_rows);
	free(s->test_rows);
	if (s->model)
		model_free(s->model);
	if (s->param_init)
		model_param_release(&s->param);
	tune_grid_free(s->grid);
	tune_result_free(s->tuned);
	profile_free(s->profile);
	schema_free(s->schema);
	metrics_report_free(s->test_report);
}

static int schema_options_from(schema_options *so, bool *type_given, const mlctl_train_options *o)
{
	const char *type = NULL;
	size_t i;

	so->label = o->label;
	so->id_columns = o->id_columns;
	so->n_id_columns = o->n_id_columns;
	so->features = o->features;
	so->n_features = o->n_features;
	so->exclude = o->exclude;
	so->n_exclude = o->n_exclude;
	so->categorical = o->categorical;
	so->n_categorical = o->n_categorical;
	if (o->scale && !schema_scale_parse(o->scale, &so->scale))
		return mlctl_error_set(MLCTL_EUSAGE, "--scale \"%s\": expected minmax, standard or none", o->scale);
	for (i = 0; i < o->n_svm; i++)
		if (strcmp(o->svm[i].key, "type") == 0)
			type = o->svm[i].value;
	*type_given = type != NULL;
	if (type && (strcmp(type, "epsilon-svr") == 0 || strcmp(type, "nu-svr") == 0))
		so->task = SCHEMA_TASK_REGRESS;
	else if (type && strcmp(type, "one-class") == 0)
		so->task = SCHEMA_TASK_ONECLASS;
	else
		so->task = SCHEMA_TASK_CLASSIFY;
	return 0;
}

/*
 * Without --type, the label decides (schema_infer_task): classification is c-svc,
 * regression epsilon-svr. Either way the result says which task was trained and why, for
 * the summary line and --json.
 */
static int choose_task(train_state *s, schema_options *so, bool type_given)
{
	schema_inference inf;
	int ret;

	s->res->task_inferred = !type_given;
	if (type_given)
		return 0;
	if ((ret = schema_infer_task(&inf, s->table, so)))
		return ret;
	so->task = inf.task;
	if (inf.task == SCHEMA_TASK_REGRESS)
		s->res->task_reason = inf.integers ?
			mlctl_asprintf("label has %zu distinct values", inf.ndistinct) :
			mlctl_strdup("label has values that are not integers");
	return s->res->task_reason || inf.task != SCHEMA_TASK_REGRESS ? 0 : MLCTL_ENOMEM;
}

/* The task's name and, when nothing else explains it, its reason (classes, --type). */
static int describe_task(train_state *s)
{
	mlctl_train_result *r = s->res;
	schema_task t = schema_get_task(s->schema);

	r->task = mlctl_strdup(t == SCHEMA_TASK_REGRESS ? "regression" :
			       t == SCHEMA_TASK_ONECLASS ? "one-class" : "classification");
	if (!r->task_reason) {
		if (t == SCHEMA_TASK_CLASSIFY)
			r->task_reason = mlctl_asprintf("%zu classes%s", r->nclasses, r->task_inferred ? "" : ", given by --type");
		else
			r->task_reason = mlctl_strdup(r->task_inferred ? "" : "given by --type");
	}
	return r->task && r->task_reason ? 0 : MLCTL_ENOMEM;
}

/*
 * --store-data: put the data file itself into the store (compressed). It is read a second
 * time, so it must still be what was loaded: its digest must be the table's. The store
 * lock this takes is kept until mlctl_train() ends, after the run's lineage (which names
 * the digest and so keeps the object from gc) is committed.
 */
static int store_data(mlctl_registry *reg, const char *path, const char *loaded_digest)
{
	char digest[65];
	int ret;

	if ((ret = mlctl_data_store(digest, reg, path)))
		return ret;
	if (strcmp(digest, loaded_digest) != 0)
		return mlctl_error_set(MLCTL_EDATA,
				       "%s changed while it was read: digest %.12s when loaded, %.12s when stored; train again",
				       path, loaded_digest, digest);
	return 0;
}

static int run_training(train_state *s, const char *run)
{
	const mlctl_train_options *o = s->o;
	schema_options so = SCHEMA_OPTIONS_INIT;
	ds_format fmt = DS_FORMAT_AUTO;
	double t0 = mlctl_monotonic();
	bool type_given = false;
	int ret;

	if (o->format && !ds_format_parse(o->format, &fmt))
		return mlctl_error_set(MLCTL_EUSAGE, "--format \"%s\": expected csv, tsv or libsvm", o->format);
	if ((ret = schema_options_from(&so, &type_given, o)))
		return ret;
	if ((ret = log_options(s, run)))
		return ret;
	if ((ret = ds_table_load(&s->table, o->data, fmt)))
		return ret;
	if (o->store_data && (ret = store_data(s->reg, o->data, s->table->digest)))
		return ret;
	snprintf(s->res->dataset_digest, sizeof(s->res->dataset_digest), "%s", s->table->digest);
	if ((ret = mlctl_dataset_record(s->reg, s->table->digest, o->data, ds_format_name(s->table->format),
					(int64_t)s->table->nrows, (int64_t)s->table->ncols)) ||
	    (ret = mlctl_run_log_object(s->reg, run, "input", "data", s->table->digest)))
		return ret;
	if ((ret = choose_task(s, &so, type_given)))
		return ret;
	/* The split needs the label (for stratification), which a first fit on all rows
	 * validates; the schema is then fitted again on the training rows alone. */
	if ((ret = schema_fit(&s->schema, s->table, &so)))
		return ret;
	if ((ret = split_rows(s)))
		return ret;
	if (s->ntest) {
		schema_free(s->schema);
		s->schema = NULL;
		if ((ret = schema_fit_rows(&s->schema, s->table, s->train_rows, s->ntrain, &so)))
			return ret;
	}
	s->res->rows = s->ntrain;
	s->res->columns = schema_ninputs(s->schema);
	s->res->features = schema_nfeatures(s->schema);
	s->res->nclasses = schema_nclasses(s->schema);
	if ((ret = schema_transform_table(&s->train_m, s->schema, s->table, s->train_rows, s->ntrain, true)))
		return ret;
	if (s->ntest)
		ret = schema_transform_table(&s->test_m, s->schema, s->table, s->test_rows, s->ntest, true);
	else if (o->test_data) {
		if ((ret = ds_table_load(&s->test_table, o->test_data, fmt)))
			return ret;
		if (o->store_data && (ret = store_data(s->reg, o->test_data, s->test_table->digest)))
			return ret;
		snprintf(s->res->test_digest, sizeof(s->res->test_digest), "%s", s->test_table->digest);
		if ((ret = mlctl_dataset_record(s->reg, s->test_table->digest, o->test_data,
						ds_format_name(s->test_table->format), (int64_t)s->test_table->nrows,
						(int64_t)s->test_table->ncols)) ||
		    (ret = mlctl_run_log_object(s->reg, run, "input", "test_data", s->test_table->digest)))
			return ret;
		ret = schema_transform_table(&s->test_m, s->schema, s->test_table, NULL, 0, true);
	}
	if (ret)
		return ret;
	if ((ret = profile_from_table(&s->profile, s->table, s->schema, s->train_rows, s->ntrain)))
		return ret;
	if ((ret = setup_params(s)))
		return ret;
	if (!type_given && so.task == SCHEMA_TASK_REGRESS)
		s->param.svm_type = EPSILON_SVR;
	if ((ret = describe_task(s)))
		return ret;
	s->res->metric = mlctl_strdup(o->metric ? o->metric : default_metric(schema_get_task(s->schema)));
	if (!s->res->metric)
		return MLCTL_ENOMEM;
	if (!metrics_known(s->res->metric))
		return mlctl_error_set(MLCTL_EUSAGE, "--metric \"%s\": unknown metric", s->res->metric);
	if ((o->tune || o->cv) && (ret = cross_validate(s, run)))
		return ret;
	if ((ret = fit_and_store(s, run)))
		return ret;
	s->res->total_seconds = mlctl_monotonic() - t0;
	s->res->svm_type = mlctl_strdup(model_type_name(s->param.svm_type));
	s->res->kernel = mlctl_strdup(model_kernel_name(s->param.kernel_type));
	s->res->data_stored = o->store_data;
	return 0;
}

int mlctl_train(mlctl_train_result **out, mlctl_registry *reg, const mlctl_train_options *o)
{
	mlctl_run_start_options ro = MLCTL_RUN_START_OPTIONS_INIT;
	train_state s = { 0 };
	char run[MLCTL_RUN_ID_SIZE];
	size_t i;
	int ret;

	*out = NULL;
	if (!o->data || !o->name)
		return mlctl_error_set(MLCTL_EUSAGE, "training needs a data file and a model name");
	if (!mlctl_name_valid(o->name))
		return mlctl_error_set(MLCTL_EUSAGE,
				       "invalid model name \"%s\": use letters, digits, '.', '_' and '-', starting with a letter or digit",
				       o->name);
	/* the options of a search, without one to shape */
	if (!o->tune && (o->search || o->refine || o->min_rows))
		return mlctl_error_set(MLCTL_EUSAGE, "--%s shapes the search of --tune GRID, which is not given",
				       o->min_rows ? "min-rows" : o->refine ? "refine" : "search");
	if (o->min_rows < 0)
		return mlctl_error_set(MLCTL_EUSAGE, "--min-rows %d: expected a number of rows", o->min_rows);
	if (o->min_rows && (!o->search || strcmp(o->search, "halving") != 0))
		return mlctl_error_set(MLCTL_EUSAGE, "--min-rows is the first round of --search halving, which is not given");
	s.o = o;
	s.reg = reg;
	if (!(s.res = mlctl_calloc(1, sizeof(*s.res))) || !(s.res->name = mlctl_strdup(o->name))) {
		mlctl_train_result_free(s.res);
		return MLCTL_ENOMEM;
	}
	ro.kind = "train";
	ro.name = o->name;
	ro.argc = o->argc;
	ro.argv = o->argv;
	if ((ret = mlctl_run_start(run, reg, &ro))) {
		mlctl_train_result_free(s.res);
		return ret;
	}
	snprintf(s.res->run, sizeof(s.res->run), "%s", run);
	for (i = 0, ret = 0; i < o->ntags && !ret; i++)
		ret = mlctl_run_set_tag(reg, run, o->tags[i].key, o->tags[i].value);
	if (!ret)
		ret = run_training(&s, run);
	/* On success the run was finished in the transaction that registered its model. */
	if (ret) {
		mlctl_run_fail(reg, run, ret);
		mlctl_train_result_free(s.res);
	} else {
		*out = s.res;
	}
	/* The references to what this run stored are committed (or it failed): gc may run. */
	mlctl_store_release(reg);
	state_release(&s);
	return ret;
}
