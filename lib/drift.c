/*
 * drift.c — drift statistics as scipy computes them, and Evidently's choice of test per
 * feature (floor 3).
 *
 * Each statistic follows the scipy code path it is named after, down to the rounding that
 * changes a result: ks_2samp rounds D to h / lcm(n1, n2) before its exact p-value, and its
 * asymptotic branch is kstwo.sf(D, round(n1 n2 / (n1 + n2))), the one-sample Kolmogorov
 * distribution of scipy.stats._ksstats. Only libm is used; every buffer is allocated, none
 * sized by input on the stack.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "error.h"
#include "util.h"
#include "banned.h"

#define KS_MAX_AUTO_N 10000	/* scipy's MAX_AUTO_N: exact p-values up to this size */
#define PSI_ZERO_SHARE 0.0001	/* Evidently's feel_zeroes */
#define WASSERSTEIN_MIN_STD 0.001
#define FEW_VALUES 5		/* Evidently: at most this many values is "categorical" */
#define SMALL_REFERENCE 1000	/* Evidently: reference rows up to this get the p-value tests */

/* ---- names ---- */

static const char *const test_names[] = {
	[DRIFT_AUTO] = "auto", [DRIFT_KS] = "ks", [DRIFT_CHISQUARE] = "chisquare", [DRIFT_Z] = "z",
	[DRIFT_WASSERSTEIN] = "wasserstein", [DRIFT_JENSENSHANNON] = "jensenshannon",
	[DRIFT_PSI] = "psi",
};
#define NTESTS (sizeof(test_names) / sizeof(test_names[0]))

const char *drift_test_name(drift_test t)
{
	return (unsigned)t < NTESTS ? test_names[t] : "?";
}

bool drift_test_parse(const char *name, drift_test *out)
{
	for (size_t i = 0; name && i < NTESTS; i++)
		if (strcmp(name, test_names[i]) == 0) {
			*out = (drift_test)i;
			return true;
		}
	return false;
}

bool drift_test_is_pvalue(drift_test t)
{
	return t == DRIFT_KS || t == DRIFT_CHISQUARE || t == DRIFT_Z;
}

double drift_default_threshold(drift_test t)
{
	switch (t) {
	case DRIFT_KS:
	case DRIFT_CHISQUARE:
	case DRIFT_Z:
		return 0.05;
	case DRIFT_WASSERSTEIN:
	case DRIFT_JENSENSHANNON:
		return 0.1;
	case DRIFT_PSI:
		return 0.2;
	default:
		return NAN;
	}
}

static double clip01(double p)
{
	return p < 0 ? 0 : p > 1 ? 1 : p;
}

/* A sorted copy of a sample (NULL and the last error set on failure). */
static double *sorted_copy(const double *a, size_t n)
{
	double *s = mlctl_reallocarray(NULL, n, sizeof(*s));

	if (!s) {
		mlctl_error_oom();
		return NULL;
	}
	memcpy(s, a, n * sizeof(*s));
	qsort(s, n, sizeof(*s), mlctl_cmp_double);
	return s;
}

/* log Gamma(a) - ((a - 1/2) log a - a + log(2 pi) / 2) = rn * stirling_series(rn^2) with rn =
 * 1/a: the Bernoulli terms B_2j / (2j (2j - 1)), j = 8..1 (scipy's _STIRLING_COEFFS). */
static double stirling_series(double rn2)
{
	static const double c[] = { -2.955065359477124183e-2, 6.4102564102564102564e-3,
		-1.9175269175269175269e-3, 8.4175084175084175084e-4, -5.952380952380952381e-4,
		7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2 };
	double v = 0;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		v = v * rn2 + c[i];
	return v;
}

/* ---- the one-sample Kolmogorov distribution (scipy.stats._ksstats) ---- */

#define E128 128
static const double EP128 = 0x1p128, EM128 = 0x1p-128;

/* t = a * b for m x m row-major matrices, summed in index order (as numpy's plain loop). */
static void matmul(double *t, const double *a, const double *b, long m)
{
	for (long i = 0; i < m; i++)
		for (long j = 0; j < m; j++) {
			double sum = 0;

			for (long l = 0; l < m; l++)
				sum += a[i * m + l] * b[l * m + j];
			t[i * m + j] = sum;
		}
}

/*
 * Durbin's matrix, as Marsaglia, Tsang and Wang compute it: Pr(D_n <= d), the k-th
 * diagonal entry of H^n times n!/n^n with d = (k - h)/n. scipy's _kolmogn_DMTW.
 */
