/*
 * triaged: answer and sort the inquiries that reach a psychotherapy
 * practice by email. Options and the subcommand table; each subcommand
 * exits with a sysexits.h code.
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "buf.h"
#include "daemon.h"
#include "diag.h"
#include "digest.h"
#include "distfiles.h"
#include "json.h"
#include "model.h"
#include "log.h"
#include "pipeline.h"
#include "signals.h"
#include "status.h"
#include "store.h"
#include "xmalloc.h"

#define DEFAULT_CONF	TRIAGED_SYSCONFDIR "/triaged/triaged.conf"
/* The most classify reads from a file or stdin. */
#define CLASSIFY_MAX	(32 * 1024 * 1024)

struct cmd_entry {
	const char	*name;
	int		(*exec)(const char *, int, char **);
	const char	*usage;
};

static int	cmd_run(const char *, int, char **);
static int	cmd_once(const char *, int, char **);
static int	cmd_check(const char *, int, char **);
static int	cmd_classify(const char *, int, char **);
static int	cmd_queue(const char *, int, char **);
static int	cmd_train(const char *, int, char **);
static int	cmd_forget(const char *, int, char **);
static int	cmd_status(const char *, int, char **);
static int	cmd_digest(const char *, int, char **);
static int	cmd_reply(const char *, int, char **);
static long long queue_id(const char *, const char *);

static const struct cmd_entry cmd_table[] = {
	{ "run", cmd_run, "run" },
	{ "once", cmd_once, "once" },
	{ "check", cmd_check, "check" },
	{ "classify", cmd_classify,
	    "classify [--json] [--explain] [FILE.eml ... | -]" },
	{ "queue", cmd_queue,
	    "queue [--json] [--category C] [--status S] [--since D] "
	    "[--corrections] | queue show ID | queue done ID" },
	{ "train", cmd_train, "train CORPUS..." },
	{ "status", cmd_status, "status [--json]" },
	{ "forget", cmd_forget, "forget ADDRESS" },
	{ "digest", cmd_digest, "digest" },
	{ "reply", cmd_reply, "reply ID" },
};

/* Print the usage of every subcommand. */
static void
usage(FILE *fp)
{
	size_t	i;

	fprintf(fp, "usage: triaged [-sv] [-c FILE] COMMAND [ARGS]\n");
	for (i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++)
		fprintf(fp, "       triaged [-c FILE] %s\n", cmd_table[i].usage);
	fprintf(fp, "       triaged --help | --version\n");
}

/* Load config, rules and templates, or print every error and fail. */
static int
load(struct pipeline *p, const char *confpath)
{
	struct diag	diag;
	int		rc;

	diag_init(&diag);
	rc = pipeline_load(p, confpath, &diag);
	diag_print(&diag, stderr);
	diag_free(&diag);
	if (rc == -1) {
		pipeline_free(p);
		return (-1);
	}
	return (0);
}

/*
 * load() for the daemon: when the configuration is readable but the rules
 * or templates are not, [alerts] to hears of it (the service stays down
 * until someone fixes them).
 */
static int
load_or_alert(struct pipeline *p, const char *confpath)
{
	struct diag	diag;
	struct buf	errors;
	size_t		i;
	int		rc;

	diag_init(&diag);
	rc = pipeline_load(p, confpath, &diag);
	diag_print(&diag, stderr);
	if (rc == -1 && p->conf != NULL) {
		buf_init(&errors, 8192);
		for (i = 0; i < diag.n; i++)
			if (diag.items[i].severity == DIAG_ERROR)
				buf_printf(&errors, "\n%s%s", diag.items[i].loc,
				    diag.items[i].msg);
		alert_load_failed(p->conf, buf_str(&errors));
		buf_free(&errors);
	}
	diag_free(&diag);
	if (rc == -1) {
		pipeline_free(p);
		return (-1);
	}
	return (0);
}

/* Map a pass result to an exit code, printing the cause. */
static int
pass_exit(enum pipeline_status st, char *cause)
{
	if (cause != NULL) {
		/* What the next try will not mend is an error. */
		if (st == PIPELINE_CONFIG || st == PIPELINE_UNAVAILABLE)
			log_errx("%s", cause);
		else
			log_warnx("%s", cause);
		free(cause);
	}
	switch (st) {
	case PIPELINE_OK:
		return (EX_OK);
	case PIPELINE_UNAVAILABLE:
		return (EX_UNAVAILABLE);
	case PIPELINE_CONFIG:
		return (EX_CONFIG);
	case PIPELINE_DATA:
		return (EX_DATAERR);
	case PIPELINE_LOCKED:
	case PIPELINE_TEMP:
		break;
	}
	return (EX_TEMPFAIL);
}

static int
cmd_once(const char *confpath, int argc, char **argv)
{
	struct pipeline		 p;
	char			*cause = NULL;
	enum pipeline_status	 st;

	if (argc != 1)
		return (EX_USAGE);
	/* SIGTERM lets the message in hand finish; see triaged(8). */
	sig_setup();
	if (load(&p, confpath) == -1)
		return (EX_CONFIG);
	st = pipeline_once(&p, &cause);
	pipeline_free(&p);
	return (pass_exit(st, cause));
}

static int
cmd_run(const char *confpath, int argc, char **argv)
{
	struct pipeline	p;
	int		rc;

	if (argc != 1)
		return (EX_USAGE);
	/*
	 * Before the rules and the model load (a second or more for a large
	 * model): a SIGHUP or SIGTERM then waits, blocked, for the loop
	 * instead of killing the daemon with its default action.
	 */
	sig_setup();
	if (load_or_alert(&p, confpath) == -1)
		return (EX_CONFIG);
	rc = daemon_run(&p);
	pipeline_free(&p);
	return (rc);
}

