/*
 * check_infer.c — the infer module: V2 and V1 requests in every form, every refusal with
 * its message, the writers' exact text, and parity of the parsed cells with the CSV path
 * (schema_encode_cells vs schema_transform_record on the same rows).
 */
#include <math.h>

#include "check_util.h"
#include "dataset.h"
#include "infer.h"
#include "schema.h"
#include "mlctl/common.h"

/* Inputs in schema order: a (numeric), b (numeric), state (categorical); id column "id". */
static const char train_csv[] =
	"id,a,b,state,churn\n"
	"r1,1,10,KS,no\n"
	"r2,2,,OH,yes\n"
	"r3,3,30,KS,no\n"
	"r4,4,40,NY,yes\n"
	"r5,5,50,OH,no\n";

static mlctl_schema *schema;

static mlctl_schema *make_schema(schema_scale scale)
{
	const char *ids[] = { "id" };
	schema_options o = SCHEMA_OPTIONS_INIT;
	ds_reader *r = NULL;
	ds_table *t = NULL;
	mlctl_schema *s = NULL;

	o.label = "churn";
	o.id_columns = ids;
	o.n_id_columns = 1;
	o.scale = scale;
	ck_assert_int_eq(ds_reader_open_mem(&r, train_csv, strlen(train_csv), "train.csv", DS_FORMAT_CSV), 0);
	ck_assert_int_eq(ds_table_load_reader(&t, r), 0);
	ck_assert_msg(schema_fit(&s, t, &o) == 0, "%s", mlctl_error_last()->message);
	ds_table_free(t);
	ds_reader_free(r);
	return s;
}

static void setup(void)
{
	schema = make_schema(SCHEMA_SCALE_MINMAX);
	ck_assert_uint_eq(schema_ninputs(schema), 3);
	ck_assert_str_eq(schema_input_name(schema, 0), "a");
	ck_assert_str_eq(schema_input_name(schema, 2), "state");
}

static void teardown(void)
{
	schema_free(schema);
}

static infer_request *ok(infer_protocol p, bool has_proba, const char *body)
{
	infer_request *r = NULL;
	int ret = infer_parse(&r, p, schema, has_proba, body, strlen(body));

	ck_assert_msg(ret == 0, "%s: %s", body, mlctl_error_last()->message);
	return r;
}

/* The request is refused with MLCTL_EDATA and a message holding want. */
static void refused(infer_protocol p, bool has_proba, const char *body, size_t len, const char *want)
{
	infer_request *r = NULL;
	int ret = infer_parse(&r, p, schema, has_proba, body, len);

	ck_assert_msg(ret == MLCTL_EDATA, "%.200s: accepted (%d), wanted \"%s\"", body, ret, want);
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(mlctl_error_last()->message, want), "%.200s:\n got  \"%s\"\n want \"%s\"", body,
		      mlctl_error_last()->message, want);
}

static void no(infer_protocol p, const char *body, const char *want)
{
	refused(p, true, body, strlen(body), want);
}

static void cell_num(const infer_request *r, size_t row, size_t col, double v)
{
	const schema_cell *c = &r->cells[row * r->ninputs + col];

	ck_assert_msg(c->has_num && c->num == v, "cell %zu,%zu: %s %g", row, col, c->has_num ? "num" : "text",
		      c->num);
}

static void cell_text(const infer_request *r, size_t row, size_t col, const char *v)
{
	const schema_cell *c = &r->cells[row * r->ninputs + col];

	ck_assert(!c->has_num);
	if (!v)
		ck_assert_ptr_null(c->text);
	else
		ck_assert_str_eq(c->text, v);
}

