/*
 * mlctl/registry.h — the registry: runs with params, metrics, tags and lineage; datasets;
 * models, versions and aliases (with the history of every alias move); targets and
 * deployments. SQLite in WAL mode; every write is one short BEGIN IMMEDIATE transaction,
 * so many processes can share one registry. Implemented in lib/registry.c (opening,
 * transactions, runs, datasets) and lib/registry_models.c (models, versions, aliases,
 * targets and deployments).
 */
#ifndef MLCTL_REGISTRY_H
#define MLCTL_REGISTRY_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schema version this library writes (PRAGMA user_version). */
#define MLCTL_REGISTRY_SCHEMA 2

/* A run id: a ULID (26 Crockford base32 characters, sortable by time) and a NUL. */
#define MLCTL_RUN_ID_SIZE 27

typedef struct mlctl_registry mlctl_registry;

/*
 * Create a registry in dir (the .mlctl directory itself: "proj/.mlctl"), with its
 * database, object store and targets directory. An existing registry is left as it is
 * and MLCTL_EEXISTS returned.
 */
int mlctl_registry_init(const char *dir);

/*
 * Find the registry directory: explicit (from --registry) if not NULL, else
 * $MLCTL_REGISTRY, else the nearest ".mlctl" directory from the working directory
 * upwards. *out is a fresh string. MLCTL_ENOREGISTRY (with a message naming `mlctl init`)
 * when there is none.
 */
int mlctl_registry_discover(char **out, const char *explicit_dir);

/*
 * Open the registry in dir, applying pending migrations. MLCTL_ECORRUPT when the database
 * is not an mlctl registry or is damaged; MLCTL_ECONFIG when it was written by a newer
 * mlctl. Free with mlctl_registry_free().
 */
int mlctl_registry_open(mlctl_registry **out, const char *dir);
/* Close the registry, releasing the store lock if reg holds it; NULL is fine. */
void mlctl_registry_free(mlctl_registry *reg);

typedef enum {
	MLCTL_REGISTRY_READWRITE = 0,          /* what mlctl_registry_open() does */
	MLCTL_REGISTRY_READONLY,               /* SQLITE_OPEN_READONLY: never writes, not even -wal */
	MLCTL_REGISTRY_READWRITE_OR_READONLY   /* read-only when the registry cannot be written */
} mlctl_registry_mode;

/*
 * Open the registry in dir in a mode. Read-only works on a read-only file system (a
 * registry mounted read-only on a scoring host): there, a write fails with MLCTL_EIO
 * saying the registry is read-only, and a registry of an older schema, which cannot be
 * migrated, is refused with MLCTL_ECONFIG. MLCTL_REGISTRY_READWRITE on a registry that
 * cannot be written fails at once with MLCTL_EIO.
 */
int mlctl_registry_open_mode(mlctl_registry **out, const char *dir, mlctl_registry_mode mode);

/* True when reg was opened read-only (asked for, or fallen back to). */
bool mlctl_registry_readonly(const mlctl_registry *reg);

/*
 * Group writes into one transaction (BEGIN IMMEDIATE): every registry write made through
 * reg until mlctl_registry_commit() joins it, the library's own transactions included, so
 * a reader sees all of them or none, and a process killed before the commit leaves none.
 * Calls nest; only the outermost commit writes. After a failed step, call
 * mlctl_registry_rollback(); a commit after an inner step rolled back rolls back too and
 * fails. Take the store lock (mlctl_store_hold(), or a put) before beginning, never
 * inside: gc takes the store lock first and the database second.
 */
int mlctl_registry_begin(mlctl_registry *reg);
int mlctl_registry_commit(mlctl_registry *reg);
void mlctl_registry_rollback(mlctl_registry *reg);

/* The registry directory (borrowed). */
const char *mlctl_registry_path(const mlctl_registry *reg);

/* Run PRAGMA integrity_check; MLCTL_ECORRUPT with SQLite's first complaint if it fails. */
int mlctl_registry_check(mlctl_registry *reg);

/* ---- runs ---- */

