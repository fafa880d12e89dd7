/*
 * manifest.h — MANIFEST.yaml, the description a package carries of itself (floor 2): what
 * model it holds, how it was trained and validated, and the SHA-256 and size of every
 * other file in the package. Written deterministically (fixed key order, sorted maps and
 * files) with libyaml; parsed strictly on types, leniently on unknown keys so that an
 * older mlctl can read a newer manifest that only adds fields.
 */
#ifndef MLCTL_MANIFEST_H
#define MLCTL_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define MANIFEST_FORMAT 1

typedef struct manifest_kv {            /* string → string */
	char *key;
	char *value;
} manifest_kv;

typedef struct manifest_metric {        /* string → number */
	char *key;
	double value;
} manifest_metric;

typedef struct manifest_validation {
	char *run;                      /* id of the validation run */
	char *verdict;                  /* "pass", "fail", ... */
	size_t nmetrics;
	manifest_metric *metrics;
} manifest_validation;

typedef struct manifest_file {
	char *path;                     /* "model/libsvm.model" */
	char sha256[MLCTL_DIGEST_HEX];
	uint64_t size;
} manifest_file;

typedef struct manifest_model {
	char *type;                     /* "c_svc", "epsilon_svr", ... (required) */
	char *kernel;                   /* "rbf", "linear", ... */
	int64_t nr_class;
	size_t nclasses;
	char **classes;                 /* class names, in the model's label order */
	char *label;                    /* name of the label column */
	size_t nparams;
	manifest_kv *params;            /* training parameters, as text */
	size_t nmetrics;
	manifest_metric *metrics;       /* training/cross-validation metrics */
} manifest_model;

typedef struct manifest_lineage {
	char *train_run;                /* id of the run that trained the model */
	char *dataset_digest;           /* SHA-256 of the training data */
	char *dataset_path;
	int64_t dataset_rows;           /* -1 when unknown */
	int64_t dataset_columns;        /* -1 when unknown */
} manifest_lineage;

typedef struct manifest {
	int64_t format;                 /* MANIFEST_FORMAT */
	char *name;                     /* model name (required) */
	int64_t version;                /* model version number (required, >= 1) */
	char *created;                  /* when the model version was created (ISO 8601), not now */
	char *mlctl_version;            /* mlctl that made the package */
	manifest_model model;
	size_t nvalidations;
	manifest_validation *validations;
	manifest_lineage lineage;
	size_t nfiles;
	manifest_file *files;
} manifest;

/* A fresh empty manifest (format 1, unknown counts -1); NULL (last error set) on failure. */
manifest *manifest_new(void);
void manifest_free(manifest *m);

/* Builders: copy their arguments; 0 or MLCTL_ENOMEM. */
int manifest_set_str(char **field, const char *value);
int manifest_add_class(manifest *m, const char *name);
int manifest_add_param(manifest *m, const char *key, const char *value);
int manifest_add_metric(manifest_metric **metrics, size_t *n, const char *key, double value);
/* Append a validation; *out (may be NULL) points at it until the next append. */
int manifest_add_validation(manifest *m, const char *run, const char *verdict, manifest_validation **out);
/* sha256 must be 64 lowercase hex characters (MLCTL_EUSAGE otherwise). */
int manifest_add_file(manifest *m, const char *path, const char *sha256, uint64_t size);

/* Lookups (borrowed pointers, NULL when absent). */
const manifest_file *manifest_find_file(const manifest *m, const char *path);
const char *manifest_param(const manifest *m, const char *key);
const manifest_metric *manifest_metric_find(const manifest_metric *metrics, size_t n, const char *key);

/*
 * The YAML text of m in a fixed key order, params/metrics sorted by key and files by
 * path: the same manifest always gives the same bytes. *yaml is the caller's (free()).
 * MLCTL_EUSAGE when a required field (name, version, model.type) is missing.
 */
int manifest_write(char **yaml, size_t *len, const manifest *m);

/*
 * Parse yaml[0..len). Types are checked strictly and errors name
 * "origin:LINE:COLUMN: field: why" (MLCTL_EDATA); unknown keys are ignored, duplicate keys
 * and YAML aliases are refused. A format newer than MANIFEST_FORMAT is refused.
 */
int manifest_parse(manifest **out, const char *yaml, size_t len, const char *origin);

#endif
