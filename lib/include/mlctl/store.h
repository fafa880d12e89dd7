/*
 * mlctl/store.h — the content-addressed artifact store under <registry>/objects/: every
 * object is named by the SHA-256 of its content, written once (temp file, fsync, rename)
 * and never changed; identical content is stored once. And garbage collection.
 * Implemented in lib/store.c.
 */
#ifndef MLCTL_STORE_H
#define MLCTL_STORE_H

#include "common.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Store a buffer; out receives its digest (64 hex characters and a NUL). An object that
 * is there already is kept (its mtime refreshed). The put takes the shared store lock on
 * reg (see mlctl_store_hold()), which protects the object from gc until the caller
 * releases it after committing a reference to it.
 */
int mlctl_store_put(char out[65], mlctl_registry *reg, const void *data, size_t len,
		    const char *media_type);
/* Store a file's content, read once: the bytes are hashed as they are copied, so the
 * object is named by what was stored even if the file changes meanwhile. Takes the store
 * lock as mlctl_store_put() does. */
int mlctl_store_put_file(char out[65], mlctl_registry *reg, const char *path, const char *media_type);

/*
 * The store lock (<registry>/objects/.lock). A writer holds it shared from before its
 * first put until the references to what it stored (lineage, model version, deployment)
 * are committed; gc holds it exclusively, so it never sees an object whose reference is
 * still to come. mlctl_store_hold() takes it on reg (a no-op when held; puts call it),
 * waiting for a running gc (MLCTL_ELOCKED after 10 minutes); mlctl_store_release() drops
 * it, as mlctl_registry_free() does at the latest. Take it before beginning a
 * transaction (mlctl_registry_begin()), not inside one.
 */
int mlctl_store_hold(mlctl_registry *reg);
void mlctl_store_release(mlctl_registry *reg);
/* Read an object into a fresh buffer (NUL-terminated; len excludes the NUL), checking its
 * digest: MLCTL_ECORRUPT when the file no longer matches its name. */
int mlctl_store_get(char **out, size_t *len, mlctl_registry *reg, const char *digest);
/* The path of an object's file (fresh string); it may not exist. */
char *mlctl_store_path(mlctl_registry *reg, const char *digest);
/* True when the object's file is in the store (its content is not checked). */
bool mlctl_store_has(mlctl_registry *reg, const char *digest);

typedef struct mlctl_gc_options {
	bool dry_run;
	int64_t grace_seconds;   /* keep unreferenced objects younger than this (default 3600) */
} mlctl_gc_options;
#define MLCTL_GC_OPTIONS_INIT { false, 3600 }

typedef struct mlctl_gc_result {
	size_t objects;          /* objects examined */
	size_t referenced;       /* kept: referenced by a run, model version or deployment */
	size_t young;            /* kept: unreferenced but within the grace period */
	size_t removed;          /* removed (or that would be, with dry_run) */
	uint64_t bytes_removed;
	size_t missing;          /* recorded in the registry but already gone from disk */
	size_t ndigests;
	char **digests;          /* the removed digests */
} mlctl_gc_result;

/*
 * Remove objects that nothing in the registry references: not the lineage of any run, not
 * a model version's model, preprocessing or profile (so nothing aliased), not a deployed
 * package. Stray temp files older than the grace period go too (grace 0: no grace).
 * Files already missing are tolerated; the rows of unreferenced ones are forgotten.
 * Unless dry_run, gc holds the store lock exclusively for its whole pass (giving up
 * reg's own shared hold first: commit what references reg's puts before calling it),
 * so it waits for writers between a put and its reference, and MLCTL_ELOCKED after two
 * minutes of them. Files are removed first, their rows after in one transaction.
 * A dry run takes no lock and writes nothing, so it also works on a read-only registry.
 */
int mlctl_gc(mlctl_gc_result **out, mlctl_registry *reg, const mlctl_gc_options *opts);
/* Free a result of mlctl_gc(); NULL is fine. */
void mlctl_gc_result_free(mlctl_gc_result *r);

#ifdef __cplusplus
}
#endif

#endif
