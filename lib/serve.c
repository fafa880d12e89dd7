/*
 * serve.c — `mlctl_serve()` (floor 4): real-time predictions over HTTP.
 *
 * Threads: the caller's thread loads the models, starts the HTTP pool (http.c) and then
 * watches the targets (inotify on each target directory, a check every `poll` seconds, and
 * at once when *reload changes); libmicrohttpd's pool threads answer requests; the
 * prediction log has its writer thread (predlog.c).
 *
 * A slot (primary, canary, shadow) holds the loaded model it serves. A request takes a
 * reference under the slot's mutex and scores with it; a reload loads and checks the new
 * release beside the old one, then swaps the pointer under the same mutex and drops the
 * slot's reference: requests that hold the old model finish on it, and the last one frees it.
 *
 * Counters are atomics; the metrics of every model version served since the start are kept
 * until the end, so that Prometheus counters never go backwards across a reload.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "error.h"
#include "fsutil.h"
#include "http.h"
#include "infer.h"
#include "model.h"
#include "predlog.h"
#include "rng.h"
#include "schema.h"
#include "scorer.h"
#include "util.h"
#include "mlctl/serve.h"
#include "banned.h"

/* ---- counters ------------------------------------------------------------------------- */

typedef atomic_uint_least64_t counter;

