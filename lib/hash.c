/*
 * hash.c — SHA-256 through libsodium (floor 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "error.h"
#include "hash.h"
#include "banned.h"

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((hash_ctx *)0)->state),
	       "hash_ctx too small for crypto_hash_sha256_state");

void hash_init(hash_ctx *h)
{
	crypto_hash_sha256_init((crypto_hash_sha256_state *)(void *)h->state);
}

void hash_update(hash_ctx *h, const void *data, size_t len)
{
	crypto_hash_sha256_update((crypto_hash_sha256_state *)(void *)h->state, data, len);
}

void hash_final_hex(hash_ctx *h, char out[MLCTL_DIGEST_HEX])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_final((crypto_hash_sha256_state *)(void *)h->state, d);
	sodium_bin2hex(out, MLCTL_DIGEST_HEX, d, sizeof(d));
}

void hash_buf_hex(char out[MLCTL_DIGEST_HEX], const void *data, size_t len)
{
	hash_ctx h;

	hash_init(&h);
	hash_update(&h, data, len);
	hash_final_hex(&h, out);
}

int hash_file_hex(char out[MLCTL_DIGEST_HEX], size_t *size, const char *path)
{
	unsigned char buf[65536];
	size_t total = 0;
	hash_ctx h;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mlctl_error_errno(MLCTL_EIO, "cannot open %s", path);
	hash_init(&h);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = mlctl_error_errno(MLCTL_EIO, "cannot read %s", path);
			close(fd);
			return (int)n;
		}
		hash_update(&h, buf, (size_t)n);
		total += (size_t)n;
	}
	close(fd);
	hash_final_hex(&h, out);
	if (size)
		*size = total;
	return 0;
}

int hash_is_hex(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}
