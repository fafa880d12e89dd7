/*
 * cmd_runs.c — `mlctl runs list|show|compare`: what was run, with which parameters, what
 * it measured, what it read and wrote.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

json_t *cli_run_json(const mlctl_run *r, bool details)
{
	json_t *o = json_object(), *params, *metrics, *tags, *lineage, *history;
	size_t i;

	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "kind", cli_json_str(r->kind));
	json_object_set_new(o, "name", cli_json_str(r->name));
	json_object_set_new(o, "parent", cli_json_str(r->parent));
	json_object_set_new(o, "status", json_string(mlctl_run_status_name(r->status)));
	json_object_set_new(o, "started", cli_json_time(r->started_ms));
	json_object_set_new(o, "ended", cli_json_time(r->ended_ms));
	json_object_set_new(o, "duration_ms", r->ended_ms ? json_integer(r->ended_ms - r->started_ms) : json_null());
	json_object_set_new(o, "user", cli_json_str(r->user));
	json_object_set_new(o, "host", cli_json_str(r->host));
	json_object_set_new(o, "pid", json_integer(r->pid));
	json_object_set_new(o, "mlctl_version", cli_json_str(r->version));
	json_object_set_new(o, "model", r->model_name ? json_pack("{s:s, s:i}", "name", r->model_name,
								  "version", r->model_version) : json_null());
	json_object_set_new(o, "verdict", cli_json_str(r->verdict));
	json_object_set_new(o, "error", cli_json_str(r->error));
	if (!details)
		return o;
	json_object_set_new(o, "argv", cli_json_str(r->argv));
	params = json_object();
	for (i = 0; i < r->nparams; i++)
		json_object_set_new(params, r->params[i].key, json_string(r->params[i].value));
	json_object_set_new(o, "params", params);
	/* metrics: the latest value of each key; metric_history: every step. */
	metrics = json_object();
	history = json_object();
	for (i = 0; i < r->nmetrics; i++) {
		json_t *steps = json_object_get(history, r->metrics[i].key);

		json_object_set_new(metrics, r->metrics[i].key, cli_json_num(r->metrics[i].value));
		if (!steps) {
			steps = json_array();
			json_object_set_new(history, r->metrics[i].key, steps);
		}
		json_array_append_new(steps, json_pack("{s:I, s:o}", "step", (json_int_t)r->metrics[i].step,
						       "value", cli_json_num(r->metrics[i].value)));
	}
	json_object_set_new(o, "metrics", metrics);
	json_object_set_new(o, "metric_history", history);
	tags = json_object();
	for (i = 0; i < r->ntags; i++)
		json_object_set_new(tags, r->tags[i].key, json_string(r->tags[i].value));
	json_object_set_new(o, "tags", tags);
	lineage = json_array();
	for (i = 0; i < r->nobjects; i++) {
		const mlctl_run_object *ob = &r->objects[i];

		json_t *item = json_pack("{s:s, s:s, s:s, s:o, s:o}", "role", ob->role, "name", ob->name,
					 "digest", ob->digest, "size", ob->size >= 0 ? json_integer(ob->size) : json_null(),
					 "media_type", cli_json_str(ob->media_type));

		if (ob->dataset_path)
			json_object_set_new(item, "dataset", json_pack("{s:s, s:o, s:I, s:I}", "path", ob->dataset_path,
								       "format", cli_json_str(ob->dataset_format),
								       "rows", (json_int_t)ob->dataset_rows,
								       "columns", (json_int_t)ob->dataset_columns));
		json_array_append_new(lineage, item);
	}
	json_object_set_new(o, "lineage", lineage);
	json_object_set_new(o, "children", json_integer((json_int_t)r->nchildren));
	return o;
}

static const char *model_cell(const mlctl_run *r)
{
	static char buf[4][160];
	static int k;
	char *b = buf[k++ & 3];

	if (!r->model_name)
		return NULL;
	snprintf(b, 160, "%s:%d", r->model_name, r->model_version);
	return b;
}

typedef struct list_args {
	mlctl_run_filter f;
	bool all;
} list_args;

