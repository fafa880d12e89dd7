/*
 * gate.c — parsing and evaluating validation gates, and the champion/challenger rule
 * (floor 3). Gates come from the command line and pipeline files, so every mistake is
 * reported as a usage error that says what was expected or which metric was meant.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gate.h"
#include "util.h"
#include "banned.h"

static const char *const op_strs[] = { ">=", ">", "<=", "<", "==" };

const char *gate_op_str(gate_op op)
{
	return (unsigned)op < sizeof(op_strs) / sizeof(op_strs[0]) ? op_strs[op] : "?";
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * "unknown metric" with the closest known name: the metric part (before any '[') is
 * matched against the known names, and a per-class suggestion keeps the class. expr is
 * the gate it came from, NULL when there is none.
 */
static int unknown_metric(const char *name, const char *expr)
{
	const char *br = strchr(name, '['), *best = NULL, *k;
	size_t len = br ? (size_t)(br - name) : strlen(name), d, bestd = SIZE_MAX, i;
	bool per_class, best_pc = false;

	for (i = 0; (k = metrics_known_name(i, &per_class)); i++) {
		/* A name with a class is nearer the per-class metrics, and one without
		 * nearer the others. */
		d = mlctl_edit_distance(name, len, k) + ((br != NULL) != per_class);
		if (d < bestd) {
			bestd = d;
			best = k;
			best_pc = per_class;
		}
	}
	return mlctl_error_set(MLCTL_EUSAGE, "%s%s%sunknown metric \"%s\"; did you mean \"%s%s\"?",
			       expr ? "gate \"" : "", expr ? expr : "", expr ? "\": " : "", name, best,
			       !best_pc ? "" : br && br[1] != ']' ? br : "[CLASS]");
}

/* The metric name at *pp: letters, digits and '_', then an optional [CLASS]. */
static int parse_name(char **name, const char **pp, const char *expr)
{
	const char *p = *pp, *start = p;

	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	if (p == start)
		return mlctl_error_set(MLCTL_EUSAGE, "gate \"%s\": expected a metric name at the start, "
				       "as in accuracy>=0.9 or recall[yes]>=0.6", expr);
	if (*p == '[') {
		const char *close = strchr(p, ']');

		if (!close)
			return mlctl_error_set(MLCTL_EUSAGE, "gate \"%s\": expected ']' after the class name", expr);
		if (close == p + 1)
			return mlctl_error_set(MLCTL_EUSAGE, "gate \"%s\": expected a class name between '[' and ']'", expr);
		p = close + 1;
	}
	*name = mlctl_asprintf("%.*s", (int)(p - start), start);
	if (!*name)
		return MLCTL_ENOMEM;
	*pp = p;
	return 0;
}

static int parse_op(gate_op *op, const char **pp, const char *expr, const char *name)
{
	const char *p = *pp;

	if (p[0] == '>' && p[1] == '=')
		*op = GATE_GE;
	else if (p[0] == '<' && p[1] == '=')
		*op = GATE_LE;
	else if (p[0] == '=' && p[1] == '=')
		*op = GATE_EQ;
	else if (p[0] == '>')
		*op = GATE_GT;
	else if (p[0] == '<')
		*op = GATE_LT;
	else if (p[0] == '=')
		return mlctl_error_set(MLCTL_EUSAGE, "gate \"%s\": expected an operator after \"%s\" "
				       "(one of >= > <= < ==; '=' alone is not one)", expr, name);
	else
		return mlctl_error_set(MLCTL_EUSAGE, "gate \"%s\": expected an operator after \"%s\" "
				       "(one of >= > <= < ==)", expr, name);
	*pp = p + strlen(op_strs[*op]);
	return 0;
}

static int parse_threshold(double *out, const char *p, const char *expr, const char *op)
{
	size_t len = strlen(p);
	char *num;
	bool ok;

	while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (!len)
		return mlctl_error_set(MLCTL_EUSAGE, "gate \"%s\": expected a number after \"%s\"", expr, op);
	num = mlctl_asprintf("%.*s", (int)len, p);
	if (!num)
		return MLCTL_ENOMEM;
	ok = !isspace((unsigned char)num[0]) && mlctl_parse_double(num, out) && isfinite(*out);
	free(num);
	if (!ok)
		return mlctl_error_set(MLCTL_EUSAGE, "gate \"%s\": expected a finite number after \"%s\", got \"%.*s\"",
				       expr, op, (int)len, p);
	return 0;
}

