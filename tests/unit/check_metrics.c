/*
 * check_metrics.c — lib/metrics against scikit-learn on real data: models trained by the
 * real svm-train on splits of letter.csv (26 classes), heart_scale (binary) and
 * concrete.csv (regression), their predictions, probabilities and decision values made by
 * libsvm, and every reported number compared with what sklearn.metrics
 * (tests/unit/metrics_ref.py under /usr/bin/python3) computes from the same files.
 */
#include <libsvm/svm.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>

#include "check_util.h"
#include "error.h"
#include "metrics.h"

#define TOL 1e-9

/* Run a shell command built from fmt; the test fails unless it exits 0. */
static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
}

/*
 * Rows [skip, skip + ntrain) of a CSV file with a header to train, the next ntest rows
 * to test, both in libsvm format. The label is the first column (a quoted letter, A → 1)
 * when letter_label, else the last column (a number).
 */
static void csv_to_svm(const char *csv, bool letter_label, size_t ntrain, size_t ntest,
		       const char *train, const char *test)
{
	FILE *in = fopen(csv, "r"), *tr = fopen(train, "w"), *te = fopen(test, "w");
	char line[4096];
	size_t row = 0;

	ck_assert(in && tr && te);
	ck_assert(fgets(line, sizeof(line), in));   /* header */
	while (row < ntrain + ntest && fgets(line, sizeof(line), in)) {
		FILE *o = row < ntrain ? tr : te;
		char *tok[64], *p = line, *save = NULL;
		int nt = 0, i, first;

		line[strcspn(line, "\r\n")] = '\0';
		while (nt < 64 && (tok[nt] = strtok_r(p, ",", &save))) {
			p = NULL;
			nt++;
		}
		if (letter_label) {
			fprintf(o, "%d", tok[0][1] - 'A' + 1);
			first = 1;
		} else {
			fprintf(o, "%s", tok[nt - 1]);
			first = 0;
			nt--;
		}
		for (i = first; i < nt; i++)
			fprintf(o, " %d:%s", i - first + 1, tok[i]);
		fputc('\n', o);
		row++;
	}
	ck_assert_uint_eq(row, ntrain + ntest);
	fclose(in);
	fclose(tr);
	fclose(te);
}

/* A libsvm-format file: labels and sparse rows. */
struct svdata {
	size_t n;
	double *y;
	struct svm_node **x;
};

static void svdata_read(struct svdata *d, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[8192];

	ck_assert(f);
	memset(d, 0, sizeof(*d));
	while (fgets(line, sizeof(line), f)) {
		struct svm_node *row = calloc(64, sizeof(*row));
		char *p = line, *end;
		int k = 0;

		d->y = realloc(d->y, (d->n + 1) * sizeof(*d->y));
		d->x = realloc(d->x, (d->n + 1) * sizeof(*d->x));
		ck_assert(row && d->y && d->x);
		d->y[d->n] = strtod(p, &end);
		ck_assert(end != p);
		p = end;
		while (k < 63) {
			long idx = strtol(p, &end, 10);

			if (end == p || *end != ':')
				break;
			row[k].index = (int)idx;
			row[k].value = strtod(end + 1, &p);
			k++;
		}
		row[k].index = -1;
		d->x[d->n++] = row;
	}
	fclose(f);
}

static void svdata_free(struct svdata *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->x[i]);
	free(d->x);
	free(d->y);
}

/* Predictions of one model on one test file, columns in class_values order. */
struct preds {
	size_t n, k;
	double *y_true, *y_pred, *proba, *dec;
};

/*
 * Predict test with the model file through libsvm (full precision, unlike svm-predict's
 * %g), write them in svm-predict's format to pred_path (and the decision values, one per
 * line, to dec_path when not NULL), and check that the labels agree with the real
 * svm-predict's.
 */
