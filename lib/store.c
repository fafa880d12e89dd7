/*
 * store.c — the content-addressed object store and its garbage collector (floor 2).
 * Objects live at <registry>/objects/ab/cdef… (the SHA-256 split after two characters,
 * as git does). A put writes a temp file, fsyncs it and renames it, so an object file is
 * either absent or complete; it is then recorded in the objects table.
 *
 * Writers and gc: the store lock. gc must never remove an object that a writer has just
 * stored (or found already there, an old orphan of a killed run) but whose reference (a
 * run's lineage row, a model version, a deployment) is not committed yet. So:
 *
 *  - objects/.lock is an flock lock. A writer takes it shared before its first put
 *    (mlctl_store_hold(), or implicitly in mlctl_store_put*()) and keeps it on its
 *    registry handle until the references to what it stored are committed:
 *    mlctl_store_release(), or mlctl_registry_free() at the latest. Writers do not
 *    exclude each other.
 *  - gc takes it exclusively for its whole pass: it reads the references, walks the
 *    objects and deletes only while no writer is between a put and its commit. An object
 *    it finds unreferenced then has no committed reference and no writer in flight; a
 *    writer that stores the same content later finds the file gone and writes it again.
 *  - Order: the store lock first, the database second (gc deletes its rows in a
 *    transaction while it holds the lock), so a writer must not make its first put
 *    inside an open transaction.
 *  - A put of an object that exists refreshes its mtime, so a gc that goes by age alone
 *    (an older mlctl, a store shared without locks) also sees it as young.
 *
 * gc removes a file first and its objects row after, in one transaction for the pass;
 * a kill between the two leaves a row without a file, which the next gc forgets.
 *
 * Compressed objects (store_int.h): data sets are stored deflated behind a magic line,
 * still named by the digest of their content; the objects row's size is the content's.
 * Reading (mlctl_store_get(), store_copy_out()) decodes them and checks the digest of
 * what was decoded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <zlib.h>

#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "registry_int.h"
#include "store_int.h"
#include "util.h"
#include "mlctl/store.h"
#include "banned.h"

/* How long a writer waits for a gc pass to end, and gc for writers to commit. */
#define STORE_HOLD_WAIT_SECS 600
#define STORE_GC_WAIT_SECS 120

char *mlctl_store_path(mlctl_registry *reg, const char *digest)
{
	return mlctl_asprintf("%s/objects/%.2s/%s", mlctl_registry_path(reg), digest, digest + 2);
}

bool mlctl_store_has(mlctl_registry *reg, const char *digest)
{
	char *p = mlctl_store_path(reg, digest);
	bool ok = p && fs_exists(p);

	free(p);
	return ok;
}

static char *lock_path(mlctl_registry *reg)
{
	return mlctl_asprintf("%s/objects/.lock", mlctl_registry_path(reg));
}

int mlctl_store_hold(mlctl_registry *reg)
{
	int *fd = registry_store_lock_fd(reg);
	char *path;
	int ret;

	if (*fd >= 0)
		return 0;
	if (!(path = lock_path(reg)))
		return MLCTL_ENOMEM;
	ret = fs_lock_shared(fd, path, STORE_HOLD_WAIT_SECS);
	if (ret == MLCTL_ELOCKED)
		mlctl_error_set(ret, "%s: a gc of the store has held its lock for %d seconds: retry later", path,
				STORE_HOLD_WAIT_SECS);
	free(path);
	return ret;
}

void mlctl_store_release(mlctl_registry *reg)
{
	int *fd = registry_store_lock_fd(reg);

	fs_unlock(*fd);
	*fd = -1;
}

static int record_object(mlctl_registry *reg, const char *digest, size_t len, const char *media_type)
{
	return registry_exec(reg, "INSERT OR IGNORE INTO objects (digest, size, media_type, created) VALUES (?, ?, ?, ?)",
			     "sisi", digest, (int64_t)len, media_type, mlctl_now_ms());
}

