/*
 * cmd_deploy.c — `mlctl deploy MODEL|FILE --target NAME`, `deploy rollback NAME`,
 * `deploy status [NAME]`, `deploy history NAME`.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "banned.h"

static int print_deploy(cli_ctx *ctx, const mlctl_deploy_result *res, const char *verb)
{
	if (ctx->json)
		return cli_json_print(json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:I, s:b}", "target", res->target,
						"path", res->path, "model", res->model, "release", res->release,
						"previous", cli_json_str(res->previous), "package_sha256", res->package_digest,
						"run", res->run, "pruned", (json_int_t)res->pruned, "unchanged", res->unchanged));
	if (!ctx->quiet) {
		printf("%s %s to %s: %s/current -> releases/%s\n", verb, res->model, res->target, res->path, res->release);
		if (res->previous && !res->unchanged)
			printf("  previous release %s (mlctl deploy rollback %s)\n", res->previous, res->target);
		if (res->unchanged)
			printf("  it was the current release already\n");
		if (res->pruned)
			printf("  pruned %zu old release%s\n", res->pruned, res->pruned == 1 ? "" : "s");
	}
	return 0;
}

/* --wait SECS: 0 means one try, which the options spell as a negative wait (their 0 is the
 * default of 5 seconds). */
static int parse_wait(cli_parser *p, const cli_option *opt, void *target, const char *value)
{
	double *out = target;

	if (!cli_seconds(opt->name, value, out))
		return CLI_ERROR;
	if (*out == 0)
		*out = -1;
	return CLI_OK;
}

const cli_option cli_deploy_options[] = {
	{ "target", 't', "NAME", "the deploy target (required)", CLI_STRING(mlctl_deploy_options, target) },
	{ "path", 0, "DIR", "the target's directory (default: .mlctl/targets/NAME)", CLI_STRING(mlctl_deploy_options, path) },
	{ "require-validated", 0, NULL, "refuse a version without a passing validation",
	  CLI_FLAG(mlctl_deploy_options, require_validated) },
	{ "pubkey", 'p', "KEY", "refuse a package whose signature does not verify with KEY",
	  CLI_STRING(mlctl_deploy_options, pubkey) },
	{ "keep", 0, "N", "keep the N newest releases (default 5)", CLI_INT(mlctl_deploy_options, keep, 1, 1000) },
	{ "wait", 0, "SECS", "wait this long for a concurrent deploy to finish (default 5), then exit 75",
	  CLI_CALL(mlctl_deploy_options, wait, parse_wait) },
	CLI_OPTIONS_END
};

static int deploy_main(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_deploy_options o = { 0 };
	mlctl_deploy_result *res = NULL;
	cli_parser p;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl deploy MODEL|FILE.mlpkg --target NAME [--path DIR] [--require-validated] [--pubkey KEY] [--keep N] [--wait SECS]",
			"Verify a package (or package a registered version), extract it as a new release of the target and\n"
			"switch the target's current link to it atomically; moves the alias NAME@TARGET.", cli_deploy_options, argc, argv);
	if ((r = cli_parse(&p, &o)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos != 1 || !o.target) {
		status = cli_usage_error(&p, "deploy takes one model or package and --target NAME");
		goto out;
	}
	o.model = p.pos[0];
	o.argc = ctx->argc;
	o.argv = ctx->argv;
	if ((ret = mlctl_deploy(&res, ctx->reg, &o))) {
		status = cli_fail(ret);
		goto out;
	}
	status = print_deploy(ctx, res, "Deployed");
out:
	mlctl_deploy_result_free(res);
	cli_parser_release(&p);
	return status;
}

static int deploy_rollback(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_option opts[] = {
		{ "wait", 0, "SECS", "wait this long for a concurrent deploy (default 5), then exit 75",
		  CLI_CALL(mlctl_deploy_options, wait, parse_wait) },
		CLI_OPTIONS_END
	};
	mlctl_deploy_options o = { 0 };
	mlctl_deploy_result *res = NULL;
	cli_parser p;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl deploy rollback TARGET [--wait SECS]",
			"Switch TARGET back to the release it served before the current one. Exit 1 when there is none.",
			opts, argc, argv);
	if ((r = cli_parse(&p, &o)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos != 1) {
		status = cli_usage_error(&p, "rollback takes one target name");
		goto out;
	}
	o.target = p.pos[0];
	o.argc = ctx->argc;
	o.argv = ctx->argv;
	if ((ret = mlctl_deploy_rollback(&res, ctx->reg, &o))) {
		status = cli_fail(ret);
		goto out;
	}
	status = print_deploy(ctx, res, "Rolled back");
out:
	mlctl_deploy_result_free(res);
	cli_parser_release(&p);
	return status;
}

static json_t *deployment_json(const mlctl_deployment *d)
{
	return json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:o, s:o, s:o, s:o}", "id", (json_int_t)d->id,
			 "target", d->target, "name", d->name, "version", d->version, "release", d->release,
			 "action", d->action, "package_sha256", json_string(d->package_digest),
			 "run", d->run[0] ? json_string(d->run) : json_null(), "user", cli_json_str(d->user),
			 "time", cli_json_time(d->time_ms));
}

