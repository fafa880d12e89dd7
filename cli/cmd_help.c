/*
 * cmd_help.c — `mlctl help [COMMAND]`: open the command's man page on a terminal, else
 * print its --help.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "banned.h"

/* Run man(1) for page; true when it showed it. */
static bool show_man(const char *page)
{
	pid_t pid;
	int st;

	if (!isatty(STDOUT_FILENO))
		return false;
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		execlp("man", "man", page, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int cmd_help(cli_ctx *ctx, int argc, char **argv)
{
	const cli_command *c;
	char page[64];
	cli_parser p;
	int r, status = 0;

	cli_parser_init(&p, ctx, "mlctl help [COMMAND]", "Show the manual of mlctl or of one command.", NULL, argc, argv);
	if ((r = cli_parse(&p, NULL)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos == 0) {
		if (!show_man("mlctl")) {
			printf("usage: mlctl [--registry DIR] [--json] [-q] COMMAND [ARGS]\n\ncommands:\n");
			for (c = cli_commands; c->name; c++)
				printf("  %-10s %s\n", c->name, c->summary);
		}
		goto out;
	}
	for (c = cli_commands; c->name; c++)
		if (strcmp(c->name, p.pos[0]) == 0)
			break;
	if (!c->name) {
		status = cli_usage_error(&p, "no command '%s'", p.pos[0]);
		goto out;
	}
	snprintf(page, sizeof(page), "mlctl-%s", c->name);
	if (!show_man(page)) {
		char *args[] = { (char *)c->name, "--help", NULL };
		cli_ctx sub = *ctx;

		sub.command = c->name;
		status = cli_run(&sub, c, 2, args);
	}
out:
	cli_parser_release(&p);
	return status;
}
