/*
 * pipeline.c — pipeline files: loading and checking them against the caller's stage kinds,
 * variables, data inputs, stage order, keys and plans (floor 4).
 *
 * A stage's key is the SHA-256 of its resolved configuration as canonical JSON: its kind,
 * the mlctl version, every option's values with variables substituted (references to
 * upstream outputs kept as written), the digest of every input file it reads and the key of
 * every upstream job. Upstream keys stand for upstream outputs, so every key is known before
 * anything runs: a stage whose inputs did not change has the key of its last succeeded run.
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <yaml.h>

#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "util.h"
#include "mlctl/data.h"
#include "mlctl/pipeline.h"
#include "banned.h"

#define PIPELINE_MAX_BYTES (16u << 20)

/* The tags a stage's run carries. */
#define TAG_PIPELINE "mlctl.pipeline"
#define TAG_STAGE    "mlctl.stage"
#define TAG_ID       "mlctl.stage.id"
#define TAG_KEY      "mlctl.stage.key"
#define TAG_CONFIG   "mlctl.stage.config"
#define TAG_OUTPUTS  "mlctl.stage.outputs"
#define TAG_OUTCOME  "mlctl.stage.outcome"

typedef struct var {
	char *name, *value;
} var;

typedef struct loader {
	const char *path;
	const mlctl_pipeline_kind *kinds;
	size_t nkinds;
	yaml_document_t doc;
	mlctl_pipeline *pl;
	size_t nvars;
	var *vars;
	/* the stage being read: the stages it refers to */
	size_t cur;
	bool *uses;            /* uses[s]: the current stage refers to stage s's outputs */
	bool uses_each;
	const yaml_node_t *each_at;   /* where ${each.*} was first used */
	size_t each_input;     /* + 1 */
	/* per stage (file order), for resolve_each(): */
	bool *refs;            /* refs[s * n + d]: stage s uses stage d's outputs */
	size_t *own_each;      /* the pattern input it refers to itself, + 1 */
	const yaml_node_t **each_node;  /* where it uses ${each.*}, or NULL */
	yaml_node_t **stage_node;
} loader;

