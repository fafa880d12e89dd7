/*
 * infer.c — inference requests and responses of the Open Inference Protocol (V2) and
 * TF-Serving's :predict (V1) (floor 3). A body is parsed strictly with jansson, checked
 * against a schema into one array of cells that point into the parsed document, and the
 * answers are written as JSON text straight into a strbuf (no jansson dumper: a server
 * writes one per request), numbers as `mlctl predict --format jsonl` writes them.
 *
 * Bodies are outside input: every message names what is wrong and where, and user text
 * in it is cut to CUT bytes. Zero rows are allowed (the answer has empty outputs).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "error.h"
#include "infer.h"
#include "mlctl/common.h"

#define MAX_ROWS 1000000
#define CUT 64          /* bytes of user text quoted in a message */
#define MAX_LISTED 10   /* names listed in "the model takes: ..." */

/* ---- messages ---- */

/* s cut to CUT bytes (never inside a UTF-8 sequence), "…" appended when cut. */
static const char *cut(char buf[CUT + 8], const char *s)
{
	size_t n = strlen(s);

	if (n <= CUT)
		return s;
	n = CUT;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	memcpy(buf, s, n);
	memcpy(buf + n, "\xe2\x80\xa6", 4);
	return buf;
}

/* What a JSON value is, for messages: `the string "abc"`, `the number 1.5`, `an object`. */
static const char *describe(char buf[CUT + 32], const json_t *v)
{
	char c[CUT + 8], num[32];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		snprintf(buf, CUT + 32, "the string \"%s\"", cut(c, json_string_value(v)));
		return buf;
	case JSON_INTEGER:
	case JSON_REAL:
		snprintf(buf, CUT + 32, "the number %s", mlctl_fmt_double(num, json_number_value(v)));
		return buf;
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	default:
		return "null";
	}
}

/* "the model takes: a, b, c" (at most MAX_LISTED names, then "…"), into a fresh strbuf. */
static int input_list(strbuf *sb, const mlctl_schema *s)
{
	size_t i, n = schema_ninputs(s);
	char c[CUT + 8];
	int ret = strbuf_puts(sb, "the model takes: ");

	for (i = 0; i < n && i < MAX_LISTED && !ret; i++)
		ret = strbuf_printf(sb, "%s%s", i ? ", " : "", cut(c, schema_input_name(s, i)));
	if (!ret && n > MAX_LISTED)
		ret = strbuf_printf(sb, ", \xe2\x80\xa6 (%zu in all)", n);
	return ret;
}

/* An error naming a column of the schema, with the list of the model's inputs. */
static int input_error(const mlctl_schema *s, const char *fmt, const char *a, const char *name)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	char c[CUT + 8];
	int ret = input_list(&sb, s);

	if (ret)
		return mlctl_error_oom();
	ret = mlctl_error_set(MLCTL_EDATA, fmt, a, cut(c, name), sb.buf);
	strbuf_release(&sb);
	return ret;
}

/* ---- data types ---- */

typedef enum { DT_FLOAT, DT_INT, DT_UINT, DT_BYTES } dt_kind;

typedef struct dtype {
	const char *name;
	dt_kind kind;
	double min, max;        /* for integer types of up to 32 bits; else unbounded */
} dtype;

static const dtype dtypes[] = {
	{ "FP64", DT_FLOAT, 0, 0 }, { "FP32", DT_FLOAT, 0, 0 }, { "FP16", DT_FLOAT, 0, 0 },
	{ "INT8", DT_INT, -128, 127 }, { "INT16", DT_INT, -32768, 32767 },
	{ "INT32", DT_INT, -2147483648.0, 2147483647.0 }, { "INT64", DT_INT, 0, 0 },
	{ "UINT8", DT_UINT, 0, 255 }, { "UINT16", DT_UINT, 0, 65535 },
	{ "UINT32", DT_UINT, 0, 4294967295.0 }, { "UINT64", DT_UINT, 0, 0 },
	{ "BYTES", DT_BYTES, 0, 0 },
};

static int find_dtype(const dtype **out, const char *input, const json_t *v)
{
	char c1[CUT + 8], c2[CUT + 32];
	const char *name;
	size_t i;

	if (!json_is_string(v))
		return mlctl_error_set(MLCTL_EDATA, "input \"%s\": \"datatype\" must be a string, not %s",
				       cut(c1, input), describe(c2, v));
	name = json_string_value(v);
	for (i = 0; i < sizeof(dtypes) / sizeof(dtypes[0]); i++)
		if (strcmp(dtypes[i].name, name) == 0) {
			*out = &dtypes[i];
			return 0;
		}
	if (strcmp(name, "BOOL") == 0)
		return mlctl_error_set(MLCTL_EDATA, "input \"%s\": datatype \"BOOL\" is not supported: "
				       "send numbers as FP64 (or FP32, INT64, ...) and strings as BYTES",
				       cut(c1, input));
	return mlctl_error_set(MLCTL_EDATA, "input \"%s\": unknown datatype \"%s\" (FP64, FP32, FP16, "
			       "INT8..INT64, UINT8..UINT64, BYTES)", cut(c1, input), cut(c2, name));
}

