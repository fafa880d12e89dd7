/*
 * check_model.c — the libsvm wrapper against libsvm's own tools: svm-train must write the
 * same model text, svm-predict must agree with the loaded model, and malformed model
 * files must be refused with a line number instead of crashing libsvm.
 */
#include <math.h>
#include <stdarg.h>
#include <pthread.h>

#include "check_util.h"
#include "svm_reader.h"

#include "error.h"
#include "model.h"

static struct test_problem heart;

static void heart_setup(void)
{
	tmpdir_setup();
	if (test_problem_read(&heart, data_path("heart_scale")) != 0)
		abort();
}

static void heart_teardown(void)
{
	test_problem_free(&heart);
	tmpdir_teardown();
}

/* Run a shell command; fail the test when it fails. */
__attribute__((format(printf, 1, 2)))
static void run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
}

static char *train_and_save(const struct svm_parameter *p, uint64_t seed, size_t *len)
{
	struct svm_model *m = NULL;
	char *text = NULL;

	ck_assert_int_eq(model_train(&m, &heart.prob, p, heart.nfeatures, seed), 0);
	ck_assert_int_eq(model_save(&text, len, m), 0);
	model_free(m);
	return text;
}

/*
 * got (model_save's text) against svm-train's model file at path: the same header lines
 * byte for byte and, on every SV line, the same coefficients and indices, and values that
 * svm-train's %.8g prints the same. model_save writes values with %.17g, so the bytes of
 * the SV section differ wherever a value needs more than 8 digits.
 */
static void assert_same_model(const char *got, size_t glen, const char *path)
{
	size_t rlen, line = 1;
	char *ref = test_slurp(path, &rlen), *g, *gs, *rs, *gl, *rl;
	bool in_sv = false;

	ck_assert_ptr_nonnull(ref);
	g = strndup(got, glen);
	ck_assert_ptr_nonnull(g);
	for (gl = strtok_r(g, "\n", &gs), rl = strtok_r(ref, "\n", &rs); gl && rl;
	     gl = strtok_r(NULL, "\n", &gs), rl = strtok_r(NULL, "\n", &rs), line++) {
		char *gt, *rt, *gts, *rts;

		if (!in_sv) {
			ck_assert_msg(strcmp(gl, rl) == 0, "%s:%zu: \"%s\", expected \"%s\"", path, line, gl, rl);
			in_sv = strcmp(gl, "SV") == 0;
			continue;
		}
		for (gt = strtok_r(gl, " ", &gts), rt = strtok_r(rl, " ", &rts); gt && rt;
		     gt = strtok_r(NULL, " ", &gts), rt = strtok_r(NULL, " ", &rts)) {
			char *gc = strchr(gt, ':'), *rc = strchr(rt, ':'), buf[64];

			ck_assert_msg(!gc == !rc, "%s:%zu: \"%s\" against \"%s\"", path, line, gt, rt);
			if (!gc) {      /* a coefficient: %.17g on both sides */
				ck_assert_msg(strcmp(gt, rt) == 0, "%s:%zu: coefficient %s, expected %s", path, line, gt, rt);
				continue;
			}
			*gc = *rc = '\0';
			ck_assert_msg(strcmp(gt, rt) == 0, "%s:%zu: index %s, expected %s", path, line, gt, rt);
			snprintf(buf, sizeof(buf), "%.8g", strtod(gc + 1, NULL));
			ck_assert_msg(strcmp(buf, rc + 1) == 0, "%s:%zu: index %s: %s is not %s to 8 digits",
				      path, line, gt, gc + 1, rc + 1);
		}
		ck_assert_msg(!gt && !rt, "%s:%zu: a different number of values", path, line);
	}
	ck_assert_msg(!gl && !rl, "%s: %zu lines match, then one text ends", path, line - 1);
	ck_assert(in_sv);
	free(g);
	free(ref);
}

