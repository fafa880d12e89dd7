/*
 * cmd_gc.c — `mlctl gc [--dry-run] [--grace SECONDS]`: remove stored objects that nothing
 * in the registry references.
 */
#include <stdlib.h>

#include "cli.h"
#include "banned.h"

static const cli_option opts[] = {
	{ "dry-run", 'n', NULL, "only say what would be removed", CLI_FLAG(mlctl_gc_options, dry_run) },
	{ "grace", 0, "SECONDS", "keep unreferenced objects younger than this (default 3600)",
	  CLI_INT64(mlctl_gc_options, grace_seconds, 0, 100L * 365 * 86400) },
	CLI_OPTIONS_END
};

int cmd_gc(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_gc_options o = MLCTL_GC_OPTIONS_INIT;
	mlctl_gc_result *res = NULL;
	cli_parser p;
	int r, ret, status = 0;
	size_t i;

	cli_parser_init(&p, ctx, "mlctl gc [--dry-run] [--grace SECONDS]",
			"Remove objects from the store that no run, model version or deployment refers to.",
			opts, argc, argv);
	if ((r = cli_parse(&p, &o)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos) {
		status = cli_usage_error(&p, "gc takes no arguments");
		goto out;
	}
	/* A dry run only reads (it works on a read-only registry); gc itself writes. */
	if (!o.dry_run && (ret = cli_open_registry(ctx))) {
		status = cli_fail(ret);
		goto out;
	}
	if ((ret = mlctl_gc(&res, ctx->reg, &o))) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json) {
		json_t *list = json_array();

		for (i = 0; i < res->ndigests; i++)
			json_array_append_new(list, json_string(res->digests[i]));
		status = cli_json_print(json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "dry_run", o.dry_run,
						  "objects", (json_int_t)res->objects, "referenced", (json_int_t)res->referenced,
						  "kept_young", (json_int_t)res->young, "removed", (json_int_t)res->removed,
						  "bytes_removed", (json_int_t)res->bytes_removed,
						  "missing", (json_int_t)res->missing, "removed_digests", list));
	} else if (!ctx->quiet) {
		for (i = 0; i < res->ndigests; i++)
			printf("%s %s\n", o.dry_run ? "would remove" : "removed", res->digests[i]);
		printf("%zu objects: %zu referenced, %zu kept within the grace period, %zu %s (%s)",
		       res->objects, res->referenced, res->young, res->removed,
		       o.dry_run ? "to remove" : "removed", cli_fmt_bytes(res->bytes_removed));
		if (res->missing)
			printf(", %zu recorded but already missing", res->missing);
		printf("\n");
	}
out:
	mlctl_gc_result_free(res);
	cli_parser_release(&p);
	return status;
}
