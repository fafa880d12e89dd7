/*
 * manifest.c — MANIFEST.yaml of a package (floor 2): building, deterministic writing with
 * the libyaml emitter, and strict parsing with the libyaml document loader. Every parse
 * error names origin:line:column and the dotted field ("files[2].sha256").
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "error.h"
#include "manifest.h"
#include "util.h"
#include "banned.h"

/* ---- building ---- */

manifest *manifest_new(void)
{
	manifest *m = mlctl_calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->format = MANIFEST_FORMAT;
	m->model.nr_class = -1;
	m->lineage.dataset_rows = -1;
	m->lineage.dataset_columns = -1;
	return m;
}

static void free_metrics(manifest_metric *mt, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(mt[i].key);
	free(mt);
}

void manifest_free(manifest *m)
{
	size_t i;

	if (!m)
		return;
	free(m->name);
	free(m->created);
	free(m->mlctl_version);
	free(m->model.type);
	free(m->model.kernel);
	free(m->model.label);
	for (i = 0; i < m->model.nclasses; i++)
		free(m->model.classes[i]);
	free(m->model.classes);
	for (i = 0; i < m->model.nparams; i++) {
		free(m->model.params[i].key);
		free(m->model.params[i].value);
	}
	free(m->model.params);
	free_metrics(m->model.metrics, m->model.nmetrics);
	for (i = 0; i < m->nvalidations; i++) {
		free(m->validations[i].run);
		free(m->validations[i].verdict);
		free_metrics(m->validations[i].metrics, m->validations[i].nmetrics);
	}
	free(m->validations);
	free(m->lineage.train_run);
	free(m->lineage.dataset_digest);
	free(m->lineage.dataset_path);
	for (i = 0; i < m->nfiles; i++)
		free(m->files[i].path);
	free(m->files);
	free(m);
}

int manifest_set_str(char **field, const char *value)
{
	char *copy = NULL;

	if (value && !(copy = mlctl_strdup(value)))
		return MLCTL_ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

/* Make room for one more element of an array of n elements of size bytes. */
static int grow(void *arrayp, size_t n, size_t size)
{
	void **array = arrayp;
	void *p = mlctl_reallocarray(*array, n + 1, size);

	if (!p)
		return MLCTL_ENOMEM;
	*array = p;
	memset((char *)p + n * size, 0, size);
	return 0;
}

int manifest_add_class(manifest *m, const char *name)
{
	char *copy = mlctl_strdup(name);

	if (!copy || grow(&m->model.classes, m->model.nclasses, sizeof(*m->model.classes))) {
		free(copy);
		return MLCTL_ENOMEM;
	}
	m->model.classes[m->model.nclasses++] = copy;
	return 0;
}

int manifest_add_param(manifest *m, const char *key, const char *value)
{
	manifest_kv kv = { mlctl_strdup(key), mlctl_strdup(value) };

	if (!kv.key || !kv.value || grow(&m->model.params, m->model.nparams, sizeof(kv))) {
		free(kv.key);
		free(kv.value);
		return MLCTL_ENOMEM;
	}
	m->model.params[m->model.nparams++] = kv;
	return 0;
}

int manifest_add_metric(manifest_metric **metrics, size_t *n, const char *key, double value)
{
	char *copy = mlctl_strdup(key);

	if (!copy || grow(metrics, *n, sizeof(**metrics))) {
		free(copy);
		return MLCTL_ENOMEM;
	}
	(*metrics)[*n].key = copy;
	(*metrics)[(*n)++].value = value;
	return 0;
}

int manifest_add_validation(manifest *m, const char *run, const char *verdict, manifest_validation **out)
{
	manifest_validation v = { mlctl_strdup(run), mlctl_strdup(verdict), 0, NULL };

	if (!v.run || !v.verdict || grow(&m->validations, m->nvalidations, sizeof(v))) {
		free(v.run);
		free(v.verdict);
		return MLCTL_ENOMEM;
	}
	m->validations[m->nvalidations] = v;
	if (out)
		*out = &m->validations[m->nvalidations];
	m->nvalidations++;
	return 0;
}

int manifest_add_file(manifest *m, const char *path, const char *sha256, uint64_t size)
{
	char *copy;

	if (!hash_is_hex(sha256))
		return mlctl_error_set(MLCTL_EUSAGE, "manifest file %s: \"%s\" is not a SHA-256 digest", path, sha256);
	if (!(copy = mlctl_strdup(path)) || grow(&m->files, m->nfiles, sizeof(*m->files))) {
		free(copy);
		return MLCTL_ENOMEM;
	}
	m->files[m->nfiles].path = copy;
	memcpy(m->files[m->nfiles].sha256, sha256, MLCTL_DIGEST_HEX);
	m->files[m->nfiles++].size = size;
	return 0;
}

const manifest_file *manifest_find_file(const manifest *m, const char *path)
{
	size_t i;

	for (i = 0; i < m->nfiles; i++)
		if (!strcmp(m->files[i].path, path))
			return &m->files[i];
	return NULL;
}

const char *manifest_param(const manifest *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->model.nparams; i++)
		if (!strcmp(m->model.params[i].key, key))
			return m->model.params[i].value;
	return NULL;
}