START_TEST(test_infer_v2_columns)
{
	infer_request *r = ok(INFER_V2, true,
		"{\"id\":\"q1\",\"parameters\":{},\"inputs\":["
		"{\"name\":\"state\",\"datatype\":\"BYTES\",\"shape\":[2],\"data\":[\"KS\",null]},"
		"{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[2,1],\"data\":[[1.5],[null]]},"
		"{\"name\":\"id\",\"datatype\":\"BYTES\",\"shape\":[2],\"data\":[\"x\",\"y\"]},"
		"{\"name\":\"b\",\"datatype\":\"INT64\",\"shape\":[2,1],\"data\":[7,-3]}]}");

	ck_assert_str_eq(r->id, "q1");
	ck_assert_uint_eq(r->nrows, 2);
	ck_assert_uint_eq(r->ninputs, 3);
	cell_num(r, 0, 0, 1.5);
	cell_text(r, 1, 0, NULL);
	cell_num(r, 0, 1, 7);
	cell_num(r, 1, 1, -3);
	cell_text(r, 0, 2, "KS");
	cell_text(r, 1, 2, NULL);
	ck_assert(r->want_predictions && r->want_probabilities);
	infer_request_free(r);

	/* without probabilities in the model, none wanted; BYTES numbers kept as text; a
	 * number for a categorical input */
	r = ok(INFER_V2, false,
	       "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"2.5\"]},"
	       "{\"name\":\"b\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]},"
	       "{\"name\":\"state\",\"datatype\":\"FP64\",\"shape\":[1],\"data\":[3]}]}");
	ck_assert_ptr_null(r->id);
	ck_assert(r->want_predictions && !r->want_probabilities);
	cell_text(r, 0, 0, "2.5");
	cell_num(r, 0, 2, 3);
	infer_request_free(r);

	/* zero rows are allowed */
	r = ok(INFER_V2, false,
	       "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[0],\"data\":[]},"
	       "{\"name\":\"b\",\"datatype\":\"FP64\",\"shape\":[0],\"data\":[]},"
	       "{\"name\":\"state\",\"datatype\":\"BYTES\",\"shape\":[0,1],\"data\":[]}]}");
	ck_assert_uint_eq(r->nrows, 0);
	infer_request_free(r);
}
END_TEST

START_TEST(test_infer_v2_tensor)
{
	infer_request *r = ok(INFER_V2, true,
		"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP64\",\"shape\":[2,3],"
		"\"data\":[1,2,3,4,null,6]}],\"outputs\":[{\"name\":\"predictions\"}]}");

	ck_assert_uint_eq(r->nrows, 2);
	cell_num(r, 0, 0, 1);
	cell_num(r, 0, 2, 3);
	cell_num(r, 1, 0, 4);
	cell_text(r, 1, 1, NULL);
	ck_assert(r->want_predictions && !r->want_probabilities);
	infer_request_free(r);

	r = ok(INFER_V2, true,
	       "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"INT32\",\"shape\":[2,3],"
	       "\"data\":[[1,2,3],[4,5,6]]}],\"outputs\":[{\"name\":\"probabilities\"}]}");
	cell_num(r, 1, 2, 6);
	cell_num(r, 0, 1, 2);
	ck_assert(!r->want_predictions && r->want_probabilities);
	infer_request_free(r);
}
END_TEST

START_TEST(test_infer_v1_forms)
{
	infer_request *r = ok(INFER_V1, true,
		"{\"signature_name\":\"x\",\"instances\":[{\"a\":1,\"b\":\"2\",\"state\":\"KS\",\"id\":\"z\"},"
		"{\"a\":null,\"b\":3,\"state\":7}]}");

	ck_assert_uint_eq(r->nrows, 2);
	cell_num(r, 0, 0, 1);
	cell_text(r, 0, 1, "2");
	cell_text(r, 0, 2, "KS");
	cell_text(r, 1, 0, NULL);
	cell_num(r, 1, 2, 7);
	ck_assert(r->want_predictions && r->want_probabilities);
	infer_request_free(r);

	r = ok(INFER_V1, false, "{\"instances\":[[1,2,\"OH\"],[4,null,\"KS\"]]}");
	cell_num(r, 1, 0, 4);
	cell_text(r, 1, 1, NULL);
	cell_text(r, 0, 2, "OH");
	ck_assert(r->want_predictions && !r->want_probabilities);
	infer_request_free(r);

	r = ok(INFER_V1, false, "{\"inputs\":{\"state\":[\"KS\",\"OH\"],\"a\":[1,2],\"b\":[null,5],\"id\":[1,2]}}");
	ck_assert_uint_eq(r->nrows, 2);
	cell_num(r, 1, 0, 2);
	cell_num(r, 1, 1, 5);
	cell_text(r, 1, 2, "OH");
	infer_request_free(r);
}
END_TEST

