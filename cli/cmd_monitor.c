/*
 * cmd_monitor.c — `mlctl monitor MODEL|--target NAME --data FILE|--log FILE|--since RUN`:
 * drift and performance against the model's reference, for cron and CI (exit 1 on an
 * alert); `mlctl monitor history NAME|--target NAME`: each feature's statistic over the
 * recorded monitor runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "banned.h"

/* --fail-on dataset|feature|none */
static int parse_fail_on(cli_parser *p, const cli_option *opt, void *target, const char *value)
{
	mlctl_fail_on *out = target;

	(void)p;
	(void)opt;
	if (!strcmp(value, "dataset"))
		*out = MLCTL_FAIL_ON_DATASET;
	else if (!strcmp(value, "feature"))
		*out = MLCTL_FAIL_ON_FEATURE;
	else if (!strcmp(value, "none"))
		*out = MLCTL_FAIL_ON_NONE;
	else {
		cli_error("--fail-on %s: expected dataset, feature or none", value);
		return CLI_ERROR;
	}
	return CLI_OK;
}

#define O mlctl_monitor_options
const cli_option cli_monitor_options[] = {
	{ "target", 0, "NAME", "monitor the model deploy target NAME serves", CLI_STRING(O, target) },
	{ "data", 'd', "FILE", "current data: a CSV, TSV or libsvm file (a label column adds the performance)",
	  CLI_STRING(O, data) },
	{ "log", 0, "FILE", "current data: the prediction log of mlctl serve", CLI_STRING(O, log) },
	{ "since", 0, "RUN", "current data: what mlctl predict scored since RUN (its profiles, merged)", CLI_STRING(O, since) },
	{ "format", 0, "FMT", "format of --data: csv, tsv, libsvm (default: from the extension)", CLI_STRING(O, data_format) },
	{ "test", 0, "FEATURE=TEST", "use ks, chisquare, z, wasserstein, jensenshannon or psi for FEATURE (repeatable)",
	  CLI_KV(O, tests, ntests) },
	{ "threshold", 0, "X", "drift threshold of every test (default: the test's own, 0.05 for p-values, 0.1 for distances)",
	  CLI_DOUBLE(O, threshold) },
	{ "psi-threshold", 0, "X", "PSI above which a feature is flagged (default 0.2)", CLI_DOUBLE(O, psi_threshold) },
	{ "drift-share", 0, "X", "share of drifted features that is dataset drift (default 0.5)", CLI_DOUBLE(O, drift_share) },
	{ "max-drop", 0, "X", "alert when the model's metric drops by more than X (needs labels)", CLI_DOUBLE(O, max_drop) },
	{ "fail-on", 0, "WHAT", "what alerts: dataset (default), feature, none", CLI_CALL(O, fail_on, parse_fail_on) },
	{ "report", 0, "FILE.html", "write a self-contained HTML report", CLI_STRING(O, report) },
	{ "score-rows", 0, "N", "score a seeded sample of N rows of --data for the prediction drift; 0: every row "
	  "(default 20000; data with labels is scored in full)", CLI_SIZE(O, score_rows, 0, 1000000000) },
	{ "threads", 'j', "N", "reading and scoring threads (default: all cores)", CLI_INT(O, threads, 0, 1024) },
	{ "no-record", 0, NULL, "do not record a monitor run", CLI_FLAG(O, no_record) },
	CLI_OPTIONS_END
};
#undef O

static json_t *num(double v)
{
	return cli_json_num(isinf(v) ? (v > 0 ? 1e308 : -1e308) : v);
}

