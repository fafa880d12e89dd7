/*
 * package_int.h — what deploy needs from package.c beyond the public API: building a
 * version's entries, checking contents against the manifest, and a bundle from them.
 */
#ifndef MLCTL_PACKAGE_INT_H
#define MLCTL_PACKAGE_INT_H

#include <stdbool.h>

#include "bundle.h"
#include "hash.h"
#include "manifest.h"
#include "pkgfmt.h"

/* The entry names a package may hold. */
extern const char *const package_entries[];
extern const size_t package_nentries;

int package_build(pkg_entry **out, size_t *n, char **name_out, mlctl_registry *reg,
		  const mlctl_model_version *v);
void package_entries_free(pkg_entry *e, size_t n);
int64_t package_mtime(const mlctl_model_version *v);
int package_check(manifest **out, const pkg_contents *c, const char *origin);
int package_bundle(mlctl_bundle **out, const pkg_contents *c, const manifest *m, const char *origin);

/*
 * A package file read into memory once, and everything checked on those same bytes: the
 * digest, the signature (when a public key was given), archive safety and every file
 * against the manifest. Nothing is read from the path again, so a file that changes
 * between two reads cannot pass one check with some bytes and be used with others.
 */
typedef struct package_file {
	char *data;                        /* the bytes, as read once */
	size_t len;
	char digest[MLCTL_DIGEST_HEX];     /* SHA-256 of data */
	bool signature_checked;            /* the signature of data verified with the key */
	char *trusted_comment;             /* the signature's, when checked */
	pkg_contents *contents;            /* checked against the manifest */
	manifest *manifest;
} package_file;

/* Read path once; with pubkey, check its signature sig (NULL: "<path>.minisig"). */
int package_file_load(package_file **out, const char *path, const char *pubkey, const char *sig);
/* The same checks (no signature) on bytes already in memory; takes data (malloc'd) even
 * when it fails. */
int package_file_from_mem(package_file **out, char *data, size_t len, const char *origin);
void package_file_free(package_file *f);

#endif
