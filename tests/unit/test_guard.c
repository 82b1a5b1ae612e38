/* Unit tests for guard.c: every suppression rule, hit and near miss. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#include "conf.h"
#include "guard.h"
#include "mime.h"

/* The usual envelope: a client writing to the practice. */
#define RP	"Return-Path: <client@example.org>\n"
#define FROM	"From: Client <client@example.org>\n"
#define TO	"To: Practice <hello@practice.example>\n"
#define BASE	RP FROM TO "Subject: Hello\n"

struct guard_case {
	const char	*name;
	const char	*raw;		/* headers; a body is added */
	const char	*reason;	/* expected, NULL: may reply */
};

static char	*our_addresses[] = {
	"hello@practice.example",
	"info@practice.example",
};

/* A conf built by hand: only the triage addresses matter to the guard. */
static void
make_conf(struct conf *conf)
{
	memset(conf, 0, sizeof *conf);
	conf->triage.addresses = our_addresses;
	conf->triage.naddresses = sizeof our_addresses /
	    sizeof our_addresses[0];
}

/* Run the guard over headers + a short body; reason or NULL. */
static const char *
check(const struct conf *conf, const char *headers, char **rcpt)
{
	struct guard_result	 res;
	struct msg		*m;
	char			*raw;
	const char		*why;

	if (asprintf(&raw, "%s\nI would like an appointment.\n",
	    headers) == -1)
		fail();
	m = mime_parse(raw, strlen(raw), NULL);
	free(raw);
	guard_check(conf, m, &res);
	why = res.suppressed;
	if (rcpt != NULL)
		*rcpt = res.rcpt != NULL ? strdup(res.rcpt) : NULL;
	guard_result_free(&res);
	assert_null(res.rcpt);
	msg_free(m);
	return (why);
}

