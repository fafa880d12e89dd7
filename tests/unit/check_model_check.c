/*
 * check_model_check.c — model_check.c (floor 3), the strict reader of svm_save_model text:
 * what libsvm writes for every type and kernel is accepted; each named way to be wrong
 * (truncation, an unknown key, counts that disagree, NaN, indices out of order, numbers
 * too large) is refused with MLCTL_EDATA and "origin:line: why". The fuzz target
 * (tests/fuzz/fuzz_model.c) covers the rest.
 */
#include <libsvm/svm.h>

#include "check_util.h"
#include "svm_reader.h"

#include "error.h"
#include "fsutil.h"
#include "model.h"
#include "util.h"

/* A valid binary rbf model; lines numbered as the messages number them. */
static const char *const base[] = {
	"svm_type c_svc",	/* 1 */
	"kernel_type rbf",	/* 2 */
	"gamma 0.5",		/* 3 */
	"nr_class 2",		/* 4 */
	"total_sv 3",		/* 5 */
	"rho 0.25",		/* 6 */
	"label 1 -1",		/* 7 */
	"nr_sv 2 1",		/* 8 */
	"SV",			/* 9 */
	"1 1:0.5 3:-1",		/* 10 */
	"0.5 2:1",		/* 11 */
	"-1.5 1:-0.25 4:2",	/* 12 */
};
#define NBASE (sizeof(base) / sizeof(base[0]))

/* The base text with line `line` (1-based) replaced by repl (NULL: deleted), joined by
 * "\n" with a final newline. line 0 changes nothing. */
static char *edit(size_t line, const char *repl)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	size_t i;

	for (i = 0; i < NBASE; i++) {
		const char *l = i + 1 == line ? repl : base[i];

		if (l)
			ck_assert_int_eq(strbuf_printf(&sb, "%s\n", l), 0);
	}
	return strbuf_detach(&sb, NULL);
}

static void expect_ok(const char *text, size_t len)
{
	mlctl_error_clear();
	ck_assert_msg(model_validate(text, len, "m") == 0, "refused: %s", mlctl_error_last()->message);
}

/* Replace a line, expect refusal at want_line with a message containing why. */
static void expect_bad_text(const char *text, size_t want_line, const char *why)
{
	char where[32];

	snprintf(where, sizeof(where), "m:%zu: ", want_line);
	mlctl_error_clear();
	expect_err(model_validate(text, strlen(text), "m"), MLCTL_EDATA, why);
	ck_assert_msg(strncmp(mlctl_error_last()->message, where, strlen(where)) == 0,
		      "\"%s\" does not start with \"%s\"", mlctl_error_last()->message, where);
}

static void expect_bad(size_t line, const char *repl, size_t want_line, const char *why)
{
	char *t = edit(line, repl);

	expect_bad_text(t, want_line, why);
	free(t);
}

START_TEST(test_model_check_base_valid)
{
	char *t = edit(0, NULL);
	strbuf sb = MLCTL_STRBUF_INIT;
	size_t i;

	expect_ok(t, strlen(t));
	expect_ok(t, strlen(t) - 1);	/* no final newline */
	/* \r\n line ends, tabs between tokens, blank lines after the SVs. */
	for (i = 0; i < NBASE; i++) {
		char *l = mlctl_strdup(base[i]), *sp;

		while ((sp = strchr(l, ' ')))
			*sp = '\t';
		ck_assert_int_eq(strbuf_printf(&sb, "%s\r\n", l), 0);
		free(l);
	}
	ck_assert_int_eq(strbuf_puts(&sb, "\r\n\n"), 0);
	expect_ok(sb.buf, sb.len);
	strbuf_release(&sb);
	free(t);
}
END_TEST

static void quiet(const char *s)
{
	(void)s;
}

/* Every svm_type and kernel as libsvm's own svm_save_model writes them (svm-train's
 * writer), with and without probability estimates. */
START_TEST(test_model_check_libsvm_output)
{
	struct test_problem tp;
	int type, kernel, prob;

	ck_assert_int_eq(test_problem_read(&tp, data_path("heart_scale")), 0);
	tp.prob.l = 80;		/* enough rows for every type, fast under valgrind */
	svm_set_print_string_function(quiet);
	for (type = C_SVC; type <= NU_SVR; type++)
		for (kernel = LINEAR; kernel <= SIGMOID; kernel++)
			for (prob = 0; prob <= (type == ONE_CLASS ? 0 : 1); prob++) {
				struct svm_parameter p;
				struct svm_model *m;
				const char *path = tmp_path("libsvm.model");
				char *text;
				size_t len;

				model_param_defaults(&p);
				p.svm_type = type;
				p.kernel_type = kernel;
				p.gamma = 1.0 / 13;
				p.probability = prob;
				p.nu = 0.5;
				ck_assert_ptr_null(svm_check_parameter(&tp.prob, &p));
				m = svm_train(&tp.prob, &p);
				ck_assert_int_eq(svm_save_model(path, m), 0);
				ck_assert_int_eq(fs_read_file(&text, &len, path, 0), 0);
				mlctl_error_clear();
				ck_assert_msg(model_validate(text, len, path) == 0, "type %d kernel %d prob %d: %s",
					      type, kernel, prob, mlctl_error_last()->message);
				free(text);
				svm_free_and_destroy_model(&m);
				model_param_release(&p);
			}
	test_problem_free(&tp);
}
END_TEST

