/*
 * infer.h — inference requests and responses of the two HTTP protocols a server speaks
 * (floor 3): the Open Inference Protocol (KServe / Triton V2, REST) and TF-Serving's
 * :predict. A request body is parsed with jansson, strictly (duplicate keys refused, depth
 * bounded), and checked against a model's schema into rows of cells that
 * schema_encode_cells() turns into libsvm rows; responses and model metadata are written as
 * JSON text with the numbers formatted as `mlctl predict` formats them.
 *
 * Everything here is a pure function of its arguments: no threads, no I/O, no state.
 */
#ifndef MLCTL_INFER_H
#define MLCTL_INFER_H

#include <stdbool.h>
#include <stddef.h>

#include "schema.h"
#include "util.h"

typedef enum { INFER_V2 = 0, INFER_V1 } infer_protocol;

/* A parsed request: nrows rows of schema_ninputs(s) cells, row-major. */
typedef struct infer_request {
	char *id;                 /* V2 "id" (a copy), NULL when the request has none */
	size_t nrows;
	size_t ninputs;           /* schema_ninputs(s) */
	schema_cell *cells;       /* nrows * ninputs; texts borrowed from doc */
	bool want_predictions;    /* V2 "outputs" named it, or there was no "outputs" */
	bool want_probabilities;  /* V2: named, or no "outputs" and the model has them;
				   * V1: the model has them */
	void *doc;                /* private: the parsed document (json_t *) */
} infer_request;

/*
 * Parse body[0..len) for a model with schema s; has_proba says whether the model gives
 * probabilities. 0 and *out set (infer_request_free()), or MLCTL_EDATA with a message
 * that says what is wrong: the JSON error with its line and column, which input, which
 * row, which column, what value (the server sends it as a 400); MLCTL_ENOMEM.
 *
 * V2: {"id"?, "parameters"?, "inputs": [...], "outputs"?: [{"name": ...}]}, inputs either
 * one per schema input, named as the training columns (FP64, FP32 or an integer type for
 * numbers, BYTES for strings; shape [N] or [N,1]; id columns of the schema are accepted and
 * ignored), or one tensor "input" of a numeric datatype and shape [N, ninputs] in schema
 * input order. "data" is flat in row-major order or nested as the shape says. JSON null is
 * a missing value (imputed as a CSV's empty field is).
 * V1: {"instances": [{"col": v, ...}, ...]} (rows as objects) or
 * {"inputs": {"col": [v, ...], ...}} (columnar); "signature_name" is accepted and ignored.
 * Rows may also be arrays in schema input order ({"instances": [[1, 2, "KS"]]}).
 * Strict: unknown keys (at the top, in a V2 input, a V1 row's unknown column) are refused;
 * BOOL tensors are refused; integer datatypes take only integral values in their range.
 * Zero rows are accepted (the answer has empty outputs); more than 1,000,000 are refused.
 * An empty V2 "outputs" list is the same as none. len need not be followed by a NUL.
 */
int infer_parse(infer_request **out, infer_protocol p, const mlctl_schema *s, bool has_proba,
		const char *body, size_t len);
void infer_request_free(infer_request *r);

/* What one model answered for a request's rows. */
typedef struct infer_answer {
	const char *model_name;
	int model_version;
	const mlctl_schema *schema;     /* class names of the labels (classification) */
	bool classify;                  /* labels are classes (BYTES), else numbers (FP64) */
	size_t nrows;
	const double *labels;           /* nrows libsvm labels or predicted values */
	const double *prob;             /* nrows * nclasses, or NULL */
	size_t nclasses;
	const char *const *class_names; /* the probability columns' classes, in model order */
} infer_answer;

/*
 * Append the response to out. V2: {"model_name", "model_version" (a string), "id" (when
 * the request had one), "outputs": [predictions {BYTES|FP64, [N]}, probabilities {FP64,
 * [N,k], "parameters": {"classes": "<a JSON array of the class names, as text>"}}]} with
 * the outputs the request wants; V1: {"predictions": [...], "model_version": "3"} and,
 * with probabilities, "probabilities": [[...], ...] and "classes": [...]. Numbers as
 * mlctl_fmt_double() writes them (as `mlctl predict` does). 0 or MLCTL_ENOMEM.
 */
int infer_write_response(strbuf *out, infer_protocol p, const infer_request *req, const infer_answer *a);

/*
 * Append the V2 model metadata of a model to out: {"name", "versions": [..], "platform":
 * "libsvm", "inputs": [one per schema input: FP64 [-1] for numeric, BYTES [-1] for
 * categorical; then "input" FP64 [-1, ninputs]], "outputs": [predictions, probabilities
 * when has_proba]}. versions holds nversions version numbers.
 */
int infer_write_metadata(strbuf *out, const char *name, const int *versions, size_t nversions,
			 const mlctl_schema *s, bool classify, bool has_proba);

/*
 * For the prediction log (one JSON line per request, written by the server): append the
 * request's rows as a columnar object {"col": [v, ...], ...} over the schema's inputs in
 * input order (numbers as numbers, texts as strings, missing as null), and the answer as
 * {"predictions": [...], "probabilities": [[...], ...]} (probabilities when a->prob).
 */
int infer_write_log_inputs(strbuf *out, const infer_request *req, const mlctl_schema *s);
int infer_write_log_outputs(strbuf *out, const infer_answer *a);

/* Append {"error": "<msg>"} to out, msg JSON-escaped. 0 or MLCTL_ENOMEM. */
int infer_write_error(strbuf *out, const char *msg);

/* Append s as a JSON string (quoted, escaped; invalid UTF-8 replaced by U+FFFD). */
int infer_json_string(strbuf *out, const char *s);

#endif
