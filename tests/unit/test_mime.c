/* Unit tests for mime.c: decoding, text extraction, quote split, limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#include "buf.h"
#include "mime.h"

/* A message body check: which text must or must not show where. */
struct text_case {
	const char	*name;
	const char	*raw;
	const char	*body_has;	/* substring of body, or NULL */
	const char	*body_not;	/* never in body, or NULL */
	const char	*quoted_has;	/* substring of quoted, or NULL */
	const char	*quoted_not;	/* never in quoted, or NULL */
};

/* Independent UTF-8 check for the tests: strict, no NUL, no C0 but \t\n. */
static int
clean_utf8(const char *s, int allow_nl)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0, k, j;
	unsigned		 cp;

	while (u[i] != '\0') {
		if (u[i] < 0x80) {
			if (u[i] < 0x20 && !(allow_nl &&
			    (u[i] == '\n' || u[i] == '\t')))
				return (0);
			if (u[i] == 0x7f && !allow_nl)
				return (0);
			i++;
			continue;
		}
		if (u[i] >= 0xc2 && u[i] <= 0xdf)
			k = 2, cp = u[i] & 0x1f;
		else if (u[i] >= 0xe0 && u[i] <= 0xef)
			k = 3, cp = u[i] & 0x0f;
		else if (u[i] >= 0xf0 && u[i] <= 0xf4)
			k = 4, cp = u[i] & 0x07;
		else
			return (0);
		for (j = 1; j < k; j++) {
			if ((u[i + j] & 0xc0) != 0x80)
				return (0);
			cp = (cp << 6) | (u[i + j] & 0x3f);
		}
		if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return (0);
		i += k;
	}
	return (1);
}

/* Every field of m is valid UTF-8 without NUL; headers have no CR/LF. */
static void
assert_clean(const struct msg *m)
{
	size_t	i;

	assert_non_null(m);
	assert_non_null(m->subject);
	assert_non_null(m->from.name);
	assert_non_null(m->from.addr);
	assert_non_null(m->from_text);
	assert_non_null(m->to_text);
	assert_non_null(m->body);
	assert_non_null(m->quoted);
	assert_non_null(m->content_type);
	assert_true(clean_utf8(m->subject, 0));
	assert_true(clean_utf8(m->from.name, 0));
	assert_true(clean_utf8(m->from.addr, 0));
	assert_true(clean_utf8(m->from_text, 0));
	assert_true(clean_utf8(m->to_text, 0));
	assert_true(clean_utf8(m->body, 1));
	assert_true(clean_utf8(m->quoted, 1));
	assert_true(clean_utf8(m->content_type, 0));
	if (m->message_id != NULL)
		assert_true(clean_utf8(m->message_id, 0));
	if (m->references != NULL)
		assert_true(clean_utf8(m->references, 0));
	if (m->return_path != NULL)
		assert_true(clean_utf8(m->return_path, 0));
	for (i = 0; i < m->nheaders; i++) {
		assert_true(clean_utf8(m->headers[i].name, 0));
		assert_true(clean_utf8(m->headers[i].value, 0));
	}
	for (i = 0; i < m->nto; i++) {
		assert_true(clean_utf8(m->to[i].name, 0));
		assert_true(clean_utf8(m->to[i].addr, 0));
	}
}

/* Parse a C string with the default limits. */
static struct msg *
parse(const char *raw)
{
	struct msg	*m;

	m = mime_parse(raw, strlen(raw), NULL);
	assert_clean(m);
	return (m);
}

/* Check a table of body/quoted expectations. */
static void
run_text_cases(const struct text_case *tc, size_t n)
{
	struct msg	*m;
	size_t		 i;

	for (i = 0; i < n; i++) {
		m = parse(tc[i].raw);
		if ((tc[i].body_has != NULL &&
		    strstr(m->body, tc[i].body_has) == NULL) ||
		    (tc[i].body_not != NULL &&
		    strstr(m->body, tc[i].body_not) != NULL) ||
		    (tc[i].quoted_has != NULL &&
		    strstr(m->quoted, tc[i].quoted_has) == NULL) ||
		    (tc[i].quoted_not != NULL &&
		    strstr(m->quoted, tc[i].quoted_not) != NULL)) {
			print_error("case %s\nbody: [%s]\nquoted: [%s]\n",
			    tc[i].name, m->body, m->quoted);
			msg_free(m);
			fail();
		}
		msg_free(m);
	}
}

static void
test_null_and_empty(void **state)
{
	struct msg	*m;

	m = mime_parse(NULL, 0, NULL);
	assert_clean(m);
	assert_string_equal(m->subject, "");
	assert_string_equal(m->body, "");
	assert_null(m->return_path);
	assert_null(m->message_id);
	assert_string_equal(m->content_type, "text/plain");
	msg_free(m);

	m = parse("");
	assert_string_equal(m->body, "");
	assert_int_equal(m->nheaders, 0);
	msg_free(m);

	msg_free(NULL);
	assert_null(msg_header(NULL, "Subject"));
}

static void
test_transfer_encodings_and_charsets(void **state)
{
	static const struct text_case tc[] = {
		{ "7bit", "Subject: a\n\nhello plain\n", "hello plain",
		    NULL, NULL, NULL },
		{ "qp latin1", "Content-Type: text/plain; "
		    "charset=iso-8859-1\nContent-Transfer-Encoding: "
		    "quoted-printable\n\nGr=FC=DFe aus K=F6ln, soft=\n"
		    "break\n", "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln, "
		    "softbreak", NULL, NULL, NULL },
		{ "qp truncated escape", "Content-Type: text/plain; "
		    "charset=utf-8\nContent-Transfer-Encoding: "
		    "quoted-printable\n\nab=E", "ab", NULL, NULL, NULL },
		{ "8bit windows-1252", "Content-Type: text/plain; "
		    "charset=windows-1252\nContent-Transfer-Encoding: 8bit"
		    "\n\n\x80 10 \x93quoted\x94\n", "\xe2\x82\xac 10 "
		    "\xe2\x80\x9cquoted\xe2\x80\x9d", NULL, NULL, NULL },
		{ "iso-8859-1 label read as windows-1252", "Content-Type: "
		    "text/plain; charset=\"ISO-8859-1\"\n\n\x85 caf\xe9\n",
		    "\xe2\x80\xa6 caf\xc3\xa9", NULL, NULL, NULL },
		{ "koi8-r", "Content-Type: text/plain; charset=koi8-r\n"
		    "Content-Transfer-Encoding: 8bit\n\n\xd0\xd2\xc9\xd7"
		    "\xc5\xd4\n", "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5"
		    "\xd1\x82", NULL, NULL, NULL },
		{ "utf-8 base64", "Content-Type: text/plain; charset=utf-8\n"
		    "Content-Transfer-Encoding: base64\n\n"
		    "SMOkbGxvIFfDtnJsZA==\n", "H\xc3\xa4llo W\xc3\xb6rld",
		    NULL, NULL, NULL },
		{ "base64 truncated", "Content-Type: text/plain\n"
		    "Content-Transfer-Encoding: base64\n\nSGVsbG8gd29y",
		    "Hello wor", NULL, NULL, NULL },
		{ "shift_jis", "Content-Type: text/plain; charset=Shift_JIS"
		    "\nContent-Transfer-Encoding: 8bit\n\n\x93\xfa\x96\x7b"
		    "\x8c\xea\n", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
		    NULL, NULL, NULL },
		{ "unknown charset, valid utf-8", "Content-Type: text/plain;"
		    " charset=x-bogus\n\nS\xc3\xbc\xc3\x9f\n",
		    "S\xc3\xbc\xc3\x9f", NULL, NULL, NULL },
		{ "unknown charset, latin bytes", "Content-Type: text/plain;"
		    " charset=x-bogus\n\nS\xfc\xdf\n", "S\xc3\xbc\xc3\x9f",
		    NULL, NULL, NULL },
		{ "us-ascii with 8-bit", "Content-Type: text/plain; "
		    "charset=us-ascii\n\ncaf\xe9\n", "caf\xc3\xa9", NULL,
		    NULL, NULL },
		{ "bad utf-8 repaired", "Content-Type: text/plain; "
		    "charset=utf-8\n\ncaf\xc3\xa9 a\xff" "b\xc3\n",
		    "caf\xc3\xa9 a\xef\xbf\xbd" "b\xef\xbf\xbd", NULL, NULL,
		    NULL },
		{ "utf-8 label on latin-1 text", "Content-Type: text/plain; "
		    "charset=utf-8\n\nGr\xfc\xdf" "e\n",
		    "Gr\xc3\xbc\xc3\x9f" "e", NULL, NULL, NULL },
		{ "latin-1 label on utf-8 text", "Content-Type: text/plain; "
		    "charset=iso-8859-1\n\nGr\xc3\xbc\xc3\x9f" "e\n",
		    "Gr\xc3\xbc\xc3\x9f" "e", "\xc3\x83", NULL, NULL },
		{ "nul bytes", "Subject: x\n\nbefore\0after\n", "after",
		    NULL, NULL, NULL },
	};
	struct msg	*m;
	const char	 nulmsg[] = "Subject: x\n\nbefore\0after\n";

	/* strlen() stops at the NUL: parse that one with its length. */
	run_text_cases(tc, sizeof tc / sizeof tc[0] - 1);
	m = mime_parse(nulmsg, sizeof nulmsg - 1, NULL);
	assert_clean(m);
	assert_non_null(strstr(m->body, "before"));
	assert_non_null(strstr(m->body, "after"));
	msg_free(m);
}

