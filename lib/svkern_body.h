/*
 * svkern_body.h — the body of the svkern.c kernels (floor 1), included once per instruction
 * set with:
 *
 *	SK(name)	the kernel's name for this instruction set
 *	SK_TARGET	its target attribute
 *	V, VL		the vector type and its number of doubles (SVK_LANES is a multiple)
 *	VFMA(a, x, y)	a + x * y: fused where the instruction set has it, else two roundings
 *	VSET(x)		a vector of x in every lane
 *	NS		support vectors (or coefficients) per tile
 *
 * Each element of a result is one chain of VFMA (after a subtraction for distances) over
 * its terms in index order: the same operations whichever tile, remainder loop or lane
 * computes it. Small fixed-size arrays hold the accumulators; the loops over them have
 * constant bounds and are unrolled into registers.
 */
#define RV (SVK_LANES / VL)	/* vectors per lane step */

#define SK_PAIR_TILES(name, STEP)							\
SK_TARGET static void name(double *k, size_t ldk, const double *xt, size_t ldx, size_t nr, \
			   const double *sv, size_t ns, size_t d)			\
{											\
	size_t r, j, p;									\
	int a, b;									\
											\
	for (r = 0; r < nr; r += SVK_LANES) {						\
		for (j = 0; j + NS <= ns; j += NS) {					\
			const double *s0 = sv + j * d;					\
			V acc[NS][RV];							\
											\
			for (a = 0; a < NS; a++)					\
				for (b = 0; b < RV; b++)				\
					acc[a][b] = (V){ 0 };				\
			for (p = 0; p < d; p++) {					\
				V x[RV];						\
											\
				for (b = 0; b < RV; b++)				\
					x[b] = *(const V *)(const void *)(xt + p * ldx + r + (size_t)b * VL); \
				for (a = 0; a < NS; a++)				\
					for (b = 0; b < RV; b++)			\
						STEP(acc[a][b], x[b], s0[(size_t)a * d + p]); \
			}								\
			for (a = 0; a < NS; a++)					\
				for (b = 0; b < RV; b++)				\
					*(V *)(void *)(k + (j + (size_t)a) * ldk + r + (size_t)b * VL) = acc[a][b]; \
		}									\
		for (; j < ns; j++) {							\
			const double *s0 = sv + j * d;					\
			V acc[RV];							\
											\
			for (b = 0; b < RV; b++)					\
				acc[b] = (V){ 0 };					\
			for (p = 0; p < d; p++)						\
				for (b = 0; b < RV; b++)				\
					STEP(acc[b], *(const V *)(const void *)(xt + p * ldx + r + (size_t)b * VL), s0[p]); \
			for (b = 0; b < RV; b++)					\
				*(V *)(void *)(k + j * ldk + r + (size_t)b * VL) = acc[b];	\
		}									\
	}										\
}

/* acc += (x - s)^2, as libsvm's "d = x - y; sum += d * d". */
#define SK_DIST_STEP(acc, x, s) do { V t_ = (x) - (s); (acc) = VFMA((acc), t_, t_); } while (0)
#define SK_DOT_STEP(acc, x, s) ((acc) = VFMA((acc), (x), VSET(s)))

SK_PAIR_TILES(SK(dist2), SK_DIST_STEP)
SK_PAIR_TILES(SK(dot), SK_DOT_STEP)

/* The sums of W coefficients at a time, from coefficient *c on while W more are left. */
#define SK_REDUCE_TILE(W)								\
	for (; *c + (W) <= ncoef; *c += (W)) {						\
		V s[W][RV];								\
											\
		for (a = 0; a < (W); a++)						\
			for (b = 0; b < RV; b++)					\
				s[a][b] = *(const V *)(const void *)(acc[*c + (size_t)a] + r + (size_t)b * VL); \
		for (j = 0; j < ns; j++) {						\
			const double *cf = coef + j * ncoef + *c;			\
			V kv[RV];							\
											\
			for (b = 0; b < RV; b++)					\
				kv[b] = *(const V *)(const void *)(k + j * ldk + r + (size_t)b * VL); \
			for (a = 0; a < (W); a++)					\
				for (b = 0; b < RV; b++)				\
					s[a][b] = VFMA(s[a][b], kv[b], VSET(cf[a]));	\
		}									\
		for (a = 0; a < (W); a++)						\
			for (b = 0; b < RV; b++)					\
				*(V *)(void *)(acc[*c + (size_t)a] + r + (size_t)b * VL) = s[a][b]; \
	}

/* The lanes r .. r + SVK_LANES - 1 of every sum: tiles of NS coefficients, then narrower
 * ones for the rest (a single chain of adds would wait on each add's latency). */
SK_TARGET static void SK(reduce_lanes)(double *const *acc, size_t r, const double *k, size_t ldk,
				       size_t ns, const double *coef, size_t ncoef, size_t *c)
{
	size_t j;
	int a, b;

	*c = 0;
	SK_REDUCE_TILE(NS)
	SK_REDUCE_TILE(4)
	SK_REDUCE_TILE(2)
	SK_REDUCE_TILE(1)
}

SK_TARGET static void SK(reduce)(double *const *acc, size_t nr, const double *k, size_t ldk,
				 size_t ns, const double *coef, size_t ncoef)
{
	size_t r, c;

	for (r = 0; r < nr; r += SVK_LANES)
		SK(reduce_lanes)(acc, r, k, ldk, ns, coef, ncoef, &c);
}

#undef SK_REDUCE_TILE
#undef RV
#undef SK_PAIR_TILES
#undef SK_DIST_STEP
#undef SK_DOT_STEP
