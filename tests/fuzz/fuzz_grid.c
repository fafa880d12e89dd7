/*
 * fuzz_grid.c — libFuzzer target for tune_grid_parse (the --tune specification): any bytes
 * as a grid; what parses has a size within its limits, finite values, and its first points
 * apply to parameters.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "tune.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = malloc(size + 1);
	struct svm_parameter p;
	tune_grid *g = NULL;
	size_t i, n;

	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (tune_grid_parse(&g, spec) == 0) {
		if (!g || g->naxes == 0)
			abort();
		n = tune_grid_size(g);
		if (n == 0 || n > 1000000)
			abort();
		for (i = 0; i < n && i < 64; i++) {
			model_param_defaults(&p);
			if (tune_grid_apply(g, i, &p) != 0)
				abort();
		}
		for (i = 0; i < g->naxes; i++)
			if (!isfinite(g->axes[i].values[0]))
				abort();
		tune_grid_free(g);
	}
	free(spec);
	return 0;
}