static void predict(struct preds *pr, const char *model_path, const char *test_path,
		    const double *class_values, size_t k, bool proba, const char *pred_path,
		    const char *dec_path)
{
	struct svm_model *m = svm_load_model(model_path);
	struct svdata d;
	FILE *pf = fopen(pred_path, "w"), *df = dec_path ? fopen(dec_path, "w") : NULL;
	FILE *sp;
	int labels[64], nr, i, col[64];
	double pe[64], dv[64 * 63 / 2];
	size_t r, c;
	char line[8192];

	ck_assert(m && pf);
	svdata_read(&d, test_path);
	memset(pr, 0, sizeof(*pr));
	pr->n = d.n;
	pr->k = k;
	pr->y_true = calloc(d.n, sizeof(double));
	pr->y_pred = calloc(d.n, sizeof(double));
	pr->proba = proba ? calloc(d.n * k, sizeof(double)) : NULL;
	pr->dec = dec_path ? calloc(d.n, sizeof(double)) : NULL;
	nr = svm_get_nr_class(m);
	if (nr > 1 && svm_get_svm_type(m) <= NU_SVC) {
		svm_get_labels(m, labels);
		/* col[j]: where model class j goes in class_values order. */
		for (i = 0; i < nr; i++)
			for (c = 0; c < k; c++)
				if (class_values[c] == labels[i])
					col[i] = (int)c;
	}
	if (proba) {
		fprintf(pf, "labels");
		for (i = 0; i < nr; i++)
			fprintf(pf, " %d", labels[i]);
		fputc('\n', pf);
	}
	for (r = 0; r < d.n; r++) {
		pr->y_true[r] = d.y[r];
		if (proba) {
			pr->y_pred[r] = svm_predict_probability(m, d.x[r], pe);
			fprintf(pf, "%.17g", pr->y_pred[r]);
			for (i = 0; i < nr; i++) {
				pr->proba[r * k + col[i]] = pe[i];
				fprintf(pf, " %.17g", pe[i]);
			}
			fputc('\n', pf);
		} else {
			pr->y_pred[r] = svm_predict(m, d.x[r]);
			fprintf(pf, "%.17g\n", pr->y_pred[r]);
		}
		if (df) {
			/* libsvm's value is positive for its first label: make it positive
			 * for class_values[1], as metrics.h wants. */
			svm_predict_values(m, d.x[r], dv);
			pr->dec[r] = labels[0] == class_values[1] ? dv[0] : -dv[0];
			fprintf(df, "%.17g\n", pr->dec[r]);
		}
	}
	fclose(pf);
	if (df)
		fclose(df);
	/* The real svm-predict must predict the same labels. */
	sh("svm-predict %s %s %s %s >/dev/null", proba ? "-b 1" : "", test_path, model_path,
	   tmp_path("svm-predict.out"));
	sp = fopen(tmp_path("svm-predict.out"), "r");
	ck_assert(sp);
	if (proba)
		ck_assert(fgets(line, sizeof(line), sp));
	for (r = 0; r < d.n; r++) {
		ck_assert(fgets(line, sizeof(line), sp));
		ck_assert_msg(fabs(strtod(line, NULL) - pr->y_pred[r]) <= 1e-5 * fabs(pr->y_pred[r]) + 1e-9,
			      "row %zu: svm-predict says %s, libsvm %.17g", r + 1, line, pr->y_pred[r]);
	}
	fclose(sp);
	svdata_free(&d);
	svm_free_and_destroy_model(&m);
}

static void preds_free(struct preds *pr)
{
	free(pr->y_true);
	free(pr->y_pred);
	free(pr->proba);
	free(pr->dec);
}

/*
 * Run metrics_ref.py with args and compare: every value it prints must be in the report
 * within TOL (nan where sklearn says nan), the report must have no other value, and the
 * confusion matrix must match cell by cell.
 */
