/*
 * options.c — the option parser shared by every command. One typed table per command
 * drives parsing and --help (as curl does): each row says where its value goes and as what
 * (as libgit2's cli_opt_spec), so parsing fills the command's struct directly. Global
 * options are accepted anywhere, repeatable options grow their arrays without a cap, and
 * an unknown option suggests the closest known one.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

/* The global options fill the cli_ctx. */
static const cli_option global_opts[] = {
	{ "registry", 0, "DIR", "use the registry in DIR (default: $MLCTL_REGISTRY, else the nearest .mlctl/)",
	  CLI_STRING(cli_ctx, registry_dir) },
	{ "json", 0, NULL, "print one JSON document on stdout instead of a table", CLI_FLAG(cli_ctx, json) },
	{ "quiet", 'q', NULL, "print nothing but errors", CLI_FLAG(cli_ctx, quiet) },
	{ "help", 'h', NULL, "show this help", .type = CLI_OPT_HELP },
	CLI_OPTIONS_END
};

/* Something the parser allocated: the array behind a repeatable option's field (field is
 * the field's address), or a string (field NULL). */
struct cli_owned {
	void *field;
	void *block;
	size_t cap;                /* elements the array has room for */
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
	size_t i;

	for (i = 0; i < p->nowned; i++)
		free(p->owned[i].block);
	free(p->owned);
	p->owned = NULL;
	p->nowned = p->owned_cap = 0;
	free(p->pos);
	p->pos = NULL;
}

int cli_parse_exit(int r)
{
	if (r == CLI_HELP)
		return MLCTL_EXIT_OK;
	return r == CLI_ENOMEM ? MLCTL_EXIT_SOFTWARE : MLCTL_EXIT_USAGE;
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
	return MLCTL_EXIT_USAGE;
}

static int out_of_memory(void)
{
	cli_error("out of memory");
	return CLI_ENOMEM;
}

/* ---- what the parser owns ---- */

/* The record for field (NULL: a new string record), made when there is none. */
static struct cli_owned *owned_for(cli_parser *p, void *field)
{
	size_t i;

	for (i = 0; field && i < p->nowned; i++)
		if (p->owned[i].field == field)
			return &p->owned[i];
	if (p->nowned == p->owned_cap) {
		size_t cap = p->owned_cap ? p->owned_cap * 2 : 8;
		struct cli_owned *o = realloc(p->owned, cap * sizeof(*o));

		if (!o)
			return NULL;
		p->owned = o;
		p->owned_cap = cap;
	}
	p->owned[p->nowned] = (struct cli_owned){ field, NULL, 0 };
	return &p->owned[p->nowned++];
}

/* A copy of n bytes of s that the parser frees, or NULL when out of memory. */
static char *owned_strndup(cli_parser *p, const char *s, size_t n)
{
	struct cli_owned *o;
	char *copy = strndup(s, n);

	if (!copy || !(o = owned_for(p, NULL))) {
		free(copy);
		return NULL;
	}
	o->block = copy;
	return copy;
}

/*
 * The array behind field, with room for *count + 1 elements of size bytes: the parser's
 * own, grown by doubling. A field starts empty (count 0) and only the parser fills it.
 */
static void *room(cli_parser *p, void *field, const size_t *count, size_t size)
{
	struct cli_owned *o = owned_for(p, field);

	if (!o)
		return NULL;
	assert(o->block || *count == 0);
	if (!o->block || *count >= o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 8;
		void *b;

		if (cap > SIZE_MAX / size || !(b = realloc(o->block, cap * size)))
			return NULL;
		o->block = b;
		o->cap = cap;
	}
	return o->block;
}

/* Append value to the string list at field (its count at *count). */
static int push_string(cli_parser *p, void *field, size_t *count, const char *value)
{
	const char **v = room(p, field, count, sizeof(*v));

	if (!v)
		return out_of_memory();
	v[(*count)++] = value;
	*(const char *const **)field = v;
	return CLI_OK;
}

/* Append { key, value } to the key/value list at field. */
static int push_kv(cli_parser *p, void *field, size_t *count, const char *key, const char *value)
{
	mlctl_kv *v = room(p, field, count, sizeof(*v));

	if (!v)
		return out_of_memory();
	v[(*count)++] = (mlctl_kv){ (char *)key, (char *)value };
	*(const mlctl_kv **)field = v;
	return CLI_OK;
}

/* --features a,b,c: the list is the items of this value (empty ones dropped), whatever an
 * earlier one said. Even an empty list is an array, not NULL (the library tells the two
 * apart: NULL means every column). */
static int set_csv(cli_parser *p, void *field, size_t *count, const char *value)
{
	char *copy = owned_strndup(p, value, strlen(value)), *s, *comma;
	const char **v;
	int ret;

	*count = 0;
	if (!copy || !(v = room(p, field, count, sizeof(*v))))
		return out_of_memory();
	*(const char *const **)field = v;
	for (s = copy; s; s = comma ? comma + 1 : NULL) {
		if ((comma = strchr(s, ',')))
			*comma = '\0';
		if (*s && (ret = push_string(p, field, count, s)))
			return ret;
	}
	return CLI_OK;
}

