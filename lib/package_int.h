/*
 * package_int.h — what deploy needs from package.c beyond the public API: building a
 * version's entries, checking contents against the manifest, and a bundle from them.
 */
#ifndef MLCTL_PACKAGE_INT_H
#define MLCTL_PACKAGE_INT_H

#include "bundle.h"
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

#endif
