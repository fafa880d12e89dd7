/*
 * model.c — the libsvm wrapper (floor 3): svm_parameter by name, training that is
 * deterministic across threads, and the svm-train model text in and out.
 *
 * libsvm has three pieces of process-wide state this file has to tame: its print function
 * (silenced once, at library initialisation), rand() in probability training (seeded under
 * a lock), and, in svm_load_model and svm_save_model, setlocale() — a change of the whole
 * process's locale that no lock can make safe for a host's other threads. So neither is
 * called: model_load() checks the text with a strict parser of its own (model_validate)
 * and builds the model itself, exactly as svm_load_model would, reading numbers in a C
 * locale set for the calling thread only (uselocale); the model text is written here too,
 * and svm_save_model's %.8g support-vector values would describe a different model anyway.
 */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "error.h"
#include "fsutil.h"
#include "model.h"
#include "util.h"
#include "banned.h"

static pthread_once_t libsvm_once = PTHREAD_ONCE_INIT;
static locale_t model_c_locale;
/* Held around srand()+svm_train() when libsvm's probability code draws from rand(). */
static pthread_mutex_t rand_lock = PTHREAD_MUTEX_INITIALIZER;
/* Held around svm_load_model() (model_load_libsvm, for tests only): setlocale() and a
 * static line buffer. */
static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;

static void print_nothing(const char *s)
{
	(void)s;
}

static void libsvm_setup(void)
{
	svm_set_print_string_function(print_nothing);
	model_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static void libsvm_init(void)
{
	pthread_once(&libsvm_once, libsvm_setup);
}

void model_init(void)
{
	libsvm_init();
}

/* ---- parameters ---- */

static const char *const type_names[] = { "c-svc", "nu-svc", "one-class", "epsilon-svr", "nu-svr" };
static const char *const kernel_names[] = { "linear", "poly", "rbf", "sigmoid" };

void model_param_defaults(struct svm_parameter *p)
{
	memset(p, 0, sizeof(*p));
	p->svm_type = C_SVC;
	p->kernel_type = RBF;
	p->degree = 3;
	p->gamma = 0;
	p->coef0 = 0;
	p->nu = 0.5;
	p->cache_size = 100;
	p->C = 1;
	p->eps = 1e-3;
	p->p = 0.1;
	p->shrinking = 1;
	p->probability = 0;
	p->nr_weight = 0;
	p->weight_label = NULL;
	p->weight = NULL;
}

const char *model_type_name(int svm_type)
{
	if (svm_type < 0 || svm_type >= (int)(sizeof(type_names) / sizeof(type_names[0])))
		return "unknown";
	return type_names[svm_type];
}

const char *model_kernel_name(int kernel_type)
{
	if (kernel_type < 0 || kernel_type >= (int)(sizeof(kernel_names) / sizeof(kernel_names[0])))
		return "unknown";
	return kernel_names[kernel_type];
}

bool model_is_classifier(int svm_type)
{
	return svm_type == C_SVC || svm_type == NU_SVC;
}

/* How a numeric parameter is checked: its range and whether it must be an integer. */
enum range { R_POSITIVE, R_NONNEG, R_ANY, R_UNIT, R_BOOL };

struct numeric_param {
	const char *name;
	enum range range;
	bool integer;
};

static const struct numeric_param numeric_params[] = {
	{ "C", R_POSITIVE, false },
	{ "gamma", R_NONNEG, false },
	{ "degree", R_NONNEG, true },
	{ "coef0", R_ANY, false },
	{ "nu", R_UNIT, false },
	{ "epsilon", R_NONNEG, false },
	{ "cache", R_POSITIVE, false },
	{ "tolerance", R_POSITIVE, false },
	{ "shrinking", R_BOOL, true },
	{ "probability", R_BOOL, true },
};

static const struct numeric_param *numeric_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(numeric_params) / sizeof(numeric_params[0]); i++)
		if (strcasecmp(numeric_params[i].name, name) == 0)
			return &numeric_params[i];
	return NULL;
}