const manifest_metric *manifest_metric_find(const manifest_metric *metrics, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(metrics[i].key, key))
			return &metrics[i];
	return NULL;
}

/* ---- writing ---- */

typedef struct emitter {
	yaml_emitter_t e;
	strbuf out;
	int failed;
} emitter;

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	emitter *em = data;

	return strbuf_add(&em->out, buffer, size) == 0;
}

static void emit(emitter *em, yaml_event_t *ev, int made)
{
	if (em->failed)
		return;
	if (!made || !yaml_emitter_emit(&em->e, ev))
		em->failed = 1;
}

/* True when a YAML 1.1 reader would not take s, written plain, as a string. */
static bool needs_quotes(const char *s)
{
	static const char *const words[] = { "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n" };
	double d;
	size_t i;

	if (!*s || mlctl_parse_double(s, &d) || strchr("0123456789+-.", *s))
		return true;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcasecmp(s, words[i]))
			return true;
	return false;
}

static void emit_str(emitter *em, const char *s)
{
	yaml_event_t ev;
	int plain = !needs_quotes(s);

	/* plain_implicit 0 without a tag makes the emitter quote the scalar */
	emit(em, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s),
						   plain, 1, YAML_ANY_SCALAR_STYLE));
}

static void emit_raw(emitter *em, const char *s)
{
	yaml_event_t ev;

	emit(em, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
						   YAML_PLAIN_SCALAR_STYLE));
}

static void emit_int(emitter *em, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	emit_raw(em, buf);
}

static void emit_double(emitter *em, double v)
{
	char buf[32];

	if (isnan(v))
		emit_raw(em, ".nan");
	else if (isinf(v))
		emit_raw(em, v > 0 ? ".inf" : "-.inf");
	else
		emit_raw(em, mlctl_fmt_double(buf, v));
}

static void begin_map(emitter *em)
{
	yaml_event_t ev;

	emit(em, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
}

static void end_map(emitter *em)
{
	yaml_event_t ev;

	emit(em, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void begin_seq(emitter *em, bool empty)
{
	yaml_event_t ev;

	emit(em, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
			empty ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE));
}

static void end_seq(emitter *em)
{
	yaml_event_t ev;

	emit(em, &ev, yaml_sequence_end_event_initialize(&ev));
}

static void key_str(emitter *em, const char *key, const char *value)
{
	if (!value)
		return;
	emit_raw(em, key);
	emit_str(em, value);
}

static void key_int(emitter *em, const char *key, int64_t v)
{
	if (v < 0)
		return;
	emit_raw(em, key);
	emit_int(em, v);
}

static int cmp_metric(const void *a, const void *b)
{
	return strcmp(((const manifest_metric *)a)->key, ((const manifest_metric *)b)->key);
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const manifest_kv *)a)->key, ((const manifest_kv *)b)->key);
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const manifest_file *)a)->path, ((const manifest_file *)b)->path);
}

