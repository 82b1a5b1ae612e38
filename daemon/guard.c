/*
 * Guard: may triaged auto-reply to this message at all? RFC 3834 and
 * RFC 5230 header checks, a pure function of the configuration and the
 * parsed message. The checks run in this order and the first that
 * applies is the reason reported:
 *
 *   no-return-path		no Return-Path header: nowhere to reply
 *   null-sender		Return-Path: <> (bounces, notifications)
 *   auto-submitted		Auto-Submitted with any value but "no"
 *   list			any List-* header (List-Id, List-Post ...)
 *   precedence			Precedence: bulk, list, junk or auto_reply
 *   robot			sender (Return-Path or From) local part is
 *				MAILER-DAEMON, postmaster, *-request,
 *				owner-*, listserv, majordomo, noreply,
 *				no-reply, donotreply, do-not-reply, bounce(s);
 *				for a relay, the Reply-To instead
 *   esp			a machine notification sent through an email
 *				service provider: Feedback-ID, X-SES-Outgoing,
 *				X-Mailgun-*, X-SG-EID, or a Return-Path local
 *				part that is a long hash (not for relays: a web
 *				form may send through one on a client's behalf)
 *   report			multipart/report (DSN, MDN, ARF)
 *   x-auto-response-suppress	All, OOF or AutoReply (Microsoft)
 *   autoreply			X-Autoreply, X-Autorespond or X-Apple-Action
 *				present, or a Subject that an autoresponder
 *				wrote ("Auto-Reply:", "Automatic reply:", ...)
 *   own-address		the sender is one of our addresses
 *   x-loop			X-Loop names one of our addresses
 *   spam			X-Spam-Flag / X-Spam-Status / X-Spam: yes
 *   not-to-us			none of our addresses in To, Cc, Bcc,
 *				Resent-To, Resent-Cc or Resent-Bcc
 *   bad-address		the Return-Path is no valid addr-spec
 *   relay-no-reply-to		a relay's message without a valid Reply-To
 *
 * A relay is a web form or directory that sends on behalf of a client
 * ([triage] relays matches the Return-Path or From): the reply goes to
 * its Reply-To, and the robot check looks at that address, not at the
 * relay's own no-reply sender. Every other check is the same.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "guard.h"
#include "mime.h"
#include "xmalloc.h"

/*
 * The first token of a header value, skipping whitespace and (comments):
 * "no (manual)" gives "no". Copied to tok (truncated to size).
 */
static void
first_token(const char *v, char *tok, size_t size)
{
	size_t	n = 0;
	int	depth = 0;

	for (; *v != '\0'; v++) {
		if (*v == '(')
			depth++;
		else if (*v == ')' && depth > 0)
			depth--;
		else if (depth == 0 && !isspace((unsigned char)*v))
			break;
	}
	while (*v != '\0' && !isspace((unsigned char)*v) && *v != ';' &&
	    *v != ',' && *v != '(' && n + 1 < size)
		tok[n++] = *v++;
	tok[n] = '\0';
}

/* Does the comma/space separated value hold one of the tokens? */
static int
has_token(const char *v, const char *const *tokens)
{
	char	tok[64];
	size_t	n, i;

	while (*v != '\0') {
		while (*v != '\0' && (isspace((unsigned char)*v) ||
		    *v == ',' || *v == ';'))
			v++;
		for (n = 0; *v != '\0' && !isspace((unsigned char)*v) &&
		    *v != ',' && *v != ';'; v++)
			if (n + 1 < sizeof tok)
				tok[n++] = *v;
		tok[n] = '\0';
		for (i = 0; n > 0 && tokens[i] != NULL; i++)
			if (strcasecmp(tok, tokens[i]) == 0)
				return (1);
	}
	return (0);
}

/* Is the local part of addr one that only robots and lists use? */
static int
robot_address(const char *addr)
{
	static const char *const exact[] = { "mailer-daemon", "postmaster",
	    "listserv", "majordomo", NULL };
	static const char *const prefix[] = { "noreply", "no-reply",
	    "no_reply", "donotreply", "do-not-reply", "do_not_reply",
	    "bounce", "bounces", NULL };
	const char	*at;
	char		 local[128];
	size_t		 n, k, i;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return (0);
	n = at - addr;
	if (n >= sizeof local)
		return (0);
	for (i = 0; i < n; i++)
		local[i] = (char)tolower((unsigned char)addr[i]);
	local[n] = '\0';
	/* A subaddress does not change who is writing: noreply+x@. */
	if ((at = strchr(local, '+')) != NULL && at != local)
		n = at - local, local[n] = '\0';
	for (i = 0; exact[i] != NULL; i++)
		if (strcmp(local, exact[i]) == 0)
			return (1);
	if (strncmp(local, "owner-", 6) == 0 ||
	    (n > 8 && strcmp(local + n - 8, "-request") == 0))
		return (1);
	/* noreply, noreply-alerts, bounces.123 ... but not noreplyish. */
	for (i = 0; prefix[i] != NULL; i++) {
		k = strlen(prefix[i]);
		if (strncmp(local, prefix[i], k) == 0 && (local[k] == '\0' ||
		    local[k] == '-' || local[k] == '.' || local[k] == '_' ||
		    local[k] == '='))
			return (1);
	}
	return (0);
}