typedef enum {
	MLCTL_RUN_RUNNING = 0,
	MLCTL_RUN_SUCCEEDED,
	MLCTL_RUN_FAILED,
	MLCTL_RUN_STALE          /* recorded as running but its process is gone */
} mlctl_run_status;

/* The status as the registry stores it: "running", "succeeded", "failed", "stale". */
const char *mlctl_run_status_name(mlctl_run_status s);

typedef struct mlctl_kv {
	char *key;
	char *value;
} mlctl_kv;

typedef struct mlctl_metric {
	char *key;
	double value;
	int64_t step;
} mlctl_metric;

typedef struct mlctl_run_object {
	char *role;              /* "input" or "output" */
	char *name;              /* "data", "model", "preprocess", "profile", "package", ... */
	char digest[65];
	int64_t size;            /* -1 when the object is not in the objects table */
	char *media_type;
	/* When the digest is a recorded data set (a run's input data): */
	char *dataset_path;      /* NULL otherwise */
	char *dataset_format;
	int64_t dataset_rows, dataset_columns;
} mlctl_run_object;

typedef struct mlctl_run {
	char id[MLCTL_RUN_ID_SIZE];
	char *kind;              /* train, validate, predict, deploy, monitor, import, ... */
	char *name;
	char *parent;            /* parent run id or NULL */
	mlctl_run_status status;
	int64_t started_ms, ended_ms;   /* ended_ms 0 while running */
	char *user, *host;
	int pid;
	char *argv;              /* the command line, space-separated */
	char *version;           /* mlctl version that wrote it */
	char *error;             /* why it failed, or NULL */
	char *model_name;        /* the model version it produced or used, or NULL */
	int model_version;
	char *verdict;           /* "pass" / "fail" for validations and monitors, or NULL */
	/* filled by mlctl_run_get() only: */
	size_t nparams, nmetrics, ntags, nobjects, nchildren;
	mlctl_kv *params;
	mlctl_metric *metrics;   /* every step, ordered by key then step */
	mlctl_kv *tags;
	mlctl_run_object *objects;
} mlctl_run;

typedef struct mlctl_run_start_options {
	const char *kind;        /* required */
	const char *name;
	const char *parent;      /* parent run id (child runs of a tuning grid) */
	int argc;
	char *const *argv;
} mlctl_run_start_options;
#define MLCTL_RUN_START_OPTIONS_INIT { NULL, NULL, NULL, 0, NULL }

/* Record a new running run owned by this process; out receives its id. */
int mlctl_run_start(char out[MLCTL_RUN_ID_SIZE], mlctl_registry *reg,
		    const mlctl_run_start_options *opts);
/*
 * Runs started through reg from now on without a parent of their own get parent (a
 * pipeline run for its stages; NULL stops it). mlctl_registry_adopted_run() gives the first
 * run that took it since the call (the stage's own run, not the ones it started under it),
 * or NULL.
 */
int mlctl_registry_adopt_runs(mlctl_registry *reg, const char *parent);
const char *mlctl_registry_adopted_run(const mlctl_registry *reg);
/* Params, metrics and tags: each call is one transaction, whatever n is. */
int mlctl_run_log_params(mlctl_registry *reg, const char *run, const mlctl_kv *kv, size_t n);
int mlctl_run_log_param(mlctl_registry *reg, const char *run, const char *key, const char *value);
int mlctl_run_log_metrics(mlctl_registry *reg, const char *run, const mlctl_metric *m, size_t n);
int mlctl_run_log_metric(mlctl_registry *reg, const char *run, const char *key, double value,
			 int64_t step);
int mlctl_run_set_tag(mlctl_registry *reg, const char *run, const char *key, const char *value);
/* Lineage: the run read (role "input") or wrote ("output") the stored object digest. */
int mlctl_run_log_object(mlctl_registry *reg, const char *run, const char *role, const char *name,
			 const char *digest);
/* Link the run to a model version (what it produced, validated or scored). */
int mlctl_run_set_model(mlctl_registry *reg, const char *run, const char *name, int version);
/* Set the verdict ("pass"/"fail") of a validation or monitoring run. */
int mlctl_run_set_verdict(mlctl_registry *reg, const char *run, const char *verdict);
/* Close the run: succeeded when error is NULL, else failed with that message. */
int mlctl_run_finish(mlctl_registry *reg, const char *run, const char *error);

