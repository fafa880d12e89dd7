/*
 * init.c — library initialisation (floor 4): the few settings that belong to the whole
 * process, made once, whoever calls first (see mlctl_init() in mlctl/common.h).
 */
#include "blas.h"
#include "model.h"
#include "sign.h"
#include "mlctl/common.h"
#include "banned.h"

int mlctl_init(void)
{
	model_init();
	blas_init();
	return sign_init();
}