static void count(counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t counted(const counter *c)
{
	return atomic_load_explicit((counter *)c, memory_order_relaxed);
}

/* The counters of one model version, kept from its first load to the server's end. */
typedef struct model_stats {
	struct model_stats *next;
	char *name;
	int version;
	counter rows;
	size_t nclasses;
	char **class_names;        /* model label order */
	counter *class_counts;
} model_stats;

enum { RT_V2_INFER, RT_V1_PREDICT, RT_V2_METADATA, RT_V2_HEALTH, RT_V2_SERVER, RT_METRICS, RT_OTHER, RT_N };
static const char *const route_names[RT_N] = {
	"v2_infer", "v1_predict", "v2_metadata", "v2_health", "v2_server", "metrics", "other"
};
static const int status_codes[] = { 200, 400, 404, 405, 408, 413, 500, 503 };
#define NSTATUS (sizeof(status_codes) / sizeof(status_codes[0]))
/* Latency buckets, microseconds. */
static const unsigned latency_us[] = { 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
				       100000, 250000, 1000000 };
#define NBUCKETS (sizeof(latency_us) / sizeof(latency_us[0]))

enum { PH_PARSE, PH_TRANSFORM, PH_SCORE, PH_WRITE, PH_N };
static const char *const phase_names[PH_N] = { "parse", "transform", "score", "write" };

typedef struct metrics {
	counter requests[RT_N][NSTATUS];
	counter buckets[RT_N][NBUCKETS + 1];   /* the last is +Inf */
	counter sum_ns[RT_N];
	counter phase_ns[PH_N];
	counter reloads, reloads_failed, shadow_disagreements, canary_requests;
} metrics;

/* ---- loaded models -------------------------------------------------------------------- */

struct mlctl_loaded {
	atomic_int refs;
	mlctl_bundle *b;
	fast_scorer *scorer;       /* NULL: libsvm's svm_predict (a model the scorer cannot take) */
	bool classify, has_proba;
	int nr_class;
	double *class_values;      /* model label order */
	char **class_names;
	size_t max_nodes;
	char *release;             /* the release directory of a target, or NULL */
	char *ref;                 /* "churn:3" */
	model_stats *stats;        /* the server's counters, or NULL */
};

static void loaded_free(mlctl_loaded *m)
{
	int c;

	if (!m)
		return;
	scorer_free(m->scorer);
	bundle_free(m->b);
	for (c = 0; m->class_names && c < m->nr_class; c++)
		free(m->class_names[c]);
	free(m->class_names);
	free(m->class_values);
	free(m->release);
	free(m->ref);
	free(m);
}

mlctl_loaded *mlctl_loaded_ref(mlctl_loaded *m)
{
	if (m)
		atomic_fetch_add(&m->refs, 1);
	return m;
}

void mlctl_loaded_unref(mlctl_loaded *m)
{
	if (m && atomic_fetch_sub(&m->refs, 1) == 1)
		loaded_free(m);
}

const char *mlctl_loaded_name(const mlctl_loaded *m)
{
	return m->b->name;
}

int mlctl_loaded_version(const mlctl_loaded *m)
{
	return m->b->version;
}

/* Make a loaded model of bundle b (taken, also on failure). */
static int loaded_make(mlctl_loaded **out, mlctl_bundle *b, const char *release)
{
	mlctl_loaded *m = calloc(1, sizeof(*m));
	const struct svm_model *sm = b->model;
	int c, nr, *labels = NULL;

	*out = NULL;
	if (!m) {
		bundle_free(b);
		return mlctl_error_oom();
	}
	atomic_init(&m->refs, 1);
	m->b = b;
	m->classify = model_is_classifier(svm_get_svm_type(sm));
	nr = svm_get_nr_class(sm);
	m->nr_class = m->classify ? nr : 1;
	m->has_proba = m->classify && svm_check_probability_model(sm);
	m->max_nodes = schema_max_nodes(b->schema);
	m->ref = mlctl_asprintf("%s:%d", b->name, b->version);
	m->release = release ? mlctl_strdup(release) : NULL;
	m->class_values = mlctl_calloc((size_t)m->nr_class, sizeof(*m->class_values));
	m->class_names = mlctl_calloc((size_t)m->nr_class, sizeof(*m->class_names));
	if (m->classify)
		labels = mlctl_calloc((size_t)nr, sizeof(*labels));
	if (!m->ref || (release && !m->release) || !m->class_values || !m->class_names || (m->classify && !labels))
		goto oom;
	if (m->classify) {
		svm_get_labels(sm, labels);
		for (c = 0; c < nr; c++) {
			const char *name = schema_class_for_value(b->schema, labels[c]);
			char buf[32];

			m->class_values[c] = labels[c];
			if (!(m->class_names[c] = mlctl_strdup(name ? name : mlctl_fmt_double(buf, labels[c]))))
				goto oom;
		}
	}
	free(labels);
	if (scorer_create(&m->scorer, sm) != 0) {
		m->scorer = NULL; /* not dense-able: libsvm's own path, as predict does */
		mlctl_error_clear();
	}
	*out = m;
	return 0;
oom:
	free(labels);
	loaded_free(m);
	return mlctl_error_oom();
}

int mlctl_loaded_open(mlctl_loaded **out, mlctl_registry *reg, const char *model, const char *target,
		      const char *pubkey)
{
	mlctl_bundle *b = NULL;
	int ret;

	*out = NULL;
	if (model && !target && pubkey && fs_exists(model) && !fs_is_dir(model))
		ret = bundle_from_package(&b, model, pubkey);
	else
		ret = bundle_resolve(&b, reg, model, target);
	if (ret)
		return ret;
	return loaded_make(out, b, NULL);
}

/* Phase timing of one request, nanoseconds. */
typedef struct phases {
	uint64_t ns[PH_N];
	double mark;
} phases;

static void phase_end(phases *ph, int which)
{
	double now = mlctl_monotonic();

	ph->ns[which] += (uint64_t)((now - ph->mark) * 1e9);
	ph->mark = now;
}

/* Transform and score the rows of rq: labels[nrows], prob[nrows * nr_class] when want_prob. */
static int loaded_score(const mlctl_loaded *m, const infer_request *rq, bool want_prob, double *labels,
			double *prob, phases *ph)
{
	const mlctl_schema *s = m->b->schema;
	struct svm_node *nodes = NULL, **rows = NULL;
	size_t r, nn;
	int ret = 0;

	if (!rq->nrows)
		return 0;
	nodes = mlctl_reallocarray(NULL, rq->nrows, m->max_nodes * sizeof(*nodes));
	rows = mlctl_reallocarray(NULL, rq->nrows, sizeof(*rows));
	if (!nodes || !rows) {
		ret = mlctl_error_oom();
		goto out;
	}
	for (r = 0; r < rq->nrows; r++) {
		rows[r] = nodes + r * m->max_nodes;
		if ((ret = schema_encode_cells(rows[r], &nn, s, rq->cells + r * rq->ninputs, r, NULL)))
			goto out;
	}
	phase_end(ph, PH_TRANSFORM);
	if (m->scorer) {
		ret = scorer_predict(m->scorer, (const struct svm_node *const *)rows, rq->nrows, labels, NULL,
				     want_prob ? prob : NULL);
	} else {
		for (r = 0; r < rq->nrows; r++)
			labels[r] = want_prob ? svm_predict_probability(m->b->model, rows[r], prob + r * (size_t)m->nr_class)
					      : svm_predict(m->b->model, rows[r]);
	}
	phase_end(ph, PH_SCORE);
out:
	free(rows);
	free(nodes);
	return ret;
}

/* The answer of m to a parsed request, scored: labels and prob are the caller's. */
typedef struct scored {
	const mlctl_loaded *m;
	double *labels;
	double *prob;
} scored;

static int score_request(scored *sc, const mlctl_loaded *m, const infer_request *rq, phases *ph)
{
	bool want_prob = rq->want_probabilities && m->has_proba;
	size_t n = rq->nrows ? rq->nrows : 1;

	sc->m = m;
	sc->labels = mlctl_calloc(n, sizeof(double));
	sc->prob = want_prob ? mlctl_calloc(n, (size_t)m->nr_class * sizeof(double)) : NULL;
	if (!sc->labels || (want_prob && !sc->prob))
		return mlctl_error_oom();
	return loaded_score(m, rq, want_prob, sc->labels, sc->prob, ph);
}

static void scored_release(scored *sc)
{
	free(sc->labels);
	free(sc->prob);
	sc->labels = sc->prob = NULL;
}

static void answer_of(infer_answer *a, const scored *sc, const infer_request *rq)
{
	const mlctl_loaded *m = sc->m;

	a->model_name = m->b->name;
	a->model_version = m->b->version;
	a->schema = m->b->schema;
	a->classify = m->classify;
	a->nrows = rq->nrows;
	a->labels = sc->labels;
	a->prob = sc->prob;
	a->nclasses = (size_t)m->nr_class;
	a->class_names = (const char *const *)m->class_names;
}

int mlctl_loaded_infer(const mlctl_loaded *m, bool v1, const char *body, size_t len, char **response,
		       size_t *response_len)
{
	infer_protocol p = v1 ? INFER_V1 : INFER_V2;
	infer_request *rq = NULL;
	scored sc = { NULL, NULL, NULL };
	infer_answer a;
	strbuf out = MLCTL_STRBUF_INIT;
	phases ph = { { 0 }, mlctl_monotonic() };
	int ret;

	*response = NULL;
	if ((ret = infer_parse(&rq, p, m->b->schema, m->has_proba, body, len)) ||
	    (ret = score_request(&sc, m, rq, &ph)))
		goto out;
	answer_of(&a, &sc, rq);
	if ((ret = infer_write_response(&out, p, rq, &a)))
		goto out;
	*response = strbuf_detach(&out, response_len);
	if (!*response)
		ret = mlctl_error_oom();
out:
	strbuf_release(&out);
	scored_release(&sc);
	infer_request_free(rq);
	return ret;
}

/* ---- the server ----------------------------------------------------------------------- */

typedef struct slot {
	const char *role;          /* "primary", "canary", "shadow" */
	const char *target;        /* followed target, or NULL (one fixed model) */
	char *dir;                 /* the target's directory */
	int watch;                 /* inotify watch, or -1 */
	pthread_mutex_t mu;
	mlctl_loaded *cur;         /* NULL: the slot is not used */
	char *refused;             /* a release that failed to load: not tried again until
				    * current changes or a reload is asked */
} slot;

enum { SLOT_PRIMARY, SLOT_CANARY, SLOT_SHADOW, NSLOTS };

typedef struct server {
	const mlctl_serve_options *o;
	mlctl_registry *reg;
	slot slots[NSLOTS];
	http_server *http;
	predlog *log;
	metrics m;
	counter draws;             /* canary and sample draws without a request id */
	uint32_t canary_cut;       /* canary when a draw's 0..9999 is below this */
	uint64_t sample_cut;       /* log when a draw is below this (of 2^32) */
	pthread_mutex_t stats_mu;  /* the list of model_stats */
	model_stats *stats;
} server;

static void say(server *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(server *sv, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!sv->o->on_log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sv->o->on_log(sv->o->payload, line);
}

static mlctl_loaded *slot_get(slot *sl)
{
	mlctl_loaded *m;

	pthread_mutex_lock(&sl->mu);
	m = mlctl_loaded_ref(sl->cur);
	pthread_mutex_unlock(&sl->mu);
	return m;
}

/* The counters of name:version, made on first use (caller's thread, at load time). */
static int stats_for(server *sv, mlctl_loaded *m)
{
	model_stats *st;
	int c;

	pthread_mutex_lock(&sv->stats_mu);
	for (st = sv->stats; st; st = st->next)
		if (st->version == m->b->version && !strcmp(st->name, m->b->name) &&
		    st->nclasses == (m->classify ? (size_t)m->nr_class : 0))
			break;
	if (!st && (st = calloc(1, sizeof(*st)))) {
		st->name = mlctl_strdup(m->b->name);
		st->version = m->b->version;
		atomic_init(&st->rows, 0);
		st->nclasses = m->classify ? (size_t)m->nr_class : 0;
		st->class_names = st->nclasses ? mlctl_calloc(st->nclasses, sizeof(char *)) : NULL;
		st->class_counts = st->nclasses ? mlctl_calloc(st->nclasses, sizeof(counter)) : NULL;
		for (c = 0; c < (int)st->nclasses && st->class_names && st->class_counts; c++) {
			atomic_init(&st->class_counts[c], 0);
			st->class_names[c] = mlctl_strdup(m->class_names[c]);
		}
		st->next = sv->stats;
		sv->stats = st;
	}
	m->stats = st;
	pthread_mutex_unlock(&sv->stats_mu);
	if (!st || !st->name || (st->nclasses && (!st->class_names || !st->class_counts)))
		return mlctl_error_oom();
	for (c = 0; c < (int)st->nclasses; c++)
		if (!st->class_names[c])
			return mlctl_error_oom();
	return 0;
}

static void stats_free(model_stats *st)
{
	while (st) {
		model_stats *next = st->next;
		size_t c;

		for (c = 0; st->class_names && c < st->nclasses; c++)
			free(st->class_names[c]);
		free(st->class_names);
		free(st->class_counts);
		free(st->name);
		free(st);
		st = next;
	}
}

/*
 * Check a target slot: when its current release differs from the one loaded (or force),
 * load the new one beside the old, check it, and swap it in. 0 when the slot serves what
 * current names (or keeps its model after a refusal, which is counted and said); an error
 * only when nothing is loaded yet (at start).
 */
static int slot_check(server *sv, slot *sl, bool force)
{
	char *rel = NULL;
	mlctl_bundle *b = NULL;
	mlctl_loaded *m = NULL, *old;
	int ret;

	if (!sl->target)
		return 0;
	ret = bundle_current_release(&rel, sl->dir, sl->target);
	if (!ret && sl->cur && sl->cur->release && !strcmp(sl->cur->release, rel) && !force) {
		free(rel);
		return 0;
	}
	if (!ret && sl->refused && !strcmp(sl->refused, rel) && !force) {
		free(rel);
		return 0;
	}
	if (!ret && !(ret = bundle_from_dir(&b, rel)) && !(ret = loaded_make(&m, b, rel)))
		ret = stats_for(sv, m);
	if (ret) {
		if (!sl->cur) {
			mlctl_loaded_unref(m);
			free(rel);
			return ret;
		}
		if (!sl->refused || !rel || strcmp(sl->refused, rel)) {
			count(&sv->m.reloads_failed, 1);
			say(sv, "reload of target %s refused: %s; still serving %s", sl->target,
			    mlctl_error_last()->message, sl->cur->ref);
		}
		free(sl->refused);
		sl->refused = rel;
		mlctl_loaded_unref(m);
		mlctl_error_clear();
		return 0;
	}
	free(sl->refused);
	sl->refused = NULL;
	free(rel);
	if (sl->cur && sl->cur->release && !strcmp(sl->cur->release, m->release)) {
		mlctl_loaded_unref(m); /* forced, and the same release: keep the one loaded */
		return 0;
	}
	pthread_mutex_lock(&sl->mu);
	old = sl->cur;
	sl->cur = m;
	pthread_mutex_unlock(&sl->mu);
	if (old) {
		count(&sv->m.reloads, 1);
		if (sl == &sv->slots[SLOT_PRIMARY])
			say(sv, "reloaded target %s: %s -> %s", sl->target, old->ref, m->ref);
		else
			say(sv, "reloaded target %s (the %s): %s -> %s", sl->target, sl->role, old->ref, m->ref);
	}
	mlctl_loaded_unref(old);
	return 0;
}

static int slot_open(server *sv, slot *sl, const char *role, const char *target, const char *model)
{
	int ret;

	sl->role = role;
	sl->target = target;
	sl->watch = -1;
	if (target) {
		if (!sv->reg)
			return mlctl_error_set(MLCTL_ENOREGISTRY, "--target %s needs a registry", target);
		if ((ret = mlctl_target_path(&sl->dir, sv->reg, target)))
			return ret;
		return slot_check(sv, sl, true);
	}
	if ((ret = mlctl_loaded_open(&sl->cur, sv->reg, model, NULL, sv->o->pubkey)))
		return ret;
	return stats_for(sv, sl->cur);
}

/* ---- metrics -------------------------------------------------------------------------- */

static int route_of_path(const char *path)
{
	if (!strncmp(path, "/v2/models/", 11))
		return strstr(path, "/infer") ? RT_V2_INFER : RT_V2_METADATA;
	if (!strncmp(path, "/v1/models/", 11))
		return RT_V1_PREDICT;
	if (!strncmp(path, "/v2/health/", 11))
		return RT_V2_HEALTH;
	if (!strcmp(path, "/v2") || !strcmp(path, "/v2/"))
		return RT_V2_SERVER;
	if (!strcmp(path, "/metrics"))
		return RT_METRICS;
	return RT_OTHER;
}

static void on_done(void *payload, const char *path, int route, int status, double seconds)
{
	server *sv = payload;
	uint64_t us = seconds > 0 ? (uint64_t)(seconds * 1e6) : 0;
	size_t k, b;

	if (route < 0 || route >= RT_N)
		route = route_of_path(path);
	for (k = 0; k < NSTATUS - 1 && status_codes[k] != status; k++)
		;
	if (status_codes[k] != status)
		k = 6; /* counted as 500 */
	count(&sv->m.requests[route][k], 1);
	for (b = 0; b < NBUCKETS && us > latency_us[b]; b++)
		;
	count(&sv->m.buckets[route][b], 1);
	count(&sv->m.sum_ns[route], (uint64_t)(seconds * 1e9));
}

static int label_value(strbuf *sb, const char *s)
{
	int ret = strbuf_add(sb, "\"", 1);

	for (; *s && !ret; s++) {
		if (*s == '\\')
			ret = strbuf_add(sb, "\\\\", 2);
		else if (*s == '"')
			ret = strbuf_add(sb, "\\\"", 2);
		else if (*s == '\n')
			ret = strbuf_add(sb, "\\n", 2);
		else
			ret = strbuf_add(sb, s, 1);
	}
	return ret || strbuf_add(sb, "\"", 1);
}

static int write_model_info(strbuf *sb, const slot *sl, mlctl_loaded *m)
{
	return strbuf_puts(sb, "mlctl_model_info{model=") || label_value(sb, m->b->name) ||
	       strbuf_printf(sb, ",version=\"%d\",target=", m->b->version) ||
	       label_value(sb, sl->target ? sl->target : "") || strbuf_printf(sb, ",role=\"%s\"} 1\n", sl->role);
}

static int write_metrics(server *sv, strbuf *sb)
{
	const metrics *mt = &sv->m;
	model_stats *st;
	predlog_stats ls = { 0, 0, 0, 0, 0 };
	int r, ret = 0;
	size_t k, b, c;

	ret = strbuf_puts(sb, "# HELP mlctl_requests_total Requests answered, by route and status code.\n"
			      "# TYPE mlctl_requests_total counter\n");
	for (r = 0; r < RT_N && !ret; r++)
		for (k = 0; k < NSTATUS && !ret; k++)
			if (counted(&mt->requests[r][k]))
				ret = strbuf_printf(sb, "mlctl_requests_total{route=\"%s\",code=\"%d\"} %llu\n", route_names[r],
						    status_codes[k], (unsigned long long)counted(&mt->requests[r][k]));
	ret = ret || strbuf_puts(sb, "# HELP mlctl_request_errors_total Requests answered with a status of 400 or more.\n"
				     "# TYPE mlctl_request_errors_total counter\n");
	for (r = 0; r < RT_N && !ret; r++)
		for (k = 1; k < NSTATUS && !ret; k++)
			if (counted(&mt->requests[r][k]))
				ret = strbuf_printf(sb, "mlctl_request_errors_total{route=\"%s\",code=\"%d\"} %llu\n",
						    route_names[r], status_codes[k], (unsigned long long)counted(&mt->requests[r][k]));
	ret = ret || strbuf_puts(sb, "# HELP mlctl_request_duration_microseconds Time from a request's headers to its response, in microseconds.\n"
				     "# TYPE mlctl_request_duration_microseconds histogram\n");
	for (r = 0; r < RT_N && !ret; r++) {
		uint64_t cum = 0;

		for (b = 0; b <= NBUCKETS; b++)
			cum += counted(&mt->buckets[r][b]);
		if (!cum)
			continue;
		cum = 0;
		for (b = 0; b <= NBUCKETS && !ret; b++) {
			cum += counted(&mt->buckets[r][b]);
			if (b < NBUCKETS)
				ret = strbuf_printf(sb, "mlctl_request_duration_microseconds_bucket{route=\"%s\",le=\"%u\"} %llu\n",
						    route_names[r], latency_us[b], (unsigned long long)cum);
			else
				ret = strbuf_printf(sb, "mlctl_request_duration_microseconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
						    route_names[r], (unsigned long long)cum);
		}
		ret = ret || strbuf_printf(sb, "mlctl_request_duration_microseconds_sum{route=\"%s\"} %.3f\n"
					       "mlctl_request_duration_microseconds_count{route=\"%s\"} %llu\n",
					   route_names[r], (double)counted(&mt->sum_ns[r]) / 1e3, route_names[r],
					   (unsigned long long)cum);
	}
	ret = ret || strbuf_puts(sb, "# HELP mlctl_phase_microseconds_total Time spent in each phase of scoring requests.\n"
				     "# TYPE mlctl_phase_microseconds_total counter\n");
	for (k = 0; k < PH_N && !ret; k++)
		ret = strbuf_printf(sb, "mlctl_phase_microseconds_total{phase=\"%s\"} %.3f\n", phase_names[k],
				    (double)counted(&mt->phase_ns[k]) / 1e3);
	pthread_mutex_lock(&sv->stats_mu);
	ret = ret || strbuf_puts(sb, "# HELP mlctl_rows_scored_total Rows scored, by model version.\n"
				     "# TYPE mlctl_rows_scored_total counter\n");
	for (st = sv->stats; st && !ret; st = st->next)
		ret = strbuf_puts(sb, "mlctl_rows_scored_total{model=") || label_value(sb, st->name) ||
		      strbuf_printf(sb, ",version=\"%d\"} %llu\n", st->version, (unsigned long long)counted(&st->rows));
	ret = ret || strbuf_puts(sb, "# HELP mlctl_predictions_total Predicted rows, by model version and class.\n"
				     "# TYPE mlctl_predictions_total counter\n");
	for (st = sv->stats; st && !ret; st = st->next)
		for (c = 0; c < st->nclasses && !ret; c++)
			ret = strbuf_puts(sb, "mlctl_predictions_total{model=") || label_value(sb, st->name) ||
			      strbuf_printf(sb, ",version=\"%d\",class=", st->version) || label_value(sb, st->class_names[c]) ||
			      strbuf_printf(sb, "} %llu\n", (unsigned long long)counted(&st->class_counts[c]));
	pthread_mutex_unlock(&sv->stats_mu);
	ret = ret || strbuf_printf(sb, "# HELP mlctl_reloads_total Releases of a followed target loaded and swapped in.\n"
				       "# TYPE mlctl_reloads_total counter\nmlctl_reloads_total %llu\n"
				       "# HELP mlctl_reloads_failed_total Releases refused because they failed to load.\n"
				       "# TYPE mlctl_reloads_failed_total counter\nmlctl_reloads_failed_total %llu\n",
				   (unsigned long long)counted(&mt->reloads), (unsigned long long)counted(&mt->reloads_failed));
	ret = ret || strbuf_puts(sb, "# HELP mlctl_model_info The model versions served, by role.\n"
				     "# TYPE mlctl_model_info gauge\n");
	for (k = 0; k < NSLOTS && !ret; k++) {
		slot *sl = &sv->slots[k];
		mlctl_loaded *m = slot_get(sl);

		if (m)
			ret = write_model_info(sb, sl, m);
		mlctl_loaded_unref(m);
	}
	if (sv->log)
		predlog_get_stats(sv->log, &ls);
	ret = ret || strbuf_printf(sb, "# HELP mlctl_prediction_log_written_total Lines written to the prediction log.\n"
				       "# TYPE mlctl_prediction_log_written_total counter\nmlctl_prediction_log_written_total %llu\n"
				       "# HELP mlctl_prediction_log_dropped_total Lines dropped because the log's queue was full.\n"
				       "# TYPE mlctl_prediction_log_dropped_total counter\nmlctl_prediction_log_dropped_total %llu\n"
				       "# HELP mlctl_canary_requests_total Requests answered by the canary model.\n"
				       "# TYPE mlctl_canary_requests_total counter\nmlctl_canary_requests_total %llu\n"
				       "# HELP mlctl_shadow_disagreements_total Rows the shadow model predicted differently.\n"
				       "# TYPE mlctl_shadow_disagreements_total counter\nmlctl_shadow_disagreements_total %llu\n"
				       "# HELP mlctl_in_flight_requests Requests being answered.\n"
				       "# TYPE mlctl_in_flight_requests gauge\nmlctl_in_flight_requests %u\n",
				   (unsigned long long)ls.written, (unsigned long long)ls.dropped,
				   (unsigned long long)counted(&mt->canary_requests),
				   (unsigned long long)counted(&mt->shadow_disagreements),
				   sv->http ? http_in_flight(sv->http) : 0);
	return ret ? MLCTL_ENOMEM : 0;
}

/* ---- requests ------------------------------------------------------------------------- */

static void respond_error(http_response *res, int status, const char *msg)
{
	res->status = status;
	res->body.len = 0;
	if (infer_write_error(&res->body, msg))
		res->status = 500;
}

/* A draw in [0, 2^32) for a request: from its id when it has one, else from a counter. */
static uint64_t draw(server *sv, const char *id, uint64_t salt)
{
	uint64_t st = sv->o->seed ^ salt;

	if (id) {
		const unsigned char *p = (const unsigned char *)id;
		uint64_t h = 1469598103934665603ull;

		for (; *p; p++)
			h = (h ^ *p) * 1099511628211ull;
		st ^= h;
	} else {
		st += atomic_fetch_add_explicit(&sv->draws, 1, memory_order_relaxed) * 0x632be59bd9b4e019ull;
	}
	return rng_next(&st) >> 32;
}

static void count_predictions(const scored *sc, size_t n)
{
	model_stats *st = sc->m->stats;
	size_t r, c;

	if (!st)
		return;
	count(&st->rows, n);
	for (r = 0; r < n && st->nclasses; r++)
		for (c = 0; c < st->nclasses; c++)
			if (sc->m->class_values[c] == sc->labels[r]) {
				count(&st->class_counts[c], 1);
				break;
			}
}

/* One prediction log line for a request answered by sc (and the shadow's answer, if any). */
static void log_request(server *sv, infer_protocol p, const infer_request *rq, const scored *sc,
			const scored *shadow)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	infer_answer a;
	char when[32];
	int ret;

	answer_of(&a, sc, rq);
	ret = strbuf_printf(&sb, "{\"time\":\"%s\",\"id\":", mlctl_fmt_time(when, mlctl_now_ms())) ||
	      (rq->id ? infer_json_string(&sb, rq->id) : strbuf_puts(&sb, "null")) ||
	      strbuf_printf(&sb, ",\"route\":\"%s\",\"model\":", p == INFER_V2 ? "v2" : "v1") ||
	      infer_json_string(&sb, sc->m->b->name) || strbuf_printf(&sb, ",\"version\":%d,\"inputs\":", sc->m->b->version) ||
	      infer_write_log_inputs(&sb, rq, sc->m->b->schema) || strbuf_puts(&sb, ",\"outputs\":") ||
	      infer_write_log_outputs(&sb, &a);
	if (!ret && shadow && shadow->m) {
		answer_of(&a, shadow, rq);
		ret = strbuf_puts(&sb, ",\"shadow\":{\"model\":") || infer_json_string(&sb, shadow->m->b->name) ||
		      strbuf_printf(&sb, ",\"version\":%d,\"outputs\":", shadow->m->b->version) ||
		      infer_write_log_outputs(&sb, &a) || strbuf_puts(&sb, "}");
	}
	ret = ret || strbuf_puts(&sb, "}\n");
	if (!ret) {
		size_t len;
		char *line = strbuf_detach(&sb, &len);

		if (line)
			predlog_push(sv->log, line, len);
	}
	strbuf_release(&sb);
}

/* Parse rq for m unless the one parsed for prev reads the same: the same preprocessing,
 * and probabilities or not alike (what a request without "outputs" gets depends on it). */
static int parse_for(infer_request **rq, const mlctl_loaded *m, const mlctl_loaded *prev, infer_protocol p,
		     const http_request *req)
{
	if (*rq && prev && !strcmp(prev->b->preprocess_digest, m->b->preprocess_digest) &&
	    prev->has_proba == m->has_proba)
		return 0;
	infer_request_free(*rq);
	*rq = NULL;
	return infer_parse(rq, p, m->b->schema, m->has_proba, req->body, req->body_len);
}

static bool name_matches(const slot *sl, const mlctl_loaded *m, const char *name, size_t n)
{
	return (strlen(m->b->name) == n && !memcmp(m->b->name, name, n)) ||
	       (sl->target && strlen(sl->target) == n && !memcmp(sl->target, name, n));
}

/* The model a route names: version 0 is any. NULL (with a 404 written) when none. */
static mlctl_loaded *find_model(server *sv, const char *name, size_t n, int version, int *which, http_response *res)
{
	int k;
	char msg[256];

	for (k = 0; k < SLOT_SHADOW; k++) {
		mlctl_loaded *m = slot_get(&sv->slots[k]);

		if (m && name_matches(&sv->slots[k], m, name, n) && (!version || m->b->version == version)) {
			*which = k;
			return m;
		}
		mlctl_loaded_unref(m);
	}
	if (version)
		snprintf(msg, sizeof(msg), "model \"%.*s\" version %d is not served here", (int)(n > 64 ? 64 : n), name, version);
	else
		snprintf(msg, sizeof(msg), "model \"%.*s\" is not served here", (int)(n > 64 ? 64 : n), name);
	respond_error(res, 404, msg);
	return NULL;
}

static void handle_infer(server *sv, const http_request *req, http_response *res, infer_protocol p,
			 const char *name, size_t n, int version)
{
	mlctl_loaded *m, *sm = NULL;
	infer_request *rq = NULL;
	scored sc = { NULL, NULL, NULL }, sh = { NULL, NULL, NULL };
	phases ph = { { 0 }, mlctl_monotonic() };
	infer_answer a;
	int which = SLOT_PRIMARY, ret;
	size_t k;

	res->route = p == INFER_V2 ? RT_V2_INFER : RT_V1_PREDICT;
	if (!(m = find_model(sv, name, n, version, &which, res)))
		return;
	ret = parse_for(&rq, m, NULL, p, req);
	if (!ret && !version && which == SLOT_PRIMARY && sv->canary_cut &&
	    draw(sv, rq->id, 0x9a0) % 10000 < sv->canary_cut) {
		mlctl_loaded *c = slot_get(&sv->slots[SLOT_CANARY]);

		if (c) {
			ret = parse_for(&rq, c, m, p, req);
			mlctl_loaded_unref(m);
			m = c;
			count(&sv->m.canary_requests, 1);
		}
	}
	phase_end(&ph, PH_PARSE);
	if (!ret)
		ret = score_request(&sc, m, rq, &ph);
	if (!ret) {
		answer_of(&a, &sc, rq);
		res->body.len = 0;
		ret = infer_write_response(&res->body, p, rq, &a);
		phase_end(&ph, PH_WRITE);
	}
	if (ret) {
		respond_error(res, ret == MLCTL_EDATA || ret == MLCTL_EUSAGE ? 400 : 500, mlctl_error_last()->message);
		goto out;
	}
	count_predictions(&sc, rq->nrows);
	if ((sm = slot_get(&sv->slots[SLOT_SHADOW]))) {
		/* The shadow scores the same rows; its verdict only goes to the log and metrics. */
		infer_request *srq = NULL;
		const infer_request *use = rq;

		if (strcmp(sm->b->preprocess_digest, m->b->preprocess_digest) || sm->has_proba != m->has_proba)
			ret = infer_parse(&srq, p, sm->b->schema, sm->has_proba, req->body, req->body_len), use = srq;
		if (!ret && !score_request(&sh, sm, use, &ph)) {
			for (k = 0; k < rq->nrows; k++)
				if (sh.labels[k] != sc.labels[k])
					count(&sv->m.shadow_disagreements, 1);
		} else {
			scored_release(&sh);
			sh.m = NULL;
		}
		mlctl_error_clear();
		ret = 0;
		infer_request_free(srq);
	}
	if (sv->log && (uint64_t)draw(sv, rq->id, 0x10c) < sv->sample_cut)
		log_request(sv, p, rq, &sc, sm ? &sh : NULL);
out:
	for (k = 0; k < PH_N; k++)
		count(&sv->m.phase_ns[k], ph.ns[k]);
	scored_release(&sc);
	scored_release(&sh);
	infer_request_free(rq);
	mlctl_loaded_unref(sm);
	mlctl_loaded_unref(m);
}

static void handle_metadata(server *sv, http_response *res, const char *name, size_t n, int version, bool ready)
{
	int which, versions[2], nv = 0, k;
	mlctl_loaded *m = find_model(sv, name, n, version, &which, res);

	res->route = RT_V2_METADATA;
	if (!m)
		return;
	if (ready) {
		res->content_type = "text/plain";
		mlctl_loaded_unref(m);
		return;
	}
	for (k = 0; k < SLOT_SHADOW; k++) {
		mlctl_loaded *o = slot_get(&sv->slots[k]);

		if (o && !strcmp(o->b->name, m->b->name) && (!nv || versions[0] != o->b->version) && nv < 2)
			versions[nv++] = o->b->version;
		mlctl_loaded_unref(o);
	}
	if (infer_write_metadata(&res->body, m->b->name, versions, (size_t)nv, m->b->schema, m->classify, m->has_proba))
		respond_error(res, 500, "out of memory");
	mlctl_loaded_unref(m);
}

static bool method_is(const http_request *req, const char *allow, http_response *res)
{
	char msg[128];

	if (!strcmp(req->method, allow) || (!strcmp(allow, "GET") && !strcmp(req->method, "HEAD")))
		return true;
	snprintf(msg, sizeof(msg), "method %.16s is not allowed here (use %s)", req->method, allow);
	respond_error(res, 405, msg);
	res->allow = !strcmp(allow, "GET") ? "GET, HEAD" : allow;
	return false;
}

/* A version number in the URL: digits only, 1..INT_MAX; 0 when it is not one. */
static int url_version(const char *s, size_t n)
{
	char buf[16];
	int64_t v;

	if (!n || n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strspn(buf, "0123456789") != n || !mlctl_parse_int64(buf, 1, 0x7fffffff, &v))
		return 0;
	return (int)v;
}

/* /v2/models/NAME[/versions/V][/ready|/infer] */
static void route_v2_models(server *sv, const http_request *req, http_response *res, const char *rest)
{
	const char *slash = strchr(rest, '/'), *tail;
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
	int version = 0;

	res->route = RT_V2_METADATA;
	tail = slash ? slash : "";
	if (!strncmp(tail, "/versions/", 10)) {
		const char *v = tail + 10, *e = strchr(v, '/');
		size_t vn = e ? (size_t)(e - v) : strlen(v);

		if (!(version = url_version(v, vn))) {
			respond_error(res, 404, "no such route: a version is a number (/v2/models/NAME/versions/N)");
			return;
		}
		tail = e ? e : "";
	}
	if (!n) {
		respond_error(res, 404, "no such route: /v2/models/ needs a model name");
	} else if (!strcmp(tail, "") || !strcmp(tail, "/")) {
		if (method_is(req, "GET", res))
			handle_metadata(sv, res, rest, n, version, false);
	} else if (!strcmp(tail, "/ready")) {
		if (method_is(req, "GET", res))
			handle_metadata(sv, res, rest, n, version, true);
	} else if (!strcmp(tail, "/infer")) {
		res->route = RT_V2_INFER;
		if (method_is(req, "POST", res))
			handle_infer(sv, req, res, INFER_V2, rest, n, version);
	} else {
		respond_error(res, 404, "no such route (GET /v2/models/NAME, GET .../ready, POST .../infer)");
	}
}

/* /v1/models/NAME[/versions/V]:predict */
static void route_v1_models(server *sv, const http_request *req, http_response *res, const char *rest)
{
	const char *colon = strrchr(rest, ':'), *vs;
	size_t n;
	int version = 0;

	res->route = RT_V1_PREDICT;
	if (!colon || strcmp(colon, ":predict")) {
		respond_error(res, 404, "no such route: TF-Serving's is POST /v1/models/NAME:predict");
		return;
	}
	n = (size_t)(colon - rest);
	if ((vs = memchr(rest, '/', n))) {
		size_t vn = n - (size_t)(vs - rest);

		if (vn <= 10 || strncmp(vs, "/versions/", 10) || !(version = url_version(vs + 10, vn - 10))) {
			respond_error(res, 404, "no such route: POST /v1/models/NAME[/versions/N]:predict");
			return;
		}
		n = (size_t)(vs - rest);
	}
	if (!n)
		respond_error(res, 404, "no such route: /v1/models/ needs a model name");
	else if (method_is(req, "POST", res))
		handle_infer(sv, req, res, INFER_V1, rest, n, version);
}

static void on_request(void *payload, const http_request *req, http_response *res)
{
	server *sv = payload;
	const char *path = req->path;

	if (!strncmp(path, "/v2/models/", 11)) {
		route_v2_models(sv, req, res, path + 11);
	} else if (!strncmp(path, "/v1/models/", 11)) {
		route_v1_models(sv, req, res, path + 11);
	} else if (!strcmp(path, "/v2/health/live") || !strcmp(path, "/v2/health/ready")) {
		res->route = RT_V2_HEALTH;
		if (method_is(req, "GET", res))
			res->content_type = "text/plain"; /* 200 with an empty body, as the protocol says */
	} else if (!strcmp(path, "/v2") || !strcmp(path, "/v2/")) {
		res->route = RT_V2_SERVER;
		if (method_is(req, "GET", res) &&
		    strbuf_printf(&res->body, "{\"name\":\"mlctl\",\"version\":\"%s\",\"extensions\":[]}", mlctl_version()))
			respond_error(res, 500, "out of memory");
	} else if (!strcmp(path, "/metrics")) {
		res->route = RT_METRICS;
		if (method_is(req, "GET", res)) {
			res->content_type = "text/plain; version=0.0.4; charset=utf-8";
			if (write_metrics(sv, &res->body))
				respond_error(res, 500, "out of memory");
		}
	} else {
		char msg[160];

		res->route = RT_OTHER;
		snprintf(msg, sizeof(msg), "no such route: %.64s (see GET /v2, /v2/models/NAME, /metrics)", path);
		respond_error(res, 404, msg);
	}
}

static void on_http_log(void *payload, const char *line)
{
	say(payload, "http: %s", line);
}

/* ---- the run -------------------------------------------------------------------------- */

/* Connections the process can hold: a little under RLIMIT_NOFILE, for the files it opens. */
static unsigned connection_limit(unsigned asked)
{
	struct rlimit rl;
	unsigned want = asked ? asked : 4096;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > 64 &&
	    want > rl.rlim_cur - 64)
		want = (unsigned)(rl.rlim_cur - 64);
	return want ? want : 1;
}

