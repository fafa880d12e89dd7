/*
 * cli.h — what the command files share: the context a command runs in, the option parser
 * (one table per command feeds both parsing and --help), and output helpers (tables,
 * JSON, errors, progress). The front end uses only the public API in mlctl.h.
 */
#ifndef MLCTL_CLI_H
#define MLCTL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "mlctl.h"

/*
 * What a command needs set up before it runs: CLI_NEEDS_REGISTRY opens the registry for
 * writing; CLI_READS_REGISTRY opens it read-only, so the command works on a registry
 * mounted read-only, and a subcommand that writes (models alias, gc without --dry-run)
 * reopens it for writing with cli_open_registry(). CLI_REGISTRY_GENTLY opens it if there
 * is one: for writing, else read-only, else not at all (ctx->reg stays NULL and
 * ctx->registry_error says why; see cli_open_gently()); the command decides whether it
 * can do without (predict scores a .mlpkg file without any registry) and calls
 * cli_registry_failed() when it cannot.
 */
enum { CLI_NEEDS_REGISTRY = 1, CLI_READS_REGISTRY = 2, CLI_REGISTRY_GENTLY = 4 };

typedef struct cli_ctx {
	const char *registry_dir;  /* --registry */
	bool json;                 /* --json */
	bool quiet;                /* -q */
	mlctl_registry *reg;       /* opened for CLI_NEEDS_/CLI_READS_/CLI_REGISTRY_GENTLY commands */
	int registry_status;       /* CLI_REGISTRY_GENTLY: why reg is NULL (an MLCTL_E* code), or 0 */
	mlctl_error registry_error;/* ... and the library's message */
	bool gently_done;          /* cli_open_gently() ran ... */
	const char *gently_dir;    /* ... for this registry_dir */
	int argc;                  /* the whole command line, for recording runs */
	char **argv;
	const char *command;       /* "train" */
} cli_ctx;

typedef int (*cli_fn)(cli_ctx *ctx, int argc, char **argv);

/*
 * Subcommands of a command ("runs list"), in a table ended by a row whose fn is NULL. The
 * first row is the default form: it runs when no subcommand is named or the first argument
 * is an option. A default row with a name ("list") is also a subcommand by that name, and
 * any other word is an unknown subcommand. A default row without a name is the command's
 * own form with positionals (`mlctl deploy MODEL ...`): it runs whenever the first argument
 * is not exactly a subcommand's name (so a model named like a subcommand is reached with
 * an option or `--` before it: `mlctl deploy --target T -- status`).
 */
typedef struct cli_subcommand {
	const char *name;          /* NULL: the command's own form (first row only) */
	cli_fn fn;
} cli_subcommand;

/*
 * The command table: name, function (or subcommand table), what it needs set up, one-line
 * summary. A row has either fn or subs.
 */
typedef struct cli_command {
	const char *name;
	cli_fn fn;
	const cli_subcommand *subs;
	unsigned flags;
	const char *summary;
} cli_command;

extern const cli_command cli_commands[];

/* Run command c (argv[0] is its name): its function, or the subcommand argv[1] names. */
int cli_run(cli_ctx *ctx, const cli_command *c, int argc, char **argv);

/* Run the subcommand argv[1] names in subs (see cli_subcommand for the default form); an
 * unknown one is a usage error suggesting the closest. group is the command's name. */
int cli_dispatch(cli_ctx *ctx, int argc, char **argv, const char *group, const cli_subcommand *subs);

/*
 * Options. A command has one table of cli_option rows that feeds both parsing and --help
 * (as curl's does). Each row names the option and says where its value goes and as what
 * type (as libgit2's cli_opt_spec): a field of the command's arguments struct, given by
 * offset, so cli_parse(&p, &args) fills the struct directly and the command reads it
 * afterwards. Rows are written with the CLI_* macros, which check the field's type at
 * compile time:
 *
 *	static const cli_option opts[] = {
 *		{ "name", 0, "NAME", "model name (required)", CLI_STRING(mlctl_train_options, name) },
 *		{ "cv", 'v', "K", "k-fold cross-validation", CLI_INT(mlctl_train_options, cv, 2, 1000) },
 *		{ "tag", 0, "K=V", "a tag (repeatable)", CLI_KV(mlctl_train_options, tags, ntags) },
 *		CLI_OPTIONS_END
 *	};
 *
 * A row with a NULL metavar is a flag and takes no value. An option given twice: the last
 * value counts, except for the repeatable kinds (LIST, PARAM, KV), which append to an array
 * that grows without a cap. The arrays belong to the parser: cli_parser_release() frees
 * them, so the command uses the struct before releasing the parser.
 */
