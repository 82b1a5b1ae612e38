/*
 * State in one SQLite database (WAL, synchronous=FULL): mailbox position,
 * messages and verdicts, the durable outbox, and the reply history.
 * sqlite3 types never leave store.c.
 */
#ifndef TRIAGED_STORE_H
#define TRIAGED_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* Message status, as in queue --json. */
#define STORE_PENDING		"pending"	/* reply waiting in the outbox */
#define STORE_REPLIED		"replied"	/* reply accepted by SMTP */
#define STORE_SUPPRESSED	"suppressed"	/* a guard said no reply */
#define STORE_FAILED		"failed"	/* SMTP refused the reply (5xx) */
#define STORE_HANDLED		"handled"	/* the therapist has handled it */

/*
 * Open (creating the file with mode 0600 and bringing the schema up to
 * date; the write lock only when it is old). NULL and *cause on error.
 */
struct store	*store_open(const char *path, char **cause);
/* Open an existing, current database for reading only (queue, status). */
struct store	*store_open_ro(const char *path, char **cause);
void		 store_close(struct store **);

/*
 * Position of mailbox: 1 and the values when known, 0 when there is none
 * (first run), -1 on error.
 */
int		 store_position(struct store *, const char *mailbox,
		    uint32_t *uidvalidity, uint32_t *last_uid);
/* Set the position (new mailbox, UIDVALIDITY change). */
int		 store_set_position(struct store *, const char *mailbox,
		    uint32_t uidvalidity, uint32_t last_uid);

/*
 * The instance lock: one process at a time reads mail and sends replies
 * on one state database (flock on PATH.lock). NULL and *cause (naming the
 * other pid) when it is held.
 */
struct store_lock;
struct store_lock *store_lock(const char *dbpath, char **cause);
void		 store_unlock(struct store_lock **);

/* First-run boundary of mailbox: 1 and *boundary, 0 unknown, -1 error. */
int		 store_boundary(struct store *, const char *mailbox,
		    uint32_t *boundary);
/*
 * Start mailbox afresh (first run, UIDVALIDITY change): position 0 and
 * the boundary (UIDNEXT at this SELECT) in one durable write. 0 or -1.
 */
int		 store_start_mailbox(struct store *, const char *mailbox,
		    uint32_t uidvalidity, uint32_t boundary);

/*
 * UIDs to fetch again (missing from a FETCH reply, or refused): note a
 * failed attempt (returns the attempts so far, or -1), list those due
 * (caller frees *uids), forget one that is gone. store_record drops the
 * UID it records.
 */
int		 store_refetch_note(struct store *, const char *mailbox,
		    uint32_t uidvalidity, uint32_t uid, time_t next);
int		 store_refetch_due(struct store *, const char *mailbox,
		    uint32_t uidvalidity, time_t now, uint32_t **uids,
		    size_t *n);
int		 store_refetch_forget(struct store *, const char *mailbox,
		    uint32_t uidvalidity, uint32_t uid);

/* One triaged message; strings are borrowed. */
struct store_entry {
	const char	*mailbox;
	uint32_t	 uidvalidity;
	uint32_t	 uid;
	time_t		 received;	/* INTERNALDATE */
	const char	*message_id;	/* may be NULL */
	const char	*sender;	/* From address, for queue */
	const char	*subject;
	const char	*category;
	int		 priority;	/* the category's, for queue order */
	const char	*tags;		/* comma-separated, may be "" */
	const char	*rules;		/* comma-separated, may be "" */
	const char	*status;	/* one of STORE_* */
	const char	*suppressed;	/* reason, or NULL */
	/*
	 * Crisis alert: queue one alert to this address with the message
	 * (composed when it is sent, from the message's row), or NULL.
	 */
	const char	*alert_to;
	const char	*alert_from;	/* its envelope sender, "" the null path */
};

/* Outbox row kinds: a reply to the writer, or an alert to the practice. */
#define STORE_KIND_REPLY	"reply"
#define STORE_KIND_ALERT	"crisis-alert"