/* Make sure the fan-out directory of digest exists; returns the object path. */
static int object_path_ready(char **out, mlctl_registry *reg, const char *digest)
{
	char *dir = mlctl_asprintf("%s/objects/%.2s", mlctl_registry_path(reg), digest);
	int ret;

	*out = NULL;
	if (!dir)
		return MLCTL_ENOMEM;
	ret = fs_mkdir_p(dir);
	free(dir);
	if (ret)
		return ret;
	*out = mlctl_store_path(reg, digest);
	return *out ? 0 : MLCTL_ENOMEM;
}

/*
 * Whether the object file path exists, refreshing its mtime when it does: *exists is set.
 * An object that cannot be touched (another user's file in a shared store) still counts
 * as there: the store lock protects it.
 */
static int object_touch(bool *exists, const char *path)
{
	*exists = false;
	if (utimensat(AT_FDCWD, path, NULL, 0) == 0) {
		*exists = true;
		return 0;
	}
	if (errno == ENOENT)
		return 0;
	if (fs_exists(path)) {
		*exists = true;
		return 0;
	}
	return mlctl_error_errno(MLCTL_EIO, "cannot check %s", path);
}

int mlctl_store_put(char out[65], mlctl_registry *reg, const void *data, size_t len, const char *media_type)
{
	char *path = NULL;
	bool exists;
	int ret;

	hash_buf_hex(out, data, len);
	if ((ret = mlctl_store_hold(reg)) || (ret = object_path_ready(&path, reg, out)))
		goto out;
	if ((ret = object_touch(&exists, path)))
		goto out;
	if (!exists && (ret = fs_write_atomic(path, data, len, 0444)))
		goto out;
	ret = record_object(reg, out, len, media_type);
out:
	free(path);
	return ret;
}

/* Copy the open file in (named src) to af, hashing exactly the bytes copied. */
static int copy_hashing(char out[65], size_t *size, int in, const char *src, fs_atomic *af)
{
	unsigned char buf[65536];
	hash_ctx h;
	ssize_t n;

	*size = 0;
	hash_init(&h);
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return mlctl_error_errno(MLCTL_EIO, "cannot read %s", src);
		}
		if (fwrite(buf, 1, (size_t)n, af->fp) != (size_t)n)
			return mlctl_error_errno(MLCTL_EIO, "cannot copy %s into the store", src);
		hash_update(&h, buf, (size_t)n);
		*size += (size_t)n;
	}
	hash_final_hex(&h, out);
	return 0;
}

/*
 * One read of src: its bytes are hashed as they are copied into a temp file in objects/,
 * which is then renamed to the digest's name. The object is what was read, whatever src
 * does meanwhile (a file rewritten in place, a pipe).
 */
int mlctl_store_put_file(char out[65], mlctl_registry *reg, const char *src, const char *media_type)
{
	char *incoming = NULL, *path = NULL;
	fs_atomic *af = NULL;
	size_t size = 0;
	bool exists;
	int in = -1, ret;

	out[0] = '\0';
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return mlctl_error_errno(MLCTL_EIO, "cannot open %s", src);
	if ((ret = mlctl_store_hold(reg)))
		goto out;
	if (!(incoming = mlctl_asprintf("%s/objects/incoming", mlctl_registry_path(reg)))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if ((ret = fs_atomic_open(&af, incoming, 0444)) || (ret = copy_hashing(out, &size, in, src, af)) ||
	    (ret = object_path_ready(&path, reg, out)) || (ret = object_touch(&exists, path)))
		goto out;
	if (exists) {
		fs_atomic_abort(af);
	} else {
		/* Commit renames the temp file to af->path: the object's name. */
		free(af->path);
		af->path = path;
		path = NULL;
		ret = fs_atomic_commit(af);
	}
	af = NULL;
	if (!ret)
		ret = record_object(reg, out, size, media_type);
out:
	fs_atomic_abort(af);
	if (in >= 0)
		close(in);
	free(incoming);
	free(path);
	return ret;
}

static bool has_magic(const void *data, size_t len)
{
	return len >= STORE_ZLIB_MAGIC_LEN && memcmp(data, STORE_ZLIB_MAGIC, STORE_ZLIB_MAGIC_LEN) == 0;
}

/* Inflate the zlib stream in (n bytes) into a fresh NUL-terminated buffer. */
static int inflate_buf(char **out, size_t *len, const unsigned char *in, size_t n, const char *path)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	unsigned char buf[65536];
	z_stream z;
	int zr, ret = 0;

	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK)
		return mlctl_error_set(MLCTL_ENOMEM, "cannot start inflating %s", path);
	z.next_in = (unsigned char *)in;
	do {
		z.avail_in = n > (1u << 30) ? 1u << 30 : (unsigned)n;
		n -= z.avail_in;
		do {
			z.next_out = buf;
			z.avail_out = sizeof(buf);
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				ret = mlctl_error_set(MLCTL_ECORRUPT, "%s: a damaged compressed object (%s)", path,
						      z.msg ? z.msg : "zlib error");
				break;
			}
			if ((ret = strbuf_add(&sb, buf, sizeof(buf) - z.avail_out)))
				break;
		} while (!ret && zr != Z_STREAM_END && z.avail_out == 0);
	} while (!ret && zr != Z_STREAM_END && n > 0);
	if (!ret && zr != Z_STREAM_END)
		ret = mlctl_error_set(MLCTL_ECORRUPT, "%s: a truncated compressed object", path);
	inflateEnd(&z);
	if (ret) {
		strbuf_release(&sb);
		return ret;
	}
	*out = strbuf_detach(&sb, len);
	return *out ? 0 : MLCTL_ENOMEM;
}

