/*
 * The pipeline: imap fetch -> mime parse -> guard -> rules classify ->
 * template compose -> store record -> smtp send -> imap file. Each stage
 * is a plain call; the outbox in the store makes the send durable.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "imap.h"
#include "log.h"
#include "pipeline.h"
#include "smtp.h"
#include "store.h"
#include "xmalloc.h"

/* Give up on a reply after this many temporary failures (about 2 days). */
#define PIPELINE_MAX_ATTEMPTS	16
/* How long the Sent folder's answer about a sender is trusted. */
#define PIPELINE_KNOWN_TTL	86400

/* Check that every answered category has a template. */
static void
pipeline_crosscheck(struct pipeline *p, struct ruleset *rules,
    struct tmplset *tmpls, struct diag *diag)
{
	const char	*t;
	size_t		 i;

	for (i = 0; i < rules_ncategories(rules); i++) {
		t = rules_category_template(rules, i);
		if (t != NULL && !tmpl_exists(tmpls, t))
			diag_error(diag, p->conf->triage.rules, 0,
			    "category %s answers with template \"%s\", which "
			    "is not in %s", rules_category_name(rules, i), t,
			    p->conf->triage.templates);
	}
}

int
pipeline_load(struct pipeline *p, const char *confpath, struct diag *diag)
{
	memset(p, 0, sizeof *p);
	mime_limits_default(&p->limits);
	if ((p->conf = conf_load(confpath, diag)) == NULL)
		return (-1);
	/* Room for the headers on top of the text that is fetched. */
	p->limits.max_bytes = p->conf->imap.fetch_max + 64 * 1024;
	if (p->conf->limits.message_bytes != 0)
		p->limits.max_bytes = p->conf->limits.message_bytes;
	if (p->conf->limits.mime_depth != 0)
		p->limits.max_depth = p->conf->limits.mime_depth;
	if (p->conf->limits.mime_parts != 0)
		p->limits.max_parts = p->conf->limits.mime_parts;
	if (p->conf->limits.text_bytes != 0)
		p->limits.max_text = p->conf->limits.text_bytes;
	return (pipeline_reload(p, diag));
}

int
pipeline_reload(struct pipeline *p, struct diag *diag)
{
	struct ruleset	*rules;
	struct tmplset	*tmpls;
	size_t		 before = diag->nerrors;

	rules = rules_load(p->conf->triage.rules, diag);
	tmpls = tmpl_load(p->conf->triage.templates, p->conf, diag);
	if (rules != NULL && tmpls != NULL)
		pipeline_crosscheck(p, rules, tmpls, diag);
	if (diag->nerrors != before) {
		rules_free(rules);
		tmpl_free(tmpls);
		return (-1);
	}
	rules_free(p->rules);
	tmpl_free(p->tmpls);
	p->rules = rules;
	p->tmpls = tmpls;
	return (0);
}

void
pipeline_disconnect(struct pipeline *p)
{
	imap_close(&p->imap);
}

void
pipeline_free(struct pipeline *p)
{
	pipeline_disconnect(p);
	store_close(&p->store);
	rules_free(p->rules);
	tmpl_free(p->tmpls);
	conf_free(p->conf);
	memset(p, 0, sizeof *p);
}

/* Join a string list with commas, for the store. Caller frees. */
static char *
pipeline_join(char **items, size_t n)
{
	struct buf	b;
	size_t		i;

	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addch(&b, ',');
		buf_addstr(&b, items[i]);
	}
	return (buf_detach(&b, NULL));
}

/*
 * [triage] skip_known = sent: has the practice written to addr from its
 * Sent folder? Asked once a day per address (cached in the store); the
 * inbox is selected again after the search. 1/0, or -1 when it cannot
 * tell (no IMAP session, as in classify, or an error).
 */
