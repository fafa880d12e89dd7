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

#endif
