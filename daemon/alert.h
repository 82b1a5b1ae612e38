/*
 * Alerts: one email to [alerts] to when triaged cannot do its work for
 * longer than [alerts] after (the inbox cannot be read, replies keep
 * failing), again once a day while it lasts, and one when it recovers.
 * An alert names the failure and what to do, never inquiry content. It
 * goes through the configured SMTP server; when that server is the
 * failure, the alert is logged at error level and tried on the next pass.
 */
#ifndef TRIAGED_ALERT_H
#define TRIAGED_ALERT_H

#include <time.h>

#include "conf.h"
#include "store.h"

#define ALERT_IMAP	"imap"	/* the inbox cannot be read */
#define ALERT_SMTP	"smtp"	/* replies are not going out */

/* A failure of kind with its cause (no message content) at now. */
void	alert_failure(const struct conf *, struct store *, const char *kind,
	    const char *cause, time_t now);
/* Kind works (again) at now: closes the problem, says so if alerted. */
void	alert_ok(const struct conf *, struct store *, const char *kind,
	    time_t now);
/*
 * The rules or templates do not load at start: one alert now, with the
 * errors (file:line: message), when [alerts] to is set. 0 sent, -1 not.
 */
int	alert_load_failed(const struct conf *, const char *errors);

/*
 * The crisis alert for an outbox row of kind STORE_KIND_ALERT (CRLF):
 * that a crisis inquiry arrived, when, where and its queue id, and whether
 * the sender got the crisis resources; never the sender's name or
 * address, the subject or the text. Caller frees.
 */
char	*alert_crisis_compose(const struct conf *,
	    const struct store_pending *, time_t now, size_t *lenp);

/*
 * Send a message of the practice's own (an alert, the digest) to rcpt
 * through the configured SMTP server. 0 sent, -1 with *why (freed by the
 * caller).
 */
int	alert_deliver(const struct conf *, const char *rcpt, const char *data,
	    size_t len, char **why);

/* The alert message (CRLF), for the tests. Caller frees. */
char	*alert_compose(const struct conf *, const char *kind, int recovered,
	    const char *cause, time_t since, time_t now, size_t *lenp);

#endif
