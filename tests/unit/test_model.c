/*
 * model: features, training, the written file read back, the opinion and
 * its evidence, the words --explain shows, and bad model files.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

#include "diag.h"
#include "log.h"
#include "model.h"
#include "xmalloc.h"

/* A parsed message with this subject and body. */
static struct msg *
mk(const char *subject, const char *body, const char *extra)
{
	char		*raw;
	struct msg	*m;

	raw = xasprintf("From: a@example.org\nTo: b@example.org\n%sSubject: "
	    "%s\n\n%s\n", extra, subject, body);
	m = mime_parse(raw, strlen(raw), NULL);
	free(raw);
	return (m);
}

/* The features of a message built from its parts; caller frees. */
static char *
features(const char *subject, const char *body, const char *extra)
{
	struct msg	*m = mk(subject, body, extra);
	char		*f = model_features(m);

	msg_free(m);
	return (f);
}

static void
test_features(void **state)
{
	char	*f;

	f = features("Hi", "I can't SLEEP, ¿qué hago? 💀", "");
	/* Lower case, apostrophes dropped, any script, pairs, sorted. */
	assert_string_equal(f, "cant cant_sleep hago hago_💀 hi hi_i i "
	    "i_cant qué qué_hago sleep sleep_qué 💀");
	free(f);
	/* Stems: one word for its forms. */
	f = features("", "Overdosed, overdosing: an overdose", "");
	assert_string_equal(f, "an an_overdos overdos overdos_an "
	    "overdos_overdos");
	free(f);
	f = features("News", "hello",
	    "List-Unsubscribe: <mailto:x@example.org>\n");
	assert_non_null(strstr(f, "h:list"));
	free(f);
}

/* Train on a few messages per category, write, read back, judge. */
static void
test_train_and_judge(void **state)
{
	static const char *couples[] = { "my husband and i fight all the time",
	    "we want to see someone together about our marriage",
	    "my wife and i keep arguing about money" };
	static const char *bills[] = { "can i get a receipt for last session",
	    "my card was charged twice for the session",
	    "please send a superbill for october sessions" };
	static char *rule[] = { "r:billing" };
	struct model_train	*t;
	struct model_opinion	 op;
	struct model		*md;
	struct diag		 d;
	struct msg		*m;
	struct buf		 ex;
	char			 path[] = "/tmp/test_model.XXXXXX", *cause = NULL;
	size_t			 i;
	int			 fd;

	t = model_train_new();
	for (i = 0; i < 3; i++) {
		m = mk("hello", couples[i], "");
		model_train_add(t, m, NULL, 0, "couples", NULL, 0);
		msg_free(m);
		/* The rule that matched is a feature like a word. */
		m = mk("hello", bills[i], "");
		model_train_add(t, m, rule, 1, "existing-client", NULL, 0);
		msg_free(m);
	}
	assert_true((fd = mkstemp(path)) != -1);
	close(fd);
	assert_int_equal(model_train_write(t, path, NULL, &cause), 0);
	model_train_free(t);

	diag_init(&d);
	md = model_load(path, &d);
	assert_int_equal(d.nerrors, 0);
	assert_non_null(md);
	assert_int_equal(model_ncats(md), 2);

	m = mk("question", "my husband and i fight about money", "");
	buf_init(&ex, 0);
	model_judge(md, m, NULL, 0, &op, &ex);
	assert_string_equal(model_cat(md, (size_t)op.cat), "couples");
	assert_true(op.prob > 0.5);
	assert_non_null(strstr(buf_str(&ex), "model: couples"));
	assert_non_null(strstr(buf_str(&ex), "strongest words:"));
	buf_free(&ex);
	msg_free(m);

	/* The rule feature alone tips a message with no known words. */
	m = mk("zzz", "qqq", "");
	model_judge(md, m, rule, 1, &op, NULL);
	assert_string_equal(model_cat(md, (size_t)op.cat), "existing-client");
	msg_free(m);

	m = mk("receipt", "a receipt for my last session please", "");
	model_judge(md, m, rule, 1, &op, NULL);
	assert_string_equal(model_cat(md, (size_t)op.cat), "existing-client");
	/* 0.60: the confidence that train writes. */
	assert_true(op.evidence == 0 || op.prob >= 0.60);
	assert_int_equal(op.of[op.cat], op.evidence);
	msg_free(m);

	/* Words it never saw say nothing: the prior decides, no evidence. */
	m = mk("zzz", "qqq", "");
	model_judge(md, m, NULL, 0, &op, NULL);
	assert_int_equal(op.evidence, 0);
	assert_int_equal(op.of[0], 0);
	assert_int_equal(op.of[1], 0);
	msg_free(m);
	model_free(md);
	diag_free(&d);
	unlink(path);
}

