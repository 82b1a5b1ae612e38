/*
 * The run loop: one pass, then wait for new mail (IDLE, or polling when
 * the server lacks it) until SIGTERM. Signal handlers only set flags; the
 * wait returns on a signal so reload and stop take effect at once.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "daemon.h"
#include "imap.h"
#include "log.h"

static volatile sig_atomic_t	daemon_quit;
static volatile sig_atomic_t	daemon_reload;

/* Flag-only handler (fdm style). */
static void
daemon_signal(int sig)
{
	if (sig == SIGHUP)
		daemon_reload = 1;
	else
		daemon_quit = 1;
}

/* Install handlers without SA_RESTART so blocking waits return EINTR. */
static void
daemon_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = daemon_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* Sleep up to secs, returning early on a signal. */
static void
daemon_sleep(time_t secs)
{
	struct timespec	ts = { secs, 0 };

	if (!daemon_quit && !daemon_reload)
		nanosleep(&ts, NULL);
}

/* Parse rules and templates afresh; swap them in only if clean. */
static void
daemon_do_reload(struct pipeline *p)
{
	struct diag	diag;

	diag_init(&diag);
	if (pipeline_reload(p, &diag) == -1) {
		diag_log(&diag);
		log_warnx("reload failed: %zu error%s; the old rules and "
		    "templates stay in force", diag.nerrors,
		    diag.nerrors == 1 ? "" : "s");
	} else {
		diag_log(&diag);
		log_info("reloaded rules and templates");
	}
	diag_free(&diag);
}

int
daemon_run(struct pipeline *p)
{
	char			*cause = NULL;
	time_t			 backoff = 0;
	enum pipeline_status	 st;
	int			 r;

	daemon_signals();
	log_info("started; watching %s", p->conf->imap.mailbox);
	while (!daemon_quit) {
		if (daemon_reload) {
			daemon_reload = 0;
			daemon_do_reload(p);
		}
		st = pipeline_once(p, &cause);
		if (st != PIPELINE_OK) {
			log_warnx("%s", cause != NULL ? cause : "pass failed");
			free(cause);
			cause = NULL;
			pipeline_disconnect(p);
			/* 5 s doubling up to 5 min between attempts. */
			backoff = backoff == 0 ? 5 : backoff * 2;
			if (backoff > 300)
				backoff = 300;
			daemon_sleep(backoff);
			continue;
		}
		backoff = 0;
		if (daemon_quit || daemon_reload)
			continue;
		r = imap_wait(p->imap, (unsigned)p->conf->triage.poll_interval,
		    &cause);
		if (r == -1) {
			log_warnx("%s", cause != NULL ? cause :
			    "connection lost");
			free(cause);
			cause = NULL;
			pipeline_disconnect(p);
		}
	}
	log_info("stopping");
	return (EX_OK);
}
