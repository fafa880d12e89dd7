/*
 * mlctl/package.h — packages (.mlpkg): a deterministic, tar-readable gzip archive of a
 * model version with its manifest, optionally signed in minisign's format; verification;
 * and Ed25519 key generation. Implemented in lib/package.c, which reads packages through
 * lib/pkgread.c.
 */
#ifndef MLCTL_PACKAGE_H
#define MLCTL_PACKAGE_H

#include "common.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlctl_package_options {
	const char *model;        /* model reference (required) */
	const char *output;       /* NULL: "<name>-<version>.mlpkg" in the working directory */
	const char *sign_key;     /* secret key file, or NULL */
	int argc;
	char *const *argv;
} mlctl_package_options;

typedef struct mlctl_package_result {
	char *path;
	char *signature;          /* "<path>.minisig" or NULL */
	char *model;              /* "churn:3" */
	char digest[65];          /* SHA-256 of the package file */
	uint64_t size;
	char run[MLCTL_RUN_ID_SIZE];
} mlctl_package_result;

/* Write the package of a model version (and store it in the registry's store). The file's
 * bytes depend only on the version: entry times are the version's creation time, or
 * $SOURCE_DATE_EPOCH when set. */
int mlctl_package(mlctl_package_result **out, mlctl_registry *reg, const mlctl_package_options *opts);
/* Free a result of mlctl_package(); NULL is fine. */
void mlctl_package_result_free(mlctl_package_result *r);

/* What verify and inspect report about a package. */
typedef struct mlctl_package_info {
	char *path;
	char digest[65];
	char *name;
	int version;
	char *manifest;           /* MANIFEST.yaml text */
	size_t nfiles;
	char **files;             /* entry names */
	bool signature_checked;
	char *trusted_comment;    /* from the signature, when checked */
} mlctl_package_info;

/*
 * Read and check a package: archive safety, every file against the manifest's digest and
 * size, and with pubkey the signature in sig (NULL: "<path>.minisig"). MLCTL_EVERDICT
 * naming what does not match; MLCTL_EDATA when it is not a package at all.
 */
int mlctl_package_verify(mlctl_package_info **out, const char *path, const char *pubkey, const char *sig);
/* Free a result of mlctl_package_verify(); NULL is fine. */
void mlctl_package_info_free(mlctl_package_info *i);

/* Write an Ed25519 key pair in minisign's formats (secret key mode 0600). */
int mlctl_keygen(const char *pubkey_path, const char *seckey_path);

#ifdef __cplusplus
}
#endif

#endif
