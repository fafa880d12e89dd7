/*
 * util.c — string buffers, checked allocation, number and time formatting (floor 1).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "util.h"
#include "banned.h"

/* Make room for extra more bytes and the NUL. A buffer is NUL-terminated from its first
 * allocation on, so that strbuf_detach() of a buffer grown but never written (an empty
 * file read into it) still returns a string. */
int strbuf_grow(strbuf *sb, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - sb->len - 1)
		return mlctl_error_oom();
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(sb->buf, cap);
	if (!p)
		return mlctl_error_oom();
	if (!sb->buf)
		p[0] = '\0';
	sb->buf = p;
	sb->cap = cap;
	return 0;
}

int strbuf_add(strbuf *sb, const void *data, size_t len)
{
	int ret = strbuf_grow(sb, len);

	if (ret)
		return ret;
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int strbuf_puts(strbuf *sb, const char *s)
{
	return strbuf_add(sb, s, strlen(s));
}

int strbuf_vprintf(strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n, ret;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return mlctl_error_set(MLCTL_ERROR, "cannot format a string");
	ret = strbuf_grow(sb, (size_t)n);
	if (ret)
		return ret;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int strbuf_printf(strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = strbuf_vprintf(sb, fmt, ap);
	va_end(ap);
	return ret;
}

char *strbuf_detach(strbuf *sb, size_t *len)
{
	char *p;

	if (!sb->buf && strbuf_grow(sb, 0))
		return NULL;
	p = sb->buf;
	if (len)
		*len = sb->len;
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return p;
}

void strbuf_release(strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

char *mlctl_strdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		mlctl_error_oom();
	return p;
}

char *mlctl_asprintf(const char *fmt, ...)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	if (ret) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

void *mlctl_calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size) {
		mlctl_error_oom();
		return NULL;
	}
	p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		mlctl_error_oom();
	return p;
}

void *mlctl_reallocarray(void *p, size_t n, size_t size)
{
	void *q;

	if (size && n > SIZE_MAX / size) {
		mlctl_error_oom();
		return NULL;
	}
	q = realloc(p, (n * size) != 0 ? n * size : 1);
	if (!q)
		mlctl_error_oom();
	return q;
}

/* Numbers are written and read in the C locale whatever the process locale is. */
/* The C locale object, made once for the process (threads race here otherwise) and never
 * freed. If it cannot be made, uselocale() gets LC_GLOBAL_LOCALE: the process's own. */
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale_obj;

