/*
 * mlctl/serve.h — real-time predictions over HTTP: the Open Inference Protocol (KServe /
 * Triton V2, REST) and TF-Serving's :predict, with the same preprocessing and scorer as
 * batch predict; a deploy target followed and reloaded without a failed request; canary and
 * shadow models; Prometheus metrics; a sampled prediction log. Also a loaded model that a
 * host can score V2 requests with, without HTTP. Implemented in lib/serve.c (with
 * lib/http.c, lib/infer.c and lib/predlog.c below it).
 */
#ifndef MLCTL_SERVE_H
#define MLCTL_SERVE_H

#include <signal.h>
#include <stdint.h>

#include "common.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the server is serving once it listens (handed to on_ready; borrowed). */
typedef struct mlctl_serve_info {
	const char *host;
	int port;                     /* the bound port (a free one when port 0 was asked) */
	const char *model;            /* "churn:3" */
	const char *target;           /* the target followed, or NULL for one fixed model */
	const char *canary;           /* "churn:4" or NULL */
	const char *shadow;           /* "churn:4" or NULL */
	const char *run;              /* the serve run recorded, or "" */
} mlctl_serve_info;

typedef struct mlctl_serve_options {
	const char *model;            /* a model reference or a .mlpkg file; or NULL with target */
	const char *target;           /* follow what deploy target NAME serves */
	const char *pubkey;           /* verify a .mlpkg's signature with this key */
	const char *host;             /* NULL: 127.0.0.1 */
	int port;                     /* 0: a free port */
	int threads;                  /* HTTP threads; 0: one per core */
	size_t max_body;              /* bytes; 0: 1 MiB */
	unsigned max_connections;     /* 0: 4096, and never above what RLIMIT_NOFILE allows */
	double timeout;               /* seconds a body may take, and a connection idle; 0: 10 */
	double drain;                 /* seconds to wait for requests in flight at the end; 0: 10 */
	double poll;                  /* seconds between checks of the targets; 0: 1 */
	const char *canary;           /* a second target that answers canary_percent % of requests */
	double canary_percent;        /* (0, 100] */
	const char *shadow;           /* a target that scores every request too, for the log only */
	uint64_t seed;                /* the canary draw */
	const char *log_predictions;  /* append JSON lines here */
	double sample;                /* share of requests logged, [0, 1] */
	uint64_t log_max_bytes;       /* rotate beyond this size; 0: 100 MiB */
	int log_keep;                 /* rotated files kept; 0: 3 */
	/* The server runs until *cancel becomes nonzero (a signal handler of the host sets it),
	 * then stops accepting, lets the requests in flight finish and returns. When *reload
	 * changes, the targets are checked at once (the host's SIGHUP). Either may be NULL;
	 * without cancel the server runs until the process ends. */
	const volatile sig_atomic_t *cancel;
	const volatile sig_atomic_t *reload;
	/* Called once, from the caller's thread, when the server accepts requests. */
	void (*on_ready)(void *payload, const mlctl_serve_info *info);
	/* Called with one line for each event worth a log line: a reload, a refused release, a
	 * prediction log that fails. From the caller's thread, or (libmicrohttpd's own
	 * diagnostics) from a server thread. May be NULL. */
	void (*on_log)(void *payload, const char *line);
	void *payload;
	int argc;
	char *const *argv;
} mlctl_serve_options;
#define MLCTL_SERVE_OPTIONS_INIT { NULL, NULL, NULL, NULL, 8080, 0, 0, 0, 0, 0, 0, NULL, 0, NULL, 1, \
	NULL, 1.0, 0, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL }

typedef struct mlctl_serve_result {
	char run[MLCTL_RUN_ID_SIZE];  /* "" when no run was recorded */
	uint64_t requests;            /* answered, whatever the status */
	uint64_t errors;              /* answered with a status of 400 or more */
	uint64_t rows;                /* rows scored */
	uint64_t reloads, reloads_failed;
	uint64_t log_written, log_dropped;
	bool drained;                 /* every request in flight finished within drain */
} mlctl_serve_result;

/*
 * Load what to serve (reg may be NULL for a .mlpkg file), listen, and serve until *cancel.
 * Records a "serve" run when the registry can be written. Fails before listening when the
 * model or a target cannot be loaded (MLCTL_ENOTFOUND, MLCTL_EDATA...) or the address
 * cannot be had (MLCTL_EUNAVAIL). *out is the caller's (mlctl_serve_result_free()).
 */
int mlctl_serve(mlctl_serve_result **out, mlctl_registry *reg, const mlctl_serve_options *o);
void mlctl_serve_result_free(mlctl_serve_result *r);

/*
 * A model loaded for scoring: its preprocessing and the fast scorer, shared read-only by
 * any number of threads, reference-counted (the server swaps one in while requests still
 * hold the old one).
 */
typedef struct mlctl_loaded mlctl_loaded;

/* Load model (a reference or a .mlpkg, verified with pubkey when given) or what target
 * serves. *out has one reference. */
int mlctl_loaded_open(mlctl_loaded **out, mlctl_registry *reg, const char *model, const char *target,
		      const char *pubkey);
mlctl_loaded *mlctl_loaded_ref(mlctl_loaded *m);
void mlctl_loaded_unref(mlctl_loaded *m);
const char *mlctl_loaded_name(const mlctl_loaded *m);
int mlctl_loaded_version(const mlctl_loaded *m);

/*
 * Answer one Open Inference Protocol V2 inference request body (v1: a TF-Serving :predict
 * body) with m, as the server would: *response is a fresh JSON text (free()). A bad request
 * is MLCTL_EDATA with the message the server sends as a 400. Thread-safe.
 */
int mlctl_loaded_infer(const mlctl_loaded *m, bool v1, const char *body, size_t len, char **response,
		       size_t *response_len);

#ifdef __cplusplus
}
#endif

#endif
