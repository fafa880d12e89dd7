/*
 * check_report.c — lib/report: the monitor's HTML report written from a result built by
 * hand (lib/monitor.c fills real ones). The page is self-contained (no script, no address),
 * escapes what comes from data, has one chart per histogram and trend, says the verdict,
 * writes "—" for statistics an older profile could not give, stays under 1 MB for 50
 * features of 20 bins with 30 past runs whatever the row counts, and is parsed back with
 * Python's html.parser to check that its tags balance and the names read back unescaped.
 */
#include <ctype.h>
#include <math.h>
#include <sys/stat.h>

#include "check_util.h"
#include "error.h"
#include "mlctl/monitor.h"

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	ck_assert_ptr_nonnull(p);
	return p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	ck_assert_ptr_nonnull(p);
	return p;
}

/* A feature of nbins bins with shares that move by shift between the sides. */
static void fill_feature(mlctl_monitor_feature *f, const char *name, bool categorical, size_t nbins,
			 double shift, bool drifted)
{
	size_t b;
	char label[64];

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
	f->ref_count = 1000;
	f->cur_count = 990;
	f->ref_mean = categorical ? NAN : 180.5;
	f->cur_mean = categorical ? NAN : 210.25;
	f->nbins = nbins;
	f->bin_labels = xcalloc(nbins, sizeof(*f->bin_labels));
	f->ref_share = xcalloc(nbins, sizeof(*f->ref_share));
	f->cur_share = xcalloc(nbins, sizeof(*f->cur_share));
	for (b = 0; b < nbins; b++) {
		if (categorical)
			snprintf(label, sizeof(label), "cat<%zu>&'\"", b);
		else
			snprintf(label, sizeof(label), "[%g, %g)", 100.0 + 10.0 * (double)b,
				 110.0 + 10.0 * (double)b);
		f->bin_labels[b] = xstrdup(label);
		f->ref_share[b] = 1.0 / (double)nbins;
		f->cur_share[b] = (1.0 + shift * ((double)b - (double)(nbins - 1) / 2) / (double)nbins) /
				  (double)nbins;
	}
}

static void free_feature(mlctl_monitor_feature *f)
{
	size_t b;

	for (b = 0; b < f->nbins; b++)
		free(f->bin_labels[b]);
	free(f->bin_labels);
	free(f->ref_share);
	free(f->cur_share);
	free(f->name);
	free(f->note);
}

/*
 * A result of nfeatures features (the first numeric and drifted, the second categorical
 * named "<script>&" and not drifted, the others numeric, every third drifted), predictions,
 * performance and nhistory past runs.
 */
static mlctl_monitor_result *make_result(size_t nfeatures, size_t nbins, size_t nhistory, size_t cur_rows)
{
	mlctl_monitor_result *r = xcalloc(1, sizeof(*r));
	size_t i, k;
	char name[64];

	memcpy(r->run, "01JDRIFTREPORT0000000000AB", MLCTL_RUN_ID_SIZE);
	r->model = xstrdup("churn:3");
	r->source = xstrdup("current.csv");
	r->ref_rows = 2500;
	r->cur_rows = cur_rows;
	r->nfeatures = nfeatures;
	r->features = xcalloc(nfeatures, sizeof(*r->features));
	for (i = 0; i < nfeatures; i++) {
		bool drifted = i == 0 || (i > 1 && i % 3 == 0);

		if (i == 1) {
			fill_feature(&r->features[i], "<script>&", true, nbins < 4 ? nbins : 4, 0.1, false);
			continue;
		}
		snprintf(name, sizeof(name), i ? "feature_%zu" : "total_day_minutes", i);
		fill_feature(&r->features[i], name, false, nbins, drifted ? 3.0 : 0.2, drifted);
		r->ndrifted += drifted;
	}
	r->drift_share = 0.5;
	r->dataset_drift = (double)r->ndrifted >= 0.5 * (double)nfeatures;
	r->has_prediction = true;
	fill_feature(&r->prediction, "churn", true, 2, 0.8, true);
	r->prediction.test = "z";
	r->has_performance = true;
	r->metric = xstrdup("accuracy");
	r->baseline = 0.91;
	r->current = 0.84;
	r->drop = 0.07;
	r->max_drop = 0.05;
	r->performance_alert = true;
	r->alert = true;
	r->why = xstrdup("prediction drift (z 0.4213); accuracy dropped by 0.07 > 0.05");
	r->nhistory = nhistory;
	r->history = xcalloc(nhistory, sizeof(*r->history));
	for (k = 0; k < nhistory; k++) {
		mlctl_monitor_point *p = &r->history[k];

		snprintf(p->run, sizeof(p->run), "01JHIST%019zu", k);
		p->time_ms = 1795747912123LL + (int64_t)k * 86400000;
		p->statistic = xcalloc(nfeatures, sizeof(*p->statistic));
		for (i = 0; i < nfeatures; i++)
			p->statistic[i] = 0.01 * (double)(k + 1) + 0.001 * (double)i;
		p->prediction = 0.02 * (double)k;
		p->dataset_drift = k % 2 == 1;
	}
	return r;
}

