/*
 * check_reader_resume.c — the data reader goes on past a malformed row (what
 * `mlctl predict --max-errors` relies on): a CSV row with the wrong number of fields and a
 * bad libsvm line are errors for that row only, the next call returns the next row with its
 * own line number; errors that end the input (an unterminated quote) stay final.
 */
#include "check_util.h"

#include "dataset.h"
#include "error.h"
#include "mlctl/common.h"

START_TEST(csv_bad_field_count_is_one_row)
{
	static const char text[] = "a,b\n1,2\n3,4,5\n6\n7,8\n";
	const ds_record *rec;
	ds_reader *r;

	ck_assert_int_eq(ds_reader_open_mem(&r, text, sizeof(text) - 1, "m.csv", DS_FORMAT_AUTO), 0);
	ck_assert_int_eq(ds_reader_next(r, &rec), 1);
	ck_assert_str_eq(rec->fields[0], "1");
	ck_assert_int_eq(ds_reader_next(r, &rec), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "m.csv:3: row has 3 fields"));
	ck_assert(!ds_reader_failed(r));
	ck_assert_int_eq(ds_reader_next(r, &rec), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "m.csv:4: row has 1 field,"));
	ck_assert_int_eq(ds_reader_next(r, &rec), 1);
	ck_assert_uint_eq(rec->line, 5);
	ck_assert_str_eq(rec->fields[1], "8");
	ck_assert_int_eq(ds_reader_next(r, &rec), 0);
	ck_assert(!ds_reader_failed(r));
	ds_reader_free(r);
}
END_TEST

START_TEST(libsvm_bad_line_is_one_row)
{
	static const char text[] = "1 1:0.5 2:1\n2 1:x\n1 3:1 2:1\n\n2 nopair\n1 4:2\n";
	const ds_record *rec;
	ds_reader *r;

	ck_assert_int_eq(ds_reader_open_mem(&r, text, sizeof(text) - 1, "m.libsvm", DS_FORMAT_AUTO), 0);
	ck_assert_int_eq(ds_reader_next(r, &rec), 1);
	ck_assert_int_eq(ds_reader_next(r, &rec), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "m.libsvm:2:"));
	ck_assert_int_eq(ds_reader_next(r, &rec), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "m.libsvm:3:"));
	ck_assert_int_eq(ds_reader_next(r, &rec), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "m.libsvm:5:"));
	ck_assert(!ds_reader_failed(r));
	ck_assert_int_eq(ds_reader_next(r, &rec), 1);
	ck_assert_uint_eq(rec->line, 6);
	ck_assert_uint_eq(rec->nsparse, 1);
	ck_assert_int_eq(rec->index[0], 4);
	ck_assert_int_eq(ds_reader_next(r, &rec), 0);
	ds_reader_free(r);
}
END_TEST

START_TEST(unterminated_quote_is_final)
{
	static const char text[] = "a,b\n1,2\n3,\"4\n5,6\n";
	const ds_record *rec;
	ds_reader *r;

	ck_assert_int_eq(ds_reader_open_mem(&r, text, sizeof(text) - 1, "m.csv", DS_FORMAT_AUTO), 0);
	ck_assert_int_eq(ds_reader_next(r, &rec), 1);
	ck_assert_int_eq(ds_reader_next(r, &rec), MLCTL_EDATA);
	ck_assert(ds_reader_failed(r));
	ck_assert_int_eq(ds_reader_next(r, &rec), MLCTL_EDATA);
	ck_assert_ptr_null(rec);
	ds_reader_free(r);
}
END_TEST

static Suite *reader_resume_suite(void)
{
	Suite *s = suite_create("reader_resume");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);

	tcase_add_test(tc, csv_bad_field_count_is_one_row);
	tcase_add_test(tc, libsvm_bad_line_is_one_row);
	tcase_add_test(tc, unterminated_quote_is_final);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(reader_resume_suite)