/* The reply to queue with it; strings are borrowed. */
struct store_outgoing {
	const char	*rcpt;
	const char	*envelope_from;	/* "" is the null path */
	const char	*template;
	const char	*subject;
	const char	*message_id;
	const char	*data;
	size_t		 len;
};

/*
 * In one transaction: insert the message with its verdict, the outbox row
 * when out is not NULL (status then "pending"), and advance the mailbox
 * position to e->uid. A message already recorded (same mailbox,
 * UIDVALIDITY and UID) is left alone. 0 or -1 with *cause.
 */
int		 store_record(struct store *, const struct store_entry *,
		    const struct store_outgoing *out, char **cause);

/*
 * Was a reply to sender (any case) with template sent since, or is one
 * waiting in the outbox? 1/0/-1.
 */
int		 store_replied_since(struct store *, const char *sender,
		    const char *template, time_t since);
/*
 * Replies the server accepted since a time, and the oldest of them, for
 * the hourly cap (pending replies do not count). 0, or -1 on error.
 */
int		 store_sent_since(struct store *, time_t since, long *count,
		    time_t *oldest);

/* An outbox row that is due. */
struct store_pending {
	int64_t		 id;
	char		*rcpt;
	char		*envelope_from;
	char		*template;
	char		*data;
	size_t		 len;
	unsigned	 attempts;
	char		*mailbox;
	uint32_t	 uidvalidity;
	uint32_t	 uid;
	int		 priority;	/* the message's queue priority */
	/* A crisis alert (data empty: compose it from these). */
	int		 is_alert;
	int64_t		 message;	/* the queue id */
	time_t		 received;
	char		*status;	/* the message's status */
	char		*suppressed;	/* why it got no reply, or NULL */
	char		*folder;	/* file_into moved it there, or NULL */
};

/*
 * Pending, unclaimed rows with next attempt <= now: the most urgent
 * category first (crisis replies before all others), then oldest first.
 */
int		 store_pending(struct store *, time_t now,
		    struct store_pending **, size_t *);
void		 store_pending_free(struct store_pending *, size_t);
/* When the next pending reply is due: 1 with *due, 0 none pending, -1. */
int		 store_next_try(struct store *, time_t *due);
/* The server took it: outbox sent, message replied, history row. */
int		 store_mark_sent(struct store *, int64_t id, time_t now);
/*
 * Try again at next, releasing the claim; charge counts an attempt (a
 * failure), 0 is a deferral (the hourly cap).
 */
int		 store_mark_retry(struct store *, int64_t id, time_t next,
		    const char *error, int charge);
/* Claim a row before sending it: 1 claimed, 0 not available, -1 error. */
int		 store_claim(struct store *, int64_t id);
/* Release every claim (a dead process's); the count or -1. */
long		 store_release_claims(struct store *);
/* Permanent failure: outbox and message failed, with the server's text. */
int		 store_mark_failed(struct store *, int64_t id,
		    const char *error);

/*
 * The known-sender cache ([triage] skip_known = sent): was sender (any
 * case) found in the Sent folder, checked at or after since? 1 with
 * *known set when there is such an answer, 0 when not, -1 on error.
 */
int		 store_known_get(struct store *, const char *sender,
		    time_t since, int *known);
/* Record the answer for sender at now (replacing an older one). 0/-1. */
int		 store_known_set(struct store *, const char *sender,
		    int known, time_t now);

/* Messages whose keyword is not set yet on the server. */
struct store_unfiled {
	uint32_t	 uid;
	char		*category;
	char		*tags;		/* comma-separated */
};
int		 store_unfiled(struct store *, const char *mailbox,
		    uint32_t uidvalidity, struct store_unfiled **, size_t *);
void		 store_unfiled_free(struct store_unfiled *, size_t);
int		 store_mark_filed(struct store *, const char *mailbox,
		    uint32_t uidvalidity, uint32_t uid);

