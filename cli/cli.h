/*
 * cli.h — what the command files share: the context a command runs in, the option parser
 * (one table per command feeds both parsing and --help), and output helpers (tables,
 * JSON, errors, progress). The front end uses only the public API in mlctl.h.
 */
#ifndef MLCTL_CLI_H
#define MLCTL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "mlctl.h"

/* Exit statuses (sysexits), as in mlctl(1). */
enum {
	EXIT_VERDICT = 1, EXIT_USAGE = 64, EXIT_DATAERR = 65, EXIT_NOINPUT = 66,
	EXIT_UNAVAILABLE = 69, EXIT_SOFTWARE = 70, EXIT_CANTCREAT = 73, EXIT_IOERR = 74,
	EXIT_TEMPFAIL = 75, EXIT_CONFIG = 78
};

/*
 * What a command needs set up before it runs: CLI_NEEDS_REGISTRY opens the registry for
 * writing; CLI_READS_REGISTRY opens it read-only, so the command works on a registry
 * mounted read-only, and a subcommand that writes (models alias, gc without --dry-run)
 * reopens it for writing with cli_open_registry().
 */
enum { CLI_NEEDS_REGISTRY = 1, CLI_READS_REGISTRY = 2 };

typedef struct cli_ctx {
	const char *registry_dir;  /* --registry */
	bool json;                 /* --json */
	bool quiet;                /* -q */
	mlctl_registry *reg;       /* opened for CLI_NEEDS_/CLI_READS_REGISTRY commands */
	int argc;                  /* the whole command line, for recording runs */
	char **argv;
	const char *command;       /* "train" */
} cli_ctx;

typedef int (*cli_fn)(cli_ctx *ctx, int argc, char **argv);

typedef struct cli_command {
	const char *name;
	cli_fn fn;
	unsigned flags;
	const char *summary;
} cli_command;

extern const cli_command cli_commands[];

/* One option: long name, short letter (0: none), metavar (NULL: a flag), help text. */
typedef struct cli_option {
	const char *name;
	char shortopt;
	const char *metavar;
	const char *help;
} cli_option;

/*
 * The option parser. Global options (--registry DIR, --json, -q, -h/--help) are accepted
 * by every command and handled here. Positional arguments are collected in pos[].
 */
typedef struct cli_parser {
	cli_ctx *ctx;
	const char *usage;         /* "mlctl runs list [options]" */
	const char *summary;
	const cli_option *opts;    /* terminated by { NULL } */
	int argc;
	char **argv;
	int i;
	int npos;
	char **pos;
	bool dashdash;
	char shortbuf[3];
} cli_parser;

enum { CLI_END = -1, CLI_ERROR = -2, CLI_HELP = -3 };

void cli_parser_init(cli_parser *p, cli_ctx *ctx, const char *usage, const char *summary,
		     const cli_option *opts, int argc, char **argv);
/* Next option: its index in opts, CLI_END, CLI_ERROR (message printed: exit 64) or
 * CLI_HELP (help printed: exit 0). *value is the option's argument. */
int cli_next(cli_parser *p, const char **value);
void cli_parser_release(cli_parser *p);
/* Return the exit status for CLI_ERROR/CLI_HELP. */
int cli_parse_exit(int r);
/* Print usage help for p to f. */
void cli_print_help(const cli_parser *p, FILE *f);
/* Complain about positional arguments: too many / too few. Returns 64. */
int cli_usage_error(const cli_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Subcommands of a command ("runs list"). The first is the default: it runs when no
 * subcommand is named or the first argument is an option. */
typedef struct cli_subcommand {
	const char *name;
	cli_fn fn;
} cli_subcommand;

/* Run the subcommand argv[1] names (from a NULL-terminated table); an unknown one is a
 * usage error suggesting the closest. group is the command's name, for messages. */
int cli_dispatch(cli_ctx *ctx, int argc, char **argv, const char *group, const cli_subcommand *subs);

/* Split "a,b,c" into *out (empty items dropped); the strings point into *storage. Free
 * both. -1 when out of memory. */
int cli_split_list(const char *s, const char ***out, size_t *n, char **storage);

/* Parse numbers from option values; on failure print a usage error and return false. */
bool cli_int(const char *opt, const char *value, long min, long max, long *out);
bool cli_double(const char *opt, const char *value, double *out);

/* Errors: "mlctl: <message>" on stderr. cli_fail() prints the library's last error and
 * returns the exit status for code. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_fail(int code);

/* The closest of candidates[0..n) to word (edit distance), or NULL when none is close. */
const char *cli_suggest(const char *word, const char *const *candidates, size_t n);

/* A human table on stdout: columns aligned, header in capitals. */
typedef struct cli_table cli_table;
cli_table *cli_table_new(int ncols, ...);
void cli_table_row(cli_table *t, ...);   /* ncols strings (NULL prints "-") */
void cli_table_print(cli_table *t, FILE *f);
void cli_table_free(cli_table *t);

/* Print a JSON document on stdout (and release it). */
int cli_json_print(json_t *doc);
/* JSON helpers: a string or null; a number or null for NaN. */
json_t *cli_json_str(const char *s);
json_t *cli_json_num(double v);
json_t *cli_json_time(int64_t ms);

/* Human formatting into a static rotating buffer. */
const char *cli_fmt_time(int64_t ms);
const char *cli_fmt_duration(int64_t ms);
const char *cli_fmt_double(double v);
const char *cli_fmt_bytes(uint64_t n);

/* A progress callback drawing a bar on stderr when it is a terminal (and not -q). */
bool cli_progress(const char *what, uint64_t done, uint64_t total, void *payload);
void cli_progress_done(void);

/* A run as JSON (details: params, metrics, tags, lineage too). */
json_t *cli_run_json(const mlctl_run *r, bool details);

/* Open the registry into ctx->reg for writing (for commands that open it late), reopening
 * it when it was opened read-only. */
int cli_open_registry(cli_ctx *ctx);
/* Open it in a mode (mlctl_registry_open_mode()); an open handle is kept unless it is
 * read-only and writing is asked for. */
int cli_open_registry_mode(cli_ctx *ctx, mlctl_registry_mode mode);

int cmd_init(cli_ctx *ctx, int argc, char **argv);
int cmd_train(cli_ctx *ctx, int argc, char **argv);
int cmd_predict(cli_ctx *ctx, int argc, char **argv);
int cmd_validate(cli_ctx *ctx, int argc, char **argv);
int cmd_package(cli_ctx *ctx, int argc, char **argv);
int cmd_deploy(cli_ctx *ctx, int argc, char **argv);
int cmd_keygen(cli_ctx *ctx, int argc, char **argv);
int cmd_import_svm(cli_ctx *ctx, int argc, char **argv);
int cmd_runs(cli_ctx *ctx, int argc, char **argv);
int cmd_models(cli_ctx *ctx, int argc, char **argv);
int cmd_gc(cli_ctx *ctx, int argc, char **argv);
int cmd_help(cli_ctx *ctx, int argc, char **argv);
int cmd_version(cli_ctx *ctx, int argc, char **argv);

#endif
