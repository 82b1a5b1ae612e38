/*
 * The daily digest (digest.h): composed from the state database, sent
 * through the configured SMTP server to [digest] to, as plain text with a
 * small HTML table beside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "buf.h"
#include "digest.h"
#include "log.h"
#include "xmalloc.h"

#define DIGEST_AT		"digest_at"	/* health key: the last one */
#define DIGEST_WAITING_MAX	50		/* items listed at most */

/* The scheduled time of the digest at or before now, local time. */
static time_t
digest_last_scheduled(const struct conf *conf, time_t now)
{
	struct tm	tm;
	time_t		t;

	localtime_r(&now, &tm);
	tm.tm_hour = (conf->digest.time - 1) / 60;
	tm.tm_min = (conf->digest.time - 1) % 60;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t > now) {
		/* Yesterday's, by the calendar (a day is not always 24 h). */
		tm.tm_mday--;
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	return (t);
}

time_t
digest_next(const struct conf *conf, time_t now)
{
	struct tm	tm;
	time_t		t = digest_last_scheduled(conf, now);

	localtime_r(&t, &tm);
	tm.tm_mday++;
	tm.tm_isdst = -1;
	return (mktime(&tm));
}

int
digest_due(const struct conf *conf, struct store *store, time_t now)
{
	int64_t	last;

	if (conf->digest.to == NULL || store == NULL)
		return (0);
	if ((last = store_health_get(store, DIGEST_AT)) <= 0) {
		store_health_set(store, DIGEST_AT, now);
		return (0);
	}
	return ((time_t)last < digest_last_scheduled(conf, now));
}

/* "2026-12-05 07:00" in local time. */
static void
digest_time(time_t t, char *s, size_t len)
{
	struct tm	tm;

	localtime_r(&t, &tm);
	strftime(s, len, "%Y-%m-%d %H:%M", &tm);
}

/* How long an item has waited: "26 h", "3 days". */
static void
digest_age(time_t t, time_t now, char *s, size_t len)
{
	long long	h = now > t ? (long long)(now - t) / 3600 : 0;

	if (h < 48)
		snprintf(s, len, "%lld h", h);
	else
		snprintf(s, len, "%lld days", h / 24);
}

/* A span as a person says it: "24 h", "30 min", "45 s". */
static void
digest_span(time_t d, char *s, size_t len)
{
	if (d >= 3600 && d % 3600 == 0)
		snprintf(s, len, "%lld h", (long long)d / 3600);
	else if (d >= 60)
		snprintf(s, len, "%lld min", (long long)d / 60);
	else
		snprintf(s, len, "%lld s", (long long)d);
}

/* Text from the state for a mail body: controls out, one line. */
static void
digest_add_text(struct buf *b, const char *s, int html)
{
	for (; s != NULL && *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			buf_addch(b, ' ');
		else if (html && *s == '&')
			buf_addstr(b, "&amp;");
		else if (html && *s == '<')
			buf_addstr(b, "&lt;");
		else if (html && *s == '>')
			buf_addstr(b, "&gt;");
		else if (html && *s == '"')
			buf_addstr(b, "&quot;");
		else
			buf_addch(b, *s);
	}
}

/* The plain text part. */
static void
digest_text(struct buf *b, const struct conf *conf, const struct store_since
    *since, const struct store_row *w, size_t nw,
    const struct store_correction *corr, size_t ncorr, const char *from,
    time_t now)
{
	char	age[32], span[32];
	size_t	i;

	digest_span(conf->digest.unanswered_after, span, sizeof span);
	buf_printf(b, "Since %s: %ld message%s.\r\n", from, since->total,
	    since->total == 1 ? "" : "s");
	for (i = 0; i < since->n; i++)
		buf_printf(b, "  %-16s %ld\r\n", since->category[i],
		    since->count[i]);
	buf_printf(b, "Replies that failed: %ld%s\r\n", since->failed,
	    since->failed > 0 ? " (`triaged queue --status failed`)" : "");
	buf_printf(b, "Your corrections: %zu", ncorr);
	for (i = 0; i < ncorr; i++)
		buf_printf(b, "%s%s to %s", i == 0 ? " (" : ", ", corr[i].from,
		    corr[i].to);
	buf_addstr(b, ncorr > 0 ? "; `triaged queue --corrections`)\r\n\r\n" :
	    "\r\n\r\n");
	buf_printf(b, "Waiting for you longer than %s (crisis first, "
	    "oldest first): %zu%s\r\n", span, nw, nw == DIGEST_WAITING_MAX ?
	    " or more" : "");
	for (i = 0; i < nw; i++) {
		digest_age(w[i].received, now, age, sizeof age);
		buf_printf(b, "  #%-5lld %-16s %s", (long long)w[i].id,
		    w[i].category, age);
		if (conf->digest.include_details && !w[i].erased) {
			buf_addstr(b, "  ");
			digest_add_text(b, w[i].from, 0);
			buf_addstr(b, ": ");
			digest_add_text(b, w[i].subject, 0);
		}
		buf_addstr(b, "\r\n");
	}
	if (nw == 0)
		buf_addstr(b, "  (none)\r\n");
	buf_addstr(b, "\r\nAn item leaves this list when you answer it in your "
	    "mail client, move or delete it, or run `triaged queue done ID`; "
	    "`triaged queue show ID` shows one.\r\n");
}

