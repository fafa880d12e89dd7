/*
 * cmd_validate.c — `mlctl validate MODEL --data DATA [--gate EXPR]... [--against REF]`:
 * metrics, gates and champion/challenger for CI. Exit 0 when everything passes, 1 when a
 * gate or the comparison fails, 64/65/66 when the job itself is broken.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

/* --max-drop X: an allowed drop, not negative. */
static int parse_max_drop(cli_parser *p, const cli_option *opt, void *target, const char *value)
{
	if (!cli_double(opt->name, value, target))
		return CLI_ERROR;
	if (*(double *)target < 0) {
		cli_usage_error(p, "--max-drop %s: the allowed drop cannot be negative "
				"(use --min-improvement to require a gain)", value);
		return CLI_ERROR;
	}
	return CLI_OK;
}

#define O mlctl_validate_options
const cli_option cli_validate_options[] = {
	{ "data", 'd', "DATA", "labelled data to validate on (required)", CLI_STRING(O, data) },
	{ "format", 'f', "FMT", "data format: csv, tsv, libsvm (default: from the extension)", CLI_STRING(O, format) },
	{ "gate", 'g', "EXPR", "a condition the model must meet, e.g. 'accuracy>=0.9', 'recall[yes]>=0.6' (repeatable)",
	  CLI_LIST_MAX(O, gates, ngates, 64) },
	{ "against", 0, "MODEL", "champion to compare with on the same data, e.g. churn@production, or @ALIAS of this model",
	  CLI_STRING(O, against) },
	{ "max-drop", 0, "X", "fail when worse than the champion by more than X (default 0)",
	  CLI_CALL(O, max_drop, parse_max_drop) },
	{ "min-improvement", 0, "X", "fail unless better than the champion by at least X", CLI_DOUBLE(O, min_improvement) },
	{ "junit", 0, "FILE", "write a JUnit XML report (one test case per gate and comparison)", CLI_STRING(O, junit) },
	CLI_OPTIONS_END
};
#undef O

static json_t *result_json(const mlctl_validate_result *r)
{
	json_t *metrics = json_object(), *gates = json_array(), *cmp = json_array(), *cm = json_array(), *names;
	size_t i, k;

	for (i = 0; i < r->nmetrics; i++)
		json_object_set_new(metrics, r->metrics[i].key, cli_json_num(r->metrics[i].value));
	for (i = 0; i < r->ngates; i++)
		json_array_append_new(gates, json_pack("{s:s, s:s, s:o, s:o, s:b}", "gate", r->gates[i].text,
						       "metric", r->gates[i].metric, "value", cli_json_num(r->gates[i].value),
						       "bound", cli_json_num(r->gates[i].bound), "pass", r->gates[i].pass));
	for (i = 0; i < r->ncomparisons; i++)
		json_array_append_new(cmp, json_pack("{s:s, s:o, s:o, s:s, s:b}", "metric", r->comparisons[i].metric,
						     "candidate", cli_json_num(r->comparisons[i].candidate),
						     "champion", cli_json_num(r->comparisons[i].champion),
						     "rule", r->comparisons[i].rule, "pass", r->comparisons[i].pass));
	names = json_array();
	for (i = 0; i < r->nclasses; i++) {
		json_t *row = json_array();

		json_array_append_new(names, json_string(r->class_names[i]));
		for (k = 0; k < r->nclasses; k++)
			json_array_append_new(row, json_integer((json_int_t)r->confusion[i * r->nclasses + k]));
		json_array_append_new(cm, row);
	}
	return json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:o, s:{s:o, s:o}, s:o, s:o, s:o, s:b, s:s}",
			 "run", r->run, "model", r->model, "pass", r->pass, "rows", (json_int_t)r->rows,
			 "unseen_categories", (json_int_t)r->unseen_categories, "imputed_cells", (json_int_t)r->imputed,
			 "metrics", metrics, "confusion_matrix", "classes", names, "counts", cm,
			 "gates", gates, "champion", cli_json_str(r->champion), "comparisons", cmp,
			 "champion_missing", r->champion_missing, "data_digest", r->data_digest);
}