static void
test_headers_rfc2047(void **state)
{
	struct msg	*m;

	m = parse("Subject: =?utf-8?q?J=C3=BCrgen?= =?iso-8859-1?q?_M=FC"
	    "ller?=\n"
	    "From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <j@example.de>\n"
	    "To: \"Doe, Jane\" <jane@example.org>, bob@example.org\n"
	    "Cc: friends: ann@example.org, =?utf-8?q?Z=C3=B6e?= "
	    "<zoe@example.org>;, undisclosed-recipients:;\n"
	    "X-Split: =?utf-8?q?Hel?= =?utf-8?q?lo?= world\n"
	    "X-Folded: one\n two\n\tthree\n"
	    "x-split: second\n"
	    "\nbody\n");
	assert_string_equal(m->subject, "J\xc3\xbcrgen M\xc3\xbcller");
	assert_string_equal(m->from.name, "J\xc3\xbcrgen M\xc3\xbcller");
	assert_string_equal(m->from.addr, "j@example.de");
	assert_string_equal(m->from_text,
	    "J\xc3\xbcrgen M\xc3\xbcller <j@example.de>");
	assert_int_equal(m->nto, 4);
	assert_string_equal(m->to[0].name, "Doe, Jane");
	assert_string_equal(m->to[0].addr, "jane@example.org");
	assert_string_equal(m->to[1].name, "");
	assert_string_equal(m->to[1].addr, "bob@example.org");
	assert_string_equal(m->to[2].addr, "ann@example.org");
	assert_string_equal(m->to[3].name, "Z\xc3\xb6" "e");
	assert_string_equal(m->to[3].addr, "zoe@example.org");
	assert_string_equal(m->to_text, "Doe, Jane <jane@example.org>, "
	    "<bob@example.org>, <ann@example.org>, "
	    "Z\xc3\xb6" "e <zoe@example.org>");
	assert_string_equal(msg_header(m, "x-split"), "Hello world");
	assert_string_equal(msg_header(m, "X-SPLIT"), "Hello world");
	assert_non_null(strstr(msg_header(m, "X-Folded"), "one"));
	assert_non_null(strstr(msg_header(m, "X-Folded"), "three"));
	assert_null(strchr(msg_header(m, "X-Folded"), '\n'));
	assert_null(msg_header(m, "X-Missing"));
	assert_int_equal(m->nheaders, 7);
	assert_string_equal(m->headers[0].name, "Subject");
	msg_free(m);

	/* Latin-1 raw bytes in a header; a last header without newline. */
	m = parse("From: a@example.org\nSubject: caf\xe9 ok");
	assert_string_equal(m->subject, "caf\xc3\xa9 ok");
	assert_string_equal(m->body, "");
	msg_free(m);

	/* Header injection through an encoded word is neutralised. */
	m = parse("Subject: =?utf-8?q?Hello=0D=0ABcc:_victim@example.com?=\n"
	    "From: =?utf-8?q?Eve=0D=0ABcc:_x@y.z?= <eve@example.org>\n\nx\n");
	assert_null(strchr(m->subject, '\r'));
	assert_null(strchr(m->subject, '\n'));
	assert_string_equal(m->subject, "Hello Bcc: victim@example.com");
	assert_null(strchr(m->from.name, '\n'));
	assert_string_equal(m->from.addr, "eve@example.org");
	msg_free(m);
}

static void
test_ids_and_return_path(void **state)
{
	struct msg	*m;

	m = parse("Return-Path: <bounce@example.org>\n"
	    "Return-Path: <other@example.org>\n"
	    "Message-ID: <abc.123@example.org>\n"
	    "References: <r1@x.org>\n <r2@x.org> <r3@x.org>\n"
	    "In-Reply-To: <r3@x.org>\n\nx\n");
	assert_string_equal(m->return_path, "bounce@example.org");
	assert_string_equal(m->message_id, "<abc.123@example.org>");
	assert_string_equal(m->references, "<r1@x.org> <r2@x.org> <r3@x.org>");
	msg_free(m);

	m = parse("Return-Path: <>\nIn-Reply-To: <only@x.org>\n\nx\n");
	assert_non_null(m->return_path);
	assert_string_equal(m->return_path, "");
	assert_null(m->message_id);
	assert_string_equal(m->references, "<only@x.org>");
	msg_free(m);

	m = parse("Subject: no return path\n\nx\n");
	assert_null(m->return_path);
	assert_null(m->references);
	msg_free(m);

	m = parse("Return-Path: <@relay.example:user@example.org>\n"
	    "Message-ID: bare@example.org\n\nx\n");
	assert_string_equal(m->return_path, "user@example.org");
	assert_string_equal(m->message_id, "<bare@example.org>");
	msg_free(m);
}

static void
test_html_and_alternative(void **state)
{
	static const struct text_case tc[] = {
		{ "html only", "Content-Type: text/html; charset=utf-8\n\n"
		    "<html><head><title>T1</title><style>p{color:red}</style>"
		    "</head><body><script>var x = 1;</script><p>Hello &amp; "
		    "welcome&nbsp;here</p><div>line&lt;2&gt; &quot;q&quot; "
		    "it&#39;s &#8364; &#x263A;</div>a<br>b<ul><li>one</li>"
		    "<li>two</li></ul></body></html>\n",
		    "Hello & welcome here\nline<2> \"q\" it's "
		    "\xe2\x82\xac \xe2\x98\xba\na\nb\none\ntwo",
		    "var x", NULL, NULL },
		{ "html no title/style text", "Content-Type: text/html\n\n"
		    "<head><title>T1</title><style>p{color:red}</style>"
		    "</head><p>x</p>", "x", "color", NULL, NULL },
		{ "html title gone", "Content-Type: text/html\n\n"
		    "<head><title>T1</title></head><p>x</p>", "x", "T1",
		    NULL, NULL },
		{ "html cite blockquote is quoted", "Content-Type: text/html\n\n"
		    "<div>My answer</div><blockquote type=\"cite\">old text"
		    "</blockquote>", "My answer", "old text", "> old text",
		    NULL },
		{ "html gmail_quote is quoted", "Content-Type: text/html\n\n"
		    "<div>My answer</div><blockquote class=\"gmail_quote\" "
		    "style=\"margin:0 0 0 .8ex\">old text</blockquote>",
		    "My answer", "old text", "> old text", NULL },
		{ "html plain blockquote under wrote: is quoted",
		    "Content-Type: text/html\n\n<div>My answer</div>"
		    "<div>On Mon, Ann &lt;a@x.example&gt; wrote:</div>"
		    "<blockquote>old text</blockquote>",
		    "My answer", "old text", "old text", NULL },
		/* A relay's message set in a blockquote is the inquiry. */
		{ "html relay blockquote is the text", "Content-Type: "
		    "text/html\n\n<p><b>Message:</b></p><blockquote "
		    "style=\"border-left:3px solid #ccc\">I need help"
		    "</blockquote><p>Reply to this email.</p>",
		    "Message:\nI need help", NULL, NULL, "help" },
		{ "html quote inside relay blockquote", "Content-Type: "
		    "text/html\n\n<blockquote>new words<blockquote "
		    "type=cite>old words</blockquote>more new</blockquote>",
		    "new words", "old words", "> old words", "more new" },
		{ "alternative prefers plain", "Content-Type: "
		    "multipart/alternative; boundary=\"b1\"\n\n--b1\n"
		    "Content-Type: text/plain\n\nPLAIN text\n--b1\n"
		    "Content-Type: text/html\n\n<p>HTML text</p>\n--b1--\n",
		    "PLAIN text", "HTML", NULL, "HTML" },
		{ "alternative html first", "Content-Type: "
		    "multipart/alternative; boundary=b1\n\n--b1\n"
		    "Content-Type: text/html\n\n<p>HTML text</p>\n--b1\n"
		    "Content-Type: text/plain\n\nPLAIN text\n--b1--\n",
		    "PLAIN text", "HTML", NULL, NULL },
		{ "alternative empty plain uses html", "Content-Type: "
		    "multipart/alternative; boundary=b1\n\n--b1\n"
		    "Content-Type: text/plain\n\n  \n--b1\n"
		    "Content-Type: text/html\n\n<p>HTML text</p>\n--b1--\n",
		    "HTML text", NULL, NULL, NULL },
		{ "alternative with related html", "Content-Type: "
		    "multipart/alternative; boundary=b1\n\n--b1\n"
		    "Content-Type: multipart/related; boundary=b2\n\n--b2\n"
		    "Content-Type: text/html\n\n<b>rich</b> text\n--b2\n"
		    "Content-Type: image/png\nContent-Transfer-Encoding: "
		    "base64\n\niVBORw0KGgo=\n--b2--\n--b1--\n",
		    "rich text", "iVBOR", NULL, NULL },
		{ "missing boundary", "Content-Type: multipart/mixed\n\n"
		    "just text\n", "just text", NULL, NULL, NULL },
		{ "unclosed multipart", "Content-Type: multipart/mixed; "
		    "boundary=z\n\n--z\nContent-Type: text/plain\n\n"
		    "first\n--z\nContent-Type: text/plain\n\nsecond",
		    "second", NULL, NULL, NULL },
	};

	run_text_cases(tc, sizeof tc / sizeof tc[0]);
}

