/*
 * options.c — the option parser shared by every command. One table per command drives
 * parsing and --help (as curl does), global options are accepted anywhere, and an unknown
 * option suggests the closest known one.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

static const cli_option global_opts[] = {
	{ "registry", 0, "DIR", "use the registry in DIR (default: $MLCTL_REGISTRY, else the nearest .mlctl/)" },
	{ "json", 0, NULL, "print one JSON document on stdout instead of a table" },
	{ "quiet", 'q', NULL, "print nothing but errors" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL }
};

void cli_parser_init(cli_parser *p, cli_ctx *ctx, const char *usage, const char *summary,
		     const cli_option *opts, int argc, char **argv)
{
	memset(p, 0, sizeof(*p));
	p->ctx = ctx;
	p->usage = usage;
	p->summary = summary;
	p->opts = opts;
	p->argc = argc;
	p->argv = argv;
	p->i = 1;
	p->pos = calloc((size_t)argc + 1, sizeof(*p->pos));
}

void cli_parser_release(cli_parser *p)
{
	free(p->pos);
	p->pos = NULL;
}

int cli_parse_exit(int r)
{
	return r == CLI_HELP ? 0 : EXIT_USAGE;
}

static void print_opts(const cli_option *o, FILE *f)
{
	for (; o && o->name; o++) {
		char left[64];

		if (o->shortopt)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->shortopt, o->name, o->metavar ? " " : "",
				 o->metavar ? o->metavar : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
		fprintf(f, "  %-28s %s\n", left, o->help);
	}
}

void cli_print_help(const cli_parser *p, FILE *f)
{
	fprintf(f, "usage: %s\n", p->usage);
	if (p->summary)
		fprintf(f, "\n%s\n", p->summary);
	if (p->opts && p->opts->name) {
		fprintf(f, "\noptions:\n");
		print_opts(p->opts, f);
	}
	fprintf(f, "\nglobal options:\n");
	print_opts(global_opts, f);
	fprintf(f, "\nSee mlctl-%s(1) for details.\n", p->ctx->command ? p->ctx->command : "");
}

int cli_usage_error(const cli_parser *p, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mlctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\n", p->usage);
	return EXIT_USAGE;
}

/* Find a long option by name (exact, or a unique prefix as getopt_long allows). */
static int find_long(const cli_option *opts, const char *name, size_t len, bool *ambiguous)
{
	int i, found = -1;

	*ambiguous = false;
	for (i = 0; opts && opts[i].name; i++) {
		if (strncmp(opts[i].name, name, len) != 0)
			continue;
		if (strlen(opts[i].name) == len)
			return i;
		if (found >= 0)
			*ambiguous = true;
		found = i;
	}
	return *ambiguous ? -1 : found;
}

static int find_short(const cli_option *opts, char c)
{
	int i;

	for (i = 0; opts && opts[i].name; i++)
		if (opts[i].shortopt == c)
			return i;
	return -1;
}

static void suggest_option(const cli_parser *p, const char *word)
{
	const char *names[128];
	const char *best;
	size_t n = 0;
	int i;

	for (i = 0; p->opts && p->opts[i].name && n < 120; i++)
		names[n++] = p->opts[i].name;
	for (i = 0; global_opts[i].name; i++)
		names[n++] = global_opts[i].name;
	best = cli_suggest(word, names, n);
	if (best)
		fprintf(stderr, "mlctl: did you mean --%s?\n", best);
}

/* Handle a global option (index gi in global_opts); returns CLI_END to continue parsing,
 * or CLI_HELP. */
static int handle_global(cli_parser *p, int gi, const char *value)
{
	switch (gi) {
	case 0: p->ctx->registry_dir = value; break;
	case 1: p->ctx->json = true; break;
	case 2: p->ctx->quiet = true; break;
	case 3: cli_print_help(p, stdout); return CLI_HELP;
	}
	return CLI_END;
}