/* Close the run as failed with the calling thread's last error as its message, and leave
 * that error in place for the caller (recording may not overwrite it). Returns code. */
int mlctl_run_fail(mlctl_registry *reg, const char *run, int code);

/* Resolve a unique id prefix (case-insensitive) to a full id. MLCTL_ENOTFOUND or
 * MLCTL_EAMBIGUOUS (listing candidates) otherwise. */
int mlctl_run_resolve(char out[MLCTL_RUN_ID_SIZE], mlctl_registry *reg, const char *prefix);

/* The newest run with tag key = value (and status succeeded, when succeeded); out
 * receives its id. MLCTL_ENOTFOUND when there is none. */
int mlctl_run_find_tag(char out[MLCTL_RUN_ID_SIZE], mlctl_registry *reg, const char *key,
		       const char *value, bool succeeded);

/* A run with all its params, metrics, tags and objects. */
int mlctl_run_get(mlctl_run **out, mlctl_registry *reg, const char *id_or_prefix);

typedef struct mlctl_run_filter {
	const char *kind;        /* NULL: any */
	const char *name;
	const char *model_name;
	const char *parent;      /* children of this run; NULL: top-level and children alike */
	bool top_level;          /* only runs without a parent */
	size_t limit;            /* 0: no limit */
} mlctl_run_filter;
#define MLCTL_RUN_FILTER_INIT { NULL, NULL, NULL, NULL, false, 0 }

typedef struct mlctl_run_list {
	size_t n;
	mlctl_run **runs;        /* newest first; params/metrics not filled */
} mlctl_run_list;

/*
 * The runs that match every filter set in f, newest first, at most f->limit of them. Their
 * params, metrics, tags and objects are not filled (mlctl_run_get() for one run's).
 * *out is the caller's (mlctl_run_list_free()).
 */
int mlctl_run_list_get(mlctl_run_list **out, mlctl_registry *reg, const mlctl_run_filter *f);
/* Free a run list with its runs, or one run; NULL is fine. */
void mlctl_run_list_free(mlctl_run_list *l);
void mlctl_run_free(mlctl_run *run);

/* The latest value (highest step) of a metric in a run filled by mlctl_run_get(). */
bool mlctl_run_metric(const mlctl_run *run, const char *key, double *out);
/* A param or tag value, or NULL (borrowed). */
const char *mlctl_run_param(const mlctl_run *run, const char *key);
const char *mlctl_run_tag(const mlctl_run *run, const char *key);

/* ---- datasets ---- */

/* Record the data set with content digest (read from path, its format, rows and columns);
 * a digest recorded before keeps its record and takes the new path. */
int mlctl_dataset_record(mlctl_registry *reg, const char *digest, const char *path,
			 const char *format, int64_t rows, int64_t columns);

/* ---- models ---- */

typedef struct mlctl_model_version {
	char *name;
	int version;
	char run[MLCTL_RUN_ID_SIZE];   /* the run that produced it */
	char model_digest[65];         /* libsvm model text */
	char preprocess_digest[65];    /* preprocess.yaml */
	char profile_digest[65];       /* reference profile.yaml ("" when none) */
	char *svm_type;
	char *kernel;
	int64_t created_ms;
	char *user;
	size_t naliases;
	char **aliases;                /* aliases pointing at this version */
} mlctl_model_version;

/* True when name is a valid model (or target/alias) name: [A-Za-z0-9][A-Za-z0-9._-]*. */
bool mlctl_name_valid(const char *name);

/* Register the next version of spec->name (created if new); spec->version is ignored and
 * the new version is returned in *out_version. */
int mlctl_model_register(int *out_version, mlctl_registry *reg, const mlctl_model_version *spec);

/* Register spec->version exactly (a version learned from a package made elsewhere).
 * MLCTL_EEXISTS when that version exists already; MLCTL_EUSAGE when it is below 1. */
