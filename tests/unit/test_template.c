/*
 * Unit tests for reply templates: loading (good and bad files with their
 * file:line errors), expansion, sections, and the composed message's
 * headers, encodings and resistance to header injection.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "testlib.h"

#include "conf.h"
#include "diag.h"
#include "mime.h"
#include "rules.h"
#include "template.h"
#include "xmalloc.h"

#define GOOD	"../data/templates/good"
#define BAD	"../data/templates/bad"
#define SHIPPED	"../../templates"
#define NOW	((time_t)1700000000)	/* Tue, 14 Nov 2023 22:13:20 UTC */

static struct conf_kv	practice_kv[] = {
	{ "name", "Harbor Counseling" },
	{ "phone", "555-0100" },
	{ "booking_url", "https://book.practice.example/" },
};

/* A configuration with the three documented [practice] keys. */
static void
conf_make(struct conf *conf)
{
	memset(conf, 0, sizeof *conf);
	conf->smtp.from_name = "Harbor Counseling";
	conf->smtp.from_addr = "hello@practice.example";
	conf->practice.kv = practice_kv;
	conf->practice.n = 3;
}

/* An inbound message with the fields templates read. */
static void
msg_make(struct msg *msg, const char *subject, const char *name,
    const char *id, const char *refs)
{
	memset(msg, 0, sizeof *msg);
	msg->subject = (char *)(uintptr_t)subject;
	msg->from.name = (char *)(uintptr_t)name;
	msg->from.addr = "client@example.org";
	msg->message_id = (char *)(uintptr_t)id;
	msg->references = (char *)(uintptr_t)refs;
}

/* A verdict carrying a comma-separated list of tags (NULL: none). */
static void
verdict_make(struct verdict *v, char *tags)
{
	char	*p;

	memset(v, 0, sizeof *v);
	v->category = "test";
	v->tags = xcalloc(8, sizeof *v->tags);
	for (p = strtok(tags, ","); p != NULL && v->ntags < 8;
	    p = strtok(NULL, ","))
		v->tags[v->ntags++] = p;
}

/* Load dir, expecting no error and no warning. */
static struct tmplset *
load_clean(const char *dir, const struct conf *conf)
{
	struct tmplset	*set;
	struct diag	 d;

	diag_init(&d);
	set = tmpl_load(dir, conf, &d);
	if (d.n != 0)
		diag_print(&d, stderr);
	assert_int_equal(d.n, 0);
	assert_non_null(set);
	diag_free(&d);
	return (set);
}

/* Compose name for msg with tags, asserting success. */
static void
compose(const struct tmplset *set, const char *name, const struct msg *msg,
    const char *tags, const char *seed, struct reply *r)
{
	struct conf	 conf;
	struct verdict	 v;
	char		*cause = NULL, *t = xstrdup(tags != NULL ? tags : "");

	conf_make(&conf);
	verdict_make(&v, t);
	if (tmpl_compose(set, name, &conf, msg, &v, "client@example.org",
	    seed, NOW, r, &cause) != 0)
		fail_msg("compose %s: %s", name, cause);
	free(v.tags);
	free(t);
}

/* Where the body starts (after the blank line), or fail. */
static const char *
body_of(const struct reply *r)
{
	const char	*p = strstr(r->data, "\r\n\r\n");

	assert_non_null(p);
	return (p + 4);
}

/*
 * Count header lines named name (not continuation lines) in the header
 * block into *countp; return the first one's unfolded value (caller
 * frees), or NULL.
 */
static char *
header_get(const struct reply *r, const char *name, int *countp)
{
	const char	*p = r->data, *end = body_of(r), *eol;
	size_t		 nlen = strlen(name);
	char		*v = NULL;

	*countp = 0;
	for (; p < end - 2; p = eol + 2) {
		eol = strstr(p, "\r\n");
		if (strncasecmp(p, name, nlen) != 0 || p[nlen] != ':')
			continue;
		if ((*countp)++ > 0)
			continue;
		v = xstrndup(p + nlen + 1, eol - p - nlen - 1);
		/* Unfold the continuation lines. */
		while (eol[2] == ' ' || eol[2] == '\t') {
			p = eol + 2;
			eol = strstr(p, "\r\n");
			v = xreallocarray(v, 1, strlen(v) + (eol - p) + 1);
			strncat(v, p, eol - p);
		}
		memmove(v, v + strspn(v, " "), strlen(v) - strspn(v, " ") + 1);
	}
	return (v);
}

/* How many header lines are named name? */
static int
header_count(const struct reply *r, const char *name)
{
	int	 n;

	free(header_get(r, name, &n));
	return (n);
}

/* The unfolded value of a header that must appear exactly once. */
static char *
header_one(const struct reply *r, const char *name)
{
	char	*v;
	int	 n;

	v = header_get(r, name, &n);
	if (n != 1)
		fail_msg("header %s present %d times", name, n);
	return (v);
}

/*
 * Every structural promise of a composed message: CRLF only, lines within
 * 998 octets (78 in the header unless a word is longer), an ASCII header
 * block of "Name: value" and continuation lines, each required header
 * exactly once.
 */
