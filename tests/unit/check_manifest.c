/*
 * check_manifest.c — MANIFEST.yaml: round trip, determinism, what PyYAML reads from our
 * output, and strict errors with origin:line:column and the field.
 */
#include <math.h>

#include "check_util.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "manifest.h"

static const char *SHA_A = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
static const char *SHA_B = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

static manifest *sample(void)
{
	manifest *m = manifest_new();
	manifest_validation *v;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(manifest_set_str(&m->name, "iris"), 0);
	m->version = 3;
	ck_assert_int_eq(manifest_set_str(&m->created, "2026-11-27T02:51:52.123Z"), 0);
	ck_assert_int_eq(manifest_set_str(&m->mlctl_version, "0.1.0"), 0);
	ck_assert_int_eq(manifest_set_str(&m->model.type, "c_svc"), 0);
	ck_assert_int_eq(manifest_set_str(&m->model.kernel, "rbf"), 0);
	m->model.nr_class = 3;
	ck_assert_int_eq(manifest_add_class(m, "Iris-setosa"), 0);
	ck_assert_int_eq(manifest_add_class(m, "yes"), 0);          /* must stay a string */
	ck_assert_int_eq(manifest_add_class(m, "3"), 0);            /* likewise */
	ck_assert_int_eq(manifest_set_str(&m->model.label, "species"), 0);
	ck_assert_int_eq(manifest_add_param(m, "gamma", "0.25"), 0);
	ck_assert_int_eq(manifest_add_param(m, "C", "8"), 0);
	ck_assert_int_eq(manifest_add_param(m, "note", "a: tricky # value\nwith a newline"), 0);
	ck_assert_int_eq(manifest_add_metric(&m->model.metrics, &m->model.nmetrics, "accuracy", 0.9733333333333334), 0);
	ck_assert_int_eq(manifest_add_metric(&m->model.metrics, &m->model.nmetrics, "f1", 1.0 / 3.0), 0);
	ck_assert_int_eq(manifest_add_metric(&m->model.metrics, &m->model.nmetrics, "loss", INFINITY), 0);
	ck_assert_int_eq(manifest_add_validation(m, "01JDV8Q", "pass", &v), 0);
	ck_assert_int_eq(manifest_add_metric(&v->metrics, &v->nmetrics, "accuracy", 0.96), 0);
	ck_assert_int_eq(manifest_add_validation(m, "01JDV9Z", "fail", NULL), 0);
	ck_assert_int_eq(manifest_set_str(&m->lineage.train_run, "01JDV7A"), 0);
	ck_assert_int_eq(manifest_set_str(&m->lineage.dataset_digest, SHA_B), 0);
	ck_assert_int_eq(manifest_set_str(&m->lineage.dataset_path, "examples/data/iris.csv"), 0);
	m->lineage.dataset_rows = 150;
	m->lineage.dataset_columns = 5;
	ck_assert_int_eq(manifest_add_file(m, "reference/profile.yaml", SHA_B, 10), 0);
	ck_assert_int_eq(manifest_add_file(m, "model/libsvm.model", SHA_A, 12345), 0);
	return m;
}

static void assert_same(const manifest *a, const manifest *b)
{
	size_t i;

	ck_assert_int_eq(a->format, b->format);
	ck_assert_str_eq(a->name, b->name);
	ck_assert_int_eq(a->version, b->version);
	ck_assert_str_eq(a->created, b->created);
	ck_assert_str_eq(a->mlctl_version, b->mlctl_version);
	ck_assert_str_eq(a->model.type, b->model.type);
	ck_assert_str_eq(a->model.kernel, b->model.kernel);
	ck_assert_int_eq(a->model.nr_class, b->model.nr_class);
	ck_assert_uint_eq(a->model.nclasses, b->model.nclasses);
	for (i = 0; i < a->model.nclasses; i++)
		ck_assert_str_eq(a->model.classes[i], b->model.classes[i]);
	ck_assert_str_eq(a->model.label, b->model.label);
	ck_assert_uint_eq(a->model.nparams, b->model.nparams);
	for (i = 0; i < a->model.nparams; i++)
		ck_assert_str_eq(manifest_param(b, a->model.params[i].key), a->model.params[i].value);
	ck_assert_uint_eq(a->model.nmetrics, b->model.nmetrics);
	for (i = 0; i < a->model.nmetrics; i++) {
		const manifest_metric *mb = manifest_metric_find(b->model.metrics, b->model.nmetrics,
								 a->model.metrics[i].key);

		ck_assert_ptr_nonnull(mb);
		ck_assert(mb->value == a->model.metrics[i].value); /* bit-exact through %.17g */
	}
	ck_assert_uint_eq(a->nvalidations, b->nvalidations);
	for (i = 0; i < a->nvalidations; i++) {
		ck_assert_str_eq(a->validations[i].run, b->validations[i].run);
		ck_assert_str_eq(a->validations[i].verdict, b->validations[i].verdict);
		ck_assert_uint_eq(a->validations[i].nmetrics, b->validations[i].nmetrics);
	}
	ck_assert_str_eq(a->lineage.train_run, b->lineage.train_run);
	ck_assert_str_eq(a->lineage.dataset_digest, b->lineage.dataset_digest);
	ck_assert_str_eq(a->lineage.dataset_path, b->lineage.dataset_path);
	ck_assert_int_eq(a->lineage.dataset_rows, b->lineage.dataset_rows);
	ck_assert_int_eq(a->lineage.dataset_columns, b->lineage.dataset_columns);
	ck_assert_uint_eq(a->nfiles, b->nfiles);
	for (i = 0; i < a->nfiles; i++) {
		const manifest_file *fb = manifest_find_file(b, a->files[i].path);

		ck_assert_ptr_nonnull(fb);
		ck_assert_str_eq(fb->sha256, a->files[i].sha256);
		ck_assert_uint_eq(fb->size, a->files[i].size);
	}
}

