/*
 * check_ymlio.c — ymlio.c (floor 2 helpers over libyaml): what the writer emits reads back
 * the same (texts YAML would retype, numbers at every magnitude, counts, nested maps and
 * lists); the writer's error is sticky; the reader's errors are MLCTL_EDATA and name the
 * origin and the line of the node at fault ("origin:line: ...").
 */
#include <float.h>
#include <math.h>

#include "check_util.h"
#include "error.h"
#include "ymlio.h"

static const char *const texts[] = {
	"no", "yes", "1", "1.5", "null", "~", "", " lead", "trail ", "a: b", "- x", "#not a comment",
	"line\nbreak", "tab\there", "quote\"s", "back\\slash", "caf\xc3\xa9", "\xe2\x82\xac 5", "[1, 2]", "{a}",
	"&anchor", "*alias", "!tag", "%", "@", "`", "0x10", ".inf", "-.nan",
};
static const double nums[] = {
	0.0, -0.0, 1.0, -1.5, 1e9 + 0.5, 1e-9, 4.9406564584124654e-324, DBL_MAX, -DBL_MIN, 0.1, 1.0 / 3.0,
	123456789012345678.0,
};

/* Write a document with every kind of value, then read each back. */
START_TEST(test_ymlio_roundtrip)
{
	size_t n_texts = sizeof(texts) / sizeof(texts[0]), n_nums = sizeof(nums) / sizeof(nums[0]), i, len, z;
	yaml_node_t *root, *seq, *inner;
	const char *s;
	char *out = NULL, key[32];
	ymlw w;
	ymlr r;
	double d;

	ck_assert_int_eq(ymlw_begin(&w), 0);
	ymlw_map(&w);
	for (i = 0; i < n_texts; i++) {
		snprintf(key, sizeof(key), "t%zu", i);
		ymlw_kstr(&w, key, texts[i]);
	}
	for (i = 0; i < n_nums; i++) {
		snprintf(key, sizeof(key), "n%zu", i);
		ymlw_knum(&w, key, nums[i]);
	}
	ymlw_ksize(&w, "zero", 0);
	ymlw_ksize(&w, "big", (size_t)INT64_MAX);
	ymlw_kplain(&w, "word", "minmax");
	ymlw_plain(&w, "flow");
	ymlw_seq(&w, true);
	for (i = 0; i < 5; i++)
		ymlw_num(&w, (double)i / 4);
	ymlw_seq_end(&w);
	ymlw_plain(&w, "block");
	ymlw_seq(&w, false);
	ymlw_map(&w);
	ymlw_kstr(&w, "name", "no");
	ymlw_ksize(&w, "count", 3);
	ymlw_map_end(&w);
	ymlw_str(&w, "1");
	ymlw_seq_end(&w);
	ymlw_map_end(&w);
	ck_assert_int_eq(ymlw_finish(&w, &out, &len), 0);
	ck_assert_uint_eq(strlen(out), len);

	ck_assert_int_eq(ymlr_load(&r, out, len, "doc.yaml"), 0);
	root = ymlr_root(&r);
	ck_assert_int_eq(ymlr_map(&r, root, "the document"), 0);
	for (i = 0; i < n_texts; i++) {
		snprintf(key, sizeof(key), "t%zu", i);
		ck_assert_int_eq(ymlr_kstr(&r, root, key, &s), 0);
		ck_assert_msg(strcmp(s, texts[i]) == 0, "%s: wrote \"%s\", read \"%s\"", key, texts[i], s);
	}
	for (i = 0; i < n_nums; i++) {
		snprintf(key, sizeof(key), "n%zu", i);
		ck_assert_int_eq(ymlr_knum(&r, root, key, &d), 0);
		ck_assert_msg(memcmp(&d, &nums[i], sizeof(d)) == 0, "%s: wrote %.17g, read %.17g", key, nums[i], d);
	}
	ck_assert_int_eq(ymlr_ksize(&r, root, "zero", &z), 0);
	ck_assert_uint_eq(z, 0);
	ck_assert_int_eq(ymlr_ksize(&r, root, "big", &z), 0);
	ck_assert_uint_eq(z, (size_t)INT64_MAX);
	ck_assert_int_eq(ymlr_kstr(&r, root, "word", &s), 0);
	ck_assert_str_eq(s, "minmax");
	ck_assert_int_eq(ymlr_kseq(&r, root, "flow", &seq), 0);
	ck_assert_uint_eq(ymlr_len(seq), 5);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(ymlr_num(&r, ymlr_item(&r, seq, i), "item", &d), 0);
		ck_assert(d == (double)i / 4);
	}
	ck_assert_int_eq(ymlr_kseq(&r, root, "block", &seq), 0);
	ck_assert_uint_eq(ymlr_len(seq), 2);
	inner = ymlr_item(&r, seq, 0);
	ck_assert_int_eq(ymlr_map(&r, inner, "item"), 0);
	ck_assert_int_eq(ymlr_kstr(&r, inner, "name", &s), 0);
	ck_assert_str_eq(s, "no");
	ck_assert_int_eq(ymlr_ksize(&r, inner, "count", &z), 0);
	ck_assert_uint_eq(z, 3);
	ck_assert_int_eq(ymlr_scalar(&r, ymlr_item(&r, seq, 1), "item", &s), 0);
	ck_assert_str_eq(s, "1");
	ck_assert_ptr_null(ymlr_get(&r, root, "absent"));
	ck_assert_ptr_null(ymlr_get(&r, seq, "name"));		/* not a mapping */
	ck_assert_ptr_null(ymlr_get(&r, NULL, "name"));
	ymlr_free(&r);
	ymlr_free(&r);	/* twice is harmless */
	free(out);
}
END_TEST

