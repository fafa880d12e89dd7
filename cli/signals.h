/*
 * signals.h — SIGINT, SIGTERM and SIGHUP during a cancellable library operation.
 *
 * The library installs no signal handler: it takes a cancellation flag and, once the flag is
 * set, stops, removes its temp files and fails with MLCTL_ECANCELED. cli_cancel_begin()
 * catches the three terminating signals (only those still at their default action: a job
 * started in the background of a shell keeps ignoring SIGINT) with a handler that sets the
 * flag, and cli_cancel_end() restores the old actions and, when a signal came, dies of that
 * signal, so that the caller (a shell, timeout(1), cron) sees how the job ended.
 */
#ifndef MLCTL_CLI_SIGNALS_H
#define MLCTL_CLI_SIGNALS_H

#include <signal.h>

/* Catch the signals; returns the flag to hand to the operation (its `cancel` option). */
const volatile sig_atomic_t *cli_cancel_begin(void);
/* Restore the signal actions; when one of the signals came meanwhile, re-raise it. */
void cli_cancel_end(void);

/*
 * A server's signals, for the whole of its life: SIGINT and SIGTERM set *stop (the server
 * drains and the command exits 0), SIGHUP bumps *reload (check the deploy targets now),
 * SIGPIPE is ignored (a client that hangs up is the server's business, not a death).
 * cli_server_stop() sets *stop from the program itself.
 */
void cli_server_signals(const volatile sig_atomic_t **stop, const volatile sig_atomic_t **reload);
void cli_server_stop(void);

#endif