START_TEST(test_infer_v2_errors)
{
	static const char *const cases[][2] = {
		{ "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[4],\"data\":[1,2,3,\"abc\"]}]}",
		  "input \"a\": datatype \"FP64\" but data[3] is the string \"abc\"" },
		{ "{\"inputs\":[{\"name\":\"state\",\"datatype\":\"BYTES\",\"shape\":[2],\"data\":[\"a\",\"b\",\"c\"]}]}",
		  "input \"state\": shape [2] but 3 data elements" },
		{ "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[1],\"data\":[1]},"
		  "{\"name\":\"state\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"a\"]}]}",
		  "missing input \"b\" (the model takes: a, b, state)" },
		{ "{\"inputs\":[{\"name\":\"foo\",\"datatype\":\"FP64\",\"shape\":[1],\"data\":[1]},"
		  "{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[1],\"data\":[1]}]}",
		  "unknown input \"foo\" (the model takes: a, b, state)" },
		{ "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[3],\"data\":[1,2,3]},"
		  "{\"name\":\"b\",\"datatype\":\"FP64\",\"shape\":[2],\"data\":[1,2]}]}",
		  "inputs: shape [N] of input \"a\" is 3 rows, input \"b\" has 2" },
		{ "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP64\",\"shape\":[2,5],\"data\":[1,2,3,4,5,6,7,8,9,10]}]}",
		  "input \"input\": shape [2,5] but the model takes 3 columns" },
		{ "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP64\",\"shape\":[2,3],\"data\":[[1,2,3],[4,5]]}]}",
		  "input \"input\": \"data\" is not nested as shape [2,3] says" },
		{ "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP64\",\"shape\":[1,3],\"data\":[[1,2,[3]]]}]}",
		  "not nested as shape [1,3] says" },
		{ "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[2],\"data\":[[1],[2]]}]}",
		  "input \"a\": shape [2] but data[0] is an array" },
		{ "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"INT64\",\"shape\":[1,3],\"data\":[1,2.5,3]}]}",
		  "input \"input\": datatype \"INT64\" but data[1] is the number 2.5, not an integer" },
		{ "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"UINT8\",\"shape\":[1,3],\"data\":[1,256,3]}]}",
		  "datatype \"UINT8\" but data[1] is the number 256" },
		{ "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"BOOL\",\"shape\":[1],\"data\":[true]}]}",
		  "input \"a\": datatype \"BOOL\" is not supported" },
		{ "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP128\",\"shape\":[1],\"data\":[1]}]}",
		  "input \"a\": unknown datatype \"FP128\"" },
		{ "{\"inputs\":[{\"name\":\"state\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[5]}]}",
		  "input \"state\": datatype \"BYTES\" but data[0] is the number 5" },
		{ "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[-1],\"data\":[]}]}",
		  "input \"a\": shape[0] is the number -1, not a non-negative integer" },
		{ "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[2000000],\"data\":[]}]}",
		  "at most 1000000 rows per request" },
		{ "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP64\",\"shape\":[1000000000,1000000000],\"data\":[]}]}",
		  "at most 1000000 rows per request" },
		{ "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[1],\"data\":[1]},"
		  "{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[1],\"data\":[1]}]}",
		  "input \"a\" given twice" },
		{ "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[1],\"data\":[1],\"junk\":1}]}",
		  "input \"a\": unknown key \"junk\"" },
		{ "{\"inputs\":[]}", "\"inputs\" must be a non-empty array" },
		{ "{\"id\":5,\"inputs\":[]}", "\"id\" must be a string, not the number 5" },
		{ "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP64\",\"shape\":[1,3],\"data\":[1,2,3]}],"
		  "\"outputs\":[{\"name\":\"foo\"}]}",
		  "outputs[0]: unknown output \"foo\" (predictions, probabilities)" },
		{ "{\"inputs\":[], \"extra\":1}", "unknown key \"extra\" in the request" },
		{ "[1,2]", "the request body must be a JSON object" },
		{ "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[1],\"data\":[1]},]}",
		  "invalid JSON at line 1, column" },
		{ "{\"id\":\"a\",\"id\":\"b\",\"inputs\":[]}", "duplicate object key" },
		{ "{\"inputs\":[]} x", "invalid JSON at line 1, column" },
		{ "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP64\",\"shape\":[1,3],\"data\":[1,2,1e999]}]}",
		  "invalid JSON at line 1" },
	};
	const char *body;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		no(INFER_V2, cases[i][0], cases[i][1]);
	body = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP64\",\"shape\":[1,3],\"data\":[1,2,3]}],"
	       "\"outputs\":[{\"name\":\"probabilities\"}]}";
	refused(INFER_V2, false, body, strlen(body),
		"outputs: probabilities: this model has no probability estimates (train it with --probability)");
	refused(INFER_V2, true, "", 0, "empty request body");
}
END_TEST