int mlctl_store_get(char **out, size_t *len, mlctl_registry *reg, const char *digest)
{
	char actual[MLCTL_DIGEST_HEX], *path;
	int ret;

	*out = NULL;
	if (!hash_is_hex(digest))
		return mlctl_error_set(MLCTL_EUSAGE, "\"%s\" is not a SHA-256 digest", digest);
	if (!(path = mlctl_store_path(reg, digest)))
		return MLCTL_ENOMEM;
	ret = fs_read_file(out, len, path, 0);
	if (ret == MLCTL_ENOTFOUND)
		ret = mlctl_error_set(MLCTL_ECORRUPT, "object %.12s is missing from the store (%s)", digest, path);
	if (!ret && has_magic(*out, *len)) {
		char *raw = *out;

		ret = inflate_buf(out, len, (unsigned char *)raw + STORE_ZLIB_MAGIC_LEN, *len - STORE_ZLIB_MAGIC_LEN, path);
		free(raw);
		if (ret)
			*out = NULL;
	}
	if (!ret) {
		hash_buf_hex(actual, *out, *len);
		if (strcmp(actual, digest) != 0) {
			ret = mlctl_error_set(MLCTL_ECORRUPT, "object %.12s is damaged: %s has digest %.12s", digest, path, actual);
			free(*out);
			*out = NULL;
		}
	}
	free(path);
	return ret;
}

/* ---- compressed objects ---- */

/* Write what deflate made of the input so far (flush: Z_NO_FLUSH or Z_FINISH). */
static int deflate_out(z_stream *z, int flush, fs_atomic *af, uint64_t *stored, const char *src)
{
	unsigned char buf[65536];
	int zr;

	do {
		size_t n;

		z->next_out = buf;
		z->avail_out = sizeof(buf);
		zr = deflate(z, flush);
		if (zr == Z_STREAM_ERROR)
			return mlctl_error_set(MLCTL_ERROR, "deflating %s: zlib stream error", src);
		n = sizeof(buf) - z->avail_out;
		if (n && fwrite(buf, 1, n, af->fp) != n)
			return mlctl_error_errno(MLCTL_EIO, "cannot write %s into the store", src);
		*stored += n;
	} while (z->avail_out == 0);
	return 0;
}

