/*
 * ymlio.h — small helpers over libyaml for the YAML files of floor 2 (floor 2)
 * (preprocess.yaml, profile.yaml): an event writer with a sticky error, and a document
 * reader whose errors name the origin and the line.
 */
#ifndef MLCTL_YMLIO_H
#define MLCTL_YMLIO_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "util.h"

typedef struct ymlw {
	yaml_emitter_t em;
	strbuf out;
	int err;
	bool init;
} ymlw;

/* Start a stream with one document; every call after a failure does nothing. */
int ymlw_begin(ymlw *w);
/* Close the document and hand the text to the caller; frees the writer either way. */
int ymlw_finish(ymlw *w, char **out, size_t *len);
void ymlw_map(ymlw *w);
void ymlw_map_end(ymlw *w);
void ymlw_seq(ymlw *w, bool flow);
void ymlw_seq_end(ymlw *w);
void ymlw_plain(ymlw *w, const char *s);   /* keys and enumerated words */
void ymlw_str(ymlw *w, const char *s);     /* any text: double-quoted, never retyped */
void ymlw_num(ymlw *w, double v);          /* round-trip exact */
void ymlw_size(ymlw *w, size_t v);
void ymlw_kstr(ymlw *w, const char *key, const char *s);
void ymlw_kplain(ymlw *w, const char *key, const char *s);
void ymlw_knum(ymlw *w, const char *key, double v);
void ymlw_ksize(ymlw *w, const char *key, size_t v);

typedef struct ymlr {
	yaml_document_t doc;
	const char *origin;
	bool loaded;
} ymlr;

/* Parse yaml[0..len) as one document; MLCTL_EDATA "origin:line: ..." when malformed. */
int ymlr_load(ymlr *r, const char *yaml, size_t len, const char *origin);
void ymlr_free(ymlr *r);
yaml_node_t *ymlr_root(ymlr *r);
/* MLCTL_EDATA "origin:line: <message>" at node n (line 1 when n is NULL). */
int ymlr_error(ymlr *r, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Mapping lookup: NULL when absent (or map is not a mapping). */
yaml_node_t *ymlr_get(ymlr *r, yaml_node_t *map, const char *key);
/* Typed lookups of a required key of map; errors name the key and line. */
int ymlr_map(ymlr *r, yaml_node_t *n, const char *what);
int ymlr_kstr(ymlr *r, yaml_node_t *map, const char *key, const char **out);
int ymlr_knum(ymlr *r, yaml_node_t *map, const char *key, double *out);
int ymlr_ksize(ymlr *r, yaml_node_t *map, const char *key, size_t *out);
/* A required sequence under key: its node; items with ymlr_item(). */
int ymlr_kseq(ymlr *r, yaml_node_t *map, const char *key, yaml_node_t **out);
size_t ymlr_len(const yaml_node_t *seq);
yaml_node_t *ymlr_item(ymlr *r, yaml_node_t *seq, size_t i);
/* The text of a scalar node, or an error. */
int ymlr_scalar(ymlr *r, yaml_node_t *n, const char *what, const char **out);
int ymlr_num(ymlr *r, yaml_node_t *n, const char *what, double *out);

#endif