/* A sorted shallow copy of an array, so that maps come out in key order. */
static void *sorted_copy(const void *a, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	void *c = mlctl_calloc(n ? n : 1, size);

	if (c && n) {
		memcpy(c, a, n * size);
		qsort(c, n, size, cmp);
	}
	return c;
}

static void emit_metrics(emitter *em, const char *key, const manifest_metric *mt, size_t n)
{
	manifest_metric *s = sorted_copy(mt, n, sizeof(*mt), cmp_metric);
	size_t i;

	if (!s) {
		em->failed = 1;
		return;
	}
	emit_raw(em, key);
	begin_map(em);
	for (i = 0; i < n; i++) {
		emit_str(em, s[i].key);
		emit_double(em, s[i].value);
	}
	end_map(em);
	free(s);
}

static void emit_model(emitter *em, const manifest_model *md)
{
	manifest_kv *params = sorted_copy(md->params, md->nparams, sizeof(*md->params), cmp_kv);
	size_t i;

	if (!params) {
		em->failed = 1;
		return;
	}
	emit_raw(em, "model");
	begin_map(em);
	key_str(em, "type", md->type);
	key_str(em, "kernel", md->kernel);
	key_int(em, "nr_class", md->nr_class);
	emit_raw(em, "classes");
	begin_seq(em, md->nclasses == 0);
	for (i = 0; i < md->nclasses; i++)
		emit_str(em, md->classes[i]);
	end_seq(em);
	key_str(em, "label", md->label);
	emit_raw(em, "params");
	begin_map(em);
	for (i = 0; i < md->nparams; i++) {
		emit_str(em, params[i].key);
		emit_str(em, params[i].value);
	}
	end_map(em);
	emit_metrics(em, "metrics", md->metrics, md->nmetrics);
	end_map(em);
	free(params);
}

static void emit_rest(emitter *em, const manifest *m)
{
	manifest_file *files = sorted_copy(m->files, m->nfiles, sizeof(*m->files), cmp_file);
	size_t i;

	if (!files) {
		em->failed = 1;
		return;
	}
	emit_raw(em, "validations");
	begin_seq(em, m->nvalidations == 0);
	for (i = 0; i < m->nvalidations; i++) {
		begin_map(em);
		key_str(em, "run", m->validations[i].run);
		key_str(em, "verdict", m->validations[i].verdict);
		emit_metrics(em, "metrics", m->validations[i].metrics, m->validations[i].nmetrics);
		end_map(em);
	}
	end_seq(em);
	emit_raw(em, "lineage");
	begin_map(em);
	key_str(em, "train_run", m->lineage.train_run);
	emit_raw(em, "dataset");
	begin_map(em);
	key_str(em, "digest", m->lineage.dataset_digest);
	key_str(em, "path", m->lineage.dataset_path);
	key_int(em, "rows", m->lineage.dataset_rows);
	key_int(em, "columns", m->lineage.dataset_columns);
	end_map(em);
	end_map(em);
	emit_raw(em, "files");
	begin_seq(em, m->nfiles == 0);
	for (i = 0; i < m->nfiles; i++) {
		begin_map(em);
		key_str(em, "path", files[i].path);
		key_str(em, "sha256", files[i].sha256);
		emit_raw(em, "size");
		emit_int(em, (int64_t)files[i].size);
		end_map(em);
	}
	end_seq(em);
	free(files);
}

