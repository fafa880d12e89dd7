/*
 * pkgfmt.c — the .mlpkg container (floor 2): a deterministic gzip-compressed ustar archive
 * written with libarchive, and a reader that treats every package as hostile. Reading
 * only ever fills memory (bounded by pkg_limits, counted as bytes come out of the
 * decompressor); files reach the disk through pkg_extract(), after a whole read succeeded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "error.h"
#include "fsutil.h"
#include "pkgfmt.h"
#include "util.h"
#include "banned.h"

#define NOT_A_PACKAGE "not a package (expected a gzip-compressed tar)"

/* Why a member name may not be used as a relative path, or NULL when it may. */
static const char *name_problem(const char *name)
{
	const char *p = name;

	if (!*name)
		return "empty name";
	if (*name == '/')
		return "absolute path";
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return "\"..\" in path";
		if (!slash)
			break;
		p = slash + 1;
	}
	return NULL;
}

static int cmp_entry_name(const void *a, const void *b)
{
	const pkg_entry *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int write_header(struct archive *a, const char *path, const char *name, bool dir,
			size_t size, int64_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	int ret = 0;

	if (!e)
		return mlctl_error_oom();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, dir ? 0755 : 0644);
	archive_entry_set_size(e, dir ? 0 : (la_int64_t)size);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	if (archive_write_header(a, e) != ARCHIVE_OK)
		ret = mlctl_error_set(MLCTL_EIO, "cannot write %s: entry %s: %s", path, name,
				      archive_error_string(a));
	archive_entry_free(e);
	return ret;
}

/* Write the directory entries that name needs and that were not written yet. */
static int write_parents(struct archive *a, const char *path, const char *name, char ***dirs,
			 size_t *ndirs, int64_t mtime)
{
	const char *slash;
	int ret = 0;

	for (slash = strchr(name, '/'); slash; slash = strchr(slash + 1, '/')) {
		char *d = strndup(name, (size_t)(slash - name) + 1), **grown;
		size_t i;

		if (!d)
			return mlctl_error_oom();
		for (i = 0; i < *ndirs && strcmp((*dirs)[i], d); i++)
			;
		if (i < *ndirs) {
			free(d);
			continue;
		}
		grown = mlctl_reallocarray(*dirs, *ndirs + 1, sizeof(**dirs));
		if (!grown) {
			free(d);
			return MLCTL_ENOMEM;
		}
		*dirs = grown;
		(*dirs)[(*ndirs)++] = d;
		if ((ret = write_header(a, path, d, true, 0, mtime)))
			return ret;
	}
	return ret;
}

static int write_entries(struct archive *a, const char *path, const pkg_entry **sorted, size_t n,
			 int64_t mtime)
{
	char **dirs = NULL;
	size_t ndirs = 0, i;
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		const pkg_entry *pe = sorted[i];

		if ((ret = write_parents(a, path, pe->name, &dirs, &ndirs, mtime)))
			break;
		if ((ret = write_header(a, path, pe->name, false, pe->len, mtime)))
			break;
		if (pe->len && archive_write_data(a, pe->data, pe->len) != (la_ssize_t)pe->len)
			ret = mlctl_error_set(MLCTL_EIO, "cannot write %s: entry %s: %s", path,
					      pe->name, archive_error_string(a));
	}
	for (i = 0; i < ndirs; i++)
		free(dirs[i]);
	free(dirs);
	return ret;
}

/* The entries sorted by name, after checking that every name is usable and unique. */
static int sort_entries(const pkg_entry ***out, const pkg_entry *entries, size_t n)
{
	const pkg_entry **s;
	const char *why;
	size_t i;

	*out = NULL;
	s = mlctl_calloc(n ? n : 1, sizeof(*s));
	if (!s)
		return MLCTL_ENOMEM;
	for (i = 0; i < n; i++) {
		if (!entries[i].name || (why = name_problem(entries[i].name))) {
			free(s);
			return mlctl_error_set(MLCTL_EUSAGE, "package entry \"%s\": %s",
					       entries[i].name ? entries[i].name : "", entries[i].name ? why : "no name");
		}
		if (entries[i].name[strlen(entries[i].name) - 1] == '/') {
			free(s);
			return mlctl_error_set(MLCTL_EUSAGE, "package entry \"%s\": a file name may not end in /",
					       entries[i].name);
		}
		s[i] = &entries[i];
	}
	qsort(s, n, sizeof(*s), cmp_entry_name);
	for (i = 1; i < n; i++) {
		if (!strcmp(s[i - 1]->name, s[i]->name)) {
			mlctl_error_set(MLCTL_EUSAGE, "package entry \"%s\" given twice", s[i]->name);
			free(s);
			return MLCTL_EUSAGE;
		}
	}
	*out = s;
	return 0;
}

