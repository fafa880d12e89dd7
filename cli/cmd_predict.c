/*
 * cmd_predict.c — `mlctl predict MODEL|--target NAME --input DATA [--output FILE]`: batch
 * scoring for people and cron jobs.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "signals.h"
#include "banned.h"

/* --format csv|jsonl. */
static int parse_format(cli_parser *p, const cli_option *opt, void *target, const char *value)
{
	mlctl_output_format *out = target;

	if (strcmp(value, "csv") == 0) {
		*out = MLCTL_OUTPUT_CSV;
	} else if (strcmp(value, "jsonl") == 0) {
		*out = MLCTL_OUTPUT_JSONL;
	} else {
		cli_error("--format: \"%s\": expected csv or jsonl", value);
		return CLI_ERROR;
	}
	return CLI_OK;
}

#define O mlctl_predict_options
const cli_option cli_predict_options[] = {
	{ "input", 'i', "DATA", "data to score (CSV, TSV or libsvm, optionally gzipped; - for stdin)", CLI_STRING(O, input) },
	{ "output", 'o', "FILE", "where predictions go (default: standard output)", CLI_STRING(O, output) },
	{ "format", 0, "FMT", "output format: csv (default) or jsonl", CLI_CALL(O, output_format, parse_format) },
	{ "input-format", 0, "FMT", "input format: csv, tsv, libsvm (default: from the extension)", CLI_STRING(O, input_format) },
	{ "target", 0, "NAME", "score with the release deploy target NAME serves", CLI_STRING(O, target) },
	{ "proba", 0, NULL, "add class probabilities (needs a model trained with --probability)", CLI_FLAG(O, proba) },
	{ "decision", 0, NULL, "add decision values", CLI_FLAG(O, decision) },
	{ "id-column", 0, "COL", "carry this input column through (repeatable; default: the model's)",
	  CLI_LIST(O, id_columns, n_id_columns) },
	{ "keep", 0, "COLS", "also carry these input columns through (comma-separated)", CLI_CSV(O, keep, n_keep) },
	{ "threads", 'j', "N", "scoring threads (default: all cores)", CLI_INT(O, threads, 0, 1024) },
	{ "batch", 0, "ROWS", "rows per batch (default 512)", CLI_SIZE(O, batch_rows, 1, 1000000) },
	{ "lock", 0, "FILE", "hold this lock while running; if another run holds it, exit 75 at once", CLI_STRING(O, lock) },
	{ "wait", 0, "SECS", "with --lock: wait up to SECS for the lock instead", CLI_SECONDS(O, lock_wait) },
	{ "max-errors", 0, "N", "skip up to N bad rows instead of failing (default 0)",
	  CLI_SIZE(O, max_errors, 0, 0x7fffffffL) },
	{ "rejects", 0, "FILE", "list skipped rows (file:line: reason) in FILE", CLI_STRING(O, rejects) },
	{ "no-fast", 0, NULL, "score with libsvm's svm_predict instead of the batch scorer", CLI_FLAG(O, no_fast) },
	CLI_OPTIONS_END
};
#undef O

static json_t *result_json(const mlctl_predict_result *r, const mlctl_predict_options *o)
{
	json_t *counts = json_object();
	size_t c;

	for (c = 0; c < r->nclasses; c++)
		json_object_set_new(counts, r->class_names[c], json_integer((json_int_t)r->class_counts[c]));
	return json_pack("{s:o, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:s, s:o, s:s}",
			 "run", r->run[0] ? json_string(r->run) : json_null(), "model", r->model,
			 "input", o->input, "output", o->output ? o->output : "-",
			 "rows", (json_int_t)r->rows, "rejected", (json_int_t)r->rejected,
			 "unseen_categories", (json_int_t)r->unseen_categories, "imputed_cells", (json_int_t)r->imputed,
			 "seconds", r->seconds, "rows_per_second", r->seconds > 0 ? (double)r->rows / r->seconds : 0.0,
			 "scorer", r->fast ? "dense-batch" : "libsvm", "predicted", counts, "input_digest", r->input_digest);
}

static bool to_stdout(const mlctl_predict_options *o)
{
	return !o->output || strcmp(o->output, "-") == 0;
}

