/*
 * import.c — `mlctl import-svm`: register a model file made by svm-train (floor 4).
 *
 * Such a model knows nothing of columns or scaling: its features are libsvm indices used
 * as they are. The schema that travels with it is the identity: libsvm input, inputs
 * "1".."N" mapped to indices 1..N, no scaling, the classes the model's labels. It is
 * learned by fitting the schema on a small synthetic libsvm table of that shape, so that
 * the schema module stays the only place that writes preprocess.yaml.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "error.h"
#include "fsutil.h"
#include "model.h"
#include "schema.h"
#include "util.h"
#include "mlctl/store.h"
#include "mlctl/train.h"
#include "banned.h"

/* A libsvm-shaped table: "label", "1".."nfeat"; one row per class (two at least), every
 * feature 0. Strings live in *strings (freed by the caller after ds_table_free). */
static int identity_table(ds_table **out, char ***strings, size_t *nstrings, const struct svm_model *m, int nfeat)
{
	int nr = svm_get_nr_class(m), labels[4096], type = svm_get_svm_type(m);
	size_t rows = model_is_classifier(type) ? (size_t)(nr > 2 ? nr : 2) : 2, ncols = (size_t)nfeat + 1, r, c;
	ds_table *t = mlctl_calloc(1, sizeof(*t));
	char **s = mlctl_calloc(ncols + rows + 1, sizeof(*s));
	size_t ns = 0;

	*out = NULL;
	*strings = s;
	*nstrings = 0;
	if (!t || !s || nr > 4096)
		goto oom;
	t->path = mlctl_strdup("svm-train model");
	t->format = DS_FORMAT_LIBSVM;
	t->nrows = rows;
	t->ncols = ncols;
	t->colnames = mlctl_calloc(ncols, sizeof(*t->colnames));
	t->cells = mlctl_calloc(rows * ncols, sizeof(*t->cells));
	t->lines = mlctl_calloc(rows, sizeof(*t->lines));
	if (!t->path || !t->colnames || !t->cells || !t->lines)
		goto oom;
	if (!(s[ns++] = mlctl_strdup("label")) || !(s[ns++] = mlctl_strdup("0")))
		goto oom;
	t->colnames[0] = s[0];
	for (c = 1; c < ncols; c++) {
		if (!(s[ns] = mlctl_asprintf("%zu", c)))
			goto oom;
		t->colnames[c] = s[ns++];
	}
	if (model_is_classifier(type))
		svm_get_labels(m, labels);
	for (r = 0; r < rows; r++) {
		char *label;

		if (model_is_classifier(type))
			label = mlctl_asprintf("%d", labels[r < (size_t)nr ? r : 0]);
		else
			label = mlctl_asprintf("%zu", r);
		if (!label)
			goto oom;
		s[ns++] = label;
		t->lines[r] = r + 1;
		ds_cell(t, r, 0) = label;
		for (c = 1; c < ncols; c++)
			ds_cell(t, r, c) = s[1];
	}
	*nstrings = ns;
	*out = t;
	return 0;
oom:
	*nstrings = ns;
	ds_table_free(t);
	return mlctl_error_oom();
}

static int identity_schema(mlctl_schema **out, const struct svm_model *m)
{
	schema_options so = SCHEMA_OPTIONS_INIT;
	int type = svm_get_svm_type(m), nfeat = model_max_index(m);
	ds_table *t = NULL;
	char **strings = NULL;
	size_t ns = 0, i;
	int ret;

	so.scale = SCHEMA_SCALE_NONE;
	so.task = model_is_classifier(type) ? SCHEMA_TASK_CLASSIFY :
		  type == ONE_CLASS ? SCHEMA_TASK_ONECLASS : SCHEMA_TASK_REGRESS;
	if (nfeat < 1)
		nfeat = 1;
	if ((ret = identity_table(&t, &strings, &ns, m, nfeat)) == 0)
		ret = schema_fit(out, t, &so);
	ds_table_free(t);
	for (i = 0; i < ns; i++)
		free(strings[i]);
	free(strings);
	return ret;
}

