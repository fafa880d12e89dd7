/*
 * svm_reader.h — a small reader of libsvm sparse files ("label idx:val ...") into a
 * struct svm_problem, for the model and tune unit tests only (the real reader is the
 * dataset module's). Aborts the test on malformed input: the test data is known.
 */
#ifndef MLCTL_TEST_SVM_READER_H
#define MLCTL_TEST_SVM_READER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libsvm/svm.h>

struct test_problem {
	struct svm_problem prob;
	struct svm_node *nodes;
	int nfeatures;          /* the largest index seen */
};

static void test_problem_free(struct test_problem *tp)
{
	free(tp->prob.x);
	free(tp->prob.y);
	free(tp->nodes);
	memset(tp, 0, sizeof(*tp));
}

/* Read path; returns 0, or -1 when the file cannot be read or parsed. */
static int test_problem_read(struct test_problem *tp, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[65536];
	size_t nrows = 0, nnodes = 0, r = 0, k = 0;
	long *starts;

	memset(tp, 0, sizeof(*tp));
	if (!f)
		return -1;
	/* First pass: count rows and pairs. */
	while (fgets(line, sizeof(line), f)) {
		char *p;

		nrows++;
		for (p = line; (p = strchr(p, ':')); p++)
			nnodes++;
	}
	rewind(f);
	tp->prob.l = (int)nrows;
	tp->prob.y = calloc(nrows, sizeof(double));
	tp->prob.x = calloc(nrows, sizeof(struct svm_node *));
	tp->nodes = calloc(nnodes + nrows, sizeof(struct svm_node));
	starts = calloc(nrows, sizeof(long));
	if (!tp->prob.y || !tp->prob.x || !tp->nodes || !starts)
		abort();
	while (fgets(line, sizeof(line), f) && r < nrows) {
		char *p = line, *end;

		tp->prob.y[r] = strtod(p, &end);
		if (end == p)
			goto fail;
		p = end;
		starts[r] = (long)k;
		for (;;) {
			long idx;

			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '\n' || *p == '\0')
				break;
			idx = strtol(p, &end, 10);
			if (end == p || *end != ':')
				goto fail;
			p = end + 1;
			tp->nodes[k].index = (int)idx;
			tp->nodes[k].value = strtod(p, &end);
			if (end == p)
				goto fail;
			if (idx > tp->nfeatures)
				tp->nfeatures = (int)idx;
			p = end;
			k++;
		}
		tp->nodes[k++].index = -1;
		r++;
	}
	for (r = 0; r < nrows; r++)
		tp->prob.x[r] = &tp->nodes[starts[r]];
	free(starts);
	fclose(f);
	return 0;
fail:
	free(starts);
	fclose(f);
	test_problem_free(tp);
	return -1;
}

/* Whole file into a fresh NUL-terminated buffer (test helper). */
__attribute__((unused))
static char *test_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

#endif
