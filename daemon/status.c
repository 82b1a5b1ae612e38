/*
 * The health of one triaged instance, from its state database (opened
 * read-only), its lock file and its rules and templates folders.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "buf.h"
#include "distfiles.h"
#include "json.h"
#include "rules.h"
#include "status.h"
#include "store.h"
#include "xmalloc.h"

/* What status reads, before it is printed. */
struct status {
	time_t			 now;
	long			 pid;		/* the daemon, 0: not running */
	int			 have_state;
	struct store_problem	 imap, smtp;
	int			 imap_open, smtp_open;
	time_t			 imap_ok_since, last_pass;
	int64_t			 last_pass_ms;
	struct store_outbox_counts out;
	size_t			 nrules, ncategories, ntemplates;
	time_t			 rules_mtime, templates_mtime;
	int			 level;
	const char		*why;		/* the worst finding */
};

/*
 * The pid holding the instance lock (an flock on STATE.lock), from
 * /proc/locks: exact, and it never takes the lock itself (which could
 * make a daemon starting at that moment exit). 0 when nobody holds it.
 */
static long
status_lock_holder(const char *state)
{
	struct stat	 st;
	FILE		*fp;
	char		*path, line[256], type[16], mode[16], rw[16];
	unsigned	 maj, min;
	unsigned long	 ino;
	long		 pid, found = 0;

	path = xasprintf("%s.lock", state);
	if (stat(path, &st) == -1) {
		free(path);
		return (0);
	}
	free(path);
	if ((fp = fopen("/proc/locks", "r")) == NULL)
		return (0);
	while (found == 0 && fgets(line, sizeof line, fp) != NULL) {
		if (sscanf(line, "%*d: %15s %15s %15s %ld %x:%x:%lu", type,
		    mode, rw, &pid, &maj, &min, &ino) != 7)
			continue;
		if (strcmp(type, "FLOCK") == 0 && ino == st.st_ino &&
		    makedev(maj, min) == st.st_dev)
			found = pid;
	}
	fclose(fp);
	return (found);
}

/* Count the files of dir that a loader reads (suffix, or any) and the
 * newest modification time among them. */
static size_t
status_folder(const char *dir, const char *suffix, time_t *newest)
{
	DIR		*dp;
	struct dirent	*de;
	struct stat	 st;
	char		*path;
	size_t		 n = 0, len, k = suffix != NULL ? strlen(suffix) : 0;

	*newest = 0;
	if ((dp = opendir(dir)) == NULL)
		return (0);
	while ((de = readdir(dp)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || distfiles_is_leftover(de->d_name) ||
		    (suffix != NULL && (len <= k ||
		    strcmp(de->d_name + len - k, suffix) != 0)))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			n++;
			if (st.st_mtime > *newest)
				*newest = st.st_mtime;
		}
		free(path);
	}
	closedir(dp);
	return (n);
}

/* Worsen the verdict to level with a reason (the first of a level). */
static void
status_worse(struct status *s, int level, const char *why)
{
	if (level > s->level) {
		s->level = level;
		s->why = why;
	}
}

