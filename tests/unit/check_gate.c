/*
 * check_gate.c — lib/gate: parsing gate expressions (and the messages for bad ones),
 * evaluating them on a metrics report computed from heart_scale labels, and the
 * champion/challenger rule in both metric directions.
 */
#include <math.h>

#include "check_util.h"
#include "error.h"
#include "gate.h"

static const char *last_msg(void)
{
	return mlctl_error_last()->message;
}

START_TEST(test_gate_parse_forms)
{
	static const struct {
		const char *expr, *metric, *text;
		gate_op op;
		double thr;
	} cases[] = {
		{ "accuracy>=0.9", "accuracy", "accuracy >= 0.9", GATE_GE, 0.9 },
		{ "  recall[yes] >= 0.6 ", "recall[yes]", "recall[yes] >= 0.6", GATE_GE, 0.6 },
		{ "mse<12.5", "mse", "mse < 12.5", GATE_LT, 12.5 },
		{ "r2 > -1e-3", "r2", "r2 > -0.001", GATE_GT, -1e-3 },
		{ "log_loss\t<=\t0.25", "log_loss", "log_loss <= 0.25", GATE_LE, 0.25 },
		{ "support[<=50K]==100", "support[<=50K]", "support[<=50K] == 100", GATE_EQ, 100 },
		{ "f1[a b]>=.5", "f1[a b]", "f1[a b] >= 0.5", GATE_GE, 0.5 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gate *g = NULL;

		ck_assert_msg(gate_parse(&g, cases[i].expr) == 0, "%s: %s", cases[i].expr, last_msg());
		ck_assert_str_eq(g->metric, cases[i].metric);
		ck_assert_str_eq(g->text, cases[i].text);
		ck_assert_int_eq(g->op, cases[i].op);
		ck_assert(g->threshold == cases[i].thr);
		gate_free(g);
	}
}
END_TEST

START_TEST(test_gate_parse_errors)
{
	static const struct {
		const char *expr, *want;
	} cases[] = {
		{ "accuracyy>=0.9", "did you mean \"accuracy\"" },
		{ "recal[yes]>=0.6", "did you mean \"recall[yes]\"" },
		{ "f1macro>0.5", "did you mean \"f1_macro\"" },
		{ "RMSE<3", "did you mean \"rmse\"" },
		{ "accuracy[yes]>0.5", "unknown metric \"accuracy[yes]\"" },
		{ "accuracy=0.9", "'=' alone is not one" },
		{ "accuracy 0.9", "expected an operator after \"accuracy\"" },
		{ "accuracy>=", "expected a number after \">=\"" },
		{ "accuracy>=high", "expected a finite number after \">=\", got \"high\"" },
		{ "accuracy>=0.9 0.8", "got \"0.9 0.8\"" },
		{ "accuracy>=nan", "finite number" },
		{ "accuracy>=>0.9", "got \">0.9\"" },
		{ ">=0.9", "expected a metric name" },
		{ "", "expected a metric name" },
		{ "recall[yes>=0.9", "expected ']'" },
		{ "recall[]>=0.9", "expected a class name" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gate *g = (gate *)1;

		ck_assert_msg(gate_parse(&g, cases[i].expr) == MLCTL_EUSAGE, "%s parsed", cases[i].expr);
		ck_assert_ptr_null(g);
		ck_assert_msg(strstr(last_msg(), cases[i].want), "%s: message \"%s\" lacks \"%s\"",
			      cases[i].expr, last_msg(), cases[i].want);
	}
}
END_TEST

/* heart_scale's labels against a prediction that says "present" for every other row. */
static metrics_report *heart_report(void)
{
	static const double cv[] = { -1, 1 };
	static const char *const names[] = { "absent", "present" };
	FILE *f = fopen(data_path("heart_scale"), "r");
	double yt[300], yp[300];
	char line[1024];
	size_t n = 0;
	metrics_report *r = NULL;

	ck_assert(f);
	while (n < 300 && fgets(line, sizeof(line), f)) {
		yt[n] = strtod(line, NULL);
		yp[n] = n % 2 ? 1 : yt[n];
		n++;
	}
	fclose(f);
	ck_assert_uint_eq(n, 270);
	ck_assert_int_eq(metrics_classification(&r, yt, yp, n, cv, names, 2, NULL, NULL), 0);
	return r;
}

START_TEST(test_gate_eval)
{
	metrics_report *r = heart_report();
	double acc, rec, v;
	bool pass;
	gate *g;
	char expr[128];

	ck_assert(metrics_get(r, "accuracy", &acc));
	ck_assert(metrics_get(r, "recall[present]", &rec));
	ck_assert(acc > 0.7 && acc < 0.9 && rec == 1.0);
	/* Just at the threshold: >= passes, > does not. */
	snprintf(expr, sizeof(expr), "accuracy>=%.17g", acc);
	ck_assert_int_eq(gate_parse(&g, expr), 0);
	ck_assert_int_eq(gate_eval(g, r, &v, &pass), 0);
	ck_assert(pass && v == acc);
	gate_free(g);
	snprintf(expr, sizeof(expr), "accuracy>%.17g", acc);
	ck_assert_int_eq(gate_parse(&g, expr), 0);
	ck_assert_int_eq(gate_eval(g, r, &v, &pass), 0);
	ck_assert(!pass);
	gate_free(g);
	ck_assert_int_eq(gate_parse(&g, "recall[present] == 1"), 0);
	ck_assert_int_eq(gate_eval(g, r, &v, &pass), 0);
	ck_assert(pass);
	gate_free(g);
	ck_assert_int_eq(gate_parse(&g, "recall[absent] < 0.5"), 0);
	ck_assert_int_eq(gate_eval(g, r, &v, &pass), 0);
	ck_assert(!pass && v > 0.5);
	gate_free(g);
	/* A class the report does not have: the message lists the ones it has. */
	ck_assert_int_eq(gate_parse(&g, "recall[yes]>=0.6"), 0);
	ck_assert_int_eq(gate_eval(g, r, &v, &pass), MLCTL_EUSAGE);
	ck_assert_msg(strstr(last_msg(), "class \"yes\" is not in the report; its classes are: absent, present"),
		      "%s", last_msg());
	gate_free(g);
	/* A known metric this report lacks (regression metric on a classifier). */
	ck_assert_int_eq(gate_parse(&g, "mse<12.5"), 0);
	ck_assert_int_eq(gate_eval(g, r, &v, &pass), MLCTL_EUSAGE);
	ck_assert_msg(strstr(last_msg(), "the report has no mse; it has: accuracy, balanced_accuracy"),
		      "%s", last_msg());
	gate_free(g);
	metrics_report_free(r);
}
END_TEST

START_TEST(test_gate_compare)
{
	bool pass;

	/* accuracy: higher is better; a fall of 0.02 is a drop of 0.02. */
	ck_assert_int_eq(gate_compare(0.88, 0.90, "accuracy", 0.01, -INFINITY, &pass), 0);
	ck_assert(!pass);
	ck_assert_int_eq(gate_compare(0.895, 0.90, "accuracy", 0.01, -INFINITY, &pass), 0);
	ck_assert(pass);
	ck_assert(fabs(gate_drop(0.88, 0.90, "accuracy") - 0.02) < 1e-12);
	/* mse: lower is better; a rise is a drop. */
	ck_assert(gate_drop(13.0, 12.0, "mse") == 1.0);
	ck_assert_int_eq(gate_compare(13.0, 12.0, "mse", 0.5, -INFINITY, &pass), 0);
	ck_assert(!pass);
	ck_assert_int_eq(gate_compare(11.0, 12.0, "mse", 0.0, -INFINITY, &pass), 0);
	ck_assert(pass);
	/* A required improvement. */
	ck_assert_int_eq(gate_compare(11.0, 12.0, "mse", INFINITY, 2.0, &pass), 0);
	ck_assert(!pass);
	ck_assert_int_eq(gate_compare(0.95, 0.90, "recall[yes]", INFINITY, 0.04, &pass), 0);
	ck_assert(pass);
	/* nan never passes; bad metric and bounds are usage errors. */
	ck_assert_int_eq(gate_compare(NAN, 0.9, "accuracy", INFINITY, -INFINITY, &pass), 0);
	ck_assert(!pass);
	ck_assert_int_eq(gate_compare(0.9, 0.9, "acuracy", 0, 0, &pass), MLCTL_EUSAGE);
	ck_assert_str_eq(last_msg(), "unknown metric \"acuracy\"; did you mean \"accuracy\"?");
	ck_assert_int_eq(gate_compare(0.9, 0.9, "accuracy", NAN, 0, &pass), MLCTL_EUSAGE);
	ck_assert_str_eq(gate_op_str(GATE_LE), "<=");
}
END_TEST

static Suite *gate_suite(void)
{
	Suite *s = suite_create("gate");
	TCase *tc = tcase_create("gate");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, test_gate_parse_forms);
	tcase_add_test(tc, test_gate_parse_errors);
	tcase_add_test(tc, test_gate_eval);
	tcase_add_test(tc, test_gate_compare);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(gate_suite)