START_TEST(test_infer_v1_errors)
{
	no(INFER_V1, "{\"instances\":[{\"a\":1,\"b\":2,\"state\":\"KS\"},{\"a\":1,\"state\":\"KS\"}]}",
	   "instances[1]: missing column \"b\" (the model takes: a, b, state)");
	no(INFER_V1, "{\"instances\":[{\"a\":1,\"b\":2,\"state\":{}}]}",
	   "instances[0]: column \"state\": a number, a string or null expected, not an object");
	no(INFER_V1, "{\"instances\":[{\"a\":1,\"b\":2,\"state\":\"KS\",\"zz\":1}]}",
	   "instances[0]: unknown column \"zz\"");
	no(INFER_V1, "{\"instances\":[[1,2]]}", "instances[0]: 2 values but the model takes 3 columns");
	no(INFER_V1, "{\"instances\":[5]}", "instances[0]: a row is an object or an array, not the number 5");
	no(INFER_V1, "{\"instances\":[],\"inputs\":{}}", "not both");
	no(INFER_V1, "{}", "the request needs \"instances\"");
	no(INFER_V1, "{\"inputs\":{\"a\":[1],\"b\":[1,2],\"state\":[\"x\"]}}",
	   "inputs: input \"a\" has 1 rows, input \"b\" has 2");
	no(INFER_V1, "{\"inputs\":{\"a\":[1],\"b\":[1]}}", "missing input \"state\"");
	no(INFER_V1, "{\"inputs\":{\"a\":[1],\"b\":[1],\"state\":[\"x\"],\"q\":[1]}}", "unknown input \"q\"");
	no(INFER_V1, "{\"inputs\":{\"a\":[1],\"b\":[true],\"state\":[\"x\"]}}",
	   "input \"b\": data[0]: column \"b\": a number, a string or null expected, not true");
}
END_TEST

/* Long names and values are cut in messages; lists of names end in "…". */
START_TEST(test_infer_messages_bounded)
{
	char body[4096], big[1001];
	infer_request *r = NULL;

	memset(big, 'x', 1000);
	big[1000] = '\0';
	snprintf(body, sizeof(body), "{\"inputs\":[{\"name\":\"%s\",\"datatype\":\"FP64\",\"shape\":[1],"
		 "\"data\":[1]}]}", big);
	ck_assert_int_eq(infer_parse(&r, INFER_V2, schema, false, body, strlen(body)), MLCTL_EDATA);
	ck_assert_uint_lt(strlen(mlctl_error_last()->message), 300);
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "xxx\xe2\x80\xa6\""));
	snprintf(body, sizeof(body), "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[1],"
		 "\"data\":[\"%s\"]}]}", big);
	ck_assert_int_eq(infer_parse(&r, INFER_V2, schema, false, body, strlen(body)), MLCTL_EDATA);
	ck_assert_uint_lt(strlen(mlctl_error_last()->message), 300);
}
END_TEST

