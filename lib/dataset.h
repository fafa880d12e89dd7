/*
 * dataset.h — streaming readers for CSV, TSV and libsvm sparse files, plain or gzipped
 * (floor 2). Records come one at a time with bounded memory; ds_table_load() reads a whole
 * file for training. Every error names the file, the line and, where there is one, the
 * column and the bad value: "train.csv:1734: column \"age\": \"4O\" is not a number".
 */
#ifndef MLCTL_DATASET_H
#define MLCTL_DATASET_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	DS_FORMAT_AUTO = 0, /* from the extension (.csv .tsv .txt .libsvm .svm, + .gz), else sniffed */
	DS_FORMAT_CSV,
	DS_FORMAT_TSV,
	DS_FORMAT_LIBSVM
} ds_format;

/* Parse "csv", "tsv", "libsvm" (for --format); false when unknown. */
bool ds_format_parse(const char *name, ds_format *out);
const char *ds_format_name(ds_format f);

/*
 * One record. For CSV/TSV, fields[0..nfields) are NUL-terminated (quotes removed, embedded
 * separators and newlines kept). For libsvm, label is the first token and
 * index[0..nsparse)/value[0..nsparse) the index:value pairs (indices ascending, >= 1).
 * Valid until the next ds_reader_next() or ds_reader_free().
 */
typedef struct ds_record {
	size_t line;            /* 1-based line where the record starts */
	size_t nfields;
	char **fields;
	const char *label;
	size_t nsparse;
	const int *index;
	const double *value;
	/* CSV/TSV: the fields lie one after another from fields[0], each ended by its NUL,
	 * textlen bytes in all, so that a copy is one memcpy (0: not so, copy field by field) */
	size_t textlen;
} ds_record;

typedef struct ds_reader ds_reader;

/* Open path ("-" = stdin) for reading; gzip is detected by its magic bytes. For CSV/TSV the
 * header row is read here. Empty files, binary files and wrong delimiters are refused. */
int ds_reader_open(ds_reader **out, const char *path, ds_format format);
/* ds_reader_open() whose reads, when a signal interrupts them (EINTR) while *cancel is
 * nonzero, fail with MLCTL_ECANCELED instead of being retried. */
int ds_reader_open_cancel(ds_reader **out, const char *path, ds_format format,
			  const volatile sig_atomic_t *cancel);
/* 1 and *out set when a record was read, 0 at end of input, < 0 on error. A malformed row
 * (wrong field count, bad libsvm pair: MLCTL_EDATA) is read whole and the next call goes on
 * with the next row; any other error is final (ds_reader_failed() then says so). */
int ds_reader_next(ds_reader *r, const ds_record **out);
/* True once the reader hit an error it cannot read past. */
bool ds_reader_failed(const ds_reader *r);
/* The same over a memory buffer (borrowed until ds_reader_free): name stands for the path
 * in messages and, with DS_FORMAT_AUTO, gives the extension. For tests and fuzzing. */
int ds_reader_open_mem(ds_reader **out, const void *data, size_t len, const char *name,
		       ds_format format);
ds_format ds_reader_format(const ds_reader *r);
/* Column names from the header (CSV/TSV); 0 and NULL for libsvm. Borrowed. */
size_t ds_reader_ncols(const ds_reader *r);
const char *ds_reader_colname(const ds_reader *r, size_t i);
/* The name used in messages (the path, or "<stdin>"). */
const char *ds_reader_path(const ds_reader *r);
/* SHA-256 of all bytes read so far (of the file as stored, compressed or not); complete
 * after ds_reader_next() returned 0. */
void ds_reader_digest(const ds_reader *r, char out[65]);
/* Do not hash the bytes read from now on (call before the first ds_reader_next; the header
 * is hashed already, which does not matter: ds_reader_digest then gives ""). For a caller
 * that records no digest: SHA-256 costs as much as parsing the CSV. */
void ds_reader_skip_digest(ds_reader *r);
void ds_reader_free(ds_reader *r);

/*
 * A whole file in memory, as text cells: cell(t, row, col) is a NUL-terminated string
 * ("" for an empty field). libsvm files become columns "label", "1".."N" (N the largest
 * index), an absent index reading as "0", as in libsvm. lines[row] is the source line.
 */
typedef struct ds_table {
	char *path;
	ds_format format;
	char digest[65];
	size_t nrows, ncols;
	char **colnames;
	char **cells;           /* nrows * ncols, row-major */
	size_t *lines;
	/* private arena */
	void *arena;
} ds_table;

#define ds_cell(t, r, c) ((t)->cells[(size_t)(r) * (t)->ncols + (size_t)(c)])

int ds_table_load(ds_table **out, const char *path, ds_format format);
/* Load the remaining records of an open reader as a table (the reader is left at its end). */
int ds_table_load_reader(ds_table **out, ds_reader *r);
/* Tables of more than cells cells are refused with MLCTL_EDATA (0: the default, 2^27).
 * Process-wide; for fuzzing and small machines. */
void ds_set_table_limit(size_t cells);
/* Index of a column by name, or -1. */
long ds_table_col(const ds_table *t, const char *name);
void ds_table_free(ds_table *t);

/* True for the missing-value spellings: "", "NA", "NaN", "nan", "?" (after trimming). */
bool ds_is_missing(const char *s);

#endif
