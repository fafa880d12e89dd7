/*
 * cmd_train.c — `mlctl train DATA --name NAME [options]`: fit preprocessing and an SVM,
 * tune it, record the run and register the next version of NAME.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "banned.h"

/* --holdout FRAC: strictly between 0 and 1. */
static int parse_holdout(cli_parser *p, const cli_option *opt, void *target, const char *value)
{
	double *out = target;

	if (!cli_double(opt->name, value, out) || *out <= 0 || *out >= 1) {
		cli_error("--holdout: expected a fraction between 0 and 1, got \"%s\"", value);
		return CLI_ERROR;
	}
	return CLI_OK;
}

#define O mlctl_train_options
/* The libsvm options go to o.svm under the library's parameter names, in order. */
const cli_option cli_train_options[] = {
	{ "name", 0, "NAME", "model name to register a new version of (required)", CLI_STRING(O, name) },
	{ "type", 's', "TYPE", "c-svc, nu-svc, one-class, epsilon-svr, nu-svr (default: from the label)",
	  CLI_PARAM(O, svm, n_svm, "type") },
	{ "kernel", 't', "KERNEL", "rbf (default), linear, poly, sigmoid", CLI_PARAM(O, svm, n_svm, "kernel") },
	{ "cost", 'C', "C", "cost parameter C (default 1)", CLI_PARAM(O, svm, n_svm, "C") },
	{ "gamma", 'g', "G", "kernel gamma (default 1/features)", CLI_PARAM(O, svm, n_svm, "gamma") },
	{ "degree", 'd', "D", "polynomial degree (default 3)", CLI_PARAM(O, svm, n_svm, "degree") },
	{ "coef0", 'r', "R", "kernel coef0 (default 0)", CLI_PARAM(O, svm, n_svm, "coef0") },
	{ "nu", 'n', "NU", "nu of nu-SVC, one-class and nu-SVR (default 0.5)", CLI_PARAM(O, svm, n_svm, "nu") },
	{ "epsilon", 'p', "E", "epsilon of epsilon-SVR (default 0.1)", CLI_PARAM(O, svm, n_svm, "epsilon") },
	{ "class-weight", 'w', "LABEL=W", "weight of a class's C (repeatable)", CLI_LIST(O, class_weights, n_class_weights) },
	{ "probability", 'b', NULL, "fit probability estimates (Platt scaling)", CLI_FLAG(O, probability) },
	{ "cache", 'm', "MB", "kernel cache size in MB (default 100)", CLI_PARAM(O, svm, n_svm, "cache") },
	{ "tolerance", 'e', "EPS", "stopping tolerance (default 0.001)", CLI_PARAM(O, svm, n_svm, "tolerance") },
	{ "no-shrinking", 0, NULL, "turn the shrinking heuristics off", CLI_PARAM_SET(O, svm, n_svm, "shrinking", "0") },
	{ "scale", 0, "MODE", "feature scaling: minmax (to [-1,1], default), standard, none", CLI_STRING(O, scale) },
	{ "label", 'l', "COL", "label column (default: 'label', or the libsvm label)", CLI_STRING(O, label) },
	{ "id-column", 0, "COL", "an id column carried through scoring, not a feature (repeatable)",
	  CLI_LIST(O, id_columns, n_id_columns) },
	{ "features", 0, "COLS", "use only these columns (comma-separated)", CLI_CSV(O, features, n_features) },
	{ "exclude", 0, "COLS", "do not use these columns (comma-separated)", CLI_CSV(O, exclude, n_exclude) },
	{ "categorical", 0, "COLS", "treat these columns as categorical (comma-separated)",
	  CLI_CSV(O, categorical, n_categorical) },
	{ "format", 'f', "FMT", "data format: csv, tsv, libsvm (default: from the extension)", CLI_STRING(O, format) },
	{ "cv", 'v', "K", "k-fold cross-validation (default 5 when tuning)", CLI_INT(O, cv, 2, 1000) },
	{ "tune", 0, "GRID", "grid search, e.g. 'C=2^-5..2^15:x4,gamma=2^3..2^-15:/4', or 'default'", CLI_STRING(O, tune) },
	{ "search", 0, "HOW", "grid (every point, default) or halving (successive halving, factor 3)",
	  CLI_STRING(O, search) },
	{ "min-rows", 0, "N", "halving: rows of the first round (default: as HalvingGridSearchCV's 'exhaust')",
	  CLI_INT(O, min_rows, 1, 1 << 30) },
	{ "refine", 0, NULL, "after the search, a finer grid around the best point (half steps, +-1 step)",
	  CLI_FLAG(O, refine) },
	{ "kernel-memory", 0, "MB", "memory for the shared kernel matrix of tuning (default: a quarter of RAM; "
	  "0: none)", CLI_INT(O, kernel_memory, 0, 1 << 30) },
	{ "metric", 0, "M", "metric to tune for: accuracy, balanced_accuracy, f1_macro, roc_auc; mse, mae, r2",
	  CLI_STRING(O, metric) },
	{ "threads", 'j', "N", "worker threads for tuning (default: all cores)", CLI_INT(O, threads, 0, 1024) },
	{ "seed", 0, "N", "seed for folds, splits and probability fitting (default 1)", CLI_U64(O, seed, 0, 0x7fffffffL) },
	{ "holdout", 0, "FRAC", "hold out this fraction of the rows and score the model on it",
	  CLI_CALL(O, holdout, parse_holdout) },
	{ "test", 0, "DATA", "score the model on this file", CLI_STRING(O, test_data) },
	{ "tag", 0, "K=V", "a tag on the run (repeatable)", CLI_KV(O, tags, ntags) },
	{ "store-data", 0, NULL, "store the data (and --test) files themselves, compressed (mlctl data)",
	  CLI_FLAG(O, store_data) },
	CLI_OPTIONS_END
};
#undef O

