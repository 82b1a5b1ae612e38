/*
 * pipeline_judge and pipeline_decide: the decision for one message is a
 * pure function of the message, the configuration, the time and the
 * facts the caller looked up (reply window, Sent folder). Runs from
 * tests/unit with the shipped rules and templates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#include "diag.h"
#include "folders.h"
#include "log.h"
#include "pipeline.h"
#include "store.h"
#include "xmalloc.h"

#define NOW	1796000000

struct fixture {
	char		dir[64];
	struct pipeline	p;
};

/* A configuration like a practice's, with the shipped rules. */
static int
setup(void **state)
{
	struct fixture	*f;
	struct diag	 diag;
	FILE		*fp;
	char		*path, *cwd;

	f = xcalloc(1, sizeof *f);
	strcpy(f->dir, "/tmp/test_pipeline.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return (-1);
	cwd = getcwd(NULL, 0);
	path = xasprintf("%s/secret", f->dir);
	fp = fopen(path, "w");
	fputs("unused\n", fp);
	fclose(fp);
	chmod(path, 0600);
	free(path);
	path = xasprintf("%s/triaged.conf", f->dir);
	fp = fopen(path, "w");
	fprintf(fp, "[imap]\nhost = 127.0.0.1\ntls = none\n"
	    "user = hello@practice.example\npassword_file = %s/secret\n"
	    "[smtp]\nurl = smtp://127.0.0.1:25\n"
	    "from = Harbor Counseling <hello@practice.example>\n"
	    "[practice]\nname = Harbor Counseling\nphone = (555) 010-0100\n"
	    "booking_url = https://practice.example/book\n"
	    "[triage]\nrules = %s/../../rules\ntemplates = %s/../../templates\n"
	    "state = %s/state.db\nknown_senders = %s/known\n"
	    "reply_max_age = 3d\n", f->dir, cwd, cwd, f->dir, f->dir);
	fclose(fp);
	free(cwd);
	cwd = xasprintf("%s/known", f->dir);
	fp = fopen(cwd, "w");
	fputs("client-of-ours@example.org\n", fp);
	fclose(fp);
	free(cwd);
	diag_init(&diag);
	if (pipeline_load(&f->p, path, &diag) == -1) {
		diag_print(&diag, stderr);
		return (-1);
	}
	diag_free(&diag);
	free(path);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		*cmd;

	pipeline_free(&f->p);
	cmd = xasprintf("rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed: %s\n", f->dir);
	free(cmd);
	free(f);
	return (0);
}

#define INQUIRY \
	"Return-Path: <client@example.org>\n" \
	"From: Client <client@example.org>\n" \
	"To: hello@practice.example\n" \
	"Subject: Therapy for anxiety\n" \
	"Message-ID: <q1@example.org>\n\n" \
	"Hello, I have had anxiety for a while and would like to book a " \
	"first session with you.\n"

#define LIST_INQUIRY \
	"Return-Path: <client@example.org>\n" \
	"From: Client <client@example.org>\n" \
	"To: hello@practice.example\n" \
	"List-Id: <talk.lists.example.org>\n" \
	"Subject: Therapy for anxiety\n\n" \
	"Hello, I have had anxiety and would like a first session.\n"

#define KNOWN_INQUIRY \
	"Return-Path: <client-of-ours@example.org>\n" \
	"From: <client-of-ours@example.org>\n" \
	"To: hello@practice.example\n" \
	"Subject: Therapy for anxiety\n\n" \
	"Hello, I have had anxiety and would like a first session.\n"

struct decide_case {
	const char	*name;
	const char	*raw;
	int		 first_run;
	time_t		 age;		/* seconds before NOW */
	int		 has_facts;
	struct decide_facts facts;
	int		 rc;		/* of pipeline_decide */
	int		 wants;		/* pipeline_wants_reply */
	const char	*status;
	const char	*suppressed;	/* NULL: none */
	int		 reply;
};

static const struct decide_case cases[] = {
	{ "no facts (classify): answered", INQUIRY, 0, 0, 0, { 0, 0, 0, 0 }, 0,
	    1, STORE_PENDING, NULL, 1 },
	{ "history says nothing: answered", INQUIRY, 0, 0, 1, { 0, 0, 0, 0 }, 0,
	    1, STORE_PENDING, NULL, 1 },
	{ "replied in the window", INQUIRY, 0, 0, 1, { 1, 0, 0, 0 }, 0, 1,
	    STORE_SUPPRESSED, "window", 0 },
	{ "window unreadable: decide later, never guess", INQUIRY, 0, 0, 1,
	    { -1, 0, 0, 0 }, -1, 1, STORE_SUPPRESSED, NULL, 0 },
	{ "found in the Sent folder", INQUIRY, 0, 0, 1, { 0, 1, 0, 0 }, 0, 1,
	    STORE_SUPPRESSED, "known-sender", 0 },
	{ "Sent folder unknown: answered", INQUIRY, 0, 0, 1, { 0, -1, 0, 0 }, 0,
	    1, STORE_PENDING, NULL, 1 },
	{ "first run", INQUIRY, 1, 0, 1, { 0, 0, 0, 0 }, 0, 1, STORE_SUPPRESSED,
	    "first-run", 0 },
	{ "first run wins over a broken window", INQUIRY, 1, 0, 1, { -1, 0, 0, 0 },
	    0, 1, STORE_SUPPRESSED, "first-run", 0 },
	{ "older than reply_max_age", INQUIRY, 0, 4 * 86400, 1, { 0, 0, 0, 0 }, 0,
	    1, STORE_SUPPRESSED, "too-old", 0 },
	/* List mail is not an inquiry: no reply, with the guard's reason. */
	{ "a list", LIST_INQUIRY, 0, 0, 1, { -1, 0, 0, 0 }, 0, 0, STORE_SUPPRESSED,
	    "list", 0 },
	{ "known_senders", KNOWN_INQUIRY, 0, 0, 1, { -1, 0, 0, 0 }, 0, 0,
	    STORE_SUPPRESSED, "known-sender", 0 },
	/* The mailbox is the backup of a state that starts afresh. */
	{ "a $Triage_ keyword: triaged before", INQUIRY, 0, 0, 1,
	    { 0, 0, 1, 0 }, 0, 1, STORE_SUPPRESSED, "already-triaged", 0 },
	{ "a reply in Sent: answered before", INQUIRY, 1, 0, 1,
	    { 0, 0, 0, 1 }, 0, 1, STORE_SUPPRESSED, "already-answered", 0 },
	{ "the keyword also wins over a broken window", INQUIRY, 0, 0, 1,
	    { -1, 0, 1, 0 }, 0, 1, STORE_SUPPRESSED, "already-triaged", 0 },
};

/* Every case: judge, then decide with the case's facts. */
static void
test_decide_table(void **state)
{
	struct fixture		*f = *state;
	const struct decide_case *c;
	struct decision		 d;
	struct msg		*m;
	size_t			 i;
	int			 rc, wants;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		c = &cases[i];
		m = mime_parse(c->raw, strlen(c->raw), NULL);
		m->internaldate = NOW - c->age;
		pipeline_judge(&f->p, m, &d);
		wants = pipeline_wants_reply(&f->p, m, &d);
		rc = pipeline_decide(&f->p, m, "<seed@example.org>",
		    c->first_run, NOW, 1, c->has_facts ? &c->facts : NULL, &d);
		if (rc != c->rc || wants != c->wants ||
		    strcmp(d.status, c->status) != 0 ||
		    (c->suppressed == NULL) != (d.suppressed == NULL) ||
		    (c->suppressed != NULL &&
		    strcmp(c->suppressed, d.suppressed) != 0) ||
		    d.has_reply != c->reply)
			fail_msg("%s: rc %d wants %d status %s suppressed %s "
			    "reply %d", c->name, rc, wants, d.status,
			    d.suppressed ? d.suppressed : "-", d.has_reply);
		decision_free(&d);
		msg_free(m);
	}
}