static int kolmogn_dmtw(long n, double d, double *cdf)
{
	double nd = n * d, h, *H = NULL, *P = NULL, *T = NULL, *v = NULL, *w = NULL, fac, p;
	long k, m, expnt = 0, hexpnt = 0, nn;
	int ret = 0;

	if (d >= 1.0) {
		*cdf = 1.0;
		return 0;
	}
	if (nd <= 0.5) {
		*cdf = 0.0;
		return 0;
	}
	k = (long)ceil(nd);
	h = k - nd;
	m = 2 * k - 1;
	H = mlctl_calloc((size_t)(m * m), sizeof(*H));
	P = mlctl_calloc((size_t)(m * m), sizeof(*P));
	T = mlctl_calloc((size_t)(m * m), sizeof(*T));
	v = mlctl_calloc((size_t)m, sizeof(*v));
	w = mlctl_calloc((size_t)m, sizeof(*w));
	if (!H || !P || !T || !v || !w) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	fac = 1.0;
	for (long j = 1; j <= m; j++) {
		w[j - 1] = fac;
		fac /= j;
		v[j - 1] = (1.0 - pow(h, (double)j)) * fac;
	}
	v[m - 1] = (1.0 + pow(fmax(2 * h - 1.0, 0), (double)m) - 2 * pow(h, (double)m)) * fac;
	for (long i = 1; i < m; i++)
		for (long r = i - 1; r < m; r++)
			H[r * m + i] = w[r - (i - 1)];
	for (long r = 0; r < m; r++)
		H[r * m] = v[r];
	for (long c = 0; c < m; c++)
		H[(m - 1) * m + c] = v[m - 1 - c];
	for (long i = 0; i < m; i++)
		P[i * m + i] = 1.0;

	/* Square and multiply, scaling H by 2^-128 when its k-th diagonal entry grows past
	 * 2^128, as scipy does. */
	for (nn = n; nn > 0; nn /= 2) {
		if (nn % 2) {
			matmul(T, P, H, m);
			memcpy(P, T, (size_t)(m * m) * sizeof(*P));
			expnt += hexpnt;
		}
		matmul(T, H, H, m);
		memcpy(H, T, (size_t)(m * m) * sizeof(*H));
		hexpnt *= 2;
		if (fabs(H[(k - 1) * m + (k - 1)]) > EP128) {
			for (long i = 0; i < m * m; i++)
				H[i] /= EP128;
			hexpnt += E128;
		}
	}
	p = P[(k - 1) * m + (k - 1)];
	for (long i = 1; i <= n; i++) {
		p = i * p / n;
		if (fabs(p) < EM128) {
			p *= EP128;
			expnt -= E128;
		}
	}
	if (expnt != 0)
		p = ldexp(p, (int)expnt);
	*cdf = clip01(p);
out:
	free(H);
	free(P);
	free(T);
	free(v);
	free(w);
	return ret;
}

/* The Pelz-Good approximation of Pr(D_n <= x), scipy's _kolmogn_PelzGood. */
static double kolmogn_pelzgood(long n, double x)
{
	const double pi2 = M_PI * M_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
	const double sqrt2pi = sqrt(2 * M_PI);
	double z, z2, z3, z4, z6, qlog, q, K[4] = { 0, 0, 0, 0 }, k2extra = 0, k3extra = 0;
	double k1a, k1b, k2a, k2b, k2c, k3a, k3b, k3c, k3d, sqrt3z;
	long maxk;

	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	z = sqrt((double)n) * x;
	z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
	qlog = -pi2 / 8 / z2;
	if (qlog < -708)
		return 0.0;
	q = exp(qlog);
	k1a = -z2;
	k1b = pi2 / 4;
	k2a = 6 * z6 + 2 * z4;
	k2b = (2 * z4 - 5 * z2) * pi2 / 4;
	k2c = pi4 * (1 - 2 * z2) / 16;
	k3d = pi6 * (5 - 30 * z2) / 64;
	k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
	k3b = pi2 * (135 * z4 - 96 * z6) / 4;
	k3a = -30 * z6 - 90 * z4 * z4;
	/* Horner over the odd terms: sum c_i q^(i^2) */
	maxk = (long)ceil(16 * z / M_PI);
	for (long k = maxk; k > 0; k--) {
		double mm = 2.0 * k - 1, m2 = mm * mm, m4 = m2 * m2, m6 = m4 * m2;
		double qp = pow(q, 8.0 * k);
		double c[4] = { 1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
				k3a + k3b * m2 + k3c * m4 + k3d * m6 };
		for (int i = 0; i < 4; i++)
			K[i] = K[i] * qp + c[i];
	}
	for (int i = 0; i < 4; i++)
		K[i] *= q * sqrt2pi;
	K[0] /= z;
	K[1] /= 6 * z4;
	K[2] /= 72 * z6 * z;
	K[3] /= 6480 * z6 * z4;
	q = exp(-pi2 / 2 / z2);
	sqrt3z = sqrt(3.0) * z;
	for (long k = maxk; k > 0; k--) {
		double ks = (double)k * k, qk = pow(q, ks), kpi = M_PI * k;
		k2extra += ks * qk;
		k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * ks * qk;
	}
	K[2] += k2extra * pi2 * sqrt2pi / (-36 * z3);
	K[3] += k3extra * pi2 * sqrt2pi / (216 * z6);
	for (int i = 1; i < 4; i++)
		K[i] /= pow((double)n, i / 2.0);
	return K[0] + K[1] + K[2] + K[3];
}