static void c_locale_make(void)
{
	c_locale_obj = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t c_locale(void)
{
	pthread_once(&c_locale_once, c_locale_make);
	return c_locale_obj ? c_locale_obj : LC_GLOBAL_LOCALE;
}

const char *mlctl_fmt_double(char buf[32], double v)
{
	locale_t old = uselocale(c_locale());
	int prec;

	if (isnan(v)) {
		snprintf(buf, 32, "nan");
	} else if (isinf(v)) {
		snprintf(buf, 32, v > 0 ? "inf" : "-inf");
	} else {
		for (prec = 15; prec <= 17; prec++) {
			snprintf(buf, 32, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	}
	uselocale(old);
	return buf;
}

/*
 * The exact fast path of decimal parsing (Clinger 1990): a plain decimal "[-+]digits[.digits]
 * [e[-+]digits]" whose digits make an integer m < 2^53 and whose power of ten p has
 * |p| <= 22 is m * 10^p or m / 10^-p, both operands exact doubles, so one IEEE operation
 * rounds it correctly: the same double strtod gives. False (nothing set) for anything else,
 * which strtod then reads: more digits, a larger exponent, hex, inf, nan, blanks.
 */
static bool parse_double_fast(const char *s, double *out)
{
	static const double pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
					1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	uint64_t m = 0;
	int frac = 0, exp = 0, p;
	bool neg = false;
	const char *start;
	size_t ndig;
	double v;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	/* at most 19 digits in all (leading zeros too), so that m cannot wrap: then m < 2^53
	 * is checked once */
	for (start = s; (unsigned)(*s - '0') < 10 && s - start < 19; s++)
		m = m * 10 + (uint64_t)(*s - '0');
	ndig = (size_t)(s - start);
	if ((unsigned)(*s - '0') < 10)
		return false;
	if (*s == '.') {
		const char *f0 = ++s;

		for (; (unsigned)(*s - '0') < 10 && ndig + (size_t)(s - f0) < 19; s++)
			m = m * 10 + (uint64_t)(*s - '0');
		if ((unsigned)(*s - '0') < 10)
			return false;
		frac = (int)(s - f0);
		ndig += (size_t)frac;
	}
	if (ndig == 0 || m >= (uint64_t)1 << 53)
		return false;
	if (*s == 'e' || *s == 'E') {
		bool eneg = false;
		int nexp = 0;

		s++;
		if (*s == '-' || *s == '+')
			eneg = *s++ == '-';
		for (; *s >= '0' && *s <= '9'; s++, nexp++)
			if ((exp = exp * 10 + (*s - '0')) > 1000)
				return false;
		if (!nexp)
			return false;
		if (eneg)
			exp = -exp;
	}
	if (*s)
		return false;
	p = exp - frac;
	if (p < -22 || p > 22)
		return false;
	v = (double)m; /* m < 10^15 < 2^53: exact */
	v = p < 0 ? v / pow10[-p] : v * pow10[p];
	*out = neg ? -v : v;
	return true;
}

bool mlctl_parse_double(const char *s, double *out)
{
	locale_t old;
	char *end;
	double v;

	if (!s || !*s)
		return false;
	if (parse_double_fast(s, out))
		return true;
	old = uselocale(c_locale());
	errno = 0;
	v = strtod(s, &end);
	uselocale(old);
	if (end == s || *end != '\0')
		return false;
	if (errno == ERANGE && fabs(v) > 1.0)
		return false;
	*out = v;
	return true;
}

bool mlctl_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE || v < min || v > max)
		return false;
	*out = v;
	return true;
}

int mlctl_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int mlctl_cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

int64_t mlctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double mlctl_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *mlctl_fmt_time(char buf[32], int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return buf;
}

const char *mlctl_username(void)
{
	static _Thread_local char name[256];
	const char *u = getenv("USER");
	struct passwd pwd, *pw = NULL;
	size_t size = 1024;
	char *buf = NULL;
	int rc;

	if (u && *u)
		return u;
	if (name[0])
		return name;
	/* getpwuid_r, not getpwuid: its result lives in one static buffer of the process */
	do {
		char *nb = realloc(buf, size);

		if (!nb)
			break;
		buf = nb;
		rc = getpwuid_r(getuid(), &pwd, buf, size, &pw);
		size *= 2;
	} while (rc == ERANGE && size <= ((size_t)1 << 20));
	if (pw && pw->pw_name && strlen(pw->pw_name) < sizeof(name))
		memcpy(name, pw->pw_name, strlen(pw->pw_name) + 1);
	else
		snprintf(name, sizeof(name), "uid%u", (unsigned)getuid());
	free(buf);
	return name;
}

const char *mlctl_hostname(void)
{
	static _Thread_local char host[256];

	if (!host[0] && gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "localhost");
	return host;
}

int mlctl_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

/*
 * Length of the valid UTF-8 sequence at s (1..4) and its code point, or 0 when the bytes
 * there are not one (a stray continuation byte, a truncated, overlong or surrogate form).
 */
size_t mlctl_utf8_decode(const unsigned char *s, unsigned long *cp)
{
	size_t len, i;
	unsigned long c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xE0) == 0xC0) {
		len = 2, c = s[0] & 0x1F, min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3, c = s[0] & 0x0F, min = 0x800;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)   /* also stops at the NUL */
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

size_t mlctl_edit_distance(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b), row[64], i, j, prev, tmp;

	if (blen >= sizeof(row) / sizeof(row[0]))
		return SIZE_MAX;
	for (j = 0; j <= blen; j++)
		row[j] = j;
	for (i = 1; i <= alen; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= blen; j++) {
			size_t best = prev + (tolower((unsigned char)a[i - 1]) != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[blen];
}
