/*
 * signals.c — the terminating signals during a cancellable operation (see signals.h).
 */
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "signals.h"

static const int cancel_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define NSIGNALS (sizeof(cancel_signals) / sizeof(cancel_signals[0]))

static struct sigaction saved[NSIGNALS];
static bool installed[NSIGNALS];
static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
}

const volatile sig_atomic_t *cli_cancel_begin(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a read blocked on a stalled pipe returns EINTR and the library looks
	 * at the flag. */
	sa.sa_flags = 0;
	caught = 0;
	for (i = 0; i < NSIGNALS; i++)
		installed[i] = sigaction(cancel_signals[i], NULL, &saved[i]) == 0 &&
			       saved[i].sa_handler == SIG_DFL && sigaction(cancel_signals[i], &sa, NULL) == 0;
	return &caught;
}

void cli_cancel_end(void)
{
	sigset_t set;
	size_t i;
	int sig = caught;

	for (i = 0; i < NSIGNALS; i++)
		if (installed[i])
			sigaction(cancel_signals[i], &saved[i], NULL);
	if (!sig)
		return;
	/* The action is the default again: die of the signal. */
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

static volatile sig_atomic_t server_stop, server_reload;

static void on_server_signal(int sig)
{
	if (sig == SIGHUP)
		server_reload++;
	else
		server_stop = sig;
}

void cli_server_signals(const volatile sig_atomic_t **stop, const volatile sig_atomic_t **reload)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_server_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	*stop = &server_stop;
	*reload = &server_reload;
}

void cli_server_stop(void)
{
	server_stop = SIGTERM;
}