bool model_param_is_numeric(const char *name)
{
	return name && numeric_find(name) != NULL;
}

/* Check v against np's range; text is how the user wrote it, for the message. */
static int numeric_check(const struct numeric_param *np, double v, const char *text)
{
	if (!isfinite(v))
		return mlctl_error_set(MLCTL_EUSAGE, "%s: \"%s\" is not a finite number", np->name, text);
	if (np->integer && (v != floor(v) || fabs(v) > INT_MAX))
		return mlctl_error_set(MLCTL_EUSAGE, "%s: \"%s\" is not an integer", np->name, text);
	switch (np->range) {
	case R_POSITIVE:
		if (!(v > 0))
			return mlctl_error_set(MLCTL_EUSAGE, "%s: \"%s\" must be greater than 0", np->name, text);
		break;
	case R_NONNEG:
		if (v < 0)
			return mlctl_error_set(MLCTL_EUSAGE, "%s: \"%s\" must not be negative", np->name, text);
		break;
	case R_UNIT:
		if (!(v > 0 && v <= 1))
			return mlctl_error_set(MLCTL_EUSAGE, "%s: \"%s\" must be in (0, 1]", np->name, text);
		break;
	case R_BOOL:
		if (v != 0 && v != 1)
			return mlctl_error_set(MLCTL_EUSAGE, "%s: \"%s\" is not 0 or 1", np->name, text);
		break;
	case R_ANY:
		break;
	}
	return 0;
}

static void numeric_store(struct svm_parameter *p, const struct numeric_param *np, double v)
{
	const char *n = np->name;

	if (strcmp(n, "C") == 0)
		p->C = v;
	else if (strcmp(n, "gamma") == 0)
		p->gamma = v;
	else if (strcmp(n, "degree") == 0)
		p->degree = (int)v;
	else if (strcmp(n, "coef0") == 0)
		p->coef0 = v;
	else if (strcmp(n, "nu") == 0)
		p->nu = v;
	else if (strcmp(n, "epsilon") == 0)
		p->p = v;
	else if (strcmp(n, "cache") == 0)
		p->cache_size = v;
	else if (strcmp(n, "tolerance") == 0)
		p->eps = v;
	else if (strcmp(n, "shrinking") == 0)
		p->shrinking = (int)v;
	else if (strcmp(n, "probability") == 0)
		p->probability = (int)v;
}

int model_param_set_number(struct svm_parameter *p, const char *name, double value)
{
	const struct numeric_param *np = numeric_find(name);
	char buf[32];
	int ret;

	if (!np)
		return mlctl_error_set(MLCTL_EUSAGE, "\"%s\" is not a numeric model parameter "
				       "(one of C, gamma, degree, coef0, nu, epsilon, cache, tolerance, "
				       "shrinking, probability)", name);
	ret = numeric_check(np, value, mlctl_fmt_double(buf, value));
	if (ret)
		return ret;
	numeric_store(p, np, value);
	return 0;
}

/* Find s in names[] (also accepting libsvm's spellings: c_svc, polynomial). */
static int name_index(const char *s, const char *const *names, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const char *a = names[i];

		for (j = 0; a[j] && s[j]; j++)
			if (!(a[j] == s[j] || (a[j] == '-' && s[j] == '_')))
				break;
		if (!a[j] && !s[j])
			return (int)i;
	}
	if (names == kernel_names && strcmp(s, "polynomial") == 0)
		return POLY;
	return -1;
}