static void record_start(server *sv, char run[MLCTL_RUN_ID_SIZE], int port)
{
	mlctl_run_start_options so = MLCTL_RUN_START_OPTIONS_INIT;
	mlctl_loaded *m = sv->slots[SLOT_PRIMARY].cur;
	char buf[32], k_host[] = "host", k_port[] = "port", k_target[] = "target", local[] = "127.0.0.1";
	mlctl_kv kv[3];
	size_t n = 0;

	run[0] = '\0';
	if (!sv->reg || mlctl_registry_readonly(sv->reg))
		return;
	so.kind = "serve";
	so.name = m->ref;
	so.argc = sv->o->argc;
	so.argv = sv->o->argv;
	if (mlctl_run_start(run, sv->reg, &so)) {
		say(sv, "not recording a serve run: %s", mlctl_error_last()->message);
		mlctl_error_clear();
		run[0] = '\0';
		return;
	}
	snprintf(buf, sizeof(buf), "%d", port);
	/* mlctl_kv's fields are not const: copies, never written through */
	kv[n].key = k_port, kv[n++].value = buf;
	kv[n].key = k_host, kv[n++].value = sv->o->host ? (char *)(uintptr_t)sv->o->host : local;
	if (sv->o->target)
		kv[n].key = k_target, kv[n++].value = (char *)(uintptr_t)sv->o->target;
	if (mlctl_run_log_params(sv->reg, run, kv, n) || mlctl_run_set_model(sv->reg, run, m->b->name, m->b->version))
		mlctl_error_clear();
}