static void
run_cases(const struct guard_case *tc, size_t n)
{
	struct conf	 conf;
	const char	*why;
	size_t		 i;
	int		 bad = 0;

	make_conf(&conf);
	for (i = 0; i < n; i++) {
		why = check(&conf, tc[i].raw, NULL);
		if ((why == NULL) != (tc[i].reason == NULL) ||
		    (why != NULL && strcmp(why, tc[i].reason) != 0)) {
			print_error("case %s: got %s, expected %s\n",
			    tc[i].name, why != NULL ? why : "(reply)",
			    tc[i].reason != NULL ? tc[i].reason : "(reply)");
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_plain_inquiry(void **state)
{
	struct conf	 conf;
	char		*rcpt;

	make_conf(&conf);
	assert_null(check(&conf, BASE, &rcpt));
	assert_non_null(rcpt);
	assert_string_equal(rcpt, "client@example.org");
	free(rcpt);

	/* Suppressed mail still says where a reply would have gone. */
	assert_string_equal(check(&conf, BASE "Precedence: bulk\n", &rcpt),
	    "precedence");
	assert_string_equal(rcpt, "client@example.org");
	free(rcpt);

	assert_string_equal(check(&conf, FROM TO, &rcpt), "no-return-path");
	assert_null(rcpt);
	assert_string_equal(check(&conf, "Return-Path: <>\n" FROM TO, &rcpt),
	    "null-sender");
	assert_null(rcpt);
}

static void
test_return_path(void **state)
{
	static const struct guard_case tc[] = {
		{ "missing", FROM TO, "no-return-path" },
		{ "null", "Return-Path: <>\n" FROM TO, "null-sender" },
		{ "null with spaces", "Return-Path: < >\n" FROM TO,
		    "null-sender" },
		{ "present", BASE, NULL },
		{ "bad address", "Return-Path: <not an address>\n" FROM TO,
		    "bad-address" },
		{ "no domain dot", "Return-Path: <client@localhost>\n" FROM TO,
		    "bad-address" },
	};

	run_cases(tc, sizeof tc / sizeof tc[0]);
}

static void
test_auto_submitted(void **state)
{
	static const struct guard_case tc[] = {
		{ "auto-replied", BASE "Auto-Submitted: auto-replied\n",
		    "auto-submitted" },
		{ "auto-generated", BASE "Auto-Submitted: auto-generated\n",
		    "auto-submitted" },
		{ "auto-notified param", BASE "auto-submitted: "
		    "auto-notified; owner-email=\"x@y.example\"\n",
		    "auto-submitted" },
		{ "empty value", BASE "Auto-Submitted:\n", "auto-submitted" },
		{ "no", BASE "Auto-Submitted: no\n", NULL },
		{ "NO with comment", BASE "Auto-Submitted: NO (manual)\n",
		    NULL },
		{ "comment first", BASE "Auto-Submitted: (sent by a human) "
		    "no\n", NULL },
		{ "nope", BASE "Auto-Submitted: nope\n", "auto-submitted" },
	};

	run_cases(tc, sizeof tc / sizeof tc[0]);
}

static void
test_list_and_precedence(void **state)
{
	static const struct guard_case tc[] = {
		{ "list-id", BASE "List-Id: Friends <friends.example.org>\n",
		    "list" },
		{ "list-unsubscribe", BASE "List-Unsubscribe: "
		    "<mailto:leave@example.org>\n", "list" },
		{ "list-post", BASE "LIST-POST: <mailto:l@example.org>\n",
		    "list" },
		{ "listing is no list", BASE "Listing: 3 rooms\n", NULL },
		{ "x-list is no list", BASE "X-List: x\n", NULL },
		{ "bulk", BASE "Precedence: bulk\n", "precedence" },
		{ "list", BASE "Precedence: List\n", "precedence" },
		{ "junk", BASE "Precedence: junk (spam)\n", "precedence" },
		{ "first-class", BASE "Precedence: first-class\n", NULL },
		{ "bulky", BASE "Precedence: bulky\n", NULL },
		{ "auto_reply", BASE "Precedence: auto_reply\n",
		    "precedence" },
		{ "auto_replyish", BASE "Precedence: auto_replying\n", NULL },
	};

	run_cases(tc, sizeof tc / sizeof tc[0]);
}

static void
test_robot(void **state)
{
	static const struct guard_case tc[] = {
		{ "mailer-daemon rp", "Return-Path: <MAILER-DAEMON@mx.example."
		    "org>\n" FROM TO, "robot" },
		{ "postmaster from", RP "From: postmaster@example.org\n" TO,
		    "robot" },
		{ "request", "Return-Path: <friends-request@lists.example."
		    "org>\n" FROM TO, "robot" },
		{ "owner", "Return-Path: <owner-friends@lists.example.org>\n"
		    FROM TO, "robot" },
		{ "listserv", RP "From: LISTSERV@example.org\n" TO, "robot" },
		{ "majordomo", RP "From: majordomo@example.org\n" TO,
		    "robot" },
		{ "noreply", RP "From: Shop <noreply@shop.example>\n" TO,
		    "robot" },
		{ "no-reply", RP "From: no-reply@shop.example\n" TO, "robot" },
		{ "donotreply", RP "From: DoNotReply@shop.example\n" TO,
		    "robot" },
		{ "do-not-reply", RP "From: do-not-reply@shop.example\n" TO,
		    "robot" },
		{ "noreply prefix", RP "From: noreply-alerts@shop.example\n"
		    TO, "robot" },
		{ "noreply subaddress", RP "From: noreply+x@shop.example\n"
		    TO, "robot" },
		{ "bounce", "Return-Path: <bounce@news.example>\n" FROM TO,
		    "robot" },
		{ "bounces verp", "Return-Path: <bounces-123=client=example."
		    "org@news.example>\n" FROM TO, "robot" },
		{ "noreply name only", RP "From: \"noreply-ish Anna\" "
		    "<anna@example.org>\n" TO, NULL },
		{ "noreplyish local", RP "From: noreplyish@example.org\n" TO,
		    NULL },
		{ "bouncer", RP "From: bouncer@example.org\n" TO, NULL },
		{ "requests", RP "From: requests@example.org\n" TO, NULL },
		{ "owner without dash", RP "From: owner@example.org\n" TO,
		    NULL },
		{ "postmaster domain", RP "From: anna@postmaster.example\n"
		    TO, NULL },
	};

	run_cases(tc, sizeof tc / sizeof tc[0]);
}

static void
test_report_and_autoreply(void **state)
{
	static const struct guard_case tc[] = {
		{ "report", BASE "Content-Type: multipart/report; "
		    "report-type=delivery-status; boundary=r\n\n--r\n"
		    "Content-Type: text/plain\n\nfailed\n--r--\n", "report" },
		{ "mixed is no report", BASE "Content-Type: multipart/mixed; "
		    "boundary=r\n\n--r\nContent-Type: text/plain\n\nhi\n"
		    "--r--\n", NULL },
		{ "xars all", BASE "X-Auto-Response-Suppress: All\n",
		    "x-auto-response-suppress" },
		{ "xars oof", BASE "X-Auto-Response-Suppress: DR, RN, OOF\n",
		    "x-auto-response-suppress" },
		{ "xars autoreply", BASE "X-Auto-Response-Suppress: "
		    "AutoReply\n", "x-auto-response-suppress" },
		{ "xars dr rn", BASE "X-Auto-Response-Suppress: DR, RN, "
		    "NRN\n", NULL },
		{ "xars substring", BASE "X-Auto-Response-Suppress: "
		    "Allowed\n", NULL },
		{ "x-autoreply", BASE "X-Autoreply: yes\n", "autoreply" },
		{ "x-autorespond", BASE "X-Autorespond: vacation\n",
		    "autoreply" },
		{ "x-autoreply-ish", BASE "X-Autoreplying-Client: x\n", NULL },
		{ "apple action", BASE "X-Apple-Action: vacation\n",
		    "autoreply" },
		{ "icloud subject", RP FROM TO "Subject: Auto-Reply: "
		    "Hello\n", "autoreply" },
		{ "outlook subject", RP FROM TO "Subject: Automatic reply: "
		    "Hello\n", "autoreply" },
		{ "spanish subject", RP FROM TO "Subject: =?UTF-8?Q?Respuesta_"
		    "autom=C3=A1tica=3A_Hola?=\n", "autoreply" },
		{ "subject mentions it", RP FROM TO "Subject: Re: your "
		    "auto-reply: thanks\n", NULL },
		{ "subject about autoreplies", RP FROM TO "Subject: "
		    "Autoreplies scare me\n", NULL },
	};

	run_cases(tc, sizeof tc / sizeof tc[0]);
}

static void
test_esp(void **state)
{
	static const struct guard_case tc[] = {
		{ "feedback-id", BASE "Feedback-ID: 1:2:3:shop\n", "esp" },
		{ "ses", BASE "X-SES-Outgoing: 2026.12.05-1.2.3.4\n", "esp" },
		{ "mailgun", BASE "X-Mailgun-Sid: WyI0Nz\n", "esp" },
		{ "sendgrid", BASE "X-SG-EID: u001.abc\n", "esp" },
		{ "ses bounce address", "Return-Path: <0100018c2e3f4a5b-"
		    "aa11bb22-cc33-44dd-ee55-ff6677889900-000000@amazonses."
		    "example>\n" FROM TO, "esp" },
		{ "long name is no hash", "Return-Path: <margaret.anne."
		    "whitfield-jones@example.org>\n" FROM TO, NULL },
		{ "digits in a name", "Return-Path: <anna.bell.1985.2026."
		    "garden@example.org>\n" FROM TO, NULL },
		{ "mailgun-ish", BASE "X-Mailgunner: x\n", NULL },
		/* A list header says more: it is reported first. */
		{ "list first", BASE "List-Id: <n.example>\n"
		    "Feedback-ID: 1:shop\n", "list" },
	};
	struct conf	 conf;
	char		*relays[] = { "@forms.example" };
	const char	*relayed = "Return-Path: <0100018c2e3f4a5b-aa11bb22-"
	    "cc33-44dd-ee55-ff6677889900-000000@forms.example>\n"
	    "From: Form <form@forms.example>\n"
	    "Reply-To: Client <client@example.org>\n" TO "Subject: Hi\n"
	    "X-SG-EID: u001.abc\n";

	run_cases(tc, sizeof tc / sizeof tc[0]);

	/* A web form the practice named sends through a provider. */
	make_conf(&conf);
	conf.triage.relays = relays;
	conf.triage.nrelays = 1;
	assert_null(check(&conf, relayed, NULL));
}

static void
test_own_address_and_loop(void **state)
{
	static const struct guard_case tc[] = {
		{ "own rp", "Return-Path: <hello@practice.example>\n" FROM TO,
		    "own-address" },
		{ "own from any case", RP "From: Us <INFO@Practice.Example>\n"
		    TO, "own-address" },
		{ "own as substring", "Return-Path: <xhello@practice.example"
		    ">\n" FROM TO, NULL },
		{ "own domain other user", RP "From: anna@practice.example\n"
		    TO, NULL },
		{ "x-loop ours", BASE "X-Loop: hello@practice.example\n",
		    "x-loop" },
		{ "x-loop ours named", BASE "X-Loop: Practice "
		    "<Hello@practice.example>\n", "x-loop" },
		{ "x-loop other", BASE "X-Loop: list@example.org\n", NULL },
		{ "x-loop substring", BASE "X-Loop: "
		    "hello@practice.example.org\n", NULL },
	};

	run_cases(tc, sizeof tc / sizeof tc[0]);
}

static void
test_spam(void **state)
{
	static const struct guard_case tc[] = {
		{ "flag yes", BASE "X-Spam-Flag: YES\n", "spam" },
		{ "status yes", BASE "X-Spam-Status: Yes, score=9.1 "
		    "required=5.0\n", "spam" },
		{ "x-spam", BASE "X-Spam: yes\n", "spam" },
		{ "flag no", BASE "X-Spam-Flag: NO\n", NULL },
		{ "status no", BASE "X-Spam-Status: No, score=-0.1 "
		    "tests=yes\n", NULL },
		{ "score header", BASE "X-Spam-Score: yes\n", NULL },
	};

	run_cases(tc, sizeof tc / sizeof tc[0]);
}

static void
test_not_to_us(void **state)
{
	static const struct guard_case tc[] = {
		{ "to other", RP FROM "To: someone@example.org\n",
		    "not-to-us" },
		{ "no to", RP FROM, "not-to-us" },
		{ "cc us", RP FROM "To: someone@example.org\n"
		    "Cc: info@practice.example\n", NULL },
		{ "to us in a list", RP FROM "To: a@example.org, \"Hello\" "
		    "<HELLO@PRACTICE.EXAMPLE>, b@example.org\n", NULL },
		{ "bcc us", RP FROM "To: someone@example.org\n"
		    "Bcc: hello@practice.example\n", NULL },
		{ "resent-to us", RP FROM "To: someone@example.org\n"
		    "Resent-To: hello@practice.example\n", NULL },
		{ "resent-cc us", RP FROM "To: someone@example.org\n"
		    "Resent-Cc: x@example.org, info@practice.example\n", NULL },
		{ "resent-bcc us", RP FROM "To: someone@example.org\n"
		    "Resent-Bcc: info@practice.example\n", NULL },
		{ "substring before", RP FROM
		    "To: ohello@practice.example\n", "not-to-us" },
		{ "substring after", RP FROM
		    "To: hello@practice.example.net\n", "not-to-us" },
		{ "only in display name", RP FROM "To: \"hello@practice."
		    "example\" <someone@example.org>\n", "not-to-us" },
		{ "only in subject", RP FROM "To: someone@example.org\n"
		    "Subject: hello@practice.example\n", "not-to-us" },
		{ "group", RP FROM "To: Team: a@example.org, "
		    "hello@practice.example;\n", NULL },
	};

	run_cases(tc, sizeof tc / sizeof tc[0]);
}

static void
test_order(void **state)
{
	static const struct guard_case tc[] = {
		{ "null before auto-submitted", "Return-Path: <>\n" FROM TO
		    "Auto-Submitted: auto-replied\n", "null-sender" },
		{ "auto-submitted before list", BASE "List-Id: x\n"
		    "Auto-Submitted: auto-generated\n", "auto-submitted" },
		{ "list before precedence", BASE "Precedence: bulk\n"
		    "List-Id: x\n", "list" },
		{ "precedence before robot", "Return-Path: <noreply@x.example"
		    ">\n" FROM TO "Precedence: bulk\n", "precedence" },
		{ "robot before own", "Return-Path: <postmaster@practice."
		    "example>\n" FROM TO, "robot" },
		{ "own before not-to-us", "Return-Path: <hello@practice."
		    "example>\n" FROM "To: x@example.org\n", "own-address" },
		{ "spam before not-to-us", RP FROM "To: x@example.org\n"
		    "X-Spam-Flag: YES\n", "spam" },
		{ "not-to-us before bad-address", "Return-Path: <bad>\n"
		    FROM "To: x@example.org\n", "not-to-us" },
	};

	run_cases(tc, sizeof tc / sizeof tc[0]);
}

static char	*relay_patterns[] = {
	"noreply@*.psychologytoday.com",
	"@forms.example",
	"web-*@directory.example",
};

/* A conf with the relays above. */
static void
make_relay_conf(struct conf *conf)
{
	make_conf(conf);
	conf->triage.relays = relay_patterns;
	conf->triage.nrelays = sizeof relay_patterns /
	    sizeof relay_patterns[0];
}

#define PT_RP	"Return-Path: <bounce-77@mail.psychologytoday.com>\n"
#define PT_FROM	"From: Ann via Dir <noreply@members.psychologytoday.com>\n"

/* Relays: answered at Reply-To; the robot check moves to that address. */
static void
test_relays(void **state)
{
	static const struct {
		const char	*name;
		const char	*raw;
		const char	*reason;
		const char	*rcpt;
	} tc[] = {
		{ "from matches", PT_RP PT_FROM TO
		    "Reply-To: Ann <ann@client.example>\n", NULL,
		    "ann@client.example" },
		{ "return-path matches", "Return-Path: <x@forms.example>\n"
		    "From: Form <form@forms.example>\n" TO
		    "Reply-To: bob@client.example\n", NULL,
		    "bob@client.example" },
		{ "first valid reply-to", "Return-Path: <web-1@directory."
		    "example>\n" FROM TO "Reply-To: not valid, "
		    "c@client.example, d@client.example\n", NULL,
		    "c@client.example" },
		{ "no reply-to", PT_RP PT_FROM TO, "relay-no-reply-to", NULL },
		{ "bad reply-to", PT_RP PT_FROM TO "Reply-To: <nowhere>\n",
		    "relay-no-reply-to", NULL },
		{ "robot reply-to", PT_RP PT_FROM TO
		    "Reply-To: noreply@client.example\n", "robot",
		    "noreply@client.example" },
		{ "own reply-to", PT_RP PT_FROM TO
		    "Reply-To: hello@practice.example\n", "own-address",
		    "hello@practice.example" },
		/* Every other check still applies. */
		{ "list", PT_RP PT_FROM TO "Reply-To: ann@client.example\n"
		    "List-Id: <x.example>\n", "list", "ann@client.example" },
		{ "auto-submitted", PT_RP PT_FROM TO
		    "Reply-To: ann@client.example\n"
		    "Auto-Submitted: auto-generated\n", "auto-submitted",
		    "ann@client.example" },
		{ "null sender", "Return-Path: <>\n" PT_FROM TO
		    "Reply-To: ann@client.example\n", "null-sender",
		    "ann@client.example" },
		{ "not to us", PT_RP PT_FROM "To: x@example.org\n"
		    "Reply-To: ann@client.example\n", "not-to-us",
		    "ann@client.example" },
		/* Near misses: not relays, so the usual robot rule. */
		{ "bare domain is not a subdomain", "Return-Path: <noreply@"
		    "psychologytoday.com>\n" FROM TO
		    "Reply-To: ann@client.example\n", "robot",
		    "noreply@psychologytoday.com" },
		{ "subdomain of @domain", "Return-Path: <noreply@x.forms."
		    "example>\n" FROM TO "Reply-To: ann@client.example\n",
		    "robot", "noreply@x.forms.example" },
		{ "other local part", "Return-Path: <noreply@directory."
		    "example>\n" FROM TO "Reply-To: ann@client.example\n",
		    "robot", "noreply@directory.example" },
		{ "reply-to ignored without relay", BASE
		    "Reply-To: other@client.example\n", NULL,
		    "client@example.org" },
	};
	struct conf		 conf;
	struct guard_result	 res;
	struct msg		*m;
	char			*raw;
	size_t			 i;
	int			 bad = 0;

	make_relay_conf(&conf);
	for (i = 0; i < sizeof tc / sizeof tc[0]; i++) {
		if (asprintf(&raw, "%s\nHello\n", tc[i].raw) == -1)
			fail();
		m = mime_parse(raw, strlen(raw), NULL);
		free(raw);
		guard_check(&conf, m, &res);
		if ((res.suppressed == NULL) != (tc[i].reason == NULL) ||
		    (res.suppressed != NULL &&
		    strcmp(res.suppressed, tc[i].reason) != 0) ||
		    (res.rcpt == NULL) != (tc[i].rcpt == NULL) ||
		    (res.rcpt != NULL && strcmp(res.rcpt, tc[i].rcpt) != 0)) {
			print_error("case %s: got %s to %s\n", tc[i].name,
			    res.suppressed != NULL ? res.suppressed :
			    "(reply)", res.rcpt != NULL ? res.rcpt : "-");
			bad++;
		}
		guard_result_free(&res);
		msg_free(m);
	}
	assert_int_equal(bad, 0);
}

static char	*known_list[] = {
	"ann@client.example",
	"@family.example",
};

/* known_senders: by address or @domain, any case, never by substring. */
static void
test_known(void **state)
{
	static const struct {
		const char	*raw;
		int		 known;
	} tc[] = {
		{ "Return-Path: <ann@client.example>\nFrom: ann@client."
		    "example\n" TO, 1 },
		{ "Return-Path: <ANN@Client.Example>\nFrom: x@y.example\n"
		    TO, 1 },
		/* From alone is enough (a forwarder's envelope). */
		{ "Return-Path: <srs=1=ann@fwd.example>\nFrom: Ann "
		    "<ann@client.example>\n" TO, 1 },
		{ "Return-Path: <dad@family.example>\n" FROM TO, 1 },
		{ "Return-Path: <dad@sub.family.example>\n" FROM TO, 0 },
		{ "Return-Path: <joann@client.example>\nFrom: joann@client."
		    "example\n" TO, 0 },
		{ "Return-Path: <ann@client.example.net>\nFrom: x@y.example"
		    "\n" TO, 0 },
		{ "Return-Path: <x@y.example>\nFrom: \"ann@client.example\" "
		    "<x@y.example>\n" TO, 0 },
		/* A relay: only the Reply-To counts. */
		{ PT_RP PT_FROM TO "Reply-To: ann@client.example\n", 1 },
		{ PT_RP PT_FROM TO "Reply-To: new@client.example\n", 0 },
	};
	struct conf		 conf;
	struct guard_result	 res;
	struct msg		*m;
	char			*raw;
	size_t			 i;

	make_relay_conf(&conf);
	conf.triage.known = known_list;
	conf.triage.nknown = 2;
	for (i = 0; i < sizeof tc / sizeof tc[0]; i++) {
		if (asprintf(&raw, "%s\nHello\n", tc[i].raw) == -1)
			fail();
		m = mime_parse(raw, strlen(raw), NULL);
		free(raw);
		guard_check(&conf, m, &res);
		if (guard_known(&conf, m, &res) != tc[i].known)
			fail_msg("case %zu: expected known=%d", i,
			    tc[i].known);
		guard_result_free(&res);
		msg_free(m);
	}
	/* Nothing configured: nobody is known. */
	make_conf(&conf);
	m = mime_parse("Return-Path: <ann@client.example>\n\nx", 36, NULL);
	guard_check(&conf, m, &res);
	assert_int_equal(guard_known(&conf, m, &res), 0);
	guard_result_free(&res);
	msg_free(m);
}

static void
test_no_addresses_configured(void **state)
{
	struct conf	 conf;

	make_conf(&conf);
	conf.triage.naddresses = 0;
	conf.triage.addresses = NULL;
	assert_string_equal(check(&conf, BASE, NULL), "not-to-us");
	guard_result_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_inquiry),
		cmocka_unit_test(test_return_path),
		cmocka_unit_test(test_auto_submitted),
		cmocka_unit_test(test_list_and_precedence),
		cmocka_unit_test(test_robot),
		cmocka_unit_test(test_report_and_autoreply),
		cmocka_unit_test(test_esp),
		cmocka_unit_test(test_own_address_and_loop),
		cmocka_unit_test(test_spam),
		cmocka_unit_test(test_not_to_us),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_no_addresses_configured),
		cmocka_unit_test(test_relays),
		cmocka_unit_test(test_known),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
