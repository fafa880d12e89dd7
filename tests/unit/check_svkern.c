/*
 * check_svkern.c — svkern.c (floor 1), the batch scorer's dense kernels, for every
 * instruction set this CPU has (svk_select() as scorer.c calls it): squared distances, dot
 * products and coefficient sums against naive double loops on random data at magnitudes
 * 1e-9, 1 and 1e9 (and values near 1e9 that cancel).
 *
 * The baseline kernels must equal the naive loop bit for bit (the same multiply-then-add
 * chain in index order; tests are built with -ffp-contract=off too). The FMA kernels
 * differ only by the rounding of the products: |kernel - naive| <= 1e-12 * (sum of the
 * terms' magnitudes), far above the d * 2^-52 such a difference can reach for d <= 64.
 * Within one instruction set a row's value must not depend on its lane or tile, nor a
 * support vector's on its place in a block: permuted inputs give the same bits.
 */
#include <math.h>

#include "check_util.h"
#include "svkern.h"

#define TOL 1e-12

static const svk_isa isas[] = { SVK_ISA_BASE, SVK_ISA_AVX2, SVK_ISA_AVX512 };

/* Random data for one case: nr rows (transposed, ldx), ns support vectors of d features. */
struct kcase {
	size_t nr, ns, d, ldx, ldk, ncoef;
	double *xt, *x, *sv, *coef;	/* x: row-major copy of xt */
};

static void kcase_make(struct kcase *c, size_t nr, size_t ns, size_t d, size_t ncoef, double mag, double shift,
		       uint64_t seed)
{
	uint64_t st = seed;
	size_t r, p, j;

	c->nr = nr;
	c->ns = ns;
	c->d = d;
	c->ncoef = ncoef;
	c->ldx = nr + SVK_LANES;	/* padding past nr, which no kernel may read into k */
	c->ldk = nr + 2 * SVK_LANES;
	c->xt = svk_alloc(d * c->ldx);
	c->x = malloc(nr * d * sizeof(double));
	c->sv = malloc(ns * d * sizeof(double));
	c->coef = malloc(ns * ncoef * sizeof(double));
	ck_assert(c->xt && c->x && c->sv && c->coef);
	for (r = 0; r < nr; r++)
		for (p = 0; p < d; p++)
			c->xt[p * c->ldx + r] = c->x[r * d + p] = shift + mag * unit_rand_sym(&st);
	for (j = 0; j < ns * d; j++)
		c->sv[j] = shift + mag * unit_rand_sym(&st);
	for (j = 0; j < ns * ncoef; j++)
		c->coef[j] = unit_rand_sym(&st) * 4;
}

static void kcase_free(struct kcase *c)
{
	free(c->xt);
	free(c->x);
	free(c->sv);
	free(c->coef);
}

/* Compare one kernel output with its naive value; exact for the baseline. */
static void check_value(const svk_ops *ops, const char *what, double got, double want, double scale,
			size_t j, size_t r)
{
	bool ok = ops->isa == SVK_ISA_BASE ? memcmp(&got, &want, sizeof(got)) == 0
					    : fabs(got - want) <= TOL * scale;

	if (!ok)
		ck_abort_msg("%s %s sv %zu row %zu: %.17g, naive %.17g (scale %g)", ops->name, what, j, r, got,
			     want, scale);
}

static void check_pair_kernels(const svk_ops *ops, const struct kcase *c)
{
	double *k = svk_alloc(c->ns * c->ldk);
	size_t j, r, p;
	int dot;

	for (dot = 0; dot <= 1; dot++) {
		for (j = 0; j < c->ns * c->ldk; j++)
			k[j] = -7.0;	/* a sentinel in the padding */
		if (dot)
			ops->dot(k, c->ldk, c->xt, c->ldx, c->nr, c->sv, c->ns, c->d);
		else
			ops->dist2(k, c->ldk, c->xt, c->ldx, c->nr, c->sv, c->ns, c->d);
		for (j = 0; j < c->ns; j++) {
			for (r = 0; r < c->nr; r++) {
				double s = 0, scale = 0;

				for (p = 0; p < c->d; p++) {
					double x = c->x[r * c->d + p], y = c->sv[j * c->d + p];
					double t = dot ? x * y : (x - y) * (x - y);

					s = s + t;
					scale += fabs(t);
				}
				check_value(ops, dot ? "dot" : "dist2", k[j * c->ldk + r], s, scale, j, r);
			}
			for (; r < c->ldk; r++)
				ck_assert_msg(k[j * c->ldk + r] == -7.0, "%s: padding of sv %zu written", ops->name, j);
		}
	}
	free(k);
}