START_TEST(test_infer_deep_and_unterminated)
{
	size_t n = 10000, i;
	char *deep = malloc(2 * n + 1);
	const char *body = "{\"instances\":[[1,2,\"KS\"]]}";
	char *copy;
	infer_request *r = NULL;

	for (i = 0; i < n; i++) {
		deep[i] = '[';
		deep[n + i] = ']';
	}
	refused(INFER_V2, true, deep, 2 * n, "invalid JSON at line 1, column");
	ck_assert_ptr_nonnull(strstr(mlctl_error_last()->message, "depth"));
	refused(INFER_V2, true, deep, n, "invalid JSON");
	free(deep);

	/* a body that is not NUL-terminated (exact size allocation: ASan would see a read past) */
	copy = malloc(strlen(body));
	memcpy(copy, body, strlen(body));
	ck_assert_int_eq(infer_parse(&r, INFER_V1, schema, false, copy, strlen(body)), 0);
	ck_assert_uint_eq(r->nrows, 1);
	infer_request_free(r);
	/* the same bytes cut short */
	refused(INFER_V1, false, copy, strlen(body) - 1, "invalid JSON");
	free(copy);
}
END_TEST

START_TEST(test_infer_json_string)
{
	strbuf sb = MLCTL_STRBUF_INIT;

	ck_assert_int_eq(infer_json_string(&sb, "a\"b\\c\n\x01\x1f/\x7f"), 0);
	ck_assert_str_eq(sb.buf, "\"a\\\"b\\\\c\\u000a\\u0001\\u001f/\x7f\"");
	sb.len = 0;
	/* valid UTF-8 kept; a lone continuation byte, a truncated sequence, an overlong form
	 * and a surrogate each become U+FFFD */
	ck_assert_int_eq(infer_json_string(&sb, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\x80|\xe2\x82|\xc0\xaf|\xed\xa0\x80|\xff"), 0);
	ck_assert_str_eq(sb.buf, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
			 "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\"");
	sb.len = 0;
	ck_assert_int_eq(infer_write_error(&sb, "bad \"x\""), 0);
	ck_assert_str_eq(sb.buf, "{\"error\":\"bad \\\"x\\\"\"}");
	strbuf_release(&sb);
}
END_TEST

static void write_case(infer_protocol p, bool has_proba, const char *req_body, const infer_answer *a,
		       const char *want)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	infer_request *r = ok(p, has_proba, req_body);

	ck_assert_int_eq(infer_write_response(&sb, p, r, a), 0);
	ck_assert_str_eq(sb.buf, want);
	strbuf_release(&sb);
	infer_request_free(r);
}

START_TEST(test_infer_responses)
{
	static const double prob[] = { 0.75, 0.25, 0.1, 0.9 };
	static const char *const classes[] = { "no", "yes" };
	const char *v2 = "{\"id\":\"r1\",\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP64\",\"shape\":[2,3],"
			 "\"data\":[1,2,3,4,5,6]}]}";
	const char *v1 = "{\"instances\":[[1,2,\"KS\"],[4,5,\"OH\"]]}";
	infer_answer a = { "churn", 3, NULL, true, 2, NULL, prob, 2, classes };
	double lab[2], reg[2] = { 0.1 + 0.2, NAN };
	strbuf sb = MLCTL_STRBUF_INIT;
	infer_request *r;

	a.schema = schema;
	ck_assert(schema_value_for_class(schema, "no", &lab[0]) && schema_value_for_class(schema, "yes", &lab[1]));
	a.labels = lab;
	write_case(INFER_V2, true, v2, &a,
		   "{\"model_name\":\"churn\",\"model_version\":\"3\",\"id\":\"r1\",\"outputs\":["
		   "{\"name\":\"predictions\",\"datatype\":\"BYTES\",\"shape\":[2],\"data\":[\"no\",\"yes\"]},"
		   "{\"name\":\"probabilities\",\"datatype\":\"FP64\",\"shape\":[2,2],"
		   "\"parameters\":{\"classes\":\"[\\\"no\\\",\\\"yes\\\"]\"},\"data\":[0.75,0.25,0.1,0.9]}]}");
	write_case(INFER_V2, true,
		   "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP64\",\"shape\":[2,3],\"data\":[1,2,3,4,5,6]}],"
		   "\"outputs\":[{\"name\":\"probabilities\"}]}", &a,
		   "{\"model_name\":\"churn\",\"model_version\":\"3\",\"outputs\":["
		   "{\"name\":\"probabilities\",\"datatype\":\"FP64\",\"shape\":[2,2],"
		   "\"parameters\":{\"classes\":\"[\\\"no\\\",\\\"yes\\\"]\"},\"data\":[0.75,0.25,0.1,0.9]}]}");
	write_case(INFER_V1, true, v1, &a,
		   "{\"predictions\":[\"no\",\"yes\"],\"model_version\":\"3\","
		   "\"probabilities\":[[0.75,0.25],[0.1,0.9]],\"classes\":[\"no\",\"yes\"]}");
	/* a label the schema does not know falls back to its number */
	lab[1] = 42;
	a.prob = NULL;
	write_case(INFER_V1, false, v1, &a, "{\"predictions\":[\"no\",\"42\"],\"model_version\":\"3\"}");
	/* regression: numbers, non-finite as null */
	a.classify = false;
	a.labels = reg;
	write_case(INFER_V2, false, v2, &a,
		   "{\"model_name\":\"churn\",\"model_version\":\"3\",\"id\":\"r1\",\"outputs\":["
		   "{\"name\":\"predictions\",\"datatype\":\"FP64\",\"shape\":[2],\"data\":[0.30000000000000004,null]}]}");
	/* zero rows */
	a.nrows = 0;
	write_case(INFER_V1, false, "{\"instances\":[]}", &a, "{\"predictions\":[],\"model_version\":\"3\"}");

	/* the log's two halves */
	a.nrows = 2;
	a.classify = true;
	a.labels = lab;
	lab[1] = 0;
	a.prob = prob;
	r = ok(INFER_V1, true, "{\"instances\":[[1,\"2\",\"KS\"],[null,5,7]]}");
	ck_assert_int_eq(infer_write_log_inputs(&sb, r, schema), 0);
	ck_assert_str_eq(sb.buf, "{\"a\":[1,null],\"b\":[\"2\",5],\"state\":[\"KS\",7]}");
	sb.len = 0;
	ck_assert_int_eq(infer_write_log_outputs(&sb, &a), 0);
	ck_assert_str_eq(sb.buf, "{\"predictions\":[\"no\",\"no\"],\"probabilities\":[[0.75,0.25],"
			 "[0.1,0.9]]}");
	infer_request_free(r);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_infer_metadata)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	const int versions[] = { 3, 4 };

	ck_assert_int_eq(infer_write_metadata(&sb, "churn", versions, 2, schema, true, true), 0);
	ck_assert_str_eq(sb.buf, "{\"name\":\"churn\",\"versions\":[\"3\",\"4\"],\"platform\":\"libsvm\",\"inputs\":["
			 "{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[-1]},"
			 "{\"name\":\"b\",\"datatype\":\"FP64\",\"shape\":[-1]},"
			 "{\"name\":\"state\",\"datatype\":\"BYTES\",\"shape\":[-1]},"
			 "{\"name\":\"input\",\"datatype\":\"FP64\",\"shape\":[-1,3]}],"
			 "\"outputs\":[{\"name\":\"predictions\",\"datatype\":\"BYTES\",\"shape\":[-1]},"
			 "{\"name\":\"probabilities\",\"datatype\":\"FP64\",\"shape\":[-1,2]}]}");
	sb.len = 0;
	ck_assert_int_eq(infer_write_metadata(&sb, "p", versions, 1, schema, false, false), 0);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"versions\":[\"3\"]"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"outputs\":[{\"name\":\"predictions\",\"datatype\":\"FP64\",\"shape\":[-1]}]}"));
	strbuf_release(&sb);
}
END_TEST