/*
 * A new archive writer set up as every package is written. ustar keeps no atime/ctime and
 * needs no pax headers for our short names; the gzip header gets neither a timestamp nor
 * a file name: the bytes depend on the entries. No padding of the last record to 10240
 * bytes: the tar ends with its two zero blocks, so a truncated package fails to read
 * instead of looking complete. what names the output in messages.
 */
static int writer_new(struct archive **out, const char *what)
{
	struct archive *a = archive_write_new();

	*out = NULL;
	if (!a)
		return mlctl_error_oom();
	if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_options(a, "gzip:!timestamp,gzip:compression-level=9") != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK) {
		int ret = mlctl_error_set(MLCTL_EIO, "cannot write %s: %s", what, archive_error_string(a));

		archive_write_free(a);
		return ret;
	}
	*out = a;
	return 0;
}

/* Write the sorted entries to the opened a and close it. */
static int writer_finish(struct archive *a, const char *what, const pkg_entry **sorted, size_t n, int64_t mtime)
{
	int ret;

	if ((ret = write_entries(a, what, sorted, n, mtime)))
		return ret;
	if (archive_write_close(a) != ARCHIVE_OK)
		return mlctl_error_set(MLCTL_EIO, "cannot write %s: %s", what, archive_error_string(a));
	return 0;
}

int pkg_write(const char *path, const pkg_entry *entries, size_t n, int64_t mtime)
{
	const pkg_entry **sorted = NULL;
	struct archive *a = NULL;
	fs_atomic *af = NULL;
	int ret;

	if ((ret = sort_entries(&sorted, entries, n)))
		return ret;
	if ((ret = fs_atomic_open(&af, path, 0644)))
		goto out;
	if ((ret = writer_new(&a, path)))
		goto out_abort;
	if (archive_write_open_FILE(a, af->fp) != ARCHIVE_OK) {
		ret = mlctl_error_set(MLCTL_EIO, "cannot write %s: %s", path, archive_error_string(a));
		goto out_abort;
	}
	if ((ret = writer_finish(a, path, sorted, n, mtime)))
		goto out_abort;
	ret = fs_atomic_commit(af);
	af = NULL;
	goto out;
out_abort:
	fs_atomic_abort(af);
out:
	if (a)
		archive_write_free(a);
	free(sorted);
	return ret;
}

static la_ssize_t mem_write(struct archive *a, void *data, const void *buf, size_t len)
{
	if (strbuf_add(data, buf, len)) {
		archive_set_error(a, ENOMEM, "out of memory");
		return -1;
	}
	return (la_ssize_t)len;
}

int pkg_write_mem(char **out, size_t *len, const pkg_entry *entries, size_t n, int64_t mtime)
{
	const pkg_entry **sorted = NULL;
	strbuf sb = MLCTL_STRBUF_INIT;
	struct archive *a = NULL;
	int ret;

	*out = NULL;
	if ((ret = sort_entries(&sorted, entries, n)) || (ret = writer_new(&a, "a package in memory")))
		goto out;
	if (archive_write_open(a, &sb, NULL, mem_write, NULL) != ARCHIVE_OK) {
		ret = mlctl_error_set(MLCTL_EIO, "cannot write a package in memory: %s", archive_error_string(a));
		goto out;
	}
	if ((ret = writer_finish(a, "a package in memory", sorted, n, mtime)))
		goto out;
	if (!(*out = strbuf_detach(&sb, len)))
		ret = MLCTL_ENOMEM;
out:
	if (a)
		archive_write_free(a);
	strbuf_release(&sb);
	free(sorted);
	return ret;
}