static void
status_read(struct pipeline *p, struct status *s)
{
	const struct conf	*conf = p->conf;
	char			*cause = NULL;
	time_t			 stale;

	memset(s, 0, sizeof *s);
	s->now = time(NULL);
	s->pid = status_lock_holder(conf->triage.state);
	s->ncategories = rules_ncategories(p->rules);
	s->nrules = status_folder(conf->triage.rules, ".rules",
	    &s->rules_mtime);
	s->ntemplates = status_folder(conf->triage.templates, NULL,
	    &s->templates_mtime);
	if (access(conf->triage.state, F_OK) == 0 &&
	    (p->store = store_open_ro(conf->triage.state, &cause)) != NULL) {
		s->have_state = 1;
		s->imap_open = store_problem_get(p->store, ALERT_IMAP,
		    &s->imap) == 1 && s->imap.recovered_at == 0;
		s->smtp_open = store_problem_get(p->store, ALERT_SMTP,
		    &s->smtp) == 1 && s->smtp.recovered_at == 0;
		s->imap_ok_since = store_health_get(p->store,
		    "imap_ok_since");
		s->last_pass = store_health_get(p->store, "last_pass");
		s->last_pass_ms = store_health_get(p->store, "last_pass_ms");
		store_outbox_counts(p->store, &s->out, s->now - 86400);
	}
	free(cause);

	/* Down: the inbox is not read. Degraded: something needs a look. */
	stale = 3 * conf->triage.poll_interval > 900 ?
	    3 * conf->triage.poll_interval : 900;
	if (!s->have_state)
		status_worse(s, STATUS_DOWN, "no pass has run yet");
	else if (s->imap_open)
		status_worse(s, STATUS_DOWN, "the inbox cannot be read");
	else if (s->last_pass == 0)
		status_worse(s, STATUS_DOWN, "no pass has finished yet");
	if (s->smtp_open)
		status_worse(s, STATUS_DEGRADED, "replies are not going out");
	if (s->have_state && s->last_pass != 0 &&
	    s->now - s->last_pass > stale)
		status_worse(s, STATUS_DEGRADED, s->pid == 0 ?
		    "no recent pass, and triaged is not running" :
		    "no recent pass although triaged runs");
	if (s->out.failed > 0)
		status_worse(s, STATUS_DEGRADED, "replies failed in the last "
		    "24 hours");
	if (s->out.pending > 0 && s->now - s->out.oldest_pending > 3600)
		status_worse(s, STATUS_DEGRADED, "a reply has waited over an "
		    "hour");
}

/* "12 min ago", "3 h ago", "never" */
static void
status_ago(struct buf *b, time_t now, time_t t)
{
	time_t	d = now - t;

	if (t == 0)
		buf_addstr(b, "never");
	else if (d < 120)
		buf_printf(b, "%lld s ago", (long long)d);
	else if (d < 7200)
		buf_printf(b, "%lld min ago", (long long)(d / 60));
	else if (d < 172800)
		buf_printf(b, "%lld h ago", (long long)(d / 3600));
	else
		buf_printf(b, "%lld days ago", (long long)(d / 86400));
}

static void
status_text(const struct pipeline *p, const struct status *s, struct buf *b)
{
	const struct conf	*conf = p->conf;
	static const char	*names[] = { "healthy", "degraded", "down" };

	buf_printf(b, "triaged: %s", names[s->level]);
	if (s->why != NULL)
		buf_printf(b, " (%s)", s->why);
	buf_printf(b, "\n  daemon      ");
	if (s->pid != 0)
		buf_printf(b, "running (pid %ld)\n", s->pid);
	else
		buf_addstr(b, "not running\n");
	buf_printf(b, "  inbox       %s at %s, %s: ", conf->imap.user,
	    conf->imap.host, conf->imap.mailbox);
	if (s->imap_open) {
		buf_addstr(b, "FAILING since ");
		status_ago(b, s->now, s->imap.since);
		buf_printf(b, "\n              %s\n", s->imap.error);
	} else if (s->imap_ok_since != 0) {
		buf_addstr(b, "ok since ");
		status_ago(b, s->now, s->imap_ok_since);
		buf_addch(b, '\n');
	} else
		buf_addstr(b, "not read yet\n");
	buf_addstr(b, "  last pass   ");
	status_ago(b, s->now, s->last_pass);
	if (s->last_pass != 0)
		buf_printf(b, ", took %lld ms", (long long)s->last_pass_ms);
	buf_addstr(b, "\n  replies     ");
	if (s->smtp_open) {
		buf_addstr(b, "FAILING since ");
		status_ago(b, s->now, s->smtp.since);
		buf_printf(b, "\n              %s\n", s->smtp.error);
	} else
		buf_addstr(b, "ok\n");
	buf_printf(b, "  outbox      %lld pending", (long long)s->out.pending);
	if (s->out.pending > 0) {
		buf_addstr(b, " (oldest received ");
		status_ago(b, s->now, s->out.oldest_pending);
		buf_addch(b, ')');
	}
	buf_printf(b, ", %lld failed in 24 h\n", (long long)s->out.failed);
	buf_addstr(b, "  last reply  ");
	status_ago(b, s->now, s->out.last_sent);
	buf_printf(b, "\n  triaged     %lld messages\n",
	    (long long)s->out.messages);
	buf_printf(b, "  rules       %zu files, %zu categories, last edited ",
	    s->nrules, s->ncategories);
	status_ago(b, s->now, s->rules_mtime);
	buf_printf(b, "\n  templates   %zu, last edited ", s->ntemplates);
	status_ago(b, s->now, s->templates_mtime);
	buf_addstr(b, "\n  alerts      ");
	if (conf->alerts.to == NULL)
		buf_addstr(b, "off (set [alerts] to)");
	else
		buf_printf(b, "to %s after %lld min", conf->alerts.to,
		    (long long)(conf->alerts.after / 60));
	if (s->imap_open && s->imap.alerted_at != 0)
		buf_addstr(b, "; open: inbox");
	if (s->smtp_open && s->smtp.alerted_at != 0)
		buf_addstr(b, "; open: replies");
	buf_addch(b, '\n');
}