int manifest_write(char **yaml, size_t *len, const manifest *m)
{
	emitter em = { .out = MLCTL_STRBUF_INIT };
	yaml_event_t ev;
	int ret = 0;

	*yaml = NULL;
	if (!m->name || !*m->name || m->version < 1 || !m->model.type)
		return mlctl_error_set(MLCTL_EUSAGE, "manifest: name, version and model type are required");
	if (!yaml_emitter_initialize(&em.e))
		return mlctl_error_oom();
	yaml_emitter_set_output(&em.e, write_handler, &em);
	yaml_emitter_set_unicode(&em.e, 1);
	yaml_emitter_set_width(&em.e, -1);
	yaml_emitter_set_indent(&em.e, 2);
	emit(&em, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(&em, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	begin_map(&em);
	emit_raw(&em, "format");
	emit_int(&em, m->format);
	key_str(&em, "name", m->name);
	key_int(&em, "version", m->version);
	key_str(&em, "created", m->created);
	key_str(&em, "mlctl_version", m->mlctl_version);
	emit_model(&em, &m->model);
	emit_rest(&em, m);
	end_map(&em);
	emit(&em, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(&em, &ev, yaml_stream_end_event_initialize(&ev));
	if (em.failed || !yaml_emitter_flush(&em.e)) {
		ret = mlctl_error_set(MLCTL_ERROR, "cannot write the manifest: %s",
				      em.e.problem ? em.e.problem : "out of memory");
		goto out;
	}
	*yaml = strbuf_detach(&em.out, len);
	if (!*yaml)
		ret = MLCTL_ENOMEM;
out:
	yaml_emitter_delete(&em.e);
	strbuf_release(&em.out);
	return ret;
}

/* ---- parsing ---- */

typedef struct parser {
	yaml_document_t *doc;
	const char *origin;
} parser;

static int perr(const parser *p, const yaml_node_t *n, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int perr(const parser *p, const yaml_node_t *n, const char *field, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return mlctl_error_set(MLCTL_EDATA, "%s:%zu:%zu: %s: %s", p->origin, n->start_mark.line + 1,
			       n->start_mark.column + 1, field, why);
}

static const char *kind_name(const yaml_node_t *n)
{
	return n->type == YAML_MAPPING_NODE ? "a mapping" : n->type == YAML_SEQUENCE_NODE ? "a list" : "a scalar";
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int get_str(const parser *p, const yaml_node_t *n, const char *field, char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return perr(p, n, field, "expected a string, found %s", kind_name(n));
	if (strlen(scalar(n)) != n->data.scalar.length)
		return perr(p, n, field, "a NUL character in the string");
	return manifest_set_str(out, scalar(n));
}

static int get_int(const parser *p, const yaml_node_t *n, const char *field, int64_t min, int64_t *out)
{
	if (n->type != YAML_SCALAR_NODE)
		return perr(p, n, field, "expected an integer, found %s", kind_name(n));
	if (!mlctl_parse_int64(scalar(n), min, INT64_MAX, out))
		return perr(p, n, field, "\"%s\" is not an integer >= %lld", scalar(n), (long long)min);
	return 0;
}

static int get_double(const parser *p, const yaml_node_t *n, const char *field, double *out)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE)
		return perr(p, n, field, "expected a number, found %s", kind_name(n));
	s = scalar(n);
	if (!strcasecmp(s, ".nan"))
		*out = NAN;
	else if (!strcasecmp(s, ".inf") || !strcasecmp(s, "+.inf"))
		*out = INFINITY;
	else if (!strcasecmp(s, "-.inf"))
		*out = -INFINITY;
	else if (!mlctl_parse_double(s, out))
		return perr(p, n, field, "\"%s\" is not a number", s);
	return 0;
}

static int want(const parser *p, const yaml_node_t *n, yaml_node_type_t type, const char *field)
{
	if (n->type == type)
		return 0;
	return perr(p, n, field, "expected %s, found %s",
		    type == YAML_MAPPING_NODE ? "a mapping" : type == YAML_SEQUENCE_NODE ? "a list" : "a scalar",
		    kind_name(n));
}

/* Iterate the pairs of a mapping node: key must be a scalar and not repeat. */
typedef int (*pair_fn)(const parser *p, const char *key, yaml_node_t *value, const char *field, void *arg);

static int each_pair(const parser *p, yaml_node_t *map, const char *field, pair_fn fn, void *arg)
{
	yaml_node_pair_t *pair, *other;
	int ret;

	if ((ret = want(p, map, YAML_MAPPING_NODE, field)))
		return ret;
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
		char *sub;

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return perr(p, k ? k : map, field, "a key that is not a string");
		for (other = map->data.mapping.pairs.start; other < pair; other++) {
			yaml_node_t *ok = yaml_document_get_node(p->doc, other->key);

			if (ok && ok->type == YAML_SCALAR_NODE && !strcmp(scalar(ok), scalar(k)))
				return perr(p, k, field, "key \"%s\" appears twice", scalar(k));
		}
		sub = *field ? mlctl_asprintf("%s.%s", field, scalar(k)) : mlctl_strdup(scalar(k));
		if (!sub)
			return MLCTL_ENOMEM;
		ret = fn(p, scalar(k), v, sub, arg);
		free(sub);
		if (ret)
			return ret;
	}
	return 0;
}

typedef struct metrics_arg {
	manifest_metric **mt;
	size_t *n;
} metrics_arg;

static int metric_pair(const parser *p, const char *key, yaml_node_t *v, const char *field, void *arg)
{
	metrics_arg *a = arg;
	double d;
	int ret;

	if ((ret = get_double(p, v, field, &d)))
		return ret;
	return manifest_add_metric(a->mt, a->n, key, d);
}

static int param_pair(const parser *p, const char *key, yaml_node_t *v, const char *field, void *arg)
{
	manifest *m = arg;
	char *s = NULL;
	int ret;

	if ((ret = get_str(p, v, field, &s)))
		return ret;
	ret = manifest_add_param(m, key, s);
	free(s);
	return ret;
}

static int parse_metrics(const parser *p, yaml_node_t *n, const char *field, manifest_metric **mt, size_t *cnt)
{
	metrics_arg a = { mt, cnt };

	return each_pair(p, n, field, metric_pair, &a);
}

static int model_pair(const parser *p, const char *key, yaml_node_t *v, const char *field, void *arg)
{
	manifest *m = arg;
	yaml_node_item_t *it;
	char *s = NULL;
	int ret;

	if (!strcmp(key, "type"))
		return get_str(p, v, field, &m->model.type);
	if (!strcmp(key, "kernel"))
		return get_str(p, v, field, &m->model.kernel);
	if (!strcmp(key, "label"))
		return get_str(p, v, field, &m->model.label);
	if (!strcmp(key, "nr_class"))
		return get_int(p, v, field, 0, &m->model.nr_class);
	if (!strcmp(key, "params"))
		return each_pair(p, v, field, param_pair, m);
	if (!strcmp(key, "metrics"))
		return parse_metrics(p, v, field, &m->model.metrics, &m->model.nmetrics);
	if (strcmp(key, "classes"))
		return 0;       /* unknown: a newer mlctl's field */
	if ((ret = want(p, v, YAML_SEQUENCE_NODE, field)))
		return ret;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *c = yaml_document_get_node(p->doc, *it);

		if (!c || (ret = get_str(p, c, field, &s)))
			return c ? ret : perr(p, v, field, "a missing item");
		ret = manifest_add_class(m, s);
		free(s);
		s = NULL;
		if (ret)
			return ret;
	}
	return 0;
}

static int validation_pair(const parser *p, const char *key, yaml_node_t *v, const char *field, void *arg)
{
	manifest_validation *val = arg;

	if (!strcmp(key, "run"))
		return get_str(p, v, field, &val->run);
	if (!strcmp(key, "verdict"))
		return get_str(p, v, field, &val->verdict);
	if (!strcmp(key, "metrics"))
		return parse_metrics(p, v, field, &val->metrics, &val->nmetrics);
	return 0;
}

static int dataset_pair(const parser *p, const char *key, yaml_node_t *v, const char *field, void *arg)
{
	manifest_lineage *l = arg;

	if (!strcmp(key, "digest"))
		return get_str(p, v, field, &l->dataset_digest);
	if (!strcmp(key, "path"))
		return get_str(p, v, field, &l->dataset_path);
	if (!strcmp(key, "rows"))
		return get_int(p, v, field, 0, &l->dataset_rows);
	if (!strcmp(key, "columns"))
		return get_int(p, v, field, 0, &l->dataset_columns);
	return 0;
}

static int lineage_pair(const parser *p, const char *key, yaml_node_t *v, const char *field, void *arg)
{
	manifest_lineage *l = arg;

	if (!strcmp(key, "train_run"))
		return get_str(p, v, field, &l->train_run);
	if (!strcmp(key, "dataset"))
		return each_pair(p, v, field, dataset_pair, l);
	return 0;
}

static int file_pair(const parser *p, const char *key, yaml_node_t *v, const char *field, void *arg)
{
	manifest_file *f = arg;
	char *s = NULL;
	int64_t size;
	int ret;

	if (!strcmp(key, "path"))
		return get_str(p, v, field, &f->path);
	if (!strcmp(key, "size")) {
		if ((ret = get_int(p, v, field, 0, &size)))
			return ret;
		f->size = (uint64_t)size;
		return 0;
	}
	if (strcmp(key, "sha256"))
		return 0;
	if ((ret = get_str(p, v, field, &s)))
		return ret;
	if (!hash_is_hex(s))
		ret = perr(p, v, field, "\"%s\" is not a SHA-256 digest (64 lowercase hex characters)", s);
	else
		memcpy(f->sha256, s, MLCTL_DIGEST_HEX);
	free(s);
	return ret;
}

/* Why a file path in the manifest is unusable, or NULL. */
static const char *path_problem(const char *path)
{
	const char *p;

	if (!*path)
		return "an empty path";
	if (*path == '/')
		return "an absolute path";
	for (p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '/' || !p[2]))
			return "\"..\" in the path";
	return NULL;
}

