/*
 * package.c — `mlctl package`, `package verify`, `keygen` as library operations
 * (floor 4). A package holds MANIFEST.yaml, model/libsvm.model, model/preprocess.yaml and
 * reference/profile.yaml; the manifest lists every other file's SHA-256 and size, and
 * nothing is used before all of them match. This file writes packages; reading and
 * checking them (for verify, deploy and scoring) is pkgread.c's, on floor 3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundle.h"
#include "error.h"
#include "hash.h"
#include "manifest.h"
#include "model.h"
#include "package_int.h"
#include "pkgfmt.h"
#include "pkgread.h"
#include "sign.h"
#include "util.h"
#include "mlctl/package.h"
#include "mlctl/store.h"
#include "banned.h"

/* Training params and metrics of the version's run, as the manifest describes the model. */
static int describe_training(manifest *m, mlctl_registry *reg, const mlctl_model_version *v)
{
	mlctl_run *run = NULL;
	size_t i;
	int ret;

	if ((ret = mlctl_run_get(&run, reg, v->run))) {
		/* An imported version may come without its run: the manifest says less. */
		mlctl_error_clear();
		return 0;
	}
	for (i = 0; i < run->nparams && !ret; i++)
		if (strncmp(run->params[i].key, "model.", 6) == 0)
			ret = manifest_add_param(m, run->params[i].key + 6, run->params[i].value);
	for (i = 0; i < run->nmetrics && !ret; i++) {
		const mlctl_metric *mt = &run->metrics[i];

		/* The last step of each key, and not the per-grid-point series. */
		if (strncmp(mt->key, "grid_", 5) == 0)
			continue;
		if (i + 1 < run->nmetrics && strcmp(run->metrics[i + 1].key, mt->key) == 0)
			continue;
		ret = manifest_add_metric(&m->model.metrics, &m->model.nmetrics, mt->key, mt->value);
	}
	for (i = 0; i < run->nobjects && !ret; i++) {
		if (strcmp(run->objects[i].role, "input") == 0 && strcmp(run->objects[i].name, "data") == 0) {
			double rows;

			ret = manifest_set_str(&m->lineage.dataset_digest, run->objects[i].digest);
			if (!ret && mlctl_run_param(run, "data"))
				ret = manifest_set_str(&m->lineage.dataset_path, mlctl_run_param(run, "data"));
			if (mlctl_run_metric(run, "rows", &rows))
				m->lineage.dataset_rows = (int64_t)rows;
		}
	}
	if (!ret)
		ret = manifest_set_str(&m->lineage.train_run, v->run);
	mlctl_run_free(run);
	return ret;
}

/* The validations recorded for the version, oldest first, with their headline metrics. */
static int describe_validations(manifest *m, mlctl_registry *reg, const mlctl_model_version *v)
{
	mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;
	mlctl_run_list *l = NULL;
	size_t i, k;
	int ret;

	f.kind = "validate";
	f.model_name = v->name;
	if ((ret = mlctl_run_list_get(&l, reg, &f)))
		return ret;
	for (i = l->n; i-- > 0 && !ret;) {
		const mlctl_run *r = l->runs[i];
		manifest_validation *mv;
		mlctl_run *full = NULL;

		if (r->model_version != v->version || r->status != MLCTL_RUN_SUCCEEDED || !r->verdict)
			continue;
		if ((ret = manifest_add_validation(m, r->id, r->verdict, &mv)) || (ret = mlctl_run_get(&full, reg, r->id)))
			break;
		for (k = 0; k < full->nmetrics && !ret; k++)
			if (!strchr(full->metrics[k].key, '['))
				ret = manifest_add_metric(&mv->metrics, &mv->nmetrics, full->metrics[k].key, full->metrics[k].value);
		mlctl_run_free(full);
	}
	mlctl_run_list_free(l);
	return ret;
}

