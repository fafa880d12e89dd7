/*
 * registry_int.h — what other lib/ modules of the same floor (store, gc) need from the
 * registry: its SQLite handle and small statement helpers (floor 2). Not part of the
 * public API.
 */
#ifndef MLCTL_REGISTRY_INT_H
#define MLCTL_REGISTRY_INT_H

#include <sqlite3.h>

#include "mlctl/registry.h"

sqlite3 *registry_db(mlctl_registry *reg);

/* The descriptor of the shared store lock this handle holds (-1: none); store.c takes and
 * releases it, mlctl_registry_free() releases it. */
int *registry_store_lock_fd(mlctl_registry *reg);

/* Map a SQLite failure to an mlctl error, copying sqlite3_errmsg() at once. */
int registry_error(mlctl_registry *reg, int rc, const char *what);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK, nesting (see mlctl_registry_begin()). */
int registry_begin(mlctl_registry *reg);
int registry_commit(mlctl_registry *reg);
void registry_rollback(mlctl_registry *reg);

/*
 * Prepare sql and bind the arguments described by types, one letter each: 's' text
 * (const char *, NULL binds NULL), 'i' int64_t, 'd' double. *out is the statement.
 */
int registry_prepare(sqlite3_stmt **out, mlctl_registry *reg, const char *sql, const char *types, ...);
/* Prepare, bind, step to completion, finalize: for statements without results. */
int registry_exec(mlctl_registry *reg, const char *sql, const char *types, ...);

/* Column text as a fresh string (NULL for SQL NULL); sets the last error on OOM. */
char *registry_col_str(sqlite3_stmt *st, int col);

#endif
