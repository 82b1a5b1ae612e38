/*
 * The signals triaged acts on (SIGHUP reload, SIGTERM and SIGINT stop).
 * They stay blocked while triaged works, so no system call in libetpan,
 * libcurl or SQLite is ever interrupted by one; the flags are read
 * between messages and the waits unblock them (ppoll, sigtimedwait).
 */
#ifndef TRIAGED_SIGNALS_H
#define TRIAGED_SIGNALS_H

#include <signal.h>
#include <time.h>

/* Install the flag-only handlers and block the signals from now on. */
void	sig_setup(void);
/* The set of signals triaged acts on. */
void	sig_set(sigset_t *);
/* Has a stop (SIGTERM, SIGINT) been asked for? Takes pending signals. */
int	sig_stop(void);
/* Has a reload (SIGHUP) been asked for? Clears the request. */
int	sig_take_reload(void);
/* Sleep up to secs, returning early when one of the signals arrives. */
void	sig_sleep(time_t secs);

#endif