static void record_end(server *sv, const mlctl_serve_result *r)
{
	mlctl_metric mt[6];
	static const char *const keys[6] = { "requests", "errors", "rows", "reloads", "reloads_failed", "log_dropped" };
	uint64_t vals[6] = { r->requests, r->errors, r->rows, r->reloads, r->reloads_failed, r->log_dropped };
	size_t k;

	if (!r->run[0])
		return;
	for (k = 0; k < 6; k++) {
		memset(&mt[k], 0, sizeof(mt[k]));
		mt[k].key = (char *)(uintptr_t)keys[k]; /* read only */
		mt[k].value = (double)vals[k];
	}
	if (mlctl_run_log_metrics(sv->reg, r->run, mt, 6) || mlctl_run_finish(sv->reg, r->run, NULL))
		mlctl_error_clear();
}

static void fill_result(server *sv, mlctl_serve_result *r)
{
	predlog_stats ls = { 0, 0, 0, 0, 0 };
	model_stats *st;
	size_t rt, k;

	for (rt = 0; rt < RT_N; rt++)
		for (k = 0; k < NSTATUS; k++) {
			r->requests += counted(&sv->m.requests[rt][k]);
			if (k)
				r->errors += counted(&sv->m.requests[rt][k]);
		}
	for (st = sv->stats; st; st = st->next)
		r->rows += counted(&st->rows);
	r->reloads = counted(&sv->m.reloads);
	r->reloads_failed = counted(&sv->m.reloads_failed);
	if (sv->log) {
		predlog_get_stats(sv->log, &ls);
		r->log_written = ls.written;
		r->log_dropped = ls.dropped;
	}
}

