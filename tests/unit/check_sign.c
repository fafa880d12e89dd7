/*
 * check_sign.c — minisign-format keys and signatures: round trip, interoperability with
 * /usr/bin/minisign in both directions, tampering and malformed files.
 */
#include <sys/stat.h>

#include "check_util.h"
#include "error.h"
#include "fsutil.h"
#include "sign.h"

static int sh(const char *fmt)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "cd '%s' && %s", test_tmpdir, fmt);
	return system(cmd);
}

static void make_keys(void)
{
	ck_assert_int_eq(sign_keygen(tmp_path("k.pub"), tmp_path("k.sec")), 0);
}

static const char *data_file(void)
{
	return write_tmp("model.mlpkg", "some package bytes\nand more\n");
}

/* Rewrite a file with one byte at offset (from the start, or from the end when < 0) xored. */
static void flip_byte(const char *path, long offset, unsigned char mask)
{
	char *buf = NULL;
	size_t len, at;
	FILE *f;

	ck_assert_int_eq(fs_read_file(&buf, &len, path, 0), 0);
	at = offset < 0 ? len - (size_t)(-offset) : (size_t)offset;
	ck_assert_uint_lt(at, len);
	buf[at] ^= (char)mask;
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
	free(buf);
}

static void expect_error(int got, int code, const char *word)
{
	const char *msg = mlctl_error_last()->message;

	ck_assert_int_eq(got, code);
	if (!strstr(msg, word))
		ck_abort_msg("message \"%s\" lacks \"%s\"", msg, word);
}

