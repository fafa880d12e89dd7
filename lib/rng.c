/*
 * rng.c — the class-stratified row order of folds and holdouts (floor 1), see rng.h.
 */
#include <stdlib.h>

#include "error.h"
#include "rng.h"
#include "util.h"
#include "banned.h"

typedef struct keyed {
	double y;
	size_t row;
} keyed;

/* By label, then by row: a stable order without a global for qsort's comparator. */
static int cmp_keyed(const void *a, const void *b)
{
	const keyed *x = a, *y = b;

	if (x->y != y->y)
		return x->y < y->y ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

int rng_class_order(size_t *order, const double *y, size_t n, int stratify, uint64_t *state)
{
	keyed *k;
	size_t i, start;

	if (!stratify) {
		for (i = 0; i < n; i++)
			order[i] = i;
		rng_shuffle(state, order, n);
		return 0;
	}
	if (!(k = mlctl_calloc(n ? n : 1, sizeof(*k))))
		return MLCTL_ENOMEM;
	for (i = 0; i < n; i++)
		k[i] = (keyed){ y[i], i };
	qsort(k, n, sizeof(*k), cmp_keyed);
	for (i = 0; i < n; i++)
		order[i] = k[i].row;
	for (start = 0; start < n; start = i) {
		for (i = start + 1; i < n && k[i].y == k[start].y; i++)
			;
		rng_shuffle(state, order + start, i - start);
	}
	free(k);
	return 0;
}
