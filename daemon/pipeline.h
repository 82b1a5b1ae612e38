/*
 * One message's way through triaged, as plain calls: fetch, parse, guard,
 * classify, compose, record, send, file. Shared by once, run and classify.
 */
#ifndef TRIAGED_PIPELINE_H
#define TRIAGED_PIPELINE_H

#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "diag.h"
#include "guard.h"
#include "mime.h"
#include "rules.h"
#include "template.h"

struct store;
struct imap;
struct smtp;

struct pipeline {
	struct conf		*conf;
	struct ruleset		*rules;
	struct tmplset		*tmpls;
	struct mime_limits	 limits;
	struct store		*store;		/* opened on demand */
	struct imap		*imap;		/* connected on demand */
	uint32_t		 uidvalidity;	/* of the mailbox being read */
};

/* What triaged decides for one message. */
struct decision {
	struct verdict		 verdict;
	struct guard_result	 guard;
	const char		*status;	/* STORE_* */
	const char		*suppressed;	/* reason, or NULL */
	int			 has_reply;
	struct reply		 reply;		/* valid when has_reply */
};

/* Outcome of a pass, mapped to exit codes by main. */
enum pipeline_status {
	PIPELINE_OK = 0,
	PIPELINE_UNAVAILABLE = -1,	/* IMAP cannot be reached or trusted */
	PIPELINE_TEMP = -2,		/* state or server trouble: retry */
	PIPELINE_CONFIG = -3
};

/*
 * Load config, rules and templates (every problem into diag, including
 * category templates that do not exist). 0, or -1 if there was any error.
 */
int	pipeline_load(struct pipeline *, const char *confpath, struct diag *);
/* Reload rules and templates; keep the old ones unless the new are clean. */
int	pipeline_reload(struct pipeline *, struct diag *);
void	pipeline_free(struct pipeline *);

/*
 * Decide for one parsed message: verdict, guard, and (when a reply is due
 * and the store allows it) the composed reply; seed makes its Message-ID
 * deterministic. first_run marks mail that
 * was in the mailbox before triaged first looked; store may be NULL
 * (classify), which skips the checks that need history.
 */
void	pipeline_decide(struct pipeline *, const struct msg *,
	    const char *seed, int first_run, time_t now, int check_age,
	    struct decision *);
void	decision_free(struct decision *);

/* One pass over new mail, then flush the outbox and file keywords. */
enum pipeline_status pipeline_once(struct pipeline *, char **cause);
/* Send what is due in the outbox (also at start-up after a crash). */
enum pipeline_status pipeline_flush(struct pipeline *, char **cause);
/* Drop the IMAP session (after an error, or before exit). */
void	pipeline_disconnect(struct pipeline *);

#endif