START_TEST(test_sign_roundtrip)
{
	char *tc = NULL;
	struct stat st;

	make_keys();
	ck_assert_int_eq(stat(tmp_path("k.sec"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(tmp_path("k.pub"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	ck_assert_int_eq(sign_file(tmp_path("k.sec"), data_file(), tmp_path("m.minisig"), "name:iris\tversion:3"), 0);
	ck_assert_int_eq(sign_verify(tmp_path("k.pub"), data_file(), tmp_path("m.minisig"), &tc), 0);
	ck_assert_str_eq(tc, "name:iris\tversion:3");
	free(tc);
	/* the default trusted comment names the file */
	ck_assert_int_eq(sign_file(tmp_path("k.sec"), data_file(), tmp_path("d.minisig"), NULL), 0);
	ck_assert_int_eq(sign_verify(tmp_path("k.pub"), data_file(), tmp_path("d.minisig"), &tc), 0);
	ck_assert_str_eq(tc, "file:model.mlpkg");
	free(tc);
	ck_assert_int_eq(sign_file(tmp_path("k.sec"), data_file(), tmp_path("x.minisig"), "two\nlines"),
			 MLCTL_EUSAGE);
}
END_TEST

START_TEST(test_sign_keygen_refuses_overwrite)
{
	char *before = NULL, *after = NULL;
	size_t l1, l2;

	make_keys();
	ck_assert_int_eq(fs_read_file(&before, &l1, tmp_path("k.sec"), 0), 0);
	expect_error(sign_keygen(tmp_path("k.pub"), tmp_path("k.sec")), MLCTL_EEXISTS, "k.sec");
	expect_error(sign_keygen(tmp_path("k.pub"), tmp_path("other.sec")), MLCTL_EEXISTS, "k.pub");
	ck_assert(!fs_exists(tmp_path("other.sec")));
	ck_assert_int_eq(fs_read_file(&after, &l2, tmp_path("k.sec"), 0), 0);
	ck_assert_uint_eq(l1, l2);
	ck_assert_mem_eq(before, after, l1);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_sign_minisign_verifies_ours)
{
	make_keys();
	data_file();
	ck_assert_int_eq(sign_file(tmp_path("k.sec"), tmp_path("model.mlpkg"), tmp_path("model.mlpkg.minisig"),
				   "mlctl test"), 0);
	ck_assert_int_eq(sh("minisign -V -p k.pub -m model.mlpkg > out.txt 2>&1"), 0);
	ck_assert_int_eq(sh("grep -q 'Trusted comment: mlctl test' out.txt"), 0);
	/* minisign refuses a tampered file too: the test can fail */
	flip_byte(tmp_path("model.mlpkg"), 3, 0x01);
	ck_assert_int_ne(sh("minisign -V -q -p k.pub -m model.mlpkg 2>/dev/null"), 0);
	/* and minisign signs with our secret key (its checksum is right) */
	ck_assert_int_eq(sh("minisign -S -s k.sec -m model.mlpkg -t 'from minisign' < /dev/null > /dev/null"), 0);
	ck_assert_int_eq(sign_verify(tmp_path("k.pub"), tmp_path("model.mlpkg"), tmp_path("model.mlpkg.minisig"),
				     NULL), 0);
}
END_TEST

START_TEST(test_sign_we_verify_minisign)
{
	char *tc = NULL;

	data_file();
	ck_assert_int_eq(sh("minisign -G -W -p mk.pub -s mk.sec > /dev/null"), 0);
	ck_assert_int_eq(sh("minisign -S -s mk.sec -m model.mlpkg -t 'made by minisign' < /dev/null > /dev/null"), 0);
	ck_assert_int_eq(sign_verify(tmp_path("mk.pub"), tmp_path("model.mlpkg"), tmp_path("model.mlpkg.minisig"),
				     &tc), 0);
	ck_assert_str_eq(tc, "made by minisign");
	free(tc);
	/* minisign's legacy non-prehashed "Ed" signatures */
	ck_assert_int_eq(sh("minisign -S -l -s mk.sec -m model.mlpkg -x legacy.minisig < /dev/null > /dev/null"), 0);
	ck_assert_int_eq(sh("sed -n 2p legacy.minisig | base64 -d | head -c 2 | grep -qx Ed"), 0);
	ck_assert_int_eq(sign_verify(tmp_path("mk.pub"), tmp_path("model.mlpkg"), tmp_path("legacy.minisig"), NULL), 0);
	/* our signing with minisign's unencrypted key, checked by minisign */
	ck_assert_int_eq(sign_file(tmp_path("mk.sec"), tmp_path("model.mlpkg"), tmp_path("ours.minisig"), "ours"), 0);
	ck_assert_int_eq(sh("minisign -V -q -p mk.pub -m model.mlpkg -x ours.minisig"), 0);
	/* a key pair that does not belong to the signature */
	make_keys();
	expect_error(sign_verify(tmp_path("k.pub"), tmp_path("model.mlpkg"), tmp_path("ours.minisig"), NULL),
		     MLCTL_EVERDICT, "but the public key is");
}
END_TEST

START_TEST(test_sign_tampering)
{
	char *tc = (char *)"untouched";

	make_keys();
	data_file();
	ck_assert_int_eq(sign_file(tmp_path("k.sec"), tmp_path("model.mlpkg"), tmp_path("s.minisig"), "comment A"), 0);
	ck_assert_int_eq(sh("cp s.minisig s.orig && cp model.mlpkg model.orig"), 0);

	/* a byte of the file */
	flip_byte(tmp_path("model.mlpkg"), -2, 0x20);
	expect_error(sign_verify(tmp_path("k.pub"), tmp_path("model.mlpkg"), tmp_path("s.minisig"), &tc),
		     MLCTL_EVERDICT, "the file does not match");
	ck_assert_ptr_null(tc);
	ck_assert_int_eq(sh("cp model.orig model.mlpkg"), 0);

	/* a byte of the signature (inside the base64 of the Ed25519 signature, line 2) */
	ck_assert_int_eq(sh("awk 'NR==2{c=substr($0,41,1); r=(c==\"A\")?\"B\":\"A\"; $0=substr($0,1,40) r substr($0,42)}"
			    "{print}' s.orig > s.minisig"), 0);
	expect_error(sign_verify(tmp_path("k.pub"), tmp_path("model.mlpkg"), tmp_path("s.minisig"), NULL),
		     MLCTL_EVERDICT, "the file does not match");

	/* the trusted comment */
	ck_assert_int_eq(sh("sed 's/^trusted comment: comment A$/trusted comment: comment B/' s.orig > s.minisig"), 0);
	expect_error(sign_verify(tmp_path("k.pub"), tmp_path("model.mlpkg"), tmp_path("s.minisig"), NULL),
		     MLCTL_EVERDICT, "trusted comment was altered");

	/* the global signature */
	ck_assert_int_eq(sh("awk 'NR==4{c=substr($0,10,1); r=(c==\"A\")?\"B\":\"A\"; $0=substr($0,1,9) r substr($0,11)}"
			    "{print}' s.orig > s.minisig"), 0);
	expect_error(sign_verify(tmp_path("k.pub"), tmp_path("model.mlpkg"), tmp_path("s.minisig"), NULL),
		     MLCTL_EVERDICT, "trusted comment");

	/* the untouched signature still verifies */
	ck_assert_int_eq(sign_verify(tmp_path("k.pub"), tmp_path("model.mlpkg"), tmp_path("s.orig"), NULL), 0);
}
END_TEST

START_TEST(test_sign_malformed)
{
	char *pk = NULL, *sig = NULL;
	size_t pklen, siglen;
	const char *data = "payload";

	make_keys();
	write_tmp("f", data);
	ck_assert_int_eq(sign_file(tmp_path("k.sec"), tmp_path("f"), tmp_path("f.minisig"), "t"), 0);
	ck_assert_int_eq(fs_read_file(&pk, &pklen, tmp_path("k.pub"), 0), 0);
	ck_assert_int_eq(fs_read_file(&sig, &siglen, tmp_path("f.minisig"), 0), 0);
	ck_assert_int_eq(sign_verify_mem(pk, pklen, data, strlen(data), sig, siglen, "f.minisig", NULL), 0);
	expect_error(sign_verify_mem(pk, pklen, "payloaD", 7, sig, siglen, "f.minisig", NULL),
		     MLCTL_EVERDICT, "f.minisig");

	/* signature files */
	expect_error(sign_verify_mem(pk, pklen, data, 7, "", 0, "f.minisig", NULL), MLCTL_EDATA, "f.minisig:1");
	expect_error(sign_verify_mem(pk, pklen, data, 7, "hello\n", 6, "f.minisig", NULL), MLCTL_EDATA, "f.minisig:1");
	expect_error(sign_verify_mem(pk, pklen, data, 7, sig, siglen / 2, "f.minisig", NULL), MLCTL_EDATA, "truncated");
	write_tmp("bad.minisig", "untrusted comment: x\nnot base64!!\ntrusted comment: t\nAAAA\n");
	expect_error(sign_verify(tmp_path("k.pub"), tmp_path("f"), tmp_path("bad.minisig"), NULL),
		     MLCTL_EDATA, "bad.minisig:2");
	ck_assert_int_eq(sh("sed '3s/^trusted/Trusted/' f.minisig > nt.minisig"), 0);
	expect_error(sign_verify(tmp_path("k.pub"), tmp_path("f"), tmp_path("nt.minisig"), NULL),
		     MLCTL_EDATA, "nt.minisig:3");
	ck_assert_int_eq(sh("sed '4s/^..../AAAA/;4s/=*$//' f.minisig > ng.minisig"), 0);
	expect_error(sign_verify(tmp_path("k.pub"), tmp_path("f"), tmp_path("ng.minisig"), NULL),
		     MLCTL_EDATA, "ng.minisig:4");

	/* public keys */
	expect_error(sign_verify_mem("untrusted comment: k\nRWQ=\n", 25, data, 7, sig, siglen, "f.minisig", NULL),
		     MLCTL_EDATA, "public key");
	expect_error(sign_verify_mem(sig, siglen, data, 7, sig, siglen, "f.minisig", NULL),
		     MLCTL_EDATA, "(public key):2");
	write_tmp("bad.pub", "just one line\n");
	expect_error(sign_verify(tmp_path("bad.pub"), tmp_path("f"), tmp_path("f.minisig"), NULL),
		     MLCTL_EDATA, "bad.pub:1");
	expect_error(sign_verify(tmp_path("missing.pub"), tmp_path("f"), tmp_path("f.minisig"), NULL),
		     MLCTL_ENOTFOUND, "missing.pub");

	/* secret keys: damaged, encrypted, not a key */
	ck_assert_int_eq(sh("awk 'NR==2{c=substr($0,130,1); r=(c==\"A\")?\"B\":\"A\"; $0=substr($0,1,129) r substr($0,131)}"
			    "{print}' k.sec > bad.sec"), 0);
	expect_error(sign_file(tmp_path("bad.sec"), tmp_path("f"), tmp_path("o.minisig"), NULL), MLCTL_EDATA, "checksum");
	/* the KDF field set to scrypt ("Sc"), as a password-protected minisign key has it */
	ck_assert_int_eq(sh("{ head -n1 k.sec; sed -n 2p k.sec | base64 -d | "
			    "{ printf EdSc; tail -c +5; } | base64 -w0; echo; } > enc.sec"), 0);
	expect_error(sign_file(tmp_path("enc.sec"), tmp_path("f"), tmp_path("o.minisig"), NULL),
		     MLCTL_EDATA, "encrypted");
	expect_error(sign_file(tmp_path("k.pub"), tmp_path("f"), tmp_path("o.minisig"), NULL), MLCTL_EDATA, "k.pub:2");
	ck_assert(!fs_exists(tmp_path("o.minisig")));
	free(pk);
	free(sig);
}
END_TEST

static Suite *sign_suite(void)
{
	Suite *s = suite_create("sign");
	TCase *tc = tcase_create("sign");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, test_sign_roundtrip);
	tcase_add_test(tc, test_sign_keygen_refuses_overwrite);
	tcase_add_test(tc, test_sign_minisign_verifies_ours);
	tcase_add_test(tc, test_sign_we_verify_minisign);
	tcase_add_test(tc, test_sign_tampering);
	tcase_add_test(tc, test_sign_malformed);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(sign_suite)
