/*
 * dataset.c — streaming readers for CSV, TSV and libsvm text, plain or gzipped (floor 2),
 * and whole-file tables for training.
 *
 * A reader is three layers: raw bytes (a file descriptor or a memory buffer, hashed as they
 * are read so the digest is of the file as stored), an optional inflate stage (gzip is
 * recognised by its magic bytes, not by the name), and a record parser working on the
 * decoded buffer. Decoded blocks are checked for NUL bytes and invalid UTF-8 before the
 * parser sees them, so binary files are refused with the line they went wrong on. Records
 * reuse the reader's buffers: no allocation per field or per record once warmed up.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <zlib.h>

#include "dataset.h"
#include "error.h"
#include "hash.h"
#include "util.h"
#include "banned.h"

#define DS_RAW_BLOCK   (64 * 1024)
#define DS_BLOCK       (256 * 1024)
#define DS_MAX_INDEX   100000000        /* libsvm feature indices above this are refused */
#define DS_MAX_WIDTH   (1 << 20)        /* libsvm tables wider than this are refused */

/* A table of more cells than this is refused (8 bytes of pointer each, besides the text). */
static size_t max_cells = (size_t)1 << 27;

void ds_set_table_limit(size_t cells)
{
	max_cells = cells ? cells : (size_t)1 << 27;
}

struct ds_reader {
	char *path;                 /* name used in messages */
	ds_format format;
	int fd;                     /* -1 for a memory source */
	const volatile sig_atomic_t *cancel; /* an interrupted read gives up once it is set */
	bool close_fd;
	const unsigned char *mem;
	size_t memlen, mempos;
	hash_ctx hash;
	bool no_digest;             /* ds_reader_skip_digest(): the bytes are not hashed */

	/* raw input: rawp points into raw (files) or into mem (memory sources) */
	unsigned char *raw;
	const unsigned char *rawp;
	size_t rawlen, rawpos;
	bool raw_eof;

	/* gzip */
	bool gz, zinit, zdone;
	z_stream zs;

	/* decoded bytes: data points into buf (gzip) or at the raw bytes (plain) */
	unsigned char *buf;
	const unsigned char *data;
	size_t len, pos;
	bool eof;
	int err;                    /* sticky error code once something failed */
	bool bad_row;               /* the last error was one row's: the next row can be read */
	bool started;               /* BOM checked */

	/* validation of decoded bytes, which runs ahead of the parser */
	size_t vline;               /* physical line of the validator */
	unsigned utf8_need;         /* continuation bytes still expected */
	unsigned utf8_cp, utf8_min;

	/* parser */
	size_t line;                /* physical line of the next byte */
	char delim;
	strbuf rec;                 /* field bytes, NUL-separated */
	size_t *offs;
	size_t offcap;
	char **fields;
	size_t fieldcap;
	int *idx;
	double *val;
	char **vstr;                /* libsvm value tokens, for tables */
	size_t sparsecap;
	ds_record out;

	/* header */
	size_t ncols;
	char **colnames;
	strbuf header;
};

bool ds_format_parse(const char *name, ds_format *out)
{
	if (!strcmp(name, "csv"))
		*out = DS_FORMAT_CSV;
	else if (!strcmp(name, "tsv"))
		*out = DS_FORMAT_TSV;
	else if (!strcmp(name, "libsvm") || !strcmp(name, "svm"))
		*out = DS_FORMAT_LIBSVM;
	else
		return false;
	return true;
}

const char *ds_format_name(ds_format f)
{
	switch (f) {
	case DS_FORMAT_CSV: return "csv";
	case DS_FORMAT_TSV: return "tsv";
	case DS_FORMAT_LIBSVM: return "libsvm";
	default: return "auto";
	}
}

bool ds_is_missing(const char *s)
{
	size_t n;

	/* every marker starts with a blank, '?', 'N' or 'n' (or is empty): a number never */
	if (*s != ' ' && *s != '\t' && *s != '?' && *s != 'N' && *s != 'n' && *s)
		return false;
	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		return true;
	if (n == 1)
		return s[0] == '?';
	if (n == 2)
		return !strncmp(s, "NA", 2);
	if (n == 3)
		return !strncmp(s, "NaN", 3) || !strncmp(s, "nan", 3);
	return false;
}

/* ---- raw input and decoding -------------------------------------------------------- */

/* Read more raw bytes: 1 when some came, 0 at end of input, < 0 on error. */
static int raw_fill(ds_reader *r)
{
	size_t n;

	if (r->raw_eof)
		return 0;
	if (r->fd < 0) {
		n = r->memlen - r->mempos;
		if (n > DS_RAW_BLOCK)
			n = DS_RAW_BLOCK;
		r->rawp = r->mem + r->mempos;
		r->mempos += n;
	} else {
		ssize_t got;

		do
			got = read(r->fd, r->raw, DS_RAW_BLOCK);
		while (got < 0 && errno == EINTR && !mlctl_cancelled(r->cancel));
		if (got < 0 && errno == EINTR)
			return mlctl_error_set(MLCTL_ECANCELED, "%s: reading cancelled", r->path);
		if (got < 0)
			return mlctl_error_errno(MLCTL_EIO, "%s: cannot read", r->path);
		n = (size_t)got;
		r->rawp = r->raw;
	}
	r->rawlen = n;
	r->rawpos = 0;
	if (n == 0) {
		r->raw_eof = true;
		return 0;
	}
	if (!r->no_digest)
		hash_update(&r->hash, r->rawp, n);
	return 1;
}

