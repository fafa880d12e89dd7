/*
 * schema.h — the preprocessing learned at training time and applied unchanged at scoring
 * time (floor 2): column roles, numeric/categorical types, one-hot vocabularies, imputation,
 * scaling and the label map. Serialised as model/preprocess.yaml.
 */
#ifndef MLCTL_SCHEMA_H
#define MLCTL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include <libsvm/svm.h>

#include "dataset.h"

typedef enum { SCHEMA_SCALE_MINMAX = 0, SCHEMA_SCALE_STANDARD, SCHEMA_SCALE_NONE } schema_scale;
typedef enum { SCHEMA_TASK_CLASSIFY = 0, SCHEMA_TASK_REGRESS, SCHEMA_TASK_ONECLASS } schema_task;

bool schema_scale_parse(const char *name, schema_scale *out);
const char *schema_scale_name(schema_scale s);

typedef struct schema_options {
	const char *label;               /* NULL: "label", else the first column for libsvm */
	const char *const *id_columns;   /* carried through scoring, never features */
	size_t n_id_columns;
	const char *const *features;     /* NULL/0: every other column */
	size_t n_features;
	const char *const *exclude;
	size_t n_exclude;
	const char *const *categorical;  /* forced categorical columns */
	size_t n_categorical;
	schema_scale scale;
	schema_task task;
} schema_options;
#define SCHEMA_OPTIONS_INIT { NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0, SCHEMA_SCALE_MINMAX, SCHEMA_TASK_CLASSIFY }

typedef struct mlctl_schema mlctl_schema;

/* A design matrix in libsvm's form: x[i] points into nodes, each row ends with index -1,
 * zero values are omitted (as svm-scale does). y is NULL when there were no labels. */
typedef struct schema_matrix {
	struct svm_problem prob;    /* l, y, x */
	struct svm_node *nodes;
	int nfeatures;              /* largest feature index */
	size_t unseen_categories;   /* cells whose category was not in the vocabulary */
	size_t missing_cells;       /* cells imputed */
} schema_matrix;

/* What schema_infer_task() found in the label column. */
typedef struct schema_inference {
	schema_task task;       /* SCHEMA_TASK_CLASSIFY or SCHEMA_TASK_REGRESS */
	bool text;              /* some label is not a number */
	bool integers;          /* every label is an integer in int range (when !text) */
	size_t ndistinct;       /* distinct numeric labels (when !text) */
} schema_inference;

/* The inference rule, documented in mlctl-train(1): integer labels are classes when there
 * are at most this many distinct values, or at most one per this many rows. */
#define SCHEMA_INFER_MAX_CLASSES 20
#define SCHEMA_INFER_ROWS_PER_CLASS 20

/* Infer the task from the label column of t named by o->label (default "label") when the
 * user did not give one: text labels, or few distinct integers, are classification,
 * anything else regression. A table without that column gives classification (schema_fit
 * then reports the column). 0, or MLCTL_ENOMEM. */
int schema_infer_task(schema_inference *out, const ds_table *t, const schema_options *o);

/* Learn the schema from a training table (types, vocabularies, means, scale ranges,
 * labels). Fails with MLCTL_EDATA naming file/line/column for bad values, a missing label
 * column, a classification label with fewer than two classes, or a numeric classification
 * label that is not an integer in int range (libsvm's class labels are int). */
int schema_fit(mlctl_schema **out, const ds_table *t, const schema_options *opts);

/* Transform rows [rows[0..n)) of t (all rows when rows is NULL) into a matrix. with_labels
 * requires the label column and fills y. */
int schema_transform_table(schema_matrix **out, const mlctl_schema *s, const ds_table *t,
			   const size_t *rows, size_t n, bool with_labels);
void schema_matrix_free(schema_matrix *m);

/*
 * Streaming: bind a reader's columns to the schema once (a missing feature column is
 * MLCTL_EDATA naming it; extra columns are ignored), then transform each record into
 * out[0..*n_out) ending with index -1. cap must be at least schema_max_nodes(s).
 * *label is set (NaN when absent or the label column is missing) for validation.
 * out NULL checks the record (and parses it, schema_binding_cells) without encoding it.
 */