/* NaN and infinities are written as plain words and read back as such. */
START_TEST(test_ymlio_special_numbers)
{
	char *out;
	size_t len;
	ymlw w;
	ymlr r;
	double d;

	ck_assert_int_eq(ymlw_begin(&w), 0);
	ymlw_map(&w);
	ymlw_knum(&w, "a", NAN);
	ymlw_knum(&w, "b", INFINITY);
	ymlw_knum(&w, "c", -INFINITY);
	ymlw_map_end(&w);
	ck_assert_int_eq(ymlw_finish(&w, &out, &len), 0);
	ck_assert_int_eq(ymlr_load(&r, out, len, "x"), 0);
	ck_assert_int_eq(ymlr_knum(&r, ymlr_root(&r), "a", &d), 0);
	ck_assert(isnan(d));
	ck_assert_int_eq(ymlr_knum(&r, ymlr_root(&r), "b", &d), 0);
	ck_assert(isinf(d) && d > 0);
	ck_assert_int_eq(ymlr_knum(&r, ymlr_root(&r), "c", &d), 0);
	ck_assert(isinf(d) && d < 0);
	ymlr_free(&r);
	free(out);
}
END_TEST

/* Text that is not UTF-8 fails the writer; later calls do nothing; finish frees all,
 * the text values given after the error included (valgrind: they once leaked). */
START_TEST(test_ymlio_writer_error_sticky)
{
	char *out = (char *)0x1;
	size_t len = 77;
	ymlw w;

	ck_assert_int_eq(ymlw_begin(&w), 0);
	ymlw_map(&w);
	ymlw_kstr(&w, "bad", "caf\xe9");
	ck_assert_int_eq(w.err, MLCTL_EDATA);
	ymlw_seq(&w, true);	/* ignored: nothing is emitted after the error */
	ymlw_str(&w, "in the sequence");
	ymlw_seq_end(&w);
	ymlw_kstr(&w, "good", "after");
	ymlw_map_end(&w);
	expect_err(ymlw_finish(&w, &out, &len), MLCTL_EDATA, "not UTF-8");
	ck_assert_ptr_eq(out, (char *)0x1);	/* not written on failure */
	ck_assert_uint_eq(len, 77);
	/* Events out of order (a mapping end with none open) are an emitter error. */
	ck_assert_int_eq(ymlw_begin(&w), 0);
	ymlw_map(&w);
	ymlw_seq_end(&w);
	ymlw_kstr(&w, "after", "the emitter error");
	ck_assert_int_ne(ymlw_finish(&w, &out, &len), 0);
	ck_assert(strstr(mlctl_error_last()->message, "cannot write YAML") != NULL);
}
END_TEST

/* A reader error: MLCTL_EDATA, "origin:line: " and the reason. */
static void expect_yaml_error(int got, const char *prefix, const char *why)
{
	const char *msg = mlctl_error_last()->message;

	expect_err(got, MLCTL_EDATA, why);
	ck_assert_msg(strncmp(msg, prefix, strlen(prefix)) == 0, "\"%s\" does not start with \"%s\"", msg, prefix);
}