static int describe_model(manifest *m, const mlctl_bundle *b, const mlctl_model_version *v)
{
	int labels[1024], nr = svm_get_nr_class(b->model), c, ret;
	char created[32];

	mlctl_fmt_time(created, v->created_ms);
	if ((ret = manifest_set_str(&m->name, v->name)) || (ret = manifest_set_str(&m->created, created)) ||
	    (ret = manifest_set_str(&m->mlctl_version, MLCTL_VERSION)) ||
	    (ret = manifest_set_str(&m->model.type, model_type_name(svm_get_svm_type(b->model)))) ||
	    (ret = manifest_set_str(&m->model.kernel, model_kernel_name(b->model->param.kernel_type))))
		return ret;
	m->version = v->version;
	m->model.nr_class = nr;
	if (schema_label_name(b->schema) && (ret = manifest_set_str(&m->model.label, schema_label_name(b->schema))))
		return ret;
	if (!model_is_classifier(svm_get_svm_type(b->model)) || nr > 1024)
		return 0;
	svm_get_labels(b->model, labels);
	for (c = 0; c < nr && !ret; c++) {
		const char *name = schema_class_for_value(b->schema, labels[c]);
		char buf[32];

		ret = manifest_add_class(m, name ? name : mlctl_fmt_double(buf, labels[c]));
	}
	return ret;
}

/* Build the entries of a version's package (manifest last, once the files are known). */
int package_build(pkg_entry **out, size_t *n, char **name_out, mlctl_registry *reg, const mlctl_model_version *v)
{
	const char *digests[3] = { v->model_digest, v->preprocess_digest, v->profile_digest };
	pkg_entry *e = NULL;
	mlctl_bundle *b = NULL;
	manifest *m = NULL;
	size_t i, k = 0;
	int ret;

	*out = NULL;
	*n = 0;
	if (!(e = mlctl_calloc(4, sizeof(*e))) || !(m = manifest_new())) {
		ret = MLCTL_ENOMEM;
		goto fail;
	}
	if ((ret = bundle_from_version(&b, reg, v)))
		goto fail;
	for (i = 0; i < 3; i++) {
		char digest[MLCTL_DIGEST_HEX];

		if (!digests[i][0])
			continue;
		e[k].name = mlctl_strdup(package_entries[i + 1]);
		if (!e[k].name) {
			ret = MLCTL_ENOMEM;
			goto fail;
		}
		if ((ret = mlctl_store_get((char **)&e[k].data, &e[k].len, reg, digests[i])))
			goto fail;
		hash_buf_hex(digest, e[k].data, e[k].len);
		if ((ret = manifest_add_file(m, e[k].name, digest, e[k].len)))
			goto fail;
		k++;
	}
	if ((ret = describe_model(m, b, v)) || (ret = describe_training(m, reg, v)) ||
	    (ret = describe_validations(m, reg, v)))
		goto fail;
	e[k].name = mlctl_strdup("MANIFEST.yaml");
	if (!e[k].name) {
		ret = MLCTL_ENOMEM;
		goto fail;
	}
	if ((ret = manifest_write((char **)&e[k].data, &e[k].len, m)))
		goto fail;
	k++;
	if (name_out && !(*name_out = mlctl_asprintf("%s-%d.mlpkg", v->name, v->version))) {
		ret = MLCTL_ENOMEM;
		goto fail;
	}
	manifest_free(m);
	bundle_free(b);
	*out = e;
	*n = k;
	return 0;
fail:
	package_entries_free(e, k + 1);
	manifest_free(m);
	bundle_free(b);
	return ret;
}

void package_entries_free(pkg_entry *e, size_t n)
{
	size_t i;

	for (i = 0; e && i < n; i++) {
		free(e[i].name);
		free(e[i].data);
	}
	free(e);
}

/* Entry times: $SOURCE_DATE_EPOCH when set (reproducible-builds.org), else the version's
 * creation time, so that the bytes never depend on when the package is made. */
int64_t package_mtime(const mlctl_model_version *v)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	int64_t t;

	if (sde && mlctl_parse_int64(sde, 0, INT64_MAX / 1000, &t))
		return t;
	return v->created_ms / 1000;
}