/* The summary on a terminal: on stderr when the predictions go to stdout. */
static void print_summary(const mlctl_predict_result *res, const mlctl_predict_options *o)
{
	FILE *f = to_stdout(o) ? stderr : stdout;
	size_t c;

	fprintf(f, "Scored %zu rows with %s in %s (%.0f rows/s)%s%s", res->rows, res->model,
		cli_fmt_duration((int64_t)(res->seconds * 1000)), res->seconds > 0 ? (double)res->rows / res->seconds : 0.0,
		to_stdout(o) ? "" : " -> ", to_stdout(o) ? "" : o->output);
	if (res->rejected)
		fprintf(f, "; %zu rows rejected%s%s", res->rejected, o->rejects ? " (see " : "", o->rejects ? o->rejects : "");
	if (res->rejected && o->rejects)
		fprintf(f, ")");
	fprintf(f, "\n");
	if (res->nclasses) {
		fprintf(f, "  predicted:");
		for (c = 0; c < res->nclasses; c++)
			fprintf(f, " %s=%zu", res->class_names[c], res->class_counts[c]);
		fprintf(f, "\n");
	}
	if (res->unseen_categories)
		fprintf(f, "  %zu values were categories unseen in training (encoded as all zeros)\n", res->unseen_categories);
	if (res->run[0])
		fprintf(f, "  run %s\n", res->run);
}

/* One model or --target, --input, and a file for the predictions with --json. Returns 0 or
 * the exit status. */
static int check_args(const cli_parser *p, const mlctl_predict_options *o, const cli_ctx *ctx)
{
	if (p->npos > 1 || (p->npos == 1) == (o->target != NULL))
		return cli_usage_error(p, "name one model, or --target NAME");
	if (!o->input)
		return cli_usage_error(p, "--input is required");
	if (ctx->json && to_stdout(o))
		return cli_usage_error(p, "--json prints a summary on stdout: give --output FILE for the predictions");
	return 0;
}

/*
 * The registry was opened gently (CLI_REGISTRY_GENTLY): a package file scores without one;
 * everything else needs it. One that cannot be written (mounted read-only on a scoring
 * host) is read, and the run is not recorded. Returns 0 or the exit status.
 */
static int check_registry(cli_ctx *ctx, mlctl_predict_options *o)
{
	cli_open_gently(ctx);
	if (!ctx->reg && !(ctx->registry_status == MLCTL_ENOREGISTRY && o->model &&
			   !mlctl_model_ref_is_registry(o->model)))
		return cli_registry_failed(ctx);
	if (ctx->reg && mlctl_registry_readonly(ctx->reg) && !o->no_record) {
		o->no_record = true;
		cli_warn("%s cannot be written: scoring without recording a run", mlctl_registry_path(ctx->reg));
	}
	return 0;
}

int cmd_predict(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_predict_options o = MLCTL_PREDICT_OPTIONS_INIT;
	mlctl_predict_result *res = NULL;
	cli_parser p;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl predict MODEL|--target NAME --input DATA [--output FILE] [options]",
			"Score DATA with a model (NAME, NAME:VERSION, NAME@ALIAS, run/ID or a .mlpkg file) or with\n"
			"what a deploy target serves. Output is written to a temp file and renamed when complete.",
			cli_predict_options, argc, argv);
	if ((r = cli_parse(&p, &o)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if ((status = check_args(&p, &o, ctx)))
		goto out;
	o.model = p.npos ? p.pos[0] : NULL;
	if ((status = check_registry(ctx, &o)))
		goto out;
	o.argc = ctx->argc;
	o.argv = ctx->argv;
	o.progress = cli_progress;
	o.progress_payload = ctx;
	o.out = stdout;
	o.cancel = cli_cancel_begin();
	ret = mlctl_predict(&res, ctx->reg, &o);
	cli_progress_done();
	cli_cancel_end();
	if (ret)
		status = cli_fail(ret);
	else if (ctx->json)
		status = cli_json_print(result_json(res, &o));
	else if (!ctx->quiet)
		print_summary(res, &o);
out:
	mlctl_predict_result_free(res);
	cli_parser_release(&p);
	return status;
}
