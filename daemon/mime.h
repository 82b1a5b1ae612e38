/*
 * One inbound message, parsed once into clean UTF-8 fields that rules,
 * guard and templates read. libetpan types never leave mime.c.
 */
#ifndef TRIAGED_MIME_H
#define TRIAGED_MIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct mime_limits {
	size_t		max_bytes;	/* raw bytes parsed; more is cut (truncated) */
	unsigned	max_depth;	/* MIME nesting depth */
	unsigned	max_parts;	/* MIME parts in all */
	size_t		max_text;	/* decoded bytes of body + quoted */
};

/* Safe defaults for the limits above. */
void	mime_limits_default(struct mime_limits *);

struct msg_addr {
	char	*name;		/* decoded display name, UTF-8, may be "" */
	char	*addr;		/* addr-spec as written, "" if none */
};

struct msg_header {
	char	*name;		/* as written */
	char	*value;		/* unfolded, RFC 2047 decoded, UTF-8 */
};

struct msg {
	/* Set by whoever fetched the message (0 / -1 when unknown). */
	uint32_t		 uid;
	time_t			 internaldate;
	size_t			 size;		/* RFC822.SIZE */

	struct msg_header	*headers;	/* every header, in order */
	size_t			 nheaders;

	char			*subject;	/* decoded, "" if none */
	struct msg_addr		 from;		/* first From mailbox */
	struct msg_addr		*to;		/* To and Cc mailboxes */
	size_t			 nto;
	struct msg_addr		*reply_to;	/* Reply-To mailboxes */
	size_t			 nreply_to;
	char			*message_id;	/* "<id>" or NULL */
	char			*references;	/* "<a> <b>" or NULL */
	/*
	 * Return-Path addr-spec: NULL when the header is missing, "" when
	 * it is the null path <>.
	 */
	char			*return_path;

	char			*from_text;	/* rule field "from": "Name <addr>" */
	char			*to_text;	/* rule field "to": all To/Cc */
	char			*body;		/* the new text the writer typed */
	char			*quoted;	/* quoted history, forwarded text */
	char			*forwarded;	/* forwarded text alone */

	char			*content_type;	/* top-level "type/subtype", lower */
	int			 is_report;	/* multipart/report anywhere on top */
	int			 truncated;	/* a limit cut the message */
};

/*
 * Parse raw (need not be NUL-terminated; it is copied). Never fails on bad
 * mail: anything unparsable becomes empty fields. Returns a msg the caller
 * frees with msg_free.
 */
struct msg	*mime_parse(const char *raw, size_t len,
		    const struct mime_limits *);
void		 msg_free(struct msg *);

/* Value of the first header named name (case-insensitive), or NULL. */
const char	*msg_header(const struct msg *, const char *name);

/*
 * Strict check of an addr-spec that could receive a reply: dot-atom or
 * quoted local part, a domain with a dot, no spaces or control
 * characters. Returns 1 if valid.
 */
int		 mime_valid_address(const char *);

/*
 * Parse an address-list header value (To, Cc, Bcc, Resent-To, X-Loop ...)
 * into mailboxes, groups flattened. Returns the count and sets *list to
 * an array the caller frees with msg_addrs_free (NULL when the count is 0).
 */
size_t		 mime_address_list(const char *value, struct msg_addr **list);
void		 msg_addrs_free(struct msg_addr *, size_t);

/* Copy s with CR, LF, NUL and other control characters removed or turned
 * into spaces, for use in a header. Caller frees. */
char		*mime_header_safe(const char *s);

#endif
