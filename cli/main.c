/* Placeholder replaced by the command table in the next commit. */
#include <stdio.h>
#include <string.h>

#include "mlctl.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0)
		printf("mlctl %s\n", mlctl_version());
	return 0;
}
