/*
 * fuzz_gate.c — libFuzzer target for gate_parse: any bytes as a gate expression; what
 * parses is evaluated on a small report and compared as champion/challenger.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double yt[] = { 0, 1, 1, 2 }, yp[] = { 0, 1, 2, 2 }, cv[] = { 0, 1, 2 };
	static const char *const names[] = { "no", "yes", "]<=" };
	static metrics_report *r;
	char *expr = malloc(size + 1);
	gate *g = NULL;
	double v;
	bool pass;

	if (!expr)
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';
	if (!r && metrics_classification(&r, yt, yp, 4, cv, names, 3, NULL, NULL) != 0)
		abort();
	if (gate_parse(&g, expr) == 0) {
		if (!g || !g->text || !metrics_known(g->metric))
			abort();
		gate_eval(g, r, &v, &pass);
		gate_compare(g->threshold, 0.5, g->metric, 0.1, -0.1, &pass);
		gate_free(g);
	}
	free(expr);
	return 0;
}
