/*
 * model.h — the libsvm wrapper (floor 3): parameters by name, deterministic training,
 * saving and loading the svm-train model text, safe loading of foreign model files.
 * libsvm's own output is silenced: lib/ never prints.
 */
#ifndef MLCTL_MODEL_H
#define MLCTL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libsvm/svm.h>

/* svm-train's defaults: C-SVC, RBF, C=1, gamma=0 (meaning 1/nfeatures at train time),
 * degree 3, coef0 0, nu 0.5, epsilon 0.1, cache 100 MB, eps 1e-3, shrinking on, no
 * probability, no class weights. */
void model_param_defaults(struct svm_parameter *p);

/* Set one parameter by name: type (c-svc|nu-svc|one-class|epsilon-svr|nu-svr), kernel
 * (linear|poly|rbf|sigmoid), C, gamma, degree, coef0, nu, epsilon (the SVR p), cache
 * (MB), tolerance, shrinking (0/1), probability (0/1). MLCTL_EUSAGE naming the parameter
 * and the value when either is wrong. */
int model_param_set(struct svm_parameter *p, const char *name, const char *value);
/* The same for a numeric parameter given as a number (tune's grid axes); the message
 * shows the value as %.17g. */
int model_param_set_number(struct svm_parameter *p, const char *name, double value);
/* True when name is a numeric parameter model_param_set() knows (C, gamma, degree, ...). */
bool model_param_is_numeric(const char *name);

/* Add a class weight (libsvm -wi). p owns copies of the arrays; release with
 * model_param_release(). */
int model_param_add_weight(struct svm_parameter *p, int label, double weight);
/* Deep copy (weights included), and release of the copied arrays. */
int model_param_copy(struct svm_parameter *dst, const struct svm_parameter *src);
void model_param_release(struct svm_parameter *p);

const char *model_type_name(int svm_type);
const char *model_kernel_name(int kernel_type);
bool model_is_classifier(int svm_type);

/*
 * Train on prob. gamma 0 becomes 1/nfeatures. The result is deterministic for the same
 * inputs and seed whatever other threads do: libsvm's probability code uses rand(), so
 * training that needs it runs under a process-wide lock after srand(seed).
 * The model keeps pointers into prob's nodes (libsvm's rule): keep prob alive, or use
 * model_save()/model_load() to detach it.
 */
int model_train(struct svm_model **out, const struct svm_problem *prob,
		const struct svm_parameter *p, int nfeatures, uint64_t seed);

/* svm_save_model's text, in the C locale, in a fresh buffer (*out, owned by the caller),
 * except that support-vector values are written with %.17g, not %.8g: loading the text
 * gives back the model's doubles exactly. svm-predict and svm_load_model read it. */
int model_save(char **out, size_t *len, const struct svm_model *m);

/* Load svm_save_model text. Validates the text first (header keys, counts, indices) so
 * that a malformed or hostile file is MLCTL_EDATA naming origin and line, never a crash. */
/* Silence libsvm's print function (process-wide: svm_set_print_string_function) and make
 * the C locale object the model reader uses; once, whoever calls first. Every function
 * here that needs it calls it itself. */
void model_init(void);
int model_load(struct svm_model **out, const char *text, size_t len, const char *origin);
/* The same text read by libsvm's svm_load_model() (which calls setlocale(): not for use
 * beside other threads), for the tests that compare model_load() with it. */
int model_load_libsvm(struct svm_model **out, const char *text, size_t len);
/* The check model_load() makes before libsvm sees the text: 0, or MLCTL_EDATA with
 * "origin:line: what is wrong". Stricter than libsvm (one key per line, each at most
 * once, nr_class before the arrays, exactly total_sv SV lines, finite numbers, ascending
 * indices, no precomputed kernel, at most 4096 classes, text under 1 GiB): everything
 * svm_save_model writes passes. */
int model_validate(const char *text, size_t len, const char *origin);

/* Number of support vectors; the largest feature index used by any support vector. */
int model_nsv(const struct svm_model *m);
int model_max_index(const struct svm_model *m);

void model_free(struct svm_model *m);

#endif