/* Copy the open file in (named src) to af deflated, hashing exactly the bytes read. */
static int copy_deflating(char out[65], uint64_t *size, uint64_t *stored, int in, const char *src, fs_atomic *af)
{
	unsigned char buf[65536];
	z_stream z;
	hash_ctx h;
	ssize_t n;
	int ret = 0;

	*size = 0;
	*stored = STORE_ZLIB_MAGIC_LEN;
	if (fwrite(STORE_ZLIB_MAGIC, 1, STORE_ZLIB_MAGIC_LEN, af->fp) != STORE_ZLIB_MAGIC_LEN)
		return mlctl_error_errno(MLCTL_EIO, "cannot write %s into the store", src);
	memset(&z, 0, sizeof(z));
	/* Level 1, as git's loose objects: 4-5 times faster than the default level 6 on CSV,
	 * for about a quarter more bytes (37% of the input instead of 29%). */
	if (deflateInit(&z, Z_BEST_SPEED) != Z_OK)
		return mlctl_error_set(MLCTL_ENOMEM, "cannot start deflating %s", src);
	hash_init(&h);
	while (!ret && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = mlctl_error_errno(MLCTL_EIO, "cannot read %s", src);
			break;
		}
		hash_update(&h, buf, (size_t)n);
		*size += (uint64_t)n;
		z.next_in = buf;
		z.avail_in = (unsigned)n;
		ret = deflate_out(&z, Z_NO_FLUSH, af, stored, src);
	}
	if (!ret)
		ret = deflate_out(&z, Z_FINISH, af, stored, src);
	deflateEnd(&z);
	hash_final_hex(&h, out);
	return ret;
}

int store_put_file_deflate(char out[65], uint64_t *size, uint64_t *stored, mlctl_registry *reg, const char *src,
			   const char *media_type)
{
	char *incoming = NULL, *path = NULL;
	fs_atomic *af = NULL;
	bool exists, compressed;
	int in = -1, ret;

	out[0] = '\0';
	*size = *stored = 0;
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return mlctl_error_errno(errno == ENOENT ? MLCTL_ENOTFOUND : MLCTL_EIO, "cannot open %s", src);
	if ((ret = mlctl_store_hold(reg)))
		goto out;
	if (!(incoming = mlctl_asprintf("%s/objects/incoming", mlctl_registry_path(reg)))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if ((ret = fs_atomic_open(&af, incoming, 0444)) || (ret = copy_deflating(out, size, stored, in, src, af)) ||
	    (ret = object_path_ready(&path, reg, out)) || (ret = object_touch(&exists, path)))
		goto out;
	if (exists) {
		fs_atomic_abort(af);
		if (!store_object_info(reg, out, &compressed, stored))
			*stored = *size;
	} else {
		free(af->path);
		af->path = path;
		path = NULL;
		ret = fs_atomic_commit(af);
	}
	af = NULL;
	if (!ret)
		ret = record_object(reg, out, (size_t)*size, media_type);
out:
	fs_atomic_abort(af);
	if (in >= 0)
		close(in);
	free(incoming);
	free(path);
	return ret;
}

bool store_object_info(mlctl_registry *reg, const char *digest, bool *compressed, uint64_t *stored_size)
{
	char *path = mlctl_store_path(reg, digest), head[STORE_ZLIB_MAGIC_LEN];
	struct stat st;
	int fd;

	*compressed = false;
	*stored_size = 0;
	if (!path)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return false;
	}
	*stored_size = (uint64_t)st.st_size;
	*compressed = read(fd, head, sizeof(head)) == (ssize_t)sizeof(head) && has_magic(head, sizeof(head));
	close(fd);
	return true;
}

/* Write n bytes to out while hashing them. */
static int out_hashing(FILE *out, const char *out_name, hash_ctx *h, uint64_t *size, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, out) != n)
		return mlctl_error_errno(MLCTL_EIO, "cannot write %s", out_name);
	hash_update(h, p, n);
	*size += n;
	return 0;
}

/* Stream the rest of the open object in to out, inflated (zlib) or as it is. */
static int copy_object(uint64_t *size, hash_ctx *h, int in, bool zlib, const char *path, FILE *out, const char *out_name)
{
	unsigned char buf[65536], obuf[65536];
	z_stream z;
	ssize_t n;
	int zr = Z_OK, ret = 0;

	memset(&z, 0, sizeof(z));
	if (zlib && inflateInit(&z) != Z_OK)
		return mlctl_error_set(MLCTL_ENOMEM, "cannot start inflating %s", path);
	while (!ret && zr != Z_STREAM_END && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = mlctl_error_errno(MLCTL_EIO, "cannot read %s", path);
			break;
		}
		if (!zlib) {
			ret = out_hashing(out, out_name, h, size, buf, (size_t)n);
			continue;
		}
		z.next_in = buf;
		z.avail_in = (unsigned)n;
		do {
			z.next_out = obuf;
			z.avail_out = sizeof(obuf);
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				ret = mlctl_error_set(MLCTL_ECORRUPT, "%s: a damaged compressed object (%s)", path,
						      z.msg ? z.msg : "zlib error");
				break;
			}
			ret = out_hashing(out, out_name, h, size, obuf, sizeof(obuf) - z.avail_out);
		} while (!ret && zr != Z_STREAM_END && (z.avail_in > 0 || z.avail_out == 0));
	}
	if (zlib) {
		if (!ret && zr != Z_STREAM_END)
			ret = mlctl_error_set(MLCTL_ECORRUPT, "%s: a truncated compressed object", path);
		inflateEnd(&z);
	}
	return ret;
}