static int gz_error(ds_reader *r, const char *why)
{
	return mlctl_error_set(MLCTL_EDATA, "%s: truncated or corrupt gzip data (%s)", r->path,
			       why ? why : "unexpected end of file");
}

/* Inflate the next decoded block into buf: 1, 0 at the end of the last member, < 0. */
static int gz_fill(ds_reader *r)
{
	int ret, zret;

	for (;;) {
		size_t before, produced;

		if (r->rawpos >= r->rawlen) {
			ret = raw_fill(r);
			if (ret < 0)
				return ret;
			if (ret == 0)
				return r->zdone ? 0 : gz_error(r, NULL);
		}
		if (r->zdone) {
			/* another member follows, as in `cat a.gz b.gz` */
			inflateReset(&r->zs);
			r->zdone = false;
		}
		r->zs.next_in = (Bytef *)(uintptr_t)(r->rawp + r->rawpos);
		r->zs.avail_in = (uInt)(r->rawlen - r->rawpos);
		r->zs.next_out = r->buf;
		r->zs.avail_out = DS_BLOCK;
		before = r->rawpos;
		zret = inflate(&r->zs, Z_NO_FLUSH);
		r->rawpos = r->rawlen - r->zs.avail_in;
		produced = DS_BLOCK - r->zs.avail_out;
		if (zret == Z_STREAM_END)
			r->zdone = true;
		else if (zret == Z_MEM_ERROR)
			return mlctl_error_oom();
		else if (zret != Z_OK && !(zret == Z_BUF_ERROR && (produced || r->rawpos != before)))
			return gz_error(r, r->zs.msg ? r->zs.msg : "inflate failed");
		if (produced) {
			r->data = r->buf;
			r->len = produced;
			r->pos = 0;
			return 1;
		}
	}
}

static const char *format_text(ds_format f)
{
	switch (f) {
	case DS_FORMAT_CSV: return "CSV text";
	case DS_FORMAT_TSV: return "TSV text";
	case DS_FORMAT_LIBSVM: return "libsvm text";
	default: return "a text data file";
	}
}

/* Bit 7 of each byte of w that is zero, and only of those (no carry crosses a byte). */
static inline uint64_t zero_bytes(uint64_t w)
{
	const uint64_t lo7 = 0x7f7f7f7f7f7f7f7full;

	return ~(((w & lo7) + lo7) | w | lo7);
}

/* Refuse NUL bytes and invalid UTF-8 in a decoded block: binary files stop here. */
static int validate(ds_reader *r, const unsigned char *p, size_t n)
{
	const uint64_t high = 0x8080808080808080ull, nl = 0x0a0a0a0a0a0a0a0aull;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned c = p[i];

		/* eight ASCII bytes without NUL at a time: only their newlines to count */
		while (!r->utf8_need && i + 8 <= n) {
			uint64_t w;

			memcpy(&w, p + i, 8);
			if ((w & high) || zero_bytes(w))
				break;
			/* one high bit per newline: their count, without a popcount instruction
			 * (the build targets every x86-64) */
			r->vline += (size_t)(((zero_bytes(w ^ nl) >> 7) * 0x0101010101010101ull) >> 56);
			i += 8;
		}
		if (i >= n)
			break;
		c = p[i];

		if (c < 0x80 && !r->utf8_need) {
			if (c == '\n')
				r->vline++;
			else if (c == 0)
				return mlctl_error_set(MLCTL_EDATA,
						       "%s:%zu: binary content (NUL byte): expected %s",
						       r->path, r->vline, format_text(r->format));
			continue;
		}
		if (!r->utf8_need) {
			if (c >= 0xc2 && c <= 0xdf) {
				r->utf8_need = 1, r->utf8_cp = c & 0x1f, r->utf8_min = 0x80;
			} else if (c >= 0xe0 && c <= 0xef) {
				r->utf8_need = 2, r->utf8_cp = c & 0x0f, r->utf8_min = 0x800;
			} else if (c >= 0xf0 && c <= 0xf4) {
				r->utf8_need = 3, r->utf8_cp = c & 0x07, r->utf8_min = 0x10000;
			} else {
				goto bad;
			}
			continue;
		}
		if ((c & 0xc0) != 0x80)
			goto bad;
		r->utf8_cp = (r->utf8_cp << 6) | (c & 0x3f);
		if (--r->utf8_need == 0 && (r->utf8_cp < r->utf8_min || r->utf8_cp > 0x10ffff ||
					    (r->utf8_cp >= 0xd800 && r->utf8_cp <= 0xdfff)))
			goto bad;
		continue;
bad:
		return mlctl_error_set(MLCTL_EDATA,
				       "%s:%zu: binary content or invalid UTF-8 (byte 0x%02x): expected %s",
				       r->path, r->vline, c, format_text(r->format));
	}
	return 0;
}