/* lgamma without touching signgam (it is global state). */
static double lgam(double x)
{
	int sign;

	return lgamma_r(x, &sign);
}

/*
 * scipy.special.smirnov(n, d): Pr(D+_n >= d), Birnbaum and Tingey's sum. Every term is
 * positive, so it is summed in logs without cancellation.
 */
static double smirnov(long n, double d)
{
	double s = 0, lgn1 = lgam(n + 1.0);
	long jmax;

	if (d <= 0)
		return 1.0;
	if (d >= 1)
		return 0.0;
	jmax = (long)floor(n * (1 - d));
	for (long j = 0; j <= jmax; j++) {
		double b = 1 - d - (double)j / n, t;

		if (b <= 0)
			continue;	/* (1 - d - j/n)^(n - j) with n - j > 0 */
		t = lgn1 - lgam(j + 1.0) - lgam(n - j + 1.0) + (n - j) * log(b) +
		    (j - 1) * log(d + (double)j / n);
		s += exp(t);
	}
	return clip01(d * s);
}

/*
 * kstwo.sf(x, n): scipy's _kolmogn(n, x, cdf=False) behind rv_continuous.sf, with the
 * same choice of method. Where scipy uses Pomeranz's recursion (n <= 140, 0.754693 <
 * n x^2 <= 4) Durbin's matrix is used: both are exact, they differ in rounding only.
 */
static int kstwo_sf(long n, double x, double *sf)
{
	double t = n * x, nx2, cdf;
	int ret;

	if (x >= 1.0 || t <= 0.5) {
		*sf = x >= 1.0 ? 0.0 : 1.0;
		return 0;
	}
	if (t <= 1.0) {
		double p;

		if (n <= 140) {
			p = 1.0;
			for (long i = 1; i <= n; i++)
				p *= i * (1.0 / n) * (2 * t - 1);
		} else {
			/* log(n!/n^n) by Stirling, as scipy's _log_nfactorial_div_n_pow_n */
			double rn = 1.0 / n;

			p = exp(log((double)n) / 2 - n + log(2 * M_PI) / 2 + rn * stirling_series(rn * rn) +
				n * log(2 * t - 1));
		}
		*sf = clip01(1.0 - p);
		return 0;
	}
	if (t >= n - 1) {
		*sf = clip01(2 * pow(1.0 - x, (double)n));
		return 0;
	}
	if (x >= 0.5) {
		*sf = clip01(2 * smirnov(n, x));
		return 0;
	}
	nx2 = t * x;
	if (n <= 140) {
		if (nx2 <= 4) {
			if ((ret = kolmogn_dmtw(n, x, &cdf)) < 0)
				return ret;
			*sf = clip01(1.0 - cdf);
		} else {
			*sf = clip01(2 * smirnov(n, x));
		}
		return 0;
	}
	if (nx2 >= 370.0) {
		*sf = 0.0;
		return 0;
	}
	if (nx2 >= 2.2) {
		*sf = clip01(2 * smirnov(n, x));
		return 0;
	}
	if (n <= 100000 && n * pow(x, 1.5) <= 1.4) {
		if ((ret = kolmogn_dmtw(n, x, &cdf)) < 0)
			return ret;
	} else {
		cdf = clip01(kolmogn_pelzgood(n, x));
	}
	*sf = clip01(1.0 - cdf);
	return 0;
}

/* ---- the two-sample KS test ---- */

