/*
 * Alert mail to whoever looks after the machine: composed here from the
 * failure's kind and cause, sent with the reply engine's SMTP session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "buf.h"
#include "log.h"
#include "smtp.h"
#include "xmalloc.h"

#define ALERT_REPEAT	86400	/* again once a day while it lasts */

/* What each kind of failure means and what to do about it. */
static const struct alert_kind {
	const char	*kind;
	const char	*failing;	/* subject while it lasts */
	const char	*recovered;	/* subject when it is over */
	const char	*what;		/* the failure, one sentence */
	const char	*todo;		/* %s: the config file */
} alert_kinds[] = {
	{ ALERT_IMAP, "cannot read the inbox", "reads the inbox again",
	    "triaged cannot read the practice inbox: new inquiries, crisis "
	    "messages included, are neither sorted nor answered.",
	    "Check [imap] host, port, tls, user and the password "
	    "(password_file, password_command or oauth2_token_command) in "
	    "%s; `triaged -c %s once` shows the error. After a password "
	    "change, write the new one to the secret file: triaged tries "
	    "again by itself (or `systemctl reload triaged`)." },
	{ ALERT_SMTP, "replies are not going out", "replies go out again",
	    "triaged cannot send replies: inquirers, crisis messages "
	    "included, are not answered. The replies wait in the outbox; "
	    "none is lost.",
	    "Check [smtp] url, user and the password in %s, and that the "
	    "mail server accepts mail from this machine; `triaged -c %s "
	    "status` shows the outbox." },
	{ "rules", "did not start: rules or templates have errors", NULL,
	    "triaged did not start because its rules or templates have "
	    "errors: no inquiry is sorted or answered.",
	    "Fix the errors listed below (`triaged -c %s check` lists them "
	    "too), then start it again (`systemctl restart triaged`)." },
};

static const struct alert_kind *
alert_find(const char *kind)
{
	size_t	i;

	for (i = 0; i < sizeof alert_kinds / sizeof alert_kinds[0]; i++)
		if (strcmp(alert_kinds[i].kind, kind) == 0)
			return (&alert_kinds[i]);
	return (NULL);
}

/* Append text: line ends as CRLF, other controls made harmless. */
static void
alert_add_clean(struct buf *b, const char *text)
{
	for (; text != NULL && *text != '\0'; text++) {
		if (*text == '\n')
			buf_addstr(b, "\r\n    ");
		else
			buf_addch(b, (unsigned char)*text < 0x20 ? '?' :
			    *text);
	}
}

/* Append the advice with every "%s" in it replaced by the config path. */
static void
alert_add_todo(struct buf *b, const char *todo, const char *path)
{
	const char	*p;

	while ((p = strstr(todo, "%s")) != NULL) {
		buf_add(b, todo, (size_t)(p - todo));
		alert_add_clean(b, path);
		todo = p + 2;
	}
	alert_add_clean(b, todo);
}

/* "2026-12-05 10:02 UTC" for a body; RFC 5322 date for the header. */
static void
alert_time(time_t t, char *buf, size_t size, int header)
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, header ? "%a, %d %b %Y %H:%M:%S +0000" :
	    "%Y-%m-%d %H:%M UTC", &tm);
}