static int check_options(const mlctl_serve_options *o)
{
	if ((o->model != NULL) == (o->target != NULL))
		return mlctl_error_set(MLCTL_EUSAGE, "serve one model, or --target NAME");
	if (o->canary && !(o->canary_percent > 0 && o->canary_percent <= 100))
		return mlctl_error_set(MLCTL_EUSAGE, "--canary %s: the share must be above 0 and at most 100 percent", o->canary);
	if (!(o->sample >= 0 && o->sample <= 1))
		return mlctl_error_set(MLCTL_EUSAGE, "--sample %g: a share from 0 to 1", o->sample);
	if (o->timeout < 0 || o->drain < 0 || o->poll < 0)
		return mlctl_error_set(MLCTL_EUSAGE, "--timeout, --drain and --poll take seconds, not a negative number");
	return 0;
}

/* Watch the target directories; the watcher wakes when a deploy renames current. */
static int watch_targets(server *sv)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), k;

	if (fd < 0)
		return -1; /* polling alone */
	for (k = 0; k < NSLOTS; k++)
		if (sv->slots[k].target && sv->slots[k].dir)
			sv->slots[k].watch = inotify_add_watch(fd, sv->slots[k].dir,
							       IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB);
	return fd;
}

static void drain_events(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void watch_loop(server *sv, int ifd)
{
	const mlctl_serve_options *o = sv->o;
	double poll_s = o->poll > 0 ? o->poll : 1.0, next = mlctl_monotonic() + poll_s;
	sig_atomic_t seen = o->reload ? __atomic_load_n(o->reload, __ATOMIC_RELAXED) : 0;
	struct pollfd pfd = { ifd, POLLIN, 0 };
	int k;

	while (!mlctl_cancelled(o->cancel)) {
		double now = mlctl_monotonic(), wait = next - now;
		bool force = false, check = false;
		int rc;

		if (wait < 0)
			wait = 0;
		if (wait > 0.25)
			wait = 0.25; /* a bound on how late a cancel without a signal is seen */
		if (ifd >= 0) {
			rc = poll(&pfd, 1, (int)(wait * 1000));
			if (rc > 0) {
				drain_events(ifd);
				check = true;
			}
		} else {
			struct timespec ts = { (time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9) };

			nanosleep(&ts, NULL);
		}
		if (mlctl_cancelled(o->cancel))
			break;
		if (o->reload && __atomic_load_n(o->reload, __ATOMIC_RELAXED) != seen) {
			seen = __atomic_load_n(o->reload, __ATOMIC_RELAXED);
			force = check = true;
			say(sv, "reload asked: checking the targets");
		}
		if (mlctl_monotonic() >= next) {
			check = true;
			next = mlctl_monotonic() + poll_s;
		}
		for (k = 0; check && k < NSLOTS; k++)
			slot_check(sv, &sv->slots[k], force);
	}
}

static void server_release(server *sv)
{
	int k;

	http_stop(sv->http);
	sv->http = NULL;
	for (k = 0; k < NSLOTS; k++) {
		mlctl_loaded_unref(sv->slots[k].cur);
		free(sv->slots[k].dir);
		free(sv->slots[k].refused);
		pthread_mutex_destroy(&sv->slots[k].mu);
	}
	stats_free(sv->stats);
	pthread_mutex_destroy(&sv->stats_mu);
}

int mlctl_serve(mlctl_serve_result **out, mlctl_registry *reg, const mlctl_serve_options *o)
{
	server sv;
	mlctl_serve_result *r;
	http_options ho = HTTP_OPTIONS_INIT;
	mlctl_serve_info info;
	int k, ifd = -1, ret, lret = 0;

	*out = NULL;
	if ((ret = check_options(o)))
		return ret;
	if (!(r = calloc(1, sizeof(*r))))
		return mlctl_error_oom();
	memset(&sv, 0, sizeof(sv));
	sv.o = o;
	sv.reg = reg;
	pthread_mutex_init(&sv.stats_mu, NULL);
	for (k = 0; k < NSLOTS; k++) {
		pthread_mutex_init(&sv.slots[k].mu, NULL);
		sv.slots[k].watch = -1;
	}
	sv.canary_cut = o->canary ? (uint32_t)llround(o->canary_percent * 100) : 0;
	sv.sample_cut = (uint64_t)llround(o->sample * 4294967296.0);
	if ((ret = slot_open(&sv, &sv.slots[SLOT_PRIMARY], "primary", o->target, o->model)) ||
	    (o->canary && (ret = slot_open(&sv, &sv.slots[SLOT_CANARY], "canary", o->canary, NULL))) ||
	    (o->shadow && (ret = slot_open(&sv, &sv.slots[SLOT_SHADOW], "shadow", o->shadow, NULL))))
		goto fail;
	if (o->log_predictions) {
		predlog_options lo = PREDLOG_OPTIONS_INIT;

		lo.path = o->log_predictions;
		lo.max_bytes = o->log_max_bytes ? o->log_max_bytes : (uint64_t)100 << 20;
		lo.keep = o->log_keep;
		if ((ret = predlog_open(&sv.log, &lo)))
			goto fail;
	}
	ho.host = o->host;
	ho.port = o->port;
	ho.threads = o->threads;
	ho.max_body = o->max_body;
	ho.max_connections = connection_limit(o->max_connections);
	ho.timeout = o->timeout;
	ho.handler = on_request;
	ho.on_done = on_done;
	ho.logger = o->on_log ? on_http_log : NULL;
	ho.payload = &sv;
	if ((ret = http_start(&sv.http, &ho)))
		goto fail;
	record_start(&sv, r->run, http_port(sv.http));
	ifd = watch_targets(&sv);
	if (o->on_ready) {
		info.host = o->host ? o->host : "127.0.0.1";
		info.port = http_port(sv.http);
		info.model = sv.slots[SLOT_PRIMARY].cur->ref;
		info.target = o->target;
		info.canary = sv.slots[SLOT_CANARY].cur ? sv.slots[SLOT_CANARY].cur->ref : NULL;
		info.shadow = sv.slots[SLOT_SHADOW].cur ? sv.slots[SLOT_SHADOW].cur->ref : NULL;
		info.run = r->run;
		o->on_ready(o->payload, &info);
	}
	watch_loop(&sv, ifd);
	http_quiesce(sv.http);
	r->drained = http_drain(sv.http, o->drain > 0 ? o->drain : 10);
	if (!r->drained)
		say(&sv, "%u requests still in flight after %g s: closing them", http_in_flight(sv.http),
		    o->drain > 0 ? o->drain : 10);
	http_stop(sv.http);
	sv.http = NULL;
	if (ifd >= 0)
		close(ifd);
	fill_result(&sv, r);
	if (sv.log && (lret = predlog_close(sv.log)))
		say(&sv, "the prediction log lost lines: %s", mlctl_error_last()->message);
	sv.log = NULL;
	record_end(&sv, r);
	server_release(&sv);
	*out = r;
	return 0;
fail:
	if (sv.log)
		predlog_close(sv.log);
	server_release(&sv);
	free(r);
	return ret;
}

void mlctl_serve_result_free(mlctl_serve_result *r)
{
	free(r);
}