/* Write a small model file with these lines after the magic. */
static void
write_model(const char *path, const char *lines)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "triaged-model 4\n%s", lines);
	fclose(fp);
}

/*
 * Recall-first: the named category gets the evidence from its own lower
 * bar; a confident model takes the points from the improbable categories,
 * never from the recall-first one.
 */
static void
test_recall_and_against(void **state)
{
	struct model_opinion	 op;
	struct model		*md;
	struct diag		 d;
	struct msg		*m;
	struct buf		 ex;
	char			 path[] = "/tmp/test_model.XXXXXX";
	int			 fd;

	assert_true((fd = mkstemp(path)) != -1);
	close(fd);
	diag_init(&d);
	/*
	 * "sad": crisis 3 of 10 (p ~ 0.39 after the prior and smoothing),
	 * individual 5; "money": billing.
	 */
	write_model(path, "evidence 10 0.90\nrecall crisis 0.30\n"
	    "against 0.05\nbesides 0.05\nfallback 0.5\ncategory crisis 10 20\n"
	    "category individual 10 20\n"
	    "category billing 10 100\nf sad 3 5 0\nf money 0 0 99\n");
	md = model_load(path, &d);
	assert_int_equal(d.nerrors, 0);
	assert_non_null(md);

	m = mk("sad", "", "");
	buf_init(&ex, 0);
	model_judge(md, m, NULL, 0, &op, &ex);
	assert_string_equal(model_cat(md, (size_t)op.cat), "crisis");
	assert_true(op.prob >= 0.30 && op.prob < 0.90);
	assert_int_equal(op.of[0], 10);
	assert_int_equal(op.of[1], 0);
	assert_int_equal(op.of[2], 0);
	assert_non_null(strstr(buf_str(&ex), "recall-first"));
	/* Besides crisis it reads as individual (5 of 10 "sad"). */
	assert_string_equal(model_cat(md, (size_t)op.besides), "individual");
	/*
	 * Its own choice is individual, which would stand where no rule
	 * carried a category; the recall vote carries crisis here anyway.
	 */
	assert_string_equal(model_cat(md, (size_t)op.fallback), "individual");
	assert_non_null(strstr(buf_str(&ex), "besides crisis, it reads as "
	    "individual"));
	buf_free(&ex);
	msg_free(m);

	/* Confident for billing: against individual, never against crisis. */
	m = mk("money", "", "");
	model_judge(md, m, NULL, 0, &op, NULL);
	assert_string_equal(model_cat(md, (size_t)op.cat), "billing");
	assert_string_equal(model_cat(md, (size_t)op.fallback), "billing");
	assert_int_equal(op.of[2], 10);
	assert_int_equal(op.of[1], -10);
	assert_int_equal(op.of[0], 0);
	msg_free(m);
	model_free(md);

	/*
	 * Its own bar wins over another category's confidence: "low" reads
	 * as individual (about 0.69, over the 0.60 bar) and as crisis (about
	 * 0.31, over crisis's 0.20): the vote is crisis's, and nothing
	 * speaks for individual. When unsure, crisis.
	 */
	write_model(path, "evidence 10 0.60\nrecall crisis 0.20\n"
	    "category crisis 10 20\ncategory individual 10 20\n"
	    "f low 3 8\n");
	md = model_load(path, &d);
	assert_non_null(md);
	m = mk("low", "", "");
	model_judge(md, m, NULL, 0, &op, NULL);
	assert_string_equal(model_cat(md, (size_t)op.cat), "crisis");
	assert_true(op.prob >= 0.20 && op.prob < 0.40);
	assert_int_equal(op.recall, 1);
	assert_int_equal(op.of[0], 10);
	assert_int_equal(op.of[1], 0);
	msg_free(m);
	model_free(md);

	/* A recall category the model does not have is an error. */
	write_model(path, "recall urgent 0.3\ncategory a 1 1\n"
	    "category b 1 1\n");
	assert_null(model_load(path, &d));
	assert_int_equal(d.nerrors, 1);
	/* Out of range, with the rule in the message. */
	write_model(path, "against 0.7\ncategory a 1 1\ncategory b 1 1\n");
	assert_null(model_load(path, &d));
	assert_int_equal(d.nerrors, 2);
	assert_non_null(strstr(d.items[1].msg, "against"));
	assert_non_null(strstr(d.items[1].loc, ":2:"));
	write_model(path, "besides 1.5\ncategory a 1 1\ncategory b 1 1\n");
	assert_null(model_load(path, &d));
	assert_int_equal(d.nerrors, 3);
	assert_non_null(strstr(d.items[2].msg, "besides"));
	write_model(path, "fallback -1\ncategory a 1 1\ncategory b 1 1\n");
	assert_null(model_load(path, &d));
	assert_int_equal(d.nerrors, 4);
	assert_non_null(strstr(d.items[3].msg, "fallback"));
	unlink(path);
	diag_free(&d);
}

