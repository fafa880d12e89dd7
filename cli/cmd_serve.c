/*
 * cmd_serve.c — `mlctl serve MODEL|--target NAME`: real-time predictions over HTTP (the Open
 * Inference Protocol and TF-Serving's :predict), following a deploy target's releases.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "signals.h"
#include "banned.h"

typedef struct serve_args {
	mlctl_serve_options o;
	const char *port_file;
	size_t max_connections;
	int status;               /* an exit status set while serving (the port file failed) */
	cli_ctx *ctx;
} serve_args;

/* --canary TARGET:PERCENT */
static int parse_canary(cli_parser *p, const cli_option *opt, void *target, const char *value)
{
	serve_args *a = (serve_args *)((char *)target - offsetof(serve_args, o.canary));
	const char *colon = strrchr(value, ':');
	double pct;

	(void)p;
	(void)opt;
	if (!colon || colon == value) {
		cli_error("--canary %s: expected TARGET:PERCENT, such as prod-next:10", value);
		return CLI_ERROR;
	}
	if (!cli_double("--canary", colon + 1, &pct))
		return CLI_ERROR;
	if (!(pct > 0 && pct <= 100)) {
		cli_error("--canary %s: the percent must be above 0 and at most 100", value);
		return CLI_ERROR;
	}
	a->o.canary = strndup(value, (size_t)(colon - value));
	a->o.canary_percent = pct;
	return a->o.canary ? CLI_OK : CLI_ERROR;
}

#define A serve_args
static const cli_option opts[] = {
	{ "target", 0, "NAME", "serve what deploy target NAME serves, and follow its deploys", CLI_STRING(A, o.target) },
	{ "host", 0, "ADDR", "address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)", CLI_STRING(A, o.host) },
	{ "port", 'p', "N", "port to listen on (default 8080; 0: a free port)", CLI_INT(A, o.port, 0, 65535) },
	{ "port-file", 0, "FILE", "write the port here once the server accepts requests", CLI_STRING(A, port_file) },
	{ "threads", 'j', "N", "HTTP worker threads (default: one per core)", CLI_INT(A, o.threads, 0, 1024) },
	{ "max-body", 0, "BYTES", "largest request body (default 1048576); larger ones get 413",
	  CLI_SIZE(A, o.max_body, 1, (long)1 << 40) },
	{ "max-connections", 0, "N", "connections held at once (default 4096, within the open-file limit)",
	  CLI_SIZE(A, max_connections, 1, 1000000) },
	{ "timeout", 0, "SECS", "a body must arrive within SECS (else 408); idle connections close after it (default 10)",
	  CLI_SECONDS(A, o.timeout) },
	{ "drain", 0, "SECS", "on SIGTERM/SIGINT, wait this long for requests in flight (default 10)", CLI_SECONDS(A, o.drain) },
	{ "poll", 0, "SECS", "check the deploy targets this often (default 1; inotify also wakes it)", CLI_SECONDS(A, o.poll) },
	{ "canary", 0, "TARGET:PERCENT", "send PERCENT of requests to what TARGET serves", CLI_CALL(A, o.canary, parse_canary) },
	{ "shadow", 0, "TARGET", "also score every request with what TARGET serves, for the log only", CLI_STRING(A, o.shadow) },
	{ "seed", 0, "N", "seed of the canary and sampling draws (default 1)", CLI_U64(A, o.seed, 0, INT64_MAX) },
	{ "log-predictions", 0, "FILE", "append requests and predictions to FILE as JSON lines", CLI_STRING(A, o.log_predictions) },
	{ "sample", 0, "RATE", "share of requests logged, 0 to 1 (default 1)", CLI_DOUBLE(A, o.sample) },
	{ "log-max-bytes", 0, "BYTES", "rotate the log beyond this size (default 104857600)",
	  CLI_U64(A, o.log_max_bytes, 1, INT64_MAX) },
	{ "log-keep", 0, "N", "rotated logs kept (default 3)", CLI_INT(A, o.log_keep, 1, 1000) },
	{ "pubkey", 0, "FILE", "verify a .mlpkg's signature with this public key", CLI_STRING(A, o.pubkey) },
	CLI_OPTIONS_END
};
#undef A

static void on_log(void *payload, const char *line)
{
	(void)payload;
	fprintf(stderr, "mlctl serve: %s\n", line);
}

/* Write the port to the port file: a temp file renamed over it, so a reader never sees it
 * half written. */
static int write_port_file(const char *path, int port)
{
	size_t n = strlen(path) + 32;
	char *tmp = malloc(n);
	FILE *f;
	int ok;

	if (!tmp)
		return -1;
	snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
	if (!(f = fopen(tmp, "w"))) {
		free(tmp);
		return -1;
	}
	ok = fprintf(f, "%d\n", port) > 0;
	ok = fclose(f) == 0 && ok;
	ok = ok && rename(tmp, path) == 0;
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok ? 0 : -1;
}

