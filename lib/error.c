/*
 * error.c — the thread-local last error, error-code names and exit statuses (floor 1).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libsvm/svm.h>

#include "error.h"
#include "banned.h"

static _Thread_local mlctl_error last_error;

const mlctl_error *mlctl_error_last(void)
{
	return &last_error;
}

void mlctl_error_clear(void)
{
	last_error.code = 0;
	last_error.message[0] = '\0';
}

int mlctl_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error.message, sizeof(last_error.message), fmt, ap);
	va_end(ap);
	last_error.code = code;
	return code;
}

int mlctl_error_oom(void)
{
	return mlctl_error_set(MLCTL_ENOMEM, "out of memory");
}

int mlctl_error_errno(int fallback, const char *fmt, ...)
{
	int saved = errno;
	char what[768];
	va_list ap;
	int code = fallback;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (saved == ENOENT || saved == ENOTDIR)
		code = MLCTL_ENOTFOUND;
	else if (saved == ENOMEM)
		code = MLCTL_ENOMEM;
	return mlctl_error_set(code, "%s: %s", what, strerror(saved));
}

int mlctl_error_prefix(const char *fmt, ...)
{
	char prefix[512], old[sizeof(last_error.message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, last_error.message, sizeof(old));
	snprintf(last_error.message, sizeof(last_error.message), "%s: %s", prefix, old);
	return last_error.code;
}

const char *mlctl_strerror(int code)
{
	switch (code) {
	case MLCTL_OK: return "success";
	case MLCTL_ERROR: return "internal error";
	case MLCTL_ENOMEM: return "out of memory";
	case MLCTL_EUSAGE: return "invalid usage";
	case MLCTL_EDATA: return "bad input data";
	case MLCTL_ENOTFOUND: return "not found";
	case MLCTL_EIO: return "input/output error";
	case MLCTL_ECREATE: return "cannot create output";
	case MLCTL_ELOCKED: return "locked by another process";
	case MLCTL_ECONFIG: return "bad configuration";
	case MLCTL_EVERDICT: return "check failed";
	case MLCTL_EUNAVAIL: return "service unavailable";
	case MLCTL_ECORRUPT: return "registry or store damaged";
	case MLCTL_EAMBIGUOUS: return "ambiguous reference";
	case MLCTL_EEXISTS: return "already exists";
	case MLCTL_ENOREGISTRY: return "no registry";
	case MLCTL_ECANCELED: return "cancelled";
	}
	return "unknown error";
}

/* The exit status of each error code, indexed by -code: the one table of them (the
 * statuses' names are public, in common.h). */
static const unsigned char exit_status[] = {
	[-MLCTL_OK] = MLCTL_EXIT_OK,
	[-MLCTL_ERROR] = MLCTL_EXIT_SOFTWARE,
	[-MLCTL_ENOMEM] = MLCTL_EXIT_SOFTWARE,
	[-MLCTL_EUSAGE] = MLCTL_EXIT_USAGE,
	[-MLCTL_EDATA] = MLCTL_EXIT_DATAERR,
	[-MLCTL_ENOTFOUND] = MLCTL_EXIT_NOINPUT,
	[-MLCTL_EIO] = MLCTL_EXIT_IOERR,
	[-MLCTL_ECREATE] = MLCTL_EXIT_CANTCREAT,
	[-MLCTL_ELOCKED] = MLCTL_EXIT_TEMPFAIL,
	[-MLCTL_ECONFIG] = MLCTL_EXIT_CONFIG,
	[-MLCTL_EVERDICT] = MLCTL_EXIT_VERDICT,
	[-MLCTL_EUNAVAIL] = MLCTL_EXIT_UNAVAILABLE,
	[-MLCTL_ECORRUPT] = MLCTL_EXIT_IOERR,
	[-MLCTL_EAMBIGUOUS] = MLCTL_EXIT_USAGE,
	[-MLCTL_EEXISTS] = MLCTL_EXIT_CANTCREAT,
	[-MLCTL_ENOREGISTRY] = MLCTL_EXIT_NOINPUT,
	[-MLCTL_ECANCELED] = MLCTL_EXIT_CANCELED,
};

int mlctl_exit_status(int code)
{
	/* A code missing from the table (a hole reads 0) must not pass as success. */
	if (code > 0 || (size_t)-(long)code >= sizeof(exit_status) / sizeof(exit_status[0]) ||
	    (code != MLCTL_OK && exit_status[-code] == MLCTL_EXIT_OK))
		return MLCTL_EXIT_SOFTWARE;
	return exit_status[-code];
}

const char *mlctl_version(void)
{
	return MLCTL_VERSION;
}

int mlctl_libsvm_version(void)
{
	return LIBSVM_VERSION;
}