int cli_next(cli_parser *p, const char **value)
{
	*value = NULL;
	while (p->i < p->argc) {
		char *arg = p->argv[p->i++];
		const cli_option *table;
		bool ambiguous, global = false;
		const char *eq;
		size_t len;
		int idx;

		if (p->dashdash || arg[0] != '-' || arg[1] == '\0') {
			p->pos[p->npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			p->dashdash = true;
			continue;
		}
		if (arg[1] == '-') {
			const char *name = arg + 2;

			eq = strchr(name, '=');
			len = eq ? (size_t)(eq - name) : strlen(name);
			table = p->opts;
			idx = find_long(table, name, len, &ambiguous);
			if (idx < 0 && !ambiguous) {
				table = global_opts;
				global = true;
				idx = find_long(table, name, len, &ambiguous);
			}
			if (idx < 0) {
				cli_error("%s option --%.*s", ambiguous ? "ambiguous" : "unknown", (int)len, name);
				if (!ambiguous) {
					char word[64];

					snprintf(word, sizeof(word), "%.*s", (int)len, name);
					suggest_option(p, word);
				}
				fprintf(stderr, "usage: %s\n", p->usage);
				return CLI_ERROR;
			}
			if (table[idx].metavar) {
				if (eq) {
					*value = eq + 1;
				} else if (p->i < p->argc) {
					*value = p->argv[p->i++];
				} else {
					cli_error("option --%s needs a value (%s)", table[idx].name, table[idx].metavar);
					return CLI_ERROR;
				}
			} else if (eq) {
				cli_error("option --%s takes no value", table[idx].name);
				return CLI_ERROR;
			}
		} else {
			char c = arg[1];

			table = p->opts;
			idx = find_short(table, c);
			if (idx < 0) {
				table = global_opts;
				global = true;
				idx = find_short(table, c);
			}
			if (idx < 0) {
				cli_error("unknown option -%c", c);
				fprintf(stderr, "usage: %s\n", p->usage);
				return CLI_ERROR;
			}
			if (table[idx].metavar) {
				if (arg[2]) {
					*value = arg + 2;
				} else if (p->i < p->argc) {
					*value = p->argv[p->i++];
				} else {
					cli_error("option -%c needs a value (%s)", c, table[idx].metavar);
					return CLI_ERROR;
				}
			} else if (arg[2]) {
				/* Bundled flags: "-qv" is "-q -v". */
				p->shortbuf[0] = '-';
				p->shortbuf[1] = arg[2];
				p->shortbuf[2] = '\0';
				if (arg[3]) {
					cli_error("unsupported bundled options %s", arg);
					return CLI_ERROR;
				}
				p->argv[--p->i] = p->shortbuf;
			}
		}
		if (global) {
			int r = handle_global(p, idx, *value);

			if (r != CLI_END)
				return r;
			continue;
		}
		return idx;
	}
	return CLI_END;
}

bool cli_int(const char *opt, const char *value, long min, long max, long *out)
{
	char *end;
	long v;

	v = strtol(value, &end, 10);
	if (!*value || *end || v < min || v > max) {
		cli_error("--%s: \"%s\" is not a whole number from %ld to %ld", opt, value, min, max);
		return false;
	}
	*out = v;
	return true;
}

bool cli_double(const char *opt, const char *value, double *out)
{
	char *end;
	double v = strtod(value, &end);

	if (!*value || *end || v != v) {
		cli_error("--%s: \"%s\" is not a number", opt, value);
		return false;
	}
	*out = v;
	return true;
}

/* Edit distance (optimal string alignment), capped for speed. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[64][64];

	if (la > 63 || lb > 63)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], v = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *cli_suggest(const char *word, const char *const *candidates, size_t n)
{
	size_t i, best_d = (size_t)-1, limit = strlen(word) / 2 + 1;
	const char *best = NULL;

	for (i = 0; i < n; i++) {
		size_t dist = edit_distance(word, candidates[i]);

		/* A prefix of a longer name is a good suggestion too ("--thread" → "--threads"). */
		if (strncmp(candidates[i], word, strlen(word)) == 0 && strlen(word) >= 3)
			dist = 1;
		if (dist < best_d) {
			best_d = dist;
			best = candidates[i];
		}
	}
	return best_d <= (limit < 3 ? limit : 3) ? best : NULL;
}

int cli_dispatch(cli_ctx *ctx, int argc, char **argv, const char *group, const cli_subcommand *subs)
{
	const char *names[32], *best;
	size_t n = 0, i;

	if (argc < 2 || argv[1][0] == '-')
		return subs[0].fn(ctx, argc, argv);
	for (i = 0; subs[i].name; i++) {
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(ctx, argc - 1, argv + 1);
		if (n < 32)
			names[n++] = subs[i].name;
	}
	cli_error("unknown subcommand '%s %s'", group, argv[1]);
	best = cli_suggest(argv[1], names, n);
	if (best)
		fprintf(stderr, "mlctl: did you mean '%s %s'?\n", group, best);
	fprintf(stderr, "usage: mlctl %s", group);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s%s", i ? "|" : " ", names[i]);
	fprintf(stderr, " ...\n");
	return EXIT_USAGE;
}

int cli_split_list(const char *s, const char ***out, size_t *n, char **storage)
{
	char *copy = strdup(s), *p;
	const char **v = calloc(strlen(s) / 2 + 2, sizeof(*v));

	if (!copy || !v) {
		free(copy);
		free(v);
		return -1;
	}
	*n = 0;
	for (p = copy; p;) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		if (*p)
			v[(*n)++] = p;
		p = comma ? comma + 1 : NULL;
	}
	*out = v;
	*storage = copy;
	return 0;
}