static void compare_with_sklearn(const metrics_report *r, const char *args)
{
	const char *root = getenv("MLCTL_SRCDIR");
	char cmd[4096], line[1024];
	size_t nseen = 0, ncells = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/unit/metrics_ref.py %s",
		 root ? root : ".", args);
	p = popen(cmd, "r");
	ck_assert(p);
	while (fgets(line, sizeof(line), p)) {
		char name[512];
		double want, got;
		unsigned i, j;
		size_t cnt;

		if (sscanf(line, "cm %u %u %zu", &i, &j, &cnt) == 3) {
			ck_assert_uint_lt(i, r->nclasses);
			ck_assert_uint_lt(j, r->nclasses);
			ck_assert_msg(r->confusion[i * r->nclasses + j] == cnt,
				      "confusion[%u][%u]: %zu, sklearn %zu", i, j,
				      r->confusion[i * r->nclasses + j], cnt);
			ncells++;
			continue;
		}
		ck_assert_msg(sscanf(line, "%511s %lf", name, &want) == 2, "bad line %s", line);
		ck_assert_msg(metrics_get(r, name, &got), "report lacks %s (sklearn: %.17g)", name, want);
		if (isnan(want))
			ck_assert_msg(isnan(got), "%s: %.17g, sklearn nan", name, got);
		else
			ck_assert_msg(fabs(got - want) <= TOL, "%s: %.17g, sklearn %.17g", name, got, want);
		nseen++;
	}
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_msg(nseen == r->nvalues, "sklearn gave %zu values, report has %zu", nseen, r->nvalues);
	ck_assert_uint_eq(ncells, r->nclasses * r->nclasses);
}

static const char *const letter_names[] = {
	"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q",
	"R", "S", "T", "U", "V", "W", "X", "Y", "Z", "unused"
};

/* letter.csv: train on 2500 rows with -b 1, predict the next 1500. */
static void letter_preds(struct preds *pr, double *classes)
{
	int c;

	for (c = 0; c < 27; c++)
		classes[c] = c + 1;
	csv_to_svm(data_path("letter.csv"), true, 2500, 1500, tmp_path("letter.train"),
		   tmp_path("letter.test"));
	sh("svm-train -q -b 1 -c 8 -g 0.05 %s %s", tmp_path("letter.train"), tmp_path("letter.model"));
	predict(pr, tmp_path("letter.model"), tmp_path("letter.test"), classes, 26, true,
		tmp_path("letter.pred"), NULL);
}

START_TEST(test_metrics_letter_26_classes)
{
	struct preds pr;
	double classes[27], acc;
	metrics_report *r = NULL;
	char args[2048];

	letter_preds(&pr, classes);
	ck_assert_int_eq(metrics_classification(&r, pr.y_true, pr.y_pred, pr.n, classes,
						letter_names, 26, pr.proba, NULL), 0);
	ck_assert(metrics_get(r, "accuracy", &acc));
	ck_assert_msg(acc > 0.7 && acc < 1.0, "accuracy %g", acc);
	ck_assert(metrics_get(r, "roc_auc", &acc));
	ck_assert(metrics_get(r, "log_loss", &acc));
	ck_assert(metrics_get(r, "recall[Q]", &acc));
	snprintf(args, sizeof(args), "cls %s %s - %s %s", tmp_path("letter.test"), tmp_path("letter.pred"),
		 "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26",
		 "A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P,Q,R,S,T,U,V,W,X,Y,Z");
	compare_with_sklearn(r, args);
	metrics_report_free(r);
	preds_free(&pr);
}
END_TEST

/*
 * The same predictions with every Z predicted as Y (Z is never predicted: precision 0 by
 * zero_division) and a 27th class in neither y_true nor y_pred, which sklearn's labels=None
 * leaves out of the macro averages and the per-class values.
 */
