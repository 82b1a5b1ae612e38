/*
 * Rules: a hand-written line lexer and parser for the *.rules files of a
 * folder, pcre2 patterns compiled (and JIT-compiled) once at load time, and
 * a pure classifier over the fields of a parsed message.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "diag.h"
#include "log.h"
#include "mime.h"
#include "rules.h"
#include "model.h"
#include "scope.h"
#include "words.h"
#include "xmalloc.h"

/* Per-match limits: a pathological pattern or message costs milliseconds. */
#define RULES_MATCH_LIMIT	1000000
#define RULES_DEPTH_LIMIT	100000
#define RULES_HEAP_LIMIT	20480			/* KiB */
#define RULES_JIT_STACK_MIN	(32 * 1024)
#define RULES_JIT_STACK_MAX	(8 * 1024 * 1024)

#define RULES_NAME_MAX		64
#define RULES_SCORE_MAX		1000
#define RULES_NEAR_MAX		50
#define RULES_THRESHOLD		10	/* evidence a category needs */
#define RULES_MODEL_FILE	"triage.model"
#define RULES_PRIORITY_MAX	1000000
#define RULES_EXPLAIN_TEXT	80		/* bytes of matched text */

#ifndef nitems
#define nitems(a)	(sizeof (a) / sizeof (a)[0])
#endif

enum rule_field {
	RULE_FIELD_SUBJECT,
	RULE_FIELD_BODY,
	RULE_FIELD_QUOTED,
	RULE_FIELD_FORWARDED,
	RULE_FIELD_FROM,
	RULE_FIELD_TO,
	RULE_FIELD_HEADER
};

/* The message fields a condition can name (header:NAME is separate). */
static const struct rule_fielddef {
	const char	*name;
	enum rule_field	 field;
} rule_fielddefs[] = {
	{ "subject",	RULE_FIELD_SUBJECT },
	{ "body",	RULE_FIELD_BODY },
	{ "quoted",	RULE_FIELD_QUOTED },
	{ "forwarded",	RULE_FIELD_FORWARDED },
	{ "from",	RULE_FIELD_FROM },
	{ "to",		RULE_FIELD_TO },
};

/* Pattern flags as written after the closing slash. */
static const struct rule_flagdef {
	char		 flag;
	uint32_t	 option;
} rule_flagdefs[] = {
	{ 'i',	PCRE2_CASELESS },
	{ 'm',	PCRE2_MULTILINE },
	{ 's',	PCRE2_DOTALL },
	{ 'x',	PCRE2_EXTENDED },
};

struct rule_fieldref {
	enum rule_field	 field;
	char		*header;	/* RULE_FIELD_HEADER: its name */
};

struct rule_pat {
	char		*src;		/* between the slashes */
	char		 flags[8];	/* as written after them */
	const char	*file;		/* where written; owned by ruleset files */
	unsigned	 line;
	int		 asserted;	/* only matches not denied or past */
	pcre2_code	*re;
};

struct rule_cond {
	struct rule_fieldref	*fields;
	size_t			 nfields;
	int			 negate;
	struct rule_pat		*pats;		/* any of these */
	size_t			 npats;
};

struct rule {
	char		*name;
	const char	*file;		/* owned by ruleset files */
	unsigned	 line;
	unsigned	 col;
	char		*category;
	unsigned	 cat_line;
	unsigned	 cat_col;
	size_t		 cat;		/* index into cats, linked */
	struct rule_cond *conds;
	size_t		 nconds;
	char		**tags;
	size_t		 ntags;
	int		 score;		/* evidence; 0: the rule decides */
	int		 stops_recall;	/* matched: no model recall vote */
};

struct rules_cat {
	char		*name;
	int		 priority;
	char		*template;	/* NULL: never answered */
	const char	*file;
	unsigned	 line;
	unsigned	 col;
	size_t		 nrules;	/* rules voting for it */
	int		 threshold;	/* evidence needed from scored rules */
	char		**tags;		/* tags of every verdict in it */
	size_t		 ntags;
	char		**otags;	/* tags when carried but outranked */
	size_t		 notags;
};

/*
 * "choose TAG...": tags that exclude each other; the model picks one.
 * "fill CATEGORY with TAG...": where a verdict of the category carries
 * none of them, the model adds the one it picks.
 */
struct rules_choice {
	char		**tags;
	size_t		  ntags;
	char		 *fill;		/* the category; NULL: choose */
	const char	 *fill_file;	/* where, until it is linked */
	unsigned	  fill_line;
	unsigned	  fill_col;
	ssize_t		  fill_cat;	/* linked; -1 for choose */
};

struct ruleset {
	char			**files;
	size_t			  nfiles;
	struct rules_cat	 *cats;
	size_t			  ncats;
	size_t			  def;
	struct rule		 *rules;
	size_t			  nrules;
	struct model		 *model;	/* triage.model, or NULL */
	struct rules_choice	 *choices;
	size_t			  nchoices;
	pcre2_match_context	 *mctx;
	pcre2_jit_stack		 *jit;
	pcre2_match_data	 *md;
};

/*
 * "conditions NAME": lines shared by many rules, which take them with
 * "if NAME". They live only while parsing: each rule gets its own copy.
 */
struct rules_group {
	char		 *name;
	const char	 *file;		/* owned by ruleset files */
	unsigned	  line;
	struct rule_cond *conds;
	size_t		  nconds;
};

/* Parser state: one file and line at a time. */
struct rules_parse {
	struct ruleset	*rs;
	struct diag	*d;
	const char	*dir;
	const char	*file;
	unsigned	 line;
	const char	*bol;		/* line start, for columns */
	const char	*p;		/* cursor */
	int		 open;		/* the last rule is open */
	int		 group_open;	/* the last conditions block is open */
	int		 after_cond;	/* last line: match/not/or */
	struct words	 words;		/* "define" lists, across files */
	struct rules_group *groups;	/* "conditions", across files */
	size_t		 ngroups;
	char		*def;		/* the default category */
	const char	*def_file;
	unsigned	 def_line;
	unsigned	 def_col;
};

static size_t	rules_choice_tags(const struct ruleset *);
static void	parse_choice_tags(struct rules_parse *, const char *,
		    struct rules_choice *);
static void	cond_free(struct rule_cond *);

/* The 1-based column of p on the current line, counting UTF-8 characters. */
static unsigned
lex_col(const struct rules_parse *ps, const char *p)
{
	const char	*s;
	unsigned	 col = 1;

	for (s = ps->bol; s < p && *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			col++;
	return (col);
}

/* Report a problem at column col of the current line. */
static void __attribute__((format(printf, 4, 5)))
lex_diag(struct rules_parse *ps, enum diag_severity sev, unsigned col,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_add(ps->d, sev, ps->file, ps->line, col, "%s", msg);
	free(msg);
}

/* Report an error at p on the current line. */
#define lex_error(ps, at, ...) \
	lex_diag((ps), DIAG_ERROR, lex_col((ps), (at)), __VA_ARGS__)

/* Skip blanks. */
static void
lex_skip(struct rules_parse *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

/*
 * Take the next blank-separated word; 0 at the end of the line or at a
 * comment.
 */
static size_t
lex_word(struct rules_parse *ps, const char **start)
{
	lex_skip(ps);
	*start = ps->p;
	if (*ps->p == '#')
		return (0);
	while (*ps->p != '\0' && *ps->p != ' ' && *ps->p != '\t')
		ps->p++;
	return (ps->p - *start);
}

/* How many words are left on the line; the cursor stays. */
static size_t
lex_words_left(struct rules_parse *ps)
{
	const char	*save = ps->p, *w;
	size_t		 n = 0;

	while (lex_word(ps, &w) != 0)
		n++;
	ps->p = save;
	return (n);
}

/* Insist that nothing but a comment is left on the line. */
static void
lex_end(struct rules_parse *ps, const char *hint)
{
	const char	*w;
	size_t		 len;

	if ((len = lex_word(ps, &w)) == 0)
		return;
	lex_error(ps, w, "unexpected \"%.*s\"%s", (int)len, w, hint);
}

/* Is the word w (len bytes) equal to the keyword kw? */
static int
word_is(const char *w, size_t len, const char *kw)
{
	return (strlen(kw) == len && strncmp(w, kw, len) == 0);
}

/*
 * Check a category, template, rule or tag name: letters, digits, '.', '-'
 * and '_', starting with a letter or digit, so it is safe in an IMAP
 * keyword and as a file name.
 */
static int
name_valid(const char *w, size_t len)
{
	size_t	i;

	if (len == 0 || len > RULES_NAME_MAX || !isalnum((unsigned char)*w))
		return (0);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)w[i]) && w[i] != '-' &&
		    w[i] != '_' && w[i] != '.')
			return (0);
	return (1);
}

/* Read a name word, or report what kind was expected; NULL on error. */
static char *
lex_name(struct rules_parse *ps, const char *what, const char *after)
{
	const char	*w;
	size_t		 len;

	if ((len = lex_word(ps, &w)) == 0) {
		lex_error(ps, w, "missing %s name after \"%s\"", what, after);
		return (NULL);
	}
	if (!name_valid(w, len)) {
		lex_error(ps, w, "invalid %s name \"%.*s\": use letters, "
		    "digits, '-', '_' and '.' (at most %d)", what, (int)len, w,
		    RULES_NAME_MAX);
		return (NULL);
	}
	return (xstrndup(w, len));
}

/* The rule being built, or NULL. */
static struct rule *
parse_cur(struct rules_parse *ps)
{
	if (!ps->open)
		return (NULL);
	return (&ps->rs->rules[ps->rs->nrules - 1]);
}

/* Finish the open rule: it needs conditions and a category. */
static void
parse_close_rule(struct rules_parse *ps)
{
	struct rules_group *g;
	struct rule	*r;
	size_t		 i;
	int		 positive = 0;

	if (ps->group_open) {
		g = &ps->groups[ps->ngroups - 1];
		ps->group_open = 0;
		ps->after_cond = 0;
		if (g->nconds == 0)
			diag_add(ps->d, DIAG_ERROR, g->file, g->line, 1,
			    "conditions %s has no lines: add \"not FIELDS "
			    "/pattern/\" or \"match FIELDS /pattern/\" lines "
			    "under it", g->name);
	}
	if ((r = parse_cur(ps)) == NULL)
		return;
	ps->open = 0;
	ps->after_cond = 0;
	if (r->nconds == 0)
		diag_add(ps->d, DIAG_ERROR, r->file, r->line, r->col,
		    "rule %s has no conditions: add a line like "
		    "\"match subject,body /words/i\"", r->name);
	if (r->category == NULL)
		diag_add(ps->d, DIAG_ERROR, r->file, r->line, r->col,
		    "rule %s has no category: add a line like "
		    "\"category NAME\"", r->name);
	for (i = 0; i < r->nconds; i++)
		if (!r->conds[i].negate)
			positive = 1;
	if (r->nconds > 0 && !positive)
		diag_add(ps->d, DIAG_WARNING, r->file, r->line, r->col,
		    "rule %s has only \"not\" conditions: it matches almost "
		    "every message", r->name);
}

