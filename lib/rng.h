/*
 * rng.h — a small seeded generator (splitmix64) for shuffles and splits, so that results
 * never depend on rand(), on the platform or on the number of threads (floor 1).
 */
#ifndef MLCTL_RNG_H
#define MLCTL_RNG_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * A uniform integer in [0, n), without modulo bias (rejection of r >= limit, limit =
 * UINT64_MAX - UINT64_MAX % n). limit > UINT64_MAX - n, so an r at or below that is kept
 * without computing limit: one division per draw rather than two, the same draws.
 */
static inline size_t rng_below(uint64_t *state, size_t n)
{
	uint64_t limit, r;

	if (!n)
		return 0;
	r = rng_next(state);
	if (r > UINT64_MAX - n) {
		limit = UINT64_MAX - UINT64_MAX % n;
		while (r >= limit)
			r = rng_next(state);
	}
	return (size_t)(r % n);
}

/* Fisher-Yates shuffle of v[0..n). */
static inline void rng_shuffle(uint64_t *state, size_t *v, size_t n)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = rng_below(state, i), t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

/*
 * The order in which folds and holdouts deal rows: with stratify, rows sorted by label
 * (then by row), each class's rows shuffled on their own, classes in ascending label order;
 * without, all rows shuffled. order[] receives n row indices. Shared by tune_folds() and
 * evaluate_split(), so that both draw from one mechanism.
 */
int rng_class_order(size_t *order, const double *y, size_t n, int stratify, uint64_t *state);

#endif