static int
cmd_check(const char *confpath, int argc, char **argv)
{
	struct pipeline	p;
	struct diag	dist;
	char		*confdir, *slash;

	if (argc != 1)
		return (EX_USAGE);
	if (load(&p, confpath) == -1)
		return (EX_CONFIG);
	/* New defaults that make install left beside edited files. */
	diag_init(&dist);
	confdir = xstrdup(p.conf->path);
	if ((slash = strrchr(confdir, '/')) != NULL)
		*slash = '\0';
	distfiles_check(slash != NULL ? confdir : ".", &dist);
	distfiles_check(p.conf->triage.rules, &dist);
	distfiles_check(p.conf->triage.templates, &dist);
	diag_print(&dist, stderr);
	diag_free(&dist);
	free(confdir);
	printf("%s: ok (%zu categories)\n", confpath,
	    rules_ncategories(p.rules));
	pipeline_free(&p);
	return (EX_OK);
}

/*
 * A data-subject request: erase one person's data from the state now and
 * say what went. The mailbox (the messages, the Sent copies) is the
 * practice's record and is left as it is.
 */
/*
 * `triaged reply ID`: the reply a queue item would have had (first-run
 * mail, mail too old when it arrived), with the guard's checks, once.
 */
static int
cmd_reply(const char *confpath, int argc, char **argv)
{
	struct pipeline		 p;
	enum pipeline_status	 st;
	char			*cause = NULL;
	long long		 id;
	int			 sent;

	if (argc != 2)
		return (EX_USAGE);
	if ((id = queue_id(argv[1], "reply")) == -1)
		return (EX_USAGE);
	sig_setup();
	if (load(&p, confpath) == -1)
		return (EX_CONFIG);
	st = pipeline_reply_item(&p, id, &cause, &sent);
	pipeline_free(&p);
	if (st == PIPELINE_OK)
		printf(sent ? "Item %lld: the reply was sent.\n" : "Item %lld: "
		    "the reply is queued; the running daemon sends it.\n", id);
	return (pass_exit(st, cause));
}

/* `triaged digest`: the daily digest, now (cron, tests). */
static int
cmd_digest(const char *confpath, int argc, char **argv)
{
	struct pipeline	 p;
	char		*cause = NULL;
	int		 rc = EX_OK;

	if (argc != 1)
		return (EX_USAGE);
	if (load(&p, confpath) == -1)
		return (EX_CONFIG);
	if (p.conf->digest.to == NULL) {
		fprintf(stderr, "triaged: digest: [digest] to is not set in "
		    "%s\n", confpath);
		pipeline_free(&p);
		return (EX_CONFIG);
	}
	if ((p.store = store_open(p.conf->triage.state, &cause)) == NULL) {
		fprintf(stderr, "triaged: %s\n", cause);
		rc = EX_TEMPFAIL;
	} else if (digest_send(p.conf, p.store, time(NULL), &cause) == -1) {
		fprintf(stderr, "triaged: %s\n", cause);
		rc = EX_UNAVAILABLE;
	}
	free(cause);
	pipeline_free(&p);
	return (rc);
}

static int
cmd_forget(const char *confpath, int argc, char **argv)
{
	struct pipeline		 p;
	struct store_forgotten	 f;
	const char		*addr, *c;
	char			*cause = NULL;

	if (argc != 2)
		return (EX_USAGE);
	addr = argv[1];
	for (c = addr; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || *c == '<' || *c == '>')
			break;
	if (*c != '\0' || strchr(addr, '@') == NULL || addr[0] == '@') {
		fprintf(stderr, "triaged: forget: \"%s\" is not an email "
		    "address (write it bare: name@example.org)\n", addr);
		return (EX_USAGE);
	}
	if (load(&p, confpath) == -1)
		return (EX_CONFIG);
	if (access(p.conf->triage.state, F_OK) == -1 && errno == ENOENT) {
		printf("Nothing stored about %s (no state yet).\n", addr);
		pipeline_free(&p);
		return (EX_OK);
	}
	if ((p.store = store_open(p.conf->triage.state, &cause)) == NULL ||
	    store_forget(p.store, addr, &f, &cause) == -1) {
		fprintf(stderr, "triaged: %s\n", cause);
		free(cause);
		pipeline_free(&p);
		return (EX_TEMPFAIL);
	}
	if (f.messages + f.replies + f.window + f.known == 0)
		printf("Nothing stored about %s.\n", addr);
	else
		printf("Forgot %s: %ld message%s, %ld repl%s, %ld "
		    "reply-window entr%s, %ld cached Sent-folder answer%s.\n",
		    addr, f.messages, f.messages == 1 ? "" : "s", f.replies,
		    f.replies == 1 ? "y" : "ies", f.window,
		    f.window == 1 ? "y" : "ies", f.known,
		    f.known == 1 ? "" : "s");
	printf("The mailbox itself (the messages and the Sent copies of "
	    "replies) is not changed.\n");
	pipeline_free(&p);
	return (EX_OK);
}

/* Health for whoever looks after the machine; see status.h. */
static int
cmd_status(const char *confpath, int argc, char **argv)
{
	struct pipeline	p;
	int		json = 0, rc;

	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		json = 1;
	else if (argc != 1)
		return (EX_USAGE);
	if (load(&p, confpath) == -1)
		return (EX_CONFIG);
	rc = status_show(&p, json);
	pipeline_free(&p);
	return (rc);
}