START_TEST(test_metrics_letter_class_never_predicted)
{
	struct preds pr;
	double classes[27], v;
	metrics_report *r = NULL;
	char args[2048];
	FILE *f;
	size_t i, nz = 0;

	letter_preds(&pr, classes);
	f = fopen(tmp_path("never.pred"), "w");
	for (i = 0; i < pr.n; i++) {
		if (pr.y_pred[i] == 26)
			pr.y_pred[i] = 25;
		nz += pr.y_true[i] == 26;
		fprintf(f, "%.17g\n", pr.y_pred[i]);
	}
	fclose(f);
	ck_assert_uint_gt(nz, 0);
	ck_assert_int_eq(metrics_classification(&r, pr.y_true, pr.y_pred, pr.n, classes,
						letter_names, 27, NULL, NULL), 0);
	ck_assert(metrics_get(r, "precision[Z]", &v));
	ck_assert(v == 0.0);
	ck_assert(metrics_get(r, "recall[Z]", &v));
	ck_assert(v == 0.0);
	ck_assert(!metrics_get(r, "precision[unused]", &v));
	ck_assert(!metrics_get(r, "roc_auc", &v));
	ck_assert_uint_eq(r->nclasses, 27);
	snprintf(args, sizeof(args), "cls %s %s - %s %s", tmp_path("letter.test"), tmp_path("never.pred"),
		 "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27",
		 "A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P,Q,R,S,T,U,V,W,X,Y,Z,unused");
	compare_with_sklearn(r, args);
	metrics_report_free(r);
	preds_free(&pr);
}
END_TEST

static const double heart_classes[] = { -1, 1 };
static const char *const heart_names[] = { "absent", "present" };

/* heart_scale: train on the first 170 rows with -b 1, test on the last 100. */
static void heart_preds(struct preds *pr, bool proba)
{
	sh("head -n 170 %s > %s", data_path("heart_scale"), tmp_path("heart.train"));
	sh("tail -n 100 %s > %s", data_path("heart_scale"), tmp_path("heart.test"));
	sh("svm-train -q -b 1 %s %s", tmp_path("heart.train"), tmp_path("heart.model"));
	predict(pr, tmp_path("heart.model"), tmp_path("heart.test"), heart_classes, 2, proba,
		tmp_path("heart.pred"), tmp_path("heart.dec"));
}

START_TEST(test_metrics_heart_proba)
{
	struct preds pr;
	metrics_report *r = NULL;
	char args[2048];
	double auc, ll;

	heart_preds(&pr, true);
	ck_assert_int_eq(metrics_classification(&r, pr.y_true, pr.y_pred, pr.n, heart_classes,
						heart_names, 2, pr.proba, NULL), 0);
	ck_assert(metrics_get(r, "roc_auc", &auc));
	ck_assert(metrics_get(r, "log_loss", &ll));
	ck_assert_msg(auc > 0.8 && auc < 1 && ll > 0.1 && ll < 1, "auc %g log_loss %g", auc, ll);
	snprintf(args, sizeof(args), "cls %s %s - -1,1 absent,present", tmp_path("heart.test"),
		 tmp_path("heart.pred"));
	compare_with_sklearn(r, args);
	metrics_report_free(r);
	preds_free(&pr);
}
END_TEST

START_TEST(test_metrics_heart_decision_values)
{
	struct preds pr;
	metrics_report *r = NULL;
	char args[2048];
	double v;

	heart_preds(&pr, false);
	ck_assert_int_eq(metrics_classification(&r, pr.y_true, pr.y_pred, pr.n, heart_classes,
						heart_names, 2, NULL, pr.dec), 0);
	ck_assert(metrics_get(r, "roc_auc", &v));
	ck_assert(!metrics_get(r, "log_loss", &v));
	snprintf(args, sizeof(args), "cls %s %s %s -1,1 absent,present", tmp_path("heart.test"),
		 tmp_path("heart.pred"), tmp_path("heart.dec"));
	compare_with_sklearn(r, args);
	metrics_report_free(r);
	preds_free(&pr);
}
END_TEST

/* Decision values rounded to one decimal: many ties, which sklearn counts together. */
START_TEST(test_metrics_auc_ties)
{
	struct preds pr;
	metrics_report *r = NULL;
	char args[2048];
	size_t i;
	FILE *f;

	heart_preds(&pr, false);
	f = fopen(tmp_path("ties.dec"), "w");
	for (i = 0; i < pr.n; i++) {
		pr.dec[i] = round(pr.dec[i] * 2) / 2;
		fprintf(f, "%.17g\n", pr.dec[i]);
	}
	fclose(f);
	ck_assert_int_eq(metrics_classification(&r, pr.y_true, pr.y_pred, pr.n, heart_classes,
						heart_names, 2, NULL, pr.dec), 0);
	snprintf(args, sizeof(args), "cls %s %s %s -1,1 absent,present", tmp_path("heart.test"),
		 tmp_path("heart.pred"), tmp_path("ties.dec"));
	compare_with_sklearn(r, args);
	metrics_report_free(r);
	preds_free(&pr);
}
END_TEST

