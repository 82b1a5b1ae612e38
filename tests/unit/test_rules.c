/*
 * Unit tests for rules.c: the parser against good and bad files with their
 * expected file:line:col output, matching semantics, pcre2 limits, and the
 * shipped rules/ folder against a table of realistic inquiries.
 *
 * Run from tests/unit (paths are relative to it).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#include "buf.h"
#include "diag.h"
#include "log.h"
#include "mime.h"
#include "rules.h"
#include "xmalloc.h"

#define DATA		"../data/rules"
#define SHIPPED		"../../rules"

/* A message built by hand: rules read only these fields. */
struct tmsg {
	struct msg		 m;
	struct msg_header	 h[4];
};

/* Fill a hand-made msg; NULL fields stay NULL (rules must cope). */
static void
tmsg_init(struct tmsg *t, const char *subject, const char *body,
    const char *quoted)
{
	memset(t, 0, sizeof *t);
	t->m.subject = (char *)(uintptr_t)subject;
	t->m.body = (char *)(uintptr_t)body;
	t->m.quoted = (char *)(uintptr_t)quoted;
	t->m.headers = t->h;
}

/* Add a header to a hand-made msg. */
static void
tmsg_header(struct tmsg *t, const char *name, const char *value)
{
	assert_true(t->m.nheaders < 4);
	t->h[t->m.nheaders].name = (char *)(uintptr_t)name;
	t->h[t->m.nheaders].value = (char *)(uintptr_t)value;
	t->m.nheaders++;
}

/* Replace every occurrence of from in s by to; caller frees. */
static char *
replace_all(const char *s, const char *from, const char *to)
{
	struct buf	 b;
	const char	*p;
	size_t		 n = strlen(from);

	buf_init(&b, 0);
	while ((p = strstr(s, from)) != NULL) {
		buf_add(&b, s, p - s);
		buf_addstr(&b, to);
		s = p + n;
	}
	buf_addstr(&b, s);
	return (buf_detach(&b, NULL));
}

/* Read a whole file ("" when missing); caller frees. */
static char *
slurp(const char *path)
{
	FILE	*fp;
	struct buf b;
	char	 chunk[4096];
	size_t	 n;

	buf_init(&b, 0);
	if ((fp = fopen(path, "r")) != NULL) {
		while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
			buf_add(&b, chunk, n);
		fclose(fp);
	}
	buf_addstr(&b, "");
	return (buf_detach(&b, NULL));
}

/* Load dir; return diag output with dir written as DIR; caller frees. */
static char *
load_output(const char *dir, struct ruleset **rsp)
{
	struct diag	 d;
	char		*out, *res;
	size_t		 len;
	FILE		*fp;

	diag_init(&d);
	*rsp = rules_load(dir, &d);
	fp = open_memstream(&out, &len);
	assert_non_null(fp);
	diag_print(&d, fp);
	fclose(fp);
	if (*rsp != NULL)
		assert_int_equal(d.nerrors, 0);
	else
		assert_true(d.nerrors > 0);
	diag_free(&d);
	res = replace_all(out, dir, "DIR");
	free(out);
	return (res);
}

/* Names of the case folders under base, sorted; returns their count. */
static size_t
case_dirs(const char *base, char ***names)
{
	struct dirent	**list;
	struct stat	  st;
	char		 *path;
	int		  n, i;
	size_t		  count = 0;

	n = scandir(base, &list, NULL, alphasort);
	assert_true(n >= 0);
	*names = NULL;
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/%s", base, list[i]->d_name);
		if (list[i]->d_name[0] != '.' && stat(path, &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			*names = xreallocarray(*names, count + 1,
			    sizeof **names);
			(*names)[count++] = path;
		} else
			free(path);
		free(list[i]);
	}
	free(list);
	return (count);
}

/* Check every case folder of base against its .expect file. */
static size_t
check_cases(const char *base, int good)
{
	struct ruleset	*rs;
	char		**names, *got, *exp, *ef;
	size_t		  n, i;

	n = case_dirs(base, &names);
	for (i = 0; i < n; i++) {
		got = load_output(names[i], &rs);
		ef = xasprintf("%s.expect", names[i]);
		exp = slurp(ef);
		if (strcmp(got, exp) != 0 || (rs != NULL) != good)
			fail_msg("%s: %s\n--- expected (%s)\n%s--- got\n%s",
			    names[i], good ? "should load" : "should fail",
			    ef, exp, got);
		rules_free(rs);
		free(got);
		free(exp);
		free(ef);
		free(names[i]);
	}
	free(names);
	return (n);
}

static void
test_good_files(void **state)
{
	assert_true(check_cases(DATA "/good", 1) >= 3);
}

static void
test_bad_files(void **state)
{
	assert_true(check_cases(DATA "/bad", 0) >= 12);
}

static void
test_missing_dir(void **state)
{
	struct ruleset	*rs;
	char		*out;

	out = load_output(DATA "/no-such-folder", &rs);
	assert_null(rs);
	assert_string_equal(out, "DIR: cannot open the rules folder: "
	    "No such file or directory\n");
	free(out);
}

/* Write a file into dir. */
static void
write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char	*path;
	FILE	*fp;

	path = xasprintf("%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	fclose(fp);
	free(path);
}

/* Remove a flat temporary folder. */
static void
remove_dir(const char *dir)
{
	DIR		*dp;
	struct dirent	*de;
	char		*path;

	dp = opendir(dir);
	assert_non_null(dp);
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		unlink(path);
		free(path);
	}
	closedir(dp);
	rmdir(dir);
}

/* Bytes a text editor leaves: a BOM, CRLF, a NUL; dot files are skipped. */
static void
test_odd_bytes(void **state)
{
	static const char	 crlf[] = "\xef\xbb\xbf" "category a priority "
	    "1 template a\r\ndefault a\r\nrule r\r\n\tmatch body /x/\r\n"
	    "\tcategory a\r\n";
	static const char	 nul[] = "# a NUL follows\nrule n\0ul\n";
	static const char	 ctl[] = "# a script wrote this\n"
	    "\tmatch body /x\by/\n";
	char			 dir[] = "/tmp/test_rules.XXXXXX";
	struct ruleset		*rs;
	char			*out;

	assert_non_null(mkdtemp(dir));
	write_file(dir, "00-crlf.rules", crlf, sizeof crlf - 1);
	write_file(dir, ".hidden.rules", "garbage\n", 8);
	write_file(dir, "notes.rules~", "garbage\n", 8);
	out = load_output(dir, &rs);
	assert_non_null(rs);
	assert_string_equal(out, "");
	rules_free(rs);
	free(out);

	write_file(dir, "10-nul.rules", nul, sizeof nul - 1);
	out = load_output(dir, &rs);
	assert_null(rs);
	assert_string_equal(out, "DIR/10-nul.rules:2: line contains a NUL "
	    "byte\n");
	free(out);

	/* "\b" written by a script as a backspace byte. */
	write_file(dir, "20-ctl.rules", ctl, sizeof ctl - 1);
	out = load_output(dir, &rs);
	assert_null(rs);
	assert_string_equal(out, "DIR/10-nul.rules:2: line contains a NUL "
	    "byte\nDIR/20-ctl.rules:2:15: control character 0x08 in the line "
	    "(an escape such as \\b written as the character itself?)\n");
	free(out);
	remove_dir(dir);
}

/* Load a folder that must load; fails the test otherwise. */
static struct ruleset *
load_ok(const char *dir)
{
	struct ruleset	*rs;
	char		*out;

	out = load_output(dir, &rs);
	if (rs == NULL)
		fail_msg("%s failed to load:\n%s", dir, out);
	free(out);
	return (rs);
}

/* Classify and compare category and the exact, ordered rules list. */
static void
expect(const struct ruleset *rs, const struct msg *m, const char *cat,
    const char *rules, const char *tags)
{
	struct verdict	 v;
	struct buf	 r, t;
	size_t		 i;

	rules_classify(rs, m, &v);
	buf_init(&r, 0);
	buf_init(&t, 0);
	for (i = 0; i < v.nrules; i++)
		buf_printf(&r, "%s%s", i ? " " : "", v.rules[i]);
	for (i = 0; i < v.ntags; i++)
		buf_printf(&t, "%s%s", i ? " " : "", v.tags[i]);
	if (strcmp(v.category, cat) != 0 || strcmp(buf_str(&r), rules) != 0 ||
	    strcmp(buf_str(&t), tags) != 0)
		fail_msg("subject \"%.40s\" body \"%.40s\": expected %s [%s] "
		    "{%s}, got %s [%s] {%s}",
		    m->subject ? m->subject : "(null)",
		    m->body ? m->body : "(null)", cat, rules, tags, v.category,
		    buf_str(&r), buf_str(&t));
	buf_free(&r);
	buf_free(&t);
	verdict_free(&v);
}

