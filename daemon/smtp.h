/*
 * SMTP delivery with libcurl: TLS verified (smtps:// or STARTTLS with
 * CURLUSESSL_ALL), plaintext only to a loopback host. One handle with
 * fixed TLS settings, reused for a batch.
 */
#ifndef TRIAGED_SMTP_H
#define TRIAGED_SMTP_H

#include <stddef.h>

#include "conf.h"

struct smtp;

enum smtp_status {
	SMTP_SENT,	/* the server's final 250 */
	SMTP_TEMP,	/* 4xx for this reply: keep pending, retry later */
	SMTP_PERM,	/* 5xx: mark failed */
	SMTP_DOWN	/* the session failed (network, TLS, AUTH, 421):
			   retry later, and send nothing more this time */
};

/* Prepare a session (no connection yet). NULL and *cause on bad config. */
struct smtp		*smtp_open(const struct conf *, char **cause);
/*
 * Open the session (connect, TLS, AUTH, NOOP) before the first reply, so
 * a server that is down costs one attempt, not one per reply. SMTP_SENT
 * when it is up, SMTP_DOWN with *cause otherwise.
 */
enum smtp_status	 smtp_connect(struct smtp *, char **cause);
/*
 * Send data (CRLF message) from envelope sender from ("" is the null
 * path <>) to exactly one recipient, with NOTIFY=NEVER where the server
 * offers DSN. *cause gets the server's text on TEMP/PERM (caller frees).
 */
enum smtp_status	 smtp_send(struct smtp *, const char *from,
			    const char *rcpt, const char *data, size_t len,
			    char **cause);
void			 smtp_close(struct smtp **);

#endif
