/*
 * hash.h — SHA-256 digests as lowercase hex (floor 1), through libsodium.
 */
#ifndef MLCTL_HASH_H
#define MLCTL_HASH_H

#include <stddef.h>

#define MLCTL_DIGEST_HEX 65 /* 64 hex characters and a NUL */

typedef struct hash_ctx {
	unsigned char state[256]; /* crypto_hash_sha256_state, kept opaque here */
} hash_ctx;

void hash_init(hash_ctx *h);
void hash_update(hash_ctx *h, const void *data, size_t len);
void hash_final_hex(hash_ctx *h, char out[MLCTL_DIGEST_HEX]);

/* The digest of a buffer. */
void hash_buf_hex(char out[MLCTL_DIGEST_HEX], const void *data, size_t len);
/* The digest and size of a file, read in chunks. */
int hash_file_hex(char out[MLCTL_DIGEST_HEX], size_t *size, const char *path);
/* True when s is 64 lowercase hex characters. */
int hash_is_hex(const char *s);

#endif
