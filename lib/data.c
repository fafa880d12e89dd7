/*
 * data.c — versioned data and the file digest cache (floor 2): data files stored
 * compressed in the object store (through store.c's compressed objects), listed with the
 * runs that read them, written back verified; and the registry's cache of file digests.
 *
 * A data set is known by its digest from two places: the datasets table (train and
 * validate record path, format, rows and columns) and run lineage (run_objects rows, role
 * "input", name "data" or "test_data"). Whether it is stored is whether the store has an
 * object of that digest. The cache (file_digests, schema 2) is keyed by absolute path and
 * trusted only while device, inode, size and mtime in ns are those recorded, and only when
 * the file's mtime was at least DIGEST_RACY_NS older than the moment hashing began: a
 * write in the same clock tick as an earlier one leaves the mtime as it was, so a
 * digest taken right after a write is recorded but checked again on the next call.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "store_int.h"
#include "util.h"
#include "mlctl/data.h"
#include "banned.h"

#define DATA_MEDIA_TYPE "application/vnd.mlctl.data+zlib"
#define DIGEST_RACY_NS 2000000000LL

/* The digests of every data set: recorded ones and those runs read. */
#define DATA_DIGESTS_SQL \
	"SELECT digest FROM datasets UNION" \
	" SELECT digest FROM run_objects WHERE role = 'input' AND name IN ('data', 'test_data')"

int mlctl_data_store(char out[65], mlctl_registry *reg, const char *path)
{
	uint64_t size, stored;

	return store_put_file_deflate(out, &size, &stored, reg, path, DATA_MEDIA_TYPE);
}

/* ---- the file digest cache ---- */

static int64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static bool same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       mtime_ns(a) == mtime_ns(b);
}

/* The cached digest of abs when its row matches st and is not racy: true, out filled. */
static int cache_lookup(bool *hit, mlctl_registry *reg, const char *abs, const struct stat *st, char out[65])
{
	sqlite3_stmt *q;
	int ret, rc;

	*hit = false;
	if ((ret = registry_prepare(&q, reg,
				    "SELECT digest FROM file_digests WHERE path = ? AND device = ? AND inode = ?"
				    " AND size = ? AND mtime_ns = ? AND mtime_ns < hashed_ns - ?",
				    "siiiii", abs, (int64_t)st->st_dev, (int64_t)st->st_ino, (int64_t)st->st_size,
				    mtime_ns(st), (int64_t)DIGEST_RACY_NS)))
		return ret;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(q, 0);

		if (d && hash_is_hex(d)) {
			memcpy(out, d, 65);
			*hit = true;
		}
	} else if (rc != SQLITE_DONE) {
		ret = registry_error(reg, rc, "cannot read the file digest cache");
	}
	sqlite3_finalize(q);
	return ret;
}

static int cache_record(mlctl_registry *reg, const char *abs, const struct stat *st, const char *digest, int64_t hashed)
{
	int ret;

	if ((ret = registry_begin(reg)))
		return ret;
	ret = registry_exec(reg,
			    "INSERT OR REPLACE INTO file_digests (path, device, inode, size, mtime_ns, digest, hashed_ns)"
			    " VALUES (?, ?, ?, ?, ?, ?, ?)",
			    "siiiisi", abs, (int64_t)st->st_dev, (int64_t)st->st_ino, (int64_t)st->st_size, mtime_ns(st),
			    digest, hashed);
	if (ret) {
		registry_rollback(reg);
		return ret;
	}
	return registry_commit(reg);
}

/* Hash the open file fd (named path) in a stream. */
static int hash_fd(char out[65], int fd, const char *path)
{
	unsigned char buf[65536];
	hash_ctx h;
	ssize_t n;

	hash_init(&h);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return mlctl_error_errno(MLCTL_EIO, "cannot read %s", path);
		}
		hash_update(&h, buf, (size_t)n);
	}
	hash_final_hex(&h, out);
	return 0;
}