/* Find a category by name; -1 if undeclared. */
static ssize_t
cat_find(const struct ruleset *rs, const char *name)
{
	size_t	i;

	for (i = 0; i < rs->ncats; i++)
		if (strcmp(rs->cats[i].name, name) == 0)
			return ((ssize_t)i);
	return (-1);
}

/*
 * "category NAME" inside a rule votes for NAME; "category NAME priority N
 * template T|noreply" declares a category.
 */
static void
parse_category(struct rules_parse *ps, const char *kw)
{
	struct ruleset		*rs = ps->rs;
	struct rules_cat	*c;
	struct rule		*r;
	const char		*namep, *w, *num;
	char			*name, *tmpl = NULL, *end;
	size_t			 len;
	long			 prio = -1, thr = RULES_THRESHOLD;
	char			**ctags = NULL, **otags = NULL;
	size_t			 nctags = 0, notags = 0;
	int			 outranked;
	int			 noreply = 0, bad = 0;
	ssize_t			 dup;

	lex_skip(ps);
	namep = ps->p;
	if ((name = lex_name(ps, "category", "category")) == NULL)
		return;
	if ((len = lex_word(ps, &w)) == 0) {
		if ((r = parse_cur(ps)) == NULL) {
			lex_error(ps, kw, "category %s: a declaration needs a "
			    "priority and a template, e.g. \"category %s "
			    "priority 50 template %s\" (to file a rule under "
			    "it, put the line after a \"rule\" line)", name,
			    name, name);
			free(name);
			return;
		}
		if (r->category != NULL) {
			lex_error(ps, namep, "rule %s already has category %s",
			    r->name, r->category);
			free(name);
			return;
		}
		r->category = name;
		r->cat_line = ps->line;
		r->cat_col = lex_col(ps, namep);
		return;
	}

	/* A declaration: it ends any open rule. */
	parse_close_rule(ps);
	for (; len != 0; len = lex_word(ps, &w)) {
		if (word_is(w, len, "priority")) {
			if ((len = lex_word(ps, &num)) == 0) {
				lex_error(ps, num, "missing number after "
				    "\"priority\"");
				bad = 1;
				break;
			}
			errno = 0;
			prio = strtol(num, &end, 10);
			if (!isdigit((unsigned char)*num) ||
			    end != num + len || errno != 0 ||
			    prio > RULES_PRIORITY_MAX) {
				lex_error(ps, num, "priority \"%.*s\" is not "
				    "a whole number from 0 to %d", (int)len,
				    num, RULES_PRIORITY_MAX);
				prio = 0;
				bad = 1;
			}
		} else if (word_is(w, len, "template")) {
			free(tmpl);
			if ((tmpl = lex_name(ps, "template", "template")) ==
			    NULL) {
				bad = 1;
				break;
			}
		} else if (word_is(w, len, "threshold")) {
			if ((len = lex_word(ps, &num)) == 0 ||
			    !isdigit((unsigned char)*num) ||
			    (thr = strtol(num, &end, 10)) < 1 ||
			    thr > RULES_SCORE_MAX || end != num + len) {
				lex_error(ps, len ? num : w, "\"threshold\" "
				    "needs a whole number from 1 to %d",
				    RULES_SCORE_MAX);
				bad = 1;
				break;
			}
		} else if ((outranked = word_is(w, len, "outranked-tag")) ||
		    word_is(w, len, "tag")) {
			if ((len = lex_word(ps, &num)) == 0 ||
			    !name_valid(num, len)) {
				lex_error(ps, len ? num : w, "\"%s\" needs a "
				    "tag name: letters, digits, '-', '_', '.'",
				    outranked ? "outranked-tag" : "tag");
				bad = 1;
				break;
			}
			if (outranked) {
				otags = xreallocarray(otags, notags + 1,
				    sizeof *otags);
				otags[notags++] = xstrndup(num, len);
			} else {
				ctags = xreallocarray(ctags, nctags + 1,
				    sizeof *ctags);
				ctags[nctags++] = xstrndup(num, len);
			}
		} else if (word_is(w, len, "noreply"))
			noreply = 1;
		else {
			lex_error(ps, w, "unexpected \"%.*s\" in category %s "
			    "(expected priority, threshold, tag, "
			    "outranked-tag, template or noreply)",
			    (int)len, w, name);
			bad = 1;
		}
	}
	if (!bad && prio < 0) {
		lex_error(ps, namep, "category %s has no priority: add "
		    "\"priority N\" (higher wins)", name);
		bad = 1;
	}
	if (!bad && tmpl == NULL && !noreply) {
		lex_error(ps, namep, "category %s needs \"template NAME\" or "
		    "\"noreply\"", name);
		bad = 1;
	}
	if (!bad && tmpl != NULL && noreply) {
		lex_error(ps, namep, "category %s has both a template and "
		    "noreply: choose one", name);
		bad = 1;
	}
	if ((dup = cat_find(rs, name)) != -1) {
		lex_error(ps, namep, "category %s is already declared at "
		    "%s:%u", name, rs->cats[dup].file, rs->cats[dup].line);
		bad = 1;
	}
	if (bad) {
		free(name);
		free(tmpl);
		xfreev(ctags, nctags);
		xfreev(otags, notags);
		return;
	}
	rs->cats = xreallocarray(rs->cats, rs->ncats + 1, sizeof *rs->cats);
	c = &rs->cats[rs->ncats++];
	memset(c, 0, sizeof *c);
	c->name = name;
	c->priority = (int)prio;
	c->threshold = (int)thr;
	c->tags = ctags;
	c->ntags = nctags;
	c->otags = otags;
	c->notags = notags;
	c->template = tmpl;
	c->file = ps->file;
	c->line = ps->line;
	c->col = lex_col(ps, namep);
}

/* "default NAME": the category for inquiries no rule matches. */
static void
parse_default(struct rules_parse *ps, const char *kw)
{
	const char	*namep;
	char		*name;

	parse_close_rule(ps);
	lex_skip(ps);
	namep = ps->p;
	if ((name = lex_name(ps, "category", "default")) == NULL)
		return;
	lex_end(ps, "");
	if (ps->def != NULL) {
		lex_error(ps, kw, "default is already set to %s at %s:%u",
		    ps->def, ps->def_file, ps->def_line);
		free(name);
		return;
	}
	ps->def = name;
	ps->def_file = ps->file;
	ps->def_line = ps->line;
	ps->def_col = lex_col(ps, namep);
}

/* "rule NAME" starts a rule; its lines follow. */
static void
parse_rule(struct rules_parse *ps, const char *kw)
{
	struct ruleset	*rs = ps->rs;
	struct rule	*r;
	char		*name;

	parse_close_rule(ps);
	if ((name = lex_name(ps, "rule", "rule")) == NULL)
		name = xstrdup("(unnamed)");
	else
		lex_end(ps, " (rule names cannot contain spaces)");
	rs->rules = xreallocarray(rs->rules, rs->nrules + 1,
	    sizeof *rs->rules);
	r = &rs->rules[rs->nrules++];
	memset(r, 0, sizeof *r);
	r->name = name;
	r->file = ps->file;
	r->line = ps->line;
	r->col = lex_col(ps, kw);
	ps->open = 1;
}

/* Is name a valid header field name (printable ASCII but ':')? */
static int
header_name_valid(const char *s, size_t len)
{
	size_t	i;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126 ||
		    s[i] == ':')
			return (0);
	return (1);
}

/* Read the comma-separated field list of a condition; -1 on error. */
static int
parse_fields(struct rules_parse *ps, struct rule_cond *c)
{
	struct rule_fieldref	 f;
	const char		*s;
	size_t			 len, i;

	for (;;) {
		lex_skip(ps);
		s = ps->p;
		while (*ps->p != '\0' && *ps->p != ' ' && *ps->p != '\t' &&
		    *ps->p != ',' && *ps->p != '/' && *ps->p != '#')
			ps->p++;
		len = ps->p - s;
		if (len == 0) {
			lex_error(ps, s, "missing field: write e.g. \"match "
			    "subject,body /words/i\" (fields: subject, body, "
			    "quoted, from, to, header:NAME)");
			return (-1);
		}
		memset(&f, 0, sizeof f);
		if (len > 7 && strncasecmp(s, "header:", 7) == 0) {
			if (!header_name_valid(s + 7, len - 7)) {
				lex_error(ps, s, "invalid header name in "
				    "\"%.*s\"", (int)len, s);
				return (-1);
			}
			f.field = RULE_FIELD_HEADER;
			f.header = xstrndup(s + 7, len - 7);
		} else {
			for (i = 0; i < nitems(rule_fielddefs); i++)
				if (strlen(rule_fielddefs[i].name) == len &&
				    strncasecmp(rule_fielddefs[i].name, s,
				    len) == 0)
					break;
			if (i == nitems(rule_fielddefs)) {
				lex_error(ps, s, "unknown field \"%.*s\" "
				    "(fields: subject, body, quoted, from, "
				    "to, header:NAME)", (int)len, s);
				return (-1);
			}
			f.field = rule_fielddefs[i].field;
		}
		c->fields = xreallocarray(c->fields, c->nfields + 1,
		    sizeof *c->fields);
		c->fields[c->nfields++] = f;
		lex_skip(ps);
		if (*ps->p != ',')
			return (0);
		ps->p++;
	}
}

/*
 * Read one /source/ at the cursor into *src (caller frees); the cursor
 * ends after the closing slash. -1 (reported) on error.
 */
static int
lex_slashed(struct rules_parse *ps, char **src, const char **startp)
{
	const char	*open, *start;

	*src = NULL;
	lex_skip(ps);
	open = ps->p;
	if (*open != '/') {
		if (*open == '\0' || *open == '#')
			lex_error(ps, open, "missing pattern: write it between "
			    "slashes, e.g. /words/i");
		else
			lex_error(ps, open, "a pattern starts with \"/\" "
			    "(e.g. /words/i)");
		return (-1);
	}
	start = ++ps->p;
	while (*ps->p != '\0' && *ps->p != '/') {
		if (*ps->p == '\\' && ps->p[1] != '\0')
			ps->p++;
		ps->p++;
	}
	if (*ps->p != '/') {
		lex_error(ps, open, "pattern is not closed: add \"/\" at its "
		    "end (write \\/ for a slash inside it)");
		return (-1);
	}
	*src = xstrndup(start, ps->p - start);
	*startp = start;
	ps->p++;
	if (**src == '\0') {
		lex_error(ps, open, "empty pattern would match every message");
		free(*src);
		*src = NULL;
		return (-1);
	}
	return (0);
}

/* Expand $lists in a pattern source; NULL (reported) on an unknown one. */
static char *
parse_expand(struct rules_parse *ps, const char *src, const char *start)
{
	char	*out;
	size_t	 bad = 0;

	if ((out = words_expand(&ps->words, src, &bad)) == NULL)
		lex_error(ps, start + bad, "unknown word list \"%.*s\": "
		    "define it first with \"define NAME /words/\" (write "
		    "\\$ for a dollar sign)", (int)strcspn(src + bad,
		    " /()|[]?*+{}\\"), src + bad);
	return (out);
}

