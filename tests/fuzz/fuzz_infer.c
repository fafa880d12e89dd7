/*
 * fuzz_infer.c — infer_parse() on arbitrary bytes with both protocols, against a fixed
 * small schema (fitted once from an embedded CSV: two numeric inputs, one categorical,
 * an id column). An accepted request has every row encoded with schema_encode_cells()
 * and a response and log lines written, each of which must parse back as JSON; a refused
 * one has its message written as an error body, which must parse back too.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "infer.h"
#include "schema.h"
#include "mlctl/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char train_csv[] =
	"id,a,b,state,churn\n"
	"r1,1,10,KS,no\n"
	"r2,2,,OH,yes\n"
	"r3,3,30,KS,no\n"
	"r4,4,40,NY,yes\n";

static mlctl_schema *the_schema(void)
{
	static mlctl_schema *s;
	const char *ids[] = { "id" };
	schema_options o = SCHEMA_OPTIONS_INIT;
	ds_reader *r = NULL;
	ds_table *t = NULL;

	if (s)
		return s;
	o.label = "churn";
	o.id_columns = ids;
	o.n_id_columns = 1;
	if (ds_reader_open_mem(&r, train_csv, strlen(train_csv), "train.csv", DS_FORMAT_CSV) ||
	    ds_table_load_reader(&t, r) || schema_fit(&s, t, &o))
		abort();
	ds_table_free(t);
	ds_reader_free(r);
	return s;
}

static void must_parse(const strbuf *sb)
{
	json_t *j = json_loadb(sb->buf, sb->len, JSON_REJECT_DUPLICATES, NULL);

	if (!j)
		abort();
	json_decref(j);
}

static void one(infer_protocol p, const mlctl_schema *s, bool has_proba, const uint8_t *data, size_t size)
{
	static const char *const classes[] = { "no", "yes" };
	strbuf sb = MLCTL_STRBUF_INIT;
	infer_request *r = NULL;
	struct svm_node *x;
	double *labels, *prob;
	size_t i, n;

	if (infer_parse(&r, p, s, has_proba, (const char *)data, size) != 0) {
		if (infer_write_error(&sb, mlctl_error_last()->message))
			abort();
		must_parse(&sb);
		strbuf_release(&sb);
		return;
	}
	x = calloc(schema_max_nodes(s), sizeof(*x));
	labels = calloc(r->nrows + 1, sizeof(*labels));
	prob = calloc(2 * r->nrows + 1, sizeof(*prob));
	if (!x || !labels || !prob)
		abort();
	for (i = 0; i < r->nrows; i++) {
		/* a value schema refuses (a text that is no number) is a 400 for the server */
		if (schema_encode_cells(x, &n, s, r->cells + i * r->ninputs, i + 1, NULL) == 0)
			labels[i] = x[0].index == -1 ? 0 : x[0].value;
		prob[2 * i] = 0.25;
		prob[2 * i + 1] = 0.75;
	}
	{
		infer_answer a = { "m\"odel", 3, s, (size & 2) != 0, r->nrows, labels, has_proba ? prob : NULL,
				   2, classes };

		if (infer_write_response(&sb, p, r, &a))
			abort();
		must_parse(&sb);
		sb.len = 0;
		if (infer_write_log_inputs(&sb, r, s))
			abort();
		must_parse(&sb);
		sb.len = 0;
		if (infer_write_log_outputs(&sb, &a))
			abort();
		must_parse(&sb);
	}
	strbuf_release(&sb);
	free(x);
	free(labels);
	free(prob);
	infer_request_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const mlctl_schema *s = the_schema();

	one(INFER_V2, s, size & 1, data, size);
	one(INFER_V1, s, size & 1, data, size);
	return 0;
}
