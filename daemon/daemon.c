/*
 * The run loop: one pass, then wait for new mail (IDLE, or polling when
 * the server lacks it) until SIGTERM. The signals stay blocked while a
 * pass works (signals.c): the pass looks at them between messages, and
 * the waits unblock them, so reload and stop take effect at once without
 * ever breaking an IMAP or SMTP exchange half-way.
 */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "imap.h"
#include "log.h"
#include "signals.h"

/* Parse configuration, rules and templates afresh; swap in only if clean. */
static void
daemon_do_reload(struct pipeline *p)
{
	struct diag	diag;

	diag_init(&diag);
	if (pipeline_reload(p, &diag) == -1) {
		diag_log(&diag);
		log_warnx("reload failed: %zu error%s; the old "
		    "configuration, rules and templates stay in force",
		    diag.nerrors,
		    diag.nerrors == 1 ? "" : "s");
	} else {
		diag_log(&diag);
		log_info("reloaded the configuration, rules and templates");
	}
	diag_free(&diag);
}

/*
 * Was the failure a refused login? Trying again fast only risks a lockout
 * by the provider; anything else (a server restarting, a network gap) is
 * worth trying again at once.
 */
static int
daemon_auth_failure(const char *cause)
{
	return (strstr(cause, "LOGIN failed") != NULL ||
	    strstr(cause, "AUTHENTICATE XOAUTH2 failed") != NULL);
}

/*
 * The next wait before reconnecting: 1 s doubling to 8 s (with the jitter
 * at most 10 s: a restarted server is found within 10 s of its return),
 * or to 5 min after a refused login.
 */
static time_t
daemon_backoff(time_t last, int auth)
{
	time_t	next = last == 0 ? 1 : last * 2;
	time_t	max = auth ? 300 : 8;

	return (next > max ? max : next);
}

/* 75% to 125% of t: many instances do not reconnect in step. */
static time_t
daemon_jitter(time_t t)
{
	time_t	j = t * (75 + random() % 51) / 100;

	return (j > 0 ? j : 1);
}

int
daemon_run(struct pipeline *p)
{
	char			*cause = NULL;
	time_t			 backoff = 0;
	int			 auth;
	enum pipeline_status	 st;
	int			 r;

	sig_setup();
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	log_info("started; watching %s", p->conf->imap.mailbox);
	while (!sig_stop()) {
		if (sig_take_reload())
			daemon_do_reload(p);
		st = pipeline_once(p, &cause);
		if (st == PIPELINE_LOCKED) {
			log_warnx("%s", cause);
			free(cause);
			return (EX_TEMPFAIL);
		}
		if (st == PIPELINE_CONFIG) {
			/* Trying again will not mend it: stop and say so. */
			log_errx("%s", cause != NULL ? cause : "configuration");
			free(cause);
			return (EX_CONFIG);
		}
		if (st != PIPELINE_OK) {
			auth = cause != NULL && daemon_auth_failure(cause);
			log_warnx("%s", cause != NULL ? cause : "pass failed");
			free(cause);
			cause = NULL;
			pipeline_disconnect(p);
			backoff = daemon_backoff(backoff, auth);
			sig_sleep(daemon_jitter(backoff));
			continue;
		}
		backoff = 0;
		if (sig_stop() || sig_take_reload()) {
			/* Taken above for a reload: ask again for the loop. */
			if (!sig_stop())
				daemon_do_reload(p);
			continue;
		}
		/* Wake for new mail, or when a deferred reply is due. */
		r = imap_wait(p->imap, pipeline_next_wake(p,
		    (unsigned)p->conf->triage.poll_interval),
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
