/*
 * bench/data_bench.c — times the versioned-data operations of libmlctl on one file:
 *   data_bench REGISTRY FILE store|checkout OUT|digest
 * prints "<op> <seconds>" (and the digest); built and run by bench/data.sh.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mlctl.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	mlctl_registry *reg;
	char d[65];
	uint64_t n = 0;
	bool hashed = false;
	double t0;
	int ret = 0;

	if (argc < 4)
		return 64;
	mlctl_registry_init(argv[1]);
	if (mlctl_registry_open(&reg, argv[1]))
		return 2;
	t0 = now();
	if (!strcmp(argv[3], "store"))
		ret = mlctl_data_store(d, reg, argv[2]);
	else if (!strcmp(argv[3], "checkout") && argc > 4)
		ret = mlctl_file_digest(d, reg, argv[2]) || mlctl_data_checkout(reg, d, argv[4], true, &n);
	else if (!strcmp(argv[3], "digest"))
		ret = mlctl_file_digest_ex(d, &hashed, reg, argv[2]);
	else
		ret = 64;
	if (ret)
		fprintf(stderr, "data_bench: %s\n", mlctl_error_last()->message);
	else
		printf("%s %.4f %s%s\n", argv[3], now() - t0, d, hashed ? " hashed" : "");
	mlctl_registry_free(reg);
	return ret ? 1 : 0;
}