static void print_result(const mlctl_validate_result *r, const char *data, const char *against)
{
	size_t i, k;

	printf("Validated %s on %s: %zu rows (run %s)\n", r->model, data, r->rows, r->run);
	if (r->unseen_categories)
		printf("  %zu values were categories unseen in training (encoded as all zeros)\n", r->unseen_categories);
	printf("\nmetrics:\n");
	for (i = 0; i < r->nmetrics; i++)
		if (!strchr(r->metrics[i].key, '[') || r->nclasses <= 4)
			printf("  %-24s %s\n", r->metrics[i].key, cli_fmt_double(r->metrics[i].value));
	if (r->nclasses && r->nclasses <= 12) {
		printf("\nconfusion matrix (rows: true class, columns: predicted):\n  %-10s", "");
		for (k = 0; k < r->nclasses; k++)
			printf(" %8.8s", r->class_names[k]);
		printf("\n");
		for (i = 0; i < r->nclasses; i++) {
			printf("  %-10.10s", r->class_names[i]);
			for (k = 0; k < r->nclasses; k++)
				printf(" %8zu", r->confusion[i * r->nclasses + k]);
			printf("\n");
		}
	}
	if (r->ngates) {
		printf("\ngates:\n");
		for (i = 0; i < r->ngates; i++)
			printf("  %s  %-28s value %s, bound %s\n", r->gates[i].pass ? "PASS" : "FAIL", r->gates[i].text,
			       cli_fmt_double(r->gates[i].value), cli_fmt_double(r->gates[i].bound));
	}
	if (r->champion_missing)
		printf("\nchampion %.*s%s does not exist yet (first deployment): comparison passes\n",
		       against[0] == '@' ? (int)strcspn(r->model, ":") : 0, r->model, against);
	if (r->ncomparisons) {
		printf("\nagainst champion %s (%s):\n", r->champion, r->comparisons[0].rule);
		for (i = 0; i < r->ncomparisons; i++)
			printf("  %s  %-16s candidate %s, champion %s\n", r->comparisons[i].pass ? "PASS" : "FAIL",
			       r->comparisons[i].metric, cli_fmt_double(r->comparisons[i].candidate),
			       cli_fmt_double(r->comparisons[i].champion));
	}
	printf("\nverdict: %s\n", r->pass ? "PASS" : "FAIL");
}

int cmd_validate(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_validate_options o = MLCTL_VALIDATE_OPTIONS_INIT;
	mlctl_validate_result *res = NULL;
	cli_parser p;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl validate MODEL --data DATA [--gate EXPR]... [--against MODEL [--max-drop X] [--min-improvement X]] [--junit FILE]",
			"Score MODEL on labelled DATA, check the gates and compare it with a champion.\n"
			"Exit 0: every check passed; 1: a gate or the comparison failed.", cli_validate_options, argc, argv);
	if ((r = cli_parse(&p, &o)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos != 1) {
		status = cli_usage_error(&p, "validate takes one model");
		goto out;
	}
	if (!o.data) {
		status = cli_usage_error(&p, "--data is required");
		goto out;
	}
	if (!o.against && (!isnan(o.max_drop) || !isnan(o.min_improvement))) {
		status = cli_usage_error(&p, "--max-drop and --min-improvement need --against");
		goto out;
	}
	o.model = p.pos[0];
	o.argc = ctx->argc;
	o.argv = ctx->argv;
	if ((ret = mlctl_validate(&res, ctx->reg, &o))) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json)
		status = cli_json_print(result_json(res));
	else if (!ctx->quiet)
		print_result(res, o.data, o.against);
	if (!status && !res->pass)
		status = MLCTL_EXIT_VERDICT;
out:
	mlctl_validate_result_free(res);
	cli_parser_release(&p);
	return status;
}
