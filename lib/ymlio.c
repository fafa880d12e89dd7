/*
 * ymlio.c — libyaml event writing and document reading for the YAML files of floor 2
 * (floor 2).
 * Text values are written double-quoted so that no reader retypes a category "no" or a
 * class "1"; numbers are written with mlctl_fmt_double so that they read back exactly.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "ymlio.h"
#include "banned.h"

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	ymlw *w = data;

	return strbuf_add(&w->out, buffer, size) == 0;
}

/* Emit ev, made by a yaml_*_event_initialize() that returned made. Once the writer has
 * failed, later events are deleted unsent (an initialised scalar holds copies of its
 * text); an event handed to yaml_emitter_emit() is the emitter's, on success or failure,
 * and an initialiser that failed has freed what it copied. */
static void emit(ymlw *w, yaml_event_t *ev, bool made)
{
	if (w->err) {
		if (made)
			yaml_event_delete(ev);
		return;
	}
	if (!made) {
		w->err = mlctl_error_set(MLCTL_EDATA, "cannot write YAML: invalid text (not UTF-8?)");
		return;
	}
	if (!yaml_emitter_emit(&w->em, ev))
		w->err = mlctl_error_set(MLCTL_ERROR, "cannot write YAML: %s",
					 w->em.problem ? w->em.problem : "emitter error");
}

int ymlw_begin(ymlw *w)
{
	yaml_event_t ev;

	memset(w, 0, sizeof(*w));
	if (!yaml_emitter_initialize(&w->em))
		return w->err = mlctl_error_oom();
	w->init = true;
	yaml_emitter_set_output(&w->em, write_handler, w);
	yaml_emitter_set_unicode(&w->em, 1);
	yaml_emitter_set_width(&w->em, 100);
	emit(w, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(w, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	return w->err;
}

int ymlw_finish(ymlw *w, char **out, size_t *len)
{
	yaml_event_t ev;
	int ret;

	emit(w, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(w, &ev, yaml_stream_end_event_initialize(&ev));
	if (!w->err && !yaml_emitter_flush(&w->em))
		w->err = mlctl_error_set(MLCTL_ERROR, "cannot write YAML");
	ret = w->err;
	if (w->init)
		yaml_emitter_delete(&w->em);
	if (ret) {
		strbuf_release(&w->out);
		return ret;
	}
	*out = strbuf_detach(&w->out, len);
	return 0;
}

void ymlw_map(ymlw *w)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
}

void ymlw_map_end(ymlw *w)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_mapping_end_event_initialize(&ev));
}

void ymlw_seq(ymlw *w, bool flow)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE));
}

void ymlw_seq_end(ymlw *w)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_sequence_end_event_initialize(&ev));
}

static void scalar(ymlw *w, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t)s,
						  (int)strlen(s), 1, 1, style));
}

void ymlw_plain(ymlw *w, const char *s)
{
	scalar(w, s, YAML_PLAIN_SCALAR_STYLE);
}

void ymlw_str(ymlw *w, const char *s)
{
	scalar(w, s, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

void ymlw_num(ymlw *w, double v)
{
	char buf[32];

	scalar(w, mlctl_fmt_double(buf, v), YAML_PLAIN_SCALAR_STYLE);
}

void ymlw_size(ymlw *w, size_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%zu", v);
	scalar(w, buf, YAML_PLAIN_SCALAR_STYLE);
}

void ymlw_kstr(ymlw *w, const char *key, const char *s)
{
	ymlw_plain(w, key);
	ymlw_str(w, s);
}

void ymlw_kplain(ymlw *w, const char *key, const char *s)
{
	ymlw_plain(w, key);
	ymlw_plain(w, s);
}

void ymlw_knum(ymlw *w, const char *key, double v)
{
	ymlw_plain(w, key);
	ymlw_num(w, v);
}

void ymlw_ksize(ymlw *w, const char *key, size_t v)
{
	ymlw_plain(w, key);
	ymlw_size(w, v);
}

/* ---- reading ------------------------------------------------------------------------ */

int ymlr_load(ymlr *r, const char *yaml, size_t len, const char *origin)
{
	yaml_parser_t parser;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	r->origin = origin;
	if (!yaml_parser_initialize(&parser))
		return mlctl_error_oom();
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &r->doc)) {
		ret = mlctl_error_set(MLCTL_EDATA, "%s:%zu: malformed YAML: %s%s%s", origin,
				      (size_t)parser.problem_mark.line + 1,
				      parser.problem ? parser.problem : "parse error",
				      parser.context ? " " : "", parser.context ? parser.context : "");
		goto out;
	}
	r->loaded = true;
	if (!yaml_document_get_root_node(&r->doc))
		ret = mlctl_error_set(MLCTL_EDATA, "%s: empty YAML document", origin);
out:
	yaml_parser_delete(&parser);
	return ret;
}