static json_t *feature_json(const mlctl_monitor_feature *f)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:b, s:o, s:b, s:o, s:o, s:o, s:I, s:I, s:o}", "name", f->name,
			 "type", f->categorical ? "categorical" : "numeric", "test", f->test, "statistic", num(f->statistic),
			 "pvalue", num(f->pvalue), "threshold", num(f->threshold), "drifted", f->drifted, "psi", num(f->psi),
			 "psi_alert", f->psi_alert, "missing_reference", num(f->ref_missing), "missing_current",
			 num(f->cur_missing), "unseen", num(f->unseen), "count_reference", (json_int_t)f->ref_count,
			 "count_current", (json_int_t)f->cur_count, "note", cli_json_str(f->note));
}

static json_t *result_json(const mlctl_monitor_result *r)
{
	json_t *feats = json_array(), *doc;
	size_t k;

	for (k = 0; k < r->nfeatures; k++)
		json_array_append_new(feats, feature_json(&r->features[k]));
	doc = json_pack("{s:o, s:s, s:s, s:I, s:I, s:o, s:I, s:f, s:b, s:b, s:o}", "run", cli_json_str(r->run[0] ? r->run : NULL),
			"model", r->model, "source", r->source, "reference_rows", (json_int_t)r->ref_rows, "current_rows",
			(json_int_t)r->cur_rows, "features", feats, "drifted_features", (json_int_t)r->ndrifted,
			"drift_share", r->drift_share, "dataset_drift", r->dataset_drift, "alert", r->alert, "why",
			cli_json_str(r->why));
	json_object_set_new(doc, "prediction", r->has_prediction ? feature_json(&r->prediction) : json_null());
	json_object_set_new(doc, "prediction_rows", json_integer((json_int_t)r->pred_rows));
	json_object_set_new(doc, "prediction_sampled", json_boolean(r->pred_sampled));
	if (r->has_performance)
		json_object_set_new(doc, "performance",
				    json_pack("{s:s, s:o, s:o, s:o, s:o, s:b}", "metric", r->metric, "baseline", num(r->baseline),
					      "current", num(r->current), "drop", num(r->drop), "max_drop", num(r->max_drop),
					      "alert", r->performance_alert));
	else
		json_object_set_new(doc, "performance", json_null());
	return doc;
}

static const char *fmt(double v)
{
	if (isnan(v))
		return "-";
	if (isinf(v))
		return v > 0 ? "inf" : "-inf";
	return cli_fmt_double(v);
}

static const char *fmt_pct(double v)
{
	static char buf[4][16];
	static int k;

	if (isnan(v))
		return "-";
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%.1f%%", v * 100);
	return buf[k];
}

static void feature_row(cli_table *t, const mlctl_monitor_feature *f)
{
	char stat[64], thr[64];

	snprintf(stat, sizeof(stat), "%s%s%s", fmt(f->statistic), isnan(f->pvalue) ? "" : " p=", isnan(f->pvalue) ? "" : fmt(f->pvalue));
	snprintf(thr, sizeof(thr), "%s %s", isnan(f->pvalue) ? ">=" : "p <", fmt(f->threshold));
	cli_table_row(t, f->name, f->categorical ? "cat" : "num", f->test, stat, thr, fmt(f->psi),
		      fmt_pct(f->cur_missing), f->drifted ? "DRIFT" : (f->note && !strcmp(f->test, "none") ? "-" : "ok"));
}

