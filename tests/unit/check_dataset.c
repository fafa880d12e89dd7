/*
 * check_dataset.c — the dataset readers: RFC 4180 quoting, TSV, libsvm, gzip by magic,
 * sniffing, digests, and every refusal with its file:line message.
 */
#include "check_util.h"
#include "dataset.h"
#include "hash.h"
#include "mlctl/common.h"

/* Load path expecting failure code; the message must contain want. */
static void expect_fail(const char *path, ds_format f, int code, const char *want)
{
	ds_table *t = NULL;
	int ret = ds_table_load(&t, path, f);

	ck_assert_msg(ret == code, "%s: got %d (%s), want %d", path, ret,
		      mlctl_error_last()->message, code);
	ck_assert_msg(strstr(mlctl_error_last()->message, want), "message \"%s\" lacks \"%s\"",
		      mlctl_error_last()->message, want);
	ck_assert_ptr_null(t);
}

START_TEST(test_dataset_rfc4180_quoting)
{
	const char *p = write_tmp("q.csv", "a,\"b c\",d\r\n\"x,1\",\"he said \"\"hi\"\"\",\"two\r\nlines\"\r\n\r\n,,\r\n");
	ds_reader *r = NULL;
	const ds_record *rec;

	ck_assert_int_eq(ds_reader_open(&r, p, DS_FORMAT_AUTO), 0);
	ck_assert_int_eq(ds_reader_format(r), DS_FORMAT_CSV);
	ck_assert_uint_eq(ds_reader_ncols(r), 3);
	ck_assert_str_eq(ds_reader_colname(r, 1), "b c");
	ck_assert_int_eq(ds_reader_next(r, &rec), 1);
	ck_assert_uint_eq(rec->line, 2);
	ck_assert_str_eq(rec->fields[0], "x,1");
	ck_assert_str_eq(rec->fields[1], "he said \"hi\"");
	ck_assert_str_eq(rec->fields[2], "two\r\nlines");
	ck_assert_int_eq(ds_reader_next(r, &rec), 1);
	ck_assert_uint_eq(rec->line, 5); /* a record spanning lines, then a blank line */
	ck_assert_str_eq(rec->fields[0], "");
	ck_assert_str_eq(rec->fields[2], "");
	ck_assert_int_eq(ds_reader_next(r, &rec), 0);
	ds_reader_free(r);
}
END_TEST

START_TEST(test_dataset_tables_of_real_data)
{
	ds_table *t = NULL;
	char digest[65];
	size_t size;

	ck_assert_int_eq(ds_table_load(&t, data_path("letter.csv"), DS_FORMAT_AUTO), 0);
	ck_assert_uint_eq(t->nrows, 20000);
	ck_assert_uint_eq(t->ncols, 17);
	ck_assert_str_eq(t->colnames[0], "lettr");
	ck_assert_str_eq(ds_cell(t, 0, 0), "T");
	ck_assert_uint_eq(t->lines[19999], 20001);
	ck_assert_int_eq(hash_file_hex(digest, &size, data_path("letter.csv")), 0);
	ck_assert_str_eq(t->digest, digest);
	ck_assert_int_eq(ds_table_col(t, "x.box"), 1);
	ck_assert_int_eq(ds_table_col(t, "nope"), -1);
	ds_table_free(t);

	/* heart_scale has no extension: sniffed as libsvm; absent indices read "0" */
	ck_assert_int_eq(ds_table_load(&t, data_path("heart_scale"), DS_FORMAT_AUTO), 0);
	ck_assert_int_eq(t->format, DS_FORMAT_LIBSVM);
	ck_assert_uint_eq(t->nrows, 270);
	ck_assert_uint_eq(t->ncols, 14);
	ck_assert_str_eq(t->colnames[0], "label");
	ck_assert_str_eq(t->colnames[13], "13");
	ck_assert_str_eq(ds_cell(t, 0, 0), "+1");
	ck_assert_str_eq(ds_cell(t, 0, 1), "0.708333");
	ck_assert_str_eq(ds_cell(t, 0, 11), "0");
	ds_table_free(t);
}
END_TEST

