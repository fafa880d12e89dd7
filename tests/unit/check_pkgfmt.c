/*
 * check_pkgfmt.c — the .mlpkg container: determinism, tar compatibility, and refusal of
 * hostile archives built with libarchive itself and with GNU tar.
 */
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <time.h>

#include "check_util.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "pkgfmt.h"

static const char *const allowed[] = {
	"MANIFEST.yaml", "model/libsvm.model", "model/preprocess.yaml", "reference/profile.yaml",
};
#define NALLOWED (sizeof(allowed) / sizeof(allowed[0]))

static pkg_entry sample[] = {
	{ "model/libsvm.model", (unsigned char *)"svm_type c_svc\nkernel_type rbf\n", 31 },
	{ "MANIFEST.yaml", (unsigned char *)"format: 1\nname: iris\n", 21 },
	{ "reference/profile.yaml", (unsigned char *)"rows: 150\n", 10 },
};

static void sha_file(char out[MLCTL_DIGEST_HEX], const char *path)
{
	size_t size;

	ck_assert_int_eq(hash_file_hex(out, &size, path), 0);
}

static int sh(const char *fmt, const char *arg)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), fmt, test_tmpdir, arg);
	return system(cmd);
}

START_TEST(test_pkgfmt_roundtrip)
{
	pkg_contents *c = NULL;
	const pkg_entry *e;
	size_t i;

	ck_assert_int_eq(pkg_write(tmp_path("a.mlpkg"), sample, 3, 1700000000), 0);
	ck_assert_int_eq(pkg_read(&c, tmp_path("a.mlpkg"), allowed, NALLOWED, NULL), 0);
	ck_assert_uint_eq(c->n, 3);
	/* archive order is sorted by name */
	ck_assert_str_eq(c->entries[0].name, "MANIFEST.yaml");
	ck_assert_str_eq(c->entries[1].name, "model/libsvm.model");
	ck_assert_str_eq(c->entries[2].name, "reference/profile.yaml");
	for (i = 0; i < 3; i++) {
		e = pkg_find(c, sample[i].name);
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(e->len, sample[i].len);
		ck_assert_mem_eq(e->data, sample[i].data, e->len);
	}
	ck_assert_ptr_null(pkg_find(c, "model/preprocess.yaml"));
	pkg_contents_free(c);
}
END_TEST

