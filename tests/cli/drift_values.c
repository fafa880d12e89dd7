/*
 * drift_values.c — lib/drift's statistics on files of numbers, for t0090 to compare with
 * scipy. Built by the test against lib/drift.c itself (no registry, no CLI).
 *
 *   drift_values A B          ->  ks_D ks_p wasserstein
 *   drift_values A B C D      ->  the same, then a second line for the counts C (reference)
 *                                 and D (current): chisquare_stat chisquare_p js psi z z_p
 *
 * Each file holds one number per line. chisquare is Evidently's: observed D, expected C
 * scaled to D's total; z is the proportion test on the first count of each side.
 */
#include <stdio.h>
#include <stdlib.h>

#include "drift.h"

static double *read_numbers(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	double *v = NULL, x;
	size_t cap = 0;

	*n = 0;
	if (!f)
		return NULL;
	while (fscanf(f, "%lf", &x) == 1) {
		if (*n == cap) {
			double *nv = realloc(v, (cap = cap ? 2 * cap : 1024) * sizeof(*v));
			if (!nv)
				exit(1);
			v = nv;
		}
		v[(*n)++] = x;
	}
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	double *a, *b, d, p, w;
	size_t na, nb;

	if (argc != 3 && argc != 5) {
		fprintf(stderr, "usage: drift_values A B [C D]\n");
		return 2;
	}
	a = read_numbers(argv[1], &na);
	b = read_numbers(argv[2], &nb);
	if (!a || !b || drift_ks_2samp(a, na, b, nb, &d, &p) < 0 || drift_wasserstein(a, na, b, nb, &w) < 0) {
		fprintf(stderr, "drift_values: cannot compare %s and %s\n", argv[1], argv[2]);
		return 1;
	}
	printf("%.17g %.17g %.17g\n", d, p, w);
	if (argc == 5) {
		double *c, *e, *exp, sc = 0, se = 0, cs, cp, z, zp;
		size_t nc, ne;

		c = read_numbers(argv[3], &nc);
		e = read_numbers(argv[4], &ne);
		if (!c || !e || nc != ne || !(exp = calloc(nc, sizeof(*exp)))) {
			fprintf(stderr, "drift_values: bad count files\n");
			return 1;
		}
		for (size_t i = 0; i < nc; i++) {
			sc += c[i];
			se += e[i];
		}
		for (size_t i = 0; i < nc; i++)
			exp[i] = c[i] * (se / sc);
		if (drift_chisquare(e, exp, nc, &cs, &cp) < 0 ||
		    drift_proportion_z(c[0], sc, e[0], se, &z, &zp) < 0)
			return 1;
		printf("%.17g %.17g %.17g %.17g %.17g %.17g\n", cs, cp, drift_jensenshannon(c, e, nc),
		       drift_psi(c, e, nc), z, zp);
		free(c);
		free(e);
		free(exp);
	}
	free(a);
	free(b);
	return 0;
}