typedef enum {
	CLI_OPT_END = 0,
	CLI_OPT_FLAG,              /* bool: set to true */
	CLI_OPT_STRING,            /* const char *: the value (borrowed from argv) */
	CLI_OPT_INT,               /* int, a whole number in [min, max] */
	CLI_OPT_SIZE,              /* size_t, the same */
	CLI_OPT_U64,               /* uint64_t, the same */
	CLI_OPT_INT64,             /* int64_t, the same */
	CLI_OPT_DOUBLE,            /* double: a number (not NaN) */
	CLI_OPT_SECONDS,           /* double: a duration in seconds, not negative */
	CLI_OPT_LIST,              /* const char *const * and its size_t count: each value appended
				      (max > 0: at most max, more is a usage error) */
	CLI_OPT_CSV,               /* the same, filled from one comma-separated value (empty items dropped) */
	CLI_OPT_PARAM,             /* const mlctl_kv * and its size_t count: { key, value } appended,
				      key being the row's key; a flag appends { key, fixed } once */
	CLI_OPT_KV,                /* the same, from a KEY=VALUE value */
	CLI_OPT_CALL,              /* fn decides, for what the others cannot say */
	CLI_OPT_HELP               /* print the help and stop (the global -h/--help) */
} cli_opt_type;

typedef struct cli_option cli_option;
typedef struct cli_parser cli_parser;

/* A CLI_OPT_CALL function: target points at the row's field, value is the option's value
 * (NULL for a flag). It returns 0, or CLI_ERROR after printing why (or CLI_ENOMEM). */
typedef int (*cli_opt_fn)(cli_parser *p, const cli_option *opt, void *target, const char *value);

struct cli_option {
	const char *name;          /* long name, without "--"; NULL ends the table */
	char shortopt;             /* short letter, or 0 */
	const char *metavar;       /* the value's name in --help; NULL: a flag */
	const char *help;
	cli_opt_type type;
	size_t off;                /* the target field's offset in the arguments struct */
	size_t count_off;          /* LIST, CSV, PARAM, KV: the offset of its size_t count */
	long min, max;             /* INT, SIZE, U64, INT64: the accepted range; LIST: max values */
	const char *key;           /* PARAM: the key */
	const char *fixed;         /* PARAM flag: the value */
	cli_opt_fn fn;             /* CALL */
};

/* 0, but a compile error unless T's field has type F: comparing pointers of distinct types
 * is an error with -Werror. */
#define CLI_CHECK_(T, field, F) (0 * sizeof(&((T *)0)->field == (F *)0))
#define CLI_AT_(T, field, F) .off = offsetof(T, field) + CLI_CHECK_(T, field, F)
#define CLI_COUNT_(T, count) .count_off = offsetof(T, count) + CLI_CHECK_(T, count, size_t)

#define CLI_FLAG(T, field) .type = CLI_OPT_FLAG, CLI_AT_(T, field, bool)
#define CLI_STRING(T, field) .type = CLI_OPT_STRING, CLI_AT_(T, field, const char *)
#define CLI_INT(T, field, lo, hi) .type = CLI_OPT_INT, CLI_AT_(T, field, int), .min = (lo), .max = (hi)
#define CLI_SIZE(T, field, lo, hi) .type = CLI_OPT_SIZE, CLI_AT_(T, field, size_t), .min = (lo), .max = (hi)
#define CLI_U64(T, field, lo, hi) .type = CLI_OPT_U64, CLI_AT_(T, field, uint64_t), .min = (lo), .max = (hi)
#define CLI_INT64(T, field, lo, hi) .type = CLI_OPT_INT64, CLI_AT_(T, field, int64_t), .min = (lo), .max = (hi)
#define CLI_DOUBLE(T, field) .type = CLI_OPT_DOUBLE, CLI_AT_(T, field, double)
#define CLI_SECONDS(T, field) .type = CLI_OPT_SECONDS, CLI_AT_(T, field, double)
#define CLI_LIST(T, field, count) .type = CLI_OPT_LIST, CLI_AT_(T, field, const char *const *), CLI_COUNT_(T, count)
#define CLI_LIST_MAX(T, field, count, n) CLI_LIST(T, field, count), .max = (n)
#define CLI_CSV(T, field, count) .type = CLI_OPT_CSV, CLI_AT_(T, field, const char *const *), CLI_COUNT_(T, count)
#define CLI_PARAM(T, field, count, k) .type = CLI_OPT_PARAM, CLI_AT_(T, field, const mlctl_kv *), \
	CLI_COUNT_(T, count), .key = (k)
#define CLI_PARAM_SET(T, field, count, k, v) CLI_PARAM(T, field, count, k), .fixed = (v)
#define CLI_KV(T, field, count) .type = CLI_OPT_KV, CLI_AT_(T, field, const mlctl_kv *), CLI_COUNT_(T, count)
#define CLI_CALL(T, field, f) .type = CLI_OPT_CALL, .off = offsetof(T, field), .fn = (f)
#define CLI_OPTIONS_END { NULL, 0, NULL, NULL, .type = CLI_OPT_END }

/*
 * The option parser. Global options (--registry DIR, --json, -q, -h/--help) are accepted
 * by every command, before or after its own, and fill ctx. Positional arguments are
 * collected in pos[].
 */
struct cli_parser {
	cli_ctx *ctx;
	const char *usage;         /* "mlctl runs list [options]" */
	const char *summary;
	const cli_option *opts;    /* terminated by CLI_OPTIONS_END; NULL: none */
	int argc;
	char **argv;
	int i;
	int npos;
	char **pos;
	bool dashdash;
	char shortbuf[3];
	struct cli_owned *owned;   /* the arrays and strings the parser made, freed by release */
	size_t nowned, owned_cap;
};

