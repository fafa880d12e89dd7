/*
 * fuzz_predlog.c — monitor's reader of serve prediction logs (monitor_read_log()) on
 * arbitrary bytes, against a fixed small schema and reference profile (fitted once from an
 * embedded CSV: two numeric inputs, one categorical). Whatever it accepts must leave a
 * profile that saves and loads back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "monitor_int.h"
#include "profile.h"
#include "schema.h"
#include "mlctl/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char train_csv[] =
	"a,b,state,churn\n"
	"1,10,KS,no\n"
	"2,,OH,yes\n"
	"3,30,KS,no\n"
	"4,40,NY,yes\n"
	"5,50,NY,no\n";

static mlctl_schema *schema;
static mlctl_profile *reference;

static void setup(void)
{
	schema_options o = SCHEMA_OPTIONS_INIT;
	ds_reader *r = NULL;
	ds_table *t = NULL;

	if (schema)
		return;
	o.label = "churn";
	if (ds_reader_open_mem(&r, train_csv, strlen(train_csv), "train.csv", DS_FORMAT_CSV) ||
	    ds_table_load_reader(&t, r) || schema_fit(&schema, t, &o) ||
	    profile_from_table(&reference, t, schema, NULL, 0))
		abort();
	ds_table_free(t);
	ds_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mlctl_profile *cur = NULL, *back = NULL;
	size_t lines = 0, other = 0, used = 0, len;
	char *yaml = NULL;
	FILE *f;

	setup();
	if (!size || !(f = fmemopen((void *)(uintptr_t)data, size, "r")))
		return 0;
	if (profile_new_like(&cur, reference))
		abort();
	if (monitor_read_log(cur, schema, "churn", 1, f, "fuzz.jsonl", &lines, &other, &used) == 0) {
		if (profile_save(&yaml, &len, cur) || profile_load(&back, yaml, len, "saved"))
			abort();
		profile_free(back);
		free(yaml);
	}
	fclose(f);
	profile_free(cur);
	return 0;
}