static void
check_wellformed(const struct reply *r)
{
	static const char	*required[] = { "Date", "From", "To",
				    "Subject", "Message-ID",
				    "Auto-Submitted", "Precedence",
				    "X-Auto-Response-Suppress", "MIME-Version",
				    "Content-Type",
				    "Content-Transfer-Encoding" };
	const char		*p, *body, *line;
	size_t			 i;
	char			*v;

	assert_non_null(r->data);
	assert_int_equal(strlen(r->data), r->len);
	for (i = 0; i < r->len; i++) {
		if (r->data[i] == '\n')
			assert_true(i > 0 && r->data[i - 1] == '\r');
		if (r->data[i] == '\r')
			assert_true(r->data[i + 1] == '\n');
	}
	assert_true(r->len >= 2 && strcmp(r->data + r->len - 2, "\r\n") == 0);
	body = body_of(r);
	for (line = r->data; *line != '\0'; line = p + 2) {
		p = strstr(line, "\r\n");
		assert_non_null(p);
		assert_true(p - line <= 998);
		if (line >= body)
			continue;
		if (p == line)
			continue;	/* the blank line */
		assert_true(p - line <= 78 || strchr(line, ' ') == NULL ||
		    strchr(line, ' ') > p);
		for (i = 0; line + i < p; i++)
			assert_true((unsigned char)line[i] >= 0x20 &&
			    (unsigned char)line[i] < 0x7f);
		if (*line == ' ' || *line == '\t')
			continue;
		assert_non_null(memchr(line, ':', p - line));
		for (i = 0; line[i] != ':'; i++)
			assert_true(isalnum((unsigned char)line[i]) ||
			    line[i] == '-');
	}
	for (i = 0; i < sizeof required / sizeof required[0]; i++) {
		v = header_one(r, required[i]);
		free(v);
	}
	assert_int_equal(header_count(r, "Bcc"), 0);
	assert_int_equal(header_count(r, "Cc"), 0);
}

/* Assert header name's unfolded value equals want. */
static void
assert_header(const struct reply *r, const char *name, const char *want)
{
	char	*v = header_one(r, name);

	assert_string_equal(v, want);
	free(v);
}

/* Decode a quoted-printable body (CRLF lines) to LF text. Caller frees. */
static char *
qp_decode(const char *s)
{
	char		*out = xmalloc(strlen(s) + 1), *o = out;
	unsigned	 x;

	while (*s != '\0') {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n')
			s += 3;
		else if (s[0] == '=' && sscanf(s + 1, "%2X", &x) == 1) {
			assert_true(isxdigit((unsigned char)s[1]) &&
			    isxdigit((unsigned char)s[2]));
			*o++ = (char)x;
			s += 3;
		} else if (s[0] == '\r' && s[1] == '\n') {
			*o++ = '\n';
			s += 2;
		} else
			*o++ = *s++;
	}
	*o = '\0';
	return (out);
}

/* The body as LF text, decoded according to its transfer encoding. */
static char *
body_text(const struct reply *r)
{
	char	*cte = header_one(r, "Content-Transfer-Encoding"), *out;
	char	*o;
	const char *s;

	if (strcmp(cte, "quoted-printable") == 0)
		out = qp_decode(body_of(r));
	else {
		assert_string_equal(cte, "7bit");
		out = xstrdup(body_of(r));
		for (s = out, o = out; *s != '\0'; s++)
			if (*s != '\r')
				*o++ = *s;
		*o = '\0';
	}
	free(cte);
	return (out);
}

/* Decode an unstructured header value of RFC 2047 B words. */
static char *
rfc2047_decode(const char *v)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
				    "ghijklmnopqrstuvwxyz0123456789+/";
	char			*out = xcalloc(1, strlen(v) + 1), *o = out;
	const char		*p, *end, *q;
	unsigned		 acc = 0, bits = 0;

	for (p = v; *p != '\0';) {
		if (*p == ' ') {
			p++;
			continue;
		}
		assert_int_equal(strncmp(p, "=?UTF-8?B?", 10), 0);
		end = strstr(p + 10, "?=");
		assert_non_null(end);
		assert_true(end + 2 - p <= 75);
		for (q = p + 10; q < end && *q != '='; q++) {
			assert_non_null(strchr(b64, *q));
			acc = (acc << 6) | (unsigned)(strchr(b64, *q) - b64);
			if ((bits += 6) >= 8) {
				bits -= 8;
				*o++ = (char)((acc >> bits) & 0xff);
			}
		}
		acc = bits = 0;
		p = end + 2;
	}
	return (out);
}

/* Is s valid UTF-8 (no overlongs, surrogates or stray bytes)? */
static int
utf8_valid(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len, i;

	while (*p != '\0') {
		if (*p < 0x80)
			len = 1;
		else if (*p >= 0xc2 && *p <= 0xdf)
			len = 2;
		else if (*p >= 0xe0 && *p <= 0xef)
			len = 3;
		else if (*p >= 0xf0 && *p <= 0xf4)
			len = 4;
		else
			return (0);
		for (i = 1; i < len; i++)
			if ((p[i] & 0xc0) != 0x80)
				return (0);
		if ((p[0] == 0xe0 && p[1] < 0xa0) ||
		    (p[0] == 0xed && p[1] > 0x9f) ||
		    (p[0] == 0xf0 && p[1] < 0x90) ||
		    (p[0] == 0xf4 && p[1] > 0x8f))
			return (0);
		p += len;
	}
	return (1);
}

/* Path of a fresh scratch folder holding one file name with text. */
static char *
scratch(const char *name, const char *text)
{
	char	*dir = xstrdup("/tmp/test_template.XXXXXX"), *path;
	FILE	*fp;

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
	free(path);
	return (dir);
}

/* Remove a scratch folder and its one file. */
static void
scratch_rm(char *dir, const char *name)
{
	char	*path = xasprintf("%s/%s", dir, name);

	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
}

/* NULL, missing and empty inputs first. */
static void
test_null_and_empty(void **state)
{
	struct tmplset	*set;
	struct diag	 d;
	struct reply	 r;
	struct conf	 conf;
	char		*dir, *cause = NULL;

	tmpl_free(NULL);
	reply_free(NULL);
	memset(&r, 0, sizeof r);
	reply_free(&r);

	diag_init(&d);
	conf_make(&conf);
	assert_null(tmpl_load("../data/templates/no-such-dir", &conf, &d));
	assert_int_equal(d.nerrors, 1);
	assert_non_null(strstr(d.items[0].loc, "no-such-dir"));
	diag_free(&d);

	dir = scratch(".ignored", "junk");
	set = load_clean(dir, &conf);
	assert_false(tmpl_exists(set, "individual"));
	assert_false(tmpl_exists(set, ".ignored"));
	assert_int_equal(tmpl_compose(set, "individual", &conf, NULL, NULL,
	    "a@example.org", "seed", NOW, &r, &cause), -1);
	assert_non_null(cause);
	assert_null(r.data);
	free(cause);
	tmpl_free(set);
	scratch_rm(dir, ".ignored");
}

