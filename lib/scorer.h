/*
 * scorer.h — fast batch scoring of dense data (floor 3). The support vectors are held as a
 * dense matrix and a block of rows is scored with one matrix product (CBLAS dgemm), with
 * precomputed squared norms for RBF; decisions follow libsvm exactly (one-vs-one voting,
 * ties to the lower class index, Platt sigmoid and pairwise coupling for probabilities).
 * svm_predict() stays the reference and the path for models this scorer does not take.
 */
#ifndef MLCTL_SCORER_H
#define MLCTL_SCORER_H

#include <stdbool.h>
#include <stddef.h>

#include <libsvm/svm.h>

typedef struct fast_scorer fast_scorer;

/* Build a scorer for m (which must outlive it). MLCTL_EUSAGE when the model cannot be
 * scored densely (precomputed kernel, or too many dimensions to hold densely). */
int scorer_create(fast_scorer **out, const struct svm_model *m);

/* Number of decision values per row: nr_class*(nr_class-1)/2, or 1 for one-class and
 * regression. */
size_t scorer_ndec(const fast_scorer *s);

/*
 * Score n rows (libsvm node arrays ending with index -1). labels[n] receives what
 * svm_predict() would return; dec (n x ndec, may be NULL) what svm_predict_values() gives;
 * prob (n x nr_class, may be NULL; requires a probability model) what
 * svm_predict_probability() gives, in which case labels follow it as libsvm's do.
 * For an SVR model with probability information (svm_check_probability_model() true) prob
 * is left untouched and labels are svm_predict()'s, as in libsvm; other models without
 * probabilities give MLCTL_EUSAGE. Rows must have ascending indices, as libsvm requires.
 * Thread-safe: several threads may score with one scorer at once.
 */
int scorer_predict(const fast_scorer *s, const struct svm_node *const *rows, size_t n,
		   double *labels, double *dec, double *prob);

void scorer_free(fast_scorer *s);

/* Seconds spent in each phase of scoring, accumulated by scorer_predict_profile(). */
typedef struct scorer_profile {
	double densify;		/* rows to the dense batch matrix */
	double dot;		/* X · SVᵀ (dgemm) */
	double kernel;		/* kernel function on the dot products */
	double reduce;		/* kernel values times coefficients (dgemm) */
	double decide;		/* decision values, votes, probabilities */
} scorer_profile;

/* scorer_predict() that also adds the time of each phase to *prof (for benchmarks). */
int scorer_predict_profile(const fast_scorer *s, const struct svm_node *const *rows, size_t n,
			   double *labels, double *dec, double *prob, scorer_profile *prof);

/* Set the rows per batch and support vectors per block (0 keeps the current value).
 * For tuning; not to be called while another thread scores with s. */
void scorer_set_blocking(fast_scorer *s, size_t batch_rows, size_t block_svs);

/* Use the kernels of one instruction set ("baseline", "avx2", "avx512", or "best", the
 * default: the widest the CPU has; a set the CPU lacks falls back to the next below it) and
 * return the name of the set now in use (isa NULL: only return it). Results within one set
 * are independent of batch and blocking; two sets may differ in the last bits. For tests and
 * benchmarks; not to be called while another thread scores with s. */
const char *scorer_set_kernels(fast_scorer *s, const char *isa);

#endif