int store_copy_out(uint64_t *size, mlctl_registry *reg, const char *digest, FILE *out, const char *out_name)
{
	char actual[MLCTL_DIGEST_HEX], *path, head[STORE_ZLIB_MAGIC_LEN];
	hash_ctx h;
	ssize_t n;
	bool zlib;
	int fd, ret;

	*size = 0;
	if (!hash_is_hex(digest))
		return mlctl_error_set(MLCTL_EUSAGE, "\"%s\" is not a SHA-256 digest", digest);
	if (!(path = mlctl_store_path(reg, digest)))
		return MLCTL_ENOMEM;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		ret = errno == ENOENT ? mlctl_error_set(MLCTL_ENOTFOUND, "object %.12s is not in the store (%s)", digest, path)
				      : mlctl_error_errno(MLCTL_EIO, "cannot open %s", path);
		free(path);
		return ret;
	}
	hash_init(&h);
	do
		n = read(fd, head, sizeof(head));
	while (n < 0 && errno == EINTR);
	zlib = n == (ssize_t)sizeof(head) && has_magic(head, sizeof(head));
	if (n < 0)
		ret = mlctl_error_errno(MLCTL_EIO, "cannot read %s", path);
	else if (zlib)
		ret = 0;
	else
		ret = out_hashing(out, out_name, &h, size, head, (size_t)n);
	if (!ret)
		ret = copy_object(size, &h, fd, zlib, path, out, out_name);
	close(fd);
	if (!ret) {
		hash_final_hex(&h, actual);
		if (strcmp(actual, digest) != 0)
			ret = mlctl_error_set(MLCTL_ECORRUPT, "object %.12s is damaged: %s holds content with digest %.12s",
					      digest, path, actual);
	}
	free(path);
	return ret;
}

/* ---- garbage collection ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What refers to a digest: the run lineage, model versions (so anything aliased) and
 * deployments. One list, for reading the set and for the re-check before a row goes. */
#define REFERENCES_SQL \
	"SELECT digest FROM run_objects UNION SELECT model_digest FROM model_versions" \
	" UNION SELECT preprocess_digest FROM model_versions" \
	" UNION SELECT profile_digest FROM model_versions" \
	" UNION SELECT package_digest FROM deployments"

/* The sorted set of digests something in the registry refers to. */
static int referenced_digests(char ***out, size_t *n, mlctl_registry *reg)
{
	sqlite3_stmt *st;
	char **v = NULL;
	int ret, rc;

	*out = NULL;
	*n = 0;
	if ((ret = registry_prepare(&st, reg, REFERENCES_SQL, NULL)))
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char **p = mlctl_reallocarray(v, *n + 1, sizeof(*v));

		if (!p || !(p[*n] = registry_col_str(st, 0))) {
			if (p)
				v = p;
			ret = MLCTL_ENOMEM;
			break;
		}
		v = p;
		(*n)++;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot read references");
	sqlite3_finalize(st);
	if (v)
		qsort(v, *n, sizeof(*v), cmp_str);
	*out = v;
	return ret;
}

static bool is_referenced(char **refs, size_t n, const char *digest)
{
	/* With no references refs is NULL, which bsearch() must not be given even for n = 0. */
	return n && bsearch(&digest, refs, n, sizeof(*refs), cmp_str) != NULL;
}

/* Add digest to a growing list of strings. */
static int list_add(char ***list, size_t *n, const char *digest)
{
	char **p = mlctl_reallocarray(*list, *n + 1, sizeof(*p));

	if (!p)
		return MLCTL_ENOMEM;
	*list = p;
	if (!(p[*n] = mlctl_strdup(digest)))
		return MLCTL_ENOMEM;
	(*n)++;
	return 0;
}

