/*
 * sign.c — Ed25519 keys and detached signatures in minisign's formats (floor 2), through
 * libsodium. The binary layouts (all base64 on one line after an untrusted comment):
 *   public key  "Ed" keynum[8] pk[32]
 *   secret key  "Ed" kdf[2]="\0\0" "B2" salt[32] opslimit[8] memlimit[8]
 *               keynum[8] sk[64] chk[32], chk = BLAKE2b-256("Ed" keynum sk)
 *   signature   "ED" keynum[8] ed25519(BLAKE2b-512(file)), then the trusted comment line
 *               and ed25519(signature || trusted comment) on the last line.
 * "Ed" signatures (the file itself signed, minisign's legacy form) are verified too.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "error.h"
#include "fsutil.h"
#include "sign.h"
#include "util.h"
#include "banned.h"

#define KEYNUM_BYTES 8
#define PUBKEY_BYTES (2 + KEYNUM_BYTES + crypto_sign_PUBLICKEYBYTES)
#define SIG_BYTES (2 + KEYNUM_BYTES + crypto_sign_BYTES)
#define SALT_BYTES 32
#define SECKEY_HEAD (2 + 2 + 2 + SALT_BYTES + 8 + 8)
#define CHK_BYTES 32
#define SECKEY_BYTES (SECKEY_HEAD + KEYNUM_BYTES + crypto_sign_SECRETKEYBYTES + CHK_BYTES)
#define COMMENT_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
#define TRUSTED_MAX 8000        /* minisign reads at most 8192 bytes with the prefix */
#define KEYFILE_MAX 4096
#define SIGFILE_MAX 16384
#define LEGACY_MAX ((size_t)1 << 30)