int mlctl_file_digest_ex(char out[65], bool *hashed, mlctl_registry *reg, const char *path)
{
	struct stat before, after;
	char *abs = NULL;
	bool hit = false, dummy;
	int64_t t0;
	int fd = -1, ret;

	if (!hashed)
		hashed = &dummy;
	*hashed = false;
	out[0] = '\0';
	if (!(abs = realpath(path, NULL)))
		return mlctl_error_errno(errno == ENOENT || errno == ENOTDIR ? MLCTL_ENOTFOUND : MLCTL_EIO, "%s", path);
	if (stat(abs, &before) != 0) {
		ret = mlctl_error_errno(errno == ENOENT ? MLCTL_ENOTFOUND : MLCTL_EIO, "%s", path);
		goto out;
	}
	if (S_ISDIR(before.st_mode)) {
		ret = mlctl_error_set(MLCTL_EUSAGE, "%s is a directory, not a data file", path);
		goto out;
	}
	if (S_ISREG(before.st_mode) && (ret = cache_lookup(&hit, reg, abs, &before, out)))
		goto out;
	if (hit)
		goto out;
	t0 = now_ns();
	if ((fd = open(abs, O_RDONLY | O_CLOEXEC)) < 0) {
		ret = mlctl_error_errno(errno == ENOENT ? MLCTL_ENOTFOUND : MLCTL_EIO, "cannot open %s", path);
		goto out;
	}
	if (fstat(fd, &before) != 0) {
		ret = mlctl_error_errno(MLCTL_EIO, "cannot stat %s", path);
		goto out;
	}
	if ((ret = hash_fd(out, fd, path)))
		goto out;
	*hashed = true;
	/* Recorded only when the file stood still while it was read. */
	if (S_ISREG(before.st_mode) && !mlctl_registry_readonly(reg) && fstat(fd, &after) == 0 &&
	    same_stat(&before, &after))
		ret = cache_record(reg, abs, &before, out, t0);
out:
	if (fd >= 0)
		close(fd);
	free(abs);
	if (ret)
		out[0] = '\0';
	return ret;
}

int mlctl_file_digest(char out[65], mlctl_registry *reg, const char *path)
{
	return mlctl_file_digest_ex(out, NULL, reg, path);
}

/* ---- listing ---- */

void mlctl_data_info_free(mlctl_data_info *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->nuses; i++) {
		free(d->uses[i].kind);
		free(d->uses[i].role);
		free(d->uses[i].status);
		free(d->uses[i].model_name);
	}
	free(d->uses);
	free(d->path);
	free(d->format);
	free(d);
}

void mlctl_data_list_free(mlctl_data_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		mlctl_data_info_free(l->d[i]);
	free(l->d);
	free(l);
}

/* The columns info_from_row() reads, for the digests of the subquery "d". */
#define INFO_SELECT \
	"SELECT d.digest, s.path, s.format, s.rows, s.columns, s.first_seen, o.size," \
	" (SELECT count(DISTINCT r.run) FROM run_objects r WHERE r.digest = d.digest)," \
	" (SELECT min(u.started) FROM run_objects r JOIN runs u ON u.id = r.run WHERE r.digest = d.digest)" \
	" FROM d LEFT JOIN datasets s ON s.digest = d.digest LEFT JOIN objects o ON o.digest = d.digest"

static int info_from_row(mlctl_data_info **out, mlctl_registry *reg, sqlite3_stmt *st)
{
	mlctl_data_info *d = mlctl_calloc(1, sizeof(*d));
	const char *digest = (const char *)sqlite3_column_text(st, 0);
	uint64_t stored_size;

	*out = NULL;
	if (!d)
		return MLCTL_ENOMEM;
	snprintf(d->digest, sizeof(d->digest), "%s", digest ? digest : "");
	d->path = registry_col_str(st, 1);
	d->format = registry_col_str(st, 2);
	d->rows = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 3);
	d->columns = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 4);
	d->first_seen_ms = sqlite3_column_int64(st, sqlite3_column_type(st, 5) == SQLITE_NULL ? 8 : 5);
	d->size = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 6);
	d->nruns = (size_t)sqlite3_column_int64(st, 7);
	d->stored = store_object_info(reg, d->digest, &d->compressed, &stored_size);
	d->stored_size = d->stored ? (int64_t)stored_size : -1;
	if (!d->stored)
		d->size = -1; /* the row of an object gc removed */
	else if (d->size < 0 && !d->compressed)
		d->size = (int64_t)stored_size;
	if ((sqlite3_column_text(st, 1) && !d->path) || (sqlite3_column_text(st, 2) && !d->format)) {
		mlctl_data_info_free(d);
		return MLCTL_ENOMEM;
	}
	*out = d;
	return 0;
}

