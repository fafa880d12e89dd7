/*
 * check_package.c — mlctl_package(), mlctl_package_verify() and mlctl_keygen() through the
 * public API on a fresh registry per test: a package written, stored and verified; the
 * same bytes every time; one byte changed, in the file or in a file inside it re-packed
 * with a correct archive around it, refused with the documented code; the gzip trailer
 * checked, and every single-bit flip of a package refused unless the bytes still inflate
 * to the same tar; a signed package verified with its key and refused with another key,
 * without its signature or once a byte changed.
 */
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "mlctl.h"
#include "check_util.h"

static mlctl_registry *reg;

static void setup(void)
{
	static mlctl_kv svm[] = { { "C", "1" }, { "gamma", "0.5" } };

	tmpdir_setup();
	test_registry_open(&reg, NULL);
	test_train(reg, "iris", data_path("iris.csv"), "species", svm, 2);
}

static void teardown(void)
{
	mlctl_registry_free(reg);
	reg = NULL;
	tmpdir_teardown();
}

/* Package ref to path (sign_key may be NULL); returns the result. */
static mlctl_package_result *package(const char *ref, const char *path, const char *sign_key)
{
	mlctl_package_options o = { 0 };
	mlctl_package_result *r = NULL;

	o.model = ref;
	o.output = path;
	o.sign_key = sign_key;
	ck_assert_msg(mlctl_package(&r, reg, &o) == 0, "package %s: %s", ref, last_message());
	return r;
}

/* Flip one bit of the byte at offset in a file. */
static void flip_byte(const char *path, size_t offset)
{
	size_t len;
	char *t = read_all(path, &len);
	FILE *f;

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_lt(offset, len);
	t[offset] ^= 1;
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(t, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(t);
}

/*
 * Re-pack a package entry by entry into a well-formed gzip tar, as an attacker with tar(1)
 * would, flipping one bit of byte offset of the entry named victim (NULL: none).
 */
static void repack(const char *from, const char *to, const char *victim, size_t offset)
{
	struct archive *in = archive_read_new(), *out = archive_write_new();
	struct archive_entry *e;
	int r;

	ck_assert(in && out);
	archive_read_support_filter_gzip(in);
	archive_read_support_format_tar(in);
	ck_assert_int_eq(archive_read_open_filename(in, from, 16384), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_set_format_pax_restricted(out), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_add_filter_gzip(out), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_open_filename(out, to), ARCHIVE_OK);
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		la_int64_t size = archive_entry_size(e);
		char *data = malloc((size_t)size + 1);

		ck_assert_ptr_nonnull(data);
		ck_assert_int_eq(archive_read_data(in, data, (size_t)size), (la_ssize_t)size);
		if (victim && strcmp(archive_entry_pathname(e), victim) == 0) {
			ck_assert_int_lt((la_int64_t)offset, size);
			data[offset] ^= 1;
		}
		ck_assert_int_eq(archive_write_header(out, e), ARCHIVE_OK);
		if (size)
			ck_assert_int_eq(archive_write_data(out, data, (size_t)size), (la_ssize_t)size);
		free(data);
	}
	ck_assert_int_eq(r, ARCHIVE_EOF);
	ck_assert_int_eq(archive_write_close(out), ARCHIVE_OK);
	archive_write_free(out);
	archive_read_free(in);
}

