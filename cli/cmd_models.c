/*
 * cmd_models.c — `mlctl models list|show|alias`: the model registry: names, versions,
 * their validations, and aliases with the history of every move.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

static int models_list(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_model_list *l = NULL;
	cli_parser p;
	int r, ret, status = 0;
	size_t i;

	cli_parser_init(&p, ctx, "mlctl models list", "List registered models with their latest version and aliases.",
			NULL, argc, argv);
	if ((r = cli_parse(&p, NULL)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if ((ret = mlctl_model_list_get(&l, ctx->reg))) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json) {
		json_t *arr = json_array();

		for (i = 0; i < l->n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:i, s:i, s:o, s:o}", "name", l->models[i].name,
							     "latest_version", l->models[i].latest, "versions", l->models[i].nversions,
							     "updated", cli_json_time(l->models[i].updated_ms),
							     "aliases", cli_json_str(l->models[i].aliases)));
		status = cli_json_print(json_pack("{s:o}", "models", arr));
	} else if (!ctx->quiet) {
		cli_table *t = cli_table_new(5, "NAME", "LATEST", "VERSIONS", "UPDATED", "ALIASES");

		for (i = 0; i < l->n; i++) {
			char latest[16], n[16];

			snprintf(latest, sizeof(latest), "%d", l->models[i].latest);
			snprintf(n, sizeof(n), "%d", l->models[i].nversions);
			cli_table_row(t, l->models[i].name, latest, n, cli_fmt_time(l->models[i].updated_ms), l->models[i].aliases);
		}
		cli_table_print(t, stdout);
		cli_table_free(t);
	}
out:
	mlctl_model_list_free(l);
	cli_parser_release(&p);
	return status;
}

/* The validation runs of a model (all versions), newest first. */
static int validations(mlctl_run_list **out, cli_ctx *ctx, const char *name)
{
	mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;

	f.kind = "validate";
	f.model_name = name;
	return mlctl_run_list_get(out, ctx->reg, &f);
}

static json_t *version_json(const mlctl_model_version *mv, const mlctl_run_list *vals)
{
	json_t *aliases = json_array(), *vl = json_array();
	size_t i;

	for (i = 0; i < mv->naliases; i++)
		json_array_append_new(aliases, json_string(mv->aliases[i]));
	for (i = 0; vals && i < vals->n; i++) {
		const mlctl_run *r = vals->runs[i];

		if (r->model_version != mv->version)
			continue;
		json_array_append_new(vl, json_pack("{s:s, s:s, s:o, s:o}", "run", r->id,
						    "status", mlctl_run_status_name(r->status),
						    "verdict", cli_json_str(r->verdict), "time", cli_json_time(r->started_ms)));
	}
	return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "name", mv->name,
			 "version", mv->version, "run", mv->run, "model_digest", mv->model_digest,
			 "preprocess_digest", mv->preprocess_digest, "profile_digest", mv->profile_digest,
			 "type", cli_json_str(mv->svm_type), "kernel", cli_json_str(mv->kernel),
			 "created", cli_json_time(mv->created_ms), "user", cli_json_str(mv->user),
			 "aliases", aliases, "validations", vl);
}

/* "pass (01J…)" for the newest validation of a version, or NULL. */
static const char *validation_cell(const mlctl_run_list *vals, int version, char *buf, size_t len)
{
	size_t i;

	for (i = 0; vals && i < vals->n; i++) {
		if (vals->runs[i]->model_version == version) {
			snprintf(buf, len, "%s %.10s", vals->runs[i]->verdict ? vals->runs[i]->verdict :
				 mlctl_run_status_name(vals->runs[i]->status), vals->runs[i]->id);
			return buf;
		}
	}
	return NULL;
}

static json_t *history_json(const mlctl_alias_history *h)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; h && i < h->n; i++) {
		const mlctl_alias_move *m = &h->moves[i];

		json_array_append_new(arr, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "alias", m->alias,
						     "from", m->from_version ? json_integer(m->from_version) : json_null(),
						     "to", m->to_version ? json_integer(m->to_version) : json_null(),
						     "user", cli_json_str(m->user), "reason", cli_json_str(m->reason),
						     "time", cli_json_time(m->time_ms)));
	}
	return arr;
}