/*
 * "near N /A/ /B/" at the cursor: A and B within N words of each other,
 * as one pattern source. NULL (reported) on error.
 */
static char *
parse_near(struct rules_parse *ps, const char **startp)
{
	const char	*num, *sa, *sb;
	char		*a = NULL, *b = NULL, *end, *out = NULL;
	size_t		 len;
	long		 n;

	if ((len = lex_word(ps, &num)) == 0 ||
	    !isdigit((unsigned char)*num) ||
	    (n = strtol(num, &end, 10)) < 1 || n > RULES_NEAR_MAX ||
	    end != num + len) {
		lex_error(ps, num, "\"near\" needs a number of words from 1 "
		    "to %d, then two patterns: near 4 /pills/ /saved/",
		    RULES_NEAR_MAX);
		return (NULL);
	}
	if (lex_slashed(ps, &a, &sa) == 0 && lex_slashed(ps, &b, &sb) == 0)
		out = words_near(a, b, (unsigned)n);
	*startp = num;
	free(a);
	free(b);
	return (out);
}

/* Read and compile one /pattern/flags (or near N /a/ /b/) into pat. */
static int
parse_pattern(struct rules_parse *ps, struct rule_pat *pat)
{
	const struct rule_flagdef	*fd;
	const char			*start, *f, *w, *save;
	PCRE2_UCHAR			 msg[256];
	PCRE2_SIZE			 off;
	uint32_t			 opts;
	char				*raw;
	size_t				 i, n = 0, len;
	int				 err;

	memset(pat, 0, sizeof *pat);
	pat->file = ps->file;
	pat->line = ps->line;
	lex_skip(ps);
	save = ps->p;
	if ((len = lex_word(ps, &w)) != 0 && word_is(w, len, "asserted")) {
		pat->asserted = 1;
		lex_skip(ps);
		save = ps->p;
		len = lex_word(ps, &w);
	}
	if (len != 0 && word_is(w, len, "near")) {
		if ((raw = parse_near(ps, &start)) == NULL)
			return (-1);
	} else {
		ps->p = save;
		if (lex_slashed(ps, &raw, &start) == -1)
			return (-1);
	}
	pat->src = parse_expand(ps, raw, start);
	free(raw);
	if (pat->src == NULL)
		return (-1);

	opts = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF |
	    PCRE2_NEVER_BACKSLASH_C;
	for (f = ps->p; *f != '\0' && *f != ' ' && *f != '\t' && *f != '#';
	    f++) {
		for (i = 0; i < nitems(rule_flagdefs); i++)
			if (rule_flagdefs[i].flag == *f)
				break;
		if (i == nitems(rule_flagdefs)) {
			lex_error(ps, f, "unknown pattern flag \"%c\" (flags: "
			    "i ignore case, m multi-line, s dot matches "
			    "newline, x extended)", *f);
			return (-1);
		}
		fd = &rule_flagdefs[i];
		opts |= fd->option;
		if (strchr(pat->flags, fd->flag) == NULL &&
		    n < sizeof pat->flags - 1)
			pat->flags[n++] = fd->flag;
	}
	ps->p = f;

	pat->re = pcre2_compile((PCRE2_SPTR)pat->src, PCRE2_ZERO_TERMINATED,
	    opts, &err, &off, NULL);
	if (pat->re == NULL) {
		pcre2_get_error_message(err, msg, sizeof msg);
		/* An offset in the expansion points at the pattern's start. */
		if (off > strlen(start))
			off = 0;
		lex_error(ps, start + off, "bad pattern: %s", (char *)msg);
		return (-1);
	}
	if ((err = pcre2_jit_compile(pat->re, PCRE2_JIT_COMPLETE)) != 0) {
		pcre2_get_error_message(err, msg, sizeof msg);
		log_debug("%s:%u: no JIT, interpreting pattern: %s", ps->file,
		    ps->line, (char *)msg);
	}
	return (0);
}

/*
 * "define NAME /alternatives/": a word list that later patterns use as
 * $NAME (it may itself use lists defined before it).
 */
static void
parse_define(struct rules_parse *ps, const char *kw)
{
	const char	*namep, *start;
	char		*name, *raw, *src;

	parse_close_rule(ps);
	lex_skip(ps);
	namep = ps->p;
	if ((name = lex_name(ps, "word list", "define")) == NULL)
		return;
	if (lex_slashed(ps, &raw, &start) == -1) {
		free(name);
		return;
	}
	lex_end(ps, " after the list (one /pattern/ per define)");
	if ((src = parse_expand(ps, raw, start)) != NULL &&
	    words_add(&ps->words, name, src) == -1)
		lex_error(ps, namep, "word list %s is already defined", name);
	free(src);
	free(raw);
	free(name);
}

/* The conditions block of that name, the first if twice; NULL if none. */
static struct rules_group *
group_find(struct rules_parse *ps, const char *name)
{
	size_t	i;

	for (i = 0; i < ps->ngroups; i++)
		if (strcmp(ps->groups[i].name, name) == 0)
			return (&ps->groups[i]);
	return (NULL);
}

/*
 * "conditions NAME": the match, not and or lines below it are shared by
 * the rules that say "if NAME" (the headers that prove a program sent the
 * mail, for every crisis rule).
 */
static void
parse_group(struct rules_parse *ps, const char *kw)
{
	struct rules_group	*g;
	const char		*namep;
	char			*name;

	parse_close_rule(ps);
	lex_skip(ps);
	namep = ps->p;
	if ((name = lex_name(ps, "conditions", "conditions")) == NULL)
		return;
	lex_end(ps, " (names cannot contain spaces)");
	/* A second block of that name is reported, parsed, never used. */
	if ((g = group_find(ps, name)) != NULL)
		lex_error(ps, namep, "conditions %s are already defined at "
		    "%s:%u", name, g->file, g->line);
	ps->groups = xreallocarray(ps->groups, ps->ngroups + 1,
	    sizeof *ps->groups);
	g = &ps->groups[ps->ngroups++];
	memset(g, 0, sizeof *g);
	g->name = name;
	g->file = ps->file;
	g->line = ps->line;
	ps->group_open = 1;
}

/* A rule's own copy of a shared condition, patterns compiled anew. */
static void
cond_copy(struct rule_cond *dst, const struct rule_cond *src)
{
	struct rule_pat	*p;
	size_t		 i;

	memset(dst, 0, sizeof *dst);
	dst->negate = src->negate;
	dst->fields = xreallocarray(NULL, src->nfields, sizeof *dst->fields);
	dst->nfields = src->nfields;
	for (i = 0; i < src->nfields; i++) {
		dst->fields[i] = src->fields[i];
		if (src->fields[i].header != NULL)
			dst->fields[i].header = xstrdup(src->fields[i].header);
	}
	dst->pats = xreallocarray(NULL, src->npats, sizeof *dst->pats);
	dst->npats = src->npats;
	for (i = 0; i < src->npats; i++) {
		p = &dst->pats[i];
		*p = src->pats[i];
		p->src = xstrdup(src->pats[i].src);
		if ((p->re = pcre2_code_copy(src->pats[i].re)) == NULL)
			fatalx("pcre2: out of memory");
		(void)pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE);
	}
}

/* "if NAME" inside a rule: the rule also needs the conditions NAME. */
static void
parse_if(struct rules_parse *ps, const char *kw)
{
	struct rule		*r;
	struct rules_group	*g;
	const char		*namep;
	char			*name;
	size_t			 i;

	if ((r = parse_cur(ps)) == NULL) {
		lex_error(ps, kw, "\"if\" outside a rule: start the rule with "
		    "\"rule NAME\"");
		return;
	}
	lex_skip(ps);
	namep = ps->p;
	if ((name = lex_name(ps, "conditions", "if")) == NULL)
		return;
	lex_end(ps, " (one name per \"if\" line)");
	if ((g = group_find(ps, name)) == NULL) {
		lex_error(ps, namep, "unknown conditions \"%s\": define them "
		    "first with \"conditions %s\" and match or not lines "
		    "under it", name, name);
		free(name);
		return;
	}
	free(name);
	r->conds = xreallocarray(r->conds, r->nconds + g->nconds,
	    sizeof *r->conds);
	for (i = 0; i < g->nconds; i++)
		cond_copy(&r->conds[r->nconds++], &g->conds[i]);
}

/* "score N" inside a rule: the rule adds evidence instead of deciding. */
static void
parse_score(struct rules_parse *ps, const char *kw)
{
	struct rule	*r;
	const char	*num;
	char		*end;
	size_t		 len;
	long		 n;

	if ((r = parse_cur(ps)) == NULL) {
		lex_error(ps, kw, "\"score\" outside a rule: start the rule "
		    "with \"rule NAME\"");
		return;
	}
	len = lex_word(ps, &num);
	errno = 0;
	n = len == 0 ? 0 : strtol(num, &end, 10);
	if (len == 0 || end != num + len || errno != 0 || n == 0 ||
	    n > RULES_SCORE_MAX || n < -RULES_SCORE_MAX) {
		lex_error(ps, len == 0 ? kw : num, "\"score\" needs a whole "
		    "number from -%d to %d, not 0", RULES_SCORE_MAX,
		    RULES_SCORE_MAX);
		return;
	}
	lex_end(ps, "");
	r->score = (int)n;
}

/*
 * "stops-model-recall": when the rule matches, the model's recall-first
 * vote does not count (see rules_recall_stopper).
 */
static void
parse_stops(struct rules_parse *ps, const char *kw)
{
	struct rule	*r;

	if ((r = parse_cur(ps)) == NULL) {
		lex_error(ps, kw, "\"stops-model-recall\" outside a rule: "
		    "start the rule with \"rule NAME\"");
		return;
	}
	lex_end(ps, "");
	r->stops_recall = 1;
}

/*
 * The condition list that match, not and or lines add to: the open rule's
 * or the open conditions block's; NULL outside both.
 */
static struct rule_cond **
parse_conds(struct rules_parse *ps, size_t **n)
{
	struct rule		*r;
	struct rules_group	*g;

	if (ps->group_open) {
		g = &ps->groups[ps->ngroups - 1];
		*n = &g->nconds;
		return (&g->conds);
	}
	if ((r = parse_cur(ps)) == NULL)
		return (NULL);
	*n = &r->nconds;
	return (&r->conds);
}

