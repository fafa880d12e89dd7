/*
 * cmd_init.c — `mlctl init [DIR]`: create a registry (DIR/.mlctl, or the --registry
 * directory itself).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

int cmd_init(cli_ctx *ctx, int argc, char **argv)
{
	char *dir = NULL;
	cli_parser p;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl init [DIR]",
			"Create a registry in DIR/.mlctl (default: ./.mlctl, or $MLCTL_REGISTRY when set), or in the\ndirectory given with --registry.",
			NULL, argc, argv);
	if ((r = cli_parse(&p, NULL)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos > 1) {
		status = cli_usage_error(&p, "init takes at most one directory");
		goto out;
	}
	if (p.npos == 1 && ctx->registry_dir) {
		status = cli_usage_error(&p, "give either DIR or --registry, not both");
		goto out;
	}
	if (ctx->registry_dir) {
		dir = strdup(ctx->registry_dir);
	} else if (p.npos == 0 && getenv("MLCTL_REGISTRY") && *getenv("MLCTL_REGISTRY")) {
		/* Like git init with $GIT_DIR: create the registry the other commands will use. */
		dir = strdup(getenv("MLCTL_REGISTRY"));
	} else if (p.npos == 1) {
		size_t n = strlen(p.pos[0]) + sizeof("/.mlctl");

		if ((dir = malloc(n)))
			snprintf(dir, n, "%s/.mlctl", p.pos[0]);
	} else {
		dir = strdup(".mlctl");
	}
	if (!dir) {
		cli_error("out of memory");
		status = MLCTL_EXIT_SOFTWARE;
		goto out;
	}
	ret = mlctl_registry_init(dir);
	if (ret == MLCTL_EEXISTS) {
		/* Like `git init`: running it again is harmless. */
		if (!ctx->quiet && !ctx->json)
			printf("Registry exists already in %s\n", dir);
	} else if (ret) {
		status = cli_fail(ret);
		goto out;
	} else if (!ctx->quiet && !ctx->json) {
		printf("Initialized empty mlctl registry in %s\n", dir);
	}
	if (ctx->json)
		status = cli_json_print(json_pack("{s:s, s:b, s:i}", "registry", dir, "created", ret == 0,
						  "schema", MLCTL_REGISTRY_SCHEMA));
out:
	free(dir);
	cli_parser_release(&p);
	return status;
}