typedef struct pubkey {
	unsigned char keynum[KEYNUM_BYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
} pubkey;

typedef struct signature {
	bool hashed;                    /* "ED": BLAKE2b-512 of the file was signed */
	unsigned char keynum[KEYNUM_BYTES];
	unsigned char sig[crypto_sign_BYTES];
	char *trusted;                  /* the trusted comment, without its prefix */
	unsigned char global[crypto_sign_BYTES];
} signature;

/* One line of a key or signature file, without its "\n" or "\r\n". */
typedef struct line {
	const char *s;
	size_t len;
} line;

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = -1;

static void do_sodium_init(void)
{
	sodium_status = sodium_init() < 0 ? -1 : 0;
}

static int need_sodium(void)
{
	pthread_once(&sodium_once, do_sodium_init);
	if (sodium_status)
		return mlctl_error_set(MLCTL_ERROR, "libsodium cannot be initialised");
	return 0;
}

int sign_init(void)
{
	return need_sodium();
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Split text into at most max lines; refuses NUL bytes. *n counts the lines found. */
static int split_lines(line *lines, size_t max, size_t *n, const char *text, size_t len,
		       const char *origin)
{
	size_t i = 0;

	*n = 0;
	if (memchr(text, '\0', len))
		return mlctl_error_set(MLCTL_EDATA, "%s: holds a NUL byte: not a minisign file", origin);
	while (i < len && *n < max) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;

		lines[*n].s = text + i;
		lines[*n].len = end - i;
		if (lines[*n].len && lines[*n].s[lines[*n].len - 1] == '\r')
			lines[*n].len--;
		(*n)++;
		i = end + 1;
	}
	return 0;
}

static bool has_prefix(const line *l, const char *prefix)
{
	size_t n = strlen(prefix);

	return l->len >= n && !memcmp(l->s, prefix, n);
}

/* Decode a base64 line into exactly len bytes. */
static int decode_line(unsigned char *out, size_t len, const line *l, const char *origin,
		       int lineno, const char *what)
{
	size_t got = 0;

	if (sodium_base642bin(out, len, l->s, l->len, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || got != len)
		return mlctl_error_set(MLCTL_EDATA, "%s:%d: not a base64 %s of %zu bytes", origin, lineno,
				       what, len);
	return 0;
}

static int parse_pubkey(pubkey *pk, const char *text, size_t len, const char *origin)
{
	unsigned char bin[PUBKEY_BYTES];
	line lines[2];
	size_t n;
	int ret;

	if ((ret = split_lines(lines, 2, &n, text, len, origin)))
		return ret;
	if (n < 2 || !has_prefix(&lines[0], COMMENT_PREFIX))
		return mlctl_error_set(MLCTL_EDATA, "%s:1: not a minisign public key (expected \"%s...\" and a key line)",
				       origin, COMMENT_PREFIX);
	if ((ret = decode_line(bin, sizeof(bin), &lines[1], origin, 2, "public key")))
		return ret;
	if (memcmp(bin, "Ed", 2))
		return mlctl_error_set(MLCTL_EDATA, "%s:2: unsupported signature algorithm (not Ed25519)", origin);
	memcpy(pk->keynum, bin + 2, KEYNUM_BYTES);
	memcpy(pk->pk, bin + 2 + KEYNUM_BYTES, crypto_sign_PUBLICKEYBYTES);
	return 0;
}

static int parse_signature(signature *sg, const char *text, size_t len, const char *origin)
{
	unsigned char bin[SIG_BYTES];
	line lines[4];
	size_t n, tlen;
	int ret;

	memset(sg, 0, sizeof(*sg));
	if ((ret = split_lines(lines, 4, &n, text, len, origin)))
		return ret;
	if (n < 1 || !has_prefix(&lines[0], COMMENT_PREFIX))
		return mlctl_error_set(MLCTL_EDATA, "%s:1: not a minisign signature (expected \"%s...\")",
				       origin, COMMENT_PREFIX);
	if (n < 4)
		return mlctl_error_set(MLCTL_EDATA, "%s: truncated signature: %zu lines of 4", origin, n);
	if ((ret = decode_line(bin, sizeof(bin), &lines[1], origin, 2, "signature")))
		return ret;
	if (!memcmp(bin, "ED", 2))
		sg->hashed = true;
	else if (memcmp(bin, "Ed", 2))
		return mlctl_error_set(MLCTL_EDATA, "%s:2: unsupported signature algorithm", origin);
	memcpy(sg->keynum, bin + 2, KEYNUM_BYTES);
	memcpy(sg->sig, bin + 2 + KEYNUM_BYTES, crypto_sign_BYTES);
	if (!has_prefix(&lines[2], TRUSTED_PREFIX))
		return mlctl_error_set(MLCTL_EDATA, "%s:3: expected \"%s...\"", origin, TRUSTED_PREFIX);
	tlen = lines[2].len - strlen(TRUSTED_PREFIX);
	if (tlen > TRUSTED_MAX)
		return mlctl_error_set(MLCTL_EDATA, "%s:3: trusted comment longer than %d bytes", origin, TRUSTED_MAX);
	if ((ret = decode_line(sg->global, sizeof(sg->global), &lines[3], origin, 4, "global signature")))
		return ret;
	sg->trusted = strndup(lines[2].s + strlen(TRUSTED_PREFIX), tlen);
	if (!sg->trusted)
		return mlctl_error_oom();
	return 0;
}

/* Check sg over msg (the file, or its BLAKE2b-512 for a hashed signature) with pk. */
static int check_signature(const pubkey *pk, const signature *sg, const unsigned char *msg,
			   size_t msglen, const char *origin, char **trusted_comment)
{
	unsigned char *both = NULL;
	size_t tlen = strlen(sg->trusted);
	int ret = 0;

	if (memcmp(pk->keynum, sg->keynum, KEYNUM_BYTES))
		return mlctl_error_set(MLCTL_EVERDICT, "%s: signed with key %" PRIX64 ", but the public key is %" PRIX64,
				       origin, le64(sg->keynum), le64(pk->keynum));
	if (crypto_sign_verify_detached(sg->sig, msg, msglen, pk->pk) != 0)
		return mlctl_error_set(MLCTL_EVERDICT, "%s: signature verification failed: the file does not match its signature",
				       origin);
	both = malloc(crypto_sign_BYTES + tlen);
	if (!both)
		return mlctl_error_oom();
	memcpy(both, sg->sig, crypto_sign_BYTES);
	memcpy(both + crypto_sign_BYTES, sg->trusted, tlen);
	if (crypto_sign_verify_detached(sg->global, both, crypto_sign_BYTES + tlen, pk->pk) != 0) {
		ret = mlctl_error_set(MLCTL_EVERDICT, "%s: trusted comment signature verification failed: "
				      "the trusted comment was altered", origin);
		goto out;
	}
	if (trusted_comment && !(*trusted_comment = mlctl_strdup(sg->trusted)))
		ret = MLCTL_ENOMEM;
out:
	free(both);
	return ret;
}

int sign_verify_mem(const char *pubkey_text, size_t pklen, const void *data, size_t len,
		    const char *sig_text, size_t siglen, const char *origin, char **trusted_comment)
{
	unsigned char h[crypto_generichash_BYTES_MAX];
	signature sg = { 0 };
	pubkey pk;
	char *pkorigin = NULL;
	int ret;

	if (trusted_comment)
		*trusted_comment = NULL;
	if (!origin)
		origin = "signature";
	if ((ret = need_sodium()))
		return ret;
	if (!(pkorigin = mlctl_asprintf("%s (public key)", origin)))
		return MLCTL_ENOMEM;
	if ((ret = parse_pubkey(&pk, pubkey_text, pklen, pkorigin)) ||
	    (ret = parse_signature(&sg, sig_text, siglen, origin)))
		goto out;
	if (sg.hashed) {
		crypto_generichash(h, sizeof(h), data, len, NULL, 0);
		ret = check_signature(&pk, &sg, h, sizeof(h), origin, trusted_comment);
	} else {
		ret = check_signature(&pk, &sg, data, len, origin, trusted_comment);
	}
out:
	free(sg.trusted);
	free(pkorigin);
	return ret;
}

/* BLAKE2b-512 of a file, read in chunks. */
static int hash_file_b2(unsigned char h[crypto_generichash_BYTES_MAX], const char *path)
{
	crypto_generichash_state st;
	unsigned char buf[65536];
	FILE *f = fopen(path, "rb");
	size_t n;
	int ret = 0;

	if (!f)
		return mlctl_error_errno(MLCTL_EIO, "cannot open %s", path);
	crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES_MAX);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		crypto_generichash_update(&st, buf, n);
	if (ferror(f))
		ret = mlctl_error_errno(MLCTL_EIO, "cannot read %s", path);
	else
		crypto_generichash_final(&st, h, crypto_generichash_BYTES_MAX);
	fclose(f);
	return ret;
}

int sign_verify(const char *pubkey_path, const char *file_path, const char *sig_path,
		char **trusted_comment)
{
	unsigned char h[crypto_generichash_BYTES_MAX];
	char *pktext = NULL, *sigtext = NULL, *data = NULL;
	size_t pklen, siglen, len;
	signature sg = { 0 };
	pubkey pk;
	int ret;

	if (trusted_comment)
		*trusted_comment = NULL;
	if ((ret = need_sodium()))
		return ret;
	if ((ret = fs_read_file(&pktext, &pklen, pubkey_path, KEYFILE_MAX)) ||
	    (ret = fs_read_file(&sigtext, &siglen, sig_path, SIGFILE_MAX)) ||
	    (ret = parse_pubkey(&pk, pktext, pklen, pubkey_path)) ||
	    (ret = parse_signature(&sg, sigtext, siglen, sig_path)))
		goto out;
	if (sg.hashed) {
		if (!(ret = hash_file_b2(h, file_path)))
			ret = check_signature(&pk, &sg, h, sizeof(h), sig_path, trusted_comment);
	} else if (!(ret = fs_read_file(&data, &len, file_path, LEGACY_MAX))) {
		ret = check_signature(&pk, &sg, (unsigned char *)data, len, sig_path, trusted_comment);
	}
out:
	free(sg.trusted);
	free(data);
	free(sigtext);
	free(pktext);
	return ret;
}

/* ---- keys and signing ---- */

static void seckey_chk(unsigned char chk[CHK_BYTES], const unsigned char *keynum, const unsigned char *sk)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, CHK_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)"Ed", 2);
	crypto_generichash_update(&st, keynum, KEYNUM_BYTES);
	crypto_generichash_update(&st, sk, crypto_sign_SECRETKEYBYTES);
	crypto_generichash_final(&st, chk, CHK_BYTES);
}