int model_param_set(struct svm_parameter *p, const char *name, const char *value)
{
	const struct numeric_param *np;
	double v;
	int i, ret;

	if (!name || !value)
		return mlctl_error_set(MLCTL_EUSAGE, "a model parameter needs a name and a value");
	if (strcmp(name, "type") == 0) {
		i = name_index(value, type_names, sizeof(type_names) / sizeof(type_names[0]));
		if (i < 0)
			return mlctl_error_set(MLCTL_EUSAGE, "type: \"%s\" is not one of c-svc, nu-svc, "
					       "one-class, epsilon-svr, nu-svr", value);
		p->svm_type = i;
		return 0;
	}
	if (strcmp(name, "kernel") == 0) {
		i = name_index(value, kernel_names, sizeof(kernel_names) / sizeof(kernel_names[0]));
		if (i < 0)
			return mlctl_error_set(MLCTL_EUSAGE, "kernel: \"%s\" is not one of linear, poly, "
					       "rbf, sigmoid", value);
		p->kernel_type = i;
		return 0;
	}
	np = numeric_find(name);
	if (!np)
		return mlctl_error_set(MLCTL_EUSAGE, "\"%s\" is not a model parameter (one of type, "
				       "kernel, C, gamma, degree, coef0, nu, epsilon, cache, tolerance, "
				       "shrinking, probability)", name);
	if (!mlctl_parse_double(value, &v))
		return mlctl_error_set(MLCTL_EUSAGE, "%s: \"%s\" is not a number", np->name, value);
	ret = numeric_check(np, v, value);
	if (ret)
		return ret;
	numeric_store(p, np, v);
	return 0;
}

int model_param_add_weight(struct svm_parameter *p, int label, double weight)
{
	int *wl;
	double *w;
	int i;

	if (!isfinite(weight) || weight < 0)
		return mlctl_error_set(MLCTL_EUSAGE, "class weight for %d: %g must be a number >= 0",
				       label, weight);
	for (i = 0; i < p->nr_weight; i++) {
		if (p->weight_label[i] == label) {
			p->weight[i] = weight;
			return 0;
		}
	}
	if (p->nr_weight == INT_MAX)
		return mlctl_error_oom();
	wl = mlctl_reallocarray(p->weight_label, (size_t)p->nr_weight + 1, sizeof(*wl));
	if (!wl)
		return mlctl_error_oom();
	p->weight_label = wl;
	w = mlctl_reallocarray(p->weight, (size_t)p->nr_weight + 1, sizeof(*w));
	if (!w)
		return mlctl_error_oom();
	p->weight = w;
	wl[p->nr_weight] = label;
	w[p->nr_weight] = weight;
	p->nr_weight++;
	return 0;
}

int model_param_copy(struct svm_parameter *dst, const struct svm_parameter *src)
{
	struct svm_parameter c = *src;
	size_t n = src->nr_weight > 0 ? (size_t)src->nr_weight : 0;

	c.weight_label = NULL;
	c.weight = NULL;
	c.nr_weight = 0;
	if (n) {
		c.weight_label = mlctl_calloc(n, sizeof(*c.weight_label));
		c.weight = mlctl_calloc(n, sizeof(*c.weight));
		if (!c.weight_label || !c.weight) {
			free(c.weight_label);
			free(c.weight);
			return mlctl_error_oom();
		}
		memcpy(c.weight_label, src->weight_label, n * sizeof(*c.weight_label));
		memcpy(c.weight, src->weight, n * sizeof(*c.weight));
		c.nr_weight = (int)n;
	}
	*dst = c;
	return 0;
}

void model_param_release(struct svm_parameter *p)
{
	if (!p)
		return;
	free(p->weight_label);
	free(p->weight);
	p->weight_label = NULL;
	p->weight = NULL;
	p->nr_weight = 0;
}

/* ---- training ---- */

/* True when every number of m is finite. libsvm's training kernel expands ||x - y||^2 as
 * ||x||^2 + ||y||^2 - 2 x.y, which for features near 1e9 cancels into noise large enough
 * to make exp() overflow: the solver then returns NaN, and such a model must not be kept. */