/* One element of a V2 tensor into a cell, checked against its datatype. */
static int put_element(schema_cell *cell, const dtype *dt, const char *input, size_t at, const json_t *v)
{
	char c1[CUT + 8], c2[CUT + 32];
	double x;

	cell->text = NULL;
	cell->has_num = false;
	cell->num = 0;
	if (json_is_null(v))
		return 0;
	if (dt->kind == DT_BYTES) {
		if (!json_is_string(v))
			goto wrong;
		cell->text = json_string_value(v);
		return 0;
	}
	if (!json_is_number(v))
		goto wrong;
	x = json_number_value(v);
	if (dt->kind != DT_FLOAT) {
		if (x != floor(x) || (dt->kind == DT_UINT && x < 0) || (dt->max != 0 && (x < dt->min || x > dt->max)))
			return mlctl_error_set(MLCTL_EDATA, "input \"%s\": datatype \"%s\" but data[%zu] is %s, "
					       "not an integer of that type", cut(c1, input), dt->name, at,
					       describe(c2, v));
	}
	cell->num = x;
	cell->has_num = true;
	return 0;
wrong:
	return mlctl_error_set(MLCTL_EDATA, "input \"%s\": datatype \"%s\" but data[%zu] is %s",
			       cut(c1, input), dt->name, at, describe(c2, v));
}

/* ---- V2 tensors ---- */

#define MAX_DIMS 2

typedef struct tensor {
	const char *name;
	const dtype *dt;
	size_t dims[MAX_DIMS], ndims;
	size_t count;           /* product of dims */
	const json_t *data;
} tensor;

static void shape_text(char buf[64], const tensor *t)
{
	if (t->ndims == 1)
		snprintf(buf, 64, "[%zu]", t->dims[0]);
	else
		snprintf(buf, 64, "[%zu,%zu]", t->dims[0], t->dims[1]);
}

/* Is a nested exactly as t's shape says, from depth on? MLCTL_EDATA when ragged. */
static int check_nesting(const tensor *t, const json_t *a, size_t depth)
{
	char c[CUT + 8], sh[64];
	size_t i;
	int ret;

	if (json_array_size(a) != t->dims[depth])
		goto ragged;
	for (i = 0; i < json_array_size(a); i++) {
		const json_t *e = json_array_get(a, i);

		if (depth + 1 < t->ndims) {
			if (!json_is_array(e))
				goto ragged;
			if ((ret = check_nesting(t, e, depth + 1)))
				return ret;
		} else if (json_is_array(e) || json_is_object(e)) {
			goto ragged;
		}
	}
	return 0;
ragged:
	shape_text(sh, t);
	return mlctl_error_set(MLCTL_EDATA, "input \"%s\": \"data\" is not nested as shape %s says "
			       "(give it flat, or nested exactly as the shape)", cut(c, t->name), sh);
}

/* Element k (row-major) of t's data, flat or nested. */
static const json_t *element(const tensor *t, bool nested, size_t k)
{
	if (!nested || t->ndims == 1)
		return json_array_get(t->data, k);
	return json_array_get(json_array_get(t->data, k / t->dims[1]), k % t->dims[1]);
}

