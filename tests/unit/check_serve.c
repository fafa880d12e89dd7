/*
 * check_serve.c — lib/serve.c and lib/http.c from inside: a loaded model answers V2 requests
 * with predict's numbers; a server in a thread of this process answers real HTTP requests
 * on keep-alive connections from client threads while its target is deployed and rolled
 * back under it (no failed request, both versions seen), refuses a broken release and keeps
 * serving, answers bad requests with the right statuses, and stops when cancelled.
 *
 * Also a ThreadSanitizer test: `make tsan` runs this suite under -fsanitize=thread.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "check_util.h"
#include "mlctl.h"

static char regdir[600];

static void train_iris(mlctl_registry *reg, double c)
{
	mlctl_train_options to = MLCTL_TRAIN_OPTIONS_INIT;
	mlctl_train_result *tr = NULL;
	char cbuf[32];
	mlctl_kv kv = { (char *)"C", cbuf };

	snprintf(cbuf, sizeof(cbuf), "%g", c);
	to.data = data_path("iris.csv");
	to.name = "iris";
	to.label = "species";
	to.seed = 1;
	to.probability = true;
	to.svm = &kv;
	to.n_svm = 1;
	ck_assert_msg(mlctl_train(&tr, reg, &to) == 0, "train: %s", mlctl_error_last()->message);
	mlctl_train_result_free(tr);
}

static void deploy(mlctl_registry *reg, const char *model)
{
	mlctl_deploy_options o = { 0 };
	mlctl_deploy_result *r = NULL;

	o.model = model;
	o.target = "prod";
	ck_assert_msg(mlctl_deploy(&r, reg, &o) == 0, "deploy %s: %s", model, mlctl_error_last()->message);
	mlctl_deploy_result_free(r);
}

static void rollback(mlctl_registry *reg)
{
	mlctl_deploy_options o = { 0 };
	mlctl_deploy_result *r = NULL;

	o.target = "prod";
	ck_assert_msg(mlctl_deploy_rollback(&r, reg, &o) == 0, "rollback: %s", mlctl_error_last()->message);
	mlctl_deploy_result_free(r);
}

/* iris:1 (C=1) and iris:2 (C=100), both with probabilities; iris:1 deployed to prod. */
static void setup(void)
{
	mlctl_registry *reg = NULL;

	tmpdir_setup();
	snprintf(regdir, sizeof(regdir), "%s/reg", test_tmpdir);
	ck_assert_int_eq(mlctl_registry_init(regdir), 0);
	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	train_iris(reg, 1);
	train_iris(reg, 100);
	deploy(reg, "iris:1");
	mlctl_registry_free(reg);
}

static void teardown(void)
{
	tmpdir_teardown();
}

/* The iris rows (features only) as a V2 request, one input per column. */
static char *iris_v2(size_t *nrows)
{
	static const char *const cols[] = { "sepal_length", "sepal_width", "petal_length", "petal_width" };
	FILE *in = fopen(data_path("iris.csv"), "r");
	json_t *data[4], *inputs = json_array(), *doc;
	char line[512];
	size_t n = 0;
	int k;
	char *text;

	ck_assert_ptr_nonnull(in);
	for (k = 0; k < 4; k++)
		data[k] = json_array();
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), in));
	while (fgets(line, sizeof(line), in)) {
		char *p = line;

		for (k = 0; k < 4; k++) {
			json_array_append_new(data[k], json_real(strtod(p, &p)));
			p++;
		}
		n++;
	}
	fclose(in);
	for (k = 0; k < 4; k++)
		json_array_append_new(inputs, json_pack("{s:s, s:s, s:[I], s:o}", "name", cols[k], "datatype", "FP64",
							"shape", (json_int_t)n, "data", data[k]));
	doc = json_pack("{s:s, s:o}", "id", "iris-all", "inputs", inputs);
	text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(doc);
	*nrows = n;
	return text;
}

/* What predict --proba --format jsonl writes for iris.csv with model. */
static char *predict_jsonl(mlctl_registry *reg, const char *model)
{
	mlctl_predict_options o = MLCTL_PREDICT_OPTIONS_INIT;
	mlctl_predict_result *r = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	o.model = model;
	o.input = data_path("iris.csv");
	o.out = f;
	o.output_format = MLCTL_OUTPUT_JSONL;
	o.proba = true;
	o.no_record = true;
	o.threads = 1;
	ck_assert_msg(mlctl_predict(&r, reg, &o) == 0, "predict: %s", mlctl_error_last()->message);
	mlctl_predict_result_free(r);
	fclose(f);
	return buf;
}