typedef struct schema_binding schema_binding;
int schema_bind(schema_binding **out, const mlctl_schema *s, const ds_reader *r);
size_t schema_max_nodes(const mlctl_schema *s);
int schema_transform_record(struct svm_node *out, size_t *n_out, double *label,
			    schema_binding *b, const ds_record *rec);
/*
 * Rows given value by value (a server's request): one cell per input, in input order
 * (schema_input_name). text is a cell as a CSV field would hold it (NULL, "", "?" and the
 * other missing markers are missing); has_num gives a number instead (a categorical input
 * then looks up its shortest text, "1" for 1.0). A number that is not finite, or a text
 * that is not a number for a numeric input, is MLCTL_EDATA naming "row ROW" and the
 * column. out has room for schema_max_nodes(s); unseen categories and imputed cells are
 * added to *cnt (may be NULL). Thread-safe: s is only read.
 */
typedef struct schema_cell {
	const char *text;
	double num;
	bool has_num;
	/* set by schema_transform_record for a categorical input: SCHEMA_CAT_PRESENT with cat
	 * its position in schema_input_category (-1: unseen), or SCHEMA_CAT_MISSING (cat: the
	 * position of the missing category, -1 when training saw none); else 0 */
	int cat_state;
	long cat;
} schema_cell;
enum { SCHEMA_CAT_PRESENT = 1, SCHEMA_CAT_MISSING = 2 };
typedef struct schema_counts {
	size_t unseen, missing;
} schema_counts;
int schema_encode_cells(struct svm_node *out, size_t *n_out, const mlctl_schema *s,
			const schema_cell *cells, size_t row, schema_counts *cnt);
/* The cells of the record b last transformed, one per input (borrowed, valid until the
 * next transform): each present value of a numeric input parsed (has_num, num), so that a
 * profile of the row need not parse it again; missing cells and categorical ones as read. */
const schema_cell *schema_binding_cells(const schema_binding *b);
/* Counters of the binding: unseen categories and imputed cells so far. */
size_t schema_binding_unseen(const schema_binding *b);
size_t schema_binding_missing(const schema_binding *b);
/* The id column's value in rec for the binding's id column i (borrowed), or NULL. */
const char *schema_binding_id(const schema_binding *b, const ds_record *rec, size_t i);
void schema_binding_free(schema_binding *b);

/* Serialise to YAML (fresh buffer) and back. origin names the source in errors. */
int schema_save(char **out, size_t *len, const mlctl_schema *s);
int schema_load(mlctl_schema **out, const char *yaml, size_t len, const char *origin);

schema_task schema_get_task(const mlctl_schema *s);
const char *schema_label_name(const mlctl_schema *s);
int schema_nfeatures(const mlctl_schema *s);
/* Input columns used as features (before one-hot), and the id columns. Borrowed. */
size_t schema_ninputs(const mlctl_schema *s);
const char *schema_input_name(const mlctl_schema *s, size_t i);
bool schema_input_is_categorical(const mlctl_schema *s, size_t i);
size_t schema_nid_columns(const mlctl_schema *s);
const char *schema_id_column(const mlctl_schema *s, size_t i);
/* Classes (classification): names in libsvm label order of the map, and conversions. */
size_t schema_nclasses(const mlctl_schema *s);
const char *schema_class_name(const mlctl_schema *s, size_t i);
double schema_class_value(const mlctl_schema *s, size_t i);
/* The class name for a libsvm label value (borrowed), NULL if unknown. */
const char *schema_class_for_value(const mlctl_schema *s, double v);
/* The libsvm label value for a class name; false if unknown. */
bool schema_value_for_class(const mlctl_schema *s, const char *name, double *v);
/* Feature indices of input i: [first, first + width) with width 1 for a numeric input and
 * its number of categories for a categorical one; category k's text (borrowed). */
int schema_input_first_index(const mlctl_schema *s, size_t i);
size_t schema_input_ncategories(const mlctl_schema *s, size_t i);
const char *schema_input_category(const mlctl_schema *s, size_t i, size_t k);
void schema_free(mlctl_schema *s);

#endif