/* The seed corpus's models are svm-train output; its truncated.model is refused. */
START_TEST(test_model_check_corpus)
{
	static const char *const good[] = {
		"c_svc_3class_sigmoid_prob.model", "c_svc_rbf.model", "epsilon_svr_poly_prob.model",
		"one_class_linear.model",
	};
	const char *root = getenv("MLCTL_SRCDIR");
	char path[512], *text;
	size_t i, len;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/model/%s", root ? root : ".", good[i]);
		ck_assert_int_eq(fs_read_file(&text, &len, path, 0), 0);
		mlctl_error_clear();
		ck_assert_msg(model_validate(text, len, good[i]) == 0, "%s", mlctl_error_last()->message);
		free(text);
	}
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/model/truncated.model", root ? root : ".");
	ck_assert_int_eq(fs_read_file(&text, &len, path, 0), 0);
	expect_err(model_validate(text, len, "truncated.model"), MLCTL_EDATA, "truncated.model:");
	free(text);
}
END_TEST

START_TEST(test_model_check_truncated)
{
	char *t = edit(0, NULL);
	size_t len = strlen(t);

	/* The last SV gone: the section ends early, after line 11. */
	expect_bad(12, NULL, 12, "the SV section ends after 2 of 3 support vectors (total_sv, line 5)");
	/* Cut in the header: no SV line at all. */
	t[strstr(t, "rho") - t] = '\0';
	expect_bad_text(t, 6, "the model ends before its SV line");
	free(t);
	t = edit(0, NULL);
	/* Cut inside the SV line "SV" itself: "S" is no key. */
	t[strstr(t, "SV\n") - t + 1] = '\0';
	expect_bad_text(t, 9, "\"S\" is not a model key");
	free(t);
	expect_err(model_validate("", 0, "m"), MLCTL_EDATA, "m:1: empty model");
	expect_err(model_validate(NULL, 0, NULL), MLCTL_EDATA, "model:1: empty model");
	ck_assert_uint_gt(len, 0);
}
END_TEST

START_TEST(test_model_check_bad_keyword)
{
	expect_bad(2, "kernel_typo rbf", 2, "\"kernel_typo\" is not a model key");
	expect_bad(1, "svm_type c_svm", 1, "svm_type: \"c_svm\" is not one of c_svc, nu_svc");
	expect_bad(2, "kernel_type precomputed", 2, "kernel_type: \"precomputed\" is not one of");
	expect_bad(3, "gamma 0.5 0.7", 3, "gamma: more than one value");
	expect_bad(3, "gamma", 3, "gamma: no value");
	expect_bad(6, "", 6, "empty line in the model header");
	expect_bad(9, "SV extra", 9, "text after SV");
	expect_bad(6, "nr_class 2", 6, "nr_class again (first on line 4)");
	expect_bad(3, "degree 3", 9, "no gamma line before SV (rbf kernel)");
	expect_bad(5, "coef0 0", 9, "no total_sv line before SV");
	expect_bad(4, "coef0 0", 6, "rho comes before nr_class");
	expect_bad(7, "coef0 0", 9, "a c_svc model needs label and nr_sv lines");
	expect_bad(10, "1 1:0.5\001 3:-1", 10, "control character 0x01");
}
END_TEST

START_TEST(test_model_check_count_mismatch)
{
	expect_bad(8, "nr_sv 2 2", 9, "nr_sv adds up to 4, total_sv is 3");
	expect_bad(5, "total_sv 4", 9, "nr_sv adds up to 3, total_sv is 4");
	expect_bad(7, "label 1 -1 2", 7, "label: more than the 2 values expected");
	expect_bad(8, "nr_sv 3", 8, "nr_sv: 1 values, 2 expected");
	expect_bad(4, "nr_class 3", 6, "rho: 1 values, 3 expected");
	expect_bad(8, "nr_sv 4 -1", 8, "nr_sv: \"-1\" is not a count");
	expect_bad(7, "label 1 x", 7, "label: \"x\" is not an integer");
	/* One SV too many (and its position named). */
	{
		char *t = edit(0, NULL), *more = mlctl_asprintf("%s0.1 1:1\n", t);

		expect_bad_text(more, 13, "more support vectors than total_sv 3 (SV on line 9)");
		free(more);
		free(t);
	}
	/* Two coefficients per SV in a binary model is one too many: the second is no
	 * index:value. */
	expect_bad(11, "0.5 0.5 2:1", 11, "\"0.5\" is not index:value");
	expect_bad(11, "2:1", 11, "1 coefficient(s) expected before the features");
	/* Regression has no labels. */
	expect_bad(1, "svm_type epsilon_svr", 9, "a epsilon_svr model has no label or nr_sv lines");
}
END_TEST

