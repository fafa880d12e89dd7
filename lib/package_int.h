/*
 * package_int.h — what deploy needs from package.c beyond the public API (floor 4):
 * building the entries of a registry version's package. Reading and checking packages is
 * pkgread.h's (floor 3), included here for deploy.c's convenience.
 */
#ifndef MLCTL_PACKAGE_INT_H
#define MLCTL_PACKAGE_INT_H

#include <stdint.h>

#include "bundle.h"
#include "pkgfmt.h"
#include "pkgread.h"

int package_build(pkg_entry **out, size_t *n, char **name_out, mlctl_registry *reg,
		  const mlctl_model_version *v);
void package_entries_free(pkg_entry *e, size_t n);
int64_t package_mtime(const mlctl_model_version *v);

#endif