static int at(const loader *L, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* MLCTL_ECONFIG "FILE:LINE:COLUMN: message" at node n. */
static int at(const loader *L, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[sizeof(((mlctl_error *)0)->message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mlctl_error_set(MLCTL_ECONFIG, "%s:%zu:%zu: %s", L->path,
			       n ? (size_t)n->start_mark.line + 1 : 1, n ? (size_t)n->start_mark.column + 1 : 1,
			       msg);
}

/* The known name closest to s, or NULL when none is close. */
static const char *nearest(const char *s, const char *const *names, size_t n)
{
	size_t i, d, best_d = SIZE_MAX, len = strlen(s);
	const char *best = NULL;

	for (i = 0; i < n; i++) {
		d = mlctl_edit_distance(s, len, names[i]);
		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	return best && best_d <= (len < 2 ? 1 : len / 2) ? best : NULL;
}

/* " (did you mean 'x'?)" or "" — into buf. */
static const char *suggest(char *buf, size_t size, const char *s, const char *const *names, size_t n)
{
	const char *best = nearest(s, names, n);

	if (best)
		snprintf(buf, size, " (did you mean '%s'?)", best);
	else
		buf[0] = '\0';
	return buf;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* ---- variables and references ---- */

static const char *var_get(const loader *L, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < L->nvars; i++)
		if (strlen(L->vars[i].name) == len && memcmp(L->vars[i].name, name, len) == 0)
			return L->vars[i].value;
	return NULL;
}

static size_t input_find(const mlctl_pipeline *pl, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < pl->ninputs; i++)
		if (strlen(pl->inputs[i].name) == len && memcmp(pl->inputs[i].name, name, len) == 0)
			return i;
	return SIZE_MAX;
}

size_t mlctl_pipeline_stage_find(const mlctl_pipeline *pl, const char *name)
{
	size_t i;

	for (i = 0; i < pl->nstages; i++)
		if (strcmp(pl->stages[i].name, name) == 0)
			return i;
	return SIZE_MAX;
}

static size_t stage_find_n(const mlctl_pipeline *pl, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < pl->nstages; i++)
		if (strlen(pl->stages[i].name) == len && memcmp(pl->stages[i].name, name, len) == 0)
			return i;
	return SIZE_MAX;
}

static bool kind_has_output(const mlctl_pipeline_kind *k, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < k->noutputs; i++)
		if (strlen(k->outputs[i]) == len && memcmp(k->outputs[i], name, len) == 0)
			return true;
	return false;
}

static const char *const each_fields[] = { "path", "name", "stem" };

/* Check a reference "a.b" inside ${} of a stage's value, noting what it uses. */
static int check_ref(loader *L, const yaml_node_t *n, const char *ref, size_t len)
{
	const char *dot = memchr(ref, '.', len);
	size_t alen, s, i;
	char name[128], sug[160];

	alen = (size_t)(dot - ref);
	snprintf(name, sizeof(name), "%.*s", (int)(len < 100 ? len : 100), ref);
	if (alen == 4 && memcmp(ref, "data", 4) == 0) {
		size_t in = input_find(L->pl, dot + 1, len - 5);

		if (in == SIZE_MAX)
			return at(L, n, "${%s}: no data input called '%.*s'", name, (int)(len - 5), dot + 1);
		if (L->pl->inputs[in].glob) {
			if (L->each_input && L->each_input != in + 1)
				return at(L, n, "${%s}: a stage runs once per file of one input, and this one "
					  "already runs per file of '%s'", name, L->pl->inputs[L->each_input - 1].name);
			L->each_input = in + 1;
		}
		return 0;
	}
	if (alen == 4 && memcmp(ref, "each", 4) == 0) {
		for (i = 0; i < sizeof(each_fields) / sizeof(each_fields[0]); i++)
			if (strlen(each_fields[i]) == len - 5 && memcmp(each_fields[i], dot + 1, len - 5) == 0)
				break;
		if (i == sizeof(each_fields) / sizeof(each_fields[0]))
			return at(L, n, "${%s}: each has path, name and stem", name);
		if (!L->uses_each)
			L->each_at = n;
		L->uses_each = true;
		return 0;
	}
	s = stage_find_n(L->pl, ref, alen);
	if (s == SIZE_MAX) {
		const char **names = mlctl_calloc(L->pl->nstages + 1, sizeof(*names));
		char stage[128];

		if (!names)
			return MLCTL_ENOMEM;
		for (i = 0; i < L->pl->nstages; i++)
			names[i] = L->pl->stages[i].name;
		snprintf(stage, sizeof(stage), "%.*s", (int)(alen < 100 ? alen : 100), ref);
		suggest(sug, sizeof(sug), stage, names, L->pl->nstages);
		free(names);
		return at(L, n, "${%s}: no stage called '%s'%s", name, stage, sug);
	}
	if (s == L->cur)
		return at(L, n, "${%s}: stage '%s' refers to its own output (a cycle)", name,
			  L->pl->stages[s].name);
	if (!kind_has_output(L->pl->stages[s].kind, dot + 1, len - alen - 1)) {
		char list[256] = "";
		size_t off = 0;
		const mlctl_pipeline_kind *k = L->pl->stages[s].kind;

		for (i = 0; i < k->noutputs && off < sizeof(list); i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", k->outputs[i]);
		return at(L, n, "${%s}: a %s stage's outputs are %s", name, k->name, list);
	}
	L->uses[s] = true;
	return 0;
}

/*
 * Substitute ${var}, ${env:NAME} and ${env:NAME:-default} in text; "$$" is a "$". When
 * refs, ${data.X}, ${each.F} and ${stage.output} are checked and kept as written;
 * otherwise they are errors. *out is the caller's.
 */
static int subst(loader *L, const yaml_node_t *n, const char *text, bool refs, char **out)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	const char *p = text, *end;
	int ret = 0;

	*out = NULL;
	while (*p && !ret) {
		if (p[0] == '$' && p[1] == '$') {
			ret = strbuf_add(&sb, "$", 1);
			p += 2;
			continue;
		}
		if (p[0] != '$' || p[1] != '{') {
			ret = strbuf_add(&sb, p, 1);
			p++;
			continue;
		}
		end = strchr(p + 2, '}');
		if (!end) {
			ret = at(L, n, "\"%s\": '${' without its '}'", text);
			break;
		}
		const char *in = p + 2;
		size_t len = (size_t)(end - in);

		if (len > 4 && memcmp(in, "env:", 4) == 0) {
			char name[256];
			const char *dflt = NULL, *val;
			size_t nlen = len - 4;
			const char *colon = memchr(in + 4, ':', nlen);

			if (colon && colon + 1 < end && colon[1] == '-') {
				dflt = colon + 2;
				nlen = (size_t)(colon - in - 4);
			}
			if (nlen == 0 || nlen >= sizeof(name)) {
				ret = at(L, n, "\"%s\": a bad environment variable name", text);
				break;
			}
			memcpy(name, in + 4, nlen);
			name[nlen] = '\0';
			val = getenv(name);
			if (val && *val)
				ret = strbuf_puts(&sb, val);
			else if (dflt)
				ret = strbuf_add(&sb, dflt, (size_t)(end - dflt));
			else
				ret = at(L, n, "environment variable %s is not set (write ${env:%s:-DEFAULT} "
					 "for a default)", name, name);
		} else if (memchr(in, '.', len)) {
			if (!refs) {
				ret = at(L, n, "\"%s\": ${%.*s} is a stage reference, which only stages may use",
					 text, (int)len, in);
				break;
			}
			if ((ret = check_ref(L, n, in, len)) == 0)
				ret = strbuf_add(&sb, p, len + 3);
		} else {
			const char *v = var_get(L, in, len);

			if (v) {
				ret = strbuf_puts(&sb, v);
			} else {
				const char **names = mlctl_calloc(L->nvars + 1, sizeof(*names));
				char name[128], sug[160];
				size_t i;

				if (!names) {
					ret = MLCTL_ENOMEM;
					break;
				}
				for (i = 0; i < L->nvars; i++)
					names[i] = L->vars[i].name;
				snprintf(name, sizeof(name), "%.*s", (int)(len < 100 ? len : 100), in);
				ret = at(L, n, "unknown variable ${%s}%s", name,
					 suggest(sug, sizeof(sug), name, names, L->nvars));
				free(names);
			}
		}
		p = end + 1;
	}
	if (ret) {
		strbuf_release(&sb);
		return ret;
	}
	*out = sb.len ? strbuf_detach(&sb, NULL) : mlctl_strdup("");
	strbuf_release(&sb);
	return *out ? 0 : MLCTL_ENOMEM;
}

/* A mapping's keys must be unique: libyaml keeps duplicates. */
static int check_unique(const loader *L, yaml_node_t *map)
{
	yaml_node_pair_t *a, *b;

	for (a = map->data.mapping.pairs.start; a < map->data.mapping.pairs.top; a++) {
		yaml_node_t *ka = yaml_document_get_node((yaml_document_t *)&L->doc, a->key);

		if (!scalar(ka))
			return at(L, ka, "a key must be a plain word");
		for (b = map->data.mapping.pairs.start; b < a; b++) {
			yaml_node_t *kb = yaml_document_get_node((yaml_document_t *)&L->doc, b->key);

			if (strcmp(scalar(ka), scalar(kb)) == 0)
				return at(L, ka, "'%s' appears twice (first on line %zu)", scalar(ka),
					  (size_t)kb->start_mark.line + 1);
		}
	}
	return 0;
}

static yaml_node_t *node(loader *L, int id)
{
	return yaml_document_get_node(&L->doc, id);
}

static char *path_abs(const char *dir, const char *p)
{
	return p[0] == '/' ? mlctl_strdup(p) : fs_join(dir, p);
}

/* ---- vars and data ---- */

static int load_vars(loader *L, yaml_node_t *map)
{
	yaml_node_pair_t *pr;
	int ret;

	if (map->type != YAML_MAPPING_NODE)
		return at(L, map, "vars must be a mapping of names to values");
	if ((ret = check_unique(L, map)))
		return ret;
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(L, pr->key), *v = node(L, pr->value);
		const char *name = scalar(k), *c;
		var *nv;

		for (c = name; *c; c++)
			if (!(*c == '_' || *c == '-' || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9')))
				return at(L, k, "variable name '%s': letters, digits, '_' and '-' only", name);
		if (!scalar(v))
			return at(L, v, "variable %s: a value must be a single scalar", name);
		nv = mlctl_reallocarray(L->vars, L->nvars + 1, sizeof(*nv));
		if (!nv)
			return MLCTL_ENOMEM;
		L->vars = nv;
		nv += L->nvars;
		nv->value = NULL;
		if (!(nv->name = mlctl_strdup(name)))
			return MLCTL_ENOMEM;
		L->nvars++;
		if ((ret = subst(L, v, scalar(v), false, &nv->value)))
			return ret;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of an input: the one file (which must exist), or every match of a pattern. */
static int input_files(loader *L, mlctl_pipeline_input *in, const yaml_node_t *n)
{
	char *abs = path_abs(L->pl->dir, in->path);
	struct stat st;
	glob_t g;
	size_t i;
	int ret = 0, rc;

	if (!abs)
		return MLCTL_ENOMEM;
	if (!in->glob) {
		if (stat(abs, &st) != 0 || !S_ISREG(st.st_mode))
			ret = at(L, n, "data %s: input file %s %s", in->name, abs,
				 errno == ENOENT || S_ISDIR(st.st_mode) ? "does not exist" : strerror(errno));
		else if (!(in->files = mlctl_calloc(1, sizeof(*in->files))))
			ret = MLCTL_ENOMEM;
		else {
			in->files[0] = abs;
			in->nfiles = 1;
			abs = NULL;
		}
		free(abs);
		return ret;
	}
	memset(&g, 0, sizeof(g));
	rc = glob(abs, 0, NULL, &g);
	if (rc != 0 && rc != GLOB_NOMATCH) {
		ret = rc == GLOB_NOSPACE ? MLCTL_ENOMEM : at(L, n, "data %s: cannot read the files of %s",
							     in->name, abs);
		goto out;
	}
	if (rc == 0 && g.gl_pathc) {
		in->files = mlctl_calloc(g.gl_pathc, sizeof(*in->files));
		if (!in->files) {
			ret = MLCTL_ENOMEM;
			goto out;
		}
		for (i = 0; i < g.gl_pathc; i++) {
			if (stat(g.gl_pathv[i], &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			if (!(in->files[in->nfiles] = mlctl_strdup(g.gl_pathv[i]))) {
				ret = MLCTL_ENOMEM;
				goto out;
			}
			in->nfiles++;
		}
		qsort(in->files, in->nfiles, sizeof(*in->files), cmp_str);
	}
out:
	if (rc == 0)
		globfree(&g);
	free(abs);
	return ret;
}

static bool truth(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "on" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "off" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0)
			return (*out = true);
		if (strcmp(s, no[i]) == 0)
			return !(*out = false);
	}
	return false;
}

static int load_data(loader *L, yaml_node_t *map)
{
	static const char *const keys[] = { "path", "store" };
	yaml_node_pair_t *pr;
	int ret;

	if (map->type != YAML_MAPPING_NODE)
		return at(L, map, "data must be a mapping of names to files");
	if ((ret = check_unique(L, map)))
		return ret;
	L->pl->inputs = mlctl_calloc((size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start) + 1,
				     sizeof(*L->pl->inputs));
	if (!L->pl->inputs)
		return MLCTL_ENOMEM;
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(L, pr->key), *v = node(L, pr->value), *pathn = v;
		mlctl_pipeline_input *in = &L->pl->inputs[L->pl->ninputs];

		if (!(in->name = mlctl_strdup(scalar(k))))
			return MLCTL_ENOMEM;
		L->pl->ninputs++;
		in->line = (int)k->start_mark.line + 1;
		in->column = (int)k->start_mark.column + 1;
		if (v->type == YAML_MAPPING_NODE) {
			yaml_node_pair_t *q;
			char sug[160];

			if ((ret = check_unique(L, v)))
				return ret;
			pathn = NULL;
			for (q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
				yaml_node_t *qk = node(L, q->key), *qv = node(L, q->value);

				if (strcmp(scalar(qk), "path") == 0) {
					pathn = qv;
				} else if (strcmp(scalar(qk), "store") == 0) {
					if (!scalar(qv) || !truth(scalar(qv), &in->store))
						return at(L, qv, "data %s: store is true or false", in->name);
				} else {
					return at(L, qk, "data %s: unknown key '%s'%s (an input has path and store)",
						  in->name, scalar(qk), suggest(sug, sizeof(sug), scalar(qk), keys, 2));
				}
			}
			if (!pathn)
				return at(L, v, "data %s: no path", in->name);
		}
		if (!scalar(pathn) || !*scalar(pathn))
			return at(L, pathn, "data %s: a file name or a pattern", in->name);
		if ((ret = subst(L, pathn, scalar(pathn), false, &in->path)))
			return ret;
		in->glob = strpbrk(in->path, "*?[") != NULL;
		if ((ret = input_files(L, in, pathn)))
			return ret;
	}
	return 0;
}

/* ---- stages ---- */

static const mlctl_pipeline_kind *kind_find(const loader *L, const char *name)
{
	size_t i;

	for (i = 0; i < L->nkinds; i++)
		if (strcmp(L->kinds[i].name, name) == 0)
			return &L->kinds[i];
	return NULL;
}

static const mlctl_pipeline_option *option_find(const mlctl_pipeline_kind *k, const char *name)
{
	size_t i;

	for (i = 0; i < k->noptions; i++)
		if (strcmp(k->options[i].name, name) == 0)
			return &k->options[i];
	return NULL;
}

static int unknown_kind(loader *L, const yaml_node_t *n, const char *name, const char *what)
{
	const char **names = mlctl_calloc(L->nkinds + 1, sizeof(*names));
	char sug[160], list[256] = "";
	size_t i, off = 0;
	int ret;

	if (!names)
		return MLCTL_ENOMEM;
	for (i = 0; i < L->nkinds; i++) {
		names[i] = L->kinds[i].name;
		if (off < sizeof(list))
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", names[i]);
	}
	ret = at(L, n, "unknown %s '%s'%s; a stage is one of %s (or give its kind: KIND)", what, name,
		 suggest(sug, sizeof(sug), name, names, L->nkinds), list);
	free(names);
	return ret;
}

static int unknown_option(loader *L, const yaml_node_t *n, const mlctl_pipeline_stage *s, const char *name)
{
	const char **names = mlctl_calloc(s->kind->noptions + 3, sizeof(*names));
	char sug[160];
	size_t i;
	int ret;

	if (!names)
		return MLCTL_ENOMEM;
	for (i = 0; i < s->kind->noptions; i++)
		names[i] = s->kind->options[i].name;
	names[i++] = "kind";
	names[i++] = "after";
	ret = at(L, n, "stage %s: unknown option '%s'%s ('mlctl %s --help' lists a %s stage's options)",
		 s->name, name, suggest(sug, sizeof(sug), name, names, i), s->kind->name, s->kind->name);
	free(names);
	return ret;
}

static bool has_ref(const char *v)
{
	const char *p = strstr(v, "${");

	return p && strchr(p, '.') && strchr(p, '}');
}

/* Check one value against the option's type, once variables are substituted. */
static int check_type(loader *L, const yaml_node_t *n, const mlctl_pipeline_stage *s,
		      const mlctl_pipeline_option *o, const char *v)
{
	int64_t i;
	double d;
	bool b;

	if (has_ref(v))
		return 0;
	switch (o->type) {
	case MLCTL_PIPE_FLAG:
		if (!truth(v, &b))
			return at(L, n, "stage %s: %s is true or false, not \"%s\"", s->name, o->name, v);
		break;
	case MLCTL_PIPE_INT:
		if (!mlctl_parse_int64(v, o->min, o->max, &i))
			return at(L, n, "stage %s: %s is a whole number from %ld to %ld, not \"%s\"", s->name,
				  o->name, o->min, o->max, v);
		break;
	case MLCTL_PIPE_NUMBER:
		if (!mlctl_parse_double(v, &d))
			return at(L, n, "stage %s: %s is a number, not \"%s\"", s->name, o->name, v);
		break;
	case MLCTL_PIPE_MAP:
		if (!strchr(v, '=') || v[0] == '=')
			return at(L, n, "stage %s: %s takes KEY=VALUE items, not \"%s\"", s->name, o->name, v);
		break;
	default:
		break;
	}
	return 0;
}

static int setting_push(mlctl_pipeline_setting *st, char *v)
{
	char **nv = mlctl_reallocarray(st->values, st->nvalues + 1, sizeof(*nv));

	if (!nv) {
		free(v);
		return MLCTL_ENOMEM;
	}
	st->values = nv;
	nv[st->nvalues++] = v;
	return 0;
}

/* One value node (scalar) of a setting: substituted, typed, kept. */
static int setting_value(loader *L, mlctl_pipeline_stage *s, mlctl_pipeline_setting *st, yaml_node_t *v,
			 const char *prefix)
{
	char *text = NULL, *full;
	int ret;

	if (!scalar(v))
		return at(L, v, "stage %s: %s takes %s", s->name, st->option->name,
			  st->option->type == MLCTL_PIPE_LIST || st->option->type == MLCTL_PIPE_MAP ?
			  "a value or a list of values" : "one value");
	if ((ret = subst(L, v, scalar(v), true, &text)))
		return ret;
	if (prefix) {
		full = mlctl_asprintf("%s=%s", prefix, text);
		free(text);
		if (!(text = full))
			return MLCTL_ENOMEM;
	}
	if ((ret = check_type(L, v, s, st->option, text))) {
		free(text);
		return ret;
	}
	/* An input file written as a path (not a reference) must be there now. */
	if ((st->option->path & MLCTL_PIPE_INPUT) && !strstr(text, "${")) {
		char *abs = path_abs(L->pl->dir, text);
		struct stat sb;
		bool ok = abs && stat(abs, &sb) == 0 && S_ISREG(sb.st_mode);

		if (!abs) {
			free(text);
			return MLCTL_ENOMEM;
		}
		if (!ok) {
			ret = at(L, v, "stage %s: %s: input file %s does not exist", s->name, st->option->name, abs);
			free(abs);
			free(text);
			return ret;
		}
		free(abs);
	}
	return setting_push(st, text);
}

static int load_setting(loader *L, mlctl_pipeline_stage *s, yaml_node_t *k, yaml_node_t *v)
{
	const mlctl_pipeline_option *o = option_find(s->kind, scalar(k));
	mlctl_pipeline_setting *st;
	int ret = 0;

	if (!o)
		return unknown_option(L, k, s, scalar(k));
	st = &s->settings[s->nsettings++];
	st->option = o;
	st->line = (int)v->start_mark.line + 1;
	st->column = (int)v->start_mark.column + 1;
	if (v->type == YAML_SEQUENCE_NODE) {
		yaml_node_item_t *it;

		if (o->type != MLCTL_PIPE_LIST && o->type != MLCTL_PIPE_MAP)
			return at(L, v, "stage %s: %s takes one value, not a list", s->name, o->name);
		for (it = v->data.sequence.items.start; it < v->data.sequence.items.top && !ret; it++)
			ret = setting_value(L, s, st, node(L, *it), NULL);
		return ret;
	}
	if (v->type == YAML_MAPPING_NODE) {
		yaml_node_pair_t *pr;

		if (o->type != MLCTL_PIPE_MAP)
			return at(L, v, "stage %s: %s takes %s, not a mapping", s->name, o->name,
				  o->type == MLCTL_PIPE_LIST ? "a list" : "one value");
		if ((ret = check_unique(L, v)))
			return ret;
		for (pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top && !ret; pr++)
			ret = setting_value(L, s, st, node(L, pr->value), scalar(node(L, pr->key)));
		return ret;
	}
	return setting_value(L, s, st, v, NULL);
}

static int add_dep(mlctl_pipeline_stage *s, size_t d)
{
	size_t i, *nd;

	for (i = 0; i < s->ndeps; i++)
		if (s->deps[i] == d)
			return 0;
	nd = mlctl_reallocarray(s->deps, s->ndeps + 1, sizeof(*nd));
	if (!nd)
		return MLCTL_ENOMEM;
	s->deps = nd;
	nd[s->ndeps++] = d;
	return 0;
}

/* First pass: every stage's name and kind, so references can be checked in any order. */
static int stage_names(loader *L, yaml_node_t *map)
{
	yaml_node_pair_t *pr;
	size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
	int ret;

	if ((ret = check_unique(L, map)))
		return ret;
	if (n == 0)
		return at(L, map, "stages is empty");
	L->pl->stages = mlctl_calloc(n, sizeof(*L->pl->stages));
	L->uses = mlctl_calloc(n, sizeof(*L->uses));
	L->refs = mlctl_calloc(n * n, sizeof(*L->refs));
	L->own_each = mlctl_calloc(n, sizeof(*L->own_each));
	L->each_node = mlctl_calloc(n, sizeof(*L->each_node));
	L->stage_node = mlctl_calloc(n, sizeof(*L->stage_node));
	if (!L->pl->stages || !L->uses || !L->refs || !L->own_each || !L->each_node || !L->stage_node)
		return MLCTL_ENOMEM;
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(L, pr->key), *v = node(L, pr->value), *kn;
		mlctl_pipeline_stage *s = &L->pl->stages[L->pl->nstages];
		const char *name = scalar(k), *c, *kind = name;

		for (c = name; *c; c++)
			if (!(*c == '_' || *c == '-' || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9')))
				return at(L, k, "stage name '%s': letters, digits, '_' and '-' only", name);
		if (v->type != YAML_MAPPING_NODE)
			return at(L, v, "stage %s: a mapping of its options", name);
		kn = NULL;
		if ((ret = check_unique(L, v)))
			return ret;
		for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++)
			if (strcmp(scalar(node(L, q->key)), "kind") == 0)
				kn = node(L, q->value);
		if (kn && !scalar(kn))
			return at(L, kn, "stage %s: kind is one word", name);
		if (kn)
			kind = scalar(kn);
		if (!(s->kind = kind_find(L, kind)))
			return unknown_kind(L, kn ? kn : k, kind, kn ? "stage kind" : "stage");
		if (!(s->name = mlctl_strdup(name)))
			return MLCTL_ENOMEM;
		s->line = (int)k->start_mark.line + 1;
		s->column = (int)k->start_mark.column + 1;
		L->pl->nstages++;
	}
	return 0;
}

static int load_stage(loader *L, size_t idx, yaml_node_t *v)
{
	mlctl_pipeline_stage *s = &L->pl->stages[idx];
	yaml_node_pair_t *pr;
	size_t i, n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	int ret = 0;

	L->cur = idx;
	memset(L->uses, 0, L->pl->nstages * sizeof(*L->uses));
	L->uses_each = false;
	L->each_input = 0;
	s->settings = mlctl_calloc(n + 1, sizeof(*s->settings));
	if (!s->settings)
		return MLCTL_ENOMEM;
	for (pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top && !ret; pr++) {
		yaml_node_t *k = node(L, pr->key), *val = node(L, pr->value);

		if (strcmp(scalar(k), "kind") == 0)
			continue;
		if (strcmp(scalar(k), "after") == 0) {
			yaml_node_item_t *it, one = pr->value;
			yaml_node_item_t *from = &one, *to = &one + 1;

			if (val->type == YAML_SEQUENCE_NODE) {
				from = val->data.sequence.items.start;
				to = val->data.sequence.items.top;
			}
			for (it = from; it < to && !ret; it++) {
				yaml_node_t *a = node(L, *it);
				size_t d = scalar(a) ? mlctl_pipeline_stage_find(L->pl, scalar(a)) : SIZE_MAX;

				if (d == SIZE_MAX)
					ret = at(L, a, "stage %s: after: no stage called '%s'", s->name,
						 scalar(a) ? scalar(a) : "?");
				else if (d == idx)
					ret = at(L, a, "stage %s: after itself (a cycle)", s->name);
				else
					ret = add_dep(s, d);
			}
			continue;
		}
		ret = load_setting(L, s, k, val);
	}
	if (ret)
		return ret;
	for (i = 0; i < s->kind->nrequired; i++) {
		size_t j;

		for (j = 0; j < s->nsettings; j++)
			if (strcmp(s->settings[j].option->name, s->kind->required[i]) == 0)
				break;
		if (j == s->nsettings)
			return at(L, v, "stage %s: %s is required", s->name, s->kind->required[i]);
	}
	for (i = 0; i < L->pl->nstages && !ret; i++) {
		if (!L->uses[i])
			continue;
		ret = add_dep(s, i);
		L->refs[idx * L->pl->nstages + i] = true;
	}
	/* Whether it runs per file is settled once every stage is read (resolve_each). */
	L->own_each[idx] = L->each_input;
	L->each_node[idx] = L->uses_each ? L->each_at : NULL;
	L->stage_node[idx] = v;
	return ret;
}

/*
 * A stage runs once per file of a pattern input when it refers to that input, or to the
 * outputs of a stage that does (whatever the order of the file). state: 0 not seen, 1 being
 * resolved (a cycle, which order_stages() reports), 2 done.
 */
static int resolve_each(loader *L, size_t s, unsigned char *state)
{
	mlctl_pipeline *pl = L->pl;
	size_t d, n = pl->nstages, each = L->own_each[s];
	int ret;

	if (state[s])
		return 0;
	state[s] = 1;
	for (d = 0; d < n; d++) {
		if (!L->refs[s * n + d])
			continue;
		if ((ret = resolve_each(L, d, state)))
			return ret;
		if (!pl->stages[d].each)
			continue;
		if (each && each != pl->stages[d].each)
			return at(L, L->stage_node[s], "stage %s: runs per file of '%s' and of '%s'; one input only",
				  pl->stages[s].name, pl->inputs[each - 1].name, pl->inputs[pl->stages[d].each - 1].name);
		each = pl->stages[d].each;
	}
	if (L->each_node[s] && !each)
		return at(L, L->each_node[s], "stage %s: ${each.*} is for a stage that runs once per file of an "
			  "input with a pattern", pl->stages[s].name);
	pl->stages[s].each = each;
	state[s] = 2;
	return 0;
}

/* Stages in dependency order, file order among the ready ones; a cycle is an error. */
static int order_stages(loader *L)
{
	mlctl_pipeline *pl = L->pl;
	size_t n = pl->nstages, i, j, k, done = 0;
	bool *placed = mlctl_calloc(n, sizeof(*placed));
	mlctl_pipeline_stage *out = mlctl_calloc(n, sizeof(*out));
	size_t *newidx = mlctl_calloc(n, sizeof(*newidx));
	int ret = 0;

	if (!placed || !out || !newidx) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	while (done < n) {
		for (i = 0; i < n; i++) {
			if (placed[i])
				continue;
			for (k = 0; k < pl->stages[i].ndeps && placed[pl->stages[i].deps[k]]; k++)
				;
			if (k == pl->stages[i].ndeps)
				break;
		}
		if (i == n) {
			/* Everything left waits on something left: name them. */
			strbuf sb = MLCTL_STRBUF_INIT;
			size_t first = SIZE_MAX;

			for (j = 0; j < n; j++) {
				if (placed[j])
					continue;
				if (first == SIZE_MAX)
					first = j;
				strbuf_printf(&sb, "%s%s", sb.len ? ", " : "", pl->stages[j].name);
			}
			ret = mlctl_error_set(MLCTL_ECONFIG, "%s:%d:%d: stages %s depend on each other (a cycle)",
					      L->path, pl->stages[first].line, pl->stages[first].column,
					      sb.buf ? sb.buf : "");
			strbuf_release(&sb);
			goto out_free;
		}
		placed[i] = true;
		newidx[i] = done;
		out[done++] = pl->stages[i];
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < out[i].ndeps; k++)
			out[i].deps[k] = newidx[out[i].deps[k]];
	free(pl->stages);
	pl->stages = out;
	out = NULL;
out_free:
	free(out);
	free(placed);
	free(newidx);
	return ret;
}

static int load_root(loader *L, yaml_node_t *root)
{
	static const char *const keys[] = { "name", "vars", "data", "stages" };
	yaml_node_t *stages = NULL;
	yaml_node_pair_t *pr;
	char sug[160];
	size_t i;
	int ret;

	if (root->type != YAML_MAPPING_NODE)
		return at(L, root, "a pipeline is a mapping with name, vars, data and stages");
	if ((ret = check_unique(L, root)))
		return ret;
	/* vars first, then data, then stages, whatever order the file has them in. */
	for (i = 0; i < 4 && !ret; i++) {
		for (pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top && !ret; pr++) {
			yaml_node_t *k = node(L, pr->key), *v = node(L, pr->value);
			const char *key = scalar(k);

			if (i == 0 && strcmp(key, "name") != 0 && strcmp(key, "vars") != 0 &&
			    strcmp(key, "data") != 0 && strcmp(key, "stages") != 0)
				ret = at(L, k, "unknown key '%s'%s (a pipeline has name, vars, data and stages)",
					 key, suggest(sug, sizeof(sug), key, keys, 4));
			else if (i == 0 && strcmp(key, "name") == 0) {
				if (!scalar(v) || !mlctl_name_valid(scalar(v)))
					ret = at(L, v, "name: letters, digits, '.', '_' and '-'");
				else if (!(L->pl->name = mlctl_strdup(scalar(v))))
					ret = MLCTL_ENOMEM;
			} else if (i == 1 && strcmp(key, "vars") == 0)
				ret = load_vars(L, v);
			else if (i == 2 && strcmp(key, "data") == 0)
				ret = load_data(L, v);
			else if (i == 3 && strcmp(key, "stages") == 0)
				stages = v;
		}
	}
	if (ret)
		return ret;
	if (!stages)
		return at(L, root, "no stages");
	if (stages->type != YAML_MAPPING_NODE)
		return at(L, stages, "stages must be a mapping of stage names to their options");
	if ((ret = stage_names(L, stages)))
		return ret;
	for (pr = stages->data.mapping.pairs.start, i = 0; pr < stages->data.mapping.pairs.top && !ret; pr++, i++)
		ret = load_stage(L, i, node(L, pr->value));
	if (!ret) {
		unsigned char *state = mlctl_calloc(L->pl->nstages, 1);

		if (!state)
			return MLCTL_ENOMEM;
		for (i = 0; i < L->pl->nstages && !ret; i++)
			ret = resolve_each(L, i, state);
		free(state);
	}
	return ret ? ret : order_stages(L);
}

/* The file name without directory and extension: the pipeline's default name. */
static char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	char *out, *dot;

	out = mlctl_strdup(b ? b + 1 : path);
	if (out && (dot = strrchr(out, '.')) && dot != out)
		*dot = '\0';
	return out;
}

int mlctl_pipeline_load(mlctl_pipeline **out, const char *path, const mlctl_pipeline_kind *kinds,
			size_t nkinds)
{
	loader L;
	yaml_parser_t parser;
	char *text = NULL, *dir = NULL;
	size_t len, i;
	int ret;

	*out = NULL;
	memset(&L, 0, sizeof(L));
	L.path = path;
	L.kinds = kinds;
	L.nkinds = nkinds;
	if ((ret = fs_read_file(&text, &len, path, PIPELINE_MAX_BYTES)))
		return ret == MLCTL_EDATA ? mlctl_error_set(MLCTL_ECONFIG, "%s: larger than %u bytes",
							    path, PIPELINE_MAX_BYTES) : ret;
	if (!(L.pl = mlctl_calloc(1, sizeof(*L.pl)))) {
		free(text);
		return MLCTL_ENOMEM;
	}
	if (!yaml_parser_initialize(&parser)) {
		ret = mlctl_error_oom();
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &L.doc)) {
		ret = mlctl_error_set(MLCTL_ECONFIG, "%s:%zu:%zu: malformed YAML: %s%s%s", path,
				      (size_t)parser.problem_mark.line + 1, (size_t)parser.problem_mark.column + 1,
				      parser.problem ? parser.problem : "parse error",
				      parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		goto out;
	}
	yaml_parser_delete(&parser);
	if (!yaml_document_get_root_node(&L.doc)) {
		ret = mlctl_error_set(MLCTL_ECONFIG, "%s: empty pipeline file", path);
		goto out_doc;
	}
	/* The directory relative paths are taken from, absolute. */
	dir = fs_dirname(path);
	if (!dir) {
		ret = MLCTL_ENOMEM;
		goto out_doc;
	}
	if (!(L.pl->dir = realpath(dir, NULL))) {
		ret = mlctl_error_set(MLCTL_ENOTFOUND, "%s: %s", dir, strerror(errno));
		goto out_doc;
	}
	if (!(L.pl->path = mlctl_strdup(path))) {
		ret = MLCTL_ENOMEM;
		goto out_doc;
	}
	ret = load_root(&L, yaml_document_get_root_node(&L.doc));
	if (!ret && !L.pl->name && !(L.pl->name = base_name(path)))
		ret = MLCTL_ENOMEM;
out_doc:
	yaml_document_delete(&L.doc);
out:
	for (i = 0; i < L.nvars; i++) {
		free(L.vars[i].name);
		free(L.vars[i].value);
	}
	free(L.vars);
	free(L.uses);
	free(L.refs);
	free(L.own_each);
	free(L.each_node);
	free(L.stage_node);
	free(dir);
	free(text);
	if (ret)
		mlctl_pipeline_free(L.pl);
	else
		*out = L.pl;
	return ret;
}

void mlctl_pipeline_free(mlctl_pipeline *pl)
{
	size_t i, j, k;

	if (!pl)
		return;
	for (i = 0; i < pl->nstages; i++) {
		mlctl_pipeline_stage *s = &pl->stages[i];

		for (j = 0; j < s->nsettings; j++) {
			for (k = 0; k < s->settings[j].nvalues; k++)
				free(s->settings[j].values[k]);
			free(s->settings[j].values);
		}
		free(s->settings);
		free(s->deps);
		free(s->name);
	}
	for (i = 0; i < pl->ninputs; i++) {
		for (j = 0; j < pl->inputs[i].nfiles; j++)
			free(pl->inputs[i].files[j]);
		free(pl->inputs[i].files);
		free(pl->inputs[i].name);
		free(pl->inputs[i].path);
	}
	free(pl->inputs);
	free(pl->stages);
	free(pl->name);
	free(pl->dir);
	free(pl->path);
	free(pl);
}

/* ---- plans ---- */

/* A path for display and for keys: relative to the pipeline's directory when under it. */
static const char *rel_path(const mlctl_pipeline *pl, const char *abs)
{
	size_t n = strlen(pl->dir);

	if (strncmp(abs, pl->dir, n) == 0 && abs[n] == '/')
		return abs + n + 1;
	return abs;
}

static const char *item_file(const mlctl_pipeline *pl, const mlctl_pipeline_job *job)
{
	const mlctl_pipeline_stage *s = &pl->stages[job->stage];

	return s->each && job->item != SIZE_MAX ? pl->inputs[s->each - 1].files[job->item] : NULL;
}

/* The job of stage d that job j (of its stage, item) depends on; SIZE_MAX: all of them. */
static size_t dep_job(const mlctl_pipeline *pl, size_t first_of_stage_d,
		      size_t d, const mlctl_pipeline_job *job)
{
	const mlctl_pipeline_stage *ds = &pl->stages[d], *s = &pl->stages[job->stage];

	if (!ds->each)
		return first_of_stage_d;
	if (ds->each == s->each)
		return first_of_stage_d + job->item;
	return SIZE_MAX;
}

/*
 * Resolve one value for running (abs) or for the key (!abs): ${data.X} to its file (the
 * job's item for a pattern), ${each.F}, and, when abs, ${stage.out} from the upstream job's
 * outputs. For the key, upstream references stay as written (their keys stand for them).
 */
static int resolve(char **out, const mlctl_pipeline *pl, const mlctl_pipeline_plan *plan,
		   const mlctl_pipeline_job *job, const char *v, bool abs, unsigned path)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	const char *p = v, *end;
	const char *item = item_file(pl, job);
	int ret = 0;

	*out = NULL;
	while (*p && !ret) {
		const char *dot;
		size_t len;

		if (p[0] != '$' || p[1] != '{' || !(end = strchr(p + 2, '}'))) {
			ret = strbuf_add(&sb, p, 1);
			p++;
			continue;
		}
		len = (size_t)(end - p - 2);
		dot = memchr(p + 2, '.', len);
		if (!dot) {   /* "$${x}" came out of the loader as "${x}": text */
			ret = strbuf_add(&sb, p, len + 3);
		} else if (dot - p - 2 == 4 && memcmp(p + 2, "data", 4) == 0) {
			size_t in = input_find(pl, dot + 1, (size_t)(end - dot - 1));
			const mlctl_pipeline_input *ip = &pl->inputs[in];
			const char *f = ip->glob ? item : ip->files[0];

			ret = strbuf_puts(&sb, abs ? f : rel_path(pl, f));
		} else if (dot - p - 2 == 4 && memcmp(p + 2, "each", 4) == 0) {
			const char *base = strrchr(item, '/') ? strrchr(item, '/') + 1 : item;
			size_t flen = (size_t)(end - dot - 1);

			if (flen == 4 && memcmp(dot + 1, "path", 4) == 0)
				ret = strbuf_puts(&sb, abs ? item : rel_path(pl, item));
			else if (flen == 4 && memcmp(dot + 1, "name", 4) == 0)
				ret = strbuf_puts(&sb, base);
			else {
				const char *ext = strrchr(base, '.');

				ret = strbuf_add(&sb, base, ext && ext != base ? (size_t)(ext - base) : strlen(base));
			}
		} else if (!abs) {
			ret = strbuf_add(&sb, p, len + 3);
		} else {
			size_t d = stage_find_n(pl, p + 2, (size_t)(dot - p - 2)), j;
			const char *val = NULL;
			char oname[64];

			snprintf(oname, sizeof(oname), "%.*s", (int)(end - dot - 1), dot + 1);
			for (j = 0; j < plan->njobs; j++) {
				const mlctl_pipeline_job *dj = &plan->jobs[j];

				if (dj->stage == d && (dj->item == job->item || dj->item == SIZE_MAX)) {
					val = mlctl_pipeline_job_output(dj, oname);
					break;
				}
			}
			if (!val) {
				ret = mlctl_error_set(MLCTL_ERROR, "stage %s: ${%.*s} has no value yet",
						      job->label, (int)len, p + 2);
				break;
			}
			ret = strbuf_puts(&sb, val);
		}
		p = end + 1;
	}
	if (!ret && sb.len == 0)
		ret = strbuf_puts(&sb, "");
	if (!ret && abs && (path & MLCTL_PIPE_PATH) && sb.buf[0] && sb.buf[0] != '/') {
		char *full = fs_join(pl->dir, sb.buf);

		strbuf_release(&sb);
		if (!full)
			return MLCTL_ENOMEM;
		*out = full;
		return 0;
	}
	if (ret) {
		strbuf_release(&sb);
		return ret;
	}
	*out = strbuf_detach(&sb, NULL);
	return *out ? 0 : MLCTL_ENOMEM;
}

/* The digest of an input file: from the registry's cache while the file's stat is the one
 * recorded, so an unchanged 1 GB input is not read again. */
static int file_digest(mlctl_registry *reg, const char *path, char out[65])
{
	return mlctl_file_digest(out, reg, path);
}

static int job_config(mlctl_registry *reg, const mlctl_pipeline *pl, mlctl_pipeline_plan *plan, size_t j)
{
	mlctl_pipeline_job *job = &plan->jobs[j];
	const mlctl_pipeline_stage *s = &pl->stages[job->stage];
	json_t *doc = json_object(), *opts = json_object(), *inputs = json_object(), *up = json_object();
	size_t i, k;
	char digest[65];
	int ret = 0;

	if (!doc || !opts || !inputs || !up) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	json_object_set_new(doc, "kind", json_string(s->kind->name));
	json_object_set_new(doc, "mlctl", json_string(MLCTL_VERSION));
	for (i = 0; i < s->nsettings && !ret; i++) {
		const mlctl_pipeline_setting *st = &s->settings[i];
		json_t *vals = json_array();

		if (!vals) {
			ret = MLCTL_ENOMEM;
			break;
		}
		json_object_set_new(opts, st->option->name, vals);
		for (k = 0; k < st->nvalues && !ret; k++) {
			char *v = NULL, *absv = NULL;

			if ((ret = resolve(&v, pl, plan, job, st->values[k], false, st->option->path)))
				break;
			json_array_append_new(vals, json_string(v));
			/* An input file (not an upstream output): its digest. */
			if ((st->option->path & MLCTL_PIPE_INPUT) && !has_ref(v)) {
				if ((ret = resolve(&absv, pl, plan, job, st->values[k], true, st->option->path)) == 0 &&
				    (ret = file_digest(reg, absv, digest)) == 0)
					json_object_set_new(inputs, rel_path(pl, absv), json_string(digest));
				free(absv);
			}
			free(v);
		}
	}
	for (i = 0; i < job->ndeps && !ret; i++)
		json_object_set_new(up, plan->jobs[job->deps[i]].label, json_string(plan->jobs[job->deps[i]].key));
	if (ret)
		goto out;
	json_object_set(doc, "options", opts);
	json_object_set(doc, "inputs", inputs);
	json_object_set(doc, "upstream", up);
	if (!(job->config = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	hash_buf_hex(job->key, job->config, strlen(job->config));
out:
	json_decref(doc);
	json_decref(opts);
	json_decref(inputs);
	json_decref(up);
	return ret;
}

static int add_output(mlctl_pipeline_job *job, const char *key, const char *value)
{
	mlctl_kv *kv = mlctl_reallocarray(job->outputs, job->noutputs + 1, sizeof(*kv));

	if (!kv)
		return MLCTL_ENOMEM;
	job->outputs = kv;
	kv += job->noutputs;
	kv->key = mlctl_strdup(key);
	kv->value = mlctl_strdup(value);
	job->noutputs++;
	return kv->key && kv->value ? 0 : MLCTL_ENOMEM;
}

static int outputs_from_json(mlctl_pipeline_job *job, const char *text)
{
	json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
	const char *k;
	json_t *v;
	int ret = 0;

	if (!json_is_object(doc)) {
		json_decref(doc);
		return 0;
	}
	json_object_foreach(doc, k, v)
		if (json_is_string(v) && !ret)
			ret = add_output(job, k, json_string_value(v));
	json_decref(doc);
	return ret;
}

static int set_reason(mlctl_pipeline_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int set_reason(mlctl_pipeline_job *job, const char *fmt, ...)
{
	va_list ap;
	strbuf sb = MLCTL_STRBUF_INIT;
	int ret;

	if (job->reason)
		strbuf_puts(&sb, job->reason);
	if (sb.len)
		strbuf_puts(&sb, "; ");
	va_start(ap, fmt);
	ret = strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	if (ret) {
		strbuf_release(&sb);
		return ret;
	}
	free(job->reason);
	job->reason = strbuf_detach(&sb, NULL);
	return job->reason ? 0 : MLCTL_ENOMEM;
}

/* Why job's configuration differs from the one its last run recorded. */
static int explain(mlctl_registry *reg, const mlctl_pipeline *pl, mlctl_pipeline_job *job)
{
	char id[MLCTL_RUN_ID_SIZE], *sid;
	mlctl_run *run = NULL;
	json_t *was = NULL, *now = NULL;
	static const char *const parts[] = { "options", "inputs", "upstream" };
	size_t p;
	int ret;

	if (!(sid = mlctl_asprintf("%s/%s", pl->name, job->label)))
		return MLCTL_ENOMEM;
	ret = mlctl_run_find_tag(id, reg, TAG_ID, sid, false);
	free(sid);
	if (ret == MLCTL_ENOTFOUND)
		return set_reason(job, "never run");
	if (ret || (ret = mlctl_run_get(&run, reg, id)))
		return ret;
	if (run->status != MLCTL_RUN_SUCCEEDED) {
		ret = set_reason(job, "last run %s", mlctl_run_status_name(run->status));
		goto out;
	}
	was = json_loads(mlctl_run_tag(run, TAG_CONFIG) ? mlctl_run_tag(run, TAG_CONFIG) : "", 0, NULL);
	now = json_loads(job->config, 0, NULL);
	if (!was || !now) {
		ret = set_reason(job, "configuration changed");
		goto out;
	}
	if (!json_equal(json_object_get(was, "mlctl"), json_object_get(now, "mlctl")))
		ret = set_reason(job, "mlctl version changed");
	for (p = 0; p < 3 && !ret; p++) {
		json_t *a = json_object_get(was, parts[p]), *b = json_object_get(now, parts[p]), *v;
		const char *k;
		const char *fmt = p == 0 ? "changed option %s" : p == 1 ? "changed input %s" : "upstream %s changed";

		json_object_foreach(b, k, v)
			if (!ret && !json_equal(v, json_object_get(a, k)))
				ret = set_reason(job, fmt, k);
		json_object_foreach(a, k, v)
			if (!ret && !json_object_get(b, k))
				ret = set_reason(job, p == 0 ? "option %s removed" : p == 1 ? "input %s removed" :
						 "upstream %s removed", k);
	}
	if (!ret && !job->reason)
		ret = set_reason(job, "configuration changed");
out:
	json_decref(was);
	json_decref(now);
	mlctl_run_free(run);
	return ret;
}

/* True when v refers to a stage's output (not to data or each). */
static bool stage_ref(const char *v)
{
	const char *p;

	for (p = strstr(v, "${"); p; p = strstr(p + 2, "${"))
		if (strncmp(p + 2, "data.", 5) != 0 && strncmp(p + 2, "each.", 5) != 0 &&
		    strchr(p, '.') && (!strchr(p, '}') || strchr(p, '.') < strchr(p, '}')))
			return true;
	return false;
}

/* A recorded run of job's key: up to date when its output files are all there. */
static int match(mlctl_registry *reg, const mlctl_pipeline *pl, mlctl_pipeline_plan *plan, size_t j)
{
	mlctl_pipeline_job *job = &plan->jobs[j];
	const mlctl_pipeline_stage *s = &pl->stages[job->stage];
	mlctl_run *run = NULL;
	const char *outcome;
	size_t i, k;
	int ret;

	ret = mlctl_run_find_tag(job->run, reg, TAG_KEY, job->key, true);
	if (ret == MLCTL_ENOTFOUND) {
		job->run[0] = '\0';
		return explain(reg, pl, job);
	}
	if (ret || (ret = mlctl_run_get(&run, reg, job->run)))
		return ret;
	if ((ret = outputs_from_json(job, mlctl_run_tag(run, TAG_OUTPUTS))))
		goto out;
	outcome = mlctl_run_tag(run, TAG_OUTCOME);
	job->stopped = outcome && strcmp(outcome, "stopped") == 0;
	job->up_to_date = true;
	for (i = 0; i < s->nsettings && !ret; i++) {
		const mlctl_pipeline_setting *st = &s->settings[i];

		if (!(st->option->path & MLCTL_PIPE_OUTPUT))
			continue;
		for (k = 0; k < st->nvalues && !ret; k++) {
			char *v = NULL;

			if (stage_ref(st->values[k]))
				continue;   /* named after an upstream output: upstream decides */

			if ((ret = resolve(&v, pl, plan, job, st->values[k], true, st->option->path)))
				break;
			if (!fs_exists(v)) {
				job->up_to_date = false;
				ret = set_reason(job, "output %s is missing", rel_path(pl, v));
			}
			free(v);
		}
	}
out:
	mlctl_run_free(run);
	return ret;
}

bool mlctl_pipeline_depends(const mlctl_pipeline *pl, size_t s, size_t t)
{
	size_t i;

	if (s == t)
		return true;
	/* Dependencies come first in run order: nothing before t depends on it. */
	if (s < t)
		return false;
	for (i = 0; i < pl->stages[s].ndeps; i++)
		if (mlctl_pipeline_depends(pl, pl->stages[s].deps[i], t))
			return true;
	return false;
}

static int plan_block(mlctl_pipeline_plan *plan);

static bool forced(const mlctl_pipeline *pl, const mlctl_pipeline_plan_options *o, size_t s)
{
	size_t i;

	if (!o)
		return false;
	if (o->force_all)
		return true;
	for (i = 0; i < o->nforce; i++)
		if (mlctl_pipeline_depends(pl, s, mlctl_pipeline_stage_find(pl, o->force[i])))
			return true;
	return false;
}

int mlctl_pipeline_plan_make(mlctl_pipeline_plan **out, mlctl_registry *reg, const mlctl_pipeline *pl,
			     const mlctl_pipeline_plan_options *o)
{
	mlctl_pipeline_plan *plan;
	size_t s, i, k, n = 0, *first = NULL;
	int ret = 0;

	*out = NULL;
	for (i = 0; o && i < o->nforce; i++)
		if (mlctl_pipeline_stage_find(pl, o->force[i]) == SIZE_MAX)
			return mlctl_error_set(MLCTL_EUSAGE, "%s has no stage called '%s'", pl->path, o->force[i]);
	for (s = 0; s < pl->nstages; s++)
		n += pl->stages[s].each ? pl->inputs[pl->stages[s].each - 1].nfiles : 1;
	plan = mlctl_calloc(1, sizeof(*plan));
	first = mlctl_calloc(pl->nstages + 1, sizeof(*first));
	if (!plan || !first || !(plan->jobs = mlctl_calloc(n + 1, sizeof(*plan->jobs)))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	for (s = 0; s < pl->nstages && !ret; s++) {
		const mlctl_pipeline_stage *st = &pl->stages[s];
		size_t items = st->each ? pl->inputs[st->each - 1].nfiles : 1;

		first[s] = plan->njobs;
		for (i = 0; i < items && !ret; i++) {
			mlctl_pipeline_job *job = &plan->jobs[plan->njobs++];

			job->stage = s;
			job->item = st->each ? i : SIZE_MAX;
			if (st->each) {
				const char *f = pl->inputs[st->each - 1].files[i], *b = strrchr(f, '/');

				job->label = mlctl_asprintf("%s[%s]", st->name, b ? b + 1 : f);
			} else {
				job->label = mlctl_strdup(st->name);
			}
			if (!job->label) {
				ret = MLCTL_ENOMEM;
				break;
			}
			for (k = 0; k < st->ndeps && !ret; k++) {
				size_t d = st->deps[k], dj = dep_job(pl, first[d], d, job), m, cnt, *nd;

				cnt = dj == SIZE_MAX ? (pl->inputs[pl->stages[d].each - 1].nfiles) : 1;
				for (m = 0; m < cnt && !ret; m++) {
					nd = mlctl_reallocarray(job->deps, job->ndeps + 1, sizeof(*nd));
					if (!nd) {
						ret = MLCTL_ENOMEM;
						break;
					}
					job->deps = nd;
					nd[job->ndeps++] = dj == SIZE_MAX ? first[d] + m : dj;
				}
			}
			if (!ret)
				ret = job_config(reg, pl, plan, plan->njobs - 1);
		}
	}
	/* Up to date: its key has a succeeded run, its outputs exist, nothing upstream reruns. */
	for (i = 0; i < plan->njobs && !ret; i++) {
		mlctl_pipeline_job *job = &plan->jobs[i];

		if (forced(pl, o, job->stage)) {
			ret = set_reason(job, "forced");
			continue;
		}
		if ((ret = match(reg, pl, plan, i)))
			break;
		for (k = 0; k < job->ndeps && !ret && job->up_to_date; k++) {
			if (!plan->jobs[job->deps[k]].up_to_date) {
				job->up_to_date = false;
				ret = set_reason(job, "upstream %s reruns", plan->jobs[job->deps[k]].label);
			}
		}
	}
	if (!ret)
		ret = plan_block(plan);
out:
	free(first);
	if (ret)
		mlctl_pipeline_plan_free(plan);
	else
		*out = plan;
	return ret;
}

/* After a recorded stop (a gate that failed on these very inputs), nothing runs until
 * something before it changes. */
static int plan_block(mlctl_pipeline_plan *plan)
{
	size_t i, k;
	int ret = 0;

	for (i = 0; i < plan->njobs; i++)
		plan->jobs[i].blocked = false;
	for (i = 0, k = SIZE_MAX; i < plan->njobs && !ret; i++) {
		if (k != SIZE_MAX && !plan->jobs[i].up_to_date) {
			plan->jobs[i].blocked = true;
			free(plan->jobs[i].reason);
			plan->jobs[i].reason = mlctl_asprintf("%s stopped the pipeline on these inputs (run %s)",
							      plan->jobs[k].label, plan->jobs[k].run);
			if (!plan->jobs[i].reason)
				ret = MLCTL_ENOMEM;
		}
		if (k == SIZE_MAX && plan->jobs[i].up_to_date && plan->jobs[i].stopped)
			k = i;
		if (k == SIZE_MAX && !plan->jobs[i].up_to_date)
			break;   /* something before the stop runs again: the stop may not recur */
	}
	return ret;
}

int mlctl_pipeline_plan_invalidate(const mlctl_pipeline *pl, mlctl_pipeline_plan *plan, size_t j,
				   const char *reason)
{
	size_t i, k;
	int ret;

	(void)pl;
	if (j >= plan->njobs)
		return mlctl_error_set(MLCTL_EUSAGE, "no job %zu", j);
	if (plan->jobs[j].up_to_date) {
		plan->jobs[j].up_to_date = false;
		if ((ret = set_reason(&plan->jobs[j], "%s", reason)))
			return ret;
	}
	for (i = j + 1; i < plan->njobs; i++) {
		mlctl_pipeline_job *job = &plan->jobs[i];

		for (k = 0; k < job->ndeps && job->up_to_date; k++) {
			if (!plan->jobs[job->deps[k]].up_to_date) {
				job->up_to_date = false;
				if ((ret = set_reason(job, "upstream %s reruns", plan->jobs[job->deps[k]].label)))
					return ret;
			}
		}
	}
	return plan_block(plan);
}

void mlctl_pipeline_plan_free(mlctl_pipeline_plan *plan)
{
	size_t i, k;

	if (!plan)
		return;
	for (i = 0; i < plan->njobs; i++) {
		mlctl_pipeline_job *job = &plan->jobs[i];

		for (k = 0; k < job->noutputs; k++) {
			free(job->outputs[k].key);
			free(job->outputs[k].value);
		}
		free(job->outputs);
		free(job->label);
		free(job->config);
		free(job->reason);
		free(job->deps);
	}
	free(plan->jobs);
	free(plan);
}

const char *mlctl_pipeline_job_output(const mlctl_pipeline_job *job, const char *name)
{
	size_t i;

	for (i = 0; i < job->noutputs; i++)
		if (strcmp(job->outputs[i].key, name) == 0)
			return job->outputs[i].value;
	return NULL;
}

int mlctl_pipeline_job_args(mlctl_pipeline_args *out, const mlctl_pipeline *pl,
			    const mlctl_pipeline_plan *plan, size_t j)
{
	const mlctl_pipeline_job *job = &plan->jobs[j];
	const mlctl_pipeline_stage *s = &pl->stages[job->stage];
	size_t i, k;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->nsettings = s->nsettings;
	out->settings = s->settings;
	if (!(out->values = mlctl_calloc(s->nsettings + 1, sizeof(*out->values))))
		return MLCTL_ENOMEM;
	for (i = 0; i < s->nsettings && !ret; i++) {
		const mlctl_pipeline_setting *st = &s->settings[i];

		if (!(out->values[i] = mlctl_calloc(st->nvalues + 1, sizeof(**out->values)))) {
			ret = MLCTL_ENOMEM;
			break;
		}
		for (k = 0; k < st->nvalues && !ret; k++)
			ret = resolve(&out->values[i][k], pl, plan, job, st->values[k], true, st->option->path);
	}
	if (ret)
		mlctl_pipeline_args_free(out);
	return ret;
}

void mlctl_pipeline_args_free(mlctl_pipeline_args *a)
{
	size_t i, k;

	if (!a->values)
		return;
	for (i = 0; i < a->nsettings; i++) {
		for (k = 0; a->values[i] && k < a->settings[i].nvalues; k++)
			free(a->values[i][k]);
		free(a->values[i]);
	}
	free(a->values);
	a->values = NULL;
}

int mlctl_pipeline_mkdir_for(const char *file)
{
	char *dir = fs_dirname(file);
	int ret;

	if (!dir)
		return MLCTL_ENOMEM;
	ret = fs_mkdir_p(dir);
	free(dir);
	return ret;
}

int mlctl_pipeline_args_mkdirs(const mlctl_pipeline_args *a)
{
	size_t i, k;
	int ret = 0;

	for (i = 0; i < a->nsettings && !ret; i++)
		if (a->settings[i].option->path & MLCTL_PIPE_OUTPUT)
			for (k = 0; k < a->settings[i].nvalues && !ret; k++)
				ret = mlctl_pipeline_mkdir_for(a->values[i][k]);
	return ret;
}

int mlctl_pipeline_job_record(mlctl_registry *reg, const mlctl_pipeline *pl, mlctl_pipeline_plan *plan,
			      size_t j, const char *run, const mlctl_kv *outputs, size_t noutputs, bool stopped)
{
	mlctl_pipeline_job *job = &plan->jobs[j];
	json_t *o = json_object();
	char *otext = NULL, *sid = mlctl_asprintf("%s/%s", pl->name, job->label);
	size_t i;
	int ret = 0;

	if (!o || !sid) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	for (i = 0; i < job->noutputs; i++) {
		free(job->outputs[i].key);
		free(job->outputs[i].value);
	}
	job->noutputs = 0;
	for (i = 0; i < noutputs && !ret; i++) {
		json_object_set_new(o, outputs[i].key, json_string(outputs[i].value));
		ret = add_output(job, outputs[i].key, outputs[i].value);
	}
	if (ret || !(otext = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT))) {
		ret = ret ? ret : MLCTL_ENOMEM;
		goto out;
	}
	snprintf(job->run, sizeof(job->run), "%s", run);
	job->stopped = stopped;
	if ((ret = mlctl_run_set_tag(reg, run, TAG_PIPELINE, pl->name)) ||
	    (ret = mlctl_run_set_tag(reg, run, TAG_STAGE, job->label)) ||
	    (ret = mlctl_run_set_tag(reg, run, TAG_CONFIG, job->config)) ||
	    (ret = mlctl_run_set_tag(reg, run, TAG_OUTPUTS, otext)) ||
	    (ret = mlctl_run_set_tag(reg, run, TAG_OUTCOME, stopped ? "stopped" : "ok")) ||
	    (ret = mlctl_run_set_tag(reg, run, TAG_ID, sid)))
		goto out;
	/* The key last: a run carries it only once everything else is recorded. */
	ret = mlctl_run_set_tag(reg, run, TAG_KEY, job->key);
out:
	json_decref(o);
	free(otext);
	free(sid);
	return ret;
}

int mlctl_pipeline_lock(int *out_fd, mlctl_registry *reg, const mlctl_pipeline *pl)
{
	char *dir = fs_join(mlctl_registry_path(reg), "locks"), *path = NULL;
	int ret;

	*out_fd = -1;
	if (!dir || !(path = mlctl_asprintf("%s/pipeline-%s.lock", dir, pl->name))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if ((ret = fs_mkdir_p(dir)))
		goto out;
	ret = fs_lock(out_fd, path, 0);
	if (ret == MLCTL_ELOCKED)
		ret = mlctl_error_set(MLCTL_ELOCKED, "pipeline %s is running in another process (%s is "
				      "locked); try again later", pl->name, path);
out:
	free(dir);
	free(path);
	return ret;
}

void mlctl_pipeline_unlock(int fd)
{
	fs_unlock(fd);
}