/* Filing into folders ([queue] file_into): messages.moved. */
#define STORE_MOVE_BEGUN	1	/* asked; look for a copy after a crash */
#define STORE_MOVE_DONE		2	/* in the folder */
#define STORE_MOVE_DONE_STR	"2"
#define STORE_MOVE_STAYS	3	/* stays in the mailbox */
struct store_move {
	uint32_t	 uid;
	char		*category;
	char		*message_id;	/* or NULL */
	int		 begun;		/* a move was begun before */
	char		*folder;	/* where it was begun, or NULL */
};
/* Messages keyworded, not handled, received since since, not filed. */
int		 store_to_move(struct store *, const char *mailbox,
		    uint32_t uidvalidity, time_t since, struct store_move **,
		    size_t *);
void		 store_move_free(struct store_move *, size_t);
/* One transaction: the UIDs' state (STORE_MOVE_*) and folder. */
int		 store_move_mark(struct store *, const char *mailbox,
		    uint32_t uidvalidity, const uint32_t *uids, size_t n,
		    int state, const char *folder);
/* In its folder as folder_uid (0: the server did not say). */
int		 store_move_done(struct store *, const char *mailbox,
		    uint32_t uidvalidity, uint32_t uid, uint32_t folder_uid);

/*
 * Retention: erase the personal data (sender, subject, Message-ID, error
 * text, the reply's recipient, subject and text) of messages received
 * before cutoff, keeping category, tags, status and times; a message
 * whose reply is still pending keeps its data until the reply is settled.
 * Cached Sent-folder answers older than cutoff go too. Deleted content is
 * zeroed and the WAL truncated, so it is gone from the files. The number
 * of messages erased, or -1.
 */
long		 store_retention(struct store *, time_t cutoff);

/* What store_forget removed. */
struct store_forgotten {
	long	messages;	/* verdict rows */
	long	replies;	/* outbox rows: sent, failed or pending */
	long	window;		/* reply-window entries */
	long	known;		/* cached Sent-folder answers */
};
/*
 * Erase one person's data now (a data-subject request): every message
 * from the address and every reply to it, the window entries and cached
 * answers about it. 0 or -1 with *cause.
 */
int		 store_forget(struct store *, const char *addr,
		    struct store_forgotten *, char **cause);

/*
 * Health (`triaged status`, alerts): named figures such as the last
 * pass's end and duration; 0 when never set.
 */
int		 store_health_set(struct store *, const char *key,
		    int64_t value);
int64_t		 store_health_get(struct store *, const char *key);

/* An open problem: "imap" (the inbox cannot be read), "smtp". */
struct store_problem {
	time_t	since;		/* first failure of this run */
	time_t	last_at;	/* latest failure */
	char	error[512];	/* its cause, never message content */
	time_t	alerted_at;	/* last alert sent, 0 none */
	time_t	recovered_at;	/* recovered, recovery mail not yet sent */
};
/* Note a failure (opening the problem if needed) and read it back. */
int		 store_problem_fail(struct store *, const char *kind,
		    time_t now, const char *error, struct store_problem *);
/* 1 with *pr filled when the problem is recorded, 0 when not, -1. */
int		 store_problem_get(struct store *, const char *kind,
		    struct store_problem *);
/* Set "alerted_at" or "recovered_at" of the problem to at. */
int		 store_problem_mark(struct store *, const char *kind,
		    const char *column, time_t at);
int		 store_problem_clear(struct store *, const char *kind);

/* The outbox and history figures of `triaged status`. */
struct store_outbox_counts {
	int64_t	pending;
	time_t	oldest_pending;	/* received time of the oldest, 0 none */
	int64_t	failed;		/* failed replies to mail since a time */
	time_t	last_sent;	/* 0: none */
	int64_t	messages;	/* triaged in all */
};
int		 store_outbox_counts(struct store *,
		    struct store_outbox_counts *, time_t failed_since);

/* One row of `triaged queue`. */
struct store_row {
	int64_t		 id;
	time_t		 received;
	char		*from;
	char		*subject;
	char		*category;
	char		*tags;		/* comma-separated */
	char		*status;
	char		*suppressed;	/* may be NULL */
	char		*error;		/* last SMTP error, may be NULL */
	int		 erased;	/* retention erased from, subject */
	time_t		 handled_at;	/* 0 while not handled */
	char		*handled_how;	/* answered, moved, by hand; or NULL */
	char		*folder;	/* file_into moved it there, or NULL */
	uint32_t	 folder_uid;	/* its UID there (0: not known) */
};
/*
 * Rows by category priority (crisis first), newest first within one
 * category; category/status filters may be NULL, since 0 (received at or
 * after it).
 */