static void
test_matching(void **state)
{
	struct ruleset	*rs = load_ok(DATA "/good/basic");
	struct tmsg	 t;
	struct verdict	 v;

	/* NULL and empty fields first: the default, nothing matched. */
	tmsg_init(&t, NULL, NULL, NULL);
	expect(rs, &t.m, "plain", "", "");
	rules_classify(rs, &t.m, &v);
	assert_string_equal(v.template, "plain");
	assert_int_equal(v.answer, 1);
	assert_int_equal(v.priority, 1);
	verdict_free(&v);
	tmsg_init(&t, "", "", "");
	expect(rs, &t.m, "plain", "", "");

	/* One rule; case-insensitive flag; word boundaries. */
	tmsg_init(&t, "RED alert", "", "");
	expect(rs, &t.m, "red", "red-word", "colour warm");
	tmsg_init(&t, "reddish", "", "");
	expect(rs, &t.m, "plain", "", "");

	/* Tie between two priority-50 categories: the earlier rule wins. */
	tmsg_init(&t, "blue and red", "", "");
	expect(rs, &t.m, "red", "red-word blue-word", "colour warm cold");

	/* Higher priority wins over file order; tags are a union. */
	tmsg_init(&t, "blue", "the alarm rang", "");
	expect(rs, &t.m, "urgent", "blue-word alarm", "colour cold alarm");

	/* Negation: "drill" in quoted stops the alarm rule. */
	tmsg_init(&t, "alarm", "", "> this is a drill");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "alarm", "drill");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "alarm drill", "");
	expect(rs, &t.m, "urgent", "alarm", "alarm");

	/* Case-sensitive pattern without the i flag. */
	tmsg_init(&t, "", "NASA called", "");
	expect(rs, &t.m, "red", "case-sensitive", "space");
	tmsg_init(&t, "", "nasa called", "");
	expect(rs, &t.m, "plain", "", "");

	/* "or" alternatives and a negated "or" condition. */
	tmsg_init(&t, "", "a pear", "");
	expect(rs, &t.m, "red", "either", "fruit");
	tmsg_init(&t, "", "fruit", "");
	expect(rs, &t.m, "blue", "fruit-not-both", "fruit");
	tmsg_init(&t, "", "fruit and pear", "");
	expect(rs, &t.m, "red", "either", "fruit");

	/* header:NAME, case-insensitive name; several headers of a name. */
	tmsg_init(&t, "", "", "");
	tmsg_header(&t, "Received", "x");
	tmsg_header(&t, "list-id", "<news.example.org>");
	expect(rs, &t.m, "bulk", "list-mail", "bulk");
	tmsg_init(&t, "", "", "");
	tmsg_header(&t, "X-List-Id", "x");
	expect(rs, &t.m, "plain", "", "");

	/* Two conditions on from and to must both hold. */
	tmsg_init(&t, "", "", "");
	t.m.from_text = "Ann <ann@example.org>";
	expect(rs, &t.m, "plain", "", "");
	t.m.to_text = "team@practice.example";
	expect(rs, &t.m, "blue", "sender", "internal");
	rules_free(rs);
}

static void
test_multiple_fields(void **state)
{
	struct ruleset	*rs = load_ok(DATA "/good/syntax");
	struct tmsg	 t;

	/* "subject , body" with a '#' and a '/' inside the patterns. */
	tmsg_init(&t, "A # NOT A COMMENT", "", "");
	expect(rs, &t.m, "two", "Tabs.and_spaces-1", "a b c");
	tmsg_init(&t, "", "it is with / slash", "");
	expect(rs, &t.m, "two", "Tabs.and_spaces-1", "a b c");
	tmsg_init(&t, "", "", "a # not a comment");
	expect(rs, &t.m, "one", "", "");
	/* UTF-8 pattern, caseless with UCP. */
	tmsg_init(&t, "ÜMLAUT", "", "");
	expect(rs, &t.m, "two", "Tabs.and_spaces-1", "a b c");
	/* m and x flags on a header, not FROM /x/s. */
	tmsg_init(&t, "", "", "");
	tmsg_header(&t, "X-Spam-Flag", "no\nyes");
	expect(rs, &t.m, "three", "headers", "h");
	t.m.from_text = "x@y";
	expect(rs, &t.m, "one", "", "");
	rules_free(rs);
}

/* Milliseconds since an arbitrary point. */
static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e3 + ts.tv_nsec / 1e6);
}

static void
test_limits(void **state)
{
	struct ruleset	*rs = load_ok(DATA "/good/basic");
	struct tmsg	 t;
	char		*subject;
	double		 t0, ms;
	size_t		 n = 100000;

	subject = xmalloc(n + 2);
	memset(subject, 'a', n);
	subject[n] = 'b';
	subject[n + 1] = '\0';

	/*
	 * (a+)+$ against 100k 'a' + 'b': the match limit stops it. The rule
	 * is in the most urgent category, so the limit hit counts as a match
	 * (fails safe: a missed crisis costs more than an extra one).
	 */
	tmsg_init(&t, subject, "", "");
	t0 = now_ms();
	expect(rs, &t.m, "urgent", "catastrophic", "slow");
	ms = now_ms() - t0;
	print_message("catastrophic pattern: %.1f ms\n", ms);
	assert_true(ms < 1000);

	/*
	 * In any other category a limit hit counts as "rule does not
	 * match", negated or not: catastrophic-not (red) stays silent.
	 */
	tmsg_init(&t, subject, "slowcheck", "");
	expect(rs, &t.m, "urgent", "catastrophic", "slow");

	/* Without the trailing b it matches quickly. */
	subject[n] = '\0';
	tmsg_init(&t, subject, "slowcheck", "");
	expect(rs, &t.m, "urgent", "catastrophic", "slow");
	free(subject);
	rules_free(rs);
}

/* Does --explain of m say text (want 1) or not (want 0)? */
static void
explain_says(const struct ruleset *rs, const struct msg *m,
    const char *text, int want)
{
	struct buf	ex;
	int		has;

	buf_init(&ex, 0);
	rules_explain(rs, m, &ex);
	has = strstr(buf_str(&ex), text) != NULL;
	if (has != want)
		fprintf(stderr, "explain %s \"%s\":\n%s", has ? "has" : "lacks",
		    text, buf_str(&ex));
	assert_int_equal(has, want);
	buf_free(&ex);
}

static void
explains(const struct ruleset *rs, const struct msg *m, const char *text)
{
	explain_says(rs, m, text, 1);
}

static void
lacks(const struct ruleset *rs, const struct msg *m, const char *text)
{
	explain_says(rs, m, text, 0);
}

/* define, near and score: lists, proximity, evidence and its tags. */
static void
test_words_and_evidence(void **state)
{
	struct ruleset	*rs = load_ok(DATA "/good/evidence");
	struct tmsg	 t;

	/* near: either order, within four words, through lists of lists. */
	tmsg_init(&t, "", "I have saved up all of my pills", "");
	expect(rs, &t.m, "danger", "means-saved", "urgent");
	tmsg_init(&t, "", "the tablets I stockpiled", "");
	expect(rs, &t.m, "danger", "means-saved", "urgent");
	tmsg_init(&t, "", "gun, which I finally have enough", "");
	expect(rs, &t.m, "danger", "means-saved", "urgent");
	/* Too far apart: five words between. */
	tmsg_init(&t, "", "pills are one thing and I never ever saved", "");
	expect(rs, &t.m, "plain", "", "");
	/* Not across a sentence or a blank line; a wrapped line is fine. */
	tmsg_init(&t, "", "Refill the pills. Saved the receipt", "");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "my pills\n\nsaved by the bell", "");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "I have saved\nmy pills; I know", "");
	expect(rs, &t.m, "danger", "means-saved", "urgent");
	tmsg_init(&t, "", "the pills... saved up", "");
	expect(rs, &t.m, "danger", "means-saved", "urgent");

	/* One weak signal is not enough; two are; a negative takes away. */
	tmsg_init(&t, "", "so tired", "");
	expect(rs, &t.m, "plain", "weak-tired", "");
	tmsg_init(&t, "", "so tired and alone", "");
	expect(rs, &t.m, "worry", "weak-tired weak-alone", "tired alone");
	tmsg_init(&t, "", "tired and alone but happy", "");
	expect(rs, &t.m, "plain", "weak-tired weak-alone weak-against", "");

	/*
	 * outranked-tag: worry carried but outranked by danger marks the
	 * verdict; not when worry wins, nor when it was not carried.
	 */
	tmsg_init(&t, "", "so tired and alone, I saved my pills", "");
	expect(rs, &t.m, "danger", "means-saved weak-tired weak-alone",
	    "urgent tired alone worry-too");
	tmsg_init(&t, "", "so tired, I saved my pills", "");
	expect(rs, &t.m, "danger", "means-saved weak-tired", "urgent");

	/* --explain shows the scores and the evidence against the need. */
	tmsg_init(&t, "", "so tired and alone", "");
	explains(rs, &t.m, "score +3");
	explains(rs, &t.m, "category worry: evidence 6 of 6 needed\n");
	rules_free(rs);
}

/*
 * What the rules of the top category matched, for the sentence model:
 * the matched text of each rule of it that matched, from the flattened
 * message; nothing of the other categories' rules.
 */