/* The same message, facts and time give the same reply, byte for byte. */
static void
test_decide_deterministic(void **state)
{
	struct fixture		*f = *state;
	struct decide_facts	 facts = { 0, 0, 0, 0 };
	struct decision		 a, b;
	struct msg		*m;

	m = mime_parse(INQUIRY, strlen(INQUIRY), NULL);
	m->internaldate = NOW;
	pipeline_judge(&f->p, m, &a);
	pipeline_judge(&f->p, m, &b);
	assert_int_equal(pipeline_decide(&f->p, m, "<s@example.org>", 0, NOW,
	    1, &facts, &a), 0);
	assert_int_equal(pipeline_decide(&f->p, m, "<s@example.org>", 0, NOW,
	    1, &facts, &b), 0);
	assert_true(a.has_reply && b.has_reply);
	assert_int_equal(a.reply.len, b.reply.len);
	assert_memory_equal(a.reply.data, b.reply.data, a.reply.len);
	assert_string_equal(a.reply.rcpt, "client@example.org");
	/* The decision reads no state: no database was created. */
	assert_null(f->p.store);
	decision_free(&a);
	decision_free(&b);
	msg_free(m);
}

/*
 * [queue] file_into: the folder of each category. Names come from the
 * category only; noise and unreadable mail stay unless asked.
 */
static void
test_folder_names(void **state)
{
	struct conf	 conf;
	char		*f;

	(void)state;
	memset(&conf, 0, sizeof conf);
	assert_null(folders_name(&conf, "crisis"));
	conf.queue.file_into = "Inquiries/%c";
	f = folders_name(&conf, "crisis");
	assert_string_equal(f, "Inquiries/Crisis");
	free(f);
	f = folders_name(&conf, "existing-client");
	assert_string_equal(f, "Inquiries/Existing client");
	free(f);
	assert_null(folders_name(&conf, "not-inquiry"));
	assert_null(folders_name(&conf, PIPELINE_UNREADABLE));
	conf.queue.file_noise = 1;
	f = folders_name(&conf, "not-inquiry");
	assert_string_equal(f, "Inquiries/Not inquiry");
	free(f);
	conf.queue.file_into = "100%% Triage/%c/new";
	f = folders_name(&conf, "couples");
	assert_string_equal(f, "100% Triage/Couples/new");
	free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_decide_table, setup,
		    teardown),
		cmocka_unit_test(test_folder_names),
		cmocka_unit_test_setup_teardown(test_decide_deterministic,
		    setup, teardown),
	};

	log_init(LOG_LEVEL_WARN, 0);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
