/*
 * error.h — setting the thread-local last error (floor 1). Every failing function in lib/
 * sets the error once, where the file, line and field are known, and returns its code.
 */
#ifndef MLCTL_ERROR_H
#define MLCTL_ERROR_H

#include "mlctl/common.h"

/* Record code and a printf-formatted message as the last error; returns code. */
int mlctl_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record "out of memory"; returns MLCTL_ENOMEM. */
int mlctl_error_oom(void);

/* Record an errno failure: "<what>: <strerror(errno)>", with the code chosen from errno
 * (ENOENT → MLCTL_ENOTFOUND, otherwise fallback). Returns the code. */
int mlctl_error_errno(int fallback, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix the current message with "<prefix>: " (keeps the code); returns the code. */
int mlctl_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