static void copy_file(const char *from, const char *to)
{
	size_t len;
	char *t = read_all(from, &len);
	FILE *f = fopen(to, "wb");

	ck_assert(t && f);
	ck_assert_uint_eq(fwrite(t, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(t);
}

static bool has_file(const mlctl_package_info *i, const char *name)
{
	size_t k;

	for (k = 0; k < i->nfiles; k++)
		if (strcmp(i->files[k], name) == 0)
			return true;
	return false;
}

START_TEST(test_package_write_and_verify)
{
	const char *path = tmp_file("iris-1.mlpkg");
	mlctl_package_result *r = package("iris:1", path, NULL);
	mlctl_package_info *info = NULL;
	mlctl_run *run = NULL;
	struct stat st;

	ck_assert_str_eq(r->path, path);
	ck_assert_str_eq(r->model, "iris:1");
	ck_assert_ptr_null(r->signature);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(r->size, (uint64_t)st.st_size);
	ck_assert(mlctl_store_has(reg, r->digest));
	ck_assert_int_eq(mlctl_run_get(&run, reg, r->run), 0);
	ck_assert_str_eq(run->kind, "package");
	ck_assert_int_eq(run->status, MLCTL_RUN_SUCCEEDED);
	mlctl_run_free(run);

	ck_assert_msg(mlctl_package_verify(&info, path, NULL, NULL) == 0, "%s", last_message());
	ck_assert_str_eq(info->digest, r->digest);
	ck_assert_str_eq(info->name, "iris");
	ck_assert_int_eq(info->version, 1);
	ck_assert(!info->signature_checked);
	ck_assert(has_file(info, "MANIFEST.yaml"));
	ck_assert(has_file(info, "model/libsvm.model"));
	ck_assert(has_file(info, "model/preprocess.yaml"));
	ck_assert(has_file(info, "reference/profile.yaml"));
	ck_assert_ptr_nonnull(strstr(info->manifest, "iris"));
	mlctl_package_info_free(info);
	mlctl_package_result_free(r);
}
END_TEST

/* The bytes depend only on the version: twice, and by "latest", the same file. */
START_TEST(test_package_deterministic)
{
	mlctl_package_result *a = package("iris:1", tmp_file("a.mlpkg"), NULL);
	mlctl_package_result *b = package("iris", tmp_file("b.mlpkg"), NULL);
	mlctl_package_result *c;

	ck_assert_str_eq(a->digest, b->digest);
	ck_assert(same_bytes(tmp_file("a.mlpkg"), tmp_file("b.mlpkg")));
	/* SOURCE_DATE_EPOCH sets the entry times, so it changes the bytes. */
	ck_assert_int_eq(setenv("SOURCE_DATE_EPOCH", "1700000000", 1), 0);
	c = package("iris:1", tmp_file("c.mlpkg"), NULL);
	unsetenv("SOURCE_DATE_EPOCH");
	ck_assert_str_ne(c->digest, a->digest);
	mlctl_package_result_free(a);
	mlctl_package_result_free(b);
	mlctl_package_result_free(c);
}
END_TEST

START_TEST(test_package_tampered)
{
	const char *path = tmp_file("iris-1.mlpkg");
	mlctl_package_result *r = package("iris:1", path, NULL);
	mlctl_package_info *info = NULL;

	/* Re-packed unchanged, the entries still verify (the re-packing itself is sound). */
	repack(path, tmp_file("same.mlpkg"), NULL, 0);
	ck_assert_msg(mlctl_package_verify(&info, tmp_file("same.mlpkg"), NULL, NULL) == 0, "%s", last_message());
	mlctl_package_info_free(info);

	/* One byte of the model changed inside a well-formed archive: a verdict. */
	repack(path, tmp_file("model.mlpkg"), "model/libsvm.model", 100);
	ck_assert_int_eq(mlctl_package_verify(&info, tmp_file("model.mlpkg"), NULL, NULL), MLCTL_EVERDICT);
	ck_assert_ptr_null(info);
	ck_assert_msg(strstr(last_message(), "model.mlpkg: model/libsvm.model does not match the manifest"), "%s",
		      last_message());
	repack(path, tmp_file("pre.mlpkg"), "model/preprocess.yaml", 10);
	ck_assert_int_eq(mlctl_package_verify(&info, tmp_file("pre.mlpkg"), NULL, NULL), MLCTL_EVERDICT);
	ck_assert_ptr_nonnull(strstr(last_message(), "model/preprocess.yaml does not match the manifest"));

	/* One byte of the file itself changed in the gzip magic: not a package at all. */
	copy_file(path, tmp_file("raw.mlpkg"));
	flip_byte(tmp_file("raw.mlpkg"), 1);
	ck_assert_int_eq(mlctl_package_verify(&info, tmp_file("raw.mlpkg"), NULL, NULL), MLCTL_EDATA);
	ck_assert_msg(strstr(last_message(), "raw.mlpkg: not a package"), "%s", last_message());
	mlctl_package_result_free(r);
}
END_TEST

/* The tar a gzip file's bytes inflate to, in a fresh buffer (NULL when zlib does not
 * inflate all of them, to the end of one member with nothing after it). */
static unsigned char *gunzip(const unsigned char *gz, size_t len, size_t *out_len)
{
	unsigned char *out = NULL;
	size_t cap = 0;
	z_stream zs;
	int zr;

	memset(&zs, 0, sizeof(zs));
	ck_assert_int_eq(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
	zs.next_in = (Bytef *)(uintptr_t)gz;
	zs.avail_in = (uInt)len;
	do {
		if (zs.total_out == cap) {
			cap = cap ? 2 * cap : 65536;
			out = realloc(out, cap);
			ck_assert_ptr_nonnull(out);
		}
		zs.next_out = out + zs.total_out;
		zs.avail_out = (uInt)(cap - zs.total_out);
		zr = inflate(&zs, Z_NO_FLUSH);
	} while (zr == Z_OK);
	*out_len = zs.total_out;
	inflateEnd(&zs);
	if (zr != Z_STREAM_END || zs.avail_in) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * The gzip trailer is checked: the reader once stopped at the tar's end-of-archive blocks,
 * so a package with a wrong CRC-32 or length (`gzip -t`: "crc error") verified as good,
 * and so did 122 of the single-bit changes of a 3231-byte package. Then every single-bit
 * flip of a package is tried. The rule: a flip is refused with MLCTL_EDATA or
 * MLCTL_EVERDICT, or the flipped bytes still inflate, as one whole gzip member, to
 * exactly the tar of the original (a gzip header field that says nothing about the
 * content: MTIME, XFL, OS, the FTEXT flag); never accepted with other contents, and never
 * a flip in the trailer.
 */
START_TEST(test_package_gzip_trailer_checked)
{
	const char *path = tmp_file("iris-1.mlpkg"), *flip = tmp_file("flip.mlpkg");
	mlctl_package_result *r = package("iris:1", path, NULL);
	mlctl_package_info *info = NULL;
	unsigned char *orig, *tar, *other;
	size_t len, tar_len, other_len, i, accepted = 0;
	int bit, ret;
	FILE *f;

	/* The first byte of the CRC-32, 8 bytes from the end; then the last byte of ISIZE. */
	copy_file(path, tmp_file("crc.mlpkg"));
	flip_byte(tmp_file("crc.mlpkg"), (size_t)r->size - 8);
	ck_assert_int_eq(mlctl_package_verify(&info, tmp_file("crc.mlpkg"), NULL, NULL), MLCTL_EDATA);
	ck_assert_msg(strstr(last_message(), "crc.mlpkg: gzip trailer: CRC mismatch"), "%s", last_message());
	copy_file(path, tmp_file("isize.mlpkg"));
	flip_byte(tmp_file("isize.mlpkg"), (size_t)r->size - 1);
	ck_assert_int_eq(mlctl_package_verify(&info, tmp_file("isize.mlpkg"), NULL, NULL), MLCTL_EDATA);
	ck_assert_msg(strstr(last_message(), "isize.mlpkg: gzip trailer: length mismatch"), "%s", last_message());
	ck_assert_ptr_null(info);

	/* Trailing bytes, a second gzip member, and a missing trailer are refused too. */
	orig = (unsigned char *)read_all(path, &len);
	ck_assert_ptr_nonnull(orig);
	ck_assert_uint_eq(len, (size_t)r->size);
	f = fopen(flip, "wb");
	ck_assert(fwrite(orig, 1, len, f) == len && fwrite("\0", 1, 1, f) == 1 && fclose(f) == 0);
	expect_err(mlctl_package_verify(&info, flip, NULL, NULL), MLCTL_EDATA, "1 bytes after the end of the gzip stream");
	f = fopen(flip, "wb");
	ck_assert(fwrite(orig, 1, len, f) == len && fwrite(orig, 1, len, f) == len && fclose(f) == 0);
	expect_err(mlctl_package_verify(&info, flip, NULL, NULL), MLCTL_EDATA, "after the end of the gzip stream");
	f = fopen(flip, "wb");
	ck_assert(fwrite(orig, 1, len - 8, f) == len - 8 && fclose(f) == 0);
	expect_err(mlctl_package_verify(&info, flip, NULL, NULL), MLCTL_EDATA, "flip.mlpkg");

	/* Every single-bit flip. */
	tar = gunzip(orig, len, &tar_len);
	ck_assert_ptr_nonnull(tar);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			orig[i] ^= (unsigned char)(1 << bit);
			f = fopen(flip, "wb");
			ck_assert(f && fwrite(orig, 1, len, f) == len && fclose(f) == 0);
			ret = mlctl_package_verify(&info, flip, NULL, NULL);
			if (ret == 0) {
				other = gunzip(orig, len, &other_len);
				ck_assert_msg(other && other_len == tar_len && memcmp(other, tar, tar_len) == 0,
					      "byte %zu bit %d flipped: accepted with other contents", i, bit);
				ck_assert_msg(i < len - 8, "byte %zu bit %d of the trailer flipped: accepted", i, bit);
				free(other);
				mlctl_package_info_free(info);
				info = NULL;
				accepted++;
			} else {
				ck_assert_msg(ret == MLCTL_EDATA || ret == MLCTL_EVERDICT, "byte %zu bit %d: %d (%s)", i, bit,
					      ret, last_message());
				ck_assert_ptr_null(info);
			}
			orig[i] ^= (unsigned char)(1 << bit);
		}
	}
	fprintf(stderr, "test_package_gzip_trailer_checked: %zu of %zu single-bit flips accepted, "
		"each inflating to the same tar\n", accepted, 8 * len);
	free(tar);
	free(orig);
	mlctl_package_result_free(r);
}
END_TEST

START_TEST(test_package_signed)
{
	const char *pub = tmp_file("k.pub"), *sec = tmp_file("k.key");
	const char *path = tmp_file("signed.mlpkg"), *plain = tmp_file("plain.mlpkg");
	mlctl_package_result *r, *u;
	mlctl_package_info *info = NULL;
	char sig[600], want[200];
	struct stat st;

	ck_assert_msg(mlctl_keygen(pub, sec) == 0, "%s", last_message());
	ck_assert_int_eq(stat(sec, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(mlctl_keygen(pub, sec), MLCTL_EEXISTS);
	ck_assert_int_eq(mlctl_keygen(tmp_file("other.pub"), tmp_file("other.key")), 0);

	r = package("iris:1", path, sec);
	u = package("iris:1", plain, NULL);
	snprintf(sig, sizeof(sig), "%s.minisig", path);
	ck_assert_ptr_nonnull(r->signature);
	ck_assert_str_eq(r->signature, sig);
	ck_assert_int_eq(stat(sig, &st), 0);
	/* Signing adds a file beside the package and changes nothing in it. */
	ck_assert(same_bytes(path, plain));

	ck_assert_msg(mlctl_package_verify(&info, path, pub, NULL) == 0, "%s", last_message());
	ck_assert(info->signature_checked);
	snprintf(want, sizeof(want), "mlctl package iris:1 sha256:%s", r->digest);
	ck_assert_ptr_nonnull(info->trusted_comment);
	ck_assert_msg(strstr(info->trusted_comment, want), "trusted comment \"%s\"", info->trusted_comment);
	mlctl_package_info_free(info);

	/* Another key: a verdict. */
	ck_assert_int_eq(mlctl_package_verify(&info, path, tmp_file("other.pub"), NULL), MLCTL_EVERDICT);
	/* No signature beside it, then the signature named explicitly. */
	ck_assert_int_eq(mlctl_package_verify(&info, plain, pub, NULL), MLCTL_EVERDICT);
	ck_assert_ptr_nonnull(strstr(last_message(), "no signature"));
	ck_assert_msg(mlctl_package_verify(&info, plain, pub, sig) == 0, "%s", last_message());
	mlctl_package_info_free(info);
	/* One byte changed: the signature no longer matches. */
	flip_byte(path, (size_t)(r->size / 2));
	ck_assert_int_eq(mlctl_package_verify(&info, path, pub, NULL), MLCTL_EVERDICT);
	ck_assert_ptr_null(info);
	ck_assert_msg(strstr(last_message(), "signature verification failed"), "%s", last_message());
	mlctl_package_result_free(r);
	mlctl_package_result_free(u);
}
END_TEST

START_TEST(test_package_errors)
{
	mlctl_package_options o = { 0 };
	mlctl_package_result *r = NULL;
	mlctl_package_info *info = NULL;

	o.model = "nosuch:1";
	o.output = tmp_file("x.mlpkg");
	ck_assert_int_eq(mlctl_package(&r, reg, &o), MLCTL_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(last_message(), "nosuch"));
	o.model = "iris:2";
	ck_assert_int_eq(mlctl_package(&r, reg, &o), MLCTL_ENOTFOUND);
	o.model = "iris:1";
	o.output = tmp_file("nodir/x.mlpkg");
	ck_assert_int_eq(mlctl_package(&r, reg, &o), MLCTL_ECREATE);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(mlctl_package_verify(&info, write_tmp("text.mlpkg", "not a package\n"), NULL, NULL),
			 MLCTL_EDATA);
	ck_assert_int_eq(mlctl_package_verify(&info, tmp_file("nosuch.mlpkg"), NULL, NULL), MLCTL_ENOTFOUND);
	ck_assert_ptr_null(info);
}
END_TEST

static Suite *package_suite(void)
{
	Suite *s = suite_create("package");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_package_write_and_verify);
	tcase_add_test(tc, test_package_deterministic);
	tcase_add_test(tc, test_package_tampered);
	tcase_add_test(tc, test_package_signed);
	tcase_add_test(tc, test_package_errors);
	tcase_add_test(tc, test_package_gzip_trailer_checked);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(package_suite)