/* Read a whole file (or stdin for "-") up to a cap. NULL on error. */
static char *
read_input(const char *path, size_t *lenp)
{
	struct buf	 b;
	FILE		*fp;
	char		 chunk[8192];
	size_t		 n;

	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "rb")) == NULL)
		return (NULL);
	buf_init(&b, CLASSIFY_MAX);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		if (buf_add(&b, chunk, n) == -1)
			break;	/* cut: classified on what was read */
	if (ferror(fp)) {
		if (fp != stdin)
			fclose(fp);
		buf_free(&b);
		return (NULL);
	}
	if (fp != stdin)
		fclose(fp);
	return (buf_detach(&b, lenp));
}

/* Append up to max lines of text, indented, for --explain. */
static void
explain_lines(struct buf *b, const char *label, const char *text,
    unsigned max)
{
	const char	*p = text, *nl;
	unsigned	 n = 0, total = 0;

	buf_printf(b, "%s:\n", label);
	for (p = text; p != NULL && *p != '\0'; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (n < max)
			buf_printf(b, "    | %.*s\n", nl ? (int)(nl - p) :
			    (int)strlen(p), p);
		n += 1;
		total++;
	}
	if (total == 0)
		buf_addstr(b, "    (empty)\n");
	else if (total > max)
		buf_printf(b, "    ... %u more line%s\n", total - max,
		    total - max == 1 ? "" : "s");
}

/*
 * What the rules see: the decoded fields, then why each rule matched and
 * each other category lost. Message content: printed, never logged.
 */
static void
explain(struct buf *b, const struct pipeline *p, const struct msg *msg)
{
	buf_addstr(b, "== fields the rules see\n");
	buf_printf(b, "subject:    %s\n", msg->subject);
	buf_printf(b, "from:       %s\n", msg->from_text ? msg->from_text : "");
	buf_printf(b, "to:         %s\n", msg->to_text ? msg->to_text : "");
	buf_printf(b, "type:       %s%s%s\n", msg->content_type ?
	    msg->content_type : "", msg->is_report ? " (a report)" : "",
	    msg->truncated ? " (cut by a limit)" : "");
	explain_lines(b, "body", msg->body, 12);
	explain_lines(b, "quoted", msg->quoted, 6);
	explain_lines(b, "forwarded", msg->forwarded, 6);
	buf_addstr(b, "== rules\n");
	rules_explain(p->rules, msg, b);
	buf_addstr(b, "== result\n");
}

/* Append a string list as a JSON array. */
static void
json_list(struct buf *b, char **items, size_t n)
{
	size_t	i;

	buf_addch(b, '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addch(b, ',');
		json_string(b, items[i]);
	}
	buf_addch(b, ']');
}

/*
 * Classify one message into out. With file set (several files were
 * given), the JSON object names it first and the text starts with a
 * "== file" line, so one run can sort a whole folder.
 */
static void
classify_one(struct pipeline *p, const char *raw, size_t len,
    const char *file, int json, int explaining, struct buf *out)
{
	struct decision	 d;
	struct msg	*msg;
	size_t		 i;

	msg = mime_parse(raw, len, &p->limits);
	pipeline_judge(p, msg, &d);
	pipeline_decide(p, msg, msg->message_id != NULL ? msg->message_id :
	    "<classify@triaged>", 0, time(NULL), 0, NULL, &d);

	if (file != NULL && !json) {
		buf_addstr(out, "== ");
		buf_addstr(out, file);
		buf_addch(out, '\n');
	}
	if (explaining)
		explain(out, p, msg);
	if (json) {
		buf_addch(out, '{');
		if (file != NULL) {
			buf_addstr(out, "\"file\":");
			json_string(out, file);
			buf_addch(out, ',');
		}
		buf_addstr(out, "\"category\":");
		json_string(out, d.verdict.category);
		buf_addstr(out, ",\"tags\":");
		json_list(out, d.verdict.tags, d.verdict.ntags);
		buf_addstr(out, ",\"rules\":");
		json_list(out, d.verdict.rules, d.verdict.nrules);
		buf_printf(out, ",\"reply\":%s,\"suppressed\":",
		    d.has_reply ? "true" : "false");
		json_string_or_null(out, d.suppressed);
		buf_addstr(out, ",\"to\":");
		json_string_or_null(out, d.guard.rcpt);
		buf_addstr(out, ",\"subject\":");
		json_string_or_null(out, d.has_reply ? d.reply.subject : NULL);
		buf_printf(out, ",\"truncated\":%s}\n",
		    msg->truncated ? "true" : "false");
	} else {
		buf_printf(out, "category:   %s\n", d.verdict.category);
		buf_addstr(out, "tags:      ");
		for (i = 0; i < d.verdict.ntags; i++)
			buf_printf(out, " %s", d.verdict.tags[i]);
		buf_addstr(out, "\nrules:     ");
		for (i = 0; i < d.verdict.nrules; i++)
			buf_printf(out, " %s", d.verdict.rules[i]);
		buf_printf(out, "\nreply:      %s\n", d.has_reply ? "yes" :
		    d.suppressed != NULL ? d.suppressed : "no (category is "
		    "not answered)");
		if (d.has_reply)
			buf_printf(out, "to:         %s\nsubject:    %s\n",
			    d.reply.rcpt, d.reply.subject);
		if (msg->truncated)
			buf_addstr(out, "truncated:  yes (a limit cut the "
			    "message)\n");
	}
	decision_free(&d);
	msg_free(msg);
}