static void
test_mixed_and_forward(void **state)
{
	static const char att[] = "Content-Type: multipart/mixed; "
	    "boundary=mx\n\n--mx\nContent-Type: text/plain\n\nPart one\n"
	    "--mx\nContent-Type: text/plain; name=secret.txt\n"
	    "Content-Disposition: attachment; filename=secret.txt\n\n"
	    "ATTACHED SECRET\n--mx\nContent-Type: application/pdf\n"
	    "Content-Transfer-Encoding: base64\n\nSlVOS1BERg==\n--mx\n"
	    "Content-Type: text/plain\n\nPart two\n--mx--\n";
	static const char fwd[] = "Content-Type: multipart/mixed; "
	    "boundary=mx\n\n--mx\nContent-Type: text/plain\n\nSee below, "
	    "please.\n--mx\nContent-Type: message/rfc822\n\n"
	    "Subject: inner\nFrom: x@example.org\n\nForwarded words here\n"
	    "--mx--\n";
	struct msg	*m;

	m = parse(att);
	assert_non_null(strstr(m->body, "Part one"));
	assert_non_null(strstr(m->body, "Part two"));
	assert_true(strstr(m->body, "Part one") < strstr(m->body,
	    "Part two"));
	assert_null(strstr(m->body, "SECRET"));
	assert_null(strstr(m->quoted, "SECRET"));
	assert_null(strstr(m->body, "JUNK"));
	assert_string_equal(m->content_type, "multipart/mixed");
	msg_free(m);

	m = parse(fwd);
	assert_string_equal(m->body, "See below, please.");
	assert_non_null(strstr(m->quoted, "Forwarded words here"));
	assert_null(strstr(m->body, "Forwarded words"));
	assert_string_equal(m->forwarded, "Forwarded words here");
	assert_int_equal(m->is_report, 0);
	msg_free(m);
}