/* The tuning bar on a terminal: points done of the total, the best CV score so far and the
 * time left at the pace so far. */
static double tune_started;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool tune_progress(uint64_t done, uint64_t total, double best, void *payload)
{
	const cli_ctx *ctx = payload;
	double el = now() - tune_started;
	int width = 24, filled;

	if ((ctx && (ctx->quiet || ctx->json)) || !isatty(STDERR_FILENO) || !total)
		return true;
	filled = (int)((double)done / (double)total * width);
	cli_progress_show("\rtuning [%.*s%*s] %llu/%llu points, best %s, %s left\033[K", filled,
			  "########################", width - filled, "", (unsigned long long)done,
			  (unsigned long long)total, isnan(best) ? "-" : cli_fmt_double(best),
			  done ? cli_fmt_duration((int64_t)(el / (double)done * (double)(total - done) * 1000))
			       : "?");
	return true;
}

/* The metrics worth a line on a terminal; --json has them all. */
static bool headline(const char *k)
{
	static const char *const names[] = { "accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "log_loss",
					     "rmse", "mae", "r2", "outlier_rate" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(k, names[i]) == 0)
			return true;
	return false;
}

static void print_result(const mlctl_train_result *r, const char *data)
{
	size_t i;
	double v;
	bool any = false;

	printf("Trained %s version %d (run %s)\n", r->name, r->version, r->run);
	printf("  data      %s: %zu rows, %zu input columns, %d features\n", data, r->rows, r->columns, r->features);
	printf("  task      %s (%s%s%s)\n", r->task, r->svm_type, *r->task_reason ? ", " : "", r->task_reason);
	printf("  model     %s, %s kernel:", r->svm_type, r->kernel);
	for (i = 0; i < r->nparams; i++)
		if (strcmp(r->params[i].key, "type") && strcmp(r->params[i].key, "kernel"))
			printf(" %s=%s", r->params[i].key, r->params[i].value);
	printf("\n            %d support vectors, fitted in %s\n", r->nsv, cli_fmt_duration((int64_t)(r->train_seconds * 1000)));
	if (r->grid_points) {
		for (i = 0; i < r->nmetrics; i++)
			if (strncmp(r->metrics[i].key, "cv_", 3) == 0)
				v = r->metrics[i].value, any = true;
		printf("  tuning    %zu grid point%s by cross-validation; best %s %s\n", r->grid_points,
		       r->grid_points == 1 ? "" : "s", r->metric, any ? cli_fmt_double(v) : "-");
		for (i = 0; i < r->nmetrics; i++)
			if (strcmp(r->metrics[i].key, "tune_points_precomputed") == 0)
				printf("            %s of them from a shared kernel matrix\n",
				       cli_fmt_double(r->metrics[i].value));
	}
	if (r->test_rows) {
		printf("  holdout   %zu rows:", r->test_rows);
		for (i = 0; i < r->nmetrics; i++) {
			const char *k = r->metrics[i].key;

			if (strncmp(k, "holdout_", 8) == 0 && headline(k + 8))
				printf(" %s %s", k + 8, cli_fmt_double(r->metrics[i].value));
		}
		printf("\n");
	}
}

