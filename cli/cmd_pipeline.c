/*
 * cmd_pipeline.c — `mlctl pipeline run FILE [STAGE...]` and `mlctl pipeline status FILE`.
 *
 * A stage takes the options of its command, read from the very table that command parses
 * its arguments with (cli_train_options[], ...): the kinds handed to the library are built
 * from those tables here, and a stage runs by handing its resolved options to the command
 * as its arguments, in this process (no shell, no child process), so a stage and the
 * command cannot drift apart in names, defaults or checks.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "banned.h"

/* What cli/ knows of a stage kind beyond its command's option table. */
typedef struct stage_def {
	const char *name;
	const cli_option *opts;
	const char *positional;             /* the command's positional argument, by name */
	unsigned positional_path;
	const char *required[3];
	const char *outputs[4];
	const char *inputs[3];              /* options that name input files (digested) */
	const char *products[3];            /* options that name files the stage writes */
	const char *paths[3];               /* other options that are paths */
	const mlctl_pipeline_option *extra; /* options only a stage has */
	size_t nextra;
} stage_def;

/* package: `keygen: if-missing` makes the signing key pair on first use. */
static const mlctl_pipeline_option package_extra[] = {
	{ "keygen", MLCTL_PIPE_STRING, 0, 0, 0 },
	{ "pubkey", MLCTL_PIPE_STRING, 0, 0, MLCTL_PIPE_PATH },
};