/* Read one V2 input object's name, datatype, shape and data. */
static int read_tensor(tensor *t, const json_t *in, size_t i)
{
	char c[CUT + 8], d[CUT + 32];
	const json_t *name, *shape, *v;
	const char *key;
	size_t k, count = 1;

	if (!json_is_object(in))
		return mlctl_error_set(MLCTL_EDATA, "inputs[%zu]: an object expected, not %s", i, describe(d, in));
	name = json_object_get(in, "name");
	if (!json_is_string(name))
		return mlctl_error_set(MLCTL_EDATA, "inputs[%zu]: \"name\" must be a string%s", i,
				       name ? "" : " (it is missing)");
	t->name = json_string_value(name);
	json_object_foreach((json_t *)in, key, v) {
		if (strcmp(key, "name") && strcmp(key, "datatype") && strcmp(key, "shape") &&
		    strcmp(key, "data") && strcmp(key, "parameters"))
			return mlctl_error_set(MLCTL_EDATA, "input \"%s\": unknown key \"%s\" (name, datatype, "
					       "shape, data, parameters)", cut(c, t->name), cut(d, key));
	}
	if (!json_object_get(in, "datatype"))
		return mlctl_error_set(MLCTL_EDATA, "input \"%s\": \"datatype\" is missing", cut(c, t->name));
	if (find_dtype(&t->dt, t->name, json_object_get(in, "datatype")))
		return MLCTL_EDATA;
	shape = json_object_get(in, "shape");
	if (!json_is_array(shape) || json_array_size(shape) < 1 || json_array_size(shape) > MAX_DIMS)
		return mlctl_error_set(MLCTL_EDATA, "input \"%s\": \"shape\" must be an array of one or two "
				       "non-negative integers ([N], [N,1] or [N,columns])", cut(c, t->name));
	t->ndims = json_array_size(shape);
	for (k = 0; k < t->ndims; k++) {
		double x = json_number_value(json_array_get(shape, k));

		v = json_array_get(shape, k);
		if (!json_is_number(v) || x != floor(x) || x < 0 || x > (double)MAX_ROWS * 1000)
			return mlctl_error_set(MLCTL_EDATA, "input \"%s\": shape[%zu] is %s, not a non-negative "
					       "integer of a sane size", cut(c, t->name), k, describe(d, v));
		t->dims[k] = (size_t)x;
		/* both factors are at most 1e9: no overflow in 64 bits, but check anyway */
		if (t->dims[k] && count > SIZE_MAX / t->dims[k])
			return mlctl_error_set(MLCTL_EDATA, "input \"%s\": shape is too large", cut(c, t->name));
		count *= t->dims[k];
	}
	t->count = count;
	if (t->dims[0] > MAX_ROWS)
		return mlctl_error_set(MLCTL_EDATA, "input \"%s\": %zu rows: at most %d rows per request",
				       cut(c, t->name), t->dims[0], MAX_ROWS);
	t->data = json_object_get(in, "data");
	if (!json_is_array(t->data))
		return mlctl_error_set(MLCTL_EDATA, "input \"%s\": \"data\" must be an array%s", cut(c, t->name),
				       t->data ? "" : " (it is missing)");
	return 0;
}

/* Is t's data nested? Checks that it holds exactly count elements either way. */
static int tensor_layout(const tensor *t, bool *nested)
{
	char c[CUT + 8], sh[64];
	size_t n = json_array_size(t->data), i;

	*nested = t->ndims > 1 && n > 0 && json_is_array(json_array_get(t->data, 0));
	if (*nested)
		return check_nesting(t, t->data, 0);
	if (n != t->count) {
		shape_text(sh, t);
		return mlctl_error_set(MLCTL_EDATA, "input \"%s\": shape %s but %zu data elements",
				       cut(c, t->name), sh, n);
	}
	for (i = 0; i < n; i++) {
		const json_t *e = json_array_get(t->data, i);

		if (json_is_array(e) || json_is_object(e)) {
			shape_text(sh, t);
			return mlctl_error_set(MLCTL_EDATA, "input \"%s\": shape %s but data[%zu] is %s",
					       cut(c, t->name), sh, i, json_is_array(e) ? "an array" : "an object");
		}
	}
	return 0;
}

static long schema_index(const mlctl_schema *s, const char *name)
{
	size_t i, n = schema_ninputs(s);

	for (i = 0; i < n; i++)
		if (strcmp(schema_input_name(s, i), name) == 0)
			return (long)i;
	return -1;
}

static bool is_id_column(const mlctl_schema *s, const char *name)
{
	size_t i;

	for (i = 0; i < schema_nid_columns(s); i++)
		if (strcmp(schema_id_column(s, i), name) == 0)
			return true;
	return false;
}

static int alloc_cells(infer_request *r, size_t nrows)
{
	r->nrows = nrows;
	/* nrows <= MAX_ROWS and ninputs is the schema's: the product cannot overflow */
	r->cells = mlctl_calloc(nrows * r->ninputs + 1, sizeof(*r->cells));
	return r->cells ? 0 : MLCTL_ENOMEM;
}

/* The one tensor "input" of shape [N, ninputs], in schema input order. */
static int v2_tensor(infer_request *r, const tensor *t)
{
	char sh[64];
	bool nested;
	size_t k;
	int ret;

	if (t->dt->kind == DT_BYTES)
		return mlctl_error_set(MLCTL_EDATA, "input \"input\": datatype \"BYTES\": the tensor \"input\" "
				       "takes numbers (FP64, FP32 or an integer type); send strings one "
				       "input per column");
	shape_text(sh, t);
	if (t->ndims != 2 || t->dims[1] != r->ninputs)
		return mlctl_error_set(MLCTL_EDATA, "input \"input\": shape %s but the model takes %zu columns "
				       "(shape [N,%zu])", sh, r->ninputs, r->ninputs);
	if ((ret = tensor_layout(t, &nested)) || (ret = alloc_cells(r, t->dims[0])))
		return ret;
	for (k = 0; k < t->count; k++)
		if ((ret = put_element(&r->cells[k], t->dt, t->name, k, element(t, nested, k))))
			return ret;
	return 0;
}

