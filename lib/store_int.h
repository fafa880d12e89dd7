/*
 * store_int.h — what other lib/ modules need of the store beyond its public API: objects
 * stored compressed (data sets), and streaming an object's content out, decoded and
 * checked (floor 2). Not part of the public API.
 *
 * A compressed object is the file STORE_ZLIB_MAGIC followed by a zlib stream (RFC 1950:
 * deflate with an Adler-32 trailer) of the content; it is named, like every object, by
 * the SHA-256 of the content, so the uncompressed bytes and their object have one digest.
 * The marker is in the file itself: whoever wrote it, a reader knows how to decode it,
 * and mlctl_store_get() decodes such an object as it does a plain one.
 */
#ifndef MLCTL_STORE_INT_H
#define MLCTL_STORE_INT_H

#include <stdint.h>
#include <stdio.h>

#include "mlctl/store.h"

#define STORE_ZLIB_MAGIC "MLCTLZ1\n"
#define STORE_ZLIB_MAGIC_LEN 8

/*
 * Store the file src compressed, read once and streamed (hashed and deflated as it is
 * read, never whole in memory) into a temp file that is renamed to its digest: a killed
 * process leaves no half object. Takes the store lock as mlctl_store_put() does. An
 * object with that digest already there (plain or compressed) is kept and its mtime
 * refreshed. *size gets the content's size, *stored the size of the object's file.
 */
int store_put_file_deflate(char out[65], uint64_t *size, uint64_t *stored, mlctl_registry *reg,
			   const char *src, const char *media_type);

/* Write the content of object digest to out, decoding a compressed object, while hashing
 * it: MLCTL_ECORRUPT when what was written does not have the digest (the caller then
 * discards out), MLCTL_ENOTFOUND when the object is not in the store. *size: bytes written. */
int store_copy_out(uint64_t *size, mlctl_registry *reg, const char *digest, FILE *out, const char *out_name);

/* Whether object digest is in the store; when it is, *compressed says whether its file is
 * compressed and *stored_size is the file's size. */
bool store_object_info(mlctl_registry *reg, const char *digest, bool *compressed, uint64_t *stored_size);

#endif