/* The JSON text of a number in the response, as the server wrote it. */
START_TEST(loaded_model_answers_as_predict_does)
{
	mlctl_registry *reg = NULL;
	mlctl_loaded *m = NULL;
	size_t nrows, rlen, r;
	char *body = iris_v2(&nrows), *resp = NULL, *pred, *line, *save = NULL;
	json_t *doc, *outs, *labels = NULL, *probs = NULL;
	json_error_t err;

	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	ck_assert_int_eq(mlctl_loaded_open(&m, reg, "iris:1", NULL, NULL), 0);
	ck_assert_str_eq(mlctl_loaded_name(m), "iris");
	ck_assert_int_eq(mlctl_loaded_version(m), 1);
	ck_assert_msg(mlctl_loaded_infer(m, false, body, strlen(body), &resp, &rlen) == 0, "infer: %s",
		      mlctl_error_last()->message);
	doc = json_loadb(resp, rlen, 0, &err);
	ck_assert_msg(doc != NULL, "response is not JSON: %s", err.text);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "id")), "iris-all");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "model_version")), "1");
	outs = json_object_get(doc, "outputs");
	for (r = 0; r < json_array_size(outs); r++) {
		json_t *o = json_array_get(outs, r);

		if (!strcmp(json_string_value(json_object_get(o, "name")), "predictions"))
			labels = json_object_get(o, "data");
		else
			probs = json_object_get(o, "data");
	}
	ck_assert_ptr_nonnull(labels);
	ck_assert_ptr_nonnull(probs);
	ck_assert_uint_eq(json_array_size(labels), nrows);
	ck_assert_uint_eq(json_array_size(probs), nrows * 3);
	/* predict's lines: {"prediction":"setosa","proba":{"setosa":0.97,...}} */
	pred = predict_jsonl(reg, "iris:1");
	for (r = 0, line = strtok_r(pred, "\n", &save); line; line = strtok_r(NULL, "\n", &save), r++) {
		json_t *pl = json_loads(line, 0, NULL), *pp = json_object_get(pl, "proba");
		const char *key;
		json_t *v;
		size_t k = 0;

		ck_assert_ptr_nonnull(pl);
		ck_assert_str_eq(json_string_value(json_object_get(pl, "prediction")),
				 json_string_value(json_array_get(labels, r)));
		json_object_foreach(pp, key, v) {
			ck_assert_msg(json_real_value(v) == json_real_value(json_array_get(probs, r * 3 + k)),
				      "row %zu class %s: predict %.17g, serve %.17g", r, key, json_real_value(v),
				      json_real_value(json_array_get(probs, r * 3 + k)));
			k++;
		}
		json_decref(pl);
	}
	ck_assert_uint_eq(r, nrows);
	/* A bad request is MLCTL_EDATA with the server's message. */
	{
		char *bad = NULL;

		ck_assert_int_eq(mlctl_loaded_infer(m, false, "{\"inputs\":[]", 12, &bad, &rlen), MLCTL_EDATA);
		ck_assert_ptr_null(bad);
		ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "invalid JSON"));
	}
	free(pred);
	json_decref(doc);
	free(resp);
	free(body);
	mlctl_loaded_unref(m);
	mlctl_registry_free(reg);
}
END_TEST

/* ---- a server in a thread, and clients ---- */

typedef struct srv {
	pthread_t thread;
	mlctl_serve_options o;
	mlctl_serve_result *res;
	int ret;
	volatile sig_atomic_t cancel;
	atomic_int port;
	char log[8192];
	pthread_mutex_t log_mu;
} srv;

static void srv_ready(void *payload, const mlctl_serve_info *info)
{
	srv *s = payload;

	atomic_store(&s->port, info->port);
}

static void srv_log(void *payload, const char *line)
{
	srv *s = payload;

	pthread_mutex_lock(&s->log_mu);
	if (strlen(s->log) + strlen(line) + 2 < sizeof(s->log)) {
		strcat(s->log, line);
		strcat(s->log, "\n");
	}
	pthread_mutex_unlock(&s->log_mu);
}

static void *srv_main(void *arg)
{
	srv *s = arg;
	mlctl_registry *reg = NULL;

	if (mlctl_registry_open(&reg, regdir) == 0)
		s->ret = mlctl_serve(&s->res, reg, &s->o);
	else
		s->ret = -1;
	mlctl_registry_free(reg);
	return NULL;
}