/* One input per schema column (id columns accepted and ignored). */
static int v2_columns(infer_request *r, const mlctl_schema *s, const json_t *inputs)
{
	size_t n = json_array_size(inputs), i, j, k, nrows = 0;
	char c1[CUT + 8], c2[CUT + 8];
	const char *first = NULL;
	tensor t;
	int ret;

	/* every input known, one per column, all with the same row count */
	for (i = 0; i < n; i++) {
		if ((ret = read_tensor(&t, json_array_get(inputs, i), i)))
			return ret;
		if (schema_index(s, t.name) < 0 && !is_id_column(s, t.name))
			return input_error(s, "%sunknown input \"%s\" (%s)", "", t.name);
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(json_object_get(json_array_get(inputs, j), "name")), t.name) == 0)
				return mlctl_error_set(MLCTL_EDATA, "input \"%s\" given twice", cut(c1, t.name));
		if (t.ndims == 2 && t.dims[1] != 1) {
			char sh[64];

			shape_text(sh, &t);
			return mlctl_error_set(MLCTL_EDATA, "input \"%s\": shape %s: a column input has shape "
					       "[N] or [N,1]", cut(c1, t.name), sh);
		}
		if (!first) {
			first = t.name;
			nrows = t.dims[0];
		} else if (t.dims[0] != nrows) {
			return mlctl_error_set(MLCTL_EDATA, "inputs: shape [N] of input \"%s\" is %zu rows, "
					       "input \"%s\" has %zu", cut(c1, first), nrows, cut(c2, t.name),
					       t.dims[0]);
		}
	}
	if ((ret = alloc_cells(r, nrows)))
		return ret;
	for (i = 0; i < n; i++) {
		bool nested;
		long col;

		read_tensor(&t, json_array_get(inputs, i), i);
		if ((col = schema_index(s, t.name)) < 0)
			continue;
		if ((ret = tensor_layout(&t, &nested)))
			return ret;
		for (k = 0; k < t.count; k++)
			if ((ret = put_element(&r->cells[k * r->ninputs + (size_t)col], t.dt, t.name, k,
					       element(&t, nested, k))))
				return ret;
	}
	/* after the values, so that a bad value is named even when a column is missing too */
	for (j = 0; j < r->ninputs; j++) {
		for (i = 0; i < n; i++)
			if (strcmp(json_string_value(json_object_get(json_array_get(inputs, i), "name")),
				   schema_input_name(s, j)) == 0)
				break;
		if (i == n)
			return input_error(s, "%smissing input \"%s\" (%s)", "", schema_input_name(s, j));
	}
	return 0;
}

static int v2_outputs(infer_request *r, const json_t *outputs, bool has_proba)
{
	char c[CUT + 8], d[CUT + 32];
	size_t i;

	if (!json_is_array(outputs))
		return mlctl_error_set(MLCTL_EDATA, "\"outputs\" must be an array of {\"name\": ...}, not %s",
				       describe(d, outputs));
	if (json_array_size(outputs) == 0)
		return 0;       /* as if there were none: every output */
	r->want_predictions = r->want_probabilities = false;
	for (i = 0; i < json_array_size(outputs); i++) {
		const json_t *o = json_array_get(outputs, i), *name = json_object_get(o, "name");
		const char *n;

		if (!json_is_object(o) || !json_is_string(name))
			return mlctl_error_set(MLCTL_EDATA, "outputs[%zu]: an object with a string \"name\" expected",
					       i);
		n = json_string_value(name);
		if (strcmp(n, "predictions") == 0) {
			r->want_predictions = true;
		} else if (strcmp(n, "probabilities") == 0) {
			if (!has_proba)
				return mlctl_error_set(MLCTL_EDATA, "outputs: probabilities: this model has no "
						       "probability estimates (train it with --probability)");
			r->want_probabilities = true;
		} else {
			return mlctl_error_set(MLCTL_EDATA, "outputs[%zu]: unknown output \"%s\" (predictions, "
					       "probabilities)", i, cut(c, n));
		}
	}
	return 0;
}

