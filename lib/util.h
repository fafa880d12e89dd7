/*
 * util.h — small helpers used everywhere in lib/ (floor 1): a growable string buffer,
 * checked allocation and number formatting in the C locale.
 */
#ifndef MLCTL_UTIL_H
#define MLCTL_UTIL_H

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable NUL-terminated byte buffer. MLCTL_STRBUF_INIT is an empty buffer. */
typedef struct strbuf {
	char *buf;
	size_t len, cap;
} strbuf;
#define MLCTL_STRBUF_INIT { NULL, 0, 0 }

int strbuf_grow(strbuf *sb, size_t extra);
int strbuf_add(strbuf *sb, const void *data, size_t len);
int strbuf_puts(strbuf *sb, const char *s);
int strbuf_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strbuf_vprintf(strbuf *sb, const char *fmt, va_list ap);
/* Hand the buffer to the caller (never NULL on success: an empty string). */
char *strbuf_detach(strbuf *sb, size_t *len);
void strbuf_release(strbuf *sb);

/* strdup that sets the last error on failure. */
char *mlctl_strdup(const char *s);
/* printf into a fresh allocation; NULL (and last error set) on failure. */
char *mlctl_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* calloc(n, size) with overflow checking; sets the last error on failure. */
void *mlctl_calloc(size_t n, size_t size);
/* realloc to n elements of size bytes, overflow-checked; on failure p is untouched. */
void *mlctl_reallocarray(void *p, size_t n, size_t size);

/* Format a double so that parsing it back gives the same value ("%.17g", C locale,
 * shortest form that round-trips). buf must hold 32 bytes. */
const char *mlctl_fmt_double(char buf[32], double v);
/* Length (1..4) of the valid UTF-8 sequence at s and its code point in *cp, or 0 when the
 * bytes there are not one (a stray continuation byte, a truncated, overlong or surrogate
 * form). s is NUL-terminated: a sequence cut by the NUL is not valid. */
size_t mlctl_utf8_decode(const unsigned char *s, unsigned long *cp);
/* Parse a whole string as a double in the C locale; false when it is not a number. */
/* Edit distance between a[0..alen) (compared lower-cased) and b, a short known name, for
 * "did you mean" suggestions; SIZE_MAX when b has 64 characters or more. */
size_t mlctl_edit_distance(const char *a, size_t alen, const char *b);
bool mlctl_parse_double(const char *s, double *out);
/* Parse a whole string as a decimal integer in [min, max]; false otherwise. */
bool mlctl_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* qsort comparators: ascending doubles (NaN compares equal to everything), ascending size_t. */
int mlctl_cmp_double(const void *a, const void *b);
int mlctl_cmp_size(const void *a, const void *b);

/* Wall-clock time in milliseconds since the epoch, and a monotonic clock in seconds. */
int64_t mlctl_now_ms(void);
double mlctl_monotonic(void);
/* ISO 8601 UTC "2026-11-27T02:51:52.123Z" for a time in ms. buf holds 32 bytes. */
const char *mlctl_fmt_time(char buf[32], int64_t ms);
/* The login name of the current user ($USER, else the passwd entry, else the uid). */
const char *mlctl_username(void);
/* The host name (cached). */
const char *mlctl_hostname(void);

/* pthread_create() for the library's own worker threads: they start with every signal
 * blocked, so that a signal meant for the host is delivered to one of the host's threads
 * (where it interrupts a blocking read) and never runs a handler on a library thread.
 * 0 on success, else pthread_create's error number. */
int mlctl_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg);

/* True when a caller's cancellation flag (an option `cancel`) is set. The flag is read
 * atomically: a signal handler sets it by plain assignment, another thread with an atomic
 * store (__atomic_store_n), and either is seen without a data race. */
static inline bool mlctl_cancelled(const volatile sig_atomic_t *flag)
{
	return flag && __atomic_load_n(flag, __ATOMIC_RELAXED) != 0;
}

#endif