static bool model_finite(const struct svm_model *m)
{
	int k, i, ncoef = m->nr_class > 1 ? m->nr_class - 1 : 1;
	int npair = m->nr_class * (m->nr_class - 1) / 2;

	if (npair < 1)
		npair = 1;
	for (k = 0; m->rho && k < npair; k++)
		if (!isfinite(m->rho[k]))
			return false;
	for (k = 0; m->sv_coef && k < ncoef; k++)
		for (i = 0; i < m->l; i++)
			if (!isfinite(m->sv_coef[k][i]))
				return false;
	for (k = 0; m->probA && k < npair; k++)
		if (!isfinite(m->probA[k]) || (m->probB && !isfinite(m->probB[k])))
			return false;
	return true;
}

int model_train(struct svm_model **out, const struct svm_problem *prob,
		const struct svm_parameter *p, int nfeatures, uint64_t seed)
{
	struct svm_parameter q = *p;
	struct svm_model *m;
	const char *why;

	*out = NULL;
	libsvm_init();
	if (!prob || prob->l <= 0)
		return mlctl_error_set(MLCTL_EUSAGE, "cannot train a model on no rows");
	if (q.gamma == 0 && nfeatures > 0)
		q.gamma = 1.0 / nfeatures;
	why = svm_check_parameter(prob, &q);
	if (why)
		return mlctl_error_set(MLCTL_EUSAGE, "invalid model parameters: %s", why);
	if (q.probability) {
		/* svm_binary_svc_probability and svm_svr_probability shuffle with rand(): fix
		 * its sequence and keep other threads' training off it meanwhile. Seed 1 is
		 * rand()'s initial state, so it reproduces `svm-train -b 1`. */
		pthread_mutex_lock(&rand_lock);
		srand((unsigned)(seed ^ (seed >> 32)));
		m = svm_train(prob, &q);
		pthread_mutex_unlock(&rand_lock);
	} else {
		m = svm_train(prob, &q);
	}
	if (!m)
		return mlctl_error_oom();
	if (!model_finite(m)) {
		svm_free_and_destroy_model(&m);
		return mlctl_error_set(MLCTL_EDATA,
				       "training diverged: the fitted model has values that are not numbers "
				       "(features this large lose their precision in libsvm's kernel: "
				       "scale them with --scale minmax or --scale standard)");
	}
	/* The model copied q, whose weight arrays belong to the caller: do not keep them. */
	m->param.nr_weight = 0;
	m->param.weight_label = NULL;
	m->param.weight = NULL;
	*out = m;
	return 0;
}

int model_nsv(const struct svm_model *m)
{
	return m ? m->l : 0;
}

int model_max_index(const struct svm_model *m)
{
	int i, max = 0;

	if (!m || !m->SV)
		return 0;
	for (i = 0; i < m->l; i++) {
		const struct svm_node *x = m->SV[i];

		for (; x && x->index != -1; x++)
			if (x->index > max)
				max = x->index;
	}
	return max;
}

void model_free(struct svm_model *m)
{
	if (m)
		svm_free_and_destroy_model(&m);
}

/* ---- the model text ---- */

/* svm_save_model's names for svm_type and kernel_type. */
static const char *const libsvm_type_names[] = { "c_svc", "nu_svc", "one_class", "epsilon_svr", "nu_svr" };
static const char *const libsvm_kernel_names[] = { "linear", "polynomial", "rbf", "sigmoid", "precomputed" };

/* " %.17g" of each of v[0..n) after key, on one line. */
static int put_doubles(strbuf *sb, const char *key, const double *v, int n)
{
	char num[40];
	int i, ret = strbuf_puts(sb, key);

	for (i = 0; i < n && !ret; i++) {
		snprintf(num, sizeof(num), " %.17g", v[i]);
		ret = strbuf_puts(sb, num);
	}
	return ret ? ret : strbuf_puts(sb, "\n");
}

