/*
 * model_check.c — a strict reader of svm_save_model text that only says yes or no
 * (floor 3). svm_load_model believes every count it reads: a short SV section makes it
 * strtod(NULL), a rho before nr_class reads an uninitialised count, a huge total_sv
 * allocates and walks past the end. model_load() runs model_validate() first so that
 * libsvm only ever sees text it parses safely, and the user sees "origin:line: why".
 *
 * The grammar accepted is what svm_save_model writes: one "key values..." per line, keys
 * at most once, then "SV" and exactly total_sv lines of nr_class-1 coefficients followed by
 * ascending index:value pairs. Tokens are separated by spaces or tabs, lines may end in
 * \r\n, and no other control byte may appear anywhere.
 */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "model.h"
#include "util.h"
#include "banned.h"

#define MODEL_MAX_TEXT  ((size_t)1 << 30)
#define MODEL_MAX_CLASS 4096

/* The text being checked, one line at a time (copied, NUL-terminated, split in place). */
struct cursor {
	const char *origin;
	const char *p, *end;
	size_t lineno;
	char *buf;
	size_t cap;
	char *rest;     /* where the next token starts */
};

static pthread_once_t check_once = PTHREAD_ONCE_INIT;
static locale_t check_locale;

static void check_setup(void)
{
	check_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

__attribute__((format(printf, 3, 4)))
static int bad_at(const struct cursor *c, size_t line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mlctl_error_set(MLCTL_EDATA, "%s:%zu: %s", c->origin, line, msg);
}

/* Load the next line into c->buf. 1: a line; 0: end of text; < 0: error set. */
static int next_line(struct cursor *c)
{
	const char *nl, *s = c->p;
	size_t n, i;

	if (c->p >= c->end)
		return 0;
	nl = memchr(s, '\n', (size_t)(c->end - s));
	n = nl ? (size_t)(nl - s) : (size_t)(c->end - s);
	c->p = nl ? nl + 1 : c->end;
	c->lineno++;
	if (n && s[n - 1] == '\r')
		n--;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return bad_at(c, c->lineno, "control character 0x%02x in the text", ch);
	}
	if (n + 1 > c->cap) {
		char *b = realloc(c->buf, n + 1);

		if (!b)
			return mlctl_error_oom();
		c->buf = b;
		c->cap = n + 1;
	}
	memcpy(c->buf, s, n);
	c->buf[n] = '\0';
	c->rest = c->buf;
	return 1;
}

/* The next space- or tab-separated token of the current line, or NULL. */
static char *next_token(struct cursor *c)
{
	char *t = c->rest;

	while (*t == ' ' || *t == '\t')
		t++;
	if (!*t) {
		c->rest = t;
		return NULL;
	}
	c->rest = t + strcspn(t, " \t");
	if (*c->rest)
		*c->rest++ = '\0';
	return t;
}

static bool parse_num(const char *s, double *out)
{
	locale_t old;
	char *end;
	double v;

	if (!*s)
		return false;
	old = uselocale(check_locale ? check_locale : LC_GLOBAL_LOCALE);
	errno = 0;
	v = strtod(s, &end);
	uselocale(old);
	if (end == s || *end || !isfinite(v) || (errno == ERANGE && fabs(v) > 1.0))
		return false;
	*out = v;
	return true;
}

static bool parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno == ERANGE || v < min || v > max)
		return false;
	*out = v;
	return true;
}

enum key { K_TYPE, K_KERNEL, K_DEGREE, K_GAMMA, K_COEF0, K_NR_CLASS, K_TOTAL_SV, K_RHO, K_LABEL,
	   K_PROBA, K_PROBB, K_NR_SV, K_SV, K_COUNT };

static const char *const key_names[K_COUNT] = {
	"svm_type", "kernel_type", "degree", "gamma", "coef0", "nr_class", "total_sv", "rho",
	"label", "probA", "probB", "nr_sv", "SV"
};

/* As svm_save_model spells them; precomputed is refused: its SVs index the input. */
static const char *const file_types[] = { "c_svc", "nu_svc", "one_class", "epsilon_svr", "nu_svr" };
static const char *const file_kernels[] = { "linear", "polynomial", "rbf", "sigmoid" };

struct header {
	size_t seen[K_COUNT];   /* line of each key, 0 when absent */
	int svm_type, kernel;
	long nr_class, total_sv;
	long long sum_nsv;
};

