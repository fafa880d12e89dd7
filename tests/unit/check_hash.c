/*
 * check_hash.c — hash.c (floor 1): SHA-256 of the FIPS 180-2 test vectors, streaming in
 * pieces of every size equals one shot, files hash as their bytes, the hex predicate.
 */
#include "check_util.h"
#include "error.h"
#include "hash.h"

#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_448 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define SHA_MILLION_A "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

START_TEST(test_hash_vectors)
{
	static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char hex[MLCTL_DIGEST_HEX];

	hash_buf_hex(hex, "", 0);
	ck_assert_str_eq(hex, SHA_EMPTY);
	hash_buf_hex(hex, NULL, 0);
	ck_assert_str_eq(hex, SHA_EMPTY);
	hash_buf_hex(hex, "abc", 3);
	ck_assert_str_eq(hex, SHA_ABC);
	hash_buf_hex(hex, two_blocks, strlen(two_blocks));
	ck_assert_str_eq(hex, SHA_448);
	ck_assert_uint_eq(strlen(hex), 64);
	ck_assert(hash_is_hex(hex));
}
END_TEST

/* One million 'a': in one shot, and streamed in chunks of 1, 7, 63, 64, 65 and 4096
 * bytes, which cross the 64-byte block boundary at every offset. */
START_TEST(test_hash_million_a_streaming)
{
	static const size_t chunks[] = { 1, 7, 63, 64, 65, 4096 };
	size_t n = 1000000, i, at;
	char *a = malloc(n), hex[MLCTL_DIGEST_HEX];

	memset(a, 'a', n);
	hash_buf_hex(hex, a, n);
	ck_assert_str_eq(hex, SHA_MILLION_A);
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		hash_ctx h;

		hash_init(&h);
		for (at = 0; at < n; at += chunks[i])
			hash_update(&h, a + at, n - at < chunks[i] ? n - at : chunks[i]);
		hash_final_hex(&h, hex);
		ck_assert_msg(strcmp(hex, SHA_MILLION_A) == 0, "chunks of %zu: %s", chunks[i], hex);
	}
	free(a);
}
END_TEST

START_TEST(test_hash_streaming_random)
{
	uint64_t st = 99;
	size_t n = 10007, at;
	unsigned char *buf = malloc(n);
	char one[MLCTL_DIGEST_HEX], many[MLCTL_DIGEST_HEX];
	hash_ctx h;
	int round;

	for (at = 0; at < n; at++)
		buf[at] = (unsigned char)unit_rand_u64(&st);
	hash_buf_hex(one, buf, n);
	for (round = 0; round < 20; round++) {
		hash_init(&h);
		for (at = 0; at < n;) {
			size_t len = (size_t)(unit_rand_u64(&st) % 300);

			if (len > n - at)
				len = n - at;
			hash_update(&h, buf + at, len);	/* zero-length updates too */
			at += len;
		}
		hash_final_hex(&h, many);
		ck_assert_str_eq(many, one);
	}
	buf[5000] ^= 1;
	hash_buf_hex(many, buf, n);
	ck_assert_str_ne(many, one);
	free(buf);
}
END_TEST

START_TEST(test_hash_file)
{
	char hex[MLCTL_DIGEST_HEX];
	size_t size = 99;
	size_t n = 200000, i;
	char *big = malloc(n + 1);
	FILE *f;

	ck_assert_int_eq(hash_file_hex(hex, &size, write_tmp("abc", "abc")), 0);
	ck_assert_str_eq(hex, SHA_ABC);
	ck_assert_uint_eq(size, 3);
	ck_assert_int_eq(hash_file_hex(hex, &size, write_tmp("empty", "")), 0);
	ck_assert_str_eq(hex, SHA_EMPTY);
	ck_assert_uint_eq(size, 0);
	/* Larger than the 64 KiB read buffer. */
	f = fopen(tmp_path("a"), "wb");
	for (i = 0; i < n; i++)
		big[i] = 'a';
	ck_assert_uint_eq(fwrite(big, 1, n, f), n);
	fclose(f);
	ck_assert_int_eq(hash_file_hex(hex, NULL, tmp_path("a")), 0);
	{
		char want[MLCTL_DIGEST_HEX];

		hash_buf_hex(want, big, n);
		ck_assert_str_eq(hex, want);
	}
	free(big);
	expect_err(hash_file_hex(hex, &size, tmp_path("missing")), MLCTL_ENOTFOUND, "missing");
	expect_err(hash_file_hex(hex, &size, test_tmpdir), MLCTL_EIO, "cannot read");
}
END_TEST

START_TEST(test_hash_is_hex)
{
	ck_assert(hash_is_hex(SHA_ABC));
	ck_assert(!hash_is_hex(""));
	ck_assert(!hash_is_hex("abc"));
	ck_assert(!hash_is_hex(SHA_ABC "0"));	/* 65 characters */
	ck_assert(!hash_is_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	ck_assert(!hash_is_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag"));
	ck_assert(!hash_is_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a"));
}
END_TEST

static Suite *hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("hash");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hash_vectors);
	tcase_add_test(tc, test_hash_million_a_streaming);
	tcase_add_test(tc, test_hash_streaming_random);
	tcase_add_test(tc, test_hash_file);
	tcase_add_test(tc, test_hash_is_hex);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(hash_suite)