static void print_result(const mlctl_monitor_result *r)
{
	cli_table *t = cli_table_new(8, "feature", "type", "test", "statistic", "drift if", "psi", "missing", "verdict");
	size_t k;

	printf("Monitored %s on %s: %zu rows against a reference of %zu\n\n", r->model, r->source, r->cur_rows, r->ref_rows);
	for (k = 0; k < r->nfeatures; k++)
		feature_row(t, &r->features[k]);
	if (r->has_prediction)
		feature_row(t, &r->prediction);
	cli_table_print(t, stdout);
	cli_table_free(t);
	printf("\ndataset drift: %s (%zu of %zu features drifted; threshold %s of them)\n", r->dataset_drift ? "yes" : "no",
	       r->ndrifted, r->nfeatures, fmt_pct(r->drift_share));
	if (r->has_prediction)
		printf("prediction drift: %s (%s %s)\n", r->prediction.drifted ? "yes" : "no", r->prediction.test,
		       fmt(r->prediction.statistic));
	if (r->has_prediction && r->pred_sampled)
		printf("predictions from %zu of %zu rows (seeded sample; --score-rows 0 scores every row)\n",
		       r->pred_rows, r->cur_rows);
	if (r->has_performance)
		printf("performance: %s %s against %s at validation (drop %s%s%s)\n", r->metric, fmt(r->current), fmt(r->baseline),
		       fmt(r->drop), isnan(r->max_drop) ? "" : ", --max-drop ", isnan(r->max_drop) ? "" : fmt(r->max_drop));
	for (k = 0; k < r->nfeatures; k++)
		if (r->features[k].note)
			printf("note: %s: %s\n", r->features[k].name, r->features[k].note);
	printf("verdict: %s%s%s\n", r->alert ? "ALERT" : "ok", r->why ? ": " : "", r->why ? r->why : "");
	if (r->run[0])
		printf("run %s\n", r->run);
}

static int monitor_main(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_monitor_options o = MLCTL_MONITOR_OPTIONS_INIT;
	mlctl_monitor_result *res = NULL;
	cli_parser p;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl monitor MODEL|--target NAME --data FILE|--log FILE|--since RUN [options]",
			"Compare current data with the model's reference profile, feature by feature and on the\n"
			"predictions (Evidently's default tests), and the performance when the data has labels.\n"
			"Exit 0 without an alert, 1 with one (dataset drift, prediction drift, a drop beyond\n"
			"--max-drop), 65/66 on bad input.",
			cli_monitor_options, argc, argv);
	if ((r = cli_parse(&p, &o)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos > 1 || (p.npos == 1) == (o.target != NULL)) {
		status = cli_usage_error(&p, "name one model, or --target NAME");
		goto out;
	}
	o.model = p.npos ? p.pos[0] : NULL;
	cli_open_gently(ctx);
	if (!ctx->reg && !(ctx->registry_status == MLCTL_ENOREGISTRY && o.model && !mlctl_model_ref_is_registry(o.model))) {
		status = cli_registry_failed(ctx);
		goto out;
	}
	if (ctx->reg && mlctl_registry_readonly(ctx->reg) && !o.no_record) {
		o.no_record = true;
		cli_warn("%s cannot be written: monitoring without recording a run", mlctl_registry_path(ctx->reg));
	}
	o.argc = ctx->argc;
	o.argv = ctx->argv;
	ret = mlctl_monitor(&res, ctx->reg, &o);
	if (ret) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json)
		status = cli_json_print(result_json(res));
	else if (!ctx->quiet)
		print_result(res);
	if (o.report && !ctx->quiet && !ctx->json)
		printf("report: %s\n", o.report);
	if (!status && res->alert)
		status = MLCTL_EXIT_VERDICT;
out:
	mlctl_monitor_result_free(res);
	cli_parser_release(&p);
	return status;
}

typedef struct history_args {
	const char *target;
	size_t limit;
} history_args;

#define H history_args
static const cli_option history_opts[] = {
	{ "target", 0, "NAME", "the model deploy target NAME serves", CLI_STRING(H, target) },
	{ "limit", 'n', "N", "the last N monitor runs (default 30)", CLI_SIZE(H, limit, 1, 100000) },
	CLI_OPTIONS_END
};
#undef H

/* A sparkline of v[0..n) (NaN as a gap), scaled between its min and max. */
static void sparkline(char *out, size_t cap, const double *v, size_t n, size_t stride)
{
	static const char *const bars[] = { "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588" };
	double lo = INFINITY, hi = -INFINITY;
	size_t k, len = 0;

	for (k = 0; k < n; k++) {
		double x = v[k * stride];

		if (!isnan(x) && !isinf(x)) {
			lo = x < lo ? x : lo;
			hi = x > hi ? x : hi;
		}
	}
	out[0] = '\0';
	for (k = 0; k < n && len + 4 < cap; k++) {
		double x = v[k * stride];
		const char *b = " ";

		if (!isnan(x) && !isinf(x))
			b = bars[hi > lo ? (int)((x - lo) / (hi - lo) * 7.999) : 0];
		len += (size_t)snprintf(out + len, cap - len, "%s", b);
	}
}