/* The next validated block of decoded bytes: 1, 0 at the end, < 0 on error. */
static int next_block(ds_reader *r)
{
	int ret;

	if (r->gz) {
		ret = gz_fill(r);
	} else {
		ret = r->rawpos < r->rawlen ? 1 : raw_fill(r);
		if (ret == 1) {
			r->data = r->rawp + r->rawpos;
			r->len = r->rawlen - r->rawpos;
			r->pos = 0;
			r->rawpos = r->rawlen;
		}
	}
	if (ret == 0 && r->utf8_need)
		return mlctl_error_set(MLCTL_EDATA, "%s:%zu: invalid UTF-8 at the end of the file",
				       r->path, r->vline);
	if (ret != 1)
		return ret;
	if (!r->started) {
		/* A UTF-8 byte order mark, as spreadsheets write, is not part of the data. */
		r->started = true;
		if (r->len >= 3 && !memcmp(r->data, "\xef\xbb\xbf", 3))
			r->pos = 3;
	}
	ret = validate(r, r->data + r->pos, r->len - r->pos);
	return ret ? ret : 1;
}

/* Next byte; -1 at end of input, -2 on error (r->err holds the code). */
static int getc_slow(ds_reader *r, bool consume)
{
	int ret;

	if (r->err)
		return -2;
	if (r->eof)
		return -1;
	ret = next_block(r);
	if (ret < 0) {
		r->err = ret;
		return -2;
	}
	if (ret == 0 || r->pos >= r->len) {
		if (ret == 1)
			return getc_slow(r, consume); /* a block holding only the BOM */
		r->eof = true;
		return -1;
	}
	return consume ? r->data[r->pos++] : r->data[r->pos];
}

static inline int rd_getc(ds_reader *r)
{
	if (r->pos < r->len)
		return r->data[r->pos++];
	return getc_slow(r, true);
}

static inline int rd_peek(ds_reader *r)
{
	if (r->pos < r->len)
		return r->data[r->pos];
	return getc_slow(r, false);
}

/* ---- record storage ---------------------------------------------------------------- */

static inline int rec_putc(ds_reader *r, int c)
{
	if (r->rec.len + 2 > r->rec.cap) {
		int ret = strbuf_grow(&r->rec, 1);

		if (ret)
			return ret;
	}
	r->rec.buf[r->rec.len++] = (char)c;
	return 0;
}

/* n bytes at p onto the record (a run of unquoted text straight from the block). */
static inline int rec_add(ds_reader *r, const unsigned char *p, size_t n)
{
	if (r->rec.len + n + 2 > r->rec.cap) {
		int ret = strbuf_grow(&r->rec, n + 1);

		if (ret)
			return ret;
	}
	memcpy(r->rec.buf + r->rec.len, p, n);
	r->rec.len += n;
	return 0;
}

/* Room for at least n field offsets. */
static int rec_mark_field_room(ds_reader *r, size_t n)
{
	size_t cap = r->offcap ? r->offcap : 64;
	size_t *o;

	while (cap < n)
		cap = cap > SIZE_MAX / 4 ? n : cap * 2;
	if (cap <= r->offcap)
		return 0;
	if (!(o = mlctl_reallocarray(r->offs, cap, sizeof(*o))))
		return mlctl_error_oom();
	r->offs = o;
	r->offcap = cap;
	return 0;
}

static int rec_mark_field(ds_reader *r, size_t nf)
{
	int ret;

	if (nf >= r->offcap && (ret = rec_mark_field_room(r, nf + 1)))
		return ret;
	r->offs[nf] = r->rec.len;
	return 0;
}

/* Point fields[0..nf) into the record buffer (which may have moved while it grew). */
static int rec_finish(ds_reader *r, size_t nf)
{
	size_t i;

	if (nf > r->fieldcap) {
		char **f = mlctl_reallocarray(r->fields, nf, sizeof(*f));

		if (!f)
			return mlctl_error_oom();
		r->fields = f;
		r->fieldcap = nf;
	}
	for (i = 0; i < nf; i++)
		r->fields[i] = r->rec.buf + r->offs[i];
	return 0;
}

/* ---- CSV / TSV ----------------------------------------------------------------------- */

/*
 * One RFC 4180 record: fields separated by the delimiter, optionally quoted, "" inside
 * quotes for a quote, delimiters and newlines kept inside quotes, CRLF or LF endings.
 * Blank lines are skipped. 1 when a record was read (fields in r->rec/offs), 0 at the end.
 */
/*
 * The common case of csv_read_record: a record that lies whole in the block, without a
 * quote or a carriage return but one before its newline, is copied and split in one pass.
 * 1 when it was, 0 when the general reader must (nothing consumed), < 0 on error.
 */
static int csv_fast_record(ds_reader *r, size_t *nf_out, size_t *line_out)
{
	const unsigned char *p = r->data + r->pos, *nl, *end;
	const char delim = r->delim;
	size_t n, i, nf = 0, *offs;
	char *o;
	int ret;

	if (r->pos >= r->len || *p == '\n' || *p == '\r' ||
	    !(nl = memchr(p, '\n', r->len - r->pos)))
		return 0;
	end = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
	n = (size_t)(end - p);
	if (memchr(p, '"', n) || memchr(p, '\r', n))
		return 0;
	if (r->rec.cap < n + 2 && (ret = strbuf_grow(&r->rec, n + 2)))
		return ret;
	/* room for the most fields the line can hold, so that the loop only stores */
	if (r->offcap < n + 1 && (ret = rec_mark_field_room(r, n + 1)))
		return ret;
	o = r->rec.buf;
	offs = r->offs;
	offs[nf++] = 0;
	/* without a branch on the delimiter (one every few bytes, at random): the next
	 * field's offset is stored at every byte and kept when the byte is a delimiter */
	for (i = 0; i < n; i++) {
		char ch = (char)p[i];
		bool at = ch == delim;

		o[i] = at ? '\0' : ch;
		offs[nf] = i + 1;
		nf += at;
	}
	o[n] = '\0';
	r->rec.len = n + 1;
	r->pos += (size_t)(nl - p) + 1;
	*line_out = r->line++;
	*nf_out = nf;
	return 1;
}