START_TEST(test_pkgfmt_deterministic)
{
	char h1[MLCTL_DIGEST_HEX], h2[MLCTL_DIGEST_HEX], h3[MLCTL_DIGEST_HEX];
	pkg_entry reordered[3] = { sample[2], sample[0], sample[1] };
	unsigned char head[10];
	FILE *f;

	ck_assert_int_eq(pkg_write(tmp_path("a.mlpkg"), sample, 3, 1700000000), 0);
	sleep(1);
	ck_assert_int_eq(pkg_write(tmp_path("b.mlpkg"), reordered, 3, 1700000000), 0);
	ck_assert_int_eq(pkg_write(tmp_path("c.mlpkg"), sample, 3, 1700000001), 0);
	sha_file(h1, tmp_path("a.mlpkg"));
	sha_file(h2, tmp_path("b.mlpkg"));
	sha_file(h3, tmp_path("c.mlpkg"));
	ck_assert_str_eq(h1, h2);
	ck_assert_str_ne(h1, h3);
	/* gzip header: magic, deflate, no FNAME flag, MTIME (bytes 4-7) zero */
	f = fopen(tmp_path("a.mlpkg"), "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(head, 1, sizeof(head), f), sizeof(head));
	fclose(f);
	ck_assert_uint_eq(head[0], 0x1f);
	ck_assert_uint_eq(head[1], 0x8b);
	ck_assert_uint_eq(head[2], 8);
	ck_assert_uint_eq(head[3] & 0x08, 0);
	ck_assert_uint_eq(head[4] | head[5] | head[6] | head[7], 0);
}
END_TEST

/* pkg_write_mem() gives the bytes pkg_write() puts in a file, a large entry included (more
 * than one 10240-byte record of compressed output). */
START_TEST(test_pkgfmt_write_mem_same_bytes)
{
	pkg_entry e[2] = { sample[1], { "model/libsvm.model", NULL, 300000 } };
	char *file = NULL, *mem = NULL;
	size_t flen, mlen, i, k;
	uint64_t st = 5;

	e[1].data = malloc(e[1].len);
	for (i = 0; i < e[1].len; i++)
		e[1].data[i] = (unsigned char)(unit_rand_u64(&st) & 0x3f);
	for (k = 1; k <= 2; k++) {
		ck_assert_int_eq(pkg_write(tmp_path("a.mlpkg"), k == 1 ? sample : e, k == 1 ? 3 : 2, 1700000000), 0);
		ck_assert_int_eq(pkg_write_mem(&mem, &mlen, k == 1 ? sample : e, k == 1 ? 3 : 2, 1700000000), 0);
		ck_assert_int_eq(fs_read_file(&file, &flen, tmp_path("a.mlpkg"), 0), 0);
		ck_assert_uint_eq(mlen, flen);
		ck_assert(memcmp(mem, file, flen) == 0);
		free(mem);
		free(file);
	}
	free(e[1].data);
	e[1].data = (unsigned char *)"x";
	e[1].name = "../up";
	mem = (char *)0x1;
	expect_err(pkg_write_mem(&mem, &mlen, e, 2, 0), MLCTL_EUSAGE, "package entry \"../up\"");
	ck_assert_ptr_null(mem);
}
END_TEST

START_TEST(test_pkgfmt_tar_lists)
{
	struct stat st;

	ck_assert_int_eq(pkg_write(tmp_path("a.mlpkg"), sample, 3, 1700000000), 0);
	ck_assert_int_eq(sh("cd %s && tar tzf %s > list.txt", "a.mlpkg"), 0);
	ck_assert_int_eq(sh("cd %s && printf 'MANIFEST.yaml\\nmodel/\\nmodel/libsvm.model\\nreference/\\n"
			    "reference/profile.yaml\\n' | cmp - %s", "list.txt"), 0);
	/* owner, mode and mtime as promised */
	ck_assert_int_eq(sh("cd %s && tar tvzf %s | grep -c '^-rw-r--r-- root/root .* 2023-11-1[45] ' "
			    "| grep -qx 3", "a.mlpkg"), 0);
	ck_assert_int_eq(sh("cd %s && mkdir x && tar xzf %s -C x && cmp x/model/libsvm.model - <<'EOF'\n"
			    "svm_type c_svc\nkernel_type rbf\nEOF", "a.mlpkg"), 0);
	ck_assert_int_eq(stat(tmp_path("a.mlpkg"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	/* no temp file left behind */
	ck_assert_int_eq(sh("cd %s && ! ls -a | grep -q tmp%s", ""), 0);
}
END_TEST

START_TEST(test_pkgfmt_write_refuses_bad_names)
{
	pkg_entry bad[2] = { sample[0], sample[0] };

	ck_assert_int_eq(pkg_write(tmp_path("a.mlpkg"), bad, 2, 0), MLCTL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "twice"));
	bad[1].name = "../evil";
	ck_assert_int_eq(pkg_write(tmp_path("a.mlpkg"), bad, 2, 0), MLCTL_EUSAGE);
	bad[1].name = "/etc/x";
	ck_assert_int_eq(pkg_write(tmp_path("a.mlpkg"), bad, 2, 0), MLCTL_EUSAGE);
	ck_assert(!fs_exists(tmp_path("a.mlpkg")));
}
END_TEST

/* A hostile archive built with libarchive: each spec is name, type, link target, data. */
typedef struct spec {
	const char *name;
	int type;
	const char *link;
	const char *data;
} spec;

static void write_raw(const char *path, const spec *s, size_t n, bool gzip)
{
	struct archive *a = archive_write_new();
	size_t i;

	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	if (gzip)
		ck_assert_int_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		size_t len = s[i].data ? strlen(s[i].data) : 0;

		archive_entry_set_pathname(e, s[i].name);
		archive_entry_set_filetype(e, (unsigned)s[i].type);
		archive_entry_set_perm(e, 0644);
		if (s[i].type == AE_IFLNK)
			archive_entry_set_symlink(e, s[i].link);
		else if (s[i].link)
			archive_entry_set_hardlink(e, s[i].link);
		archive_entry_set_size(e, (la_int64_t)len);
		ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
		if (len)
			ck_assert_int_eq(archive_write_data(a, s[i].data, len), (la_ssize_t)len);
		archive_entry_free(e);
	}
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

/* Read path and expect MLCTL_EDATA with a message holding both words. */
static void expect_refused(const char *path, const pkg_limits *lim, const char *w1, const char *w2)
{
	pkg_contents *c = NULL;
	const char *msg;

	ck_assert_int_eq(pkg_read(&c, path, allowed, NALLOWED, lim), MLCTL_EDATA);
	ck_assert_ptr_null(c);
	msg = mlctl_error_last()->message;
	if (!strstr(msg, w1) || (w2 && !strstr(msg, w2)))
		ck_abort_msg("message \"%s\" lacks \"%s\" or \"%s\"", msg, w1, w2 ? w2 : "");
}

static void refuse_one(spec bad, const char *w1, const char *w2)
{
	spec s[2] = { { "MANIFEST.yaml", AE_IFREG, NULL, "format: 1\n" }, bad };

	write_raw(tmp_path("bad.mlpkg"), s, 2, true);
	expect_refused(tmp_path("bad.mlpkg"), NULL, w1, w2);
}

START_TEST(test_pkgfmt_refuses_hostile_entries)
{
	refuse_one((spec){ "../evil", AE_IFREG, NULL, "x" }, "../evil", "\"..\"");
	refuse_one((spec){ "model/../../evil", AE_IFREG, NULL, "x" }, "model/../../evil", "\"..\"");
	refuse_one((spec){ "/etc/x", AE_IFREG, NULL, "x" }, "/etc/x", "absolute");
	refuse_one((spec){ "model/libsvm.model", AE_IFLNK, "/etc/passwd", NULL }, "model/libsvm.model", "symbolic link");
	refuse_one((spec){ "model/libsvm.model", AE_IFREG, "MANIFEST.yaml", NULL }, "model/libsvm.model", "hard link");
	refuse_one((spec){ "model/libsvm.model", AE_IFIFO, NULL, NULL }, "model/libsvm.model", "fifo");
	refuse_one((spec){ "model/libsvm.model", AE_IFCHR, NULL, NULL }, "model/libsvm.model", "device");
	refuse_one((spec){ "MANIFEST.yaml", AE_IFREG, NULL, "format: 2\n" }, "MANIFEST.yaml", "twice");
	refuse_one((spec){ "model/extra.so", AE_IFREG, NULL, "x" }, "model/extra.so", "not a file");
	refuse_one((spec){ "etc/", AE_IFDIR, NULL, NULL }, "etc/", "not a directory");
}
END_TEST

START_TEST(test_pkgfmt_refuses_non_packages)
{
	spec s[1] = { { "MANIFEST.yaml", AE_IFREG, NULL, "format: 1\n" } };
	pkg_contents *c = NULL;

	/* an uncompressed tar, plain text, a gzip of text, an empty file */
	write_raw(tmp_path("plain.tar"), s, 1, false);
	expect_refused(tmp_path("plain.tar"), NULL, "not a package", "gzip");
	expect_refused(write_tmp("text", "hello\n"), NULL, "not a package", NULL);
	ck_assert_int_eq(sh("cd %s && echo hello | gzip > %s", "text.gz"), 0);
	expect_refused(tmp_path("text.gz"), NULL, "not a package", NULL);
	expect_refused(write_tmp("empty", ""), NULL, "not a package", NULL);
	ck_assert_int_eq(pkg_read_mem(&c, "", 0, "mem", allowed, NALLOWED, NULL), MLCTL_EDATA);
	ck_assert_int_eq(pkg_read(&c, tmp_path("missing"), allowed, NALLOWED, NULL), MLCTL_ENOTFOUND);
}
END_TEST

START_TEST(test_pkgfmt_refuses_too_many_entries)
{
	pkg_limits lim = PKG_LIMITS_INIT;

	lim.max_entries = 3; /* the sample holds 3 files and 2 directories */
	ck_assert_int_eq(pkg_write(tmp_path("a.mlpkg"), sample, 3, 0), 0);
	expect_refused(tmp_path("a.mlpkg"), &lim, "more than 3 entries", NULL);
}
END_TEST

START_TEST(test_pkgfmt_limits_total_size)
{
	static unsigned char big[600 * 1024];
	pkg_entry e[2] = { { "MANIFEST.yaml", big, sizeof(big) }, { "model/libsvm.model", big, sizeof(big) } };
	pkg_limits lim = PKG_LIMITS_INIT;
	pkg_contents *c = NULL;

	/* each entry is under the limit, together they are over it */
	ck_assert_int_eq(pkg_write(tmp_path("a.mlpkg"), e, 2, 0), 0);
	lim.max_total = 1 << 20;
	expect_refused(tmp_path("a.mlpkg"), &lim, "model/libsvm.model", "limit of 1048576");
	lim.max_total = 500 * 1024;
	expect_refused(tmp_path("a.mlpkg"), &lim, "MANIFEST.yaml", "declares 614400 bytes");
	lim.max_total = 2 * sizeof(big);
	ck_assert_int_eq(pkg_read(&c, tmp_path("a.mlpkg"), allowed, NALLOWED, &lim), 0);
	pkg_contents_free(c);
}
END_TEST

START_TEST(test_pkgfmt_refuses_sparse_10g)
{
	/* 10 GB of holes stored in a few kilobytes with GNU tar's sparse format */
	ck_assert_int_eq(sh("cd %s && mkdir -p s/model && truncate -s 10G s/model/libsvm.model && "
			    "echo x > s/MANIFEST.yaml && tar --sparse -C s -czf %s MANIFEST.yaml model/libsvm.model",
			    "sparse.mlpkg"), 0);
	expect_refused(tmp_path("sparse.mlpkg"), NULL, "model/libsvm.model", "10737418240");
}
END_TEST

START_TEST(test_pkgfmt_refuses_gzip_bombs)
{
	/* 2 GB of zeros as 32 concatenated gzip members of 64 MiB each (about 2 MB in all,
	 * cheaper to make than one 2 GB gzip run): no entries, so not a package */
	ck_assert_int_eq(sh("cd %s && head -c 64M /dev/zero | gzip -9 > z64.gz && "
			    "for i in $(seq 32); do cat z64.gz; done > %s", "zeros.gz"), 0);
	expect_refused(tmp_path("zeros.gz"), NULL, "empty package", NULL);
	/* a tar header declaring a 2 GB entry followed by those 2 GB of zeros */
	ck_assert_int_eq(sh("cd %s && mkdir -p b/model && truncate -s 2G b/model/libsvm.model && "
			    "tar -C b -cf - model/libsvm.model | head -c 512 | gzip > %s && "
			    "cat zeros.gz >> bomb.mlpkg", "bomb.mlpkg"), 0);
	expect_refused(tmp_path("bomb.mlpkg"), NULL, "model/libsvm.model", "over the limit");
}
END_TEST

START_TEST(test_pkgfmt_extract)
{
	pkg_contents *c = NULL;
	char *text = NULL;
	size_t len;

	ck_assert_int_eq(pkg_write(tmp_path("a.mlpkg"), sample, 3, 0), 0);
	ck_assert_int_eq(pkg_read(&c, tmp_path("a.mlpkg"), allowed, NALLOWED, NULL), 0);
	ck_assert_int_eq(mkdir(tmp_path("out"), 0755), 0);
	ck_assert_int_eq(pkg_extract(c, tmp_path("out")), 0);
	ck_assert_int_eq(fs_read_file(&text, &len, tmp_path("out/model/libsvm.model"), 0), 0);
	ck_assert_uint_eq(len, sample[0].len);
	ck_assert_mem_eq(text, sample[0].data, len);
	free(text);
	/* exactly the three files, nothing outside out/ */
	ck_assert_int_eq(sh("cd %s && find . -type f ! -name a.mlpkg | sort | tr '\\n' ' ' | "
			    "grep -qx '%s'", "./out/MANIFEST.yaml ./out/model/libsvm.model ./out/reference/profile.yaml "), 0);
	/* a name smuggled in by hand is still refused */
	free(c->entries[0].name);
	c->entries[0].name = strdup("../escaped");
	ck_assert_int_eq(pkg_extract(c, tmp_path("out")), MLCTL_EDATA);
	ck_assert(!fs_exists(tmp_path("escaped")));
	pkg_contents_free(c);
}
END_TEST

START_TEST(test_pkgfmt_read_mem)
{
	pkg_contents *c = NULL;
	char *buf = NULL;
	size_t len;

	ck_assert_int_eq(pkg_write(tmp_path("a.mlpkg"), sample, 3, 0), 0);
	ck_assert_int_eq(fs_read_file(&buf, &len, tmp_path("a.mlpkg"), 0), 0);
	ck_assert_int_eq(pkg_read_mem(&c, buf, len, "mem.mlpkg", allowed, NALLOWED, NULL), 0);
	ck_assert_uint_eq(c->n, 3);
	pkg_contents_free(c);
	/* truncated: refused, naming the origin */
	ck_assert_int_eq(pkg_read_mem(&c, buf, len / 2, "mem.mlpkg", allowed, NALLOWED, NULL), MLCTL_EDATA);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "mem.mlpkg"));
	/* an allowed list without the model refuses it */
	ck_assert_int_eq(pkg_read_mem(&c, buf, len, "mem.mlpkg", allowed, 1, NULL), MLCTL_EDATA);
	free(buf);
}
END_TEST

/* The seed corpus of fuzz_package: packages written by pkg_write (MLCTL_WRITE_CORPUS=1
 * refreshes them); the committed seeds must read back as packages. */
START_TEST(test_pkgfmt_corpus_seeds)
{
	static const char *const seeds[] = { "tests/fuzz/corpus/package/three.mlpkg",
					     "tests/fuzz/corpus/package/one.mlpkg" };
	pkg_contents *c = NULL;

	if (getenv("MLCTL_WRITE_CORPUS")) {
		ck_assert_int_eq(pkg_write(seeds[0], sample, 3, 1700000000), 0);
		ck_assert_int_eq(pkg_write(seeds[1], &sample[1], 1, 0), 0);
	}
	ck_assert_int_eq(pkg_read(&c, seeds[0], allowed, NALLOWED, NULL), 0);
	ck_assert_uint_eq(c->n, 3);
	pkg_contents_free(c);
	ck_assert_int_eq(pkg_read(&c, seeds[1], allowed, NALLOWED, NULL), 0);
	ck_assert_uint_eq(c->n, 1);
	ck_assert_str_eq(c->entries[0].name, "MANIFEST.yaml");
	pkg_contents_free(c);
}
END_TEST

static Suite *pkgfmt_suite(void)
{
	Suite *s = suite_create("pkgfmt");
	TCase *tc = tcase_create("pkgfmt");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pkgfmt_roundtrip);
	tcase_add_test(tc, test_pkgfmt_deterministic);
	tcase_add_test(tc, test_pkgfmt_write_mem_same_bytes);
	tcase_add_test(tc, test_pkgfmt_tar_lists);
	tcase_add_test(tc, test_pkgfmt_write_refuses_bad_names);
	tcase_add_test(tc, test_pkgfmt_refuses_hostile_entries);
	tcase_add_test(tc, test_pkgfmt_refuses_non_packages);
	tcase_add_test(tc, test_pkgfmt_refuses_too_many_entries);
	tcase_add_test(tc, test_pkgfmt_limits_total_size);
	tcase_add_test(tc, test_pkgfmt_refuses_sparse_10g);
	tcase_add_test(tc, test_pkgfmt_refuses_gzip_bombs);
	tcase_add_test(tc, test_pkgfmt_extract);
	tcase_add_test(tc, test_pkgfmt_read_mem);
	tcase_add_test(tc, test_pkgfmt_corpus_seeds);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(pkgfmt_suite)
