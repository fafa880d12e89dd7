/*
 * validate.c — `mlctl validate` as a library operation (floor 4): score a model on
 * labelled data, compute the metrics, evaluate the gates, compare with a champion scored
 * on the same rows, write a JUnit report, and record the run and its verdict, which
 * `deploy --require-validated` reads later.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "dataset.h"
#include "error.h"
#include "evaluate.h"
#include "fsutil.h"
#include "gate.h"
#include "junit.h"
#include "metrics.h"
#include "util.h"
#include "mlctl/validate.h"
#include "banned.h"

/* Score bundle b on table t: the metrics report and the counters of the transform. */
static int score_bundle(metrics_report **out, schema_matrix **mout, const mlctl_bundle *b, const ds_table *t)
{
	schema_matrix *m = NULL;
	double *pred = NULL, *proba = NULL, *dec = NULL;
	int ret;

	*out = NULL;
	if ((ret = schema_transform_table(&m, b->schema, t, NULL, 0, true)))
		return ret;
	if (!(pred = mlctl_calloc((size_t)m->prob.l, sizeof(*pred)))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if ((ret = evaluate_predict(pred, &proba, &dec, b->model, b->schema, m)))
		goto out;
	ret = evaluate_report(out, b->schema, m->prob.y, pred, (size_t)m->prob.l, proba, dec);
out:
	free(pred);
	free(proba);
	free(dec);
	if (ret || !mout)
		schema_matrix_free(m);
	else
		*mout = m;
	return ret;
}

static int copy_report(mlctl_validate_result *res, const metrics_report *r)
{
	size_t i;

	res->metrics = mlctl_calloc(r->nvalues ? r->nvalues : 1, sizeof(*res->metrics));
	if (!res->metrics)
		return MLCTL_ENOMEM;
	for (i = 0; i < r->nvalues; i++) {
		if (!(res->metrics[i].key = mlctl_strdup(r->values[i].name)))
			return MLCTL_ENOMEM;
		res->metrics[i].value = r->values[i].value;
		res->nmetrics++;
	}
	if (!r->nclasses)
		return 0;
	res->class_names = mlctl_calloc(r->nclasses, sizeof(*res->class_names));
	res->confusion = mlctl_calloc(r->nclasses * r->nclasses, sizeof(*res->confusion));
	if (!res->class_names || !res->confusion)
		return MLCTL_ENOMEM;
	res->nclasses = r->nclasses;
	for (i = 0; i < r->nclasses; i++)
		if (!(res->class_names[i] = mlctl_strdup(r->class_names[i])))
			return MLCTL_ENOMEM;
	memcpy(res->confusion, r->confusion, r->nclasses * r->nclasses * sizeof(*res->confusion));
	return 0;
}

static int eval_gates(mlctl_validate_result *res, gate **gates, size_t n, const metrics_report *r)
{
	size_t i;
	int ret;

	if (!(res->gates = mlctl_calloc(n ? n : 1, sizeof(*res->gates))))
		return MLCTL_ENOMEM;
	for (i = 0; i < n; i++) {
		mlctl_gate_result *g = &res->gates[res->ngates];

		if ((ret = gate_eval(gates[i], r, &g->value, &g->pass)))
			return ret;
		g->text = mlctl_strdup(gates[i]->text);
		g->metric = mlctl_strdup(gates[i]->metric);
		g->bound = gates[i]->threshold;
		res->ngates++;
		if (!g->text || !g->metric)
			return MLCTL_ENOMEM;
		if (!g->pass)
			res->pass = false;
	}
	return 0;
}

/* Champion/challenger on the gated metrics (or the task's default metric). */
static int compare(mlctl_validate_result *res, const mlctl_validate_options *o, gate **gates, size_t ngates,
		   const metrics_report *cand, const metrics_report *champ, const char *default_metric)
{
	size_t i, n = ngates ? ngates : 1;
	char rule[128];
	int ret;

	if (isnan(o->max_drop) && isnan(o->min_improvement))
		snprintf(rule, sizeof(rule), "max-drop 0");
	else if (isnan(o->min_improvement))
		snprintf(rule, sizeof(rule), "max-drop %g", o->max_drop);
	else if (isnan(o->max_drop))
		snprintf(rule, sizeof(rule), "min-improvement %g", o->min_improvement);
	else
		snprintf(rule, sizeof(rule), "max-drop %g, min-improvement %g", o->max_drop, o->min_improvement);
	if (!(res->comparisons = mlctl_calloc(n, sizeof(*res->comparisons))))
		return MLCTL_ENOMEM;
	for (i = 0; i < n; i++) {
		const char *metric = ngates ? gates[i]->metric : default_metric;
		mlctl_comparison *c = &res->comparisons[res->ncomparisons];
		/* No rule given: the candidate must not be worse at all. A rule not given is off. */
		double max_drop = isnan(o->max_drop) ? (isnan(o->min_improvement) ? 0 : INFINITY) : o->max_drop;
		double min_impr = isnan(o->min_improvement) ? -INFINITY : o->min_improvement;
		size_t k;

		/* Two gates on one metric ("accuracy>=0.8", "accuracy<=0.99") compare it once. */
		for (k = 0; k < res->ncomparisons; k++)
			if (strcmp(res->comparisons[k].metric, metric) == 0)
				break;
		if (k < res->ncomparisons)
			continue;

		if (!metrics_get(cand, metric, &c->candidate) || !metrics_get(champ, metric, &c->champion))
			return mlctl_error_set(MLCTL_EUSAGE, "metric %s is not available for both models", metric);
		if ((ret = gate_compare(c->candidate, c->champion, metric, max_drop, min_impr, &c->pass)))
			return ret;
		c->metric = mlctl_strdup(metric);
		c->rule = mlctl_strdup(rule);
		res->ncomparisons++;
		if (!c->metric || !c->rule)
			return MLCTL_ENOMEM;
		if (!c->pass)
			res->pass = false;
	}
	return 0;
}

static int write_junit(const mlctl_validate_result *res, const mlctl_validate_options *o, const char *name)
{
	size_t n = res->ngates + res->ncomparisons, i, k = 0;
	junit_case *cases = mlctl_calloc(n ? n : 1, sizeof(*cases));
	char **texts = mlctl_calloc(2 * (n ? n : 1), sizeof(*texts));
	char classname[300], num[32], num2[32], *dir;
	int ret;

	if (!cases || !texts) {
		free(cases);
		free(texts);
		return MLCTL_ENOMEM;
	}
	snprintf(classname, sizeof(classname), "mlctl.validate.%s", name);
	for (i = 0; i < res->ngates; i++, k++) {
		const mlctl_gate_result *g = &res->gates[i];

		cases[k].name = g->text;
		cases[k].classname = classname;
		cases[k].failed = !g->pass;
		/* The value as it round-trips: a CI log must show why 0.8999999 failed >= 0.9. */
		texts[2 * k] = mlctl_asprintf("%s = %s, required %s", g->metric, mlctl_fmt_double(num, g->value),
					      g->text);
		cases[k].message = texts[2 * k];
		cases[k].detail = texts[2 * k];
	}
	for (i = 0; i < res->ncomparisons; i++, k++) {
		const mlctl_comparison *c = &res->comparisons[i];

		texts[2 * k] = mlctl_asprintf("%s against champion %s (%s)", c->metric, res->champion, c->rule);
		texts[2 * k + 1] = mlctl_asprintf("%s: candidate %s, champion %s, drop %.6g, %s", c->metric,
						  mlctl_fmt_double(num, c->candidate), mlctl_fmt_double(num2, c->champion),
						  gate_drop(c->candidate, c->champion, c->metric), c->rule);
		cases[k].name = texts[2 * k];
		cases[k].classname = classname;
		cases[k].failed = !c->pass;
		cases[k].message = texts[2 * k + 1];
		cases[k].detail = texts[2 * k + 1];
	}
	/* CI jobs name a report directory that does not exist yet ("reports/validate.xml"):
	 * create it, as pytest --junitxml does. */
	if (!(dir = fs_dirname(o->junit)))
		ret = MLCTL_ENOMEM;
	else if (!(ret = fs_mkdir_p(dir)))
		ret = junit_write(o->junit, classname, cases, n, res->seconds);
	free(dir);
	for (i = 0; i < 2 * (n ? n : 1); i++)
		free(texts[i]);
	free(texts);
	free(cases);
	return ret;
}

static int record(mlctl_registry *reg, const mlctl_validate_result *res, const mlctl_validate_options *o,
		  const mlctl_bundle *b)
{
	mlctl_metric *m;
	size_t i;
	int ret;

	mlctl_kv params[] = {
		{ "model", res->model }, { "data", (char *)o->data },
		{ "against", (char *)o->against }, { "champion", res->champion },
	};
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		if (!params[i].value)
			params[i].value = "-";
	if ((ret = mlctl_run_log_params(reg, res->run, params, sizeof(params) / sizeof(params[0]))) ||
	    (ret = mlctl_run_log_object(reg, res->run, "input", "data", res->data_digest)) ||
	    (ret = mlctl_run_log_object(reg, res->run, "input", "model", b->model_digest)))
		return ret;
	if (!(m = mlctl_calloc(res->nmetrics + 3, sizeof(*m))))
		return MLCTL_ENOMEM;
	memcpy(m, res->metrics, res->nmetrics * sizeof(*m));
	m[res->nmetrics] = (mlctl_metric){ "rows", (double)res->rows, 0 };
	m[res->nmetrics + 1] = (mlctl_metric){ "unseen_categories", (double)res->unseen_categories, 0 };
	m[res->nmetrics + 2] = (mlctl_metric){ "imputed_cells", (double)res->imputed, 0 };
	ret = mlctl_run_log_metrics(reg, res->run, m, res->nmetrics + 3);
	free(m);
	for (i = 0; i < res->ngates && !ret; i++) {
		char key[300], val[96];

		snprintf(key, sizeof(key), "gate: %s", res->gates[i].text);
		snprintf(val, sizeof(val), "%s (%.6g)", res->gates[i].pass ? "pass" : "fail", res->gates[i].value);
		ret = mlctl_run_set_tag(reg, res->run, key, val);
	}
	for (i = 0; i < res->ncomparisons && !ret; i++) {
		char key[300], val[160];

		snprintf(key, sizeof(key), "champion: %s", res->comparisons[i].metric);
		snprintf(val, sizeof(val), "%s (%.6g vs %.6g, %s)", res->comparisons[i].pass ? "pass" : "fail",
			 res->comparisons[i].candidate, res->comparisons[i].champion, res->comparisons[i].rule);
		ret = mlctl_run_set_tag(reg, res->run, key, val);
	}
	return ret ? ret : mlctl_run_set_verdict(reg, res->run, res->pass ? "pass" : "fail");
}

/*
 * The champion named by --against: "churn@production", "churn:2", a package, or "@ALIAS"
 * for an alias of the candidate's own model. *champ stays NULL, with champion_missing set,
 * when the alias does not exist yet (the first deployment has no champion). Another model
 * name that does not exist at all is an error: a typo there must not make every comparison
 * pass.
 */
static int resolve_champion(mlctl_bundle **champ, mlctl_validate_result *res, mlctl_registry *reg,
			    const char *against, const mlctl_bundle *b)
{
	mlctl_model_version *v = NULL;
	char *ref = NULL, *name = NULL;
	const char *at;
	int ret;

	*champ = NULL;
	if (against[0] == '@' && b->name)
		ref = mlctl_asprintf("%s%s", b->name, against);
	else
		ref = mlctl_strdup(against);
	if (!ref)
		return MLCTL_ENOMEM;
	ret = bundle_resolve(champ, reg, ref, NULL);
	at = strchr(ref, '@');
	if (ret != MLCTL_ENOTFOUND || !at || !mlctl_model_ref_is_registry(ref))
		goto out;
	if (!(name = mlctl_asprintf("%.*s", (int)(at - ref), ref))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	/* Only the alias is missing when the model itself resolves, or when it is the
	 * candidate's own model (a package validated where the registry never saw it). */
	if ((!b->name || strcmp(name, b->name) != 0) && (ret = mlctl_model_resolve(&v, reg, name)))
		goto out;
	mlctl_error_clear();
	res->champion_missing = true;
	ret = 0;
out:
	mlctl_model_version_free(v);
	free(name);
	free(ref);
	return ret;
}

static int run_validation(mlctl_validate_result *res, mlctl_registry *reg, const mlctl_validate_options *o,
			  mlctl_bundle *b, gate **gates)
{
	metrics_report *cand = NULL, *champ_report = NULL;
	schema_matrix *m = NULL;
	mlctl_bundle *champ = NULL;
	ds_table *t = NULL;
	ds_format fmt = DS_FORMAT_AUTO;
	double t0 = mlctl_monotonic();
	int ret;

	if (o->format && !ds_format_parse(o->format, &fmt))
		return mlctl_error_set(MLCTL_EUSAGE, "--format \"%s\": expected csv, tsv or libsvm", o->format);
	if ((ret = ds_table_load(&t, o->data, fmt)))
		goto out;
	snprintf(res->data_digest, sizeof(res->data_digest), "%s", t->digest);
	/* Lineage: the data set this verdict was reached on, as train records its own. */
	if ((ret = mlctl_dataset_record(reg, t->digest, o->data, ds_format_name(t->format),
					(int64_t)t->nrows, (int64_t)t->ncols)))
		goto out;
	if ((ret = score_bundle(&cand, &m, b, t)))
		goto out;
	res->rows = (size_t)m->prob.l;
	res->unseen_categories = m->unseen_categories;
	res->imputed = m->missing_cells;
	if ((ret = copy_report(res, cand)) || (ret = eval_gates(res, gates, o->ngates, cand)))
		goto out;
	if (o->against) {
		/* The first deployment has no champion: champion_missing says so, and it passes. */
		if ((ret = resolve_champion(&champ, res, reg, o->against, b)))
			goto out;
		if (champ) {
			if (!(res->champion = mlctl_asprintf("%s:%d", champ->name, champ->version))) {
				ret = MLCTL_ENOMEM;
				goto out;
			}
			if ((ret = score_bundle(&champ_report, NULL, champ, t)))
				goto out;
			ret = compare(res, o, gates, o->ngates, cand, champ_report,
				      schema_get_task(b->schema) == SCHEMA_TASK_REGRESS ? "mse" : "accuracy");
		}
	}
	res->seconds = mlctl_monotonic() - t0;
	if (!ret && o->junit)
		ret = write_junit(res, o, b->name ? b->name : "model");
out:
	metrics_report_free(cand);
	metrics_report_free(champ_report);
	schema_matrix_free(m);
	bundle_free(champ);
	ds_table_free(t);
	return ret;
}

int mlctl_validate(mlctl_validate_result **out, mlctl_registry *reg, const mlctl_validate_options *o)
{
	mlctl_run_start_options ro = MLCTL_RUN_START_OPTIONS_INIT;
	mlctl_validate_result *res;
	mlctl_bundle *b = NULL;
	gate **gates = NULL;
	size_t i;
	int ret;

	*out = NULL;
	if (!o->model || !o->data)
		return mlctl_error_set(MLCTL_EUSAGE, "validation needs a model and --data");
	if (!(res = mlctl_calloc(1, sizeof(*res))) || !(gates = mlctl_calloc(o->ngates + 1, sizeof(*gates)))) {
		free(res);
		return MLCTL_ENOMEM;
	}
	res->pass = true;
	/* Gates are checked before anything runs: a typo is a usage error, not a verdict. */
	for (i = 0; i < o->ngates; i++)
		if ((ret = gate_parse(&gates[i], o->gates[i])))
			goto out;
	if ((ret = bundle_resolve(&b, reg, o->model, NULL)))
		goto out;
	if (!(res->model = mlctl_asprintf("%s:%d", b->name, b->version))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	ro.kind = "validate";
	ro.name = b->name;
	ro.argc = o->argc;
	ro.argv = o->argv;
	if ((ret = mlctl_run_start(res->run, reg, &ro)))
		goto out;
	/* Linked at once, so that a validation which fails on bad data is listed with the
	 * version too (as failed, without a verdict). */
	ret = b->name && b->version ? mlctl_run_set_model(reg, res->run, b->name, b->version) : 0;
	if (!ret)
		ret = run_validation(res, reg, o, b, gates);
	if (!ret)
		ret = record(reg, res, o, b);
	if (ret) {
		mlctl_run_fail(reg, res->run, ret);
		goto out;
	}
	if ((ret = mlctl_run_finish(reg, res->run, NULL)))
		goto out;
	*out = res;
	res = NULL;
out:
	for (i = 0; i < o->ngates; i++)
		gate_free(gates[i]);
	free(gates);
	bundle_free(b);
	mlctl_validate_result_free(res);
	return ret;
}

void mlctl_validate_result_free(mlctl_validate_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nmetrics; i++)
		free(r->metrics[i].key);
	for (i = 0; i < r->nclasses; i++)
		free(r->class_names[i]);
	for (i = 0; i < r->ngates; i++) {
		free(r->gates[i].text);
		free(r->gates[i].metric);
	}
	for (i = 0; i < r->ncomparisons; i++) {
		free(r->comparisons[i].metric);
		free(r->comparisons[i].rule);
	}
	free(r->metrics);
	free(r->class_names);
	free(r->confusion);
	free(r->gates);
	free(r->comparisons);
	free(r->model);
	free(r->champion);
	free(r);
}