/* p(crisis) of a message "sad" under a model of two categories. */
static double
judge_alone(const char *path, const char *tuning, struct model_opinion *op)
{
	struct model	*md;
	struct diag	 d;
	struct msg	*m;
	char		*lines;
	double		 p;

	diag_init(&d);
	lines = xasprintf("%scategory crisis 10 20\ncategory individual 10 20\n"
	    "f sad 6 2\n", tuning);
	write_model(path, lines);
	free(lines);
	md = model_load(path, &d);
	assert_int_equal(d.nerrors, 0);
	assert_non_null(md);
	m = mk("sad", "", "");
	model_judge(md, m, NULL, 0, op, NULL);
	p = op->cat == 0 ? op->prob : 1 - op->prob;
	msg_free(m);
	model_free(md);
	diag_free(&d);
	return (p);
}

/*
 * window: a crisis said in a few words of a long note about something
 * else is outvoted in the whole message, not in its own window of words;
 * the window vote gives the recall-first category its points, and
 * --explain says which words. Without the line (older files) no window.
 */
static void
test_window(void **state)
{
	static const char *const model =
	    "evidence 10 0.60\nrecall crisis 0.30\nbesides 0.05\n"
	    "kind complement\n"
	    "category crisis 10 200\ncategory billing 10 200\n"
	    "category individual 10 200\n"
	    "f invoic 0 60 0\nf receipt 0 60 0\nf copay 0 60 0\n"
	    "f card 0 60 0\nf rope 60 0 0\nf goodby 60 0 0\n"
	    "f tire 2 2 20\n";
	static const char *const note = "invoice receipt copay card invoice "
	    "receipt copay card rope goodbye invoice receipt copay card "
	    "invoice receipt copay card";
	struct model_opinion	 op;
	struct model		*md;
	struct diag		 d;
	struct msg		*m;
	struct buf		 ex;
	char			 path[] = "/tmp/test_model.XXXXXX";
	char			*lines;
	int			 fd;

	assert_true((fd = mkstemp(path)) != -1);
	close(fd);
	diag_init(&d);
	m = mk("", note, "");

	/* No window line: the billing words carry the whole note. */
	write_model(path, model);
	assert_non_null(md = model_load(path, &d));
	model_judge(md, m, NULL, 0, &op, NULL);
	assert_string_equal(model_cat(md, (size_t)op.cat), "billing");
	assert_int_equal(op.recall, 0);
	model_free(md);

	/* A window of two words finds "rope goodbye" (words 9 and 10). */
	lines = xasprintf("window 2 0.90\n%s", model);
	write_model(path, lines);
	free(lines);
	assert_non_null(md = model_load(path, &d));
	buf_init(&ex, 0);
	model_judge(md, m, NULL, 0, &op, &ex);
	assert_string_equal(model_cat(md, (size_t)op.cat), "crisis");
	assert_int_equal(op.recall, 2);
	assert_int_equal(op.of[0], 10);
	assert_non_null(strstr(buf_str(&ex), "words 9 to 10 of the subject and "
	    "text read as crisis"));
	/* What else it is: billing, for the outranked tag. */
	assert_string_equal(model_cat(md, (size_t)op.besides), "billing");
	buf_free(&ex);
	msg_free(m);

	/* A note without them stays billing under the same window. */
	m = mk("", "invoice receipt copay card tired invoice receipt", "");
	model_judge(md, m, NULL, 0, &op, NULL);
	assert_string_equal(model_cat(md, (size_t)op.cat), "billing");
	assert_int_equal(op.recall, 0);
	msg_free(m);
	model_free(md);

	/* Window 0 is off; a bad line names the keyword and the line. */
	lines = xasprintf("window 0 0.90\n%s", model);
	write_model(path, lines);
	free(lines);
	assert_non_null(md = model_load(path, &d));
	m = mk("", note, "");
	model_judge(md, m, NULL, 0, &op, NULL);
	assert_int_equal(op.recall, 0);
	msg_free(m);
	model_free(md);
	assert_int_equal(d.nerrors, 0);
	write_model(path, "window 4 0.3\ncategory a 1 1\ncategory b 1 1\n");
	assert_null(model_load(path, &d));
	write_model(path, "category a 1 1\nwindow 2.5 0.9\ncategory b 1 1\n");
	assert_null(model_load(path, &d));
	write_model(path, "window 20\ncategory a 1 1\ncategory b 1 1\n");
	assert_null(model_load(path, &d));
	assert_int_equal(d.nerrors, 3);
	assert_non_null(strstr(d.items[0].msg, "window"));
	assert_non_null(strstr(d.items[0].loc, ":2:"));
	assert_non_null(strstr(d.items[1].loc, ":3:"));
	unlink(path);
	diag_free(&d);
}