/* ---- reading ---- */

typedef struct reader {
	struct archive *a;
	const unsigned char *buf;       /* the compressed bytes */
	size_t len;
	const char *origin;
	const char *const *allowed;
	size_t nallowed;
	pkg_limits lim;
	pkg_contents *c;
	char **dirs;            /* directory entries seen, to refuse duplicates */
	size_t ndirs;
	size_t nheaders;
	size_t total;           /* file bytes handed out by the decompressor so far */
} reader;

static bool is_allowed_file(const reader *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nallowed; i++)
		if (!strcmp(r->allowed[i], name))
			return true;
	return false;
}

/* A directory is allowed when it is a parent of an allowed file ("model" or "model/"). */
static bool is_allowed_dir(const reader *r, const char *name)
{
	size_t i, n = strlen(name);

	if (n && name[n - 1] == '/')
		n--;
	if (!n)
		return false;
	for (i = 0; i < r->nallowed; i++)
		if (!strncmp(r->allowed[i], name, n) && r->allowed[i][n] == '/')
			return true;
	return false;
}

static bool seen_name(const reader *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->c->n; i++)
		if (!strcmp(r->c->entries[i].name, name))
			return true;
	for (i = 0; i < r->ndirs; i++)
		if (!strcmp(r->dirs[i], name))
			return true;
	return false;
}

/* The most the decompressed stream may hold: the file bytes, and a little more for
 * headers and padding. */
static uint64_t stream_max(const reader *r)
{
	return (uint64_t)r->lim.max_total + (uint64_t)(r->lim.max_entries + 4) * 1024 + ((uint64_t)2 << 20);
}

/* The decompressed stream may run a little past the file bytes (headers, padding), not more. */
static int check_stream(const reader *r, const char *name)
{
	la_int64_t out = archive_filter_bytes(r->a, 0);

	if (out > 0 && (uint64_t)out > stream_max(r))
		return mlctl_error_set(MLCTL_EDATA, "%s: %s: unpacks to more than the limit of %zu bytes",
				       r->origin, name, r->lim.max_total);
	return 0;
}

/* Read the data of the current entry into memory, counting bytes as they decompress. */
static int read_data(reader *r, const char *name, size_t declared, unsigned char **out, size_t *len)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	char buf[65536];
	la_ssize_t got;
	int ret = 0;

	*out = NULL;
	for (;;) {
		got = archive_read_data(r->a, buf, sizeof(buf));
		if (got == 0)
			break;
		if (got < 0) {
			ret = mlctl_error_set(MLCTL_EDATA, "%s: %s: cannot unpack: %s", r->origin, name,
					      archive_error_string(r->a));
			goto out;
		}
		if ((size_t)got > r->lim.max_total - r->total) {
			ret = mlctl_error_set(MLCTL_EDATA, "%s: %s: the package unpacks to more than the limit of %zu bytes",
					      r->origin, name, r->lim.max_total);
			goto out;
		}
		r->total += (size_t)got;
		if (sb.len + (size_t)got > declared) {
			ret = mlctl_error_set(MLCTL_EDATA, "%s: %s: more data than the %zu bytes its header declares",
					      r->origin, name, declared);
			goto out;
		}
		if ((ret = strbuf_add(&sb, buf, (size_t)got)) || (ret = check_stream(r, name)))
			goto out;
	}
	if (sb.len != declared) {
		ret = mlctl_error_set(MLCTL_EDATA, "%s: %s: %zu bytes of data where its header declares %zu",
				      r->origin, name, sb.len, declared);
		goto out;
	}
	*out = (unsigned char *)strbuf_detach(&sb, len);
	if (!*out)
		ret = MLCTL_ENOMEM;
out:
	strbuf_release(&sb);
	return ret;
}