static void
test_quote_split(void **state)
{
	static const struct text_case tc[] = {
		{ "gt lines", "\nMy new text\n> old line\n>> older\n"
		    "More new\n", "My new text\nMore new", "old line",
		    "old line", "My new" },
		{ "on wrote", "\nHello there\n\nOn Mon, 1 Jan 2024, Ann "
		    "<a@x.org> wrote:\nold reply text\n",
		    "Hello there", "wrote:", "old reply text", "Hello" },
		{ "on wrote wrapped", "\nThanks!\n\nOn Mon, 1 Jan 2024 at "
		    "10:00, Ann Example\n<ann@example.org> wrote:\n"
		    "> old\n", "Thanks!", "Ann Example", "Ann Example",
		    NULL },
		{ "german schrieb", "\nDanke!\n\nAm 01.02.2024 um 10:00 "
		    "schrieb Max <m@x.de>:\n> alt\n", "Danke!", "schrieb",
		    "schrieb", NULL },
		{ "spanish escribio", "\nGracias\n\nEl lun, 1 ene 2024 a "
		    "las 10:00, Ana (<ana@x.es>) escribi\xc3\xb3:\n> hola\n",
		    "Gracias", "escribi", "Ana", NULL },
		{ "italian ha scritto", "\nGrazie\n\nIl giorno lun 1 gen "
		    "2024, Marco <m@x.it> ha scritto:\n> ciao\n", "Grazie",
		    "scritto", "Marco", NULL },
		{ "dutch schreef", "\nDank\n\nOp ma 1 jan. 2024 om 10:00 "
		    "schreef Jan <j@x.nl>:\n> hoi\n", "Dank", "schreef",
		    "schreef", NULL },
		{ "french ecrit", "\nMerci\n\nLe lun. 1 janv. 2024, Paul "
		    "<p@x.fr> a \xc3\xa9" "crit :\n> salut\n", "Merci",
		    "crit", "Paul", NULL },
		{ "el without verb is text", "\nEl martes no puedo.\n",
		    "El martes no puedo.", NULL, NULL, NULL },
		{ "outlook original", "\nNew text\n\n-----Original Message"
		    "-----\nFrom: a@x.org\nold stuff\n", "New text",
		    "old stuff", "old stuff", NULL },
		{ "outlook from/sent", "\nNew text\n\nFrom: Ann Example\n"
		    "Sent: Monday, 1 January 2024 10:00\nTo: Us\nSubject: "
		    "Hi\n\nold stuff\n", "New text", "Sent:", "old stuff",
		    NULL },
		{ "forwarded", "\nFYI\n\n---------- Forwarded message "
		    "---------\nFrom: x\n\nforwarded body\n", "FYI",
		    "forwarded body", "forwarded body", NULL },
		{ "signature", "\nPlease call me.\n-- \nDr. Someone\n"
		    "Phone 123\n", "Please call me.", "Phone", "Phone",
		    NULL },
		{ "dashes without space are text", "\nA\n--\nB\n", "A\n--\nB",
		    NULL, NULL, NULL },
		{ "on without wrote is text", "\nOn Monday I feel bad.\n"
		    "Really.\n", "On Monday I feel bad.\nReally.", NULL,
		    NULL, NULL },
		{ "from without sent is text", "\nFrom: my heart\nI write "
		    "to you.\n", "From: my heart\nI write", NULL, NULL,
		    NULL },
		{ "crlf and trailing space", "Subject: x\r\n\r\nline one  "
		    "\r\nline two\t\r\n\r\n\r\n", "line one\nline two",
		    "  ", NULL, NULL },
		{ "cr only", "Subject: x\r\rline one\rline two\r",
		    "line one\nline two", "\r", NULL, NULL },
		/* A work account's legal notice is not the writer's. */
		{ "legal notice", "\nPlease call me.\n\nCONFIDENTIALITY "
		    "NOTICE: This e-mail is for the sole use of the intended"
		    "\nrecipient. Any unauthorized review is prohibited.\n",
		    "Please call me.", "unauthorized", "sole use", NULL },
		{ "notice heading alone", "\nHi.\n\n**Confidentiality "
		    "Notice**\n\nThis message is for the intended recipient "
		    "only.\n", "Hi.", "recipient", "intended recipient",
		    NULL },
		/* A writer asking for privacy is no notice. */
		{ "privacy asked is text", "\nHi Dr. Lee,\n\nThis message is "
		    "intended only for you. I've been thinking of ending my "
		    "life.\n", "ending my life", NULL, NULL, "ending" },
		/* The notice ends with its paragraph. */
		{ "text after a notice", "\nHi.\n\nCONFIDENTIALITY NOTICE: "
		    "for the intended recipient only.\n\nP.S. I took the "
		    "pills tonight.\n", "I took the pills tonight.",
		    "CONFIDENTIALITY", "intended recipient", "pills" },
		{ "spanish notice", "\nGracias.\n\nAVISO DE "
		    "CONFIDENCIALIDAD: este mensaje es solo para su "
		    "destinatario.\n", "Gracias.", "AVISO", "destinatario",
		    NULL },
		{ "own words about privacy stay", "\nHello.\n\nThis email "
		    "is private, please don't share it. I can't go on.\n",
		    "I can't go on.", NULL, NULL, "go on" },
		{ "disclaimer of safety stays", "\nHello\n\nDisclaimer: "
		    "I'm safe, just tired.\n", "I'm safe", NULL, NULL,
		    "safe" },
		{ "notice before any text stays", "\nCONFIDENTIALITY NOTICE:"
		    " for the intended recipient only.\nI took the pills.\n",
		    "I took the pills.", NULL, NULL, "pills" },
	};
	struct msg	*m;

	run_text_cases(tc, sizeof tc / sizeof tc[0]);

	/* Mail forwarded under a notice is still forwarded. */
	m = parse("Subject: Fwd: my sister\n\nSee below.\n\n"
	    "CONFIDENTIALITY NOTICE: for the intended recipient only.\n\n"
	    "---------- Forwarded message ---------\nFrom: x\n\n"
	    "She has the pills ready.\n");
	assert_string_equal(m->body, "See below.");
	assert_string_equal(m->forwarded, "She has the pills ready.");
	msg_free(m);
	/* A reply under a notice is still history. */
	m = parse("Subject: Re: times\n\nThursday.\n\nDisclaimer: this "
	    "message is for the intended recipient only.\n\nOn Tue, Dr. "
	    "Lee wrote:\n> Can you do Thursday?\n");
	assert_string_equal(m->body, "Thursday.");
	assert_non_null(strstr(m->quoted, "Can you do Thursday?"));
	msg_free(m);

	/* Exact split: the body keeps only what the writer typed. */
	m = parse("Subject: x\n\nHi,\n\nI need help.\n\nOn Tue, Bob "
	    "wrote:\n> earlier\n");
	assert_string_equal(m->body, "Hi,\n\nI need help.");
	assert_string_equal(m->quoted, "On Tue, Bob wrote:\n> earlier");
	assert_string_equal(m->subject, "x");
	msg_free(m);

	/* An answer under the quote is the writer's again. */
	m = parse("Subject: Re: x\n\nThanks.\n\nOn Mon, Harbor Counseling "
	    "<h@x.org>\nwrote:\n> If you are in crisis, call 988.\n>\n> "
	    "We reply soon.\n\nI decided tonight.\n-- \nAnn\n");
	assert_string_equal(m->body, "Thanks.\n\nI decided tonight.");
	assert_non_null(strstr(m->quoted, "> If you are in crisis"));
	assert_non_null(strstr(m->quoted, "Ann"));
	assert_string_equal(m->forwarded, "");
	msg_free(m);
	/* History without "> " runs to the end, as before. */
	m = parse("Subject: Re: x\n\nYes.\n\nOn Mon, Bob wrote:\nold "
	    "line\n\nolder line\n");
	assert_string_equal(m->body, "Yes.");
	assert_non_null(strstr(m->quoted, "older line"));
	msg_free(m);

	/* A forward: its text in quoted and in forwarded, its head only in
	 * quoted, the forwarder's words in the body. */
	m = parse("Subject: Fwd: from my sister\n\nPlease read.\n\n"
	    "---------- Forwarded message ---------\nFrom: Ana <a@x.org>\n"
	    "Date: Mon, 2 Nov 2026\nSubject: \nTo: me\n\nTake care of "
	    "Milo.\nI love you.\n");
	assert_string_equal(m->body, "Please read.");
	assert_string_equal(m->forwarded, "Take care of Milo.\nI love you.");
	assert_non_null(strstr(m->quoted, "From: Ana"));
	assert_non_null(strstr(m->quoted, "Take care of Milo."));
	msg_free(m);
	/* A reply inside a forward: its quote is forwarded too, one level
	 * of "> " off, the attribution only in quoted. */
	m = parse("Subject: FW\n\nBegin forwarded message:\n\nthis is it\n"
	    "\nOn Sun, Ana wrote:\n> older\n\nstill hers\n");
	assert_string_equal(m->body, "");
	assert_string_equal(m->forwarded, "this is it\n\nolder\n\nstill hers");
	assert_null(strstr(m->forwarded, "wrote:"));
	msg_free(m);
	/* "Forwarding what I sent her": the office's answer, and under it the
	 * writer's own first letter, quoted; both are forwarded text. */
	m = parse("Subject: Fwd: Re: therapist\n\nForwarding what I sent "
	    "her.\n\n---------- Forwarded message ---------\nFrom: Office "
	    "<o@x.org>\nSubject: Re: therapist\n\nOur caseload is full.\n\n"
	    "On Wed, Feb 25, 2026 at 9:47 PM Marcus <m@x.org> wrote:\n"
	    "> I'm lonely since the divorce.\n> > her older line\n");
	assert_string_equal(m->body, "Forwarding what I sent her.");
	assert_string_equal(m->forwarded, "Our caseload is full.\n\n"
	    "I'm lonely since the divorce.\n> her older line");
	assert_non_null(strstr(m->quoted, "> I'm lonely"));
	msg_free(m);
	/* Outside a forward, a reply's quote stays out of forwarded. */
	m = parse("Subject: Re: x\n\nYes.\n\nOn Mon, Bob wrote:\n> old\n");
	assert_string_equal(m->forwarded, "");
	msg_free(m);

	/*
	 * Outlook forwards with a header block, not a marker: where the
	 * subject says forward, the block opens the forwarded message; in a
	 * reply the same block is history.
	 */
	m = parse("Subject: FW: from my sister\n\nSee below.\n\nFrom: Ana "
	    "<a@x.org>\nSent: Monday, November 2, 2026\nTo: me\nSubject: "
	    "hi\n\nTake care of Milo.\n");
	assert_string_equal(m->body, "See below.");
	assert_string_equal(m->forwarded, "Take care of Milo.");
	assert_non_null(strstr(m->quoted, "Sent: Monday"));
	msg_free(m);
	m = parse("Subject: RE: from my sister\n\nSee below.\n\nFrom: Ana "
	    "<a@x.org>\nSent: Monday, November 2, 2026\nTo: me\nSubject: "
	    "hi\n\nTake care of Milo.\n");
	assert_string_equal(m->body, "See below.");
	assert_string_equal(m->forwarded, "");
	assert_non_null(strstr(m->quoted, "Take care of Milo."));
	msg_free(m);
	/* Spanish Outlook: "RV:", "Mensaje original", "De:" and "Enviado:". */
	m = parse("Subject: RV: mi hijo\n\nLe reenvio.\n\n-----Mensaje "
	    "original-----\nDe: Rosa <r@x.org>\nEnviado: lunes\n\nYa no "
	    "aguanto.\n");
	assert_string_equal(m->body, "Le reenvio.");
	assert_string_equal(m->forwarded, "Ya no aguanto.");
	msg_free(m);
	/* Apple Mail quotes the whole forward one level down. */
	m = parse("Subject: Fwd: Dad\n\nFrom my brother.\n\nBegin "
	    "forwarded message:\n\n> From: Hal <h@x.org>\n> Date: Sunday"
	    "\n> \n> He drinks all day now.\n> > older history\n");
	assert_string_equal(m->body, "From my brother.");
	assert_string_equal(m->forwarded, "He drinks all day now.");
	assert_non_null(strstr(m->quoted, "> > older history"));
	msg_free(m);
	/* A client portal's relay of a message. */
	m = parse("Subject: New secure message from Tamsin H.\n\nYou have a "
	    "new secure message.\n\nFrom: Tamsin H. (client)\nSent: Sunday"
	    "\n\nI won't be rebooking.\n");
	assert_string_equal(m->forwarded, "I won't be rebooking.");
	msg_free(m);
	/* A web form's relay has From: and Date: fields: the person's text. */
	m = parse("Subject: New form submission\n\nA new submission.\n\n"
	    "From: Jane Doe <j@x.org>\nDate: March 2, 2026\nPhone: 555\n"
	    "Message:\nI saved my pills for tonight.\n");
	assert_non_null(strstr(m->body, "I saved my pills for tonight."));
	assert_string_equal(m->quoted, "");
	msg_free(m);
	/* Outlook's head ends at its Subject: line, blank line or not. */
	m = parse("Subject: Re: times\n\nThursday works.\nFrom: Dr. Lee\n"
	    "Sent: Monday\nSubject: times\nCan you do Thursday?\n");
	assert_string_equal(m->body, "Thursday works.");
	assert_non_null(strstr(m->quoted, "Can you do Thursday?"));
	msg_free(m);
}

static void
test_report(void **state)
{
	static const char top[] = "Content-Type: multipart/report; "
	    "report-type=delivery-status; boundary=r\n\n--r\n"
	    "Content-Type: text/plain\n\nDelivery failed\n--r\n"
	    "Content-Type: message/delivery-status\n\nAction: failed\n"
	    "--r--\n";
	static const char nested[] = "Content-Type: multipart/mixed; "
	    "boundary=o\n\n--o\nContent-Type: multipart/report; "
	    "boundary=r\n\n--r\nContent-Type: text/plain\n\nfail\n--r--\n"
	    "--o--\n";
	static const char fwd[] = "Content-Type: multipart/mixed; "
	    "boundary=o\n\n--o\nContent-Type: text/plain\n\nlook\n--o\n"
	    "Content-Type: message/rfc822\n\nContent-Type: "
	    "multipart/report; boundary=r\n\n--r\nContent-Type: "
	    "text/plain\n\nfail\n--r--\n--o--\n";
	struct msg	*m;

	m = parse(top);
	assert_int_equal(m->is_report, 1);
	assert_string_equal(m->content_type, "multipart/report");
	assert_non_null(strstr(m->body, "Delivery failed"));
	assert_null(strstr(m->body, "Action"));
	msg_free(m);

	m = parse(nested);
	assert_int_equal(m->is_report, 1);
	assert_string_equal(m->content_type, "multipart/mixed");
	msg_free(m);

	m = parse(fwd);
	assert_int_equal(m->is_report, 0);
	msg_free(m);

	m = parse("Content-Type: text/plain\n\nnot a report\n");
	assert_int_equal(m->is_report, 0);
	msg_free(m);
}