static int put_ints(strbuf *sb, const char *key, const int *v, int n)
{
	char num[16];
	int i, ret = strbuf_puts(sb, key);

	for (i = 0; i < n && !ret; i++) {
		snprintf(num, sizeof(num), " %d", v[i]);
		ret = strbuf_puts(sb, num);
	}
	return ret ? ret : strbuf_puts(sb, "\n");
}

static int put_header(strbuf *sb, const struct svm_model *m)
{
	const struct svm_parameter *p = &m->param;
	int k = m->nr_class, npairs = k * (k - 1) / 2, ret;

	if ((ret = strbuf_printf(sb, "svm_type %s\nkernel_type %s\n", libsvm_type_names[p->svm_type],
				 libsvm_kernel_names[p->kernel_type])))
		return ret;
	if (p->kernel_type == POLY && (ret = strbuf_printf(sb, "degree %d\n", p->degree)))
		return ret;
	if ((p->kernel_type == POLY || p->kernel_type == RBF || p->kernel_type == SIGMOID) &&
	    (ret = put_doubles(sb, "gamma", &p->gamma, 1)))
		return ret;
	if ((p->kernel_type == POLY || p->kernel_type == SIGMOID) &&
	    (ret = put_doubles(sb, "coef0", &p->coef0, 1)))
		return ret;
	if ((ret = strbuf_printf(sb, "nr_class %d\ntotal_sv %d\n", k, m->l)) ||
	    (ret = put_doubles(sb, "rho", m->rho, npairs)))
		return ret;
	if (m->label && (ret = put_ints(sb, "label", m->label, k)))
		return ret;
	if (m->probA && (ret = put_doubles(sb, "probA", m->probA, npairs)))
		return ret;
	if (m->probB && (ret = put_doubles(sb, "probB", m->probB, npairs)))
		return ret;
	if (m->nSV && (ret = put_ints(sb, "nr_sv", m->nSV, k)))
		return ret;
	return strbuf_puts(sb, "SV\n");
}

/* One SV line: nr_class - 1 coefficients, then index:value pairs, each followed by a
 * space as svm_save_model writes them. */
static int put_sv(strbuf *sb, const struct svm_model *m, int i)
{
	const struct svm_node *x = m->SV[i];
	char num[64];
	int j, ret = 0;

	for (j = 0; j < m->nr_class - 1 && !ret; j++) {
		snprintf(num, sizeof(num), "%.17g ", m->sv_coef[j][i]);
		ret = strbuf_puts(sb, num);
	}
	if (m->param.kernel_type == PRECOMPUTED) {
		snprintf(num, sizeof(num), "0:%d ", (int)x->value);
		ret = ret ? ret : strbuf_puts(sb, num);
	} else {
		for (; x && x->index != -1 && !ret; x++) {
			snprintf(num, sizeof(num), "%d:%.17g ", x->index, x->value);
			ret = strbuf_puts(sb, num);
		}
	}
	return ret ? ret : strbuf_puts(sb, "\n");
}

/*
 * The text svm_save_model writes, but with every support-vector value as %.17g where
 * libsvm writes %.8g: a model read back is the model that was trained and evaluated, to
 * the last bit. Numbers are formatted in the C locale through uselocale(), which changes
 * this thread's locale only and is restored before returning.
 */
