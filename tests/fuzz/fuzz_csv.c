/*
 * fuzz_csv.c — libFuzzer target for the CSV reader: walk every record of the input, then
 * load it as a table and run schema_fit and schema_transform_table on it.
 */
#include <stdint.h>
#include <stdlib.h>

#include "dataset.h"
#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	schema_options o = SCHEMA_OPTIONS_INIT;
	const ds_record *rec;
	ds_reader *r = NULL;
	ds_table *t = NULL;
	mlctl_schema *s = NULL;
	schema_matrix *m = NULL;
	char *yaml = NULL;
	size_t len;

	ds_set_table_limit(1u << 22); /* stay within the fuzzer's memory limit */
	if (ds_reader_open_mem(&r, data, size, "fuzz.csv", DS_FORMAT_CSV) == 0) {
		while (ds_reader_next(r, &rec) == 1)
			;
		ds_reader_free(r);
	}
	if (ds_reader_open_mem(&r, data, size, "fuzz.csv", DS_FORMAT_CSV) != 0)
		return 0;
	if (ds_table_load_reader(&t, r) == 0) {
		/* the last column as the label, as if named by --label */
		o.label = t->colnames[t->ncols - 1];
		if (size & 1)
			o.task = SCHEMA_TASK_ONECLASS;
		if (schema_fit(&s, t, &o) == 0) {
			schema_transform_table(&m, s, t, NULL, 0, true);
			if (schema_save(&yaml, &len, s) == 0) {
				mlctl_schema *s2 = NULL;

				schema_load(&s2, yaml, len, "fuzz.yaml");
				schema_free(s2);
				free(yaml);
			}
		}
	}
	schema_matrix_free(m);
	schema_free(s);
	ds_table_free(t);
	ds_reader_free(r);
	return 0;
}
