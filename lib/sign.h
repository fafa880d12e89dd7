/*
 * sign.h — Ed25519 keys and detached signatures in minisign's formats (floor 2), through
 * libsodium, so that `minisign -V -p KEY.pub -m FILE` verifies what mlctl signs.
 * Keys: the public key file is minisign's ("untrusted comment: ..." + base64 of "Ed",
 * key id, key); the secret key file is minisign's unencrypted form (KDF "\0\0", as
 * `minisign -G -W` writes), mode 0600. Signatures are minisign's prehashed "ED" form
 * (BLAKE2b-512 of the file) with a trusted comment and a global signature.
 */
#ifndef MLCTL_SIGN_H
#define MLCTL_SIGN_H

#include <stddef.h>

/* Initialise libsodium once for the process (sodium_init; thread-safe, idempotent). */
int sign_init(void);
/* Create a key pair; refuses to overwrite existing files (MLCTL_EEXISTS). */
int sign_keygen(const char *pubkey_path, const char *seckey_path);

/* Sign file_path into sig_path (written atomically) with the secret key file. The trusted
 * comment is stored in the signature and covered by it. */
int sign_file(const char *seckey_path, const char *file_path, const char *sig_path,
	      const char *trusted_comment);

/* Verify sig_path for file_path with the public key file: 0 good, MLCTL_EVERDICT when the
 * signature does not match (message says so), MLCTL_EDATA for malformed key/signature
 * files naming the file and line. *trusted_comment (may be NULL) receives a fresh copy. */
int sign_verify(const char *pubkey_path, const char *file_path, const char *sig_path,
		char **trusted_comment);

/* Same checks on buffers (for fuzzing and for data already in memory). */
int sign_verify_mem(const char *pubkey_text, size_t pklen, const void *data, size_t len,
		    const char *sig_text, size_t siglen, const char *origin, char **trusted_comment);

#endif