/*
 * Naive Bayes sums every word as if independent, so its posteriors sit
 * near 0 or 1: the temperature softens them without changing the order,
 * and a smaller pseudo-count lets a word seen in one category count for
 * more. The recall-first category gets points from its own bar alone,
 * even when it is the confident favourite.
 */
static void
test_smoothing_and_temperature(void **state)
{
	struct model_opinion	 op;
	struct diag		 d;
	char			 path[] = "/tmp/test_model.XXXXXX";
	double			 add_one, warm, sharp;
	int			 fd;

	assert_true((fd = mkstemp(path)) != -1);
	close(fd);
	/* Without the lines: add-one, undivided; 7/22 against 3/22. */
	add_one = judge_alone(path, "evidence 10 0.60\n", &op);
	assert_true(fabs(add_one - 0.7) < 1e-9);
	assert_int_equal(op.of[0], 10);
	warm = judge_alone(path, "evidence 10 0.60\ntemperature 5\n", &op);
	assert_true(warm > 0.5 && warm < add_one);
	assert_int_equal(op.of[0], 0);
	sharp = judge_alone(path, "evidence 10 0.60\nsmoothing 0.1\n", &op);
	assert_true(sharp > add_one);

	/* Confident for crisis, but its own bar is higher: no points. */
	(void)judge_alone(path, "evidence 10 0.60\nrecall crisis 0.95\n", &op);
	assert_int_equal(op.evidence, 0);
	assert_int_equal(op.of[0], 0);
	assert_int_equal(op.of[1], 0);
	(void)judge_alone(path, "evidence 10 0.60\nrecall crisis 0.65\n", &op);
	assert_int_equal(op.of[0], 10);

	/* Out of range: an error naming the line and the keyword. */
	diag_init(&d);
	write_model(path, "temperature 0.5\ncategory a 1 1\ncategory b 1 1\n");
	assert_null(model_load(path, &d));
	write_model(path, "category a 1 1\ncategory b 1 1\nsmoothing 0\n");
	assert_null(model_load(path, &d));
	assert_int_equal(d.nerrors, 2);
	assert_non_null(strstr(d.items[0].msg, "temperature"));
	assert_non_null(strstr(d.items[0].loc, ":2:"));
	assert_non_null(strstr(d.items[1].msg, "smoothing"));
	assert_non_null(strstr(d.items[1].loc, ":4:"));
	diag_free(&d);
	unlink(path);
}

/*
 * kind complement: a category's weight is the negated log likelihood of
 * the other categories' mail (their counts and tokens summed); the line
 * is checked like the others.
 */
