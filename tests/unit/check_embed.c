/*
 * check_embed.c — what a host program that embeds lib/ relies on: two threads scoring
 * through one loaded model at once get identical results, two mlctl_predict() calls run
 * concurrently (one registry handle each), a host's own SIGTERM handler stays installed
 * across mlctl_predict() and the library installs none, the output goes to the stream the
 * host gives, and a cancelled job stops with MLCTL_ECANCELED leaving no file behind.
 *
 * Also the ThreadSanitizer test: `make tsan` runs this suite under -fsanitize=thread.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "mlctl.h"
#include "bundle.h"
#include "dataset.h"
#include "fsutil.h"
#include "model.h"
#include "schema.h"
#include "scorer.h"

static char regdir[600];

/* A registry in test_tmpdir with iris trained as "iris" (default parameters, seed 1). */
static void setup(void)
{
	mlctl_train_options to = MLCTL_TRAIN_OPTIONS_INIT;
	mlctl_train_result *tr = NULL;
	mlctl_registry *reg = NULL;

	tmpdir_setup();
	snprintf(regdir, sizeof(regdir), "%s/reg", test_tmpdir);
	ck_assert_int_eq(mlctl_registry_init(regdir), 0);
	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	to.data = data_path("iris.csv");
	to.name = "iris";
	to.label = "species";
	to.seed = 1;
	to.probability = true;
	ck_assert_msg(mlctl_train(&tr, reg, &to) == 0, "train: %s", mlctl_error_last()->message);
	mlctl_train_result_free(tr);
	mlctl_registry_free(reg);
}

static void teardown(void)
{
	tmpdir_teardown();
}

/* iris.csv repeated k times (the header once) under test_tmpdir; returns its path. */
static const char *iris_times(const char *name, int k)
{
	static char path[700];
	FILE *in = fopen(data_path("iris.csv"), "r"), *out;
	char line[512], header[512];
	char **rows = NULL;
	size_t n = 0, i;
	int t;

	snprintf(path, sizeof(path), "%s/%s", test_tmpdir, name);
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(fgets(header, sizeof(header), in));
	while (fgets(line, sizeof(line), in)) {
		rows = realloc(rows, (n + 1) * sizeof(*rows));
		rows[n++] = strdup(line);
	}
	fclose(in);
	out = fopen(path, "w");
	ck_assert_ptr_nonnull(out);
	fputs(header, out);
	for (t = 0; t < k; t++)
		for (i = 0; i < n; i++)
			fputs(rows[i], out);
	fclose(out);
	for (i = 0; i < n; i++)
		free(rows[i]);
	free(rows);
	return path;
}

