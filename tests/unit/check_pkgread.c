/*
 * check_pkgread.c — reading packages (lib/pkgread.c): a release directory and a .mlpkg file
 * become a bundle with the right digests, a modified file is refused, and every byte is
 * hashed once. The SHA-256 work is counted by interposing libsodium's
 * crypto_hash_sha256_init/_update (this program's definitions win over the shared
 * library's for the calls in libmlctl.a, and pass on to it through dlsym(RTLD_NEXT)).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <sodium.h>

#include "mlctl.h"
#include "check_util.h"
#include "bundle.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "manifest.h"
#include "pkgfmt.h"
#include "pkgread.h"

static unsigned long long hashed_bytes;
static unsigned hashed_digests;

int crypto_hash_sha256_init(crypto_hash_sha256_state *state)
{
	int (*real)(crypto_hash_sha256_state *);

	*(void **)&real = dlsym(RTLD_NEXT, "crypto_hash_sha256_init");
	if (!real)
		abort();
	hashed_digests++;
	return real(state);
}

int crypto_hash_sha256_update(crypto_hash_sha256_state *state, const unsigned char *in, unsigned long long inlen)
{
	int (*real)(crypto_hash_sha256_state *, const unsigned char *, unsigned long long);

	*(void **)&real = dlsym(RTLD_NEXT, "crypto_hash_sha256_update");
	if (!real)
		abort();
	hashed_bytes += inlen;
	return real(state, in, inlen);
}

static void count_reset(void)
{
	hashed_bytes = 0;
	hashed_digests = 0;
}

/* The package's files: a libsvm model and the preprocessing and profile of iris, from the
 * fuzz corpus. */
static const char *const sources[3] = {
	"tests/fuzz/corpus/model/c_svc_3class_sigmoid_prob.model",
	"tests/fuzz/corpus/preprocess/iris-preprocess.yaml",
	"tests/fuzz/corpus/preprocess/iris-profile.yaml",
};

static pkg_entry entries[4];
static size_t files_len;                /* the three files' bytes, not the manifest's */
static char digests[3][MLCTL_DIGEST_HEX];

static const char *src_path(const char *rel)
{
	static char buf[512];
	const char *root = getenv("MLCTL_SRCDIR");

	snprintf(buf, sizeof(buf), "%s/%s", root ? root : ".", rel);
	return buf;
}

/* entries[] = the three files and a MANIFEST.yaml listing them, under their package names,
 * for iris:version. */
static void make_entries_version(int64_t version)
{
	manifest *m = manifest_new();
	size_t i;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(manifest_set_str(&m->name, "iris"), 0);
	m->version = version;
	ck_assert_int_eq(manifest_set_str(&m->model.type, "c_svc"), 0);
	ck_assert_int_eq(manifest_set_str(&m->lineage.train_run, "01JDV7A"), 0);
	files_len = 0;
	for (i = 0; i < 3; i++) {
		pkg_entry *e = &entries[i + 1];

		e->name = (char *)package_entries[i + 1];
		ck_assert_int_eq(fs_read_file((char **)&e->data, &e->len, src_path(sources[i]), 1 << 20), 0);
		hash_buf_hex(digests[i], e->data, e->len);
		ck_assert_int_eq(manifest_add_file(m, e->name, digests[i], e->len), 0);
		files_len += e->len;
	}
	entries[0].name = (char *)package_entries[0];
	ck_assert_int_eq(manifest_write((char **)&entries[0].data, &entries[0].len, m), 0);
	manifest_free(m);
}

static void free_entries(void)
{
	size_t i;

	for (i = 0; i < 4; i++)
		free(entries[i].data);
	memset(entries, 0, sizeof(entries));
}

static void setup(void)
{
	tmpdir_setup();
	make_entries_version(7);
}

static void teardown(void)
{
	free_entries();
	tmpdir_teardown();
}