START_TEST(test_manifest_roundtrip)
{
	manifest *m = sample(), *back = NULL, *again = NULL;
	char *y1 = NULL, *y2 = NULL;
	size_t l1, l2;

	ck_assert_int_eq(manifest_write(&y1, &l1, m), 0);
	ck_assert_int_eq(manifest_parse(&back, y1, l1, "MANIFEST.yaml"), 0);
	assert_same(m, back);
	/* writing what was read gives the same bytes: the order is fixed, not insertion order */
	ck_assert_int_eq(manifest_write(&y2, &l2, back), 0);
	ck_assert_uint_eq(l1, l2);
	ck_assert_mem_eq(y1, y2, l1);
	ck_assert_int_eq(manifest_parse(&again, y2, l2, NULL), 0);
	assert_same(back, again);
	/* files and params come out sorted */
	ck_assert(strstr(y1, "model/libsvm.model") < strstr(y1, "reference/profile.yaml"));
	ck_assert(strstr(y1, "    C: ") && strstr(y1, "    C: ") < strstr(y1, "    gamma: "));
	ck_assert_ptr_eq(strstr(y1, "format: 1\nname: iris\nversion: 3\n"), y1);
	free(y1);
	free(y2);
	manifest_free(m);
	manifest_free(back);
	manifest_free(again);
}
END_TEST

START_TEST(test_manifest_pyyaml_reads_it)
{
	manifest *m = sample();
	char *y = NULL;
	size_t len;
	char cmd[1024];

	ck_assert_int_eq(manifest_write(&y, &len, m), 0);
	ck_assert_int_eq(fs_write_atomic(tmp_path("MANIFEST.yaml"), y, len, 0644), 0);
	/* YAML 1.1 typing by another reader: numbers are numbers, strings stay strings */
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c \"import yaml,sys,math; d=yaml.safe_load(open(sys.argv[1])); "
		 "assert d['format']==1 and d['version']==3 and d['mlctl_version']=='0.1.0'; "
		 "assert d['created']=='2026-11-27T02:51:52.123Z'; "
		 "assert d['model']['classes']==['Iris-setosa','yes','3'], d['model']['classes']; "
		 "assert d['model']['params']=={'C':'8','gamma':'0.25','note':'a: tricky # value\\nwith a newline'}; "
		 "assert d['model']['metrics']['accuracy']==0.9733333333333334 and d['model']['metrics']['f1']==1/3; "
		 "assert math.isinf(d['model']['metrics']['loss']); "
		 "assert d['validations'][1]=={'run':'01JDV9Z','verdict':'fail','metrics':{}}; "
		 "assert d['files'][0]=={'path':'model/libsvm.model','sha256':'%s','size':12345}; "
		 "assert d['lineage']['dataset']['rows']==150\" %s",
		 SHA_A, tmp_path("MANIFEST.yaml"));
	ck_assert_int_eq(system(cmd), 0);
	free(y);
	manifest_free(m);
}
END_TEST

START_TEST(test_manifest_write_requires_fields)
{
	manifest *m = manifest_new();
	char *y = NULL;
	size_t len;

	ck_assert_int_eq(manifest_write(&y, &len, m), MLCTL_EUSAGE);
	ck_assert_int_eq(manifest_add_file(m, "x", "nothex", 1), MLCTL_EUSAGE);
	manifest_free(m);
}
END_TEST

static void expect_parse_error(const char *yaml, const char *w1, const char *w2)
{
	manifest *m = NULL;
	const char *msg;

	ck_assert_int_eq(manifest_parse(&m, yaml, strlen(yaml), "pkg/MANIFEST.yaml"), MLCTL_EDATA);
	ck_assert_ptr_null(m);
	msg = mlctl_error_last()->message;
	if (!strstr(msg, w1) || (w2 && !strstr(msg, w2)))
		ck_abort_msg("message \"%s\" lacks \"%s\" or \"%s\"", msg, w1, w2 ? w2 : "");
}

