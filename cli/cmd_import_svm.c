/*
 * cmd_import_svm.c — `mlctl import-svm MODELFILE --name NAME`: bring a model made by
 * svm-train into the registry.
 */
#include "cli.h"
#include "banned.h"

typedef struct import_args {
	const char *name;
} import_args;

static const cli_option opts[] = {
	{ "name", 0, "NAME", "register it as the next version of model NAME (required)", CLI_STRING(import_args, name) },
	CLI_OPTIONS_END
};

int cmd_import_svm(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_train_result *res = NULL;
	import_args a = { NULL };
	cli_parser p;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl import-svm MODELFILE --name NAME",
			"Register a model file written by svm-train as the next version of NAME. Its features are\n"
			"libsvm indices used as they are (no scaling); its classes are the model's labels.",
			opts, argc, argv);
	if ((r = cli_parse(&p, &a)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos != 1 || !a.name) {
		status = cli_usage_error(&p, "import-svm takes one model file and --name NAME");
		goto out;
	}
	if ((ret = mlctl_import_svm(&res, ctx->reg, p.pos[0], a.name, ctx->argc, ctx->argv))) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json)
		status = cli_json_print(json_pack("{s:s, s:s, s:i, s:s, s:s, s:i, s:i, s:I, s:s}", "run", res->run,
						  "name", res->name, "version", res->version, "type", res->svm_type,
						  "kernel", res->kernel, "n_sv", res->nsv, "features", res->features,
						  "classes", (json_int_t)res->nclasses, "model_digest", res->model_digest));
	else if (!ctx->quiet)
		printf("Imported %s as %s version %d (%s, %s kernel, %d support vectors, %d features; run %s)\n",
		       p.pos[0], res->name, res->version, res->svm_type, res->kernel, res->nsv, res->features, res->run);
out:
	mlctl_train_result_free(res);
	cli_parser_release(&p);
	return status;
}