/* The good folder loads cleanly; hidden and backup files are skipped. */
static void
test_load_good(void **state)
{
	static const char	*names[] = { "sections", "subject-only",
				    "fallback", "crlf", "long", "crisis",
				    "bom" };
	struct tmplset		*set;
	struct conf		 conf;
	size_t			 i;

	conf_make(&conf);
	set = load_clean(GOOD, &conf);
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		assert_true(tmpl_exists(set, names[i]));
	assert_false(tmpl_exists(set, ".hidden"));
	assert_false(tmpl_exists(set, "sections~"));
	assert_false(tmpl_exists(set, NULL));
	assert_false(tmpl_exists(NULL, "crisis"));
	tmpl_free(set);
}

static const struct {
	const char	*file;
	unsigned	 line;
	const char	*msg;
} bad_cases[] = {
	{ "bad-section", 3, "unknown section name 'sender.email'" },
	{ "bad-utf8", 3, "invalid UTF-8" },
	{ "control", 3, "control character" },
	{ "dup-subject", 2, "duplicate Subject (first at line 1)" },
	{ "empty-body", 2, "empty body" },
	{ "empty-file", 0, "empty file" },
	{ "empty-subject", 1, "empty Subject" },
	{ "empty-tag", 3, "empty tag '{{}}'" },
	{ "mismatched", 5, "'{{/narcotics}}' does not match the section "
	    "opened at line 3" },
	{ "no-blank-line", 1, "no blank line between the header block" },
	{ "no-subject", 2, "no Subject: header before the body" },
	{ "not-a-header", 1, "expected 'Subject: ...'" },
	{ "partial", 3, "unsupported tag '{{>'" },
	{ "stray-close", 4, "'{{/alcohol}}' closes no open section" },
	{ "subject-placeholder", 1, "unknown placeholder 'sender.email'" },
	{ "subject-unclosed", 1, "section 'subject' is never closed" },
	{ "unclosed", 3, "section 'alcohol' is never closed" },
	{ "unknown-header", 2, "unknown header 'From'" },
	{ "unknown-key", 3, "unknown [practice] key 'fax'" },
	{ "unknown-placeholder", 4, "unknown placeholder 'foo'" },
	{ "unterminated", 3, "'{{' without '}}' on the same line" },
};

/* Every bad file gives exactly its expected error at file:line. */
static void
test_load_bad(void **state)
{
	struct diag	 d;
	struct conf	 conf;
	size_t		 i, j, found;
	char		*loc;

	conf_make(&conf);
	diag_init(&d);
	assert_null(tmpl_load(BAD, &conf, &d));
	for (i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		if (bad_cases[i].line == 0)
			loc = xasprintf("%s/%s: ", BAD, bad_cases[i].file);
		else
			loc = xasprintf("%s/%s:%u: ", BAD, bad_cases[i].file,
			    bad_cases[i].line);
		found = 0;
		for (j = 0; j < d.n; j++)
			if (strcmp(d.items[j].loc, loc) == 0 &&
			    d.items[j].severity == DIAG_ERROR &&
			    strstr(d.items[j].msg, bad_cases[i].msg) != NULL)
				found++;
		if (found != 1) {
			diag_print(&d, stderr);
			fail_msg("%s%s: found %zu times", loc,
			    bad_cases[i].msg, found);
		}
		free(loc);
	}
	/* Nothing more: no cascades of follow-up errors. */
	if (d.n != sizeof bad_cases / sizeof bad_cases[0])
		diag_print(&d, stderr);
	assert_int_equal(d.n, sizeof bad_cases / sizeof bad_cases[0]);
	assert_int_equal(d.nerrors, d.n);
	diag_free(&d);
}

static const struct {
	const char	*text;
	const char	*missing;	/* NULL: no warning expected */
} crisis_cases[] = {
	{ "Subject: x\n\nCall or text 988, or 911.\n", NULL },
	{ "Subject: x\n\nCall or text 988.\n", "911" },
	{ "Subject: x\n\nCall 911.\n", "988" },
	{ "Subject: x\n\n{{#urgent}}Call 988.{{/urgent}}\nCall 911.\n",
	    "988" },
};

/* A crisis template without 988 or 911 (outside sections) warns. */
static void
test_crisis_warning(void **state)
{
	struct tmplset	*set;
	struct diag	 d;
	struct conf	 conf;
	size_t		 i;
	char		*dir;

	conf_make(&conf);
	for (i = 0; i < sizeof crisis_cases / sizeof crisis_cases[0]; i++) {
		dir = scratch("crisis", crisis_cases[i].text);
		diag_init(&d);
		set = tmpl_load(dir, &conf, &d);
		assert_non_null(set);
		assert_int_equal(d.nerrors, 0);
		if (crisis_cases[i].missing == NULL)
			assert_int_equal(d.n, 0);
		else {
			assert_int_equal(d.n, 1);
			assert_int_equal(d.items[0].severity, DIAG_WARNING);
			assert_non_null(strstr(d.items[0].msg,
			    crisis_cases[i].missing));
			assert_non_null(strstr(d.items[0].loc, "/crisis: "));
		}
		diag_free(&d);
		tmpl_free(set);
		scratch_rm(dir, "crisis");
	}
}

/*
 * New defaults and editor backups beside a template are no templates: a
 * broken one would otherwise fail the load.
 */
