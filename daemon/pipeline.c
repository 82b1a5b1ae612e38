/*
 * The pipeline: imap fetch -> mime parse -> guard -> rules classify ->
 * template compose -> store record -> smtp send -> imap file. Each stage
 * is a plain call; the outbox in the store makes the send durable.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "buf.h"
#include "digest.h"
#include "folders.h"
#include "imap.h"
#include "log.h"
#include "pipeline.h"
#include "signals.h"
#include "smtp.h"
#include "store.h"
#include "xmalloc.h"

/* Probing a failed SMTP server: first after 2 s, then at most every 8 s. */
#define PIPELINE_PROBE_FIRST	2
#define PIPELINE_PROBE_MAX	8
/* Give up on a reply after this many temporary failures (about 2 days). */
#define PIPELINE_MAX_ATTEMPTS	16
/* How long the Sent folder's answer about a sender is trusted. */
#define PIPELINE_KNOWN_TTL	86400
/* Tries at recording a send (each waits out a busy database). */
#define PIPELINE_MARK_TRIES	3
#define PIPELINE_EXIT_TRIES	12
/* A UID missing from FETCH replies: tries, and the wait between them. */
#define PIPELINE_REFETCH_MAX	5
#define PIPELINE_REFETCH_DELAY	60
/* How far back a pass looks for what the therapist handled, in days. */
#define PIPELINE_HANDLED_DAYS	30

static int	pipeline_mark_unrecorded(struct pipeline *);

/*
 * Every category's template exists: a rules file may name one the
 * templates folder lacks.
 */
static void
pipeline_crosscheck(const struct conf *conf, struct ruleset *rules,
    struct tmplset *tmpls, struct diag *diag)
{
	const char	*t;
	size_t		 i;

	for (i = 0; i < rules_ncategories(rules); i++) {
		t = rules_category_template(rules, i);
		if (t != NULL && !tmpl_exists(tmpls, t))
			diag_error(diag, conf->triage.rules, 0,
			    "category %s answers with template \"%s\", which "
			    "is not in %s", rules_category_name(rules, i), t,
			    conf->triage.templates);
	}
}

/* The parser limits the configuration sets. */
static void
pipeline_limits(struct pipeline *p)
{
	mime_limits_default(&p->limits);
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
}

/* Rules and templates of conf, checked together; -1 on any error. */
static int
pipeline_load_rules(const struct conf *conf, struct ruleset **rulesp,
    struct tmplset **tmplsp, struct diag *diag)
{
	size_t	before = diag->nerrors;

	*rulesp = rules_load(conf->triage.rules, diag);
	*tmplsp = tmpl_load(conf->triage.templates, conf, diag);
	if (*rulesp != NULL && *tmplsp != NULL)
		pipeline_crosscheck(conf, *rulesp, *tmplsp, diag);
	if (diag->nerrors != before) {
		rules_free(*rulesp);
		tmpl_free(*tmplsp);
		*rulesp = NULL;
		*tmplsp = NULL;
		return (-1);
	}
	return (0);
}

int
pipeline_load(struct pipeline *p, const char *confpath, struct diag *diag)
{
	memset(p, 0, sizeof *p);
	mime_limits_default(&p->limits);
	if ((p->conf = conf_load(confpath, diag)) == NULL)
		return (-1);
	pipeline_limits(p);
	return (pipeline_load_rules(p->conf, &p->rules, &p->tmpls, diag));
}