/* The HTML part: the same, in two small tables. */
static void
digest_html(struct buf *b, const struct conf *conf, const struct store_since
    *since, const struct store_row *w, size_t nw, size_t ncorr,
    const char *from, time_t now)
{
	char	age[32], span[32];
	size_t	i;

	digest_span(conf->digest.unanswered_after, span, sizeof span);
	buf_printf(b, "<html><body><p>Since %s: %ld message%s.</p>\r\n"
	    "<table border=\"1\" cellpadding=\"4\">\r\n", from, since->total,
	    since->total == 1 ? "" : "s");
	for (i = 0; i < since->n; i++) {
		buf_addstr(b, "<tr><td>");
		digest_add_text(b, since->category[i], 1);
		buf_printf(b, "</td><td>%ld</td></tr>\r\n", since->count[i]);
	}
	buf_printf(b, "</table>\r\n<p>Replies that failed: %ld</p>\r\n"
	    "<p>Your corrections: %zu</p>\r\n"
	    "<p>Waiting for you longer than %s: %zu</p>\r\n", since->failed,
	    ncorr, span, nw);
	if (nw > 0)
		buf_addstr(b, "<table border=\"1\" cellpadding=\"4\">\r\n");
	for (i = 0; i < nw; i++) {
		digest_age(w[i].received, now, age, sizeof age);
		buf_printf(b, "<tr><td>#%lld</td><td>", (long long)w[i].id);
		digest_add_text(b, w[i].category, 1);
		buf_printf(b, "</td><td>%s</td>", age);
		if (conf->digest.include_details && !w[i].erased) {
			buf_addstr(b, "<td>");
			digest_add_text(b, w[i].from, 1);
			buf_addstr(b, "</td><td>");
			digest_add_text(b, w[i].subject, 1);
			buf_addstr(b, "</td>");
		}
		buf_addstr(b, "</tr>\r\n");
	}
	if (nw > 0)
		buf_addstr(b, "</table>\r\n");
	buf_addstr(b, "</body></html>\r\n");
}

char *
digest_compose(const struct conf *conf, struct store *store, time_t since,
    time_t now, size_t *lenp, char **cause)
{
	struct store_since	 s;
	struct store_row	*w;
	struct store_correction	*corr;
	struct buf		 b;
	char			 date[64], from[32], bound[64];
	const char		*domain;
	struct tm		 tm;
	size_t			 nw, ncorr, i, crisis = 0;

	if (store_since(store, since, &s) == -1) {
		*cause = xstrdup("cannot read the state database");
		return (NULL);
	}
	if (store_waiting(store, now - conf->digest.unanswered_after,
	    DIGEST_WAITING_MAX, &w, &nw) == -1) {
		store_since_free(&s);
		*cause = xstrdup("cannot read the state database");
		return (NULL);
	}
	if (store_corrections(store, since, &corr, &ncorr) == -1) {
		store_rows_free(w, nw);
		store_since_free(&s);
		*cause = xstrdup("cannot read the state database");
		return (NULL);
	}
	for (i = 0; i < nw; i++)
		crisis += strcmp(w[i].category, "crisis") == 0;
	domain = strrchr(conf->smtp.from_addr, '@');
	domain = domain != NULL ? domain + 1 : "triaged.invalid";
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	digest_time(since, from, sizeof from);
	snprintf(bound, sizeof bound, "triaged-digest-%lld", (long long)now);

	buf_init(&b, 0);
	buf_printf(&b, "From: %s\r\nTo: %s\r\n", conf->smtp.from,
	    conf->digest.to);
	buf_printf(&b, "Subject: triaged digest: %ld new, %zu waiting%s\r\n",
	    s.total, nw, crisis > 0 ? ", a crisis among them" : "");
	buf_printf(&b, "Date: %s\r\nMessage-ID: <triaged.digest.%lld@%s>\r\n",
	    date, (long long)now, domain);
	buf_printf(&b, "Auto-Submitted: auto-generated\r\n"
	    "X-Auto-Response-Suppress: All\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
	    "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n", bound, bound);
	digest_text(&b, conf, &s, w, nw, corr, ncorr, from, now);
	buf_printf(&b, "\r\n-- \r\ntriaged " TRIAGED_VERSION "\r\n\r\n--%s\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n", bound);
	digest_html(&b, conf, &s, w, nw, ncorr, from, now);
	buf_printf(&b, "\r\n--%s--\r\n", bound);
	store_corrections_free(corr, ncorr);
	store_rows_free(w, nw);
	store_since_free(&s);
	return (buf_detach(&b, lenp));
}

int
digest_send(const struct conf *conf, struct store *store, time_t now,
    char **cause)
{
	int64_t	 last = store_health_get(store, DIGEST_AT);
	time_t	 since = last > 0 && (time_t)last < now ? (time_t)last :
		    now - 86400;
	char	*data, *why = NULL;
	size_t	 len;

	if ((data = digest_compose(conf, store, since, now, &len,
	    cause)) == NULL)
		return (-1);
	if (alert_deliver(conf, conf->digest.to, data, len, &why) == -1) {
		free(data);
		*cause = xasprintf("cannot send the digest to [digest] to: %s",
		    why);
		free(why);
		return (-1);
	}
	free(data);
	if (store_health_set(store, DIGEST_AT, now) == -1)
		log_warnx("digest: sent, but not recorded; it may come twice");
	log_info("digest sent to [digest] to");
	return (0);
}