static int runs_list(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_option opts[] = {
		{ "kind", 0, "KIND", "only runs of this kind (train, validate, predict, deploy, ...)", CLI_STRING(list_args, f.kind) },
		{ "name", 0, "NAME", "only runs with this name", CLI_STRING(list_args, f.name) },
		{ "model", 0, "NAME", "only runs that produced or used model NAME", CLI_STRING(list_args, f.model_name) },
		{ "parent", 0, "RUN", "only the child runs of RUN (e.g. the grid points of a tuning)",
		  CLI_STRING(list_args, f.parent) },
		{ "all", 'a', NULL, "include child runs", CLI_FLAG(list_args, all) },
		{ "limit", 'n', "N", "show at most N runs (default 20; 0 for all)", CLI_SIZE(list_args, f.limit, 0, 1000000000) },
		CLI_OPTIONS_END
	};
	list_args a = { MLCTL_RUN_FILTER_INIT, false };
	mlctl_run_filter *f = &a.f;
	mlctl_run_list *l = NULL;
	char parent[MLCTL_RUN_ID_SIZE];
	cli_parser p;
	int r, ret, status = 0;
	size_t i;

	cli_parser_init(&p, ctx, "mlctl runs list [--kind KIND] [--name NAME] [--model NAME] [--parent RUN] [--all] [--limit N]",
			"List runs, newest first.", opts, argc, argv);
	f->limit = 20;   /* the CLI's default; the library's 0 is "all" */
	if ((r = cli_parse(&p, &a)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos) {
		status = cli_usage_error(&p, "unexpected argument '%s'", p.pos[0]);
		goto out;
	}
	if (f->parent) {
		if ((ret = mlctl_run_resolve(parent, ctx->reg, f->parent))) {
			status = cli_fail(ret);
			goto out;
		}
		f->parent = parent;
	}
	f->top_level = !a.all && !f->parent;
	if ((ret = mlctl_run_list_get(&l, ctx->reg, f))) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json) {
		json_t *arr = json_array();

		for (i = 0; i < l->n; i++)
			json_array_append_new(arr, cli_run_json(l->runs[i], false));
		status = cli_json_print(json_pack("{s:o}", "runs", arr));
	} else if (!ctx->quiet) {
		cli_table *t = cli_table_new(7, "ID", "KIND", "NAME", "STATUS", "STARTED", "DURATION", "MODEL");

		for (i = 0; i < l->n; i++) {
			const mlctl_run *run = l->runs[i];

			cli_table_row(t, run->id, run->kind, run->name, mlctl_run_status_name(run->status),
				      cli_fmt_time(run->started_ms),
				      run->ended_ms ? cli_fmt_duration(run->ended_ms - run->started_ms) : NULL,
				      model_cell(run));
		}
		cli_table_print(t, stdout);
		cli_table_free(t);
	}
out:
	mlctl_run_list_free(l);
	cli_parser_release(&p);
	return status;
}

static void print_run(const mlctl_run *r)
{
	size_t i;

	printf("run       %s\n", r->id);
	printf("kind      %s\n", r->kind);
	if (r->name)
		printf("name      %s\n", r->name);
	if (r->parent)
		printf("parent    %s\n", r->parent);
	printf("status    %s%s%s\n", mlctl_run_status_name(r->status), r->status == MLCTL_RUN_STALE ?
	       " (its process is gone: it was killed or crashed)" : "", "");
	printf("started   %s by %s@%s (pid %d)\n", cli_fmt_time(r->started_ms), r->user ? r->user : "?",
	       r->host ? r->host : "?", r->pid);
	if (r->ended_ms)
		printf("ended     %s (%s)\n", cli_fmt_time(r->ended_ms), cli_fmt_duration(r->ended_ms - r->started_ms));
	if (r->model_name)
		printf("model     %s:%d\n", r->model_name, r->model_version);
	if (r->verdict)
		printf("verdict   %s\n", r->verdict);
	if (r->error)
		printf("error     %s\n", r->error);
	if (r->argv)
		printf("command   %s\n", r->argv);
	printf("mlctl     %s\n", r->version ? r->version : "?");
	if (r->nchildren)
		printf("children  %zu (mlctl runs list --parent %s)\n", r->nchildren, r->id);
	if (r->nparams) {
		printf("\nparams:\n");
		for (i = 0; i < r->nparams; i++)
			printf("  %-24s %s\n", r->params[i].key, r->params[i].value);
	}
	if (r->nmetrics) {
		printf("\nmetrics:\n");
		for (i = 0; i < r->nmetrics; i++) {
			/* Show the last step of each key, and how many steps there were. */
			size_t j = i, steps = 1;

			while (j + 1 < r->nmetrics && strcmp(r->metrics[j + 1].key, r->metrics[i].key) == 0)
				j++, steps++;
			if (steps > 1)
				printf("  %-24s %s (step %lld; %zu steps)\n", r->metrics[j].key, cli_fmt_double(r->metrics[j].value),
				       (long long)r->metrics[j].step, steps);
			else
				printf("  %-24s %s\n", r->metrics[j].key, cli_fmt_double(r->metrics[j].value));
			i = j;
		}
	}
	if (r->ntags) {
		printf("\ntags:\n");
		for (i = 0; i < r->ntags; i++)
			printf("  %-24s %s\n", r->tags[i].key, r->tags[i].value);
	}
	if (r->nobjects) {
		printf("\nlineage:\n");
		for (i = 0; i < r->nobjects; i++) {
			const mlctl_run_object *ob = &r->objects[i];

			if (ob->dataset_path)
				printf("  %-6s %-12s %.16s  %s (%s, %lld rows, %lld columns)\n", ob->role, ob->name, ob->digest,
				       ob->dataset_path, ob->dataset_format ? ob->dataset_format : "?",
				       (long long)ob->dataset_rows, (long long)ob->dataset_columns);
			else
				printf("  %-6s %-12s %.16s  %s\n", ob->role, ob->name, ob->digest,
				       ob->size >= 0 ? cli_fmt_bytes((uint64_t)ob->size) : "");
		}
	}
}