/*
 * Whether a file modified at mtime is within the grace period. Grace 0 means none. The
 * clock is read after the file's stat and at the file system's resolution (CLOCK_REALTIME
 * in nanoseconds, as file times are stamped): a coarse time() may lag behind a file
 * written a moment ago.
 */
static bool is_young(const struct stat *st, int64_t grace_seconds)
{
	struct timespec now;
	int64_t age_ns;

	if (grace_seconds <= 0)
		return false;
	if (clock_gettime(CLOCK_REALTIME, &now) != 0)
		return true; /* no clock: keep it */
	age_ns = ((int64_t)now.tv_sec - (int64_t)st->st_mtim.tv_sec) * 1000000000 +
		 ((int64_t)now.tv_nsec - (int64_t)st->st_mtim.tv_nsec);
	return age_ns < grace_seconds * 1000000000;
}

static bool is_temp_name(const char *name)
{
	return name[0] == '.' && strstr(name, ".tmp.") != NULL;
}

/* A leftover temp file of an interrupted put: removed when older than the grace period. */
static void gc_temp(const char *file, const struct stat *st, const mlctl_gc_options *o)
{
	if (!o->dry_run && !is_young(st, o->grace_seconds))
		unlink(file);
}

/* Decide on one file of a fan-out directory: count it, remove it (or say it would be). */
static int gc_file(mlctl_gc_result *r, char ***removed, size_t *nremoved, const char *dir, const char *fan,
		   const char *name, char **refs, size_t nrefs, const mlctl_gc_options *o)
{
	char *file = fs_join(dir, name), *digest = mlctl_asprintf("%s%s", fan, name);
	struct stat st;
	int ret = 0;

	if (!file || !digest) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if (lstat(file, &st) != 0)
		goto out; /* removed meanwhile */
	if (is_temp_name(name)) {
		gc_temp(file, &st, o);
		goto out;
	}
	if (!hash_is_hex(digest) || !S_ISREG(st.st_mode))
		goto out;
	r->objects++;
	if (is_referenced(refs, nrefs, digest)) {
		r->referenced++;
		goto out;
	}
	if (is_young(&st, o->grace_seconds)) {
		r->young++;
		goto out;
	}
	if (!o->dry_run && unlink(file) != 0 && errno != ENOENT) {
		ret = mlctl_error_errno(MLCTL_EIO, "cannot remove %s", file);
		goto out;
	}
	if ((ret = list_add(&r->digests, &r->ndigests, digest)))
		goto out;
	r->removed++;
	r->bytes_removed += (uint64_t)st.st_size;
	if (!o->dry_run)
		ret = list_add(removed, nremoved, digest);
out:
	free(file);
	free(digest);
	return ret;
}

static int gc_dir(mlctl_gc_result *r, char ***removed, size_t *nremoved, const char *dir, const char *fan,
		  char **refs, size_t nrefs, const mlctl_gc_options *o)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int ret = 0;

	if (!d)
		return 0;
	while (!ret && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			ret = gc_file(r, removed, nremoved, dir, fan, e->d_name, refs, nrefs, o);
	}
	closedir(d);
	return ret;
}

/* Walk objects/ and its xx/ directories; removed[] gets the digests whose file went. */
static int gc_walk(mlctl_gc_result *r, char ***removed, size_t *nremoved, mlctl_registry *reg, char **refs,
		   size_t nrefs, const mlctl_gc_options *o)
{
	char *root = fs_join(mlctl_registry_path(reg), "objects");
	struct dirent *d;
	DIR *top;
	int ret = 0;

	if (!root)
		return MLCTL_ENOMEM;
	if (!(top = opendir(root))) {
		ret = errno == ENOENT ? 0 : mlctl_error_errno(MLCTL_EIO, "cannot read %s", root);
		free(root);
		return ret;
	}
	while (!ret && (d = readdir(top))) {
		char *path = fs_join(root, d->d_name);
		struct stat st;

		if (!path) {
			ret = MLCTL_ENOMEM;
			break;
		}
		/* Temp files of mlctl_store_put_file() sit in objects/ itself. */
		if (is_temp_name(d->d_name) && lstat(path, &st) == 0)
			gc_temp(path, &st, o);
		else if (strlen(d->d_name) == 2 && strcmp(d->d_name, "..") != 0)
			ret = gc_dir(r, removed, nremoved, path, d->d_name, refs, nrefs, o);
		free(path);
	}
	closedir(top);
	free(root);
	return ret;
}