static void
test_complement(void **state)
{
	struct model_opinion	 op;
	struct model		*md;
	struct diag		 d;
	struct msg		*m;
	char			 path[] = "/tmp/test_model.XXXXXX";
	double			 wa, wb, wc, want;
	int			 fd;

	assert_true((fd = mkstemp(path)) != -1);
	close(fd);
	diag_init(&d);
	write_model(path, "kind complement\nsmoothing 1\nevidence 10 0.60\n"
	    "category a 10 1000\ncategory b 10 10\ncategory c 10 10\n"
	    "f w 50 1 0\n");
	md = model_load(path, &d);
	assert_int_equal(d.nerrors, 0);
	assert_non_null(md);
	m = mk("w", "", "");
	model_judge(md, m, NULL, 0, &op, NULL);
	/* One feature, so V + 1 = 2 in each denominator. */
	wa = -log((1 + 0 + 1.0) / (20 + 2.0));
	wb = -log((50 + 0 + 1.0) / (1010 + 2.0));
	wc = -log((50 + 1 + 1.0) / (1010 + 2.0));
	want = exp(wb) / (exp(wa) + exp(wb) + exp(wc));
	assert_string_equal(model_cat(md, (size_t)op.cat), "b");
	assert_true(fabs(op.prob - want) < 1e-9);
	msg_free(m);
	model_free(md);
	/* The same counts read plainly: P(w | b) = 2/12 is the largest. */
	write_model(path, "kind plain\nsmoothing 1\nevidence 10 0.60\n"
	    "category a 10 1000\ncategory b 10 10\ncategory c 10 10\n"
	    "f w 50 1 0\n");
	md = model_load(path, &d);
	assert_non_null(md);
	m = mk("w", "", "");
	model_judge(md, m, NULL, 0, &op, NULL);
	want = (2 / 12.0) / (51 / 1002.0 + 2 / 12.0 + 1 / 12.0);
	assert_true(fabs(op.prob - want) < 1e-9);
	msg_free(m);
	model_free(md);
	write_model(path, "category a 1 1\ncategory b 1 1\nkind fancy\n");
	assert_null(model_load(path, &d));
	assert_int_equal(d.nerrors, 1);
	assert_non_null(strstr(d.items[0].msg, "kind"));
	assert_non_null(strstr(d.items[0].loc, ":4:"));
	diag_free(&d);
	unlink(path);
}

/* A tag list holding name alone, as the rules leave it. */
static char **
one_tag(const char *name, size_t *n)
{
	char	**list;

	list = xcalloc(1, sizeof *list);
	list[0] = xstrdup(name);
	*n = 1;
	return (list);
}

/* Count the tags of list equal to name. */
static size_t
tag_count(char **list, size_t n, const char *name)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++)
		k += strcmp(list[i], name) == 0;
	return (k);
}

/* Set the pick line of a model file train wrote ("pick 0.95"). */
static void
set_pick(const char *path, const char *value)
{
	FILE	*fp;
	char	 buf[65536], *at;
	size_t	 n;

	assert_non_null(fp = fopen(path, "r"));
	n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	assert_non_null(at = strstr(buf, "\npick 0.95\n"));
	memcpy(at + 6, value, 4);
	assert_non_null(fp = fopen(path, "w"));
	fwrite(buf, 1, n, fp);
	fclose(fp);
}

/*
 * A choose group: learned from the labels with one tag of it, written as
 * tag lines, read back, picked by the words, and applied only where the
 * rules set a tag of the group.
 */
