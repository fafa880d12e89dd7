/*
 * check_junit.c — lib/junit: the report is parsed back with Python's xml.etree (under
 * /usr/bin/python3) and its counts, attributes and escaped texts checked, including
 * markup characters, control characters, tabs and newlines in attributes, and bad UTF-8.
 */
#include <dirent.h>

#include "check_util.h"
#include "error.h"
#include "junit.h"

/* Parse path with xml.etree and print one JSON line for the suite, then one per case. */
static const char *parse_py =
	"import sys, json, xml.etree.ElementTree as ET\n"
	"root = ET.parse(sys.argv[1]).getroot()\n"
	"s = root.find('testsuite')\n"
	"print(json.dumps([root.tag, root.get('tests'), root.get('failures'), s.get('name'),\n"
	"    s.get('tests'), s.get('failures'), s.get('errors'), s.get('skipped'), s.get('time'),\n"
	"    len(s.get('timestamp')), len(root.findall('testsuite'))]))\n"
	"for c in s.findall('testcase'):\n"
	"    f = c.find('failure')\n"
	"    print(json.dumps([c.get('name'), c.get('classname'), c.get('time')] +\n"
	"        ([f.get('message'), f.get('type'), f.text] if f is not None else [])))\n";

/* The lines the parser prints for path, in a fresh buffer. */
static char *parse_back(const char *path)
{
	char cmd[1024], *buf = calloc(1, 65536);
	size_t len = 0, got;
	FILE *p;

	write_tmp("parse.py", parse_py);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s", tmp_path("parse.py"), path);
	p = popen(cmd, "r");
	ck_assert(p && buf);
	while ((got = fread(buf + len, 1, 65535 - len, p)) > 0)
		len += got;
	ck_assert_int_eq(pclose(p), 0);
	return buf;
}

START_TEST(test_junit_escaping_and_counts)
{
	junit_case cases[] = {
		{ .name = "accuracy >= 0.9", .classname = "mlctl.validate.churn", .seconds = 0.0125 },
		{ .name = "recall[<=50K] >= 0.6", .classname = "mlctl.validate.adult", .failed = true,
		  .message = "recall[<=50K] = 0.5 & \"low\" < 'wanted'\tline\nnext\x01\x1f",
		  .detail = "value 0.5\nthreshold 0.6 \x7f <b>&amp;</b>\r\n", .type = "gate" },
		{ .name = "bad \xff utf-8 \xc3\xa9 \xe2\x88\x91 \xed\xa0\x80 \xef\xbf\xbf end",
		  .classname = "c", .failed = true, .message = "m" },
	};
	char *out;

	ck_assert_int_eq(junit_write(tmp_path("report.xml"), "validate churn & co", cases, 3, 1.5), 0);
	out = parse_back(tmp_path("report.xml"));
	ck_assert_str_eq(out,
		"[\"testsuites\", \"3\", \"2\", \"validate churn & co\", \"3\", \"2\", \"0\", \"0\", \"1.500\", 19, 1]\n"
		"[\"accuracy >= 0.9\", \"mlctl.validate.churn\", \"0.013\"]\n"
		"[\"recall[<=50K] >= 0.6\", \"mlctl.validate.adult\", \"0.000\", "
		"\"recall[<=50K] = 0.5 & \\\"low\\\" < 'wanted'\\tline\\nnext\", \"gate\", "
		"\"value 0.5\\nthreshold 0.6 \\u007f <b>&amp;</b>\\r\\n\"]\n"
		"[\"bad \\ufffd utf-8 \\u00e9 \\u2211 \\ufffd\\ufffd\\ufffd  end\", \"c\", \"0.000\", "
		"\"m\", \"failure\", \"m\"]\n");
	free(out);
}
END_TEST

START_TEST(test_junit_empty_and_all_passing)
{
	junit_case ok = { .name = "mse < 12.5", .classname = "x" };
	char *out;

	ck_assert_int_eq(junit_write(tmp_path("empty.xml"), "none", NULL, 0, 0), 0);
	out = parse_back(tmp_path("empty.xml"));
	ck_assert_str_eq(out, "[\"testsuites\", \"0\", \"0\", \"none\", \"0\", \"0\", \"0\", \"0\", \"0.000\", 19, 1]\n");
	free(out);
	/* Written over the previous file, atomically: nothing else is left in the directory. */
	ck_assert_int_eq(junit_write(tmp_path("empty.xml"), "one", &ok, 1, -3), 0);
	out = parse_back(tmp_path("empty.xml"));
	ck_assert_str_eq(out, "[\"testsuites\", \"1\", \"0\", \"one\", \"1\", \"0\", \"0\", \"0\", \"0.000\", 19, 1]\n"
			      "[\"mse < 12.5\", \"x\", \"0.000\"]\n");
	free(out);
	{
		DIR *d = opendir(test_tmpdir);
		struct dirent *e;
		int n = 0;

		while ((e = readdir(d)))
			n += e->d_name[0] != '.';
		closedir(d);
		ck_assert_int_eq(n, 2);   /* empty.xml and parse.py */
	}
}
END_TEST

START_TEST(test_junit_timestamp_and_errors)
{
	char *xml = NULL;

	ck_assert_int_eq(junit_render(&xml, "s", NULL, 0, 2.0004, 1795747912123LL), 0);
	ck_assert_ptr_nonnull(strstr(xml, "timestamp=\"2026-11-27T02:51:52\""));
	ck_assert_ptr_nonnull(strstr(xml, "time=\"2.000\""));
	free(xml);
	ck_assert_int_lt(junit_write(tmp_path("no/such/dir/r.xml"), "s", NULL, 0, 0), 0);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "no/such/dir"));
}
END_TEST

static Suite *junit_suite(void)
{
	Suite *s = suite_create("junit");
	TCase *tc = tcase_create("junit");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, test_junit_escaping_and_counts);
	tcase_add_test(tc, test_junit_empty_and_all_passing);
	tcase_add_test(tc, test_junit_timestamp_and_errors);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(junit_suite)