int mlctl_model_register_as(mlctl_registry *reg, const mlctl_model_version *spec);

/*
 * Resolve a model reference: "churn" (latest version), "churn:3", "churn@production"
 * (alias), "run/01J…" (the version a run produced). MLCTL_ENOTFOUND naming what is
 * missing.
 */
int mlctl_model_resolve(mlctl_model_version **out, mlctl_registry *reg, const char *ref);
/* True when ref has the form of a registry reference rather than a file path. */
bool mlctl_model_ref_is_registry(const char *ref);

typedef struct mlctl_model_summary {
	char *name;
	int latest;
	int nversions;
	int64_t updated_ms;
	char *aliases;           /* "production=3, staging=4" */
} mlctl_model_summary;

typedef struct mlctl_model_list {
	size_t n;
	mlctl_model_summary *models;
} mlctl_model_list;

/* Every model, by name, with its latest version, version count and aliases. *out is the
 * caller's (mlctl_model_list_free(), NULL-safe). */
int mlctl_model_list_get(mlctl_model_list **out, mlctl_registry *reg);
void mlctl_model_list_free(mlctl_model_list *l);

/* All versions of a model, newest first. */
typedef struct mlctl_model_versions {
	size_t n;
	mlctl_model_version **v;
} mlctl_model_versions;
/* The versions of model name, newest first; *out is the caller's. */
int mlctl_model_versions_get(mlctl_model_versions **out, mlctl_registry *reg, const char *name);
/* Free a version list with its versions, or one version; NULL is fine. */
void mlctl_model_versions_free(mlctl_model_versions *l);
void mlctl_model_version_free(mlctl_model_version *v);

/* Point name@alias at version (moving it if it exists), recording who, when, from and to
 * and why in the alias history. */
int mlctl_alias_set(mlctl_registry *reg, const char *name, const char *alias, int version,
		    const char *reason);
/* Remove an alias (recorded in the history with to = 0). */
int mlctl_alias_delete(mlctl_registry *reg, const char *name, const char *alias);

typedef struct mlctl_alias_move {
	char *name, *alias;
	int from_version, to_version;  /* 0: none */
	char *user, *host, *reason;
	int64_t time_ms;
} mlctl_alias_move;

typedef struct mlctl_alias_history {
	size_t n;
	mlctl_alias_move *moves;       /* oldest first */
} mlctl_alias_history;

/* The moves of the aliases of name (alias NULL: all its aliases). */
int mlctl_alias_history_get(mlctl_alias_history **out, mlctl_registry *reg, const char *name,
			    const char *alias);
/* Free an alias history; NULL is fine. */
void mlctl_alias_history_free(mlctl_alias_history *h);

/* ---- targets and deployments ---- */

typedef struct mlctl_deployment {
	int64_t id;
	char *target;
	char *name;
	int version;
	char package_digest[65];
	char *release;           /* release directory name under the target */
	char *action;            /* "deploy" or "rollback" */
	char run[MLCTL_RUN_ID_SIZE];
	char *user, *host;
	int64_t time_ms;
} mlctl_deployment;

typedef struct mlctl_deployment_list {
	size_t n;
	mlctl_deployment *d;
} mlctl_deployment_list;

/* Create or update a target (path: its directory). */
int mlctl_target_set(mlctl_registry *reg, const char *name, const char *path);
/* The directory of a target (fresh string); MLCTL_ENOTFOUND if unknown. */
int mlctl_target_path(char **out, mlctl_registry *reg, const char *name);

/* Record a deployment (or rollback) of name:version to target and move the alias
 * name@target, in one transaction. d->id, time, user and host are filled in. */
int mlctl_deployment_record(mlctl_registry *reg, mlctl_deployment *d);
/* Deployments of one target (NULL: the latest of every target), newest first. */
int mlctl_deployment_list_get(mlctl_deployment_list **out, mlctl_registry *reg, const char *target);
/* Free a deployment list; NULL is fine. */
void mlctl_deployment_list_free(mlctl_deployment_list *l);

#ifdef __cplusplus
}
#endif

#endif