static void check_reduce(const svk_ops *ops, const struct kcase *c)
{
	size_t lda = c->nr + SVK_LANES, j, r, q;
	double *k = svk_alloc(c->ns * c->ldk), *accbuf = svk_alloc(c->ncoef * lda);
	double **acc = malloc(c->ncoef * sizeof(*acc)), *acc0 = malloc(c->ncoef * lda * sizeof(double));
	uint64_t st = c->ns * 31 + c->ncoef;

	ops->dist2(k, c->ldk, c->xt, c->ldx, c->nr, c->sv, c->ns, c->d);
	for (j = 0; j < c->ns * c->ldk; j++)	/* kernel values of both signs */
		k[j] = unit_rand_sym(&st) * (1 + fabs(k[j]));
	for (q = 0; q < c->ncoef; q++) {
		acc[q] = accbuf + q * lda;
		for (r = 0; r < lda; r++)
			acc[q][r] = acc0[q * lda + r] = unit_rand_sym(&st);
	}
	ops->reduce(acc, c->nr, k, c->ldk, c->ns, c->coef, c->ncoef);
	for (q = 0; q < c->ncoef; q++) {
		for (r = 0; r < c->nr; r++) {
			double s = acc0[q * lda + r], scale = fabs(s);

			for (j = 0; j < c->ns; j++) {
				double t = k[j * c->ldk + r] * c->coef[j * c->ncoef + q];

				s = s + t;
				scale += fabs(t);
			}
			check_value(ops, "reduce", acc[q][r], s, scale, q, r);
		}
		for (; r < lda; r++)
			ck_assert(acc[q][r] == acc0[q * lda + r]);
	}
	free(k);
	free(accbuf);
	free(acc);
	free(acc0);
}

/* The kernels of isa, or NULL when this CPU lacks it (svk_select() falls back below). */
static const svk_ops *ops_for(svk_isa isa)
{
	const svk_ops *ops = svk_select(isa);

	ck_assert_ptr_nonnull(ops);
	ck_assert_int_le(ops->isa, isa);
	return ops->isa == isa ? ops : NULL;
}

START_TEST(test_svkern_vs_naive)
{
	static const size_t shapes[][4] = {	/* nr, ns, d, ncoef */
		{ 8, 1, 1, 1 }, { 8, 5, 3, 2 }, { 16, 6, 13, 3 }, { 24, 7, 8, 5 }, { 8, 9, 64, 6 },
		{ 16, 17, 5, 7 }, { 24, 13, 2, 9 }, { 8, 2, 33, 15 },
	};
	static const double mags[][2] = { { 1e-9, 0 }, { 1, 0 }, { 1e9, 0 }, { 1, 1e9 } };
	size_t i, s, m, tested = 0;

	for (i = 0; i < sizeof(isas) / sizeof(isas[0]); i++) {
		const svk_ops *ops = ops_for(isas[i]);

		if (!ops) {
			fprintf(stderr, "svkern: isa %d not on this CPU, not tested\n", (int)isas[i]);
			continue;
		}
		tested++;
		for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
			for (m = 0; m < sizeof(mags) / sizeof(mags[0]); m++) {
				struct kcase c;

				kcase_make(&c, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], mags[m][0],
					   mags[m][1], 1000 * s + m);
				check_pair_kernels(ops, &c);
				check_reduce(ops, &c);
				kcase_free(&c);
			}
	}
	ck_assert_uint_ge(tested, 1);
}
END_TEST

/* Rows reversed (other lanes, other tiles) and support vectors reversed (other places in
 * the NS blocks and the remainder loop): every value the same bits. */