int
pipeline_reload(struct pipeline *p, struct diag *diag)
{
	struct conf	*conf;
	struct ruleset	*rules;
	struct tmplset	*tmpls;

	if ((conf = conf_load(p->conf->path, diag)) == NULL)
		return (-1);
	/* The state and its lock are held: moving them needs a restart. */
	if (strcmp(conf->triage.state, p->conf->triage.state) != 0) {
		diag_error(diag, conf->path, 0, "[triage] state changed: "
		    "restart triaged to use another state database");
		conf_free(conf);
		return (-1);
	}
	if (pipeline_load_rules(conf, &rules, &tmpls, diag) == -1) {
		conf_free(conf);
		return (-1);
	}
	/* A new server, account or mailbox: log in again on the next pass. */
	if (conf_imap_differs(&p->conf->imap, &conf->imap))
		pipeline_disconnect(p);
	rules_free(p->rules);
	tmpl_free(p->tmpls);
	conf_free(p->conf);
	p->conf = conf;
	p->rules = rules;
	p->tmpls = tmpls;
	pipeline_limits(p);
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
	int	try;

	pipeline_disconnect(p);
	/* Sends not recorded yet get a last, longer chance (busy waits). */
	for (try = 0; p->nunrecorded > 0 && try < PIPELINE_EXIT_TRIES; try++)
		pipeline_mark_unrecorded(p);
	if (p->nunrecorded > 0)
		log_warnx("outbox: %zu repl%s went out but could not be "
		    "recorded; the next start sends them again",
		    p->nunrecorded, p->nunrecorded == 1 ? "y" : "ies");
	free(p->unrecorded);
	free(p->retriaged);
	free(p->smtp_failure);
	while (p->nsigs > 0)
		free(p->sigs[--p->nsigs].folder);
	free(p->sigs);
	store_close(&p->store);
	store_unlock(&p->lock);
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

void
pipeline_judge(const struct pipeline *p, const struct msg *msg,
    struct decision *d)
{
	memset(d, 0, sizeof *d);
	rules_classify(p->rules, msg, &d->verdict);
	guard_check(p->conf, msg, &d->guard);
	d->status = STORE_SUPPRESSED;
}

int
pipeline_wants_reply(const struct pipeline *p, const struct msg *msg,
    const struct decision *d)
{
	return (d->verdict.answer && d->verdict.template != NULL &&
	    d->guard.suppressed == NULL && d->guard.rcpt != NULL &&
	    !guard_known(p->conf, msg, &d->guard));
}

int
pipeline_decide(const struct pipeline *p, const struct msg *msg,
    const char *seed, int first_run, time_t now, int check_age,
    const struct decide_facts *facts, struct decision *d)
{
	const struct conf	*conf = p->conf;
	char			*cause = NULL;

	if (!d->verdict.answer || d->verdict.template == NULL) {
		/* Triaged, never answered; still tell why a guard objects. */
		d->suppressed = d->guard.suppressed != NULL ?
		    d->guard.suppressed : PIPELINE_NO_REPLY;
		return (0);
	}
	if (d->guard.suppressed != NULL) {
		d->status = STORE_SUPPRESSED;
		d->suppressed = d->guard.suppressed;
		return (0);
	}
	/* An existing client: triaged as usual, never a new-client reply. */
	if (guard_known(conf, msg, &d->guard)) {
		d->suppressed = "known-sender";
		return (0);
	}
	/*
	 * The mailbox is the backup of the state: a state that starts afresh
	 * (lost, or a new machine) never answers what was triaged or
	 * answered before it.
	 */
	if (facts != NULL && facts->triaged) {
		d->suppressed = "already-triaged";
		return (0);
	}
	if (facts != NULL && facts->answered) {
		d->suppressed = "already-answered";
		return (0);
	}
	if (first_run && conf->triage.first_run == CONF_FIRST_RUN_TRIAGE) {
		d->suppressed = "first-run";
		return (0);
	}
	if (check_age && msg->internaldate > 0 &&
	    now - msg->internaldate > conf->triage.reply_max_age) {
		d->status = STORE_SUPPRESSED;
		d->suppressed = "too-old";
		return (0);
	}
	if (facts != NULL) {
		/* The window cannot be read: decide later, never guess. */
		if (facts->replied == -1)
			return (-1);
		if (facts->replied == 1) {
			d->status = STORE_SUPPRESSED;
			d->suppressed = "window";
			return (0);
		}
		if (facts->known_sent == 1) {
			d->suppressed = "known-sender";
			return (0);
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
		return (0);
	}
	d->has_reply = 1;
	d->status = STORE_PENDING;
	return (0);
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

/*
 * Open the state database if it is not open yet, after taking the
 * instance lock: one process reads the mailbox and sends replies on one
 * state. Claims a dead process left on the outbox are released.
 */
/*
 * The state folder must exist (a missing one is a permanent problem, not
 * a passing one) and should be private: the database holds inquiries.
 */
static int
pipeline_state_folder(const char *state, char **cause)
{
	struct stat	 st;
	char		*dir, *slash;
	int		 rc = 0;

	dir = xstrdup(state);
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		*cause = xasprintf("the state folder %s %s: create it "
		    "(install -d -m 700 -o triaged %s; make install does) or "
		    "set [triage] state", dir, errno == ENOENT ? "is missing" :
		    "is not a usable folder", dir);
		rc = -1;
	} else if ((st.st_mode & 077) != 0 && access(dir, W_OK) == 0 &&
	    st.st_uid == geteuid())
		log_warnx("the state folder %s can be read by others (mode "
		    "%03o): chmod 700 %s", dir, (unsigned)(st.st_mode & 0777),
		    dir);
	free(dir);
	return (rc);
}

static enum pipeline_status
pipeline_open_store(struct pipeline *p, char **cause)
{
	long	n;

	if (p->store != NULL)
		return (PIPELINE_OK);
	if (pipeline_state_folder(p->conf->triage.state, cause) == -1)
		return (PIPELINE_CONFIG);
	if (p->lock == NULL &&
	    (p->lock = store_lock(p->conf->triage.state, cause)) == NULL)
		return (PIPELINE_LOCKED);
	if ((p->store = store_open(p->conf->triage.state, cause)) == NULL)
		return (PIPELINE_TEMP);
	if ((n = store_release_claims(p->store)) > 0)
		log_warnx("outbox: %ld repl%s claimed by a process that "
		    "stopped; sending again", n, n == 1 ? "y" : "ies");
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

/* One fetched message on its way: parsed, judged, then decided. */
struct pipeline_item {
	uint32_t		 uid;
	struct msg		*msg;
	char			*seed;
	struct decision		 d;
	int			 known_sent;	/* 1, 0, -1 not asked */
	int			 triaged;	/* had a $Triage_ keyword */
	int			 answered;	/* a reply to it is in Sent */
};

/* Parse and judge one fetched message. */
static void
pipeline_item_init(struct pipeline *p, const char *mailbox,
    uint32_t uidvalidity, const struct imap_fetched *f,
    struct pipeline_item *it)
{
	memset(it, 0, sizeof *it);
	it->uid = f->uid;
	it->msg = mime_parse(f->raw, f->len, &p->limits);
	it->msg->uid = f->uid;
	it->msg->internaldate = f->internaldate;
	it->msg->size = f->size;
	if (f->truncated)
		it->msg->truncated = 1;
	/* Without a Message-ID, a stable stand-in keeps the reply's own. */
	if (it->msg->message_id != NULL)
		it->seed = xstrdup(it->msg->message_id);
	else
		it->seed = xasprintf("<%u.%u.%s@triaged>", uidvalidity, f->uid,
		    mailbox);
	pipeline_judge(p, it->msg, &it->d);
	it->known_sent = -1;
	it->triaged = f->triaged;
}

static void
pipeline_item_free(struct pipeline_item *it)
{
	decision_free(&it->d);
	msg_free(it->msg);
	free(it->seed);
	memset(it, 0, sizeof *it);
}

/* Back to the mailbox being read, which must not have changed. */
enum pipeline_status
pipeline_reselect(struct pipeline *p, char **cause)
{
	const char	*mailbox = p->conf->imap.mailbox;
	uint32_t	 validity, next;

	if (p->reading_folder != NULL) {
		mailbox = p->reading_folder;
		if (imap_select_folder(p->imap, mailbox, &validity, &next,
		    cause) == -1)
			return (PIPELINE_UNAVAILABLE);
	} else if (imap_select(p->imap, mailbox, &validity, &next,
	    cause) == -1)
		return (PIPELINE_UNAVAILABLE);
	if (validity != p->uidvalidity) {
		*cause = xasprintf("%s: UIDVALIDITY changed during the pass",
		    mailbox);
		return (PIPELINE_UNAVAILABLE);
	}
	return (PIPELINE_OK);
}

/*
 * [triage] skip_known = sent: for every item of the batch that would be
 * answered, has the practice written to its address from the Sent folder?
 * Asked before the batch is decided, once a day per address (cached in
 * the store), and the inbox is selected again once afterwards.
 */
static enum pipeline_status
pipeline_known_sent(struct pipeline *p, struct pipeline_item *items,
    size_t n, time_t now, char **cause)
{
	const struct conf	*conf = p->conf;
	const char		*addr;
	size_t			 i;
	int			 known, r, searched = 0;

	if (conf->triage.skip_known != CONF_SKIP_KNOWN_SENT)
		return (PIPELINE_OK);
	for (i = 0; i < n; i++) {
		if (!pipeline_wants_reply(p, items[i].msg, &items[i].d))
			continue;
		addr = items[i].d.guard.rcpt;
		r = store_known_get(p->store, addr, now - PIPELINE_KNOWN_TTL,
		    &known);
		if (r == 1) {
			items[i].known_sent = known;
			continue;
		}
		if (r == -1)
			continue;
		searched = 1;
		known = imap_sent_has_recipient(p->imap,
		    conf->triage.sent_folder, addr, cause);
		if (known == -1) {
			log_warnx("%s: uid %u: cannot search the sent folder: "
			    "%s", conf->imap.mailbox, items[i].uid, *cause);
			free(*cause);
			*cause = NULL;
			if (!imap_alive(p->imap))
				break;
			continue;
		}
		store_known_set(p->store, addr, known, now);
		items[i].known_sent = known;
	}
	if (!searched)
		return (PIPELINE_OK);
	return (pipeline_reselect(p, cause));
}

/*
 * first_run = reply on mail that was there before this state: has the
 * practice (or a triaged whose state was lost) answered it already? One
 * Sent-folder search per message that would be answered, on the first run
 * only; the inbox is selected again afterwards. A search that fails
 * counts as answered: a missed reply to old mail is the safe mistake.
 */
static enum pipeline_status
pipeline_answered_sent(struct pipeline *p, struct pipeline_item *items,
    size_t n, uint32_t boundary, char **cause)
{
	const struct conf	*conf = p->conf;
	size_t			 i;
	int			 r, searched = 0;

	if (conf->triage.first_run != CONF_FIRST_RUN_REPLY)
		return (PIPELINE_OK);
	for (i = 0; i < n; i++) {
		if (items[i].uid >= boundary || items[i].triaged ||
		    !pipeline_wants_reply(p, items[i].msg, &items[i].d))
			continue;
		if (items[i].msg->message_id == NULL)
			continue;
		searched = 1;
		r = imap_sent_has_reply(p->imap, conf->triage.sent_folder,
		    items[i].msg->message_id, cause);
		if (r == -1) {
			log_warnx("%s: uid %u: cannot search the sent folder "
			    "for an earlier reply, not answering it: %s",
			    conf->imap.mailbox, items[i].uid, *cause);
			free(*cause);
			*cause = NULL;
			r = 1;
		}
		items[i].answered = r;
		if (!imap_alive(p->imap)) {
			*cause = xstrdup("imap: the connection was lost while "
			    "searching the sent folder");
			return (PIPELINE_UNAVAILABLE);
		}
	}
	if (!searched)
		return (PIPELINE_OK);
	return (pipeline_reselect(p, cause));
}

/* Build the store entry of a decided item. */
static void
pipeline_entry(const char *mailbox, uint32_t uidvalidity, uint32_t uid,
    const struct msg *msg, const struct decision *d, char *tags, char *rules,
    struct store_entry *e)
{
	memset(e, 0, sizeof *e);
	e->mailbox = mailbox;
	e->uidvalidity = uidvalidity;
	e->uid = uid;
	e->received = msg != NULL ? msg->internaldate : 0;
	e->message_id = msg != NULL ? msg->message_id : NULL;
	e->sender = msg != NULL ? msg->from.addr : NULL;
	e->subject = msg != NULL ? msg->subject : NULL;
	e->category = d->verdict.category;
	/*
	 * Queue order: categories that are answered (inquiries) by priority,
	 * then those that are not (newsletters, robots), whatever their
	 * priority in the rules, which only decides who wins a message.
	 */
	e->priority = d->verdict.answer ? d->verdict.priority :
	    d->verdict.priority - 1000;
	e->tags = tags;
	e->rules = rules;
	e->status = d->status;
	e->suppressed = d->suppressed;
}

/*
 * Does this verdict call for the crisis alert ([alerts] crisis_to)? Every
 * crisis, also from an existing client or through a relay whose reply a
 * guard held back, but not mail from before triaged started, mail triaged
 * or answered before the state began, nor mail too old to be answered.
 */
static int
pipeline_alerts_crisis(const struct pipeline *p, const struct pipeline_item *it,
    int first_run, time_t now)
{
	const struct conf	*conf = p->conf;
	const char		*top = rules_top_category(p->rules);

	return (conf->alerts.crisis_to != NULL && top != NULL &&
	    strcmp(it->d.verdict.category, top) == 0 && !it->triaged &&
	    !it->answered && !(first_run &&
	    conf->triage.first_run == CONF_FIRST_RUN_TRIAGE) &&
	    !(it->msg->internaldate > 0 && now - it->msg->internaldate >
	    conf->triage.reply_max_age));
}

/*
 * Decide and record one judged item: the reply window is read now, after
 * the items before it in the batch were recorded, so two messages from
 * one writer in one batch get one reply. 0, or -1 with *cause when the
 * state cannot be read or written (the item is left for the next pass).
 */
static int
pipeline_record(struct pipeline *p, const char *mailbox, uint32_t uidvalidity,
    struct pipeline_item *it, uint32_t boundary, time_t now, char **cause)
{
	struct decision		*d = &it->d;
	struct decide_facts	 facts;
	struct store_entry	 e;
	struct store_outgoing	 out;
	char			*tags, *rules;
	int			 rc, first_run;

	first_run = it->uid < boundary;
	facts.known_sent = it->known_sent;
	facts.triaged = it->triaged;
	facts.answered = it->answered;
	facts.replied = 0;
	if (pipeline_wants_reply(p, it->msg, d))
		facts.replied = store_replied_since(p->store, d->guard.rcpt,
		    d->verdict.template, now - p->conf->triage.reply_window);
	if (pipeline_decide(p, it->msg, it->seed, first_run, now, 1, &facts,
	    d) == -1) {
		*cause = xasprintf("%s: uid %u: cannot read the reply history; "
		    "the message is left for the next pass", mailbox, it->uid);
		return (-1);
	}
	tags = pipeline_join(d->verdict.tags, d->verdict.ntags);
	rules = pipeline_join(d->verdict.rules, d->verdict.nrules);
	pipeline_entry(mailbox, uidvalidity, it->uid, it->msg, d, tags, rules,
	    &e);
	if (pipeline_alerts_crisis(p, it, first_run, now)) {
		e.alert_to = p->conf->alerts.crisis_to;
		e.alert_from = p->conf->smtp.envelope_from;
	}
	if (d->has_reply) {
		memset(&out, 0, sizeof out);
		out.rcpt = d->reply.rcpt;
		out.envelope_from = p->conf->smtp.envelope_from;
		out.template = d->verdict.template;
		out.subject = d->reply.subject;
		out.message_id = d->reply.message_id;
		out.data = d->reply.data;
		out.len = d->reply.len;
	}
	rc = store_record(p->store, &e, d->has_reply ? &out : NULL, cause);
	if (rc == 0)
		log_info("%s: uid %u: %s%s%s%s", mailbox, it->uid,
		    d->verdict.category, d->has_reply ? ", reply queued" : "",
		    d->suppressed != NULL ? ", no reply: " : "",
		    d->suppressed != NULL ? d->suppressed : "");
	free(tags);
	free(rules);
	return (rc);
}

/*
 * Record a message the server would not give us (a NO to its FETCH, or
 * missing from the replies too often) as unreadable: queued for the
 * therapist, flagged, never answered. A person must read it: it might be
 * anything, a crisis included.
 */
static int
pipeline_unreadable(struct pipeline *p, const char *mailbox,
    uint32_t uidvalidity, uint32_t uid, const char *why, char **cause)
{
	struct decision		d;
	struct store_entry	e;
	char			*tag = xstrdup(PIPELINE_UNREADABLE);
	int			 rc;

	memset(&d, 0, sizeof d);
	d.verdict.category = tag;
	d.verdict.answer = 1;
	d.verdict.priority = PIPELINE_UNREADABLE_PRIORITY;
	d.status = STORE_FAILED;
	d.suppressed = PIPELINE_UNREADABLE;
	pipeline_entry(mailbox, uidvalidity, uid, NULL, &d, tag, "", &e);
	e.received = time(NULL);
	rc = store_record(p->store, &e, NULL, cause);
	if (rc == 0)
		log_warnx("%s: uid %u: unreadable (%s); queued for the "
		    "therapist", mailbox, uid, why);
	free(tag);
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

/* Note why replies fail in this pass (the last cause wins). */
static void
pipeline_smtp_failed(struct pipeline *p, const char *why)
{
	free(p->smtp_failure);
	p->smtp_failure = xstrdup(why != NULL ? why : "SMTP failed");
}

/*
 * Is a refusal about the whole sending (authentication, policy, the
 * server) rather than one recipient (no such mailbox: 550, 551, 553)?
 */
static int
pipeline_smtp_systemic(const char *why)
{
	return (why == NULL || (strncmp(why, "550", 3) != 0 &&
	    strncmp(why, "551", 3) != 0 && strncmp(why, "553", 3) != 0));
}

/*
 * A message triaged again (a state that started afresh, rules changed
 * since) keeps one verdict: the $Triage_ keywords of the other categories
 * go from those of uids that carried one. 0, or -1 with *cause.
 */
static int
pipeline_unkeyword(struct pipeline *p, const uint32_t *uids, size_t n,
    const char *category, char **cause)
{
	uint32_t	*again;
	char		**kw;
	size_t		 i, j, nagain = 0, nkw = 0, ncat;
	int		 rc;

	if (p->nretriaged == 0)
		return (0);
	again = xcalloc(n, sizeof *again);
	for (i = 0; i < n; i++)
		for (j = 0; j < p->nretriaged; j++)
			if (uids[i] == p->retriaged[j]) {
				again[nagain++] = uids[i];
				break;
			}
	if (nagain == 0) {
		free(again);
		return (0);
	}
	ncat = rules_ncategories(p->rules);
	kw = xcalloc(ncat + 1, sizeof *kw);
	for (i = 0; i < ncat; i++)
		if (strcmp(rules_category_name(p->rules, i), category) != 0)
			kw[nkw++] = xasprintf("$Triage_%s",
			    rules_category_name(p->rules, i));
	if (strcmp(category, PIPELINE_UNREADABLE) != 0)
		kw[nkw++] = xstrdup("$Triage_" PIPELINE_UNREADABLE);
	rc = imap_remove_keywords(p->imap, again, nagain,
	    (const char *const *)kw, nkw, cause);
	xfreev(kw, nkw);
	free(again);
	return (rc);
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
		if (pipeline_csv_has(u[i].tags, "urgent") ||
		    pipeline_csv_has(u[i].tags, PIPELINE_UNREADABLE))
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
		    cause) == -1 || pipeline_unkeyword(p, uids, nuids,
		    u[i].category, cause) == -1) {
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
	p->nretriaged = 0;
	return (PIPELINE_OK);
}

/*
 * Apply what the mailbox says to open items (pointers, by key: the UID
 * where they sit), given the flags fetched there (by UID): \Answered set
 * by a mail client, or the message gone (moved or deleted), is handled;
 * a $Triage_ keyword replaced by another category's is a correction.
 */
static void
pipeline_handled_apply(struct pipeline *p, const char *mailbox,
    uint32_t uidvalidity, struct store_open *const *items,
    const uint32_t *keys, size_t n, const struct imap_flags *fl, size_t nfl,
    time_t now, struct store_open **gone, size_t *ngone)
{
	const struct imap_flags	*f;
	const struct store_open	*o;
	const char		*how;
	size_t			 i, j, c;

	/* Both lists are by UID: one walk. */
	for (i = j = 0; i < n; i++) {
		o = items[i];
		while (j < nfl && fl[j].uid < keys[i])
			j++;
		f = j < nfl && fl[j].uid == keys[i] ? &fl[j] : NULL;
		how = NULL;
		/* Gone: dragged into another category's folder, or away. */
		if (f == NULL && p->conf->queue.file_into != NULL &&
		    o->message_id != NULL) {
			gone[(*ngone)++] = items[i];
			continue;
		}
		if (f == NULL)
			how = STORE_HANDLED_MOVED;
		else if (f->answered)
			how = STORE_HANDLED_ANSWERED;
		/* One other category's keyword alone: the therapist's. */
		if (f != NULL && f->ntriage == 1 &&
		    strcmp(f->triage, o->category) != 0) {
			for (c = 0; c < rules_ncategories(p->rules) &&
			    strcmp(rules_category_name(p->rules, c),
			    f->triage) != 0; c++)
				;
			if (c < rules_ncategories(p->rules) &&
			    store_correct(p->store, mailbox, uidvalidity,
			    o->uid, f->triage, rules_category_priority(
			    p->rules, c), now) == 1)
				log_info("%s: uid %u: corrected to %s",
				    mailbox, o->uid, f->triage);
		}
		if (how != NULL && store_mark_handled(p->store, mailbox,
		    uidvalidity, o->uid, how, now) == 0)
			log_info("%s: uid %u: handled (%s)", mailbox, o->uid,
			    how);
	}
}

/*
 * The keyword follows a folder correction: $Triage_<to> for
 * $Triage_<from> on uid in folder (selected read-write), so the mail
 * client shows it and the next pass reads no other correction. -1 only
 * for a broken session.
 */
static int
pipeline_rekeyword(struct pipeline *p, const char *folder, uint32_t uid,
    const char *from, const char *to, char **cause)
{
	uint32_t	 validity, next;
	char		*add, *del;
	int		 r = 0;

	if (uid == 0)
		return (0);
	add = xasprintf("$Triage_%s", to);
	del = xasprintf("$Triage_%s", from);
	if (imap_select_folder(p->imap, folder, &validity, &next,
	    cause) == -1 || imap_add_keyword(p->imap, &uid, 1, add,
	    cause) == -1 || imap_remove_keywords(p->imap, &uid, 1,
	    (const char *const *)&del, 1, cause) == -1) {
		if (!imap_alive(p->imap))
			r = -1;
		else {
			log_warnx("%s: cannot set the corrected keyword: %s",
			    folder, *cause);
			free(*cause);
			*cause = NULL;
		}
	}
	free(add);
	free(del);
	return (r);
}

/*
 * Open items gone from where they sat, with file_into set: one the
 * therapist dragged into another category's folder is a correction to
 * that category and stays open there; one found in no category folder
 * was moved away or deleted: handled. One EXAMINE and UID SEARCH HEADER
 * Message-ID per category folder and item; the caller selects the
 * mailbox again. -1 only for a broken session.
 */
static int
pipeline_follow_drags(struct pipeline *p, const char *mailbox,
    uint32_t uidvalidity, struct store_open **gone, size_t ngone, time_t now,
    char **cause)
{
	struct store_open	*o;
	const char		*cat;
	char			*folder;
	uint32_t		 dst;
	size_t			 i, c;
	int			 r, found;

	for (i = 0; i < ngone; i++) {
		o = gone[i];
		found = 0;
		for (c = 0; c < rules_ncategories(p->rules) && !found; c++) {
			cat = rules_category_name(p->rules, c);
			if ((folder = folders_name(p->conf, cat)) == NULL ||
			    (o->folder != NULL && strcmp(folder,
			    o->folder) == 0)) {
				free(folder);
				continue;
			}
			r = imap_folder_find(p->imap, folder, o->message_id,
			    &dst, cause);
			if (r == -1) {
				free(folder);
				if (!imap_alive(p->imap))
					return (-1);
				/* That folder does not exist (yet). */
				free(*cause);
				*cause = NULL;
				continue;
			}
			if (r == 1) {
				found = 1;
				if (store_correct(p->store, mailbox,
				    uidvalidity, o->uid, cat,
				    rules_category_priority(p->rules, c),
				    now) == 1)
					log_info("%s: uid %u: moved to %s by "
					    "the therapist: corrected to %s",
					    mailbox, o->uid, folder, cat);
				if (store_move_mark(p->store, mailbox,
				    uidvalidity, &o->uid, 1, STORE_MOVE_BEGUN,
				    folder) == -1 || store_move_done(p->store,
				    mailbox, uidvalidity, o->uid, dst) == -1)
					log_warnx("%s: uid %u: cannot record "
					    "where it went", mailbox, o->uid);
				if (strcmp(cat, o->category) != 0 &&
				    pipeline_rekeyword(p, folder, dst,
				    o->category, cat, cause) == -1) {
					free(folder);
					return (-1);
				}
			}
			free(folder);
		}
		if (!found && store_mark_handled(p->store, mailbox,
		    uidvalidity, o->uid, STORE_HANDLED_MOVED, now) == 0)
			log_info("%s: uid %u: handled (%s)", mailbox, o->uid,
			    STORE_HANDLED_MOVED);
	}
	return (0);
}

/*
 * Is folder as it was when the handled check last read it (CONDSTORE:
 * HIGHESTMODSEQ, MESSAGES and UIDNEXT alike)? With set, remember sig.
 */
static int
pipeline_sig(struct pipeline *p, const char *folder, const struct imap_sig *sig,
    int set)
{
	size_t	i;

	for (i = 0; i < p->nsigs && strcmp(p->sigs[i].folder, folder) != 0;
	    i++)
		;
	if (!set)
		return (i < p->nsigs && sig->modseq != 0 &&
		    memcmp(&p->sigs[i].sig, sig, sizeof *sig) == 0);
	if (i == p->nsigs) {
		p->sigs = xreallocarray(p->sigs, p->nsigs + 1,
		    sizeof *p->sigs);
		p->sigs[p->nsigs++].folder = xstrdup(folder);
	}
	p->sigs[i].sig = *sig;
	return (1);
}

/* Sort open items of one folder by their UID there. */
static int
pipeline_open_cmp(const void *a, const void *b)
{
	const struct store_open	*x = *(struct store_open *const *)a;
	const struct store_open	*y = *(struct store_open *const *)b;

	return (x->folder_uid < y->folder_uid ? -1 :
	    x->folder_uid > y->folder_uid);
}

/*
 * What the therapist did with the messages of the last
 * PIPELINE_HANDLED_DAYS not handled yet, read where they sit: one UID
 * FETCH (UID FLAGS) in the mailbox, and one EXAMINE and UID FETCH per
 * folder that file_into moved some into (the mailbox is selected again
 * afterwards). A failure waits for the next pass; only a broken session
 * ends this one.
 */
static enum pipeline_status
pipeline_handled(struct pipeline *p, const char *mailbox, uint32_t uidvalidity,
    time_t now, char **cause)
{
	struct store_open	*open, **items, **gone;
	struct imap_sig		 sig;
	struct imap_flags	*fl = NULL;
	uint32_t		*keys;
	size_t			 nopen, nfl = 0, i, j, k, ngone = 0;
	const char		*where;
	int			 r, examined = 0;
	enum pipeline_status	 rc = PIPELINE_OK;

	if (store_open_items(p->store, mailbox, uidvalidity, now -
	    PIPELINE_HANDLED_DAYS * 86400, &open, &nopen) == -1)
		return (PIPELINE_OK);
	if (nopen == 0)
		return (PIPELINE_OK);
	items = xcalloc(nopen, sizeof *items);
	keys = xcalloc(nopen, sizeof *keys);
	gone = xcalloc(nopen, sizeof *gone);
	/* Those in the mailbox first (by UID already), then each folder. */
	for (i = 0; i <= nopen; i++) {
		if (i == 0)
			where = NULL;
		else if (open[i - 1].folder == NULL ||
		    open[i - 1].folder_uid == 0)
			continue;
		else {
			where = open[i - 1].folder;
			for (j = 0; j < i - 1 && (open[j].folder == NULL ||
			    open[j].folder_uid == 0 ||
			    strcmp(open[j].folder, where) != 0); j++)
				;
			if (j < i - 1)
				continue;	/* that folder was read */
		}
		for (k = 0, j = 0; j < nopen; j++) {
			if (where == NULL ? open[j].folder != NULL :
			    (open[j].folder == NULL || open[j].folder_uid ==
			    0 || strcmp(open[j].folder, where) != 0))
				continue;
			items[k++] = &open[j];
		}
		if (k == 0)
			continue;
		if (where != NULL && k > 1)
			qsort(items, k, sizeof *items, pipeline_open_cmp);
		for (j = 0; j < k; j++)
			keys[j] = where != NULL ? items[j]->folder_uid :
			    items[j]->uid;
		memset(&sig, 0, sizeof sig);
		if (where == NULL)
			r = imap_fetch_flags(p->imap, keys, k, &fl, &nfl,
			    cause);
		else if ((r = imap_folder_status(p->imap, where, &sig,
		    cause)) == 0 && pipeline_sig(p, where, &sig, 0)) {
			log_debug("%s: unchanged since the last pass "
			    "(HIGHESTMODSEQ %llu)", where,
			    (unsigned long long)sig.modseq);
			continue;
		} else if (r == 0 || imap_alive(p->imap)) {
			free(*cause);
			*cause = NULL;
			examined = 1;
			r = imap_folder_flags(p->imap, where, keys, k, &fl,
			    &nfl, cause);
		}
		if (r == -1) {
			if (!imap_alive(p->imap)) {
				rc = PIPELINE_UNAVAILABLE;
				break;
			}
			log_warnx("%s: cannot read what the therapist did%s%s: "
			    "%s", mailbox, where != NULL ? " in " : "",
			    where != NULL ? where : "", *cause);
			free(*cause);
			*cause = NULL;
			continue;
		}
		pipeline_handled_apply(p, mailbox, uidvalidity, items, keys, k,
		    fl, nfl, now, gone, &ngone);
		if (where != NULL && sig.modseq != 0)
			pipeline_sig(p, where, &sig, 1);
		imap_flags_free(fl, nfl);
		fl = NULL;
		nfl = 0;
	}
	if (rc == PIPELINE_OK && ngone > 0) {
		examined = 1;
		if (pipeline_follow_drags(p, mailbox, uidvalidity, gone, ngone,
		    now, cause) == -1)
			rc = PIPELINE_UNAVAILABLE;
	}
	free(items);
	free(keys);
	free(gone);
	store_open_free(open, nopen);
	if (rc == PIPELINE_OK && examined)
		rc = pipeline_reselect(p, cause);
	return (rc);
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

/*
 * Record that the server accepted a reply. The reply went out: retry the
 * recording, never the send. The row stays claimed meanwhile, so nothing
 * sends it again; what still fails is kept in memory and recorded on the
 * next flush (and at exit).
 */
static void
pipeline_mark_sent(struct pipeline *p, int64_t id, time_t when)
{
	int	try;

	for (try = 0; try < PIPELINE_MARK_TRIES; try++) {
		if (store_mark_sent(p->store, id, when) == 0)
			return;
	}
	log_warnx("outbox %lld: sent, but the state could not be updated; "
	    "trying again later", (long long)id);
	p->unrecorded = xreallocarray(p->unrecorded, p->nunrecorded + 1,
	    sizeof *p->unrecorded);
	p->unrecorded[p->nunrecorded].id = id;
	p->unrecorded[p->nunrecorded].when = when;
	p->nunrecorded++;
}

/* Record the sends that could not be recorded before; 0 when none is left. */
static int
pipeline_mark_unrecorded(struct pipeline *p)
{
	size_t	i, k = 0;

	if (p->store == NULL)
		return (p->nunrecorded == 0 ? 0 : -1);
	for (i = 0; i < p->nunrecorded; i++) {
		if (store_mark_sent(p->store, p->unrecorded[i].id,
		    p->unrecorded[i].when) == -1)
			p->unrecorded[k++] = p->unrecorded[i];
		else
			log_info("outbox %lld: sent earlier, now recorded",
			    (long long)p->unrecorded[i].id);
	}
	p->nunrecorded = k;
	return (k == 0 ? 0 : -1);
}

/*
 * The hourly cap: how many replies the server accepted in the last hour,
 * and when the oldest of them leaves it. -1 when the count cannot be
 * read, which sends nothing: a broken count must not open the cap.
 */
static int
pipeline_cap(struct pipeline *p, time_t now, long *count, time_t *reopen)
{
	time_t	oldest;

	if (store_sent_since(p->store, now - 3600, count, &oldest) == -1)
		return (-1);
	*reopen = (oldest > 0 ? oldest : now) + 3600;
	if (*reopen <= now)
		*reopen = now + 60;
	return (0);
}

enum pipeline_status
pipeline_flush(struct pipeline *p, char **cause)
{
	struct store_pending	*rows;
	struct smtp		*smtp = NULL;
	char			*why = NULL, *logged;
	size_t			 n, i;
	time_t			 now = time(NULL), reopen = 0;
	long			 sent;
	enum smtp_status	 st;
	enum pipeline_status	 rc = PIPELINE_OK;
	int			 c, capped = 0;
	const char		*what;

	if ((rc = pipeline_open_store(p, cause)) != PIPELINE_OK)
		return (rc);
	pipeline_mark_unrecorded(p);
	/*
	 * The server failed earlier in this pass, or lately: nothing is
	 * sent (nor waited for) until its next probe is due.
	 */
	if (p->smtp_down || now < p->smtp_probe_at)
		return (PIPELINE_OK);
	if (store_pending(p->store, now, &rows, &n) == -1) {
		*cause = xstrdup("cannot read the outbox");
		return (PIPELINE_TEMP);
	}
	if (n > 0 && pipeline_cap(p, now, &sent, &reopen) == -1) {
		store_pending_free(rows, n);
		*cause = xstrdup("cannot read the reply count; nothing sent");
		return (PIPELINE_TEMP);
	}
	for (i = 0; i < n; i++) {
		if (sig_stop())
			break;
		/*
		 * Over the cap: defer (no attempt counted), never drop. A
		 * crisis alert goes to the practice: no cap holds it.
		 */
		if (!rows[i].is_alert &&
		    sent >= (long)p->conf->triage.max_replies_per_hour) {
			if (!capped)
				log_warnx("outbox: hourly reply cap reached; "
				    "replies deferred");
			capped = 1;
			store_mark_retry(p->store, rows[i].id, reopen,
			    "deferred: hourly reply cap reached", 0);
			continue;
		}
		if ((c = store_claim(p->store, rows[i].id)) != 1) {
			if (c == -1) {
				*cause = xstrdup("cannot claim an outbox row");
				rc = PIPELINE_TEMP;
				break;
			}
			continue;	/* sent or claimed meanwhile */
		}
		if (smtp == NULL && (smtp = smtp_open(p->conf, &why)) == NULL)
			st = SMTP_DOWN;
		else
			st = smtp_connect(smtp, &why);
		/* A crisis alert is written now, from the message's row. */
		if (rows[i].is_alert) {
			free(rows[i].data);
			rows[i].data = alert_crisis_compose(p->conf, &rows[i],
			    now, &rows[i].len);
		}
		what = rows[i].is_alert ? "crisis alert" : "reply";
		if (st == SMTP_SENT)
			st = smtp_send(smtp, rows[i].envelope_from,
			    rows[i].rcpt, rows[i].data, rows[i].len, &why);
		logged = st == SMTP_SENT ? NULL : pipeline_redact(why);
		switch (st) {
		case SMTP_SENT:
			p->smtp_worked = 1;
			p->smtp_probe_at = 0;
			p->smtp_probe_wait = 0;
			pipeline_mark_sent(p, rows[i].id, now);
			log_info("%s: uid %u: %s sent", rows[i].mailbox,
			    rows[i].uid, what);
			if (rows[i].is_alert)
				break;
			sent++;
			if (p->imap != NULL && imap_append_sent(p->imap,
			    p->conf->triage.sent_folder, rows[i].data,
			    rows[i].len, &why) == -1) {
				log_warnx("%s: uid %u: no copy in the sent "
				    "folder: %s", rows[i].mailbox, rows[i].uid,
				    why);
			}
			break;
		case SMTP_DOWN:
			/*
			 * The server's failure, not this reply's: it is not
			 * charged, and goes as soon as a probe finds the
			 * server back (2 s, doubling to 8 s, so replies leave
			 * within about 10 s of its return).
			 */
			pipeline_smtp_failed(p, logged);
			p->smtp_probe_wait = p->smtp_probe_wait == 0 ?
			    PIPELINE_PROBE_FIRST : p->smtp_probe_wait * 2;
			if (p->smtp_probe_wait > PIPELINE_PROBE_MAX)
				p->smtp_probe_wait = PIPELINE_PROBE_MAX;
			p->smtp_probe_at = now + p->smtp_probe_wait;
			store_mark_retry(p->store, rows[i].id, now, why, 0);
			log_warnx("%s: uid %u: %s deferred: %s",
			    rows[i].mailbox, rows[i].uid, what, logged);
			break;
		case SMTP_TEMP:
			if (rows[i].attempts + 1 >= PIPELINE_MAX_ATTEMPTS) {
				pipeline_smtp_failed(p, logged);
				store_mark_failed(p->store, rows[i].id, why);
				log_warnx("%s: uid %u: %s failed for good: "
				    "%s", rows[i].mailbox, rows[i].uid, what,
				    logged);
			} else {
				store_mark_retry(p->store, rows[i].id, now +
				    pipeline_backoff(p->conf,
				    rows[i].attempts), why, 1);
				log_warnx("%s: uid %u: %s deferred: %s",
				    rows[i].mailbox, rows[i].uid, what, logged);
			}
			break;
		case SMTP_PERM:
			if (pipeline_smtp_systemic(logged))
				pipeline_smtp_failed(p, logged);
			store_mark_failed(p->store, rows[i].id, why);
			log_warnx("%s: uid %u: %s refused: %s",
			    rows[i].mailbox, rows[i].uid, what, logged);
			break;
		}
		free(logged);
		free(why);
		why = NULL;
		/*
		 * The server is down: charged to this reply only; the others
		 * wait for the next pass instead of each waiting out a
		 * timeout against a dead server.
		 */
		if (st == SMTP_DOWN) {
			p->smtp_down = 1;
			if (i + 1 < n)
				log_warnx("outbox: the SMTP server failed; %zu "
				    "more repl%s wait for the next pass",
				    n - i - 1, n - i - 1 == 1 ? "y" : "ies");
			break;
		}
	}
	smtp_close(&smtp);
	store_pending_free(rows, n);
	return (rc);
}

/*
 * Where the mailbox stands: its first-run boundary, the last UID handled,
 * and on a first run or a UIDVALIDITY change a fresh start, written
 * durably before any message is handled so that an interrupted first run
 * still answers nothing that was there before it.
 */
static enum pipeline_status
pipeline_position(struct pipeline *p, const char *mailbox,
    uint32_t uidvalidity, uint32_t uidnext, uint32_t *last,
    uint32_t *boundary, char **cause)
{
	uint32_t	 known_validity = 0, *all;
	size_t		 nall;
	int		 r;

	*last = 0;
	*boundary = 0;
	r = store_position(p->store, mailbox, &known_validity, last);
	if (r == 1 && known_validity == uidvalidity) {
		if (store_boundary(p->store, mailbox, boundary) == -1) {
			*cause = xstrdup("cannot read the mailbox position");
			return (PIPELINE_TEMP);
		}
		return (PIPELINE_OK);
	}
	if (r == -1) {
		*cause = xstrdup("cannot read the mailbox position");
		return (PIPELINE_TEMP);
	}
	if (r == 1)
		/* Every UID changed: triage again, answer nothing old. */
		log_warnx("%s: UIDVALIDITY changed from %u to %u; triaging "
		    "the mailbox again without replies", mailbox,
		    known_validity, uidvalidity);
	/* A server that gives no UIDNEXT: one past the highest UID. */
	if (uidnext == 0) {
		if (imap_search_after(p->imap, 0, &all, &nall, cause) == -1)
			return (PIPELINE_UNAVAILABLE);
		uidnext = nall > 0 ? all[nall - 1] + 1 : 1;
		free(all);
	}
	*last = 0;
	*boundary = uidnext;
	if (store_start_mailbox(p->store, mailbox, uidvalidity,
	    uidnext) == -1) {
		*cause = xstrdup("cannot record the mailbox position");
		return (PIPELINE_TEMP);
	}
	return (PIPELINE_OK);
}

/*
 * Parse, judge, decide and record the fetched messages of one batch;
 * a stop request is honoured between messages. *done counts the items
 * recorded.
 */
static enum pipeline_status
pipeline_batch(struct pipeline *p, const char *mailbox, uint32_t uidvalidity,
    const struct imap_fetched *f, size_t nf, uint32_t boundary, time_t now,
    size_t *done, char **cause)
{
	struct pipeline_item	*items;
	enum pipeline_status	 rc = PIPELINE_OK;
	size_t			 k;

	*done = 0;
	if (nf == 0)
		return (PIPELINE_OK);
	items = xcalloc(nf, sizeof *items);
	for (k = 0; k < nf; k++)
		pipeline_item_init(p, mailbox, uidvalidity, &f[k], &items[k]);
	rc = pipeline_known_sent(p, items, nf, now, cause);
	if (rc == PIPELINE_OK)
		rc = pipeline_answered_sent(p, items, nf, boundary, cause);
	for (k = 0; rc == PIPELINE_OK && k < nf; k++) {
		if (sig_stop())
			break;
		if (pipeline_record(p, mailbox, uidvalidity, &items[k],
		    boundary, now, cause) == -1)
			rc = PIPELINE_TEMP;
		else {
			(*done)++;
			if (items[k].triaged) {
				p->retriaged = xreallocarray(p->retriaged,
				    p->nretriaged + 1, sizeof *p->retriaged);
				p->retriaged[p->nretriaged++] = items[k].uid;
			}
		}
	}
	for (k = 0; k < nf; k++)
		pipeline_item_free(&items[k]);
	free(items);
	return (rc);
}

/*
 * UIDs asked for but missing from the FETCH replies (or sent without
 * their header): still there, they are noted to be fetched again later
 * (unreadable after PIPELINE_REFETCH_MAX tries); expunged ones are let go.
 */
static enum pipeline_status
pipeline_missing(struct pipeline *p, const char *mailbox, uint32_t uidvalidity,
    const uint32_t *asked, size_t nasked, const struct imap_fetched *f,
    size_t nf, time_t now, char **cause)
{
	uint32_t	*miss, *exist = NULL;
	size_t		 nmiss = 0, nexist = 0, i, k;
	int		 attempts;
	enum pipeline_status rc = PIPELINE_OK;

	miss = xcalloc(nasked + 1, sizeof *miss);
	for (i = 0, k = 0; i < nasked; i++) {
		while (k < nf && f[k].uid < asked[i])
			k++;
		if (k < nf && f[k].uid == asked[i])
			continue;
		miss[nmiss++] = asked[i];
	}
	if (nmiss == 0) {
		free(miss);
		return (PIPELINE_OK);
	}
	if (imap_search_uids(p->imap, miss, nmiss, &exist, &nexist,
	    cause) == -1) {
		free(miss);
		return (imap_alive(p->imap) ? PIPELINE_TEMP :
		    PIPELINE_UNAVAILABLE);
	}
	for (i = 0, k = 0; i < nmiss; i++) {
		while (k < nexist && exist[k] < miss[i])
			k++;
		if (k >= nexist || exist[k] != miss[i]) {
			log_info("%s: uid %u: expunged before it was read",
			    mailbox, miss[i]);
			store_refetch_forget(p->store, mailbox, uidvalidity,
			    miss[i]);
			continue;
		}
		attempts = store_refetch_note(p->store, mailbox, uidvalidity,
		    miss[i], now + PIPELINE_REFETCH_DELAY);
		if (attempts == -1) {
			*cause = xstrdup("cannot record a message to fetch "
			    "again");
			rc = PIPELINE_TEMP;
			break;
		}
		if (attempts >= PIPELINE_REFETCH_MAX) {
			if (pipeline_unreadable(p, mailbox, uidvalidity,
			    miss[i], "missing from the server's replies",
			    cause) == -1) {
				rc = PIPELINE_TEMP;
				break;
			}
			continue;
		}
		log_warnx("%s: uid %u: not in the server's reply; fetching it "
		    "again later (try %d of %d)", mailbox, miss[i], attempts,
		    PIPELINE_REFETCH_MAX);
	}
	free(exist);
	free(miss);
	return (rc);
}

/*
 * After a command broke the session: log in again and select the mailbox,
 * which must still have the same UIDVALIDITY.
 */
static enum pipeline_status
pipeline_reconnect(struct pipeline *p, const char *mailbox,
    uint32_t uidvalidity, char **cause)
{
	uint32_t		validity, next;
	enum pipeline_status	rc;

	pipeline_disconnect(p);
	if ((rc = pipeline_connect(p, cause)) != PIPELINE_OK)
		return (rc);
	if (imap_select(p->imap, mailbox, &validity, &next, cause) == -1)
		return (PIPELINE_UNAVAILABLE);
	if (validity != uidvalidity) {
		*cause = xasprintf("%s: UIDVALIDITY changed during the pass",
		    mailbox);
		return (PIPELINE_UNAVAILABLE);
	}
	return (PIPELINE_OK);
}

/*
 * Fetch and handle a set of UIDs. When the server refuses the batch (a
 * tagged NO, or Dovecot's BYE and hang-up for a message it cannot read),
 * log in again if need be and fetch one UID at a time; the one the server
 * still refuses on a second try is recorded as unreadable, so one bad
 * message never stalls the mailbox. When the server cannot be reached
 * again, nothing is marked. *stopped is set when a stop was asked for.
 */
static enum pipeline_status
pipeline_fetch(struct pipeline *p, const char *mailbox, uint32_t uidvalidity,
    const uint32_t *uids, size_t n, uint32_t boundary, time_t now,
    int *stopped, char **cause)
{
	struct imap_fetched	*f;
	enum pipeline_status	 rc;
	size_t			 nf, done, i;
	int			 try;

	for (try = 0; try < 2; try++) {
		if (imap_fetch(p->imap, uids, n, &f, &nf, cause) == 0) {
			rc = pipeline_batch(p, mailbox, uidvalidity, f, nf,
			    boundary, now, &done, cause);
			if (rc == PIPELINE_OK && done < nf)
				*stopped = 1;
			if (rc == PIPELINE_OK && !*stopped)
				rc = pipeline_missing(p, mailbox, uidvalidity,
				    uids, n, f, nf, now, cause);
			imap_fetched_free(f, nf);
			return (rc);
		}
		log_warnx("%s: %s", mailbox, *cause);
		free(*cause);
		*cause = NULL;
		if (!imap_alive(p->imap) && (rc = pipeline_reconnect(p,
		    mailbox, uidvalidity, cause)) != PIPELINE_OK)
			return (rc);
		/* A batch is split at once; one message gets a second try. */
		if (n > 1)
			break;
	}
	if (n == 1) {
		/* Refused twice: this message is what the server fails on. */
		if (pipeline_unreadable(p, mailbox, uidvalidity, uids[0],
		    "the server failed to send it", cause) == -1)
			return (PIPELINE_TEMP);
		return (PIPELINE_OK);
	}
	log_warnx("%s: fetching %zu messages one at a time", mailbox, n);
	for (i = 0; i < n; i++) {
		if (sig_stop()) {
			*stopped = 1;
			return (PIPELINE_OK);
		}
		if ((rc = pipeline_fetch(p, mailbox, uidvalidity, &uids[i], 1,
		    boundary, now, stopped, cause)) != PIPELINE_OK)
			return (rc);
	}
	return (PIPELINE_OK);
}

/* End a pass with rc: a session that failed is dropped, to log in anew. */
static enum pipeline_status
pipeline_end(struct pipeline *p, enum pipeline_status rc)
{
	if (rc == PIPELINE_UNAVAILABLE)
		pipeline_disconnect(p);
	return (rc);
}

/* Send what is due; a failure is logged and waits for the next flush. */
static void
pipeline_flush_logged(struct pipeline *p)
{
	char	*cause = NULL;

	if (pipeline_flush(p, &cause) != PIPELINE_OK) {
		log_warnx("outbox: %s", cause);
		free(cause);
	}
}

/*
 * Erase the personal data of messages older than [triage] retention, at
 * most once an hour (each `once` is a new process, so each does it).
 */
static void
pipeline_retention(struct pipeline *p, time_t now)
{
	time_t	keep = p->conf->triage.retention;
	long	n;

	if (p->retention_at != 0 && now - p->retention_at < 3600)
		return;
	p->retention_at = now;
	if ((n = store_retention(p->store, now - keep)) > 0)
		log_info("retention: erased the personal data of %ld "
		    "message%s older than %lld days", n, n == 1 ? "" : "s",
		    (long long)(keep / 86400));
	else if (n == -1)
		log_warnx("retention: could not erase old personal data; "
		    "trying again next hour");
}

/* The daily digest, when it is due (a failure tries on the next pass). */
static void
pipeline_digest(struct pipeline *p, time_t now)
{
	char	*cause = NULL;

	if (!digest_due(p->conf, p->store, now))
		return;
	if (digest_send(p->conf, p->store, now, &cause) == -1) {
		log_warnx("%s; trying again on the next pass", cause);
		free(cause);
	}
}

static enum pipeline_status
pipeline_pass(struct pipeline *p, char **cause)
{
	const char		*mailbox = p->conf->imap.mailbox;
	uint32_t		 uidvalidity, uidnext, last, boundary;
	uint32_t		*uids;
	size_t			 nuids, i, chunk;
	time_t			 now = time(NULL);
	int			 stopped = 0;
	enum pipeline_status	 rc;

	p->smtp_down = 0;
	if ((rc = pipeline_open_store(p, cause)) != PIPELINE_OK)
		return (rc);
	if ((rc = pipeline_connect(p, cause)) != PIPELINE_OK)
		return (rc);
	if (imap_select(p->imap, mailbox, &uidvalidity, &uidnext,
	    cause) == -1)
		return (pipeline_end(p, PIPELINE_UNAVAILABLE));
	if ((rc = pipeline_position(p, mailbox, uidvalidity, uidnext, &last,
	    &boundary, cause)) != PIPELINE_OK)
		return (pipeline_end(p, rc));
	p->uidvalidity = uidvalidity;

	/*
	 * New mail is triaged, filed and flagged before anything is sent: a
	 * slow or frozen SMTP server never delays a crisis flag. What a
	 * crash or an outage left unsent goes at the end of the pass.
	 */

	/* Messages to fetch again, one at a time. */
	if (store_refetch_due(p->store, mailbox, uidvalidity, now, &uids,
	    &nuids) == -1) {
		*cause = xstrdup("cannot read the messages to fetch again");
		return (PIPELINE_TEMP);
	}
	for (i = 0; i < nuids && !stopped; i++) {
		rc = pipeline_fetch(p, mailbox, uidvalidity, &uids[i], 1,
		    boundary, now, &stopped, cause);
		if (rc != PIPELINE_OK) {
			free(uids);
			return (pipeline_end(p, rc));
		}
	}
	free(uids);

	if (imap_search_after(p->imap, last, &uids, &nuids, cause) == -1)
		return (pipeline_end(p, PIPELINE_UNAVAILABLE));
	if (nuids > 0)
		log_info("%s: %zu new message%s%s", mailbox, nuids,
		    nuids == 1 ? "" : "s", uids[0] < boundary ?
		    " (first run)" : "");
	for (i = 0; i < nuids && !stopped; i += chunk) {
		chunk = nuids - i < p->conf->imap.batch ? nuids - i :
		    p->conf->imap.batch;
		rc = pipeline_fetch(p, mailbox, uidvalidity, uids + i, chunk,
		    boundary, now, &stopped, cause);
		if (rc != PIPELINE_OK) {
			free(uids);
			return (pipeline_end(p, rc));
		}
		/* Missing ones are noted to fetch again: move past them. */
		if (!stopped && store_set_position(p->store, mailbox,
		    uidvalidity, uids[i + chunk - 1]) == -1) {
			free(uids);
			*cause = xstrdup("cannot record the mailbox position");
			return (PIPELINE_TEMP);
		}
		/* File, then answer, each batch before fetching the next. */
		if (pipeline_file(p, mailbox, uidvalidity, cause) != 0 ||
		    folders_file(p, mailbox, uidvalidity, now, cause) !=
		    PIPELINE_OK) {
			free(uids);
			return (pipeline_end(p, PIPELINE_UNAVAILABLE));
		}
		if (!stopped)
			pipeline_flush_logged(p);
	}
	free(uids);
	if (nuids == 0 && (pipeline_file(p, mailbox, uidvalidity, cause) !=
	    0 || folders_file(p, mailbox, uidvalidity, now, cause) !=
	    PIPELINE_OK))
		return (pipeline_end(p, PIPELINE_UNAVAILABLE));
	if (!stopped)
		pipeline_flush_logged(p);
	if (!stopped && (rc = pipeline_handled(p, mailbox, uidvalidity, now,
	    cause)) != PIPELINE_OK)
		return (pipeline_end(p, rc));
	pipeline_retention(p, now);
	pipeline_digest(p, now);
	if (stopped)
		log_info("%s: stop asked for; the rest waits for the next "
		    "start", mailbox);
	return (PIPELINE_OK);
}

/*
 * `triaged reply ID`: the reply a queue item would have had (see
 * pipeline.h). The message is fetched again (the state keeps no text),
 * judged, and decided as new mail would be, with every guard, the reply
 * window and the known senders; only "first run" and "too old" no longer
 * hold, since a person asks for it.
 */
enum pipeline_status
pipeline_reply_item(struct pipeline *p, int64_t id, char **cause, int *sent)
{
	struct store_item	 item, again;
	struct imap_fetched	*f = NULL;
	struct pipeline_item	 it;
	struct decide_facts	 facts;
	struct store_outgoing	 out;
	struct store_lock	*lock;
	uint32_t		 uid, uidvalidity, uidnext;
	size_t			 nf = 0;
	time_t			 now = time(NULL);
	enum pipeline_status	 rc = PIPELINE_TEMP;
	char			*why = NULL;
	int			 r;

	*sent = 0;
	if (p->store == NULL && (p->store = store_open(p->conf->triage.state,
	    cause)) == NULL)
		return (PIPELINE_TEMP);
	if ((r = store_item_get(p->store, id, &item)) != 1) {
		*cause = r == 0 ? xasprintf("no item %lld", (long long)id) :
		    xstrdup("cannot read the queue");
		return (r == 0 ? PIPELINE_DATA : PIPELINE_TEMP);
	}
	if (item.reply_status != NULL) {
		*cause = xasprintf("item %lld has its reply already (%s)",
		    (long long)id, item.reply_status);
		store_item_free(&item);
		return (PIPELINE_DATA);
	}
	uid = (uint32_t)item.uid;
	if ((rc = pipeline_connect(p, cause)) != PIPELINE_OK)
		goto done;
	rc = PIPELINE_UNAVAILABLE;
	/* Filed by file_into: it is read where it sits now. */
	if (item.row.folder != NULL && item.row.folder_uid != 0) {
		p->reading_folder = item.row.folder;
		uid = item.row.folder_uid;
		if (imap_select_folder(p->imap, item.row.folder, &uidvalidity,
		    &uidnext, cause) == -1)
			goto done;
	} else if (imap_select(p->imap, item.mailbox, &uidvalidity, &uidnext,
	    cause) == -1)
		goto done;
	if (imap_fetch(p->imap, &uid, 1, &f, &nf, cause) == -1)
		goto done;
	rc = PIPELINE_DATA;
	if ((p->reading_folder == NULL && uidvalidity != item.uidvalidity) ||
	    nf != 1) {
		*cause = xasprintf("item %lld is no longer in %s (moved, "
		    "deleted, or the mailbox was rebuilt)", (long long)id,
		    p->reading_folder != NULL ? p->reading_folder :
		    item.mailbox);
		goto done;
	}
	/* Selected again after the Sent folder: the one it was read from. */
	p->uidvalidity = uidvalidity;
	/* Judged as the message it was in the mailbox (the same seed). */
	f[0].uid = (uint32_t)item.uid;
	pipeline_item_init(p, item.mailbox, item.uidvalidity, &f[0], &it);
	/* Answered by hand meanwhile (a reply in Sent), or a known sender. */
	if (pipeline_wants_reply(p, it.msg, &it.d) &&
	    it.msg->message_id != NULL) {
		if ((r = imap_sent_has_reply(p->imap,
		    p->conf->triage.sent_folder, it.msg->message_id,
		    cause)) == -1 || pipeline_reselect(p, cause) != PIPELINE_OK) {
			pipeline_item_free(&it);
			rc = PIPELINE_UNAVAILABLE;
			goto done;
		}
		it.answered = r;
	}
	if ((rc = pipeline_known_sent(p, &it, 1, now, cause)) != PIPELINE_OK) {
		pipeline_item_free(&it);
		goto done;
	}
	rc = PIPELINE_DATA;
	memset(&facts, 0, sizeof facts);
	facts.known_sent = it.known_sent;
	facts.answered = it.answered;
	if (pipeline_wants_reply(p, it.msg, &it.d))
		facts.replied = store_replied_since(p->store, it.d.guard.rcpt,
		    it.d.verdict.template, now - p->conf->triage.reply_window);
	if (pipeline_decide(p, it.msg, it.seed, 0, now, 0, &facts,
	    &it.d) == -1) {
		*cause = xstrdup("cannot read the reply history");
		rc = PIPELINE_TEMP;
	} else if (!it.d.has_reply) {
		*cause = xasprintf("no reply for item %lld: %s", (long long)id,
		    it.d.suppressed != NULL ? it.d.suppressed : "not answered");
	} else {
		memset(&out, 0, sizeof out);
		out.rcpt = it.d.reply.rcpt;
		out.envelope_from = p->conf->smtp.envelope_from;
		out.template = it.d.verdict.template;
		out.subject = it.d.reply.subject;
		out.message_id = it.d.reply.message_id;
		out.data = it.d.reply.data;
		out.len = it.d.reply.len;
		if ((r = store_add_reply(p->store, id, &out)) == 1) {
			log_info("%s: uid %u: reply queued by hand",
			    item.mailbox, uid);
			rc = PIPELINE_OK;
		} else if (r == 0)
			*cause = xasprintf("item %lld has its reply already",
			    (long long)id);
		else {
			*cause = xstrdup("cannot write the state");
			rc = PIPELINE_TEMP;
		}
	}
	pipeline_item_free(&it);
	/* Sent now unless a running daemon holds the state: then it does. */
	if (rc == PIPELINE_OK && p->lock == NULL) {
		if ((lock = store_lock(p->conf->triage.state, &why)) != NULL) {
			p->lock = lock;
			if (pipeline_flush(p, &why) == PIPELINE_OK &&
			    store_item_get(p->store, id, &again) == 1) {
				*sent = strcmp(again.row.status,
				    STORE_REPLIED) == 0;
				store_item_free(&again);
			}
		}
		free(why);
	}
done:
	p->reading_folder = NULL;
	imap_fetched_free(f, nf);
	store_item_free(&item);
	return (rc);
}

/*
 * `triaged train`: the messages the therapist corrected, fetched again by
 * UID where they sit now (file_into folders included) and handed to add
 * with their corrected category, one at a time; their text is never
 * kept. A state that does not exist has none. Returns how many were
 * added, or -1 with *cause (nothing was added then).
 */
long
pipeline_corrected(struct pipeline *p,
    void (*add)(void *, const struct msg *, const char *), void *arg,
    char **cause)
{
	struct store_correction	*c = NULL;
	struct store_item	 item;
	struct imap_fetched	*f = NULL;
	struct msg		*msg;
	struct stat		 sb;
	uint32_t		 uid, validity, next;
	size_t			 n = 0, i, j, nf = 0;
	long			 added = 0, missing = 0;
	int			 r;

	if (stat(p->conf->triage.state, &sb) == -1)
		return (0);
	if (p->store == NULL && (p->store = store_open(p->conf->triage.state,
	    cause)) == NULL)
		return (-1);
	if (store_corrections(p->store, 0, &c, &n) == -1) {
		*cause = xstrdup("cannot read the corrections");
		return (-1);
	}
	for (i = 0; i < n; i++) {
		/* Newest first: a message counts once, as last corrected. */
		for (j = 0; j < i && c[j].message != c[i].message; j++)
			;
		if (j < i || store_item_get(p->store, c[i].message,
		    &item) != 1)
			continue;
		if (p->imap == NULL && pipeline_connect(p, cause) !=
		    PIPELINE_OK) {
			store_item_free(&item);
			store_corrections_free(c, n);
			return (-1);
		}
		uid = (uint32_t)item.uid;
		if (item.row.folder != NULL && item.row.folder_uid != 0) {
			uid = item.row.folder_uid;
			r = imap_select_folder(p->imap, item.row.folder,
			    &validity, &next, cause);
		} else if ((r = imap_select(p->imap, item.mailbox, &validity,
		    &next, cause)) == 0 && validity != item.uidvalidity)
			uid = 0;	/* the mailbox was rebuilt */
		if (r == 0 && uid != 0)
			r = imap_fetch(p->imap, &uid, 1, &f, &nf, cause);
		if (r == -1 && !imap_alive(p->imap)) {
			store_item_free(&item);
			store_corrections_free(c, n);
			return (-1);
		}
		free(*cause);
		*cause = NULL;
		if (r == 0 && nf == 1) {
			msg = mime_parse(f[0].raw, f[0].len, &p->limits);
			add(arg, msg, c[i].to);
			msg_free(msg);
			added++;
		} else
			missing++;
		imap_fetched_free(f, nf);
		f = NULL;
		nf = 0;
		store_item_free(&item);
	}
	store_corrections_free(c, n);
	if (missing > 0)
		log_warnx("train: %ld corrected message%s no longer in the "
		    "mailbox or its folders", missing, missing == 1 ? " is" :
		    "s are");
	return (added);
}

/*
 * One pass, and what it says about the machine's health: the figures
 * `triaged status` shows, and the alerts ([alerts] to) when the inbox
 * cannot be read or replies keep failing.
 */
enum pipeline_status
pipeline_once(struct pipeline *p, char **cause)
{
	struct timespec		 t0, t1;
	struct store_problem	 pr;
	enum pipeline_status	 rc;
	time_t			 now;
	int			 was_failing;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	p->smtp_worked = 0;
	free(p->smtp_failure);
	p->smtp_failure = NULL;
	rc = pipeline_pass(p, cause);
	if (p->store == NULL)
		return (rc);	/* nowhere to note it: the log says it */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	now = time(NULL);
	if (rc == PIPELINE_OK) {
		was_failing = store_problem_get(p->store, ALERT_IMAP, &pr) == 1;
		if (was_failing || store_health_get(p->store,
		    "imap_ok_since") == 0)
			store_health_set(p->store, "imap_ok_since", now);
		store_health_set(p->store, "last_pass", now);
		store_health_set(p->store, "last_pass_ms",
		    (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000);
		alert_ok(p->conf, p->store, ALERT_IMAP, now);
	} else if (rc == PIPELINE_UNAVAILABLE || rc == PIPELINE_CONFIG)
		alert_failure(p->conf, p->store, ALERT_IMAP, *cause != NULL ?
		    *cause : "the pass failed", now);
	if (p->smtp_worked)
		alert_ok(p->conf, p->store, ALERT_SMTP, now);
	else if (p->smtp_failure != NULL)
		alert_failure(p->conf, p->store, ALERT_SMTP, p->smtp_failure,
		    now);
	return (rc);
}

unsigned
pipeline_next_wake(struct pipeline *p, unsigned max)
{
	time_t		due, now = time(NULL);
	unsigned	wait = max;

	/* The digest's time wakes the daemon too. */
	if (p->conf->digest.to != NULL && (due = digest_next(p->conf, now)) >
	    now && (time_t)wait > due - now)
		wait = (unsigned)(due - now);
	if (p->store == NULL || store_next_try(p->store, &due) != 1)
		return (wait);
	if (due < p->smtp_probe_at)
		due = p->smtp_probe_at;
	if (due <= now)
		return (1);
	if ((time_t)wait > due - now)
		wait = (unsigned)(due - now);
	return (wait > 0 ? wait : 1);
}