static int runs_show(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_run *run = NULL;
	cli_parser p;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl runs show RUN", "Show one run: params, metrics, tags and lineage. RUN is an id or a unique prefix of one.",
			NULL, argc, argv);
	if ((r = cli_parse(&p, NULL)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos != 1) {
		status = cli_usage_error(&p, "runs show takes one run id");
		goto out;
	}
	if ((ret = mlctl_run_get(&run, ctx->reg, p.pos[0]))) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json)
		status = cli_json_print(cli_run_json(run, true));
	else if (!ctx->quiet)
		print_run(run);
out:
	mlctl_run_free(run);
	cli_parser_release(&p);
	return status;
}

/* Add key to *keys (room for *cap) unless present, growing it; false when out of memory. */
static bool add_key(const char ***keys, size_t *n, size_t *cap, const char *key)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*keys)[i], key) == 0)
			return true;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		const char **k = realloc(*keys, c * sizeof(*k));

		if (!k)
			return false;
		*keys = k;
		*cap = c;
	}
	(*keys)[(*n)++] = key;
	return true;
}

static int runs_compare(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_run *runs[16] = { NULL };
	const char **keys = NULL;
	size_t nkeys, cap = 0, i, k;
	cli_parser p;
	int r, ret, status = 0, n = 0;

	cli_parser_init(&p, ctx, "mlctl runs compare RUN RUN...",
			"Compare the params and metrics of two or more runs side by side.", NULL, argc, argv);
	if ((r = cli_parse(&p, NULL)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos < 2 || p.npos > 16) {
		status = cli_usage_error(&p, "runs compare takes 2 to 16 run ids");
		goto out;
	}
	for (n = 0; n < p.npos; n++) {
		if ((ret = mlctl_run_get(&runs[n], ctx->reg, p.pos[n]))) {
			status = cli_fail(ret);
			goto out;
		}
	}
	if (ctx->json) {
		json_t *arr = json_array();

		for (i = 0; i < (size_t)n; i++)
			json_array_append_new(arr, cli_run_json(runs[i], true));
		status = cli_json_print(json_pack("{s:o}", "runs", arr));
		goto out;
	}
	if (ctx->quiet)
		goto out;
	printf("%-28s", "");
	for (i = 0; i < (size_t)n; i++)
		printf("  %-16.16s", runs[i]->id);
	printf("\n%-28s", "kind");
	for (i = 0; i < (size_t)n; i++)
		printf("  %-16.16s", runs[i]->kind);
	printf("\n");
	nkeys = 0;
	for (i = 0; i < (size_t)n; i++)
		for (k = 0; k < runs[i]->nparams; k++)
			if (!add_key(&keys, &nkeys, &cap, runs[i]->params[k].key))
				goto out_of_memory;
	for (k = 0; k < nkeys; k++) {
		printf("param %-22.22s", keys[k]);
		for (i = 0; i < (size_t)n; i++) {
			const char *pv = mlctl_run_param(runs[i], keys[k]);

			printf("  %-16.16s", pv ? pv : "-");
		}
		printf("\n");
	}
	nkeys = 0;
	for (i = 0; i < (size_t)n; i++)
		for (k = 0; k < runs[i]->nmetrics; k++)
			if (!add_key(&keys, &nkeys, &cap, runs[i]->metrics[k].key))
				goto out_of_memory;
	for (k = 0; k < nkeys; k++) {
		printf("metric %-21.21s", keys[k]);
		for (i = 0; i < (size_t)n; i++) {
			double mv;

			printf("  %-16s", mlctl_run_metric(runs[i], keys[k], &mv) ? cli_fmt_double(mv) : "-");
		}
		printf("\n");
	}
	goto out;
out_of_memory:
	cli_error("out of memory");
	status = MLCTL_EXIT_SOFTWARE;
out:
	free(keys);
	for (i = 0; i < 16; i++)
		mlctl_run_free(runs[i]);
	cli_parser_release(&p);
	return status;
}

/* `mlctl runs` alone lists them. */
const cli_subcommand cmd_runs_forms[] = {
	{ "list", runs_list }, { "show", runs_show }, { "compare", runs_compare }, { NULL, NULL }
};
