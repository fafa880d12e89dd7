/*
 * cmd_package.c — `mlctl package MODEL [-o FILE] [--sign KEY]`, `mlctl package verify FILE
 * [--pubkey KEY]`, `mlctl package inspect FILE`, and `mlctl keygen`.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

static int package_build_cmd(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_option opts[] = {
		{ "output", 'o', "FILE", "where to write the package (default: NAME-VERSION.mlpkg)" },
		{ "sign", 0, "SECRETKEY", "sign it with this key (writes FILE.minisig, minisign's format)" },
		{ NULL, 0, NULL, NULL }
	};
	mlctl_package_options o = { 0 };
	mlctl_package_result *res = NULL;
	const char *v;
	cli_parser p;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl package MODEL [-o FILE] [--sign SECRETKEY]",
			"Write a model version as a deterministic, signed-if-asked .mlpkg (a gzip tar).", opts, argc, argv);
	while ((r = cli_next(&p, &v)) >= 0) {
		if (r == 0)
			o.output = v;
		else
			o.sign_key = v;
	}
	if (r != CLI_END) {
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

static int verify_or_inspect(cli_ctx *ctx, int argc, char **argv, bool inspect)
{
	static const cli_option vopts[] = {
		{ "pubkey", 'p', "KEY", "check the signature with this public key" },
		{ "signature", 'x', "SIGFILE", "the signature file (default: FILE.minisig)" },
		{ NULL, 0, NULL, NULL }
	};
	mlctl_package_info *info = NULL;
	const char *v, *pubkey = NULL, *sig = NULL;
	cli_parser p;
	size_t i;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, inspect ? "mlctl package inspect FILE" : "mlctl package verify FILE [--pubkey KEY] [--signature SIGFILE]",
			inspect ? "Print a package's manifest." :
			"Check a package: archive safety, every file against the manifest, and with --pubkey its signature.\n"
			"Exit 0: good; 1: a file or the signature does not match; 65: not a package.",
			inspect ? vopts + 2 : vopts, argc, argv);
	while ((r = cli_next(&p, &v)) >= 0) {
		if (r == 0)
			pubkey = v;
		else
			sig = v;
	}
	if (r != CLI_END) {
		status = cli_parse_exit(r);
		goto out;
	}
	if (p.npos != 1) {
		status = cli_usage_error(&p, "expected one package file");
		goto out;
	}
	if ((ret = mlctl_package_verify(&info, p.pos[0], pubkey, sig))) {
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

int cmd_package(cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return verify_or_inspect(ctx, argc - 1, argv + 1, false);
	if (argc >= 2 && strcmp(argv[1], "inspect") == 0)
		return verify_or_inspect(ctx, argc - 1, argv + 1, true);
	return package_build_cmd(ctx, argc, argv);
}

int cmd_keygen(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_option opts[] = {
		{ "pubkey", 'p', "FILE", "public key file (default: mlctl.pub)" },
		{ "seckey", 's', "FILE", "secret key file, mode 0600 (default: mlctl.key)" },
		{ NULL, 0, NULL, NULL }
	};
	const char *v, *pub = "mlctl.pub", *sec = "mlctl.key";
	cli_parser p;
	int r, ret, status = 0;

	cli_parser_init(&p, ctx, "mlctl keygen [-p PUBKEY] [-s SECKEY]",
			"Create an Ed25519 key pair in minisign's formats for signing packages.", opts, argc, argv);
	while ((r = cli_next(&p, &v)) >= 0) {
		if (r == 0)
			pub = v;
		else
			sec = v;
	}
	if (r != CLI_END) {
		status = cli_parse_exit(r);
		goto out;
	}
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