START_TEST(test_dataset_gzip_by_magic_and_digest)
{
	char cmd[1024], digest[65];
	ds_reader *r = NULL;
	const ds_record *rec;
	size_t n = 0, size;

	/* gzipped, named without .gz, and two members concatenated */
	snprintf(cmd, sizeof(cmd), "gzip -c '%s' > '%s/w.csv' && gzip -c /dev/null >> '%s/w.csv'",
		 data_path("wine.csv"), test_tmpdir, test_tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(ds_reader_open(&r, tmp_path("w.csv"), DS_FORMAT_AUTO), 0);
	ck_assert_str_eq(ds_reader_colname(r, 13), "cultivar");
	while (ds_reader_next(r, &rec) == 1)
		n++;
	ck_assert_uint_eq(n, 178);
	ds_reader_digest(r, digest);
	ds_reader_free(r);
	{
		char want[65];

		ck_assert_int_eq(hash_file_hex(want, &size, tmp_path("w.csv")), 0);
		ck_assert_str_eq(digest, want);
	}
	/* truncated */
	snprintf(cmd, sizeof(cmd), "gzip -c '%s' | head -c 3000 > '%s/t.csv.gz'", data_path("letter.csv"), test_tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	expect_fail(tmp_path("t.csv.gz"), DS_FORMAT_AUTO, MLCTL_EDATA, "truncated or corrupt gzip");
	/* libsvm gzipped */
	snprintf(cmd, sizeof(cmd), "gzip -c '%s' > '%s/h.libsvm.gz'", data_path("heart_scale"), test_tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	{
		ds_table *t = NULL;

		ck_assert_int_eq(ds_table_load(&t, tmp_path("h.libsvm.gz"), DS_FORMAT_AUTO), 0);
		ck_assert_uint_eq(t->nrows, 270);
		ds_table_free(t);
	}
}
END_TEST

START_TEST(test_dataset_refusals)
{
	expect_fail("/nonexistent/x.csv", DS_FORMAT_AUTO, MLCTL_ENOTFOUND, "/nonexistent/x.csv");
	expect_fail(write_tmp("e.csv", ""), DS_FORMAT_AUTO, MLCTL_EDATA, "e.csv: the file is empty");
	expect_fail(write_tmp("h.csv", "a,b\n"), DS_FORMAT_AUTO, MLCTL_EDATA, "h.csv: no data rows");
	expect_fail(write_tmp("r.csv", "a,b,c\n1,2,3\n4,5\n"), DS_FORMAT_AUTO, MLCTL_EDATA,
		    "r.csv:3: row has 2 fields, the header has 3");
	expect_fail(write_tmp("s.csv", "a;b;c\n1;2;3\n"), DS_FORMAT_AUTO, MLCTL_EDATA,
		    "s.csv:1: the header has one field but contains ';'");
	expect_fail(write_tmp("tab.csv", "a\tb\n1\t2\n"), DS_FORMAT_AUTO, MLCTL_EDATA, "--format tsv");
	expect_fail(write_tmp("u.csv", "a,b\n1,\"2\n3,4\n"), DS_FORMAT_AUTO, MLCTL_EDATA,
		    "u.csv:2: unterminated quoted field");
	expect_fail(write_tmp("d.csv", "a,a\n1,2\n"), DS_FORMAT_AUTO, MLCTL_EDATA, "appears twice");
	expect_fail(write_tmp("heart.svm", "+1 1:2 2:3\n-1 1:2 3:abc\n"), DS_FORMAT_AUTO, MLCTL_EDATA,
		    "heart.svm:2: feature 3: \"abc\" is not a number");
	expect_fail(write_tmp("o.svm", "+1 1:2 5:3 4:1\n"), DS_FORMAT_AUTO, MLCTL_EDATA,
		    "o.svm:1: index 4 after index 5: expected ascending indices");
	expect_fail(write_tmp("x.libsvm", "1 0:2\n"), DS_FORMAT_AUTO, MLCTL_EDATA, "not a positive integer");
	expect_fail(write_tmp("l.csv", "a,b\n1,2\n\xff\xfe,3\n"), DS_FORMAT_AUTO, MLCTL_EDATA,
		    "l.csv:3: binary content or invalid UTF-8");
	{
		FILE *f = fopen(tmp_path("bin.csv"), "wb");

		fwrite("a,b\n1,2\n\0\0\x01\x02", 1, 12, f);
		fclose(f);
		expect_fail(tmp_path("bin.csv"), DS_FORMAT_AUTO, MLCTL_EDATA, "bin.csv:3: binary content (NUL byte)");
	}
}
END_TEST

START_TEST(test_dataset_tsv_and_formats)
{
	ds_table *t = NULL;
	ds_format f;

	ck_assert_int_eq(ds_table_load(&t, write_tmp("a.tsv", "x\ty z\n1\t\"q\"\n"), DS_FORMAT_AUTO), 0);
	ck_assert_int_eq(t->format, DS_FORMAT_TSV);
	ck_assert_str_eq(t->colnames[1], "y z");
	ck_assert_str_eq(ds_cell(t, 0, 1), "q");
	ds_table_free(t);
	/* .txt is sniffed; an explicit format wins over the extension */
	ck_assert_int_eq(ds_table_load(&t, write_tmp("b.txt", "1 1:0.5\n-1 2:1\n"), DS_FORMAT_AUTO), 0);
	ck_assert_int_eq(t->format, DS_FORMAT_LIBSVM);
	ds_table_free(t);
	ck_assert_int_eq(ds_table_load(&t, write_tmp("c.dat", "a,b\n1,2\n"), DS_FORMAT_CSV), 0);
	ck_assert_uint_eq(t->ncols, 2);
	ds_table_free(t);
	ck_assert(ds_format_parse("tsv", &f) && f == DS_FORMAT_TSV);
	ck_assert(!ds_format_parse("xls", &f));
	ck_assert_str_eq(ds_format_name(DS_FORMAT_LIBSVM), "libsvm");
	ck_assert(ds_is_missing("") && ds_is_missing(" NA ") && ds_is_missing("?") &&
		  ds_is_missing("nan") && ds_is_missing("NaN"));
	ck_assert(!ds_is_missing("0") && !ds_is_missing("NAN?"));
}
END_TEST

START_TEST(test_dataset_mem_reader_libsvm_records)
{
	static const char text[] = "\xef\xbb\xbf" "1 3:0.5 10:-2\n\n-1\t1:1e3 \n";
	ds_reader *r = NULL;
	const ds_record *rec;

	ck_assert_int_eq(ds_reader_open_mem(&r, text, sizeof(text) - 1, "mem", DS_FORMAT_AUTO), 0);
	ck_assert_int_eq(ds_reader_format(r), DS_FORMAT_LIBSVM);
	ck_assert_uint_eq(ds_reader_ncols(r), 0);
	ck_assert_int_eq(ds_reader_next(r, &rec), 1);
	ck_assert_str_eq(rec->label, "1");
	ck_assert_uint_eq(rec->nsparse, 2);
	ck_assert(rec->index[1] == 10 && rec->value[1] == -2);
	ck_assert_int_eq(ds_reader_next(r, &rec), 1);
	ck_assert_uint_eq(rec->line, 3);
	ck_assert(rec->index[0] == 1 && rec->value[0] == 1000);
	ck_assert_int_eq(ds_reader_next(r, &rec), 0);
	ds_reader_free(r);
}
END_TEST

static Suite *dataset_suite(void)
{
	Suite *s = suite_create("dataset");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dataset_rfc4180_quoting);
	tcase_add_test(tc, test_dataset_tables_of_real_data);
	tcase_add_test(tc, test_dataset_gzip_by_magic_and_digest);
	tcase_add_test(tc, test_dataset_refusals);
	tcase_add_test(tc, test_dataset_tsv_and_formats);
	tcase_add_test(tc, test_dataset_mem_reader_libsvm_records);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(dataset_suite)
