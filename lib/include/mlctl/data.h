/*
 * mlctl/data.h — versioned data: data files stored whole (compressed) in the
 * content-addressed store under the digest train and validate record for them, listed
 * with the runs and model versions that used them, and written back byte for byte. And
 * the file digest cache: a file's SHA-256 remembered in the registry while its stat
 * (device, inode, size, mtime in ns) stays the same. Implemented in lib/data.c (the
 * compressed objects in lib/store.c).
 *
 * How data meets its runs: train (and validate, predict) record the digest of the data
 * they read as a run input, in the run's lineage (mlctl_run_log_object(), role "input",
 * name "data", or "test_data" for train's --test data), and train and validate a
 * data-set record (path, format, rows, columns). A stored data object has that same
 * digest, so a run, its model version and its data meet by digest; nothing else links
 * them. gc keeps every object a run's lineage names, so stored data lives as long as the
 * run that read it (longer than the rule "kept while its model version is aliased or
 * deployed" asks: gc never removes a model version's own objects either).
 */
#ifndef MLCTL_DATA_H
#define MLCTL_DATA_H

#include "common.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Put the exact bytes of the file at path into the store, deflated with zlib; out gets the
 * object's digest (the SHA-256 of the uncompressed bytes: the digest a run records for it,
 * 64 hex characters and a NUL). The file
 * is read once and streamed (never whole in memory) into a temp file renamed to its name,
 * so a killed process leaves no half object. The put takes the store lock on reg and keeps
 * it (see mlctl_store_hold()): commit what references the object, then
 * mlctl_store_release(). Data stored before is kept as it is.
 */
int mlctl_data_store(char out[65], mlctl_registry *reg, const char *path);

/*
 * The SHA-256 of the file at path into out (64 hex characters and a NUL), from the registry's cache
 * when the file's device, inode, size and mtime (ns) are those recorded for its absolute
 * path, else read (streaming) and recorded. A file changed within two seconds of being
 * hashed is hashed again at the next call (its mtime cannot tell a change in the same
 * clock tick). *hashed (may be NULL) says whether the file was read. On a read-only
 * registry the file is hashed and nothing recorded. MLCTL_ENOTFOUND when there is no such
 * file; a path that is not a regular file (a pipe) is hashed and not cached.
 */
int mlctl_file_digest(char out[65], mlctl_registry *reg, const char *path);
int mlctl_file_digest_ex(char out[65], bool *hashed, mlctl_registry *reg, const char *path);

/* A run that used a data set. */
typedef struct mlctl_data_use {
	char run[MLCTL_RUN_ID_SIZE];
	char *kind;              /* train, validate, predict, ... */
	char *role;              /* the lineage name: "data", "test_data" */
	char *status;            /* running, succeeded, failed */
	int64_t started_ms;
	char *model_name;        /* the model version it produced or used, or NULL */
	int model_version;
} mlctl_data_use;

typedef struct mlctl_data_info {
	char digest[65];
	char *path;              /* where it was last read from, or NULL (no data-set record) */
	char *format;            /* csv, tsv, libsvm, or NULL */
	int64_t rows, columns;   /* -1: not recorded */
	int64_t first_seen_ms;   /* 0: not recorded */
	bool stored;             /* its object is in the store */
	bool compressed;         /* ... compressed */
	int64_t size;            /* bytes of the data when stored (or recorded), else -1 */
	int64_t stored_size;     /* bytes of its object file, -1 when not stored */
	size_t nruns;            /* runs that used it */
	size_t nuses;            /* mlctl_data_get() only: the runs, oldest first */
	mlctl_data_use *uses;
} mlctl_data_info;

typedef struct mlctl_data_list {
	size_t n;
	mlctl_data_info **d;     /* newest first */
} mlctl_data_list;

/* Every data set the registry knows: recorded by train or validate, or read by a run. */
int mlctl_data_list_get(mlctl_data_list **out, mlctl_registry *reg);
/* One data set by digest or unique digest prefix, with the runs that used it.
 * MLCTL_ENOTFOUND, MLCTL_EAMBIGUOUS (naming the candidates), MLCTL_EUSAGE when not hex. */
int mlctl_data_get(mlctl_data_info **out, mlctl_registry *reg, const char *digest_prefix);
/*
 * Resolve what `mlctl data checkout` takes: a digest or unique prefix of a known data set,
 * or a model reference ("churn", "churn:3", "churn@production": that version's training
 * data, the "data" input of the run that produced it). MLCTL_ENOTFOUND otherwise.
 */
int mlctl_data_resolve(char out[65], mlctl_registry *reg, const char *ref);
/*
 * Write the stored data digest to path: decoded into a temp file beside it, verified
 * against the digest, then renamed (a damaged object leaves path as it was: MLCTL_ECORRUPT).
 * An existing file is refused with MLCTL_EEXISTS unless force; a pipe or a character
 * device is written to in place, as it streams (a damaged object is then
 * found at its end, after its bytes went out). MLCTL_ENOTFOUND when the
 * data is not stored. *size (may be NULL) gets the bytes written.
 */
int mlctl_data_checkout(mlctl_registry *reg, const char *digest, const char *path, bool force, uint64_t *size);

void mlctl_data_info_free(mlctl_data_info *d);
void mlctl_data_list_free(mlctl_data_list *l);

#ifdef __cplusplus
}
#endif

#endif