static void print_history(const mlctl_alias_history *h)
{
	cli_table *t = cli_table_new(6, "TIME", "ALIAS", "FROM", "TO", "WHO", "WHY");
	size_t i;

	for (i = 0; i < h->n; i++) {
		const mlctl_alias_move *m = &h->moves[i];
		char from[16], to[16];

		snprintf(from, sizeof(from), "%d", m->from_version);
		snprintf(to, sizeof(to), "%d", m->to_version);
		cli_table_row(t, cli_fmt_time(m->time_ms), m->alias, m->from_version ? from : NULL,
			      m->to_version ? to : NULL, m->user, m->reason);
	}
	cli_table_print(t, stdout);
	cli_table_free(t);
}

static int models_show(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_model_versions *all = NULL;
	mlctl_model_version *one = NULL;
	mlctl_alias_history *h = NULL;
	mlctl_run_list *vals = NULL;
	const char *ref;
	char name[256], cell[64];
	cli_parser p;
	int r, ret, status = 0;
	size_t i;

	cli_parser_init(&p, ctx, "mlctl models show NAME|REF",
			"Show a model's versions, validations and aliases (NAME), or one version (NAME:N, NAME@ALIAS, run/ID).",
			NULL, argc, argv);
	if ((r = cli_parse(&p, NULL)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos != 1) {
		status = cli_usage_error(&p, "models show takes one model name or reference");
		goto out;
	}
	ref = p.pos[0];
	if (strpbrk(ref, ":@/")) {
		if ((ret = mlctl_model_resolve(&one, ctx->reg, ref))) {
			status = cli_fail(ret);
			goto out;
		}
		snprintf(name, sizeof(name), "%s", one->name);
	} else {
		snprintf(name, sizeof(name), "%s", ref);
		if ((ret = mlctl_model_versions_get(&all, ctx->reg, name))) {
			status = cli_fail(ret);
			goto out;
		}
	}
	if ((ret = validations(&vals, ctx, name)) || (ret = mlctl_alias_history_get(&h, ctx->reg, name, NULL))) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json) {
		json_t *doc;

		if (one) {
			doc = version_json(one, vals);
		} else {
			json_t *arr = json_array();

			for (i = 0; i < all->n; i++)
				json_array_append_new(arr, version_json(all->v[i], vals));
			doc = json_pack("{s:s, s:o}", "name", name, "versions", arr);
		}
		json_object_set_new(doc, "alias_history", history_json(h));
		status = cli_json_print(doc);
		goto out;
	}
	if (ctx->quiet)
		goto out;
	if (one) {
		printf("model      %s:%d\n", one->name, one->version);
		printf("type       %s, kernel %s\n", one->svm_type ? one->svm_type : "?", one->kernel ? one->kernel : "?");
		printf("created    %s by %s\n", cli_fmt_time(one->created_ms), one->user ? one->user : "?");
		printf("run        %s\n", one->run);
		printf("model      %s\n", one->model_digest);
		printf("preprocess %s\n", one->preprocess_digest);
		if (one->profile_digest[0])
			printf("profile    %s\n", one->profile_digest);
		printf("aliases   ");
		for (i = 0; i < one->naliases; i++)
			printf(" @%s", one->aliases[i]);
		printf("%s\n", one->naliases ? "" : " -");
		printf("\nvalidations:\n");
		for (i = 0; i < vals->n; i++)
			if (vals->runs[i]->model_version == one->version)
				printf("  %s  %-9s %s\n", vals->runs[i]->id, vals->runs[i]->verdict ? vals->runs[i]->verdict : "-",
				       cli_fmt_time(vals->runs[i]->started_ms));
	} else {
		cli_table *t = cli_table_new(7, "VERSION", "RUN", "TYPE", "KERNEL", "CREATED", "ALIASES", "VALIDATION");

		printf("model %s\n\n", name);
		for (i = 0; i < all->n; i++) {
			const mlctl_model_version *mv = all->v[i];
			char ver[16], aliases[256] = "";
			size_t k;

			snprintf(ver, sizeof(ver), "%d", mv->version);
			for (k = 0; k < mv->naliases; k++)
				snprintf(aliases + strlen(aliases), sizeof(aliases) - strlen(aliases), "%s@%s", k ? " " : "",
					 mv->aliases[k]);
			cli_table_row(t, ver, mv->run, mv->svm_type, mv->kernel, cli_fmt_time(mv->created_ms),
				      aliases[0] ? aliases : NULL, validation_cell(vals, mv->version, cell, sizeof(cell)));
		}
		cli_table_print(t, stdout);
		cli_table_free(t);
	}
	if (h->n) {
		printf("\nalias history:\n");
		print_history(h);
	}
out:
	mlctl_model_versions_free(all);
	mlctl_model_version_free(one);
	mlctl_alias_history_free(h);
	mlctl_run_list_free(vals);
	cli_parser_release(&p);
	return status;
}