/* A message of depth levels of nested multiparts around "deep text". */
static char *
nested_message(int depth)
{
	struct buf	b;
	int		i;

	buf_init(&b, 0);
	buf_addstr(&b, "Subject: deep\n");
	for (i = 0; i < depth; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; "
		    "boundary=\"b%d\"\n\n--b%d\n", i, i);
	buf_addstr(&b, "Content-Type: text/plain\n\ndeep text\n");
	for (i = depth - 1; i >= 0; i--)
		buf_printf(&b, "--b%d--\n", i);
	return (buf_detach(&b, NULL));
}

static void
test_limits(void **state)
{
	struct mime_limits	 lim;
	struct msg		*m;
	struct buf		 b;
	char			*raw;
	int			 i;

	mime_limits_default(&lim);
	assert_int_equal(lim.max_bytes, 1024 * 1024);
	assert_int_equal(lim.max_depth, 20);
	assert_int_equal(lim.max_parts, 100);
	assert_int_equal(lim.max_text, 256 * 1024);

	/* Within the depth limit: parsed normally. */
	raw = nested_message(10);
	m = parse(raw);
	assert_string_equal(m->subject, "deep");
	assert_string_equal(m->body, "deep text");
	assert_int_equal(m->truncated, 0);
	msg_free(m);
	free(raw);

	/* 5000 levels: headers only, body as text (its speed: make bench). */
	raw = nested_message(5000);
	m = parse(raw);
	assert_int_equal(m->truncated, 1);
	assert_string_equal(m->subject, "deep");
	assert_non_null(strstr(m->body, "--b0\n"));
	msg_free(m);
	free(raw);

	/* max_bytes: the raw message is cut. */
	lim.max_bytes = 64;
	raw = strdup("Subject: cut\n\nkept text here, then a long tail "
	    "that goes past the cap ZZZ\n");
	assert_non_null(raw);
	m = mime_parse(raw, strlen(raw), &lim);
	assert_clean(m);
	assert_int_equal(m->truncated, 1);
	assert_string_equal(m->subject, "cut");
	assert_null(strstr(m->body, "ZZZ"));
	msg_free(m);
	free(raw);

	/* max_text: body + quoted capped on a UTF-8 boundary. */
	mime_limits_default(&lim);
	lim.max_text = 101;
	buf_init(&b, 0);
	buf_addstr(&b, "Subject: long\n\n");
	for (i = 0; i < 200; i++)
		buf_addstr(&b, "\xc3\xa4");
	buf_addstr(&b, "\n");
	m = mime_parse(b.data, b.len, &lim);
	assert_clean(m);
	assert_int_equal(m->truncated, 1);
	assert_true(strlen(m->body) + strlen(m->quoted) <= 101);
	assert_true(strlen(m->body) >= 90);
	msg_free(m);
	buf_free(&b);

	/* max_parts. */
	mime_limits_default(&lim);
	lim.max_parts = 3;
	buf_init(&b, 0);
	buf_addstr(&b, "Content-Type: multipart/mixed; boundary=p\n\n");
	for (i = 0; i < 10; i++)
		buf_printf(&b, "--p\nContent-Type: text/plain\n\npart%d\n", i);
	buf_addstr(&b, "--p--\n");
	m = mime_parse(b.data, b.len, &lim);
	assert_clean(m);
	assert_int_equal(m->truncated, 1);
	msg_free(m);
	lim.max_parts = 100;
	m = mime_parse(b.data, b.len, &lim);
	assert_int_equal(m->truncated, 0);
	assert_non_null(strstr(m->body, "part9"));
	msg_free(m);
	buf_free(&b);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"no headers at all, just text\n",
		"Subject: only header",
		":\n:\n\n",
		" leading continuation\nSubject: x\n\nbody\n",
		"From: <>\nTo: ,,,\nCc: broken <unterminated@\n\n",
		"From: \"unterminated\nTo: a@b.c (comment\n\nx\n",
		"Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n",
		"Content-Type: text/html\n\n<a href=\"x>unclosed <b "
		    "attr='y>&#xFFFFFFFF; &#0; &#55296; &bogus; &\n",
		"Content-Type: text/html\n\n<script>never closed",
		"Content-Type: text/plain; charset=utf-16\n\n\xff\xfe" "a\0",
		"Content-Transfer-Encoding: base64\n\n!!!!====@@@@\n",
		"Subject: =?utf-8?q?unterminated\n\nx\n",
		"Subject: =?bogus?b?AAAA?=\n\nx\n",
	};
	struct msg	*m;
	struct buf	 b;
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		m = parse(bad[i]);
		msg_free(m);
	}

	/* No headers: the whole text is the body. */
	m = parse(bad[0]);
	assert_string_equal(m->body, "no headers at all, just text");
	msg_free(m);

	/* A 998+ octet line and a 100 KB header. */
	buf_init(&b, 0);
	buf_addstr(&b, "X-Long: ");
	for (i = 0; i < 100000; i++)
		buf_addch(&b, 'h');
	buf_addstr(&b, "\nSubject: after\n\n");
	for (i = 0; i < 5000; i++)
		buf_addch(&b, 'x');
	buf_addstr(&b, "\n");
	m = mime_parse(b.data, b.len, NULL);
	assert_clean(m);
	assert_string_equal(m->subject, "after");
	assert_int_equal(strlen(m->body), 5000);
	msg_free(m);
	buf_free(&b);

	/* A leading mbox "From " line is not a header problem. */
	m = parse("From someone@x Mon Jan  1 00:00:00 2024\nSubject: s\n\nb\n");
	assert_string_equal(m->subject, "s");
	assert_string_equal(m->body, "b");
	msg_free(m);
}

static void
test_transfer_encoding_fallback(void **state)
{
	static const struct text_case tc[] = {
		{ "7-bit label", "Content-Type: text/plain\n"
		    "Content-Transfer-Encoding: 7-bit\n\nplain =3D text\n",
		    "plain =3D text", NULL, NULL, NULL },
		{ "quoted printable with a space", "Content-Type: text/plain;"
		    " charset=utf-8\nContent-Transfer-Encoding: quoted "
		    "printable\n\nGr=C3=BC=C3=9Fe a=3Db\n",
		    "Gr\xc3\xbc\xc3\x9f" "e a=b", "=C3", NULL, NULL },
		{ "quoted_printable", "Content-Type: text/plain\n"
		    "Content-Transfer-Encoding: Quoted_Printable\n\na=3Db\n",
		    "a=b", NULL, NULL, NULL },
		{ "x-base64", "Content-Type: text/plain\n"
		    "Content-Transfer-Encoding: x-base64\n\naGVsbG8=\n",
		    "hello", "aGVs", NULL, NULL },
		{ "upper case BASE64 with spaces", "Content-Type: text/plain\n"
		    "Content-Transfer-Encoding:  BASE64 \n\naGVsbG8=\n",
		    "hello", NULL, NULL, NULL },
		{ "binary", "Content-Type: text/plain; charset=utf-8\n"
		    "Content-Transfer-Encoding: binary\n\nbin\xc3\xa4r\n",
		    "bin\xc3\xa4r", NULL, NULL, NULL },
		{ "8bit", "Content-Type: text/plain; charset=utf-8\n"
		    "Content-Transfer-Encoding: 8bit\n\nacht\xc3\xa4\n",
		    "acht\xc3\xa4", NULL, NULL, NULL },
		{ "base64 with junk", "Content-Type: text/plain\n"
		    "Content-Transfer-Encoding: base64\n\naGVs*!bG8g\n"
		    "d29y\x01" "bGQ=\n", "hello world", NULL, NULL, NULL },
		{ "base64 cut mid quantum", "Content-Type: text/plain\n"
		    "Content-Transfer-Encoding: base64\n\naGVsbG8gd2",
		    "hello w", NULL, NULL, NULL },
		{ "base64 of latin-1", "Content-Type: text/plain; charset="
		    "iso-8859-1\nContent-Transfer-Encoding: base64\n\n"
		    "R3L832U=\n", "Gr\xc3\xbc\xc3\x9f" "e", NULL, NULL, NULL },
		{ "unknown uuencode left as is", "Content-Type: text/plain\n"
		    "Content-Transfer-Encoding: x-uuencode\n\nas is\n",
		    "as is", NULL, NULL, NULL },
		{ "qp soft break at the end", "Content-Type: text/plain\n"
		    "Content-Transfer-Encoding: quoted-printable\n\nend=",
		    "end", "=", NULL, NULL },
	};

	run_text_cases(tc, sizeof tc / sizeof tc[0]);
}