static void
test_leftovers_skipped(void **state)
{
	static const char *const names[] = { "individual.dist",
	    "individual~", "individual.dpkg-old", "individual.orig" };
	struct tmplset	*set;
	struct diag	 d;
	struct conf	 conf;
	size_t		 i;
	char		*dir;

	conf_make(&conf);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		dir = scratch(names[i], "{{#unclosed}}\n");
		diag_init(&d);
		set = tmpl_load(dir, &conf, &d);
		assert_non_null(set);
		assert_int_equal(d.nerrors, 0);
		diag_free(&d);
		tmpl_free(set);
		scratch_rm(dir, names[i]);
	}
	/* The same text under a template's own name is an error. */
	dir = scratch("individual", "{{#unclosed}}\n");
	diag_init(&d);
	assert_null(tmpl_load(dir, &conf, &d));
	assert_true(d.nerrors > 0);
	diag_free(&d);
	scratch_rm(dir, "individual");
}

static const struct {
	const char	*tags;
	const char	*name;
	const char	*subject;
	const char	*body;
} expand_cases[] = {
	{ "", "", "Hi",
	    "Hello,\nnot-A\nx+y\nBook: https://book.practice.example/\n"
	    "End Harbor Counseling.\n" },
	{ "alcohol", "Ann", "Hi",
	    "Hello Ann,\nA\nx-inline-+y\n"
	    "Book: https://book.practice.example/\n"
	    "End Harbor Counseling.\n" },
	{ "codependency,narcotics", "Ann Lee", "",
	    "Hello Ann Lee,\nnot-A\nC 555-0100\nCN\nxy\n"
	    "Book: https://book.practice.example/\n(no subject)\n"
	    "End Harbor Counseling.\n" },
	{ "narcotics", "Bo", "Hi",
	    "Hello Bo,\nnot-A\nxy\nBook: https://book.practice.example/\n"
	    "End Harbor Counseling.\n" },
	{ "ALCOHOL,codependency", "Ann", "Hi",
	    "Hello Ann,\nA\nC 555-0100\nx-inline-+y\n"
	    "Book: https://book.practice.example/\n"
	    "End Harbor Counseling.\n" },
	/* Names that look like addresses or links are not used. */
	{ "", "eve@evil.example", "Hi",
	    "Hello,\nnot-A\nx+y\nBook: https://book.practice.example/\n"
	    "End Harbor Counseling.\n" },
	{ "", "Visit https://evil.example", "Hi",
	    "Hello,\nnot-A\nx+y\nBook: https://book.practice.example/\n"
	    "End Harbor Counseling.\n" },
	/* Values are never expanded again. */
	{ "", "{{practice.phone}}", "{{practice.name}}",
	    "Hello {{practice.phone}},\nnot-A\nx+y\n"
	    "Book: https://book.practice.example/\n"
	    "End Harbor Counseling.\n" },
};

/* Placeholders, sections, inverted sections and standalone lines. */
static void
test_expand(void **state)
{
	struct tmplset	*set;
	struct conf	 conf;
	struct msg	 msg;
	struct reply	 r;
	size_t		 i;
	char		*body;

	conf_make(&conf);
	set = load_clean(GOOD, &conf);
	for (i = 0; i < sizeof expand_cases / sizeof expand_cases[0]; i++) {
		msg_make(&msg, expand_cases[i].subject, expand_cases[i].name,
		    "<m1@example.org>", NULL);
		compose(set, "sections", &msg, expand_cases[i].tags, "s", &r);
		check_wellformed(&r);
		body = body_text(&r);
		assert_string_equal(body, expand_cases[i].body);
		free(body);
		reply_free(&r);
	}
	/* A template file with CRLF line ends reads like one with LF. */
	msg_make(&msg, "Hi", "", NULL, NULL);
	compose(set, "crlf", &msg, NULL, "s", &r);
	check_wellformed(&r);
	body = body_text(&r);
	assert_string_equal(body,
	    "CRLF file, line one.\nLine two Harbor Counseling.\n");
	assert_header(&r, "Subject", "Auto: Hi");
	free(body);
	reply_free(&r);
	compose(set, "bom", &msg, NULL, "s", &r);
	check_wellformed(&r);
	assert_header(&r, "Subject", "BOM Hi");
	body = body_text(&r);
	assert_string_equal(body, "With a BOM.\n");
	free(body);
	reply_free(&r);
	tmpl_free(set);
}

/* Every header of a reply, with exact values. */
static void
test_headers(void **state)
{
	struct tmplset	*set;
	struct conf	 conf;
	struct msg	 msg;
	struct reply	 r;
	char		*v;

	conf_make(&conf);
	set = load_clean(SHIPPED, &conf);
	msg_make(&msg, "Question about therapy", "Ann Lee",
	    "<m1@example.org>", "<r0@example.org> <r1@example.org>");
	compose(set, "individual", &msg, NULL, "<m1@example.org>", &r);
	check_wellformed(&r);
	assert_header(&r, "Date", "Tue, 14 Nov 2023 22:13:20 +0000");
	assert_header(&r, "From",
	    "Harbor Counseling <hello@practice.example>");
	assert_header(&r, "To", "client@example.org");
	assert_header(&r, "Subject", "Auto: Question about therapy");
	assert_header(&r, "In-Reply-To", "<m1@example.org>");
	assert_header(&r, "References",
	    "<r0@example.org> <r1@example.org> <m1@example.org>");
	assert_header(&r, "Auto-Submitted", "auto-replied");
	assert_header(&r, "Precedence", "bulk");
	assert_header(&r, "X-Auto-Response-Suppress", "All");
	assert_header(&r, "X-Loop", "hello@practice.example");
	assert_header(&r, "MIME-Version", "1.0");
	assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
	assert_header(&r, "Content-Transfer-Encoding", "7bit");
	v = header_one(&r, "Message-ID");
	assert_string_equal(v, r.message_id);
	free(v);
	assert_string_equal(r.rcpt, "client@example.org");
	assert_string_equal(r.subject, "Auto: Question about therapy");
	/* The reply never quotes the inbound body. */
	v = body_text(&r);
	assert_non_null(strstr(v, "Hello Ann Lee,"));
	free(v);
	reply_free(&r);
	assert_null(r.data);

	/* Without a Message-ID: no In-Reply-To, no References. */
	msg_make(&msg, "Hi", "", NULL, "<r0@example.org>");
	compose(set, "individual", &msg, NULL, "uid:42", &r);
	check_wellformed(&r);
	assert_int_equal(header_count(&r, "In-Reply-To"), 0);
	assert_int_equal(header_count(&r, "References"), 0);
	reply_free(&r);
	tmpl_free(set);
}