/* "untrusted comment: ...\n" + base64(bin) + "\n", freshly allocated. */
static char *armor(const char *comment, const unsigned char *bin, size_t len)
{
	size_t b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = malloc(b64len), *text;

	if (!b64) {
		mlctl_error_oom();
		return NULL;
	}
	sodium_bin2base64(b64, b64len, bin, len, sodium_base64_VARIANT_ORIGINAL);
	text = mlctl_asprintf(COMMENT_PREFIX "%s\n%s\n", comment, b64);
	sodium_memzero(b64, b64len);
	free(b64);
	return text;
}

int sign_keygen(const char *pubkey_path, const char *seckey_path)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	unsigned char pkbin[PUBKEY_BYTES], skbin[SECKEY_BYTES], *keynum, *p;
	char *pktext = NULL, *sktext = NULL, comment[64];
	int ret;

	if ((ret = need_sodium()))
		return ret;
	if (fs_exists(pubkey_path) || fs_exists(seckey_path))
		return mlctl_error_set(MLCTL_EEXISTS, "%s exists already: not overwriting a key",
				       fs_exists(seckey_path) ? seckey_path : pubkey_path);
	crypto_sign_keypair(pk, sk);
	memset(skbin, 0, sizeof(skbin));
	memcpy(skbin, "Ed\0\0B2", 6);   /* salt, opslimit and memlimit stay 0: not encrypted */
	keynum = skbin + SECKEY_HEAD;
	randombytes_buf(keynum, KEYNUM_BYTES);
	p = keynum + KEYNUM_BYTES;
	memcpy(p, sk, sizeof(sk));
	seckey_chk(p + sizeof(sk), keynum, sk);
	memcpy(pkbin, "Ed", 2);
	memcpy(pkbin + 2, keynum, KEYNUM_BYTES);
	memcpy(pkbin + 2 + KEYNUM_BYTES, pk, sizeof(pk));
	snprintf(comment, sizeof(comment), "minisign public key %" PRIX64, le64(keynum));
	pktext = armor(comment, pkbin, sizeof(pkbin));
	sktext = armor("minisign secret key (unencrypted)", skbin, sizeof(skbin));
	if (!pktext || !sktext) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if ((ret = fs_write_atomic(seckey_path, sktext, strlen(sktext), 0600)))
		goto out;
	if ((ret = fs_write_atomic(pubkey_path, pktext, strlen(pktext), 0644)))
		unlink(seckey_path);