static const stage_def defs[] = {
	{ "train", cli_train_options, "data", MLCTL_PIPE_PATH | MLCTL_PIPE_INPUT, { "data", "name" },
	  { "model", "run" }, { "test" }, { NULL }, { NULL }, NULL, 0 },
	{ "validate", cli_validate_options, "model", 0, { "model", "data" },
	  { "model", "verdict", "run" }, { "data" }, { "junit" }, { NULL }, NULL, 0 },
	{ "package", cli_package_options, "model", 0, { "model" },
	  { "package", "model", "run" }, { NULL }, { "output" }, { "sign" }, package_extra, 2 },
	{ "deploy", cli_deploy_options, "model", 0, { "model", "target" },
	  { "target", "model", "release", "run" }, { NULL }, { NULL }, { "path", "pubkey" }, NULL, 0 },
	{ "predict", cli_predict_options, "model", 0, { "input" },
	  { "output", "run" }, { "input" }, { "output" }, { "rejects", "lock" }, NULL, 0 },
	{ "monitor", cli_monitor_options, "model", 0, { NULL },
	  { "report", "verdict", "run" }, { "data", "log" }, { "report" }, { NULL }, NULL, 0 },
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

static bool in_list(const char *const *list, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n && list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static mlctl_pipeline_type option_type(const cli_option *o)
{
	switch (o->type) {
	case CLI_OPT_FLAG:
		return MLCTL_PIPE_FLAG;
	case CLI_OPT_INT:
	case CLI_OPT_SIZE:
	case CLI_OPT_U64:
	case CLI_OPT_INT64:
		return MLCTL_PIPE_INT;
	case CLI_OPT_DOUBLE:
	case CLI_OPT_SECONDS:
		return MLCTL_PIPE_NUMBER;
	case CLI_OPT_LIST:
	case CLI_OPT_CSV:
		return MLCTL_PIPE_LIST;
	case CLI_OPT_KV:
		return MLCTL_PIPE_MAP;
	case CLI_OPT_PARAM:
		return o->fixed ? MLCTL_PIPE_FLAG : MLCTL_PIPE_STRING;
	default:
		return MLCTL_PIPE_STRING;
	}
}

/* The kinds for the library, built from the commands' tables. */
typedef struct kinds {
	mlctl_pipeline_kind k[NDEFS];
	mlctl_pipeline_option *opts[NDEFS];
} kinds;

static void kinds_free(kinds *ks)
{
	size_t i;

	for (i = 0; i < NDEFS; i++)
		free(ks->opts[i]);
}

static int kinds_make(kinds *ks)
{
	size_t i, n, j;

	memset(ks, 0, sizeof(*ks));
	for (i = 0; i < NDEFS; i++) {
		const stage_def *d = &defs[i];
		mlctl_pipeline_option *o;

		for (n = 0; d->opts[n].name; n++)
			;
		o = ks->opts[i] = calloc(n + d->nextra + 1, sizeof(*o));
		if (!o) {
			kinds_free(ks);
			return CLI_ENOMEM;
		}
		o[0] = (mlctl_pipeline_option){ d->positional, MLCTL_PIPE_STRING, 0, 0, d->positional_path };
		for (j = 0; j < n; j++) {
			const cli_option *c = &d->opts[j];
			unsigned path = 0;

			if (in_list(d->inputs, 3, c->name))
				path = MLCTL_PIPE_PATH | MLCTL_PIPE_INPUT;
			else if (in_list(d->products, 3, c->name))
				path = MLCTL_PIPE_PATH | MLCTL_PIPE_OUTPUT;
			else if (in_list(d->paths, 3, c->name))
				path = MLCTL_PIPE_PATH;
			o[j + 1] = (mlctl_pipeline_option){ c->name, option_type(c), c->min, c->max, path };
		}
		for (j = 0; j < d->nextra; j++)
			o[n + 1 + j] = d->extra[j];
		ks->k[i].name = d->name;
		ks->k[i].options = o;
		ks->k[i].noptions = n + 1 + d->nextra;
		ks->k[i].positional = d->positional;
		ks->k[i].required = d->required;
		for (j = 0; j < 3 && d->required[j]; j++)
			;
		ks->k[i].nrequired = j;
		ks->k[i].outputs = d->outputs;
		for (j = 0; j < 4 && d->outputs[j]; j++)
			;
		ks->k[i].noutputs = j;
	}
	return 0;
}

static const stage_def *def_of(const mlctl_pipeline_kind *k)
{
	size_t i;

	for (i = 0; i < NDEFS; i++)
		if (strcmp(defs[i].name, k->name) == 0)
			return &defs[i];
	return NULL;
}

static const cli_option *cli_row(const stage_def *d, const char *name)
{
	const cli_option *o;

	for (o = d->opts; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

static bool is_true(const char *v)
{
	return strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0 ||
	       strcmp(v, "yes") == 0 || strcmp(v, "Yes") == 0 || strcmp(v, "on") == 0;
}

/* argv for a job: "mlctl KIND POSITIONAL --option=value ...". */
typedef struct job_argv {
	int argc;
	char **argv;
	size_t cap;
} job_argv;

static int av_push(job_argv *a, char *s)
{
	if (!s)
		return CLI_ENOMEM;
	if ((size_t)a->argc + 2 > a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;
		char **nv = realloc(a->argv, cap * sizeof(*nv));

		if (!nv) {
			free(s);
			return CLI_ENOMEM;
		}
		a->argv = nv;
		a->cap = cap;
	}
	a->argv[a->argc++] = s;
	a->argv[a->argc] = NULL;
	return 0;
}

static void av_free(job_argv *a)
{
	int i;

	for (i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	memset(a, 0, sizeof(*a));
}

static char *str2(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

static int build_argv(job_argv *a, const stage_def *d, const mlctl_pipeline_args *args)
{
	size_t i, k;
	int ret;

	if ((ret = av_push(a, strdup("mlctl"))) || (ret = av_push(a, strdup(d->name))))
		return ret;
	/* The positional first, then the options in file order. */
	for (i = 0; i < args->nsettings; i++)
		if (strcmp(args->settings[i].option->name, d->positional) == 0)
			if ((ret = av_push(a, strdup(args->values[i][0]))))
				return ret;
	for (i = 0; i < args->nsettings; i++) {
		const mlctl_pipeline_setting *st = &args->settings[i];
		const cli_option *row = cli_row(d, st->option->name);
		char *flag;

		if (!row)   /* the positional, or an option of the stage only */
			continue;
		if (!(flag = str2("--", row->name)))
			return CLI_ENOMEM;
		if (row->type == CLI_OPT_FLAG || (row->type == CLI_OPT_PARAM && row->fixed)) {
			if (is_true(args->values[i][0]))
				ret = av_push(a, flag);
			else
				free(flag);
			if (ret)
				return ret;
			continue;
		}
		if (row->type == CLI_OPT_CSV) {
			/* One comma-separated value, as the command takes it. */
			char *v = str2(flag, "="), *nv;

			for (k = 0; v && k < st->nvalues; k++) {
				nv = k ? str2(v, ",") : v;
				if (k)
					free(v);
				v = nv ? str2(nv, args->values[i][k]) : NULL;
				free(nv);
			}
			free(flag);
			if ((ret = av_push(a, v)))
				return ret;
			continue;
		}
		for (k = 0; k < st->nvalues; k++) {
			char *eq = str2(flag, "=");

			if ((ret = av_push(a, eq ? str2(eq, args->values[i][k]) : NULL))) {
				free(eq);
				free(flag);
				return ret;
			}
			free(eq);
		}
		free(flag);
	}
	return 0;
}

/* The value of one of a job's settings (its first), or NULL. */
static const char *arg_value(const mlctl_pipeline_args *args, const char *name)
{
	size_t i;

	for (i = 0; i < args->nsettings; i++)
		if (strcmp(args->settings[i].option->name, name) == 0 && args->settings[i].nvalues)
			return args->values[i][0];
	return NULL;
}

/* package with keygen: if-missing — the key pair, made when the secret key is not there. */
static int maybe_keygen(const mlctl_pipeline_args *args, const char *label, bool quiet)
{
	const char *mode = arg_value(args, "keygen"), *sec = arg_value(args, "sign"), *pub;
	char *dflt = NULL;
	struct stat st;
	int ret;

	if (!mode || strcmp(mode, "never") == 0)
		return 0;
	if (strcmp(mode, "if-missing") != 0) {
		cli_error("stage %s: keygen is if-missing or never, not \"%s\"", label, mode);
		return MLCTL_EXIT_CONFIG;
	}
	if (!sec) {
		cli_error("stage %s: keygen needs sign: SECRETKEY (the file it creates)", label);
		return MLCTL_EXIT_CONFIG;
	}
	if (stat(sec, &st) == 0)
		return 0;
	pub = arg_value(args, "pubkey");
	if (!pub) {
		size_t n = strlen(sec);
		char *stem = strdup(sec);

		if (stem && n > 4 && strcmp(sec + n - 4, ".key") == 0)
			stem[n - 4] = '\0';
		dflt = stem ? str2(stem, ".pub") : NULL;
		free(stem);
		if (!dflt)
			return cli_fail(MLCTL_ENOMEM);
		pub = dflt;
	}
	if ((ret = mlctl_pipeline_mkdir_for(sec)) || (ret = mlctl_pipeline_mkdir_for(pub)) ||
	    (ret = mlctl_keygen(pub, sec))) {
		free(dflt);
		return cli_fail(ret);
	}
	if (!quiet)
		fprintf(stderr, "mlctl: stage %s: created the signing key pair %s (secret) and %s (public)\n",
			label, sec, pub);
	free(dflt);
	return 0;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct run_args {
	bool force, dry_run, if_changed, lock, verbose;
} run_args;

/* Load the file with the kinds; errors are printed. */
static int load(mlctl_pipeline **pl, kinds *ks, const char *file)
{
	int ret;

	if (kinds_make(ks))
		return cli_fail(MLCTL_ENOMEM);
	if ((ret = mlctl_pipeline_load(pl, file, ks->k, NDEFS))) {
		kinds_free(ks);
		return cli_fail(ret);
	}
	return 0;
}

/* Stages named on the command line: each must exist. */
static int check_stages(const mlctl_pipeline *pl, char **names, int n)
{
	const char **all;
	size_t i;
	int k;

	for (k = 0; k < n; k++) {
		if (mlctl_pipeline_stage_find(pl, names[k]) != SIZE_MAX)
			continue;
		cli_error("%s has no stage called '%s'", pl->path, names[k]);
		if ((all = calloc(pl->nstages + 1, sizeof(*all)))) {
			const char *best;

			for (i = 0; i < pl->nstages; i++)
				all[i] = pl->stages[i].name;
			best = cli_suggest(names[k], all, pl->nstages);
			if (best)
				fprintf(stderr, "mlctl: did you mean '%s'?\n", best);
			free(all);
		}
		return MLCTL_EXIT_USAGE;
	}
	return 0;
}

/* Is job j wanted: its stage is named, or upstream of one named, or nothing is named. */
static bool wanted(const mlctl_pipeline *pl, const mlctl_pipeline_plan *plan, size_t j, char **names, int n)
{
	int k;

	if (n == 0)
		return true;
	for (k = 0; k < n; k++)
		if (mlctl_pipeline_depends(pl, mlctl_pipeline_stage_find(pl, names[k]), plan->jobs[j].stage))
			return true;
	return false;
}

static json_t *job_json(const mlctl_pipeline_job *job, const char *state, double secs)
{
	json_t *o = json_object(), *outs = json_object();
	size_t i;

	for (i = 0; i < job->noutputs; i++)
		json_object_set_new(outs, job->outputs[i].key, json_string(job->outputs[i].value));
	json_object_set_new(o, "stage", json_string(job->label));
	json_object_set_new(o, "state", json_string(state));
	json_object_set_new(o, "reason", cli_json_str(job->up_to_date ? NULL : job->reason));
	json_object_set_new(o, "key", json_string(job->key));
	json_object_set_new(o, "run", cli_json_str(job->run[0] ? job->run : NULL));
	json_object_set_new(o, "outputs", outs);
	if (secs >= 0)
		json_object_set_new(o, "seconds", json_real(secs));
	return o;
}

static void out_add(mlctl_kv *outs, size_t *n, char **owned, size_t *nowned, const char *k, const char *v)
{
	char *s;

	if (v && (s = strdup(v))) {
		owned[(*nowned)++] = s;
		outs[(*n)++] = (mlctl_kv){ (char *)k, s };
	}
}

/* What a job's run gives downstream: from the stage's run record and its settings. */
static int job_outputs(cli_ctx *ctx, const stage_def *d, const mlctl_pipeline_args *args, const char *run_id,
		       mlctl_kv *outs, size_t *n, char ***owned, size_t *nowned)
{
	mlctl_run *run = NULL;
	int ret;

	*n = 0;
	if ((ret = mlctl_run_get(&run, ctx->reg, run_id)))
		return ret;
	out_add(outs, n, *owned, nowned, "run", run->id);
	if (run->model_name && (strcmp(d->name, "train") == 0 || strcmp(d->name, "validate") == 0 ||
				strcmp(d->name, "package") == 0 || strcmp(d->name, "deploy") == 0)) {
		char ref[320];

		snprintf(ref, sizeof(ref), "%s:%d", run->model_name, run->model_version);
		out_add(outs, n, *owned, nowned, "model", ref);
	}
	if (run->verdict)
		out_add(outs, n, *owned, nowned, "verdict", run->verdict);
	if (strcmp(d->name, "package") == 0)
		out_add(outs, n, *owned, nowned, "package", mlctl_run_param(run, "path"));
	if (strcmp(d->name, "deploy") == 0) {
		mlctl_deployment_list *l = NULL;
		size_t i;

		out_add(outs, n, *owned, nowned, "target", arg_value(args, "target"));
		if (mlctl_deployment_list_get(&l, ctx->reg, arg_value(args, "target")) == 0)
			for (i = 0; i < l->n; i++)
				if (strcmp(l->d[i].run, run->id) == 0 && l->d[i].release) {
					out_add(outs, n, *owned, nowned, "release", l->d[i].release);
					break;
				}
		mlctl_deployment_list_free(l);
	}
	if (strcmp(d->name, "predict") == 0)
		out_add(outs, n, *owned, nowned, "output", arg_value(args, "output"));
	if (strcmp(d->name, "monitor") == 0)
		out_add(outs, n, *owned, nowned, "report", arg_value(args, "report"));
	mlctl_run_free(run);
	return 0;
}

/* A deploy stage is up to date only while its target serves the release it made: after a
 * rollback, another deploy or a removed target directory, it runs again. */
static int check_targets(cli_ctx *ctx, const mlctl_pipeline *pl, mlctl_pipeline_plan *plan)
{
	size_t j;
	int ret;

	for (j = 0; j < plan->njobs; j++) {
		mlctl_pipeline_job *job = &plan->jobs[j];
		const char *target = mlctl_pipeline_job_output(job, "target");
		const char *release = mlctl_pipeline_job_output(job, "release");
		char *cur = NULL, why[512];

		if (!job->up_to_date || strcmp(pl->stages[job->stage].kind->name, "deploy") != 0 || !target)
			continue;
		ret = mlctl_deploy_current(&cur, ctx->reg, target);
		if (ret && ret != MLCTL_ENOTFOUND)
			return ret;
		if (cur && release && strcmp(cur, release) == 0) {
			free(cur);
			continue;
		}
		snprintf(why, sizeof(why), "target %s serves %s, not %s", target, cur ? cur : "nothing",
			 release ? release : "the release this stage made");
		free(cur);
		if ((ret = mlctl_pipeline_plan_invalidate(pl, plan, j, why)))
			return ret;
	}
	return 0;
}

/* Run job j through its command; *stopped when a gate or an alert said no. */
static int run_job(cli_ctx *ctx, const mlctl_pipeline *pl, mlctl_pipeline_plan *plan, size_t j,
		   bool verbose, bool *stopped)
{
	mlctl_pipeline_job *job = &plan->jobs[j];
	const stage_def *d = def_of(pl->stages[job->stage].kind);
	mlctl_pipeline_args args;
	job_argv av = { 0 };
	cli_ctx sub = *ctx;
	mlctl_kv outs[12];
	char *owned[12];
	size_t nouts = 0, nowned = 0, i;
	const char *run_id;
	char **argv_copy = NULL;
	int ret, status;

	*stopped = false;
	if ((ret = mlctl_pipeline_job_args(&args, pl, plan, j)))
		return cli_fail(ret);
	if (strcmp(d->name, "package") == 0 && (status = maybe_keygen(&args, job->label, ctx->quiet)))
		goto out;
	if ((ret = mlctl_pipeline_args_mkdirs(&args))) {
		status = cli_fail(ret);
		goto out;
	}
	if ((status = build_argv(&av, d, &args)))
		goto out;
	if (verbose && !ctx->json) {
		fprintf(stderr, "+");
		for (i = 0; i < (size_t)av.argc; i++)
			fprintf(stderr, " %s", av.argv[i]);
		fprintf(stderr, "\n");
	}
	/* The command parses its own copy: the parser may permute or borrow from it. */
	if (!(argv_copy = calloc((size_t)av.argc + 1, sizeof(*argv_copy)))) {
		status = cli_fail(MLCTL_ENOMEM);
		goto out;
	}
	memcpy(argv_copy, av.argv, (size_t)av.argc * sizeof(*argv_copy));
	sub.json = false;
	sub.quiet = !verbose;
	sub.argc = av.argc;
	sub.argv = av.argv;
	sub.command = d->name;
	sub.gently_done = true;
	sub.gently_dir = sub.registry_dir;
	status = cli_run(&sub, cli_find_command(d->name), av.argc - 1, argv_copy + 1);
	run_id = mlctl_registry_adopted_run(ctx->reg);
	if (status == MLCTL_EXIT_VERDICT && run_id &&
	    (strcmp(d->name, "validate") == 0 || strcmp(d->name, "monitor") == 0)) {
		*stopped = true;
		status = 0;
	}
	if (status)
		goto out;
	if (!run_id) {
		cli_error("stage %s: its command recorded no run", job->label);
		status = MLCTL_EXIT_SOFTWARE;
		goto out;
	}
	{
		char **own = owned;

		if ((ret = job_outputs(ctx, d, &args, run_id, outs, &nouts, &own, &nowned)) ||
		    (ret = mlctl_pipeline_job_record(ctx->reg, pl, plan, j, run_id, outs, nouts, *stopped)))
			status = cli_fail(ret);
	}
out:
	for (i = 0; i < nowned; i++)
		free(owned[i]);
	free(argv_copy);
	av_free(&av);
	mlctl_pipeline_args_free(&args);
	return status;
}

/* Inputs marked store: true go into the store (compressed, once per content) before the
 * stages run, named as inputs of the pipeline run, so `mlctl data checkout` can give back
 * the exact bytes a model was trained on. */
static int store_inputs(cli_ctx *ctx, const mlctl_pipeline *pl, const char *run_id)
{
	size_t i, k;
	int ret;

	for (i = 0; i < pl->ninputs; i++) {
		if (!pl->inputs[i].store)
			continue;
		for (k = 0; k < pl->inputs[i].nfiles; k++) {
			const char *f = pl->inputs[i].files[k];
			mlctl_data_info *info = NULL;
			char digest[65];
			bool have;

			if ((ret = mlctl_file_digest(digest, ctx->reg, f)))
				return cli_fail(ret);
			have = mlctl_data_get(&info, ctx->reg, digest) == 0 && info->stored;
			mlctl_data_info_free(info);
			if (!have && (ret = mlctl_data_store(digest, ctx->reg, f)))
				return cli_fail(ret);
			ret = mlctl_run_log_object(ctx->reg, run_id, "input", "data", digest);
			if (!have)
				mlctl_store_release(ctx->reg);
			if (ret)
				return cli_fail(ret);
			if (!have && !ctx->quiet && !ctx->json)
				printf("%-24s stored %s (%.12s)\n", pl->inputs[i].name, f, digest);
		}
	}
	return 0;
}

/* A registry named by --registry or $MLCTL_REGISTRY that is not there yet is created, so a
 * pipeline runs from a fresh clone with only that set (an unnamed one is never created). */
static int init_named_registry(cli_ctx *ctx)
{
	const char *dir = ctx->registry_dir;
	char *db;
	struct stat st;
	int ret;

	if (!dir || !*dir)
		dir = getenv("MLCTL_REGISTRY");
	if (!dir || !*dir || !(db = str2(dir, "/registry.db")))
		return 0;
	ret = stat(db, &st);
	free(db);
	if (ret == 0 || (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)))
		return 0;   /* there, or not a directory: opening it says what is wrong */
	if ((ret = mlctl_registry_init(dir)) && ret != MLCTL_EEXISTS)
		return cli_fail(ret);
	if (!ret && !ctx->quiet && !ctx->json)
		fprintf(stderr, "mlctl: created an empty registry in %s\n", dir);
	return 0;
}

static int pipeline_run(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_option opts[] = {
		{ "force", 0, NULL, "run the stages even when up to date (the STAGEs named, and what follows them)",
		  CLI_FLAG(run_args, force) },
		{ "dry-run", 'n', NULL, "say what would run and why, and run nothing", CLI_FLAG(run_args, dry_run) },
		{ "if-changed", 0, NULL, "when every stage is up to date, print \"up to date\" and exit 0 at once",
		  CLI_FLAG(run_args, if_changed) },
		{ "lock", 0, NULL, "exit 75 at once if this pipeline is running in another process",
		  CLI_FLAG(run_args, lock) },
		{ "verbose", 'v', NULL, "print each stage's command line and its own output", CLI_FLAG(run_args, verbose) },
		CLI_OPTIONS_END
	};
	run_args a = { 0 };
	kinds ks;
	mlctl_pipeline *pl = NULL;
	mlctl_pipeline_plan *plan = NULL;
	mlctl_pipeline_plan_options po = { false, NULL, 0 };
	cli_parser p;
	json_t *jobs = NULL;
	char pipeline_run_id[MLCTL_RUN_ID_SIZE] = "";
	size_t j, nrun = 0;
	bool stopped = false, have_kinds = false;
	int r, ret, status = 0, lock_fd = -1;

	cli_parser_init(&p, ctx, "mlctl pipeline run FILE [STAGE...] [--force] [--dry-run] [--if-changed] [--lock] [-v]",
			"Run the stages of a pipeline file whose inputs, options or upstream stages changed since their\n"
			"last succeeded run, in dependency order (only the STAGEs named and what they need, if any).\n"
			"A failed validation gate or monitor alert stops the stages after it: exit 1.", opts, argc, argv);
	if ((r = cli_parse(&p, &a)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos < 1) {
		status = cli_usage_error(&p, "no pipeline file given");
		goto out;
	}
	if ((status = load(&pl, &ks, p.pos[0])))
		goto out;
	have_kinds = true;
	if ((status = check_stages(pl, p.pos + 1, p.npos - 1)))
		goto out;
	if (!a.dry_run && (status = init_named_registry(ctx)))
		goto out;
	if ((ret = a.dry_run ? cli_open_registry_mode(ctx, MLCTL_REGISTRY_READWRITE_OR_READONLY) :
		   cli_open_registry(ctx))) {
		status = cli_fail(ret);
		goto out;
	}
	if (a.lock && !a.dry_run && (ret = mlctl_pipeline_lock(&lock_fd, ctx->reg, pl))) {
		status = cli_fail(ret);
		goto out;
	}
	po.force_all = a.force && p.npos == 1;
	po.force = a.force ? (const char *const *)p.pos + 1 : NULL;
	po.nforce = a.force ? (size_t)p.npos - 1 : 0;
	if ((ret = mlctl_pipeline_plan_make(&plan, ctx->reg, pl, &po)) || (ret = check_targets(ctx, pl, plan))) {
		status = cli_fail(ret);
		goto out;
	}
	for (j = 0; j < plan->njobs; j++)
		if (wanted(pl, plan, j, p.pos + 1, p.npos - 1))
			nrun += !plan->jobs[j].up_to_date && !plan->jobs[j].blocked;
	if (a.if_changed && nrun == 0) {
		const mlctl_pipeline_job *stop = NULL;

		for (j = 0; j < plan->njobs && !stop; j++)
			if (plan->jobs[j].up_to_date && plan->jobs[j].stopped)
				stop = &plan->jobs[j];
		if (ctx->json)
			status = cli_json_print(json_pack("{s:s, s:b, s:o, s:[]}", "pipeline", pl->name, "up_to_date", 1,
							  "stopped_by", cli_json_str(stop ? stop->label : NULL), "stages"));
		else if (!ctx->quiet && stop)
			printf("up to date (%s stopped the pipeline on these inputs, run %s)\n", stop->label, stop->run);
		else if (!ctx->quiet)
			printf("up to date\n");
		goto out;
	}
	jobs = json_array();
	if (a.dry_run) {
		for (j = 0; j < plan->njobs; j++) {
			mlctl_pipeline_job *job = &plan->jobs[j];

			if (!wanted(pl, plan, j, p.pos + 1, p.npos - 1))
				continue;
			if (ctx->json)
				json_array_append_new(jobs, job_json(job, job->up_to_date ? "up to date" : "would run", -1));
			else if (!ctx->quiet)
				printf("%-24s %s\n", job->label, job->up_to_date ? "up to date" : job->reason);
		}
		if (ctx->json)
			status = cli_json_print(json_pack("{s:s, s:b, s:O}", "pipeline", pl->name, "dry_run", 1, "stages", jobs));
		goto out;
	}
	/* The pipeline's own run, parent of its stages' runs: only when something runs. */
	if (nrun) {
		mlctl_run_start_options ro = MLCTL_RUN_START_OPTIONS_INIT;

		ro.kind = "pipeline";
		ro.name = pl->name;
		ro.argc = ctx->argc;
		ro.argv = ctx->argv;
		if ((ret = mlctl_run_start(pipeline_run_id, ctx->reg, &ro))) {
			status = cli_fail(ret);
			goto out;
		}
	}
	if (nrun && (status = store_inputs(ctx, pl, pipeline_run_id)))
		goto finish;
	for (j = 0; j < plan->njobs && !status; j++) {
		mlctl_pipeline_job *job = &plan->jobs[j];
		double t0;
		bool stop = false;

		if (!wanted(pl, plan, j, p.pos + 1, p.npos - 1))
			continue;
		if (stopped || job->blocked) {
			/* A stop recorded on these inputs holds until something before it changes,
			 * even for a stage named or forced: a model that failed its gate is not
			 * packaged or deployed by asking twice. */
			if (ctx->json)
				json_array_append_new(jobs, job_json(job, job->blocked ? "blocked" : "not run", -1));
			else if (!ctx->quiet && job->blocked)
				printf("%-24s blocked: %s\n", job->label, job->reason);
			else if (!ctx->quiet)
				printf("%-24s not run (stopped by an earlier stage)\n", job->label);
			stopped = true;
			continue;
		}
		if (job->up_to_date) {
			if (ctx->json)
				json_array_append_new(jobs, job_json(job, job->stopped ? "stopped" : "skipped", -1));
			else if (!ctx->quiet)
				printf("%-24s up to date%s\n", job->label,
				       job->stopped ? ", and its recorded run stopped the pipeline" : "");
			stopped = job->stopped;
			continue;
		}
		if (!ctx->quiet && !ctx->json) {
			printf("%-24s running (%s)\n", job->label, job->reason);
			fflush(stdout);
		}
		if ((ret = mlctl_registry_adopt_runs(ctx->reg, pipeline_run_id))) {
			status = cli_fail(ret);
			break;
		}
		t0 = now_seconds();
		status = run_job(ctx, pl, plan, j, a.verbose, &stop);
		mlctl_registry_adopt_runs(ctx->reg, NULL);
		t0 = now_seconds() - t0;
		if (status) {
			if (!ctx->json)
				fprintf(stderr, "mlctl: pipeline %s: stage %s failed (exit %d); the stages after it did not run\n",
					pl->name, job->label, status);
			break;
		}
		stopped = stop;
		if (ctx->json) {
			json_array_append_new(jobs, job_json(job, stop ? "stopped" : "ran", t0));
		} else if (!ctx->quiet) {
			const char *m = mlctl_pipeline_job_output(job, "model"), *v = mlctl_pipeline_job_output(job, "verdict");

			printf("%-24s %s in %.1f s%s%s%s%s\n", job->label, stop ? "STOPPED the pipeline" : "done", t0,
			       m ? "  " : "", m ? m : "", v ? "  verdict " : "", v ? v : "");
		}
	}
finish:
	if (pipeline_run_id[0]) {
		if (stopped)
			mlctl_run_set_verdict(ctx->reg, pipeline_run_id, "fail");
		else if (!status)
			mlctl_run_set_verdict(ctx->reg, pipeline_run_id, "pass");
		mlctl_run_finish(ctx->reg, pipeline_run_id, status ? "a stage failed" : NULL);
	}
	if (!status && stopped)
		status = MLCTL_EXIT_VERDICT;
	if (ctx->json && (!status || status == MLCTL_EXIT_VERDICT))
		cli_json_print(json_pack("{s:s, s:o, s:b, s:O}", "pipeline", pl->name, "run",
					 cli_json_str(pipeline_run_id[0] ? pipeline_run_id : NULL), "stopped", stopped,
					 "stages", jobs));
out:
	if (lock_fd >= 0)
		mlctl_pipeline_unlock(lock_fd);
	json_decref(jobs);
	mlctl_pipeline_plan_free(plan);
	mlctl_pipeline_free(pl);
	if (have_kinds)
		kinds_free(&ks);
	cli_parser_release(&p);
	return status;
}

static int pipeline_status(cli_ctx *ctx, int argc, char **argv)
{
	kinds ks;
	mlctl_pipeline *pl = NULL;
	mlctl_pipeline_plan *plan = NULL;
	cli_parser p;
	json_t *jobs = NULL;
	size_t j, stale = 0;
	bool have_kinds = false;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl pipeline status FILE [-q]",
			"Say which stages of a pipeline file are up to date and why the others are not (a changed input\n"
			"file, option or upstream stage). With -q, print nothing: exit 0 when every stage is up to date,\n"
			"1 when one is not.", NULL, argc, argv);
	if ((r = cli_parse(&p, NULL)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos != 1) {
		status = cli_usage_error(&p, p.npos ? "status takes one pipeline file" : "no pipeline file given");
		goto out;
	}
	if ((status = load(&pl, &ks, p.pos[0])))
		goto out;
	have_kinds = true;
	if ((ret = cli_open_registry_mode(ctx, MLCTL_REGISTRY_READWRITE_OR_READONLY)) ||
	    (ret = mlctl_pipeline_plan_make(&plan, ctx->reg, pl, NULL)) || (ret = check_targets(ctx, pl, plan))) {
		status = cli_fail(ret);
		goto out;
	}
	jobs = json_array();
	for (j = 0; j < plan->njobs; j++) {
		mlctl_pipeline_job *job = &plan->jobs[j];

		const char *state = job->up_to_date ? "up to date" : job->blocked ? "blocked" : "stale";

		stale += !job->up_to_date && !job->blocked;
		if (ctx->json)
			json_array_append_new(jobs, job_json(job, state, -1));
		else if (!ctx->quiet)
			printf("%-24s %s%s%s\n", job->label, state, job->up_to_date ? "" : ": ",
			       job->up_to_date ? (job->stopped ? " (its run stopped the pipeline)" : "") : job->reason);
	}
	if (!ctx->quiet && !ctx->json && plan->njobs == 0)
		printf("no stage has anything to run\n");
	if (ctx->json)
		cli_json_print(json_pack("{s:s, s:b, s:O}", "pipeline", pl->name, "up_to_date", stale == 0, "stages", jobs));
	/* -q is for scripts: its exit status says it all. */
	status = stale && ctx->quiet ? MLCTL_EXIT_VERDICT : 0;
out:
	json_decref(jobs);
	mlctl_pipeline_plan_free(plan);
	mlctl_pipeline_free(pl);
	if (have_kinds)
		kinds_free(&ks);
	cli_parser_release(&p);
	return status;
}

const cli_subcommand cmd_pipeline_forms[] = {
	{ "run", pipeline_run },
	{ "status", pipeline_status },
	{ NULL, NULL }
};