int		 store_queue(struct store *, const char *category,
		    const char *status, time_t since, struct store_row **,
		    size_t *);
void		 store_rows_free(struct store_row *, size_t);

/*
 * The digest: inquiries (the answered categories) not handled, received
 * before a time, crisis first and the oldest first (at most max); and
 * what arrived since a time, per category (priority order), with the
 * replies that failed among it.
 */
int		 store_waiting(struct store *, time_t before, int max,
		    struct store_row **, size_t *);
#define STORE_SINCE_MAX	32
struct store_since {
	char	*category[STORE_SINCE_MAX];
	long	 count[STORE_SINCE_MAX];
	size_t	 n;
	long	 total;
	long	 failed;
};
int		 store_since(struct store *, time_t since, struct store_since *);
void		 store_since_free(struct store_since *);

/* One queue item in full, for `queue show`. */
struct store_item {
	struct store_row row;
	char		*rules;		/* comma-separated, may be "" */
	char		*mailbox;
	uint32_t	 uidvalidity;
	int64_t		 uid;
	/* The reply, when one was queued (reply_status NULL otherwise). */
	char		*reply_status;	/* pending, sent or failed */
	char		*reply_template;
	long		 reply_attempts;
	time_t		 reply_next_try;
	time_t		 reply_sent_at;	/* 0 when not sent */
	char		*alert_status;	/* the crisis alert's, or NULL */
	char		*reply_state;	/* the status before it was handled */
};
/* 1 with the item, 0 when there is none with that id, -1 on error. */
int		 store_item_get(struct store *, int64_t id, struct store_item *);
void		 store_item_free(struct store_item *);

/*
 * Handled by the therapist. store_open_items lists the messages in
 * mailbox not handled yet, received since, by UID (at most 1000, the
 * oldest first).
 */
struct store_open {
	uint32_t	 uid;
	char		*category;
	char		*folder;	/* moved there by file_into, or NULL */
	uint32_t	 folder_uid;	/* its UID there (0: not known) */
	char		*message_id;	/* or NULL */
};
int		 store_open_items(struct store *, const char *mailbox,
		    uint32_t uidvalidity, time_t since, struct store_open **,
		    size_t *n);
void		 store_open_free(struct store_open *, size_t);
#define STORE_HANDLED_ANSWERED	"answered"	/* \Answered, from a client */
#define STORE_HANDLED_MOVED	"moved"		/* moved or deleted */
#define STORE_HANDLED_BY_HAND	"by hand"	/* triaged queue done */
int		 store_mark_handled(struct store *, const char *mailbox,
		    uint32_t uidvalidity, uint32_t uid, const char *how,
		    time_t now);
int		 store_mark_handled_id(struct store *, int64_t id,
		    const char *how, time_t now);

/*
 * Corrections: the therapist replaced the $Triage_ keyword of a message
 * with another category's. store_correct records it (the old verdict,
 * the new category, now) and gives the message the new category and
 * priority: 1 recorded, 0 the same category already, -1.
 */
int		 store_correct(struct store *, const char *mailbox,
		    uint32_t uidvalidity, uint32_t uid, const char *category,
		    int priority, time_t now);
struct store_correction {
	int64_t		 message;	/* the queue id */
	char		*from;		/* the verdict */
	char		*to;		/* the therapist's category */
	time_t		 at;
};
int		 store_corrections(struct store *, time_t since,
		    struct store_correction **, size_t *);
void		 store_corrections_free(struct store_correction *, size_t);

/*
 * `triaged reply ID`: queue the reply for message id, which had none (its
 * status becomes pending). 1 queued, 0 it has a reply already, -1.
 */
int		 store_add_reply(struct store *, int64_t id,
		    const struct store_outgoing *);

#endif