/* "match FIELDS /pattern/flags" or "not FIELDS /pattern/flags". */
static void
parse_cond(struct rules_parse *ps, const char *kw, int negate)
{
	struct rule_cond	**conds, c;
	struct rule_pat		 pat;
	size_t			*nconds;

	memset(&pat, 0, sizeof pat);
	if ((conds = parse_conds(ps, &nconds)) == NULL) {
		lex_error(ps, kw, "\"%s\" outside a rule: start the rule with "
		    "\"rule NAME\"", negate ? "not" : "match");
		return;
	}
	memset(&c, 0, sizeof c);
	c.negate = negate;
	if (parse_fields(ps, &c) == 0 && parse_pattern(ps, &pat) == 0) {
		lex_end(ps, " after the pattern (one pattern per line; "
		    "add more with \"or /pattern/\" lines)");
		c.pats = xmalloc(sizeof *c.pats);
		c.pats[0] = pat;
		c.npats = 1;
	} else
		free(pat.src);
	/* Keep the condition even when broken, so the rule is not empty. */
	*conds = xreallocarray(*conds, *nconds + 1, sizeof **conds);
	(*conds)[(*nconds)++] = c;
	ps->after_cond = 1;
}

/* "or /pattern/flags": another pattern for the condition just above. */
static void
parse_or(struct rules_parse *ps, const char *kw)
{
	struct rule_cond	**conds, *c;
	struct rule_pat		 pat;
	size_t			*nconds;

	if ((conds = parse_conds(ps, &nconds)) == NULL || !ps->after_cond ||
	    *nconds == 0) {
		lex_error(ps, kw, "\"or\" must follow a match, not or or line "
		    "of a rule");
		return;
	}
	c = &(*conds)[*nconds - 1];
	if (parse_pattern(ps, &pat) != 0) {
		free(pat.src);
		return;
	}
	lex_end(ps, " after the pattern");
	c->pats = xreallocarray(c->pats, c->npats + 1, sizeof *c->pats);
	c->pats[c->npats++] = pat;
}

/* "tag NAME..." adds tags to the open rule. */
static void
parse_tag(struct rules_parse *ps, const char *kw)
{
	struct rule	*r;
	const char	*w;
	size_t		 len, i, n = 0;

	if ((r = parse_cur(ps)) == NULL) {
		lex_error(ps, kw, "\"tag\" outside a rule: start the rule "
		    "with \"rule NAME\"");
		return;
	}
	while ((len = lex_word(ps, &w)) != 0) {
		n++;
		if (!name_valid(w, len)) {
			lex_error(ps, w, "invalid tag name \"%.*s\": use "
			    "letters, digits, '-', '_' and '.'", (int)len, w);
			continue;
		}
		for (i = 0; i < r->ntags; i++)
			if (word_is(w, len, r->tags[i]))
				break;
		if (i < r->ntags)
			continue;
		r->tags = xreallocarray(r->tags, r->ntags + 1,
		    sizeof *r->tags);
		r->tags[r->ntags++] = xstrndup(w, len);
	}
	if (n == 0)
		lex_error(ps, w, "missing tag name after \"tag\"");
}

/*
 * "choose TAG TAG...": the tags exclude each other (whose drinking it
 * is: self or family). Where the rules set any of them, the learned model
 * picks one when it is sure; `triaged train` learns the pick from the
 * labels that carry exactly one of them.
 */
static void
parse_choose(struct rules_parse *ps, const char *kw)
{
	struct rules_choice	 c = { NULL, 0, NULL, NULL, 0, 0, -1 };

	parse_close_rule(ps);
	parse_choice_tags(ps, kw, &c);
}

/*
 * "fill CATEGORY with TAG TAG...": a verdict of the category that carries
 * none of the tags gets the one the model picks, when it is sure (which
 * drug it is, where no rule named one). The tags may all apply; where the
 * rules set any of them, they stay as they are.
 */
static void
parse_fill(struct rules_parse *ps, const char *kw)
{
	struct rules_choice	 c = { NULL, 0, NULL, NULL, 0, 0, -1 };
	const char		*w, *cat;
	size_t			 len;

	parse_close_rule(ps);
	if ((len = lex_word(ps, &cat)) == 0 || word_is(cat, len, "with")) {
		lex_error(ps, len == 0 ? kw : cat, "\"fill\" needs a "
		    "category, \"with\" and two or more tags: fill substance "
		    "with alcohol narcotics");
		return;
	}
	c.fill = xstrndup(cat, len);
	c.fill_file = ps->file;
	c.fill_line = ps->line;
	c.fill_col = lex_col(ps, cat);
	if ((len = lex_word(ps, &w)) == 0 || !word_is(w, len, "with")) {
		lex_error(ps, len == 0 ? kw : w, "\"fill %s\" needs "
		    "\"with\" and then its tags", c.fill);
		free(c.fill);
		return;
	}
	parse_choice_tags(ps, kw, &c);
}

/* The tags of a choose or fill line; the group is added when they hold. */
static void
parse_choice_tags(struct rules_parse *ps, const char *kw,
    struct rules_choice *cp)
{
	struct ruleset		*rs = ps->rs;
	struct rules_choice	 c = *cp;
	const char		*w, *first = NULL;
	size_t			 len, i, k;
	int			 bad = 0;

	while ((len = lex_word(ps, &w)) != 0) {
		if (first == NULL)
			first = w;
		if (!name_valid(w, len)) {
			lex_error(ps, w, "invalid tag name \"%.*s\": use "
			    "letters, digits, '-', '_' and '.'", (int)len, w);
			bad = 1;
			continue;
		}
		for (i = 0; i < rs->nchoices; i++)
			for (k = 0; k < rs->choices[i].ntags; k++)
				if (word_is(w, len, rs->choices[i].tags[k])) {
					lex_error(ps, w, "tag %.*s is already "
					    "in another choose or fill line",
					    (int)len, w);
					bad = 1;
				}
		for (k = 0; k < c.ntags; k++)
			if (word_is(w, len, c.tags[k]))
				break;
		if (k < c.ntags)
			continue;
		c.tags = xreallocarray(c.tags, c.ntags + 1, sizeof *c.tags);
		c.tags[c.ntags++] = xstrndup(w, len);
	}
	if (!bad && c.ntags < 2) {
		lex_error(ps, first != NULL ? first : kw, c.fill == NULL ?
		    "\"choose\" needs at least two tags, which exclude each "
		    "other" : "\"fill\" needs at least two tags after "
		    "\"with\", for the model to pick from");
		bad = 1;
	}
	if (!bad && c.ntags + rules_choice_tags(rs) > MODEL_MAX_TAGS) {
		lex_error(ps, kw, "at most %d tags in all choose and fill "
		    "lines", MODEL_MAX_TAGS);
		bad = 1;
	}
	if (bad) {
		xfreev(c.tags, c.ntags);
		free(c.fill);
		return;
	}
	rs->choices = xreallocarray(rs->choices, rs->nchoices + 1,
	    sizeof *rs->choices);
	rs->choices[rs->nchoices++] = c;
}

/* Parse one line (NUL-terminated, without its newline). */
static void
parse_line(struct rules_parse *ps, const char *line)
{
	const char	*kw;
	size_t		 len;

	ps->bol = ps->p = line;
	if ((len = lex_word(ps, &kw)) == 0)
		return;
	/*
	 * A rule's own lines cannot end a conditions block; a category
	 * declaration (more than a name after "category") does.
	 */
	if (ps->group_open && ((word_is(kw, len, "category") &&
	    lex_words_left(ps) <= 1) ||
	    word_is(kw, len, "tag") || word_is(kw, len, "tags") ||
	    word_is(kw, len, "score") || word_is(kw, len, "if") ||
	    word_is(kw, len, "stops-model-recall"))) {
		lex_error(ps, kw, "\"%.*s\" inside conditions %s: a "
		    "conditions block holds only match, not and or lines; "
		    "start a rule with \"rule NAME\" first", (int)len, kw,
		    ps->groups[ps->ngroups - 1].name);
		return;
	}
	if (word_is(kw, len, "category"))
		parse_category(ps, kw);
	else if (word_is(kw, len, "default"))
		parse_default(ps, kw);
	else if (word_is(kw, len, "rule"))
		parse_rule(ps, kw);
	else if (word_is(kw, len, "match"))
		parse_cond(ps, kw, 0);
	else if (word_is(kw, len, "not"))
		parse_cond(ps, kw, 1);
	else if (word_is(kw, len, "or")) {
		parse_or(ps, kw);
		return;
	} else if (word_is(kw, len, "tag") || word_is(kw, len, "tags"))
		parse_tag(ps, kw);
	else if (word_is(kw, len, "score"))
		parse_score(ps, kw);
	else if (word_is(kw, len, "define"))
		parse_define(ps, kw);
	else if (word_is(kw, len, "choose"))
		parse_choose(ps, kw);
	else if (word_is(kw, len, "fill"))
		parse_fill(ps, kw);
	else if (word_is(kw, len, "conditions"))
		parse_group(ps, kw);
	else if (word_is(kw, len, "if"))
		parse_if(ps, kw);
	else if (word_is(kw, len, "stops-model-recall"))
		parse_stops(ps, kw);
	else
		lex_error(ps, kw, "unknown keyword \"%.*s\" (keywords: "
		    "category, default, define, choose, fill, conditions, "
		    "rule, match, not, or, if, tag, score, "
		    "stops-model-recall)",
		    (int)len, kw);
	if (!word_is(kw, len, "match") && !word_is(kw, len, "not"))
		ps->after_cond = 0;
}

/* Parse one file; every problem goes to the diag. */
static void
parse_file(struct rules_parse *ps, const char *path)
{
	FILE		*fp;
	char		*line = NULL;
	size_t		 size = 0;
	ssize_t		 len;
	const char	*bol;
	int		 content = 0;

	ps->file = path;
	ps->line = 0;
	if ((fp = fopen(path, "r")) == NULL) {
		diag_add(ps->d, DIAG_ERROR, path, 0, 0, "cannot open: %s",
		    strerror(errno));
		return;
	}
	while ((len = getline(&line, &size, fp)) != -1) {
		ps->line++;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if ((size_t)len != strlen(line)) {
			content = 1;
			diag_add(ps->d, DIAG_ERROR, path, ps->line, 0,
			    "line contains a NUL byte");
			continue;
		}
		/*
		 * A control byte is never meant: "\b" that a script wrote as
		 * a backspace would otherwise compile and match nothing.
		 */
		for (bol = line; *bol != '\0'; bol++)
			if ((*bol > 0 && *bol < ' ' && *bol != '\t') ||
			    *bol == 0x7f)
				break;
		if (*bol != '\0') {
			content = 1;
			diag_add(ps->d, DIAG_ERROR, path, ps->line,
			    (unsigned)(bol - line) + 1, "control character "
			    "0x%02x in the line (an escape such as \\b "
			    "written as the character itself?)",
			    (unsigned)(unsigned char)*bol);
			continue;
		}
		bol = line;
		if (ps->line == 1 && strncmp(bol, "\xef\xbb\xbf", 3) == 0)
			bol += 3;	/* a byte order mark is no column */
		len = strspn(bol, " \t");
		if (bol[len] != '\0' && bol[len] != '#')
			content = 1;
		parse_line(ps, bol);
	}
	if (ferror(fp))
		diag_add(ps->d, DIAG_ERROR, path, 0, 0, "read error: %s",
		    strerror(errno));
	free(line);
	fclose(fp);
	parse_close_rule(ps);
	if (!content)
		diag_add(ps->d, DIAG_WARNING, path, 0, 0,
		    "no categories and no rules in this file");
}

