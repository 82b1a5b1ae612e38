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
#include "imap.h"
#include "mime.h"
#include "rules.h"
#include "template.h"

struct store;
struct imap;
struct smtp;

/* A send the server accepted that the state has not recorded yet. */
struct pipeline_sent {
	int64_t			 id;
	time_t			 when;
};

/* A file_into folder as the handled check last read it. */
struct pipeline_sig {
	char			*folder;
	struct imap_sig		 sig;
};

struct pipeline {
	struct conf		*conf;
	struct ruleset		*rules;
	struct tmplset		*tmpls;
	struct mime_limits	 limits;
	struct store		*store;		/* opened on demand */
	struct imap		*imap;		/* connected on demand */
	uint32_t		 uidvalidity;	/* of the mailbox being read */
	struct store_lock	*lock;		/* one instance per state */
	struct pipeline_sent	*unrecorded;	/* sent, record pending */
	/* Triaged again (they carried a $Triage_ keyword): old ones go. */
	uint32_t		*retriaged;
	size_t			 nretriaged;
	size_t			 nunrecorded;
	int			 smtp_down;	/* SMTP failed in this pass */
	time_t			 smtp_probe_at;	/* failed: try it again then */
	time_t			 smtp_probe_wait; /* the current probe delay */
	int			 smtp_worked;	/* a reply went out this pass */
	char			*smtp_failure;	/* why replies fail, this pass */
	time_t			 retention_at;	/* last retention sweep */
	/* A file_into folder read instead of the mailbox, or NULL. */
	const char		*reading_folder;
	/* With CONDSTORE: folders unchanged since are not read again. */
	struct pipeline_sig	*sigs;
	size_t			 nsigs;
};

/*
 * The category (and tag) of a message the server would not give us: queued
 * for the therapist just below crisis, flagged, never answered.
 */
#define PIPELINE_UNREADABLE		"unreadable"
/* Why a message of a category that is never answered got no reply. */
#define PIPELINE_NO_REPLY		"no-reply"
#define PIPELINE_UNREADABLE_PRIORITY	99

/*
 * What the history says, looked up by the caller before deciding, so that
 * the decision itself reads no state and no server.
 */
struct decide_facts {
	int	replied;	/* a reply in the window: 1, 0, -1 unreadable */
	int	known_sent;	/* the practice wrote to them: 1, 0, -1 unknown */
	int	triaged;	/* the mailbox says it was triaged before */
	int	answered;	/* the Sent folder holds a reply to it */
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
	PIPELINE_CONFIG = -3,
	PIPELINE_LOCKED = -4,		/* another instance holds the state */
	PIPELINE_DATA = -5		/* the request cannot be done as asked */
};

/*
 * Load config, rules and templates (every problem into diag, including
 * category templates that do not exist). 0, or -1 if there was any error.
 */
int	pipeline_load(struct pipeline *, const char *confpath, struct diag *);
/*
 * Reload the configuration, rules and templates; keep the old ones unless
 * all the new are clean. A changed [imap] session key logs in again on the
 * next pass; a changed [triage] state is refused (it needs a restart).
 */
int	pipeline_reload(struct pipeline *, struct diag *);
void	pipeline_free(struct pipeline *);
/*
 * Seconds until something is due that a pass should do even without new
 * mail (a deferred reply, a probe of a failed SMTP server), at most max.
 */
unsigned	pipeline_next_wake(struct pipeline *, unsigned max);

/* Classify and guard one parsed message: the first half of a decision. */
void	pipeline_judge(const struct pipeline *, const struct msg *,
	    struct decision *);
/*
 * Would the judged message be answered, history permitting? Then the
 * caller looks up its facts (reply window, Sent folder).
 */
int	pipeline_wants_reply(const struct pipeline *, const struct msg *,
	    const struct decision *);
/*
 * Finish a judged decision: first run, age, history, then the composed
 * reply; seed makes its Message-ID deterministic. first_run marks mail
 * that was in the mailbox before triaged first looked. facts NULL (as in
 * classify) skips the checks that need history. Reads no state: 0, or -1
 * when the facts say the history could not be read (decide later).
 */
int	pipeline_decide(const struct pipeline *, const struct msg *,
	    const char *seed, int first_run, time_t now, int check_age,
	    const struct decide_facts *, struct decision *);
void	decision_free(struct decision *);

/* One pass over new mail, then flush the outbox and file keywords. */
enum pipeline_status pipeline_once(struct pipeline *, char **cause);
/*
 * The messages the therapist corrected, fetched again and handed to add
 * with their corrected category (for `triaged train`); how many, or -1.
 */
long	pipeline_corrected(struct pipeline *,
	    void (*add)(void *, const struct msg *, const char *), void *arg,
	    char **cause);
/* SELECT the mailbox being read again (after another folder was). */
enum pipeline_status pipeline_reselect(struct pipeline *, char **cause);
/*
 * `triaged reply ID`: fetch queue item id again, decide as for new mail
 * (every guard, the window, known senders; not first-run nor too-old)
 * and queue its reply, once; send it now unless a running daemon holds
 * the state (*sent says). PIPELINE_DATA with *cause when it gets no reply.
 */
enum pipeline_status pipeline_reply_item(struct pipeline *, int64_t id,
		    char **cause, int *sent);
/* Send what is due in the outbox (also at start-up after a crash). */
enum pipeline_status pipeline_flush(struct pipeline *, char **cause);
/* Drop the IMAP session (after an error, or before exit). */
void	pipeline_disconnect(struct pipeline *);

#endif
