/*
 * The run loop: one pass, then wait for new mail (IDLE, or polling when
 * the server lacks it) until SIGTERM. The signals stay blocked while a
 * pass works (signals.c): the pass looks at them between messages, and
 * the waits unblock them, so reload and stop take effect at once without
 * ever breaking an IMAP or SMTP exchange half-way.
 */
#include <stdlib.h>
#include <sysexits.h>
#include <time.h>

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

int
daemon_run(struct pipeline *p)
{
	char			*cause = NULL;
	time_t			 backoff = 0;
	enum pipeline_status	 st;
	int			 r;

	sig_setup();
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
			log_warnx("%s", cause != NULL ? cause : "pass failed");
			free(cause);
			cause = NULL;
			pipeline_disconnect(p);
			/* 5 s doubling up to 5 min between attempts. */
			backoff = backoff == 0 ? 5 : backoff * 2;
			if (backoff > 300)
				backoff = 300;
			sig_sleep(backoff);
			continue;
		}
		backoff = 0;
		if (sig_stop() || sig_take_reload()) {
			/* Taken above for a reload: ask again for the loop. */
			if (!sig_stop())
				daemon_do_reload(p);
			continue;
		}
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
