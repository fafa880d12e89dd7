/*
 * pkgread.h — reading a package (floor 3): a .mlpkg file or a release directory, read once,
 * every file checked against MANIFEST.yaml (bundle.c makes bundles of the checked bytes).
 * Implemented in pkgread.c. Writing packages (building the entries of a registry version)
 * is package.c's, on floor 4; both it and deploy.c come here to read.
 */
#ifndef MLCTL_PKGREAD_H
#define MLCTL_PKGREAD_H

#include <stdbool.h>

#include "hash.h"
#include "manifest.h"
#include "pkgfmt.h"

/* The entry names a package may hold, MANIFEST.yaml first. */
extern const char *const package_entries[];
extern const size_t package_nentries;

/*
 * Check every entry of c against its manifest: listed, same size, same SHA-256; and every
 * listed file present, model/libsvm.model and model/preprocess.yaml among them. origin
 * names c in messages. On success *out is the parsed manifest (manifest_free()); each of
 * its files' sha256 is then the digest computed here on c's bytes, and its version fits
 * an int (1 .. INT_MAX; MLCTL_EDATA otherwise).
 */
int package_check(manifest **out, const pkg_contents *c, const char *origin);

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