static int parse_v2(infer_request *r, const json_t *root, const mlctl_schema *s, bool has_proba)
{
	char c[CUT + 8], d[CUT + 32];
	const json_t *inputs, *id, *v;
	const char *key;
	tensor t;
	int ret;

	json_object_foreach((json_t *)root, key, v) {
		if (strcmp(key, "id") && strcmp(key, "parameters") && strcmp(key, "inputs") && strcmp(key, "outputs"))
			return mlctl_error_set(MLCTL_EDATA, "unknown key \"%s\" in the request (id, parameters, "
					       "inputs, outputs)", cut(c, key));
	}
	r->want_predictions = true;
	r->want_probabilities = has_proba;
	if ((id = json_object_get(root, "id"))) {
		if (!json_is_string(id))
			return mlctl_error_set(MLCTL_EDATA, "\"id\" must be a string, not %s", describe(d, id));
		if (!(r->id = mlctl_strdup(json_string_value(id))))
			return MLCTL_ENOMEM;
	}
	if ((v = json_object_get(root, "parameters")) && !json_is_object(v))
		return mlctl_error_set(MLCTL_EDATA, "\"parameters\" must be an object, not %s", describe(d, v));
	if ((v = json_object_get(root, "outputs")) && (ret = v2_outputs(r, v, has_proba)))
		return ret;
	inputs = json_object_get(root, "inputs");
	if (!json_is_array(inputs) || json_array_size(inputs) == 0)
		return mlctl_error_set(MLCTL_EDATA, "\"inputs\" must be a non-empty array of tensors%s",
				       inputs ? "" : " (it is missing)");
	if (json_array_size(inputs) == 1 && schema_index(s, "input") < 0) {
		if ((ret = read_tensor(&t, json_array_get(inputs, 0), 0)))
			return ret;
		if (strcmp(t.name, "input") == 0)
			return v2_tensor(r, &t);
	}
	return v2_columns(r, s, inputs);
}

/* ---- V1 ---- */

/* A V1 value (number, string or null) into a cell. */
static int v1_value(schema_cell *cell, const json_t *v, const char *where, size_t at, const char *col)
{
	char c[CUT + 8];

	cell->text = NULL;
	cell->has_num = false;
	cell->num = 0;
	if (json_is_number(v)) {
		cell->num = json_number_value(v);
		cell->has_num = true;
	} else if (json_is_string(v)) {
		cell->text = json_string_value(v);
	} else if (!json_is_null(v)) {
		return mlctl_error_set(MLCTL_EDATA, "%s[%zu]: column \"%s\": a number, a string or null "
				       "expected, not %s", where, at, cut(c, col),
				       json_is_object(v) ? "an object" : json_is_array(v) ? "an array" :
				       json_is_true(v) ? "true" : "false");
	}
	return 0;
}

/* The key of obj that is neither a schema input nor an id column (there is one). */
static const char *unknown_key(const json_t *obj, const mlctl_schema *s)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		if (schema_index(s, key) < 0 && !is_id_column(s, key))
			return key;
	}
	return "?";
}

static size_t ids_present(const json_t *obj, const mlctl_schema *s)
{
	size_t i, n = 0;

	for (i = 0; i < schema_nid_columns(s); i++)
		n += json_object_get(obj, schema_id_column(s, i)) != NULL;
	return n;
}

static int v1_row_error(const mlctl_schema *s, size_t row, const char *fmt, const char *name)
{
	char where[48];

	snprintf(where, sizeof(where), "instances[%zu]: ", row);
	return input_error(s, fmt, where, name);
}

static int v1_instances(infer_request *r, const mlctl_schema *s, const json_t *rows)
{
	size_t i, j;
	int ret;

	if (!json_is_array(rows))
		return mlctl_error_set(MLCTL_EDATA, "\"instances\" must be an array of rows");
	if (json_array_size(rows) > MAX_ROWS)
		return mlctl_error_set(MLCTL_EDATA, "instances: %zu rows: at most %d rows per request",
				       json_array_size(rows), MAX_ROWS);
	if ((ret = alloc_cells(r, json_array_size(rows))))
		return ret;
	for (i = 0; i < r->nrows; i++) {
		const json_t *row = json_array_get(rows, i);
		schema_cell *cells = r->cells + i * r->ninputs;
		char d[CUT + 32];

		if (json_is_array(row)) {
			/* TF-Serving's [[1, 2, 3]]: values in schema input order */
			if (json_array_size(row) != r->ninputs) {
				strbuf sb = MLCTL_STRBUF_INIT;

				if (input_list(&sb, s))
					return mlctl_error_oom();
				ret = mlctl_error_set(MLCTL_EDATA, "instances[%zu]: %zu values but the model takes "
						      "%zu columns (%s)", i, json_array_size(row), r->ninputs, sb.buf);
				strbuf_release(&sb);
				return ret;
			}
			for (j = 0; j < r->ninputs; j++)
				if ((ret = v1_value(&cells[j], json_array_get(row, j), "instances", i,
						    schema_input_name(s, j))))
					return ret;
			continue;
		}
		if (!json_is_object(row))
			return mlctl_error_set(MLCTL_EDATA, "instances[%zu]: a row is an object or an array, not %s",
					       i, describe(d, row));
		for (j = 0; j < r->ninputs; j++) {
			const json_t *v = json_object_get(row, schema_input_name(s, j));

			if (!v)
				return v1_row_error(s, i, "%smissing column \"%s\" (%s)", schema_input_name(s, j));
			if ((ret = v1_value(&cells[j], v, "instances", i, schema_input_name(s, j))))
				return ret;
		}
		if (json_object_size(row) != r->ninputs + ids_present(row, s))
			return v1_row_error(s, i, "%sunknown column \"%s\" (%s)", unknown_key(row, s));
	}
	return 0;
}