int gate_parse(gate **out, const char *expr)
{
	const char *p;
	char buf[32];
	gate *g;
	int ret;

	*out = NULL;
	if (!(g = mlctl_calloc(1, sizeof(*g))))
		return MLCTL_ENOMEM;
	p = skip_blanks(expr);
	if ((ret = parse_name(&g->metric, &p, expr)))
		goto out;
	p = skip_blanks(p);
	if ((ret = parse_op(&g->op, &p, expr, g->metric)))
		goto out;
	p = skip_blanks(p);
	if ((ret = parse_threshold(&g->threshold, p, expr, op_strs[g->op])))
		goto out;
	if (!metrics_known(g->metric)) {
		ret = unknown_metric(g->metric, expr);
		goto out;
	}
	g->text = mlctl_asprintf("%s %s %s", g->metric, op_strs[g->op], mlctl_fmt_double(buf, g->threshold));
	if (!g->text) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	*out = g;
out:
	if (ret)
		gate_free(g);
	return ret;
}

/* The report has no value named g->metric: say which classes or metrics it does have. */
static int missing_metric(const gate *g, const metrics_report *r)
{
	size_t base = metrics_per_class_base(g->metric), i;
	strbuf sb = MLCTL_STRBUF_INIT;
	int ret;

	for (i = 0; i < r->nvalues; i++) {
		const char *n = r->values[i].name;

		if (base) {
			/* The classes that have this per-class metric in the report. */
			if (strncmp(n, g->metric, base + 1) != 0)
				continue;
			if ((ret = strbuf_printf(&sb, "%s%.*s", sb.len ? ", " : "",
						 (int)(strlen(n) - base - 2), n + base + 1)))
				goto out;
		} else if ((ret = strbuf_printf(&sb, "%s%s", sb.len ? ", " : "", n))) {
			goto out;
		}
	}
	if (base)
		ret = mlctl_error_set(MLCTL_EUSAGE, "gate \"%s\": class \"%.*s\" is not in the report; its classes are: %s",
				      g->text, (int)(strlen(g->metric) - base - 2), g->metric + base + 1,
				      sb.len ? sb.buf : "(none)");
	else
		ret = mlctl_error_set(MLCTL_EUSAGE, "gate \"%s\": the report has no %s; it has: %s",
				      g->text, g->metric, sb.len ? sb.buf : "(nothing)");
out:
	strbuf_release(&sb);
	return ret;
}

int gate_eval(const gate *g, const metrics_report *r, double *value, bool *pass)
{
	double v;

	*pass = false;
	if (!metrics_get(r, g->metric, &v))
		return missing_metric(g, r);
	*value = v;
	switch (g->op) {
	case GATE_GE: *pass = v >= g->threshold; break;
	case GATE_GT: *pass = v > g->threshold; break;
	case GATE_LE: *pass = v <= g->threshold; break;
	case GATE_LT: *pass = v < g->threshold; break;
	case GATE_EQ: *pass = v == g->threshold; break;
	}
	return 0;
}

double gate_drop(double candidate, double champion, const char *metric)
{
	return metrics_higher_is_better(metric) ? champion - candidate : candidate - champion;
}

int gate_compare(double candidate, double champion, const char *metric, double max_drop,
		 double min_improvement, bool *pass)
{
	double drop;

	*pass = false;
	if (!metrics_known(metric))
		return unknown_metric(metric, NULL);
	if (isnan(max_drop) || isnan(min_improvement))
		return mlctl_error_set(MLCTL_EUSAGE, "comparing %s: the allowed drop and the required improvement must be numbers",
				       metric);
	drop = gate_drop(candidate, champion, metric);
	*pass = drop <= max_drop && -drop >= min_improvement;
	return 0;
}

void gate_free(gate *g)
{
	if (!g)
		return;
	free(g->metric);
	free(g->text);
	free(g);
}