static void
test_top_matches(void **state)
{
	struct ruleset	*rs = load_ok(DATA "/good/evidence");
	struct tmsg	 t;
	struct msg	*flat;
	char		**m;
	size_t		  n;

	tmsg_init(&t, "", "So tired and alone. I have saved\nup all of my "
	    "pills.", "");
	flat = rules_flat(&t.m);
	m = rules_top_matches(rs, flat, &n);
	assert_int_equal(n, 1);
	assert_string_equal(m[0], "saved up all of my pills");
	xfreev(m, n);
	rules_flat_free(flat);
	tmsg_init(&t, "", "so tired and alone", "");
	flat = rules_flat(&t.m);
	m = rules_top_matches(rs, flat, &n);
	assert_int_equal(n, 0);
	xfreev(m, n);
	rules_flat_free(flat);
	rules_free(rs);
}

/*
 * The model beside the rules: its rule features, its evidence for a
 * confident choice, its evidence against an improbable category (one
 * scored rule then no longer carries it), never against crisis, the
 * recall-first bar, what it reads crisis mail as besides, and its
 * choice where no rule carried a category (fallback), unless a rule
 * scored against it.
 */
static void
test_model_evidence(void **state)
{
	struct ruleset	*rs = load_ok(DATA "/good/model");
	struct tmsg	 t;

	/* Confident for plain: against billing, whose one rule gives 10. */
	tmsg_init(&t, "", "the invoice for the garden roses", "");
	expect(rs, &t.m, "plain", "billing-word", "");
	explains(rs, &t.m, "against billing, evidence -10");
	explains(rs, &t.m, "category billing: evidence 0 of 10 needed, "
	    "not enough\n");
	/* The same model never speaks against crisis. */
	tmsg_init(&t, "", "hopeless about the garden roses", "");
	expect(rs, &t.m, "crisis", "crisis-word", "");
	/* The rule that matched is a feature: with "receipt", billing. */
	tmsg_init(&t, "", "invoice and receipt", "");
	expect(rs, &t.m, "billing", "billing-word", "");
	/* Crisis is recall-first: from probability 0.50, not 0.90. */
	tmsg_init(&t, "", "alone", "");
	expect(rs, &t.m, "crisis", "", "");
	explains(rs, &t.m, "recall-first");
	/*
	 * A matching rule marked stops-model-recall keeps the recall-first
	 * vote from carrying crisis; crisis rules still do.
	 */
	tmsg_init(&t, "", "alone unsubscribe", "");
	expect(rs, &t.m, "notice", "notice-word", "");
	explains(rs, &t.m, "its recall-first vote does not count: rule "
	    "notice-word (stops-model-recall) matched");
	tmsg_init(&t, "", "alone and hopeless unsubscribe", "");
	expect(rs, &t.m, "crisis", "crisis-word notice-word", "");
	/* Not beside a crisis rule's own evidence, however small. */
	tmsg_init(&t, "", "alone, the dog given away, unsubscribe", "");
	expect(rs, &t.m, "crisis", "notice-word crisis-hint", "");
	tmsg_init(&t, "", "the garden given away, unsubscribe", "");
	expect(rs, &t.m, "notice", "notice-word crisis-hint", "");
	/*
	 * Crisis mail the model reads as billing besides (receipt) carries
	 * billing's outranked-tag, though no billing rule matched.
	 */
	tmsg_init(&t, "", "hopeless, where is my receipt", "");
	expect(rs, &t.m, "crisis", "crisis-word", "billing-too");
	explains(rs, &t.m, "category billing: the model reads the mail as it "
	    "besides crisis, which adds its outranked-tag");
	explains(rs, &t.m, "besides crisis, it reads as billing");
	/* Not when billing itself wins: it is not outranked then. */
	tmsg_init(&t, "", "invoice and receipt", "");
	expect(rs, &t.m, "billing", "billing-word", "");
	/*
	 * No rule carried a category: the model's choice stands from its
	 * fallback bar (0.50), below the 0.90 it needs for evidence, instead
	 * of the default plain.
	 */
	tmsg_init(&t, "", "the ledger", "");
	expect(rs, &t.m, "billing", "", "");
	explains(rs, &t.m, "verdict: billing, the learned model's choice");
	/* The tags of a scored rule of the category it chose follow it. */
	tmsg_init(&t, "", "the ledger statement", "");
	expect(rs, &t.m, "billing", "billing-hint", "paper");
	/* Not those of a category it did not choose. */
	tmsg_init(&t, "", "a statement", "");
	expect(rs, &t.m, "plain", "billing-hint", "");
	/* Not against a rule that scored against that very category. */
	tmsg_init(&t, "", "my own ledger", "");
	expect(rs, &t.m, "plain", "not-billing", "");
	explains(rs, &t.m, "verdict: plain, the default: no rule carried a "
	    "category, and rule not-billing scored against the learned "
	    "model's choice, billing");
	rules_free(rs);
}

/* "asserted": a match that is denied or only in the past does not count. */
/* The current year: the past-year scope is relative to it. */
static int
this_year(void)
{
	time_t		now = time(NULL);
	struct tm	tm;

	assert_non_null(gmtime_r(&now, &tm));
	return (tm.tm_year + 1900);
}