/* A release directory as deploy leaves it: the entries extracted, and .package-sha256. */
static const char *make_release(void)
{
	pkg_contents c = { 4, entries };
	const char *dir = tmp_path("release");

	ck_assert_int_eq(fs_mkdir_p(dir), 0);
	ck_assert_int_eq(pkg_extract(&c, dir), 0);
	write_tmp("release/.package-sha256", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n");
	return dir;
}

static void assert_bundle(const mlctl_bundle *b)
{
	ck_assert_str_eq(b->name, "iris");
	ck_assert_int_eq(b->version, 7);
	ck_assert_str_eq(b->run, "01JDV7A");
	ck_assert_str_eq(b->model_digest, digests[0]);
	ck_assert_str_eq(b->preprocess_digest, digests[1]);
	ck_assert_str_eq(b->profile_digest, digests[2]);
	ck_assert_ptr_nonnull(b->model);
	ck_assert_ptr_nonnull(b->schema);
	ck_assert_ptr_nonnull(b->profile);
	ck_assert_uint_eq(strlen(b->manifest), entries[0].len);
}

START_TEST(test_pkgread_dir_hashes_each_file_once)
{
	const char *dir = make_release();
	mlctl_bundle *b = NULL;

	count_reset();
	ck_assert_int_eq(bundle_from_dir(&b, dir), 0);
	/* package_check() hashes the three files; the bundle takes their digests from there. */
	ck_assert_uint_eq(hashed_digests, 3);
	ck_assert_uint_eq(hashed_bytes, files_len);
	assert_bundle(b);
	ck_assert_str_eq(b->package_digest, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	ck_assert_str_eq(b->source, dir);
	bundle_free(b);
}
END_TEST

START_TEST(test_pkgread_package_hashes_each_byte_once)
{
	const char *path = tmp_path("iris-7.mlpkg");
	char want[MLCTL_DIGEST_HEX];
	mlctl_bundle *b = NULL;
	size_t size;

	ck_assert_int_eq(pkg_write(path, entries, 4, 1700000000), 0);
	ck_assert_int_eq(hash_file_hex(want, &size, path), 0);
	count_reset();
	ck_assert_int_eq(bundle_from_package(&b, path, NULL), 0);
	/* The file once (the package digest), then each of its three files once. */
	ck_assert_uint_eq(hashed_digests, 4);
	ck_assert_uint_eq(hashed_bytes, size + files_len);
	assert_bundle(b);
	ck_assert_str_eq(b->package_digest, want);
	bundle_free(b);
}
END_TEST

START_TEST(test_pkgread_dir_refuses_a_modified_file)
{
	const char *dir = make_release();
	mlctl_bundle *b = NULL;

	/* Same size, one bit changed. */
	entries[2].data[0] ^= 1;
	ck_assert_int_eq(fs_write_atomic(tmp_path("release/model/preprocess.yaml"), entries[2].data, entries[2].len, 0644), 0);
	ck_assert_int_eq(bundle_from_dir(&b, dir), MLCTL_EVERDICT);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "model/preprocess.yaml does not match the manifest"));
}
END_TEST

START_TEST(test_pkgread_dir_refuses_a_missing_listed_file)
{
	const char *dir = make_release();
	mlctl_bundle *b = NULL;

	/* The profile is optional in a release, but this manifest lists it. */
	ck_assert_int_eq(unlink(tmp_path("release/reference/profile.yaml")), 0);
	ck_assert_int_eq(bundle_from_dir(&b, dir), MLCTL_EVERDICT);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "reference/profile.yaml is listed in the manifest but missing"));
}
END_TEST

/*
 * Deploying a package file hashes each byte once for each thing that needs a digest: the
 * file (the package digest, which deploy records), its three files (package_check), and
 * the store, which names every object it writes by the bytes it writes, so it hashes what
 * it is given itself (the package, and for a version this registry has not seen, the
 * model, preprocessing and profile it learns). learn_version() compares a known version
 * with the manifest's digests, which package_check() found equal to the files': it no
 * longer hashes the model and preprocessing again (it did: 2 digests more).
 */