int mlctl_package(mlctl_package_result **out, mlctl_registry *reg, const mlctl_package_options *o)
{
	mlctl_run_start_options ro = MLCTL_RUN_START_OPTIONS_INIT;
	mlctl_model_version *v = NULL;
	mlctl_package_result *res;
	pkg_entry *e = NULL;
	char *defname = NULL, *comment = NULL;
	struct stat st;
	size_t n = 0;
	int ret;

	*out = NULL;
	if (!(res = mlctl_calloc(1, sizeof(*res))))
		return MLCTL_ENOMEM;
	if ((ret = mlctl_model_resolve(&v, reg, o->model)))
		goto out;
	if ((ret = package_build(&e, &n, &defname, reg, v)))
		goto out;
	res->path = mlctl_strdup(o->output ? o->output : defname);
	res->model = mlctl_asprintf("%s:%d", v->name, v->version);
	if (!res->path || !res->model) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	ro.kind = "package";
	ro.name = v->name;
	ro.argc = o->argc;
	ro.argv = o->argv;
	if ((ret = mlctl_run_start(res->run, reg, &ro)))
		goto out;
	if ((ret = pkg_write(res->path, e, n, package_mtime(v))) ||
	    (ret = mlctl_store_put_file(res->digest, reg, res->path, "application/x-mlpkg")))
		goto fail_run;
	/* The store hashed the file already; only its size is left to read. */
	if (stat(res->path, &st) != 0) {
		ret = mlctl_error_errno(MLCTL_EIO, "cannot stat %s", res->path);
		goto fail_run;
	}
	res->size = (uint64_t)st.st_size;
	if (o->sign_key) {
		res->signature = mlctl_asprintf("%s.minisig", res->path);
		comment = mlctl_asprintf("mlctl package %s:%d sha256:%s", v->name, v->version, res->digest);
		if (!res->signature || !comment) {
			ret = MLCTL_ENOMEM;
			goto fail_run;
		}
		if ((ret = sign_file(o->sign_key, res->path, res->signature, comment)))
			goto fail_run;
	}
	if ((ret = mlctl_run_set_model(reg, res->run, v->name, v->version)) ||
	    (ret = mlctl_run_log_object(reg, res->run, "output", "package", res->digest)) ||
	    (ret = mlctl_run_log_param(reg, res->run, "path", res->path)) ||
	    (ret = mlctl_run_log_param(reg, res->run, "signed", o->sign_key ? "yes" : "no")) ||
	    (ret = mlctl_run_finish(reg, res->run, NULL)))
		goto out;
	*out = res;
	res = NULL;
	goto out;
fail_run:
	mlctl_run_fail(reg, res->run, ret);
out:
	package_entries_free(e, n);
	mlctl_model_version_free(v);
	mlctl_package_result_free(res);
	free(defname);
	free(comment);
	return ret;
}

void mlctl_package_result_free(mlctl_package_result *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->signature);
	free(r->model);
	free(r);
}

int mlctl_package_verify(mlctl_package_info **out, const char *path, const char *pubkey, const char *sig)
{
	mlctl_package_info *info;
	package_file *f = NULL;
	const pkg_contents *c;
	const pkg_entry *me;
	size_t i;
	int ret;

	*out = NULL;
	if (!(info = mlctl_calloc(1, sizeof(*info))))
		return MLCTL_ENOMEM;
	if (!(info->path = mlctl_strdup(path))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	/* One read: the digest, the signature and the contents are all of the same bytes. */
	if ((ret = package_file_load(&f, path, pubkey, sig)))
		goto out;
	c = f->contents;
	memcpy(info->digest, f->digest, sizeof(info->digest));
	info->signature_checked = f->signature_checked;
	info->trusted_comment = f->trusted_comment;
	f->trusted_comment = NULL;
	info->name = mlctl_strdup(f->manifest->name);
	info->version = (int)f->manifest->version;
	info->files = mlctl_calloc(c->n, sizeof(*info->files));
	if (!info->name || !info->files) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	for (i = 0; i < c->n; i++) {
		if (!(info->files[i] = mlctl_strdup(c->entries[i].name))) {
			ret = MLCTL_ENOMEM;
			goto out;
		}
		info->nfiles++;
	}
	me = pkg_find(c, "MANIFEST.yaml");
	if (!(info->manifest = mlctl_calloc(me->len + 1, 1))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	memcpy(info->manifest, me->data, me->len);
	*out = info;
	info = NULL;
out:
	package_file_free(f);
	mlctl_package_info_free(info);
	return ret;
}

void mlctl_package_info_free(mlctl_package_info *i)
{
	size_t k;

	if (!i)
		return;
	for (k = 0; k < i->nfiles; k++)
		free(i->files[k]);
	free(i->files);
	free(i->path);
	free(i->name);
	free(i->manifest);
	free(i->trusted_comment);
	free(i);
}

int mlctl_keygen(const char *pubkey_path, const char *seckey_path)
{
	return sign_keygen(pubkey_path, seckey_path);
}