char *
alert_compose(const struct conf *conf, const char *kind, int recovered,
    const char *cause, time_t since, time_t now, size_t *lenp)
{
	const struct alert_kind	*k = alert_find(kind);
	struct buf		 b;
	char			 host[256], date[64], when[64];
	const char		*domain;

	if (k == NULL)
		return (NULL);
	if (gethostname(host, sizeof host) == -1)
		strcpy(host, "this machine");
	host[sizeof host - 1] = '\0';
	domain = strrchr(conf->smtp.from_addr, '@');
	domain = domain != NULL ? domain + 1 : "triaged.invalid";
	alert_time(now, date, sizeof date, 1);
	alert_time(since, when, sizeof when, 0);
	buf_init(&b, 0);
	buf_printf(&b, "From: %s\r\nTo: %s\r\n", conf->smtp.from,
	    conf->alerts.to);
	buf_printf(&b, "Subject: triaged: %s\r\n", recovered ? k->recovered :
	    k->failing);
	buf_printf(&b, "Date: %s\r\nMessage-ID: <triaged.alert.%s.%lld.%ld@%s>"
	    "\r\n", date, kind, (long long)now, (long)getpid(), domain);
	buf_addstr(&b, "Auto-Submitted: auto-generated\r\n"
	    "X-Auto-Response-Suppress: All\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n");
	if (recovered) {
		buf_printf(&b, "triaged on %s works again: it %s.\r\n\r\n"
		    "The failure began %s and ended %s.\r\n", host,
		    k->recovered, when, (alert_time(now, date, sizeof date, 0),
		    date));
	} else {
		buf_printf(&b, "On %s, %s\r\n\r\nSince: %s (%lld min)"
		    "\r\n%s: ", host, k->what, when,
		    (long long)((now - since) / 60), k->recovered == NULL ?
		    "Errors" : "Last error");
		alert_add_clean(&b, cause);
		buf_addstr(&b, "\r\n\r\nWhat to do: ");
		alert_add_todo(&b, k->todo, conf->path);
		buf_addstr(&b, "\r\n\r\nThis alert comes again once a day "
		    "while it lasts, and one message when it is over.\r\n");
	}
	buf_addstr(&b, "\r\n-- \r\ntriaged " TRIAGED_VERSION "\r\n");
	return (buf_detach(&b, lenp));
}

char *
alert_crisis_compose(const struct conf *conf, const struct store_pending *r,
    time_t now, size_t *lenp)
{
	struct buf	 b;
	char		 date[64], when[64];
	const char	*domain;

	domain = strrchr(conf->smtp.from_addr, '@');
	domain = domain != NULL ? domain + 1 : "triaged.invalid";
	alert_time(now, date, sizeof date, 1);
	alert_time(r->received, when, sizeof when, 0);
	buf_init(&b, 0);
	buf_printf(&b, "From: %s\r\nTo: %s\r\n", conf->smtp.from, r->rcpt);
	buf_printf(&b, "Subject: triaged: crisis inquiry, queue item %lld\r\n",
	    (long long)r->message);
	/* The same Message-ID if it is ever sent twice (a crash). */
	buf_printf(&b, "Date: %s\r\nMessage-ID: <triaged.crisis.%lld.%lld@%s>"
	    "\r\n", date, (long long)r->message, (long long)r->received,
	    domain);
	buf_addstr(&b, "Auto-Submitted: auto-generated\r\n"
	    "X-Auto-Response-Suppress: All\r\n"
	    "Importance: high\r\nX-Priority: 1\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n");
	/* The folder's name comes from the configuration, never from mail. */
	buf_printf(&b, "A message that triaged sorted as crisis arrived %s."
	    "\r\n\r\nWhere: the %s %s, flagged; queue item %lld "
	    "(`triaged queue show %lld`).\r\n", when, r->folder != NULL ?
	    r->folder : r->mailbox, r->folder != NULL ? "folder" : "mailbox",
	    (long long)r->message, (long long)r->message);
	if (strcmp(r->status, STORE_REPLIED) == 0)
		buf_addstr(&b, "Reply: the sender was sent the crisis "
		    "resources (988 call or text, 911) automatically.\r\n");
	else if (strcmp(r->status, STORE_PENDING) == 0)
		buf_addstr(&b, "Reply: an automatic reply with the crisis "
		    "resources (988 call or text, 911) is on its way to the "
		    "sender.\r\n");
	else if (r->suppressed != NULL && strcmp(r->suppressed, "window") == 0)
		buf_addstr(&b, "Reply: none now; the sender had an automatic "
		    "reply within the last days. Please reach out yourself."
		    "\r\n");
	else {
		buf_addstr(&b, "Reply: none was sent automatically (");
		alert_add_clean(&b, r->suppressed != NULL ? r->suppressed :
		    r->status);
		buf_addstr(&b, "): the sender has not been given the crisis "
		    "resources. Please reach out yourself.\r\n");
	}
	buf_addstr(&b, "\r\nThis alert names no sender, subject or text: "
	    "read the message in the mailbox.\r\n"
	    "\r\n-- \r\ntriaged " TRIAGED_VERSION "\r\n");
	return (buf_detach(&b, lenp));
}