/* Parse a list of mappings, each through fn into a fresh element. */
static int parse_list(const parser *p, yaml_node_t *seq, const char *field, manifest *m, bool files)
{
	yaml_node_item_t *it;
	int ret;

	if ((ret = want(p, seq, YAML_SEQUENCE_NODE, field)))
		return ret;
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(p->doc, *it);
		size_t i = (size_t)(it - seq->data.sequence.items.start);
		char *sub = mlctl_asprintf("%s[%zu]", field, i);
		const char *why;

		if (!sub)
			return MLCTL_ENOMEM;
		if (!n) {
			ret = perr(p, seq, sub, "a missing item");
		} else if (files) {
			if (!(ret = grow(&m->files, m->nfiles, sizeof(*m->files)))) {
				manifest_file *f = &m->files[m->nfiles++];

				if (!(ret = each_pair(p, n, sub, file_pair, f))) {
					if (!f->path || !f->sha256[0])
						ret = perr(p, n, sub, "path and sha256 are required");
					else if ((why = path_problem(f->path)))
						ret = perr(p, n, sub, "\"%s\": %s", f->path, why);
				}
			}
		} else if (!(ret = grow(&m->validations, m->nvalidations, sizeof(*m->validations)))) {
			ret = each_pair(p, n, sub, validation_pair, &m->validations[m->nvalidations++]);
		}
		free(sub);
		if (ret)
			return ret;
	}
	return 0;
}