enum { CLI_OK = 0, CLI_ERROR = -2, CLI_HELP = -3, CLI_ENOMEM = -4 };

/* Set p up to parse argv (argv[0] is the command's name) with the table opts (or NULL). */
void cli_parser_init(cli_parser *p, cli_ctx *ctx, const char *usage, const char *summary,
		     const cli_option *opts, int argc, char **argv);
/*
 * Parse every argument: options into their fields of args (the struct the table's offsets
 * are in; NULL when opts is), global options into ctx, positionals into pos[]. Returns
 * CLI_OK, or CLI_ERROR (message printed: exit 64), CLI_HELP (help printed: exit 0) or
 * CLI_ENOMEM; cli_parse_exit() turns those into the exit status.
 */
int cli_parse(cli_parser *p, void *args);
/* Free what the parser made (positionals, the arrays of repeatable options). */
void cli_parser_release(cli_parser *p);
/* The exit status for what cli_parse() returned. */
int cli_parse_exit(int r);
/* Print usage help for p to f. */
void cli_print_help(const cli_parser *p, FILE *f);
/* Complain about positional arguments: too many / too few. Returns 64. */
int cli_usage_error(const cli_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse numbers from option values; on failure print a usage error and return false. */
bool cli_int(const char *opt, const char *value, long min, long max, long *out);
bool cli_double(const char *opt, const char *value, double *out);
/* A duration in seconds: a number, not negative (what CLI_OPT_SECONDS rows take). */
bool cli_seconds(const char *opt, const char *value, double *out);

/* Errors: "mlctl: <message>" on stderr. cli_fail() prints the library's last error and
 * returns the exit status for code (mlctl_exit_status(): the statuses are the library's
 * MLCTL_EXIT_* table, the only one); cli_fail_with() does the same for a saved error. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_fail(int code);
int cli_fail_with(const mlctl_error *e, int code);

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
/* Draw a progress line of one's own on stderr (the caller checks for a terminal); cleared
 * by cli_progress_done() as cli_progress()'s. */
void cli_progress_show(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_progress_done(void);

/* A run as JSON (details: params, metrics, tags, lineage too). */
json_t *cli_run_json(const mlctl_run *r, bool details);

/* Open the registry into ctx->reg for writing (for commands that open it late), reopening
 * it when it was opened read-only. */
int cli_open_registry(cli_ctx *ctx);
/* Open it in a mode (mlctl_registry_open_mode()); an open handle is kept unless it is
 * read-only and writing is asked for. */
int cli_open_registry_mode(cli_ctx *ctx, mlctl_registry_mode mode);
/*
 * CLI_REGISTRY_GENTLY: open the registry if there is one, for writing, else read-only;
 * else leave ctx->reg NULL and keep why in ctx->registry_status and ->registry_error.
 * main() calls it before the command runs; the command calls it again after parsing (it
 * does nothing unless --registry changed: main looks ahead only for the option spelled
 * out, the parser also takes an abbreviation such as --reg).
 */
void cli_open_gently(cli_ctx *ctx);
/* For a CLI_REGISTRY_GENTLY command that finds it needs the registry after all: print why
 * it could not be opened (ctx->registry_error) and return the exit status. */
int cli_registry_failed(const cli_ctx *ctx);

int cmd_init(cli_ctx *ctx, int argc, char **argv);
int cmd_train(cli_ctx *ctx, int argc, char **argv);
int cmd_predict(cli_ctx *ctx, int argc, char **argv);
int cmd_serve(cli_ctx *ctx, int argc, char **argv);
int cmd_validate(cli_ctx *ctx, int argc, char **argv);
int cmd_keygen(cli_ctx *ctx, int argc, char **argv);
int cmd_import_svm(cli_ctx *ctx, int argc, char **argv);
int cmd_gc(cli_ctx *ctx, int argc, char **argv);
int cmd_help(cli_ctx *ctx, int argc, char **argv);
int cmd_version(cli_ctx *ctx, int argc, char **argv);
extern const cli_subcommand cmd_pipeline_forms[];

/* The option tables of the commands a pipeline stage runs: the stage takes the same options
 * (cmd_pipeline.c reads them). */
extern const cli_option cli_train_options[];
extern const cli_option cli_validate_options[];
extern const cli_option cli_package_options[];
extern const cli_option cli_deploy_options[];
extern const cli_option cli_predict_options[];
extern const cli_option cli_monitor_options[];
/* The command called name in cli_commands[], or NULL. */
const cli_command *cli_find_command(const char *name);

/* The commands with subcommands: their dispatch tables. */
extern const cli_subcommand cmd_package_forms[];
extern const cli_subcommand cmd_deploy_forms[];
extern const cli_subcommand cmd_runs_forms[];
extern const cli_subcommand cmd_models_forms[];
extern const cli_subcommand cmd_data_forms[];
extern const cli_subcommand cmd_monitor_forms[];

#endif
