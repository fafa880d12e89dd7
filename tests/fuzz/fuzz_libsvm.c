/*
 * fuzz_libsvm.c — libFuzzer target for the libsvm reader (plain or gzipped input): walk
 * every record, then load the input as a table.
 */
#include <stdint.h>
#include <stdlib.h>

#include "dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const ds_record *rec;
	ds_reader *r = NULL;
	ds_table *t = NULL;
	char digest[65];

	ds_set_table_limit(1u << 22); /* stay within the fuzzer's memory limit */
	if (ds_reader_open_mem(&r, data, size, "fuzz.libsvm", DS_FORMAT_LIBSVM) == 0) {
		while (ds_reader_next(r, &rec) == 1)
			;
		ds_reader_digest(r, digest);
		ds_reader_free(r);
	}
	/* sniffing too: a name without an extension */
	if (ds_reader_open_mem(&r, data, size, "fuzz", DS_FORMAT_AUTO) == 0) {
		if (ds_table_load_reader(&t, r) == 0)
			ds_table_free(t);
		ds_reader_free(r);
	}
	return 0;
}