out:
	if (sktext) {
		sodium_memzero(sktext, strlen(sktext));
		free(sktext);
	}
	free(pktext);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(skbin, sizeof(skbin));
	return ret;
}

/* Load an unencrypted minisign secret key: keynum and the 64-byte Ed25519 secret key. */
static int load_seckey(unsigned char keynum[KEYNUM_BYTES], unsigned char sk[crypto_sign_SECRETKEYBYTES],
		       const char *path)
{
	unsigned char bin[SECKEY_BYTES], chk[CHK_BYTES], zero[CHK_BYTES] = { 0 };
	const unsigned char *kn = bin + SECKEY_HEAD, *s = kn + KEYNUM_BYTES, *c = s + crypto_sign_SECRETKEYBYTES;
	char *text = NULL;
	line lines[2];
	size_t len, n;
	int ret;

	if ((ret = fs_read_file(&text, &len, path, KEYFILE_MAX)))
		return ret;
	if ((ret = split_lines(lines, 2, &n, text, len, path)))
		goto out;
	if (n < 2 || !has_prefix(&lines[0], COMMENT_PREFIX)) {
		ret = mlctl_error_set(MLCTL_EDATA, "%s:1: not a minisign secret key", path);
		goto out;
	}
	if ((ret = decode_line(bin, sizeof(bin), &lines[1], path, 2, "secret key")))
		goto out;
	if (memcmp(bin, "Ed", 2) || memcmp(bin + 4, "B2", 2)) {
		ret = mlctl_error_set(MLCTL_EDATA, "%s:2: unsupported signature or checksum algorithm", path);
		goto out;
	}
	if (memcmp(bin + 2, "\0\0", 2)) {
		ret = mlctl_error_set(MLCTL_EDATA, "%s:2: the secret key is encrypted with a password; "
				      "mlctl reads unencrypted keys (mlctl keygen, or minisign -G -W)", path);
		goto out;
	}
	/* minisign -G -W leaves the checksum zero; a key that has one must match it */
	seckey_chk(chk, kn, s);
	if (memcmp(c, zero, CHK_BYTES) && sodium_memcmp(c, chk, CHK_BYTES)) {
		ret = mlctl_error_set(MLCTL_EDATA, "%s:2: secret key checksum mismatch: the key is damaged", path);
		goto out;
	}
	memcpy(keynum, kn, KEYNUM_BYTES);
	memcpy(sk, s, crypto_sign_SECRETKEYBYTES);
out:
	sodium_memzero(bin, sizeof(bin));
	if (text) {
		sodium_memzero(text, len);
		free(text);
	}
	return ret;
}