static int import_model(mlctl_train_result *res, mlctl_registry *reg, const char *file, const char *name)
{
	mlctl_model_version spec = { 0 };
	struct svm_model *m = NULL;
	mlctl_schema *schema = NULL;
	char *text = NULL, *pre = NULL, *canon = NULL;
	size_t len, plen, clen;
	int ret;

	if ((ret = fs_read_file(&text, &len, file, (size_t)1 << 30)) || (ret = model_load(&m, text, len, file)))
		goto out;
	if (svm_get_nr_class(m) == 1 && model_is_classifier(svm_get_svm_type(m))) {
		ret = mlctl_error_set(MLCTL_EDATA, "%s: a classifier with one class cannot be used", file);
		goto out;
	}
	if ((ret = identity_schema(&schema, m)) || (ret = schema_save(&pre, &plen, schema)))
		goto out;
	/* Store the model as mlctl saves it, so that packages and digests are canonical. */
	if ((ret = model_save(&canon, &clen, m)))
		goto out;
	if ((ret = mlctl_store_put(spec.model_digest, reg, canon, clen, "application/x-libsvm-model")) ||
	    (ret = mlctl_store_put(spec.preprocess_digest, reg, pre, plen, "application/yaml")) ||
	    (ret = mlctl_run_log_object(reg, res->run, "output", "model", spec.model_digest)) ||
	    (ret = mlctl_run_log_object(reg, res->run, "output", "preprocess", spec.preprocess_digest)) ||
	    (ret = mlctl_run_log_param(reg, res->run, "file", file)))
		goto out;
	spec.name = (char *)name;
	snprintf(spec.run, sizeof(spec.run), "%s", res->run);
	spec.svm_type = (char *)model_type_name(svm_get_svm_type(m));
	spec.kernel = (char *)model_kernel_name(m->param.kernel_type);
	if ((ret = mlctl_model_register(&res->version, reg, &spec)))
		goto out;
	res->svm_type = mlctl_strdup(spec.svm_type);
	res->kernel = mlctl_strdup(spec.kernel);
	res->nsv = model_nsv(m);
	res->features = schema_nfeatures(schema);
	res->nclasses = schema_nclasses(schema);
	snprintf(res->model_digest, sizeof(res->model_digest), "%s", spec.model_digest);
out:
	if (m)
		model_free(m);
	schema_free(schema);
	free(text);
	free(pre);
	free(canon);
	return ret;
}

int mlctl_import_svm(mlctl_train_result **out, mlctl_registry *reg, const char *model_file, const char *name,
		     int argc, char *const *argv)
{
	mlctl_run_start_options ro = MLCTL_RUN_START_OPTIONS_INIT;
	mlctl_train_result *res;
	int ret;

	*out = NULL;
	if (!mlctl_name_valid(name))
		return mlctl_error_set(MLCTL_EUSAGE, "invalid model name \"%s\"", name);
	if (!(res = mlctl_calloc(1, sizeof(*res))) || !(res->name = mlctl_strdup(name))) {
		mlctl_train_result_free(res);
		return MLCTL_ENOMEM;
	}
	ro.kind = "import";
	ro.name = name;
	ro.argc = argc;
	ro.argv = argv;
	if ((ret = mlctl_run_start(res->run, reg, &ro))) {
		mlctl_train_result_free(res);
		return ret;
	}
	ret = import_model(res, reg, model_file, name);
	if (ret) {
		mlctl_run_fail(reg, res->run, ret);
		mlctl_train_result_free(res);
		return ret;
	}
	if ((ret = mlctl_run_finish(reg, res->run, NULL))) {
		mlctl_train_result_free(res);
		return ret;
	}
	*out = res;
	return 0;
}