/* Why an entry of this kind is refused, or NULL for a plain file or directory. */
static const char *type_problem(struct archive_entry *e)
{
	if (archive_entry_hardlink(e))
		return "is a hard link";
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
	case AE_IFDIR:
		return NULL;
	case AE_IFLNK:
		return "is a symbolic link";
	case AE_IFCHR:
	case AE_IFBLK:
		return "is a device";
	case AE_IFIFO:
		return "is a fifo";
	case AE_IFSOCK:
		return "is a socket";
	default:
		return "is not a regular file";
	}
}

static int add_dir(reader *r, const char *name)
{
	char *d = mlctl_strdup(name), **grown;

	if (!d)
		return MLCTL_ENOMEM;
	grown = mlctl_reallocarray(r->dirs, r->ndirs + 1, sizeof(*r->dirs));
	if (!grown) {
		free(d);
		return MLCTL_ENOMEM;
	}
	r->dirs = grown;
	r->dirs[r->ndirs++] = d;
	return 0;
}

/* Check the current header and, for a file, read its data into r->c. */
static int read_entry(reader *r, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e), *why;
	la_int64_t size;
	pkg_entry *grown, *pe;
	int ret;

	if (!name)
		return mlctl_error_set(MLCTL_EDATA, "%s: an entry has no name", r->origin);
	if (++r->nheaders > r->lim.max_entries)
		return mlctl_error_set(MLCTL_EDATA, "%s: %s: more than %zu entries", r->origin, name,
				       r->lim.max_entries);
	if ((why = name_problem(name)) || (why = type_problem(e)))
		return mlctl_error_set(MLCTL_EDATA, "%s: %s: refused: %s", r->origin, name, why);
	if (seen_name(r, name))
		return mlctl_error_set(MLCTL_EDATA, "%s: %s: refused: appears twice", r->origin, name);
	if (archive_entry_filetype(e) == AE_IFDIR) {
		if (!is_allowed_dir(r, name))
			return mlctl_error_set(MLCTL_EDATA, "%s: %s: refused: not a directory a package holds",
					       r->origin, name);
		return add_dir(r, name);
	}
	if (!is_allowed_file(r, name))
		return mlctl_error_set(MLCTL_EDATA, "%s: %s: refused: not a file a package holds", r->origin, name);
	size = archive_entry_size(e);
	if (!archive_entry_size_is_set(e) || size < 0)
		return mlctl_error_set(MLCTL_EDATA, "%s: %s: refused: no size in its header", r->origin, name);
	if ((uint64_t)size > (uint64_t)(r->lim.max_total - r->total))
		return mlctl_error_set(MLCTL_EDATA, "%s: %s: refused: declares %lld bytes, over the limit of %zu bytes",
				       r->origin, name, (long long)size, r->lim.max_total);
	if (archive_entry_sparse_count(e) > 0)
		return mlctl_error_set(MLCTL_EDATA, "%s: %s: refused: is a sparse file", r->origin, name);
	grown = mlctl_reallocarray(r->c->entries, r->c->n + 1, sizeof(*grown));
	if (!grown)
		return MLCTL_ENOMEM;
	r->c->entries = grown;
	pe = &grown[r->c->n];
	memset(pe, 0, sizeof(*pe));
	if (!(pe->name = mlctl_strdup(name)))
		return MLCTL_ENOMEM;
	r->c->n++;
	ret = read_data(r, name, (size_t)size, &pe->data, &pe->len);
	return ret;
}