static int
cmd_classify(const char *confpath, int argc, char **argv)
{
	struct pipeline	 p;
	struct buf	 out;
	const char	*path;
	char		*raw;
	size_t		 len;
	int		 json = 0, explaining = 0, ch, i, many, rc = EX_OK;
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "explain", no_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 }
	};

	optind = 1;
	while ((ch = getopt_long(argc, argv, "je", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'e':
			explaining = 1;
			break;
		default:
			return (EX_USAGE);
		}
	}
	if (json && explaining)
		return (EX_USAGE);
	if (load(&p, confpath) == -1)
		return (EX_CONFIG);

	/* The rules compile once; each file is read, judged and printed. */
	many = argc - optind > 1;
	i = optind;
	do {
		path = i < argc ? argv[i] : "-";
		if ((raw = read_input(path, &len)) == NULL) {
			fprintf(stderr, "triaged: %s: %s\n", path,
			    strerror(errno));
			rc = EX_NOINPUT;
			continue;
		}
		buf_init(&out, 0);
		classify_one(&p, raw, len, many ? path : NULL, json,
		    explaining, &out);
		free(raw);
		fwrite(out.data, 1, out.len, stdout);
		buf_free(&out);
	} while (++i < argc);
	pipeline_free(&p);
	return (rc);
}

/* Format a time as "2026-11-25 14:03" in local time. */
static void
format_time(time_t t, char *s, size_t len)
{
	struct tm	tm;

	localtime_r(&t, &tm);
	strftime(s, len, "%Y-%m-%d %H:%M", &tm);
}

/* How long ago t was, as a person says it: "12 min ago", "3 days ago". */
static void
format_ago(time_t t, time_t now, char *s, size_t len)
{
	long long	d = now > t ? (long long)(now - t) : 0;

	if (d < 60)
		snprintf(s, len, "just now");
	else if (d < 3600)
		snprintf(s, len, "%lld min ago", d / 60);
	else if (d < 86400)
		snprintf(s, len, "%lld h ago", d / 3600);
	else if (d < 2 * 86400)
		snprintf(s, len, "yesterday");
	else if (d < 60 * 86400)
		snprintf(s, len, "%lld days ago", d / 86400);
	else
		format_time(t, s, len);
}

/* The statuses a queue item can have, as --status and --json name them. */
static const char *const queue_statuses[] = {
	STORE_PENDING, STORE_REPLIED, STORE_SUPPRESSED, STORE_FAILED,
	STORE_HANDLED, NULL
};

/*
 * --since: "2026-11-01" (local midnight) or an age, "30m", "12h", "3d",
 * "2w". -1 when it is neither.
 */
static time_t
parse_since(const char *arg, time_t now)
{
	struct tm	 tm;
	char		*end;
	long		 n;

	memset(&tm, 0, sizeof tm);
	end = strptime(arg, "%Y-%m-%d", &tm);
	if (end != NULL && *end == '\0') {
		tm.tm_isdst = -1;
		return (mktime(&tm));
	}
	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || n < 0 || n > 100000 || end[0] == '\0' ||
	    end[1] != '\0')
		return (-1);
	switch (end[0]) {
	case 'm':
		return (now - n * 60);
	case 'h':
		return (now - n * 3600);
	case 'd':
		return (now - n * 86400);
	case 'w':
		return (now - n * 7 * 86400);
	}
	return (-1);
}

/* Why an item was not answered, or is not answered yet, in a few words. */
static void
queue_why(const struct store_row *r, char *s, size_t len)
{
	*s = '\0';
	if (r->handled_at != 0)
		snprintf(s, len, "%s", r->handled_how != NULL ?
		    r->handled_how : "");
	else if (r->suppressed != NULL)
		snprintf(s, len, "%s", r->suppressed);
	else if (r->error != NULL)
		snprintf(s, len, "%s", r->error);
}

static void
queue_json_row(struct buf *out, const struct store_row *r)
{
	buf_printf(out, "{\"id\":%lld,\"received\":%lld,\"from\":",
	    (long long)r->id, (long long)r->received);
	json_string(out, r->from ? r->from : "");
	buf_addstr(out, ",\"subject\":");
	json_string(out, r->subject ? r->subject : "");
	buf_addstr(out, ",\"category\":");
	json_string(out, r->category);
	buf_addstr(out, ",\"tags\":");
	json_csv_array(out, r->tags);
	buf_addstr(out, ",\"status\":");
	json_string(out, r->status);
	buf_addstr(out, ",\"suppressed\":");
	json_string_or_null(out, r->suppressed);
	buf_addstr(out, ",\"error\":");
	json_string_or_null(out, r->error);
	buf_printf(out, ",\"erased\":%s", r->erased ? "true" : "false");
	if (r->handled_at != 0)
		buf_printf(out, ",\"handled_at\":%lld", (long long)r->handled_at);
	else
		buf_addstr(out, ",\"handled_at\":null");
	buf_addstr(out, ",\"handled\":");
	json_string_or_null(out, r->handled_how);
	buf_addstr(out, ",\"folder\":");
	json_string_or_null(out, r->folder);
	buf_addch(out, '}');
}

/*
 * One table row: received, category, tags, status (and why), sender and
 * subject, aligned; the crisis rows and failures coloured on a terminal.
 */