static int
pipeline_known_sent(struct pipeline *p, uint32_t uid, const char *addr,
    time_t now)
{
	const struct conf	*conf = p->conf;
	uint32_t		 validity, next;
	char			*cause = NULL;
	int			 known, r;

	if (conf->triage.skip_known != CONF_SKIP_KNOWN_SENT ||
	    p->imap == NULL || p->store == NULL || addr == NULL)
		return (-1);
	r = store_known_get(p->store, addr, now - PIPELINE_KNOWN_TTL, &known);
	if (r == 1)
		return (known);
	if (r == -1)
		return (-1);
	known = imap_sent_has_recipient(p->imap, conf->triage.sent_folder,
	    addr, &cause);
	if (known == -1) {
		log_warnx("%s: uid %u: cannot search the sent folder: %s",
		    conf->imap.mailbox, uid, cause);
		free(cause);
		cause = NULL;
	} else
		store_known_set(p->store, addr, known, now);
	/* Back to the mailbox being read, which must not have changed. */
	if (imap_select(p->imap, conf->imap.mailbox, &validity, &next,
	    &cause) == -1) {
		log_warnx("%s: %s", conf->imap.mailbox, cause);
		free(cause);
		pipeline_disconnect(p);
	} else if (validity != p->uidvalidity) {
		log_warnx("%s: UIDVALIDITY changed during the pass",
		    conf->imap.mailbox);
		pipeline_disconnect(p);
	}
	return (known);
}

void
pipeline_decide(struct pipeline *p, const struct msg *msg, const char *seed,
    int first_run, time_t now, int check_age, struct decision *d)
{
	const struct conf	*conf = p->conf;
	char			*cause = NULL;
	int			 r;

	memset(d, 0, sizeof *d);
	rules_classify(p->rules, msg, &d->verdict);
	guard_check(conf, msg, &d->guard);
	d->status = STORE_HANDLED;
	if (!d->verdict.answer || d->verdict.template == NULL) {
		/* Triaged, never answered; still tell why a guard objects. */
		d->suppressed = d->guard.suppressed;
		return;
	}
	if (d->guard.suppressed != NULL) {
		d->status = STORE_SUPPRESSED;
		d->suppressed = d->guard.suppressed;
		return;
	}
	/* An existing client: triaged as usual, never a new-client reply. */
	if (guard_known(conf, msg, &d->guard)) {
		d->suppressed = "known-sender";
		return;
	}
	if (first_run && conf->triage.first_run == CONF_FIRST_RUN_TRIAGE) {
		d->suppressed = "first-run";
		return;
	}
	if (check_age && msg->internaldate > 0 &&
	    now - msg->internaldate > conf->triage.reply_max_age) {
		d->status = STORE_SUPPRESSED;
		d->suppressed = "too-old";
		return;
	}
	if (p->store != NULL) {
		r = store_replied_since(p->store, d->guard.rcpt,
		    d->verdict.template, now - conf->triage.reply_window);
		if (r != 0) {
			/* On a store error, err on the side of silence. */
			d->status = STORE_SUPPRESSED;
			d->suppressed = r == 1 ? "window" : "state-error";
			return;
		}
		if (pipeline_known_sent(p, msg->uid, d->guard.rcpt, now) == 1) {
			d->suppressed = "known-sender";
			return;
		}
		if (store_replies_since(p->store, now - 3600) >=
		    (long)conf->triage.max_replies_per_hour) {
			d->status = STORE_SUPPRESSED;
			d->suppressed = "rate-limit";
			return;
		}
	}
	if (tmpl_compose(p->tmpls, d->verdict.template, conf, msg,
	    &d->verdict, d->guard.rcpt, seed, now, &d->reply,
	    &cause) == -1) {
		log_warnx("uid %u: cannot compose the %s reply: %s", msg->uid,
		    d->verdict.template, cause);
		free(cause);
		d->status = STORE_FAILED;
		d->suppressed = "compose-error";
		return;
	}
	d->has_reply = 1;
	d->status = STORE_PENDING;
}

void
decision_free(struct decision *d)
{
	verdict_free(&d->verdict);
	guard_result_free(&d->guard);
	if (d->has_reply)
		reply_free(&d->reply);
	memset(d, 0, sizeof *d);
}

/* Open the state database if it is not open yet. */
static enum pipeline_status
pipeline_open_store(struct pipeline *p, char **cause)
{
	if (p->store != NULL)
		return (PIPELINE_OK);
	if ((p->store = store_open(p->conf->triage.state, cause)) == NULL)
		return (PIPELINE_TEMP);
	return (PIPELINE_OK);
}

/* Connect and log in if there is no session. */
static enum pipeline_status
pipeline_connect(struct pipeline *p, char **cause)
{
	if (p->imap != NULL)
		return (PIPELINE_OK);
	if ((p->imap = imap_open(p->conf, cause)) == NULL)
		return (PIPELINE_UNAVAILABLE);
	return (PIPELINE_OK);
}