int
alert_deliver(const struct conf *conf, const char *rcpt, const char *data,
    size_t len, char **why)
{
	struct smtp		*smtp;
	enum smtp_status	 st;

	*why = NULL;
	if ((smtp = smtp_open(conf, why)) == NULL)
		st = SMTP_DOWN;
	else if ((st = smtp_connect(smtp, why)) == SMTP_SENT) {
		free(*why);
		*why = NULL;
		st = smtp_send(smtp, conf->smtp.envelope_from, rcpt, data,
		    len, why);
	}
	smtp_close(&smtp);
	if (st == SMTP_SENT) {
		free(*why);
		*why = NULL;
		return (0);
	}
	if (*why == NULL)
		*why = xstrdup("SMTP failed");
	return (-1);
}

/* Send one alert; 0 sent, -1 not (logged at error level). */
static int
alert_send(const struct conf *conf, const char *kind, int recovered,
    const char *cause, time_t since, time_t now)
{
	char			*data, *why = NULL;
	size_t			 len;
	int			 rc;

	if ((data = alert_compose(conf, kind, recovered, cause, since, now,
	    &len)) == NULL)
		return (-1);
	rc = alert_deliver(conf, conf->alerts.to, data, len, &why);
	free(data);
	if (rc == -1) {
		log_errx("alert (%s): cannot send it to [alerts] to: %s; "
		    "trying again on the next pass", kind, why != NULL ? why :
		    "SMTP failed");
		free(why);
		return (-1);
	}
	free(why);
	log_info("alert (%s%s) sent to [alerts] to", kind, recovered ?
	    ", recovered" : "");
	return (0);
}

void
alert_failure(const struct conf *conf, struct store *store, const char *kind,
    const char *cause, time_t now)
{
	struct store_problem	pr;

	if (store == NULL || store_problem_fail(store, kind, now, cause,
	    &pr) == -1)
		return;
	if (conf->alerts.to == NULL || now - pr.since < conf->alerts.after)
		return;
	if (pr.alerted_at != 0 && now - pr.alerted_at < ALERT_REPEAT)
		return;
	if (alert_send(conf, kind, 0, cause, pr.since, now) == 0)
		store_problem_mark(store, kind, "alerted_at", now);
}

void
alert_ok(const struct conf *conf, struct store *store, const char *kind,
    time_t now)
{
	struct store_problem	pr;

	if (store == NULL || store_problem_get(store, kind, &pr) != 1)
		return;
	/*
	 * Nobody to tell, or too short to have been worth an alert: it is
	 * simply over. One that lasted but could not be told (the SMTP
	 * server itself was the failure) is told now that it is over.
	 */
	if (conf->alerts.to == NULL || (pr.alerted_at == 0 &&
	    pr.last_at - pr.since < conf->alerts.after)) {
		store_problem_clear(store, kind);
		return;
	}
	if (pr.recovered_at == 0)
		store_problem_mark(store, kind, "recovered_at", now);
	if (alert_send(conf, kind, 1, NULL, pr.since, now) == 0)
		store_problem_clear(store, kind);
}

int
alert_load_failed(const struct conf *conf, const char *errors)
{
	time_t	now = time(NULL);

	if (conf == NULL || conf->alerts.to == NULL)
		return (-1);
	return (alert_send(conf, "rules", 0, errors, now, now));
}