/*
 * Is the local part of addr a per-message hash, as the bounce addresses
 * of email service providers are (Amazon SES: 0100018c2e3f...-000000)?
 * At least 24 characters of hex digits and separators, 16 of them hex
 * digits and 8 decimal: no person's name looks like that.
 */
static int
hashed_address(const char *addr)
{
	const char	*at, *p;
	size_t		 hex = 0, dec = 0;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL ||
	    at - addr < 24)
		return (0);
	for (p = addr; p < at; p++) {
		if (isdigit((unsigned char)*p))
			dec++, hex++;
		else if (isxdigit((unsigned char)*p))
			hex++;
		else if (*p != '-' && *p != '.' && *p != '_' && *p != '=')
			return (0);
	}
	return (hex >= 16 && dec >= 8);
}

/*
 * Did an autoresponder write the Subject? The prefixes that vacation
 * responders put before the original subject (iCloud, Outlook, Exchange
 * in English and Spanish); a person does not start a subject like that.
 */
static int
autoreply_subject(const char *subject)
{
	static const char *const prefix[] = { "auto-reply:", "autoreply:",
	    "auto reply:", "automatic reply:", "autoresponse:",
	    "auto-response:", "out of office reply:",
	    "out of office autoreply:", "respuesta autom\xc3\xa1tica:",
	    "respuesta automatica:", NULL };
	size_t	i;

	if (subject == NULL)
		return (0);
	while (isspace((unsigned char)*subject))
		subject++;
	for (i = 0; prefix[i] != NULL; i++)
		if (strncasecmp(subject, prefix[i], strlen(prefix[i])) == 0)
			return (1);
	return (0);
}

/* Does the address-list value name one of our addresses? */
static int
names_us(const struct conf *conf, const char *value)
{
	struct msg_addr	*a;
	size_t		 n, i;
	int		 found = 0;

	n = mime_address_list(value, &a);
	for (i = 0; i < n && !found; i++)
		found = conf_is_our_address(conf, a[i].addr);
	msg_addrs_free(a, n);
	return (found);
}

/* Is the message addressed to us (To, Cc, Bcc, Resent-*)? */
static int
to_us(const struct conf *conf, const struct msg *m)
{
	static const char *const hdrs[] = { "Bcc", "Resent-To", "Resent-Cc",
	    "Resent-Bcc", NULL };
	size_t	i, k;

	for (i = 0; i < m->nto; i++)
		if (conf_is_our_address(conf, m->to[i].addr))
			return (1);
	for (i = 0; i < m->nheaders; i++)
		for (k = 0; hdrs[k] != NULL; k++)
			if (strcasecmp(m->headers[i].name, hdrs[k]) == 0 &&
			    names_us(conf, m->headers[i].value))
				return (1);
	return (0);
}

/* The reason from the header list alone, one kind of check per pass. */
static const char *
header_reason(const struct conf *conf, const struct msg *m, int pass)
{
	static const char *const suppress[] = { "all", "oof", "autoreply",
	    NULL };
	const char	*name, *v;
	char		 tok[32];
	size_t		 i;

	for (i = 0; i < m->nheaders; i++) {
		name = m->headers[i].name;
		v = m->headers[i].value;
		first_token(v, tok, sizeof tok);
		switch (pass) {
		case 0:
			if (strcasecmp(name, "Auto-Submitted") == 0 &&
			    strcasecmp(tok, "no") != 0)
				return ("auto-submitted");
			break;
		case 1:
			if (strncasecmp(name, "List-", 5) == 0)
				return ("list");
			break;
		case 2:
			if (strcasecmp(name, "Precedence") == 0 &&
			    (strcasecmp(tok, "bulk") == 0 ||
			    strcasecmp(tok, "list") == 0 ||
			    strcasecmp(tok, "junk") == 0 ||
			    strcasecmp(tok, "auto_reply") == 0))
				return ("precedence");
			break;
		case 3:
			if (strcasecmp(name, "X-Auto-Response-Suppress") ==
			    0 && has_token(v, suppress))
				return ("x-auto-response-suppress");
			break;
		case 4:
			if (strcasecmp(name, "X-Autoreply") == 0 ||
			    strcasecmp(name, "X-Autorespond") == 0 ||
			    strcasecmp(name, "X-Apple-Action") == 0)
				return ("autoreply");
			break;
		case 5:
			if (strcasecmp(name, "X-Loop") == 0 &&
			    names_us(conf, v))
				return ("x-loop");
			break;
		case 7:
			/* Email service providers' per-message headers. */
			if (strcasecmp(name, "Feedback-ID") == 0 ||
			    strcasecmp(name, "X-Feedback-ID") == 0 ||
			    strcasecmp(name, "X-SES-Outgoing") == 0 ||
			    strncasecmp(name, "X-Mailgun-", 10) == 0 ||
			    strcasecmp(name, "X-SG-EID") == 0)
				return ("esp");
			break;
		case 6:
			if ((strcasecmp(name, "X-Spam-Flag") == 0 ||
			    strcasecmp(name, "X-Spam-Status") == 0 ||
			    strcasecmp(name, "X-Spam") == 0) &&
			    strcasecmp(tok, "yes") == 0)
				return ("spam");
			break;
		}
	}
	return (NULL);
}

