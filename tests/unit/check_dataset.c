/*
 * check_dataset.c — the dataset readers: RFC 4180 quoting, TSV, libsvm, gzip by magic,
 * sniffing, digests, and every refusal with its file:line message.
 */
#include "check_util.h"
#include "dataset.h"
#include "hash.h"
#include "util.h"
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

/*
 * Records that lie whole in a block and hold no quote or carriage return are split by a
 * fast path; the rest by the general reader. Many records of every kind, over several
 * blocks (so that records straddle block ends), read back field for field with their
 * line numbers, and each record's text contiguous (textlen) as the copy relies on.
 */
START_TEST(test_dataset_fast_and_general_records_agree)
{
	strbuf text = { 0 };
	char want[4][32];
	size_t n = 30000, k, line = 2, f;
	ds_reader *r = NULL;
	const ds_record *rec;
	size_t *lines = calloc(n, sizeof(*lines));

	ck_assert_ptr_nonnull(lines);
	ck_assert_int_eq(strbuf_puts(&text, "a,b,c,d\n"), 0);
	for (k = 0; k < n; k++) {
		int kind = (int)(k % 7);

		lines[k] = line;
		switch (kind) {
		case 0: /* plain */
			ck_assert_int_eq(strbuf_printf(&text, "%zu,x%zu,,%zu.5\n", k, k % 13, k * 3), 0);
			break;
		case 1: /* CRLF */
			ck_assert_int_eq(strbuf_printf(&text, "%zu,x%zu,,%zu.5\r\n", k, k % 13, k * 3), 0);
			break;
		case 2: /* quoted, with a delimiter and a line break inside */
			ck_assert_int_eq(strbuf_printf(&text, "%zu,\"x,%zu\",\"l\nm\",%zu.5\n", k, k % 13, k * 3), 0);
			line++;
			break;
		case 3: /* a blank line before it */
			ck_assert_int_eq(strbuf_printf(&text, "\n%zu,x%zu,,%zu.5\n", k, k % 13, k * 3), 0);
			lines[k] = ++line;
			break;
		case 4: /* empty fields, a trailing blank */
			ck_assert_int_eq(strbuf_printf(&text, "%zu,,, \n", k), 0);
			break;
		case 5: /* a lone carriage return ends a record too */
			ck_assert_int_eq(strbuf_printf(&text, "%zu,x%zu,,%zu.5\r", k, k % 13, k * 3), 0);
			break;
		default: /* long fields */
			ck_assert_int_eq(strbuf_printf(&text, "%zu,%0100zu,y,%zu.5\n", k, k, k * 3), 0);
			break;
		}
		line++;
	}
	ck_assert_int_eq(ds_reader_open_mem(&r, text.buf, text.len, "mem.csv", DS_FORMAT_CSV), 0);
	for (k = 0; k < n; k++) {
		int kind = (int)(k % 7);
		size_t len = 0;
		char big[128];

		snprintf(want[0], sizeof(want[0]), "%zu", k);
		snprintf(want[1], sizeof(want[1]), kind == 2 ? "x,%zu" : "x%zu", k % 13);
		snprintf(want[2], sizeof(want[2]), "%s", kind == 2 ? "l\nm" : "");
		snprintf(want[3], sizeof(want[3]), "%zu.5", k * 3);
		if (kind == 4) {
			want[1][0] = '\0';
			snprintf(want[3], sizeof(want[3]), " ");
		}
		if (kind == 6) {
			snprintf(big, sizeof(big), "%0100zu", k);
			snprintf(want[2], sizeof(want[2]), "y");
		}
		ck_assert_int_eq(ds_reader_next(r, &rec), 1);
		ck_assert_msg(rec->line == lines[k], "record %zu: line %zu, want %zu", k, rec->line, lines[k]);
		ck_assert_uint_eq(rec->nfields, 4);
		for (f = 0; f < 4; f++) {
			const char *w = kind == 6 && f == 1 ? big : want[f];

			ck_assert_msg(!strcmp(rec->fields[f], w), "record %zu field %zu: \"%s\", want \"%s\"", k, f,
				      rec->fields[f], w);
			len += strlen(rec->fields[f]) + 1;
			if (rec->textlen)
				ck_assert_ptr_eq(rec->fields[f], f ? rec->fields[f - 1] + strlen(rec->fields[f - 1]) + 1 :
							     rec->fields[0]);
		}
		ck_assert(rec->textlen == 0 || rec->textlen == len);
	}
	ck_assert_int_eq(ds_reader_next(r, &rec), 0);
	ds_reader_free(r);
	free(text.buf);
	free(lines);
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
	tcase_add_test(tc, test_dataset_fast_and_general_records_agree);
	tcase_add_test(tc, test_dataset_tables_of_real_data);
	tcase_add_test(tc, test_dataset_gzip_by_magic_and_digest);
	tcase_add_test(tc, test_dataset_refusals);
	tcase_add_test(tc, test_dataset_tsv_and_formats);
	tcase_add_test(tc, test_dataset_mem_reader_libsvm_records);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(dataset_suite)
