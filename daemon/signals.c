/*
 * Signals as flags (fdm style), with the signals blocked outside the
 * waits: a SIGHUP in the middle of a FETCH is taken after the message,
 * never as an interrupted read that breaks the IMAP session.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "signals.h"

static volatile sig_atomic_t	sig_quit;
static volatile sig_atomic_t	sig_reload;

/* Set the flag a signal stands for. */
static void
sig_note(int sig)
{
	if (sig == SIGHUP)
		sig_reload = 1;
	else if (sig == SIGTERM || sig == SIGINT)
		sig_quit = 1;
}

/* Flag-only handler: runs only inside a wait that unblocks the signals. */
static void
sig_handler(int sig)
{
	sig_note(sig);
}

void
sig_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
}

void
sig_setup(void)
{
	struct sigaction	sa;
	sigset_t		set;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sig_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sig_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Take every pending signal of ours without waiting. */
static void
sig_drain(void)
{
	struct timespec	zero = { 0, 0 };
	sigset_t	set, pending;
	int		sig;

	if (sigpending(&pending) == -1)
		return;
	if (!sigismember(&pending, SIGHUP) && !sigismember(&pending,
	    SIGTERM) && !sigismember(&pending, SIGINT))
		return;
	sig_set(&set);
	while ((sig = sigtimedwait(&set, NULL, &zero)) > 0)
		sig_note(sig);
}

int
sig_stop(void)
{
	sig_drain();
	return (sig_quit);
}

int
sig_take_reload(void)
{
	sig_drain();
	if (!sig_reload)
		return (0);
	sig_reload = 0;
	return (1);
}

void
sig_sleep(time_t secs)
{
	struct timespec	ts = { secs, 0 };
	sigset_t	set;
	int		sig;

	if (sig_stop() || sig_reload)
		return;
	sig_set(&set);
	/* The signals are blocked: sigtimedwait takes the first to come. */
	while ((sig = sigtimedwait(&set, NULL, &ts)) == -1 && errno == EINTR)
		;
	if (sig > 0)
		sig_note(sig);
}
