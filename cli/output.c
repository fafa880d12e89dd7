/*
 * output.c — how the front end prints: aligned tables and JSON on stdout, "mlctl: ..."
 * messages on stderr, a progress bar only when stderr is a terminal.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "banned.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	cli_progress_done();
	fprintf(stderr, "mlctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	cli_progress_done();
	fprintf(stderr, "mlctl: warning: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_fail_with(const mlctl_error *e, int code)
{
	if (e->code && e->message[0])
		cli_error("%s", e->message);
	else
		cli_error("%s", mlctl_strerror(code));
	return mlctl_exit_status(code);
}

int cli_fail(int code)
{
	return cli_fail_with(mlctl_error_last(), code);
}

/* ---- tables ---- */

struct cli_table {
	int ncols;
	size_t nrows;
	char **cells;    /* (nrows + 1) * ncols; row 0 is the header */
};

cli_table *cli_table_new(int ncols, ...)
{
	cli_table *t = calloc(1, sizeof(*t));
	va_list ap;
	int i;

	if (!t)
		return NULL;
	t->ncols = ncols;
	t->cells = calloc((size_t)ncols, sizeof(*t->cells));
	va_start(ap, ncols);
	for (i = 0; i < ncols && t->cells; i++)
		t->cells[i] = strdup(va_arg(ap, const char *));
	va_end(ap);
	return t;
}

void cli_table_row(cli_table *t, ...)
{
	char **cells;
	va_list ap;
	int i;

	if (!t || !t->cells)
		return;
	cells = realloc(t->cells, (t->nrows + 2) * (size_t)t->ncols * sizeof(*cells));
	if (!cells)
		return;
	t->cells = cells;
	t->nrows++;
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);

		cells[t->nrows * (size_t)t->ncols + (size_t)i] = strdup(s ? s : "-");
	}
	va_end(ap);
}

void cli_table_print(cli_table *t, FILE *f)
{
	size_t r, *width;
	int c;

	if (!t || !t->cells || !(width = calloc((size_t)t->ncols, sizeof(*width))))
		return;
	for (r = 0; r <= t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t w = strlen(t->cells[r * (size_t)t->ncols + (size_t)c]);

			if (w > width[c])
				width[c] = w;
		}
	for (r = 0; r <= t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * (size_t)t->ncols + (size_t)c];

			if (c == t->ncols - 1)
				fprintf(f, "%s\n", s);
			else
				fprintf(f, "%-*s  ", (int)width[c], s);
		}
	}
	free(width);
}

void cli_table_free(cli_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; t->cells && i < (t->nrows + 1) * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* ---- JSON ---- */

int cli_json_print(json_t *doc)
{
	int ret = 0;

	if (!doc) {
		cli_error("out of memory");
		return MLCTL_EXIT_SOFTWARE;
	}
	if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) != 0)
		ret = MLCTL_EXIT_IOERR;
	fputc('\n', stdout);
	json_decref(doc);
	return ret;
}

json_t *cli_json_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *cli_json_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *cli_json_time(int64_t ms)
{
	char buf[40];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!ms)
		return json_null();
	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return json_string(buf);
}

/* ---- human formatting ---- */

static char *rotating(void)
{
	static char bufs[8][64];
	static int i;

	return bufs[i++ & 7];
}

const char *cli_fmt_time(int64_t ms)
{
	char *b = rotating();
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!ms)
		return "-";
	localtime_r(&t, &tm);
	strftime(b, 64, "%Y-%m-%d %H:%M:%S", &tm);
	return b;
}

const char *cli_fmt_duration(int64_t ms)
{
	char *b = rotating();

	if (ms < 0)
		return "-";
	if (ms < 10000)
		snprintf(b, 64, "%.2fs", (double)ms / 1000);
	else if (ms < 600000)
		snprintf(b, 64, "%.0fs", (double)ms / 1000);
	else
		snprintf(b, 64, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
	return b;
}

const char *cli_fmt_double(double v)
{
	char *b = rotating();

	if (isnan(v))
		return "-";
	snprintf(b, 64, "%.6g", v);
	return b;
}

const char *cli_fmt_bytes(uint64_t n)
{
	char *b = rotating();

	if (n < 1024)
		snprintf(b, 64, "%llu B", (unsigned long long)n);
	else if (n < 1024 * 1024)
		snprintf(b, 64, "%.1f KiB", (double)n / 1024);
	else if (n < 1024ull * 1024 * 1024)
		snprintf(b, 64, "%.1f MiB", (double)n / 1048576);
	else
		snprintf(b, 64, "%.2f GiB", (double)n / 1073741824.0);
	return b;
}

/* ---- progress ---- */

static bool progress_shown;

bool cli_progress(const char *what, uint64_t done, uint64_t total, void *payload)
{
	const cli_ctx *ctx = payload;
	int width = 30, filled;

	if ((ctx && (ctx->quiet || ctx->json)) || !isatty(STDERR_FILENO))
		return true;
	if (total) {
		filled = (int)((double)done / (double)total * width);
		fprintf(stderr, "\r%-6s [%.*s%*s] %llu/%llu", what, filled,
			"##############################", width - filled, "",
			(unsigned long long)done, (unsigned long long)total);
	} else {
		fprintf(stderr, "\r%-6s %llu", what, (unsigned long long)done);
	}
	progress_shown = true;
	return true;
}

void cli_progress_show(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	progress_shown = true;
}

void cli_progress_done(void)
{
	if (progress_shown) {
		fprintf(stderr, "\r\033[K");
		progress_shown = false;
	}
}