static int v1_columns(infer_request *r, const mlctl_schema *s, const json_t *cols)
{
	char c1[CUT + 8], c2[CUT + 8];
	size_t i, j, nrows = 0;
	const char *first = NULL;
	int ret;

	if (!json_is_object(cols))
		return mlctl_error_set(MLCTL_EDATA, "\"inputs\" must be an object of columns {\"col\": [...]}");
	for (j = 0; j < r->ninputs; j++) {
		const char *name = schema_input_name(s, j);
		const json_t *a = json_object_get(cols, name);

		if (!a)
			return input_error(s, "%smissing input \"%s\" (%s)", "", name);
		if (!json_is_array(a))
			return mlctl_error_set(MLCTL_EDATA, "input \"%s\": an array of values expected", cut(c1, name));
		if (!first) {
			first = name;
			nrows = json_array_size(a);
		} else if (json_array_size(a) != nrows) {
			return mlctl_error_set(MLCTL_EDATA, "inputs: input \"%s\" has %zu rows, input \"%s\" has %zu",
					       cut(c1, first), nrows, cut(c2, name), json_array_size(a));
		}
	}
	if (json_object_size(cols) != r->ninputs + ids_present(cols, s))
		return input_error(s, "%sunknown input \"%s\" (%s)", "", unknown_key(cols, s));
	if (nrows > MAX_ROWS)
		return mlctl_error_set(MLCTL_EDATA, "inputs: %zu rows: at most %d rows per request", nrows, MAX_ROWS);
	if ((ret = alloc_cells(r, nrows)))
		return ret;
	for (j = 0; j < r->ninputs; j++) {
		const char *name = schema_input_name(s, j);
		const json_t *a = json_object_get(cols, name);
		char where[CUT + 32];

		snprintf(where, sizeof(where), "input \"%s\": data", cut(c1, name));
		for (i = 0; i < nrows; i++)
			if ((ret = v1_value(&r->cells[i * r->ninputs + j], json_array_get(a, i), where, i, name)))
				return ret;
	}
	return 0;
}

static int parse_v1(infer_request *r, const json_t *root, const mlctl_schema *s, bool has_proba)
{
	const json_t *inst = json_object_get(root, "instances"), *cols = json_object_get(root, "inputs"), *v;
	const char *key;
	char c[CUT + 8];

	json_object_foreach((json_t *)root, key, v) {
		if (strcmp(key, "instances") && strcmp(key, "inputs") && strcmp(key, "signature_name"))
			return mlctl_error_set(MLCTL_EDATA, "unknown key \"%s\" in the request (instances or "
					       "inputs, signature_name)", cut(c, key));
	}
	if ((inst != NULL) == (cols != NULL))
		return mlctl_error_set(MLCTL_EDATA, "%s", inst ? "give \"instances\" or \"inputs\", not both" :
				       "the request needs \"instances\" (rows) or \"inputs\" (columns)");
	r->want_predictions = true;
	r->want_probabilities = has_proba;
	return inst ? v1_instances(r, s, inst) : v1_columns(r, s, cols);
}

