/*
 * score.c — batch scoring (floor 4). Three kinds of threads share a ring of batch slots:
 *
 *   the caller's thread reads records and copies them into a free slot;
 *   workers transform a slot's records, score them, format the output lines and profile
 *   the batch from the values the transform parsed (a batch profile);
 *   one writer writes finished slots strictly in input order, appends their profiles to
 *   the job's (profile_append: the profile of one pass, whatever the threads) and frees
 *   them.
 *
 * For monitor (score_capture_run) nothing is written, and without labels only a seeded
 * sample of the rows is scored: the writer keeps the sample's text, scored at the end.
 *
 * Memory is bounded by the number of slots times the batch size, whatever the input size.
 * The output goes to a temp file renamed at the end, so a killed job leaves no half file.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "dataset.h"
#include "error.h"
#include "fsutil.h"
#include "model.h"
#include "profile.h"
#include "rng.h"
#include "schema.h"
#include "score_int.h"
#include "scorer.h"
#include "util.h"
#include "mlctl/predict.h"
#include "mlctl/store.h"
#include "banned.h"

enum { SLOT_FREE = 0, SLOT_FILLED, SLOT_BUSY, SLOT_DONE };

typedef struct slot {
	int state;
	size_t seq;
	size_t n;                 /* records in the batch */
	/* copied records: text of every field in arena, offsets per field */
	strbuf arena;
	size_t *off;              /* n * nf offsets (CSV) or n label offsets (libsvm) */
	size_t off_cap;
	size_t *lines;
	int *sp_index;            /* libsvm pairs */
	double *sp_value;
	size_t *sp_start;         /* n + 1 */
	size_t sp_cap;
	/* results */
	strbuf out;
	/* rows the reader refused, each before good record read_rej_pos[k] */
	strbuf read_rej;
	size_t *read_rej_pos;
	size_t nread_rej;
	/* every bad row of the batch in input order (worker), one "file:line: why" a line */
	strbuf rejects;
	size_t nrejected;
	double *pred;
	double *label;            /* the label column's value (NaN: none), for a capture */
	unsigned char *ok;        /* row scored (not rejected) */
	mlctl_profile *prof;      /* the batch's rows profiled by its worker (slot_profiles) */
} slot;

typedef struct worker {
	pthread_t thread;
	struct score_job *job;
	schema_binding *binding;
	struct svm_node *nodes;   /* batch * max_nodes */
	struct svm_node **rows;
	double *labels, *dec, *prob;
	char **fields;            /* nf pointers for one record */
} worker;

/* Fields (CSV) per batch beyond which a batch takes fewer rows: 4M offsets, 32 MB a slot. */
#define SCORE_BATCH_CELLS ((size_t)4 << 20)

typedef struct score_job {
	const mlctl_predict_options *o;
	mlctl_bundle *b;
	ds_reader *reader;
	fast_scorer *scorer;
	size_t nf;                /* header columns (CSV) */
	bool libsvm;
	size_t batch;
	size_t nslots;
	slot *slots;
	size_t max_nodes;
	int nr_class, ndec;
	bool classify, want_proba, want_dec;
	size_t nout_cols;
	long *id_cols, *keep_cols; /* header indices */
	size_t nid, nkeep;
	const char **id_names, **keep_names;
	double *class_values;     /* model label order */
	const char **class_names;
	/* synchronisation */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next_work;         /* next seq a worker takes */
	size_t nfilled;           /* seqs filled so far */
	size_t next_write;
	bool reading_done, failed;
	mlctl_error err;
	/* writer state */
	FILE *out;
	FILE *rejects;
	char **wfields;           /* nf pointers: the writer's record for the profile */
	mlctl_profile *profile;
	size_t rows, rejected, unseen, imputed;
	size_t *class_counts;
	uint64_t progress_done;
	bool slot_profiles;       /* workers profile their batches, the writer appends them */
	score_capture *capture;   /* monitor's: no output, labels and predictions kept */
	/* monitor's seeded sample of rows to score for the predictions (sample_cap 0: score
	 * every row as it comes): the text of each row in the reservoir, scored at the end */
	size_t sample_cap, nsample, sample_alloc, sample_seen;
	uint64_t sample_rng;
	char **sample_text;
	size_t *sample_line;
	double *sample_pred;
} score_job;

static void job_fail(score_job *j, int code)
{
	pthread_mutex_lock(&j->mu);
	if (!j->failed) {
		j->failed = true;
		j->err = *mlctl_error_last();
		if (!j->err.code)
			j->err.code = code;
	}
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/* ---- output formatting ---- */

static int csv_field(strbuf *sb, const char *s)
{
	int ret = 0;

	if (!strpbrk(s, ",\"\r\n"))
		return strbuf_puts(sb, s);
	ret = strbuf_add(sb, "\"", 1);
	for (; *s && !ret; s++)
		ret = *s == '"' ? strbuf_add(sb, "\"\"", 2) : strbuf_add(sb, s, 1);
	return ret ? ret : strbuf_add(sb, "\"", 1);
}

static int json_string_out(strbuf *sb, const char *s)
{
	int ret = strbuf_add(sb, "\"", 1);

	for (; *s && !ret; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			ret = strbuf_printf(sb, "\\%c", c);
		else if (c < 0x20)
			ret = strbuf_printf(sb, "\\u%04x", c);
		else
			ret = strbuf_add(sb, s, 1);
	}
	return ret ? ret : strbuf_add(sb, "\"", 1);
}

static int num_out(strbuf *sb, double v)
{
	char buf[32];

	return strbuf_puts(sb, mlctl_fmt_double(buf, v));
}

/* The prediction as text: the class name for classifiers, the number otherwise. */
static const char *pred_text(const score_job *j, double v, char buf[32])
{
	if (j->classify) {
		const char *name = schema_class_for_value(j->b->schema, v);

		if (name)
			return name;
	}
	return mlctl_fmt_double(buf, v);
}

static int write_header(score_job *j)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	size_t i;
	int a, c, ret = 0;

	if (j->o->output_format == MLCTL_OUTPUT_JSONL || j->capture)
		return 0;
	for (i = 0; i < j->nid && !ret; i++)
		ret = csv_field(&sb, j->id_names[i]) || strbuf_add(&sb, ",", 1);
	for (i = 0; i < j->nkeep && !ret; i++)
		ret = csv_field(&sb, j->keep_names[i]) || strbuf_add(&sb, ",", 1);
	if (!ret)
		ret = strbuf_puts(&sb, "prediction");
	for (c = 0; j->want_proba && c < j->nr_class && !ret; c++)
		ret = strbuf_puts(&sb, ",p_") || csv_field(&sb, j->class_names[c]);
	if (j->want_dec) {
		if (j->ndec == 1)
			ret = ret || strbuf_puts(&sb, ",decision");
		else
			for (a = 0; a < j->nr_class; a++)
				for (c = a + 1; c < j->nr_class && !ret; c++)
					ret = strbuf_printf(&sb, ",decision_%s_%s", j->class_names[a], j->class_names[c]);
	}
	ret = ret || strbuf_add(&sb, "\n", 1);
	if (!ret && fwrite(sb.buf, 1, sb.len, j->out) != sb.len)
		ret = mlctl_error_errno(MLCTL_EIO, "cannot write the output");
	strbuf_release(&sb);
	return ret ? (ret < 0 ? ret : MLCTL_ENOMEM) : 0;
}