static void
queue_table_row(struct buf *out, const struct store_row *r, time_t now,
    int colour)
{
	char		 when[32], why[64], status[96];
	const char	*on = "", *off = "";

	format_ago(r->received, now, when, sizeof when);
	queue_why(r, why, sizeof why);
	if (*why != '\0')
		snprintf(status, sizeof status, "%s (%.40s)", r->status, why);
	else
		snprintf(status, sizeof status, "%s", r->status);
	if (colour && strcmp(r->category, "crisis") == 0)
		on = "\033[1;31m", off = "\033[0m";
	else if (colour && strcmp(r->status, STORE_FAILED) == 0)
		on = "\033[33m", off = "\033[0m";
	buf_printf(out, "%s%-5lld %-13s %-12s %-22.22s %-28.28s %-26.26s "
	    "%.50s%s\n", on, (long long)r->id, when, r->category,
	    r->tags != NULL ? r->tags : "", status,
	    r->erased ? "(erased)" : r->from, r->erased ? "" : r->subject,
	    off);
}

/* Print a label and a comma-separated list as "a, b, c" (or none). */
static void
print_list(const char *label, const char *csv, const char *none)
{
	printf("%-11s", label);
	if (*csv == '\0')
		fputs(none, stdout);
	for (; *csv != '\0'; csv++)
		if (*csv == ',')
			fputs(", ", stdout);
		else
			putchar(*csv);
	putchar('\n');
}

/* A queue id as typed after "queue show", "queue done", "reply"; -1. */
static long long
queue_id(const char *arg, const char *cmd)
{
	char		*end;
	long long	 id;

	errno = 0;
	id = strtoll(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || id <= 0) {
		fprintf(stderr, "triaged: %s: \"%s\" is no queue id "
		    "(the ID column of triaged queue)\n", cmd, arg);
		return (-1);
	}
	return (id);
}

/* `queue show ID`: one item in full, with the rules that decided it. */
static int
queue_show(struct store *st, const char *arg, time_t now)
{
	struct store_item	 it;
	char			 when[32], ago[32];
	long long		 id;
	int			 rc;

	if ((id = queue_id(arg, "queue show")) == -1)
		return (EX_USAGE);
	if ((rc = store_item_get(st, id, &it)) == -1) {
		fprintf(stderr, "triaged: cannot read the queue\n");
		return (EX_TEMPFAIL);
	}
	if (rc == 0) {
		fprintf(stderr, "triaged: queue show: no item %lld\n", id);
		return (EX_DATAERR);
	}
	format_time(it.row.received, when, sizeof when);
	format_ago(it.row.received, now, ago, sizeof ago);
	printf("Item:      %lld\n", id);
	printf("Received:  %s (%s)\n", when, ago);
	printf("From:      %s\n", it.row.erased ? "(erased)" : it.row.from);
	printf("Subject:   %s\n", it.row.erased ? "(erased)" :
	    it.row.subject);
	printf("Category:  %s\n", it.row.category);
	print_list("Tags:", it.row.tags, "(none)");
	print_list("Rules:", it.rules, "(none: the default category)");
	if (it.row.handled_at != 0) {
		format_time(it.row.handled_at, when, sizeof when);
		printf("Status:    handled (%s, %s); the reply: %s\n",
		    it.row.handled_how != NULL ? it.row.handled_how : "?", when,
		    it.reply_state);
	} else
		printf("Status:    %s\n", it.row.status);
	if (it.row.suppressed != NULL)
		printf("Why:       %s\n", it.row.suppressed);
	if (it.reply_status != NULL) {
		printf("Reply:     template %s, %s", it.reply_template != NULL ?
		    it.reply_template : "?", it.reply_status);
		if (it.reply_sent_at > 0) {
			format_time(it.reply_sent_at, when, sizeof when);
			printf(" %s", when);
		} else if (strcmp(it.reply_status, "pending") == 0) {
			format_time(it.reply_next_try, when, sizeof when);
			printf(", %ld attempt%s, next try %s", it.reply_attempts,
			    it.reply_attempts == 1 ? "" : "s", when);
		}
		printf("\n");
	}
	if (it.alert_status != NULL)
		printf("Alert:     crisis alert to [alerts] crisis_to, %s\n",
		    it.alert_status);
	if (it.row.error != NULL)
		printf("Error:     %s\n", it.row.error);
	printf("Mailbox:   %s, UID %lld\n", it.mailbox, (long long)it.uid);
	if (it.row.folder != NULL && it.row.folder_uid != 0)
		printf("Folder:    %s, UID %lu (moved by [queue] file_into)\n",
		    it.row.folder, (unsigned long)it.row.folder_uid);
	else if (it.row.folder != NULL)
		printf("Folder:    %s (moved by [queue] file_into)\n",
		    it.row.folder);
	store_item_free(&it);
	return (EX_OK);
}

/* `queue done ID`: the therapist handled it outside the mail client. */
static int
queue_done(const char *state, const char *arg, time_t now)
{
	struct store	*st;
	char		*cause = NULL;
	long long	 id;
	int		 rc;

	if ((id = queue_id(arg, "queue done")) == -1)
		return (EX_USAGE);
	if ((st = store_open(state, &cause)) == NULL) {
		fprintf(stderr, "triaged: %s\n", cause);
		free(cause);
		return (EX_UNAVAILABLE);
	}
	rc = store_mark_handled_id(st, id, STORE_HANDLED_BY_HAND, now);
	store_close(&st);
	if (rc == -1) {
		fprintf(stderr, "triaged: queue done: cannot write the state\n");
		return (EX_TEMPFAIL);
	}
	if (rc == 0) {
		fprintf(stderr, "triaged: queue done: no item %lld, or it is "
		    "handled already\n", id);
		return (EX_DATAERR);
	}
	printf("Item %lld is handled.\n", id);
	return (EX_OK);
}

