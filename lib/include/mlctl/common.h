/*
 * mlctl/common.h — error codes, the last-error record, versions and progress callbacks:
 * what every other part of the API uses, and library initialisation. Implemented in
 * lib/error.c; mlctl_init() in lib/init.c.
 */
#ifndef MLCTL_COMMON_H
#define MLCTL_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Error codes. Stable: a code is never renumbered and never reused. Each maps to one
 * process exit status (sysexits) through mlctl_exit_status().
 */
typedef enum {
	MLCTL_OK = 0,
	MLCTL_ERROR = -1,       /* internal error, a bug or an impossible state (exit 70) */
	MLCTL_ENOMEM = -2,      /* out of memory (exit 70) */
	MLCTL_EUSAGE = -3,      /* invalid argument or option value (exit 64) */
	MLCTL_EDATA = -4,       /* malformed input data (exit 65) */
	MLCTL_ENOTFOUND = -5,   /* input file, run, model or object not found (exit 66) */
	MLCTL_EIO = -6,         /* read or write failed (exit 74) */
	MLCTL_ECREATE = -7,     /* cannot create an output file (exit 73) */
	MLCTL_ELOCKED = -8,     /* a lock is held by another process; retry later (exit 75) */
	MLCTL_ECONFIG = -9,     /* bad configuration: pipeline file, registry version (exit 78) */
	MLCTL_EVERDICT = -10,   /* a check said no: gate failed, drift, bad signature (exit 1) */
	MLCTL_EUNAVAIL = -11,   /* a service is unavailable (exit 69) */
	MLCTL_ECORRUPT = -12,   /* the registry or the store is damaged (exit 74) */
	MLCTL_EAMBIGUOUS = -13, /* an id prefix or a reference matches more than one thing (exit 64) */
	MLCTL_EEXISTS = -14,    /* the thing to create exists already (exit 73) */
	MLCTL_ENOREGISTRY = -15, /* no registry found (exit 66) */
	MLCTL_ECANCELED = -16   /* the caller cancelled the operation (exit 130) */
} mlctl_errcode;

/*
 * Library initialisation. libmlctl changes three things that belong to the whole process,
 * each once, the first time something needs it (or all at once when the host calls
 * mlctl_init(), which is thread-safe and idempotent — call it before starting threads to
 * have them happen at a known time):
 *
 *   - libsvm's print function is set to one that prints nothing
 *     (svm_set_print_string_function): a host that uses libsvm itself loses libsvm's
 *     training messages on stdout;
 *   - OpenBLAS, loaded with dlopen for the batch scorer, is set to one thread
 *     (openblas_set_num_threads(1)): the library runs its own worker threads, and a host
 *     linked with the same OpenBLAS sees one BLAS thread afterwards;
 *   - libsodium is initialised (sodium_init, itself thread-safe);
 *   - and, not at initialisation but whenever a model is trained with probability
 *     estimates, the C library's rand() is seeded (srand), because libsvm draws its
 *     cross-validation folds from it: this is done under a lock, so two trainings in two
 *     threads stay reproducible, but a host that uses rand() itself sees its sequence reset.
 *
 * The library never calls setlocale() (model text is read and written in a C locale set
 * for the calling thread only, with uselocale), installs no signal handler (operations
 * take a cancellation flag instead: see mlctl_predict_options.cancel), never writes to
 * stdout or stderr (output goes to a stream or a file the caller names) and never exits.
 * Threads the library starts block every signal, so signals reach the host's threads.
 * Returns 0, or MLCTL_ERROR when libsodium cannot be initialised.
 *
 * Threads: every function may be called from any thread. Handles are not shared: an
 * mlctl_registry is opened with SQLITE_OPEN_NOMUTEX and belongs to one thread at a time
 * (open one per thread: they share the registry safely, as separate processes do, with
 * SQLite's locking and busy timeout); results (mlctl_*_result, lists) belong to the caller.
 * Two mlctl_predict() calls may run at once in two threads, each with its own registry
 * handle. The last error is kept per thread (mlctl_error_last()).
 */
int mlctl_init(void);

/* The detail of the last failure in this thread: a code and a complete sentence. */
typedef struct mlctl_error {
	int code;
	char message[1024];
} mlctl_error;

/* The last error set in the calling thread (borrowed; never NULL; code 0 when none). */
const mlctl_error *mlctl_error_last(void);

/* Forget the last error of the calling thread. */
void mlctl_error_clear(void);

/* A short constant description of an error code ("bad input data"). */
const char *mlctl_strerror(int code);

/*
 * Process exit statuses (sysexits, as cron wrappers expect), as mlctl(1) documents them.
 * mlctl_exit_status() maps each error code to one of these; a front end uses the same
 * names for the statuses it decides itself (a usage error, a failed verdict).
 */
typedef enum {
	MLCTL_EXIT_OK = 0,
	MLCTL_EXIT_VERDICT = 1,       /* a check said no (MLCTL_EVERDICT) */
	MLCTL_EXIT_USAGE = 64,        /* EX_USAGE: MLCTL_EUSAGE, MLCTL_EAMBIGUOUS */
	MLCTL_EXIT_DATAERR = 65,      /* EX_DATAERR: MLCTL_EDATA */
	MLCTL_EXIT_NOINPUT = 66,      /* EX_NOINPUT: MLCTL_ENOTFOUND, MLCTL_ENOREGISTRY */
	MLCTL_EXIT_UNAVAILABLE = 69,  /* EX_UNAVAILABLE: MLCTL_EUNAVAIL */
	MLCTL_EXIT_SOFTWARE = 70,     /* EX_SOFTWARE: MLCTL_ERROR, MLCTL_ENOMEM, unknown codes */
	MLCTL_EXIT_CANTCREAT = 73,    /* EX_CANTCREAT: MLCTL_ECREATE, MLCTL_EEXISTS */
	MLCTL_EXIT_IOERR = 74,        /* EX_IOERR: MLCTL_EIO, MLCTL_ECORRUPT */
	MLCTL_EXIT_TEMPFAIL = 75,     /* EX_TEMPFAIL: MLCTL_ELOCKED */
	MLCTL_EXIT_CONFIG = 78,       /* EX_CONFIG: MLCTL_ECONFIG */
	MLCTL_EXIT_CANCELED = 130     /* 128 + SIGINT, as a shell reports it: MLCTL_ECANCELED */
} mlctl_exit_code;

/* The exit status a program should exit with for an error code (MLCTL_EXIT_OK for
 * MLCTL_OK, MLCTL_EXIT_SOFTWARE for a code it does not know). */
int mlctl_exit_status(int code);

/* The library version, "MAJOR.MINOR.PATCH". */
const char *mlctl_version(void);

/* The version of libsvm the library was built with, as libsvm numbers it (e.g. 324). */
int mlctl_libsvm_version(void);

/*
 * Progress reports from long operations (tuning, scoring). done and total count work
 * units; total is 0 when unknown. what is a short label ("grid", "rows"). Return false to
 * ask the operation to stop early (it then fails with MLCTL_ERROR and says so).
 */
typedef bool (*mlctl_progress_cb)(const char *what, uint64_t done, uint64_t total, void *payload);

#ifdef __cplusplus
}
#endif

#endif