/* Field col of record r in slot s (CSV), or "" when out of range. */
static const char *slot_field(const score_job *j, const slot *s, size_t r, long col)
{
	if (col < 0 || j->libsvm)
		return "";
	return s->arena.buf + s->off[r * j->nf + (size_t)col];
}

static int format_row(score_job *j, slot *s, size_t r, const double *dec, const double *prob)
{
	strbuf *sb = &s->out;
	char buf[32];
	size_t i;
	int c, ret = 0;

	if (j->o->output_format == MLCTL_OUTPUT_JSONL) {
		ret = strbuf_add(sb, "{", 1);
		for (i = 0; i < j->nid && !ret; i++)
			ret = json_string_out(sb, j->id_names[i]) || strbuf_add(sb, ":", 1) ||
			      json_string_out(sb, slot_field(j, s, r, j->id_cols[i])) || strbuf_add(sb, ",", 1);
		for (i = 0; i < j->nkeep && !ret; i++)
			ret = json_string_out(sb, j->keep_names[i]) || strbuf_add(sb, ":", 1) ||
			      json_string_out(sb, slot_field(j, s, r, j->keep_cols[i])) || strbuf_add(sb, ",", 1);
		ret = ret || strbuf_puts(sb, "\"prediction\":");
		if (!ret)
			ret = j->classify ? json_string_out(sb, pred_text(j, s->pred[r], buf)) : num_out(sb, s->pred[r]);
		if (j->want_proba && prob) {
			ret = ret || strbuf_puts(sb, ",\"proba\":{");
			for (c = 0; c < j->nr_class && !ret; c++)
				ret = (c && strbuf_add(sb, ",", 1)) || json_string_out(sb, j->class_names[c]) ||
				      strbuf_add(sb, ":", 1) || num_out(sb, prob[c]);
			ret = ret || strbuf_add(sb, "}", 1);
		}
		if (j->want_dec && dec) {
			ret = ret || strbuf_puts(sb, j->ndec == 1 ? ",\"decision\":" : ",\"decision\":[");
			for (c = 0; c < j->ndec && !ret; c++)
				ret = (c && strbuf_add(sb, ",", 1)) || num_out(sb, dec[c]);
			ret = ret || (j->ndec > 1 && strbuf_add(sb, "]", 1));
		}
		ret = ret || strbuf_add(sb, "}\n", 2);
	} else {
		for (i = 0; i < j->nid && !ret; i++)
			ret = csv_field(sb, slot_field(j, s, r, j->id_cols[i])) || strbuf_add(sb, ",", 1);
		for (i = 0; i < j->nkeep && !ret; i++)
			ret = csv_field(sb, slot_field(j, s, r, j->keep_cols[i])) || strbuf_add(sb, ",", 1);
		ret = ret || csv_field(sb, pred_text(j, s->pred[r], buf));
		for (c = 0; j->want_proba && prob && c < j->nr_class && !ret; c++)
			ret = strbuf_add(sb, ",", 1) || num_out(sb, prob[c]);
		for (c = 0; j->want_dec && dec && c < j->ndec && !ret; c++)
			ret = strbuf_add(sb, ",", 1) || num_out(sb, dec[c]);
		ret = ret || strbuf_add(sb, "\n", 1);
	}
	return ret ? MLCTL_ENOMEM : 0;
}

/* ---- workers ---- */

/* Make record r of slot s into a ds_record for the schema. */
static void slot_record(const score_job *j, const slot *s, size_t r, ds_record *rec, char **fields)
{
	size_t f;

	memset(rec, 0, sizeof(*rec));
	rec->line = s->lines[r];
	if (j->libsvm) {
		rec->label = s->arena.buf + s->off[r];
		rec->nsparse = s->sp_start[r + 1] - s->sp_start[r];
		rec->index = s->sp_index + s->sp_start[r];
		rec->value = s->sp_value + s->sp_start[r];
	} else {
		for (f = 0; f < j->nf; f++)
			fields[f] = s->arena.buf + s->off[r * j->nf + f];
		rec->nfields = j->nf;
		rec->fields = fields;
	}
}

/* One reject line: the message with any line break in it (a quoted value) made a space,
 * so that the list stays one bad row per line. */
static int add_reject(strbuf *sb, const char *msg)
{
	size_t start = sb->len, i;

	if (strbuf_puts(sb, msg) || strbuf_add(sb, "\n", 1))
		return MLCTL_ENOMEM;
	for (i = start; i + 1 < sb->len; i++)
		if (sb->buf[i] == '\n' || sb->buf[i] == '\r')
			sb->buf[i] = ' ';
	return 0;
}

/* Move the reader's rejects that came before good record r into the slot's reject list,
 * so that the list is in input order. */
static int take_read_rejects(slot *s, size_t r, size_t *k, size_t *at)
{
	for (; *k < s->nread_rej && s->read_rej_pos[*k] == r; (*k)++) {
		const char *line = s->read_rej.buf + *at, *nl = strchr(line, '\n');
		size_t len = (size_t)(nl - line) + 1;

		if (strbuf_add(&s->rejects, line, len))
			return MLCTL_ENOMEM;
		*at += len;
		s->nrejected++;
	}
	return 0;
}