/* `queue --corrections`: what the therapist re-sorted, newest first. */
static int
queue_corrections(struct store *st, time_t since, int json, time_t now)
{
	struct store_correction	*c;
	struct buf		 out;
	char			 when[32];
	size_t			 n, i;

	if (store_corrections(st, since, &c, &n) == -1) {
		fprintf(stderr, "triaged: cannot read the corrections\n");
		return (EX_TEMPFAIL);
	}
	buf_init(&out, 0);
	if (json)
		buf_addch(&out, '[');
	else if (n > 0)
		buf_printf(&out, "%-5s %-13s %-16s %s\n", "ID", "CORRECTED",
		    "VERDICT", "CORRECTED TO");
	for (i = 0; i < n; i++) {
		if (json) {
			buf_printf(&out, "%s{\"id\":%lld,\"at\":%lld,"
			    "\"from\":", i > 0 ? "," : "",
			    (long long)c[i].message, (long long)c[i].at);
			json_string(&out, c[i].from);
			buf_addstr(&out, ",\"to\":");
			json_string(&out, c[i].to);
			buf_addch(&out, '}');
			continue;
		}
		format_ago(c[i].at, now, when, sizeof when);
		buf_printf(&out, "%-5lld %-13s %-16s %s\n",
		    (long long)c[i].message, when, c[i].from, c[i].to);
	}
	if (json)
		buf_addstr(&out, "]\n");
	else if (n == 0)
		buf_addstr(&out, "No corrections.\n");
	fwrite(buf_str(&out), 1, out.len, stdout);
	buf_free(&out);
	store_corrections_free(c, n);
	return (EX_OK);
}

/* A usage error naming the valid values of a filter; EX_USAGE. */
static int
queue_bad_filter(const char *what, const char *arg,
    const char *const *valid, const struct ruleset *rs)
{
	size_t	i, n;

	fprintf(stderr, "triaged: queue: unknown %s \"%s\"; one of:", what,
	    arg);
	if (valid != NULL)
		for (i = 0; valid[i] != NULL; i++)
			fprintf(stderr, "%s %s", i ? "," : "", valid[i]);
	else
		for (i = 0, n = rules_ncategories(rs); i < n; i++)
			fprintf(stderr, "%s %s", i ? "," : "",
			    rules_category_name(rs, i));
	fprintf(stderr, "\n");
	return (EX_USAGE);
}

static int
cmd_queue(const char *confpath, int argc, char **argv)
{
	struct pipeline	  p;
	struct store_row *rows;
	struct buf	  out;
	const char	 *category = NULL, *status = NULL, *since_arg = NULL;
	const char	 *show = NULL, *done = NULL;
	char		 *cause = NULL;
	time_t		  now = time(NULL), since = 0;
	size_t		  n, i;
	int		  json = 0, ch, known, colour, corrections = 0;
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "category", required_argument, NULL, 'C' },
		{ "status", required_argument, NULL, 'S' },
		{ "since", required_argument, NULL, 's' },
		{ "corrections", no_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 }
	};

	optind = 1;
	while ((ch = getopt_long(argc, argv, "jC:S:s:K", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'K':
			corrections = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'C':
			category = optarg;
			break;
		case 'S':
			status = optarg;
			break;
		case 's':
			since_arg = optarg;
			break;
		default:
			return (EX_USAGE);
		}
	}
	/* "queue show ID" (getopt_long has moved the options before it). */
	if (argc - optind == 2 && strcmp(argv[optind], "show") == 0)
		show = argv[optind + 1];
	else if (argc - optind == 2 && strcmp(argv[optind], "done") == 0)
		done = argv[optind + 1];
	else if (argc != optind) {
		fprintf(stderr, "triaged: queue: unexpected \"%s\"; usage: "
		    "queue [--json] [--category C] [--status S] [--since D] "
		    "[--corrections] | queue show ID | queue done ID\n",
		    argv[optind]);
		return (EX_USAGE);
	}
	if (status != NULL) {
		for (i = known = 0; queue_statuses[i] != NULL; i++)
			known |= strcmp(queue_statuses[i], status) == 0;
		if (!known)
			return (queue_bad_filter("status", status,
			    queue_statuses, NULL));
	}
	if (since_arg != NULL && (since = parse_since(since_arg, now)) == -1) {
		fprintf(stderr, "triaged: queue: --since \"%s\": give a date "
		    "(2026-11-01) or an age (30m, 12h, 3d, 2w)\n", since_arg);
		return (EX_USAGE);
	}
	if (load(&p, confpath) == -1)
		return (EX_CONFIG);
	if (category != NULL) {
		for (i = known = 0; i < rules_ncategories(p.rules); i++)
			known |= strcmp(rules_category_name(p.rules, i),
			    category) == 0;
		if (!known) {
			ch = queue_bad_filter("category", category, NULL,
			    p.rules);
			pipeline_free(&p);
			return (ch);
		}
	}
	/* Read-only: the queue never waits for the daemon's writes. */
	if (access(p.conf->triage.state, F_OK) == -1 && errno == ENOENT) {
		if (show != NULL || done != NULL) {
			fprintf(stderr, "triaged: queue: no item %s "
			    "(nothing triaged yet)\n", show != NULL ? show :
			    done);
			pipeline_free(&p);
			return (EX_DATAERR);
		}
		if (!json)
			printf("The queue is empty (nothing triaged yet).\n");
		else
			printf("[]\n");
		pipeline_free(&p);
		return (EX_OK);
	}
	if (done != NULL) {
		ch = queue_done(p.conf->triage.state, done, now);
		pipeline_free(&p);
		return (ch);
	}
	if ((p.store = store_open_ro(p.conf->triage.state, &cause)) == NULL) {
		fprintf(stderr, "triaged: %s\n", cause);
		free(cause);
		pipeline_free(&p);
		return (EX_UNAVAILABLE);
	}
	if (show != NULL) {
		ch = queue_show(p.store, show, now);
		pipeline_free(&p);
		return (ch);
	}
	if (corrections) {
		ch = queue_corrections(p.store, since, json, now);
		pipeline_free(&p);
		return (ch);
	}
	if (store_queue(p.store, category, status, since, &rows, &n) == -1) {
		fprintf(stderr, "triaged: cannot read the queue\n");
		pipeline_free(&p);
		return (EX_TEMPFAIL);
	}
	colour = !json && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	buf_init(&out, 0);
	if (json)
		buf_addch(&out, '[');
	else if (n > 0)
		buf_printf(&out, "%-5s %-13s %-12s %-22s %-28s %-26s %s\n",
		    "ID", "RECEIVED", "CATEGORY", "TAGS", "STATUS", "FROM",
		    "SUBJECT");
	for (i = 0; i < n; i++) {
		if (json) {
			if (i > 0)
				buf_addch(&out, ',');
			queue_json_row(&out, &rows[i]);
		} else
			queue_table_row(&out, &rows[i], now, colour);
	}
	if (json)
		buf_addstr(&out, "]\n");
	else if (n == 0)
		buf_addstr(&out, category != NULL || status != NULL ||
		    since_arg != NULL ? "Nothing in the queue matches.\n" :
		    "The queue is empty.\n");
	fwrite(buf_str(&out), 1, out.len, stdout);
	buf_free(&out);
	store_rows_free(rows, n);
	pipeline_free(&p);
	return (EX_OK);
}

