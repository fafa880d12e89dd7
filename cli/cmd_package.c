/*
 * cmd_package.c — `mlctl package MODEL [-o FILE] [--sign KEY]`, `mlctl package verify FILE
 * [--pubkey KEY]`, `mlctl package inspect FILE`, and `mlctl keygen`.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

const cli_option cli_package_options[] = {
	{ "output", 'o', "FILE", "where to write the package (default: NAME-VERSION.mlpkg)",
	  CLI_STRING(mlctl_package_options, output) },
	{ "sign", 0, "SECRETKEY", "sign it with this key (writes FILE.minisig, minisign's format)",
	  CLI_STRING(mlctl_package_options, sign_key) },
	CLI_OPTIONS_END
};

static int package_build_cmd(cli_ctx *ctx, int argc, char **argv)
{
	mlctl_package_options o = { 0 };
	mlctl_package_result *res = NULL;
	cli_parser p;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl package MODEL [-o FILE] [--sign SECRETKEY]",
			"Write a model version as a deterministic, signed-if-asked .mlpkg (a gzip tar).", cli_package_options, argc, argv);
	if ((r = cli_parse(&p, &o)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos != 1) {
		status = cli_usage_error(&p, "package takes one model reference");
		goto out;
	}
	if ((ret = cli_open_registry(ctx))) {
		status = cli_fail(ret);
		goto out;
	}
	o.model = p.pos[0];
	o.argc = ctx->argc;
	o.argv = ctx->argv;
	if ((ret = mlctl_package(&res, ctx->reg, &o))) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json)
		status = cli_json_print(json_pack("{s:s, s:s, s:s, s:I, s:o, s:s}", "path", res->path, "model", res->model,
						  "sha256", res->digest, "size", (json_int_t)res->size,
						  "signature", cli_json_str(res->signature), "run", res->run));
	else if (!ctx->quiet)
		printf("Packaged %s as %s (%s, sha256 %s)%s%s\n", res->model, res->path, cli_fmt_bytes(res->size), res->digest,
		       res->signature ? ", signed: " : "", res->signature ? res->signature : "");
out:
	mlctl_package_result_free(res);
	cli_parser_release(&p);
	return status;
}

typedef struct verify_args {
	const char *pubkey, *sig;
} verify_args;

static int verify_or_inspect(cli_ctx *ctx, int argc, char **argv, bool inspect)
{
	static const cli_option vopts[] = {
		{ "pubkey", 'p', "KEY", "check the signature with this public key", CLI_STRING(verify_args, pubkey) },
		{ "signature", 'x', "SIGFILE", "the signature file (default: FILE.minisig)", CLI_STRING(verify_args, sig) },
		CLI_OPTIONS_END
	};
	mlctl_package_info *info = NULL;
	verify_args a = { NULL, NULL };
	cli_parser p;
	size_t i;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, inspect ? "mlctl package inspect FILE" : "mlctl package verify FILE [--pubkey KEY] [--signature SIGFILE]",
			inspect ? "Print a package's manifest." :
			"Check a package: archive safety, every file against the manifest, and with --pubkey its signature.\n"
			"Exit 0: good; 1: a file or the signature does not match; 65: not a package.",
			inspect ? NULL : vopts, argc, argv);
	if ((r = cli_parse(&p, &a)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos != 1) {
		status = cli_usage_error(&p, "expected one package file");
		goto out;
	}
	if ((ret = mlctl_package_verify(&info, p.pos[0], a.pubkey, a.sig))) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json) {
		json_t *files = json_array();

		for (i = 0; i < info->nfiles; i++)
			json_array_append_new(files, json_string(info->files[i]));
		status = cli_json_print(json_pack("{s:s, s:s, s:s, s:i, s:b, s:o, s:o, s:s}", "path", info->path,
						  "sha256", info->digest, "name", info->name, "version", info->version,
						  "signature_checked", info->signature_checked,
						  "trusted_comment", cli_json_str(info->trusted_comment), "files", files,
						  "manifest", info->manifest));
	} else if (inspect) {
		fputs(info->manifest, stdout);
	} else if (!ctx->quiet) {
		printf("%s: OK: %s:%d, %zu files match the manifest%s\n", info->path, info->name, info->version,
		       info->nfiles, info->signature_checked ? "; signature good" : "; signature not checked (no --pubkey)");
		if (info->trusted_comment)
			printf("  trusted comment: %s\n", info->trusted_comment);
	}
out:
	mlctl_package_info_free(info);
	cli_parser_release(&p);
	return status;
}

static int package_verify(cli_ctx *ctx, int argc, char **argv)
{
	return verify_or_inspect(ctx, argc, argv, false);
}

static int package_inspect(cli_ctx *ctx, int argc, char **argv)
{
	return verify_or_inspect(ctx, argc, argv, true);
}

/* `mlctl package MODEL` is the command's own form: a model named like a subcommand comes
 * after an option or `--` (`mlctl package -- verify`). */
const cli_subcommand cmd_package_forms[] = {
	{ NULL, package_build_cmd },
	{ "verify", package_verify },
	{ "inspect", package_inspect },
	{ NULL, NULL }
};

typedef struct keygen_args {
	const char *pub, *sec;
} keygen_args;

int cmd_keygen(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_option opts[] = {
		{ "pubkey", 'p', "FILE", "public key file (default: mlctl.pub)", CLI_STRING(keygen_args, pub) },
		{ "seckey", 's', "FILE", "secret key file, mode 0600 (default: mlctl.key)", CLI_STRING(keygen_args, sec) },
		CLI_OPTIONS_END
	};
	keygen_args a = { "mlctl.pub", "mlctl.key" };
	const char *pub, *sec;
	cli_parser p;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl keygen [-p PUBKEY] [-s SECKEY]",
			"Create an Ed25519 key pair in minisign's formats for signing packages.", opts, argc, argv);
	if ((r = cli_parse(&p, &a)) != CLI_OK) {
		status = cli_parse_exit(r);
		goto out;
	}
	pub = a.pub;
	sec = a.sec;
	if (p.npos) {
		status = cli_usage_error(&p, "keygen takes no arguments");
		goto out;
	}
	if ((ret = mlctl_keygen(pub, sec))) {
		status = cli_fail(ret);
		goto out;
	}
	if (ctx->json)
		status = cli_json_print(json_pack("{s:s, s:s}", "pubkey", pub, "seckey", sec));
	else if (!ctx->quiet)
		printf("Wrote public key %s and secret key %s (keep it secret: mode 0600, unencrypted)\n", pub, sec);
out:
	cli_parser_release(&p);
	return status;
}