int infer_parse(infer_request **out, infer_protocol p, const mlctl_schema *s, bool has_proba,
		const char *body, size_t len)
{
	infer_request *r;
	json_error_t err;
	json_t *root;
	int ret;

	*out = NULL;
	if (len == 0)
		return mlctl_error_set(MLCTL_EDATA, "empty request body");
	/* jansson bounds nesting (JSON_PARSER_MAX_DEPTH) and refuses invalid UTF-8, \u0000,
	 * numbers out of double range and, by default, trailing text after the value */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &err);
	if (!root)
		return mlctl_error_set(MLCTL_EDATA, "invalid JSON at line %d, column %d: %.*s", err.line,
				       err.column, CUT * 2, err.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return mlctl_error_set(MLCTL_EDATA, "the request body must be a JSON object");
	}
	if (!(r = mlctl_calloc(1, sizeof(*r)))) {
		json_decref(root);
		return MLCTL_ENOMEM;
	}
	r->doc = root;
	r->ninputs = schema_ninputs(s);
	ret = p == INFER_V1 ? parse_v1(r, root, s, has_proba) : parse_v2(r, root, s, has_proba);
	if (ret) {
		infer_request_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

void infer_request_free(infer_request *r)
{
	if (!r)
		return;
	free(r->id);
	free(r->cells);
	json_decref(r->doc);
	free(r);
}

/* ---- writing ---- */

int infer_json_string(strbuf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *run = p;
	int ret = strbuf_add(out, "\"", 1);

	while (*p && !ret) {
		char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
		unsigned long cp;
		size_t n;

		if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			p++;
			continue;
		}
		if (*p >= 0x80 && (n = mlctl_utf8_decode(p, &cp))) {
			p += n;
			continue;
		}
		ret = strbuf_add(out, run, (size_t)(p - run));
		if (ret)
			break;
		if (*p == '"' || *p == '\\') {
			esc[1] = (char)*p;
			ret = strbuf_add(out, esc, 2);
		} else if (*p < 0x20) {
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			ret = strbuf_add(out, esc, 6);
		} else {
			ret = strbuf_add(out, "\xef\xbf\xbd", 3);       /* U+FFFD for a bad byte */
		}
		run = ++p;
	}
	ret = ret || strbuf_add(out, run, (size_t)(p - run));
	return ret ? MLCTL_ENOMEM : strbuf_add(out, "\"", 1);
}

/* A number as mlctl_fmt_double writes it; null when JSON cannot hold it. */
static int num_out(strbuf *sb, double v)
{
	char buf[32];

	if (!isfinite(v))
		return strbuf_add(sb, "null", 4);
	return strbuf_puts(sb, mlctl_fmt_double(buf, v));
}

static int label_out(strbuf *sb, const infer_answer *a, double v)
{
	char buf[32];
	const char *name;

	if (!a->classify)
		return num_out(sb, v);
	name = schema_class_for_value(a->schema, v);
	return infer_json_string(sb, name ? name : mlctl_fmt_double(buf, v));
}

static int predictions_out(strbuf *sb, const infer_answer *a)
{
	size_t i;
	int ret = strbuf_add(sb, "[", 1);

	for (i = 0; i < a->nrows && !ret; i++)
		ret = (i && strbuf_add(sb, ",", 1)) || label_out(sb, a, a->labels[i]);
	return ret ? MLCTL_ENOMEM : strbuf_add(sb, "]", 1);
}

/* Probabilities as rows [[..], ..] (nested) or flat row-major. */
static int prob_out(strbuf *sb, const infer_answer *a, bool nested)
{
	size_t i, k;
	int ret = strbuf_add(sb, "[", 1);

	for (i = 0; i < a->nrows && !ret; i++) {
		if (nested)
			ret = (i && strbuf_add(sb, ",", 1)) || strbuf_add(sb, "[", 1);
		for (k = 0; k < a->nclasses && !ret; k++)
			ret = ((k || (!nested && i)) && strbuf_add(sb, ",", 1)) ||
			      num_out(sb, a->prob[i * a->nclasses + k]);
		if (nested && !ret)
			ret = strbuf_add(sb, "]", 1);
	}
	return ret ? MLCTL_ENOMEM : strbuf_add(sb, "]", 1);
}

static int classes_out(strbuf *sb, const infer_answer *a)
{
	size_t k;
	int ret = strbuf_add(sb, "[", 1);

	for (k = 0; k < a->nclasses && !ret; k++)
		ret = (k && strbuf_add(sb, ",", 1)) || infer_json_string(sb, a->class_names[k]);
	return ret ? MLCTL_ENOMEM : strbuf_add(sb, "]", 1);
}

static int v2_response(strbuf *out, const infer_request *req, const infer_answer *a)
{
	bool probs = req->want_probabilities && a->prob;
	int ret;

	ret = strbuf_puts(out, "{\"model_name\":") || infer_json_string(out, a->model_name) ||
	      strbuf_printf(out, ",\"model_version\":\"%d\"", a->model_version);
	if (!ret && req->id)
		ret = strbuf_puts(out, ",\"id\":") || infer_json_string(out, req->id);
	ret = ret || strbuf_puts(out, ",\"outputs\":[");
	if (!ret && req->want_predictions)
		ret = strbuf_printf(out, "{\"name\":\"predictions\",\"datatype\":\"%s\",\"shape\":[%zu],\"data\":",
				    a->classify ? "BYTES" : "FP64", a->nrows) ||
		      predictions_out(out, a) || strbuf_add(out, "}", 1);
	if (!ret && probs) {
		strbuf cls = MLCTL_STRBUF_INIT;

		ret = classes_out(&cls, a) ||
		      strbuf_printf(out, "%s{\"name\":\"probabilities\",\"datatype\":\"FP64\",\"shape\":[%zu,%zu],"
				    "\"parameters\":{\"classes\":", req->want_predictions ? "," : "",
				    a->nrows, a->nclasses) ||
		      infer_json_string(out, cls.buf) || strbuf_puts(out, "},\"data\":") ||
		      prob_out(out, a, false) || strbuf_add(out, "}", 1);
		strbuf_release(&cls);
	}
	return ret ? MLCTL_ENOMEM : strbuf_add(out, "]}", 2);
}