/* Everything the run recorded, in one document: the result, the options that shaped it
 * (seed, folds), the versions that made it and the digests of the stored objects. */
static json_t *result_json(cli_ctx *ctx, const mlctl_train_result *r, const mlctl_train_options *o)
{
	json_t *params = json_object(), *metrics = json_object(), *doc;
	mlctl_model_version *mv = NULL;
	char ref[300];
	size_t i;

	for (i = 0; i < r->nparams; i++)
		json_object_set_new(params, r->params[i].key, json_string(r->params[i].value));
	for (i = 0; i < r->nmetrics; i++)
		json_object_set_new(metrics, r->metrics[i].key, cli_json_num(r->metrics[i].value));
	doc = json_pack("{s:s, s:s, s:i, s:{s:s, s:s, s:I, s:I, s:i, s:I}, s:o, s:i, s:I, s:s, s:o, s:f, s:f, s:s}",
			"run", r->run, "name", r->name, "version", r->version,
			"data", "path", o->data, "digest", r->dataset_digest, "rows", (json_int_t)r->rows,
			"columns", (json_int_t)r->columns, "features", r->features, "test_rows", (json_int_t)r->test_rows,
			"params", params, "n_sv", r->nsv, "grid_points", (json_int_t)r->grid_points,
			"metric", r->metric ? r->metric : "", "metrics", metrics,
			"train_seconds", r->train_seconds, "total_seconds", r->total_seconds,
			"model_digest", r->model_digest);
	if (!doc)
		return NULL;
	json_object_set_new(doc, "classes", json_integer((json_int_t)r->nclasses));
	json_object_set_new(doc, "task", json_pack("{s:s, s:s, s:b, s:s}", "kind", r->task, "svm_type", r->svm_type,
						   "inferred", r->task_inferred, "reason", r->task_reason));
	json_object_set_new(doc, "seed", json_integer((json_int_t)o->seed));
	json_object_set_new(doc, "cv", json_integer(o->tune || o->cv ? (o->cv ? o->cv : 5) : 0));
	json_object_set_new(doc, "holdout", o->holdout > 0 ? json_real(o->holdout) : json_null());
	json_object_set_new(doc, "test_data", o->test_data ? json_string(o->test_data) : json_null());
	json_object_set_new(doc, "test_digest", r->test_digest[0] ? json_string(r->test_digest) : json_null());
	json_object_set_new(doc, "data_stored", json_boolean(r->data_stored));
	json_object_set_new(doc, "mlctl_version", json_string(mlctl_version()));
	json_object_set_new(doc, "libsvm_version", json_integer(mlctl_libsvm_version()));
	snprintf(ref, sizeof(ref), "%s:%d", r->name, r->version);
	if (mlctl_model_resolve(&mv, ctx->reg, ref) == 0) {
		json_object_set_new(doc, "preprocess_digest", json_string(mv->preprocess_digest));
		json_object_set_new(doc, "profile_digest", json_string(mv->profile_digest));
		mlctl_model_version_free(mv);
	}
	return doc;
}

/* What the command line says beyond the options: one data file, a name, not both --holdout
 * and --test. Returns 0 or the exit status. */
static int check_args(const cli_parser *p, const mlctl_train_options *o)
{
	if (p->npos != 1)
		return cli_usage_error(p, p->npos ? "train takes one data file" : "no data file given");
	if (!o->name)
		return cli_usage_error(p, "--name is required");
	if (o->holdout > 0 && o->test_data)
		return cli_usage_error(p, "give --holdout or --test, not both");
	return 0;
}

int cmd_train(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_train_options o = MLCTL_TRAIN_OPTIONS_INIT;
	mlctl_train_result *res = NULL;
	cli_parser p;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl train DATA --name NAME [options]",
			"Fit preprocessing and an SVM on DATA, optionally tuned by cross-validation, record the run and\n"
			"register the next version of model NAME.", cli_train_options, argc, argv);
	if ((r = cli_parse(&p, &o)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if ((status = check_args(&p, &o)))
		goto out;
	o.data = p.pos[0];
	o.argc = ctx->argc;
	o.argv = ctx->argv;
	o.progress = cli_progress;
	o.progress_payload = ctx;
	o.tune_progress = tune_progress;
	tune_started = now();
	ret = mlctl_train(&res, ctx->reg, &o);
	cli_progress_done();
	if (ret) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json)
		status = cli_json_print(result_json(ctx, res, &o));
	else if (!ctx->quiet)
		print_result(res, o.data);
out:
	mlctl_train_result_free(res);
	cli_parser_release(&p);
	return status;
}
