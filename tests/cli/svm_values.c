/*
 * svm_values.c — the reference for decision values in the predict tests: what libsvm itself
 * computes for each row of a libsvm-format file, printed with full precision. svm-predict
 * prints labels (and probabilities with 6 digits) but never decision values, so the tests
 * build this with `cc ... -lsvm` and compare mlctl predict --decision/--proba against it.
 *
 *   svm_values [-b] MODEL DATA  ->  one line per row: label dec1 ... [prob1 ...]
 *
 * Probabilities are in the model's label order (the order svm-predict -b 1 prints).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libsvm/svm.h>

int main(int argc, char **argv)
{
	struct svm_model *m;
	struct svm_node *x;
	double *dec, *prob, label;
	char *line = NULL;
	size_t cap = 0;
	int b = 0, nr, ndec, k, type;
	FILE *in;

	if (argc > 1 && strcmp(argv[1], "-b") == 0) {
		b = 1;
		argv++;
		argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: svm_values [-b] MODEL DATA\n");
		return 2;
	}
	if (!(m = svm_load_model(argv[1])) || !(in = fopen(argv[2], "r"))) {
		fprintf(stderr, "svm_values: cannot read %s or %s\n", argv[1], argv[2]);
		return 1;
	}
	nr = svm_get_nr_class(m);
	type = svm_get_svm_type(m);
	ndec = (type == ONE_CLASS || type == EPSILON_SVR || type == NU_SVR) ? 1 : nr * (nr - 1) / 2;
	dec = calloc((size_t)ndec, sizeof(*dec));
	prob = calloc((size_t)nr + 1, sizeof(*prob));
	x = calloc(4096, sizeof(*x));
	while (getline(&line, &cap, in) > 0) {
		char *p = line, *end;
		int n = 0;

		strtod(p, &end); /* the label */
		p = end;
		while (n < 4095) {
			long idx = strtol(p, &end, 10);

			if (end == p || *end != ':')
				break;
			x[n].index = (int)idx;
			x[n].value = strtod(end + 1, &p);
			n++;
		}
		x[n].index = -1;
		label = svm_predict_values(m, x, dec);
		if (b)
			label = svm_predict_probability(m, x, prob);
		printf("%.17g", label);
		for (k = 0; k < ndec; k++)
			printf(" %.17g", dec[k]);
		for (k = 0; b && k < nr; k++)
			printf(" %.17g", prob[k]);
		printf("\n");
	}
	free(line);
	free(x);
	free(dec);
	free(prob);
	fclose(in);
	svm_free_and_destroy_model(&m);
	return 0;
}
