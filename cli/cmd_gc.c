/*
 * cmd_gc.c — `mlctl gc [--dry-run] [--grace SECONDS]`: remove stored objects that nothing
 * in the registry references.
 */
#include <stdlib.h>

#include "cli.h"
#include "banned.h"

static const cli_option opts[] = {
	{ "dry-run", 'n', NULL, "only say what would be removed" },
	{ "grace", 0, "SECONDS", "keep unreferenced objects younger than this (default 3600)" },
	{ NULL, 0, NULL, NULL }
};

int cmd_gc(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_gc_options o = MLCTL_GC_OPTIONS_INIT;
	mlctl_gc_result *res = NULL;
	const char *v;
	cli_parser p;
	long grace;
	int r, ret, status = 0;
	size_t i;

	cli_parser_init(&p, ctx, "mlctl gc [--dry-run] [--grace SECONDS]",
			"Remove objects from the store that no run, model version or deployment refers to.",
			opts, argc, argv);
	while ((r = cli_next(&p, &v)) >= 0) {
		switch (r) {
		case 0: o.dry_run = true; break;
		case 1:
			if (!cli_int("grace", v, 0, 100L * 365 * 86400, &grace)) {
				status = EXIT_USAGE;
				goto out;
			}
			o.grace_seconds = grace;
			break;
		}
	}
	if (r != CLI_END) {
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