/* Parse, decide and record one fetched message. */
static int
pipeline_message(struct pipeline *p, const char *mailbox,
    uint32_t uidvalidity, const struct imap_fetched *f, int first_run,
    time_t now, char **cause)
{
	struct store_entry	 e;
	struct store_outgoing	 out;
	struct decision		 d;
	struct msg		*msg;
	char			*tags, *rules, *seed;
	int			 rc;

	msg = mime_parse(f->raw, f->len, &p->limits);
	msg->uid = f->uid;
	msg->internaldate = f->internaldate;
	msg->size = f->size;
	if (f->truncated)
		msg->truncated = 1;
	/* Without a Message-ID, a stable stand-in keeps the reply's own. */
	if (msg->message_id != NULL)
		seed = xstrdup(msg->message_id);
	else
		seed = xasprintf("<%u.%u.%s@triaged>", uidvalidity, f->uid,
		    mailbox);
	pipeline_decide(p, msg, seed, first_run, now, 1, &d);
	tags = pipeline_join(d.verdict.tags, d.verdict.ntags);
	rules = pipeline_join(d.verdict.rules, d.verdict.nrules);
	memset(&e, 0, sizeof e);
	e.mailbox = mailbox;
	e.uidvalidity = uidvalidity;
	e.uid = f->uid;
	e.received = f->internaldate;
	e.message_id = msg->message_id;
	e.sender = msg->from.addr;
	e.subject = msg->subject;
	e.category = d.verdict.category;
	/*
	 * Queue order: categories that are answered (inquiries) by priority,
	 * then those that are not (newsletters, robots), whatever their
	 * priority in the rules, which only decides who wins a message.
	 */
	e.priority = d.verdict.answer ? d.verdict.priority :
	    d.verdict.priority - 1000;
	e.tags = tags;
	e.rules = rules;
	e.status = d.status;
	e.suppressed = d.suppressed;
	if (d.has_reply) {
		memset(&out, 0, sizeof out);
		out.rcpt = d.reply.rcpt;
		out.envelope_from = p->conf->smtp.envelope_from;
		out.template = d.verdict.template;
		out.subject = d.reply.subject;
		out.message_id = d.reply.message_id;
		out.data = d.reply.data;
		out.len = d.reply.len;
	}
	rc = store_record(p->store, &e, d.has_reply ? &out : NULL, cause);
	if (rc == 0)
		log_info("%s: uid %u: %s%s%s%s", mailbox, f->uid,
		    d.verdict.category, d.has_reply ? ", reply queued" : "",
		    d.suppressed != NULL ? ", no reply: " : "",
		    d.suppressed != NULL ? d.suppressed : "");
	free(tags);
	free(rules);
	free(seed);
	decision_free(&d);
	msg_free(msg);
	return (rc);
}

/* Is word one of the items of a comma-separated list? */
static int
pipeline_csv_has(const char *csv, const char *word)
{
	size_t		 len = strlen(word);
	const char	*p;

	for (p = csv; p != NULL && *p != '\0'; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, word, len) == 0 &&
		    (p[len] == ',' || p[len] == '\0'))
			return (1);
	}
	return (0);
}

/*
 * Set $Triage_<category> on every recorded message not yet filed, and
 * \Flagged on those tagged urgent (crisis), so the therapist sees them
 * first in any mail client. A message counts as filed only after both.
 */
static enum pipeline_status
pipeline_file(struct pipeline *p, const char *mailbox, uint32_t uidvalidity,
    char **cause)
{
	struct store_unfiled	*u;
	uint32_t		*uids;
	char			*keyword;
	size_t			 n, i, j, nuids;
	int			*done;

	if (store_unfiled(p->store, mailbox, uidvalidity, &u, &n) == -1) {
		*cause = xstrdup("cannot read the state database");
		return (PIPELINE_TEMP);
	}
	if (n == 0) {
		store_unfiled_free(u, n);
		return (PIPELINE_OK);
	}
	uids = xcalloc(n, sizeof *uids);
	done = xcalloc(n, sizeof *done);
	nuids = 0;
	for (i = 0; i < n; i++)
		if (pipeline_csv_has(u[i].tags, "urgent"))
			uids[nuids++] = u[i].uid;
	if (nuids > 0 && imap_add_keyword(p->imap, uids, nuids, "\\Flagged",
	    cause) == -1) {
		free(uids);
		free(done);
		store_unfiled_free(u, n);
		return (PIPELINE_TEMP);
	}
	/* One STORE per category, for all its messages. */
	for (i = 0; i < n; i++) {
		if (done[i])
			continue;
		nuids = 0;
		for (j = i; j < n; j++) {
			if (!done[j] && strcmp(u[j].category,
			    u[i].category) == 0) {
				uids[nuids++] = u[j].uid;
				done[j] = 1;
			}
		}
		keyword = xasprintf("$Triage_%s", u[i].category);
		if (imap_add_keyword(p->imap, uids, nuids, keyword,
		    cause) == -1) {
			free(keyword);
			free(uids);
			free(done);
			store_unfiled_free(u, n);
			return (PIPELINE_TEMP);
		}
		free(keyword);
		for (j = 0; j < nuids; j++)
			store_mark_filed(p->store, mailbox, uidvalidity,
			    uids[j]);
	}
	free(uids);
	free(done);
	store_unfiled_free(u, n);
	return (PIPELINE_OK);
}