static const struct {
	const char	*from_name;
	const char	*want;		/* NULL: RFC 2047 encoded */
} from_cases[] = {
	{ "", "<hello@practice.example>" },
	{ "Harbor Counseling", "Harbor Counseling <hello@practice.example>" },
	{ "Dr. Jane \"JJ\" Doe, LMFT",
	    "\"Dr. Jane \\\"JJ\\\" Doe, LMFT\" <hello@practice.example>" },
	{ "Praxis M\xc3\xbcller", NULL },
};

/* From: plain, quoted when it has specials, encoded when not ASCII. */
static void
test_from(void **state)
{
	struct tmplset	*set;
	struct conf	 conf;
	struct msg	 msg;
	struct verdict	 v;
	struct reply	 r;
	size_t		 i;
	char		*cause = NULL, *from, *dec, *name;
	const char	*cut;

	conf_make(&conf);
	memset(&v, 0, sizeof v);
	set = load_clean(GOOD, &conf);
	msg_make(&msg, "Hi", "", "<m@x.example>", NULL);
	for (i = 0; i < sizeof from_cases / sizeof from_cases[0]; i++) {
		conf.smtp.from_name = (char *)(uintptr_t)
		    from_cases[i].from_name;
		assert_int_equal(tmpl_compose(set, "subject-only", &conf, &msg,
		    &v, "a@example.org", "s", NOW, &r, &cause), 0);
		check_wellformed(&r);
		from = header_one(&r, "From");
		if (from_cases[i].want != NULL)
			assert_string_equal(from, from_cases[i].want);
		else {
			cut = strstr(from, " <hello@practice.example>");
			assert_non_null(cut);
			name = xstrndup(from, cut - from);
			dec = rfc2047_decode(name);
			free(name);
			assert_string_equal(dec, from_cases[i].from_name);
			free(dec);
		}
		free(from);
		reply_free(&r);
	}
	tmpl_free(set);
}

static char	*written_ours[] = { "hello@practice.example",
    "info@practice.example", "bad address@practice.example" };

static const struct {
	const char	*to[3];		/* To/Cc mailboxes, NULL-ended */
	const char	*hdr;		/* one more header "Name", or NULL */
	const char	*value;
	const char	*want;		/* the From and X-Loop address */
} written_cases[] = {
	{ { NULL }, NULL, NULL, "hello@practice.example" },
	{ { "info@practice.example", NULL }, NULL, NULL,
	    "info@practice.example" },
	/* The first of ours in header order, any case. */
	{ { "someone@example.org", "INFO@Practice.Example",
	    "hello@practice.example" }, NULL, NULL, "info@practice.example" },
	{ { "hello@practice.example", "info@practice.example", NULL }, NULL,
	    NULL, "hello@practice.example" },
	/* Parsed addresses, not substrings. */
	{ { "xinfo@practice.example", "info@practice.example.net", NULL },
	    NULL, NULL, "hello@practice.example" },
	{ { "someone@example.org", NULL }, "Bcc", "info@practice.example",
	    "info@practice.example" },
	{ { "someone@example.org", NULL }, "Resent-To",
	    "A <b@example.org>, Info <info@practice.example>",
	    "info@practice.example" },
	{ { "someone@example.org", NULL }, "Subject", "info@practice.example",
	    "hello@practice.example" },
	/* One of ours that cannot go into a header: the [smtp] from. */
	{ { "bad address@practice.example", NULL }, NULL, NULL,
	    "hello@practice.example" },
};

/* From: and X-Loop: carry the address the client wrote to. */
static void
test_from_written_to(void **state)
{
	struct tmplset		*set;
	struct conf		 conf;
	struct msg		 msg;
	struct msg_addr		 to[3];
	struct msg_header	 h;
	struct verdict		 v;
	struct reply		 r;
	char			*want, *id, *cause = NULL;
	size_t			 i, k;

	conf_make(&conf);
	memset(&v, 0, sizeof v);
	conf.triage.addresses = written_ours;
	conf.triage.naddresses = 3;
	set = load_clean(SHIPPED, &conf);
	for (i = 0; i < sizeof written_cases / sizeof written_cases[0];
	    i++) {
		msg_make(&msg, "Hi", "Ann", "<m1@example.org>", NULL);
		memset(to, 0, sizeof to);
		for (k = 0; k < 3 && written_cases[i].to[k] != NULL; k++) {
			to[k].name = "";
			to[k].addr = (char *)(uintptr_t)written_cases[i].to[k];
		}
		msg.to = to;
		msg.nto = k;
		if (written_cases[i].hdr != NULL) {
			h.name = (char *)(uintptr_t)written_cases[i].hdr;
			h.value = (char *)(uintptr_t)written_cases[i].value;
			msg.headers = &h;
			msg.nheaders = 1;
		}
		if (tmpl_compose(set, "individual", &conf, &msg, &v,
		    "client@example.org", "<m1@example.org>", NOW, &r,
		    &cause) != 0)
			fail_msg("case %zu: %s", i, cause);
		check_wellformed(&r);
		want = xasprintf("Harbor Counseling <%s>",
		    written_cases[i].want);
		assert_header(&r, "From", want);
		free(want);
		assert_header(&r, "X-Loop", written_cases[i].want);
		assert_int_equal(header_count(&r, "X-Loop"), 1);
		/* The Message-ID stays in the practice's (from) domain. */
		id = header_one(&r, "Message-ID");
		assert_non_null(strstr(id, "@practice.example>"));
		free(id);
		reply_free(&r);
	}
	tmpl_free(set);
}

