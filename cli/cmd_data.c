/*
 * cmd_data.c — `mlctl data list|show|checkout`: the data sets the registry knows (by
 * digest), the runs and model versions that used them, and writing stored data back.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

static const char *int_or_dash(char buf[32], int64_t v)
{
	if (v < 0)
		return "-";
	snprintf(buf, 32, "%lld", (long long)v);
	return buf;
}

static json_t *json_int_or_null(int64_t v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *info_json(const mlctl_data_info *d)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:o, s:o, s:I}", "digest", d->digest,
			 "path", cli_json_str(d->path), "format", cli_json_str(d->format), "rows", json_int_or_null(d->rows),
			 "columns", json_int_or_null(d->columns), "first_seen", d->first_seen_ms ? cli_json_time(d->first_seen_ms) : json_null(),
			 "stored", d->stored, "compressed", d->compressed, "size", json_int_or_null(d->size),
			 "stored_size", json_int_or_null(d->stored_size), "runs", (json_int_t)d->nruns);
}

static const char *stored_word(const mlctl_data_info *d)
{
	if (!d->stored)
		return "no";
	return d->compressed ? "yes" : "yes (plain)";
}

static int data_list(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_data_list *l = NULL;
	cli_parser p;
	int r, ret, status = 0;
	size_t i;

	cli_parser_init(&p, ctx, "mlctl data list", "List the data sets the registry knows, stored or not, with the runs that used them.",
			NULL, argc, argv);
	if ((r = cli_parse(&p, NULL)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos) {
		status = cli_usage_error(&p, "data list takes no arguments");
		goto out;
	}
	if ((ret = mlctl_data_list_get(&l, ctx->reg))) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json) {
		json_t *arr = json_array();

		for (i = 0; i < l->n; i++)
			json_array_append_new(arr, info_json(l->d[i]));
		status = cli_json_print(json_pack("{s:o}", "data", arr));
	} else if (!ctx->quiet) {
		cli_table *t = cli_table_new(7, "DIGEST", "PATH", "FORMAT", "ROWS", "SIZE", "STORED", "RUNS");

		for (i = 0; i < l->n; i++) {
			const mlctl_data_info *d = l->d[i];
			char digest[13], rows[32], runs[32];

			snprintf(digest, sizeof(digest), "%.12s", d->digest);
			snprintf(runs, sizeof(runs), "%zu", d->nruns);
			cli_table_row(t, digest, d->path, d->format, int_or_dash(rows, d->rows),
				      d->size >= 0 ? cli_fmt_bytes((uint64_t)d->size) : NULL, stored_word(d), runs);
		}
		cli_table_print(t, stdout);
		cli_table_free(t);
	}
out:
	mlctl_data_list_free(l);
	cli_parser_release(&p);
	return status;
}

static void print_info(const mlctl_data_info *d)
{
	char b[32];
	size_t i;

	printf("digest:   %s\n", d->digest);
	printf("path:     %s\n", d->path ? d->path : "-");
	printf("format:   %s\n", d->format ? d->format : "-");
	printf("rows:     %s\n", int_or_dash(b, d->rows));
	printf("columns:  %s\n", int_or_dash(b, d->columns));
	if (d->stored)
		printf("stored:   yes, %s in %s%s\n", d->size >= 0 ? cli_fmt_bytes((uint64_t)d->size) : "?",
		       cli_fmt_bytes((uint64_t)d->stored_size), d->compressed ? " (zlib)" : "");
	else
		printf("stored:   no\n");
	printf("runs:     %zu\n", d->nuses);
	if (!d->nuses)
		return;
	printf("\n");
	cli_table *t = cli_table_new(6, "RUN", "KIND", "ROLE", "STATUS", "STARTED", "MODEL");
	for (i = 0; i < d->nuses; i++) {
		const mlctl_data_use *u = &d->uses[i];
		char model[300];

		if (u->model_name)
			snprintf(model, sizeof(model), "%s:%d", u->model_name, u->model_version);
		cli_table_row(t, u->run, u->kind, u->role, u->status, cli_fmt_time(u->started_ms),
			      u->model_name ? model : NULL);
	}
	cli_table_print(t, stdout);
	cli_table_free(t);
}

static int data_show(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_data_info *d = NULL;
	cli_parser p;
	int r, ret, status = 0;
	size_t i;

	cli_parser_init(&p, ctx, "mlctl data show DIGEST",
			"Show a data set (by digest or a unique prefix of it) and the runs and model versions that used it.",
			NULL, argc, argv);
	if ((r = cli_parse(&p, NULL)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos != 1) {
		status = cli_usage_error(&p, p.npos ? "data show takes one digest" : "no digest given");
		goto out;
	}
	if ((ret = mlctl_data_get(&d, ctx->reg, p.pos[0]))) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json) {
		json_t *doc = info_json(d), *uses = json_array();

		for (i = 0; i < d->nuses; i++) {
			const mlctl_data_use *u = &d->uses[i];

			json_array_append_new(uses, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "run", u->run, "kind", u->kind,
							      "role", u->role, "status", u->status, "started", cli_json_time(u->started_ms),
							      "model", cli_json_str(u->model_name),
							      "model_version", u->model_name ? json_integer(u->model_version) : json_null()));
		}
		json_object_set_new(doc, "uses", uses);
		status = cli_json_print(doc);
	} else if (!ctx->quiet) {
		print_info(d);
	}
out:
	mlctl_data_info_free(d);
	cli_parser_release(&p);
	return status;
}

typedef struct checkout_args {
	bool force;
} checkout_args;

static const cli_option checkout_opts[] = {
	{ "force", 'f', NULL, "overwrite PATH if it exists", CLI_FLAG(checkout_args, force) },
	CLI_OPTIONS_END
};

static int data_checkout(cli_ctx *ctx, int argc, char **argv)
{
	checkout_args a = { false };
	char digest[65];
	uint64_t size = 0;
	cli_parser p;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl data checkout DIGEST|MODEL PATH [--force]",
			"Write stored data back to PATH, byte for byte and verified: a data set by digest (or prefix),\n"
			"or the training data of a model version (NAME, NAME:N or NAME@ALIAS).",
			checkout_opts, argc, argv);
	if ((r = cli_parse(&p, &a)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos != 2) {
		status = cli_usage_error(&p, "data checkout takes a digest or model, and a path");
		goto out;
	}
	if ((ret = mlctl_data_resolve(digest, ctx->reg, p.pos[0])) ||
	    (ret = mlctl_data_checkout(ctx->reg, digest, p.pos[1], a.force, &size))) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json)
		status = cli_json_print(json_pack("{s:s, s:s, s:I}", "digest", digest, "path", p.pos[1], "size", (json_int_t)size));
	else if (!ctx->quiet)
		printf("wrote %s (%s, data %.12s, verified)\n", p.pos[1], cli_fmt_bytes(size), digest);
out:
	cli_parser_release(&p);
	return status;
}

const cli_subcommand cmd_data_forms[] = {
	{ "list", data_list }, { "show", data_show }, { "checkout", data_checkout }, { NULL, NULL }
};