/*
 * A server's reply text for the log, with every word that holds an '@'
 * (an address the server quoted back) replaced: logs name no address.
 * The full text stays in the state database for `triaged queue`.
 */
static char *
pipeline_redact(const char *text)
{
	struct buf	 b;
	const char	*p, *end;

	buf_init(&b, 0);
	for (p = text != NULL ? text : ""; *p != '\0'; p = end) {
		if (*p == ' ') {
			buf_addch(&b, *p);
			end = p + 1;
			continue;
		}
		end = p + strcspn(p, " ");
		if (memchr(p, '@', end - p) != NULL)
			buf_addstr(&b, "<address>");
		else
			buf_add(&b, p, end - p);
	}
	return (buf_detach(&b, NULL));
}

/*
 * Retry delay after a temporary failure: [smtp] retry_base (1 min by
 * default) doubling with each attempt, at most 4 h.
 */
static time_t
pipeline_backoff(const struct conf *conf, unsigned attempts)
{
	time_t	delay = conf->smtp.retry_base > 0 ? conf->smtp.retry_base : 60;

	while (attempts-- > 0 && delay < 4 * 3600)
		delay *= 2;
	return (delay > 4 * 3600 ? 4 * 3600 : delay);
}

enum pipeline_status
pipeline_flush(struct pipeline *p, char **cause)
{
	struct store_pending	*rows;
	struct smtp		*smtp = NULL;
	char			*why = NULL, *logged;
	size_t			 n, i;
	time_t			 now = time(NULL);
	enum smtp_status	 st;
	enum pipeline_status	 rc;

	if ((rc = pipeline_open_store(p, cause)) != PIPELINE_OK)
		return (rc);
	if (store_pending(p->store, now, &rows, &n) == -1) {
		*cause = xstrdup("cannot read the outbox");
		return (PIPELINE_TEMP);
	}
	for (i = 0; i < n; i++) {
		if (smtp == NULL &&
		    (smtp = smtp_open(p->conf, cause)) == NULL) {
			store_pending_free(rows, n);
			return (PIPELINE_TEMP);
		}
		st = smtp_send(smtp, rows[i].envelope_from, rows[i].rcpt,
		    rows[i].data, rows[i].len, &why);
		logged = st == SMTP_SENT ? NULL : pipeline_redact(why);
		switch (st) {
		case SMTP_SENT:
			if (store_mark_sent(p->store, rows[i].id, now) == -1)
				log_warnx("outbox %lld: sent, but the state "
				    "could not be updated",
				    (long long)rows[i].id);
			log_info("%s: uid %u: reply sent", rows[i].mailbox,
			    rows[i].uid);
			if (p->imap != NULL && imap_append_sent(p->imap,
			    p->conf->triage.sent_folder, rows[i].data,
			    rows[i].len, &why) == -1) {
				log_warnx("%s: uid %u: no copy in the sent "
				    "folder: %s", rows[i].mailbox, rows[i].uid,
				    why);
			}
			break;
		case SMTP_TEMP:
			if (rows[i].attempts + 1 >= PIPELINE_MAX_ATTEMPTS) {
				store_mark_failed(p->store, rows[i].id, why);
				log_warnx("%s: uid %u: reply failed for good: "
				    "%s", rows[i].mailbox, rows[i].uid, logged);
			} else {
				store_mark_retry(p->store, rows[i].id, now +
				    pipeline_backoff(p->conf,
				    rows[i].attempts), why);
				log_warnx("%s: uid %u: reply deferred: %s",
				    rows[i].mailbox, rows[i].uid, logged);
			}
			break;
		case SMTP_PERM:
			store_mark_failed(p->store, rows[i].id, why);
			log_warnx("%s: uid %u: reply refused: %s",
			    rows[i].mailbox, rows[i].uid, logged);
			break;
		}
		free(logged);
		free(why);
		why = NULL;
	}
	smtp_close(&smtp);
	store_pending_free(rows, n);
	return (PIPELINE_OK);
}

