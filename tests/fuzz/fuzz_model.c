/*
 * fuzz_model.c — model_load() on arbitrary bytes. Whatever it accepts must be a model
 * libsvm can save and predict with: a validated model that crashes svm_predict is a bug
 * in the validator.
 */
#include <stdint.h>
#include <stdlib.h>

#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct svm_node x[] = { { 1, 0.5 }, { 2, -0.25 }, { 7, 1.0 }, { -1, 0 } };
	struct svm_model *m = NULL;
	double prob[64];
	size_t len;
	char *text;

	if (model_load(&m, (const char *)data, size, "fuzz") != 0)
		return 0;
	svm_predict(m, x);
	if (m->nr_class <= 64 && svm_check_probability_model(m))
		svm_predict_probability(m, x, prob);
	model_nsv(m);
	model_max_index(m);
	if (model_save(&text, &len, m) == 0)
		free(text);
	model_free(m);
	return 0;
}