START_TEST(test_model_check_nan_inf)
{
	expect_bad(11, "nan 2:1", 11, "coefficient \"nan\" is not a number");
	expect_bad(11, "-inf 2:1", 11, "coefficient \"-inf\" is not a number");
	expect_bad(10, "1 1:nan 3:-1", 10, "feature 1: \"nan\" is not a number");
	expect_bad(10, "1 1:0.5 3:inf", 10, "feature 3: \"inf\" is not a number");
	expect_bad(6, "rho nan", 6, "rho: \"nan\" is not a number");
	expect_bad(3, "gamma NaN", 3, "gamma: \"NaN\" is not a number");
	expect_bad(10, "1 1: 3:-1", 10, "feature 1: \"\" is not a number");
	expect_bad(10, "1x 1:0.5", 10, "coefficient \"1x\" is not a number");
}
END_TEST

START_TEST(test_model_check_index_order)
{
	expect_bad(10, "1 3:-1 1:0.5", 10, "feature index 1 after 3: indices must ascend");
	expect_bad(10, "1 1:0.5 1:2", 10, "feature index 1 after 1: indices must ascend");
	expect_bad(12, "-1.5 4:2 1:-0.25", 12, "feature index 1 after 4");
	expect_bad(10, "1 -1:0.5", 10, "feature index \"-1\" is not an integer");
	expect_bad(10, "1 +1:0.5", 10, "feature index \"+1\" is not an integer");
	expect_bad(10, "1 x:0.5", 10, "feature index \"x\" is not an integer");
	expect_bad(10, "1 1:0.5:3", 10, "\"1:0.5:3\" is not index:value");
	/* Index 0 (a precomputed-kernel serial) and no features at all are fine for libsvm. */
	{
		char *t = edit(10, "1 0:0.5 3:-1");

		expect_ok(t, strlen(t));
		free(t);
		t = edit(11, "0.5");
		expect_ok(t, strlen(t));
		free(t);
	}
}
END_TEST

START_TEST(test_model_check_huge_numbers)
{
	expect_bad(3, "gamma 1e999", 3, "gamma: \"1e999\" is not a number");
	expect_bad(11, "1e400 2:1", 11, "coefficient \"1e400\" is not a number");
	expect_bad(10, "1 1:-1e309", 10, "feature 1: \"-1e309\" is not a number");
	expect_bad(5, "total_sv 99999999999999999999", 5, "total_sv: \"99999999999999999999\" is not an integer in [0, 2147483647]");
	expect_bad(5, "total_sv 2147483648", 5, "is not an integer in [0, 2147483647]");
	expect_bad(4, "nr_class 4097", 4, "nr_class: \"4097\" is not an integer in [1, 4096]");
	expect_bad(4, "nr_class 0", 4, "is not an integer in [1, 4096]");
	expect_bad(10, "1 2147483648:1", 10, "feature index \"2147483648\" is not an integer in [0, 2147483647]");
	expect_bad(8, "nr_sv 2147483647 2147483647", 9, "nr_sv adds up to 4294967294, total_sv is 3");
	/* A huge total_sv with the SVs missing fails at the end of the text, without walking
	 * past it. */
	expect_bad(5, "total_sv 2147483647", 9, "nr_sv adds up to 3");
	{
		/* A regression model with total_sv 2^31-1 and one SV. */
		char *u = mlctl_asprintf("svm_type epsilon_svr\nkernel_type linear\nnr_class 2\ntotal_sv 2147483647\n"
				   "rho 0\nSV\n1 1:1\n");
		expect_bad_text(u, 8, "the SV section ends after 1 of 2147483647 support vectors");
		free(u);
	}
	/* Underflow is a number (0 or a denormal), as libsvm's strtod reads it. */
	{
		char *t = edit(10, "1 1:1e-320 3:1e-400");

		expect_ok(t, strlen(t));
		free(t);
	}
}
END_TEST

static Suite *model_check_suite(void)
{
	Suite *s = suite_create("model_check");
	TCase *tc = tcase_create("model_check");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_model_check_base_valid);
	tcase_add_test(tc, test_model_check_libsvm_output);
	tcase_add_test(tc, test_model_check_corpus);
	tcase_add_test(tc, test_model_check_truncated);
	tcase_add_test(tc, test_model_check_bad_keyword);
	tcase_add_test(tc, test_model_check_count_mismatch);
	tcase_add_test(tc, test_model_check_nan_inf);
	tcase_add_test(tc, test_model_check_index_order);
	tcase_add_test(tc, test_model_check_huge_numbers);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(model_check_suite)
