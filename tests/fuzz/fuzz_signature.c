/*
 * fuzz_signature.c — the minisign key and signature parsers on arbitrary bytes: the input
 * is split at its first NUL byte into a public key text and a signature text, then checked
 * against a fixed message. Nothing may crash; nothing random may verify.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mlctl/common.h"
#include "sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char msg[] = "mlctl fuzz message";
	const uint8_t *nul = memchr(data, 0, size);
	size_t klen = nul ? (size_t)(nul - data) : size / 2;
	const char *sig = (const char *)data + klen + (nul ? 1 : 0);
	size_t slen = size - klen - (nul ? 1 : 0);
	char *comment = NULL;

	sign_verify_mem((const char *)data, klen, msg, sizeof(msg) - 1, sig, slen, "fuzz", &comment);
	free(comment);
	return 0;
}