int model_save(char **out, size_t *len, const struct svm_model *m)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	locale_t old;
	int i, ret;

	*out = NULL;
	*len = 0;
	libsvm_init();
	if (!model_c_locale)
		return mlctl_error_errno(MLCTL_ERROR, "cannot create the C locale to write the model");
	if (m->param.svm_type < C_SVC || m->param.svm_type > NU_SVR || m->param.kernel_type < LINEAR ||
	    m->param.kernel_type > PRECOMPUTED || m->nr_class < 1 || m->l < 0)
		return mlctl_error_set(MLCTL_ERROR, "cannot save a model with svm_type %d, kernel_type %d, "
				       "%d classes", m->param.svm_type, m->param.kernel_type, m->nr_class);
	old = uselocale(model_c_locale);
	ret = put_header(&sb, m);
	for (i = 0; i < m->l && !ret; i++)
		ret = put_sv(&sb, m, i);
	uselocale(old);
	/* every number of validated text is finite: one that is not is a word that could not
	 * be copied */
	if (!ret && !model_finite(m))
		ret = mlctl_error_oom();
	if (ret) {
		strbuf_release(&sb);
		return ret;
	}
	if (!(*out = strbuf_detach(&sb, len))) {
		strbuf_release(&sb);
		return mlctl_error_oom();
	}
	return 0;
}

/* ---- load through a temp file ---- */

/* Create an empty private temp file; *path is a fresh allocation. With fdp, the file
 * stays open there; otherwise it is closed. */
static int temp_file(char **path, int *fdp)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	*path = mlctl_asprintf("%s/mlctl-model-XXXXXX", dir);
	if (!*path)
		return MLCTL_ENOMEM;
	fd = mkstemp(*path);
	if (fd < 0) {
		int ret = mlctl_error_errno(MLCTL_ECREATE, "cannot create a temp file in %s", dir);

		free(*path);
		*path = NULL;
		return ret;
	}
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	return 0;
}

static int write_all(int fd, const char *data, size_t len, const char *path)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return mlctl_error_errno(MLCTL_EIO, "cannot write %s", path);
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Fill in what svm_load_model leaves uninitialised (training-only fields). */
static void loaded_defaults(struct svm_model *m)
{
	struct svm_parameter d;

	model_param_defaults(&d);
	if (m->param.kernel_type != POLY)
		m->param.degree = d.degree;
	if (m->param.kernel_type == LINEAR)
		m->param.gamma = 0;
	if (m->param.kernel_type != POLY && m->param.kernel_type != SIGMOID)
		m->param.coef0 = 0;
	m->param.cache_size = d.cache_size;
	m->param.eps = d.eps;
	m->param.C = d.C;
	m->param.nu = d.nu;
	m->param.p = d.p;
	m->param.shrinking = d.shrinking;
	m->param.probability = svm_check_probability_model(m) ? 1 : 0;
	m->param.nr_weight = 0;
	m->param.weight_label = NULL;
	m->param.weight = NULL;
}

/*
 * The model text is read here, not by svm_load_model(), which calls setlocale(): a change of
 * the whole process's locale, racing with every other thread. The text has passed
 * model_validate(), so every key, count and number below is known good; what is built is
 * exactly what svm_load_model() builds (one block of nodes for all support vectors, each
 * row ended by index -1, free_sv = 1), so svm_free_and_destroy_model() releases it, and the
 * numbers are read with strtod in the C locale, as libsvm reads them.
 */
typedef struct text_cursor {
	const char *p, *end;
} text_cursor;

/* The next token of the current line (NULL at its end); *len its length. */
static const char *next_word(text_cursor *c, size_t *len)
{
	const char *w;

	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r'))
		c->p++;
	if (c->p >= c->end || *c->p == '\n')
		return NULL;
	w = c->p;
	while (c->p < c->end && *c->p != ' ' && *c->p != '\t' && *c->p != '\r' && *c->p != '\n')
		c->p++;
	*len = (size_t)(c->p - w);
	return w;
}

static void next_line_start(text_cursor *c)
{
	while (c->p < c->end && *c->p != '\n')
		c->p++;
	if (c->p < c->end)
		c->p++;
}

/* The number a word spells, read by strtod in the C locale (model_load() set it for this
 * thread). A word of any length: "0000…0.5" or 300 digits mean what libsvm reads in them. */