/*
 * A core dump would hold passwords and inquiries: none, and no ptrace
 * attach by other processes of the same user either.
 */
static void
no_core_dumps(void)
{
	const struct rlimit	zero = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &zero) == -1)
		log_warn("setrlimit(RLIMIT_CORE)");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("prctl(PR_SET_DUMPABLE)");
}

int
main(int argc, char **argv)
{
	const char	*confpath = DEFAULT_CONF;
	size_t		 i;
	int		 ch, verbose = 0, use_syslog = 0, rc;
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};

	/* libetpan writes after a peer hangs up (LIBRARIES.md #3). */
	signal(SIGPIPE, SIG_IGN);
	no_core_dumps();
	/* Options stop at the subcommand: its own flags follow it. */
	while ((ch = getopt_long(argc, argv, "+c:hsvV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			confpath = optarg;
			break;
		case 's':
			use_syslog = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return (EX_OK);
		case 'V':
			printf("triaged %s\n", TRIAGED_VERSION);
			return (EX_OK);
		default:
			usage(stderr);
			return (EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return (EX_USAGE);
	}
	log_init(verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, use_syslog);
	for (i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++) {
		if (strcmp(argv[0], cmd_table[i].name) != 0)
			continue;
		rc = cmd_table[i].exec(confpath, argc, argv);
		if (rc == EX_USAGE)
			fprintf(stderr, "usage: triaged [-c FILE] %s\n",
			    cmd_table[i].usage);
		return (rc);
	}
	fprintf(stderr, "triaged: unknown command: %s\n", argv[0]);
	usage(stderr);
	return (EX_USAGE);
}

/*
 * The category named in a .expect file ("category: NAME"), and the tags
 * of its "tags:" lines into *tags; caller frees. *tolerated: an
 * "acceptable:" line names category top (a crisis verdict is tolerated).
 */
static char *
train_expect(const char *path, const char *top, char ***tags, size_t *ntags,
    int *tolerated)
{
	FILE	*fp;
	char	*line = NULL, *cat = NULL, *p, *e;
	size_t	 size = 0;

	*tags = NULL;
	*ntags = 0;
	*tolerated = 0;
	if ((fp = fopen(path, "r")) == NULL)
		return (NULL);
	while (getline(&line, &size, fp) != -1) {
		if (strncmp(line, "acceptable:", 11) == 0) {
			for (p = line + 11; top != NULL &&
			    (p = strtok(p, " \t\r\n")) != NULL; p = NULL)
				if (strcmp(p, top) == 0)
					*tolerated = 1;
			continue;
		}
		if (strncmp(line, "tags:", 5) == 0) {
			for (p = line + 5; (p = strtok(p, " \t\r\n")) != NULL;
			    p = NULL) {
				*tags = xreallocarray(*tags, *ntags + 1,
				    sizeof **tags);
				(*tags)[(*ntags)++] = xstrdup(p);
			}
			continue;
		}
		if (cat != NULL || strncmp(line, "category:", 9) != 0)
			continue;
		for (p = line + 9; *p == ' ' || *p == '\t'; p++)
			;
		for (e = p; *e != '\0' && !isspace((unsigned char)*e); e++)
			;
		if (e > p)
			cat = xstrndup(p, (size_t)(e - p));
	}
	free(line);
	fclose(fp);
	return (cat);
}

/* What train_corrected needs to add one corrected message. */
struct train_ctx {
	struct pipeline		*p;
	struct model_train	*t;
};

/*
 * Teach the sentence model one message: as the rules read it, with what
 * the crisis rules matched in it.
 */
static void
train_sentences(struct pipeline *p, struct model_train *t,
    const struct msg *msg, const char *category, int tolerated)
{
	struct msg	*flat;
	char		**marks;
	size_t		  nmarks;

	flat = rules_flat(msg);
	marks = rules_top_matches(p->rules, flat, &nmarks);
	model_train_sentences(t, flat, category, marks, nmarks, tolerated);
	xfreev(marks, nmarks);
	rules_flat_free(flat);
}

/* Add one corrected message: its words and rules, never its text. */
static void
train_corrected(void *arg, const struct msg *msg, const char *category)
{
	struct train_ctx	*ctx = arg;
	char			**feats;
	size_t			  nfeats;

	feats = rules_model_features(ctx->p->rules, msg, &nfeats);
	model_train_add(ctx->t, msg, feats, nfeats, category, NULL, 0);
	train_sentences(ctx->p, ctx->t, msg, category, 0);
	xfreev(feats, nfeats);
}

/*
 * Fit the text model from folders of labelled messages (NAME.eml with
 * NAME.expect, as in tests/data/inquiries) and from the messages the
 * therapist corrected (fetched again from the mailbox), and write it
 * beside the rules as triage.model, which the rules then load.
 */
static int
cmd_train(const char *confpath, int argc, char **argv)
{
	struct pipeline		 p;
	struct model_train	*t;
	struct dirent		*de;
	struct msg		*msg;
	DIR			*dir;
	char			*path, *exp, *cat, *raw, *cause = NULL, **feats;
	char			**labels;
	const char *const	*group;
	struct train_ctx	 ctx;
	size_t			 len, n = 0, skipped = 0, k, nfeats, nlabels;
	long			 corrected;
	int			 i, known, tolerated;

	if (argc < 2) {
		fprintf(stderr, "triaged: train: name at least one folder of "
		    "labelled messages (NAME.eml with NAME.expect)\n");
		return (EX_USAGE);
	}
	/* The model it replaces may be stale or of an older version. */
	rules_skip_model(1);
	if (load(&p, confpath) == -1)
		return (EX_CONFIG);
	t = model_train_new();
	/* The rules checked each group; the model takes them as they are. */
	for (k = 0; k < rules_nchoices(p.rules); k++) {
		group = rules_choice(p.rules, k, &nlabels);
		(void)model_train_choose(t, group, nlabels);
	}
	if (rules_top_category(p.rules) != NULL)
		model_train_recall(t, rules_top_category(p.rules));
	for (i = 1; i < argc; i++) {
		if ((dir = opendir(argv[i])) == NULL) {
			fprintf(stderr, "triaged: %s: %s\n", argv[i],
			    strerror(errno));
			model_train_free(t);
			pipeline_free(&p);
			return (EX_NOINPUT);
		}
		while ((de = readdir(dir)) != NULL) {
			len = strlen(de->d_name);
			if (len < 5 || strcmp(de->d_name + len - 4, ".eml") != 0)
				continue;
			exp = xasprintf("%s/%.*s.expect", argv[i],
			    (int)(len - 4), de->d_name);
			cat = train_expect(exp, rules_top_category(p.rules),
			    &labels, &nlabels, &tolerated);
			free(exp);
			for (known = 0, k = 0; cat != NULL &&
			    k < rules_ncategories(p.rules); k++)
				if (strcmp(cat, rules_category_name(p.rules,
				    k)) == 0)
					known = 1;
			path = xasprintf("%s/%s", argv[i], de->d_name);
			if (!known || (raw = read_input(path, &len)) == NULL) {
				skipped++;
				free(path);
				free(cat);
				xfreev(labels, nlabels);
				continue;
			}
			msg = mime_parse(raw, len, &p.limits);
			feats = rules_model_features(p.rules, msg, &nfeats);
			model_train_add(t, msg, feats, nfeats, cat, labels,
			    nlabels);
			train_sentences(&p, t, msg, cat, tolerated);
			xfreev(labels, nlabels);
			xfreev(feats, nfeats);
			msg_free(msg);
			free(raw);
			free(path);
			free(cat);
			n++;
		}
		closedir(dir);
	}
	ctx.p = &p;
	ctx.t = t;
	if ((corrected = pipeline_corrected(&p, train_corrected, &ctx,
	    &cause)) == -1) {
		fprintf(stderr, "triaged: train: the corrections cannot be "
		    "read (%s); trained without them\n", cause);
		free(cause);
		cause = NULL;
		corrected = 0;
	}
	path = xasprintf("%s/triage.model", p.conf->triage.rules);
	if (n == 0 || model_train_write(t, path,
	    rules_top_category(p.rules), &cause) == -1) {
		fprintf(stderr, "triaged: train: %s\n", n == 0 ?
		    "no labelled message with a known category" : cause);
		free(cause);
		free(path);
		model_train_free(t);
		pipeline_free(&p);
		return (n == 0 ? EX_DATAERR : EX_CANTCREAT);
	}
	printf("%s: trained on %zu messages (%zu skipped: no .expect or an "
	    "unknown category) and %ld correction%s\n", path, n, skipped,
	    corrected, corrected == 1 ? "" : "s");
	free(path);
	model_train_free(t);
	pipeline_free(&p);
	return (EX_OK);
}
