/*
 * fuzz_package.c — pkg_read_mem() on arbitrary bytes, with small limits so that a found
 * bomb is cheap; every accepted entry must carry an allowed name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkgfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const allowed[] = {
	"MANIFEST.yaml", "model/libsvm.model", "model/preprocess.yaml", "reference/profile.yaml",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pkg_limits lim = { 1 << 20, 16 };
	pkg_contents *c = NULL;
	size_t i, j;

	if (pkg_read_mem(&c, data, size, "fuzz", allowed, 4, &lim) != 0)
		return 0;
	for (i = 0; i < c->n; i++) {
		for (j = 0; j < 4 && strcmp(c->entries[i].name, allowed[j]); j++)
			;
		if (j == 4 || pkg_find(c, c->entries[i].name) != &c->entries[i])
			abort();
	}
	pkg_contents_free(c);
	return 0;
}