static double word_double(const char *w, size_t len)
{
	char buf[128], *heap = NULL, *s = buf;
	double v;

	if (len >= sizeof(buf) && !(s = heap = malloc(len + 1)))
		return NAN; /* out of memory: model_load() then finds a number that is not finite */
	memcpy(s, w, len);
	s[len] = '\0';
	v = strtod(s, NULL);
	free(heap);
	return v;
}

static bool word_is(const char *w, size_t len, const char *s)
{
	return w && strlen(s) == len && memcmp(w, s, len) == 0;
}

static int word_index(const char *w, size_t len, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (word_is(w, len, names[i]))
			return i;
	return -1;
}

/* The n numbers of a header line ("rho 0.1 -0.2 …") into a fresh array: of doubles into
 * *d, or, with d NULL, of ints into *ints. */
static int read_numbers(text_cursor *c, int n, double **d, int **ints)
{
	size_t size = d ? sizeof(double) : sizeof(int), len;
	void *arr = mlctl_calloc((size_t)(n > 0 ? n : 1), size);
	const char *w;
	int i;

	if (!arr)
		return MLCTL_ENOMEM;
	for (i = 0; i < n && (w = next_word(c, &len)); i++) {
		if (d)
			((double *)arr)[i] = word_double(w, len);
		else
			((int *)arr)[i] = (int)word_double(w, len);
	}
	if (d)
		*d = arr;
	else
		*ints = arr;
	return 0;
}

static int parse_header(text_cursor *c, struct svm_model *m)
{
	const char *w;
	size_t len;
	int n = 0, ret = 0;

	while (!ret && c->p < c->end) {
		if (!(w = next_word(c, &len))) {
			next_line_start(c);
			continue;
		}
		if (word_is(w, len, "SV")) {
			next_line_start(c);
			return 0;
		}
		if (word_is(w, len, "svm_type")) {
			w = next_word(c, &len);
			m->param.svm_type = word_index(w, len, libsvm_type_names, 5);
		} else if (word_is(w, len, "kernel_type")) {
			w = next_word(c, &len);
			m->param.kernel_type = word_index(w, len, libsvm_kernel_names, 5);
		} else if (word_is(w, len, "degree")) {
			w = next_word(c, &len);
			m->param.degree = (int)word_double(w, len);
		} else if (word_is(w, len, "gamma")) {
			w = next_word(c, &len);
			m->param.gamma = word_double(w, len);
		} else if (word_is(w, len, "coef0")) {
			w = next_word(c, &len);
			m->param.coef0 = word_double(w, len);
		} else if (word_is(w, len, "nr_class")) {
			w = next_word(c, &len);
			m->nr_class = (int)word_double(w, len);
			n = m->nr_class * (m->nr_class - 1) / 2;
		} else if (word_is(w, len, "total_sv")) {
			w = next_word(c, &len);
			m->l = (int)word_double(w, len);
		} else if (word_is(w, len, "rho")) {
			ret = read_numbers(c, n, &m->rho, NULL);
		} else if (word_is(w, len, "label")) {
			ret = read_numbers(c, m->nr_class, NULL, &m->label);
		} else if (word_is(w, len, "probA")) {
			ret = read_numbers(c, n, &m->probA, NULL);
		} else if (word_is(w, len, "probB")) {
			ret = read_numbers(c, n, &m->probB, NULL);
		} else if (word_is(w, len, "nr_sv")) {
			ret = read_numbers(c, m->nr_class, NULL, &m->nSV);
		}
		next_line_start(c);
	}
	return ret ? ret : mlctl_error_set(MLCTL_EDATA, "no SV section");
}

