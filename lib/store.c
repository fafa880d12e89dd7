/*
 * store.c — the content-addressed object store and its garbage collector (floor 2).
 * Objects live at <registry>/objects/ab/cdef… (the SHA-256 split after two characters,
 * as git does). A put writes a temp file in the same directory, fsyncs it and renames it,
 * so an object file is either absent or complete; it is then recorded in the objects table.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "registry_int.h"
#include "util.h"
#include "mlctl/store.h"
#include "banned.h"

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

int mlctl_store_put(char out[65], mlctl_registry *reg, const void *data, size_t len, const char *media_type)
{
	char *path = NULL;
	int ret;

	hash_buf_hex(out, data, len);
	if ((ret = object_path_ready(&path, reg, out)))
		return ret;
	if (!fs_exists(path))
		ret = fs_write_atomic(path, data, len, 0444);
	free(path);
	return ret ? ret : record_object(reg, out, len, media_type);
}

int mlctl_store_put_file(char out[65], mlctl_registry *reg, const char *src, const char *media_type)
{
	char buf[65536], *path = NULL;
	fs_atomic *af = NULL;
	size_t size, n;
	FILE *in;
	int ret;

	if ((ret = hash_file_hex(out, &size, src)))
		return ret;
	if ((ret = object_path_ready(&path, reg, out)))
		return ret;
	if (fs_exists(path))
		goto record;
	if (!(in = fopen(src, "rb"))) {
		ret = mlctl_error_errno(MLCTL_EIO, "cannot open %s", src);
		goto out;
	}
	if ((ret = fs_atomic_open(&af, path, 0444))) {
		fclose(in);
		goto out;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		if (fwrite(buf, 1, n, af->fp) != n)
			break;
	}
	if (ferror(in) || ferror(af->fp)) {
		ret = mlctl_error_errno(MLCTL_EIO, "cannot copy %s into the store", src);
		fclose(in);
		fs_atomic_abort(af);
		goto out;
	}
	fclose(in);
	if ((ret = fs_atomic_commit(af)))
		goto out;
record:
	ret = record_object(reg, out, size, media_type);
out:
	free(path);
	return ret;
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

/* ---- garbage collection ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted set of digests something in the registry refers to. */
static int referenced_digests(char ***out, size_t *n, mlctl_registry *reg)
{
	sqlite3_stmt *st;
	char **v = NULL;
	int ret, rc;

	*out = NULL;
	*n = 0;
	ret = registry_prepare(&st, reg,
			       "SELECT digest FROM run_objects UNION SELECT model_digest FROM model_versions"
			       " UNION SELECT preprocess_digest FROM model_versions"
			       " UNION SELECT profile_digest FROM model_versions"
			       " UNION SELECT package_digest FROM deployments", NULL);
	if (ret)
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

static int gc_note(mlctl_gc_result *r, const char *digest, uint64_t size)
{
	char **p = mlctl_reallocarray(r->digests, r->ndigests + 1, sizeof(*p));

	if (!p)
		return MLCTL_ENOMEM;
	r->digests = p;
	if (!(p[r->ndigests] = mlctl_strdup(digest)))
		return MLCTL_ENOMEM;
	r->ndigests++;
	r->removed++;
	r->bytes_removed += size;
	return 0;
}

/* Walk objects/xx/ directories; decide on each file. */
static int gc_walk(mlctl_gc_result *r, mlctl_registry *reg, char **refs, size_t nrefs, const mlctl_gc_options *o)
{
	char *root = fs_join(mlctl_registry_path(reg), "objects");
	time_t now = time(NULL);
	DIR *top, *sub;
	struct dirent *d, *e;
	int ret = 0;

	if (!root)
		return MLCTL_ENOMEM;
	if (!(top = opendir(root))) {
		ret = errno == ENOENT ? 0 : mlctl_error_errno(MLCTL_EIO, "cannot read %s", root);
		free(root);
		return ret;
	}
	while (!ret && (d = readdir(top))) {
		char dir[4096];

		if (strlen(d->d_name) != 2)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, d->d_name);
		if (!(sub = opendir(dir)))
			continue;
		while (!ret && (e = readdir(sub))) {
			char file[4096], digest[MLCTL_DIGEST_HEX];
			struct stat st;
			bool tmp = e->d_name[0] == '.' && strstr(e->d_name, ".tmp.");

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(file, sizeof(file), "%s/%s", dir, e->d_name);
			if (lstat(file, &st) != 0)
				continue; /* removed meanwhile */
			if (tmp) {
				if (now - st.st_mtime >= o->grace_seconds && !o->dry_run)
					unlink(file);
				continue;
			}
			snprintf(digest, sizeof(digest), "%s%s", d->d_name, e->d_name);
			if (!hash_is_hex(digest))
				continue;
			r->objects++;
			if (is_referenced(refs, nrefs, digest)) {
				r->referenced++;
				continue;
			}
			if (now - st.st_mtime < o->grace_seconds) {
				r->young++;
				continue;
			}
			if (!o->dry_run && unlink(file) != 0 && errno != ENOENT) {
				ret = mlctl_error_errno(MLCTL_EIO, "cannot remove %s", file);
				break;
			}
			if (!o->dry_run)
				registry_exec(reg, "DELETE FROM objects WHERE digest = ?", "s", digest);
			ret = gc_note(r, digest, (uint64_t)st.st_size);
		}
		closedir(sub);
	}
	closedir(top);
	free(root);
	return ret;
}

/* Forget objects the table lists but whose file is gone and which nothing references. */
static int gc_missing(mlctl_gc_result *r, mlctl_registry *reg, char **refs, size_t nrefs, bool dry_run)
{
	sqlite3_stmt *st;
	int ret, rc;

	if ((ret = registry_prepare(&st, reg, "SELECT digest FROM objects", NULL)))
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *digest = (const char *)sqlite3_column_text(st, 0);

		if (mlctl_store_has(reg, digest))
			continue;
		r->missing++;
		if (!dry_run && !is_referenced(refs, nrefs, digest))
			registry_exec(reg, "DELETE FROM objects WHERE digest = ?", "s", digest);
	}
	if (rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot list objects");
	sqlite3_finalize(st);
	return ret;
}

int mlctl_gc(mlctl_gc_result **out, mlctl_registry *reg, const mlctl_gc_options *opts)
{
	mlctl_gc_options defaults = MLCTL_GC_OPTIONS_INIT;
	mlctl_gc_result *r;
	char **refs = NULL;
	size_t nrefs = 0, i;
	int ret;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (!(r = mlctl_calloc(1, sizeof(*r))))
		return MLCTL_ENOMEM;
	/* References are read first: an object written after this read is younger than the
	 * grace period, so it is kept even if its reference is not yet committed. */
	if ((ret = referenced_digests(&refs, &nrefs, reg)))
		goto out;
	if ((ret = gc_walk(r, reg, refs, nrefs, opts)))
		goto out;
	ret = gc_missing(r, reg, refs, nrefs, opts->dry_run);
out:
	for (i = 0; i < nrefs; i++)
		free(refs[i]);
	free(refs);
	if (ret) {
		mlctl_gc_result_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

void mlctl_gc_result_free(mlctl_gc_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->ndigests; i++)
		free(r->digests[i]);
	free(r->digests);
	free(r);
}