static const struct {
	const char	*subject;	/* inbound, decoded */
	const char	*want;		/* reply subject, decoded */
	int		 encoded;
} subject_cases[] = {
	{ "", "Your message to Harbor Counseling", 0 },
	{ "Hello", "Auto: Hello", 0 },
	{ "  spaced   out\t", "Auto: spaced out", 0 },
	{ "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln", "Auto: Gr\xc3\xbc\xc3\x9f"
	    "e aus K\xc3\xb6ln", 1 },
	{ "=?utf-8?q?not_decoded?=", "Auto: =?utf-8?q?not_decoded?=", 1 },
	{ "\xe2\x80\xae" "evil", "Auto: evil", 0 },
	/* Invalid UTF-8 is repaired (how is mime.c's and our choice). */
	{ "bad \xff byte", NULL, 0 },
	{ "Termin \xe2\x80\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81"
	    "\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88 "
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86"
	    "\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88 \xe6\x97\xa5\xe6\x9c\xac"
	    "\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9"
	    "\xe3\x83\x88", "Auto: Termin \xe2\x80\x93 \xe6\x97\xa5\xe6\x9c"
	    "\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9"
	    "\xe3\x83\x88 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae"
	    "\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88 \xe6\x97\xa5"
	    "\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad"
	    "\xe3\x82\xb9\xe3\x83\x88", 1 },
};

/* Subjects: fallback, clean-up, RFC 2047 encoding and folding. */
static void
test_subject(void **state)
{
	struct tmplset	*set;
	struct conf	 conf;
	struct msg	 msg;
	struct reply	 r;
	size_t		 i;
	char		*v, *dec;

	conf_make(&conf);
	set = load_clean(GOOD, &conf);
	for (i = 0; i < sizeof subject_cases / sizeof subject_cases[0]; i++) {
		msg_make(&msg, subject_cases[i].subject, "", NULL, NULL);
		compose(set, "fallback", &msg, NULL, "s", &r);
		check_wellformed(&r);
		v = header_one(&r, "Subject");
		if (subject_cases[i].want == NULL) {
			assert_true(utf8_valid(r.subject));
			assert_int_equal(strncmp(r.subject, "Auto: bad ", 10),
			    0);
			assert_non_null(strstr(r.subject, " byte"));
		} else if (subject_cases[i].encoded) {
			assert_string_equal(r.subject, subject_cases[i].want);
			dec = rfc2047_decode(v);
			assert_string_equal(dec, subject_cases[i].want);
			free(dec);
		} else {
			assert_string_equal(r.subject, subject_cases[i].want);
			assert_string_equal(v, subject_cases[i].want);
		}
		free(v);
		reply_free(&r);
	}
	/* A subject that expands to nothing gets a fixed one. */
	msg_make(&msg, " ", "", NULL, NULL);
	compose(set, "subject-only", &msg, NULL, "s", &r);
	assert_string_equal(r.subject, "Auto-reply");
	assert_header(&r, "Subject", "Auto-reply");
	reply_free(&r);
	tmpl_free(set);
}

static const struct {
	const char	*subject;
	const char	*name;
	const char	*id;
	const char	*refs;
	int		 threaded;	/* In-Reply-To expected */
} inject_cases[] = {
	{ "Hello\r\nBcc: victim@example.com", "Ann", "<m@x.example>", NULL,
	    1 },
	{ "Hello\nBcc: victim@example.com", "Eve\r\nBcc: victim@example.com",
	    "<m@x.example>", NULL, 1 },
	{ "Hi\rBcc: victim@example.com", "Eve\nCc: victim@example.com",
	    "<m@x.example>\r\nBcc: victim@example.com", NULL, 0 },
	{ "Hi", "Eve", "<m@x.example>",
	    "<r@x.example>\r\nBcc: victim@example.com <s@x.example>", 1 },
	{ "Hi", "Eve", "<m x@x.example>", NULL, 0 },
	{ "Hi", "Eve", "m@x.example", NULL, 0 },
	{ "Hi", "Eve", "<>", NULL, 0 },
	{ "Hi\r\n\r\nInjected body", "Eve", "<m@x.example>", NULL, 1 },
};

/* Hostile inbound values never create a header line or break framing. */
static void
test_injection(void **state)
{
	struct tmplset	*set;
	struct conf	 conf;
	struct msg	 msg;
	struct reply	 r;
	size_t		 i;
	char		*v;
	const char	*p;

	conf_make(&conf);
	set = load_clean(SHIPPED, &conf);
	for (i = 0; i < sizeof inject_cases / sizeof inject_cases[0]; i++) {
		msg_make(&msg, inject_cases[i].subject, inject_cases[i].name,
		    inject_cases[i].id, inject_cases[i].refs);
		compose(set, "individual", &msg, NULL, "s", &r);
		check_wellformed(&r);
		for (p = r.data; p != NULL; p = strstr(p, "\r\n")) {
			p += p == r.data ? 0 : 2;
			assert_true(strncasecmp(p, "Bcc:", 4) != 0);
			assert_true(strncasecmp(p, "Cc:", 3) != 0);
			assert_true(strncmp(p, "Injected", 8) != 0);
		}
		assert_int_equal(header_count(&r, "In-Reply-To"),
		    inject_cases[i].threaded);
		if (inject_cases[i].refs != NULL) {
			v = header_one(&r, "References");
			assert_string_equal(v, "<r@x.example> <s@x.example> "
			    "<m@x.example>");
			free(v);
		}
		assert_null(strchr(r.subject, '\r'));
		assert_null(strchr(r.subject, '\n'));
		reply_free(&r);
	}
	tmpl_free(set);
}