static bool is_gzip_tar(struct archive *a)
{
	return archive_filter_count(a) == 2 && archive_filter_code(a, 0) == ARCHIVE_FILTER_GZIP &&
	       (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR;
}

static int read_all(reader *r)
{
	struct archive_entry *e;
	int st, ret = 0;

	for (;;) {
		st = archive_read_next_header(r->a, &e);
		if (st == ARCHIVE_EOF)
			break;
		if (st != ARCHIVE_OK) {
			if (r->nheaders == 0 && !is_gzip_tar(r->a))
				return mlctl_error_set(MLCTL_EDATA, "%s: " NOT_A_PACKAGE, r->origin);
			return mlctl_error_set(MLCTL_EDATA, "%s: damaged package after %zu entries: %s",
					       r->origin, r->nheaders, archive_error_string(r->a));
		}
		if (r->nheaders == 0 && !is_gzip_tar(r->a))
			return mlctl_error_set(MLCTL_EDATA, "%s: " NOT_A_PACKAGE, r->origin);
		if ((ret = read_entry(r, e)) || (ret = check_stream(r, archive_entry_pathname(e))))
			return ret;
	}
	if (!is_gzip_tar(r->a))
		return mlctl_error_set(MLCTL_EDATA, "%s: " NOT_A_PACKAGE, r->origin);
	if (r->c->n == 0)
		return mlctl_error_set(MLCTL_EDATA, "%s: an empty package (no files in it)", r->origin);
	return 0;
}

/* Why inflate() stopped with zr, in words for "ORIGIN: gzip ...: WHY". */
static int gzip_error(const reader *r, int zr, const z_stream *zs)
{
	const char *msg = zs->msg ? zs->msg : "";

	if (zr == Z_MEM_ERROR)
		return mlctl_error_oom();
	if (zr == Z_BUF_ERROR)
		return mlctl_error_set(MLCTL_EDATA, "%s: gzip stream cut short (no trailer)", r->origin);
	if (!strcmp(msg, "incorrect data check"))
		return mlctl_error_set(MLCTL_EDATA, "%s: gzip trailer: CRC mismatch", r->origin);
	if (!strcmp(msg, "incorrect length check"))
		return mlctl_error_set(MLCTL_EDATA, "%s: gzip trailer: length mismatch", r->origin);
	return mlctl_error_set(MLCTL_EDATA, "%s: damaged gzip stream: %s", r->origin, *msg ? msg : "inflate failed");
}

/*
 * libarchive stops at the tar's end-of-archive blocks and, even when it reads that far,
 * does not check the gzip trailer; so a package whose CRC-32 or length is wrong, or whose
 * deflate data changed only after the tar's end, read as good. Here the whole gzip stream
 * is inflated once more with zlib (output discarded, bounded like the tar read), which
 * checks the trailer. Refused with MLCTL_EDATA: a CRC-32 or length that does not match,
 * a stream cut short, anything after the first gzip member (trailing bytes, a second
 * member), a header zlib rejects (reserved flags, a header CRC that does not match), a
 * stream that inflates past the limit. Accepted: the header fields that say nothing about
 * the content, which zlib does not check either: MTIME, XFL, OS, the FTEXT flag (and a
 * file name or comment, were one there). A change there leaves the same tar and the same
 * files; the package digest and a signature still cover every byte.
 */
static int check_gzip(const reader *r)
{
	unsigned char out[65536];
	size_t fed = 0;
	uint64_t total = 0;
	z_stream zs;
	int zr, ret = 0;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return mlctl_error_oom();
	do {
		if (!zs.avail_in && fed < r->len) {
			size_t n = r->len - fed < (size_t)1 << 30 ? r->len - fed : (size_t)1 << 30;

			zs.next_in = (Bytef *)(uintptr_t)(r->buf + fed);
			zs.avail_in = (uInt)n;
			fed += n;
		}
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		zr = inflate(&zs, Z_NO_FLUSH);
		total += sizeof(out) - zs.avail_out;
		if (total > stream_max(r)) {
			ret = mlctl_error_set(MLCTL_EDATA, "%s: unpacks to more than the limit of %zu bytes", r->origin,
					      r->lim.max_total);
			goto out;
		}
	} while (zr == Z_OK);
	if (zr != Z_STREAM_END)
		ret = gzip_error(r, zr, &zs);
	else if (zs.avail_in || fed < r->len)
		ret = mlctl_error_set(MLCTL_EDATA, "%s: %zu bytes after the end of the gzip stream", r->origin,
				      (size_t)zs.avail_in + (r->len - fed));
out:
	inflateEnd(&zs);
	return ret;
}

/* Run the checks on an archive already opened (or failed to open: st) on r->a. */
static int read_opened(pkg_contents **out, reader *r, int st)
{
	size_t i;
	int ret;

	r->c = mlctl_calloc(1, sizeof(*r->c));
	if (!r->c) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if (st != ARCHIVE_OK) {
		ret = mlctl_error_set(MLCTL_EDATA, "%s: " NOT_A_PACKAGE, r->origin);
		goto out;
	}
	if ((ret = read_all(r)) || (ret = check_gzip(r)))
		goto out;
	*out = r->c;
	r->c = NULL;
out:
	pkg_contents_free(r->c);
	for (i = 0; i < r->ndirs; i++)
		free(r->dirs[i]);
	free(r->dirs);
	archive_read_free(r->a);
	return ret;
}

static int reader_init(reader *r, const char *origin, const char *const *allowed, size_t nallowed,
		       const pkg_limits *lim)
{
	static const pkg_limits defaults = PKG_LIMITS_INIT;

	memset(r, 0, sizeof(*r));
	r->origin = origin;
	r->allowed = allowed;
	r->nallowed = nallowed;
	r->lim = lim ? *lim : defaults;
	r->a = archive_read_new();
	if (!r->a)
		return mlctl_error_oom();
	if (archive_read_support_filter_gzip(r->a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(r->a) != ARCHIVE_OK) {
		archive_read_free(r->a);
		return mlctl_error_set(MLCTL_ERROR, "libarchive lacks gzip or tar support");
	}
	return 0;
}

int pkg_read_mem(pkg_contents **out, const void *buf, size_t len, const char *origin,
		 const char *const *allowed, size_t nallowed, const pkg_limits *lim)
{
	reader r;
	int ret;

	*out = NULL;
	if ((ret = reader_init(&r, origin ? origin : "package", allowed, nallowed, lim)))
		return ret;
	r.buf = buf;
	r.len = len;
	return read_opened(out, &r, archive_read_open_memory(r.a, buf, len));
}

int pkg_read(pkg_contents **out, const char *path, const char *const *allowed, size_t nallowed,
	     const pkg_limits *lim)
{
	static const pkg_limits defaults = PKG_LIMITS_INIT;
	const pkg_limits *l = lim ? lim : &defaults;
	char *buf = NULL;
	size_t len = 0;
	int ret;

	/* Read whole (a package is not much larger than what it unpacks to), so that the
	 * gzip stream can be checked to its end as pkg_read_mem() does. */
	*out = NULL;
	if (!fs_exists(path))
		return mlctl_error_set(MLCTL_ENOTFOUND, "%s: no such file", path);
	if ((ret = fs_read_file(&buf, &len, path, l->max_total > SIZE_MAX / 2 ? 0 : l->max_total + ((size_t)4 << 20))))
		return ret;
	ret = pkg_read_mem(out, buf, len, path, allowed, nallowed, l);
	free(buf);
	return ret;
}

const pkg_entry *pkg_find(const pkg_contents *c, const char *name)
{
	size_t i;

	for (i = 0; c && i < c->n; i++)
		if (!strcmp(c->entries[i].name, name))
			return &c->entries[i];
	return NULL;
}

void pkg_contents_free(pkg_contents *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->entries[i].name);
		free(c->entries[i].data);
	}
	free(c->entries);
	free(c);
}

int pkg_extract(const pkg_contents *c, const char *dir)
{
	size_t i;
	int ret = 0;

	if (!fs_is_dir(dir))
		return mlctl_error_set(MLCTL_ENOTFOUND, "%s: no such directory", dir);
	for (i = 0; i < c->n && !ret; i++) {
		const char *name = c->entries[i].name, *why = name_problem(name);
		char *path = NULL, *parent = NULL;

		/* pkg_read() checked the names; check again so that a caller who built c
		 * by hand cannot write outside dir either. */
		if (why)
			return mlctl_error_set(MLCTL_EDATA, "cannot extract %s: %s", name, why);
		path = fs_join(dir, name);
		parent = path ? fs_dirname(path) : NULL;
		if (!path || !parent)
			ret = MLCTL_ENOMEM;
		else if (!(ret = fs_mkdir_p(parent)))
			ret = fs_write_atomic(path, c->entries[i].data, c->entries[i].len, 0644);
		free(parent);
		free(path);
	}
	return ret;
}