static int top_pair(const parser *p, const char *key, yaml_node_t *v, const char *field, void *arg)
{
	manifest *m = arg;

	if (!strcmp(key, "format"))
		return get_int(p, v, field, 1, &m->format);
	if (!strcmp(key, "name"))
		return get_str(p, v, field, &m->name);
	if (!strcmp(key, "version"))
		return get_int(p, v, field, 1, &m->version);
	if (!strcmp(key, "created"))
		return get_str(p, v, field, &m->created);
	if (!strcmp(key, "mlctl_version"))
		return get_str(p, v, field, &m->mlctl_version);
	if (!strcmp(key, "model"))
		return each_pair(p, v, field, model_pair, m);
	if (!strcmp(key, "validations"))
		return parse_list(p, v, field, m, false);
	if (!strcmp(key, "lineage"))
		return each_pair(p, v, field, lineage_pair, &m->lineage);
	if (!strcmp(key, "files"))
		return parse_list(p, v, field, m, true);
	return 0;       /* unknown: a newer mlctl's field */
}

/*
 * The loader resolves aliases to shared nodes: walking them could take exponential
 * time ("billion laughs"), and a manifest has no use for them. Refuse any node that is
 * referred to more than once.
 */
static int refuse_aliases(const parser *p)
{
	yaml_node_t *nodes = p->doc->nodes.start, *n;
	size_t count = (size_t)(p->doc->nodes.top - nodes), i;
	unsigned char *seen = mlctl_calloc(count ? count : 1, 1);
	int ret = 0;

	if (!seen)
		return MLCTL_ENOMEM;
	for (n = nodes; n < p->doc->nodes.top && !ret; n++) {
		int *ids[2] = { NULL, NULL };
		size_t nids = 0, j;

		if (n->type == YAML_SEQUENCE_NODE) {
			for (i = 0; i < (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) && !ret; i++) {
				j = (size_t)n->data.sequence.items.start[i] - 1;
				if (j < count && seen[j]++)
					ret = perr(p, &nodes[j], "manifest", "YAML aliases are not allowed");
			}
		} else if (n->type == YAML_MAPPING_NODE) {
			yaml_node_pair_t *pr;

			for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top && !ret; pr++) {
				ids[0] = &pr->key;
				ids[1] = &pr->value;
				for (nids = 0; nids < 2 && !ret; nids++) {
					j = (size_t)*ids[nids] - 1;
					if (j < count && seen[j]++)
						ret = perr(p, &nodes[j], "manifest", "YAML aliases are not allowed");
				}
			}
		}
	}
	free(seen);
	return ret;
}