/* Are two conditions the same test? */
static int
cond_equal(const struct rule_cond *a, const struct rule_cond *b)
{
	size_t	i;

	if (a->negate != b->negate || a->nfields != b->nfields ||
	    a->npats != b->npats)
		return (0);
	for (i = 0; i < a->nfields; i++) {
		if (a->fields[i].field != b->fields[i].field)
			return (0);
		if (a->fields[i].field == RULE_FIELD_HEADER &&
		    strcasecmp(a->fields[i].header, b->fields[i].header) != 0)
			return (0);
	}
	for (i = 0; i < a->npats; i++)
		if (strcmp(a->pats[i].src, b->pats[i].src) != 0 ||
		    strcmp(a->pats[i].flags, b->pats[i].flags) != 0)
			return (0);
	return (1);
}

/*
 * Does rule a always match when b does (a's conditions are a subset of
 * b's) and carry every tag of b, so b adds nothing when a wins?
 */
static int
rule_covers(const struct rule *a, const struct rule *b)
{
	size_t	i, j;

	for (i = 0; i < a->nconds; i++) {
		for (j = 0; j < b->nconds; j++)
			if (cond_equal(&a->conds[i], &b->conds[j]))
				break;
		if (j == b->nconds)
			return (0);
	}
	for (i = 0; i < b->ntags; i++) {
		for (j = 0; j < a->ntags; j++)
			if (strcmp(a->tags[j], b->tags[i]) == 0)
				break;
		if (j == a->ntags)
			return (0);
	}
	return (1);
}

/*
 * Warn about rules that can never change a verdict. Only a rule without a
 * score decides alone, so only such a rule can shadow another; a rule
 * scored against its category never wins, by design, and changes
 * verdicts all the same.
 */
static void
rules_check_shadowed(struct rules_parse *ps)
{
	struct ruleset	*rs = ps->rs;
	struct rule	*a, *b;
	size_t		 i, j;
	int		 pa, pb;

	for (j = 0; j < rs->nrules; j++) {
		b = &rs->rules[j];
		if (b->score < 0)
			continue;
		pb = rs->cats[b->cat].priority;
		for (i = 0; i < rs->nrules; i++) {
			a = &rs->rules[i];
			pa = rs->cats[a->cat].priority;
			if (i == j || a->score != 0 || pa < pb ||
			    (pa == pb && i > j))
				continue;
			if (!rule_covers(a, b))
				continue;
			diag_add(ps->d, DIAG_WARNING, b->file, b->line, b->col,
			    "rule %s can never win: whenever it matches, rule "
			    "%s (%s:%u) matches too, with category %s",
			    b->name, a->name, a->file, a->line,
			    rs->cats[a->cat].name);
			break;
		}
	}
}

/* Tie rules to categories and check the whole set across files. */
static void
rules_link(struct rules_parse *ps, size_t nerrors)
{
	struct ruleset	*rs = ps->rs;
	struct rule		*r;
	struct rules_choice	*ch;
	ssize_t			 c;
	size_t			 i, j;
	int			 linked = 1;

	if (rs->ncats == 0)
		diag_add(ps->d, DIAG_ERROR, ps->dir, 0, 0, "no categories "
		    "declared: add lines like \"category individual "
		    "priority 40 template individual\"");
	if (ps->def == NULL)
		diag_add(ps->d, DIAG_ERROR, ps->dir, 0, 0, "no default "
		    "category: add \"default NAME\" for inquiries that no "
		    "rule matches");
	else if ((c = cat_find(rs, ps->def)) == -1) {
		diag_add(ps->d, DIAG_ERROR, ps->def_file, ps->def_line,
		    ps->def_col, "default category %s is not declared",
		    ps->def);
		linked = 0;
	} else {
		rs->def = c;
		if (rs->cats[c].template == NULL)
			diag_add(ps->d, DIAG_WARNING, ps->def_file,
			    ps->def_line, ps->def_col, "default category %s "
			    "is noreply: inquiries that match no rule get no "
			    "answer", ps->def);
	}
	for (i = 0; i < rs->nrules; i++) {
		r = &rs->rules[i];
		for (j = 0; j < i; j++)
			if (strcmp(rs->rules[j].name, r->name) == 0) {
				diag_add(ps->d, DIAG_WARNING, r->file, r->line,
				    r->col, "rule name %s is also used at "
				    "%s:%u", r->name, rs->rules[j].file,
				    rs->rules[j].line);
				break;
			}
		if (r->category == NULL) {
			linked = 0;
			continue;
		}
		if ((c = cat_find(rs, r->category)) == -1) {
			diag_add(ps->d, DIAG_ERROR, r->file, r->cat_line,
			    r->cat_col, "rule %s: category %s is not "
			    "declared", r->name, r->category);
			linked = 0;
			continue;
		}
		r->cat = c;
		rs->cats[c].nrules++;
	}
	for (i = 0; i < rs->nchoices; i++) {
		ch = &rs->choices[i];
		if (ch->fill != NULL && (ch->fill_cat = cat_find(rs,
		    ch->fill)) == -1)
			diag_add(ps->d, DIAG_ERROR, ch->fill_file,
			    ch->fill_line, ch->fill_col, "fill: category %s "
			    "is not declared", ch->fill);
	}
	for (i = 0; i < rs->ncats; i++)
		if (rs->cats[i].nrules == 0 && (ps->def == NULL ||
		    strcmp(rs->cats[i].name, ps->def) != 0))
			diag_add(ps->d, DIAG_WARNING, rs->cats[i].file,
			    rs->cats[i].line, rs->cats[i].col, "category %s "
			    "has no rules and is not the default: it is never "
			    "chosen", rs->cats[i].name);
	if (linked && ps->d->nerrors == nerrors)
		rules_check_shadowed(ps);
}

/* Order file names bytewise, so 00-x sorts before 10-y in any locale. */
static int
rules_namecmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Collect the *.rules files of dir (regular files, no dot files). */
static void
rules_list(struct rules_parse *ps)
{
	struct ruleset	*rs = ps->rs;
	DIR		*dp;
	struct dirent	*de;
	struct stat	 st;
	char		*path;
	size_t		 len, dlen;

	if ((dp = opendir(ps->dir)) == NULL) {
		diag_add(ps->d, DIAG_ERROR, ps->dir, 0, 0, "cannot open the "
		    "rules folder: %s", strerror(errno));
		return;
	}
	dlen = strlen(ps->dir);
	while ((de = readdir(dp)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 6 ||
		    strcmp(de->d_name + len - 6, ".rules") != 0)
			continue;
		path = xasprintf("%s%s%s", ps->dir, dlen > 0 &&
		    ps->dir[dlen - 1] == '/' ? "" : "/", de->d_name);
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		rs->files = xreallocarray(rs->files, rs->nfiles + 1,
		    sizeof *rs->files);
		rs->files[rs->nfiles++] = path;
	}
	closedir(dp);
	if (rs->nfiles == 0)
		diag_add(ps->d, DIAG_ERROR, ps->dir, 0, 0, "no *.rules files "
		    "in the rules folder");
	else
		qsort(rs->files, rs->nfiles, sizeof *rs->files,
		    rules_namecmp);
}

/* Set by train: the rules load without the model it is replacing. */
static int	rules_no_model;

void
rules_skip_model(int skip)
{
	rules_no_model = skip;
}

/*
 * The learned model beside the rules (triage.model), when there is one;
 * its categories must be the rules' own.
 */
static void
rules_load_model(struct ruleset *rs, const char *dir, struct diag *d)
{
	char	*path;
	size_t	 i;

	path = xasprintf("%s/%s", dir, RULES_MODEL_FILE);
	rs->model = model_load(path, d);
	for (i = 0; rs->model != NULL && i < model_ncats(rs->model); i++) {
		if (cat_find(rs, model_cat(rs->model, i)) == -1)
			diag_error(d, path, 0, "model: category %s is not "
			    "declared in the rules (run triaged train again)",
			    model_cat(rs->model, i));
	}
	for (i = 0; rs->model != NULL && i < rs->nchoices; i++)
		if (!model_has_group(rs->model, (const char *const *)
		    rs->choices[i].tags, rs->choices[i].ntags))
			diag_warning(d, path, 0, "model: it does not pick "
			    "among the tags of the %s line with %s (run "
			    "triaged train again)", rs->choices[i].fill ==
			    NULL ? "choose" : "fill", rs->choices[i].tags[0]);
		else if (rs->choices[i].fill != NULL)
			model_set_fill(rs->model, model_group_of(rs->model,
			    rs->choices[i].tags[0]), rs->choices[i].fill);
	free(path);
}

/* Load, check and compile every *.rules file of dir; NULL on any error. */
struct ruleset *
rules_load(const char *dir, struct diag *d)
{
	struct rules_parse	 ps;
	struct ruleset		*rs;
	size_t			 i, j, nerrors = d->nerrors;

	rs = xcalloc(1, sizeof *rs);
	memset(&ps, 0, sizeof ps);
	ps.rs = rs;
	ps.d = d;
	ps.dir = dir;
	words_init(&ps.words);
	rules_list(&ps);
	for (i = 0; i < rs->nfiles; i++)
		parse_file(&ps, rs->files[i]);
	if (rs->nfiles > 0)
		rules_link(&ps, nerrors);
	free(ps.def);
	words_free(&ps.words);
	for (i = 0; i < ps.ngroups; i++) {
		free(ps.groups[i].name);
		for (j = 0; j < ps.groups[i].nconds; j++)
			cond_free(&ps.groups[i].conds[j]);
		free(ps.groups[i].conds);
	}
	free(ps.groups);
	if (d->nerrors == nerrors && !rules_no_model)
		rules_load_model(rs, dir, d);
	if (d->nerrors != nerrors) {
		rules_free(rs);
		return (NULL);
	}

	if ((rs->mctx = pcre2_match_context_create(NULL)) == NULL ||
	    (rs->md = pcre2_match_data_create(1, NULL)) == NULL)
		fatalx("pcre2: out of memory");
	pcre2_set_match_limit(rs->mctx, RULES_MATCH_LIMIT);
	pcre2_set_depth_limit(rs->mctx, RULES_DEPTH_LIMIT);
	pcre2_set_heap_limit(rs->mctx, RULES_HEAP_LIMIT);
	rs->jit = pcre2_jit_stack_create(RULES_JIT_STACK_MIN,
	    RULES_JIT_STACK_MAX, NULL);
	if (rs->jit != NULL)
		pcre2_jit_stack_assign(rs->mctx, NULL, rs->jit);
	return (rs);
}

/* Free one condition's fields and compiled patterns. */
static void
cond_free(struct rule_cond *c)
{
	size_t	i;

	for (i = 0; i < c->nfields; i++)
		free(c->fields[i].header);
	free(c->fields);
	for (i = 0; i < c->npats; i++) {
		free(c->pats[i].src);
		pcre2_code_free(c->pats[i].re);
	}
	free(c->pats);
}