static void
test_choose_tags(void **state)
{
	static const char *own[] = { "i drink a bottle of wine every night",
	    "i have been drinking alone after work and i hide it",
	    "i can't stop drinking on weekends" };
	static const char *hers[] = { "my husband drinks every night",
	    "my son is drinking again and lies to us",
	    "my mother hides her drinking from us" };
	static const char *group[] = { "self", "family" };
	static char *lab_self[] = { "alcohol", "self" };
	static char *lab_fam[] = { "alcohol", "family" };
	static char *lab_both[] = { "self", "family" };
	static char *lab_twice[] = { "self", "self" };
	struct model_train	*t;
	struct model_opinion	 op;
	struct model		*md;
	struct diag		 d;
	struct msg		*m;
	struct buf		 ex;
	char			 path[] = "/tmp/test_model.XXXXXX", *cause = NULL;
	char			**tags;
	size_t			 i, ntags;
	int			 fd;
	FILE			*fp;
	char			 line[256];
	int			 seen = 0;

	t = model_train_new();
	assert_int_equal(model_train_choose(t, group, 2), 0);
	/* A tag in two groups, or a group of one, is refused. */
	assert_int_equal(model_train_choose(t, group, 1), -1);
	assert_int_equal(model_train_choose(t, group + 1, 1), -1);
	for (i = 0; i < 3; i++) {
		m = mk("hello", own[i], "");
		model_train_add(t, m, NULL, 0, "substance", lab_self, 2);
		msg_free(m);
		m = mk("hello", hers[i], "");
		model_train_add(t, m, NULL, 0, "substance", lab_fam, 2);
		msg_free(m);
	}
	/* Both tags of the group teach it nothing. */
	m = mk("hello", "zebra zebra", "");
	model_train_add(t, m, NULL, 0, "individual", lab_both, 2);
	msg_free(m);
	assert_true((fd = mkstemp(path)) != -1);
	close(fd);
	assert_int_equal(model_train_write(t, path, NULL, &cause), 0);
	model_train_free(t);
	assert_non_null(fp = fopen(path, "r"));
	while (fgets(line, sizeof line, fp) != NULL) {
		seen += strncmp(line, "tag self 1 3 ", 13) == 0;
		seen += strncmp(line, "tag family 1 3 ", 15) == 0;
		/* zebra was seen in one message: below the minimum count. */
		assert_null(strstr(line, "zebra"));
	}
	fclose(fp);
	assert_int_equal(seen, 2);

	diag_init(&d);
	assert_non_null(md = model_load(path, &d));
	assert_int_equal(d.nerrors, 0);
	assert_true(model_has_group(md, group, 2));
	assert_false(model_has_group(md, group, 1));

	/*
	 * Six messages make no sure model: at the bar train writes (0.95)
	 * it picks nothing and the rules' own tag stays.
	 */
	m = mk("question", "i drink every night and i hide it", "");
	model_judge(md, m, NULL, 0, &op, NULL);
	assert_int_equal(op.picked[0], 0);
	assert_int_equal(op.picked[1], 0);
	model_free(md);
	set_pick(path, "0.60");
	assert_non_null(md = model_load(path, &d));
	assert_int_equal(d.nerrors, 0);

	/* At 0.60, the words of the writer's own drinking pick self. */
	buf_init(&ex, 0);
	model_judge(md, m, NULL, 0, &op, &ex);
	assert_int_equal(op.picked[0], 1);
	assert_int_equal(op.picked[1], -1);
	assert_non_null(strstr(buf_str(&ex), "model, of self or family: "
	    "self"));
	buf_free(&ex);
	msg_free(m);

	/* The rules said both: the pick leaves one. */
	tags = xcalloc(3, sizeof *tags);
	tags[0] = xstrdup("family");
	tags[1] = xstrdup("alcohol");
	tags[2] = xstrdup("self");
	ntags = 3;
	model_apply_picks(md, &op, 0, &tags, &ntags);
	assert_int_equal(ntags, 2);
	assert_int_equal(tag_count(tags, ntags, "self"), 1);
	assert_int_equal(tag_count(tags, ntags, "family"), 0);
	assert_int_equal(tag_count(tags, ntags, "alcohol"), 1);
	xfreev(tags, ntags);

	/*
	 * One rule set both tags of the group ("we both drink"): they stay
	 * whatever the model picked. Tags of two groups or of none say
	 * nothing whole.
	 */
	assert_int_equal(model_groups_whole(md, lab_both, 2), 1UL << 1);
	assert_int_equal(model_groups_whole(md, lab_both, 1), 0);
	assert_int_equal(model_groups_whole(NULL, lab_both, 2), 0);
	assert_int_equal(model_groups_whole(md, lab_twice, 2), 0);
	tags = xcalloc(3, sizeof *tags);
	tags[0] = xstrdup("family");
	tags[1] = xstrdup("alcohol");
	tags[2] = xstrdup("self");
	ntags = 3;
	model_apply_picks(md, &op, model_groups_whole(md, lab_both, 2), &tags,
	    &ntags);
	assert_int_equal(ntags, 3);
	assert_int_equal(tag_count(tags, ntags, "self"), 1);
	assert_int_equal(tag_count(tags, ntags, "family"), 1);
	xfreev(tags, ntags);

	/* Rules that set no tag of the group get none from the model. */
	tags = one_tag("urgent", &ntags);
	model_apply_picks(md, &op, 0, &tags, &ntags);
	assert_int_equal(ntags, 1);
	assert_string_equal(tags[0], "urgent");
	xfreev(tags, ntags);

	/*
	 * A fill group: a list with no tag of it gets the pick, once; group
	 * 0 (a tag the model does not know) adds nothing.
	 */
	assert_int_equal(model_group_of(md, "family"), 1);
	assert_int_equal(model_group_of(md, "urgent"), 0);
	assert_int_equal(model_group_of(NULL, "family"), 0);
	tags = one_tag("urgent", &ntags);
	assert_null(model_fill(md, &op, 0, &tags, &ntags));
	assert_string_equal(model_fill(md, &op, 1, &tags, &ntags), "self");
	assert_null(model_fill(md, &op, 1, &tags, &ntags));
	assert_int_equal(ntags, 2);
	assert_int_equal(tag_count(tags, ntags, "self"), 1);
	assert_int_equal(tag_count(tags, ntags, "urgent"), 1);
	xfreev(tags, ntags);
	/* A list holding a tag of the group keeps it, unpicked or not. */
	tags = one_tag("family", &ntags);
	assert_null(model_fill(md, &op, 1, &tags, &ntags));
	assert_int_equal(ntags, 1);
	assert_string_equal(tags[0], "family");
	xfreev(tags, ntags);
	/* Its explanation says where it fills in. */
	model_set_fill(md, 1, "substance");
	model_set_fill(md, 7, "nosuch");
	m = mk("question", "i drink every night and i hide it", "");
	buf_init(&ex, 0);
	model_judge(md, m, NULL, 0, &op, &ex);
	assert_non_null(strstr(buf_str(&ex), "it fills in where a verdict of "
	    "substance carries none of them"));
	buf_free(&ex);
	msg_free(m);

	/* Unsure (no known word): no pick, the rules' tags stay. */
	m = mk("zzz", "qqq", "");
	model_judge(md, m, NULL, 0, &op, NULL);
	assert_int_equal(op.picked[0], 0);
	assert_int_equal(op.picked[1], 0);
	msg_free(m);
	tags = one_tag("urgent", &ntags);
	assert_null(model_fill(md, &op, 1, &tags, &ntags));
	assert_int_equal(ntags, 1);
	xfreev(tags, ntags);
	model_free(md);
	diag_free(&d);
	unlink(path);
}