static void free_result(mlctl_monitor_result *r)
{
	size_t i;

	for (i = 0; i < r->nfeatures; i++)
		free_feature(&r->features[i]);
	free(r->features);
	free_feature(&r->prediction);
	for (i = 0; i < r->nhistory; i++)
		free(r->history[i].statistic);
	free(r->history);
	free(r->model);
	free(r->source);
	free(r->metric);
	free(r->why);
	free(r);
}

/* How many times needle occurs in hay. */
static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
		n++;
	return n;
}

/* hay lowercased, for case-insensitive searches (fresh buffer). */
static char *lower(const char *hay)
{
	char *s = xstrdup(hay), *p;

	for (p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* Write r to name under the temp directory and read the page back. */
static char *write_and_read(const mlctl_monitor_result *r, const char *name, size_t *len)
{
	char *page;

	ck_assert_msg(mlctl_monitor_report(r, tmp_path(name)) == 0, "%s", mlctl_error_last()->message);
	page = read_all(tmp_path(name), len);
	ck_assert_ptr_nonnull(page);
	return page;
}

START_TEST(test_report_page)
{
	mlctl_monitor_result *r = make_result(2, 10, 5, 990);
	char *page, *low;
	struct stat st;

	page = write_and_read(r, "report.html", NULL);
	ck_assert_int_eq(stat(tmp_path("report.html"), &st), 0);
	ck_assert_int_eq(strncmp(page, "<!DOCTYPE html>", 15), 0);
	ck_assert_ptr_nonnull(strstr(page, "<meta charset=\"utf-8\">"));
	low = lower(page);
	ck_assert_ptr_null(strstr(low, "<script"));
	ck_assert_ptr_null(strstr(low, "http:"));
	ck_assert_ptr_null(strstr(low, "https:"));
	ck_assert_ptr_null(strstr(low, "url("));
	ck_assert_ptr_null(strstr(low, "@import"));
	ck_assert_ptr_null(strstr(low, "src="));
	ck_assert_ptr_null(strstr(low, "href="));
	/* The nasty name, and the category labels, only escaped. */
	ck_assert_ptr_null(strstr(page, "<script>&"));
	ck_assert_ptr_nonnull(strstr(page, "&lt;script&gt;&amp;"));
	ck_assert_ptr_nonnull(strstr(page, "cat&lt;0&gt;&amp;&#39;&quot;"));
	/* Histograms: 2 features + predictions; trends: the same three. */
	ck_assert_uint_eq(count(page, "<svg"), 6);
	ck_assert_uint_eq(count(page, "</svg>"), 6);
	/* The verdicts: the alert and why, dataset drift (1 of 2 at 0.5), the drifted row
	 * marked in text as well as colour, the performance. */
	ck_assert_ptr_nonnull(strstr(page, "class=\"verdict alert\""));
	ck_assert_ptr_nonnull(strstr(page, "ALERT: prediction drift (z 0.4213); accuracy dropped by 0.07 &gt; 0.05"));
	ck_assert_ptr_nonnull(strstr(page, "1 of 2 features drifted"));
	ck_assert_ptr_nonnull(strstr(page, "<tr class=\"drift\"><td>total_day_minutes</td>"));
	ck_assert_ptr_nonnull(strstr(page, "DRIFT</td>"));
	ck_assert_ptr_nonnull(strstr(page, "<tr class=\"ok\"><td>&lt;script&gt;&amp;</td>"));
	ck_assert_ptr_nonnull(strstr(page, "accuracy: baseline 0.91, current 0.84, drop 0.07 (max drop 0.05)"));
	ck_assert_ptr_nonnull(strstr(page, "reference 2500, current 990"));
	/* Both colours, a legend, axis labels, the statistic in the title, the threshold dashed. */
	ck_assert_ptr_nonnull(strstr(page, "class=\"ref\""));
	ck_assert_ptr_nonnull(strstr(page, "class=\"cur\""));
	ck_assert_ptr_nonnull(strstr(page, ">reference</text>"));
	ck_assert_ptr_nonnull(strstr(page, ">share</text>"));
	ck_assert_ptr_nonnull(strstr(page, "ks 0.4213 (p 1.2e-07), threshold 0.05"));
	ck_assert_uint_eq(count(page, "class=\"thr\""), 3);
	ck_assert_uint_eq(count(page, "class=\"flag\""), 3 * 3);   /* runs 1 and 3, and now */
	ck_assert_ptr_null(strstr(page, "nan"));
	free(low);
	free(page);
	free_result(r);
}
END_TEST

/* The page parsed back by html.parser: tags balance (void elements aside), and the text of
 * the first feature cells reads back as the names themselves. */
static const char *parse_py =
	"import sys, html.parser\n"
	"VOID = {'meta', 'rect', 'line', 'circle', 'polyline', 'br'}\n"
	"class P(html.parser.HTMLParser):\n"
	"    def __init__(self):\n"
	"        super().__init__(); self.stack = []; self.cells = []; self.err = []; self.td = None\n"
	"        self.feat = False\n"
	"    def handle_starttag(self, t, a):\n"
	"        if t not in VOID: self.stack.append(t)\n"
	"        if t == 'table': self.feat = ('class', 'features') in a\n"
	"        if t == 'td' and self.feat: self.td = ''\n"
	"    def handle_startendtag(self, t, a): pass\n"
	"    def handle_endtag(self, t):\n"
	"        if not self.stack or self.stack[-1] != t: self.err.append(t); return\n"
	"        self.stack.pop()\n"
	"        if t == 'td' and self.td is not None: self.cells.append(self.td); self.td = None\n"
	"    def handle_data(self, d):\n"
	"        if self.td is not None: self.td += d\n"
	"p = P(); p.feed(open(sys.argv[1], encoding='utf-8').read()); p.close()\n"
	"print(len(p.stack), len(p.err), repr(p.cells[0]), repr(p.cells[11]))\n";

START_TEST(test_report_parses_back)
{
	mlctl_monitor_result *r = make_result(2, 6, 3, 990);
	char cmd[1024], out[4096] = "";
	size_t n;
	FILE *p;

	free(r->features[0].name);
	r->features[0].name = xstrdup("caf\xc3\xa9 \xff bad");
	ck_assert_int_eq(mlctl_monitor_report(r, tmp_path("r.html")), 0);
	write_tmp("parse.py", parse_py);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s", tmp_path("parse.py"), tmp_path("r.html"));
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_str_eq(out, "0 0 'café \ufffd bad' '<script>&'\n");
	free_result(r);
}
END_TEST

/* 50 features of 20 bins and 30 past runs: under 1 MB, and the same size (within the
 * digits of the row counts) for 1,000 and 1,000,000 current rows. */
START_TEST(test_report_size)
{
	mlctl_monitor_result *a = make_result(50, 20, 30, 1000), *b = make_result(50, 20, 30, 1000000);
	size_t la, lb;
	char *pa = write_and_read(a, "a.html", &la), *pb = write_and_read(b, "b.html", &lb);

	ck_assert_msg(la < 1000000, "report of 50 features x 20 bins x 30 runs is %zu bytes", la);
	ck_assert_uint_eq(lb, la + 3);
	ck_assert_uint_eq(count(pa, "<svg"), 2 * 51);
	free(pa);
	free(pb);
	free_result(a);
	free_result(b);
}
END_TEST

/* A result from an older profile: NaN statistics, p-values, PSI and shares, no bins, no
 * history. The page says "—", never "nan" or "inf". */
START_TEST(test_report_nan)
{
	mlctl_monitor_result *r = make_result(3, 5, 0, 10);
	mlctl_monitor_feature *f = &r->features[2];
	char *page;

	f->statistic = f->pvalue = f->psi = f->threshold = NAN;
	f->ref_missing = f->cur_missing = f->unseen = NAN;
	f->ref_share[1] = NAN;
	f->cur_share[2] = INFINITY;
	f->note = xstrdup("the reference profile has no sample: no KS");
	r->features[0].nbins = 0;   /* the labels stay allocated: free_feature frees nbins of them */
	r->max_drop = NAN;
	r->missing_stats = 4;
	r->alert = false;
	free(r->why);
	r->why = NULL;
	page = write_and_read(r, "old.html", NULL);
	r->features[0].nbins = 5;
	ck_assert_ptr_null(strstr(page, "nan"));
	ck_assert_ptr_null(strstr(page, "NaN"));
	ck_assert_ptr_null(strstr(page, ">inf"));
	ck_assert_ptr_nonnull(strstr(page, "<td class=\"num\">\xE2\x80\x94</td>"));
	ck_assert_ptr_nonnull(strstr(page, "(max drop \xE2\x80\x94)"));
	ck_assert_ptr_nonnull(strstr(page, "4 statistics could not be computed"));
	ck_assert_ptr_nonnull(strstr(page, "the reference profile has no sample: no KS"));
	ck_assert_ptr_nonnull(strstr(page, "no histogram in the reference profile"));
	ck_assert_ptr_nonnull(strstr(page, "class=\"verdict ok\""));
	ck_assert_ptr_nonnull(strstr(page, "No earlier monitor run"));
	ck_assert_uint_eq(count(page, "<svg"), 4);
	free(page);
	free_result(r);
}
END_TEST

/* A path that cannot be created: MLCTL_ECREATE naming it, and nothing left behind; the old
 * file at a good path is replaced whole. */
START_TEST(test_report_errors)
{
	mlctl_monitor_result *r = make_result(2, 4, 1, 10);
	char *list;

	expect_err(mlctl_monitor_report(r, tmp_path("no/such/dir/r.html")), MLCTL_ECREATE, "no/such/dir/r.html");
	mkdir(tmp_path("isdir"), 0755);
	expect_err(mlctl_monitor_report(r, tmp_path("isdir")), MLCTL_ECREATE, "isdir");
	write_tmp("r.html", "old");
	ck_assert_int_eq(mlctl_monitor_report(r, tmp_path("r.html")), 0);
	ck_assert_int_gt(count_lines(tmp_path("r.html")), 10);
	list = dir_list(test_tmpdir);
	ck_assert_str_eq(list, "isdir r.html");
	free(list);
	free_result(r);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, test_report_page);
	tcase_add_test(tc, test_report_parses_back);
	tcase_add_test(tc, test_report_size);
	tcase_add_test(tc, test_report_nan);
	tcase_add_test(tc, test_report_errors);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(report_suite)