#define HEAD "format: 1\nname: iris\nversion: 3\nmodel:\n  type: c_svc\n"

START_TEST(test_manifest_strict_types)
{
	expect_parse_error(HEAD "files:\n  - path: a\n    sha256: zz\n    size: 1\n",
			   "pkg/MANIFEST.yaml:8:13: files[0].sha256", "not a SHA-256");
	expect_parse_error(HEAD "files:\n  - path: a\n    sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
			   "    size: big\n", "pkg/MANIFEST.yaml:9:11: files[0].size", "not an integer");
	expect_parse_error("format: 1\nname: [a, b]\nversion: 3\n", "pkg/MANIFEST.yaml:2:7: name", "expected a string");
	expect_parse_error("format: 1\nname: iris\nversion: three\n", ":3:10: version", "not an integer");
	expect_parse_error("format: 1\nname: iris\nversion: 0\n", "version", ">= 1");
	expect_parse_error(HEAD "  metrics:\n    accuracy: high\n", ":7:15: model.metrics.accuracy", "not a number");
	expect_parse_error(HEAD "  params: [1, 2]\n", "model.params", "expected a mapping");
	expect_parse_error(HEAD "  classes: a\n", "model.classes", "expected a list");
	expect_parse_error(HEAD "validations:\n  - run: 1\n    metrics:\n      acc: {}\n",
			   "validations[0].metrics.acc", "expected a number");
	expect_parse_error(HEAD "lineage:\n  dataset:\n    rows: -1\n", "lineage.dataset.rows", NULL);
	expect_parse_error(HEAD "files:\n  - path: ../x\n    sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
			   "files[0]", "\"..\"");
	expect_parse_error(HEAD "files:\n  - size: 3\n", "files[0]", "required");
}
END_TEST

START_TEST(test_manifest_structure_errors)
{
	expect_parse_error("", "empty manifest", NULL);
	expect_parse_error("- a\n- b\n", "pkg/MANIFEST.yaml:1:1: manifest", "expected a mapping");
	expect_parse_error("format: 1\nname: x\nname: y\nversion: 1\n", ":3:1", "\"name\" appears twice");
	expect_parse_error("format: 1\nname: iris\nversion: 3\n", "model.type", "missing");
	expect_parse_error("name: iris\nversion: 3\nmodel: {type: c_svc}\n", "format", "missing");
	expect_parse_error("format: 2\nname: iris\nversion: 3\nmodel: {type: c_svc}\n", "format 2 is newer", NULL);
	expect_parse_error("format: 1\nname: 'unterminated\n", "pkg/MANIFEST.yaml:", "quoted scalar");
	expect_parse_error("format: 1\nname: &n iris\nversion: 3\nalias: *n\nmodel: {type: c_svc}\n",
			   "aliases are not allowed", NULL);
}
END_TEST

START_TEST(test_manifest_unknown_keys_ignored)
{
	const char *y = HEAD "  future_field: {x: 1}\nsignature_policy: strict\nlineage:\n  extra: [1]\n";
	manifest *m = NULL;

	ck_assert_int_eq(manifest_parse(&m, y, strlen(y), "MANIFEST.yaml"), 0);
	ck_assert_str_eq(m->name, "iris");
	ck_assert_str_eq(m->model.type, "c_svc");
	ck_assert_int_eq(m->lineage.dataset_rows, -1);
	manifest_free(m);
}
END_TEST

/* Write the seed corpus of fuzz_manifest from the sample (MLCTL_WRITE_CORPUS=1 to refresh it). */
START_TEST(test_manifest_corpus_is_current)
{
	manifest *m = sample();
	char *y = NULL, *seed = NULL;
	size_t len, slen;

	ck_assert_int_eq(manifest_write(&y, &len, m), 0);
	if (getenv("MLCTL_WRITE_CORPUS"))
		ck_assert_int_eq(fs_write_atomic("tests/fuzz/corpus/manifest/sample.yaml", y, len, 0644), 0);
	/* the committed seed is what this version writes, so the fuzzer starts from real input */
	ck_assert_int_eq(fs_read_file(&seed, &slen, "tests/fuzz/corpus/manifest/sample.yaml", 0), 0);
	ck_assert_uint_eq(slen, len);
	ck_assert_mem_eq(seed, y, len);
	free(seed);
	free(y);
	manifest_free(m);
}
END_TEST

static Suite *manifest_suite(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("manifest");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, test_manifest_roundtrip);
	tcase_add_test(tc, test_manifest_pyyaml_reads_it);
	tcase_add_test(tc, test_manifest_write_requires_fields);
	tcase_add_test(tc, test_manifest_strict_types);
	tcase_add_test(tc, test_manifest_structure_errors);
	tcase_add_test(tc, test_manifest_unknown_keys_ignored);
	tcase_add_test(tc, test_manifest_corpus_is_current);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(manifest_suite)