typedef struct alias_args {
	bool del, history;
	const char *reason;
} alias_args;

static int models_alias(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_option opts[] = {
		{ "delete", 'd', NULL, "remove the alias NAME@ALIAS", CLI_FLAG(alias_args, del) },
		{ "history", 0, NULL, "show every move of the aliases of NAME (or of NAME@ALIAS)", CLI_FLAG(alias_args, history) },
		{ "reason", 'm', "TEXT", "why the alias moves (kept in the history)", CLI_STRING(alias_args, reason) },
		CLI_OPTIONS_END
	};
	mlctl_model_version *mv = NULL;
	mlctl_alias_history *h = NULL;
	alias_args a = { false, false, NULL };
	bool del, history;
	const char *reason, *at;
	char name[256], alias[256];
	cli_parser p;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl models alias NAME@ALIAS VERSION|REF [-m REASON] | --delete NAME@ALIAS | --history NAME[@ALIAS]",
			"Point an alias at a model version (moving it if it exists), remove it, or show its history.",
			opts, argc, argv);
	if ((r = cli_parse(&p, &a)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	del = a.del;
	history = a.history;
	reason = a.reason;
	if (p.npos < 1 || p.npos > 2 || (p.npos == 2) != (!del && !history)) {
		status = cli_usage_error(&p, "wrong number of arguments");
		goto out;
	}
	at = strchr(p.pos[0], '@');
	snprintf(name, sizeof(name), "%.*s", (int)(at ? (size_t)(at - p.pos[0]) : strlen(p.pos[0])), p.pos[0]);
	snprintf(alias, sizeof(alias), "%s", at ? at + 1 : "");
	if (history) {
		if ((ret = mlctl_alias_history_get(&h, ctx->reg, name, at ? alias : NULL))) {
			status = cli_fail(ret);
			goto out;
		}
		if (ctx->json)
			status = cli_json_print(json_pack("{s:s, s:o}", "name", name, "alias_history", history_json(h)));
		else if (!ctx->quiet)
			print_history(h);
		goto out;
	}
	if (!at || !alias[0]) {
		status = cli_usage_error(&p, "expected NAME@ALIAS, got '%s'", p.pos[0]);
		goto out;
	}
	/* Moving or removing an alias writes: the registry was opened read-only. */
	if ((ret = cli_open_registry(ctx))) {
		status = cli_fail(ret);
		goto out;
	}
	if (del) {
		if ((ret = mlctl_alias_delete(ctx->reg, name, alias))) {
			status = cli_fail(ret);
			goto out;
		}
		if (ctx->json)
			status = cli_json_print(json_pack("{s:s, s:s, s:n}", "name", name, "alias", alias, "version"));
		else if (!ctx->quiet)
			printf("%s@%s removed\n", name, alias);
		goto out;
	}
	{
		/* The target: a plain number is a version of NAME; anything else a reference. */
		char ref[300];
		const char *t = p.pos[1];

		if (strspn(t, "0123456789") == strlen(t))
			snprintf(ref, sizeof(ref), "%s:%s", name, t);
		else
			snprintf(ref, sizeof(ref), "%s", t);
		if ((ret = mlctl_model_resolve(&mv, ctx->reg, ref))) {
			status = cli_fail(ret);
			goto out;
		}
		if (strcmp(mv->name, name) != 0) {
			cli_error("%s is a version of %s, not of %s", ref, mv->name, name);
			status = MLCTL_EXIT_USAGE;
			goto out;
		}
	}
	if ((ret = mlctl_alias_set(ctx->reg, name, alias, mv->version, reason ? reason : "models alias"))) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json)
		status = cli_json_print(json_pack("{s:s, s:s, s:i}", "name", name, "alias", alias, "version", mv->version));
	else if (!ctx->quiet)
		printf("%s@%s -> version %d\n", name, alias, mv->version);
out:
	mlctl_model_version_free(mv);
	mlctl_alias_history_free(h);
	cli_parser_release(&p);
	return status;
}

/* `mlctl models` alone lists them. */
const cli_subcommand cmd_models_forms[] = {
	{ "list", models_list }, { "show", models_show }, { "alias", models_alias }, { NULL, NULL }
};