START_TEST(test_model_param_defaults)
{
	struct svm_parameter p;

	model_param_defaults(&p);
	ck_assert_int_eq(p.svm_type, C_SVC);
	ck_assert_int_eq(p.kernel_type, RBF);
	ck_assert_int_eq(p.degree, 3);
	ck_assert(p.gamma == 0 && p.coef0 == 0 && p.C == 1 && p.nu == 0.5 && p.p == 0.1);
	ck_assert(p.cache_size == 100 && p.eps == 1e-3);
	ck_assert_int_eq(p.shrinking, 1);
	ck_assert_int_eq(p.probability, 0);
	ck_assert_int_eq(p.nr_weight, 0);
}
END_TEST

START_TEST(test_model_param_set)
{
	static const struct { const char *name, *value, *msg; } bad[] = {
		{ "gamma", "abc", "gamma: \"abc\" is not a number" },
		{ "kernel", "rbff", "kernel: \"rbff\" is not one of linear, poly, rbf, sigmoid" },
		{ "type", "svc", "type: \"svc\" is not one of c-svc, nu-svc, one-class, epsilon-svr, nu-svr" },
		{ "C", "0", "C: \"0\" must be greater than 0" },
		{ "C", "inf", "C: \"inf\" is not a finite number" },
		{ "nu", "1.5", "nu: \"1.5\" must be in (0, 1]" },
		{ "degree", "2.5", "degree: \"2.5\" is not an integer" },
		{ "shrinking", "2", "shrinking: \"2\" is not 0 or 1" },
		{ "epsilon", "-0.1", "epsilon: \"-0.1\" must not be negative" },
	};
	struct svm_parameter p;
	size_t i;

	model_param_defaults(&p);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(model_param_set(&p, bad[i].name, bad[i].value), MLCTL_EUSAGE);
		ck_assert_str_eq(mlctl_error_last()->message, bad[i].msg);
	}
	ck_assert_int_eq(model_param_set(&p, "colour", "1"), MLCTL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "\"colour\" is not a model parameter"));
	/* Nothing above changed p. */
	ck_assert(p.gamma == 0 && p.C == 1 && p.kernel_type == RBF && p.nu == 0.5);

	ck_assert_int_eq(model_param_set(&p, "type", "nu-svr"), 0);
	ck_assert_int_eq(p.svm_type, NU_SVR);
	ck_assert_int_eq(model_param_set(&p, "type", "epsilon_svr"), 0);
	ck_assert_int_eq(p.svm_type, EPSILON_SVR);
	ck_assert_int_eq(model_param_set(&p, "kernel", "poly"), 0);
	ck_assert_int_eq(p.kernel_type, POLY);
	ck_assert_int_eq(model_param_set(&p, "C", "2.5"), 0);
	ck_assert_int_eq(model_param_set(&p, "gamma", "1e-3"), 0);
	ck_assert_int_eq(model_param_set(&p, "degree", "2"), 0);
	ck_assert_int_eq(model_param_set(&p, "epsilon", "0.25"), 0);
	ck_assert_int_eq(model_param_set(&p, "probability", "1"), 0);
	ck_assert(p.C == 2.5 && p.gamma == 1e-3 && p.degree == 2 && p.p == 0.25 && p.probability == 1);
	ck_assert_str_eq(model_type_name(p.svm_type), "epsilon-svr");
	ck_assert_str_eq(model_kernel_name(p.kernel_type), "poly");
	ck_assert(!model_is_classifier(p.svm_type) && model_is_classifier(NU_SVC));
}
END_TEST

START_TEST(test_model_param_weights_copy)
{
	struct svm_parameter p, q;

	model_param_defaults(&p);
	ck_assert_int_eq(model_param_add_weight(&p, 1, 2.0), 0);
	ck_assert_int_eq(model_param_add_weight(&p, -1, 0.5), 0);
	ck_assert_int_eq(model_param_add_weight(&p, 1, 3.0), 0);   /* replaces */
	ck_assert_int_eq(p.nr_weight, 2);
	ck_assert_int_eq(model_param_copy(&q, &p), 0);
	ck_assert_ptr_ne(q.weight, p.weight);
	ck_assert_int_eq(q.nr_weight, 2);
	ck_assert(q.weight_label[0] == 1 && q.weight[0] == 3.0);
	ck_assert(q.weight_label[1] == -1 && q.weight[1] == 0.5);
	model_param_release(&p);
	ck_assert(q.weight[0] == 3.0);
	model_param_release(&q);
	ck_assert_int_eq(q.nr_weight, 0);
	ck_assert_int_eq(model_param_add_weight(&q, 1, -1), MLCTL_EUSAGE);
}
END_TEST

