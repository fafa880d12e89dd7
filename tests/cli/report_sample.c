/*
 * report_sample.c — a monitor report to open in a browser (t0093): fills an
 * mlctl_monitor_result by hand as check_report does (a drifted numeric feature, a
 * categorical one named "<script>&" that did not drift, the predictions, a performance
 * drop, five past runs) and writes it with mlctl_monitor_report(), the library's only call.
 * The test builds it with `cc ... libmlctl.a` against the build under test.
 *
 *   report_sample OUT.html [NFEATURES]   (NFEATURES >= 2, default 2: more numeric ones)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlctl/monitor.h"

static void *must(void *p)
{
	if (!p) {
		fputs("report_sample: out of memory\n", stderr);
		exit(70);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	return must(strdup(s));
}

static void fill(mlctl_monitor_feature *f, const char *name, bool categorical, size_t nbins, bool drifted)
{
	static const char *cats[] = { "month-to-month", "one year", "two <years> & 'more'", "none" };
	char label[64];
	double rs = 0, cs = 0;
	size_t b;

	f->name = xstrdup(name);
	f->categorical = categorical;
	f->test = categorical ? "chisquare" : "ks";
	f->statistic = drifted ? 0.4213 : 0.0311;
	f->pvalue = drifted ? 1.2e-7 : 0.61;
	f->threshold = 0.05;
	f->drifted = drifted;
	f->psi = drifted ? 0.31 : 0.012;
	f->psi_alert = drifted;
	f->ref_missing = 0.01;
	f->cur_missing = 0.02;
	f->unseen = categorical ? 0.005 : 0;
	f->ref_count = 2475;
	f->cur_count = 990;
	f->ref_mean = categorical ? NAN : 179.8;
	f->cur_mean = categorical ? NAN : 231.4;
	f->nbins = nbins;
	f->bin_labels = must(calloc(nbins, sizeof(*f->bin_labels)));
	f->ref_share = must(calloc(nbins, sizeof(*f->ref_share)));
	f->cur_share = must(calloc(nbins, sizeof(*f->cur_share)));
	for (b = 0; b < nbins; b++) {
		/* A bell of reference shares; the current one moved right when drifted. */
		double x = ((double)b - (double)(nbins - 1) / 2) / (double)nbins * 4;
		double y = x - (drifted ? 1.2 : 0.1);

		if (categorical)
			snprintf(label, sizeof(label), "%s", cats[b % 4]);
		else
			snprintf(label, sizeof(label), "[%.0f, %.0f)", 100.0 + 20.0 * (double)b, 120.0 + 20.0 * (double)b);
		f->bin_labels[b] = xstrdup(label);
		f->ref_share[b] = exp(-x * x / 2);
		f->cur_share[b] = exp(-y * y / 2);
	}
	for (b = 0; b < nbins; b++) {
		rs += f->ref_share[b];
		cs += f->cur_share[b];
	}
	for (b = 0; b < nbins; b++) {
		f->ref_share[b] /= rs;
		f->cur_share[b] /= cs;
	}
}

static void unfill(mlctl_monitor_feature *f)
{
	size_t b;

	for (b = 0; b < f->nbins; b++)
		free(f->bin_labels[b]);
	free(f->bin_labels);
	free(f->ref_share);
	free(f->cur_share);
	free(f->name);
}

int main(int argc, char **argv)
{
	mlctl_monitor_result r;
	size_t i, k, n = argc > 2 ? strtoul(argv[2], NULL, 10) : 2;
	char name[64];
	int ret;

	if (argc < 2 || n < 2) {
		fputs("usage: report_sample OUT.html [NFEATURES]\n", stderr);
		return 64;
	}
	memset(&r, 0, sizeof(r));
	memcpy(r.run, "01JDRIFTREPORT0000000000AB", MLCTL_RUN_ID_SIZE);
	r.model = xstrdup("churn:3");
	r.source = xstrdup("current.csv");
	r.ref_rows = 2500;
	r.cur_rows = 1000;
	r.nfeatures = n;
	r.features = must(calloc(n, sizeof(*r.features)));
	fill(&r.features[0], "total_day_minutes", false, 12, true);
	fill(&r.features[1], "<script>&", true, 4, false);
	for (i = 2; i < n; i++) {
		snprintf(name, sizeof(name), "feature_%zu", i);
		fill(&r.features[i], name, false, 20, i % 3 == 0);
	}
	for (i = 0; i < n; i++)
		r.ndrifted += r.features[i].drifted;
	r.drift_share = 0.5;
	r.dataset_drift = (double)r.ndrifted >= 0.5 * (double)n;
	r.has_prediction = true;
	fill(&r.prediction, "churn", true, 2, true);
	r.prediction.test = "z";
	free(r.prediction.bin_labels[0]);
	free(r.prediction.bin_labels[1]);
	r.prediction.bin_labels[0] = xstrdup("False");
	r.prediction.bin_labels[1] = xstrdup("True");
	r.prediction.ref_share[0] = 0.86, r.prediction.ref_share[1] = 0.14;
	r.prediction.cur_share[0] = 0.71, r.prediction.cur_share[1] = 0.29;
	r.has_performance = true;
	r.metric = xstrdup("accuracy");
	r.baseline = 0.91;
	r.current = 0.84;
	r.drop = 0.07;
	r.max_drop = 0.05;
	r.performance_alert = true;
	r.alert = true;
	r.why = xstrdup("dataset drift; prediction drift (z 0.4213); accuracy dropped by 0.07 > 0.05");
	r.nhistory = 5;
	r.history = must(calloc(r.nhistory, sizeof(*r.history)));
	for (k = 0; k < r.nhistory; k++) {
		mlctl_monitor_point *p = &r.history[k];

		snprintf(p->run, sizeof(p->run), "01JHIST%019zu", k % 1000000000);
		p->time_ms = 1795747912123LL + (int64_t)k * 86400000;
		p->statistic = must(calloc(n, sizeof(*p->statistic)));
		for (i = 0; i < n; i++)
			p->statistic[i] = k == 2 && i == 1 ? NAN : 0.01 * (double)(k + 1) + 0.002 * (double)i;
		p->prediction = 0.02 * (double)k;
		p->dataset_drift = k == 3;
	}
	ret = mlctl_monitor_report(&r, argv[1]);
	if (ret)
		fprintf(stderr, "report_sample: %s\n", mlctl_error_last()->message);
	/* Freed by hand (mlctl_monitor_result_free() frees what mlctl_monitor() made), so that
	 * a sanitizer build sees no leak. */
	for (i = 0; i < n; i++)
		unfill(&r.features[i]);
	unfill(&r.prediction);
	for (k = 0; k < r.nhistory; k++)
		free(r.history[k].statistic);
	free(r.features);
	free(r.history);
	free(r.model);
	free(r.source);
	free(r.metric);
	free(r.why);
	return ret ? 1 : 0;
}
