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

/* The command table: name, function, what it needs set up, one-line summary. */
const cli_command cli_commands[] = {
	{ "init", cmd_init, 0, "create a registry" },
	{ "train", cmd_train, CLI_NEEDS_REGISTRY, "fit, tune and register a model" },
	{ "validate", cmd_validate, CLI_NEEDS_REGISTRY, "score a model on labelled data, check gates" },
	{ "package", cmd_package, 0, "write, verify or inspect a .mlpkg package" },
	{ "deploy", cmd_deploy, CLI_NEEDS_REGISTRY, "deploy, roll back, show targets" },
	{ "keygen", cmd_keygen, 0, "create a key pair for signing packages" },
	{ "predict", cmd_predict, 0, "score a file with a model (batch, cron-safe)" },
	{ "import-svm", cmd_import_svm, CLI_NEEDS_REGISTRY, "register a model made by svm-train" },
	{ "runs", cmd_runs, CLI_READS_REGISTRY, "list, show and compare runs" },
	{ "models", cmd_models, CLI_READS_REGISTRY, "list and show models, move aliases" },
	{ "gc", cmd_gc, CLI_READS_REGISTRY, "remove stored objects nothing refers to" },
	{ "help", cmd_help, 0, "show help for a command" },
	{ "version", cmd_version, 0, "print the version" },
	{ NULL, NULL, 0, NULL }
};

static const cli_command *find_command(const char *name)
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

int cmd_version(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_option opts[] = { { NULL, 0, NULL, NULL } };
	const char *v;
	cli_parser p;
	int r;

	cli_parser_init(&p, ctx, "mlctl version", "print the versions of mlctl and libsvm", opts, argc, argv);
	while ((r = cli_next(&p, &v)) >= 0)
		;
	cli_parser_release(&p);
	if (r != CLI_END)
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
				*status = EXIT_USAGE;
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
		} else if (a[0] == '-') {
			cli_error("unknown option %s", a);
			fprintf(stderr, "usage: mlctl [--registry DIR] [--json] [-q] COMMAND [ARGS]\n");
			*status = EXIT_USAGE;
			return -1;
		} else {
			return i;
		}
	}
	print_usage(stderr);
	*status = EXIT_USAGE;
	return -1;
}

static int unknown_command(const char *name)
{
	const char *names[64];
	const char *best;
	size_t n = 0;
	const cli_command *c;

	for (c = cli_commands; c->name && n < 64; c++)
		names[n++] = c->name;
	cli_error("unknown command '%s'", name);
	best = cli_suggest(name, names, n);
	if (best)
		fprintf(stderr, "mlctl: did you mean '%s'?\n", best);
	fprintf(stderr, "'mlctl --help' lists the commands.\n");
	return EXIT_USAGE;
}

/* A full disk or a closed pipe must not pass as success. */
static int finish_stdout(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			return status;
		cli_error("cannot write to standard output: %s", strerror(errno));
		return status ? status : EXIT_IOERR;
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
	cmd = find_command(argv[at]);
	if (!cmd)
		return unknown_command(argv[at]);
	ctx.command = cmd->name;
	if (cmd->flags & (CLI_NEEDS_REGISTRY | CLI_READS_REGISTRY)) {
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
		ret = cli_open_registry_mode(&ctx, (cmd->flags & CLI_NEEDS_REGISTRY) ? MLCTL_REGISTRY_READWRITE :
					     MLCTL_REGISTRY_READONLY);
		if (ret != 0)
			return finish_stdout(cli_fail(ret));
	}
run:
	status = cmd->fn(&ctx, argc - at, argv + at);
	mlctl_registry_free(ctx.reg);
	return finish_stdout(status);
}