START_TEST(test_metrics_concrete_regression)
{
	struct preds pr;
	metrics_report *r = NULL;
	char args[2048];
	double r2;

	csv_to_svm(data_path("concrete.csv"), false, 700, 330, tmp_path("concrete.raw"),
		   tmp_path("concrete.rawtest"));
	sh("svm-scale -s %s %s > %s", tmp_path("range"), tmp_path("concrete.raw"), tmp_path("concrete.train"));
	sh("svm-scale -r %s %s > %s", tmp_path("range"), tmp_path("concrete.rawtest"), tmp_path("concrete.test"));
	sh("svm-train -q -s 3 -c 64 -g 0.5 %s %s", tmp_path("concrete.train"), tmp_path("concrete.model"));
	predict(&pr, tmp_path("concrete.model"), tmp_path("concrete.test"), NULL, 0, false,
		tmp_path("concrete.pred"), NULL);
	ck_assert_int_eq(metrics_regression(&r, pr.y_true, pr.y_pred, pr.n), 0);
	ck_assert(metrics_get(r, "r2", &r2));
	ck_assert_msg(r2 > 0.5 && r2 < 1, "r2 %g", r2);
	snprintf(args, sizeof(args), "reg %s %s", tmp_path("concrete.test"), tmp_path("concrete.pred"));
	compare_with_sklearn(r, args);
	metrics_report_free(r);
	preds_free(&pr);
}
END_TEST

/* Write y_true and y_pred as a truth file and a prediction file, compute and compare. */
static void regression_case(const double *yt, const double *yp, size_t n, double want_r2)
{
	FILE *t = fopen(tmp_path("reg.truth"), "w"), *p = fopen(tmp_path("reg.pred"), "w");
	metrics_report *r = NULL;
	char args[1024];
	double r2;
	size_t i;

	for (i = 0; i < n; i++) {
		fprintf(t, "%.17g\n", yt[i]);
		fprintf(p, "%.17g\n", yp[i]);
	}
	fclose(t);
	fclose(p);
	ck_assert_int_eq(metrics_regression(&r, yt, yp, n), 0);
	ck_assert(metrics_get(r, "r2", &r2));
	if (!isnan(want_r2))
		ck_assert_msg(r2 == want_r2, "r2 %.17g, want %.17g", r2, want_r2);
	snprintf(args, sizeof(args), "reg %s %s", tmp_path("reg.truth"), tmp_path("reg.pred"));
	compare_with_sklearn(r, args);
	metrics_report_free(r);
}

/*
 * Constant y_true: 1 when the predictions are perfect, 0 otherwise (sklearn's
 * force_finite) — and where the mean of the constant is not exact in floating point
 * (0.1 × 1000), whatever numpy's summation gives, which the comparison pins down.
 */
START_TEST(test_metrics_r2_constant_truth)
{
	static double yt[1000], yp[1000];
	size_t i;

	for (i = 0; i < 1000; i++) {
		yt[i] = 5;
		yp[i] = 5;
	}
	regression_case(yt, yp, 1000, 1.0);
	yp[3] = 6;
	regression_case(yt, yp, 1000, 0.0);
	for (i = 0; i < 1000; i++) {
		yt[i] = 0.1;
		yp[i] = 0.1 + (double)(i % 7) * 0.01;
	}
	regression_case(yt, yp, 1000, NAN);
	regression_case(yt, yp, 7, NAN);
	regression_case(yt, yp, 1, NAN);   /* sklearn: nan below two samples */
}
END_TEST

/*
 * Probabilities of exactly 0 and 1 and rows that do not sum to 1: log_loss clips to
 * [eps, 1 - eps] (float64 epsilon) and renormalises, as sklearn 1.2 does.
 */
