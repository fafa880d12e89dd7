/*
 * main.c — the mlctl command: global options, the command table, registry discovery and
 * the final check that stdout was really written. Each command lives in cmd_<name>.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "banned.h"

/* The command table: name, function or subcommand table, what it needs set up, one-line
 * summary. */
const cli_command cli_commands[] = {
	{ "init", cmd_init, NULL, 0, "create a registry" },
	{ "train", cmd_train, NULL, CLI_NEEDS_REGISTRY, "fit, tune and register a model" },
	{ "validate", cmd_validate, NULL, CLI_NEEDS_REGISTRY, "score a model on labelled data, check gates" },
	{ "package", NULL, cmd_package_forms, 0, "write, verify or inspect a .mlpkg package" },
	{ "deploy", NULL, cmd_deploy_forms, CLI_NEEDS_REGISTRY, "deploy, roll back, show targets" },
	{ "keygen", cmd_keygen, NULL, 0, "create a key pair for signing packages" },
	{ "predict", cmd_predict, NULL, CLI_REGISTRY_GENTLY, "score a file with a model (batch, cron-safe)" },
	{ "serve", cmd_serve, NULL, CLI_REGISTRY_GENTLY, "serve predictions over HTTP (Open Inference Protocol)" },
	{ "monitor", NULL, cmd_monitor_forms, CLI_REGISTRY_GENTLY, "drift and performance of a model in production" },
	{ "pipeline", NULL, cmd_pipeline_forms, 0, "run a pipeline file's stages when their inputs change" },
	{ "import-svm", cmd_import_svm, NULL, CLI_NEEDS_REGISTRY, "register a model made by svm-train" },
	{ "runs", NULL, cmd_runs_forms, CLI_READS_REGISTRY, "list, show and compare runs" },
	{ "models", NULL, cmd_models_forms, CLI_READS_REGISTRY, "list and show models, move aliases" },
	{ "data", NULL, cmd_data_forms, CLI_READS_REGISTRY, "list stored data sets, show their runs, check them out" },
	{ "gc", cmd_gc, NULL, CLI_READS_REGISTRY, "remove stored objects nothing refers to" },
	{ "help", cmd_help, NULL, 0, "show help for a command" },
	{ "version", cmd_version, NULL, 0, "print the version" },
	{ NULL, NULL, NULL, 0, NULL }
};

int cli_run(cli_ctx *ctx, const cli_command *c, int argc, char **argv)
{
	if (c->subs)
		return cli_dispatch(ctx, argc, argv, c->name, c->subs);
	return c->fn(ctx, argc, argv);
}

/*
 * `mlctl --list-forms` (not in --help; for tests and shell completion): every form the
 * tables give, one per line: "train", "runs list", and "deploy" for a command's own form
 * beside its subcommands. The SYNOPSIS test (tests/cli/t0006) reads it, so a new
 * subcommand is checked against its man page without editing the test.
 */
static void list_forms(FILE *f)
{
	const cli_command *c;
	const cli_subcommand *s;

	for (c = cli_commands; c->name; c++) {
		if (!c->subs)
			fprintf(f, "%s\n", c->name);
		for (s = c->subs; s && s->fn; s++)
			fprintf(f, "%s%s%s\n", c->name, s->name ? " " : "", s->name ? s->name : "");
	}
}