/* Support vector rows: nr_class - 1 coefficients, then index:value pairs. */
static int parse_svs(text_cursor *c, struct svm_model *m)
{
	const char *start = c->p, *w;
	size_t len, nodes = 0, j = 0;
	struct svm_node *x = NULL;
	int ncoef = m->nr_class - 1, i, k;
	text_cursor scan = *c;

	/* one node per pair and one terminator per row */
	for (i = 0; i < m->l && scan.p < scan.end; i++) {
		while ((w = next_word(&scan, &len)))
			nodes += memchr(w, ':', len) != NULL;
		nodes++;
		next_line_start(&scan);
	}
	if (!(m->sv_coef = mlctl_calloc((size_t)(ncoef > 0 ? ncoef : 1), sizeof(*m->sv_coef))))
		return MLCTL_ENOMEM;
	for (k = 0; k < ncoef; k++)
		if (!(m->sv_coef[k] = mlctl_calloc((size_t)(m->l > 0 ? m->l : 1), sizeof(double))))
			return MLCTL_ENOMEM;
	if (!(m->SV = mlctl_calloc((size_t)(m->l > 0 ? m->l : 1), sizeof(*m->SV))))
		return MLCTL_ENOMEM;
	if (m->l > 0 && !(x = mlctl_calloc(nodes, sizeof(*x))))
		return MLCTL_ENOMEM;
	c->p = start;
	for (i = 0; i < m->l; i++) {
		m->SV[i] = &x[j];
		for (k = 0; k < ncoef && (w = next_word(c, &len)); k++)
			m->sv_coef[k][i] = word_double(w, len);
		while ((w = next_word(c, &len))) {
			const char *colon = memchr(w, ':', len);

			if (!colon || j + 1 >= nodes)
				continue;
			x[j].index = (int)word_double(w, (size_t)(colon - w));
			x[j].value = word_double(colon + 1, len - (size_t)(colon + 1 - w));
			j++;
		}
		x[j++].index = -1;
		next_line_start(c);
	}
	m->free_sv = 1;
	return 0;
}

int model_load(struct svm_model **out, const char *text, size_t len, const char *origin)
{
	struct svm_model *m;
	text_cursor c = { text, text + len };
	locale_t old;
	int ret;

	*out = NULL;
	libsvm_init();
	if (!origin)
		origin = "model";
	if ((ret = model_validate(text, len, origin)))
		return ret;
	if (!model_c_locale)
		return mlctl_error_errno(MLCTL_ENOMEM, "%s: cannot make the C locale", origin);
	if (!(m = mlctl_calloc(1, sizeof(*m))))
		return MLCTL_ENOMEM;
	old = uselocale(model_c_locale);
	if (!(ret = parse_header(&c, m)))
		ret = parse_svs(&c, m);
	uselocale(old);
	/* every number of validated text is finite: one that is not is a word that could not
	 * be copied */
	if (!ret && !model_finite(m))
		ret = mlctl_error_oom();
	if (ret) {
		if (ret != MLCTL_ENOMEM)
			ret = mlctl_error_set(MLCTL_EDATA, "%s: %s", origin, mlctl_error_last()->message);
		svm_free_and_destroy_model(&m);
		return ret;
	}
	loaded_defaults(m);
	*out = m;
	return 0;
}

/* libsvm's own reader, for the tests that compare model_load() with it: it calls
 * setlocale() and reads a static buffer, so it runs under a lock, and only there. */
int model_load_libsvm(struct svm_model **out, const char *text, size_t len)
{
	struct svm_model *m;
	char *path = NULL;
	int fd = -1, ret;

	*out = NULL;
	libsvm_init();
	if ((ret = temp_file(&path, &fd)))
		return ret;
	ret = write_all(fd, text, len, path);
	if (close(fd) != 0 && !ret)
		ret = mlctl_error_errno(MLCTL_EIO, "cannot write %s", path);
	if (!ret) {
		pthread_mutex_lock(&file_lock);
		m = svm_load_model(path);
		pthread_mutex_unlock(&file_lock);
		if (m) {
			loaded_defaults(m);
			*out = m;
		} else {
			ret = mlctl_error_set(MLCTL_EDATA, "libsvm cannot read this model");
		}
	}
	unlink(path);
	free(path);
	return ret;
}