static int process_slot(score_job *j, worker *w, slot *s)
{
	size_t r, k, good = 0, ndec = (size_t)j->ndec, rk = 0, rat = 0;
	double label;
	int ret;

	s->out.len = 0;
	s->rejects.len = 0;
	s->nrejected = 0;
	for (r = 0; r <= s->n; r++) {
		ds_record rec;
		size_t nn;

		if (take_read_rejects(s, r, &rk, &rat))
			return MLCTL_ENOMEM;
		if (r == s->n)
			break;
		slot_record(j, s, r, &rec, w->fields);
		w->rows[good] = w->nodes + good * j->max_nodes;
		/* rows the sample scores later need only be checked and parsed now */
		ret = schema_transform_record(j->sample_cap ? NULL : w->rows[good], &nn, &label, w->binding, &rec);
		s->ok[r] = ret == 0;
		s->label[r] = label;
		if (ret == MLCTL_EDATA) {
			s->nrejected++;
			if (add_reject(&s->rejects, mlctl_error_last()->message))
				return MLCTL_ENOMEM;
			continue;
		}
		if (ret)
			return ret;
		/* the row's values as the transform parsed them, into the batch's profile */
		if (j->slot_profiles &&
		    (ret = profile_add_cells(s->prof, j->b->schema, schema_binding_cells(w->binding))))
			return ret;
		good++;
	}
	if (j->slot_profiles && (ret = profile_batch_finish(s->prof)))
		return ret;
	if (j->sample_cap) {
		/* the rows were checked (a bad one is a reject as ever); the sample is scored
		 * at the end */
		for (r = 0; r < s->n; r++)
			s->pred[r] = NAN;
		return 0;
	}
	if (j->scorer) {
		ret = scorer_predict(j->scorer, (const struct svm_node *const *)w->rows, good, w->labels,
				     j->want_dec ? w->dec : NULL, j->want_proba ? w->prob : NULL);
		if (ret)
			return ret;
	} else {
		for (k = 0; k < good; k++) {
			if (j->want_proba)
				w->labels[k] = svm_predict_probability(j->b->model, w->rows[k], w->prob + k * (size_t)j->nr_class);
			else
				w->labels[k] = svm_predict(j->b->model, w->rows[k]);
			if (j->want_dec)
				svm_predict_values(j->b->model, w->rows[k], w->dec + k * ndec);
		}
	}
	for (r = 0, k = 0; r < s->n; r++) {
		if (!s->ok[r])
			continue;
		s->pred[r] = w->labels[k];
		if (!j->capture && (ret = format_row(j, s, r, w->dec + k * ndec, w->prob + k * (size_t)j->nr_class)))
			return ret;
		k++;
	}
	return 0;
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	score_job *j = w->job;

	pthread_mutex_lock(&j->mu);
	for (;;) {
		slot *s;
		int ret;

		while (!j->failed && j->next_work >= j->nfilled && !j->reading_done)
			pthread_cond_wait(&j->cv, &j->mu);
		if (j->failed || j->next_work >= j->nfilled)
			break;
		s = &j->slots[j->next_work % j->nslots];
		j->next_work++;
		s->state = SLOT_BUSY;
		pthread_mutex_unlock(&j->mu);
		ret = process_slot(j, w, s);
		if (ret) {
			job_fail(j, ret);
			pthread_mutex_lock(&j->mu);
			break;
		}
		pthread_mutex_lock(&j->mu);
		s->state = SLOT_DONE;
		pthread_cond_broadcast(&j->cv);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* ---- writer ---- */

static int capture_row(score_capture *c, double label, double pred)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		double *l = mlctl_reallocarray(c->labels, cap, sizeof(double)), *p;

		if (!l)
			return mlctl_error_oom();
		c->labels = l;
		if (!(p = mlctl_reallocarray(c->pred, cap, sizeof(double))))
			return mlctl_error_oom();
		c->pred = p;
		c->cap = cap;
	}
	c->labels[c->n] = label;
	c->pred[c->n++] = pred;
	return 0;
}

/*
 * Offer good record r of slot s to the sample of rows to score: algorithm R over the good
 * rows in input order, on splitmix64 from a fixed seed, so that the same input gives the
 * same sample whatever the threads. A row taken keeps its fields' text (as the slot holds
 * them, NUL after each) until a later row replaces it.
 */
static int sample_offer(score_job *j, slot *s, size_t r)
{
	size_t t = j->sample_seen++, k, start, end, len;
	char *text;

	if (t < j->sample_cap) {
		k = t;
		if (k == j->sample_alloc) {
			size_t n = j->sample_alloc ? j->sample_alloc * 2 : 1024;
			char **nt;
			size_t *nl;

			if (n > j->sample_cap)
				n = j->sample_cap;
			if (!(nt = mlctl_reallocarray(j->sample_text, n, sizeof(*nt))))
				return mlctl_error_oom();
			j->sample_text = nt;
			if (!(nl = mlctl_reallocarray(j->sample_line, n, sizeof(*nl))))
				return mlctl_error_oom();
			j->sample_line = nl;
			memset(nt + j->sample_alloc, 0, (n - j->sample_alloc) * sizeof(*nt));
			j->sample_alloc = n;
		}
		j->nsample = t + 1;
	} else if ((k = rng_below(&j->sample_rng, t + 1)) >= j->sample_cap) {
		return 0;
	}
	start = s->off[r * j->nf];
	end = s->off[r * j->nf + j->nf - 1];
	end += strlen(s->arena.buf + end) + 1;
	len = end - start;
	if (!(text = mlctl_reallocarray(j->sample_text[k], len, 1)))
		return mlctl_error_oom();
	memcpy(text, s->arena.buf + start, len);
	j->sample_text[k] = text;
	j->sample_line[k] = s->lines[r];
	return 0;
}

static int write_slot(score_job *j, slot *s)
{
	size_t r;
	int ret = 0;

	if (s->out.len && fwrite(s->out.buf, 1, s->out.len, j->out) != s->out.len)
		return mlctl_error_errno(MLCTL_EIO, "cannot write the output");
	j->rejected += s->nrejected;
	if (s->nrejected) {
		if (j->rejected > j->o->max_errors) {
			/* name the bad row that went over the limit */
			const char *first = s->rejects.buf, *nl;
			size_t skip = j->o->max_errors - (j->rejected - s->nrejected);

			while (skip--)
				first = strchr(first, '\n') + 1;
			nl = strchr(first, '\n');
			if (j->o->max_errors)
				return mlctl_error_set(MLCTL_EDATA, "%.*s (more than --max-errors %zu bad rows)",
						       (int)(nl - first), first, j->o->max_errors);
			return mlctl_error_set(MLCTL_EDATA, "%.*s (use --max-errors N to skip bad rows)",
					       (int)(nl - first), first);
		}
		if (j->rejects && fwrite(s->rejects.buf, 1, s->rejects.len, j->rejects) != s->rejects.len)
			return mlctl_error_errno(MLCTL_EIO, "cannot write %s", j->o->rejects);
	}
	if (j->slot_profiles) {
		/* the slot goes back to the reader: its profile is empty for the next batch */
		if ((ret = profile_append(j->profile, s->prof)))
			return ret;
		profile_reset(s->prof, j->profile);
	}
	for (r = 0; r < s->n && !ret; r++) {
		ds_record rec;

		if (!s->ok[r])
			continue;
		j->rows++;
		if (j->classify) {
			int c;

			for (c = 0; c < j->nr_class; c++)
				if (j->class_values[c] == s->pred[r])
					j->class_counts[c]++;
		}
		if (j->capture && !isnan(s->label[r]) && (ret = capture_row(j->capture, s->label[r], s->pred[r])))
			break;
		if (j->profile) {
			if (!j->slot_profiles) {
				slot_record(j, s, r, &rec, j->wfields);
				ret = profile_add_record(j->profile, j->b->schema, j->reader, &rec);
			}
			if (!ret && !j->sample_cap)
				ret = profile_add_predictions(j->profile, j->b->schema, &s->pred[r], 1);
		}
		if (!ret && j->sample_cap)
			ret = sample_offer(j, s, r);
	}
	return ret;
}