static void on_ready(void *payload, const mlctl_serve_info *info)
{
	serve_args *a = payload;

	if (a->port_file && write_port_file(a->port_file, info->port) != 0) {
		cli_error("--port-file %s: %s", a->port_file, strerror(errno));
		a->status = MLCTL_EXIT_CANTCREAT;
		cli_server_stop();
		return;
	}
	if (a->ctx->json) {
		char url[300];

		snprintf(url, sizeof(url), "http://%s:%d", info->host, info->port);
		cli_json_print(json_pack("{s:s, s:o, s:o, s:o, s:s, s:i, s:o}", "model", info->model,
					 "target", cli_json_str(info->target), "canary", cli_json_str(info->canary),
					 "shadow", cli_json_str(info->shadow), "url", url, "port", info->port,
					 "run", cli_json_str(info->run[0] ? info->run : NULL)));
		fflush(stdout);
	}
	if (!a->ctx->quiet) {
		fprintf(stderr, "mlctl serve: serving %s%s%s%s on http://%s:%d", info->model,
			info->target ? " (target " : "", info->target ? info->target : "", info->target ? ")" : "",
			info->host, info->port);
		if (info->canary)
			fprintf(stderr, ", canary %s at %g%%", info->canary, a->o.canary_percent);
		if (info->shadow)
			fprintf(stderr, ", shadow %s", info->shadow);
		fprintf(stderr, "\n");
	}
}

int cmd_serve(cli_ctx *ctx, int argc, char **argv)
{
	serve_args a;
	mlctl_serve_options init = MLCTL_SERVE_OPTIONS_INIT;
	mlctl_serve_result *res = NULL;
	cli_parser p;
	int r, ret, status = 0;

	memset(&a, 0, sizeof(a));
	a.o = init;
	a.ctx = ctx;
	cli_parser_init(&p, ctx, "mlctl serve MODEL|--target NAME [--host ADDR] [--port N] [--port-file FILE] "
			"[--threads N] [--max-body BYTES] [--max-connections N] [--timeout SECS] [--drain SECS] "
			"[--poll SECS] [--canary TARGET:PERCENT] [--shadow TARGET] [--seed N] "
			"[--log-predictions FILE] [--sample RATE] [--log-max-bytes BYTES] [--log-keep N] "
			"[--pubkey FILE] [--json]",
			"Serve predictions over HTTP: the Open Inference Protocol (POST /v2/models/NAME/infer)\n"
			"and TF-Serving's POST /v1/models/NAME:predict, with health, metadata and /metrics.\n"
			"MODEL (a reference or a .mlpkg file) is served as it is; --target follows the target's\n"
			"deploys and rollbacks. SIGHUP checks the target now; SIGTERM drains and exits 0.",
			opts, argc, argv);
	if ((r = cli_parse(&p, &a)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos > 1 || (p.npos == 1) == (a.o.target != NULL)) {
		status = cli_usage_error(&p, "name one model, or --target NAME");
		goto out;
	}
	if (!(a.o.sample >= 0 && a.o.sample <= 1)) {
		status = cli_usage_error(&p, "--sample %g: a share from 0 to 1", a.o.sample);
		goto out;
	}
	a.o.model = p.npos ? p.pos[0] : NULL;
	a.o.max_connections = (unsigned)a.max_connections;
	cli_open_gently(ctx);
	if (!ctx->reg && !(ctx->registry_status == MLCTL_ENOREGISTRY && a.o.model &&
			   !mlctl_model_ref_is_registry(a.o.model))) {
		status = cli_registry_failed(ctx);
		goto out;
	}
	a.o.argc = ctx->argc;
	a.o.argv = ctx->argv;
	a.o.on_ready = on_ready;
	a.o.on_log = on_log;
	a.o.payload = &a;
	cli_server_signals(&a.o.cancel, &a.o.reload);
	ret = mlctl_serve(&res, ctx->reg, &a.o);
	if (ret) {
		status = cli_fail(ret);
	} else {
		if (!ctx->quiet)
			fprintf(stderr, "mlctl serve: stopped after %llu requests (%llu errors), %llu rows scored, "
				"%llu reloads (%llu refused)%s\n",
				(unsigned long long)res->requests, (unsigned long long)res->errors,
				(unsigned long long)res->rows, (unsigned long long)res->reloads,
				(unsigned long long)res->reloads_failed, res->drained ? "" : "; some requests were cut off");
		status = a.status;
	}
out:
	mlctl_serve_result_free(res);
	free((char *)(uintptr_t)a.o.canary);
	cli_parser_release(&p);
	return status;
}