void ymlr_free(ymlr *r)
{
	if (r->loaded)
		yaml_document_delete(&r->doc);
	r->loaded = false;
}

yaml_node_t *ymlr_root(ymlr *r)
{
	return yaml_document_get_root_node(&r->doc);
}

int ymlr_error(ymlr *r, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mlctl_error_set(MLCTL_EDATA, "%s:%zu: %s", r->origin,
			       n ? (size_t)n->start_mark.line + 1 : (size_t)1, msg);
}

yaml_node_t *ymlr_get(ymlr *r, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&r->doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == strlen(key) &&
		    !memcmp(k->data.scalar.value, key, k->data.scalar.length))
			return yaml_document_get_node(&r->doc, p->value);
	}
	return NULL;
}

int ymlr_map(ymlr *r, yaml_node_t *n, const char *what)
{
	if (!n || n->type != YAML_MAPPING_NODE)
		return ymlr_error(r, n, "expected %s as a mapping", what);
	return 0;
}

int ymlr_scalar(ymlr *r, yaml_node_t *n, const char *what, const char **out)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return ymlr_error(r, n, "expected %s as a single value", what);
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return ymlr_error(r, n, "%s contains a NUL character", what);
	*out = (const char *)n->data.scalar.value;
	return 0;
}

int ymlr_num(ymlr *r, yaml_node_t *n, const char *what, double *out)
{
	const char *s;
	int ret = ymlr_scalar(r, n, what, &s);

	if (ret)
		return ret;
	if (!mlctl_parse_double(s, out))
		return ymlr_error(r, n, "%s: \"%s\" is not a number", what, s);
	return 0;
}

static yaml_node_t *need(ymlr *r, yaml_node_t *map, const char *key, int *ret)
{
	yaml_node_t *n = ymlr_get(r, map, key);

	*ret = 0;
	if (!n)
		*ret = ymlr_error(r, map, "missing key \"%s\"", key);
	return n;
}

int ymlr_kstr(ymlr *r, yaml_node_t *map, const char *key, const char **out)
{
	int ret;
	yaml_node_t *n = need(r, map, key, &ret);

	return ret ? ret : ymlr_scalar(r, n, key, out);
}

int ymlr_knum(ymlr *r, yaml_node_t *map, const char *key, double *out)
{
	int ret;
	yaml_node_t *n = need(r, map, key, &ret);

	return ret ? ret : ymlr_num(r, n, key, out);
}

int ymlr_ksize(ymlr *r, yaml_node_t *map, const char *key, size_t *out)
{
	const char *s;
	int64_t v;
	int ret = ymlr_kstr(r, map, key, &s);

	if (ret)
		return ret;
	if (!mlctl_parse_int64(s, 0, INT64_MAX, &v))
		return ymlr_error(r, ymlr_get(r, map, key), "%s: \"%s\" is not a count", key, s);
	*out = (size_t)v;
	return 0;
}

int ymlr_kseq(ymlr *r, yaml_node_t *map, const char *key, yaml_node_t **out)
{
	int ret;
	yaml_node_t *n = need(r, map, key, &ret);

	if (ret)
		return ret;
	if (n->type != YAML_SEQUENCE_NODE)
		return ymlr_error(r, n, "expected %s as a list", key);
	*out = n;
	return 0;
}

size_t ymlr_len(const yaml_node_t *seq)
{
	return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *ymlr_item(ymlr *r, yaml_node_t *seq, size_t i)
{
	return yaml_document_get_node(&r->doc, seq->data.sequence.items.start[i]);
}