static void
test_asserted(void **state)
{
	struct ruleset	*rs = load_ok(DATA "/good/evidence");
	struct tmsg	 t;
	char		 thisyear[64];

	tmsg_init(&t, "", "I keep having thoughts of hurting myself", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	/* Denied close before it, in its clause. */
	tmsg_init(&t, "", "I'm not having any thoughts of hurting myself.",
	    "");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "No tengo pensamientos de hacerme daño", "");
	expect(rs, &t.m, "plain", "", "");
	/* A later match that is not denied still counts. */
	tmsg_init(&t, "", "I'm not suicidal. But I keep hurting myself.", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	/* Not denials: can't stop, don't know, no one knows. */
	tmsg_init(&t, "", "I can't stop thinking about hurting myself", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	tmsg_init(&t, "", "I don't know why I keep hurting myself", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	tmsg_init(&t, "", "no one knows I'm suicidal", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	tmsg_init(&t, "", "I never felt this suicidal before", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	/* Only in the past; in the past and now again. */
	tmsg_init(&t, "", "When I was 19 I made a suicide attempt, and I've "
	    "been stable since.", "");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "Years ago I was suicidal and lately it is back.",
	    "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	/* "Since then" runs up to now: no past. */
	tmsg_init(&t, "", "He was in hospital and since then I keep having "
	    "thoughts of hurting myself.", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	/*
	 * A year three or more years back is over; the last two are not
	 * taken as past.
	 */
	tmsg_init(&t, "", "I made a suicide attempt in 2015 and did two years "
	    "of therapy after.", "");
	expect(rs, &t.m, "plain", "", "");
	snprintf(thisyear, sizeof thisyear, "I have been suicidal in %d, "
	    "every week.", this_year());
	tmsg_init(&t, "", thisyear, "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	tmsg_init(&t, "", "I was suicidal in 2021, during a bad episode.",
	    "");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "I was suicidal in 2024 and still am.", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	tmsg_init(&t, "", "In spring 2019 I was\nsuicidal for a while.", "");
	expect(rs, &t.m, "plain", "", "");

	/* Dying feared (health anxiety, panic), not wished or done. */
	tmsg_init(&t, "", "In a panic attack I am convinced I am about to die.",
	    "");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "I'm terrified I'm going to die of this.", "");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "I was sure I was having a heart attack and was going "
	    "to die right there.", "");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "I'm scared because I want to die.", "");
	expect(rs, &t.m, "danger", "dying-words", "urgent");
	tmsg_init(&t, "", "I'm afraid I'm going to die by my own hand.", "");
	expect(rs, &t.m, "danger", "dying-words", "urgent");
	tmsg_init(&t, "", "I feel like I'm dying inside.", "");
	expect(rs, &t.m, "danger", "dying-words", "urgent");
	tmsg_init(&t, "", "I don't want to die, I am scared of it.", "");
	expect(rs, &t.m, "plain", "", "");

	/* Asked in a screening, answered no: a denial. */
	tmsg_init(&t, "", "The nurse asked whether I have thoughts of hurting "
	    "myself and\nI told her the truth, which is no.", "");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "My midwife asked about hurting myself; I answered "
	    "that I've had none.", "");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "We asked him if he is suicidal. He said no, he is "
	    "just worn out.", "");
	expect(rs, &t.m, "plain", "", "");
	/* Taken back, answered yes, "no one", no answer, or never asked. */
	tmsg_init(&t, "", "She asked if I was suicidal. I said no, but I "
	    "lied.", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	tmsg_init(&t, "", "She asked if I was suicidal and I said yes.", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	tmsg_init(&t, "", "He asked if I was suicidal and I said no one "
	    "would notice.", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	tmsg_init(&t, "", "The doctor asked if I was suicidal. I cried. I "
	    "said no.", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	tmsg_init(&t, "", "I keep hurting myself. My sister said no.", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");

	/* Said of a group: the topic of a student's or colleague's mail. */
	tmsg_init(&t, "", "How do therapists handle clients who are having "
	    "suicidal thoughts?", "");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "Anyone who is suicidal should call 988.", "");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "I see a few teens who want to die each year.", "");
	expect(rs, &t.m, "plain", "", "");
	/* The writer, one of them, or their own: still said of someone. */
	tmsg_init(&t, "", "Are there people like me who want to die?", "");
	expect(rs, &t.m, "danger", "dying-words", "urgent");
	tmsg_init(&t, "", "I'm one of those people who is suicidal.", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	tmsg_init(&t, "", "One of my students is suicidal.", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	tmsg_init(&t, "", "I think our teens are suicidal.", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	tmsg_init(&t, "", "Clients, I am suicidal.", "");
	expect(rs, &t.m, "danger", "self-harm-words", "urgent");
	rules_free(rs);
}

static void
test_invalid_utf8(void **state)
{
	struct ruleset	*shipped = load_ok(SHIPPED);
	struct ruleset	*rs = load_ok(DATA "/good/basic");
	struct tmsg	 t;
	struct verdict	 v;

	/* Invalid bytes never match, the text around them still does. */
	tmsg_init(&t, "\xff\xfe red \xc3", "\xc3\x28 alarm \xed\xa0\x80", "");
	expect(rs, &t.m, "urgent", "red-word alarm", "colour warm alarm");
	tmsg_init(&t, "\xf8\x88\x80\x80\x80", "\xc0\xaf", "\xff");
	expect(rs, &t.m, "plain", "", "");

	tmsg_init(&t, "help \xff\xfe", "\x80 I want to kill myself \xc3", "");
	rules_classify(shipped, &t.m, &v);
	assert_string_equal(v.category, "crisis");
	verdict_free(&v);
	rules_free(shipped);
	rules_free(rs);
}

/*
 * "conditions NAME" shared by "if NAME" from a later file: the rule
 * holds them as its own, and --explain names where they are written.
 */
static void
test_shared_conditions(void **state)
{
	struct ruleset	*rs = load_ok(DATA "/good/shared");
	struct tmsg	 t;
	struct buf	 b;
	char		*tmp, *exp;

	tmsg_init(&t, "", "please help now", "");
	expect(rs, &t.m, "urgent", "help-now", "now");
	/* Each shared line holds: a list header, or bulk or junk (the or). */
	tmsg_header(&t, "List-Id", "<news.example>");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "please help now", "");
	tmsg_header(&t, "Precedence", "junk");
	expect(rs, &t.m, "plain", "", "");
	tmsg_init(&t, "", "please help now", "");
	tmsg_header(&t, "Precedence", "first-class");
	expect(rs, &t.m, "urgent", "help-now", "now");
	/* A rule without "if" is not bound by them. */
	tmsg_init(&t, "urgent", "", "");
	tmsg_header(&t, "List-Id", "<news.example>");
	expect(rs, &t.m, "urgent", "any-sender", "");

	tmsg_init(&t, "", "help now", "");
	buf_init(&b, 0);
	rules_explain(rs, &t.m, &b);
	tmp = replace_all(
	    "@U@:3 rule help-now: field body matched \"help now\"\n"
	    "@S@:8 rule help-now: not header:List-Id: nothing matched\n"
	    "@S@:9 rule help-now: not header:Precedence: nothing matched\n",
	    "@U@", DATA "/good/shared/10-use.rules");
	exp = replace_all(tmp, "@S@", DATA "/good/shared/00-shared.rules");
	assert_non_null(strstr(buf_str(&b), exp));
	free(tmp);
	free(exp);
	buf_free(&b);
	rules_free(rs);
}

static void
test_explain(void **state)
{
	struct ruleset	*rs = load_ok(DATA "/good/basic");
	struct tmsg	 t;
	struct buf	 b;
	const char	*f = DATA "/good/basic/10-rules.rules";
	char		*exp;

	buf_init(&b, 0);
	tmsg_init(&t, "blue", "the\talarm", "");
	assert_int_equal(rules_explain(rs, &t.m, &b), 2);
	exp = replace_all(
	    "F:9 rule blue-word: category blue, tags colour cold\n"
	    "F:10 rule blue-word: field subject matched \"blue\"\n"
	    "F:14 rule alarm: category urgent, tags alarm\n"
	    "F:15 rule alarm: field body matched \"alarm\"\n"
	    "F:16 rule alarm: not quoted: nothing matched\n"
	    "category red (priority 50): no rule matched\n"
	    "category blue (priority 50): lost to urgent (priority 100)\n"
	    "category bulk (priority 10): no rule matched\n"
	    "category plain (priority 1): no rule matched\n"
	    "verdict: urgent (priority 100)\n", "F", f);
	assert_string_equal(buf_str(&b), exp);
	free(exp);

	/* A tie, and a field with a control character in the match. */
	buf_reset(&b);
	tmsg_init(&t, "red\x01 blue", "", "");
	assert_int_equal(rules_explain(rs, &t.m, &b), 2);
	assert_non_null(strstr(buf_str(&b), "category blue (priority 50): "
	    "lost the tie to red, whose rule red-word came first\n"));
	assert_non_null(strstr(buf_str(&b), "verdict: red (priority 50)\n"));

	buf_reset(&b);
	tmsg_init(&t, "", "", "");
	assert_int_equal(rules_explain(rs, &t.m, &b), 0);
	assert_non_null(strstr(buf_str(&b),
	    "verdict: plain, the default: no rule matched\n"));
	buf_free(&b);
	rules_free(rs);
}

static void
test_categories(void **state)
{
	struct ruleset	*rs = load_ok(DATA "/good/basic");
	struct verdict	 v;
	struct tmsg	 t;

	assert_int_equal(rules_ncategories(rs), 5);
	assert_string_equal(rules_category_name(rs, 0), "urgent");
	assert_string_equal(rules_category_template(rs, 0), "urgent");
	assert_string_equal(rules_category_name(rs, 3), "bulk");
	assert_null(rules_category_template(rs, 3));
	assert_null(rules_category_name(rs, 5));

	/* A noreply category: no template, not answered. */
	tmsg_init(&t, "", "", "");
	tmsg_header(&t, "List-Id", "x");
	rules_classify(rs, &t.m, &v);
	assert_string_equal(v.category, "bulk");
	assert_null(v.template);
	assert_int_equal(v.answer, 0);
	assert_int_equal(v.priority, 10);
	assert_true(verdict_has_tag(&v, "bulk"));
	assert_false(verdict_has_tag(&v, "bul"));
	verdict_free(&v);
	verdict_free(&v);	/* cleared: a second free is harmless */
	verdict_free(NULL);
	rules_free(NULL);
	rules_free(rs);
}

/*
 * The shipped referral rules score against the two unanswered categories
 * for a professional's referral, and not for a client's "I am referring
 * to what you said", which would otherwise lose its existing-client
 * evidence and get the new-client reply.
 */
static void
test_shipped_referral(void **state)
{
	struct ruleset	*rs = load_ok(SHIPPED);
	struct tmsg	 t;

	tmsg_init(&t, "New patient", "Dear colleague, I would like to refer "
	    "a patient of mine for therapy. Do you have capacity to see her "
	    "this month?", "");
	explains(rs, &t.m, "rule referral-is-inquiry: category not-inquiry, "
	    "score -20");
	explains(rs, &t.m, "rule referral-not-client-note: category "
	    "existing-client, score -20");
	tmsg_init(&t, "journaling", "Hi, I am referring to what you said in "
	    "our session about journaling. See you Thursday.", "");
	lacks(rs, &t.m, "rule referral-");
	tmsg_init(&t, "Re: invoice", "I'm referring to the invoice from my "
	    "last session.", "");
	lacks(rs, &t.m, "rule referral-");
	rules_free(rs);
}

/* The shipped rules load without a single error or warning. */
static void
test_shipped_clean(void **state)
{
	struct ruleset	*rs;
	char		*out;

	out = load_output(SHIPPED, &rs);
	assert_non_null(rs);
	assert_string_equal(out, "");
	free(out);
	rules_free(rs);
}

/*
 * Realistic short inquiries against the shipped rules: the category, the
 * tags that must be there and the tags that must not.
 */
static const struct inquiry {
	const char	*subject;
	const char	*body;
	const char	*quoted;
	const char	*header;	/* "Name: value" or NULL */
	const char	*category;
	const char	*tags;		/* each must be present */
	const char	*notags;	/* none may be present */
} inquiries[] = {
	/* Crisis, direct and indirect, slang, Spanish, someone else. */
	{ "need to talk", "honestly i just want to kill myself. i cant do "
	  "this", NULL, NULL, "crisis", "urgent", NULL },
	{ "Appointment", "I don't want to be here anymore. Everything feels "
	  "heavy.", NULL, NULL, "crisis", "urgent", NULL },
	{ "", "I think everyone would be better off without me, is that "
	  "something you help with?", NULL, NULL, "crisis", NULL, NULL },
	{ "hi", "been thinking about ending it lately and my therapist "
	  "retired", NULL, NULL, "crisis", NULL, NULL },
	{ "help", "idk anymore i might kms tonight", NULL, NULL, "crisis",
	  NULL, NULL },
	/* Programs writing: not an inquiry, unless a person says "no". */
	{ "Out of office", "I am away until Monday and will reply then.",
	  NULL, "Auto-Submitted: auto-replied", "not-inquiry", "automatic",
	  NULL },
	{ "Therapy question", "I am looking for help with anxiety.",
	  NULL, "Auto-Submitted: no (manual)", "individual", NULL,
	  "automatic" },
	{ "Delivery failure", "Your message could not be delivered.",
	  NULL, "Return-Path: <>", "not-inquiry", "automatic", NULL },
	/* Phrases wrapped across lines by the writer's mail program. */
	{ "", "Lately I feel everyone would be better off\r\n  without "
	  "me.", NULL, NULL, "crisis", NULL, NULL },
	{ "", "I keep covering\nfor him with\this boss and my life revolves "
	  "around\nhis drinking", NULL, NULL, "substance",
	  "alcohol codependency", NULL },
	/* A word split at its hyphen by the wrap, and a quote wrapped with
	 * "> " before each line: a threat in an ex's mail under the reply. */
	{ "", "My self-\nharm is getting worse", NULL, NULL, "crisis",
	  "self-harm", NULL },
	{ "co-parenting", "Looking for help with co-parenting. His usual "
	  "mail is below.", "On Sun, Feb 15, 2026, Dale wrote:\n> file that "
	  "motion and you won't\n> make it to the hearing, I promise you "
	  "that.\n", NULL, "crisis", "violence", NULL },
	{ "question", "sometimes i think about how to unalive myself",
	  NULL, NULL, "crisis", NULL, NULL },
	{ "", "I started cutting myself again after three years clean of "
	  "it", NULL, NULL, "crisis", "self-harm", NULL },
	{ "self harm", "My self-harm is getting worse", NULL, NULL,
	  "crisis", "self-harm", NULL },
	{ "", "I have been saving my pills and thinking about taking all of "
	  "them", NULL, NULL, "crisis", NULL, NULL },
	{ "Hola", "Ya no aguanto, quiero morir. No quiero vivir así.",
	  NULL, NULL, "crisis", "spanish", NULL },
	{ "ayuda", "he pensado en suicidarme y en hacerme daño", NULL, NULL,
	  "crisis", NULL, NULL },
	{ "my daughter", "My daughter (16) said she wants to die and I "
	  "found a note. What do I do?", NULL, NULL, "crisis",
	  "someone-else", NULL },
	{ "urgent", "My sister is talking about suicide and giving away "
	  "her things", NULL, NULL, "crisis", "someone-else", NULL },
	{ "Therapy?", "I'm suicidal and my husband drinks every night",
	  NULL, NULL, "crisis", "urgent alcohol", NULL },
	{ "RE: Your inquiry", "ok here it is: I have had suicidal thoughts "
	  "since the baby", NULL, NULL, "crisis", NULL, NULL },
	{ "Webinar", "Learn what to say when a client tells you \"I want to "
	  "kill myself\". Register now, earn 3 CE credits.", NULL, NULL,
	  "crisis", "marketing", NULL },

	/* Danger from a partner by the Danger Assessment's items. */
	{ "", "My husband checks my phone every night and I'm scared of him.",
	  NULL, NULL, "crisis", "urgent violence", NULL },
	{ "", "He told me he would hurt the kids if I call anyone.", NULL,
	  NULL, "crisis", "urgent violence", NULL },
	{ "", "She keeps my car keys and won't let me see my friends, and it "
	  "is getting worse every time she loses her temper.", NULL, NULL,
	  "crisis", "urgent violence", NULL },
	{ "", "My boyfriend and I want couples counseling, he gets so jealous "
	  "of my coworkers", NULL, NULL, "couples", NULL, "urgent" },
	{ "", "I'm afraid of flying and want help with my anxiety", NULL,
	  NULL, "individual", "anxiety", "urgent" },
	{ "", "I'm not having any thoughts of hurting myself, just exhausted "
	  "and low", NULL, NULL, "individual", NULL, "urgent" },

	/* False friends of crisis. */
	{ "Re: Your inquiry", "Thank you! Tuesday at 10 works for me.",
	  "> If you are in crisis or thinking about suicide, call or text "
	  "988.\n> If you want to kill yourself or hurt yourself, go to the "
	  "ER.", NULL, "individual", NULL, "urgent" },
	{ "Suicide Prevention Training - 6 CEUs", "Join our suicide "
	  "prevention training for clinicians. Early bird pricing ends "
	  "Friday.", NULL, NULL, "not-inquiry", "marketing", "urgent" },
	{ "5k", "I ran 5 kms today and still feel anxious all the time",
	  NULL, NULL, "individual", "anxiety", "urgent" },
	{ "", "I'm thinking about ending things with my boyfriend, we fight "
	  "constantly", NULL, NULL, "couples", NULL, "urgent" },
	{ "", "I could kill for a good night's sleep, the stress is a lot",
	  NULL, NULL, "individual", "stress", "urgent" },

	/* Substance. */
	{ "my husband", "My husband's drinking is getting worse and I keep "
	  "covering for him at work", NULL, NULL, "substance",
	  "alcohol codependency", "narcotics" },
	{ "", "I've been sober 2 years but I'm scared of relapse", NULL,
	  NULL, "substance", "alcohol", "narcotics" },
	{ "son", "Our son is using again. Fentanyl. We are terrified.",
	  NULL, NULL, "substance", "narcotics", NULL },
	{ "", "I think I am addicted to pills since my surgery", NULL, NULL,
	  "substance", "narcotics", NULL },
	{ "codependency", "I read that I might be codependent; my whole "
	  "life revolves around his drinking", NULL, NULL, "substance",
	  "codependency alcohol", NULL },
	{ "", "my boyfriend drinks and does coke every weekend", NULL, NULL,
	  "substance", "alcohol narcotics", NULL },
	{ "consulta", "Mi esposo bebe mucho y es alcohólico", NULL, NULL,
	  "substance", "alcohol", NULL },

	/* Couples. */
	{ "Couples counseling", "Do you offer couples counseling? My wife "
	  "and I have been arguing a lot.", NULL, NULL, "couples", NULL,
	  NULL },
	{ "", "My husband won't go to therapy with me but our marriage is "
	  "falling apart", NULL, NULL, "couples", "partner-refuses", NULL },
	{ "affair", "I found out about an affair and don't know if we can "
	  "repair our relationship", NULL, NULL, "couples", NULL, NULL },

	/* Individual, and its false friends. */
	{ "New client", "I have anxiety and panic attacks at work", NULL,
	  NULL, "individual", "anxiety", NULL },
	{ "", "Since my mom passed away I can't stop crying", NULL, NULL,
	  "individual", "grief", NULL },
	{ "postpartum", "I'm a new mom and I think I have postpartum "
	  "depression", NULL, NULL, "individual", "postpartum depression",
	  NULL },
	{ "", "burnt out and my self-esteem is on the floor", NULL, NULL,
	  "individual", "burnout self-esteem", NULL },
	{ "", "I drink tea every morning and still feel depressed", NULL,
	  NULL, "individual", "depression", "alcohol" },
	{ "", "My wife's birthday is next week and I feel so overwhelmed",
	  NULL, NULL, "individual", "stress", NULL },
	{ "Availability?", "Hi, are you taking new clients? What are your "
	  "fees?", NULL, NULL, "individual", NULL, NULL },

	/* Phrasings found by the labelled corpus (tests/data/inquiries). */
	{ "", "at night I just want to disappear forever", NULL, NULL,
	  "crisis", "urgent", NULL },
	{ "", "I go to sleep hoping I won't wake up", NULL, NULL, "crisis",
	  "urgent", NULL },
	{ "", "i relapsed on sh last week", NULL, NULL, "crisis",
	  "self-harm", "narcotics" },
	{ "", "i dont wanna live anymore", NULL, NULL, "crisis", NULL,
	  NULL },
	{ "", "I've been saving up my sleeping pills", NULL, NULL, "crisis",
	  NULL, NULL },
	{ "my daughter is cutting", "She says it is nothing.", NULL, NULL,
	  "crisis", "someone-else self-harm", NULL },
	{ "", "no puedo, sería mejor no despertar", NULL, NULL, "crisis",
	  "spanish", NULL },
	{ "", "I'm thinking about ending it with him, we fight", NULL, NULL,
	  "couples", NULL, "urgent" },
	{ "", "my son is cutting the grass and I feel anxious", NULL, NULL,
	  "individual", "anxiety", "urgent" },
	{ "", "I've been cutting back on my hours because of stress", NULL,
	  NULL, "individual", "stress", "urgent self-harm" },
	{ "", "I'm drinking way too much coffee and can't sleep", NULL, NULL,
	  "individual", NULL, "alcohol" },
	{ "", "she always got high marks, now panic attacks", NULL, NULL,
	  "individual", "anxiety", "narcotics" },
	{ "", "basically overdosed on caffeine, so stressed", NULL, NULL,
	  "individual", "stress", "narcotics urgent" },
	{ "", "my bf does lines every weekend", NULL, NULL, "substance",
	  "narcotics", NULL },
	{ "", "I make excuses for him when he is hungover", NULL, NULL,
	  "substance", "alcohol codependency", NULL },
	{ "", "My mother mixes her Ativan with wine", NULL, NULL,
	  "substance", "alcohol narcotics", NULL },
	{ "", "My boyfriend doesn't believe in therapy", NULL, NULL,
	  "couples", "partner-refuses", NULL },
	{ "", "me n my bf fight all the time", NULL, NULL, "couples", NULL,
	  NULL },
	{ "", "My daughter said she refuses therapy", NULL, NULL,
	  "individual", NULL, "partner-refuses" },

	/*
	 * Quiet crises in another inquiry or a client's note (rules
	 * 19-crisis-understated), and look-alikes that are none.
	 */
	{ "burnout", "On bad nights I catch myself working out how much of "
	  "what's in our med room it would take. I'm off Thursdays.", NULL,
	  NULL, "crisis", "urgent", NULL },
	{ "Re: Wednesday", "Sorry I missed Wednesday, I ended up in A&E after "
	  "swallowing the whole strip of my zopiclone on Tuesday. Are we "
	  "still on for next week?", NULL, NULL, "crisis", "urgent", NULL },
	{ "A note of thanks", "I've been keeping back a few of my sleeping "
	  "tablets each week so I'll have enough when I decide the time is "
	  "right. Thank you for everything.", NULL, NULL, "crisis", "urgent",
	  NULL },
	{ "he found the new apartment, car parked outside again last night",
	  "I'm looking for a therapist to help me through my divorce.", NULL,
	  NULL, "crisis", "urgent violence", NULL },
	{ "Anxiety", "We walked over the bridge wondering how far it was to "
	  "the harbour, and I'd like help with my anxiety.", NULL, NULL,
	  "individual", NULL, "urgent" },
	{ "Starting", "I've made the decision to start therapy and I'm at "
	  "peace with it. Do you have evening appointments?", NULL, NULL,
	  "individual", NULL, "urgent" },
	/*
	 * A date settled with everything lined up, nothing billed after it
	 * (two weak signs); an overdose in a referral's words; a protective
	 * order with a partner who followed her car (two weak signs); and
	 * their look-alikes.
	 */
	{ "insurance card", "New member number is SHX 440. I've settled on "
	  "the 20th of March. It feels right to go then, everything's lined "
	  "up. So just bill through then and don't chase them for anything "
	  "after.", NULL, NULL, "crisis", "urgent", NULL },
	{ "Referral", "Ms. R. was seen at St. Brendan's Emergency Department "
	  "on Sunday after taking what she estimates was fourteen of her "
	  "prescribed zolpidem tablets with wine. Could you offer her an "
	  "intake?", NULL, NULL, "crisis", "urgent", NULL },
	{ "Referral for my client", "We obtained a temporary protective "
	  "order yesterday. Last Thursday he appeared unannounced at her "
	  "workplace. She is seeking individual therapy.", NULL, NULL,
	  "crisis", "urgent violence", NULL },
	{ "Surgery", "I've settled on the 20th of March for my knee surgery, "
	  "so I'd like to start therapy before then. Do you have Tuesday "
	  "evenings?", NULL, NULL, "individual", NULL, "urgent" },
	{ "Divorce", "My divorce was final in 2019 and the protective order "
	  "expired long ago. I'd like help with my anxiety at work.", NULL,
	  NULL, "individual", NULL, "urgent" },
	/* A passive wish at bedtime; a method picked out in thought. */
	{ "burnout", "Most nights I go to sleep kind of hoping I just... "
	  "don't have to do the next morning. I can do lunch hours.", NULL,
	  NULL, "crisis", "urgent", NULL },
	{ "Marriage counseling", "We fight about logistics. On the drive "
	  "home I've started picking out which overpass railing would be "
	  "the one. Tuesdays work for both of us.", NULL, NULL, "crisis",
	  "urgent", NULL },
	{ "mi hijo", "Anoche lo encontré en el piso del baño, estaba morado "
	  "de los labios y no respiraba bien. Los paramédicos le pusieron el "
	  "spray en la nariz.", NULL, NULL, "crisis", "urgent", NULL },
	/* Inside a substance inquiry: a passive wish, means kept back. */
	{ "Question about counseling for drinking", "It's most of a bottle "
	  "now. The point of the bottle has been that I'd be okay not waking "
	  "up in the morning.", NULL, NULL, "crisis", "urgent", NULL },
	{ "confidential question", "I've been keeping some back, not taking "
	  "them, and there's a bottle in my closet now that I know is more "
	  "than enough.", NULL, NULL, "crisis", "urgent", NULL },
	{ "the gin, and I don't much want to be here anymore", "I am 74 and "
	  "I drink gin in the afternoons. Do I need a referral?", NULL, NULL,
	  "crisis", "urgent", NULL },
	{ "consult", "i've been quietly collecting nan's sleeping tablets out "
	  "of her dosette box, one a night.", NULL, NULL, "crisis", "urgent",
	  NULL },
	/* The last arrangements of a client's note: two weak signs. */
	{ "Tuesday", "Please release my regular slot, I won't be rebooking. "
	  "Don't charge the card, I've closed that account. There's nothing "
	  "left hanging.", NULL, NULL, "crisis", "urgent", NULL },
	/* A teenager's figure of speech. */
	{ "14yo daughter", "Would you want me in the first session or is "
	  "that social suicide for her? Do you see girls her age?", NULL,
	  NULL, "individual", NULL, "urgent" },
	{ "Mum", "I've spent thirty years managing my mum's drinking and "
	  "organising my whole week around a bottle that isn't even mine.",
	  NULL, NULL, "substance", "alcohol codependency family", NULL },
	/* A ride is no threat. */
	{ "saturday", "I cried in the bathroom at school and my friend had "
	  "to come get me. Can we move my session to Monday?", NULL, NULL,
	  "existing-client", NULL, "violence" },
	/* Drinking in other words; the rescuer's money. */
	{ "wife", "My wife mixes her anxiety meds with wine. I'm worried sick "
	  "about what it's doing to her.", NULL, NULL, "substance",
	  "alcohol", NULL },
	{ "ayuda", "Después del turno nos vamos a chupar con las compañeras y "
	  "los domingos me tomo unas solita para la cruda. ¿Atienden en "
	  "español?", NULL, NULL, "substance", "alcohol self", NULL },
	{ "my sister", "My sister has been hooked on percocets for years. I "
	  "want to stop being her ATM without feeling like I'm abandoning "
	  "her.", NULL, NULL, "substance", "narcotics codependency family",
	  NULL },
	/* A grandmother's letter is personal mail sent to the wrong place. */
	{ "Thank you for the photographs", "My dear Helen,\n\nThank you for "
	  "the photographs of the baby. Your Uncle Ted has been at the "
	  "bottle again since Christmas.", NULL, NULL, "not-inquiry",
	  "misdirected", NULL },
	/* A former client coming back is an existing client. */
	{ "Starting therapy again?", "I saw you for a few months back in "
	  "spring 2025, and now the anxiety about classes has piled up "
	  "again. Do you still have openings?", NULL, NULL, "existing-client",
	  NULL, "urgent" },
	/* Trained in the Columbia protocol: an applicant's skill. */
	{ "Associate counselor", "I am trained in the Columbia suicide "
	  "severity protocol and in safety planning. My CV is available on "
	  "request.", NULL, NULL, "not-inquiry", "applicant", "urgent" },
	/* A professional's referral is an inquiry (test_shipped_referral). */
	{ "New patient", "Dear colleague, I would like to refer a patient of "
	  "mine, a teacher in her forties with panic attacks, for therapy. "
	  "Do you have capacity to see her this month?", NULL, NULL,
	  "individual", "anxiety", NULL },
	/* Not an inquiry. */
	{ "March newsletter", "Five tips for anxiety this spring.\n"
	  "Unsubscribe | View in browser", NULL, NULL, "not-inquiry",
	  "newsletter", "urgent" },
	{ "Grow your practice", "We help therapists fill their calendar. "
	  "Book a demo today!", NULL, NULL, "not-inquiry", "marketing",
	  NULL },
	{ "Opportunity", "We're hiring licensed therapists for a "
	  "part-time role, competitive pay.", NULL, NULL, "not-inquiry",
	  "recruiter", NULL },
	{ "Your remittance advice", "An Explanation of Benefits is "
	  "available in the provider portal.", NULL, NULL, "not-inquiry",
	  "insurance", NULL },
	{ "Rehab partners", "Our recovery center treats alcohol and opioid "
	  "addiction.", NULL, "List-Unsubscribe: <mailto:u@x.example>",
	  "not-inquiry", "bulk", NULL },
	/*
	 * 18-crisis-buried: danger and the ladder said in passing inside
	 * another kind of inquiry, and the everyday wordings they must leave
	 * alone.
	 */
	{ "couples", "We want couples counseling. Last week he pinned me "
	  "against the door with a kitchen knife in his hand.", NULL, NULL,
	  "crisis", "urgent violence", NULL },
	{ "session", "My ex keeps parking outside my apartment at night, can "
	  "we move to video?", NULL, NULL, "crisis", "urgent violence", NULL },
	{ "pareja", "Buscamos terapia de pareja. Anoche mi esposo me golpeó "
	  "otra vez.", NULL, NULL, "crisis", "urgent violence", NULL },
	{ "consulta", "Mi mamá murió en mayo y eso me pegó mucho. Quisiera "
	  "empezar terapia.", NULL, NULL, "individual", NULL, "urgent" },
	{ "mom", "My mother told me she'd be fine if she just didn't wake up "
	  "tomorrow.", NULL, NULL, "crisis", "urgent", NULL },
	{ "drinking", "I keep looking at the cabinet and thinking I could "
	  "take all of the pills tonight.", NULL, NULL, "crisis", "urgent",
	  NULL },
	{ "brother", "We found him slumped in the bathroom and gave him "
	  "Narcan before the ambulance came.", NULL, NULL, "crisis",
	  "urgent", NULL },
	{ "reschedule", "I wrote letters to each of the kids and left them "
	  "with the life insurance papers.", NULL, NULL, "crisis", "urgent",
	  NULL },
	{ "billing", "I'm tying up loose ends this week so nobody has to deal "
	  "with it after I'm gone.", NULL, NULL, "crisis", "urgent", NULL },
	{ "us", "He keeps a rifle in the closet and says I'll regret it if I "
	  "ever leave.", NULL, NULL, "crisis", "urgent violence", NULL },
	{ "hello", "Better for everyone if I don't wake up tomorrow, "
	  "honestly.", NULL, NULL, "crisis", "urgent", NULL },
	{ "question", "At night I line them up on the counter, the sleeping "
	  "pills I saved.", NULL, NULL, "crisis", "urgent", NULL },
	{ "anger", "I started keeping a knife in my car and I know where she "
	  "parks after her shift.", NULL, NULL, "crisis", "urgent", NULL },
	{ "softball", "I keep a bat in my trunk for softball and my temper "
	  "has been short at work.", NULL, NULL, "individual", NULL,
	  "urgent" },
	{ "consulta", "Ya sé cómo lo voy a hacer, no se preocupen.", NULL,
	  NULL, "crisis", "urgent", NULL },
	{ "invoice", "I updated my will and the passwords are in the drawer, "
	  "so you won't need to bill me after this month.", NULL, NULL,
	  "crisis", "urgent", NULL },
	{ "estate", "I updated my will last year with my lawyer and want to "
	  "talk about retirement stress.", NULL, NULL, "individual", NULL,
	  "urgent" },
	{ "garage", "Between classes I go up the parking garage and look over "
	  "the edge.", NULL, NULL, "crisis", "urgent", NULL },
	/*
	 * A promotion quoting crisis phrases, marked by a bulk-mail service
	 * rather than by List-* headers: not a person in crisis.
	 */
	{ "Webinar: when a client says it", "Join us Thursday: what to do "
	  "when a client says \"I want to kill myself\". Register now, earn "
	  "2 CE credits.", NULL, "X-MC-User: 5f2a9c0d1e", "not-inquiry",
	  "bulk", "urgent" },
	{ "Webinar: when a client says it", "Join us Thursday: what to do "
	  "when a client says \"I want to kill myself\". Register now, earn "
	  "2 CE credits.", NULL, "X-Mailer: Mailchimp Mailer - **CID7d1**",
	  "not-inquiry", NULL, "urgent" },
	/* Whose use it is: the writer's, a loved one's, or covering for one. */
	{ "drinking", "My wife is upset, and she is right: I finish a bottle "
	  "of wine most nights and hide the empties.", NULL, NULL,
	  "substance", "alcohol self", "family" },
	{ "my son", "My son is using pills again. I pay his rent and bailed "
	  "him out twice; I need to figure out my part in it.", NULL, NULL,
	  "substance", "narcotics family codependency", "self" },
	{ "husband", "Every Monday I call his boss to say he is sick. I clean "
	  "up the kitchen before the kids wake up; he drinks until 2am.",
	  NULL, NULL, "substance", "alcohol family codependency", "self" },
	/*
	 * 17-crisis-concepts: an act near its object, existence after "no
	 * point", rehearsing a fall, asking God to be taken; and the
	 * everyday wordings they must leave alone.
	 */
	{ "us", "We keep fighting and after he left I burned my wrist with a "
	  "cigarette. Do you see couples on Fridays?", NULL, NULL, "crisis",
	  "urgent self-harm", NULL },
	{ "couples", "My husband and I want couples counseling. I cut my "
	  "hand chopping onions tonight so typing is slow.", NULL, NULL,
	  "couples", NULL, "urgent" },
	{ "work", "Each morning on the bridge I look at the railing and work "
	  "out whether it is low enough.", NULL, NULL, "crisis", "urgent",
	  NULL },
	{ "son", "He told his aunt there is no point in being here anymore.",
	  NULL, NULL, "crisis", "urgent", NULL },
	{ "car", "There's no point in trying to fix the old car, so I sold "
	  "it and feel anxious about money.", NULL, NULL, "individual", NULL,
	  "urgent" },
	{ "consulta", "Le pido a Dios que ya me lleve, estoy muy cansada.",
	  NULL, NULL, "crisis", "urgent spanish", NULL },
	/*
	 * Stop 31: means kept while the treatment is stopped; and no crisis
	 * rule for a carer counting out a wife's pills, a joke about a
	 * deadline or "unalive" quoted as a word people use (the rules alone
	 * leave these to the default); drink slang.
	 */
	{ "Thursday appt", "Could we move Thursday? Also, I stopped taking "
	  "the sleeping pills weeks ago but I kept filling the prescription. "
	  "There's a good amount in the drawer now.", NULL, NULL, "crisis",
	  "urgent", NULL },
	{ "my wife", "My wife has taken lorazepam for six years. I keep the "
	  "bottle in my sock drawer and count them out for her, and I tell "
	  "our daughters she is \"just tired.\"", NULL, NULL, "individual",
	  NULL, "urgent" },
	{ "Re: receipts", "Could you re-send the receipts with the NPI? Greg "
	  "is going to kill me if I miss the Friday deadline again lol.",
	  NULL, NULL, "individual", NULL, "urgent" },
	{ "Interview request", "I'm a student writing about therapy-speak: "
	  "\"my toxic trait,\" \"gaslighting,\" \"unalive,\" etc. Could "
	  "we do a short interview?", NULL, NULL, "individual", NULL,
	  "urgent" },
	{ "my wife", "My wife has been hitting the sauce since her mother "
	  "died; she is sloshed by dinner most nights.", NULL, NULL,
	  "substance", "alcohol family", "urgent" },
	/* Topics of their own, so the model's guess does not stand in. */
	{ "retirement", "I retired from the fire department after 31 years "
	  "and I don't know who I am anymore.", NULL, NULL, "individual",
	  "life-change", NULL },
	{ "therapy inquiry", "I think I have a porn problem.", NULL, NULL,
	  "individual", "compulsive", NULL },
	/* The ladder inside one's own use (11-crisis-in-use.rules), and the
	 * look-alikes that are no crisis. */
	{ "therapy", "I keep a stash of pills for when I decide I'm done. "
	  "Mostly I want help with my cocaine use though.", NULL, NULL,
	  "crisis", "urgent", NULL },
	{ "therapy", "I put aside some money for the day I finally decide to "
	  "get help, and I think that day is now. I drink too much.", NULL,
	  NULL, "individual", NULL, "urgent" },
	{ "need help", "I'm detoxing from alcohol on my own and I had a "
	  "seizure this morning. Can you help me quit?", NULL, NULL,
	  "crisis", "urgent", NULL },
	{ "quitting", "I want to quit drinking but I've read you can have "
	  "seizures if you stop cold turkey, so I'm seeing my doctor about "
	  "a medical detox.", NULL, NULL, "substance", "alcohol", "urgent" },
	{ "couples therapy", "My boyfriend drinks and drives with our baby "
	  "in the car and says I'm overreacting.", NULL, NULL, "crisis",
	  "urgent", NULL },
	{ "drinking", "Drinking a lot lately. Tonight I've got the bottle and "
	  "my husband's revolver on the table.", NULL, NULL, "crisis",
	  "urgent", NULL },
	{ "help", "idk what to do, my friend sent me her passwords and said "
	  "take care of her cat just in case. she won't answer.", NULL, NULL,
	  "crisis", "urgent", NULL },
	{ "us", "She ended the affair and has been really open since, gave me "
	  "her passwords. We want couples counseling to rebuild trust.",
	  NULL, NULL, "couples", NULL, "urgent" },
	/* Joining the dead, a future cut short (19-crisis-understated.rules). */
	{ "grief", "My husband died in March. On his birthday next month I "
	  "plan to be with him.", NULL, NULL, "crisis", "urgent", NULL },
	{ "grief", "My father-in-law died last month. I want to be with him "
	  "through this, my husband is taking it so hard. I'm anxious all "
	  "the time.", NULL, NULL, "individual", NULL, "urgent" },
	{ "idk", "gonna be honest i dont think ill make it to graduation. not "
	  "in a dramatic way, just a fact.", NULL, NULL, "crisis", "urgent",
	  NULL },
	{ "anxiety", "I doubt I'll be around for Thanksgiving because we're "
	  "traveling, but I'd like to start therapy for my anxiety after.",
	  NULL, NULL, "individual", NULL, "urgent" },
};

#define NINQUIRIES	(sizeof inquiries / sizeof inquiries[0])

/* Does every word of list satisfy (present == want) in v? */
static int
tags_ok(const struct verdict *v, const char *list, int want)
{
	char	*copy, *w, *save;
	int	 ok = 1;

	if (list == NULL)
		return (1);
	copy = xstrdup(list);
	for (w = strtok_r(copy, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save))
		if (verdict_has_tag(v, w) != want)
			ok = 0;
	free(copy);
	return (ok);
}

/*
 * The shipped rules alone (without triage.model, whose opinion the
 * accuracy test measures on whole messages) sort these one-liners.
 */
static void
test_shipped_inquiries(void **state)
{
	struct ruleset		*rs;
	const struct inquiry	*q;
	struct tmsg		 t;
	struct verdict		 v;
	struct buf		 tags;
	char			*hname, *colon;
	size_t			 i, j, bad = 0;

	rules_skip_model(1);
	rs = load_ok(SHIPPED);
	rules_skip_model(0);
	assert_true(NINQUIRIES >= 40);
	for (i = 0; i < NINQUIRIES; i++) {
		q = &inquiries[i];
		tmsg_init(&t, q->subject, q->body, q->quoted);
		hname = NULL;
		if (q->header != NULL) {
			hname = xstrdup(q->header);
			colon = strchr(hname, ':');
			*colon = '\0';
			tmsg_header(&t, hname, colon + 2);
		}
		rules_classify(rs, &t.m, &v);
		if (strcmp(v.category, q->category) != 0 ||
		    !tags_ok(&v, q->tags, 1) || !tags_ok(&v, q->notags, 0)) {
			buf_init(&tags, 0);
			for (j = 0; j < v.ntags; j++)
				buf_printf(&tags, " %s", v.tags[j]);
			print_error("inquiry %zu \"%s\": expected %s {%s} "
			    "without {%s}, got %s {%s }\n", i, q->body,
			    q->category, q->tags ? q->tags : "",
			    q->notags ? q->notags : "", v.category,
			    buf_str(&tags));
			buf_free(&tags);
			bad++;
		}
		verdict_free(&v);
		free(hname);
	}
	rules_free(rs);
	assert_int_equal(bad, 0);
}

/*
 * A web form or directory relay marks its mail auto-generated but carries
 * a person's words and their Reply-To: crisis words count in full, and the
 * inquiry is not taken for a program's notice. An out-of-office reply
 * (auto-replied) that names 988 is not a crisis.
 */
/* The category of body under Auto-Submitted: auto, with reply_to or not. */
static void
expect_auto(const struct ruleset *rs, const char *body, const char *autos,
    const char *reply_to, const char *category)
{
	struct tmsg	 t;
	struct verdict	 v;

	tmsg_init(&t, "New message", body, NULL);
	tmsg_header(&t, "Auto-Submitted", autos);
	if (reply_to != NULL)
		tmsg_header(&t, "Reply-To", reply_to);
	rules_classify(rs, &t.m, &v);
	assert_string_equal(v.category, category);
	verdict_free(&v);
}

static void
test_relay_words_count(void **state)
{
	struct ruleset	*rs;

	rules_skip_model(1);
	rs = load_ok(SHIPPED);
	rules_skip_model(0);
	expect_auto(rs, "Message: I want to kill myself and I do not know who "
	    "else to write to.", "auto-generated", "writer@mail.example",
	    "crisis");
	expect_auto(rs, "Message: my wife and I would like to start couples "
	    "counseling.", "auto-generated", "writer@mail.example", "couples");
	expect_auto(rs, "Your monthly statement is ready in the portal.",
	    "auto-generated", NULL, "not-inquiry");
	expect_auto(rs, "I am away until Monday. If you are in crisis, call or "
	    "text 988. I want to kill myself is never something to keep to "
	    "yourself.", "auto-replied", NULL, "not-inquiry");
	rules_free(rs);
}

/*
 * A forwarded goodbye is read by the crisis rules ("forwarded"); the same
 * words in quoted reply history are not (the practice's own footer sits
 * there).
 */
static void
test_forwarded_read(void **state)
{
	struct ruleset	*rs;
	struct tmsg	 t;
	struct verdict	 v;

	rules_skip_model(1);
	rs = load_ok(SHIPPED);
	rules_skip_model(0);
	tmsg_init(&t, "Fwd: my coworker", "He posted this and deleted it:",
	    "Begin forwarded message:\nI want to kill myself tonight.");
	t.m.forwarded = (char *)(uintptr_t)"I want to kill myself tonight.";
	rules_classify(rs, &t.m, &v);
	assert_string_equal(v.category, "crisis");
	verdict_free(&v);
	tmsg_init(&t, "Re: your inquiry", "Thanks, Tuesday works.",
	    "On Mon, Harbor wrote:\n> If you want to kill yourself, call "
	    "988.");
	rules_classify(rs, &t.m, &v);
	assert_string_not_equal(v.category, "crisis");
	verdict_free(&v);
	rules_free(rs);
}

/*
 * "choose self family" with the shipped model: whose drinking it is,
 * picked from the words where the rules set either tag.
 */
static void
test_shipped_model_picks(void **state)
{
	static const struct {
		const char	*body, *want, *unwanted;
	} cases[] = {
		{ "My husband keeps saying I drink too much. Lately I finish "
		  "a bottle of wine most nights after the kids are asleep and "
		  "I want to get a handle on it.", "self", "family" },
		/* A brother is named, but he only started the writer's use. */
		{ "My brother got me into coke at parties and now I do it "
		  "alone on weeknights.", "self", "family" },
		{ "My husband drinks a bottle of wine most nights after the "
		  "kids are asleep and I don't know how to talk to him about "
		  "it.", "family", "self" },
	};
	struct ruleset	*rs;
	struct tmsg	 t;
	struct verdict	 v;
	size_t		 i;

	rs = load_ok(SHIPPED);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tmsg_init(&t, "question", cases[i].body, NULL);
		rules_classify(rs, &t.m, &v);
		assert_string_equal(v.category, "substance");
		assert_true(verdict_has_tag(&v, cases[i].want));
		assert_false(verdict_has_tag(&v, cases[i].unwanted));
		verdict_free(&v);
	}
	/*
	 * Both drink, and the writer says so: one rule sets self and family
	 * together, and the model's pick leaves both.
	 */
	tmsg_init(&t, "question", "My husband and I have been each other's "
	    "drinking buddy for thirty years, and now it is a bottle of red "
	    "every afternoon. I want to cut back; he doesn't.", NULL);
	rules_classify(rs, &t.m, &v);
	assert_string_equal(v.category, "substance");
	assert_true(verdict_has_tag(&v, "self"));
	assert_true(verdict_has_tag(&v, "family"));
	verdict_free(&v);
	explains(rs, &t.m, "tags: rule substance-both-use sets a choose group "
	    "whole, so the model's pick leaves its tags");
	rules_free(rs);
}

/*
 * "fill substance with alcohol narcotics" with the shipped model: where
 * no rule names the substance, the model adds the one it is sure of; a
 * verdict of another category gets none.
 */
static void
test_shipped_model_fills(void **state)
{
	struct ruleset	*rs;
	struct tmsg	 t;
	struct verdict	 v;

	rs = load_ok(SHIPPED);
	tmsg_init(&t, "question", "My brother has a problem with what he "
	    "buys from a guy downtown. He disappears for days and comes back "
	    "gray and shaking. We want to help him get clean.", NULL);
	rules_classify(rs, &t.m, &v);
	assert_string_equal(v.category, "substance");
	assert_true(verdict_has_tag(&v, "narcotics"));
	assert_false(verdict_has_tag(&v, "alcohol"));
	verdict_free(&v);
	explains(rs, &t.m, "tags: no rule set alcohol or another tag of its "
	    "fill line, so the model's pick, narcotics, is added");
	/* A rule that sets both tags of a fill line is no choose group. */
	tmsg_init(&t, "question", "My wife is mixing her xanax with wine "
	    "every night.", NULL);
	lacks(rs, &t.m, "sets a choose group whole");
	/* A rule named the drink: the model adds nothing beside it. */
	tmsg_init(&t, "question", "My wife has been hitting the sauce since "
	    "her mother died; she is sloshed by dinner most nights.", NULL);
	rules_classify(rs, &t.m, &v);
	assert_string_equal(v.category, "substance");
	assert_true(verdict_has_tag(&v, "alcohol"));
	assert_false(verdict_has_tag(&v, "narcotics"));
	verdict_free(&v);
	/*
	 * Not a substance verdict: nothing is filled in, though the model
	 * picks narcotics for these words.
	 */
	tmsg_init(&t, "question", "I took all of my sleeping pills an hour "
	    "ago. I am so tired of everything.", NULL);
	rules_classify(rs, &t.m, &v);
	assert_string_equal(v.category, "crisis");
	assert_false(verdict_has_tag(&v, "narcotics"));
	assert_false(verdict_has_tag(&v, "alcohol"));
	verdict_free(&v);
	explains(rs, &t.m, "model, of alcohol or narcotics: narcotics");
	rules_free(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_files),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_missing_dir),
		cmocka_unit_test(test_odd_bytes),
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_multiple_fields),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_words_and_evidence),
		cmocka_unit_test(test_top_matches),
		cmocka_unit_test(test_model_evidence),
		cmocka_unit_test(test_asserted),
		cmocka_unit_test(test_forwarded_read),
		cmocka_unit_test(test_relay_words_count),
		cmocka_unit_test(test_shipped_model_picks),
		cmocka_unit_test(test_shipped_model_fills),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_shared_conditions),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_shipped_clean),
		cmocka_unit_test(test_shipped_referral),
		cmocka_unit_test(test_shipped_inquiries),
	};

	log_init(LOG_LEVEL_WARN, 0);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