/* Free a ruleset and its compiled patterns; NULL is fine. */
void
rules_free(struct ruleset *rs)
{
	struct rule	*r;
	size_t		 i, j;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->nrules; i++) {
		r = &rs->rules[i];
		free(r->name);
		free(r->category);
		for (j = 0; j < r->nconds; j++)
			cond_free(&r->conds[j]);
		free(r->conds);
		xfreev(r->tags, r->ntags);
	}
	free(rs->rules);
	for (i = 0; i < rs->ncats; i++) {
		free(rs->cats[i].name);
		free(rs->cats[i].template);
		for (j = 0; j < rs->cats[i].ntags; j++)
			free(rs->cats[i].tags[j]);
		free(rs->cats[i].tags);
		for (j = 0; j < rs->cats[i].notags; j++)
			free(rs->cats[i].otags[j]);
		free(rs->cats[i].otags);
	}
	free(rs->cats);
	for (i = 0; i < rs->nchoices; i++) {
		for (j = 0; j < rs->choices[i].ntags; j++)
			free(rs->choices[i].tags[j]);
		free(rs->choices[i].tags);
		free(rs->choices[i].fill);
	}
	free(rs->choices);
	xfreev(rs->files, rs->nfiles);
	model_free(rs->model);
	pcre2_match_data_free(rs->md);
	pcre2_jit_stack_free(rs->jit);
	pcre2_match_context_free(rs->mctx);
	free(rs);
}

/*
 * Step through the texts a field names: one for most fields, every header
 * of that name for header:NAME. Returns NULL when done.
 */
static const char *
field_next(const struct msg *m, const struct rule_fieldref *f, size_t *iter)
{
	const char	*s = NULL;

	if (f->field == RULE_FIELD_HEADER) {
		for (; *iter < m->nheaders; (*iter)++) {
			s = m->headers[*iter].name;
			if (s != NULL && strcasecmp(s, f->header) == 0) {
				s = m->headers[(*iter)++].value;
				return (s != NULL ? s : "");
			}
		}
		return (NULL);
	}
	if ((*iter)++ > 0)
		return (NULL);
	switch (f->field) {
	case RULE_FIELD_SUBJECT:
		s = m->subject;
		break;
	case RULE_FIELD_BODY:
		s = m->body;
		break;
	case RULE_FIELD_QUOTED:
		s = m->quoted;
		break;
	case RULE_FIELD_FORWARDED:
		s = m->forwarded;
		break;
	case RULE_FIELD_FROM:
		s = m->from_text;
		break;
	case RULE_FIELD_TO:
		s = m->to_text;
		break;
	case RULE_FIELD_HEADER:
		break;
	}
	return (s != NULL ? s : "");
}

/* Print a field's name as a rule writes it. */
static void
field_print(struct buf *b, const struct rule_fieldref *f)
{
	size_t	i;

	if (f->field == RULE_FIELD_HEADER) {
		buf_printf(b, "header:%s", f->header);
		return;
	}
	for (i = 0; i < nitems(rule_fielddefs); i++)
		if (rule_fielddefs[i].field == f->field)
			buf_addstr(b, rule_fielddefs[i].name);
}

/*
 * Append up to RULES_EXPLAIN_TEXT bytes of matched text, control
 * characters as spaces, cut on a UTF-8 character boundary.
 */
static void
explain_text(struct buf *b, const char *s, size_t len)
{
	size_t	i, n = len;

	if (n > RULES_EXPLAIN_TEXT) {
		n = RULES_EXPLAIN_TEXT;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	buf_addch(b, '"');
	for (i = 0; i < n; i++)
		buf_addch(b, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ?
		    ' ' : s[i]);
	buf_addch(b, '"');
	if (n < len)
		buf_addstr(b, "...");
}

/* Describe one match for --explain: where, which field, what text. */
static void
explain_match(struct buf *ex, const struct rule *r, const struct rule_pat *pat,
    const struct rule_fieldref *f, const char *text, pcre2_match_data *md)
{
	PCRE2_SIZE	*ov = pcre2_get_ovector_pointer(md);

	buf_printf(ex, "%s:%u rule %s: field ", pat->file, pat->line,
	    r->name);
	field_print(ex, f);
	buf_addstr(ex, " matched ");
	explain_text(ex, text + ov[0], ov[1] > ov[0] ? ov[1] - ov[0] : 0);
	buf_addch(ex, '\n');
}

/*
 * Does a rule fail safe: its category is the most urgent one (crisis),
 * so a pcre2 limit hit counts as a match rather than as silence? A
 * missed crisis costs more than a crisis reply to a message that is not.
 */
static int
rule_failsafe(const struct ruleset *rs, const struct rule *r)
{
	size_t	i;

	for (i = 0; i < rs->ncats; i++)
		if (rs->cats[i].priority > rs->cats[r->cat].priority)
			return (0);
	return (1);
}

/*
 * Match pat in text, into rs->md. An asserted pattern skips the matches
 * that are denied or only in the past (scope.c) and tries further on.
 */
static int
pat_match(const struct ruleset *rs, const struct rule_pat *pat,
    const char *text)
{
	PCRE2_SIZE	*ov, from = 0, len = strlen(text);
	int		 rc;

	for (;;) {
		rc = pcre2_match(pat->re, (PCRE2_SPTR)text, len, from, 0,
		    rs->md, rs->mctx);
		if (rc < 0 || !pat->asserted)
			return (rc);
		ov = pcre2_get_ovector_pointer(rs->md);
		if (scope_asserted(text, ov[0], ov[1]))
			return (rc);
		/* On past this match, to the next character. */
		from = ov[0] + 1;
		while (from < len && ((unsigned char)text[from] & 0xc0) == 0x80)
			from++;
		if (from >= len)
			return (PCRE2_ERROR_NOMATCH);
	}
}

/*
 * Is pat found in any field of condition c? 1 yes, 0 no, -1 when pcre2 hit
 * a limit or failed (logged by rule name and location, never content).
 */
/* Matched texts kept for the sentence model (rules_top_matches). */
struct rule_grab {
	char	**text;
	size_t	  n;
};

static void
grab_add(struct rule_grab *g, const char *text, pcre2_match_data *md)
{
	PCRE2_SIZE	*ov = pcre2_get_ovector_pointer(md);

	if (g == NULL || ov[1] <= ov[0])
		return;
	g->text = xreallocarray(g->text, g->n + 1, sizeof *g->text);
	g->text[g->n++] = xstrndup(text + ov[0], ov[1] - ov[0]);
}

static int
pat_search(const struct ruleset *rs, const struct rule *r,
    const struct rule_cond *c, const struct rule_pat *pat,
    const struct msg *m, struct buf *ex, struct rule_grab *g)
{
	const char	*text;
	PCRE2_UCHAR	 msg[128];
	size_t		 fi, iter;
	int		 rc;

	for (fi = 0; fi < c->nfields; fi++) {
		iter = 0;
		while ((text = field_next(m, &c->fields[fi], &iter)) != NULL) {
			rc = pat_match(rs, pat, text);
			if (rc == PCRE2_ERROR_NOMATCH)
				continue;
			if (rc < 0) {
				pcre2_get_error_message(rc, msg, sizeof msg);
				log_warnx("rule %s (%s:%u): %s; %s", r->name,
				    pat->file, pat->line, (char *)msg,
				    rule_failsafe(rs, r) ? "counted as a "
				    "match: a rule of the most urgent category "
				    "fails safe" : "the rule does not match");
				if (ex != NULL)
					buf_printf(ex, "%s:%u rule %s: %s; %s\n",
					    pat->file, pat->line, r->name,
					    (char *)msg, rule_failsafe(rs, r) ?
					    "counted as a match (fails safe)" :
					    "not counted");
				return (-1);
			}
			if (ex != NULL && !c->negate)
				explain_match(ex, r, pat, &c->fields[fi], text,
				    rs->md);
			if (!c->negate)
				grab_add(g, text, rs->md);
			return (1);
		}
	}
	return (0);
}

/*
 * Evaluate one rule: 1 when every condition holds. A pcre2 limit or error
 * makes the rule not match, except in the most urgent category, where it
 * makes the rule match (rule_failsafe). With ex, one line per condition.
 */
static int
rule_eval(const struct ruleset *rs, const struct rule *r,
    const struct msg *m, struct buf *ex, struct rule_grab *g)
{
	const struct rule_cond	*c;
	size_t			 ci, pi, fi;
	int			 hit;

	for (ci = 0; ci < r->nconds; ci++) {
		c = &r->conds[ci];
		hit = 0;
		for (pi = 0; pi < c->npats && hit == 0; pi++)
			hit = pat_search(rs, r, c, &c->pats[pi], m, ex, g);
		if (hit == -1)
			return (rule_failsafe(rs, r));
		if (hit == c->negate)
			return (0);
		if (ex == NULL || !c->negate)
			continue;
		buf_printf(ex, "%s:%u rule %s: not ", c->pats[0].file,
		    c->pats[0].line, r->name);
		for (fi = 0; fi < c->nfields; fi++) {
			if (fi > 0)
				buf_addch(ex, ',');
			field_print(ex, &c->fields[fi]);
		}
		buf_addstr(ex, ": nothing matched\n");
	}
	return (1);
}

/* Add s to a string list unless it is there already. */
static void
list_add(char ***list, size_t *n, const char *s)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		if (strcmp((*list)[i], s) == 0)
			return;
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = xstrdup(s);
}

/* What a run of white space becomes in text_flatten. */
enum flat_gap {
	GAP_NONE,	/* no white space since the last character */
	GAP_SPACE,	/* one space */
	GAP_BREAK,	/* a paragraph's end: one line break */
	GAP_JOIN	/* nothing: a word split at its hyphen by the wrap */
};

/*
 * Collapse every run of white space (line breaks, tabs, no-break spaces)
 * into one space, so that a phrase matches however the writer's mail
 * program wrapped it: "better off\nwithout me" is "better off without me".
 * A blank line stays one line break: a paragraph ends there, and patterns
 * that stop at "\n" (and "near") stop at it. A word split at a hyphen by
 * the wrap joins again ("self-\nharm" is "self-harm").
 *
 * In quoted text (quotes set) the "> " of each line goes too, so that a
 * wrapped quote reads as its sentences ("you won't\n> make it to the
 * hearing"); where the depth changes, another message begins, and that
 * is a paragraph's end. Caller frees.
 */