/* The cells of a request encode to the same libsvm rows as the same rows read from CSV. */
START_TEST(test_infer_parity_with_csv)
{
	const char csv[] = "id,state,b,a\nq1,KS,10,1\nq2,,,2.5\nq3,TX,35,\nq4,OH,?,4\n";
	const char *v1 = "{\"instances\":[{\"id\":\"q1\",\"state\":\"KS\",\"b\":10,\"a\":1},"
			 "{\"state\":null,\"b\":\"\",\"a\":2.5},{\"state\":\"TX\",\"b\":35,\"a\":null},"
			 "{\"state\":\"OH\",\"b\":\"?\",\"a\":\"4\"}]}";
	const char *v2 = "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[4],\"data\":[1,2.5,null,4]},"
			 "{\"name\":\"b\",\"datatype\":\"BYTES\",\"shape\":[4,1],\"data\":[[\"10\"],[null],[\"35\"],[\"?\"]]},"
			 "{\"name\":\"state\",\"datatype\":\"BYTES\",\"shape\":[4],\"data\":[\"KS\",\"\",\"TX\",\"OH\"]}]}";
	const char *bodies[] = { v1, v2 };
	infer_protocol protos[] = { INFER_V1, INFER_V2 };
	size_t cap = schema_max_nodes(schema), k;

	for (k = 0; k < 2; k++) {
		struct svm_node *x = calloc(cap, sizeof(*x)), *y = calloc(cap, sizeof(*y));
		infer_request *r = ok(protos[k], false, bodies[k]);
		ds_reader *rd = NULL;
		schema_binding *b = NULL;
		const ds_record *rec;
		schema_counts cnt = { 0, 0 };
		size_t i, nx, ny;
		double label;

		ck_assert_int_eq(ds_reader_open_mem(&rd, csv, strlen(csv), "rows.csv", DS_FORMAT_CSV), 0);
		ck_assert_int_eq(schema_bind(&b, schema, rd), 0);
		for (i = 0; i < r->nrows; i++) {
			ck_assert_int_eq(ds_reader_next(rd, &rec), 1);
			ck_assert_int_eq(schema_transform_record(y, &ny, &label, b, rec), 0);
			ck_assert_msg(schema_encode_cells(x, &nx, schema, r->cells + i * r->ninputs, i + 1, &cnt) == 0,
				      "%s", mlctl_error_last()->message);
			ck_assert_uint_eq(nx, ny);
			ck_assert_msg(memcmp(x, y, (nx + 1) * sizeof(*x)) == 0, "row %zu differs", i);
		}
		ck_assert_uint_eq(r->nrows, 4);
		ck_assert_uint_eq(cnt.missing, schema_binding_missing(b));
		ck_assert_uint_eq(cnt.unseen, schema_binding_unseen(b));
		schema_binding_free(b);
		ds_reader_free(rd);
		infer_request_free(r);
		free(x);
		free(y);
	}
}
END_TEST

static Suite *infer_suite(void)
{
	Suite *s = suite_create("infer");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_infer_v2_columns);
	tcase_add_test(tc, test_infer_v2_tensor);
	tcase_add_test(tc, test_infer_v1_forms);
	tcase_add_test(tc, test_infer_v2_errors);
	tcase_add_test(tc, test_infer_v1_errors);
	tcase_add_test(tc, test_infer_messages_bounded);
	tcase_add_test(tc, test_infer_deep_and_unterminated);
	tcase_add_test(tc, test_infer_json_string);
	tcase_add_test(tc, test_infer_responses);
	tcase_add_test(tc, test_infer_metadata);
	tcase_add_test(tc, test_infer_parity_with_csv);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(infer_suite)
