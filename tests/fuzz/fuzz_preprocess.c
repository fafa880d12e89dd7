/*
 * fuzz_preprocess.c — schema_load() and profile_load() on arbitrary bytes: the
 * preprocess.yaml and profile.yaml inside a package are outside input. Whatever loads must
 * save and load back to the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void schema_round_trip(const uint8_t *data, size_t size)
{
	mlctl_schema *s = NULL, *back = NULL;
	char *y1 = NULL, *y2 = NULL;
	size_t l1, l2;

	if (schema_load(&s, (const char *)data, size, "fuzz") != 0)
		return;
	if (schema_save(&y1, &l1, s) == 0) {
		if (schema_load(&back, y1, l1, "rewritten") != 0)
			abort();
		if (schema_save(&y2, &l2, back) != 0 || l1 != l2 || memcmp(y1, y2, l1))
			abort();
	}
	free(y1);
	free(y2);
	schema_free(back);
	schema_free(s);
}

static void profile_round_trip(const uint8_t *data, size_t size)
{
	mlctl_profile *p = NULL, *like = NULL;
	char *y = NULL;
	size_t l;

	if (profile_load(&p, (const char *)data, size, "fuzz") != 0)
		return;
	if (profile_save(&y, &l, p) != 0)
		abort();
	if (profile_new_like(&like, p) == 0)
		profile_free(like);
	free(y);
	profile_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	schema_round_trip(data, size);
	profile_round_trip(data, size);
	return 0;
}