/* A libsvm parameter: value under the row's key; a flag sets the row's fixed value, once. */
static int add_param(cli_parser *p, const cli_option *opt, void *field, size_t *count, const char *value)
{
	const char *key = opt->key ? opt->key : opt->name;
	const mlctl_kv *kv = *(const mlctl_kv **)field;
	size_t i;

	if (!opt->metavar) {
		for (i = 0; i < *count; i++)
			if (strcmp(kv[i].key, key) == 0 && strcmp(kv[i].value, opt->fixed) == 0)
				return CLI_OK;
		value = opt->fixed;
	}
	return push_kv(p, field, count, key, value);
}

/* --tag KEY=VALUE. The key is copied: argv stays as given (it is recorded with the run). */
static int add_kv(cli_parser *p, const cli_option *opt, void *field, size_t *count, const char *value)
{
	const char *eq = strchr(value, '=');
	char *key;

	if (!eq || eq == value) {
		cli_error("--%s: expected KEY=VALUE, got \"%s\"", opt->name, value);
		return CLI_ERROR;
	}
	if (!(key = owned_strndup(p, value, (size_t)(eq - value))))
		return out_of_memory();
	return push_kv(p, field, count, key, eq + 1);
}

/* Store value (NULL for a flag) as opt says, into base (the command's struct, or the ctx
 * for a global option). */
static int apply(cli_parser *p, const cli_option *opt, void *base, const char *value)
{
	void *t = (char *)base + opt->off;
	size_t *count = (size_t *)(void *)((char *)base + opt->count_off);
	long l;

	switch (opt->type) {
	case CLI_OPT_FLAG:
		*(bool *)t = true;
		return CLI_OK;
	case CLI_OPT_STRING:
		*(const char **)t = value;
		return CLI_OK;
	case CLI_OPT_INT:
	case CLI_OPT_SIZE:
	case CLI_OPT_U64:
	case CLI_OPT_INT64:
		if (!cli_int(opt->name, value, opt->min, opt->max, &l))
			return CLI_ERROR;
		if (opt->type == CLI_OPT_INT)
			*(int *)t = (int)l;
		else if (opt->type == CLI_OPT_SIZE)
			*(size_t *)t = (size_t)l;
		else if (opt->type == CLI_OPT_U64)
			*(uint64_t *)t = (uint64_t)l;
		else
			*(int64_t *)t = (int64_t)l;
		return CLI_OK;
	case CLI_OPT_DOUBLE:
		return cli_double(opt->name, value, (double *)t) ? CLI_OK : CLI_ERROR;
	case CLI_OPT_SECONDS:
		return cli_seconds(opt->name, value, (double *)t) ? CLI_OK : CLI_ERROR;
	case CLI_OPT_LIST:
		if (opt->max > 0 && *count >= (size_t)opt->max) {
			cli_usage_error(p, "at most %zu --%s options", *count, opt->name);
			return CLI_ERROR;
		}
		return push_string(p, t, count, value);
	case CLI_OPT_CSV:
		return set_csv(p, t, count, value);
	case CLI_OPT_PARAM:
		return add_param(p, opt, t, count, value);
	case CLI_OPT_KV:
		return add_kv(p, opt, t, count, value);
	case CLI_OPT_CALL:
		return opt->fn(p, opt, t, value);
	case CLI_OPT_HELP:
		cli_print_help(p, stdout);
		return CLI_HELP;
	case CLI_OPT_END:
		break;
	}
	assert(!"option row without a type");
	return CLI_ERROR;
}

/* ---- reading argv ---- */

/* Find a long option by name (exact, or a unique prefix as getopt_long allows). */
static const cli_option *find_long(const cli_option *opts, const char *name, size_t len, bool *ambiguous)
{
	const cli_option *o, *found = NULL;

	*ambiguous = false;
	for (o = opts; o && o->name; o++) {
		if (strncmp(o->name, name, len) != 0)
			continue;
		if (strlen(o->name) == len)
			return o;
		if (found)
			*ambiguous = true;
		found = o;
	}
	return *ambiguous ? NULL : found;
}

static const cli_option *find_short(const cli_option *opts, char c)
{
	const cli_option *o;

	for (o = opts; o && o->name; o++)
		if (o->shortopt == c)
			return o;
	return NULL;
}

static void suggest_option(const cli_parser *p, const char *name, size_t len)
{
	const char **names, *best;
	const cli_option *o;
	char *word;
	size_t n = 0;

	for (o = p->opts; o && o->name; o++)
		n++;
	n += sizeof(global_opts) / sizeof(global_opts[0]) - 1;
	word = strndup(name, len);
	names = malloc(n * sizeof(*names));
	if (word && names) {
		n = 0;
		for (o = p->opts; o && o->name; o++)
			names[n++] = o->name;
		for (o = global_opts; o->name; o++)
			names[n++] = o->name;
		best = cli_suggest(word, names, n);
		if (best)
			fprintf(stderr, "mlctl: did you mean --%s?\n", best);
	}
	free(names);
	free(word);
}