enum pipeline_status
pipeline_once(struct pipeline *p, char **cause)
{
	const char		*mailbox = p->conf->imap.mailbox;
	struct imap_fetched	*f;
	uint32_t		 uidvalidity, uidnext, known_validity, last;
	uint32_t		*uids;
	size_t			 nuids, nf, i, k, chunk;
	time_t			 now = time(NULL);
	int			 first_run, r;
	enum pipeline_status	 rc;

	if ((rc = pipeline_open_store(p, cause)) != PIPELINE_OK)
		return (rc);
	if ((rc = pipeline_connect(p, cause)) != PIPELINE_OK)
		return (rc);
	if (imap_select(p->imap, mailbox, &uidvalidity, &uidnext,
	    cause) == -1) {
		pipeline_disconnect(p);
		return (PIPELINE_UNAVAILABLE);
	}
	known_validity = last = 0;
	r = store_position(p->store, mailbox, &known_validity, &last);
	if (r == 0)
		known_validity = last = 0;	/* first run: start at the top */
	if (r == -1) {
		*cause = xstrdup("cannot read the mailbox position");
		return (PIPELINE_TEMP);
	}
	first_run = r == 0;
	if (r == 1 && known_validity != uidvalidity) {
		/* Every UID changed: triage again, answer nothing old. */
		log_warnx("%s: UIDVALIDITY changed from %u to %u; triaging "
		    "the mailbox again without replies", mailbox,
		    known_validity, uidvalidity);
		first_run = 1;
		last = 0;
	}
	if (r == 0 || first_run)
		store_set_position(p->store, mailbox, uidvalidity, last);
	p->uidvalidity = uidvalidity;

	/* Whatever a crash left unsent or unfiled goes first. */
	if ((rc = pipeline_flush(p, cause)) != PIPELINE_OK)
		log_warnx("outbox: %s", *cause), free(*cause), *cause = NULL;
	if (imap_search_after(p->imap, last, &uids, &nuids, cause) == -1) {
		pipeline_disconnect(p);
		return (PIPELINE_UNAVAILABLE);
	}
	if (nuids > 0)
		log_info("%s: %zu new message%s%s", mailbox, nuids,
		    nuids == 1 ? "" : "s", first_run ? " (first run)" : "");
	for (i = 0; i < nuids; i += chunk) {
		chunk = nuids - i < p->conf->imap.batch ? nuids - i :
		    p->conf->imap.batch;
		if (imap_fetch(p->imap, uids + i, chunk, &f, &nf,
		    cause) == -1) {
			free(uids);
			pipeline_disconnect(p);
			return (PIPELINE_UNAVAILABLE);
		}
		for (k = 0; k < nf; k++) {
			if (pipeline_message(p, mailbox, uidvalidity, &f[k],
			    first_run, now, cause) == -1) {
				imap_fetched_free(f, nf);
				free(uids);
				return (PIPELINE_TEMP);
			}
		}
		imap_fetched_free(f, nf);
		/* Expunged meanwhile: move past them too. */
		store_set_position(p->store, mailbox, uidvalidity,
		    uids[i + chunk - 1]);
		/* Answer and file each batch before fetching the next. */
		if ((rc = pipeline_flush(p, cause)) != PIPELINE_OK) {
			log_warnx("outbox: %s", *cause);
			free(*cause);
			*cause = NULL;
		}
		if (pipeline_file(p, mailbox, uidvalidity, cause) != 0) {
			free(uids);
			pipeline_disconnect(p);
			return (PIPELINE_UNAVAILABLE);
		}
	}
	free(uids);
	if (nuids == 0 && pipeline_file(p, mailbox, uidvalidity, cause) != 0) {
		pipeline_disconnect(p);
		return (PIPELINE_UNAVAILABLE);
	}
	return (PIPELINE_OK);
}