START_TEST(test_ymlio_reader_errors)
{
	static const char doc[] =
		"version: 1\n"		/* 1 */
		"name: churn\n"		/* 2 */
		"columns:\n"		/* 3 */
		"  - name: age\n"	/* 4 */
		"    scale: abc\n"	/* 5 */
		"    count: -1\n"	/* 6 */
		"  - name: plan\n"	/* 7 */
		"    count: 1.5\n"	/* 8 */
		"list: notalist\n"	/* 9 */
		"nul: \"a\\0b\"\n"	/* 10 */
		"map:\n"		/* 11 */
		"  - 1\n";		/* 12 */
	yaml_node_t *root, *cols, *c0, *c1, *n;
	const char *s;
	double d;
	size_t z;
	ymlr r;

	ck_assert_int_eq(ymlr_load(&r, doc, strlen(doc), "pre.yaml"), 0);
	root = ymlr_root(&r);
	ck_assert_int_eq(ymlr_kseq(&r, root, "columns", &cols), 0);
	c0 = ymlr_item(&r, cols, 0);
	c1 = ymlr_item(&r, cols, 1);
	expect_yaml_error(ymlr_knum(&r, c0, "scale", &d), "pre.yaml:5: ", "scale: \"abc\" is not a number");
	expect_yaml_error(ymlr_ksize(&r, c0, "count", &z), "pre.yaml:6: ", "count: \"-1\" is not a count");
	expect_yaml_error(ymlr_ksize(&r, c1, "count", &z), "pre.yaml:8: ", "count: \"1.5\" is not a count");
	expect_yaml_error(ymlr_kstr(&r, c1, "scale", &s), "pre.yaml:7: ", "missing key \"scale\"");
	expect_yaml_error(ymlr_kseq(&r, root, "list", &n), "pre.yaml:9: ", "expected list as a list");
	expect_yaml_error(ymlr_kstr(&r, root, "nul", &s), "pre.yaml:10: ", "nul contains a NUL character");
	expect_yaml_error(ymlr_kstr(&r, root, "columns", &s), "pre.yaml:4: ", "expected columns as a single value");
	expect_yaml_error(ymlr_map(&r, ymlr_get(&r, root, "map"), "map"), "pre.yaml:12: ", "expected map as a mapping");
	expect_yaml_error(ymlr_map(&r, NULL, "the root"), "pre.yaml:1: ", "expected the root as a mapping");
	expect_yaml_error(ymlr_error(&r, c1, "plan: %s", "unknown"), "pre.yaml:7: ", "plan: unknown");
	ck_assert_int_eq(ymlr_knum(&r, root, "version", &d), 0);
	ck_assert(d == 1);
	ymlr_free(&r);
}
END_TEST

START_TEST(test_ymlio_malformed)
{
	static const struct { const char *text; const char *prefix; } bad[] = {
		{ "a: 1\nb: [1, 2\nc: 3\n", "m.yaml:3: malformed YAML" },
		{ "a: 1\n\tb: 2\n", "m.yaml:2: malformed YAML" },
		{ "a: 1\nb: 2\n  c: 3\n", "m.yaml:3: malformed YAML" },
		{ "a: \"open\n", "m.yaml:2: malformed YAML" },
		{ "a: *nosuch\n", "m.yaml:1: malformed YAML" },
		{ "a: 1\n--- \nb: 2\n", NULL },	/* two documents: the first is taken */
	};
	size_t i;
	ymlr r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = ymlr_load(&r, bad[i].text, strlen(bad[i].text), "m.yaml");

		if (!bad[i].prefix) {
			ck_assert_int_eq(ret, 0);
		} else {
			expect_err(ret, MLCTL_EDATA, "malformed YAML");
			ck_assert_msg(strncmp(mlctl_error_last()->message, bad[i].prefix, strlen(bad[i].prefix)) == 0,
				      "case %zu: \"%s\"", i, mlctl_error_last()->message);
		}
		ymlr_free(&r);
	}
	expect_err(ymlr_load(&r, "", 0, "e.yaml"), MLCTL_EDATA, "e.yaml: empty YAML document");
	ymlr_free(&r);
	expect_err(ymlr_load(&r, "# only a comment\n", 17, "c.yaml"), MLCTL_EDATA, "c.yaml: empty YAML document");
	ymlr_free(&r);
}
END_TEST

static Suite *ymlio_suite(void)
{
	Suite *s = suite_create("ymlio");
	TCase *tc = tcase_create("ymlio");

	tcase_add_test(tc, test_ymlio_roundtrip);
	tcase_add_test(tc, test_ymlio_special_numbers);
	tcase_add_test(tc, test_ymlio_writer_error_sticky);
	tcase_add_test(tc, test_ymlio_reader_errors);
	tcase_add_test(tc, test_ymlio_malformed);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(ymlio_suite)
