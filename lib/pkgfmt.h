/*
 * pkgfmt.h — the .mlpkg container (floor 2): a deterministic gzip-compressed POSIX tar
 * written and read with libarchive, and safe reading that refuses absolute paths, "..",
 * links, devices, duplicate and unknown entries, entries larger than declared and
 * decompression bombs, before anything is written anywhere.
 */
#ifndef MLCTL_PKGFMT_H
#define MLCTL_PKGFMT_H

#include <stddef.h>
#include <stdint.h>

typedef struct pkg_entry {
	char *name;             /* "MANIFEST.yaml", "model/libsvm.model", ... */
	unsigned char *data;
	size_t len;
} pkg_entry;

/*
 * Write entries to path atomically (temp file, fsync, rename) as a deterministic tar.gz:
 * entries sorted by name with parent directories, every mtime = mtime, uid/gid 0,
 * owner/group "root", mode 0644 (directories 0755), no gzip timestamp or name. The same
 * entries and mtime always give the same bytes.
 */
int pkg_write(const char *path, const pkg_entry *entries, size_t n, int64_t mtime);
/* The same bytes into a fresh buffer *out (the caller's; len excludes its NUL). */
int pkg_write_mem(char **out, size_t *len, const pkg_entry *entries, size_t n, int64_t mtime);

typedef struct pkg_limits {
	size_t max_total;       /* total unpacked bytes (default 1 GiB) */
	size_t max_entries;     /* default 64 */
} pkg_limits;
#define PKG_LIMITS_INIT { (size_t)1 << 30, 64 }

/* A package read into memory: entries in archive order. */
typedef struct pkg_contents {
	size_t n;
	pkg_entry *entries;
} pkg_contents;

/*
 * Read path safely into memory. allowed[0..nallowed) are the only entry names accepted
 * (directories implied by them are accepted too); anything else is MLCTL_EDATA naming the
 * entry and why. A file that is not a gzip tar is MLCTL_EDATA "not a package". The gzip
 * stream is read to its end: a trailer whose CRC-32 or length does not match, or bytes
 * after the gzip member, are MLCTL_EDATA ("PATH: gzip trailer: CRC mismatch").
 */
int pkg_read(pkg_contents **out, const char *path, const char *const *allowed, size_t nallowed,
	     const pkg_limits *lim);
/* Same, from a buffer (for fuzzing). */
int pkg_read_mem(pkg_contents **out, const void *buf, size_t len, const char *origin,
		 const char *const *allowed, size_t nallowed, const pkg_limits *lim);
const pkg_entry *pkg_find(const pkg_contents *c, const char *name);
void pkg_contents_free(pkg_contents *c);

/* Write every entry of c under dir (which must exist), creating subdirectories, each file
 * written atomically with mode 0644. Names were checked by pkg_read(). */
int pkg_extract(const pkg_contents *c, const char *dir);

#endif