/* Message-ID: SHA-256 of seed "\n" template, same seed same id. */
static void
test_message_id(void **state)
{
	struct tmplset	*set;
	struct conf	 conf;
	struct msg	 msg;
	struct reply	 a, b, c, d;
	unsigned char	 digest[32];
	char		 want[128];
	size_t		 i;

	conf_make(&conf);
	set = load_clean(SHIPPED, &conf);
	msg_make(&msg, "Hi", "", "<m@x.example>", NULL);
	compose(set, "individual", &msg, NULL, "<m@x.example>", &a);
	compose(set, "individual", &msg, NULL, "<m@x.example>", &b);
	compose(set, "individual", &msg, NULL, "<n@x.example>", &c);
	compose(set, "couples", &msg, NULL, "<m@x.example>", &d);
	assert_string_equal(a.message_id, b.message_id);
	assert_string_equal(a.data, b.data);
	assert_string_not_equal(a.message_id, c.message_id);
	assert_string_not_equal(a.message_id, d.message_id);

	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256,
	    "<m@x.example>\nindividual", strlen("<m@x.example>\nindividual"),
	    digest), 0);
	strcpy(want, "<triaged.");
	for (i = 0; i < 16; i++)
		snprintf(want + 9 + 2 * i, 3, "%02x", digest[i]);
	strcat(want, "@practice.example>");
	assert_string_equal(a.message_id, want);
	reply_free(&a);
	reply_free(&b);
	reply_free(&c);
	reply_free(&d);
	tmpl_free(set);
}

/* Long References keep the first ids and the most recent ones. */
static void
test_references_cap(void **state)
{
	struct tmplset	*set;
	struct conf	 conf;
	struct msg	 msg;
	struct reply	 r;
	char		 refs[2048], *v, *p;
	size_t		 i, n;

	conf_make(&conf);
	set = load_clean(GOOD, &conf);
	refs[0] = '\0';
	for (i = 0; i < 40; i++)
		snprintf(refs + strlen(refs), sizeof refs - strlen(refs),
		    "<ref%zu@example.org> ", i);
	msg_make(&msg, "Hi", "", "<m@x.example>", refs);
	compose(set, "subject-only", &msg, NULL, "s", &r);
	check_wellformed(&r);
	v = header_one(&r, "References");
	for (n = 0, p = v; (p = strchr(p, '<')) != NULL; p++)
		n++;
	assert_int_equal(n, 20);
	assert_int_equal(strncmp(v, "<ref0@example.org> <ref22@", 26), 0);
	assert_non_null(strstr(v, "<ref39@example.org> <m@x.example>"));
	free(v);
	reply_free(&r);
	tmpl_free(set);
}

/* Long lines are wrapped; an unbreakable word forces quoted-printable. */
static void
test_long_lines(void **state)
{
	struct tmplset	*set;
	struct conf	 conf;
	struct msg	 msg;
	struct reply	 r;
	const char	*p, *eol;
	char		*body;

	conf_make(&conf);
	set = load_clean(GOOD, &conf);
	msg_make(&msg, "Hi", "", NULL, NULL);
	compose(set, "long", &msg, NULL, "s", &r);
	check_wellformed(&r);
	assert_header(&r, "Content-Transfer-Encoding", "quoted-printable");
	for (p = body_of(&r); *p != '\0'; p = eol + 2) {
		eol = strstr(p, "\r\n");
		assert_true(eol - p <= 76);
	}
	body = body_text(&r);
	assert_non_null(strstr(body, "This paragraph is written on one line "
	    "in the template file so that the\ncomposer has to wrap it at "
	    "spaces, and no output line may be longer than\n"
	    "seventy-eight characters when it is done.\nWord:\nxxxx"));
	for (p = body; *p != '\0'; p = eol + 1) {
		eol = strchr(p, '\n');
		assert_true(eol - p <= 78 || memchr(p, ' ', eol - p) == NULL);
	}
	assert_non_null(strstr(body, "xxx\nend\n"));
	free(body);
	reply_free(&r);

	/* A non-ASCII name in an otherwise ASCII body: quoted-printable. */
	msg_make(&msg, "Hi", "Zo\xc3\xab", NULL, NULL);
	compose(set, "fallback", &msg, NULL, "s", &r);
	check_wellformed(&r);
	assert_header(&r, "Content-Transfer-Encoding", "quoted-printable");
	assert_non_null(strstr(body_of(&r), "Hello Zo=C3=AB,\r\n"));
	body = body_text(&r);
	assert_string_equal(body, "Hello Zo\xc3\xab,\nThanks.\n");
	free(body);
	reply_free(&r);
	tmpl_free(set);
}