/* The same model as `svm-train -c 2 -g 0.5 heart_scale`: its text, but for the SV values'
 * extra digits. */
START_TEST(test_model_train_matches_svm_train)
{
	struct svm_parameter p;
	size_t len;
	char *text;

	model_param_defaults(&p);
	ck_assert_int_eq(model_param_set(&p, "C", "2"), 0);
	ck_assert_int_eq(model_param_set(&p, "gamma", "0.5"), 0);
	text = train_and_save(&p, 0, &len);
	run("svm-train -q -c 2 -g 0.5 '%s' '%s'", data_path("heart_scale"), tmp_path("ref.model"));
	assert_same_model(text, len, tmp_path("ref.model"));
	ck_assert_ptr_nonnull(strstr(text, "total_sv 190\n"));
	free(text);
}
END_TEST

/* gamma 0 means 1/nfeatures and class weights are -wi, as in svm-train. */
START_TEST(test_model_train_weights_defaults_match_svm_train)
{
	struct svm_parameter p;
	size_t len;
	char *text;

	model_param_defaults(&p);
	ck_assert_int_eq(model_param_add_weight(&p, 1, 3), 0);
	ck_assert_int_eq(model_param_add_weight(&p, -1, 0.5), 0);
	text = train_and_save(&p, 0, &len);
	run("svm-train -q -w1 3 -w-1 0.5 '%s' '%s'", data_path("heart_scale"), tmp_path("w.model"));
	assert_same_model(text, len, tmp_path("w.model"));
	free(text);
	model_param_release(&p);

}
END_TEST

START_TEST(test_model_check_parameter_is_usage)
{
	struct svm_parameter p;
	struct svm_model *m = NULL;

	model_param_defaults(&p);
	ck_assert_int_eq(model_param_set(&p, "type", "one-class"), 0);
	ck_assert_int_eq(model_param_set(&p, "probability", "1"), 0);
	ck_assert_int_eq(model_train(&m, &heart.prob, &p, heart.nfeatures, 1), MLCTL_EUSAGE);
	ck_assert_ptr_null(m);
	ck_assert_str_eq(mlctl_error_last()->message,
			 "invalid model parameters: one-class SVM probability output not supported yet");
	model_param_defaults(&p);
	ck_assert_int_eq(model_param_set(&p, "type", "nu-svc"), 0);
	ck_assert_int_eq(model_param_set(&p, "nu", "0.99"), 0);
	ck_assert_int_eq(model_train(&m, &heart.prob, &p, heart.nfeatures, 1), MLCTL_EUSAGE);
	ck_assert_str_eq(mlctl_error_last()->message, "invalid model parameters: specified nu is infeasible");
}
END_TEST

struct prob_job {
	const struct svm_parameter *p;
	char *text;
	size_t len;
};

static void *prob_thread(void *arg)
{
	struct prob_job *j = arg;
	struct svm_model *m = NULL;

	if (model_train(&m, &heart.prob, j->p, heart.nfeatures, 42) == 0)
		model_save(&j->text, &j->len, m);
	model_free(m);
	return NULL;
}