/* Objects the table lists but whose file is gone: counted, and forgotten (added to
 * forget[]) when nothing references them. */
static int gc_missing(mlctl_gc_result *r, char ***forget, size_t *nforget, mlctl_registry *reg, char **refs,
		      size_t nrefs, bool dry_run)
{
	sqlite3_stmt *st;
	int ret, rc;

	if ((ret = registry_prepare(&st, reg, "SELECT digest FROM objects", NULL)))
		return ret;
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *digest = (const char *)sqlite3_column_text(st, 0);

		if (!digest || mlctl_store_has(reg, digest))
			continue;
		r->missing++;
		if (!dry_run && !is_referenced(refs, nrefs, digest))
			ret = list_add(forget, nforget, digest);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot list objects");
	sqlite3_finalize(st);
	return ret;
}

/* Delete the rows of the objects whose files went, in one transaction. A row that
 * something references after all stays, as evidence of what is missing. */
static int gc_forget(mlctl_registry *reg, char **digests, size_t n)
{
	size_t i;
	int ret;

	if (!n)
		return 0;
	if ((ret = registry_begin(reg)))
		return ret;
	for (i = 0; i < n && !ret; i++)
		ret = registry_exec(reg, "DELETE FROM objects WHERE digest = ?1 AND ?1 NOT IN (" REFERENCES_SQL ")", "s",
				    digests[i]);
	if (ret) {
		registry_rollback(reg);
		return ret;
	}
	return registry_commit(reg);
}

/* Take the store lock exclusively, giving up this handle's shared hold first. */
static int gc_lock(int *fd, mlctl_registry *reg)
{
	char *path = lock_path(reg);
	int ret;

	*fd = -1;
	if (!path)
		return MLCTL_ENOMEM;
	mlctl_store_release(reg);
	ret = fs_lock(fd, path, STORE_GC_WAIT_SECS);
	if (ret == MLCTL_ELOCKED)
		mlctl_error_set(ret, "%s: writers have held the store for %d seconds (a put whose reference is not committed yet): retry later",
				path, STORE_GC_WAIT_SECS);
	free(path);
	return ret;
}

static void free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int mlctl_gc(mlctl_gc_result **out, mlctl_registry *reg, const mlctl_gc_options *opts)
{
	mlctl_gc_options defaults = MLCTL_GC_OPTIONS_INIT;
	mlctl_gc_result *r;
	char **refs = NULL, **gone = NULL;
	size_t nrefs = 0, ngone = 0;
	int ret, forget, lockfd = -1;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (!(r = mlctl_calloc(1, sizeof(*r))))
		return MLCTL_ENOMEM;
	/* A dry run removes nothing and needs no lock (it works on a read-only registry). */
	if (!opts->dry_run && (ret = gc_lock(&lockfd, reg)))
		goto out;
	/* Under the lock no writer is between a put and its reference: what is referenced
	 * now is all that will be referenced among the objects there are. */
	if ((ret = referenced_digests(&refs, &nrefs, reg)))
		goto out;
	/* Rows without files first: the walk is about to make more, which are not "missing". */
	ret = gc_missing(r, &gone, &ngone, reg, refs, nrefs, opts->dry_run);
	if (!ret)
		ret = gc_walk(r, &gone, &ngone, reg, refs, nrefs, opts);
	/* The rows of files already removed go even when the walk failed half-way. */
	forget = gc_forget(reg, gone, ngone);
	if (!ret)
		ret = forget;
out:
	fs_unlock(lockfd);
	free_list(refs, nrefs);
	free_list(gone, ngone);
	if (ret) {
		mlctl_gc_result_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

void mlctl_gc_result_free(mlctl_gc_result *r)
{
	if (!r)
		return;
	free_list(r->digests, r->ndigests);
	free(r);
}