static int csv_read_record(ds_reader *r, size_t *nf_out, size_t *line_out)
{
	size_t nf = 0;
	int c, ret;

	r->rec.len = 0;
	if ((ret = csv_fast_record(r, nf_out, line_out)))
		return ret;
	for (;;) {
		c = rd_getc(r);
		if (c == '\n') {
			r->line++;
		} else if (c == '\r') {
			if (rd_peek(r) == '\n')
				rd_getc(r);
			r->line++;
		} else {
			break;
		}
	}
	if (c == -1)
		return 0;
	if (c == -2)
		return r->err;
	*line_out = r->line;
	for (;;) {
		if ((ret = rec_mark_field(r, nf)))
			return ret;
		if (c == '"') {
			size_t qline = r->line;

			for (;;) {
				c = rd_getc(r);
				if (c == -2)
					return r->err;
				if (c == -1)
					return mlctl_error_set(MLCTL_EDATA,
							       "%s:%zu: unterminated quoted field: the quote opened here is never closed (expected a closing '\"')",
							       r->path, qline);
				if (c == '"') {
					if (rd_peek(r) != '"')
						break;
					rd_getc(r);
				} else if (c == '\n') {
					r->line++;
				}
				if ((ret = rec_putc(r, c)))
					return ret;
			}
			c = rd_getc(r);
		}
		/* unquoted text, or what follows a closing quote (kept, as Python's csv does):
		 * the rest of the run in this block is copied at once */
		while (c >= 0 && c != r->delim && c != '\n' && c != '\r') {
			const unsigned char *p = r->data + r->pos, *q = p, *e = r->data + r->len;

			if ((ret = rec_putc(r, c)))
				return ret;
			while (q < e && *q != r->delim && *q != '\n' && *q != '\r')
				q++;
			if (q > p) {
				if ((ret = rec_add(r, p, (size_t)(q - p))))
					return ret;
				r->pos += (size_t)(q - p);
			}
			c = rd_getc(r);
		}
		if ((ret = rec_putc(r, '\0')))
			return ret;
		nf++;
		if (c == r->delim) {
			c = rd_getc(r);
			continue;
		}
		if (c == -2)
			return r->err;
		if (c == '\r' && rd_peek(r) == '\n')
			rd_getc(r);
		if (c != -1)
			r->line++;
		break;
	}
	*nf_out = nf;
	return 1;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Read the header row; refuse an empty file, duplicate names and a wrong delimiter. */
static int csv_read_header(ds_reader *r)
{
	char **sorted = NULL;
	size_t nf = 0, line = 1, i;
	int ret;

	ret = csv_read_record(r, &nf, &line);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return mlctl_error_set(MLCTL_EDATA, "%s: the file is empty: expected a %s header row",
				       r->path, r->format == DS_FORMAT_TSV ? "TSV" : "CSV");
	if (nf == 1) {
		const char *h = r->rec.buf;

		if (r->format == DS_FORMAT_CSV && strchr(h, ';'))
			return mlctl_error_set(MLCTL_EDATA,
					       "%s:%zu: the header has one field but contains ';': expected ',' between fields (is the file ';'-separated?)",
					       r->path, line);
		if (r->format == DS_FORMAT_CSV && strchr(h, '\t'))
			return mlctl_error_set(MLCTL_EDATA,
					       "%s:%zu: the header has one field but contains tabs: expected ',' between fields (use --format tsv for tab-separated files)",
					       r->path, line);
		if (r->format == DS_FORMAT_TSV && strchr(h, ','))
			return mlctl_error_set(MLCTL_EDATA,
					       "%s:%zu: the header has one field but contains ',': expected tabs between fields (use --format csv for comma-separated files)",
					       r->path, line);
	}
	if ((ret = strbuf_add(&r->header, r->rec.buf, r->rec.len)))
		return ret;
	r->colnames = mlctl_calloc(nf, sizeof(*r->colnames));
	sorted = mlctl_calloc(nf, sizeof(*sorted));
	if (!r->colnames || !sorted) {
		ret = mlctl_error_oom();
		goto out;
	}
	for (i = 0; i < nf; i++)
		sorted[i] = r->colnames[i] = trim(r->header.buf + r->offs[i]);
	r->ncols = nf;
	qsort(sorted, nf, sizeof(*sorted), cmp_strp);
	for (i = 1; i < nf; i++) {
		if (!strcmp(sorted[i - 1], sorted[i])) {
			ret = mlctl_error_set(MLCTL_EDATA,
					      "%s:%zu: column \"%s\" appears twice in the header: expected unique column names",
					      r->path, line, sorted[i]);
			goto out;
		}
	}
out:
	free(sorted);
	return ret;
}

static int csv_next(ds_reader *r)
{
	size_t nf = 0, line = 0;
	int ret;

	ret = csv_read_record(r, &nf, &line);
	if (ret <= 0)
		return ret;
	if (nf != r->ncols) {
		r->bad_row = true; /* the whole record was consumed: reading can go on */
		return mlctl_error_set(MLCTL_EDATA,
				       "%s:%zu: row has %zu field%s, the header has %zu: expected %zu %s-separated fields",
				       r->path, line, nf, nf == 1 ? "" : "s", r->ncols, r->ncols,
				       r->delim == ',' ? "comma" : "tab");
	}
	if ((ret = rec_finish(r, nf)))
		return ret;
	memset(&r->out, 0, sizeof(r->out));
	r->out.line = line;
	r->out.nfields = nf;
	r->out.fields = r->fields;
	r->out.textlen = r->rec.len;
	return 1;
}

/* ---- libsvm ------------------------------------------------------------------------- */

/* One physical line into r->rec (without its ending); 1, 0 at the end, < 0. */
static int read_line(ds_reader *r)
{
	int c, ret;

	r->rec.len = 0;
	c = rd_getc(r);
	if (c == -1)
		return 0;
	while (c >= 0 && c != '\n') {
		if ((ret = rec_putc(r, c)))
			return ret;
		c = rd_getc(r);
	}
	if (c == -2)
		return r->err;
	if ((ret = strbuf_grow(&r->rec, 1)))
		return ret;
	if (r->rec.len && r->rec.buf[r->rec.len - 1] == '\r')
		r->rec.len--;
	r->rec.buf[r->rec.len] = '\0';
	return 1;
}

static int sparse_reserve(ds_reader *r, size_t n)
{
	size_t cap;
	int *i;
	double *v;
	char **s;

	if (n <= r->sparsecap)
		return 0;
	cap = r->sparsecap ? r->sparsecap * 2 : 64;
	while (cap < n)
		cap *= 2;
	i = mlctl_reallocarray(r->idx, cap, sizeof(*i));
	if (i)
		r->idx = i;
	v = mlctl_reallocarray(r->val, cap, sizeof(*v));
	if (v)
		r->val = v;
	s = mlctl_reallocarray(r->vstr, cap, sizeof(*s));
	if (s)
		r->vstr = s;
	if (!i || !v || !s)
		return mlctl_error_oom();
	r->sparsecap = cap;
	return 0;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* Parse "label idx:val ..." in r->rec in place. */
static int libsvm_parse(ds_reader *r, size_t line)
{
	char *p = r->rec.buf, *tok, *colon;
	long prev = 0;
	size_t n = 0;
	int ret;

	while (is_ws(*p))
		p++;
	r->out.label = p;
	while (*p && !is_ws(*p))
		p++;
	if (*p)
		*p++ = '\0';
	for (;;) {
		int64_t index;
		double v;

		while (is_ws(*p))
			p++;
		if (!*p)
			break;
		tok = p;
		while (*p && !is_ws(*p))
			p++;
		if (*p)
			*p++ = '\0';
		colon = strchr(tok, ':');
		if (!colon)
			return mlctl_error_set(MLCTL_EDATA,
					       "%s:%zu: \"%s\": expected index:value pairs after the label",
					       r->path, line, tok);
		*colon = '\0';
		if (!mlctl_parse_int64(tok, 1, DS_MAX_INDEX, &index))
			return mlctl_error_set(MLCTL_EDATA,
					       "%s:%zu: index \"%s\" is not a positive integer (at most %d)",
					       r->path, line, tok, DS_MAX_INDEX);
		if (!mlctl_parse_double(colon + 1, &v) || !isfinite(v))
			return mlctl_error_set(MLCTL_EDATA,
					       "%s:%zu: feature %s: \"%s\" is not a number", r->path,
					       line, tok, colon + 1);
		if (index <= prev)
			return mlctl_error_set(MLCTL_EDATA,
					       "%s:%zu: index %ld after index %ld: expected ascending indices",
					       r->path, line, (long)index, prev);
		prev = (long)index;
		if ((ret = sparse_reserve(r, n + 1)))
			return ret;
		r->idx[n] = (int)index;
		r->val[n] = v;
		r->vstr[n] = colon + 1;
		n++;
	}
	r->out.line = line;
	r->out.nsparse = n;
	r->out.index = r->idx;
	r->out.value = r->val;
	return 1;
}

static int libsvm_next(ds_reader *r)
{
	int ret;

	for (;;) {
		size_t line = r->line;
		const char *p;

		ret = read_line(r);
		if (ret <= 0)
			return ret;
		r->line++;
		for (p = r->rec.buf; is_ws(*p); p++)
			;
		if (!*p)
			continue;
		memset(&r->out, 0, sizeof(r->out));
		ret = libsvm_parse(r, line);
		/* a malformed line was read whole: reading can go on at the next one */
		r->bad_row = ret == MLCTL_EDATA;
		return ret;
	}
}

/* ---- opening ------------------------------------------------------------------------ */

static bool has_suffix(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && !strncasecmp(s + n - k, suffix, k);
}

/* The format a name implies, or DS_FORMAT_AUTO (.txt, unknown) to sniff the content. */
static ds_format format_from_name(const char *name)
{
	size_t n = strlen(name);

	if (has_suffix(name, n, ".gz"))
		n -= 3;
	if (has_suffix(name, n, ".csv"))
		return DS_FORMAT_CSV;
	if (has_suffix(name, n, ".tsv"))
		return DS_FORMAT_TSV;
	if (has_suffix(name, n, ".libsvm") || has_suffix(name, n, ".svm"))
		return DS_FORMAT_LIBSVM;
	return DS_FORMAT_AUTO;
}

/* Guess from the first line: "number idx:val ..." is libsvm, tabs mean TSV, else CSV. */
static ds_format sniff(const unsigned char *p, size_t n)
{
	char line[4096], *s, *tok;
	size_t k = 0;
	bool first = true, libsvm = true, tab = false;

	while (k < n && k < sizeof(line) - 1 && p[k] != '\n') {
		line[k] = (char)p[k];
		tab |= p[k] == '\t';
		k++;
	}
	line[k] = '\0';
	if (k && line[k - 1] == '\r')
		line[k - 1] = '\0';
	s = line;
	for (;;) {
		char *colon;
		double v;
		int64_t ix;

		while (is_ws(*s))
			s++;
		if (!*s)
			break;
		tok = s;
		while (*s && !is_ws(*s))
			s++;
		if (*s)
			*s++ = '\0';
		if (first) {
			libsvm = mlctl_parse_double(tok, &v);
			first = false;
		} else {
			colon = strchr(tok, ':');
			if (colon)
				*colon = '\0';
			libsvm = colon && mlctl_parse_int64(tok, 1, INT_MAX, &ix) &&
				 mlctl_parse_double(colon + 1, &v);
		}
		if (!libsvm)
			break;
	}
	if (libsvm && !first)
		return DS_FORMAT_LIBSVM;
	return tab ? DS_FORMAT_TSV : DS_FORMAT_CSV;
}

static int reader_start(ds_reader *r, ds_format format, const char *name)
{
	int ret, c;

	hash_init(&r->hash);
	r->line = r->vline = 1;
	r->format = format != DS_FORMAT_AUTO ? format : format_from_name(name);
	if ((ret = raw_fill(r)) < 0)
		return ret;
	if (r->rawlen >= 2 && r->rawp[0] == 0x1f && r->rawp[1] == 0x8b) {
		r->buf = malloc(DS_BLOCK);
		if (!r->buf)
			return mlctl_error_oom();
		if (inflateInit2(&r->zs, 15 + 16) != Z_OK)
			return mlctl_error_oom();
		r->zinit = r->gz = true;
	}
	c = rd_peek(r);
	if (c == -2)
		return r->err;
	if (c == -1)
		return mlctl_error_set(MLCTL_EDATA, "%s: the file is empty: expected %s", r->path,
				       r->format == DS_FORMAT_LIBSVM ? "libsvm lines \"label index:value ...\"" :
				       r->format == DS_FORMAT_AUTO ? "a header row or libsvm lines" :
				       "a header row");
	if (r->format == DS_FORMAT_AUTO)
		r->format = sniff(r->data + r->pos, r->len - r->pos);
	if (r->format == DS_FORMAT_LIBSVM)
		return 0;
	r->delim = r->format == DS_FORMAT_TSV ? '\t' : ',';
	return csv_read_header(r);
}

static int reader_alloc(ds_reader **out, const char *name)
{
	ds_reader *r = mlctl_calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return MLCTL_ENOMEM;
	r->fd = -1;
	r->path = mlctl_strdup(name);
	if (!r->path) {
		free(r);
		return MLCTL_ENOMEM;
	}
	*out = r;
	return 0;
}

int ds_reader_open(ds_reader **out, const char *path, ds_format format)
{
	return ds_reader_open_cancel(out, path, format, NULL);
}

int ds_reader_open_cancel(ds_reader **out, const char *path, ds_format format,
			  const volatile sig_atomic_t *cancel)
{
	bool is_stdin = !strcmp(path, "-");
	ds_reader *r = NULL;
	int ret;

	*out = NULL;
	if ((ret = reader_alloc(&r, is_stdin ? "<stdin>" : path)))
		return ret;
	r->raw = malloc(DS_RAW_BLOCK);
	if (!r->raw) {
		ret = mlctl_error_oom();
		goto out_free;
	}
	if (is_stdin) {
		r->fd = 0;
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			ret = mlctl_error_errno(MLCTL_EIO, "cannot open %s", path);
			goto out_free;
		}
		r->close_fd = true;
	}
	r->cancel = cancel;
	if ((ret = reader_start(r, format, is_stdin ? "" : path)))
		goto out_free;
	*out = r;
	return 0;
out_free:
	ds_reader_free(r);
	return ret;
}

int ds_reader_open_mem(ds_reader **out, const void *data, size_t len, const char *name,
		       ds_format format)
{
	ds_reader *r = NULL;
	int ret;

	*out = NULL;
	if ((ret = reader_alloc(&r, name)))
		return ret;
	r->mem = data;
	r->memlen = len;
	if ((ret = reader_start(r, format, name))) {
		ds_reader_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

int ds_reader_next(ds_reader *r, const ds_record **out)
{
	int ret;

	*out = NULL;
	if (r->err)
		return r->err;
	r->bad_row = false;
	ret = r->format == DS_FORMAT_LIBSVM ? libsvm_next(r) : csv_next(r);
	if (ret < 0) {
		if (!r->bad_row)
			r->err = ret;
		return ret;
	}
	if (ret == 1)
		*out = &r->out;
	return ret;
}

bool ds_reader_failed(const ds_reader *r)
{
	return r->err != 0;
}

ds_format ds_reader_format(const ds_reader *r)
{
	return r->format;
}

size_t ds_reader_ncols(const ds_reader *r)
{
	return r->ncols;
}

const char *ds_reader_colname(const ds_reader *r, size_t i)
{
	return i < r->ncols ? r->colnames[i] : NULL;
}

const char *ds_reader_path(const ds_reader *r)
{
	return r->path;
}

void ds_reader_skip_digest(ds_reader *r)
{
	r->no_digest = true;
}

void ds_reader_digest(const ds_reader *r, char out[65])
{
	hash_ctx copy = r->hash;

	if (r->no_digest) {
		out[0] = '\0';
		return;
	}
	hash_final_hex(&copy, out);
}

void ds_reader_free(ds_reader *r)
{
	if (!r)
		return;
	if (r->close_fd && r->fd >= 0)
		close(r->fd);
	if (r->zinit)
		inflateEnd(&r->zs);
	free(r->path);
	free(r->raw);
	free(r->buf);
	strbuf_release(&r->rec);
	strbuf_release(&r->header);
	free(r->offs);
	free(r->fields);
	free(r->idx);
	free(r->val);
	free(r->vstr);
	free(r->colnames);
	free(r);
}

/* ---- tables ------------------------------------------------------------------------- */

/* Cells live in an arena of large blocks: one allocation per 1 MiB, not one per cell. */
typedef struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	char data[];
} arena_block;

static char *arena_strndup(ds_table *t, const char *s, size_t n)
{
	arena_block *b = t->arena;
	char *p;

	if (!b || b->cap - b->used < n + 1) {
		size_t cap = n + 1 > (1u << 20) ? n + 1 : (1u << 20);

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = t->arena;
		b->used = 0;
		b->cap = cap;
		t->arena = b;
	}
	p = b->data + b->used;
	memcpy(p, s, n);
	p[n] = '\0';
	b->used += n + 1;
	return p;
}

static int table_grow_rows(ds_table *t, size_t *rowcap)
{
	size_t cap = *rowcap ? *rowcap * 2 : 1024;
	char **cells;
	size_t *lines;

	if (t->ncols && cap > max_cells / t->ncols)
		cap = max_cells / t->ncols;
	if (cap <= t->nrows)
		return mlctl_error_set(MLCTL_EDATA, "%s: too large to load as a table (more than %zu cells)",
				       t->path, max_cells);
	cells = mlctl_reallocarray(t->cells, cap, t->ncols * sizeof(*cells));
	if (!cells)
		return mlctl_error_oom();
	t->cells = cells;
	lines = mlctl_reallocarray(t->lines, cap, sizeof(*lines));
	if (!lines)
		return mlctl_error_oom();
	t->lines = lines;
	*rowcap = cap;
	return 0;
}

static int table_load_csv(ds_table *t, ds_reader *r)
{
	const ds_record *rec;
	size_t rowcap = 0, i;
	int ret;

	t->ncols = r->ncols;
	t->colnames = mlctl_calloc(t->ncols, sizeof(*t->colnames));
	if (!t->colnames)
		return MLCTL_ENOMEM;
	for (i = 0; i < t->ncols; i++)
		if (!(t->colnames[i] = arena_strndup(t, r->colnames[i], strlen(r->colnames[i]))))
			return mlctl_error_oom();
	while ((ret = ds_reader_next(r, &rec)) == 1) {
		char **row;

		if (t->nrows == rowcap && (ret = table_grow_rows(t, &rowcap)))
			return ret;
		row = t->cells + t->nrows * t->ncols;
		for (i = 0; i < rec->nfields; i++) {
			size_t end = i + 1 < rec->nfields ? r->offs[i + 1] - 1 : r->rec.len - 1;

			row[i] = arena_strndup(t, rec->fields[i], end - r->offs[i]);
			if (!row[i])
				return mlctl_error_oom();
		}
		t->lines[t->nrows++] = rec->line;
	}
	return ret;
}

/* libsvm rows are gathered sparse first: the width is known only at the end. */
typedef struct sparse_rows {
	char **labels;
	size_t *start, *line;   /* per row, start[nrows] = total */
	int *idx;
	char **val;
	size_t nrows, rowcap, n, cap;
} sparse_rows;

static int sparse_rows_add(sparse_rows *s, ds_table *t, ds_reader *r, const ds_record *rec)
{
	size_t i;

	if (s->nrows + 1 >= s->rowcap) {
		size_t cap = s->rowcap ? s->rowcap * 2 : 1024;
		char **l = mlctl_reallocarray(s->labels, cap, sizeof(*l));
		size_t *st, *ln;

		if (l)
			s->labels = l;
		st = mlctl_reallocarray(s->start, cap, sizeof(*st));
		if (st)
			s->start = st;
		ln = mlctl_reallocarray(s->line, cap, sizeof(*ln));
		if (ln)
			s->line = ln;
		if (!l || !st || !ln)
			return mlctl_error_oom();
		s->rowcap = cap;
	}
	if (s->n + rec->nsparse > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		int *ix;
		char **v;

		while (cap < s->n + rec->nsparse)
			cap *= 2;
		ix = mlctl_reallocarray(s->idx, cap, sizeof(*ix));
		if (ix)
			s->idx = ix;
		v = mlctl_reallocarray(s->val, cap, sizeof(*v));
		if (v)
			s->val = v;
		if (!ix || !v)
			return mlctl_error_oom();
		s->cap = cap;
	}
	s->labels[s->nrows] = arena_strndup(t, rec->label, strlen(rec->label));
	if (!s->labels[s->nrows])
		return mlctl_error_oom();
	s->start[s->nrows] = s->n;
	s->line[s->nrows] = rec->line;
	for (i = 0; i < rec->nsparse; i++) {
		s->idx[s->n] = rec->index[i];
		s->val[s->n] = arena_strndup(t, r->vstr[i], strlen(r->vstr[i]));
		if (!s->val[s->n])
			return mlctl_error_oom();
		s->n++;
	}
	s->nrows++;
	s->start[s->nrows] = s->n;
	return 0;
}

static int table_load_libsvm(ds_table *t, ds_reader *r)
{
	sparse_rows s = { 0 };
	const ds_record *rec;
	char *zero, name[24];
	size_t i, j, maxidx = 0;
	int ret;

	while ((ret = ds_reader_next(r, &rec)) == 1) {
		if ((ret = sparse_rows_add(&s, t, r, rec)))
			goto out;
		if (rec->nsparse && (size_t)rec->index[rec->nsparse - 1] > maxidx)
			maxidx = (size_t)rec->index[rec->nsparse - 1];
	}
	if (ret < 0 || s.nrows == 0)
		goto out;
	t->ncols = maxidx + 1;
	if (maxidx > DS_MAX_WIDTH) {
		ret = mlctl_error_set(MLCTL_EDATA,
				      "%s: feature index %zu is too large to load as a table (at most %d)",
				      t->path, maxidx, DS_MAX_WIDTH);
		goto out;
	}
	if (s.nrows > max_cells / t->ncols) {
		ret = mlctl_error_set(MLCTL_EDATA,
				      "%s: too large to load as a table (%zu rows × %zu columns)",
				      t->path, s.nrows, t->ncols);
		goto out;
	}
	t->colnames = mlctl_calloc(t->ncols, sizeof(*t->colnames));
	t->cells = mlctl_calloc(s.nrows * t->ncols, sizeof(*t->cells));
	t->lines = mlctl_calloc(s.nrows, sizeof(*t->lines));
	zero = arena_strndup(t, "0", 1);
	if (!t->colnames || !t->cells || !t->lines || !zero) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	t->colnames[0] = arena_strndup(t, "label", 5);
	for (j = 1; j < t->ncols; j++) {
		snprintf(name, sizeof(name), "%zu", j);
		t->colnames[j] = arena_strndup(t, name, strlen(name));
		if (!t->colnames[j]) {
			ret = mlctl_error_oom();
			goto out;
		}
	}
	for (i = 0; i < s.nrows; i++) {
		char **row = t->cells + i * t->ncols;

		row[0] = s.labels[i];
		for (j = 1; j < t->ncols; j++)
			row[j] = zero;
		for (j = s.start[i]; j < s.start[i + 1]; j++)
			row[s.idx[j]] = s.val[j];
		t->lines[i] = s.line[i];
	}
	t->nrows = s.nrows;
out:
	free(s.labels);
	free(s.start);
	free(s.line);
	free(s.idx);
	free(s.val);
	return ret;
}

int ds_table_load_reader(ds_table **out, ds_reader *r)
{
	ds_table *t;
	int ret;

	*out = NULL;
	t = mlctl_calloc(1, sizeof(*t));
	if (!t)
		return MLCTL_ENOMEM;
	t->format = r->format;
	t->path = mlctl_strdup(r->path);
	if (!t->path) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	ret = r->format == DS_FORMAT_LIBSVM ? table_load_libsvm(t, r) : table_load_csv(t, r);
	if (ret < 0)
		goto out_free;
	if (t->nrows == 0) {
		ret = mlctl_error_set(MLCTL_EDATA, "%s: no data rows: expected at least one %s",
				      r->path, r->format == DS_FORMAT_LIBSVM ?
				      "line \"label index:value ...\"" : "record after the header row");
		goto out_free;
	}
	ds_reader_digest(r, t->digest);
	*out = t;
	return 0;
out_free:
	ds_table_free(t);
	return ret;
}

int ds_table_load(ds_table **out, const char *path, ds_format format)
{
	ds_reader *r;
	int ret;

	*out = NULL;
	if ((ret = ds_reader_open(&r, path, format)))
		return ret;
	ret = ds_table_load_reader(out, r);
	ds_reader_free(r);
	return ret;
}

long ds_table_col(const ds_table *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		if (!strcmp(t->colnames[i], name))
			return (long)i;
	return -1;
}

void ds_table_free(ds_table *t)
{
	arena_block *b, *next;

	if (!t)
		return;
	for (b = t->arena; b; b = next) {
		next = b->next;
		free(b);
	}
	free(t->path);
	free(t->colnames);
	free(t->cells);
	free(t->lines);
	free(t);
}