static void
test_charsets(void **state)
{
	static const struct text_case tc[] = {
		{ "iso-2022-jp", "Content-Type: text/plain; charset="
		    "ISO-2022-JP\nContent-Transfer-Encoding: 7bit\n\n"
		    "\x1b$BF|K\x5c" "8l\x1b(B\n",
		    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\x1b", NULL,
		    NULL },
		{ "shift_jis as cp932", "Content-Type: text/plain; charset="
		    "shift_jis\n\n\x87@\n", "\xe2\x91\xa0", NULL, NULL,
		    NULL },
		{ "gb2312", "Content-Type: text/plain; charset=gb2312\n\n"
		    "\xc4\xe3\xba\xc3\n", "\xe4\xbd\xa0\xe5\xa5\xbd", NULL,
		    NULL, NULL },
		{ "gb2312 label on gbk text", "Content-Type: text/plain; "
		    "charset=\"GB2312\"\n\n\xe9" "F\n", "\xe9\x95\x95",
		    "\xef\xbf\xbd", NULL, NULL },
		{ "gbk", "Content-Type: text/plain; charset=gbk\n\n\xe9" "F"
		    "\xc4\xe3\n", "\xe9\x95\x95\xe4\xbd\xa0", NULL, NULL,
		    NULL },
		{ "big5", "Content-Type: text/plain; charset=big5\n\n"
		    "\xbbO\xc6W\n", "\xe8\x87\xba\xe7\x81\xa3", NULL, NULL,
		    NULL },
		{ "euc-kr", "Content-Type: text/plain; charset=euc-kr\n\n"
		    "\xbe\xc8\xb3\xe7\n", "\xec\x95\x88\xeb\x85\x95", NULL,
		    NULL, NULL },
		{ "ks_c_5601-1987 as cp949", "Content-Type: text/plain; "
		    "charset=ks_c_5601-1987\n\n\x8c" "c\n", "\xeb\x98\xa0",
		    NULL, NULL, NULL },
		{ "utf-7", "Content-Type: text/plain; charset=utf-7\n\n"
		    "Gr+APwA3w-e\n", "Gr\xc3\xbc\xc3\x9f" "e", "+AP", NULL,
		    NULL },
		{ "utf-16 with bom", "Content-Type: text/plain; charset="
		    "utf-16\nContent-Transfer-Encoding: base64\n\n"
		    "//5HAHIA/ADfAGUA\n", "Gr\xc3\xbc\xc3\x9f" "e", NULL,
		    NULL, NULL },
		{ "utf-16 without bom, little-endian", "Content-Type: "
		    "text/plain; charset=UTF-16\nContent-Transfer-Encoding: "
		    "base64\n\nRwByAPwA3wBlAA==\n",
		    "Gr\xc3\xbc\xc3\x9f" "e", NULL, NULL, NULL },
		{ "utf-16 without bom, big-endian", "Content-Type: "
		    "text/plain; charset=utf-16\nContent-Transfer-Encoding: "
		    "base64\n\nAEcAcgD8AN8AZQ==\n",
		    "Gr\xc3\xbc\xc3\x9f" "e", NULL, NULL, NULL },
		{ "utf-16le", "Content-Type: text/plain; charset=utf-16le\n"
		    "Content-Transfer-Encoding: base64\n\nRwByAPwA3wBlAA==\n",
		    "Gr\xc3\xbc\xc3\x9f" "e", NULL, NULL, NULL },
		{ "windows-1251", "Content-Type: text/plain; charset="
		    "windows-1251\n\n\xef\xf0\xe8\xe2\xe5\xf2\n",
		    "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", NULL,
		    NULL, NULL },
		{ "windows-1250", "Content-Type: text/plain; charset="
		    "windows-1250\n\n\xa3\xf3" "d\x9f\n",
		    "\xc5\x81\xc3\xb3" "d\xc5\xba", NULL, NULL, NULL },
		{ "windows-1253", "Content-Type: text/plain; charset="
		    "windows-1253\n\n\xc3\xe5\xe9\xdc\n",
		    "\xce\x93\xce\xb5\xce\xb9\xce\xac", NULL, NULL, NULL },
		{ "iso-8859-2", "Content-Type: text/plain; charset="
		    "iso-8859-2\n\n\xa3\xf3" "d\xbc\n",
		    "\xc5\x81\xc3\xb3" "d\xc5\xba", NULL, NULL, NULL },
		{ "iso-8859-15", "Content-Type: text/plain; charset="
		    "iso-8859-15\n\n\xa4 5\n", "\xe2\x82\xac 5", NULL, NULL,
		    NULL },
		{ "x- prefixed known charset", "Content-Type: text/plain; "
		    "charset=x-koi8-r\n\n\xd0\xd2\xc9\xd7\xc5\xd4\n",
		    "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", NULL,
		    NULL, NULL },
		{ "unknown label, iso-2022-jp escapes", "Content-Type: "
		    "text/plain; charset=x-jis-unknown\n\n"
		    "\x1b$BF|K\x5c" "8l\x1b(B\n",
		    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", NULL, NULL, NULL },
		{ "no label, utf-16 bom", "Content-Type: text/plain\n"
		    "Content-Transfer-Encoding: base64\n\n//5HAHIA/ADfAGUA\n",
		    "Gr\xc3\xbc\xc3\x9f" "e", NULL, NULL, NULL },
		{ "utf-8 bom dropped", "Content-Type: text/plain; charset="
		    "utf-8\n\n\xef\xbb\xbfStart\n", "Start", "\xef\xbb\xbf",
		    NULL, NULL },
		{ "rfc 2231 charset", "Content-Type: text/plain; charset*="
		    "''windows-1251\n\n\xef\xf0\xe8\xe2\xe5\xf2\n",
		    "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", NULL,
		    NULL, NULL },
		{ "rfc 2231 charset continued", "Content-Type: text/plain; "
		    "charset*0=\"windows\"; charset*1=\"-1251\"\n\n"
		    "\xef\xf0\xe8\xe2\xe5\xf2\n",
		    "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", NULL,
		    NULL, NULL },
		{ "html meta charset", "Content-Type: text/html\n\n<html>"
		    "<head><meta http-equiv=\"Content-Type\" content=\""
		    "text/html; charset=koi8-r\"></head><body>"
		    "\xd0\xd2\xc9\xd7\xc5\xd4</body></html>\n",
		    "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", NULL,
		    NULL, NULL },
		{ "iso-2022-jp cut mid sequence", "Content-Type: text/plain;"
		    " charset=iso-2022-jp\n\nok \x1b$BF|K", "ok ", NULL, NULL,
		    NULL },
	};

	run_text_cases(tc, sizeof tc / sizeof tc[0]);
}

static void
test_rfc2047_words(void **state)
{
	static const struct {
		const char	*raw;
		const char	*subject;
	} tc[] = {
		{ "=?utf-8?q?J=C3?= =?utf-8?q?=BCrgen?=",
		    "J\xc3\xbcrgen" },
		{ "=?UTF-8?B?SsO8?=\n =?UTF-8?B?cmdlbg==?=",
		    "J\xc3\xbcrgen" },
		{ "=?utf-8?q?a?= b =?utf-8?q?c?=", "a b c" },
		{ "=?utf-8?q?a?=  \t =?iso-8859-1?q?=FC?=",
		    "a\xc3\xbc" },
		{ "Re:=?utf-8?q?Hallo_Welt?=", "Re:Hallo Welt" },
		{ "=?utf-8?q?hello world?=", "hello world" },
		{ "=?utf-8*de?q?Gr=C3=BC=C3=9Fe?=",
		    "Gr\xc3\xbc\xc3\x9f" "e" },
		{ "=?utf-8?b?SGFsbG8?=", "Hallo" },
		{ "=?ISO-2022-JP?B?GyRCRnxLXBsoQg==?=",
		    "\xe6\x97\xa5\xe6\x9c\xac" },
		{ "=?windows-1252?Q?=93quoted=94?=",
		    "\xe2\x80\x9cquoted\xe2\x80\x9d" },
		{ "=?x-unknown?q?caf=E9?=", "caf\xc3\xa9" },
		{ "=?utf-8?q?unterminated", "=?utf-8?q?unterminated" },
		{ "=?utf-8?x?bad encoding?=", "=?utf-8?x?bad encoding?=" },
		{ "=??q?no charset?=", "=??q?no charset?=" },
		{ "a =?utf-8?q?=ZZ?= b", "a =ZZ b" },
		{ "plain caf\xe9 latin", "plain caf\xc3\xa9 latin" },
		{ "=?utf-8?q?x=0D=0ABcc:_y?=", "x Bcc: y" },
		{ "1 + 1 =? 2", "1 + 1 =? 2" },
		{ "a =?x-bogus?b?\?= b", "a  b" },	/* empty word */
		{ "=?utf-6?b?////?= x", "\xc3\xbf\xc3\xbf\xc3\xbf x" },
	};
	struct msg	*m;
	char		*raw;
	size_t		 i;

	for (i = 0; i < sizeof tc / sizeof tc[0]; i++) {
		if (asprintf(&raw, "Subject: %s\n\nx\n", tc[i].raw) == -1)
			fail();
		m = parse(raw);
		if (strcmp(m->subject, tc[i].subject) != 0) {
			print_error("case %zu: [%s] expected [%s]\n", i,
			    m->subject, tc[i].subject);
			fail();
		}
		msg_free(m);
		free(raw);
	}

	/* Display names: encoded, quoted-and-encoded, with commas. */
	m = parse("From: \"=?utf-8?q?M=C3=BCller=2C_J?=\" <j@example.de>\n"
	    "To: =?utf-8?q?Doe=2C_Jane?= <jane@example.org>, \"Smith, "
	    "\\\"JJ\\\" John\" <jj@example.org>\n\nx\n");
	assert_string_equal(m->from.name, "M\xc3\xbcller, J");
	assert_string_equal(m->from.addr, "j@example.de");
	assert_int_equal(m->nto, 2);
	assert_string_equal(m->to[0].name, "Doe, Jane");
	assert_string_equal(m->to[1].name, "Smith, \"JJ\" John");
	assert_string_equal(m->to[1].addr, "jj@example.org");
	msg_free(m);
}

static void
test_structure(void **state)
{
	static const struct text_case tc[] = {
		{ "signed: first part only", "Content-Type: multipart/"
		    "signed; protocol=\"application/pgp-signature\"; "
		    "boundary=s\n\n--s\nContent-Type: text/plain\n\n"
		    "signed words\n--s\nContent-Type: text/plain\n\n"
		    "SIGNATURE TEXT\n--s--\n", "signed words", "SIGNATURE",
		    NULL, "SIGNATURE" },
		{ "signed mixed inside", "Content-Type: multipart/signed; "
		    "boundary=s\n\n--s\nContent-Type: multipart/mixed; "
		    "boundary=m\n\n--m\nContent-Type: text/plain\n\ninner "
		    "text\n--m--\n--s\nContent-Type: application/"
		    "pkcs7-signature\n\nMIAGCSqG\n--s--\n", "inner text",
		    "MIAG", NULL, NULL },
		{ "encrypted skipped", "Content-Type: multipart/encrypted; "
		    "protocol=\"application/pgp-encrypted\"; boundary=e\n\n"
		    "--e\nContent-Type: application/pgp-encrypted\n\n"
		    "Version: 1\n--e\nContent-Type: text/plain\n\n"
		    "-----BEGIN PGP MESSAGE-----\nhQEMA\n--e--\n", NULL,
		    "PGP", NULL, "PGP" },
		{ "pkcs7-mime skipped", "Content-Type: application/"
		    "pkcs7-mime; smime-type=enveloped-data\n"
		    "Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3\n",
		    NULL, "MIAG", NULL, NULL },
		{ "tnef skipped", "Content-Type: multipart/mixed; boundary=t"
		    "\n\n--t\nContent-Type: text/plain\n\nsee attached\n--t\n"
		    "Content-Type: application/ms-tnef; name=winmail.dat\n"
		    "Content-Transfer-Encoding: base64\n\neJ8+IhAAAQaQCAAE\n"
		    "--t--\n", "see attached", "eJ8", NULL, NULL },
		{ "inline text file is an attachment", "Content-Type: "
		    "multipart/mixed; boundary=f\n\n--f\nContent-Type: "
		    "text/plain\n\nmy words\n--f\nContent-Type: text/plain\n"
		    "Content-Disposition: inline; filename=notes.txt\n\n"
		    "FILE CONTENT\n--f--\n", "my words", "FILE", NULL,
		    "FILE" },
		{ "rfc 2231 filename", "Content-Type: multipart/mixed; "
		    "boundary=f\n\n--f\nContent-Type: text/plain\n\nmine\n"
		    "--f\nContent-Type: text/plain\nContent-Disposition: "
		    "inline; filename*0*=utf-8''%C3%BC; filename*1=\".txt\"\n"
		    "\nFILE CONTENT\n--f--\n", "mine", "FILE", NULL, NULL },
		{ "name on the type is an attachment", "Content-Type: "
		    "multipart/mixed; boundary=f\n\n--f\nContent-Type: "
		    "text/plain\n\nmine\n--f\nContent-Type: text/html; "
		    "name*=utf-8''a%20b.html\n\n<p>FILE</p>\n--f--\n", "mine",
		    "FILE", NULL, NULL },
		{ "only part with a name is still the text", "Content-Type: "
		    "text/plain; name=\"message.txt\"\n\nthe only text\n",
		    "the only text", NULL, NULL, NULL },
		{ "only part as attachment is not text", "Content-Type: "
		    "text/plain\nContent-Disposition: attachment\n\nATT\n",
		    NULL, "ATT", NULL, NULL },
		{ "related", "Content-Type: multipart/related; boundary=r\n\n"
		    "--r\nContent-Type: text/html\n\n<p>rich <img src=\"cid:"
		    "i\"></p>\n--r\nContent-Type: image/png\nContent-ID: <i>\n"
		    "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n"
		    "--r--\n", "rich", "iVBOR", NULL, NULL },
		{ "forward as attachment goes to quoted", "Content-Type: "
		    "multipart/mixed; boundary=f\n\n--f\nContent-Type: "
		    "text/plain\n\nplease see\n--f\nContent-Type: "
		    "message/rfc822\nContent-Disposition: attachment\n\n"
		    "Subject: inner\nContent-Type: text/html\n\n<p>inner "
		    "words</p>\n--f--\n", "please see", "inner words",
		    "inner words", NULL },
		{ "text/enriched and calendar not read", "Content-Type: "
		    "multipart/mixed; boundary=c\n\n--c\nContent-Type: "
		    "text/calendar\n\nBEGIN:VCALENDAR\n--c\nContent-Type: "
		    "text/plain\n\nplain\n--c--\n", "plain", "VCALENDAR",
		    NULL, NULL },
	};
	struct msg	*m;

	run_text_cases(tc, sizeof tc / sizeof tc[0]);

	m = parse("Content-Type: multipart/report; report-type="
	    "disposition-notification; boundary=n\n\n--n\nContent-Type: "
	    "text/plain\n\nread\n--n\nContent-Type: message/"
	    "disposition-notification\n\nDisposition: manual-action/"
	    "MDN-sent-manually; displayed\n--n--\n");
	assert_int_equal(m->is_report, 1);
	assert_null(strstr(m->body, "Disposition"));
	msg_free(m);
}

static void
test_line_endings(void **state)
{
	static const struct text_case tc[] = {
		{ "mixed endings", "Subject: x\r\nFrom: a@b.example\n"
		    "To: c@d.example\r\rone\r\ntwo\nthree\rfour\n",
		    "one\ntwo\nthree\nfour", "\r", NULL, NULL },
		{ "cr cr lf", "Subject: x\r\r\nFrom: a@b.example\r\r\n\r\r\n"
		    "body\r\r\n", "body", "From:", NULL, NULL },
		{ "crlf base64", "Content-Type: text/plain\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG8=\r\n",
		    "hello", NULL, NULL, NULL },
	};
	struct msg	*m;

	run_text_cases(tc, sizeof tc / sizeof tc[0]);
	m = parse("Subject: x\r\r\nFrom: a@b.example\r\r\n\r\r\nbody\r\r\n");
	assert_string_equal(m->from.addr, "a@b.example");
	msg_free(m);
	m = parse("Subject: cr\rFrom: a@b.example\r\rbody\r");
	assert_string_equal(m->subject, "cr");
	assert_string_equal(m->from.addr, "a@b.example");
	assert_string_equal(m->body, "body");
	msg_free(m);
}

static void
test_hostile_shapes(void **state)
{
	struct msg	*m;
	struct buf	 b;
	char		*raw;

	/*
	 * A 1 MiB HTML message reduced to text; how fast this and the deep
	 * nesting below go is measured by make bench ("hostile shapes"),
	 * as a ratio, never timed here.
	 */
	buf_init(&b, 0);
	buf_addstr(&b, "Subject: big\nContent-Type: text/html; "
	    "charset=utf-8\n\n<html><body>");
	while (b.len < 1024 * 1024 - 200)
		buf_addstr(&b, "<div class=\"x\">Hello &amp; welcome, "
		    "<b>caf\xc3\xa9</b> &#8364;5<br></div>\n");
	buf_addstr(&b, "</body></html>\n");
	m = mime_parse(b.data, b.len, NULL);
	assert_clean(m);
	assert_non_null(strstr(m->body, "Hello & welcome, caf\xc3\xa9 "
	    "\xe2\x82\xac" "5"));
	assert_null(strstr(m->body, "<div"));
	msg_free(m);
	buf_free(&b);

	/* 20,000 levels: refused by the pre-scan, not parsed. */
	raw = nested_message(20000);
	m = mime_parse(raw, strlen(raw), NULL);
	assert_clean(m);
	assert_int_equal(m->truncated, 1);
	assert_string_equal(m->subject, "deep");
	msg_free(m);
	free(raw);

	/* The same without a byte cap (over 1 MiB): still refused. */
	raw = nested_message(20000);
	{
		struct mime_limits	lim;

		mime_limits_default(&lim);
		lim.max_bytes = 0;
			m = mime_parse(raw, strlen(raw), &lim);
			assert_int_equal(m->truncated, 1);
		msg_free(m);
	}
	free(raw);
}

static void
test_header_safe(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} tc[] = {
		{ "", "" },
		{ "plain", "plain" },
		{ "Hello\r\nBcc: victim@example.com", "Hello Bcc: "
		    "victim@example.com" },
		{ "a\tb\nc\rd", "a b c d" },
		{ "bell\a esc\x1b del\x7f", "bell esc del" },
		{ "c1\xc2\x85x", "c1x" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "bad\xff", "bad\xef\xbf\xbd" },
	};
	char	*s;
	size_t	 i;

	s = mime_header_safe(NULL);
	assert_string_equal(s, "");
	free(s);
	for (i = 0; i < sizeof tc / sizeof tc[0]; i++) {
		s = mime_header_safe(tc[i].in);
		assert_string_equal(s, tc[i].out);
		free(s);
	}
}