int mlctl_data_list_get(mlctl_data_list **out, mlctl_registry *reg)
{
	mlctl_data_list *l = mlctl_calloc(1, sizeof(*l));
	sqlite3_stmt *st = NULL;
	int ret, rc;

	*out = NULL;
	if (!l)
		return MLCTL_ENOMEM;
	ret = registry_prepare(&st, reg, "WITH d AS (" DATA_DIGESTS_SQL ") " INFO_SELECT " ORDER BY 6 DESC, 1", NULL);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		mlctl_data_info **p = mlctl_reallocarray(l->d, l->n + 1, sizeof(*p));

		if (!p) {
			ret = MLCTL_ENOMEM;
			break;
		}
		l->d = p;
		if ((ret = info_from_row(&l->d[l->n], reg, st)))
			break;
		l->n++;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot list data sets");
	sqlite3_finalize(st);
	if (ret) {
		mlctl_data_list_free(l);
		return ret;
	}
	*out = l;
	return 0;
}

/* The full digest of the one known data set whose digest starts with prefix. */
static int resolve_digest(char out[65], mlctl_registry *reg, const char *prefix)
{
	strbuf found = MLCTL_STRBUF_INIT;
	char low[65];
	sqlite3_stmt *st;
	size_t i, len = strlen(prefix);
	int ret, rc, n = 0;

	if (!len || len > 64)
		return mlctl_error_set(MLCTL_EUSAGE, "\"%s\" is not a digest or a digest prefix", prefix);
	for (i = 0; i < len; i++) {
		char c = prefix[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return mlctl_error_set(MLCTL_EUSAGE, "\"%s\" is not a digest or a digest prefix (hex digits)", prefix);
		low[i] = c;
	}
	low[len] = '\0';
	if ((ret = registry_prepare(&st, reg,
				    "SELECT digest FROM (" DATA_DIGESTS_SQL ") WHERE substr(digest, 1, ?) = ? ORDER BY digest LIMIT 6",
				    "is", (int64_t)len, low)))
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 0);

		if (!d)
			continue;
		if (n++ == 0)
			snprintf(out, 65, "%s", d);
		if (n <= 5 && strbuf_printf(&found, "%s%.16s", n > 1 ? ", " : "", d))
			ret = MLCTL_ENOMEM;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot look up data sets");
	sqlite3_finalize(st);
	if (!ret && n == 0)
		ret = mlctl_error_set(MLCTL_ENOTFOUND, "no data set has a digest starting with %s", low);
	else if (!ret && n > 1)
		ret = mlctl_error_set(MLCTL_EAMBIGUOUS, "digest prefix %s matches %s data sets: %s%s: give more digits", low,
				      n > 5 ? "more than 5" : "several", found.buf, n > 5 ? ", ..." : "");
	strbuf_release(&found);
	return ret;
}

static int read_uses(mlctl_data_info *d, mlctl_registry *reg)
{
	sqlite3_stmt *st;
	int ret, rc;

	if ((ret = registry_prepare(&st, reg,
				    "SELECT r.run, u.kind, r.name, u.status, u.started, u.model_name, u.model_version"
				    " FROM run_objects r JOIN runs u ON u.id = r.run WHERE r.digest = ? AND r.role = 'input'"
				    " ORDER BY r.run, r.name",
				    "s", d->digest)))
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mlctl_data_use *p = mlctl_reallocarray(d->uses, d->nuses + 1, sizeof(*p)), *u;
		const char *run = (const char *)sqlite3_column_text(st, 0);

		if (!p) {
			ret = MLCTL_ENOMEM;
			break;
		}
		d->uses = p;
		u = &p[d->nuses++];
		memset(u, 0, sizeof(*u));
		snprintf(u->run, sizeof(u->run), "%s", run ? run : "");
		u->kind = registry_col_str(st, 1);
		u->role = registry_col_str(st, 2);
		u->status = registry_col_str(st, 3);
		u->started_ms = sqlite3_column_int64(st, 4);
		u->model_name = registry_col_str(st, 5);
		u->model_version = sqlite3_column_int(st, 6);
		if (!u->kind || !u->role || !u->status || (sqlite3_column_text(st, 5) && !u->model_name)) {
			ret = MLCTL_ENOMEM;
			break;
		}
	}
	if (!ret && rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot read the runs of a data set");
	sqlite3_finalize(st);
	return ret;
}

