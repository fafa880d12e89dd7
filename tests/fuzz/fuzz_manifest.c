/*
 * fuzz_manifest.c — manifest_parse() on arbitrary bytes; whatever parses must write and
 * parse back to the same text (the writer is deterministic).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	manifest *m = NULL, *back = NULL;
	char *y1 = NULL, *y2 = NULL;
	size_t l1, l2;

	if (manifest_parse(&m, (const char *)data, size, "fuzz") != 0)
		return 0;
	if (manifest_write(&y1, &l1, m) == 0) {
		if (manifest_parse(&back, y1, l1, "rewritten") != 0)
			abort();
		if (manifest_write(&y2, &l2, back) != 0 || l1 != l2 || memcmp(y1, y2, l1))
			abort();
	}
	free(y1);
	free(y2);
	manifest_free(back);
	manifest_free(m);
	return 0;
}