static size_t gcd(size_t a, size_t b)
{
	while (b) {
		size_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Pr(D_{n,n} >= h/n), scipy's _compute_prob_outside_square (a Horner form that avoids
 * the cancellation of the alternating sum of binomials). */
static double prob_outside_square(long n, long h)
{
	double P = 0.0;

	for (long k = n / h; k >= 0; k--) {
		double p1 = 1.0;

		for (long j = 0; j < h; j++)
			p1 = (double)(n - k * h - j) * p1 / (double)(n + k * h + j + 1);
		P = p1 * (1.0 - P);
	}
	return 2 * P;
}

/* The share of lattice paths from (0,0) to (m,n) that leave the band |x/m - y/n| <
 * h/lcm(m,n): scipy's _compute_outer_prob_inside_method (Viehmann's recursion for 1 - p). */
static int prob_outer_inside(long m, long n, long g, long h, double *out)
{
	long mg, ng, minj, maxj, curlen, lena;
	double *A;

	if (m < n) {
		long t = m;
		m = n;
		n = t;
	}
	mg = m / g;
	ng = n / g;
	minj = 0;
	maxj = (long)ceil((double)h / mg);
	if (maxj > n + 1)
		maxj = n + 1;
	curlen = maxj - minj;
	lena = 2 * maxj + 2 < n + 1 ? 2 * maxj + 2 : n + 1;
	if (!(A = mlctl_reallocarray(NULL, (size_t)lena, sizeof(*A))))
		return mlctl_error_oom();
	for (long i = 0; i < lena; i++)
		A[i] = i < maxj ? 0.0 : 1.0;
	for (long i = 1; i <= m; i++) {
		long lastminj = minj, lastlen = curlen;
		double val;

		minj = (long)floor((double)(ng * i - h) / mg) + 1;
		if (minj < 0)
			minj = 0;
		if (minj > n)
			minj = n;
		maxj = (long)ceil((double)(ng * i + h) / mg);
		if (maxj > n + 1)
			maxj = n + 1;
		if (maxj <= minj) {
			free(A);
			*out = 1.0;
			return 0;
		}
		val = minj == 0 ? 0.0 : 1.0;
		for (long jj = 0; jj < maxj - minj; jj++) {
			long j = jj + minj;

			val = (A[jj + minj - lastminj] * i + val * j) / (double)(i + j);
			A[jj] = val;
		}
		curlen = maxj - minj;
		for (long l = curlen; l < curlen + (lastlen - curlen) && l < lena; l++)
			A[l] = 1.0;
	}
	*out = A[maxj - minj - 1];
	free(A);
	return 0;
}

/* D as scipy finds it: the ECDFs at every value of both samples, searchsorted "right". */
static double ks_statistic(const double *a, size_t na, const double *b, size_t nb)
{
	double maxs = -INFINITY, mins = INFINITY;
	size_t i = 0, j = 0;

	while (i < na || j < nb) {
		double x = i < na && (j >= nb || a[i] <= b[j]) ? a[i] : b[j], diff;

		while (i < na && a[i] <= x)
			i++;
		while (j < nb && b[j] <= x)
			j++;
		diff = (double)i / (double)na - (double)j / (double)nb;
		if (diff > maxs)
			maxs = diff;
		if (diff < mins)
			mins = diff;
	}
	mins = -mins < 0 ? 0 : -mins > 1 ? 1 : -mins;
	return mins > maxs ? mins : maxs;
}

int drift_ks_2samp(const double *a, size_t na, const double *b, size_t nb, double *stat, double *pvalue)
{
	double *sa = NULL, *sb = NULL, d, p = NAN;
	bool exact;
	int ret = 0;

	if (na == 0 || nb == 0)
		return mlctl_error_set(MLCTL_EUSAGE, "ks_2samp: the %s sample is empty",
				       na == 0 ? "first" : "second");
	if (!(sa = sorted_copy(a, na)) || !(sb = sorted_copy(b, nb))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	d = ks_statistic(sa, na, sb, nb);
	exact = (na > nb ? na : nb) <= KS_MAX_AUTO_N;
	if (exact) {
		size_t g = gcd(na, nb);
		double lcm = (double)(na / g) * (double)nb, h = nearbyint(d * lcm);

		d = h / lcm;
		if (h == 0) {
			p = 1.0;
		} else if (na == nb) {
			p = prob_outside_square((long)na, (long)h);
		} else if ((ret = prob_outer_inside((long)na, (long)nb, (long)g, (long)h, &p)) < 0) {
			goto out;
		}
		/* scipy falls back to the asymptotic distribution when exact fails */
		exact = isfinite(p) && p >= 0 && p <= 1;
	}
	if (!exact) {
		double m = (double)(na > nb ? na : nb), n = (double)(na > nb ? nb : na);
		double en = m * n / (m + n);

		if ((ret = kstwo_sf((long)nearbyint(en), d, &p)) < 0)
			goto out;
	}
	*stat = d;
	*pvalue = clip01(p);
out:
	free(sa);
	free(sb);
	return ret;
}

/* ---- chi-square ---- */

#define IGAM_MAXITER 100000
#define IGAM_EPS 1e-16

/* The regularised lower incomplete gamma P(a, x) by its series (x < a + 1). */
static double igam_series(double a, double x, double lfac)
{
	double sum = 1.0, term = 1.0, ap = a;

	for (int i = 0; i < IGAM_MAXITER; i++) {
		ap += 1;
		term *= x / ap;
		sum += term;
		if (term < sum * IGAM_EPS)
			break;
	}
	return exp(lfac) * sum / a;
}

/* The regularised upper incomplete gamma Q(a, x) by its continued fraction (x >= a + 1),
 * Lentz's method as in Numerical Recipes' gcf. */
static double igamc_cf(double a, double x, double lfac)
{
	const double tiny = 1e-300;
	double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;

	for (int i = 1; i < IGAM_MAXITER; i++) {
		double an = -i * (i - a), del;

		b += 2;
		d = an * d + b;
		if (fabs(d) < tiny)
			d = tiny;
		c = b + an / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < IGAM_EPS)
			break;
	}
	return exp(lfac) * h;
}

/* log(1 + u) - u, without the cancellation of the two near u = 0. */
static double log1pmx(double u)
{
	double term = u, sum = 0;

	if (fabs(u) >= 0.5)
		return log1p(u) - u;
	/* -u^2/2 + u^3/3 - ...: |u| < 0.5 halves each term at least */
	for (int n = 2; n < 200; n++) {
		double t;

		term *= -u;
		t = term / n;
		sum += t;
		if (fabs(t) < 1e-17 * fabs(sum))
			break;
	}
	return sum;
}

/*
 * log(x^a e^-x / Gamma(a)), the factor in front of both expansions. For large a the
 * direct a log x - x - lgamma(a) subtracts numbers of size a log a and loses their
 * rounding (1e-10 at a = 1e5); written as a (log1p(u) - u) + log(a / 2 pi) / 2 minus
 * Stirling's correction, with u = (x - a) / a, it keeps full precision where x is near a.
 */
static double igam_logfactor(double a, double x)
{
	double ra, corr;

	if (a < 10)
		return a * log(x) - x - lgam(a);
	ra = 1 / a;
	corr = ra * stirling_series(ra * ra);
	return a * log1pmx((x - a) / a) + 0.5 * log(a / (2 * M_PI)) - corr;
}

/* Q(a, x) = scipy.special.gammaincc, the survival function of chi2 behind chdtrc. */
static double igamc(double a, double x)
{
	double lfac;

	if (isnan(a) || isnan(x) || a <= 0 || x < 0)
		return NAN;
	if (x == 0)
		return 1.0;
	if (isinf(x))
		return 0.0;
	lfac = igam_logfactor(a, x);
	if (x < a + 1)
		return clip01(1.0 - igam_series(a, x, lfac));
	return clip01(igamc_cf(a, x, lfac));
}

int drift_chisquare(const double *observed, const double *expected, size_t k, double *stat, double *pvalue)
{
	double s = 0;

	if (k < 2)
		return mlctl_error_set(MLCTL_EUSAGE, "chisquare: %zu categories; it needs at least 2", k);
	for (size_t i = 0; i < k; i++) {
		double d = observed[i] - expected[i];

		if (expected[i] == 0)
			s += d == 0 ? 0 : INFINITY;	/* (o - 0)^2 / 0 */
		else
			s += d * d / expected[i];
	}
	*stat = s;
	*pvalue = isinf(s) ? 0.0 : igamc((double)(k - 1) / 2, s / 2);
	return 0;
}

/* ---- Z, Wasserstein, Jensen-Shannon, PSI ---- */

int drift_proportion_z(double ref_hits, double ref_n, double cur_hits, double cur_n, double *z, double *pvalue)
{
	double p1, p2, P, se;

	if (!(ref_n > 0) || !(cur_n > 0))
		return mlctl_error_set(MLCTL_EUSAGE, "proportion z-test: a side has no values");
	p1 = ref_hits / ref_n;
	p2 = cur_hits / cur_n;
	P = (p1 * ref_n + p2 * cur_n) / (ref_n + cur_n);
	se = sqrt(P * (1 - P) * (1.0 / ref_n + 1.0 / cur_n));
	if (!(P > 0 && P < 1) || !(se > 0)) {
		*z = 0;
		*pvalue = 1;
		return 0;
	}
	*z = (p1 - p2) / se;
	*pvalue = erfc(fabs(*z) / M_SQRT2);	/* 2 * norm.sf(|z|), without 1 - cdf's cancellation */
	return 0;
}

int drift_wasserstein(const double *a, size_t na, const double *b, size_t nb, double *out)
{
	double *sa = NULL, *sb = NULL, sum = 0, comp = 0, prev;
	size_t i = 0, j = 0;
	int ret = 0;

	if (na == 0 || nb == 0)
		return mlctl_error_set(MLCTL_EUSAGE, "wasserstein_distance: the %s sample is empty",
				       na == 0 ? "first" : "second");
	if (!(sa = sorted_copy(a, na)) || !(sb = sorted_copy(b, nb))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	/*
	 * Walk all values in order: between consecutive values x_k and x_(k+1) the two ECDFs
	 * (searchsorted "right" at x_k) are constant, and the area between them is
	 * |u_cdf - v_cdf| * (x_(k+1) - x_k). Compensated summation stands in for numpy's
	 * pairwise sum, so that the result does not depend on the number of values.
	 */
	prev = sa[0] < sb[0] ? sa[0] : sb[0];
	while (i < na || j < nb) {
		double x = i < na && (j >= nb || sa[i] <= sb[j]) ? sa[i] : sb[j];
		double term = fabs((double)i / (double)na - (double)j / (double)nb) * (x - prev);
		double y = term - comp, t = sum + y;

		comp = (t - sum) - y;
		sum = t;
		prev = x;
		if (i < na && sa[i] == x)
			i++;
		else
			j++;
	}
	*out = sum;
out:
	free(sa);
	free(sb);
	return ret;
}

/* scipy.special.rel_entr */
static double rel_entr(double x, double y)
{
	if (x > 0 && y > 0)
		return x * log(x / y);
	if (x == 0 && y >= 0)
		return 0;
	return INFINITY;
}

double drift_jensenshannon(const double *p, const double *q, size_t k)
{
	double sp = 0, sq = 0, left = 0, right = 0, js;

	for (size_t i = 0; i < k; i++) {
		sp += p[i];
		sq += q[i];
	}
	for (size_t i = 0; i < k; i++) {
		double pi = p[i] / sp, qi = q[i] / sq, m = (pi + qi) / 2.0;

		left += rel_entr(pi, m);
		right += rel_entr(qi, m);
	}
	js = (left + right) / log(2.0);
	/* Rounding can leave a sum of -1e-17 for equal distributions, where scipy's sqrt
	 * gives NaN; the distance is 0. */
	return js > 0 ? sqrt(js / 2.0) : js == js ? 0.0 : js;
}

double drift_psi(const double *ref_counts, const double *cur_counts, size_t k)
{
	double sr = 0, sc = 0, psi = 0;

	for (size_t i = 0; i < k; i++) {
		sr += ref_counts[i];
		sc += cur_counts[i];
	}
	if (!(sr > 0) || !(sc > 0))
		return NAN;
	for (size_t i = 0; i < k; i++) {
		double r = ref_counts[i] / sr, c = cur_counts[i] / sc;

		if (r == 0)
			r = PSI_ZERO_SHARE;
		if (c == 0)
			c = PSI_ZERO_SHARE;
		psi += (c - r) * log(c / r);
	}
	return psi;
}

/* ---- one feature ---- */

/* A feature as categories: the keys present on either side, with both sides' counts. */
typedef struct cats {
	double *ref, *cur;
	size_t k;
	double ref_total, cur_total;
} cats;

static void cats_release(cats *c)
{
	free(c->ref);
	free(c->cur);
}

static int cats_alloc(cats *c, size_t n)
{
	c->ref = mlctl_calloc(n ? n : 1, sizeof(*c->ref));
	c->cur = mlctl_calloc(n ? n : 1, sizeof(*c->cur));
	return c->ref && c->cur ? 0 : MLCTL_ENOMEM;
}

static void cats_add(cats *c, double r, double u)
{
	if (r == 0 && u == 0)
		return;	/* a key neither side has is not a key of the union */
	c->ref[c->k] = r;
	c->cur[c->k] = u;
	c->ref_total += r;
	c->cur_total += u;
	c->k++;
}

static bool has_distinct(const drift_side *s)
{
	return !s->distinct_capped && (s->ndistinct > 0 || s->count == 0) &&
	       (s->ndistinct == 0 || (s->distinct_values && s->distinct_counts));
}

/* The number of distinct values of both sides together; SIZE_MAX when a side kept only
 * some of its values (more than its cap, hence more than FEW_VALUES). */
static size_t union_distinct(const drift_side *r, const drift_side *c)
{
	size_t i = 0, j = 0, n = 0;

	if (!has_distinct(r) || !has_distinct(c))
		return SIZE_MAX;
	while (i < r->ndistinct || j < c->ndistinct) {
		if (j >= c->ndistinct || (i < r->ndistinct && r->distinct_values[i] < c->distinct_values[j]))
			i++;
		else if (i >= r->ndistinct || c->distinct_values[j] < r->distinct_values[i])
			j++;
		else
			i++, j++;
		n++;
	}
	return n;
}

/* Categories of a numeric feature: the union of the exact distinct values of both sides. */
static int cats_from_distinct(cats *out, const drift_side *r, const drift_side *c)
{
	size_t i = 0, j = 0;

	if (cats_alloc(out, r->ndistinct + c->ndistinct) < 0)
		return MLCTL_ENOMEM;
	while (i < r->ndistinct || j < c->ndistinct) {
		if (j >= c->ndistinct || (i < r->ndistinct && r->distinct_values[i] < c->distinct_values[j])) {
			cats_add(out, (double)r->distinct_counts[i], 0);
			i++;
		} else if (i >= r->ndistinct || c->distinct_values[j] < r->distinct_values[i]) {
			cats_add(out, 0, (double)c->distinct_counts[j]);
			j++;
		} else {
			cats_add(out, (double)r->distinct_counts[i], (double)c->distinct_counts[j]);
			i++, j++;
		}
	}
	return 0;
}

static int cats_from_counts(cats *out, const double *r, const double *c, size_t n)
{
	if (cats_alloc(out, n) < 0)
		return MLCTL_ENOMEM;
	for (size_t i = 0; i < n; i++)
		cats_add(out, r[i], c[i]);
	return 0;
}

/*
 * The categories a test over counts uses: a categorical feature's counts; a numeric
 * feature's distinct values when both sides kept them all, else its decile bins.
 */
static int feature_cats(cats *out, bool categorical, const drift_side *r, const drift_side *c)
{
	memset(out, 0, sizeof(*out));
	if (categorical) {
		if (!r->cat_counts || !c->cat_counts || r->ncat != c->ncat || r->ncat == 0)
			return mlctl_error_set(MLCTL_EUSAGE, "the two sides have no common categories");
		return cats_from_counts(out, r->cat_counts, c->cat_counts, r->ncat);
	}
	if (union_distinct(r, c) != SIZE_MAX)
		return cats_from_distinct(out, r, c);
	if (r->bins && c->bins && r->nbins == c->nbins && r->nbins > 0) {
		int ret;

		if ((ret = cats_alloc(out, r->nbins)) < 0)
			return ret;
		for (size_t i = 0; i < r->nbins; i++)
			cats_add(out, (double)r->bins[i], (double)c->bins[i]);
		return 0;
	}
	return mlctl_error_set(MLCTL_EUSAGE,
			       "the profile has neither the distinct values nor the bins of this feature");
}

/* PSI over the reference's deciles (numeric) or the categories; NaN without them. */
static int feature_psi(double *out, bool categorical, const drift_side *r, const drift_side *c)
{
	double *rb, *cb;

	*out = NAN;
	if (categorical) {
		if (r->cat_counts && c->cat_counts && r->ncat == c->ncat && r->ncat > 0)
			*out = drift_psi(r->cat_counts, c->cat_counts, r->ncat);
		return 0;
	}
	if (!r->bins || !c->bins || r->nbins != c->nbins || r->nbins == 0)
		return 0;
	rb = mlctl_calloc(r->nbins, sizeof(*rb));
	cb = mlctl_calloc(r->nbins, sizeof(*cb));
	if (rb && cb) {
		for (size_t i = 0; i < r->nbins; i++) {
			rb[i] = (double)r->bins[i];
			cb[i] = (double)c->bins[i];
		}
		*out = drift_psi(rb, cb, r->nbins);
	}
	free(rb);
	free(cb);
	return rb && cb ? 0 : MLCTL_ENOMEM;
}

/* Evidently's default test for a feature (get_default_stattest). */
static drift_test default_test(bool few_values, size_t nkeys, size_t ref_rows)
{
	if (ref_rows <= SMALL_REFERENCE)
		return !few_values ? DRIFT_KS : nkeys > 2 ? DRIFT_CHISQUARE : DRIFT_Z;
	return !few_values ? DRIFT_WASSERSTEIN : DRIFT_JENSENSHANNON;
}

static int need_samples(const drift_side *r, const drift_side *c, drift_test t)
{
	if (r->sample && r->nsample > 0 && c->sample && c->nsample > 0)
		return 0;
	return mlctl_error_set(MLCTL_EUSAGE, "%s needs the values of both sides, and the %s has none "
			       "(a profile made before samples were kept)", drift_test_name(t),
			       r->sample && r->nsample > 0 ? "current data" : "reference");
}

/* Run test t on the feature into out->statistic and out->pvalue. */
static int run_test(drift_verdict *out, drift_test t, bool categorical, const drift_side *r, const drift_side *c)
{
	cats k = { 0 };
	int ret = 0;

	out->pvalue = NAN;
	switch (t) {
	case DRIFT_KS:
		if ((ret = need_samples(r, c, t)) == 0)
			ret = drift_ks_2samp(r->sample, r->nsample, c->sample, c->nsample,
					     &out->statistic, &out->pvalue);
		break;
	case DRIFT_WASSERSTEIN:
		if ((ret = need_samples(r, c, t)) == 0 &&
		    (ret = drift_wasserstein(r->sample, r->nsample, c->sample, c->nsample, &out->statistic)) == 0)
			out->statistic /= fmax(r->std, WASSERSTEIN_MIN_STD);
		break;
	case DRIFT_PSI:
		if ((ret = feature_psi(&out->statistic, categorical, r, c)) == 0 && isnan(out->statistic))
			ret = mlctl_error_set(MLCTL_EUSAGE, "psi needs the bins of both sides, and the profile has none");
		break;
	case DRIFT_CHISQUARE:
	case DRIFT_Z:
	case DRIFT_JENSENSHANNON:
		if ((ret = feature_cats(&k, categorical, r, c)) < 0)
			break;
		if (t == DRIFT_JENSENSHANNON) {
			out->statistic = drift_jensenshannon(k.ref, k.cur, k.k);
		} else if (t == DRIFT_Z) {
			/* hits of the first value on each side, as Evidently's keys[0] */
			ret = drift_proportion_z(k.k ? k.ref[0] : 0, k.ref_total, k.k ? k.cur[0] : 0,
						 k.cur_total, &out->statistic, &out->pvalue);
		} else if (k.k < 2) {
			/* one value on both sides: nothing moved (scipy would divide by zero df) */
			out->statistic = 0;
			out->pvalue = 1;
		} else {
			double *exp = mlctl_calloc(k.k, sizeof(*exp));

			if (!exp) {
				ret = MLCTL_ENOMEM;
				break;
			}
			/* Evidently: expected = reference counts scaled to the current total */
			for (size_t i = 0; i < k.k; i++)
				exp[i] = k.ref[i] * (k.cur_total / k.ref_total);
			ret = drift_chisquare(k.cur, exp, k.k, &out->statistic, &out->pvalue);
			free(exp);
		}
		break;
	default:
		ret = mlctl_error_set(MLCTL_EUSAGE, "unknown drift test %d", (int)t);
	}
	cats_release(&k);
	return ret;
}

int drift_compare(drift_verdict *out, bool categorical, const drift_side *ref, const drift_side *cur,
		  drift_test force, double threshold)
{
	size_t nd;
	int ret;

	memset(out, 0, sizeof(*out));
	out->statistic = out->pvalue = out->psi = NAN;
	if (ref->count == 0 || cur->count == 0)
		return mlctl_error_set(MLCTL_EUSAGE, "the %s has no values of this feature",
				       ref->count == 0 ? "reference" : "current data");
	if (categorical) {
		cats k = { 0 };

		if ((ret = feature_cats(&k, true, ref, cur)) < 0) {
			cats_release(&k);
			return ret;
		}
		nd = k.k;
		cats_release(&k);
	} else {
		nd = union_distinct(ref, cur);
	}
	out->ndistinct = nd == SIZE_MAX ? 0 : nd;
	out->test = force != DRIFT_AUTO ? force :
		default_test(categorical || nd <= FEW_VALUES, nd, ref->rows);
	out->threshold = isnan(threshold) ? drift_default_threshold(out->test) : threshold;
	if ((ret = feature_psi(&out->psi, categorical, ref, cur)) < 0)
		return ret;
	if ((ret = run_test(out, out->test, categorical, ref, cur)) < 0)
		return ret;
	if (drift_test_is_pvalue(out->test))
		out->drifted = out->pvalue < out->threshold;
	else
		out->drifted = out->statistic >= out->threshold;
	return 0;
}