static int check_trusted_comment(const char *tc)
{
	if (strchr(tc, '\n') || strchr(tc, '\r'))
		return mlctl_error_set(MLCTL_EUSAGE, "the trusted comment must be one line");
	if (strlen(tc) > TRUSTED_MAX)
		return mlctl_error_set(MLCTL_EUSAGE, "the trusted comment is longer than %d bytes", TRUSTED_MAX);
	return 0;
}

/* The signature file text for a BLAKE2b-512 digest h, signed with sk. */
static char *signature_text(const unsigned char *keynum, const unsigned char *sk,
			    const unsigned char h[crypto_generichash_BYTES_MAX], const char *tc)
{
	unsigned char bin[SIG_BYTES], global[crypto_sign_BYTES], *both;
	size_t tlen = strlen(tc), b64len = sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL);
	char *head, *text = NULL, gb64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)];

	memcpy(bin, "ED", 2);
	memcpy(bin + 2, keynum, KEYNUM_BYTES);
	crypto_sign_detached(bin + 2 + KEYNUM_BYTES, NULL, h, crypto_generichash_BYTES_MAX, sk);
	both = malloc(crypto_sign_BYTES + tlen);
	if (!both) {
		mlctl_error_oom();
		return NULL;
	}
	memcpy(both, bin + 2 + KEYNUM_BYTES, crypto_sign_BYTES);
	memcpy(both + crypto_sign_BYTES, tc, tlen);
	crypto_sign_detached(global, NULL, both, crypto_sign_BYTES + tlen, sk);
	free(both);
	sodium_bin2base64(gb64, b64len, global, sizeof(global), sodium_base64_VARIANT_ORIGINAL);
	head = armor("signature from mlctl secret key", bin, sizeof(bin));
	if (head)
		text = mlctl_asprintf("%s" TRUSTED_PREFIX "%s\n%s\n", head, tc, gb64);
	free(head);
	return text;
}

int sign_file(const char *seckey_path, const char *file_path, const char *sig_path,
	      const char *trusted_comment)
{
	unsigned char keynum[KEYNUM_BYTES] = { 0 }, sk[crypto_sign_SECRETKEYBYTES] = { 0 };
	unsigned char h[crypto_generichash_BYTES_MAX];
	char *deftc = NULL, *text = NULL;
	const char *base;
	int ret;

	if ((ret = need_sodium()))
		return ret;
	if (!trusted_comment) {
		/* no timestamp: the same file and key give the same signature */
		base = strrchr(file_path, '/');
		deftc = mlctl_asprintf("file:%s", base ? base + 1 : file_path);
		if (!deftc)
			return MLCTL_ENOMEM;
		trusted_comment = deftc;
	}
	if ((ret = check_trusted_comment(trusted_comment)) ||
	    (ret = load_seckey(keynum, sk, seckey_path)) ||
	    (ret = hash_file_b2(h, file_path)))
		goto out;
	text = signature_text(keynum, sk, h, trusted_comment);
	if (!text) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	ret = fs_write_atomic(sig_path, text, strlen(text), 0644);
out:
	sodium_memzero(sk, sizeof(sk));
	free(text);
	free(deftc);
	return ret;
}