START_TEST(test_metrics_log_loss_clipping)
{
	static const double cv[] = { 0, 1 };
	static const char *const names[] = { "no", "yes" };
	double yt[] = { 0, 1, 1, 0, 1 }, yp[] = { 0, 0, 1, 1, 1 };
	double proba[] = { 1, 0, 1, 0, 0.3, 0.7, 0.2, 0.9, 0, 1 }, v;
	metrics_report *r = NULL;
	char args[1024];
	FILE *t = fopen(tmp_path("ll.truth"), "w"), *p = fopen(tmp_path("ll.pred"), "w");
	size_t i;

	fprintf(p, "labels 0 1\n");
	for (i = 0; i < 5; i++) {
		fprintf(t, "%g\n", yt[i]);
		fprintf(p, "%g %.17g %.17g\n", yp[i], proba[2 * i], proba[2 * i + 1]);
	}
	fclose(t);
	fclose(p);
	ck_assert_int_eq(metrics_classification(&r, yt, yp, 5, cv, names, 2, proba, NULL), 0);
	ck_assert(metrics_get(r, "log_loss", &v));
	ck_assert_msg(v > 7 && v < 8, "log_loss %g", v);   /* -log(eps) / 5 dominates */
	snprintf(args, sizeof(args), "cls %s %s - 0,1 no,yes", tmp_path("ll.truth"), tmp_path("ll.pred"));
	compare_with_sklearn(r, args);
	metrics_report_free(r);
}
END_TEST

START_TEST(test_metrics_bad_input)
{
	static const double cv[] = { 0, 1 };
	static const char *const names[] = { "no", "yes" };
	double yt[] = { 0, 1, 2 }, yp[] = { 0, 1, 1 }, proba[] = { 0.5, 0.5, NAN, 0.2, 0.1, 0.9 };
	metrics_report *r = (void *)1;

	ck_assert_int_eq(metrics_classification(&r, yt, yp, 3, cv, names, 2, NULL, NULL), MLCTL_EDATA);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "row 3"));
	ck_assert_int_eq(metrics_classification(&r, yt, yp, 2, cv, names, 2, proba, NULL), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "row 2"));
	ck_assert_int_eq(metrics_classification(&r, yt, yp, 0, cv, names, 2, NULL, NULL), MLCTL_EUSAGE);
	ck_assert_int_eq(metrics_regression(&r, yt, proba, 3), MLCTL_EDATA);
}
END_TEST

START_TEST(test_metrics_oneclass_and_names)
{
	double yp[] = { 1, -1, 1, 1, -1 }, v;
	metrics_report *r = NULL;

	ck_assert_int_eq(metrics_oneclass(&r, yp, 5), 0);
	ck_assert(metrics_get(r, "outlier_rate", &v) && v == 0.4);
	ck_assert(metrics_get(r, "n", &v) && v == 5);
	metrics_report_free(r);
	ck_assert(metrics_known("accuracy") && metrics_known("recall[yes]") && metrics_known("f1[a b]"));
	ck_assert(!metrics_known("recal") && !metrics_known("recall[]") && !metrics_known("recall[x"));
	ck_assert(!metrics_known("accuracy[x]"));
	ck_assert(metrics_higher_is_better("accuracy") && metrics_higher_is_better("r2"));
	ck_assert(!metrics_higher_is_better("mse") && !metrics_higher_is_better("log_loss"));
	ck_assert(!metrics_higher_is_better("max_error") && metrics_higher_is_better("recall[yes]"));
	metrics_report_free(NULL);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("sklearn");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_metrics_letter_26_classes);
	tcase_add_test(tc, test_metrics_letter_class_never_predicted);
	tcase_add_test(tc, test_metrics_heart_proba);
	tcase_add_test(tc, test_metrics_heart_decision_values);
	tcase_add_test(tc, test_metrics_auc_ties);
	tcase_add_test(tc, test_metrics_concrete_regression);
	tcase_add_test(tc, test_metrics_r2_constant_truth);
	tcase_add_test(tc, test_metrics_log_loss_clipping);
	tcase_add_test(tc, test_metrics_bad_input);
	tcase_add_test(tc, test_metrics_oneclass_and_names);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(metrics_suite)
