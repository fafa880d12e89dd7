/*
 * drift.h — drift statistics and the choice of test per feature (floor 3).
 *
 * The statistics are computed as scipy computes them (scipy.stats.ks_2samp, chisquare,
 * wasserstein_distance; scipy.spatial.distance.jensenshannon with base 2), and the test
 * for a feature is chosen by Evidently's default rules, so that a user of Evidently gets the
 * same verdicts:
 *
 *   reference <= 1,000 rows: numeric with more than 5 distinct values -> two-sample KS,
 *     drift at p < 0.05; others (categorical, or numeric with at most 5 values) ->
 *     chi-square (more than 2 values) or the two-sample proportion Z-test (2 values),
 *     drift at p < 0.05;
 *   reference > 1,000 rows: numeric with more than 5 distinct values -> Wasserstein
 *     distance divided by the reference's population std (floored at 0.001), drift at >= 0.1;
 *     others -> Jensen-Shannon distance (base 2), drift at >= 0.1.
 *
 * "Distinct values" are those of reference and current together, as Evidently counts them.
 * Everything here is a pure function of its arguments.
 */
#ifndef MLCTL_DRIFT_H
#define MLCTL_DRIFT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
	DRIFT_AUTO = 0,        /* Evidently's rule */
	DRIFT_KS,
	DRIFT_CHISQUARE,
	DRIFT_Z,
	DRIFT_WASSERSTEIN,
	DRIFT_JENSENSHANNON,
	DRIFT_PSI
} drift_test;

/* "ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi" ("auto" for DRIFT_AUTO). */
const char *drift_test_name(drift_test t);
bool drift_test_parse(const char *name, drift_test *out);
/* Whether a test's verdict is a p-value below the threshold (KS, chi-square, Z) rather than a
 * statistic at or above it. */
bool drift_test_is_pvalue(drift_test t);
/* The default threshold of a test: 0.05 for the p-value tests, 0.1 for Wasserstein and
 * Jensen-Shannon, 0.2 for PSI. */
double drift_default_threshold(drift_test t);

/* ---- the statistics ---- */

/* scipy.stats.ks_2samp(a, b) with its defaults (alternative="two-sided", method="auto": the
 * exact distribution when both samples have at most 10,000 values, else the asymptotic
 * one, as scipy decides). a and b need not be sorted. As scipy's, the D returned by the
 * exact branch is rounded to h / lcm(na, nb). MLCTL_EUSAGE for an empty sample. */
int drift_ks_2samp(const double *a, size_t na, const double *b, size_t nb, double *stat, double *pvalue);

/* scipy.stats.chisquare(observed, expected): the statistic and its p-value on k - 1 degrees
 * of freedom. A category expected 0 times but observed is an infinite statistic, p = 0.
 * MLCTL_EUSAGE when k < 2. */
int drift_chisquare(const double *observed, const double *expected, size_t k, double *stat, double *pvalue);

/* The two-sample proportion Z-test Evidently runs on a feature of two values: hits of the
 * first value in the reference and in the current data, pooled proportion, two-sided p.
 * z = 0, p = 1 when the pooled proportion is 0 or 1. */
int drift_proportion_z(double ref_hits, double ref_n, double cur_hits, double cur_n, double *z, double *pvalue);

/* scipy.stats.wasserstein_distance(a, b) (unweighted). MLCTL_EUSAGE for an empty sample. */
int drift_wasserstein(const double *a, size_t na, const double *b, size_t nb, double *out);

/* scipy.spatial.distance.jensenshannon(p, q, base=2): p and q (counts or shares over the
 * same k bins) are normalised first. Where rounding leaves the divergence a hair below 0
 * (equal distributions), scipy's sqrt gives NaN; this gives 0. */
double drift_jensenshannon(const double *p, const double *q, size_t k);

/* The population stability index over k bins of counts: shares r and c, a share of 0
 * taken as 0.0001 (as Evidently does), sum of (c - r) * ln(c / r). */
double drift_psi(const double *ref_counts, const double *cur_counts, size_t k);

/* ---- one feature ---- */

/* One side (reference or current) of a feature, as a profile gives it. */
typedef struct drift_side {
	size_t rows;                    /* rows of the dataset: the reference's decide the rule */
	size_t count, missing;          /* present values, missing ones */
	/* numeric features */
	double std;                     /* population std of the present values */
	const double *sample;           /* present values: all of them, or a uniform sample */
	size_t nsample;
	const double *distinct_values;  /* the distinct present values, ascending, with */
	const size_t *distinct_counts;  /* their counts; exact unless distinct_capped */
	size_t ndistinct;
	bool distinct_capped;           /* there were more distinct values than were kept (the
					 * cap is above 5); a side with values but no list
					 * (ndistinct 0) counts as capped too */
	/* categorical features: counts over one list of categories shared by both sides (the
	 * reference's vocabulary, then one for values the vocabulary does not have) */
	const double *cat_counts;
	size_t ncat;
	/* for PSI: counts over the reference's decile bins (numeric) */
	const size_t *bins;
	size_t nbins;
} drift_side;

typedef struct drift_verdict {
	drift_test test;                /* the test run (never DRIFT_AUTO) */
	double statistic;               /* KS D, chi-square, z, Wasserstein / std, JS distance or PSI */
	double pvalue;                  /* KS, chi-square, Z; NaN for the others */
	double threshold;
	bool drifted;
	double psi;                     /* PSI over the reference's deciles or the categories
					 * (NaN when the sides have no bins) */
	size_t ndistinct;               /* distinct values (numeric) or categories present on
					 * both sides together; 0 when a side's list was capped */
} drift_verdict;

/*
 * Compare a feature's current side with its reference by Evidently's rule (force
 * DRIFT_AUTO), or by the test force names; threshold NaN: the test's default. A numeric
 * feature with at most 5 distinct values (both sides together) is compared as categories
 * over those values. MLCTL_EUSAGE when a side has no values, or when the forced test needs
 * what a side does not have (KS or Wasserstein without samples: an older profile); the
 * message says which.
 *
 * The tests over counts (chi-square, Z, Jensen-Shannon) run over the keys either side has:
 * a categorical feature's cat_counts (both sides' ncat must agree), a numeric feature's
 * distinct values when neither list is capped, else (a forced test) its decile bins.
 * Chi-square is Evidently's: observed the current counts, expected the reference counts
 * scaled to the current total, so a key the reference lacks is an infinite statistic and
 * p = 0; a single key on both sides is statistic 0, p = 1. The Z-test counts hits of the
 * first key. PSI (out->psi, and the statistic when forced) is over the bins of a numeric
 * feature and the categories of a categorical one.
 */
int drift_compare(drift_verdict *out, bool categorical, const drift_side *ref, const drift_side *cur,
		  drift_test force, double threshold);

#endif
