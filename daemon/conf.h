/*
 * Configuration: the INI file of the contract (DESIGN.md), read with inih.
 * Relative paths are resolved against the config file's folder; secrets
 * are read from files that only the owner may read, or from a command.
 */
#ifndef TRIAGED_CONF_H
#define TRIAGED_CONF_H

#include <stddef.h>
#include <time.h>

#include "diag.h"

enum conf_tls {
	CONF_TLS_IMPLICIT,
	CONF_TLS_STARTTLS,
	CONF_TLS_NONE
};

enum conf_first_run {
	CONF_FIRST_RUN_TRIAGE,
	CONF_FIRST_RUN_REPLY
};

/* [triage] skip_known: which senders count as known besides the file. */
enum conf_skip_known {
	CONF_SKIP_KNOWN_NO,		/* only known_senders */
	CONF_SKIP_KNOWN_SENT		/* also anyone written to from Sent */
};

/* Where a secret comes from: exactly one of these is set. */
struct conf_secret {
	char	*file;		/* password_file, absolute */
	char	*command;	/* password_command, run with /bin/sh -c */
	char	*oauth2_command; /* oauth2_token_command: prints a bearer token */
};

struct conf_imap {
	char			*host;
	unsigned		 port;		/* default 993, or 143 */
	enum conf_tls		 tls;
	char			*ca_file;	/* NULL: system trust store */
	char			*user;
	struct conf_secret	 secret;
	char			*mailbox;	/* default INBOX */
	unsigned		 timeout;	/* seconds, default 60 */
	unsigned		 batch;		/* UIDs per UID FETCH, default 200 */
	size_t			 fetch_max;	/* text bytes fetched per message */
};

struct conf_smtp {
	char			*url;		/* smtps://host:465 or smtp://host:587 */
	char			*user;		/* NULL: no authentication */
	struct conf_secret	 secret;
	char			*from;		/* "Name <addr>" as written */
	char			*from_name;	/* display name part, may be "" */
	char			*from_addr;	/* address part */
	char			*ca_file;	/* NULL: system trust store */
	char			*envelope_from;	/* MAIL FROM; default "" (null) */
	unsigned		 timeout;	/* seconds, default 60 */
	time_t			 retry_base;	/* first retry delay, 60 s */
};

struct conf_kv {
	char	*key;
	char	*value;
};

struct conf_practice {
	struct conf_kv	*kv;		/* every key of [practice], in order */
	size_t		 n;
};

struct conf_triage {
	char			*rules;		/* folder of *.rules */
	char			*templates;	/* folder of templates */
	char			*state;		/* SQLite database */
	char			**addresses;	/* ours, lowercased */
	size_t			 naddresses;
	enum conf_first_run	 first_run;
	time_t			 reply_max_age;	/* seconds, default 3d */
	time_t			 reply_window;	/* seconds, default 7d */
	time_t			 retention;	/* personal data, default 90d */
	char			*known_senders;	/* file, or NULL */
	char			**known;	/* "a@b" or "@b", lowercased */
	size_t			 nknown;
	enum conf_skip_known	 skip_known;
	char			**relays;	/* sender patterns, or none */
	size_t			 nrelays;
	char			*sent_folder;	/* NULL: the \Sent special-use box */
	unsigned		 max_replies_per_hour; /* default 30 */
	time_t			 poll_interval;	/* run: seconds between passes */
};

/* Hard limits on what one message may cost; 0 means the default. */
struct conf_limits {
	size_t		message_bytes;	/* raw bytes parsed per message */
	unsigned	mime_depth;	/* MIME nesting depth */
	unsigned	mime_parts;	/* MIME parts in all */
	size_t		text_bytes;	/* decoded body + quoted text */
};

struct conf_queue {
	char	*file_into;	/* e.g. "Inquiries/%c", or NULL */
	int	 file_noise;	/* not-inquiry mail moves too */
};

/* [digest]: the daily summary of the queue. */
struct conf_digest {
	char	*to;		/* an address, or NULL: no digest */
	int	 time;		/* minutes after local midnight + 1; 0 unset */
	time_t	 unanswered_after; /* waiting longer is listed, 24h */
	int	 include_details; /* senders and subjects in it */
};

/* [alerts]: who is told when triaged cannot do its work. */
struct conf_alerts {
	char	*to;		/* an address, or NULL: no alert mail */
	time_t	 after;		/* how long a failure lasts first, 30 min */
	char	*crisis_to;	/* told of each crisis inquiry, or NULL */
};

struct conf {
	char			*path;		/* the config file as given */
	char			*dir;		/* its folder, for relative paths */
	struct conf_imap	 imap;
	struct conf_smtp	 smtp;
	struct conf_practice	 practice;
	struct conf_triage	 triage;
	struct conf_limits	 limits;
	struct conf_queue	 queue;
	struct conf_alerts	 alerts;
	struct conf_digest	 digest;
};

/*
 * Read and validate the file. Every problem is added to diag as
 * file:line: message; returns NULL when there was any error (the diag
 * says why), else a conf the caller frees with conf_free.
 */
struct conf	*conf_load(const char *path, struct diag *);
void		 conf_free(struct conf *);

/* The value of [practice] key, or NULL. */
const char	*conf_practice_get(const struct conf *, const char *key);

/*
 * Fetch a secret (password or token) into a fresh string the caller
 * frees (and should clear); refuses group/other-readable files.
 * Returns NULL and sets *cause on failure.
 */
char		*conf_secret_read(const struct conf_secret *, char **cause);

/* Is host loopback by address (localhost, 127/8, ::1)? Never resolved. */
int		 conf_host_is_loopback(const char *);
/* Parse "3d", "12h", "30m", "45s" or plain seconds; -1 on error. */
time_t		 conf_parse_duration(const char *);

/* Is addr (any case) one of the practice's own addresses? */
int		 conf_is_our_address(const struct conf *, const char *addr);

/* Is addr (any case) listed in known_senders, itself or by @domain? */
int		 conf_is_known_sender(const struct conf *, const char *addr);

/* Does addr (any case) match one of the [triage] relays patterns? */
int		 conf_is_relay(const struct conf *, const char *addr);

/*
 * Do two [imap] sections differ in what the session was opened with
 * (server, TLS, account, secret source, mailbox, timeout)? A reload that
 * changes any of them logs in again.
 */
int		 conf_imap_differs(const struct conf_imap *,
		    const struct conf_imap *);

#endif