static void srv_start(srv *s)
{
	mlctl_serve_options init = MLCTL_SERVE_OPTIONS_INIT;
	int i;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->log_mu, NULL);
	s->o = init;
	s->o.target = "prod";
	s->o.port = 0;
	s->o.threads = 2;
	s->o.poll = 0.1;
	s->o.cancel = &s->cancel;
	s->o.on_ready = srv_ready;
	s->o.on_log = srv_log;
	s->o.payload = s;
	atomic_init(&s->port, 0);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, srv_main, s), 0);
	for (i = 0; i < 3000 && !atomic_load(&s->port); i++)
		usleep(10000);
	ck_assert_msg(atomic_load(&s->port) > 0, "the server did not start: %s", s->log);
}

static void srv_stop(srv *s)
{
	__atomic_store_n(&s->cancel, 1, __ATOMIC_RELAXED); /* what a signal handler does, seen from a thread */
	pthread_join(s->thread, NULL);
	ck_assert_msg(s->ret == 0, "serve: %d", s->ret);
	ck_assert(s->res->drained);
	pthread_mutex_destroy(&s->log_mu);
}

static int connect_to(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* One request on a keep-alive connection; returns the status, *body the body (free()). */
static int http_call(int fd, const char *method, const char *path, const char *body, char **out)
{
	char head[512], buf[65536], *p;
	size_t have = 0, blen = body ? strlen(body) : 0, clen;
	int status = -1, n;

	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n", method, path, blen);
	if (write(fd, head, (size_t)n) != n || (blen && write(fd, body, blen) != (ssize_t)blen))
		return -1;
	for (;;) {
		ssize_t got = read(fd, buf + have, sizeof(buf) - 1 - have);

		if (got <= 0)
			return -1;
		have += (size_t)got;
		buf[have] = '\0';
		if ((p = strstr(buf, "\r\n\r\n")))
			break;
	}
	sscanf(buf, "HTTP/1.1 %d", &status);
	p += 4;
	{
		char *cl = strstr(buf, "Content-Length:");

		clen = cl ? strtoul(cl + 15, NULL, 10) : 0;
	}
	while ((size_t)(buf + have - p) < clen) {
		ssize_t got = read(fd, buf + have, sizeof(buf) - 1 - have);

		if (got <= 0)
			return -1;
		have += (size_t)got;
	}
	if (out)
		*out = strndup(p, clen);
	return status;
}

static const char *const iris_row =
	"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP64\",\"shape\":[1,4],\"data\":[6.1,2.8,4.7,1.2]}]}";

typedef struct client {
	pthread_t thread;
	int port;
	atomic_int *stop;
	int ok, failed;
	int seen[3];               /* answers by version 1, 2 */
} client;

static void *client_main(void *arg)
{
	client *c = arg;
	int fd = connect_to(c->port);

	while (!atomic_load(c->stop)) {
		char *body = NULL;
		int st = http_call(fd, "POST", "/v2/models/iris/infer", iris_row, &body);
		json_t *doc = st == 200 ? json_loads(body, 0, NULL) : NULL;
		const char *v = doc ? json_string_value(json_object_get(doc, "model_version")) : NULL;

		if (v && (!strcmp(v, "1") || !strcmp(v, "2"))) {
			c->ok++;
			c->seen[v[0] - '0']++;
		} else {
			c->failed++;
		}
		json_decref(doc);
		free(body);
	}
	close(fd);
	return NULL;
}

static int wait_version(int port, const char *want)
{
	int i, fd = connect_to(port), found = 0;

	for (i = 0; i < 500 && !found; i++) {
		char *body = NULL;

		if (http_call(fd, "POST", "/v2/models/iris/infer", iris_row, &body) == 200 &&
		    strstr(body, want))
			found = 1;
		else
			usleep(10000);
		free(body);
	}
	close(fd);
	return found;
}

START_TEST(reload_under_load_fails_no_request)
{
	srv s;
	client c[2];
	atomic_int stop;
	mlctl_registry *reg = NULL;
	int k;

	srv_start(&s);
	atomic_init(&stop, 0);
	for (k = 0; k < 2; k++) {
		memset(&c[k], 0, sizeof(c[k]));
		c[k].port = atomic_load(&s.port);
		c[k].stop = &stop;
		ck_assert_int_eq(pthread_create(&c[k].thread, NULL, client_main, &c[k]), 0);
	}
	ck_assert_int_eq(mlctl_registry_open(&reg, regdir), 0);
	usleep(100000);
	deploy(reg, "iris:2");
	ck_assert(wait_version(atomic_load(&s.port), "\"model_version\":\"2\""));
	usleep(300000); /* the clients answered by version 2 for a while */
	rollback(reg);
	ck_assert(wait_version(atomic_load(&s.port), "\"model_version\":\"1\""));
	usleep(100000);
	atomic_store(&stop, 1);
	for (k = 0; k < 2; k++) {
		pthread_join(c[k].thread, NULL);
		ck_assert_msg(c[k].failed == 0, "client %d: %d failed of %d", k, c[k].failed, c[k].ok + c[k].failed);
		ck_assert_int_gt(c[k].ok, 0);
	}
	ck_assert_int_gt(c[0].seen[1] + c[1].seen[1], 0);
	ck_assert_int_gt(c[0].seen[2] + c[1].seen[2], 0);
	mlctl_registry_free(reg);
	srv_stop(&s);
	ck_assert_uint_ge(s.res->reloads, 2);
	ck_assert_uint_eq(s.res->reloads_failed, 0);
	ck_assert_ptr_nonnull(strstr(s.log, "iris:1 -> iris:2"));
	ck_assert_ptr_nonnull(strstr(s.log, "iris:2 -> iris:1"));
	mlctl_serve_result_free(s.res);
}
END_TEST

START_TEST(broken_release_is_refused)
{
	srv s;
	char path[800], link[800];
	int fd;

	srv_start(&s);
	/* A release directory with no model in it, made current by hand. */
	snprintf(path, sizeof(path), "%s/targets/prod/releases/broken", regdir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(link, sizeof(link), "%s/targets/prod/current.tmp", regdir);
	ck_assert_int_eq(symlink("releases/broken", link), 0);
	snprintf(path, sizeof(path), "%s/targets/prod/current", regdir);
	ck_assert_int_eq(rename(link, path), 0);
	fd = connect_to(atomic_load(&s.port));
	ck_assert(wait_version(atomic_load(&s.port), "\"model_version\":\"1\""));
	usleep(300000);
	{
		char *body = NULL;

		ck_assert_int_eq(http_call(fd, "POST", "/v2/models/iris/infer", iris_row, &body), 200);
		ck_assert_ptr_nonnull(strstr(body, "\"model_version\":\"1\""));
		free(body);
		ck_assert_int_eq(http_call(fd, "GET", "/metrics", NULL, &body), 200);
		ck_assert_ptr_nonnull(strstr(body, "mlctl_reloads_failed_total 1\n"));
		free(body);
	}
	close(fd);
	srv_stop(&s);
	ck_assert_uint_eq(s.res->reloads_failed, 1);
	ck_assert_ptr_nonnull(strstr(s.log, "refused"));
	mlctl_serve_result_free(s.res);
}
END_TEST

START_TEST(bad_requests_get_their_status)
{
	srv s;
	int fd;
	char *body = NULL;
	json_t *doc;

	srv_start(&s);
	fd = connect_to(atomic_load(&s.port));
	ck_assert_int_eq(http_call(fd, "POST", "/v2/models/iris/infer", "{\"inputs\": [", &body), 400);
	doc = json_loads(body, 0, NULL);
	ck_assert_ptr_nonnull(json_string_value(json_object_get(doc, "error")));
	json_decref(doc);
	free(body);
	ck_assert_int_eq(http_call(fd, "POST", "/v2/models/nosuch/infer", iris_row, &body), 404);
	free(body);
	ck_assert_int_eq(http_call(fd, "POST", "/v2/models/iris/versions/7/infer", iris_row, &body), 404);
	free(body);
	ck_assert_int_eq(http_call(fd, "GET", "/v2/models/iris/infer", NULL, &body), 405);
	free(body);
	ck_assert_int_eq(http_call(fd, "GET", "/nowhere", NULL, &body), 404);
	free(body);
	ck_assert_int_eq(http_call(fd, "GET", "/v2/health/live", NULL, &body), 200);
	ck_assert_str_eq(body, "");
	free(body);
	ck_assert_int_eq(http_call(fd, "POST", "/v1/models/prod:predict",
				   "{\"instances\":[{\"sepal_length\":6.1,\"sepal_width\":2.8,\"petal_length\":4.7,\"petal_width\":1.2}]}",
				   &body), 200);
	ck_assert_ptr_nonnull(strstr(body, "\"predictions\":[\"versicolor\"]"));
	free(body);
	close(fd);
	srv_stop(&s);
	ck_assert_uint_eq(s.res->requests, 7);
	ck_assert_uint_eq(s.res->errors, 5);
	mlctl_serve_result_free(s.res);
}
END_TEST

static Suite *serve_suite(void)
{
	Suite *s = suite_create("serve");
	TCase *tc = tcase_create("serve");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, loaded_model_answers_as_predict_does);
	tcase_add_test(tc, reload_under_load_fails_no_request);
	tcase_add_test(tc, broken_release_is_refused);
	tcase_add_test(tc, bad_requests_get_their_status);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(serve_suite)