static char *
text_flatten(const char *s, int quotes)
{
	char		*out, *o;
	enum flat_gap	 gap = GAP_NONE;
	int		 breaks = 0, bol = 1;
	size_t		 depth, prev = 0;

	if (s == NULL)
		return (NULL);
	o = out = xmalloc(strlen(s) + 1);
	while (*s != '\0') {
		if (quotes && bol) {
			for (depth = 0; *s == '>' || *s == ' ' || *s == '\t';
			    s++)
				depth += *s == '>';
			if (o != out && depth != prev)
				gap = GAP_BREAK;
			prev = depth;
			bol = 0;
			continue;
		}
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' ||
		    *s == '\f' || *s == '\v') {
			if (*s == '\n') {
				bol = 1;
				if (++breaks == 2)
					gap = GAP_BREAK;
				else if (gap == GAP_NONE && o - out >= 2 &&
				    o[-1] == '-' && isalpha((unsigned char)o[-2]))
					gap = GAP_JOIN;
			}
			if (gap == GAP_NONE)
				gap = GAP_SPACE;
			s++;
			continue;
		}
		if ((unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xa0) {
			if (gap == GAP_NONE)
				gap = GAP_SPACE;
			s += 2;
			continue;
		}
		if ((gap == GAP_SPACE || gap == GAP_BREAK) && o != out)
			*o++ = gap == GAP_BREAK ? '\n' : ' ';
		gap = GAP_NONE;
		breaks = 0;
		*o++ = *s++;
	}
	*o = '\0';
	return (out);
}

/* A copy of m whose subject, body and quoted are flattened; see above. */
static void
msg_flatten(const struct msg *m, struct msg *flat)
{
	*flat = *m;
	flat->subject = text_flatten(m->subject, 0);
	flat->body = text_flatten(m->body, 0);
	flat->quoted = text_flatten(m->quoted, 1);
	flat->forwarded = text_flatten(m->forwarded, 0);
}

/* Free what msg_flatten allocated. */
static void
msg_flat_free(struct msg *flat)
{
	free(flat->subject);
	free(flat->body);
	free(flat->quoted);
	free(flat->forwarded);
}

/* What the rules said about one message: the input of a verdict. */
struct rules_tally {
	struct model_opinion op;	/* the model's, when there is one */
	char		*hit;	/* per rule: it matched */
	int		*sum;	/* per category: evidence of scored rules */
	size_t		*won;	/* per category: the rule that carried it */
	size_t		*first;	/* per category: its first evidence */
	size_t		*against;	/* per category: first rule scored against */
	size_t		 best;	/* the winning category, or SIZE_MAX */
	int		 fallback;	/* best is the model's alone */
	ssize_t		 refused;	/* the model's choice a rule argued against */
};

/* "r:NAME" for each rule that matched: the model's rule features. */
static char **
rules_hit_names(const struct ruleset *rs, const char *hit, size_t *n)
{
	char	**names;
	size_t	  i;

	names = xcalloc(rs->nrules + 1, sizeof *names);
	for (*n = 0, i = 0; i < rs->nrules; i++)
		if (hit[i])
			names[(*n)++] = xasprintf("r:%s", rs->rules[i].name);
	return (names);
}

/*
 * The first matching rule marked stops-model-recall (it proves the mail
 * was sent to a list or to the wrong person, where the words the model
 * reads as crisis are everyday words), or SIZE_MAX. The model's
 * recall-first vote then does not count; crisis rules still do.
 */
static size_t
rules_recall_stopper(const struct ruleset *rs, const struct rules_tally *t)
{
	size_t	i;

	for (i = 0; i < rs->nrules; i++)
		if (t->hit[i] && rs->rules[i].stops_recall)
			return (i);
	return (SIZE_MAX);
}

/*
 * Run every rule in order (with ex, explain each match). A category is
 * carried by its first matching rule without a score, or by the scored
 * rule whose evidence reaches the category's threshold; the carried
 * category of highest priority wins (ties: the one carried first).
 */
static void
rules_tally(const struct ruleset *rs, const struct msg *m,
    struct rules_tally *t, struct buf *ex)
{
	const struct rule	*r;
	struct buf		 b;
	char			**names;
	size_t			 i, k, nnames, stopper;
	ssize_t			 c;
	int			 stopped;

	t->hit = xcalloc(rs->nrules + 1, 1);
	t->sum = xcalloc(rs->ncats + 1, sizeof *t->sum);
	t->won = xcalloc(rs->ncats + 1, sizeof *t->won);
	t->first = xcalloc(rs->ncats + 1, sizeof *t->first);
	t->against = xcalloc(rs->ncats + 1, sizeof *t->against);
	for (i = 0; i < rs->ncats; i++)
		t->won[i] = t->first[i] = t->against[i] = SIZE_MAX;
	t->best = SIZE_MAX;
	t->fallback = 0;
	t->refused = -1;
	buf_init(&b, 0);
	for (i = 0; i < rs->nrules; i++) {
		r = &rs->rules[i];
		buf_reset(&b);
		if (!rule_eval(rs, r, m, ex != NULL ? &b : NULL, NULL))
			continue;
		t->hit[i] = 1;
		if (ex != NULL) {
			buf_printf(ex, "%s:%u rule %s: category %s", r->file,
			    r->line, r->name, r->category);
			if (r->score != 0)
				buf_printf(ex, ", score %+d", r->score);
			if (r->ntags > 0)
				buf_addstr(ex, ", tags");
			for (k = 0; k < r->ntags; k++)
				buf_printf(ex, " %s", r->tags[k]);
			buf_addch(ex, '\n');
			buf_add(ex, buf_str(&b), b.len);
		}
		if (r->score == 0) {
			if (t->won[r->cat] == SIZE_MAX)
				t->won[r->cat] = i;
			continue;
		}
		t->sum[r->cat] += r->score;
		if (t->first[r->cat] == SIZE_MAX)
			t->first[r->cat] = i;
		if (r->score < 0 && t->against[r->cat] == SIZE_MAX)
			t->against[r->cat] = i;
	}
	buf_free(&b);
	/*
	 * The model's opinion adds evidence, as a rule after all the rules;
	 * the rules that matched are features of it.
	 */
	memset(&t->op, 0, sizeof t->op);
	t->op.cat = t->op.besides = t->op.fallback = -1;
	if (rs->model != NULL) {
		names = rules_hit_names(rs, t->hit, &nnames);
		model_judge(rs->model, m, names, nnames, &t->op, ex);
		xfreev(names, nnames);
		/*
		 * A letter to the wrong person can still be a goodbye: a
		 * sign of the recall-first category's own rules (some
		 * evidence, even too little) lifts the stop.
		 */
		stopped = 0;
		if (t->op.recall && (stopper = rules_recall_stopper(rs, t)) !=
		    SIZE_MAX) {
			c = cat_find(rs, model_cat(rs->model,
			    (size_t)t->op.cat));
			stopped = c == -1 || t->sum[c] <= 0;
			if (stopped && ex != NULL)
				buf_printf(ex, "model: its recall-first vote "
				    "does not count: rule %s "
				    "(stops-model-recall) matched and no "
				    "rule of its category gave evidence\n",
				    rs->rules[stopper].name);
		}
		for (k = 0; k < model_ncats(rs->model); k++) {
			if (t->op.of[k] == 0 || (c = cat_find(rs,
			    model_cat(rs->model, k))) == -1)
				continue;
			if (stopped && t->op.of[k] > 0)
				continue;
			t->sum[c] += t->op.of[k];
			if (t->op.of[k] > 0 && t->first[c] == SIZE_MAX)
				t->first[c] = rs->nrules;
		}
	}
	/* Evidence is summed in full (negative scores too), then weighed. */
	for (k = 0; k < rs->ncats; k++)
		if (t->won[k] == SIZE_MAX && t->first[k] != SIZE_MAX &&
		    t->sum[k] >= rs->cats[k].threshold)
			t->won[k] = t->first[k];
	for (k = 0; k < rs->ncats; k++) {
		if (t->won[k] == SIZE_MAX)
			continue;
		if (t->best == SIZE_MAX ||
		    rs->cats[k].priority > rs->cats[t->best].priority ||
		    (rs->cats[k].priority == rs->cats[t->best].priority &&
		    t->won[k] < t->won[t->best]))
			t->best = k;
	}
	/*
	 * No rule carried a category: the model's likely choice, if any,
	 * unless a rule scored against that very category (a professional's
	 * referral is an inquiry, though its words read as a colleague's).
	 */
	if (t->best == SIZE_MAX && rs->model != NULL &&
	    t->op.fallback != -1 && (c = cat_find(rs, model_cat(rs->model,
	    (size_t)t->op.fallback))) != -1) {
		if (t->against[c] != SIZE_MAX)
			t->refused = c;
		else {
			t->best = (size_t)c;
			t->fallback = 1;
		}
	}
}

static void
rules_tally_free(struct rules_tally *t)
{
	free(t->hit);
	free(t->sum);
	free(t->won);
	free(t->first);
	free(t->against);
}

/*
 * What the model reads the mail as besides a crisis counts like a carried
 * category for the outranked-tag: crisis mail the model reads as an
 * existing client's gets the resources without the new-client part.
 * Returns that category when it adds its outranked-tag, else -1.
 */
static ssize_t
rules_besides(const struct ruleset *rs, const struct rules_tally *t)
{
	ssize_t	c;

	if (rs->model == NULL || t->best == SIZE_MAX || t->op.besides == -1 ||
	    (c = cat_find(rs, model_cat(rs->model,
	    (size_t)t->op.besides))) == -1 || rs->cats[c].notags == 0 ||
	    rs->cats[c].priority >= rs->cats[t->best].priority)
		return (-1);
	return (c);
}

/*
 * Does a matching rule add its tags? One that decides alone does; a
 * scored one only where its category was carried, by the rules or by the
 * model's choice standing in for them (fallback).
 */
static int
rule_adds_tags(const struct rules_tally *t, const struct rule *r)
{
	return (r->score == 0 || t->won[r->cat] != SIZE_MAX ||
	    (t->fallback && (size_t)r->cat == t->best));
}

/*
 * The bits of the fill groups in the model (as model_groups_whole sets
 * them): the model never picks among their tags, it only adds one.
 */
static unsigned long
rules_fill_bits(const struct ruleset *rs)
{
	unsigned long	bits = 0;
	unsigned	g;
	size_t		i;

	for (i = 0; i < rs->nchoices; i++) {
		if (rs->choices[i].fill == NULL)
			continue;
		g = model_group_of(rs->model, rs->choices[i].tags[0]);
		if (g != 0 && g < sizeof bits * CHAR_BIT)
			bits |= 1UL << g;
	}
	return (bits);
}

/*
 * Classify: the winning category (rules_tally), else the default. Tags
 * come from every matching rule that decides alone, and from scored
 * rules whose category was carried.
 */
void
rules_classify(const struct ruleset *rs, const struct msg *orig,
    struct verdict *v)
{
	const struct rules_cat	*c;
	const struct rule	*r;
	struct rules_tally	 t;
	struct msg		 flat;
	size_t			 i, j, win;
	ssize_t			 besides;
	unsigned long		 whole = 0;