/* "--name", "--name=value" or "--name value": the option in *opt (command's table first,
 * then the global one: *global) and its value. */
static int read_long(cli_parser *p, const char *arg, const cli_option **opt, bool *global, const char **value)
{
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	bool ambiguous;

	*opt = find_long(p->opts, name, len, &ambiguous);
	if ((*global = !*opt && !ambiguous))
		*opt = find_long(global_opts, name, len, &ambiguous);
	if (!*opt) {
		cli_error("%s option --%.*s", ambiguous ? "ambiguous" : "unknown", (int)len, name);
		if (!ambiguous)
			suggest_option(p, name, len);
		fprintf(stderr, "usage: %s\n", p->usage);
		return CLI_ERROR;
	}
	if ((*opt)->metavar) {
		if (eq) {
			*value = eq + 1;
		} else if (p->i < p->argc) {
			*value = p->argv[p->i++];
		} else {
			cli_error("option --%s needs a value (%s)", (*opt)->name, (*opt)->metavar);
			return CLI_ERROR;
		}
	} else if (eq) {
		cli_error("option --%s takes no value", (*opt)->name);
		return CLI_ERROR;
	}
	return CLI_OK;
}

/* "-x", "-xvalue", "-x value", or two bundled flags "-qv" (read as "-q -v": the "-v" is
 * left in p->shortbuf for the next round; argv stays as it was, it is recorded). */
static int read_short(cli_parser *p, const char *arg, const cli_option **opt, bool *global, const char **value)
{
	char c = arg[1];

	*opt = find_short(p->opts, c);
	if ((*global = !*opt))
		*opt = find_short(global_opts, c);
	if (!*opt) {
		cli_error("unknown option -%c", c);
		fprintf(stderr, "usage: %s\n", p->usage);
		return CLI_ERROR;
	}
	if ((*opt)->metavar) {
		if (arg[2]) {
			*value = arg + 2;
		} else if (p->i < p->argc) {
			*value = p->argv[p->i++];
		} else {
			cli_error("option -%c needs a value (%s)", c, (*opt)->metavar);
			return CLI_ERROR;
		}
	} else if (arg[2]) {
		if (arg[3]) {
			cli_error("unsupported bundled options %s", arg);
			return CLI_ERROR;
		}
		p->shortbuf[0] = '-';
		p->shortbuf[1] = arg[2];
		p->shortbuf[2] = '\0';
	}
	return CLI_OK;
}

int cli_parse(cli_parser *p, void *args)
{
	char bundled[sizeof(p->shortbuf)];

	if (!p->pos)
		return out_of_memory();
	while (p->i < p->argc || p->shortbuf[0]) {
		char *arg;
		const cli_option *opt;
		const char *value = NULL;
		bool global;
		int ret;

		if (p->shortbuf[0]) {
			memcpy(bundled, p->shortbuf, sizeof(bundled));
			p->shortbuf[0] = '\0';
			arg = bundled;
		} else {
			arg = p->argv[p->i++];
		}

		if (p->dashdash || arg[0] != '-' || arg[1] == '\0') {
			p->pos[p->npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			p->dashdash = true;
			continue;
		}
		ret = arg[1] == '-' ? read_long(p, arg, &opt, &global, &value) :
				      read_short(p, arg, &opt, &global, &value);
		if (ret == CLI_OK) {
			assert(global || args);
			ret = apply(p, opt, global ? (void *)p->ctx : args, value);
		}
		if (ret != CLI_OK)
			return ret;
	}
	return CLI_OK;
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

bool cli_seconds(const char *opt, const char *value, double *out)
{
	if (!cli_double(opt, value, out))
		return false;
	if (*out < 0) {
		cli_error("--%s: \"%s\" is negative", opt, value);
		return false;
	}
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

/* ---- subcommands ---- */

int cli_dispatch(cli_ctx *ctx, int argc, char **argv, const char *group, const cli_subcommand *subs)
{
	const cli_subcommand *s;
	const char **names, *best;
	size_t n = 0, i;

	if (argc < 2 || argv[1][0] == '-')
		return subs[0].fn(ctx, argc, argv);
	for (s = subs; s->fn; s++)
		if (s->name && strcmp(argv[1], s->name) == 0)
			return s->fn(ctx, argc - 1, argv + 1);
	/* The command's own form takes the word as its first positional. */
	if (!subs[0].name)
		return subs[0].fn(ctx, argc, argv);
	for (s = subs; s->fn; s++)
		n++;
	if (!(names = malloc(n * sizeof(*names)))) {
		cli_error("out of memory");
		return MLCTL_EXIT_SOFTWARE;
	}
	for (s = subs, n = 0; s->fn; s++)
		names[n++] = s->name;
	cli_error("unknown subcommand '%s %s'", group, argv[1]);
	best = cli_suggest(argv[1], names, n);
	if (best)
		fprintf(stderr, "mlctl: did you mean '%s %s'?\n", group, best);
	fprintf(stderr, "usage: mlctl %s", group);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s%s", i ? "|" : " ", names[i]);
	fprintf(stderr, " ...\n");
	free(names);
	return MLCTL_EXIT_USAGE;
}