static int monitor_history(cli_ctx *ctx, int argc, char **argv)
{
	history_args a = { NULL, 0 };
	mlctl_monitor_history *h = NULL;
	cli_parser p;
	int r, ret, status = 0;
	size_t i, k;

	cli_parser_init(&p, ctx, "mlctl monitor history NAME|--target NAME [--limit N]",
			"Each feature's drift statistic over the recorded monitor runs of a model, oldest first.",
			history_opts, argc, argv);
	if ((r = cli_parse(&p, &a)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos > 1 || (p.npos == 1) == (a.target != NULL)) {
		status = cli_usage_error(&p, "name one model, or --target NAME");
		goto out;
	}
	cli_open_gently(ctx);
	if (!ctx->reg) {
		status = cli_registry_failed(ctx);
		goto out;
	}
	if ((ret = mlctl_monitor_history_get(&h, ctx->reg, p.npos ? p.pos[0] : NULL, a.target, a.limit))) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json) {
		json_t *runs = json_array();

		for (k = 0; k < h->npoints; k++) {
			json_t *st = json_object();

			for (i = 0; i < h->nfeatures; i++)
				json_object_set_new(st, h->features[i], num(h->points[k].statistic[i]));
			json_array_append_new(runs, json_pack("{s:s, s:o, s:o, s:b, s:o}", "run", h->points[k].run, "time",
							      cli_json_time(h->points[k].time_ms), "statistics", st,
							      "dataset_drift", h->points[k].dataset_drift, "prediction",
							      num(h->points[k].prediction)));
		}
		status = cli_json_print(json_pack("{s:s, s:o}", "model", h->model, "runs", runs));
	} else {
		bool tty = isatty(STDOUT_FILENO);
		cli_table *t = tty ? cli_table_new(5, "feature", "first", "last", "min..max", "trend")
				   : cli_table_new(4, "feature", "first", "last", "min..max");

		printf("Monitor runs of %s: %zu\n\n", h->model, h->npoints);
		for (i = 0; i < h->nfeatures && h->npoints; i++) {
			double lo = INFINITY, hi = -INFINITY, *col = malloc(h->npoints * sizeof(double));
			char range[80], line[512];

			if (!col)
				break;
			for (k = 0; k < h->npoints; k++) {
				col[k] = h->points[k].statistic[i];
				if (!isnan(col[k])) {
					lo = col[k] < lo ? col[k] : lo;
					hi = col[k] > hi ? col[k] : hi;
				}
			}
			snprintf(range, sizeof(range), "%s..", fmt(lo > hi ? NAN : lo));
			strncat(range, fmt(lo > hi ? NAN : hi), sizeof(range) - strlen(range) - 1);
			sparkline(line, sizeof(line), col, h->npoints, 1);
			if (tty)
				cli_table_row(t, h->features[i], fmt(col[0]), fmt(col[h->npoints - 1]), range, line);
			else
				cli_table_row(t, h->features[i], fmt(col[0]), fmt(col[h->npoints - 1]), range);
			free(col);
		}
		cli_table_print(t, stdout);
		cli_table_free(t);
	}
out:
	mlctl_monitor_history_free(h);
	cli_parser_release(&p);
	return status;
}

/* `mlctl monitor MODEL ...` is the command's own form; `history` is a subcommand. */
const cli_subcommand cmd_monitor_forms[] = {
	{ NULL, monitor_main },
	{ "history", monitor_history },
	{ NULL, NULL }
};