	memset(v, 0, sizeof *v);
	msg_flatten(orig, &flat);
	rules_tally(rs, &flat, &t, NULL);
	for (i = 0; i < rs->nrules; i++) {
		if (!t.hit[i])
			continue;
		r = &rs->rules[i];
		list_add(&v->rules, &v->nrules, r->name);
		if (!rule_adds_tags(&t, r))
			continue;
		for (j = 0; j < r->ntags; j++)
			list_add(&v->tags, &v->ntags, r->tags[j]);
		whole |= model_groups_whole(rs->model, r->tags, r->ntags);
	}
	msg_flat_free(&flat);
	win = t.best == SIZE_MAX ? rs->def : t.best;
	c = &rs->cats[win];
	/*
	 * Whose use it is: the model's pick among tags the rules set, unless
	 * one rule set the whole group ("we both drink": both apply). Fill
	 * groups are not picked among: their tags may all apply.
	 */
	model_apply_picks(rs->model, &t.op, whole | rules_fill_bits(rs),
	    &v->tags, &v->ntags);
	/* Which drug it is, where no rule named one (fill). */
	for (i = 0; i < rs->nchoices; i++)
		if (rs->choices[i].fill_cat == (ssize_t)win)
			(void)model_fill(rs->model, &t.op, model_group_of(
			    rs->model, rs->choices[i].tags[0]), &v->tags,
			    &v->ntags);
	/*
	 * A category that was carried but lost to a higher one says so
	 * (outranked-tag): crisis mail that also reads as an existing
	 * client's keeps the crisis reply without the new-client part.
	 */
	for (i = 0; i < rs->ncats; i++) {
		if (i == t.best || t.won[i] == SIZE_MAX)
			continue;
		for (j = 0; j < rs->cats[i].notags; j++)
			list_add(&v->tags, &v->ntags, rs->cats[i].otags[j]);
	}
	if ((besides = rules_besides(rs, &t)) != -1)
		for (j = 0; j < rs->cats[besides].notags; j++)
			list_add(&v->tags, &v->ntags,
			    rs->cats[besides].otags[j]);
	rules_tally_free(&t);
	for (j = 0; j < c->ntags; j++)
		list_add(&v->tags, &v->ntags, c->tags[j]);
	v->category = xstrdup(c->name);
	v->template = c->template != NULL ? xstrdup(c->template) : NULL;
	v->answer = c->template != NULL;
	v->priority = c->priority;
}

/* Say which tag a fill line adds to a verdict of category win, if any. */
static void
rules_explain_fill(const struct ruleset *rs, const struct rules_tally *t,
    size_t win, struct buf *out)
{
	const struct rules_choice	*ch;
	const char			*added;
	char				**tags = NULL;
	size_t				 i, j, ntags = 0;

	for (i = 0; i < rs->nrules; i++)
		if (t->hit[i] && rule_adds_tags(t, &rs->rules[i]))
			for (j = 0; j < rs->rules[i].ntags; j++)
				list_add(&tags, &ntags, rs->rules[i].tags[j]);
	for (i = 0; i < rs->nchoices; i++) {
		ch = &rs->choices[i];
		if (ch->fill_cat != (ssize_t)win)
			continue;
		added = model_fill(rs->model, &t->op, model_group_of(rs->model,
		    ch->tags[0]), &tags, &ntags);
		if (added != NULL)
			buf_printf(out, "tags: no rule set %s or another tag of "
			    "its fill line, so the model's pick, %s, is "
			    "added\n", ch->tags[0], added);
	}
	xfreev(tags, ntags);
}

/*
 * Write why msg gets its verdict: each matching rule with the field and text
 * each condition matched, the evidence of each category, then why the other
 * categories lost. Returns the number of matching rules.
 */
int
rules_explain(const struct ruleset *rs, const struct msg *orig,
    struct buf *out)
{
	const struct rule	*r;
	struct rules_tally	 t;
	struct msg		 flat;
	size_t			 i, win;
	ssize_t			 besides;
	unsigned long		 fill;
	int			 n = 0;

	msg_flatten(orig, &flat);
	rules_tally(rs, &flat, &t, out);
	for (i = 0; i < rs->nrules; i++)
		n += t.hit[i];
	win = t.best;
	for (i = 0; i < rs->ncats; i++) {
		if (t.sum[i] != 0 || t.first[i] != SIZE_MAX)
			buf_printf(out, "category %s: evidence %d of %d needed"
			    "%s\n", rs->cats[i].name, t.sum[i],
			    rs->cats[i].threshold, t.won[i] != SIZE_MAX ?
			    "" : ", not enough");
	}
	for (i = 0; i < rs->ncats; i++) {
		if (i == win)
			continue;
		if (t.won[i] == SIZE_MAX)
			buf_printf(out, "category %s (priority %d): no rule "
			    "matched%s\n", rs->cats[i].name,
			    rs->cats[i].priority, t.sum[i] != 0 ||
			    t.first[i] != SIZE_MAX ? " with enough evidence" :
			    "");
		else if (rs->cats[i].priority == rs->cats[win].priority)
			buf_printf(out, "category %s (priority %d): lost the "
			    "tie to %s, whose rule %s came first\n",
			    rs->cats[i].name, rs->cats[i].priority,
			    rs->cats[win].name, t.won[win] < rs->nrules ?
			    rs->rules[t.won[win]].name : "(the model)");
		else
			buf_printf(out, "category %s (priority %d): lost to "
			    "%s (priority %d)%s\n", rs->cats[i].name,
			    rs->cats[i].priority, rs->cats[win].name,
			    rs->cats[win].priority, rs->cats[i].notags > 0 ?
			    ", which adds its outranked-tag" : "");
	}
	if ((besides = rules_besides(rs, &t)) != -1)
		buf_printf(out, "category %s: the model reads the mail as it "
		    "besides %s, which adds its outranked-tag\n",
		    rs->cats[besides].name, rs->cats[win].name);
	fill = rules_fill_bits(rs);
	for (i = 0; i < rs->nrules; i++) {
		r = &rs->rules[i];
		if (t.hit[i] && rule_adds_tags(&t, r) &&
		    (model_groups_whole(rs->model, r->tags, r->ntags) &
		    ~fill) != 0)
			buf_printf(out, "tags: rule %s sets a choose group "
			    "whole, so the model's pick leaves its tags\n",
			    r->name);
	}
	rules_explain_fill(rs, &t, win == SIZE_MAX ? rs->def : win, out);
	if (win == SIZE_MAX && t.refused != -1)
		buf_printf(out, "verdict: %s, the default: no rule carried a "
		    "category, and rule %s scored against the learned model's "
		    "choice, %s\n", rs->cats[rs->def].name,
		    rs->rules[t.against[t.refused]].name,
		    rs->cats[t.refused].name);
	else if (win == SIZE_MAX)
		buf_printf(out, "verdict: %s, the default: no rule matched\n",
		    rs->cats[rs->def].name);
	else if (t.fallback)
		buf_printf(out, "verdict: %s, the learned model's choice "
		    "(probability %.2f), since no rule carried a category and "
		    "it is above its fallback bar\n", rs->cats[win].name,
		    t.op.fallback_prob);
	else
		buf_printf(out, "verdict: %s (priority %d)\n",
		    rs->cats[win].name, rs->cats[win].priority);
	rules_tally_free(&t);
	msg_flat_free(&flat);
	return (n);
}

/* Free what a verdict holds and clear it; NULL is fine. */
void
verdict_free(struct verdict *v)
{
	if (v == NULL)
		return;
	free(v->category);
	free(v->template);
	xfreev(v->tags, v->ntags);
	xfreev(v->rules, v->nrules);
	memset(v, 0, sizeof *v);
}

/* Does the verdict carry tag? */
int
verdict_has_tag(const struct verdict *v, const char *tag)
{
	size_t	i;

	for (i = 0; i < v->ntags; i++)
		if (strcmp(v->tags[i], tag) == 0)
			return (1);
	return (0);
}

/* Number of declared categories, for check's cross-reference. */
size_t
rules_ncategories(const struct ruleset *rs)
{
	return (rs->ncats);
}

/* Name of category i, or NULL past the end. */
const char *
rules_category_name(const struct ruleset *rs, size_t i)
{
	return (i < rs->ncats ? rs->cats[i].name : NULL);
}

/*
 * Queue priority of category i as the state keeps it: its priority, less
 * 1000 when it is never answered (the queue's order, store.h). 0 past
 * the end.
 */
int
rules_category_priority(const struct ruleset *rs, size_t i)
{
	if (i >= rs->ncats)
		return (0);
	return (rs->cats[i].template != NULL ? rs->cats[i].priority :
	    rs->cats[i].priority - 1000);
}

/* Template of category i, NULL for noreply or past the end. */
const char *
rules_category_template(const struct ruleset *rs, size_t i)
{
	return (i < rs->ncats ? rs->cats[i].template : NULL);
}

char **
rules_model_features(const struct ruleset *rs, const struct msg *orig,
    size_t *n)
{
	struct rules_tally	 t;
	struct msg		 flat;
	char			**names;

	msg_flatten(orig, &flat);
	rules_tally(rs, &flat, &t, NULL);
	names = rules_hit_names(rs, t.hit, n);
	rules_tally_free(&t);
	msg_flat_free(&flat);
	return (names);
}

struct msg *
rules_flat(const struct msg *orig)
{
	struct msg	*flat;

	flat = xcalloc(1, sizeof *flat);
	msg_flatten(orig, flat);
	return (flat);
}

void
rules_flat_free(struct msg *flat)
{
	if (flat == NULL)
		return;
	msg_flat_free(flat);
	free(flat);
}

char **
rules_top_matches(const struct ruleset *rs, const struct msg *flat,
    size_t *n)
{
	const struct rule	*r;
	struct rule_grab	 all = { NULL, 0 }, one;
	size_t			 i, k, top = 0;

	for (i = 1; i < rs->ncats; i++)
		if (rs->cats[i].priority > rs->cats[top].priority)
			top = i;
	for (i = 0; i < rs->nrules; i++) {
		r = &rs->rules[i];
		/* A guard that scores against it teaches nothing. */
		if (rs->ncats == 0 || r->cat != top || r->score < 0)
			continue;
		one.text = NULL;
		one.n = 0;
		if (rule_eval(rs, r, flat, NULL, &one) == 1)
			for (k = 0; k < one.n; k++) {
				all.text = xreallocarray(all.text, all.n + 1,
				    sizeof *all.text);
				all.text[all.n++] = one.text[k];
				one.text[k] = NULL;
			}
		xfreev(one.text, one.n);
	}
	*n = all.n;
	return (all.text);
}

size_t
rules_nchoices(const struct ruleset *rs)
{
	return (rs->nchoices);
}

const char *const *
rules_choice(const struct ruleset *rs, size_t i, size_t *ntags)
{
	*ntags = rs->choices[i].ntags;
	return ((const char *const *)rs->choices[i].tags);
}

/* How many tags all choose lines name together. */
static size_t
rules_choice_tags(const struct ruleset *rs)
{
	size_t	i, n = 0;

	for (i = 0; i < rs->nchoices; i++)
		n += rs->choices[i].ntags;
	return (n);
}

const char *
rules_top_category(const struct ruleset *rs)
{
	size_t	i, top = 0;

	for (i = 1; i < rs->ncats; i++)
		if (rs->cats[i].priority > rs->cats[top].priority)
			top = i;
	return (rs->ncats > 0 ? rs->cats[top].name : NULL);
}