static void deploy_counting(mlctl_registry *reg, const char *path, const char *target, unsigned ndigests,
			    unsigned long long bytes)
{
	mlctl_deploy_options o = { 0 };
	mlctl_deploy_result *r = NULL;

	o.model = path;
	o.target = target;
	count_reset();
	ck_assert_msg(mlctl_deploy(&r, reg, &o) == 0, "deploy %s: %s", path, mlctl_error_last()->message);
	ck_assert_msg(hashed_digests == ndigests && hashed_bytes == bytes, "deploy to %s: %u digests over %llu bytes, want %u over %llu",
		      target, hashed_digests, hashed_bytes, ndigests, bytes);
	ck_assert_str_eq(r->model, "iris:7");
	mlctl_deploy_result_free(r);
}

START_TEST(test_pkgread_deploy_hashes_each_byte_once)
{
	mlctl_run_start_options ro = MLCTL_RUN_START_OPTIONS_INIT;
	const char *path = tmp_path("iris-7.mlpkg");
	mlctl_model_version spec = { 0 };
	mlctl_registry *reg = NULL;
	char run[MLCTL_RUN_ID_SIZE];
	size_t size;

	ck_assert_int_eq(pkg_write(path, entries, 4, 1700000000), 0);
	ck_assert_int_eq(hash_file_hex(spec.model_digest, &size, path), 0);
	/* A registry that never saw iris:7 learns it: the store hashes the three files. */
	test_registry_open(&reg, "fresh");
	deploy_counting(reg, path, "edge", 1 + 3 + 1 + 3, 2 * (unsigned long long)size + 2 * files_len);
	mlctl_registry_free(reg);
	/* One that has iris:7 (the same model) compares digests only. */
	test_registry_open(&reg, "knows");
	ro.kind = "train";
	ck_assert_int_eq(mlctl_run_start(run, reg, &ro), 0);
	spec.name = "iris";
	spec.version = 7;
	snprintf(spec.run, sizeof(spec.run), "%s", run);
	memcpy(spec.model_digest, digests[0], MLCTL_DIGEST_HEX);
	memcpy(spec.preprocess_digest, digests[1], MLCTL_DIGEST_HEX);
	spec.svm_type = "c_svc";
	spec.kernel = "rbf";
	ck_assert_int_eq(mlctl_model_register_as(reg, &spec), 0);
	deploy_counting(reg, path, "prod", 1 + 3 + 1, 2 * (unsigned long long)size + files_len);
	mlctl_registry_free(reg);
}
END_TEST

/* A manifest's version is 64-bit, a model version an int: 4294967293 is refused, not
 * read as -3, from a package file and from a release directory alike. */
START_TEST(test_pkgread_refuses_a_version_over_int_max)
{
	static const int64_t bad[] = { 4294967293LL, (int64_t)INT_MAX + 1 };
	const char *path = tmp_path("big.mlpkg");
	mlctl_bundle *b = NULL;
	size_t i;

	for (i = 0; i < 2; i++) {
		free_entries();
		make_entries_version(bad[i]);
		ck_assert_int_eq(pkg_write(path, entries, 4, 1700000000), 0);
		expect_err(bundle_from_package(&b, path, NULL), MLCTL_EDATA, "big.mlpkg: MANIFEST.yaml: version ");
		ck_assert_ptr_null(b);
		ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "is larger than the largest model version"));
		expect_err(bundle_from_dir(&b, make_release()), MLCTL_EDATA, "release: MANIFEST.yaml: version ");
		ck_assert_ptr_null(b);
	}
	/* INT_MAX itself is a version. */
	free_entries();
	make_entries_version(INT_MAX);
	ck_assert_int_eq(pkg_write(path, entries, 4, 1700000000), 0);
	ck_assert_int_eq(bundle_from_package(&b, path, NULL), 0);
	ck_assert_int_eq(b->version, INT_MAX);
	bundle_free(b);
}
END_TEST

static Suite *pkgread_suite(void)
{
	Suite *s = suite_create("pkgread");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pkgread_dir_hashes_each_file_once);
	tcase_add_test(tc, test_pkgread_package_hashes_each_byte_once);
	tcase_add_test(tc, test_pkgread_dir_refuses_a_modified_file);
	tcase_add_test(tc, test_pkgread_dir_refuses_a_missing_listed_file);
	tcase_add_test(tc, test_pkgread_refuses_a_version_over_int_max);
	tcase_add_test(tc, test_pkgread_deploy_hashes_each_byte_once);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(pkgread_suite)