static int lookup(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* One scalar value after the key: exactly one token. */
static int header_scalar(struct cursor *c, const char *key, char **val)
{
	*val = next_token(c);
	if (!*val)
		return bad_at(c, c->lineno, "%s: no value", key);
	if (next_token(c))
		return bad_at(c, c->lineno, "%s: more than one value", key);
	return 0;
}

/* An array key (rho, label, probA, probB, nr_sv): n values, ints when is_int. */
static int header_array(struct cursor *c, struct header *h, enum key k, long n, bool is_int)
{
	const char *key = key_names[k];
	long count = 0;
	char *t;

	if (!h->seen[K_NR_CLASS])
		return bad_at(c, c->lineno, "%s comes before nr_class", key);
	while ((t = next_token(c))) {
		double d;
		long v;

		if (count == n)
			return bad_at(c, c->lineno, "%s: more than the %ld values expected", key, n);
		if (is_int) {
			if (!parse_int(t, k == K_NR_SV ? 0 : INT_MIN, INT_MAX, &v))
				return bad_at(c, c->lineno, "%s: \"%s\" is not %s", key, t,
					      k == K_NR_SV ? "a count" : "an integer");
			if (k == K_NR_SV)
				h->sum_nsv += v;
		} else if (!parse_num(t, &d)) {
			return bad_at(c, c->lineno, "%s: \"%s\" is not a number", key, t);
		}
		count++;
	}
	if (count != n)
		return bad_at(c, c->lineno, "%s: %ld values, %ld expected", key, count, n);
	return 0;
}

static int header_line(struct cursor *c, struct header *h, const char *key, enum key k)
{
	long pairs = h->nr_class * (h->nr_class - 1) / 2;
	char *v;
	double d;
	int ret;

	switch (k) {
	case K_TYPE:
	case K_KERNEL:
		if ((ret = header_scalar(c, key, &v)))
			return ret;
		if (k == K_TYPE && (h->svm_type = lookup(v, file_types, 5)) < 0)
			return bad_at(c, c->lineno, "svm_type: \"%s\" is not one of c_svc, nu_svc, "
				      "one_class, epsilon_svr, nu_svr", v);
		if (k == K_KERNEL && (h->kernel = lookup(v, file_kernels, 4)) < 0)
			return bad_at(c, c->lineno, "kernel_type: \"%s\" is not one of linear, "
				      "polynomial, rbf, sigmoid", v);
		return 0;
	case K_DEGREE:
	case K_NR_CLASS:
	case K_TOTAL_SV: {
		long lim = k == K_NR_CLASS ? MODEL_MAX_CLASS : INT_MAX, n;

		if ((ret = header_scalar(c, key, &v)))
			return ret;
		if (!parse_int(v, k == K_NR_CLASS ? 1 : 0, lim, &n))
			return bad_at(c, c->lineno, "%s: \"%s\" is not an integer in [%d, %ld]",
				      key, v, k == K_NR_CLASS ? 1 : 0, lim);
		if (k == K_NR_CLASS)
			h->nr_class = n;
		else if (k == K_TOTAL_SV)
			h->total_sv = n;
		return 0;
	}
	case K_GAMMA:
	case K_COEF0:
		if ((ret = header_scalar(c, key, &v)))
			return ret;
		if (!parse_num(v, &d))
			return bad_at(c, c->lineno, "%s: \"%s\" is not a number", key, v);
		return 0;
	case K_RHO:
	case K_PROBA:
	case K_PROBB:
		return header_array(c, h, k, pairs, false);
	case K_LABEL:
		return header_array(c, h, k, h->nr_class, true);
	case K_NR_SV:
		return header_array(c, h, k, h->nr_class, true);
	default:
		return bad_at(c, c->lineno, "\"%s\" is not a model key", key);
	}
}

/* What the whole header must say, checked at the SV line. */
static int header_complete(const struct cursor *c, const struct header *h)
{
	static const enum key always[] = { K_TYPE, K_KERNEL, K_NR_CLASS, K_TOTAL_SV, K_RHO };
	bool cls;
	size_t i;

	for (i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		if (!h->seen[always[i]])
			return bad_at(c, c->lineno, "no %s line before SV", key_names[always[i]]);
	if (h->kernel == 1 && !h->seen[K_DEGREE])
		return bad_at(c, c->lineno, "no degree line before SV (polynomial kernel)");
	if (h->kernel != 0 && !h->seen[K_GAMMA])
		return bad_at(c, c->lineno, "no gamma line before SV (%s kernel)", file_kernels[h->kernel]);
	if ((h->kernel == 1 || h->kernel == 3) && !h->seen[K_COEF0])
		return bad_at(c, c->lineno, "no coef0 line before SV (%s kernel)", file_kernels[h->kernel]);
	cls = h->svm_type == C_SVC || h->svm_type == NU_SVC;
	if (cls && (!h->seen[K_LABEL] || !h->seen[K_NR_SV]))
		return bad_at(c, c->lineno, "a %s model needs label and nr_sv lines", file_types[h->svm_type]);
	if (!cls && (h->seen[K_LABEL] || h->seen[K_NR_SV]))
		return bad_at(c, c->lineno, "a %s model has no label or nr_sv lines", file_types[h->svm_type]);
	if (!cls && h->nr_class != 2)
		return bad_at(c, c->lineno, "a %s model has nr_class 2, not %ld", file_types[h->svm_type],
			      h->nr_class);
	if (cls && h->sum_nsv != h->total_sv)
		return bad_at(c, c->lineno, "nr_sv adds up to %lld, total_sv is %ld", h->sum_nsv, h->total_sv);
	if (h->nr_class == 1 && h->total_sv != 0)
		return bad_at(c, c->lineno, "a one-class-label model cannot have support vectors");
	return 0;
}

static int read_header(struct cursor *c, struct header *h)
{
	int ret;

	for (;;) {
		char *key;
		int k;

		ret = next_line(c);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return bad_at(c, c->lineno + 1, "the model ends before its SV line");
		key = next_token(c);
		if (!key)
			return bad_at(c, c->lineno, "empty line in the model header");
		k = lookup(key, key_names, K_COUNT);
		if (k < 0)
			return bad_at(c, c->lineno, "\"%s\" is not a model key", key);
		if (h->seen[k])
			return bad_at(c, c->lineno, "%s again (first on line %zu)", key, h->seen[k]);
		h->seen[k] = c->lineno;
		if (k == K_SV) {
			if (next_token(c))
				return bad_at(c, c->lineno, "text after SV");
			return header_complete(c, h);
		}
		ret = header_line(c, h, key, (enum key)k);
		if (ret)
			return ret;
	}
}

/* One SV line: ncoef coefficients, then ascending index:value pairs. */
static int sv_line(struct cursor *c, long ncoef)
{
	long i, prev = -1;
	char *t;

	for (i = 0; i < ncoef; i++) {
		double d;

		t = next_token(c);
		if (!t || strchr(t, ':'))
			return bad_at(c, c->lineno, "%ld coefficient(s) expected before the features", ncoef);
		if (!parse_num(t, &d))
			return bad_at(c, c->lineno, "coefficient \"%s\" is not a number", t);
	}
	while ((t = next_token(c))) {
		char *colon = strchr(t, ':');
		double d;
		long idx;

		if (!colon || strchr(colon + 1, ':'))
			return bad_at(c, c->lineno, "\"%s\" is not index:value", t);
		*colon = '\0';
		if (strspn(t, "0123456789") != strlen(t) || !parse_int(t, 0, INT_MAX, &idx))
			return bad_at(c, c->lineno, "feature index \"%s\" is not an integer in [0, %d]",
				      t, INT_MAX);
		if (idx <= prev)
			return bad_at(c, c->lineno, "feature index %ld after %ld: indices must ascend",
				      idx, prev);
		if (!parse_num(colon + 1, &d))
			return bad_at(c, c->lineno, "feature %ld: \"%s\" is not a number", idx, colon + 1);
		prev = idx;
	}
	return 0;
}

static int read_svs(struct cursor *c, const struct header *h)
{
	size_t sv_line_no = c->lineno;
	long i;
	int ret;

	for (i = 0; i < h->total_sv; i++) {
		ret = next_line(c);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return bad_at(c, c->lineno + 1, "the SV section ends after %ld of %ld support "
				      "vectors (total_sv, line %zu)", i, h->total_sv, h->seen[K_TOTAL_SV]);
		ret = sv_line(c, h->nr_class - 1);
		if (ret)
			return ret;
	}
	/* Blank lines may follow (an editor's final newline); anything else is an extra SV. */
	while ((ret = next_line(c)) > 0)
		if (next_token(c))
			return bad_at(c, c->lineno, "more support vectors than total_sv %ld (SV on line %zu)",
				      h->total_sv, sv_line_no);
	return ret;
}

int model_validate(const char *text, size_t len, const char *origin)
{
	struct cursor c = { 0 };
	struct header h;
	int ret;

	pthread_once(&check_once, check_setup);
	c.origin = origin ? origin : "model";
	if (len > MODEL_MAX_TEXT)
		return mlctl_error_set(MLCTL_EDATA, "%s: the model text is larger than 1 GiB", c.origin);
	if (!text || len == 0)
		return mlctl_error_set(MLCTL_EDATA, "%s:1: empty model", c.origin);
	c.p = text;
	c.end = text + len;
	memset(&h, 0, sizeof(h));
	h.svm_type = -1;
	h.kernel = -1;
	ret = read_header(&c, &h);
	if (!ret)
		ret = read_svs(&c, &h);
	free(c.buf);
	return ret;
}