static void
test_valid_address(void **state)
{
	static const struct {
		const char	*addr;
		int		 ok;
	} tc[] = {
		{ NULL, 0 },
		{ "", 0 },
		{ "user@example.com", 1 },
		{ "first.last+tag@sub.example.co.uk", 1 },
		{ "o'brien@example.ie", 1 },
		{ "x_y-z!#$%&*/=?^`{|}~@example.org", 1 },
		{ "\"quoted local\"@example.com", 1 },
		{ "\"a\\\"b\"@example.com", 1 },
		{ "user@m\xc3\xbcller.de", 1 },
		{ "user@xn--mller-kva.de", 1 },
		{ "user@localhost", 0 },
		{ "user", 0 },
		{ "@example.com", 0 },
		{ "user@", 0 },
		{ "user@@example.com", 0 },
		{ ".user@example.com", 0 },
		{ "user.@example.com", 0 },
		{ "us..er@example.com", 0 },
		{ "us er@example.com", 0 },
		{ "user@exa mple.com", 0 },
		{ "user@-example.com", 0 },
		{ "user@example-.com", 0 },
		{ "user@.example.com", 0 },
		{ "user@example.com.", 0 },
		{ "user@example..com", 0 },
		{ "user@exam_ple.com", 0 },
		{ "user@[127.0.0.1]", 0 },
		{ "John Doe <user@example.com>", 0 },
		{ "user@example.com\r\nBcc: x@y.z", 0 },
		{ "\"ctl\x01\"@example.com", 0 },
		{ "\"unterminated@example.com", 0 },
		{ "user@m\xc3" "ller.de", 0 },
		{ "<>", 0 },
		{ "user@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80."
		    "\xd1\x80\xd1\x84", 1 },
		{ "user@\xe4\xbe\x8b\xe3\x81\x88.jp", 1 },
		{ "user@exa\xc2\xa0mple.com", 0 },		/* NBSP */
		{ "user@exa\xe2\x80\x8bmple.com", 0 },	/* ZWSP */
		{ "user@elpmaxe\xe2\x80\xae.com", 0 },	/* RLO */
		{ "user@example\xe3\x80\x82" "com", 0 },	/* 。 */
		{ "user@example\xef\xbc\x8e" "com", 0 },	/* ． */
		{ "user@ex\xef\xbf\xbdmple.com", 0 },	/* U+FFFD */
		{ "user@exa\xc2\x85mple.com", 0 },		/* C1 */
		{ "user@127.0.0.1", 0 },
		{ "user@host.123", 0 },
		{ "user@123.example", 1 },
		{ "JohnDoejohn@example.com", 1 },
		{ "John Doe john@example.com", 0 },
		{ "m\xc3\xbcller@example.de", 0 },	/* needs SMTPUTF8 */
		{ "user@example.com>", 0 },
		{ "user@ex(comment)ample.com", 0 },
		{ "a,b@example.com", 0 },
	};
	char	 longaddr[300];
	size_t	 i;

	for (i = 0; i < sizeof tc / sizeof tc[0]; i++) {
		if (mime_valid_address(tc[i].addr) != tc[i].ok) {
			print_error("address [%s] expected %d\n",
			    tc[i].addr != NULL ? tc[i].addr : "(null)",
			    tc[i].ok);
			fail();
		}
	}
	/* Length limits: 64 for the local part, 254 in all. */
	memset(longaddr, 'a', 65);
	strcpy(longaddr + 65, "@example.com");
	assert_int_equal(mime_valid_address(longaddr), 0);
	memset(longaddr, 'a', 64);
	strcpy(longaddr + 64, "@example.com");
	assert_int_equal(mime_valid_address(longaddr), 1);
	strcpy(longaddr, "a@");
	for (i = 2; i < 250; i += 10)
		memcpy(longaddr + i, "abcdefghi.", 10);
	strcpy(longaddr + i, "com");
	assert_int_equal(mime_valid_address(longaddr), 0);
}