static int check_required(const parser *p, const manifest *m, yaml_node_t *root)
{
	if (m->format > MANIFEST_FORMAT)
		return perr(p, root, "format", "format %lld is newer than this mlctl reads (%d)",
			    (long long)m->format, MANIFEST_FORMAT);
	if (!m->name)
		return perr(p, root, "name", "missing");
	if (!m->version)
		return perr(p, root, "version", "missing");
	if (!m->model.type)
		return perr(p, root, "model.type", "missing");
	return 0;
}

int manifest_parse(manifest **out, const char *yaml, size_t len, const char *origin)
{
	yaml_parser_t yp;
	yaml_document_t doc;
	parser p = { &doc, origin ? origin : "MANIFEST.yaml" };
	yaml_node_t *root;
	manifest *m = NULL;
	int ret;

	*out = NULL;
	if (!yaml_parser_initialize(&yp))
		return mlctl_error_oom();
	yaml_parser_set_input_string(&yp, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&yp, &doc)) {
		ret = mlctl_error_set(MLCTL_EDATA, "%s:%zu:%zu: %s%s%s", p.origin, yp.problem_mark.line + 1,
				      yp.problem_mark.column + 1, yp.problem ? yp.problem : "not YAML",
				      yp.context ? " " : "", yp.context ? yp.context : "");
		yaml_parser_delete(&yp);
		return ret;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		ret = mlctl_error_set(MLCTL_EDATA, "%s: an empty manifest", p.origin);
		goto out;
	}
	if (!(m = manifest_new())) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	m->format = 0;
	if ((ret = want(&p, root, YAML_MAPPING_NODE, "manifest")) || (ret = refuse_aliases(&p)) ||
	    (ret = each_pair(&p, root, "", top_pair, m)))
		goto out;
	if (!m->format) {
		ret = perr(&p, root, "format", "missing");
		goto out;
	}
	if ((ret = check_required(&p, m, root)))
		goto out;
	*out = m;
	m = NULL;
out:
	manifest_free(m);
	yaml_document_delete(&doc);
	yaml_parser_delete(&yp);
	return ret;
}