/*
 * status --json: the latest deployment, with what current points at now ("current") and
 * whether the two agree ("in_sync"). They differ after a deploy or rollback was killed
 * between switching the link and recording it; status only reports that (a read command
 * writes nothing); the next deploy or rollback of the target records it under its lock.
 */
static json_t *status_json(const mlctl_deployment *d, const char *current)
{
	json_t *o = deployment_json(d);

	json_object_set_new(o, "current", cli_json_str(current));
	json_object_set_new(o, "in_sync", json_boolean(current && strcmp(current, d->release) == 0));
	return o;
}

static void warn_out_of_sync(const char *target, const char *current, const char *recorded)
{
	cli_warn("target %s: current -> releases/%s, but the registry's latest record is %s: a deploy or rollback was interrupted; the next one on %s records it",
		 target, current ? current : "(none)", recorded ? recorded : "(none)", target);
}

/* status: the latest deployment of each target (or one), checked against the link;
 * history: every deployment of one target. Both only read. */
static int deploy_status_or_history(cli_ctx *ctx, int argc, char **argv, bool history)
{
	mlctl_deployment_list *l = NULL;
	char **current = NULL;
	cli_parser p;
	size_t i, shown = 0;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, history ? "mlctl deploy history TARGET" : "mlctl deploy status [TARGET]",
			history ? "Every switch of TARGET, newest first: deploys, rollbacks, with time and who." :
			"What each target serves.", NULL, argc, argv);
	if ((r = cli_parse(&p, NULL)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos > 1 || (history && p.npos != 1)) {
		status = cli_usage_error(&p, "wrong number of arguments");
		goto out;
	}
	if ((ret = mlctl_deployment_list_get(&l, ctx->reg, p.npos ? p.pos[0] : NULL))) {
		status = cli_fail(ret);
		goto out;
	}
	if (p.npos == 1 && l->n == 0) {
		char *dir = NULL;

		/* A target that was never made is an error; one that has no deployment yet
		 * shows an empty table. */
		ret = mlctl_target_path(&dir, ctx->reg, p.pos[0]);
		free(dir);
		dir = NULL;
		if (!ret && !history)
			ret = mlctl_deploy_current(&dir, ctx->reg, p.pos[0]);
		if (ret) {
			status = cli_fail(ret);
			goto out;
		}
		if (dir)
			warn_out_of_sync(p.pos[0], dir, NULL);
		free(dir);
	}
	/* The status of one target is its latest deployment only. */
	shown = !history && p.npos && l->n > 1 ? 1 : l->n;
	if (!history && shown && !(current = calloc(shown, sizeof(*current)))) {
		status = cli_fail(MLCTL_ENOMEM);
		goto out;
	}
	for (i = 0; !history && i < shown; i++) {
		if ((ret = mlctl_deploy_current(&current[i], ctx->reg, l->d[i].target))) {
			status = cli_fail(ret);
			goto out;
		}
		if (!current[i] || strcmp(current[i], l->d[i].release) != 0)
			warn_out_of_sync(l->d[i].target, current[i], l->d[i].release);
	}
	if (ctx->json) {
		json_t *arr = json_array();

		for (i = 0; i < shown; i++)
			json_array_append_new(arr, history ? deployment_json(&l->d[i]) : status_json(&l->d[i], current[i]));
		status = cli_json_print(json_pack("{s:o}", history ? "history" : "targets", arr));
	} else if (!ctx->quiet) {
		cli_table *t = history ? cli_table_new(6, "TIME", "ACTION", "MODEL", "RELEASE", "WHO", "RUN") :
				       cli_table_new(5, "TARGET", "MODEL", "RELEASE", "SINCE", "BY");

		for (i = 0; i < shown; i++) {
			const mlctl_deployment *d = &l->d[i];
			char model[300];

			snprintf(model, sizeof(model), "%s:%d", d->name, d->version);
			if (history)
				cli_table_row(t, cli_fmt_time(d->time_ms), d->action, model, d->release, d->user,
					      d->run[0] ? d->run : NULL);
			else
				cli_table_row(t, d->target, model, d->release, cli_fmt_time(d->time_ms), d->user);
		}
		cli_table_print(t, stdout);
		cli_table_free(t);
	}
out:
	for (i = 0; current && i < shown; i++)
		free(current[i]);
	free(current);
	mlctl_deployment_list_free(l);
	cli_parser_release(&p);
	return status;
}

static int deploy_status(cli_ctx *ctx, int argc, char **argv)
{
	return deploy_status_or_history(ctx, argc, argv, false);
}

static int deploy_history(cli_ctx *ctx, int argc, char **argv)
{
	return deploy_status_or_history(ctx, argc, argv, true);
}

/* `mlctl deploy MODEL ...` is the command's own form: a model named like a subcommand
 * comes after an option or `--` (`mlctl deploy --target T -- status`). */
const cli_subcommand cmd_deploy_forms[] = {
	{ NULL, deploy_main },
	{ "rollback", deploy_rollback },
	{ "status", deploy_status },
	{ "history", deploy_history },
	{ NULL, NULL }
};