/* A missing model is no model; a broken one is an error at file:line. */
/* Read a whole file; caller frees. */
static char *
slurp(const char *path)
{
	FILE	*fp;
	char	*text;
	long	 len;

	assert_non_null(fp = fopen(path, "r"));
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	assert_true((len = ftell(fp)) >= 0);
	rewind(fp);
	text = xcalloc(1, (size_t)len + 1);
	assert_int_equal(fread(text, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	return (text);
}

/* Replace the first line starting with key by line in the file at path. */
static void
set_line(const char *path, const char *key, const char *line)
{
	char	*text, *at, *end, *out;

	text = slurp(path);
	assert_non_null(at = strstr(text, key));
	end = strchr(at, '\n');
	out = xasprintf("%.*s%s%s", (int)(at - text), text, line,
	    end != NULL ? end : "");
	write_model(path, strstr(out, "\n") + 1);
	free(out);
	free(text);
}

/*
 * The sentence model: taught by the rules' matches in crisis mail against
 * every sentence of the other mail, it finds the crisis sentence among
 * billing words in a message where neither the whole nor a window of it
 * reads as crisis; a tolerated message teaches nothing.
 */
static void
test_sentence_model(void **state)
{
	static const char *crisis[] = {
	    "Please send the invoice for March. I have the rope ready for "
	    "tonight.",
	    "Can I pay the copay by card? The rope is ready in the garage.",
	    "Here is my receipt question. I tied the rope already." };
	static const char *bills[] = {
	    "Please send the invoice for March. My card was charged twice.",
	    "Can I pay the copay by card? I lost the receipt.",
	    "Here is my receipt question. The invoice total looks wrong." };
	static char *marks[] = { "the rope ready", "rope is ready",
	    "tied the rope" };
	static char *denial[] = { "rope" };
	struct model_train	*t;
	struct model_opinion	 op;
	struct model		*md;
	struct diag		 d;
	struct msg		*m;
	struct buf		 ex;
	char			 path[] = "/tmp/test_model.XXXXXX", *cause = NULL;
	char			*text;
	size_t			 i, k;
	int			 fd;

	t = model_train_new();
	model_train_recall(t, "crisis");
	for (k = 0; k < 10; k++)
		for (i = 0; i < 3; i++) {
			m = mk("hello", crisis[i], "");
			model_train_add(t, m, NULL, 0, "crisis", NULL, 0);
			model_train_sentences(t, m, "crisis", &marks[i], 1, 0);
			msg_free(m);
			m = mk("hello", bills[i], "");
			model_train_add(t, m, NULL, 0, "billing", NULL, 0);
			model_train_sentences(t, m, "billing", NULL, 0, 0);
			msg_free(m);
			/* Tolerated: a denial would teach that rope is safe. */
			m = mk("hello", "No rope, no plan, never.", "");
			model_train_sentences(t, m, "billing", denial, 1, 1);
			msg_free(m);
		}
	assert_true((fd = mkstemp(path)) != -1);
	close(fd);
	assert_int_equal(model_train_write(t, path, "crisis", &cause), 0);
	model_train_free(t);
	text = slurp(path);
	assert_non_null(strstr(text, "\nsentence 0.85 "));
	assert_non_null(strstr(text, "\ns rope "));
	/* Seen only in tolerated mail: never a feature. */
	assert_null(strstr(text, "\ns never "));
	free(text);
	/* Only the sentence may vote crisis here. */
	set_line(path, "recall ", "recall crisis 1.00");
	set_line(path, "window ", "window 0 0.90");

	diag_init(&d);
	assert_non_null(md = model_load(path, &d));
	assert_int_equal(d.nerrors, 0);
	m = mk("hello", "Please send the invoice for April, my card was "
	    "charged. I lost the receipt. The rope is ready now. The copay "
	    "looks wrong.", "");
	buf_init(&ex, 0);
	model_judge(md, m, NULL, 0, &op, &ex);
	assert_int_equal(op.recall, 3);
	assert_string_equal(model_cat(md, (size_t)op.cat), "crisis");
	assert_int_equal(op.of[0], 10);
	assert_non_null(strstr(buf_str(&ex), "sentence 4 of the subject and "
	    "text reads as crisis"));
	assert_non_null(strstr(buf_str(&ex), "its strongest words: rope"));
	buf_free(&ex);
	msg_free(m);
	/* The same billing words without it: no vote. */
	m = mk("hello", "Please send the invoice for April, my card was "
	    "charged. I lost the receipt.", "");
	model_judge(md, m, NULL, 0, &op, NULL);
	assert_int_equal(op.recall, 0);
	assert_string_equal(model_cat(md, (size_t)op.cat), "billing");
	msg_free(m);
	model_free(md);

	/* Its bar at 1 is never reached. */
	set_line(path, "sentence ", "sentence 1.00 -3.0");
	assert_non_null(md = model_load(path, &d));
	m = mk("hello", "The rope is ready now.", "");
	model_judge(md, m, NULL, 0, &op, NULL);
	assert_int_not_equal(op.recall, 3);
	msg_free(m);
	model_free(md);

	/* Bad lines: a bar below 0.5, a weight before the sentence line. */
	write_model(path, "sentence 0.3 0\ncategory a 1 1\ncategory b 1 1\n");
	assert_null(model_load(path, &d));
	assert_int_equal(d.nerrors, 1);
	write_model(path, "category a 1 1\ncategory b 1 1\ns rope 2.0\n");
	assert_null(model_load(path, &d));
	assert_int_equal(d.nerrors, 2);
	diag_free(&d);
	unlink(path);
}

static void
test_bad_files(void **state)
{
	struct diag	 d;
	char		 path[] = "/tmp/test_model.XXXXXX";
	FILE		*fp;
	int		 fd;

	diag_init(&d);
	assert_null(model_load("/nonexistent/triage.model", &d));
	assert_int_equal(d.nerrors, 0);

	assert_true((fd = mkstemp(path)) != -1);
	fp = fdopen(fd, "w");
	fputs("not a model\n", fp);
	fclose(fp);
	assert_null(model_load(path, &d));
	assert_int_equal(d.nerrors, 1);

	fp = fopen(path, "w");
	fputs("triaged-model 4\ncategory a 1 1\ncategory b 1 1\nf word 1\n",
	    fp);
	fclose(fp);
	assert_null(model_load(path, &d));
	assert_int_equal(d.nerrors, 2);

	/* A tag group of one tag, a tag after the features, a bad pick. */
	write_model(path, "category a 1 1\ncategory b 1 1\ntag x 1 1 1\n"
	    "f word 1 1 1\n");
	assert_null(model_load(path, &d));
	assert_int_equal(d.nerrors, 3);
	write_model(path, "category a 1 1\ncategory b 1 1\nf word 1 1\n"
	    "tag x 1 1 1\n");
	assert_null(model_load(path, &d));
	assert_int_equal(d.nerrors, 4);
	write_model(path, "pick 0.2\ncategory a 1 1\ncategory b 1 1\n");
	assert_null(model_load(path, &d));
	assert_int_equal(d.nerrors, 5);
	/* Group numbers go 1, 2, ... in order. */
	write_model(path, "category a 1 1\ncategory b 1 1\ntag x 2 1 1\n"
	    "tag y 2 1 1\n");
	assert_null(model_load(path, &d));
	assert_int_equal(d.nerrors, 6);
	unlink(path);
	diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_train_and_judge),
		cmocka_unit_test(test_recall_and_against),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_smoothing_and_temperature),
		cmocka_unit_test(test_complement),
		cmocka_unit_test(test_choose_tags),
		cmocka_unit_test(test_sentence_model),
		cmocka_unit_test(test_bad_files),
	};

	log_init(LOG_LEVEL_WARN, 0);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