START_TEST(test_svkern_position_independent)
{
	size_t i, j, r, p, nr = 24, ns = 13, d = 11;

	for (i = 0; i < sizeof(isas) / sizeof(isas[0]); i++) {
		const svk_ops *ops = ops_for(isas[i]);
		struct kcase c, rev;
		double *k1, *k2;
		int dot;

		if (!ops)
			continue;
		kcase_make(&c, nr, ns, d, 1, 3, 0, 77);
		kcase_make(&rev, nr, ns, d, 1, 3, 0, 77);
		for (r = 0; r < nr; r++)
			for (p = 0; p < d; p++)
				rev.xt[p * rev.ldx + r] = c.xt[p * c.ldx + (nr - 1 - r)];
		for (j = 0; j < ns; j++)
			memcpy(rev.sv + j * d, c.sv + (ns - 1 - j) * d, d * sizeof(double));
		k1 = svk_alloc(ns * c.ldk);
		k2 = svk_alloc(ns * c.ldk);
		for (dot = 0; dot <= 1; dot++) {
			if (dot) {
				ops->dot(k1, c.ldk, c.xt, c.ldx, nr, c.sv, ns, d);
				ops->dot(k2, c.ldk, rev.xt, rev.ldx, nr, rev.sv, ns, d);
			} else {
				ops->dist2(k1, c.ldk, c.xt, c.ldx, nr, c.sv, ns, d);
				ops->dist2(k2, c.ldk, rev.xt, rev.ldx, nr, rev.sv, ns, d);
			}
			for (j = 0; j < ns; j++)
				for (r = 0; r < nr; r++)
					ck_assert_msg(memcmp(&k1[j * c.ldk + r], &k2[(ns - 1 - j) * c.ldk + (nr - 1 - r)],
							     sizeof(double)) == 0, "%s %s: sv %zu row %zu moved changes it",
						      ops->name, dot ? "dot" : "dist2", j, r);
		}
		/* A tile of 8 rows scored alone equals the same rows inside a tile of 24. */
		{
			struct kcase part;

			kcase_make(&part, 8, ns, d, 1, 3, 0, 5);
			for (r = 0; r < 8; r++)
				for (p = 0; p < d; p++)
					part.xt[p * part.ldx + r] = c.xt[p * c.ldx + 8 + r];
			ops->dist2(k1, c.ldk, c.xt, c.ldx, nr, c.sv, ns, d);
			ops->dist2(k2, part.ldk, part.xt, part.ldx, 8, c.sv, ns, d);
			for (j = 0; j < ns; j++)
				ck_assert(memcmp(&k1[j * c.ldk + 8], &k2[j * part.ldk], 8 * sizeof(double)) == 0);
			kcase_free(&part);
		}
		free(k1);
		free(k2);
		kcase_free(&c);
		kcase_free(&rev);
	}
}
END_TEST

START_TEST(test_svkern_select_alloc)
{
	const svk_ops *best = svk_select(SVK_ISA_BEST), *base = svk_select(SVK_ISA_BASE);
	double *p;
	size_t i;

	ck_assert_int_eq(base->isa, SVK_ISA_BASE);
	ck_assert_str_eq(base->name, "baseline");
	ck_assert_ptr_eq(svk_select(SVK_ISA_AVX512), best); /* nothing above avx512: the best */
	ck_assert(best->dist2 && best->dot && best->reduce);
	fprintf(stderr, "svkern: best kernels on this CPU: %s\n", best->name);
	p = svk_alloc(1000);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq((uintptr_t)p % SVK_ALIGN, 0);
	for (i = 0; i < 1000; i++)
		ck_assert(p[i] == 0);
	free(p);
	p = svk_alloc(0);
	ck_assert_ptr_nonnull(p);
	free(p);
	ck_assert_ptr_null(svk_alloc(SIZE_MAX / 4));
}
END_TEST

static Suite *svkern_suite(void)
{
	Suite *s = suite_create("svkern");
	TCase *tc = tcase_create("svkern");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_svkern_vs_naive);
	tcase_add_test(tc, test_svkern_position_independent);
	tcase_add_test(tc, test_svkern_select_alloc);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(svkern_suite)
