/*
 * bundle.h — a model ready to use (floor 3): the libsvm model, the preprocessing schema and
 * the reference profile, with where they came from. Loaded from the registry (a model
 * version), from a deployed release directory, or from a .mlpkg package file; every file is
 * checked against its digest before it is used.
 */
#ifndef MLCTL_BUNDLE_H
#define MLCTL_BUNDLE_H

#include <libsvm/svm.h>

#include "mlctl/registry.h"
#include "profile.h"
#include "schema.h"

typedef struct mlctl_bundle {
	char *name;
	int version;
	char run[MLCTL_RUN_ID_SIZE];       /* the training run ("" when unknown) */
	char model_digest[65];
	char preprocess_digest[65];
	char profile_digest[65];           /* "" when there is no profile */
	char package_digest[65];           /* "" unless loaded from a package or release */
	char *source;                      /* "registry", a release directory or a package path */
	struct svm_model *model;
	mlctl_schema *schema;
	mlctl_profile *profile;            /* NULL when there is none */
	char *manifest;                    /* MANIFEST.yaml text for packages and releases */
} mlctl_bundle;

/* Load a registered model version from the store. */
int bundle_from_version(mlctl_bundle **out, mlctl_registry *reg, const mlctl_model_version *v);

/* Load from already-read texts (model, preprocess.yaml, profile.yaml or NULL). */
int bundle_from_texts(mlctl_bundle **out, const char *model, size_t mlen, const char *pre, size_t plen,
		      const char *prof, size_t flen, const char *origin);

/*
 * A bundle from a .mlpkg file (verified with pubkey when it is not NULL), or from an
 * extracted release directory (MANIFEST.yaml and the files it lists, each checked against
 * its digest; the package digest from its .package-sha256 when present), both read and
 * checked by pkgread.c. Each file is hashed once. *out is the caller's (bundle_free()).
 */
int bundle_from_package(mlctl_bundle **out, const char *path, const char *pubkey);
int bundle_from_dir(mlctl_bundle **out, const char *dir);

/*
 * Resolve what to score with: target (the release a deploy target's "current" points at:
 * the link is read once and every file is read from that release directory, so that a
 * concurrent deploy cannot mix two releases), else model: a .mlpkg package file (verified) or a registry reference. reg may be NULL
 * for package files.
 */
int bundle_resolve(mlctl_bundle **out, mlctl_registry *reg, const char *model, const char *target);

/* The release directory target dir's "current" names (dir/releases/NAME, a fresh string),
 * read once; MLCTL_ENOTFOUND when there is none, MLCTL_EDATA when current is not a release
 * link. target names the target in messages. */
int bundle_current_release(char **out, const char *dir, const char *target);

void bundle_free(mlctl_bundle *b);

#endif