const cli_command *cli_find_command(const char *name)
{
	const cli_command *c;

	for (c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void print_usage(FILE *f)
{
	const cli_command *c;

	fprintf(f, "usage: mlctl [--registry DIR] [--json] [-q] COMMAND [ARGS]\n\n"
		   "mlctl takes a model from data to production: train, validate, package, deploy,\n"
		   "predict, every step recorded in a local registry.\n\ncommands:\n");
	for (c = cli_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\n'mlctl help COMMAND' or 'mlctl COMMAND --help' for a command's options;\n"
		   "mlctl(1) for exit codes and model references.\n");
}

int cli_open_registry_mode(cli_ctx *ctx, mlctl_registry_mode mode)
{
	char *dir = NULL;
	int ret;

	if (ctx->reg) {
		if (mode != MLCTL_REGISTRY_READWRITE || !mlctl_registry_readonly(ctx->reg))
			return 0;
		mlctl_registry_free(ctx->reg);
		ctx->reg = NULL;
	}
	if ((ret = mlctl_registry_discover(&dir, ctx->registry_dir)) == 0)
		ret = mlctl_registry_open_mode(&ctx->reg, dir, mode);
	free(dir);
	return ret;
}

int cli_open_registry(cli_ctx *ctx)
{
	return cli_open_registry_mode(ctx, MLCTL_REGISTRY_READWRITE);
}

int cli_registry_failed(const cli_ctx *ctx)
{
	return cli_fail_with(&ctx->registry_error, ctx->registry_status);
}

void cli_open_gently(cli_ctx *ctx)
{
	int ret;

	if (ctx->gently_done && ctx->gently_dir == ctx->registry_dir)
		return;
	mlctl_registry_free(ctx->reg);
	ctx->reg = NULL;
	ctx->registry_status = 0;
	ctx->gently_done = true;
	ctx->gently_dir = ctx->registry_dir;
	if ((ret = cli_open_registry_mode(ctx, MLCTL_REGISTRY_READWRITE_OR_READONLY))) {
		ctx->registry_status = ret;
		ctx->registry_error = *mlctl_error_last();
	}
}

/*
 * Open the registry as the command's flags ask, before it runs. CLI_REGISTRY_GENTLY keeps
 * a failure for the command to report if it needs the registry after all (so its usage
 * errors come first, as when it opened the registry itself).
 */
static int open_for(cli_ctx *ctx, unsigned flags)
{
	if (flags & CLI_REGISTRY_GENTLY) {
		cli_open_gently(ctx);
		return 0;
	}
	return cli_open_registry_mode(ctx, (flags & CLI_NEEDS_REGISTRY) ? MLCTL_REGISTRY_READWRITE :
				      MLCTL_REGISTRY_READONLY);
}

int cmd_version(cli_ctx *ctx, int argc, char **argv)
{
	cli_parser p;
	int r;

	cli_parser_init(&p, ctx, "mlctl version", "print the versions of mlctl and libsvm", NULL, argc, argv);
	r = cli_parse(&p, NULL);
	cli_parser_release(&p);
	if (r != CLI_OK)
		return cli_parse_exit(r);
	if (ctx->json) {
		json_t *doc = json_pack("{s:s, s:i, s:i}", "version", mlctl_version(),
					"libsvm", mlctl_libsvm_version(), "registry_schema", MLCTL_REGISTRY_SCHEMA);

		return cli_json_print(doc);
	}
	printf("mlctl %s (libsvm %d, registry schema %d)\n", mlctl_version(), mlctl_libsvm_version(),
	       MLCTL_REGISTRY_SCHEMA);
	return 0;
}

/* Leading global options, before the command name. Returns the index of the command
 * word, or -1 after printing an error, or 0 when help/version was handled. */
static int parse_globals(cli_ctx *ctx, int argc, char **argv, int *status)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0) {
			ctx->json = true;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			ctx->quiet = true;
		} else if (strcmp(a, "--registry") == 0) {
			if (++i >= argc) {
				cli_error("option --registry needs a value (DIR)");
				*status = MLCTL_EXIT_USAGE;
				return -1;
			}
			ctx->registry_dir = argv[i];
		} else if (strncmp(a, "--registry=", 11) == 0) {
			ctx->registry_dir = a + 11;
		} else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			*status = cmd_version(ctx, 1, argv);
			return 0;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			print_usage(stdout);
			*status = 0;
			return 0;
		} else if (strcmp(a, "--list-forms") == 0) {
			list_forms(stdout);
			*status = 0;
			return 0;
		} else if (a[0] == '-') {
			cli_error("unknown option %s", a);
			fprintf(stderr, "usage: mlctl [--registry DIR] [--json] [-q] COMMAND [ARGS]\n");
			*status = MLCTL_EXIT_USAGE;
			return -1;
		} else {
			return i;
		}
	}
	print_usage(stderr);
	*status = MLCTL_EXIT_USAGE;
	return -1;
}

static int unknown_command(const char *name)
{
	const char **names, *best = NULL;
	size_t n = 0;
	const cli_command *c;

	for (c = cli_commands; c->name; c++)
		n++;
	cli_error("unknown command '%s'", name);
	if ((names = malloc(n * sizeof(*names)))) {
		for (c = cli_commands, n = 0; c->name; c++)
			names[n++] = c->name;
		best = cli_suggest(name, names, n);
		free(names);
	}
	if (best)
		fprintf(stderr, "mlctl: did you mean '%s'?\n", best);
	fprintf(stderr, "'mlctl --help' lists the commands.\n");
	return MLCTL_EXIT_USAGE;
}

/* A full disk or a closed pipe must not pass as success. */
static int finish_stdout(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			return status;
		cli_error("cannot write to standard output: %s", strerror(errno));
		return status ? status : MLCTL_EXIT_IOERR;
	}
	return status;
}

int main(int argc, char **argv)
{
	cli_ctx ctx = { 0 };
	const cli_command *cmd;
	int status = 0, at, ret;

	signal(SIGPIPE, SIG_IGN);
	ctx.argc = argc;
	ctx.argv = argv;
	at = parse_globals(&ctx, argc, argv, &status);
	if (at <= 0)
		return finish_stdout(status);
	cmd = cli_find_command(argv[at]);
	if (!cmd)
		return unknown_command(argv[at]);
	ctx.command = cmd->name;
	if (cmd->flags & (CLI_NEEDS_REGISTRY | CLI_READS_REGISTRY | CLI_REGISTRY_GENTLY)) {
		/* --registry may also come after the command: look for it before opening. */
		int i;

		for (i = at + 1; i < argc; i++) {
			if (strcmp(argv[i], "--") == 0)
				break;
			if (strcmp(argv[i], "--registry") == 0 && i + 1 < argc)
				ctx.registry_dir = argv[i + 1];
			else if (strncmp(argv[i], "--registry=", 11) == 0)
				ctx.registry_dir = argv[i] + 11;
			else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
				goto run;
		}
		if ((ret = open_for(&ctx, cmd->flags)) != 0)
			return finish_stdout(cli_fail(ret));
	}
run:
	status = cli_run(&ctx, cmd, argc - at, argv + at);
	mlctl_registry_free(ctx.reg);
	return finish_stdout(status);
}