int infer_write_response(strbuf *out, infer_protocol p, const infer_request *req, const infer_answer *a)
{
	int ret;

	if (p == INFER_V2)
		return v2_response(out, req, a);
	ret = strbuf_puts(out, "{\"predictions\":") || predictions_out(out, a) ||
	      strbuf_printf(out, ",\"model_version\":\"%d\"", a->model_version);
	if (!ret && req->want_probabilities && a->prob)
		ret = strbuf_puts(out, ",\"probabilities\":") || prob_out(out, a, true) ||
		      strbuf_puts(out, ",\"classes\":") || classes_out(out, a);
	return ret ? MLCTL_ENOMEM : strbuf_add(out, "}", 1);
}

int infer_write_metadata(strbuf *out, const char *name, const int *versions, size_t nversions,
			 const mlctl_schema *s, bool classify, bool has_proba)
{
	size_t i, n = schema_ninputs(s);
	int ret;

	ret = strbuf_puts(out, "{\"name\":") || infer_json_string(out, name) || strbuf_puts(out, ",\"versions\":[");
	for (i = 0; i < nversions && !ret; i++)
		ret = strbuf_printf(out, "%s\"%d\"", i ? "," : "", versions[i]);
	ret = ret || strbuf_puts(out, "],\"platform\":\"libsvm\",\"inputs\":[");
	for (i = 0; i < n && !ret; i++)
		ret = (i && strbuf_add(out, ",", 1)) || strbuf_puts(out, "{\"name\":") ||
		      infer_json_string(out, schema_input_name(s, i)) ||
		      strbuf_printf(out, ",\"datatype\":\"%s\",\"shape\":[-1]}",
				    schema_input_is_categorical(s, i) ? "BYTES" : "FP64");
	/* the one-tensor form, unless a column is itself named "input" */
	if (!ret && schema_index(s, "input") < 0)
		ret = strbuf_printf(out, "%s{\"name\":\"input\",\"datatype\":\"FP64\",\"shape\":[-1,%zu]}",
				    n ? "," : "", n);
	ret = ret || strbuf_printf(out, "],\"outputs\":[{\"name\":\"predictions\",\"datatype\":\"%s\",\"shape\":[-1]}",
				   classify ? "BYTES" : "FP64");
	if (!ret && has_proba)
		ret = strbuf_printf(out, ",{\"name\":\"probabilities\",\"datatype\":\"FP64\",\"shape\":[-1,%zu]}",
				    schema_nclasses(s));
	return ret ? MLCTL_ENOMEM : strbuf_add(out, "]}", 2);
}

int infer_write_log_inputs(strbuf *out, const infer_request *req, const mlctl_schema *s)
{
	size_t i, j;
	int ret = strbuf_add(out, "{", 1);

	for (j = 0; j < req->ninputs && !ret; j++) {
		ret = (j && strbuf_add(out, ",", 1)) || infer_json_string(out, schema_input_name(s, j)) ||
		      strbuf_add(out, ":[", 2);
		for (i = 0; i < req->nrows && !ret; i++) {
			const schema_cell *c = &req->cells[i * req->ninputs + j];

			ret = (i && strbuf_add(out, ",", 1)) ||
			      (c->has_num ? num_out(out, c->num) :
			       c->text ? infer_json_string(out, c->text) : strbuf_add(out, "null", 4));
		}
		ret = ret || strbuf_add(out, "]", 1);
	}
	return ret ? MLCTL_ENOMEM : strbuf_add(out, "}", 1);
}

int infer_write_log_outputs(strbuf *out, const infer_answer *a)
{
	int ret = strbuf_puts(out, "{\"predictions\":") || predictions_out(out, a);

	if (!ret && a->prob)
		ret = strbuf_puts(out, ",\"probabilities\":") || prob_out(out, a, true);
	return ret ? MLCTL_ENOMEM : strbuf_add(out, "}", 1);
}

int infer_write_error(strbuf *out, const char *msg)
{
	int ret = strbuf_puts(out, "{\"error\":") || infer_json_string(out, msg);

	return ret ? MLCTL_ENOMEM : strbuf_add(out, "}", 1);
}