int mlctl_data_get(mlctl_data_info **out, mlctl_registry *reg, const char *digest_prefix)
{
	char digest[65];
	sqlite3_stmt *st;
	int ret, rc;

	*out = NULL;
	if ((ret = resolve_digest(digest, reg, digest_prefix)))
		return ret;
	if ((ret = registry_prepare(&st, reg, "WITH d AS (SELECT ? AS digest) " INFO_SELECT, "s", digest)))
		return ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = info_from_row(out, reg, st);
	else
		ret = registry_error(reg, rc, "cannot read a data set");
	sqlite3_finalize(st);
	if (!ret && (ret = read_uses(*out, reg))) {
		mlctl_data_info_free(*out);
		*out = NULL;
	}
	return ret;
}

/* The training data of the model version ref names: the "data" input of its run. */
static int model_data(char out[65], mlctl_registry *reg, const char *ref)
{
	mlctl_model_version *v = NULL;
	sqlite3_stmt *st;
	int ret, rc;

	if ((ret = mlctl_model_resolve(&v, reg, ref)))
		return ret;
	if ((ret = registry_prepare(&st, reg,
				    "SELECT digest FROM run_objects WHERE run = ? AND role = 'input' AND name = 'data'", "s",
				    v->run))) {
		mlctl_model_version_free(v);
		return ret;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, 65, "%s", (const char *)sqlite3_column_text(st, 0));
	else if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		ret = mlctl_error_set(MLCTL_ENOTFOUND, "%s:%d (run %s) has no training data recorded", v->name, v->version,
				      v->run);
	else
		ret = registry_error(reg, rc, "cannot read a run's lineage");
	sqlite3_finalize(st);
	mlctl_model_version_free(v);
	return ret;
}

static bool is_hex_prefix(const char *s)
{
	size_t n = strspn(s, "0123456789abcdefABCDEF");

	return n >= 4 && n <= 64 && s[n] == '\0';
}

int mlctl_data_resolve(char out[65], mlctl_registry *reg, const char *ref)
{
	mlctl_error saved;
	int ret;

	out[0] = '\0';
	if (!is_hex_prefix(ref))
		return model_data(out, reg, ref);
	/* A whole digest of data in the store, whether or not a run recorded it. */
	if (hash_is_hex(ref) && mlctl_store_has(reg, ref)) {
		memcpy(out, ref, 65);
		return 0;
	}
	if ((ret = resolve_digest(out, reg, ref)) != MLCTL_ENOTFOUND)
		return ret;
	/* Hex digits that name no data set may still be a model's name. */
	saved = *mlctl_error_last();
	if (mlctl_name_valid(ref) && (ret = model_data(out, reg, ref)) == 0)
		return 0;
	mlctl_error_set(saved.code, "%s", saved.message);
	return MLCTL_ENOTFOUND;
}

/* Whether path names something checkout must not replace unasked: anything but a pipe, a
 * character device or a socket, which are written to; a dangling link too. */
static bool something_there(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISSOCK(st.st_mode);
	return lstat(path, &st) == 0;
}

int mlctl_data_checkout(mlctl_registry *reg, const char *digest, const char *path, bool force, uint64_t *size)
{
	fs_atomic *af = NULL;
	uint64_t n = 0;
	bool compressed;
	int ret;

	if (size)
		*size = 0;
	if (!hash_is_hex(digest))
		return mlctl_error_set(MLCTL_EUSAGE, "\"%s\" is not a SHA-256 digest", digest);
	if (!store_object_info(reg, digest, &compressed, &n))
		return mlctl_error_set(MLCTL_ENOTFOUND,
				       "data %.12s is not in the store (only its digest was recorded: train with --store-data to keep the data itself)",
				       digest);
	if (!force && something_there(path))
		return mlctl_error_set(MLCTL_EEXISTS, "%s exists: give --force to overwrite it", path);
	if ((ret = fs_atomic_open(&af, path, 0644)))
		return ret;
	if ((ret = store_copy_out(&n, reg, digest, af->fp, path))) {
		fs_atomic_abort(af);
		return ret;
	}
	if ((ret = fs_atomic_commit(af)))
		return ret;
	if (size)
		*size = n;
	return 0;
}