/* A problem as JSON: null, or its state. */
static void
status_json_problem(struct buf *b, int open, const struct store_problem *pr)
{
	if (!open) {
		buf_addstr(b, "null");
		return;
	}
	buf_printf(b, "{\"since\":%lld,\"last\":%lld,\"error\":",
	    (long long)pr->since, (long long)pr->last_at);
	json_string(b, pr->error);
	buf_printf(b, ",\"alerted_at\":");
	if (pr->alerted_at != 0)
		buf_printf(b, "%lld}", (long long)pr->alerted_at);
	else
		buf_addstr(b, "null}");
}

static void
status_json(const struct pipeline *p, const struct status *s, struct buf *b)
{
	static const char	*names[] = { "healthy", "degraded", "down" };

	buf_printf(b, "{\"status\":\"%s\",\"reason\":", names[s->level]);
	json_string_or_null(b, s->why);
	buf_printf(b, ",\"now\":%lld,\"daemon_pid\":", (long long)s->now);
	if (s->pid != 0)
		buf_printf(b, "%ld", s->pid);
	else
		buf_addstr(b, "null");
	buf_printf(b, ",\"imap_ok_since\":%lld,\"imap_problem\":",
	    (long long)s->imap_ok_since);
	status_json_problem(b, s->imap_open, &s->imap);
	buf_addstr(b, ",\"smtp_problem\":");
	status_json_problem(b, s->smtp_open, &s->smtp);
	buf_printf(b, ",\"last_pass\":%lld,\"last_pass_ms\":%lld,"
	    "\"pending\":%lld,\"oldest_pending\":%lld,\"failed_24h\":%lld,"
	    "\"last_reply\":%lld,\"messages\":%lld,\"rules_files\":%zu,"
	    "\"categories\":%zu,\"rules_mtime\":%lld,\"templates\":%zu,"
	    "\"templates_mtime\":%lld,\"alerts_to\":",
	    (long long)s->last_pass, (long long)s->last_pass_ms,
	    (long long)s->out.pending, (long long)s->out.oldest_pending,
	    (long long)s->out.failed, (long long)s->out.last_sent,
	    (long long)s->out.messages, s->nrules, s->ncategories,
	    (long long)s->rules_mtime, s->ntemplates,
	    (long long)s->templates_mtime);
	json_string_or_null(b, p->conf->alerts.to);
	buf_addstr(b, "}\n");
}

int
status_show(struct pipeline *p, int json)
{
	struct status	s;
	struct buf	b;

	status_read(p, &s);
	buf_init(&b, 0);
	if (json)
		status_json(p, &s, &b);
	else
		status_text(p, &s, &b);
	fwrite(buf_str(&b), 1, b.len, stdout);
	buf_free(&b);
	return (s.level);
}