/*
 * Every check in the documented order; the first reason or NULL. relay
 * says the sender is a relay, rcpt is where the reply would go.
 */
static const char *
guard_reason(const struct conf *conf, const struct msg *m, int relay,
    const char *rcpt)
{
	const char	*rp = m->return_path, *from = m->from.addr;
	const char	*why;

	if (rp == NULL)
		return ("no-return-path");
	if (*rp == '\0')
		return ("null-sender");
	if ((why = header_reason(conf, m, 0)) != NULL ||
	    (why = header_reason(conf, m, 1)) != NULL ||
	    (why = header_reason(conf, m, 2)) != NULL)
		return (why);
	if (relay ? robot_address(rcpt) : (robot_address(rp) ||
	    robot_address(from)))
		return ("robot");
	if (!relay && ((why = header_reason(conf, m, 7)) != NULL ||
	    hashed_address(rp)))
		return ("esp");
	if (m->is_report)
		return ("report");
	if ((why = header_reason(conf, m, 3)) != NULL ||
	    (why = header_reason(conf, m, 4)) != NULL)
		return (why);
	if (autoreply_subject(m->subject))
		return ("autoreply");
	if (conf_is_our_address(conf, rp) ||
	    (from != NULL && conf_is_our_address(conf, from)) ||
	    (rcpt != NULL && conf_is_our_address(conf, rcpt)))
		return ("own-address");
	if ((why = header_reason(conf, m, 5)) != NULL ||
	    (why = header_reason(conf, m, 6)) != NULL)
		return (why);
	if (!to_us(conf, m))
		return ("not-to-us");
	if (relay && rcpt == NULL)
		return ("relay-no-reply-to");
	if (!relay && !mime_valid_address(rp))
		return ("bad-address");
	return (NULL);
}

/* Decide whether a reply may go out, and where it would go. */
void
guard_check(const struct conf *conf, const struct msg *m,
    struct guard_result *res)
{
	size_t	i;

	res->suppressed = NULL;
	res->rcpt = NULL;
	res->relay = (m->return_path != NULL &&
	    conf_is_relay(conf, m->return_path)) ||
	    conf_is_relay(conf, m->from.addr);
	if (res->relay) {
		/* The client is in Reply-To: the first usable address. */
		for (i = 0; i < m->nreply_to && res->rcpt == NULL; i++)
			if (mime_valid_address(m->reply_to[i].addr))
				res->rcpt = xstrdup(m->reply_to[i].addr);
	} else if (m->return_path != NULL &&
	    mime_valid_address(m->return_path))
		res->rcpt = xstrdup(m->return_path);
	res->suppressed = guard_reason(conf, m, res->relay, res->rcpt);
}

/*
 * Is the writer an existing client ([triage] known_senders)? Looks at the
 * reply address and, unless a relay sent the message, at the Return-Path
 * and From too: any of them known is enough.
 */
int
guard_known(const struct conf *conf, const struct msg *m,
    const struct guard_result *res)
{
	if (res->rcpt != NULL && conf_is_known_sender(conf, res->rcpt))
		return (1);
	if (res->relay)
		return (0);
	return (conf_is_known_sender(conf, m->return_path) ||
	    conf_is_known_sender(conf, m->from.addr));
}

/* Release what guard_check filled in. */
void
guard_result_free(struct guard_result *res)
{
	if (res == NULL)
		return;
	free(res->rcpt);
	res->rcpt = NULL;
	res->suppressed = NULL;
	res->relay = 0;
}