/* Compose refuses what it cannot send, and leaves the reply empty. */
static void
test_compose_errors(void **state)
{
	static const char	*bad_rcpts[] = { "", "no-at-sign",
				    "a b@example.org",
				    "a@example.org\r\nBcc: x",
				    "<a@example.org>", "a@", "@example.org",
				    "\xc3\xa9@example.org" };
	struct tmplset		*set;
	struct conf		 conf;
	struct msg		 msg;
	struct verdict		 v;
	struct reply		 r;
	char			*cause = NULL, *big;
	struct conf_kv		 kv[3];
	size_t			 i;

	conf_make(&conf);
	memset(&v, 0, sizeof v);
	set = load_clean(GOOD, &conf);
	msg_make(&msg, "Hi", "", NULL, NULL);
	assert_int_equal(tmpl_compose(set, "nope", &conf, &msg, &v,
	    "a@example.org", "s", NOW, &r, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	for (i = 0; i < sizeof bad_rcpts / sizeof bad_rcpts[0]; i++) {
		assert_int_equal(tmpl_compose(set, "crisis", &conf, &msg, &v,
		    bad_rcpts[i], "s", NOW, &r, &cause), -1);
		assert_null(r.data);
		free(cause);
		cause = NULL;
	}
	assert_int_equal(tmpl_compose(set, "crisis", &conf, &msg, &v,
	    NULL, "s", NOW, &r, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(tmpl_compose(set, "crisis", &conf, &msg, &v,
	    "a@example.org", NULL, NOW, &r, &cause), -1);
	free(cause);
	cause = NULL;
	conf.smtp.from_addr = "nodomain";
	assert_int_equal(tmpl_compose(set, "crisis", &conf, &msg, &v,
	    "a@example.org", "s", NOW, &r, &cause), -1);
	free(cause);
	cause = NULL;

	/* Output over the cap (a huge [practice] value) is an error. */
	conf_make(&conf);
	memcpy(kv, practice_kv, sizeof kv);
	big = xmalloc(70000);
	memset(big, 'x', 69999);
	big[69999] = '\0';
	kv[2].value = big;
	conf.practice.kv = kv;
	assert_int_equal(tmpl_compose(set, "crisis", &conf, &msg, &v,
	    "a@example.org", "s", NOW, &r, &cause), -1);
	assert_non_null(strstr(cause, "larger than"));
	assert_null(r.data);
	free(cause);
	cause = NULL;

	/* A key the templates use, gone from the configuration. */
	conf.practice.n = 2;
	assert_int_equal(tmpl_compose(set, "crisis", &conf, &msg, &v,
	    "a@example.org", "s", NOW, &r, &cause), -1);
	assert_non_null(strstr(cause, "booking_url"));
	free(cause);
	free(big);
	tmpl_free(set);
}

/* The shipped templates load cleanly and say the right things. */
static void
test_shipped(void **state)
{
	static const char	*names[] = { "crisis", "substance", "couples",
				    "individual" };
	struct tmplset		*set;
	struct conf		 conf;
	struct msg		 msg;
	struct reply		 r;
	size_t			 i;
	char			*body, *book;

	conf_make(&conf);
	set = load_clean(SHIPPED, &conf);
	msg_make(&msg, "Need to talk", "Ann", "<m@x.example>", NULL);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		compose(set, names[i], &msg, "alcohol", "s", &r);
		check_wellformed(&r);
		assert_header(&r, "Content-Transfer-Encoding", "7bit");
		body = body_text(&r);
		assert_non_null(strstr(body, "Hello Ann,\n"));
		assert_non_null(strstr(body, "555-0100"));
		assert_non_null(strstr(body,
		    "https://book.practice.example/"));
		assert_non_null(strstr(body, "free"));
		assert_non_null(strstr(body, "Harbor Counseling\n"));
		assert_null(strstr(body, "{{"));
		assert_null(strstr(body, "\n\n\n"));
		free(body);
		reply_free(&r);
	}

	/* Crisis: 988, 741741 and 911 come before the booking link. */
	compose(set, "crisis", &msg, NULL, "s", &r);
	body = body_text(&r);
	book = strstr(body, "https://book.practice.example/");
	assert_non_null(book);
	assert_true(strstr(body, "988") != NULL && strstr(body, "988") < book);
	assert_true(strstr(body, "741741") != NULL &&
	    strstr(body, "741741") < book);
	assert_true(strstr(body, "911") != NULL && strstr(body, "911") < book);
	assert_non_null(strstr(body, "Text HOME to 741741"));
	assert_non_null(strstr(body, "emergency room"));
	assert_non_null(strstr(body, "follow up"));
	free(body);
	reply_free(&r);

	/*
	 * Crisis in mail that also reads as a client's or as no inquiry
	 * (the outranked-tag of those categories): the resources, without
	 * the invitation to a first consultation.
	 */
	for (i = 0; i < 2; i++) {
		compose(set, "crisis", &msg, i == 0 ? "existing-client" :
		    "urgent,not-inquiry", "s", &r);
		body = body_text(&r);
		assert_non_null(strstr(body, "988"));
		assert_non_null(strstr(body, "911"));
		assert_non_null(strstr(body, "follow up"));
		assert_null(strstr(body, "https://book.practice.example/"));
		assert_null(strstr(body, "consultation"));
		assert_null(strstr(body, "\n\n\n"));
		free(body);
		reply_free(&r);
	}

	/* Substance: one resource per tag, SAMHSA always. */
	compose(set, "substance", &msg, "alcohol,codependency", "s", &r);
	body = body_text(&r);
	assert_non_null(strstr(body, "https://al-anon.org/"));
	assert_non_null(strstr(body, "https://coda.org/"));
	assert_null(strstr(body, "nar-anon.org"));
	assert_non_null(strstr(body, "1-800-662-4357"));
	assert_non_null(strstr(body, "refuses help"));
	free(body);
	reply_free(&r);
	compose(set, "substance", &msg, "narcotics", "s", &r);
	body = body_text(&r);
	assert_non_null(strstr(body, "https://www.nar-anon.org/"));
	assert_null(strstr(body, "al-anon.org"));
	assert_null(strstr(body, "coda.org"));
	assert_non_null(strstr(body, "1-800-662-4357"));
	free(body);
	reply_free(&r);

	/* Couples: individual sessions help when a partner won't come. */
	msg_make(&msg, "", "", NULL, NULL);
	compose(set, "couples", &msg, NULL, "s", &r);
	assert_string_equal(r.subject, "Your message to Harbor Counseling");
	body = body_text(&r);
	assert_non_null(strstr(body, "Hello,\n"));
	assert_non_null(strstr(body, "individual sessions"));
	free(body);
	reply_free(&r);
	tmpl_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_and_empty),
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_load_bad),
		cmocka_unit_test(test_crisis_warning),
		cmocka_unit_test(test_leftovers_skipped),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_from),
		cmocka_unit_test(test_from_written_to),
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_message_id),
		cmocka_unit_test(test_references_cap),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_compose_errors),
		cmocka_unit_test(test_shipped),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