/* Probability training uses rand(): same seed, same bytes, also from two threads at once. */
START_TEST(test_model_probability_deterministic)
{
	struct svm_parameter p;
	struct prob_job jobs[2];
	pthread_t t[2];
	size_t l1, l2, l3;
	char *a, *b, *c;
	int i;

	model_param_defaults(&p);
	ck_assert_int_eq(model_param_set(&p, "probability", "1"), 0);
	a = train_and_save(&p, 42, &l1);
	b = train_and_save(&p, 42, &l2);
	ck_assert_ptr_nonnull(strstr(a, "\nprobA "));
	ck_assert(l1 == l2 && memcmp(a, b, l1) == 0);
	c = train_and_save(&p, 7, &l3);
	ck_assert_msg(l3 != l1 || memcmp(a, c, l1) != 0, "the seed changed nothing");
	free(c);

	for (i = 0; i < 2; i++) {
		jobs[i].p = &p;
		jobs[i].text = NULL;
		ck_assert_int_eq(pthread_create(&t[i], NULL, prob_thread, &jobs[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		ck_assert_ptr_nonnull(jobs[i].text);
		ck_assert(jobs[i].len == l1 && memcmp(jobs[i].text, a, l1) == 0);
		free(jobs[i].text);
	}

	/* Seed 1 is rand()'s state at start-up: the same as svm-train -b 1. */
	c = train_and_save(&p, 1, &l3);
	run("svm-train -q -b 1 '%s' '%s'", data_path("heart_scale"), tmp_path("b1.model"));
	assert_same_model(c, l3, tmp_path("b1.model"));
	free(a);
	free(b);
	free(c);
}
END_TEST

/* Two loaded models are the same model: every field svm_load_model sets, to the bit. */
static void assert_models_equal(const struct svm_model *a, const struct svm_model *b, const char *what)
{
	int n = a->nr_class * (a->nr_class - 1) / 2, i, k;

	ck_assert_msg(a->param.svm_type == b->param.svm_type && a->param.kernel_type == b->param.kernel_type &&
		      a->param.degree == b->param.degree && a->param.gamma == b->param.gamma &&
		      a->param.coef0 == b->param.coef0 && a->param.probability == b->param.probability,
		      "%s: parameters differ", what);
	ck_assert_msg(a->nr_class == b->nr_class && a->l == b->l && a->free_sv == b->free_sv, "%s: counts differ", what);
	for (i = 0; i < n; i++)
		ck_assert_msg(a->rho[i] == b->rho[i], "%s: rho[%d]", what, i);
	ck_assert_msg(!a->probA == !b->probA && !a->probB == !b->probB, "%s: probA/probB presence", what);
	for (i = 0; a->probA && i < n; i++)
		ck_assert_msg(a->probA[i] == b->probA[i], "%s: probA[%d]", what, i);
	for (i = 0; a->probB && i < n; i++)
		ck_assert_msg(a->probB[i] == b->probB[i], "%s: probB[%d]", what, i);
	ck_assert_msg(!a->label == !b->label && !a->nSV == !b->nSV, "%s: label/nr_sv presence", what);
	for (i = 0; a->label && i < a->nr_class; i++)
		ck_assert_msg(a->label[i] == b->label[i] && a->nSV[i] == b->nSV[i], "%s: class %d", what, i);
	for (i = 0; i < a->l; i++) {
		for (k = 0; k < a->nr_class - 1; k++)
			ck_assert_msg(a->sv_coef[k][i] == b->sv_coef[k][i], "%s: sv_coef[%d][%d]", what, k, i);
		for (k = 0; a->SV[i][k].index != -1; k++)
			ck_assert_msg(a->SV[i][k].index == b->SV[i][k].index && a->SV[i][k].value == b->SV[i][k].value,
				      "%s: SV %d node %d", what, i, k);
		ck_assert_msg(b->SV[i][k].index == -1, "%s: SV %d has more nodes", what, i);
	}
}

/* model_load reads the text itself (svm_load_model calls setlocale, which changes the whole
 * process's locale): the model it builds is svm_load_model's, field for field, for every
 * kind of model svm-train writes, and libsvm frees it as its own. */
START_TEST(test_model_load_is_svm_load_model)
{
	static const char *const flags[] = {
		"-c 2 -g 0.5", "-b 1", "-s 1 -n 0.3", "-s 2 -n 0.2", "-s 3 -p 0.05 -b 1", "-s 4 -t 1 -d 2",
		"-t 0", "-t 3 -g 0.01 -r 0.5", "-t 1 -d 4 -g 0.3 -r 1 -b 1",
	};
	size_t f;

	for (f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
		struct svm_model *ours = NULL, *theirs = NULL;
		char *text;
		size_t len;
		int i;

		run("svm-train -q %s '%s' '%s'", flags[f], data_path("heart_scale"), tmp_path("m.model"));
		text = test_slurp(tmp_path("m.model"), &len);
		ck_assert_ptr_nonnull(text);
		ck_assert_msg(model_load(&ours, text, len, "m.model") == 0, "%s: %s", flags[f], mlctl_error_last()->message);
		ck_assert_int_eq(model_load_libsvm(&theirs, text, len), 0);
		assert_models_equal(theirs, ours, flags[f]);
		for (i = 0; i < heart.prob.l; i++) {
			double a[64], b[64];

			ck_assert(svm_predict_values(theirs, heart.prob.x[i], a) == svm_predict_values(ours, heart.prob.x[i], b));
			ck_assert(a[0] == b[0]);
		}
		model_free(ours);
		model_free(theirs);
		free(text);
	}
	/* a number spelled with 300 characters ("000…0.25"): read whole, as libsvm reads it */
	{
		struct svm_model *ours = NULL, *theirs = NULL;
		char *text, *sv, *long_text;
		size_t len, pre, pad = 300;

		run("svm-train -q -c 2 -g 0.5 '%s' '%s'", data_path("heart_scale"), tmp_path("m.model"));
		text = test_slurp(tmp_path("m.model"), &len);
		ck_assert_ptr_nonnull(text);
		sv = strstr(text, "\nSV\n");
		ck_assert_ptr_nonnull(sv);
		pre = (size_t)(sv - text) + 4;
		long_text = malloc(len + pad + 1);
		ck_assert_ptr_nonnull(long_text);
		memcpy(long_text, text, pre);
		memset(long_text + pre, '0', pad);
		memcpy(long_text + pre + pad, text + pre, len - pre + 1);
		ck_assert_msg(model_load(&ours, long_text, len + pad, "long.model") == 0, "%s", mlctl_error_last()->message);
		ck_assert_int_eq(model_load_libsvm(&theirs, long_text, len + pad), 0);
		assert_models_equal(theirs, ours, "a 300-character coefficient");
		model_free(ours);
		model_free(theirs);
		free(long_text);
		free(text);
	}
	/* a model without support vectors' class lines (one-class, total_sv small) and the
	 * trained model of this file's own save path load the same way too */
	{
		struct svm_parameter p;
		struct svm_model *m = NULL, *ours = NULL, *theirs = NULL;
		char *text;
		size_t len;

		model_param_defaults(&p);
		ck_assert_int_eq(model_param_set(&p, "type", "nu-svr"), 0);
		text = train_and_save(&p, 1, &len);
		ck_assert_int_eq(model_load(&ours, text, len, "nusvr"), 0);
		ck_assert_int_eq(model_load_libsvm(&theirs, text, len), 0);
		assert_models_equal(theirs, ours, "nu-svr saved by model_save");
		model_free(ours);
		model_free(theirs);
		model_free(m);
		free(text);
	}
}
END_TEST

/* A model made by svm-train loads, saves back unchanged and predicts as svm-predict does. */
START_TEST(test_model_load_matches_svm_predict)
{
	struct svm_model *m = NULL;
	char *text, *again, *preds, *p;
	size_t len, len2, plen;
	int i;

	run("svm-train -q -c 2 -g 0.5 '%s' '%s'", data_path("heart_scale"), tmp_path("ref.model"));
	run("svm-predict '%s' '%s' '%s' >/dev/null", data_path("heart_scale"), tmp_path("ref.model"),
	    tmp_path("out.txt"));
	text = test_slurp(tmp_path("ref.model"), &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(model_load(&m, text, len, "ref.model"), 0);
	ck_assert_int_eq(model_nsv(m), 190);
	ck_assert_int_eq(model_max_index(m), 13);
	ck_assert_int_eq(model_save(&again, &len2, m), 0);
	free(text);
	text = strndup(again, len2);
	assert_same_model(text, len2, tmp_path("ref.model"));

	preds = test_slurp(tmp_path("out.txt"), &plen);
	ck_assert_ptr_nonnull(preds);
	for (i = 0, p = preds; i < heart.prob.l; i++) {
		char *end;
		double want = strtod(p, &end);

		ck_assert_ptr_ne(end, p);
		p = end;
		ck_assert_msg(svm_predict(m, heart.prob.x[i]) == want, "row %d", i);
	}
	free(preds);
	free(again);
	free(text);
	model_free(m);

	/* A probability epsilon-SVR with a polynomial kernel round-trips too. */
	run("svm-train -q -s 3 -t 1 -b 1 '%s' '%s'", data_path("heart_scale"), tmp_path("svr.model"));
	text = test_slurp(tmp_path("svr.model"), &len);
	ck_assert_int_eq(model_load(&m, text, len, "svr.model"), 0);
	ck_assert_int_eq(m->param.probability, 1);
	ck_assert_int_eq(model_save(&again, &len2, m), 0);
	assert_same_model(again, len2, tmp_path("svr.model"));
	free(again);
	free(text);
	model_free(m);
}
END_TEST

/* Features near 1e9 (unscaled): svm-train's %.8g would print every value as 1e+09. The
 * saved text loads back to the trained model's doubles, and the loaded model decides
 * every row exactly as the trained one. */
START_TEST(test_model_save_keeps_values)
{
	enum { ROWS = 60 };
	struct svm_problem prob = { ROWS, NULL, NULL };
	struct svm_node *nodes = calloc(ROWS * 3, sizeof(*nodes));
	struct svm_model *m = NULL, *back = NULL;
	struct svm_parameter p;
	uint64_t st = 12345;
	char *text;
	size_t len;
	int i, j, k;

	prob.y = calloc(ROWS, sizeof(*prob.y));
	prob.x = calloc(ROWS, sizeof(*prob.x));
	ck_assert(nodes && prob.y && prob.x);
	for (i = 0; i < ROWS; i++) {
		for (j = 0; j < 2; j++) {
			st = st * 6364136223846793005ull + 1442695040888963407ull;
			nodes[i * 3 + j].index = j + 1;
			nodes[i * 3 + j].value = 1e9 + (double)(st >> 11) / 9007199254740992.0 * 40;
		}
		nodes[i * 3 + 2].index = -1;
		prob.x[i] = &nodes[i * 3];
		prob.y[i] = nodes[i * 3].value - 1e9 > 20 ? 1 : -1;
	}
	model_param_defaults(&p);
	ck_assert_int_eq(model_param_set(&p, "gamma", "0.01"), 0);
	ck_assert_int_eq(model_train(&m, &prob, &p, 2, 1), 0);
	ck_assert_int_eq(model_save(&text, &len, m), 0);
	ck_assert_int_eq(model_validate(text, len, "big.model"), 0);
	ck_assert_int_eq(model_load(&back, text, len, "big.model"), 0);
	ck_assert_int_eq(back->l, m->l);
	ck_assert(back->rho[0] == m->rho[0]);
	for (i = 0; i < m->l; i++) {
		ck_assert(back->sv_coef[0][i] == m->sv_coef[0][i]);
		for (k = 0; m->SV[i][k].index != -1; k++) {
			ck_assert_int_eq(back->SV[i][k].index, m->SV[i][k].index);
			ck_assert_msg(back->SV[i][k].value == m->SV[i][k].value, "SV %d value %d: %.17g, trained %.17g",
				      i, k, back->SV[i][k].value, m->SV[i][k].value);
		}
	}
	for (i = 0; i < ROWS; i++) {
		double a, b;

		svm_predict_values(m, prob.x[i], &a);
		svm_predict_values(back, prob.x[i], &b);
		ck_assert_msg(a == b, "row %d: decision value %.17g, trained %.17g", i, b, a);
	}
	free(text);
	model_free(back);
	model_free(m);
	free(nodes);
	free(prob.x);
	free(prob.y);
}
END_TEST

/* Replace line `line` (1-based) of text by repl (NULL: delete it); fresh allocation. */
static char *edit_line(const char *text, int line, const char *repl)
{
	const char *s = text, *e;
	size_t n;
	char *out;
	int i;

	for (i = 1; i < line; i++)
		s = strchr(s, '\n') + 1;
	e = strchr(s, '\n') + 1;
	n = strlen(text) + (repl ? strlen(repl) : 0) + 2;
	out = malloc(n);
	snprintf(out, n, "%.*s%s%s%s", (int)(s - text), text, repl ? repl : "", repl ? "\n" : "", e);
	return out;
}

/* Keep the first nlines lines only. */
static char *first_lines(const char *text, int nlines)
{
	const char *s = text;
	int i;

	for (i = 0; i < nlines; i++)
		s = strchr(s, '\n') + 1;
	return strndup(text, (size_t)(s - text));
}

static void expect_bad(char *text, size_t len, int line, const char *what)
{
	struct svm_model *m = (struct svm_model *)0x1;
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "bad.model:%d: ", line);
	mlctl_error_clear();
	ck_assert_msg(model_load(&m, text, len, "bad.model") == MLCTL_EDATA, "accepted: %s", what);
	ck_assert_ptr_null(m);
	ck_assert_msg(strncmp(mlctl_error_last()->message, prefix, strlen(prefix)) == 0,
		      "%s: message \"%s\" does not start with \"%s\"", what,
		      mlctl_error_last()->message, prefix);
	ck_assert_msg(strstr(mlctl_error_last()->message, what) != NULL,
		      "message \"%s\" does not say \"%s\"", mlctl_error_last()->message, what);
	free(text);
}

static void bad_str(char *text, int line, const char *what)
{
	expect_bad(text, strlen(text), line, what);
}

#define BAD(t, line, what) bad_str((t), (line), (what))

/*
 * heart_scale's model: 1 svm_type, 2 kernel_type, 3 gamma, 4 nr_class, 5 total_sv, 6 rho,
 * 7 label, 8 nr_sv, 9 SV, 10..199 the 190 support vectors.
 */
START_TEST(test_model_load_malformed)
{
	char *ref, *t;
	size_t len;

	run("svm-train -q -c 2 -g 0.5 '%s' '%s'", data_path("heart_scale"), tmp_path("ref.model"));
	ref = test_slurp(tmp_path("ref.model"), &len);
	ck_assert_ptr_nonnull(ref);

	BAD(first_lines(ref, 100), 101, "the SV section ends after 91 of 190");
	t = strndup(ref, (size_t)(strstr(strstr(ref, "\nSV\n"), " 3:") - ref));   /* cut in line 10 */
	BAD(t, 11, "the SV section ends after 1 of 190");
	BAD(first_lines(ref, 9), 10, "ends after 0 of 190");
	BAD(first_lines(ref, 5), 6, "the model ends before its SV line");
	BAD(edit_line(ref, 4, "nr_class 0"), 4, "nr_class: \"0\" is not an integer in [1, 4096]");
	BAD(edit_line(ref, 4, "nr_class 99999999999"), 4, "nr_class");
	BAD(edit_line(ref, 5, "total_sv 2147483647"), 9, "nr_sv adds up to 190, total_sv is 2147483647");
	BAD(edit_line(ref, 5, "total_sv 4294967296"), 5, "total_sv: \"4294967296\" is not an integer");
	BAD(edit_line(ref, 3, "gamma abc"), 3, "gamma: \"abc\" is not a number");
	BAD(edit_line(ref, 3, "gamma nan"), 3, "gamma: \"nan\" is not a number");
	BAD(edit_line(ref, 6, NULL), 8, "no rho line before SV");
	BAD(edit_line(ref, 6, "rho 0.5 0.25"), 6, "rho: more than the 1 values expected");
	BAD(edit_line(ref, 6, "rho"), 6, "rho: 0 values, 1 expected");
	BAD(edit_line(ref, 7, "label 1"), 7, "label: 1 values, 2 expected");
	BAD(edit_line(ref, 7, "label 1 x"), 7, "label: \"x\" is not an integer");
	BAD(edit_line(ref, 8, "nr_sv 90 -100"), 8, "nr_sv: \"-100\" is not a count");
	BAD(edit_line(ref, 8, "nr_sv 90 101"), 9, "nr_sv adds up to 191");
	BAD(edit_line(ref, 8, NULL), 8, "needs label and nr_sv");
	BAD(edit_line(ref, 4, "gamma 1"), 4, "gamma again (first on line 3)");
	BAD(edit_line(ref, 2, "kernel_type precomputed"), 2, "kernel_type: \"precomputed\"");
	BAD(edit_line(ref, 1, "svm_type c-svc"), 1, "svm_type: \"c-svc\"");
	BAD(edit_line(ref, 2, "colour blue"), 2, "\"colour\" is not a model key");
	BAD(edit_line(ref, 12, "abc 1:0.5"), 12, "coefficient \"abc\" is not a number");
	BAD(edit_line(ref, 12, "1:0.5"), 12, "1 coefficient(s) expected");
	BAD(edit_line(ref, 13, "0.5 1:x"), 13, "feature 1: \"x\" is not a number");
	BAD(edit_line(ref, 14, "0.5 2:1 1:1"), 14, "feature index 1 after 2");
	BAD(edit_line(ref, 15, "0.5 -3:1"), 15, "feature index \"-3\"");
	BAD(edit_line(ref, 15, "0.5 3:1:2"), 15, "\"3:1:2\" is not index:value");
	BAD(edit_line(ref, 15, "0.5 99999999999:1"), 15, "feature index \"99999999999\"");
	BAD(edit_line(ref, 16, "0.5 1:1e999"), 16, "feature 1: \"1e999\" is not a number");
	BAD(edit_line(ref, 1, "svm_type one_class"), 9, "a one_class model has no label or nr_sv");
	t = malloc(len + 20);
	snprintf(t, len + 20, "%s0.5 1:1\n", ref);
	BAD(t, 200, "more support vectors than total_sv 190");
	t = malloc(1);
	t[0] = '\0';
	BAD(t, 1, "empty model");

	/* A NUL byte inside an SV line: a C string reader would stop there. */
	t = strdup(ref);
	*strstr(t, "\n0.091") = '\0';
	expect_bad(t, len, 11, "control character 0x00");
	/* rho before nr_class: libsvm would size rho from an uninitialised count. */
	t = strdup("svm_type c_svc\nkernel_type linear\nrho 1\nnr_class 2\n");
	BAD(t, 3, "rho comes before nr_class");
	/* A regression model claiming two billion SVs in a short file. */
	t = strdup("svm_type epsilon_svr\nkernel_type linear\nnr_class 2\ntotal_sv 2000000000\n"
		   "rho 0\nSV\n0.5 1:1\n");
	BAD(t, 8, "the SV section ends after 1 of 2000000000");
	/* nr_class 1 with support vectors: libsvm would index sv_coef[0] of none. */
	t = strdup("svm_type c_svc\nkernel_type linear\nnr_class 1\ntotal_sv 1\nrho\nlabel 1\n"
		   "nr_sv 1\nSV\n1:1\n");
	BAD(t, 8, "cannot have support vectors");

	/* Trailing blank lines and \r\n line ends are fine. */
	t = malloc(len + 4);
	snprintf(t, len + 4, "%s\n\n", ref);
	{
		struct svm_model *m = NULL;

		ck_assert_int_eq(model_load(&m, t, strlen(t), "ok.model"), 0);
		ck_assert_int_eq(model_nsv(m), 190);
		model_free(m);
	}
	free(t);
	free(ref);
}
END_TEST

static Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("model");

	tcase_add_checked_fixture(tc, heart_setup, heart_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_model_param_defaults);
	tcase_add_test(tc, test_model_param_set);
	tcase_add_test(tc, test_model_param_weights_copy);
	tcase_add_test(tc, test_model_train_matches_svm_train);
	tcase_add_test(tc, test_model_train_weights_defaults_match_svm_train);
	tcase_add_test(tc, test_model_check_parameter_is_usage);
	tcase_add_test(tc, test_model_probability_deterministic);
	tcase_add_test(tc, test_model_load_matches_svm_predict);
	tcase_add_test(tc, test_model_load_is_svm_load_model);
	tcase_add_test(tc, test_model_save_keeps_values);
	tcase_add_test(tc, test_model_load_malformed);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(model_suite)