static void
test_address_list(void **state)
{
	struct msg_addr	*a;
	size_t		 n;

	n = mime_address_list(NULL, &a);
	assert_int_equal(n, 0);
	assert_null(a);
	n = mime_address_list("", &a);
	assert_int_equal(n, 0);

	/* Resumes after a bad entry instead of stopping there. */
	n = mime_address_list("a@b.example, , ,d@e.example", &a);
	assert_int_equal(n, 2);
	assert_string_equal(a[0].addr, "a@b.example");
	assert_string_equal(a[1].addr, "d@e.example");
	msg_addrs_free(a, n);

	n = mime_address_list("team: x@y.example, \"Q, R\" <q@r.example>;",
	    &a);
	assert_int_equal(n, 2);
	assert_string_equal(a[1].name, "Q, R");
	assert_string_equal(a[1].addr, "q@r.example");
	msg_addrs_free(a, n);

	/* Words are never glued into an address (libetpan does). */
	n = mime_address_list("John Doe john@example.com", &a);
	assert_int_equal(n, 1);
	assert_string_not_equal(a[0].addr, "JohnDoejohn@example.com");
	assert_int_equal(mime_valid_address(a[0].addr), 0);
	msg_addrs_free(a, n);

	/* Old style: the comment names the mailbox. */
	n = mime_address_list("jane@example.org (Jane Doe), "
	    "(only comment) <c@example.org>", &a);
	assert_int_equal(n, 2);
	assert_string_equal(a[0].name, "Jane Doe");
	assert_string_equal(a[0].addr, "jane@example.org");
	assert_string_equal(a[1].name, "");
	assert_string_equal(a[1].addr, "c@example.org");
	msg_addrs_free(a, n);

	/* Quoted local part, source route, commas and ; in quotes. */
	n = mime_address_list("\"Team; A, B\" <\"odd local\"@example.org>, "
	    "<@relay.example,@r2.example:real@example.org>, "
	    "\"Doe, Jane \\\"JJ\\\"\" <jj@example.org>", &a);
	assert_int_equal(n, 3);
	assert_string_equal(a[0].name, "Team; A, B");
	assert_string_equal(a[0].addr, "\"odd local\"@example.org");
	assert_int_equal(mime_valid_address(a[0].addr), 1);
	assert_string_equal(a[1].addr, "real@example.org");
	assert_string_equal(a[2].name, "Doe, Jane \"JJ\"");
	assert_string_equal(a[2].addr, "jj@example.org");
	msg_addrs_free(a, n);

	/* Groups: named, empty, nested in a list; IDN kept as written. */
	n = mime_address_list("undisclosed-recipients:;, Friends: "
	    "ann@m\xc3\xbcller.de, Bob <bob@example.org>;, "
	    "last@example.org", &a);
	assert_int_equal(n, 3);
	assert_string_equal(a[0].addr, "ann@m\xc3\xbcller.de");
	assert_int_equal(mime_valid_address(a[0].addr), 1);
	assert_string_equal(a[1].name, "Bob");
	assert_string_equal(a[2].addr, "last@example.org");
	msg_addrs_free(a, n);

	/* Broken: unterminated quote, angle, comment; trailing backslash. */
	n = mime_address_list("\"unterminated <x@example.org>", &a);
	msg_addrs_free(a, n);
	n = mime_address_list("broken <unterminated@", &a);
	assert_int_equal(n, 1);
	assert_int_equal(mime_valid_address(a[0].addr), 0);
	msg_addrs_free(a, n);
	n = mime_address_list("a@example.org (open comment, b@example.org",
	    &a);
	assert_int_equal(n, 1);
	assert_string_equal(a[0].addr, "a@example.org");
	msg_addrs_free(a, n);
	n = mime_address_list("x@example.org, \"tail\\", &a);
	assert_true(n >= 1);
	assert_string_equal(a[0].addr, "x@example.org");
	msg_addrs_free(a, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_and_empty),
		cmocka_unit_test(test_transfer_encodings_and_charsets),
		cmocka_unit_test(test_headers_rfc2047),
		cmocka_unit_test(test_ids_and_return_path),
		cmocka_unit_test(test_html_and_alternative),
		cmocka_unit_test(test_mixed_and_forward),
		cmocka_unit_test(test_quote_split),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_transfer_encoding_fallback),
		cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_rfc2047_words),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_hostile_shapes),
		cmocka_unit_test(test_header_safe),
		cmocka_unit_test(test_valid_address),
		cmocka_unit_test(test_address_list),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