static void *writer_main(void *arg)
{
	score_job *j = arg;

	pthread_mutex_lock(&j->mu);
	for (;;) {
		slot *s = &j->slots[j->next_write % j->nslots];
		int ret;

		while (!j->failed && !(j->next_write < j->nfilled && s->state == SLOT_DONE) &&
		       !(j->reading_done && j->next_write >= j->nfilled))
			pthread_cond_wait(&j->cv, &j->mu);
		if (j->failed || j->next_write >= j->nfilled)
			break;
		pthread_mutex_unlock(&j->mu);
		ret = write_slot(j, s);
		if (ret) {
			job_fail(j, ret);
			pthread_mutex_lock(&j->mu);
			break;
		}
		pthread_mutex_lock(&j->mu);
		s->state = SLOT_FREE;
		j->next_write++;
		pthread_cond_broadcast(&j->cv);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* ---- reading ---- */

static int copy_record(score_job *j, slot *s, const ds_record *rec)
{
	size_t r = s->n, f;

	if (s->n >= j->batch)
		return MLCTL_ERROR;
	s->lines[r] = rec->line;
	if (j->libsvm) {
		size_t need = s->sp_start[r] + rec->nsparse;

		s->off[r] = s->arena.len;
		if (strbuf_add(&s->arena, rec->label ? rec->label : "", rec->label ? strlen(rec->label) + 1 : 1))
			return MLCTL_ENOMEM;
		if (need > s->sp_cap) {
			size_t cap = need * 2;
			int *ni = mlctl_reallocarray(s->sp_index, cap, sizeof(*ni));
			double *nv;

			if (!ni)
				return MLCTL_ENOMEM;
			s->sp_index = ni;
			if (!(nv = mlctl_reallocarray(s->sp_value, cap, sizeof(*nv))))
				return MLCTL_ENOMEM;
			s->sp_value = nv;
			s->sp_cap = cap;
		}
		memcpy(s->sp_index + s->sp_start[r], rec->index, rec->nsparse * sizeof(int));
		memcpy(s->sp_value + s->sp_start[r], rec->value, rec->nsparse * sizeof(double));
		s->sp_start[r + 1] = need;
	} else {
		if (rec->nfields != j->nf)
			return mlctl_error_set(MLCTL_EDATA, "%s:%zu: %zu fields, the header has %zu",
					       ds_reader_path(j->reader), rec->line, rec->nfields, j->nf);
		if (rec->textlen && j->nf) {
			/* the fields one after another: one copy, the offsets from the first */
			size_t base = s->arena.len;

			if (strbuf_add(&s->arena, rec->fields[0], rec->textlen))
				return MLCTL_ENOMEM;
			for (f = 0; f < j->nf; f++)
				s->off[r * j->nf + f] = base + (size_t)(rec->fields[f] - rec->fields[0]);
			s->n++;
			return 0;
		}
		for (f = 0; f < j->nf; f++) {
			s->off[r * j->nf + f] = s->arena.len;
			if (strbuf_add(&s->arena, rec->fields[f], strlen(rec->fields[f]) + 1))
				return MLCTL_ENOMEM;
		}
	}
	s->n++;
	return 0;
}

static int slot_init(score_job *j, slot *s)
{
	size_t per = j->libsvm ? 1 : (j->nf ? j->nf : 1);

	s->off = mlctl_calloc(j->batch * per, sizeof(*s->off));
	s->lines = mlctl_calloc(j->batch, sizeof(*s->lines));
	s->sp_start = mlctl_calloc(j->batch + 1, sizeof(*s->sp_start));
	s->pred = mlctl_calloc(j->batch, sizeof(*s->pred));
	s->label = mlctl_calloc(j->batch, sizeof(*s->label));
	s->ok = mlctl_calloc(j->batch, sizeof(*s->ok));
	s->read_rej_pos = mlctl_calloc(j->batch, sizeof(*s->read_rej_pos));
	return s->off && s->lines && s->sp_start && s->pred && s->label && s->ok && s->read_rej_pos ? 0 : MLCTL_ENOMEM;
}

static void slot_release(slot *s)
{
	profile_free(s->prof);
	strbuf_release(&s->arena);
	strbuf_release(&s->out);
	strbuf_release(&s->rejects);
	strbuf_release(&s->read_rej);
	free(s->read_rej_pos);
	free(s->off);
	free(s->lines);
	free(s->sp_index);
	free(s->sp_value);
	free(s->sp_start);
	free(s->pred);
	free(s->label);
	free(s->ok);
}

/* The caller's thread: fill slots in sequence until the input ends. A row the reader
 * cannot parse is a reject like a row the schema cannot transform: it goes into the
 * slot's reject list and counts towards --max-errors. */
static int read_all(score_job *j)
{
	const ds_record *rec;
	int ret, r = 1;

	while (r != 0) {
		slot *s = &j->slots[j->nfilled % j->nslots];

		pthread_mutex_lock(&j->mu);
		while (!j->failed && s->state != SLOT_FREE)
			pthread_cond_wait(&j->cv, &j->mu);
		pthread_mutex_unlock(&j->mu);
		if (j->failed)
			return 0;
		if (mlctl_cancelled(j->o->cancel))
			return mlctl_error_set(MLCTL_ECANCELED, "scoring cancelled after %zu rows",
					       (size_t)j->progress_done);
		s->n = 0;
		s->nread_rej = 0;
		s->arena.len = 0;
		s->read_rej.len = 0;
		s->sp_start[0] = 0;
		while (s->n + s->nread_rej < j->batch) {
			r = ds_reader_next(j->reader, &rec);
			if (r == 0)
				break;
			if (r < 0 && ds_reader_failed(j->reader))
				return r; /* not one bad row: the input cannot be read on */
			ret = r < 0 ? r : copy_record(j, s, rec);
			if (ret == MLCTL_EDATA) {
				s->read_rej_pos[s->nread_rej++] = s->n;
				if (add_reject(&s->read_rej, mlctl_error_last()->message))
					return MLCTL_ENOMEM;
				if (r < 0)
					r = 1;
				continue;
			}
			if (ret < 0)
				return ret;
		}
		if (s->n == 0 && s->nread_rej == 0)
			return 0;
		pthread_mutex_lock(&j->mu);
		s->state = SLOT_FILLED;
		s->seq = j->nfilled++;
		j->progress_done += s->n;
		pthread_cond_broadcast(&j->cv);
		pthread_mutex_unlock(&j->mu);
		if (j->o->progress && !j->o->progress("rows", j->progress_done, 0, j->o->progress_payload))
			return mlctl_error_set(MLCTL_ERROR, "scoring interrupted");
	}
	return 0;
}

/* ---- set-up ---- */

/* Header index of a column by name, or a usage error naming the columns there are. */
static int find_column(long *out, const score_job *j, const char *name, const char *what)
{
	size_t i;

	if (j->libsvm)
		return mlctl_error_set(MLCTL_EUSAGE, "%s %s: libsvm files have no named columns", what, name);
	for (i = 0; i < j->nf; i++) {
		if (strcmp(ds_reader_colname(j->reader, i), name) == 0) {
			*out = (long)i;
			return 0;
		}
	}
	return mlctl_error_set(MLCTL_EDATA, "%s: %s column \"%s\" is not in the header", ds_reader_path(j->reader), what, name);
}

static int setup_columns(score_job *j)
{
	const mlctl_predict_options *o = j->o;
	size_t i, nid = o->n_id_columns;
	int ret;

	/* Default ids: the model's id columns that the input has. */
	j->id_names = mlctl_calloc(nid + schema_nid_columns(j->b->schema) + 1, sizeof(*j->id_names));
	j->id_cols = mlctl_calloc(nid + schema_nid_columns(j->b->schema) + 1, sizeof(*j->id_cols));
	j->keep_names = mlctl_calloc(o->n_keep + 1, sizeof(*j->keep_names));
	j->keep_cols = mlctl_calloc(o->n_keep + 1, sizeof(*j->keep_cols));
	if (!j->id_names || !j->id_cols || !j->keep_names || !j->keep_cols)
		return MLCTL_ENOMEM;
	for (i = 0; i < nid; i++) {
		if ((ret = find_column(&j->id_cols[j->nid], j, o->id_columns[i], "id")))
			return ret;
		j->id_names[j->nid++] = o->id_columns[i];
	}
	if (!nid && !j->libsvm) {
		for (i = 0; i < schema_nid_columns(j->b->schema); i++) {
			const char *name = schema_id_column(j->b->schema, i);

			if (find_column(&j->id_cols[j->nid], j, name, "id") == 0)
				j->id_names[j->nid++] = name;
			else
				mlctl_error_clear();
		}
	}
	for (i = 0; i < o->n_keep; i++) {
		if ((ret = find_column(&j->keep_cols[j->nkeep], j, o->keep[i], "--keep")))
			return ret;
		j->keep_names[j->nkeep++] = o->keep[i];
	}
	return 0;
}

static int setup_model(score_job *j)
{
	const struct svm_model *m = j->b->model;
	int labels[1024], c;

	j->nr_class = svm_get_nr_class(m);
	j->classify = model_is_classifier(svm_get_svm_type(m));
	j->ndec = j->classify && j->nr_class > 1 ? j->nr_class * (j->nr_class - 1) / 2 : 1;
	if (j->o->proba && !(j->classify && svm_check_probability_model(m)))
		return mlctl_error_set(MLCTL_EUSAGE, "--proba: %s:%d has no probability estimates (train it with --probability)",
				       j->b->name, j->b->version);
	j->want_proba = j->o->proba;
	j->want_dec = j->o->decision;
	if (!j->classify)
		j->nr_class = 1;
	if (j->nr_class > 1024)
		return mlctl_error_set(MLCTL_EDATA, "too many classes (%d)", j->nr_class);
	j->class_values = mlctl_calloc((size_t)j->nr_class, sizeof(*j->class_values));
	j->class_names = mlctl_calloc((size_t)j->nr_class, sizeof(*j->class_names));
	j->class_counts = mlctl_calloc((size_t)j->nr_class, sizeof(*j->class_counts));
	if (!j->class_values || !j->class_names || !j->class_counts)
		return MLCTL_ENOMEM;
	if (j->classify) {
		svm_get_labels(m, labels);
		for (c = 0; c < j->nr_class; c++) {
			const char *name = schema_class_for_value(j->b->schema, labels[c]);
			char buf[32];

			j->class_values[c] = labels[c];
			j->class_names[c] = mlctl_strdup(name ? name : mlctl_fmt_double(buf, labels[c]));
			if (!j->class_names[c])
				return MLCTL_ENOMEM;
		}
	}
	if (!j->o->no_fast && scorer_create(&j->scorer, m) != 0) {
		j->scorer = NULL; /* not dense-able: libsvm's own path */
		mlctl_error_clear();
	}
	j->max_nodes = schema_max_nodes(j->b->schema);
	return 0;
}

static int start_threads(score_job *j, worker *w, int nworkers, pthread_t *writer)
{
	size_t nd = (size_t)j->ndec, nc = (size_t)j->nr_class;
	int i;

	for (i = 0; i < nworkers; i++) {
		w[i].job = j;
		if (schema_bind(&w[i].binding, j->b->schema, j->reader))
			return mlctl_error_last()->code;
		w[i].nodes = mlctl_calloc(j->batch * j->max_nodes, sizeof(*w[i].nodes));
		w[i].rows = mlctl_calloc(j->batch, sizeof(*w[i].rows));
		w[i].labels = mlctl_calloc(j->batch, sizeof(*w[i].labels));
		w[i].dec = mlctl_calloc(j->batch * nd, sizeof(*w[i].dec));
		w[i].prob = mlctl_calloc(j->batch * nc, sizeof(*w[i].prob));
		w[i].fields = mlctl_calloc(j->nf + 1, sizeof(*w[i].fields));
		if (!w[i].nodes || !w[i].rows || !w[i].labels || !w[i].dec || !w[i].prob || !w[i].fields)
			return MLCTL_ENOMEM;
	}
	/* On the heap: a CSV may have millions of columns, more than a thread's stack holds. */
	if (!(j->wfields = mlctl_calloc(j->nf + 1, sizeof(*j->wfields))))
		return MLCTL_ENOMEM;
	for (i = 0; i < nworkers; i++) {
		if (mlctl_thread_start(&w[i].thread, worker_main, &w[i]) != 0) {
			w[i].thread = 0;
			return mlctl_error_set(MLCTL_ERROR, "cannot start a scoring thread");
		}
	}
	if (mlctl_thread_start(writer, writer_main, j) != 0)
		return mlctl_error_set(MLCTL_ERROR, "cannot start the writer thread");
	return 0;
}

/* Score the whole input; the output file is committed by the caller. */
static int score_input(score_job *j, int threads)
{
	worker *w = NULL;
	pthread_t writer = 0;
	int nworkers, i, ret;
	size_t k;

	nworkers = threads > 0 ? threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (nworkers < 1)
		nworkers = 1;
	if (nworkers > 64)
		nworkers = 64;
	j->nslots = (size_t)nworkers * 2 + 2;
	j->slots = mlctl_calloc(j->nslots, sizeof(*j->slots));
	w = mlctl_calloc((size_t)nworkers, sizeof(*w));
	if (!j->slots || !w) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	for (k = 0; k < j->nslots; k++)
		if ((ret = slot_init(j, &j->slots[k])) ||
		    (j->slot_profiles && (ret = profile_new_batch(&j->slots[k].prof, j->b->profile))))
			goto out;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	if ((ret = write_header(j)))
		goto out_sync;
	ret = start_threads(j, w, nworkers, &writer);
	if (!ret)
		ret = read_all(j);
	if (ret)
		job_fail(j, ret);
	pthread_mutex_lock(&j->mu);
	j->reading_done = true;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	for (i = 0; i < nworkers; i++)
		if (w[i].thread)
			pthread_join(w[i].thread, NULL);
	if (writer)
		pthread_join(writer, NULL);
	if (j->failed) {
		*(mlctl_error *)mlctl_error_last() = j->err;
		ret = j->err.code ? j->err.code : MLCTL_ERROR;
	}
out_sync:
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
out:
	for (i = 0; w && i < nworkers; i++) {
		if (w[i].binding) {
			j->unseen += schema_binding_unseen(w[i].binding);
			j->imputed += schema_binding_missing(w[i].binding);
		}
		schema_binding_free(w[i].binding);
		free(w[i].nodes);
		free(w[i].rows);
		free(w[i].labels);
		free(w[i].dec);
		free(w[i].prob);
		free(w[i].fields);
	}
	free(w);
	for (k = 0; j->slots && k < j->nslots; k++)
		slot_release(&j->slots[k]);
	free(j->slots);
	return ret;
}

/* ---- the sample of rows (monitor) ---- */

typedef struct sample_worker {
	pthread_t thread;
	score_job *job;
	size_t from, to;          /* sample rows [from, to) */
	int ret;
	mlctl_error err;
} sample_worker;

/* Score sample rows [from, to): the row's fields from its text, the schema, the scorer. */
static int score_sample_part(score_job *j, size_t from, size_t to)
{
	schema_binding *bind = NULL;
	size_t batch = j->batch, k, r, nn;
	struct svm_node *nodes = mlctl_calloc(batch * j->max_nodes, sizeof(*nodes));
	struct svm_node **rows = mlctl_calloc(batch, sizeof(*rows));
	double *labels = mlctl_calloc(batch, sizeof(*labels));
	char **fields = mlctl_calloc(j->nf + 1, sizeof(*fields));
	int ret;

	if (!nodes || !rows || !labels || !fields) {
		ret = mlctl_error_oom();
		goto out;
	}
	if ((ret = schema_bind(&bind, j->b->schema, j->reader)))
		goto out;
	for (k = from; k < to && !ret; k += batch) {
		size_t n = to - k < batch ? to - k : batch;

		for (r = 0; r < n && !ret; r++) {
			ds_record rec;
			char *p = j->sample_text[k + r];
			size_t f;
			double label;

			for (f = 0; f < j->nf; f++) {
				fields[f] = p;
				p += strlen(p) + 1;
			}
			memset(&rec, 0, sizeof(rec));
			rec.line = j->sample_line[k + r];
			rec.nfields = j->nf;
			rec.fields = fields;
			rows[r] = nodes + r * j->max_nodes;
			ret = schema_transform_record(rows[r], &nn, &label, bind, &rec);
		}
		if (ret)
			break;
		if (j->scorer) {
			ret = scorer_predict(j->scorer, (const struct svm_node *const *)rows, n, labels, NULL, NULL);
		} else {
			for (r = 0; r < n; r++)
				labels[r] = svm_predict(j->b->model, rows[r]);
		}
		if (!ret)
			memcpy(j->sample_pred + k, labels, n * sizeof(*labels));
	}
out:
	schema_binding_free(bind);
	free(nodes);
	free(rows);
	free(labels);
	free(fields);
	return ret;
}

static void *sample_main(void *arg)
{
	sample_worker *w = arg;

	w->ret = score_sample_part(w->job, w->from, w->to);
	if (w->ret)
		w->err = *mlctl_error_last();
	return NULL;
}

/* Score the sample on threads threads (each a contiguous part of it), then count its
 * predictions into the profile in sample order: the same sample gives the same profile. */
static int score_sample(score_job *j, int threads)
{
	sample_worker *w;
	size_t n = j->nsample, per;
	int nw = threads > 0 ? threads : (int)sysconf(_SC_NPROCESSORS_ONLN), i, ret = 0;

	if (!n)
		return 0;
	if (nw < 1)
		nw = 1;
	if (nw > 64)
		nw = 64;
	if ((size_t)nw > n)
		nw = (int)n;
	per = (n + (size_t)nw - 1) / (size_t)nw;
	if (!(j->sample_pred = mlctl_calloc(n, sizeof(*j->sample_pred))) || !(w = mlctl_calloc((size_t)nw, sizeof(*w))))
		return mlctl_error_oom();
	for (i = 0; i < nw; i++) {
		w[i].job = j;
		w[i].from = (size_t)i * per < n ? (size_t)i * per : n;
		w[i].to = w[i].from + per < n ? w[i].from + per : n;
	}
	/* the first part on this thread, the others on their own */
	for (i = 1; i < nw; i++)
		if (mlctl_thread_start(&w[i].thread, sample_main, &w[i]) != 0) {
			w[i].thread = 0;
			w[i].ret = mlctl_error_set(MLCTL_ERROR, "cannot start a scoring thread");
			w[i].err = *mlctl_error_last();
		}
	sample_main(&w[0]);
	for (i = 1; i < nw; i++)
		if (w[i].thread)
			pthread_join(w[i].thread, NULL);
	for (i = 0; i < nw && !ret; i++)
		if (w[i].ret) {
			ret = w[i].ret;
			*(mlctl_error *)mlctl_error_last() = w[i].err;
		}
	free(w);
	if (!ret && j->profile)
		ret = profile_add_predictions(j->profile, j->b->schema, j->sample_pred, n);
	return ret;
}

/* Whether the profile's inputs are the schema's, in its order: then the cells a transform
 * parsed can be profiled as they are (profile_add_cells). */
static bool profile_inputs_match(const mlctl_profile *p, const mlctl_schema *s)
{
	size_t i;

	if (profile_ninputs(p) != schema_ninputs(s))
		return false;
	for (i = 0; i < schema_ninputs(s); i++) {
		profile_stats st;

		if (!profile_input(p, i, &st) || strcmp(st.name, schema_input_name(s, i)) ||
		    st.categorical != schema_input_is_categorical(s, i))
			return false;
	}
	return true;
}

/* Whether the input has the model's label column (then every row is scored). */
static bool input_has_label(const score_job *j)
{
	const char *label = schema_label_name(j->b->schema);
	size_t i;

	if (j->libsvm)
		return true;
	for (i = 0; label && i < j->nf; i++)
		if (!strcmp(ds_reader_colname(j->reader, i), label))
			return true;
	return false;
}

/* Record the scoring run: what was scored with what, how much, and the profile. */
static int record_run(score_job *j, mlctl_registry *reg, mlctl_predict_result *res)
{
	const mlctl_predict_options *o = j->o;
	mlctl_metric *m = NULL;
	char *prof = NULL, **keys = NULL;
	size_t len, n = 0, c;
	int ret;

	mlctl_kv params[] = {
		{ "model", res->model }, { "input", (char *)o->input },
		{ "output", (char *)(o->output ? o->output : "-") },
		{ "format", o->output_format == MLCTL_OUTPUT_JSONL ? "jsonl" : "csv" },
		{ "scorer", res->fast ? "dense-batch" : "libsvm" },
	};
	if ((ret = mlctl_run_log_params(reg, res->run, params, sizeof(params) / sizeof(params[0]))))
		return ret;
	if ((ret = mlctl_run_set_model(reg, res->run, j->b->name, j->b->version)) ||
	    (ret = mlctl_run_log_object(reg, res->run, "input", "data", res->input_digest)) ||
	    (ret = mlctl_run_log_object(reg, res->run, "input", "model", j->b->model_digest)))
		return ret;
	/* six counts and one predicted[CLASS] per class, however many classes */
	if (!(m = mlctl_calloc(6 + res->nclasses, sizeof(*m))) ||
	    !(keys = mlctl_calloc(res->nclasses + 1, sizeof(*keys)))) {
		free(m);
		return MLCTL_ENOMEM;
	}
	m[n++] = (mlctl_metric){ "rows", (double)res->rows, 0 };
	m[n++] = (mlctl_metric){ "rows_rejected", (double)res->rejected, 0 };
	m[n++] = (mlctl_metric){ "unseen_categories", (double)res->unseen_categories, 0 };
	m[n++] = (mlctl_metric){ "imputed_cells", (double)res->imputed, 0 };
	m[n++] = (mlctl_metric){ "seconds", res->seconds, 0 };
	m[n++] = (mlctl_metric){ "rows_per_second", res->seconds > 0 ? (double)res->rows / res->seconds : 0, 0 };
	for (c = 0; c < res->nclasses && !ret; c++) {
		if (!(keys[c] = mlctl_asprintf("predicted[%s]", res->class_names[c])))
			ret = MLCTL_ENOMEM;
		else
			m[n++] = (mlctl_metric){ keys[c], (double)res->class_counts[c], 0 };
	}
	if (!ret)
		ret = mlctl_run_log_metrics(reg, res->run, m, n);
	for (c = 0; c < res->nclasses; c++)
		free(keys[c]);
	free(keys);
	free(m);
	if (ret || !j->profile)
		return ret;
	if ((ret = profile_save(&prof, &len, j->profile)))
		return ret;
	ret = mlctl_store_put(res->profile_digest, reg, prof, len, "application/yaml");
	if (!ret)
		ret = mlctl_run_log_object(reg, res->run, "output", "profile", res->profile_digest);
	free(prof);
	return ret;
}

static int open_outputs(score_job *j, fs_atomic **af, fs_atomic **rej)
{
	const mlctl_predict_options *o = j->o;
	int ret;

	if (j->capture)
		return 0; /* nothing is written */
	if (!o->output || strcmp(o->output, "-") == 0) {
		if (!o->out)
			return mlctl_error_set(MLCTL_EUSAGE, "no output: give an output file or an output stream");
		j->out = o->out;
	} else {
		/* What a job killed with SIGKILL left behind goes now. */
		fs_atomic_sweep(o->output);
		if ((ret = fs_atomic_open(af, o->output, 0644)))
			return ret;
		j->out = (*af)->fp;
	}
	if (o->rejects) {
		fs_atomic_sweep(o->rejects);
		if ((ret = fs_atomic_open(rej, o->rejects, 0644)))
			return ret;
		j->rejects = (*rej)->fp;
	}
	return 0;
}

static int fill_result(score_job *j, mlctl_predict_result *res)
{
	int c;

	res->rows = j->rows;
	res->rejected = j->rejected;
	res->unseen_categories = j->unseen;
	res->imputed = j->imputed;
	res->fast = j->scorer != NULL;
	res->nclasses = j->classify ? (size_t)j->nr_class : 0;
	if (!res->nclasses)
		return 0;
	res->class_names = mlctl_calloc(res->nclasses, sizeof(*res->class_names));
	res->class_counts = mlctl_calloc(res->nclasses, sizeof(*res->class_counts));
	if (!res->class_names || !res->class_counts)
		return MLCTL_ENOMEM;
	for (c = 0; c < j->nr_class; c++) {
		res->class_counts[c] = j->class_counts[c];
		if (!(res->class_names[c] = mlctl_strdup(j->class_names[c])))
			return MLCTL_ENOMEM;
	}
	return 0;
}

static void job_release(score_job *j)
{
	size_t k;
	int c;

	for (c = 0; j->class_names && c < j->nr_class; c++)
		free((void *)j->class_names[c]);
	free(j->class_names);
	free(j->class_values);
	free(j->class_counts);
	free(j->id_names);
	free(j->id_cols);
	free(j->keep_names);
	free(j->keep_cols);
	free(j->wfields);
	for (k = 0; k < j->nsample; k++)
		free(j->sample_text[k]);
	free(j->sample_text);
	free(j->sample_line);
	free(j->sample_pred);
	scorer_free(j->scorer);
	profile_free(j->profile);
	ds_reader_free(j->reader);
	bundle_free(j->b);
}

/* mlctl_predict(), or with capture (and its bundle b, borrowed) the scoring monitor asks for. */
static int predict_job(mlctl_predict_result **out, mlctl_registry *reg, const mlctl_predict_options *o,
		       score_capture *capture, mlctl_bundle *b)
{
	mlctl_run_start_options ro = MLCTL_RUN_START_OPTIONS_INIT;
	mlctl_predict_result *res;
	fs_atomic *af = NULL, *rej = NULL;
	score_job j = { 0 };
	ds_format fmt = DS_FORMAT_AUTO;
	double t0 = mlctl_monotonic();
	int ret, lockfd = -1;

	*out = NULL;
	if (!(res = mlctl_calloc(1, sizeof(*res))))
		return MLCTL_ENOMEM;
	j.o = o;
	j.capture = capture;
	/* monitor's batches are larger: fewer batch profiles to append */
	j.batch = o->batch_rows ? o->batch_rows : capture ? 2048 : 512;
	if (o->input_format && !ds_format_parse(o->input_format, &fmt)) {
		ret = mlctl_error_set(MLCTL_EUSAGE, "--input-format \"%s\": expected csv, tsv or libsvm", o->input_format);
		goto out;
	}
	if (o->lock && (ret = fs_lock_cancel(&lockfd, o->lock, o->lock_wait, o->cancel))) {
		if (ret == MLCTL_ELOCKED)
			mlctl_error_set(ret, "%s is held by another mlctl predict: not starting (exit 75; retry later)", o->lock);
		goto out;
	}
	if (b)
		j.b = b;
	else if ((ret = bundle_resolve(&j.b, reg, o->model, o->target)))
		goto out;
	res->model = mlctl_asprintf("%s:%d", j.b->name, j.b->version);
	if (!res->model) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if (reg && !o->no_record) {
		ro.kind = "predict";
		ro.name = j.b->name;
		ro.argc = o->argc;
		ro.argv = o->argv;
		if ((ret = mlctl_run_start(res->run, reg, &ro)))
			goto out;
	}
	if ((ret = ds_reader_open_cancel(&j.reader, o->input, fmt, o->cancel)))
		goto fail_run;
	if (capture)
		ds_reader_skip_digest(j.reader); /* monitor records no input digest */
	j.libsvm = ds_reader_format(j.reader) == DS_FORMAT_LIBSVM;
	j.nf = ds_reader_ncols(j.reader);
	/* A batch holds one offset per field and one node per feature of each row: on very
	 * wide input, fewer rows to a batch keep that within SCORE_BATCH_CELLS. */
	if (j.nf && j.batch > SCORE_BATCH_CELLS / j.nf)
		j.batch = SCORE_BATCH_CELLS / j.nf ? SCORE_BATCH_CELLS / j.nf : 1;
	if ((ret = setup_columns(&j)) || (ret = setup_model(&j)))
		goto fail_run;
	if (j.b->profile && (ret = profile_new_like(&j.profile, j.b->profile)))
		goto fail_run;
	j.slot_profiles = j.profile && j.batch <= PROFILE_SAMPLE && profile_inputs_match(j.b->profile, j.b->schema);
	if (capture && capture->score_rows && !input_has_label(&j)) {
		j.sample_cap = capture->score_rows;
		j.sample_rng = 0x73636f7265726f77ull; /* "scorerow" */
	}
	if ((ret = open_outputs(&j, &af, &rej)) || (ret = score_input(&j, o->threads)))
		goto fail_run;
	if (j.sample_cap && (ret = score_sample(&j, o->threads)))
		goto fail_run;
	if (!af && j.out && fflush(j.out) != 0) {
		ret = mlctl_error_errno(MLCTL_EIO, "cannot write the output stream");
		goto fail_run;
	}
	/* commit frees its argument whether it succeeds or not */
	ret = rej ? fs_atomic_commit(rej) : 0;
	rej = NULL;
	if (ret)
		goto fail_run;
	ret = af ? fs_atomic_commit(af) : 0;
	af = NULL;
	if (ret)
		goto fail_run;
	res->seconds = mlctl_monotonic() - t0;
	ds_reader_digest(j.reader, res->input_digest);
	if ((ret = fill_result(&j, res)))
		goto fail_run;
	if (res->run[0]) {
		if ((ret = record_run(&j, reg, res)) || (ret = mlctl_run_finish(reg, res->run, NULL)))
			goto fail_run;
	}
	if (capture) {
		capture->profile = j.profile;
		capture->rows = j.rows;
		capture->scored = j.sample_cap ? j.nsample : j.rows;
		j.profile = NULL;
	}
	*out = res;
	res = NULL;
	goto out;
fail_run:
	if (res->run[0])
		mlctl_run_fail(reg, res->run, ret);
out:
	fs_atomic_abort(af);
	fs_atomic_abort(rej);
	fs_unlock(lockfd);
	if (b)
		j.b = NULL; /* the caller's */
	job_release(&j);
	mlctl_predict_result_free(res);
	return ret;
}

int mlctl_predict(mlctl_predict_result **out, mlctl_registry *reg, const mlctl_predict_options *o)
{
	return predict_job(out, reg, o, NULL, NULL);
}

int score_capture_run(score_capture *c, mlctl_bundle *b, const char *input, const char *format, int threads,
		      size_t score_rows)
{
	mlctl_predict_options o = MLCTL_PREDICT_OPTIONS_INIT;
	mlctl_predict_result *res = NULL;
	int ret;

	memset(c, 0, sizeof(*c));
	c->score_rows = score_rows;
	o.input = input;
	o.input_format = format;
	o.threads = threads;
	o.no_record = true;
	ret = predict_job(&res, NULL, &o, c, b);
	mlctl_predict_result_free(res);
	if (ret) {
		profile_free(c->profile);
		free(c->labels);
		free(c->pred);
		memset(c, 0, sizeof(*c));
	}
	return ret;
}

void mlctl_predict_result_free(mlctl_predict_result *r)
{
	size_t c;

	if (!r)
		return;
	for (c = 0; r->class_names && c < r->nclasses; c++)
		free(r->class_names[c]);
	free(r->class_names);
	free(r->class_counts);
	free(r->model);
	free(r);
}