/* Files in test_tmpdir whose name starts with '.' (temp files). */
static int hidden_files(void)
{
	DIR *d = opendir(test_tmpdir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* ---- two threads, one loaded model ---- */

#define SCORE_ROUNDS 40

typedef struct {
	const mlctl_bundle *b;
	const fast_scorer *sc;
	const char *input;
	size_t n;                   /* rows scored per round */
	double *labels, *prob;      /* of the last round: n and n * 3 */
	double *ref;                /* libsvm's svm_predict_probability on the shared model */
	int failed;
} scorer_thread;

static void *score_rows(void *arg)
{
	scorer_thread *t = arg;
	size_t maxn = schema_max_nodes(t->b->schema), cap = 1024, i;
	struct svm_node *nodes = calloc(cap * maxn, sizeof(*nodes));
	struct svm_node **rows = calloc(cap, sizeof(*rows));
	int round;

	for (round = 0; round < SCORE_ROUNDS && !t->failed; round++) {
		ds_reader *r = NULL;
		schema_binding *bind = NULL;
		const ds_record *rec;
		size_t n = 0;

		if (ds_reader_open(&r, t->input, DS_FORMAT_AUTO) || schema_bind(&bind, t->b->schema, r)) {
			t->failed = 1;
			break;
		}
		while (ds_reader_next(r, &rec) == 1 && n < cap) {
			size_t nn;
			double label;

			rows[n] = nodes + n * maxn;
			if (schema_transform_record(rows[n], &nn, &label, bind, rec)) {
				t->failed = 1;
				break;
			}
			n++;
		}
		if (!t->labels) {
			t->labels = calloc(n, sizeof(double));
			t->prob = calloc(n * 3, sizeof(double));
			t->ref = calloc(n * 3, sizeof(double));
		}
		t->n = n;
		if (scorer_predict(t->sc, (const struct svm_node *const *)rows, n, t->labels, NULL, t->prob))
			t->failed = 1;
		for (i = 0; i < n; i++)
			svm_predict_probability(t->b->model, rows[i], t->ref + i * 3);
		schema_binding_free(bind);
		ds_reader_free(r);
	}
	free(nodes);
	free(rows);
	return NULL;
}

START_TEST(two_threads_score_through_one_model)
{
	mlctl_registry *reg = NULL;
	mlctl_bundle *b = NULL;
	fast_scorer *sc = NULL;
	scorer_thread t[3];
	pthread_t tid[2];
	size_t i, k;

	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	ck_assert_msg(bundle_resolve(&b, reg, "iris", NULL) == 0, "%s", mlctl_error_last()->message);
	ck_assert_int_eq(scorer_create(&sc, b->model), 0);
	memset(t, 0, sizeof(t));
	for (k = 0; k < 3; k++) {
		t[k].b = b;
		t[k].sc = sc;
		t[k].input = data_path("iris.csv");
	}
	/* t[2]: the same rows scored alone, for reference */
	score_rows(&t[2]);
	ck_assert_int_eq(t[2].failed, 0);
	ck_assert_uint_eq(t[2].n, 150);
	for (k = 0; k < 2; k++)
		ck_assert_int_eq(pthread_create(&tid[k], NULL, score_rows, &t[k]), 0);
	for (k = 0; k < 2; k++)
		pthread_join(tid[k], NULL);
	for (k = 0; k < 2; k++) {
		ck_assert_int_eq(t[k].failed, 0);
		ck_assert_uint_eq(t[k].n, t[2].n);
		/* identical, to the bit, to the rows scored alone */
		ck_assert_mem_eq(t[k].labels, t[2].labels, t[2].n * sizeof(double));
		ck_assert_mem_eq(t[k].prob, t[2].prob, t[2].n * 3 * sizeof(double));
		ck_assert_mem_eq(t[k].ref, t[2].ref, t[2].n * 3 * sizeof(double));
	}
	/* and the fast scorer agrees with libsvm on the shared model */
	for (i = 0; i < t[2].n * 3; i++)
		ck_assert_double_eq_tol(t[2].prob[i], t[2].ref[i], 1e-9);
	for (k = 0; k < 3; k++) {
		free(t[k].labels);
		free(t[k].prob);
		free(t[k].ref);
	}
	scorer_free(sc);
	bundle_free(b);
	mlctl_registry_free(reg);
}
END_TEST

/* ---- two mlctl_predict() at once, one registry handle each ---- */

typedef struct {
	const char *input, *output;
	int threads;
	int ret;
	char message[512];
	size_t rows;
} predict_thread;

static void *predict_main(void *arg)
{
	predict_thread *p = arg;
	mlctl_predict_options o = MLCTL_PREDICT_OPTIONS_INIT;
	mlctl_predict_result *res = NULL;
	mlctl_registry *reg = NULL;

	if ((p->ret = mlctl_registry_open(&reg, regdir)) == 0) {
		o.model = "iris";
		o.input = p->input;
		o.output = p->output;
		o.proba = true;
		o.threads = p->threads;
		o.batch_rows = 64;
		p->ret = mlctl_predict(&res, reg, &o);
	}
	snprintf(p->message, sizeof(p->message), "%s", mlctl_error_last()->message);
	if (res)
		p->rows = res->rows;
	mlctl_predict_result_free(res);
	mlctl_registry_free(reg);
	return NULL;
}

START_TEST(concurrent_predicts)
{
	const char *input = iris_times("big.csv", 20);
	predict_thread p[3];
	pthread_t tid[2];
	char *a, *out, *user;
	size_t alen, olen;
	int k;
	mlctl_registry *reg = NULL;
	mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;
	mlctl_run_list *runs = NULL;
	size_t i, succeeded = 0;

	memset(p, 0, sizeof(p));
	for (k = 0; k < 3; k++) {
		p[k].input = input;
		p[k].threads = 2;
	}
	p[0].output = strdup(tmp_path("a.csv"));
	p[1].output = strdup(tmp_path("b.csv"));
	p[2].output = strdup(tmp_path("ref.csv"));
	p[2].threads = 1;
	predict_main(&p[2]);
	ck_assert_msg(p[2].ret == 0, "%s", p[2].message);
	/* Without $USER (as under cron, or in CI) each run looks the user up in the password
	 * database: both at once must not share its static buffer. The environment is
	 * changed before the threads start and restored after they end. */
	user = getenv("USER") ? strdup(getenv("USER")) : NULL;
	unsetenv("USER");
	for (k = 0; k < 2; k++)
		ck_assert_int_eq(pthread_create(&tid[k], NULL, predict_main, &p[k]), 0);
	for (k = 0; k < 2; k++)
		pthread_join(tid[k], NULL);
	if (user)
		setenv("USER", user, 1);
	free(user);
	a = read_all(p[2].output, &alen);
	ck_assert_ptr_nonnull(a);
	for (k = 0; k < 2; k++) {
		ck_assert_msg(p[k].ret == 0, "predict %d: %s", k, p[k].message);
		ck_assert_uint_eq(p[k].rows, 3000);
		out = read_all(p[k].output, &olen);
		ck_assert_ptr_nonnull(out);
		ck_assert_uint_eq(olen, alen);
		ck_assert_mem_eq(out, a, alen);
		free(out);
	}
	/* all three runs recorded */
	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	f.kind = "predict";
	ck_assert_int_eq(mlctl_run_list_get(&runs, reg, &f), 0);
	for (i = 0; i < runs->n; i++)
		succeeded += runs->runs[i]->status == MLCTL_RUN_SUCCEEDED;
	ck_assert_uint_eq(succeeded, 3);
	mlctl_run_list_free(runs);
	mlctl_registry_free(reg);
	free(a);
	for (k = 0; k < 3; k++)
		free((void *)p[k].output);
}
END_TEST

/* ---- signals: the host's handler stays; the library installs none ---- */

static volatile sig_atomic_t host_sigterms;

static void host_on_sigterm(int sig)
{
	(void)sig;
	host_sigterms++;
}

typedef struct {
	int calls;
	int handler_changed;        /* SIGTERM's handler was not the host's at some call */
	int default_changed;        /* SIGINT or SIGHUP was not at its default at some call */
	volatile sig_atomic_t *cancel;
	int cancel_at;              /* set *cancel at this call (0: never) */
	int raise_at;               /* raise SIGTERM at this call (0: never) */
} progress_probe;

static bool probe_progress(const char *what, uint64_t done, uint64_t total, void *payload)
{
	progress_probe *p = payload;
	struct sigaction sa;

	(void)what;
	(void)done;
	(void)total;
	p->calls++;
	if (sigaction(SIGTERM, NULL, &sa) != 0 || sa.sa_handler != host_on_sigterm)
		p->handler_changed = 1;
	if (sigaction(SIGINT, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL)
		p->default_changed = 1;
	if (sigaction(SIGHUP, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL)
		p->default_changed = 1;
	if (p->calls == p->raise_at)
		raise(SIGTERM); /* the host's handler runs; scoring goes on */
	if (p->cancel && p->calls == p->cancel_at)
		__atomic_store_n(p->cancel, 1, __ATOMIC_RELAXED);
	return true;
}

START_TEST(host_sigterm_handler_kept)
{
	mlctl_predict_options o = MLCTL_PREDICT_OPTIONS_INIT;
	mlctl_predict_result *res = NULL;
	mlctl_registry *reg = NULL;
	progress_probe probe = { 0 };
	struct sigaction sa, old_int, old_hup, now;

	probe.raise_at = 2;
	/* a clean start whatever the test runner did */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGHUP, &sa, &old_hup);
	sa.sa_handler = host_on_sigterm;
	ck_assert_int_eq(sigaction(SIGTERM, &sa, NULL), 0);
	host_sigterms = 0;

	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	o.model = "iris";
	o.input = iris_times("big.csv", 10);
	o.output = tmp_path("out.csv");
	o.batch_rows = 100;
	o.threads = 2;
	o.progress = probe_progress;
	o.progress_payload = &probe;
	ck_assert_msg(mlctl_predict(&res, reg, &o) == 0, "%s", mlctl_error_last()->message);
	ck_assert_uint_eq(res->rows, 1500);
	ck_assert_int_ge(probe.calls, 3);
	ck_assert_int_eq(probe.handler_changed, 0);
	ck_assert_int_eq(probe.default_changed, 0);
	ck_assert_int_eq(host_sigterms, 1);
	ck_assert_int_eq(sigaction(SIGTERM, NULL, &now), 0);
	ck_assert_ptr_eq((void *)now.sa_handler, (void *)host_on_sigterm);
	mlctl_predict_result_free(res);
	mlctl_registry_free(reg);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
}
END_TEST

/* ---- cancellation ---- */

typedef struct {
	mlctl_predict_options o;
	mlctl_registry *reg;
	int ret;
	char message[512];
} lock_waiter;

static void *lock_waiter_main(void *arg)
{
	lock_waiter *w = arg;
	mlctl_predict_result *res = NULL;

	w->ret = mlctl_predict(&res, w->reg, &w->o);
	snprintf(w->message, sizeof(w->message), "%s", mlctl_error_last()->message);
	mlctl_predict_result_free(res);
	return NULL;
}

START_TEST(cancel_stops_and_cleans_up)
{
	mlctl_predict_options o = MLCTL_PREDICT_OPTIONS_INIT;
	mlctl_predict_result *res = NULL;
	mlctl_registry *reg = NULL;
	static volatile sig_atomic_t cancel;
	progress_probe probe = { 0 };
	mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;
	mlctl_run_list *runs = NULL;
	int ret;

	cancel = 0;
	probe.cancel = &cancel;
	probe.cancel_at = 3;
	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	o.model = "iris";
	o.input = iris_times("big.csv", 20);
	o.output = tmp_path("out.csv");
	o.rejects = tmp_path("rejects.txt");
	o.batch_rows = 50;
	o.threads = 2;
	o.cancel = &cancel;
	o.progress = probe_progress;
	o.progress_payload = &probe;
	ret = mlctl_predict(&res, reg, &o);
	ck_assert_int_eq(ret, MLCTL_ECANCELED);
	ck_assert_ptr_null(res);
	ck_assert_msg(strstr(mlctl_error_last()->message, "cancelled"), "%s", mlctl_error_last()->message);
	ck_assert_int_eq(mlctl_exit_status(ret), 130);
	/* neither output, nor any temp file */
	ck_assert_int_ne(access(tmp_path("out.csv"), F_OK), 0);
	ck_assert_int_ne(access(tmp_path("rejects.txt"), F_OK), 0);
	ck_assert_int_eq(hidden_files(), 0);
	/* the run ended, failed, saying so */
	f.kind = "predict";
	ck_assert_int_eq(mlctl_run_list_get(&runs, reg, &f), 0);
	ck_assert_uint_eq(runs->n, 1);
	ck_assert_int_eq(runs->runs[0]->status, MLCTL_RUN_FAILED);
	ck_assert_ptr_nonnull(strstr(runs->runs[0]->error, "cancelled"));
	mlctl_run_list_free(runs);

	/* already set before the start: nothing is read at all */
	cancel = 1;
	o.progress = NULL;
	ck_assert_int_eq(mlctl_predict(&res, reg, &o), MLCTL_ECANCELED);
	ck_assert_int_eq(hidden_files(), 0);
	ck_assert_int_ne(access(tmp_path("out.csv"), F_OK), 0);

	/* while waiting for a lock another holds: gives up (else ELOCKED after 30 s) */
	{
		lock_waiter w;
		pthread_t tid;
		int fd = -1;
		struct timespec pause = { 0, 100 * 1000 * 1000 };

		ck_assert_int_eq(fs_lock(&fd, tmp_path("job.lock"), 0), 0);
		cancel = 0;
		w.o = o;
		w.o.lock = tmp_path("job.lock");
		w.o.lock_wait = 30;
		w.reg = reg;
		ck_assert_int_eq(pthread_create(&tid, NULL, lock_waiter_main, &w), 0);
		nanosleep(&pause, NULL);
		__atomic_store_n(&cancel, 1, __ATOMIC_RELAXED);
		pthread_join(tid, NULL);
		ck_assert_int_eq(w.ret, MLCTL_ECANCELED);
		ck_assert_msg(strstr(w.message, "waiting for the lock"), "%s", w.message);
		fs_unlock(fd);
	}
	mlctl_registry_free(reg);
}
END_TEST

/* ---- the output stream ---- */

START_TEST(output_to_host_stream)
{
	mlctl_predict_options o = MLCTL_PREDICT_OPTIONS_INIT;
	mlctl_predict_result *res = NULL;
	mlctl_registry *reg = NULL;
	char *mem = NULL, *file;
	size_t memlen = 0, flen;
	FILE *f;

	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	o.model = "iris";
	o.input = data_path("iris.csv");
	o.proba = true;
	o.output = tmp_path("file.csv");
	ck_assert_int_eq(mlctl_predict(&res, reg, &o), 0);
	mlctl_predict_result_free(res);
	file = read_all(tmp_path("file.csv"), &flen);
	ck_assert_ptr_nonnull(file);

	f = open_memstream(&mem, &memlen);
	ck_assert_ptr_nonnull(f);
	o.output = NULL;
	o.out = f;
	ck_assert_int_eq(mlctl_predict(&res, reg, &o), 0);
	ck_assert_uint_eq(res->rows, 150);
	mlctl_predict_result_free(res);
	fclose(f); /* the library flushed it, never closed it */
	ck_assert_uint_eq(memlen, flen);
	ck_assert_mem_eq(mem, file, flen);
	free(mem);
	free(file);

	/* "-" is the stream too; no stream at all is a usage error */
	o.output = "-";
	o.out = NULL;
	ck_assert_int_eq(mlctl_predict(&res, reg, &o), MLCTL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "output stream"));
	mlctl_registry_free(reg);
}
END_TEST

/* ---- library initialisation ---- */

static void *init_main(void *arg)
{
	*(int *)arg = mlctl_init();
	return NULL;
}

/* mlctl_init() from four threads at once: each gets 0; afterwards libsvm prints nothing
 * (training writes nothing to stdout) and OpenBLAS, when it is there, runs one thread. */
START_TEST(init_once_from_many_threads)
{
	pthread_t tid[4];
	int ret[4], k, saved, fd;
	struct svm_problem prob;
	struct svm_parameter p;
	struct svm_node x[8][2];
	double y[8];
	struct svm_node *rows[8];
	struct svm_model *m;
	void *h;
	char buf[64];
	FILE *f;

	for (k = 0; k < 4; k++)
		ck_assert_int_eq(pthread_create(&tid[k], NULL, init_main, &ret[k]), 0);
	for (k = 0; k < 4; k++) {
		pthread_join(tid[k], NULL);
		ck_assert_int_eq(ret[k], 0);
	}
	ck_assert_int_eq(mlctl_init(), 0);

	/* libsvm's messages ("*", "optimization finished, #iter = ...") go nowhere */
	for (k = 0; k < 8; k++) {
		x[k][0].index = 1;
		x[k][0].value = k;
		x[k][1].index = -1;
		rows[k] = x[k];
		y[k] = k < 4 ? -1 : 1;
	}
	prob.l = 8;
	prob.y = y;
	prob.x = rows;
	memset(&p, 0, sizeof(p));
	p.svm_type = C_SVC;
	p.kernel_type = RBF;
	p.gamma = 0.5;
	p.C = 1;
	p.eps = 1e-3;
	p.cache_size = 10;
	fflush(stdout);
	saved = dup(1);
	fd = open(tmp_path("stdout.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	dup2(fd, 1);
	m = svm_train(&prob, &p);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(fd);
	svm_free_and_destroy_model(&m);
	f = fopen(tmp_path("stdout.txt"), "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_msg(fgets(buf, sizeof(buf), f) == NULL, "libsvm printed: %s", buf);
	fclose(f);

	h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD);
	if (h) {
		int (*get)(void);

		*(void **)&get = dlsym(h, "openblas_get_num_threads");
		if (get)
			ck_assert_int_eq(get(), 1);
		dlclose(h);
	}
}
END_TEST

static Suite *embed_suite(void)
{
	Suite *s = suite_create("embed");
	TCase *tc = tcase_create("embed");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, two_threads_score_through_one_model);
	tcase_add_test(tc, concurrent_predicts);
	tcase_add_test(tc, host_sigterm_handler_kept);
	tcase_add_test(tc, cancel_stops_and_cleans_up);
	tcase_add_test(tc, output_to_host_stream);
	tcase_add_test(tc, init_once_from_many_threads);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(embed_suite)
