/*
 * mlctl/deploy.h — deployment targets: a directory holding verified, extracted releases
 * and a "current" symlink switched atomically; rollback; status and history. Implemented
 * in lib/deploy.c (the deployment records themselves are registry.h's).
 */
#ifndef MLCTL_DEPLOY_H
#define MLCTL_DEPLOY_H

#include "common.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlctl_deploy_options {
	const char *model;            /* model reference or .mlpkg file (required for deploy) */
	const char *target;           /* target name (required) */
	const char *path;             /* target directory; default <registry>/targets/<target> */
	bool require_validated;       /* refuse a version without a passing validation */
	const char *pubkey;           /* check the package's signature with this key */
	int keep;                     /* releases to keep (0: default 5; current and previous always kept) */
	double wait;                  /* seconds to wait for the target lock (0: default 5;
					 * negative: do not wait, fail at once) */
	int argc;
	char *const *argv;
} mlctl_deploy_options;

typedef struct mlctl_deploy_result {
	char *target;
	char *path;                   /* target directory */
	char *model;                  /* "churn:3" */
	char *release;                /* release directory name */
	char *previous;               /* the release current pointed at before, or NULL */
	char package_digest[65];
	char run[MLCTL_RUN_ID_SIZE];
	size_t pruned;
	bool unchanged;               /* the release was current already */
} mlctl_deploy_result;

/*
 * Deploy opts->model (a registry reference, packaged on the fly, or a .mlpkg file, checked
 * against its manifest and, with opts->pubkey, its signature) to opts->target under the
 * target lock: extract it as a release, switch current to it, record the deployment and
 * move the alias NAME@TARGET, and prune old releases. A package made elsewhere teaches the
 * registry its version. Records a "deploy" run. *out is the caller's
 * (mlctl_deploy_result_free()); MLCTL_ELOCKED when another deploy holds the target.
 * A deploy refused by its checks (a model that does not resolve, a package that does not
 * read, a missing validation, a version that is another model here) creates no target:
 * neither its directory nor its registry row; only the failed run is recorded.
 */
int mlctl_deploy(mlctl_deploy_result **out, mlctl_registry *reg, const mlctl_deploy_options *opts);

/* Switch the target back to the release before the current one. MLCTL_EVERDICT when there
 * is none. */
int mlctl_deploy_rollback(mlctl_deploy_result **out, mlctl_registry *reg, const mlctl_deploy_options *opts);

/*
 * The release target's current link points at ("churn-3-1a2b3c…") in *out (the caller
 * frees it), or NULL when there is no link. Reads only: compare it with the latest
 * deployment (mlctl_deployment_list_get) to see a switch the registry has not recorded.
 * MLCTL_ENOTFOUND for an unknown target.
 */
int mlctl_deploy_current(char **out, mlctl_registry *reg, const char *target);

/*
 * Bring the registry in line with what target's current link points at (after a kill
 * between the switch and the record): takes the target lock (waiting up to 5 seconds,
 * then MLCTL_ELOCKED) and records a "reconcile" deployment when they differ. Deploy and
 * rollback do this themselves under their lock; `deploy status` never does.
 */
int mlctl_deploy_reconcile(mlctl_registry *reg, const char *target);

/* Free a result of mlctl_deploy() or mlctl_deploy_rollback(); NULL is fine. */
void mlctl_deploy_result_free(mlctl_deploy_result *r);

#ifdef __cplusplus
}
#endif

#endif
