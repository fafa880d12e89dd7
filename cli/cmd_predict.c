/*
 * cmd_predict.c — `mlctl predict MODEL|--target NAME --input DATA [--output FILE]`: batch
 * scoring for people and cron jobs.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "signals.h"
#include "banned.h"

static const cli_option opts[] = {
	{ "input", 'i', "DATA", "data to score (CSV, TSV or libsvm, optionally gzipped; - for stdin)" },
	{ "output", 'o', "FILE", "where predictions go (default: standard output)" },
	{ "format", 0, "FMT", "output format: csv (default) or jsonl" },
	{ "input-format", 0, "FMT", "input format: csv, tsv, libsvm (default: from the extension)" },
	{ "target", 0, "NAME", "score with the release deploy target NAME serves" },
	{ "proba", 0, NULL, "add class probabilities (needs a model trained with --probability)" },
	{ "decision", 0, NULL, "add decision values" },
	{ "id-column", 0, "COL", "carry this input column through (repeatable; default: the model's)" },
	{ "keep", 0, "COLS", "also carry these input columns through (comma-separated)" },
	{ "threads", 'j', "N", "scoring threads (default: all cores)" },
	{ "batch", 0, "ROWS", "rows per batch (default 512)" },
	{ "lock", 0, "FILE", "hold this lock while running; if another run holds it, exit 75 at once" },
	{ "wait", 0, "SECS", "with --lock: wait up to SECS for the lock instead" },
	{ "max-errors", 0, "N", "skip up to N bad rows instead of failing (default 0)" },
	{ "rejects", 0, "FILE", "list skipped rows (file:line: reason) in FILE" },
	{ "no-fast", 0, NULL, "score with libsvm's svm_predict instead of the batch scorer" },
	{ NULL, 0, NULL, NULL }
};

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

int cmd_predict(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_predict_options o = MLCTL_PREDICT_OPTIONS_INIT;
	mlctl_predict_result *res = NULL;
	const char *ids[64], *v;
	char *keep_store = NULL;
	cli_parser p;
	long lv;
	double dv;
	int r, ret, status = 0;
	size_t nids = 0, c;
	FILE *summary;

	cli_parser_init(&p, ctx, "mlctl predict MODEL|--target NAME --input DATA [--output FILE] [options]",
			"Score DATA with a model (NAME, NAME:VERSION, NAME@ALIAS, run/ID or a .mlpkg file) or with\n"
			"what a deploy target serves. Output is written to a temp file and renamed when complete.",
			opts, argc, argv);
	while ((r = cli_next(&p, &v)) >= 0) {
		switch (r) {
		case 0: o.input = v; break;
		case 1: o.output = v; break;
		case 2:
			if (strcmp(v, "csv") == 0) {
				o.output_format = MLCTL_OUTPUT_CSV;
			} else if (strcmp(v, "jsonl") == 0) {
				o.output_format = MLCTL_OUTPUT_JSONL;
			} else {
				cli_error("--format: \"%s\": expected csv or jsonl", v);
				status = EXIT_USAGE;
				goto out;
			}
			break;
		case 3: o.input_format = v; break;
		case 4: o.target = v; break;
		case 5: o.proba = true; break;
		case 6: o.decision = true; break;
		case 7:
			if (nids < 64)
				ids[nids++] = v;
			break;
		case 8: {
			const char **list;

			free((void *)o.keep);
			free(keep_store);
			o.keep = NULL;
			keep_store = NULL;
			if (cli_split_list(v, &list, &o.n_keep, &keep_store)) {
				status = EXIT_SOFTWARE;
				goto out;
			}
			o.keep = list;
			break;
		}
		case 9:
			if (!cli_int("threads", v, 0, 1024, &lv)) {
				status = EXIT_USAGE;
				goto out;
			}
			o.threads = (int)lv;
			break;
		case 10:
			if (!cli_int("batch", v, 1, 1000000, &lv)) {
				status = EXIT_USAGE;
				goto out;
			}
			o.batch_rows = (size_t)lv;
			break;
		case 11: o.lock = v; break;
		case 12:
			if (!cli_double("wait", v, &dv) || dv < 0) {
				status = EXIT_USAGE;
				goto out;
			}
			o.lock_wait = dv;
			break;
		case 13:
			if (!cli_int("max-errors", v, 0, 0x7fffffffL, &lv)) {
				status = EXIT_USAGE;
				goto out;
			}
			o.max_errors = (size_t)lv;
			break;
		case 14: o.rejects = v; break;
		case 15: o.no_fast = true; break;
		}
	}
	if (r != CLI_END) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos > 1 || (p.npos == 1) == (o.target != NULL)) {
		status = cli_usage_error(&p, "name one model, or --target NAME");
		goto out;
	}
	if (!o.input) {
		status = cli_usage_error(&p, "--input is required");
		goto out;
	}
	if (ctx->json && (!o.output || strcmp(o.output, "-") == 0)) {
		status = cli_usage_error(&p, "--json prints a summary on stdout: give --output FILE for the predictions");
		goto out;
	}
	o.model = p.npos ? p.pos[0] : NULL;
	o.id_columns = ids;
	o.n_id_columns = nids;
	o.argc = ctx->argc;
	o.argv = ctx->argv;
	o.progress = cli_progress;
	o.progress_payload = ctx;
	/* A package file scores without any registry; everything else needs one. A registry
	 * that cannot be written (mounted read-only on a scoring host) is read, and the run is
	 * not recorded. */
	ret = cli_open_registry_mode(ctx, MLCTL_REGISTRY_READWRITE_OR_READONLY);
	if (ret == MLCTL_ENOREGISTRY && o.model && !mlctl_model_ref_is_registry(o.model))
		ret = 0;
	if (ret) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->reg && mlctl_registry_readonly(ctx->reg) && !o.no_record) {
		o.no_record = true;
		cli_warn("%s cannot be written: scoring without recording a run", mlctl_registry_path(ctx->reg));
	}
	o.out = stdout;
	o.cancel = cli_cancel_begin();
	ret = mlctl_predict(&res, ctx->reg, &o);
	cli_progress_done();
	cli_cancel_end();
	if (ret) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json) {
		status = cli_json_print(result_json(res, &o));
		goto out;
	}
	if (ctx->quiet)
		goto out;
	/* With predictions on stdout, the summary goes to stderr. */
	summary = (!o.output || strcmp(o.output, "-") == 0) ? stderr : stdout;
	fprintf(summary, "Scored %zu rows with %s in %s (%.0f rows/s)%s%s", res->rows, res->model,
		cli_fmt_duration((int64_t)(res->seconds * 1000)), res->seconds > 0 ? (double)res->rows / res->seconds : 0.0,
		o.output && strcmp(o.output, "-") ? " -> " : "", o.output && strcmp(o.output, "-") ? o.output : "");
	if (res->rejected)
		fprintf(summary, "; %zu rows rejected%s%s", res->rejected, o.rejects ? " (see " : "", o.rejects ? o.rejects : "");
	if (res->rejected && o.rejects)
		fprintf(summary, ")");
	fprintf(summary, "\n");
	if (res->nclasses) {
		fprintf(summary, "  predicted:");
		for (c = 0; c < res->nclasses; c++)
			fprintf(summary, " %s=%zu", res->class_names[c], res->class_counts[c]);
		fprintf(summary, "\n");
	}
	if (res->unseen_categories)
		fprintf(summary, "  %zu values were categories unseen in training (encoded as all zeros)\n", res->unseen_categories);
	if (res->run[0])
		fprintf(summary, "  run %s\n", res->run);
out:
	mlctl_predict_result_free(res);
	free((void *)o.keep);
	free(keep_store);
	cli_parser_release(&p);
	return status;
}
